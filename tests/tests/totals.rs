//! Totals in the base currency (`Ledger::balance_totals_in_base`,
//! `Ledger::position_totals_in_base`, `cashpool_ledger::totals`), end to end
//! through the public API on `tests/fixtures/totals/`: every expected figure is
//! worked out by hand next to it.
//!
//! The fixture: base currency CNY; rates (`rates.csv`) USD 7.1025 onshore and
//! 7.1100 offshore, JPY 0.0475 onshore and 0.0476 offshore, EUR 7.7000 onshore
//! only, all set for 2026-11-02, and USD 7.2000 onshore set for 2026-11-04; no
//! KRW rate at all. The postings (`transactions.csv`), then the sweeps of
//! 2026-11-02 and 2026-11-03 (HK-OPS USD and KRW, JP-OPS JPY, all up into T-IMA,
//! offshore):
//!
//! | account (zone) | CNY | USD | EUR | JPY | KRW |
//! |---|---|---|---|---|---|
//! | T-DMA (onshore) | 1,000,000.00 (30 Oct) | 1,000,000.00 (30 Oct) + 2.00 | 10.00 | | |
//! | T-IMA (offshore) | | 2,500.50 (swept) | | 1,000,001 (swept) | 5,000,000 (swept 3 Nov) |
//! | FTZ-FTE (ft) | 0.25 | 1,000.00 | | | |
//! | HK-OPS (offshore) | | 0.00 | 100.00 | | 0 |
//! | JP-OPS (offshore) | | | | 0 | |
//!
//! and the positions T-HK USD 2,500.50 (2 Nov), T-HK KRW 5,000,000 (3 Nov),
//! T-JP JPY 1,000,001 (2 Nov).

use std::str::FromStr;

use cashpool_files::rates::parse_rates_csv;
use cashpool_files::transactions::parse_transactions_csv;
use cashpool_ledger::money::Currency;
use cashpool_ledger::storage::MemoryStorage;
use cashpool_ledger::totals::{BaseTotal, BaseTotals, Conversion};
use cashpool_ledger::{BatchMode, Ledger, LedgerError};
use cashpool_tests::at;
use chrono::NaiveDate;
use rust_decimal::Decimal;

const GROUP: &str = include_str!("../fixtures/totals/group.toml");
const RATES: &str = include_str!("../fixtures/totals/rates.csv");
const TRANSACTIONS: &str = include_str!("../fixtures/totals/transactions.csv");

