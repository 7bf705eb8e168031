//! `cashpool audit export --format hledger [--from DATE] [--to DATE]`
//! (docs/HLEDGER.md) end to end on the demo store (`cashpool demo --days 20`).
//!
//! Two levels, so the test means something on a machine without hledger:
//!
//! - Always: the file is read by a small parser here. Every account and
//!   commodity it uses is declared, every amount has exactly its commodity's
//!   declared decimals, every transaction sums to zero per commodity, the
//!   transactions are those of the JSON Lines export (same ids, value dates
//!   and sequence numbers, in the range, ordered by value date then sequence
//!   number), and the sums of the postings per account and currency are the
//!   balances of `cashpool balances` (`--as-of TO` for a range).
//! - When `hledger` is on PATH: `hledger -f FILE --strict balance --flat
//!   --no-total --layout bare -O csv` gives exactly those balances, amount
//!   strings included. Without hledger the comparison is skipped with a line on
//!   standard error, unless `CASHPOOL_REQUIRE_HLEDGER=1` (CI sets it), which
//!   makes the test fail.
//!
//! Zero balances: `cashpool balances` lists every currency an account holds,
//! zero or not; hledger leaves out a commodity whose balance is zero (and an
//! account whose every balance is). The comparison is therefore over the
//! non-zero balances; hledger must print no zero row, and every (account,
//! currency) it prints must be one of cashpool's rows.

mod common;
use common::{items, string, text, Run};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::OnceLock;

use rust_decimal::Decimal;
use serde_json::Value;
use tempfile::TempDir;

/// Per (account id, currency), a balance as written (exactly the currency's minor units).
type Balances = BTreeMap<(String, String), String>;

fn cashpool(data: &Path, args: &[&str]) -> Run {
    common::cashpool_as("hledger-test", data, args)
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap_or_else(|err| panic!("{text:?} is not a decimal: {err}"))
}

/// The demo store, with a folder for the exports.
struct Demo {
    dir: TempDir,
    store: PathBuf,
}

impl Demo {
    fn new() -> Demo {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("store");
        let summary = cashpool(&store, &["demo", "--days", "20", "--format", "json"]).expect(0).json();
        assert_eq!(summary["audit"]["ok"], true, "{summary}");
        Demo { dir, store }
    }

    fn run(&self, args: &[&str]) -> Run {
        cashpool(&self.store, args)
    }

    /// `audit export --format hledger --output FILE` with the range arguments; returns the file's text.
    fn export(&self, name: &str, range: &[&str]) -> (PathBuf, String) {
        let file = self.dir.path().join(name);
        let mut args = vec!["audit", "export", "--format", "hledger", "--output", text(&file)];
        args.extend_from_slice(range);
        self.run(&args).expect(0).stderr_has(&["exported "]);
        let written = std::fs::read_to_string(&file).expect("the export is written");
        (file, written)
    }

    /// The transaction entries of the JSON Lines export: seq → (id, value date).
    fn journal_transactions(&self) -> BTreeMap<u64, (String, String)> {
        let run = self.run(&["audit", "export", "--format", "jsonl"]).expect(0);
        run.stdout
            .lines()
            .filter_map(|line| {
                let entry: Value = serde_json::from_str(line).expect("a JSON line");
                let tx = (entry["kind"] == "transaction").then(|| &entry["body"])?;
                let seq = entry["seq"].as_u64().expect("a seq");
                Some((seq, (string(tx, "id"), string(tx, "value_date"))))
            })
            .collect()
    }

    /// `cashpool balances [--as-of DATE]`: every row, zeros included.
    fn balances(&self, as_of: Option<&str>) -> Balances {
        let mut args = vec!["balances", "--format", "json"];
        if let Some(date) = as_of {
            args.extend_from_slice(&["--as-of", date]);
        }
        let json = self.run(&args).expect(0).json();
        assert_eq!(json["as_of"], as_of.map_or(Value::Null, |d| Value::String(d.into())));
        items(&json, "balances")
            .iter()
            .map(|row| ((string(row, "account"), string(row, "currency")), string(row, "balance")))
            .collect()
    }
}

