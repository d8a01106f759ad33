//! Citation lookup: filling a request in from an identifier. The server
//! crate implements [`CitationLookup`] over Crossref, DataCite, NCBI
//! E-utilities, Open Library and Unpaywall (`server::citation`) and provides
//! it as context, like the resource-sharing port; the app's server functions
//! and the public `/api/v1/citation` route call it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::identifiers::Identifier;
use crate::domain::Citation;

/// The outside services a lookup can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Crossref,
    Datacite,
    Pubmed,
    Openlibrary,
    Unpaywall,
}

impl Service {
    /// The name shown to people ("Crossref", "PubMed", …); not translated.
    pub fn display_name(self) -> &'static str {
        match self {
            Service::Crossref => "Crossref",
            Service::Datacite => "DataCite",
            Service::Pubmed => "PubMed",
            Service::Openlibrary => "Open Library",
            Service::Unpaywall => "Unpaywall",
        }
    }
}

/// A citation found for an identifier, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub citation: Citation,
    pub source: Service,
}

/// A free, legal copy found by Unpaywall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAccessCopy {
    /// Where to read it (the landing page when there is no PDF link).
    pub url: String,
    /// `publishedVersion`, `acceptedVersion` or `submittedVersion`.
    pub version: Option<String>,
    /// `publisher` or `repository`.
    pub host_type: Option<String>,
    pub license: Option<String>,
}

/// Why a lookup gave nothing. Every case names the service, so the patron
/// can be told which one, and maps to a translation key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum LookupError {
    /// The service does not know the identifier.
    #[error("{} does not know this identifier", .service.display_name())]
    NotFound { service: Service },
    /// The service refused us for calling too often (HTTP 429).
    #[error("{} is busy (rate limited)", .service.display_name())]
    RateLimited { service: Service },
    /// No answer in time.
    #[error("{} did not answer in time", .service.display_name())]
    Timeout { service: Service },
    /// Connection failed or 5xx.
    #[error("{} is unavailable", .service.display_name())]
    Unavailable { service: Service },
    /// An answer we could not read.
    #[error("{} sent an answer Kauko could not read", .service.display_name())]
    BadResponse { service: Service },
}

impl LookupError {
    pub fn service(&self) -> Service {
        match self {
            LookupError::NotFound { service }
            | LookupError::RateLimited { service }
            | LookupError::Timeout { service }
            | LookupError::Unavailable { service }
            | LookupError::BadResponse { service } => *service,
        }
    }

    /// Translation key of the message; it takes `{service}`.
    pub fn message_key(&self) -> &'static str {
        match self {
            LookupError::NotFound { .. } => "lookup.error.not_found",
            LookupError::RateLimited { .. } => "lookup.error.rate_limited",
            LookupError::Timeout { .. } => "lookup.error.timeout",
            LookupError::Unavailable { .. } => "lookup.error.unavailable",
            LookupError::BadResponse { .. } => "lookup.error.bad_response",
        }
    }
}

#[async_trait]
pub trait CitationLookup: Send + Sync {
    /// The citation for a DOI (Crossref, or DataCite for DataCite DOIs), a
    /// PMID (PubMed) or an ISBN (Open Library). Results are cached.
    async fn lookup(&self, id: &Identifier) -> Result<Found, LookupError>;

    /// A free copy of the work with this DOI, when Unpaywall knows one.
    async fn open_access(&self, doi: &str) -> Result<Option<OpenAccessCopy>, LookupError>;
}
