//! The on-disk id index (docs/STORAGE.md, "The id index"): once enough ids
//! are durable they leave memory for runs on disk, and every id ever posted
//! is still found: as a duplicate (the original's receipt), as a conflict
//! (the field that differs), across restarts, on both backends.

use cashpool_ledger::model::Purpose;
use cashpool_ledger::storage::{MemoryStorage, SledStorage, Storage};
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{audit, BatchMode, Ledger, Receipt, Rejection};
use cashpool_tests::{at, SMALL_GROUP};
use chrono::NaiveDate;
use rust_decimal::Decimal;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 2).expect("a date")
}

fn receipt_of(n: u64, cents: i64) -> TransactionRequest {
    TransactionRequest::transfer(
        format!("R-{n:06}"),
        day(),
        "EXT",
        "HK-OPS",
        "USD",
        Decimal::new(cents, 2),
        Purpose::CurrentAccount,
        format!("REF{n}"),
        "",
    )
}

/// Posts receipts `from..to` in batches of `batch`; returns their receipts.
fn post(ledger: &Ledger, from: u64, to: u64, batch: u64) -> Vec<Receipt> {
    let mut receipts = Vec::new();
    let mut n = from;
    while n < to {
        let requests: Vec<_> = (n..(n + batch).min(to)).map(|i| receipt_of(i, 100 + i as i64)).collect();
        let outcome = ledger.post_batch(&requests, BatchMode::Atomic, "ops", at()).expect("the storage works");
        assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
        receipts.extend(outcome.receipts);
        n += batch;
    }
    receipts
}

/// Every posted id, re-posted with the same content, is a duplicate naming
/// the original entry; with another amount, a conflict naming the amount.
fn check_every_id_is_found(ledger: &Ledger, originals: &[Receipt]) {
    for (n, original) in originals.iter().enumerate().step_by(7) {
        let n = n as u64;
        let again = ledger.post_batch(&[receipt_of(n, 100 + n as i64)], BatchMode::Atomic, "ops", at()).unwrap();
        assert_eq!(again.receipts.len(), 1, "{again:?}");
        let receipt = &again.receipts[0];
        assert!(receipt.duplicate, "{receipt:?}");
        assert_eq!((receipt.seq, receipt.head), (original.seq, original.head), "R-{n:06}");
        let changed = ledger.post_batch(&[receipt_of(n, 1)], BatchMode::Atomic, "ops", at()).unwrap();
        match &changed.rejected[..] {
            [rejected] => match &rejected.rejection {
                Rejection::IdConflict { field, .. } => assert_eq!(field, "postings[0].amount", "R-{n:06}"),
                other => panic!("R-{n:06}: expected an id conflict, got {other}"),
            },
            other => panic!("R-{n:06}: expected one refusal, got {other:?}"),
        }
    }
}

#[test]
fn ids_leave_memory_for_the_disk_and_are_all_still_found_after_restarts() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), SMALL_GROUP, at()).unwrap();
    ledger.set_id_index_flush(100);
    let originals = post(&ledger, 0, 2_000, 37);
    let (on_disk, through) = ledger.id_index_extent();
    assert!(on_disk >= 1_900, "at most a flush's worth stays in memory: {on_disk} on disk");
    assert!(through <= ledger.head().0, "only durable entries are indexed");
    assert!(storage.index_names().unwrap().iter().any(|name| name.ends_with(".run")), "runs are written");
    check_every_id_is_found(&ledger, &originals);
    let digest = ledger.state_digest();
    let head = ledger.head();
    drop(ledger);

    // A restart: the index is read back, the ids after it are folded into memory.
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(ledger.id_index_extent().0, on_disk, "the index as it was left");
    assert_eq!((ledger.state_digest(), ledger.head()), (digest, head));
    check_every_id_is_found(&ledger, &originals);
    // Posting goes on; new ids join the index.
    ledger.set_id_index_flush(100);
    let more = post(&ledger, 2_000, 2_600, 50);
    assert!(ledger.id_index_extent().0 > on_disk);
    check_every_id_is_found(&ledger, &[originals, more].concat());
    // The journal alone gives the same state: the index changes nothing in it.
    let replay = audit::replay_storage(&storage, None).unwrap();
    assert_eq!(replay.state_digest, ledger.state_digest());
}

#[test]
fn with_background_flushes_every_id_is_found_while_runs_are_written_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create(Box::new(SledStorage::open(dir.path()).unwrap()), SMALL_GROUP, at()).unwrap();
    ledger.set_id_index_flush(50);
    ledger.set_background_flush(true);
    let mut originals = Vec::new();
    for round in 0..10 {
        originals.extend(post(&ledger, round * 200, round * 200 + 200, 23));
        // Asked while a flush may be writing the ids it holds in memory: each is found.
        check_every_id_is_found(&ledger, &originals);
    }
    let (on_disk, through) = ledger.id_index_extent();
    assert!(on_disk > 0 && through <= ledger.head().0, "{on_disk} ids on disk through entry {through}");
    ledger.checkpoint().unwrap();
    assert_eq!(ledger.id_index_extent().0, 2_000, "a checkpoint writes every id left in memory");
    let (digest, head) = (ledger.state_digest(), ledger.head());
    drop(ledger);
    let ledger = Ledger::open(Box::new(SledStorage::open(dir.path()).unwrap())).unwrap();
    assert_eq!((ledger.state_digest(), ledger.head(), ledger.opened_from()), (digest, head, Some(head.0)));
    check_every_id_is_found(&ledger, &originals);
    cashpool_tests::assert_statements_are_the_journals(&ledger, "after background flushes");
}

