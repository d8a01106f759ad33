//! Fees and invoices: the pure part, shared by the server and the staff
//! page.
//!
//! - **Rules** say what an event costs: a lending loan shipped, a copy
//!   sent, a loan lost, a patron's pickup. A rule is for one partner, a
//!   partner group (Finnish, Nordic, other) or everyone, with validity
//!   dates, and may add conditions on the request ([`Conditions`]: its
//!   material, its urgency, the patron's group); two rules for the same
//!   thing, scope and conditions may not overlap in time.
//! - **Lines** are the ledger: written once when a request reaches a
//!   billable event, in integer cents, never edited. An adjustment or a
//!   waiver is a new line that refers to the first; a credit note reverses
//!   invoiced lines with lines of its own.
//! - **Invoices** gather a customer's open lines; each has a number and a
//!   Finnish reference number (viitenumero, [`reference`]).

pub mod api;
pub mod charge;
pub mod page;

use chrono::NaiveDate;

pub use crate::domain::CitationType;
use serde::{Deserialize, Serialize};

/// What a fee is charged for: the history event that makes it due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Billable {
    /// Lending: we shipped a loan to the partner.
    LendingLoan,
    /// Lending: we sent the partner a copy.
    LendingCopy,
    /// Lending: the loan did not come back (closed without return).
    LendingLost,
    /// Borrowing: the patron collected a loan.
    PatronPickup,
    /// Borrowing: the patron received a copy.
    PatronCopy,
    /// Borrowing: the lending library's charge for the request, recorded
    /// by staff or sent in an ISO 18626 message; the patron pays it, plus
    /// the rule's amount.
    PartnerCharge,
    /// Lending: the loan came back damaged; the borrowing library pays the
    /// damage staff recorded, plus the rule's amount.
    LendingDamaged,
}

impl Billable {
    pub const ALL: [Billable; 7] = [
        Billable::LendingLoan,
        Billable::LendingCopy,
        Billable::LendingLost,
        Billable::LendingDamaged,
        Billable::PatronPickup,
        Billable::PatronCopy,
        Billable::PartnerCharge,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Billable::LendingLoan => "lending_loan",
            Billable::LendingCopy => "lending_copy",
            Billable::LendingLost => "lending_lost",
            Billable::PatronPickup => "patron_pickup",
            Billable::PatronCopy => "patron_copy",
            Billable::PartnerCharge => "partner_charge",
            Billable::LendingDamaged => "lending_damaged",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.code() == code)
    }

    /// The history event (`side`, `action` as `request_events` stores
    /// them) that makes it due.
    pub fn event(self) -> (&'static str, &'static str) {
        match self {
            Billable::LendingLoan => ("lending", "ship"),
            Billable::LendingCopy => ("lending", "send_copy"),
            Billable::LendingLost => ("lending", "close_without_return"),
            Billable::LendingDamaged => ("lending", DAMAGED_ACTION),
            Billable::PatronPickup => ("borrowing", "lend_to_patron"),
            Billable::PatronCopy => ("borrowing", "copy_delivered"),
            Billable::PartnerCharge => ("borrowing", PARTNER_CHARGE_ACTION),
        }
    }

    /// The billable event a history event is, if any.
    pub fn of_event(side: &str, action: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.event() == (side, action))
    }

    /// The history actions that are billable, for queries.
    pub fn actions() -> [(&'static str, &'static str); 7] {
        Self::ALL.map(Billable::event)
    }

    /// Whether a lending history action shipped something (a loan or a
    /// copy): what damage can be recorded against.
    pub fn is_shipping(side: &str, action: &str) -> bool {
        matches!(
            Self::of_event(side, action),
            Some(Billable::LendingLoan | Billable::LendingCopy)
        )
    }

    /// Whether its event carries an amount ([`StatedCharge`]) that the line
    /// passes on, with the rule's amount added.
    pub fn passes_on_amount(self) -> bool {
        matches!(self, Billable::PartnerCharge | Billable::LendingDamaged)
    }

    pub fn payer(self) -> Payer {
        match self {
            Billable::LendingLoan
            | Billable::LendingCopy
            | Billable::LendingLost
            | Billable::LendingDamaged => Payer::Partner,
            Billable::PatronPickup | Billable::PatronCopy | Billable::PartnerCharge => {
                Payer::Patron
            }
        }
    }

    /// The translation key of its name.
    pub fn name_key(self) -> String {
        format!("fees.billable.{}", self.code())
    }
}

/// The history action of a partner's charge recorded on a borrowing
/// request.
pub const PARTNER_CHARGE_ACTION: &str = "partner_charge";
/// The history action of damage recorded on a lending request.
pub const DAMAGED_ACTION: &str = "damaged";
/// Why the ledger wrote no line for an event with a recorded amount: the
/// amount is in another currency than the rule's (`fee_skips.reason`).
pub const SKIP_OTHER_CURRENCY: &str = "currency";

/// An amount recorded with a history event: what the lending library
/// charged for a borrowing request, or what the damage to a loan costs.
/// Kept with the event (`event_charges`) and passed on by the event's rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatedCharge {
    /// Cents, more than zero.
    pub amount_cents: i64,
    /// ISO 4217.
    pub currency: String,
    /// The partner's invoice number, or what was damaged; may be empty.
    pub reference: String,
}

