//! Intercompany interest (docs/SWEEPS.md "Interest", DOMAIN §5) end to end
//! through the public API, on the group of `tests/fixtures/sweep/group.toml`
//! with the zero-balancing rules of `tests/fixtures/sweep/positions.toml`: a
//! sweep turns each member's balance into its intercompany position, and the
//! tests append the `[[interest]]` rule they need.
//!
//! Expected interest is computed here independently, in integer arithmetic:
//! day counts from the ISDA 2006 §4.16 text, interest as an exact fraction of
//! minor units (`Σ band × rate × days / (100 × basis)`), rounded half-even by
//! hand. Round figures are also written out (3.65 % on 1,000,000.00 under
//! ACT/365F is 100.00 a day).
//!
//! Default positions (swept on 2026-02-27): M-SZ (onshore) +1,000,000.00,
//! M-BJ (onshore) -500,000.00, M-HK (offshore, withholding 10 %)
//! +1,000,000.00, M-SG (offshore, withholding 7 %) -500,000.00, all CNY.
//! M-SZ has a withholding rate in the group too, but is onshore: no tax.
//!
//! Withholding (DOMAIN §5; docs/SWEEPS.md "Withholding"): the group gives
//! M-HK and M-SG the older key `withholding_tax_rate`, read as the income tax
//! rate; VAT (6 %, 财税〔2016〕36号) is withheld besides, as `interest ÷ 1.06
//! × 6 %`, and the income tax is levied on the interest without VAT
//! (国家税务总局公告2013年第9号); no surcharge on that VAT since 2021-09-01
//! (财政部 税务总局公告2021年第28号). The model below computes all of it in
//! integer minor units.

use std::collections::BTreeMap;
use std::str::FromStr;

use cashpool_ledger::audit;
use cashpool_ledger::interest::InterestRun;
use cashpool_ledger::journal::{EntryBody, PostedTransaction};
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::storage::MemoryStorage;
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{InterestOutcome, Ledger, Rejection};
use cashpool_tests::at;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

const GROUP: &str = include_str!("../fixtures/sweep/group.toml");
const POSITIONS: &str = include_str!("../fixtures/sweep/positions.toml");

/// The date the default positions are swept.
const OPENED: &str = "2026-02-27";
const DEFAULT_POSITIONS: [(&str, &str); 4] =
    [("SZ-OPS", "1000000.00"), ("BJ-OPS", "-500000.00"), ("HK-OPS", "1000000.00"), ("SG-OPS", "-500000.00")];

// ---------------------------------------------------------------------------------------------
// Ledger helpers
// ---------------------------------------------------------------------------------------------

