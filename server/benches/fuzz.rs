//! A mutational fuzzer for the parsers that take outside input
//! (`server::fuzz::TARGETS`), without extra tools: seeded with the real
//! payloads (`shared/fixtures`) and the project's own, it flips, inserts,
//! deletes, repeats and splices bytes and tokens, and calls the target
//! under `catch_unwind`. A panicking input is saved to
//! `server/tests/fuzz_found/<target>/` (replayed by every test run). Prints
//! per target: seconds, executions, distinct crashes.
//!
//! `scripts/fuzz.sh` runs it; `KAUKO_FUZZ_SECONDS` per target (600),
//! `KAUKO_FUZZ_TARGETS` (comma-separated names; all by default).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use server::fuzz::{Target, TARGETS};
use server::partners_import::testdata::Rng;

const TOKENS: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"null",
    b"true",
    b"-1",
    b"1e999",
    b"18446744073709551616",
    b"\\u0000",
    b"\\ud800",
    b"<",
    b">",
    b"</",
    b"/>",
    b"&amp;",
    b"&#0;",
    b"<![CDATA[",
    b"]]>",
    b"%",
    b"%2",
    b"%ff",
    b"&",
    b"=",
    b"?",
    b"rft.",
    b"rft_id=",
    b"info:doi/",
    b"10.",
    b"/",
    b"..",
    b";",
    b"\n",
    b"\r\n",
    b"\t",
    b"\xc3",
    b"\xff",
    "İ".as_bytes(),
    "ß".as_bytes(),
    "\u{200b}".as_bytes(),
    "\u{feff}".as_bytes(),
    b"0",
    b"978",
    b"ISBN",
    b"PMID:",
    b"doi:",
    b"\x00",
];

fn own_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn shared_fixtures() -> PathBuf {
    match std::env::var_os("KAUKO_TEST_FIXTURES") {
        Some(d) if !d.is_empty() => d.into(),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
    }
}

fn found_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_found")
        .join(target)
}

fn files(dir: &Path, ext: &str) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Vec<u8>)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| ext.is_empty() || p.extension().is_some_and(|x| x == ext))
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .collect();
    out.sort();
    out.into_iter().map(|(_, b)| b).collect()
}

fn seeds(target: &Target) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (dir, ext) in target.seeds {
        for body in files(&shared_fixtures().join(dir), ext) {
            // A file of links: each line is a seed too.
            if *ext == "txt" {
                for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    out.push(line.to_vec());
                }
            }
            out.push(body);
        }
    }
    match target.name {
        "legacy_csv" => out.extend(files(&own_fixtures().join("partners"), "csv")),
        "alma_users" => {
            out.extend(files(&own_fixtures().join("partners"), "json"));
            out.extend(files(&own_fixtures().join("partners"), "xml"));
        }
        "citation_json" => out.extend(files(&own_fixtures(), "json")),
        "identifiers" => out.extend(
            [
                "10.1000/xyz123",
                "https://doi.org/10.1038/nature12373",
                "PMID: 123456",
                "978-951-1-27445-2",
                "0-306-40615-2",
                "ISSN 0028-0836",
                "2013-05-01",
            ]
            .map(|s| s.as_bytes().to_vec()),
        ),
        _ => {}
    }
    out.extend(files(&found_dir(target.name), ""));
    if out.is_empty() {
        out.push(b"{}".to_vec());
    }
    out
}

fn mutate(rng: &mut Rng, input: &[u8], pool: &[Vec<u8>]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(8) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 if !data.is_empty() => {
                let len = 1 + rng.below(16.min(data.len()));
                let start = rng.below(data.len() + 1 - len);
                data.drain(start..start + len);
            }
            2 => {
                let token = rng.pick(TOKENS);
                data.splice(at..at, token.iter().copied());
            }
            3 if !data.is_empty() => {
                // Repeat a slice (deep nesting, long fields).
                let len = 1 + rng.below(8.min(data.len()));
                let start = rng.below(data.len() + 1 - len);
                let piece = data[start..start + len].to_vec();
                for _ in 0..1 + rng.below(64) {
                    data.splice(at..at, piece.iter().copied());
                }
            }
            4 => {
                // Splice in part of another seed.
                let other = rng.pick(pool);
                if !other.is_empty() {
                    let len = 1 + rng.below(other.len().min(256));
                    let start = rng.below(other.len() + 1 - len);
                    data.splice(at..at, other[start..start + len].iter().copied());
                }
            }
            5 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = rng.next_u64() as u8;
            }
            6 => data.truncate(at),
            _ => {
                let byte = rng.next_u64() as u8;
                data.insert(at, byte);
            }
        }
    }
    // Big enough for any real payload here; bounded so one slow input
    // cannot hold the clock.
    data.truncate(256 << 10);
    data
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn main() {
    let seconds: u64 = std::env::var("KAUKO_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let only: Option<Vec<String>> = std::env::var("KAUKO_FUZZ_TARGETS")
        .ok()
        .filter(|s| !s.is_empty())
        .map(|s| s.split(',').map(str::to_owned).collect());
    // Panics are what we look for: keep them off the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    println!("target               seconds   executions   crashes  (seeds)");
    let mut total_crashes = 0;
    for target in TARGETS {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|n| n == target.name))
        {
            continue;
        }
        let mut pool = seeds(target);
        let seed_count = pool.len();
        let mut rng = Rng::new(fnv(target.name.as_bytes()) ^ seconds);
        let mut crashes = HashSet::new();
        let mut execs: u64 = 0;
        let started = Instant::now();
        let budget = Duration::from_secs(seconds);
        // The seeds as they are first.
        for s in pool.clone() {
            if std::panic::catch_unwind(|| (target.run)(&s)).is_err() {
                crashes.insert(fnv(&s));
            }
        }
        while started.elapsed() < budget {
            for _ in 0..16 {
                let base = rng.below(pool.len());
                let input = mutate(&mut rng, &pool[base], &pool);
                execs += 1;
                if std::panic::catch_unwind(|| (target.run)(&input)).is_err() {
                    let hash = fnv(&input);
                    if crashes.insert(hash) {
                        let dir = found_dir(target.name);
                        let _ = std::fs::create_dir_all(&dir);
                        let _ = std::fs::write(dir.join(format!("{hash:016x}.bin")), &input);
                    }
                } else if rng.below(1000) == 0 && pool.len() < 4096 {
                    // Keep some mutants as new bases (coverage-blind).
                    pool.push(input);
                }
            }
        }
        total_crashes += crashes.len();
        println!(
            "{:<20} {:>7} {:>12} {:>9}  ({seed_count})",
            target.name,
            started.elapsed().as_secs(),
            execs,
            crashes.len()
        );
    }
    println!("crashing inputs found: {total_crashes} (saved under server/tests/fuzz_found/)");
}
