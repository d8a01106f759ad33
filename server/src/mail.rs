//! Outgoing mail: the letters of `crate::letters` (the confirmation a
//! library gets for its lending request among them). Through SMTP (lettre) when `mail.smtp_host`
//! is set; otherwise (the embedded default) each message is written to
//! `mail.folder` as an `.eml` file with a `.json` summary beside it, which
//! the staff page `/staff/mail` lists, so Kauko runs without a mail server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

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
        Ok(Arc::new(Self {
            transport,
            folder_max: m.folder_max_messages.max(1),
            from,
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
                self.write_to_folder(folder, message, to, subject, body)
                    .await?;
            }
        }
        Ok(())
    }

    /// Sends a letter: plain text and HTML as alternatives, with a stable
    /// `Message-ID` (the same letter sent again after a crash is the same
    /// message to the receiving mail system). Returns the mail server's
    /// answer (or where the message was written).
    pub async fn send_letter(
        &self,
        to: &str,
        subject: &str,
        text: String,
        html: String,
        message_id: &str,
    ) -> Result<String, MailError> {
        let to_box: Mailbox = to.parse().map_err(|_| MailError::Address(to.to_owned()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(subject)
            .message_id(Some(message_id.to_owned()))
            .multipart(
                lettre::message::MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .header(ContentTransferEncoding::QuotedPrintable)
                            .body(text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .header(ContentTransferEncoding::QuotedPrintable)
                            .body(html),
                    ),
            )
            .map_err(|e| MailError::Build(e.to_string()))?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                let answer = smtp.send(message).await.map_err(|e| {
                    if e.is_permanent() {
                        MailError::Refused(e.to_string())
                    } else {
                        MailError::Send(e.to_string())
                    }
                })?;
                Ok(format!(
                    "{} {}",
                    answer.code(),
                    answer.message().collect::<Vec<_>>().join(" ")
                ))
            }
            Transport::Folder(folder) => {
                let id = self
                    .write_to_folder(folder, message, to, subject, text)
                    .await?;
                Ok(format!("written to the mail folder as {id}"))
            }
        }
    }

    async fn write_to_folder(
        &self,
        folder: &Path,
        message: Message,
        to: &str,
        subject: &str,
        body: String,
    ) -> Result<String, MailError> {
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
        let json =
            serde_json::to_vec_pretty(&summary).map_err(|e| MailError::Send(e.to_string()))?;
        tokio::fs::write(folder.join(format!("{id}.json")), json)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?;
        self.trim_folder(folder).await;
        Ok(id)
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

#[async_trait]
impl app::api::mail::MailLog for Mailer {
    fn smtp(&self) -> bool {
        self.folder().is_none()
    }

    async fn stored(&self, limit: usize) -> Vec<StoredMail> {
        Mailer::stored(self, limit).await
    }
}
