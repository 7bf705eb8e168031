//! Many threads posting to the same hot accounts through one shared ledger:
//! group commit serves them all, no update is lost, the result equals the
//! serial sum and the journal verifies.

use std::sync::Arc;

use cashpool_ledger::audit;
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::storage::SledStorage;
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{BatchMode, Ledger};
use cashpool_tests::{at, SMALL_GROUP};
use chrono::NaiveDate;
use rust_decimal::Decimal;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn the_ledger_is_send_and_sync() {
    assert_send_sync::<Ledger>();
}

#[test]
fn concurrent_posters_lose_no_update() {
    const THREADS: u64 = 4;
    const BATCHES: u64 = 25;
    const PER_BATCH: u64 = 8;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(Ledger::create(Box::new(SledStorage::open(dir.path()).unwrap()), SMALL_GROUP, at()).unwrap());
    let date = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let workers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let ledger = Arc::clone(&ledger);
            std::thread::spawn(move || {
                let mut seqs = Vec::new();
                for batch in 0..BATCHES {
                    let requests: Vec<_> = (0..PER_BATCH)
                        .map(|idx| {
                            // Everyone pays into the same hot account, and half of it on to another.
                            let id = format!("T{thread}-{batch}-{idx}");
                            let amount = Decimal::new(i64::try_from(100 + idx).unwrap(), 2);
                            if idx % 2 == 0 {
                                TransactionRequest::transfer(
                                    id,
                                    date,
                                    "EXT",
                                    "T-IMA",
                                    "USD",
                                    amount,
                                    Purpose::CurrentAccount,
                                    "",
                                    "",
                                )
                            } else {
                                TransactionRequest::transfer(
                                    id,
                                    date,
                                    "EXT",
                                    "HK-OPS",
                                    "USD",
                                    amount,
                                    Purpose::CurrentAccount,
                                    "",
                                    "",
                                )
                            }
                        })
                        .collect();
                    let outcome = ledger.post_batch(&requests, BatchMode::Atomic, "thread", at()).unwrap();
                    assert!(outcome.rejected.is_empty());
                    seqs.extend(outcome.receipts.iter().map(|r| r.seq));
                }
                seqs
            })
        })
        .collect();
    let mut seqs: Vec<u64> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    seqs.sort_unstable();
    let n = THREADS * BATCHES * PER_BATCH;
    assert_eq!(seqs.len() as u64, n);
    seqs.dedup();
    assert_eq!(seqs.len() as u64, n, "every transaction has its own sequence number");
    assert_eq!(seqs.last().copied(), Some(ledger.head().0));

    let usd = Currency::from_code("USD").unwrap();
    let per_thread_ima: i64 = (0..PER_BATCH).filter(|i| i % 2 == 0).map(|i| 100 + i64::try_from(i).unwrap()).sum();
    let per_thread_hk: i64 = (0..PER_BATCH).filter(|i| i % 2 == 1).map(|i| 100 + i64::try_from(i).unwrap()).sum();
    let scale = i64::try_from(THREADS * BATCHES).unwrap();
    assert_eq!(ledger.balance("T-IMA", usd, None).unwrap(), Decimal::new(per_thread_ima * scale, 2));
    assert_eq!(ledger.balance("HK-OPS", usd, None).unwrap(), Decimal::new(per_thread_hk * scale, 2));
    assert_eq!(ledger.balance("EXT", usd, None).unwrap(), -Decimal::new((per_thread_ima + per_thread_hk) * scale, 2));
    let replay = audit::replay_storage(ledger.storage(), None).unwrap();
    assert_eq!(replay.state_digest, ledger.state_digest());
    assert!(audit::verify_storage(ledger.storage()).unwrap().ok);
}

