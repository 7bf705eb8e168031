//! Multilateral netting: a hand-checked multi-currency cycle in both modes,
//! each exclusion reason, missing rates, the rounding residue, properties of
//! nets and settlements, a large generated cycle, and the invoices CSV parser
//! (a table of bad rows, whole-file error collection, fuzzing).

use std::collections::{BTreeMap, HashMap, HashSet};

use cashpool_files::invoices::*;
use cashpool_files::InputError;
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::{round_half_even, Currency};
use cashpool_ledger::netting::{CycleResult, Exclusion, Invoice, Mode, NettingError};
use cashpool_ledger::testing::{net_cycle, CycleInput};
use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const HEADER: &str = "id,payer,payee,currency,amount,due_date,purpose\n";
const NOVEMBER: &str = include_str!("fixtures/netting/november.csv");
const MIXED: &str = include_str!("fixtures/netting/mixed.csv");

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test date")
}

fn ccy(code: &str) -> Currency {
    Currency::from_code(code).expect("test currency")
}

fn usd() -> Currency {
    ccy("USD")
}

/// Parses invoice rows (without the header); they must all be good.
fn invoices(rows: &[&str]) -> Vec<Invoice> {
    let text = format!("{HEADER}{}\n", rows.join("\n"));
    let (invoices, errors) = parse_invoices_csv(&text);
    assert_eq!(errors, vec![], "test rows must parse");
    invoices
}

/// What a cycle needs besides the invoices, owned; [`Group::input`] borrows it.
struct Group {
    entities: Vec<String>,
    centre: String,
    settled: HashSet<String>,
    rates: BTreeMap<Currency, Decimal>,
    currency: Currency,
    date: NaiveDate,
    window_start: Option<NaiveDate>,
}

impl Group {
    fn new(entities: &[&str], centre: &str, rates: &[(&str, Decimal)]) -> Group {
        Group {
            entities: entities.iter().map(|e| e.to_string()).collect(),
            centre: centre.to_string(),
            settled: HashSet::new(),
            rates: rates.iter().map(|&(code, rate)| (ccy(code), rate)).collect(),
            currency: usd(),
            date: date("2026-11-30"),
            window_start: Some(date("2026-11-01")),
        }
    }

    fn input(&self, mode: Mode) -> CycleInput<'_> {
        CycleInput {
            cycle: "2026-11".to_string(),
            date: self.date,
            netting_currency: self.currency,
            entities: &self.entities,
            centre: &self.centre,
            window_start: self.window_start,
            already_settled: &self.settled,
            rates: &self.rates,
            mode,
        }
    }

    fn net(&self, mode: Mode, invoices: &[Invoice]) -> CycleResult {
        net_cycle(&self.input(mode), invoices).expect("cycle nets")
    }
}

fn positions(result: &CycleResult) -> Vec<(&str, String)> {
    result.positions.iter().map(|p| (p.entity.as_str(), p.net.to_string())).collect()
}

fn settlements(result: &CycleResult) -> Vec<(&str, &str, String)> {
    result.settlements.iter().map(|s| (s.from.as_str(), s.to.as_str(), s.amount.to_string())).collect()
}

fn excluded(result: &CycleResult) -> Vec<(&str, Exclusion)> {
    result.excluded.iter().map(|e| (e.invoice.as_str(), e.reason)).collect()
}

