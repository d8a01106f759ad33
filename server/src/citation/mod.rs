//! Citation lookup over the outside metadata services: the server's
//! implementation of [`app::lookup::CitationLookup`].
//!
//! - DOI → Crossref `/works/{doi}`. Crossref answers 404 for DOIs another
//!   registration agency holds, so on a 404 Kauko asks DataCite
//!   `/dois/{doi}` (ill-domain.md §3.3: "use DataCite when … Crossref
//!   answers 404"). This costs no extra call for the common case (a
//!   Crossref DOI), unlike asking `/works/{doi}/agency` first. When neither
//!   knows the DOI (mEDRA, JaLC, … or a typo) the answer is
//!   `NotFound { Crossref }`.
//! - PMID → NCBI E-utilities esummary (JSON).
//! - ISBN → Open Library Books API, then the edition record.
//! - Open access → Unpaywall (only with `lookup.contact_email`, which
//!   Unpaywall requires). Its 404 (a DOI Unpaywall does not know, e.g. every
//!   DataCite DOI) means "no known free copy".
//!
//! Every service has its own rate limiter (calls wait their turn, at most
//! the timeout, then fail as `RateLimited`), one shared HTTP client with a
//! timeout and an identifying User-Agent, and answers are cached in the
//! database (`citation_cache`) for `lookup.cache_ttl_seconds`. Failures
//! map to [`LookupError`]: 404/410 → `NotFound`, 429 → `RateLimited`,
//! timeouts → `Timeout`, connection errors and 5xx → `Unavailable`,
//! unreadable bodies → `BadResponse`. Nothing here panics on any input.

pub mod crossref;
pub mod datacite;
pub mod openlibrary;
pub mod pubmed;
pub mod text;
pub mod unpaywall;

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use app::domain::identifiers::Identifier;
use app::lookup::{CitationLookup, Found, LookupError, OpenAccessCopy, Service};
use async_trait::async_trait;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::Config;
use crate::storage::{ts, Db};

/// A body Kauko could not read, with a reason for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable answer: {0}")]
pub struct Unreadable(pub String);

impl Unreadable {
    pub fn new(reason: &str) -> Self {
        Self(reason.to_owned())
    }
    pub fn json(e: serde_json::Error) -> Self {
        Self(format!("not JSON: {e}"))
    }
}

/// Longest answer body read from a service.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Characters kept as they are in a DOI path segment; `/` stays a slash
/// (Crossref and DataCite take DOIs with their slash unescaped).
/// A DOI as one path segment: its `/` (and everything else but the
/// unreserved characters) percent-encoded, so `10.1/../../x` cannot climb
/// out of `/works/` on the service's host. (A DOI begins with `10.`, so the
/// segment is never `.` or `..`.)
const DOI_PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One path segment for an upstream call: percent-encoded, and refused
/// when it would be a dot segment.
fn segment(id: &str) -> Option<String> {
    let encoded = utf8_percent_encode(id, DOI_PATH).to_string();
    (!encoded.is_empty() && encoded != "." && encoded != "..").then_some(encoded)
}

/// Follows a redirect only on the host (and port) the call went to, at
/// most five times: a service's answer cannot send Kauko elsewhere.
fn same_host_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().cloned();
        let same = first.is_some_and(|f| {
            f.scheme() == attempt.url().scheme()
                && f.host_str() == attempt.url().host_str()
                && f.port_or_known_default() == attempt.url().port_or_known_default()
        });
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if same {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// One service: its base URL and its rate limiter.
struct Upstream {
    service: Service,
    base: String,
    limiter: DefaultDirectRateLimiter,
}

impl Upstream {
    fn new(service: Service, url: &str, per_second: u32) -> Self {
        let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        // Burst 1: calls are spaced evenly, never bunched.
        let quota = Quota::per_second(rate).allow_burst(NonZeroU32::MIN);
        Self {
            service,
            base: url.trim_end_matches('/').to_owned(),
            limiter: RateLimiter::direct(quota),
        }
    }
}

/// What the lookup is configured with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub contact_email: Option<String>,
    pub timeout: Duration,
    pub cache_ttl: Duration,
    pub open_access: bool,
    pub ncbi_tool: String,
    pub ncbi_api_key: Option<String>,
}

