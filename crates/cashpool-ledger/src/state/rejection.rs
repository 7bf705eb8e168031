//! [`Rejection`]: why the ledger refused a transaction, with its stable reason code.

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::money::Currency;

/// Why the ledger refused a request. Nothing of a refused request is written.
///
/// Amounts are [`Decimal`]s at their currency's minor units (the limits' in
/// the pool's base currency), so that `Display` and the JSON (`serde`, amounts
/// as strings) show them as the currency writes them. Only `id_conflict` holds
/// text: the two values of the field that differs, which can be of any type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rejection {
    /// No postings.
    Empty,
    /// More postings than [`crate::tx::POSTINGS_MAX`].
    PostingLimit { postings: usize, max: usize },
    /// A field is malformed (too long, missing, not allowed for the purpose).
    Invalid { field: String, message: String },
    /// A posting names an account the ledger does not have.
    UnknownAccount { field: String, account: String },
    /// A currency code that is not an active ISO 4217 currency.
    UnknownCurrency { field: String, currency: String },
    /// The account does not hold the currency.
    CurrencyNotHeld { field: String, account: String, currency: Currency },
    /// An amount has more decimals than its currency's minor units.
    TooManyDecimals { field: String, amount: Decimal, currency: Currency, minor_units: u32 },
    /// A posting of zero.
    ZeroAmount { field: String },
    /// The postings of a currency do not sum to zero.
    Unbalanced { currency: Currency, sum: Decimal },
    /// The quote amount is not the base amount times the rate (within half a
    /// minor unit). `field`: the first quote-currency leg as given (`postings[1].amount`).
    /// `expected_quote` is absent when base amount times rate overflows.
    FxRate {
        field: String,
        base: Currency,
        quote: Currency,
        rate: Decimal,
        expected_quote: Option<Decimal>,
        found_quote: Decimal,
    },
    /// The transaction would take an account below minus its overdraft.
    /// `field`: its first debit leg on that account in that currency (`postings[0].amount`).
    Overdraft {
        field: String,
        account: String,
        currency: Currency,
        balance: Decimal,
        change: Decimal,
        overdraft: Decimal,
    },
    /// The id was posted before with different content.
    IdConflict { field: String, stored: String, given: String },
    /// A balance would leave the representable range.
    Overflow { account: String, currency: Currency },
    /// An FT ↔ onshore movement that is not CNY, or not for an allowed purpose.
    SecondLine { rule: String, message: String },
    /// No rate on or before the value date for a conversion the rules need.
    MissingRate {
        currency: Currency,
        market: crate::rates::Market,
        #[serde(with = "crate::journal::date_format")]
        date: NaiveDate,
    },
    /// The movement would take the pool past its net inflow or outflow cap (base currency).
    Limit { direction: FlowDirection, cap: Decimal, used: Decimal, requested: Decimal, headroom: Decimal },
    /// The drawdown would take the entity past its foreign-debt cap (base currency).
    ForeignDebtLimit { entity: String, weighted: Decimal, cap: Decimal, requested: Decimal, headroom: Decimal },
    /// A repayment across the border names no loan of the ledger (its `reference` must be the
    /// id of the transaction that drew the loan).
    UnknownLoan { loan: String },
    /// A posting reaches an account that is not open on its value date: one an
    /// amendment closed (`closed_from`: it takes no posting at all any more),
    /// or one an amendment opens only from `opens`.
    AccountClosed {
        field: String,
        account: String,
        #[serde(with = "crate::journal::date_format")]
        value_date: NaiveDate,
        opens: Option<NaiveDate>,
        closed_from: Option<NaiveDate>,
    },
    /// An amendment of the group definition that cannot be journaled.
    /// `field`: the fragment's key path, or `effective`.
    AmendmentInvalid { field: String, message: String },
    /// A rates import would change a rate already imported; nothing of the import is written.
    RateConflict(crate::rates::RateConflict),
    /// A netting cycle has no rate for these currencies on its date (sorted by code; every one is listed).
    MissingRates { currencies: Vec<Currency> },
    /// A transaction the ledger planned (a netting settlement) was refused;
    /// nothing of the operation was written.
    SettlementRefused { transaction: String, rejection: Box<Rejection> },
    /// An interest run needs the fixing of a benchmark series for `date` (an
    /// accrual day less the row's lookback) and the store holds none on or
    /// before it (`latest: None`), or only one dated `latest`, more than the
    /// row's `stale_after_days` before it. Nothing of the run is written.
    MissingFixing {
        series: String,
        #[serde(with = "crate::journal::date_format")]
        date: NaiveDate,
        #[serde(serialize_with = "crate::journal::serialize_opt_date")]
        latest: Option<NaiveDate>,
        stale_after_days: u32,
        /// The member and currency whose position needed it.
        entity: String,
        currency: Currency,
    },
    /// A benchmarks import would change a fixing already imported; nothing of the import is written.
    FixingConflict(crate::benchmarks::FixingConflict),
    /// A day that is not a business day where a rule forbids rolling: a
    /// value date under `non_business_value_dates = "refuse"` (`field`
    /// `value_date`), a sweep run for a rule with `roll = "none"` (`date`).
    NotBusinessDay {
        field: String,
        /// What the day is not a business day for (`USD on HK-OPS (postings[1])`).
        subject: String,
        #[serde(with = "crate::journal::date_format")]
        date: NaiveDate,
        /// Each calendar closed that day and why.
        closures: Vec<crate::calendar::Closure>,
    },
    /// As [`Rejection::NotBusinessDay`], but no calendar is closed and these
    /// hold no day of the date's year: the ledger cannot tell.
    CalendarMissing {
        field: String,
        subject: String,
        #[serde(with = "crate::journal::date_format")]
        date: NaiveDate,
        calendars: Vec<String>,
    },
    /// A calendar import would change a day held, and it is not a correction;
    /// nothing of the import is written.
    CalendarConflict(crate::calendar::CalendarConflict),
}

