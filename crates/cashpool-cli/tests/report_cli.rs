//! End-to-end tests of `cashpool report --html FILE` (`docs/REPORT.md`): one
//! self-contained HTML page with the balances, intercompany positions, cap use
//! and reconciliation of a store, compared with what the other commands print.
//!
//! Every test builds its own store with `cashpool demo --days 20` (seeded, so
//! the same journal each time) and reads it with `--read-only`; some import two
//! more statements first so that the reconciliation has open exceptions:
//! `tests/fixtures/recon/sz-20261102.sta` (lines the demo's ledger does not
//! know, a charge) and `HOSTILE` below, a statement of an unknown account whose
//! id and reference hold HTML (`<`, `&`, `"`), which the page must escape.

mod common;
use common::{items, string, text, Run};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/recon");
const EXAMPLE_GROUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lingang-group.toml");

/// An MT940 statement of an account the group does not have, with markup in its id, reference and narrative.
const HOSTILE: &str = ":20:X<1>&\"Y\"\r\n:25:99999999999\r\n:28C:00001/001\r\n:60F:C261101CNY0,00\r\n\
:61:2611021102C1000,00NTRFR<b>&1//B001\r\n:86:<script>alert(1)</script>\r\n:62F:C261102CNY1000,00\r\n-\r\n";

fn cashpool(data: &Path, args: &[&str]) -> Run {
    common::cashpool_as("report-test", data, args)
}

struct Demo {
    dir: TempDir,
}

impl Demo {
    /// `cashpool demo --days 20` on a fresh store.
    fn new() -> Demo {
        let demo = Demo { dir: tempfile::tempdir().expect("tempdir") };
        let out = cashpool(&demo.store(), &["demo", "--days", "20", "--format", "json"]).expect(0).json();
        assert_eq!(out["days"], 20, "{out}");
        demo
    }