/// Why a stated charge was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChargeError {
    BadAmount,
    BadCurrency,
    ReferenceTooLong,
    NoSuchRequest,
    /// Borrowing: the request was never sent to a partner.
    NotSent,
    /// Lending: nothing was shipped that could come back damaged.
    NotShipped,
}

impl ChargeError {
    pub fn key(&self) -> &'static str {
        match self {
            ChargeError::BadAmount => "fees.error.charge_amount",
            ChargeError::BadCurrency => "fees.error.currency",
            ChargeError::ReferenceTooLong => "error.field.too_long",
            ChargeError::NoSuchRequest => "fees.error.no_request",
            ChargeError::NotSent => "fees.error.charge_not_sent",
            ChargeError::NotShipped => "fees.error.charge_not_shipped",
        }
    }
}

impl StatedCharge {
    /// From the form: an amount as staff type it (`12,50`), a currency, a
    /// reference.
    pub fn parse(amount: &str, currency: &str, reference: &str) -> Result<Self, ChargeError> {
        let amount_cents = parse_cents(amount)
            .filter(|c| *c > 0)
            .ok_or(ChargeError::BadAmount)?;
        let currency = currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ChargeError::BadCurrency);
        }
        let reference = reference.trim().to_owned();
        if reference.chars().count() > 200 {
            return Err(ChargeError::ReferenceTooLong);
        }
        Ok(StatedCharge {
            amount_cents,
            currency,
            reference,
        })
    }
}

/// Who pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payer {
    Partner,
    Patron,
}

impl Payer {
    pub fn code(self) -> &'static str {
        match self {
            Payer::Partner => "partner",
            Payer::Patron => "patron",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "partner" => Some(Payer::Partner),
            "patron" => Some(Payer::Patron),
            _ => None,
        }
    }
}

/// Partner groups a rule can be for, by the partner's country.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerGroup {
    Finnish,
    Nordic,
    Other,
}

impl PartnerGroup {
    pub const ALL: [PartnerGroup; 3] = [
        PartnerGroup::Finnish,
        PartnerGroup::Nordic,
        PartnerGroup::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PartnerGroup::Finnish => "finnish",
            PartnerGroup::Nordic => "nordic",
            PartnerGroup::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.code() == code)
    }

    /// The group of a partner in `country` (ISO 3166-1 alpha-2); a partner
    /// with no country is taken as Finnish, as most partners are.
    pub fn of_country(country: Option<&str>) -> Self {
        match country.map(|c| c.trim().to_ascii_uppercase()).as_deref() {
            None | Some("") | Some("FI") | Some("AX") => PartnerGroup::Finnish,
            Some("SE" | "NO" | "DK" | "IS" | "FO" | "GL") => PartnerGroup::Nordic,
            Some(_) => PartnerGroup::Other,
        }
    }
}

/// Whom a rule is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Scope {
    Everyone,
    Group(PartnerGroup),
    Partner(String),
}

impl Scope {
    /// More specific rules win: a partner's own before its group's before
    /// everyone's.
    fn rank(&self) -> u8 {
        match self {
            Scope::Partner(_) => 2,
            Scope::Group(_) => 1,
            Scope::Everyone => 0,
        }
    }

    fn matches(&self, partner: Option<&str>, group: Option<PartnerGroup>) -> bool {
        match self {
            Scope::Everyone => true,
            Scope::Group(g) => group == Some(*g),
            Scope::Partner(p) => partner == Some(p.as_str()),
        }
    }
}

/// How soon the request is needed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    #[default]
    Normal,
    Urgent,
}

impl Urgency {
    pub const ALL: [Urgency; 2] = [Urgency::Normal, Urgency::Urgent];

    pub fn code(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::Urgent => "urgent",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.code() == code)
    }

    /// A request is urgent when it is needed within `urgent_days` of the
    /// day it was made (`fees.urgent_days`); one with no "needed by" date
    /// is not.
    pub fn of(created: NaiveDate, needed_by: Option<NaiveDate>, urgent_days: u32) -> Self {
        match needed_by {
            Some(by) if (by - created).num_days() <= i64::from(urgent_days) => Urgency::Urgent,
            _ => Urgency::Normal,
        }
    }
}

/// Conditions a rule adds to its scope; each unset one holds for any
/// request. Among the rules that match, the most specific wins: a
/// partner's own before its group's before everyone's, then a rule with
/// a material before one without, then urgency, then patron group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Conditions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<CitationType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<Urgency>,
    /// A patron group (from the sign-in's groups claim); only for fees
    /// patrons pay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patron_group: Option<String>,
}

impl Conditions {
    fn matches(&self, facts: &Facts) -> bool {
        self.material.is_none_or(|m| facts.material == Some(m))
            && self.urgency.is_none_or(|u| facts.urgency == u)
            && self
                .patron_group
                .as_ref()
                .is_none_or(|g| facts.patron_groups.iter().any(|p| p == g))
    }

    fn rank(&self) -> (bool, bool, bool) {
        (
            self.material.is_some(),
            self.urgency.is_some(),
            self.patron_group.is_some(),
        )
    }
}

/// What is known of the request an event belongs to, for choosing its
/// rule.
#[derive(Clone, Debug, Default)]
pub struct Facts<'a> {
    /// The partner who pays (partner fees).
    pub partner: Option<&'a str>,
    pub group: Option<PartnerGroup>,
    pub material: Option<CitationType>,
    pub urgency: Urgency,
    /// The patron's groups (patron fees).
    pub patron_groups: &'a [String],
}

