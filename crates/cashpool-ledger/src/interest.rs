//! Interest on intercompany positions: day counts, constant-balance segments
//! and accrual (DOMAIN §5).
//!
//! Interest is `balance × rate × days / year basis`, accrued on the
//! value-dated balance of an intercompany position, with the credit rate when
//! the member lends to the pool (balance > 0, the pool pays: positive
//! interest) and the debit rate when it borrows (balance < 0, the member pays:
//! negative interest), optionally tiered ([`InterestTier`]).
//!
//! - [`day_count_fraction`] gives the numerator (days) and denominator (360 or
//!   365) of a period under an ISDA 2006 §4.16 convention.
//! - [`segments`] (or [`try_segments`]) splits a period into [`Segment`]s of
//!   constant balance from the dated balance changes.
//! - [`accrue`] sums the unrounded interest over segments.
//! - `rate_periods` splits a period into [`RatePeriod`]s of constant rates:
//!   the `[[interest]]` row in force each day (dated rows, a member's own
//!   before the pool's) and, for a benchmark row, the fixing in force, plus
//!   the margin, held to the floors and caps (docs/SWEEPS.md, "Interest as
//!   treasuries set it"); the accrual crosses them with the segments.
//!
//! Everything is exact [`Decimal`] arithmetic, checked where overflow is
//! conceivable; nothing panics. Rounding to the currency's minor units is the
//! caller's job.
//!
//! # Varying balances and 30/360
//!
//! A varying balance is accrued the standard way: Σ over segments of
//! `balance × rate × DCF(segment)`. Under ACT/360, ACT/365F and 30E/360 the
//! day counts of adjacent segments add up to the day count of the whole
//! period (each is a difference `f(end) − f(start)` of one date function).
//! Under 30/360 (bond basis) they need not: the D2 adjustment depends on D1,
//! so a segment *ending* on the 31st whose D1 is below 30 counts the 31st as
//! day 31, and the next segment, *starting* on the 31st, counts from day 30.
//! For example `[01-01, 01-31)` is 30 days and `[01-31, 02-01)` is 1 day: 31 in
//! total, where `[01-01, 02-01)` in one piece is 30. [`accrue`] applies the
//! ISDA formula to each segment as given and does not adjust boundaries;
//! callers who need the whole-period 30/360 count should place segment
//! boundaries accordingly (or accrue daily: one-day segments of a 31-day month
//! total 30 days, since `[30th, 31st)` counts 0).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::config::{DayCount, InterestRule, InterestTier};

/// Why interest could not be computed.
#[doc(hidden)] // public for `crate::testing` only
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterestError {
    /// An intermediate product or the sum left `Decimal`'s range (|x| < 2^96).
    #[error("interest overflows the decimal range")]
    Overflow,
    /// A segment with `end <= start`.
    #[error("segment {start}..{end} is empty or reversed")]
    BadSegment {
        /// The segment's first day.
        start: NaiveDate,
        /// The segment's end (exclusive).
        end: NaiveDate,
    },
}

/// The day count fraction of `[start, end)` as `(numerator_days, denominator)`
/// per ISDA 2006 §4.16:
///
/// - (b) Actual/365 (Fixed), [`DayCount::Act365F`]: actual days / 365;
/// - (e) Actual/360, [`DayCount::Act360`]: actual days / 360;
/// - (f) 30/360 (bond basis), [`DayCount::Thirty360`]:
///   `[360 × (Y2 − Y1) + 30 × (M2 − M1) + (D2 − D1)] / 360`, where "if D1 is
///   31, D1 = 30" and "if D2 is 31 and D1 is 30 or 31, D2 = 30";
/// - (g) 30E/360 (Eurobond basis), [`DayCount::ThirtyE360`]: the same formula,
///   where "if D1 is 31, D1 = 30" and "if D2 is 31, D2 = 30".
///
/// The denominator is 360 or 365. The 30/360 rules have no February
/// adjustment (a period ending on 28 or 29 February counts that day as is).
/// A reversed period (`end < start`) gives a negative or meaningless
/// numerator; [`accrue`] rejects such segments. Never panics: chrono dates
/// keep the numerator far inside `i64`.
#[doc(hidden)] // public for `crate::testing` only
pub fn day_count_fraction(day_count: DayCount, start: NaiveDate, end: NaiveDate) -> (i64, i64) {
    match day_count {
        DayCount::Act360 => (actual_days(start, end), 360),
        DayCount::Act365F => (actual_days(start, end), 365),
        DayCount::Thirty360 => {
            let d1 = if start.day() == 31 { 30 } else { start.day() };
            let d2 = if end.day() == 31 && d1 >= 30 { 30 } else { end.day() };
            (thirty_days(start, end, d1, d2), 360)
        }
        DayCount::ThirtyE360 => {
            let d1 = start.day().min(30);
            let d2 = end.day().min(30);
            (thirty_days(start, end, d1, d2), 360)
        }
    }
}

