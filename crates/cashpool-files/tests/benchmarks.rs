//! Benchmark fixings: the benchmarks CSV (a table of bad rows with their line,
//! field and reason; the unit in the header; comments), the shipped example
//! file, and fuzzing of the parser.

use cashpool_files::benchmarks::{parse_benchmarks_csv, parse_benchmarks_csv_lines};
use cashpool_ledger::testing::BenchmarkBook;
use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;

const HEADER: &str = "date,series,rate_percent\n";
const EXAMPLE: &str = include_str!("../../../examples/benchmarks-2026.csv");

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test date")
}

/// Parses `rows` under the header and expects exactly one error, on line 2, at `field`, with `reason` in it.
fn refused(rows: &str, field: Option<&str>, reason: &str) {
    let (good, errors) = parse_benchmarks_csv(&format!("{HEADER}{rows}"));
    assert_eq!(errors.len(), 1, "{rows:?}: {errors:?}");
    let error = &errors[0];
    assert_eq!(error.field.as_deref(), field, "{rows:?}: {error}");
    assert!(error.reason.contains(reason), "{rows:?}: {error}");
    assert!(good.len() < rows.lines().count(), "{rows:?}: the bad row is not returned");
    assert!(error.line >= 2, "{error}");
}

#[test]
fn bad_rows_name_their_line_field_and_reason() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("2026/01/20,LPR-1Y,3.00\n", Some("date"), "is not an ISO date"),
        ("2026-02-30,LPR-1Y,3.00\n", Some("date"), ""),
        ("2026-01-20,lpr-1y,3.00\n", Some("series"), "(write \"LPR-1Y\")"),
        ("2026-01-20,€STR,1.93\n", Some("series"), "not a series id"),
        ("2026-01-20,,3.00\n", Some("series"), "is empty"),
        ("2026-01-20,LPR-1Y,3.00%\n", Some("rate_percent"), "write the number alone"),
        ("2026-01-20,LPR-1Y,\n", Some("rate_percent"), "is empty; write the fixing in percent per annum"),
        ("2026-01-20,LPR-1Y,\"3,00\"\n", Some("rate_percent"), "thousands separators"),
        ("2026-01-20,LPR-1Y,300\n", Some("rate_percent"), "above -100 and below 100"),
        ("2026-01-20,HIBOR-1M,2.690001234\n", Some("rate_percent"), "at most 8"),
        ("2026-01-20,LPR-1Y,3.00,PBOC\n", None, "expected 3 fields"),
        ("2026-01-20,LPR-1Y\n", None, "(no `rate_percent`)"),
        ("2026-01-20,LPR-1Y,3.00\n2026-01-20,LPR-1Y,3.10\n", Some("date"), "a second LPR-1Y fixing for 2026-01-20"),
        ("2026-01-21,SOFR,3.6\n2026-01-20,SOFR,3.6\n", Some("date"), "sort the file by date"),
    ];
    for (rows, field, reason) in cases {
        refused(rows, *field, reason);
    }
    // Every bad field of a row is reported, with the row's line.
    let (_, errors) = parse_benchmarks_csv(&format!("{HEADER}2026-01-20,LPR-1Y,3\n\n2026-13-01,sofr,x\n"));
    let fields: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_deref().unwrap_or(""))).collect();
    assert_eq!(fields, [(4, "date"), (4, "series"), (4, "rate_percent")]);
}

