//! Fault injection through the storage trait: I/O errors and short writes at
//! every storage call of a fixed workload, on `MemoryStorage` and on
//! `SledStorage` in a temporary folder (the fault model is documented in
//! `tests/src/faulty.rs`).
//!
//! A workload (`short_workload`: create, rates, atomic batches, a refused
//! batch, id conflicts that read the journal, a sweep, a statement query, the
//! audits, a reopen, a netting cycle, an interest settlement, a statement
//! import, a partial batch) runs once without a fault: that run counts the
//! storage calls (N) and keeps the state digest after each step. Then, for
//! every call k in 1..=N, it runs again on an empty store with an I/O error at
//! call k, and for every commit with torn writes of several lengths. Each run
//! checks:
//!
//! - every step before the fault succeeds with the fault-free run's state;
//! - the step that hits the fault returns `LedgerError::Storage` naming the
//!   injected call (never a panic, never a success);
//! - after a failed commit the ledger is poisoned: a post, an import and a
//!   sweep are refused with `LedgerError::Poisoned` without a storage call;
//! - the store reopened without faults verifies (`audit::verify_storage`), its
//!   replay matches the stored balances, and its state is the state before the
//!   failed step or the state after it, never anything between: before for an
//!   I/O error or a torn record, after when the whole record landed;
//! - after a read fault the ledger is unchanged and not poisoned;
//! - the workload then goes on (retrying the failed step, which must change
//!   nothing when its write had landed) and ends in the fault-free run's
//!   final state, which a last reopen verifies again.
//!
//! Also: a recovery (the reopen after a torn write, lagging checkpoint
//! included) with an I/O error at its calls fails naming the call, changes
//! nothing, and the next open recovers; a torn block stored in a
//! `MemoryStorage` (which only a backend without torn-tail recovery could
//! leave) is refused with an integrity error; and a longer workload (nine more
//! business days) is sampled.
//!
//! Runs print nothing; each test prints a summary (`--nocapture`).

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use cashpool_files::invoices::parse_invoices_csv;
use cashpool_files::rates::parse_rates_csv;
use cashpool_ledger::audit;
use cashpool_ledger::bank::ImportOutcome;
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::netting::Mode;
use cashpool_ledger::storage::{Commit, MemoryStorage, SledStorage, Storage, StorageError};
use cashpool_ledger::testing::{MemoryStorageExt, SNAPSHOT_FILE};
use cashpool_ledger::tx::{PostingRequest, RateRequest, TransactionRequest};
use cashpool_ledger::{BatchMode, Ledger, LedgerError};
use cashpool_tests::faulty::{Fault, Faults, FaultyStorage, Injection, Keep, Method};
use cashpool_tests::{at, sz_statement, EXAMPLE_GROUP};
use chrono::NaiveDate;
use rust_decimal::Decimal;

const RATES: &str = include_str!("../../examples/rates-2026-11.csv");

/// Invoices due by the netting date, between four members in three currencies.
const INVOICES: &str = "\
id,payer,payee,currency,amount,due_date,purpose
FI-001,LGT-HK,LGT-SZ,USD,150000.00,2026-11-03,current_account
FI-002,LGT-SZ,LGT-SG,USD,60000.00,2026-11-03,current_account
FI-003,LGT-DE,LGT-HK,EUR,40000.00,2026-11-03,current_account
FI-004,LGT-SG,LGT-JP,USD,25000.00,2026-11-03,current_account
";

fn d(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn transfer(id: &str, date: &str, from: &str, to: &str, currency: &str, amount: &str) -> TransactionRequest {
    TransactionRequest::transfer(id, d(date), from, to, currency, dec(amount), Purpose::CurrentAccount, id, "")
}

// ---------------------------------------------------------------------------------------------
// The stores
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Memory,
    Sled,
}

/// The inner storage of a run: shared memory, or a folder.
enum Store {
    Memory(MemoryStorage),
    Sled(tempfile::TempDir),
}

impl Store {
    fn new(backend: Backend) -> Store {
        match backend {
            Backend::Memory => Store::Memory(MemoryStorage::new()),
            Backend::Sled => Store::Sled(tempfile::tempdir().unwrap()),
        }
    }

    /// The store behind the fault injector. For sled the previous handle must be dropped (the lock).
    fn faulty(&self, faults: &Faults) -> Box<dyn Storage> {
        match self {
            Store::Memory(memory) => Box::new(FaultyStorage::new(memory.clone(), faults.clone())),
            Store::Sled(dir) => {
                Box::new(FaultyStorage::new(SledStorage::open(dir.path()).expect("opening sled"), faults.clone()))
            }
        }
    }

    /// An independent copy of what is stored (for sled, of the closed store's folder).
    fn copy(&self) -> Store {
        match self {
            Store::Memory(memory) => Store::Memory(memory.snapshot()),
            Store::Sled(dir) => {
                let to = tempfile::tempdir().unwrap();
                copy_dir(dir.path(), to.path());
                Store::Sled(to)
            }
        }
    }

