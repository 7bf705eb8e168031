//! Interest: ISDA day-count fixtures, accrual checked against an independent
//! integer model (day-by-day loops in minor units), tiers, segmentation of
//! balance changes, and robustness (overflow is an error, nothing panics).

use std::collections::BTreeMap;

use cashpool_ledger::config::{DayCount, InterestRule, InterestTier};
use cashpool_ledger::money::Currency;
use cashpool_ledger::testing::{accrue, day_count_fraction, segments, try_segments, InterestError, Segment};
use chrono::{Datelike, Days, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test date")
}

fn ccy(code: &str) -> Currency {
    Currency::from_code(code).expect("test currency")
}

// ---------------------------------------------------------------------------
// Day counts
// ---------------------------------------------------------------------------

/// ISDA 2006 §4.16 examples (the well-known "30/360 vs 30E/360" table):
/// start, end, actual days, 30/360 (bond basis) days, 30E/360 days.
/// The 30/360 and 30E/360 numerators are worked by hand from the formula
/// `360(Y2−Y1) + 30(M2−M1) + (D2−D1)` with each convention's D1/D2 rules.
const ISDA_CASES: &[(&str, &str, i64, i64, i64)] = &[
    ("2007-01-15", "2007-01-30", 15, 15, 15),
    ("2007-01-15", "2007-02-15", 31, 30, 30),
    ("2007-01-15", "2007-07-15", 181, 180, 180),
    ("2007-02-15", "2007-07-15", 150, 150, 150),
    ("2007-09-30", "2008-03-31", 183, 180, 180), // D1 = 30 so D2 31 -> 30 in both
    ("2007-09-30", "2007-10-31", 31, 30, 30),
    ("2007-09-30", "2008-09-30", 366, 360, 360),
    ("2007-01-15", "2007-01-31", 16, 16, 15), // bond basis keeps D2 = 31 (D1 < 30)
    ("2007-01-31", "2007-02-28", 28, 28, 28), // D1 31 -> 30: 30 + (28 - 30)
    ("2007-02-28", "2007-03-31", 31, 33, 32), // no February rule in either
    ("2006-08-31", "2007-02-28", 181, 178, 178),
    ("2007-02-28", "2007-08-31", 184, 183, 182),
    ("2007-02-14", "2007-02-28", 14, 14, 14),
    ("2007-02-26", "2008-02-29", 368, 363, 363),
    ("2008-02-29", "2009-02-28", 365, 359, 359),
    ("2008-02-29", "2008-03-30", 30, 31, 31),
    ("2008-02-29", "2008-03-31", 31, 32, 31),
    ("2007-02-28", "2007-03-05", 5, 7, 7),
    ("2007-10-31", "2007-11-28", 28, 28, 28),
    ("2007-08-31", "2008-02-29", 182, 179, 179),
    ("2008-02-29", "2008-08-31", 184, 182, 181),
    ("2008-08-31", "2009-02-28", 181, 178, 178),
    ("2009-02-28", "2009-08-31", 184, 183, 182),
];

#[test]
fn day_count_fraction_matches_isda_examples() {
    for &(start, end, actual, bond, euro) in ISDA_CASES {
        let (start, end) = (date(start), date(end));
        let case = format!("{start}..{end}");
        assert_eq!(day_count_fraction(DayCount::Act360, start, end), (actual, 360), "ACT/360 {case}");
        assert_eq!(day_count_fraction(DayCount::Act365F, start, end), (actual, 365), "ACT/365F {case}");
        assert_eq!(day_count_fraction(DayCount::Thirty360, start, end), (bond, 360), "30/360 {case}");
        assert_eq!(day_count_fraction(DayCount::ThirtyE360, start, end), (euro, 360), "30E/360 {case}");
    }
}