/// Actual calendar days from `start` to `end`.
fn actual_days(start: NaiveDate, end: NaiveDate) -> i64 {
    end.signed_duration_since(start).num_days()
}

/// `360 × (Y2 − Y1) + 30 × (M2 − M1) + (D2 − D1)` with adjusted days.
fn thirty_days(start: NaiveDate, end: NaiveDate, d1: u32, d2: u32) -> i64 {
    360 * (i64::from(end.year()) - i64::from(start.year()))
        + 30 * (i64::from(end.month()) - i64::from(start.month()))
        + (i64::from(d2) - i64::from(d1))
}

/// A period `[start, end)` over which a position was constant.
#[doc(hidden)] // public for `crate::testing` only
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The first day of the period.
    pub start: NaiveDate,
    /// The day after the last day of the period (exclusive).
    pub end: NaiveDate,
    /// The end-of-day balance on every day of the period (> 0: the member
    /// lends to the pool; < 0: it borrows).
    pub balance: Decimal,
}

/// The interest on a position over `segments`, unrounded.
///
/// For each segment: the credit rates when `balance > 0` (the pool pays the
/// member: positive result), the debit rates when `balance < 0` (the member
/// pays: negative result), nothing when it is zero. Tiered: the part of
/// `|balance|` below the first tier's `from` bears the rule's base rate, the
/// part between tier i's `from` and tier i+1's `from` bears tier i's rate, the
/// part above the last tier's `from` bears the last tier's rate. (Tiers are
/// expected in strictly increasing `from` order, as the configuration
/// guarantees; an out-of-order tier simply gets an empty band.) The rate is
/// percent per annum, times the segment's [`day_count_fraction`].
///
/// Per segment the interest is `Σ band × rate × numerator / (100 ×
/// denominator)`, dividing last, and the segments' results are summed.
///
/// # Precision
///
/// `Decimal` holds a 96-bit mantissa (28 to 29 significant digits). The
/// products `band × rate × numerator` and their sum are exact as long as they
/// fit in 28 digits (e.g. a 10^12 balance with 2 decimals × a rate with 4
/// decimals × a few thousand days); beyond that `Decimal` rounds away the
/// lowest fractional digits. The single division per segment rounds to 28
/// significant digits, so each segment's interest is within one unit of its
/// 28th significant digit of the exact value, and the sum over segments is
/// exact unless it too exceeds 28 digits. That is far below any currency's
/// minor unit for every balance the ledger accepts.
///
/// # Errors
///
/// [`InterestError::BadSegment`] for a segment with `end <= start` (checked
/// for every segment, zero balances included); [`InterestError::Overflow`]
/// when a product or the sum leaves `Decimal`'s range. Never panics.
#[doc(hidden)] // public for `crate::testing` only
pub fn accrue(rule: &InterestRule, segments: &[Segment]) -> Result<Decimal, InterestError> {
    let mut total = Decimal::ZERO;
    for segment in segments {
        if segment.end <= segment.start {
            return Err(InterestError::BadSegment { start: segment.start, end: segment.end });
        }
        if segment.balance.is_zero() {
            continue;
        }
        let (numerator, denominator) = day_count_fraction(rule.day_count, segment.start, segment.end);
        let credit = segment.balance.is_sign_positive();
        let weighted = weighted_rate_sum(rule, segment.balance.abs(), credit)?;
        let scaled = weighted.checked_mul(Decimal::from(numerator)).ok_or(InterestError::Overflow)?;
        let divisor = Decimal::from(denominator.checked_mul(100).ok_or(InterestError::Overflow)?);
        let interest = scaled.checked_div(divisor).ok_or(InterestError::Overflow)?;
        let signed = if credit { interest } else { -interest };
        total = total.checked_add(signed).ok_or(InterestError::Overflow)?;
    }
    Ok(total)
}

