//! Who may speak for a partner library: the rules a lending request from
//! the public form passes before it reaches the library system as that
//! partner's request. The form needs no sign-in, so what it says about the
//! sender is a claim: the partner record decides where replies and the
//! item go, and a request whose sender does not fit the record waits for
//! staff.

use serde::{Deserialize, Serialize};

use super::{Address, NewLendingRequest, Partner, PartnerStatus};

/// Why a lending request waits for staff review instead of going to the
/// library system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// No partner has the code or ISIL the sender gave.
    UnknownLibrary,
    /// The partner record is inactive.
    PartnerInactive,
    /// The partner record does not allow lending to it.
    PartnerDoesNotLend,
    /// The partner record has no e-mail address to check the sender by or
    /// to reply to.
    NoEmailOnRecord,
    /// The sender's e-mail address (or its domain) is not the record's.
    EmailMismatch,
    /// A loan by post, but the partner record has no postal address.
    NoAddressOnRecord,
}

impl HoldReason {
    pub const ALL: [HoldReason; 6] = [
        HoldReason::UnknownLibrary,
        HoldReason::PartnerInactive,
        HoldReason::PartnerDoesNotLend,
        HoldReason::NoEmailOnRecord,
        HoldReason::EmailMismatch,
        HoldReason::NoAddressOnRecord,
    ];

    /// The translation key staff see.
    pub fn key(self) -> &'static str {
        match self {
            HoldReason::UnknownLibrary => "review.reason.unknown_library",
            HoldReason::PartnerInactive => "review.reason.partner_inactive",
            HoldReason::PartnerDoesNotLend => "review.reason.partner_does_not_lend",
            HoldReason::NoEmailOnRecord => "review.reason.no_email_on_record",
            HoldReason::EmailMismatch => "review.reason.email_mismatch",
            HoldReason::NoAddressOnRecord => "review.reason.no_address_on_record",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }
}

/// How closely the sender's e-mail address must fit the partner record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderMatch {
    /// The same domain (a colleague at the partner library); replies still
    /// go to the record's address only.
    #[default]
    Domain,
    /// Exactly the record's address.
    Address,
}

/// The prefix that marks an e-mail delivery address (see the lending form).
pub const EMAIL_DELIVERY: &str = "e-mail: ";

fn domain(email: &str) -> Option<String> {
    let (_, d) = email.trim().rsplit_once('@')?;
    (!d.is_empty()).then(|| d.to_lowercase())
}

/// Whether the sender's address fits the record's.
pub fn sender_fits(sender: &str, on_record: &str, rule: SenderMatch) -> bool {
    let same_address = sender.trim().eq_ignore_ascii_case(on_record.trim());
    match rule {
        SenderMatch::Address => same_address,
        SenderMatch::Domain => {
            same_address || (domain(sender).is_some() && domain(sender) == domain(on_record))
        }
    }
}

/// A postal address on one line, as a lending request carries it.
pub fn address_line(a: &Address) -> Option<String> {
    let mut parts: Vec<String> = a
        .lines
        .iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let place = [a.postal_code.as_deref(), a.city.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !place.is_empty() {
        parts.push(place);
    }
    if let Some(c) = a
        .country
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        parts.push(c.to_owned());
    }
    (!parts.is_empty()).then(|| parts.join(" / "))
}

/// The partner record's e-mail address (replies and e-mail delivery go
/// there, and senders are checked against it).
fn email_on_record(partner: &Partner) -> Result<&str, HoldReason> {
    partner
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or(HoldReason::NoEmailOnRecord)
}

/// The request as it may go to the library system for `partner`: the
/// partner's code and name, the record's e-mail address for replies and
/// e-mail delivery, the record's postal address for the post. Or why it
/// waits for staff.
pub fn vet_lending_request(
    request: &NewLendingRequest,
    partner: Option<&Partner>,
    rule: SenderMatch,
) -> Result<NewLendingRequest, HoldReason> {
    let partner = partner.ok_or(HoldReason::UnknownLibrary)?;
    if partner.status != PartnerStatus::Active {
        return Err(HoldReason::PartnerInactive);
    }
    if !partner.lending_supported {
        return Err(HoldReason::PartnerDoesNotLend);
    }
    let on_record = email_on_record(partner)?;
    if !sender_fits(&request.requester.email, on_record, rule) {
        return Err(HoldReason::EmailMismatch);
    }
    with_record_details(request, partner)
}

