//! Receiving: a partner's message is read, checked, matched to the partner
//! (by its agency id, and its secret when it has one) and to the request,
//! applied through the state models of `app::domain::workflow` with the
//! role `Partner`, written to the request's history, and answered with the
//! matching confirmation. A message received twice is applied once (the
//! second gets the first's answer); one the request's state does not allow
//! is refused with an error confirmation and changes nothing.

use std::sync::Arc;

use app::domain::history::{Actor, Audience, NewEvent, Side};
use app::domain::workflow::{
    borrowing_step, borrowing_table, lending_step, lending_table, BorrowingAction, LendingAction,
    LendingState, Refused, Role,
};
use app::domain::{
    BorrowingStatus, Citation, CitationType, NewLendingRequest, RequesterContact, ServiceType,
};
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::dialect::Dialect;
use super::messages::{
    self, format_time, parse_time, Action, AgencyId, Confirmation, ConfirmationHeader, ErrorData,
    ErrorType, Message, MessageStatus, ReasonForMessage, Request, RequestingAgencyMessage, Status,
    SupplyingAgencyMessage, YesNo,
};
use super::store::{self, Peer, Received};
use crate::history;
use crate::port::{PortError, ResourceSharing};
use crate::storage::{ts, Db};

/// The HTTP answer to a message: its status and the confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Which confirmation answers a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reply {
    Request,
    Supplying,
    Requesting,
}

impl Reply {
    fn of(message: &Message) -> Self {
        match message {
            Message::SupplyingAgencyMessage(_) | Message::SupplyingAgencyMessageConfirmation(_) => {
                Reply::Supplying
            }
            Message::RequestingAgencyMessage(_)
            | Message::RequestingAgencyMessageConfirmation(_) => Reply::Requesting,
            _ => Reply::Request,
        }
    }

    /// Guessed from the bytes when they are no message.
    fn sniff(bytes: &[u8]) -> Self {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
        if text.contains("supplyingAgencyMessage") {
            Reply::Supplying
        } else if text.contains("requestingAgencyMessage") {
            Reply::Requesting
        } else {
            Reply::Request
        }
    }
}

fn error(error_type: ErrorType, value: impl Into<String>) -> ErrorData {
    ErrorData {
        error_type,
        error_value: Some(value.into()),
    }
}

/// The confirmation of a message (of `header`, when it could be read).
fn confirmation(
    reply: Reply,
    message: Option<&Message>,
    received: DateTime<Utc>,
    error: Option<ErrorData>,
) -> Message {
    let header = message.and_then(Message::header);
    let c = Confirmation {
        header: ConfirmationHeader {
            supplying_agency_id: header.map(|h| h.supplying_agency_id.clone()),
            requesting_agency_id: header.map(|h| h.requesting_agency_id.clone()),
            timestamp: format_time(Utc::now()),
            requesting_agency_request_id: header.map(|h| h.requesting_agency_request_id.clone()),
            multiple_item_request_id: header.and_then(|h| h.multiple_item_request_id.clone()),
            timestamp_received: format_time(received),
            message_status: Some(if error.is_some() {
                MessageStatus::ERROR
            } else {
                MessageStatus::OK
            }),
        },
        reason_for_message: match message {
            Some(Message::SupplyingAgencyMessage(m)) => {
                Some(m.message_info.reason_for_message.clone())
            }
            _ => None,
        },
        action: match message {
            Some(Message::RequestingAgencyMessage(m)) => Some(m.action.clone()),
            _ => None,
        },
        error,
    };
    match reply {
        Reply::Request => Message::RequestConfirmation(c),
        Reply::Supplying => Message::SupplyingAgencyMessageConfirmation(c),
        Reply::Requesting => Message::RequestingAgencyMessageConfirmation(c),
    }
}

/// The answer to a message longer than [`super::xml::MAX_BYTES`].
pub fn too_large() -> Answer {
    Answer {
        status: 200,
        body: Dialect::V1_2.write(confirmation(
            Reply::Request,
            None,
            Utc::now(),
            Some(error(
                ErrorType::BadlyFormedMessage,
                super::xml::XmlError::TooLarge(super::xml::MAX_BYTES).to_string(),
            )),
        )),
    }
}

/// What applying a message came to.
#[derive(Debug)]
struct Applied {
    side: Side,
    request_id: String,
}

