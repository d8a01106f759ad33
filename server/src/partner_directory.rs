//! Kauko's copy of the partner list, for the public lending form: a
//! partner's own form (`/lend/<code>`) is answered from it, so anonymous
//! callers (and a flood of made-up codes) never reach the library system.
//! The list is read whole (one paged listing) at most once per
//! `lending.partner_cache_seconds`, by one caller while the others wait for
//! that answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::domain::Partner;
use async_trait::async_trait;

use crate::port::{PortError, PortResult, ResourceSharing};

pub struct PartnerDirectory {
    port: Arc<dyn ResourceSharing>,
    ttl: Duration,
    list: tokio::sync::Mutex<Option<(Instant, Arc<Vec<Partner>>)>>,
}

/// Whether a library's identifier names this partner: its code or its
/// ISIL, in any case.
pub fn named_by(partner: &Partner, id: &str) -> bool {
    partner.code.eq_ignore_ascii_case(id)
        || partner
            .isil
            .as_deref()
            .is_some_and(|i| i.eq_ignore_ascii_case(id))
}

impl PartnerDirectory {
    pub fn new(port: Arc<dyn ResourceSharing>, ttl: Duration) -> Self {
        Self {
            port,
            ttl,
            list: tokio::sync::Mutex::new(None),
        }
    }

    /// Every partner, from the copy while it is fresh.
    pub async fn all(&self) -> PortResult<Arc<Vec<Partner>>> {
        let mut list = self.list.lock().await;
        if let Some((at, partners)) = list.as_ref() {
            if at.elapsed() < self.ttl {
                return Ok(partners.clone());
            }
        }
        let partners = crate::partners_import::all_partners(self.port.as_ref()).await?;
        let partners = Arc::new(partners);
        *list = Some((Instant::now(), partners.clone()));
        Ok(partners)
    }

    /// The partner with this code or ISIL (in any case).
    pub async fn find(&self, id: &str) -> PortResult<Option<Partner>> {
        let id = id.trim();
        if id.is_empty() {
            return Ok(None);
        }
        let all = self.all().await?;
        let exact = all.iter().find(|p| p.code == id);
        Ok(exact
            .or_else(|| {
                all.iter().find(|p| {
                    p.code.eq_ignore_ascii_case(id)
                        || p.isil
                            .as_deref()
                            .is_some_and(|i| i.eq_ignore_ascii_case(id))
                })
            })
            .cloned())
    }

    /// Forgets the copy (after partners were changed through Kauko).
    pub async fn invalidate(&self) {
        *self.list.lock().await = None;
    }
}

#[async_trait]
impl app::api::lend::PartnerLookup for PartnerDirectory {
    async fn partner(&self, code: &str) -> Result<Option<Partner>, PortError> {
        self.find(code).await
    }
}
