//! The pool rules of `docs/LIMITS.md` end to end, through the public API, on a
//! group with round numbers (`tests/fixtures/limits/round-group.toml`): every
//! boundary is exact and every expected figure is computed by hand in the
//! comment or the table next to it.
//!
//! Fixture figures: inflow cap 10,000,000.00 CNY, outflow cap 5,000,000.00 CNY
//! (from 2026-01-01, none before); USD 7 onshore and 7.1 offshore from
//! 2026-03-02 (`rates-march.csv`), 8 / 8.1 from 2026-06-01 and 7.25 / 7.35
//! from 2026-08-03 (`rates-summer.csv`); R-SZ's foreign-debt cap
//! 1,000,000.00 × 2 × 1.5 = 3,000,000.00; R-FTZ's 500,000.00 × 2 × 1.5 =
//! 1,500,000.00 or its facilitation quota (USD 500,000.00, USD 1,000,000.00
//! from 2026-05-01).
//!
//! Every refused post is checked to change nothing: the state digest, the
//! head, the transaction count and `limits()` now and at the value date.

use std::str::FromStr;

use cashpool_files::rates::{parse_rates_csv, parse_rates_csv_lines};
use cashpool_ledger::audit;
use cashpool_ledger::journal::EntryBody;
use cashpool_ledger::limits::{LimitsChange, LimitsView, PoolParameters};
use cashpool_ledger::model::{Classification, Purpose};
use cashpool_ledger::money::Currency;
use cashpool_ledger::rates::Market;
use cashpool_ledger::storage::MemoryStorage;
use cashpool_ledger::tx::{PostingRequest, RateRequest, TransactionRequest};
use cashpool_ledger::{BatchMode, FlowDirection, Ledger, LedgerError, Rejection};
use cashpool_tests::at;
use chrono::NaiveDate;
use rust_decimal::Decimal;

const GROUP: &str = include_str!("../fixtures/limits/round-group.toml");
const RATES_MARCH: &str = include_str!("../fixtures/limits/rates-march.csv");
const RATES_SUMMER: &str = include_str!("../fixtures/limits/rates-summer.csv");

const OPERATOR: &str = "limits-test";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn d(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn ccy(code: &str) -> Currency {
    Currency::from_code(code).unwrap()
}

/// A ledger on the round group, with the given rates files imported.
fn ledger_with(rates: &[&str]) -> (MemoryStorage, Ledger) {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), GROUP, at()).unwrap();
    for text in rates {
        import(&ledger, text);
    }
    (storage, ledger)
}

fn import(ledger: &Ledger, text: &str) {
    let (rows, errors) = parse_rates_csv(text, ccy("CNY"));
    assert!(errors.is_empty(), "{errors:?}");
    let import = ledger.import_rates(&rows, at()).unwrap();
    assert_eq!(import.new_rows, rows.len());
}

/// A two-posting movement `from` → `to`.
fn mv(
    id: &str,
    date: &str,
    from: &str,
    to: &str,
    currency: &str,
    amount: &str,
    purpose: Purpose,
) -> TransactionRequest {
    TransactionRequest::transfer(id, d(date), from, to, currency, dec(amount), purpose, "", "")
}

/// A foreign-debt drawdown from the external offshore lender into `to`.
fn loan(id: &str, date: &str, to: &str, currency: &str, amount: &str, term_days: u32) -> TransactionRequest {
    let mut tx = mv(id, date, "EXT-OFF", to, currency, amount, Purpose::ForeignDebt);
    tx.term_days = Some(term_days);
    tx.lender = Some("Offshore Lender Ltd".into());
    tx
}

/// A repayment of loan `loan_id` from `from` to the external offshore lender.
fn repay(id: &str, date: &str, from: &str, currency: &str, amount: &str, loan_id: &str) -> TransactionRequest {
    let mut tx = mv(id, date, from, "EXT-OFF", currency, amount, Purpose::LoanRepayment);
    tx.reference = loan_id.into();
    tx
}