    /// The demo, plus two statements that leave open exceptions and breaks.
    fn with_exceptions() -> Demo {
        let demo = Demo::new();
        let hostile = demo.path("hostile.sta");
        std::fs::write(&hostile, HOSTILE).expect("write the statement");
        let sz = Path::new(FIXTURES).join("sz-20261102.sta");
        demo.run(&["recon", "import", text(&sz), text(&hostile), "--format", "json"]).expect(0);
        demo
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Run {
        cashpool(&self.store(), args)
    }

    /// `--read-only report --html NAME`: checks the one line it prints and returns the page.
    fn report(&self, name: &str) -> String {
        let file = self.path(name);
        let run = self.run(&["--read-only", "report", "--html", text(&file)]).expect(0);
        let html = std::fs::read_to_string(&file).expect("the report is UTF-8");
        assert_eq!(run.stdout, format!("wrote {} ({} bytes)\n", file.display(), html.len()));
        html
    }

    /// The journal's length and head, and the replayed state digest.
    fn snapshot(&self) -> (u64, String, String) {
        let replay = self.run(&["--read-only", "audit", "replay", "--format", "json"]).expect(0).json();
        (replay["entries"].as_u64().expect("entries"), string(&replay, "head"), string(&replay, "state_digest"))
    }
}

/// Thousands separators on a plain decimal (`-1234567.5` → `-1,234,567.5`), written here independently of the crate.
fn grouped(plain: &str) -> String {
    let (sign, digits) = plain.strip_prefix('-').map_or(("", plain), |rest| ("-", rest));
    let (int, frac) = digits.split_once('.').map_or((digits, None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (idx, ch) in int.chars().enumerate() {
        if idx > 0 && (int.len() - idx) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    match frac {
        Some(frac) => format!("{sign}{out}.{frac}"),
        None => format!("{sign}{out}"),
    }
}

fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The cells `<td … data-KEY="A" data-currency="C">TEXT</td>` of the page: (A, C) → TEXT.
fn cells(html: &str, key: &str) -> BTreeMap<(String, String), String> {
    let marker = format!(" data-{key}=\"");
    let mut found = BTreeMap::new();
    for piece in html.split(&marker).skip(1) {
        let (name, rest) = piece.split_once('"').expect("a closing quote");
        let rest = rest.strip_prefix(" data-currency=\"").expect("data-currency follows");
        let (currency, rest) = rest.split_once('"').expect("a closing quote");
        let rest = rest.strip_prefix('>').expect("the cell's text follows");
        let (value, _) = rest.split_once("</td>").expect("the cell ends");
        let previous = found.insert((name.to_string(), currency.to_string()), value.to_string());
        assert!(previous.is_none(), "two cells for {name} {currency}");
    }
    found
}

fn own(account: &str) -> bool {
    !account.starts_with("EXT-") && !account.starts_with("SYS-")
}

#[test]
fn the_report_is_one_self_contained_page_and_leaves_the_store_unchanged() {
    let demo = Demo::new();
    let before = demo.snapshot();
    let html = demo.report("pool.html");
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"), "{}", &html[..80]);
    assert!(html.ends_with("</html>\n"));
    for tag in ["<html", "</html>", "<head>", "</head>", "<body>", "</body>", "<style>"] {
        assert_eq!(html.matches(tag).count(), 1, "{tag} appears once");
    }
    for outside in ["http://", "https://", "src=", "url(", "@import", "<link", "<script", "<img", "<iframe", "//fonts"]
    {
        assert!(!html.contains(outside), "the page refers outside itself: {outside:?}");
    }
    assert!(html.matches("<svg").count() >= 4, "charts are inline SVG");
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    assert!(html.contains("Lingang Technology Group"), "the group's name");
    let (entries, head, _) = &before;
    assert!(html.contains(&format!("entry {}", grouped(&entries.to_string()))), "the journal head's entry");
    assert!(html.contains(head.as_str()), "the journal head's hash");
    assert!(html.contains("2026-11-02 → 2026-11-27"), "the value dates' range");
    assert!(html.contains("2026-11-02T09:00:00.000000Z"), "the generation time is CASHPOOL_NOW");
    assert_eq!(demo.snapshot(), before, "the report writes nothing to the store");
}

#[test]
fn the_balances_are_the_ones_balances_prints_with_thousands_separators() {
    let demo = Demo::new();
    let html = demo.report("pool.html");
    let balances = demo.run(&["--read-only", "balances", "--format", "json"]).expect(0).json();
    let expected: BTreeMap<(String, String), String> = items(&balances, "balances")
        .iter()
        .filter(|row| own(&string(row, "account")))
        .map(|row| ((string(row, "account"), string(row, "currency")), grouped(&string(row, "balance"))))
        .collect();
    assert!(expected.len() >= 10, "{expected:?}");
    assert_eq!(cells(&html, "account"), expected, "the latest balances table");
    // Concretely: the large ones carry separators, and every own currency has its chart.
    assert!(expected.values().filter(|value| value.contains(',')).count() >= 5);
    let currencies: BTreeSet<&str> = expected.keys().map(|(_, currency)| currency.as_str()).collect();
    assert_eq!(currencies.iter().copied().collect::<Vec<_>>(), ["CNY", "EUR", "HKD", "JPY", "SGD", "USD"]);
    for currency in &currencies {
        assert!(html.contains(&format!("id=\"balances-{currency}\"")), "a balance chart for {currency}");
        assert!(html.contains(&format!("<th class=\"num\">{currency}</th>")), "a column for {currency}");
    }
    // Neither external nor system accounts are the group's own.
    assert!(!html.contains("EXT-ONSHORE") && !html.contains("SYS-FX-POSITION"));
}

#[test]
fn the_positions_and_the_cap_use_are_the_ones_the_other_commands_print() {
    let demo = Demo::new();
    let html = demo.report("pool.html");
    let positions = demo.run(&["--read-only", "positions", "--format", "json"]).expect(0).json();
    let expected: BTreeMap<(String, String), String> = items(&positions, "positions")
        .iter()
        .map(|row| ((string(row, "entity"), string(row, "currency")), grouped(&string(row, "position"))))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(cells(&html, "entity"), expected, "the latest positions table");
    let limits = demo.run(&["--read-only", "limits", "--format", "json"]).expect(0).json();
    for direction in ["inflow", "outflow"] {
        for field in ["cap", "used", "headroom"] {
            let value = grouped(&string(&limits[direction], field));
            assert!(html.contains(&format!(">{value}</td>")), "{direction} {field} {value}");
        }
        assert!(html.contains(&format!("id=\"cap-{direction}\"")), "a chart of the {direction} cap");
    }
}

#[test]
fn the_reconciliation_is_the_one_recon_report_prints_with_every_open_item_escaped() {
    let demo = Demo::with_exceptions();
    let html = demo.report("pool.html");
    let report = demo.run(&["--read-only", "recon", "report", "--format", "json"]).expect(0).json();
    let rate = string(&report, "match_rate");
    assert_ne!(rate, "100.00", "the imported statements leave lines unmatched");
    assert!(html.contains(&format!(">{rate}%<")), "the match rate {rate}");
    let exceptions = items(&report, "exceptions");
    assert!(exceptions.len() >= 4, "{exceptions:?}");
    for ex in &exceptions {
        let id = string(ex, "id");
        assert!(html.contains(&format!(">{id}</td>")), "exception {id}");
        assert!(html.contains(&escaped(&string(ex, "detail"))), "the detail of {id}, escaped");
        assert!(html.contains(&escaped(&string(ex, "reference"))), "the reference of {id}, escaped");
    }
    let reasons: BTreeSet<String> = exceptions.iter().map(|ex| string(ex, "reason")).collect();
    assert!(reasons.contains("unknown_account") && reasons.contains("bank_initiated"), "{reasons:?}");
    let breaks = items(&report, "breaks");
    assert!(breaks.len() >= 2, "{breaks:?}");
    for b in &breaks {
        let kind = string(b, "kind");
        assert!(html.contains(&format!(">{kind}</span>")), "break {kind}");
        assert!(html.contains(&escaped(&string(b, "detail"))), "the detail of a {kind} break, escaped");
    }
    assert_eq!(
        html.matches("<tr><td class=\"id\">").count(),
        exceptions.len(),
        "one row per open exception in the exceptions table"
    );
    // What the bank wrote is shown as text, never as markup.
    for raw in ["X<1>", "<b>&", "<script"] {
        assert!(!html.contains(raw), "unescaped {raw:?}");
    }
    assert!(html.contains("X&lt;1&gt;&amp;&quot;Y&quot;"));
    assert!(html.contains("id=\"match-rate\""), "the match rate by statement date");
}

#[test]
fn the_same_journal_and_clock_give_the_same_page_byte_for_byte() {
    let demo = Demo::with_exceptions();
    let first = demo.report("one.html");
    let second = demo.report("two.html");
    assert!(first == second, "two reports of the same journal with the same CASHPOOL_NOW differ");
    // A report overwrites its file.
    std::fs::write(demo.path("one.html"), "old content that is longer than nothing").unwrap();
    assert_eq!(demo.report("one.html"), first);
}

#[test]
fn a_store_without_transactions_still_gets_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    cashpool(&store, &["init", "--config", EXAMPLE_GROUP, "--format", "json"]).expect(0);
    let page = dir.path().join("empty.html");
    let run = cashpool(&store, &["--read-only", "report", "--html", text(&page)]).expect(0);
    assert!(run.stdout.starts_with(&format!("wrote {} (", page.display())));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("No transactions yet"));
    assert!(html.contains("Lingang Technology Group"));
    assert!(html.contains(">0.00%<"), "no statement lines: the rate recon report gives");
    assert!(!html.contains("NaN") && !html.contains("=\"inf") && !html.contains("inf,"));
}

#[test]
fn a_missing_store_is_a_clear_error_and_writes_no_page() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("pool.html");
    let run = cashpool(&dir.path().join("nothing-here"), &["--read-only", "report", "--html", text(&page)]);
    assert!(run.code == 1 || run.code == 2, "exit {}: {}", run.code, run.stderr);
    run.stderr_has(&["no store at", "nothing-here"]);
    assert!(!page.exists());
}

#[test]
fn an_unwritable_page_is_exit_1_naming_the_file() {
    let demo = Demo::new();
    let page = demo.path("no-such-folder").join("pool.html");
    let run = demo.run(&["--read-only", "report", "--html", text(&page)]).expect(1);
    run.stderr_has(&[text(&page)]);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    // A folder is not a file either.
    let folder = demo.path("a-folder");
    std::fs::create_dir(&folder).unwrap();
    demo.run(&["--read-only", "report", "--html", text(&folder)]).expect(1).stderr_has(&[text(&folder)]);
}

#[test]
fn the_report_matches_what_the_demo_summarises() {
    // The demo's own JSON summary and the page agree on the reconciliation and the journal.
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let summary: Value = cashpool(&store, &["demo", "--days", "20", "--format", "json"]).expect(0).json();
    let page = dir.path().join("pool.html");
    cashpool(&store, &["--read-only", "report", "--html", text(&page)]).expect(0);
    let html = std::fs::read_to_string(&page).unwrap();
    let recon = &summary["reconciliation"];
    assert!(html.contains(&format!(">{}%<", string(recon, "match_rate"))));
    assert!(html.contains(&string(&summary["audit"], "head")));
    for b in items(recon, "breaks") {
        assert!(html.contains(&string(&b, "kind")));
    }
}

/// The `<table id="ID">…</table>` of the page.
fn table<'h>(html: &'h str, id: &str) -> &'h str {
    let start = html.find(&format!("<table id=\"{id}\">")).unwrap_or_else(|| panic!("no table {id}"));
    let end = html[start..].find("</table>").expect("the table ends");
    &html[start..start + end]
}

