//! The ledger: validation, posting with group commit, queries.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::benchmarks::BenchmarkRow;
use crate::config::{parse_group_config, ConfigErrors, GroupConfig};
use crate::cycle::NettingRun;
use crate::index::{IdIndex, FLUSH_IDS};
use crate::journal::{
    block_entries, hash_bytes, ChainCursor, Entry, EntryBody, EntryHash, FormatVersion, FxRate, PostedTransaction,
    Posting, Timestamp,
};
use crate::limits::{Effects, LimitState, LimitsChange, LimitsView};
use crate::model::{
    ic_account, AccountKind, AccountSpec, Classification, Purpose, SYSTEM_ACCOUNTS, SYS_FX_POSITION, SYS_IC_POOL,
    TAX_ACCOUNTS,
};
use crate::money::{to_currency_scale, Currency, MoneyError};
use crate::netting::{net_cycle, CycleInput, Invoice, Mode as NettingMode};
use crate::rates::{Market, RateConflict, RateRow};
use crate::state::snapshot;
use crate::state::{assert_balanced, fingerprint, Applied, IdRecord, State};
use crate::storage::{Checkpoint, Commit, Storage, StorageError, StoredBalance};
use crate::sweep::SweepRun;
use crate::totals::{base_totals, BaseTotals};
use crate::tx::{TransactionRequest, ID_LEN_MAX, MEMO_LEN_MAX, POSTINGS_MAX, REFERENCE_LEN_MAX};

pub use crate::state::{FlowDirection, Rejection};

/// What a caller learns when a transaction is posted (or was posted before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub id: String,
    /// The transaction's sequence number in the journal.
    pub seq: u64,
    /// The chain head at that entry: the hash of the transaction's entry.
    pub head: EntryHash,
    /// True when the id was posted before with the same content: nothing was written.
    pub duplicate: bool,
    /// The transaction was posted, but a posting is valued on a day that is
    /// not a business day for it (`non_business_value_dates = "warn"`, the
    /// default; docs/SWEEPS.md, "Business days"). Empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<crate::calendar::ValueDateWarning>,
}

/// What [`Ledger::amend`] journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmendOutcome {
    /// The first value date the amended definition governs.
    pub effective: NaiveDate,
    /// The last entry of the amendment's commit, and the chain head there.
    pub seq: u64,
    pub head: EntryHash,
    /// Accounts opened, closed; entities that joined, left.
    pub opened: Vec<String>,
    pub closed: Vec<String>,
    pub joined: Vec<String>,
    pub left: Vec<String>,
}

/// The result of [`Ledger::net`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NettingOutcome {
    pub run: NettingRun,
    /// The cycle was posted before: nothing was written, this is that run.
    pub already_run: bool,
}

/// The result of [`Ledger::sweep`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepOutcome {
    pub run: SweepRun,
    /// The date was swept before: nothing was posted, this is that run's report.
    pub already_run: bool,
    pub dry_run: bool,
    /// The calendars of the sweep rules that hold no day of the date's year:
    /// their weekdays were swept without knowing their holidays (import them).
    pub calendars_missing: Vec<String>,
}

/// The result of [`Ledger::interest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterestOutcome {
    pub run: crate::interest::InterestRun,
    /// Posted (now or before).
    pub settled: bool,
    /// The period was settled before: nothing was posted, this is that settlement.
    pub already_settled: bool,
    /// For each accrual (same order), the rates applied: the `[[interest]]`
    /// row, the fixing of a benchmark row and the rates that resulted, period
    /// by period over the days the position was not zero. Derived from the
    /// definition and the fixings (not journaled): a settled period shows them
    /// computed again.
    pub rates: Vec<crate::interest::AppliedRates>,
}

/// A member's intercompany position with the pool in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PositionRow {
    pub entity: String,
    pub currency: Currency,
    /// Positive: the member lent to the pool.
    pub position: Decimal,
}

/// The result of [`Ledger::import_rates`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RatesImport {
    /// Rows given.
    pub rows: usize,
    /// Rows not imported before (the others were skipped).
    pub new_rows: usize,
    /// The journal entry, when there was anything new.
    pub receipt: Option<Receipt>,
}

/// The result of [`Ledger::import_benchmarks`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BenchmarksImport {
    /// Rows given.
    pub rows: usize,
    /// Rows not imported before (the others were skipped).
    pub new_rows: usize,
    /// The journal entry, when there was anything new.
    pub receipt: Option<Receipt>,
}

/// The result of [`Ledger::import_calendars`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarsImport {
    /// Rows given.
    pub rows: usize,
    /// Days not held before.
    pub new_days: usize,
    /// Days held before with another kind or name, changed (a correction).
    pub changed_days: usize,
    /// The journal entry, when there was anything to write.
    pub receipt: Option<Receipt>,
}

/// A refused transaction of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// Its position in the batch (0-based).
    pub index: usize,
    pub id: String,
    #[serde(flatten)]
    pub rejection: Rejection,
}

/// How a batch treats a bad transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchMode {
    /// One bad transaction and nothing is written.
    Atomic,
    /// Post the good transactions, report the bad ones.
    Partial,
}

/// The result of [`Ledger::post_batch`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchOutcome {
    /// One receipt per posted (or duplicate) transaction, in batch order.
    pub receipts: Vec<Receipt>,
    pub rejected: Vec<Rejected>,
}

impl BatchOutcome {
    /// Whether the batch wrote nothing because of a rejection (atomic mode).
    pub fn is_rejected(&self) -> bool {
        !self.rejected.is_empty() && self.receipts.is_empty()
    }
}

/// A balance of one account in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceRow {
    pub account: String,
    pub currency: Currency,
    pub balance: Decimal,
}

/// One line of an account statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementLine {
    pub seq: u64,
    pub value_date: NaiveDate,
    pub id: String,
    pub purpose: Purpose,
    pub reference: String,
    pub memo: String,
    pub currency: Currency,
    pub amount: Decimal,
    /// The running balance in `currency` after this line.
    pub balance: Decimal,
}

/// The postings of one account between two value dates, with running balances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementView {
    pub account: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Per currency the balance before the first line (value-dated before `from`).
    pub opening: Vec<(Currency, Decimal)>,
    /// Ordered by value date, then sequence number.
    pub lines: Vec<StatementLine>,
    /// Per currency the balance after the last line.
    pub closing: Vec<(Currency, Decimal)>,
    /// Where the next page starts (`--after`), when a limit ended this one
    /// before the statement's last line.
    pub next: Option<crate::StatementCursor>,
}

/// Why an operation of the ledger failed: a business refusal
/// ([`LedgerError::Refused`], nothing written) or an operating error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The request was refused for a business reason; nothing was written and
    /// the journal is sound.
    #[error(transparent)]
    Refused(Rejection),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("integrity failure at entry {seq}: {reason}")]
    Integrity { seq: u64, reason: String },
    #[error("invalid group definition:\n{0}")]
    Config(#[from] ConfigErrors),
    /// The store holds no ledger yet: it was never given a group definition.
    #[error("the store is empty")]
    NotInitialized,
    #[error("the store already holds a ledger")]
    AlreadyInitialized,
    #[error("the store is open read-only: this command would write")]
    ReadOnly,
    #[error("an earlier write failed; the ledger refuses further writes until it is reopened")]
    Poisoned,
    #[error("no account {0:?}")]
    UnknownAccount(String),
}

impl LedgerError {
    /// A refusal for a malformed field ([`Rejection::Invalid`]).
    fn invalid(field: &str, message: String) -> LedgerError {
        LedgerError::Refused(Rejection::Invalid { field: field.into(), message })
    }
}

/// Netting's refusal as the ledger's one refusal type; the text of the
/// netting error is kept as the message.
fn netting_refusal(err: crate::netting::NettingError) -> LedgerError {
    use crate::netting::NettingError;
    let field = match &err {
        NettingError::MissingRates(currencies) => {
            return LedgerError::Refused(Rejection::MissingRates { currencies: currencies.clone() });
        }
        NettingError::Overflow => "invoices",
        NettingError::UnknownCentre(_) => "centre",
    };
    LedgerError::invalid(field, err.to_string())
}

/// The rows of [`Ledger::balances`], read from `state`.
fn balance_rows(
    state: &State,
    as_of: Option<NaiveDate>,
    account: Option<&str>,
    currency: Option<Currency>,
) -> Result<Vec<BalanceRow>, LedgerError> {
    if let Some(account) = account {
        state.account_idx(account).ok_or_else(|| LedgerError::UnknownAccount(account.to_string()))?;
    }
    let mut rows = Vec::new();
    for (idx, spec) in state.definition().accounts().iter().enumerate() {
        if account.is_some_and(|wanted| wanted != spec.id) {
            continue;
        }
        let mut currencies: Vec<Currency> = spec.currencies.clone();
        let idx = u32::try_from(idx).expect("account index fits u32");
        currencies.extend(state.balances().of_account(idx).map(|(ccy, _)| ccy));
        currencies.sort();
        currencies.dedup();
        for ccy in currencies {
            if currency.is_some_and(|wanted| wanted != ccy) {
                continue;
            }
            rows.push(BalanceRow { account: spec.id.clone(), currency: ccy, balance: state.balance(idx, ccy, as_of) });
        }
    }
    rows.sort_by(|a, b| (a.account.as_str(), a.currency).cmp(&(b.account.as_str(), b.currency)));
    Ok(rows)
}

/// The rows of [`Ledger::positions`], read from `state`.
fn position_rows(state: &State, as_of: Option<NaiveDate>) -> Vec<PositionRow> {
    let Some(config) = state.config() else { return Vec::new() };
    let mut rows = Vec::new();
    for entity in config.entities.iter().filter(|e| e.id != config.pool.host) {
        let Some(idx) = state.account_idx(&ic_account(&entity.id)) else { continue };
        for (currency, _) in state.balances().of_account(idx) {
            let position = state.balance(idx, currency, as_of);
            if !position.is_zero() {
                rows.push(PositionRow { entity: entity.id.clone(), currency, position });
            }
        }
    }
    rows.sort_by(|a, b| (a.entity.as_str(), a.currency).cmp(&(b.entity.as_str(), b.currency)));
    rows
}

/// The mutable part, behind one lock.
struct Inner {
    state: State,
    /// Entries applied to `state` but not yet durable, framed as one block.
    pending_block: Vec<u8>,
    pending_first_seq: u64,
    /// The block a commit is writing right now (taken from `pending_block`),
    /// so that a duplicate-id check can still read its entries.
    in_flight: Option<(u64, Arc<Vec<u8>>)>,
    /// (account, currency) changed by the pending entries.
    dirty: HashSet<(u32, Currency)>,
    /// Postings applied since the oldest open savepoint, to undo them.
    undo: Vec<Applied>,
    /// Transaction ids indexed since the oldest open savepoint.
    ids_added: Vec<Box<str>>,
    /// The ids of older entries, on disk (`crate::index`).
    id_index: IdIndex,
    /// How many ids in memory make a run of the on-disk index.
    id_flush: usize,
    /// The entry of the state snapshot on disk, as far as this ledger knows (0: none).
    snapshot_seq: u64,
    /// A background flush of the indexes is running.
    flushing: bool,
    poisoned: bool,
}

struct CommitState {
    durable_seq: u64,
    failed: bool,
    /// A poster is writing a block now (without holding the lock).
    writing: bool,
}

/// A cash pool ledger over a [`Storage`]. `Send + Sync`: share it with `Arc`;
/// concurrent posters are group-committed (one durable write serves every
/// batch that arrived while the previous write was in flight).
pub struct Ledger {
    inner: Arc<Mutex<Inner>>,
    commit: Mutex<CommitState>,
    /// Signalled when a write ends: every poster waiting for its entries wakes at once.
    written: Condvar,
    storage: Arc<dyn Storage>,
    /// Whether the indexes are flushed on a thread of their own ([`Ledger::set_background_flush`]).
    background_flush: std::sync::atomic::AtomicBool,
    /// The thread of the last background flush (at most one runs at a time).
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
    read_only: bool,
    /// The entry of the state snapshot the ledger was opened from (`None`: folded from genesis).
    opened_from: Option<u64>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Drop for Ledger {
    fn drop(&mut self) {
        // A background flush finishes before the storage goes.
        self.wait_for_flush();
    }
}

/// Poisons the ledger and wakes every waiting poster if a write unwinds.
struct Unwinding<'l>(&'l Ledger);

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        lock(&self.0.inner).poisoned = true;
        let mut commit = lock(&self.0.commit);
        commit.failed = true;
        commit.writing = false;
        drop(commit);
        self.0.written.notify_all();
    }
}

impl Ledger {
    /// Creates a ledger in an empty storage from a group definition (TOML):
    /// entry 1 records the validated definition, then one entry opens each
    /// account of the definition and each system account.
    pub fn create(storage: Box<dyn Storage>, config_toml: &str, at: Timestamp) -> Result<Ledger, LedgerError> {
        if !storage.is_empty()? {
            return Err(LedgerError::AlreadyInitialized);
        }
        Ledger::create_with(storage, parse_group_config(config_toml)?, at)
    }

    /// [`Ledger::create`] from a definition already validated.
    fn create_with(storage: Box<dyn Storage>, config: GroupConfig, at: Timestamp) -> Result<Ledger, LedgerError> {
        if !storage.is_empty()? {
            return Err(LedgerError::AlreadyInitialized);
        }
        let mut bodies = vec![EntryBody::GroupRecord(Arc::new(config.clone()))];
        bodies.extend(config.accounts.iter().cloned().map(EntryBody::AccountOpened));
        bodies.extend(system_accounts(&config).into_iter().map(EntryBody::AccountOpened));
        // Index files left by an earlier store in this folder describe nothing here.
        remove_index_files(storage.as_ref())?;
        let ledger = Ledger::from_state(storage, State::new(true), IdIndex::default(), false, None);
        let head_seq = {
            let mut inner = lock(&ledger.inner);
            for body in bodies {
                inner.append(body, at, None).map_err(LedgerError::from)?;
            }
            inner.state.head_seq()
        };
        ledger.commit_until(head_seq)?;
        Ok(ledger)
    }

