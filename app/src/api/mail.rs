//! The staff mail page's call: the messages Kauko wrote to its mail folder
//! (the embedded default, when no SMTP server is configured).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One message Kauko wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMail {
    pub id: String,
    pub to: String,
    pub subject: String,
    /// RFC 3339.
    pub date: String,
    pub body: String,
}

/// What the page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailList {
    /// Mail goes out through SMTP: nothing is kept here.
    pub smtp: bool,
    pub messages: Vec<StoredMail>,
}

/// The server's mailer as the page sees it.
#[async_trait::async_trait]
pub trait MailLog: Send + Sync {
    fn smtp(&self) -> bool;
    /// The newest messages in the folder, at most `limit`.
    async fn stored(&self, limit: usize) -> Vec<StoredMail>;
}

/// The newest 200 messages Kauko wrote (staff only).
#[server(endpoint = "staff/mail/list", output = crate::api::codec::Answer)]
pub async fn staff_mail() -> Result<MailList, ServerFnError> {
    super::ssr::require_staff()?;
    let Some(log) = use_context::<std::sync::Arc<dyn MailLog>>() else {
        return Ok(MailList {
            smtp: false,
            messages: Vec::new(),
        });
    };
    Ok(MailList {
        smtp: log.smtp(),
        messages: log.stored(200).await,
    })
}
