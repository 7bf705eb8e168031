//! Crash test (sled's `test_crash_recovery`): a child process posts batches to
//! a sled store; the parent kills it with SIGKILL at random moments, reopens
//! the store and checks that the chain verifies, that no batch is partial and
//! that every acknowledged batch is there. `CASHPOOL_CRASH_CYCLES` sets the
//! number of cycles (default 20).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cashpool_ledger::audit;
use cashpool_ledger::journal::EntryBody;
use cashpool_ledger::storage::SledStorage;
use cashpool_ledger::Ledger;

const BATCH: usize = 50;

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

#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = 0x5EED_u64;
    let mut acked_max: Option<u64> = None;
    for cycle in 0..cycles() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash_child"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let lines = Arc::clone(&lines);
            let stdout = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    lines.lock().unwrap().push(line);
                }
            })
        };
        // Kill anywhere: during open and recovery, during a commit, between commits.
        std::thread::sleep(Duration::from_millis(next(&mut rng) % 250));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        reader.join().unwrap();
        let mut stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            std::io::Read::read_to_string(&mut err, &mut stderr).unwrap();
        }
        assert!(
            status.code().is_none(),
            "cycle {cycle}: the child must die by the signal, not exit: {status:?} {stderr}"
        );
        for line in lines.lock().unwrap().iter() {
            if let Some(batch) = line.strip_prefix("ACK ") {
                let batch: u64 = batch.parse().unwrap();
                acked_max = Some(acked_max.map_or(batch, |max| max.max(batch)));
            }
        }

        // Reopen and check.
        let storage = SledStorage::open(dir.path()).unwrap();
        let report = audit::verify_storage(&storage).unwrap();
        if report.entries == 0 && acked_max.is_none() {
            // Killed before init committed: nothing was acknowledged, nothing is there.
            assert!(!report.ok);
            continue;
        }
        assert!(report.ok, "cycle {cycle}: {report:?}");
        let ledger = Ledger::open(Box::new(storage)).unwrap();
        let mut per_batch: BTreeMap<u64, usize> = BTreeMap::new();
        for item in ledger.entries(1) {
            let (entry, _) = item.unwrap();
            if let EntryBody::Transaction(tx) = entry.body {
                let batch: u64 = tx.id[1..].split('-').next().unwrap().parse().unwrap();
                *per_batch.entry(batch).or_default() += 1;
            }
        }
        for (batch, count) in &per_batch {
            assert_eq!(*count, BATCH, "cycle {cycle}: batch {batch} is partial");
        }
        if let Some(acked_max) = acked_max {
            let stored_max = per_batch.keys().next_back().copied();
            assert!(stored_max >= Some(acked_max), "cycle {cycle}: batch {acked_max} was acknowledged but is lost");
            assert_eq!(per_batch.len() as u64, stored_max.unwrap() + 1, "batches are consecutive");
        }
    }
    assert!(acked_max.is_some(), "the children acknowledged at least one batch");
}
