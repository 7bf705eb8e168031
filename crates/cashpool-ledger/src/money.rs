//! Money: ISO 4217 currencies, amounts at their minor units, exact rounding.
//!
//! An amount is a [`Decimal`] whose scale equals its currency's minor units
//! (`100.00` CNY, `500` JPY, `1.250` KWD). Everything that enters the ledger
//! goes through [`to_currency_scale`], which rejects an amount with more
//! decimals than its currency allows instead of rounding it silently.
//! Rounding is explicit ([`round_half_even`]); inside the crate it also
//! returns the residue, which the ledger books.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::currency_table::{CurrencyInfo, CURRENCIES};

/// An active ISO 4217 currency. Cheap to copy; ordered by its alphabetic code.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency(u16);

impl Currency {
    /// Looks up an active currency by its three-letter code (upper case).
    pub fn from_code(code: &str) -> Option<Currency> {
        CURRENCIES
            .binary_search_by(|info| info.code.cmp(code))
            .ok()
            .and_then(|idx| u16::try_from(idx).ok())
            .map(Currency)
    }

    fn info(self) -> &'static CurrencyInfo {
        &CURRENCIES[usize::from(self.0)]
    }

    /// The three-letter alphabetic code, `"CNY"`.
    pub fn code(self) -> &'static str {
        self.info().code
    }

    /// Decimal places of the minor unit: 2 for CNY, 0 for JPY, 3 for KWD.
    pub fn minor_units(self) -> u32 {
        u32::from(self.info().minor_units)
    }

    /// Half of one minor unit: the tolerance of a converted amount.
    pub(crate) fn half_minor_unit(self) -> Decimal {
        Decimal::new(5, self.minor_units() + 1)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(code: &str) -> Result<Currency, MoneyError> {
        Currency::from_code(code).ok_or_else(|| MoneyError::UnknownCurrency { code: code.to_string() })
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Currency, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Currency::from_code(&code).ok_or_else(|| serde::de::Error::custom(format!("unknown currency {code:?}")))
    }
}

/// Why an amount is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    #[error("unknown currency {code:?} (expected an active ISO 4217 code such as CNY, USD, JPY)")]
    UnknownCurrency { code: String },
    #[error("{amount} has more decimals than {currency} allows ({minor_units})")]
    TooManyDecimals { amount: String, currency: Currency, minor_units: u32 },
    #[error("{text:?} is not a decimal amount: {reason}")]
    Invalid { text: String, reason: &'static str },
    #[error("amount overflows the decimal range")]
    Overflow,
}

/// The largest amount magnitude the ledger accepts in one posting: 10^18.
/// Balances and sums stay far inside `Decimal`'s 96-bit range.
pub fn amount_max() -> Decimal {
    Decimal::from(1_000_000_000_000_000_000_i64)
}

/// Rescales `amount` to exactly `currency`'s minor units, rejecting an amount
/// with more (non-zero) decimals than the currency has. Never rounds.
pub fn to_currency_scale(amount: Decimal, currency: Currency) -> Result<Decimal, MoneyError> {
    let minor_units = currency.minor_units();
    let normalized = amount.normalize();
    if normalized.scale() > minor_units {
        return Err(MoneyError::TooManyDecimals { amount: amount.to_string(), currency, minor_units });
    }
    if normalized.abs() > amount_max() {
        return Err(MoneyError::Overflow);
    }
    let mut scaled = normalized;
    scaled.rescale(minor_units);
    if scaled.scale() != minor_units || scaled != normalized {
        return Err(MoneyError::Overflow);
    }
    Ok(scaled)
}

/// Parses a decimal string strictly: `-?digits(.digits)?`, no exponent, no
/// thousands separators, no `+`, at most 28 significant digits.
pub fn parse_decimal(text: &str) -> Result<Decimal, MoneyError> {
    let invalid = |reason| MoneyError::Invalid { text: text.to_string(), reason };
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int_part, frac_part) = match unsigned.split_once('.') {
        Some((int_part, frac_part)) => (int_part, Some(frac_part)),
        None => (unsigned, None),
    };
    if int_part.is_empty() {
        return Err(invalid("missing digits before the decimal point"));
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("only digits, one '.' and a leading '-' are allowed"));
    }
    if let Some(frac_part) = frac_part {
        if frac_part.is_empty() {
            return Err(invalid("missing digits after the decimal point"));
        }
        if !frac_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("only digits, one '.' and a leading '-' are allowed"));
        }
    }
    if int_part.len() + frac_part.map_or(0, str::len) > 28 {
        return Err(invalid("more than 28 digits"));
    }
    Decimal::from_str_exact(text).map_err(|_| invalid("out of the decimal range"))
}

/// Parses an amount of `currency`: strict syntax and at most its minor units.
pub(crate) fn parse_amount(text: &str, currency: Currency) -> Result<Decimal, MoneyError> {
    to_currency_scale(parse_decimal(text)?, currency)
}

/// Formats an amount with exactly the currency's minor units: `1000.00`, `500`.
pub fn format_amount(amount: Decimal, currency: Currency) -> String {
    at_scale(amount, currency).to_string()
}

/// `amount` at `currency`'s minor units (a value that displays as
/// [`format_amount`] writes it). Callers pass amounts already at or below
/// that scale; a longer one is rounded as [`Decimal::rescale`] rounds.
pub fn at_scale(amount: Decimal, currency: Currency) -> Decimal {
    let mut shown = amount;
    shown.rescale(currency.minor_units());
    shown
}

/// Formats an amount for a table: thousands separators, exact minor units.
pub fn format_grouped(amount: Decimal, currency: Currency) -> String {
    group_thousands(&format_amount(amount, currency))
}