    /// Opens an existing ledger: reads the state snapshot, if the store holds
    /// one that checks out against the journal, and folds the entries after it
    /// (else folds the whole journal), checking the chain and every rule
    /// again, and checks the stored balances against the result
    /// (docs/STORAGE.md, "The state snapshot").
    pub fn open(storage: Box<dyn Storage>) -> Result<Ledger, LedgerError> {
        Ledger::open_with(storage, false)
    }

    /// Opens an existing ledger that refuses every write ([`LedgerError::ReadOnly`]).
    pub fn open_read_only(storage: Box<dyn Storage>) -> Result<Ledger, LedgerError> {
        Ledger::open_with(storage, true)
    }

    fn open_with(storage: Box<dyn Storage>, read_only: bool) -> Result<Ledger, LedgerError> {
        // A reader needs no id index: it keeps no ids of the journal in memory
        // (it posts nothing; a dry run that asks for an id reads the journal, `scanned_id`).
        let mut id_index = if read_only { IdIndex::default() } else { open_id_index(storage.as_ref())? };
        let mut use_snapshot = true;
        let (state, opened_from, checkpoint) = loop {
            let (state, opened_from) = fold_store(storage.as_ref(), &mut id_index, read_only, use_snapshot)?;
            if state.head_seq() == 0 {
                return Err(LedgerError::NotInitialized);
            }
            // Every part's invariants (the ids in memory and on disk account for every
            // transaction), then the stored balances against the state.
            let checked = state
                .check_invariants()
                .map_err(|reason| LedgerError::Integrity { seq: state.head_seq(), reason })
                .and_then(|()| match storage.keeps_checkpoint() {
                    true => reconcile_checkpoint(storage.as_ref(), &state).map(Some),
                    false => Ok(None),
                });
            match checked {
                Ok(checkpoint) => break (state, opened_from, checkpoint),
                Err(LedgerError::Integrity { .. }) if opened_from.is_some() => {
                    // The state read from the snapshot does not agree with the stored
                    // balances: the snapshot is derived data, so fold the whole journal,
                    // which the stored balances are checked against as before.
                    if !read_only {
                        storage.index_remove(snapshot::FILE)?;
                    }
                    use_snapshot = false;
                }
                Err(err) => return Err(err),
            }
        };
        let mut state = state;
        if read_only {
            // From here on, the ids of entries a dry run stages are kept, so
            // that a request repeating one of them is found (`validate`).
            state.keep_ids_after_head();
        }
        match checkpoint {
            // A view of the journal alone: nothing to check the balances
            // against, and nothing can be written through it.
            None if !read_only => return Err(LedgerError::Storage(StorageError::ReadOnly)),
            // A crash left the stored balances behind the journal: they were
            // right at their own entry, so bring them up to date.
            Some(CheckpointStatus::Lagging) if !read_only => storage.write_checkpoint(&checkpoint_of(&state))?,
            _ => {}
        }
        let ledger = Ledger::from_state(storage, state, id_index, read_only, opened_from);
        if !read_only {
            // Ids left in memory by a crash or a rebuilt index go to disk now (and a snapshot after them).
            let mut inner = lock(&ledger.inner);
            let head = inner.state.head_seq();
            ledger.flush_ids_if_due(&mut inner, head);
        }
        Ok(ledger)
    }

    /// The entry of the state snapshot this ledger was opened from: the open
    /// read the state there and folded only the entries after it. `None`: it
    /// folded the journal from its first entry (no snapshot, or one that did
    /// not check out), or it was just created.
    pub fn opened_from(&self) -> Option<u64> {
        self.opened_from
    }

    /// Makes the next open fast: writes every transaction id still in memory
    /// to the on-disk id index (however few), then the state snapshot
    /// (docs/STORAGE.md, "The state snapshot"), so that opening the store reads
    /// the state at the head and folds nothing. Writes nothing on a read-only
    /// ledger, or while other writes are pending or in flight (the state is
    /// then not that of a durable entry; a later checkpoint or id flush writes
    /// one). An error leaves the store as it was for the purpose of opening
    /// (an older snapshot, or none, and the journal) and fails no commit: every
    /// commit before it is durable and stays acknowledged.
    pub fn checkpoint(&self) -> Result<(), LedgerError> {
        if self.read_only {
            return Ok(());
        }
        // A background flush another poster started may run: wait for it (and for any started meanwhile).
        let (durable, mut inner) = loop {
            self.wait_for_flush();
            let durable = lock(&self.commit).durable_seq;
            let inner = lock(&self.inner);
            if !inner.flushing {
                break (durable, inner);
            }
            drop(inner);
            std::thread::yield_now();
        };
        if inner.poisoned {
            return Err(LedgerError::Poisoned);
        }
        if !inner.is_quiet(durable) {
            return Ok(());
        }
        let head = inner.state.head_seq();
        if inner.state.transactions().recent_ids() > 0 {
            self.flush_ids(&mut inner, head)?;
        }
        self.write_snapshot_if_quiet(&mut inner, durable)?;
        Ok(())
    }

    /// How many entries the last state snapshot this ledger wrote or opened
    /// from is behind the head (the head itself when there is none): what the
    /// next open of the store would fold after reading the snapshot. A caller
    /// that writes a little at a time (the CLI) checkpoints once this passes a
    /// threshold rather than after every write.
    pub fn entries_after_snapshot(&self) -> u64 {
        let inner = lock(&self.inner);
        inner.state.head_seq().saturating_sub(inner.snapshot_seq)
    }

    /// The entry that posted `id`, if the on-disk id index has it: each
    /// candidate the index names is read and its id compared.
    fn indexed_id(&self, inner: &Inner, id: &str) -> Result<Option<IdRecord>, LedgerError> {
        if self.read_only {
            // A read-only ledger keeps no ids of the journal: the journal itself
            // is searched (only a read-only check of a batch or a dry run asks).
            return self.scanned_id(id);
        }
        for seq in inner.id_index.candidates(self.storage.as_ref(), id)? {
            let (entry, hash) = journal_entries(self.storage.as_ref(), seq).next().ok_or_else(|| {
                LedgerError::Integrity { seq, reason: "the id index names an entry the journal does not hold".into() }
            })??;
            match entry.body {
                EntryBody::Transaction(tx) if entry.seq == seq => {
                    if tx.id == id {
                        return Ok(Some(IdRecord { seq, hash, fingerprint: fingerprint(&tx) }));
                    }
                }
                _ => {
                    return Err(LedgerError::Integrity {
                        seq,
                        reason: "the id index names an entry that is not a transaction".into(),
                    })
                }
            }
        }
        Ok(None)
    }

    /// The entry of the durable journal that posted `id`, found by reading it
    /// (a read-only ledger, which keeps no ids of the journal in memory).
    fn scanned_id(&self, id: &str) -> Result<Option<IdRecord>, LedgerError> {
        for item in journal_entries(self.storage.as_ref(), 1) {
            let (entry, hash) = item?;
            if let EntryBody::Transaction(tx) = &entry.body {
                if tx.id == id {
                    return Ok(Some(IdRecord { seq: entry.seq, hash, fingerprint: fingerprint(tx) }));
                }
            }
        }
        Ok(None)
    }

    /// Once [`FLUSH_IDS`] ids are in memory, writes those of durable entries
    /// (up to `durable`) to the on-disk index, then the state snapshot if the
    /// state is that of entry `durable` ([`Ledger::write_snapshot_if_quiet`]).
    /// A failure leaves the ids in memory, to be written with the next ones
    /// (and the snapshot as it was): the commit they belong to is durable and
    /// stays acknowledged.
    fn flush_ids_if_due(&self, inner: &mut Inner, durable: u64) {
        if self.read_only || inner.poisoned || inner.state.transactions().recent_ids() < inner.id_flush {
            return;
        }
        let through = durable.min(inner.state.head_seq());
        if self.background_flush.load(std::sync::atomic::Ordering::Relaxed) {
            if !inner.flushing {
                self.start_background_flush(inner, through);
            }
            return;
        }
        if self.flush_ids(inner, through).is_ok() {
            let _ = self.write_snapshot_if_quiet(inner, durable);
        }
    }

    /// Writes the ids and postings in memory of entries up to `through`
    /// (durable) as runs on a thread of its own, while posting goes on: they
    /// stay in memory (found by every lookup and statement) until the runs and
    /// the manifest are written, and then leave it in one step under the lock.
    /// On an error they stay, for the next flush. The state snapshot is left to
    /// [`Ledger::checkpoint`]: a busy ledger always has newer ids in memory.
    fn start_background_flush(&self, inner: &mut Inner, through: u64) {
        if through <= inner.id_index.through() {
            return;
        }
        let records = inner.state.transactions().ids_through(through);
        let postings = inner.state.transactions().postings_through(through);
        let first_seq = inner.id_index.through() + 1;
        let mut next = inner.id_index.clone();
        let storage = Arc::clone(&self.storage);
        let shared = Arc::clone(&self.inner);
        inner.flushing = true;
        let spawned = std::thread::Builder::new().name("cashpool-index-flush".into()).spawn(move || {
            let result = next.flush(storage.as_ref(), records, postings, first_seq, through);
            let mut inner = lock(&shared);
            inner.flushing = false;
            if result.is_ok() {
                inner.state.ids_indexed(next.through(), next.len(), next.postings_len());
                inner.id_index = next;
                // Lookups go through the new runs from here on; a statement still
                // reading a merged one reads the new ones instead.
                let _ = inner.id_index.remove_strays(storage.as_ref());
            }
        });
        match spawned {
            Ok(handle) => {
                // The previous flush is done (`flushing` was false): only its thread's exit is left.
                if let Some(previous) = lock(&self.flusher).replace(handle) {
                    let _ = previous.join();
                }
            }
            Err(_) => inner.flushing = false,
        }
    }

    /// Waits for a background flush of the indexes, if one is running.
    fn wait_for_flush(&self) {
        let handle = lock(&self.flusher).take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }

    /// Whether the indexes' runs are written on a thread of their own (default
    /// false: in the posting thread, right after the commit that fills them).
    /// With it, posting goes on while the ids and postings of the last 131,072
    /// transactions are sorted, written and merged on the other core; they stay
    /// in memory until then. The CLI and the benchmarks turn it on; the state
    /// snapshot is then written by [`Ledger::checkpoint`] only.
    pub fn set_background_flush(&self, on: bool) {
        if !on {
            self.wait_for_flush();
        }
        self.background_flush.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Writes the ids in memory of entries up to `through` (durable) to the
    /// on-disk index as one run; on an error they stay in memory.
    fn flush_ids(&self, inner: &mut Inner, through: u64) -> Result<(), StorageError> {
        if through <= inner.id_index.through() || inner.flushing {
            // Nothing to write, or a background flush is writing (the next flush takes the rest).
            return Ok(());
        }
        let records = inner.state.transactions().ids_through(through);
        let postings = inner.state.transactions().postings_through(through);
        let first_seq = inner.id_index.through() + 1;
        let mut next = inner.id_index.clone();
        next.flush(self.storage.as_ref(), records, postings, first_seq, through)?;
        inner.state.ids_indexed(next.through(), next.len(), next.postings_len());
        inner.id_index = next;
        // Best effort: a file left behind is removed after a later flush.
        let _ = inner.id_index.remove_strays(self.storage.as_ref());
        Ok(())
    }

    /// Writes the state snapshot (`state.snapshot`, replaced atomically) when
    /// the state is exactly that of durable entry `durable` (nothing pending
    /// or in flight) and the on-disk id index holds every transaction's id;
    /// returns whether the snapshot on disk is now at the head. A snapshot
    /// already at the head is not written again.
    fn write_snapshot_if_quiet(&self, inner: &mut Inner, durable: u64) -> Result<bool, StorageError> {
        if self.read_only || inner.poisoned || !inner.is_quiet(durable) || inner.state.head_seq() == 0 {
            return Ok(false);
        }
        if inner.state.transactions().recent_ids() > 0 {
            return Ok(false);
        }
        let head = inner.state.head_seq();
        if inner.snapshot_seq == head {
            return Ok(true);
        }
        let bytes = snapshot::encode(&inner.state.snapshot(inner.id_index.through()));
        self.storage.index_write(snapshot::FILE, &mut |out| {
            out.write_all(&bytes).map_err(|err| StorageError::Io {
                op: "writing",
                path: snapshot::FILE.into(),
                source: err,
            })
        })?;
        inner.snapshot_seq = head;
        Ok(true)
    }

    fn from_state(
        storage: Box<dyn Storage>,
        state: State,
        id_index: IdIndex,
        read_only: bool,
        opened_from: Option<u64>,
    ) -> Ledger {
        let durable_seq = state.head_seq();
        Ledger {
            inner: Arc::new(Mutex::new(Inner {
                state,
                pending_block: Vec::new(),
                pending_first_seq: 0,
                in_flight: None,
                dirty: HashSet::new(),
                undo: Vec::new(),
                ids_added: Vec::new(),
                id_index,
                id_flush: FLUSH_IDS,
                snapshot_seq: opened_from.unwrap_or(0),
                flushing: false,
                poisoned: false,
            })),
            commit: Mutex::new(CommitState { durable_seq, failed: false, writing: false }),
            written: Condvar::new(),
            storage: Arc::from(storage),
            background_flush: std::sync::atomic::AtomicBool::new(false),
            flusher: Mutex::new(None),
            read_only,
            opened_from,
        }
    }

    /// The storage the ledger writes to.
    pub fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }

