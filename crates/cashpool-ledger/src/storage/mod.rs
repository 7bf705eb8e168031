//! Where the journal lives: a trait and two backends.
//!
//! The layout is built for batches: one group commit is **one** journal
//! record (a block holding every entry of the commit) made durable with one
//! `fdatasync`, plus one balance record per (account, currency) the commit
//! changed. A transaction costs no record of its own: 8,000 transactions on 30
//! accounts are one journal record and 30 balance records.
//!
//! The journal is the truth. The stored balances are a checkpoint derived
//! from it, tagged with the entry they reflect; after a crash they may lag
//! the journal, and opening the ledger checks them at that entry and brings
//! them up to date.

mod index_dir;
mod log;
mod memory;
mod sled_store;
mod snapshot;

use rust_decimal::Decimal;

pub use memory::MemoryStorage;
pub use sled_store::{LockHolder, SledStorage};
pub use snapshot::JournalSnapshot;

use crate::journal::EntryHash;
use crate::money::Currency;

/// One atomic, durable write: a journal block and the balances it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Sequence number of the block's first entry.
    pub first_seq: u64,
    /// Sequence number of the block's last entry.
    pub last_seq: u64,
    /// The entries, framed by [`crate::journal::block_push`] (shared with the
    /// ledger, which can still read a block while it is being written).
    pub block: std::sync::Arc<Vec<u8>>,
    /// The new balance of every (account, currency) the block changed.
    pub balances: Vec<StoredBalance>,
    /// The hash of entry `last_seq`.
    pub head: EntryHash,
}

/// A balance as the store keeps it, for `audit verify` to check against the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBalance {
    pub account: String,
    pub currency: Currency,
    pub balance: Decimal,
}

/// A journal block as stored: its first sequence number and its bytes.
pub type StoredBlock = (u64, Vec<u8>);

/// The blocks from a sequence number on, in order.
pub type BlockIter<'a> = Box<dyn Iterator<Item = Result<StoredBlock, StorageError>> + 'a>;

/// Writes an index file's bytes ([`Storage::index_write`]).
pub type IndexFill<'a> = dyn FnMut(&mut dyn std::io::Write) -> Result<(), StorageError> + 'a;

/// Whether `name` can name an index file: ASCII letters, digits, `-`, `_` and `.`, not starting with `.`.
pub(crate) fn valid_index_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 128
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The stored balances and the entry they reflect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// The sequence number and hash of the last entry the balances include;
    /// `None` before the first commit.
    pub head: Option<(u64, EntryHash)>,
    pub balances: Vec<StoredBalance>,
}

/// The storage behind a ledger. [`Storage::commit`] must make the journal
/// block durable before it returns, and all of it or none of it must survive
/// a crash; the checkpoint it also updates may lag after a crash, but only
/// ever to an earlier commit.
pub trait Storage: Send + Sync {
    /// The blocks that hold entries with sequence numbers `>= from_seq`, in
    /// order (the first block may start before `from_seq`).
    fn blocks(&self, from_seq: u64) -> BlockIter<'_>;

    /// Appends `commit.block` to the journal durably, then records its balances and head.
    fn commit(&self, commit: &Commit) -> Result<(), StorageError>;

    /// The stored balances and the entry they reflect.
    fn checkpoint(&self) -> Result<Checkpoint, StorageError>;

    /// Replaces the stored balances and head (bringing a lagging checkpoint up to date).
    fn write_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StorageError>;

    /// Whether the journal holds no entry.
    fn is_empty(&self) -> Result<bool, StorageError>;

    /// Creates the index file `name` with what `fill` writes, durably and
    /// atomically: after a crash the file is there whole or not at all. An
    /// existing file of that name is replaced. Index files (the id index's
    /// runs and manifest, docs/STORAGE.md) are derived from the journal.
    fn index_write(&self, name: &str, fill: &mut IndexFill<'_>) -> Result<(), StorageError>;

    /// Reads `buf.len()` bytes of the index file `name` at `offset`.
    fn index_read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<(), StorageError>;

    /// The whole index file `name`, if there is one.
    fn index_read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError>;

    /// Removes the index file `name` (absent: nothing to do).
    fn index_remove(&self, name: &str) -> Result<(), StorageError>;

    /// The names of the index files.
    fn index_names(&self) -> Result<Vec<String>, StorageError>;

    /// Whether [`Storage::checkpoint`] is the store's own record of its
    /// balances, worth checking against the journal. A view of the journal
    /// alone ([`JournalSnapshot`]) has none: audits then check the journal only.
    fn keeps_checkpoint(&self) -> bool {
        true
    }
}

/// Operating errors of a storage backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// Another process holds the store's writer lock (after `waited`, see
    /// [`SledStorage::open_wait`]); `holder` is who its `LOCK` file names.
    #[error(
        "the store at {path} is held by another writer ({}); waited {}",
        holder.as_ref().map_or_else(|| "its lock file does not say who".to_string(), ToString::to_string),
        seconds(*waited)
    )]
    Locked { path: String, holder: Option<LockHolder>, waited: std::time::Duration },
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("store engine: {0}")]
    Engine(String),
    #[error("corrupt store: {0}")]
    Corrupt(String),
    #[error("the store is open for reading only (a view of its journal); nothing can be written through it")]
    ReadOnly,
}

/// A duration as people say it: `10 s`, `0.5 s`, `0 s`.
fn seconds(duration: std::time::Duration) -> String {
    let millis = duration.as_millis();
    match millis % 1000 {
        0 => format!("{} s", millis / 1000),
        rest => format!("{}.{} s", millis / 1000, format!("{rest:03}").trim_end_matches('0')),
    }
}

/// Encodes a balance key: `B`, the account id, `0x00`, the currency code.
pub(crate) fn balance_key(account: &str, currency: Currency) -> Vec<u8> {
    let mut key = Vec::with_capacity(account.len() + 5);
    key.push(b'B');
    key.extend_from_slice(account.as_bytes());
    key.push(0);
    key.extend_from_slice(currency.code().as_bytes());
    key
}

/// Decodes a balance key and value.
pub(crate) fn decode_balance(key: &[u8], value: &[u8]) -> Result<StoredBalance, StorageError> {
    let corrupt = |what: &str| StorageError::Corrupt(format!("balance record: {what}"));
    let body = key.strip_prefix(b"B").ok_or_else(|| corrupt("key prefix"))?;
    let split = body.iter().position(|&b| b == 0).ok_or_else(|| corrupt("key separator"))?;
    let account = std::str::from_utf8(&body[..split]).map_err(|_| corrupt("account id is not UTF-8"))?;
    let code = std::str::from_utf8(&body[split + 1..]).map_err(|_| corrupt("currency is not UTF-8"))?;
    let currency = Currency::from_code(code).ok_or_else(|| corrupt("unknown currency"))?;
    let bytes: [u8; 16] = value.try_into().map_err(|_| corrupt("value length"))?;
    let balance = Decimal::deserialize(bytes);
    Ok(StoredBalance { account: account.to_string(), currency, balance })
}

pub(crate) fn encode_balance(balance: Decimal) -> [u8; 16] {
    balance.serialize()
}
