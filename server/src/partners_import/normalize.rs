//! Normalisation: whitespace, case, ISIL, e-mail, country codes, flags, and
//! redaction of secrets in notes. A record without a code or a name is
//! rejected; a malformed ISIL, e-mail or country is dropped with a warning
//! (the other source may have a good one).

use app::domain::PartnerStatus;
use app::staff_import::SourceRef;

use super::sources::RawRecord;
use super::Rejection;

/// An ISO 18626 partner: its agency symbol and endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsoProfile {
    pub symbol: String,
    pub url: Option<String>,
}

/// A record after normalisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormRecord {
    pub source: SourceRef,
    pub code: String,
    pub name: String,
    pub isil: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `fi`, `sv` or `en`.
    pub language: Option<String>,
    pub address_lines: Vec<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub notes: Option<String>,
    pub borrowing: Option<bool>,
    pub lending: Option<bool>,
    pub status: Option<PartnerStatus>,
    pub iso: Option<IsoProfile>,
    pub warnings: Vec<String>,
}

impl NormRecord {
    /// Same content, wherever it came from (for spotting duplicate rows).
    pub fn same_content(&self, other: &NormRecord) -> bool {
        let strip = |r: &NormRecord| NormRecord {
            source: SourceRef {
                source: r.source.source,
                row: 0,
                id: None,
            },
            warnings: Vec::new(),
            ..r.clone()
        };
        strip(self) == strip(other)
    }
}

/// Trims and collapses runs of whitespace (including non-breaking spaces)
/// to one space; `None` when nothing is left.
pub fn clean(s: &str) -> Option<String> {
    let out = s
        .split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!out.is_empty()).then_some(out)
}

fn clean_opt(s: Option<&String>) -> Option<String> {
    s.and_then(|s| clean(s))
}

/// Repairs UTF-8 that was read as Windows-1252 once ("JyvÃ¤skylÃ¤"): when
/// the text holds the typical two-character sequences and re-encoding it
/// gives valid UTF-8, that is the text.
pub fn fix_mojibake(s: &str) -> String {
    if !s.contains(['Ã', 'Â']) && !s.contains("â€") {
        return s.to_owned();
    }
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(s);
    if unmappable {
        return s.to_owned();
    }
    match String::from_utf8(bytes.into_owned()) {
        Ok(fixed) if fixed.chars().count() < s.chars().count() => fixed,
        _ => s.to_owned(),
    }
}

/// Upper-case code without spaces; `None` when it has characters a partner
/// code cannot have.
pub fn code(s: &str) -> Option<String> {
    let c: String = s.split_whitespace().collect::<String>().to_uppercase();
    let ok = !c.is_empty()
        && c.len() <= 255
        && c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_:./".contains(ch));
    ok.then_some(c)
}

/// An ISIL (ISO 15511) as `PREFIX-Identifier`: the prefix (a country code or
/// another registered prefix of at most 4 characters) upper-cased, the
/// identifier's case kept, at most 16 characters. Accepts `ISIL:` in front,
/// a space or dash variant for the hyphen. `None` when it is not an ISIL.
pub fn isil(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s
        .strip_prefix("ISIL:")
        .or_else(|| s.strip_prefix("isil:"))
        .or_else(|| s.strip_prefix("ISIL "))
        .unwrap_or(s)
        .trim();
    let s = s.replace(['\u{2010}', '\u{2011}', '\u{2013}', '\u{2014}'], "-");
    let (prefix, id) = match s.split_once('-') {
        Some((p, i)) => (p.trim(), i.trim()),
        None => {
            let (p, i) = s.split_once(' ')?;
            (p.trim(), i.trim())
        }
    };
    let prefix = prefix.to_uppercase();
    let prefix_ok =
        (1..=4).contains(&prefix.len()) && prefix.chars().all(|c| c.is_ascii_alphanumeric());
    let id_ok = (1..=11).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-/:".contains(c));
    let out = format!("{prefix}-{id}");
    (prefix_ok && id_ok && out.len() <= 16).then_some(out)
}

/// Whether an address is plausible: one `@`, a local part of the usual
/// characters, a domain of at least two labels of letters, digits and
/// hyphens, and a top-level domain of at least two letters.
pub fn email_is_valid(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty()
        || local.len() > 64
        || domain.contains('@')
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return false;
    }
    if !local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

