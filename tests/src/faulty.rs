//! Fault injection through the [`Storage`] trait: [`FaultyStorage`] wraps a
//! backend and, on a shared countdown ([`Faults`]), makes one call fail.
//!
//! # The fault model
//!
//! Every call of a trait method counts: `blocks`, **each** `next()` of the
//! iterator it returns (the call that returns the end of the iteration too),
//! `commit`, `checkpoint`, `write_checkpoint` and `is_empty`. [`Faults::arm`]
//! starts a countdown of `k` calls; the call that brings it to zero fails,
//! once, and every call after it goes through again (the ledger's own
//! poisoning, not a stuck disk, is what must refuse further writes).
//!
//! The failing call is either
//!
//! - [`Fault::Io`]: an I/O error (`EIO`) before the inner storage is called,
//!   so that nothing reaches it; a failed `next()` ends the iteration, as the
//!   journal log's reader does; or
//! - [`Fault::ShortWrite`] on a `commit`: a torn write. What of the commit
//!   reaches the medium is [`Keep`], as far as the backend can express it
//!   ([`TornWrite`]), and then the call fails with a `WriteZero` I/O error. On
//!   any other method a short write is an I/O error.
//!
//! What a torn write is for each backend:
//!
//! - [`SledStorage`]: the commit's journal record is really appended (by the
//!   backend's own code), then the segment file is cut after `Keep` of the
//!   record's bytes, as a write interrupted by a crash or a full disk leaves
//!   it. The balance checkpoint is put back to what it was before the commit,
//!   since a failed append never queues its balances. Opening the store again
//!   must cut the torn tail. `Keep::Everything` is the write that landed
//!   although the call failed (an `fdatasync` error after the data reached the
//!   disk, or the checkpoint write of the 64th commit failing): the journal
//!   holds the commit, the checkpoint lags behind it.
//! - [`MemoryStorage`]: its commit is one map insertion, all or nothing, and it
//!   has no torn-tail recovery of its own: the contract ("all of it or none of
//!   it must survive a crash") is what a real backend's recovery provides. So
//!   every `Keep` short of `Everything` leaves **nothing** of the commit (what
//!   survives a torn tail once a log has cut it), and `Everything` stores the
//!   whole block and puts the checkpoint back to the commit before, as with
//!   sled (a lagging checkpoint is within the contract). A block cut at a byte,
//!   or only some of a commit's entries, is not a state the contract allows
//!   (the journal log checksums a commit's record as a whole, so it cannot
//!   keep part of one); the tests store such a block in a copy directly, to
//!   check that opening refuses it rather than open into a partial state.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use cashpool_ledger::storage::{
    BlockIter, Checkpoint, Commit, IndexFill, MemoryStorage, SledStorage, Storage, StorageError, StoredBlock,
};

/// The trait method a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// `blocks()` itself.
    Blocks,
    /// One `next()` of the iterator `blocks()` returned.
    BlocksNext,
    Commit,
    Checkpoint,
    WriteCheckpoint,
    IsEmpty,
    /// Writing an index file (a run or the manifest of the id index, the state snapshot).
    IndexWrite,
    /// Reading part of an index file.
    IndexReadAt,
    /// Reading a whole index file.
    IndexRead,
    IndexRemove,
    IndexNames,
}

impl Method {
    /// What the failing operation was doing, for the injected error.
    fn op(self) -> &'static str {
        match self {
            Method::Blocks => "opening the journal for reading",
            Method::BlocksNext => "reading a journal block",
            Method::Commit => "appending a commit to the journal",
            Method::Checkpoint => "reading the balance checkpoint",
            Method::WriteCheckpoint => "writing the balance checkpoint",
            Method::IsEmpty => "inspecting the journal",
            Method::IndexWrite => "writing an index file",
            Method::IndexReadAt => "reading an index file",
            Method::IndexRead => "reading an index file whole",
            Method::IndexRemove => "removing an index file",
            Method::IndexNames => "listing the index files",
        }
    }
}