#[test]
fn thirty_360_rules_on_the_31st() {
    // D1 = 31 -> 30 in both; D2 = 31 -> 30 in bond basis only when D1 >= 30.
    let dcf = |dc, a: &str, b: &str| day_count_fraction(dc, date(a), date(b)).0;
    assert_eq!(dcf(DayCount::Thirty360, "2007-01-31", "2007-03-31"), 60);
    assert_eq!(dcf(DayCount::ThirtyE360, "2007-01-31", "2007-03-31"), 60);
    assert_eq!(dcf(DayCount::Thirty360, "2007-01-29", "2007-03-31"), 62);
    assert_eq!(dcf(DayCount::ThirtyE360, "2007-01-29", "2007-03-31"), 61);
    assert_eq!(dcf(DayCount::Thirty360, "2007-01-30", "2007-01-31"), 0);
    assert_eq!(dcf(DayCount::Thirty360, "2007-01-31", "2007-02-01"), 1);
    assert_eq!(dcf(DayCount::Act360, "2007-01-31", "2007-01-31"), 0);
}

#[test]
fn thirty_360_segments_documented_behaviour() {
    // A balance change on the 31st: bond basis counts 30 + 1 over the two
    // segments, where the whole month in one piece is 30; 30E/360 telescopes.
    let dcf = |dc, a: &str, b: &str| day_count_fraction(dc, date(a), date(b)).0;
    let split = |dc| dcf(dc, "2007-01-01", "2007-01-31") + dcf(dc, "2007-01-31", "2007-02-01");
    assert_eq!(split(DayCount::Thirty360), 31);
    assert_eq!(dcf(DayCount::Thirty360, "2007-01-01", "2007-02-01"), 30);
    assert_eq!(split(DayCount::ThirtyE360), 30);
    assert_eq!(dcf(DayCount::ThirtyE360, "2007-01-01", "2007-02-01"), 30);
    // Daily segments of January total 30 in both (the 30th counts 0 days).
    for dc in [DayCount::Thirty360, DayCount::ThirtyE360] {
        let total: i64 = (0..31)
            .map(|i| {
                let day = date("2007-01-01") + Days::new(i);
                day_count_fraction(dc, day, day + Days::new(1)).0
            })
            .sum();
        assert_eq!(total, 30, "{dc}");
    }
}

// ---------------------------------------------------------------------------
// An independent model: integers in minor units, rates in 10^-6 percent
// ---------------------------------------------------------------------------

/// A rule in integers: rates in millionths of a percent, tier bounds in minor units.
struct IntRule {
    day_count: DayCount,
    credit_e6: i128,
    debit_e6: i128,
    /// (from in minor units, credit_e6, debit_e6)
    tiers: Vec<(i128, i128, i128)>,
}

impl IntRule {
    fn flat(day_count: DayCount, credit_e6: i128, debit_e6: i128) -> IntRule {
        IntRule { day_count, credit_e6, debit_e6, tiers: Vec::new() }
    }

    /// The same rule as an `InterestRule`, amounts at `scale` decimals.
    fn to_rule(&self, currency: &str, scale: u32) -> InterestRule {
        let rate = |e6: i128| Decimal::from_i128_with_scale(e6, 6).normalize();
        InterestRule::fixed(
            ccy(currency),
            self.day_count,
            rate(self.credit_e6),
            rate(self.debit_e6),
            self.tiers
                .iter()
                .map(|&(from, credit, debit)| InterestTier {
                    from: Decimal::from_i128_with_scale(from, scale),
                    credit_rate: rate(credit),
                    debit_rate: rate(debit),
                })
                .collect(),
        )
    }

    /// One day's interest × 10^6 × 100 × denominator × 10^scale, signed:
    /// Σ band (minor units) × rate (10^-6 percent), banded by a plain loop.
    fn one_day(&self, balance_minor: i128) -> i128 {
        let credit = balance_minor > 0;
        let magnitude = balance_minor.abs();
        let pick = |c: i128, d: i128| if credit { c } else { d };
        let mut bounds = vec![(0_i128, pick(self.credit_e6, self.debit_e6))];
        bounds.extend(self.tiers.iter().map(|&(from, c, d)| (from, pick(c, d))));
        let mut sum = 0_i128;
        for (idx, &(lower, rate)) in bounds.iter().enumerate() {
            let upper = bounds.get(idx + 1).map_or(magnitude, |&(next, _)| next.min(magnitude));
            if upper > lower {
                sum += (upper - lower) * rate;
            }
        }
        if credit {
            sum
        } else {
            -sum
        }
    }

