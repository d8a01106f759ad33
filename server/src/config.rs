//! Configuration: `kauko.toml` (see `kauko.sample.toml` for every key) with
//! environment overrides `KAUKO_<SECTION>_<KEY>`. Checked at start; each
//! problem stops start-up with one line that names the key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use app::i18n::Lang;
use app::site::{LocalizedText, SiteInfo};
use serde::Deserialize;

/// A configuration problem, naming the key and its environment variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error: {key} ({env}): {message}")]
pub struct ConfigError {
    pub key: String,
    pub env: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: &str, message: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            env: env_name(key),
            message: message.into(),
        }
    }
}

/// `alma.api_key` → `KAUKO_ALMA_API_KEY`.
pub fn env_name(key: &str) -> String {
    format!("KAUKO_{}", key.replace('.', "_").to_ascii_uppercase())
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub library: LibraryConfig,
    pub database: DatabaseConfig,
    pub backend: BackendConfig,
    pub alma: AlmaConfig,
    pub requests: RequestsConfig,
    pub demo: DemoConfig,
    pub auth: AuthConfig,
    pub lookup: LookupConfig,
    pub crossref: CrossrefConfig,
    pub datacite: DataciteConfig,
    pub ncbi: NcbiConfig,
    pub openlibrary: OpenLibraryConfig,
    pub unpaywall: UnpaywallConfig,
    pub outbox: OutboxConfig,
    pub mail: MailConfig,
    pub lending: LendingConfig,
    pub letters: LettersConfig,
    pub primo: PrimoConfig,
    pub fees: FeesConfig,
    pub iso18626: Iso18626Config,
}

/// The configuration's sections, for reading environment overrides.
const SECTIONS: [&str; 21] = [
    "server",
    "library",
    "database",
    "backend",
    "alma",
    "requests",
    "demo",
    "auth",
    "lookup",
    "crossref",
    "datacite",
    "ncbi",
    "openlibrary",
    "unpaywall",
    "outbox",
    "mail",
    "lending",
    "letters",
    "primo",
    "fees",
    "iso18626",
];

/// ISO 18626 messaging with partner libraries (server/src/iso18626): the
/// endpoint `POST /iso18626` and the messages Kauko sends.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Iso18626Config {
    /// Whether Kauko receives and sends ISO 18626 messages (the local
    /// backend only: with Alma, Alma speaks ISO 18626 itself).
    pub enabled: bool,
    /// Kauko's own agency id, `TYPE:VALUE` (e.g. `ISIL:FI-HY`): partners
    /// address their messages to it and Kauko signs its own with it.
    pub symbol: String,
    /// How long a partner may take to confirm a message Kauko sends.
    pub timeout_seconds: u64,
}

impl Default for Iso18626Config {
    fn default() -> Self {
        Self {
            enabled: true,
            symbol: String::new(),
            timeout_seconds: 20,
        }
    }
}

/// Kauko inside Primo (`server/src/primo/`): the widget bundle, the
/// request button's entry and the status widget's endpoint.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrimoConfig {
    /// The Alma/Primo institution code (`358UOH_INST`). Unset: the status
    /// widget's endpoint answers 404 (the button still works).
    pub institution: Option<String>,
    /// Ex Libris' API region of the institution (`eu`, `na`, `ap`, `aps`,
    /// `ca`, `cn`), for the default JWKS URL.
    pub region: String,
    /// Where Primo's public keys are published. Default:
    /// `https://api-{region}.hosted.exlibrisgroup.com/auth/{institution}/jwks.json`.
    pub jwks_url: Option<String>,
    /// Origins of the Primo views allowed to call Kauko from the browser
    /// (`https://helka.helsinki.fi`, `https://358uoh-helka.primo.exlibrisgroup.com`):
    /// scheme, host and port only, no `*`.
    pub allowed_origins: Vec<String>,
    /// The token's `iss` must equal this when set.
    pub issuer: Option<String>,
    /// The claim naming the institution (checked against `institution`).
    pub institution_claim: String,
    /// Clock difference tolerated on the token's `exp`, in seconds.
    pub leeway_seconds: u64,
    /// Least time between two fetches of the JWKS, in seconds (a token with
    /// an unknown key id makes Kauko fetch it again, at most this often).
    pub jwks_min_refetch_seconds: u64,
    /// How long a fetched JWKS is used before it is fetched again.
    pub jwks_max_age_seconds: u64,
}

impl Default for PrimoConfig {
    fn default() -> Self {
        Self {
            institution: None,
            region: "eu".to_owned(),
            jwks_url: None,
            allowed_origins: Vec::new(),
            issuer: None,
            institution_claim: "inst".to_owned(),
            leeway_seconds: 30,
            jwks_min_refetch_seconds: 60,
            jwks_max_age_seconds: 3600,
        }
    }
}

impl PrimoConfig {
    /// The JWKS URL: the configured one, else Ex Libris' for the region.
    pub fn jwks_url(&self) -> Option<String> {
        match (&self.jwks_url, &self.institution) {
            (Some(url), _) if !url.trim().is_empty() => Some(url.trim().to_owned()),
            (_, Some(inst)) if !inst.trim().is_empty() => Some(format!(
                "https://api-{}.hosted.exlibrisgroup.com/auth/{}/jwks.json",
                self.region.trim(),
                inst.trim()
            )),
            _ => None,
        }
    }

    fn check(&self) -> Result<(), ConfigError> {
        for origin in &self.allowed_origins {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            let ok = rest.is_some_and(|host| {
                !host.is_empty()
                    && host.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')
                    })
            });
            if !ok {
                return Err(ConfigError::new(
                    "primo.allowed_origins",
                    format!("`{origin}` is not an origin: write scheme://host[:port], without a path, a trailing slash or *"),
                ));
            }
        }
        if let Some(url) = self.jwks_url.as_deref().filter(|u| !u.trim().is_empty()) {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ConfigError::new("primo.jwks_url", "must be an http(s) URL"));
            }
        }
        if self.institution_claim.trim().is_empty() {
            return Err(ConfigError::new(
                "primo.institution_claim",
                "must not be empty",
            ));
        }
        if self.jwks_min_refetch_seconds == 0 {
            return Err(ConfigError::new(
                "primo.jwks_min_refetch_seconds",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// The durable outbox: how submissions are delivered to the library system.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// How often an idle worker looks for submissions that are due.
    pub poll_interval_milliseconds: u64,
    /// How long a worker's claim on a submission holds. A call to the
    /// library system is abandoned (and retried) after three quarters of
    /// it; a claim of a killed process runs out after it.
    pub lease_seconds: u64,
    /// The wait before the first retry; it doubles with every try.
    pub first_backoff_milliseconds: u64,
    /// The longest wait between two tries.
    pub max_backoff_seconds: u64,
    /// How long a form waits for its delivery before saying "received,
    /// being forwarded".
    pub inline_wait_milliseconds: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            poll_interval_milliseconds: 1000,
            lease_seconds: 120,
            first_backoff_milliseconds: 2000,
            max_backoff_seconds: 600,
            inline_wait_milliseconds: 3000,
        }
    }
}