/// A fee rule as staff write it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRule {
    pub name: String,
    pub billable: Billable,
    pub scope: Scope,
    #[serde(default)]
    pub conditions: Conditions,
    /// Net amount per event, in cents.
    pub amount_cents: i64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// Whether VAT is added, and at what rate (hundredths of a per cent:
    /// 2550 = 25.5 %).
    pub vat_applies: bool,
    pub vat_basis_points: i64,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

/// A stored fee rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeRule {
    pub id: i64,
    #[serde(flatten)]
    pub rule: NewRule,
    pub created_by: String,
    pub created_at: String,
}

/// Why a rule is refused (each a translation key with its values).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleError {
    NameMissing,
    NegativeAmount,
    BadCurrency,
    BadVatRate,
    EndsBeforeStart,
    /// Overlaps rule `id` (its name) for the same thing and scope.
    Overlaps {
        id: i64,
        name: String,
    },
    UnknownPartner(String),
    /// A patron group on a fee a partner pays, or one too long.
    BadPatronGroup,
}

impl RuleError {
    pub fn key(&self) -> &'static str {
        match self {
            RuleError::NameMissing => "fees.error.name",
            RuleError::NegativeAmount => "fees.error.negative",
            RuleError::BadCurrency => "fees.error.currency",
            RuleError::BadVatRate => "fees.error.vat",
            RuleError::EndsBeforeStart => "fees.error.dates",
            RuleError::Overlaps { .. } => "fees.error.overlap",
            RuleError::UnknownPartner(_) => "fees.error.partner",
            RuleError::BadPatronGroup => "fees.error.patron_group",
        }
    }

    /// The values the translated message names.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            RuleError::Overlaps { id, name } => {
                vec![("id", id.to_string()), ("name", name.clone())]
            }
            RuleError::UnknownPartner(p) => vec![("partner", p.clone())],
            _ => Vec::new(),
        }
    }
}

fn overlaps(a: &NewRule, b: &NewRule) -> bool {
    let a_end = a.valid_to.unwrap_or(NaiveDate::MAX);
    let b_end = b.valid_to.unwrap_or(NaiveDate::MAX);
    a.valid_from <= b_end && b.valid_from <= a_end
}

/// Checks a new rule against itself and the rules there are (`replacing`:
/// the rule it replaces, which is not an overlap).
pub fn check_rule(
    rule: &NewRule,
    existing: &[FeeRule],
    replacing: Option<i64>,
) -> Result<(), RuleError> {
    if rule.name.trim().is_empty() {
        return Err(RuleError::NameMissing);
    }
    if rule.amount_cents < 0 {
        return Err(RuleError::NegativeAmount);
    }
    if rule.currency.len() != 3 || !rule.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(RuleError::BadCurrency);
    }
    if !(0..=10_000).contains(&rule.vat_basis_points) {
        return Err(RuleError::BadVatRate);
    }
    if rule.valid_to.is_some_and(|to| to < rule.valid_from) {
        return Err(RuleError::EndsBeforeStart);
    }
    if let Some(group) = &rule.conditions.patron_group {
        if rule.billable.payer() != Payer::Patron
            || group.trim().is_empty()
            || group.trim() != group
            || group.chars().count() > 64
        {
            return Err(RuleError::BadPatronGroup);
        }
    }
    if let Some(other) = existing.iter().find(|r| {
        Some(r.id) != replacing
            && r.rule.billable == rule.billable
            && r.rule.scope == rule.scope
            && r.rule.conditions == rule.conditions
            && overlaps(&r.rule, rule)
    }) {
        return Err(RuleError::Overlaps {
            id: other.id,
            name: other.rule.name.clone(),
        });
    }
    Ok(())
}

/// The rule that prices an event: valid on `day`, for this billable event,
/// the most specific scope that matches.
pub fn choose_rule<'a>(
    rules: &'a [FeeRule],
    billable: Billable,
    facts: &Facts,
    day: NaiveDate,
) -> Option<&'a FeeRule> {
    rules
        .iter()
        .filter(|r| {
            r.rule.billable == billable
                && r.rule.valid_from <= day
                && r.rule.valid_to.is_none_or(|to| day <= to)
                && r.rule.scope.matches(facts.partner, facts.group)
                && r.rule.conditions.matches(facts)
        })
        .max_by_key(|r| {
            (
                r.rule.scope.rank(),
                r.rule.conditions.rank(),
                r.rule.valid_from,
                r.id,
            )
        })
}

/// A line's money: net, VAT and gross, in cents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amounts {
    pub net: i64,
    pub vat: i64,
    pub gross: i64,
}

impl std::ops::Add for Amounts {
    type Output = Amounts;
    fn add(self, o: Amounts) -> Amounts {
        Amounts {
            net: self.net + o.net,
            vat: self.vat + o.vat,
            gross: self.gross + o.gross,
        }
    }
}

/// `quantity` × `unit` cents with VAT at `basis_points` (0 when VAT does not
/// apply), VAT rounded half away from zero to the cent, per line (as
/// Finvoice's row rule has it: the totals are the sums of the rows).
pub fn amounts(unit_cents: i64, quantity: i64, vat_basis_points: i64) -> Amounts {
    let net = unit_cents * quantity;
    let raw = net * vat_basis_points;
    let vat = if raw >= 0 {
        (raw + 5_000) / 10_000
    } else {
        -((-raw + 5_000) / 10_000)
    };
    Amounts {
        net,
        vat,
        gross: net + vat,
    }
}

