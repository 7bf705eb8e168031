//! Model-based property test (sled's "it should act like a BTreeMap, even
//! after crashes"): random sequences of posts, rejected posts, repeated ids,
//! atomic and partial batches and restarts, against a plain in-memory model.
//! Balances, idempotency and the state digest must agree after every step.
//! The ledger writes a run of the on-disk id index every three ids, and a
//! state snapshot after each run and before every other restart, so restarts
//! open from snapshots (at the head, or older with the entries after them
//! folded) and every check after them checks the snapshot's state.

use std::collections::HashMap;

use cashpool_ledger::audit;
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::storage::MemoryStorage;
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{BatchMode, Ledger};
use cashpool_tests::{at, SMALL_GROUP};
use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// (account, currencies held, overdraft in minor units per currency; None = unbounded)
const ACCOUNTS: &[(&str, &[&str])] = &[
    ("T-DMA", &["CNY", "USD"]),
    ("T-IMA", &["USD", "JPY", "KWD"]),
    ("HK-OPS", &["USD", "CNY"]),
    ("EXT", &["CNY", "USD", "JPY", "KWD"]),
];
const CURRENCIES: &[&str] = &["CNY", "USD", "JPY", "KWD"];

fn overdraft_minor(account: &str, currency: &str) -> Option<i128> {
    match (account, currency) {
        ("EXT", _) => None,
        ("T-DMA", "CNY") => Some(10_000),
        _ => Some(0),
    }
}

fn holds(account: &str, currency: &str) -> bool {
    ACCOUNTS.iter().any(|(id, ccys)| *id == account && ccys.contains(&currency))
}

#[derive(Debug, Clone, PartialEq)]
struct Move {
    id: u8,
    day: u32,
    from: usize,
    to: usize,
    currency: usize,
    /// In minor units of the currency; `extra_decimal` adds one more decimal (a rejection).
    amount_minor: i64,
    extra_decimal: bool,
}

impl Move {
    fn request(&self) -> TransactionRequest {
        let currency = Currency::from_code(CURRENCIES[self.currency]).unwrap();
        let scale = currency.minor_units() + u32::from(self.extra_decimal);
        let amount = Decimal::new(
            self.amount_minor * if self.extra_decimal { 10 } else { 1 } + i64::from(self.extra_decimal),
            scale,
        );
        TransactionRequest::transfer(
            format!("TX-{}", self.id),
            NaiveDate::from_ymd_opt(2026, 11, self.day).unwrap(),
            ACCOUNTS[self.from].0,
            ACCOUNTS[self.to].0,
            CURRENCIES[self.currency],
            amount,
            Purpose::CurrentAccount,
            "REF",
            "",
        )
    }
}

#[derive(Debug, Clone)]
enum Op {
    Batch { moves: Vec<Move>, atomic: bool },
    Restart,
}

fn move_strategy() -> impl Strategy<Value = Move> {
    (
        0u8..24,
        1u32..6,
        0..ACCOUNTS.len(),
        0..ACCOUNTS.len(),
        0..CURRENCIES.len(),
        1i64..50_000,
        prop::bool::weighted(0.05),
    )
        .prop_map(|(id, day, from, to, currency, amount_minor, extra_decimal)| Move {
            id,
            day,
            from,
            to,
            currency,
            amount_minor,
            extra_decimal,
        })
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (prop::collection::vec(move_strategy(), 1..6), any::<bool>()).prop_map(|(moves, atomic)| Op::Batch { moves, atomic }),
        1 => Just(Op::Restart),
    ]
}

/// The model: balances in minor units, and the content posted under each id.
#[derive(Default, Clone)]
struct Model {
    balances: HashMap<(&'static str, &'static str), i128>,
    by_day: HashMap<(&'static str, &'static str, u32), i128>,
    posted: HashMap<u8, Move>,
}

enum Expect {
    Posted,
    Duplicate,
    Rejected,
}

impl Model {
    /// Applies one move if valid; says what the ledger must answer.
    fn apply(&mut self, mv: &Move) -> Expect {
        if let Some(earlier) = self.posted.get(&mv.id) {
            return if earlier == mv { Expect::Duplicate } else { Expect::Rejected };
        }
        let (from, to, ccy) = (ACCOUNTS[mv.from].0, ACCOUNTS[mv.to].0, CURRENCIES[mv.currency]);
        // A move from an account to itself moves nothing and is refused.
        if mv.extra_decimal || from == to || !holds(from, ccy) || !holds(to, ccy) {
            return Expect::Rejected;
        }
        let amount = i128::from(mv.amount_minor);
        let balance = self.balances.get(&(from, ccy)).copied().unwrap_or(0);
        if overdraft_minor(from, ccy).is_some_and(|limit| balance - amount < -limit) {
            return Expect::Rejected;
        }
        *self.balances.entry((from, ccy)).or_default() -= amount;
        *self.balances.entry((to, ccy)).or_default() += amount;
        *self.by_day.entry((from, ccy, mv.day)).or_default() -= amount;
        *self.by_day.entry((to, ccy, mv.day)).or_default() += amount;
        self.posted.insert(mv.id, mv.clone());
        Expect::Posted
    }

    fn balance_as_of(&self, account: &str, currency: &str, day: u32) -> i128 {
        self.by_day.iter().filter(|((a, c, d), _)| *a == account && *c == currency && *d <= day).map(|(_, v)| *v).sum()
    }
}

fn minor(amount: Decimal, currency: &str) -> i128 {
    let currency = Currency::from_code(currency).unwrap();
    assert_eq!(amount.scale(), currency.minor_units(), "balances carry exactly the minor units");
    amount.mantissa()
}