/// The lookup over Crossref, DataCite, PubMed, Open Library and Unpaywall.
pub struct Lookup {
    client: reqwest::Client,
    settings: Settings,
    crossref: Upstream,
    datacite: Upstream,
    pubmed: Upstream,
    openlibrary: Upstream,
    unpaywall: Upstream,
    cache: Cache,
}

impl Lookup {
    pub fn from_config(config: &Config, db: &Db) -> Self {
        let contact_email = config
            .lookup
            .contact_email
            .clone()
            .filter(|e| !e.trim().is_empty());
        let settings = Settings {
            contact_email,
            timeout: Duration::from_millis(config.lookup.timeout_milliseconds.max(1)),
            cache_ttl: Duration::from_secs(config.lookup.cache_ttl_seconds),
            open_access: config.lookup.open_access,
            ncbi_tool: config.ncbi.tool.clone(),
            ncbi_api_key: config.ncbi.api_key.clone().filter(|k| !k.trim().is_empty()),
        };
        let user_agent = match &settings.contact_email {
            Some(email) => format!(
                "Kauko/{} (interlibrary loan portal; mailto:{email})",
                env!("CARGO_PKG_VERSION")
            ),
            None => format!(
                "Kauko/{} (interlibrary loan portal)",
                env!("CARGO_PKG_VERSION")
            ),
        };
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(same_host_redirects())
            .build()
            .unwrap_or_default();
        Self {
            client,
            crossref: Upstream::new(
                Service::Crossref,
                &config.crossref.url,
                config.crossref.max_calls_per_second,
            ),
            datacite: Upstream::new(
                Service::Datacite,
                &config.datacite.url,
                config.datacite.max_calls_per_second,
            ),
            pubmed: Upstream::new(
                Service::Pubmed,
                &config.ncbi.url,
                config.ncbi.max_calls_per_second,
            ),
            openlibrary: Upstream::new(
                Service::Openlibrary,
                &config.openlibrary.url,
                config.openlibrary.max_calls_per_second,
            ),
            unpaywall: Upstream::new(
                Service::Unpaywall,
                &config.unpaywall.url,
                config.unpaywall.max_calls_per_second,
            ),
            cache: Cache {
                db: db.clone(),
                ttl: settings.cache_ttl,
                writes: Arc::new(AtomicU64::new(0)),
                max_entries: config.lookup.cache_max_entries.max(1),
            },
            settings,
        }
    }

