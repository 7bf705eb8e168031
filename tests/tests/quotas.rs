//! The pool's two quotas kept apart (issue 15, defect 3; docs/LIMITS.md, "The pool's
//! cross-border caps"), end to end through the public API, on the round-number group of
//! `tests/fixtures/limits/round-group.toml` with `quota_model = "separate"` (the default of a
//! new definition, 银发〔2025〕251号: the centralised foreign-debt quota and the overseas-lending
//! quota are two quotas, each with its own cap).
//!
//! Figures: foreign-debt quota (net inflow cap) 10,000,000.00 CNY, overseas-lending quota (net
//! outflow cap) 5,000,000.00 CNY, from 2026-01-01; USD 7 onshore from 2026-03-02. Foreign debt
//! is risk-weighted (银发〔2016〕132号): a pool balance owed abroad weighs 1.5 (repayable on
//! demand: up to a year), plus 0.5 in a currency other than RMB; a loan weighs 1.5 or 1 by its
//! term, plus 0.5 in foreign currency. Overseas lending is not weighted. Every expected figure is
//! worked by hand next to it. Every refused post is checked to change nothing.

use std::process::Command;
use std::str::FromStr;

use cashpool_files::rates::parse_rates_csv;
use cashpool_ledger::audit;
use cashpool_ledger::limits::LimitsView;
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::storage::MemoryStorage;
use cashpool_ledger::sweep::{Flow, SkipReason};
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{FlowDirection, Ledger, Rejection};
use cashpool_tests::at;
use chrono::NaiveDate;
use rust_decimal::Decimal;

const ROUND_GROUP: &str = include_str!("../fixtures/limits/round-group.toml");
const RATES_MARCH: &str = include_str!("../fixtures/limits/rates-march.csv");
const OPERATOR: &str = "quotas-test";

fn group() -> String {
    let separate = ROUND_GROUP.replace("quota_model = \"net_position\"", "quota_model = \"separate\"");
    assert_ne!(separate, ROUND_GROUP);
    separate
}

fn d(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn ledger_with(extra: &str) -> (MemoryStorage, Ledger) {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), &format!("{}\n{extra}", group()), at()).unwrap();
    let (rows, errors) = parse_rates_csv(RATES_MARCH, Currency::from_code("CNY").unwrap());
    assert!(errors.is_empty(), "{errors:?}");
    ledger.import_rates(&rows, at()).unwrap();
    (storage, ledger)
}

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

fn with_term(mut tx: TransactionRequest, term_days: u32, lender: &str) -> TransactionRequest {
    tx.term_days = Some(term_days);
    tx.lender = Some(lender.into());
    tx
}

fn repaying(mut tx: TransactionRequest, loan: &str) -> TransactionRequest {
    tx.reference = loan.into();
    tx
}

/// (foreign debt used, overseas lending used) now, or at the end of `as_of`.
fn used(ledger: &Ledger, as_of: Option<&str>) -> (String, String) {
    let view: LimitsView = ledger.limits(as_of.map(d));
    assert_eq!(view.quota_model, "separate");
    assert_eq!(view.inflow.headroom, (view.inflow.cap - view.inflow.used).max(Decimal::ZERO));
    assert_eq!(view.outflow.headroom, (view.outflow.cap - view.outflow.used).max(Decimal::ZERO));
    (view.inflow.used.to_string(), view.outflow.used.to_string())
}

fn pair(debt: &str, lending: &str) -> (String, String) {
    (debt.to_string(), lending.to_string())
}

fn post(ledger: &Ledger, tx: &TransactionRequest) {
    if let Err(error) = ledger.post(tx, OPERATOR, at()) {
        panic!("{}: {error}", tx.id);
    }
}

/// Posts `tx`, which must be refused with `expected`, and checks that nothing changed.
fn refused(ledger: &Ledger, tx: &TransactionRequest, expected: &Rejection) {
    let before = (ledger.state_digest(), ledger.head(), ledger.limits(None), ledger.limits(Some(tx.value_date)));
    let rejection = cashpool_tests::refusal(ledger.post(tx, OPERATOR, at())).expect_err("refused");
    assert_eq!(&rejection, expected, "{}", tx.id);
    assert_eq!(rejection.to_string(), expected.to_string(), "{}", tx.id);
    let after = (ledger.state_digest(), ledger.head(), ledger.limits(None), ledger.limits(Some(tx.value_date)));
    assert_eq!(after, before, "{}: a refused post changed the state", tx.id);
}

