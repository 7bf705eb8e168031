//! Readers and writers of one store in separate processes, as the contract
//! puts it: "A writer that finds the store held by another writer waits up to
//! `--wait SECONDS` (default 10) and then exits 1 saying who holds it; readers
//! never wait for writers and never make them fail."
//!
//! Every file posted here is one commit of two transactions: file *i* pays
//! 2^*i* USD from `EXT-OFFSHORE` into `HK-OPS` and as much into `SG-OPS`. A
//! reader therefore sees a consistent state exactly when the two balances are
//! equal (a commit is seen whole or not at all), their value in dollars is the
//! set of files seen (bit *i*: file *i*), and the journal holds the 24 entries
//! of `init` plus an even number. The journal only grows, so each reader's
//! successive states only add files. No test asserts how long anything takes:
//! waits are given generous budgets, and the handover test waits for the
//! writer to say that it is waiting before letting go.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use cashpool_files::transactions::{parse_transactions, TransactionFormat};
use cashpool_ledger::journal::Timestamp;
use cashpool_ledger::storage::{LockHolder, SledStorage};
use cashpool_ledger::{BatchMode, Ledger};
use common::{items, string, text, Run, NOW};
use serde_json::Value;
use tempfile::TempDir;

const EXAMPLE_GROUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lingang-group.toml");
/// Entries `init` writes for the example group.
const INIT_ENTRIES: u64 = 24;
/// Files posted by each test.
const FILES: u32 = 8;

fn cashpool(data: &Path, args: &[&str]) -> Run {
    common::cashpool_as("concurrency-test", data, args)
}

/// A fresh store of the example group, and the files 0..FILES next to it.
struct Store {
    dir: TempDir,
    files: Vec<PathBuf>,
}

impl Store {
    fn new() -> Store {
        let dir = tempfile::tempdir().expect("tempdir");
        cashpool(&dir.path().join("store"), &["init", "--config", EXAMPLE_GROUP, "--format", "json"]).expect(0);
        let files = (0..FILES)
            .map(|i| {
                let path = dir.path().join(format!("file-{i}.csv"));
                std::fs::write(&path, file_text(i)).expect("write a file");
                path
            })
            .collect();
        Store { dir, files }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("store")
    }
}

/// File `i`: one commit paying 2^i USD into HK-OPS and as much into SG-OPS.
fn file_text(i: u32) -> String {
    let amount = 1u64 << i;
    format!(
        "id,value_date,from,to,currency,amount,purpose,reference,memo\n\
         F{i}-HK,2026-11-05,EXT-OFFSHORE,HK-OPS,USD,{amount}.00,current_account,F{i},file {i}\n\
         F{i}-SG,2026-11-05,EXT-OFFSHORE,SG-OPS,USD,{amount}.00,current_account,F{i},file {i}\n"
    )
}

/// Whole dollars of an amount string that must have no cents.
#[track_caller]
fn dollars(amount: &str) -> u64 {
    amount.strip_suffix(".00").and_then(|whole| whole.parse().ok()).unwrap_or_else(|| panic!("amount {amount:?}"))
}

/// The files a `balances` JSON shows, checking that it shows whole commits.
#[track_caller]
fn files_in_balances(balances: &Value) -> u64 {
    let usd = |account: &str| {
        items(balances, "balances")
            .iter()
            .find(|row| row["account"] == account && row["currency"] == "USD")
            .map(|row| dollars(&string(row, "balance")))
            .unwrap_or_else(|| panic!("no {account} USD in {balances}"))
    };
    let (hk, sg) = (usd("HK-OPS"), usd("SG-OPS"));
    assert_eq!(hk, sg, "a commit seen in part: {balances}");
    assert!(hk < 1 << FILES, "{balances}");
    hk
}

