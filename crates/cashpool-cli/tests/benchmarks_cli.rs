//! End-to-end tests of the `cashpool` binary for benchmark fixings and the
//! interest rules that price on them (docs/SWEEPS.md, "Interest as treasuries
//! set it"; docs/GUIDE.md): `benchmarks import`, `benchmarks`, and what
//! `interest` shows of the rates it applied.
//!
//! The store: the example group with one more `[[interest]]` row, LGT-HK's own
//! USD terms from 2025-11-01, SOFR − 0.25 (floor 0) for a lender and SOFR +
//! 1.50 for a borrower, and the published fixings of
//! `examples/benchmarks-2026.csv`. LGT-HK's position: USD 2,000,000.00 lent
//! to the pool from 2025-11-03 (3,000,000.00 received on HK-OPS, swept to its
//! target of 1,000,000.00).

mod common;
use common::{items, string, text, Run};
use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

const EXAMPLE_GROUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lingang-group.toml");
const BENCHMARKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/benchmarks-2026.csv");

/// LGT-HK's own USD row (it is `interest[6]`, after the example's six).
const HK_SOFR_ROW: &str = "\n[[interest]]\ncurrency = \"USD\"\nentity = \"LGT-HK\"\neffective = \"2025-11-01\"\n\
    day_count = \"ACT/360\"\nbenchmark = \"SOFR\"\ncredit_margin = \"-0.25\"\ndebit_margin = \"1.50\"\ncredit_floor = \"0\"\n";

fn cashpool(data: &Path, args: &[&str]) -> Run {
    common::cashpool_as("benchmarks-test", data, args)
}

struct Pool {
    store: TempDir,
    files: TempDir,
}

impl Pool {
    /// The example group with LGT-HK's SOFR row, initialised; fixings imported when `fixings`.
    fn new(fixings: bool) -> Pool {
        let pool = Pool { store: TempDir::new().unwrap(), files: TempDir::new().unwrap() };
        let config = std::fs::read_to_string(EXAMPLE_GROUP).unwrap() + HK_SOFR_ROW;
        let config = pool.write("group.toml", &config);
        pool.run(&["init", "--config", text(&config), "--format", "json"]).expect(0);
        if fixings {
            pool.run(&["benchmarks", "import", BENCHMARKS, "--format", "json"]).expect(0);
        }
        let receipts = pool.write(
            "receipts.csv",
            "id,value_date,from,to,currency,amount,purpose,reference,memo\n\
             R-1,2025-11-03,EXT-OFFSHORE,HK-OPS,USD,3000000.00,current_account,INV-1,customer receipt\n",
        );
        pool.run(&["post", text(&receipts), "--report", "json"]).expect(0);
        pool.run(&["sweep", "--date", "2025-11-03", "--format", "json"]).expect(0);
        pool
    }

    fn data(&self) -> &Path {
        self.store.path()
    }

    fn run(&self, args: &[&str]) -> Run {
        cashpool(self.data(), args)
    }

    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.files.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// (entries, head) of the journal.
    fn head(&self) -> (u64, String) {
        let verify = self.run(&["audit", "verify", "--format", "json"]).expect(0).json();
        (verify["entries"].as_u64().unwrap(), string(&verify, "head"))
    }
}

#[test]
fn import_is_idempotent_lists_by_series_and_refuses_a_changed_fixing_naming_its_line() {
    let pool = Pool::new(false);
    let first = pool.run(&["benchmarks", "import", BENCHMARKS, "--format", "json"]).expect(0).json();
    let rows = first["rows"].as_u64().unwrap();
    assert_eq!((first["imported"].as_u64(), first["skipped"].as_u64()), (Some(rows), Some(0)));
    let head = pool.head();
    let again = pool.run(&["benchmarks", "import", BENCHMARKS, "--format", "json"]).expect(0).json();
    assert_eq!((again["imported"].as_u64(), again["skipped"].as_u64()), (Some(0), Some(rows)));
    assert_eq!(pool.head(), head, "a re-import writes nothing");

    let listed =
        pool.run(&["benchmarks", "--series", "LPR-1Y", "--from", "2025-12-01", "--format", "json"]).expect(0).json();
    let lpr: Vec<(String, String)> =
        items(&listed, "benchmarks").iter().map(|row| (string(row, "date"), string(row, "rate_percent"))).collect();
    assert_eq!(lpr, [("2025-12-22".to_string(), "3.00".to_string()), ("2026-01-20".into(), "3.00".into())]);
    pool.run(&["benchmarks", "--series", "SOFT"]).expect(2).stderr_has(&["no fixing of \"SOFT\"", "SOFR"]);

    let changed = pool.write("changed.csv", "# a correction\ndate,series,rate_percent\n2026-01-20,LPR-1Y,2.90\n");
    pool.run(&["benchmarks", "import", text(&changed)]).expect(2).stderr_has(&[
        &format!("{}:line 3: rate_percent:", changed.display()),
        "the LPR-1Y fixing of 2026-01-20 is already 3.00 %; refusing to replace it with 2.90 %",
        "nothing was written",
    ]);
    let fraction = pool.write("fraction.csv", "date,series,rate\n2026-01-20,LPR-1Y,0.03\n");
    pool.run(&["benchmarks", "import", text(&fraction)])
        .expect(2)
        .stderr_has(&[&format!("{}:line 1:", fraction.display()), "the column `rate` does not say the fixing's unit"]);
    // A benchmarks file given to `rates import` says where it belongs.
    pool.run(&["rates", "import", BENCHMARKS]).expect(2).stderr_has(&["import it with `cashpool benchmarks import`"]);
    pool.run(&["--read-only", "benchmarks", "import", BENCHMARKS]).expect(2);
    // Listing is a reading: it works read-only, the CSV with the JSON's columns.
    let csv = pool.run(&["--read-only", "benchmarks", "--series", "SOFR", "--format", "csv"]).expect(0);
    assert!(csv.stdout.starts_with("series,date,rate_percent\nSOFR,2025-10-20,4.16\n"), "{}", csv.stdout);
    assert_eq!(pool.head(), head, "no refused import wrote");
}

