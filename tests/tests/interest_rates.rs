//! Interest as treasuries set it (docs/SWEEPS.md, "Interest as treasuries set
//! it"): dated `[[interest]]` rows, a member's own rows, benchmark plus margin
//! with floors and caps, the fixings imported as a dated series, through the
//! public API, on the group of `tests/fixtures/sweep/group.toml` with the
//! zero-balancing rules of `tests/fixtures/sweep/positions.toml`.
//!
//! Positions (swept on 2026-02-27, both onshore, so nothing is withheld):
//! M-SZ +1,000,000.00 CNY (lends: the credit rate), M-BJ -500,000.00 CNY
//! (borrows: the debit rate). Every expected figure is worked by hand in its
//! comment: interest = position × rate × days / basis, summed over the
//! periods of constant rate, rounded half-even once per member.
//!
//! The fixings here are test data chosen for round figures, not published
//! values (examples/benchmarks-2026.csv holds published ones).

use std::str::FromStr;

use cashpool_files::benchmarks::parse_benchmarks_csv;
use cashpool_ledger::audit;
use cashpool_ledger::benchmarks::BenchmarkRow;
use cashpool_ledger::interest::{Bound, RatePeriod};
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::storage::MemoryStorage;
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{InterestOutcome, Ledger, Rejection};
use cashpool_tests::{at, refusal};
use chrono::NaiveDate;
use rust_decimal::Decimal;

const GROUP: &str = include_str!("../fixtures/sweep/group.toml");
const POSITIONS: &str = include_str!("../fixtures/sweep/positions.toml");