/// `Σ band × rate` over the rule's bands for a balance of this magnitude.
fn weighted_rate_sum(rule: &InterestRule, magnitude: Decimal, credit: bool) -> Result<Decimal, InterestError> {
    let pick = |credit_rate: Decimal, debit_rate: Decimal| if credit { credit_rate } else { debit_rate };
    let mut sum = Decimal::ZERO;
    // The base band [0, first tier's from), then each tier's [from, next from).
    let mut lower = Decimal::ZERO;
    let mut rate = pick(rule.credit_rate, rule.debit_rate);
    let mut tiers = rule.tiers.iter();
    loop {
        let next: Option<&InterestTier> = tiers.next();
        let upper = match next {
            Some(tier) => magnitude.min(tier.from),
            None => magnitude,
        };
        // 0 <= lower < upper <= magnitude: the subtraction cannot overflow.
        if upper > lower {
            let band = upper - lower;
            let part = band.checked_mul(rate).ok_or(InterestError::Overflow)?;
            sum = sum.checked_add(part).ok_or(InterestError::Overflow)?;
        }
        match next {
            Some(tier) => {
                lower = lower.max(tier.from);
                rate = pick(tier.credit_rate, tier.debit_rate);
            }
            None => return Ok(sum),
        }
    }
}

/// Splits `[from, to)` into segments of constant balance.
///
/// `opening` is the balance at the end of `from − 1`; `changes` maps a value
/// date to the net balance change on that date. The balance of day `d` (for
/// accrual over `[d, d + 1)`) is its end-of-day balance: `opening + Σ changes
/// dated from..=d`. Changes dated before `from` are ignored (they are in
/// `opening`), a change on `from` applies to the first day, changes on or
/// after `to` are ignored. Adjacent days with equal balances merge into one
/// segment (a zero change splits nothing); zero-balance segments are kept
/// (they accrue nothing). The segments are contiguous, in order, and cover
/// `[from, to)` exactly; `from >= to` gives none.
///
/// Never panics. Should the running balance leave `Decimal`'s range (beyond
/// 7.9 × 10^28, unreachable for ledger balances, which are bounded by
/// [`crate::money::amount_max`] per posting), it saturates at
/// `Decimal::MAX`/`Decimal::MIN`; use [`try_segments`] to get an error
/// instead.
#[doc(hidden)] // public for `crate::testing` only
pub fn segments(
    opening: Decimal,
    changes: &BTreeMap<NaiveDate, Decimal>,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Segment> {
    build_segments(opening, changes, from, to, |balance, change| Some(balance.saturating_add(change)))
        .unwrap_or_default()
}

/// [`segments`], with [`InterestError::Overflow`] when the running balance
/// leaves `Decimal`'s range instead of saturating.
#[doc(hidden)] // public for `crate::testing` only
pub fn try_segments(
    opening: Decimal,
    changes: &BTreeMap<NaiveDate, Decimal>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Segment>, InterestError> {
    build_segments(opening, changes, from, to, |balance, change| balance.checked_add(change))
        .ok_or(InterestError::Overflow)
}

/// The segment walk, with the balance update `add` (`None`: overflow).
fn build_segments(
    opening: Decimal,
    changes: &BTreeMap<NaiveDate, Decimal>,
    from: NaiveDate,
    to: NaiveDate,
    add: impl Fn(Decimal, Decimal) -> Option<Decimal>,
) -> Option<Vec<Segment>> {
    let mut out = Vec::new();
    if from >= to {
        return Some(out);
    }
    let mut start = from;
    let mut balance = opening;
    for (&date, &change) in changes.range(from..to) {
        let next = add(balance, change)?;
        if date > start && next != balance {
            out.push(Segment { start, end: date, balance });
            start = date;
        }
        balance = next;
    }
    out.push(Segment { start, end: to, balance });
    Some(out)
}

/// One member's interest in one currency for a period (`cashpool interest`).
///
/// `interest = withholding_tax + net` and `withholding_tax = taxes.total()`,
/// exactly. (Serde reads and writes the shape of format 1, which had no
/// `taxes`: an accrual journaled in format 1 withheld income tax alone.)
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "AccrualV1", into = "AccrualV1")]
pub struct Accrual {
    pub entity: String,
    pub currency: crate::money::Currency,
    /// Gross interest, rounded half-even once: positive, the pool pays the
    /// member (credit rate); negative, the member pays the pool (debit rate).
    /// VAT included, when VAT is withheld.
    pub interest: Decimal,
    /// Everything withheld on interest the pool pays to an offshore member:
    /// income tax, VAT and surcharges (`taxes.total()`).
    pub withholding_tax: Decimal,
    /// The taxes of `withholding_tax`, one by one ([`crate::withholding`]).
    pub taxes: crate::withholding::Withheld,
    /// `interest - withholding_tax`: what is capitalised into the position.
    pub net: Decimal,
    /// What rounding the interest left over, below one minor unit (exact − `interest`).
    pub residue: Decimal,
}