fn non_zero(balances: &Balances) -> Balances {
    balances.iter().filter(|(_, amount)| !dec(amount).is_zero()).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Undoes the export's `%XX` escape of account names and codes (docs/HLEDGER.md).
fn unescape(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        if bytes[idx] == b'%' {
            let hex = std::str::from_utf8(&bytes[idx + 1..idx + 3]).expect("two hex digits after %");
            out.push(u8::from_str_radix(hex, 16).expect("two hex digits after %"));
            idx += 3;
        } else {
            out.push(bytes[idx]);
            idx += 1;
        }
    }
    String::from_utf8(out).expect("an escaped id is ASCII")
}

// ---------------------------------------------------------------------------------------------
// The structural reading of an export (no hledger needed)
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Transaction {
    line_no: usize,
    date: String,
    /// The `(code)`, unescaped; `None` for the opening balances.
    id: Option<String>,
    /// The `seq:N` tag.
    seq: Option<u64>,
    /// (account, amount, commodity), the account and the amount as written.
    postings: Vec<(String, String, String)>,
}

#[derive(Debug, Default)]
struct Journal {
    /// Commodity → decimals of its directive.
    commodities: BTreeMap<String, usize>,
    accounts: BTreeSet<String>,
    transactions: Vec<Transaction>,
}

/// Reads the subset of the journal format the export writes, strictly: anything else fails the test.
fn parse(journal: &str) -> Journal {
    let mut parsed = Journal::default();
    let mut decimal_mark = false;
    for (idx, line) in journal.lines().enumerate() {
        let line_no = idx + 1;
        let bad = |why: &str| -> ! { panic!("line {line_no}: {why}: {line:?}") };
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        if line == "decimal-mark ." {
            decimal_mark = true;
        } else if let Some(rest) = line.strip_prefix("commodity ") {
            assert!(decimal_mark, "line {line_no}: a commodity directive before `decimal-mark .`");
            let (format, code) = rest.split_once(' ').unwrap_or_else(|| bad("not `commodity 1000.00 CODE`"));
            let decimals = format.strip_prefix("1000.").unwrap_or_else(|| bad("not `commodity 1000.00 CODE`"));
            assert!(decimals.bytes().all(|b| b == b'0'), "line {line_no}: {line:?}");
            assert!(code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()), "line {line_no}: {line:?}");
            parsed.commodities.insert(code.to_string(), decimals.len());
        } else if let Some(rest) = line.strip_prefix("account ") {
            let name = rest.split_once("  ;").map_or(rest, |(name, _)| name);
            assert!(!name.contains(' '), "line {line_no}: {line:?}");
            parsed.accounts.insert(name.to_string());
        } else if line.starts_with(|c: char| c.is_ascii_digit()) {
            let date = line.get(..10).unwrap_or_else(|| bad("no date"));
            assert!(chrono::NaiveDate::from_str(date).is_ok(), "line {line_no}: {line:?}");
            let rest = &line[10..];
            let id = if let Some(coded) = rest.strip_prefix(" (") {
                let (code, _) = coded.split_once(") ").unwrap_or_else(|| bad("an unclosed code"));
                Some(unescape(code))
            } else if rest == " opening balances" {
                None
            } else {
                bad("neither `DATE (ID) DESCRIPTION` nor `DATE opening balances`")
            };
            parsed.transactions.push(Transaction { line_no, date: date.into(), id, seq: None, postings: Vec::new() });
        } else if let Some(posting) = line.strip_prefix("    ") {
            let tx = parsed.transactions.last_mut().unwrap_or_else(|| bad("an indented line outside a transaction"));
            if let Some(comment) = posting.strip_prefix("; ") {
                for tag in comment.split(", ") {
                    if let Some(seq) = tag.strip_prefix("seq:") {
                        tx.seq = Some(seq.parse().unwrap_or_else(|_| bad("a bad seq tag")));
                    }
                }
                continue;
            }
            let (account, amount) = posting.split_once("  ").unwrap_or_else(|| bad("no two spaces after the account"));
            assert!(!account.is_empty() && !account.contains(' '), "line {line_no}: {line:?}");
            let (value, commodity) = amount.trim_start().split_once(' ').unwrap_or_else(|| bad("not `AMOUNT CODE`"));
            tx.postings.push((account.to_string(), value.to_string(), commodity.to_string()));
        } else {
            bad("not a line the export writes");
        }
    }
    parsed
}

