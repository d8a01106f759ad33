//! Finvoice 3.0: the Finnish e-invoice, for customers that take one.
//! Written with an XML writer (text escaped), in the element order of
//! `Finvoice3.0.xsd`; amounts with a decimal comma, the totals the sums of
//! the rows to the cent. A credit note is `INV02` / UN 381 and names the
//! invoice it corrects.

use app::fees::{format_cents, format_rate, Amounts, Invoice, InvoiceKind};
use app::i18n::Lang;
use chrono::Utc;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::config::FeesConfig;

struct Xml {
    w: Writer<Vec<u8>>,
}

/// At most `max` characters (Finvoice's fields have lengths).
fn cut(text: &str, max: usize) -> String {
    text.trim().chars().take(max).collect()
}

impl Xml {
    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> Result<(), String> {
        let mut start = BytesStart::new(name);
        for a in attrs {
            start.push_attribute(*a);
        }
        self.w
            .write_event(Event::Start(start))
            .map_err(|e| e.to_string())
    }

    fn close(&mut self, name: &str) -> Result<(), String> {
        self.w
            .write_event(Event::End(BytesEnd::new(name)))
            .map_err(|e| e.to_string())
    }

    fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> Result<(), String> {
        self.open(name, attrs)?;
        self.w
            .write_event(Event::Text(BytesText::new(text)))
            .map_err(|e| e.to_string())?;
        self.close(name)
    }

    fn money(&mut self, name: &str, cents: i64, currency: &str) -> Result<(), String> {
        self.leaf(
            name,
            &[("AmountCurrencyIdentifier", currency)],
            &format_cents(cents, ','),
        )
    }

    fn date(&mut self, name: &str, day: chrono::NaiveDate) -> Result<(), String> {
        self.leaf(
            name,
            &[("Format", "CCYYMMDD")],
            &day.format("%Y%m%d").to_string(),
        )
    }
}

