//! A short-lived cache of a patron's reads from Alma (RS requests, loans,
//! user requests), so that a patron paging around "My requests" does not
//! spend the institution's call budget. Entries are keyed by patron; a
//! patron's own write (create, cancel, renew) drops all of that patron's
//! entries at once. Decisions (may this be cancelled?) always read fresh.

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
    /// `None` when the TTL is zero: nothing is kept.
    inner: Option<moka::future::Cache<Key, Cached>>,
    counters: Arc<Counters>,
}

impl PatronCache {
    pub fn new(ttl: Duration, counters: Arc<Counters>) -> Self {
        let inner = (!ttl.is_zero()).then(|| {
            moka::future::Cache::builder()
                .max_capacity(50_000)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build()
        });
        Self { inner, counters }
    }

    pub async fn get(&self, patron: &str, key: &str) -> Option<Cached> {
        let inner = self.inner.as_ref()?;
        let found = inner.get(&(patron.to_owned(), key.to_owned())).await;
        let counter = if found.is_some() {
            &self.counters.cache_hits
        } else {
            &self.counters.cache_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub async fn put(&self, patron: &str, key: &str, value: Cached) {
        if let Some(inner) = &self.inner {
            inner
                .insert((patron.to_owned(), key.to_owned()), value)
                .await;
        }
    }

    /// Drops every entry of this patron.
    pub fn invalidate_patron(&self, patron: &str) {
        if let Some(inner) = &self.inner {
            let patron = patron.to_owned();
            if let Err(e) = inner.invalidate_entries_if(move |k, _| k.0 == patron) {
                // Cannot happen: the cache is built with invalidation closures.
                tracing::error!(error = %e, "cannot invalidate a patron's cached Alma reads");
                inner.invalidate_all();
            }
        }
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
        cache.put("jane doe", "rs:1", req("1")).await;
        cache.put("john", "rs:2", req("2")).await;
        assert!(cache.get("jane doe", "rs:1").await.is_some());
        assert!(cache.get("john", "rs:1").await.is_none(), "per patron");
        cache.invalidate_patron("jane doe");
        assert!(cache.get("jane doe", "rs:1").await.is_none());
        assert!(cache.get("john", "rs:2").await.is_some());
        let stats = counters.snapshot();
        assert_eq!((stats.cache_hits, stats.cache_misses), (2, 2));
    }

    #[tokio::test]
    async fn a_zero_ttl_keeps_nothing() {
        let cache = PatronCache::new(Duration::ZERO, Arc::default());
        cache.put("p", "k", Cached::Loans(Arc::default())).await;
        assert!(cache.get("p", "k").await.is_none());
    }
}