/// Checks everything that needs no hledger; returns the sums of the postings per (account id, currency).
fn check_structure(journal: &Journal) -> Balances {
    let mut sums: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for tx in &journal.transactions {
        assert!(!tx.postings.is_empty(), "line {}: a transaction without postings", tx.line_no);
        let mut per_commodity: BTreeMap<&str, Decimal> = BTreeMap::new();
        for (account, value, commodity) in &tx.postings {
            assert!(journal.accounts.contains(account), "line {}: account {account} is not declared", tx.line_no);
            let decimals = *journal
                .commodities
                .get(commodity)
                .unwrap_or_else(|| panic!("line {}: commodity {commodity} is not declared", tx.line_no));
            let written = value.split_once('.').map_or(0, |(_, fraction)| fraction.len());
            assert_eq!(written, decimals, "line {}: {value} {commodity}: not its minor units", tx.line_no);
            let amount = dec(value);
            *per_commodity.entry(commodity).or_default() += amount;
            *sums.entry((unescape(account), commodity.clone())).or_default() += amount;
        }
        for (commodity, sum) in per_commodity {
            assert!(sum.is_zero(), "line {}: the postings sum to {sum} {commodity}", tx.line_no);
        }
    }
    sums.into_iter().filter(|(_, sum)| !sum.is_zero()).map(|(key, sum)| (key, sum.to_string())).collect()
}

/// The transactions must be the journal's transaction entries value-dated in [from, to], ordered by
/// value date then sequence number, after one opening transaction dated `from` when there is one.
fn check_transactions(
    journal: &Journal,
    entries: &BTreeMap<u64, (String, String)>,
    from: Option<&str>,
    to: Option<&str>,
) {
    let in_range = |date: &str| from.is_none_or(|f| date >= f) && to.is_none_or(|t| date <= t);
    let mut txs = journal.transactions.iter().peekable();
    if let Some(opening) = txs.next_if(|tx| tx.id.is_none()) {
        assert_eq!(Some(opening.date.as_str()), from, "line {}: the opening is dated --from", opening.line_no);
        assert_eq!(opening.seq, None);
    }
    let mut written = Vec::new();
    for tx in txs {
        let seq = tx.seq.unwrap_or_else(|| panic!("line {}: no seq tag or a second opening", tx.line_no));
        let (id, date) =
            entries.get(&seq).unwrap_or_else(|| panic!("line {}: entry {seq} is no transaction", tx.line_no));
        assert_eq!((tx.id.as_deref(), tx.date.as_str()), (Some(id.as_str()), date.as_str()), "line {}", tx.line_no);
        written.push((tx.date.clone(), seq));
    }
    let mut expected: Vec<(String, u64)> =
        entries.iter().filter(|(_, (_, date))| in_range(date)).map(|(seq, (_, date))| (date.clone(), *seq)).collect();
    expected.sort();
    assert_eq!(written.len(), expected.len(), "one hledger transaction per transaction entry in the range");
    assert_eq!(written, expected, "the transactions in the range, by value date then seq");
}

// ---------------------------------------------------------------------------------------------
// hledger
// ---------------------------------------------------------------------------------------------

