//! End-to-end tests of the `cashpool` binary against the product contract
//! (`CONTRACT.md`): exit codes and the content of what it prints.
//!
//! Every test runs the binary on its own fresh store (a temporary folder given
//! as `--data`) with `CASHPOOL_NOW` and `CASHPOOL_OPERATOR` fixed, so that the
//! journals it writes are reproducible, and parses `--format json` (or, for
//! `post`, `--report json`) wherever it reads output.
//!
//! The seeded pool (`Pool::seeded`) is the example group after three files:
//!
//! | seq | id      | value date | what                                              |
//! |-----|---------|------------|---------------------------------------------------|
//! | 1   |         |            | group definition                                  |
//! | 2-17|         |            | 11 accounts of the group, 5 system accounts       |
//! | 18  | T-0001  | 2026-11-02 | EXT-OFFSHORE -> HK-OPS USD 250000.00 (contract)   |
//! | 19  | T-0002  | 2026-11-02 | EXT-ONSHORE -> SH-DMA USD 500000.00               |
//! | 20  | T-0003  | 2026-11-03 | EXT-OFFSHORE -> JP-OPS JPY 1000000                |
//! | 21  | T-0004  | 2026-11-04 | HK-OPS -> EXT-OFFSHORE USD 50000.00               |
//! | 22  | T-0005  | 2026-11-03 | EXT-OFFSHORE -> HK-OPS HKD 1200.50 (back-valued)  |
//! | 23  | FX-0001 | 2026-11-02 | SH-DMA USD -100000.00 / CNY 710250.00 at 7.1025   |

mod common;
use common::{text, Run, Snapshot};
use std::path::{Path, PathBuf};

use cashpool_ledger::testing::{entry_of_line, ExportLineV2};
use serde_json::{json, Value};
use tempfile::TempDir;

const EXAMPLE_GROUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lingang-group.toml");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Entries `init` writes for the example group: the definition, 11 accounts, 5 system accounts,
/// the pool's intercompany account and one position account for each of the 6 members besides the host.
const INIT_ENTRIES: u64 = 24;
/// Entries of the seeded pool (see the table above).
const SEEDED_ENTRIES: u64 = 30;

const CSV_HEADER: &str = "id,value_date,from,to,currency,amount,purpose,reference,memo";
/// A good CSV row; every rejection file puts it first, so that a rejected file
/// also shows that its good rows were not written.
const GOOD_CSV_ROW: &str = "OK-1,2026-11-05,EXT-OFFSHORE,SG-OPS,USD,10.00,current_account,OK,good row";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

/// Runs `cashpool --data DATA ARGS...` with the reproducible environment.
fn cashpool(data: &Path, args: &[&str]) -> Run {
    common::cashpool_as("cli-test", data, args)
}

/// A store in a fresh temporary folder, and a second folder for input and export files.
struct Pool {
    store: TempDir,
    files: TempDir,
}

impl Pool {
    /// A folder without a store.
    fn empty() -> Pool {
        Pool { store: tempfile::tempdir().expect("tempdir"), files: tempfile::tempdir().expect("tempdir") }
    }

    /// The example group, initialised.
    fn init() -> Pool {
        let pool = Pool::empty();
        let init = pool.run(&["init", "--config", EXAMPLE_GROUP, "--format", "json"]).expect(0).json();
        assert_eq!(init["entries"], INIT_ENTRIES, "{init}");
        pool
    }

    /// The example group with the transactions of the table at the top of this file.
    fn seeded() -> Pool {
        let pool = Pool::init();
        for (name, posted) in [("contract_example.csv", 1), ("transactions.csv", 4), ("contract_fx.jsonl", 1)] {
            let report = pool.post(&fixture(name), &[]).expect(0).json();
            assert_eq!(report["posted"], posted, "{name}: {report}");
            assert_eq!(report["duplicates"], 0, "{name}: {report}");
            assert_eq!(report["rejected"], json!([]), "{name}: {report}");
        }
        pool
    }

    fn data(&self) -> &Path {
        self.store.path()
    }

    fn run(&self, args: &[&str]) -> Run {
        cashpool(self.data(), args)
    }

