//! Invoice runs, credit notes and the reconciliation.

use app::fees::{
    missing, reference, Amounts, CannotInvoice, Customer, Invoice, InvoiceKind, InvoiceRun,
    InvoiceSummary, LedgerError, LineKind, Payer, Reconciliation,
};
use chrono::{Datelike, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::store::{self, line_from_row, NOT_WAIVED};
use super::Fees;
use crate::storage::{json_col, parse_date, ts};

/// The end of a period as a timestamp bound: lines written before the
/// next day.
fn end_bound(to: NaiveDate) -> String {
    format!("{}", to.succ_opt().unwrap_or(to))
}

/// The next invoice number of `year`: `2026` and five digits.
async fn next_number(tx: &mut Transaction<'static, Any>, year: i32) -> Result<String, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "INSERT INTO fee_counters (year, next) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET next = fee_counters.next + 1 RETURNING next",
    )
    .bind(i64::from(year))
    .fetch_one(&mut **tx)
    .await?;
    Ok(format!("{year}{n:05}"))
}

fn summary_from_row(row: &AnyRow) -> Result<InvoiceSummary, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let billing: Customer = json_col(&row.try_get::<String, _>("billing")?)?;
    Ok(InvoiceSummary {
        id: row.try_get("id")?,
        kind: if kind == "credit_note" {
            InvoiceKind::CreditNote
        } else {
            InvoiceKind::Invoice
        },
        number: row.try_get("number")?,
        reference: row.try_get("reference")?,
        customer: row.try_get("customer")?,
        customer_name: billing.name.clone(),
        lines: usize::try_from(row.try_get::<i64, _>("line_count")?).unwrap_or(0),
        totals: Amounts {
            net: row.try_get("net_cents")?,
            vat: row.try_get("vat_cents")?,
            gross: row.try_get("gross_cents")?,
        },
        currency: row.try_get("currency")?,
        e_invoice: billing.e_invoice,
    })
}

const SUMMARY: &str = "SELECT i.*, (SELECT COUNT(*) FROM fee_lines l WHERE l.invoice_id = i.id) AS line_count FROM fee_invoices i";

