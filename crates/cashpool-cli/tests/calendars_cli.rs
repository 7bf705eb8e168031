//! `cashpool calendars import` and `cashpool calendars`, and what the
//! calendars change in `post` and `sweep` (docs/SWEEPS.md, "Business days";
//! docs/GUIDE.md), run as the binary on the example group and its shipped
//! calendars `examples/calendars-2026.csv`.

mod common;

use std::path::{Path, PathBuf};

use common::{items, string, text, Run};
use serde_json::Value;
use tempfile::TempDir;

const EXAMPLE_GROUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lingang-group.toml");
const EXAMPLE_RATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/rates-2026-11.csv");
const EXAMPLE_CALENDARS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/calendars-2026.csv");

struct Pool {
    dir: TempDir,
}

impl Pool {
    /// A store of `group` (TOML text) with the example rates.
    fn with_group(group: &str) -> Pool {
        let pool = Pool { dir: tempfile::tempdir().expect("tempdir") };
        let config = pool.file("group.toml", group);
        pool.run(&["init", "--config", text(&config), "--format", "json"]).expect(0);
        pool.run(&["rates", "import", EXAMPLE_RATES, "--format", "json"]).expect(0);
        pool
    }

    fn example() -> Pool {
        Pool::with_group(&std::fs::read_to_string(EXAMPLE_GROUP).expect("the example group"))
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write a file");
        path
    }

    fn run(&self, args: &[&str]) -> Run {
        common::cashpool_as("calendars-test", &self.store(), args)
    }

