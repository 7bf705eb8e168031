//! A read-only view of a store's journal, opened without the store's lock.
//!
//! This is how a store is read: every reader (a query, an audit, an export,
//! an inspection) opens this view, never [`SledStorage`](super::SledStorage),
//! whose exclusive lock is for the one writer. A reader that took that lock,
//! or sled's (sled cannot share its files between processes), would make a
//! writer wait or fail; the journal's segment files can be read by anyone,
//! since records are only ever appended. This view reads the journal as it
//! stands when opened, through [`JournalLog::open_read_only`]: a consistent
//! state as of the last complete record (a commit being appended is wholly in
//! the view or not at all), it writes nothing, and it has no balance
//! checkpoint (sled's files are not read), so opening a ledger on it folds the
//! journal and checks every rule, but cannot compare the writer's stored
//! balances: that takes the writer's lock.
//!
//! A record is complete once it is written, which is just before the writer
//! makes it durable: a view can hold a commit whose `fdatasync` is still in
//! flight (and that a power cut at that instant would lose), as a reader of a
//! ledger in the writer's own process can.

use std::path::Path;

use super::index_dir::IndexDir;
use super::log::JournalLog;
use super::{BlockIter, Checkpoint, Commit, IndexFill, Storage, StorageError};

/// The journal of the store in a folder, read-only, as of its opening.
pub struct JournalSnapshot {
    log: JournalLog,
    /// The store's `index/` folder, read only.
    index: IndexDir,
}

impl JournalSnapshot {
    /// Opens the journal of the store in `dir` (its `journal/` folder)
    /// without taking the store's lock and without writing anything.
    pub fn open(dir: &Path) -> Result<JournalSnapshot, StorageError> {
        let log = JournalLog::open_read_only(&dir.join("journal"))?;
        Ok(JournalSnapshot { log, index: IndexDir::open(&dir.join("index"), false)? })
    }

    /// The number of entries the view holds (complete records only).
    pub fn entries(&self) -> u64 {
        self.log.next_seq() - 1
    }
}

impl Storage for JournalSnapshot {
    fn blocks(&self, from_seq: u64) -> BlockIter<'_> {
        self.log.blocks(from_seq)
    }

    fn commit(&self, _commit: &Commit) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn checkpoint(&self) -> Result<Checkpoint, StorageError> {
        Ok(Checkpoint::default())
    }

    fn write_checkpoint(&self, _checkpoint: &Checkpoint) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn is_empty(&self) -> Result<bool, StorageError> {
        Ok(self.log.is_empty())
    }

    fn keeps_checkpoint(&self) -> bool {
        false
    }

    // The index files are read as they stand (each is written whole and
    // renamed into place): a ledger on the view reads the state snapshot, and
    // checks that the view holds its entry (docs/STORAGE.md). It opens no id
    // index: a reader keeps no ids.

    fn index_write(&self, _name: &str, _fill: &mut IndexFill<'_>) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn index_read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<(), StorageError> {
        self.index.read_at(name, offset, buf)
    }

    fn index_read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.index.read(name)
    }

    fn index_remove(&self, _name: &str) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn index_names(&self) -> Result<Vec<String>, StorageError> {
        self.index.names()
    }
}
