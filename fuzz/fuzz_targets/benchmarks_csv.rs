//! `cashpool_files::benchmarks::parse_benchmarks_csv` on any UTF-8 text: it must return, never panic.
//! Besides, the rows it returns must keep the parser's promises (series ids and fixings the ledger
//! accepts, the dates of each series strictly increasing), and feeding them to a `BenchmarkBook`
//! (insert twice, look up) must not panic either.
#![no_main]

use std::collections::BTreeMap;

use cashpool_files::benchmarks::parse_benchmarks_csv;
use cashpool_ledger::benchmarks::{check_fixing, check_series};
use cashpool_ledger::testing::BenchmarkBook;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (rows, errors) = parse_benchmarks_csv(text);
    for error in &errors {
        assert!(error.line >= 1, "line numbers are 1-based: {error:?}");
        let _ = error.to_string();
    }
    let mut latest = BTreeMap::new();
    for row in &rows {
        assert!(check_series(&row.series).is_ok(), "a malformed series id was accepted: {row:?}");
        assert!(check_fixing(row.rate_percent).is_ok(), "a fixing out of range was accepted: {row:?}");
        if let Some(previous) = latest.insert(row.series.clone(), row.date) {
            assert!(previous < row.date, "dates out of order were accepted: {previous} then {row:?}");
        }
    }
    let mut book = BenchmarkBook::new();
    book.insert(&rows).expect("the rows of one parse never conflict");
    assert_eq!(book.len(), rows.len(), "every row of one parse is a distinct (series, date)");
    book.insert(&rows).expect("re-inserting the same rows is accepted (the idempotent re-import)");
    assert_eq!(book.len(), rows.len());
    for row in rows.iter().take(64) {
        assert_eq!(book.fixing(&row.series, row.date), Some((row.date, row.rate_percent)));
        assert!(book.holds(row));
    }
});