/// Checks the invariants every result must hold.
fn check_invariants(input: &CycleInput, result: &CycleResult) {
    let minor = input.netting_currency.minor_units();
    let total: Decimal = result.positions.iter().map(|p| p.net).sum();
    assert_eq!(total, Decimal::ZERO, "nets sum to zero");
    assert!(result.positions.windows(2).all(|w| w[0].entity < w[1].entity), "positions sorted, unique");
    assert!(result.positions.iter().all(|p| p.net.scale() == minor), "nets at the minor units");
    assert_eq!(result.gross.scale(), minor);
    let mut flow: HashMap<&str, Decimal> = HashMap::new();
    for s in &result.settlements {
        assert!(s.amount > Decimal::ZERO, "settlement amounts are positive: {s:?}");
        assert_eq!(s.amount.scale(), minor);
        assert_ne!(s.from, s.to);
        *flow.entry(s.from.as_str()).or_default() -= s.amount;
        *flow.entry(s.to.as_str()).or_default() += s.amount;
    }
    for p in &result.positions {
        assert_eq!(flow.remove(p.entity.as_str()).unwrap_or_default(), p.net, "{}: in − out = net", p.entity);
    }
    assert!(flow.values().all(Decimal::is_zero), "only entities with a position take part: {flow:?}");
    let nonzero = result.positions.iter().filter(|p| !p.net.is_zero()).count();
    match input.mode {
        Mode::Direct => assert!(result.settlements.len() <= nonzero.saturating_sub(1), "direct: at most n − 1"),
        Mode::Centre => {
            let mut seen = HashSet::new();
            for s in &result.settlements {
                let member = if s.from == input.centre { &s.to } else { &s.from };
                assert!(s.from == input.centre || s.to == input.centre, "centre: every payment via the centre");
                assert!(seen.insert(member.clone()), "centre: one payment per member ({member})");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// A hand-checked cycle
// ---------------------------------------------------------------------------

/// November: USD netting, centre SH, rates in USD per unit: EUR 1.10, CNY 0.14, JPY 0.0070.
///
/// ```text
/// N-01 HK → SH  1000.00 USD            = 1000.00
/// N-02 SH → DE  2000.00 EUR × 1.10     = 2200.00
/// N-03 DE → HK 10000.00 CNY × 0.14     = 1400.00
/// N-04 TK → SG   100000 JPY × 0.0070   =  700.00
/// N-05 SG → HK   500.00 EUR × 1.10     =  550.00
/// N-06 HK → TK  5000.00 CNY × 0.14     =  700.00
/// N-07 SG → SH   400.00 USD            =  400.00
///                                gross  = 6950.00
/// DE: +2200 − 1400          = +800.00
/// HK: +1400 + 550 − 1000 − 700 = +250.00
/// SG: +700 − 550 − 400      = −250.00
/// SH: +1000 + 400 − 2200    = −800.00
/// TK: +700 − 700            =    0.00   (a party, so listed)
/// US: no invoice            → not listed
/// centre: SH → DE 800, SH → HK 250, SG → SH 250 (TK has nothing to settle)
/// direct: exact pairs SH → DE 800 (largest first), SG → HK 250; no greedy step
/// ```
fn november() -> (Group, Vec<Invoice>) {
    let group = Group::new(
        &["DE", "HK", "SG", "SH", "TK", "US"],
        "SH",
        &[("EUR", dec!(1.10)), ("CNY", dec!(0.14)), ("JPY", dec!(0.0070)), ("GBP", dec!(1.27))],
    );
    let (invoices, errors) = parse_invoices_csv(NOVEMBER);
    assert_eq!(errors, vec![]);
    (group, invoices)
}

#[test]
fn november_fixture_parses() {
    let (_, invoices) = november();
    assert_eq!(invoices.len(), 7);
    assert_eq!(
        invoices[3],
        Invoice {
            line: 5,
            id: "N-04".into(),
            payer: "TK".into(),
            payee: "SG".into(),
            currency: ccy("JPY"),
            amount: dec!(100000),
            due_date: date("2026-11-30"),
            purpose: Purpose::CurrentAccount,
        }
    );
    assert_eq!(invoices[1].amount.to_string(), "2000.00");
}

#[test]
fn november_cycle_by_hand() {
    let (group, invoices) = november();
    let expected_positions = vec![
        ("DE", "800.00".to_string()),
        ("HK", "250.00".to_string()),
        ("SG", "-250.00".to_string()),
        ("SH", "-800.00".to_string()),
        ("TK", "0.00".to_string()),
    ];
    let s = |from, to, amount: &str| (from, to, amount.to_string());
    for (mode, expected_settlements) in [
        (Mode::Centre, vec![s("SH", "DE", "800.00"), s("SH", "HK", "250.00"), s("SG", "SH", "250.00")]),
        (Mode::Direct, vec![s("SH", "DE", "800.00"), s("SG", "HK", "250.00")]),
    ] {
        let result = group.net(mode, &invoices);
        assert_eq!(positions(&result), expected_positions, "{mode}");
        assert_eq!(settlements(&result), expected_settlements, "{mode}");
        assert_eq!(result.gross.to_string(), "6950.00");
        assert_eq!((result.invoices_netted, result.excluded.len()), (7, 0));
        assert_eq!((result.cycle.as_str(), result.date, result.currency), ("2026-11", date("2026-11-30"), usd()));
        check_invariants(&group.input(mode), &result);
    }
}

#[test]
fn november_cycle_serializes_as_the_contract_reads_it() {
    let (group, mut invoices) = november();
    invoices.extend(self::invoices(&["K-1,HK,SH,GBP,5.00,2026-11-02,pool_funding"]));
    let result = group.net(Mode::Direct, &invoices);
    let json = serde_json::to_value(&result).expect("serializes");
    assert_eq!(json["currency"], "USD");
    assert_eq!(json["date"], "2026-11-30");
    assert_eq!(json["positions"][0], serde_json::json!({"entity": "DE", "net": "800.00"}));
    assert_eq!(json["settlements"][1], serde_json::json!({"from": "SG", "to": "HK", "amount": "250.00"}));
    assert_eq!(json["excluded"][0], serde_json::json!({"invoice": "K-1", "reason": "capital_item"}));
    let back: CycleResult = serde_json::from_value(json).expect("deserializes");
    assert_eq!(back, result);
    let invoice_json = serde_json::to_string(&invoices[0]).expect("serializes");
    assert_eq!(serde_json::from_str::<Invoice>(&invoice_json).expect("deserializes"), invoices[0]);
}

/// Greedy direct settlement without exact pairs, all USD:
///
/// ```text
/// A −500, B −300, C +600, D +200 (centre H, no invoice of its own)
/// greedy: A → C 500 (C still 100); B → D 200 (largest receiver); B → C 100: three = n − 1
/// centre: A → H 500, B → H 300, H → C 600, H → D 200
/// ```
#[test]
fn greedy_direct_settlement_by_hand() {
    let group = Group::new(&["A", "B", "C", "D", "H"], "H", &[]);
    let invoices = invoices(&[
        "G-1,A,C,USD,500.00,2026-11-10,current_account",
        "G-2,B,C,USD,100.00,2026-11-10,current_account",
        "G-3,B,D,USD,200.00,2026-11-10,current_account",
    ]);
    let s = |from, to, amount: &str| (from, to, amount.to_string());
    for (mode, expected) in [
        (Mode::Direct, vec![s("A", "C", "500.00"), s("B", "D", "200.00"), s("B", "C", "100.00")]),
        (
            Mode::Centre,
            vec![s("A", "H", "500.00"), s("B", "H", "300.00"), s("H", "C", "600.00"), s("H", "D", "200.00")],
        ),
    ] {
        let result = group.net(mode, &invoices);
        assert_eq!(settlements(&result), expected, "{mode}");
        assert_eq!(positions(&result).last(), Some(&("H", "0.00".to_string())), "the centre is listed");
        check_invariants(&group.input(mode), &result);
    }
}

/// Direct mode: exact pairs go first (where greedy alone would split them),
/// and ties go by entity id: exact pairs of equal amounts pair in id order,
/// and the greedy step takes the lowest id among equal amounts.
#[test]
fn direct_mode_pairs_first_and_breaks_ties_by_entity_id() {
    let group = Group::new(&["A", "B", "C", "D", "E", "F", "G", "H"], "H", &[]);
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str, &'a str)]);
    let cases: &[Case] = &[
        // A −500, B −400; C +400, D +300, E +200. The exact pair B→C 400 first, then greedy
        // A→D 300, A→E 200: three payments. Greedy alone would make four (A→C 400, B→D 300,
        // A→E 100, B→E 100).
        (
            &[
                "T-1,A,C,USD,400.00,2026-11-10,current_account",
                "T-2,B,D,USD,300.00,2026-11-10,current_account",
                "T-3,B,E,USD,100.00,2026-11-10,current_account",
                "T-4,A,E,USD,100.00,2026-11-10,current_account",
            ],
            &[("B", "C", "400.00"), ("A", "D", "300.00"), ("A", "E", "200.00")],
        ),
        // B and A owe 100 each, D and C are owed 100 each: pairs A→C, B→D.
        (
            &["T-1,B,D,USD,100.00,2026-11-10,current_account", "T-2,A,C,USD,100.00,2026-11-10,current_account"],
            &[("A", "C", "100.00"), ("B", "D", "100.00")],
        ),
        // A −300; B +150, C +150 (no pair): A → B 150, then A → C 150.
        (
            &["T-1,A,C,USD,150.00,2026-11-10,current_account", "T-2,A,B,USD,150.00,2026-11-10,current_account"],
            &[("A", "B", "150.00"), ("A", "C", "150.00")],
        ),
        // A −50, B −50, C +100: no pair; A (lowest id) pays first.
        (
            &["T-1,B,C,USD,50.00,2026-11-10,current_account", "T-2,A,C,USD,50.00,2026-11-10,current_account"],
            &[("A", "C", "50.00"), ("B", "C", "50.00")],
        ),
    ];
    for (rows, expected) in cases {
        let result = group.net(Mode::Direct, &invoices(rows));
        let expected: Vec<(&str, &str, String)> = expected.iter().map(|&(f, t, a)| (f, t, a.to_string())).collect();
        assert_eq!(settlements(&result), expected, "{rows:?}");
    }
}

// ---------------------------------------------------------------------------
// Exclusions
// ---------------------------------------------------------------------------

#[test]
fn each_exclusion_reason() {
    use Exclusion::*;
    const OK: &str = "current_account";
    // (window start, invoice rows "id,payer,payee,due_date,purpose" in USD 10.00, excluded, invoices netted)
    type Case = (Option<&'static str>, &'static [&'static str], &'static [(&'static str, Exclusion)], usize);
    let cases: &[Case] = &[
        (Some("2026-11-01"), &["X,A,B,2026-11-10,pool_funding"], &[("X", CapitalItem)], 0),
        (Some("2026-11-01"), &["X,A,B,2026-11-10,fee"], &[("X", CapitalItem)], 0),
        (Some("2026-11-01"), &["X,Z,B,2026-11-10,OK"], &[("X", UnknownEntity)], 0),
        (Some("2026-11-01"), &["X,A,Z,2026-11-10,OK"], &[("X", UnknownEntity)], 0),
        (Some("2026-11-01"), &["X,A,A,2026-11-10,OK"], &[("X", SameEntity)], 0),
        (Some("2026-11-01"), &["X,A,B,2026-12-01,OK"], &[("X", OutsideWindow)], 0),
        (Some("2026-11-01"), &["X,A,B,2026-10-31,OK"], &[("X", OutsideWindow)], 0),
        (Some("2026-11-01"), &["X,A,B,2026-11-01,OK", "Y,A,B,2026-11-30,OK"], &[], 2),
        (None, &["X,A,B,2019-01-01,OK"], &[], 1),
        (None, &["X,A,B,2026-12-01,OK"], &[("X", OutsideWindow)], 0),
        (Some("2026-11-01"), &["X,A,B,2026-11-10,OK", "X,B,A,2026-11-10,OK"], &[("X", DuplicateInvoice)], 1),
        (
            Some("2026-11-01"),
            &["X,A,B,2026-11-10,fee", "X,A,B,2026-11-10,OK", "X,A,B,2026-11-10,OK"],
            &[("X", CapitalItem), ("X", DuplicateInvoice), ("X", DuplicateInvoice)],
            0,
        ),
        (Some("2026-11-01"), &["OLD-1,A,B,2026-11-10,OK"], &[("OLD-1", AlreadySettled)], 0),
        // The first failing reason in the documented order wins.
        (Some("2026-11-01"), &["OLD-1,A,A,2027-01-01,fee"], &[("OLD-1", AlreadySettled)], 0),
        (Some("2026-11-01"), &["X,Z,Z,2027-01-01,fee"], &[("X", CapitalItem)], 0),
        (Some("2026-11-01"), &["X,Z,Z,2027-01-01,OK"], &[("X", UnknownEntity)], 0),
        (Some("2026-11-01"), &["X,A,A,2027-01-01,OK"], &[("X", SameEntity)], 0),
        (
            Some("2026-11-01"),
            &["X,A,B,2026-11-10,OK", "OLD-1,A,B,2027-01-01,fee", "X,Z,Z,2026-11-10,OK"],
            &[("OLD-1", AlreadySettled), ("X", DuplicateInvoice)],
            1,
        ),
    ];
    for &(window_start, rows, expected, netted) in cases {
        let mut group = Group::new(&["A", "B", "H"], "H", &[]);
        group.settled.insert("OLD-1".to_string());
        group.window_start = window_start.map(date);
        let rows: Vec<String> = rows
            .iter()
            .map(|row| {
                let f: Vec<&str> = row.split(',').collect();
                let purpose = if f[4] == "OK" { OK } else { f[4] };
                format!("{},{},{},USD,10.00,{},{purpose}", f[0], f[1], f[2], f[3])
            })
            .collect();
        let invoices = invoices(&rows.iter().map(String::as_str).collect::<Vec<_>>());
        for mode in [Mode::Centre, Mode::Direct] {
            let result = group.net(mode, &invoices);
            assert_eq!(excluded(&result), expected.to_vec(), "{rows:?}");
            assert_eq!(result.invoices_netted, netted, "{rows:?}");
            check_invariants(&group.input(mode), &result);
        }
    }
}

#[test]
fn nothing_to_net_gives_an_empty_cycle() {
    let group = Group::new(&["A", "B", "H"], "H", &[]);
    for invoices in [vec![], invoices(&["K,A,B,EUR,1.00,2026-11-02,pool_funding"])] {
        let result = group.net(Mode::Direct, &invoices);
        assert_eq!((result.positions.len(), result.settlements.len()), (0, 0));
        assert_eq!((result.gross.to_string(), result.invoices_netted), ("0.00".to_string(), 0));
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

#[test]
fn missing_rates_are_listed_together_and_sorted() {
    // Rates for CNY only; the GBP invoice is a capital item and needs none, USD is the netting currency.
    let group = Group::new(&["A", "B", "H"], "H", &[("CNY", dec!(0.14)), ("JPY", dec!(0)), ("EUR", dec!(-1.1))]);
    let invoices = invoices(&[
        "I-1,A,B,JPY,100,2026-11-10,current_account",
        "I-2,A,B,CNY,100.00,2026-11-10,current_account",
        "I-3,B,A,EUR,100.00,2026-11-10,current_account",
        "I-4,B,A,USD,100.00,2026-11-10,current_account",
        "I-5,B,A,SEK,100.00,2026-11-10,current_account",
        "I-6,B,A,GBP,100.00,2026-11-10,pool_funding",
        "I-7,B,A,CHF,100.00,2026-12-10,current_account",
    ]);
    let err = net_cycle(&group.input(Mode::Centre), &invoices).unwrap_err();
    // A rate that is not greater than zero counts as missing.
    assert_eq!(err, NettingError::MissingRates(vec![ccy("EUR"), ccy("JPY"), ccy("SEK")]));
    let message = err.to_string();
    assert!(message.starts_with("missing rates for the cycle date: EUR, JPY, SEK"), "{message}");
}

#[test]
fn the_netting_currency_needs_no_rate() {
    // Even a wrong USD entry in the map is ignored: USD is 1.
    let group = Group::new(&["A", "B", "H"], "H", &[("USD", dec!(2))]);
    let result = group.net(Mode::Centre, &invoices(&["I-1,A,B,USD,100.00,2026-11-10,current_account"]));
    assert_eq!(positions(&result), vec![("A", "-100.00".into()), ("B", "100.00".into()), ("H", "0.00".into())]);
}

#[test]
fn unknown_centre() {
    let group = Group::new(&["A", "B"], "H", &[]);
    let err = net_cycle(&group.input(Mode::Centre), &[]).unwrap_err();
    assert_eq!(err, NettingError::UnknownCentre("H".into()));
    assert!(err.to_string().contains("\"H\" is not an entity of the group"), "{err}");
}

#[test]
fn overflow_is_an_error_not_a_panic() {
    let row = ["I-1,A,B,EUR,1000000000000.00,2026-11-10,current_account"];
    // A product beyond the exact range.
    let group = Group::new(&["A", "B", "H"], "H", &[("EUR", Decimal::MAX)]);
    assert_eq!(net_cycle(&group.input(Mode::Direct), &invoices(&row)), Err(NettingError::Overflow));
    // Products that fit, but not their sum (callers may build invoices by hand, beyond the parser's limits).
    let group = Group::new(&["A", "B", "H"], "H", &[("EUR", dec!(1.499999999))]);
    let huge: Vec<Invoice> =
        (0..2).map(|n| Invoice { id: format!("I-{n}"), amount: Decimal::MAX, ..invoices(&row)[0].clone() }).collect();
    assert_eq!(net_cycle(&group.input(Mode::Direct), &huge[..1]), Err(NettingError::Overflow));
    assert_eq!(net_cycle(&group.input(Mode::Direct), &huge), Err(NettingError::Overflow));
}

// ---------------------------------------------------------------------------
// Rounding residue
// ---------------------------------------------------------------------------

/// EUR at 1.005 USD: each 1.00 EUR invoice is 1.005 USD exactly.
///
/// ```text
/// R-1 A → C 1.00 EUR = 1.005    R-2 B → C 1.00 EUR = 1.005    gross 2.010 → 2.01
/// exact: A −1.005, B −1.005, C +2.010
/// half-even: A −1.00, B −1.00, C +2.01: Σ = +0.01, so the centre gets −0.01
/// centre H (no invoice of its own): H −0.01, listed       centre C: C +2.00
/// ```
#[test]
fn the_rounding_residue_goes_to_the_centre() {
    let rows = ["R-1,A,C,EUR,1.00,2026-11-10,current_account", "R-2,B,C,EUR,1.00,2026-11-10,current_account"];
    let p = |entity, net: &str| (entity, net.to_string());
    let cases = [
        ("H", vec![p("A", "-1.00"), p("B", "-1.00"), p("C", "2.01"), p("H", "-0.01")]),
        ("C", vec![p("A", "-1.00"), p("B", "-1.00"), p("C", "2.00")]),
    ];
    for (centre, expected) in cases {
        let group = Group::new(&["A", "B", "C", "H"], centre, &[("EUR", dec!(1.005))]);
        for mode in [Mode::Centre, Mode::Direct] {
            let result = group.net(mode, &invoices(&rows));
            assert_eq!(positions(&result), expected, "centre {centre}, {mode}");
            assert_eq!(result.gross.to_string(), "2.01");
            check_invariants(&group.input(mode), &result);
        }
    }
}

#[test]
fn rates_with_many_decimals_stay_exact() {
    // 0.1234567890123456789 USD per CNY: products need 21 decimals; the sum is rounded once.
    let group = Group::new(&["A", "B", "H"], "H", &[("CNY", dec!(0.1234567890123456789)), ("KWD", dec!(3.25))]);
    let invoices = invoices(&[
        "I-1,A,B,CNY,99999999999.99,2026-11-10,current_account",
        "I-2,A,B,CNY,0.01,2026-11-10,current_account",
        "I-3,B,A,KWD,0.001,2026-11-10,current_account",
    ]);
    let result = group.net(Mode::Direct, &invoices);
    // 100000000000.00 × 0.1234567890123456789 = 12345678901.23456789 → 12345678901.23; minus 0.00325.
    assert_eq!(
        positions(&result),
        vec![("A", "-12345678901.23".into()), ("B", "12345678901.23".into()), ("H", "0.00".into())]
    );
    assert_eq!(result.gross.to_string(), "12345678901.24");
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

const CODES: [&str; 5] = ["USD", "EUR", "JPY", "CNY", "KWD"];

/// Invoices among `entities` entities E0.. (E0 is the centre; ids above the
/// group are unknown entities), in one of [`CODES`].
fn arb_invoices(entities: usize) -> impl Strategy<Value = Vec<Invoice>> {
    let row = (0..entities + 1, 0..entities + 1, 0..CODES.len(), 1i64..10_000_000, 0usize..10, 0u8..12);
    prop::collection::vec(row, 0..40).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(n, (payer, payee, code, mantissa, id, purpose))| {
                let currency = ccy(CODES[code]);
                let mut amount = Decimal::new(mantissa, currency.minor_units());
                amount.rescale(currency.minor_units());
                Invoice {
                    line: n as u64 + 2,
                    // A few repeated ids.
                    id: if id == 0 { "DUP".to_string() } else { format!("I-{n}") },
                    payer: format!("E{payer}"),
                    payee: format!("E{payee}"),
                    currency,
                    amount,
                    due_date: date("2026-11-01") + chrono::Days::new(u64::from(purpose) * 3),
                    purpose: if purpose == 0 { Purpose::PoolFunding } else { Purpose::CurrentAccount },
                }
            })
            .collect()
    })
}

fn arb_rates() -> impl Strategy<Value = Vec<Decimal>> {
    prop::collection::vec((1i64..100_000_000, 0u32..9), CODES.len())
        .prop_map(|rates| rates.into_iter().map(|(m, s)| Decimal::new(m, s)).collect())
}

/// The nets the cycle must give, from plain Decimal arithmetic (exact at these sizes).
fn reference_nets(input: &CycleInput, invoices: &[Invoice]) -> BTreeMap<String, Decimal> {
    let result = net_cycle(input, invoices).expect("nets");
    let excluded: HashSet<usize> = {
        // Excluded entries are in invoice order; walk both lists together.
        let mut out = HashSet::new();
        let mut next = result.excluded.iter().peekable();
        let mut seen = HashSet::new();
        for (idx, inv) in invoices.iter().enumerate() {
            let eligible = !seen.contains(&inv.id)
                && inv.purpose == Purpose::CurrentAccount
                && input.entities.contains(&inv.payer)
                && input.entities.contains(&inv.payee)
                && inv.payer != inv.payee
                && inv.due_date <= input.date
                && input.window_start.is_none_or(|start| inv.due_date >= start)
                && !input.already_settled.contains(&inv.id);
            seen.insert(inv.id.clone());
            if !eligible {
                assert_eq!(next.next().map(|e| e.invoice.as_str()), Some(inv.id.as_str()));
                out.insert(idx);
            }
        }
        assert!(next.next().is_none());
        out
    };
    let mut exact: BTreeMap<String, Decimal> = BTreeMap::new();
    for (idx, inv) in invoices.iter().enumerate() {
        if excluded.contains(&idx) {
            continue;
        }
        let rate = if inv.currency == input.netting_currency { Decimal::ONE } else { input.rates[&inv.currency] };
        let value = inv.amount * rate;
        *exact.entry(inv.payee.clone()).or_default() += value;
        *exact.entry(inv.payer.clone()).or_default() -= value;
    }
    exact.into_iter().map(|(entity, net)| (entity, round_half_even(net, input.netting_currency).rounded)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn nets_and_settlements_hold_their_invariants(
        entities in 2usize..8,
        invoices in arb_invoices(8),
        rates in arb_rates(),
        netting in 0..CODES.len(),
        direct in any::<bool>(),
    ) {
        let names: Vec<String> = (0..entities).map(|n| format!("E{n}")).collect();
        let mut group = Group::new(&[], "E0", &[]);
        group.entities = names;
        group.currency = ccy(CODES[netting]);
        group.rates = CODES.iter().zip(&rates).map(|(code, rate)| (ccy(code), *rate)).collect();
        group.settled.insert("I-3".to_string());
        group.date = date("2026-11-28");
        group.window_start = Some(date("2026-11-04"));
        let mode = if direct { Mode::Direct } else { Mode::Centre };
        let input = group.input(mode);
        let result = net_cycle(&input, &invoices).expect("nets");
        check_invariants(&input, &result);
        // Every member's net is its own exact net, rounded once; the centre takes the residue.
        let reference = reference_nets(&input, &invoices);
        for position in &result.positions {
            if position.entity != "E0" {
                prop_assert_eq!(Some(&position.net), reference.get(&position.entity), "{}", position.entity);
            }
        }
        for entity in reference.keys() {
            prop_assert!(result.positions.iter().any(|p| &p.entity == entity), "{} is listed", entity);
        }
        prop_assert_eq!(result.invoices_netted + result.excluded.len(), invoices.len());
    }
}

/// 100,000 invoices among 1,000 entities in four currencies: correctness only
/// (the timing is measured by `cashpool bench net`).
#[test]
fn a_large_cycle_nets_correctly() {
    let names: Vec<String> = (0..1000).map(|n| format!("ENT-{n:04}")).collect();
    let mut group =
        Group::new(&[], "ENT-0000", &[("EUR", dec!(1.0856)), ("CNY", dec!(0.140795)), ("JPY", dec!(0.006543))]);
    group.entities = names.clone();
    let codes = ["USD", "EUR", "CNY", "JPY"];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |bound: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };
    let invoices: Vec<Invoice> = (0..100_000)
        .map(|n| {
            let currency = ccy(codes[next(4) as usize]);
            let payer = next(1000) as usize;
            let payee = (payer + 1 + next(999) as usize) % 1000;
            Invoice {
                line: n + 2,
                id: format!("INV-{n:06}"),
                payer: names[payer].clone(),
                payee: names[payee].clone(),
                currency,
                amount: Decimal::new(1 + next(1_000_000_000) as i64, currency.minor_units()),
                due_date: date("2026-11-01") + chrono::Days::new(next(30)),
                purpose: Purpose::CurrentAccount,
            }
        })
        .collect();
    for mode in [Mode::Centre, Mode::Direct] {
        let input = group.input(mode);
        let result = net_cycle(&input, &invoices).expect("nets");
        assert_eq!(result.invoices_netted, 100_000);
        assert_eq!(result.positions.len(), 1000);
        check_invariants(&input, &result);
        let reference = reference_nets(&input, &invoices);
        for position in result.positions.iter().skip(1) {
            assert_eq!(Some(&position.net), reference.get(&position.entity), "{}", position.entity);
        }
    }
}

// ---------------------------------------------------------------------------
// The invoices CSV
// ---------------------------------------------------------------------------

#[test]
fn bad_rows_name_line_and_field() {
    // (row, field at fault, a fragment of the reason)
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("I-1,A,B,USD,-5.00,2026-11-02,current_account", Some("amount"), "is negative"),
        ("I-1,A,B,USD,0.00,2026-11-02,current_account", Some("amount"), "is zero"),
        ("I-1,A,B,USD,-0,2026-11-02,current_account", Some("amount"), "is zero"),
        ("I-1,A,B,USD,1e3,2026-11-02,current_account", Some("amount"), "exponent notation"),
        ("I-1,A,B,USD,\"1,000.00\",2026-11-02,current_account", Some("amount"), "thousands separators"),
        ("I-1,A,B,USD,+5,2026-11-02,current_account", Some("amount"), "drop the leading '+'"),
        ("I-1,A,B,USD,,2026-11-02,current_account", Some("amount"), "is empty"),
        ("I-1,A,B,USD,.5,2026-11-02,current_account", Some("amount"), "not a decimal"),
        ("I-1,A,B,JPY,100.5,2026-11-02,current_account", Some("amount"), "more decimals than JPY allows (0)"),
        ("I-1,A,B,USD,1.001,2026-11-02,current_account", Some("amount"), "more decimals than USD allows (2)"),
        ("I-1,A,B,USD,10000000000000000000,2026-11-02,current_account", Some("amount"), "too large"),
        ("I-1,A,B,usd,1.00,2026-11-02,current_account", Some("currency"), "upper case: USD"),
        ("I-1,A,B,XXX,1.00,2026-11-02,current_account", Some("currency"), "not an active ISO 4217 currency"),
        ("I-1,A,B,US,1.00,2026-11-02,current_account", Some("currency"), "not a currency code"),
        ("I-1,A,B,,1.00,2026-11-02,current_account", Some("currency"), "is empty"),
        ("I-1,A,B,USD,1.00,2026-02-30,current_account", Some("due_date"), "not a calendar date"),
        ("I-1,A,B,USD,1.00,02/11/2026,current_account", Some("due_date"), "not an ISO date"),
        ("I-1,A,B,USD,1.00,,current_account", Some("due_date"), "is empty"),
        ("I-1,A,B,USD,1.00,2026-11-02,salary", Some("purpose"), "unknown purpose \"salary\""),
        ("I-1,A,B,USD,1.00,2026-11-02,", Some("purpose"), "is empty; expected one of"),
        (",A,B,USD,1.00,2026-11-02,current_account", Some("id"), "is empty"),
        ("I 1,A,B,USD,1.00,2026-11-02,current_account", Some("id"), "contains ' '"),
        ("\"I,1\",A,B,USD,1.00,2026-11-02,current_account", Some("id"), "contains ','"),
        ("I-1,,B,USD,1.00,2026-11-02,current_account", Some("payer"), "is empty"),
        ("I-1,A,B C,USD,1.00,2026-11-02,current_account", Some("payee"), "contains ' '"),
        ("I-1,A,B,USD,1.00,2026-11-02", None, "expected 7 fields"),
        ("I-1,A,B,USD,1.00,2026-11-02,current_account,extra", None, "found 8"),
    ];
    for &(row, field, fragment) in cases {
        let text = format!("{HEADER}{row}\n");
        let (invoices, errors) = parse_invoices_csv(&text);
        assert_eq!(invoices, vec![], "{row}");
        assert_eq!(errors.len(), 1, "{row}: {errors:?}");
        assert_eq!((errors[0].line, errors[0].field.as_deref()), (2, field), "{row}");
        assert!(errors[0].reason.contains(fragment), "{row}: {}", errors[0].reason);
    }
    // Long ids are cut, and the message says the limit.
    let long = format!("{HEADER}{},A,B,USD,1.00,2026-11-02,current_account\n", "I".repeat(65));
    assert!(parse_invoices_csv(&long).1[0].reason.contains("at most 64"));
}

#[test]
fn every_bad_row_is_reported_and_good_rows_returned() {
    // CRLF line ends and a blank line; line numbers are physical lines.
    let (invoices, errors) = parse_invoices_csv(MIXED);
    let good: Vec<(u64, &str)> = invoices.iter().map(|i| (i.line, i.id.as_str())).collect();
    assert_eq!(good, vec![(2, "G-1"), (5, "G-2"), (8, "G-3")]);
    assert_eq!(invoices[2].amount.to_string(), "710250");
    let found: Vec<(u64, Option<&str>)> = errors.iter().map(|e| (e.line, e.field.as_deref())).collect();
    assert_eq!(
        found,
        vec![
            (3, Some("amount")),
            (6, Some("currency")),
            (6, Some("due_date")),
            (6, Some("purpose")),
            (7, None),
            (9, Some("payer")),
            (9, Some("amount")),
        ]
    );
    let shown = errors[0].to_string();
    assert!(shown.starts_with("line 3, field `amount`: \"-100.00\" is negative"), "{shown}");
}

#[test]
fn whole_file_errors() {
    let cases: &[(&str, u64, &str)] = &[
        ("", 1, "the file is empty"),
        ("\n\n", 1, "the file is empty"),
        ("id,payer,payee,currency,amount,due_date\n", 1, "wrong header"),
        ("\nid,payee,payer,currency,amount,due_date,purpose\n", 2, "wrong header"),
        ("I-1,A,B,USD,1.00,2026-11-02,current_account\n", 1, "wrong header"),
    ];
    for &(text, line, fragment) in cases {
        let (invoices, errors) = parse_invoices_csv(text);
        assert_eq!(invoices, vec![], "{text:?}");
        assert_eq!(errors.len(), 1, "{text:?}: {errors:?}");
        assert_eq!((errors[0].line, errors[0].field.as_deref()), (line, None), "{text:?}");
        assert!(errors[0].reason.contains(fragment), "{text:?}: {}", errors[0].reason);
    }
    // A byte-order mark and a header alone are fine.
    assert_eq!(parse_invoices_csv(&format!("\u{feff}{HEADER}")), (vec![], vec![]));
}

fn never_panics(text: &str) -> (Vec<Invoice>, Vec<InputError>) {
    let (invoices, errors) = parse_invoices_csv(text);
    for invoice in &invoices {
        assert!(invoice.amount > Decimal::ZERO);
        assert_eq!(invoice.amount.scale(), invoice.currency.minor_units());
        assert!(invoice.line >= 2);
    }
    for error in &errors {
        assert!(error.line >= 1);
        assert!(!error.reason.is_empty());
    }
    (invoices, errors)
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics_the_parser(text in any::<String>()) {
        never_panics(&text);
        never_panics(&format!("{HEADER}{text}"));
    }

    #[test]
    fn csv_like_text_never_panics_the_parser(
        text in "([A-Za-z0-9_ .\"\r\n-]{0,12},){0,8}[A-Za-z0-9.\"\r\n-]{0,12}(\r?\n|\r)?",
        rows in prop::collection::vec("[A-Z0-9-]{0,4},[A-C ]{0,2},[A-C]{0,2},(USD|JPY|KWD|usd|XXX|),-?[0-9]{0,20}(\\.[0-9]{0,4})?,2026-(02|11)-(0[1-9]|30|31),(current_account|fee|x)", 0..6),
    ) {
        never_panics(&text);
        let (invoices, errors) = never_panics(&format!("{HEADER}{}\n{text}", rows.join("\n")));
        // Every row is either returned or reported.
        let bad_lines: HashSet<u64> = errors.iter().map(|e| e.line).collect();
        prop_assert!(invoices.iter().all(|i| !bad_lines.contains(&i.line)));
    }
}