fn d(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn cny() -> Currency {
    Currency::from_code("CNY").unwrap()
}

/// A store of the group with `interest` appended, the fixings of `fixings_csv` imported, and the
/// default positions.
fn ledger(interest: &str, fixings_csv: &str) -> (MemoryStorage, Ledger) {
    let storage = MemoryStorage::new();
    let config = format!("{GROUP}\n{POSITIONS}\n{interest}");
    let ledger = Ledger::create(Box::new(storage.clone()), &config, at()).unwrap();
    import(&ledger, fixings_csv);
    for (account, amount) in [("SZ-OPS", "1000000.00"), ("BJ-OPS", "-500000.00")] {
        let amount = dec(amount);
        let (from, to) = if amount > Decimal::ZERO { ("EXT-ON", account) } else { (account, "EXT-ON") };
        let id = format!("PAY-{account}");
        let tx = TransactionRequest::transfer(
            id,
            d("2026-02-27"),
            from,
            to,
            "CNY",
            amount.abs(),
            Purpose::CurrentAccount,
            "",
            "",
        );
        ledger.post(&tx, "rates-test", at()).unwrap();
    }
    assert_eq!(ledger.sweep(d("2026-02-27"), false, at()).unwrap().run.sweeps.len(), 2);
    (storage, ledger)
}

/// Imports a benchmarks CSV (`date,series,rate_percent` rows, the header added here).
fn import(ledger: &Ledger, rows: &str) -> usize {
    if rows.trim().is_empty() {
        return 0;
    }
    let (rows, errors) = parse_benchmarks_csv(&format!("date,series,rate_percent\n{rows}"));
    assert!(errors.is_empty(), "{errors:?}");
    ledger.import_benchmarks(&rows, at()).unwrap().new_rows
}

fn accrue(ledger: &Ledger, from: &str, to: &str) -> InterestOutcome {
    let before = (ledger.state_digest(), ledger.head());
    let outcome = ledger.interest(d(from), d(to), false, at()).unwrap();
    assert_eq!((ledger.state_digest(), ledger.head()), before, "an accrual wrote");
    outcome
}

/// `entity -> interest` as printed (minor units visible), in accrual order.
fn interest_of(outcome: &InterestOutcome) -> Vec<(String, String)> {
    outcome.run.accruals.iter().map(|a| (a.entity.clone(), a.interest.to_string())).collect()
}

/// The periods of one member: `(start, end, row, fixing date and rate, credit, debit)`.
fn periods(outcome: &InterestOutcome, entity: &str) -> Vec<(String, String, usize, Option<String>, String, String)> {
    let applied = outcome.rates.iter().find(|r| r.entity == entity && r.currency == cny()).expect(entity);
    applied
        .periods
        .iter()
        .map(|p: &RatePeriod| {
            (
                p.start.to_string(),
                p.end.to_string(),
                p.rule,
                p.fixing.as_ref().map(|f| format!("{} {} {}", f.series, f.date, f.rate_percent.normalize())),
                p.credit_rate.normalize().to_string(),
                p.debit_rate.normalize().to_string(),
            )
        })
        .collect()
}

fn owned(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// One case: rules and fixings in, each member's interest out.
struct Case {
    what: &'static str,
    interest: String,
    fixings: &'static str,
    from: &'static str,
    to: &'static str,
    expect: &'static [(&'static str, &'static str)],
}

fn check(case: &Case) -> InterestOutcome {
    let (_, ledger) = ledger(&case.interest, case.fixings);
    let outcome = accrue(&ledger, case.from, case.to);
    assert_eq!(interest_of(&outcome), owned(case.expect), "{}", case.what);
    outcome
}

fn fixed(currency_row: &str) -> String {
    format!("\n[[interest]]\ncurrency = \"CNY\"\n{currency_row}\n")
}

// ---------------------------------------------------------------------------------------------
// A benchmark change mid-period splits the accrual exactly
// ---------------------------------------------------------------------------------------------

const LPR_RULE: &str =
    "day_count = \"ACT/365F\"\nbenchmark = \"LPR-1Y\"\ncredit_margin = \"-1.00\"\ndebit_margin = \"0.50\"";

#[test]
fn a_new_fixing_mid_period_splits_the_accrual_at_its_date() {
    let outcome = check(&Case {
        what: "LPR 3.65 until 03-19, 2.92 from 03-20",
        interest: fixed(LPR_RULE),
        fixings: "2026-02-20,LPR-1Y,3.65\n2026-03-20,LPR-1Y,2.92\n",
        from: "2026-03-01",
        to: "2026-04-01",
        // M-SZ: 1,000,000.00 × [(3.65 − 1.00) % × 19 + (2.92 − 1.00) % × 12] / 365
        //     = (26,500 × 19 + 19,200 × 12) / 365 = 733,900 / 365 = 2,010.684931… → 2,010.68.
        // M-BJ: −500,000.00 × [(3.65 + 0.50) % × 19 + (2.92 + 0.50) % × 12] / 365
        //     = −(20,750 × 19 + 17,100 × 12) / 365 = −599,450 / 365 = −1,642.328767… → −1,642.33.
        // One rate for the month would not do: 2.65 % for 31 days is 2,250.68.
        expect: &[("M-SZ", "2010.68"), ("M-BJ", "-1642.33")],
    });
    assert_eq!(
        periods(&outcome, "M-SZ"),
        vec![
            (
                "2026-03-01".into(),
                "2026-03-20".into(),
                0,
                Some("LPR-1Y 2026-02-20 3.65".into()),
                "2.65".into(),
                "4.15".into()
            ),
            (
                "2026-03-20".into(),
                "2026-04-01".into(),
                0,
                Some("LPR-1Y 2026-03-20 2.92".into()),
                "1.92".into(),
                "3.42".into()
            ),
        ]
    );
    assert_eq!(periods(&outcome, "M-BJ"), periods(&outcome, "M-SZ"), "one row, one fixing history");
}

#[test]
fn a_fixing_of_the_same_rate_changes_no_period_and_a_lookback_reads_earlier_fixings() {
    // SOFR-like daily fixings; with a 2-day lookback, day d uses the fixing on or before d − 2.
    let rule =
        "day_count = \"ACT/360\"\nbenchmark = \"SOFR\"\ncredit_margin = \"0\"\ndebit_margin = \"0\"\nlookback_days = 2";
    let outcome = check(&Case {
        what: "lookback 2 days",
        interest: fixed(rule),
        fixings: "2026-03-02,SOFR,4.00\n2026-03-03,SOFR,4.10\n2026-03-04,SOFR,4.20\n2026-03-05,SOFR,4.20\n",
        from: "2026-03-04",
        to: "2026-03-08",
        // Day 03-04 uses 03-02 (4.00), 03-05 uses 03-03 (4.10), 03-06 and 03-07 use 03-04 and
        // 03-05 (4.20 both: one period). M-SZ: 1,000,000.00 × (4.00 + 4.10 + 4.20 × 2) % / 360
        // = 165,000 / 360 = 458.3333… → 458.33; M-BJ: −500,000.00 × the same = −229.166… → −229.17.
        expect: &[("M-SZ", "458.33"), ("M-BJ", "-229.17")],
    });
    let starts: Vec<(String, String)> =
        periods(&outcome, "M-SZ").into_iter().map(|p| (p.0, p.3.unwrap_or_default())).collect();
    assert_eq!(
        starts,
        owned(&[
            ("2026-03-04", "SOFR 2026-03-02 4"),
            ("2026-03-05", "SOFR 2026-03-03 4.1"),
            ("2026-03-06", "SOFR 2026-03-04 4.2"),
        ])
    );
    assert_eq!(periods(&outcome, "M-SZ")[2].1, "2026-03-08", "the 03-05 fixing of the same rate continues the period");
}

// ---------------------------------------------------------------------------------------------
// Floors, caps and tier margins
// ---------------------------------------------------------------------------------------------

#[test]
fn a_floor_keeps_a_negative_benchmark_from_making_the_lender_pay_and_a_cap_binds_the_borrower() {
    let rule = "day_count = \"ACT/360\"\nbenchmark = \"ESTR\"\ncredit_margin = \"-0.50\"\ndebit_margin = \"1.00\"\n\
                credit_floor = \"0.10\"\ndebit_cap = \"0.50\"\nstale_after_days = 40";
    let outcome = check(&Case {
        what: "€STR −0.20: credit −0.70 → floor 0.10, debit 0.80 → cap 0.50",
        interest: fixed(rule),
        fixings: "2026-02-27,ESTR,-0.20\n",
        from: "2026-03-01",
        to: "2026-03-11",
        // M-SZ: 1,000,000.00 × 0.10 % × 10 / 360 = 1,000 × 10 / 360 = 27.777… → 27.78
        //       (without the floor: −0.70 %, −194.44: the lender would pay).
        // M-BJ: −500,000.00 × 0.50 % × 10 / 360 = −2,500 × 10 / 360 = −69.444… → −69.44
        //       (without the cap: 0.80 %, −111.11).
        expect: &[("M-SZ", "27.78"), ("M-BJ", "-69.44")],
    });
    let applied = &outcome.rates[0].periods[0];
    assert_eq!((applied.credit_bound, applied.debit_bound), (Some(Bound::Floor), Some(Bound::Cap)));
    assert_eq!((applied.credit_rate, applied.debit_rate), (dec("0.1"), dec("0.5")));
    // The same row without its floor and cap: the lender pays.
    let open = "day_count = \"ACT/360\"\nbenchmark = \"ESTR\"\ncredit_margin = \"-0.50\"\ndebit_margin = \"1.00\"\n\
                stale_after_days = 40";
    check(&Case {
        what: "no floor, no cap",
        interest: fixed(open),
        fixings: "2026-02-27,ESTR,-0.20\n",
        from: "2026-03-01",
        to: "2026-03-11",
        // M-SZ: 1,000,000.00 × −0.70 % × 10 / 360 = −194.444… → −194.44; M-BJ: −111.11.
        expect: &[("M-SZ", "-194.44"), ("M-BJ", "-111.11")],
    });
}

#[test]
fn a_benchmark_floor_prices_a_negative_fixing_as_zero_before_the_margin() {
    // The loan market's "zero floor" is on the benchmark, not on the rate: €STR −0.20 counts as 0.
    let rule = "day_count = \"ACT/360\"\nbenchmark = \"ESTR\"\nbenchmark_floor = \"0\"\ncredit_margin = \"0.10\"\n\
                debit_margin = \"1.00\"\nstale_after_days = 40";
    let outcome = check(&Case {
        what: "€STR −0.20 floored at 0: credit 0.10, debit 1.00",
        interest: fixed(rule),
        fixings: "2026-02-27,ESTR,-0.20\n",
        from: "2026-03-01",
        to: "2026-03-11",
        // M-SZ: 1,000,000.00 × 0.10 % × 10 / 360 = 27.777… → 27.78 (without the floor, −0.10 %: −27.78).
        // M-BJ: −500,000.00 × 1.00 % × 10 / 360 = −138.888… → −138.89 (without it, 0.80 %: −111.11).
        expect: &[("M-SZ", "27.78"), ("M-BJ", "-138.89")],
    });
    let period = &outcome.rates[0].periods[0];
    let fixing = period.fixing.as_ref().expect("a benchmark row");
    assert_eq!((fixing.rate_percent, fixing.floored), (dec("-0.20"), true), "the published fixing, marked floored");
    assert_eq!((period.credit_bound, period.debit_bound), (None, None), "no floor or cap on the rates themselves");
}

#[test]
fn tiers_of_a_benchmark_row_are_margins_over_the_same_fixing() {
    let rule = format!(
        "{LPR_RULE}\n\n[[interest.tiers]]\nfrom = \"500000.00\"\ncredit_margin = \"-0.50\"\ndebit_margin = \"0.50\""
    );
    let outcome = check(&Case {
        what: "tier margins",
        interest: fixed(&rule),
        fixings: "2026-02-20,LPR-1Y,3.65\n",
        from: "2026-03-01",
        to: "2026-03-11",
        // M-SZ: (500,000 × 2.65 % + 500,000 × 3.15 %) × 10 / 365 = 29,000 × 10 / 365 = 794.520… → 794.52.
        // M-BJ: 500,000.00 is all in the base band: −500,000 × 4.15 % × 10 / 365 = −568.493… → −568.49.
        expect: &[("M-SZ", "794.52"), ("M-BJ", "-568.49")],
    });
    let tier = &outcome.rates[0].periods[0].tiers[0];
    assert_eq!((tier.credit_rate, tier.debit_rate), (dec("3.15"), dec("4.15")));
}

// ---------------------------------------------------------------------------------------------
// Dated rows and members' own rows
// ---------------------------------------------------------------------------------------------

#[test]
fn a_members_own_row_overrides_the_pools_from_its_date() {
    let pool = fixed("day_count = \"ACT/365F\"\ncredit_rate = \"3.65\"\ndebit_rate = \"3.65\"");
    let own = "\n[[interest]]\ncurrency = \"CNY\"\nentity = \"M-BJ\"\nday_count = \"ACT/365F\"\n\
               credit_rate = \"1.00\"\ndebit_rate = \"7.30\"\n";
    check(&Case {
        what: "M-BJ's own row from the beginning",
        interest: format!("{pool}{own}"),
        fixings: "",
        from: "2026-03-01",
        to: "2026-03-11",
        // M-SZ, the pool's row: 1,000,000.00 × 3.65 % / 365 = 100.00 a day, × 10 = 1,000.00.
        // M-BJ, its own row:   −500,000.00 × 7.30 % / 365 = −100.00 a day, × 10 = −1,000.00
        //                      (the pool's row would give −500.00).
        expect: &[("M-SZ", "1000.00"), ("M-BJ", "-1000.00")],
    });
    let dated = format!("{own}effective = \"2026-03-06\"\n");
    let outcome = check(&Case {
        what: "M-BJ's own row from 03-06",
        interest: format!("{pool}{dated}"),
        fixings: "",
        from: "2026-03-01",
        to: "2026-03-11",
        // M-BJ: the pool's row 03-01 to 03-05 (5 × −50.00), its own from 03-06 (5 × −100.00): −750.00.
        expect: &[("M-SZ", "1000.00"), ("M-BJ", "-750.00")],
    });
    let rows: Vec<(String, usize)> = periods(&outcome, "M-BJ").into_iter().map(|p| (p.0, p.2)).collect();
    assert_eq!(rows, vec![("2026-03-01".to_string(), 0), ("2026-03-06".to_string(), 1)]);
    assert_eq!(periods(&outcome, "M-SZ").len(), 1, "a member's own row does not split the others'");
}

#[test]
fn dated_pool_rows_change_the_terms_from_their_date_and_rows_before_any_effective_date_bear_none() {
    let rows = "\n[[interest]]\ncurrency = \"CNY\"\neffective = \"2026-03-06\"\nday_count = \"ACT/365F\"\n\
                credit_rate = \"7.30\"\ndebit_rate = \"7.30\"\n\
                \n[[interest]]\ncurrency = \"CNY\"\nday_count = \"ACT/365F\"\ncredit_rate = \"3.65\"\ndebit_rate = \"3.65\"\n";
    check(&Case {
        what: "3.65 until 03-05, 7.30 from 03-06 (rows in any order)",
        interest: rows.into(),
        fixings: "",
        from: "2026-03-01",
        to: "2026-03-11",
        // M-SZ: 5 × 100.00 + 5 × 200.00 = 1,500.00; M-BJ: 5 × −50.00 + 5 × −100.00 = −750.00.
        expect: &[("M-SZ", "1500.00"), ("M-BJ", "-750.00")],
    });
    let later = "\n[[interest]]\ncurrency = \"CNY\"\neffective = \"2026-03-06\"\nday_count = \"ACT/365F\"\n\
                 credit_rate = \"7.30\"\ndebit_rate = \"7.30\"\n";
    check(&Case {
        what: "the only row begins 03-06: nothing before",
        interest: later.into(),
        fixings: "",
        from: "2026-03-01",
        to: "2026-03-11",
        // 5 days at 7.30 %: 5 × 200.00 = 1,000.00 and 5 × −100.00 = −500.00.
        expect: &[("M-SZ", "1000.00"), ("M-BJ", "-500.00")],
    });
}

// ---------------------------------------------------------------------------------------------
// A missing fixing refuses the run and writes nothing
// ---------------------------------------------------------------------------------------------

#[test]
fn a_missing_or_stale_fixing_refuses_the_run_naming_the_series_and_the_date_and_writes_nothing() {
    let rule = "day_count = \"ACT/365F\"\nbenchmark = \"SHIBOR-3M\"\ncredit_margin = \"0\"\ndebit_margin = \"0.50\"\n\
                stale_after_days = 3";
    let (storage, ledger) = ledger(&fixed(rule), "");
    let before = (ledger.state_digest(), ledger.head(), ledger.n_transactions());
    for settle in [false, true] {
        let refused = refusal(ledger.interest(d("2026-03-01"), d("2026-03-11"), settle, at())).unwrap_err();
        let Rejection::MissingFixing { series, date, latest, .. } = &refused else { panic!("{refused:?}") };
        assert_eq!((series.as_str(), *date, *latest), ("SHIBOR-3M", d("2026-03-01"), None));
        assert_eq!(refused.code(), "missing_fixing");
        assert!(refused.to_string().contains("no SHIBOR-3M fixing for 2026-03-01"), "{refused}");
    }
    assert_eq!(import(&ledger, "2026-03-01,SHIBOR-3M,1.60\n2026-03-04,SHIBOR-3M,1.60\n"), 2);
    let imported = (ledger.state_digest(), ledger.head());
    // The 03-04 fixing holds to 03-07 (3 days old); 03-08 needs a newer one.
    let refused = refusal(ledger.interest(d("2026-03-01"), d("2026-03-11"), true, at())).unwrap_err();
    let Rejection::MissingFixing { date, latest, stale_after_days, entity, .. } = &refused else {
        panic!("{refused:?}")
    };
    assert_eq!((*date, *latest, *stale_after_days), (d("2026-03-08"), Some(d("2026-03-04")), 3));
    assert_eq!(entity, "M-SZ");
    assert_eq!((ledger.state_digest(), ledger.head()), imported, "a refused run writes nothing");
    assert_ne!(imported.0, before.0, "the import itself is in the state");
    assert_eq!(ledger.n_transactions(), before.2);
    // A fixing of 03-09 does not help 03-08; with the one of 03-08 the run goes through, and replays.
    import(&ledger, "2026-03-09,SHIBOR-3M,1.60\n");
    let refused = refusal(ledger.interest(d("2026-03-01"), d("2026-03-11"), true, at())).unwrap_err();
    assert!(matches!(refused, Rejection::MissingFixing { date, .. } if date == d("2026-03-08")), "{refused:?}");
    import(&ledger, "2026-03-08,SHIBOR-3M,1.60\n");
    let settled = ledger.interest(d("2026-03-01"), d("2026-03-11"), true, at()).unwrap();
    // M-SZ: 1,000,000.00 × 1.60 % × 10 / 365 = 438.356… → 438.36; M-BJ: −500,000.00 × 2.10 % × 10 / 365 = −287.671… → −287.67.
    assert_eq!(interest_of(&settled), owned(&[("M-SZ", "438.36"), ("M-BJ", "-287.67")]));
    let replayed = audit::replay_storage(&storage, None).unwrap();
    assert_eq!(replayed.state_digest, ledger.state_digest());
}

#[test]
fn a_member_without_a_position_needs_no_fixing() {
    // Only M-BJ's own row is a benchmark row, and M-BJ's position is closed before the period.
    let rows = format!(
        "{}\n[[interest]]\ncurrency = \"CNY\"\nentity = \"M-BJ\"\nday_count = \"ACT/365F\"\nbenchmark = \"LPR-1Y\"\n\
         credit_margin = \"0\"\ndebit_margin = \"0\"\n",
        fixed("day_count = \"ACT/365F\"\ncredit_rate = \"3.65\"\ndebit_rate = \"3.65\"")
    );
    let (_, ledger) = ledger(&rows, "");
    let close = TransactionRequest::transfer(
        "CLOSE-BJ".to_string(),
        d("2026-02-28"),
        "EXT-ON",
        "BJ-OPS",
        "CNY",
        dec("500000.00"),
        Purpose::CurrentAccount,
        "",
        "",
    );
    ledger.post(&close, "rates-test", at()).unwrap();
    ledger.sweep(d("2026-02-28"), false, at()).unwrap();
    let outcome = accrue(&ledger, "2026-03-01", "2026-03-11");
    assert_eq!(interest_of(&outcome), owned(&[("M-SZ", "1000.00")]));
}

// ---------------------------------------------------------------------------------------------
// Importing fixings, settling, replaying
// ---------------------------------------------------------------------------------------------

#[test]
fn a_reimport_writes_nothing_and_a_different_fixing_for_a_held_date_is_refused() {
    let (_, ledger) = ledger(&fixed(LPR_RULE), "2026-02-20,LPR-1Y,3.65\n");
    let head = ledger.head();
    assert_eq!(import(&ledger, "2026-02-20,LPR-1Y,3.650\n"), 0, "the same value, written otherwise");
    assert_eq!(ledger.head(), head);
    let rows = [
        BenchmarkRow { date: d("2026-03-20"), series: "LPR-1Y".into(), rate_percent: dec("3.60") },
        BenchmarkRow { date: d("2026-02-20"), series: "LPR-1Y".into(), rate_percent: dec("3.45") },
    ];
    let refused = refusal(ledger.import_benchmarks(&rows, at())).unwrap_err();
    let Rejection::FixingConflict(conflict) = &refused else { panic!("{refused:?}") };
    assert_eq!((conflict.row, conflict.existing, conflict.given), (1, dec("3.65"), dec("3.45")));
    assert_eq!(ledger.head(), head, "nothing of a refused import is written");
    assert_eq!(ledger.fixing("LPR-1Y", d("2026-03-31")), Some((d("2026-02-20"), dec("3.65"))));
    let bad = [BenchmarkRow { date: d("2026-03-20"), series: "lpr".into(), rate_percent: dec("3") }];
    assert!(matches!(refusal(ledger.import_benchmarks(&bad, at())), Err(Rejection::Invalid { .. })));
}

#[test]
fn a_settled_benchmark_run_replays_reopens_and_shows_the_same_rates_again() {
    let (storage, ledger) = ledger(&fixed(LPR_RULE), "2026-02-20,LPR-1Y,3.65\n2026-03-20,LPR-1Y,2.92\n");
    let settled = ledger.interest(d("2026-03-01"), d("2026-04-01"), true, at()).unwrap();
    assert!(settled.settled && !settled.already_settled);
    assert_eq!(interest_of(&settled), owned(&[("M-SZ", "2010.68"), ("M-BJ", "-1642.33")]));
    let positions: Vec<(String, String)> =
        ledger.positions(None).into_iter().map(|row| (row.entity, row.position.to_string())).collect();
    assert!(positions.contains(&("M-SZ".into(), "1002010.68".into())), "{positions:?}");
    let digest = ledger.state_digest();
    drop(ledger);
    let reopened = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(reopened.state_digest(), digest);
    let again = reopened.interest(d("2026-03-01"), d("2026-04-01"), true, at()).unwrap();
    assert!(again.already_settled);
    assert_eq!(again.rates, settled.rates, "the rates of a settled period are found again");
    assert_eq!(audit::replay_storage(&storage, None).unwrap().state_digest, digest);
    reopened.checkpoint().unwrap();
    let from_snapshot = Ledger::open(Box::new(storage)).unwrap();
    assert_eq!(from_snapshot.state_digest(), digest, "the fixings are in the state snapshot");
    assert_eq!(from_snapshot.benchmarks(Some("LPR-1Y"), None, None).len(), 2);
}