    /// The denominator that turns a sum of `one_day`-units × day-count days into money.
    fn unit(&self, scale: u32) -> i128 {
        let (_, denominator) = day_count_fraction(self.day_count, date("2001-01-01"), date("2001-01-02"));
        10_i128.pow(scale) * 1_000_000 * 100 * i128::from(denominator)
    }

    /// The interest over [start, end) at a constant balance, as a fraction
    /// (numerator, denominator): for ACT bases a loop over every day; for
    /// 30/360 bases the hand-checked day count of the table above.
    fn constant(&self, balance_minor: i128, scale: u32, start: NaiveDate, end: NaiveDate) -> (i128, i128) {
        let days = match self.day_count {
            DayCount::Act360 | DayCount::Act365F => {
                let mut days = 0_i128;
                let mut day = start;
                while day < end {
                    days += 1;
                    day = day + Days::new(1);
                }
                days
            }
            DayCount::Thirty360 | DayCount::ThirtyE360 => i128::from(day_count_fraction(self.day_count, start, end).0),
        };
        (self.one_day(balance_minor) * days, self.unit(scale))
    }
}

/// Asserts `actual` equals `numerator / denominator` to 12 decimals (the
/// exact value rounded, ± one unit of the 12th decimal).
fn assert_close(actual: Decimal, (numerator, denominator): (i128, i128)) {
    const K: u32 = 12;
    let mut rounded = actual.round_dp(K);
    rounded.rescale(K);
    let mantissa = rounded.mantissa();
    let scaled = numerator.checked_mul(10_i128.pow(K)).expect("test model overflow");
    let expected = scaled.div_euclid(denominator); // floor
    assert!(
        (mantissa - expected).abs() <= 1,
        "accrued {actual}, expected {numerator}/{denominator} ≈ {}",
        Decimal::from_i128_with_scale(expected, K)
    );
}

fn seg(start: &str, end: &str, balance: Decimal) -> Segment {
    Segment { start: date(start), end: date(end), balance }
}

// ---------------------------------------------------------------------------
// Accrual
// ---------------------------------------------------------------------------

#[test]
fn credit_balance_accrues_positive_interest() {
    let model = IntRule::flat(DayCount::Act360, 3_600_000, 5_000_000); // 3.6% / 5%
    let rule = model.to_rule("USD", 2);
    let got = accrue(&rule, &[seg("2024-01-01", "2024-01-11", dec!(1000000.00))]).unwrap();
    assert_eq!(got, dec!(1000)); // 1,000,000 × 3.6% × 10 / 360
    assert_close(got, model.constant(100_000_000, 2, date("2024-01-01"), date("2024-01-11")));
}

#[test]
fn debit_balance_accrues_negative_interest() {
    let model = IntRule::flat(DayCount::Act365F, 1_250_000, 4_350_000); // 1.25% / 4.35%
    let rule = model.to_rule("CNY", 2);
    let got = accrue(&rule, &[seg("2024-03-01", "2024-04-01", dec!(-2500000.55))]).unwrap();
    assert!(got < Decimal::ZERO);
    assert_close(got, model.constant(-250_000_055, 2, date("2024-03-01"), date("2024-04-01")));
}