#[test]
fn the_header_must_give_the_unit_and_an_fx_rates_file_is_named_as_such() {
    for (header, reason) in [
        ("date,series,rate", "the column `rate` does not say the fixing's unit"),
        ("date,series,rate_fraction", "the column `rate_fraction`"),
        ("date,currency,market,rate", "the header of an FX rates CSV"),
        ("series,date,rate_percent", "in another order"),
        ("2026-01-20,LPR-1Y,3.00", "the first line holds no column name"),
    ] {
        let (rows, errors) = parse_benchmarks_csv(&format!("{header}\n2026-01-20,LPR-1Y,3.00\n"));
        assert!(rows.is_empty(), "{header}");
        assert_eq!(errors.len(), 1, "{header}: {errors:?}");
        assert_eq!((errors[0].line, errors[0].field.as_deref()), (1, None), "{header}");
        assert!(errors[0].reason.contains(reason), "{header}: {}", errors[0].reason);
    }
    let (_, errors) = parse_benchmarks_csv("");
    assert!(errors[0].reason.contains("the file is empty"), "{errors:?}");
    let (_, errors) = parse_benchmarks_csv("# only a comment\n");
    assert!(errors[0].reason.contains("the file is empty"), "{errors:?}");
}

#[test]
fn negative_fixings_comments_crlf_and_a_byte_order_mark_are_read() {
    let text = "\u{feff}# €STR was negative until 2022\r\ndate,series,rate_percent\r\n2021-12-31,ESTR,-0.580\r\n\r\n# next\r\n2022-01-03,ESTR,-0.578\r\n";
    let (rows, lines, errors) = parse_benchmarks_csv_lines(text);
    assert_eq!(errors, vec![]);
    assert_eq!(lines, [3, 6]);
    assert_eq!(rows[0].rate_percent, Decimal::new(-580, 3));
    assert_eq!((rows[1].date, rows[1].series.as_str()), (date("2022-01-03"), "ESTR"));
}

#[test]
fn the_shipped_example_reads_whole_and_its_series_are_the_documented_ones() {
    let (rows, errors) = parse_benchmarks_csv(EXAMPLE);
    assert_eq!(errors, vec![]);
    let mut series: Vec<&str> = rows.iter().map(|row| row.series.as_str()).collect();
    series.sort();
    series.dedup();
    assert_eq!(
        series,
        [
            "ESTR",
            "HIBOR-1M",
            "HIBOR-1W",
            "HIBOR-3M",
            "HIBOR-ON",
            "LPR-1Y",
            "LPR-5Y",
            "SHIBOR-1W",
            "SHIBOR-3M",
            "SHIBOR-ON",
            "SOFR"
        ]
    );
    let mut book = BenchmarkBook::new();
    book.insert(&rows).expect("one file never conflicts with itself");
    // The LPR as published on 2026-01-20 (docs/SWEEPS.md, "The example fixings").
    assert_eq!(book.fixing("LPR-1Y", date("2026-01-31")), Some((date("2026-01-20"), Decimal::new(300, 2))));
    assert_eq!(book.fixing("LPR-5Y", date("2026-01-31")).map(|f| f.1.normalize().to_string()), Some("3.5".into()));
    // SOFR of Friday 2025-11-07 holds over the weekend; Veterans Day 2025-11-11 has no fixing of its own.
    assert_eq!(book.fixing("SOFR", date("2025-11-09")).map(|f| f.0), Some(date("2025-11-07")));
    assert_eq!(book.fixing("SOFR", date("2025-11-11")).map(|f| f.0), Some(date("2025-11-10")));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the text, the parser returns; what it accepts keeps its promises.
    #[test]
    fn parsing_never_panics_and_accepted_rows_keep_their_promises(body in "[0-9A-Za-z,.\\-#% \r\n\"]{0,200}") {
        let (rows, errors) = parse_benchmarks_csv(&format!("{HEADER}{body}"));
        for error in &errors {
            prop_assert!(error.line >= 2);
        }
        for row in &rows {
            prop_assert!(cashpool_ledger::benchmarks::check_series(&row.series).is_ok());
            prop_assert!(cashpool_ledger::benchmarks::check_fixing(row.rate_percent).is_ok());
        }
        let mut book = BenchmarkBook::new();
        prop_assert!(book.insert(&rows).is_ok());
        prop_assert_eq!(book.len(), rows.len());
    }
}