fn d(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn cny() -> Currency {
    Currency::from_code("CNY").unwrap()
}

/// The CNY `[[interest]]` rule; tiers are `(from, credit_rate, debit_rate)`.
fn interest_rule(day_count: &str, credit: &str, debit: &str, tiers: &[(&str, &str, &str)]) -> String {
    let mut toml = format!(
        "\n[[interest]]\ncurrency = \"CNY\"\nday_count = \"{day_count}\"\ncredit_rate = \"{credit}\"\ndebit_rate = \"{debit}\"\n"
    );
    for (from, credit, debit) in tiers {
        toml +=
            &format!("\n[[interest.tiers]]\nfrom = \"{from}\"\ncredit_rate = \"{credit}\"\ndebit_rate = \"{debit}\"\n");
    }
    toml
}

fn ledger(interest: &str) -> (MemoryStorage, Ledger) {
    let storage = MemoryStorage::new();
    let config = format!("{GROUP}\n{POSITIONS}\n{interest}");
    let ledger = Ledger::create(Box::new(storage.clone()), &config, at()).unwrap();
    (storage, ledger)
}

/// Pays `amount` (signed, CNY) into a member's account from outside on `date`, then sweeps
/// `date`: the zero-balancing rules move it into the member's position.
fn move_positions(ledger: &Ledger, date: &str, moves: &[(&str, &str)]) {
    for (account, amount) in moves {
        let amount = dec(amount);
        let ext = if ["HK-OPS", "SG-OPS"].contains(account) { "EXT-OFF" } else { "EXT-ON" };
        let (from, to) = if amount > Decimal::ZERO { (ext, *account) } else { (*account, ext) };
        let id = format!("PAY-{date}-{account}");
        let tx =
            TransactionRequest::transfer(id, d(date), from, to, "CNY", amount.abs(), Purpose::CurrentAccount, "", "");
        ledger.post(&tx, "interest-test", at()).unwrap();
    }
    let outcome = ledger.sweep(d(date), false, at()).unwrap();
    assert_eq!(outcome.run.sweeps.len(), moves.len(), "{outcome:?}");
}

/// A ledger with `interest` and the default positions.
fn with_default_positions(interest: &str) -> (MemoryStorage, Ledger) {
    let (storage, ledger) = ledger(interest);
    move_positions(&ledger, OPENED, &DEFAULT_POSITIONS);
    (storage, ledger)
}

fn accrue(ledger: &Ledger, from: &str, to: &str) -> InterestOutcome {
    let before = (ledger.state_digest(), ledger.head(), ledger.n_transactions());
    let outcome = ledger.interest(d(from), d(to), false, at()).unwrap();
    assert!(!outcome.settled && !outcome.already_settled, "{outcome:?}");
    assert_eq!((ledger.state_digest(), ledger.head(), ledger.n_transactions()), before, "an accrual wrote");
    outcome
}

fn settle(ledger: &Ledger, from: &str, to: &str) -> InterestOutcome {
    let outcome = ledger.interest(d(from), d(to), true, at()).unwrap();
    assert!(outcome.settled && !outcome.already_settled, "{outcome:?}");
    outcome
}

fn balance(ledger: &Ledger, account: &str) -> Decimal {
    ledger.balance(account, cny(), None).unwrap()
}

/// The positions as `entity -> position` (CNY).
fn positions(ledger: &Ledger, as_of: Option<&str>) -> BTreeMap<String, Decimal> {
    ledger
        .positions(as_of.map(d))
        .into_iter()
        .inspect(|row| assert_eq!(row.currency, cny()))
        .map(|row| (row.entity, row.position))
        .collect()
}

fn position_map(rows: &[(&str, &str)]) -> BTreeMap<String, Decimal> {
    rows.iter().map(|(entity, amount)| (entity.to_string(), dec(amount))).collect()
}

fn transactions(ledger: &Ledger) -> BTreeMap<String, PostedTransaction> {
    ledger
        .entries(1)
        .filter_map(|item| match item.unwrap().0.body {
            EntryBody::Transaction(tx) => Some((tx.id.clone(), tx)),
            _ => None,
        })
        .collect()
}

/// The accruals as `entity -> (interest, withholding_tax, net)`, printed (minor units visible).
fn accruals(run: &InterestRun) -> BTreeMap<String, (String, String, String)> {
    run.accruals
        .iter()
        .inspect(|a| assert_eq!(a.currency, cny()))
        .map(|a| (a.entity.clone(), (a.interest.to_string(), a.withholding_tax.to_string(), a.net.to_string())))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The independent model
// ---------------------------------------------------------------------------------------------

/// Day count `(days, basis)` per ISDA 2006 §4.16 (b), (e), (f), (g).
fn day_count(convention: &str, start: NaiveDate, end: NaiveDate) -> (i128, i128) {
    let thirty = |d1: u32, d2: u32| {
        360 * i128::from(end.year() - start.year())
            + 30 * (i128::from(end.month()) - i128::from(start.month()))
            + i128::from(d2)
            - i128::from(d1)
    };
    let actual = i128::from((end - start).num_days());
    match convention {
        "ACT/360" => (actual, 360),
        "ACT/365F" => (actual, 365),
        // (f) "if D1 is 31, D1 = 30"; "if D2 is 31 and D1 is 30 or 31, D2 = 30"
        "30/360" => {
            let d1 = if start.day() == 31 { 30 } else { start.day() };
            let d2 = if end.day() == 31 && d1 >= 30 { 30 } else { end.day() };
            (thirty(d1, d2), 360)
        }
        // (g) "if D1 is 31, D1 = 30"; "if D2 is 31, D2 = 30"
        "30E/360" => (thirty(start.day().min(30), end.day().min(30)), 360),
        other => panic!("day count {other}"),
    }
}

/// A rate in units of 10^-4 percent: "3.65" -> 36500.
fn rate_e4(text: &str) -> i128 {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    assert!(frac.len() <= 4, "{text}");
    let frac = format!("{frac:0<4}");
    int.parse::<i128>().unwrap() * 10_000 + frac.parse::<i128>().unwrap()
}

/// An amount in minor units (CNY): "-500000.00" -> -50000000.
fn cents(text: &str) -> i128 {
    let value = dec(text);
    assert_eq!(value.scale(), 2, "{text}");
    value.mantissa()
}

/// The terms of a rule, as the model reads them.
struct Terms {
    day_count: &'static str,
    credit: i128,
    debit: i128,
    /// (from in minor units, credit, debit)
    tiers: Vec<(i128, i128, i128)>,
}

fn terms(day_count: &'static str, credit: &str, debit: &str, tiers: &[(&str, &str, &str)]) -> Terms {
    Terms {
        day_count,
        credit: rate_e4(credit),
        debit: rate_e4(debit),
        tiers: tiers.iter().map(|(from, c, db)| (cents(from), rate_e4(c), rate_e4(db))).collect(),
    }
}

/// `Σ band × rate` (minor units × 10^-4 percent) over the bands of `|balance|`.
fn weighted(terms: &Terms, balance: i128) -> i128 {
    let credit = balance > 0;
    let magnitude = balance.abs();
    let pick = |c: i128, db: i128| if credit { c } else { db };
    // Band edges: 0, each tier's from, infinity; band i bears the base rate (i = 0) or tier i-1's rate.
    let mut edges = vec![(0, pick(terms.credit, terms.debit))];
    edges.extend(terms.tiers.iter().map(|&(from, c, db)| (from, pick(c, db))));
    let mut sum = 0;
    for (idx, &(lower, rate)) in edges.iter().enumerate() {
        let upper = edges.get(idx + 1).map_or(magnitude, |&(from, _)| from.min(magnitude));
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

/// Exact interest over segments `(start, end, balance in minor units)`: `(numerator, denominator)`
/// in minor units, the denominator `basis × 100 × 10^4`.
fn exact(terms: &Terms, segments: &[Segment]) -> (i128, i128) {
    let mut numerator = 0;
    let mut denominator = 0;
    for &(start, end, balance) in segments {
        let (days, basis) = day_count(terms.day_count, d(start), d(end));
        denominator = basis * 1_000_000;
        numerator += weighted(terms, balance) * days;
    }
    (numerator, denominator)
}

/// `numerator / denominator` rounded half-even to an integer.
fn half_even(numerator: i128, denominator: i128) -> i128 {
    let (q, r) = (numerator.div_euclid(denominator), numerator.rem_euclid(denominator));
    match (2 * r).cmp(&denominator) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
    }
}

/// The income tax rate in hundredths of an offshore member (the group's `withholding_tax_rate`,
/// or the national 10 % for M-JP, which has none); `None` for onshore members, which bear no tax
/// (M-SZ's 0.10 does not apply).
fn income_tax_hundredths(entity: &str) -> Option<i128> {
    match entity {
        "M-HK" | "M-JP" => Some(10),
        "M-SG" => Some(7),
        _ => None,
    }
}

/// The taxes on `gross` minor units paid after 2021-08-31 to an offshore member at `income_tax`
/// hundredths: (VAT, income tax). The interest without VAT is `gross ÷ 1.06` rounded half-even,
/// the VAT the rest; the income tax is on the interest without VAT, rounded half-even.
fn taxes_2026(gross: i128, income_tax: i128) -> (i128, i128) {
    let without_vat = half_even(gross * 100, 106);
    (gross - without_vat, half_even(without_vat * income_tax, 100))
}

/// The accrual the model expects: (interest, withholding_tax, net) printed.
fn expected(entity: &str, gross: i128) -> (String, String, String) {
    let tax = match income_tax_hundredths(entity) {
        Some(income_tax) if gross > 0 => {
            let (vat, income_tax) = taxes_2026(gross, income_tax);
            vat + income_tax
        }
        _ => 0,
    };
    let show = |minor: i128| Decimal::from_i128_with_scale(minor, 2).to_string();
    (show(gross), show(tax), show(gross - tax))
}

/// A constant-balance segment of the model: `(start, end, balance in minor units)`.
type Segment<'a> = (&'a str, &'a str, i128);
/// A member of the model: its entity and segments.
type Member<'a> = (&'a str, Vec<Segment<'a>>);

/// Checks the ledger's accruals against the model, for `(entity, segments)`; for members without
/// tax, also that `interest + residue` is the exact interest.
fn check_accruals(case: &str, run: &InterestRun, terms: &Terms, members: &[Member]) {
    let mut want = BTreeMap::new();
    for (entity, segments) in members {
        let (numerator, denominator) = exact(terms, segments);
        if numerator == 0 {
            continue;
        }
        let gross = half_even(numerator, denominator);
        want.insert(entity.to_string(), expected(entity, gross));
        let accrual = run.accruals.iter().find(|a| a.entity == *entity).unwrap_or_else(|| panic!("{case}: {entity}"));
        if accrual.withholding_tax.is_zero() {
            // (interest + residue) × 100 × denominator = numerator, within Decimal's 28 digits.
            let ledger_exact = (accrual.interest + accrual.residue) * Decimal::ONE_HUNDRED;
            let diff = ledger_exact * Decimal::from_i128_with_scale(denominator, 0)
                - Decimal::from_i128_with_scale(numerator, 0);
            assert!(diff.abs() < dec("0.000001"), "{case}: {entity}: {accrual:?} vs {numerator}/{denominator}");
        }
    }
    assert_eq!(accruals(run), want, "{case}");
}

/// The default positions as model members, constant over `[from, to)`.
fn default_members<'a>(from: &'a str, to: &'a str) -> Vec<Member<'a>> {
    vec![
        ("M-SZ", vec![(from, to, 100_000_000)]),
        ("M-BJ", vec![(from, to, -50_000_000)]),
        ("M-HK", vec![(from, to, 100_000_000)]),
        ("M-SG", vec![(from, to, -50_000_000)]),
    ]
}

// ---------------------------------------------------------------------------------------------
// Accrual
// ---------------------------------------------------------------------------------------------

/// (from, to, actual days, 30/360 days, 30E/360 days), worked by hand.
const PERIODS: [(&str, &str, i128, i128, i128); 4] = [
    ("2026-03-01", "2026-04-01", 31, 30, 30),
    ("2026-03-15", "2026-03-31", 16, 16, 15), // bond basis keeps D2 = 31 (D1 < 30)
    ("2026-02-28", "2026-03-31", 31, 33, 32), // no February rule: 30 + (31 - 28), 30 + (30 - 28)
    ("2026-03-30", "2026-05-31", 62, 60, 60), // D1 = 30: D2 31 -> 30 in both
];

#[test]
fn the_model_day_counts_are_the_hand_worked_ones() {
    for (from, to, actual, bond, euro) in PERIODS {
        let (from, to) = (d(from), d(to));
        assert_eq!(day_count("ACT/360", from, to), (actual, 360));
        assert_eq!(day_count("ACT/365F", from, to), (actual, 365));
        assert_eq!(day_count("30/360", from, to), (bond, 360));
        assert_eq!(day_count("30E/360", from, to), (euro, 360));
    }
}

#[test]
fn a_constant_position_accrues_by_each_day_count() {
    for convention in ["ACT/360", "ACT/365F", "30/360", "30E/360"] {
        let (_, ledger) = with_default_positions(&interest_rule(convention, "3.65", "7.30", &[]));
        let terms = terms(convention, "3.65", "7.30", &[]);
        for (from, to, ..) in PERIODS {
            let outcome = accrue(&ledger, from, to);
            assert_eq!((outcome.run.from, outcome.run.to), (d(from), d(to)));
            check_accruals(&format!("{convention} [{from}, {to})"), &outcome.run, &terms, &default_members(from, to));
        }
    }
}

#[test]
fn act_365f_figures_by_hand() {
    // 3.65 % on 1,000,000.00 and 7.30 % on 500,000.00 are 100.00 a day under ACT/365F.
    // M-HK: 3,100.00 / 1.06 = 2,924.5283… -> 2,924.53 without VAT, VAT 175.47; income tax
    // 10 % of 2,924.53 = 292.453 -> 292.45; withheld 467.92, net 2,632.08.
    let (_, ledger) = with_default_positions(&interest_rule("ACT/365F", "3.65", "7.30", &[]));
    let run = accrue(&ledger, "2026-03-01", "2026-04-01").run;
    assert_eq!(taxes_2026(310_000, 10), (17_547, 29_245), "the model agrees with the hand");
    let want = BTreeMap::from([
        ("M-BJ".to_string(), ("-3100.00".to_string(), "0.00".to_string(), "-3100.00".to_string())),
        ("M-HK".to_string(), ("3100.00".to_string(), "467.92".to_string(), "2632.08".to_string())),
        ("M-SG".to_string(), ("-3100.00".to_string(), "0.00".to_string(), "-3100.00".to_string())),
        ("M-SZ".to_string(), ("3100.00".to_string(), "0.00".to_string(), "3100.00".to_string())),
    ]);
    assert_eq!(accruals(&run), want);
}

#[test]
fn tiers_split_the_position_into_bands() {
    let tiers = [("200000.00", "2.00", "5.00"), ("800000.00", "3.00", "4.00")];
    let (_, ledger) = with_default_positions(&interest_rule("ACT/365F", "1.00", "6.00", &tiers));
    // Over 365 days (ACT/365F: one year):
    //   M-SZ +1,000,000.00: 200,000 × 1 % + 600,000 × 2 % + 200,000 × 3 % = 2,000 + 12,000 + 6,000 = 20,000.00
    //   M-BJ   -500,000.00: 200,000 × 6 % + 300,000 × 5 %                  = 12,000 + 15,000       = 27,000.00 paid
    //   M-HK as M-SZ, less VAT 20,000.00 - 18,867.92 (20,000.00 / 1.06 = 18,867.9245…) = 1,132.08
    //   and 10 % income tax on 18,867.92 = 1,886.792 -> 1,886.79: 3,018.87 withheld; M-SG as M-BJ.
    let run = accrue(&ledger, "2026-03-01", "2027-03-01").run;
    let want = BTreeMap::from([
        ("M-BJ".to_string(), ("-27000.00".to_string(), "0.00".to_string(), "-27000.00".to_string())),
        ("M-HK".to_string(), ("20000.00".to_string(), "3018.87".to_string(), "16981.13".to_string())),
        ("M-SG".to_string(), ("-27000.00".to_string(), "0.00".to_string(), "-27000.00".to_string())),
        ("M-SZ".to_string(), ("20000.00".to_string(), "0.00".to_string(), "20000.00".to_string())),
    ]);
    assert_eq!(accruals(&run), want);
    let terms = terms("ACT/365F", "1.00", "6.00", &tiers);
    assert_eq!(weighted(&terms, 100_000_000), 2_000_000_000_000, "20,000.00 a year, in cents × 10^-4 %");
    for (from, to, ..) in PERIODS {
        let run = accrue(&ledger, from, to).run;
        check_accruals(&format!("tiers [{from}, {to})"), &run, &terms, &default_members(from, to));
    }
}

#[test]
fn a_position_changing_mid_period_accrues_piecewise() {
    for convention in ["ACT/360", "ACT/365F", "30/360", "30E/360"] {
        let (_, ledger) = ledger(&interest_rule(convention, "3.65", "7.30", &[]));
        move_positions(&ledger, OPENED, &[("SZ-OPS", "1000000.00"), ("BJ-OPS", "-500000.00")]);
        // Day 10: M-SZ lends 500,000.00 more; day 20: M-BJ turns from debit to credit.
        move_positions(&ledger, "2026-03-10", &[("SZ-OPS", "500000.00")]);
        move_positions(&ledger, "2026-03-20", &[("BJ-OPS", "750000.00")]);
        assert_eq!(positions(&ledger, None), position_map(&[("M-BJ", "250000.00"), ("M-SZ", "1500000.00")]));
        let run = accrue(&ledger, "2026-03-01", "2026-04-01").run;
        let members = vec![
            ("M-SZ", vec![("2026-03-01", "2026-03-10", 100_000_000), ("2026-03-10", "2026-04-01", 150_000_000)]),
            ("M-BJ", vec![("2026-03-01", "2026-03-20", -50_000_000), ("2026-03-20", "2026-04-01", 25_000_000)]),
        ];
        check_accruals(convention, &run, &terms(convention, "3.65", "7.30", &[]), &members);
        if convention == "ACT/365F" {
            // M-SZ: 9 days × 100.00 + 22 days × 150.00 = 4,200.00
            // M-BJ: 19 days × -100.00 (7.30 % on 500,000.00) + 12 days × 25.00 (3.65 % on 250,000.00) = -1,600.00
            let got = accruals(&run);
            assert_eq!(got["M-SZ"].0, "4200.00");
            assert_eq!(got["M-BJ"].0, "-1600.00");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Settlement
// ---------------------------------------------------------------------------------------------

#[test]
fn settlement_books_gross_tax_and_net() {
    let (_, ledger) = with_default_positions(&interest_rule("ACT/365F", "3.65", "7.30", &[]));
    let outcome = settle(&ledger, "2026-03-01", "2026-04-01");
    assert!(outcome.run.rounding.is_empty(), "{outcome:?}");
    let txs = transactions(&ledger);
    // (entity, postings): the net into the position, the gross against SYS-INTEREST, the income tax
    // to SYS-WHT, the VAT to SYS-WHT-VAT (no surcharge in 2026).
    let want: [(&str, &[(&str, &str)]); 4] = [
        ("M-SZ", &[("SYS-IC-M-SZ", "3100.00"), ("SYS-INTEREST", "-3100.00")]),
        ("M-BJ", &[("SYS-IC-M-BJ", "-3100.00"), ("SYS-INTEREST", "3100.00")]),
        (
            "M-HK",
            &[
                ("SYS-IC-M-HK", "2632.08"),
                ("SYS-INTEREST", "-3100.00"),
                ("SYS-WHT", "292.45"),
                ("SYS-WHT-VAT", "175.47"),
            ],
        ),
        ("M-SG", &[("SYS-IC-M-SG", "-3100.00"), ("SYS-INTEREST", "3100.00")]),
    ];
    for (entity, postings) in want {
        let id = format!("INT-2026030120260401-{entity}-CNY");
        let tx = txs.get(&id).unwrap_or_else(|| panic!("no transaction {id}"));
        assert_eq!((tx.purpose, tx.value_date), (Purpose::Interest, d("2026-03-31")), "{id}");
        let mut got: Vec<(String, String)> = tx
            .postings
            .iter()
            .inspect(|p| assert_eq!(p.currency, cny()))
            .map(|p| (p.account.clone(), p.amount.to_string()))
            .collect();
        got.sort();
        let want: Vec<(String, String)> = postings.iter().map(|(a, m)| (a.to_string(), m.to_string())).collect();
        assert_eq!(got, want, "{id}");
    }
    assert_eq!(txs.values().filter(|tx| tx.purpose == Purpose::Interest).count(), 4);
    assert_eq!(balance(&ledger, "SYS-WHT"), dec("292.45"));
    assert_eq!(balance(&ledger, "SYS-WHT-VAT"), dec("175.47"));
    assert!(ledger.accounts().iter().all(|a| a.id != "SYS-WHT-SURCHARGES"), "no surcharge: its account is not opened");
    assert_eq!(balance(&ledger, "SYS-INTEREST"), dec("0.00"));
    assert_eq!(balance(&ledger, "SYS-ROUNDING"), dec("0.00"));
    // Positions grow by the net, from the last day of the period.
    let before =
        position_map(&[("M-BJ", "-500000.00"), ("M-HK", "1000000.00"), ("M-SG", "-500000.00"), ("M-SZ", "1000000.00")]);
    let after =
        position_map(&[("M-BJ", "-503100.00"), ("M-HK", "1002632.08"), ("M-SG", "-503100.00"), ("M-SZ", "1003100.00")]);
    assert_eq!(positions(&ledger, Some("2026-03-30")), before);
    assert_eq!(positions(&ledger, Some("2026-03-31")), after);
    assert_eq!(positions(&ledger, None), after);
    // The next period accrues on the capitalised positions: 1,003,100.00 × 3.65 % / 365 = 100.31 a day.
    let next = accrue(&ledger, "2026-04-01", "2026-04-02").run;
    assert_eq!(accruals(&next)["M-SZ"].0, "100.31");
}

#[test]
fn gross_is_rounded_half_even_once_per_member_and_currency() {
    // 0.45 % on 1,000.00 under ACT/360 is 0.0125 a day.
    let (_, ledger) = ledger(&interest_rule("ACT/360", "0.45", "0.00", &[]));
    move_positions(&ledger, OPENED, &[("SZ-OPS", "1000.00")]);
    // (period, interest, residue): once over the period, never day by day (31 × 0.01 = 0.31).
    let cases = [
        ("2026-03-01", "2026-04-01", "0.39", "-0.0025"), // 0.3875
        ("2026-03-01", "2026-03-11", "0.12", "0.005"),   // 0.125: the tie goes to the even 0.12
        ("2026-03-01", "2026-03-31", "0.38", "-0.005"),  // 0.375: the tie goes to the even 0.38
        ("2026-03-01", "2026-03-02", "0.01", "0.0025"),  // 0.0125
    ];
    for (from, to, interest, residue) in cases {
        let run = accrue(&ledger, from, to).run;
        assert_eq!(run.accruals.len(), 1, "{run:?}");
        let accrual = &run.accruals[0];
        assert_eq!((accrual.entity.as_str(), accrual.interest.to_string()), ("M-SZ", interest.to_string()));
        assert_eq!(accrual.residue, dec(residue), "[{from}, {to})");
        assert!(run.rounding.is_empty());
    }
    let outcome = settle(&ledger, "2026-03-01", "2026-04-01");
    assert!(outcome.run.rounding.is_empty());
    assert_eq!(positions(&ledger, None), position_map(&[("M-SZ", "1000.39")]));
    assert_eq!(balance(&ledger, "SYS-INTEREST"), dec("-0.39"));
    assert_eq!(balance(&ledger, "SYS-ROUNDING"), dec("0.00"));
}

#[test]
fn rounding_residues_reach_the_rounding_account_in_whole_minor_units() {
    // 30/360 makes every month [1st, next 1st) 30 days; 0.3003 % × 30 / 360 = 0.00025025 of the
    // position per month, so each month's exact interest is a terminating decimal.
    let (_, ledger) = ledger(&interest_rule("30/360", "0.3003", "0.00", &[]));
    move_positions(&ledger, "2025-12-31", &[("SZ-OPS", "10000.00")]);
    let terms = terms("30/360", "0.3003", "0.00", &[]);
    let months = [
        "2026-01-01",
        "2026-02-01",
        "2026-03-01",
        "2026-04-01",
        "2026-05-01",
        "2026-06-01",
        "2026-07-01",
        "2026-08-01",
        "2026-09-01",
    ];
    let mut position = cents("10000.00");
    let mut carry = 0i128; // model: in minor units × denominator
    let mut booked_total = 0i128; // model: minor units booked to SYS-ROUNDING
    let mut exact_total = (0i128, 0i128);
    let mut ledger_residues = Decimal::ZERO;
    let mut ledger_booked = Decimal::ZERO;
    let mut bookings = Vec::new();
    for pair in months.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        let (numerator, denominator) = exact(&terms, &[(from, to, position)]);
        let gross = half_even(numerator, denominator);
        carry += numerator - gross * denominator;
        // Whole minor units of the carry, towards zero.
        let whole = carry / denominator;
        carry -= whole * denominator;
        booked_total += whole;
        exact_total = (exact_total.0 + numerator, denominator);
        position += gross;

        let run = settle(&ledger, from, to).run;
        let case = format!("[{from}, {to})");
        check_accruals(&case, &run, &terms, &[("M-SZ", vec![(from, to, position - gross)])]);
        let want_rounding: Vec<(Currency, Decimal)> =
            if whole == 0 { Vec::new() } else { vec![(cny(), Decimal::from_i128_with_scale(whole, 2))] };
        assert_eq!(run.rounding, want_rounding, "{case}");
        // At the currency's minor units, as booked.
        assert!(run.rounding.iter().all(|(_, amount)| amount.scale() == 2), "{case}: {:?}", run.rounding);
        bookings.push(whole);
        ledger_residues += run.accruals.iter().map(|a| a.residue).sum::<Decimal>();
        ledger_booked += run.rounding.iter().map(|(_, amount)| *amount).sum::<Decimal>();
        let rounding_account = balance(&ledger, "SYS-ROUNDING");
        assert_eq!(rounding_account, Decimal::from_i128_with_scale(booked_total, 2), "{case}");
        assert_eq!(rounding_account.scale(), 2, "{case}: whole minor units only");
        assert_eq!(
            positions(&ledger, None),
            BTreeMap::from([("M-SZ".to_string(), Decimal::from_i128_with_scale(position, 2))])
        );
        // Σ posted (gross and rounding, all against SYS-INTEREST) + carry = Σ exact interest.
        let ledger_carry = ledger_residues - ledger_booked;
        assert_eq!(
            ledger_carry * Decimal::ONE_HUNDRED * Decimal::from_i128_with_scale(denominator, 0),
            Decimal::from_i128_with_scale(carry, 0),
            "{case}: carry"
        );
        let posted = -balance(&ledger, "SYS-INTEREST");
        assert_eq!(
            (posted + ledger_carry) * Decimal::ONE_HUNDRED * Decimal::from_i128_with_scale(denominator, 0),
            Decimal::from_i128_with_scale(exact_total.0, 0),
            "{case}: Σ posted + carry ≠ Σ exact"
        );
    }
    // Worked by hand: residues +0.0025, +0.003125625, +0.00375125, +0.004376875 reach 0.01375375 in
    // April (0.01 booked); the next months round up (251 cents) and the carry goes negative until
    // it passes -0.01 in August (-0.01 booked).
    assert_eq!(bookings, [0, 0, 0, 1, 0, 0, 0, -1]);
    assert_eq!(balance(&ledger, "SYS-ROUNDING"), dec("0.00"));
}

#[test]
fn withholding_tax_rounding_is_not_booked_as_interest_rounding() {
    // ACT/365F 3.65 % for 10 days: M-HK +1,320.00 earns exactly 1.32, M-SG +3,710.00 exactly 3.71:
    // no interest residue at all. Without VAT they are 1.32 / 1.06 = 1.2453… -> 1.25 and
    // 3.71 / 1.06 = 3.50 (VAT 0.07 and 0.21); their income taxes, 0.125 (10 %) and 0.245 (7 %),
    // round half-even to 0.12 and 0.24. The interest rounding carry stays zero, so nothing may
    // reach SYS-ROUNDING (booked against SYS-INTEREST) and Σ posted interest + carry = Σ exact
    // interest = 5.03.
    let (_, ledger) = ledger(&interest_rule("ACT/365F", "3.65", "7.30", &[]));
    move_positions(&ledger, OPENED, &[("HK-OPS", "1320.00"), ("SG-OPS", "3710.00")]);
    let run = settle(&ledger, "2026-03-01", "2026-03-11").run;
    let want = BTreeMap::from([
        ("M-HK".to_string(), ("1.32".to_string(), "0.19".to_string(), "1.13".to_string())),
        ("M-SG".to_string(), ("3.71".to_string(), "0.45".to_string(), "3.26".to_string())),
    ]);
    assert_eq!(accruals(&run), want);
    assert_eq!(balance(&ledger, "SYS-WHT"), dec("0.36"));
    assert_eq!(balance(&ledger, "SYS-WHT-VAT"), dec("0.28"));
    assert_eq!(run.rounding, Vec::<(Currency, Decimal)>::new(), "tax rounding booked as interest rounding");
    assert_eq!(balance(&ledger, "SYS-ROUNDING"), dec("0.00"));
    assert_eq!(-balance(&ledger, "SYS-INTEREST"), dec("5.03"));
}

// ---------------------------------------------------------------------------------------------
// Withholding: VAT, surcharges and income tax, dated
// ---------------------------------------------------------------------------------------------

/// The group with M-HK's older key removed (the national rules apply: 10 % income tax, 6 % VAT,
/// the surcharges until 2021-08-31) and M-SG's replaced by dated rows: the treaty's 7 % from
/// 2021-01-01, then, from 2021-09-15, 10 % and (hypothetically) no VAT.
fn dated_withholding_group(interest: &str) -> String {
    let hk = "id = \"M-HK\"\nname = \"Sweep Hong Kong\"\nresidence = \"offshore\"\nwithholding_tax_rate = \"0.10\"\n";
    let sg = "id = \"M-SG\"\nname = \"Sweep Singapore\"\nresidence = \"offshore\"\nwithholding_tax_rate = \"0.07\"\n";
    assert_eq!((GROUP.matches(hk).count(), GROUP.matches(sg).count()), (1, 1), "the fixture's entities");
    let group = GROUP.replace(hk, "id = \"M-HK\"\nname = \"Sweep Hong Kong\"\nresidence = \"offshore\"\n").replace(
        sg,
        "id = \"M-SG\"\nname = \"Sweep Singapore\"\nresidence = \"offshore\"\n\
             [[entity.withholding]]\neffective = \"2021-01-01\"\nincome_tax_rate = \"0.07\"\n\
             [[entity.withholding]]\neffective = \"2021-09-15\"\nincome_tax_rate = \"0.10\"\nvat_rate = \"0\"\n",
    );
    format!("{group}\n{POSITIONS}\n{interest}")
}

/// The taxes of each accrual: entity -> [income tax, VAT, urban maintenance, education, local education].
fn taxes_of(run: &InterestRun) -> BTreeMap<String, [String; 5]> {
    run.accruals
        .iter()
        .map(|a| {
            let t = &a.taxes;
            assert_eq!(t.total(), a.withholding_tax, "{a:?}");
            assert_eq!(a.net + a.withholding_tax, a.interest, "{a:?}");
            let taxes =
                [t.income_tax, t.vat, t.urban_maintenance_tax, t.education_surcharge, t.local_education_surcharge];
            (a.entity.clone(), taxes.map(|amount| amount.to_string()))
        })
        .collect()
}

fn owned<const N: usize>(rows: &[(&str, [&str; N])]) -> BTreeMap<String, [String; N]> {
    rows.iter().map(|(key, values)| (key.to_string(), values.map(str::to_string))).collect()
}

/// Every transaction's postings sum to zero in each currency, and every balance is the fold of
/// its postings (STYLE.md, the ledger's invariants).
fn check_the_fold(ledger: &Ledger) {
    let mut folded: BTreeMap<(String, Currency), Decimal> = BTreeMap::new();
    for tx in transactions(ledger).values() {
        let mut sums: BTreeMap<Currency, Decimal> = BTreeMap::new();
        for posting in &tx.postings {
            assert_eq!(posting.amount.scale(), posting.currency.minor_units(), "{}: at the minor units", tx.id);
            *sums.entry(posting.currency).or_default() += posting.amount;
            *folded.entry((posting.account.clone(), posting.currency)).or_default() += posting.amount;
        }
        assert!(sums.values().all(Decimal::is_zero), "{}: {sums:?}", tx.id);
    }
    folded.retain(|_, amount| !amount.is_zero());
    let balances: BTreeMap<(String, Currency), Decimal> = ledger
        .balances(None, None, None)
        .unwrap()
        .into_iter()
        .filter(|row| !row.balance.is_zero())
        .map(|row| ((row.account, row.currency), row.balance))
        .collect();
    assert_eq!(balances, folded);
}

#[test]
fn withholding_by_hand_with_dated_rates_and_its_booking() {
    // DOMAIN §5: a PRC payer of interest abroad withholds VAT (6 %, 财税〔2016〕36号), the surcharges
    // on it (7 %, 3 %, 2 %; none since 2021-09-01, 财政部 税务总局公告2021年第28号) and income tax
    // (10 % or the treaty's rate) on the interest without VAT (国家税务总局公告2013年第9号). The rates
    // are those in force on the settlement's value date, the last day of the period.
    // ACT/365F 3.65 % on 1,000,000.00 is 100.00 a day.
    let (storage, ledger) = {
        let storage = MemoryStorage::new();
        let config = dated_withholding_group(&interest_rule("ACT/365F", "3.65", "7.30", &[]));
        let ledger = Ledger::create(Box::new(storage.clone()), &config, at()).unwrap();
        (storage, ledger)
    };
    move_positions(&ledger, "2020-11-30", &[("HK-OPS", "1000000.00"), ("SG-OPS", "1000000.00")]);

    // December 2020 (31 days, 3,100.00 each): before M-SG's first row, both bear the national
    // rules. 3,100.00 / 1.06 = 2,924.5283… -> 2,924.53, VAT 175.47; income tax 10 % of 2,924.53 =
    // 292.453 -> 292.45; surcharges 175.47 × 7 % = 12.2829 -> 12.28, × 3 % = 5.2641 -> 5.26,
    // × 2 % = 3.5094 -> 3.51; withheld 488.97, net 2,611.03.
    let national_2020 = ["292.45", "175.47", "12.28", "5.26", "3.51"];
    let december = accrue(&ledger, "2020-12-01", "2021-01-01").run;
    assert_eq!(taxes_of(&december), owned(&[("M-HK", national_2020), ("M-SG", national_2020)]));
    let hk = ("3100.00".to_string(), "488.97".to_string(), "2611.03".to_string());
    assert_eq!(accruals(&december), BTreeMap::from([("M-HK".to_string(), hk.clone()), ("M-SG".to_string(), hk)]));

    // September 2021 (30 days, 3,000.00 each), value date 2021-09-30: no surcharge any more.
    // M-HK: 3,000.00 / 1.06 = 2,830.1886… -> 2,830.19, VAT 169.81, income tax 283.019 -> 283.02.
    // M-SG, its row of 2021-09-15: no VAT, 10 % of the whole 3,000.00 = 300.00.
    let september = accrue(&ledger, "2021-09-01", "2021-10-01").run;
    assert_eq!(
        taxes_of(&september),
        owned(&[
            ("M-HK", ["283.02", "169.81", "0.00", "0.00", "0.00"]),
            ("M-SG", ["300.00", "0.00", "0.00", "0.00", "0.00"])
        ])
    );

    // August 2021 (31 days), value date 2021-08-31: the surcharges still apply; M-SG bears the
    // treaty's 7 %: 2,924.53 × 7 % = 204.7171 -> 204.72; withheld 175.47 + 204.72 + 21.05 = 401.24.
    let accounts_before: Vec<String> = ledger.accounts().into_iter().map(|a| a.id).collect();
    for id in ["SYS-WHT-VAT", "SYS-WHT-SURCHARGES"] {
        assert!(!accounts_before.iter().any(|a| a == id), "{id} is opened by the first settlement that needs it");
    }
    let (head_before, _) = ledger.head();
    let august = settle(&ledger, "2021-08-01", "2021-09-01").run;
    assert_eq!(
        taxes_of(&august),
        owned(&[("M-HK", national_2020), ("M-SG", ["204.72", "175.47", "12.28", "5.26", "3.51"])])
    );
    assert_eq!(accruals(&august)["M-SG"], ("3100.00".to_string(), "401.24".to_string(), "2698.76".to_string()));
    // The tax accounts were opened in the settlement's commit, before its transactions.
    let kinds: Vec<String> = ledger
        .entries(head_before + 1)
        .map(|item| match item.unwrap().0.body {
            EntryBody::AccountOpened(spec) => format!("open {}", spec.id),
            EntryBody::Transaction(tx) => format!("tx {}", tx.id),
            EntryBody::InterestSettled(_) => "settled".to_string(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "open SYS-WHT-VAT",
            "open SYS-WHT-SURCHARGES",
            "tx INT-2021080120210901-M-HK-CNY",
            "tx INT-2021080120210901-M-SG-CNY",
            "settled"
        ]
    );
    // Gross against SYS-INTEREST, each tax to its account, the net into the position.
    let txs = transactions(&ledger);
    let mut postings: Vec<(String, String)> = txs["INT-2021080120210901-M-SG-CNY"]
        .postings
        .iter()
        .map(|p| (p.account.clone(), p.amount.to_string()))
        .collect();
    postings.sort();
    let want = [
        ("SYS-IC-M-SG", "2698.76"),
        ("SYS-INTEREST", "-3100.00"),
        ("SYS-WHT", "204.72"),
        ("SYS-WHT-SURCHARGES", "21.05"),
        ("SYS-WHT-VAT", "175.47"),
    ];
    assert_eq!(postings, want.map(|(a, m)| (a.to_string(), m.to_string())));
    assert_eq!(balance(&ledger, "SYS-WHT"), dec("497.17"));
    assert_eq!(balance(&ledger, "SYS-WHT-VAT"), dec("350.94"));
    assert_eq!(balance(&ledger, "SYS-WHT-SURCHARGES"), dec("42.10"));
    assert_eq!(balance(&ledger, "SYS-INTEREST"), dec("-6200.00"));
    assert_eq!(
        positions(&ledger, None),
        position_map(&[("M-HK", "1002611.03"), ("M-SG", "1002698.76")]),
        "the net is capitalised"
    );
    check_the_fold(&ledger);

    // The next settlement finds the accounts open and opens nothing.
    let (head_before, _) = ledger.head();
    settle(&ledger, "2021-09-01", "2021-10-01");
    assert!(ledger.entries(head_before + 1).all(|item| !matches!(item.unwrap().0.body, EntryBody::AccountOpened(_))));
    check_the_fold(&ledger);

    // The journal (export and store) replays to the same state.
    let digest = ledger.state_digest();
    let mut exported = Vec::new();
    audit::export_jsonl(&storage, &mut exported).unwrap();
    let text = String::from_utf8(exported.clone()).unwrap();
    assert!(text.contains("\"withholding\":[{"), "the rows are journaled with the definition");
    assert!(text.contains("\"taxes\":{"), "the taxes are journaled with the accruals");
    assert_eq!(audit::replay_journal(&mut exported.as_slice(), None).unwrap().state_digest, digest);
    let from_store = audit::replay_storage(&storage, None).unwrap();
    assert_eq!((from_store.state_digest, from_store.matches_store), (digest, Some(true)));
    drop(ledger);
    let reopened = Ledger::open(Box::new(storage)).unwrap();
    assert_eq!(reopened.state_digest(), digest);
    assert_eq!(reopened.interest(d("2021-08-01"), d("2021-09-01"), true, at()).unwrap().run, august);
}

// ---------------------------------------------------------------------------------------------
// Idempotence
// ---------------------------------------------------------------------------------------------

#[test]
fn a_period_is_settled_once_and_overlaps_are_refused() {
    let (_, ledger) = with_default_positions(&interest_rule("ACT/365F", "3.65", "7.30", &[]));
    let first = settle(&ledger, "2026-03-01", "2026-04-01");
    let state = || (ledger.state_digest(), ledger.head(), ledger.n_transactions());
    let settled = state();

    let again = ledger.interest(d("2026-03-01"), d("2026-04-01"), true, at()).unwrap();
    assert!(again.settled && again.already_settled, "{again:?}");
    assert_eq!(again.run, first.run);
    assert_eq!(state(), settled, "settling again wrote");

    for (from, to) in [
        ("2026-03-15", "2026-04-15"), // overlaps the end
        ("2026-02-01", "2026-03-02"), // overlaps the start
        ("2026-02-01", "2026-05-01"), // encloses it
        ("2026-03-10", "2026-03-20"), // inside it
        ("2026-03-01", "2026-03-31"), // same start, shorter
    ] {
        let result = cashpool_tests::refusal(ledger.interest(d(from), d(to), true, at()));
        assert!(matches!(result, Err(Rejection::Invalid { .. })), "[{from}, {to}): {result:?}");
        assert_eq!(state(), settled, "[{from}, {to}): a refused settlement wrote");
    }
    // An empty period is refused too.
    let result = cashpool_tests::refusal(ledger.interest(d("2026-05-01"), d("2026-05-01"), true, at()));
    assert!(matches!(result, Err(Rejection::Invalid { .. })), "{result:?}");
    assert_eq!(state(), settled);

    // Adjacent periods are fine; an accrual writes nothing and is what the settlement then posts.
    let planned = accrue(&ledger, "2026-04-01", "2026-05-01");
    assert_eq!(state(), settled);
    let posted = settle(&ledger, "2026-04-01", "2026-05-01");
    assert_eq!(posted.run, planned.run);
    let before = settle(&ledger, "2026-02-01", "2026-03-01");
    assert_eq!(before.run.accruals.len(), 4, "{before:?}"); // the positions opened on 02-27
}

// ---------------------------------------------------------------------------------------------
// Replay
// ---------------------------------------------------------------------------------------------

/// Sweeps and settlements with a rounding carry left over: 30/360, 0.3003 %.
fn history(ledger: &Ledger) {
    move_positions(ledger, "2025-12-31", &[("SZ-OPS", "10000.00"), ("BJ-OPS", "-5000.00"), ("HK-OPS", "7000.00")]);
    settle(ledger, "2026-01-01", "2026-02-01");
    move_positions(ledger, "2026-02-10", &[("SZ-OPS", "2500.00"), ("SG-OPS", "-1234.56")]);
    settle(ledger, "2026-02-01", "2026-03-01");
}

#[test]
fn replay_gives_the_same_digest_positions_and_balances() {
    let rule = interest_rule("30/360", "0.3003", "1.5005", &[]);
    let (storage, original) = ledger(&rule);
    history(&original);
    let digest = original.state_digest();
    let view = (positions(&original, None), original.balances(None, None, None).unwrap(), original.head());
    drop(original);

    let reopened = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(reopened.state_digest(), digest);
    assert_eq!((positions(&reopened, None), reopened.balances(None, None, None).unwrap(), reopened.head()), view);
    // The settled periods and sweep runs are known again.
    let again = reopened.interest(d("2026-01-01"), d("2026-02-01"), true, at()).unwrap();
    assert!(again.already_settled);
    assert!(cashpool_tests::refusal(reopened.interest(d("2026-01-15"), d("2026-02-15"), true, at())).is_err());
    assert!(reopened.sweep(d("2026-02-10"), false, at()).unwrap().already_run);
    assert_eq!(reopened.state_digest(), digest);

    let mut exported = Vec::new();
    audit::export_jsonl(&storage, &mut exported).unwrap();
    let replayed = audit::replay_journal(&mut exported.as_slice(), None).unwrap();
    assert_eq!(replayed.state_digest, digest);
    let from_store = audit::replay_storage(&storage, None).unwrap();
    assert_eq!((from_store.state_digest, from_store.matches_store), (digest, Some(true)));

    // The rounding carry survives the reopening: continuing on the reopened ledger ends where a
    // ledger that never closed ends.
    settle(&reopened, "2026-03-01", "2026-04-01");
    let (_, continuous) = ledger(&rule);
    history(&continuous);
    settle(&continuous, "2026-03-01", "2026-04-01");
    assert_eq!(reopened.state_digest(), continuous.state_digest());
    assert_eq!(positions(&reopened, None), positions(&continuous, None));
}