/// Lower-cased e-mail without `mailto:` or angle brackets; of several, the
/// first. `Err` with the warning code when there is no valid one.
pub fn email(s: &str, warnings: &mut Vec<String>) -> Option<String> {
    let parts: Vec<&str> = s
        .split([';', ',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() > 1 {
        warnings.push("multiple_emails".into());
    }
    let first = parts.first()?;
    let e = first
        .trim_matches(|c| c == '<' || c == '>')
        .trim_start_matches("mailto:")
        .trim_start_matches("MAILTO:")
        .to_lowercase();
    if email_is_valid(&e) {
        Some(e)
    } else {
        warnings.push("invalid_email".into());
        None
    }
}

/// The e-mail's domain (for matching).
pub fn email_domain(email: &str) -> Option<&str> {
    email.rsplit_once('@').map(|(_, d)| d)
}

/// ISO 3166-1: alpha-2, alpha-3, and names in English, Finnish and Swedish.
const COUNTRIES: &[(&str, &str, &[&str])] = &[
    ("FI", "FIN", &["finland", "suomi", "republic of finland"]),
    ("SE", "SWE", &["sweden", "ruotsi", "sverige"]),
    ("NO", "NOR", &["norway", "norja", "norge"]),
    ("DK", "DNK", &["denmark", "tanska", "danmark"]),
    ("IS", "ISL", &["iceland", "islanti", "island"]),
    ("EE", "EST", &["estonia", "viro", "estland", "eesti"]),
    ("LV", "LVA", &["latvia", "lettland"]),
    ("LT", "LTU", &["lithuania", "liettua", "litauen"]),
    (
        "DE",
        "DEU",
        &["germany", "saksa", "tyskland", "deutschland"],
    ),
    (
        "NL",
        "NLD",
        &[
            "netherlands",
            "alankomaat",
            "hollanti",
            "nederländerna",
            "the netherlands",
        ],
    ),
    ("BE", "BEL", &["belgium", "belgia", "belgien"]),
    ("LU", "LUX", &["luxembourg", "luxemburg"]),
    ("FR", "FRA", &["france", "ranska", "frankrike"]),
    (
        "GB",
        "GBR",
        &[
            "united kingdom",
            "uk",
            "great britain",
            "iso-britannia",
            "storbritannien",
            "england",
        ],
    ),
    ("IE", "IRL", &["ireland", "irlanti", "irland"]),
    ("ES", "ESP", &["spain", "espanja", "spanien"]),
    ("PT", "PRT", &["portugal", "portugali"]),
    ("IT", "ITA", &["italy", "italia", "italien"]),
    ("CH", "CHE", &["switzerland", "sveitsi", "schweiz"]),
    ("AT", "AUT", &["austria", "itävalta", "österrike"]),
    ("PL", "POL", &["poland", "puola", "polen"]),
    (
        "CZ",
        "CZE",
        &["czechia", "czech republic", "tšekki", "tjeckien"],
    ),
    ("SK", "SVK", &["slovakia", "slovakia", "slovakien"]),
    ("HU", "HUN", &["hungary", "unkari", "ungern"]),
    ("SI", "SVN", &["slovenia", "slovenien"]),
    ("HR", "HRV", &["croatia", "kroatia", "kroatien"]),
    ("RO", "ROU", &["romania", "rumänien"]),
    ("BG", "BGR", &["bulgaria", "bulgarien"]),
    ("GR", "GRC", &["greece", "kreikka", "grekland"]),
    ("CY", "CYP", &["cyprus", "kypros", "cypern"]),
    ("MT", "MLT", &["malta"]),
    ("UA", "UKR", &["ukraine", "ukraina"]),
    (
        "RU",
        "RUS",
        &["russia", "russian federation", "venäjä", "ryssland"],
    ),
    (
        "US",
        "USA",
        &[
            "united states",
            "united states of america",
            "yhdysvallat",
            "usa",
            "förenta staterna",
        ],
    ),
    ("CA", "CAN", &["canada", "kanada"]),
    ("AU", "AUS", &["australia", "australien"]),
    (
        "NZ",
        "NZL",
        &["new zealand", "uusi-seelanti", "nya zeeland"],
    ),
    ("JP", "JPN", &["japan", "japani"]),
    ("CN", "CHN", &["china", "kiina", "kina"]),
    ("IN", "IND", &["india", "intia", "indien"]),
    ("IL", "ISR", &["israel", "israel"]),
    ("TR", "TUR", &["turkey", "türkiye", "turkki", "turkiet"]),
    ("ZA", "ZAF", &["south africa", "etelä-afrikka", "sydafrika"]),
    ("BR", "BRA", &["brazil", "brasilia", "brasilien"]),
    ("MX", "MEX", &["mexico", "meksiko", "mexiko"]),
    ("AR", "ARG", &["argentina", "argentiina"]),
    (
        "KR",
        "KOR",
        &[
            "south korea",
            "korea, republic of",
            "etelä-korea",
            "sydkorea",
        ],
    ),
    ("SG", "SGP", &["singapore", "singapore"]),
];

/// The ISO 3166-1 alpha-2 code for a code or a name; `None` when unknown.
pub fn country(s: &str) -> Option<&'static str> {
    let t = s.trim().trim_end_matches('.').to_lowercase();
    COUNTRIES.iter().find_map(|(a2, a3, names)| {
        (t == a2.to_lowercase() || t == a3.to_lowercase() || names.contains(&t.as_str()))
            .then_some(*a2)
    })
}