fn check_agreement(ledger: &Ledger, model: &Model, storage: &MemoryStorage) {
    for (account, currencies) in ACCOUNTS {
        for ccy in *currencies {
            let currency = Currency::from_code(ccy).unwrap();
            let balance = ledger.balance(account, currency, None).unwrap();
            let expected = model.balances.get(&(*account, *ccy)).copied().unwrap_or(0);
            assert_eq!(minor(balance, ccy), expected, "{account} {ccy}");
            for day in 1..6 {
                let as_of = ledger.balance(account, currency, NaiveDate::from_ymd_opt(2026, 11, day)).unwrap();
                assert_eq!(
                    minor(as_of, ccy),
                    model.balance_as_of(account, ccy, day),
                    "{account} {ccy} as of day {day}"
                );
            }
        }
    }
    let replay = audit::replay_storage(storage, None).unwrap();
    assert_eq!(replay.state_digest, ledger.state_digest(), "replay digest equals the live digest");
    assert_eq!(replay.matches_store, Some(true));
    assert!(audit::verify_storage(storage).unwrap().ok);
}

/// Ids in memory that make a run of the on-disk id index (the default is 131,072).
const ID_FLUSH: usize = 3;

fn run_ops(ops: &[Op]) {
    let storage = MemoryStorage::new();
    let mut ledger = Ledger::create(Box::new(storage.clone()), SMALL_GROUP, at()).unwrap();
    // A run of the on-disk id index every few ids: duplicates are found on disk and in memory.
    ledger.set_id_index_flush(ID_FLUSH);
    let mut model = Model::default();
    let mut restarts = 0;
    for op in ops {
        match op {
            Op::Restart => {
                // Every other restart follows a checkpoint, so the ledger opens from a state
                // snapshot at the head; the others open from the snapshot the last id flush
                // wrote (the entries after it folded onto it), or from genesis if none was.
                // Before it, with the postings of the entries after the index in memory
                // (rolled-back batches' removed): statements are the journal's.
                cashpool_tests::assert_statements_are_the_journals(&ledger, "before a restart");
                restarts += 1;
                let checkpoint = restarts % 2 == 1;
                if checkpoint {
                    ledger.checkpoint().unwrap();
                }
                let digest = ledger.state_digest();
                let head = ledger.head();
                drop(ledger);
                ledger = Ledger::open(Box::new(storage.clone())).unwrap();
                ledger.set_id_index_flush(ID_FLUSH);
                assert_eq!(ledger.state_digest(), digest, "a restart changes nothing");
                assert_eq!(ledger.head(), head);
                match ledger.opened_from() {
                    Some(seq) => assert!(seq <= head.0, "a snapshot at {seq}, beyond the head {head:?}"),
                    None => assert!(!checkpoint, "a checkpoint was written, yet the open folded from genesis"),
                }
                if checkpoint {
                    assert_eq!(ledger.opened_from(), Some(head.0), "the checkpoint's snapshot is at the head");
                }
                // Statements come from the posting index (runs every few ids, and the postings after them
                // in memory), rolled-back batches included: every one is the journal's.
                cashpool_tests::assert_statements_are_the_journals(&ledger, "after a restart");
            }
            Op::Batch { moves, atomic } => {
                let requests: Vec<_> = moves.iter().map(Move::request).collect();
                let head_before = ledger.head();
                let mut trial = model.clone();
                let expects: Vec<Expect> = moves.iter().map(|mv| trial.apply(mv)).collect();
                let any_rejected = expects.iter().any(|e| matches!(e, Expect::Rejected));
                let mode = if *atomic { BatchMode::Atomic } else { BatchMode::Partial };
                let outcome = ledger.post_batch(&requests, mode, "model", at()).unwrap();
                if *atomic && any_rejected {
                    assert!(outcome.receipts.is_empty(), "a rejected atomic batch returns no receipts");
                    assert_eq!(ledger.head(), head_before, "a rejected atomic batch writes nothing");
                } else {
                    model = trial;
                    let n_rejected = expects.iter().filter(|e| matches!(e, Expect::Rejected)).count();
                    assert_eq!(outcome.rejected.len(), n_rejected, "{outcome:?}");
                    let n_dup = expects.iter().filter(|e| matches!(e, Expect::Duplicate)).count();
                    assert_eq!(outcome.receipts.iter().filter(|r| r.duplicate).count(), n_dup);
                    let n_posted = expects.iter().filter(|e| matches!(e, Expect::Posted)).count() as u64;
                    assert_eq!(ledger.head().0, head_before.0 + n_posted, "one entry per posted transaction");
                }
            }
        }
        check_agreement(&ledger, &model, &storage);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        // 256 in CI; the long variant sets CASHPOOL_MODEL_CASES (docs/RELIABILITY.md).
        cases: std::env::var("CASHPOOL_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn ledger_acts_like_the_model(ops in prop::collection::vec(op_strategy(), 1..30)) {
        run_ops(&ops);
    }
}

#[test]
fn same_inputs_give_the_same_journal_and_digest() {
    let moves: Vec<Move> = (0..20)
        .map(|i| Move {
            id: i,
            day: 1 + u32::from(i % 5),
            from: 3,
            to: usize::from(i % 3),
            currency: usize::from(i % 2),
            amount_minor: 1000 + i64::from(i),
            extra_decimal: false,
        })
        .collect();
    let run = || {
        let storage = MemoryStorage::new();
        let ledger = Ledger::create(Box::new(storage.clone()), SMALL_GROUP, at()).unwrap();
        let requests: Vec<_> = moves.iter().map(Move::request).collect();
        ledger.post_batch(&requests, BatchMode::Atomic, "model", at()).unwrap();
        let mut export = Vec::new();
        audit::export_jsonl(&storage, &mut export).unwrap();
        (ledger.head(), ledger.state_digest(), export)
    };
    assert_eq!(run(), run());
}
