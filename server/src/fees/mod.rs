//! Fees and invoices, driven by the request history.
//!
//! - **Pricing**: a worker reads `request_events` after its cursor
//!   (`fee_cursor`), as the letters do, and for each billable event
//!   ([`app::fees::Billable::of_event`]) writes one charge line by the
//!   rule valid that day ([`app::fees::choose_rule`]), or records in
//!   `fee_skips` why it wrote none. A line is unique on its event, so a
//!   restart or a second instance writes nothing twice; lines are never
//!   edited (the database refuses it), so a rule changed later does not
//!   change them.
//! - **Invoicing** (`runs.rs`): an invoice run claims each customer's open
//!   lines (`UPDATE … WHERE invoice_id IS NULL`, so two runs at once cannot
//!   both take a line), numbers the invoice from a yearly counter and gives
//!   it a Finnish reference number. A run is unique on its period: running
//!   it again returns the same run.
//! - **Files**: the SAP intake file through a column profile (`export.rs`,
//!   CSV and XLSX), Finvoice 3.0 (`finvoice.rs`) and a printable invoice in
//!   Finnish, Swedish or English (`print.rs`), served by `http.rs`.

pub mod charges;
pub mod export;
pub mod finvoice;
pub mod http;
mod office;
pub mod print;
pub mod runs;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use app::domain::history::RequestEvent;
use app::fees::{
    amounts, choose_rule, Billable, CitationType, Facts, FeeRule, PartnerGroup, Payer, Urgency,
};
use chrono::{NaiveDate, Utc};
use sqlx::Row;
use tokio::sync::Notify;

use crate::config::{Config, FeesConfig};
use crate::history::Cursor;
use crate::storage::Db;

/// Events up to it have been priced.
const CURSOR: Cursor = Cursor::new("fee_cursor");

pub struct Fees {
    pub(crate) db: Db,
    pub(crate) config: FeesConfig,
    pub(crate) default_lang: app::i18n::Lang,
    wake: Notify,
}

/// Who pays for a request's billable event, and what it was.
#[derive(Clone, Debug, Default)]
pub(crate) struct Billed {
    pub customer: String,
    pub country: Option<String>,
    pub title: String,
    /// What rules with conditions look at (app::fees::Conditions).
    pub material: Option<CitationType>,
    pub urgency: Urgency,
    pub patron_groups: Vec<String>,
}

impl Fees {
    pub fn new(db: Db, config: &Config) -> Arc<Self> {
        Arc::new(Self {
            db,
            config: config.fees.clone(),
            default_lang: config.library.default_language,
            wake: Notify::new(),
        })
    }

    /// Makes the worker look now.
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    pub fn spawn_worker(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            if !this.config.enabled {
                return;
            }
            let poll = Duration::from_millis(this.config.poll_interval_milliseconds.max(50));
            loop {
                if let Err(e) = this.plan().await {
                    tracing::warn!(error = %e, "fees: cannot read the history");
                }
                tokio::select! {
                    _ = this.wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        })
    }

    /// The history cursor: events up to it have been priced.
    pub async fn cursor(&self) -> Result<i64, sqlx::Error> {
        CURSOR.position(&self.db).await
    }

    /// Prices the billable events after the cursor; returns how many lines
    /// were written.
    pub async fn plan(&self) -> Result<usize, sqlx::Error> {
        let mut written = 0;
        loop {
            let (n, more) = self.plan_batch().await?;
            written += n;
            if !more {
                return Ok(written);
            }
        }
    }

