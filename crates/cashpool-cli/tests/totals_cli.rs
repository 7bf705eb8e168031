//! The totals in the base currency under `balances` and `positions` (JSON,
//! table, CSV), end to end through the binary (docs/GUIDE.md, sections 3 and
//! 6), on the fixture of `tests/fixtures/totals/` that the public-API test
//! `tests/tests/totals.rs` also uses. Every expected figure is worked out by
//! hand next to it.
//!
//! The fixture: base currency CNY; rates USD 7.1025 onshore and 7.1100
//! offshore, JPY 0.0475 onshore and 0.0476 offshore, EUR 7.7000 onshore only,
//! all set for 2026-11-02, USD 7.2000 onshore set for 2026-11-04, no KRW rate.
//! After the postings and the sweeps of 2 and 3 November, the own accounts hold
//! CNY 1,000,000.00 (T-DMA, onshore) and 0.25 (FTZ-FTE, ft); USD 1,000,002.00
//! onshore (T-DMA; 1,000,000.00 of it value-dated 30 October), 2,500.50
//! (T-IMA, offshore) and 1,000.00 (FTZ-FTE, ft); EUR 10.00 onshore (T-DMA) and
//! 100.00 offshore (HK-OPS); JPY 1,000,001 and KRW 5,000,000 offshore (T-IMA,
//! swept up from JP-OPS on 2 November and HK-OPS on 3 November). The positions:
//! T-HK USD 2,500.50 and KRW 5,000,000, T-JP JPY 1,000,001.
//!
//! Every run sees `CASHPOOL_NOW` = 2026-11-02T09:00:00Z, so "today" (the
//! rates' date without `--as-of`) is 2 November, unless a test says otherwise.

mod common;
use common::{items, keys, sorted, string, text, Run};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/totals");

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn cashpool(data: &Path, args: &[&str]) -> Run {
    common::cashpool_as("totals-test", data, args)
}

/// The fixture's store: the group, its rates, its transactions, both days swept.
fn store() -> TempDir {
    let store = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| cashpool(store.path(), args).expect(0);
    run(&["init", "--config", text(&fixture("group.toml")), "--format", "json"]);
    run(&["rates", "import", text(&fixture("rates.csv")), "--format", "json"]);
    let posted = run(&["post", text(&fixture("transactions.csv")), "--report", "json"]).json();
    assert_eq!(posted["posted"], 10, "{posted}");
    for date in ["2026-11-02", "2026-11-03"] {
        run(&["sweep", "--date", date, "--format", "json"]);
    }
    store
}