#[test]
fn racing_resubmissions_post_each_id_once_and_agree_on_its_receipt() {
    const THREADS: usize = 4;
    const N: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(Ledger::create(Box::new(SledStorage::open(dir.path()).unwrap()), SMALL_GROUP, at()).unwrap());
    let date = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let requests: Arc<Vec<TransactionRequest>> = Arc::new(
        (0..N)
            .map(|idx| {
                let amount = Decimal::new(i64::try_from(idx + 1).unwrap(), 2);
                TransactionRequest::transfer(
                    format!("R{idx}"),
                    date,
                    "EXT",
                    "T-IMA",
                    "USD",
                    amount,
                    Purpose::Other,
                    "",
                    "",
                )
            })
            .collect(),
    );
    let workers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let ledger = Arc::clone(&ledger);
            let requests = Arc::clone(&requests);
            std::thread::spawn(move || {
                // Each thread walks the same requests from another starting point.
                let order: Vec<usize> = (0..N).map(|i| (i + thread * N / THREADS) % N).collect();
                let mut receipts = Vec::new();
                for chunk in order.chunks(10) {
                    let batch: Vec<_> = chunk.iter().map(|&i| requests[i].clone()).collect();
                    let outcome = ledger.post_batch(&batch, BatchMode::Atomic, "race", at()).unwrap();
                    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
                    receipts.extend(outcome.receipts.into_iter().map(|r| (r.id, r.seq, r.head)));
                }
                receipts.sort();
                receipts
            })
        })
        .collect();
    let all: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    for other in &all[1..] {
        assert_eq!(other, &all[0], "every thread got the same receipt for each id");
    }
    assert_eq!(ledger.n_transactions(), N as u64, "each id was posted once");
    let usd = Currency::from_code("USD").unwrap();
    let total: i64 = (1..=N as i64).sum();
    assert_eq!(ledger.balance("T-IMA", usd, None).unwrap(), Decimal::new(total, 2));
    assert!(audit::verify_storage(ledger.storage()).unwrap().ok);
}

/// Everything at once on the example group: posters paying into and out of
/// the hot members' accounts, a thread sweeping each day into the pool
/// headers, a thread importing the banks' statements, and readers
/// (balances, the journal, the reconciliation) all the while. Nothing
/// deadlocks, every writer's acknowledged work is in the journal, and the
/// store verifies and replays to the live state.
#[test]
fn posters_sweeps_imports_and_readers_together() {
    use cashpool_ledger::bank::StatementFormat;
    use cashpool_recon::generate::StatementGenerator;
    use std::sync::atomic::{AtomicBool, Ordering};

    const GROUP: &str = include_str!("../../examples/lingang-group.toml");
    let dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(Ledger::create(Box::new(SledStorage::open(dir.path()).unwrap()), GROUP, at()).unwrap());
    let days: Vec<NaiveDate> = (2..=6).map(|d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap()).collect();
    let done = Arc::new(AtomicBool::new(false));
    let posters_done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    const POSTERS: usize = 3;

    let posters: Vec<_> = (0..POSTERS as u32)
        .map(|thread| {
            let (ledger, days, posters_done) = (Arc::clone(&ledger), days.clone(), Arc::clone(&posters_done));
            std::thread::spawn(move || {
                let mut posted = Vec::new();
                for (d, date) in days.iter().enumerate() {
                    for batch in 0..6u32 {
                        let requests: Vec<_> = (0..10u32)
                            .map(|k| {
                                let id = format!("P{thread}-{d}-{batch}-{k}");
                                let amount = Decimal::new(i64::from(1_000 + k * 7 + thread), 2);
                                // Receipts into the swept members; every third one pays a supplier.
                                let (from, to) =
                                    if k % 3 == 2 { ("SZ-OPS", "EXT-ONSHORE") } else { ("EXT-ONSHORE", "SZ-OPS") };
                                TransactionRequest::transfer(
                                    id,
                                    *date,
                                    from,
                                    to,
                                    "CNY",
                                    amount,
                                    Purpose::CurrentAccount,
                                    format!("R{thread}{d}{batch}{k}"),
                                    "",
                                )
                            })
                            .collect();
                        // SZ-OPS has an overdraft line, so a batch is never refused for want of funds.
                        let outcome = ledger.post_batch(&requests, BatchMode::Atomic, "poster", at()).unwrap();
                        assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
                        posted.extend(requests.into_iter().map(|r| r.id));
                    }
                }
                posters_done.fetch_add(1, Ordering::SeqCst);
                posted
            })
        })
        .collect();
    let sweeper = {
        let (ledger, days) = (Arc::clone(&ledger), days.clone());
        std::thread::spawn(move || {
            let mut runs = 0;
            for date in &days {
                let outcome = ledger.sweep(*date, false, at()).unwrap();
                runs += usize::from(!outcome.already_run);
            }
            runs
        })
    };
    let importer = {
        let (ledger, days, posters_done) = (Arc::clone(&ledger), days.clone(), Arc::clone(&posters_done));
        std::thread::spawn(move || {
            let mut generator = StatementGenerator::new();
            let mut next = 1;
            let mut imported = 0;
            for date in &days {
                // The day's statements once the posters have moved money that
                // day (the importer may start before any of them).
                let statements = loop {
                    let finished = posters_done.load(Ordering::SeqCst) == POSTERS;
                    for item in ledger.entries(next) {
                        let (entry, _) = item.unwrap();
                        next = entry.seq + 1;
                        generator.push(&entry);
                    }
                    let statements = generator.statements_for(*date, |_| StatementFormat::Mt940);
                    if !statements.is_empty() || finished {
                        break statements;
                    }
                    std::thread::yield_now();
                };
                let named = statements.into_iter().map(|s| ("bank.sta".to_string(), s)).collect::<Vec<_>>();
                imported += named.len();
                ledger.import_statements(named, at()).unwrap();
            }
            imported
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (ledger, done) = (Arc::clone(&ledger), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let balances = ledger.balances(None, None, None).unwrap();
                    assert!(!balances.is_empty());
                    let mut reconciler = cashpool_recon::Reconciler::new(cashpool_recon::ReconOptions::default());
                    for item in ledger.entries(1) {
                        reconciler.push(&item.unwrap().0);
                    }
                    let _ = reconciler.finish();
                    reads += 1;
                }
                reads
            })
        })
        .collect();

    let posted: Vec<String> = posters.into_iter().flat_map(|p| p.join().unwrap()).collect();
    let sweeps = sweeper.join().unwrap();
    let imported = importer.join().unwrap();
    done.store(true, Ordering::Relaxed);
    let reads: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(reads > 0);
    assert_eq!(sweeps, days.len());
    assert!(imported > 0);

    // Every acknowledged transaction is in the journal exactly once.
    let mut journaled = std::collections::HashSet::new();
    for item in ledger.entries(1) {
        if let cashpool_ledger::journal::EntryBody::Transaction(tx) = item.unwrap().0.body {
            assert!(journaled.insert(tx.id.clone()), "{} twice", tx.id);
        }
    }
    assert!(posted.iter().all(|id| journaled.contains(id)));
    assert!(audit::verify_storage(ledger.storage()).unwrap().ok);
    let replay = audit::replay_storage(ledger.storage(), None).unwrap();
    assert_eq!(replay.matches_store, Some(true));
    assert_eq!(replay.state_digest, ledger.state_digest());
}

