//! The rates CSV: `date,currency,market,rate`, one rate a row, into
//! [`RateRow`]s for [`cashpool_ledger::Ledger::import_rates`].
//!
//! [`parse_rates_csv`] reads a file the way the transaction readers do: it
//! never stops at the first bad row, returns every good row and an
//! [`InputError`] for every bad one, and never panics.

use std::collections::BTreeMap;

use cashpool_ledger::money::Currency;
use cashpool_ledger::rates::{Market, RateRow, RATE_DECIMALS_MAX};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::cell::{self, shown};
use crate::records::{strip_bom, width_error, wrong_header, CsvRecords};
use crate::{InputError, RowCheck, ROWS_MAX};

/// The columns of a rates CSV, in this order.
pub const RATES_CSV_COLUMNS: [&str; 4] = ["date", "currency", "market", "rate"];

/// Parses the rates CSV: the header `date,currency,market,rate` (exactly those
/// columns, in that order), then one rate a row: an ISO date, an active ISO
/// 4217 currency other than `base`, `onshore` or `offshore`, and a strict
/// decimal greater than zero with at most [`RATE_DECIMALS_MAX`] decimal places,
/// in units of `base` for one unit of the currency. Within the file, for each
/// currency and market the dates must strictly increase (no duplicates, no
/// going back). A UTF-8 byte-order mark and blank lines are tolerated; at most
/// [`ROWS_MAX`] rows.
///
/// Returns every good row, in file order, and an [`InputError`] for every bad
/// row (a row may report several fields), with 1-based physical line numbers
/// (the header is line 1). Never panics, whatever the input.
pub fn parse_rates_csv(text: &str, base: Currency) -> (Vec<RateRow>, Vec<InputError>) {
    let (rows, _, errors) = parse_limited(text, base, ROWS_MAX);
    (rows, errors)
}

/// [`parse_rates_csv`], with each good row's 1-based physical line (the
/// second vector, as long as the first), so that a later refusal of a row
/// (a [`cashpool_ledger::rates::RateConflict`], which gives the row's index)
/// can name its line.
pub fn parse_rates_csv_lines(text: &str, base: Currency) -> (Vec<RateRow>, Vec<u64>, Vec<InputError>) {
    parse_limited(text, base, ROWS_MAX)
}

fn expected_header() -> String {
    format!("`{}`", RATES_CSV_COLUMNS.join(","))
}

fn parse_limited(text: &str, base: Currency, rows_max: usize) -> (Vec<RateRow>, Vec<u64>, Vec<InputError>) {
    let text = strip_bom(text);
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut records = CsvRecords::new(text);
    let mut header_seen = false;
    let mut count = 0usize;
    // For each (currency, market): the dates of the good rows so far, with their lines.
    let mut seen: BTreeMap<(Currency, Market), BTreeMap<NaiveDate, u64>> = BTreeMap::new();
    while let Some((line, record)) = records.next_record(&mut errors) {
        if !header_seen {
            if record.iter().eq(RATES_CSV_COLUMNS) {
                header_seen = true;
                continue;
            }
            errors.push(InputError::new(line, None, wrong_header(&RATES_CSV_COLUMNS, &expected_header(), record)));
            return (rows, lines, errors);
        }
        if count >= rows_max {
            errors.push(crate::records::too_many(line, rows_max, "row", "import"));
            break;
        }
        count += 1;
        if record.len() != RATES_CSV_COLUMNS.len() {
            errors.push(width_error(line, &RATES_CSV_COLUMNS, &expected_header(), record));
            continue;
        }
        let mut check = RowCheck::new(line);
        let row = csv_row(record, base, &seen, &mut check);
        if let Some(row) = row.filter(|_| check.errors.is_empty()) {
            seen.entry((row.currency, row.market)).or_default().insert(row.date, line);
            rows.push(row);
            lines.push(line);
        }
        errors.append(&mut check.errors);
    }
    if !header_seen && errors.is_empty() {
        errors.push(InputError::new(
            1,
            None,
            format!("the file is empty; a rates CSV starts with the header {}", expected_header()),
        ));
    }
    (rows, lines, errors)
}