/// The files an HK-OPS USD `statement` JSON shows: its lines name them, and its closing balance agrees.
#[track_caller]
fn files_in_statement(statement: &Value) -> u64 {
    let mut seen = 0u64;
    for line in items(statement, "lines") {
        let id = string(&line, "id");
        let i: u32 = id
            .strip_prefix('F')
            .and_then(|rest| rest.strip_suffix("-HK"))
            .and_then(|i| i.parse().ok())
            .unwrap_or_else(|| panic!("line {line}"));
        assert_eq!(dollars(&string(&line, "amount")), 1 << i, "{line}");
        assert_eq!(seen & (1 << i), 0, "file {i} twice: {statement}");
        seen |= 1 << i;
    }
    let closing = items(statement, "closing").iter().map(|row| dollars(&string(row, "balance"))).sum::<u64>();
    assert_eq!(closing, seen, "{statement}");
    seen
}

/// What a reader runs, and what it makes of the output: the files seen, or the number of entries.
#[derive(Clone, Copy, Debug)]
enum Reader {
    Balances,
    Statement,
    Verify,
}

impl Reader {
    const ALL: [Reader; 3] = [Reader::Balances, Reader::Statement, Reader::Verify];

    /// One run: exit 0, a consistent state; returns what only grows (files seen, or entries).
    #[track_caller]
    fn read(self, data: &Path) -> u64 {
        // `--wait 0`: a reader that waited for a writer would fail here instead.
        match self {
            Reader::Balances => {
                files_in_balances(&cashpool(data, &["--wait", "0", "balances", "--format", "json"]).expect(0).json())
            }
            Reader::Statement => files_in_statement(
                &cashpool(
                    data,
                    &["--wait", "0", "statement", "--account", "HK-OPS", "--currency", "USD", "--format", "json"],
                )
                .expect(0)
                .json(),
            ),
            Reader::Verify => {
                let run = cashpool(data, &["--wait", "0", "audit", "verify", "--format", "json"]).expect(0);
                let verify = run.json();
                assert_eq!(
                    (verify["ok"].as_bool(), verify["stored_balances_checked"].as_bool()),
                    (Some(true), Some(false)),
                    "{verify}"
                );
                let entries = verify["entries"].as_u64().expect("entries");
                assert!(
                    entries >= INIT_ENTRIES && (entries - INIT_ENTRIES).is_multiple_of(2),
                    "a commit seen in part: {verify}"
                );
                assert!(entries <= INIT_ENTRIES + 2 * u64::from(FILES), "{verify}");
                entries
            }
        }
    }
}

/// Sets the flag when the thread that holds it panics.
struct StopOnPanic<'s>(&'s AtomicBool);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

/// Readers in other processes, each running one kind of read in a loop until stopped.
struct Readers<'s> {
    stop: &'s AtomicBool,
    runs: &'s [AtomicU64; 3],
}

