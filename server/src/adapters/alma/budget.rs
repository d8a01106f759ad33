//! One Alma call budget for the whole deployment.
//!
//! Alma's per-second threshold is institution-wide (and shared with
//! Primo), so the ceiling `alma.max_calls_per_second` must hold for all
//! Kauko instances together, not for each. The budget lives in Kauko's
//! database (`alma_call_budget`), which every instance shares:
//!
//! - **Slots, not counters.** A row holds the next free call slot (the
//!   "theoretical arrival time" of the generic cell rate algorithm, in
//!   microseconds since the epoch). Taking a turn is one atomic statement
//!   that moves the row one spacing on and returns the slot taken; the
//!   caller sleeps until its slot. Calls are thus spaced evenly across
//!   every instance: no window of one second, wherever it starts, holds
//!   more than the ceiling. The spacing keeps 5 % headroom so that a call
//!   that wakes a little late cannot crowd the next one into Alma's
//!   window.
//! - **Patrons first.** A patron's call (create, cancel, renew, look) may
//!   queue for a slot up to `alma.max_wait_milliseconds`. The background
//!   sync first takes a slot of its own bucket (`sync`, spaced for its
//!   share, `alma.sync_share_percent` of the ceiling) and then only a slot
//!   that nobody is queued for: it never makes a patron wait behind it
//!   for more than one spacing, and never uses more than its share.
//! - **Clocks.** Slots are compared with each instance's clock; instances
//!   on several hosts need their clocks in step (NTP), as any shared
//!   schedule does.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::storage::{Db, DbKind};

/// Whose call it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// A patron's own action or look: first in line.
    Patron,
    /// The background sync: only its share, only free slots.
    Sync,
}

/// Spacing headroom: calls are spaced 5 % wider than the ceiling needs.
const HEADROOM_PERCENT: u64 = 105;

#[derive(Debug)]
pub enum BudgetError {
    /// No slot within the longest wait.
    Busy,
    /// The database could not be asked.
    Database(sqlx::Error),
}

/// The shared budget (cheap to clone).
#[derive(Clone, Debug)]
pub struct Budget {
    db: Db,
    /// Microseconds between any two calls.
    spacing: i64,
    /// Microseconds between two calls of the sync.
    sync_spacing: i64,
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

async fn sleep_until_micros(at: i64) {
    let wait = at - now_micros();
    if wait > 0 {
        tokio::time::sleep(Duration::from_micros(wait as u64)).await;
    }
}

/// Microseconds between any two calls and between two calls of the sync.
fn spacings(per_second: u32, sync_percent: u32) -> (i64, i64) {
    let per_second = u64::from(per_second.max(1));
    let spacing = (1_000_000 * HEADROOM_PERCENT / 100).div_ceil(per_second);
    let share = u64::from(sync_percent.clamp(1, 100));
    let sync_spacing = (spacing * 100 / share).clamp(spacing, 10_000_000.max(spacing));
    (spacing as i64, sync_spacing as i64)
}

impl Budget {
    /// `per_second` calls for everyone; the sync gets `sync_percent` % of
    /// them (at least one call every ten seconds).
    pub fn new(db: Db, per_second: u32, sync_percent: u32) -> Self {
        let (spacing, sync_spacing) = spacings(per_second, sync_percent);
        Self {
            db,
            spacing,
            sync_spacing,
        }
    }

    /// The time between two calls, all callers together.
    pub fn spacing(&self) -> Duration {
        Duration::from_micros(self.spacing as u64)
    }

    /// Takes the next slot of `bucket` if it starts no later than
    /// `latest`; returns its start.
    async fn reserve(
        &self,
        bucket: &str,
        spacing: i64,
        now: i64,
        latest: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let greatest = match self.db.kind {
            DbKind::Sqlite => "MAX",
            DbKind::Postgres => "GREATEST",
        };
        let sql = format!(
            "UPDATE alma_call_budget SET next_at = {greatest}(next_at, $1) + $2 \
             WHERE name = $3 AND next_at <= $4 RETURNING next_at"
        );
        let next: Option<i64> = sqlx::query_scalar(&sql)
            .bind(now)
            .bind(spacing)
            .bind(bucket.to_owned())
            .bind(latest)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(next.map(|n| n - spacing))
    }

    /// Waits for a turn to call Alma: at most `max_wait`.
    pub async fn turn(&self, priority: Priority, max_wait: Duration) -> Result<(), BudgetError> {
        let max_wait = i64::try_from(max_wait.as_micros()).unwrap_or(i64::MAX / 4);
        let start = now_micros();
        let deadline = start.saturating_add(max_wait);
        match priority {
            Priority::Patron => {
                let slot = self
                    .reserve("calls", self.spacing, start, deadline)
                    .await
                    .map_err(BudgetError::Database)?
                    .ok_or(BudgetError::Busy)?;
                sleep_until_micros(slot).await;
                Ok(())
            }
            Priority::Sync => {
                let slot = self
                    .reserve("sync", self.sync_spacing, start, deadline)
                    .await
                    .map_err(BudgetError::Database)?
                    .ok_or(BudgetError::Busy)?;
                sleep_until_micros(slot).await;
                // Only a slot nobody waits for: patrons keep theirs.
                loop {
                    let now = now_micros();
                    if now > deadline {
                        return Err(BudgetError::Busy);
                    }
                    if let Some(slot) = self
                        .reserve("calls", self.spacing, now, now)
                        .await
                        .map_err(BudgetError::Database)?
                    {
                        sleep_until_micros(slot).await;
                        return Ok(());
                    }
                    tokio::time::sleep(self.spacing()).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_keeps_headroom_and_the_sync_share() {
        // 10 a second: 105 ms apart; the sync's 30 %: 350 ms apart.
        assert_eq!(spacings(10, 30), (105_000, 350_000));
        assert_eq!(spacings(25, 100), (42_000, 42_000));
        // Nonsense is clamped: no division by zero, the sync at least
        // every ten seconds.
        assert_eq!(spacings(0, 0), (1_050_000, 10_000_000));
        assert_eq!(spacings(1, 1), (1_050_000, 10_000_000));
    }
}