/// Checks one data row of the right width; every field error goes to `check`.
fn csv_row(
    record: &csv::StringRecord,
    base: Currency,
    seen: &BTreeMap<(Currency, Market), BTreeMap<NaiveDate, u64>>,
    check: &mut RowCheck,
) -> Option<RateRow> {
    let field = |idx: usize| record.get(idx).unwrap_or_default();
    let date = check.take("date", cell::date(field(0)));
    let currency = check.take("currency", foreign_currency(field(1), base));
    let market = check.take("market", check_market(field(2)));
    let rate = check.take("rate", check_rate(field(3)));
    let (date, currency, market) = (date?, currency?, market?);
    check.take("date", check_order(seen, date, currency, market))?;
    Some(RateRow { date, currency, market, rate: rate? })
}

/// Within a file, the dates of each (currency, market) strictly increase.
fn check_order(
    seen: &BTreeMap<(Currency, Market), BTreeMap<NaiveDate, u64>>,
    date: NaiveDate,
    currency: Currency,
    market: Market,
) -> Result<(), String> {
    let Some(dates) = seen.get(&(currency, market)) else {
        return Ok(());
    };
    if let Some(first) = dates.get(&date) {
        return Err(format!(
            "a second {currency} {market} rate for {date} (the first is on line {first}); \
             keep one row per date, currency and market"
        ));
    }
    match dates.last_key_value() {
        Some((latest, earlier)) if *latest > date => Err(format!(
            "{date} comes after {latest} (line {earlier}) for {currency} {market}; within a file the dates of \
             each currency and market must increase: sort the file by date"
        )),
        _ => Ok(()),
    }
}

/// An active currency other than the base currency, whose rate is always 1.
fn foreign_currency(text: &str, base: Currency) -> Result<Currency, String> {
    let currency = cell::currency(text)?;
    if currency == base {
        return Err(format!(
            "{currency} is the base currency: its rate is always 1 and cannot be imported; remove the row"
        ));
    }
    Ok(currency)
}

fn check_market(text: &str) -> Result<Market, String> {
    if let Some(market) = Market::parse(text) {
        return Ok(market);
    }
    let hint = match text.trim().to_ascii_lowercase().as_str() {
        "cny" => " (the CNY market is `onshore`)".to_string(),
        "cnh" => " (the CNH market is `offshore`)".to_string(),
        lower => Market::parse(lower).map(|m| format!(" (write `{m}`)")).unwrap_or_default(),
    };
    let what = if text.is_empty() { "is empty".to_string() } else { format!("unknown market {}", shown(text)) };
    Err(format!(
        "{what}; expected one of: onshore (the CNY market, for ordinary onshore accounts), \
         offshore (the CNH market, for FT and offshore accounts){hint}"
    ))
}

/// A rate greater than zero with at most [`RATE_DECIMALS_MAX`] decimal places.
fn check_rate(text: &str) -> Result<Decimal, String> {
    let rate =
        cell::rate(text, "is empty; write the rate as a decimal such as 7.1025", ": a rate must be greater than zero")?;
    if rate.scale() > RATE_DECIMALS_MAX {
        return Err(format!(
            "{} has {} decimal places; a rate may have at most {RATE_DECIMALS_MAX}",
            shown(text),
            rate.scale()
        ));
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_first_excess_row() {
        let cny = Currency::from_code("CNY").unwrap();
        let text = "date,currency,market,rate\n2026-11-02,USD,onshore,7.1\n\n2026-11-03,USD,onshore,7.1\n\
                    2026-11-04,USD,onshore,7.1\n2026-11-05,USD,onshore,7.1\n";
        let (rows, lines, errors) = parse_limited(text, cny, 2);
        assert_eq!(rows.len(), 2);
        assert_eq!(lines, [2, 4]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 5);
        assert!(errors[0].reason.contains("more than 2 rows"), "{}", errors[0].reason);
    }
}