    /// One GET to a service, after its rate limiter lets it through.
    async fn get(
        &self,
        upstream: &Upstream,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<u8>, LookupError> {
        let service = upstream.service;
        if tokio::time::timeout(self.settings.timeout, upstream.limiter.until_ready())
            .await
            .is_err()
        {
            tracing::warn!(
                service = service.display_name(),
                "lookup: waited too long for the rate limiter"
            );
            return Err(LookupError::RateLimited { service });
        }
        let url = format!("{}{path}", upstream.base);
        let started = std::time::Instant::now();
        let result = self.fetch(service, &url, query).await;
        let outcome = match &result {
            Ok(_) => "ok".to_owned(),
            Err(e) => format!("{e:?}"),
        };
        tracing::debug!(service = service.display_name(), path, ms = started.elapsed().as_millis() as u64, outcome = %outcome, "lookup call");
        result
    }

    async fn fetch(
        &self,
        service: Service,
        url: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<u8>, LookupError> {
        let transport = |e: reqwest::Error| {
            // The URL carries NCBI's api_key and the contact address: never
            // in a log line.
            let e = e.without_url();
            if e.is_timeout() {
                LookupError::Timeout { service }
            } else if e.is_decode() || e.is_body() {
                LookupError::BadResponse { service }
            } else {
                tracing::warn!(service = service.display_name(), error = %e, "lookup: service unreachable");
                LookupError::Unavailable { service }
            }
        };
        let mut response = self
            .client
            .get(url)
            .query(query)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        match status.as_u16() {
            200..=299 => {}
            404 | 410 => return Err(LookupError::NotFound { service }),
            429 => return Err(LookupError::RateLimited { service }),
            400 => return Err(LookupError::NotFound { service }),
            code => {
                tracing::warn!(
                    service = service.display_name(),
                    status = code,
                    "lookup: service answered with an error"
                );
                return Err(if code >= 500 || matches!(code, 401 | 403 | 422) {
                    LookupError::Unavailable { service }
                } else {
                    LookupError::BadResponse { service }
                });
            }
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                tracing::warn!(service = service.display_name(), "lookup: answer too large");
                return Err(LookupError::BadResponse { service });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn unreadable(service: Service, e: Unreadable) -> LookupError {
        tracing::warn!(service = service.display_name(), error = %e, "lookup: unreadable answer");
        LookupError::BadResponse { service }
    }

    async fn doi(&self, doi: &str) -> Result<Found, LookupError> {
        let not_found = LookupError::NotFound {
            service: Service::Crossref,
        };
        let Some(doi_segment) = segment(doi) else {
            return Err(not_found);
        };
        let path = format!("/works/{doi_segment}");
        let mailto: Vec<(&str, &str)> = self
            .settings
            .contact_email
            .as_deref()
            .map(|e| ("mailto", e))
            .into_iter()
            .collect();
        match self.get(&self.crossref, &path, &mailto).await {
            Ok(body) => {
                let citation = crossref::parse_work(&body)
                    .map_err(|e| Self::unreadable(Service::Crossref, e))?;
                Ok(Found {
                    citation,
                    source: Service::Crossref,
                })
            }
            Err(LookupError::NotFound { .. }) => {
                let path = format!("/dois/{doi_segment}");
                match self.get(&self.datacite, &path, &[]).await {
                    Ok(body) => {
                        let citation = datacite::parse_doi(&body)
                            .map_err(|e| Self::unreadable(Service::Datacite, e))?;
                        Ok(Found {
                            citation,
                            source: Service::Datacite,
                        })
                    }
                    Err(LookupError::NotFound { .. }) => Err(LookupError::NotFound {
                        service: Service::Crossref,
                    }),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn pmid(&self, pmid: &str) -> Result<Found, LookupError> {
        let mut query = vec![
            ("db", "pubmed"),
            ("id", pmid),
            ("retmode", "json"),
            ("tool", self.settings.ncbi_tool.as_str()),
        ];
        if let Some(email) = self.settings.contact_email.as_deref() {
            query.push(("email", email));
        }
        if let Some(key) = self.settings.ncbi_api_key.as_deref() {
            query.push(("api_key", key));
        }
        let body = self.get(&self.pubmed, "/esummary.fcgi", &query).await?;
        match pubmed::parse_esummary(&body, pmid) {
            Ok(Some(citation)) => Ok(Found {
                citation,
                source: Service::Pubmed,
            }),
            Ok(None) => Err(LookupError::NotFound {
                service: Service::Pubmed,
            }),
            Err(e) => Err(Self::unreadable(Service::Pubmed, e)),
        }
    }

    async fn isbn(&self, isbn: &str) -> Result<Found, LookupError> {
        let service = Service::Openlibrary;
        let bibkey = format!("ISBN:{isbn}");
        let query = [
            ("bibkeys", bibkey.as_str()),
            ("format", "json"),
            ("jscmd", "data"),
        ];
        let body = self.get(&self.openlibrary, "/api/books", &query).await?;
        if let Some(citation) =
            openlibrary::parse_books(&body, isbn).map_err(|e| Self::unreadable(service, e))?
        {
            return Ok(Found {
                citation,
                source: service,
            });
        }
        // Not in the Books API: the edition record may still have it.
        let Some(isbn_segment) = segment(isbn) else {
            return Err(LookupError::NotFound { service });
        };
        let body = self
            .get(
                &self.openlibrary,
                &format!("/isbn/{isbn_segment}.json"),
                &[],
            )
            .await?;
        let (mut citation, author_keys) =
            openlibrary::parse_edition(&body, isbn).map_err(|e| Self::unreadable(service, e))?;
        // Author keys come from the answer: only `/authors/OL…A` is asked.
        let author_keys = author_keys.iter().filter(|k| {
            k.strip_prefix("/authors/OL")
                .and_then(|r| r.strip_suffix('A'))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
        for key in author_keys.take(5) {
            match self
                .get(&self.openlibrary, &format!("{key}.json"), &[])
                .await
            {
                Ok(body) => citation.authors.extend(openlibrary::parse_author(&body)),
                Err(e) => {
                    tracing::info!(error = ?e, "lookup: an Open Library author name was not found");
                }
            }
        }
        Ok(Found {
            citation,
            source: service,
        })
    }
}

fn cache_key(id: &Identifier) -> String {
    match id {
        Identifier::Doi(d) => format!("doi:{d}"),
        Identifier::Pmid(p) => format!("pmid:{p}"),
        Identifier::Isbn(i) => format!("isbn:{i}"),
    }
}

#[async_trait]
impl CitationLookup for Lookup {
    async fn lookup(&self, id: &Identifier) -> Result<Found, LookupError> {
        let key = cache_key(id);
        if let Some(found) = self.cache.get::<Found>(&key).await {
            return Ok(found);
        }
        let found = match id {
            Identifier::Doi(d) => self.doi(d).await?,
            Identifier::Pmid(p) => self.pmid(p).await?,
            Identifier::Isbn(i) => self.isbn(i).await?,
        };
        self.cache.put(&key, &found).await;
        Ok(found)
    }

    async fn open_access(&self, doi: &str) -> Result<Option<OpenAccessCopy>, LookupError> {
        let Some(email) = self.settings.contact_email.as_deref() else {
            return Ok(None);
        };
        let Some(doi) = app::domain::identifiers::normalize_doi(doi) else {
            return Ok(None);
        };
        if !self.settings.open_access {
            return Ok(None);
        }
        let key = format!("oa:{doi}");
        if let Some(copy) = self.cache.get::<Option<OpenAccessCopy>>(&key).await {
            return Ok(copy);
        }
        let Some(path) = segment(&doi).map(|s| format!("/{s}")) else {
            return Ok(None);
        };
        let copy = match self.get(&self.unpaywall, &path, &[("email", email)]).await {
            Ok(body) => {
                unpaywall::parse(&body).map_err(|e| Self::unreadable(Service::Unpaywall, e))?
            }
            Err(LookupError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        self.cache.put(&key, &copy).await;
        Ok(copy)
    }
}

/// Answers kept in the database until they expire. A database problem is
/// logged and treated as a miss: the lookup still works without a cache.
struct Cache {
    db: Db,
    ttl: Duration,
    writes: Arc<AtomicU64>,
    /// The most entries kept; the oldest go first beyond it.
    max_entries: u64,
}

impl Cache {
    async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        if self.ttl.is_zero() {
            return None;
        }
        let now = ts(chrono::Utc::now());
        let row: Result<Option<(String,)>, sqlx::Error> = sqlx::query_as(
            "SELECT payload FROM citation_cache WHERE cache_key = $1 AND expires_at > $2",
        )
        .bind(key)
        .bind(now)
        .fetch_optional(&self.db.pool)
        .await;
        match row {
            Ok(Some((payload,))) => serde_json::from_str(&payload).ok(),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "lookup cache: read failed");
                None
            }
        }
    }

    async fn put<T: Serialize>(&self, key: &str, value: &T) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(payload) = serde_json::to_string(value) else {
            return;
        };
        let now = chrono::Utc::now();
        let ttl = chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::days(3650));
        let expires = now
            .checked_add_signed(ttl)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
        let result = sqlx::query(
            "INSERT INTO citation_cache (cache_key, payload, fetched_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (cache_key) DO UPDATE SET payload = excluded.payload, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at",
        )
        .bind(key)
        .bind(payload)
        .bind(ts(now))
        .bind(ts(expires))
        .execute(&self.db.pool)
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "lookup cache: write failed");
            return;
        }
        // Now and then (often enough that the cap holds within a tenth),
        // drop what has expired and the oldest beyond the cap: look-ups of
        // ever new identifiers cannot grow the table without end.
        let every = (self.max_entries / 10).clamp(1, 200);
        if self.writes.fetch_add(1, Ordering::Relaxed) % every == 0 {
            if let Err(e) = sqlx::query("DELETE FROM citation_cache WHERE expires_at <= $1")
                .bind(ts(now))
                .execute(&self.db.pool)
                .await
            {
                tracing::warn!(error = %e, "lookup cache: purge failed");
            }
            let over_cap = sqlx::query(
                "DELETE FROM citation_cache WHERE fetched_at < \
                 (SELECT fetched_at FROM citation_cache ORDER BY fetched_at DESC LIMIT 1 OFFSET $1)",
            )
            .bind(i64::try_from(self.max_entries - 1).unwrap_or(i64::MAX))
            .execute(&self.db.pool)
            .await;
            if let Err(e) = over_cap {
                tracing::warn!(error = %e, "lookup cache: trimming to its cap failed");
            }
        }
    }
}