    /// Writes an input file into the files folder.
    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.files.path().join(name);
        std::fs::write(&path, content).expect("write an input file");
        path
    }

    /// `post FILE --report json EXTRA...`
    fn post(&self, file: &Path, extra: &[&str]) -> Run {
        let mut args = vec!["post", text(file), "--report", "json"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// The journal's length and head (`audit verify`) and the state digest (`audit replay`), with the
    /// stored balances compared too (`--exclusive`).
    #[track_caller]
    fn snapshot(&self) -> Snapshot {
        let verify = self.run(&["audit", "verify", "--exclusive", "--format", "json"]).expect(0).json();
        assert_eq!(verify["ok"], true, "{verify}");
        assert_eq!(verify["stored_balances_checked"], true, "{verify}");
        let replay = self.run(&["audit", "replay", "--exclusive", "--format", "json"]).expect(0).json();
        assert_eq!(replay["matches_store"], true, "{replay}");
        assert_eq!(replay["entries"], verify["entries"], "{replay} vs {verify}");
        Snapshot {
            entries: verify["entries"].as_u64().expect("entries is a number"),
            head: verify["head"].as_str().expect("head is a string").to_string(),
            state_digest: replay["state_digest"].as_str().expect("state_digest is a string").to_string(),
        }
    }

    /// `balances --format json` rows as (account, currency, balance).
    #[track_caller]
    fn balances(&self, extra: &[&str]) -> Vec<(String, String, String)> {
        let mut args = vec!["balances", "--format", "json"];
        args.extend_from_slice(extra);
        let value = self.run(&args).expect(0).json();
        rows(&value["balances"], &["account", "currency", "balance"])
            .into_iter()
            .map(|row| (row[0].clone(), row[1].clone(), row[2].clone()))
            .collect()
    }

    /// One balance, now or at the end of `as_of`.
    #[track_caller]
    fn balance(&self, account: &str, currency: &str, as_of: Option<&str>) -> String {
        let mut args = vec!["--account", account, "--currency", currency];
        if let Some(date) = as_of {
            args.extend(["--as-of", date]);
        }
        let rows = self.balances(&args);
        assert_eq!(rows.len(), 1, "{account} {currency}: {rows:?}");
        rows[0].2.clone()
    }

    /// `audit export --format jsonl --output FILE`; returns the file.
    #[track_caller]
    fn export(&self, name: &str) -> PathBuf {
        let path = self.files.path().join(name);
        self.run(&["audit", "export", "--format", "jsonl", "--output", text(&path)]).expect(0);
        path
    }
}

#[test]
fn a_held_store_is_read_through_its_journal_with_or_without_read_only() {
    let pool = Pool::seeded();
    let before = pool.snapshot();
    let balances = pool.run(&["balances", "--format", "json"]).expect(0).stdout;
    let export = std::fs::read_to_string(pool.export("before.jsonl")).unwrap();
    let journal = pool.data().join("journal");
    let segment = std::fs::read_dir(&journal).unwrap().map(|item| item.unwrap().path()).max().unwrap();
    {
        // The operator's process holds the store, and is writing a record that is not complete yet.
        let _held = cashpool_ledger::storage::SledStorage::open(pool.data()).expect("the test process opens the store");
        let mut torn = std::fs::OpenOptions::new().append(true).open(&segment).unwrap();
        std::io::Write::write_all(&mut torn, b"CPJ1\x00\x10\x00\x00").unwrap();
        let torn_len = std::fs::metadata(&segment).unwrap().len();

        // Readers never lock the store: with or without --read-only, they read its journal as it stands,
        // say nothing about the holder, and wait for nothing.
        for read_only in [true, false] {
            let read = |args: &[&str]| {
                let mut all = if read_only { vec!["--read-only", "--wait", "0"] } else { vec!["--wait", "0"] };
                all.extend_from_slice(args);
                let run = pool.run(&all).expect(0);
                assert!(!run.stderr.contains("held by"), "{}: {}", run.command, run.stderr);
                run
            };
            assert_eq!(read(&["balances", "--format", "json"]).stdout, balances);
            let verify = read(&["audit", "verify", "--format", "json"]).json();
            assert_eq!(
                (verify["ok"].as_bool(), verify["entries"].as_u64()),
                (Some(true), Some(before.entries)),
                "{verify}"
            );
            assert_eq!(verify["head"], before.head.as_str());
            // No stored balances were read, so none were compared.
            assert_eq!(verify["stored_balances_checked"], false, "{verify}");
            let replay = read(&["audit", "replay", "--format", "json"]).json();
            assert_eq!(replay["state_digest"], before.state_digest.as_str());
            assert_eq!(replay["matches_store"], Value::Null, "{replay}");
            assert_eq!(read(&["audit", "export", "--format", "jsonl"]).stdout, export);
        }
        // Writing commands are refused before they open anything.
        pool.run(&["--read-only", "sweep", "--date", "2026-11-05"]).expect(2);
        // Nothing was written: the record being appended is left as it is.
        assert_eq!(std::fs::metadata(&segment).unwrap().len(), torn_len);
    }
    // Released, the store opens normally: the torn record is cut and nothing acknowledged is lost.
    assert_eq!(pool.snapshot(), before);
}

/// The string fields `keys` of every object of a JSON array; panics on anything else.
#[track_caller]
fn rows(array: &Value, keys: &[&str]) -> Vec<Vec<String>> {
    array
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, found {array}"))
        .iter()
        .map(|item| {
            keys.iter()
                .map(|key| match &item[*key] {
                    Value::String(text) => text.clone(),
                    other => panic!("field {key:?} of {item} is not a string but {other}"),
                })
                .collect()
        })
        .collect()
}

fn csv_file(rows: &[&str]) -> String {
    let mut out = String::from(CSV_HEADER);
    for row in rows {
        out.push('\n');
        out.push_str(row);
    }
    out.push('\n');
    out
}

/// One JSON Lines transaction; `postings` are (account, currency, amount).
fn jsonl_tx(id: &str, purpose: &str, postings: &[(&str, &str, &str)], rate: Option<(&str, &str, &str)>) -> String {
    let mut tx = json!({
        "id": id,
        "value_date": "2026-11-05",
        "purpose": purpose,
        "postings": postings
            .iter()
            .map(|(account, currency, amount)| json!({"account": account, "currency": currency, "amount": amount}))
            .collect::<Vec<_>>(),
    });
    if let Some((base, quote, rate)) = rate {
        tx["rate"] = json!({"base": base, "quote": quote, "rate": rate});
    }
    tx.to_string()
}

/// A JSON Lines file whose first line is a good transaction.
fn jsonl_file(lines: &[String]) -> String {
    let good =
        jsonl_tx("OK-1", "current_account", &[("EXT-OFFSHORE", "USD", "-10.00"), ("SG-OPS", "USD", "10.00")], None);
    let mut out = good;
    for line in lines {
        out.push('\n');
        out.push_str(line);
    }
    out.push('\n');
    out
}

/// Decimals an amount string has (`"710250.00"` → 2, `"500"` → 0).
fn decimals(amount: &str) -> usize {
    amount.split_once('.').map_or(0, |(_, frac)| frac.len())
}

/// Minor units of the currencies the tests see (ISO 4217).
fn minor_units(currency: &str) -> usize {
    match currency {
        "JPY" => 0,
        "KWD" => 3,
        _ => 2,
    }
}

// ---------------------------------------------------------------------------
// 1. Exit 0: init, post, balances, statement
// ---------------------------------------------------------------------------

#[test]
fn init_creates_the_store_and_posting_the_contract_examples_succeeds() {
    let pool = Pool::empty();
    let init = pool.run(&["init", "--config", EXAMPLE_GROUP, "--format", "json"]).expect(0).json();
    assert_eq!(init["entries"], INIT_ENTRIES);
    assert_eq!(init["accounts"], 23, "11 accounts of the group, 5 system accounts, 7 intercompany accounts: {init}");
    assert_eq!(init["head"].as_str().map(str::len), Some(64), "{init}");

    let csv = pool.post(&fixture("contract_example.csv"), &[]).expect(0).json();
    assert_eq!(csv["posted"], 1, "{csv}");
    assert_eq!(csv["duplicates"], 0, "{csv}");
    assert_eq!(csv["rejected"], json!([]), "{csv}");
    assert_eq!(csv["head"]["seq"], INIT_ENTRIES + 1, "{csv}");

    // The contract's FX example needs USD on SH-DMA first.
    pool.post(&fixture("transactions.csv"), &[]).expect(0);
    let fx = pool.post(&fixture("contract_fx.jsonl"), &[]).expect(0).json();
    assert_eq!(fx["posted"], 1, "{fx}");
    assert_eq!(fx["head"]["seq"], SEEDED_ENTRIES, "{fx}");

    assert_eq!(pool.balance("HK-OPS", "USD", None), "200000.00");
    assert_eq!(pool.balance("SH-DMA", "USD", None), "400000.00");
    assert_eq!(pool.balance("SH-DMA", "CNY", None), "710250.00");
    // The FX transaction routed both currencies through the FX position account.
    assert_eq!(pool.balance("SYS-FX-POSITION", "USD", None), "100000.00");
    assert_eq!(pool.balance("SYS-FX-POSITION", "CNY", None), "-710250.00");
    assert_eq!(pool.snapshot().entries, SEEDED_ENTRIES);
}

#[test]
fn balances_json_has_the_contract_fields_and_exact_minor_units() {
    let pool = Pool::seeded();
    let value = pool.run(&["balances", "--format", "json"]).expect(0).json();
    let object = value.as_object().expect("an object");
    assert!(object.contains_key("as_of"), "{value}");
    assert!(object.contains_key("balances"), "{value}");
    let all = rows(&value["balances"], &["account", "currency", "balance"]);
    assert!(all.len() > 20, "every account and currency it holds: {all:?}");
    for row in &all {
        let (currency, balance) = (&row[1], &row[2]);
        assert_eq!(decimals(balance), minor_units(currency), "{row:?}: exactly the currency's minor units");
        assert!(balance.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit() || b == b'.'), "{row:?}");
    }
    let find = |account: &str, currency: &str| {
        all.iter()
            .find(|row| row[0] == account && row[1] == currency)
            .unwrap_or_else(|| panic!("no row for {account} {currency} in {all:?}"))[2]
            .clone()
    };
    #[rustfmt::skip]
    let expected = [
        ("SH-DMA", "CNY", "710250.00"),
        ("SH-DMA", "USD", "400000.00"),
        ("SH-DMA", "EUR", "0.00"),
        ("HK-OPS", "USD", "200000.00"),
        ("HK-OPS", "HKD", "1200.50"),
        ("HK-OPS", "CNY", "0.00"),
        ("JP-OPS", "JPY", "1000000"),
        ("SH-IMA", "JPY", "0"),
        ("EXT-OFFSHORE", "JPY", "-1000000"),
        ("EXT-OFFSHORE", "USD", "-200000.00"),
        ("EXT-ONSHORE", "USD", "-500000.00"),
        ("SYS-FX-POSITION", "USD", "100000.00"),
        ("SYS-FX-POSITION", "CNY", "-710250.00"),
    ];
    for (account, currency, balance) in expected {
        assert_eq!(find(account, currency), balance, "{account} {currency}");
    }
}

#[test]
fn balances_as_of_includes_back_valued_postings() {
    let pool = Pool::init();
    let later = pool.write(
        "later.csv",
        &csv_file(&["L-1,2026-11-10,EXT-OFFSHORE,SG-OPS,USD,1000.00,current_account,R-L,value 10 November"]),
    );
    let earlier = pool.write(
        "earlier.csv",
        &csv_file(&["E-1,2026-11-05,EXT-OFFSHORE,SG-OPS,USD,200.00,current_account,R-E,back-valued to 5 November"]),
    );
    pool.post(&later, &[]).expect(0);
    pool.post(&earlier, &[]).expect(0);
    // (as of, SG-OPS, EXT-OFFSHORE)
    let cases = [
        (Some("2026-11-04"), "0.00", "0.00"),
        (Some("2026-11-05"), "200.00", "-200.00"),
        (Some("2026-11-09"), "200.00", "-200.00"),
        (Some("2026-11-10"), "1200.00", "-1200.00"),
        (Some("2026-12-31"), "1200.00", "-1200.00"),
        (None, "1200.00", "-1200.00"),
    ];
    for (as_of, sg, ext) in cases {
        assert_eq!(pool.balance("SG-OPS", "USD", as_of), sg, "as of {as_of:?}");
        assert_eq!(pool.balance("EXT-OFFSHORE", "USD", as_of), ext, "as of {as_of:?}");
    }
    let value = pool.run(&["balances", "--as-of", "2026-11-05", "--format", "json"]).expect(0).json();
    assert_eq!(value["as_of"], "2026-11-05", "{value}");
}