/// One line of `totals` as text: currency, market, total, rate, rate date, value in CNY, status ("-" for null).
type Line = [&'static str; 7];

fn lines_of(value: &Value) -> Vec<[String; 7]> {
    let text = |line: &Value, key: &str| match &line[key] {
        Value::Null => "-".to_string(),
        Value::String(text) => text.clone(),
        other => panic!("{key} of {line} is {other}"),
    };
    items(value, "totals")
        .iter()
        .map(|line| {
            ["currency", "market", "total", "rate", "rate_date", "total_base", "status"].map(|key| text(line, key))
        })
        .collect()
}

/// `base_total` as text: `complete 1.00` or `unknown, converted 1.00, missing EUR offshore 100.00 …`.
fn base_total_of(value: &Value) -> String {
    let total = &value["base_total"];
    assert_eq!(string(total, "currency"), "CNY", "{total}");
    let missing: Vec<String> = items(total, "missing_rates")
        .iter()
        .map(|line| format!("{} {} {}", string(line, "currency"), string(line, "market"), string(line, "total")))
        .collect();
    match (&total["complete"], &total["amount"]) {
        (Value::Bool(true), Value::String(amount)) => {
            assert_eq!(&string(total, "converted"), amount, "complete: the converted lines are the total");
            assert!(missing.is_empty(), "{total}");
            format!("complete {amount}")
        }
        (Value::Bool(false), Value::Null) => {
            format!("unknown, converted {}, missing {}", string(total, "converted"), missing.join(", "))
        }
        _ => panic!("`complete` and `amount` disagree: {total}"),
    }
}

#[track_caller]
fn check(value: &Value, rates_as_of: &str, expected: &[Line], expected_total: &str) {
    assert_eq!(string(&value["base_total"], "rates_as_of"), rates_as_of, "{value}");
    let expected_lines: Vec<[String; 7]> = expected.iter().map(|line| line.map(String::from)).collect();
    assert_eq!(lines_of(value), expected_lines, "{value}");
    assert_eq!(base_total_of(value), expected_total, "{value}");
}

#[test]
fn balances_json_has_the_contract_fields_and_only_the_documented_extensions() {
    // CONTRACT.md's fields, plus the extensions documented in docs/GUIDE.md (section 3): `totals` and `base_total`.
    let store = store();
    for command in [&["balances"][..], &["positions"][..]] {
        for extra in [&[][..], &["--as-of", "2026-11-02"][..]] {
            let args = [command, extra, &["--format", "json"][..]].concat();
            let value = cashpool(store.path(), &args).expect(0).json();
            let rows = if command[0] == "balances" { "balances" } else { "positions" };
            assert_eq!(keys(&value), sorted(&["as_of", rows, "totals", "base_total"]), "{args:?}: {value}");
            let line = sorted(&["currency", "market", "total", "rate", "rate_date", "total_base", "status"]);
            for item in items(&value, "totals") {
                assert_eq!(keys(&item), line, "{args:?}: {item}");
            }
            let total = sorted(&["currency", "rates_as_of", "complete", "amount", "converted", "missing_rates"]);
            assert_eq!(keys(&value["base_total"]), total, "{args:?}: {value}");
            for missing in items(&value["base_total"], "missing_rates") {
                assert_eq!(keys(&missing), sorted(&["currency", "market", "total"]), "{args:?}: {missing}");
            }
        }
    }
}

#[test]
fn balances_show_the_own_accounts_in_the_base_currency_at_the_days_rates() {
    let store = store();
    // (arguments, rates as of, lines, grand total)
    #[rustfmt::skip]
    let cases: [(&[&str], &str, &[Line], &str); 6] = [
        // Every posting, at today's rates (CASHPOOL_NOW: 2 November).
        (&[], "2026-11-02", &[
            // T-DMA 1,000,000.00 + FTZ-FTE 0.25 (FT, CNH) + T-IMA 0.00: CNY counts one for one at either market
            ["CNY", "-", "1000000.25", "1", "-", "1000000.25", "base"],
            // T-DMA 10.00 × 7.7 = 77.00 (rates.csv says 7.7000: shown without trailing zeros)
            ["EUR", "onshore", "10.00", "7.7", "2026-11-02", "77.00", "converted"],
            // HK-OPS 100.00: EUR has an onshore rate, not an offshore one
            ["EUR", "offshore", "100.00", "-", "-", "-", "missing_rate"],
            // T-IMA 1,000,001 + JP-OPS 0 × 0.0476 = 47,600.0476 → 47,600.05
            ["JPY", "offshore", "1000001", "0.0476", "2026-11-02", "47600.05", "converted"],
            ["KRW", "offshore", "5000000", "-", "-", "-", "missing_rate"],
            // 1,000,002.00 × 7.1025 = 7,102,514.205: a tie, half-even to the even cent (half-up would give .21)
            ["USD", "onshore", "1000002.00", "7.1025", "2026-11-02", "7102514.20", "converted"],
            // T-IMA 2,500.50 + FTZ-FTE 1,000.00 + HK-OPS 0.00 = 3,500.50 × 7.11 = 24,888.555: a tie, to the even .56
            ["USD", "offshore", "3500.50", "7.11", "2026-11-02", "24888.56", "converted"],
        // 1,000,000.25 + 77.00 + 47,600.05 + 7,102,514.20 + 24,888.56
        ], "unknown, converted 8175080.06, missing EUR offshore 100.00, KRW offshore 5000000"),
        // Value-dated 5 November, at its rates: USD onshore 7.2 (set on 4 November), the others of 2 November.
        (&["--as-of", "2026-11-05"], "2026-11-05", &[
            ["CNY", "-", "1000000.25", "1", "-", "1000000.25", "base"],
            ["EUR", "onshore", "10.00", "7.7", "2026-11-02", "77.00", "converted"],
            ["EUR", "offshore", "100.00", "-", "-", "-", "missing_rate"],
            ["JPY", "offshore", "1000001", "0.0476", "2026-11-02", "47600.05", "converted"],
            ["KRW", "offshore", "5000000", "-", "-", "-", "missing_rate"],
            // 1,000,002.00 × 7.2 = 7,200,014.40
            ["USD", "onshore", "1000002.00", "7.2", "2026-11-04", "7200014.40", "converted"],
            ["USD", "offshore", "3500.50", "7.11", "2026-11-02", "24888.56", "converted"],
        // 1,000,000.25 + 77.00 + 47,600.05 + 7,200,014.40 + 24,888.56
        ], "unknown, converted 8272580.26, missing EUR offshore 100.00, KRW offshore 5000000"),
        // Value-dated 2 November: the KRW came on 3 November, so its lines are zero and need no rate.
        (&["--as-of", "2026-11-02"], "2026-11-02", &[
            ["CNY", "-", "1000000.25", "1", "-", "1000000.25", "base"],
            ["EUR", "onshore", "10.00", "7.7", "2026-11-02", "77.00", "converted"],
            ["EUR", "offshore", "100.00", "-", "-", "-", "missing_rate"],
            ["JPY", "offshore", "1000001", "0.0476", "2026-11-02", "47600.05", "converted"],
            ["KRW", "offshore", "0", "-", "-", "0.00", "zero_without_rate"],
            ["USD", "onshore", "1000002.00", "7.1025", "2026-11-02", "7102514.20", "converted"],
            ["USD", "offshore", "3500.50", "7.11", "2026-11-02", "24888.56", "converted"],
        ], "unknown, converted 8175080.06, missing EUR offshore 100.00"),
        // USD alone: every line has a rate, the total is complete. 7,102,514.20 + 24,888.56
        (&["--currency", "USD"], "2026-11-02", &[
            ["USD", "onshore", "1000002.00", "7.1025", "2026-11-02", "7102514.20", "converted"],
            ["USD", "offshore", "3500.50", "7.11", "2026-11-02", "24888.56", "converted"],
        ], "complete 7127402.76"),
        // One onshore account: 1,000,000.00 + 77.00 + 7,102,514.20
        (&["--account", "T-DMA"], "2026-11-02", &[
            ["CNY", "-", "1000000.00", "1", "-", "1000000.00", "base"],
            ["EUR", "onshore", "10.00", "7.7", "2026-11-02", "77.00", "converted"],
            ["USD", "onshore", "1000002.00", "7.1025", "2026-11-02", "7102514.20", "converted"],
        ], "complete 8102591.20"),
        // 31 October: no rate is set yet. USD 1,000,000.00 has none and is listed; zero lines need none.
        (&["--as-of", "2026-10-31", "--account", "T-DMA"], "2026-10-31", &[
            ["CNY", "-", "1000000.00", "1", "-", "1000000.00", "base"],
            ["EUR", "onshore", "0.00", "-", "-", "0.00", "zero_without_rate"],
            ["USD", "onshore", "1000000.00", "-", "-", "-", "missing_rate"],
        ], "unknown, converted 1000000.00, missing USD onshore 1000000.00"),
    ];
    for (args, rates_as_of, expected, expected_total) in cases {
        let args = [&["balances"][..], args, &["--format", "json"][..]].concat();
        let value = cashpool(store.path(), &args).expect(0).json();
        check(&value, rates_as_of, expected, expected_total);
    }
    // External and system accounts are not the group's liquidity: nothing to convert.
    let value = cashpool(store.path(), &["balances", "--account", "EXT-OFF", "--format", "json"]).expect(0).json();
    check(&value, "2026-11-02", &[], "complete 0.00");
}

#[test]
fn positions_show_their_net_in_the_base_currency_at_the_onshore_rates() {
    let store = store();
    #[rustfmt::skip]
    let cases: [(&[&str], &str, &[Line], &str); 3] = [
        (&[], "2026-11-02", &[
            // T-JP 1,000,001 × 0.0475 (onshore; offshore would be 0.0476) = 47,500.0475 → 47,500.05
            ["JPY", "onshore", "1000001", "0.0475", "2026-11-02", "47500.05", "converted"],
            ["KRW", "onshore", "5000000", "-", "-", "-", "missing_rate"],
            // T-HK 2,500.50 × 7.1025 = 17,759.80125 → 17,759.80
            ["USD", "onshore", "2500.50", "7.1025", "2026-11-02", "17759.80", "converted"],
        // 47,500.05 + 17,759.80
        ], "unknown, converted 65259.85, missing KRW onshore 5000000"),
        // Before the KRW sweep of 3 November: every line converted.
        (&["--as-of", "2026-11-02"], "2026-11-02", &[
            ["JPY", "onshore", "1000001", "0.0475", "2026-11-02", "47500.05", "converted"],
            ["USD", "onshore", "2500.50", "7.1025", "2026-11-02", "17759.80", "converted"],
        ], "complete 65259.85"),
        (&["--as-of", "2026-11-05"], "2026-11-05", &[
            ["JPY", "onshore", "1000001", "0.0475", "2026-11-02", "47500.05", "converted"],
            ["KRW", "onshore", "5000000", "-", "-", "-", "missing_rate"],
            // 2,500.50 × 7.2 = 18,003.60
            ["USD", "onshore", "2500.50", "7.2", "2026-11-04", "18003.60", "converted"],
        // 47,500.05 + 18,003.60
        ], "unknown, converted 65503.65, missing KRW onshore 5000000"),
    ];
    for (args, rates_as_of, expected, expected_total) in cases {
        let args = [&["positions"][..], args, &["--format", "json"][..]].concat();
        let value = cashpool(store.path(), &args).expect(0).json();
        check(&value, rates_as_of, expected, expected_total);
    }
}

/// `cashpool --data DATA ARGS` with the clock at `now` instead of the tests' usual one.
fn at_clock(data: &Path, now: &str, args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_cashpool"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("CASHPOOL_NOW", now)
        .env_remove("CASHPOOL_DATA")
        .stdin(Stdio::null())
        .output()
        .expect("the cashpool binary runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn without_as_of_the_rates_are_todays() {
    let store = store();
    // On 5 November (UTC) the onshore USD rate is the one set on 4 November: 1,000,002.00 × 7.2 = 7,200,014.40.
    let value = at_clock(store.path(), "2026-11-05T23:59:59Z", &["balances", "--currency", "USD", "--format", "json"]);
    assert_eq!(value["as_of"], Value::Null, "all postings");
    #[rustfmt::skip]
    check(&value, "2026-11-05", &[
        ["USD", "onshore", "1000002.00", "7.2", "2026-11-04", "7200014.40", "converted"],
        ["USD", "offshore", "3500.50", "7.11", "2026-11-02", "24888.56", "converted"],
    // 7,200,014.40 + 24,888.56
    ], "complete 7224902.96");
    // On 1 November no rate is set yet: every non-zero line is missing, the CNY ones count.
    let value = at_clock(store.path(), "2026-11-01T08:00:00Z", &["positions", "--format", "json"]);
    assert_eq!(
        base_total_of(&value),
        "unknown, converted 0.00, missing JPY onshore 1000001, KRW onshore 5000000, USD onshore 2500.50"
    );
}

#[test]
fn the_table_prints_the_totals_under_the_rows_and_says_when_the_total_is_unknown() {
    let store = store();
    let table = cashpool(store.path(), &["balances", "--format", "table"]).expect(0).stdout;
    let expected = "\
in CNY at the rates in force on 2026-11-02 (the group's own accounts; onshore accounts at the onshore CNY rate, FT and offshore accounts at the offshore CNH rate)
currency  market           total  rate     rate date          in CNY
--------  --------  ------------  -------  ----------  -------------
CNY                 1,000,000.25  1                     1,000,000.25
EUR       onshore          10.00  7.7      2026-11-02          77.00
EUR       offshore        100.00  NO RATE              not converted
JPY       offshore     1,000,001  0.0476   2026-11-02      47,600.05
KRW       offshore     5,000,000  NO RATE              not converted
USD       onshore   1,000,002.00  7.1025   2026-11-02   7,102,514.20
USD       offshore      3,500.50  7.11     2026-11-02      24,888.56
total in CNY: UNKNOWN: no rate on or before 2026-11-02 for EUR offshore, KRW offshore; the lines converted come to 8,175,080.06, which leaves those out
";
    assert!(table.starts_with("balances (all postings)\n"), "{table}");
    assert!(table.ends_with(&format!("\n\n{expected}")), "the totals under the rows, after a blank line:\n{table}");

    let usd = cashpool(store.path(), &["balances", "--currency", "USD", "--format", "table"]).expect(0).stdout;
    assert!(usd.ends_with("\ntotal in CNY: 7,127,402.76\n"), "{usd}");

    let positions =
        cashpool(store.path(), &["positions", "--as-of", "2026-11-02", "--format", "table"]).expect(0).stdout;
    let expected = "\
in CNY at the rates in force on 2026-11-02 (the members' net positions, at the onshore rate of the host's books)
currency  market       total  rate    rate date      in CNY
--------  -------  ---------  ------  ----------  ---------
JPY       onshore  1,000,001  0.0475  2026-11-02  47,500.05
USD       onshore   2,500.50  7.1025  2026-11-02  17,759.80
total in CNY: 65,259.85
";
    assert!(positions.ends_with(&format!("\n\n{expected}")), "{positions}");

    let none = cashpool(store.path(), &["balances", "--account", "EXT-OFF", "--format", "table"]).expect(0).stdout;
    assert!(none.ends_with("\ntotal in CNY: 0.00 (nothing to convert)\n"), "{none}");
}

#[test]
fn the_csv_keeps_its_rows_and_adds_the_totals_as_a_second_section() {
    let store = store();
    let csv = cashpool(store.path(), &["balances", "--account", "T-DMA", "--format", "csv"]).expect(0).stdout;
    let expected = "\
account,currency,balance
T-DMA,CNY,1000000.00
T-DMA,EUR,10.00
T-DMA,USD,1000002.00

rates_as_of,currency,market,total,rate,rate_date,total_base,status
2026-11-02,CNY,,1000000.00,1,,1000000.00,base
2026-11-02,EUR,onshore,10.00,7.7,2026-11-02,77.00,converted
2026-11-02,USD,onshore,1000002.00,7.1025,2026-11-02,7102514.20,converted
2026-11-02,CNY,,,,,8102591.20,total
";
    assert_eq!(csv, expected);

    let csv = cashpool(store.path(), &["positions", "--format", "csv"]).expect(0).stdout;
    let expected = "\
entity,currency,position
T-HK,KRW,5000000
T-HK,USD,2500.50
T-JP,JPY,1000001

rates_as_of,currency,market,total,rate,rate_date,total_base,status
2026-11-02,JPY,onshore,1000001,0.0475,2026-11-02,47500.05,converted
2026-11-02,KRW,onshore,5000000,,,,missing_rate
2026-11-02,USD,onshore,2500.50,7.1025,2026-11-02,17759.80,converted
2026-11-02,CNY,,,,,,total_unknown
";
    assert_eq!(csv, expected);
}

#[test]
fn the_report_shows_the_total_liquidity_as_unknown_and_names_the_missing_rates() {
    let store = store();
    let page = store.path().join("pool.html");
    cashpool(store.path(), &["report", "--html", text(&page)]).expect(0);
    let html = std::fs::read_to_string(&page).expect("the page");
    // The card says unknown and names the lines without a rate, never a figure that leaves them out.
    assert!(html.contains("<div class=\"k\">Total liquidity</div><div class=\"v\">unknown</div>"), "the card");
    assert!(html.contains("no EUR offshore, KRW offshore rate on or before 2026-11-02"), "the card's reason");
    // The table: the same lines as `balances`, and a total row that says unknown.
    for cell in [
        r#" data-line="CNY ">1,000,000.25</td>"#,
        r#" data-line="USD onshore">7,102,514.20</td>"#,
        r#" data-line="USD offshore">24,888.56</td>"#,
        r#" data-line="JPY offshore">47,600.05</td>"#,
        r#" data-total="unknown">unknown</td>"#,
        "no rate on or before 2026-11-02 for EUR offshore, KRW offshore; the lines converted come to 8,175,080.06",
        // The positions at the onshore rates: 47,500.05 + 17,759.80, KRW without a rate.
        r#" data-line="JPY onshore">47,500.05</td>"#,
        "no rate on or before 2026-11-02 for KRW onshore; the lines converted come to 65,259.85",
    ] {
        assert!(html.contains(cell), "{cell} not in the page");
    }
}
