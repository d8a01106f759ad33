//! The Alma adapter: the resource-sharing port over Ex Libris Alma's REST
//! API (`shared/reference/alma-api.md`).
//!
//! - `wire`: Alma's JSON as serde types; `errors`: Alma's error envelopes
//!   and what they mean for the port; `client`: HTTP, the API key, the
//!   shared rate limiter, retries of throttled calls, timeouts, counters;
//!   `cache`: a patron's reads kept briefly; `records`: what Kauko keeps
//!   itself; `mapping`: Kauko's domain ↔ Alma's objects.
//! - Listing: Alma cannot list a patron's RS requests, so Kauko records
//!   each one it creates and adds the RS requests linked from the patron's
//!   user requests (`GET /users/{id}/requests`, `resource_sharing.id`),
//!   then reads each one.
//! - Creating: the external id is reserved in Kauko's database before the
//!   create is sent, so the same id is never sent twice at once. A create
//!   that gets no answer is never sent again blindly: Kauko asks Alma for
//!   the external id (`request_id_type=external`) and takes what it finds.
//! - Patrons see only their own requests: every call names the patron in
//!   its path, and a request Kauko recorded for another patron is "not
//!   found" without asking Alma.
//! - The mirror (`mirror`): Alma sends no webhook when an RS request
//!   changes, so everything read is kept in Kauko's database, each change
//!   written once into the request's history, and re-read by a background
//!   sync (`sync`) at its share of the call budget (`budget`), which all
//!   instances on one database share. My requests is served from the
//!   mirror; a stale one is read again for the patron, first in line.

pub mod budget;
pub mod cache;
pub mod client;
pub mod errors;
pub mod lending;
pub mod mapping;
pub mod mirror;
pub mod records;
pub mod sync;
pub mod wire;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use app::domain::history::Actor;
use app::domain::{
    BorrowingRequest, BorrowingStatus, IllLoan, LendingRequest, LendingStatus, NewBorrowingRequest,
    NewLendingRequest, Partner, PatronId,
};
use async_trait::async_trait;
use chrono::Utc;
use futures::StreamExt;
use reqwest::Method;
use serde_json::Value;

pub use client::AlmaStats;

use budget::Budget;
use cache::{Cached, PatronCache};
use client::{CallError, Client, ClientSettings, Counters};
use mirror::{Mirror, MirrorSettings, PatronPicture};
use records::{db_err, RecordState, Reservation};
use wire::{
    code, AlmaPartner, ItemLoan, ItemLoans, PartnerList, RsRequest, UserRequest, UserRequests,
};

use crate::config::{Config, ConfigError};
use crate::port::{
    self, Freshness, Page, PortError, PortResult, Refusal, ResourceSharing, Snapshot,
};
use crate::storage::Db;

/// Everything the Alma adapter is configured with.
#[derive(Clone, Debug)]
pub struct AlmaSettings {
    /// Regional API base, e.g. `https://api-eu.hosted.exlibrisgroup.com`
    /// (`/almaws/v1` is added).
    pub base_url: String,
    pub api_key: String,
    /// The RS library code: sent as `owner`, and ILL loans are the loans
    /// of this library. Unset: no owner is sent and every loan is listed.
    pub rs_library: Option<String>,
    /// Kauko's ceiling on calls per second, across all users and all
    /// instances on one database.
    pub max_calls_per_second: u32,
    /// The background sync's share of that ceiling, in per cent.
    pub sync_share_percent: u32,
    /// Whether this instance runs the background sync.
    pub sync: bool,
    /// How often the mirror is read again, and when it is stale.
    pub mirror: MirrorSettings,
    /// The longest wait for a turn at the limiter (then `RateLimited`).
    pub max_wait: Duration,
    pub read_timeout: Duration,
    pub write_timeout: Duration,
    /// How long a patron's reads are reused; zero turns the cache off.
    pub cache_ttl: Duration,
    /// `RequestCancellationReasons` code sent with a patron's cancel.
    pub cancel_reason: String,
    pub override_blocks: bool,
    /// Statuses in which a patron may cancel.
    pub cancellable_statuses: Vec<BorrowingStatus>,
    /// Renewals Kauko makes per loan.
    pub max_renewals: u32,
    /// How often the lending task list is read (`None`: never).
    pub lending_every: Option<Duration>,
    /// The lending statuses whose task lists are read.
    pub lending_statuses: Vec<String>,
    /// Waits before retrying a throttled (429) call; after the last,
    /// `RateLimited`.
    pub retry_backoff: Vec<Duration>,
}