#[test]
fn a_damaged_index_is_rebuilt_from_the_journal_and_nothing_is_forgotten() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), SMALL_GROUP, at()).unwrap();
    ledger.set_id_index_flush(64);
    let originals = post(&ledger, 0, 700, 25);
    drop(ledger);
    // Damage the manifest: the index is derived data, so a writer starts it afresh.
    let mut manifest = storage.index_read("ids.manifest").unwrap().expect("a manifest");
    manifest[5] ^= 0x20;
    storage
        .index_write("ids.manifest", &mut |out| {
            out.write_all(&manifest).map_err(|err| cashpool_ledger::storage::StorageError::Corrupt(err.to_string()))
        })
        .unwrap();
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(ledger.id_index_extent(), (0, 0), "the damaged index was set aside");
    check_every_id_is_found(&ledger, &originals);
    // The next flush writes every id again, old and new.
    ledger.set_id_index_flush(64);
    let more = post(&ledger, 700, 760, 30);
    assert!(ledger.id_index_extent().0 >= 700, "{:?}", ledger.id_index_extent());
    drop(ledger);
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    check_every_id_is_found(&ledger, &[originals, more].concat());
}

#[test]
fn the_sled_store_keeps_its_index_in_files_beside_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create(Box::new(SledStorage::open(dir.path()).unwrap()), SMALL_GROUP, at()).unwrap();
    ledger.set_id_index_flush(200);
    let originals = post(&ledger, 0, 1_500, 100);
    drop(ledger);
    let files: Vec<String> = std::fs::read_dir(dir.path().join("index"))
        .unwrap()
        .map(|item| item.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.iter().any(|name| name == "ids.manifest"), "{files:?}");
    assert!(files.iter().any(|name| name.starts_with("ids-") && name.ends_with(".run")), "{files:?}");
    assert!(!files.iter().any(|name| name.ends_with(".tmp")), "no temporary file is left: {files:?}");
    let ledger = Ledger::open(Box::new(SledStorage::open(dir.path()).unwrap())).unwrap();
    check_every_id_is_found(&ledger, &originals);
}

#[test]
fn an_index_from_another_history_is_not_trusted() {
    // Store A: 300 receipts one at a time. Store B: 600 receipts in batches of 100, indexed.
    let a = MemoryStorage::new();
    let ledger_a = Ledger::create(Box::new(a.clone()), SMALL_GROUP, at()).unwrap();
    let originals = post(&ledger_a, 0, 300, 1);
    drop(ledger_a);
    let b = MemoryStorage::new();
    let ledger_b = Ledger::create(Box::new(b.clone()), SMALL_GROUP, at()).unwrap();
    ledger_b.set_id_index_flush(50);
    post(&ledger_b, 1_000, 1_600, 100);
    drop(ledger_b);
    // B's index files put into A: they claim ids A's journal does not hold where they say.
    for name in b.index_names().unwrap() {
        let bytes = b.index_read(&name).unwrap().unwrap();
        a.index_write(&name, &mut |out| {
            out.write_all(&bytes).map_err(|err| cashpool_ledger::storage::StorageError::Corrupt(err.to_string()))
        })
        .unwrap();
    }
    let ledger = Ledger::open(Box::new(a.clone())).unwrap();
    assert_eq!(ledger.id_index_extent(), (0, 0), "the foreign index was set aside");
    assert!(a.index_names().unwrap().is_empty(), "and removed");
    check_every_id_is_found(&ledger, &originals);
}

/// A reader keeps no ids of the journal in memory (it posts nothing); a
/// read-only check of a batch still finds an old id in the journal, and an id
/// repeated within the batch.
#[test]
fn a_reader_keeps_no_ids_yet_a_read_only_check_finds_duplicates_and_conflicts() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), SMALL_GROUP, at()).unwrap();
    ledger.set_id_index_flush(50);
    post(&ledger, 0, 300, 30);
    drop(ledger);
    let reader = Ledger::open_read_only(Box::new(storage.clone())).unwrap();
    assert_eq!(reader.id_index_extent(), (0, 0), "a reader opens no id index");
    // R-000007 again with another amount: a conflict found by reading the journal.
    let rejected = reader.check_batch(&[receipt_of(7, 1)], "ops").unwrap();
    match &rejected[..] {
        [only] => assert!(matches!(only.rejection, Rejection::IdConflict { .. }), "{only:?}"),
        other => panic!("expected one conflict, got {other:?}"),
    }
    // The same content: a duplicate, not refused.
    assert!(reader.check_batch(&[receipt_of(7, 107)], "ops").unwrap().is_empty());
    // A new id twice in one batch, the second with another amount: the second conflicts.
    let rejected = reader.check_batch(&[receipt_of(900, 5), receipt_of(900, 6)], "ops").unwrap();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0].index, 1);
    // And nothing was written or kept: the same batch checks the same way again.
    assert_eq!(reader.check_batch(&[receipt_of(900, 5)], "ops").unwrap().len(), 0);
}