/// What a post must give.
#[derive(Debug, Clone)]
enum Expect {
    /// Posted, recorded with this classification.
    Posted(Classification),
    /// Refused with exactly this rejection.
    Exactly(Rejection),
    /// Refused with reason `second_line` and this rule.
    SecondLine(&'static str),
    /// Refused with reason `invalid` on this field.
    Invalid(&'static str),
}

use Expect::Posted;

/// An amount as the refusal shows it (its scale is part of what is compared).
fn amount(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

fn limit(direction: &str, cap: &str, used: &str, requested: &str, headroom: &str) -> Expect {
    Expect::Exactly(Rejection::Limit {
        direction: match direction {
            "inflow" => FlowDirection::Inflow,
            "outflow" => FlowDirection::Outflow,
            other => panic!("no direction {other}"),
        },
        cap: amount(cap),
        used: amount(used),
        requested: amount(requested),
        headroom: amount(headroom),
    })
}

fn debt_limit(entity: &str, weighted: &str, cap: &str, requested: &str, headroom: &str) -> Expect {
    Expect::Exactly(Rejection::ForeignDebtLimit {
        entity: entity.into(),
        weighted: amount(weighted),
        cap: amount(cap),
        requested: amount(requested),
        headroom: amount(headroom),
    })
}

fn missing_rate(currency: &str, market: Market, date: &str) -> Expect {
    Expect::Exactly(Rejection::MissingRate { currency: ccy(currency), market, date: d(date) })
}

/// Everything a refused post must leave as it was.
#[derive(Debug, PartialEq)]
struct Snapshot {
    digest: cashpool_ledger::StateDigest,
    head: (u64, cashpool_ledger::journal::EntryHash),
    n_transactions: u64,
    limits_now: LimitsView,
    limits_then: LimitsView,
}

fn snapshot(ledger: &Ledger, date: NaiveDate) -> Snapshot {
    Snapshot {
        digest: ledger.state_digest(),
        head: ledger.head(),
        n_transactions: ledger.n_transactions(),
        limits_now: ledger.limits(None),
        limits_then: ledger.limits(Some(date)),
    }
}

/// The classification recorded in the journal for entry `seq`.
fn recorded_classification(ledger: &Ledger, seq: u64) -> Classification {
    let (entry, _) = ledger.entries(seq).next().expect("the entry exists").unwrap();
    assert_eq!(entry.seq, seq);
    match entry.body {
        EntryBody::Transaction(tx) => tx.classification,
        other => panic!("entry {seq} is not a transaction: {other:?}"),
    }
}

/// Posts `tx` and checks the outcome; a refused post must change nothing.
fn check(ledger: &Ledger, case: &str, tx: &TransactionRequest, expect: &Expect) {
    let before = snapshot(ledger, tx.value_date);
    let result = cashpool_tests::refusal(ledger.post(tx, OPERATOR, at()));
    match (expect, result) {
        (Expect::Posted(class), Ok(receipt)) => {
            assert!(!receipt.duplicate, "{case}: unexpectedly a duplicate");
            assert_eq!(recorded_classification(ledger, receipt.seq), *class, "{case}: recorded classification");
        }
        (Expect::Posted(class), Err(rejection)) => {
            panic!("{case}: expected to be posted as {}, refused: {rejection}", class.as_str())
        }
        (expect, Ok(receipt)) => panic!("{case}: expected {expect:?}, posted as entry {}", receipt.seq),
        (expect, Err(rejection)) => {
            match expect {
                Expect::Exactly(wanted) => {
                    assert_eq!(&rejection, wanted, "{case}");
                    // Equal decimals can differ in scale: the amounts as shown, too.
                    assert_eq!(rejection.to_string(), wanted.to_string(), "{case}");
                }
                Expect::SecondLine(rule) => match &rejection {
                    Rejection::SecondLine { rule: found, .. } => assert_eq!(found, rule, "{case}: {rejection}"),
                    _ => panic!("{case}: expected second_line ({rule}), got {rejection}"),
                },
                Expect::Invalid(field) => match &rejection {
                    Rejection::Invalid { field: found, .. } => assert_eq!(found, field, "{case}: {rejection}"),
                    _ => panic!("{case}: expected invalid `{field}`, got {rejection}"),
                },
                Expect::Posted(_) => unreachable!(),
            }
            assert_eq!(snapshot(ledger, tx.value_date), before, "{case}: a refused post changed the state");
        }
    }
}

/// The pool position from `limits`: + net inflow, − net outflow; checks the headrooms agree.
fn position(view: &LimitsView) -> Decimal {
    let (inflow, outflow) = (&view.inflow, &view.outflow);
    assert!(inflow.used.is_zero() || outflow.used.is_zero(), "{view:?}");
    assert_eq!(inflow.headroom, (inflow.cap - inflow.used).max(Decimal::ZERO), "{view:?}");
    assert_eq!(outflow.headroom, (outflow.cap - outflow.used).max(Decimal::ZERO), "{view:?}");
    inflow.used - outflow.used
}

fn cap_use(view: &LimitsView) -> [Decimal; 6] {
    let (i, o) = (&view.inflow, &view.outflow);
    [i.cap, i.used, i.headroom, o.cap, o.used, o.headroom]
}

fn decs<const N: usize>(texts: [&str; N]) -> [Decimal; N] {
    texts.map(dec)
}

/// (weighted, cap, headroom, facilitation quota, facilitation use) of an entity.
fn debt(view: &LimitsView, entity: &str) -> (Decimal, Decimal, Decimal, Option<Decimal>, Option<Decimal>) {
    let e = view.entities.iter().find(|e| e.entity == entity).unwrap_or_else(|| panic!("{entity} in {view:?}"));
    (e.foreign_debt_weighted, e.cap, e.headroom, e.facilitation_quota_usd, e.facilitation_used_usd)
}

fn pool_row(effective: &str, equity: &str, leverage: &str, parameter: &str, outflow: &str) -> LimitsChange {
    LimitsChange {
        effective: d(effective),
        pool: Some(PoolParameters {
            effective: d(effective),
            owners_equity: dec(equity),
            inflow_leverage: dec(leverage),
            inflow_parameter: dec(parameter),
            outflow_coefficient: dec(outflow),
        }),
        macro_prudential: None,
    }
}

fn macro_row(effective: &str, parameter: &str) -> LimitsChange {
    LimitsChange { effective: d(effective), pool: None, macro_prudential: Some(dec(parameter)) }
}

fn set_ok(ledger: &Ledger, change: LimitsChange) {
    let result = cashpool_tests::refusal(ledger.set_limits(change.clone(), at()));
    assert!(result.is_ok(), "{change:?}: {result:?}");
}

/// Sets `change` and expects it refused as `invalid` on `field`, with nothing changed.
fn set_refused(ledger: &Ledger, case: &str, change: LimitsChange, field: &str) {
    let effective = change.effective;
    let before = snapshot(ledger, effective);
    match cashpool_tests::refusal(ledger.set_limits(change, at())) {
        Err(Rejection::Invalid { field: found, .. }) => assert_eq!(found, field, "{case}"),
        other => panic!("{case}: expected invalid `{field}`, got {other:?}"),
    }
    assert_eq!(snapshot(ledger, effective), before, "{case}: a refused change changed the state");
}

// ---------------------------------------------------------------------------------------------
// 1. Classification
// ---------------------------------------------------------------------------------------------

#[test]
fn each_transaction_records_its_classification() {
    let (_storage, ledger) = ledger_with(&[RATES_MARCH]);
    let date = "2026-04-15";
    #[rustfmt::skip]
    let cases = [
        ("system accounts only", mv("C-SYS", date, "SYS-ROUNDING", "SYS-FEES", "CNY", "0.01", Purpose::Fee), Posted(Classification::Internal)),
        ("onshore ↔ onshore", mv("C-DOM", date, "R-DMA", "SZ-OPS", "CNY", "100.00", Purpose::PoolFunding), Posted(Classification::Domestic)),
        ("onshore ↔ onshore external", mv("C-DOM-EXT", date, "EXT-ON", "SZ-OPS", "USD", "100.00", Purpose::CurrentAccount), Posted(Classification::Domestic)),
        ("offshore ↔ offshore", mv("C-OFF", date, "HK-OPS", "R-IMA", "USD", "100.00", Purpose::PoolFunding), Posted(Classification::Offshore)),
        ("FT ↔ offshore", mv("C-FT-OFF", date, "FTZ-FTE", "HK-OPS", "USD", "100.00", Purpose::PoolFunding), Posted(Classification::FirstLine)),
        ("FT ↔ FT", mv("C-FT-FT", date, "FTZ-FTE", "HK-FTN", "USD", "100.00", Purpose::Other), Posted(Classification::FirstLine)),
        ("FT ↔ external offshore", mv("C-FT-EXT", date, "EXT-OFF", "HK-FTN", "CNY", "100.00", Purpose::CurrentAccount), Posted(Classification::FirstLine)),
        ("onshore ↔ offshore", mv("C-XB", date, "R-DMA", "R-IMA", "USD", "100.00", Purpose::CurrentAccount), Posted(Classification::CrossBorder)),
        ("onshore ↔ external offshore", mv("C-XB-EXT", date, "EXT-OFF", "SZ-OPS", "CNY", "100.00", Purpose::CurrentAccount), Posted(Classification::CrossBorder)),
        ("FT ↔ onshore", mv("C-2L", date, "FTZ-FTE", "FTZ-OPS", "CNY", "100.00", Purpose::CurrentAccount), Posted(Classification::SecondLine)),
        ("FT ↔ external onshore", mv("C-2L-EXT", date, "FTZ-FTE", "EXT-ON", "CNY", "100.00", Purpose::CurrentAccount), Posted(Classification::SecondLine)),
    ];
    for (case, tx, expect) in &cases {
        check(&ledger, case, tx, expect);
    }
    // Three zones in one transaction: FT with onshore is the second line whatever else it touches.
    let mut three = mv("C-3Z", date, "HK-OPS", "FTZ-FTE", "CNY", "100.00", Purpose::CurrentAccount);
    three.postings.push(PostingRequest { account: "FTZ-FTE".into(), currency: "CNY".into(), amount: dec("-100.00") });
    three.postings.push(PostingRequest { account: "FTZ-OPS".into(), currency: "CNY".into(), amount: dec("100.00") });
    check(&ledger, "offshore → FT → onshore", &three, &Posted(Classification::SecondLine));
    // None of these moved the pool's position.
    assert_eq!(position(&ledger.limits(None)), Decimal::ZERO);
}

// ---------------------------------------------------------------------------------------------
// 2. The second line
// ---------------------------------------------------------------------------------------------

#[test]
fn the_second_line_carries_only_cny_for_three_purposes() {
    let (_storage, ledger) = ledger_with(&[RATES_MARCH]);
    let date = "2026-04-15";
    let second_line = |id: &str, from: &str, to: &str, currency: &str, purpose: Purpose| {
        mv(id, date, from, to, currency, "1000.00", purpose)
    };
    #[rustfmt::skip]
    let cases = [
        ("CNY current_account FT → onshore", second_line("S1", "FTZ-FTE", "FTZ-OPS", "CNY", Purpose::CurrentAccount), Posted(Classification::SecondLine)),
        ("CNY loan_repayment FT → onshore", second_line("S2", "FTZ-FTE", "FTZ-OPS", "CNY", Purpose::LoanRepayment), Posted(Classification::SecondLine)),
        ("CNY real_investment onshore → FT", second_line("S3", "FTZ-OPS", "FTZ-FTE", "CNY", Purpose::RealInvestment), Posted(Classification::SecondLine)),
        ("CNY current_account to another member's onshore account", second_line("S4", "FTZ-FTE", "SZ-OPS", "CNY", Purpose::CurrentAccount), Posted(Classification::SecondLine)),
        ("USD current_account FT → onshore", second_line("S5", "FTZ-FTE", "FTZ-OPS", "USD", Purpose::CurrentAccount), Expect::SecondLine("currency")),
        ("USD loan_repayment onshore → FT", second_line("S6", "FTZ-OPS", "FTZ-FTE", "USD", Purpose::LoanRepayment), Expect::SecondLine("currency")),
        ("USD real_investment FT → onshore", second_line("S7", "FTZ-FTE", "FTZ-OPS", "USD", Purpose::RealInvestment), Expect::SecondLine("currency")),
        ("CNY pool_funding", second_line("S8", "FTZ-FTE", "FTZ-OPS", "CNY", Purpose::PoolFunding), Expect::SecondLine("purpose")),
        ("CNY overseas_lending", second_line("S9", "FTZ-OPS", "FTZ-FTE", "CNY", Purpose::OverseasLending), Expect::SecondLine("purpose")),
        ("CNY interest", second_line("S10", "FTZ-FTE", "FTZ-OPS", "CNY", Purpose::Interest), Expect::SecondLine("purpose")),
        ("CNY fee", second_line("S11", "FTZ-FTE", "FTZ-OPS", "CNY", Purpose::Fee), Expect::SecondLine("purpose")),
        ("CNY other", second_line("S12", "FTZ-FTE", "FTZ-OPS", "CNY", Purpose::Other), Expect::SecondLine("purpose")),
        ("CNY fx", second_line("S13", "FTZ-FTE", "FTZ-OPS", "CNY", Purpose::Fx), Expect::SecondLine("purpose")),
        ("USD pool_funding", second_line("S14", "FTZ-FTE", "FTZ-OPS", "USD", Purpose::PoolFunding), Expect::SecondLine("purpose")),
    ];
    for (case, tx, expect) in &cases {
        check(&ledger, case, tx, expect);
    }

    // USD 100.00 sold for CNY 710.00 on the FT account (CNH 7.1) ...
    let fx = |id: &str, purpose: Purpose, cny_to: &str| TransactionRequest {
        id: id.into(),
        value_date: d(date),
        purpose,
        reference: String::new(),
        memo: String::new(),
        postings: vec![
            PostingRequest { account: "FTZ-FTE".into(), currency: "USD".into(), amount: dec("-100.00") },
            PostingRequest { account: cny_to.into(), currency: "CNY".into(), amount: dec("710.00") },
        ],
        rate: Some(RateRequest { base: "USD".into(), quote: "CNY".into(), rate: dec("7.1") }),
        term_days: None,
        lender: None,
    };
    // ... is free on the first line (FT alone) ...
    check(
        &ledger,
        "FX on the FT account alone",
        &fx("S-FX-FT", Purpose::Fx, "FTZ-FTE"),
        &Posted(Classification::FirstLine),
    );
    // ... but with the CNY paid out to onshore in the same transaction, the USD leg sits on the second line.
    check(
        &ledger,
        "FX on FT, CNY to onshore (current_account)",
        &fx("S-FX-2L", Purpose::CurrentAccount, "FTZ-OPS"),
        &Expect::SecondLine("currency"),
    );
    check(
        &ledger,
        "FX on FT, CNY to onshore (fx)",
        &fx("S-FX-2L-FX", Purpose::Fx, "FTZ-OPS"),
        &Expect::SecondLine("purpose"),
    );
}

/// Issue 15, defect 1. The same-name rules (同名划转: current account, loan repayment, real
/// investment, RMB only) govern transfers between one entity's *own* FT and ordinary accounts;
/// between an FT account and another entity's ordinary account the flow is managed as
/// cross-border (银发〔2013〕244号: 居民自由贸易账户与境内区外的银行结算账户之间产生的资金流动
/// 视同跨境业务管理), the default of `pool.second_line_between_entities`. A pool's definition
/// may hold every transfer to the same-name rules instead (`"same_name"`).
#[test]
fn the_second_line_between_different_entities_is_cross_border() {
    let (_storage, ledger) = ledger_with(&[RATES_MARCH]);
    let date = "2026-04-15";
    let across = |id: &str, from: &str, to: &str, currency: &str, purpose: Purpose| {
        mv(id, date, from, to, currency, "1000.00", purpose)
    };
    #[rustfmt::skip]
    let cases = [
        ("USD current_account FT → another member's onshore account", across("X1", "FTZ-FTE", "SZ-OPS", "USD", Purpose::CurrentAccount), Posted(Classification::SecondLine)),
        ("USD current_account FT → an onshore customer", across("X2", "FTZ-FTE", "EXT-ON", "USD", Purpose::CurrentAccount), Posted(Classification::SecondLine)),
        ("CNY fee onshore member → FT of another", across("X3", "SZ-OPS", "FTZ-FTE", "CNY", Purpose::Fee), Posted(Classification::SecondLine)),
        // Still same-name: one entity's own accounts.
        ("USD current_account FT → own onshore account", across("X4", "FTZ-FTE", "FTZ-OPS", "USD", Purpose::CurrentAccount), Expect::SecondLine("currency")),
        ("CNY pool_funding FT → own onshore account", across("X5", "FTZ-FTE", "FTZ-OPS", "CNY", Purpose::PoolFunding), Expect::SecondLine("purpose")),
    ];
    for (case, tx, expect) in &cases {
        check(&ledger, case, tx, expect);
    }
    assert_eq!(position(&ledger.limits(None)), Decimal::ZERO, "current account and fees are not counted");
    // A pool movement between different entities across the line counts toward the caps like any
    // cross-border one: USD 1,000.00 into onshore at the onshore 7 = CNY 7,000.00 of inflow.
    check(
        &ledger,
        "USD pool_funding FT → another member's onshore account",
        &across("X6", "FTZ-FTE", "SZ-OPS", "USD", Purpose::PoolFunding),
        &Posted(Classification::SecondLine),
    );
    assert_eq!(position(&ledger.limits(None)), dec("7000.00"));

    // "same_name": every transfer across the line is held to the same-name rules.
    let strict = GROUP.replace(
        "netting_currency = \"USD\"\n",
        "netting_currency = \"USD\"\nsecond_line_between_entities = \"same_name\"\n",
    );
    assert_ne!(strict, GROUP);
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), &strict, at()).unwrap();
    import(&ledger, RATES_MARCH);
    #[rustfmt::skip]
    let cases = [
        ("USD current_account FT → another member's onshore account", across("Y1", "FTZ-FTE", "SZ-OPS", "USD", Purpose::CurrentAccount), Expect::SecondLine("currency")),
        ("CNY pool_funding FT → another member's onshore account", across("Y2", "FTZ-FTE", "SZ-OPS", "CNY", Purpose::PoolFunding), Expect::SecondLine("purpose")),
        ("CNY current_account FT → another member's onshore account", across("Y3", "FTZ-FTE", "SZ-OPS", "CNY", Purpose::CurrentAccount), Posted(Classification::SecondLine)),
    ];
    for (case, tx, expect) in &cases {
        check(&ledger, case, tx, expect);
    }
    // The choice is part of the journaled definition: a replay of the export gives the same state.
    let mut export = Vec::new();
    audit::export_jsonl(&storage, &mut export).unwrap();
    assert!(String::from_utf8_lossy(&export).contains("\"second_line_between_entities\":\"same_name\""));
    let replay = audit::replay_journal(&mut export.as_slice(), None).unwrap();
    assert_eq!(replay.state_digest, ledger.state_digest());
    // And the state snapshot keeps it: a store reopened from its snapshot judges alike.
    ledger.checkpoint().unwrap();
    let digest = ledger.state_digest();
    drop(ledger);
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(ledger.entries_after_snapshot(), 0, "opened from the snapshot");
    assert_eq!(ledger.state_digest(), digest);
    check(
        &ledger,
        "after reopening: USD current_account FT → another member's onshore account",
        &across("Y4", "FTZ-FTE", "SZ-OPS", "USD", Purpose::CurrentAccount),
        &Expect::SecondLine("currency"),
    );

    // An unknown rule names its key.
    let bad = GROUP.replace(
        "netting_currency = \"USD\"\n",
        "netting_currency = \"USD\"\nsecond_line_between_entities = \"never\"\n",
    );
    let error = Ledger::create(Box::new(MemoryStorage::new()), &bad, at()).err().expect("refused").to_string();
    assert!(error.contains("pool.second_line_between_entities: unknown rule \"never\""), "{error}");
}

/// Issue 15, defect 1: a sweep rule that can never run (a sweep is `pool_funding`, which the
/// same-name rules never let across) is refused when the group is defined, naming its key, instead
/// of failing every evening; a rule between different entities across the line runs and counts.
#[test]
fn a_sweep_rule_the_second_line_forbids_is_refused_at_init_and_one_it_allows_runs() {
    let sweep = |account: &str, into: &str| {
        format!(
            "\n[[sweep]]\naccount = \"{account}\"\ncurrency = \"CNY\"\ninto = \"{into}\"\nmethod = \"zero\"\ndirection = \"both\"\npriority = 1\n"
        )
    };
    let create = |text: String| Ledger::create(Box::new(MemoryStorage::new()), &text, at());
    // One entity's own FT and ordinary accounts (同名划转).
    let error = create(format!("{GROUP}{}", sweep("FTZ-FTE", "FTZ-OPS"))).err().expect("refused").to_string();
    assert!(error.contains("sweep[0].into: this rule can never run"), "{error}");
    assert!(error.contains("R-FTZ's own FT account and ordinary account"), "{error}");
    // Different entities under "same_name".
    let strict = GROUP.replace(
        "netting_currency = \"USD\"\n",
        "netting_currency = \"USD\"\nsecond_line_between_entities = \"same_name\"\n",
    );
    let error = create(format!("{strict}{}{}", sweep("HK-OPS", "R-IMA"), sweep("FTZ-FTE", "SZ-OPS")))
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("sweep[1].into: this rule can never run"), "{error}");
    assert!(!error.contains("sweep[0]"), "{error}");