#[test]
fn statement_lists_postings_with_running_balances() {
    let pool = Pool::seeded();
    let line_fields = ["value_date", "id", "currency", "amount", "balance"];

    let all = pool.run(&["statement", "--account", "HK-OPS", "--format", "json"]).expect(0).json();
    assert_eq!(all["account"], "HK-OPS", "{all}");
    // Ordered by value date, then sequence: T-0005 (posted after T-0004) is value-dated before it.
    #[rustfmt::skip]
    let expected = [
        ["2026-11-02", "T-0001", "USD", "250000.00", "250000.00"],
        ["2026-11-03", "T-0005", "HKD", "1200.50", "1200.50"],
        ["2026-11-04", "T-0004", "USD", "-50000.00", "200000.00"],
    ];
    assert_eq!(rows(&all["lines"], &line_fields), expected.map(|row| row.map(String::from)).to_vec(), "{all}");
    let seqs: Vec<u64> = all["lines"].as_array().unwrap().iter().map(|line| line["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [25, 29, 28], "{all}");
    assert_eq!(all["lines"][2]["memo"], "supplier payment, November", "{all}");
    assert_eq!(rows(&all["closing"], &["currency", "balance"]), [["HKD", "1200.50"], ["USD", "200000.00"]]);

    // From 3 November: T-0001 goes into the opening balance.
    let from = pool.run(&["statement", "--account", "HK-OPS", "--from", "2026-11-03", "--format", "json"]);
    let from = from.expect(0).json();
    assert_eq!(rows(&from["opening"], &["currency", "balance"]), [["USD", "250000.00"]], "{from}");
    #[rustfmt::skip]
    let expected = [
        ["2026-11-03", "T-0005", "HKD", "1200.50", "1200.50"],
        ["2026-11-04", "T-0004", "USD", "-50000.00", "200000.00"],
    ];
    assert_eq!(rows(&from["lines"], &line_fields), expected.map(|row| row.map(String::from)).to_vec(), "{from}");

    // --to and --currency.
    let to =
        pool.run(&["statement", "--account", "HK-OPS", "--to", "2026-11-03", "--currency", "USD", "--format", "json"]);
    let to = to.expect(0).json();
    assert_eq!(
        rows(&to["lines"], &line_fields),
        [["2026-11-02", "T-0001", "USD", "250000.00", "250000.00"].map(String::from)],
        "{to}"
    );

    // JPY statement lines without decimals.
    let jp = pool.run(&["statement", "--account", "JP-OPS", "--format", "json"]).expect(0).json();
    assert_eq!(rows(&jp["lines"], &["amount", "balance"]), [["1000000", "1000000"]], "{jp}");
}

#[test]
fn a_statement_comes_a_page_at_a_time_each_opening_where_the_last_closed() {
    let pool = Pool::seeded();
    let line_fields = ["value_date", "id", "currency", "amount", "balance"];
    let whole = pool.run(&["statement", "--account", "HK-OPS", "--format", "json"]).expect(0).json();
    assert_eq!(whole["next"], serde_json::Value::Null, "{whole}");
    let first = pool.run(&["statement", "--account", "HK-OPS", "--limit", "2", "--format", "json"]).expect(0).json();
    assert_eq!(rows(&first["lines"], &line_fields), rows(&whole["lines"], &line_fields)[..2].to_vec(), "{first}");
    // T-0005 is the second line: HKD, entry 29, its transaction's second posting.
    assert_eq!(first["next"], "2026-11-03.29.1", "{first}");
    assert_eq!(rows(&first["closing"], &["currency", "balance"]), [["HKD", "1200.50"], ["USD", "250000.00"]]);
    let second = pool
        .run(&["statement", "--account", "HK-OPS", "--limit", "2", "--after", "2026-11-03.29.1", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(second["opening"], first["closing"], "{second}");
    assert_eq!(rows(&second["lines"], &line_fields), rows(&whole["lines"], &line_fields)[2..].to_vec(), "{second}");
    assert_eq!((&second["next"], &second["closing"]), (&serde_json::Value::Null, &whole["closing"]), "{second}");
    // The table says where the next page starts.
    let table = pool.run(&["statement", "--account", "HK-OPS", "--limit", "1", "--format", "table"]).expect(0);
    assert!(table.stderr.contains("--after 2026-11-02.25.1"), "{}", table.stderr);
    // A limit or cursor that is not one is invalid input, named.
    for (args, flag) in [
        (["--limit", "0"], "--limit"),
        (["--limit", "many"], "--limit"),
        (["--after", "2026-11-03.29"], "--after"),
        (["--after", "2026-11-31.1.0"], "--after"),
    ] {
        let run = pool.run(&[&["statement", "--account", "HK-OPS"][..], &args[..]].concat()).expect(2);
        assert!(run.stderr.contains(flag), "{flag}: {}", run.stderr);
    }
}

#[test]
fn a_write_of_many_entries_checkpoints_and_a_write_of_one_leaves_the_snapshot_for_later() {
    let pool = Pool::init();
    let snapshot = pool.data().join("index").join("state.snapshot");
    let mut csv = String::from("id,value_date,from,to,currency,amount,purpose,reference,memo\n");
    for i in 0..1100 {
        csv.push_str(&format!("CK-{i:05},2026-11-02,EXT-OFFSHORE,HK-OPS,USD,1.00,current_account,R{i},\n"));
    }
    let report = pool.post(&pool.write("many.csv", &csv), &[]).expect(0).json();
    assert_eq!(report["posted"], 1100, "{report}");
    let written = std::fs::read(&snapshot).expect("1,100 entries behind: the command checkpointed");
    let one = "id,value_date,from,to,currency,amount,purpose,reference,memo\nCK-ONE,2026-11-02,EXT-OFFSHORE,HK-OPS,USD,2.00,current_account,R,\n";
    pool.post(&pool.write("one.csv", one), &[]).expect(0);
    assert_eq!(std::fs::read(&snapshot).unwrap(), written, "one entry behind: the snapshot stays");
    // The next command opens from the snapshot and folds the entry after it.
    assert_eq!(pool.balance("HK-OPS", "USD", None), "1102.00");
}

#[test]
fn balances_filter_by_account_and_currency() {
    let pool = Pool::seeded();
    let row =
        |account: &str, currency: &str, balance: &str| (account.to_string(), currency.to_string(), balance.to_string());

    assert_eq!(
        pool.balances(&["--account", "HK-OPS"]),
        [row("HK-OPS", "CNY", "0.00"), row("HK-OPS", "HKD", "1200.50"), row("HK-OPS", "USD", "200000.00")]
    );
    assert_eq!(pool.balances(&["--account", "HK-OPS", "--currency", "USD"]), [row("HK-OPS", "USD", "200000.00")]);

    let jpy = pool.balances(&["--currency", "JPY"]);
    assert!(jpy.iter().all(|(_, currency, _)| currency == "JPY"), "{jpy:?}");
    assert!(jpy.contains(&row("JP-OPS", "JPY", "1000000")), "{jpy:?}");
    assert!(jpy.contains(&row("EXT-OFFSHORE", "JPY", "-1000000")), "{jpy:?}");
    assert!(!jpy.iter().any(|(account, _, _)| account == "HK-OPS"), "HK-OPS does not hold JPY: {jpy:?}");

    // An unknown account or currency in a filter is invalid input.
    for args in [["--account", "XX-NOPE"], ["--currency", "ABC"]] {
        let run = pool.run(&[&["balances", "--format", "json"][..], &args[..]].concat()).expect(2);
        run.stderr_has(&[args[1]]);
    }
}

// ---------------------------------------------------------------------------
// 2. Exit 2: rejections write nothing
// ---------------------------------------------------------------------------

/// A file the ledger must reject as a whole, with one bad row or line.
struct Rejection {
    name: &'static str,
    /// `csv` or `jsonl`.
    ext: &'static str,
    content: String,
    /// The reason code of the ledger.
    reason: &'static str,
    /// The physical line of the bad row.
    line: u64,
    /// `detail.field` in the JSON report, when the reason has a field.
    field: Option<&'static str>,
    /// Further text standard error must show.
    mentions: &'static [&'static str],
}

fn csv_rejection(
    name: &'static str,
    row: &str,
    reason: &'static str,
    field: Option<&'static str>,
    mentions: &'static [&'static str],
) -> Rejection {
    Rejection { name, ext: "csv", content: csv_file(&[GOOD_CSV_ROW, row]), reason, line: 3, field, mentions }
}

fn jsonl_rejection(
    name: &'static str,
    line: String,
    reason: &'static str,
    field: Option<&'static str>,
    mentions: &'static [&'static str],
) -> Rejection {
    Rejection { name, ext: "jsonl", content: jsonl_file(&[line]), reason, line: 2, field, mentions }
}

/// Posts the case's file; returns what is wrong (empty when the binary behaved).
fn rejection_problems(pool: &Pool, case: &Rejection) -> Vec<String> {
    let mut problems = Vec::new();
    let file_name = format!("{}.{}", case.name, case.ext);
    let file = pool.write(&file_name, &case.content);
    let before = pool.snapshot();
    let run = pool.post(&file, &[]);
    if run.code != 2 {
        problems.push(format!("exit code {} (expected 2); stdout {}; stderr {}", run.code, run.stdout, run.stderr));
    }
    match serde_json::from_str::<Value>(&run.stdout) {
        Err(err) => problems.push(format!("stdout is not JSON ({err}): {}", run.stdout)),
        Ok(report) => {
            if report["posted"] != 0 {
                problems.push(format!("posted is {} (expected 0)", report["posted"]));
            }
            let rejected = report["rejected"].as_array().cloned().unwrap_or_default();
            match rejected.as_slice() {
                [one] => {
                    if one["reason"] != case.reason {
                        problems.push(format!("reason {} (expected {:?}): {one}", one["reason"], case.reason));
                    }
                    if one["line"] != case.line {
                        problems.push(format!("line {} (expected {}): {one}", one["line"], case.line));
                    }
                    if let Some(field) = case.field {
                        if one["detail"]["field"] != field {
                            problems
                                .push(format!("detail.field {} (expected {field:?}): {one}", one["detail"]["field"]));
                        }
                    }
                }
                other => problems.push(format!("expected exactly the bad row in `rejected`, found {other:?}")),
            }
        }
    }
    let line = format!("line {}", case.line);
    for needle in [case.reason, file_name.as_str(), line.as_str()].iter().chain(case.mentions) {
        if !run.stderr.contains(needle) {
            problems.push(format!("stderr lacks {needle:?}: {}", run.stderr.trim_end()));
        }
    }
    let after = pool.snapshot();
    if after != before {
        problems.push(format!("the store changed: {before:?} -> {after:?}"));
    }
    problems
}

#[track_caller]
fn assert_rejections(pool: &Pool, cases: &[Rejection]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let problems = rejection_problems(pool, case);
            (!problems.is_empty())
                .then(|| format!("case {} ({}):\n    {}", case.name, case.reason, problems.join("\n    ")))
        })
        .collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn every_rejection_reason_is_exit_2_with_its_code_and_nothing_written() {
    let pool = Pool::seeded();
    // 128 USD legs and 128 CNY legs: within the 256-posting limit as written, but the FX
    // position legs the ledger adds for the rate make 258.
    let mut fx_legs: Vec<(&str, &str, &str)> = vec![("SH-DMA", "USD", "-1.00"); 128];
    fx_legs.extend(vec![("SH-DMA", "CNY", "7.10"); 128]);
    #[rustfmt::skip]
    let cases = [
        jsonl_rejection("unbalanced",
            jsonl_tx("U-1", "current_account", &[("HK-OPS", "USD", "100.00"), ("EXT-OFFSHORE", "USD", "-99.00")], None),
            "unbalanced", None, &["USD"]),
        csv_rejection("unknown_account", "U-2,2026-11-05,EXT-OFFSHORE,HK-OPZ,USD,10.00,current_account,R,typo",
            "unknown_account", Some("to"), &["HK-OPZ"]),
        csv_rejection("unknown_currency", "U-3,2026-11-05,EXT-OFFSHORE,HK-OPS,ABC,10.00,current_account,R,",
            "unknown_currency", Some("currency"), &["ABC"]),
        csv_rejection("unknown_currency_xxx", "U-4,2026-11-05,EXT-OFFSHORE,HK-OPS,XXX,10.00,current_account,R,",
            "unknown_currency", None, &["XXX"]),
        csv_rejection("currency_not_held", "U-5,2026-11-05,EXT-OFFSHORE,DE-OPS,USD,10.00,current_account,R,",
            "currency_not_held", Some("currency"), &["DE-OPS", "USD"]),
        csv_rejection("currency_not_held_kwd", "U-6,2026-11-05,EXT-OFFSHORE,HK-OPS,KWD,1.234,current_account,R,",
            "currency_not_held", None, &["KWD"]),
        csv_rejection("too_many_decimals_jpy", "U-7,2026-11-05,EXT-OFFSHORE,JP-OPS,JPY,1.5,current_account,R,",
            "too_many_decimals", None, &["JPY", "1.5"]),
        csv_rejection("too_many_decimals_kwd", "U-8,2026-11-05,EXT-OFFSHORE,HK-OPS,KWD,1.2345,current_account,R,",
            "too_many_decimals", None, &["KWD", "1.2345"]),
        csv_rejection("too_many_decimals_usd", "U-9,2026-11-05,EXT-OFFSHORE,HK-OPS,USD,10.001,current_account,R,",
            "too_many_decimals", None, &["USD"]),
        csv_rejection("overdraft_sz_ops", "U-10,2026-11-05,SZ-OPS,EXT-ONSHORE,CNY,5000000.01,current_account,R,",
            "overdraft", Some("amount"), &["SZ-OPS", "CNY"]),
        csv_rejection("overdraft_hk_ops", "U-11,2026-11-05,HK-OPS,EXT-OFFSHORE,USD,200000.01,current_account,R,",
            "overdraft", Some("amount"), &["HK-OPS", "USD"]),
        csv_rejection("overdraft_de_ops", "U-12,2026-11-05,DE-OPS,EXT-OFFSHORE,EUR,0.01,current_account,R,",
            "overdraft", Some("amount"), &["DE-OPS", "EUR"]),
        jsonl_rejection("empty", jsonl_tx("U-13", "other", &[], None), "empty", None, &[]),
        jsonl_rejection("posting_limit_after_fx_legs",
            jsonl_tx("U-14", "fx", &fx_legs, Some(("USD", "CNY", "7.1025"))), "posting_limit", None, &["256"]),
        csv_rejection("id_conflict_amount",
            "T-0001,2026-11-02,EXT-OFFSHORE,HK-OPS,USD,250000.01,current_account,INV-88412,customer receipt",
            "id_conflict", Some("amount"), &["`amount`", "stored 250000.00 USD", "given 250000.01 USD"]),
        csv_rejection("id_conflict_memo",
            "T-0001,2026-11-02,EXT-OFFSHORE,HK-OPS,USD,250000.00,current_account,INV-88412,customer receipt (edited)",
            "id_conflict", Some("memo"), &["`memo`"]),
        jsonl_rejection("fx_rate",
            jsonl_tx("U-15", "fx", &[("SH-DMA", "USD", "-100000.00"), ("SH-DMA", "CNY", "710250.01")],
                Some(("USD", "CNY", "7.1025"))),
            "fx_rate", Some("postings[1].amount"), &["710250.00", "710250.01", "field `postings[1].amount`"]),
        jsonl_rejection("zero_amount",
            jsonl_tx("U-16", "current_account", &[("EXT-OFFSHORE", "USD", "0.00"), ("HK-OPS", "USD", "0.00")], None),
            "zero_amount", Some("postings[0].amount"), &[]),
        csv_rejection("invalid_foreign_debt_without_term",
            "U-17,2026-11-05,EXT-OFFSHORE,SH-DMA,USD,10.00,foreign_debt,LOAN,",
            "invalid", Some("term_days"), &["term_days"]),
        Rejection {
            name: "invalid_term_days_without_foreign_debt",
            ext: "csv",
            content: format!("{CSV_HEADER},term_days,lender\n{GOOD_CSV_ROW},,\n\
                U-18,2026-11-05,EXT-OFFSHORE,SH-DMA,USD,10.00,current_account,R,,90,Some Bank\n"),
            reason: "invalid", line: 3, field: Some("term_days"), mentions: &["term_days"],
        },
    ];
    assert_rejections(&pool, &cases);
}

