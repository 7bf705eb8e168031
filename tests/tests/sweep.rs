//! Sweeps (docs/SWEEPS.md, DOMAIN §5) end to end through the public API, on the
//! round-number group of `tests/fixtures/sweep/group.toml`. Each test appends
//! the `[[sweep]]` rules it needs to the group; every expected figure is
//! worked by hand in the table or comment next to it.
//!
//! Most cases share one shape and are one line of a table: a rule, opening
//! balances value-dated on the sweep date (2026-03-02), the report lines
//! (account, direction, amount, reference, capped), the skipped sweeps
//! (account, direction, wanted, reason, capped), the balances and the
//! intercompany positions after. [`check`] runs such a case and also checks,
//! for every run, that the group's total per currency over its non-external
//! accounts does not move and that every line is one journaled `pool_funding`
//! transaction whose id and reference are the line's reference.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use cashpool_files::rates::parse_rates_csv;
use cashpool_ledger::journal::{EntryBody, PostedTransaction};
use cashpool_ledger::model::{AccountKind, Purpose};
use cashpool_ledger::money::Currency;
use cashpool_ledger::storage::MemoryStorage;
use cashpool_ledger::sweep::{Flow, SweepRun};
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{Ledger, PositionRow};
use cashpool_tests::at;
use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;

const GROUP: &str = include_str!("../fixtures/sweep/group.toml");
const RATES: &str = include_str!("../fixtures/sweep/rates.csv");
const HIERARCHY: &str = include_str!("../fixtures/sweep/hierarchy.toml");

/// The sweep date of the table cases (references `SW260302…`).
const DAY: &str = "2026-03-02";

const U: Flow = Flow::Up;
const D: Flow = Flow::Down;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn d(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn ccy(code: &str) -> Currency {
    Currency::from_code(code).unwrap()
}

/// A ledger on the group plus `rules` (TOML), with the rates imported.
fn ledger(rules: &str) -> (MemoryStorage, Ledger) {
    let storage = MemoryStorage::new();
    let config = format!("{GROUP}\n{rules}");
    let ledger = Ledger::create(Box::new(storage.clone()), &config, at()).unwrap();
    let (rows, errors) = parse_rates_csv(RATES, ccy("CNY"));
    assert!(errors.is_empty(), "{errors:?}");
    ledger.import_rates(&rows, at()).unwrap();
    (storage, ledger)
}

/// One `[[sweep]]` table from a one-line spec:
/// `METHOD[=VALUE] DIRECTION [key=value]... [partial]`, where the value of
/// `target` and `threshold` is the method's amount and `range=MIN..MAX` gives
/// the range; other keys are `min_transfer`, `max_transfer`, `rounding` and
/// `priority` (default 1).
fn rule(account: &str, currency: &str, into: &str, spec: &str) -> String {
    let mut words = spec.split_whitespace();
    let method = words.next().expect("a method");
    let direction = words.next().expect("a direction");
    let mut toml = format!("\n[[sweep]]\naccount = \"{account}\"\ncurrency = \"{currency}\"\ninto = \"{into}\"\n");
    match method.split_once('=') {
        None => toml += &format!("method = \"{method}\"\n"),
        Some(("range", bounds)) => {
            let (min, max) = bounds.split_once("..").expect("range=MIN..MAX");
            toml += &format!("method = \"range\"\nmin = \"{min}\"\nmax = \"{max}\"\n");
        }
        Some((name, value)) => toml += &format!("method = \"{name}\"\n{name} = \"{value}\"\n"),
    }
    toml += &format!("direction = \"{direction}\"\n");
    let mut priority = "1";
    for word in words {
        match word.split_once('=') {
            None if word == "partial" => toml += "partial_allowed = true\n",
            Some(("priority", value)) => priority = value,
            Some((key, value)) => toml += &format!("{key} = \"{value}\"\n"),
            None => panic!("unknown word {word:?} in {spec:?}"),
        }
    }
    toml + &format!("priority = {priority}\n")
}

/// The external account that funds an account on its side of the border.
fn external_for(account: &str) -> &'static str {
    if ["HK-OPS", "SG-OPS", "JP-OPS", "H-IMA"].contains(&account) {
        "EXT-OFF"
    } else {
        "EXT-ON"
    }
}

/// Moves `amount` (signed) into `account` from its external counterpart, value-dated `date`.
fn fund(ledger: &Ledger, id: &str, date: &str, account: &str, currency: &str, amount: &str) {
    let amount = dec(amount);
    if amount.is_zero() {
        return;
    }
    let ext = external_for(account);
    let (from, to) = if amount > Decimal::ZERO { (ext, account) } else { (account, ext) };
    let tx =
        TransactionRequest::transfer(id, d(date), from, to, currency, amount.abs(), Purpose::CurrentAccount, "", "");
    ledger.post(&tx, "sweep-test", at()).unwrap_or_else(|rejection| panic!("{id}: {rejection}"));
}

fn balance(ledger: &Ledger, account: &str, currency: &str, as_of: Option<&str>) -> Decimal {
    ledger.balance(account, ccy(currency), as_of.map(d)).unwrap()
}

/// Per currency, the total over every account but the external ones (system accounts included).
fn group_totals(ledger: &Ledger) -> BTreeMap<Currency, Decimal> {
    let external: BTreeSet<String> =
        ledger.accounts().into_iter().filter(|a| a.kind == AccountKind::External).map(|a| a.id).collect();
    let mut totals = BTreeMap::new();
    for row in ledger.balances(None, None, None).unwrap() {
        if !external.contains(&row.account) {
            *totals.entry(row.currency).or_insert(Decimal::ZERO) += row.balance;
        }
    }
    totals
}

/// Every posted transaction, by id.
fn transactions(ledger: &Ledger) -> BTreeMap<String, PostedTransaction> {
    ledger
        .entries(1)
        .filter_map(|item| match item.unwrap().0.body {
            EntryBody::Transaction(tx) => Some((tx.id.clone(), tx)),
            _ => None,
        })
        .collect()
}

/// A report line as the tests state it: (account, direction, amount as printed, reference, capped).
type Line<'a> = (&'a str, Flow, &'a str, &'a str, bool);
/// A skipped sweep: (account, direction, wanted as printed, reason, capped).
type Skip<'a> = (&'a str, Flow, &'a str, &'a str, bool);

fn report_lines(run: &SweepRun) -> Vec<(String, Flow, String, String, bool)> {
    run.sweeps
        .iter()
        .map(|l| (l.account.clone(), l.direction, l.amount.to_string(), l.reference.clone(), l.capped))
        .collect()
}

fn report_skipped(run: &SweepRun) -> Vec<(String, Flow, String, String, bool)> {
    run.skipped
        .iter()
        .map(|s| (s.account.clone(), s.direction, s.wanted.to_string(), s.reason.code().to_string(), s.capped))
        .collect()
}

fn owned(items: &[Line]) -> Vec<(String, Flow, String, String, bool)> {
    items.iter().map(|(a, f, m, r, c)| (a.to_string(), *f, m.to_string(), r.to_string(), *c)).collect()
}

