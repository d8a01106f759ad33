//! The printable invoice: a page of its own (no scripts, print styles) in
//! Finnish, Swedish or English, every value escaped by the template engine.

use app::fees::{format_cents, format_rate, reference_paper, Invoice, InvoiceKind};
use app::i18n::{t, Lang};
use minijinja::{context, Environment};

use crate::config::FeesConfig;

const TEMPLATE: &str = r#"<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} {{ number }}</title>
<style nonce="{{ nonce }}">
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 1rem auto; padding: 0 1rem; color: #111; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: 0.25rem; }
.parties { display: flex; flex-wrap: wrap; gap: 2rem; margin: 1rem 0; }
.parties section { flex: 1 1 14rem; }
h2 { font-size: 1rem; margin: 0 0 0.25rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 1rem 0; }
dt { font-weight: 600; }
dd { margin: 0; }
table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.25rem; }
th, td { border-bottom: 1px solid #999; padding: 0.3rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
tfoot th, tfoot td { font-weight: 700; border-bottom: none; }
.table-scroll { overflow-x: auto; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; text-decoration: none; } }
</style>
</head>
<body>
<main>
<h1>{{ title }} {{ number }}</h1>
{% if credits %}<p>{{ credits_label }} {{ credits }}</p>{% endif %}
<div class="parties">
<section aria-labelledby="seller"><h2 id="seller">{{ seller_label }}</h2>
<p>{{ seller.name }}<br>{{ seller.street }}<br>{{ seller.postcode }} {{ seller.town }}<br>{{ business_id_label }} {{ seller.business_id }}</p></section>
<section aria-labelledby="buyer"><h2 id="buyer">{{ buyer_label }}</h2>
<p>{{ buyer.name }}<br>{{ buyer.street }}<br>{{ buyer.postcode }} {{ buyer.town }}{% if buyer.business_id %}<br>{{ business_id_label }} {{ buyer.business_id }}{% endif %}</p></section>
</div>
<dl>
<dt>{{ date_label }}</dt><dd>{{ date }}</dd>
<dt>{{ due_label }}</dt><dd>{{ due }}</dd>
<dt>{{ reference_label }}</dt><dd>{{ reference }}</dd>
<dt>{{ account_label }}</dt><dd>{{ seller.iban }} ({{ seller.bic }})</dd>
</dl>
<div class="table-scroll" tabindex="0" role="region" aria-label="{{ lines_label }}">
<table>
<caption>{{ lines_label }}</caption>
<thead><tr><th scope="col">{{ line_label }}</th><th scope="col">{{ what_label }}</th><th scope="col" class="num">{{ quantity_label }}</th><th scope="col" class="num">{{ unit_label }}</th><th scope="col" class="num">{{ vat_rate_label }}</th><th scope="col" class="num">{{ net_label }}</th><th scope="col" class="num">{{ vat_label }}</th><th scope="col" class="num">{{ gross_label }}</th></tr></thead>
<tbody>
{% for l in lines %}<tr><td>{{ l.id }}</td><td>{{ l.what }}</td><td class="num">{{ l.quantity }}</td><td class="num">{{ l.unit }}</td><td class="num">{{ l.rate }} %</td><td class="num">{{ l.net }}</td><td class="num">{{ l.vat }}</td><td class="num">{{ l.gross }}</td></tr>
{% endfor %}</tbody>
<tfoot><tr><th scope="row" colspan="5">{{ total_label }}</th><td class="num">{{ net }}</td><td class="num">{{ vat }}</td><td class="num">{{ gross }}</td></tr></tfoot>
</table>
</div>
</main>
</body>
</html>
"#;

/// The invoice as a page in `lang`.
/// `nonce` is the style element's, for the page's Content-Security-Policy.
pub fn page(inv: &Invoice, config: &FeesConfig, lang: Lang, nonce: &str) -> Result<String, String> {
    let mut env = Environment::new();
    env.add_template("invoice.html", TEMPLATE)
        .map_err(|e| e.to_string())?;
    let sep = if lang == Lang::En { '.' } else { ',' };
    let money = |c: i64| format!("{} {}", format_cents(c, sep), inv.currency);
    let lines: Vec<_> = inv
        .lines
        .iter()
        .map(|l| {
            context! {
                id => l.id,
                what => super::export::describe(lang, l),
                quantity => l.quantity,
                unit => money(l.unit_cents),
                rate => format_rate(l.vat_basis_points, sep),
                net => money(l.amounts.net),
                vat => money(l.amounts.vat),
                gross => money(l.amounts.gross),
            }
        })
        .collect();
    let title_key = match inv.kind {
        InvoiceKind::Invoice => "fees.print.invoice",
        InvoiceKind::CreditNote => "fees.print.credit_note",
    };
    let l = |key: &str| t(lang, key);
    env.get_template("invoice.html")
        .and_then(|tpl| {
            tpl.render(context! {
                lang => lang.code(),
                nonce => nonce,
                title => l(title_key),
                number => inv.number,
                credits => inv.credits_number,
                credits_label => l("fees.print.credits"),
                seller_label => l("fees.print.seller"),
                buyer_label => l("fees.print.buyer"),
                business_id_label => l("fees.customers.business_id"),
                seller => context! {
                    name => config.seller_name,
                    street => config.seller_street,
                    postcode => config.seller_postcode,
                    town => config.seller_town,
                    business_id => config.seller_business_id,
                    iban => config.seller_iban,
                    bic => config.seller_bic,
                },
                buyer => context! {
                    name => inv.customer.name,
                    street => inv.customer.street,
                    postcode => inv.customer.postcode,
                    town => inv.customer.town,
                    business_id => inv.customer.business_id,
                },
                date_label => l("fees.invoice.date"),
                date => inv.date.to_string(),
                due_label => l("fees.invoice.due"),
                due => inv.due_date.to_string(),
                reference_label => l("fees.col.reference"),
                reference => reference_paper(&inv.reference),
                account_label => l("fees.print.account"),
                lines_label => l("fees.invoice.lines"),
                line_label => l("fees.col.line"),
                what_label => l("fees.col.what"),
                quantity_label => l("fees.print.quantity"),
                unit_label => l("fees.print.unit"),
                vat_rate_label => l("fees.print.vat_rate"),
                net_label => l("fees.col.net"),
                vat_label => l("fees.col.vat"),
                gross_label => l("fees.col.gross"),
                total_label => l("fees.print.total"),
                lines => lines,
                net => money(inv.totals.net),
                vat => money(inv.totals.vat),
                gross => money(inv.totals.gross),
            })
        })
        .map_err(|e| e.to_string())
}