#[test]
fn tiered_balance_straddling_two_tiers() {
    // base 1% up to 1,000,000; 2% from 1,000,000; 3% from 5,000,000 (debit 4/5/6%).
    let mut model = IntRule::flat(DayCount::Act360, 1_000_000, 4_000_000);
    model.tiers = vec![(100_000_000, 2_000_000, 5_000_000), (500_000_000, 3_000_000, 6_000_000)];
    let rule = model.to_rule("USD", 2);
    let (start, end) = ("2024-05-01", "2024-06-06"); // 36 days
                                                     // 3,000,000 = 1,000,000 at 1% + 2,000,000 at 2% = 50,000 a year; × 36/360.
    let credit = accrue(&rule, &[seg(start, end, dec!(3000000.00))]).unwrap();
    assert_eq!(credit, dec!(5000));
    assert_close(credit, model.constant(300_000_000, 2, date(start), date(end)));
    // Above the last tier: 1,000,000 at 1% + 4,000,000 at 2% + 1,000,000 at 3%.
    let high = accrue(&rule, &[seg(start, end, dec!(6000000.00))]).unwrap();
    assert_eq!(high, dec!(12000));
    // Debit side uses the debit rates of each band.
    let debit = accrue(&rule, &[seg(start, end, dec!(-3000000.00))]).unwrap();
    assert_eq!(debit, dec!(-14000)); // (40,000 + 100,000) × 36/360
    assert_close(debit, model.constant(-300_000_000, 2, date(start), date(end)));
    // Exactly on a tier boundary and below the first tier.
    for minor in [100_000_000_i128, 500_000_000, 12_345, -99_999_999, -500_000_001] {
        let balance = Decimal::from_i128_with_scale(minor, 2);
        let got = accrue(&rule, &[seg(start, end, balance)]).unwrap();
        assert_close(got, model.constant(minor, 2, date(start), date(end)));
    }
}

#[test]
fn zero_balance_accrues_nothing() {
    let rule = IntRule::flat(DayCount::Act360, 3_000_000, 5_000_000).to_rule("USD", 2);
    assert_eq!(accrue(&rule, &[seg("2024-01-01", "2024-12-31", dec!(0.00))]), Ok(Decimal::ZERO));
    assert_eq!(accrue(&rule, &[]), Ok(Decimal::ZERO));
}

#[test]
fn jpy_sized_balances() {
    let model = IntRule::flat(DayCount::Act365F, 125_000, 1_475_000); // 0.125% / 1.475%
    let rule = model.to_rule("JPY", 0);
    let (start, end) = (date("2024-01-01"), date("2024-12-31"));
    for minor in [1_234_567_890_123_i128, -987_654_321_987_654, 1, -1] {
        let balance = Decimal::from(minor);
        let got = accrue(&rule, &[Segment { start, end, balance }]).unwrap();
        assert_close(got, model.constant(minor, 0, start, end));
    }
}

#[test]
fn act_360_versus_act_365f_over_31_days() {
    let (start, end) = (date("2024-07-01"), date("2024-08-01"));
    let balance = dec!(10000000.00);
    let m360 = IntRule::flat(DayCount::Act360, 2_500_000, 0);
    let m365 = IntRule::flat(DayCount::Act365F, 2_500_000, 0);
    let a360 = accrue(&m360.to_rule("USD", 2), &[Segment { start, end, balance }]).unwrap();
    let a365 = accrue(&m365.to_rule("GBP", 2), &[Segment { start, end, balance }]).unwrap();
    assert_close(a360, m360.constant(1_000_000_000, 2, start, end));
    assert_close(a365, m365.constant(1_000_000_000, 2, start, end));
    // 10,000,000 × 2.5% × 31/360 = 21,527.77…; × 31/365 = 21,232.87…
    assert_eq!(a360.round_dp(2), dec!(21527.78));
    assert_eq!(a365.round_dp(2), dec!(21232.88));
    assert!(a360 > a365);
    assert_eq!((a360 * dec!(360)).round_dp(12), (a365 * dec!(365)).round_dp(12));
}