    /// The store without faults (a restart of the process).
    fn plain(&self) -> Box<dyn Storage> {
        match self {
            Store::Memory(memory) => Box::new(memory.clone()),
            Store::Sled(dir) => Box::new(SledStorage::open(dir.path()).expect("reopening sled")),
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), &target).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The workload
// ---------------------------------------------------------------------------------------------

/// A run of the workload: the store, the shared fault countdown and the open ledger.
struct Session<'s> {
    store: &'s Store,
    faults: Faults,
    ledger: Option<Ledger>,
}

impl Session<'_> {
    fn ledger(&self) -> &Ledger {
        self.ledger.as_ref().expect("a step that needs an open ledger runs after create or reopen")
    }
}

/// One step of the workload. Business outcomes are asserted inside (the
/// workload is valid); operating errors are returned. A step may be run again
/// after a failure, so every assertion holds for a retry too.
struct Step {
    name: String,
    run: Box<StepFn>,
}

type StepFn = dyn Fn(&mut Session) -> Result<(), LedgerError>;

fn step(name: impl Into<String>, run: impl Fn(&mut Session) -> Result<(), LedgerError> + 'static) -> Step {
    Step { name: name.into(), run: Box::new(run) }
}

/// The short workload: every kind of write once, a read query and a reopen.
fn short_workload() -> Vec<Step> {
    vec![
        step("create", step_create),
        step("import rates", step_rates),
        step("fund (atomic batch)", step_fund),
        step("payments and FX (atomic batch)", step_payments),
        step("repost and refused batch", step_repost),
        step("conflicting repost (atomic)", step_conflict_atomic),
        step("sweep", step_sweep),
        step("statement query", step_statement),
        step("audit verify, replay and export", step_audit),
        step("conflicting repost (partial)", step_conflict_partial),
        step("reopen", step_reopen),
        step("netting cycle", step_netting),
        step("interest settlement", step_interest),
        step("import statements", step_import_statements),
        step("partial batch", step_partial),
    ]
}

/// The short workload, then `days` business days: a batch of payments and a
/// sweep each day, a statement query and a reopen every third day.
fn long_workload(days: u32) -> Vec<Step> {
    let mut steps = short_workload();
    for day in 0..days {
        let date = d("2026-11-04") + chrono::Days::new(u64::from(day));
        let ymd = date.format("%m%d").to_string();
        let requests = vec![
            transfer(&format!("D{ymd}-SZ-IN"), "2026-11-04", "EXT-ONSHORE", "SZ-OPS", "CNY", "500000.00"),
            transfer(&format!("D{ymd}-SZ-OUT"), "2026-11-04", "SZ-OPS", "EXT-ONSHORE", "CNY", "210000.00"),
            transfer(&format!("D{ymd}-HK-IN"), "2026-11-04", "EXT-OFFSHORE", "HK-OPS", "USD", "50000.00"),
            transfer(&format!("D{ymd}-DE-OUT"), "2026-11-04", "DE-OPS", "EXT-OFFSHORE", "EUR", "10000.00"),
        ]
        .into_iter()
        .map(|request| TransactionRequest { value_date: date, ..request })
        .collect::<Vec<_>>();
        steps.push(step(format!("{date} payments"), move |s| post_all(s.ledger(), &requests)));
        steps.push(step(format!("{date} sweep"), move |s| s.ledger().sweep(date, false, at()).map(|_| ())));
        if day % 3 == 2 {
            steps.push(step(format!("{date} statement query"), step_statement));
            steps.push(step(format!("{date} reopen"), step_reopen));
        }
    }
    steps
}

fn step_create(s: &mut Session) -> Result<(), LedgerError> {
    s.ledger = None;
    s.ledger = Some(Ledger::create(s.store.faulty(&s.faults), EXAMPLE_GROUP, at())?);
    s.ledger().set_id_index_flush(ID_FLUSH);
    Ok(())
}

fn step_rates(s: &mut Session) -> Result<(), LedgerError> {
    let (rows, errors) = parse_rates_csv(RATES, Currency::from_code("CNY").unwrap());
    assert!(errors.is_empty(), "{errors:?}");
    let import = accepted(s.ledger().import_rates(&rows, at()), "the rates (they do not conflict)")?;
    assert_eq!(import.rows, rows.len());
    Ok(())
}

fn funding() -> Vec<TransactionRequest> {
    vec![
        transfer("F-SH-CNY", "2026-11-02", "EXT-ONSHORE", "SH-DMA", "CNY", "50000000.00"),
        transfer("F-SZ-CNY", "2026-11-02", "EXT-ONSHORE", "SZ-OPS", "CNY", "3000000.00"),
        transfer("F-SZ-USD", "2026-11-02", "EXT-ONSHORE", "SZ-OPS", "USD", "400000.00"),
        transfer("F-IMA-USD", "2026-11-02", "EXT-OFFSHORE", "SH-IMA", "USD", "4000000.00"),
        transfer("F-HK-USD", "2026-11-02", "EXT-OFFSHORE", "HK-OPS", "USD", "1500000.00"),
        transfer("F-SG-USD", "2026-11-02", "EXT-OFFSHORE", "SG-OPS", "USD", "800000.00"),
        transfer("F-DE-EUR", "2026-11-02", "EXT-OFFSHORE", "DE-OPS", "EUR", "900000.00"),
        transfer("F-JP-JPY", "2026-11-02", "EXT-OFFSHORE", "JP-OPS", "JPY", "60000000"),
    ]
}