/// Runs the sweep of `date` and checks the report, the group totals and the journaled transactions.
fn run_and_check(case: &str, ledger: &Ledger, date: &str, lines: &[Line], skipped: &[Skip]) -> SweepRun {
    let totals = group_totals(ledger);
    let n_before = ledger.n_transactions();
    let outcome = ledger.sweep(d(date), false, at()).unwrap();
    assert!(!outcome.already_run && !outcome.dry_run, "{case}: {outcome:?}");
    assert_eq!(outcome.run.date, d(date), "{case}");
    assert_eq!(report_lines(&outcome.run), owned(lines), "{case}: sweep lines");
    assert_eq!(report_skipped(&outcome.run), owned(skipped), "{case}: skipped sweeps");
    assert_eq!(group_totals(ledger), totals, "{case}: a sweep changed the group's total");
    assert_eq!(ledger.n_transactions(), n_before + lines.len() as u64, "{case}: one transaction per sweep");
    let txs = transactions(ledger);
    for line in &outcome.run.sweeps {
        let tx = txs.get(&line.reference).unwrap_or_else(|| panic!("{case}: no transaction {}", line.reference));
        assert_eq!(tx.reference, line.reference, "{case}");
        assert_eq!((tx.value_date, tx.purpose), (d(date), Purpose::PoolFunding), "{case}");
        let (from, to) = if line.direction == U { (&line.account, &line.into) } else { (&line.into, &line.account) };
        let leg = |account: &str| {
            tx.postings.iter().filter(|p| p.account == account && p.currency == line.currency).map(|p| p.amount).sum()
        };
        assert_eq!((leg(from), leg(to)), (-line.amount, line.amount), "{case}: {tx:?}");
        assert_eq!(line.amount.scale(), line.currency.minor_units(), "{case}: {line:?} not at minor units");
    }
    outcome.run
}

/// The positions as `(entity, currency, position)` text.
fn positions(ledger: &Ledger, as_of: Option<&str>) -> Vec<(String, String, String)> {
    ledger
        .positions(as_of.map(d))
        .into_iter()
        .map(|PositionRow { entity, currency, position }| (entity, currency.to_string(), position.to_string()))
        .collect()
}

fn owned3(items: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    items.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect()
}

/// The shared shape: `rules`, opening balances `(account, currency, amount)` value-dated on
/// [`DAY`], then the report, the balances `(account, currency, amount)` and positions
/// `(entity, currency, position)` after.
#[allow(clippy::too_many_arguments)]
fn check(
    case: &str,
    rules: &str,
    opening: &[(&str, &str, &str)],
    lines: &[Line],
    skipped: &[Skip],
    after: &[(&str, &str, &str)],
    after_positions: &[(&str, &str, &str)],
) -> (MemoryStorage, Ledger) {
    let (storage, ledger) = ledger(rules);
    for (idx, (account, currency, amount)) in opening.iter().enumerate() {
        fund(&ledger, &format!("OPEN-{idx}"), DAY, account, currency, amount);
    }
    run_and_check(case, &ledger, DAY, lines, skipped);
    for (account, currency, amount) in after {
        assert_eq!(balance(&ledger, account, currency, None), dec(amount), "{case}: balance of {account} {currency}");
    }
    assert_eq!(positions(&ledger, None), owned3(after_positions), "{case}: positions");
    (storage, ledger)
}

// ---------------------------------------------------------------------------------------------
// Every method × direction, one rule, one member
// ---------------------------------------------------------------------------------------------

/// (member account, currency, header, member entity)
type Member = (&'static str, &'static str, &'static str, &'static str);
const SZ: Member = ("SZ-OPS", "CNY", "H-DMA", "M-SZ");
const JP: Member = ("JP-OPS", "JPY", "H-IMA", "M-JP");