fn d(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn ccy(code: &str) -> Currency {
    Currency::from_code(code).unwrap()
}

/// The fixture's ledger: rates imported, transactions posted, both days swept.
fn ledger() -> Ledger {
    let ledger = Ledger::create(Box::new(MemoryStorage::new()), GROUP, at()).unwrap();
    let (rates, errors) = parse_rates_csv(RATES, ccy("CNY"));
    assert!(errors.is_empty(), "{errors:?}");
    ledger.import_rates(&rates, at()).unwrap();
    let batch = parse_transactions_csv(TRANSACTIONS);
    assert!(batch.errors.is_empty(), "{:?}", batch.errors);
    let requests: Vec<_> = batch.rows.into_iter().map(|row| row.request).collect();
    let outcome = ledger.post_batch(&requests, BatchMode::Atomic, "totals-test", at()).unwrap();
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
    for date in ["2026-11-02", "2026-11-03"] {
        ledger.sweep(d(date), false, at()).unwrap();
    }
    ledger
}

/// One line as text: currency, market, total, rate, rate date, value in CNY ("-" where there is none).
type Line = [&'static str; 6];

/// A query of balances (as of, account, currency), the rates' date, the lines and the grand total it gives.
type BalancesCase =
    (Option<&'static str>, Option<&'static str>, Option<&'static str>, &'static str, &'static [Line], &'static str);

fn lines(totals: &BaseTotals) -> Vec<[String; 6]> {
    let text = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    totals
        .lines()
        .iter()
        .map(|line| {
            [
                line.currency.code().to_string(),
                text(line.market.map(|market| market.to_string())),
                line.total.to_string(),
                text(line.rate().map(|(rate, _)| rate.to_string())),
                text(line.rate().map(|(_, date)| date.to_string())),
                text(line.total_base(totals.base()).map(|value| value.to_string())),
            ]
        })
        .collect()
}

/// The grand total as text: `complete 123.00` or `unknown, converted 45.00`.
fn total(totals: &BaseTotals) -> String {
    match totals.total() {
        BaseTotal::Complete(amount) => format!("complete {amount}"),
        BaseTotal::Unknown { converted } => format!("unknown, converted {converted}"),
    }
}

#[track_caller]
fn check(totals: &BaseTotals, rates_as_of: &str, expected: &[Line], expected_total: &str) {
    assert_eq!(totals.base(), ccy("CNY"));
    assert_eq!(totals.rates_as_of(), d(rates_as_of));
    let expected_lines: Vec<[String; 6]> = expected.iter().map(|line| line.map(String::from)).collect();
    assert_eq!(lines(totals), expected_lines);
    assert_eq!(total(totals), expected_total);
}

#[test]
fn balances_convert_each_currency_at_the_market_where_it_is_held() {
    let ledger = ledger();
    // (as of, account, currency, rates as of, lines, grand total)
    #[rustfmt::skip]
    let cases: [BalancesCase; 6] = [
        // Every posting, at the rates of 2 November.
        (None, None, None, "2026-11-02", &[
            // T-DMA 1,000,000.00 + FTZ-FTE 0.25 (an FT account: CNH, still one for one)
            ["CNY", "-", "1000000.25", "-", "-", "1000000.25"],
            // T-DMA 10.00 × 7.7 = 77.00 (rates are shown without trailing zeros: 7.7000 in rates.csv)
            ["EUR", "onshore", "10.00", "7.7", "2026-11-02", "77.00"],
            // HK-OPS 100.00: EUR has an onshore rate but no offshore one
            ["EUR", "offshore", "100.00", "-", "-", "-"],
            // T-IMA 1,000,001 + JP-OPS 0: × 0.0476 = 47,600.0476 → 47,600.05 (JPY has no minor units)
            ["JPY", "offshore", "1000001", "0.0476", "2026-11-02", "47600.05"],
            // T-IMA 5,000,000 + HK-OPS 0: no KRW rate
            ["KRW", "offshore", "5000000", "-", "-", "-"],
            // T-DMA 1,000,002.00 × 7.1025 = 7,102,514.205: a tie, half-even to the even cent .20 (half-up: .21)
            ["USD", "onshore", "1000002.00", "7.1025", "2026-11-02", "7102514.20"],
            // T-IMA 2,500.50 + FTZ-FTE 1,000.00 + HK-OPS 0.00 = 3,500.50 × 7.11 = 24,888.555: a tie, to the even .56
            ["USD", "offshore", "3500.50", "7.11", "2026-11-02", "24888.56"],
        // 1,000,000.25 + 77.00 + 47,600.05 + 7,102,514.20 + 24,888.56: EUR offshore and KRW are not in it
        ], "unknown, converted 8175080.06"),
        // At the rates of 5 November: the onshore USD rate set on 4 November (7.2), the rest from 2 November.
        (None, None, None, "2026-11-05", &[
            ["CNY", "-", "1000000.25", "-", "-", "1000000.25"],
            ["EUR", "onshore", "10.00", "7.7", "2026-11-02", "77.00"],
            ["EUR", "offshore", "100.00", "-", "-", "-"],
            ["JPY", "offshore", "1000001", "0.0476", "2026-11-02", "47600.05"],
            ["KRW", "offshore", "5000000", "-", "-", "-"],
            // 1,000,002.00 × 7.2 = 7,200,014.40
            ["USD", "onshore", "1000002.00", "7.2", "2026-11-04", "7200014.40"],
            ["USD", "offshore", "3500.50", "7.11", "2026-11-02", "24888.56"],
        // 1,000,000.25 + 77.00 + 47,600.05 + 7,200,014.40 + 24,888.56
        ], "unknown, converted 8272580.26"),
        // USD only: every line has its rate, so the total is complete. 7,102,514.20 + 24,888.56
        (None, None, Some("USD"), "2026-11-02", &[
            ["USD", "onshore", "1000002.00", "7.1025", "2026-11-02", "7102514.20"],
            ["USD", "offshore", "3500.50", "7.11", "2026-11-02", "24888.56"],
        ], "complete 7127402.76"),
        // One onshore account: 1,000,000.00 + 77.00 + 7,102,514.20
        (None, Some("T-DMA"), None, "2026-11-02", &[
            ["CNY", "-", "1000000.00", "-", "-", "1000000.00"],
            ["EUR", "onshore", "10.00", "7.7", "2026-11-02", "77.00"],
            ["USD", "onshore", "1000002.00", "7.1025", "2026-11-02", "7102514.20"],
        ], "complete 8102591.20"),
        // Value-dated 31 October, at that day's rates: none is set yet. USD 1,000,000.00 onshore has no rate and
        // is listed; the zero lines need none.
        (Some("2026-10-31"), None, None, "2026-10-31", &[
            ["CNY", "-", "1000000.00", "-", "-", "1000000.00"],
            ["EUR", "onshore", "0.00", "-", "-", "0.00"],
            ["EUR", "offshore", "0.00", "-", "-", "0.00"],
            ["JPY", "offshore", "0", "-", "-", "0.00"],
            ["KRW", "offshore", "0", "-", "-", "0.00"],
            ["USD", "onshore", "1000000.00", "-", "-", "-"],
            ["USD", "offshore", "0.00", "-", "-", "0.00"],
        ], "unknown, converted 1000000.00"),
        // An external account only: nothing of the group's own, a total of zero.
        (None, Some("EXT-OFF"), None, "2026-11-02", &[], "complete 0.00"),
    ];
    for (as_of, account, currency, rates_as_of, expected, expected_total) in cases {
        let totals = ledger
            .balance_totals_in_base(as_of.map(d), account, currency.map(ccy), d(rates_as_of))
            .unwrap_or_else(|err| panic!("{as_of:?} {account:?} {currency:?}: {err}"));
        check(&totals, rates_as_of, expected, expected_total);
    }
}

#[test]
fn the_totals_are_those_of_the_rows_balances_gives() {
    let ledger = ledger();
    for as_of in [None, Some(d("2026-11-02")), Some(d("2026-10-31"))] {
        let rows = ledger.balances(as_of, None, None).unwrap();
        let own: Vec<_> =
            rows.iter().filter(|row| !row.account.starts_with("EXT-") && !row.account.starts_with("SYS-")).collect();
        let per_currency = cashpool_ledger::totals::balance_totals(own);
        let totals = ledger.balance_totals_in_base(as_of, None, None, d("2026-11-02")).unwrap();
        // Each currency's lines add up to the currency's total of the own accounts' rows.
        for (currency, sum) in &per_currency {
            let lines: Decimal =
                totals.lines().iter().filter(|line| line.currency == *currency).map(|line| line.total).sum();
            assert_eq!(lines, *sum, "{currency} as of {as_of:?}");
        }
        assert_eq!(
            totals.lines().iter().map(|line| line.currency).collect::<std::collections::BTreeSet<_>>().len(),
            per_currency.len()
        );
    }
}

#[test]
fn positions_convert_at_the_onshore_market() {
    let ledger = ledger();
    #[rustfmt::skip]
    let cases: [(Option<&str>, &str, &[Line], &str); 3] = [
        (None, "2026-11-02", &[
            // T-JP 1,000,001 × 0.0475 (onshore, not the offshore 0.0476) = 47,500.0475 → 47,500.05
            ["JPY", "onshore", "1000001", "0.0475", "2026-11-02", "47500.05"],
            // T-HK 5,000,000: no KRW rate
            ["KRW", "onshore", "5000000", "-", "-", "-"],
            // T-HK 2,500.50 × 7.1025 = 17,759.80125 → 17,759.80
            ["USD", "onshore", "2500.50", "7.1025", "2026-11-02", "17759.80"],
        // 47,500.05 + 17,759.80
        ], "unknown, converted 65259.85"),
        // Before the KRW sweep of 3 November: complete.
        (Some("2026-11-02"), "2026-11-02", &[
            ["JPY", "onshore", "1000001", "0.0475", "2026-11-02", "47500.05"],
            ["USD", "onshore", "2500.50", "7.1025", "2026-11-02", "17759.80"],
        ], "complete 65259.85"),
        (Some("2026-11-05"), "2026-11-05", &[
            ["JPY", "onshore", "1000001", "0.0475", "2026-11-02", "47500.05"],
            ["KRW", "onshore", "5000000", "-", "-", "-"],
            // 2,500.50 × 7.2 = 18,003.60
            ["USD", "onshore", "2500.50", "7.2", "2026-11-04", "18003.60"],
        // 47,500.05 + 18,003.60
        ], "unknown, converted 65503.65"),
    ];
    for (as_of, rates_as_of, expected, expected_total) in cases {
        let totals = ledger.position_totals_in_base(as_of.map(d), d(rates_as_of)).unwrap();
        check(&totals, rates_as_of, expected, expected_total);
        // The lines are the positions' net per currency.
        let per_currency = cashpool_ledger::totals::position_totals(&ledger.positions(as_of.map(d)));
        let from_lines: Vec<(Currency, Decimal)> =
            totals.lines().iter().map(|line| (line.currency, line.total)).collect();
        assert_eq!(from_lines, per_currency.into_iter().collect::<Vec<_>>());
    }
}

#[test]
fn a_missing_rate_is_named_never_counted_as_zero() {
    let ledger = ledger();
    let totals = ledger.balance_totals_in_base(None, None, None, d("2026-11-02")).unwrap();
    let missing: Vec<(&str, String)> = totals
        .missing()
        .map(|line| (line.currency.code(), line.market.map(|m| m.to_string()).unwrap_or_default()))
        .collect();
    assert_eq!(missing, [("EUR", "offshore".to_string()), ("KRW", "offshore".to_string())]);
    assert!(totals
        .missing()
        .all(|line| line.conversion == Conversion::MissingRate && line.total_base(totals.base()).is_none()));
    assert_eq!(totals.total().amount(), None, "no grand total when a line has no rate");
    assert_eq!(totals.total().converted(), dec("8175080.06"));
}

#[test]
fn an_unknown_account_is_refused_as_balances_refuses_it() {
    let ledger = ledger();
    let err = ledger.balance_totals_in_base(None, Some("NOPE"), None, d("2026-11-02")).unwrap_err();
    assert!(matches!(err, LedgerError::UnknownAccount(ref id) if id == "NOPE"), "{err}");
}