/// [`Accrual`] as format 1 encoded it.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct AccrualV1 {
    entity: String,
    currency: crate::money::Currency,
    #[serde(with = "rust_decimal::serde::str")]
    interest: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    withholding_tax: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    net: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    residue: Decimal,
}

impl From<AccrualV1> for Accrual {
    fn from(v1: AccrualV1) -> Accrual {
        Accrual {
            entity: v1.entity,
            currency: v1.currency,
            interest: v1.interest,
            withholding_tax: v1.withholding_tax,
            taxes: crate::withholding::Withheld::income_tax_only(v1.withholding_tax, v1.currency),
            net: v1.net,
            residue: v1.residue,
        }
    }
}

impl From<Accrual> for AccrualV1 {
    /// Format 1 has no breakdown: only the entries written in format 1 are encoded so, and
    /// they withheld income tax alone.
    fn from(accrual: Accrual) -> AccrualV1 {
        AccrualV1 {
            entity: accrual.entity,
            currency: accrual.currency,
            interest: accrual.interest,
            withholding_tax: accrual.withholding_tax,
            net: accrual.net,
            residue: accrual.residue,
        }
    }
}

/// An interest period's accruals; journaled when settled.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InterestRun {
    #[serde(with = "crate::journal::date_format")]
    pub from: NaiveDate,
    /// Exclusive.
    #[serde(with = "crate::journal::date_format")]
    pub to: NaiveDate,
    pub accruals: Vec<Accrual>,
    /// Whole minor units of accumulated residues booked to the rounding account, per currency.
    pub rounding: Vec<(crate::money::Currency, Decimal)>,
    /// The residue carried forward after this settlement, for each currency of
    /// the accruals (sorted); recorded in format 2, checked on replay.
    #[serde(skip)]
    pub(crate) carry: Vec<(crate::money::Currency, Decimal)>,
}

// ---------------------------------------------------------------------------------------------
// The rates in force: dated rows, members' own rows, benchmarks
// ---------------------------------------------------------------------------------------------

/// The fixing a benchmark row used for a [`RatePeriod`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FixingUsed {
    /// The series id.
    pub series: String,
    /// The date of the fixing (the first one of the period, when several of the same rate follow).
    #[serde(with = "crate::journal::date_format")]
    pub date: NaiveDate,
    /// The fixing, percent per annum, as published.
    #[serde(with = "rust_decimal::serde::str")]
    pub rate_percent: Decimal,
    /// Whether it was below the row's `benchmark_floor`, so that the floor was priced instead.
    pub floored: bool,
}

/// Whether a floor or a cap set a rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The fixing plus the margin was below the floor: the floor applies.
    Floor,
    /// The fixing plus the margin was above the cap: the cap applies.
    Cap,
}