fn post_all(ledger: &Ledger, requests: &[TransactionRequest]) -> Result<(), LedgerError> {
    let outcome = ledger.post_batch(requests, BatchMode::Atomic, "faults", at())?;
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
    assert_eq!(outcome.receipts.len(), requests.len());
    Ok(())
}

fn step_fund(s: &mut Session) -> Result<(), LedgerError> {
    post_all(s.ledger(), &funding())
}

fn step_payments(s: &mut Session) -> Result<(), LedgerError> {
    let fx = TransactionRequest {
        id: "FX-HK-1".into(),
        value_date: d("2026-11-02"),
        purpose: Purpose::Fx,
        reference: "FX-HK-1".into(),
        memo: "sell USD buy HKD".into(),
        postings: vec![
            PostingRequest { account: "HK-OPS".into(), currency: "USD".into(), amount: dec("-100000.00") },
            PostingRequest { account: "HK-OPS".into(), currency: "HKD".into(), amount: dec("778650.00") },
        ],
        rate: Some(RateRequest { base: "USD".into(), quote: "HKD".into(), rate: dec("7.7865") }),
        term_days: None,
        lender: None,
    };
    post_all(
        s.ledger(),
        &[
            transfer("P-SZ-PAYROLL", "2026-11-02", "SZ-OPS", "EXT-ONSHORE", "CNY", "1250000.00"),
            transfer("P-HK-SUPPLIER", "2026-11-02", "HK-OPS", "EXT-OFFSHORE", "USD", "200000.00"),
            fx,
        ],
    )
}

/// Writes nothing: a repost of the funding is all duplicates, an overdrawing batch is refused.
fn step_repost(s: &mut Session) -> Result<(), LedgerError> {
    let ledger = s.ledger();
    let outcome = ledger.post_batch(&funding(), BatchMode::Atomic, "faults", at())?;
    assert!(outcome.receipts.iter().all(|receipt| receipt.duplicate), "{outcome:?}");
    let refused = [
        transfer("R-SG-1", "2026-11-02", "SG-OPS", "EXT-OFFSHORE", "USD", "1000.00"),
        transfer("R-DE-OVERDRAWN", "2026-11-02", "DE-OPS", "EXT-OFFSHORE", "EUR", "5000000.00"),
    ];
    let outcome = ledger.post_batch(&refused, BatchMode::Atomic, "faults", at())?;
    assert!(outcome.is_rejected(), "{outcome:?}");
    Ok(())
}

/// A new transaction, then one reusing a posted id with another amount: the
/// ledger reads the earlier transaction from storage to name the difference,
/// and the atomic batch writes nothing (the new transaction is undone).
fn conflicting_batch(new_id: &str) -> [TransactionRequest; 2] {
    [
        transfer(new_id, "2026-11-02", "EXT-ONSHORE", "SH-DMA", "CNY", "1000.00"),
        transfer("F-SH-CNY", "2026-11-02", "EXT-ONSHORE", "SH-DMA", "CNY", "50000001.00"),
    ]
}

fn assert_conflict(outcome: &cashpool_ledger::BatchOutcome) {
    assert_eq!(outcome.rejected.len(), 1, "{outcome:?}");
    assert_eq!(outcome.rejected[0].id, "F-SH-CNY");
    assert!(outcome.rejected[0].rejection.to_string().contains("amount"), "{outcome:?}");
}

fn step_conflict_atomic(s: &mut Session) -> Result<(), LedgerError> {
    let outcome = s.ledger().post_batch(&conflicting_batch("C-ATOMIC-1"), BatchMode::Atomic, "faults", at())?;
    assert_conflict(&outcome);
    assert!(outcome.is_rejected(), "{outcome:?}");
    Ok(())
}

/// The same in partial mode: the new transaction is posted.
fn step_conflict_partial(s: &mut Session) -> Result<(), LedgerError> {
    let outcome = s.ledger().post_batch(&conflicting_batch("C-PARTIAL-1"), BatchMode::Partial, "faults", at())?;
    assert_conflict(&outcome);
    assert_eq!(outcome.receipts.len(), 1, "{outcome:?}");
    Ok(())
}

/// `audit verify`, `audit replay` and the JSON Lines export through the
/// ledger's storage: a read fault is an error, never a verdict of corruption.
fn step_audit(s: &mut Session) -> Result<(), LedgerError> {
    let ledger = s.ledger();
    let storage_error = |err: audit::AuditError| match err {
        audit::AuditError::Storage(err) => LedgerError::Storage(err),
        other => panic!("an audit failed on something else than the storage: {other}"),
    };
    let verify = audit::verify_storage(ledger.storage())?;
    assert!(verify.ok, "{verify:?}");
    let replay = audit::replay_storage(ledger.storage(), None).map_err(storage_error)?;
    assert_eq!(replay.matches_store, Some(true));
    assert_eq!(replay.state_digest.to_string(), digest(ledger));
    let mut export = Vec::new();
    let n = audit::export_jsonl(ledger.storage(), &mut export).map_err(storage_error)?;
    assert_eq!(n, ledger.head().0);
    let verify = audit::verify_journal(&mut export.as_slice()).unwrap();
    assert!(verify.ok && verify.entries == n, "{verify:?}");
    Ok(())
}