    fn import(&self, file: &str, extra: &[&str]) -> Run {
        let mut args = vec!["calendars", "import", file, "--format", "json"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn head(&self) -> Value {
        self.run(&["audit", "verify", "--format", "json"]).expect(0).json()["head"].clone()
    }
}

fn path(file: &Path) -> &str {
    text(file)
}

#[test]
fn an_import_is_journaled_once_and_a_changed_day_needs_correct() {
    let pool = Pool::example();
    let first = pool.import(EXAMPLE_CALENDARS, &[]).expect(0).json();
    assert_eq!(
        (first["rows"].as_u64(), first["imported"].as_u64(), first["unchanged"].as_u64()),
        (Some(108), Some(108), Some(0))
    );
    let head = pool.head();
    let again = pool.import(EXAMPLE_CALENDARS, &[]).expect(0).json();
    assert_eq!((again["imported"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(108)), "{again}");
    assert_eq!(pool.head(), head, "a re-import writes nothing");

    let moved = pool.file("moved.csv", "calendar,date,kind,name\nSG,2026-03-21,holiday,Hari Raya Puasa\nSG,2026-03-20,holiday,Hari Raya Puasa (moved)\n");
    let refused = pool.import(path(&moved), &[]).expect(2);
    refused.stderr_has(&[
        "moved.csv:line 2, field `name`",
        "already held as holiday (Hari Raya Puasa (subject to confirmation))",
        "--correct",
        "nothing was written",
    ]);
    assert_eq!(pool.head(), head);
    let corrected = pool.import(path(&moved), &["--correct"]).expect(0).json();
    assert_eq!(
        (corrected["imported"].as_u64(), corrected["changed"].as_u64(), corrected["correction"].as_bool()),
        (Some(1), Some(1), Some(true))
    );
    let listed = pool
        .run(&["calendars", "--calendar", "SG", "--from", "2026-03-20", "--to", "2026-03-21", "--format", "json"])
        .expect(0)
        .json();
    let days: Vec<(String, String, String)> =
        items(&listed, "days").iter().map(|d| (string(d, "date"), string(d, "weekday"), string(d, "name"))).collect();
    assert_eq!(
        days,
        [
            ("2026-03-20".into(), "Fri".into(), "Hari Raya Puasa (moved)".into()),
            ("2026-03-21".into(), "Sat".into(), "Hari Raya Puasa".into()),
        ]
    );
    let replay = pool.run(&["audit", "replay", "--exclusive", "--format", "json"]).expect(0).json();
    assert_eq!(replay["matches_store"], true, "{replay}");
    pool.run(&["--read-only", "calendars", "import", EXAMPLE_CALENDARS]).expect(2).stderr_has(&["--read-only"]);
}

#[test]
fn the_listing_filters_and_its_csv_imports_again_as_it_is() {
    let pool = Pool::example();
    pool.import(EXAMPLE_CALENDARS, &[]).expect(0);
    let table = pool
        .run(&["calendars", "--calendar", "CN", "--from", "2026-10-01", "--to", "2026-10-10", "--format", "table"])
        .expect(0);
    for needle in [
        "CN        2026-10-01  Thu      holiday  国庆节 National Day",
        "CN        2026-10-10  Sat      working  国庆节调休上班 adjusted working day",
    ] {
        assert!(table.stdout.contains(needle), "the table lacks {needle:?}:\n{}", table.stdout);
    }
    assert_eq!(table.stdout.lines().filter(|line| line.starts_with("CN ")).count(), 8, "{}", table.stdout);
    // The CSV is the import format: a fresh store imports it to the same days.
    let csv = pool.run(&["calendars", "--format", "csv"]).expect(0).stdout;
    let copy = Pool::example();
    let file = copy.file("copy.csv", &csv);
    assert_eq!(copy.import(path(&file), &[]).expect(0).json()["imported"].as_u64(), Some(108));
    let all = |pool: &Pool| pool.run(&["calendars", "--format", "json"]).expect(0).json()["days"].clone();
    assert_eq!(all(&copy), all(&pool));
    pool.run(&["calendars", "--calendar", "GB"]).expect(2).stderr_has(&["--calendar GB", "CN, HK, JP, SG, TARGET, US"]);
    pool.run(&["calendars", "--from", "2026-12-01", "--to", "2026-11-01"]).expect(2).stderr_has(&["is after --to"]);
    pool.run(&["calendars", "--calendar", "cn"]).expect(2).stderr_has(&["write \"CN\""]);
}

#[test]
fn a_posting_valued_on_a_holiday_warns_and_a_sweep_waits_for_the_next_business_day() {
    let pool = Pool::example();
    pool.import(EXAMPLE_CALENDARS, &[]).expect(0);
    // Thanksgiving: a USD receipt into HK-OPS is posted, with the warning; the HKD one is not warned.
    let receipts = pool.file(
        "receipts.csv",
        "id,value_date,from,to,currency,amount,purpose,reference,memo\n\
         R-1,2026-11-26,EXT-OFFSHORE,HK-OPS,USD,2500000.00,current_account,INV-1,customer receipt\n\
         R-2,2026-11-26,EXT-OFFSHORE,HK-OPS,HKD,1000.00,current_account,INV-2,customer receipt\n",
    );
    let report = pool.run(&["post", path(&receipts), "--report", "json"]).expect(0).json();
    assert_eq!(report["posted"], 2, "{report}");
    let warnings = items(&report, "warnings");
    assert_eq!(warnings.len(), 1, "{report}");
    assert_eq!(
        (string(&warnings[0], "code"), string(&warnings[0], "id"), warnings[0]["line"].as_u64()),
        ("not_business_day".into(), "R-1".into(), Some(2))
    );
    assert!(string(&warnings[0], "message").contains("US: Thanksgiving Day"), "{report}");
    // HK-OPS USD (target 1,000,000.00 into SH-IMA) waits: the US is closed.
    let thursday = pool.run(&["sweep", "--date", "2026-11-26", "--format", "json"]).expect(0).json();
    let skipped: Vec<(String, String, String)> = items(&thursday, "skipped")
        .iter()
        .map(|s| (string(s, "account"), string(s, "currency"), string(s, "reason")))
        .collect();
    assert!(skipped.contains(&("HK-OPS".into(), "USD".into(), "not_business_day".into())), "{thursday}");
    assert!(items(&thursday, "calendars_missing").is_empty(), "{thursday}");
    let friday = pool.run(&["sweep", "--date", "2026-11-27", "--format", "json"]).expect(0).json();
    let swept = items(&friday, "sweeps");
    assert!(
        swept.iter().any(|l| string(l, "account") == "HK-OPS"
            && string(l, "currency") == "USD"
            && string(l, "direction") == "up"),
        "the next business day sweeps what waited: {friday}"
    );
}

#[test]
fn a_pool_that_refuses_such_value_dates_and_a_rule_that_never_rolls_exit_2() {
    let group = std::fs::read_to_string(EXAMPLE_GROUP)
        .expect("the example group")
        .replacen("non_business_value_dates = \"warn\"", "non_business_value_dates = \"refuse\"", 1)
        .replacen("roll = \"modified_following\"", "roll = \"none\"", 1);
    assert!(group.contains("\"refuse\"") && group.contains("roll = \"none\""));
    let pool = Pool::with_group(&group);
    pool.import(EXAMPLE_CALENDARS, &[]).expect(0);
    let head = pool.head();
    let receipt = pool.file(
        "receipt.csv",
        "id,value_date,from,to,currency,amount,purpose,reference,memo\nR-1,2026-11-11,EXT-ONSHORE,SH-DMA,USD,1000.00,current_account,INV-1,customer receipt\n",
    );
    pool.run(&["post", path(&receipt), "--report", "json"]).expect(2).stderr_has(&[
        "receipt.csv:line 2: transaction R-1: not_business_day: field `value_date`",
        "2026-11-11 is not a business day for USD on EXT-ONSHORE (postings[0]) (US: Veterans Day)",
    ]);
    // The header rule SH-IMA USD into SH-DMA never rolls: a run on Veterans Day is refused.
    pool.run(&["sweep", "--date", "2026-11-11", "--format", "json"]).expect(2).stderr_has(&[
        "not_business_day: field `date`",
        "the sweep of SH-IMA USD into SH-DMA (its rule has roll = \"none\")",
        "run the sweep on a business day",
    ]);
    assert_eq!(pool.head(), head, "nothing written");
    pool.run(&["sweep", "--date", "2026-11-12", "--format", "json"]).expect(0);
}
