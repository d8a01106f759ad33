//! The fee tables: rules, lines, skips and customers.

use app::domain::history::RequestEvent;
use app::fees::{
    amounts, check_customer, check_rule, Amounts, Billable, CitationType, Conditions, Customer,
    CustomerError, ExportRecord, FeeLine, FeeRule, LedgerError, LineChange, LineKind, NewRule,
    PartnerGroup, Payer, RuleError, Scope, Urgency,
};
use chrono::{NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::storage::{parse_date, ts, Db};

/// A new stable line id: `FL-` and 16 hex digits.
pub fn line_id() -> String {
    let u = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .to_ascii_uppercase();
    format!("FL-{}", &u[..16])
}

fn rule_from_row(row: &AnyRow) -> Result<FeeRule, sqlx::Error> {
    let bad = |what: &str| sqlx::Error::Decode(format!("bad fee rule {what}").into());
    let scope_kind: String = row.try_get("scope_kind")?;
    let scope_value: Option<String> = row.try_get("scope_value")?;
    let scope = match scope_kind.as_str() {
        "everyone" => Scope::Everyone,
        "group" => Scope::Group(
            scope_value
                .as_deref()
                .and_then(PartnerGroup::from_code)
                .ok_or_else(|| bad("group"))?,
        ),
        "partner" => Scope::Partner(scope_value.ok_or_else(|| bad("partner"))?),
        _ => return Err(bad("scope")),
    };
    let billable: String = row.try_get("billable")?;
    let valid_to: Option<String> = row.try_get("valid_to")?;
    let material: Option<String> = row.try_get("material")?;
    let urgency: Option<String> = row.try_get("urgency")?;
    let conditions = Conditions {
        material: material
            .map(|m| CitationType::from_code(&m).ok_or_else(|| bad("material")))
            .transpose()?,
        urgency: urgency
            .map(|u| Urgency::from_code(&u).ok_or_else(|| bad("urgency")))
            .transpose()?,
        patron_group: row.try_get("patron_group")?,
    };
    Ok(FeeRule {
        id: row.try_get("id")?,
        rule: NewRule {
            name: row.try_get("name")?,
            billable: Billable::from_code(&billable).ok_or_else(|| bad("billable"))?,
            scope,
            conditions,
            amount_cents: row.try_get("amount_cents")?,
            currency: row.try_get("currency")?,
            vat_applies: row.try_get::<i64, _>("vat_applies")? != 0,
            vat_basis_points: row.try_get("vat_basis_points")?,
            valid_from: parse_date(&row.try_get::<String, _>("valid_from")?)?,
            valid_to: valid_to.as_deref().map(parse_date).transpose()?,
        },
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn rules(db: &Db) -> Result<Vec<FeeRule>, sqlx::Error> {
    sqlx::query("SELECT * FROM fee_rules ORDER BY billable, valid_from, id")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(rule_from_row)
        .collect()
}

fn scope_parts(scope: &Scope) -> (&'static str, Option<String>) {
    match scope {
        Scope::Everyone => ("everyone", None),
        Scope::Group(g) => ("group", Some(g.code().to_owned())),
        Scope::Partner(p) => ("partner", Some(p.clone())),
    }
}

/// Adds a rule after checking it against the others (in one write
/// transaction, so two staff members cannot add overlapping rules at once).
pub async fn add_rule(
    db: &Db,
    rule: NewRule,
    staff: &str,
) -> Result<Result<i64, RuleError>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    if let Scope::Partner(code) = &rule.scope {
        let known: Option<String> = sqlx::query_scalar("SELECT code FROM partners WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_none() {
            return Ok(Err(RuleError::UnknownPartner(code.clone())));
        }
    }
    let existing: Vec<FeeRule> = sqlx::query("SELECT * FROM fee_rules")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(rule_from_row)
        .collect::<Result<_, _>>()?;
    if let Err(e) = check_rule(&rule, &existing, None) {
        return Ok(Err(e));
    }
    let (kind, value) = scope_parts(&rule.scope);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO fee_rules (name, billable, scope_kind, scope_value, amount_cents, currency, vat_applies, vat_basis_points, valid_from, valid_to, created_by, created_at, material, urgency, patron_group) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(&rule.name)
    .bind(rule.billable.code())
    .bind(kind)
    .bind(value)
    .bind(rule.amount_cents)
    .bind(&rule.currency)
    .bind(i64::from(rule.vat_applies))
    .bind(rule.vat_basis_points)
    .bind(rule.valid_from.to_string())
    .bind(rule.valid_to.map(|d| d.to_string()))
    .bind(staff)
    .bind(ts(Utc::now()))
    .bind(rule.conditions.material.map(|m| m.code()))
    .bind(rule.conditions.urgency.map(|u| u.code()))
    .bind(rule.conditions.patron_group.clone())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// Ends a rule on `day`: it prices nothing after. Lines it wrote stay.
pub async fn end_rule(
    db: &Db,
    id: i64,
    day: NaiveDate,
    staff: &str,
) -> Result<Result<(), RuleError>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let Some(row) = sqlx::query("SELECT * FROM fee_rules WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(Err(RuleError::NameMissing));
    };
    let rule = rule_from_row(&row)?;
    if day < rule.rule.valid_from {
        return Ok(Err(RuleError::EndsBeforeStart));
    }
    sqlx::query("UPDATE fee_rules SET valid_to = $1, ended_by = $2 WHERE id = $3")
        .bind(day.to_string())
        .bind(staff)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Records why a billable event has no line.
pub async fn skip(
    db: &Db,
    event: &RequestEvent,
    billable: Billable,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO fee_skips (event_seq, side, request_id, billable, reason, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(event.seq)
    .bind(event.side.code())
    .bind(&event.request_id)
    .bind(billable.code())
    .bind(reason)
    .bind(ts(Utc::now()))
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// A line to write.
#[derive(Clone, Debug)]
pub struct NewLine {
    pub kind: LineKind,
    pub payer: Payer,
    pub customer: String,
    pub side: String,
    pub request_id: String,
    pub billable: Option<Billable>,
    pub event_seq: Option<i64>,
    pub refers_to: Option<String>,
    pub rule_id: Option<i64>,
    pub description: String,
    pub quantity: i64,
    pub unit_cents: i64,
    pub vat_basis_points: i64,
    pub amounts: Amounts,
    pub currency: String,
    pub reason: Option<String>,
    pub created_by: String,
    pub invoice_id: Option<String>,
}

/// Writes a line unless its event (or the line it credits or waives)
/// already has one; returns whether it wrote.
pub async fn insert_line<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    line: &NewLine,
) -> Result<bool, sqlx::Error> {
    insert_line_with_id(ex, &line_id(), line).await
}

pub async fn insert_line_with_id<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    line: &NewLine,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO fee_lines (id, kind, payer, customer, side, request_id, billable, event_seq, refers_to, rule_id, description, quantity, unit_cents, vat_basis_points, net_cents, vat_cents, gross_cents, currency, reason, created_by, created_at, invoice_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(line.kind.code())
    .bind(line.payer.code())
    .bind(&line.customer)
    .bind(&line.side)
    .bind(&line.request_id)
    .bind(line.billable.map(|b| b.code()))
    .bind(line.event_seq)
    .bind(&line.refers_to)
    .bind(line.rule_id)
    .bind(&line.description)
    .bind(line.quantity)
    .bind(line.unit_cents)
    .bind(line.vat_basis_points)
    .bind(line.amounts.net)
    .bind(line.amounts.vat)
    .bind(line.amounts.gross)
    .bind(&line.currency)
    .bind(&line.reason)
    .bind(&line.created_by)
    .bind(ts(Utc::now()))
    .bind(&line.invoice_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub fn line_from_row(row: &AnyRow) -> Result<FeeLine, sqlx::Error> {
    let bad = |what: &str| sqlx::Error::Decode(format!("bad fee line {what}").into());
    let kind: String = row.try_get("kind")?;
    let payer: String = row.try_get("payer")?;
    let billable: Option<String> = row.try_get("billable")?;
    Ok(FeeLine {
        id: row.try_get("id")?,
        kind: LineKind::from_code(&kind).ok_or_else(|| bad("kind"))?,
        payer: Payer::from_code(&payer).ok_or_else(|| bad("payer"))?,
        customer: row.try_get("customer")?,
        side: row.try_get("side")?,
        request_id: row.try_get("request_id")?,
        billable: billable.as_deref().and_then(Billable::from_code),
        refers_to: row.try_get("refers_to")?,
        rule_id: row.try_get("rule_id")?,
        description: row.try_get("description")?,
        quantity: row.try_get("quantity")?,
        unit_cents: row.try_get("unit_cents")?,
        vat_basis_points: row.try_get("vat_basis_points")?,
        amounts: Amounts {
            net: row.try_get("net_cents")?,
            vat: row.try_get("vat_cents")?,
            gross: row.try_get("gross_cents")?,
        },
        currency: row.try_get("currency")?,
        reason: row.try_get("reason")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        invoice_id: row.try_get("invoice_id")?,
    })
}

/// Lines that are waived (the charge and its waiver): never invoiced.
pub const NOT_WAIVED: &str =
    "kind <> 'waiver' AND id NOT IN (SELECT refers_to FROM fee_lines WHERE kind = 'waiver')";

/// Open lines, newest first (with `all`, every line).
pub async fn lines(db: &Db, all: bool) -> Result<Vec<FeeLine>, sqlx::Error> {
    let sql = if all {
        "SELECT * FROM fee_lines ORDER BY created_at DESC, id LIMIT 1000".to_owned()
    } else {
        format!("SELECT * FROM fee_lines WHERE invoice_id IS NULL AND {NOT_WAIVED} ORDER BY created_at DESC, id LIMIT 1000")
    };
    sqlx::query(&sql)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(line_from_row)
        .collect()
}

pub async fn lines_of_request(
    db: &Db,
    side: &str,
    request: &str,
) -> Result<Vec<FeeLine>, sqlx::Error> {
    sqlx::query(
        "SELECT * FROM fee_lines WHERE side = $1 AND request_id = $2 ORDER BY created_at, id",
    )
    .bind(side)
    .bind(request)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(line_from_row)
    .collect()
}

/// An adjustment (the difference to the right unit price) or a waiver of
/// an open charge: a new line referring to it.
pub async fn change_line(
    db: &Db,
    id: &str,
    change: LineChange,
    reason: &str,
    staff: &str,
) -> Result<Result<String, LedgerError>, sqlx::Error> {
    if reason.trim().is_empty() {
        return Ok(Err(LedgerError::ReasonMissing));
    }
    let mut tx = db.begin_write().await?;
    let Some(row) = sqlx::query("SELECT * FROM fee_lines WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(Err(LedgerError::NoSuchLine));
    };
    let line = line_from_row(&row)?;
    if line.invoice_id.is_some() {
        return Ok(Err(LedgerError::AlreadyInvoiced));
    }
    if line.kind != LineKind::Charge {
        return Ok(Err(LedgerError::NotOpenCharge));
    }
    let waived: Option<String> =
        sqlx::query_scalar("SELECT id FROM fee_lines WHERE refers_to = $1 AND kind = 'waiver'")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    if waived.is_some() {
        return Ok(Err(LedgerError::NotOpenCharge));
    }
    // What earlier adjustments already moved.
    let adjusted: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(unit_cents * quantity), 0) AS BIGINT) FROM fee_lines WHERE refers_to = $1 AND kind = 'adjustment'",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let current_unit = line.unit_cents + adjusted;
    let (kind, unit, quantity) = match change {
        LineChange::Adjust { unit_cents } if unit_cents < 0 => {
            return Ok(Err(LedgerError::NegativeAmount))
        }
        LineChange::Adjust { unit_cents } => (
            LineKind::Adjustment,
            unit_cents - current_unit,
            line.quantity,
        ),
        LineChange::Waive => (LineKind::Waiver, -current_unit, line.quantity),
    };
    let new = NewLine {
        kind,
        payer: line.payer,
        customer: line.customer.clone(),
        side: line.side.clone(),
        request_id: line.request_id.clone(),
        billable: line.billable,
        event_seq: None,
        refers_to: Some(line.id.clone()),
        rule_id: line.rule_id,
        description: line.description.clone(),
        quantity,
        unit_cents: unit,
        vat_basis_points: line.vat_basis_points,
        amounts: amounts(unit, quantity, line.vat_basis_points),
        currency: line.currency.clone(),
        reason: Some(reason.trim().to_owned()),
        created_by: staff.to_owned(),
        invoice_id: None,
    };
    let new_id = line_id();
    insert_line_with_id(&mut *tx, &new_id, &new).await?;
    tx.commit().await?;
    Ok(Ok(new_id))
}

fn customer_from_row(row: &AnyRow) -> Result<Customer, sqlx::Error> {
    Ok(Customer {
        code: row.try_get("code")?,
        payer: None,
        name: row.try_get("name")?,
        business_id: row.try_get("business_id")?,
        ovt: row.try_get("ovt")?,
        intermediator: row.try_get("intermediator")?,
        street: row.try_get("street")?,
        postcode: row.try_get("postcode")?,
        town: row.try_get("town")?,
        country: row.try_get("country")?,
        email: row.try_get("email")?,
        lang: row.try_get("lang")?,
        e_invoice: row.try_get::<i64, _>("e_invoice")? != 0,
    })
}

pub async fn save_customer(db: &Db, c: Customer) -> Result<Result<(), CustomerError>, sqlx::Error> {
    if let Err(e) = check_customer(&c) {
        return Ok(Err(e));
    }
    sqlx::query(
        "INSERT INTO fee_customers (code, name, business_id, ovt, intermediator, street, postcode, town, country, email, lang, e_invoice, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, business_id = excluded.business_id, ovt = excluded.ovt, \
         intermediator = excluded.intermediator, street = excluded.street, postcode = excluded.postcode, town = excluded.town, \
         country = excluded.country, email = excluded.email, lang = excluded.lang, e_invoice = excluded.e_invoice, updated_at = excluded.updated_at",
    )
    .bind(&c.code)
    .bind(&c.name)
    .bind(&c.business_id)
    .bind(&c.ovt)
    .bind(&c.intermediator)
    .bind(&c.street)
    .bind(&c.postcode)
    .bind(&c.town)
    .bind(&c.country)
    .bind(&c.email)
    .bind(&c.lang)
    .bind(i64::from(c.e_invoice))
    .bind(ts(Utc::now()))
    .execute(&db.pool)
    .await?;
    Ok(Ok(()))
}

/// A customer's billing details: what staff saved, else what the partner
/// record (or the patron's sign-in) says.
pub async fn customer<'e, E>(ex: E, code: &str, payer: Payer) -> Result<Customer, sqlx::Error>
where
    E: Executor<'e, Database = Any> + Copy,
{
    if let Some(row) = sqlx::query("SELECT * FROM fee_customers WHERE code = $1")
        .bind(code)
        .fetch_optional(ex)
        .await?
    {
        let mut c = customer_from_row(&row)?;
        c.payer = Some(payer);
        return Ok(c);
    }
    let row = sqlx::query(&format!(
        "SELECT c.customer, {SOURCES} FROM (SELECT CAST($1 AS TEXT) AS customer) c {SOURCE_JOINS}"
    ))
    .bind(code)
    .fetch_one(ex)
    .await?;
    from_sources(code, payer, &row)
}

/// What the partner record or the patron's sign-in says of a customer
/// without saved details: the columns, and the joins on `c.customer`.
const SOURCES: &str =
    "p.body AS partner_body, t.name AS patron_name, t.email AS patron_email, t.lang AS patron_lang";
const SOURCE_JOINS: &str =
    "LEFT JOIN partners p ON p.code = c.customer LEFT JOIN patrons t ON t.id = c.customer";

fn from_sources(code: &str, payer: Payer, row: &AnyRow) -> Result<Customer, sqlx::Error> {
    let mut c = Customer {
        code: code.to_owned(),
        payer: Some(payer),
        ..Default::default()
    };
    match payer {
        Payer::Partner => {
            if let Some(p) = row
                .try_get::<Option<String>, _>("partner_body")?
                .and_then(|b| serde_json::from_str::<app::domain::partner::Partner>(&b).ok())
            {
                c.name = p.name;
                c.street = p.address.lines.first().cloned();
                c.postcode = p.address.postal_code;
                c.town = p.address.city;
                c.country = p.address.country;
                c.email = p.email;
                c.lang = p.language;
            }
        }
        Payer::Patron => {
            c.name = row
                .try_get::<Option<String>, _>("patron_name")?
                .unwrap_or_default();
            c.email = row.try_get("patron_email")?;
            c.lang = row.try_get("patron_lang")?;
        }
    }
    Ok(c)
}

/// Every customer with saved details or with lines, with their details
/// (two reads, whatever their number).
pub async fn customers(db: &Db) -> Result<Vec<Customer>, sqlx::Error> {
    let mut saved = std::collections::BTreeMap::new();
    for row in sqlx::query("SELECT * FROM fee_customers")
        .fetch_all(&db.pool)
        .await?
    {
        let c = customer_from_row(&row)?;
        saved.insert(c.code.clone(), c);
    }
    let mut out = Vec::new();
    for row in sqlx::query(&format!(
        "SELECT c.customer, c.payer, {SOURCES} FROM (SELECT DISTINCT customer, payer FROM fee_lines) c {SOURCE_JOINS}"
    ))
    .fetch_all(&db.pool)
    .await?
    {
        let code: String = row.try_get("customer")?;
        let payer = Payer::from_code(&row.try_get::<String, _>("payer")?).unwrap_or(Payer::Partner);
        out.push(match saved.get(&code) {
            Some(c) => Customer {
                payer: Some(payer),
                ..c.clone()
            },
            None => from_sources(&code, payer, &row)?,
        });
    }
    let billed: std::collections::HashSet<String> = out.iter().map(|c| c.code.clone()).collect();
    for (code, c) in saved {
        if !billed.contains(&code) {
            out.push(Customer {
                payer: Some(Payer::Partner),
                ..c
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.code.cmp(&b.code)));
    Ok(out)
}

/// The latest `limit` downloads of fee files (the export audit trail),
/// newest first, with the run's period and the invoice's number.
pub async fn exports(db: &Db, limit: i64) -> Result<Vec<ExportRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT e.exported_at, e.exported_by, e.format, r.period_from, r.period_to, i.number \
         FROM fee_exports e LEFT JOIN fee_runs r ON r.id = e.run_id \
         LEFT JOIN fee_invoices i ON i.id = e.invoice_id \
         ORDER BY e.exported_at DESC, e.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            let from: Option<String> = row.try_get("period_from")?;
            let to: Option<String> = row.try_get("period_to")?;
            let period = match (from, to) {
                (Some(f), Some(t)) => Some((parse_date(&f)?, parse_date(&t)?)),
                _ => None,
            };
            Ok(ExportRecord {
                at: row.try_get("exported_at")?,
                by: row.try_get("exported_by")?,
                period,
                invoice_number: row.try_get("number")?,
                file: row.try_get("format")?,
            })
        })
        .collect()
}
