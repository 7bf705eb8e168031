//! Audit: verify the chain and the stored balances, replay the journal into a
//! state digest, export the journal as JSON Lines, and verify or replay such
//! an export alone — the regulator's copy, without the store.
//!
//! Replay keeps no per-entry state (no idempotency index), so its memory is
//! flat in the number of entries: it grows only with accounts, currencies and
//! value dates.

use std::io::{BufRead, Write};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::GroupConfig;
use crate::journal::{ChainCursor, Entry, EntryBody, EntryHash, Timestamp};
use crate::ledger::{fold_into, fold_storage_partial, journal_entries, reconcile_checkpoint, LedgerError};
use crate::state::{snapshot, State, StateDigest};
use crate::storage::{Storage, StorageError};

/// The longest line of a JSON Lines export (twice the largest entry: JSON text is longer than its bytes).
pub(crate) const EXPORT_LINE_LEN_MAX: usize = 128 << 20;

/// The result of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    /// Entries verified (up to the first bad one).
    pub entries: u64,
    /// The hash of the last good entry.
    pub head: EntryHash,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The entry of the store's state snapshot, whose state digest the fold
    /// was compared with there (docs/STORAGE.md, "The state snapshot"); `None`
    /// when there is none to compare (no snapshot, or one the ledger would not use).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_seq: Option<u64>,
}

/// The result of a replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    pub entries: u64,
    pub head: EntryHash,
    pub state_digest: StateDigest,
    /// Whether the store's stored balances equal the replayed ones at the
    /// entry they reflect (`None` for an export, a replay stopped early with
    /// `--to`, or a view of the journal alone, which has no stored balances).
    pub matches_store: Option<bool>,
    /// The entry of the store's state snapshot whose state digest the replay
    /// matched there (`None`: no snapshot to compare, as for [`VerifyReport`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_seq: Option<u64>,
}

/// An integrity failure found while replaying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {seq}: {reason}")]
pub struct IntegrityError {
    pub seq: u64,
    pub reason: String,
}

