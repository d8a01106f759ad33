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
}
