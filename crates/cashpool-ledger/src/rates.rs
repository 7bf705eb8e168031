//! FX rates: the rates CSV, and the book that answers "which rate was in force".
//!
//! A rate is quoted as units of the group's base currency for one unit of a
//! foreign currency, per day and per market. The pool sits in Shanghai
//! Lingang, where two RMB markets coexist: ordinary onshore accounts convert at
//! the onshore CNY rate, FT and offshore accounts at the offshore CNH rate
//! ([`Market::of_zone`]).
//!
//! [`parse_rates_csv`] reads a file `date,currency,market,rate` the way the
//! transaction parsers do: it never stops at the first bad row, returns every
//! good row and an [`InputError`] for every bad one, and never panics.
//! [`RateBook`] holds every imported rate and looks up the rate in force on a
//! date: that date's, or the latest before it (a weekend or holiday uses the
//! last business day's rate). Conversion ([`RateBook::to_base`]) is exact: the
//! caller rounds.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::input::{parse_iso_date, InputError, ROWS_MAX};
use crate::input::{shown, CsvRecords};
use crate::model::Zone;
use crate::money::{parse_decimal, Currency, MoneyError};

/// The columns of a rates CSV, in this order.
pub const RATES_CSV_COLUMNS: [&str; 4] = ["date", "currency", "market", "rate"];

/// The most decimal places a rate may have.
pub const RATE_DECIMALS_MAX: u32 = 10;

// ---------------------------------------------------------------------------
// Market
// ---------------------------------------------------------------------------

/// Which FX market a rate is from: `onshore` = CNY market (ordinary onshore
/// accounts), `offshore` = CNH market (FT and offshore accounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Market {
    /// The onshore CNY market: ordinary domestic accounts.
    Onshore,
    /// The offshore CNH market: FT accounts and accounts abroad.
    Offshore,
}

impl Market {
    /// Both markets, in order.
    pub const ALL: [Market; 2] = [Market::Onshore, Market::Offshore];

    /// The name used in files and JSON: `onshore` or `offshore`.
    pub fn as_str(self) -> &'static str {
        match self {
            Market::Onshore => "onshore",
            Market::Offshore => "offshore",
        }
    }

    /// Parses `onshore` or `offshore` (lower case, exactly).
    pub fn parse(text: &str) -> Option<Market> {
        Market::ALL.into_iter().find(|market| market.as_str() == text)
    }

    /// The market of an account's zone: [`Market::Onshore`] for
    /// [`Zone::Onshore`], [`Market::Offshore`] for [`Zone::Ft`] and
    /// [`Zone::Offshore`].
    pub fn of_zone(zone: Zone) -> Market {
        match zone {
            Zone::Onshore => Market::Onshore,
            Zone::Ft | Zone::Offshore => Market::Offshore,
        }
    }
}

impl fmt::Display for Market {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------
// Rows and errors
// ---------------------------------------------------------------------------

/// One rate: `rate` units of the base currency for one unit of `currency`, on
/// `date`, in `market`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateRow {
    /// The day the rate is set for.
    #[serde(with = "crate::journal::date_format")]
    pub date: NaiveDate,
    /// The foreign currency (never the base currency).
    pub currency: Currency,
    /// The market the rate is from.
    pub market: Market,
    /// Units of the base currency for one unit of `currency`; greater than zero.
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
}

/// No rate on or before the date asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("no {market} rate for {currency} on or before {date}; import one with `cashpool rates import`")]
pub struct MissingRate {
    /// The currency to convert.
    pub currency: Currency,
    /// The market whose rate was needed.
    pub market: Market,
    /// The date of the conversion.
    #[serde(with = "crate::journal::date_format")]
    pub date: NaiveDate,
}

/// Why [`RateBook::to_base`] could not convert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// No rate in force on the date.
    #[error(transparent)]
    Missing(#[from] MissingRate),
    /// The product cannot be held exactly: it leaves the decimal range, or
    /// would need more than its 28 digits (the conversion never rounds).
    #[error("the converted amount overflows the decimal range (it cannot be held exactly)")]
    Overflow,
}

/// An import would change a rate already in the book.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {market} rate for {currency} on {date} is already {existing}; refusing to replace it with {given} \
     (an imported rate cannot be changed)"
)]
pub struct RateConflict {
    /// The conflicting row's index in the rows given (0-based; with
    /// [`parse_rates_csv_lines`], the index of its line).
    pub row: usize,
    /// The currency of the conflicting row.
    pub currency: Currency,
    /// The market of the conflicting row.
    pub market: Market,
    /// The date of the conflicting row.
    pub date: NaiveDate,
    /// The rate already held (or given earlier in the same import).
    pub existing: Decimal,
    /// The different rate the import gave.
    pub given: Decimal,
}

