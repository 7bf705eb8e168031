//! An in-memory [`Storage`]: for tests, simulations and benchmarks of the core.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::{valid_index_name, BlockIter, Checkpoint, Commit, IndexFill, Storage, StorageError, StoredBalance};
use crate::journal::EntryHash;
use crate::money::Currency;

/// Keeps everything in memory. Clones share the same contents, so a test can
/// keep a handle, drop the ledger and open a new one on it (a "restart").
#[derive(Debug, Default, Clone)]
pub struct MemoryStorage {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default, Clone)]
struct Inner {
    blocks: BTreeMap<u64, Vec<u8>>,
    balances: BTreeMap<(String, Currency), rust_decimal::Decimal>,
    head: Option<(u64, EntryHash)>,
    /// Index files by name.
    index: BTreeMap<String, Arc<Vec<u8>>>,
}

impl MemoryStorage {
    pub fn new() -> MemoryStorage {
        MemoryStorage::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

// The test-only operations (copy, tamper), declared by `crate::testing`.
impl crate::testing::MemoryStorageExt for MemoryStorage {
    fn snapshot(&self) -> MemoryStorage {
        MemoryStorage { inner: Arc::new(Mutex::new(self.lock().clone())) }
    }

    fn tamper_block(&self, first_seq: u64, edit: impl FnOnce(&mut Vec<u8>)) {
        if let Some(block) = self.lock().blocks.get_mut(&first_seq) {
            edit(block);
        }
    }

    fn tamper_balance(&self, balance: &StoredBalance) {
        self.lock().balances.insert((balance.account.clone(), balance.currency), balance.balance);
    }
}

impl Storage for MemoryStorage {
    fn blocks(&self, from_seq: u64) -> BlockIter<'_> {
        // One block at a time: a reader of one entry copies one block.
        let mut next = {
            let inner = self.lock();
            match inner.blocks.range(..=from_seq).next_back() {
                // The last block holds no entry from `from_seq` on (the journal ends before it):
                // nothing to read, as the segment files' reader finds.
                Some((&first, bytes))
                    if inner.blocks.range(from_seq.saturating_add(1)..).next().is_none()
                        && first + crate::journal::block_entries(bytes).count() as u64 <= from_seq =>
                {
                    from_seq.saturating_add(1)
                }
                Some((&first, _)) => first,
                None => from_seq,
            }
        };
        Box::new(std::iter::from_fn(move || {
            let inner = self.lock();
            let (&first, bytes) = inner.blocks.range(next..).next()?;
            next = first + 1;
            Some(Ok((first, bytes.clone())))
        }))
    }

    fn commit(&self, commit: &Commit) -> Result<(), StorageError> {
        let mut inner = self.lock();
        inner.blocks.insert(commit.first_seq, commit.block.to_vec());
        for balance in &commit.balances {
            inner.balances.insert((balance.account.clone(), balance.currency), balance.balance);
        }
        inner.head = Some((commit.last_seq, commit.head));
        Ok(())
    }

    fn checkpoint(&self) -> Result<Checkpoint, StorageError> {
        let inner = self.lock();
        let balances = inner
            .balances
            .iter()
            .map(|((account, currency), balance)| StoredBalance {
                account: account.clone(),
                currency: *currency,
                balance: *balance,
            })
            .collect();
        Ok(Checkpoint { head: inner.head, balances })
    }

    fn write_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StorageError> {
        let mut inner = self.lock();
        inner.balances = checkpoint.balances.iter().map(|b| ((b.account.clone(), b.currency), b.balance)).collect();
        inner.head = checkpoint.head;
        Ok(())
    }

    fn is_empty(&self) -> Result<bool, StorageError> {
        Ok(self.lock().blocks.is_empty())
    }

    fn index_write(&self, name: &str, fill: &mut IndexFill<'_>) -> Result<(), StorageError> {
        assert!(valid_index_name(name), "index file name {name:?}");
        let mut bytes = Vec::new();
        fill(&mut bytes)?;
        self.lock().index.insert(name.to_string(), Arc::new(bytes));
        Ok(())
    }

    fn index_read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<(), StorageError> {
        let file = self.lock().index.get(name).cloned();
        let short = || StorageError::Corrupt(format!("index file {name}: shorter than expected"));
        let file = file.ok_or_else(|| StorageError::Corrupt(format!("index file {name} is missing")))?;
        let start = usize::try_from(offset).map_err(|_| short())?;
        let end = start.checked_add(buf.len()).ok_or_else(short)?;
        buf.copy_from_slice(file.get(start..end).ok_or_else(short)?);
        Ok(())
    }

    fn index_read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.lock().index.get(name).map(|bytes| bytes.to_vec()))
    }

    fn index_remove(&self, name: &str) -> Result<(), StorageError> {
        self.lock().index.remove(name);
        Ok(())
    }

    fn index_names(&self) -> Result<Vec<String>, StorageError> {
        Ok(self.lock().index.keys().cloned().collect())
    }
}
