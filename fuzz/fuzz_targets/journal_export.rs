//! `audit::verify_journal` and `audit::replay_journal` on any bytes as an
//! exported JSON Lines journal: both must return, never panic, and agree.
//!
//! A mutated entry almost never carries the right SHA-256 hash, so on raw
//! input the walk stops at the hash check before the ledger rules see the
//! entry. The second pass therefore re-chains every line that parses as an
//! export line of either format (fresh `seq`, `prev_hash` and `hash`), so that
//! mutated bodies reach `State::apply_entry` too.
#![no_main]

use std::io::Cursor;

use cashpool_ledger::audit::{replay_journal, verify_journal, AuditError};
use cashpool_ledger::journal::{Entry, EntryHash, FormatVersion};
use cashpool_ledger::testing::{entry_of_line, export_line, ExportLine, ExportLineV2};
use libfuzzer_sys::fuzz_target;

fn check(journal: &[u8]) {
    let verified = verify_journal(&mut Cursor::new(journal));
    let replayed = replay_journal(&mut Cursor::new(journal), None);
    match (verified, replayed) {
        // An unreadable line (not UTF-8) is an IO error for both.
        (Err(_), Err(AuditError::Io(_))) => {}
        (Ok(verified), Ok(replayed)) if verified.ok => {
            assert_eq!((verified.entries, verified.head), (replayed.entries, replayed.head));
        }
        (Ok(verified), Err(AuditError::Integrity(_) | AuditError::Storage(_))) if !verified.ok => {}
        (verified, replayed) => panic!("verify and replay disagree: {verified:?} vs {replayed:?}"),
    }
}

fn rechain(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut prev_hash = EntryHash::GENESIS;
    let mut seq = 0;
    for text in text.lines() {
        if let Ok(line) = serde_json::from_str::<ExportLineV2>(text) {
            let Ok(mut entry) = entry_of_line(&line) else { continue };
            seq += 1;
            entry.seq = seq;
            entry.prev_hash = prev_hash;
            let hash = entry.hash();
            serde_json::to_writer(&mut out, &export_line(&entry, hash)).ok()?;
            prev_hash = hash;
        } else if let Ok(line) = serde_json::from_str::<ExportLine>(text) {
            seq += 1;
            let entry =
                Entry { format: FormatVersion::V1, seq, prev_hash, recorded_at: line.recorded_at, body: line.body };
            let hash = entry.hash();
            let line = ExportLine { seq, prev_hash, hash, recorded_at: entry.recorded_at, body: entry.body };
            serde_json::to_writer(&mut out, &line).ok()?;
            prev_hash = hash;
        } else {
            continue;
        }
        out.push(b'\n');
    }
    (seq > 0).then_some(out)
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(rechained) = std::str::from_utf8(data).ok().and_then(rechain) {
        check(&rechained);
    }
});