// ---------------------------------------------------------------------------
// RateBook
// ---------------------------------------------------------------------------

/// All imported rates; looks up the rate in force on a date: that date's, or
/// the latest before it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateBook {
    rates: BTreeMap<(Currency, Market), BTreeMap<NaiveDate, Decimal>>,
}

impl RateBook {
    /// An empty book.
    pub fn new() -> RateBook {
        RateBook::default()
    }

    /// Adds rows. A row for a (date, currency, market) already present (in the
    /// book, or earlier in `rows`) is accepted only if its rate is equal (by
    /// value: `7.1025` equals `7.10250`), and then the rate held stays as it
    /// is. A different rate returns [`RateConflict`] and nothing of this call
    /// is added.
    pub fn insert(&mut self, rows: &[RateRow]) -> Result<(), RateConflict> {
        let mut staged: BTreeMap<(Currency, Market, NaiveDate), Decimal> = BTreeMap::new();
        for (index, row) in rows.iter().enumerate() {
            let held = self
                .rates
                .get(&(row.currency, row.market))
                .and_then(|dates| dates.get(&row.date))
                .or_else(|| staged.get(&(row.currency, row.market, row.date)));
            match held {
                Some(&existing) if existing != row.rate => {
                    return Err(RateConflict {
                        row: index,
                        currency: row.currency,
                        market: row.market,
                        date: row.date,
                        existing,
                        given: row.rate,
                    });
                }
                Some(_) => {}
                None => {
                    staged.insert((row.currency, row.market, row.date), row.rate);
                }
            }
        }
        for ((currency, market, date), rate) in staged {
            self.rates.entry((currency, market)).or_default().insert(date, rate);
        }
        Ok(())
    }

    /// The rate in force: the one set for `date`, or else the latest before
    /// it, with the date it was set for.
    pub fn rate(&self, currency: Currency, market: Market, date: NaiveDate) -> Option<(NaiveDate, Decimal)> {
        self.rates.get(&(currency, market))?.range(..=date).next_back().map(|(&on, &rate)| (on, rate))
    }

    /// `amount` of `currency` in the base currency `base`. An amount in `base`
    /// converts 1:1 whatever the market, without any rate; otherwise it is
    /// multiplied by the rate in force ([`RateBook::rate`]), exactly and NOT
    /// rounded: the caller rounds. A non-zero product's scale is the sum of
    /// both scales (`100000.00` × `7.1025` = `710250.000000`), or of both
    /// without their trailing zeros when only that fits. [`RateError::Missing`]
    /// when no rate is set on or before `date`, [`RateError::Overflow`] when
    /// the product cannot be held exactly.
    pub fn to_base(
        &self,
        amount: Decimal,
        currency: Currency,
        market: Market,
        date: NaiveDate,
        base: Currency,
    ) -> Result<Decimal, RateError> {
        if currency == base {
            return Ok(amount);
        }
        let (_, rate) = self.rate(currency, market, date).ok_or(MissingRate { currency, market, date })?;
        // Trailing zeros cost digits: without them a product may fit exactly where it did not with them.
        exact_mul(amount, rate).or_else(|| exact_mul(amount.normalize(), rate.normalize())).ok_or(RateError::Overflow)
    }

    /// How many rates the book holds (one per date, currency and market).
    pub fn len(&self) -> usize {
        self.rates.values().map(BTreeMap::len).sum()
    }

    /// Whether the book holds no rate at all.
    pub fn is_empty(&self) -> bool {
        self.rates.values().all(BTreeMap::is_empty)
    }

    /// Every rate, ordered by (currency, market, date): for the state digest.
    pub fn rows(&self) -> impl Iterator<Item = RateRow> + '_ {
        self.rates.iter().flat_map(|(&(currency, market), dates)| {
            dates.iter().map(move |(&date, &rate)| RateRow { date, currency, market, rate })
        })
    }
}

/// `a × b` when the product is held exactly. `Decimal::checked_mul` fails only
/// when even the integer part does not fit; short of that it silently drops
/// low digits (to 96 bits of mantissa, to at most 28 decimals): an exact
/// product keeps the sum of both scales, and is zero only if a factor is.
fn exact_mul(a: Decimal, b: Decimal) -> Option<Decimal> {
    let product = a.checked_mul(b)?;
    let exact = if product.is_zero() { a.is_zero() || b.is_zero() } else { product.scale() == a.scale() + b.scale() };
    exact.then_some(product)
}

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

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
/// (a [`RateConflict`]) can name its line.
pub fn parse_rates_csv_lines(text: &str, base: Currency) -> (Vec<RateRow>, Vec<u64>, Vec<InputError>) {
    parse_limited(text, base, ROWS_MAX)
}