/// The hledger command this test runs, or `None` (skipped, said once on stderr) when hledger is not
/// installed; with `CASHPOOL_REQUIRE_HLEDGER=1` a missing hledger fails the test instead.
fn hledger() -> Option<&'static str> {
    static FOUND: OnceLock<bool> = OnceLock::new();
    let found = *FOUND.get_or_init(|| {
        let found = Command::new("hledger")
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|output| output.status.success());
        if !found && std::env::var("CASHPOOL_REQUIRE_HLEDGER").as_deref() != Ok("1") {
            // Straight to the process's stderr: the test harness captures `eprintln!` of a passing test.
            let _ = writeln!(
                std::io::stderr(),
                "hledger_cli: the hledger comparison was not run because hledger is not installed \
                 (only the structural checks ran; CASHPOOL_REQUIRE_HLEDGER=1 makes this a failure)"
            );
        }
        found
    });
    if found {
        return Some("hledger");
    }
    assert!(
        std::env::var("CASHPOOL_REQUIRE_HLEDGER").as_deref() != Ok("1"),
        "hledger is missing: CASHPOOL_REQUIRE_HLEDGER=1 requires the hledger comparison, but no working \
         `hledger` is on PATH (install it: apt-get install -y hledger)"
    );
    None
}

/// Splits one CSV record of hledger's output (every field quoted, `""` inside a field).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        assert_eq!(chars.next(), Some('"'), "hledger CSV: an unquoted field in {line:?}");
        let mut field = String::new();
        loop {
            match chars.next() {
                Some('"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                Some('"') => break,
                Some(c) => field.push(c),
                None => panic!("hledger CSV: an unclosed field in {line:?}"),
            }
        }
        fields.push(field);
        match chars.next() {
            Some(',') => continue,
            None => return fields,
            Some(c) => panic!("hledger CSV: {c:?} after a field in {line:?}"),
        }
    }
}

