//! The audit through the public API: tampered journals and balances are
//! found and named; a checkpoint left behind by a crash is repaired.

use cashpool_ledger::audit;
use cashpool_ledger::journal::{block_entries, Entry};
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::storage::{MemoryStorage, Storage, StoredBalance};
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{BatchMode, Ledger, LedgerError};
use cashpool_tests::{at, SMALL_GROUP};
use chrono::NaiveDate;
use rust_decimal::Decimal;

fn receipt(id: &str, cents: i64) -> TransactionRequest {
    TransactionRequest::transfer(
        id,
        NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        "EXT",
        "T-IMA",
        "USD",
        Decimal::new(cents, 2),
        Purpose::CurrentAccount,
        "",
        "",
    )
}

/// A ledger with three commits of two transactions each.
fn three_commits() -> (MemoryStorage, Ledger) {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), SMALL_GROUP, at()).unwrap();
    for commit in 0..3 {
        let batch = [receipt(&format!("R{commit}a"), 100 + commit), receipt(&format!("R{commit}b"), 200 + commit)];
        ledger.post_batch(&batch, BatchMode::Atomic, "audit", at()).unwrap();
    }
    (storage, ledger)
}

#[test]
fn a_clean_store_verifies_and_replays_to_the_live_digest() {
    let (storage, ledger) = three_commits();
    let report = audit::verify_storage(&storage).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!((report.entries, report.head), ledger.head());
    let replay = audit::replay_storage(&storage, None).unwrap();
    assert_eq!(replay.state_digest, ledger.state_digest());
    assert_eq!(replay.matches_store, Some(true));
}

#[test]
fn a_tampered_block_is_found_at_its_entry() {
    let (storage, ledger) = three_commits();
    let (head_seq, _) = ledger.head();
    drop(ledger);
    // The last commit's block starts at head_seq - 1; change a byte of its second entry.
    storage.tamper_block(head_seq - 1, |block| {
        let first_len = block_entries(block).next().unwrap().unwrap().len();
        let idx = 4 + first_len + 4 + 20;
        block[idx] ^= 1;
    });
    let report = audit::verify_storage(&storage).unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_seq, Some(head_seq), "{report:?}");
    assert_eq!(report.entries, head_seq - 1);
    assert!(matches!(Ledger::open(Box::new(storage)), Err(LedgerError::Integrity { seq, .. }) if seq == head_seq));
}

#[test]
fn a_tampered_stored_balance_is_found() {
    let (storage, ledger) = three_commits();
    drop(ledger);
    let usd = Currency::from_code("USD").unwrap();
    storage.tamper_balance(&StoredBalance { account: "T-IMA".into(), currency: usd, balance: Decimal::new(1, 2) });
    let report = audit::verify_storage(&storage).unwrap();
    assert!(!report.ok);
    assert!(report.reason.as_deref().unwrap_or_default().contains("T-IMA"), "{report:?}");
    assert_eq!(audit::replay_storage(&storage, None).unwrap().matches_store, Some(false));
    assert!(matches!(Ledger::open(Box::new(storage)), Err(LedgerError::Integrity { .. })));
}

#[test]
fn a_lagging_checkpoint_is_checked_at_its_entry_and_repaired_on_open() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), SMALL_GROUP, at()).unwrap();
    ledger.post_batch(&[receipt("L1", 500)], BatchMode::Atomic, "audit", at()).unwrap();
    let early = storage.checkpoint().unwrap();
    ledger.post_batch(&[receipt("L2", 700)], BatchMode::Atomic, "audit", at()).unwrap();
    let digest = ledger.state_digest();
    drop(ledger);
    // As after a crash between a commit's journal record and its checkpoint.
    storage.write_checkpoint(&early).unwrap();
    assert!(audit::verify_storage(&storage).unwrap().ok, "a lagging but right checkpoint verifies");
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(ledger.state_digest(), digest);
    let checkpoint = storage.checkpoint().unwrap();
    assert_eq!(checkpoint.head, Some(ledger.head()), "open brought the checkpoint up to date");
    let usd = Currency::from_code("USD").unwrap();
    let stored = checkpoint.balances.iter().find(|b| b.account == "T-IMA" && b.currency == usd).unwrap();
    assert_eq!(stored.balance, Decimal::new(1200, 2));

    // A lagging checkpoint that was wrong at its own entry is an integrity failure.
    let mut wrong = early.clone();
    wrong.balances.iter_mut().for_each(|b| b.balance += Decimal::new(1, 2));
    drop(ledger);
    storage.write_checkpoint(&wrong).unwrap();
    assert!(!audit::verify_storage(&storage).unwrap().ok);
    // A checkpoint ahead of the journal means acknowledged entries are missing.
    let mut ahead = early;
    ahead.head = ahead.head.map(|(seq, hash)| (seq + 10, hash));
    storage.write_checkpoint(&ahead).unwrap();
    let report = audit::verify_storage(&storage).unwrap();
    assert!(!report.ok && report.reason.unwrap().contains("missing"));
}

#[test]
fn replay_to_an_earlier_entry_gives_that_entry_s_digest() {
    let (storage, ledger) = three_commits();
    let (head_seq, _) = ledger.head();
    let full = audit::replay_storage(&storage, None).unwrap();
    let earlier = audit::replay_storage(&storage, Some(head_seq - 2)).unwrap();
    assert_eq!(earlier.entries, head_seq - 2);
    assert_ne!(earlier.state_digest, full.state_digest);
    assert_eq!(earlier.matches_store, None, "an earlier state is not compared with the store");
    // Every stored entry decodes canonically.
    for item in ledger.entries(1) {
        let (entry, hash) = item.unwrap();
        assert_eq!(Entry::decode(&entry.encode()).unwrap(), entry);
        assert_eq!(entry.hash(), hash);
    }
}
