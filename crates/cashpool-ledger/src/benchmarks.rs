//! Benchmark rates: the dated fixings of published interest rate series (the
//! PBOC's LPR, SHIBOR, the New York Fed's SOFR, HKAB's HIBOR, the ECB's €STR
//! …), imported like FX rates, which `[[interest]]` rules price on
//! (docs/SWEEPS.md, "Interest as treasuries set it").
//!
//! A series is named by an id of the treasury's choosing (`LPR-1Y`, `SOFR`,
//! `HIBOR-1M`); a fixing is the rate the administrator published for one date,
//! in **percent per annum**, as published (`3.00` is 3 %; a fixing may be
//! negative, as €STR was until 2022). The fixing of a date is the one the
//! administrator dates so: SOFR of 2026-01-05 is the rate of that business
//! day's transactions, published on the next business day.
//!
//! The benchmarks CSV is read outside the core, by `cashpool-files`
//! (`cashpool_files::benchmarks::parse_benchmarks_csv`), into
//! [`BenchmarkRow`]s. [`BenchmarkBook`] holds every imported fixing and answers
//! which fixing was in force on a date: that date's, or the latest before it (a
//! weekend or holiday uses the last business day's fixing, the LPR of the 20th
//! holds until the next month's). A fixing, once imported, is never changed: a
//! different rate for a (series, date) already held is a [`FixingConflict`].

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// The longest series id, in bytes.
pub const SERIES_LEN_MAX: usize = 32;
/// The most decimal places a fixing may have (HKAB publishes HIBOR to 5, SHIBOR has 4).
pub const FIXING_DECIMALS_MAX: u32 = 8;

/// Whether `text` is a series id: 1 to [`SERIES_LEN_MAX`] upper-case ASCII
/// letters, digits and hyphens, starting with a letter and not ending with a
/// hyphen (`LPR-1Y`, `SHIBOR-ON`, `SOFR`, `ESTR`). `Err` says what is wrong.
pub fn check_series(text: &str) -> Result<(), String> {
    let shape = "a series id is 1 to 32 upper-case letters, digits and hyphens, starting with a letter \
                 (LPR-1Y, SHIBOR-3M, SOFR, HIBOR-1M, ESTR)";
    if text.is_empty() {
        return Err(format!("is empty; {shape}"));
    }
    if text.len() > SERIES_LEN_MAX {
        return Err(format!("{text:?} is {} bytes long; {shape}", text.len()));
    }
    let bytes = text.as_bytes();
    let allowed = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'-';
    if !bytes[0].is_ascii_uppercase() || !bytes.iter().all(allowed) || bytes.ends_with(b"-") {
        let hint = if text.bytes().any(|b| b.is_ascii_lowercase()) && text.to_ascii_uppercase() != text {
            format!(" (write {:?})", text.to_ascii_uppercase())
        } else {
            String::new()
        };
        return Err(format!("{text:?} is not a series id; {shape}{hint}"));
    }
    Ok(())
}

/// Whether `rate` can be a fixing: above -100 and below 100 percent, with at
/// most [`FIXING_DECIMALS_MAX`] decimal places. `Err` says what is wrong.
pub fn check_fixing(rate: Decimal) -> Result<(), String> {
    if rate <= -Decimal::ONE_HUNDRED || rate >= Decimal::ONE_HUNDRED {
        return Err(format!("{rate} is out of range; a fixing is percent per annum, above -100 and below 100"));
    }
    if rate.scale() > FIXING_DECIMALS_MAX {
        return Err(format!(
            "{rate} has {} decimal places; a fixing may have at most {FIXING_DECIMALS_MAX}",
            rate.scale()
        ));
    }
    Ok(())
}

/// A rate in percent as messages show it: at least two decimals (`3.00`, `1.374`).
fn percent_shown(rate: Decimal) -> String {
    let mut shown = rate.normalize();
    if shown.scale() < 2 {
        shown.rescale(2);
    }
    shown.to_string()
}

/// One fixing: the rate of `series` for `date`, percent per annum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchmarkRow {
    /// The date the administrator gives the fixing (the value date it is the rate of).
    pub date: NaiveDate,
    /// The series id ([`check_series`]).
    pub series: String,
    /// Percent per annum, as published (`3.00` is 3 %); may be negative.
    pub rate_percent: Decimal,
}

/// An import would change a fixing already in the book.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error(
    "the {series} fixing of {date} is already {} %; refusing to replace it with {} % \
     (an imported fixing cannot be changed)",
    percent_shown(*.existing),
    percent_shown(*.given)
)]
pub struct FixingConflict {
    /// The conflicting row's index in the rows given (0-based).
    pub row: usize,
    /// Its series.
    pub series: String,
    /// Its date.
    #[serde(with = "crate::journal::date_format")]
    pub date: NaiveDate,
    /// The fixing already held (or given earlier in the same import).
    #[serde(with = "rust_decimal::serde::str")]
    pub existing: Decimal,
    /// The different fixing the import gave.
    #[serde(with = "rust_decimal::serde::str")]
    pub given: Decimal,
}

/// Every imported fixing, by series and date.
#[doc(hidden)] // public for `crate::testing` only
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BenchmarkBook {
    series: BTreeMap<String, BTreeMap<NaiveDate, Decimal>>,
}

impl BenchmarkBook {
    /// An empty book.
    pub fn new() -> BenchmarkBook {
        BenchmarkBook::default()
    }

