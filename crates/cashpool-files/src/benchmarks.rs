//! The benchmarks CSV: `date,series,rate_percent`, one published fixing a
//! row, into [`BenchmarkRow`]s for [`cashpool_ledger::Ledger::import_benchmarks`].
//!
//! The rate's unit is in its column's name: `rate_percent` is percent per
//! annum as the administrators publish it (`3.00` is 3 %), so a header that
//! leaves the unit open (`rate`) or gives another one (`rate_fraction`,
//! `rate_bp`) is refused rather than guessed. A line whose first character is
//! `#` is a comment (the file's sources, or why a row is there), skipped like
//! a blank line; line numbers stay the file's own.
//!
//! [`parse_benchmarks_csv`] reads a file the way the other readers do: it never
//! stops at the first bad row, returns every good row and an [`InputError`]
//! for every bad one, and never panics.

use std::collections::BTreeMap;

use cashpool_ledger::benchmarks::{check_fixing, check_series, BenchmarkRow};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::cell::{self, shown};
use crate::records::{strip_bom, width_error, wrong_header, CsvRecords};
use crate::{InputError, RowCheck, ROWS_MAX};

/// The columns of a benchmarks CSV, in this order.
pub const BENCHMARKS_CSV_COLUMNS: [&str; 3] = ["date", "series", "rate_percent"];

/// Parses the benchmarks CSV: the header `date,series,rate_percent` (exactly
/// those columns, in that order), then one fixing a row: an ISO date, a series
/// id ([`check_series`]: `LPR-1Y`, `SOFR`), and the fixing in percent per
/// annum, a strict decimal above -100 and below 100 with at most
/// [`cashpool_ledger::benchmarks::FIXING_DECIMALS_MAX`] decimal places. Within
/// the file, the dates of each series strictly increase. Comment lines
/// (`#` first), blank lines and a UTF-8 byte-order mark are skipped; at most
/// [`ROWS_MAX`] rows.
///
/// Returns every good row, in file order, and an [`InputError`] for every bad
/// row, with 1-based physical line numbers (the header is the first line that
/// is not a comment or blank). Never panics, whatever the input.
pub fn parse_benchmarks_csv(text: &str) -> (Vec<BenchmarkRow>, Vec<InputError>) {
    let (rows, _, errors) = parse_limited(text, ROWS_MAX);
    (rows, errors)
}

/// [`parse_benchmarks_csv`], with each good row's 1-based physical line (the
/// second vector, as long as the first), so that a later refusal of a row (a
/// [`cashpool_ledger::benchmarks::FixingConflict`] gives the row's index) can name its line.
pub fn parse_benchmarks_csv_lines(text: &str) -> (Vec<BenchmarkRow>, Vec<u64>, Vec<InputError>) {
    parse_limited(text, ROWS_MAX)
}

fn expected_header() -> String {
    format!("`{}`", BENCHMARKS_CSV_COLUMNS.join(","))
}

/// The text with every comment line emptied (its line end kept, so line numbers do not move).
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if line.starts_with('#') {
            // Keep the terminator: `\r\n`, `\n`, or none on the last line.
            out.push_str(if line.ends_with("\r\n") {
                "\r\n"
            } else if line.ends_with('\n') {
                "\n"
            } else {
                ""
            });
        } else {
            out.push_str(line);
        }
    }
    out
}

fn parse_limited(text: &str, rows_max: usize) -> (Vec<BenchmarkRow>, Vec<u64>, Vec<InputError>) {
    let text = without_comments(strip_bom(text));
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut records = CsvRecords::new(&text);
    let mut header_seen = false;
    let mut count = 0usize;
    // For each series: the dates of the good rows so far, with their lines.
    let mut seen: BTreeMap<String, BTreeMap<NaiveDate, u64>> = BTreeMap::new();
    while let Some((line, record)) = records.next_record(&mut errors) {
        if !header_seen {
            if record.iter().eq(BENCHMARKS_CSV_COLUMNS) {
                header_seen = true;
                continue;
            }
            errors.push(InputError::new(line, None, header_refusal(record)));
            return (rows, lines, errors);
        }
        if count >= rows_max {
            errors.push(crate::records::too_many(line, rows_max, "row", "import"));
            break;
        }
        count += 1;
        if record.len() != BENCHMARKS_CSV_COLUMNS.len() {
            errors.push(width_error(line, &BENCHMARKS_CSV_COLUMNS, &expected_header(), record));
            continue;
        }
        let mut check = RowCheck::new(line);
        let row = csv_row(record, &seen, &mut check);
        if let Some(row) = row.filter(|_| check.errors.is_empty()) {
            seen.entry(row.series.clone()).or_default().insert(row.date, line);
            rows.push(row);
            lines.push(line);
        }
        errors.append(&mut check.errors);
    }
    if !header_seen && errors.is_empty() {
        errors.push(InputError::new(
            1,
            None,
            format!("the file is empty; a benchmarks CSV starts with the header {}", expected_header()),
        ));
    }
    (rows, lines, errors)
}

