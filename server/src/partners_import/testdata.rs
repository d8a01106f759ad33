//! A generated, realistic import data set whose correct outcome is known by
//! construction (for the tests and the benchmark).
//!
//! Every library is first made as the truth (clean values); the two source
//! files are then noisy renderings of it (whitespace, case, ISIL spelling,
//! `mailto:`, country names in three languages, yes/no words, Latin-1 rows
//! in a UTF-8 file, mojibake), plus dirty rows made to be rejected. The
//! categories and their sizes give the expected counts; nothing here runs
//! the import.
//!
//! Deterministic: the same seed gives the same bytes.

use app::domain::{Address, Partner, PartnerProfile, PartnerStatus};
use serde_json::{json, Value};

/// SplitMix64: small, seedable and good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// How many of each kind the set has.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Only in Alma.
    pub alma_only: usize,
    /// Only in the legacy CSV (e-mail profile).
    pub legacy_only: usize,
    /// Only in the legacy CSV, ISO 18626.
    pub legacy_iso: usize,
    /// In both, matched by ISIL, consistent.
    pub by_isil: usize,
    /// In both, matched by code (no ISIL in the CSV).
    pub by_code: usize,
    /// In both, matched by e-mail domain and name.
    pub by_domain: usize,
    /// In both, matched by ISIL, disagreeing on one field.
    pub conflicting: usize,
    /// CSV rows without a name / without a code.
    pub missing_name: usize,
    pub missing_code: usize,
    /// Codes used by two different CSV rows.
    pub duplicate_codes: usize,
    /// CSV rows repeated verbatim.
    pub repeated_rows: usize,
    /// Legacy-only rows whose only e-mail is malformed.
    pub bad_email: usize,
    /// Alma users that are not libraries.
    pub not_libraries: usize,
    /// Partners already in the library system: identical / differing.
    pub existing_same: usize,
    pub existing_differing: usize,
}

impl Sizes {
    /// The standard set: 603 libraries (and 20 people) in 405 Alma users
    /// and 475 CSV rows.
    pub const STANDARD: Sizes = Sizes {
        alma_only: 140,
        legacy_only: 170,
        legacy_iso: 15,
        by_isil: 130,
        by_code: 50,
        by_domain: 40,
        conflicting: 25,
        missing_name: 8,
        missing_code: 6,
        duplicate_codes: 7,
        repeated_rows: 5,
        bad_email: 12,
        not_libraries: 20,
        existing_same: 20,
        existing_differing: 20,
    };

    /// Libraries in the set (every partner-to-be and every rejected
    /// library row; people not counted).
    pub fn libraries(&self) -> usize {
        self.alma_only
            + self.legacy_only
            + self.legacy_iso
            + self.by_isil
            + self.by_code
            + self.by_domain
            + self.conflicting
            + self.missing_name
            + self.missing_code
            + self.duplicate_codes
            + self.bad_email
    }
}

/// The outcome the import must reach, by construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected {
    pub alma_records: usize,
    pub legacy_rows: usize,
    pub merged: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub conflicts: usize,
    pub rejected: usize,
    /// Rejections by reason.
    pub missing_name: usize,
    pub missing_code: usize,
    pub duplicate_code: usize,
    pub duplicate_row: usize,
    pub missing_email: usize,
    pub not_a_library: usize,
}

/// The generated set.
pub struct DataSet {
    pub alma_json: Vec<u8>,
    pub alma_xml: Vec<u8>,
    pub legacy_csv: Vec<u8>,
    /// Partners to put in the library system before importing.
    pub existing: Vec<Partner>,
    /// Every partner the import must end up with (after applying).
    pub truth: Vec<Partner>,
    /// Passwords and keys hidden in the sources: none may reach a report.
    pub secrets: Vec<String>,
    pub expected: Expected,
}

#[derive(Debug)]
struct Country {
    a2: &'static str,
    a3: &'static str,
    english: &'static str,
    renderings: &'static [&'static str],
    phone: &'static str,
    tld: &'static str,
    mailbox: &'static str,
    streets: &'static [&'static str],
    templates: &'static [&'static str],
    /// (city, form used in names)
    cities: &'static [(&'static str, &'static str)],
}

