//! Multilateral netting (`docs/NETTING.md`, DOMAIN §6) end to end through the
//! public API, on a group with round numbers (`tests/fixtures/netting/round-group.toml`)
//! and exact rates (`rates.csv`): USD per unit EUR 1.25, JPY 0.008, HKD 0.125.
//! N-SH is the host and netting centre; N-SZ, N-HK and N-SG hold USD; N-DE
//! holds only EUR and N-JP only JPY, so they settle in their own currency at
//! the frozen rate, the FX booked through SYS-FX-POSITION.
//!
//! The hand-checked cycle (`cycle.csv`, cycle date 2026-11-30), in USD:
//!
//! | invoice | payer → payee | amount | USD |
//! |---|---|---|---|
//! | I-01 | SZ → HK | USD 100,000.00 | 100,000.00 |
//! | I-02 | HK → DE | EUR 40,000.00 | 50,000.00 |
//! | I-03 | DE → SG | USD 20,000.00 | 20,000.00 |
//! | I-04 | JP → SZ | JPY 5,000,000 | 40,000.00 |
//! | I-05 | SG → SH | HKD 80,000.00 | 10,000.00 |
//! | I-06 | SH → JP | USD 20,000.00 | 20,000.00 |
//! | I-07 | SZ → DE | USD 5,000.03 | 5,000.03 |
//!
//! Nets: DE +35,000.03, HK +50,000.00, JP −20,000.00, SG +10,000.00,
//! SH −10,000.00, SZ −65,000.03 (Σ 0); gross 245,000.03.
//!
//! Centre: SH→DE 35,000.03, SH→HK 50,000.00, JP→SH 20,000.00, SH→SG
//! 10,000.00, SZ→SH 65,000.03. DE is paid EUR 35,000.03 / 1.25 = 28,000.024 →
//! 28,000.02, worth 35,000.025 → 35,000.02 (half-even): 0.01 to SYS-ROUNDING.
//! JP pays JPY 20,000.00 / 0.008 = 2,500,000 exactly.
//!
//! Direct: payers SZ 65,000.03, JP 20,000.00, SH 10,000.00; receivers HK
//! 50,000.00, DE 35,000.03, SG 10,000.00. Exact pair SH→SG 10,000.00; then
//! greedy SZ→HK 50,000.00, JP→DE 20,000.00, SZ→DE 15,000.03 (4 payments ≤ n−1 = 5).
//! JP→DE: both lack USD, so two legs through the centre: JP→SH (JPY
//! 2,500,000) and SH→DE (EUR 16,000.00). SZ→DE 15,000.03: EUR 12,000.024 →
//! 12,000.02, worth 15,000.025 → 15,000.02: 0.01 to SYS-ROUNDING.
//!
//! Both modes end on the same balances (funding: N-IMA USD 1,000,000.00,
//! SZ-OPS USD 500,000.00, HK-OPS USD 200,000.00, SG-OPS USD 100,000.00,
//! DE-OPS EUR 100,000.00, JP-OPS JPY 10,000,000): N-IMA 990,000.00, SZ-OPS
//! 434,999.97, HK-OPS 250,000.00, SG-OPS 110,000.00, DE-OPS EUR 128,000.02,
//! JP-OPS JPY 7,500,000; SYS-FX-POSITION USD 15,000.02, EUR −28,000.02, JPY
//! 2,500,000; SYS-ROUNDING USD 0.01.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use cashpool_files::invoices::parse_invoices_csv;
use cashpool_files::rates::parse_rates_csv;
use cashpool_ledger::audit;
use cashpool_ledger::cycle::NettingRun;
use cashpool_ledger::journal::{EntryBody, PostedTransaction};
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::netting::{Exclusion, Invoice, Mode};
use cashpool_ledger::storage::MemoryStorage;
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{BatchMode, Ledger, NettingOutcome};
use cashpool_tests::at;
use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;

const GROUP: &str = include_str!("../fixtures/netting/round-group.toml");
const RATES: &str = include_str!("../fixtures/netting/rates.csv");
const RATES_USD_ONLY: &str = include_str!("../fixtures/netting/rates-usd-only.csv");
const CYCLE: &str = include_str!("../fixtures/netting/cycle.csv");
const EXCLUSIONS: &str = include_str!("../fixtures/netting/exclusions.csv");
const SECOND: &str = include_str!("../fixtures/netting/second.csv");
const MISSING_RATES: &str = include_str!("../fixtures/netting/missing-rates.csv");
const OWN_CURRENCY_RATES: &str = include_str!("../fixtures/netting/own-currency-rates.csv");