/// Outgoing mail (the confirmation a library gets for its lending request).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// The SMTP server. Unset: messages are written to `folder` instead,
    /// and staff can read them at /staff/mail.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    /// `starttls` (the default), `tls` (SMTPS) or `none` (plain text; only
    /// for a server on the same machine).
    pub tls: MailTls,
    pub username: Option<String>,
    /// Prefer the environment: KAUKO_MAIL_PASSWORD.
    pub password: Option<String>,
    /// The sender, e.g. `Kauko <kauko@library.example.fi>`.
    pub from: String,
    /// Where messages are written when there is no SMTP server. Unset: a
    /// `mail` folder beside the SQLite database (`data/mail` by default).
    pub folder: Option<PathBuf>,
    /// Seconds one SMTP conversation may take.
    pub timeout_seconds: u64,
    /// Times a message is tried again when the mail server cannot be
    /// reached or answers "try later" (not when it refuses it for good).
    pub retries: u32,
    /// The wait before the first retry; it doubles each time (at most an
    /// hour).
    pub first_retry_seconds: u64,
    /// The most messages kept in the mail folder (without SMTP); the
    /// oldest go first beyond it.
    pub folder_max_messages: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTls {
    #[default]
    Starttls,
    Tls,
    None,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_host: None,
            smtp_port: 587,
            tls: MailTls::Starttls,
            username: None,
            password: None,
            from: "Kauko <kauko@localhost>".into(),
            folder: None,
            timeout_seconds: 20,
            retries: 6,
            first_retry_seconds: 30,
            folder_max_messages: 10_000,
        }
    }
}

/// The lending form for other libraries (`/lend`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LendingConfig {
    /// Requests one client address may send per minute; more are refused
    /// with a message to wait.
    pub max_requests_per_minute: u32,
    /// How many reverse proxies in front of Kauko append to
    /// `X-Forwarded-For`: the client's address is the entry that many from
    /// the right. 0 (the default): the connection's address counts and the
    /// header is ignored, since a client can write anything in it.
    pub trusted_proxies: u32,
    /// How closely a lending request's sender address must fit the partner
    /// record before the request goes to the library system as that
    /// partner's: `domain` (the same mail domain, default) or `address`
    /// (exactly the record's). Replies go to the record's address either
    /// way; a request that does not fit waits for staff review.
    pub sender_must_match: app::domain::lending_intake::SenderMatch,
    /// How long Kauko's copy of the partner list answers the public form's
    /// partner look-ups before the library system is asked again.
    pub partner_cache_seconds: u64,
    /// How many days the requesting library can download a copy staff
    /// sent as a file.
    pub copy_days: u32,
    /// The largest copy staff can send as a file, in megabytes.
    pub copy_max_mb: u32,
    /// Older setting: `true` is one trusted proxy (`trusted_proxies = 1`).
    /// It used to take the first (client-written) entry.
    pub trust_forwarded_for: bool,
}

impl LendingConfig {
    /// `copy_max_mb` in bytes.
    pub fn copy_max_bytes(&self) -> usize {
        usize::try_from(self.copy_max_mb)
            .unwrap_or(usize::MAX)
            .saturating_mul(1024 * 1024)
    }

    /// The trusted proxy hops, the older setting included.
    pub fn proxy_hops(&self) -> u32 {
        if self.trusted_proxies == 0 && self.trust_forwarded_for {
            1
        } else {
            self.trusted_proxies
        }
    }
}

impl Default for LendingConfig {
    fn default() -> Self {
        Self {
            max_requests_per_minute: 10,
            trusted_proxies: 0,
            sender_must_match: Default::default(),
            partner_cache_seconds: 300,
            copy_days: 30,
            copy_max_mb: 50,
            trust_forwarded_for: false,
        }
    }
}

/// Letters to patrons and partner libraries (server/src/letters).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LettersConfig {
    /// Whether Kauko writes letters at all (each letter can also be
    /// switched off on /staff/letters).
    pub enabled: bool,
    /// Days an arrived item waits at the pickup desk ("collect it by").
    pub pickup_days: u32,
    /// Days a copy sent online can be downloaded ("available until").
    pub link_days: u32,
    /// How many days before its due date a loan's "due soon" letter goes.
    pub due_soon_days: u32,
    /// How often the worker looks for new history events and due letters.
    pub poll_interval_milliseconds: u64,
    /// How old a history event must be before its letters are written: the
    /// longest a transaction that wrote an event may take to commit.
    pub settle_milliseconds: u64,
}

impl Default for LettersConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            pickup_days: 14,
            link_days: 30,
            due_soon_days: 3,
            poll_interval_milliseconds: 2000,
            settle_milliseconds: 3000,
        }
    }
}

/// Fees and invoices (`server/src/fees/`): the ledger's worker, the seller
/// on every invoice, and the SAP intake file's layout.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeesConfig {
    /// Whether Kauko writes fee lines from the requests' history.
    pub enabled: bool,
    /// How often the worker looks for billable events.
    pub poll_interval_milliseconds: u64,
    /// How old a history event must be before it is priced (as
    /// `letters.settle_milliseconds`).
    pub settle_milliseconds: u64,
    /// Days from the invoice date to the due date.
    pub payment_days: u32,
    /// A request needed within this many days of being made is urgent
    /// (fee rules may price urgent requests apart).
    pub urgent_days: u32,
    /// The seller: the library's university.
    pub seller_name: String,
    pub seller_business_id: String,
    pub seller_vat_number: Option<String>,
    pub seller_street: String,
    pub seller_postcode: String,
    pub seller_town: String,
    pub seller_country: String,
    pub seller_iban: String,
    pub seller_bic: String,
    /// The seller's OVT code and e-invoice operator, for Finvoice.
    pub seller_ovt: Option<String>,
    pub seller_intermediator: Option<String>,
    pub seller_email: Option<String>,
    /// Accounting on every SAP line.
    pub cost_centre: String,
    pub account: String,
    /// The SAP intake file: its columns, each `field` or `field:Header`
    /// (fields: see `server/src/fees/export.rs`), the CSV delimiter and the
    /// decimal separator.
    pub sap_columns: Vec<String>,
    pub sap_delimiter: String,
    pub sap_decimal: String,
}