/// Cents as a decimal with two places: `1250` → `12,50` (with `,`).
pub fn format_cents(cents: i64, separator: char) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}{separator}{:02}", c / 100, c % 100)
}

/// A VAT rate in hundredths of a per cent as a number: `2550` → `25,5`,
/// `2400` → `24`.
pub fn format_rate(basis_points: i64, separator: char) -> String {
    let whole = basis_points / 100;
    let frac = basis_points % 100;
    if frac == 0 {
        whole.to_string()
    } else if frac % 10 == 0 {
        format!("{whole}{separator}{}", frac / 10)
    } else {
        format!("{whole}{separator}{frac:02}")
    }
}

/// Reads an amount as staff type it (`12`, `12,5`, `12.50`, `1 200,00`)
/// into cents; more than two decimals or anything else is refused.
pub fn parse_cents(text: &str) -> Option<i64> {
    let t: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .collect();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.to_owned()),
        None => (false, t),
    };
    let t = t.replace(',', ".");
    let (whole, frac) = t.split_once('.').unwrap_or((t.as_str(), ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 12 {
        return None;
    }
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cents = whole.parse::<i64>().ok()? * 100
        + match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().ok()? * 10,
            _ => frac.parse::<i64>().ok()?,
        };
    Some(if neg { -cents } else { cents })
}

/// A VAT rate as staff type it (`25,5`, `24`, `0`) in hundredths of a per
/// cent.
pub fn parse_rate(text: &str) -> Option<i64> {
    parse_cents(text).filter(|r| (0..=10_000).contains(r))
}

// --- Finnish identifiers ------------------------------------------------

/// The check digit of a Finnish reference number's base (weights 7, 3, 1
/// from the right).
pub fn reference_check_digit(base: &str) -> Option<u8> {
    if base.is_empty() || !base.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = base
        .bytes()
        .rev()
        .zip([7u32, 3, 1].iter().cycle())
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(((10 - sum % 10) % 10) as u8)
}

/// A Finnish reference number (viitenumero) for `base` (3 to 19 digits):
/// the base and its check digit.
pub fn reference(base: &str) -> Option<String> {
    if !(3..=19).contains(&base.len()) {
        return None;
    }
    let check = reference_check_digit(base)?;
    Some(format!("{base}{check}"))
}

/// Whether `text` (spaces allowed) is a valid Finnish reference number:
/// 4 to 20 digits, the last the check digit of the rest.
pub fn reference_valid(text: &str) -> bool {
    let digits: String = text.chars().filter(|c| *c != ' ').collect();
    if !(4..=20).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (base, check) = digits.split_at(digits.len() - 1);
    // Leading zeros do not count towards the minimum length.
    if base.trim_start_matches('0').len() < 3 {
        return false;
    }
    reference_check_digit(base) == Some(check.as_bytes()[0] - b'0')
}

/// A reference number in groups of five, as printed on paper.
pub fn reference_paper(reference: &str) -> String {
    let digits: Vec<char> = reference.chars().filter(|c| *c != ' ').collect();
    digits
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `text` is a valid Finnish business id (Y-tunnus): seven digits,
/// a hyphen and the check digit (weights 7, 9, 10, 5, 8, 4, 2; modulo 11).
pub fn business_id_valid(text: &str) -> bool {
    let Some((digits, check)) = text.trim().split_once('-') else {
        return false;
    };
    if digits.len() != 7 || check.len() != 1 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Some(check) = check.chars().next().and_then(|c| c.to_digit(10)) else {
        return false;
    };
    let sum: u32 = digits
        .bytes()
        .zip([7u32, 9, 10, 5, 8, 4, 2])
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    match sum % 11 {
        0 => check == 0,
        1 => false,
        r => check == 11 - r,
    }
}

/// Whether `text` is a Finnish OVT (EDI) code: `0037`, the business id's
/// eight digits (valid), and up to five more characters.
pub fn ovt_valid(text: &str) -> bool {
    let t = text.trim();
    let Some(rest) = t.strip_prefix("0037") else {
        return false;
    };
    if rest.len() < 8 || rest.len() > 13 || !rest.is_ascii() {
        return false;
    }
    let (id, _) = rest.split_at(8);
    business_id_valid(&format!("{}-{}", &id[..7], &id[7..]))
}

// --- Ledger ----------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Written from a billable event by its rule.
    Charge,
    /// Staff's correction of an open line (a difference, new line).
    Adjustment,
    /// Staff let an open line go (the opposite amount, with a reason).
    Waiver,
    /// On a credit note: reverses an invoiced line.
    Credit,
}

impl LineKind {
    pub fn code(self) -> &'static str {
        match self {
            LineKind::Charge => "charge",
            LineKind::Adjustment => "adjustment",
            LineKind::Waiver => "waiver",
            LineKind::Credit => "credit",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            LineKind::Charge,
            LineKind::Adjustment,
            LineKind::Waiver,
            LineKind::Credit,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }
}

/// One immutable line of the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    /// Kauko's stable line id, exported with every line.
    pub id: String,
    pub kind: LineKind,
    pub payer: Payer,
    /// Partner code or patron id.
    pub customer: String,
    pub side: String,
    pub request_id: String,
    pub billable: Option<Billable>,
    /// The line this one adjusts, waives or credits.
    pub refers_to: Option<String>,
    pub rule_id: Option<i64>,
    pub description: String,
    pub quantity: i64,
    pub unit_cents: i64,
    pub vat_basis_points: i64,
    pub amounts: Amounts,
    pub currency: String,
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub invoice_id: Option<String>,
}