const COUNTRIES: &[Country] = &[
    Country {
        a2: "FI",
        a3: "FIN",
        english: "Finland",
        renderings: &["Finland", "Suomi", "FIN", "FI", " finland "],
        phone: "+358",
        tld: "fi",
        mailbox: "kaukopalvelu",
        streets: &[
            "Kirjastokatu",
            "Yliopistonkatu",
            "Asemakatu",
            "Koulukatu",
            "Rantakatu",
        ],
        templates: &[
            "{} kaupunginkirjasto",
            "{} yliopiston kirjasto",
            "{} ammattikorkeakoulun kirjasto",
            "{} keskussairaalan tieteellinen kirjasto",
            "{} lukion kirjasto",
            "{} musiikkikirjasto",
        ],
        cities: &[
            ("Helsinki", "Helsingin"),
            ("Espoo", "Espoon"),
            ("Tampere", "Tampereen"),
            ("Vantaa", "Vantaan"),
            ("Oulu", "Oulun"),
            ("Turku", "Turun"),
            ("Jyväskylä", "Jyväskylän"),
            ("Kuopio", "Kuopion"),
            ("Lahti", "Lahden"),
            ("Pori", "Porin"),
            ("Joensuu", "Joensuun"),
            ("Lappeenranta", "Lappeenrannan"),
            ("Hämeenlinna", "Hämeenlinnan"),
            ("Vaasa", "Vaasan"),
            ("Seinäjoki", "Seinäjoen"),
            ("Rovaniemi", "Rovaniemen"),
            ("Mikkeli", "Mikkelin"),
            ("Kotka", "Kotkan"),
            ("Salo", "Salon"),
            ("Porvoo", "Porvoon"),
            ("Kokkola", "Kokkolan"),
            ("Hyvinkää", "Hyvinkään"),
            ("Lohja", "Lohjan"),
            ("Järvenpää", "Järvenpään"),
            ("Rauma", "Rauman"),
            ("Kajaani", "Kajaanin"),
            ("Kerava", "Keravan"),
            ("Savonlinna", "Savonlinnan"),
            ("Nokia", "Nokian"),
            ("Kangasala", "Kangasalan"),
            ("Ylöjärvi", "Ylöjärven"),
            ("Tornio", "Tornion"),
            ("Äänekoski", "Äänekosken"),
            ("Mäntsälä", "Mäntsälän"),
            ("Iisalmi", "Iisalmen"),
            ("Raahe", "Raahen"),
            ("Imatra", "Imatran"),
            ("Varkaus", "Varkauden"),
            ("Kemi", "Kemin"),
            ("Forssa", "Forssan"),
        ],
    },
    Country {
        a2: "SE",
        a3: "SWE",
        english: "Sweden",
        renderings: &["Sweden", "Sverige", "SWE", "Ruotsi"],
        phone: "+46",
        tld: "se",
        mailbox: "fjarrlan",
        streets: &["Storgatan", "Biblioteksgatan", "Kungsgatan", "Skolgatan"],
        templates: &[
            "Stadsbiblioteket i {}",
            "{} universitetsbibliotek",
            "Högskolebiblioteket i {}",
            "Sjukhusbiblioteket i {}",
            "Länsbiblioteket i {}",
        ],
        cities: &[
            ("Stockholm", "Stockholm"),
            ("Göteborg", "Göteborg"),
            ("Malmö", "Malmö"),
            ("Uppsala", "Uppsala"),
            ("Västerås", "Västerås"),
            ("Örebro", "Örebro"),
            ("Linköping", "Linköping"),
            ("Helsingborg", "Helsingborg"),
            ("Jönköping", "Jönköping"),
            ("Norrköping", "Norrköping"),
            ("Lund", "Lund"),
            ("Umeå", "Umeå"),
            ("Gävle", "Gävle"),
            ("Borås", "Borås"),
            ("Eskilstuna", "Eskilstuna"),
            ("Halmstad", "Halmstad"),
            ("Växjö", "Växjö"),
            ("Karlstad", "Karlstad"),
            ("Sundsvall", "Sundsvall"),
            ("Luleå", "Luleå"),
            ("Östersund", "Östersund"),
            ("Falun", "Falun"),
            ("Kalmar", "Kalmar"),
            ("Visby", "Visby"),
        ],
    },
    Country {
        a2: "NO",
        a3: "NOR",
        english: "Norway",
        renderings: &["Norway", "Norge", "NOR", "Norja"],
        phone: "+47",
        tld: "no",
        mailbox: "fjernlan",
        streets: &["Storgata", "Kirkegata"],
        templates: &["{} folkebibliotek", "Universitetsbiblioteket i {}"],
        cities: &[
            ("Oslo", "Oslo"),
            ("Bergen", "Bergen"),
            ("Trondheim", "Trondheim"),
            ("Tromsø", "Tromsø"),
            ("Stavanger", "Stavanger"),
            ("Bodø", "Bodø"),
            ("Ålesund", "Ålesund"),
        ],
    },
    Country {
        a2: "DK",
        a3: "DNK",
        english: "Denmark",
        renderings: &["Denmark", "Danmark", "Tanska", "DNK"],
        phone: "+45",
        tld: "dk",
        mailbox: "fjernlaan",
        streets: &["Vestergade", "Nørregade"],
        templates: &["{} Bibliotekerne", "{} Universitetsbibliotek"],
        cities: &[
            ("København", "København"),
            ("Aarhus", "Aarhus"),
            ("Odense", "Odense"),
            ("Aalborg", "Aalborg"),
            ("Roskilde", "Roskilde"),
        ],
    },
    Country {
        a2: "EE",
        a3: "EST",
        english: "Estonia",
        renderings: &["Estonia", "Viro", "Eesti", "EST"],
        phone: "+372",
        tld: "ee",
        mailbox: "ill",
        streets: &["Pikk", "Rüütli"],
        templates: &["{} Keskraamatukogu", "{} Ülikooli Raamatukogu"],
        cities: &[
            ("Tallinn", "Tallinna"),
            ("Tartu", "Tartu"),
            ("Pärnu", "Pärnu"),
        ],
    },
    Country {
        a2: "DE",
        a3: "DEU",
        english: "Germany",
        renderings: &["Germany", "Saksa", "Tyskland", "DEU"],
        phone: "+49",
        tld: "de",
        mailbox: "fernleihe",
        streets: &["Hauptstraße", "Bahnhofstraße", "Schlossplatz"],
        templates: &[
            "Universitätsbibliothek {}",
            "Stadtbibliothek {}",
            "Fachhochschulbibliothek {}",
        ],
        cities: &[
            ("Berlin", "Berlin"),
            ("München", "München"),
            ("Hamburg", "Hamburg"),
            ("Köln", "Köln"),
            ("Göttingen", "Göttingen"),
            ("Lübeck", "Lübeck"),
            ("Tübingen", "Tübingen"),
            ("Würzburg", "Würzburg"),
        ],
    },
    Country {
        a2: "GB",
        a3: "GBR",
        english: "United Kingdom",
        renderings: &["United Kingdom", "UK", "GBR", "Iso-Britannia"],
        phone: "+44",
        tld: "uk",
        mailbox: "ill",
        streets: &["High Street", "Library Road", "Station Road"],
        templates: &["{} University Library", "{} Central Library"],
        cities: &[
            ("London", "London"),
            ("Oxford", "Oxford"),
            ("Cambridge", "Cambridge"),
            ("Edinburgh", "Edinburgh"),
            ("Leeds", "Leeds"),
            ("York", "York"),
            ("Bristol", "Bristol"),
        ],
    },
];