impl Default for FeesConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_interval_milliseconds: 2000,
            settle_milliseconds: 3000,
            payment_days: 14,
            urgent_days: 7,
            seller_name: "Helsingin yliopisto".into(),
            seller_business_id: "0313471-7".into(),
            seller_vat_number: Some("FI03134717".into()),
            seller_street: "Yliopistonkatu 4".into(),
            seller_postcode: "00100".into(),
            seller_town: "Helsinki".into(),
            seller_country: "FI".into(),
            seller_iban: "FI2112345600000785".into(),
            seller_bic: "NDEAFIHH".into(),
            seller_ovt: Some("003703134717".into()),
            seller_intermediator: Some("003721291126".into()),
            seller_email: None,
            cost_centre: "7300".into(),
            account: "3000".into(),
            sap_columns: Vec::new(),
            sap_delimiter: ";".into(),
            sap_decimal: ",".into(),
        }
    }
}

/// Citation lookup: what every metadata service shares.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LookupConfig {
    /// The contact address the services ask for: Crossref's `mailto`,
    /// NCBI's `email`, Unpaywall's `email` (mandatory there), and the
    /// User-Agent. Unset: Crossref and NCBI get none and the open-access
    /// check is skipped.
    pub contact_email: Option<String>,
    /// How long one call to a service may take, connecting included.
    pub timeout_milliseconds: u64,
    /// How long a found citation (or open-access answer) is kept in the
    /// database before the service is asked again.
    pub cache_ttl_seconds: u64,
    /// Ask Unpaywall for a free copy of works with a DOI.
    pub open_access: bool,
    /// Look-ups one client may make per minute through the public citation
    /// API and the request forms' autofill (a signed-in patron counts by
    /// account, others by address); more are told to wait a moment.
    pub max_lookups_per_minute: u32,
    /// The most found citations kept in the database cache; the oldest go
    /// first beyond it.
    pub cache_max_entries: u64,
}

impl Default for LookupConfig {
    fn default() -> Self {
        Self {
            contact_email: None,
            timeout_milliseconds: 8000,
            cache_ttl_seconds: 7 * 24 * 3600,
            open_access: true,
            max_lookups_per_minute: 30,
            cache_max_entries: 100_000,
        }
    }
}

/// One metadata service's section: where it is and how often Kauko may
/// call it. Each has its own defaults (the real service and its documented
/// rate limit).
macro_rules! service_config {
    ($(#[$doc:meta])* $name:ident, $url:expr, $rate:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            /// Base URL (a trailing slash is ignored).
            pub url: String,
            /// Kauko's ceiling on calls per second to this service, across
            /// all users; calls beyond it wait their turn (at most the
            /// lookup timeout).
            pub max_calls_per_second: u32,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    url: $url.into(),
                    max_calls_per_second: $rate,
                }
            }
        }
    };
}

service_config!(
    /// Crossref's REST API; its X-Rate-Limit headers allow 50 calls per
    /// second in the polite pool.
    CrossrefConfig,
    "https://api.crossref.org",
    50
);
service_config!(
    /// DataCite's REST API: 3000 calls per 5 minutes per client address.
    DataciteConfig,
    "https://api.datacite.org",
    10
);
service_config!(
    /// Open Library: a few calls per second for clients that identify
    /// themselves in the User-Agent.
    OpenLibraryConfig,
    "https://openlibrary.org",
    3
);
service_config!(
    /// Unpaywall: 100,000 calls a day; Kauko stays at 10 per second.
    UnpaywallConfig,
    "https://api.unpaywall.org/v2",
    10
);

/// NCBI E-utilities (PubMed): 3 calls per second without an API key, 10
/// with one.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NcbiConfig {
    pub url: String,
    pub max_calls_per_second: u32,
    /// The `tool` parameter NCBI asks for.
    pub tool: String,
    /// An NCBI API key (allows 10 calls per second; raise
    /// max_calls_per_second with it). Prefer the environment:
    /// KAUKO_NCBI_API_KEY.
    pub api_key: Option<String>,
}

impl Default for NcbiConfig {
    fn default() -> Self {
        Self {
            url: "https://eutils.ncbi.nlm.nih.gov/entrez/eutils".into(),
            max_calls_per_second: 3,
            tool: "kauko".into(),
            api_key: None,
        }
    }
}

/// Sign-in through the university's OpenID Connect provider.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// The provider's issuer URL (its discovery document is at
    /// `<issuer>/.well-known/openid-configuration`). Unset: sign-in is off.
    pub issuer_url: Option<String>,
    pub client_id: String,
    /// Prefer the environment: KAUKO_AUTH_CLIENT_SECRET.
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
    /// The ID-token claim that is the library-system user id
    /// (`sub`, `eduPersonPrincipalName`, a university person id, ...).
    pub user_id_claim: String,
    /// The claim (string or array of strings) whose value `staff_value`
    /// grants the staff role.
    pub staff_claim: String,
    pub staff_value: String,
    /// The claim (string or array of strings) whose values are the
    /// patron's groups, kept for fee rules by patron group.
    pub groups_claim: String,
    /// Minutes without activity before a session ends.
    pub session_idle_minutes: u64,
    /// Hours after sign-in when a session ends regardless.
    pub session_max_hours: u64,
    /// Minutes a staff role read at sign-in holds: a staff session older
    /// than this ends, and signing in again (one step with the identity
    /// provider's own session) reads the role afresh, so a role taken away
    /// at the identity provider stops working here within this time.
    pub role_recheck_minutes: u64,
    /// Sign-ins started and not finished that Kauko keeps at once (each
    /// expires after 10 minutes); beyond it new sign-ins are refused with a
    /// "try again in a moment" page, so a flood cannot fill the database.
    pub max_pending_sign_ins: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer_url: None,
            client_id: "kauko".into(),
            client_secret: None,
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            user_id_claim: "sub".into(),
            staff_claim: "groups".into(),
            staff_value: "kauko-staff".into(),
            groups_claim: "groups".into(),
            session_idle_minutes: 60,
            session_max_hours: 12,
            role_recheck_minutes: 60,
            max_pending_sign_ins: 10_000,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// The public origin (scheme, host, port) users reach Kauko at; used for
    /// absolute links and the Secure cookie flag. Defaults to http://<bind>.
    pub public_url: Option<String>,
    /// Where the built front end (wasm, js, css, assets) is: `pkg/` and,
    /// from a release build, `pkg-precompressed/` (web/assets.rs).
    pub site_root: PathBuf,
    /// Seconds in-flight requests get to finish after SIGTERM.
    pub shutdown_grace_seconds: u64,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 3000)),
            public_url: None,
            site_root: PathBuf::from("target/site"),
            shutdown_grace_seconds: 30,
            log_format: LogFormat::Text,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LibraryConfig {
    /// The library's name: one string, or a table with `fi`, `sv`, `en`.
    pub name: NameConfig,
    /// Language when neither the URL, a cookie nor the browser says.
    pub default_language: Lang,
}

