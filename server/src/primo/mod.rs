//! Kauko inside Primo (issue 20):
//!
//! - `GET /widgets/kauko-primo.js`: the widget bundle (custom elements
//!   `<kauko-ill-button>` and `<kauko-ill-status>`, `frontend/primo/`),
//!   and the two shims beside it (`kauko-primo-classic.js` for Primo VE's
//!   `custom.js`, `kauko-primo-nde.js` the NDE add-on);
//! - `GET /primo/request?addata.…`: the button's target: the record's
//!   fields mapped to OpenURL ([`app::domain::pnx`]) and the browser sent
//!   on to Kauko's request form (`/request?<KEV>`);
//! - `GET /primo/status`: the status widget's data, for the Primo user
//!   whose JWT ([`jwt`]) comes with it;
//! - CORS ([`cors`]) for these paths: only `primo.allowed_origins`.

pub mod cors;
pub mod jwt;
pub mod status;
pub mod widgets;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::RawQuery;
use axum::http::{header, Response, StatusCode};
use axum::routing::get;
use axum::Router;

use crate::web::AppState;

/// What the Primo endpoints share.
#[derive(Clone)]
pub struct PrimoState {
    pub app: AppState,
    /// `None` when `primo.institution` is not configured.
    pub verifier: Option<Arc<jwt::Verifier>>,
    pub origins: Arc<cors::Origins>,
}

/// The Primo routes, with their own CORS layer, for merging into Kauko's
/// router.
pub fn router(state: &AppState) -> Router<AppState> {
    let verifier = jwt::Verifier::from_config(&state.config.primo).map(Arc::new);
    router_with(state, verifier)
}

/// As [`router`], with a given verifier (tests).
pub fn router_with(state: &AppState, verifier: Option<Arc<jwt::Verifier>>) -> Router<AppState> {
    let origins = Arc::new(cors::Origins::new(
        &state.config.primo.allowed_origins,
        &state.config.public_url(),
    ));
    let primo = PrimoState {
        app: state.clone(),
        verifier,
        origins: origins.clone(),
    };
    Router::new()
        .route("/widgets/{file}", get(widgets::serve))
        .route("/primo/request", get(request))
        .route(
            "/primo/status",
            get(status::status).options(cors::preflight),
        )
        .layer(axum::middleware::from_fn_with_state(origins, cors::cors))
        .with_state(primo)
}

/// `GET /primo/request?addata.atitle=…`: 303 to `/request?<OpenURL>`.
pub async fn request(RawQuery(query): RawQuery) -> Response<Body> {
    let query = query.unwrap_or_default();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let pnx =
        app::domain::pnx::Pnx::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let lang = pairs
        .iter()
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| app::i18n::Lang::from_tag(v));
    let mut target = if pnx.is_empty() {
        "/request".to_owned()
    } else {
        format!("/request?{}", app::domain::pnx::to_openurl(&pnx))
    };
    if let Some(lang) = lang {
        target.push(if target.contains('?') { '&' } else { '?' });
        target.push_str("lang=");
        target.push_str(lang.code());
    }
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, target)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::empty())
        .unwrap_or_default()
}