/// Which of the pool's net caps a movement would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowDirection {
    /// Money coming into the pool from abroad.
    Inflow,
    /// Money leaving the pool for abroad.
    Outflow,
}

impl fmt::Display for FlowDirection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FlowDirection::Inflow => "inflow",
            FlowDirection::Outflow => "outflow",
        })
    }
}

impl Rejection {
    /// The stable reason code (`unbalanced`, `overdraft`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Empty => "empty",
            Rejection::PostingLimit { .. } => "posting_limit",
            Rejection::Invalid { .. } => "invalid",
            Rejection::UnknownAccount { .. } => "unknown_account",
            Rejection::UnknownCurrency { .. } => "unknown_currency",
            Rejection::CurrencyNotHeld { .. } => "currency_not_held",
            Rejection::TooManyDecimals { .. } => "too_many_decimals",
            Rejection::ZeroAmount { .. } => "zero_amount",
            Rejection::Unbalanced { .. } => "unbalanced",
            Rejection::FxRate { .. } => "fx_rate",
            Rejection::Overdraft { .. } => "overdraft",
            Rejection::IdConflict { .. } => "id_conflict",
            Rejection::Overflow { .. } => "overflow",
            Rejection::SecondLine { .. } => "second_line",
            Rejection::MissingRate { .. } => "missing_rate",
            Rejection::Limit { .. } => "limit",
            Rejection::ForeignDebtLimit { .. } => "foreign_debt_limit",
            Rejection::UnknownLoan { .. } => "unknown_loan",
            Rejection::AccountClosed { .. } => "account_closed",
            Rejection::AmendmentInvalid { .. } => "amendment_invalid",
            Rejection::RateConflict(_) => "rate_conflict",
            Rejection::MissingRates { .. } => "missing_rates",
            Rejection::SettlementRefused { .. } => "settlement_refused",
            Rejection::MissingFixing { .. } => "missing_fixing",
            Rejection::FixingConflict(_) => "fixing_conflict",
            Rejection::NotBusinessDay { .. } => "not_business_day",
            Rejection::CalendarMissing { .. } => "calendar_missing",
            Rejection::CalendarConflict(_) => "calendar_conflict",
        }
    }
}