/// The rates of one stretch of days `[start, end)` of one member's position in
/// one currency: the `[[interest]]` row in force, and for a benchmark row the
/// fixing, with the rates that result (percent per annum, after margin, floor
/// and cap). What `cashpool interest` shows so that a treasurer can check each rate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RatePeriod {
    /// The first day.
    #[serde(with = "crate::journal::date_format")]
    pub start: NaiveDate,
    /// The day after the last (exclusive).
    #[serde(with = "crate::journal::date_format")]
    pub end: NaiveDate,
    /// The row's index in [`crate::config::GroupConfig::interest`] (`interest[3]`).
    pub rule: usize,
    /// The row's day count.
    pub day_count: DayCount,
    /// The fixing of a benchmark row; `None` for a fixed row.
    pub fixing: Option<FixingUsed>,
    /// The credit rate of the base band (below the first tier).
    #[serde(with = "rust_decimal::serde::str")]
    pub credit_rate: Decimal,
    /// The debit rate of the base band.
    #[serde(with = "rust_decimal::serde::str")]
    pub debit_rate: Decimal,
    /// Whether a floor or a cap set the base band's credit rate.
    pub credit_bound: Option<Bound>,
    /// Whether a floor or a cap set the base band's debit rate.
    pub debit_bound: Option<Bound>,
    /// Each tier with its rates (after margin, floor and cap).
    pub tiers: Vec<InterestTier>,
}

impl RatePeriod {
    /// The period's terms as a fixed rule, for [`accrue`].
    pub(crate) fn as_rule(&self, currency: crate::money::Currency) -> InterestRule {
        InterestRule::fixed(currency, self.day_count, self.credit_rate, self.debit_rate, self.tiers.clone())
    }

    /// Whether `next` goes on where this period ends with the same terms (so they are one period).
    fn continued_by(&self, next: &RatePeriod) -> bool {
        self.end == next.start
            && self.rule == next.rule
            && self.day_count == next.day_count
            && self.credit_rate == next.credit_rate
            && self.debit_rate == next.debit_rate
            && self.credit_bound == next.credit_bound
            && self.debit_bound == next.debit_bound
            && self.tiers == next.tiers
            && self.fixing.as_ref().map(|f| (&f.series, f.rate_percent))
                == next.fixing.as_ref().map(|f| (&f.series, f.rate_percent))
    }
}

/// Appends `period` to `periods`, merged into the last one when it continues it with the same terms.
pub(crate) fn push_period(periods: &mut Vec<RatePeriod>, period: RatePeriod) {
    match periods.last_mut() {
        Some(last) if last.continued_by(&period) => last.end = period.end,
        _ => periods.push(period),
    }
}

/// The rates of one member's position, as [`crate::Ledger::interest`] applied them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppliedRates {
    /// The member.
    pub entity: String,
    /// The currency of the position.
    pub currency: crate::money::Currency,
    /// The periods of the days its position was not zero, in order (a day
    /// without a row in force has none).
    pub periods: Vec<RatePeriod>,
}

/// Why the rates of a day could not be set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TermsError {
    /// No fixing of the series on or before `date` (`latest: None`), or only
    /// one older than the row's `stale_after_days` (`latest`: its date).
    MissingFixing { series: String, date: NaiveDate, latest: Option<NaiveDate>, stale_after_days: u32 },
    /// A fixing plus a margin left the decimal range.
    Overflow,
}

