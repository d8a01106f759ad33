//! The SAP intake file: one row per invoice line, through a column profile
//! (`fees.sap_columns`), as CSV or XLSX. The finance office defines the
//! layout; the default is modelled on a Finnish mass-invoicing sheet.
//!
//! Fields a column can name: `invoice_number`, `invoice_type` (`invoice`
//! or `credit_note`), `invoice_date`, `due_date`, `reference` (the Finnish
//! reference number), `credits` (the invoice a credit note corrects),
//! `customer_code`, `customer_name`, `business_id`, `ovt`, `street`,
//! `postcode`, `town`, `country`, `email`, `line_id` (Kauko's stable line
//! id), `request_id`, `description`, `quantity`, `unit_price`,
//! `vat_rate`, `net`, `vat`, `gross`, `currency`, `cost_centre`,
//! `account`, `created_by`.

use app::fees::{format_cents, format_rate, FeeLine, Invoice, InvoiceKind};
use app::i18n::{t, Lang};
use rust_xlsxwriter::{Format, Workbook};

use crate::config::FeesConfig;

/// The default profile: field and header.
pub const DEFAULT_COLUMNS: [(&str, &str); 23] = [
    ("invoice_number", "Laskun numero"),
    ("invoice_type", "Laskutyyppi"),
    ("invoice_date", "Laskun päivä"),
    ("due_date", "Eräpäivä"),
    ("reference", "Viitenumero"),
    ("credits", "Hyvitettävä lasku"),
    ("customer_code", "Asiakastunnus"),
    ("customer_name", "Asiakas"),
    ("business_id", "Y-tunnus"),
    ("ovt", "OVT-tunnus"),
    ("street", "Katuosoite"),
    ("postcode", "Postinumero"),
    ("town", "Postitoimipaikka"),
    ("country", "Maa"),
    ("line_id", "Rivitunniste"),
    ("description", "Kuvaus"),
    ("quantity", "Määrä"),
    ("unit_price", "Yksikköhinta"),
    ("vat_rate", "ALV %"),
    ("net", "Veroton"),
    ("vat", "ALV"),
    ("gross", "Verollinen"),
    ("cost_centre", "Kustannuspaikka"),
];

/// The profile's columns: (field, header). Unknown fields are refused at
/// start (see [`check_profile`]).
pub fn columns(config: &FeesConfig) -> Vec<(String, String)> {
    if config.sap_columns.is_empty() {
        return DEFAULT_COLUMNS
            .iter()
            .map(|(f, h)| ((*f).to_owned(), (*h).to_owned()))
            .chain([
                ("account".to_owned(), "Tili".to_owned()),
                ("currency".to_owned(), "Valuutta".to_owned()),
            ])
            .collect();
    }
    config
        .sap_columns
        .iter()
        .map(|c| match c.split_once(':') {
            Some((f, h)) => (f.trim().to_owned(), h.trim().to_owned()),
            None => (c.trim().to_owned(), c.trim().to_owned()),
        })
        .collect()
}

const FIELDS: [&str; 28] = [
    "invoice_number",
    "invoice_type",
    "invoice_date",
    "due_date",
    "reference",
    "credits",
    "customer_code",
    "customer_name",
    "business_id",
    "ovt",
    "street",
    "postcode",
    "town",
    "country",
    "email",
    "line_id",
    "request_id",
    "description",
    "quantity",
    "unit_price",
    "vat_rate",
    "net",
    "vat",
    "gross",
    "currency",
    "cost_centre",
    "account",
    "created_by",
];

/// The first field of the profile Kauko does not know.
pub fn check_profile(config: &FeesConfig) -> Result<(), String> {
    for (field, _) in columns(config) {
        if !FIELDS.contains(&field.as_str()) {
            return Err(format!(
                "fees.sap_columns: unknown field {field:?}; the fields are {}",
                FIELDS.join(", ")
            ));
        }
    }
    Ok(())
}

/// A line's description on an invoice: what it was for, and the title.
pub fn describe(lang: Lang, line: &FeeLine) -> String {
    let what = line
        .billable
        .map(|b| t(lang, &b.name_key()))
        .unwrap_or_else(|| t(lang, "fees.kind.adjustment"));
    let mut text = if line.description.trim().is_empty() {
        what
    } else {
        format!("{what}: {}", line.description.trim())
    };
    if line.kind != app::fees::LineKind::Charge {
        text = format!(
            "{text} ({})",
            t(lang, &format!("fees.kind.{}", line.kind.code()))
        );
    }
    text
}

/// One cell: text, or an amount in cents.
pub enum Cell {
    Text(String),
    Cents(i64),
}

