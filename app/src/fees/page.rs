//! `/staff/fees`: the fee ledger. Tabs (`?tab=`): open lines (adjust,
//! waive), rules, customers' billing details, invoice runs (the SAP file,
//! Finvoice, the printable invoice, credit notes: `?tab=invoices&invoice=…`)
//! and the reconciliation of billed lines against billable events.

use crate::page_url::use_query_map;
use leptos::form::ActionForm;
use leptos::prelude::*;

use super::api::{
    fees_customers, fees_exports, fees_invoice, fees_lines, fees_reconcile, fees_rules, fees_runs,
    FeesAddRule, FeesChangeLine, FeesCredit, FeesEndRule, FeesRun, FeesSaveCustomer, Outcome,
    Refusal,
};
use super::{
    format_cents, format_rate, reference_paper, Amounts, Billable, CitationType, Conditions,
    Customer, ExportRecord, FeeLine, FeeRule, Invoice, InvoiceKind, InvoiceRun, LineKind,
    PartnerGroup, Reconciliation, Scope, Urgency,
};
use crate::components::page::PageTitle;
use crate::components::table::ScrollTable;
use crate::i18n::{t, t_args, Lang};
use crate::pages::coming::StaffOnly;
use crate::site::{tr, use_i18n};

#[island(lazy)]
pub fn FeesPage() -> impl IntoView {
    view! { <StaffOnly title="fees.title" path="/staff/fees"><FeesView/></StaffOnly> }
}

const TABS: [(&str, &str); 5] = [
    ("lines", "fees.tab.lines"),
    ("rules", "fees.tab.rules"),
    ("customers", "fees.tab.customers"),
    ("invoices", "fees.tab.invoices"),
    ("reconcile", "fees.tab.reconcile"),
];

fn money(lang: Lang, cents: i64, currency: &str) -> String {
    let sep = if lang == Lang::En { '.' } else { ',' };
    format!("{} {currency}", format_cents(cents, sep))
}

fn refusal_text(lang: Lang, r: &Refusal) -> String {
    let args: Vec<(&str, &str)> = r
        .args
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    t_args(lang, &r.key, &args)
}

/// The answer to a form: "done" or the refusal, in a live region.
#[component]
fn Answer(
    value: Signal<Option<Result<Outcome, ServerFnError>>>,
    done: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        value.get().map(|v| match v {
            Ok(Ok(id)) => view! {
                <p class="notice notice--ok" role="status">{t_args(i18n.lang(), done, &[("id", &id)])}</p>
            }
            .into_any(),
            Ok(Err(r)) => view! {
                <p class="notice notice--error" role="alert">{refusal_text(i18n.lang(), &r)}</p>
            }
            .into_any(),
            Err(_) => view! { <p class="notice notice--error" role="alert">{tr("fees.error.try_again")}</p> }.into_any(),
        })
    }
}

#[component]
fn FeesView() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let tab = move || {
        query
            .with(|q| q.get("tab"))
            .unwrap_or_else(|| "lines".to_owned())
    };
    let tabs = TABS
        .iter()
        .map(|(code, key)| {
            let code = *code;
            let key = *key;
            view! {
                <li><a href=format!("/staff/fees?tab={code}") aria-current=move || (tab() == code).then_some("page")>
                    {move || t(i18n.lang(), key)}
                </a></li>
            }
        })
        .collect_view();
    view! {
        <PageTitle key="fees.title"/>
        <p class="lead">{tr("fees.lead")}</p>
        <nav class="state-counts" aria-label=move || t(i18n.lang(), "fees.tabs")>
            <ul>{tabs}</ul>
        </nav>
        {move || match tab().as_str() {
            "rules" => view! { <RulesTab/> }.into_any(),
            "customers" => view! { <CustomersTab/> }.into_any(),
            "invoices" => match query.with(|q| q.get("invoice")) {
                Some(id) => view! { <InvoiceDetail id/> }.into_any(),
                None => view! { <RunsTab/> }.into_any(),
            },
            "reconcile" => view! { <ReconcileTab/> }.into_any(),
            _ => {
                let all = query.with(|q| q.get("all").is_some_and(|a| a == "1"));
                view! { <LinesTab all/> }.into_any()
            }
        }}
    }
}

fn loading() -> impl IntoView {
    view! { <p role="status">{tr("fees.loading")}</p> }
}

fn failed() -> AnyView {
    view! { <p class="notice notice--error" role="alert">{tr("fees.error.try_again")}</p> }
        .into_any()
}

fn request_href(line: &FeeLine) -> String {
    format!("/staff/{}/{}", line.side, line.request_id)
}

