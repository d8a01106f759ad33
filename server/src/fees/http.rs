//! The fee files, for staff: a run's SAP intake file (CSV, XLSX), an
//! invoice's Finvoice XML and its printable page. Each export is written to
//! the audit trail (`fee_exports`: who, what, when).

use app::i18n::Lang;
use app::viewer::Viewer;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Extension;
use chrono::Utc;
use serde::Deserialize;

use crate::storage::ts;
use crate::web::AppState;

fn file(content_type: &str, name: &str, body: Vec<u8>) -> Response<Body> {
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(body))
        .unwrap_or_default()
}

fn failed(e: impl std::fmt::Display) -> Response<Body> {
    tracing::error!(error = %e, "fees: export failed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

async fn audit(
    state: &AppState,
    run: Option<&str>,
    invoice: Option<&str>,
    format: &str,
    staff: &str,
) {
    let done = sqlx::query(
        "INSERT INTO fee_exports (id, run_id, invoice_id, format, exported_by, exported_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(run)
    .bind(invoice)
    .bind(format)
    .bind(staff)
    .bind(ts(Utc::now()))
    .execute(&state.db.pool)
    .await;
    if let Err(e) = done {
        tracing::warn!(error = %e, "fees: cannot record an export");
    }
}

/// `GET /staff/fees/runs/{id}/{file}` with `sap.csv` or `sap.xlsx`.
pub async fn run_file(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    viewer: Option<Extension<Viewer>>,
) -> Response<Body> {
    let staff = match crate::auth::guard::staff_only(viewer) {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    let fees = &state.fees;
    let run = match fees.run_by_id(&id).await {
        Ok(Some(r)) => r,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return failed(e),
    };
    let mut invoices = Vec::with_capacity(run.invoices.len());
    for s in &run.invoices {
        match fees.invoice(&s.id).await {
            Ok(Some(i)) => invoices.push(i),
            Ok(None) => {}
            Err(e) => return failed(e),
        }
    }
    let base = format!("kauko-laskut-{}-{}", run.period_from, run.period_to);
    let answer = match name.as_str() {
        "sap.csv" => super::export::csv(&invoices, &fees.config, fees.default_lang)
            .map(|b| file("text/csv; charset=utf-8", &format!("{base}.csv"), b)),
        "sap.xlsx" => super::export::xlsx(&invoices, &fees.config, fees.default_lang).map(|b| {
            file(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &format!("{base}.xlsx"),
                b,
            )
        }),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match answer {
        Ok(r) => {
            audit(&state, Some(&run.id), None, &name, &staff.user_id).await;
            r
        }
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// `GET /staff/fees/invoices/{id}/{file}` with `finvoice.xml` or `print`.
pub async fn invoice_file(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    Query(query): Query<LangQuery>,
    viewer: Option<Extension<Viewer>>,
) -> Response<Body> {
    let staff = match crate::auth::guard::staff_only(viewer) {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    let fees = &state.fees;
    let inv = match fees.invoice(&id).await {
        Ok(Some(i)) => i,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return failed(e),
    };
    let customer_lang = inv.customer.lang.as_deref().and_then(Lang::from_tag);
    let lang = query
        .lang
        .as_deref()
        .and_then(Lang::from_tag)
        .or(customer_lang)
        .unwrap_or(fees.default_lang);
    let answer = match name.as_str() {
        "finvoice.xml" => super::finvoice::finvoice(
            &inv,
            &fees.config,
            customer_lang.unwrap_or(fees.default_lang),
        )
        .map(|b| {
            file(
                "application/xml; charset=utf-8",
                &format!("finvoice-{}.xml", inv.number),
                b,
            )
        }),
        "print" => {
            let nonce = uuid::Uuid::new_v4().simple().to_string();
            super::print::page(&inv, &fees.config, lang, &nonce).map(|html| {
            Response::builder()
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .header(
                    header::CONTENT_SECURITY_POLICY,
                    format!("default-src 'none'; style-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"),
                )
                .header(header::CACHE_CONTROL, "no-store")
                .body(Body::from(html))
                .unwrap_or_default()
            })
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match answer {
        Ok(r) => {
            audit(
                &state,
                inv.run_id.as_deref(),
                Some(&inv.id),
                &name,
                &staff.user_id,
            )
            .await;
            r
        }
        Err(e) => failed(e),
    }
}