const OPERATOR: &str = "netting-test";
const CYCLE_DATE: &str = "2026-11-30";

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

fn invoices(text: &str) -> Vec<Invoice> {
    let (rows, errors) = parse_invoices_csv(text);
    assert!(errors.is_empty(), "{errors:?}");
    rows
}

/// A ledger on the round group with `rates` imported (nothing funded).
fn ledger_with(rates: &str) -> (MemoryStorage, Ledger) {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), GROUP, at()).unwrap();
    let (rows, errors) = parse_rates_csv(rates, ccy("CNY"));
    assert!(errors.is_empty(), "{errors:?}");
    let import = ledger.import_rates(&rows, at()).unwrap();
    assert_eq!(import.new_rows, rows.len());
    (storage, ledger)
}

/// Receipts from outside the group, value 2026-11-02: (id, from, to, currency, amount).
fn fund(ledger: &Ledger, rows: &[(&str, &str, &str, &str, &str)]) {
    let requests: Vec<TransactionRequest> = rows
        .iter()
        .map(|&(id, from, to, currency, amount)| {
            TransactionRequest::transfer(
                id,
                d("2026-11-02"),
                from,
                to,
                currency,
                dec(amount),
                Purpose::CurrentAccount,
                "",
                "",
            )
        })
        .collect();
    let outcome = ledger.post_batch(&requests, BatchMode::Atomic, OPERATOR, at()).unwrap();
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
}

/// The funding of the hand-checked cycle.
const FUNDING: [(&str, &str, &str, &str, &str); 6] = [
    ("F-IMA", "EXT-OFF", "N-IMA", "USD", "1000000.00"),
    ("F-SZ", "EXT-ON", "SZ-OPS", "USD", "500000.00"),
    ("F-HK", "EXT-OFF", "HK-OPS", "USD", "200000.00"),
    ("F-SG", "EXT-OFF", "SG-OPS", "USD", "100000.00"),
    ("F-DE", "EXT-OFF", "DE-OPS", "EUR", "100000.00"),
    ("F-JP", "EXT-OFF", "JP-OPS", "JPY", "10000000"),
];

/// The round group, rated and funded.
fn funded() -> (MemoryStorage, Ledger) {
    let (storage, ledger) = ledger_with(RATES);
    fund(&ledger, &FUNDING);
    (storage, ledger)
}

fn net(ledger: &Ledger, cycle: &str, date: &str, text: &str, mode: Mode) -> Result<NettingOutcome, String> {
    cashpool_tests::refusal(ledger.net(cycle, d(date), &invoices(text), mode, None, at())).map_err(|r| r.to_string())
}

/// Everything a refused or repeated cycle must leave as it was.
#[derive(Debug, PartialEq)]
struct Snapshot {
    digest: cashpool_ledger::StateDigest,
    head: (u64, cashpool_ledger::journal::EntryHash),
    n_transactions: u64,
}

fn snapshot(ledger: &Ledger) -> Snapshot {
    Snapshot { digest: ledger.state_digest(), head: ledger.head(), n_transactions: ledger.n_transactions() }
}

fn balance(ledger: &Ledger, account: &str, currency: &str) -> Decimal {
    ledger.balance(account, ccy(currency), None).unwrap()
}

fn positions(outcome: &NettingOutcome) -> Vec<(String, String)> {
    outcome.run.result.positions.iter().map(|p| (p.entity.clone(), p.net.to_string())).collect()
}

fn settlements(outcome: &NettingOutcome) -> Vec<(String, String, String)> {
    outcome.run.result.settlements.iter().map(|s| (s.from.clone(), s.to.clone(), s.amount.to_string())).collect()
}

fn excluded(outcome: &NettingOutcome) -> Vec<(String, Exclusion)> {
    outcome.run.result.excluded.iter().map(|e| (e.invoice.clone(), e.reason)).collect()
}

