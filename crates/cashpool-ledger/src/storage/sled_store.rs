//! The default, on-disk [`Storage`]: the journal in its own segment files,
//! the balance checkpoint in sled, behind an exclusive lock file.
//!
//! Why not the journal in sled too: sled's flush ends in `sync_file_range`,
//! which neither flushes the device's write cache nor the file's metadata;
//! values over a quarter of its segment go to blob files that it never
//! fsyncs; and its page cache keeps everything it reads (upstream issues
//! #1036, #1093, #1309), so replaying a journal stored in sled takes memory in
//! proportion to the journal. The journal log appends one record per commit
//! and `fdatasync`s it, and streams it back through a 64 KiB buffer.
//! sled keeps what it is good at: small, frequently rewritten keyed records.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use super::index_dir::IndexDir;
use super::log::JournalLog;
use super::{
    balance_key, decode_balance, encode_balance, BlockIter, Checkpoint, Commit, IndexFill, Storage, StorageError,
};
use crate::journal::EntryHash;

const HEAD_KEY: &[u8] = b"H";
const BALANCE_PREFIX: &[u8] = b"B";

/// The checkpoint is written to sled after this many commits (and when the
/// store is dropped or read): a single-transaction commit then costs one
/// `fdatasync` and no sled write.
pub(crate) const CHECKPOINT_EVERY_COMMITS: u32 = 64;

/// A store in a folder: `LOCK` (held exclusively while open), `journal/`
/// (the segment files) and `sled/` (the balance checkpoint).
pub struct SledStorage {
    log: JournalLog,
    /// `index/`: the id index's runs and manifest.
    index: IndexDir,
    db: sled::Db,
    /// Balance records and head of commits not yet written to sled.
    pending: Mutex<PendingCheckpoint>,
    path: PathBuf,
    /// Why the checkpoint was started afresh at open, if it was.
    rebuilt: Option<String>,
    _lock: File,
}

#[derive(Default)]
struct PendingCheckpoint {
    balances: BTreeMap<Vec<u8>, [u8; 16]>,
    head: Option<[u8; 40]>,
    n_commits: u32,
}

impl std::fmt::Debug for SledStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStorage").field("path", &self.path).finish()
    }
}

fn engine(err: sled::Error) -> StorageError {
    StorageError::Engine(err.to_string())
}

impl SledStorage {
    /// Opens (creating if needed) the store in `dir`. Fails with
    /// [`StorageError::Locked`] when another process holds it.
    pub fn open(dir: &Path) -> Result<SledStorage, StorageError> {
        let io = |op, source| StorageError::Io { op, path: dir.display().to_string(), source };
        std::fs::create_dir_all(dir).map_err(|err| io("creating", err))?;
        let lock_path = dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|err| io("opening the lock file in", err))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StorageError::Locked { path: dir.display().to_string() })
            }
            Err(std::fs::TryLockError::Error(err)) => return Err(io("locking", err)),
        }
        let log = JournalLog::open(&dir.join("journal"))?;
        let (db, rebuilt) = match open_sled(&dir.join("sled")) {
            Ok(db) => (db, None),
            Err(StorageError::Engine(reason)) if reason.contains("corrupt") => {
                // The checkpoint is derived from the journal: keep the damaged
                // copy for inspection, start an empty one, and let the ledger
                // rebuild it from the journal when it opens.
                let aside = set_aside(&dir.join("sled"))?;
                (
                    open_sled(&dir.join("sled"))?,
                    Some(format!("{reason}; the damaged checkpoint was moved to {}", aside.display())),
                )
            }
            Err(err) => return Err(err),
        };
        let index = IndexDir::open(&dir.join("index"), true)?;
        Ok(SledStorage { log, index, db, pending: Mutex::default(), path: dir.to_path_buf(), rebuilt, _lock: lock })
    }

    /// Whether `dir` already holds a store (without opening it).
    pub fn exists(dir: &Path) -> bool {
        dir.join("journal").is_dir()
    }

    /// The folder of the store.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When sled's checkpoint could not be read at open (a crash while sled
    /// itself was writing can leave it unreadable), why, and where the damaged
    /// copy went. The journal is intact; the ledger rebuilds the checkpoint
    /// from it, so nothing is lost, but the stored balances could not be
    /// cross-checked this time.
    pub fn rebuilt_checkpoint(&self) -> Option<&str> {
        self.rebuilt.as_deref()
    }

    fn pending(&self) -> MutexGuard<'_, PendingCheckpoint> {
        self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes the pending checkpoint records to sled in one atomic batch.
    fn write_pending(&self, pending: &mut PendingCheckpoint) -> Result<(), StorageError> {
        let Some(head) = pending.head.take() else {
            return Ok(());
        };
        let mut batch = sled::Batch::default();
        for (key, value) in std::mem::take(&mut pending.balances) {
            batch.insert(key, &value);
        }
        batch.insert(HEAD_KEY, head.as_slice());
        pending.n_commits = 0;
        self.db.apply_batch(batch).map_err(engine)
    }
}