    /// Adds rows. A row for a (series, date) already present (in the book, or
    /// earlier in `rows`) is accepted only if its rate is equal by value
    /// (`3.00` equals `3`), and the fixing held stays as it is. A different
    /// rate returns [`FixingConflict`] and nothing of this call is added.
    pub fn insert(&mut self, rows: &[BenchmarkRow]) -> Result<(), FixingConflict> {
        let mut staged: BTreeMap<(&str, NaiveDate), Decimal> = BTreeMap::new();
        for (index, row) in rows.iter().enumerate() {
            let held = self
                .series
                .get(&row.series)
                .and_then(|dates| dates.get(&row.date))
                .or_else(|| staged.get(&(row.series.as_str(), row.date)));
            match held {
                Some(&existing) if existing != row.rate_percent => {
                    return Err(FixingConflict {
                        row: index,
                        series: row.series.clone(),
                        date: row.date,
                        existing,
                        given: row.rate_percent,
                    });
                }
                Some(_) => {}
                None => {
                    staged.insert((row.series.as_str(), row.date), row.rate_percent);
                }
            }
        }
        for ((series, date), rate) in staged {
            self.series.entry(series.to_string()).or_default().insert(date, rate);
        }
        Ok(())
    }

    /// The fixing in force on `date`: the one dated `date`, or else the latest
    /// before it, with the date it is of.
    pub fn fixing(&self, series: &str, date: NaiveDate) -> Option<(NaiveDate, Decimal)> {
        self.series.get(series)?.range(..=date).next_back().map(|(&on, &rate)| (on, rate))
    }

    /// The dates of the fixings of `series` in `[from, to)`, ascending.
    pub fn dates_between(&self, series: &str, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        if from >= to {
            return Vec::new();
        }
        self.series.get(series).map_or_else(Vec::new, |dates| dates.range(from..to).map(|(&on, _)| on).collect())
    }

    /// Whether the book holds exactly this fixing.
    pub fn holds(&self, row: &BenchmarkRow) -> bool {
        self.series.get(&row.series).and_then(|dates| dates.get(&row.date)) == Some(&row.rate_percent)
    }

    /// How many fixings the book holds.
    pub fn len(&self) -> usize {
        self.series.values().map(BTreeMap::len).sum()
    }

    /// Whether the book holds no fixing at all.
    pub fn is_empty(&self) -> bool {
        self.series.values().all(BTreeMap::is_empty)
    }

    /// Every fixing, ordered by series (UTF-8 bytes) then date: for the state
    /// digest and the listing.
    pub fn rows(&self) -> impl Iterator<Item = BenchmarkRow> + '_ {
        self.series.iter().flat_map(|(series, dates)| {
            dates.iter().map(move |(&date, &rate_percent)| BenchmarkRow { date, series: series.clone(), rate_percent })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn row(date: &str, series: &str, rate: Decimal) -> BenchmarkRow {
        BenchmarkRow { date: date.parse().unwrap(), series: series.into(), rate_percent: rate }
    }

    #[test]
    fn series_ids() {
        for good in ["LPR-1Y", "SOFR", "ESTR", "SHIBOR-ON", "HIBOR-1M", "A"] {
            assert_eq!(check_series(good), Ok(()), "{good}");
        }
        for bad in ["", "sofr", "1Y-LPR", "LPR-", "LPR 1Y", "€STR", &"X".repeat(33)] {
            assert!(check_series(bad).is_err(), "{bad:?}");
        }
        assert!(check_series("sofr").unwrap_err().contains("(write \"SOFR\")"));
    }

    #[test]
    fn the_fixing_in_force_is_the_latest_on_or_before_and_a_conflict_adds_nothing() {
        let mut book = BenchmarkBook::new();
        book.insert(&[row("2026-01-20", "LPR-1Y", dec!(3.00)), row("2025-12-22", "LPR-1Y", dec!(3.0))]).unwrap();
        assert_eq!(
            book.fixing("LPR-1Y", "2026-01-19".parse().unwrap()),
            Some(("2025-12-22".parse().unwrap(), dec!(3.0)))
        );
        assert_eq!(book.fixing("LPR-1Y", "2026-01-20".parse().unwrap()).map(|f| f.1), Some(dec!(3.00)));
        assert_eq!(book.fixing("LPR-1Y", "2025-12-21".parse().unwrap()), None);
        assert_eq!(book.fixing("LPR-5Y", "2026-01-20".parse().unwrap()), None);
        // The same value again is no change; another value refuses the whole call.
        book.insert(&[row("2026-01-20", "LPR-1Y", dec!(3))]).unwrap();
        let conflict =
            book.insert(&[row("2026-02-24", "LPR-1Y", dec!(3)), row("2026-01-20", "LPR-1Y", dec!(2.9))]).unwrap_err();
        assert_eq!((conflict.row, conflict.existing, conflict.given), (1, dec!(3.00), dec!(2.9)));
        assert_eq!(book.len(), 2, "nothing of a refused call is added");
        let within = book.insert(&[row("2026-03-20", "SOFR", dec!(3.6)), row("2026-03-20", "SOFR", dec!(3.61))]);
        assert_eq!(within.unwrap_err().row, 1, "a conflict within one call");
        assert_eq!(
            book.dates_between("LPR-1Y", "2025-12-22".parse().unwrap(), "2026-01-20".parse().unwrap()),
            vec!["2025-12-22".parse::<NaiveDate>().unwrap()]
        );
    }

    #[test]
    fn fixings_are_bounded() {
        assert!(check_fixing(dec!(-0.58)).is_ok());
        assert!(check_fixing(dec!(99.99999999)).is_ok());
        assert!(check_fixing(dec!(100)).is_err());
        assert!(check_fixing(dec!(-100)).is_err());
        assert!(check_fixing(dec!(1.123456789)).is_err());
    }
}