/// Accents removed the way [`crate::partners_import::matching::fold_name`]
/// removes them, case kept.
pub fn ascii_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ä' | 'å' | 'á' | 'à' | 'æ' => 'a',
            'Ä' | 'Å' | 'Á' | 'À' | 'Æ' => 'A',
            'ö' | 'ø' | 'ó' => 'o',
            'Ö' | 'Ø' | 'Ó' => 'O',
            'é' | 'è' => 'e',
            'É' => 'E',
            'ü' => 'u',
            'Ü' => 'U',
            other => other,
        })
        .collect()
}

/// UTF-8 text as it looks after being read once as Windows-1252.
fn mojibake(s: &str) -> String {
    encoding_rs::WINDOWS_1252
        .decode_without_bom_handling(s.as_bytes())
        .0
        .into_owned()
}

/// One library as it truly is.
#[derive(Clone, Debug)]
struct Lib {
    idx: usize,
    country: &'static Country,
    city: String,
    code: String,
    name: String,
    isil: Option<String>,
    email: Option<String>,
    phone: String,
    lines: Vec<String>,
    postal: String,
    status: PartnerStatus,
    borrowing: bool,
    lending: bool,
    notes: Option<String>,
    iso: Option<(String, Option<String>)>,
}

impl Lib {
    fn partner(&self) -> Partner {
        Partner {
            code: self.code.clone(),
            name: self.name.clone(),
            status: self.status,
            profile: match &self.iso {
                Some((symbol, url)) => PartnerProfile::Iso18626 {
                    symbol: symbol.clone(),
                    url: url.clone(),
                },
                None => PartnerProfile::Email {
                    email: self.email.clone().unwrap_or_default(),
                },
            },
            isil: self.isil.clone(),
            email: self.email.clone(),
            phone: Some(self.phone.clone()),
            address: Address {
                lines: self.lines.clone(),
                postal_code: Some(self.postal.clone()),
                city: Some(self.city.clone()),
                country: Some(self.country.a2.to_owned()),
            },
            lending_supported: self.lending,
            borrowing_supported: self.borrowing,
            instructions: None,
            language: None,
            notes: self.notes.clone(),
        }
    }
}