/// A yes/no column: `Ok(None)` when empty, `Err` when unreadable.
pub fn flag(s: &str) -> Result<Option<bool>, ()> {
    match s.trim().to_lowercase().as_str() {
        "" => Ok(None),
        "1" | "y" | "yes" | "true" | "x" | "k" | "kyllä" | "kylla" | "ja" | "j" => Ok(Some(true)),
        "0" | "n" | "no" | "false" | "-" | "e" | "ei" | "nej" => Ok(Some(false)),
        _ => Err(()),
    }
}

const SECRET_WORDS: [&str; 10] = [
    "password",
    "passwd",
    "pwd",
    "salasana",
    "lösenord",
    "api key",
    "api_key",
    "apikey",
    "secret",
    "token",
];

/// Replaces whatever follows a password-like word (up to the end of the
/// sentence part) with `[redacted]`, so no secret reaches a partner record,
/// the report or the browser.
pub fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut parts = Vec::new();
        for part in line.split(';') {
            match secret_word_end(part) {
                Some(end) => parts.push(format!("{}: [redacted]", &part[..end])),
                None => parts.push(part.to_owned()),
            }
        }
        out.push_str(&parts.join(";"));
    }
    out
}

/// Where the first password-like word in `part` ends (a byte offset in
/// `part` itself). Matched on the lower-cased text character by character,
/// each lower-cased character remembering where its original ends: case
/// mapping can change lengths (`İ` lower-cases to two characters), so an
/// offset in the lower-cased text is not one in the original.
fn secret_word_end(part: &str) -> Option<usize> {
    let folded: Vec<(char, usize)> = part
        .char_indices()
        .flat_map(|(at, c)| c.to_lowercase().map(move |l| (l, at + c.len_utf8())))
        .collect();
    let mut best: Option<usize> = None;
    for word in SECRET_WORDS {
        let word: Vec<char> = word.chars().collect();
        if let Some(start) = folded
            .windows(word.len())
            .position(|w| w.iter().map(|(c, _)| *c).eq(word.iter().copied()))
        {
            let end = folded[start + word.len() - 1].1;
            best = Some(best.map_or(end, |b: usize| b.min(end)));
        }
    }
    best
}

fn notes(s: &str) -> Option<String> {
    let text = fix_mojibake(s);
    let lines: Vec<String> = text.lines().filter_map(clean).collect();
    (!lines.is_empty()).then(|| redact_secrets(&lines.join("\n")))
}

