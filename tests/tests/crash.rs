//! Crash test (sled's `test_crash_recovery`, at scale): a child process
//! (`src/bin/crash_child.rs`) works on a sled store of the example group —
//! atomic batches, sweeps of consecutive value dates, imports of the banks'
//! statements — and the parent kills it with SIGKILL at random moments,
//! reopens the store and checks that:
//! - `audit verify` passes and `audit replay` matches the store (the next
//!   child reopens it, from its state snapshot; after the last cycle the
//!   parent reopens it and finds the replay's head and state digest), and the
//!   state snapshot the child left (kills land in its writes too) holds the
//!   journal's state at its entry (both audits compare the digests);
//! - the journal is a sequence of whole operations, numbered 0, 1, 2, … with
//!   no gap and no repeat: every batch has all its transactions, every sweep
//!   its transactions immediately followed by its `SweepRun` trailer (and no
//!   trailer without them), every import all its statements, each new and
//!   consecutive in its account's numbering;
//! - every operation a child acknowledged is there, whole, at the sequence
//!   numbers it was acknowledged with.
//!
//! The next child reopens the store, submits the last operation it finds again
//! (it must be a no-op) and goes on with the next one, which is the operation
//! that was in flight if it was not committed.
//!
//! Kill moments: one cycle in four at a random delay after the start (open,
//! recovery, the first operations), the others a few hundred microseconds
//! after the child begins a batch, a sweep or an import, in turn.
//! `CASHPOOL_CRASH_CYCLES` sets the number of cycles (default 20); run with
//! `--nocapture` for the figures (where kills landed, operations per kind),
//! and with `CASHPOOL_CRASH_VERBOSE=1` for a line per cycle.
//! `CASHPOOL_CRASH_DIR` names the store to work on instead of a new one (a
//! store an earlier run or a child left, to go on with a big journal).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use cashpool_ledger::audit;
use cashpool_ledger::bank::ImportStatus;
use cashpool_ledger::journal::{block_entries, Entry, EntryBody};
use cashpool_ledger::storage::{SledStorage, Storage};
use cashpool_ledger::Ledger;
use chrono::NaiveDate;

const KINDS: [&str; 3] = ["batch", "sweep", "import"];

fn cycles() -> u64 {
    std::env::var("CASHPOOL_CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(20)
}

/// xorshift64*, seeded: the kill moments differ per cycle but the test is repeatable.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// The child's first value date.
fn start_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()
}

/// Parses `<prefix><k>-<i>of<n><suffix>` (batch ids, import sources).
fn parse_tag(text: &str, prefix: &str, suffix: &str) -> Option<(u64, usize, usize)> {
    let rest = text.strip_prefix(prefix)?.strip_suffix(suffix)?;
    let (k, rest) = rest.split_once('-')?;
    let (i, n) = rest.split_once("of")?;
    Some((k.parse().ok()?, i.parse().ok()?, n.parse().ok()?))
}

/// One operation: as a child acknowledged it, or as the journal holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    /// `n` transactions from entry `first_seq` on.
    Batch { date: NaiveDate, n: usize, first_seq: u64 },
    /// `transactions` sweeps, then the trailer.
    Sweep { date: NaiveDate, transactions: usize, trailer_seq: u64 },
    /// `<bank id>/<currency>/<statement id>` and the entry holding it.
    Import { date: NaiveDate, statements: Vec<(String, u64)> },
}

impl Op {
    fn kind(&self) -> &'static str {
        match self {
            Op::Batch { .. } => "batch",
            Op::Sweep { .. } => "sweep",
            Op::Import { .. } => "import",
        }
    }
}

/// `ACK <k> <kind> …` (see the child).
fn parse_ack(line: &str) -> Option<(u64, Op)> {
    let mut words = line.strip_prefix("ACK ")?.split(' ');
    let k = words.next()?.parse().ok()?;
    let kind = words.next()?;
    let date: NaiveDate = words.next()?.parse().ok()?;
    let count: usize = words.next()?.parse().ok()?;
    let op = match kind {
        "batch" => Op::Batch { date, n: count, first_seq: words.next()?.parse().ok()? },
        "sweep" => Op::Sweep { date, transactions: count, trailer_seq: words.next()?.parse().ok()? },
        "import" => {
            let statements = words
                .map(|word| word.split_once('@').and_then(|(key, seq)| Some((key.to_string(), seq.parse().ok()?))))
                .collect::<Option<Vec<_>>>()?;
            if statements.len() != count {
                return None;
            }
            Op::Import { date, statements }
        }
        _ => return None,
    };
    Some((k, op))
}

