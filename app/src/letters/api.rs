//! The letters' server functions: staff only. Each takes the staff member
//! from the session and calls the [`LetterOffice`](super::LetterOffice)
//! the server provides.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use super::{LetterDetail, LetterSummary, SentLetter, TemplateError};

/// What came of saving a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaveOutcome {
    Saved(i64),
    Refused(TemplateError),
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::sync::Arc;

    use http::StatusCode;
    use leptos::prelude::*;

    use crate::api::ssr::fail;
    use crate::i18n::Lang;
    use crate::letters::{LetterKind, LetterOffice};

    pub fn office() -> Result<Arc<dyn LetterOffice>, ServerFnError> {
        use_context::<Arc<dyn LetterOffice>>()
            .ok_or_else(|| fail(StatusCode::NOT_FOUND, "no letters"))
    }

    pub fn error(e: String) -> ServerFnError {
        leptos::logging::error!("letters: {e}");
        fail(StatusCode::INTERNAL_SERVER_ERROR, "storage error")
    }

    pub fn kind(code: &str) -> Result<LetterKind, ServerFnError> {
        LetterKind::from_code(code).ok_or_else(|| fail(StatusCode::NOT_FOUND, "no such letter"))
    }

    pub fn lang(code: &str) -> Result<Lang, ServerFnError> {
        Lang::from_tag(code).ok_or_else(|| fail(StatusCode::BAD_REQUEST, "no such language"))
    }
}

/// Every letter type, with its switch and last month's deliveries.
#[server(endpoint = "staff/letters/list", input = GetUrl, output = crate::api::codec::Answer)]
pub async fn letters_list() -> Result<Vec<LetterSummary>, ServerFnError> {
    crate::api::ssr::require_staff()?;
    ssr::office()?.summaries().await.map_err(ssr::error)
}

/// One letter's template in one language, with its preview (with the
/// request's data when `request` names one).
#[server(endpoint = "staff/letters/detail", input = GetUrl, output = crate::api::codec::Answer)]
pub async fn letters_detail(
    kind: String,
    lang: String,
    request: Option<String>,
) -> Result<LetterDetail, ServerFnError> {
    crate::api::ssr::require_staff()?;
    let request = request.filter(|r| !r.trim().is_empty());
    ssr::office()?
        .detail(ssr::kind(&kind)?, ssr::lang(&lang)?, request, None)
        .await
        .map_err(ssr::error)
}

/// The preview of a template being edited, before it is saved.
#[server(endpoint = "staff/letters/preview", output = crate::api::codec::Answer)]
pub async fn letters_preview(
    kind: String,
    lang: String,
    request: Option<String>,
    subject: String,
    body: String,
) -> Result<LetterDetail, ServerFnError> {
    crate::api::ssr::require_staff()?;
    let request = request.filter(|r| !r.trim().is_empty());
    ssr::office()?
        .detail(
            ssr::kind(&kind)?,
            ssr::lang(&lang)?,
            request,
            Some(super::TemplateText { subject, body }),
        )
        .await
        .map_err(ssr::error)
}

#[server(endpoint = "staff/letters/save", output = crate::api::codec::Answer)]
pub async fn letters_save(
    kind: String,
    lang: String,
    subject: String,
    body: String,
) -> Result<SaveOutcome, ServerFnError> {
    let staff = crate::api::ssr::require_staff()?;
    let text = super::TemplateText { subject, body };
    match ssr::office()?
        .save(ssr::kind(&kind)?, ssr::lang(&lang)?, text, &staff.user_id)
        .await
        .map_err(ssr::error)?
    {
        Ok(v) => Ok(SaveOutcome::Saved(v)),
        Err(e) => Ok(SaveOutcome::Refused(e)),
    }
}

/// Makes an earlier version (0: the shipped default) current again.
#[server(endpoint = "staff/letters/restore", output = crate::api::codec::Answer)]
pub async fn letters_restore(
    kind: String,
    lang: String,
    version: i64,
) -> Result<i64, ServerFnError> {
    let staff = crate::api::ssr::require_staff()?;
    ssr::office()?
        .restore(
            ssr::kind(&kind)?,
            ssr::lang(&lang)?,
            version,
            &staff.user_id,
        )
        .await
        .map_err(ssr::error)
}

#[server(endpoint = "staff/letters/switch", output = crate::api::codec::Answer)]
pub async fn letters_switch(kind: String, on: bool) -> Result<(), ServerFnError> {
    let staff = crate::api::ssr::require_staff()?;
    ssr::office()?
        .set_enabled(ssr::kind(&kind)?, on, &staff.user_id)
        .await
        .map_err(ssr::error)
}

/// The delivery log: the newest letters, all or only failed ones.
#[server(endpoint = "staff/letters/log", input = GetUrl, output = crate::api::codec::Answer)]
pub async fn letters_log(failed_only: bool) -> Result<Vec<SentLetter>, ServerFnError> {
    crate::api::ssr::require_staff()?;
    let state = failed_only.then_some(super::LetterState::Failed);
    ssr::office()?.log(None, state).await.map_err(ssr::error)
}

#[server(endpoint = "staff/letters/retry", output = crate::api::codec::Answer)]
pub async fn letters_retry(id: String) -> Result<bool, ServerFnError> {
    crate::api::ssr::require_staff()?;
    ssr::office()?.retry(&id).await.map_err(ssr::error)
}