impl AlmaSettings {
    /// Defaults for everything but where Alma is and the key.
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        let config = Config::default();
        Self {
            base_url: base_url.into(),
            api_key: api_key.into(),
            rs_library: None,
            max_calls_per_second: config.alma.max_calls_per_second,
            sync_share_percent: config.alma.sync_share_percent,
            sync: config.alma.sync,
            mirror: mirror_settings(&config),
            max_wait: Duration::from_millis(config.alma.max_wait_milliseconds),
            read_timeout: Duration::from_secs(config.alma.read_timeout_seconds),
            write_timeout: Duration::from_secs(config.alma.write_timeout_seconds),
            cache_ttl: Duration::from_secs(config.alma.cache_seconds),
            cancel_reason: config.alma.cancel_reason.clone(),
            override_blocks: config.alma.override_blocks,
            cancellable_statuses: cancellable(&config),
            max_renewals: config.requests.max_renewals,
            lending_every: lending_every(&config),
            lending_statuses: config.alma.lending_statuses.clone(),
            retry_backoff: [500, 1000, 2000]
                .into_iter()
                .map(Duration::from_millis)
                .collect(),
        }
    }

    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let alma = &config.alma;
        let required = |value: &Option<String>, key: &str| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| ConfigError::new(key, "required when backend.kind = \"alma\""))
        };
        let mut settings = Self::new(
            required(&alma.url, "alma.url")?,
            required(&alma.api_key, "alma.api_key")?,
        );
        settings.rs_library = alma
            .rs_library
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        settings.max_calls_per_second = alma.max_calls_per_second.max(1);
        settings.sync_share_percent = alma.sync_share_percent.clamp(1, 100);
        settings.sync = alma.sync;
        settings.mirror = mirror_settings(config);
        settings.max_wait = Duration::from_millis(alma.max_wait_milliseconds.max(1));
        settings.read_timeout = Duration::from_secs(alma.read_timeout_seconds.max(1));
        settings.write_timeout = Duration::from_secs(alma.write_timeout_seconds.max(1));
        settings.cache_ttl = Duration::from_secs(alma.cache_seconds);
        settings.cancel_reason = alma.cancel_reason.trim().to_owned();
        settings.override_blocks = alma.override_blocks;
        settings.cancellable_statuses = cancellable(config);
        settings.max_renewals = config.requests.max_renewals;
        settings.lending_every = lending_every(config);
        settings.lending_statuses = alma
            .lending_statuses
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(settings)
    }
}

fn lending_every(config: &Config) -> Option<Duration> {
    (config.alma.lending_sync_seconds > 0)
        .then(|| Duration::from_secs(config.alma.lending_sync_seconds))
}

fn mirror_settings(config: &Config) -> MirrorSettings {
    let alma = &config.alma;
    MirrorSettings {
        active_every: Duration::from_secs(alma.sync_active_seconds.max(1)),
        closed_every: Duration::from_secs(alma.sync_closed_seconds.max(1)),
        forget_after: Duration::from_secs(alma.sync_forget_days.saturating_mul(86_400)),
        stale_after: Duration::from_secs(alma.mirror_stale_seconds),
        ..MirrorSettings::default()
    }
}

fn cancellable(config: &Config) -> Vec<BorrowingStatus> {
    config
        .requests
        .cancellable_statuses
        .iter()
        .map(|c| BorrowingStatus::from_code(c))
        .collect()
}

/// How many RS requests are read from Alma at once when listing.
const LIST_CONCURRENCY: usize = 4;
/// Alma's largest page.
const PAGE: u64 = 100;
/// Codes Alma answers for a lending request or partner it does not have.
const LENDING_NOT_FOUND: &[&str] = &["40166411", "40166412", "402118", "401694"];
/// The history action of a change Kauko saw in Alma.
pub const SEEN_IN_ALMA: &str = "alma_status";

pub struct AlmaBackend {
    db: Db,
    settings: AlmaSettings,
    /// Calls as a patron's; `client.for_sync()` as the sync's.
    client: Client,
    cache: PatronCache,
    counters: Arc<Counters>,
    mirror: Mirror,
    /// Lending requests, mirrored for the fee ledger (`lending.rs`).
    lending: lending::LendingMirror,
    /// One patron's first read at a time (My requests asks for requests
    /// and loans at once).
    first_reads: moka::future::Cache<String, Arc<tokio::sync::Mutex<()>>>,
}