/// One-at-a-time transfers EXT → T-IMA from `threads` posters at once; each
/// poster returns the ids acknowledged and the first error it met (after which it stops).
fn post_one_at_a_time(ledger: &Ledger, threads: u32, per_thread: u32) -> Vec<(Vec<String>, Option<String>)> {
    std::thread::scope(|scope| {
        let posters: Vec<_> = (0..threads)
            .map(|thread| {
                scope.spawn(move || {
                    let mut acknowledged = Vec::new();
                    for k in 0..per_thread {
                        let id = format!("G{thread}-{k}");
                        let request = TransactionRequest::transfer(
                            id.clone(),
                            NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
                            "EXT",
                            "T-IMA",
                            "USD",
                            Decimal::new(100, 2),
                            Purpose::CurrentAccount,
                            "",
                            "",
                        );
                        match ledger.post_batch(&[request], BatchMode::Atomic, "poster", at()) {
                            Ok(outcome) => {
                                assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
                                acknowledged.push(id);
                            }
                            Err(err) => return (acknowledged, Some(err.to_string())),
                        }
                    }
                    (acknowledged, None)
                })
            })
            .collect();
        posters.into_iter().map(|poster| poster.join().unwrap()).collect()
    })
}

/// A failed group write wakes every waiting poster with an error (none waits
/// for ever), and after a reopen exactly the acknowledged transactions are there.
#[test]
fn a_failed_group_write_fails_every_poster_waiting_for_it() {
    use cashpool_ledger::journal::EntryBody;
    use cashpool_ledger::storage::MemoryStorage;
    use cashpool_tests::faulty::{Fault, Faults, FaultyStorage};

    let inner = MemoryStorage::new();
    let faults = Faults::new();
    let ledger =
        Ledger::create(Box::new(FaultyStorage::new(inner.clone(), faults.clone())), SMALL_GROUP, at()).unwrap();
    faults.arm(40, Fault::Io);
    let results = post_one_at_a_time(&ledger, 8, 50);
    assert!(faults.injection().is_some(), "the fault was injected");
    // Every poster met the failure (its own write, or the poisoned ledger after it).
    for (acknowledged, error) in &results {
        let error = error.as_deref().expect("no poster goes on after the failed write");
        assert!(error.contains("injected") || error.contains("an earlier write failed"), "{error}");
        assert!(acknowledged.len() < 50);
    }
    drop(ledger);
    let reopened = Ledger::open(Box::new(inner)).unwrap();
    let mut journaled = std::collections::HashSet::new();
    for item in reopened.entries(1) {
        if let EntryBody::Transaction(tx) = item.unwrap().0.body {
            journaled.insert(tx.id);
        }
    }
    let acknowledged: std::collections::HashSet<String> =
        results.into_iter().flat_map(|(acknowledged, _)| acknowledged).collect();
    assert_eq!(journaled, acknowledged, "exactly the acknowledged transactions are durable");
    assert!(audit::verify_storage(reopened.storage()).unwrap().ok);
}