/// Why a message was not applied: the confirmation's error, and whether
/// the HTTP status says the sender is not trusted.
#[derive(Debug)]
struct Refusal {
    error: ErrorData,
    status: u16,
}

impl From<ErrorData> for Refusal {
    fn from(error: ErrorData) -> Self {
        Self { error, status: 200 }
    }
}

fn storage(e: sqlx::Error) -> Refusal {
    tracing::error!(error = %e, "iso18626: storage error");
    Refusal {
        error: error(
            ErrorType::BadlyFormedMessage,
            "temporary error, send again later",
        ),
        status: 503,
    }
}

/// Receives partners' messages into Kauko's database.
pub struct Receiver {
    db: Db,
    port: Arc<dyn ResourceSharing>,
    /// Kauko's own agency id, when configured: messages to another agency
    /// are refused.
    me: Option<AgencyId>,
}

impl Receiver {
    pub fn new(db: Db, port: Arc<dyn ResourceSharing>, symbol: &str) -> Self {
        Self {
            db,
            port,
            me: (!symbol.trim().is_empty()).then(|| AgencyId::from_symbol(symbol)),
        }
    }

    /// Answers one message. `bearer`: the secret sent in the HTTP
    /// `Authorization` header, if any.
    pub async fn receive(&self, bytes: &[u8], bearer: Option<&str>) -> Answer {
        let received = Utc::now();
        let envelope = match messages::parse(bytes) {
            Ok(e) => e,
            Err(e) => {
                tracing::info!(error = %e, "iso18626: unreadable message refused");
                let reply = Reply::sniff(bytes);
                let body = Dialect::V1_2.write(confirmation(
                    reply,
                    None,
                    received,
                    Some(error(e.error_type(), e.to_string())),
                ));
                return Answer { status: 200, body };
            }
        };
        let message = envelope.message;
        let reply = Reply::of(&message);
        let answer = |peer: Option<&Peer>, error: Option<ErrorData>, status: u16| Answer {
            status,
            body: peer
                .map_or(Dialect::V1_2, |p| p.dialect)
                .write(confirmation(reply, Some(&message), received, error)),
        };
        if message.confirmation().is_some() {
            return answer(
                None,
                Some(error(
                    ErrorType::UnrecognisedDataElement,
                    format!(
                        "{}: a confirmation is an answer, not a message",
                        message.kind()
                    ),
                )),
                200,
            );
        }
        if let Err(e) = message.check() {
            return answer(None, Some(e), 200);
        }
        let Some(header) = message.header() else {
            return answer(
                None,
                Some(error(ErrorType::BadlyFormedMessage, "header")),
                200,
            );
        };
        // Who sends, and to whom.
        let (sender, recipient, recipient_name) = match &message {
            Message::SupplyingAgencyMessage(_) => (
                &header.supplying_agency_id,
                &header.requesting_agency_id,
                "requestingAgencyId",
            ),
            _ => (
                &header.requesting_agency_id,
                &header.supplying_agency_id,
                "supplyingAgencyId",
            ),
        };
        if let Some(me) = &self.me {
            if !recipient.matches(&me.symbol()) {
                return answer(
                    None,
                    Some(error(
                        ErrorType::UnrecognisedDataValue,
                        format!(
                            "{recipient_name}: {} is not this library",
                            recipient.symbol()
                        ),
                    )),
                    200,
                );
            }
        }
        let peer = match store::peer_by_agency(&self.db, sender).await {
            Ok(Some(peer)) => peer,
            Ok(None) => {
                tracing::warn!(sender = %sender.symbol(), "iso18626: message from an unknown agency refused");
                let field = if reply == Reply::Supplying {
                    "supplyingAgencyId"
                } else {
                    "requestingAgencyId"
                };
                return answer(
                    None,
                    Some(error(
                        ErrorType::UnrecognisedDataValue,
                        format!(
                            "{field}: {} is not a partner of this library",
                            sender.symbol()
                        ),
                    )),
                    403,
                );
            }
            Err(e) => {
                let r = storage(e);
                return answer(None, Some(r.error), r.status);
            }
        };
        let given = header
            .authentication
            .as_ref()
            .and_then(|a| a.security_code.as_deref())
            .or(bearer);
        if !peer.authenticates(given) {
            tracing::warn!(partner = %peer.partner.code, "iso18626: message with a wrong secret refused");
            return answer(
                Some(&peer),
                Some(error(
                    ErrorType::UnrecognisedDataValue,
                    "requestingAgencyAuthentication: not accepted",
                )),
                403,
            );
        }
        let canonical = messages::write(&message, "1.2");
        let key = store::fingerprint(&peer.partner.code, &canonical);
        match store::answer_for(&self.db, &key).await {
            Ok(Some(previous)) => {
                tracing::info!(partner = %peer.partner.code, kind = message.kind(), "iso18626: message received again, answered as before");
                return Answer {
                    status: 200,
                    body: previous,
                };
            }
            Ok(None) => {}
            Err(e) => {
                let r = storage(e);
                return answer(Some(&peer), Some(r.error), r.status);
            }
        }
        let ok = answer(Some(&peer), None, 200);
        let mut log = Received {
            partner_code: peer.partner.code.clone(),
            kind: message.kind().to_owned(),
            summary: summary(&message),
            dedup_key: Some(key),
            body: String::from_utf8_lossy(bytes).into_owned(),
            answer: ok.body.clone(),
            ..Received::default()
        };
        let outcome = match &message {
            Message::Request(r) => self.request(&peer, r, &mut log).await,
            Message::SupplyingAgencyMessage(m) => self.supplying(&peer, m, &mut log).await,
            Message::RequestingAgencyMessage(m) => self.requesting(&peer, m, &mut log).await,
            _ => Err(error(ErrorType::UnrecognisedDataElement, message.kind()).into()),
        };
        match outcome {
            Ok(Some(applied)) => {
                tracing::info!(partner = %peer.partner.code, kind = message.kind(), side = applied.side.code(), request = %applied.request_id, "iso18626: message applied");
                ok
            }
            // Received twice at once: the first one's answer.
            Ok(None) => {
                match store::answer_for(&self.db, log.dedup_key.as_deref().unwrap_or_default())
                    .await
                {
                    Ok(Some(previous)) => Answer {
                        status: 200,
                        body: previous,
                    },
                    _ => ok,
                }
            }
            Err(refusal) => {
                tracing::info!(partner = %peer.partner.code, kind = message.kind(), error = ?refusal.error, "iso18626: message refused");
                let refused = answer(Some(&peer), Some(refusal.error.clone()), refusal.status);
                log.dedup_key = None;
                log.answer = refused.body.clone();
                log.refused = Some(
                    refusal
                        .error
                        .error_value
                        .clone()
                        .unwrap_or_else(|| refusal.error.error_type.as_str().to_owned()),
                );
                if let Err(e) = self.log_refusal(&log).await {
                    tracing::warn!(error = %e, "iso18626: cannot log a refused message");
                }
                refused
            }
        }
    }