/// An operation of the journal still being read.
enum Open {
    None,
    Batch { k: u64, date: NaiveDate, n: usize, first_seq: u64, seen: usize },
    Sweep { ids: Vec<String>, first_seq: u64 },
    Import { k: u64, date: NaiveDate, n: usize, statements: Vec<(String, u64)> },
}

/// Reads the journal as the sequence of the child's operations, checking
/// that each is whole, in order and not a repeat.
fn journal_ops(storage: &dyn Storage, cycle: u64) -> Vec<Op> {
    let mut ops: Vec<Op> = Vec::new();
    let mut open = Open::None;
    let mut in_init = true;
    let mut value_date = start_date();
    let mut last_swept: Option<NaiveDate> = None;
    let mut last_imported: Option<NaiveDate> = None;
    let mut statement_keys: HashSet<String> = HashSet::new();
    let mut statement_numbers: HashMap<String, u64> = HashMap::new();
    // Closes the open operation, which must be whole.
    let close = |open: &mut Open, ops: &mut Vec<Op>, seq: u64| match std::mem::replace(open, Open::None) {
        Open::None => {}
        Open::Batch { k, date, n, first_seq, seen } => {
            assert_eq!(seen, n, "cycle {cycle}: batch {k} is partial ({seen} of {n}) before entry {seq}");
            ops.push(Op::Batch { date, n, first_seq });
        }
        Open::Sweep { ids, first_seq } => {
            panic!("cycle {cycle}: sweep transactions {ids:?} from entry {first_seq} without their trailer")
        }
        Open::Import { k, date, n, statements } => {
            assert_eq!(statements.len(), n, "cycle {cycle}: import {k} is partial before entry {seq}");
            ops.push(Op::Import { date, statements });
        }
    };
    let mut seq = 0;
    macro_rules! fail {
        ($($what:tt)*) => { panic!("cycle {cycle}: entry {seq}: {}", format!($($what)*)) };
    }
    let entries = storage.blocks(1).flat_map(|block| {
        let (first_seq, bytes) = block.unwrap();
        let entries: Vec<Entry> = block_entries(&bytes).map(|part| Entry::decode(part.unwrap()).unwrap()).collect();
        assert_eq!(entries.first().map(|entry| entry.seq), Some(first_seq), "cycle {cycle}");
        entries
    });
    for entry in entries {
        assert_eq!(entry.seq, seq + 1, "cycle {cycle}");
        seq = entry.seq;
        match entry.body {
            EntryBody::GroupDefined { .. } | EntryBody::GroupRecord(_) if seq == 1 => {}
            EntryBody::AccountOpened(_) if in_init => {}
            EntryBody::Transaction(tx) if tx.id.starts_with("SW") => {
                in_init = false;
                if tx.value_date != value_date {
                    fail!("sweep {} on {}, the open date is {value_date}", tx.id, tx.value_date);
                }
                match &mut open {
                    Open::Sweep { ids, .. } => ids.push(tx.id),
                    _ => {
                        close(&mut open, &mut ops, seq);
                        open = Open::Sweep { ids: vec![tx.id], first_seq: seq };
                    }
                }
            }
            EntryBody::Transaction(tx) => {
                in_init = false;
                let Some((k, i, n)) = parse_tag(&tx.id, "B", "") else { fail!("unexpected id {}", tx.id) };
                match &mut open {
                    Open::Batch { k: open_k, n: open_n, first_seq, seen, .. } if *open_k == k && i > 0 => {
                        if (i, n, seq) != (*seen, *open_n, *first_seq + i as u64) {
                            fail!("{} out of place in batch {k}", tx.id);
                        }
                        *seen += 1;
                    }
                    _ => {
                        close(&mut open, &mut ops, seq);
                        if i != 0 || k != ops.len() as u64 {
                            fail!("{} where operation {} begins", tx.id, ops.len());
                        }
                        if tx.value_date != value_date {
                            fail!("{} on {}, the open date is {value_date}", tx.id, tx.value_date);
                        }
                        open = Open::Batch { k, date: tx.value_date, n, first_seq: seq, seen: 1 };
                    }
                }
            }
            EntryBody::SweepRun(run) => {
                in_init = false;
                let ids = match std::mem::replace(&mut open, Open::None) {
                    Open::Sweep { ids, first_seq } => {
                        assert_eq!(first_seq + ids.len() as u64, seq);
                        ids
                    }
                    other => {
                        open = other;
                        close(&mut open, &mut ops, seq);
                        Vec::new()
                    }
                };
                let references: Vec<&String> = run.sweeps.iter().map(|line| &line.reference).collect();
                if !references.iter().copied().eq(ids.iter()) {
                    fail!("the trailer of {} lists {references:?}, the journal holds {ids:?}", run.date);
                }
                if run.date != value_date {
                    fail!("a sweep of {}, the open date is {value_date}", run.date);
                }
                ops.push(Op::Sweep { date: run.date, transactions: ids.len(), trailer_seq: seq });
                last_swept = Some(run.date);
                value_date = run.date.succ_opt().unwrap();
            }
            EntryBody::StatementImported(imported) => {
                in_init = false;
                let Some((k, i, n)) = parse_tag(&imported.source, "I", ".sta") else {
                    fail!("unexpected source {}", imported.source)
                };
                let statement = &imported.statement;
                let date = statement.date.unwrap_or_else(|| fail!("an undated statement"));
                let account = format!("{}/{}", statement.account_id, statement.currency);
                let key = format!("{account}/{}", statement.statement_id);
                if imported.status != ImportStatus::New || imported.account.is_none() {
                    fail!("{key}: {:?}, account {:?}", imported.status, imported.account);
                }
                if !statement_keys.insert(key.clone()) {
                    fail!("statement {key} imported twice");
                }
                let number = statement.sequence_number().unwrap_or_else(|| fail!("{key}: no number")).0;
                let previous = statement_numbers.insert(account, number).unwrap_or(0);
                if number != previous + 1 {
                    fail!("{key}: statement number {number} after {previous}");
                }
                match &mut open {
                    Open::Import { k: open_k, date: open_date, n: open_n, statements } if *open_k == k && i > 0 => {
                        if (i, n, date) != (statements.len(), *open_n, *open_date) {
                            fail!("{} out of place in import {k}", imported.source);
                        }
                        statements.push((key, seq));
                    }
                    _ => {
                        close(&mut open, &mut ops, seq);
                        if i != 0 || k != ops.len() as u64 {
                            fail!("{} where operation {} begins", imported.source, ops.len());
                        }
                        if last_imported >= Some(date) || last_swept < Some(date) {
                            fail!("statements of {date} after those of {last_imported:?}, swept {last_swept:?}");
                        }
                        last_imported = Some(date);
                        open = Open::Import { k, date, n, statements: vec![(key, seq)] };
                    }
                }
            }
            other => fail!("unexpected {other:?}"),
        }
    }
    close(&mut open, &mut ops, seq + 1);
    ops
}