fn slug(s: &str) -> String {
    ascii_fold(s)
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

fn make_lib(rng: &mut Rng, idx: usize, names: &mut Vec<(usize, usize, String)>) -> Lib {
    let (ci, cityi, name) = names.pop().unwrap_or((0, 0, format!("Kirjasto {idx}")));
    let country = &COUNTRIES[ci];
    let city = country.cities[cityi].0.to_owned();
    let s = slug(&city);
    let s3 = &s[..s.len().min(3)];
    let mut isil_id = s3.to_owned();
    if let Some(first) = isil_id.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let phone = format!(
        "{} {} {} {}",
        country.phone,
        rng.digits(2),
        rng.digits(3),
        rng.digits(4)
    );
    let postal = match country.a2 {
        "SE" => format!("{} {}", rng.digits(3), rng.digits(2)),
        "NO" | "DK" => rng.digits(4),
        "GB" => format!("AB{} {}CD", rng.below(9) + 1, rng.below(9) + 1),
        _ => rng.digits(5),
    };
    let mut lines = Vec::new();
    if rng.chance(30) {
        lines.push(match country.a2 {
            "FI" => "Kaukopalvelu".to_owned(),
            "SE" => "Fjärrlån".to_owned(),
            _ => "Interlibrary Loans".to_owned(),
        });
    }
    lines.push(format!(
        "{} {}",
        rng.pick(country.streets),
        rng.below(90) + 1
    ));
    Lib {
        idx,
        country,
        city,
        code: format!("{}{:03}", s3.to_uppercase(), idx),
        name,
        isil: Some(format!("{}-{}{}", country.a2, isil_id, idx)),
        email: Some(format!("{}@{}{}.{}", country.mailbox, s, idx, country.tld)),
        phone,
        lines,
        postal,
        status: if rng.chance(8) {
            PartnerStatus::Inactive
        } else {
            PartnerStatus::Active
        },
        borrowing: !rng.chance(15),
        lending: !rng.chance(15),
        notes: rng.chance(20).then(|| {
            rng.pick(&[
                "Vain kopiot",
                "Lainat 4 viikoksi",
                "Toimitus kuriirilla",
                "Kopiot PDF:nä",
            ])
            .to_string()
        }),
        iso: None,
    }
}

/// All names the templates give, shuffled (then again with a branch, when
/// more are needed).
fn all_names(rng: &mut Rng, needed: usize) -> Vec<(usize, usize, String)> {
    let mut names = Vec::new();
    for (ci, c) in COUNTRIES.iter().enumerate() {
        for t in c.templates {
            for (cityi, (_, form)) in c.cities.iter().enumerate() {
                names.push((ci, cityi, t.replace("{}", form)));
            }
        }
    }
    let base = names.clone();
    let branches = ["Campus", "Medicine", "Technology", "Main Library"];
    let mut round = 0;
    while names.len() < needed {
        let b = branches[round % branches.len()];
        names.extend(
            base.iter()
                .map(|(ci, cityi, n)| (*ci, *cityi, format!("{n} – {b}"))),
        );
        round += 1;
    }
    for i in (1..names.len()).rev() {
        let j = rng.below(i + 1);
        names.swap(i, j);
    }
    names
}

/// Random whitespace around and inside a value (all undone by
/// normalisation).
fn ws(rng: &mut Rng, s: &str) -> String {
    match rng.below(5) {
        0 => format!("  {s}"),
        1 => format!("{s}  "),
        2 => s.replacen(' ', "  ", 1),
        _ => s.to_owned(),
    }
}

/// The Alma side of a library.
#[derive(Clone, Debug, Default)]
struct AlmaUser {
    id: String,
    name: String,
    group: (&'static str, &'static str),
    status: &'static str,
    isil: Option<String>,
    iso_symbol: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    lines: Vec<String>,
    postal: Option<String>,
    city: Option<String>,
    country: Option<(&'static str, &'static str)>,
    password: Option<String>,
    notes: Vec<String>,
}

impl AlmaUser {
    fn of(lib: &Lib) -> Self {
        AlmaUser {
            id: lib.code.clone(),
            name: lib.name.clone(),
            group: ("LIBRARY", "Library"),
            status: match lib.status {
                PartnerStatus::Active => "ACTIVE",
                PartnerStatus::Inactive => "INACTIVE",
            },
            isil: lib.isil.clone(),
            iso_symbol: None,
            email: lib.email.clone(),
            phone: Some(lib.phone.clone()),
            lines: lib.lines.clone(),
            postal: Some(lib.postal.clone()),
            city: Some(lib.city.clone()),
            country: Some((lib.country.a3, lib.country.english)),
            password: None,
            notes: Vec::new(),
        }
    }

    fn json(&self) -> Value {
        let mut user = json!({
            "primary_id": self.id,
            "full_name": self.name,
            "last_name": self.name,
            "user_group": {"value": self.group.0, "desc": self.group.1},
            "status": {"value": self.status, "desc": if self.status == "ACTIVE" { "Active" } else { "Inactive" }},
            "record_type": {"value": "PUBLIC", "desc": "Public"},
            "account_type": {"value": "EXTERNAL", "desc": "External"},
            "contact_info": {
                "address": [{
                    "line1": self.lines.first(),
                    "line2": self.lines.get(1),
                    "line3": null,
                    "city": self.city,
                    "postal_code": self.postal,
                    "country": self.country.map(|(a3, name)| json!({"value": a3, "desc": name})),
                    "preferred": true,
                    "address_type": [{"value": "work", "desc": "Work"}]
                }],
                "email": self.email.as_ref().map(|e| vec![json!({"email_address": e, "preferred": true, "email_type": [{"value": "work", "desc": "Work"}]})]).unwrap_or_default(),
                "phone": self.phone.as_ref().map(|p| vec![json!({"phone_number": p, "preferred": true, "preferred_sms": false})]).unwrap_or_default(),
            },
            "user_identifier": [],
            "user_note": self.notes.iter().map(|n| json!({"note_type": {"value": "GENERAL"}, "note_text": n, "user_viewable": false})).collect::<Vec<_>>(),
        });
        let mut ids = Vec::new();
        if let Some(isil) = &self.isil {
            ids.push(json!({"id_type": {"value": "ISIL", "desc": "ISIL"}, "value": isil, "status": "ACTIVE"}));
        }
        if let Some(sym) = &self.iso_symbol {
            ids.push(
                json!({"id_type": {"value": "ISO18626", "desc": "ISO 18626 symbol"}, "value": sym}),
            );
        }
        user["user_identifier"] = Value::Array(ids);
        if let Some(p) = &self.password {
            user["password"] = json!(p);
        }
        user
    }

    fn xml(&self) -> String {
        fn esc(s: &str) -> String {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        }
        let el = |name: &str, v: Option<&String>| match v {
            Some(v) => format!("<{name}>{}</{name}>", esc(v)),
            None => format!("<{name}/>"),
        };
        let mut x = String::from("<user>");
        x += &el("primary_id", Some(&self.id));
        x += &el("full_name", Some(&self.name));
        x += &el("last_name", Some(&self.name));
        if let Some(p) = &self.password {
            x += &el("password", Some(p));
        }
        x += &format!(
            "<user_group desc=\"{}\">{}</user_group>",
            esc(self.group.1),
            self.group.0
        );
        x += &format!(
            "<status desc=\"{}\">{}</status>",
            if self.status == "ACTIVE" {
                "Active"
            } else {
                "Inactive"
            },
            self.status
        );
        x += "<record_type desc=\"Public\">PUBLIC</record_type><contact_info><addresses><address preferred=\"true\" segment_type=\"External\">";
        for (i, line) in self.lines.iter().enumerate() {
            x += &el(&format!("line{}", i + 1), Some(line));
        }
        x += &el("city", self.city.as_ref());
        x += &el("postal_code", self.postal.as_ref());
        if let Some((a3, name)) = self.country {
            x += &format!("<country desc=\"{name}\">{a3}</country>");
        }
        x += "<address_types><address_type desc=\"Work\">work</address_type></address_types></address></addresses><emails>";
        if let Some(e) = &self.email {
            x += &format!("<email preferred=\"true\" segment_type=\"External\"><email_address>{}</email_address></email>", esc(e));
        }
        x += "</emails><phones>";
        if let Some(p) = &self.phone {
            x += &format!(
                "<phone preferred=\"true\"><phone_number>{}</phone_number></phone>",
                esc(p)
            );
        }
        x += "</phones></contact_info><user_identifiers>";
        if let Some(isil) = &self.isil {
            x += &format!("<user_identifier segment_type=\"External\"><id_type desc=\"ISIL\">ISIL</id_type><value>{}</value></user_identifier>", esc(isil));
        }
        if let Some(sym) = &self.iso_symbol {
            x += &format!("<user_identifier><id_type desc=\"ISO 18626 symbol\">ISO18626</id_type><value>{}</value></user_identifier>", esc(sym));
        }
        x += "</user_identifiers><user_notes>";
        for n in &self.notes {
            x += &format!("<user_note segment_type=\"Internal\"><note_type desc=\"General\">GENERAL</note_type><note_text>{}</note_text></user_note>", esc(n));
        }
        x += "</user_notes></user>";
        x
    }
}

/// The legacy side of a library: one CSV row.
#[derive(Clone, Debug, Default)]
struct Row {
    code: String,
    name: String,
    isil: String,
    email: String,
    lines: Vec<String>,
    postal: String,
    city: String,
    country: String,
    phone: String,
    notes: String,
    borrowing: String,
    lending: String,
    status: String,
    profile: String,
    iso_symbol: String,
    iso_url: String,
    api_key: String,
    latin1: bool,
}

const HEADER: [&str; 19] = [
    "code",
    "name",
    "isil",
    "email",
    "address1",
    "address2",
    "address3",
    "postal_code",
    "city",
    "country",
    "phone",
    "notes",
    "borrowing",
    "lending",
    "status",
    "profile",
    "iso18626_symbol",
    "iso18626_url",
    "api_key",
];

impl Row {
    fn fields(&self) -> Vec<String> {
        let line = |i: usize| self.lines.get(i).cloned().unwrap_or_default();
        vec![
            self.code.clone(),
            self.name.clone(),
            self.isil.clone(),
            self.email.clone(),
            line(0),
            line(1),
            line(2),
            self.postal.clone(),
            self.city.clone(),
            self.country.clone(),
            self.phone.clone(),
            self.notes.clone(),
            self.borrowing.clone(),
            self.lending.clone(),
            self.status.clone(),
            self.profile.clone(),
            self.iso_symbol.clone(),
            self.iso_url.clone(),
            self.api_key.clone(),
        ]
    }
}

fn flag(rng: &mut Rng, v: bool) -> String {
    if v {
        rng.pick(&["1", "yes", "kyllä", "x", "ja", ""]).to_string()
    } else {
        rng.pick(&["0", "no", "ei", "nej"]).to_string()
    }
}

/// A clean legacy rendering of a library, with harmless noise.
fn row_of(rng: &mut Rng, lib: &Lib) -> Row {
    Row {
        code: ws(rng, &lib.code.to_lowercase()),
        name: ws(rng, &lib.name),
        isil: lib
            .isil
            .as_ref()
            .map(|i| match rng.below(3) {
                0 => format!("ISIL:{i}"),
                1 => {
                    let (p, id) = i.split_once('-').unwrap_or((i, ""));
                    format!("{}-{id}", p.to_lowercase())
                }
                _ => i.clone(),
            })
            .unwrap_or_default(),
        email: lib
            .email
            .as_ref()
            .map(|e| match rng.below(3) {
                0 => e.to_uppercase(),
                1 => format!("mailto:{e}"),
                _ => ws(rng, e),
            })
            .unwrap_or_default(),
        lines: lib.lines.iter().map(|l| ws(rng, l)).collect(),
        postal: lib.postal.clone(),
        city: ws(rng, &lib.city),
        country: rng.pick(lib.country.renderings).to_string(),
        phone: ws(rng, &lib.phone),
        notes: lib.notes.clone().unwrap_or_default(),
        borrowing: flag(rng, lib.borrowing),
        lending: flag(rng, lib.lending),
        status: match lib.status {
            PartnerStatus::Inactive => "inactive".into(),
            PartnerStatus::Active => rng.pick(&["", "active"]).to_string(),
        },
        latin1: rng.chance(30),
        ..Row::default()
    }
}

fn csv_bytes(rows: &[Row]) -> Vec<u8> {
    let line = |fields: &[String]| -> String {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let _ = w.write_record(fields);
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    };
    let mut out = line(&HEADER.map(str::to_owned)).into_bytes();
    for r in rows {
        let text = line(&r.fields());
        if r.latin1 {
            let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
            if !unmappable {
                out.extend_from_slice(&bytes);
                continue;
            }
        }
        out.extend_from_slice(text.as_bytes());
    }
    out
}

/// Generates the set for `sizes` from `seed`.
pub fn generate(seed: u64, sizes: Sizes) -> DataSet {
    let mut rng = Rng::new(seed);
    let total = sizes.libraries();
    let mut names = all_names(&mut rng, total + 10);
    let mut next = 0usize;
    let mut lib = |rng: &mut Rng| {
        next += 1;
        make_lib(rng, next, &mut names)
    };
    let mut alma: Vec<AlmaUser> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut truth: Vec<Lib> = Vec::new();
    let mut secrets = Vec::new();
    // Candidates for "already in the library system".
    let mut pre_pair: Vec<Lib> = Vec::new();
    let mut pre_legacy: Vec<Lib> = Vec::new();

    for i in 0..sizes.alma_only {
        let mut l = lib(&mut rng);
        if i % 3 == 0 {
            l.isil = None;
        }
        l.notes = None;
        // Alma knows no lending/borrowing flags: new partners get both.
        l.borrowing = true;
        l.lending = true;
        let mut u = AlmaUser::of(&l);
        u.name = ws(&mut rng, &l.name);
        if i % 7 == 0 {
            let secret = format!("S3cret-{}-{}", l.idx, rng.digits(6));
            u.password = Some(secret.clone());
            secrets.push(secret);
        }
        if i % 11 == 0 {
            let key = format!("l7xx{}", rng.digits(12));
            u.notes.push(format!("Yhteyshenkilö Maija; API key: {key}"));
            l.notes = Some("Yhteyshenkilö Maija; API key: [redacted]".into());
            secrets.push(key);
        } else if i % 5 == 0 {
            u.notes.push("Lähettää pyynnöt sähköpostilla".into());
            l.notes = Some("Lähettää pyynnöt sähköpostilla".into());
        }
        alma.push(u);
        truth.push(l);
    }

    for i in 0..sizes.legacy_only {
        let mut l = lib(&mut rng);
        if i % 2 == 0 {
            l.isil = None;
        }
        let mut r = row_of(&mut rng, &l);
        // Mojibake: UTF-8 read once as Windows-1252 by the old system.
        if i % 17 == 0 && !l.name.is_ascii() {
            r.name = mojibake(&l.name);
            r.latin1 = false;
        }
        if i % 13 == 0 {
            let secret = format!("pw-{}-{}", l.idx, rng.digits(8));
            r.notes = format!("Tilaukset portaalin kautta; Password: {secret}");
            l.notes = Some("Tilaukset portaalin kautta; Password: [redacted]".into());
            secrets.push(secret);
        } else if pre_legacy.len() < sizes.existing_same + sizes.existing_differing {
            pre_legacy.push(l.clone());
        }
        if i % 9 == 0 {
            let key = format!("KEY-{}", rng.digits(16));
            r.api_key = key.clone();
            secrets.push(key);
        }
        if i < sizes.repeated_rows {
            rows.push(r.clone());
        }
        rows.push(r);
        truth.push(l);
    }

    for i in 0..sizes.legacy_iso {
        let mut l = lib(&mut rng);
        let isil = l.isil.clone().unwrap_or_default();
        let symbol = format!("ISIL:{isil}");
        let url =
            (i % 2 == 0).then(|| format!("https://iso18626.{}.example/iso18626", slug(&l.city)));
        if i % 4 == 0 {
            l.email = None;
        }
        l.iso = Some((symbol.clone(), url.clone()));
        let mut r = row_of(&mut rng, &l);
        r.profile = rng
            .pick(&["ISO18626", "iso 18626", "ISO_18626"])
            .to_string();
        r.iso_symbol = if i % 3 == 0 { String::new() } else { symbol };
        r.iso_url = url.unwrap_or_default();
        rows.push(r);
        truth.push(l);
    }

    // Matched by ISIL, consistent.
    for i in 0..sizes.by_isil {
        let mut l = lib(&mut rng);
        let mut u = AlmaUser::of(&l);
        let mut r = row_of(&mut rng, &l);
        if i % 2 == 0 {
            r.code = format!("L-{:04}", l.idx);
        }
        match i % 5 {
            0 => u.name = l.name.to_uppercase(),
            1 => r.name = ascii_fold(&l.name),
            2 => r.city = l.city.to_uppercase(),
            _ => {}
        }
        if i % 4 == 1 {
            r.email = String::new();
        }
        if i % 13 == 3 {
            r.email = format!(
                "{}(at){}",
                l.country.mailbox,
                l.email
                    .as_deref()
                    .unwrap_or("")
                    .split('@')
                    .nth(1)
                    .unwrap_or("")
            );
        }
        if i % 6 == 5 {
            r.phone = String::new();
            r.lines.clear();
        }
        if i % 3 == 0 {
            l.notes = None;
            r.notes = String::new();
        }
        if i % 10 == 0 {
            let secret = format!("S3cret-{}-{}", l.idx, rng.digits(6));
            u.password = Some(secret.clone());
            secrets.push(secret);
        }
        alma.push(u);
        rows.push(r);
        pre_pair.push(l.clone());
        truth.push(l);
    }

    // Matched by code.
    for i in 0..sizes.by_code {
        let mut l = lib(&mut rng);
        if i % 2 == 0 {
            l.isil = None;
        }
        let u = AlmaUser::of(&l);
        let mut r = row_of(&mut rng, &l);
        r.isil = String::new();
        r.code = format!(" {} ", l.code.to_lowercase());
        alma.push(u);
        rows.push(r);
        truth.push(l);
    }

    // Matched by e-mail domain and a similar name.
    for i in 0..sizes.by_domain {
        let l = lib(&mut rng);
        let u = AlmaUser::of(&l);
        let mut r = row_of(&mut rng, &l);
        r.isil = String::new();
        r.code = format!("L-{:04}", l.idx);
        r.email = l.email.clone().unwrap_or_default().to_uppercase();
        r.name = if i % 2 == 0 {
            ascii_fold(&l.name)
        } else {
            l.name.to_uppercase()
        };
        alma.push(u);
        rows.push(r);
        truth.push(l);
    }

    // Matched by ISIL, disagreeing on exactly one field.
    for i in 0..sizes.conflicting {
        let l = lib(&mut rng);
        let mut u = AlmaUser::of(&l);
        let mut r = row_of(&mut rng, &l);
        match i % 5 {
            0 | 1 => {
                r.phone = format!("{} 50 {} {}", l.country.phone, rng.digits(3), rng.digits(4))
            }
            2 => r.city = format!("{} (old)", l.city),
            3 => {
                r.email = format!(
                    "library@{}",
                    l.email
                        .as_deref()
                        .unwrap_or("x@x.fi")
                        .split('@')
                        .nth(1)
                        .unwrap_or("x.fi")
                )
            }
            _ => {
                u.status = if l.status == PartnerStatus::Active {
                    "INACTIVE"
                } else {
                    "ACTIVE"
                };
                r.status = match l.status {
                    PartnerStatus::Active => "active".into(),
                    PartnerStatus::Inactive => "inactive".into(),
                };
            }
        }
        alma.push(u);
        rows.push(r);
    }

    // Rows to reject.
    for _ in 0..sizes.missing_name {
        let l = lib(&mut rng);
        let mut r = row_of(&mut rng, &l);
        r.name = rng.pick(&["", "   "]).to_string();
        rows.push(r);
    }
    for _ in 0..sizes.missing_code {
        let l = lib(&mut rng);
        let mut r = row_of(&mut rng, &l);
        r.code = String::new();
        rows.push(r);
    }
    for _ in 0..sizes.duplicate_codes {
        let a = lib(&mut rng);
        let mut b = lib(&mut rng);
        b.code = a.code.clone();
        let (mut ra, mut rb) = (row_of(&mut rng, &a), row_of(&mut rng, &b));
        ra.isil = String::new();
        rb.isil = String::new();
        rows.push(ra);
        rows.push(rb);
    }
    for i in 0..sizes.bad_email {
        let mut l = lib(&mut rng);
        l.isil = None;
        let mut r = row_of(&mut rng, &l);
        let domain = format!("{}{}.{}", slug(&l.city), l.idx, l.country.tld);
        r.email = match i % 5 {
            0 => format!("{}(at){domain}", l.country.mailbox),
            1 => format!("{}@", l.country.mailbox),
            2 => format!("{}@@{domain}", l.country.mailbox),
            3 => domain.clone(),
            _ => format!("{}@{}", l.country.mailbox, slug(&l.city)),
        };
        rows.push(r);
    }
    for i in 0..sizes.not_libraries {
        let first = ["Aino", "Bertil", "Maija", "Erik", "Liisa"][i % 5];
        let last = ["Virtanen", "Lind", "Korhonen", "Nieminen", "Berg"][i % 5];
        let secret = format!("Pw{}!{}", i, rng.digits(6));
        secrets.push(secret.clone());
        alma.push(AlmaUser {
            id: format!("{}.{}{}", first.to_lowercase(), last.to_lowercase(), i),
            name: format!("{first} {last}"),
            group: *rng.pick(&[
                ("STAFF", "Staff member"),
                ("UNDERGRAD", "Undergraduate"),
                ("ACADEMIC", "Academic staff"),
            ]),
            status: "ACTIVE",
            email: Some(format!(
                "{}.{}@example.fi",
                first.to_lowercase(),
                last.to_lowercase()
            )),
            password: Some(secret),
            ..AlmaUser::default()
        });
    }

    // Some are already in the library system: identical, or with an old
    // phone number (half of those under an old code, found by ISIL).
    let mut existing = Vec::new();
    let mut final_truth: Vec<Partner> = truth.iter().map(Lib::partner).collect();
    let half_same = sizes.existing_same / 2;
    let half_diff = sizes.existing_differing / 2;
    let picks: Vec<(Lib, bool)> = pre_pair
        .iter()
        .take(half_same)
        .map(|l| (l.clone(), true))
        .chain(
            pre_legacy
                .iter()
                .take(sizes.existing_same - half_same)
                .map(|l| (l.clone(), true)),
        )
        .chain(
            pre_pair
                .iter()
                .skip(half_same)
                .take(half_diff)
                .map(|l| (l.clone(), false)),
        )
        .chain(
            pre_legacy
                .iter()
                .skip(sizes.existing_same - half_same)
                .take(sizes.existing_differing - half_diff)
                .map(|l| (l.clone(), false)),
        )
        .collect();
    for (n, (l, same)) in picks.into_iter().enumerate() {
        let mut p = l.partner();
        if n % 4 == 0 {
            p.instructions = Some("Vain kopiot, ei lainoja".into());
        }
        let mut final_p = p.clone();
        if !same {
            p.phone = Some(format!("{} 9 {}", l.country.phone, rng.digits(6)));
            if n % 2 == 0 && l.isil.is_some() {
                p.code = format!("OLD-{}", l.idx);
                final_p.code = p.code.clone();
            }
        }
        if let Some(t) = final_truth.iter_mut().find(|t| t.code == l.code) {
            *t = final_p;
        }
        existing.push(p);
    }
    final_truth.sort_by(|a, b| a.code.cmp(&b.code));

    let alma_json = serde_json::to_vec_pretty(&json!({
        "user": alma.iter().map(AlmaUser::json).collect::<Vec<_>>(),
        "total_record_count": alma.len(),
    }))
    .unwrap_or_default();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<users total_record_count=\"{}\">",
        alma.len()
    );
    for u in &alma {
        xml += &u.xml();
        xml.push('\n');
    }
    xml += "</users>\n";

    let s = sizes;
    let pre = s.existing_same + s.existing_differing;
    let expected = Expected {
        alma_records: alma.len(),
        legacy_rows: rows.len(),
        merged: s.by_isil + s.by_code + s.by_domain + s.conflicting,
        created: s.alma_only + s.legacy_only + s.legacy_iso + s.by_isil + s.by_code + s.by_domain
            - pre,
        updated: s.existing_differing,
        unchanged: s.existing_same,
        conflicts: s.conflicting,
        rejected: s.missing_name
            + s.missing_code
            + 2 * s.duplicate_codes
            + s.repeated_rows
            + s.bad_email
            + s.not_libraries,
        missing_name: s.missing_name,
        missing_code: s.missing_code,
        duplicate_code: 2 * s.duplicate_codes,
        duplicate_row: s.repeated_rows,
        missing_email: s.bad_email,
        not_a_library: s.not_libraries,
    };
    DataSet {
        alma_json,
        alma_xml: xml.into_bytes(),
        legacy_csv: csv_bytes(&rows),
        existing,
        truth: final_truth,
        secrets,
        expected,
    }
}

/// The standard 603-library set.
pub fn standard() -> DataSet {
    generate(20261128, Sizes::STANDARD)
}
