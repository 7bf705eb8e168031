//! Totals of the ledger's query rows ([`Ledger::balances`],
//! [`Ledger::positions`]): per currency ([`balance_totals`],
//! [`position_totals`]), and in the group's base currency at the rates of a
//! date ([`base_totals`], through [`Ledger::balance_totals_in_base`] and
//! [`Ledger::position_totals_in_base`]): what a summary shows under a table of
//! them, so that no caller adds up or converts balances of its own.
//!
//! **In the base currency** (the treasurer's first question: the group's total
//! liquidity). The choices, also in `docs/GUIDE.md`:
//!
//! - **Which market.** A balance converts at the market where it is held, as
//!   the ledger converts an account's postings ([`Market::of_zone`]): an
//!   onshore account at the onshore (CNY) rate, an FT or offshore account at the
//!   offshore (CNH) rate. Only the group's own accounts count
//!   ([`AccountKind::is_own`](crate::model::AccountKind::is_own)): with the
//!   external counterparties and the ledger's system accounts every currency
//!   sums to zero. An intercompany position converts at the onshore rate: it is
//!   held in a `SYS-IC-…` account, which sits in no zone and belongs to the
//!   host's books, onshore, where the ledger also converts postings to system
//!   accounts at the onshore rate.
//! - **One line per currency and market.** The rows of one currency held at
//!   one market are added first, and that sum is converted once: each line
//!   reads `total × rate = value`, which a reader can check by hand. The base
//!   currency counts one for one at either market, without a rate, and makes
//!   one line.
//! - **Which rate.** The rate of the line's market set for the date asked, or
//!   else the latest before it (a weekend uses Friday's); each line says which
//!   rate it used and the date that rate was set for.
//! - **Rounding.** Each line's value is rounded half-even to the base
//!   currency's minor units, as the ledger rounds every conversion to the base
//!   currency (the pool's caps); the grand total is the sum of the rounded
//!   lines, so the figures shown add up.
//! - **No rate.** A line with a non-zero total and no rate of its market on or
//!   before the date is kept, marked [`Conversion::MissingRate`], and makes the
//!   grand total [`BaseTotal::Unknown`]: never a total that silently leaves a
//!   currency out or counts it as zero. A zero total is worth zero at any rate
//!   and needs none ([`Conversion::ZeroWithoutRate`]).
//!
//! [`Ledger::balances`]: crate::Ledger::balances
//! [`Ledger::positions`]: crate::Ledger::positions
//! [`Ledger::balance_totals_in_base`]: crate::Ledger::balance_totals_in_base
//! [`Ledger::position_totals_in_base`]: crate::Ledger::position_totals_in_base

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::limits::base_round;
use crate::money::Currency;
use crate::rates::{exact_mul, Market};
use crate::{BalanceRow, PositionRow};

/// A zero at `currency`'s minor units.
fn zero(currency: Currency) -> Decimal {
    let mut zero = Decimal::ZERO;
    zero.rescale(currency.minor_units());
    zero
}

/// Adds `amount` to its currency's total, keeping exactly the currency's minor units.
fn add(totals: &mut BTreeMap<Currency, Decimal>, currency: Currency, amount: Decimal) {
    let total = totals.entry(currency).or_insert_with(|| zero(currency));
    *total = total.checked_add(amount).expect("a total of balances fits a decimal");
    total.rescale(currency.minor_units());
    assert_eq!(total.scale(), currency.minor_units());
}

/// The sum of `rows` per currency (a currency without rows has no total).
///
/// ```
/// use cashpool_ledger::money::Currency;
/// use cashpool_ledger::totals::balance_totals;
/// use cashpool_ledger::BalanceRow;
/// use rust_decimal::Decimal;
/// let usd = Currency::from_code("USD").unwrap();
/// let row = |account: &str, cents| BalanceRow { account: account.into(), currency: usd, balance: Decimal::new(cents, 2) };
/// let totals = balance_totals(&[row("A", 150), row("B", -25)]);
/// assert_eq!(totals[&usd].to_string(), "1.25");
/// ```
pub fn balance_totals<'a>(rows: impl IntoIterator<Item = &'a BalanceRow>) -> BTreeMap<Currency, Decimal> {
    let mut totals = BTreeMap::new();
    for row in rows {
        add(&mut totals, row.currency, row.balance);
    }
    totals
}