    async fn plan_batch(&self) -> Result<(usize, bool), sqlx::Error> {
        let settle = Duration::from_millis(self.config.settle_milliseconds);
        let batch = CURSOR.settled(&self.db, settle).await?;
        let rules = store::rules(&self.db).await?;
        let mut written = 0;
        let mut done = None;
        for event in &batch.events {
            if let Some(billable) = Billable::of_event(event.side.code(), &event.action) {
                match self.price(&rules, billable, event).await {
                    Ok(true) => written += 1,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, request = %event.request_id, "fees: cannot price an event; will try again");
                        if let Some(seq) = done {
                            CURSOR.advance(&self.db, seq).await?;
                        }
                        return Err(e);
                    }
                }
            }
            done = Some(event.seq);
        }
        if let Some(seq) = done {
            CURSOR.advance(&self.db, seq).await?;
        }
        Ok((written, batch.more))
    }

    /// Who pays for a request (the partner, or the patron), its title and
    /// what rules with conditions look at. A lending request is Kauko's
    /// own (`lending_requests`) or, on Alma, one the sync mirrors
    /// (`alma_mirror_lending`), read in one query.
    pub(crate) async fn billed(
        &self,
        side: &str,
        request_id: &str,
    ) -> Result<Option<Billed>, sqlx::Error> {
        let sql = if side == "lending" {
            "SELECT partner_code AS customer, title, kind, created_at, body AS document, \
               NULL AS needed_by, NULL AS groups FROM lending_requests WHERE id = $1 \
             UNION ALL \
             SELECT partner_code, title, kind, created_at, NULL, needed_by, NULL \
               FROM alma_mirror_lending WHERE request_id = $1"
        } else {
            "SELECT r.patron_id AS customer, r.title, r.kind, r.created_at, r.citation AS document, \
               r.needed_by, p.groups \
             FROM borrowing_requests r LEFT JOIN patrons p ON p.id = r.patron_id WHERE r.id = $1"
        };
        let Some(row) = sqlx::query(sql)
            .bind(request_id)
            .fetch_optional(&self.db.pool)
            .await?
        else {
            return Ok(None);
        };
        let customer: String = row.try_get("customer")?;
        // The stored document: a lending request's body (its citation and
        // "needed by" inside), a borrowing request's citation.
        let document: serde_json::Value = row
            .try_get::<Option<String>, _>("document")?
            .and_then(|d| serde_json::from_str(&d).ok())
            .unwrap_or_default();
        let citation = document.get("citation").unwrap_or(&document);
        let title: String = row.try_get("title")?;
        let title = if title.is_empty() {
            citation["title"].as_str().unwrap_or_default().to_owned()
        } else {
            title
        };
        let needed_by = row
            .try_get::<Option<String>, _>("needed_by")?
            .or_else(|| document["needed_by"].as_str().map(str::to_owned))
            .and_then(|d| d.parse::<NaiveDate>().ok());
        let material = row
            .try_get::<Option<String>, _>("kind")?
            .as_deref()
            .and_then(CitationType::from_code);
        let urgency = crate::storage::parse_ts(&row.try_get::<String, _>("created_at")?)
            .map(|created| Urgency::of(created.date_naive(), needed_by, self.config.urgent_days))
            .unwrap_or_default();
        let patron_groups = row
            .try_get::<Option<String>, _>("groups")?
            .and_then(|g| serde_json::from_str(&g).ok())
            .unwrap_or_default();
        let country = if side == "lending" {
            self.country_of(&customer).await?
        } else {
            None
        };
        Ok(Some(Billed {
            customer,
            country,
            title,
            material,
            urgency,
            patron_groups,
        }))
    }

    /// The country of a partner library, from its record.
    async fn country_of(&self, partner: &str) -> Result<Option<String>, sqlx::Error> {
        Ok(
            sqlx::query_scalar("SELECT body FROM partners WHERE code = $1")
                .bind(partner)
                .fetch_optional(&self.db.pool)
                .await?
                .and_then(|b: String| {
                    serde_json::from_str::<app::domain::partner::Partner>(&b).ok()
                })
                .and_then(|p| p.address.country),
        )
    }

    /// Writes the event's charge line (or why there is none), once.
    async fn price(
        &self,
        rules: &[FeeRule],
        billable: Billable,
        event: &RequestEvent,
    ) -> Result<bool, sqlx::Error> {
        let side = event.side.code();
        let Some(billed) = self.billed(side, &event.request_id).await? else {
            store::skip(&self.db, event, billable, "no_request").await?;
            return Ok(false);
        };
        let day = crate::storage::parse_ts(&event.at)
            .map(|t| t.date_naive())
            .unwrap_or_else(|_| Utc::now().date_naive());
        let (partner, group) = match billable.payer() {
            Payer::Partner => (
                Some(billed.customer.as_str()),
                Some(PartnerGroup::of_country(billed.country.as_deref())),
            ),
            Payer::Patron => (None, None),
        };
        let facts = Facts {
            partner,
            group,
            material: billed.material,
            urgency: billed.urgency,
            patron_groups: &billed.patron_groups,
        };
        let Some(rule) = choose_rule(rules, billable, &facts, day) else {
            store::skip(&self.db, event, billable, "no_rule").await?;
            return Ok(false);
        };
        let mut unit_cents = rule.rule.amount_cents;
        let mut description = billed.title;
        if billable.passes_on_amount() {
            // The amount recorded with the event, passed on with the
            // rule's amount added (written in the event's transaction, so
            // it is there unless the event came from elsewhere).
            let Some(stated) = charges::of_event(&self.db, event.seq).await? else {
                store::skip(&self.db, event, billable, "no_amount").await?;
                return Ok(false);
            };
            if stated.currency != rule.rule.currency {
                store::skip(&self.db, event, billable, app::fees::SKIP_OTHER_CURRENCY).await?;
                return Ok(false);
            }
            unit_cents += stated.amount_cents;
            if !stated.reference.is_empty() {
                description = format!("{description} ({})", stated.reference);
            }
        }
        let vat = if rule.rule.vat_applies {
            rule.rule.vat_basis_points
        } else {
            0
        };
        let line = store::NewLine {
            kind: app::fees::LineKind::Charge,
            payer: billable.payer(),
            customer: billed.customer,
            side: side.to_owned(),
            request_id: event.request_id.clone(),
            billable: Some(billable),
            event_seq: Some(event.seq),
            refers_to: None,
            rule_id: Some(rule.id),
            description,
            quantity: 1,
            unit_cents,
            vat_basis_points: vat,
            amounts: amounts(unit_cents, 1, vat),
            currency: rule.rule.currency.clone(),
            reason: None,
            created_by: "kauko".to_owned(),
            invoice_id: None,
        };
        store::insert_line(&self.db.pool, &line).await
    }
}