/// Inserts `,` every three digits of the integer part of a plain decimal string.
pub fn group_thousands(plain: &str) -> String {
    let (sign, unsigned) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain),
    };
    let (int_part, frac_part) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let mut grouped = String::with_capacity(plain.len() + int_part.len() / 3);
    grouped.push_str(sign);
    for (idx, ch) in int_part.chars().enumerate() {
        if idx > 0 && (int_part.len() - idx) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if let Some(frac_part) = frac_part {
        grouped.push('.');
        grouped.push_str(frac_part);
    }
    grouped
}

/// How [`round`] resolves an amount that lies between two minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum RoundingMode {
    /// Banker's rounding: ties go to the even minor unit (the default).
    #[default]
    HalfEven,
    /// Ties go away from zero (commercial rounding); only the unit tests round so.
    #[cfg(test)]
    HalfUp,
    /// Towards zero (truncation).
    Down,
}

/// The result of rounding: `rounded + residue == original`, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rounded {
    /// The amount at the currency's minor units.
    pub rounded: Decimal,
    /// What rounding took away (positive) or added (negative); book it.
    pub(crate) residue: Decimal,
}

/// Rounds `amount` to `currency`'s minor units and returns the residue.
pub(crate) fn round(amount: Decimal, currency: Currency, mode: RoundingMode) -> Rounded {
    let strategy = match mode {
        RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
        #[cfg(test)]
        RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
        RoundingMode::Down => RoundingStrategy::ToZero,
    };
    let mut rounded = amount.round_dp_with_strategy(currency.minor_units(), strategy);
    rounded.rescale(currency.minor_units());
    // Both operands are within range and differ by less than one minor unit.
    let residue = amount - rounded;
    assert_eq!(rounded + residue, amount, "rounding residue must be exact");
    Rounded { rounded, residue }
}

/// Rounds half-even: the default for interest, FX and netting.
pub fn round_half_even(amount: Decimal, currency: Currency) -> Rounded {
    round(amount, currency, RoundingMode::HalfEven)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ccy(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn docs_currencies_csv_is_the_currency_table() {
        // docs/currencies.csv is the table docs/FORMATS.md names for independent verifiers.
        let csv = include_str!("../../../docs/currencies.csv");
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("code,minor_units,numeric,name"));
        let rows: Vec<(&str, u32, u16)> = lines
            .map(|line| {
                let mut cells = line.splitn(4, ',');
                let code = cells.next().unwrap();
                let minor: u32 = cells.next().unwrap().parse().unwrap();
                let numeric: u16 = cells.next().unwrap().parse().unwrap();
                (code, minor, numeric)
            })
            .collect();
        let table: Vec<(&str, u32, u16)> = crate::currency_table::CURRENCIES
            .iter()
            .map(|info| (info.code, u32::from(info.minor_units), info.numeric))
            .collect();
        assert_eq!(rows, table);
        for (code, minor, _) in rows {
            assert_eq!(Currency::from_code(code).map(Currency::minor_units), Some(minor), "{code}");
        }
    }

    #[test]
    fn minor_units_of_common_currencies() {
        for (code, minor) in [("CNY", 2), ("USD", 2), ("JPY", 0), ("KWD", 3), ("BHD", 3), ("CLF", 4), ("KRW", 0)] {
            assert_eq!(ccy(code).minor_units(), minor, "{code}");
        }
        assert!(Currency::from_code("XXX").is_none());
        assert!(Currency::from_code("cny").is_none());
    }

    #[test]
    fn too_many_decimals_is_rejected_not_rounded() {
        assert_eq!(
            to_currency_scale(dec("100.5"), ccy("JPY")).unwrap_err().to_string(),
            "100.5 has more decimals than JPY allows (0)"
        );
        assert_eq!(to_currency_scale(dec("100.00"), ccy("JPY")).unwrap().to_string(), "100");
        assert_eq!(to_currency_scale(dec("1.5"), ccy("KWD")).unwrap().to_string(), "1.500");
        assert!(to_currency_scale(dec("0.001"), ccy("CNY")).is_err());
    }

    #[test]
    fn strict_decimal_syntax() {
        for bad in ["", "-", "1.", ".5", "1e3", "+1", "1,000", "1_000", " 1", "1.2.3", "--1"] {
            assert!(parse_decimal(bad).is_err(), "{bad:?} must be rejected");
        }
        assert_eq!(parse_decimal("-0.50").unwrap(), dec("-0.5"));
    }

    #[test]
    fn rounding_returns_the_exact_residue() {
        let r = round_half_even(dec("2.345"), ccy("USD"));
        assert_eq!((r.rounded.to_string(), r.residue.to_string()), ("2.34".into(), "0.005".into()));
        let r = round_half_even(dec("2.355"), ccy("USD"));
        assert_eq!(r.rounded.to_string(), "2.36");
        let r = round(dec("2.345"), ccy("USD"), RoundingMode::HalfUp);
        assert_eq!(r.rounded.to_string(), "2.35");
        let r = round(dec("-7.9"), ccy("JPY"), RoundingMode::Down);
        assert_eq!((r.rounded.to_string(), r.residue.to_string()), ("-7".into(), "-0.9".into()));
    }

    #[test]
    fn grouping() {
        assert_eq!(format_grouped(dec("-1234567.5"), ccy("USD")), "-1,234,567.50");
        assert_eq!(format_grouped(dec("999"), ccy("JPY")), "999");
        assert_eq!(format_grouped(dec("1000"), ccy("JPY")), "1,000");
    }
}
