//! The independent verifier (`tools/verify-journal.py`, written from
//! docs/FORMATS.md alone) and `cashpool audit verify|replay --journal` must
//! agree: on the format-2 test vector (written before the taxes on interest
//! were broken down), on the demo's export (with them), and on tampered copies
//! of both (the same first bad entry, the same exit code).
//!
//! Needs `python3` (3.8 or newer, standard library only) on the PATH: every
//! machine of this project has it; elsewhere install it (Debian: `apt-get
//! install python3`). Without it this test fails and says so.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{cashpool_as, text};
use serde_json::Value;
use tempfile::TempDir;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `python3 tools/verify-journal.py FILE`: (exit code, its JSON).
fn python_verify(file: &Path) -> (i32, Value) {
    let output = Command::new("python3")
        .arg(repo().join("tools/verify-journal.py"))
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| {
            panic!("python3 is needed to run the independent verifier ({err}); install it (Debian: apt-get install python3)")
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let value = serde_json::from_str(stdout.trim()).unwrap_or_else(|err| {
        panic!("verify-journal.py printed no JSON ({err}): {stdout}{}", String::from_utf8_lossy(&output.stderr))
    });
    (output.status.code().unwrap_or(-1), value)
}

/// `cashpool audit verify --journal` and `audit replay --journal`: (exit code, verify JSON, replay JSON).
fn cashpool_verify(dir: &Path, file: &Path) -> (i32, Value, Value) {
    let verify = cashpool_as(
        "auditor",
        &dir.join("no-store"),
        &["audit", "verify", "--journal", text(file), "--format", "json"],
    );
    let replay = cashpool_as(
        "auditor",
        &dir.join("no-store"),
        &["audit", "replay", "--journal", text(file), "--format", "json"],
    );
    assert_eq!(
        verify.code, replay.code,
        "verify: {}{} replay: {}{}",
        verify.stdout, verify.stderr, replay.stdout, replay.stderr
    );
    (verify.code, verify.json(), replay.json())
}

/// Both verifiers on one file: they must give the same verdict.
#[track_caller]
fn agree(dir: &Path, file: &Path) -> (i32, Value) {
    let (py_code, py) = python_verify(file);
    let (code, verify, replay) = cashpool_verify(dir, file);
    assert_eq!(py_code, code, "exit codes differ on {}: python {py}, cashpool {verify}", file.display());
    if code == 0 {
        assert_eq!(py["ok"], true, "{py}");
        assert_eq!(py["entries"], verify["entries"], "{py} {verify}");
        assert_eq!(py["head"], verify["head"], "{py} {verify}");
        assert_eq!(py["state_digest"], replay["state_digest"], "{py} {replay}");
    } else {
        assert_eq!(code, 3, "{verify}");
        assert_eq!(py["ok"], false, "{py}");
        assert_eq!(py["first_bad_seq"], verify["first_bad_seq"], "python {py}, cashpool {verify}");
    }
    (code, py)
}

fn tampered_copies(dir: &Path, good: &Path) -> Vec<(String, PathBuf, u64)> {
    let text = std::fs::read_to_string(good).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let tx_idx = lines.iter().position(|line| line.contains("\"kind\":\"transaction\"")).expect("a transaction");
    let json_idx = lines.iter().position(|line| line.contains("\"kind\":\"account_opened\"")).expect("an account");
    let write = |name: &str, lines: &[String]| {
        let path = dir.join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    };
    let seq = |idx: usize| idx as u64 + 1;
    let mut out = Vec::new();
    // One amount changed: that line no longer matches its hash.
    let mut amount = lines.clone();
    let line = &lines[tx_idx];
    let at = line.find("\"amount\":\"").expect("an amount") + "\"amount\":\"".len();
    let digit = if line[at..].starts_with('-') { at + 1 } else { at };
    let changed = if &line[digit..=digit] == "9" { "8" } else { "9" };
    amount[tx_idx] = format!("{}{changed}{}", &line[..digit], &line[digit + 1..]);
    out.push(("amount".into(), write("amount.jsonl", &amount), seq(tx_idx)));
    // A JSON record's field changed.
    let mut record = lines.clone();
    record[json_idx] = lines[json_idx].replacen("\"entity\":\"", "\"entity\":\"X", 1);
    out.push(("record".into(), write("record.jsonl", &record), seq(json_idx)));
    // A line dropped: the next one is out of place.
    let mut dropped = lines.clone();
    dropped.remove(tx_idx);
    out.push(("dropped".into(), write("dropped.jsonl", &dropped), seq(tx_idx)));
    // An amount in another form (a leading zero): the same value, not the exporter's text.
    let mut form = lines.clone();
    form[tx_idx] =
        lines[tx_idx].replacen("\"amount\":\"", "\"amount\":\"0", 1).replacen("\"amount\":\"0-", "\"amount\":\"-0", 1);
    out.push(("form".into(), write("form.jsonl", &form), seq(tx_idx)));
    out
}

#[test]
fn the_independent_verifier_and_cashpool_agree_on_the_test_vector_and_its_tampered_copies() {
    let dir = TempDir::new().unwrap();
    let golden = repo().join("tests/golden/journal-v2.jsonl");
    let pinned: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/golden/journal-v2.expected.json")).unwrap())
            .unwrap();
    let (code, py) = agree(dir.path(), &golden);
    assert_eq!(code, 0);
    assert_eq!(py["head"], pinned["head"]);
    assert_eq!(py["state_digest"], pinned["state_digest"]);
    for (what, file, bad_seq) in tampered_copies(dir.path(), &golden) {
        let (code, py) = agree(dir.path(), &file);
        assert_eq!(code, 3, "{what}: {py}");
        assert_eq!(py["first_bad_seq"], bad_seq, "{what}: {py}");
    }
}

#[test]
fn the_independent_verifier_and_cashpool_agree_on_the_benchmarks_test_vector_and_a_changed_fixing() {
    let dir = TempDir::new().unwrap();
    let golden = repo().join("tests/golden/journal-v2-benchmarks.jsonl");
    let pinned: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/golden/journal-v2-benchmarks.expected.json")).unwrap(),
    )
    .unwrap();
    let (code, py) = agree(dir.path(), &golden);
    assert_eq!(code, 0);
    assert_eq!(py["state_digest"], pinned["state_digest"]);
    for (what, file, bad_seq) in tampered_copies(dir.path(), &golden) {
        let (code, py) = agree(dir.path(), &file);
        assert_eq!(code, 3, "{what}: {py}");
        assert_eq!(py["first_bad_seq"], bad_seq, "{what}: {py}");
    }
    // A fixing changed after the fact: the benchmarks entry no longer hashes to its hash.
    let text_of = std::fs::read_to_string(&golden).unwrap();
    let lines: Vec<&str> = text_of.lines().collect();
    let idx = lines.iter().position(|line| line.contains("\"kind\":\"benchmarks_imported\"")).expect("kind 10");
    let changed: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            if i == idx {
                line.replacen("\"rate_percent\":\"4.13\"", "\"rate_percent\":\"4.31\"", 1)
            } else {
                line.to_string()
            }
        })
        .collect();
    assert_ne!(changed[idx], lines[idx], "the vector holds SOFR 4.13");
    let file = dir.path().join("fixing.jsonl");
    std::fs::write(&file, changed.join("\n") + "\n").unwrap();
    let (code, py) = agree(dir.path(), &file);
    assert_eq!((code, py["first_bad_seq"].as_u64()), (3, Some(idx as u64 + 1)), "{py}");
}