    /// Whether writes are refused.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// How many transaction ids the ledger keeps in memory before it writes
    /// them to the on-disk id index as one run (default 131,072: about 20 MB
    /// of memory, one run file a flush). Lower bounds memory further and
    /// writes more, smaller runs (merged as they accumulate); at least 1.
    pub fn set_id_index_flush(&self, ids: usize) {
        lock(&self.inner).id_flush = ids.max(1);
    }

    /// The on-disk id index: how many ids it holds and the last entry it covers.
    pub fn id_index_extent(&self) -> (u64, u64) {
        self.wait_for_flush();
        let inner = lock(&self.inner);
        (inner.id_index.len(), inner.id_index.through())
    }

    /// Posts a batch. In [`BatchMode::Atomic`] one rejected transaction
    /// rejects the whole batch and nothing is written. Each transaction sees
    /// the balances left by those before it in the batch. Returns once the
    /// posted entries are durable.
    pub fn post_batch(
        &self,
        requests: &[TransactionRequest],
        mode: BatchMode,
        operator: &str,
        at: Timestamp,
    ) -> Result<BatchOutcome, LedgerError> {
        self.post_batch_with(requests, mode, operator, at, Around::default(), Staging { system: false, dry_run: false })
    }

    /// [`Ledger::post_batch`], plus the entries `around` names in the same
    /// durable commit: its leaders before the batch's transactions (accounts
    /// the transactions need opened), its trailer after them (a sweep run's
    /// report), when the batch is accepted. A dry run is the same plan, staged
    /// and rolled back (leaders included, without the trailer): it refuses
    /// what the run would.
    fn post_batch_with(
        &self,
        requests: &[TransactionRequest],
        mode: BatchMode,
        operator: &str,
        at: Timestamp,
        around: Around,
        staging: Staging,
    ) -> Result<BatchOutcome, LedgerError> {
        let Around { leaders, trailer } = around;
        if self.read_only && !staging.dry_run {
            return Err(LedgerError::ReadOnly);
        }
        let mut inner = lock(&self.inner);
        if inner.poisoned {
            return Err(LedgerError::Poisoned);
        }
        let savepoint = inner.savepoint();
        let mut n_leaders = 0;
        for body in leaders {
            // Planned before the lock was taken: another writer may have opened the account since.
            if matches!(&body, EntryBody::AccountOpened(spec) if inner.state.account_idx(&spec.id).is_some()) {
                continue;
            }
            n_leaders += 1;
            if let Err(err) = inner.append(body, at, None) {
                inner.rollback(savepoint);
                return Err(err.into());
            }
        }
        let staged = self.stage_batch(&mut inner, requests, operator, at, staging.system);
        let Staged { receipts: accepted_receipts, slots, rejected } = match staged {
            Ok(staged) => staged,
            Err(err) => {
                inner.rollback(savepoint);
                return Err(err);
            }
        };
        if mode == BatchMode::Atomic && !rejected.is_empty() {
            inner.rollback(savepoint);
            return Ok(BatchOutcome { receipts: Vec::new(), rejected });
        }
        if staging.dry_run {
            inner.rollback(savepoint);
            return Ok(BatchOutcome { receipts: accepted_receipts, rejected });
        }
        let wrote = !accepted_receipts.is_empty() || trailer.is_some() || n_leaders > 0;
        if let Some(body) = trailer {
            if let Err(err) = inner.append(body, at, None) {
                inner.rollback(savepoint);
                return Err(err.into());
            }
        }
        inner.keep(savepoint);
        let last_seq = if wrote { inner.state.head_seq() } else { 0 };
        drop(inner);
        let receipts: Vec<Receipt> = slots
            .into_iter()
            .filter_map(|slot| match slot {
                Slot::Accepted(idx) => Some(accepted_receipts[idx].clone()),
                Slot::Duplicate(receipt) => Some(receipt),
                Slot::Rejected => None,
            })
            .collect();
        // A duplicate may name an entry another poster has not made durable
        // yet: acknowledge nothing before everything it names is durable.
        let durable_needed = receipts.iter().map(|receipt| receipt.seq).max().unwrap_or(0).max(last_seq);
        if durable_needed > 0 {
            self.commit_until(durable_needed)?;
        }
        Ok(BatchOutcome { receipts, rejected })
    }

    /// Plans each request of a batch against the state and appends every
    /// accepted one through [`Inner::append`], so that the next request sees
    /// it. The caller keeps the result or rolls it back to its savepoint.
    fn stage_batch(
        &self,
        inner: &mut Inner,
        requests: &[TransactionRequest],
        operator: &str,
        at: Timestamp,
        system: bool,
    ) -> Result<Staged, LedgerError> {
        let mut receipts: Vec<Receipt> = Vec::new();
        let mut slots: Vec<Slot> = Vec::with_capacity(requests.len());
        let mut rejected = Vec::new();
        for (index, request) in requests.iter().enumerate() {
            let verdict = if !system && crate::sweep::is_reserved_id(&request.id) {
                Verdict::Reject(Rejection::Invalid {
                    field: "id".into(),
                    message: format!(
                        "{:?} has the shape of the ledger's own ids (sweeps, interest, netting, adopted bank lines), which are reserved; choose another id",
                        request.id
                    ),
                })
            } else {
                // A request whose id an earlier request of this batch took is found in the
                // id index too: every staged transaction is indexed by `Inner::append`.
                let earlier = match inner.state.transactions().get(&request.id) {
                    Some(record) => Some(*record),
                    None => self.indexed_id(inner, &request.id)?,
                };
                inner.state.validate(request, operator, earlier)
            };
            let verdict = match verdict {
                Verdict::Conflict(seq) => {
                    let earlier = self.find_transaction(inner, seq)?;
                    let normalized = normalize(request, operator).ok();
                    match same_content(request, normalized.as_ref(), &earlier) {
                        Err(rejection) => Verdict::Reject(rejection),
                        // Same content but another fingerprint cannot happen; refuse rather than guess.
                        Ok(()) => Verdict::Reject(Rejection::IdConflict {
                            field: "content".into(),
                            stored: format!("entry {seq}"),
                            given: "different content".into(),
                        }),
                    }
                }
                verdict => verdict,
            };
            match verdict {
                Verdict::Post(mut tx, effects) => {
                    tx.effects = Some(inner.state.tx_effects(&effects));
                    let warnings = inner.state.value_date_warnings(&tx);
                    let (seq, head) =
                        inner.append(EntryBody::Transaction(tx), at, Some(effects)).map_err(LedgerError::from)?;
                    slots.push(Slot::Accepted(receipts.len()));
                    receipts.push(Receipt { id: request.id.clone(), seq, head, duplicate: false, warnings });
                }
                Verdict::Duplicate(receipt) => slots.push(Slot::Duplicate(receipt)),
                Verdict::Reject(rejection) => {
                    slots.push(Slot::Rejected);
                    rejected.push(Rejected { index, id: request.id.clone(), rejection });
                }
                Verdict::Conflict(_) => unreachable!("resolved above"),
            }
        }
        Ok(Staged { receipts, slots, rejected })
    }

    /// What [`Ledger::post_batch`] would reject in `requests` as one atomic
    /// batch, without writing anything: the same plan, rolled back.
    pub fn check_batch(&self, requests: &[TransactionRequest], operator: &str) -> Result<Vec<Rejected>, LedgerError> {
        let mut inner = lock(&self.inner);
        let savepoint = inner.savepoint();
        let staged = self.stage_batch(&mut inner, requests, operator, Timestamp::EPOCH, false);
        inner.rollback(savepoint);
        Ok(staged?.rejected)
    }

    /// The transaction of entry `seq`, from the pending block or from storage.
    fn find_transaction(&self, inner: &Inner, seq: u64) -> Result<PostedTransaction, LedgerError> {
        let not_found = || LedgerError::Integrity {
            seq,
            reason: "the id index points to an entry that is not a transaction".into(),
        };
        let in_block = |first_seq: u64, block: &[u8]| -> Result<Entry, LedgerError> {
            let offset = usize::try_from(seq - first_seq).expect("offset fits usize");
            let bytes = block_entries(block).nth(offset).ok_or_else(not_found)?.map_err(|_| not_found())?;
            Entry::decode(bytes).map_err(|err| LedgerError::Integrity { seq, reason: err.to_string() })
        };
        let entry = match &inner.in_flight {
            _ if !inner.pending_block.is_empty() && seq >= inner.pending_first_seq => {
                in_block(inner.pending_first_seq, &inner.pending_block)?
            }
            Some((first_seq, block)) if seq >= *first_seq => in_block(*first_seq, block)?,
            _ => journal_entries(self.storage.as_ref(), seq).next().ok_or_else(not_found)??.0,
        };
        match entry.body {
            EntryBody::Transaction(tx) if entry.seq == seq => Ok(tx),
            _ => Err(not_found()),
        }
    }

    /// Imports bank statements, each with the name of the file it came from:
    /// each is mapped to the ledger account whose `bank_id` (and BIC) it
    /// names, and journaled, all in one commit. A statement already imported
    /// with the same content is skipped (`already_imported`, nothing written);
    /// one with the same account, id and sequence but other content is
    /// journaled as a `conflict`. An unknown account is journaled too (with
    /// no account): the reconciliation reports it, nothing is lost.
    pub fn import_statements(
        &self,
        statements: Vec<(String, crate::bank::BankStatement)>,
        at: Timestamp,
    ) -> Result<Vec<crate::bank::ImportReceipt>, LedgerError> {
        use crate::bank::{
            ImportOutcome, ImportReceipt, ImportStatus, ImportedStatement, IMPORT_STATEMENTS_MAX, STATEMENT_LINES_MAX,
        };
        if self.read_only {
            return Err(LedgerError::ReadOnly);
        }
        let invalid = |field: &str, message: String| Err(LedgerError::invalid(field, message));
        if statements.len() > IMPORT_STATEMENTS_MAX {
            return invalid(
                "statements",
                format!("{} statements; at most {IMPORT_STATEMENTS_MAX} per import", statements.len()),
            );
        }
        let mut inner = lock(&self.inner);
        if inner.poisoned {
            return Err(LedgerError::Poisoned);
        }
        if inner.state.config().is_none() {
            return Err(LedgerError::NotInitialized);
        }
        let mut receipts = Vec::with_capacity(statements.len());
        let mut bodies: Vec<(EntryBody, String)> = Vec::new();
        let mut probe_keys: HashMap<(String, String, String), (EntryHash, u64)> = HashMap::new();
        let mut seq = inner.state.head_seq();
        for (source, mut statement) in statements {
            // A negated zero (`-0.00`, a debit of nothing) is the same figure as `0.00`, but its
            // sign would not survive the journal's encoding: one zero, so replay hashes the same content.
            crate::bank::unsign_zeros(&mut statement);
            if statement.lines.len() > STATEMENT_LINES_MAX {
                return invalid(
                    "lines",
                    format!(
                        "statement {:?} has {} lines; at most {STATEMENT_LINES_MAX}",
                        statement.statement_id,
                        statement.lines.len()
                    ),
                );
            }
            let content_hash = statement.content_hash();
            let key = crate::bank::statement_key(&statement);
            let earlier = probe_keys.get(&key).copied().or_else(|| inner.state.statements().first_import(&key));
            let mut receipt = ImportReceipt {
                source: source.clone(),
                format: statement.format,
                statement_id: statement.statement_id.clone(),
                sequence: statement.sequence.clone(),
                account_id: statement.account_id.clone(),
                account: None,
                currency: statement.currency.clone(),
                lines: statement.lines.len(),
                status: ImportOutcome::AlreadyImported,
                seq: 0,
            };
            if let Some((hash, earlier_seq)) = earlier {
                if hash == content_hash {
                    receipt.seq = earlier_seq;
                    receipt.account = inner.state.statement_account(&statement);
                    receipts.push(receipt);
                    continue;
                }
            }
            // The classification below treats the key as unseen unless the
            // store has it; a copy within this import is caught by `earlier`.
            let (account, mut status) = inner
                .state
                .classify_statement(&statement, content_hash)
                .map_err(|reason| LedgerError::Integrity { seq, reason })?;
            if earlier.is_some() {
                status = ImportStatus::Conflict;
            }
            seq += 1;
            let body = EntryBody::StatementImported(ImportedStatement {
                source,
                account: account.clone(),
                content_hash,
                status,
                statement,
            });
            probe_keys.entry(key).or_insert((content_hash, seq));
            receipt.account = account;
            receipt.status = match status {
                ImportStatus::New => ImportOutcome::New,
                ImportStatus::Conflict => ImportOutcome::Conflict,
            };
            receipt.seq = seq;
            bodies.push((body, receipt.statement_id.clone()));
            receipts.push(receipt);
        }
        if bodies.is_empty() {
            return Ok(receipts);
        }
        let savepoint = inner.savepoint();
        for (body, statement_id) in bodies {
            // Classified above with the same fold; a refusal here is a bug, and is rolled back.
            match inner.append(body, at, None) {
                Ok(_) => {}
                Err(AppendError::TooLarge { len, .. }) => {
                    inner.rollback(savepoint);
                    return invalid(
                        "lines",
                        format!(
                            "statement {statement_id:?} encodes to {len} bytes, above the journal's entry limit of {} bytes; ask the bank for shorter statements",
                            crate::journal::ENTRY_LEN_MAX
                        ),
                    );
                }
                Err(err) => {
                    inner.rollback(savepoint);
                    return Err(err.into());
                }
            }
        }
        inner.keep(savepoint);
        let last_seq = inner.state.head_seq();
        drop(inner);
        self.commit_until(last_seq)?;
        Ok(receipts)
    }