/// A storage whose `n`-th commit panics (a bug in a backend, say).
struct PanicsAtCommit {
    inner: cashpool_ledger::storage::MemoryStorage,
    commits: std::sync::atomic::AtomicU64,
    panic_at: u64,
}

impl cashpool_ledger::storage::Storage for PanicsAtCommit {
    fn blocks(&self, from_seq: u64) -> cashpool_ledger::storage::BlockIter<'_> {
        self.inner.blocks(from_seq)
    }

    fn commit(&self, commit: &cashpool_ledger::storage::Commit) -> Result<(), cashpool_ledger::storage::StorageError> {
        let n = self.commits.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        assert!(n != self.panic_at, "the backend panics at commit {n}");
        self.inner.commit(commit)
    }

    fn checkpoint(&self) -> Result<cashpool_ledger::storage::Checkpoint, cashpool_ledger::storage::StorageError> {
        self.inner.checkpoint()
    }

    fn write_checkpoint(
        &self,
        checkpoint: &cashpool_ledger::storage::Checkpoint,
    ) -> Result<(), cashpool_ledger::storage::StorageError> {
        self.inner.write_checkpoint(checkpoint)
    }

    fn is_empty(&self) -> Result<bool, cashpool_ledger::storage::StorageError> {
        self.inner.is_empty()
    }
    fn index_write(
        &self,
        name: &str,
        fill: &mut cashpool_ledger::storage::IndexFill<'_>,
    ) -> Result<(), cashpool_ledger::storage::StorageError> {
        self.inner.index_write(name, fill)
    }

    fn index_read_at(
        &self,
        name: &str,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), cashpool_ledger::storage::StorageError> {
        self.inner.index_read_at(name, offset, buf)
    }

    fn index_read(&self, name: &str) -> Result<Option<Vec<u8>>, cashpool_ledger::storage::StorageError> {
        self.inner.index_read(name)
    }

    fn index_remove(&self, name: &str) -> Result<(), cashpool_ledger::storage::StorageError> {
        self.inner.index_remove(name)
    }

    fn index_names(&self) -> Result<Vec<String>, cashpool_ledger::storage::StorageError> {
        self.inner.index_names()
    }
}

/// A write that panics poisons the ledger and wakes the waiting posters:
/// the panicking poster unwinds, every other one gets an error, none hangs.
#[test]
fn a_panicking_group_write_leaves_no_poster_waiting() {
    let storage = PanicsAtCommit {
        inner: cashpool_ledger::storage::MemoryStorage::new(),
        commits: std::sync::atomic::AtomicU64::new(0),
        panic_at: 30,
    };
    let ledger = Ledger::create(Box::new(storage), SMALL_GROUP, at()).unwrap();
    let outcomes: Vec<std::thread::Result<(Vec<String>, Option<String>)>> = std::thread::scope(|scope| {
        let posters: Vec<_> =
            (0..6).map(|_| scope.spawn(|| post_one_at_a_time(&ledger, 1, 40).pop().unwrap())).collect();
        posters.into_iter().map(|poster| poster.join()).collect()
    });
    let panicked = outcomes.iter().filter(|outcome| outcome.is_err()).count();
    assert_eq!(panicked, 1, "the poster that wrote the failing block unwinds");
    for (_, error) in outcomes.into_iter().flatten() {
        let error = error.expect("no poster goes on");
        assert!(error.contains("an earlier write failed"), "{error}");
    }
}