#[test]
fn thirty_360_accrual_uses_the_convention() {
    let model = IntRule::flat(DayCount::Thirty360, 6_000_000, 0);
    let rule = model.to_rule("USD", 2);
    // 2007-02-28 → 2007-03-31: 33 days bond basis. 360,000 × 6% × 33/360 = 1,980.
    let got = accrue(&rule, &[seg("2007-02-28", "2007-03-31", dec!(360000.00))]).unwrap();
    assert_eq!(got, dec!(1980));
    let euro = IntRule::flat(DayCount::ThirtyE360, 6_000_000, 0).to_rule("EUR", 2);
    let got = accrue(&euro, &[seg("2007-02-28", "2007-03-31", dec!(360000.00))]).unwrap();
    assert_eq!(got, dec!(1920)); // 32 days
}

#[test]
fn several_segments_sum() {
    let model = IntRule::flat(DayCount::Act360, 3_000_000, 6_000_000);
    let rule = model.to_rule("USD", 2);
    let segments = [
        seg("2024-01-01", "2024-01-05", dec!(500.00)),
        seg("2024-01-05", "2024-01-09", dec!(-250.50)),
        seg("2024-01-09", "2024-02-01", dec!(0.00)),
        seg("2024-02-01", "2024-03-01", dec!(12345.67)),
    ];
    let got = accrue(&rule, &segments).unwrap();
    let parts = [
        model.constant(50_000, 2, date("2024-01-01"), date("2024-01-05")),
        model.constant(-25_050, 2, date("2024-01-05"), date("2024-01-09")),
        model.constant(1_234_567, 2, date("2024-02-01"), date("2024-03-01")),
    ];
    let numerator: i128 = parts.iter().map(|&(n, _)| n).sum();
    assert_close(got, (numerator, parts[0].1));
}

#[test]
fn bad_segments_are_rejected() {
    let rule = IntRule::flat(DayCount::Act360, 3_000_000, 5_000_000).to_rule("USD", 2);
    for (start, end) in [("2024-01-05", "2024-01-05"), ("2024-01-05", "2024-01-04")] {
        let segments = [seg("2024-01-01", "2024-01-02", dec!(1)), seg(start, end, dec!(0))];
        assert_eq!(accrue(&rule, &segments), Err(InterestError::BadSegment { start: date(start), end: date(end) }));
    }
    let error = InterestError::BadSegment { start: date("2024-01-05"), end: date("2024-01-04") };
    assert_eq!(error.to_string(), "segment 2024-01-05..2024-01-04 is empty or reversed");
}

#[test]
fn overflow_is_an_error() {
    let rule = IntRule::flat(DayCount::Act360, 100_000_000, 100_000_000).to_rule("USD", 2);
    for balance in [Decimal::MAX, Decimal::MIN, Decimal::MAX / dec!(50)] {
        let segment = seg("2024-01-01", "2024-01-02", balance);
        assert_eq!(accrue(&rule, &[segment]), Err(InterestError::Overflow), "{balance}");
    }
    // Fits per band but not × days.
    let segment = seg("2000-01-01", "2200-01-01", Decimal::MAX / dec!(1000));
    assert_eq!(accrue(&rule, &[segment]), Err(InterestError::Overflow));
    assert_eq!(InterestError::Overflow.to_string(), "interest overflows the decimal range");
}

// ---------------------------------------------------------------------------
// Segments
// ---------------------------------------------------------------------------

fn changes(rows: &[(&str, Decimal)]) -> BTreeMap<NaiveDate, Decimal> {
    rows.iter().map(|&(day, change)| (date(day), change)).collect()
}

#[test]
fn segments_from_changes() {
    let map = changes(&[
        ("2024-01-01", dec!(999)),  // before `from`: already in the opening balance
        ("2024-01-10", dec!(100)),  // on `from`: the first day's balance
        ("2024-01-13", dec!(-300)), // inside
        ("2024-01-15", dec!(200)),  // inside: back to zero
        ("2024-01-20", dec!(50)),   // on `to`: ignored
        ("2024-02-01", dec!(70)),   // after `to`: ignored
    ]);
    let got = segments(dec!(0), &map, date("2024-01-10"), date("2024-01-20"));
    assert_eq!(
        got,
        vec![
            seg("2024-01-10", "2024-01-13", dec!(100)),
            seg("2024-01-13", "2024-01-15", dec!(-200)),
            seg("2024-01-15", "2024-01-20", dec!(0)),
        ]
    );
    assert_eq!(try_segments(dec!(0), &map, date("2024-01-10"), date("2024-01-20")), Ok(got));
}

