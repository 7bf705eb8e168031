//! End-to-end tests of `cashpool recon` (`CONTRACT.md`, `docs/RECON.md`) on
//! the example group.
//!
//! Fixtures (`tests/fixtures/recon/`):
//!
//! | file | what |
//! |---|---|
//! | `receipts.csv` | 2026-11-02 on SZ-OPS (CNY): T-01 receipt 1,000.00 ref INV-1; T-02 payment 250.00 ref PAY-2 |
//! | `sz-20261102.sta` | MT940 of SZ-OPS (bank id 32000077770001), CRLF: opening 0, lines +1,000.00 INV-1, −250.00 PAY-2, −15.00 NCHG (a charge the ledger does not know), closing 735.00 |
//! | `not-a-statement.txt` | text that no parser recognises |

mod common;
use common::{items, keys, sorted, string, text, Run};
use std::path::{Path, PathBuf};

use tempfile::TempDir;

const EXAMPLE_GROUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lingang-group.toml");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/recon");

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

struct Pool {
    store: TempDir,
}

impl Pool {
    /// The example group with `receipts.csv` posted.
    fn new() -> Pool {
        let pool = Pool { store: tempfile::tempdir().expect("tempdir") };
        pool.run(&["init", "--config", EXAMPLE_GROUP, "--format", "json"]).expect(0);
        pool.run(&["post", text(&fixture("receipts.csv")), "--report", "json"]).expect(0);
        pool
    }

    fn run(&self, args: &[&str]) -> Run {
        common::cashpool_as("recon-test", self.store.path(), args)
    }

    fn import(&self, file: &str) -> Run {
        self.run(&["recon", "import", text(&fixture(file)), "--format", "json"])
    }

    fn report(&self) -> serde_json::Value {
        self.run(&["recon", "report", "--format", "json"]).expect(0).json()
    }

    fn entries(&self) -> u64 {
        self.run(&["audit", "verify", "--format", "json"]).expect(0).json()["entries"].as_u64().unwrap()
    }
}

#[test]
fn import_maps_journals_and_reconciles_and_a_reimport_writes_nothing() {
    let pool = Pool::new();
    let out = pool.import("sz-20261102.sta").expect(0).json();
    let imported = items(&out, "imported");
    assert_eq!(imported.len(), 1);
    assert_eq!(string(&imported[0], "status"), "new");
    assert_eq!(string(&imported[0], "account"), "SZ-OPS");
    assert_eq!(string(&imported[0], "format"), "mt940");
    assert_eq!(out["report"]["lines"], 3);
    assert_eq!(out["report"]["matched"], 2);
    let entries = pool.entries();

    let again = pool.import("sz-20261102.sta").expect(0).json();
    assert_eq!(string(&items(&again, "imported")[0], "status"), "already_imported");
    assert_eq!(pool.entries(), entries, "a re-import writes nothing");
}

#[test]
fn report_has_the_contract_fields_the_charge_and_the_balance_break() {
    let pool = Pool::new();
    let out = pool.import("sz-20261102.sta").expect(0).json();
    let seq = items(&out, "imported")[0]["seq"].as_u64().unwrap();
    let report = pool.report();
    for key in ["statements", "lines", "matched", "exceptions", "breaks"] {
        assert!(report.get(key).is_some(), "{key} missing: {report}");
    }
    assert_eq!(
        (report["statements"].as_u64(), report["lines"].as_u64(), report["matched"].as_u64()),
        (Some(1), Some(3), Some(2))
    );
    let exceptions = items(&report, "exceptions");
    assert_eq!(exceptions.len(), 1, "{report}");
    let charge = &exceptions[0];
    for key in ["account", "reference", "amount", "reason"] {
        assert!(charge.get(key).is_some(), "{key} missing: {charge}");
    }
    assert_eq!(string(charge, "id"), format!("S{seq}-L3"));
    assert_eq!(string(charge, "account"), "SZ-OPS");
    assert_eq!(string(charge, "amount"), "-15.00");
    assert_eq!(string(charge, "reason"), "bank_initiated");
    assert_eq!(string(&charge["proposed"], "id"), format!("BNK-{seq}-3"));
    let breaks = items(&report, "breaks");
    assert_eq!(breaks.len(), 1, "{report}");
    assert!(
        sorted(&["account", "currency", "kind", "expected", "found"]).iter().all(|k| keys(&breaks[0]).contains(k)),
        "{}",
        breaks[0]
    );
    assert_eq!(string(&breaks[0], "kind"), "ledger_balance_mismatch");
    assert_eq!((string(&breaks[0], "expected"), string(&breaks[0], "found")), ("750.00".into(), "735.00".into()));
}