fn cell(field: &str, inv: &Invoice, line: &FeeLine, config: &FeesConfig, lang: Lang) -> Cell {
    let c = &inv.customer;
    let text = |s: Option<&String>| Cell::Text(s.cloned().unwrap_or_default());
    match field {
        "invoice_number" => Cell::Text(inv.number.clone()),
        "invoice_type" => Cell::Text(
            match inv.kind {
                InvoiceKind::Invoice => "invoice",
                InvoiceKind::CreditNote => "credit_note",
            }
            .to_owned(),
        ),
        "invoice_date" => Cell::Text(inv.date.to_string()),
        "due_date" => Cell::Text(inv.due_date.to_string()),
        "reference" => Cell::Text(inv.reference.clone()),
        "credits" => text(inv.credits.as_ref()),
        "customer_code" => Cell::Text(c.code.clone()),
        "customer_name" => Cell::Text(c.name.clone()),
        "business_id" => text(c.business_id.as_ref()),
        "ovt" => text(c.ovt.as_ref()),
        "street" => text(c.street.as_ref()),
        "postcode" => text(c.postcode.as_ref()),
        "town" => text(c.town.as_ref()),
        "country" => text(c.country.as_ref()),
        "email" => text(c.email.as_ref()),
        "line_id" => Cell::Text(line.id.clone()),
        "request_id" => Cell::Text(line.request_id.clone()),
        "description" => Cell::Text(describe(lang, line)),
        "quantity" => Cell::Text(line.quantity.to_string()),
        "unit_price" => Cell::Cents(line.unit_cents),
        "vat_rate" => Cell::Text(format_rate(line.vat_basis_points, decimal(config))),
        "net" => Cell::Cents(line.amounts.net),
        "vat" => Cell::Cents(line.amounts.vat),
        "gross" => Cell::Cents(line.amounts.gross),
        "currency" => Cell::Text(line.currency.clone()),
        "cost_centre" => Cell::Text(config.cost_centre.clone()),
        "account" => Cell::Text(config.account.clone()),
        "created_by" => Cell::Text(line.created_by.clone()),
        _ => Cell::Text(String::new()),
    }
}

fn decimal(config: &FeesConfig) -> char {
    config.sap_decimal.chars().next().unwrap_or(',')
}

fn lang_of(inv: &Invoice, default: Lang) -> Lang {
    inv.customer
        .lang
        .as_deref()
        .and_then(Lang::from_tag)
        .unwrap_or(default)
}

/// The CSV file (UTF-8 with a byte-order mark, which Excel needs to read
/// ä and ö), text cells made safe from formulas.
pub fn csv(
    invoices: &[Invoice],
    config: &FeesConfig,
    default_lang: Lang,
) -> Result<Vec<u8>, String> {
    let cols = columns(config);
    let delimiter = config.sap_delimiter.bytes().next().unwrap_or(b';');
    let mut out = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    out.write_record(
        cols.iter()
            .map(|(_, h)| app::domain::csv::spreadsheet_safe(h).into_owned()),
    )
    .map_err(|e| e.to_string())?;
    for inv in invoices {
        let lang = lang_of(inv, default_lang);
        for line in &inv.lines {
            let row: Vec<String> = cols
                .iter()
                .map(|(f, _)| match cell(f, inv, line, config, lang) {
                    Cell::Text(t) => app::domain::csv::spreadsheet_safe(&t).into_owned(),
                    Cell::Cents(c) => format_cents(c, decimal(config)),
                })
                .collect();
            out.write_record(&row).map_err(|e| e.to_string())?;
        }
    }
    let body = out.into_inner().map_err(|e| e.to_string())?;
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(body);
    Ok(bytes)
}

/// The XLSX file: amounts as numbers with two decimals, text as text
/// (never formulas).
pub fn xlsx(
    invoices: &[Invoice],
    config: &FeesConfig,
    default_lang: Lang,
) -> Result<Vec<u8>, String> {
    let cols = columns(config);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Laskut").map_err(|e| e.to_string())?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("0.00");
    for (i, (_, header)) in cols.iter().enumerate() {
        let col = u16::try_from(i).map_err(|e| e.to_string())?;
        sheet
            .write_string_with_format(0, col, header, &bold)
            .map_err(|e| e.to_string())?;
    }
    let mut row: u32 = 1;
    for inv in invoices {
        let lang = lang_of(inv, default_lang);
        for line in &inv.lines {
            for (i, (field, _)) in cols.iter().enumerate() {
                let col = u16::try_from(i).map_err(|e| e.to_string())?;
                match cell(field, inv, line, config, lang) {
                    Cell::Text(t) => sheet.write_string(row, col, &t).map(|_| ()),
                    Cell::Cents(c) => sheet
                        .write_number_with_format(row, col, c as f64 / 100.0, &money)
                        .map(|_| ()),
                }
                .map_err(|e| e.to_string())?;
            }
            row += 1;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    book.save_to_buffer().map_err(|e| e.to_string())
}