/// `hledger -f FILE --strict balance --flat --no-total --layout bare -O csv`, per (account id, currency).
fn hledger_balances(hledger: &str, file: &Path) -> Balances {
    let output = Command::new(hledger)
        .arg("-f")
        .arg(file)
        .args(["--strict", "balance", "--flat", "--no-total", "--layout", "bare", "-O", "csv"])
        .stdin(Stdio::null())
        .current_dir(file.parent().expect("a folder"))
        .output()
        .expect("hledger runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "hledger failed on {}:\n{stderr}\n{stdout}", file.display());
    let mut lines = stdout.lines();
    assert_eq!(lines.next().map(csv_fields), Some(vec!["account".into(), "commodity".into(), "balance".into()]));
    let mut balances = Balances::new();
    for line in lines {
        let fields = csv_fields(line);
        let [account, commodity, amount] = <[String; 3]>::try_from(fields).expect("three fields");
        assert!(!dec(&amount).is_zero(), "hledger printed a zero balance: {line}");
        let previous = balances.insert((unescape(&account), commodity), amount);
        assert!(previous.is_none(), "hledger printed {line} twice");
    }
    balances
}

/// The full comparison with hledger, when it is installed.
fn compare_with_hledger(file: &Path, cashpool_rows: &Balances) {
    let Some(hledger) = hledger() else { return };
    let from_hledger = hledger_balances(hledger, file);
    for key in from_hledger.keys() {
        assert!(cashpool_rows.contains_key(key), "hledger reports {key:?}, which cashpool balances does not list");
    }
    assert_eq!(from_hledger, non_zero(cashpool_rows), "hledger balance vs cashpool balances (non-zero rows)");
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn the_whole_journal_in_hledger_gives_cashpool_balances() {
    let demo = Demo::new();
    let (file, written) = demo.export("pool.journal", &[]);
    let entries = demo.journal_transactions();
    assert!(entries.len() > 500, "the demo posts hundreds of transactions: {}", entries.len());
    assert!(written.starts_with("; cashpool journal, exported for hledger"), "{}", &written[..200]);
    assert!(written.contains("; group: LGT "), "the header names the group");
    let head = demo.run(&["audit", "verify", "--format", "json"]).expect(0).json();
    assert!(written.contains(&format!("head {}", string(&head, "head"))), "the header names the chain head");

    let journal = parse(&written);
    assert!(journal.commodities.get("JPY") == Some(&0) && journal.commodities.get("USD") == Some(&2));
    check_transactions(&journal, &entries, None, None);
    assert!(journal.transactions.iter().all(|tx| tx.id.is_some()), "no opening without --from");
    let fx = journal.transactions.iter().filter(|tx| tx.postings.iter().any(|(a, _, _)| a == "SYS-FX-POSITION"));
    assert!(fx.count() > 0, "the demo's FX deals are in the file, balanced through SYS-FX-POSITION");

    let cashpool_rows = demo.balances(None);
    assert_eq!(check_structure(&journal), non_zero(&cashpool_rows), "posting sums vs cashpool balances");
    for (account, _) in cashpool_rows.keys() {
        assert!(journal.accounts.contains(account), "{account} is not declared");
    }
    compare_with_hledger(&file, &cashpool_rows);
}

#[test]
fn a_date_range_opens_with_the_earlier_balances_and_gives_the_balances_as_of_to() {
    let demo = Demo::new();
    let entries = demo.journal_transactions();
    let dates: Vec<String> =
        entries.values().map(|(_, date)| date.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    assert!(dates.len() >= 10, "{dates:?}");
    let (from, to) = (dates[dates.len() / 3].as_str(), dates[2 * dates.len() / 3].as_str());

    let (file, written) = demo.export("range.journal", &["--from", from, "--to", to]);
    assert!(written.contains(&format!("; value dates: {from} to {to} inclusive")), "{}", &written[..600]);
    let journal = parse(&written);
    let opening = journal.transactions.first().expect("transactions");
    assert_eq!((opening.id.as_deref(), opening.date.as_str()), (None, from), "the opening comes first");
    let before = demo.balances(Some(&previous_day(from)));
    let opened: Balances = opening
        .postings
        .iter()
        .map(|(account, amount, currency)| ((unescape(account), currency.clone()), amount.clone()))
        .collect();
    assert_eq!(opened.len(), opening.postings.len(), "one opening posting per account and currency");
    assert_eq!(opened, non_zero(&before), "the opening carries the balances value-dated before --from");
    check_transactions(&journal, &entries, Some(from), Some(to));

    let as_of_to = demo.balances(Some(to));
    assert_ne!(non_zero(&as_of_to), non_zero(&demo.balances(None)), "the range must leave something out");
    assert_eq!(check_structure(&journal), non_zero(&as_of_to), "posting sums vs cashpool balances --as-of TO");
    compare_with_hledger(&file, &as_of_to);

    // Only --to: no opening, the transactions up to TO.
    let (file, written) = demo.export("to.journal", &["--to", from]);
    let journal = parse(&written);
    check_transactions(&journal, &entries, None, Some(from));
    let as_of_from = demo.balances(Some(from));
    assert_eq!(check_structure(&journal), non_zero(&as_of_from));
    compare_with_hledger(&file, &as_of_from);

    // Only --from: the opening, then everything from FROM on.
    let (file, written) = demo.export("from.journal", &["--from", to]);
    let journal = parse(&written);
    check_transactions(&journal, &entries, Some(to), None);
    let all = demo.balances(None);
    assert_eq!(check_structure(&journal), non_zero(&all));
    compare_with_hledger(&file, &all);
}

fn previous_day(date: &str) -> String {
    let day = chrono::NaiveDate::from_str(date).expect("a date");
    day.pred_opt().expect("a day before").to_string()
}