/// Errors of an audit over a store: the store could not be read, or the journal is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("reading the journal export: {0}")]
    Io(#[from] std::io::Error),
    #[error("integrity failure at {0}")]
    Integrity(#[from] IntegrityError),
}

fn split(err: LedgerError) -> AuditError {
    match err {
        LedgerError::Storage(err) => AuditError::Storage(err),
        LedgerError::Integrity { seq, reason } => AuditError::Integrity(IntegrityError { seq, reason }),
        other => AuditError::Integrity(IntegrityError { seq: 0, reason: other.to_string() }),
    }
}

/// What [`fold_checking_snapshot`] found.
struct Audited {
    /// The state, up to the first bad entry.
    state: State,
    /// The first bad entry and why.
    failure: Option<(u64, String)>,
    /// The entry of the state snapshot whose digest was compared there.
    snapshot_seq: Option<u64>,
}

/// Folds the stored journal from its first entry (up to `to_seq`), as
/// opening a store without a snapshot does. When the store holds a state
/// snapshot the ledger would use (it decodes, and the journal holds its entry
/// with its hash), the fold's state digest at that entry must be the one the
/// snapshot holds: a snapshot that does not hold the journal's state is an
/// integrity failure at its entry.
fn fold_checking_snapshot(storage: &dyn Storage, to_seq: Option<u64>) -> Result<Audited, StorageError> {
    let stored = match storage.index_read(snapshot::FILE)? {
        Some(bytes) => snapshot::decode(&bytes).ok(),
        None => None,
    };
    let Some(rec) = stored.filter(|rec| to_seq.is_none_or(|to| rec.seq <= to)) else {
        let (state, failure) = fold_storage_partial(storage, false, to_seq)?;
        return Ok(Audited { state, failure, snapshot_seq: None });
    };
    let (state, failure) = fold_storage_partial(storage, false, Some(rec.seq))?;
    if failure.is_some() {
        return Ok(Audited { state, failure, snapshot_seq: None });
    }
    if state.head_seq() != rec.seq || state.head_hash() != EntryHash(rec.hash) {
        // A snapshot of an entry this journal does not hold (the ledger does not use it).
        let (state, failure) = fold_into(state, storage, to_seq)?;
        return Ok(Audited { state, failure, snapshot_seq: None });
    }
    let folded = state.digest();
    let held = StateDigest(EntryHash(rec.digest));
    if folded != held {
        let reason = format!(
            "the state snapshot ({}) at entry {} holds the state digest {held}, but the journal folds to {folded} there",
            snapshot::FILE,
            rec.seq
        );
        return Ok(Audited { state, failure: Some((rec.seq, reason)), snapshot_seq: Some(rec.seq) });
    }
    let (state, failure) = fold_into(state, storage, to_seq)?;
    Ok(Audited { state, failure, snapshot_seq: Some(rec.seq) })
}

/// Verifies a store: the hash chain, every rule on every entry, the stored
/// head, every stored balance against the journal (a storage without a
/// checkpoint, [`Storage::keeps_checkpoint`], has only its journal checked),
/// and the state snapshot's digest against the fold at its entry.
pub fn verify_storage(storage: &dyn Storage) -> Result<VerifyReport, StorageError> {
    let failed = |seq: u64, reason: String, entries: u64, head: EntryHash, snapshot_seq: Option<u64>| VerifyReport {
        ok: false,
        entries,
        head,
        first_bad_seq: Some(seq),
        reason: Some(reason),
        snapshot_seq,
    };
    let (state, snapshot_seq) = match fold_checking_snapshot(storage, None)? {
        Audited { state, failure: None, snapshot_seq } => (state, snapshot_seq),
        Audited { state, failure: Some((seq, reason)), snapshot_seq } => {
            return Ok(failed(seq, reason, state.head_seq(), state.head_hash(), snapshot_seq))
        }
    };
    let entries = state.head_seq();
    if state.head_seq() == 0 {
        return Ok(failed(1, "the journal is empty".into(), 0, EntryHash::GENESIS, None));
    }
    let ok =
        VerifyReport { ok: true, entries, head: state.head_hash(), first_bad_seq: None, reason: None, snapshot_seq };
    if !storage.keeps_checkpoint() {
        // A view of the journal alone (every reader's, JournalSnapshot): the chain and every rule are checked.
        return Ok(ok);
    }
    match reconcile_checkpoint(storage, &state) {
        Ok(_) => Ok(ok),
        Err(LedgerError::Storage(err)) => Err(err),
        Err(LedgerError::Integrity { seq, reason }) => {
            Ok(failed(seq, reason, entries, state.head_hash(), snapshot_seq))
        }
        Err(err) => Ok(failed(state.head_seq(), err.to_string(), entries, state.head_hash(), snapshot_seq)),
    }
}

/// Rebuilds the state from the stored journal alone (entries up to `to_seq`)
/// and returns its digest; compares it with the stored balances and head, and
/// at the state snapshot's entry with the snapshot's digest (a mismatch is an
/// integrity failure there).
pub fn replay_storage(storage: &dyn Storage, to_seq: Option<u64>) -> Result<ReplayReport, AuditError> {
    let (state, snapshot_seq) = match fold_checking_snapshot(storage, to_seq)? {
        Audited { state, failure: None, snapshot_seq } => (state, snapshot_seq),
        Audited { failure: Some((seq, reason)), .. } => {
            return Err(AuditError::Integrity(IntegrityError { seq, reason }))
        }
    };
    // Every entry passed its part's checks; the parts' invariants hold at the end of the fold (a bug if not).
    state.assert_invariants();
    let matches_store = if to_seq.is_none() && storage.keeps_checkpoint() {
        match reconcile_checkpoint(storage, &state) {
            Ok(_) => Some(true),
            Err(LedgerError::Storage(err)) => return Err(AuditError::Storage(err)),
            Err(_) => Some(false),
        }
    } else {
        None
    };
    Ok(ReplayReport {
        entries: state.head_seq(),
        head: state.head_hash(),
        state_digest: state.digest(),
        matches_store,
        snapshot_seq,
    })
}

/// What [`read_storage`] read: how far the journal goes, and the group
/// definition it holds.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoredJournal {
    /// The entries read: the sequence number of the last one (0 for an empty journal).
    pub entries: u64,
    /// The chain head: the hash of the last entry ([`EntryHash::GENESIS`] for an empty journal).
    pub head: EntryHash,
    /// The group definition in force at the head (`None` for an empty journal).
    pub config: Option<Arc<GroupConfig>>,
}

