//! The `rates` part: the imported FX rates ([`RateBook`]).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::digest::{date, dec, finish, line, string};
use crate::journal::v2::{rates_of, rates_rec, RatesRec};
use crate::journal::EntryHash;
use crate::money::Currency;
use crate::rates::{Market, RateBook, RateRow};

/// The imported FX rates.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rates {
    book: RateBook,
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

    /// The part a snapshot kept; the rows are checked as when they were imported.
    pub(crate) fn restore(rec: RatesRec, base: Currency) -> Result<Rates, String> {
        let mut rates = Rates::default();
        rates.apply(&rates_of(rec)?, base)?;
        Ok(rates)
    }

    /// Every rate is positive.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        match self.book.rows().find(|row| row.rate <= Decimal::ZERO) {
            Some(row) => {
                Err(format!("{} {} {}: rate {} is not positive", row.currency, row.market.as_str(), row.date, row.rate))
            }
            None => Ok(()),
        }
    }

    /// `[currency, market, date, rate]` sorted by currency, market name, date.
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
        finish(hasher)
    }
}
