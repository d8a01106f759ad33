//! Reading the two sources into [`RawRecord`]s: fields as text, exactly as
//! the source had them (normalisation comes next).

pub mod alma_users;
pub mod legacy_csv;

use app::staff_import::SourceRef;

/// A record's fields before normalisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRecord {
    pub source: SourceRef,
    pub code: Option<String>,
    pub name: Option<String>,
    pub isil: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The language to write to the partner in (`fi`, `sv`, `en`, or a
    /// name such as `suomi`).
    pub language: Option<String>,
    pub address_lines: Vec<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub notes: Option<String>,
    pub borrowing: Option<String>,
    pub lending: Option<String>,
    pub status: Option<String>,
    pub profile: Option<String>,
    pub iso_symbol: Option<String>,
    pub iso_url: Option<String>,
    /// False for Alma users that are not libraries (they are rejected).
    pub library: bool,
    /// Set when the row could not be read at all (CSV syntax).
    pub unreadable: Option<String>,
}

/// A field of a source record (legacy columns map onto these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Code,
    Name,
    Isil,
    Email,
    Address1,
    Address2,
    Address3,
    PostalCode,
    City,
    Country,
    Phone,
    Language,
    Notes,
    Borrowing,
    Lending,
    Status,
    Profile,
    IsoSymbol,
    IsoUrl,
}

impl Field {
    /// The legacy CSV column's name.
    pub fn column(self) -> &'static str {
        match self {
            Field::Code => "code",
            Field::Name => "name",
            Field::Isil => "isil",
            Field::Email => "email",
            Field::Address1 => "address1",
            Field::Address2 => "address2",
            Field::Address3 => "address3",
            Field::PostalCode => "postal_code",
            Field::City => "city",
            Field::Country => "country",
            Field::Phone => "phone",
            Field::Language => "language",
            Field::Notes => "notes",
            Field::Borrowing => "borrowing",
            Field::Lending => "lending",
            Field::Status => "status",
            Field::Profile => "profile",
            Field::IsoSymbol => "iso18626_symbol",
            Field::IsoUrl => "iso18626_url",
        }
    }
}

fn some(value: &str) -> Option<String> {
    (!value.trim().is_empty()).then(|| value.to_owned())
}

impl RawRecord {
    pub fn new(source: SourceRef) -> Self {
        Self {
            source,
            code: None,
            name: None,
            isil: None,
            email: None,
            phone: None,
            language: None,
            address_lines: Vec::new(),
            postal_code: None,
            city: None,
            country: None,
            notes: None,
            borrowing: None,
            lending: None,
            status: None,
            profile: None,
            iso_symbol: None,
            iso_url: None,
            library: true,
            unreadable: None,
        }
    }

    pub fn set(&mut self, field: Field, value: &str) {
        let v = some(value);
        match field {
            Field::Code => self.code = v,
            Field::Name => self.name = v,
            Field::Isil => self.isil = v,
            Field::Email => self.email = v,
            Field::Address1 | Field::Address2 | Field::Address3 => {
                if let Some(v) = v {
                    self.address_lines.push(v);
                }
            }
            Field::PostalCode => self.postal_code = v,
            Field::City => self.city = v,
            Field::Country => self.country = v,
            Field::Phone => self.phone = v,
            Field::Language => self.language = v,
            Field::Notes => self.notes = v,
            Field::Borrowing => self.borrowing = v,
            Field::Lending => self.lending = v,
            Field::Status => self.status = v,
            Field::Profile => self.profile = v,
            Field::IsoSymbol => self.iso_symbol = v,
            Field::IsoUrl => self.iso_url = v,
        }
    }
}