    /// Posts transactions that adopt bank-initiated statement lines (charges,
    /// bank interest) into the ledger, atomically. Every id must be an
    /// adoption id ([`crate::sweep::adopted_id`], `BNK-…`), a namespace an
    /// ordinary post may not use; posting the same adoption again is a no-op.
    pub fn adopt(
        &self,
        requests: &[TransactionRequest],
        operator: &str,
        at: Timestamp,
    ) -> Result<BatchOutcome, LedgerError> {
        let stray: Vec<Rejected> = requests
            .iter()
            .enumerate()
            .filter(|(_, request)| !request.id.starts_with(crate::sweep::ADOPTED_PREFIX))
            .map(|(index, request)| Rejected {
                index,
                id: request.id.clone(),
                rejection: Rejection::Invalid {
                    field: "id".into(),
                    message: format!("{:?} is not an adoption id ({}…)", request.id, crate::sweep::ADOPTED_PREFIX),
                },
            })
            .collect();
        if !stray.is_empty() {
            return Ok(BatchOutcome { receipts: Vec::new(), rejected: stray });
        }
        self.post_batch_with(requests, BatchMode::Atomic, operator, at, Around::default(), SYSTEM)
    }

    /// Journals one entry that is not a transaction (rates, parameters)
    /// through [`Inner::append`], then makes it durable.
    fn append_entry(&self, body: EntryBody, at: Timestamp) -> Result<Receipt, LedgerError> {
        if self.read_only {
            return Err(LedgerError::ReadOnly);
        }
        let mut inner = lock(&self.inner);
        if inner.poisoned {
            return Err(LedgerError::Poisoned);
        }
        // Validated by the caller, so applying cannot fail; if it did, nothing was changed.
        let (seq, head) = inner.append(body, at, None).map_err(LedgerError::from)?;
        drop(inner);
        self.commit_until(seq)?;
        Ok(Receipt { id: String::new(), seq, head, duplicate: false, warnings: Vec::new() })
    }

    /// Imports FX rates. Rows already present with the same rate are skipped
    /// (a re-import writes nothing); a row that would change a rate already
    /// imported refuses the whole import.
    pub fn import_rates(&self, rows: &[RateRow], at: Timestamp) -> Result<RatesImport, LedgerError> {
        let new_rows: Vec<RateRow> = {
            let inner = lock(&self.inner);
            let rates = inner.state.rates().book();
            let (indices, new_rows): (Vec<usize>, Vec<RateRow>) = rows
                .iter()
                .enumerate()
                .filter(|(_, row)| rates.rate(row.currency, row.market, row.date) != Some((row.date, row.rate)))
                .map(|(index, row)| (index, row.clone()))
                .unzip();
            let mut probe = rates.clone();
            if let Err(conflict) = probe.insert(&new_rows) {
                // Name the row as the caller gave it.
                let conflict = RateConflict { row: indices[conflict.row], ..conflict };
                return Err(LedgerError::Refused(Rejection::RateConflict(conflict)));
            }
            new_rows
        };
        let n_new = new_rows.len();
        let receipt =
            if n_new == 0 { None } else { Some(self.append_entry(EntryBody::RatesImported { rows: new_rows }, at)?) };
        Ok(RatesImport { rows: rows.len(), new_rows: n_new, receipt })
    }

    /// Amends the group definition from `effective` on (docs/AMENDMENTS.md):
    /// merges the TOML `fragment` into the definition in force, validates the
    /// result as `init` does and journals, in one commit, the amendment (the
    /// whole definition in force from `effective`), then an `account_opened`
    /// entry per account it opens and the intercompany account of each entity
    /// that joins. Refused with [`Rejection::AmendmentInvalid`] naming the
    /// fragment's key path; nothing is written then.
    pub fn amend(&self, fragment: &str, effective: NaiveDate, at: Timestamp) -> Result<AmendOutcome, LedgerError> {
        if self.read_only {
            return Err(LedgerError::ReadOnly);
        }
        // Checked and appended under one lock: no other write comes between the checks and the entries.
        let mut inner = lock(&self.inner);
        if inner.poisoned {
            return Err(LedgerError::Poisoned);
        }
        let current = inner.state.config().cloned().ok_or(LedgerError::NotInitialized)?;
        let amended = crate::amendment::amend(&current, fragment).map_err(|errors| {
            let field = errors.0.first().map(|error| error.path.clone()).unwrap_or_default();
            let message = errors.0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
            LedgerError::Refused(Rejection::AmendmentInvalid {
                field: if field.is_empty() { "amendment".into() } else { field },
                message,
            })
        })?;
        let config = Arc::new(amended.config.clone());
        let amendment = crate::amendment::Amendment { effective, config: Arc::clone(&config) };
        inner.state.check_amendment(&amendment).map_err(LedgerError::Refused)?;
        let mut bodies = vec![EntryBody::Amended(amendment)];
        bodies.extend(amended.opened.iter().filter_map(|id| config.account(id)).cloned().map(EntryBody::AccountOpened));
        bodies.extend(
            amended
                .joined
                .iter()
                .filter(|entity| **entity != config.pool.host)
                .map(|entity| ic_account(entity))
                .filter(|id| inner.state.account_idx(id).is_none())
                .map(|id| EntryBody::AccountOpened(system_account(&config, &id))),
        );
        let savepoint = inner.savepoint();
        for body in bodies {
            if let Err(err) = inner.append(body, at, None) {
                inner.rollback(savepoint);
                return Err(err.into());
            }
        }
        inner.keep(savepoint);
        let (seq, head) = (inner.state.head_seq(), inner.state.head_hash());
        drop(inner);
        self.commit_until(seq)?;
        Ok(AmendOutcome {
            effective,
            seq,
            head,
            opened: amended.opened,
            closed: amended.closed,
            joined: amended.joined,
            left: amended.left,
        })
    }

    /// The definitions in force over time: entry 1's (from `None`, the
    /// beginning), then each amendment's from its effective date.
    pub fn definitions(&self) -> Vec<(Option<NaiveDate>, Arc<GroupConfig>)> {
        let inner = lock(&self.inner);
        let versions = inner.state.definition().versions();
        versions.map(|(effective, config)| (effective, Arc::clone(config))).collect()
    }

    /// Every account opened, in opening order, with the dates it is open
    /// (`None`: since the group was defined; still open).
    pub fn account_windows(&self) -> Vec<(AccountSpec, Option<NaiveDate>, Option<NaiveDate>)> {
        let inner = lock(&self.inner);
        let definition = inner.state.definition();
        definition
            .accounts()
            .iter()
            .zip(definition.windows())
            .map(|(spec, window)| (spec.clone(), window.from, window.until))
            .collect()
    }

    /// Imports benchmark fixings (docs/SWEEPS.md, "Interest as treasuries set
    /// it"). Fixings already held with the same rate are skipped (a re-import
    /// writes nothing); a row that would change a fixing already imported
    /// ([`Rejection::FixingConflict`], naming the row as given) or a malformed
    /// series id or fixing ([`Rejection::Invalid`]) refuses the whole import.
    /// Rates are journaled normalized (`3.00` as `3`).
    pub fn import_benchmarks(&self, rows: &[BenchmarkRow], at: Timestamp) -> Result<BenchmarksImport, LedgerError> {
        let new_rows: Vec<BenchmarkRow> = {
            let inner = lock(&self.inner);
            let book = inner.state.rates().benchmarks();
            for (index, row) in rows.iter().enumerate() {
                let field = |name: &str| format!("rows[{index}].{name}");
                if let Err(reason) = crate::benchmarks::check_series(&row.series) {
                    return Err(LedgerError::invalid(&field("series"), reason));
                }
                if let Err(reason) = crate::benchmarks::check_fixing(row.rate_percent) {
                    return Err(LedgerError::invalid(&field("rate_percent"), reason));
                }
            }
            let (indices, new_rows): (Vec<usize>, Vec<BenchmarkRow>) = rows
                .iter()
                .enumerate()
                .filter(|(_, row)| !book.holds(row))
                .map(|(index, row)| (index, BenchmarkRow { rate_percent: row.rate_percent.normalize(), ..row.clone() }))
                .unzip();
            let mut probe = book.clone();
            if let Err(conflict) = probe.insert(&new_rows) {
                // Name the row, and its rate, as the caller gave them.
                let row = indices[conflict.row];
                let given = rows[row].rate_percent;
                let conflict = crate::benchmarks::FixingConflict { row, given, ..conflict };
                return Err(LedgerError::Refused(Rejection::FixingConflict(conflict)));
            }
            new_rows
        };
        let n_new = new_rows.len();
        let receipt = if n_new == 0 {
            None
        } else {
            Some(self.append_entry(EntryBody::BenchmarksImported { rows: new_rows }, at)?)
        };
        Ok(BenchmarksImport { rows: rows.len(), new_rows: n_new, receipt })
    }