impl AlmaBackend {
    pub fn new(db: Db, settings: AlmaSettings) -> Result<Self, ConfigError> {
        if !(settings.base_url.starts_with("https://") || settings.base_url.starts_with("http://"))
        {
            return Err(ConfigError::new("alma.url", "must be an http(s) URL"));
        }
        let counters = Arc::new(Counters::default());
        let budget = Budget::new(
            db.clone(),
            settings.max_calls_per_second,
            settings.sync_share_percent,
        );
        let client = Client::new(
            &ClientSettings {
                base_url: settings.base_url.clone(),
                api_key: settings.api_key.clone(),
                max_wait: settings.max_wait,
                read_timeout: settings.read_timeout,
                write_timeout: settings.write_timeout,
                retry_backoff: settings.retry_backoff.clone(),
            },
            budget,
            counters.clone(),
        )
        .map_err(|e| ConfigError::new("alma.url", format!("cannot set up HTTP: {e}")))?;
        Ok(Self {
            cache: PatronCache::new(settings.cache_ttl, counters.clone()),
            mirror: Mirror::new(db.clone(), settings.mirror.clone()),
            lending: lending::LendingMirror::new(db.clone()),
            first_reads: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(300))
                .build(),
            db,
            settings,
            client,
            counters,
        })
    }

    /// The mirror (for the sync and tests).
    pub fn mirror(&self) -> &Mirror {
        &self.mirror
    }

    /// Calls, retries, cache use and Alma's remaining call budget.
    pub fn stats(&self) -> AlmaStats {
        self.counters.snapshot()
    }

    pub fn settings(&self) -> &AlmaSettings {
        &self.settings
    }

    // --- Reads -------------------------------------------------------------

    /// One RS request of the patron; `fresh` skips the cache (for
    /// decisions such as cancelling).
    async fn fetch_rs(
        &self,
        via: &Client,
        patron: &PatronId,
        id: &str,
        fresh: bool,
    ) -> PortResult<Arc<RsRequest>> {
        let key = format!("rs:{id}");
        if !fresh {
            if let Some(Cached::Request(r)) = self.cache.get(patron.as_str(), &key).await {
                return Ok(r);
            }
        }
        let generation = self.cache.generation(patron.as_str()).await;
        let answer = via
            .get(
                &["users", patron.as_str(), "resource-sharing-requests", id],
                &[],
            )
            .await
            .map_err(not_found_for_unknown_user)?;
        let r = Arc::new(answer.json::<RsRequest>()?);
        self.cache
            .put(
                patron.as_str(),
                &key,
                generation,
                Cached::Request(r.clone()),
            )
            .await;
        Ok(r)
    }

    /// The patron's request with this external id, asked of Alma.
    async fn lookup_external(
        &self,
        patron: &PatronId,
        external_id: &str,
    ) -> PortResult<Option<RsRequest>> {
        match self
            .client
            .get(
                &[
                    "users",
                    patron.as_str(),
                    "resource-sharing-requests",
                    external_id,
                ],
                &[("request_id_type", "external")],
            )
            .await
        {
            Ok(answer) => {
                let r: RsRequest = answer.json()?;
                // Alma answers the request with that external id; check.
                let same = r
                    .external_id
                    .as_deref()
                    .is_none_or(|e| e.trim() == external_id.trim());
                Ok(same.then_some(r).filter(|r| r.request_id.is_some()))
            }
            Err(e) => match not_found_for_unknown_user(e) {
                PortError::NotFound => Ok(None),
                other => Err(other),
            },
        }
    }

    /// Notes Alma's current status on Kauko's record.
    async fn note_status(&self, record: Option<&records::BorrowingRecord>, r: &RsRequest) {
        let (Some(record), Some(status)) = (record, code(&r.status)) else {
            return;
        };
        if record.status.as_deref() == Some(status) {
            return;
        }
        if let Some(id) = &record.request_id {
            if let Err(e) = records::set_status(&self.db, id, status).await {
                tracing::warn!(error = %e, "cannot note an Alma request's status");
            }
        }
    }

    /// The record Kauko has of a request; `NotFound` when it is another
    /// patron's.
    async fn own_record(
        &self,
        patron: &PatronId,
        id: &str,
    ) -> PortResult<Option<records::BorrowingRecord>> {
        match records::by_request_id(&self.db, id).await? {
            Some(r) if r.patron_id != *patron => Err(PortError::NotFound),
            other => Ok(other),
        }
    }

    /// A request Alma has under this external id becomes Kauko's record:
    /// the reservation of what Kauko `sent` is confirmed, or, without one,
    /// a record is made from Alma's object.
    async fn settle(
        &self,
        patron: &PatronId,
        found: &RsRequest,
        external_id: &str,
        sent: Option<&NewBorrowingRequest>,
    ) -> PortResult<BorrowingRequest> {
        let id = found.request_id.clone().unwrap_or_default();
        match sent {
            Some(sent) => {
                records::confirm(&self.db, &sent.external_id, &id, code(&found.status)).await?
            }
            None => {
                let adopted = mapping::borrowing_request_from_alma(found, external_id);
                records::adopt(&self.db, patron, &adopted, &id, code(&found.status)).await?
            }
        }
        let record = records::by_request_id(&self.db, &id).await?;
        let created = mapping::borrowing_from(found, &id, patron, record.as_ref());
        self.observe(
            &created,
            code(&found.partner),
            Actor::Patron(patron.0.clone()),
            Actor::LibrarySystem,
            SEEN_IN_ALMA,
        )
        .await;
        Ok(created)
    }

    // --- The mirror ----------------------------------------------------------

    /// Records what Alma said of a request in the mirror (and its history).
    /// A failure is logged, not the caller's: the change happened in Alma,
    /// and the sync records it when it next reads the request.
    async fn observe(
        &self,
        r: &BorrowingRequest,
        partner: Option<&str>,
        creator: Actor,
        actor: Actor,
        action: &str,
    ) {
        if let Err(e) = self
            .mirror
            .observe(r, partner, creator, actor, action)
            .await
        {
            tracing::warn!(error = %e, request_id = %r.id, "cannot record an Alma request in the mirror; the sync will");
        }
    }

    /// Reads one RS request of the patron from Alma into the mirror;
    /// `None` when Alma no longer has it.
    async fn read_into_mirror(
        &self,
        via: &Client,
        patron: &PatronId,
        id: &str,
        record: Option<&records::BorrowingRecord>,
        fresh: bool,
    ) -> PortResult<Option<BorrowingRequest>> {
        match self.fetch_rs(via, patron, id, fresh).await {
            Ok(r) => {
                self.note_status(record, &r).await;
                let mapped = mapping::borrowing_from(&r, id, patron, record);
                self.observe(
                    &mapped,
                    code(&r.partner),
                    creator_of(patron, record),
                    Actor::LibrarySystem,
                    SEEN_IN_ALMA,
                )
                .await;
                Ok(Some(mapped))
            }
            // Alma no longer knows it (401694): left out from now on.
            Err(PortError::NotFound) => {
                tracing::info!(request_id = %id, "an RS request Alma no longer has is left out");
                self.mirror.gone(id).await.map_err(db_err)?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// What the mirror holds of the patron, once Alma has been read for
    /// them.
    async fn picture(&self, patron: &PatronId) -> PortResult<Option<PatronPicture>> {
        Ok(self
            .mirror
            .patron(patron)
            .await
            .map_err(db_err)?
            .filter(|p| p.listed_at.is_some()))
    }

    fn is_stale(&self, picture: &PatronPicture) -> bool {
        let limit =
            chrono::Duration::from_std(self.settings.mirror.stale_after).unwrap_or_default();
        picture.listed_at.is_none_or(|at| Utc::now() - at >= limit)
    }

    fn freshness_of(&self, picture: &PatronPicture) -> Option<Freshness> {
        Some(Freshness {
            as_of: picture.listed_at?,
            stale: self.is_stale(picture),
            unreachable: picture.failed_at.is_some(),
        })
    }

    /// Makes sure the mirror holds a current picture of the patron: read
    /// from Alma the first time and when stale, as the patron's look (first
    /// in line). When Alma cannot be asked, an older picture serves.
    async fn ensure_current(&self, patron: &PatronId) -> PortResult<()> {
        let before = self.picture(patron).await?;
        if let Some(p) = &before {
            if !self.is_stale(p) {
                if let Err(e) = self.mirror.viewing(patron, p, false).await {
                    tracing::warn!(error = %e, "cannot note a patron viewing their requests");
                }
                return Ok(());
            }
        }
        // My requests asks for requests and loans at once: one read.
        let lock = self
            .first_reads
            .get_with(patron.0.clone(), async { Arc::default() })
            .await;
        let _held = lock.lock().await;
        let now = self.picture(patron).await?;
        let listed = |p: &Option<PatronPicture>| p.as_ref().and_then(|p| p.listed_at);
        if listed(&now).is_some() && listed(&now) != listed(&before) {
            return Ok(());
        }
        match self.refresh_patron(&self.client, patron, true).await {
            Ok(()) => Ok(()),
            Err(e) if now.is_some() && e.is_transient() => {
                tracing::warn!(error = %e, "Alma cannot be asked; serving the mirror");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Reads the patron's picture from Alma into the mirror: their user
    /// requests (to find RS requests made outside Kauko), the requests
    /// due for a read (all of them when `everything`) and their loans.
    pub(crate) async fn refresh_patron(
        &self,
        via: &Client,
        patron: &PatronId,
        everything: bool,
    ) -> PortResult<()> {
        let first = self.picture(patron).await?.is_none();
        let result = self
            .read_patron(via, patron, everything || first, first)
            .await;
        if let Err(e) = &result {
            if let Err(db) = self.mirror.failed(patron, &e.to_string()).await {
                tracing::warn!(error = %db, "cannot note a failed read of a patron");
            }
        }
        result
    }

    async fn read_patron(
        &self,
        via: &Client,
        patron: &PatronId,
        everything: bool,
        with_history: bool,
    ) -> PortResult<()> {
        let statuses: &[&str] = if with_history {
            &["active", "history"]
        } else {
            &["active"]
        };
        let linked = self.user_requests(via, patron, statuses, true).await?;
        // What the listing shows of each RS request's status: after the
        // first read, an unchanged one is confirmed without reading it.
        let listed: HashMap<String, String> = linked
            .iter()
            .filter_map(|u| {
                let rs = u.resource_sharing.as_ref()?;
                let id = rs.id.clone().filter(|id| !id.trim().is_empty())?;
                Some((id, rs.status.as_ref()?.value.clone()?))
            })
            .collect();
        let check = if with_history {
            mirror::ListingCheck::default()
        } else {
            self.mirror
                .check_listing(patron, &listed)
                .await
                .map_err(db_err)?
        };
        let confirmed: HashSet<&String> = check.confirmed.iter().collect();
        let recorded = records::for_patron(&self.db, patron).await?;
        let known = self.mirror.ids_of(patron).await.map_err(db_err)?;
        let mut seen = HashSet::new();
        let mut wanted = Vec::new();
        let new_ids = recorded
            .iter()
            .filter_map(|r| r.request_id.clone())
            .chain(linked.iter().filter_map(|u| {
                u.resource_sharing
                    .as_ref()
                    .and_then(|rs| rs.id.clone())
                    .filter(|id| !id.trim().is_empty())
            }))
            .filter(|id| !known.contains(id));
        let due = self
            .mirror
            .due_requests_of(patron, everything)
            .await
            .map_err(db_err)?;
        for id in new_ids
            .chain(check.to_read.iter().cloned())
            .chain(due.into_iter().filter(|id| !confirmed.contains(id)))
        {
            if seen.insert(id.clone()) {
                wanted.push(id);
            }
        }
        let by_id: HashMap<String, records::BorrowingRecord> = recorded
            .into_iter()
            .filter_map(|r| Some((r.request_id.clone()?, r)))
            .collect();
        let by_id = &by_id;
        let read: Vec<PortResult<Option<BorrowingRequest>>> = futures::stream::iter(wanted)
            .map(|id| async move {
                self.read_into_mirror(via, patron, &id, by_id.get(&id), true)
                    .await
            })
            .buffered(LIST_CONCURRENCY)
            .collect()
            .await;
        for r in read {
            r?;
        }
        self.mirror
            .note_listing(patron, &listed, &seen)
            .await
            .map_err(db_err)?;
        // Loans apart: when they cannot be read, the requests still are
        // (My requests shows each part it has).
        let loans = match self.loans(via, patron, true).await {
            Ok(loans) => Some(self.ill_loans(patron, &loans, &linked).await?),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a patron's loans from Alma; keeping the mirror's");
                None
            }
        };
        self.mirror
            .listed(patron, loans.as_deref())
            .await
            .map_err(db_err)
    }

    /// The patron's ILL loans from Alma's loans, each with the RS request
    /// it came through (a loan names its user request, which names the RS
    /// request) and the renewals Kauko made; soonest due first.
    async fn ill_loans(
        &self,
        patron: &PatronId,
        loans: &[ItemLoan],
        links: &[UserRequest],
    ) -> PortResult<Vec<IllLoan>> {
        let renewals = records::all_renewals(&self.db, patron).await?;
        let rs_of = |user_request: Option<&str>| -> Option<String> {
            let user_request = user_request?;
            links
                .iter()
                .find(|u| u.request_id.as_deref() == Some(user_request))?
                .resource_sharing
                .as_ref()?
                .id
                .clone()
        };
        let mut out: Vec<IllLoan> = loans
            .iter()
            .filter(|l| self.is_ill_loan(l))
            .filter_map(|l| {
                let count = l
                    .loan_id
                    .as_deref()
                    .and_then(|id| renewals.get(id))
                    .copied()
                    .unwrap_or(0);
                mapping::loan_from(l, count, rs_of(code(&l.request_id)))
            })
            .collect();
        out.sort_by(|a, b| a.due_date.cmp(&b.due_date).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// The patron's user requests of these statuses (`active`, `history`;
    /// cached unless `fresh`).
    async fn user_requests(
        &self,
        via: &Client,
        patron: &PatronId,
        statuses: &[&str],
        fresh: bool,
    ) -> PortResult<Arc<Vec<UserRequest>>> {
        let key = format!("user-requests:{}", statuses.join(","));
        if !fresh {
            if let Some(Cached::UserRequests(r)) = self.cache.get(patron.as_str(), &key).await {
                return Ok(r);
            }
        }
        let generation = self.cache.generation(patron.as_str()).await;
        let mut all = Vec::new();
        for &status in statuses {
            let mut offset = 0u64;
            loop {
                let (limit, off) = (PAGE.to_string(), offset.to_string());
                let answer = via
                    .get(
                        &["users", patron.as_str(), "requests"],
                        &[("status", status), ("limit", &limit), ("offset", &off)],
                    )
                    .await;
                let page: UserRequests = match answer {
                    Ok(a) => a.json()?,
                    Err(e) if e.is_unknown_user() => break,
                    Err(e) => {
                        let e = e.to_port();
                        if e.is_transient() || matches!(e, PortError::Unauthorized(_)) {
                            return Err(e);
                        }
                        tracing::warn!(error = %e, status, "cannot list the patron's user requests; using Kauko's records only");
                        break;
                    }
                };
                let n = page.user_request.len() as u64;
                all.extend(page.user_request);
                offset += n;
                if n == 0 || offset >= page.total_record_count.unwrap_or(0) {
                    break;
                }
            }
        }
        let all = Arc::new(all);
        self.cache
            .put(
                patron.as_str(),
                &key,
                generation,
                Cached::UserRequests(all.clone()),
            )
            .await;
        Ok(all)
    }

    /// The patron's active loans (cached unless `fresh`).
    async fn loans(
        &self,
        via: &Client,
        patron: &PatronId,
        fresh: bool,
    ) -> PortResult<Arc<Vec<ItemLoan>>> {
        const KEY: &str = "loans";
        if !fresh {
            if let Some(Cached::Loans(l)) = self.cache.get(patron.as_str(), KEY).await {
                return Ok(l);
            }
        }
        let generation = self.cache.generation(patron.as_str()).await;
        let mut all = Vec::new();
        let mut offset = 0u64;
        loop {
            let (limit, off) = (PAGE.to_string(), offset.to_string());
            let answer = via
                .get(
                    &["users", patron.as_str(), "loans"],
                    &[
                        ("expand", "renewable"),
                        ("limit", &limit),
                        ("offset", &off),
                        ("order_by", "due_date"),
                        ("direction", "ASC"),
                    ],
                )
                .await;
            let page: ItemLoans = match answer {
                Ok(a) => a.json()?,
                Err(e) if e.is_unknown_user() => break,
                Err(e) => return Err(e.to_port()),
            };
            let n = page.item_loan.len() as u64;
            all.extend(page.item_loan);
            offset += n;
            if n == 0 || offset >= page.total_record_count.unwrap_or(0) {
                break;
            }
        }
        let all = Arc::new(all);
        self.cache
            .put(patron.as_str(), KEY, generation, Cached::Loans(all.clone()))
            .await;
        Ok(all)
    }

    fn is_ill_loan(&self, loan: &ItemLoan) -> bool {
        match &self.settings.rs_library {
            Some(lib) => code(&loan.library) == Some(lib.as_str()),
            None => true,
        }
    }

    // --- Create ----------------------------------------------------------

    async fn send_create(
        &self,
        patron: &PatronId,
        request: &NewBorrowingRequest,
    ) -> PortResult<BorrowingRequest> {
        let body = serde_json::to_value(mapping::borrowing_input(
            request,
            self.settings.rs_library.as_deref(),
        ))
        .map_err(|e| PortError::Other(e.to_string()))?;
        let override_blocks = if self.settings.override_blocks {
            "true"
        } else {
            "false"
        };
        let sent = self
            .client
            .call(
                Method::POST,
                &["users", patron.as_str(), "resource-sharing-requests"],
                &[
                    ("user_id_type", "all_unique"),
                    ("override_blocks", override_blocks),
                ],
                Some(&body),
            )
            .await;
        self.cache.invalidate_patron(patron.as_str()).await;
        let created = match sent {
            Ok(answer) => answer.json::<RsRequest>().ok().filter(|r| {
                r.request_id
                    .as_deref()
                    .is_some_and(|id| !id.trim().is_empty())
            }),
            Err(e) if e.outcome_unknown() => None,
            Err(e) => {
                records::release(&self.db, &request.external_id).await?;
                return Err(e.to_port());
            }
        };
        if let Some(created) = created {
            return self
                .settle(patron, &created, &request.external_id, Some(request))
                .await;
        }
        // No (readable) answer: Alma may have the request. Never send it
        // again blindly; ask for the external id instead.
        records::mark_unconfirmed(&self.db, &request.external_id).await?;
        tracing::warn!(
            external_id = %request.external_id,
            "Alma gave no answer to a create; looking the request up by its external id"
        );
        match self.lookup_external(patron, &request.external_id).await {
            Ok(Some(found)) => {
                self.settle(patron, &found, &request.external_id, Some(request))
                    .await
            }
            Ok(None) => Err(PortError::Unavailable(
                "Alma did not confirm the request and does not have it; try again".into(),
            )),
            Err(e) => Err(PortError::Unavailable(format!(
                "Alma did not confirm the request and cannot be asked about it: {e}"
            ))),
        }
    }
}

/// Who made a request Kauko sees: the patron when Kauko sent it, Alma
/// (the patron through Primo, or staff) otherwise.
fn creator_of(patron: &PatronId, record: Option<&records::BorrowingRecord>) -> Actor {
    match record {
        Some(_) => Actor::Patron(patron.0.clone()),
        None => Actor::LibrarySystem,
    }
}

/// Alma's "user not found" is, for a patron's read, "not found".
fn not_found_for_unknown_user(e: CallError) -> PortError {
    if e.is_unknown_user() {
        PortError::NotFound
    } else {
        e.to_port()
    }
}

#[async_trait]
impl ResourceSharing for AlmaBackend {
    fn name(&self) -> &'static str {
        "alma"
    }

    async fn ping(&self) -> PortResult<()> {
        self.client
            .get(&["users", "operation", "test"], &[])
            .await
            .map(|_| ())
            .map_err(PortError::from)
    }

    async fn create_borrowing_request(
        &self,
        patron: &PatronId,
        request: NewBorrowingRequest,
    ) -> PortResult<BorrowingRequest> {
        port::validate_borrowing_request(&request)?;
        let duplicate = || PortError::Duplicate(format!("external id {}", request.external_id));
        match records::reserve(&self.db, patron, &request).await? {
            Reservation::Reserved => {}
            Reservation::Existing(record) => {
                if record.state == RecordState::Created || record.patron_id != *patron {
                    return Err(duplicate());
                }
                // A create of this id is under way, unless it is older
                // than any create can take (the process stopped).
                let stale = Utc::now() - record.updated_at
                    > chrono::Duration::from_std(self.settings.write_timeout * 2)
                        .unwrap_or_default();
                if record.state == RecordState::Pending && !stale {
                    return Err(duplicate());
                }
                if !records::take_over(&self.db, &record, &request).await? {
                    return Err(duplicate());
                }
                // An earlier create got no answer: Alma may have it.
                match self.lookup_external(patron, &request.external_id).await {
                    Ok(Some(found)) => {
                        return self
                            .settle(patron, &found, &request.external_id, Some(&request))
                            .await
                    }
                    Ok(None) => {}
                    Err(e) => {
                        records::mark_unconfirmed(&self.db, &request.external_id).await?;
                        return Err(e);
                    }
                }
            }
        }
        self.send_create(patron, &request).await
    }

    async fn get_borrowing_request(
        &self,
        patron: &PatronId,
        id: &str,
    ) -> PortResult<BorrowingRequest> {
        let record = self.own_record(patron, id).await?;
        let mirrored = self.mirror.request(patron, id).await.map_err(db_err)?;
        let limit =
            chrono::Duration::from_std(self.settings.mirror.stale_after).unwrap_or_default();
        if let Some((r, confirmed)) = &mirrored {
            if Utc::now() - *confirmed < limit {
                return Ok(r.clone());
            }
        }
        match self
            .read_into_mirror(&self.client, patron, id, record.as_ref(), false)
            .await
        {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err(PortError::NotFound),
            // Alma down: what the mirror has.
            Err(e) if e.is_transient() => mirrored.map(|(r, _)| r).ok_or(e),
            Err(e) => Err(e),
        }
    }

    async fn find_borrowing_request_by_external_id(
        &self,
        patron: &PatronId,
        external_id: &str,
    ) -> PortResult<Option<BorrowingRequest>> {
        match records::by_external_id(&self.db, external_id).await? {
            Some(record) if record.patron_id != *patron => Ok(None),
            Some(record) => match &record.request_id {
                Some(id) => match self.get_borrowing_request(patron, id).await {
                    Ok(r) => Ok(Some(r)),
                    Err(PortError::NotFound) => Ok(None),
                    Err(e) => Err(e),
                },
                None => match self.lookup_external(patron, external_id).await? {
                    Some(found) => Ok(Some(
                        self.settle(patron, &found, external_id, Some(&record.request))
                            .await?,
                    )),
                    None => Ok(None),
                },
            },
            None => match self.lookup_external(patron, external_id).await? {
                Some(found) => Ok(Some(self.settle(patron, &found, external_id, None).await?)),
                None => Ok(None),
            },
        }
    }

    async fn cancel_borrowing_request(
        &self,
        patron: &PatronId,
        id: &str,
    ) -> PortResult<BorrowingRequest> {
        let record = self.own_record(patron, id).await?;
        let before = self.fetch_rs(&self.client, patron, id, true).await?;
        // What Alma did meanwhile goes into the history first.
        self.observe(
            &mapping::borrowing_from(&before, id, patron, record.as_ref()),
            code(&before.partner),
            creator_of(patron, record.as_ref()),
            Actor::LibrarySystem,
            SEEN_IN_ALMA,
        )
        .await;
        let status = code(&before.status)
            .map(BorrowingStatus::from_code)
            .unwrap_or(BorrowingStatus::RequestCreated);
        if !self.settings.cancellable_statuses.contains(&status) {
            self.note_status(record.as_ref(), &before).await;
            return Err(PortError::Refused(Refusal::NotCancellable));
        }
        let deleted = self
            .client
            .call(
                Method::DELETE,
                &["users", patron.as_str(), "resource-sharing-requests", id],
                &[
                    ("reason", self.settings.cancel_reason.as_str()),
                    ("notify_user", "false"),
                ],
                None,
            )
            .await;
        self.cache.invalidate_patron(patron.as_str()).await;
        deleted.map_err(not_found_for_unknown_user)?;
        let mut after = match self.fetch_rs(&self.client, patron, id, true).await {
            Ok(r) => (*r).clone(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot re-read a cancelled request");
                (*before).clone()
            }
        };
        if code(&after.status) == code(&before.status) {
            // Alma has not shown the cancel yet.
            after.status = Some(wire::CodeValue {
                value: Some(BorrowingStatus::CancelledByPatron.code().to_owned()),
                ..Default::default()
            });
        }
        self.note_status(record.as_ref(), &after).await;
        let cancelled = mapping::borrowing_from(&after, id, patron, record.as_ref());
        self.observe(
            &cancelled,
            code(&after.partner),
            creator_of(patron, record.as_ref()),
            Actor::Patron(patron.0.clone()),
            "cancel",
        )
        .await;
        Ok(cancelled)
    }

    async fn list_borrowing_requests(
        &self,
        patron: &PatronId,
    ) -> PortResult<Vec<BorrowingRequest>> {
        self.ensure_current(patron).await?;
        self.mirror.requests_of(patron).await.map_err(db_err)
    }

    async fn list_loans(&self, patron: &PatronId) -> PortResult<Vec<IllLoan>> {
        self.ensure_current(patron).await?;
        match self.picture(patron).await? {
            Some(p) if p.loans_at.is_some() => Ok(p.loans),
            // Never read (that part failed): ask Alma now, as before the
            // mirror, and say why when it cannot answer.
            _ => {
                let loans = self.loans(&self.client, patron, false).await?;
                let linked = self
                    .user_requests(&self.client, patron, &["active"], false)
                    .await?;
                let loans = self.ill_loans(patron, &loans, &linked).await?;
                self.mirror
                    .loans_read(patron, &loans)
                    .await
                    .map_err(db_err)?;
                Ok(loans)
            }
        }
    }

    async fn snapshot(&self, patron: &PatronId) -> PortResult<Option<Snapshot>> {
        // Without loans read yet, the list methods ask Alma for them.
        let Some(picture) = self.picture(patron).await?.filter(|p| p.loans_at.is_some()) else {
            return Ok(None);
        };
        let stale = self.is_stale(&picture);
        if let Err(e) = self.mirror.viewing(patron, &picture, stale).await {
            tracing::warn!(error = %e, "cannot note a patron viewing their requests");
        }
        let requests = self.mirror.requests_of(patron).await.map_err(db_err)?;
        Ok(Some(Snapshot {
            freshness: self.freshness_of(&picture),
            requests,
            loans: picture.loans,
        }))
    }

    async fn refresh(&self, patron: &PatronId) -> PortResult<()> {
        self.refresh_patron(&self.client, patron, true).await
    }

    async fn renew_loan(&self, patron: &PatronId, loan_id: &str) -> PortResult<IllLoan> {
        // The renewal is counted before Alma is asked (and given back if
        // Alma says no), so parallel renewals of one loan cannot pass
        // `requests.max_renewals` together.
        let Some(count) =
            records::reserve_renewal(&self.db, patron, loan_id, self.settings.max_renewals).await?
        else {
            return Err(PortError::Refused(Refusal::RenewalLimitReached));
        };
        let renewed = self
            .client
            .call(
                Method::POST,
                &["users", patron.as_str(), "loans", loan_id],
                &[("op", "renew")],
                None,
            )
            .await;
        self.cache.invalidate_patron(patron.as_str()).await;
        let answer = match renewed {
            Ok(answer) => answer,
            Err(e) => {
                // A renewal Alma may have made (no answer) stays counted.
                if !e.outcome_unknown() {
                    records::release_renewal(&self.db, patron, loan_id).await?;
                }
                return Err(not_found_for_unknown_user(e));
            }
        };
        let mut loan: ItemLoan = answer.json()?;
        if loan
            .loan_id
            .as_deref()
            .is_none_or(|id| id.trim().is_empty())
        {
            loan.loan_id = Some(loan_id.to_owned());
        }
        let renewed = mapping::loan_from(&loan, count, None)
            .ok_or_else(|| PortError::Other("Alma's renewed loan has no due date".into()))?;
        if let Err(e) = self.mirror.loan_renewed(patron, &renewed).await {
            tracing::warn!(error = %e, "cannot record a renewal in the mirror; the sync will read the loan");
        }
        Ok(renewed)
    }

    async fn create_lending_request(
        &self,
        request: NewLendingRequest,
    ) -> PortResult<LendingRequest> {
        port::validate_lending_request(&request)?;
        if records::lending_external_id_known(&self.db, &request.external_id).await? {
            return Err(PortError::Duplicate(format!(
                "lending request {}",
                request.external_id
            )));
        }
        let body = serde_json::to_value(mapping::lending_input(
            &request,
            self.settings.rs_library.as_deref(),
        ))
        .map_err(|e| PortError::Other(e.to_string()))?;
        let answer = self
            .client
            .call(
                Method::POST,
                &["partners", &request.partner_code, "lending-requests"],
                &[],
                Some(&body),
            )
            .await
            .map_err(|e| {
                if e.has_code(&["40166411", "402118"]) {
                    PortError::NotFound
                } else {
                    e.to_port()
                }
            })?;
        let created: RsRequest = answer.json()?;
        let id = created
            .request_id
            .clone()
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| PortError::Other("Alma's lending request has no id".into()))?;
        // As stored (microseconds), so that a later read is equal.
        let created_at = mapping::alma_created_at(&created).unwrap_or_else(Utc::now);
        let created_at = crate::storage::parse_ts(&crate::storage::ts(created_at))
            .map_err(|e| PortError::Other(e.to_string()))?;
        records::insert_lending(&self.db, &id, &request, created_at).await?;
        Ok(LendingRequest {
            id,
            request,
            status: code(&created.status)
                .map(|s| LendingStatus(s.to_owned()))
                .unwrap_or_else(LendingStatus::created),
            created_at,
        })
    }

    async fn get_lending_request(
        &self,
        partner_code: &str,
        id: &str,
    ) -> PortResult<LendingRequest> {
        let answer = self
            .client
            .get(&["partners", partner_code, "lending-requests", id], &[])
            .await
            .map_err(|e| {
                if e.has_code(LENDING_NOT_FOUND) {
                    PortError::NotFound
                } else {
                    e.to_port()
                }
            })?;
        let r: RsRequest = answer.json()?;
        let record = records::lending(&self.db, partner_code, id).await?;
        let (request, created_at) = match record {
            Some(rec) => (rec.request, rec.created_at),
            None => (
                mapping::lending_from_alma(&r, partner_code),
                mapping::alma_created_at(&r).unwrap_or_else(Utc::now),
            ),
        };
        Ok(LendingRequest {
            id: r.request_id.clone().unwrap_or_else(|| id.to_owned()),
            request,
            status: code(&r.status)
                .map(|s| LendingStatus(s.to_owned()))
                .unwrap_or_else(LendingStatus::created),
            created_at,
        })
    }

    async fn list_partners(&self, offset: u64, limit: u64) -> PortResult<Page<Partner>> {
        let (limit, offset) = (limit.min(PAGE).to_string(), offset.to_string());
        let answer = self
            .client
            .get(&["partners"], &[("limit", &limit), ("offset", &offset)])
            .await?;
        let list: PartnerList = answer.json()?;
        let items: Vec<Partner> = list
            .partner
            .into_iter()
            .filter_map(|raw| AlmaPartner::from_value(raw).ok())
            .map(|p| mapping::partner_from(&p))
            .filter(|p| !p.code.is_empty())
            .collect();
        Ok(Page {
            total: list.total_record_count.unwrap_or(items.len() as u64),
            items,
        })
    }

    async fn get_partner(&self, code: &str) -> PortResult<Partner> {
        Ok(mapping::partner_from(&self.raw_partner(code).await?))
    }

    async fn create_partner(&self, partner: Partner) -> PortResult<Partner> {
        port::validate_partner(&partner)?;
        let body = mapping::new_partner_body(&partner);
        let answer = self
            .client
            .call(Method::POST, &["partners"], &[], Some(&body))
            .await?;
        self.partner_answer(&partner.code, &answer).await
    }

    async fn update_partner(&self, partner: Partner) -> PortResult<Partner> {
        port::validate_partner(&partner)?;
        // PUT replaces the whole record: start from Alma's.
        let mut raw = self.raw_partner(&partner.code).await?.raw;
        mapping::patch_partner(&mut raw, &partner);
        let answer = self
            .client
            .call(Method::PUT, &["partners", &partner.code], &[], Some(&raw))
            .await?;
        self.partner_answer(&partner.code, &answer).await
    }
}

impl AlmaBackend {
    async fn raw_partner(&self, code: &str) -> PortResult<AlmaPartner> {
        let answer = self
            .client
            .get(&["partners", code], &[])
            .await
            .map_err(|e| {
                if e.has_code(&["402118", "401651"]) {
                    PortError::NotFound
                } else {
                    e.to_port()
                }
            })?;
        let raw: Value = answer.json()?;
        AlmaPartner::from_value(raw)
            .map_err(|e| PortError::Other(format!("unreadable partner: {e}")))
    }

    /// The partner Alma answered a write with, or read again when the
    /// answer does not hold it.
    async fn partner_answer(&self, code: &str, answer: &client::Answer) -> PortResult<Partner> {
        let written = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| AlmaPartner::from_value(v).ok())
            .map(|p| mapping::partner_from(&p))
            .filter(|p| p.code == code);
        match written {
            Some(p) => Ok(p),
            None => self.get_partner(code).await,
        }
    }
}
