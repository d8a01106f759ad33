//! The staff page's view of the fees ([`app::fees::FeeOffice`]).

use app::domain::history::{Actor, Side};
use app::fees::{
    ChargeError, Customer, CustomerError, ExportRecord, FeeLine, FeeOffice, FeeRule, Invoice,
    InvoiceRun, LedgerError, LineChange, NewRule, Reconciliation, RuleError, StatedCharge,
};
use chrono::NaiveDate;

use super::{charges, store, Fees};

fn err(e: sqlx::Error) -> String {
    e.to_string()
}

#[async_trait::async_trait]
impl FeeOffice for Fees {
    async fn rules(&self) -> Result<Vec<FeeRule>, String> {
        store::rules(&self.db).await.map_err(err)
    }

    async fn add_rule(&self, rule: NewRule, staff: &str) -> Result<Result<i64, RuleError>, String> {
        let done = store::add_rule(&self.db, rule, staff).await.map_err(err)?;
        if done.is_ok() {
            // Events that waited for a rule stay as they were: a rule
            // prices what happens from its first day on.
            self.nudge();
        }
        Ok(done)
    }

    async fn end_rule(
        &self,
        id: i64,
        day: NaiveDate,
        staff: &str,
    ) -> Result<Result<(), RuleError>, String> {
        store::end_rule(&self.db, id, day, staff).await.map_err(err)
    }

    async fn lines(&self, all: bool) -> Result<Vec<FeeLine>, String> {
        // Price what has happened before showing the ledger.
        if let Err(e) = self.plan().await {
            tracing::warn!(error = %e, "fees: cannot price new events");
        }
        store::lines(&self.db, all).await.map_err(err)
    }

    async fn change_line(
        &self,
        line: &str,
        change: LineChange,
        reason: &str,
        staff: &str,
    ) -> Result<Result<String, LedgerError>, String> {
        store::change_line(&self.db, line, change, reason, staff)
            .await
            .map_err(err)
    }

    async fn customers(&self) -> Result<Vec<Customer>, String> {
        store::customers(&self.db).await.map_err(err)
    }

    async fn save_customer(&self, customer: Customer) -> Result<Result<(), CustomerError>, String> {
        store::save_customer(&self.db, customer).await.map_err(err)
    }

    async fn run(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        staff: &str,
    ) -> Result<Result<InvoiceRun, LedgerError>, String> {
        if let Err(e) = self.plan().await {
            tracing::warn!(error = %e, "fees: cannot price new events");
        }
        Fees::run(self, from, to, staff).await.map_err(err)
    }

    async fn runs(&self) -> Result<Vec<InvoiceRun>, String> {
        Fees::runs(self).await.map_err(err)
    }

    async fn invoice(&self, id: &str) -> Result<Option<Invoice>, String> {
        Fees::invoice(self, id).await.map_err(err)
    }

    async fn credit(
        &self,
        invoice: &str,
        lines: Vec<String>,
        reason: &str,
        staff: &str,
    ) -> Result<Result<String, LedgerError>, String> {
        Fees::credit(self, invoice, &lines, reason, staff)
            .await
            .map_err(err)
    }

    async fn reconcile(&self, from: NaiveDate, to: NaiveDate) -> Result<Reconciliation, String> {
        Fees::reconcile(self, from, to).await.map_err(err)
    }

    async fn exports(&self) -> Result<Vec<ExportRecord>, String> {
        store::exports(&self.db, 200).await.map_err(err)
    }

    async fn record_charge(
        &self,
        side: Side,
        request_id: &str,
        charge: StatedCharge,
        staff: &str,
    ) -> Result<Result<(), ChargeError>, String> {
        let done = charges::record(
            &self.db,
            side,
            request_id,
            &charge,
            Actor::Staff(staff.to_owned()),
        )
        .await
        .map_err(err)?;
        if done.is_ok() {
            self.nudge();
        }
        Ok(done.map(|_| ()))
    }
}