/// How much of a torn commit's record reaches the medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Not a byte.
    Nothing,
    /// This many bytes (at most all but one).
    Bytes(u64),
    /// All but the last byte.
    AllButOneByte,
    /// All of it: only the acknowledgement is lost.
    Everything,
}

/// What the failing call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// An I/O error; the inner storage is not called.
    Io,
    /// On `commit`, a torn write (see the module documentation); elsewhere an I/O error.
    ShortWrite(Keep),
}

/// The fault that was injected.
#[derive(Debug, Clone)]
pub struct Injection {
    /// The call's number, counted from 1 over the life of the [`Faults`].
    pub call: u64,
    pub method: Method,
    pub fault: Fault,
    /// The error the call returned.
    pub error: String,
    /// What reached the inner storage.
    pub effect: String,
    /// The commit the failing call was given, when it was a `commit`.
    pub commit: Option<Commit>,
    /// The index file the failing call was given, when it was on one (a run, the manifest, the state snapshot).
    pub file: Option<String>,
}

#[derive(Debug, Default)]
struct FaultState {
    calls: u64,
    /// Calls left before the fault; 0: disarmed.
    countdown: u64,
    fault: Option<Fault>,
    trace: Vec<Method>,
    injection: Option<Injection>,
}

/// The countdown and the record of calls, shared by every [`FaultyStorage`]
/// made with it (a reopened store keeps counting).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    state: Arc<Mutex<FaultState>>,
}

impl Faults {
    /// No fault armed.
    pub fn new() -> Faults {
        Faults::default()
    }

    /// The `k`-th call from now (1: the next one) fails with `fault`.
    pub fn arm(&self, k: u64, fault: Fault) {
        assert!(k > 0, "a countdown starts at 1");
        let mut state = self.lock();
        state.countdown = k;
        state.fault = Some(fault);
        state.injection = None;
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    /// The method of every call so far, in order (call `n` is `trace()[n - 1]`).
    pub fn trace(&self) -> Vec<Method> {
        self.lock().trace.clone()
    }

    /// The fault injected, if the countdown ran out.
    pub fn injection(&self) -> Option<Injection> {
        self.lock().injection.clone()
    }

    fn lock(&self) -> MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a call; returns its number, and the fault when this call must fail.
    fn tick(&self, method: Method) -> (u64, Option<Fault>) {
        let mut state = self.lock();
        state.calls += 1;
        state.trace.push(method);
        let call = state.calls;
        if state.countdown == 0 {
            return (call, None);
        }
        state.countdown -= 1;
        if state.countdown > 0 {
            return (call, None);
        }
        (call, state.fault.take())
    }

    fn record(&self, injection: Injection) {
        self.lock().injection = Some(injection);
    }
}

/// A backend that can take a torn write of a commit (see the module documentation).
pub trait TornWrite: Storage {
    /// Lets `keep` of `commit` reach the medium, as this backend can express
    /// it, and describes what it did. An error is a real failure of the backend.
    fn torn_commit(&self, commit: &Commit, keep: Keep) -> Result<String, StorageError>;
}

impl TornWrite for MemoryStorage {
    fn torn_commit(&self, commit: &Commit, keep: Keep) -> Result<String, StorageError> {
        if keep == Keep::Everything {
            let before = self.checkpoint()?;
            self.commit(commit)?;
            // The block landed, the balances did not: the checkpoint lags by this commit.
            self.write_checkpoint(&before)?;
            return Ok(format!(
                "stored the whole block of entries {}..={}, not its balances",
                commit.first_seq, commit.last_seq
            ));
        }
        Ok(format!(
            "stored nothing of the commit of entries {}..={} (all or nothing in memory)",
            commit.first_seq, commit.last_seq
        ))
    }
}

fn fs_error<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StorageError + 'a {
    move |source| StorageError::Io { op, path: path.display().to_string(), source }
}

/// The length of every segment file of a journal folder.
fn segment_lens(dir: &Path) -> Result<BTreeMap<PathBuf, u64>, StorageError> {
    let mut lens = BTreeMap::new();
    for item in std::fs::read_dir(dir).map_err(fs_error("listing", dir))? {
        let path = item.map_err(fs_error("listing", dir))?.path();
        if path.extension().is_some_and(|ext| ext == "log") {
            let len = std::fs::metadata(&path).map_err(fs_error("reading", &path))?.len();
            lens.insert(path, len);
        }
    }
    Ok(lens)
}

