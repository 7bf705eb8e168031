//! The audit through the public API: tampered journals and balances are
//! found and named; a checkpoint left behind by a crash is repaired.

use cashpool_ledger::audit;
use cashpool_ledger::journal::{block_entries, Entry};
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::storage::{MemoryStorage, Storage, StoredBalance};
use cashpool_ledger::testing::MemoryStorageExt;
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

/// The export of [`three_commits`], one line per entry.
fn exported_lines(storage: &MemoryStorage) -> Vec<String> {
    let mut export = Vec::new();
    audit::export_jsonl(storage, &mut export).unwrap();
    String::from_utf8(export).unwrap().lines().map(str::to_string).collect()
}

fn verify_lines(lines: &[String]) -> audit::VerifyReport {
    let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
    audit::verify_journal(&mut text.as_bytes()).unwrap()
}

#[test]
fn an_export_has_one_text_per_entry_up_to_whitespace_and_key_order() {
    let (storage, ledger) = three_commits();
    let lines = exported_lines(&storage);
    let receipt_line = lines.iter().position(|line| line.contains("\"R1a\"")).unwrap();
    let seq = receipt_line as u64 + 1;

    // Whitespace, the order of keys and CRLF line ends carry no meaning in JSON.
    let mut relaxed = lines.clone();
    let value: serde_json::Value = serde_json::from_str(&lines[receipt_line]).unwrap();
    let mut reordered: Vec<(String, serde_json::Value)> = value.as_object().unwrap().clone().into_iter().collect();
    reordered.reverse();
    let body: Vec<String> = reordered.iter().map(|(key, value)| format!("\"{key}\" : {value}")).collect();
    relaxed[receipt_line] = format!("{{ {} }}\r", body.join(" , "));
    let report = verify_lines(&relaxed);
    assert!(report.ok, "{report:?}");
    assert_eq!((report.entries, report.head), ledger.head());

    // An amount written with a leading zero decodes to the same entry (the
    // hash matches) but is another text: refused, with the line and the field.
    let mut short_amount = lines.clone();
    assert!(lines[receipt_line].contains("\"amount\":\"101\""), "{}", lines[receipt_line]);
    short_amount[receipt_line] = lines[receipt_line].replace("\"amount\":\"101\"", "\"amount\":\"0101\"");
    let report = verify_lines(&short_amount);
    assert!(!report.ok);
    assert_eq!(report.first_bad_seq, Some(seq));
    let reason = report.reason.unwrap();
    assert!(reason.contains(&format!("line {seq}: body.postings[")), "{reason}");
    assert!(reason.contains(".amount: \"0101\" is not the exporter's form \"101\""), "{reason}");

    // A timestamp in another offset names the same instant.
    let mut offset = lines.clone();
    let recorded_at = serde_json::from_str::<serde_json::Value>(&lines[receipt_line]).unwrap()["recorded_at"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(recorded_at.ends_with(".000000Z"), "{recorded_at}");
    offset[receipt_line] = lines[receipt_line].replace(&recorded_at, &recorded_at.replace(".000000Z", "+00:00"));
    let report = verify_lines(&offset);
    assert_eq!(report.first_bad_seq, Some(seq), "{report:?}");
    assert!(report.reason.unwrap().contains(&format!("line {seq}: recorded_at: ")));

    // Replaying refuses the same lines.
    let text: String = short_amount.iter().map(|line| format!("{line}\n")).collect();
    let err = audit::replay_journal(&mut text.as_bytes(), None).unwrap_err();
    assert!(err.to_string().contains("is not the exporter's form"), "{err}");
}

#[test]
fn reading_from_inside_a_block_yields_its_entries_in_order_and_stops_at_a_bad_one() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), SMALL_GROUP, at()).unwrap();
    // One commit of 50 transactions: one block.
    let batch: Vec<_> = (0..50).map(|k| receipt(&format!("B{k}"), 100 + k)).collect();
    ledger.post_batch(&batch, BatchMode::Atomic, "audit", at()).unwrap();
    let (head_seq, _) = ledger.head();
    let first = head_seq - 49;
    let from = first + 10;
    let seqs: Vec<u64> = ledger.entries(from).map(|item| item.unwrap().0.seq).collect();
    assert_eq!(seqs, (from..=head_seq).collect::<Vec<_>>());
    // An entry read alone from the middle of the block.
    let (entry, _) = ledger.entries(first + 20).next().unwrap().unwrap();
    assert_eq!(entry.seq, first + 20);
    drop(ledger);

    // Damage entry first + 30.
    storage.tamper_block(first, |block| {
        let mut offset = 0;
        for _ in 0..30 {
            let len = block_entries(&block[offset..]).next().unwrap().unwrap().len();
            offset += 4 + len;
        }
        block[offset + 4] = 0x7f; // an unknown format version: the entry cannot be decoded
    });
    let reopened = Ledger::open_read_only(Box::new(storage.clone()));
    assert!(matches!(reopened, Err(LedgerError::Integrity { seq, .. }) if seq == first + 30));
    // The export reads the journal entry by entry: every entry before the undecodable one, then the error.
    let mut export = Vec::new();
    let err = audit::export_jsonl(&storage, &mut export).unwrap_err();
    assert!(matches!(&err, audit::AuditError::Integrity(e) if e.seq == first + 30), "{err:?}");
    assert_eq!(export.iter().filter(|&&b| b == b'\n').count() as u64, first + 29);
}