    /// Every imported benchmark fixing, by series then date; only `series`'s
    /// when given, only those dated in `[from, to]` when given.
    pub fn benchmarks(
        &self,
        series: Option<&str>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Vec<BenchmarkRow> {
        lock(&self.inner)
            .state
            .rates()
            .benchmarks()
            .rows()
            .filter(|row| series.is_none_or(|series| row.series == series))
            .filter(|row| from.is_none_or(|from| row.date >= from) && to.is_none_or(|to| row.date <= to))
            .collect()
    }

    /// The fixing of `series` in force on `date` (the latest on or before it), with its date.
    pub fn fixing(&self, series: &str, date: NaiveDate) -> Option<(NaiveDate, Decimal)> {
        lock(&self.inner).state.rates().benchmarks().fixing(series, date)
    }

    /// Imports business-day calendar days (docs/SWEEPS.md, "Business days").
    /// Rows held as given are skipped (a re-import writes nothing); a row that
    /// would change a day held refuses the whole import
    /// ([`Rejection::CalendarConflict`]) unless `correction` is set, in which
    /// case the change is journaled as a dated correction: it holds from its
    /// entry on, and what was posted or swept before it stands.
    pub fn import_calendars(
        &self,
        rows: &[crate::calendar::CalendarDay],
        correction: bool,
        at: Timestamp,
    ) -> Result<CalendarsImport, LedgerError> {
        if rows.len() > crate::calendar::IMPORT_DAYS_MAX {
            return Err(LedgerError::invalid(
                "days",
                format!(
                    "{} days in one import; at most {} (split the file)",
                    rows.len(),
                    crate::calendar::IMPORT_DAYS_MAX
                ),
            ));
        }
        for (row, day) in rows.iter().enumerate() {
            let invalid = |what: &str, reason: String| LedgerError::invalid(&format!("days[{row}].{what}"), reason);
            crate::calendar::check_calendar_id(&day.calendar).map_err(|reason| invalid("calendar", reason))?;
            crate::calendar::check_day_name(&day.name).map_err(|reason| invalid("name", reason))?;
        }
        let plan = {
            let inner = lock(&self.inner);
            if !inner.state.definition().is_defined() {
                return Err(LedgerError::NotInitialized);
            }
            inner
                .state
                .calendars()
                .book()
                .plan(rows, correction)
                .map_err(|conflict| LedgerError::Refused(Rejection::CalendarConflict(conflict)))?
        };
        let receipt = if plan.import.days.is_empty() {
            None
        } else {
            Some(self.append_entry(EntryBody::CalendarImported(plan.import), at)?)
        };
        Ok(CalendarsImport { rows: rows.len(), new_days: plan.new_days, changed_days: plan.changed_days, receipt })
    }

    /// The calendar days held, sorted by calendar and date: of one calendar
    /// (`calendar`), between two dates (both included), or all.
    pub fn calendar_days(
        &self,
        calendar: Option<&str>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Vec<crate::calendar::CalendarDay> {
        let inner = lock(&self.inner);
        inner
            .state
            .calendars()
            .book()
            .days()
            .filter(|day| calendar.is_none_or(|id| day.calendar == id))
            .filter(|day| from.is_none_or(|from| day.date >= from) && to.is_none_or(|to| day.date <= to))
            .collect()
    }

    /// Whether `date` is a business day in every one of `calendars`.
    pub fn business_day(&self, calendars: &[impl AsRef<str>], date: NaiveDate) -> crate::calendar::DayStatus {
        lock(&self.inner).state.day_status(calendars, date)
    }

    /// Adds a dated change of regulatory parameters.
    pub fn set_limits(&self, change: LimitsChange, at: Timestamp) -> Result<Receipt, LedgerError> {
        {
            let inner = lock(&self.inner);
            let invalid = |field: &str, message: String| Err(LedgerError::invalid(field, message));
            if let Some(pool) = &change.pool {
                let base = inner.state.config().map(|c| c.group.base_currency);
                if let Some(base) = base {
                    if to_currency_scale(pool.owners_equity, base).is_err() {
                        return invalid("owners_equity", format!("more decimals than {base} allows"));
                    }
                }
            }
            if let Err(message) = crate::limits::check_change_values(&change) {
                let field = message.split_whitespace().next().unwrap_or("effective").to_string();
                return invalid(&field, message);
            }
            if let Err(message) = inner.state.limits().params().clone().apply(&change) {
                return invalid("effective", message);
            }
        }
        self.append_entry(EntryBody::LimitsSet(change), at)
    }

    /// The pool's cross-border caps and the entities' foreign debt, at the end of `as_of` or now.
    pub fn limits(&self, as_of: Option<NaiveDate>) -> LimitsView {
        lock(&self.inner).state.limits_view(as_of)
    }

    /// The FX rate in force for `currency` in `market` on `date`.
    pub fn rate(&self, currency: Currency, market: Market, date: NaiveDate) -> Option<(NaiveDate, Decimal)> {
        lock(&self.inner).state.rates().rate(currency, market, date)
    }

    /// Runs the sweep rules for value date `date`. The second run for a date
    /// posts nothing and returns the first run's report (`already_run`); a
    /// dry run plans exactly as a real run would and writes nothing.
    pub fn sweep(&self, date: NaiveDate, dry_run: bool, at: Timestamp) -> Result<SweepOutcome, LedgerError> {
        let plan = {
            let inner = lock(&self.inner);
            let calendars_missing = inner.state.sweep_calendars_missing(date);
            if let Some(run) = inner.state.sweeps().run(date) {
                return Ok(SweepOutcome { run: run.clone(), already_run: true, dry_run, calendars_missing });
            }
            inner.state.check_sweep_day(date).map_err(LedgerError::Refused)?;
            (inner.state.plan_sweeps(date), calendars_missing)
        };
        let (plan, calendars_missing) = plan;
        if self.read_only && !dry_run {
            return Err(LedgerError::ReadOnly);
        }
        let trailer = EntryBody::SweepRun(plan.run.clone());
        let staging = Staging { system: true, dry_run };
        let around = Around { leaders: Vec::new(), trailer: Some(trailer) };
        let outcome = self.post_batch_with(&plan.requests, BatchMode::Atomic, "sweep", at, around, staging)?;
        if let Some(rejected) = outcome.rejected.into_iter().next() {
            // The plan used the same rules as posting: a refusal means the state moved under it.
            // Nothing was written and the journal is sound: a refusal, not an integrity failure.
            return Err(LedgerError::Refused(rejected.rejection));
        }
        Ok(SweepOutcome { run: plan.run, already_run: false, dry_run, calendars_missing })
    }

    /// Accrues intercompany interest over `[from, to)` and, with `settle`,
    /// posts it (see `settle.rs`). Settling a period again posts nothing and
    /// returns the first settlement's report; a period overlapping a settled
    /// one is refused.
    pub fn interest(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        settle: bool,
        at: Timestamp,
    ) -> Result<InterestOutcome, LedgerError> {
        let (run, rates, requests, openings) = {
            let inner = lock(&self.inner);
            let state = &inner.state;
            if let Some(existing) = state.interest().report(from, to) {
                let rates = state.applied_rates(existing);
                return Ok(InterestOutcome { run: existing.clone(), settled: true, already_settled: true, rates });
            }
            if settle {
                if let Some((f, t)) = state.interest().overlapping(from, to) {
                    return Err(LedgerError::invalid(
                        "from",
                        format!("[{from}, {to}) overlaps the settled period [{f}, {t})"),
                    ));
                }
            }
            let (run, rates) = state.accrue_interest(from, to).map_err(LedgerError::Refused)?;
            let requests = state.settlement_requests(&run);
            let config = state.config().expect("an open ledger has a group definition");
            // The tax accounts a store opens when a settlement first books to them (model.rs).
            let openings: Vec<EntryBody> = TAX_ACCOUNTS
                .iter()
                .filter(|(id, _)| state.account_idx(id).is_none())
                .filter(|(id, _)| requests.iter().flat_map(|r| &r.postings).any(|p| p.account == *id))
                .map(|(id, _)| EntryBody::AccountOpened(system_account(config, id)))
                .collect();
            (run, rates, requests, openings)
        };
        if !settle {
            return Ok(InterestOutcome { run, settled: false, already_settled: false, rates });
        }
        if self.read_only {
            return Err(LedgerError::ReadOnly);
        }
        let trailer = EntryBody::InterestSettled(run.clone());
        let around = Around { leaders: openings, trailer: Some(trailer) };
        let outcome = self.post_batch_with(&requests, BatchMode::Atomic, "interest", at, around, SYSTEM)?;
        if let Some(rejected) = outcome.rejected.into_iter().next() {
            // Nothing was written: a refusal, not an integrity failure.
            return Err(LedgerError::Refused(rejected.rejection));
        }
        Ok(InterestOutcome { run, settled: true, already_settled: false, rates })
    }

    /// Runs a netting cycle over `invoices` on `date` (invoices due on or
    /// before it, and on or after `window_start` when given) and posts its
    /// settlements (see `cycle.rs`). A cycle id posts once: running it again
    /// returns the first run's report and writes nothing.
    pub fn net(
        &self,
        cycle: &str,
        date: NaiveDate,
        invoices: &[Invoice],
        mode: NettingMode,
        window_start: Option<NaiveDate>,
        at: Timestamp,
    ) -> Result<NettingOutcome, LedgerError> {
        let (run, requests) = {
            let inner = lock(&self.inner);
            let state = &inner.state;
            if let Some(run) = state.netting().cycle(cycle) {
                return Ok(NettingOutcome { run: run.clone(), already_run: true });
            }
            let config = state.config().cloned().expect("an open ledger has a group definition");
            let netting = config.pool.netting_currency;
            // The invoices' currencies, and every currency an entity may settle in.
            let mut currencies: Vec<Currency> = invoices.iter().map(|invoice| invoice.currency).collect();
            currencies.extend(config.accounts.iter().flat_map(|account| account.currencies.iter().copied()));
            currencies.sort();
            currencies.dedup();
            let rates = state.frozen_rates(date, &currencies, netting);
            let entities: Vec<String> = config.entities.iter().map(|e| e.id.clone()).collect();
            let input = CycleInput {
                cycle: cycle.to_string(),
                date,
                netting_currency: netting,
                entities: &entities,
                centre: &config.pool.host,
                window_start,
                already_settled: state.netting().settled_invoices(),
                rates: &rates,
                mode,
            };
            let result = net_cycle(&input, invoices).map_err(netting_refusal)?;
            let requests = state.cycle_requests(&result, &rates, &config.pool.host).map_err(LedgerError::Refused)?;
            let invoices = crate::cycle::netted_ids(invoices, &result);
            let rates = rates.iter().map(|(ccy, rate)| (*ccy, *rate)).collect();
            (NettingRun { result, mode, rates, invoices }, requests)
        };
        if self.read_only {
            return Err(LedgerError::ReadOnly);
        }
        let trailer = EntryBody::NettingCycle(run.clone());
        let around = Around { leaders: Vec::new(), trailer: Some(trailer) };
        let outcome = self.post_batch_with(&requests, BatchMode::Atomic, "netting", at, around, SYSTEM)?;
        if let Some(rejected) = outcome.rejected.into_iter().next() {
            // A settlement the planned cycle needs was refused: nothing of the cycle was written.
            return Err(LedgerError::Refused(Rejection::SettlementRefused {
                transaction: rejected.id,
                rejection: Box::new(rejected.rejection),
            }));
        }
        Ok(NettingOutcome { run, already_run: false })
    }

    /// Each member's intercompany position with the pool per currency, at the
    /// end of `as_of` or now: positive, the member lent to the pool.
    pub fn positions(&self, as_of: Option<NaiveDate>) -> Vec<PositionRow> {
        position_rows(&lock(&self.inner).state, as_of)
    }

    /// The totals of [`Ledger::balances`] (same `as_of`, `account` and
    /// `currency`) in the base currency at the rates in force on
    /// `rates_as_of` ([`crate::totals`]): the group's own accounts only
    /// (external counterparties and system accounts are left out: with them
    /// every currency sums to zero), each account's balance at its zone's
    /// market (onshore: the onshore CNY rate; FT and offshore: the offshore
    /// CNH rate), one line per currency and market, each rounded half-even to
    /// the base currency's minor units. A currency without a rate is listed
    /// and leaves the grand total unknown. Rows and rates are read under one
    /// lock: the totals are those of the rows `balances` gives at that moment.
    pub fn balance_totals_in_base(
        &self,
        as_of: Option<NaiveDate>,
        account: Option<&str>,
        currency: Option<Currency>,
        rates_as_of: NaiveDate,
    ) -> Result<BaseTotals, LedgerError> {
        let inner = lock(&self.inner);
        let state = &inner.state;
        let rows = balance_rows(state, as_of, account, currency)?;
        let mut amounts = Vec::with_capacity(rows.len());
        for row in &rows {
            let idx = state.account_idx(&row.account).expect("a row of balances names a known account");
            let spec = state.spec(idx);
            if !spec.kind.is_own() {
                continue;
            }
            // An own account always has a zone; `market_of` is how the ledger converts its postings.
            assert!(spec.zone.is_some(), "own account {} has a zone", spec.id);
            amounts.push((row.currency, crate::limits::market_of(spec.zone), row.balance));
        }
        let rate = |currency, market| state.rates().rate(currency, market, rates_as_of);
        base_totals(amounts, state.base_currency(), rates_as_of, rate)
            .map_err(|err| LedgerError::invalid("totals", err.to_string()))
    }

    /// The net of [`Ledger::positions`] (same `as_of`) per currency in the base
    /// currency at the onshore rates in force on `rates_as_of`
    /// ([`crate::totals`]): a position is held in the member's `SYS-IC-…`
    /// account, which sits in no zone and belongs to the host's (onshore)
    /// books, so it converts as the ledger converts every posting to a system
    /// account, at the onshore market. Positive: the members together lent to
    /// the pool. A currency without a rate is listed and leaves the grand
    /// total unknown.
    pub fn position_totals_in_base(
        &self,
        as_of: Option<NaiveDate>,
        rates_as_of: NaiveDate,
    ) -> Result<BaseTotals, LedgerError> {
        let inner = lock(&self.inner);
        let state = &inner.state;
        let amounts: Vec<(Currency, Market, Decimal)> = position_rows(state, as_of)
            .into_iter()
            .map(|row| (row.currency, crate::limits::market_of(None), row.position))
            .collect();
        let rate = |currency, market| state.rates().rate(currency, market, rates_as_of);
        base_totals(amounts, state.base_currency(), rates_as_of, rate)
            .map_err(|err| LedgerError::invalid("totals", err.to_string()))
    }

    /// Posts one transaction (a batch of one, atomic).
    pub fn post(&self, request: &TransactionRequest, operator: &str, at: Timestamp) -> Result<Receipt, LedgerError> {
        let mut outcome = self.post_batch(std::slice::from_ref(request), BatchMode::Atomic, operator, at)?;
        match outcome.rejected.pop() {
            Some(rejected) => Err(LedgerError::Refused(rejected.rejection)),
            None => Ok(outcome.receipts.pop().expect("one receipt for one accepted transaction")),
        }
    }

    /// Makes every entry up to `seq` durable (group commit). While one poster
    /// writes, the others append to the pending block and wait; when the write
    /// ends they all wake, those whose entries it carried return, and one of
    /// the rest writes everything pending in one block. The write itself runs
    /// without the lock, so waiting posters never queue behind it one by one.
    fn commit_until(&self, seq: u64) -> Result<(), LedgerError> {
        let mut commit = lock(&self.commit);
        loop {
            if commit.durable_seq >= seq {
                return Ok(());
            }
            if commit.failed {
                return Err(LedgerError::Poisoned);
            }
            if !commit.writing {
                break;
            }
            commit = self.written.wait(commit).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        commit.writing = true;
        let durable_seq = commit.durable_seq;
        drop(commit);
        // Should the write panic, the ledger is poisoned and the waiters are woken, not left waiting.
        let unwinding = Unwinding(self);
        let batch = {
            let mut inner = lock(&self.inner);
            let block = Arc::new(std::mem::take(&mut inner.pending_block));
            let first_seq = inner.pending_first_seq;
            inner.in_flight = Some((first_seq, Arc::clone(&block)));
            let last_seq = inner.state.head_seq();
            let dirty = std::mem::take(&mut inner.dirty);
            let balances = dirty
                .into_iter()
                .map(|(account_idx, currency)| StoredBalance {
                    account: inner.state.spec(account_idx).id.clone(),
                    currency,
                    balance: inner.state.balance(account_idx, currency, None),
                })
                .collect();
            Commit { first_seq, last_seq, block, balances, head: inner.state.head_hash() }
        };
        assert!(batch.last_seq >= seq && batch.first_seq == durable_seq + 1, "pending entries follow the durable ones");
        let result = self.storage.commit(&batch);
        std::mem::forget(unwinding);
        lock(&self.inner).in_flight = None;
        let mut commit = lock(&self.commit);
        commit.writing = false;
        let outcome = match result {
            Ok(()) => {
                commit.durable_seq = batch.last_seq;
                Ok(())
            }
            Err(err) => {
                commit.failed = true;
                lock(&self.inner).poisoned = true;
                Err(err.into())
            }
        };
        drop(commit);
        self.written.notify_all();
        if outcome.is_ok() {
            let mut inner = lock(&self.inner);
            self.flush_ids_if_due(&mut inner, batch.last_seq);
        }
        outcome
    }

    /// The group definition.
    pub fn config(&self) -> Arc<GroupConfig> {
        lock(&self.inner).state.config().cloned().expect("an open ledger has a group definition")
    }

    /// Every account, in opening order.
    pub fn accounts(&self) -> Vec<AccountSpec> {
        lock(&self.inner).state.definition().accounts().to_vec()
    }

    /// The chain head: the last sequence number and its hash.
    pub fn head(&self) -> (u64, EntryHash) {
        let inner = lock(&self.inner);
        (inner.state.head_seq(), inner.state.head_hash())
    }

    /// The number of transactions posted.
    pub fn n_transactions(&self) -> u64 {
        lock(&self.inner).state.n_transactions()
    }

    /// The state digest of the live state (equal to `audit replay`'s).
    pub fn state_digest(&self) -> crate::StateDigest {
        lock(&self.inner).state.digest()
    }

    /// The balance of `account` in `currency`: now, or at the end of value date `as_of`.
    pub fn balance(&self, account: &str, currency: Currency, as_of: Option<NaiveDate>) -> Result<Decimal, LedgerError> {
        let inner = lock(&self.inner);
        let idx = inner.state.account_idx(account).ok_or_else(|| LedgerError::UnknownAccount(account.to_string()))?;
        Ok(inner.state.balance(idx, currency, as_of))
    }

    /// Balances of every account in every currency it holds or has used,
    /// sorted by account id then currency; filtered by account and currency.
    pub fn balances(
        &self,
        as_of: Option<NaiveDate>,
        account: Option<&str>,
        currency: Option<Currency>,
    ) -> Result<Vec<BalanceRow>, LedgerError> {
        balance_rows(&lock(&self.inner).state, as_of, account, currency)
    }

    /// The postings of `account` with value dates in `[from, to]`, ordered by
    /// value date then sequence number, with running balances per currency,
    /// as of the last durable entry ([`Ledger::statement_page`] without a
    /// limit: every line is in memory; [`Ledger::statement_reader`] streams them).
    pub fn statement(
        &self,
        account: &str,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<StatementView, LedgerError> {
        self.statement_page(&crate::StatementQuery { from, to, ..crate::StatementQuery::new(account) })
    }

    /// One page of a statement: at most `query.limit` lines after
    /// `query.after`, with the balance before the page's first line
    /// (`opening`) and after its last (`closing`), and where the next page
    /// starts (`next`). Reads the posting index (docs/STORAGE.md, "The
    /// posting index"), never the whole journal.
    pub fn statement_page(&self, query: &crate::StatementQuery) -> Result<StatementView, LedgerError> {
        let mut reader = self.statement_reader(query)?;
        let opening = reader.opening().to_vec();
        let lines = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
        Ok(StatementView {
            account: query.account.clone(),
            from: query.from,
            to: query.to,
            opening,
            lines,
            closing: reader.closing(),
            next: reader.next_page(),
        })
    }

    /// A statement as an iterator of lines, read from the posting index as
    /// they are asked for (memory: a few decoded journal blocks, whatever the
    /// statement's length); its opening balance is known before the first
    /// line, its closing balance and next page after the last.
    pub fn statement_reader(&self, query: &crate::StatementQuery) -> Result<crate::StatementReader<'_>, LedgerError> {
        let basis = self.statement_basis(query)?;
        crate::StatementReader::new(self, query, basis)
    }

    /// What a statement needs of the state, taken under the lock: the account,
    /// the currencies, the durable head, the balances before the start date,
    /// and a writer's index and postings in memory.
    fn statement_basis(&self, query: &crate::StatementQuery) -> Result<crate::statement::StatementBasis, LedgerError> {
        let durable = lock(&self.commit).durable_seq;
        let inner = lock(&self.inner);
        let state = &inner.state;
        let account_idx =
            state.account_idx(&query.account).ok_or_else(|| LedgerError::UnknownAccount(query.account.clone()))?;
        let mut currencies: Vec<Currency> = state.balances().of_account(account_idx).map(|(ccy, _)| ccy).collect();
        currencies.retain(|ccy| query.currency.is_none_or(|wanted| wanted == *ccy));
        let head = if self.read_only { state.head_seq() } else { durable.min(state.head_seq()) };
        let start = match (query.from, query.after) {
            (Some(from), Some(after)) => Some(from.max(after.value_date)),
            (from, after) => from.or(after.map(|a| a.value_date)),
        };
        let recent = state.transactions().recent_postings();
        let before = currencies
            .iter()
            .map(|ccy| {
                let Some(start) = start else { return (*ccy, Decimal::ZERO, false) };
                let (mut total, mut any) = (Decimal::ZERO, false);
                if let Some((_, balance)) = state.balances().of_account(account_idx).find(|(c, _)| c == ccy) {
                    for (_, change) in balance.by_date().range(..start) {
                        total += *change;
                        any = true;
                    }
                }
                // Entries not yet durable are not in the statement.
                let code = crate::index::postings::currency_code(*ccy);
                let first_day = chrono::Datelike::num_days_from_ce(&start);
                for record in recent.iter().filter(|r| {
                    r.key.seq > head && r.key.account == account_idx && r.key.currency == code && r.key.day < first_day
                }) {
                    total -= record.amount;
                }
                (*ccy, total, any)
            })
            .collect();
        let writer = (!self.read_only).then(|| writer_index(&inner, account_idx, head));
        Ok(crate::statement::StatementBasis { account_idx, currencies, head, before, writer })
    }

    /// A writer's posting index as it stands now and the postings in memory of
    /// `account_idx` up to `head` (a statement whose runs were merged away
    /// under it reads these); `None` for a reader.
    pub(crate) fn writer_index(
        &self,
        account_idx: u32,
        head: u64,
    ) -> Option<(crate::index::Manifest, Vec<crate::index::postings::PostingRecord>)> {
        (!self.read_only).then(|| writer_index(&lock(&self.inner), account_idx, head))
    }

    /// The durable journal from sequence number `from_seq` on, with each entry's hash.
    pub fn entries(&self, from_seq: u64) -> impl Iterator<Item = Result<(Entry, EntryHash), LedgerError>> + '_ {
        journal_entries(self.storage.as_ref(), from_seq)
    }
}

fn writer_index(
    inner: &Inner,
    account_idx: u32,
    head: u64,
) -> (crate::index::Manifest, Vec<crate::index::postings::PostingRecord>) {
    let recent = inner.state.transactions().recent_postings();
    let tail = recent.iter().filter(|r| r.key.account == account_idx && r.key.seq <= head).copied().collect();
    (inner.id_index.manifest(), tail)
}

/// Reads entries from storage in order, from `from_seq` on, checking that
/// each one decodes and that sequence numbers follow (the chain itself is
/// checked by [`fold_storage`] and `audit verify`).
pub(crate) fn journal_entries(
    storage: &dyn Storage,
    from_seq: u64,
) -> impl Iterator<Item = Result<(Entry, EntryHash), LedgerError>> + '_ {
    storage.blocks(from_seq).flat_map(
        move |block| -> Box<dyn Iterator<Item = Result<(Entry, EntryHash), LedgerError>>> {
            match block {
                Ok((first_seq, bytes)) => {
                    Box::new(BlockEntries { bytes, pos: 0, first_seq, offset: 0, from_seq, done: false })
                }
                Err(err) => Box::new(std::iter::once(Err(err.into()))),
            }
        },
    )
}

/// The entries of one stored block, decoded one at a time: a block holds a
/// whole commit, which may be a file of half a million transactions, and
/// decoding it at once would hold them all (several times the block's bytes).
/// Entries before `from_seq` are decoded and checked, but not yielded; the
/// first bad entry is yielded as an error and ends the block.
struct BlockEntries {
    bytes: Vec<u8>,
    pos: usize,
    first_seq: u64,
    offset: u64,
    from_seq: u64,
    done: bool,
}

impl Iterator for BlockEntries {
    type Item = Result<(Entry, EntryHash), LedgerError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            let part = block_entries(rest).next()?;
            let seq = self.first_seq + self.offset;
            let (len, result) = match part {
                Ok(part) => (
                    4 + part.len(),
                    Entry::decode(part).map(|entry| (entry, hash_bytes(part))).map_err(|err| err.to_string()),
                ),
                Err(err) => (rest.len(), Err(err.to_string())),
            };
            let result = result
                .and_then(|(entry, hash)| {
                    if entry.seq == seq {
                        Ok((entry, hash))
                    } else {
                        Err(format!("block {} holds entry {} at position {}", self.first_seq, entry.seq, self.offset))
                    }
                })
                .map_err(|reason| LedgerError::Integrity { seq, reason });
            self.pos += len;
            self.offset += 1;
            if result.is_err() {
                self.done = true;
                return Some(result);
            }
            if seq >= self.from_seq {
                return Some(result);
            }
        }
        None
    }
}

