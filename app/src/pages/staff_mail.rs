//! `/staff/mail`: the messages Kauko wrote to its mail folder (when no SMTP
//! server is configured), newest first.

use leptos::prelude::*;

use crate::api::mail::{staff_mail, MailList, StoredMail};
use crate::components::page::PageTitle;
use crate::pages::coming::StaffOnly;
use crate::site::tr;

/// The page, for staff only (the server function answers 403 to patrons).
#[island(lazy)]
pub fn StaffMailPage() -> impl IntoView {
    view! { <StaffOnly title="mail.title" path="/staff/mail"><MailTool/></StaffOnly> }
}

#[component]
fn MailTool() -> impl IntoView {
    let data = Resource::new(|| (), |_| staff_mail());
    view! {
        <PageTitle key="mail.title"/>
        <Suspense fallback=move || view! { <p role="status">{tr("outbox.loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(MailList { smtp: true, .. }) => view! { <p class="notice" role="status">{tr("mail.smtp")}</p> }.into_any(),
                    Ok(MailList { messages, .. }) if messages.is_empty() => view! {
                        <p class="lead">{tr("mail.lead")}</p>
                        <p>{tr("mail.empty")}</p>
                    }
                    .into_any(),
                    Ok(MailList { messages, .. }) => view! {
                        <p class="lead">{tr("mail.lead")}</p>
                        <ul class="review-list">
                            {messages.into_iter().map(|m| view! { <MailItem mail=m/> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(_) => view! { <p class="notice notice--error" role="alert">{tr("outbox.error")}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn MailItem(mail: StoredMail) -> impl IntoView {
    let date = match (mail.date.get(..10), mail.date.get(11..19)) {
        (Some(d), Some(t)) => format!("{d} {t} UTC"),
        _ => mail.date.clone(),
    };
    view! {
        <li class="card review-item" data-mail-id=mail.id.clone()>
            <h2>{mail.subject.clone()}</h2>
            <dl class="review-item__details">
                <dt>{tr("mail.to")}</dt><dd>{mail.to.clone()}</dd>
                <dt>{tr("mail.date")}</dt><dd>{date}</dd>
            </dl>
            <details>
                <summary>{tr("mail.show")}</summary>
                <pre class="mail-body">{mail.body.clone()}</pre>
            </details>
        </li>
    }
    .into_any()
}