    /// Logs a refused message and, when it was about a request of ours,
    /// shows it in the request's history (staff see what the partner
    /// tried).
    async fn log_refusal(&self, log: &Received) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        store::log_received(&mut *tx, log).await?;
        if let (Some(side), Some(id)) = (log.side, &log.request_id) {
            let table = match side {
                Side::Borrowing => "borrowing_requests",
                Side::Lending => "lending_requests",
            };
            let status: Option<String> =
                sqlx::query_scalar(&format!("SELECT status FROM {table} WHERE id = $1"))
                    .bind(id.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(status) = status {
                let state = match side {
                    Side::Lending => {
                        LendingState::from_code(&status).map_or(status, |l| l.code().to_owned())
                    }
                    Side::Borrowing => status,
                };
                history::record(
                    &mut *tx,
                    &NewEvent {
                        side,
                        request_id: id.clone(),
                        actor: Actor::Partner(log.partner_code.clone()),
                        action: "iso_refused".into(),
                        from_state: Some(state.clone()),
                        to_state: state,
                        partner: Some(log.partner_code.clone()),
                        note: Some((
                            format!(
                                "{}: {}",
                                log.summary.clone().unwrap_or_else(|| log.kind.clone()),
                                log.refused.clone().unwrap_or_default()
                            ),
                            Audience::Internal,
                        )),
                    },
                )
                .await?;
            }
        }
        tx.commit().await
    }