#[test]
fn a_held_store_can_be_read_through_a_snapshot_of_its_journal() {
    use cashpool_ledger::storage::{JournalSnapshot, SledStorage, StorageError};
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create(Box::new(SledStorage::open(dir.path()).unwrap()), SMALL_GROUP, at()).unwrap();
    ledger.post_batch(&[receipt("S1", 100), receipt("S2", 200)], BatchMode::Atomic, "audit", at()).unwrap();
    // The ledger keeps the store (and its lock); another reader takes a snapshot of the journal.
    assert!(matches!(SledStorage::open(dir.path()), Err(StorageError::Locked { .. })));
    let snapshot = JournalSnapshot::open(dir.path()).unwrap();
    assert_eq!(snapshot.entries(), ledger.head().0);
    assert!(!snapshot.keeps_checkpoint());

    let report = audit::verify_storage(&snapshot).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!((report.entries, report.head), ledger.head());
    let replay = audit::replay_storage(&snapshot, None).unwrap();
    assert_eq!((replay.state_digest, replay.matches_store), (ledger.state_digest(), None));

    // Only a read-only ledger opens on it, and it writes nothing.
    assert!(matches!(
        Ledger::open(Box::new(JournalSnapshot::open(dir.path()).unwrap())),
        Err(LedgerError::Storage(StorageError::ReadOnly))
    ));
    let reader = Ledger::open_read_only(Box::new(snapshot)).unwrap();
    assert_eq!(reader.state_digest(), ledger.state_digest());
    assert!(matches!(
        reader.post_batch(&[receipt("S3", 300)], BatchMode::Atomic, "audit", at()),
        Err(LedgerError::ReadOnly)
    ));

    // The snapshot is the journal as it stood: a later commit is not in it.
    ledger.post_batch(&[receipt("S3", 300)], BatchMode::Atomic, "audit", at()).unwrap();
    assert_eq!(reader.head().0 + 1, ledger.head().0);
    assert_eq!(JournalSnapshot::open(dir.path()).unwrap().entries(), ledger.head().0);
}

#[test]
fn a_definition_whose_parameter_rows_are_out_of_order_is_refused_not_a_panic() {
    // Found by the fuzz target `journal_export` (its re-chained pass): an exported journal whose group
    // definition lists its macro-prudential rows out of date order, correctly hashed. The TOML parser
    // refuses such rows; a journal is not read through it. The fold must refuse the entry (the audit
    // reports it), not break an invariant.
    use cashpool_ledger::journal::{EntryBody, EntryHash, FormatVersion, Timestamp};
    let mut config = cashpool_ledger::config::parse_group_config(cashpool_tests::EXAMPLE_GROUP).unwrap();
    let mut later = config.macro_prudential[0].clone();
    later.effective = later.effective.succ_opt().unwrap();
    config.macro_prudential.insert(0, later); // a later date before an earlier one
    let entry = Entry {
        format: FormatVersion::V2,
        seq: 1,
        prev_hash: EntryHash::GENESIS,
        recorded_at: Timestamp::EPOCH,
        body: EntryBody::GroupRecord(std::sync::Arc::new(config)),
    };
    let hash = entry.hash();
    let mut journal = serde_json::to_vec(&cashpool_ledger::testing::export_line(&entry, hash)).unwrap();
    journal.push(b'\n');
    let report = audit::verify_journal(&mut std::io::Cursor::new(&journal)).unwrap();
    assert!(!report.ok, "{report:?}");
    assert_eq!(report.first_bad_seq, Some(1), "{report:?}");
    assert!(report.reason.as_deref().unwrap_or("").contains("macro_prudential"), "{report:?}");
    assert!(matches!(
        audit::replay_journal(&mut std::io::Cursor::new(&journal), None),
        Err(audit::AuditError::Integrity(_))
    ));
}