/// Reads the stored journal, checking it as [`replay_storage`] does (each
/// entry decoded, its place in the hash chain and every ledger rule checked),
/// and hands each good entry to `visit`, oldest first. Stops at the first bad
/// entry with its error ([`AuditError::Integrity`] naming its sequence
/// number), after `visit` saw every entry before it.
///
/// The stored counterpart of [`read_journal`]: for readers that render the
/// journal in another form (the hledger export of `cashpool-files`) and must
/// not render a journal that a replay would refuse. It keeps no per-entry
/// state, and does not compare the store's balance checkpoint ([`verify_storage`] does).
pub fn read_storage(storage: &dyn Storage, mut visit: impl FnMut(&Entry)) -> Result<StoredJournal, AuditError> {
    let mut state = State::new(false);
    let mut cursor = ChainCursor::new();
    for item in journal_entries(storage, 1) {
        let (entry, hash) = item.map_err(split)?;
        cursor.accept(&entry, hash).map_err(|err| IntegrityError { seq: err.seq, reason: err.reason })?;
        state.apply_entry(&entry, hash).map_err(|reason| IntegrityError { seq: entry.seq, reason })?;
        debug_assert_eq!(state.head_seq(), entry.seq, "the state's head follows the entries applied");
        visit(&entry);
    }
    debug_assert_eq!(state.head_hash(), cursor.head(), "the fold and the chain agree on the head");
    Ok(StoredJournal { entries: state.head_seq(), head: state.head_hash(), config: state.config().cloned() })
}

/// One line of a JSON Lines export.
#[doc(hidden)] // public for `crate::testing` only
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportLine {
    pub seq: u64,
    pub prev_hash: EntryHash,
    /// SHA-256 of the entry's canonical binary encoding.
    pub hash: EntryHash,
    pub recorded_at: Timestamp,
    pub body: EntryBody,
}

/// Writes the whole journal, one JSON object a line, oldest first. Returns the number of entries.
pub fn export_jsonl(storage: &dyn Storage, out: &mut dyn Write) -> Result<u64, AuditError> {
    let mut n_entries = 0;
    for item in journal_entries(storage, 1) {
        let (entry, hash) = item.map_err(split)?;
        if entry.format == crate::journal::FormatVersion::V2 {
            let line = crate::journal::v2::export_line(&entry, hash);
            serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from)?;
        } else {
            let line = ExportLine {
                seq: entry.seq,
                prev_hash: entry.prev_hash,
                hash,
                recorded_at: entry.recorded_at,
                body: entry.body,
            };
            serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from)?;
        }
        out.write_all(b"\n")?;
        n_entries += 1;
    }
    out.flush()?;
    Ok(n_entries)
}