/// The invoice as Finvoice 3.0 XML (UTF-8).
pub fn finvoice(inv: &Invoice, config: &FeesConfig, lang: Lang) -> Result<Vec<u8>, String> {
    let mut x = Xml {
        w: Writer::new_with_indent(Vec::new(), b' ', 2),
    };
    x.w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(|e| e.to_string())?;
    x.open(
        "Finvoice",
        &[
            ("Version", "3.0"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:noNamespaceSchemaLocation", "Finvoice3.0.xsd"),
        ],
    )?;
    let cur = inv.currency.as_str();
    let buyer = &inv.customer;
    // Routing: both parties' e-invoice addresses, when known.
    if let (Some(from), Some(from_op), Some(to), Some(to_op)) = (
        config.seller_ovt.as_deref(),
        config.seller_intermediator.as_deref(),
        buyer.ovt.as_deref(),
        buyer.intermediator.as_deref(),
    ) {
        x.open("MessageTransmissionDetails", &[])?;
        x.open("MessageSenderDetails", &[])?;
        x.leaf("FromIdentifier", &[("SchemeID", "0037")], from)?;
        x.leaf("FromIntermediator", &[], from_op)?;
        x.close("MessageSenderDetails")?;
        x.open("MessageReceiverDetails", &[])?;
        x.leaf("ToIdentifier", &[("SchemeID", "0037")], to)?;
        x.leaf("ToIntermediator", &[], to_op)?;
        x.close("MessageReceiverDetails")?;
        x.open("MessageDetails", &[])?;
        x.leaf("MessageIdentifier", &[], &inv.number)?;
        x.leaf(
            "MessageTimeStamp",
            &[],
            &Utc::now().format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
        )?;
        x.close("MessageDetails")?;
        x.close("MessageTransmissionDetails")?;
    }

    x.open("SellerPartyDetails", &[])?;
    x.leaf("SellerPartyIdentifier", &[], &config.seller_business_id)?;
    x.leaf("SellerOrganisationName", &[], &cut(&config.seller_name, 70))?;
    if let Some(vat) = &config.seller_vat_number {
        x.leaf("SellerOrganisationTaxCode", &[], vat)?;
    }
    x.open("SellerPostalAddressDetails", &[])?;
    x.leaf("SellerStreetName", &[], &cut(&config.seller_street, 35))?;
    x.leaf("SellerTownName", &[], &cut(&config.seller_town, 35))?;
    x.leaf(
        "SellerPostCodeIdentifier",
        &[],
        &cut(&config.seller_postcode, 35),
    )?;
    x.leaf("CountryCode", &[], &config.seller_country)?;
    x.close("SellerPostalAddressDetails")?;
    x.close("SellerPartyDetails")?;
    if let Some(ovt) = &config.seller_ovt {
        x.leaf("SellerOrganisationUnitNumber", &[], ovt)?;
    }
    x.open("SellerInformationDetails", &[])?;
    x.open("SellerAccountDetails", &[])?;
    x.leaf(
        "SellerAccountID",
        &[("IdentificationSchemeName", "IBAN")],
        &config.seller_iban,
    )?;
    x.leaf(
        "SellerBic",
        &[("IdentificationSchemeName", "BIC")],
        &config.seller_bic,
    )?;
    x.close("SellerAccountDetails")?;
    x.close("SellerInformationDetails")?;

    x.open("BuyerPartyDetails", &[])?;
    if let Some(id) = &buyer.business_id {
        x.leaf("BuyerPartyIdentifier", &[], id)?;
    }
    x.leaf("BuyerOrganisationName", &[], &cut(&buyer.name, 70))?;
    x.open("BuyerPostalAddressDetails", &[])?;
    x.leaf(
        "BuyerStreetName",
        &[],
        &cut(buyer.street.as_deref().unwrap_or(""), 35),
    )?;
    x.leaf(
        "BuyerTownName",
        &[],
        &cut(buyer.town.as_deref().unwrap_or(""), 35),
    )?;
    x.leaf(
        "BuyerPostCodeIdentifier",
        &[],
        &cut(buyer.postcode.as_deref().unwrap_or(""), 35),
    )?;
    x.leaf("CountryCode", &[], buyer.country.as_deref().unwrap_or("FI"))?;
    x.close("BuyerPostalAddressDetails")?;
    x.close("BuyerPartyDetails")?;
    if let Some(ovt) = &buyer.ovt {
        x.leaf("BuyerOrganisationUnitNumber", &[], ovt)?;
    }

    let credit = inv.kind == InvoiceKind::CreditNote;
    x.open("InvoiceDetails", &[])?;
    x.leaf(
        "InvoiceTypeCode",
        &[],
        if credit { "INV02" } else { "INV01" },
    )?;
    x.leaf("InvoiceTypeCodeUN", &[], if credit { "381" } else { "380" })?;
    x.leaf(
        "InvoiceTypeText",
        &[],
        match (credit, lang) {
            (false, Lang::Fi) => "LASKU",
            (true, Lang::Fi) => "HYVITYSLASKU",
            (false, Lang::Sv) => "FAKTURA",
            (true, Lang::Sv) => "KREDITNOTA",
            (false, Lang::En) => "INVOICE",
            (true, Lang::En) => "CREDIT NOTE",
        },
    )?;
    x.leaf("OriginCode", &[], "Original")?;
    x.leaf("InvoiceNumber", &[], &inv.number)?;
    x.date("InvoiceDate", inv.date)?;
    if let Some(original) = &inv.credits {
        // The corrected invoice's number (its id is Kauko's own).
        x.leaf("OriginalInvoiceNumber", &[], original_number(inv, original))?;
    }
    // The totals are the rows' sums.
    let rows = inv
        .lines
        .iter()
        .fold(Amounts::default(), |a, l| a + l.amounts);
    x.money("RowsTotalVatExcludedAmount", rows.net, cur)?;
    x.money("InvoiceTotalVatExcludedAmount", rows.net, cur)?;
    x.money("InvoiceTotalVatAmount", rows.vat, cur)?;
    x.money("InvoiceTotalVatIncludedAmount", rows.gross, cur)?;
    // One VAT specification per rate.
    let mut rates: Vec<i64> = inv.lines.iter().map(|l| l.vat_basis_points).collect();
    rates.sort_unstable();
    rates.dedup();
    for rate in rates {
        let sum = inv
            .lines
            .iter()
            .filter(|l| l.vat_basis_points == rate)
            .fold(Amounts::default(), |a, l| a + l.amounts);
        x.open("VatSpecificationDetails", &[])?;
        x.money("VatBaseAmount", sum.net, cur)?;
        x.leaf("VatRatePercent", &[], &format_rate(rate, ','))?;
        x.leaf("VatCode", &[], if rate == 0 { "Z" } else { "S" })?;
        x.money("VatRateAmount", sum.vat, cur)?;
        x.close("VatSpecificationDetails")?;
    }
    x.open("PaymentTermsDetails", &[])?;
    x.leaf(
        "PaymentTermsFreeText",
        &[],
        &format!("{} pv netto", config.payment_days),
    )?;
    x.date("InvoiceDueDate", inv.due_date)?;
    x.close("PaymentTermsDetails")?;
    x.close("InvoiceDetails")?;

    for line in &inv.lines {
        x.open("InvoiceRow", &[])?;
        x.leaf("ArticleIdentifier", &[], &line.id)?;
        x.leaf(
            "ArticleName",
            &[],
            &cut(&super::export::describe(lang, line), 100),
        )?;
        x.leaf(
            "DeliveredQuantity",
            &[("QuantityUnitCode", "kpl")],
            &line.quantity.to_string(),
        )?;
        x.money("UnitPriceAmount", line.unit_cents.abs(), &line.currency)?;
        x.leaf("RowIdentifier", &[], &line.request_id)?;
        x.leaf(
            "RowVatRatePercent",
            &[],
            &format_rate(line.vat_basis_points, ','),
        )?;
        x.leaf(
            "RowVatCode",
            &[],
            if line.vat_basis_points == 0 { "Z" } else { "S" },
        )?;
        x.money("RowVatAmount", line.amounts.vat, &line.currency)?;
        x.money("RowVatExcludedAmount", line.amounts.net, &line.currency)?;
        x.money("RowAmount", line.amounts.gross, &line.currency)?;
        x.close("InvoiceRow")?;
    }

    x.open("EpiDetails", &[])?;
    x.open("EpiIdentificationDetails", &[])?;
    x.date("EpiDate", inv.date)?;
    x.leaf("EpiReference", &[], "")?;
    x.close("EpiIdentificationDetails")?;
    x.open("EpiPartyDetails", &[])?;
    x.open("EpiBfiPartyDetails", &[])?;
    x.leaf(
        "EpiBfiIdentifier",
        &[("IdentificationSchemeName", "BIC")],
        &config.seller_bic,
    )?;
    x.close("EpiBfiPartyDetails")?;
    x.open("EpiBeneficiaryPartyDetails", &[])?;
    x.leaf("EpiNameAddressDetails", &[], &cut(&config.seller_name, 35))?;
    x.leaf("EpiBei", &[], &config.seller_business_id)?;
    x.leaf(
        "EpiAccountID",
        &[("IdentificationSchemeName", "IBAN")],
        &config.seller_iban,
    )?;
    x.close("EpiBeneficiaryPartyDetails")?;
    x.close("EpiPartyDetails")?;
    x.open("EpiPaymentInstructionDetails", &[])?;
    x.leaf(
        "EpiRemittanceInfoIdentifier",
        &[("IdentificationSchemeName", "SPY")],
        &inv.reference,
    )?;
    // A credit note asks for no payment.
    x.money("EpiInstructedAmount", rows.gross.max(0), cur)?;
    x.leaf("EpiCharge", &[("ChargeOption", "SHA")], "SHA")?;
    x.date("EpiDateOptionDate", inv.due_date)?;
    x.close("EpiPaymentInstructionDetails")?;
    x.close("EpiDetails")?;
    x.close("Finvoice")?;
    let mut out = x.w.into_inner();
    out.push(b'\n');
    Ok(out)
}

/// The corrected invoice's number: Kauko keeps it on the lines' original
/// invoice; the id is shown when it cannot be found.
fn original_number<'a>(inv: &'a Invoice, original: &'a str) -> &'a str {
    inv.credits_number.as_deref().unwrap_or(original)
}