impl Drop for SledStorage {
    fn drop(&mut self) {
        let mut pending = std::mem::take(&mut *self.pending());
        // Best effort: a checkpoint that is not written is rebuilt from the journal on open.
        if self.write_pending(&mut pending).is_ok() {
            let _ = self.db.flush();
        }
    }
}

impl Storage for SledStorage {
    fn blocks(&self, from_seq: u64) -> BlockIter<'_> {
        self.log.blocks(from_seq)
    }

    fn commit(&self, commit: &Commit) -> Result<(), StorageError> {
        let n_entries = u32::try_from(commit.last_seq + 1 - commit.first_seq)
            .map_err(|_| StorageError::Corrupt("a commit of more than 2^32 entries".into()))?;
        // The durability point: the journal record is fdatasync'ed.
        self.log.append(commit.first_seq, n_entries, &commit.block)?;
        // The checkpoint follows, every CHECKPOINT_EVERY_COMMITS commits; a
        // checkpoint that lags after a crash is brought up to date on open.
        let mut pending = self.pending();
        for balance in &commit.balances {
            pending.balances.insert(balance_key(&balance.account, balance.currency), encode_balance(balance.balance));
        }
        pending.head = Some(encode_head(commit.last_seq, commit.head));
        pending.n_commits += 1;
        if pending.n_commits >= CHECKPOINT_EVERY_COMMITS {
            self.write_pending(&mut pending)?;
        }
        Ok(())
    }

    fn checkpoint(&self) -> Result<Checkpoint, StorageError> {
        self.write_pending(&mut self.pending())?;
        let head = match self.db.get(HEAD_KEY).map_err(engine)? {
            None => None,
            Some(value) => Some(decode_head(&value)?),
        };
        let balances = self
            .db
            .scan_prefix(BALANCE_PREFIX)
            .map(|item| {
                let (key, value) = item.map_err(engine)?;
                decode_balance(&key, &value)
            })
            .collect::<Result<_, _>>()?;
        Ok(Checkpoint { head, balances })
    }

    fn write_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StorageError> {
        *self.pending() = PendingCheckpoint::default();
        let mut batch = sled::Batch::default();
        for item in self.db.scan_prefix(BALANCE_PREFIX).keys() {
            batch.remove(item.map_err(engine)?);
        }
        for balance in &checkpoint.balances {
            batch.insert(balance_key(&balance.account, balance.currency), &encode_balance(balance.balance));
        }
        match checkpoint.head {
            Some((seq, hash)) => batch.insert(HEAD_KEY, encode_head(seq, hash).as_slice()),
            None => batch.remove(HEAD_KEY),
        }
        self.db.apply_batch(batch).map_err(engine)?;
        self.db.flush().map_err(engine)?;
        Ok(())
    }

    fn is_empty(&self) -> Result<bool, StorageError> {
        Ok(self.log.is_empty())
    }

    fn index_write(&self, name: &str, fill: &mut IndexFill<'_>) -> Result<(), StorageError> {
        self.index.write(name, fill)
    }

    fn index_read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<(), StorageError> {
        self.index.read_at(name, offset, buf)
    }

    fn index_read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.index.read(name)
    }

    fn index_remove(&self, name: &str) -> Result<(), StorageError> {
        self.index.remove(name)
    }

    fn index_names(&self) -> Result<Vec<String>, StorageError> {
        self.index.names()
    }
}

/// Opens sled. Our `LOCK` is the authority on who holds the store; sled's own
/// lock on its files can outlive a process that just closed the store by a
/// few milliseconds (its background threads let go last), so a refusal of
/// sled's lock is retried for up to two seconds.
fn open_sled(path: &Path) -> Result<sled::Db, StorageError> {
    let mut attempt = 0;
    loop {
        match sled::Config::new().path(path).cache_capacity(8 * 1024 * 1024).open() {
            Ok(db) => return Ok(db),
            Err(err) if attempt < 100 && err.to_string().contains("lock") => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(err) => return Err(engine(err)),
        }
    }
}

/// Renames a damaged sled folder to the first free `sled.damaged.N`.
fn set_aside(path: &Path) -> Result<PathBuf, StorageError> {
    for n in 1.. {
        let aside = path.with_extension(format!("damaged.{n}"));
        if !aside.exists() {
            std::fs::rename(path, &aside).map_err(|source| StorageError::Io {
                op: "setting aside",
                path: path.display().to_string(),
                source,
            })?;
            return Ok(aside);
        }
    }
    unreachable!("some sled.damaged.N is free")
}

fn encode_head(seq: u64, hash: EntryHash) -> [u8; 40] {
    let mut head = [0u8; 40];
    head[..8].copy_from_slice(&seq.to_be_bytes());
    head[8..].copy_from_slice(&hash.0);
    head
}

fn decode_head(value: &[u8]) -> Result<(u64, EntryHash), StorageError> {
    let bytes: &[u8; 40] = value.try_into().map_err(|_| StorageError::Corrupt("head record length".into()))?;
    let seq = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
    Ok((seq, EntryHash(bytes[8..].try_into().expect("32 bytes"))))
}