fn step_sweep(s: &mut Session) -> Result<(), LedgerError> {
    let outcome = s.ledger().sweep(d("2026-11-02"), false, at())?;
    assert!(!outcome.run.sweeps.is_empty(), "{outcome:?}");
    Ok(())
}

fn step_statement(s: &mut Session) -> Result<(), LedgerError> {
    let view = s.ledger().statement("SZ-OPS", None, None)?;
    assert!(view.lines.len() >= 3, "{view:?}");
    Ok(())
}

fn step_reopen(s: &mut Session) -> Result<(), LedgerError> {
    s.ledger = None;
    s.ledger = Some(Ledger::open(s.store.faulty(&s.faults))?);
    s.ledger().set_id_index_flush(ID_FLUSH);
    Ok(())
}

/// The workload's own work is valid: a refusal fails the test, an operating error is the step's outcome.
fn accepted<T>(result: Result<T, LedgerError>, what: &str) -> Result<T, LedgerError> {
    match result {
        Err(LedgerError::Refused(rejection)) => panic!("{what} refused: {rejection}"),
        other => other,
    }
}

fn step_netting(s: &mut Session) -> Result<(), LedgerError> {
    let (invoices, errors) = parse_invoices_csv(INVOICES);
    assert!(errors.is_empty(), "{errors:?}");
    let outcome = s.ledger().net("NC-2611-A", d("2026-11-03"), &invoices, Mode::Centre, None, at());
    let outcome = accepted(outcome, "netting")?;
    assert!(!outcome.run.result.settlements.is_empty(), "{outcome:?}");
    Ok(())
}

fn step_interest(s: &mut Session) -> Result<(), LedgerError> {
    let outcome = s.ledger().interest(d("2026-11-02"), d("2026-11-04"), true, at());
    let outcome = accepted(outcome, "interest")?;
    assert!(outcome.settled, "{outcome:?}");
    Ok(())
}

fn step_import_statements(s: &mut Session) -> Result<(), LedgerError> {
    let receipts = s.ledger().import_statements(vec![("icbc-20261102.sta".into(), sz_statement())], at());
    let receipts = accepted(receipts, "statement")?;
    assert_eq!(receipts.len(), 1);
    // A retry of an import that landed finds it already imported.
    if receipts[0].status == ImportOutcome::New {
        assert_eq!(receipts[0].account.as_deref(), Some("SZ-OPS"), "{receipts:?}");
    } else {
        assert_eq!(receipts[0].status, ImportOutcome::AlreadyImported, "{receipts:?}");
    }
    Ok(())
}

fn step_partial(s: &mut Session) -> Result<(), LedgerError> {
    let requests = [
        transfer("Q-SG-1", "2026-11-03", "SG-OPS", "EXT-OFFSHORE", "USD", "10000.00"),
        transfer("Q-JP-OVERDRAWN", "2026-11-03", "JP-OPS", "EXT-OFFSHORE", "JPY", "999999999"),
    ];
    let outcome = s.ledger().post_batch(&requests, BatchMode::Partial, "faults", at())?;
    assert_eq!(outcome.receipts.len(), 1, "{outcome:?}");
    assert_eq!(outcome.rejected.len(), 1, "{outcome:?}");
    Ok(())
}

/// The probe write of a poisoned ledger.
fn probe() -> TransactionRequest {
    transfer("PROBE-1", "2026-11-04", "EXT-ONSHORE", "SH-DMA", "CNY", "1.00")
}

// ---------------------------------------------------------------------------------------------
// The fault-free run
// ---------------------------------------------------------------------------------------------

/// A workload and what its fault-free run saw.
struct Reference {
    steps: Vec<Step>,
    /// `states[i]`: the state digest before step `i` (`None`: the empty store);
    /// `states[steps.len()]`: the final state.
    states: Vec<Option<String>>,
    /// The method of every storage call (call k is `trace[k - 1]`).
    trace: Vec<Method>,
    /// The calls of step `i` are `calls[i] + 1..=calls[i + 1]`.
    calls: Vec<u64>,
}

impl Reference {
    fn n(&self) -> u64 {
        self.trace.len() as u64
    }

    /// The 1-based numbers of the calls that are commits.
    fn commits(&self) -> Vec<u64> {
        (1..=self.n()).filter(|&k| self.trace[k as usize - 1] == Method::Commit).collect()
    }

    /// The step that makes call `k`.
    fn step_of(&self, k: u64) -> usize {
        (0..self.steps.len()).find(|&i| self.calls[i] < k && k <= self.calls[i + 1]).expect("a call of the workload")
    }

    fn name(&self, step: usize) -> &str {
        self.steps.get(step).map_or("(the end)", |s| s.name.as_str())
    }
}

fn digest(ledger: &Ledger) -> String {
    ledger.state_digest().to_string()
}