#[test]
fn posting_limit_for_257_postings() {
    let pool = Pool::seeded();
    let mut legs: Vec<(&str, &str, &str)> = vec![("HK-OPS", "USD", "1.00"); 256];
    legs.push(("EXT-OFFSHORE", "USD", "-256.00"));
    let cases =
        [jsonl_rejection("posting_limit_257", jsonl_tx("P-1", "other", &legs, None), "posting_limit", None, &["256"])];
    assert_rejections(&pool, &cases);
}

#[test]
fn sz_ops_may_go_down_to_its_overdraft_and_not_below() {
    let pool = Pool::init();
    let to_limit =
        pool.write("to_limit.csv", &csv_file(&["S-1,2026-11-05,SZ-OPS,EXT-ONSHORE,CNY,5000000.00,current_account,R,"]));
    pool.post(&to_limit, &[]).expect(0);
    assert_eq!(pool.balance("SZ-OPS", "CNY", None), "-5000000.00");
    let before = pool.snapshot();
    let cent = pool.write("cent.csv", &csv_file(&["S-2,2026-11-05,SZ-OPS,EXT-ONSHORE,CNY,0.01,current_account,R,"]));
    let run = pool.post(&cent, &[]).expect(2);
    assert_eq!(run.json()["rejected"][0]["reason"], "overdraft");
    run.stderr_has(&["overdraft", "SZ-OPS", "line 2"]);
    assert_eq!(pool.snapshot(), before);
    // SZ-OPS has no USD overdraft.
    let usd = pool.write("usd.csv", &csv_file(&["S-3,2026-11-05,SZ-OPS,EXT-ONSHORE,USD,0.01,current_account,R,"]));
    pool.post(&usd, &[]).expect(2).stderr_has(&["overdraft"]);
    assert_eq!(pool.snapshot(), before);
}