fn limit(direction: FlowDirection, cap: &str, used: &str, requested: &str, headroom: &str) -> Rejection {
    Rejection::Limit { direction, cap: dec(cap), used: dec(used), requested: dec(requested), headroom: dec(headroom) }
}

/// The export replays to the ledger's digest, and the independent verifier (docs/FORMATS.md)
/// computes the same state digest from the export alone.
fn check_export(storage: &MemoryStorage, ledger: &Ledger) {
    let mut export = Vec::new();
    audit::export_jsonl(storage, &mut export).unwrap();
    let replay = audit::replay_journal(&mut export.as_slice(), None).unwrap();
    assert_eq!(replay.state_digest, ledger.state_digest());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, &export).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tools/verify-journal.py");
    let output = Command::new("python3").arg(script).arg(&file).output().expect(
        "python3 runs the independent verifier (tools/verify-journal.py); install Python 3 (`apt install python3`)",
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("verifier output: {}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["state_digest"], ledger.state_digest().to_string(), "{result}");
}

#[test]
fn foreign_debt_and_overseas_lending_are_kept_apart_and_a_repayment_frees_headroom() {
    let (storage, ledger) = ledger_with("");
    let pf = Purpose::PoolFunding;
    // R-HK lends CNY 1,000,000.00 to the onshore side: foreign debt 1,000,000.00 × 1.5.
    post(&ledger, &mv("A", "2026-04-15", "HK-OPS", "R-DMA", "CNY", "1000000.00", pf));
    assert_eq!(used(&ledger, None), pair("1500000.00", "0.00"));
    // 400,000.00 goes back: it repays, it is not overseas lending. 600,000.00 × 1.5.
    post(&ledger, &mv("B", "2026-04-15", "R-DMA", "HK-OPS", "CNY", "400000.00", pf));
    assert_eq!(used(&ledger, None), pair("900000.00", "0.00"));
    // 1,000,000.00 more: repays the 600,000.00 and lends R-HK 400,000.00.
    post(&ledger, &mv("C", "2026-04-15", "R-DMA", "HK-OPS", "CNY", "1000000.00", pf));
    assert_eq!(used(&ledger, None), pair("0.00", "400000.00"));
    // The host's international master account (offshore) sends CNY 2,000,000.00 onshore: foreign
    // debt of 3,000,000.00 that does not net against R-HK's 400,000.00 of lending (one net position
    // would show an inflow of 1,600,000.00 and no lending at all).
    post(&ledger, &mv("D", "2026-04-16", "R-IMA", "R-DMA", "CNY", "2000000.00", pf));
    assert_eq!(used(&ledger, None), pair("3000000.00", "400000.00"));
    // USD 100,000.00 from R-HK at the onshore 7: 700,000.00, weighted 1.5 + 0.5 (foreign currency).
    post(&ledger, &mv("E", "2026-04-16", "HK-OPS", "R-DMA", "USD", "100000.00", pf));
    assert_eq!(used(&ledger, None), pair("4400000.00", "400000.00"));
    // Headroom 5,600,000.00: CNY 3,733,333.34 × 1.5 = 5,600,000.01 is one cent too much.
    let over = mv("F", "2026-04-16", "R-IMA", "R-DMA", "CNY", "3733333.34", pf);
    refused(&ledger, &over, &limit(FlowDirection::Inflow, "10000000.00", "4400000.00", "5600000.01", "5600000.00"));
    // 3,700,000.00 × 1.5 = 5,550,000.00 fits: 9,950,000.00.
    post(&ledger, &mv("G", "2026-04-16", "R-IMA", "R-DMA", "CNY", "3700000.00", pf));
    assert_eq!(used(&ledger, None), pair("9950000.00", "400000.00"));
    // Overseas lending: 400,000.00 used of 5,000,000.00; 4,600,000.01 more to R-HK is a cent over.
    // (R-HK's USD balance is foreign debt in another currency: a CNY payment does not repay it.)
    let lend = mv("H", "2026-04-16", "R-DMA", "HK-OPS", "CNY", "4600000.01", pf);
    refused(&ledger, &lend, &limit(FlowDirection::Outflow, "5000000.00", "400000.00", "4600000.01", "4600000.00"));
    // Repaying the host's offshore side in full frees all its headroom: only the USD is left.
    post(&ledger, &mv("I", "2026-04-17", "R-DMA", "R-IMA", "CNY", "5700000.00", pf));
    assert_eq!(used(&ledger, None), pair("1400000.00", "400000.00"));
    // Intraday peaks beside the end-of-day use: on 2026-04-15 the foreign debt peaked at
    // 1,500,000.00 (after A) and the lending at 400,000.00 (after C); on 2026-04-16 the foreign
    // debt peaked at 9,950,000.00 (after G); the refused F and H never counted.
    let peaks = |as_of: Option<&str>| {
        let view = ledger.limits(as_of.map(d));
        [view.inflow.peak, view.outflow.peak].map(|peak| peak.map(|p| p.to_string()))
    };
    assert_eq!(peaks(Some("2026-04-15")), [Some("1500000.00".into()), Some("400000.00".into())]);
    assert_eq!(peaks(Some("2026-04-16")), [Some("9950000.00".into()), Some("400000.00".into())]);
    // A day without movements peaks at its use, which it carried all day.
    assert_eq!(peaks(Some("2026-04-14")), [Some("0.00".into()), Some("0.00".into())]);
    assert_eq!(peaks(Some("2026-04-20")), [Some("1400000.00".into()), Some("400000.00".into())]);
    // 2026-04-17 began at 9,950,000.00 and ended at 1,400,000.00 (I repaid the host's side).
    assert_eq!(peaks(Some("2026-04-17")), [Some("9950000.00".into()), Some("400000.00".into())]);
    let now = ledger.limits(None);
    assert_eq!((now.inflow.peak, now.inflow.peak_date), (Some(dec("9950000.00")), Some(d("2026-04-16"))));
    // The lending peaked at 400,000.00 on 2026-04-15 first (the earliest date of the highest peak).
    assert_eq!((now.outflow.peak, now.outflow.peak_date), (Some(dec("400000.00")), Some(d("2026-04-15"))));
    // By value date.
    assert_eq!(used(&ledger, Some("2026-04-14")), pair("0.00", "0.00"));
    assert_eq!(used(&ledger, Some("2026-04-15")), pair("0.00", "400000.00"));
    assert_eq!(used(&ledger, Some("2026-04-16")), pair("9950000.00", "400000.00"));
    // Current-account trade across the border is never counted.
    post(&ledger, &mv("J", "2026-04-17", "HK-OPS", "R-DMA", "CNY", "50000000.00", Purpose::CurrentAccount));
    assert_eq!(used(&ledger, None), pair("1400000.00", "400000.00"));
    check_export(&storage, &ledger);
    // Reopened from its snapshot, the store measures alike.
    ledger.checkpoint().unwrap();
    let digest = ledger.state_digest();
    drop(ledger);
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(ledger.entries_after_snapshot(), 0);
    assert_eq!(ledger.state_digest(), digest);
    assert_eq!(used(&ledger, None), pair("1400000.00", "400000.00"));
    assert_eq!(used(&ledger, Some("2026-04-15")), pair("0.00", "400000.00"));
    assert_eq!(ledger.limits(None), now, "the snapshot keeps the peaks");
}

#[test]
fn a_loan_across_the_border_uses_headroom_until_its_repayment_and_a_repayment_must_name_it() {
    let (storage, ledger) = ledger_with("");
    // An intra-pool loan: R-HK lends USD 400,000.00 for 365 days. USD 400,000.00 × 7 =
    // 2,800,000.00, × (1.5 + 0.5) = 5,600,000.00. (Issue 15: it used 2.84m of headroom unweighted,
    // and its repayment left the use unchanged.)
    post(
        &ledger,
        &with_term(
            mv("LOAN-1", "2026-04-15", "HK-OPS", "R-DMA", "USD", "400000.00", Purpose::ForeignDebt),
            365,
            "R-HK",
        ),
    );
    assert_eq!(used(&ledger, None), pair("5600000.00", "0.00"));
    // A repayment of USD 150,000.00 that names it: 250,000.00 × 7 × 2 = 3,500,000.00.
    post(
        &ledger,
        &repaying(mv("R-1", "2026-04-20", "R-DMA", "HK-OPS", "USD", "150000.00", Purpose::LoanRepayment), "LOAN-1"),
    );
    assert_eq!(used(&ledger, None), pair("3500000.00", "0.00"));
    // A repayment across the border that names no loan is refused: it would move money abroad
    // past every cap (issue 15: USD 500,000.00 left that way).
    for reference in ["", "LOAN-9"] {
        let tx =
            repaying(mv("R-X", "2026-04-20", "R-DMA", "HK-OPS", "USD", "500000.00", Purpose::LoanRepayment), reference);
        refused(&ledger, &tx, &Rejection::UnknownLoan { loan: reference.to_string() });
    }
    // A repayment between two onshore accounts names no cross-border loan and needs none.
    post(&ledger, &mv("R-DOM", "2026-04-20", "SZ-OPS", "R-DMA", "CNY", "1000.00", Purpose::LoanRepayment));
    // The rest repaid: nothing used.
    post(
        &ledger,
        &repaying(mv("R-2", "2026-04-21", "R-DMA", "HK-OPS", "USD", "250000.00", Purpose::LoanRepayment), "LOAN-1"),
    );
    assert_eq!(used(&ledger, None), pair("0.00", "0.00"));
    assert_eq!(used(&ledger, Some("2026-04-20")), pair("3500000.00", "0.00"));

    // Overseas lending: the onshore side lends R-HK CNY 1,000,000.00; not weighted.
    post(&ledger, &mv("LEND-1", "2026-04-22", "R-DMA", "HK-OPS", "CNY", "1000000.00", Purpose::OverseasLending));
    assert_eq!(used(&ledger, None), pair("0.00", "1000000.00"));
    // Overseas lending moves money out of onshore; the other way is refused, naming the postings.
    let backwards = mv("LEND-2", "2026-04-22", "HK-OPS", "R-DMA", "CNY", "1.00", Purpose::OverseasLending);
    let rejection = cashpool_tests::refusal(ledger.post(&backwards, OPERATOR, at())).expect_err("refused");
    assert!(matches!(&rejection, Rejection::Invalid { field, .. } if field == "postings"), "{rejection}");
    // Past the overseas-lending quota: 4,000,000.01 more.
    let over = mv("LEND-3", "2026-04-22", "R-DMA", "HK-OPS", "CNY", "4000000.01", Purpose::OverseasLending);
    refused(&ledger, &over, &limit(FlowDirection::Outflow, "5000000.00", "1000000.00", "4000000.01", "4000000.00"));
    // Its repayment frees the headroom.
    post(
        &ledger,
        &repaying(mv("LR-1", "2026-04-23", "HK-OPS", "R-DMA", "CNY", "1000000.00", Purpose::LoanRepayment), "LEND-1"),
    );
    assert_eq!(used(&ledger, None), pair("0.00", "0.00"));

    // A member's external foreign debt counts against the pool's centralised quota (issue 15:
    // it never did) as well as against its own cap: R-SZ borrows CNY 1,000,000.00 for 365 days
    // from an external offshore lender, 1,500,000.00 weighted.
    post(
        &ledger,
        &with_term(
            mv("EXT-1", "2026-04-24", "EXT-OFF", "SZ-OPS", "CNY", "1000000.00", Purpose::ForeignDebt),
            365,
            "Offshore Lender Ltd",
        ),
    );
    assert_eq!(used(&ledger, None), pair("1500000.00", "0.00"));
    let view = ledger.limits(None);
    let sz = view.entities.iter().find(|e| e.entity == "R-SZ").expect("R-SZ");
    assert_eq!(sz.foreign_debt_weighted, dec("1500000.00"));
    check_export(&storage, &ledger);
}

#[test]
fn a_cross_border_sweep_is_held_to_the_foreign_debt_quota_weighted() {
    let rule = |partial: bool| {
        format!(
            "[[sweep]]\naccount = \"HK-OPS\"\ncurrency = \"CNY\"\ninto = \"R-DMA\"\nmethod = \"zero\"\ndirection = \"up\"\npriority = 1\npartial_allowed = {partial}\n"
        )
    };
    for partial in [true, false] {
        let (storage, ledger) = ledger_with(&rule(partial));
        post(&ledger, &mv("FUND", "2026-04-15", "EXT-OFF", "HK-OPS", "CNY", "8000000.00", Purpose::CurrentAccount));
        // CNY 8,000,000.00 would weigh 12,000,000.00 against a quota of 10,000,000.00.
        let outcome = ledger.sweep(d("2026-04-15"), false, at()).unwrap();
        if partial {
            // Cut to 8,000,000.00 × 10/12 = 6,666,666.66 (down to the cent): 9,999,999.99 weighted.
            assert_eq!(outcome.run.sweeps.len(), 1, "{:?}", outcome.run);
            let line = &outcome.run.sweeps[0];
            assert_eq!((line.amount, line.direction, line.capped), (dec("6666666.66"), Flow::Up, true));
            assert_eq!(used(&ledger, None), pair("9999999.99", "0.00"));
        } else {
            assert!(outcome.run.sweeps.is_empty(), "{:?}", outcome.run);
            let skipped: Vec<(SkipReason, Decimal)> =
                outcome.run.skipped.iter().map(|skip| (skip.reason, skip.wanted)).collect();
            assert_eq!(skipped, [(SkipReason::Limit, dec("8000000.00"))]);
            assert_eq!(used(&ledger, None), pair("0.00", "0.00"));
        }
        check_export(&storage, &ledger);
    }
}

#[test]
fn the_quota_model_is_part_of_the_definition() {
    // Without the key a new definition keeps the quotas apart; an unknown model names its key.
    let without = ROUND_GROUP.replace("quota_model = \"net_position\"\n", "");
    let ledger = Ledger::create(Box::new(MemoryStorage::new()), &without, at()).unwrap();
    assert_eq!(ledger.limits(None).quota_model, "separate");
    let bad = ROUND_GROUP.replace("quota_model = \"net_position\"", "quota_model = \"pooled\"");
    let error = Ledger::create(Box::new(MemoryStorage::new()), &bad, at()).err().expect("refused").to_string();
    assert!(error.contains("pool.quota_model: unknown model \"pooled\""), "{error}");
    let legacy = Ledger::create(Box::new(MemoryStorage::new()), ROUND_GROUP, at()).unwrap();
    assert_eq!(legacy.limits(None).quota_model, "net_position");
}

/// The risk factors are dated configuration (issue 15, defect 4; docs/LIMITS.md): a
/// `[[risk_factors]]` row from 2026-04-16 with a maturity factor of 1.2, no FX factor and a
/// leverage of 3 weighs the same balance differently from its date on, and lifts the entity caps.
#[test]
fn the_risk_factors_are_dated_configuration() {
    let rows = "[[risk_factors]]\neffective = \"2017-01-11\"\n\n[[risk_factors]]\neffective = \"2026-04-16\"\nshort_term = \"1.2\"\nfx = \"0\"\nleverage = \"3\"\n";
    let (storage, ledger) = ledger_with(rows);
    let pf = Purpose::PoolFunding;
    // R-HK lends CNY 1,000,000.00 on 04-15 and USD 100,000.00 (CNY 700,000.00 at 7) on 04-16.
    post(&ledger, &mv("A", "2026-04-15", "HK-OPS", "R-DMA", "CNY", "1000000.00", pf));
    post(&ledger, &mv("B", "2026-04-16", "HK-OPS", "R-DMA", "USD", "100000.00", pf));
    // On 04-15, the published factors: 1,000,000.00 × 1.5.
    assert_eq!(used(&ledger, Some("2026-04-15")), pair("1500000.00", "0.00"));
    // From 04-16: (1,000,000.00 + 700,000.00) × 1.2, no FX factor.
    assert_eq!(used(&ledger, Some("2026-04-16")), pair("2040000.00", "0.00"));
    assert_eq!(used(&ledger, None), pair("2040000.00", "0.00"));
    // R-SZ's cap: net assets 1,000,000.00 × leverage × 1.5 (the macro-prudential parameter).
    let cap = |as_of: &str| {
        let view = ledger.limits(Some(d(as_of)));
        view.entities.iter().find(|e| e.entity == "R-SZ").map(|e| e.cap.to_string()).unwrap()
    };
    assert_eq!((cap("2026-04-15"), cap("2026-04-16")), ("3000000.00".to_string(), "4500000.00".to_string()));
    check_export(&storage, &ledger);
}