fn reference(backend: Backend, steps: Vec<Step>) -> Reference {
    let store = Store::new(backend);
    let faults = Faults::new();
    let mut session = Session { store: &store, faults: faults.clone(), ledger: None };
    let mut states = vec![None];
    let mut calls = vec![0];
    for step in &steps {
        (step.run)(&mut session).unwrap_or_else(|err| panic!("{backend:?}, no fault: {}: {err}", step.name));
        states.push(Some(digest(session.ledger())));
        calls.push(faults.calls());
    }
    session.ledger = None;
    let reference = Reference { steps, states, trace: faults.trace(), calls };
    let (landed, _) = check_store(&store, &reference, reference.steps.len());
    assert_eq!(landed, Landed::Before, "the final state is the state before the (absent) next step");
    reference
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Landed {
    /// The state before the step.
    Before,
    /// The state after the step.
    After,
}

/// Reopens the store without faults, verifies and replays it, and says
/// whether its state is the state before step `step` or after it. Returns the
/// reopened ledger (`None` for an empty store).
fn check_store(store: &Store, reference: &Reference, step: usize) -> (Landed, Option<Ledger>) {
    let states = &reference.states;
    let storage = store.plain();
    if storage.is_empty().unwrap() {
        assert_eq!(step, 0, "the store is empty after step {step}");
        let err = Ledger::open(storage).err().expect("an empty store does not open");
        assert!(matches!(err, LedgerError::NotInitialized), "{err}");
        return (Landed::Before, None);
    }
    let verify = audit::verify_storage(storage.as_ref()).expect("the store reads");
    assert!(verify.ok, "audit verify after the fault: {verify:?}");
    let replay = audit::replay_storage(storage.as_ref(), None).expect("the store replays");
    assert_eq!(replay.matches_store, Some(true), "the stored balances match the journal");
    let ledger = Ledger::open(storage).unwrap_or_else(|err| panic!("reopening after the fault: {err}"));
    let reopened = digest(&ledger);
    assert_eq!(reopened, replay.state_digest.to_string(), "the open ledger and the replay agree");
    let now = Some(reopened.clone());
    let landed = if now == states[step] {
        Landed::Before
    } else if step < reference.steps.len() && now == states[step + 1] {
        Landed::After
    } else {
        panic!(
            "PARTIAL STATE: after a fault in step {step} ({}) the reopened state {} ({} entries) is neither the \
             state before it nor the state after it",
            reference.name(step),
            reopened,
            verify.entries
        )
    };
    (landed, Some(ledger))
}

/// What the fault runs of one test led to.
#[derive(Default)]
struct Tally {
    runs: u64,
    injected: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    poisoned: u64,
    not_poisoned: u64,
    landed: BTreeMap<String, u64>,
    idempotent_retries: u64,
}

impl Tally {
    fn add(map: &mut BTreeMap<String, u64>, key: String) {
        *map.entry(key).or_default() += 1;
    }

    fn print(&self, title: &str, started: Instant) {
        println!("{title}: {} fault runs in {:.1?}", self.runs, started.elapsed());
        println!("  injected: {:?}", self.injected);
        println!("  errors returned by the failing operation: {:?}", self.errors);
        println!(
            "  poisoned after a failed commit: {}; not poisoned after a read fault: {}",
            self.poisoned, self.not_poisoned
        );
        println!("  state after reopen: {:?}", self.landed);
        println!("  idempotent retries of a step whose write had landed: {}", self.idempotent_retries);
    }
}

fn error_kind(err: &LedgerError) -> String {
    match err {
        LedgerError::Storage(StorageError::Io { source, .. }) => format!("Storage(Io {:?})", source.kind()),
        LedgerError::Storage(other) => format!("Storage({other})"),
        LedgerError::Integrity { .. } => "Integrity".into(),
        LedgerError::Poisoned => "Poisoned".into(),
        other => format!("other: {other}"),
    }
}

/// Ids in memory that make a run of the on-disk id index: small, so that the
/// workload writes runs and manifests (and merges them) and, after each run, a
/// state snapshot (which the reopens read), and faults hit them all.
const ID_FLUSH: usize = 5;

/// A call on the index files: the id index's and the state snapshot.
fn is_index_call(method: Method) -> bool {
    matches!(
        method,
        Method::IndexWrite | Method::IndexReadAt | Method::IndexRead | Method::IndexRemove | Method::IndexNames
    )
}

/// Where a failed commit must leave the store, once reopened.
fn expected_landing(fault: Fault) -> Landed {
    match fault {
        Fault::ShortWrite(Keep::Everything) => Landed::After,
        Fault::Io | Fault::ShortWrite(_) => Landed::Before,
    }
}

/// The error of the operation that hit the fault at call `k`: an I/O error
/// of the storage whose message names the call.
fn check_error(err: &LedgerError, k: u64) {
    let shown = err.to_string();
    assert!(shown.contains(&format!("storage call {k}")), "the error does not name the failed call: {shown}");
    assert!(matches!(err, LedgerError::Storage(StorageError::Io { .. })), "{shown}");
}

/// Stores the torn bytes of `commit` in copies of `memory` (which a real
/// backend's recovery would have cut) and checks that opening refuses them
/// with an integrity error instead of opening into a partial state.
fn check_torn_blocks_are_refused(memory: &MemoryStorage, commit: &Commit, seed: &mut u64) -> u64 {
    let len = commit.block.len() as u64;
    // Inside the first entry's length prefix, anywhere, and at the end of the first entry.
    let first_entry_end = 4 + u64::from(u32::from_le_bytes(commit.block[..4].try_into().unwrap()));
    let mut cuts = vec![2, 1 + next(seed) % (len - 1)];
    if first_entry_end < len {
        cuts.push(first_entry_end);
    }
    for &cut in &cuts {
        let torn = memory.snapshot();
        let block = Arc::new(commit.block[..cut as usize].to_vec());
        torn.commit(&Commit { block, ..commit.clone() }).unwrap();
        let verify = audit::verify_storage(&torn).unwrap();
        assert!(!verify.ok, "a block cut at byte {cut} of {len} verifies: {verify:?}");
        match Ledger::open(Box::new(torn)) {
            Err(err @ LedgerError::Integrity { .. }) => {
                assert!(err.to_string().starts_with("integrity failure at entry"), "{err}")
            }
            Err(err) => panic!("a block cut at byte {cut} of {len}: not an integrity error: {err}"),
            Ok(_) => panic!("a block cut at byte {cut} of {len} opens"),
        }
    }
    cuts.len() as u64
}

/// xorshift64*, seeded: repeatable cut points and samples.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

// ---------------------------------------------------------------------------------------------
// Fault runs
// ---------------------------------------------------------------------------------------------

/// Runs the workload with `fault` at call `k` and checks everything the module documentation lists.
fn run_with_fault(backend: Backend, reference: &Reference, k: u64, fault: Fault, tally: &mut Tally, seed: &mut u64) {
    let steps = &reference.steps;
    let store = Store::new(backend);
    let faults = Faults::new();
    faults.arm(k, fault);
    let mut session = Session { store: &store, faults: faults.clone(), ledger: None };
    let mut hit: Option<Injection> = None;
    let mut step = 0;
    tally.runs += 1;
    while step < steps.len() {
        let calls_before = faults.calls();
        let result = (steps[step].run)(&mut session);
        let injection = faults.injection();
        let fired_now = hit.is_none() && injection.is_some();
        let Err(err) = result else {
            if fired_now {
                // Only a write of the id index or of the state snapshot (derived data, after the
                // commit was durable) is absorbed: the ids stay in memory for the next flush, the
                // previous snapshot stays (or none) for the next open, and the step succeeds.
                let injection = injection.clone().expect("fired");
                assert!(
                    is_index_call(injection.method),
                    "step {step} ({}) succeeded through the fault {injection:?}",
                    reference.name(step)
                );
                Tally::add(&mut tally.injected, format!("{:?} {:?}", injection.method, injection.fault));
                let absorbed = match injection.file.as_deref() {
                    Some(SNAPSHOT_FILE) => "After (state snapshot write absorbed, the previous one kept)",
                    _ => "After (id index write absorbed, ids kept in memory)",
                };
                Tally::add(&mut tally.landed, absorbed.into());
                hit = Some(injection);
            }
            assert_eq!(
                Some(digest(session.ledger())),
                reference.states[step + 1],
                "step {step} ({}) acknowledged a state other than the fault-free run's",
                reference.name(step)
            );
            step += 1;
            continue;
        };
        assert!(fired_now, "step {step} ({}) failed without a fault: {err}", reference.name(step));
        let injection = injection.unwrap();
        assert!(injection.call > calls_before && injection.call == k, "the fault came in another step");
        assert_eq!(step, reference.step_of(k), "the fault hit another step than in the fault-free run");
        assert_eq!(injection.method, reference.trace[k as usize - 1], "the calls differ from the fault-free run");
        check_error(&err, k);
        Tally::add(&mut tally.injected, format!("{:?} {:?}", injection.method, injection.fault));
        Tally::add(&mut tally.errors, error_kind(&err));
        hit = Some(injection.clone());
        if injection.method != Method::Commit {
            // A read fault: nothing was written and nothing is poisoned; the step is retried.
            if let Some(ledger) = &session.ledger {
                assert_eq!(Some(digest(ledger)), reference.states[step], "a failed read changed the state");
            }
            tally.not_poisoned += 1;
            Tally::add(&mut tally.landed, "Before (read fault, no reopen)".into());
            continue;
        }
        if let Some(ledger) = &session.ledger {
            let calls = faults.calls();
            let refused = ledger.post(&probe(), "faults", at());
            assert!(matches!(refused, Err(LedgerError::Poisoned)), "a post after a failed commit: {refused:?}");
            let refused = ledger.import_statements(vec![("again.sta".into(), sz_statement())], at());
            assert!(matches!(refused, Err(LedgerError::Poisoned)), "an import after a failed commit: {refused:?}");
            let refused = ledger.sweep(d("2026-11-30"), false, at());
            assert!(matches!(refused, Err(LedgerError::Poisoned)), "a sweep after a failed commit: {refused:?}");
            assert_eq!(faults.calls(), calls, "a poisoned ledger touched the storage");
            tally.poisoned += 1;
        }
        if backend == Backend::Memory && fault == Fault::ShortWrite(Keep::Nothing) {
            let Store::Memory(memory) = &store else { unreachable!("a memory store") };
            let cuts = check_torn_blocks_are_refused(memory, injection.commit.as_ref().unwrap(), seed);
            *tally.landed.entry("torn block stored in memory: refused (Integrity)".into()).or_default() += cuts;
        }
        // A restart: reopen without faults.
        session.ledger = None;
        let (landed, ledger) = check_store(&store, reference, step);
        assert_eq!(landed, expected_landing(fault), "{:?}: {}", injection.fault, injection.effect);
        Tally::add(&mut tally.landed, format!("{landed:?}"));
        session.ledger = ledger;
        if landed == Landed::After {
            // The caller saw an error and retries: the retry must change nothing.
            if step > 0 {
                (steps[step].run)(&mut session)
                    .unwrap_or_else(|err| panic!("retrying step {step} after it landed: {err}"));
                assert_eq!(Some(digest(session.ledger())), reference.states[step + 1], "a retry wrote again");
                tally.idempotent_retries += 1;
            }
            step += 1;
        }
    }
    assert!(hit.is_some(), "the fault at call {k} never fired");
    session.ledger = None;
    let (landed, _) = check_store(&store, reference, steps.len());
    assert_eq!(landed, Landed::Before);
}

/// Runs `check`, and on a panic panics again naming the fault.
fn with_context(backend: Backend, reference: &Reference, k: u64, fault: Fault, check: impl FnOnce()) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(check)) {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let step = reference.step_of(k);
        panic!(
            "{backend:?}: {fault:?} at storage call {k} of {} ({:?}, step {step} {:?}): {message}",
            reference.n(),
            reference.trace[k as usize - 1],
            reference.name(step)
        );
    }
}