#[test]
fn interest_shows_each_fixing_margin_and_rate_it_applied() {
    let pool = Pool::new(true);
    let json =
        pool.run(&["interest", "--from", "2025-11-03", "--to", "2025-11-10", "--format", "json"]).expect(0).json();
    // SOFR 4.13, 4.00, 3.91, 3.92, 3.93 (03 to 07), 3.93 again over the weekend, less 0.25:
    // 3.88 + 3.75 + 3.66 + 3.67 + 3.68 × 3 = 26.00 percent-days; 2,000,000.00 × 26.00 % / 360 = 1,444.44.
    let hk = items(&json, "accruals").into_iter().find(|a| a["entity"] == "LGT-HK").expect("LGT-HK accrues");
    assert_eq!((string(&hk, "currency"), string(&hk, "interest")), ("USD".into(), "1444.44".into()));
    let rates = items(&json, "rates").into_iter().find(|r| r["entity"] == "LGT-HK").expect("its rates");
    let periods = items(&rates, "periods");
    let shown: Vec<[String; 6]> = periods
        .iter()
        .map(|p| ["from", "to", "fixing_date", "fixing", "credit_margin", "credit_rate"].map(|key| string(p, key)))
        .collect();
    let row =
        |from: &str, to: &str, fixing: &str, rate: &str| [from, to, from, fixing, "-0.25", rate].map(String::from);
    assert_eq!(
        shown,
        [
            row("2025-11-03", "2025-11-04", "4.13", "3.88"),
            row("2025-11-04", "2025-11-05", "4.00", "3.75"),
            row("2025-11-05", "2025-11-06", "3.91", "3.66"),
            row("2025-11-06", "2025-11-07", "3.92", "3.67"),
            row("2025-11-07", "2025-11-10", "3.93", "3.68"),
        ]
    );
    let first = &periods[0];
    assert_eq!(
        [
            &first["rule"],
            &first["rule_entity"],
            &first["basis"],
            &first["series"],
            &first["credit_floor"],
            &first["debit_rate"]
        ],
        [
            &Value::from("interest[6]"),
            &Value::from("LGT-HK"),
            &Value::from("benchmark"),
            &Value::from("SOFR"),
            &Value::from("0.00"),
            &Value::from("5.63")
        ]
    );
    assert_eq!(first["credit_bound"], Value::Null);
    // The table shows the same, under the accruals.
    let table = pool.run(&["interest", "--from", "2025-11-03", "--to", "2025-11-10", "--format", "table"]).expect(0);
    assert!(table.stdout.contains("rates applied, percent per annum"), "{}", table.stdout);
    assert!(table.stdout.contains("SOFR 3.93 of 2025-11-07"), "{}", table.stdout);
    assert!(table.stdout.contains("-0.25 = 3.68"), "{}", table.stdout);
}

#[test]
fn a_missing_fixing_refuses_the_run_and_writes_nothing() {
    let pool = Pool::new(true);
    let head = pool.head();
    // The example file's SOFR ends on 2025-11-12: by 2025-11-27 it is 15 days old (the default allows 14).
    pool.run(&["interest", "--from", "2025-11-03", "--to", "2025-12-01", "--settle"]).expect(2).stderr_has(&[
        "missing_fixing: no SOFR fixing for 2025-11-27",
        "LGT-HK's USD position",
        "the latest on or before it is of 2025-11-12",
        "cashpool benchmarks import",
        "nothing was written",
    ]);
    assert_eq!(pool.head(), head);
    // Without any fixing: refused the same way, from the first day.
    let bare = Pool::new(false);
    bare.run(&["interest", "--from", "2025-11-03", "--to", "2025-11-10"])
        .expect(2)
        .stderr_has(&["no SOFR fixing for 2025-11-03", "no SOFR fixing on or before 2025-11-03 has been imported"]);
    // Settled within the fixings, the run posts and the store verifies.
    let settled =
        pool.run(&["interest", "--from", "2025-11-03", "--to", "2025-11-10", "--settle", "--format", "json"]).expect(0);
    assert_eq!(settled.json()["settled"], true);
    let replay = pool.run(&["audit", "replay", "--format", "json"]).expect(0).json();
    assert_eq!(replay["matches_store"], Value::Null, "a reader's replay compares no checkpoint");
    pool.run(&["audit", "verify", "--exclusive", "--format", "json"]).expect(0);
}