/// Reads an export line by line, checking each entry's place in the chain,
/// its hash (recomputed from the canonical encoding) and every ledger rule;
/// `visit` sees each good entry and the state after it.
fn walk_journal(
    reader: &mut dyn BufRead,
    to_seq: Option<u64>,
    mut visit: impl FnMut(&Entry, &State),
) -> Result<State, AuditError> {
    let mut state = State::new(false);
    let mut cursor = ChainCursor::new();
    let mut line = String::new();
    let mut canonical: Vec<u8> = Vec::new();
    let mut line_no: u64 = 0;
    loop {
        line.clear();
        let mut limited = <&mut dyn BufRead as std::io::Read>::take(&mut *reader, EXPORT_LINE_LEN_MAX as u64 + 1);
        let n_read = limited.read_line(&mut line)?;
        if n_read == 0 {
            break;
        }
        line_no += 1;
        let seq = cursor.next_seq();
        let bad =
            |reason: String| AuditError::Integrity(IntegrityError { seq, reason: format!("line {line_no}: {reason}") });
        if n_read > EXPORT_LINE_LEN_MAX {
            return Err(bad(format!("longer than {EXPORT_LINE_LEN_MAX} bytes")));
        }
        if line.trim().is_empty() {
            continue;
        }
        if to_seq.is_some_and(|to| seq > to) {
            break;
        }
        let value: serde_json::Value =
            serde_json::from_str(&line).map_err(|err| bad(format!("not a journal entry: {err}")))?;
        let text = line.trim_end_matches(['\n', '\r']);
        let (entry, stated, canonical) = if value.get("version").is_some() {
            let parsed: crate::journal::v2::ExportLineV2 =
                serde_json::from_value(value).map_err(|err| bad(format!("not a journal entry: {err}")))?;
            let entry =
                crate::journal::v2::entry_of_line(&parsed).map_err(|err| bad(format!("not a journal entry: {err}")))?;
            canonical.clear();
            let rendered = crate::journal::v2::export_line(&entry, parsed.hash);
            serde_json::to_writer(&mut canonical, &rendered)
                .map_err(|err| bad(format!("cannot be rendered: {err}")))?;
            (entry, parsed.hash, canonical.clone())
        } else {
            let parsed: ExportLine =
                serde_json::from_str(&line).map_err(|err| bad(format!("not a journal entry: {err}")))?;
            canonical.clear();
            serde_json::to_writer(&mut canonical, &parsed).map_err(|err| bad(format!("cannot be rendered: {err}")))?;
            let entry = Entry {
                format: crate::journal::FormatVersion::V1,
                seq: parsed.seq,
                prev_hash: parsed.prev_hash,
                recorded_at: parsed.recorded_at,
                body: parsed.body,
            };
            (entry, parsed.hash, canonical.clone())
        };
        let is_canonical = canonical == text.as_bytes();
        let hash = entry.hash();
        cursor.accept(&entry, stated).map_err(|err| bad(err.reason))?;
        if hash != stated {
            return Err(bad(format!("the content does not match its hash (recomputed {hash}, stated {stated})")));
        }
        if !is_canonical {
            // The hash covers the canonical binary entry, which several texts
            // could decode to (`1200.5` and `1200.50`); an export has one.
            if let Some(reason) = non_canonical(text, &canonical) {
                return Err(bad(reason));
            }
        }
        state.apply_entry(&entry, hash).map_err(bad)?;
        visit(&entry, &state);
    }
    Ok(state)
}

/// Why a line whose entry is valid is not written as the exporter writes it:
/// the first value (in the exporter's order) whose text differs, or `None`
/// when only whitespace or the order of keys differ (JSON gives them no meaning).
fn non_canonical(text: &str, canonical: &[u8]) -> Option<String> {
    let found: serde_json::Value = serde_json::from_str(text).ok()?;
    let expected: serde_json::Value = serde_json::from_slice(canonical).ok()?;
    let mut path = String::new();
    first_difference(&expected, &found, &mut path).then(|| {
        let at = |value: &serde_json::Value| pointer(value, &path).map_or("nothing".to_string(), |v| v.to_string());
        format!(
            "{path}: {} is not the exporter's form {} (an export has one text per entry: amounts with exactly \
             the currency's minor units, timestamps with microseconds in UTC)",
            at(&found),
            at(&expected)
        )
    })
}