    /// A `request`: a new lending request from the partner (once: its id
    /// at the partner is the lending request's external id).
    async fn request(
        &self,
        peer: &Peer,
        r: &Request,
        log: &mut Received,
    ) -> Result<Option<Applied>, Refusal> {
        let external_id = format!(
            "iso18626:{}:{}",
            r.header.requesting_agency_id.symbol(),
            r.header.requesting_agency_request_id
        );
        let code = peer.partner.code.clone();
        let existing = self
            .port
            .find_lending_request_by_external_id(&code, &external_id)
            .await
            .map_err(port_refusal)?;
        let id = match existing {
            Some(found) => found.id,
            None => {
                let new = lending_request(peer, r, &external_id)?;
                match self.port.create_lending_request(new).await {
                    Ok(created) => created.id,
                    Err(PortError::Duplicate(_)) => self
                        .port
                        .find_lending_request_by_external_id(&code, &external_id)
                        .await
                        .map_err(port_refusal)?
                        .map(|f| f.id)
                        .ok_or_else(|| port_refusal(PortError::NotFound))?,
                    Err(e) => return Err(port_refusal(e)),
                }
            }
        };
        log.side = Some(Side::Lending);
        log.request_id = Some(id.clone());
        store::log_received(&self.db.pool, log)
            .await
            .map_err(storage)?;
        Ok(Some(Applied {
            side: Side::Lending,
            request_id: id,
        }))
    }

    /// A `supplyingAgencyMessage`: the partner answers one of Kauko's
    /// borrowing requests (its id is the requesting agency's request id).
    async fn supplying(
        &self,
        peer: &Peer,
        m: &SupplyingAgencyMessage,
        log: &mut Received,
    ) -> Result<Option<Applied>, Refusal> {
        let id = m.header.requesting_agency_request_id.clone();
        let row = sqlx::query(
            "SELECT status, version, partner_code FROM borrowing_requests WHERE id = $1",
        )
        .bind(id.clone())
        .fetch_optional(&self.db.pool)
        .await
        .map_err(storage)?
        .filter(|row| {
            row.try_get::<Option<String>, _>("partner_code")
                .ok()
                .flatten()
                .as_deref()
                == Some(peer.partner.code.as_str())
        })
        .ok_or_else(|| unknown_request("requestingAgencyRequestId", &id))?;
        let state: String = row.try_get("status").map_err(storage)?;
        let version: i64 = row.try_get("version").map_err(storage)?;
        log.side = Some(Side::Borrowing);
        log.request_id = Some(id.clone());
        let current = BorrowingStatus::from_code(&state);
        let step = borrowing_effect(m, &current)?;
        let to = match step {
            Some((action, role)) => match borrowing_step(&current, action, role) {
                Ok(to) => Some((action, to)),
                Err(refused) => return Err(out_of_order_supplying(m, &state, refused).into()),
            },
            None => None,
        };
        let note = supplying_note(m);
        let mut tx = self.db.begin_write().await.map_err(storage)?;
        if !store::log_received(&mut *tx, log).await.map_err(storage)? {
            return Ok(None);
        }
        let now = ts(Utc::now());
        let (action, to_state, audience) = match &to {
            Some((action, to)) => {
                let done = sqlx::query(
                    "UPDATE borrowing_requests SET status = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4",
                )
                .bind(to.code().to_owned())
                .bind(now.clone())
                .bind(id.clone())
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(storage)?;
                if done.rows_affected() == 0 {
                    // Staff moved it meanwhile: the partner may send again.
                    return Err(storage(sqlx::Error::RowNotFound));
                }
                loan_effects(&mut tx, *action, &id, m)
                    .await
                    .map_err(storage)?;
                let audience = if action.reason_to_patron() {
                    Audience::Patron
                } else {
                    Audience::Internal
                };
                (action.code(), to.code().to_owned(), audience)
            }
            None => ("iso_message".to_owned(), state.clone(), Audience::Internal),
        };
        let after = to_state.clone();
        history::record(
            &mut *tx,
            &NewEvent {
                side: Side::Borrowing,
                request_id: id.clone(),
                actor: Actor::Partner(peer.partner.code.clone()),
                action,
                from_state: Some(state),
                to_state,
                partner: Some(peer.partner.code.clone()),
                note: note.map(|n| (n, audience)),
            },
        )
        .await
        .map_err(storage)?;
        // The lender's charge for the delivery, for the fee ledger to pass
        // on (a message applied once records it once).
        if let Some(charge) = m
            .delivery_info
            .as_ref()
            .and_then(|d| d.delivery_costs.as_ref())
            .and_then(|c| {
                app::fees::StatedCharge::parse(&c.monetary_value, &c.currency_code.value, "").ok()
            })
        {
            crate::fees::charges::write(
                &mut tx,
                Side::Borrowing,
                &id,
                &after,
                &peer.partner.code,
                &charge,
                Actor::Partner(peer.partner.code.clone()),
            )
            .await
            .map_err(storage)?;
        }
        tx.commit().await.map_err(storage)?;
        Ok(Some(Applied {
            side: Side::Borrowing,
            request_id: id,
        }))
    }