/// Why a first line is not the header: a rate column without its unit, an FX
/// rates file, or the usual wrong-header message.
fn header_refusal(record: &csv::StringRecord) -> String {
    let names: Vec<String> = record.iter().map(|name| name.trim().to_ascii_lowercase()).collect();
    let has = |name: &str| names.iter().any(|found| found == name);
    if has("currency") && has("market") {
        return format!(
            "wrong header: this is the header of an FX rates CSV (date,currency,market,rate), not of benchmark \
             fixings; a benchmarks CSV starts with {}",
            expected_header()
        );
    }
    if let Some(unit) = names.iter().find(|name| name.starts_with("rate") && *name != "rate_percent") {
        return format!(
            "wrong header: the column `{unit}` does not say the fixing's unit as this file needs it: fixings are \
             percent per annum, as the administrators publish them (3.00 for 3 %), in a column named \
             `rate_percent`; write the header {} (and the rates in percent)",
            expected_header()
        );
    }
    wrong_header(&BENCHMARKS_CSV_COLUMNS, &expected_header(), record)
}

/// Checks one data row of the right width; every field error goes to `check`.
fn csv_row(
    record: &csv::StringRecord,
    seen: &BTreeMap<String, BTreeMap<NaiveDate, u64>>,
    check: &mut RowCheck,
) -> Option<BenchmarkRow> {
    let field = |idx: usize| record.get(idx).unwrap_or_default();
    let date = check.take("date", cell::date(field(0)));
    let series = check.take("series", check_series(field(1)).map(|()| field(1).to_string()));
    let rate_percent = check.take("rate_percent", fixing(field(2)));
    let (date, series) = (date?, series?);
    check.take("date", check_order(seen, date, &series))?;
    Some(BenchmarkRow { date, series, rate_percent: rate_percent? })
}

/// Within a file, the dates of each series strictly increase.
fn check_order(seen: &BTreeMap<String, BTreeMap<NaiveDate, u64>>, date: NaiveDate, series: &str) -> Result<(), String> {
    let Some(dates) = seen.get(series) else {
        return Ok(());
    };
    if let Some(first) = dates.get(&date) {
        return Err(format!(
            "a second {series} fixing for {date} (the first is on line {first}); keep one row per date and series"
        ));
    }
    match dates.last_key_value() {
        Some((latest, earlier)) if *latest > date => Err(format!(
            "{date} comes after {latest} (line {earlier}) for {series}; within a file the dates of each series must \
             increase: sort the file by date"
        )),
        _ => Ok(()),
    }
}

/// A fixing: a strict decimal, percent per annum, in range.
fn fixing(text: &str) -> Result<Decimal, String> {
    if text.trim_end().ends_with('%') {
        return Err(format!(
            "{} is not a decimal: write the number alone (3.00), the column is in percent",
            shown(text)
        ));
    }
    let value = cell::decimal(text, "is empty; write the fixing in percent per annum, such as 3.00 for 3 %")?;
    check_fixing(value).map(|()| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_keep_the_line_numbers() {
        let text = "# sources\r\ndate,series,rate_percent\r\n# a comment\r\n2026-01-20,LPR-1Y,3.00\r\n#\n2026-01-20,LPR 5Y,3.50";
        let (rows, lines, errors) = parse_limited(text, 10);
        assert_eq!(rows.len(), 1);
        assert_eq!(lines, [4]);
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].field.as_deref()), (6, Some("series")));
    }

    #[test]
    fn stops_at_the_first_excess_row() {
        let text = "date,series,rate_percent\n2026-01-02,SOFR,3.9\n2026-01-05,SOFR,3.9\n2026-01-06,SOFR,3.9\n";
        let (rows, _, errors) = parse_limited(text, 2);
        assert_eq!(rows.len(), 2);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 4);
    }
}