/// The on-disk id index of a writer's `storage`. A damaged one is derived
/// data: it is removed (the fold then keeps every id in memory, and the next
/// flush writes them again).
fn open_id_index(storage: &dyn Storage) -> Result<IdIndex, LedgerError> {
    match IdIndex::open(storage) {
        Ok(index) => Ok(index),
        Err(StorageError::Corrupt(_)) => {
            remove_index_files(storage)?;
            Ok(IdIndex::default())
        }
        Err(err) => Err(err.into()),
    }
}

fn remove_index_files(storage: &dyn Storage) -> Result<(), StorageError> {
    for name in storage.index_names()? {
        storage.index_remove(&name)?;
    }
    Ok(())
}

/// Folds the stored journal into a state, checking the chain and every rule.
pub(crate) fn fold_storage(
    storage: &dyn Storage,
    with_id_index: bool,
    to_seq: Option<u64>,
) -> Result<State, LedgerError> {
    match fold_storage_partial(storage, with_id_index, to_seq)? {
        (state, None) => Ok(state),
        (_, Some((seq, reason))) => Err(LedgerError::Integrity { seq, reason }),
    }
}

/// Like [`fold_storage`], but on an integrity failure returns the state of
/// the entries before the first bad one, with that entry's sequence number and the reason.
pub(crate) fn fold_storage_partial(
    storage: &dyn Storage,
    with_id_index: bool,
    to_seq: Option<u64>,
) -> Result<(State, Option<(u64, String)>), StorageError> {
    fold_into(State::new(with_id_index), storage, to_seq)
}

/// Folds the stored journal into `state`, as [`fold_storage_partial`] does:
/// an empty state (perhaps told where the on-disk id index ends) folds the
/// whole journal; a state restored from a snapshot at entry S folds the
/// entries after S, the chain checked from S's hash on.
pub(crate) fn fold_into(
    mut state: State,
    storage: &dyn Storage,
    to_seq: Option<u64>,
) -> Result<(State, Option<(u64, String)>), StorageError> {
    let mut cursor = ChainCursor::at(state.head_seq(), state.head_hash());
    // The first block may begin before the entry the fold goes on from: its earlier entries are folded already.
    let mut started = false;
    for block in storage.blocks(cursor.next_seq()) {
        let (first_seq, bytes) = block?;
        if first_seq > cursor.next_seq() || (started && first_seq != cursor.next_seq()) {
            let reason = format!("the next stored block starts at entry {first_seq}");
            return Ok((state, Some((cursor.next_seq(), reason))));
        }
        let mut skip = cursor.next_seq() - first_seq;
        for part in block_entries(&bytes) {
            let seq = cursor.next_seq();
            if skip > 0 {
                if let Err(err) = part {
                    return Ok((state, Some((seq, err.to_string()))));
                }
                skip -= 1;
                continue;
            }
            if to_seq.is_some_and(|to| seq > to) {
                return Ok((state, None));
            }
            let part = match part {
                Ok(part) => part,
                Err(err) => return Ok((state, Some((seq, err.to_string())))),
            };
            let (entry, hash) = match cursor.accept_bytes(part) {
                Ok(accepted) => accepted,
                Err(err) => return Ok((state, Some((err.seq, err.reason)))),
            };
            if let Err(reason) = state.apply_entry(&entry, hash) {
                return Ok((state, Some((seq, reason))));
            }
        }
        started = true;
    }
    Ok((state, None))
}

/// The state of the stored journal for opening it: read from the state
/// snapshot with the entries after it folded onto it (`use_snapshot`, when the
/// store holds one that checks out: see [`load_snapshot`]), else folded from
/// the first entry; returns it with the snapshot's entry, if one was used.
/// The on-disk id index must agree with the journal (its runs hold exactly
/// the transactions of the entries it covers); when it does not, it is
/// derived data: a writer removes it and the snapshot, and the journal is
/// folded again keeping every id in memory (the next flush writes every id
/// again). A tail that does not fold onto the snapshot makes a fold of the
/// whole journal, which says where the journal is wrong if it is.
fn fold_store(
    storage: &dyn Storage,
    id_index: &mut IdIndex,
    read_only: bool,
    use_snapshot: bool,
) -> Result<(State, Option<u64>), LedgerError> {
    let mut restored = if use_snapshot { load_snapshot(storage, id_index, read_only)? } else { None };
    loop {
        let from_snapshot = restored.is_some();
        let start = restored.take().unwrap_or_else(|| {
            // A reader keeps no ids of the journal in memory.
            let mut state = State::new(!read_only);
            state.index_ids_through(id_index.through(), id_index.len(), id_index.postings_len());
            state
        });
        let start_seq = start.head_seq();
        let state = match fold_into(start, storage, None)? {
            (state, None) => state,
            (_, Some(_)) if from_snapshot => {
                if !read_only {
                    storage.index_remove(snapshot::FILE)?;
                }
                continue;
            }
            (_, Some((seq, reason))) => return Err(LedgerError::Integrity { seq, reason }),
        };
        if id_index.through() <= state.head_seq() && state.transactions().index_complete() {
            return Ok((state, from_snapshot.then_some(start_seq)));
        }
        if !read_only {
            remove_index_files(storage)?;
        }
        *id_index = IdIndex::default();
    }
}

/// The hash of entry `seq` as the journal stores it (its bytes, not decoded),
/// if the journal holds it.
fn stored_entry_hash(storage: &dyn Storage, seq: u64) -> Result<Option<EntryHash>, StorageError> {
    for block in storage.blocks(seq) {
        let (first_seq, bytes) = block?;
        if first_seq > seq {
            return Ok(None);
        }
        for (offset, part) in block_entries(&bytes).enumerate() {
            let Ok(part) = part else { return Ok(None) };
            if first_seq + offset as u64 == seq {
                return Ok(Some(hash_bytes(part)));
            }
        }
    }
    Ok(None)
}

/// The state the store's snapshot holds, at its entry (docs/STORAGE.md, "The
/// state snapshot"), when it checks out: it decodes (this version's format,
/// its checksum), the id index holds every id it counts, the journal holds its
/// entry with its hash, and the restored state has its digest and every
/// invariant. A snapshot that does not is derived data: ignored (a writer
/// removes it), and the journal is folded from its first entry.
fn load_snapshot(storage: &dyn Storage, id_index: &IdIndex, read_only: bool) -> Result<Option<State>, LedgerError> {
    let Some(bytes) = storage.index_read(snapshot::FILE)? else {
        return Ok(None);
    };
    match check_snapshot(storage, &bytes, id_index, read_only)? {
        Ok(state) => Ok(Some(state)),
        Err(_ignored) => {
            if !read_only {
                storage.index_remove(snapshot::FILE)?;
            }
            Ok(None)
        }
    }
}

