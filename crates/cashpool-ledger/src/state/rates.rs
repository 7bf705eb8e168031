//! The `rates` part: the imported FX rates ([`RateBook`]) and benchmark
//! fixings ([`BenchmarkBook`]).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::benchmarks::{check_fixing, check_series, BenchmarkBook, BenchmarkRow};
use crate::digest::{date, dec, finish, line, string};
use crate::journal::v2::{benchmarks_of, benchmarks_rec, rates_of, rates_rec, BenchmarksRec, RatesRec};
use crate::journal::EntryHash;
use crate::money::Currency;
use crate::rates::{Market, RateBook, RateRow};

/// The imported FX rates and benchmark fixings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rates {
    book: RateBook,
    benchmarks: BenchmarkBook,
}

impl Rates {
    /// Imports rows: positive rates of currencies other than the base
    /// currency, none changing a rate already held.
    pub(crate) fn apply(&mut self, rows: &[RateRow], base: Currency) -> Result<(), String> {
        if let Some(row) = rows.iter().find(|row| row.rate <= Decimal::ZERO || row.currency == base) {
            return Err(format!(
                "rate row {} {} {} {} is not a positive rate of a foreign currency",
                row.date,
                row.currency,
                row.market.as_str(),
                row.rate
            ));
        }
        self.book.insert(rows).map_err(|conflict| conflict.to_string())
    }

    /// Imports benchmark fixings: series ids and fixings as [`check_series`]
    /// and [`check_fixing`] require, none changing a fixing already held.
    /// Nothing is changed when it fails.
    pub(crate) fn apply_benchmarks(&mut self, rows: &[BenchmarkRow]) -> Result<(), String> {
        for row in rows {
            check_series(&row.series).map_err(|reason| format!("fixing of {}: series {reason}", row.date))?;
            check_fixing(row.rate_percent)
                .map_err(|reason| format!("{} fixing of {}: {reason}", row.series, row.date))?;
        }
        self.benchmarks.insert(rows).map_err(|conflict| conflict.to_string())
    }

    /// The benchmark fixings.
    pub(crate) fn benchmarks(&self) -> &BenchmarkBook {
        &self.benchmarks
    }

    /// The rate in force on `date` and the date it was set for (see [`RateBook::rate`]).
    pub(crate) fn rate(&self, currency: Currency, market: Market, date: NaiveDate) -> Option<(NaiveDate, Decimal)> {
        self.book.rate(currency, market, date)
    }

    /// The book itself (to probe an import on a copy).
    pub(crate) fn book(&self) -> &RateBook {
        &self.book
    }

    /// The part as the state snapshot keeps it: every rate row, as the journal records rows.
    pub(crate) fn snapshot(&self) -> RatesRec {
        rates_rec(&self.book.rows().collect::<Vec<_>>())
    }

    /// The benchmark fixings as the state snapshot keeps them, as the journal records rows.
    pub(crate) fn snapshot_benchmarks(&self) -> BenchmarksRec {
        benchmarks_rec(&self.benchmarks.rows().collect::<Vec<_>>())
    }

    /// The part a snapshot kept; the rows are checked as when they were imported.
    pub(crate) fn restore(rec: RatesRec, benchmarks: BenchmarksRec, base: Currency) -> Result<Rates, String> {
        let mut rates = Rates::default();
        rates.apply(&rates_of(rec)?, base)?;
        rates.apply_benchmarks(&benchmarks_of(benchmarks))?;
        Ok(rates)
    }

    /// Every rate is positive; every fixing is of a well-formed series and in range.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        if let Some(row) = self.book.rows().find(|row| row.rate <= Decimal::ZERO) {
            return Err(format!(
                "{} {} {}: rate {} is not positive",
                row.currency,
                row.market.as_str(),
                row.date,
                row.rate
            ));
        }
        for row in self.benchmarks.rows() {
            check_series(&row.series).map_err(|reason| format!("benchmark {reason}"))?;
            check_fixing(row.rate_percent).map_err(|reason| format!("{} {}: {reason}", row.series, row.date))?;
        }
        Ok(())
    }

    /// `[currency, market, date, rate]` sorted by currency, market name, date;
    /// then `["benchmark", series, date, rate_percent]` sorted by series
    /// (UTF-8 bytes), date. A journal without fixings has the lines it always had.
    pub(crate) fn digest(&self) -> EntryHash {
        let mut rows: Vec<_> = self.book.rows().collect();
        rows.sort_by(|a, b| {
            (a.currency.code(), a.market.as_str(), a.date).cmp(&(b.currency.code(), b.market.as_str(), b.date))
        });
        let mut hasher = Sha256::new();
        for row in rows {
            line(
                &mut hasher,
                &[string(row.currency.code()), string(row.market.as_str()), date(row.date), dec(row.rate)],
            );
        }
        for row in self.benchmarks.rows() {
            line(&mut hasher, &[string("benchmark"), string(&row.series), date(row.date), dec(row.rate_percent)]);
        }
        finish(hasher)
    }
}