/// The net of the members' intercompany positions per currency (a currency
/// without rows has no total): positive, the members together lent to the pool.
pub fn position_totals<'a>(rows: impl IntoIterator<Item = &'a PositionRow>) -> BTreeMap<Currency, Decimal> {
    let mut totals = BTreeMap::new();
    for row in rows {
        add(&mut totals, row.currency, row.position);
    }
    totals
}

// ---------------------------------------------------------------------------
// In the base currency
// ---------------------------------------------------------------------------

/// How one line of [`BaseTotals`] came to the base currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conversion {
    /// The base currency itself: it counts one for one, at either market, without a rate.
    Base,
    /// Converted at `rate` (units of the base currency for one unit of the
    /// line's currency, in the line's market, without trailing zeros), the rate set for `rate_date`:
    /// the date asked, or the latest before it. `total_base` is the line's
    /// total × `rate`, rounded half-even to the base currency's minor units.
    Converted { rate: Decimal, rate_date: NaiveDate, total_base: Decimal },
    /// The total is zero and no rate of the line's market is in force: zero
    /// is worth zero at any rate, so it needs none.
    ZeroWithoutRate,
    /// No rate of the line's market on or before the date, and a total that is
    /// not zero: the line is not converted and the grand total is unknown.
    MissingRate,
}

/// One line of [`BaseTotals`]: the total of one currency held at one market,
/// and what it is worth in the base currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseLine {
    pub currency: Currency,
    /// The market whose rate converts the line; `None` for the base currency,
    /// which needs no rate (its one line gathers both markets).
    pub market: Option<Market>,
    /// The sum of the rows, in `currency`, at exactly its minor units.
    pub total: Decimal,
    pub conversion: Conversion,
}

impl BaseLine {
    /// What the line is worth in the base currency (at its minor units), or
    /// `None` when it could not be converted ([`Conversion::MissingRate`]).
    pub fn total_base(&self, base: Currency) -> Option<Decimal> {
        match &self.conversion {
            Conversion::Base => Some(self.total),
            Conversion::Converted { total_base, .. } => Some(*total_base),
            Conversion::ZeroWithoutRate => Some(zero(base)),
            Conversion::MissingRate => None,
        }
    }

    /// The rate used and the date it was set for, when one was used.
    pub fn rate(&self) -> Option<(Decimal, NaiveDate)> {
        match &self.conversion {
            Conversion::Converted { rate, rate_date, .. } => Some((*rate, *rate_date)),
            _ => None,
        }
    }
}

/// The grand total of [`BaseTotals`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseTotal {
    /// Every line was converted: the sum of their values, in the base currency.
    Complete(Decimal),
    /// At least one line has no rate ([`Conversion::MissingRate`]): the grand
    /// total is unknown. `converted` is the sum of the lines that were
    /// converted: a part, never the total.
    Unknown { converted: Decimal },
}

impl BaseTotal {
    /// The grand total, when every line was converted.
    pub fn amount(&self) -> Option<Decimal> {
        match self {
            BaseTotal::Complete(amount) => Some(*amount),
            BaseTotal::Unknown { .. } => None,
        }
    }

    /// The sum of the lines that were converted (the grand total when complete).
    pub fn converted(&self) -> Decimal {
        match self {
            BaseTotal::Complete(amount) | BaseTotal::Unknown { converted: amount } => *amount,
        }
    }
}

/// Totals in the group's base currency at the rates in force on one date: one
/// [`BaseLine`] per currency and market, and their grand total (see the
/// module's documentation for the choices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseTotals {
    base: Currency,
    rates_as_of: NaiveDate,
    lines: Vec<BaseLine>,
    total: BaseTotal,
}

impl BaseTotals {
    /// The base currency.
    pub fn base(&self) -> Currency {
        self.base
    }

    /// The date whose rates convert the lines (each line's rate is that date's or the latest before it).
    pub fn rates_as_of(&self) -> NaiveDate {
        self.rates_as_of
    }

    /// The lines: the base currency first, then by currency code, onshore before offshore.
    pub fn lines(&self) -> &[BaseLine] {
        &self.lines
    }

    /// The grand total.
    pub fn total(&self) -> &BaseTotal {
        &self.total
    }

