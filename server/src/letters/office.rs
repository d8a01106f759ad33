//! The staff page's port on the letters' tables.

use app::i18n::Lang;
use app::letters::{
    LetterDetail, LetterKind, LetterOffice, LetterState, LetterSummary, SentLetter, TemplateError,
    TemplateText,
};
use async_trait::async_trait;

use super::{store, templates, Letters};

fn text(e: sqlx::Error) -> String {
    e.to_string()
}

#[async_trait]
impl LetterOffice for Letters {
    async fn summaries(&self) -> Result<Vec<LetterSummary>, String> {
        let since = crate::storage::ts(chrono::Utc::now() - chrono::Duration::days(30));
        let counts = store::counts(&self.db, &since).await.map_err(text)?;
        let alma = self.alma_letters().await;
        // Two grouped reads for all letters: which languages staff edited,
        // and which letters are switched off.
        let edited_all = store::edited(&self.db).await.map_err(text)?;
        let off = store::switched_off(&self.db).await.map_err(text)?;
        let mut out = Vec::new();
        for kind in LetterKind::ALL {
            let edited: Vec<Lang> = Lang::ALL
                .into_iter()
                .filter(|l| edited_all.contains(&(kind.code().to_owned(), l.code().to_owned())))
                .collect();
            let count = |state: &str| {
                counts
                    .iter()
                    .filter(|(k, s, _)| k == kind.code() && s == state)
                    .map(|(_, _, n)| u64::try_from(*n).unwrap_or(0))
                    .sum()
            };
            out.push(LetterSummary {
                kind,
                enabled: !off.iter().any(|k| k == kind.code()),
                edited,
                alma: alma.get(&kind).cloned(),
                sent: count("sent"),
                failed: count("failed"),
            });
        }
        Ok(out)
    }

    async fn detail(
        &self,
        kind: LetterKind,
        lang: Lang,
        request: Option<String>,
        draft: Option<TemplateText>,
    ) -> Result<LetterDetail, String> {
        let (current, _) = store::current(&self.db, kind, lang).await.map_err(text)?;
        let default = templates::default_text(kind, lang);
        let shown = draft.unwrap_or_else(|| current.clone());
        let checked = templates::validate(kind, &shown);
        let (preview, preview_request) = self
            .preview(kind, lang, &shown, request.as_deref())
            .await
            .map_err(text)?;
        let preview = match checked {
            Err(e) => Err(e),
            Ok(()) => preview,
        };
        Ok(LetterDetail {
            kind,
            lang,
            enabled: store::enabled(&self.db, kind).await.map_err(text)?,
            diff: templates::diff(&default, &shown),
            current: shown,
            default,
            versions: store::versions(&self.db, kind, lang).await.map_err(text)?,
            placeholders: kind
                .placeholders()
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
            preview,
            preview_request,
            alma: self.alma_letters().await.get(&kind).cloned(),
        })
    }

    async fn save(
        &self,
        kind: LetterKind,
        lang: Lang,
        text_in: TemplateText,
        staff: &str,
    ) -> Result<Result<i64, TemplateError>, String> {
        let text_in = TemplateText {
            subject: text_in.subject.trim().to_owned(),
            body: text_in.body.replace("\r\n", "\n").trim().to_owned(),
        };
        if let Err(e) = templates::validate(kind, &text_in) {
            return Ok(Err(e));
        }
        let v = store::save(&self.db, kind, lang, &text_in, staff)
            .await
            .map_err(text)?;
        tracing::info!(kind = kind.code(), lang = lang.code(), version = v, %staff, "letters: template saved");
        Ok(Ok(v))
    }

    async fn restore(
        &self,
        kind: LetterKind,
        lang: Lang,
        version: i64,
        staff: &str,
    ) -> Result<i64, String> {
        let old = if version == 0 {
            templates::default_text(kind, lang)
        } else {
            store::versions(&self.db, kind, lang)
                .await
                .map_err(text)?
                .into_iter()
                .find(|v| v.version == version)
                .map(|v| v.text)
                .ok_or_else(|| format!("no version {version}"))?
        };
        store::save(&self.db, kind, lang, &old, staff)
            .await
            .map_err(text)
    }

    async fn set_enabled(&self, kind: LetterKind, on: bool, staff: &str) -> Result<(), String> {
        store::set_enabled(&self.db, kind, on, staff)
            .await
            .map_err(text)
    }

    async fn log(
        &self,
        kind: Option<LetterKind>,
        state: Option<LetterState>,
    ) -> Result<Vec<SentLetter>, String> {
        store::log(&self.db, kind, state, 100).await.map_err(text)
    }

    async fn retry(&self, id: &str) -> Result<bool, String> {
        let done = store::retry(&self.db, id).await.map_err(text)?;
        if done {
            self.nudge();
        }
        Ok(done)
    }
}
