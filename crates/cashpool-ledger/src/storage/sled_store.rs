//! The default, on-disk [`Storage`]: sled, behind an exclusive lock file.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::{balance_key, decode_balance, encode_balance, BlockIter, Commit, Storage, StorageError, StoredBalance};
use crate::journal::EntryHash;

const HEAD_KEY: &[u8] = b"H";
const JOURNAL_PREFIX: u8 = b'J';
const BALANCE_PREFIX: &[u8] = b"B";

/// Journal values are cut at entry boundaries into chunks of at most this
/// many bytes. sled writes a value larger than a quarter of its 512 KiB
/// segment to a separate blob file that it never fsyncs; chunks this size stay
/// in its log, which [`SledStorage::commit`] makes durable.
pub const CHUNK_LEN_MAX: usize = 64 * 1024;

/// A store in a folder: `LOCK` (held exclusively while open) and `sled/`.
///
/// Durability: sled's `flush` ends in `sync_file_range`, which writes the
/// pages but neither flushes the device's write cache nor the file's
/// metadata, so it does not survive a power failure on its own. After every
/// flush this store calls `fdatasync` on sled's log file itself.
pub struct SledStorage {
    db: sled::Db,
    /// sled's log file, for `fdatasync` after each flush.
    log: File,
    path: PathBuf,
    _lock: File,
}

impl std::fmt::Debug for SledStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStorage").field("path", &self.path).finish()
    }
}

fn journal_key(first_seq: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = JOURNAL_PREFIX;
    key[1..].copy_from_slice(&first_seq.to_be_bytes());
    key
}

/// The (start, end) byte offsets of each framed entry of a block.
fn entry_bounds(block: &[u8]) -> Result<Vec<(usize, usize)>, StorageError> {
    let mut bounds = Vec::new();
    let mut offset = 0;
    while offset < block.len() {
        let len_bytes: [u8; 4] = block
            .get(offset..offset + 4)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| StorageError::Corrupt("a commit's block is truncated".into()))?;
        let end = offset + 4 + u32::from_le_bytes(len_bytes) as usize;
        if end > block.len() {
            return Err(StorageError::Corrupt("a commit's block is truncated".into()));
        }
        bounds.push((offset, end));
        offset = end;
    }
    Ok(bounds)
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
        let db = sled::Config::new()
            .path(dir.join("sled"))
            .cache_capacity(16 * 1024 * 1024)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(engine)?;
        let log_path = dir.join("sled").join("db");
        let log = File::open(&log_path).map_err(|err| StorageError::Io {
            op: "opening",
            path: log_path.display().to_string(),
            source: err,
        })?;
        Ok(SledStorage { db, log, path: dir.to_path_buf(), _lock: lock })
    }

    /// Whether `dir` already holds a store (without opening it).
    pub fn exists(dir: &Path) -> bool {
        dir.join("sled").exists()
    }

    /// The folder of the store.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Storage for SledStorage {
    fn blocks(&self, from_seq: u64) -> BlockIter<'_> {
        let start = match self.db.range(journal_key(0)..=journal_key(from_seq)).next_back() {
            Some(Ok((key, _))) => key.to_vec(),
            Some(Err(err)) => return Box::new(std::iter::once(Err(engine(err)))),
            None => journal_key(from_seq).to_vec(),
        };
        let end = journal_key(u64::MAX);
        Box::new(self.db.range(start..=end.to_vec()).map(|item| {
            let (key, value) = item.map_err(engine)?;
            let seq_bytes: [u8; 8] = key
                .get(1..9)
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(|| StorageError::Corrupt("journal key length".into()))?;
            Ok((u64::from_be_bytes(seq_bytes), value.to_vec()))
        }))
    }

    fn commit(&self, commit: &Commit) -> Result<(), StorageError> {
        let mut batch = sled::Batch::default();
        let mut chunk_start = 0;
        let mut chunk_first_seq = commit.first_seq;
        let mut n_in_chunk = 0u64;
        for (offset, end) in entry_bounds(&commit.block)? {
            if end - chunk_start > CHUNK_LEN_MAX && n_in_chunk > 0 {
                batch.insert(&journal_key(chunk_first_seq), &commit.block[chunk_start..offset]);
                chunk_start = offset;
                chunk_first_seq += n_in_chunk;
                n_in_chunk = 0;
            }
            n_in_chunk += 1;
        }
        if n_in_chunk > 0 {
            batch.insert(&journal_key(chunk_first_seq), &commit.block[chunk_start..]);
        }
        if chunk_first_seq + n_in_chunk != commit.last_seq + 1 {
            return Err(StorageError::Corrupt(format!(
                "a commit of entries {} to {} holds {} entries",
                commit.first_seq,
                commit.last_seq,
                chunk_first_seq + n_in_chunk - commit.first_seq
            )));
        }
        for balance in &commit.balances {
            batch.insert(balance_key(&balance.account, balance.currency), &encode_balance(balance.balance));
        }
        let mut head = Vec::with_capacity(40);
        head.extend_from_slice(&commit.last_seq.to_be_bytes());
        head.extend_from_slice(&commit.head.0);
        batch.insert(HEAD_KEY, head);
        self.db.apply_batch(batch).map_err(engine)?;
        self.db.flush().map_err(engine)?;
        self.log.sync_data().map_err(|err| StorageError::Io {
            op: "fdatasync",
            path: self.path.join("sled").join("db").display().to_string(),
            source: err,
        })?;
        Ok(())
    }

    fn stored_balances(&self) -> Result<Vec<StoredBalance>, StorageError> {
        self.db
            .scan_prefix(BALANCE_PREFIX)
            .map(|item| {
                let (key, value) = item.map_err(engine)?;
                decode_balance(&key, &value)
            })
            .collect()
    }

    fn head(&self) -> Result<Option<(u64, EntryHash)>, StorageError> {
        let Some(value) = self.db.get(HEAD_KEY).map_err(engine)? else {
            return Ok(None);
        };
        if value.len() != 40 {
            return Err(StorageError::Corrupt("head record length".into()));
        }
        let seq = u64::from_be_bytes(value[..8].try_into().expect("length checked"));
        let hash: [u8; 32] = value[8..].try_into().expect("length checked");
        Ok(Some((seq, EntryHash(hash))))
    }
}