    /// A `requestingAgencyMessage`: the partner acts on a request it sent
    /// Kauko (found by Kauko's id, the supplying agency's request id, or
    /// by the partner's own).
    async fn requesting(
        &self,
        peer: &Peer,
        m: &RequestingAgencyMessage,
        log: &mut Received,
    ) -> Result<Option<Applied>, Refusal> {
        let code = peer.partner.code.clone();
        let external_id = format!(
            "iso18626:{}:{}",
            m.header.requesting_agency_id.symbol(),
            m.header.requesting_agency_request_id
        );
        let row = match &m.header.supplying_agency_request_id {
            Some(id) => sqlx::query(
                "SELECT id, status, version FROM lending_requests WHERE id = $1 AND partner_code = $2",
            )
            .bind(id.clone()),
            None => sqlx::query(
                "SELECT id, status, version FROM lending_requests WHERE external_id = $1 AND partner_code = $2",
            )
            .bind(external_id),
        }
        .bind(code.clone())
        .fetch_optional(&self.db.pool)
        .await
        .map_err(storage)?
        .ok_or_else(|| match &m.header.supplying_agency_request_id {
            Some(id) => unknown_request("supplyingAgencyRequestId", id),
            None => unknown_request(
                "requestingAgencyRequestId",
                &m.header.requesting_agency_request_id,
            ),
        })?;
        let id: String = row.try_get("id").map_err(storage)?;
        let state: String = row.try_get("status").map_err(storage)?;
        let version: i64 = row.try_get("version").map_err(storage)?;
        log.side = Some(Side::Lending);
        log.request_id = Some(id.clone());
        let current = LendingState::from_code(&state).ok_or_else(|| {
            error(
                ErrorType::UnsupportedActionType,
                format!("{}: request is {state}", m.action.as_str()),
            )
        })?;
        let step = lending_effect(&m.action, current)?;
        // A cancellation asked too late (the item is out) is answered,
        // not refused: a CancelResponse N goes back (send.rs).
        let mut too_late_to_cancel = false;
        let to = match step {
            Some(action) => match lending_step(current, action, Role::Partner) {
                Ok(to) => Some((action, to)),
                Err(_) if m.action == Action::Cancel && !current.terminal() => {
                    too_late_to_cancel = true;
                    None
                }
                Err(_) => {
                    return Err(error(
                        ErrorType::UnsupportedActionType,
                        format!(
                            "{}: not possible while the request is {}",
                            m.action.as_str(),
                            current.code()
                        ),
                    )
                    .into())
                }
            },
            None => None,
        };
        let mut tx = self.db.begin_write().await.map_err(storage)?;
        if !store::log_received(&mut *tx, log).await.map_err(storage)? {
            return Ok(None);
        }
        let (action, to_state) = match &to {
            Some((action, to)) => {
                let done = sqlx::query(
                    "UPDATE lending_requests SET status = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4",
                )
                .bind(to.code().to_owned())
                .bind(ts(Utc::now()))
                .bind(id.clone())
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(storage)?;
                if done.rows_affected() == 0 {
                    return Err(storage(sqlx::Error::RowNotFound));
                }
                (action.code(), to.code().to_owned())
            }
            None => ("iso_message".to_owned(), current.code().to_owned()),
        };
        let note = match (&to, &m.note) {
            (Some(_), n) => n.clone(),
            (None, Some(n)) => Some(format!("{}: {n}", m.action.as_str())),
            (None, None) => Some(m.action.as_str().to_owned()),
        };
        history::record(
            &mut *tx,
            &NewEvent {
                side: Side::Lending,
                request_id: id.clone(),
                actor: Actor::Partner(code.clone()),
                action,
                from_state: Some(current.code().to_owned()),
                to_state: to_state.clone(),
                partner: Some(code.clone()),
                note: note.map(|n| (n, Audience::Internal)),
            },
        )
        .await
        .map_err(storage)?;
        if too_late_to_cancel {
            history::record(
                &mut *tx,
                &NewEvent {
                    side: Side::Lending,
                    request_id: id.clone(),
                    actor: Actor::Kauko,
                    action: "refuse_cancel".into(),
                    from_state: Some(to_state.clone()),
                    to_state,
                    partner: Some(code),
                    note: Some((
                        format!("too late to cancel: the request is {}", current.code()),
                        Audience::Patron,
                    )),
                },
            )
            .await
            .map_err(storage)?;
        }
        tx.commit().await.map_err(storage)?;
        Ok(Some(Applied {
            side: Side::Lending,
            request_id: id,
        }))
    }
}