    // Different entities under the default: FTZ-FTE (R-FTZ, FT) into SZ-OPS (R-SZ, onshore). Its
    // dry run and its run agree, it posts, and it counts toward the pool's caps (CNY 5,000.00 into
    // onshore is an inflow of 5,000.00).
    let ledger = create(format!("{GROUP}{}", sweep("FTZ-FTE", "SZ-OPS"))).unwrap();
    import(&ledger, RATES_MARCH);
    ledger
        .post(&mv("F1", "2026-04-15", "EXT-OFF", "FTZ-FTE", "CNY", "5000.00", Purpose::CurrentAccount), OPERATOR, at())
        .unwrap();
    let dry = ledger.sweep(d("2026-04-15"), true, at()).unwrap();
    let run = ledger.sweep(d("2026-04-15"), false, at()).unwrap();
    assert_eq!(dry.run, run.run);
    assert_eq!(run.run.sweeps.len(), 1, "{:?}", run.run);
    assert_eq!(run.run.sweeps[0].amount, dec("5000.00"));
    assert!(run.run.skipped.is_empty(), "{:?}", run.run);
    assert_eq!(position(&ledger.limits(None)), dec("5000.00"));
}

// ---------------------------------------------------------------------------------------------
// 3. The pool's cross-border caps
// ---------------------------------------------------------------------------------------------