    /// The lines that could not be converted (they make the grand total unknown).
    pub fn missing(&self) -> impl Iterator<Item = &BaseLine> {
        self.lines.iter().filter(|line| line.conversion == Conversion::MissingRate)
    }
}

/// A figure of [`base_totals`] that a decimal cannot hold exactly: the total of
/// a currency at a market, its value in the base currency, or the grand total
/// (`market` `None` and `currency` the base currency). Figures this large do not
/// come from real money; nothing is rounded to make them fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {what} of {currency}{} is beyond the range of an exact decimal",
    .market.map(|market| format!(" at the {market} market")).unwrap_or_default()
)]
pub struct TotalsOutOfRange {
    /// What overflowed: `total`, `value in the base currency` or `grand total`.
    pub what: &'static str,
    pub currency: Currency,
    pub market: Option<Market>,
}

/// Converts amounts, each held at a market, into the base currency `base` at
/// the rates in force on `rates_as_of`: sums them per currency and market (the
/// base currency in one line, whatever the market), converts each sum at
/// `rate(currency, market)` (the rate in force on `rates_as_of`: the one set
/// for that date or the latest before it, with the date it was set for),
/// rounds each value half-even to the base currency's minor units, and adds
/// them up. A line with no rate and a non-zero total is kept as
/// [`Conversion::MissingRate`] and the grand total is then
/// [`BaseTotal::Unknown`].
///
/// [`TotalsOutOfRange`] when a sum or a product leaves what a decimal holds
/// exactly.
///
/// # Panics
///
/// If an amount has more decimals than its currency's minor units (every
/// amount of the ledger has exactly those), or if `rate` gives a rate that is
/// not above zero or is dated after `rates_as_of`: a caller that breaks this
/// contract has a bug.
///
/// ```
/// use cashpool_ledger::money::Currency;
/// use cashpool_ledger::rates::Market;
/// use cashpool_ledger::totals::{base_totals, BaseTotal};
/// use chrono::NaiveDate;
/// use rust_decimal::Decimal;
/// let ccy = |code| Currency::from_code(code).unwrap();
/// let on = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
/// let amounts = [
///     (ccy("CNY"), Market::Onshore, Decimal::new(100_00, 2)),   // CNY 100.00
///     (ccy("USD"), Market::Offshore, Decimal::new(2_00, 2)),    // USD 2.00 held offshore
/// ];
/// // USD at 7.1025 CNY offshore: 2.00 × 7.1025 = 14.2050, a tie: half-even gives 14.20.
/// let rate = |currency: Currency, market| {
///     (currency == ccy("USD") && market == Market::Offshore).then_some((on, Decimal::new(71025, 4)))
/// };
/// let totals = base_totals(amounts, ccy("CNY"), on, rate).unwrap();
/// assert_eq!(totals.lines()[1].total_base(ccy("CNY")).unwrap().to_string(), "14.20");
/// assert_eq!(totals.total(), &BaseTotal::Complete(Decimal::new(114_20, 2)));
/// ```
pub fn base_totals(
    amounts: impl IntoIterator<Item = (Currency, Market, Decimal)>,
    base: Currency,
    rates_as_of: NaiveDate,
    rate: impl Fn(Currency, Market) -> Option<(NaiveDate, Decimal)>,
) -> Result<BaseTotals, TotalsOutOfRange> {
    // Keyed so that the base currency comes first, then by code, onshore before offshore.
    let mut sums: BTreeMap<(bool, Currency, Option<Market>), Decimal> = BTreeMap::new();
    for (currency, market, amount) in amounts {
        let market = if currency == base { None } else { Some(market) };
        let sum = sums.entry((currency != base, currency, market)).or_insert_with(|| zero(currency));
        let out_of_range = || TotalsOutOfRange { what: "total", currency, market };
        let mut amount_at_scale = amount;
        amount_at_scale.rescale(currency.minor_units());
        assert_eq!(amount_at_scale, amount, "an amount of {currency} has at most its minor units");
        // An exact sum of two figures at the currency's scale keeps that scale; a decimal that runs out of
        // digits drops low ones instead of failing.
        *sum = sum
            .checked_add(amount_at_scale)
            .filter(|sum| sum.scale() == currency.minor_units())
            .ok_or_else(out_of_range)?;
    }
    let mut lines = Vec::with_capacity(sums.len());
    let mut converted = zero(base);
    let mut complete = true;
    for ((_, currency, market), total) in sums {
        let conversion = match market {
            None => Conversion::Base,
            Some(market) => convert(total, currency, market, base, rates_as_of, &rate)?,
        };
        let line = BaseLine { currency, market, total, conversion };
        match line.total_base(base) {
            Some(value) => {
                assert_eq!(value.scale(), base.minor_units(), "a line's value is at the base currency's minor units");
                converted = converted
                    .checked_add(value)
                    .filter(|sum| sum.scale() == base.minor_units())
                    .ok_or(TotalsOutOfRange { what: "grand total", currency: base, market: None })?;
            }
            None => complete = false,
        }
        lines.push(line);
    }
    assert_eq!(converted.scale(), base.minor_units());
    let total = if complete { BaseTotal::Complete(converted) } else { BaseTotal::Unknown { converted } };
    assert_eq!(complete, lines.iter().all(|line| line.conversion != Conversion::MissingRate));
    Ok(BaseTotals { base, rates_as_of, lines, total })
}