impl Readers<'_> {
    /// Runs `work` while the readers read `data`; then checks what each saw and returns `work`'s result.
    fn around<T>(data: &Path, work: impl FnOnce(&Readers<'_>) -> T) -> T {
        let stop = AtomicBool::new(false);
        let runs = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
        std::thread::scope(|scope| {
            let threads: Vec<_> = Reader::ALL
                .iter()
                .zip(&runs)
                .map(|(reader, count)| {
                    let stop = &stop;
                    scope.spawn(move || {
                        // A reader that fails stops the waiting below; its panic fails the test at the join.
                        let _guard = StopOnPanic(stop);
                        let mut seen: Vec<u64> = Vec::new();
                        loop {
                            let now = reader.read(data);
                            if let Some(&before) = seen.last() {
                                match reader {
                                    // Files seen before are still seen: the journal only grows.
                                    Reader::Balances | Reader::Statement => {
                                        assert_eq!(before & !now, 0, "{reader:?}: {before:b} then {now:b}")
                                    }
                                    Reader::Verify => assert!(before <= now, "{reader:?}: {before} then {now} entries"),
                                }
                            }
                            seen.push(now);
                            count.fetch_add(1, Ordering::SeqCst);
                            if stop.load(Ordering::SeqCst) {
                                return;
                            }
                        }
                    })
                })
                .collect();
            let readers = Readers { stop: &stop, runs: &runs };
            // Every reader has read once before the work starts.
            readers.let_each_read_again(1);
            let result = work(&readers);
            stop.store(true, Ordering::SeqCst);
            for thread in threads {
                thread.join().expect("a reader failed (its panic is printed above)");
            }
            result
        })
    }

    /// Waits until every reader has finished `n` more runs (a run that started
    /// before this call counts for at most one of them), so that reads overlap
    /// the work and see the states between its steps. A reader that failed has
    /// set `stop`, and is not waited for.
    fn let_each_read_again(&self, n: u64) {
        let targets: Vec<u64> = self.runs.iter().map(|count| count.load(Ordering::SeqCst) + n).collect();
        while !self.stop.load(Ordering::SeqCst)
            && self.runs.iter().zip(&targets).any(|(count, target)| count.load(Ordering::SeqCst) < *target)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// The state after every file: both accounts hold 2^FILES - 1 dollars, the
/// journal every entry, and the stored balances match it (`--exclusive`).
#[track_caller]
fn assert_every_file_posted(data: &Path) {
    let all = (1u64 << FILES) - 1;
    assert_eq!(files_in_balances(&cashpool(data, &["balances", "--format", "json"]).expect(0).json()), all);
    let verify = cashpool(data, &["audit", "verify", "--exclusive", "--format", "json"]).expect(0).json();
    assert_eq!(
        (verify["ok"].as_bool(), verify["entries"].as_u64(), verify["stored_balances_checked"].as_bool()),
        (Some(true), Some(INIT_ENTRIES + 2 * u64::from(FILES)), Some(true)),
        "{verify}"
    );
    let replay = cashpool(data, &["audit", "replay", "--exclusive", "--format", "json"]).expect(0).json();
    assert_eq!(replay["matches_store"], true, "{replay}");
}

#[test]
fn readers_in_other_processes_never_make_a_writer_wait_or_fail() {
    let store = Store::new();
    let data = store.data();
    Readers::around(&data, |readers| {
        for file in &store.files {
            // `--wait 0`: had any reader held the store, this post would fail.
            let posted = cashpool(&data, &["--wait", "0", "post", text(file), "--report", "json"]).expect(0).json();
            assert_eq!(posted["posted"], 2, "{posted}");
            readers.let_each_read_again(2);
        }
    });
    assert_every_file_posted(&data);
}

#[test]
fn two_writers_at_once_wait_for_each_other_and_post_everything() {
    let store = Store::new();
    let data = store.data();
    Readers::around(&data, |_| {
        std::thread::scope(|scope| {
            let writers: Vec<_> = store
                .files
                .chunks(store.files.len() / 2)
                .map(|files| {
                    let data = &data;
                    scope.spawn(move || {
                        for file in files {
                            let run = cashpool(data, &["--wait", "120", "post", text(file), "--report", "json"]);
                            assert_eq!(run.expect(0).json()["posted"], 2);
                        }
                    })
                })
                .collect();
            for writer in writers {
                writer.join().expect("a writer failed (its panic is printed above)");
            }
        });
    });
    assert_every_file_posted(&data);
}

#[test]
fn readers_in_other_processes_see_whole_commits_of_a_writer_that_holds_the_store() {
    let store = Store::new();
    let data = store.data();
    let at = Timestamp::parse_rfc3339(NOW).unwrap();
    let holder = LockHolder::this_process().with_command("the concurrency test");
    let ledger = Ledger::open(Box::new(SledStorage::open_wait(&data, &holder, Duration::ZERO).unwrap())).unwrap();
    Readers::around(&data, |readers| {
        for i in 0..FILES {
            let requests: Vec<_> = parse_transactions(TransactionFormat::Csv, &file_text(i))
                .rows
                .into_iter()
                .map(|row| row.request)
                .collect();
            let outcome = ledger.post_batch(&requests, BatchMode::Atomic, "writer", at).unwrap();
            assert_eq!((outcome.receipts.len(), outcome.rejected.len()), (2, 0));
            readers.let_each_read_again(2);
        }
    });
    // Still held: a reader sees everything, a writer is refused naming this process.
    let all = (1u64 << FILES) - 1;
    assert_eq!(Reader::Balances.read(&data), all);
    cashpool(&data, &["--wait", "0", "post", text(&store.files[0])])
        .expect(1)
        .stderr_has(&[&format!("pid {}, `the concurrency test`", std::process::id())]);
    drop(ledger);
    assert_every_file_posted(&data);
}

#[test]
fn a_writer_waits_for_the_holder_then_gives_up_naming_it_or_gets_the_store_when_it_is_released() {
    let store = Store::new();
    let data = store.data();
    let pid = std::process::id();
    let since = Timestamp::parse_rfc3339("2026-12-07T19:00:00Z").unwrap();
    let holder = LockHolder::this_process().with_command("cashpool post").with_operator("holder-op").with_since(since);
    let held = SledStorage::open_wait(&data, &holder, Duration::ZERO).expect("the test takes the store");

    // Given up after --wait 1: exit 1, naming the holder, the wait and what to do.
    for args in [
        &["--wait", "1", "post", text(&store.files[0]), "--report", "json"][..],
        &["--wait", "1", "audit", "verify", "--exclusive", "--format", "json"][..],
    ] {
        let refused = cashpool(&data, args).expect(1);
        refused.stderr_has(&[
            "note: the store at",
            "waiting up to 1 s (--wait)",
            &format!(
                "is held by another writer (pid {pid}, `cashpool post`, operator holder-op, since 2026-12-07T19:00:00"
            ),
            "waited 1 s",
            "--wait SECONDS",
        ]);
        assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    }
    // Readers meanwhile: at once, and the state as it stands (nothing posted).
    assert_eq!(Reader::Balances.read(&data), 0);
    assert_eq!(Reader::Verify.read(&data), INIT_ENTRIES);

    // A writer with time to wait gets the store once the holder lets go. The
    // test lets go only after the writer has said that it is waiting.
    let mut child = Command::new(env!("CARGO_BIN_EXE_cashpool"))
        .arg("--data")
        .arg(&data)
        .args(["--wait", "120", "post", text(&store.files[0]), "--report", "json"])
        .env("CASHPOOL_NOW", NOW)
        .env("CASHPOOL_OPERATOR", "waiting-op")
        .env_remove("CASHPOOL_DATA")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the cashpool binary runs");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut first_line = String::new();
    stderr.read_line(&mut first_line).expect("read the writer's stderr");
    assert!(
        first_line.contains(&format!("held by another writer (pid {pid}, `cashpool post`, operator holder-op"))
            && first_line.contains("waiting up to 120 s"),
        "{first_line}"
    );
    drop(held);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("read the writer's stderr");
    let output = child.wait_with_output().expect("the writer ends");
    assert_eq!(output.status.code(), Some(0), "stderr: {first_line}{rest}");
    let posted: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(posted["posted"], 2, "{posted}");
    assert_eq!(Reader::Balances.read(&data), 1);
    // It has finished: nobody holds the store, and its lock file names nobody.
    assert_eq!(std::fs::read_to_string(data.join("LOCK")).unwrap(), "");

    // A holder that does not say who it is (the lock taken directly): still refused, and said so.
    let lock = std::fs::OpenOptions::new().write(true).open(data.join("LOCK")).unwrap();
    lock.try_lock().expect("the test takes the lock file");
    cashpool(&data, &["--wait", "0", "post", text(&store.files[1])])
        .expect(1)
        .stderr_has(&["held by another writer (its lock file does not say who); waited 0 s"]);
    drop(lock);
    for file in &store.files[1..] {
        cashpool(&data, &["--wait", "0", "post", text(file), "--report", "json"]).expect(0);
    }
    assert_every_file_posted(&data);
}
