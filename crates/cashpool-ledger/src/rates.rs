//! FX rates: the rows of a rate import, and the book that answers "which rate was in force".
//!
//! A rate is quoted as units of the group's base currency for one unit of a
//! foreign currency, per day and per market. The pool sits in Shanghai
//! Lingang, where two RMB markets coexist: ordinary onshore accounts convert at
//! the onshore CNY rate, FT and offshore accounts at the offshore CNH rate
//! ([`Market::of_zone`]).
//!
//! The rates CSV (`date,currency,market,rate`) is read outside the core, by
//! `cashpool-files` (`cashpool_files::rates::parse_rates_csv`), into
//! [`RateRow`]s. [`RateBook`] holds every imported rate and looks up the rate in force on a
//! date: that date's, or the latest before it (a weekend or holiday uses the
//! last business day's rate). Conversion ([`RateBook::to_base`]) is exact: the
//! caller rounds.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::Zone;
use crate::money::Currency;

/// The most decimal places a rate may have (the rates CSV refuses more).
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
#[doc(hidden)] // public for `crate::testing` only
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("no {market} rate for {currency} on or before {date}")]
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
#[doc(hidden)] // public for `crate::testing` only
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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error(
    "the {market} rate for {currency} on {date} is already {existing}; refusing to replace it with {given} \
     (an imported rate cannot be changed)"
)]
pub struct RateConflict {
    /// The conflicting row's index in the rows given (0-based; with
    /// `cashpool_files::rates::parse_rates_csv_lines`, the index of its line).
    pub row: usize,
    /// The currency of the conflicting row.
    pub currency: Currency,
    /// The market of the conflicting row.
    pub market: Market,
    /// The date of the conflicting row.
    #[serde(with = "crate::journal::date_format")]
    pub date: NaiveDate,
    /// The rate already held (or given earlier in the same import).
    #[serde(with = "rust_decimal::serde::str")]
    pub existing: Decimal,
    /// The different rate the import gave.
    #[serde(with = "rust_decimal::serde::str")]
    pub given: Decimal,
}

// ---------------------------------------------------------------------------
// RateBook
// ---------------------------------------------------------------------------

/// All imported rates; looks up the rate in force on a date: that date's, or
/// the latest before it.
#[doc(hidden)] // public for `crate::testing` only
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
pub(crate) fn exact_mul(a: Decimal, b: Decimal) -> Option<Decimal> {
    let product = a.checked_mul(b)?;
    let exact = if product.is_zero() { a.is_zero() || b.is_zero() } else { product.scale() == a.scale() + b.scale() };
    exact.then_some(product)
}