#[test]
fn fx_within_half_a_minor_unit_is_accepted() {
    let pool = Pool::seeded();
    // 100000.01 × 7.1025 = 710250.071025: 710250.07 is within half a cent.
    let line = jsonl_tx(
        "FX-0002",
        "fx",
        &[("SH-DMA", "USD", "-100000.01"), ("SH-DMA", "CNY", "710250.07")],
        Some(("USD", "CNY", "7.1025")),
    );
    let file = pool.write("fx2.jsonl", &format!("{line}\n"));
    assert_eq!(pool.post(&file, &[]).expect(0).json()["posted"], 1);
    assert_eq!(pool.balance("SH-DMA", "CNY", None), "1420500.07");
}

#[test]
fn an_atomic_file_lists_every_bad_row_and_writes_nothing() {
    let pool = Pool::init();
    let before = pool.snapshot();
    let run = pool.post(&fixture("several_bad.csv"), &[]).expect(2);
    let report = run.json();
    assert_eq!(report["posted"], 0, "{report}");
    let rejected: Vec<(u64, String)> = report["rejected"]
        .as_array()
        .expect("rejected is an array")
        .iter()
        .map(|item| (item["line"].as_u64().unwrap(), item["reason"].as_str().unwrap().to_string()))
        .collect();
    let expected = [(3, "unknown_account"), (5, "overdraft"), (7, "currency_not_held")];
    assert_eq!(rejected, expected.map(|(line, reason)| (line, reason.to_string())), "{report}");
    run.stderr_has(&["several_bad.csv", "3 bad row", "line 3", "line 5", "line 7", "nothing was written"]);
    for good in ["line 2", "line 4", "line 6"] {
        assert!(!run.stderr.contains(good), "a good row is listed as bad ({good}):\n{}", run.stderr);
    }
    assert_eq!(pool.snapshot(), before);
}