/// What an invoice needs that a customer's record lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    Name,
    BusinessId,
    Address,
}

impl Missing {
    pub fn key(self) -> &'static str {
        match self {
            Missing::Name => "fees.missing.name",
            Missing::BusinessId => "fees.missing.business_id",
            Missing::Address => "fees.missing.address",
        }
    }
}

/// A customer's billing details.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Partner code or patron id.
    pub code: String,
    pub payer: Option<Payer>,
    pub name: String,
    /// Y-tunnus; partners must have one.
    pub business_id: Option<String>,
    /// OVT code and operator, for e-invoices.
    pub ovt: Option<String>,
    pub intermediator: Option<String>,
    pub street: Option<String>,
    pub postcode: Option<String>,
    pub town: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    /// Invoice language (`fi`, `sv`, `en`).
    pub lang: Option<String>,
    /// Whether the customer takes Finvoice e-invoices.
    pub e_invoice: bool,
}

/// What a customer must have before Kauko can invoice them.
pub fn missing(customer: &Customer, payer: Payer) -> Vec<Missing> {
    let mut out = Vec::new();
    if customer.name.trim().is_empty() {
        out.push(Missing::Name);
    }
    // A Finnish organisation is invoiced by its business id; a library
    // abroad by its name and address.
    let finnish = PartnerGroup::of_country(customer.country.as_deref()) == PartnerGroup::Finnish;
    if payer == Payer::Partner
        && finnish
        && !customer
            .business_id
            .as_deref()
            .is_some_and(business_id_valid)
    {
        out.push(Missing::BusinessId);
    }
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    if blank(&customer.street) || blank(&customer.postcode) || blank(&customer.town) {
        out.push(Missing::Address);
    }
    out
}

/// Why a customer's details are refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CustomerError {
    BadBusinessId,
    BadOvt,
    NameMissing,
}

impl CustomerError {
    pub fn key(&self) -> &'static str {
        match self {
            CustomerError::BadBusinessId => "fees.error.business_id",
            CustomerError::BadOvt => "fees.error.ovt",
            CustomerError::NameMissing => "fees.error.name",
        }
    }
}

pub fn check_customer(c: &Customer) -> Result<(), CustomerError> {
    if c.name.trim().is_empty() {
        return Err(CustomerError::NameMissing);
    }
    if c.business_id
        .as_deref()
        .is_some_and(|b| !business_id_valid(b))
    {
        return Err(CustomerError::BadBusinessId);
    }
    if c.ovt.as_deref().is_some_and(|o| !ovt_valid(o)) {
        return Err(CustomerError::BadOvt);
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceKind {
    Invoice,
    CreditNote,
}

/// An invoice (or credit note) with its lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub run_id: Option<String>,
    pub kind: InvoiceKind,
    pub number: String,
    /// Finnish reference number, machine format.
    pub reference: String,
    pub customer: Customer,
    pub payer: Payer,
    pub date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    pub totals: Amounts,
    /// The invoice a credit note corrects: its id and number.
    pub credits: Option<String>,
    pub credits_number: Option<String>,
    pub lines: Vec<FeeLine>,
    pub created_by: String,
}

/// A customer left out of a run, and what their record lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannotInvoice {
    pub customer: String,
    pub name: String,
    pub missing: Vec<Missing>,
    pub lines: usize,
}

/// An invoice run: the open lines up to `to` (written from `from` on, or
/// earlier and still open), per customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRun {
    pub id: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub created_by: String,
    pub created_at: String,
    pub invoices: Vec<InvoiceSummary>,
    pub cannot_invoice: Vec<CannotInvoice>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceSummary {
    pub id: String,
    pub kind: InvoiceKind,
    pub number: String,
    pub reference: String,
    pub customer: String,
    pub customer_name: String,
    pub lines: usize,
    pub totals: Amounts,
    pub currency: String,
    pub e_invoice: bool,
}

/// Lines billed against billable events in a period, every difference
/// explained.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Billable events in the history.
    pub events: usize,
    /// Of them, with a charge line.
    pub charged: usize,
    /// Of them, without a line because no rule matched (request ids).
    pub no_rule: Vec<String>,
    /// Of them, without a line because the amount recorded with the event
    /// is in another currency than the rule's (request ids).
    #[serde(default)]
    pub other_currency: Vec<String>,
    /// Of them, not looked at yet (the worker is behind).
    pub pending: Vec<String>,
    /// Events with neither a line nor a reason: should always be empty.
    pub unexplained: Vec<String>,
    /// Charge lines: invoiced, still open, waived, credited (cents, gross).
    pub invoiced: Amounts,
    pub open: Amounts,
    pub waived: Amounts,
    pub credited: Amounts,
    pub adjusted: Amounts,
}

/// A staff member's change to an open line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LineChange {
    /// The line should have been `unit_cents` (net, per unit).
    Adjust {
        unit_cents: i64,
    },
    Waive,
}

/// Why a line change, a run or a credit note is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LedgerError {
    NoSuchLine,
    AlreadyInvoiced,
    NotOpenCharge,
    ReasonMissing,
    NegativeAmount,
    PeriodBackwards,
    NothingChosen,
    AlreadyCredited,
    NotOnInvoice,
}