#[test]
fn pool_caps_hold_to_the_minor_unit() {
    let (_storage, ledger) = ledger_with(&[RATES_MARCH, RATES_SUMMER]);
    let date = "2026-04-15"; // USD onshore 7 (the 2026-03-02 rate, the latest before)
    let inflow = |id: &str, ccy: &str, amount: &str| {
        let from = if ccy == "USD" { "R-IMA" } else { "HK-OPS" };
        mv(id, date, from, "R-DMA", ccy, amount, Purpose::PoolFunding)
    };
    let outflow =
        |id: &str, ccy: &str, amount: &str| mv(id, date, "R-DMA", "HK-OPS", ccy, amount, Purpose::PoolFunding);
    let cb = Posted(Classification::CrossBorder);
    // (case, transaction, outcome, pool position after: + net inflow, − net outflow)
    #[rustfmt::skip]
    let cases = [
        ("CNY inflow", inflow("P1", "CNY", "4000000.00"), cb.clone(), "4000000.00"),
        ("USD 600,000.00 inflow × 7 = 4,200,000.00", inflow("P2", "USD", "600000.00"), cb.clone(), "8200000.00"),
        ("CNY inflow to 0.01 under the cap", inflow("P3", "CNY", "1799999.99"), cb.clone(), "9999999.99"),
        ("USD 0.01 = CNY 0.07 over by 0.06", inflow("P4", "USD", "0.01"), limit("inflow", "10000000.00", "9999999.99", "0.07", "0.01"), "9999999.99"),
        ("CNY 0.01: exactly at the inflow cap", inflow("P5", "CNY", "0.01"), cb.clone(), "10000000.00"),
        ("CNY 0.01 over the inflow cap", inflow("P6", "CNY", "0.01"), limit("inflow", "10000000.00", "10000000.00", "0.01", "0.00"), "10000000.00"),
        ("USD 0.01 (0.07) over the inflow cap", inflow("P7", "USD", "0.01"), limit("inflow", "10000000.00", "10000000.00", "0.07", "0.00"), "10000000.00"),
        (
            "foreign_debt between pool accounts counts",
            {
                let mut tx = mv("P8", date, "HK-OPS", "SZ-OPS", "CNY", "0.01", Purpose::ForeignDebt);
                tx.term_days = Some(365);
                tx.lender = Some("R-HK".into());
                tx
            },
            limit("inflow", "10000000.00", "10000000.00", "0.01", "0.00"),
            "10000000.00",
        ),
        ("overseas_lending inbound counts", mv("P9", date, "HK-OPS", "R-DMA", "CNY", "0.01", Purpose::OverseasLending), limit("inflow", "10000000.00", "10000000.00", "0.01", "0.00"), "10000000.00"),
        ("current_account across the border does not count", mv("P10", date, "HK-OPS", "R-DMA", "CNY", "1000000.00", Purpose::CurrentAccount), cb.clone(), "10000000.00"),
        ("real_investment across the border does not count", mv("P11", date, "R-IMA", "SZ-OPS", "USD", "1000.00", Purpose::RealInvestment), cb.clone(), "10000000.00"),
        ("an external counterparty: not counted", mv("P12", date, "EXT-OFF", "R-DMA", "CNY", "1000000.00", Purpose::PoolFunding), cb.clone(), "10000000.00"),
        (
            "a pool movement with an external leg: not counted",
            TransactionRequest {
                postings: vec![
                    PostingRequest { account: "HK-OPS".into(), currency: "CNY".into(), amount: dec("-1000000.00") },
                    PostingRequest { account: "R-DMA".into(), currency: "CNY".into(), amount: dec("999999.00") },
                    PostingRequest { account: "EXT-ON".into(), currency: "CNY".into(), amount: dec("1.00") },
                ],
                ..mv("P13", date, "HK-OPS", "R-DMA", "CNY", "1.00", Purpose::PoolFunding)
            },
            cb.clone(),
            "10000000.00",
        ),
        ("offshore → FT (first line) does not count", mv("P14", date, "HK-OPS", "FTZ-FTE", "CNY", "1000000.00", Purpose::PoolFunding), Posted(Classification::FirstLine), "10000000.00"),
        ("FT → FT does not count", mv("P15", date, "HK-FTN", "FTZ-FTE", "USD", "1000000.00", Purpose::PoolFunding), Posted(Classification::FirstLine), "10000000.00"),
        ("onshore → onshore does not count", mv("P16", date, "SZ-OPS", "R-DMA", "CNY", "1000000.00", Purpose::PoolFunding), Posted(Classification::Domestic), "10000000.00"),
        ("offshore → offshore does not count", mv("P17", date, "HK-OPS", "R-IMA", "USD", "1000000.00", Purpose::PoolFunding), Posted(Classification::Offshore), "10000000.00"),
        ("a movement reducing the inflow is accepted", outflow("P18", "CNY", "3000000.00"), cb.clone(), "7000000.00"),
        ("USD outflow 0.01 = 0.07 reduces too", outflow("P19", "USD", "0.01"), cb.clone(), "6999999.93"),
        ("back to 7,000,000.00", inflow("P20", "CNY", "0.07"), cb.clone(), "7000000.00"),
        // The crossing movement: its outflow need is judged against the outflow cap with no outflow used yet.
        ("crossing to 0.01 over the outflow cap", outflow("P21", "CNY", "12000000.01"), limit("outflow", "5000000.00", "0.00", "12000000.01", "5000000.00"), "7000000.00"),
        ("crossing to exactly the outflow cap", outflow("P22", "CNY", "12000000.00"), cb.clone(), "-5000000.00"),
        ("CNY 0.01 over the outflow cap", outflow("P23", "CNY", "0.01"), limit("outflow", "5000000.00", "5000000.00", "0.01", "0.00"), "-5000000.00"),
        ("USD 0.01 (0.07) over the outflow cap", outflow("P24", "USD", "0.01"), limit("outflow", "5000000.00", "5000000.00", "0.07", "0.00"), "-5000000.00"),
        ("overseas_lending outbound counts", mv("P25", date, "SZ-OPS", "HK-OPS", "CNY", "0.01", Purpose::OverseasLending), limit("outflow", "5000000.00", "5000000.00", "0.01", "0.00"), "-5000000.00"),
        ("a movement reducing the outflow is accepted", inflow("P26", "CNY", "0.01"), cb.clone(), "-4999999.99"),
        ("the outflow headroom of 0.01 used exactly", outflow("P27", "CNY", "0.01"), cb.clone(), "-5000000.00"),
        ("current_account outbound does not count", mv("P28", date, "R-DMA", "HK-OPS", "CNY", "1000000.00", Purpose::CurrentAccount), cb.clone(), "-5000000.00"),
    ];
    for (case, tx, expect, after) in &cases {
        check(&ledger, case, tx, expect);
        assert_eq!(position(&ledger.limits(None)), dec(after), "{case}: position after");
    }
    let view = ledger.limits(None);
    assert_eq!(cap_use(&view), decs(["10000000.00", "0.00", "10000000.00", "5000000.00", "5000000.00", "0.00"]));
}

#[test]
fn pool_movements_convert_at_the_onshore_rate_of_the_value_date_or_the_latest_before() {
    let (_storage, ledger) = ledger_with(&[RATES_MARCH]);
    // Only onshore postings count; FT and offshore legs (CNH) never enter the figure.
    let usd_in =
        |id: &str, date: &str, amount: &str| mv(id, date, "R-IMA", "R-DMA", "USD", amount, Purpose::PoolFunding);
    let cb = Posted(Classification::CrossBorder);
    #[rustfmt::skip]
    let cases = [
        ("before any rate: missing_rate", usd_in("R1", "2026-03-01", "100.00"), missing_rate("USD", Market::Onshore, "2026-03-01"), "0.00"),
        ("an uncounted USD movement needs no rate", mv("R2", "2026-03-01", "R-IMA", "R-DMA", "USD", "100.00", Purpose::CurrentAccount), cb.clone(), "0.00"),
        ("CNY needs no rate", mv("R3", "2026-03-01", "HK-OPS", "R-DMA", "CNY", "100.00", Purpose::PoolFunding), cb.clone(), "100.00"),
        ("on the rate's date: × 7", usd_in("R4", "2026-03-02", "100.00"), cb.clone(), "800.00"),
        ("a later date, no row: the latest before (× 7)", usd_in("R5", "2026-05-29", "100.00"), cb.clone(), "1500.00"),
    ];
    for (case, tx, expect, after) in &cases {
        check(&ledger, case, tx, expect);
        assert_eq!(position(&ledger.limits(None)), dec(after), "{case}: position after");
    }
    import(&ledger, RATES_SUMMER);
    // Rows already imported with the same rate are skipped: a re-import writes nothing.
    let head = ledger.head();
    let (rows, _) = parse_rates_csv(RATES_MARCH, ccy("CNY"));
    let again = ledger.import_rates(&rows, at()).unwrap();
    assert_eq!((again.rows, again.new_rows, again.receipt, ledger.head()), (2, 0, None, head));
    // A row that would change an imported rate refuses the whole file, its new rows too.
    // The refusal names the row as given (rows already there are skipped
    // before the check, so the index is mapped back), and through the parse, its line.
    let text = "date,currency,market,rate\n2026-03-02,EUR,onshore,7.7\n2026-03-02,USD,offshore,7.1\n\n\
                2026-03-02,USD,onshore,7.5\n2026-09-01,USD,onshore,9\n";
    let (rows, lines, errors) = parse_rates_csv_lines(text, ccy("CNY"));
    assert_eq!((rows.len(), lines, errors.len()), (4, vec![2, 3, 5, 6], 0), "{errors:?}");
    let digest = ledger.state_digest();
    let conflict = match ledger.import_rates(&rows, at()) {
        Err(LedgerError::Refused(Rejection::RateConflict(conflict))) => conflict,
        other => panic!("changing an imported rate is refused: {other:?}"),
    };
    assert_eq!((conflict.row, conflict.existing, conflict.given), (2, dec("7"), dec("7.5")));
    assert_eq!((ledger.state_digest(), ledger.head()), (digest, head));
    assert_eq!(ledger.rate(ccy("USD"), Market::Onshore, d("2026-09-01")), Some((d("2026-08-03"), dec("7.25"))));
    #[rustfmt::skip]
    let cases = [
        ("the day before the new rate: still × 7", usd_in("R6", "2026-05-31", "100.00"), cb.clone(), "2200.00"),
        ("on the new rate's date: × 8, not the offshore 8.1", usd_in("R7", "2026-06-01", "100.00"), cb.clone(), "3000.00"),
        ("a later date: × 8", usd_in("R8", "2026-07-15", "100.00"), cb.clone(), "3800.00"),
        ("an outflow at × 8", mv("R9", "2026-07-15", "R-DMA", "R-IMA", "USD", "100.00", Purpose::PoolFunding), cb.clone(), "3000.00"),
        // 0.02 × 7.25 = 0.145 → 0.14 (half-even; half-up would give 0.15).
        ("half-even: 0.02 × 7.25 = 0.145 → 0.14", usd_in("R10", "2026-08-03", "0.02"), cb.clone(), "3000.14"),
        // 0.06 × 7.25 = 0.435 → 0.44 (half-even rounds to the even 4).
        ("half-even: 0.06 × 7.25 = 0.435 → 0.44", usd_in("R11", "2026-08-03", "0.06"), cb.clone(), "3000.58"),
    ];
    for (case, tx, expect, after) in &cases {
        check(&ledger, case, tx, expect);
        assert_eq!(position(&ledger.limits(None)), dec(after), "{case}: position after");
    }
    // Each posting is converted and rounded on its own: two onshore legs of 0.02 → 0.14 + 0.14.
    let two_legs = TransactionRequest {
        postings: vec![
            PostingRequest { account: "R-IMA".into(), currency: "USD".into(), amount: dec("-0.04") },
            PostingRequest { account: "R-DMA".into(), currency: "USD".into(), amount: dec("0.02") },
            PostingRequest { account: "SZ-OPS".into(), currency: "USD".into(), amount: dec("0.02") },
        ],
        ..usd_in("R12", "2026-08-03", "0.04")
    };
    check(&ledger, "two legs, each rounded", &two_legs, &cb);
    assert_eq!(position(&ledger.limits(None)), dec("3000.86"));
    // An FX pool movement: USD 100.00 out of onshore, CNY 810.00 in offshore at a deal rate of 8.1.
    // The onshore leg counts at the onshore rate of the day (8): −800.00, not −810.00.
    let fx = TransactionRequest {
        postings: vec![
            PostingRequest { account: "R-DMA".into(), currency: "USD".into(), amount: dec("-100.00") },
            PostingRequest { account: "HK-OPS".into(), currency: "CNY".into(), amount: dec("810.00") },
        ],
        rate: Some(RateRequest { base: "USD".into(), quote: "CNY".into(), rate: dec("8.1") }),
        ..usd_in("R13", "2026-07-15", "100.00")
    };
    check(&ledger, "an FX pool movement", &fx, &cb);
    assert_eq!(position(&ledger.limits(None)), dec("2200.86"));
}

