//! Cells of every CSV Kauko writes: a spreadsheet runs a cell that begins
//! with `=`, `+`, `-` or `@` (or a tab or carriage return before one) as a
//! formula ("CSV injection", OWASP). A partner's phone number `+358…` or a
//! note `=HYPERLINK(…)` must stay text, so such a cell gets a leading `'`,
//! which spreadsheets show as a text marker.

use std::borrow::Cow;

/// Characters that start a formula, the full-width forms included (some
/// spreadsheets read those too).
const FORMULA_START: [char; 10] = [
    '=', '+', '-', '@', '\t', '\r', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// The cell as a spreadsheet will show it as text.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    let first = cell.trim_start_matches([' ', '\u{A0}']).chars().next();
    match first {
        Some(c) if FORMULA_START.contains(&c) => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_plain_cells_stay() {
        for (cell, safe) in [
            (
                "=HYPERLINK(\"http://evil\",\"x\")",
                "'=HYPERLINK(\"http://evil\",\"x\")",
            ),
            ("+358 40 123 4567", "'+358 40 123 4567"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("  =1", "'  =1"),
            ("＝1+1", "'＝1+1"),
        ] {
            assert_eq!(spreadsheet_safe(cell), safe, "{cell:?}");
        }
        for plain in [
            "",
            "FI-TUNI",
            "Tampere",
            "ill@tuni.fi",
            "50 €",
            "1-2",
            "'quoted",
        ] {
            assert_eq!(spreadsheet_safe(plain), plain);
        }
    }
}