/// Normalises one record, or says why it cannot be used.
pub fn normalize(raw: RawRecord) -> Result<NormRecord, Rejection> {
    let reject = |reason: &str, detail: Option<String>| Rejection {
        source: raw.source.clone(),
        code: raw.code.as_deref().and_then(clean),
        name: raw.name.as_deref().and_then(clean),
        reason: reason.to_owned(),
        detail,
    };
    if let Some(e) = &raw.unreadable {
        return Err(reject("unreadable_row", Some(e.clone())));
    }
    if !raw.library {
        return Err(reject("not_a_library", None));
    }
    let text = |s: Option<&String>| clean_opt(s).map(|t| fix_mojibake(&t));
    let mut warnings = Vec::new();
    let Some(code_text) = clean_opt(raw.code.as_ref()) else {
        return Err(reject("missing_code", None));
    };
    let Some(code) = code(&code_text) else {
        return Err(reject("invalid_code", Some(code_text)));
    };
    let Some(name) = text(raw.name.as_ref()) else {
        return Err(reject("missing_name", None));
    };
    let isil = match clean_opt(raw.isil.as_ref()) {
        None => None,
        Some(s) => isil(&s).or_else(|| {
            warnings.push("invalid_isil".into());
            None
        }),
    };
    let email = clean_opt(raw.email.as_ref()).and_then(|s| email(&s, &mut warnings));
    let country = match clean_opt(raw.country.as_ref()) {
        None => None,
        Some(s) => country(&fix_mojibake(&s)).map(str::to_owned).or_else(|| {
            warnings.push("unknown_country".into());
            None
        }),
    };
    let mut read_flag = |s: Option<&String>, warning: &str| match s.map(|s| flag(s)) {
        None => None,
        Some(Ok(v)) => v,
        Some(Err(())) => {
            warnings.push(warning.to_owned());
            None
        }
    };
    let borrowing = read_flag(raw.borrowing.as_ref(), "bad_borrowing_flag");
    let lending = read_flag(raw.lending.as_ref(), "bad_lending_flag");
    let status = match clean_opt(raw.status.as_ref()).map(|s| s.to_lowercase()) {
        None => None,
        Some(s) if matches!(s.as_str(), "active" | "aktiivinen" | "aktiv" | "1") => {
            Some(PartnerStatus::Active)
        }
        Some(s) if matches!(s.as_str(), "inactive" | "passiivinen" | "inaktiv" | "0") => {
            Some(PartnerStatus::Inactive)
        }
        Some(_) => {
            warnings.push("unknown_status".into());
            None
        }
    };
    let profile = clean_opt(raw.profile.as_ref())
        .map(|p| p.to_lowercase().replace([' ', '_', '-'], ""))
        .unwrap_or_default();
    let iso = match profile.as_str() {
        "iso18626" | "iso" => {
            let symbol = clean_opt(raw.iso_symbol.as_ref())
                .or_else(|| isil.as_ref().map(|i| format!("ISIL:{i}")));
            let Some(symbol) = symbol else {
                return Err(reject("iso18626_without_symbol", None));
            };
            Some(IsoProfile {
                symbol,
                url: clean_opt(raw.iso_url.as_ref()),
            })
        }
        "" | "email" => None,
        _ => {
            warnings.push("unknown_profile".into());
            None
        }
    };
    Ok(NormRecord {
        source: raw.source.clone(),
        code,
        name,
        isil,
        email,
        phone: clean_opt(raw.phone.as_ref()),
        language: raw.language.as_deref().and_then(|l| {
            match app::letters::partner_langs(Some(l)).as_slice() {
                [one] => Some(one.code().to_owned()),
                _ => None,
            }
        }),
        address_lines: raw
            .address_lines
            .iter()
            .filter_map(|l| text(Some(l)))
            .collect(),
        postal_code: clean_opt(raw.postal_code.as_ref()).map(|p| p.to_uppercase()),
        city: text(raw.city.as_ref()),
        country,
        notes: raw.notes.as_deref().and_then(notes),
        borrowing,
        lending,
        status,
        iso,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::staff_import::SourceKind;

    #[test]
    fn whitespace_case_and_codes() {
        assert_eq!(clean("  Åbo \u{a0} Akademi\t "), Some("Åbo Akademi".into()));
        assert_eq!(clean(" \t"), None);
        assert_eq!(code(" hy_ kaisa "), Some("HY_KAISA".into()));
        assert_eq!(code("NLNZ:WLC"), Some("NLNZ:WLC".into()));
        assert_eq!(code("bad code!"), None);
        assert_eq!(fix_mojibake("JyvÃ¤skylÃ¤"), "Jyväskylä");
        assert_eq!(fix_mojibake("Jyväskylä"), "Jyväskylä");
    }

    #[test]
    fn isil_format() {
        assert_eq!(isil("FI-Hul"), Some("FI-Hul".into()));
        assert_eq!(isil(" fi-Hul "), Some("FI-Hul".into()));
        assert_eq!(isil("ISIL:FI-Hul"), Some("FI-Hul".into()));
        assert_eq!(isil("FI Hul"), Some("FI-Hul".into()));
        assert_eq!(isil("FI–Hul"), Some("FI-Hul".into()));
        assert_eq!(isil("DE-1a/2"), Some("DE-1a/2".into()));
        assert_eq!(isil("FIHUL"), None);
        assert_eq!(isil("FI-"), None);
        assert_eq!(isil("FI-ThisIsFarTooLong"), None);
        assert_eq!(isil("F!-Hul"), None);
    }

    #[test]
    fn emails() {
        let mut w = Vec::new();
        assert_eq!(
            email(" MAILTO:ILL@Helsinki.FI ", &mut w),
            Some("ill@helsinki.fi".into())
        );
        assert_eq!(
            email("<kaukopalvelu@utu.fi>", &mut w),
            Some("kaukopalvelu@utu.fi".into())
        );
        assert!(w.is_empty());
        assert_eq!(email("a@x.fi; b@x.fi", &mut w), Some("a@x.fi".into()));
        assert_eq!(w, vec!["multiple_emails"]);
        for bad in [
            "ill(at)x.fi",
            "ill@",
            "@x.fi",
            "ill@@x.fi",
            "x.fi",
            "ill@x",
            "ill@x.f1",
            "i..l@x.fi",
            "ill@-x.fi",
        ] {
            let mut w = Vec::new();
            assert_eq!(email(bad, &mut w), None, "{bad}");
            assert_eq!(w, vec!["invalid_email"]);
        }
        assert_eq!(email_domain("ill@utu.fi"), Some("utu.fi"));
    }

    #[test]
    fn countries_from_codes_and_names() {
        for (input, code) in [
            ("Finland", "FI"),
            ("Suomi", "FI"),
            ("FIN", "FI"),
            ("fi", "FI"),
            ("Sverige", "SE"),
            ("Ruotsi", "SE"),
            ("SWE", "SE"),
            ("Tyskland", "DE"),
            ("united kingdom", "GB"),
            ("Österrike", "AT"),
        ] {
            assert_eq!(country(input), Some(code), "{input}");
        }
        assert_eq!(country("Atlantis"), None);
    }

    #[test]
    fn flags_and_secrets() {
        assert_eq!(flag("Kyllä"), Ok(Some(true)));
        assert_eq!(flag("nej"), Ok(Some(false)));
        assert_eq!(flag(" "), Ok(None));
        assert_eq!(flag("maybe"), Err(()));
        let r = redact_secrets("Ring first; Password: hunter2\nAPI key = abc123; ok");
        assert!(!r.contains("hunter2") && !r.contains("abc123"), "{r}");
        assert!(r.contains("Ring first") && r.contains("; ok"), "{r}");
        assert_eq!(redact_secrets("Salasana 1234"), "Salasana: [redacted]");
    }

    #[test]
    fn unicode_case_mapping_does_not_leak_part_of_a_secret() {
        // `İ` lower-cases to two characters; counting in the lower-cased
        // text used to cut the original too late and keep the secret's
        // first characters.
        for text in [
            "İİİİİİ password: hunter2",
            "İstanbul PASSWORD hunter2",
            "ẞİ Salasana: hunter2",
            "PASSWORD: hunter2",
            "Ⅻ api key = hunter2",
        ] {
            let r = redact_secrets(text);
            assert!(!r.contains("hu"), "{text:?} → {r:?}");
            assert!(r.ends_with(": [redacted]"), "{text:?} → {r:?}");
        }
        assert_eq!(
            redact_secrets("İİ password: hunter2"),
            "İİ password: [redacted]"
        );
    }

    #[test]
    fn rejections_and_warnings() {
        let raw = |f: &dyn Fn(&mut RawRecord)| {
            let mut r = RawRecord::new(SourceRef {
                source: SourceKind::Legacy,
                row: 2,
                id: None,
            });
            r.code = Some("x1".into());
            r.name = Some("  Kirjasto  ".into());
            f(&mut r);
            normalize(r)
        };
        let ok = raw(&|r| {
            r.email = Some("bad@".into());
            r.country = Some("Suomi".into());
            r.isil = Some("nonsense".into());
            r.lending = Some("ehkä".into());
        })
        .unwrap();
        assert_eq!((ok.code.as_str(), ok.name.as_str()), ("X1", "Kirjasto"));
        assert_eq!(ok.email, None);
        assert_eq!(ok.isil, None);
        assert_eq!(ok.country.as_deref(), Some("FI"));
        assert_eq!(
            ok.warnings,
            vec!["invalid_isil", "invalid_email", "bad_lending_flag"]
        );
        assert_eq!(raw(&|r| r.code = None).unwrap_err().reason, "missing_code");
        assert_eq!(
            raw(&|r| r.name = Some(" ".into())).unwrap_err().reason,
            "missing_name"
        );
        assert_eq!(
            raw(&|r| r.library = false).unwrap_err().reason,
            "not_a_library"
        );
        assert_eq!(
            raw(&|r| r.profile = Some("ISO 18626".into()))
                .unwrap_err()
                .reason,
            "iso18626_without_symbol"
        );
        let iso = raw(&|r| {
            r.profile = Some("ISO18626".into());
            r.isil = Some("FI-Hul".into());
        })
        .unwrap();
        assert_eq!(iso.iso.unwrap().symbol, "ISIL:FI-Hul");
    }
}