#[test]
fn no_pool_row_in_force_means_a_zero_cap() {
    let (_storage, ledger) = ledger_with(&[]);
    #[rustfmt::skip]
    let cases = [
        ("inflow before the first row", mv("Z1", "2025-12-31", "HK-OPS", "R-DMA", "CNY", "0.01", Purpose::PoolFunding), limit("inflow", "0.00", "0.00", "0.01", "0.00")),
        ("outflow before the first row", mv("Z2", "2025-12-31", "R-DMA", "HK-OPS", "CNY", "0.01", Purpose::PoolFunding), limit("outflow", "0.00", "0.00", "0.01", "0.00")),
        ("uncounted before the first row", mv("Z3", "2025-12-31", "R-DMA", "HK-OPS", "CNY", "0.01", Purpose::CurrentAccount), Posted(Classification::CrossBorder)),
        ("inflow on the row's date", mv("Z4", "2026-01-01", "HK-OPS", "R-DMA", "CNY", "0.01", Purpose::PoolFunding), Posted(Classification::CrossBorder)),
    ];
    for (case, tx, expect) in &cases {
        check(&ledger, case, tx, expect);
    }
    assert_eq!(cap_use(&ledger.limits(Some(d("2025-12-31")))), decs(["0.00", "0.00", "0.00", "0.00", "0.00", "0.00"]));
    assert_eq!(
        cap_use(&ledger.limits(Some(d("2026-01-01")))),
        decs(["10000000.00", "0.01", "9999999.99", "5000000.00", "0.00", "5000000.00"])
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Parameter changes
// ---------------------------------------------------------------------------------------------

#[test]
fn a_parameter_cut_leaves_the_position_standing() {
    let (_storage, ledger) = ledger_with(&[RATES_MARCH]);
    let inflow =
        |id: &str, date: &str, amount: &str| mv(id, date, "HK-OPS", "R-DMA", "CNY", amount, Purpose::PoolFunding);
    let outflow =
        |id: &str, date: &str, amount: &str| mv(id, date, "R-DMA", "HK-OPS", "CNY", amount, Purpose::PoolFunding);
    let cb = Posted(Classification::CrossBorder);
    check(&ledger, "8,000,000.00 in under the 10,000,000.00 cap", &inflow("K1", "2026-04-15", "8000000.00"), &cb);

    // From 2026-05-01 the inflow parameter is 0.5: cap 10,000,000.00 × 1 × 0.5 = 5,000,000.00.
    set_ok(&ledger, pool_row("2026-05-01", "10000000.00", "1", "0.5", "0.5"));
    let now = ledger.limits(None);
    assert_eq!(cap_use(&now), decs(["5000000.00", "8000000.00", "0.00", "5000000.00", "0.00", "5000000.00"]));
    let before_cut = ledger.limits(Some(d("2026-04-30")));
    assert_eq!(
        cap_use(&before_cut),
        decs(["10000000.00", "8000000.00", "2000000.00", "5000000.00", "0.00", "5000000.00"])
    );
    assert_eq!(cap_use(&ledger.limits(Some(d("2026-05-01"))))[..3], decs(["5000000.00", "8000000.00", "0.00"]));
    assert_eq!(cap_use(&ledger.limits(Some(d("2026-04-14"))))[..3], decs(["10000000.00", "0.00", "10000000.00"]));

    #[rustfmt::skip]
    let cases = [
        ("over the cut cap: an increase is refused", inflow("K2", "2026-05-04", "0.01"), limit("inflow", "5000000.00", "8000000.00", "0.01", "0.00"), "8000000.00"),
        ("a decrease is accepted, still over", outflow("K3", "2026-05-04", "1000000.00"), cb.clone(), "7000000.00"),
        ("still over: an increase is refused", inflow("K4", "2026-05-04", "0.01"), limit("inflow", "5000000.00", "7000000.00", "0.01", "0.00"), "7000000.00"),
        // A value date before the cut is judged by the row in force then (10,000,000.00).
        ("value-dated before the cut: the old cap", inflow("K5", "2026-04-20", "1000000.00"), cb.clone(), "8000000.00"),
        ("value-dated before the cut, over the old cap", inflow("K6", "2026-04-20", "2000000.01"), limit("inflow", "10000000.00", "8000000.00", "2000000.01", "2000000.00"), "8000000.00"),
        ("value-dated before the cut, exactly the old cap", inflow("K7", "2026-04-20", "2000000.00"), cb.clone(), "10000000.00"),
        ("back under the cut cap in steps", outflow("K8", "2026-05-04", "5000000.00"), cb.clone(), "5000000.00"),
        ("at the cut cap: 0.01 more is refused", inflow("K9", "2026-05-04", "0.01"), limit("inflow", "5000000.00", "5000000.00", "0.01", "0.00"), "5000000.00"),
    ];
    for (case, tx, expect, after) in &cases {
        check(&ledger, case, tx, expect);
        assert_eq!(position(&ledger.limits(None)), dec(after), "{case}: position after");
    }
    // Position by value date: 04-15 +8M, 04-20 +1M +2M, 05-04 −1M −5M.
    assert_eq!(position(&ledger.limits(Some(d("2026-04-30")))), dec("11000000.00"));
    assert_eq!(cap_use(&ledger.limits(Some(d("2026-04-30"))))[2], Decimal::ZERO, "over the old cap at that date");

    // A row dated in the future: parameter 2 from 2026-12-01 (cap 20,000,000.00).
    set_ok(&ledger, pool_row("2026-12-01", "10000000.00", "1", "2", "0.5"));
    assert_eq!(cap_use(&ledger.limits(None))[..3], decs(["20000000.00", "5000000.00", "15000000.00"]));
    assert_eq!(cap_use(&ledger.limits(Some(d("2026-11-30"))))[..3], decs(["5000000.00", "5000000.00", "0.00"]));
    assert_eq!(cap_use(&ledger.limits(Some(d("2026-12-01"))))[..3], decs(["20000000.00", "5000000.00", "15000000.00"]));
    #[rustfmt::skip]
    let cases = [
        ("before the future row: the cut cap", inflow("K10", "2026-11-30", "0.01"), limit("inflow", "5000000.00", "5000000.00", "0.01", "0.00"), "5000000.00"),
        ("from the future row: the new cap", inflow("K11", "2026-12-01", "15000000.00"), cb.clone(), "20000000.00"),
        ("over the new cap", inflow("K12", "2026-12-01", "0.01"), limit("inflow", "20000000.00", "20000000.00", "0.01", "0.00"), "20000000.00"),
        ("a decrease valued before the future row", outflow("K13", "2026-06-01", "0.01"), cb.clone(), "19999999.99"),
    ];
    for (case, tx, expect, after) in &cases {
        check(&ledger, case, tx, expect);
        assert_eq!(position(&ledger.limits(None)), dec(after), "{case}: position after");
    }

    // A date that already has a row is refused: one set by `set_limits`, one from the group definition.
    set_refused(&ledger, "duplicate set date", pool_row("2026-05-01", "10000000.00", "1", "1", "0.5"), "effective");
    set_refused(
        &ledger,
        "duplicate definition date",
        pool_row("2026-01-01", "10000000.00", "1", "1", "0.5"),
        "effective",
    );
}

#[test]
fn parameter_changes_are_validated() {
    let (_storage, ledger) = ledger_with(&[]);
    let date = "2026-07-01";
    let with_pool = |pool: LimitsChange, macro_prudential: &str| LimitsChange {
        macro_prudential: Some(dec(macro_prudential)),
        ..pool
    };
    #[rustfmt::skip]
    let cases = [
        ("zero owners' equity", pool_row(date, "0.00", "1", "1", "0.5"), "owners_equity"),
        ("negative owners' equity", pool_row(date, "-1.00", "1", "1", "0.5"), "owners_equity"),
        ("owners' equity below the minor unit", pool_row(date, "1.001", "1", "1", "0.5"), "owners_equity"),
        ("zero inflow leverage", pool_row(date, "10000000.00", "0", "1", "0.5"), "inflow_leverage"),
        ("negative inflow leverage", pool_row(date, "10000000.00", "-1", "1", "0.5"), "inflow_leverage"),
        ("zero inflow parameter", pool_row(date, "10000000.00", "1", "0", "0.5"), "inflow_parameter"),
        ("negative inflow parameter", pool_row(date, "10000000.00", "1", "-0.5", "0.5"), "inflow_parameter"),
        ("zero outflow coefficient", pool_row(date, "10000000.00", "1", "1", "0"), "outflow_coefficient"),
        ("negative outflow coefficient", pool_row(date, "10000000.00", "1", "1", "-0.5"), "outflow_coefficient"),
        ("zero macro-prudential parameter", macro_row(date, "0"), "macro_prudential"),
        ("negative macro-prudential parameter", macro_row(date, "-1.5"), "macro_prudential"),
        ("a valid pool row with a zero macro parameter", with_pool(pool_row(date, "10000000.00", "1", "1", "0.5"), "0"), "macro_prudential"),
        (
            "a change setting nothing",
            LimitsChange { effective: d(date), pool: None, macro_prudential: None },
            "effective",
        ),
        (
            "a pool row dated otherwise than its change",
            LimitsChange { effective: d("2026-07-02"), ..pool_row(date, "10000000.00", "1", "1", "0.5") },
            "effective",
        ),
        ("a macro row on a date of the definition's history", macro_row("2025-01-13", "2"), "effective"),
        ("a pool row on the definition's date", pool_row("2026-01-01", "20000000.00", "1", "1", "0.5"), "effective"),
        ("a new pool row with a macro row on a taken date", with_pool(pool_row("2025-01-13", "10000000.00", "1", "1", "0.5"), "2"), "effective"),
    ];
    for (case, change, field) in cases {
        set_refused(&ledger, case, change, field);
    }
    // Pool rows and macro-prudential rows are separate histories: a macro row may share a pool row's date.
    set_ok(&ledger, macro_row("2026-01-01", "1.25"));
    set_refused(&ledger, "a second macro row on that date", macro_row("2026-01-01", "1.3"), "effective");
    set_ok(&ledger, with_pool(pool_row(date, "20000000.00", "1.5", "1", "0.25"), "1"));
    set_refused(
        &ledger,
        "the same both rows again",
        with_pool(pool_row(date, "20000000.00", "1.5", "1", "0.25"), "1"),
        "effective",
    );
    // 20,000,000.00 × 1.5 × 1 = 30,000,000.00 in; × 0.25 = 5,000,000.00 out. R-SZ: 1,000,000.00 × 2 × 1 (from 07-01).
    let view = ledger.limits(Some(d(date)));
    assert_eq!(cap_use(&view), decs(["30000000.00", "0.00", "30000000.00", "5000000.00", "0.00", "5000000.00"]));
    assert_eq!(debt(&view, "R-SZ").1, dec("2000000.00"));
    assert_eq!(debt(&ledger.limits(Some(d("2026-06-30"))), "R-SZ").1, dec("2500000.00"), "1.25 from 2026-01-01");
    assert_eq!(debt(&ledger.limits(Some(d("2025-12-31"))), "R-SZ").1, dec("3000000.00"), "1.5 from 2025-01-13");
    assert_eq!(debt(&ledger.limits(Some(d("2024-12-31"))), "R-SZ").1, dec("2000000.00"), "1 from 2021-01-07");
    assert_eq!(debt(&ledger.limits(Some(d("2021-01-06"))), "R-SZ").1, dec("0.00"), "none in force");
}

// ---------------------------------------------------------------------------------------------
// 5. Foreign debt
// ---------------------------------------------------------------------------------------------

#[test]
fn foreign_debt_is_weighted_and_capped_per_entity() {
    let (_storage, ledger) = ledger_with(&[RATES_MARCH]);
    let sz = |view: &LimitsView| {
        let (weighted, cap, headroom, quota, used) = debt(view, "R-SZ");
        assert_eq!((quota, used), (None, None), "R-SZ has no facilitation quota");
        [weighted, cap, headroom]
    };
    let xb = Posted(Classification::CrossBorder);
    assert_eq!(sz(&ledger.limits(None)), decs(["0.00", "3000000.00", "3000000.00"]));

    // (case, transaction, outcome, R-SZ weighted balance after)
    #[rustfmt::skip]
    let cases = [
        // CNY 1,000,000.00, 365 days (≤ 1 year): × 1.5, no FX factor.
        ("CNY loan, 365 days", loan("L1", "2026-04-15", "SZ-OPS", "CNY", "1000000.00", 365), xb.clone(), "1500000.00"),
        // USD 100,000.00 × 7 (onshore, SZ-OPS) = 700,000.00; 730 days: × 1, plus FX × 0.5 = 1,050,000.00.
        ("USD loan, 730 days", loan("L2", "2026-04-15", "SZ-OPS", "USD", "100000.00", 730), xb.clone(), "2550000.00"),
    ];
    for (case, tx, expect, weighted) in &cases {
        check(&ledger, case, tx, expect);
        assert_eq!(sz(&ledger.limits(None))[0], dec(weighted), "{case}: weighted after");
    }
    // Neither loan is a pool movement.
    assert_eq!(position(&ledger.limits(None)), Decimal::ZERO);
    // A new USD rate (8 from 2026-06-01) does not move the USD loan: it stays at its drawdown's rate.
    import(&ledger, RATES_SUMMER);
    assert_eq!(sz(&ledger.limits(None)), decs(["2550000.00", "3000000.00", "450000.00"]));
    assert_eq!(sz(&ledger.limits(Some(d("2026-07-01")))), decs(["2550000.00", "3000000.00", "450000.00"]));
    assert_eq!(sz(&ledger.limits(Some(d("2026-04-14")))), decs(["0.00", "3000000.00", "3000000.00"]));

    #[rustfmt::skip]
    let cases = [
        // 366 days: × 1. 2,550,000.00 + 450,000.00 = 3,000,000.00, exactly the cap.
        ("CNY loan, 366 days, to exactly the cap", loan("L3", "2026-06-02", "SZ-OPS", "CNY", "450000.00", 366), xb.clone(), "3000000.00"),
        ("CNY 0.01 over the cap", loan("L4", "2026-06-02", "SZ-OPS", "CNY", "0.01", 366), debt_limit("R-SZ", "3000000.01", "3000000.00", "0.01", "0.00"), "3000000.00"),
        // USD 0.01 × 8 = 0.08, × 1 + × 0.5 = 0.12.
        ("USD 0.01 over the cap, at the new rate", loan("L5", "2026-06-02", "SZ-OPS", "USD", "0.01", 366), debt_limit("R-SZ", "3000000.12", "3000000.00", "0.12", "0.00"), "3000000.00"),
        // Repay 400,000.00 of L1: 600,000.00 × 1.5 = 900,000.00 left of its 1,500,000.00.
        ("repay part of the CNY loan", repay("L1-R1", "2026-06-10", "SZ-OPS", "CNY", "400000.00", "L1"), xb.clone(), "2400000.00"),
        ("repay more than is left", repay("L1-R2", "2026-06-10", "SZ-OPS", "CNY", "600000.01", "L1"), Expect::Invalid("reference"), "2400000.00"),
        ("repay a USD loan in CNY", repay("L2-R0", "2026-06-10", "SZ-OPS", "CNY", "1.00", "L2"), Expect::Invalid("reference"), "2400000.00"),
        ("repay a loan from another member's account", repay("L2-R0b", "2026-06-10", "R-DMA", "USD", "1.00", "L2"), Expect::Invalid("reference"), "2400000.00"),
        // Repay USD 50,000.00 of L2: 50,000.00 × 7 (its drawdown's rate) = 350,000.00, × 1 + × 0.5 = 525,000.00.
        ("repay half the USD loan", repay("L2-R1", "2026-06-10", "SZ-OPS", "USD", "50000.00", "L2"), xb.clone(), "1875000.00"),
        ("repay the rest of the CNY loan", repay("L1-R3", "2026-06-11", "SZ-OPS", "CNY", "600000.00", "L1"), xb.clone(), "975000.00"),
        ("a repaid loan takes no more", repay("L1-R4", "2026-06-11", "SZ-OPS", "CNY", "0.01", "L1"), Expect::Invalid("reference"), "975000.00"),
        // 975,000.00 + 2,025,000.00 = 3,000,000.00 again.
        ("borrow back to the cap", loan("L6", "2026-06-12", "SZ-OPS", "CNY", "2025000.00", 366), xb.clone(), "3000000.00"),
        ("repay 25,000.00 of it", repay("L6-R1", "2026-06-12", "SZ-OPS", "CNY", "25000.00", "L6"), xb.clone(), "2975000.00"),
    ];
    for (case, tx, expect, weighted) in &cases {
        check(&ledger, case, tx, expect);
        assert_eq!(sz(&ledger.limits(None))[0], dec(weighted), "{case}: weighted after");
    }
    // As of a date, only what was drawn and repaid by then.
    assert_eq!(sz(&ledger.limits(Some(d("2026-06-02"))))[0], dec("3000000.00"));
    assert_eq!(sz(&ledger.limits(Some(d("2026-06-10"))))[0], dec("1875000.00"));

    // A macro-prudential cut to 1 from 2026-07-01: cap 1,000,000.00 × 2 × 1 = 2,000,000.00 from then.
    set_ok(&ledger, macro_row("2026-07-01", "1"));
    assert_eq!(sz(&ledger.limits(None)), decs(["2975000.00", "2000000.00", "0.00"]));
    assert_eq!(sz(&ledger.limits(Some(d("2026-06-30")))), decs(["2975000.00", "3000000.00", "25000.00"]));
    #[rustfmt::skip]
    let cases = [
        ("after the cut: over the lower cap", loan("L7", "2026-07-01", "SZ-OPS", "CNY", "0.01", 366), debt_limit("R-SZ", "2975000.01", "2000000.00", "0.01", "0.00"), "2975000.00"),
        ("value-dated before the cut: the old cap", loan("L8", "2026-06-30", "SZ-OPS", "CNY", "25000.00", 366), xb.clone(), "3000000.00"),
        ("the existing loans stand; repaying is accepted", repay("L6-R2", "2026-07-02", "SZ-OPS", "CNY", "1000000.00", "L6"), xb.clone(), "2000000.00"),
        ("back at the lower cap: 0.01 more is refused", loan("L9", "2026-07-02", "SZ-OPS", "CNY", "0.01", 366), debt_limit("R-SZ", "2000000.01", "2000000.00", "0.01", "0.00"), "2000000.00"),
    ];
    for (case, tx, expect, weighted) in &cases {
        check(&ledger, case, tx, expect);
        assert_eq!(sz(&ledger.limits(None))[0], dec(weighted), "{case}: weighted after");
    }
    assert_eq!(
        position(&ledger.limits(None)),
        Decimal::ZERO,
        "loans from an external lender never count toward the pool's caps"
    );
}

#[test]
fn the_facilitation_quota_lets_an_ftz_entity_borrow_past_its_net_asset_cap() {
    let (_storage, ledger) = ledger_with(&[RATES_MARCH]);
    let ftz = |view: &LimitsView| debt(view, "R-FTZ");
    let first = Posted(Classification::FirstLine);
    assert_eq!(
        ftz(&ledger.limits(Some(d("2026-04-30")))),
        (dec("0.00"), dec("1500000.00"), dec("1500000.00"), Some(dec("500000.00")), Some(dec("0.00")))
    );
    assert_eq!(ftz(&ledger.limits(None)).3, Some(dec("1000000.00")));

    // (case, transaction, outcome, weighted after, USD used after)
    #[rustfmt::skip]
    let cases = [
        ("USD before any offshore rate", loan("F0", "2026-02-27", "FTZ-FTE", "USD", "100.00", 365), missing_rate("USD", Market::Offshore, "2026-02-27"), "0.00", "0.00"),
        // USD 200,000.00 × 7.1 (CNH, FT account) = 1,420,000.00; × 1 + × 0.5 = 2,130,000.00 > 1,500,000.00, but within the quota.
        ("over the net-asset cap, within the quota", loan("F1", "2026-04-15", "FTZ-FTE", "USD", "200000.00", 366), first.clone(), "2130000.00", "200000.00"),
        // USD 300,000.02 would take the USD total to 500,000.02 against the quota of 500,000.00 then;
        // it weighs 300,000.02 × 7.1 = 2,130,000.142 → 2,130,000.14, × 1.5 = 3,195,000.21.
        ("0.02 over the quota in force then", loan("F2", "2026-04-15", "FTZ-FTE", "USD", "300000.02", 366), debt_limit("R-FTZ", "5325000.21", "1500000.00", "3195000.21", "0.00"), "2130000.00", "200000.00"),
        ("exactly the quota in force then", loan("F3", "2026-04-30", "FTZ-FTE", "USD", "300000.00", 366), first.clone(), "5325000.00", "500000.00"),
        // From 2026-05-01 the quota is USD 1,000,000.00. CNY 710,000.00 / 7.1 = USD 100,000.00; weighted × 1.
        ("a CNY loan counted in USD at its drawdown's rate", loan("F4", "2026-05-04", "FTZ-FTE", "CNY", "710000.00", 366), first.clone(), "6035000.00", "600000.00"),
        // A loan to the onshore account converts at the onshore rate: USD 400,000.00 × 7 × 1.5 = 4,200,000.00.
        ("to the quota, onshore account", loan("F5", "2026-05-04", "FTZ-OPS", "USD", "400000.00", 366), Posted(Classification::CrossBorder), "10235000.00", "1000000.00"),
        // USD 0.01 × 7.1 = 0.071 → 0.07; × 1.5 (365 days) + × 0.5 = 0.14.
        ("0.01 over the quota", loan("F6", "2026-05-04", "FTZ-FTE", "USD", "0.01", 365), debt_limit("R-FTZ", "10235000.14", "1500000.00", "0.14", "0.00"), "10235000.00", "1000000.00"),
        // CNY 0.08 / 7.1 = 0.0112… → USD 0.01 over.
        ("CNY 0.08 over the quota", loan("F7", "2026-05-04", "FTZ-FTE", "CNY", "0.08", 366), debt_limit("R-FTZ", "10235000.08", "1500000.00", "0.08", "0.00"), "10235000.00", "1000000.00"),
        // CNY 0.03 / 7.1 = 0.0042… → USD 0.00: within the quota.
        ("CNY 0.03 rounds to USD 0.00", loan("F8", "2026-05-04", "FTZ-FTE", "CNY", "0.03", 366), first.clone(), "10235000.03", "1000000.00"),
        ("repaying frees quota", repay("F5-R1", "2026-05-05", "FTZ-OPS", "USD", "100000.00", "F5"), Posted(Classification::CrossBorder), "9185000.03", "900000.00"),
        ("borrowing it back", loan("F9", "2026-05-06", "FTZ-FTE", "USD", "100000.00", 366), first.clone(), "10250000.03", "1000000.00"),
    ];
    for (case, tx, expect, weighted, used) in &cases {
        check(&ledger, case, tx, expect);
        let (w, cap, headroom, quota, u) = ftz(&ledger.limits(None));
        assert_eq!(
            (w, cap, headroom),
            (dec(weighted), dec("1500000.00"), dec("0.00").max(dec("1500000.00") - w)),
            "{case}"
        );
        assert_eq!((quota, u), (Some(dec("1000000.00")), Some(dec(used))), "{case}: quota use after");
    }
    let then = ftz(&ledger.limits(Some(d("2026-04-30"))));
    assert_eq!(
        then,
        (dec("5325000.00"), dec("1500000.00"), dec("0.00"), Some(dec("500000.00")), Some(dec("500000.00")))
    );
}

#[test]
fn a_drawdown_needs_a_term_and_an_external_offshore_lender() {
    let (_storage, ledger) = ledger_with(&[RATES_MARCH]);
    let date = "2026-04-15";
    let without = |id: &str, term_days: Option<u32>, lender: Option<&str>| TransactionRequest {
        term_days,
        lender: lender.map(str::to_string),
        ..loan(id, date, "SZ-OPS", "CNY", "1000.00", 365)
    };
    #[rustfmt::skip]
    let cases = [
        ("no term_days", without("D1", None, Some("Lender")), Expect::Invalid("term_days")),
        ("no lender", without("D2", Some(365), None), Expect::Invalid("term_days")),
        ("neither", without("D3", None, None), Expect::Invalid("term_days")),
        ("term_days 0", without("D4", Some(0), Some("Lender")), Expect::Invalid("term_days")),
        ("empty lender", without("D5", Some(365), Some("")), Expect::Invalid("term_days")),
        (
            "term_days on another purpose",
            TransactionRequest {
                term_days: Some(365),
                lender: Some("Lender".into()),
                ..mv("D6", date, "EXT-OFF", "SZ-OPS", "CNY", "1000.00", Purpose::PoolFunding)
            },
            Expect::Invalid("term_days"),
        ),
        (
            "an onshore external lender",
            TransactionRequest {
                postings: mv("D7", date, "EXT-ON", "SZ-OPS", "CNY", "1000.00", Purpose::ForeignDebt).postings,
                ..without("D7", Some(365), Some("Lender"))
            },
            Expect::Invalid("postings"),
        ),
        (
            "a drawdown to two members",
            TransactionRequest {
                postings: vec![
                    PostingRequest { account: "EXT-OFF".into(), currency: "CNY".into(), amount: dec("-2000.00") },
                    PostingRequest { account: "SZ-OPS".into(), currency: "CNY".into(), amount: dec("1000.00") },
                    PostingRequest { account: "FTZ-OPS".into(), currency: "CNY".into(), amount: dec("1000.00") },
                ],
                ..without("D8", Some(365), Some("Lender"))
            },
            Expect::Invalid("postings"),
        ),
        ("term and lender: a loan", without("D9", Some(365), Some("Lender")), Posted(Classification::CrossBorder)),
    ];
    for (case, tx, expect) in &cases {
        check(&ledger, case, tx, expect);
    }
    assert_eq!(debt(&ledger.limits(None), "R-SZ").0, dec("1500.00"), "CNY 1,000.00 × 1.5");
}

// ---------------------------------------------------------------------------------------------
// 6. A refused transaction changes nothing, also inside an atomic batch
// ---------------------------------------------------------------------------------------------

#[test]
fn a_refused_atomic_batch_leaves_position_and_loans_as_they_were() {
    let (_storage, ledger) = ledger_with(&[RATES_MARCH]);
    let date = "2026-04-15";
    let inflow = |id: &str, amount: &str| mv(id, date, "HK-OPS", "R-DMA", "CNY", amount, Purpose::PoolFunding);
    let outflow = |id: &str, amount: &str| mv(id, date, "R-DMA", "HK-OPS", "CNY", amount, Purpose::PoolFunding);
    check(&ledger, "4,000,000.00 in", &inflow("B0", "4000000.00"), &Posted(Classification::CrossBorder));
    check(
        &ledger,
        "a loan",
        &loan("B0-L", date, "SZ-OPS", "CNY", "1000000.00", 365),
        &Posted(Classification::CrossBorder),
    );
    let before = snapshot(&ledger, d(date));
    assert_eq!(position(&before.limits_now), dec("4000000.00"));
    assert_eq!(debt(&before.limits_now, "R-SZ").0, dec("1500000.00"));

    let good = vec![
        inflow("B1", "5000000.00"),                              // 9,000,000.00
        outflow("B2", "2000000.00"),                             // 7,000,000.00
        loan("B3", date, "SZ-OPS", "CNY", "500000.00", 365),     // weighted 2,250,000.00
        repay("B4", date, "SZ-OPS", "CNY", "100000.00", "B0-L"), // weighted 2,100,000.00
    ];
    // The last one sees the position the batch left: 7,000,000.00 used, 3,000,000.00 headroom.
    let mut batch = good.clone();
    batch.push(inflow("B5", "3000000.01"));
    let outcome = ledger.post_batch(&batch, BatchMode::Atomic, OPERATOR, at()).unwrap();
    assert!(outcome.is_rejected(), "{outcome:?}");
    assert_eq!(outcome.rejected.len(), 1);
    assert_eq!(outcome.rejected[0].index, 4);
    let Expect::Exactly(wanted) = limit("inflow", "10000000.00", "7000000.00", "3000000.01", "3000000.00") else {
        unreachable!()
    };
    assert_eq!(outcome.rejected[0].rejection, wanted);
    assert_eq!(snapshot(&ledger, d(date)), before, "a refused batch changed the state");

    // A foreign-debt refusal at the end of the batch undoes the loans of the batch too.
    let mut batch = good.clone();
    batch.push(loan("B6", date, "SZ-OPS", "CNY", "900000.01", 366)); // 2,100,000.00 + 900,000.01 > 3,000,000.00
    let outcome = ledger.post_batch(&batch, BatchMode::Atomic, OPERATOR, at()).unwrap();
    assert!(outcome.is_rejected(), "{outcome:?}");
    let Expect::Exactly(wanted) = debt_limit("R-SZ", "3000000.01", "3000000.00", "900000.01", "900000.00") else {
        unreachable!()
    };
    assert_eq!(outcome.rejected[0].rejection, wanted);
    assert_eq!(snapshot(&ledger, d(date)), before, "a refused batch changed the state");

    // A second-line refusal in the middle of the batch: nothing either.
    let mut batch = good.clone();
    batch.insert(2, mv("B7", date, "FTZ-FTE", "FTZ-OPS", "USD", "1.00", Purpose::CurrentAccount));
    let outcome = ledger.post_batch(&batch, BatchMode::Atomic, OPERATOR, at()).unwrap();
    assert!(outcome.is_rejected() && outcome.rejected[0].index == 2, "{outcome:?}");
    assert_eq!(snapshot(&ledger, d(date)), before, "a refused batch changed the state");

    // The good part alone is posted, and moves exactly what it says.
    let outcome = ledger.post_batch(&good, BatchMode::Atomic, OPERATOR, at()).unwrap();
    assert!(outcome.rejected.is_empty(), "{outcome:?}");
    let now = ledger.limits(None);
    assert_eq!(position(&now), dec("7000000.00"));
    assert_eq!(debt(&now, "R-SZ").0, dec("2100000.00"));

    // Two repayments in one batch: the second sees what the first left (900,000.00 − 500,000.00).
    let repayments = [
        repay("B10", date, "SZ-OPS", "CNY", "500000.00", "B0-L"),
        repay("B11", date, "SZ-OPS", "CNY", "400000.01", "B0-L"),
    ];
    let before = snapshot(&ledger, d(date));
    let outcome = ledger.post_batch(&repayments, BatchMode::Atomic, OPERATOR, at()).unwrap();
    assert!(outcome.is_rejected() && outcome.rejected[0].index == 1, "{outcome:?}");
    assert!(matches!(&outcome.rejected[0].rejection, Rejection::Invalid { field, .. } if field == "reference"));
    assert_eq!(snapshot(&ledger, d(date)), before, "a refused batch changed the state");

    // Partial mode: the refused one is skipped, the others count.
    let partial = [inflow("B8", "3000000.01"), inflow("B9", "3000000.00")];
    let outcome = ledger.post_batch(&partial, BatchMode::Partial, OPERATOR, at()).unwrap();
    assert_eq!((outcome.rejected.len(), outcome.receipts.len()), (1, 1), "{outcome:?}");
    assert_eq!(position(&ledger.limits(None)), dec("10000000.00"));
}

// ---------------------------------------------------------------------------------------------
// 7. Replay
// ---------------------------------------------------------------------------------------------

/// A scenario touching every kind of entry the rules read: rates, parameter changes, pool movements, loans.
fn scenario() -> (MemoryStorage, Ledger) {
    let (storage, ledger) = ledger_with(&[RATES_MARCH]);
    let cb = Posted(Classification::CrossBorder);
    let steps = [
        mv("X1", "2026-04-15", "HK-OPS", "R-DMA", "CNY", "6000000.00", Purpose::PoolFunding),
        mv("X2", "2026-04-15", "R-IMA", "R-DMA", "USD", "500000.00", Purpose::PoolFunding), // 3,500,000.00
        loan("X3", "2026-04-15", "SZ-OPS", "USD", "100000.00", 730),
        loan("X4", "2026-04-20", "SZ-OPS", "CNY", "1000000.00", 365),
    ];
    for tx in &steps {
        check(&ledger, &tx.id, tx, &cb);
    }
    check(
        &ledger,
        "X5",
        &loan("X5", "2026-05-04", "FTZ-FTE", "USD", "600000.00", 366),
        &Posted(Classification::FirstLine),
    );
    set_ok(&ledger, pool_row("2026-05-01", "10000000.00", "1", "0.8", "0.5"));
    set_ok(&ledger, macro_row("2026-07-01", "1.25"));
    import(&ledger, RATES_SUMMER);
    let steps = [
        mv("X6", "2026-06-02", "R-DMA", "R-IMA", "USD", "100000.00", Purpose::OverseasLending), // −800,000.00
        repay("X7", "2026-06-10", "SZ-OPS", "USD", "40000.00", "X3"),
        repay("X8", "2026-06-10", "SZ-OPS", "CNY", "250000.00", "X4"),
        mv("X9", "2026-08-03", "R-DMA", "R-IMA", "USD", "0.02", Purpose::PoolFunding), // −0.145 → −0.14
        mv("X10", "2026-08-03", "HK-OPS", "R-DMA", "CNY", "1000000.00", Purpose::CurrentAccount),
    ];
    for tx in &steps {
        check(&ledger, &tx.id, tx, &cb);
    }
    check(
        &ledger,
        "X11",
        &mv("X11", "2026-08-03", "FTZ-FTE", "FTZ-OPS", "CNY", "100.00", Purpose::RealInvestment),
        &Posted(Classification::SecondLine),
    );
    // 6,000,000.00 + 3,500,000.00 − 800,000.00 − 0.14, over the cap of 8,000,000.00 since 2026-05-01.
    let view = ledger.limits(None);
    assert_eq!(cap_use(&view), decs(["8000000.00", "8699999.86", "0.00", "5000000.00", "0.00", "5000000.00"]));
    // X3: 60,000.00 × 7 = 420,000.00 × 1.5 = 630,000.00; X4: 750,000.00 × 1.5 = 1,125,000.00.
    assert_eq!(debt(&view, "R-SZ").0, dec("1755000.00"));
    // X5: 600,000.00 × 7.1 = 4,260,000.00 × 1.5.
    assert_eq!(debt(&view, "R-FTZ").0, dec("6390000.00"));
    (storage, ledger)
}

const AS_OF: [&str; 8] =
    ["2025-12-31", "2026-04-15", "2026-04-19", "2026-04-30", "2026-05-04", "2026-06-10", "2026-07-01", "2026-12-31"];

fn views(ledger: &Ledger) -> Vec<LimitsView> {
    std::iter::once(ledger.limits(None)).chain(AS_OF.iter().map(|date| ledger.limits(Some(d(date))))).collect()
}

#[test]
fn reopening_the_store_gives_the_same_digest_and_limits() {
    let (storage, ledger) = scenario();
    let digest = ledger.state_digest();
    let limits = views(&ledger);
    drop(ledger);
    let reopened = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(reopened.state_digest(), digest);
    assert_eq!(views(&reopened), limits);
    let replay = audit::replay_storage(&storage, None).unwrap();
    assert_eq!((replay.state_digest, replay.matches_store), (digest, Some(true)));
}

#[test]
fn the_export_replays_to_the_same_digest_and_a_changed_rate_is_found() {
    let (storage, ledger) = scenario();
    let mut export = Vec::new();
    let n_entries = audit::export_jsonl(&storage, &mut export).unwrap();
    assert_eq!(n_entries, ledger.head().0);
    let replay = audit::replay_journal(&mut &export[..], None).unwrap();
    assert_eq!(replay.state_digest, ledger.state_digest());
    assert_eq!(replay.head, ledger.head().1);
    assert!(audit::verify_journal(&mut &export[..]).unwrap().ok);

    // Change the onshore USD rate of 2026-03-02 (7 → 7.5) in the export, recomputing nothing.
    let text = String::from_utf8(export).unwrap();
    let (line_no, line) = text
        .lines()
        .enumerate()
        .find(|(_, line)| line.contains("\"rates_imported\"") && line.contains("\"2026-03-02\""))
        .expect("the March rates entry");
    let needle = "\"market\":\"onshore\",\"rate\":\"7\"";
    assert!(line.contains(needle), "unexpected export shape: {line}");
    let tampered: String =
        text.lines()
            .enumerate()
            .map(|(idx, l)| {
                if idx == line_no {
                    l.replace(needle, "\"market\":\"onshore\",\"rate\":\"7.5\"")
                } else {
                    l.to_string()
                }
            })
            .map(|l| l + "\n")
            .collect();
    let seq: u64 = serde_json::from_str::<serde_json::Value>(line).unwrap()["seq"].as_u64().unwrap();
    let report = audit::verify_journal(&mut tampered.as_bytes()).unwrap();
    assert!(!report.ok, "{report:?}");
    assert_eq!(report.first_bad_seq, Some(seq), "{report:?}");
    assert!(audit::replay_journal(&mut tampered.as_bytes(), None).is_err());
}