impl LedgerError {
    pub fn key(&self) -> &'static str {
        match self {
            LedgerError::NoSuchLine => "fees.error.no_line",
            LedgerError::AlreadyInvoiced => "fees.error.invoiced",
            LedgerError::NotOpenCharge => "fees.error.not_charge",
            LedgerError::ReasonMissing => "fees.error.reason",
            LedgerError::NegativeAmount => "fees.error.negative",
            LedgerError::PeriodBackwards => "fees.error.period",
            LedgerError::NothingChosen => "fees.error.nothing",
            LedgerError::AlreadyCredited => "fees.error.credited",
            LedgerError::NotOnInvoice => "fees.error.not_on_invoice",
        }
    }
}

/// A file staff downloaded: the export audit trail (`fee_exports`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRecord {
    /// When (RFC 3339, UTC) and by whom.
    pub at: String,
    pub by: String,
    /// The invoice run's period (a run's SAP file, or the run an
    /// invoice belongs to).
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// The invoice's number, for an invoice's file.
    pub invoice_number: Option<String>,
    /// The file (`sap.csv`, `sap.xlsx`, `finvoice.xml`, ...).
    pub file: String,
}

/// What the server gives the staff page. Errors (`Err(String)`) are for
/// the log; the page says "try again".
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait FeeOffice: Send + Sync {
    async fn rules(&self) -> Result<Vec<FeeRule>, String>;
    async fn add_rule(&self, rule: NewRule, staff: &str) -> Result<Result<i64, RuleError>, String>;
    /// Ends a rule on `day` (its lines stay as they were).
    async fn end_rule(
        &self,
        id: i64,
        day: NaiveDate,
        staff: &str,
    ) -> Result<Result<(), RuleError>, String>;
    /// Open lines (not invoiced), newest first; `all` adds invoiced ones.
    async fn lines(&self, all: bool) -> Result<Vec<FeeLine>, String>;
    async fn change_line(
        &self,
        line: &str,
        change: LineChange,
        reason: &str,
        staff: &str,
    ) -> Result<Result<String, LedgerError>, String>;
    async fn customers(&self) -> Result<Vec<Customer>, String>;
    async fn save_customer(&self, customer: Customer) -> Result<Result<(), CustomerError>, String>;
    async fn run(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        staff: &str,
    ) -> Result<Result<InvoiceRun, LedgerError>, String>;
    async fn runs(&self) -> Result<Vec<InvoiceRun>, String>;
    async fn invoice(&self, id: &str) -> Result<Option<Invoice>, String>;
    async fn credit(
        &self,
        invoice: &str,
        lines: Vec<String>,
        reason: &str,
        staff: &str,
    ) -> Result<Result<String, LedgerError>, String>;
    async fn reconcile(&self, from: NaiveDate, to: NaiveDate) -> Result<Reconciliation, String>;
    /// The latest downloads of fee files, newest first.
    async fn exports(&self) -> Result<Vec<ExportRecord>, String>;
    /// Records an amount with a request's history: the lending library's
    /// charge (borrowing) or damage to a loan (lending). The event and
    /// its amount are written together; the ledger prices it as any other
    /// billable event.
    async fn record_charge(
        &self,
        side: crate::domain::history::Side,
        request_id: &str,
        charge: StatedCharge,
        staff: &str,
    ) -> Result<Result<(), ChargeError>, String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rule(id: i64, scope: Scope, from: &str, to: Option<&str>, cents: i64) -> FeeRule {
        FeeRule {
            id,
            rule: NewRule {
                name: format!("rule {id}"),
                billable: Billable::LendingLoan,
                scope,
                conditions: Conditions::default(),
                amount_cents: cents,
                currency: "EUR".into(),
                vat_applies: true,
                vat_basis_points: 2550,
                valid_from: day(from),
                valid_to: to.map(day),
            },
            created_by: "staff".into(),
            created_at: String::new(),
        }
    }

    #[test]
    fn references_follow_7_3_1() {
        assert_eq!(reference("100").as_deref(), Some("1009"));
        assert_eq!(reference("101").as_deref(), Some("1012"));
        assert_eq!(reference("12").as_deref(), None);
        assert!(reference_valid("61 74354"));
        assert!(reference_valid("200 30094 31000 74836"));
        assert!(!reference_valid("1"));
        assert!(!reference_valid("111"));
        assert!(!reference_valid("11111 11111 11111 11111 1"));
        assert_eq!(
            reference_paper("917192622959197870"),
            "91719 26229 59197 870"
        );
    }

    #[test]
    fn business_ids_and_ovt() {
        assert!(business_id_valid("0201256-6"));
        assert!(business_id_valid("1234567-1"));
        assert!(!business_id_valid("1234567-8"));
        assert!(!business_id_valid("123456-7"));
        assert!(!business_id_valid("abcdefg-1"));
        assert!(ovt_valid("003702012566"));
        assert!(ovt_valid("00370201256600100"));
        assert!(!ovt_valid("003712345678"));
        assert!(!ovt_valid("0201256-6"));
    }

    #[test]
    fn vat_rounds_half_away_from_zero_per_line() {
        assert_eq!(
            amounts(1000, 1, 2550),
            Amounts {
                net: 1000,
                vat: 255,
                gross: 1255
            }
        );
        assert_eq!(
            amounts(1, 1, 2550),
            Amounts {
                net: 1,
                vat: 0,
                gross: 1
            }
        );
        assert_eq!(
            amounts(2, 1, 2550),
            Amounts {
                net: 2,
                vat: 1,
                gross: 3
            }
        );
        assert_eq!(
            amounts(1000, -1, 2550),
            Amounts {
                net: -1000,
                vat: -255,
                gross: -1255
            }
        );
        assert_eq!(
            amounts(1000, 1, 0),
            Amounts {
                net: 1000,
                vat: 0,
                gross: 1000
            }
        );
    }

    #[test]
    fn money_reads_and_prints() {
        assert_eq!(parse_cents("12"), Some(1200));
        assert_eq!(parse_cents("12,5"), Some(1250));
        assert_eq!(parse_cents("1 200,05"), Some(120005));
        assert_eq!(parse_cents("-3.10"), Some(-310));
        assert_eq!(parse_cents("1,234"), None);
        assert_eq!(parse_cents("abc"), None);
        assert_eq!(parse_cents(""), None);
        assert_eq!(format_cents(120005, ','), "1200,05");
        assert_eq!(format_cents(-5, '.'), "-0.05");
        assert_eq!(format_rate(2550, ','), "25,5");
        assert_eq!(format_rate(2400, ','), "24");
        assert_eq!(parse_rate("25,5"), Some(2550));
        assert_eq!(parse_rate("101"), None);
    }

    #[test]
    fn the_most_specific_valid_rule_prices_an_event() {
        let rules = vec![
            rule(1, Scope::Everyone, "2026-01-01", None, 1000),
            rule(
                2,
                Scope::Group(PartnerGroup::Nordic),
                "2026-01-01",
                None,
                2000,
            ),
            rule(
                3,
                Scope::Partner("SE-LU".into()),
                "2026-06-01",
                Some("2026-06-30"),
                3000,
            ),
        ];
        let pick = |p: &str, g, d: &str| {
            let facts = Facts {
                partner: Some(p),
                group: Some(g),
                ..Facts::default()
            };
            choose_rule(&rules, Billable::LendingLoan, &facts, day(d)).map(|r| r.id)
        };
        assert_eq!(pick("FI-X", PartnerGroup::Finnish, "2026-03-01"), Some(1));
        assert_eq!(pick("NO-Y", PartnerGroup::Nordic, "2026-03-01"), Some(2));
        assert_eq!(pick("SE-LU", PartnerGroup::Nordic, "2026-06-15"), Some(3));
        assert_eq!(pick("SE-LU", PartnerGroup::Nordic, "2026-07-01"), Some(2));
        assert_eq!(pick("FI-X", PartnerGroup::Finnish, "2025-12-31"), None);
        assert_eq!(
            choose_rule(
                &rules,
                Billable::LendingCopy,
                &Facts::default(),
                day("2026-03-01")
            ),
            None
        );
    }

    #[test]
    fn bad_rules_are_refused() {
        let existing = vec![rule(
            1,
            Scope::Everyone,
            "2026-01-01",
            Some("2026-12-31"),
            1000,
        )];
        let mut new = rule(9, Scope::Everyone, "2026-06-01", None, 500).rule;
        assert_eq!(
            check_rule(&new, &existing, None),
            Err(RuleError::Overlaps {
                id: 1,
                name: "rule 1".into()
            })
        );
        assert_eq!(check_rule(&new, &existing, Some(1)), Ok(()));
        new.valid_from = day("2027-01-01");
        assert_eq!(check_rule(&new, &existing, None), Ok(()));
        new.scope = Scope::Group(PartnerGroup::Finnish);
        new.valid_from = day("2026-06-01");
        assert_eq!(
            check_rule(&new, &existing, None),
            Ok(()),
            "another scope does not overlap"
        );
        new.amount_cents = -1;
        assert_eq!(
            check_rule(&new, &existing, None),
            Err(RuleError::NegativeAmount)
        );
        new.amount_cents = 1;
        new.valid_to = Some(day("2026-05-01"));
        assert_eq!(
            check_rule(&new, &existing, None),
            Err(RuleError::EndsBeforeStart)
        );
        new.valid_to = None;
        new.currency = "eur".into();
        assert_eq!(
            check_rule(&new, &existing, None),
            Err(RuleError::BadCurrency)
        );
    }

    #[test]
    fn conditions_pick_the_rule_for_the_material_the_urgency_and_the_patron_group() {
        let with = |id, conditions: Conditions, billable, cents| {
            let mut r = rule(id, Scope::Everyone, "2026-01-01", None, cents);
            r.rule.conditions = conditions;
            r.rule.billable = billable;
            r
        };
        let rules = vec![
            with(1, Conditions::default(), Billable::LendingCopy, 1000),
            with(
                2,
                Conditions {
                    material: Some(CitationType::Article),
                    ..Default::default()
                },
                Billable::LendingCopy,
                800,
            ),
            with(
                3,
                Conditions {
                    urgency: Some(Urgency::Urgent),
                    ..Default::default()
                },
                Billable::LendingCopy,
                2500,
            ),
            with(
                4,
                Conditions {
                    material: Some(CitationType::Article),
                    urgency: Some(Urgency::Urgent),
                    ..Default::default()
                },
                Billable::LendingCopy,
                1800,
            ),
            with(5, Conditions::default(), Billable::PatronPickup, 300),
            with(
                6,
                Conditions {
                    patron_group: Some("staff-members".into()),
                    ..Default::default()
                },
                Billable::PatronPickup,
                0,
            ),
        ];
        let copy = |material, urgency| {
            let facts = Facts {
                partner: Some("FI-X"),
                group: Some(PartnerGroup::Finnish),
                material,
                urgency,
                patron_groups: &[],
            };
            choose_rule(&rules, Billable::LendingCopy, &facts, day("2026-05-01")).map(|r| r.id)
        };
        assert_eq!(copy(Some(CitationType::Book), Urgency::Normal), Some(1));
        assert_eq!(copy(Some(CitationType::Article), Urgency::Normal), Some(2));
        assert_eq!(copy(Some(CitationType::Chapter), Urgency::Urgent), Some(3));
        assert_eq!(copy(Some(CitationType::Article), Urgency::Urgent), Some(4));
        assert_eq!(copy(None, Urgency::Normal), Some(1), "unknown material");
        let groups = |g: &[String]| {
            let facts = Facts {
                patron_groups: g,
                ..Facts::default()
            };
            choose_rule(&rules, Billable::PatronPickup, &facts, day("2026-05-01")).map(|r| r.id)
        };
        assert_eq!(groups(&["students".into()]), Some(5));
        assert_eq!(
            groups(&["students".into(), "staff-members".into()]),
            Some(6)
        );
        assert_eq!(groups(&[]), Some(5));

        // Urgent: needed within `urgent_days` of the request.
        let d = day("2026-05-01");
        assert_eq!(Urgency::of(d, None, 7), Urgency::Normal);
        assert_eq!(Urgency::of(d, Some(day("2026-05-08")), 7), Urgency::Urgent);
        assert_eq!(Urgency::of(d, Some(day("2026-05-09")), 7), Urgency::Normal);
        assert_eq!(Urgency::of(d, Some(day("2026-04-20")), 7), Urgency::Urgent);
    }

    #[test]
    fn rules_with_other_conditions_do_not_overlap_and_patron_groups_are_for_patron_fees() {
        let existing = vec![rule(1, Scope::Everyone, "2026-01-01", None, 1000)];
        let mut new = rule(9, Scope::Everyone, "2026-01-01", None, 500).rule;
        new.conditions.material = Some(CitationType::Book);
        assert_eq!(check_rule(&new, &existing, None), Ok(()));
        let mut same = existing.clone();
        same[0].rule.conditions.material = Some(CitationType::Book);
        assert!(matches!(
            check_rule(&new, &same, None),
            Err(RuleError::Overlaps { id: 1, .. })
        ));
        new.conditions.patron_group = Some("students".into());
        assert_eq!(
            check_rule(&new, &existing, None),
            Err(RuleError::BadPatronGroup),
            "a partner pays for a lending loan"
        );
        new.billable = Billable::PatronPickup;
        assert_eq!(check_rule(&new, &existing, None), Ok(()));
        new.conditions.patron_group = Some(" students".into());
        assert_eq!(
            check_rule(&new, &existing, None),
            Err(RuleError::BadPatronGroup)
        );
    }

    #[test]
    fn partner_groups_by_country() {
        assert_eq!(PartnerGroup::of_country(Some("fi")), PartnerGroup::Finnish);
        assert_eq!(PartnerGroup::of_country(None), PartnerGroup::Finnish);
        assert_eq!(PartnerGroup::of_country(Some("SE")), PartnerGroup::Nordic);
        assert_eq!(PartnerGroup::of_country(Some("DE")), PartnerGroup::Other);
    }

    #[test]
    fn a_customer_without_what_an_invoice_needs_is_named() {
        let c = Customer {
            code: "FI-X".into(),
            name: "X".into(),
            ..Default::default()
        };
        assert_eq!(
            missing(&c, Payer::Partner),
            vec![Missing::BusinessId, Missing::Address]
        );
        assert_eq!(missing(&c, Payer::Patron), vec![Missing::Address]);
        let bad = Customer {
            business_id: Some("1234567-8".into()),
            ..c.clone()
        };
        assert_eq!(check_customer(&bad), Err(CustomerError::BadBusinessId));
    }

    #[test]
    fn billable_events_round_trip_and_stated_amounts_are_checked() {
        for b in Billable::ALL {
            let (side, action) = b.event();
            assert_eq!(Billable::of_event(side, action), Some(b));
            assert_eq!(Billable::from_code(b.code()), Some(b));
        }
        assert_eq!(
            Billable::of_event("borrowing", PARTNER_CHARGE_ACTION),
            Some(Billable::PartnerCharge)
        );
        assert_eq!(Billable::PartnerCharge.payer(), Payer::Patron);
        assert_eq!(Billable::LendingDamaged.payer(), Payer::Partner);
        assert!(Billable::PartnerCharge.passes_on_amount());
        assert!(!Billable::LendingLoan.passes_on_amount());
        assert_eq!(Billable::of_event("lending", "note"), None);

        assert_eq!(
            StatedCharge::parse("1 234,5", "sek", "  "),
            Ok(StatedCharge {
                amount_cents: 123_450,
                currency: "SEK".into(),
                reference: String::new(),
            })
        );
        for bad in ["", "0", "-5", "12,345", "abc"] {
            assert_eq!(
                StatedCharge::parse(bad, "EUR", ""),
                Err(ChargeError::BadAmount),
                "{bad:?}"
            );
        }
        assert_eq!(
            StatedCharge::parse("5", "EURO", ""),
            Err(ChargeError::BadCurrency)
        );
        assert_eq!(
            StatedCharge::parse("5", "EUR", &"x".repeat(201)),
            Err(ChargeError::ReferenceTooLong)
        );
    }
}