impl std::error::Error for Rejection {}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Empty => write!(f, "empty: the transaction has no postings"),
            Rejection::PostingLimit { postings, max } => {
                write!(f, "posting_limit: {postings} postings, at most {max} are allowed; split the transaction")
            }
            Rejection::Invalid { field, message } => write!(f, "invalid: field `{field}`: {message}"),
            Rejection::UnknownAccount { field, account } => write!(f, "unknown_account: field `{field}`: no account {account:?}"),
            Rejection::UnknownCurrency { field, currency } => {
                write!(f, "unknown_currency: field `{field}`: {currency:?} is not an active ISO 4217 currency")
            }
            Rejection::CurrencyNotHeld { field, account, currency } => {
                write!(f, "currency_not_held: field `{field}`: account {account} does not hold {currency}")
            }
            Rejection::TooManyDecimals { field, amount, currency, minor_units } => write!(
                f,
                "too_many_decimals: field `{field}`: {amount} has more decimals than {currency} allows ({minor_units})"
            ),
            Rejection::ZeroAmount { field } => write!(f, "zero_amount: field `{field}`: a posting of zero moves nothing"),
            Rejection::Unbalanced { currency, sum } => {
                write!(f, "unbalanced: the {currency} postings sum to {sum}, not zero")
            }
            Rejection::FxRate { field, base, quote, rate, expected_quote, found_quote } => {
                let expected = expected_quote.map_or("overflow".to_string(), |amount| amount.to_string());
                write!(
                    f,
                    "fx_rate: field `{field}`: at {rate} {quote} per {base} the {quote} leg should be {expected} (within half a minor unit), found {found_quote}"
                )
            }
            Rejection::Overdraft { field, account, currency, balance, change, overdraft } => {
                let limit = if overdraft.is_zero() {
                    "zero (it has no overdraft)".to_string()
                } else {
                    format!("its overdraft limit of -{overdraft}")
                };
                write!(f, "overdraft: field `{field}`: {account} holds {balance} {currency}; {change} would take it below {limit}")
            }
            Rejection::IdConflict { field, stored, given } => write!(
                f,
                "id_conflict: the id was posted before with a different `{field}` (stored {stored}, given {given}); use a new id"
            ),
            Rejection::Overflow { account, currency } => write!(f, "overflow: the {currency} balance of {account} would overflow"),
            Rejection::SecondLine { rule, message } => write!(f, "second_line ({rule}): {message}"),
            Rejection::MissingRate { currency, market, date } => write!(
                f,
                "missing_rate: no {} rate for {currency} on or before {date}",
                market.as_str()
            ),
            Rejection::Limit { direction, cap, used, requested, headroom } => write!(
                f,
                "limit: the pool's net {direction} cap ({}) is {cap}, {used} is used, headroom {headroom}; this movement needs {requested}",
                match direction {
                    FlowDirection::Inflow => "the foreign-debt quota",
                    FlowDirection::Outflow => "the overseas-lending quota",
                }
            ),
            Rejection::ForeignDebtLimit { entity, weighted, cap, requested, headroom } => write!(
                f,
                "foreign_debt_limit: {entity}'s risk-weighted foreign debt would be {weighted} against a cap of {cap}; this drawdown weighs {requested}, headroom {headroom}"
            ),
            Rejection::UnknownLoan { loan } => write!(
                f,
                "unknown_loan: field `reference`: {loan:?} names no loan; a loan_repayment across the border names the id of the transaction that drew the loan"
            ),
            Rejection::AccountClosed { field, account, value_date, opens, closed_from } => match (opens, closed_from) {
                (_, Some(closed)) => write!(
                    f,
                    "account_closed: field `{field}`: account {account} was closed by an amendment effective {closed}; it takes no posting any more"
                ),
                (Some(opens), None) => write!(
                    f,
                    "account_closed: field `{field}`: account {account} opens on {opens}; a posting valued {value_date} comes before it"
                ),
                (None, None) => write!(f, "account_closed: field `{field}`: account {account} is not open on {value_date}"),
            },
            Rejection::AmendmentInvalid { field, message } => write!(f, "amendment_invalid: `{field}`: {message}"),
            Rejection::RateConflict(conflict) => write!(f, "rate_conflict: {conflict}"),
            Rejection::MissingRates { currencies } => write!(
                f,
                "missing_rates: {}",
                crate::netting::NettingError::MissingRates(currencies.clone())
            ),
            Rejection::SettlementRefused { transaction, rejection } => {
                write!(f, "settlement_refused: settlement {transaction} was refused: {rejection}")
            }
            Rejection::MissingFixing { series, date, latest, stale_after_days, entity, currency } => {
                write!(f, "missing_fixing: no {series} fixing for {date} (the interest on {entity}'s {currency} position needs it); ")?;
                match latest {
                    None => write!(f, "no {series} fixing on or before {date} has been imported"),
                    Some(latest) => write!(
                        f,
                        "the latest on or before it is of {latest}, more than the rule's {stale_after_days} days (stale_after_days) before"
                    ),
                }
            }
            Rejection::FixingConflict(conflict) => write!(f, "fixing_conflict: {conflict}"),
            Rejection::NotBusinessDay { field, subject, date, closures } => {
                let closed: Vec<String> = closures.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "not_business_day: field `{field}`: {date} is not a business day for {subject} ({})",
                    closed.join("; ")
                )
            }
            Rejection::CalendarMissing { field, subject, date, calendars } => {
                use chrono::Datelike;
                write!(
                    f,
                    "calendar_missing: field `{field}`: no day of {} is imported for {}, so {date} cannot be told a business day for {subject}; import the calendar of that year",
                    calendars.join(", "),
                    date.year()
                )
            }
            Rejection::CalendarConflict(conflict) => write!(f, "calendar_conflict: {conflict}"),
        }
    }
}