impl Default for LibraryConfig {
    fn default() -> Self {
        Self {
            name: NameConfig::One("Kauko".into()),
            default_language: Lang::Fi,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum NameConfig {
    One(String),
    PerLanguage(LocalizedTextConfig),
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalizedTextConfig {
    pub fi: String,
    pub sv: String,
    pub en: String,
}

impl NameConfig {
    pub fn localized(&self) -> LocalizedText {
        match self {
            NameConfig::One(name) => LocalizedText {
                fi: name.clone(),
                sv: name.clone(),
                en: name.clone(),
            },
            NameConfig::PerLanguage(t) => LocalizedText {
                fi: t.fi.clone(),
                sv: t.sv.clone(),
                en: t.en.clone(),
            },
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://path/to/file.db` (created if missing) or
    /// `postgres://user@host:port/database` for several server instances.
    pub url: String,
    pub max_connections: u32,
    /// Seconds to wait for the database at start before giving up.
    pub connect_timeout_seconds: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://data/kauko.db".into(),
            max_connections: 10,
            connect_timeout_seconds: 10,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackendConfig {
    pub kind: BackendKind,
}

/// Which library system Kauko talks to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Kauko's own database: runs anywhere, no Alma needed.
    #[default]
    Local,
    /// Ex Libris Alma's REST API.
    Alma,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlmaConfig {
    /// Regional API base, e.g. `https://api-eu.hosted.exlibrisgroup.com`.
    pub url: Option<String>,
    pub api_key: Option<String>,
    /// The resource-sharing library code (Alma's `owner`).
    pub rs_library: Option<String>,
    /// Kauko's ceiling on calls per second to Alma, across all users.
    pub max_calls_per_second: u32,
    /// How long a call may wait for its turn under that ceiling; beyond it
    /// the user is told the library system is busy and to try again, so a
    /// flood cannot queue ahead of everyone without end.
    pub max_wait_milliseconds: u64,
    /// How long a read (GET) may take, connecting included.
    pub read_timeout_seconds: u64,
    /// How long a write (POST, PUT, DELETE) may take; Alma's creates take
    /// several seconds.
    pub write_timeout_seconds: u64,
    /// How long a patron's reads (requests, loans) are reused; 0 turns the
    /// cache off. A patron's own changes clear their entries at once.
    pub cache_seconds: u64,
    /// The `RequestCancellationReasons` code sent when a patron cancels.
    pub cancel_reason: String,
    /// Create requests despite Alma's blocks and warnings (e.g. "the
    /// library holds this title", 401604).
    pub override_blocks: bool,
    /// Whether this instance runs the background sync of the mirror (any
    /// number of instances may; they share the work and the budget).
    pub sync: bool,
    /// The per cent of `max_calls_per_second` the background sync may use;
    /// patrons' own calls come first and may use all of it.
    pub sync_share_percent: u32,
    /// How often active requests (and patrons who have some) are read again.
    pub sync_active_seconds: u64,
    /// How often closed requests (and patrons with nothing active) are read
    /// again...
    pub sync_closed_seconds: u64,
    /// ... until they closed this many days ago; then never again.
    pub sync_forget_days: u64,
    /// My requests from a mirror older than this says how old it is and
    /// asks Alma again (as the patron's look, first in line).
    pub mirror_stale_seconds: u64,
    /// How often the lending task list is read into the lending mirror
    /// (fees price what it sees shipped); 0: never. Needs `rs_library`.
    pub lending_sync_seconds: u64,
    /// The lending statuses whose task lists are read (Alma answers at most
    /// 100 requests per list).
    pub lending_statuses: Vec<String>,
}

impl Default for AlmaConfig {
    fn default() -> Self {
        Self {
            url: None,
            api_key: None,
            rs_library: None,
            max_calls_per_second: 10,
            max_wait_milliseconds: 5000,
            read_timeout_seconds: 8,
            write_timeout_seconds: 30,
            cache_seconds: 30,
            cancel_reason: "CancelledAtPatronRequest".into(),
            override_blocks: false,
            sync: true,
            sync_share_percent: 30,
            sync_active_seconds: 300,
            sync_closed_seconds: 86_400,
            sync_forget_days: 30,
            mirror_stale_seconds: 600,
            lending_sync_seconds: 300,
            lending_statuses: vec![
                "REQUEST_CREATED_LEND".into(),
                "SHIPPED_PHYSICALLY".into(),
                "SHIPPED_DIGITALLY".into(),
            ],
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequestsConfig {
    /// Library-system status codes in which a patron may still cancel.
    pub cancellable_statuses: Vec<String>,
    /// Days an ILL loan is extended by on renewal (local backend).
    pub renewal_days: u32,
    /// Renewals allowed per ILL loan (both backends; with Alma, Kauko
    /// counts the renewals it made).
    pub max_renewals: u32,
    /// Where patrons can pick physical items up, offered by the request form.
    pub pickup_locations: Vec<PickupLocationConfig>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickupLocationConfig {
    /// The library system's code for the place (Alma: a library code).
    pub code: String,
    pub fi: String,
    #[serde(default)]
    pub sv: String,
    #[serde(default)]
    pub en: String,
}

impl Default for RequestsConfig {
    fn default() -> Self {
        Self {
            cancellable_statuses: vec!["REQUEST_CREATED_BOR".into(), "PENDING_APPROVAL".into()],
            renewal_days: 14,
            max_renewals: 2,
            pickup_locations: vec![PickupLocationConfig {
                code: "MAIN".into(),
                fi: "Pääkirjasto".into(),
                sv: "Huvudbiblioteket".into(),
                en: "Main Library".into(),
            }],
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    /// Fill an empty database with demo patrons, partners and requests.
    pub seed: bool,
}

impl Config {
    /// Reads the file (when it exists; `required` makes a missing one an
    /// error) and the environment, then checks the result.
    pub fn load(
        path: &Path,
        required: bool,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => String::new(),
            Err(e) => {
                return Err(ConfigError::new(
                    "config",
                    format!("cannot read {}: {e}", path.display()),
                ))
            }
        };
        Self::from_sources(&text, env)
    }

    pub fn from_sources(
        toml_text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table: toml::Table = toml_text.parse().map_err(|e: toml::de::Error| {
            ConfigError::new(
                "config",
                format!("kauko.toml is not valid TOML: {}", e.message()),
            )
        })?;
        apply_env(&mut table, env)?;
        let config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let key = e.path().to_string();
                let key = if key == "." { "config".to_owned() } else { key };
                ConfigError::new(
                    &key,
                    e.inner()
                        .to_string()
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let url = self.database.url.trim();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::new(
                "database.url",
                format!("`{}` is not a database URL: use sqlite://<file> or postgres://<user>@<host>/<db>", redact_url(url)),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::new(
                "database.max_connections",
                "must be at least 1",
            ));
        }
        if self.backend.kind == BackendKind::Alma {
            match self.alma.url.as_deref() {
                None | Some("") => {
                    return Err(ConfigError::new(
                        "alma.url",
                        "required when backend.kind = \"alma\"",
                    ))
                }
                Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) => {
                    return Err(ConfigError::new("alma.url", "must be an http(s) URL"))
                }
                _ => {}
            }
            if self
                .alma
                .api_key
                .as_deref()
                .is_none_or(|k| k.trim().is_empty())
            {
                return Err(ConfigError::new(
                    "alma.api_key",
                    "required when backend.kind = \"alma\"",
                ));
            }
            if self.alma.max_calls_per_second == 0 {
                return Err(ConfigError::new(
                    "alma.max_calls_per_second",
                    "must be at least 1",
                ));
            }
            if self.alma.read_timeout_seconds == 0 {
                return Err(ConfigError::new(
                    "alma.read_timeout_seconds",
                    "must be at least 1",
                ));
            }
            if self.alma.write_timeout_seconds == 0 {
                return Err(ConfigError::new(
                    "alma.write_timeout_seconds",
                    "must be at least 1",
                ));
            }
            if !(1..=100).contains(&self.alma.sync_share_percent) {
                return Err(ConfigError::new(
                    "alma.sync_share_percent",
                    "must be between 1 and 100",
                ));
            }
            if self.alma.sync_active_seconds == 0 || self.alma.sync_closed_seconds == 0 {
                return Err(ConfigError::new(
                    if self.alma.sync_active_seconds == 0 {
                        "alma.sync_active_seconds"
                    } else {
                        "alma.sync_closed_seconds"
                    },
                    "must be at least 1",
                ));
            }
            if self.alma.cache_seconds > 3600 {
                return Err(ConfigError::new(
                    "alma.cache_seconds",
                    "at most 3600 (an hour); patrons would see stale statuses",
                ));
            }
            if self.alma.cancel_reason.trim().is_empty() {
                return Err(ConfigError::new(
                    "alma.cancel_reason",
                    "must name a RequestCancellationReasons code",
                ));
            }
        }
        if let Some(issuer) = self.auth.issuer_url.as_deref().filter(|u| !u.is_empty()) {
            if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
                return Err(ConfigError::new(
                    "auth.issuer_url",
                    "must be an http(s) URL",
                ));
            }
            if self.auth.client_id.trim().is_empty() {
                return Err(ConfigError::new(
                    "auth.client_id",
                    "required when auth.issuer_url is set",
                ));
            }
        }
        let services = [
            (
                "crossref",
                self.crossref.url.as_str(),
                self.crossref.max_calls_per_second,
            ),
            (
                "datacite",
                self.datacite.url.as_str(),
                self.datacite.max_calls_per_second,
            ),
            (
                "ncbi",
                self.ncbi.url.as_str(),
                self.ncbi.max_calls_per_second,
            ),
            (
                "openlibrary",
                self.openlibrary.url.as_str(),
                self.openlibrary.max_calls_per_second,
            ),
            (
                "unpaywall",
                self.unpaywall.url.as_str(),
                self.unpaywall.max_calls_per_second,
            ),
        ];
        for (section, url, rate) in services {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ConfigError::new(
                    &format!("{section}.url"),
                    "must be an http(s) URL",
                ));
            }
            if rate == 0 {
                return Err(ConfigError::new(
                    &format!("{section}.max_calls_per_second"),
                    "must be at least 1",
                ));
            }
        }
        if self.lookup.timeout_milliseconds == 0 {
            return Err(ConfigError::new(
                "lookup.timeout_milliseconds",
                "must be at least 1",
            ));
        }
        if let Some(email) = self
            .lookup
            .contact_email
            .as_deref()
            .filter(|e| !e.is_empty())
        {
            if !email.contains('@') || email.chars().any(char::is_whitespace) {
                return Err(ConfigError::new(
                    "lookup.contact_email",
                    "must be an e-mail address",
                ));
            }
        }
        let o = &self.outbox;
        if !(10..=600_000).contains(&o.poll_interval_milliseconds) {
            return Err(ConfigError::new(
                "outbox.poll_interval_milliseconds",
                "must be between 10 and 600000",
            ));
        }
        if !(5..=86_400).contains(&o.lease_seconds) {
            return Err(ConfigError::new(
                "outbox.lease_seconds",
                "must be between 5 and 86400",
            ));
        }
        if o.max_backoff_seconds == 0 || o.max_backoff_seconds > 86_400 {
            return Err(ConfigError::new(
                "outbox.max_backoff_seconds",
                "must be between 1 and 86400",
            ));
        }
        if o.first_backoff_milliseconds == 0
            || o.first_backoff_milliseconds > o.max_backoff_seconds * 1000
        {
            return Err(ConfigError::new(
                "outbox.first_backoff_milliseconds",
                "must be at least 1 and at most outbox.max_backoff_seconds",
            ));
        }
        if o.inline_wait_milliseconds > 60_000
            || o.inline_wait_milliseconds >= o.lease_seconds * 1000 / 2
        {
            return Err(ConfigError::new(
                "outbox.inline_wait_milliseconds",
                "must be at most 60000 and less than half of outbox.lease_seconds",
            ));
        }
        let m = &self.mail;
        if m.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::new(
                "mail.from",
                "must be an e-mail address, e.g. Kauko <kauko@library.example.fi>",
            ));
        }
        if m.smtp_host.as_deref().is_some_and(|h| !h.trim().is_empty()) {
            if m.smtp_port == 0 {
                return Err(ConfigError::new("mail.smtp_port", "must be a port number"));
            }
            if m.username.is_some() != m.password.is_some() {
                return Err(ConfigError::new(
                    "mail.password",
                    "mail.username and mail.password go together",
                ));
            }
        }
        if m.timeout_seconds == 0 {
            return Err(ConfigError::new(
                "mail.timeout_seconds",
                "must be at least 1",
            ));
        }
        if self.mail.retries > 20 {
            return Err(ConfigError::new("mail.retries", "must be at most 20"));
        }
        if !(1..=3600).contains(&self.mail.first_retry_seconds) {
            return Err(ConfigError::new(
                "mail.first_retry_seconds",
                "must be between 1 and 3600",
            ));
        }
        if self.lending.max_requests_per_minute == 0 {
            return Err(ConfigError::new(
                "lending.max_requests_per_minute",
                "must be at least 1",
            ));
        }
        self.primo.check()?;
        if let Some(public) = &self.server.public_url {
            if !(public.starts_with("https://") || public.starts_with("http://")) {
                return Err(ConfigError::new(
                    "server.public_url",
                    "must start with https:// or http://",
                ));
            }
        }
        Ok(())
    }

    pub fn site_info(&self) -> SiteInfo {
        SiteInfo {
            library_name: self.library.name.localized(),
            default_lang: self.library.default_language,
            pickup_locations: self
                .requests
                .pickup_locations
                .iter()
                .map(|p| app::site::PickupLocation {
                    code: p.code.clone(),
                    name: app::site::LocalizedText {
                        fi: p.fi.clone(),
                        sv: p.sv.clone(),
                        en: p.en.clone(),
                    },
                })
                .collect(),
        }
    }

    /// The request rules server functions apply.
    pub fn request_rules(&self) -> app::settings::RequestRules {
        app::settings::RequestRules {
            cancellable_statuses: self.requests.cancellable_statuses.clone(),
            max_renewals: self.requests.max_renewals,
        }
    }

    /// Where mail is written without an SMTP server: `mail.folder`, else a
    /// `mail` folder beside the SQLite database, else `data/mail`.
    pub fn mail_folder(&self) -> PathBuf {
        if let Some(folder) = &self.mail.folder {
            return folder.clone();
        }
        self.database
            .url
            .strip_prefix("sqlite:")
            .map(|rest| rest.trim_start_matches("//"))
            .map(|path| path.split('?').next().unwrap_or(path))
            .filter(|file| *file != ":memory:" && !file.is_empty())
            .and_then(|file| Path::new(file).parent().map(Path::to_path_buf))
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("data"))
            .join("mail")
    }

    /// The origin users see, without a trailing slash.
    pub fn public_url(&self) -> String {
        self.server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.server.bind))
            .trim_end_matches('/')
            .to_owned()
    }
}

/// Environment variables that are not configuration keys.
fn reserved_env(name: &str) -> bool {
    name == "KAUKO_CONFIG"
        || name.starts_with("KAUKO_TEST_")
        || name.starts_with("KAUKO_IDP_")
        || name.starts_with("KAUKO_E2E_")
        || name == "KAUKO_LOG"
}

fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let mut overrides: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in env {
        if let Some(rest) = name.strip_prefix("KAUKO_") {
            if !reserved_env(&name) {
                overrides.insert(rest.to_ascii_lowercase(), value);
            }
        }
    }
    for (rest, raw) in overrides {
        let Some(section) = SECTIONS.iter().find(|s| rest.starts_with(&format!("{s}_"))) else {
            return Err(ConfigError {
                key: rest.replacen('_', ".", 1),
                env: format!("KAUKO_{}", rest.to_ascii_uppercase()),
                message: format!("unknown section; the sections are {}", SECTIONS.join(", ")),
            });
        };
        let key = &rest[section.len() + 1..];
        let value = parse_env_value(&raw);
        let entry = table
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(section_table) = entry else {
            return Err(ConfigError::new(section, "must be a table"));
        };
        section_table.insert(key.to_owned(), value);
    }
    Ok(())
}

/// An environment value as TOML when it reads as a number, boolean or
/// array, else as a string.
fn parse_env_value(raw: &str) -> toml::Value {
    let trimmed = raw.trim();
    let looks_typed = trimmed == "true"
        || trimmed == "false"
        || trimmed.starts_with('[')
        || (!trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_digit()));
    if looks_typed {
        if let Ok(mut t) = format!("v = {trimmed}").parse::<toml::Table>() {
            if let Some(v) = t.remove("v") {
                return v;
            }
        }
    }
    toml::Value::String(raw.to_owned())
}

/// A URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_the_embedded_local_setup() {
        let c = Config::from_sources("", env(&[])).unwrap();
        assert_eq!(c.backend.kind, BackendKind::Local);
        assert_eq!(c.database.url, "sqlite://data/kauko.db");
        assert_eq!(c.server.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url(), "http://127.0.0.1:3000");
        assert!(!c.demo.seed);
    }

    #[test]
    fn the_sample_file_is_valid_and_documents_every_section() {
        let sample = include_str!("../../kauko.sample.toml");
        // The sample is all comments except the section headers.
        Config::from_sources(sample, env(&[])).unwrap();
        // Uncomment every `# key = value` line: the documented values parse.
        let is_key_line = |l: &str| {
            l.strip_prefix("# ")
                .and_then(|r| r.split_once(" = "))
                .is_some_and(|(k, _)| {
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                })
        };
        let uncommented: String = sample
            .lines()
            .map(|l| if is_key_line(l) { &l[2..] } else { l })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            uncommented.matches(" = ").count() >= 15,
            "the sample documents its keys"
        );
        Config::from_sources(&uncommented, env(&[]))
            .expect("the sample's commented values must be valid when uncommented");
        for section in SECTIONS {
            assert!(
                sample.contains(&format!("[{section}]")),
                "sample lacks [{section}]"
            );
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let file = "[server]\nbind = \"127.0.0.1:4000\"\n[library]\nname = { fi = \"Kirjasto\", en = \"Library\" }\n";
        let c = Config::from_sources(
            file,
            env(&[
                ("KAUKO_SERVER_BIND", "0.0.0.0:8080"),
                ("KAUKO_DEMO_SEED", "true"),
                ("KAUKO_ALMA_MAX_CALLS_PER_SECOND", "7"),
                (
                    "KAUKO_REQUESTS_CANCELLABLE_STATUSES",
                    "[\"PENDING_APPROVAL\"]",
                ),
                ("KAUKO_CONFIG", "/elsewhere.toml"),
                ("KAUKO_TEST_POSTGRES_URL", "x"),
                ("PATH", "/usr/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(c.server.bind.to_string(), "0.0.0.0:8080");
        assert!(c.demo.seed);
        assert_eq!(c.alma.max_calls_per_second, 7);
        assert_eq!(c.requests.cancellable_statuses, ["PENDING_APPROVAL"]);
        assert_eq!(c.site_info().library_name.get(Lang::Fi), "Kirjasto");
        assert_eq!(c.site_info().library_name.get(Lang::Sv), "Library");
    }

    #[test]
    fn lookup_services_default_to_the_real_ones_and_take_env_overrides() {
        let c = Config::from_sources("", env(&[])).unwrap();
        assert_eq!(c.crossref.url, "https://api.crossref.org");
        assert_eq!(c.datacite.url, "https://api.datacite.org");
        assert_eq!(c.ncbi.url, "https://eutils.ncbi.nlm.nih.gov/entrez/eutils");
        assert_eq!(c.openlibrary.url, "https://openlibrary.org");
        assert_eq!(c.unpaywall.url, "https://api.unpaywall.org/v2");
        assert_eq!(c.ncbi.max_calls_per_second, 3);
        assert_eq!(c.lookup.contact_email, None);

        let c = Config::from_sources(
            "[crossref]\nmax_calls_per_second = 5\n",
            env(&[
                ("KAUKO_CROSSREF_URL", "http://127.0.0.1:9001"),
                ("KAUKO_DATACITE_URL", "http://127.0.0.1:9002"),
                ("KAUKO_NCBI_URL", "http://127.0.0.1:9003"),
                ("KAUKO_OPENLIBRARY_URL", "http://127.0.0.1:9004"),
                ("KAUKO_UNPAYWALL_URL", "http://127.0.0.1:9005"),
                ("KAUKO_NCBI_API_KEY", "secret"),
                ("KAUKO_LOOKUP_CONTACT_EMAIL", "ill@library.example.fi"),
                ("KAUKO_LOOKUP_TIMEOUT_MILLISECONDS", "1500"),
                ("KAUKO_LOOKUP_CACHE_TTL_SECONDS", "60"),
            ]),
        )
        .unwrap();
        assert_eq!(c.crossref.url, "http://127.0.0.1:9001");
        assert_eq!(c.crossref.max_calls_per_second, 5);
        assert_eq!(c.datacite.url, "http://127.0.0.1:9002");
        assert_eq!(c.ncbi.url, "http://127.0.0.1:9003");
        assert_eq!(c.openlibrary.url, "http://127.0.0.1:9004");
        assert_eq!(c.unpaywall.url, "http://127.0.0.1:9005");
        assert_eq!(c.ncbi.api_key.as_deref(), Some("secret"));
        assert_eq!(
            c.lookup.contact_email.as_deref(),
            Some("ill@library.example.fi")
        );
        assert_eq!(c.lookup.timeout_milliseconds, 1500);
        assert_eq!(c.lookup.cache_ttl_seconds, 60);

        let e = Config::from_sources("", env(&[("KAUKO_UNPAYWALL_URL", "ftp://x")])).unwrap_err();
        assert_eq!(e.env, "KAUKO_UNPAYWALL_URL");
        let e = Config::from_sources("[ncbi]\nmax_calls_per_second = 0\n", env(&[])).unwrap_err();
        assert_eq!(e.key, "ncbi.max_calls_per_second");
        let e =
            Config::from_sources("[lookup]\ncontact_email = \"nobody\"\n", env(&[])).unwrap_err();
        assert_eq!(e.key, "lookup.contact_email");
    }

    #[test]
    fn alma_keys_have_defaults_env_overrides_and_checks() {
        let c = Config::from_sources("", env(&[])).unwrap();
        assert_eq!(c.alma.read_timeout_seconds, 8);
        assert_eq!(c.alma.write_timeout_seconds, 30);
        assert_eq!(c.alma.cache_seconds, 30);
        assert_eq!(c.alma.cancel_reason, "CancelledAtPatronRequest");
        assert!(!c.alma.override_blocks);

        let alma = [
            ("KAUKO_BACKEND_KIND", "alma"),
            ("KAUKO_ALMA_URL", "https://api-eu.hosted.exlibrisgroup.com"),
            ("KAUKO_ALMA_API_KEY", "l7xx-secret"),
        ];
        let with = |extra: &[(&str, &str)]| {
            let mut all = alma.to_vec();
            all.extend_from_slice(extra);
            Config::from_sources("", env(&all))
        };
        let c = with(&[
            ("KAUKO_ALMA_READ_TIMEOUT_SECONDS", "3"),
            ("KAUKO_ALMA_WRITE_TIMEOUT_SECONDS", "45"),
            ("KAUKO_ALMA_CACHE_SECONDS", "0"),
            ("KAUKO_ALMA_CANCEL_REASON", "PatronCancel"),
            ("KAUKO_ALMA_OVERRIDE_BLOCKS", "true"),
            ("KAUKO_ALMA_RS_LIBRARY", "RES_SHARE"),
        ])
        .unwrap();
        assert_eq!(c.alma.read_timeout_seconds, 3);
        assert_eq!(c.alma.write_timeout_seconds, 45);
        assert_eq!(c.alma.cache_seconds, 0);
        assert_eq!(c.alma.cancel_reason, "PatronCancel");
        assert!(c.alma.override_blocks);
        assert_eq!(c.alma.rs_library.as_deref(), Some("RES_SHARE"));

        for (var, key) in [
            (
                "KAUKO_ALMA_READ_TIMEOUT_SECONDS",
                "alma.read_timeout_seconds",
            ),
            (
                "KAUKO_ALMA_WRITE_TIMEOUT_SECONDS",
                "alma.write_timeout_seconds",
            ),
            (
                "KAUKO_ALMA_MAX_CALLS_PER_SECOND",
                "alma.max_calls_per_second",
            ),
        ] {
            let e = with(&[(var, "0")]).unwrap_err();
            assert_eq!((e.key.as_str(), e.env.as_str()), (key, var));
        }
        assert_eq!(
            with(&[("KAUKO_ALMA_CACHE_SECONDS", "86400")])
                .unwrap_err()
                .key,
            "alma.cache_seconds"
        );
        assert_eq!(
            with(&[("KAUKO_ALMA_CANCEL_REASON", " ")]).unwrap_err().key,
            "alma.cancel_reason"
        );
    }

    #[test]
    fn outbox_settings_are_checked() {
        let c = Config::from_sources("", env(&[])).unwrap();
        assert_eq!(c.outbox.lease_seconds, 120);
        assert_eq!(c.outbox.inline_wait_milliseconds, 3000);
        let c = Config::from_sources(
            "[outbox]\npoll_interval_milliseconds = 50\n",
            env(&[("KAUKO_OUTBOX_INLINE_WAIT_MILLISECONDS", "0")]),
        )
        .unwrap();
        assert_eq!(c.outbox.poll_interval_milliseconds, 50);
        assert_eq!(c.outbox.inline_wait_milliseconds, 0);
        let key = |toml: &str| Config::from_sources(toml, env(&[])).unwrap_err().key;
        assert_eq!(
            key("[outbox]\npoll_interval_milliseconds = 0"),
            "outbox.poll_interval_milliseconds"
        );
        assert_eq!(key("[outbox]\nlease_seconds = 1"), "outbox.lease_seconds");
        assert_eq!(
            key("[outbox]\nmax_backoff_seconds = 0"),
            "outbox.max_backoff_seconds"
        );
        assert_eq!(
            key("[outbox]\nmax_backoff_seconds = 1\nfirst_backoff_milliseconds = 5000"),
            "outbox.first_backoff_milliseconds"
        );
        assert_eq!(
            key("[outbox]\nlease_seconds = 10\ninline_wait_milliseconds = 6000"),
            "outbox.inline_wait_milliseconds"
        );
    }

    #[test]
    fn mail_and_lending_settings_are_checked() {
        let c = Config::from_sources("", env(&[])).unwrap();
        assert_eq!(c.mail.smtp_host, None);
        assert_eq!(c.mail_folder(), PathBuf::from("data/mail"));
        let c = Config::from_sources(
            "[database]\nurl = \"sqlite:///var/lib/kauko/kauko.db\"\n",
            env(&[]),
        )
        .unwrap();
        assert_eq!(c.mail_folder(), PathBuf::from("/var/lib/kauko/mail"));
        assert_eq!(c.lending.max_requests_per_minute, 10);
        let c = Config::from_sources(
            "[mail]\nsmtp_host = \"smtp.example.fi\"\ntls = \"none\"\n",
            env(&[
                ("KAUKO_MAIL_SMTP_PORT", "2525"),
                ("KAUKO_MAIL_USERNAME", "kauko"),
                ("KAUKO_MAIL_PASSWORD", "secret"),
            ]),
        )
        .unwrap();
        assert_eq!((c.mail.smtp_port, c.mail.tls), (2525, MailTls::None));
        let key = |toml: &str| Config::from_sources(toml, env(&[])).unwrap_err().key;
        assert_eq!(key("[mail]\nfrom = \"nobody\""), "mail.from");
        assert_eq!(key("[mail]\ntls = \"ssl\""), "mail.tls");
        assert_eq!(key("[mail]\nretries = 21"), "mail.retries");
        assert_eq!(
            key("[mail]\nfirst_retry_seconds = 0"),
            "mail.first_retry_seconds"
        );
        assert_eq!(
            key("[mail]\nsmtp_host = \"smtp.example.fi\"\nusername = \"kauko\""),
            "mail.password"
        );
        assert_eq!(
            key("[lending]\nmax_requests_per_minute = 0"),
            "lending.max_requests_per_minute"
        );
    }

    #[test]
    fn each_problem_names_its_key() {
        let err = |toml: &str, e: &[(&str, &str)]| Config::from_sources(toml, env(e)).unwrap_err();

        let e = err("[backend]\nkind = \"koha\"", &[]);
        assert_eq!(
            (e.key.as_str(), e.env.as_str()),
            ("backend.kind", "KAUKO_BACKEND_KIND")
        );
        assert!(
            e.message.contains("unknown variant `koha`"),
            "{}",
            e.message
        );

        let e = err(
            "",
            &[
                ("KAUKO_BACKEND_KIND", "alma"),
                ("KAUKO_ALMA_URL", "https://api-eu.hosted.exlibrisgroup.com"),
            ],
        );
        assert_eq!(e.key, "alma.api_key");
        assert_eq!(e.to_string(), "configuration error: alma.api_key (KAUKO_ALMA_API_KEY): required when backend.kind = \"alma\"");

        let e = err("", &[("KAUKO_BACKEND_KIND", "alma")]);
        assert_eq!(e.key, "alma.url");

        let e = err("[database]\nurl = \"mysql://root:secret@localhost/x\"", &[]);
        assert_eq!(e.key, "database.url");
        assert!(
            e.message.contains("root:***@localhost") && !e.message.contains("secret"),
            "{}",
            e.message
        );

        let e = err("[server]\nbind = \"nonsense\"", &[]);
        assert_eq!(e.key, "server.bind");

        let e = err("[server]\nport = 3000", &[]);
        assert_eq!(e.key, "server.port");
        assert!(e.message.contains("unknown field `port`"), "{}", e.message);

        let e = err("", &[("KAUKO_SERVR_BIND", "x")]);
        assert_eq!(e.env, "KAUKO_SERVR_BIND");
        assert!(e.message.contains("unknown section"));

        let e = err("[server", &[]);
        assert_eq!(e.key, "config");
    }
}