#[test]
fn segments_merge_equal_days() {
    let map = changes(&[("2024-01-03", dec!(0)), ("2024-01-04", dec!(5.00)), ("2024-01-06", dec!(0.00))]);
    let got = segments(dec!(10), &map, date("2024-01-01"), date("2024-01-08"));
    assert_eq!(got, vec![seg("2024-01-01", "2024-01-04", dec!(10)), seg("2024-01-04", "2024-01-08", dec!(15))]);
    // No changes: one segment at the opening balance, zero kept.
    let none = BTreeMap::new();
    assert_eq!(
        segments(dec!(0), &none, date("2024-01-01"), date("2024-01-08")),
        vec![seg("2024-01-01", "2024-01-08", dec!(0))]
    );
    // An empty or reversed period has no segments.
    assert_eq!(segments(dec!(1), &map, date("2024-01-08"), date("2024-01-08")), vec![]);
    assert_eq!(segments(dec!(1), &map, date("2024-01-08"), date("2024-01-01")), vec![]);
}

#[test]
fn segments_overflow() {
    let map = changes(&[("2024-01-02", Decimal::MAX), ("2024-01-03", dec!(-1))]);
    assert_eq!(try_segments(dec!(1), &map, date("2024-01-01"), date("2024-01-05")), Err(InterestError::Overflow));
    let saturated = segments(dec!(1), &map, date("2024-01-01"), date("2024-01-05"));
    assert_eq!(saturated.len(), 3);
    assert_eq!(saturated[1].balance, Decimal::MAX);
}