#[test]
fn adopt_posts_the_charge_and_the_pool_reconciles_cleanly() {
    let pool = Pool::new();
    let seq = items(&pool.import("sz-20261102.sta").expect(0).json(), "imported")[0]["seq"].as_u64().unwrap();
    // Not a bank-initiated line: refused, nothing written.
    let entries = pool.entries();
    pool.run(&["recon", "adopt", &format!("S{seq}-L1"), "--format", "json"])
        .expect(2)
        .stderr_has(&["nothing was written"]);
    pool.run(&["recon", "adopt", "S999-L1", "--format", "json"]).expect(2);
    pool.run(&["recon", "adopt", "nonsense", "--format", "json"]).expect(2).stderr_has(&["not a line id"]);
    assert_eq!(pool.entries(), entries);

    let adopted = pool.run(&["recon", "adopt", &format!("S{seq}-L3"), "--format", "json"]).expect(0).json();
    assert_eq!(string(&items(&adopted, "adopted")[0], "id"), format!("BNK-{seq}-3"));
    let report = pool.report();
    assert_eq!(report["matched"], 3, "{report}");
    assert!(items(&report, "exceptions").is_empty(), "{report}");
    assert!(items(&report, "breaks").is_empty(), "{report}");
    let balances = pool.run(&["balances", "--account", "SYS-FEES", "--format", "json"]).expect(0).json();
    assert_eq!(string(&items(&balances, "balances")[0], "balance"), "15.00");
    // --all-charges has nothing left to do.
    let none = pool.run(&["recon", "adopt", "--all-charges", "--format", "json"]).expect(0).json();
    assert!(items(&none, "adopted").is_empty());
}

#[test]
fn adopt_all_charges() {
    let pool = Pool::new();
    pool.import("sz-20261102.sta").expect(0);
    let adopted = pool.run(&["recon", "adopt", "--all-charges", "--format", "json"]).expect(0).json();
    assert_eq!(items(&adopted, "adopted").len(), 1);
    assert_eq!(adopted["report"]["exceptions"], 0);
}

#[test]
fn a_file_that_is_not_a_statement_refuses_the_whole_import() {
    let pool = Pool::new();
    let entries = pool.entries();
    let bad = fixture("not-a-statement.txt");
    let good = fixture("sz-20261102.sta");
    pool.run(&["recon", "import", text(&good), text(&bad)]).expect(2).stderr_has(&[
        "not-a-statement.txt",
        "line 1",
        "nothing was written",
    ]);
    assert_eq!(pool.entries(), entries);
}

#[test]
fn read_only_refuses_import_and_adopt_but_reports() {
    let pool = Pool::new();
    pool.import("sz-20261102.sta").expect(0);
    let entries = pool.entries();
    pool.run(&["--read-only", "recon", "import", text(&fixture("sz-20261102.sta"))]).expect(2);
    pool.run(&["--read-only", "recon", "adopt", "--all-charges"]).expect(2);
    let report = pool.run(&["--read-only", "recon", "report", "--format", "json"]).expect(0).json();
    assert_eq!(report["lines"], 3);
    assert_eq!(pool.entries(), entries);
}

#[test]
fn a_regulator_reconciles_from_an_export_alone() {
    let pool = Pool::new();
    pool.import("sz-20261102.sta").expect(0);
    let files = tempfile::tempdir().unwrap();
    let export = files.path().join("journal.jsonl");
    pool.run(&["audit", "export", "--format", "jsonl", "--output", text(&export)]).expect(0);
    let from_store = pool.report();
    let nowhere = files.path().join("no-store");
    let from_export = common::cashpool_as(
        "regulator",
        &nowhere,
        &["recon", "report", "--journal", text(&export), "--format", "json"],
    )
    .expect(0)
    .json();
    assert_eq!(from_export, from_store);
    // A tampered export is an integrity failure (exit 3), not a report.
    let tampered = files.path().join("tampered.jsonl");
    let body = std::fs::read_to_string(&export).unwrap().replace("\"amount\":\"-15.00\"", "\"amount\":\"-1.00\"");
    std::fs::write(&tampered, body).unwrap();
    common::cashpool_as("regulator", &nowhere, &["recon", "report", "--journal", text(&tampered)]).expect(3);
}

#[test]
fn the_table_report_lists_exceptions_and_breaks_with_grouped_amounts() {
    let pool = Pool::new();
    pool.import("sz-20261102.sta").expect(0);
    let table = pool.run(&["recon", "report", "--format", "table"]).expect(0);
    assert!(table.stdout.contains("bank_initiated"), "{}", table.stdout);
    assert!(table.stdout.contains("ledger_balance_mismatch"), "{}", table.stdout);
    assert!(table.stdout.contains("2 matched"), "{}", table.stdout);
}