fn error(line: u64, field: Option<&str>, reason: impl Into<String>) -> InputError {
    InputError { line, field: field.map(str::to_string), reason: reason.into() }
}

fn expected_header() -> String {
    format!("`{}`", RATES_CSV_COLUMNS.join(","))
}

fn parse_limited(text: &str, base: Currency, rows_max: usize) -> (Vec<RateRow>, Vec<u64>, Vec<InputError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
            errors.push(error(line, None, crate::input::wrong_header(&RATES_CSV_COLUMNS, &expected_header(), record)));
            return (rows, lines, errors);
        }
        if count >= rows_max {
            errors.push(error(
                line,
                None,
                format!(
                    "more than {rows_max} rows in one file; split the file and import the rest separately \
                     (this row and the rest of the file were not read)"
                ),
            ));
            break;
        }
        count += 1;
        if record.len() != RATES_CSV_COLUMNS.len() {
            errors.push(error(
                line,
                None,
                format!(
                    "expected {} fields as in the header {}, found {}{}",
                    RATES_CSV_COLUMNS.len(),
                    expected_header(),
                    record.len(),
                    crate::input::width_diff(&RATES_CSV_COLUMNS, record)
                ),
            ));
            continue;
        }
        let before = errors.len();
        let row = csv_row(record, line, base, &seen, &mut errors);
        if let Some(row) = row.filter(|_| errors.len() == before) {
            seen.entry((row.currency, row.market)).or_default().insert(row.date, line);
            rows.push(row);
            lines.push(line);
        }
    }
    if !header_seen && errors.is_empty() {
        errors.push(error(
            1,
            None,
            format!("the file is empty; a rates CSV starts with the header {}", expected_header()),
        ));
    }
    (rows, lines, errors)
}

/// Checks one data row of the right width; every field error goes to `errors`.
fn csv_row(
    record: &csv::StringRecord,
    line: u64,
    base: Currency,
    seen: &BTreeMap<(Currency, Market), BTreeMap<NaiveDate, u64>>,
    errors: &mut Vec<InputError>,
) -> Option<RateRow> {
    let field = |idx: usize| record.get(idx).unwrap_or_default();
    let date = take(errors, line, "date", parse_iso_date(field(0)));
    let currency = take(errors, line, "currency", check_currency(field(1), base));
    let market = take(errors, line, "market", check_market(field(2)));
    let rate = take(errors, line, "rate", check_rate(field(3)));
    let (date, currency, market) = (date?, currency?, market?);
    take(errors, line, "date", check_order(seen, date, currency, market))?;
    Some(RateRow { date, currency, market, rate: rate? })
}

/// `result`'s value, or `None` after recording its error against `field`.
fn take<T>(errors: &mut Vec<InputError>, line: u64, field: &str, result: Result<T, String>) -> Option<T> {
    result.map_err(|reason| errors.push(error(line, Some(field), reason))).ok()
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

fn check_currency(text: &str, base: Currency) -> Result<Currency, String> {
    if text.is_empty() {
        return Err("is empty; name the currency, such as USD".to_string());
    }
    if !(text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase())) {
        let hint = if text.len() == 3 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
            format!(" (write it in upper case: {})", text.to_ascii_uppercase())
        } else {
            String::new()
        };
        return Err(format!(
            "{} is not a currency code; expected three upper-case letters of ISO 4217 such as USD{hint}",
            shown(text)
        ));
    }
    let currency =
        Currency::from_code(text).ok_or_else(|| format!("{} is not an active ISO 4217 currency", shown(text)))?;
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

fn check_rate(text: &str) -> Result<Decimal, String> {
    if text.is_empty() {
        return Err("is empty; write the rate as a decimal such as 7.1025".to_string());
    }
    let rate = parse_decimal(text).map_err(|err| {
        let detail = match err {
            MoneyError::Invalid { reason, .. } => format!("{} is not a decimal: {reason}", shown(text)),
            other => other.to_string(),
        };
        let hint = if text.contains([',', '_', '\'']) {
            "; remove the thousands separators"
        } else if text.contains(['e', 'E']) {
            "; exponent notation is not allowed: write the digits out"
        } else if text.starts_with('+') {
            "; drop the leading '+'"
        } else if text.contains(char::is_whitespace) {
            "; remove the spaces"
        } else {
            ""
        };
        format!("{detail}{hint}")
    })?;
    if rate <= Decimal::ZERO {
        return Err(format!("{} is not a rate: a rate must be greater than zero", shown(text)));
    }
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