#[test]
fn the_independent_verifier_and_cashpool_agree_on_the_demos_export() {
    let dir = TempDir::new().unwrap();
    let store = dir.path().join("store");
    cashpool_as("demo", &store, &["demo", "--days", "5", "--format", "json"]).expect(0);
    let export = dir.path().join("demo.jsonl");
    cashpool_as("auditor", &store, &["audit", "export", "--format", "jsonl", "--output", text(&export)]).expect(0);
    // The demo's group has `[[entity.withholding]]` rows and its interest settlement withholds VAT:
    // both verifiers read the keys added for them (docs/FORMATS.md).
    let exported = std::fs::read_to_string(&export).unwrap();
    assert!(exported.contains("\"withholding\":[{"), "the definition's withholding rows");
    assert!(exported.contains("\"taxes\":{"), "an accrual's taxes");
    assert!(exported.contains("\"id\":\"SYS-WHT-VAT\""), "the VAT account, opened by the settlement");
    // Its definition names business-day calendars, and it imports the year's calendars (kind 11): both
    // verifiers fold them into the state digest's tenth part.
    assert!(exported.contains("\"calendars\":{\"CNY\":[\"CN\"]"), "the definition's calendars");
    assert!(exported.contains("\"roll\":\"modified_following\""), "a rule's roll");
    assert!(exported.contains("\"kind\":\"calendar_imported\""), "the calendars imported");
    let (code, py) = agree(dir.path(), &export);
    assert_eq!(code, 0, "{py}");
    let replay = cashpool_as("auditor", &store, &["audit", "replay", "--format", "json"]).expect(0).json();
    assert_eq!(py["state_digest"], replay["state_digest"], "the store's own replay gives the same digest");
    for (what, file, bad_seq) in tampered_copies(dir.path(), &export) {
        let (code, py) = agree(dir.path(), &file);
        assert_eq!(code, 3, "{what}: {py}");
        assert_eq!(py["first_bad_seq"], bad_seq, "{what}: {py}");
    }
}