impl Fees {
    /// Invoices the open lines written up to `to` (inclusive), per
    /// customer. The same period again returns the run made the first
    /// time; customers whose details lack what an invoice needs are listed
    /// and their lines stay open.
    pub async fn run(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        staff: &str,
    ) -> Result<Result<InvoiceRun, LedgerError>, sqlx::Error> {
        if to < from {
            return Ok(Err(LedgerError::PeriodBackwards));
        }
        if let Some(run) = self.run_of(from, to).await? {
            return Ok(Ok(run));
        }
        // Customers with open lines, and their details, read before the
        // write transaction (the details are copied onto each invoice).
        let end = end_bound(to);
        let mut customers: Vec<(Customer, Payer)> = Vec::new();
        for row in sqlx::query(&format!(
            "SELECT DISTINCT customer, payer FROM fee_lines WHERE invoice_id IS NULL AND created_at < $1 AND {NOT_WAIVED} ORDER BY customer"
        ))
        .bind(&end)
        .fetch_all(&self.db.pool)
        .await?
        {
            let code: String = row.try_get("customer")?;
            let payer = Payer::from_code(&row.try_get::<String, _>("payer")?).unwrap_or(Payer::Partner);
            customers.push((store::customer(&self.db.pool, &code, payer).await?, payer));
        }
        let run_id = format!("RUN-{from}-{to}");
        let mut tx = self.db.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO fee_runs (id, period_from, period_to, cannot_invoice, created_by, created_at) VALUES ($1, $2, $3, '[]', $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&run_id)
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(staff)
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            // Another instance made this run meanwhile.
            tx.rollback().await?;
            return Ok(Ok(self
                .run_of(from, to)
                .await?
                .ok_or(sqlx::Error::RowNotFound)?));
        }
        let today = Utc::now().date_naive();
        let due = today + chrono::Days::new(u64::from(self.config.payment_days));
        let mut cannot = Vec::new();
        for (customer, payer) in customers {
            let open: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM fee_lines WHERE invoice_id IS NULL AND customer = $1 AND created_at < $2 AND {NOT_WAIVED}"
            ))
            .bind(&customer.code)
            .bind(&end)
            .fetch_one(&mut *tx)
            .await?;
            if open == 0 {
                continue;
            }
            let lacks = missing(&customer, payer);
            if !lacks.is_empty() {
                cannot.push(CannotInvoice {
                    customer: customer.code.clone(),
                    name: customer.name.clone(),
                    missing: lacks,
                    lines: usize::try_from(open).unwrap_or(0),
                });
                continue;
            }
            let invoice_id = format!("INV-{}", uuid::Uuid::new_v4().simple());
            // Claim the lines: a line another run took meanwhile is not
            // taken again.
            let claimed = sqlx::query(&format!(
                "UPDATE fee_lines SET invoice_id = $1 WHERE invoice_id IS NULL AND customer = $2 AND created_at < $3 AND {NOT_WAIVED}"
            ))
            .bind(&invoice_id)
            .bind(&customer.code)
            .bind(&end)
            .execute(&mut *tx)
            .await?;
            if claimed.rows_affected() == 0 {
                continue;
            }
            let lines: Vec<_> = sqlx::query("SELECT * FROM fee_lines WHERE invoice_id = $1")
                .bind(&invoice_id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(line_from_row)
                .collect::<Result<_, _>>()?;
            let totals = lines.iter().fold(Amounts::default(), |a, l| a + l.amounts);
            let currency = lines
                .first()
                .map(|l| l.currency.clone())
                .unwrap_or_else(|| "EUR".into());
            let number = next_number(&mut tx, today.year()).await?;
            let reference = reference(&number).unwrap_or_default();
            sqlx::query(
                "INSERT INTO fee_invoices (id, run_id, kind, number, reference, customer, payer, billing, invoice_date, due_date, currency, net_cents, vat_cents, gross_cents, credits, created_by, created_at) \
                 VALUES ($1, $2, 'invoice', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, $14, $15)",
            )
            .bind(&invoice_id)
            .bind(&run_id)
            .bind(&number)
            .bind(&reference)
            .bind(&customer.code)
            .bind(payer.code())
            .bind(serde_json::to_string(&customer).unwrap_or_default())
            .bind(today.to_string())
            .bind(due.to_string())
            .bind(&currency)
            .bind(totals.net)
            .bind(totals.vat)
            .bind(totals.gross)
            .bind(staff)
            .bind(ts(Utc::now()))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE fee_runs SET cannot_invoice = $1 WHERE id = $2")
            .bind(serde_json::to_string(&cannot).unwrap_or_else(|_| "[]".into()))
            .bind(&run_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(self
            .run_of(from, to)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?))
    }

    async fn run_from_row(&self, row: &AnyRow) -> Result<InvoiceRun, sqlx::Error> {
        let id: String = row.try_get("id")?;
        let invoices = sqlx::query(&format!("{SUMMARY} WHERE i.run_id = $1 ORDER BY i.number"))
            .bind(&id)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(summary_from_row)
            .collect::<Result<_, _>>()?;
        Ok(InvoiceRun {
            period_from: parse_date(&row.try_get::<String, _>("period_from")?)?,
            period_to: parse_date(&row.try_get::<String, _>("period_to")?)?,
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
            cannot_invoice: json_col(&row.try_get::<String, _>("cannot_invoice")?)?,
            invoices,
            id,
        })
    }

    pub async fn run_of(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Option<InvoiceRun>, sqlx::Error> {
        match sqlx::query("SELECT * FROM fee_runs WHERE period_from = $1 AND period_to = $2")
            .bind(from.to_string())
            .bind(to.to_string())
            .fetch_optional(&self.db.pool)
            .await?
        {
            Some(row) => Ok(Some(self.run_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    pub async fn run_by_id(&self, id: &str) -> Result<Option<InvoiceRun>, sqlx::Error> {
        match sqlx::query("SELECT * FROM fee_runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
        {
            Some(row) => Ok(Some(self.run_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    /// The newest runs first, with credit notes as a run of their own
    /// (period: their dates).
    pub async fn runs(&self) -> Result<Vec<InvoiceRun>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM fee_runs ORDER BY created_at DESC LIMIT 50")
            .fetch_all(&self.db.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.run_from_row(row).await?);
        }
        Ok(out)
    }

    /// Credit notes, newest first.
    pub async fn credit_notes(&self) -> Result<Vec<InvoiceSummary>, sqlx::Error> {
        sqlx::query(&format!(
            "{SUMMARY} WHERE i.kind = 'credit_note' ORDER BY i.created_at DESC LIMIT 200"
        ))
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(summary_from_row)
        .collect()
    }

    pub async fn invoice(&self, id: &str) -> Result<Option<Invoice>, sqlx::Error> {
        let Some(row) = sqlx::query("SELECT * FROM fee_invoices WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
        else {
            return Ok(None);
        };
        let lines =
            sqlx::query("SELECT * FROM fee_lines WHERE invoice_id = $1 ORDER BY created_at, id")
                .bind(id)
                .fetch_all(&self.db.pool)
                .await?
                .iter()
                .map(line_from_row)
                .collect::<Result<_, _>>()?;
        let kind: String = row.try_get("kind")?;
        let payer: String = row.try_get("payer")?;
        let credits: Option<String> = row.try_get("credits")?;
        let credits_number: Option<String> = match &credits {
            Some(c) => {
                sqlx::query_scalar("SELECT number FROM fee_invoices WHERE id = $1")
                    .bind(c)
                    .fetch_optional(&self.db.pool)
                    .await?
            }
            None => None,
        };
        Ok(Some(Invoice {
            id: row.try_get("id")?,
            run_id: row.try_get("run_id")?,
            kind: if kind == "credit_note" {
                InvoiceKind::CreditNote
            } else {
                InvoiceKind::Invoice
            },
            number: row.try_get("number")?,
            reference: row.try_get("reference")?,
            customer: json_col(&row.try_get::<String, _>("billing")?)?,
            payer: Payer::from_code(&payer).unwrap_or(Payer::Partner),
            date: parse_date(&row.try_get::<String, _>("invoice_date")?)?,
            due_date: parse_date(&row.try_get::<String, _>("due_date")?)?,
            currency: row.try_get("currency")?,
            totals: Amounts {
                net: row.try_get("net_cents")?,
                vat: row.try_get("vat_cents")?,
                gross: row.try_get("gross_cents")?,
            },
            credits,
            credits_number,
            lines,
            created_by: row.try_get("created_by")?,
        }))
    }

    /// A credit note reversing `lines` of invoice `invoice_id`: each line
    /// is credited at most once.
    pub async fn credit(
        &self,
        invoice_id: &str,
        lines: &[String],
        reason: &str,
        staff: &str,
    ) -> Result<Result<String, LedgerError>, sqlx::Error> {
        if lines.is_empty() {
            return Ok(Err(LedgerError::NothingChosen));
        }
        if reason.trim().is_empty() {
            return Ok(Err(LedgerError::ReasonMissing));
        }
        let Some(original) = self.invoice(invoice_id).await? else {
            return Ok(Err(LedgerError::NoSuchLine));
        };
        if original.kind != InvoiceKind::Invoice {
            return Ok(Err(LedgerError::NotOnInvoice));
        }
        let mut chosen = Vec::new();
        for id in lines {
            match original.lines.iter().find(|l| &l.id == id) {
                Some(l) if l.kind != LineKind::Credit => chosen.push(l.clone()),
                _ => return Ok(Err(LedgerError::NotOnInvoice)),
            }
        }
        let mut tx = self.db.begin_write().await?;
        for l in &chosen {
            let credited: Option<String> = sqlx::query_scalar(
                "SELECT id FROM fee_lines WHERE refers_to = $1 AND kind = 'credit'",
            )
            .bind(&l.id)
            .fetch_optional(&mut *tx)
            .await?;
            if credited.is_some() {
                return Ok(Err(LedgerError::AlreadyCredited));
            }
        }
        let today = Utc::now().date_naive();
        let note_id = format!("INV-{}", uuid::Uuid::new_v4().simple());
        let mut totals = Amounts::default();
        for l in &chosen {
            let quantity = -l.quantity;
            let a = app::fees::amounts(l.unit_cents, quantity, l.vat_basis_points);
            totals = totals + a;
            let line = store::NewLine {
                kind: LineKind::Credit,
                payer: l.payer,
                customer: l.customer.clone(),
                side: l.side.clone(),
                request_id: l.request_id.clone(),
                billable: l.billable,
                event_seq: None,
                refers_to: Some(l.id.clone()),
                rule_id: l.rule_id,
                description: l.description.clone(),
                quantity,
                unit_cents: l.unit_cents,
                vat_basis_points: l.vat_basis_points,
                amounts: a,
                currency: l.currency.clone(),
                reason: Some(reason.trim().to_owned()),
                created_by: staff.to_owned(),
                invoice_id: Some(note_id.clone()),
            };
            if !store::insert_line(&mut *tx, &line).await? {
                return Ok(Err(LedgerError::AlreadyCredited));
            }
        }
        let number = next_number(&mut tx, today.year()).await?;
        sqlx::query(
            "INSERT INTO fee_invoices (id, run_id, kind, number, reference, customer, payer, billing, invoice_date, due_date, currency, net_cents, vat_cents, gross_cents, credits, created_by, created_at) \
             VALUES ($1, NULL, 'credit_note', $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&note_id)
        .bind(&number)
        .bind(reference(&number).unwrap_or_default())
        .bind(&original.customer.code)
        .bind(original.payer.code())
        .bind(serde_json::to_string(&original.customer).unwrap_or_default())
        .bind(today.to_string())
        .bind(&original.currency)
        .bind(totals.net)
        .bind(totals.vat)
        .bind(totals.gross)
        .bind(&original.id)
        .bind(staff)
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(note_id))
    }

    /// Billable events in `from..=to` against the lines written for them.
    pub async fn reconcile(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Reconciliation, sqlx::Error> {
        // Three reads for the whole period: the events (with why any was
        // skipped), their charge lines, and the lines that refer to those.
        let actions = app::fees::Billable::actions()
            .iter()
            .map(|(side, action)| format!("(e.side = '{side}' AND e.action = '{action}')"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let period = format!("e.at >= $1 AND e.at < $2 AND ({actions})");
        let (start, end) = (from.to_string(), end_bound(to));
        let events = sqlx::query(&format!(
            "SELECT e.seq, e.request_id, s.reason FROM request_events e \
             LEFT JOIN fee_skips s ON s.event_seq = e.seq WHERE {period} ORDER BY e.seq"
        ))
        .bind(&start)
        .bind(&end)
        .fetch_all(&self.db.pool)
        .await?;
        let mut charges = std::collections::HashMap::new();
        for row in sqlx::query(&format!(
            "SELECT c.event_seq AS charged_event, c.* FROM fee_lines c \
             JOIN request_events e ON c.event_seq = e.seq WHERE c.kind = 'charge' AND {period}"
        ))
        .bind(&start)
        .bind(&end)
        .fetch_all(&self.db.pool)
        .await?
        {
            charges.insert(
                row.try_get::<i64, _>("charged_event")?,
                line_from_row(&row)?,
            );
        }
        let mut related: std::collections::HashMap<String, Vec<app::fees::FeeLine>> =
            std::collections::HashMap::new();
        for row in sqlx::query(&format!(
            "SELECT r.* FROM fee_lines r JOIN fee_lines c ON r.refers_to = c.id \
             JOIN request_events e ON c.event_seq = e.seq WHERE c.kind = 'charge' AND {period}"
        ))
        .bind(&start)
        .bind(&end)
        .fetch_all(&self.db.pool)
        .await?
        {
            let line = line_from_row(&row)?;
            related
                .entry(line.refers_to.clone().unwrap_or_default())
                .or_default()
                .push(line);
        }
        let cursor = self.cursor().await?;
        let mut r = Reconciliation {
            from: Some(from),
            to: Some(to),
            events: events.len(),
            ..Default::default()
        };
        for row in &events {
            let seq: i64 = row.try_get("seq")?;
            let request: String = row.try_get("request_id")?;
            if let Some(charge) = charges.get(&seq) {
                r.charged += 1;
                let mut waived = false;
                let mut adjusted = Amounts::default();
                for rel in related
                    .get(&charge.id)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    match rel.kind {
                        LineKind::Waiver => {
                            waived = true;
                            r.waived = r.waived + charge.amounts;
                        }
                        LineKind::Credit => r.credited = r.credited + rel.amounts,
                        LineKind::Adjustment => adjusted = adjusted + rel.amounts,
                        LineKind::Charge => {}
                    }
                }
                r.adjusted = r.adjusted + adjusted;
                if !waived {
                    if charge.invoice_id.is_some() {
                        r.invoiced = r.invoiced + charge.amounts + adjusted;
                    } else {
                        r.open = r.open + charge.amounts + adjusted;
                    }
                }
                continue;
            }
            let skip: Option<String> = row.try_get("reason")?;
            match skip.as_deref() {
                Some(app::fees::SKIP_OTHER_CURRENCY) => r.other_currency.push(request),
                Some(_) => r.no_rule.push(request),
                None if seq > cursor => r.pending.push(request),
                None => r.unexplained.push(request),
            }
        }
        Ok(r)
    }
}
