//! Every input the fuzzer (`scripts/fuzz.sh`) once found crashing a parser
//! is kept in `tests/fuzz_found/<target>/` and must now be handled
//! without a panic.

use std::path::Path;

#[test]
fn inputs_that_once_crashed_a_parser_are_handled() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_found");
    let mut replayed = 0;
    for target in server::fuzz::TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(target.name)) else {
            continue;
        };
        for entry in entries.flatten() {
            let input = std::fs::read(entry.path()).unwrap();
            let outcome = std::panic::catch_unwind(|| (target.run)(&input));
            assert!(
                outcome.is_ok(),
                "{} panics on {}",
                target.name,
                entry.path().display()
            );
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} saved fuzz inputs");
}

#[test]
fn every_target_takes_any_bytes() {
    for target in server::fuzz::TARGETS {
        for input in [&b""[..], b"\xff\xfe", b"{", b"<", b"%", b"\"\\u", b"\0"] {
            (target.run)(input);
        }
    }
}
