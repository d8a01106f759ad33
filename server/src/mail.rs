//! Outgoing mail: the confirmation a library gets for its lending request,
//! in Finnish and English both. Through SMTP (lettre) when `mail.smtp_host`
//! is set; otherwise (the embedded default) each message is written to
//! `mail.folder` as an `.eml` file with a `.json` summary beside it, which
//! the staff page `/staff/mail` lists, so Kauko runs without a mail server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use app::domain::{NewLendingRequest, ServiceType};
use async_trait::async_trait;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Config, ConfigError, MailTls};

pub use app::api::mail::StoredMail;

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

pub struct Mailer {
    transport: Transport,
    /// The most messages kept in the folder.
    folder_max: u64,
    from: Mailbox,
    retries: u32,
    first_retry: Duration,
    library: app::site::LocalizedText,
    /// Itself, so a confirmation is sent without keeping the form waiting.
    me: std::sync::Weak<Mailer>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("bad address {0:?}")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("cannot send: {0}")]
    Send(String),
    /// The mail server refused the message for good (a 5xx answer).
    #[error("refused by the mail server: {0}")]
    Refused(String),
}

impl MailError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, MailError::Send(_))
    }
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Arc<Self>, ConfigError> {
        let m = &config.mail;
        let from: Mailbox = m
            .from
            .parse()
            .map_err(|e| ConfigError::new("mail.from", format!("not an e-mail address: {e}")))?;
        let transport = match m.smtp_host.as_deref().filter(|h| !h.trim().is_empty()) {
            None => Transport::Folder(config.mail_folder()),
            Some(host) => {
                let bad = |e: lettre::transport::smtp::Error| {
                    ConfigError::new("mail.smtp_host", format!("{e}"))
                };
                let mut builder = match m.tls {
                    MailTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                    MailTls::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(bad)?
                    }
                    MailTls::Tls => {
                        AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(bad)?
                    }
                };
                builder = builder
                    .port(m.smtp_port)
                    .timeout(Some(Duration::from_secs(m.timeout_seconds)));
                if let (Some(user), Some(password)) = (&m.username, &m.password) {
                    builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
                }
                Transport::Smtp(builder.build())
            }
        };
        let library = config.library.name.localized();
        Ok(Arc::new_cyclic(|me| Self {
            transport,
            folder_max: m.folder_max_messages.max(1),
            from,
            retries: m.retries,
            first_retry: Duration::from_secs(m.first_retry_seconds),
            library,
            me: me.clone(),
        }))
    }

    /// The folder messages are written to, when there is no SMTP server.
    pub fn folder(&self) -> Option<&Path> {
        match &self.transport {
            Transport::Folder(f) => Some(f),
            Transport::Smtp(_) => None,
        }
    }

    /// Sends one plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let to_box: Mailbox = to.parse().map_err(|_| MailError::Address(to.to_owned()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(subject)
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .header(ContentTransferEncoding::QuotedPrintable)
                    .body(body.clone()),
            )
            .map_err(|e| MailError::Build(e.to_string()))?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await.map_err(|e| {
                    if e.is_permanent() {
                        MailError::Refused(e.to_string())
                    } else {
                        MailError::Send(e.to_string())
                    }
                })?;
            }
            Transport::Folder(folder) => {
                tokio::fs::create_dir_all(folder)
                    .await
                    .map_err(|e| MailError::Send(format!("{}: {e}", folder.display())))?;
                let id = AsyncFileTransport::<Tokio1Executor>::new(folder)
                    .send(message)
                    .await
                    .map_err(|e| MailError::Send(e.to_string()))?;
                let summary = StoredMail {
                    id: id.clone(),
                    to: to.to_owned(),
                    subject: subject.to_owned(),
                    date: crate::storage::ts(chrono::Utc::now()),
                    body,
                };
                let json = serde_json::to_vec_pretty(&summary)
                    .map_err(|e| MailError::Send(e.to_string()))?;
                tokio::fs::write(folder.join(format!("{id}.json")), json)
                    .await
                    .map_err(|e| MailError::Send(e.to_string()))?;
                self.trim_folder(folder).await;
            }
        }
        Ok(())
    }

    /// Keeps at most `mail.folder_max_messages` in the folder: the oldest
    /// (by the time in their summary) go, `.eml` and `.json` both.
    async fn trim_folder(&self, folder: &Path) {
        let max = usize::try_from(self.folder_max).unwrap_or(usize::MAX);
        // Counting names is cheap; the summaries are only read when over.
        let mut count = 0;
        if let Ok(mut dir) = tokio::fs::read_dir(folder).await {
            while let Ok(Some(entry)) = dir.next_entry().await {
                if entry.path().extension().is_some_and(|e| e == "json") {
                    count += 1;
                }
            }
        }
        if count <= max {
            return;
        }
        let mut all = self.stored(usize::MAX).await;
        for old in all.split_off(max) {
            for ext in ["eml", "json"] {
                let _ = tokio::fs::remove_file(folder.join(format!("{}.{ext}", old.id))).await;
            }
        }
    }

    /// The messages in the folder, newest first (empty with SMTP).
    pub async fn stored(&self, limit: usize) -> Vec<StoredMail> {
        let Some(folder) = self.folder() else {
            return Vec::new();
        };
        let Ok(mut dir) = tokio::fs::read_dir(folder).await else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while let Ok(Some(entry)) = dir.next_entry().await {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                if let Ok(bytes) = tokio::fs::read(&path).await {
                    if let Ok(mail) = serde_json::from_slice::<StoredMail>(&bytes) {
                        out.push(mail);
                    }
                }
            }
        }
        out.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
        out.truncate(limit);
        out
    }
}

