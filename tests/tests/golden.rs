//! The journal's test vectors (tests/golden/, docs/FORMATS.md "Test vectors"):
//! the format-2 journal and a format-1 journal written before format 2 verify
//! and replay to their pinned heads and state digests, and a store that began
//! in format 1 opens, takes format-2 entries after its format-1 ones, and
//! verifies and replays whole.

use std::path::PathBuf;
use std::sync::Arc;

use cashpool_ledger::audit;
use cashpool_ledger::journal::{Entry, EntryHash, FormatVersion, Timestamp};
use cashpool_ledger::model::Purpose;
use cashpool_ledger::storage::{Checkpoint, Commit, MemoryStorage, Storage};
use cashpool_ledger::testing::{block_push, ExportLine};
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{BatchMode, Ledger};
use serde_json::Value;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden").join(name)
}

fn expected(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(golden(name)).unwrap()).unwrap()
}

fn text(name: &str) -> String {
    std::fs::read_to_string(golden(name)).unwrap()
}

#[test]
fn the_format_2_test_vector_verifies_and_replays_to_its_pinned_head_and_digest() {
    let pinned = expected("journal-v2.expected.json");
    let journal = text("journal-v2.jsonl");
    let verified = audit::verify_journal(&mut journal.as_bytes()).unwrap();
    assert!(verified.ok, "{verified:?}");
    assert_eq!(verified.entries, pinned["entries"].as_u64().unwrap());
    assert_eq!(verified.head.to_hex(), pinned["head"].as_str().unwrap());
    let replayed = audit::replay_journal(&mut journal.as_bytes(), None).unwrap();
    assert_eq!(replayed.state_digest.to_string(), pinned["state_digest"].as_str().unwrap());
    // Every kind is in it, and every line is format 2.
    let mut kinds: Vec<String> = journal
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            assert_eq!(value["version"], 2, "{line}");
            value["kind"].as_str().unwrap().to_string()
        })
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds.len(), 9, "{kinds:?}");
    for effect in ["\"drawdown\":{", "\"repayment\":{", "\"pool_flow\":{", "\"rate\":{", "\"foreign_debt\":{"] {
        assert!(journal.contains(effect), "the vector holds a transaction with {effect}");
    }
}

#[test]
fn the_format_1_journal_written_before_format_2_still_verifies_and_replays() {
    let pinned = expected("journal-v1.expected.json");
    let journal = text("journal-v1.jsonl");
    let verified = audit::verify_journal(&mut journal.as_bytes()).unwrap();
    assert!(verified.ok, "{verified:?}");
    assert_eq!(verified.entries, pinned["entries"].as_u64().unwrap());
    assert_eq!(verified.head.to_hex(), pinned["head"].as_str().unwrap());
    let replayed = audit::replay_journal(&mut journal.as_bytes(), None).unwrap();
    assert_eq!(replayed.state_digest.to_string(), pinned["state_digest_v2"].as_str().unwrap());
}

/// A storage holding the format-1 journal as a store written before format 2 held it.
fn format_1_store() -> MemoryStorage {
    let storage = MemoryStorage::new();
    let mut block = Vec::new();
    let mut last = (0, EntryHash::GENESIS);
    for line in text("journal-v1.jsonl").lines() {
        let parsed: ExportLine = serde_json::from_str(line).unwrap();
        let entry = Entry {
            format: FormatVersion::V1,
            seq: parsed.seq,
            prev_hash: parsed.prev_hash,
            recorded_at: parsed.recorded_at,
            body: parsed.body,
        };
        let bytes = entry.encode();
        assert_eq!(bytes[0], 1);
        assert_eq!(Entry::decode(&bytes).unwrap().hash(), parsed.hash);
        block_push(&mut block, &bytes);
        last = (entry.seq, parsed.hash);
    }
    let commit = Commit { first_seq: 1, last_seq: last.0, block: Arc::new(block), balances: Vec::new(), head: last.1 };
    storage.commit(&commit).unwrap();
    // The balances a format-1 store kept are rebuilt from its journal when it opens: an empty
    // checkpoint is the one a crash before the first checkpoint write would have left.
    storage.write_checkpoint(&Checkpoint::default()).unwrap();
    storage
}

#[test]
fn a_store_begun_in_format_1_opens_and_continues_in_format_2() {
    let storage = format_1_store();
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    let (v1_head_seq, _) = ledger.head();
    let at = Timestamp::parse_rfc3339("2026-12-02T09:00:00Z").unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 6).unwrap();
    let request = TransactionRequest::transfer(
        "AFTER-V1",
        day,
        "EXT-OFFSHORE",
        "HK-OPS",
        "USD",
        "1234.56".parse().unwrap(),
        Purpose::CurrentAccount,
        "INV-1",
        "after the upgrade",
    );
    let outcome = ledger.post_batch(&[request], BatchMode::Atomic, "ops", at).unwrap();
    assert_eq!(outcome.receipts[0].seq, v1_head_seq + 1);
    let new_entry = ledger.entries(v1_head_seq + 1).next().unwrap().unwrap().0;
    assert_eq!(new_entry.format, FormatVersion::V2, "what the ledger writes is format 2");
    let verified = audit::verify_storage(ledger.storage()).unwrap();
    assert!(verified.ok, "{verified:?}");
    let replayed = audit::replay_storage(ledger.storage(), None).unwrap();
    assert_eq!(replayed.state_digest, ledger.state_digest());
    assert_eq!(replayed.matches_store, Some(true));
    // The export holds both formats, and verifies and replays whole.
    let mut export = Vec::new();
    audit::export_jsonl(ledger.storage(), &mut export).unwrap();
    let export = String::from_utf8(export).unwrap();
    assert!(!export.lines().next().unwrap().contains("\"version\""), "format-1 lines are exported as format 1");
    assert!(export.lines().last().unwrap().starts_with("{\"version\":2,"), "format-2 lines say so");
    let verified = audit::verify_journal(&mut export.as_bytes()).unwrap();
    assert!(verified.ok, "{verified:?}");
    assert_eq!((verified.entries, verified.head), ledger.head());
    let replayed = audit::replay_journal(&mut export.as_bytes(), None).unwrap();
    assert_eq!(replayed.state_digest, ledger.state_digest());
    drop(ledger);
    // And it opens again.
    let reopened = Ledger::open(Box::new(storage)).unwrap();
    assert_eq!(reopened.state_digest(), replayed.state_digest);
}