impl TornWrite for SledStorage {
    fn torn_commit(&self, commit: &Commit, keep: Keep) -> Result<String, StorageError> {
        let journal = self.path().join("journal");
        // What the checkpoint holds when an append fails: everything before this commit.
        let before = self.checkpoint()?;
        let lens_before = segment_lens(&journal)?;
        self.commit(commit)?;
        let lens_after = segment_lens(&journal)?;
        let grown: Vec<(&PathBuf, u64, u64)> = lens_after
            .iter()
            .map(|(path, &after)| (path, lens_before.get(path).copied().unwrap_or(0), after))
            .filter(|(_, before, after)| after > before)
            .collect();
        let [(path, old_len, new_len)] = grown[..] else {
            return Err(StorageError::Corrupt(format!("torn-write model: {} segments grew, not one", grown.len())));
        };
        if lens_after.len() != lens_before.len() && keep != Keep::Everything {
            // A segment is rotated only after a complete, durable append, so a
            // torn record is always the last one of the last segment.
            return Err(StorageError::Corrupt("torn-write model: the commit rotated the segment".into()));
        }
        let record = new_len - old_len;
        let kept = match keep {
            Keep::Nothing => 0,
            Keep::Bytes(n) => n.min(record - 1),
            Keep::AllButOneByte => record - 1,
            Keep::Everything => record,
        };
        if kept < record {
            let file = OpenOptions::new().write(true).open(path).map_err(fs_error("opening", path))?;
            file.set_len(old_len + kept).map_err(fs_error("truncating", path))?;
            file.sync_all().map_err(fs_error("fsync", path))?;
        }
        // A failed append never queues its balances: put the checkpoint back.
        self.write_checkpoint(&before)?;
        Ok(format!(
            "kept {kept} of the {record} bytes of the record of entries {}..={} in {}",
            commit.first_seq,
            commit.last_seq,
            path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
        ))
    }
}

/// A [`Storage`] that delegates to `inner` and fails one call on the countdown of `faults`.
#[derive(Debug)]
pub struct FaultyStorage<S> {
    inner: S,
    faults: Faults,
}

impl<S: TornWrite> FaultyStorage<S> {
    pub fn new(inner: S, faults: Faults) -> FaultyStorage<S> {
        FaultyStorage { inner, faults }
    }

    /// The storage underneath, without faults.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The injected I/O error of call `call`, recorded.
    fn io_error(&self, call: u64, method: Method, fault: Fault, commit: Option<&Commit>) -> StorageError {
        self.io_error_on(call, method, fault, commit, None)
    }

    /// [`FaultyStorage::io_error`] of a call on the index file `file`.
    fn io_error_on(
        &self,
        call: u64,
        method: Method,
        fault: Fault,
        commit: Option<&Commit>,
        file: Option<&str>,
    ) -> StorageError {
        let error = injected(call, method, std::io::Error::from_raw_os_error(5));
        self.faults.record(Injection {
            call,
            method,
            fault,
            error: error.to_string(),
            effect: "nothing reached the storage".into(),
            commit: commit.cloned(),
            file: file.map(str::to_string),
        });
        error
    }
}

fn injected(call: u64, method: Method, source: std::io::Error) -> StorageError {
    StorageError::Io { op: method.op(), path: format!("<fault injected at storage call {call}>"), source }
}