#[derive(Debug, Clone, Copy)]
enum Want {
    /// Nothing to sweep, nothing skipped.
    Nothing,
    /// One sweep of this amount.
    Sweep(Flow, &'static str),
    /// Skipped: direction, wanted, reason.
    Skipped(Flow, &'static str, &'static str),
}
use Want::{Nothing, Skipped, Sweep};

/// (member, rule spec, opening balance, expected)
#[rustfmt::skip]
const METHOD_CASES: &[(Member, &str, &str, Want)] = &[
    // zero: B when B > 0 (up), -B when B < 0 (down)
    (SZ, "zero both", "1000.00", Sweep(U, "1000.00")),
    (SZ, "zero both", "-1000.00", Sweep(D, "1000.00")),
    (SZ, "zero both", "0.00", Nothing),
    (SZ, "zero both", "0.01", Sweep(U, "0.01")),
    (SZ, "zero both", "-0.01", Sweep(D, "0.01")),
    (SZ, "zero up", "1000.00", Sweep(U, "1000.00")),
    (SZ, "zero up", "-1000.00", Nothing),
    (SZ, "zero down", "1000.00", Nothing),
    (SZ, "zero down", "-1000.00", Sweep(D, "1000.00")),
    // target 500.00: B - target above, target - B below
    (SZ, "target=500.00 both", "500.00", Nothing),
    (SZ, "target=500.00 both", "500.01", Sweep(U, "0.01")),
    (SZ, "target=500.00 both", "499.99", Sweep(D, "0.01")),
    (SZ, "target=500.00 both", "-100.00", Sweep(D, "600.00")),
    (SZ, "target=500.00 up", "800.00", Sweep(U, "300.00")),
    (SZ, "target=500.00 up", "499.99", Nothing),
    (SZ, "target=500.00 down", "800.00", Nothing),
    (SZ, "target=500.00 down", "200.00", Sweep(D, "300.00")),
    (SZ, "target=0.00 both", "250.00", Sweep(U, "250.00")),
    // threshold 1000.00: all of B once B >= threshold; -B when B < 0
    (SZ, "threshold=1000.00 both", "1000.00", Sweep(U, "1000.00")),
    (SZ, "threshold=1000.00 both", "999.99", Nothing),
    (SZ, "threshold=1000.00 both", "1000.01", Sweep(U, "1000.01")),
    (SZ, "threshold=1000.00 both", "0.00", Nothing),
    (SZ, "threshold=1000.00 both", "-50.00", Sweep(D, "50.00")),
    (SZ, "threshold=1000.00 up", "-50.00", Nothing),
    (SZ, "threshold=1000.00 up", "5000.00", Sweep(U, "5000.00")),
    (SZ, "threshold=1000.00 down", "1000.00", Nothing),
    (SZ, "threshold=1000.00 down", "-50.00", Sweep(D, "50.00")),
    // range 200.00..800.00: B - max above max, min - B below min
    (SZ, "range=200.00..800.00 both", "800.00", Nothing),
    (SZ, "range=200.00..800.00 both", "800.01", Sweep(U, "0.01")),
    (SZ, "range=200.00..800.00 both", "200.00", Nothing),
    (SZ, "range=200.00..800.00 both", "199.99", Sweep(D, "0.01")),
    (SZ, "range=200.00..800.00 both", "500.00", Nothing),
    (SZ, "range=200.00..800.00 both", "1000.00", Sweep(U, "200.00")),
    (SZ, "range=200.00..800.00 both", "-100.00", Sweep(D, "300.00")),
    (SZ, "range=200.00..800.00 up", "900.00", Sweep(U, "100.00")),
    (SZ, "range=200.00..800.00 up", "100.00", Nothing),
    (SZ, "range=200.00..800.00 down", "900.00", Nothing),
    (SZ, "range=200.00..800.00 down", "100.00", Sweep(D, "100.00")),
    // min_transfer: skipped (below_min_transfer) under it, swept at it
    (SZ, "zero both min_transfer=100.00", "99.99", Skipped(U, "99.99", "below_min_transfer")),
    (SZ, "zero both min_transfer=100.00", "100.00", Sweep(U, "100.00")),
    (SZ, "zero both min_transfer=100.00", "-99.99", Skipped(D, "99.99", "below_min_transfer")),
    (SZ, "zero both min_transfer=100.00", "-100.00", Sweep(D, "100.00")),
    (SZ, "target=500.00 both min_transfer=100.00", "599.99", Skipped(U, "99.99", "below_min_transfer")),
    (SZ, "target=500.00 both min_transfer=100.00", "600.00", Sweep(U, "100.00")),
    // max_transfer: cut to it
    (SZ, "zero both max_transfer=1000.00", "2500.00", Sweep(U, "1000.00")),
    (SZ, "zero both max_transfer=1000.00", "-2500.00", Sweep(D, "1000.00")),
    (SZ, "zero both max_transfer=1000.00", "1000.00", Sweep(U, "1000.00")),
    (SZ, "zero both max_transfer=1000.00", "999.99", Sweep(U, "999.99")),
    (SZ, "threshold=1000.00 both max_transfer=5000.00", "8000.00", Sweep(U, "5000.00")),
    // rounding multiple: down for concentration, up for funding
    (SZ, "zero both rounding=100.00", "1234.56", Sweep(U, "1200.00")),
    (SZ, "zero both rounding=100.00", "-1234.56", Sweep(D, "1300.00")),
    (SZ, "zero both rounding=100.00", "1200.00", Sweep(U, "1200.00")),
    (SZ, "zero both rounding=100.00", "-1200.00", Sweep(D, "1200.00")),
    (SZ, "zero both rounding=100.00", "99.99", Skipped(U, "99.99", "below_min_transfer")),
    (SZ, "range=200.00..800.00 both rounding=100.00", "1234.56", Sweep(U, "400.00")),
    (SZ, "range=200.00..800.00 both rounding=100.00", "150.00", Sweep(D, "100.00")),
    // rounded, then cut to max_transfer, then checked against min_transfer
    (SZ, "zero both rounding=100.00 max_transfer=1000.00", "1234.56", Sweep(U, "1000.00")),
    (SZ, "zero both rounding=100.00 max_transfer=1000.00", "-1234.56", Sweep(D, "1000.00")),
    (SZ, "zero both rounding=100.00 max_transfer=1050.00", "-1234.56", Sweep(D, "1050.00")),
    (SZ, "zero both rounding=100.00 min_transfer=200.00", "199.00", Skipped(U, "199.00", "below_min_transfer")),
    (SZ, "zero both rounding=100.00 min_transfer=200.00", "-150.00", Sweep(D, "200.00")),
    (SZ, "zero both rounding=100.00 min_transfer=200.00", "250.00", Sweep(U, "200.00")),
    // JPY: no minor units
    (JP, "zero both", "12345", Sweep(U, "12345")),
    (JP, "zero both", "-12345", Sweep(D, "12345")),
    (JP, "zero both", "1", Sweep(U, "1")),
    (JP, "target=1000 both", "1000", Nothing),
    (JP, "target=1000 both", "999", Sweep(D, "1")),
    (JP, "target=1000 both", "1001", Sweep(U, "1")),
    (JP, "threshold=10000 both", "10000", Sweep(U, "10000")),
    (JP, "threshold=10000 both", "9999", Nothing),
    (JP, "range=1000..5000 both", "5001", Sweep(U, "1")),
    (JP, "range=1000..5000 both", "999", Sweep(D, "1")),
    (JP, "zero both rounding=1000", "12345", Sweep(U, "12000")),
    (JP, "zero both rounding=1000", "-12345", Sweep(D, "13000")),
    (JP, "zero both min_transfer=100", "99", Skipped(U, "99", "below_min_transfer")),
    (JP, "zero both max_transfer=5000", "-12345", Sweep(D, "5000")),
];

#[test]
fn every_method_and_direction_at_its_boundaries() {
    for &(member, spec, opening, want) in METHOD_CASES {
        let (account, currency, into, entity) = member;
        let case = format!("{account} {currency} [{spec}] at {opening}");
        let arrow = |flow: Flow| if flow == U { 'U' } else { 'D' };
        let reference = match want {
            Sweep(flow, _) => format!("SW260302R000{}", arrow(flow)),
            _ => String::new(),
        };
        let lines: Vec<Line> = match want {
            Sweep(flow, amount) => vec![(account, flow, amount, &reference, false)],
            _ => Vec::new(),
        };
        let skipped: Vec<Skip> = match want {
            Skipped(flow, wanted, reason) => vec![(account, flow, wanted, reason, false)],
            _ => Vec::new(),
        };
        // What the member receives (+) or gives (-).
        let moved = match want {
            Sweep(U, amount) => -dec(amount),
            Sweep(D, amount) => dec(amount),
            _ => Decimal::ZERO,
        };
        let member_after = (dec(opening) + moved).to_string();
        let header_after = (-moved).to_string();
        let position = (-moved).to_string();
        let after_positions: Vec<(&str, &str, &str)> =
            if moved.is_zero() { Vec::new() } else { vec![(entity, currency, &position)] };
        check(
            &case,
            &rule(account, currency, into, spec),
            &[(account, currency, opening)],
            &lines,
            &skipped,
            &[(account, currency, &member_after), (into, currency, &header_after)],
            &after_positions,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Priorities when the header is short
// ---------------------------------------------------------------------------------------------

/// H-REG holds `header` CNY and may overdraw 500.00; GZ-OPS concentrates 700.00 into it first
/// (every concentration of a level runs before its funding), then SZ-OPS and BJ-OPS are funded.
fn short_header_rules(sz: &str, bj: &str) -> String {
    rule("SZ-OPS", "CNY", "H-REG", sz)
        + &rule("BJ-OPS", "CNY", "H-REG", bj)
        + &rule("GZ-OPS", "CNY", "H-REG", "zero up priority=3")
}

#[test]
fn priority_1_is_funded_first_when_the_header_is_short() {
    let opening = [
        ("H-REG", "CNY", "1000.00"),
        ("SZ-OPS", "CNY", "-1200.00"),
        ("BJ-OPS", "CNY", "-1500.00"),
        ("GZ-OPS", "CNY", "700.00"),
    ];
    // H-REG can give 1000.00 + 500.00 (overdraft) + 700.00 (collected from GZ) = 2200.00:
    // SZ-OPS (priority 1) gets its 1200.00, BJ-OPS (priority 2) the 1000.00 left.
    check(
        "partial allowed",
        &short_header_rules("zero both priority=1", "zero both priority=2 partial"),
        &opening,
        &[
            ("GZ-OPS", U, "700.00", "SW260302R002U", false),
            ("SZ-OPS", D, "1200.00", "SW260302R000D", false),
            ("BJ-OPS", D, "1000.00", "SW260302R001D", false),
        ],
        &[],
        &[
            ("H-REG", "CNY", "-500.00"),
            ("SZ-OPS", "CNY", "0.00"),
            ("BJ-OPS", "CNY", "-500.00"),
            ("GZ-OPS", "CNY", "0.00"),
        ],
        &[("M-BJ", "CNY", "-1000.00"), ("M-GZ", "CNY", "700.00"), ("M-SZ", "CNY", "-1200.00")],
    );
    // Not partial: BJ-OPS is skipped whole and H-REG keeps the 1000.00.
    check(
        "partial not allowed",
        &short_header_rules("zero both priority=1", "zero both priority=2"),
        &opening,
        &[("GZ-OPS", U, "700.00", "SW260302R002U", false), ("SZ-OPS", D, "1200.00", "SW260302R000D", false)],
        &[("BJ-OPS", D, "1500.00", "header_short", false)],
        &[("H-REG", "CNY", "500.00"), ("SZ-OPS", "CNY", "0.00"), ("BJ-OPS", "CNY", "-1500.00")],
        &[("M-GZ", "CNY", "700.00"), ("M-SZ", "CNY", "-1200.00")],
    );
    // Priority 1 on BJ-OPS (listed second): it is funded first and SZ-OPS gets the 700.00 left.
    check(
        "priority, not the file order",
        &short_header_rules("zero both priority=2 partial", "zero both priority=1"),
        &opening,
        &[
            ("GZ-OPS", U, "700.00", "SW260302R002U", false),
            ("BJ-OPS", D, "1500.00", "SW260302R001D", false),
            ("SZ-OPS", D, "700.00", "SW260302R000D", false),
        ],
        &[],
        &[("H-REG", "CNY", "-500.00"), ("SZ-OPS", "CNY", "-500.00"), ("BJ-OPS", "CNY", "0.00")],
        &[("M-BJ", "CNY", "-1500.00"), ("M-GZ", "CNY", "700.00"), ("M-SZ", "CNY", "-700.00")],
    );
    // Equal priorities: ties by account id, BJ-OPS before SZ-OPS.
    check(
        "tie by account id",
        &short_header_rules("zero both priority=1 partial", "zero both priority=1 partial"),
        &opening,
        &[
            ("GZ-OPS", U, "700.00", "SW260302R002U", false),
            ("BJ-OPS", D, "1500.00", "SW260302R001D", false),
            ("SZ-OPS", D, "700.00", "SW260302R000D", false),
        ],
        &[],
        &[("H-REG", "CNY", "-500.00"), ("SZ-OPS", "CNY", "-500.00"), ("BJ-OPS", "CNY", "0.00")],
        &[("M-BJ", "CNY", "-1500.00"), ("M-GZ", "CNY", "700.00"), ("M-SZ", "CNY", "-700.00")],
    );
    // Nothing left for priority 2: skipped header_short even though partial is allowed.
    check(
        "nothing left",
        &short_header_rules("zero both priority=1", "zero both priority=2 partial"),
        &[
            ("H-REG", "CNY", "1000.00"),
            ("SZ-OPS", "CNY", "-2200.00"),
            ("BJ-OPS", "CNY", "-1500.00"),
            ("GZ-OPS", "CNY", "700.00"),
        ],
        &[("GZ-OPS", U, "700.00", "SW260302R002U", false), ("SZ-OPS", D, "2200.00", "SW260302R000D", false)],
        &[("BJ-OPS", D, "1500.00", "header_short", false)],
        &[("H-REG", "CNY", "-500.00"), ("SZ-OPS", "CNY", "0.00"), ("BJ-OPS", "CNY", "-1500.00")],
        &[("M-GZ", "CNY", "700.00"), ("M-SZ", "CNY", "-2200.00")],
    );
    // A partial funding stays on the rounding multiple: H-REG can give 550.00 + 500.00 = 1050.00, gives 1000.00.
    check(
        "partial on the rounding multiple",
        &short_header_rules("zero both priority=1", "zero both priority=2 partial rounding=100.00"),
        &[
            ("H-REG", "CNY", "1050.00"),
            ("SZ-OPS", "CNY", "-1200.00"),
            ("BJ-OPS", "CNY", "-1500.00"),
            ("GZ-OPS", "CNY", "700.00"),
        ],
        &[
            ("GZ-OPS", U, "700.00", "SW260302R002U", false),
            ("SZ-OPS", D, "1200.00", "SW260302R000D", false),
            ("BJ-OPS", D, "1000.00", "SW260302R001D", false),
        ],
        &[],
        &[("H-REG", "CNY", "-450.00"), ("BJ-OPS", "CNY", "-500.00")],
        &[("M-BJ", "CNY", "-1000.00"), ("M-GZ", "CNY", "700.00"), ("M-SZ", "CNY", "-1200.00")],
    );
    // Exactly what the header can give: funded whole, the header ends at minus its overdraft.
    check(
        "header exactly sufficient",
        &short_header_rules("zero both priority=1", "zero both priority=2"),
        &[
            ("H-REG", "CNY", "1000.00"),
            ("SZ-OPS", "CNY", "-1200.00"),
            ("BJ-OPS", "CNY", "-1000.00"),
            ("GZ-OPS", "CNY", "700.00"),
        ],
        &[
            ("GZ-OPS", U, "700.00", "SW260302R002U", false),
            ("SZ-OPS", D, "1200.00", "SW260302R000D", false),
            ("BJ-OPS", D, "1000.00", "SW260302R001D", false),
        ],
        &[],
        &[("H-REG", "CNY", "-500.00"), ("BJ-OPS", "CNY", "0.00")],
        &[("M-BJ", "CNY", "-1000.00"), ("M-GZ", "CNY", "700.00"), ("M-SZ", "CNY", "-1200.00")],
    );
    // One minor unit more than the header can give, not partial: skipped.
    check(
        "header one minor unit short",
        &short_header_rules("zero both priority=1", "zero both priority=2"),
        &[
            ("H-REG", "CNY", "1000.00"),
            ("SZ-OPS", "CNY", "-1200.00"),
            ("BJ-OPS", "CNY", "-1000.01"),
            ("GZ-OPS", "CNY", "700.00"),
        ],
        &[("GZ-OPS", U, "700.00", "SW260302R002U", false), ("SZ-OPS", D, "1200.00", "SW260302R000D", false)],
        &[("BJ-OPS", D, "1000.01", "header_short", false)],
        &[("H-REG", "CNY", "500.00"), ("BJ-OPS", "CNY", "-1000.01")],
        &[("M-GZ", "CNY", "700.00"), ("M-SZ", "CNY", "-1200.00")],
    );
}

// ---------------------------------------------------------------------------------------------
// Multi-level hierarchies: bottom-up
// ---------------------------------------------------------------------------------------------

#[test]
fn members_sweep_before_the_headers_they_sweep_into() {
    // Level 0: GZ-OPS and SZ-OPS concentrate (priority 1, by account id), then BJ-OPS is funded
    // by H-REG. Level 1: H-REG holds 1000.00 - 300.00 = 700.00 and sweeps it into H-TOP.
    // Level 2: H-TOP holds 200.00 + 700.00 = 900.00 and sweeps it into the root H-DMA.
    check(
        "three levels",
        HIERARCHY,
        &[("SZ-OPS", "CNY", "1000.00"), ("BJ-OPS", "CNY", "-300.00"), ("GZ-OPS", "CNY", "200.00")],
        &[
            ("GZ-OPS", U, "200.00", "SW260302R004U", false),
            ("SZ-OPS", U, "1000.00", "SW260302R002U", false),
            ("BJ-OPS", D, "300.00", "SW260302R003D", false),
            ("H-REG", U, "700.00", "SW260302R001U", false),
            ("H-TOP", U, "900.00", "SW260302R000U", false),
        ],
        &[],
        &[
            ("SZ-OPS", "CNY", "0.00"),
            ("BJ-OPS", "CNY", "0.00"),
            ("GZ-OPS", "CNY", "0.00"),
            ("H-REG", "CNY", "0.00"),
            ("H-TOP", "CNY", "0.00"),
            ("H-DMA", "CNY", "900.00"),
        ],
        // The host's own sweeps (H-REG -> H-TOP -> H-DMA) move no position.
        &[("M-BJ", "CNY", "-300.00"), ("M-GZ", "CNY", "200.00"), ("M-SZ", "CNY", "1000.00")],
    );
    // Bottom-up funding: BJ-OPS is funded at level 0 from H-REG's overdraft; H-REG's own funding
    // (level 1) finds H-TOP with only the 200.00 GZ-OPS gave it (no overdraft): header_short.
    // H-TOP then concentrates those 200.00 into the root.
    check(
        "funding does not cascade down",
        HIERARCHY,
        &[("BJ-OPS", "CNY", "-300.00"), ("GZ-OPS", "CNY", "200.00")],
        &[
            ("GZ-OPS", U, "200.00", "SW260302R004U", false),
            ("BJ-OPS", D, "300.00", "SW260302R003D", false),
            ("H-TOP", U, "200.00", "SW260302R000U", false),
        ],
        &[("H-REG", D, "300.00", "header_short", false)],
        &[("H-REG", "CNY", "-300.00"), ("H-TOP", "CNY", "0.00"), ("H-DMA", "CNY", "200.00")],
        &[("M-BJ", "CNY", "-300.00"), ("M-GZ", "CNY", "200.00")],
    );
}

// ---------------------------------------------------------------------------------------------
// Cross-border sweeps within the pool's caps
// ---------------------------------------------------------------------------------------------

/// HK-OPS (offshore) into H-DMA (onshore): cross-border, counted toward the caps
/// (inflow 10,000,000.00 CNY, outflow 5,000,000.00 CNY).
fn hk_rule(currency: &str, spec: &str) -> String {
    rule("HK-OPS", currency, "H-DMA", spec)
}

/// (inflow used, outflow used) of the pool now.
fn pool_use(ledger: &Ledger) -> (Decimal, Decimal) {
    let view = ledger.limits(None);
    (view.inflow.used, view.outflow.used)
}

#[test]
fn a_cross_border_sweep_is_cut_to_the_headroom_or_skipped() {
    let cap = dec("10000000.00");
    let (_, ledger) = check(
        "partial: cut to the inflow headroom",
        &hk_rule("CNY", "zero both partial"),
        &[("HK-OPS", "CNY", "12000000.00")],
        &[("HK-OPS", U, "10000000.00", "SW260302R000U", true)],
        &[],
        &[("HK-OPS", "CNY", "2000000.00"), ("H-DMA", "CNY", "10000000.00")],
        &[("M-HK", "CNY", "10000000.00")],
    );
    assert_eq!(pool_use(&ledger), (cap, Decimal::ZERO));
    assert_eq!(ledger.limits(None).inflow.headroom, Decimal::ZERO);

    let (_, ledger) = check(
        "not partial: skipped for the limit",
        &hk_rule("CNY", "zero both"),
        &[("HK-OPS", "CNY", "12000000.00")],
        &[],
        &[("HK-OPS", U, "12000000.00", "limit", true)],
        &[("HK-OPS", "CNY", "12000000.00"), ("H-DMA", "CNY", "0.00")],
        &[],
    );
    assert_eq!(pool_use(&ledger), (Decimal::ZERO, Decimal::ZERO));

    let (_, ledger) = check(
        "exactly the cap: swept whole, not capped",
        &hk_rule("CNY", "zero both"),
        &[("HK-OPS", "CNY", "10000000.00")],
        &[("HK-OPS", U, "10000000.00", "SW260302R000U", false)],
        &[],
        &[("HK-OPS", "CNY", "0.00")],
        &[("M-HK", "CNY", "10000000.00")],
    );
    assert_eq!(pool_use(&ledger), (cap, Decimal::ZERO));

    check(
        "one minor unit above the cap, not partial",
        &hk_rule("CNY", "zero both"),
        &[("HK-OPS", "CNY", "10000000.01")],
        &[],
        &[("HK-OPS", U, "10000000.01", "limit", true)],
        &[("HK-OPS", "CNY", "10000000.01")],
        &[],
    );
    check(
        "one minor unit above the cap, partial",
        &hk_rule("CNY", "zero both partial"),
        &[("HK-OPS", "CNY", "10000000.01")],
        &[("HK-OPS", U, "10000000.00", "SW260302R000U", true)],
        &[],
        &[("HK-OPS", "CNY", "0.01")],
        &[("M-HK", "CNY", "10000000.00")],
    );

    let (_, ledger) = check(
        "under the cap: not capped",
        &hk_rule("CNY", "zero both partial"),
        &[("HK-OPS", "CNY", "3000000.00")],
        &[("HK-OPS", U, "3000000.00", "SW260302R000U", false)],
        &[],
        &[("HK-OPS", "CNY", "0.00")],
        &[("M-HK", "CNY", "3000000.00")],
    );
    assert_eq!(pool_use(&ledger), (dec("3000000.00"), Decimal::ZERO));

    // Funding HK-OPS from onshore is an outflow: cut to the 5,000,000.00 outflow cap.
    let (_, ledger) = check(
        "partial: cut to the outflow headroom",
        &hk_rule("CNY", "zero both partial"),
        &[("HK-OPS", "CNY", "-6000000.00")],
        &[("HK-OPS", D, "5000000.00", "SW260302R000D", true)],
        &[],
        &[("HK-OPS", "CNY", "-1000000.00"), ("H-DMA", "CNY", "-5000000.00")],
        &[("M-HK", "CNY", "-5000000.00")],
    );
    assert_eq!(pool_use(&ledger), (Decimal::ZERO, dec("5000000.00")));

    // USD at 7 onshore: the headroom is 10,000,000.00 / 7 = 1,428,571.428571… USD, cut down to
    // 1,428,571.42 USD = 9,999,999.94 CNY: the use is within one minor unit's conversion (0.07) of the cap.
    let (_, ledger) = check(
        "partial in USD",
        &hk_rule("USD", "zero both partial"),
        &[("HK-OPS", "USD", "2000000.00")],
        &[("HK-OPS", U, "1428571.42", "SW260302R000U", true)],
        &[],
        &[("HK-OPS", "USD", "571428.58"), ("H-DMA", "USD", "1428571.42")],
        &[("M-HK", "USD", "1428571.42")],
    );
    let (inflow, _) = pool_use(&ledger);
    assert_eq!(inflow, dec("9999999.94"));
    assert!(cap - inflow >= Decimal::ZERO && cap - inflow < dec("0.07"), "{inflow}");
}

#[test]
fn the_headroom_left_by_an_earlier_run_is_what_a_later_run_can_use() {
    let (_, ledger) = check(
        "first day",
        &hk_rule("CNY", "zero both partial"),
        &[("HK-OPS", "CNY", "6000000.00")],
        &[("HK-OPS", U, "6000000.00", "SW260302R000U", false)],
        &[],
        &[("HK-OPS", "CNY", "0.00")],
        &[("M-HK", "CNY", "6000000.00")],
    );
    fund(&ledger, "OPEN-NEXT", "2026-03-03", "HK-OPS", "CNY", "6000000.00");
    run_and_check("second day", &ledger, "2026-03-03", &[("HK-OPS", U, "4000000.00", "SW260303R000U", true)], &[]);
    assert_eq!(pool_use(&ledger), (dec("10000000.00"), Decimal::ZERO));
    assert_eq!(balance(&ledger, "HK-OPS", "CNY", None), dec("2000000.00"));
    assert_eq!(positions(&ledger, None), owned3(&[("M-HK", "CNY", "10000000.00")]));
}

#[test]
fn a_partial_sweep_without_headroom_is_skipped_with_what_it_wanted() {
    // The first run uses the whole inflow cap; the next day HK-OPS holds 1,000.00 more.
    let (_, ledger) = check(
        "at the cap",
        &hk_rule("CNY", "zero both partial"),
        &[("HK-OPS", "CNY", "10000000.00")],
        &[("HK-OPS", U, "10000000.00", "SW260302R000U", false)],
        &[],
        &[("HK-OPS", "CNY", "0.00")],
        &[("M-HK", "CNY", "10000000.00")],
    );
    fund(&ledger, "OPEN-NEXT", "2026-03-03", "HK-OPS", "CNY", "1000.00");
    // No headroom: even a partial sweep is skipped for the limit; the report keeps what the rule
    // wanted (`wanted`: "What the rule wanted to move"), at the currency's minor units.
    run_and_check("no headroom", &ledger, "2026-03-03", &[], &[("HK-OPS", U, "1000.00", "limit", true)]);
    assert_eq!(balance(&ledger, "HK-OPS", "CNY", None), dec("1000.00"));
}

// ---------------------------------------------------------------------------------------------
// Value-dated basis
// ---------------------------------------------------------------------------------------------

#[test]
fn the_swept_balance_is_value_dated_and_never_above_the_balance_of_all_postings() {
    /// (case, postings (value date, amount) in posting order, expected sweep, SZ-OPS after as of DAY and now)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<(Flow, &'a str)>, &'a str, &'a str);
    #[rustfmt::skip]
    let cases: &[Case] = &[
        ("later credit excluded", &[("2026-03-02", "1000.00"), ("2026-03-05", "500.00")], Some((U, "1000.00")), "0.00", "500.00"),
        ("back-valued credit included", &[("2026-03-02", "1000.00"), ("2026-02-20", "200.00")], Some((U, "1200.00")), "0.00", "0.00"),
        ("only a later credit", &[("2026-03-03", "1000.00")], None, "0.00", "1000.00"),
        ("later debit respected", &[("2026-03-02", "1000.00"), ("2026-03-05", "-400.00")], Some((U, "600.00")), "400.00", "0.00"),
        ("debit funded, later credit ignored", &[("2026-03-02", "-1000.00"), ("2026-03-05", "1500.00")], Some((D, "1000.00")), "0.00", "1500.00"),
    ];
    for (case, postings, want, as_of_day, now) in cases {
        let (_, ledger) = ledger(&rule("SZ-OPS", "CNY", "H-DMA", "zero both"));
        for (idx, (date, amount)) in postings.iter().enumerate() {
            fund(&ledger, &format!("OPEN-{idx}"), date, "SZ-OPS", "CNY", amount);
        }
        let reference = match want {
            Some((U, _)) => "SW260302R000U",
            _ => "SW260302R000D",
        };
        let lines: Vec<Line> = want.iter().map(|(flow, amount)| ("SZ-OPS", *flow, *amount, reference, false)).collect();
        run_and_check(case, &ledger, DAY, &lines, &[]);
        assert_eq!(balance(&ledger, "SZ-OPS", "CNY", Some(DAY)), dec(as_of_day), "{case}");
        assert_eq!(balance(&ledger, "SZ-OPS", "CNY", None), dec(now), "{case}");
    }
}

// ---------------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------------

#[test]
fn references_are_short_unique_and_the_transaction_ids() {
    // Rule i sweeps REFERENCE_RULES[i]; every header is a master that never runs short.
    const REFERENCE_RULES: [(&str, &str, &str); 6] = [
        ("SZ-OPS", "CNY", "H-DMA"),
        ("BJ-OPS", "CNY", "H-DMA"),
        ("GZ-OPS", "CNY", "H-DMA"),
        ("HK-OPS", "CNY", "H-IMA"),
        ("JP-OPS", "JPY", "H-IMA"),
        ("H-REG", "CNY", "H-DMA"),
    ];
    let rules: String = REFERENCE_RULES.iter().map(|(a, c, i)| rule(a, c, i, "zero both")).collect();
    let (_, ledger) = ledger(&rules);
    let mut seen = BTreeSet::new();
    let dates = ["2026-03-02", "2026-03-03", "2026-12-31", "2027-01-01"];
    for (day_idx, date) in dates.iter().enumerate() {
        // Alternate the directions so that both U and D references occur for every rule
        // (H-REG may overdraw 500.00 only).
        let sign = if day_idx % 2 == 0 { "" } else { "-" };
        for (idx, (account, currency, _)) in REFERENCE_RULES.iter().enumerate() {
            let amount = if *currency == "JPY" { "1000" } else { "100.00" };
            fund(&ledger, &format!("OPEN-{day_idx}-{idx}"), date, account, currency, &format!("{sign}{amount}"));
        }
        let run = ledger.sweep(d(date), false, at()).unwrap().run;
        assert_eq!(run.sweeps.len(), REFERENCE_RULES.len(), "{date}: {run:?}");
        assert!(run.skipped.is_empty(), "{date}: {run:?}");
        let txs = transactions(&ledger);
        for line in &run.sweeps {
            let reference = &line.reference;
            assert!(reference.len() <= 16, "{reference}: longer than an MT940 :61: reference");
            let arrow = if line.direction == U { 'U' } else { 'D' };
            assert_eq!(arrow, if sign.is_empty() { 'U' } else { 'D' });
            let idx = REFERENCE_RULES.iter().position(|r| r.0 == line.account && r.1 == line.currency.code()).unwrap();
            let yymmdd = d(date).format("%y%m%d");
            assert_eq!(reference, &format!("SW{yymmdd}R{idx:03}{arrow}"));
            assert_eq!(reference.len(), 13);
            assert!(seen.insert(reference.clone()), "{reference} used twice");
            let tx = &txs[reference];
            assert_eq!((&tx.id, &tx.reference, tx.value_date), (reference, reference, d(date)));
        }
    }
    assert_eq!(seen.len(), dates.len() * REFERENCE_RULES.len());
    // Every pool_funding transaction is one of the report lines.
    let funding: BTreeSet<String> =
        transactions(&ledger).into_values().filter(|tx| tx.purpose == Purpose::PoolFunding).map(|tx| tx.id).collect();
    assert_eq!(funding, seen);
}

#[test]
fn a_sweep_reference_stays_unique_in_the_store_whatever_was_posted_before() {
    // docs/SWEEPS.md: the id "is unique in the store". An ordinary post that took the id a sweep
    // will use must either be refused, or the sweep must still run (and its dry run agree).
    let (_, ledger) = ledger(&rule("SZ-OPS", "CNY", "H-DMA", "zero both"));
    let squatter = TransactionRequest::transfer(
        "SW260302R000U",
        d(DAY),
        "EXT-ON",
        "SZ-OPS",
        "CNY",
        dec("5.00"),
        Purpose::CurrentAccount,
        "",
        "",
    );
    if cashpool_tests::refusal(ledger.post(&squatter, "sweep-test", at())).is_err() {
        return; // sweep ids are reserved: fine
    }
    let dry = ledger.sweep(d(DAY), true, at()).unwrap();
    let real = ledger.sweep(d(DAY), false, at());
    let real = real.unwrap_or_else(|err| panic!("the sweep of {DAY} cannot run: {err}"));
    assert_eq!(real.run, dry.run);
    assert_eq!(real.run.sweeps.len(), 1);
    assert_ne!(real.run.sweeps[0].reference, "SW260302R000U");
    assert_eq!(balance(&ledger, "SZ-OPS", "CNY", None), Decimal::ZERO);
}

// ---------------------------------------------------------------------------------------------
// Idempotence and dry runs
// ---------------------------------------------------------------------------------------------

#[test]
fn a_date_is_swept_once_and_a_dry_run_is_the_run_that_follows() {
    let (storage, ledger) = ledger(HIERARCHY);
    fund(&ledger, "SZ", DAY, "SZ-OPS", "CNY", "1000.00");
    fund(&ledger, "BJ", DAY, "BJ-OPS", "CNY", "-300.00");
    fund(&ledger, "GZ", DAY, "GZ-OPS", "CNY", "200.00");
    let before = (ledger.state_digest(), ledger.head(), ledger.n_transactions());

    let dry = ledger.sweep(d(DAY), true, at()).unwrap();
    assert!(dry.dry_run && !dry.already_run);
    assert_eq!(dry.run.sweeps.len(), 5);
    assert_eq!((ledger.state_digest(), ledger.head(), ledger.n_transactions()), before, "a dry run wrote");

    let real = ledger.sweep(d(DAY), false, at()).unwrap();
    assert!(!real.dry_run && !real.already_run);
    assert_eq!(real.run, dry.run, "the dry run planned another run");
    let after = (ledger.state_digest(), ledger.head(), ledger.n_transactions());
    assert_ne!(after, before);

    // A posting on the date after the run changes nothing: the date was swept.
    fund(&ledger, "SZ-LATE", DAY, "SZ-OPS", "CNY", "500.00");
    let after = (ledger.state_digest(), ledger.head(), ledger.n_transactions());
    for dry_run in [false, true] {
        let again = ledger.sweep(d(DAY), dry_run, at()).unwrap();
        assert!(again.already_run, "dry_run {dry_run}: {again:?}");
        assert_eq!(again.dry_run, dry_run);
        assert_eq!(again.run, real.run);
        assert_eq!((ledger.state_digest(), ledger.head(), ledger.n_transactions()), after);
    }
    assert_eq!(balance(&ledger, "SZ-OPS", "CNY", None), dec("500.00"));

    // The run is journaled: a reopened ledger knows it.
    drop(ledger);
    let reopened = Ledger::open(Box::new(storage)).unwrap();
    assert_eq!((reopened.state_digest(), reopened.head(), reopened.n_transactions()), after);
    let again = reopened.sweep(d(DAY), false, at()).unwrap();
    assert!(again.already_run);
    assert_eq!(again.run, real.run);
    assert_eq!(reopened.state_digest(), after.0);
}

#[test]
fn a_run_with_nothing_to_sweep_is_recorded_too() {
    let (_, ledger) = ledger(HIERARCHY);
    let first = ledger.sweep(d(DAY), false, at()).unwrap();
    assert!(!first.already_run);
    assert!(first.run.sweeps.is_empty() && first.run.skipped.is_empty());
    let digest = ledger.state_digest();
    fund(&ledger, "SZ", DAY, "SZ-OPS", "CNY", "1000.00");
    let digest_funded = ledger.state_digest();
    assert_ne!(digest, digest_funded);
    let again = ledger.sweep(d(DAY), false, at()).unwrap();
    assert!(again.already_run);
    assert_eq!(again.run, first.run);
    assert_eq!(ledger.state_digest(), digest_funded);
}

// ---------------------------------------------------------------------------------------------
// Intercompany positions
// ---------------------------------------------------------------------------------------------

#[test]
fn sweeps_between_entities_move_positions_and_the_hosts_own_do_not() {
    let rules = rule("SZ-OPS", "CNY", "H-DMA", "zero both")
        + &rule("BJ-OPS", "CNY", "H-DMA", "zero both")
        + &rule("H-REG", "CNY", "H-DMA", "zero both")
        + &rule("HK-OPS", "CNY", "H-IMA", "zero both");
    let (_, ledger) = check(
        "positions",
        &rules,
        &[
            ("SZ-OPS", "CNY", "1000.00"),
            ("BJ-OPS", "CNY", "-300.00"),
            ("H-REG", "CNY", "400.00"),
            ("HK-OPS", "CNY", "250.00"),
        ],
        &[
            ("H-REG", U, "400.00", "SW260302R002U", false),
            ("HK-OPS", U, "250.00", "SW260302R003U", false),
            ("SZ-OPS", U, "1000.00", "SW260302R000U", false),
            ("BJ-OPS", D, "300.00", "SW260302R001D", false),
        ],
        &[],
        &[("H-DMA", "CNY", "1100.00"), ("H-IMA", "CNY", "250.00"), ("SYS-IC-POOL", "CNY", "-950.00")],
        // up: +, down: -; H-REG -> H-DMA is the host's own: no position.
        &[("M-BJ", "CNY", "-300.00"), ("M-HK", "CNY", "250.00"), ("M-SZ", "CNY", "1000.00")],
    );
    assert_eq!(positions(&ledger, Some("2026-03-01")), Vec::new());
    assert_eq!(positions(&ledger, Some(DAY)), positions(&ledger, None));
    let txs = transactions(&ledger);
    // The host's own sweep is the bank movement only.
    let host = &txs["SW260302R002U"];
    assert_eq!(host.postings.iter().map(|p| p.account.as_str()).collect::<Vec<_>>(), ["H-REG", "H-DMA"]);
    // A member's sweep also books its position against the pool.
    let member = &txs["SW260302R001D"];
    let legs: BTreeMap<&str, String> =
        member.postings.iter().map(|p| (p.account.as_str(), p.amount.to_string())).collect();
    assert_eq!(
        legs,
        BTreeMap::from([
            ("BJ-OPS", "300.00".to_string()),
            ("H-DMA", "-300.00".to_string()),
            ("SYS-IC-M-BJ", "-300.00".to_string()),
            ("SYS-IC-POOL", "300.00".to_string()),
        ])
    );
}

/// Issue 15, defect 2 (DOMAIN §5: "each sweep between two legal entities creates an intercompany
/// position"): in a sub-pool, where a member's account (GZ-OPS) sweeps into another member's
/// (SZ-OPS) and that one into the host's (H-DMA), the money is lent once: M-GZ lends to M-SZ, and
/// M-SZ passes it on to the pool. Before the fix both members stood at +1000.00 against the pool
/// and the pool paid interest on the same money twice.
#[test]
fn a_sub_pool_books_its_positions_between_the_entities_that_swept() {
    let rules = rule("GZ-OPS", "CNY", "SZ-OPS", "zero both") + &rule("SZ-OPS", "CNY", "H-DMA", "zero both");
    let (_, ledger) = check(
        "sub-pool up",
        &rules,
        &[("GZ-OPS", "CNY", "1000.00"), ("SZ-OPS", "CNY", "250.00")],
        &[("GZ-OPS", U, "1000.00", "SW260302R000U", false), ("SZ-OPS", U, "1250.00", "SW260302R001U", false)],
        &[],
        &[("GZ-OPS", "CNY", "0.00"), ("SZ-OPS", "CNY", "0.00"), ("H-DMA", "CNY", "1250.00")],
        // M-GZ lent 1000.00 to M-SZ; M-SZ lent 1250.00 to the pool and owes M-GZ 1000.00: net 250.00,
        // its own money. The pool owes 1250.00 in all, once.
        &[("M-GZ", "CNY", "1000.00"), ("M-SZ", "CNY", "250.00")],
    );
    assert_eq!(balance(&ledger, "SYS-IC-POOL", "CNY", None), dec("-1250.00"));
    let legs: BTreeMap<String, String> = transactions(&ledger)["SW260302R000U"]
        .postings
        .iter()
        .map(|p| (p.account.clone(), p.amount.to_string()))
        .collect();
    assert_eq!(
        legs,
        BTreeMap::from([
            ("GZ-OPS".to_string(), "-1000.00".to_string()),
            ("SZ-OPS".to_string(), "1000.00".to_string()),
            ("SYS-IC-M-GZ".to_string(), "1000.00".to_string()),
            ("SYS-IC-M-SZ".to_string(), "-1000.00".to_string()),
        ])
    );
    // Funding down the same chain: the pool funds M-SZ, M-SZ funds M-GZ.
    check(
        "sub-pool down",
        &rules,
        &[("GZ-OPS", "CNY", "-400.00")],
        &[("GZ-OPS", D, "400.00", "SW260302R000D", false), ("SZ-OPS", D, "400.00", "SW260302R001D", false)],
        &[],
        &[("GZ-OPS", "CNY", "0.00"), ("SZ-OPS", "CNY", "0.00"), ("H-DMA", "CNY", "-400.00")],
        // M-SZ's position is zero (not listed): it borrowed 400.00 from the pool and lent it on.
        &[("M-GZ", "CNY", "-400.00")],
    );
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// Members of the property: (account, currency, header, entity, largest |opening| in minor units).
const PROP_MEMBERS: [(&str, &str, &str, &str, i64); 6] = [
    ("SZ-OPS", "CNY", "H-DMA", "M-SZ", 500_000_000),
    ("BJ-OPS", "CNY", "H-DMA", "M-BJ", 500_000_000),
    ("GZ-OPS", "CNY", "H-DMA", "M-GZ", 500_000_000),
    ("HK-OPS", "CNY", "H-IMA", "M-HK", 500_000_000),
    ("SG-OPS", "USD", "H-IMA", "M-SG", 500_000_000),
    ("JP-OPS", "JPY", "H-IMA", "M-JP", 10_000_000),
];

#[derive(Debug, Clone)]
struct PropRule {
    /// Opening balance in minor units.
    opening: i64,
    /// `None`: zero; `Some(t)`: target t (minor units).
    target: Option<i64>,
    /// 0 up, 1 down, 2 both.
    direction: u8,
    priority: u8,
}

fn prop_rule(max: i64) -> impl Strategy<Value = PropRule> {
    (-max..=max, prop::option::of(0..=max / 5), 0u8..3, 1u8..4)
        .prop_map(|(opening, target, direction, priority)| PropRule { opening, target, direction, priority })
}

fn run_property(rules: &[PropRule]) -> Result<(), TestCaseError> {
    let mut toml = String::new();
    for ((account, currency, into, _, _), r) in PROP_MEMBERS.iter().zip(rules) {
        let minor = ccy(currency).minor_units();
        let method = match r.target {
            None => "zero".to_string(),
            Some(t) => format!("target={}", Decimal::new(t, minor)),
        };
        let direction = ["up", "down", "both"][r.direction as usize];
        toml += &rule(account, currency, into, &format!("{method} {direction} priority={}", r.priority));
    }
    let (_, ledger) = ledger(&toml);
    for (idx, ((account, currency, ..), r)) in PROP_MEMBERS.iter().zip(rules).enumerate() {
        let amount = Decimal::new(r.opening, ccy(currency).minor_units());
        fund(&ledger, &format!("OPEN-{idx}"), DAY, account, currency, &amount.to_string());
    }
    let totals = group_totals(&ledger);

    // The model: every member is at level 0 under an unbounded-enough master.
    let mut ups = Vec::new();
    let mut downs = Vec::new();
    for (idx, ((account, currency, ..), r)) in PROP_MEMBERS.iter().zip(rules).enumerate() {
        let (b, t) = (r.opening, r.target.unwrap_or(0));
        let minor = ccy(currency).minor_units();
        let (up, down) = ((b - t).max(0), (t - b).max(0));
        if up > 0 && r.direction != 1 {
            ups.push((
                account.to_string(),
                U,
                Decimal::new(up, minor).to_string(),
                format!("SW260302R{idx:03}U"),
                false,
            ));
        } else if down > 0 && r.direction != 0 {
            downs.push((
                r.priority,
                account.to_string(),
                Decimal::new(down, minor).to_string(),
                format!("SW260302R{idx:03}D"),
            ));
        }
    }
    downs.sort();
    let outcome = ledger.sweep(d(DAY), false, at()).unwrap();
    let run = outcome.run;
    prop_assert!(run.skipped.is_empty(), "{:?}", run.skipped);
    // Concentrations first (any order among them), then funding by priority, ties by account id.
    let lines = report_lines(&run);
    let (got_ups, got_downs) = lines.split_at(lines.iter().take_while(|l| l.1 == U).count());
    let mut got_ups = got_ups.to_vec();
    got_ups.sort_by(|a, b| a.3.cmp(&b.3));
    ups.sort_by(|a, b| a.3.cmp(&b.3));
    prop_assert_eq!(got_ups, ups);
    let want_downs: Vec<_> = downs.into_iter().map(|(_, a, m, r)| (a, D, m, r, false)).collect();
    prop_assert_eq!(got_downs.to_vec(), want_downs);

    // (a) the group's total per currency is unchanged.
    prop_assert_eq!(group_totals(&ledger), totals);
    // (b) zero, both: the member ends at exactly zero.
    for ((account, currency, ..), r) in PROP_MEMBERS.iter().zip(rules) {
        if r.target.is_none() && r.direction == 2 {
            prop_assert_eq!(balance(&ledger, account, currency, None), Decimal::ZERO, "{}", account);
        }
    }
    // (c) positions are the signed sums of the sweeps per member.
    let mut want_positions: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for line in &run.sweeps {
        let entity = PROP_MEMBERS.iter().find(|m| m.0 == line.account).unwrap().3;
        let signed = if line.direction == U { line.amount } else { -line.amount };
        *want_positions.entry((entity.to_string(), line.currency.to_string())).or_default() += signed;
    }
    let got_positions: BTreeMap<(String, String), Decimal> =
        ledger.positions(None).into_iter().map(|p| ((p.entity, p.currency.to_string()), p.position)).collect();
    want_positions.retain(|_, v| !v.is_zero());
    prop_assert_eq!(got_positions, want_positions);
    // (d) re-running the date changes nothing.
    let digest = ledger.state_digest();
    let again = ledger.sweep(d(DAY), false, at()).unwrap();
    prop_assert!(again.already_run);
    prop_assert_eq!(again.run, run);
    prop_assert_eq!(ledger.state_digest(), digest);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn sweeps_conserve_the_group_total_and_fold_into_positions(
        rules in (
            prop_rule(PROP_MEMBERS[0].4),
            prop_rule(PROP_MEMBERS[1].4),
            prop_rule(PROP_MEMBERS[2].4),
            prop_rule(PROP_MEMBERS[3].4),
            prop_rule(PROP_MEMBERS[4].4),
            prop_rule(PROP_MEMBERS[5].4),
        )
    ) {
        let (a, b, c, d, e, f) = rules;
        run_property(&[a, b, c, d, e, f])?;
    }
}