/// Where a kill landed, from the child's last line; the operation in flight.
fn landed(last: Option<&str>) -> (String, Option<(u64, String)>) {
    match last.map(|line| line.split(' ').collect::<Vec<_>>()).as_deref() {
        Some(["BEGIN", k, kind]) => (format!("during {kind}"), Some((k.parse().unwrap(), kind.to_string()))),
        Some(["ACK", ..]) => ("between operations".into(), None),
        _ => ("at start (open, recovery, redo)".into(), None),
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged() {
    let started = Instant::now();
    let temp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("CASHPOOL_CRASH_DIR").map_or_else(|| temp.path().to_path_buf(), Into::into);
    let mut rng = 0x5EED_u64;
    let mut acked: BTreeMap<u64, Op> = BTreeMap::new();
    let mut kills: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut redone: BTreeMap<String, u64> = BTreeMap::new();
    let mut rebuilt_checkpoints = 0;
    let mut snapshots_checked = 0;
    let mut snapshot_writes_killed = 0;
    let mut ops: Vec<Op> = Vec::new();
    let mut entries = 0;
    let mut digest = None;
    let mut resumed: BTreeMap<u64, String> = BTreeMap::new();
    let mut completed = 0;
    for cycle in 0..cycles() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash_child"))
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr_pipe = child.stderr.take().unwrap();
        let child = Arc::new(Mutex::new(child));
        // One cycle in four: anywhere (open and recovery, a commit, between commits),
        // within 40 or 250 ms of the start.
        // The others: right after the child begins its m-th batch, sweep or import
        // (the reader kills, for the shortest reaction), at once or a little later.
        let trigger = (cycle % 4 != 0).then(|| {
            let kind = KINDS[(cycle % 4 - 1) as usize];
            let wanted = 1 + next(&mut rng) % 6;
            let delay = match next(&mut rng) % 4 {
                0 => 0,
                1 | 2 => next(&mut rng) % 300,
                _ => next(&mut rng) % 3000,
            };
            (kind, wanted, Duration::from_micros(delay))
        });
        let (killed_send, killed) = mpsc::channel::<()>();
        let reader = {
            let child = Arc::clone(&child);
            std::thread::spawn(move || {
                let mut lines = Vec::new();
                let mut trigger = trigger;
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Some((kind, wanted, delay)) = &mut trigger {
                        if line.starts_with("BEGIN ") && line.ends_with(*kind) {
                            *wanted -= 1;
                            if *wanted == 0 {
                                let until = Instant::now() + *delay;
                                while Instant::now() < until {
                                    std::hint::spin_loop();
                                }
                                let _ = child.lock().unwrap().kill();
                                let _ = killed_send.send(());
                                trigger = None;
                            }
                        }
                    }
                    lines.push(line);
                }
                lines
            })
        };
        match trigger {
            None => {
                // Half of these within the first 40 ms: mostly open, recovery, the redo.
                let window = if next(&mut rng).is_multiple_of(2) { 40 } else { 250 };
                std::thread::sleep(Duration::from_millis(next(&mut rng) % window));
            }
            Some((kind, ..)) => {
                if let Err(mpsc::RecvTimeoutError::Timeout) = killed.recv_timeout(Duration::from_secs(60)) {
                    let _ = child.lock().unwrap().kill();
                    panic!("cycle {cycle}: the child began no {kind} in 60 s: {:?}", reader.join());
                }
            }
        }
        let _ = child.lock().unwrap().kill();
        let status = child.lock().unwrap().wait().unwrap();
        let lines = reader.join().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut stderr_pipe, &mut stderr).unwrap();
        assert!(
            status.code().is_none(),
            "cycle {cycle}: the child must die by the signal, not exit: {status:?} {stderr}"
        );
        for line in &lines {
            if let Some((k, op)) = parse_ack(line) {
                assert!(acked.insert(k, op).is_none(), "cycle {cycle}: operation {k} acknowledged twice");
            } else if let Some(redo) = line.strip_prefix("REDO ") {
                let kind = redo.split(' ').nth(1).unwrap_or("?");
                *redone.entry(kind.to_string()).or_default() += 1;
            } else {
                assert!(line == "READY" || line.starts_with("BEGIN "), "cycle {cycle}: {line:?}");
            }
        }

        // Reopen and check. A kill during a write of the state snapshot leaves its temporary file
        // (opening the store removes it): the snapshot itself must be the old one, whole.
        if dir.join("index").join(".state.snapshot.tmp").exists() {
            snapshot_writes_killed += 1;
        }
        let storage = SledStorage::open(&dir).unwrap();
        if let Some(why) = storage.rebuilt_checkpoint() {
            println!("cycle {cycle}: the checkpoint was rebuilt: {why}");
            rebuilt_checkpoints += 1;
        }
        let report = audit::verify_storage(&storage).unwrap();
        if report.entries == 0 && acked.is_empty() {
            // Killed before init committed: nothing was acknowledged, nothing is there.
            assert!(!report.ok);
            kills.entry("at start (open, recovery, redo)".into()).or_default().0 += 1;
            continue;
        }
        assert!(report.ok, "cycle {cycle}: {report:?}");
        let replay = audit::replay_storage(&storage, None).unwrap();
        assert_eq!(replay.matches_store, Some(true), "cycle {cycle}: {replay:?}");
        // The state snapshot, whole (old or new) whatever the kill interrupted, holds the journal's
        // state at its entry: verify and replay compared it on the way.
        assert_eq!(report.snapshot_seq, replay.snapshot_seq, "cycle {cycle}");
        if report.snapshot_seq.is_some() {
            snapshots_checked += 1;
        }
        assert_eq!((replay.entries, replay.head), (report.entries, report.head), "cycle {cycle}");
        // The posting index (runs written with the id index's, so kills land in them too) gives every
        // account's statement as the journal does, read through a reader's view.
        let reader = Ledger::open_read_only(Box::new(
            cashpool_ledger::storage::JournalSnapshot::open(&dir).expect("a view of the journal"),
        ))
        .expect("the store opens for reading");
        cashpool_tests::assert_statements_are_the_journals(&reader, &format!("cycle {cycle}"));
        drop(reader);
        // The next child reopens the store (and checks what it finds); the parent reads the journal.
        ops = journal_ops(&storage, cycle);
        entries = replay.entries;
        digest = Some(replay.state_digest);
        drop(storage);
        for (k, op) in &acked {
            let found = ops.get(*k as usize);
            assert_eq!(found, Some(op), "cycle {cycle}: operation {k} was acknowledged as {op:?}");
        }

        if std::env::var_os("CASHPOOL_CRASH_VERBOSE").is_some() {
            println!(
                "cycle {cycle}: {:.2} s, {} lines, {} ops, last {:?}",
                started.elapsed().as_secs_f64(),
                lines.len(),
                ops.len(),
                lines.last()
            );
        }
        // An operation in flight and not committed is the one the next child does (else the kill
        // landed in its planning, when an import found nothing to import and became a batch).
        resumed.retain(|k, kind: &mut String| {
            let Some(op) = ops.get(*k as usize) else { return true };
            assert!(op.kind() == kind || kind == "import", "cycle {cycle}: {kind} {k} was in flight, then {op:?}");
            completed += 1;
            false
        });
        let (place, in_flight) = landed(lines.iter().map(String::as_str).rev().find(|l| !l.starts_with("REDO")));
        let tally = kills.entry(place).or_default();
        tally.0 += 1;
        if let Some((k, kind)) = in_flight {
            let journaled = ops.len() as u64;
            assert!(journaled == k || journaled == k + 1, "cycle {cycle}: {k} in flight, {journaled} in the journal");
            if journaled > k {
                // Committed before the kill, never acknowledged: the next child finds it and submits it again, a no-op.
                tally.1 += 1;
            } else {
                resumed.insert(k, kind);
            }
        }
    }
    assert!(!acked.is_empty(), "the children acknowledged operations");
    // The last store reopens too, to the state the replay found.
    let ledger = Ledger::open(Box::new(SledStorage::open(&dir).unwrap())).unwrap();
    assert_eq!(ledger.head().0, entries);
    assert_eq!(Some(ledger.state_digest()), digest);
    assert!(ledger.opened_from().is_some(), "the last store opens from its state snapshot");
    // The posting index, written in runs the kills landed in too, gives every account's statement as the journal does.
    cashpool_tests::assert_statements_are_the_journals(&ledger, "the last store");
    drop(ledger);
    let mut per_kind: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for op in &ops {
        per_kind.entry(op.kind()).or_default().0 += 1;
    }
    for op in acked.values() {
        per_kind.entry(op.kind()).or_default().1 += 1;
    }
    println!(
        "{} cycles in {:.1} s; {} entries, {} operations",
        cycles(),
        started.elapsed().as_secs_f64(),
        entries,
        ops.len()
    );
    for (kind, (journaled, acknowledged)) in &per_kind {
        println!("  {kind}: {journaled} in the journal, {acknowledged} acknowledged");
    }
    for (place, (n, committed)) in &kills {
        println!("  killed {place}: {n} (of them committed, not acknowledged: {committed})");
    }
    println!("  in flight, not committed, then done by a later child: {completed}");
    println!("  the last operation submitted again after a restart (a no-op): {redone:?}");
    println!("  checkpoints rebuilt: {rebuilt_checkpoints}");
    println!("  cycles whose store held a state snapshot, checked against the journal: {snapshots_checked}");
    println!("  kills during a write of the state snapshot (its temporary file left): {snapshot_writes_killed}");
    assert!(snapshots_checked > 0, "no cycle left a state snapshot to check");
    for kind in KINDS {
        assert!(per_kind.get(kind).is_some_and(|(_, acknowledged)| *acknowledged > 0), "no {kind} acknowledged");
    }
}
