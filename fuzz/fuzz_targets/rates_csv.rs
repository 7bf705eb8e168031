//! `cashpool_files::rates::parse_rates_csv` (base CNY) on any UTF-8 text: it must return, never panic.
//! Besides, the rows it returns must keep the parser's promises, and feeding
//! them to a `RateBook` (insert, look up, convert) must not panic either.
#![no_main]

use std::collections::BTreeMap;

use cashpool_files::rates::parse_rates_csv;
use cashpool_ledger::money::Currency;
use cashpool_ledger::rates::RATE_DECIMALS_MAX;
use cashpool_ledger::testing::RateBook;
use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let cny = Currency::from_code("CNY").expect("CNY is an ISO currency");
    let (rows, errors) = parse_rates_csv(text, cny);
    for error in &errors {
        assert!(error.line >= 1, "line numbers are 1-based: {error:?}");
        let _ = error.to_string();
    }
    // Within a file, the dates of each (currency, market) strictly increase.
    let mut latest = BTreeMap::new();
    for row in &rows {
        assert_ne!(row.currency, cny, "a row for the base currency was accepted: {row:?}");
        assert!(row.rate > Decimal::ZERO, "a rate that is not positive was accepted: {row:?}");
        assert!(row.rate.scale() <= RATE_DECIMALS_MAX, "a rate with too many decimals was accepted: {row:?}");
        if let Some(previous) = latest.insert((row.currency, row.market), row.date) {
            assert!(previous < row.date, "dates out of order were accepted: {previous} then {row:?}");
        }
    }
    // The good rows go into a book as they are; looking them up and converting must not panic.
    let mut book = RateBook::new();
    book.insert(&rows).expect("the rows of one parse never conflict");
    assert_eq!(book.len(), rows.len(), "every row of one parse is a distinct (date, currency, market)");
    // A second insert of the same rows is a no-op (the idempotent re-import of `rates import`).
    book.insert(&rows).expect("re-inserting the same rows is accepted");
    assert_eq!(book.len(), rows.len());
    for row in rows.iter().take(64) {
        let (on, rate) = book.rate(row.currency, row.market, row.date).expect("the rate just inserted");
        assert_eq!((on, rate), (row.date, row.rate));
        for amount in [Decimal::new(12_345_678_901, 2), Decimal::new(-1, 2), Decimal::MAX] {
            let _ = book.to_base(amount, row.currency, row.market, row.date, cny);
        }
    }
});