fn unknown_request(field: &str, id: &str) -> Refusal {
    error(
        ErrorType::UnrecognisedDataValue,
        format!("{field}: {id} is not a request of this library with this partner"),
    )
    .into()
}

fn port_refusal(e: PortError) -> Refusal {
    match e {
        PortError::Invalid(errors) => error(
            ErrorType::BadlyFormedMessage,
            errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.key))
                .collect::<Vec<_>>()
                .join(", "),
        )
        .into(),
        PortError::Unavailable(_) => Refusal {
            error: error(
                ErrorType::BadlyFormedMessage,
                "temporary error, send again later",
            ),
            status: 503,
        },
        other => {
            tracing::error!(error = %other, "iso18626: the library system refused a request");
            Refusal {
                error: error(
                    ErrorType::BadlyFormedMessage,
                    "temporary error, send again later",
                ),
                status: 503,
            }
        }
    }
}

/// The status or action a message carries, for the log.
fn summary(message: &Message) -> Option<String> {
    match message {
        Message::Request(r) => Some(
            r.service_info
                .as_ref()
                .map_or("Loan", |s| s.service_type.as_str())
                .to_owned(),
        ),
        Message::SupplyingAgencyMessage(m) => Some(format!(
            "{} {}",
            m.message_info.reason_for_message.as_str(),
            m.status_info.status.as_str()
        )),
        Message::RequestingAgencyMessage(m) => Some(m.action.as_str().to_owned()),
        _ => None,
    }
}

/// A supplying agency message's step on the borrowing side (and who takes
/// it), or none when it only informs (written to the history as a note).
pub fn borrowing_effect(
    m: &SupplyingAgencyMessage,
    state: &BorrowingStatus,
) -> Result<Option<(BorrowingAction, Role)>, ErrorData> {
    use BorrowingAction as A;
    let partner = |a| Ok(Some((a, Role::Partner)));
    let status = &m.status_info.status;
    let yes = m.message_info.answer_yes_no.as_ref() != Some(&YesNo::N);
    let step = match &m.message_info.reason_for_message {
        // Informs; a broker forwards a supplier's Unfilled as one until its
        // rota ends (ill-domain.md §1.7).
        ReasonForMessage::Notification | ReasonForMessage::StatusRequestResponse => {
            return Ok(None)
        }
        // Cancelled here already (staff did not wait): the answer is news.
        ReasonForMessage::CancelResponse if app::domain::workflow::borrowing_terminal(state) => {
            return Ok(None)
        }
        ReasonForMessage::CancelResponse => {
            if yes || *status == Status::Cancelled {
                A::ConfirmCancel
            } else {
                A::RefuseCancel
            }
        }
        ReasonForMessage::RenewResponse => {
            if yes {
                A::GrantRenewal
            } else {
                A::RefuseRenewal
            }
        }
        ReasonForMessage::RequestResponse | ReasonForMessage::StatusChange => match status {
            Status::ExpectToSupply | Status::WillSupply => A::PartnerWillSupply,
            Status::Loaned => A::ShippedPhysically,
            Status::CopyCompleted => A::ShippedDigitally,
            Status::Unfilled => A::PartnerCannotSupply,
            Status::Cancelled if *state == BorrowingStatus::CancelRequested => A::ConfirmCancel,
            Status::Cancelled => A::CancelByPartner,
            Status::Recalled => A::Recall,
            Status::LoanCompleted => return Ok(Some((A::Close, Role::System))),
            Status::RequestReceived
            | Status::Overdue
            | Status::RetryPossible
            | Status::CompletedWithoutReturn => return Ok(None),
            Status::Other(v) => {
                return Err(error(
                    ErrorType::UnrecognisedDataValue,
                    format!("status: {v}"),
                ))
            }
        },
        ReasonForMessage::Other(v) => {
            return Err(error(ErrorType::UnsupportedReasonForMessageType, v.clone()))
        }
    };
    // Already there (the same news twice, or a status answering ours).
    if borrowing_table().iter().any(|t| {
        t.action == step && &t.to == state && borrowing_step(state, step, Role::Partner).is_err()
    }) {
        return Ok(None);
    }
    partner(step)
}