/// The request with the partner record's details in place of what the form
/// said (also for a request staff accepted for this partner).
pub fn with_record_details(
    request: &NewLendingRequest,
    partner: &Partner,
) -> Result<NewLendingRequest, HoldReason> {
    let on_record = email_on_record(partner)?;
    let by_email = request
        .delivery_address
        .as_deref()
        .is_some_and(|a| a.starts_with(EMAIL_DELIVERY));
    let delivery_address = if by_email {
        format!("{EMAIL_DELIVERY}{on_record}")
    } else {
        address_line(&partner.address).ok_or(HoldReason::NoAddressOnRecord)?
    };
    let mut out = request.clone();
    out.partner_code = partner.code.clone();
    out.requester.library_name = partner.name.clone();
    out.requester.email = on_record.to_owned();
    out.delivery_address = Some(delivery_address);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Citation, PartnerProfile, RequesterContact, ServiceType};

    fn partner() -> Partner {
        Partner {
            code: "FI-TUNI".into(),
            name: "Tampereen yliopiston kirjasto".into(),
            status: PartnerStatus::Active,
            profile: PartnerProfile::Email {
                email: "ill@tuni.example.fi".into(),
            },
            isil: Some("FI-Tay".into()),
            email: Some("ill@tuni.example.fi".into()),
            phone: None,
            address: Address {
                lines: vec!["Kalevantie 5".into()],
                postal_code: Some("33100".into()),
                city: Some("Tampere".into()),
                country: Some("FI".into()),
            },
            lending_supported: true,
            borrowing_supported: true,
            instructions: None,
            language: None,
            notes: None,
        }
    }

    fn request(email: &str, delivery: &str) -> NewLendingRequest {
        NewLendingRequest {
            external_id: "k".into(),
            partner_code: "fi-tay".into(),
            requester: RequesterContact {
                library_name: "Someone".into(),
                contact_name: Some("Kaisa".into()),
                email: email.into(),
            },
            citation: Citation {
                title: "Seitsemän veljestä".into(),
                ..Default::default()
            },
            service: ServiceType::Loan,
            delivery_address: Some(delivery.into()),
            max_cost: None,
            needed_by: None,
            note: Some("Urgent".into()),
        }
    }

    #[test]
    fn a_fitting_request_carries_the_records_details_not_the_senders() {
        let r = request("kaisa@TUNI.example.fi", "Evil Street 1, Elsewhere");
        let out = vet_lending_request(&r, Some(&partner()), SenderMatch::Domain).unwrap();
        assert_eq!(out.partner_code, "FI-TUNI");
        assert_eq!(out.requester.library_name, "Tampereen yliopiston kirjasto");
        assert_eq!(out.requester.email, "ill@tuni.example.fi");
        assert_eq!(
            out.delivery_address.as_deref(),
            Some("Kalevantie 5 / 33100 Tampere / FI")
        );
        assert_eq!(
            out.note.as_deref(),
            Some("Urgent"),
            "the request's own text stays"
        );
        let copy = request("ill@tuni.example.fi", "e-mail: thief@evil.example");
        let out = vet_lending_request(&copy, Some(&partner()), SenderMatch::Address).unwrap();
        assert_eq!(
            out.delivery_address.as_deref(),
            Some("e-mail: ill@tuni.example.fi")
        );
    }

    #[test]
    fn each_doubt_holds_the_request_with_its_reason() {
        let p = partner();
        let fits = request("ill@tuni.example.fi", "x");
        assert_eq!(
            vet_lending_request(&fits, None, SenderMatch::Domain),
            Err(HoldReason::UnknownLibrary)
        );
        for (sender, rule) in [
            ("ill@evil.example", SenderMatch::Domain),
            ("ill@tuni.example.fi.evil.example", SenderMatch::Domain),
            ("ill@sub.tuni.example.fi", SenderMatch::Domain),
            ("kaisa@tuni.example.fi", SenderMatch::Address),
        ] {
            assert_eq!(
                vet_lending_request(&request(sender, "x"), Some(&p), rule),
                Err(HoldReason::EmailMismatch),
                "{sender}"
            );
        }
        let mut inactive = p.clone();
        inactive.status = PartnerStatus::Inactive;
        let mut no_lending = p.clone();
        no_lending.lending_supported = false;
        let mut no_email = p.clone();
        no_email.email = Some(" ".into());
        let mut no_address = p.clone();
        no_address.address = Address::default();
        for (partner, reason) in [
            (inactive, HoldReason::PartnerInactive),
            (no_lending, HoldReason::PartnerDoesNotLend),
            (no_email, HoldReason::NoEmailOnRecord),
            (no_address, HoldReason::NoAddressOnRecord),
        ] {
            assert_eq!(
                vet_lending_request(&fits, Some(&partner), SenderMatch::Domain),
                Err(reason)
            );
        }
        for r in HoldReason::ALL {
            assert_eq!(HoldReason::from_key(r.key()), Some(r));
            for lang in crate::i18n::Lang::ALL {
                assert!(crate::i18n::has_key(lang, r.key()), "{r:?} {lang:?}");
            }
        }
    }
}