fn owned<const N: usize>(rows: [(&str, &str); N]) -> Vec<(String, String)> {
    rows.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

fn owned3<const N: usize>(rows: [(&str, &str, &str); N]) -> Vec<(String, String, String)> {
    rows.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect()
}

/// Every journal entry from `from_seq`, in order.
fn bodies(ledger: &Ledger, from_seq: u64) -> Vec<EntryBody> {
    ledger.entries(from_seq).map(|item| item.unwrap().0.body).collect()
}

/// The transactions and netting runs written after `seq`.
fn written_after(ledger: &Ledger, seq: u64) -> (Vec<PostedTransaction>, Vec<NettingRun>) {
    let mut txs = Vec::new();
    let mut runs = Vec::new();
    for body in bodies(ledger, seq + 1) {
        match body {
            EntryBody::Transaction(tx) => txs.push(tx),
            EntryBody::NettingCycle(run) => runs.push(run),
            other => panic!("unexpected entry after the cycle: {other:?}"),
        }
    }
    (txs, runs)
}

/// A transaction's postings as a sorted list of (account, currency, amount).
fn legs(tx: &PostedTransaction) -> Vec<(String, String, String)> {
    let mut legs: Vec<_> =
        tx.postings.iter().map(|p| (p.account.clone(), p.currency.code().to_string(), p.amount.to_string())).collect();
    legs.sort();
    legs
}

fn sorted_legs<const N: usize>(rows: [(&str, &str, &str); N]) -> Vec<(String, String, String)> {
    let mut legs = owned3(rows);
    legs.sort();
    legs
}

/// `NT` + 8 upper-case hex digits + `S` + 4 digits: 15 characters.
fn check_reference(reference: &str) {
    assert_eq!(reference.len(), 15, "{reference}");
    assert!(reference.len() <= 16, "{reference}: longer than an MT940 :61: reference");
    assert!(reference.starts_with("NT"), "{reference}");
    assert!(reference[2..10].bytes().all(|b| b.is_ascii_hexdigit()), "{reference}");
    assert_eq!(&reference[10..11], "S", "{reference}");
    assert!(reference[11..].bytes().all(|b| b.is_ascii_digit()), "{reference}");
}

/// The balances both modes of the hand-checked cycle end on.
fn check_balances_after_the_hand_cycle(ledger: &Ledger) {
    for (account, currency, expected) in [
        ("N-IMA", "USD", "990000.00"),
        ("N-DMA", "USD", "0.00"),
        ("SZ-OPS", "USD", "434999.97"),
        ("HK-OPS", "USD", "250000.00"),
        ("SG-OPS", "USD", "110000.00"),
        ("DE-OPS", "EUR", "128000.02"),
        ("JP-OPS", "JPY", "7500000"),
        ("SYS-FX-POSITION", "USD", "15000.02"),
        ("SYS-FX-POSITION", "EUR", "-28000.02"),
        ("SYS-FX-POSITION", "JPY", "2500000"),
        ("SYS-ROUNDING", "USD", "0.01"),
    ] {
        assert_eq!(balance(ledger, account, currency), dec(expected), "{account} {currency}");
    }
}

const HAND_POSITIONS: [(&str, &str); 6] = [
    ("N-DE", "35000.03"),
    ("N-HK", "50000.00"),
    ("N-JP", "-20000.00"),
    ("N-SG", "10000.00"),
    ("N-SH", "-10000.00"),
    ("N-SZ", "-65000.03"),
];

/// The journaled run: the report, the mode, the frozen rates, the netted invoices.
fn check_journaled_run(run: &NettingRun, outcome: &NettingOutcome, mode: Mode) {
    assert_eq!(run, &outcome.run, "the journaled run is the reported one");
    assert_eq!(run.mode, mode);
    let rates: BTreeMap<String, String> =
        run.rates.iter().map(|(c, r)| (c.code().to_string(), r.to_string())).collect();
    for (currency, rate) in [("EUR", "1.25"), ("JPY", "0.008"), ("HKD", "0.125")] {
        assert_eq!(rates.get(currency).map(String::as_str), Some(rate), "frozen {currency}: {rates:?}");
    }
    assert!(!rates.contains_key("USD") || rates["USD"] == "1", "{rates:?}");
    assert_eq!(run.invoices, ["I-01", "I-02", "I-03", "I-04", "I-05", "I-06", "I-07"]);
    assert_eq!(run.result.date, d(CYCLE_DATE));
    assert_eq!(run.result.currency, ccy("USD"));
    assert_eq!(run.result.gross, dec("245000.03"));
    assert_eq!(run.result.invoices_netted, 7);
    assert!(run.result.excluded.is_empty());
}

// ---------------------------------------------------------------------------------------------
// The hand-checked cycle
// ---------------------------------------------------------------------------------------------

#[test]
fn centre_mode_posts_the_hand_checked_settlements_and_journals_the_cycle() {
    let (_storage, ledger) = funded();
    let (seq, _) = ledger.head();
    let outcome = net(&ledger, "C1", CYCLE_DATE, CYCLE, Mode::Centre).expect("the cycle posts");
    assert!(!outcome.already_run);
    assert_eq!(outcome.run.result.cycle, "C1");
    assert_eq!(positions(&outcome), owned(HAND_POSITIONS));
    assert_eq!(
        settlements(&outcome),
        owned3([
            ("N-SH", "N-DE", "35000.03"),
            ("N-SH", "N-HK", "50000.00"),
            ("N-JP", "N-SH", "20000.00"),
            ("N-SH", "N-SG", "10000.00"),
            ("N-SZ", "N-SH", "65000.03"),
        ])
    );

    let (txs, runs) = written_after(&ledger, seq);
    assert_eq!(runs.len(), 1, "one NettingCycle entry");
    check_journaled_run(&runs[0], &outcome, Mode::Centre);
    let ids: Vec<&str> = txs.iter().map(|tx| tx.id.as_str()).collect();
    assert_eq!(ids, ["NET-C1-0000", "NET-C1-0001", "NET-C1-0002", "NET-C1-0003", "NET-C1-0004"]);
    // Payments into the centre come first (N-JP, N-SZ), then the centre pays out.
    let expected = [
        sorted_legs([
            ("JP-OPS", "JPY", "-2500000"),
            ("SYS-FX-POSITION", "JPY", "2500000"),
            ("SYS-FX-POSITION", "USD", "-20000.00"),
            ("N-IMA", "USD", "20000.00"),
        ]),
        sorted_legs([("SZ-OPS", "USD", "-65000.03"), ("N-IMA", "USD", "65000.03")]),
        sorted_legs([
            ("N-IMA", "USD", "-35000.03"),
            ("SYS-ROUNDING", "USD", "0.01"),
            ("SYS-FX-POSITION", "USD", "35000.02"),
            ("SYS-FX-POSITION", "EUR", "-28000.02"),
            ("DE-OPS", "EUR", "28000.02"),
        ]),
        sorted_legs([("N-IMA", "USD", "-50000.00"), ("HK-OPS", "USD", "50000.00")]),
        sorted_legs([("N-IMA", "USD", "-10000.00"), ("SG-OPS", "USD", "10000.00")]),
    ];
    for (tx, expected) in txs.iter().zip(&expected) {
        assert_eq!(&legs(tx), expected, "{}", tx.id);
        assert_eq!(tx.purpose, Purpose::CurrentAccount, "{}", tx.id);
        assert_eq!(tx.value_date, d(CYCLE_DATE), "{}", tx.id);
        check_reference(&tx.reference);
    }
    // The conversions record the frozen rate: own currency → USD.
    let rate = txs[2].rate.as_ref().expect("the EUR leg records its rate");
    assert_eq!((rate.base.code(), rate.quote.code(), rate.rate), ("EUR", "USD", dec("1.25")), "{rate:?}");
    let rate = txs[0].rate.as_ref().expect("the JPY leg records its rate");
    assert_eq!((rate.base.code(), rate.quote.code(), rate.rate), ("JPY", "USD", dec("0.008")), "{rate:?}");
    assert!(txs[1].rate.is_none());
    let references: BTreeSet<&str> = txs.iter().map(|tx| tx.reference.as_str()).collect();
    assert_eq!(references.len(), txs.len(), "references are unique");
    let tags: BTreeSet<&str> = txs.iter().map(|tx| &tx.reference[2..10]).collect();
    assert_eq!(tags.len(), 1, "one cycle tag: {references:?}");

    check_balances_after_the_hand_cycle(&ledger);
}

#[test]
fn direct_mode_pairs_first_routes_two_converting_entities_through_the_centre() {
    let (_storage, ledger) = funded();
    let (seq, _) = ledger.head();
    let outcome = net(&ledger, "D1", CYCLE_DATE, CYCLE, Mode::Direct).expect("the cycle posts");
    assert!(!outcome.already_run);
    assert_eq!(positions(&outcome), owned(HAND_POSITIONS));
    assert_eq!(
        settlements(&outcome),
        owned3([
            ("N-SH", "N-SG", "10000.00"),
            ("N-SZ", "N-HK", "50000.00"),
            ("N-JP", "N-DE", "20000.00"),
            ("N-SZ", "N-DE", "15000.03"),
        ])
    );

    let (txs, runs) = written_after(&ledger, seq);
    assert_eq!(runs.len(), 1);
    check_journaled_run(&runs[0], &outcome, Mode::Direct);
    let ids: Vec<&str> = txs.iter().map(|tx| tx.id.as_str()).collect();
    assert_eq!(ids, ["NET-D1-0000", "NET-D1-0001", "NET-D1-0002", "NET-D1-0003", "NET-D1-0004"]);
    // Payments into the centre come first (N-JP's leg), then the rest in settlement order.
    let expected = [
        // JP → DE: both lack USD, two legs through the centre.
        sorted_legs([
            ("JP-OPS", "JPY", "-2500000"),
            ("SYS-FX-POSITION", "JPY", "2500000"),
            ("SYS-FX-POSITION", "USD", "-20000.00"),
            ("N-IMA", "USD", "20000.00"),
        ]),
        sorted_legs([("N-IMA", "USD", "-10000.00"), ("SG-OPS", "USD", "10000.00")]),
        sorted_legs([("SZ-OPS", "USD", "-50000.00"), ("HK-OPS", "USD", "50000.00")]),
        sorted_legs([
            ("N-IMA", "USD", "-20000.00"),
            ("SYS-FX-POSITION", "USD", "20000.00"),
            ("SYS-FX-POSITION", "EUR", "-16000.00"),
            ("DE-OPS", "EUR", "16000.00"),
        ]),
        sorted_legs([
            ("SZ-OPS", "USD", "-15000.03"),
            ("SYS-ROUNDING", "USD", "0.01"),
            ("SYS-FX-POSITION", "USD", "15000.02"),
            ("SYS-FX-POSITION", "EUR", "-12000.02"),
            ("DE-OPS", "EUR", "12000.02"),
        ]),
    ];
    for (tx, expected) in txs.iter().zip(&expected) {
        assert_eq!(&legs(tx), expected, "{}", tx.id);
        assert_eq!(tx.purpose, Purpose::CurrentAccount, "{}", tx.id);
        check_reference(&tx.reference);
    }
    assert!(txs[0].memo.contains("N-JP pays N-SH"), "{}", txs[0].memo);
    assert!(txs[3].memo.contains("N-SH pays N-DE"), "{}", txs[3].memo);
    let references: BTreeSet<&str> = txs.iter().map(|tx| tx.reference.as_str()).collect();
    assert_eq!(references.len(), txs.len(), "references are unique");

    check_balances_after_the_hand_cycle(&ledger);
}

#[test]
fn two_cycles_have_distinct_references() {
    let (_storage, ledger) = funded();
    let (seq, _) = ledger.head();
    net(&ledger, "2026-11", CYCLE_DATE, CYCLE, Mode::Centre).unwrap();
    net(&ledger, "2026-12", "2026-12-31", SECOND.replace("E-OK", "E-NEW").as_str(), Mode::Centre).unwrap();
    let (txs, runs) = written_after(&ledger, seq);
    assert_eq!(runs.len(), 2);
    let references: BTreeSet<&str> = txs.iter().map(|tx| tx.reference.as_str()).collect();
    assert_eq!(references.len(), txs.len(), "references unique across cycles: {references:?}");
    for tx in &txs {
        check_reference(&tx.reference);
        assert!(tx.id.starts_with("NET-2026-11-") || tx.id.starts_with("NET-2026-12-"), "{}", tx.id);
    }
}

// ---------------------------------------------------------------------------------------------
// Eligibility
// ---------------------------------------------------------------------------------------------

#[test]
fn every_exclusion_reason_first_failing_reason_wins() {
    let (_storage, ledger) = funded();
    let outcome = net(&ledger, "X1", CYCLE_DATE, EXCLUSIONS, Mode::Centre).unwrap();
    assert_eq!(
        excluded(&outcome),
        vec![
            ("E-OK".to_string(), Exclusion::DuplicateInvoice),
            ("E-CAP".to_string(), Exclusion::CapitalItem),
            ("E-UNK".to_string(), Exclusion::UnknownEntity),
            ("E-SAME".to_string(), Exclusion::SameEntity),
            ("E-LATE".to_string(), Exclusion::OutsideWindow),
            ("E-CAP-UNK".to_string(), Exclusion::CapitalItem),
            ("E-UNK-SAME".to_string(), Exclusion::UnknownEntity),
            ("E-SAME-LATE".to_string(), Exclusion::SameEntity),
        ]
    );
    assert_eq!(outcome.run.result.invoices_netted, 1);
    assert_eq!(outcome.run.result.gross, dec("1000.00"));
    assert_eq!(outcome.run.invoices, ["E-OK"], "only the first E-OK is netted");
    assert_eq!(positions(&outcome), owned([("N-HK", "1000.00"), ("N-SH", "0.00"), ("N-SZ", "-1000.00")]));
    assert_eq!(settlements(&outcome), owned3([("N-SH", "N-HK", "1000.00"), ("N-SZ", "N-SH", "1000.00")]));
    let names: Vec<&str> = [
        Exclusion::DuplicateInvoice,
        Exclusion::AlreadySettled,
        Exclusion::CapitalItem,
        Exclusion::UnknownEntity,
        Exclusion::SameEntity,
        Exclusion::OutsideWindow,
    ]
    .iter()
    .map(|e| e.as_str())
    .collect();
    assert_eq!(
        names,
        ["duplicate_invoice", "already_settled", "capital_item", "unknown_entity", "same_entity", "outside_window"]
    );
}

#[test]
fn an_invoice_netted_by_an_earlier_cycle_is_already_settled_and_an_excluded_one_can_net_later() {
    let (_storage, ledger) = funded();
    net(&ledger, "X1", CYCLE_DATE, EXCLUSIONS, Mode::Centre).unwrap();
    let outcome = net(&ledger, "X2", "2026-12-31", SECOND, Mode::Centre).unwrap();
    assert!(!outcome.already_run);
    // E-OK again: settled before (even with another purpose now), and its repeat is a duplicate.
    assert_eq!(
        excluded(&outcome),
        vec![("E-OK".to_string(), Exclusion::AlreadySettled), ("E-OK".to_string(), Exclusion::DuplicateInvoice)]
    );
    // E-CAP was a capital item in X1, never netted: as a current-account item it nets now.
    assert_eq!(outcome.run.invoices, ["E-CAP", "F-01"]);
    assert_eq!(
        positions(&outcome),
        owned([("N-HK", "-248.00"), ("N-SG", "250.00"), ("N-SH", "0.00"), ("N-SZ", "-2.00")])
    );
    // And a third cycle finds all of them settled.
    let third = net(&ledger, "X3", "2026-12-31", SECOND, Mode::Centre).unwrap();
    assert_eq!(third.run.result.invoices_netted, 0);
    assert!(third.run.result.positions.is_empty() && third.run.result.settlements.is_empty());
    let reasons: Vec<Exclusion> = excluded(&third).into_iter().map(|(_, reason)| reason).collect();
    assert_eq!(
        reasons,
        [Exclusion::AlreadySettled, Exclusion::DuplicateInvoice, Exclusion::AlreadySettled, Exclusion::AlreadySettled]
    );
}

// ---------------------------------------------------------------------------------------------
// Idempotence and refusals
// ---------------------------------------------------------------------------------------------

#[test]
fn a_cycle_id_posts_once() {
    let (_storage, ledger) = funded();
    let first = net(&ledger, "ONCE", CYCLE_DATE, CYCLE, Mode::Centre).unwrap();
    let before = snapshot(&ledger);
    // The same id with the same invoices, with other invoices, another date or another mode: the first run.
    for (date, text, mode) in
        [(CYCLE_DATE, CYCLE, Mode::Centre), (CYCLE_DATE, CYCLE, Mode::Direct), ("2026-12-31", SECOND, Mode::Centre)]
    {
        let again = net(&ledger, "ONCE", date, text, mode).unwrap();
        assert!(again.already_run, "{date} {mode}");
        assert_eq!(again.run, first.run, "{date} {mode}: the first run is reported");
        assert_eq!(snapshot(&ledger), before, "{date} {mode}: nothing written");
    }
    check_balances_after_the_hand_cycle(&ledger);
}

#[test]
fn missing_rates_list_every_missing_currency_and_write_nothing() {
    let (_storage, ledger) = ledger_with(RATES_USD_ONLY);
    fund(&ledger, &FUNDING[..4]);
    let before = snapshot(&ledger);
    let err = net(&ledger, "M1", CYCLE_DATE, MISSING_RATES, Mode::Centre).expect_err("rates are missing");
    for code in ["EUR", "HKD", "JPY"] {
        assert!(err.contains(code), "{err}");
    }
    assert!(err.contains("EUR, HKD, JPY"), "one error listing them in order: {err}");
    assert!(!err.contains("USD"), "USD is the netting currency: {err}");
    assert_eq!(snapshot(&ledger), before);
    // The cycle id is still free: with the rates imported it posts.
    let (rows, _) = parse_rates_csv(RATES, ccy("CNY"));
    ledger.import_rates(&rows, at()).unwrap();
    let outcome = net(&ledger, "M1", CYCLE_DATE, MISSING_RATES, Mode::Centre).unwrap();
    assert!(!outcome.already_run);
}

/// USD invoices only, but N-DE settles in EUR and N-JP in JPY: without those rates the cycle
/// cannot be settled. NETTING.md: "A missing rate is one error listing every missing currency;
/// nothing is written."
#[test]
fn missing_rates_of_the_settlement_currencies_are_listed_too_and_nothing_is_written() {
    let (_storage, ledger) = ledger_with(RATES_USD_ONLY);
    fund(&ledger, &FUNDING);
    let before = snapshot(&ledger);
    let err = net(&ledger, "M2", CYCLE_DATE, OWN_CURRENCY_RATES, Mode::Centre).expect_err("EUR and JPY are missing");
    assert_eq!(snapshot(&ledger), before, "nothing written");
    for code in ["EUR", "JPY"] {
        assert!(err.contains(code), "every missing currency is listed, {code} is not: {err}");
    }
}

#[test]
fn an_overdraft_refuses_the_whole_cycle_and_writes_nothing() {
    // Everyone funded but N-SZ, which owes 65,000.03.
    let (_storage, ledger) = ledger_with(RATES);
    let funding: Vec<_> = FUNDING.iter().copied().filter(|row| row.0 != "F-SZ").collect();
    fund(&ledger, &funding);
    for mode in [Mode::Centre, Mode::Direct] {
        let before = snapshot(&ledger);
        let err = net(&ledger, "OD", CYCLE_DATE, CYCLE, mode).expect_err("SZ-OPS cannot pay");
        // The settlement named by its transaction, then its own refusal, its reason code first;
        // that nothing was written is the snapshot below.
        assert!(err.starts_with("settlement_refused: settlement NET-OD-"), "{err}");
        assert!(err.contains(" was refused: overdraft: "), "{err}");
        assert!(err.contains("overdraft") || err.contains("SZ-OPS"), "{mode}: {err}");
        assert_eq!(snapshot(&ledger), before, "{mode}: a refused cycle wrote something");
        assert_eq!(balance(&ledger, "N-IMA", "USD"), dec("1000000.00"));
        assert!(ledger.entries(1).all(|e| !matches!(e.unwrap().0.body, EntryBody::NettingCycle(_))));
    }
    // Funded, the same cycle id posts.
    fund(&ledger, &FUNDING[1..2]);
    net(&ledger, "OD", CYCLE_DATE, CYCLE, Mode::Centre).unwrap();
    check_balances_after_the_hand_cycle(&ledger);
}

// ---------------------------------------------------------------------------------------------
// Replay
// ---------------------------------------------------------------------------------------------

#[test]
fn reopening_and_replaying_the_export_give_the_same_digest() {
    let (storage, ledger) = funded();
    net(&ledger, "R1", CYCLE_DATE, CYCLE, Mode::Direct).unwrap();
    net(&ledger, "R2", CYCLE_DATE, EXCLUSIONS, Mode::Centre).unwrap();
    let digest = ledger.state_digest();
    let head = ledger.head();
    drop(ledger);

    let reopened = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(reopened.state_digest(), digest);
    assert_eq!(reopened.head(), head);
    // The reopened ledger knows the cycles and the settled invoices.
    let again = net(&reopened, "R1", CYCLE_DATE, CYCLE, Mode::Direct).unwrap();
    assert!(again.already_run);
    let third = net(&reopened, "R3", CYCLE_DATE, CYCLE, Mode::Centre).unwrap();
    assert_eq!(third.run.result.invoices_netted, 0);
    assert!(third.run.result.excluded.iter().all(|e| e.reason == Exclusion::AlreadySettled));
    let digest = reopened.state_digest();

    let replay = audit::replay_storage(&storage, None).unwrap();
    assert_eq!(replay.state_digest, digest);
    assert_eq!(replay.matches_store, Some(true));
    let mut export = Vec::new();
    let n = audit::export_jsonl(&storage, &mut export).unwrap();
    assert_eq!(n, reopened.head().0);
    let replayed = audit::replay_journal(&mut export.as_slice(), None).unwrap();
    assert_eq!(replayed.state_digest, digest);
    assert_eq!(replayed.entries, n);
    let verified = audit::verify_journal(&mut export.as_slice()).unwrap();
    assert!(verified.ok, "{verified:?}");
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// The entities that all hold USD, and their USD accounts.
const USD_ENTITIES: [(&str, &[&str]); 4] =
    [("N-SH", &["N-IMA", "N-DMA"]), ("N-SZ", &["SZ-OPS"]), ("N-HK", &["HK-OPS"]), ("N-SG", &["SG-OPS"])];
const CURRENCIES: [&str; 4] = ["USD", "EUR", "JPY", "HKD"];

fn group_totals(ledger: &Ledger) -> BTreeMap<String, Decimal> {
    USD_ENTITIES
        .iter()
        .map(|(entity, accounts)| {
            (entity.to_string(), accounts.iter().map(|account| balance(ledger, account, "USD")).sum::<Decimal>())
        })
        .collect()
}

fn invoices_csv(rows: &[(usize, usize, usize, i64, u32)]) -> String {
    let mut text = String::from("id,payer,payee,currency,amount,due_date,purpose\n");
    for (i, &(payer, payee, currency, minor, day)) in rows.iter().enumerate() {
        let code = CURRENCIES[currency];
        let amount = Decimal::new(minor, ccy(code).minor_units());
        text.push_str(&format!(
            "P-{i:03},{},{},{code},{amount},2026-11-{day:02},current_account\n",
            USD_ENTITIES[payer].0, USD_ENTITIES[payee].0
        ));
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn nets_sum_to_zero_group_totals_move_by_the_nets_direct_needs_at_most_n_minus_1_and_rerunning_changes_nothing(
        rows in prop::collection::vec((0usize..4, 0usize..4, 0usize..4, 1i64..=100_000_000, 1u32..=30), 1..14),
        direct in any::<bool>(),
    ) {
        let mode = if direct { Mode::Direct } else { Mode::Centre };
        let (_storage, ledger) = ledger_with(RATES);
        fund(&ledger, &[
            ("F-IMA", "EXT-OFF", "N-IMA", "USD", "50000000.00"),
            ("F-SZ", "EXT-ON", "SZ-OPS", "USD", "50000000.00"),
            ("F-HK", "EXT-OFF", "HK-OPS", "USD", "50000000.00"),
            ("F-SG", "EXT-OFF", "SG-OPS", "USD", "50000000.00"),
        ]);
        let text = invoices_csv(&rows);
        let before = group_totals(&ledger);
        let outcome = net(&ledger, "P", CYCLE_DATE, &text, mode).map_err(TestCaseError::fail)?;
        let result = &outcome.run.result;

        let total: Decimal = result.positions.iter().map(|p| p.net).sum();
        prop_assert_eq!(total, Decimal::ZERO, "nets sum to zero: {:?}", result.positions);
        for p in &result.positions {
            prop_assert!(p.net.scale() == 2, "{} at USD's minor units", p.net);
        }

        let after = group_totals(&ledger);
        let nets: BTreeMap<&str, Decimal> = result.positions.iter().map(|p| (p.entity.as_str(), p.net)).collect();
        for (entity, _) in USD_ENTITIES {
            let net = nets.get(entity).copied().unwrap_or(Decimal::ZERO);
            prop_assert_eq!(after[entity] - before[entity], net, "{} moved by its net", entity);
        }
        prop_assert_eq!(balance(&ledger, "SYS-ROUNDING", "USD"), Decimal::ZERO);

        let non_zero = result.positions.iter().filter(|p| !p.net.is_zero()).count();
        match mode {
            Mode::Direct => prop_assert!(
                result.settlements.len() <= non_zero.saturating_sub(1),
                "{} payments for {} non-zero nets", result.settlements.len(), non_zero
            ),
            Mode::Centre => {
                let members = result.positions.iter().filter(|p| !p.net.is_zero() && p.entity != "N-SH").count();
                prop_assert_eq!(result.settlements.len(), members);
            }
        }
        for s in &result.settlements {
            prop_assert!(s.amount > Decimal::ZERO && s.from != s.to, "{:?}", s);
        }

        let state = snapshot(&ledger);
        let again = net(&ledger, "P", CYCLE_DATE, &text, mode).map_err(TestCaseError::fail)?;
        prop_assert!(again.already_run);
        prop_assert_eq!(&again.run, &outcome.run);
        prop_assert_eq!(snapshot(&ledger), state);
        prop_assert_eq!(group_totals(&ledger), after);
    }
}