fn out_of_order_supplying(m: &SupplyingAgencyMessage, state: &str, refused: Refused) -> ErrorData {
    let what = match &m.message_info.reason_for_message {
        ReasonForMessage::CancelResponse | ReasonForMessage::RenewResponse => {
            format!(
                "reasonForMessage: {}",
                m.message_info.reason_for_message.as_str()
            )
        }
        _ => format!("status: {}", m.status_info.status.as_str()),
    };
    let why = match refused {
        Refused::NotInThisState => "not possible",
        Refused::NotForThisRole => "not for the supplier",
    };
    let error_type = match &m.message_info.reason_for_message {
        ReasonForMessage::CancelResponse | ReasonForMessage::RenewResponse => {
            ErrorType::UnsupportedReasonForMessageType
        }
        _ => ErrorType::UnrecognisedDataValue,
    };
    error(
        error_type,
        format!("{what}: {why} while the request is {state}"),
    )
}

/// A requesting agency message's step on the lending side, or none when
/// it only informs.
pub fn lending_effect(
    action: &Action,
    state: LendingState,
) -> Result<Option<LendingAction>, ErrorData> {
    let step = match action {
        Action::Cancel => LendingAction::Cancel,
        Action::Renew => LendingAction::AskRenewal,
        Action::Received | Action::ShippedReturn | Action::StatusRequest | Action::Notification => {
            return Ok(None)
        }
        Action::ShippedForward | Action::Other(_) => {
            return Err(error(ErrorType::UnsupportedActionType, action.as_str()))
        }
    };
    if lending_table().iter().any(|t| {
        t.action == step && t.to == state && lending_step(state, step, Role::Partner).is_err()
    }) {
        return Ok(None);
    }
    Ok(Some(step))
}

/// The note a supplying agency message leaves in the history: its note,
/// the reason it cannot supply, the due date, costs, the loan condition.
fn supplying_note(m: &SupplyingAgencyMessage) -> Option<String> {
    let mut parts = Vec::new();
    let info = &m.message_info;
    if matches!(
        info.reason_for_message,
        ReasonForMessage::Notification | ReasonForMessage::StatusRequestResponse
    ) || matches!(
        m.status_info.status,
        Status::RequestReceived
            | Status::Overdue
            | Status::RetryPossible
            | Status::CompletedWithoutReturn
    ) {
        let status = m.status_info.status.as_str();
        if !status.is_empty() {
            parts.push(status.to_owned());
        }
    }
    if let Some(r) = &info.reason_unfilled {
        parts.push(r.value.clone());
    }
    if let Some(r) = &info.reason_retry {
        parts.push(r.value.clone());
    }
    if let Some(n) = &info.note {
        parts.push(n.clone());
    }
    if let Some(due) = m.status_info.due_date.as_deref().and_then(parse_time) {
        parts.push(format!("due {}", due.format("%Y-%m-%d")));
    }
    if let Some(c) = &info.offered_costs {
        parts.push(format!("{} {}", c.monetary_value, c.currency_code.value));
    }
    if let Some(c) = m
        .delivery_info
        .as_ref()
        .and_then(|d| d.loan_condition.as_ref())
    {
        parts.push(c.value.clone());
    }
    (!parts.is_empty()).then(|| parts.join(" — "))
}

