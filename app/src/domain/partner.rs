//! Resource-sharing partners: the libraries we borrow from and lend to.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PartnerStatus {
    #[default]
    Active,
    Inactive,
}

/// How requests reach the partner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PartnerProfile {
    /// Requests go by e-mail to this address.
    Email { email: String },
    /// ISO 18626 messages to the partner's endpoint, addressed by symbol
    /// (e.g. `ISIL:FI-HY`).
    Iso18626 { symbol: String, url: Option<String> },
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default)]
    pub lines: Vec<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 code.
    pub country: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partner {
    /// Unique and immutable; may contain `:` (e.g. `NLNZ:WLC`).
    pub code: String,
    pub name: String,
    pub status: PartnerStatus,
    pub profile: PartnerProfile,
    pub isil: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Address,
    pub lending_supported: bool,
    pub borrowing_supported: bool,
    /// Instructions shown to this partner on its own lending form.
    pub instructions: Option<String>,
    /// The language Kauko writes to this partner in (`fi`, `sv`, `en`);
    /// none: Finnish and English together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub notes: Option<String>,
}