#[test]
fn segment_accrual_matches_a_day_by_day_loop() {
    let mut model = IntRule::flat(DayCount::Act365F, 1_500_000, 3_750_000);
    model.tiers = vec![(50_000_000, 1_750_000, 3_500_000)];
    let rule = model.to_rule("CNY", 2);
    let minor = [("2024-02-27", 10_000_000_i128), ("2024-03-01", 60_000_000), ("2024-03-05", -90_000_000)];
    let map: BTreeMap<NaiveDate, Decimal> =
        minor.iter().map(|&(day, m)| (date(day), Decimal::from_i128_with_scale(m, 2))).collect();
    let (from, to) = (date("2024-02-20"), date("2024-03-20"));
    let opening_minor = -1_234_i128;
    let got = accrue(&rule, &segments(Decimal::from_i128_with_scale(opening_minor, 2), &map, from, to)).unwrap();
    // The loop: each day's end-of-day balance, accrued one day at a time.
    let mut numerator = 0_i128;
    let mut day = from;
    while day < to {
        let balance = opening_minor + minor.iter().filter(|&&(d, _)| date(d) <= day).map(|&(_, m)| m).sum::<i128>();
        numerator += model.one_day(balance);
        day = day + Days::new(1);
    }
    assert_close(got, (numerator, model.unit(2)));
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

fn any_decimal() -> impl Strategy<Value = Decimal> {
    (any::<u32>(), any::<u32>(), any::<u32>(), any::<bool>(), 0_u32..=28)
        .prop_map(|(lo, mid, hi, negative, scale)| Decimal::from_parts(lo, mid, hi, negative, scale))
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    (NaiveDate::MIN.num_days_from_ce()..=NaiveDate::MAX.num_days_from_ce())
        .prop_map(|days| NaiveDate::from_num_days_from_ce_opt(days).expect("in range"))
}

fn near_date() -> impl Strategy<Value = NaiveDate> {
    (0_u64..3000).prop_map(|offset| date("2020-01-01") + Days::new(offset))
}

fn any_day_count() -> impl Strategy<Value = DayCount> {
    proptest::sample::select(DayCount::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn accrue_never_panics(
        day_count in any_day_count(),
        credit_rate in any_decimal(),
        debit_rate in any_decimal(),
        tiers in proptest::collection::vec((any_decimal(), any_decimal(), any_decimal()), 0..4),
        segs in proptest::collection::vec(
            (prop_oneof![any_date(), near_date()], prop_oneof![any_date(), near_date()], any_decimal()),
            0..5,
        ),
    ) {
        let rule = InterestRule::fixed(
            ccy("USD"),
            day_count,
            credit_rate,
            debit_rate,
            tiers.into_iter().map(|(from, credit_rate, debit_rate)| InterestTier { from, credit_rate, debit_rate }).collect(),
        );
        let segs: Vec<Segment> =
            segs.into_iter().map(|(start, end, balance)| Segment { start, end, balance }).collect();
        let _ = accrue(&rule, &segs);
    }

    #[test]
    fn day_count_fraction_never_panics(day_count in any_day_count(), a in any_date(), b in any_date()) {
        let (numerator, denominator) = day_count_fraction(day_count, a, b);
        prop_assert!(denominator == 360 || denominator == 365);
        if matches!(day_count, DayCount::Act360 | DayCount::Act365F) {
            prop_assert_eq!(numerator, (b - a).num_days());
        }
    }

    #[test]
    fn thirty_e_360_telescopes(a in near_date(), b in near_date(), c in near_date()) {
        let dcf = |x, y| day_count_fraction(DayCount::ThirtyE360, x, y).0;
        prop_assert_eq!(dcf(a, b) + dcf(b, c), dcf(a, c));
    }

    #[test]
    fn segments_cover_the_period(
        opening in any_decimal(),
        rows in proptest::collection::btree_map(near_date(), any_decimal(), 0..8),
        from in near_date(),
        to in near_date(),
    ) {
        let got = segments(opening, &rows, from, to);
        if from >= to {
            prop_assert!(got.is_empty());
        } else {
            prop_assert_eq!(got.first().map(|s| s.start), Some(from));
            prop_assert_eq!(got.last().map(|s| s.end), Some(to));
            for pair in got.windows(2) {
                prop_assert_eq!(pair[0].end, pair[1].start);
                prop_assert!(pair[0].balance != pair[1].balance);
            }
            prop_assert!(got.iter().all(|s| s.start < s.end));
        }
        if let Ok(checked) = try_segments(opening, &rows, from, to) {
            prop_assert_eq!(checked, got);
        }
    }

    #[test]
    fn accrue_matches_the_integer_model(
        day_count in proptest::sample::select(vec![DayCount::Act360, DayCount::Act365F]),
        credit_e6 in 0_i128..=100_000_000,
        debit_e6 in 0_i128..=100_000_000,
        tier in proptest::option::of((1_i128..1_000_000_000_000, 0_i128..=100_000_000, 0_i128..=100_000_000)),
        balance_minor in -1_000_000_000_000_000_000_i128..=1_000_000_000_000_000_000,
        start in near_date(),
        days in 1_u64..400,
    ) {
        let mut model = IntRule::flat(day_count, credit_e6, debit_e6);
        model.tiers = tier.into_iter().collect();
        let rule = model.to_rule("USD", 2);
        let end = start + Days::new(days);
        let segment = Segment { start, end, balance: Decimal::from_i128_with_scale(balance_minor, 2) };
        let got = accrue(&rule, &[segment]).unwrap();
        let expected = model.constant(balance_minor, 2, start, end);
        // To 12 decimals while the model's integers fit i128 (balances below
        // 10^12), to the unit above (balances up to 10^16, the ledger's range).
        if balance_minor.abs() < 100_000_000_000_000 {
            assert_close(got, expected);
        } else {
            let lhs = got.round_dp(0).mantissa();
            let rhs = expected.0.div_euclid(expected.1);
            prop_assert!((lhs - rhs).abs() <= 1, "{} vs {}", got, rhs);
        }
    }
}