/// The rate periods of `entity`'s position in `currency` over `[from, to)`:
/// each day's row is the member's own row in force on the day, else the
/// pool's ([`crate::config::GroupConfig::interest_rule_at`]); a benchmark
/// row's rates change with each fixing ([`crate::config::BenchmarkTerms`]).
/// Days without a row in force get no period. Periods of the same terms that
/// follow each other are merged.
pub(crate) fn rate_periods(
    config: &crate::config::GroupConfig,
    book: &crate::benchmarks::BenchmarkBook,
    entity: &str,
    currency: crate::money::Currency,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<RatePeriod>, TermsError> {
    let mut periods = Vec::new();
    if from >= to {
        return Ok(periods);
    }
    // The days the row in force may change: every row's effective date inside the period.
    let mut bounds: Vec<NaiveDate> = config
        .interest
        .iter()
        .filter(|rule| rule.currency == currency && rule.entity.as_deref().is_none_or(|own| own == entity))
        .filter_map(|rule| rule.effective)
        .filter(|date| from < *date && *date < to)
        .collect();
    bounds.push(from);
    bounds.push(to);
    bounds.sort();
    bounds.dedup();
    for pair in bounds.windows(2) {
        let (start, end) = (pair[0], pair[1]);
        let Some((idx, rule)) = config.interest_rule_at(entity, currency, start) else { continue };
        match &rule.benchmark {
            None => push_period(
                &mut periods,
                RatePeriod {
                    start,
                    end,
                    rule: idx,
                    day_count: rule.day_count,
                    fixing: None,
                    credit_rate: rule.credit_rate,
                    debit_rate: rule.debit_rate,
                    credit_bound: None,
                    debit_bound: None,
                    tiers: rule.tiers.clone(),
                },
            ),
            Some(terms) => benchmark_periods(&mut periods, book, idx, rule, terms, start, end)?,
        }
    }
    Ok(periods)
}

/// The periods of a benchmark row over `[start, end)`, one per fixing in force.
fn benchmark_periods(
    periods: &mut Vec<RatePeriod>,
    book: &crate::benchmarks::BenchmarkBook,
    idx: usize,
    rule: &InterestRule,
    terms: &crate::config::BenchmarkTerms,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<(), TermsError> {
    let lookback = chrono::Days::new(u64::from(terms.lookback_days));
    let back = |day: NaiveDate| day.checked_sub_days(lookback).unwrap_or(NaiveDate::MIN);
    let ahead = |day: NaiveDate| day.checked_add_days(lookback).unwrap_or(NaiveDate::MAX);
    // The fixing in force changes on the days `fixing date + lookback`.
    let mut days: Vec<NaiveDate> = book
        .dates_between(&terms.series, back(start).succ_opt().unwrap_or(NaiveDate::MAX), back(end))
        .into_iter()
        .map(ahead)
        .filter(|day| start < *day && *day < end)
        .collect();
    days.insert(0, start);
    days.push(end);
    for pair in days.windows(2) {
        let (piece_start, piece_end) = (pair[0], pair[1]);
        let needed = back(piece_start);
        let missing = |latest: Option<NaiveDate>, date: NaiveDate| TermsError::MissingFixing {
            series: terms.series.clone(),
            date,
            latest,
            stale_after_days: terms.stale_after_days,
        };
        let Some((fixing_date, fixing)) = book.fixing(&terms.series, needed) else {
            return Err(missing(None, needed));
        };
        // The first date whose fixing would be older than allowed.
        let stale_from = fixing_date
            .checked_add_days(chrono::Days::new(u64::from(terms.stale_after_days) + 1))
            .unwrap_or(NaiveDate::MAX);
        if stale_from <= back(piece_end.pred_opt().unwrap_or(piece_end)) {
            return Err(missing(Some(fixing_date), stale_from.max(needed)));
        }
        // The loan market's floor on the benchmark itself, before any margin.
        let (priced, benchmark_floored) = match terms.benchmark_floor {
            Some(floor) if fixing < floor => (floor, true),
            _ => (fixing, false),
        };
        let side = |margin: Decimal, floor: Option<Decimal>, cap: Option<Decimal>| -> Result<_, TermsError> {
            let rate = priced.checked_add(margin).ok_or(TermsError::Overflow)?;
            Ok(match (floor, cap) {
                (Some(floor), _) if rate < floor => (floor, Some(Bound::Floor)),
                (_, Some(cap)) if rate > cap => (cap, Some(Bound::Cap)),
                _ => (rate.normalize(), None),
            })
        };
        let (credit_rate, credit_bound) = side(rule.credit_rate, terms.credit_floor, terms.credit_cap)?;
        let (debit_rate, debit_bound) = side(rule.debit_rate, terms.debit_floor, terms.debit_cap)?;
        let tiers = rule
            .tiers
            .iter()
            .map(|tier| {
                Ok(InterestTier {
                    from: tier.from,
                    credit_rate: side(tier.credit_rate, terms.credit_floor, terms.credit_cap)?.0,
                    debit_rate: side(tier.debit_rate, terms.debit_floor, terms.debit_cap)?.0,
                })
            })
            .collect::<Result<Vec<_>, TermsError>>()?;
        push_period(
            periods,
            RatePeriod {
                start: piece_start,
                end: piece_end,
                rule: idx,
                day_count: rule.day_count,
                fixing: Some(FixingUsed {
                    series: terms.series.clone(),
                    date: fixing_date,
                    rate_percent: fixing,
                    floored: benchmark_floored,
                }),
                credit_rate,
                debit_rate,
                credit_bound,
                debit_bound,
                tiers,
            },
        );
    }
    Ok(())
}
