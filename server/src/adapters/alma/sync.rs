//! The background sync: re-reads from Alma what the mirror holds, at the
//! sync's share of the call budget, and so writes each change Alma made
//! (by staff, by a partner, by time) into the request's history.
//!
//! One step at a time per instance: the patron most due (patrons looking
//! at My requests first) gets a pass: their active user requests (one
//! call, which finds RS requests placed outside Kauko and shows each one's
//! status), a read of each request whose listed status differs from the
//! last pass or that left the list, of any request due on its own, and
//! their loans. Requests the listing shows unchanged are confirmed without
//! a read (still read themselves once per `alma.sync_closed_seconds`), so
//! a patron's pass costs about two calls, not one per request. Otherwise
//! the request most due is read. Active requests come round every
//! `alma.sync_active_seconds`, closed ones every `alma.sync_closed_seconds`
//! until `alma.sync_forget_days` after they closed, then never. Instances
//! claim work in the database (a patron with a lease, a request by moving
//! its next read), so two instances share it rather than repeat it, and
//! the mirror writes a change once whoever sees it first. When Alma is
//! down a patron's read is retried after a minute and their mirror keeps
//! serving; calls never exceed the sync's share, so nothing piles up on
//! Alma when it comes back.

use std::sync::Arc;
use std::time::Duration;

use crate::port::PortError;

use super::records::db_err;
use super::AlmaBackend;

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A patron was read (or tried).
    Patron,
    /// A request was read (or tried).
    Request,
    /// The lending task list was read (or tried).
    Lending,
    /// Nothing was due.
    Idle,
}

impl AlmaBackend {
    /// One step of the sync (tests call it directly).
    pub async fn sync_step(&self) -> Result<Step, PortError> {
        let via = self.client.for_sync();
        match self.lending_step().await {
            Ok(Some(pass)) => {
                tracing::debug!(?pass, "sync: lending task list read");
                return Ok(Step::Lending);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::info!(error = %e, "sync: the lending task list could not be read; tried again next time");
                return Ok(Step::Lending);
            }
        }
        if let Some(patron) = self.mirror.claim_patron().await.map_err(db_err)? {
            if let Err(e) = self.refresh_patron(&via, &patron, false).await {
                tracing::info!(error = %e, "sync: a patron's read failed; tried again later");
            }
            return Ok(Step::Patron);
        }
        if let Some((patron, id)) = self.mirror.claim_request().await.map_err(db_err)? {
            let record = super::records::by_request_id(&self.db, &id).await?;
            if let Err(e) = self
                .read_into_mirror(&via, &patron, &id, record.as_ref(), true)
                .await
            {
                tracing::info!(error = %e, request_id = %id, "sync: a request's read failed; tried again later");
                self.mirror.retry_request(&id).await.map_err(db_err)?;
            }
            return Ok(Step::Request);
        }
        Ok(Step::Idle)
    }

    /// Runs the sync until the process ends (when `alma.sync` is on).
    pub fn spawn_sync(self: Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        if !self.settings.sync {
            tracing::info!("Alma sync: off on this instance (alma.sync = false)");
            return None;
        }
        Some(tokio::spawn(async move {
            loop {
                let pause = match self.sync_step().await {
                    Ok(Step::Idle) => Duration::from_secs(1),
                    Ok(_) => Duration::ZERO,
                    Err(e) => {
                        tracing::warn!(error = %e, "Alma sync: cannot read the mirror; pausing");
                        Duration::from_secs(5)
                    }
                };
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            }
        }))
    }
}