// --- Lines ---------------------------------------------------------------

#[component]
fn LinesTab(all: bool) -> impl IntoView {
    let change = ServerAction::<FeesChangeLine>::new();
    let lines = Resource::new(
        move || (all, change.version().get()),
        |(all, _)| fees_lines(all),
    );
    view! {
        <section aria-labelledby="fees-lines">
            <h2 id="fees-lines">{tr("fees.lines.title")}</h2>
            <p>{if all {
                view! { <a href="/staff/fees?tab=lines">{tr("fees.lines.open_only")}</a> }.into_any()
            } else {
                view! { <a href="/staff/fees?tab=lines&all=1">{tr("fees.lines.all")}</a> }.into_any()
            }}</p>
            <Answer value=Signal::derive(move || change.value().get()) done="fees.lines.changed"/>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match lines.await {
                        Ok(rows) if rows.is_empty() => view! { <p>{tr("fees.lines.empty")}</p> }.into_any(),
                        Ok(rows) => view! { <LineTable rows change/> }.into_any(),
                        Err(_) => failed(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn LineTable(rows: Vec<FeeLine>, change: ServerAction<FeesChangeLine>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ScrollTable id="fees-lines-caption" caption="fees.lines.caption">
            <thead><tr>
                <th scope="col">{tr("fees.col.line")}</th>
                <th scope="col">{tr("fees.col.customer")}</th>
                <th scope="col">{tr("fees.col.what")}</th>
                <th scope="col">{tr("fees.col.net")}</th>
                <th scope="col">{tr("fees.col.gross")}</th>
                <th scope="col">{tr("fees.col.state")}</th>
                <th scope="col">{tr("fees.col.actions")}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|l| {
                    let href = request_href(&l);
                    let kind_key = format!("fees.kind.{}", l.kind.code());
                    let state_key = if l.invoice_id.is_some() { "fees.state.invoiced" } else { "fees.state.open" };
                    let open_charge = l.kind == LineKind::Charge && l.invoice_id.is_none();
                    let cur = l.currency.clone();
                    let cur2 = l.currency.clone();
                    let (net, gross) = (l.amounts.net, l.amounts.gross);
                    let id = l.id.clone();
                    view! {
                        <tr data-line=l.id.clone()>
                            <td><code>{l.id.clone()}</code><br/><a href=href>{l.request_id.clone()}</a></td>
                            <td>{l.customer.clone()}</td>
                            <td>{move || t(i18n.lang(), &kind_key)}": "{l.description.clone()}
                                {l.reason.clone().map(|r| view! { <br/><small>{r}</small> })}</td>
                            <td class="num">{move || money(i18n.lang(), net, &cur)}</td>
                            <td class="num">{move || money(i18n.lang(), gross, &cur2)}</td>
                            <td>{tr(state_key)}</td>
                            <td>{open_charge.then(|| view! { <ChangeLine id=id.clone() change/> })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </ScrollTable>
    }
}

#[component]
fn ChangeLine(id: String, change: ServerAction<FeesChangeLine>) -> impl IntoView {
    let base = format!(
        "change-{}",
        id.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    let (adjust_id, waive_id, amount_id, reason_id) = (
        format!("{base}-adjust"),
        format!("{base}-waive"),
        format!("{base}-amount"),
        format!("{base}-reason"),
    );
    view! {
        <details class="action-detail">
            <summary>{tr("fees.lines.change")}</summary>
            <ActionForm action=change>
                <input type="hidden" name="line" value=id/>
                <fieldset>
                    <legend>{tr("fees.lines.how")}</legend>
                    <div class="field field--check">
                        <input type="radio" id=adjust_id.clone() name="change" value="adjust" checked/>
                        <label for=adjust_id>{tr("fees.lines.adjust")}</label>
                    </div>
                    <div class="field field--check">
                        <input type="radio" id=waive_id.clone() name="change" value="waive"/>
                        <label for=waive_id>{tr("fees.lines.waive")}</label>
                    </div>
                </fieldset>
                <div class="field">
                    <label for=amount_id.clone()>{tr("fees.lines.amount")}</label>
                    <input id=amount_id name="amount" inputmode="decimal"/>
                </div>
                <div class="field">
                    <label for=reason_id.clone()>{tr("fees.lines.reason")}</label>
                    <input id=reason_id name="reason" required/>
                </div>
                <button type="submit">{tr("fees.lines.save")}</button>
            </ActionForm>
        </details>
    }
}

// --- Rules -----------------------------------------------------------------

fn scope_text(lang: Lang, scope: &Scope) -> String {
    match scope {
        Scope::Everyone => t(lang, "fees.scope.everyone"),
        Scope::Group(g) => t(lang, &format!("fees.scope.{}", g.code())),
        Scope::Partner(p) => t_args(lang, "fees.scope.partner_named", &[("partner", p)]),
    }
}

/// A rule's conditions in words ("Article, urgent, patron group
/// students"), or "any request".
fn conditions_text(lang: Lang, c: &Conditions) -> String {
    let mut parts = Vec::new();
    if let Some(m) = c.material {
        parts.push(t(lang, m.label_key()));
    }
    if let Some(u) = c.urgency {
        parts.push(t(lang, &format!("fees.urgency.{}", u.code())));
    }
    if let Some(g) = &c.patron_group {
        parts.push(t_args(lang, "fees.rules.group_named", &[("group", g)]));
    }
    if parts.is_empty() {
        t(lang, "fees.rules.any_request")
    } else {
        parts.join(", ")
    }
}

#[component]
fn RulesTab() -> impl IntoView {
    let add = ServerAction::<FeesAddRule>::new();
    let end = ServerAction::<FeesEndRule>::new();
    let rules = Resource::new(
        move || (add.version().get(), end.version().get()),
        |_| fees_rules(),
    );
    view! {
        <section aria-labelledby="fees-rules">
            <h2 id="fees-rules">{tr("fees.rules.title")}</h2>
            <Answer value=Signal::derive(move || end.value().get()) done="fees.rules.ended"/>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match rules.await {
                        Ok(rows) if rows.is_empty() => view! { <p>{tr("fees.rules.empty")}</p> }.into_any(),
                        Ok(rows) => view! { <RuleTable rows end/> }.into_any(),
                        Err(_) => failed(),
                    }
                })}
            </Suspense>
        </section>
        <section aria-labelledby="fees-new-rule">
            <h2 id="fees-new-rule">{tr("fees.rules.new")}</h2>
            <RuleForm add/>
        </section>
    }
}

#[component]
fn RuleTable(rows: Vec<FeeRule>, end: ServerAction<FeesEndRule>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ScrollTable id="fees-rules-caption" caption="fees.rules.caption">
            <thead><tr>
                <th scope="col">{tr("fees.col.rule")}</th>
                <th scope="col">{tr("fees.col.billable")}</th>
                <th scope="col">{tr("fees.col.scope")}</th>
                <th scope="col">{tr("fees.col.conditions")}</th>
                <th scope="col">{tr("fees.col.net")}</th>
                <th scope="col">{tr("fees.col.vat")}</th>
                <th scope="col">{tr("fees.col.valid")}</th>
                <th scope="col">{tr("fees.col.actions")}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let billable_key = r.rule.billable.name_key();
                    let scope = r.rule.scope.clone();
                    let conditions = r.rule.conditions.clone();
                    let (cents, cur) = (r.rule.amount_cents, r.rule.currency.clone());
                    let vat = if r.rule.vat_applies { format!("{} %", format_rate(r.rule.vat_basis_points, ',')) } else { "–".to_owned() };
                    let valid = format!("{} – {}", r.rule.valid_from, r.rule.valid_to.map(|d| d.to_string()).unwrap_or_default());
                    let open = r.rule.valid_to.is_none();
                    let id = r.id;
                    let day_id = format!("end-rule-{id}");
                    view! {
                        <tr>
                            <td>{r.rule.name.clone()}</td>
                            <td>{move || t(i18n.lang(), &billable_key)}</td>
                            <td>{move || scope_text(i18n.lang(), &scope)}</td>
                            <td>{move || conditions_text(i18n.lang(), &conditions)}</td>
                            <td class="num">{move || money(i18n.lang(), cents, &cur)}</td>
                            <td>{vat}</td>
                            <td>{valid}</td>
                            <td>{open.then(|| view! {
                                <ActionForm action=end>
                                    <input type="hidden" name="id" value=id.to_string()/>
                                    <label for=day_id.clone()>{tr("fees.rules.end_on")}</label>" "
                                    <input type="date" id=day_id name="day" required/>" "
                                    <button type="submit">{tr("fees.rules.end")}</button>
                                </ActionForm>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </ScrollTable>
    }
}

/// A select's options: each value with its label's translation key.
fn options(items: Vec<(&'static str, String)>) -> impl IntoView {
    let i18n = use_i18n();
    items
        .into_iter()
        .map(|(value, key)| view! { <option value=value>{move || t(i18n.lang(), &key)}</option> })
        .collect_view()
}

#[component]
fn RuleForm(add: ServerAction<FeesAddRule>) -> impl IntoView {
    let billables = options(Billable::ALL.map(|b| (b.code(), b.name_key())).into());
    let groups = options(
        PartnerGroup::ALL
            .map(|g| (g.code(), format!("fees.scope.{}", g.code())))
            .into(),
    );
    let materials = options(
        CitationType::ALL
            .map(|m| (m.code(), m.label_key().to_owned()))
            .into(),
    );
    let urgencies = options(
        Urgency::ALL
            .map(|u| (u.code(), format!("fees.urgency.{}", u.code())))
            .into(),
    );
    view! {
        <ActionForm action=add attr:class="filters">
            <div class="field">
                <label for="rule-name">{tr("fees.rules.name")}</label>
                <input id="rule-name" name="name" required/>
            </div>
            <div class="field">
                <label for="rule-billable">{tr("fees.col.billable")}</label>
                <select id="rule-billable" name="billable">{billables}</select>
            </div>
            <div class="field">
                <label for="rule-scope">{tr("fees.col.scope")}</label>
                <select id="rule-scope" name="scope">
                    <option value="everyone">{tr("fees.scope.everyone")}</option>
                    {groups}
                    <option value="partner">{tr("fees.scope.partner")}</option>
                </select>
            </div>
            <div class="field">
                <label for="rule-partner">{tr("fees.rules.partner")}</label>
                <input id="rule-partner" name="partner" aria-describedby="rule-partner-hint"/>
                <p id="rule-partner-hint" class="hint">{tr("fees.rules.partner_hint")}</p>
            </div>
            <div class="field">
                <label for="rule-material">{tr("fees.rules.material")}</label>
                <select id="rule-material" name="material">
                    <option value="">{tr("fees.rules.any")}</option>
                    {materials}
                </select>
            </div>
            <div class="field">
                <label for="rule-urgency">{tr("fees.rules.urgency")}</label>
                <select id="rule-urgency" name="urgency" aria-describedby="rule-urgency-hint">
                    <option value="">{tr("fees.rules.any")}</option>
                    {urgencies}
                </select>
                <p id="rule-urgency-hint" class="hint">{tr("fees.rules.urgency_hint")}</p>
            </div>
            <div class="field">
                <label for="rule-group">{tr("fees.rules.patron_group")}</label>
                <input id="rule-group" name="patron_group" maxlength="64" aria-describedby="rule-group-hint"/>
                <p id="rule-group-hint" class="hint">{tr("fees.rules.patron_group_hint")}</p>
            </div>
            <div class="field">
                <label for="rule-amount">{tr("fees.rules.amount")}</label>
                <input id="rule-amount" name="amount" inputmode="decimal" required aria-describedby="rule-amount-hint"/>
                <p id="rule-amount-hint" class="hint">{tr("fees.rules.amount_hint")}</p>
            </div>
            <div class="field">
                <label for="rule-currency">{tr("fees.rules.currency")}</label>
                <input id="rule-currency" name="currency" value="EUR" maxlength="3" required/>
            </div>
            <div class="field field--check">
                <input type="checkbox" id="rule-vat-applies" name="vat_applies" checked/>
                <label for="rule-vat-applies">{tr("fees.rules.vat_applies")}</label>
            </div>
            <div class="field">
                <label for="rule-vat">{tr("fees.rules.vat_rate")}</label>
                <input id="rule-vat" name="vat_rate" value="25,5" inputmode="decimal"/>
            </div>
            <div class="field">
                <label for="rule-from">{tr("fees.rules.from")}</label>
                <input type="date" id="rule-from" name="valid_from" required/>
            </div>
            <div class="field">
                <label for="rule-to">{tr("fees.rules.to")}</label>
                <input type="date" id="rule-to" name="valid_to"/>
            </div>
            <div class="filters__buttons">
                <button type="submit">{tr("fees.rules.add")}</button>
            </div>
        </ActionForm>
        <Answer value=Signal::derive(move || add.value().get()) done="fees.rules.added"/>
    }
}

// --- Customers -------------------------------------------------------------

#[component]
fn CustomersTab() -> impl IntoView {
    let save = ServerAction::<FeesSaveCustomer>::new();
    let customers = Resource::new(move || save.version().get(), |_| fees_customers());
    view! {
        <section aria-labelledby="fees-customers">
            <h2 id="fees-customers">{tr("fees.customers.title")}</h2>
            <p>{tr("fees.customers.lead")}</p>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match customers.await {
                        Ok(rows) if rows.is_empty() => view! { <p>{tr("fees.customers.empty")}</p> }.into_any(),
                        Ok(rows) => view! { <CustomerTable rows/> }.into_any(),
                        Err(_) => failed(),
                    }
                })}
            </Suspense>
        </section>
        <section aria-labelledby="fees-customer-form">
            <h2 id="fees-customer-form">{tr("fees.customers.edit")}</h2>
            <CustomerForm save/>
        </section>
    }
}

#[component]
fn CustomerTable(rows: Vec<Customer>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ScrollTable id="fees-customers-caption" caption="fees.customers.caption">
            <thead><tr>
                <th scope="col">{tr("fees.col.customer")}</th>
                <th scope="col">{tr("fees.customers.business_id")}</th>
                <th scope="col">{tr("fees.customers.address")}</th>
                <th scope="col">{tr("fees.customers.e_invoice")}</th>
                <th scope="col">{tr("fees.customers.missing")}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|c| {
                    let payer = c.payer.unwrap_or(super::Payer::Partner);
                    let missing = super::missing(&c, payer);
                    let address = [c.street.clone(), c.postcode.clone(), c.town.clone(), c.country.clone()]
                        .into_iter().flatten().collect::<Vec<_>>().join(", ");
                    let e = if c.e_invoice { c.ovt.clone().unwrap_or_default() } else { "–".to_owned() };
                    view! {
                        <tr>
                            <td>{c.name.clone()}" ("<code>{c.code.clone()}</code>")"</td>
                            <td>{c.business_id.clone().unwrap_or_default()}</td>
                            <td>{address}</td>
                            <td>{e}</td>
                            <td>{move || missing.iter().map(|m| t(i18n.lang(), m.key())).collect::<Vec<_>>().join(", ")}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </ScrollTable>
    }
}

#[component]
fn CustomerForm(save: ServerAction<FeesSaveCustomer>) -> impl IntoView {
    let field = |id: &'static str, name: &'static str, key: &'static str, required: bool| {
        view! {
            <div class="field">
                <label for=id>{tr(key)}</label>
                <input id=id name=name required=required/>
            </div>
        }
    };
    view! {
        <ActionForm action=save attr:class="filters">
            {field("cust-code", "code", "fees.customers.code", true)}
            {field("cust-name", "name", "fees.customers.name", true)}
            {field("cust-business-id", "business_id", "fees.customers.business_id", false)}
            {field("cust-ovt", "ovt", "fees.customers.ovt", false)}
            {field("cust-intermediator", "intermediator", "fees.customers.intermediator", false)}
            {field("cust-street", "street", "fees.customers.street", false)}
            {field("cust-postcode", "postcode", "fees.customers.postcode", false)}
            {field("cust-town", "town", "fees.customers.town", false)}
            {field("cust-country", "country", "fees.customers.country", false)}
            {field("cust-email", "email", "fees.customers.email", false)}
            <div class="field">
                <label for="cust-lang">{tr("fees.customers.lang")}</label>
                <select id="cust-lang" name="lang">
                    <option value="fi">"suomi"</option>
                    <option value="sv" lang="sv">"svenska"</option>
                    <option value="en" lang="en">"English"</option>
                </select>
            </div>
            <div class="field field--check">
                <input type="checkbox" id="cust-e-invoice" name="e_invoice"/>
                <label for="cust-e-invoice">{tr("fees.customers.e_invoice")}</label>
            </div>
            <div class="filters__buttons">
                <button type="submit">{tr("fees.customers.save")}</button>
            </div>
        </ActionForm>
        <Answer value=Signal::derive(move || save.value().get()) done="fees.customers.saved"/>
    }
}

// --- Invoice runs ------------------------------------------------------------

#[component]
fn RunsTab() -> impl IntoView {
    let run = ServerAction::<FeesRun>::new();
    let runs = Resource::new(move || run.version().get(), |_| fees_runs());
    view! {
        <section aria-labelledby="fees-run">
            <h2 id="fees-run">{tr("fees.runs.new")}</h2>
            <p>{tr("fees.runs.lead")}</p>
            <ActionForm action=run attr:class="filters">
                <div class="field">
                    <label for="run-from">{tr("fees.runs.from")}</label>
                    <input type="date" id="run-from" name="from" required/>
                </div>
                <div class="field">
                    <label for="run-to">{tr("fees.runs.to")}</label>
                    <input type="date" id="run-to" name="to" required/>
                </div>
                <div class="filters__buttons">
                    <button type="submit">{tr("fees.runs.start")}</button>
                </div>
            </ActionForm>
            <Answer value=Signal::derive(move || run.value().get()) done="fees.runs.done"/>
        </section>
        <section aria-labelledby="fees-runs">
            <h2 id="fees-runs">{tr("fees.runs.title")}</h2>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match runs.await {
                        Ok(rows) if rows.is_empty() => view! { <p>{tr("fees.runs.empty")}</p> }.into_any(),
                        Ok(rows) => rows.into_iter().map(|r| view! { <RunView run=r/> }).collect_view().into_any(),
                        Err(_) => failed(),
                    }
                })}
            </Suspense>
        </section>
        <Downloads version=Signal::derive(move || run.version().get())/>
    }
}

/// The export audit trail: who downloaded which fee file, when.
#[component]
fn Downloads(version: Signal<usize>) -> impl IntoView {
    let exports = Resource::new(move || version.get(), |_| fees_exports());
    view! {
        <section aria-labelledby="fees-downloads">
            <h2 id="fees-downloads">{tr("fees.downloads.title")}</h2>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match exports.await {
                        Ok(rows) if rows.is_empty() => view! { <p>{tr("fees.downloads.empty")}</p> }.into_any(),
                        Ok(rows) => view! { <DownloadTable rows/> }.into_any(),
                        Err(_) => failed(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn DownloadTable(rows: Vec<ExportRecord>) -> impl IntoView {
    view! {
        <ScrollTable id="fees-downloads-caption" caption="fees.downloads.caption">
            <thead><tr>
                <th scope="col">{tr("fees.downloads.when")}</th>
                <th scope="col">{tr("fees.downloads.who")}</th>
                <th scope="col">{tr("fees.downloads.what")}</th>
                <th scope="col">{tr("fees.downloads.file")}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let when = r.at.get(..16).unwrap_or(&r.at).replace('T', " ");
                    let what = match (&r.invoice_number, r.period) {
                        (Some(n), _) => n.clone(),
                        (None, Some((from, to))) => format!("{from} – {to}"),
                        (None, None) => "–".to_owned(),
                    };
                    view! {
                        <tr>
                            <td>{when}" UTC"</td>
                            <td>{r.by}</td>
                            <td>{what}</td>
                            <td>{r.file}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </ScrollTable>
    }
}

#[component]
fn RunView(run: InvoiceRun) -> impl IntoView {
    let i18n = use_i18n();
    let heading = format!("{} – {}", run.period_from, run.period_to);
    let caption_id = format!("run-{}", run.id);
    let csv = format!("/staff/fees/runs/{}/sap.csv", run.id);
    let xlsx = format!("/staff/fees/runs/{}/sap.xlsx", run.id);
    let cannot = run.cannot_invoice.clone();
    view! {
        <article class="card" data-run=run.id.clone()>
            <h3>{heading}</h3>
            <p>{tr("fees.runs.files")}" "
                <a href=csv rel="external" download>{tr("fees.runs.csv")}</a>" · "
                <a href=xlsx rel="external" download>{tr("fees.runs.xlsx")}</a>
            </p>
            {(!run.invoices.is_empty()).then(|| view! {
                <ScrollTable id=caption_id caption="fees.runs.caption">
                    <thead><tr>
                        <th scope="col">{tr("fees.col.number")}</th>
                        <th scope="col">{tr("fees.col.customer")}</th>
                        <th scope="col">{tr("fees.col.reference")}</th>
                        <th scope="col">{tr("fees.col.lines")}</th>
                        <th scope="col">{tr("fees.col.gross")}</th>
                    </tr></thead>
                    <tbody>
                        {run.invoices.iter().map(|inv| {
                            let href = format!("/staff/fees?tab=invoices&invoice={}", inv.id);
                            let (gross, cur) = (inv.totals.gross, inv.currency.clone());
                            view! {
                                <tr>
                                    <td><a href=href>{inv.number.clone()}</a></td>
                                    <td>{inv.customer_name.clone()}</td>
                                    <td>{reference_paper(&inv.reference)}</td>
                                    <td class="num">{inv.lines}</td>
                                    <td class="num">{move || money(i18n.lang(), gross, &cur)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </ScrollTable>
            })}
            {(!cannot.is_empty()).then(|| view! {
                <div class="notice notice--error" role="note">
                    <p>{tr("fees.runs.cannot")}</p>
                    <ul>
                        {cannot.into_iter().map(|c| {
                            let missing = c.missing.clone();
                            let name = c.name.clone();
                            let code = c.customer.clone();
                            let lines = c.lines.to_string();
                            view! { <li>{move || {
                                let m = missing.iter().map(|m| t(i18n.lang(), m.key())).collect::<Vec<_>>().join(", ");
                                t_args(i18n.lang(), "fees.runs.cannot_one", &[("name", &name), ("code", &code), ("missing", &m), ("lines", &lines)])
                            }}</li> }
                        }).collect_view()}
                    </ul>
                </div>
            })}
        </article>
    }
}

#[component]
fn InvoiceDetail(id: String) -> impl IntoView {
    let credit = ServerAction::<FeesCredit>::new();
    let fetch_id = id.clone();
    let invoice = Resource::new(
        move || (fetch_id.clone(), credit.version().get()),
        |(id, _)| fees_invoice(id),
    );
    view! {
        <p><a href="/staff/fees?tab=invoices">{tr("fees.invoice.back")}</a></p>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match invoice.await {
                    Ok(Some(inv)) => view! { <InvoiceView inv credit/> }.into_any(),
                    Ok(None) => view! { <p role="alert">{tr("fees.invoice.none")}</p> }.into_any(),
                    Err(_) => failed(),
                }
            })}
        </Suspense>
    }
}

fn totals_row(lang: Lang, totals: Amounts, currency: &str) -> String {
    t_args(
        lang,
        "fees.invoice.totals",
        &[
            ("net", &money(lang, totals.net, currency)),
            ("vat", &money(lang, totals.vat, currency)),
            ("gross", &money(lang, totals.gross, currency)),
        ],
    )
}

#[component]
fn InvoiceView(inv: Invoice, credit: ServerAction<FeesCredit>) -> impl IntoView {
    let i18n = use_i18n();
    let chosen = RwSignal::new(Vec::<String>::new());
    let reason = RwSignal::new(String::new());
    let title_key = match inv.kind {
        InvoiceKind::Invoice => "fees.invoice.title",
        InvoiceKind::CreditNote => "fees.invoice.credit_title",
    };
    let number = inv.number.clone();
    let is_invoice = inv.kind == InvoiceKind::Invoice;
    let invoice_id = inv.id.clone();
    let print = |lang: &str| format!("/staff/fees/invoices/{}/print?lang={lang}", inv.id);
    let finvoice = format!("/staff/fees/invoices/{}/finvoice.xml", inv.id);
    let (totals, cur) = (inv.totals, inv.currency.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        credit.dispatch(FeesCredit {
            invoice: invoice_id.clone(),
            lines: chosen.get_untracked(),
            reason: reason.get_untracked(),
        });
    };
    view! {
        <h2>{move || t_args(i18n.lang(), title_key, &[("number", &number)])}</h2>
        <dl class="facts">
            <dt>{tr("fees.col.customer")}</dt><dd>{inv.customer.name.clone()}" ("{inv.customer.code.clone()}")"</dd>
            <dt>{tr("fees.col.reference")}</dt><dd>{reference_paper(&inv.reference)}</dd>
            <dt>{tr("fees.invoice.date")}</dt><dd>{inv.date.to_string()}</dd>
            <dt>{tr("fees.invoice.due")}</dt><dd>{inv.due_date.to_string()}</dd>
        </dl>
        <p>{tr("fees.invoice.print")}" "
            <a href=print("fi") rel="external" lang="fi">"suomeksi"</a>" · "
            <a href=print("sv") rel="external" lang="sv">"på svenska"</a>" · "
            <a href=print("en") rel="external" lang="en">"in English"</a>
            " · "<a href=finvoice rel="external" download>{tr("fees.invoice.finvoice")}</a>
        </p>
        <form on:submit=submit novalidate>
            <ScrollTable id="invoice-lines-caption" caption="fees.invoice.lines">
                <thead><tr>
                    {is_invoice.then(|| view! { <th scope="col">{tr("fees.invoice.choose")}</th> })}
                    <th scope="col">{tr("fees.col.line")}</th>
                    <th scope="col">{tr("fees.col.what")}</th>
                    <th scope="col">{tr("fees.col.net")}</th>
                    <th scope="col">{tr("fees.col.vat")}</th>
                    <th scope="col">{tr("fees.col.gross")}</th>
                </tr></thead>
                <tbody>
                    {inv.lines.iter().map(|l| {
                        let id = l.id.clone();
                        let box_id = format!("credit-{}", l.id.replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
                        let a = l.amounts;
                        let (c1, c2, c3) = (l.currency.clone(), l.currency.clone(), l.currency.clone());
                        view! {
                            <tr>
                                {is_invoice.then(|| {
                                    let id = id.clone();
                                    view! { <td><input type="checkbox" id=box_id.clone()
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            chosen.update(|c| { c.retain(|x| x != &id); if on { c.push(id.clone()); } });
                                        }/></td> }
                                })}
                                <td><label for=box_id><code>{l.id.clone()}</code></label></td>
                                <td>{l.description.clone()}</td>
                                <td class="num">{move || money(i18n.lang(), a.net, &c1)}</td>
                                <td class="num">{move || money(i18n.lang(), a.vat, &c2)}</td>
                                <td class="num">{move || money(i18n.lang(), a.gross, &c3)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </ScrollTable>
            <p>{move || totals_row(i18n.lang(), totals, &cur)}</p>
            {is_invoice.then(|| view! {
                <div class="field">
                    <label for="credit-reason">{tr("fees.invoice.credit_reason")}</label>
                    <input id="credit-reason" required on:input=move |ev| reason.set(event_target_value(&ev))/>
                </div>
                <button type="submit">{tr("fees.invoice.credit")}</button>
            })}
        </form>
        <Answer value=Signal::derive(move || credit.value().get()) done="fees.invoice.credited"/>
    }
}

// --- Reconciliation ------------------------------------------------------------

#[component]
fn ReconcileTab() -> impl IntoView {
    let query = use_query_map();
    let from = move || query.with(|q| q.get("from")).unwrap_or_default();
    let to = move || query.with(|q| q.get("to")).unwrap_or_default();
    let report = Resource::new(
        move || (from(), to()),
        |(f, t)| async move {
            if f.is_empty() || t.is_empty() {
                return Ok(None);
            }
            fees_reconcile(f, t).await.map(Some)
        },
    );
    view! {
        <section aria-labelledby="fees-reconcile">
            <h2 id="fees-reconcile">{tr("fees.reconcile.title")}</h2>
            <p>{tr("fees.reconcile.lead")}</p>
            <form method="get" action="/staff/fees" class="filters">
                <input type="hidden" name="tab" value="reconcile"/>
                <div class="field">
                    <label for="rec-from">{tr("fees.runs.from")}</label>
                    <input type="date" id="rec-from" name="from" value=from required/>
                </div>
                <div class="field">
                    <label for="rec-to">{tr("fees.runs.to")}</label>
                    <input type="date" id="rec-to" name="to" value=to required/>
                </div>
                <div class="filters__buttons"><button type="submit">{tr("fees.reconcile.show")}</button></div>
            </form>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match report.await {
                        Ok(None) => ().into_any(),
                        Ok(Some(Ok(r))) => view! { <ReconcileView r/> }.into_any(),
                        Ok(Some(Err(refusal))) => view! { <RefusalText refusal/> }.into_any(),
                        Err(_) => failed(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RefusalText(refusal: Refusal) -> impl IntoView {
    let i18n = use_i18n();
    view! { <p class="notice notice--error" role="alert">{move || refusal_text(i18n.lang(), &refusal)}</p> }
}

#[component]
fn ReconcileView(r: Reconciliation) -> impl IntoView {
    let i18n = use_i18n();
    let count_rows = vec![
        ("fees.reconcile.events", r.events),
        ("fees.reconcile.charged", r.charged),
        ("fees.reconcile.no_rule", r.no_rule.len()),
        ("fees.reconcile.other_currency", r.other_currency.len()),
        ("fees.reconcile.pending", r.pending.len()),
        ("fees.reconcile.unexplained", r.unexplained.len()),
    ];
    let money_rows = vec![
        ("fees.reconcile.invoiced", r.invoiced),
        ("fees.reconcile.open", r.open),
        ("fees.reconcile.adjusted", r.adjusted),
        ("fees.reconcile.waived", r.waived),
        ("fees.reconcile.credited", r.credited),
    ];
    let unexplained = r.unexplained.clone();
    let no_rule = r.no_rule.clone();
    let other_currency = r.other_currency.clone();
    view! {
        <ScrollTable id="rec-caption" caption="fees.reconcile.caption">
            <tbody>
                {count_rows.into_iter().map(|(key, n)| view! {
                    <tr><th scope="row">{tr(key)}</th><td class="num" data-count=key>{n}</td></tr>
                }).collect_view()}
                {money_rows.into_iter().map(|(key, a)| view! {
                    <tr><th scope="row">{tr(key)}</th><td class="num">{move || money(i18n.lang(), a.gross, "EUR")}</td></tr>
                }).collect_view()}
            </tbody>
        </ScrollTable>
        {if unexplained.is_empty() {
            view! { <p class="notice notice--ok" role="status">{tr("fees.reconcile.all_explained")}</p> }.into_any()
        } else {
            view! { <p class="notice notice--error" role="alert">{tr("fees.reconcile.some_unexplained")}" "{unexplained.join(", ")}</p> }.into_any()
        }}
        {(!no_rule.is_empty()).then(|| view! {
            <p>{tr("fees.reconcile.no_rule_list")}" "{no_rule.join(", ")}</p>
        })}
        {(!other_currency.is_empty()).then(|| view! {
            <p>{tr("fees.reconcile.other_currency_list")}" "{other_currency.join(", ")}</p>
        })}
    }
}
