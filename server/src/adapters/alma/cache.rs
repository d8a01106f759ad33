//! A short-lived cache of a patron's reads from Alma (RS requests, loans,
//! user requests), so that a patron paging around "My requests" does not
//! spend the institution's call budget. Entries are keyed by patron; a
//! patron's own write (create, cancel, renew) drops all of that patron's
//! entries at once. Decisions (may this be cancelled?) always read fresh.
//!
//! Each patron has a generation, raised by their writes. A read notes the
//! generation before it asks Alma and its answer is kept only if no write
//! came in between, so a read racing a cancel cannot put the old status
//! back for the TTL.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::client::Counters;
use super::wire::{ItemLoan, RsRequest, UserRequest};

/// What is kept.
#[derive(Clone, Debug)]
pub enum Cached {
    Request(Arc<RsRequest>),
    Loans(Arc<Vec<ItemLoan>>),
    UserRequests(Arc<Vec<UserRequest>>),
}

type Key = (String, String);

pub struct PatronCache {
    /// `None` when the TTL is zero: nothing is kept. Values carry the
    /// patron's generation when they were read.
    inner: Option<moka::future::Cache<Key, (u64, Cached)>>,
    /// Each patron's generation; absent means 0.
    generations: moka::future::Cache<String, u64>,
    counters: Arc<Counters>,
}

impl PatronCache {
    pub fn new(ttl: Duration, counters: Arc<Counters>) -> Self {
        let inner = (!ttl.is_zero()).then(|| {
            moka::future::Cache::builder()
                .max_capacity(50_000)
                .time_to_live(ttl)
                .build()
        });
        // Outlives every value read under it (reads time out long before).
        let generations = moka::future::Cache::builder()
            .max_capacity(50_000)
            .time_to_live(ttl.max(Duration::from_secs(1)) * 4)
            .build();
        Self {
            inner,
            generations,
            counters,
        }
    }

    /// The patron's generation: note it before reading from Alma and hand
    /// it to [`put`](Self::put).
    pub async fn generation(&self, patron: &str) -> u64 {
        self.generations.get(patron).await.unwrap_or(0)
    }

    pub async fn get(&self, patron: &str, key: &str) -> Option<Cached> {
        let inner = self.inner.as_ref()?;
        let current = self.generation(patron).await;
        let found = inner
            .get(&(patron.to_owned(), key.to_owned()))
            .await
            .filter(|(generation, _)| *generation == current)
            .map(|(_, value)| value);
        let counter = if found.is_some() {
            &self.counters.cache_hits
        } else {
            &self.counters.cache_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps what was read under `generation`, unless the patron has
    /// written since.
    pub async fn put(&self, patron: &str, key: &str, generation: u64, value: Cached) {
        if let Some(inner) = &self.inner {
            if self.generation(patron).await == generation {
                inner
                    .insert((patron.to_owned(), key.to_owned()), (generation, value))
                    .await;
            }
        }
    }

    /// Drops every entry of this patron (they no longer match the
    /// patron's generation, and expire on their own).
    pub async fn invalidate_patron(&self, patron: &str) {
        let next = self.generation(patron).await + 1;
        self.generations.insert(patron.to_owned(), next).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_patrons_write_drops_only_their_entries() {
        let counters = Arc::new(Counters::default());
        let cache = PatronCache::new(Duration::from_secs(30), counters.clone());
        let req = |id: &str| {
            Cached::Request(Arc::new(RsRequest {
                request_id: Some(id.into()),
                ..Default::default()
            }))
        };
        cache.put("jane doe", "rs:1", 0, req("1")).await;
        cache.put("john", "rs:2", 0, req("2")).await;
        assert!(cache.get("jane doe", "rs:1").await.is_some());
        assert!(cache.get("john", "rs:1").await.is_none(), "per patron");
        cache.invalidate_patron("jane doe").await;
        assert!(cache.get("jane doe", "rs:1").await.is_none());
        assert!(cache.get("john", "rs:2").await.is_some());
        let stats = counters.snapshot();
        assert_eq!((stats.cache_hits, stats.cache_misses), (2, 2));
        cache.put("jane doe", "rs:1", 1, req("1")).await;
        assert!(cache.get("jane doe", "rs:1").await.is_some());
    }

    #[tokio::test]
    async fn a_read_overtaken_by_a_write_is_not_kept() {
        let cache = PatronCache::new(Duration::from_secs(30), Arc::default());
        let before = cache.generation("p").await;
        // ... the read is under way when the patron cancels ...
        cache.invalidate_patron("p").await;
        cache
            .put("p", "rs:1", before, Cached::Loans(Arc::default()))
            .await;
        assert!(cache.get("p", "rs:1").await.is_none());
    }

    #[tokio::test]
    async fn a_zero_ttl_keeps_nothing() {
        let cache = PatronCache::new(Duration::ZERO, Arc::default());
        cache.put("p", "k", 0, Cached::Loans(Arc::default())).await;
        assert!(cache.get("p", "k").await.is_none());
    }
}