/// The confirmation's subject and text: Finnish first, then English.
pub fn lending_confirmation(
    request: &NewLendingRequest,
    reference: &str,
    library: &app::site::LocalizedText,
) -> (String, String) {
    use app::i18n::Lang;
    let subject = format!("Lainapyyntö vastaanotettu / Lending request received: {reference}");
    let title = &request.citation.title;
    let (service_fi, service_en) = match request.service {
        ServiceType::Loan => ("laina", "loan"),
        ServiceType::Copy => ("kopio", "copy"),
    };
    let who = &request.requester.library_name;
    let body = format!(
        "Hyvä vastaanottaja,\n\n\
         {fi_library} on vastaanottanut kirjastonne {who} lainapyynnön.\n\n\
         Viitenumero: {reference}\n\
         Teos: {title}\n\
         Palvelu: {service_fi}\n\n\
         Käytättehän viitenumeroa, jos otatte yhteyttä pyyntöön liittyen. \
         Tämä on automaattinen viesti.\n\n\
         ----\n\n\
         Dear colleague,\n\n\
         {en_library} has received the lending request of your library {who}.\n\n\
         Reference number: {reference}\n\
         Item: {title}\n\
         Service: {service_en}\n\n\
         Please quote the reference number if you contact us about this request. \
         This message was sent automatically.\n",
        fi_library = library.get(Lang::Fi),
        en_library = library.get(Lang::En),
    );
    (subject, body)
}

#[async_trait]
impl app::api::lend::LendingMail for Mailer {
    async fn confirm(&self, request: &NewLendingRequest, reference: &str) {
        let (subject, body) = lending_confirmation(request, reference, &self.library);
        let Some(this) = self.me.upgrade() else {
            return;
        };
        let to = request.requester.email.clone();
        let reference = reference.to_owned();
        tokio::spawn(async move {
            let mut wait = this.first_retry;
            for attempt in 0..=this.retries {
                match this.send(&to, &subject, body.clone()).await {
                    Ok(()) => {
                        tracing::info!(%reference, attempt, "lending confirmation sent");
                        return;
                    }
                    Err(e) if e.is_transient() && attempt < this.retries => {
                        tracing::warn!(%reference, error = %e, retry_in_seconds = wait.as_secs(), "lending confirmation not sent yet; will retry");
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_secs(3600));
                    }
                    Err(e) => {
                        tracing::error!(%reference, error = %e, "lending confirmation not sent");
                        return;
                    }
                }
            }
        });
    }
}

#[async_trait]
impl app::api::mail::MailLog for Mailer {
    fn smtp(&self) -> bool {
        self.folder().is_none()
    }

    async fn stored(&self, limit: usize) -> Vec<StoredMail> {
        Mailer::stored(self, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confirmation_is_in_finnish_and_english() {
        let request = NewLendingRequest {
            external_id: "k".into(),
            partner_code: "TUNI".into(),
            requester: app::domain::RequesterContact {
                library_name: "Tampere University Library".into(),
                contact_name: None,
                email: "ill@tuni.example.fi".into(),
            },
            citation: app::domain::Citation {
                title: "Seitsemän veljestä".into(),
                ..Default::default()
            },
            service: ServiceType::Copy,
            delivery_address: None,
            max_cost: None,
            needed_by: None,
            note: None,
        };
        let library = app::site::LocalizedText {
            fi: "Kirjasto".into(),
            sv: "Biblioteket".into(),
            en: "The Library".into(),
        };
        let (subject, body) = lending_confirmation(&request, "K7M2-XQ9D", &library);
        assert!(subject.contains("Lainapyyntö") && subject.contains("Lending request"));
        assert!(subject.ends_with("K7M2-XQ9D"));
        assert!(body.contains("Viitenumero: K7M2-XQ9D"));
        assert!(body.contains("Reference number: K7M2-XQ9D"));
        assert!(body.contains("Palvelu: kopio") && body.contains("Service: copy"));
        assert!(body.contains("Kirjasto on vastaanottanut"));
        assert!(body.contains("The Library has received"));
        assert!(body.find("Hyvä").unwrap() < body.find("Dear").unwrap());
    }
}
