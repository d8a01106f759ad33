//! A request's history: every change, append-only, with who made it, from
//! which state to which, the partner involved and an optional note. The
//! source every later capability reads (the desk's timeline, letters,
//! statistics, fees, ISO 18626). Stored by the server (`request_events`,
//! which refuses updates and deletes); written in the same transaction as
//! the change it records.

use serde::{Deserialize, Serialize};

/// Which side of interlibrary loan a request is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Borrowing,
    Lending,
}

impl Side {
    pub fn code(self) -> &'static str {
        match self {
            Side::Borrowing => "borrowing",
            Side::Lending => "lending",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "borrowing" => Some(Side::Borrowing),
            "lending" => Some(Side::Lending),
            _ => None,
        }
    }
}

/// Who made a change.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// The patron (their user id).
    Patron(String),
    /// A named staff member (their user id).
    Staff(String),
    /// A partner library (its code).
    Partner(String),
    /// The library system (Alma), seen by a sync.
    LibrarySystem,
    /// Kauko itself (the outbox, a daily check, a migration).
    Kauko,
}

impl Actor {
    /// The kind and id as stored.
    pub fn parts(&self) -> (&'static str, Option<&str>) {
        match self {
            Actor::Patron(id) => ("patron", Some(id)),
            Actor::Staff(id) => ("staff", Some(id)),
            Actor::Partner(code) => ("partner", Some(code)),
            Actor::LibrarySystem => ("library_system", None),
            Actor::Kauko => ("kauko", None),
        }
    }

    pub fn from_parts(kind: &str, id: Option<String>) -> Option<Self> {
        Some(match (kind, id) {
            ("patron", Some(id)) => Actor::Patron(id),
            ("staff", Some(id)) => Actor::Staff(id),
            ("partner", Some(code)) => Actor::Partner(code),
            ("library_system", _) => Actor::LibrarySystem,
            ("kauko", _) => Actor::Kauko,
            _ => return None,
        })
    }
}

/// Who may read a note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Staff only.
    Internal,
    /// Staff and the patron (or the requesting library).
    Patron,
}

/// One change to a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestEvent {
    /// Increasing in the order the events were written.
    pub seq: i64,
    pub side: Side,
    /// The request's id in Kauko's database.
    pub request_id: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: Actor,
    /// What happened: `created`, or a state-model action's name
    /// (`send_to_partner`, `cancel`, ...).
    pub action: String,
    /// The state before (the library system's code), none for `created`.
    pub from_state: Option<String>,
    pub to_state: String,
    pub partner: Option<String>,
    pub note: Option<String>,
    pub audience: Option<Audience>,
}

/// An event about to be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub side: Side,
    pub request_id: String,
    pub actor: Actor,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub partner: Option<String>,
    pub note: Option<(String, Audience)>,
}

/// One step of a request's history in the patron's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatronStep {
    /// The day (`YYYY-MM-DD`).
    pub date: String,
    /// Translation key of what happened.
    pub key: String,
    /// A note addressed to the patron (a reason, a message from staff).
    pub note: Option<String>,
    /// A due date the step set.
    pub due: Option<String>,
}

/// A request's history as the patron reads it: the changes they would
/// notice (their status in their words, renewals) and the notes addressed
/// to them; internal notes and the library's own steps are left out.
pub fn patron_timeline(events: &[RequestEvent]) -> Vec<PatronStep> {
    use crate::domain::BorrowingStatus;
    let mut steps: Vec<PatronStep> = Vec::new();
    let mut shown: Option<crate::domain::PatronStatus> = None;
    for e in events {
        let note = match (&e.note, e.audience) {
            (Some(n), Some(Audience::Patron)) => Some(n.clone()),
            _ => None,
        };
        let (note, due) = match note {
            Some(n) if n.starts_with("due ") => (None, Some(n[4..].to_owned())),
            other => (other, None),
        };
        let status = BorrowingStatus::from_code(&e.to_state).patron_status();
        let key = match e.action.as_str() {
            "created" => Some("timeline.created".to_owned()),
            "ask_renewal" => Some("timeline.renewal_asked".to_owned()),
            "grant_renewal" | "renew" => Some("timeline.renewed".to_owned()),
            "refuse_renewal" => Some("timeline.renewal_refused".to_owned()),
            "note" if note.is_some() => Some("timeline.note".to_owned()),
            "note" => None,
            _ if shown != Some(status) => Some(status.label_key().to_owned()),
            _ if note.is_some() => Some("timeline.note".to_owned()),
            _ => None,
        };
        shown = Some(status);
        if let Some(key) = key {
            steps.push(PatronStep {
                date: e.at.chars().take(10).collect(),
                key,
                note,
                due,
            });
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_and_sides_round_trip() {
        for actor in [
            Actor::Patron("aino".into()),
            Actor::Staff("staff".into()),
            Actor::Partner("FI-TUNI".into()),
            Actor::LibrarySystem,
            Actor::Kauko,
        ] {
            let (kind, id) = actor.parts();
            assert_eq!(
                Actor::from_parts(kind, id.map(str::to_owned)),
                Some(actor.clone())
            );
        }
        assert_eq!(Actor::from_parts("patron", None), None);
        for side in [Side::Borrowing, Side::Lending] {
            assert_eq!(Side::from_code(side.code()), Some(side));
        }
    }

    fn event(action: &str, to: &str, note: Option<(&str, Audience)>) -> RequestEvent {
        RequestEvent {
            seq: 0,
            side: Side::Borrowing,
            request_id: "r".into(),
            at: "2026-12-04T10:00:00.000000Z".into(),
            actor: Actor::Staff("s".into()),
            action: action.into(),
            from_state: None,
            to_state: to.into(),
            partner: Some("FI-SECRET".into()),
            note: note.map(|(n, _)| n.to_owned()),
            audience: note.map(|(_, a)| a),
        }
    }

    #[test]
    fn the_patron_reads_their_steps_and_notes_only() {
        let events = [
            event("created", "REQUEST_CREATED_BOR", None),
            event(
                "note",
                "REQUEST_CREATED_BOR",
                Some(("ask FI-X first", Audience::Internal)),
            ),
            event("send_to_partner", "REQUEST_SENT", None),
            event("partner_will_supply", "WILL_SUPPLY", None),
            event("shipped_physically", "SHIPPED_PHYSICALLY", None),
            event("received", "RECEIVED_PHYSICALLY", None),
            event(
                "lend_to_patron",
                "LOANED",
                Some(("due 2027-01-05", Audience::Patron)),
            ),
            event("ask_renewal", "RENEW_REQUESTED", None),
            event(
                "grant_renewal",
                "LOANED",
                Some(("due 2027-02-01", Audience::Patron)),
            ),
            event(
                "note",
                "LOANED",
                Some(("Please return it soon", Audience::Patron)),
            ),
        ];
        let steps = patron_timeline(&events);
        let keys: Vec<_> = steps.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "timeline.created",
                "status.in_process",
                "status.on_its_way",
                "status.ready_for_pickup",
                "status.on_loan",
                "timeline.renewal_asked",
                "timeline.renewed",
                "timeline.note",
            ]
        );
        assert_eq!(steps[4].due.as_deref(), Some("2027-01-05"));
        assert_eq!(steps[6].due.as_deref(), Some("2027-02-01"));
        assert_eq!(steps[7].note.as_deref(), Some("Please return it soon"));
        let text = format!("{steps:?}");
        assert!(
            !text.contains("ask FI-X first"),
            "internal notes stay internal"
        );
        assert!(!text.contains("FI-SECRET"), "partners are not named");
    }
}