#[test]
fn the_total_liquidity_and_net_positions_in_the_base_currency_are_the_ones_the_commands_print() {
    let demo = Demo::new();
    let html = demo.report("pool.html");
    // The report uses the rates of its generation date (CASHPOOL_NOW: 2026-11-02), as `balances` does without --as-of.
    for (command, id) in [("balances", "liquidity"), ("positions", "positions-base")] {
        let value = demo.run(&["--read-only", command, "--format", "json"]).expect(0).json();
        let rows = table(&html, id);
        let lines = items(&value, "totals");
        assert!(lines.len() >= 3, "{value}");
        for line in &lines {
            let market = line["market"].as_str().unwrap_or("");
            let currency = string(line, "currency");
            let cell = format!(r#" data-line="{currency} {market}">{}</td>"#, grouped(&string(line, "total_base")));
            assert!(rows.contains(&cell), "{command}: {cell} not in the table {id}");
            assert!(rows.contains(&format!(">{}</td>", string(line, "rate"))), "{command}: the rate of {line}");
            if let Some(date) = line["rate_date"].as_str() {
                assert!(rows.contains(&format!("<td>{date}</td>")), "{command}: the rate's date of {line}");
            }
        }
        let total = &value["base_total"];
        assert_eq!(total["complete"], true, "every currency of the demo has a rate: {total}");
        let cell = format!(r#" data-total="complete">{}</td>"#, grouped(&string(total, "amount")));
        assert!(rows.contains(&cell), "{command}: the total {cell}");
        assert!(html.contains("At the rates in force on 2026-11-02"), "the rates' date is named");
        if command == "balances" {
            assert!(html.contains(&format!("CNY {}", grouped(&string(total, "amount")))), "the card");
        }
    }
    assert!(html.contains("Total liquidity"), "the card and the table's title");
}