/// [`load_snapshot`]'s checks: the restored state, or why the snapshot is not used.
fn check_snapshot(
    storage: &dyn Storage,
    bytes: &[u8],
    id_index: &IdIndex,
    read_only: bool,
) -> Result<Result<State, String>, StorageError> {
    let rec = match snapshot::decode(bytes) {
        Ok(rec) => rec,
        Err(reason) => return Ok(Err(reason)),
    };
    // A reader opens no id index: the ids up to the snapshot's entry are left to the journal.
    let (ids_through, ids_count, postings_count) = if read_only {
        (rec.seq, rec.transactions.count, rec.transactions.postings)
    } else {
        (id_index.through(), id_index.len(), id_index.postings_len())
    };
    if !read_only
        && (id_index.through() < rec.ids_through
            || id_index.len() < rec.ids_count
            || id_index.postings_len() < rec.transactions.postings)
    {
        return Ok(Err(format!(
            "the id index (through entry {}, {} ids) does not hold the ids the snapshot counts (through entry {}, {})",
            id_index.through(),
            id_index.len(),
            rec.ids_through,
            rec.ids_count
        )));
    }
    let (seq, hash, digest) = (rec.seq, EntryHash(rec.hash), rec.digest);
    match stored_entry_hash(storage, seq)? {
        Some(stored) if stored == hash => {}
        Some(_) => return Ok(Err(format!("entry {seq} of the journal is not the snapshot's: another history"))),
        None => return Ok(Err(format!("the journal does not hold entry {seq}"))),
    }
    let state = match State::restore(rec, ids_through, ids_count, postings_count) {
        Ok(state) => state,
        Err(reason) => return Ok(Err(reason)),
    };
    if let Err(reason) = state.check_invariants() {
        return Ok(Err(reason));
    }
    if state.digest().0 .0 != digest {
        return Ok(Err("the restored state does not have the snapshot's digest".into()));
    }
    Ok(Ok(state))
}

/// How the stored checkpoint relates to the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CheckpointStatus {
    /// It reflects the last entry.
    Current,
    /// It reflects an earlier entry (a crash came between a commit's journal
    /// record and its checkpoint) and was right at that entry.
    Lagging,
}

/// Checks the stored balances against the journal at the entry they claim to
/// reflect: `state` when that is its head, else a fold up to that entry.
pub(crate) fn reconcile_checkpoint(storage: &dyn Storage, state: &State) -> Result<CheckpointStatus, LedgerError> {
    let checkpoint = storage.checkpoint()?;
    let (seq, hash) = checkpoint.head.unwrap_or((0, EntryHash::GENESIS));
    let mismatch = |reason: String| LedgerError::Integrity { seq, reason: format!("stored balances: {reason}") };
    if seq > state.head_seq() {
        return Err(mismatch(format!(
            "they reflect entry {seq} but the journal ends at entry {}: acknowledged entries are missing",
            state.head_seq()
        )));
    }
    let (at_seq, status) = if seq == state.head_seq() {
        (None, CheckpointStatus::Current)
    } else {
        (Some(fold_storage(storage, false, Some(seq))?), CheckpointStatus::Lagging)
    };
    let reference = at_seq.as_ref().unwrap_or(state);
    if reference.head_seq() != seq || reference.head_hash() != hash {
        return Err(mismatch(format!(
            "the stored head {hash} is not the hash of entry {seq} ({})",
            reference.head_hash()
        )));
    }
    compare_balances(&checkpoint.balances, reference).map_err(mismatch)?;
    Ok(status)
}

/// Every stored balance equals the folded one, and every non-zero folded balance is stored.
fn compare_balances(stored: &[StoredBalance], state: &State) -> Result<(), String> {
    let mut seen = HashSet::new();
    for record in stored {
        let idx = state
            .account_idx(&record.account)
            .ok_or_else(|| format!("a balance is stored for unknown account {}", record.account))?;
        let folded = state.balance(idx, record.currency, None);
        if folded != record.balance {
            return Err(format!(
                "the stored balance of {} {} is {} but the journal gives {}",
                record.account, record.currency, record.balance, folded
            ));
        }
        seen.insert((record.account.as_str(), record.currency));
    }
    for (spec, currency, balance) in state.all_balances() {
        if !balance.is_zero() && !seen.contains(&(spec.id.as_str(), currency)) {
            return Err(format!("no stored balance for {} {} (the journal gives {balance})", spec.id, currency));
        }
    }
    Ok(())
}

/// The checkpoint of a folded state: every balance record, and its head.
pub(crate) fn checkpoint_of(state: &State) -> Checkpoint {
    let balances = state
        .all_balances()
        .map(|(spec, currency, balance)| StoredBalance { account: spec.id.clone(), currency, balance })
        .collect();
    Checkpoint { head: (state.head_seq() > 0).then_some((state.head_seq(), state.head_hash())), balances }
}

/// The system accounts of a group: owned by the host, unbounded, any
/// currency; then the pool's side of the intercompany positions and one
/// position account per member other than the host.
fn system_accounts(config: &GroupConfig) -> Vec<AccountSpec> {
    let members = config.entities.iter().filter(|e| e.id != config.pool.host).map(|e| ic_account(&e.id));
    SYSTEM_ACCOUNTS
        .iter()
        .map(|(id, _)| (*id).to_string())
        .chain(std::iter::once(SYS_IC_POOL.to_string()))
        .chain(members)
        .map(|id| system_account(config, &id))
        .collect()
}

/// A system account of the group: owned by the host, unbounded, any currency.
fn system_account(config: &GroupConfig, id: &str) -> AccountSpec {
    assert!(id.starts_with(crate::model::SYSTEM_ACCOUNT_PREFIX), "{id} is not a system account id");
    AccountSpec {
        id: id.to_string(),
        entity: config.pool.host.clone(),
        kind: AccountKind::System,
        zone: None,
        bank_bic: None,
        bank_id: None,
        currencies: Vec::new(),
        overdrafts: Vec::new(),
    }
}

/// The entries journaled with a batch, in its commit: `leaders` before its
/// transactions, `trailer` after them.
#[derive(Default)]
struct Around {
    leaders: Vec<EntryBody>,
    trailer: Option<EntryBody>,
}

/// Who stages a batch, and whether it is kept.
#[derive(Debug, Clone, Copy)]
struct Staging {
    /// The ledger's own transactions (sweeps, interest, netting, adoptions) may use reserved ids.
    system: bool,
    /// Plan and roll back.
    dry_run: bool,
}

const SYSTEM: Staging = Staging { system: true, dry_run: false };

/// A batch staged through [`Inner::append`]: the receipts of the accepted
/// transactions, where each request ended up, and the refusals.
struct Staged {
    receipts: Vec<Receipt>,
    slots: Vec<Slot>,
    rejected: Vec<Rejected>,
}

/// Where a request of a batch ended up.
enum Slot {
    Accepted(usize),
    Duplicate(Receipt),
    Rejected,
}

/// Why [`Inner::append`] appended nothing.
#[derive(Debug)]
enum AppendError {
    /// The entry would exceed [`crate::journal::ENTRY_LEN_MAX`].
    TooLarge { seq: u64, len: usize },
    /// The fold refused it: the plan that built it was wrong (a bug), nothing of it remains.
    Refused { seq: u64, reason: String },
}

impl From<AppendError> for LedgerError {
    fn from(err: AppendError) -> LedgerError {
        match err {
            AppendError::TooLarge { seq, len } => LedgerError::Integrity {
                seq,
                reason: format!(
                    "the entry encodes to {len} bytes, above the limit of {}",
                    crate::journal::ENTRY_LEN_MAX
                ),
            },
            AppendError::Refused { seq, reason } => LedgerError::Integrity { seq, reason },
        }
    }
}

/// What [`Inner::rollback`] restores: everything the appends after it changed.
struct Savepoint {
    head_seq: u64,
    head_hash: EntryHash,
    block_len: usize,
    pending_first_seq: u64,
    n_transactions: u64,
    limits: LimitState,
    transactions_part: crate::state::TransactionsMark,
    /// Where this savepoint's postings start in the undo log.
    undo_from: usize,
    ids_from: usize,
    /// The accounts open at the savepoint (a plan may open more: the interest settlement's
    /// tax accounts).
    n_accounts: usize,
    /// The amendments journaled at the savepoint.
    n_amendments: usize,
}

impl Inner {
    /// Whether the state is exactly that of entry `durable`, a durable one:
    /// nothing appended after it, pending or in flight.
    fn is_quiet(&self, durable: u64) -> bool {
        self.state.head_seq() == durable && self.pending_block.is_empty() && self.in_flight.is_none()
    }

    /// The one place that writes to the journal: builds the next entry,
    /// encodes it into the pending block, hashes it, applies it through the
    /// same fold that replay uses ([`State::apply_entry`], or for a
    /// transaction the plan has just checked, its checked effects), asserts
    /// the ledger's invariants and leaves it staged for the group commit.
    /// On an error nothing of the entry remains.
    fn append(
        &mut self,
        body: EntryBody,
        at: Timestamp,
        checked: Option<crate::limits::Effects>,
    ) -> Result<(u64, EntryHash), AppendError> {
        let seq = self.state.head_seq() + 1;
        let entry = Entry { format: FormatVersion::V2, seq, prev_hash: self.state.head_hash(), recorded_at: at, body };
        if let EntryBody::Transaction(tx) = &entry.body {
            assert_balanced(tx);
        }
        let block_len = self.pending_block.len();
        if self.pending_block.is_empty() {
            self.pending_first_seq = seq;
        }
        // Frame: a little-endian u32 length, then the bytes (see `journal::block_entries`).
        self.pending_block.extend_from_slice(&[0; 4]);
        entry.encode_into(&mut self.pending_block);
        let entry_len = self.pending_block.len() - block_len - 4;
        if entry_len > crate::journal::ENTRY_LEN_MAX {
            self.pending_block.truncate(block_len);
            return Err(AppendError::TooLarge { seq, len: entry_len });
        }
        let frame = u32::try_from(entry_len).expect("an entry is at most ENTRY_LEN_MAX bytes");
        self.pending_block[block_len..block_len + 4].copy_from_slice(&frame.to_le_bytes());
        let hash = hash_bytes(&self.pending_block[block_len + 4..]);
        let undo = &mut self.undo;
        let dirty = &mut self.dirty;
        let applied = match (&entry.body, checked) {
            (EntryBody::Transaction(tx), Some(effects)) => {
                self.state.apply_transaction(tx, &effects, seq, hash, |posting| {
                    dirty.insert((posting.account_idx, posting.currency));
                    undo.push(posting);
                });
                self.ids_added.push(tx.id.as_str().into());
                self.state.move_head(seq, hash);
                Ok(())
            }
            (_, _) => {
                let result = self.state.apply_entry_with(&entry, hash, |posting| {
                    dirty.insert((posting.account_idx, posting.currency));
                    undo.push(posting);
                });
                if let (Ok(()), EntryBody::Transaction(tx)) = (&result, &entry.body) {
                    self.ids_added.push(tx.id.as_str().into());
                }
                result
            }
        };
        if let Err(reason) = applied {
            self.pending_block.truncate(block_len);
            return Err(AppendError::Refused { seq, reason });
        }
        // Head and sequence number move together, once, here.
        assert_eq!(self.state.head_seq(), seq, "the head advances by one entry");
        assert_eq!(self.state.head_hash(), hash, "the head is the hash of the entry just appended");
        Ok((seq, hash))
    }

    /// Marks where a plan's appends start.
    fn savepoint(&self) -> Savepoint {
        Savepoint {
            head_seq: self.state.head_seq(),
            head_hash: self.state.head_hash(),
            block_len: self.pending_block.len(),
            pending_first_seq: self.pending_first_seq,
            n_transactions: self.state.n_transactions(),
            limits: self.state.limit_state().clone(),
            transactions_part: self.state.transactions_part(),
            undo_from: self.undo.len(),
            ids_from: self.ids_added.len(),
            n_accounts: self.state.definition().accounts().len(),
            n_amendments: self.state.definition().amendments().len(),
        }
    }

    /// Keeps what was appended since the savepoint.
    fn keep(&mut self, savepoint: Savepoint) {
        self.undo.truncate(savepoint.undo_from);
        self.ids_added.truncate(savepoint.ids_from);
    }

    /// Undoes every append since the savepoint (a refused atomic batch, a dry
    /// run), then asserts that the state is exactly what it was.
    fn rollback(&mut self, savepoint: Savepoint) {
        let postings: Vec<Applied> = self.undo.drain(savepoint.undo_from..).collect();
        // What each touched balance must be once the postings are undone.
        let mut expected: Vec<(u32, Currency, Decimal)> = Vec::new();
        for posting in &postings {
            if !expected.iter().any(|(idx, ccy, _)| *idx == posting.account_idx && *ccy == posting.currency) {
                let total = self.state.total(posting.account_idx, posting.currency);
                let net: Decimal = postings
                    .iter()
                    .filter(|p| p.account_idx == posting.account_idx && p.currency == posting.currency)
                    .map(|p| p.amount)
                    .sum();
                expected.push((posting.account_idx, posting.currency, total - net));
            }
        }
        let n_transactions = self.state.n_transactions() - savepoint.n_transactions;
        self.state.undo(&postings, n_transactions, savepoint.limits.clone());
        for id in self.ids_added.drain(savepoint.ids_from..) {
            self.state.forget_id(&id);
        }
        // Accounts the plan opened are closed again (their postings are undone above), and
        // no balance of theirs is left to store.
        self.state.undo_accounts(savepoint.n_accounts);
        self.state.undo_amendments(savepoint.n_amendments);
        let n_accounts = u32::try_from(savepoint.n_accounts).expect("fewer than 2^32 accounts");
        self.dirty.retain(|(account_idx, _)| *account_idx < n_accounts);
        self.state.restore_transactions_part(savepoint.transactions_part);
        self.state.rewind_head(savepoint.head_seq, savepoint.head_hash);
        self.pending_block.truncate(savepoint.block_len);
        self.pending_first_seq = savepoint.pending_first_seq;
        // The state is exactly what it was: head, counts, limits, and every balance the plan touched.
        assert_eq!(self.state.n_transactions(), savepoint.n_transactions, "rollback restores the transaction count");
        assert!(*self.state.limit_state() == savepoint.limits, "rollback restores the limit state");
        assert_eq!(self.pending_block.len(), savepoint.block_len, "rollback restores the pending block");
        assert_eq!(self.state.definition().accounts().len(), savepoint.n_accounts, "rollback closes opened accounts");
        for (idx, currency, total) in expected {
            if idx < n_accounts {
                assert_eq!(self.state.total(idx, currency), total, "rollback restores every touched balance");
            }
        }
    }
}