fn fault_runs(backend: Backend, reference: &Reference, runs: &[(u64, Fault)]) -> Tally {
    let mut tally = Tally::default();
    let mut seed = 0x5EED_u64;
    for &(k, fault) in runs {
        with_context(backend, reference, k, fault, || {
            run_with_fault(backend, reference, k, fault, &mut tally, &mut seed)
        });
    }
    tally
}

/// The torn writes tried at a commit: all or nothing in memory; on disk cuts
/// in the record's header, in its payload, one byte short, and the whole of it.
fn keeps(backend: Backend, seed: &mut u64) -> Vec<Keep> {
    match backend {
        Backend::Memory => vec![Keep::Nothing, Keep::Everything],
        Backend::Sled => vec![
            Keep::Nothing,
            Keep::Bytes(10),
            Keep::Bytes(24 + next(seed) % 4096),
            Keep::AllButOneByte,
            Keep::Everything,
        ],
    }
}

fn io_error_at_every_call(backend: Backend) {
    let started = Instant::now();
    let reference = reference(backend, short_workload());
    let runs: Vec<(u64, Fault)> = (1..=reference.n()).map(|k| (k, Fault::Io)).collect();
    let tally = fault_runs(backend, &reference, &runs);
    tally.print(&format!("{backend:?}: an I/O error at every one of the N = {} storage calls", reference.n()), started);
}