/// One line's conversion: `total` of `currency` (not the base currency) held at `market`.
fn convert(
    total: Decimal,
    currency: Currency,
    market: Market,
    base: Currency,
    rates_as_of: NaiveDate,
    rate: &impl Fn(Currency, Market) -> Option<(NaiveDate, Decimal)>,
) -> Result<Conversion, TotalsOutOfRange> {
    assert_ne!(currency, base, "the base currency needs no rate");
    let Some((rate_date, rate)) = rate(currency, market) else {
        return Ok(if total.is_zero() { Conversion::ZeroWithoutRate } else { Conversion::MissingRate });
    };
    assert!(rate_date <= rates_as_of, "the rate in force on {rates_as_of} cannot be set for {rate_date}");
    assert!(rate > Decimal::ZERO, "a rate is above zero, not {rate}");
    let out_of_range = TotalsOutOfRange { what: "value in the base currency", currency, market: Some(market) };
    // Exactly (trailing zeros cost digits: without them a product may fit where it did not), then rounded once.
    let product =
        exact_mul(total, rate).or_else(|| exact_mul(total.normalize(), rate.normalize())).ok_or(out_of_range)?;
    let total_base = base_round(product, base);
    // Shown without trailing zeros: `7.1` whether it was imported as `7.1` or `7.1000` (equal rates).
    Ok(Conversion::Converted { rate: rate.normalize(), rate_date, total_base })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_per_currency_at_its_minor_units() {
        let usd = Currency::from_code("USD").expect("USD");
        let jpy = Currency::from_code("JPY").expect("JPY");
        let rows = [
            BalanceRow { account: "A".into(), currency: usd, balance: Decimal::new(100, 2) },
            BalanceRow { account: "A".into(), currency: jpy, balance: Decimal::new(500, 0) },
            BalanceRow { account: "B".into(), currency: usd, balance: Decimal::ZERO },
        ];
        let totals = balance_totals(&rows);
        assert_eq!(totals.len(), 2);
        assert_eq!(totals[&usd].to_string(), "1.00");
        assert_eq!(totals[&jpy].to_string(), "500");
        assert!(balance_totals(&[]).is_empty());
    }

    #[test]
    fn positions_net_to_what_the_members_lent() {
        let cny = Currency::from_code("CNY").expect("CNY");
        let rows = [
            PositionRow { entity: "E1".into(), currency: cny, position: Decimal::new(100_000, 2) },
            PositionRow { entity: "E2".into(), currency: cny, position: Decimal::new(-40_000, 2) },
        ];
        let totals = position_totals(&rows);
        assert_eq!(totals[&cny].to_string(), "600.00");
        assert_eq!(totals.len(), 1);
    }

    fn ccy(code: &str) -> Currency {
        Currency::from_code(code).expect("an ISO currency")
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).expect("a decimal")
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("a date")
    }

    /// A rate book as a lookup: (currency, market, date set for, rate).
    fn book(
        rates: &'static [(&'static str, Market, u32, &'static str)],
    ) -> impl Fn(Currency, Market) -> Option<(NaiveDate, Decimal)> {
        move |currency, market| {
            rates
                .iter()
                .find(|(code, m, _, _)| ccy(code) == currency && *m == market)
                .map(|(_, _, d, rate)| (day(*d), dec(rate)))
        }
    }

    /// The lines as text: (currency, market, total, rate, rate date, value in the base currency).
    fn lines(totals: &BaseTotals) -> Vec<[String; 6]> {
        let text = |value: Option<String>| value.unwrap_or_else(|| "-".into());
        totals
            .lines()
            .iter()
            .map(|line| {
                [
                    line.currency.code().to_string(),
                    text(line.market.map(|m| m.as_str().to_string())),
                    line.total.to_string(),
                    text(line.rate().map(|(rate, _)| rate.to_string())),
                    text(line.rate().map(|(_, date)| date.to_string())),
                    text(line.total_base(totals.base()).map(|v| v.to_string())),
                ]
            })
            .collect()
    }

    fn owned<const N: usize>(rows: &[[&str; N]]) -> Vec<[String; N]> {
        rows.iter().map(|row| row.map(String::from)).collect()
    }

    #[test]
    fn each_currency_and_market_converts_once_and_rounds_half_even() {
        let cny = ccy("CNY");
        let amounts = [
            (cny, Market::Onshore, dec("1000.00")),
            (cny, Market::Offshore, dec("0.25")), // CNY held offshore (CNH) counts 1:1 too: one CNY line
            (ccy("USD"), Market::Onshore, dec("1.00")),
            (ccy("USD"), Market::Onshore, dec("1.00")), // two accounts: 2.00 converted once
            (ccy("USD"), Market::Offshore, dec("6.00")),
            (ccy("JPY"), Market::Offshore, dec("1000001")),
        ];
        let rates = book(&[
            ("USD", Market::Onshore, 2, "7.1025"),
            ("USD", Market::Offshore, 1, "7.1025"),
            ("JPY", Market::Offshore, 2, "0.0476"),
        ]);
        let totals = base_totals(amounts, cny, day(2), rates).expect("in range");
        #[rustfmt::skip]
        let expected = owned(&[
            ["CNY", "-", "1000.25", "-", "-", "1000.25"],
            // 1,000,001 × 0.0476 = 47,600.0476 → 47,600.05
            ["JPY", "offshore", "1000001", "0.0476", "2026-11-02", "47600.05"],
            // 2.00 × 7.1025 = 14.2050: a tie, half-even to the even cent 14.20 (half-up would give 14.21)
            ["USD", "onshore", "2.00", "7.1025", "2026-11-02", "14.20"],
            // 6.00 × 7.1025 = 42.6150: a tie, half-even to the even cent 42.62; the rate set on 1 November
            ["USD", "offshore", "6.00", "7.1025", "2026-11-01", "42.62"],
        ]);
        assert_eq!(lines(&totals), expected);
        // 1,000.25 + 47,600.05 + 14.20 + 42.62
        assert_eq!(totals.total(), &BaseTotal::Complete(dec("48657.12")));
        assert_eq!(totals.total().amount().map(|a| a.to_string()), Some("48657.12".into()));
        assert_eq!(totals.rates_as_of(), day(2));
        assert_eq!(totals.missing().count(), 0);
    }

    #[test]
    fn a_base_currency_without_minor_units_rounds_to_whole_units() {
        // A group whose base currency is JPY: values round half-even to whole yen.
        let jpy = ccy("JPY");
        let amounts = [
            (ccy("USD"), Market::Onshore, dec("1.50")), // 1.50 × 149 = 223.5: a tie, to the even 224
            (ccy("USD"), Market::Offshore, dec("2.50")), // 2.50 × 149 = 372.5: a tie, to the even 372
            (jpy, Market::Onshore, dec("100")),
        ];
        let rates = book(&[("USD", Market::Onshore, 2, "149"), ("USD", Market::Offshore, 2, "149")]);
        let totals = base_totals(amounts, jpy, day(2), rates).expect("in range");
        #[rustfmt::skip]
        let expected = owned(&[
            ["JPY", "-", "100", "-", "-", "100"],
            ["USD", "onshore", "1.50", "149", "2026-11-02", "224"],
            ["USD", "offshore", "2.50", "149", "2026-11-02", "372"],
        ]);
        assert_eq!(lines(&totals), expected);
        // 100 + 224 + 372, at JPY's scale
        assert_eq!(totals.total().amount().map(|a| a.to_string()), Some("696".into()));
    }

    #[test]
    fn a_currency_without_a_rate_is_listed_and_the_total_is_unknown() {
        let cny = ccy("CNY");
        let amounts = [
            (cny, Market::Onshore, dec("10.00")),
            (ccy("EUR"), Market::Onshore, dec("10.00")), // 10.00 × 7.7 = 77.00
            (ccy("EUR"), Market::Offshore, dec("5.00")), // no offshore EUR rate
            (ccy("KRW"), Market::Offshore, dec("5000")), // no KRW rate at all
            (ccy("SGD"), Market::Offshore, dec("0.00")), // zero needs no rate
        ];
        let totals = base_totals(amounts, cny, day(2), book(&[("EUR", Market::Onshore, 2, "7.7")])).expect("in range");
        #[rustfmt::skip]
        let expected = owned(&[
            ["CNY", "-", "10.00", "-", "-", "10.00"],
            ["EUR", "onshore", "10.00", "7.7", "2026-11-02", "77.00"],
            ["EUR", "offshore", "5.00", "-", "-", "-"],
            ["KRW", "offshore", "5000", "-", "-", "-"],
            ["SGD", "offshore", "0.00", "-", "-", "0.00"],
        ]);
        assert_eq!(lines(&totals), expected);
        let conversions: Vec<&Conversion> = totals.lines().iter().map(|line| &line.conversion).collect();
        assert_eq!(conversions[2], &Conversion::MissingRate);
        assert_eq!(conversions[3], &Conversion::MissingRate);
        assert_eq!(conversions[4], &Conversion::ZeroWithoutRate);
        let missing: Vec<&str> = totals.missing().map(|line| line.currency.code()).collect();
        assert_eq!(missing, ["EUR", "KRW"]);
        // 10.00 + 77.00 + 0.00: a part, and said to be one.
        assert_eq!(totals.total(), &BaseTotal::Unknown { converted: dec("87.00") });
        assert_eq!(totals.total().amount(), None);
        assert_eq!(totals.total().converted().to_string(), "87.00");
    }

    #[test]
    fn nothing_to_convert_is_a_total_of_zero() {
        let totals = base_totals([], ccy("CNY"), day(2), book(&[])).expect("in range");
        assert!(totals.lines().is_empty());
        assert_eq!(totals.total().amount().map(|a| a.to_string()), Some("0.00".into()));
    }

    #[test]
    fn figures_beyond_an_exact_decimal_are_an_error_not_a_panic() {
        let cny = ccy("CNY");
        // The largest amount at two decimals a decimal holds.
        let huge = dec("792281625142643375935439503.35");
        // The total of one currency and market: twice that.
        let err = base_totals(
            [(ccy("USD"), Market::Onshore, huge), (ccy("USD"), Market::Onshore, huge)],
            cny,
            day(2),
            book(&[]),
        )
        .expect_err("out of range");
        assert_eq!(err, TotalsOutOfRange { what: "total", currency: ccy("USD"), market: Some(Market::Onshore) });
        assert_eq!(err.to_string(), "the total of USD at the onshore market is beyond the range of an exact decimal");
        // Its value in the base currency.
        let err = base_totals(
            [(ccy("USD"), Market::Offshore, dec("1000000000000000000000.00"))],
            cny,
            day(2),
            book(&[("USD", Market::Offshore, 2, "7.1234567891")]),
        )
        .expect_err("out of range");
        assert_eq!(err.what, "value in the base currency");
        // The grand total: that much CNY, and CNY 7.00 more.
        let err = base_totals(
            [(cny, Market::Onshore, huge), (ccy("USD"), Market::Onshore, dec("1.00"))],
            cny,
            day(2),
            book(&[("USD", Market::Onshore, 2, "7")]),
        )
        .expect_err("out of range");
        assert_eq!(err, TotalsOutOfRange { what: "grand total", currency: cny, market: None });
        assert_eq!(err.to_string(), "the grand total of CNY is beyond the range of an exact decimal");
    }

    #[test]
    #[should_panic(expected = "cannot be set for")]
    fn a_lookup_that_gives_a_later_rate_is_a_bug() {
        let amounts = [(ccy("USD"), Market::Onshore, dec("1.00"))];
        let _ = base_totals(amounts, ccy("CNY"), day(2), book(&[("USD", Market::Onshore, 3, "7")]));
    }
}