/// What validation decided about one request. Lives for one step of the
/// validation loop, so the size of its largest variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Verdict {
    Post(PostedTransaction, Effects),
    Duplicate(Receipt),
    /// The id was posted before (entry `seq`) with a different fingerprint.
    Conflict(u64),
    Reject(Rejection),
}

impl State {
    /// Turns a request into a transaction to post, or decides it is a
    /// duplicate or rejected; `earlier`: the entry that posted its id before, if any.
    fn validate(&self, request: &TransactionRequest, operator: &str, earlier: Option<IdRecord>) -> Verdict {
        let normalized = normalize(request, operator);
        if let Some(record) = earlier {
            if let Ok(tx) = &normalized {
                if fingerprint(tx) == record.fingerprint {
                    return Verdict::Duplicate(Receipt {
                        id: request.id.clone(),
                        seq: record.seq,
                        head: record.hash,
                        duplicate: true,
                        warnings: Vec::new(),
                    });
                }
            }
            return Verdict::Conflict(record.seq);
        }
        let tx = match normalized {
            Ok(tx) => tx,
            Err(rejection) => return Verdict::Reject(rejection),
        };
        let mut tx = tx;
        tx.classification = self.classify(&tx);
        match self.check_transaction(&tx) {
            Ok(effects) => Verdict::Post(tx, effects),
            Err(rejection) => Verdict::Reject(rejection),
        }
    }
}

/// Names the first field in which `request` differs from an earlier transaction with its id.
pub(crate) fn same_content(
    request: &TransactionRequest,
    normalized: Option<&PostedTransaction>,
    earlier: &PostedTransaction,
) -> Result<(), Rejection> {
    let conflict =
        |field: &str, stored: String, given: String| Err(Rejection::IdConflict { field: field.into(), stored, given });
    if request.value_date != earlier.value_date {
        return conflict("value_date", earlier.value_date.to_string(), request.value_date.to_string());
    }
    if request.purpose != earlier.purpose {
        return conflict("purpose", earlier.purpose.to_string(), request.purpose.to_string());
    }
    if request.reference != earlier.reference {
        return conflict("reference", format!("{:?}", earlier.reference), format!("{:?}", request.reference));
    }
    if request.memo != earlier.memo {
        return conflict("memo", format!("{:?}", earlier.memo), format!("{:?}", request.memo));
    }
    if request.term_days != earlier.term_days {
        return conflict("term_days", format!("{:?}", earlier.term_days), format!("{:?}", request.term_days));
    }
    if request.lender != earlier.lender {
        return conflict("lender", format!("{:?}", earlier.lender), format!("{:?}", request.lender));
    }
    let rate_given = normalized.map(|tx| tx.rate.clone());
    if rate_given.as_ref().is_none_or(|rate| *rate != earlier.rate) {
        return conflict("rate", format!("{:?}", earlier.rate), format!("{:?}", request.rate));
    }
    let Some(given) = normalized else {
        return conflict(
            "postings",
            format!("{} postings", earlier.postings.len()),
            format!("{} postings (not valid)", request.postings.len()),
        );
    };
    if given.postings.len() != earlier.postings.len() {
        return conflict(
            "postings",
            format!("{} postings", earlier.postings.len()),
            format!("{} postings", given.postings.len()),
        );
    }
    let show = |posting: &crate::journal::Posting| {
        format!(
            "{} {} {}",
            posting.account,
            crate::money::format_amount(posting.amount, posting.currency),
            posting.currency
        )
    };
    if let Some((idx, (stored, new))) =
        earlier.postings.iter().zip(&given.postings).enumerate().find(|(_, (stored, new))| stored != new)
    {
        let field = match (stored.account == new.account, stored.currency == new.currency) {
            (false, _) => "account",
            (true, false) => "currency",
            (true, true) => "amount",
        };
        return conflict(&format!("postings[{idx}].{field}"), show(stored), show(new));
    }
    Ok(())
}

/// Validates the shape of a request and turns it into a transaction: amounts
/// at their minor units, FX legs through the FX position account. Checks that
/// need the ledger's accounts and balances come after, in `check_transaction`.
pub(crate) fn normalize(request: &TransactionRequest, operator: &str) -> Result<PostedTransaction, Rejection> {
    let invalid = |field: &str, message: String| Rejection::Invalid { field: field.into(), message };
    if request.id.is_empty() || request.id.len() > ID_LEN_MAX {
        return Err(invalid("id", format!("must be 1 to {ID_LEN_MAX} bytes")));
    }
    if request.id.chars().any(|c| c.is_control()) {
        return Err(invalid("id", "must not contain control characters".into()));
    }
    if request.reference.len() > REFERENCE_LEN_MAX {
        return Err(invalid("reference", format!("longer than {REFERENCE_LEN_MAX} bytes")));
    }
    if request.memo.len() > MEMO_LEN_MAX {
        return Err(invalid("memo", format!("longer than {MEMO_LEN_MAX} bytes")));
    }
    match (request.purpose == Purpose::ForeignDebt, request.term_days, &request.lender) {
        (true, Some(days), Some(lender)) if days > 0 && !lender.is_empty() => {}
        (true, _, _) => return Err(invalid("term_days", "foreign_debt needs term_days (> 0) and lender".into())),
        (false, None, None) => {}
        (false, _, _) => return Err(invalid("term_days", "term_days and lender are only for foreign_debt".into())),
    }
    if request.postings.is_empty() {
        return Err(Rejection::Empty);
    }
    if request.postings.len() > POSTINGS_MAX {
        return Err(Rejection::PostingLimit { postings: request.postings.len(), max: POSTINGS_MAX });
    }
    // A transaction whose every leg is on one account in one currency moves
    // nothing (a CSV row paying an account to itself): refused, so that it is
    // not mistaken for a movement. An FX deal within one multi-currency
    // account has legs in two currencies and is fine.
    let first = &request.postings[0];
    if request.postings.len() > 1
        && request.postings.iter().all(|p| p.account == first.account && p.currency == first.currency)
    {
        return Err(invalid(
            "postings[1].account",
            format!(
                "every leg is on account {} in {}: a transaction must move money between accounts",
                first.account, first.currency
            ),
        ));
    }
    let mut postings = Vec::with_capacity(request.postings.len() + 2);
    for (posting_idx, posting) in request.postings.iter().enumerate() {
        let currency = Currency::from_code(&posting.currency).ok_or_else(|| Rejection::UnknownCurrency {
            field: format!("postings[{posting_idx}].currency"),
            currency: posting.currency.clone(),
        })?;
        let amount = scaled(posting.amount, currency, &format!("postings[{posting_idx}].amount"))?;
        postings.push(Posting { account: posting.account.clone(), currency, amount });
    }
    let rate = match &request.rate {
        None => None,
        Some(rate) => {
            let parse = |code: &str, field: &str| {
                Currency::from_code(code)
                    .ok_or_else(|| Rejection::UnknownCurrency { field: field.into(), currency: code.into() })
            };
            let base = parse(&rate.base, "rate.base")?;
            let quote = parse(&rate.quote, "rate.quote")?;
            if base == quote {
                return Err(invalid("rate.quote", "base and quote must differ".into()));
            }
            if rate.rate <= Decimal::ZERO {
                return Err(invalid("rate.rate", "must be positive".into()));
            }
            Some(FxRate { base, quote, rate: rate.rate.normalize() })
        }
    };
    if let Some(rate) = &rate {
        route_fx(&mut postings, rate)?;
    }
    Ok(PostedTransaction {
        id: request.id.clone(),
        value_date: request.value_date,
        purpose: request.purpose,
        reference: request.reference.clone(),
        memo: request.memo.clone(),
        postings,
        rate,
        term_days: request.term_days,
        lender: request.lender.clone(),
        // Set from the accounts' zones once the ledger's accounts are at hand.
        classification: Classification::Internal,
        operator: operator.to_string(),
        effects: None,
    })
}

fn scaled(amount: Decimal, currency: Currency, field: &str) -> Result<Decimal, Rejection> {
    to_currency_scale(amount, currency).map_err(|err| match err {
        MoneyError::TooManyDecimals { .. } => {
            Rejection::TooManyDecimals { field: field.into(), amount, currency, minor_units: currency.minor_units() }
        }
        other => Rejection::Invalid { field: field.into(), message: other.to_string() },
    })
}

/// Books the imbalance of the rate's two currencies to the FX position account.
fn route_fx(postings: &mut Vec<Posting>, rate: &FxRate) -> Result<(), Rejection> {
    for currency in [rate.base, rate.quote] {
        let sum = postings
            .iter()
            .filter(|p| p.currency == currency)
            .try_fold(Decimal::ZERO, |sum, p| sum.checked_add(p.amount))
            .ok_or(Rejection::Overflow { account: SYS_FX_POSITION.into(), currency })?;
        if !sum.is_zero() {
            postings.push(Posting { account: SYS_FX_POSITION.into(), currency, amount: -sum });
        }
    }
    if postings.len() > POSTINGS_MAX {
        return Err(Rejection::PostingLimit { postings: postings.len(), max: POSTINGS_MAX });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;
    use crate::sweep::SkipReason;

    const GROUP: &str = include_str!("../../../tests/fixtures/small-group.toml");
    const ROUND_GROUP: &str = include_str!("../../../tests/fixtures/limits/round-group.toml");

    /// Issue 15, defect 1: a sweep the rules in force refuse on the day is a
    /// reported skip (`second_line`), and the rest of the run goes on. The
    /// group definition refuses such a rule up front, so the definition is
    /// changed after validation here, as a later amendment would change it.
    #[test]
    fn a_sweep_refused_on_the_day_is_a_skip_and_the_run_goes_on() {
        let rules = [("FTZ-FTE", "SZ-OPS"), ("HK-OPS", "R-IMA")]
            .map(|(account, into)| {
                format!("[[sweep]]\naccount = \"{account}\"\ncurrency = \"CNY\"\ninto = \"{into}\"\nmethod = \"zero\"\ndirection = \"both\"\npriority = 1\n")
            })
            .join("\n");
        let mut config = parse_group_config(&format!("{ROUND_GROUP}\n{rules}")).unwrap();
        config.pool.second_line_between_entities = crate::config::SecondLineRule::SameName;
        let ledger = Ledger::create_with(Box::new(MemoryStorage::new()), config, Timestamp::EPOCH).unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 4, 15).unwrap();
        let funding = [("F1", "FTZ-FTE"), ("F2", "HK-OPS")].map(|(id, to)| {
            let amount = Decimal::new(500_000, 2);
            TransactionRequest::transfer(id, date, "EXT-OFF", to, "CNY", amount, Purpose::CurrentAccount, "", "")
        });
        let outcome = ledger.post_batch(&funding, BatchMode::Atomic, "test", Timestamp::EPOCH).unwrap();
        assert!(outcome.rejected.is_empty(), "{outcome:?}");
        let outcome = ledger.sweep(date, false, Timestamp::EPOCH).unwrap();
        let skipped: Vec<(&str, SkipReason)> =
            outcome.run.skipped.iter().map(|skip| (skip.account.as_str(), skip.reason)).collect();
        assert_eq!(skipped, [("FTZ-FTE", SkipReason::SecondLine)]);
        let swept: Vec<&str> = outcome.run.sweeps.iter().map(|line| line.account.as_str()).collect();
        assert_eq!(swept, ["HK-OPS"]);
    }

    /// A snapshot is written after a commit, so a fold from one starts at a
    /// block's boundary; a fold from any entry, in the middle of a block too,
    /// must go on to the state a fold from the first entry gives.
    #[test]
    fn a_fold_goes_on_from_an_entry_in_the_middle_of_a_block() {
        let storage = MemoryStorage::new();
        let ledger = Ledger::create(Box::new(storage.clone()), GROUP, Timestamp::EPOCH).unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let requests: Vec<TransactionRequest> = (0..5)
            .map(|i| {
                let amount = Decimal::new(100 + i, 2);
                let id = format!("M-{i}");
                TransactionRequest::transfer(id, date, "EXT", "HK-OPS", "USD", amount, Purpose::CurrentAccount, "", "")
            })
            .collect();
        let outcome = ledger.post_batch(&requests, BatchMode::Atomic, "test", Timestamp::EPOCH).unwrap();
        assert!(outcome.rejected.is_empty(), "{outcome:?}");
        let (head, _) = ledger.head();
        let whole = fold_storage(&storage, false, None).unwrap();
        for start in head - 5..=head {
            let part = fold_storage(&storage, false, Some(start)).unwrap();
            assert_eq!(part.head_seq(), start);
            let (state, failure) = fold_into(part, &storage, None).unwrap();
            assert_eq!(failure, None, "from entry {start}");
            assert_eq!((state.head_seq(), state.digest()), (whole.head_seq(), whole.digest()), "from entry {start}");
        }
        // The chain is checked from the start's hash on: a state whose head hash is not the
        // journal's refuses the next entry.
        let mut part = fold_storage(&storage, false, Some(head - 2)).unwrap();
        part.rewind_head(head - 2, EntryHash([7; 32]));
        let (_, failure) = fold_into(part, &storage, None).unwrap();
        let (seq, reason) = failure.expect("a break in the chain");
        assert_eq!(seq, head - 1);
        assert!(reason.contains("prev_hash"), "{reason}");
    }
}