/// Whether `found` differs from `expected`; `path` is left at the first difference
/// (`body.transaction.postings[0].amount`).
fn first_difference(expected: &serde_json::Value, found: &serde_json::Value, path: &mut String) -> bool {
    use serde_json::Value;
    let len = path.len();
    let push_key = |path: &mut String, key: &str| {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    };
    match (expected, found) {
        (Value::Object(expected), Value::Object(found)) => {
            for (key, value) in expected {
                push_key(path, key);
                match found.get(key) {
                    Some(other) if !first_difference(value, other, path) => path.truncate(len),
                    _ => return true,
                }
            }
            if let Some(key) = found.keys().find(|key| !expected.contains_key(*key)) {
                push_key(path, key);
                return true;
            }
            false
        }
        (Value::Array(expected), Value::Array(found)) => {
            for (i, value) in expected.iter().enumerate() {
                path.push_str(&format!("[{i}]"));
                match found.get(i) {
                    Some(other) if !first_difference(value, other, path) => path.truncate(len),
                    _ => return true,
                }
            }
            if found.len() > expected.len() {
                path.push_str(&format!("[{}]", expected.len()));
                return true;
            }
            false
        }
        (expected, found) => expected != found,
    }
}

/// The value at a path written by [`first_difference`].
fn pointer<'v>(value: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    let mut value = value;
    for part in path.split('.').filter(|part| !part.is_empty()) {
        let (key, indices) = part.split_once('[').map_or((part, ""), |(key, rest)| (key, rest));
        value = value.get(key)?;
        for index in indices.split('[').filter(|index| !index.is_empty()) {
            value = value.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(value)
}

/// Verifies an exported journal alone. `Err` only for an unreadable file; a
/// bad journal is a report with `ok: false` and the first bad sequence number.
pub fn verify_journal(reader: &mut dyn BufRead) -> Result<VerifyReport, std::io::Error> {
    let mut entries = 0;
    let mut head = EntryHash::GENESIS;
    let result = walk_journal(reader, None, |entry, state| {
        entries = entry.seq;
        head = state.head_hash();
    });
    Ok(match result {
        Ok(state) if state.head_seq() == 0 => VerifyReport {
            ok: false,
            entries: 0,
            head,
            first_bad_seq: Some(1),
            reason: Some("the journal is empty".into()),
            snapshot_seq: None,
        },
        Ok(state) => VerifyReport {
            ok: true,
            entries: state.head_seq(),
            head: state.head_hash(),
            first_bad_seq: None,
            reason: None,
            snapshot_seq: None,
        },
        Err(AuditError::Io(err)) => return Err(err),
        Err(AuditError::Integrity(err)) => VerifyReport {
            ok: false,
            entries,
            head,
            first_bad_seq: Some(err.seq),
            reason: Some(err.reason),
            snapshot_seq: None,
        },
        Err(AuditError::Storage(err)) => VerifyReport {
            ok: false,
            entries,
            head,
            first_bad_seq: Some(entries + 1),
            reason: Some(err.to_string()),
            snapshot_seq: None,
        },
    })
}

/// Replays an exported journal alone (entries up to `to_seq`) and returns the state digest.
pub fn replay_journal(reader: &mut dyn BufRead, to_seq: Option<u64>) -> Result<ReplayReport, AuditError> {
    let state = walk_journal(reader, to_seq, |_, _| {})?;
    // Every entry passed its part's checks; the parts' invariants hold at the end of the fold (a bug if not).
    state.assert_invariants();
    if state.head_seq() == 0 {
        return Err(AuditError::Integrity(IntegrityError { seq: 1, reason: "the journal is empty".into() }));
    }
    Ok(ReplayReport {
        entries: state.head_seq(),
        head: state.head_hash(),
        state_digest: state.digest(),
        matches_store: None,
        snapshot_seq: None,
    })
}

/// Reads an exported journal alone, checking it as [`verify_journal`] does,
/// and hands each good entry to `visit` (a regulator's reconciliation from an
/// export, say). Stops at the first bad entry with its error.
pub fn read_journal(reader: &mut dyn BufRead, mut visit: impl FnMut(&Entry)) -> Result<u64, AuditError> {
    let state = walk_journal(reader, None, |entry, _| visit(entry))?;
    Ok(state.head_seq())
}
