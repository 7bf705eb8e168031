//! The `transactions` part: the count of transactions, the idempotency index
//! (id → entry and content fingerprint; absent in a flat-memory replay, which
//! does not need it) and the running digest of the part: SHA-256 over the
//! transaction entries' hashes in journal order (each commits to its entry's
//! sequence number and id), 32 bytes a transaction on the posting path.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::digest::finish;
use crate::journal::{EntryHash, PostedTransaction};

/// What the idempotency index keeps per transaction id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IdRecord {
    pub(crate) seq: u64,
    pub(crate) hash: EntryHash,
    pub(crate) fingerprint: [u8; 16],
}

/// The transactions posted.
#[derive(Debug, Clone)]
pub(crate) struct Transactions {
    /// `None` in a flat-memory replay, which does not need it.
    ids: Option<HashMap<Box<str>, IdRecord>>,
    /// The running digest of the part (docs/FORMATS.md, "The state digest").
    running: Sha256,
    n_transactions: u64,
}

impl Transactions {
    pub(crate) fn new(with_id_index: bool) -> Transactions {
        Transactions { ids: with_id_index.then(HashMap::new), running: Sha256::new(), n_transactions: 0 }
    }

    /// Records a transaction applied as entry `seq` with hash `hash`.
    pub(crate) fn apply(&mut self, tx: &PostedTransaction, seq: u64, hash: EntryHash) {
        self.running.update(hash.0);
        if let Some(ids) = &mut self.ids {
            ids.insert(tx.id.as_str().into(), IdRecord { seq, hash, fingerprint: fingerprint(tx) });
        }
        self.n_transactions += 1;
    }

    /// Reverts the count of the last `n_transactions` records (a rolled-back
    /// plan; its ids go with [`Transactions::forget`], its lines with
    /// [`Transactions::restore_running`]).
    pub(crate) fn undo(&mut self, n_transactions: u64) {
        self.n_transactions -= n_transactions;
    }

    /// Restores the running digest a savepoint took with [`Transactions::running`].
    pub(crate) fn restore_running(&mut self, running_before: Sha256) {
        self.running = running_before;
    }

    /// Removes an id a rolled-back plan indexed.
    pub(crate) fn forget(&mut self, id: &str) {
        if let Some(ids) = &mut self.ids {
            ids.remove(id);
        }
    }

    /// The entry that posted `id`, if the index is kept and holds it.
    pub(crate) fn get(&self, id: &str) -> Option<&IdRecord> {
        self.ids.as_ref().and_then(|ids| ids.get(id))
    }

    /// Whether `id` was posted (always false without the index).
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.ids.as_ref().is_some_and(|ids| ids.contains_key(id))
    }

    /// The number of transactions posted.
    pub(crate) fn n_transactions(&self) -> u64 {
        self.n_transactions
    }

    /// The running digest, for a savepoint to restore.
    pub(crate) fn running(&self) -> &Sha256 {
        &self.running
    }

    /// The index, where kept, holds exactly one record per transaction.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        if let Some(ids) = &self.ids {
            if u64::try_from(ids.len()).ok() != Some(self.n_transactions) {
                return Err(format!("{} transactions but {} ids indexed", self.n_transactions, ids.len()));
            }
        }
        Ok(())
    }

    /// `[seq, id, hash]` per transaction in journal order (kept running).
    pub(crate) fn digest(&self) -> EntryHash {
        finish(self.running.clone())
    }
}

/// A fingerprint of a transaction's content: everything but the operator.
pub(crate) fn fingerprint(tx: &PostedTransaction) -> [u8; 16] {
    #[derive(Serialize)]
    struct Content<'a> {
        id: &'a str,
        #[serde(with = "crate::journal::date_format")]
        value_date: NaiveDate,
        purpose: crate::model::Purpose,
        reference: &'a str,
        memo: &'a str,
        postings: &'a [crate::journal::Posting],
        rate: &'a Option<crate::journal::FxRate>,
        term_days: Option<u32>,
        lender: &'a Option<String>,
    }
    let content = Content {
        id: &tx.id,
        value_date: tx.value_date,
        purpose: tx.purpose,
        reference: &tx.reference,
        memo: &tx.memo,
        postings: &tx.postings,
        rate: &tx.rate,
        term_days: tx.term_days,
        lender: &tx.lender,
    };
    let bytes = postcard::to_allocvec(&content).expect("encoding into a Vec cannot fail");
    let digest: [u8; 32] = Sha256::digest(&bytes).into();
    let mut fingerprint = [0u8; 16];
    fingerprint.copy_from_slice(&digest[..16]);
    fingerprint
}