fn short_write_at_every_commit(backend: Backend) {
    let started = Instant::now();
    let reference = reference(backend, short_workload());
    let mut seed = 0xC0FFEE_u64;
    let runs: Vec<(u64, Fault)> = reference
        .commits()
        .into_iter()
        .flat_map(|k| keeps(backend, &mut seed).into_iter().map(move |keep| (k, Fault::ShortWrite(keep))))
        .collect();
    let tally = fault_runs(backend, &reference, &runs);
    let title = format!("{backend:?}: short writes at every one of the {} commits", reference.commits().len());
    tally.print(&title, started);
}

/// The long workload, sampled: in memory, an I/O error at every commit and
/// every fourth call, and both short writes at every commit; on sled: I/O errors at `io` calls spread
/// over the run and at `io` commits, and `short` short writes at commits.
fn long_workload_faults(backend: Backend, io: u64, short: u64) {
    let started = Instant::now();
    let reference = reference(backend, long_workload(LONG_DAYS));
    let n = reference.n();
    let commits = reference.commits();
    let mut seed = 0xA11CE_u64;
    let mut runs: Vec<(u64, Fault)> = Vec::new();
    match backend {
        Backend::Memory => {
            // Every commit, and every fourth call.
            runs.extend((1..=n).filter(|k| k % 4 == 1 || commits.contains(k)).map(|k| (k, Fault::Io)));
            for &k in &commits {
                runs.extend(keeps(backend, &mut seed).into_iter().map(|keep| (k, Fault::ShortWrite(keep))));
            }
        }
        Backend::Sled => {
            // One call drawn from each of `io` equal slices of the run, and `io` commits spread over it.
            runs.extend((0..io).map(|i| (1 + i * n / io + next(&mut seed) % (n / io), Fault::Io)));
            let spread = |i: u64, of: u64| commits[(i * commits.len() as u64 / of) as usize];
            runs.extend((0..io).map(|i| (spread(i, io), Fault::Io)));
            for i in 0..short {
                let keeps = keeps(backend, &mut seed);
                runs.push((spread(i, short), Fault::ShortWrite(keeps[next(&mut seed) as usize % keeps.len()])));
            }
        }
    }
    let tally = fault_runs(backend, &reference, &runs);
    let title = format!(
        "{backend:?}: long workload ({} steps, N = {n} storage calls, {} commits)",
        reference.steps.len(),
        commits.len()
    );
    tally.print(&title, started);
}