impl<S: TornWrite> Storage for FaultyStorage<S> {
    fn blocks(&self, from_seq: u64) -> BlockIter<'_> {
        let (call, fault) = self.faults.tick(Method::Blocks);
        if let Some(fault) = fault {
            return Box::new(std::iter::once(Err(self.io_error(call, Method::Blocks, fault, None))));
        }
        Box::new(FaultyBlocks { inner: Some(self.inner.blocks(from_seq)), faults: &self.faults })
    }

    fn commit(&self, commit: &Commit) -> Result<(), StorageError> {
        let (call, fault) = self.faults.tick(Method::Commit);
        match fault {
            None => self.inner.commit(commit),
            Some(fault @ Fault::Io) => Err(self.io_error(call, Method::Commit, fault, Some(commit))),
            Some(fault @ Fault::ShortWrite(keep)) => {
                let effect = self.inner.torn_commit(commit, keep)?;
                let source = std::io::Error::new(std::io::ErrorKind::WriteZero, format!("short write: {effect}"));
                let error = injected(call, Method::Commit, source);
                self.faults.record(Injection {
                    call,
                    method: Method::Commit,
                    fault,
                    error: error.to_string(),
                    effect,
                    commit: Some(commit.clone()),
                    file: None,
                });
                Err(error)
            }
        }
    }

    fn checkpoint(&self) -> Result<Checkpoint, StorageError> {
        match self.faults.tick(Method::Checkpoint) {
            (_, None) => self.inner.checkpoint(),
            (call, Some(fault)) => Err(self.io_error(call, Method::Checkpoint, fault, None)),
        }
    }

    fn write_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StorageError> {
        match self.faults.tick(Method::WriteCheckpoint) {
            (_, None) => self.inner.write_checkpoint(checkpoint),
            (call, Some(fault)) => Err(self.io_error(call, Method::WriteCheckpoint, fault, None)),
        }
    }

    fn is_empty(&self) -> Result<bool, StorageError> {
        match self.faults.tick(Method::IsEmpty) {
            (_, None) => self.inner.is_empty(),
            (call, Some(fault)) => Err(self.io_error(call, Method::IsEmpty, fault, None)),
        }
    }

    fn index_write(&self, name: &str, fill: &mut IndexFill<'_>) -> Result<(), StorageError> {
        match self.faults.tick(Method::IndexWrite) {
            (_, None) => self.inner.index_write(name, fill),
            (call, Some(fault)) => Err(self.io_error_on(call, Method::IndexWrite, fault, None, Some(name))),
        }
    }

    fn index_read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<(), StorageError> {
        match self.faults.tick(Method::IndexReadAt) {
            (_, None) => self.inner.index_read_at(name, offset, buf),
            (call, Some(fault)) => Err(self.io_error_on(call, Method::IndexReadAt, fault, None, Some(name))),
        }
    }

    fn index_read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        match self.faults.tick(Method::IndexRead) {
            (_, None) => self.inner.index_read(name),
            (call, Some(fault)) => Err(self.io_error_on(call, Method::IndexRead, fault, None, Some(name))),
        }
    }

    fn index_remove(&self, name: &str) -> Result<(), StorageError> {
        match self.faults.tick(Method::IndexRemove) {
            (_, None) => self.inner.index_remove(name),
            (call, Some(fault)) => Err(self.io_error_on(call, Method::IndexRemove, fault, None, Some(name))),
        }
    }

    fn index_names(&self) -> Result<Vec<String>, StorageError> {
        match self.faults.tick(Method::IndexNames) {
            (_, None) => self.inner.index_names(),
            (call, Some(fault)) => Err(self.io_error(call, Method::IndexNames, fault, None)),
        }
    }
}

/// The blocks of the inner storage, each `next()` a counted call.
struct FaultyBlocks<'a> {
    /// `None` once the iteration ended (by its end or an error).
    inner: Option<BlockIter<'a>>,
    faults: &'a Faults,
}

impl Iterator for FaultyBlocks<'_> {
    type Item = Result<StoredBlock, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        let inner = self.inner.as_mut()?;
        let (call, fault) = self.faults.tick(Method::BlocksNext);
        if let Some(fault) = fault {
            self.inner = None;
            let error = injected(call, Method::BlocksNext, std::io::Error::from_raw_os_error(5));
            self.faults.record(Injection {
                call,
                method: Method::BlocksNext,
                fault,
                error: error.to_string(),
                effect: "nothing reached the storage".into(),
                commit: None,
                file: None,
            });
            return Some(Err(error));
        }
        let item = inner.next();
        if !matches!(item, Some(Ok(_))) {
            self.inner = None;
        }
        item
    }
}