/// The patron's loan follows the lender's renewal answer (as the desk's
/// grant and refuse do).
async fn loan_effects(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    action: BorrowingAction,
    id: &str,
    m: &SupplyingAgencyMessage,
) -> Result<(), sqlx::Error> {
    match action {
        BorrowingAction::GrantRenewal => {
            match m.status_info.due_date.as_deref().and_then(parse_time) {
                Some(due) => {
                    sqlx::query("UPDATE ill_loans SET due_date = $1, renewals = renewals + 1, renewal_requested = 0 WHERE request_id = $2 AND returned_at IS NULL")
                        .bind(ts(due))
                        .bind(id.to_owned())
                        .execute(&mut **tx)
                        .await?;
                }
                None => {
                    sqlx::query("UPDATE ill_loans SET renewals = renewals + 1, renewal_requested = 0 WHERE request_id = $1 AND returned_at IS NULL")
                        .bind(id.to_owned())
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        BorrowingAction::RefuseRenewal => {
            sqlx::query("UPDATE ill_loans SET renewal_requested = 0, renewable = 0 WHERE request_id = $1 AND returned_at IS NULL")
                .bind(id.to_owned())
                .execute(&mut **tx)
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// The lending request a partner's `request` asks for.
fn lending_request(
    peer: &Peer,
    r: &Request,
    external_id: &str,
) -> Result<NewLendingRequest, Refusal> {
    let b = &r.bibliographic_info;
    let publication = r.publication_info.as_ref();
    let service = r.service_info.as_ref();
    let kind = match (
        b.title_of_component.is_some() || b.author_of_component.is_some(),
        publication
            .and_then(|p| p.publication_type.as_ref())
            .map(|t| t.value.to_ascii_lowercase()),
    ) {
        (_, Some(t)) if t.contains("journal") || t.contains("article") => CitationType::Article,
        (true, _) => CitationType::Article,
        _ => CitationType::Book,
    };
    let (title, container) = match (&b.title_of_component, &b.title) {
        (Some(component), title) => (component.clone(), title.clone()),
        (None, Some(title)) => (title.clone(), None),
        (None, None) => {
            return Err(error(
                ErrorType::BadlyFormedMessage,
                "bibliographicInfo: title is required",
            )
            .into())
        }
    };
    let author = b.author_of_component.clone().or(b.author.clone());
    let citation = Citation {
        kind: Some(kind),
        title,
        container_title: container,
        authors: author.into_iter().collect(),
        volume: b.volume.clone(),
        issue: b.issue.clone(),
        pages: b.pages_requested.clone(),
        year: publication.and_then(|p| p.publication_date.clone()),
        publisher: publication.and_then(|p| p.publisher.clone()),
        place_of_publication: publication.and_then(|p| p.place_of_publication.clone()),
        edition: b.edition.clone(),
        issn: b.item_id("ISSN").map(str::to_owned),
        isbn: b.item_id("ISBN").map(str::to_owned),
        doi: b.item_id("DOI").map(str::to_owned),
        pmid: b.item_id("PMID").map(str::to_owned),
    };
    let agency_info = r.requesting_agency_info.as_ref();
    let email = agency_info
        .and_then(|a| a.email())
        .map(str::to_owned)
        .or(peer.partner.email.clone())
        // validate_lending_request wants an address; the reserved
        // `.invalid` domain never receives mail.
        .unwrap_or_else(|| {
            format!(
                "iso18626@{}.invalid",
                peer.partner.code.replace(':', "-").to_ascii_lowercase()
            )
        });
    let delivery = r
        .requested_delivery_info
        .iter()
        .find_map(|d| match &d.address {
            Some(messages::Address::Physical(p)) => Some(
                [&p.line1, &p.line2, &p.postal_code, &p.locality]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Some(messages::Address::Electronic { data, .. }) => Some(data.clone()),
            None => None,
        });
    Ok(NewLendingRequest {
        external_id: external_id.to_owned(),
        partner_code: peer.partner.code.clone(),
        requester: RequesterContact {
            library_name: agency_info
                .and_then(|a| a.name.clone())
                .unwrap_or_else(|| peer.partner.name.clone()),
            contact_name: agency_info.and_then(|a| a.contact_name.clone()),
            email,
        },
        citation,
        service: match service.map(|s| &s.service_type) {
            Some(messages::ServiceType::Copy) => ServiceType::Copy,
            _ => ServiceType::Loan,
        },
        delivery_address: delivery,
        max_cost: r
            .billing_info
            .as_ref()
            .and_then(|b| b.maximum_costs.as_ref())
            .map(|c| format!("{} {}", c.monetary_value, c.currency_code.value)),
        needed_by: service
            .and_then(|s| s.need_before_date.as_deref())
            .and_then(parse_time)
            .map(|t| t.date_naive()),
        note: service.and_then(|s| s.note.clone()),
    })
}