const LONG_DAYS: u32 = 9;

/// After a torn write at each commit, the recovery (the reopen) with an I/O
/// error at each of its storage calls: the open fails naming the call and
/// changes nothing; the next open recovers.
fn faults_during_recovery(backend: Backend) {
    let started = Instant::now();
    let reference = reference(backend, short_workload());
    let mut tally = Tally::default();
    for k in reference.commits() {
        for keep in [Keep::Everything, Keep::AllButOneByte] {
            let fault = Fault::ShortWrite(keep);
            with_context(backend, &reference, k, fault, || {
                let (torn, step) = store_after_fault(backend, &reference, k, fault);
                // The fault-free recovery, on a copy: how many calls it makes.
                let copy = torn.copy();
                let faults = Faults::new();
                match Ledger::open(copy.faulty(&faults)) {
                    Ok(_) => {}
                    Err(LedgerError::NotInitialized) if step == 0 => {}
                    Err(err) => panic!("the recovery fails without a fault: {err}"),
                }
                let recovery = faults.trace();
                for j in recovery_calls(backend, &recovery) {
                    let copy = torn.copy();
                    let faults = Faults::new();
                    faults.arm(j, Fault::Io);
                    tally.runs += 1;
                    let err = Ledger::open(copy.faulty(&faults))
                        .err()
                        .unwrap_or_else(|| panic!("the recovery opened through a fault at its call {j}"));
                    check_error(&err, j);
                    let method = faults.injection().expect("the fault fired").method;
                    Tally::add(&mut tally.injected, format!("{method:?} Io (recovery after {keep:?})"));
                    Tally::add(&mut tally.errors, error_kind(&err));
                    let (landed, _) = check_store(&copy, &reference, step);
                    assert_eq!(landed, expected_landing(fault));
                    Tally::add(&mut tally.landed, format!("{landed:?}"));
                }
            });
        }
    }
    tally.print(
        &format!("{backend:?}: an I/O error at the calls of the recovery after a torn write at every commit"),
        started,
    );
}

/// The calls of a recovery to fail: every one in memory; on sled (slower to
/// open) every call but the block reads in the middle of a fold, of which the
/// first, the middle one and the last (the end of the iteration) are kept.
fn recovery_calls(backend: Backend, trace: &[Method]) -> Vec<u64> {
    let is_read = |i: usize| trace.get(i) == Some(&Method::BlocksNext);
    (0..trace.len())
        .filter(|&i| {
            if backend == Backend::Memory || !is_read(i) {
                return true;
            }
            let first = (0..=i).rev().take_while(|&j| is_read(j)).last().unwrap_or(i);
            let last = (i..trace.len()).take_while(|&j| is_read(j)).last().unwrap_or(i);
            i == first || i == last || i == (first + last) / 2
        })
        .map(|i| i as u64 + 1)
        .collect()
}

/// Runs the workload until `fault` at call `k` fails a step; returns the
/// store as the failure left it (the ledger closed) and the failed step.
fn store_after_fault(backend: Backend, reference: &Reference, k: u64, fault: Fault) -> (Store, usize) {
    let store = Store::new(backend);
    let faults = Faults::new();
    faults.arm(k, fault);
    let mut session = Session { store: &store, faults, ledger: None };
    for (i, step) in reference.steps.iter().enumerate() {
        if (step.run)(&mut session).is_err() {
            drop(session);
            return (store, i);
        }
    }
    panic!("the fault at call {k} failed no step")
}

#[test]
fn memory_io_error_at_every_storage_call() {
    io_error_at_every_call(Backend::Memory);
}

#[test]
fn memory_short_write_at_every_commit() {
    short_write_at_every_commit(Backend::Memory);
}

#[test]
fn memory_faults_during_recovery() {
    faults_during_recovery(Backend::Memory);
}

#[test]
fn memory_long_workload_sampled() {
    long_workload_faults(Backend::Memory, 0, 0);
}

#[test]
fn sled_io_error_at_every_storage_call() {
    io_error_at_every_call(Backend::Sled);
}

#[test]
fn sled_short_write_at_every_commit() {
    short_write_at_every_commit(Backend::Sled);
}

#[test]
fn sled_faults_during_recovery() {
    faults_during_recovery(Backend::Sled);
}

#[test]
fn sled_long_workload_sampled() {
    long_workload_faults(Backend::Sled, 10, 10);
}

#[test]
fn the_fault_free_workload_is_the_same_on_both_backends() {
    let memory = reference(Backend::Memory, long_workload(LONG_DAYS));
    let sled = reference(Backend::Sled, long_workload(LONG_DAYS));
    assert_eq!(memory.states, sled.states);
    assert_eq!(memory.trace, sled.trace);
    let short = reference(Backend::Memory, short_workload());
    for (i, step) in short.steps.iter().enumerate() {
        let calls = &short.trace[short.calls[i] as usize..short.calls[i + 1] as usize];
        println!("step {i:2} {:34} calls {:3}..={:3}: {calls:?}", step.name, short.calls[i] + 1, short.calls[i + 1]);
    }
    assert_eq!(short.commits().len(), 10, "{:?}", short.trace);
}