#[test]
fn an_atomic_file_lists_malformed_and_rejected_rows_together() {
    // Line 3 is malformed (no such day), line 5 names an unknown account: both are bad rows.
    let pool = Pool::init();
    let before = pool.snapshot();
    let run = pool.post(&fixture("mixed_bad.csv"), &[]).expect(2);
    let report = run.json();
    let lines: Vec<u64> = report["rejected"].as_array().unwrap().iter().map(|i| i["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 5], "every bad row, not only the malformed ones: {report}");
    run.stderr_has(&["line 3", "value_date", "line 5", "unknown_account"]);
    assert_eq!(pool.snapshot(), before);
}

#[test]
fn partial_posts_the_good_rows_and_reports_the_bad_ones() {
    let pool = Pool::init();
    let run = pool.post(&fixture("several_bad.csv"), &["--partial"]).expect(2);
    let report = run.json();
    assert_eq!(report["posted"], 3, "{report}");
    assert_eq!(report["duplicates"], 0, "{report}");
    let rejected = rows(&report["rejected"], &["id", "reason"]);
    assert_eq!(rejected, [["B-1", "unknown_account"], ["B-2", "overdraft"], ["B-3", "currency_not_held"]], "{report}");
    let lines: Vec<&Value> = report["rejected"].as_array().unwrap().iter().map(|item| &item["line"]).collect();
    assert_eq!(lines, [&json!(3), &json!(5), &json!(7)]);
    assert_eq!(pool.balance("SG-OPS", "USD", None), "600.00");
    assert_eq!(pool.balance("JP-OPS", "JPY", None), "5000");
    assert_eq!(pool.balance("DE-OPS", "EUR", None), "0.00");
    let after = pool.snapshot();
    assert_eq!(after.entries, INIT_ENTRIES + 3);

    // Again: the good rows are duplicates now, the bad ones still rejected; nothing written.
    let again = pool.post(&fixture("several_bad.csv"), &["--partial"]).expect(2).json();
    assert_eq!((again["posted"].clone(), again["duplicates"].clone()), (json!(0), json!(3)), "{again}");
    assert_eq!(again["rejected"].as_array().map(Vec::len), Some(3), "{again}");
    assert_eq!(pool.snapshot(), after);
}

#[test]
fn partial_reports_malformed_rows_too() {
    let pool = Pool::init();
    let report = pool.post(&fixture("mixed_bad.csv"), &["--partial"]).expect(2).json();
    assert_eq!(report["posted"], 2, "{report}");
    let rejected = rows(&report["rejected"], &["reason"]);
    assert_eq!(rejected, [["malformed"], ["unknown_account"]], "{report}");
    assert_eq!(report["rejected"][0]["line"], 3, "{report}");
    assert_eq!(report["rejected"][0]["field"], "value_date", "{report}");
    assert_eq!(report["rejected"][1]["line"], 5, "{report}");
    assert_eq!(pool.balance("SG-OPS", "USD", None), "600.00");
    assert_eq!(pool.snapshot().entries, INIT_ENTRIES + 2);
}

#[test]
fn malformed_input_names_the_line_and_the_field() {
    let pool = Pool::seeded();
    let before = pool.snapshot();
    let float = json!({
        "id": "M-2",
        "value_date": "2026-11-05",
        "purpose": "current_account",
        "postings": [
            {"account": "EXT-OFFSHORE", "currency": "USD", "amount": "-100.50"},
            {"account": "HK-OPS", "currency": "USD", "amount": 100.5},
        ],
    });
    // (file, content, line, field, further text on stderr)
    #[rustfmt::skip]
    let cases: [(&str, String, u64, &str, &str); 6] = [
        ("bad_date.csv", csv_file(&[GOOD_CSV_ROW, "M-1,2026-02-30,EXT-OFFSHORE,HK-OPS,USD,10.00,current_account,R,"]),
            3, "value_date", "2026-02-30"),
        ("bad_date_format.csv",
            csv_file(&[GOOD_CSV_ROW, "M-1,05/11/2026,EXT-OFFSHORE,HK-OPS,USD,10.00,current_account,R,"]),
            3, "value_date", "05/11/2026"),
        ("float_amount.jsonl", jsonl_file(&[float.to_string()]), 2, "postings[1].amount", "JSON number"),
        ("unknown_purpose.csv", csv_file(&[GOOD_CSV_ROW, "M-3,2026-11-05,EXT-OFFSHORE,HK-OPS,USD,10.00,salary,R,"]),
            3, "purpose", "salary"),
        ("thousands.csv", csv_file(&[GOOD_CSV_ROW, "M-4,2026-11-05,EXT-OFFSHORE,HK-OPS,USD,\"1,000.00\",other,R,"]),
            3, "amount", "1,000.00"),
        ("unknown_purpose.jsonl",
            jsonl_file(&[jsonl_tx("M-5", "gift", &[("EXT-OFFSHORE", "USD", "-1.00"), ("HK-OPS", "USD", "1.00")],
                None)]),
            2, "purpose", "gift"),
    ];
    for (name, content, line, field, mention) in cases {
        let file = pool.write(name, &content);
        let run = pool.post(&file, &[]).expect(2);
        let report = run.json();
        assert_eq!(report["posted"], 0, "{name}: {report}");
        let rejected = report["rejected"].as_array().expect("rejected is an array");
        assert_eq!(rejected.len(), 1, "{name}: only the bad row: {report}");
        assert_eq!(rejected[0]["line"], line, "{name}: {report}");
        assert_eq!(rejected[0]["field"], field, "{name}: {report}");
        run.stderr_has(&[name, &format!("line {line}"), &format!("`{field}`"), mention]);
        assert_eq!(pool.snapshot(), before, "{name}");
    }
}

#[test]
fn reposting_the_same_files_is_idempotent() {
    let pool = Pool::seeded();
    let before = pool.snapshot();
    let export_before = std::fs::read(pool.export("before.jsonl")).unwrap();
    for (name, n) in [("contract_example.csv", 1), ("transactions.csv", 4), ("contract_fx.jsonl", 1)] {
        let report = pool.post(&fixture(name), &[]).expect(0).json();
        assert_eq!(report["posted"], 0, "{name}: {report}");
        assert_eq!(report["duplicates"], n, "{name}: {report}");
        assert_eq!(report["rejected"], json!([]), "{name}: {report}");
    }
    assert_eq!(pool.snapshot(), before);
    assert_eq!(std::fs::read(pool.export("after.jsonl")).unwrap(), export_before, "the journal is unchanged");
}

#[test]
fn init_refuses_an_existing_store() {
    let pool = Pool::seeded();
    let before = pool.snapshot();
    pool.run(&["init", "--config", EXAMPLE_GROUP, "--format", "json"]).expect(2).stderr_has(&["already"]);
    assert_eq!(pool.snapshot(), before);
}

#[test]
fn init_with_an_unknown_key_names_the_key_path_and_the_file() {
    let pool = Pool::empty();
    let example = std::fs::read_to_string(EXAMPLE_GROUP).unwrap();
    assert_eq!(example.matches("[group]\n").count(), 1);
    let broken = pool.write("broken-group.toml", &example.replacen("[group]\n", "[group]\ncolour = \"red\"\n", 1));
    pool.run(&["init", "--config", text(&broken), "--format", "json"]).expect(2).stderr_has(&[
        text(&broken),
        "group.colour",
        "unknown key",
    ]);
    // No store was created.
    pool.run(&["balances", "--format", "json"]).expect(1);
}

#[test]
fn read_only_refuses_every_writing_command() {
    let pool = Pool::seeded();
    let before = pool.snapshot();
    let new_rows = pool.write("new.csv", &csv_file(&["R-1,2026-11-05,EXT-OFFSHORE,HK-OPS,USD,1.00,other,R,"]));
    let cases: [&[&str]; 3] = [
        &["--read-only", "post", text(&new_rows), "--report", "json"],
        &["--read-only", "post", text(&new_rows), "--partial", "--report", "json"],
        &["--read-only", "init", "--config", EXAMPLE_GROUP, "--format", "json"],
    ];
    for args in cases {
        pool.run(args).expect(2).stderr_has(&["read-only"]);
        assert_eq!(pool.snapshot(), before, "{args:?}");
    }
    // On a folder without a store, a read-only init creates nothing.
    let empty = Pool::empty();
    empty.run(&["--read-only", "init", "--config", EXAMPLE_GROUP]).expect(2).stderr_has(&["read-only"]);
    empty.run(&["balances", "--format", "json"]).expect(1);
    // Reading works read-only.
    let balances = pool.run(&["--read-only", "balances", "--account", "HK-OPS", "--format", "json"]).expect(0).json();
    assert_eq!(balances["balances"].as_array().map(Vec::len), Some(3), "{balances}");
    assert_eq!(pool.run(&["--read-only", "audit", "verify", "--format", "json"]).expect(0).json()["ok"], true);
}

/// Runs each (args, flag) case and expects exit 2 with the flag and the expected shape named on stderr.
#[track_caller]
fn assert_bad_date_flags(pool: &Pool, cases: &[(&[&str], &str)]) {
    let mut failures = Vec::new();
    for (args, flag) in cases {
        let run = pool.run(&[args, &["--format", "json"][..]].concat());
        if run.code != 2 || !run.stderr.contains(flag) || !run.stderr.contains("YYYY-MM-DD") || !run.stdout.is_empty() {
            failures.push(format!(
                "{args:?}: exit {}, stderr {:?}, stdout {} bytes",
                run.code,
                run.stderr,
                run.stdout.len()
            ));
        }
    }
    assert!(failures.is_empty(), "expected exit 2 naming the flag:\n{}", failures.join("\n"));
}

#[test]
fn bad_dates_in_flags_are_invalid_input() {
    let pool = Pool::seeded();
    assert_bad_date_flags(
        &pool,
        &[
            (&["balances", "--as-of", "2026-11-31"], "--as-of"),
            (&["balances", "--as-of", "02/11/2026"], "--as-of"),
            (&["balances", "--as-of", "yesterday"], "--as-of"),
            (&["balances", "--as-of", ""], "--as-of"),
            (&["statement", "--account", "HK-OPS", "--from", "2026-13-01"], "--from"),
            (&["statement", "--account", "HK-OPS", "--to", "2026-11-00"], "--to"),
        ],
    );
}

#[test]
fn dates_in_flags_are_strict_iso_like_dates_in_files() {
    // Transaction files reject these (`cashpool_files::cell::date`); the flags should too.
    let pool = Pool::seeded();
    assert_bad_date_flags(
        &pool,
        &[
            (&["balances", "--as-of", "2026-1-5"], "--as-of"),
            (&["balances", "--as-of", "+2026-11-05"], "--as-of"),
            (&["balances", "--as-of", " 2026-11-05"], "--as-of"),
        ],
    );
}

// ---------------------------------------------------------------------------
// 3. Exit 1: the environment
// ---------------------------------------------------------------------------

#[test]
fn reading_commands_without_a_store_fail_with_exit_1() {
    let pool = Pool::empty();
    let journal = pool.files.path().join("no-such-journal.jsonl");
    let missing = pool.files.path().join("no-such-folder");
    let cases: [(&Path, &[&str]); 7] = [
        (pool.data(), &["balances", "--format", "json"]),
        (pool.data(), &["statement", "--account", "HK-OPS", "--format", "json"]),
        (pool.data(), &["audit", "verify", "--format", "json"]),
        (pool.data(), &["audit", "replay", "--format", "json"]),
        (pool.data(), &["audit", "export", "--format", "jsonl"]),
        (missing.as_path(), &["balances", "--format", "json"]),
        (pool.data(), &["audit", "verify", "--journal", text(&journal), "--format", "json"]),
    ];
    for (data, args) in cases {
        let run = cashpool(data, args).expect(1);
        if args.contains(&"--journal") {
            run.stderr_has(&["no-such-journal.jsonl"]);
        } else {
            run.stderr_has(&["no store", "init"]);
        }
    }
    assert!(!missing.exists(), "a reading command created the store folder");
    assert_eq!(std::fs::read_dir(pool.data()).unwrap().count(), 0, "a reading command wrote into the folder");
}

#[test]
fn a_writer_on_a_store_held_by_another_writer_is_exit_1_and_readers_are_not_held_up() {
    let pool = Pool::seeded();
    let new_rows = pool.write("new.csv", &csv_file(&["H-1,2026-11-05,EXT-OFFSHORE,HK-OPS,USD,1.00,other,R,"]));
    let balances = pool.run(&["balances", "--format", "json"]).expect(0).stdout;
    {
        let _held = cashpool_ledger::storage::SledStorage::open(pool.data()).expect("the test process opens the store");
        let pid = format!("pid {}", std::process::id());
        // A writer (and `audit verify --exclusive`, which takes the writer's lock) waits, then names the holder.
        let cases: [&[&str]; 2] = [
            &["--wait", "0", "post", text(&new_rows), "--report", "json"],
            &["--wait", "0", "audit", "verify", "--exclusive"],
        ];
        for args in cases {
            pool.run(args).expect(1).stderr_has(&["held by another writer", &pid, "waited 0 s", "--wait"]);
        }
        // Readers do not need the store itself: same answers as before it was held.
        assert_eq!(pool.run(&["--wait", "0", "balances", "--format", "json"]).expect(0).stdout, balances);
        let verify = pool.run(&["--wait", "0", "audit", "verify", "--format", "json"]).expect(0).json();
        assert_eq!(
            (verify["ok"].as_bool(), verify["entries"].as_u64()),
            (Some(true), Some(SEEDED_ENTRIES)),
            "{verify}"
        );
    }
    // Released: the store is intact and the refused post wrote nothing.
    assert_eq!(pool.snapshot().entries, SEEDED_ENTRIES);
    assert_eq!(pool.balance("HK-OPS", "USD", None), "200000.00");
}

// ---------------------------------------------------------------------------
// 4. Exit 3: exported journals, good and tampered
// ---------------------------------------------------------------------------

#[test]
fn an_export_verifies_and_replays_to_the_store_digest() {
    let pool = Pool::seeded();
    let store = pool.snapshot();
    let path = pool.export("journal.jsonl");
    let exported = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = exported.lines().collect();
    assert_eq!(lines.len() as u64, SEEDED_ENTRIES);
    for (idx, line) in lines.iter().enumerate() {
        let value: Value = serde_json::from_str(line).unwrap_or_else(|err| panic!("line {}: {err}", idx + 1));
        assert_eq!(value["seq"], idx as u64 + 1, "{line}");
    }
    // The same export on standard output.
    let stdout = pool.run(&["audit", "export", "--format", "jsonl"]).expect(0).stdout;
    assert_eq!(stdout, exported);

    let verify = pool.run(&["audit", "verify", "--journal", text(&path), "--format", "json"]).expect(0).json();
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(verify["entries"], lines.len() as u64, "{verify}");
    assert_eq!(verify["head"], store.head.as_str(), "{verify}");

    let replay = pool.run(&["audit", "replay", "--journal", text(&path), "--format", "json"]).expect(0).json();
    assert_eq!(replay["state_digest"], store.state_digest.as_str(), "{replay}");
    assert_eq!(replay["entries"], SEEDED_ENTRIES, "{replay}");
    let on_store = pool.run(&["audit", "replay", "--exclusive", "--format", "json"]).expect(0).json();
    assert_eq!(on_store["matches_store"], true, "{on_store}");
    assert_eq!(on_store["state_digest"], replay["state_digest"]);

    // The journal alone needs no store.
    let nowhere = Pool::empty();
    let alone = nowhere.run(&["audit", "replay", "--journal", text(&path), "--format", "json"]).expect(0).json();
    assert_eq!(alone["state_digest"], store.state_digest.as_str());
}

type Tamper = fn(&[String]) -> String;

fn joined(lines: &[String]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}

/// The journal with `from` replaced by `to` in entry `seq` (`from` must occur in it).
fn edited(lines: &[String], seq: usize, from: &str, to: &str) -> Vec<String> {
    let mut lines = lines.to_vec();
    assert!(lines[seq - 1].contains(from), "tamper anchor {from:?} not in entry {seq}: {}", lines[seq - 1]);
    lines[seq - 1] = lines[seq - 1].replace(from, to);
    lines
}

/// The line with its `hash` field recomputed from its (edited) content.
fn restate_hash(line: &str) -> String {
    let mut parsed: ExportLineV2 = serde_json::from_str(line).expect("an export line");
    let entry = entry_of_line(&parsed).expect("an entry");
    parsed.hash = entry.hash();
    serde_json::to_string(&parsed).expect("serialize an export line")
}

#[test]
fn tampered_exports_fail_at_the_first_bad_entry() {
    let pool = Pool::seeded();
    let path = pool.export("journal.jsonl");
    let good: Vec<String> = std::fs::read_to_string(&path).unwrap().lines().map(String::from).collect();
    assert_eq!(good.len() as u64, SEEDED_ENTRIES);
    // (what, tampering, first bad seq, why)
    #[rustfmt::skip]
    let cases: [(&str, Tamper, u64, &str); 11] = [
        ("amount of entry 25", |l| joined(&edited(l, 25, r#""amount":"25000000""#, r#""amount":"25000100""#)), 25,
            "its content no longer matches its stated hash"),
        ("memo of entry 25", |l| joined(&edited(l, 25, "customer receipt", "customer refund")), 25,
            "its content no longer matches its stated hash"),
        ("value date of entry 28",
            |l| joined(&edited(l, 28, r#""value_date":"2026-11-04""#, r#""value_date":"2026-11-05""#)), 28,
            "its content no longer matches its stated hash"),
        ("recorded_at of entry 27", |l| joined(&edited(l, 27, "2026-11-02T09:00:00", "2026-11-01T09:00:00")), 27,
            "its content no longer matches its stated hash"),
        ("amount of entry 27 with its hash restated", |l| {
            let mut lines = edited(l, 27, "1000000", "1000001");
            lines[26] = restate_hash(&lines[26]);
            joined(&lines)
        }, 28, "entry 27 is self-consistent, but entry 28's prev_hash names the original entry 27"),
        ("drop entry 26", |l| joined(&[&l[..25], &l[26..]].concat()), 26,
            "line 26 now holds entry 27 where entry 26 is expected"),
        ("swap entries 26 and 27", |l| { let mut v = l.to_vec(); v.swap(25, 26); joined(&v) }, 26,
            "line 26 holds entry 27 where entry 26 is expected"),
        ("copy of entry 26 after entry 28", |l| {
            let mut v = l.to_vec(); v.insert(28, l[25].clone()); joined(&v)
        }, 29, "entries 1-28 are intact; line 29 holds entry 26 where entry 29 is expected"),
        ("last line truncated in the middle", |l| {
            let mut out = joined(&l[..l.len() - 1]);
            let last = &l[l.len() - 1];
            out.push_str(&last[..last.len() / 2]);
            out
        }, 30, "the last entry (30) is not a complete JSON object"),
        ("garbage line after entry 26", |l| {
            let mut v = l.to_vec(); v.insert(26, "this is not a journal entry".into()); joined(&v)
        }, 27, "entries 1-26 are intact; entry 27 is expected where the garbage is"),
        ("garbage JSON object after entry 26", |l| {
            let mut v = l.to_vec(); v.insert(26, r#"{"seq":27}"#.into()); joined(&v)
        }, 27, "entries 1-26 are intact; the object at line 27 is not a journal entry"),
    ];
    let mut failures = Vec::new();
    for (what, tamper, expected, why) in cases {
        let file = pool.write("tampered.jsonl", &tamper(&good));
        let mut problems = Vec::new();
        let verify = pool.run(&["audit", "verify", "--journal", text(&file), "--format", "json"]);
        if verify.code != 3 {
            problems.push(format!("verify exited {} (expected 3): {}{}", verify.code, verify.stdout, verify.stderr));
        }
        match serde_json::from_str::<Value>(&verify.stdout) {
            Ok(report) => {
                if report["ok"] != false || report["first_bad_seq"] != expected {
                    problems.push(format!("verify: expected ok false, first_bad_seq {expected} ({why}); got {report}"));
                }
                if report["entries"] != expected - 1 {
                    problems.push(format!("verify: expected entries {} (the good ones); got {report}", expected - 1));
                }
                if report["reason"].as_str().is_none_or(str::is_empty) {
                    problems.push(format!("verify: no reason: {report}"));
                }
            }
            Err(err) => problems.push(format!("verify: stdout is not JSON ({err}): {}", verify.stdout)),
        }
        let replay = pool.run(&["audit", "replay", "--journal", text(&file), "--format", "json"]);
        if replay.code != 3 {
            problems.push(format!("replay exited {} (expected 3): {}{}", replay.code, replay.stdout, replay.stderr));
        }
        match serde_json::from_str::<Value>(&replay.stdout) {
            Ok(report) if report["first_bad_seq"] == expected => {}
            Ok(report) => problems.push(format!("replay: expected first_bad_seq {expected}; got {report}")),
            Err(err) => problems.push(format!("replay: stdout is not JSON ({err}): {}", replay.stdout)),
        }
        if !problems.is_empty() {
            failures.push(format!("{what}:\n    {}", problems.join("\n    ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} tamperings:\n{}", failures.len(), cases.len(), failures.join("\n"));
    // The untouched export still verifies: the cases did not depend on a broken original.
    pool.run(&["audit", "verify", "--journal", text(&path), "--format", "json"]).expect(0);
}

// ---------------------------------------------------------------------------
// 5-6. Determinism and the demo
// ---------------------------------------------------------------------------

#[test]
fn the_same_inputs_give_byte_identical_journals() {
    let first = Pool::seeded();
    let second = Pool::seeded();
    let export = |pool: &Pool| std::fs::read(pool.export("journal.jsonl")).unwrap();
    assert_eq!(export(&first), export(&second), "the exports differ");
    assert_eq!(first.snapshot(), second.snapshot());
}

#[test]
fn the_demo_is_audited_and_deterministic() {
    let demo = |seed: &str| {
        let dir = tempfile::tempdir().unwrap();
        let report =
            cashpool(dir.path(), &["demo", "--days", "3", "--seed", seed, "--format", "json"]).expect(0).json();
        assert_eq!(report["audit"]["ok"], true, "{report}");
        assert_eq!(report["replay"]["matches_store"], true, "{report}");
        assert_eq!(report["days"], 3, "{report}");
        // The store it left behind verifies on its own and gives the same digest.
        let replay = cashpool(dir.path(), &["audit", "replay", "--format", "json"]).expect(0).json();
        assert_eq!(replay["state_digest"], report["replay"]["state_digest"], "{replay}");
        // A second demo on the same folder is refused.
        cashpool(dir.path(), &["demo", "--days", "3", "--seed", seed, "--format", "json"]).expect(2);
        let export = cashpool(dir.path(), &["audit", "export", "--format", "jsonl"]).expect(0).stdout;
        (report["replay"]["state_digest"].as_str().expect("a digest").to_string(), export)
    };
    let (first, first_export) = demo("7");
    let (second, second_export) = demo("7");
    assert_eq!(second, first, "same seed, same state");
    assert!(second_export == first_export, "same seed, byte-identical journals");
    assert_ne!(demo("8").0, first, "another seed, another state");
}

/// A store that exists but holds no ledger (created, never initialised): the
/// ledger says it is empty and names no command; the CLI says what to do.
#[test]
fn an_empty_store_is_refused_with_the_command_that_fills_it() {
    let pool = Pool::empty();
    drop(cashpool_ledger::storage::SledStorage::open(pool.data()).expect("an empty store"));
    pool.run(&["balances", "--format", "json"])
        .expect(1)
        .stderr_has(&["the store is empty: run `cashpool init --config FILE` first"]);
}

/// `init` on a store that holds a ledger: exit 2, the ledger's refusal and the
/// CLI's advice, and the store unchanged.
#[test]
fn init_on_an_initialised_store_is_refused_and_changes_nothing() {
    let pool = Pool::seeded();
    let before = pool.snapshot();
    pool.run(&["init", "--config", EXAMPLE_GROUP, "--format", "json"])
        .expect(2)
        .stderr_has(&["the store already holds a ledger; choose an empty --data folder"]);
    assert_eq!(pool.snapshot(), before);
}

/// `cashpool amend` and `cashpool accounts` (docs/AMENDMENTS.md): an amendment is journaled and
/// shown; a bad one is exit 2 naming the file, the key path and the line, and writes nothing;
/// `--read-only` refuses it.
#[test]
fn amend_journals_a_dated_amendment_and_accounts_shows_it() {
    let pool = Pool::seeded();
    let before = pool.snapshot();
    let bad = pool.write("bad.toml", "[[entity]]\nid = \"LGT-SZ\"\nnet_assets = 12\n");
    pool.run(&["amend", text(&bad), "--effective", "2026-12-01"]).expect(2).stderr_has(&[
        "bad.toml",
        "amendment_invalid",
        "entity[0].net_assets",
        "(line 3)",
        "nothing was written",
    ]);
    let early = pool.write("early.toml", "[[entity]]\nid = \"LGT-SZ\"\nnet_assets = \"130000000.00\"\n");
    pool.run(&["amend", text(&early), "--effective", "2026-11-04"])
        .expect(2)
        .stderr_has(&["--effective", "2026-11-05"]);
    pool.run(&["--read-only", "amend", text(&early), "--effective", "2026-12-01"]).expect(2).stderr_has(&["read-only"]);
    pool.run(&["amend", text(&early), "--effective", "12/01/2026"]).expect(2).stderr_has(&["--effective"]);
    assert_eq!(pool.snapshot(), before);
    let join = pool.write(
        "join.toml",
        "[[entity]]\nid = \"LGT-FR\"\nname = \"Lingang France\"\nresidence = \"offshore\"\n\n\
         [[account]]\nid = \"FR-OPS\"\nentity = \"LGT-FR\"\nkind = \"osa\"\nzone = \"offshore\"\ncurrencies = [\"EUR\"]\n\n\
         [[entity]]\nid = \"LGT-SZ\"\nnet_assets = \"130000000.00\"\n",
    );
    let out = pool.run(&["amend", text(&join), "--effective", "2026-12-01", "--format", "json"]).expect(0).json();
    assert_eq!(out["effective"], "2026-12-01", "{out}");
    assert_eq!(out["changes"]["opened"], json!(["FR-OPS"]), "{out}");
    assert_eq!(out["changes"]["joined"], json!(["LGT-FR"]), "{out}");
    assert_eq!(out["changes"]["changed"], json!(["entity LGT-SZ net_assets"]), "{out}");
    // The amendment, FR-OPS and LGT-FR's intercompany account: three entries.
    assert_eq!(pool.snapshot().entries, SEEDED_ENTRIES + 3);
    let accounts = pool.run(&["accounts", "--as-of", "2026-11-30", "--format", "json"]).expect(0).json();
    let fr = accounts["accounts"].as_array().unwrap().iter().find(|a| a["id"] == "FR-OPS").cloned().unwrap();
    assert_eq!(
        (fr["status"].clone(), fr["opened"].clone(), fr["closed"].clone()),
        (json!("not_yet_open"), json!("2026-12-01"), Value::Null)
    );
    assert_eq!(accounts["amendments"][0]["effective"], "2026-12-01", "{accounts}");
    let on = pool.run(&["accounts", "--as-of", "2026-12-01", "--format", "json"]).expect(0).json();
    let fr = on["accounts"].as_array().unwrap().iter().find(|a| a["id"] == "FR-OPS").cloned().unwrap();
    assert_eq!(fr["status"], "open");
    let early_post = pool.write("fr.csv", &csv_file(&["FR-1,2026-11-30,EXT-OFFSHORE,FR-OPS,EUR,1.00,other,R,"]));
    let report = pool.post(&early_post, &[]).expect(2).json();
    assert_eq!(report["rejected"][0]["reason"], "account_closed", "{report}");
    let table = pool.run(&["accounts", "--as-of", "2026-12-01", "--format", "table"]).expect(0);
    for needle in ["FR-OPS", "amendment in force from 2026-12-01", "accounts opened: FR-OPS"] {
        assert!(table.stdout.contains(needle), "accounts lacks {needle:?}:\n{}", table.stdout);
    }
}
