//! The versions of ISO 18626 Kauko speaks with a partner: the v1.2 schema
//! (2017), and the 2014 (v1.1) dialect Alma implements, with Alma's quirks
//! (`ill-domain.md` §1.7, after CrossLink's Alma shim).

use super::messages::{Message, Status};

/// How Kauko writes to a partner (kept per partner, see [`super::store`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// The v1.2 schema.
    #[default]
    V1_2,
    /// The 2014 (v1.1) dialect, as Alma speaks it.
    Alma,
}

impl Dialect {
    pub fn code(self) -> &'static str {
        match self {
            Dialect::V1_2 => "1.2",
            Dialect::Alma => "alma",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "1.2" | "v1.2" | "" => Some(Dialect::V1_2),
            "alma" | "1.1" | "v1.1" | "2014" => Some(Dialect::Alma),
            _ => None,
        }
    }

    /// The envelope's `ill:version`.
    pub fn version(self) -> &'static str {
        match self {
            Dialect::V1_2 => "1.2",
            Dialect::Alma => "1.1",
        }
    }

    /// The message as this dialect's partner reads it.
    ///
    /// v1.2: the header's `multipleItemRequestId` is required (written
    /// empty when there is none). Alma (v1.1): no `multipleItemRequestId`,
    /// no request subtypes or start and end dates (new in 1.2); no
    /// `ExpectToSupply` (sent as `WillSupply`); a loan condition or offered
    /// costs, which Alma shows only in notes, are written into the note too
    /// (the reason is kept: switching it to `Notification`, as CrossLink's
    /// shim does for separate notices, would hide a status change); offered
    /// costs are copied to the delivery costs on `Loaned` and
    /// `CopyCompleted`.
    pub fn shape(self, mut message: Message) -> Message {
        match self {
            Dialect::V1_2 => {
                if let Some(h) = message.header_mut() {
                    h.multiple_item_request_id.get_or_insert_with(String::new);
                }
            }
            Dialect::Alma => {
                if let Some(h) = message.header_mut() {
                    h.multiple_item_request_id = None;
                }
                match &mut message {
                    Message::Request(r) => {
                        if let Some(s) = &mut r.service_info {
                            s.request_sub_types.clear();
                            s.start_date = None;
                            s.end_date = None;
                        }
                    }
                    Message::SupplyingAgencyMessage(m) => {
                        if m.status_info.status == Status::ExpectToSupply {
                            m.status_info.status = Status::WillSupply;
                        }
                        let mut extra = Vec::new();
                        if let Some(c) = m
                            .delivery_info
                            .as_ref()
                            .and_then(|d| d.loan_condition.as_ref())
                        {
                            extra.push(format!("Loan condition: {}", c.value));
                        }
                        if let Some(c) = &m.message_info.offered_costs {
                            extra.push(format!(
                                "Cost: {} {}",
                                c.monetary_value, c.currency_code.value
                            ));
                            if matches!(
                                m.status_info.status,
                                Status::Loaned | Status::CopyCompleted
                            ) {
                                let d = m.delivery_info.get_or_insert_with(Default::default);
                                if d.delivery_costs.is_none() {
                                    d.delivery_costs = Some(c.clone());
                                }
                            }
                        }
                        if !extra.is_empty() {
                            let note = m.message_info.note.take();
                            extra.extend(note);
                            m.message_info.note = Some(extra.join(" | "));
                        }
                    }
                    _ => {}
                }
            }
        }
        message
    }

    /// The whole document for this dialect's partner.
    pub fn write(self, message: Message) -> String {
        super::messages::write(&self.shape(message), self.version())
    }
}
