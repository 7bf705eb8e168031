//! Property: no sequence of accepted posts leaves a pool cap exceeded,
//! except through a parameter cut (after which only movements that reduce the
//! use are accepted), and a refused post changes nothing. The pool position
//! always equals the sum of the accepted counted movements of a plain model.

use cashpool_ledger::limits::{LimitsChange, PoolParameters};
use cashpool_ledger::model::Purpose;
use cashpool_ledger::storage::MemoryStorage;
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{BatchMode, Ledger};
use cashpool_tests::{at, SMALL_GROUP};
use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;

#[derive(Debug, Clone)]
enum Op {
    /// A pool_funding movement of `cents` CNY: HK-OPS → T-DMA (inflow) or back (outflow).
    Move { inflow: bool, cents: i64 },
    /// A current_account movement across the border: never counted.
    Trade { cents: i64 },
    /// A new parameter row from the next day on: inflow parameter and outflow coefficient in tenths.
    Params { inflow_tenths: i64, outflow_tenths: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<bool>(), 1i64..150_000_000).prop_map(|(inflow, cents)| Op::Move { inflow, cents }),
        1 => (1i64..10_000_000).prop_map(|cents| Op::Trade { cents }),
        1 => (1i64..30, 1i64..12).prop_map(|(inflow_tenths, outflow_tenths)| Op::Params { inflow_tenths, outflow_tenths }),
    ]
}

const EQUITY_CENTS: i64 = 100_000_000; // 1,000,000.00 CNY in the small group

fn run(ops: &[Op]) {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage), SMALL_GROUP, at()).unwrap();
    let mut day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    // Fund both sides generously (external, current_account: not counted).
    let fund = [
        TransactionRequest::transfer(
            "FUND-1",
            day,
            "EXT",
            "HK-OPS",
            "CNY",
            Decimal::new(10_000_000_000, 2),
            Purpose::CurrentAccount,
            "",
            "",
        ),
        TransactionRequest::transfer(
            "FUND-2",
            day,
            "EXT",
            "T-DMA",
            "CNY",
            Decimal::new(10_000_000_000, 2),
            Purpose::CurrentAccount,
            "",
            "",
        ),
    ];
    assert!(ledger.post_batch(&fund, BatchMode::Atomic, "prop", at()).unwrap().rejected.is_empty());
    // The model: position in cents, caps in cents (small group: leverage 2, parameter 1.75, coefficient 0.8).
    let mut position: i64 = 0;
    let mut inflow_cap: i64 = EQUITY_CENTS * 2 * 175 / 100;
    let mut outflow_cap: i64 = EQUITY_CENTS * 8 / 10;
    for (idx, op) in ops.iter().enumerate() {
        let digest_before = ledger.state_digest();
        let (request, flow) = match op {
            Op::Move { inflow, cents } => {
                let (from, to, flow) = if *inflow { ("HK-OPS", "T-DMA", *cents) } else { ("T-DMA", "HK-OPS", -*cents) };
                let tx = TransactionRequest::transfer(
                    format!("M{idx}"),
                    day,
                    from,
                    to,
                    "CNY",
                    Decimal::new(*cents, 2),
                    Purpose::PoolFunding,
                    "",
                    "",
                );
                (tx, Some(flow))
            }
            Op::Trade { cents } => {
                let tx = TransactionRequest::transfer(
                    format!("T{idx}"),
                    day,
                    "HK-OPS",
                    "T-DMA",
                    "CNY",
                    Decimal::new(*cents, 2),
                    Purpose::CurrentAccount,
                    "",
                    "",
                );
                (tx, None)
            }
            Op::Params { inflow_tenths, outflow_tenths } => {
                day = day.succ_opt().unwrap();
                let pool = PoolParameters {
                    effective: day,
                    owners_equity: Decimal::new(EQUITY_CENTS, 2),
                    inflow_leverage: Decimal::TWO,
                    inflow_parameter: Decimal::new(*inflow_tenths, 1),
                    outflow_coefficient: Decimal::new(*outflow_tenths, 1),
                };
                let change = LimitsChange { effective: day, pool: Some(pool), macro_prudential: None };
                ledger.set_limits(change, at()).unwrap();
                inflow_cap = EQUITY_CENTS * 2 * inflow_tenths / 10;
                outflow_cap = EQUITY_CENTS * outflow_tenths / 10;
                continue;
            }
        };
        let outcome = ledger.post_batch(&[request], BatchMode::Atomic, "prop", at()).unwrap();
        let accepted = outcome.rejected.is_empty();
        if let Some(flow) = flow {
            let after = position + flow;
            let increases_excess = (flow > 0 && after > inflow_cap) || (flow < 0 && -after > outflow_cap);
            assert_eq!(
                accepted, !increases_excess,
                "op {idx} {op:?}: position {position}, caps {inflow_cap}/{outflow_cap}: {outcome:?}"
            );
            if accepted {
                position = after;
            } else {
                assert_eq!(outcome.rejected[0].rejection.code(), "limit");
            }
        } else {
            assert!(accepted, "a current_account movement is not held to the caps: {outcome:?}");
        }
        if !accepted {
            assert_eq!(ledger.state_digest(), digest_before, "a refused post changes nothing");
        }
        let view = ledger.limits(None);
        let used_in = Decimal::new(position.max(0), 2);
        let used_out = Decimal::new((-position).max(0), 2);
        assert_eq!((view.inflow.used, view.outflow.used), (used_in, used_out), "op {idx}");
        // The invariant: a cap is exceeded only if a cut put it there and nothing has increased it since.
        if accepted && flow.is_some() {
            let flow = flow.unwrap_or_default();
            let within = position <= inflow_cap && -position <= outflow_cap;
            let reduced = (flow < 0 && position > 0) || (flow > 0 && position < 0);
            assert!(within || reduced, "op {idx}: accepted {flow} leaves the position {position} past a cap");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn caps_hold_except_through_a_cut(ops in prop::collection::vec(op(), 1..40)) {
        run(&ops);
    }
}
