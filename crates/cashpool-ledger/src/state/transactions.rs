//! The `transactions` part: the count of transactions, the recent part of
//! the idempotency index (id → entry and content fingerprint, for the entries
//! after those the on-disk index holds, `crate::index`; absent in a
//! flat-memory replay, which does not need it) and the running digest of the
//! part: SHA-256 over the transaction entries' hashes in journal order (each
//! commits to its entry's sequence number and id), 32 bytes a transaction on
//! the posting path.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::running_hash::RunningSha256;
use super::snapshot::{date_of, day, TransactionsSnap};
use crate::index::postings::{PostingKey, PostingRecord};
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
    /// The ids of entries after `indexed_through`; `None` in a flat-memory
    /// replay, which does not need them.
    ids: Option<HashMap<Box<str>, IdRecord>>,
    /// The ids of entries up to this one are in the on-disk index, not here.
    indexed_through: u64,
    /// How many ids the on-disk index holds.
    indexed: u64,
    /// How many transactions of entries up to `indexed_through` were applied
    /// (equal to `indexed` once they all are: the index and the journal agree).
    applied_indexed: u64,
    /// The postings of the transactions whose ids are in memory (the entries
    /// after `indexed_through`), in journal order: they go to the on-disk
    /// posting index with the ids (`crate::index::postings`).
    postings: Vec<PostingRecord>,
    /// How many postings the on-disk posting index holds.
    indexed_postings: u64,
    /// How many postings of entries up to `indexed_through` were applied.
    applied_indexed_postings: u64,
    /// The running digest of the part (docs/FORMATS.md, "The state digest").
    running: RunningSha256,
    n_transactions: u64,
    n_postings: u64,
    /// The latest value date of a transaction (`None` before the first): an
    /// amendment takes effect only after it.
    booked_through: Option<NaiveDate>,
}

/// What a savepoint restores of the part: its running digest and the latest value date.
#[derive(Debug, Clone)]
pub(crate) struct TransactionsMark {
    running: RunningSha256,
    booked_through: Option<NaiveDate>,
}

impl Transactions {
    pub(crate) fn new(with_id_index: bool) -> Transactions {
        Transactions {
            ids: with_id_index.then(HashMap::new),
            indexed_through: 0,
            indexed: 0,
            applied_indexed: 0,
            postings: Vec::new(),
            indexed_postings: 0,
            applied_indexed_postings: 0,
            running: RunningSha256::new(),
            n_transactions: 0,
            n_postings: 0,
            booked_through: None,
        }
    }

    /// The part as the state snapshot keeps it: the count and the running
    /// digest (the ids are all in the on-disk index when a snapshot is taken).
    pub(crate) fn snapshot(&self) -> TransactionsSnap {
        TransactionsSnap {
            count: self.n_transactions,
            running: self.running.save().to_vec(),
            postings: self.n_postings,
            booked_through: self.booked_through.map(day),
        }
    }

    /// The part a snapshot kept, with every one of its transactions' ids and
    /// postings in the on-disk indexes, which now hold those of entries up to
    /// `through` (`count` ids, `postings` postings): the fold of the entries
    /// after the snapshot goes on from here.
    pub(crate) fn restore(
        snap: TransactionsSnap,
        through: u64,
        count: u64,
        postings: u64,
    ) -> Result<Transactions, String> {
        let running = RunningSha256::restore(&snap.running).ok_or("the running digest cannot be restored")?;
        Ok(Transactions {
            ids: Some(HashMap::new()),
            indexed_through: through,
            indexed: count,
            applied_indexed: snap.count,
            postings: Vec::new(),
            indexed_postings: postings,
            applied_indexed_postings: snap.postings,
            running,
            n_transactions: snap.count,
            n_postings: snap.postings,
            booked_through: snap.booked_through.map(date_of).transpose()?,
        })
    }

    /// Leaves the ids and postings of entries up to `through` (`count` ids,
    /// `postings` postings) to the on-disk indexes: set before the first entry is applied.
    pub(crate) fn index_through(&mut self, through: u64, count: u64, postings: u64) {
        assert_eq!(self.n_transactions, 0, "the on-disk index is set on an empty state");
        self.indexed_through = through;
        self.indexed = count;
        self.indexed_postings = postings;
    }

    /// Folded without ids, keeps those of entries after `head` from now on:
    /// the ones before count as left to the journal (as if indexed on disk).
    pub(crate) fn keep_ids_after(&mut self, head: u64) {
        if self.ids.is_some() {
            // Restored from a snapshot: the ids up to it are left to the journal
            // already, and those folded after it are in memory.
            return;
        }
        self.ids = Some(HashMap::new());
        self.indexed_through = head;
        self.indexed = self.n_transactions;
        self.applied_indexed = self.n_transactions;
        self.indexed_postings = self.n_postings;
        self.applied_indexed_postings = self.n_postings;
    }

    /// The ids of entries after the on-disk index's, in memory.
    pub(crate) fn recent_ids(&self) -> usize {
        self.ids.as_ref().map_or(0, HashMap::len)
    }

    /// The ids in memory of entries up to `through`, as the on-disk index keys them.
    pub(crate) fn ids_through(&self, through: u64) -> Vec<(u64, u64)> {
        let Some(ids) = &self.ids else { return Vec::new() };
        ids.iter()
            .filter(|(_, record)| record.seq <= through)
            .map(|(id, record)| (crate::index::id_key(id), record.seq))
            .collect()
    }

    /// The postings in memory of entries up to `through`, for the on-disk posting index.
    pub(crate) fn postings_through(&self, through: u64) -> Vec<PostingRecord> {
        let end = self.postings.partition_point(|record| record.key.seq <= through);
        self.postings[..end].to_vec()
    }

    /// The postings in memory (of the entries after the on-disk index's), in journal order.
    pub(crate) fn recent_postings(&self) -> &[PostingRecord] {
        &self.postings
    }

    /// The on-disk indexes now hold the ids and postings of entries up to
    /// `through` (`count` ids and `postings` postings in all): they leave memory.
    pub(crate) fn indexed(&mut self, through: u64, count: u64, postings: u64) {
        assert!(through >= self.indexed_through, "the on-disk index only grows");
        if let Some(ids) = &mut self.ids {
            let before = ids.len() as u64;
            ids.retain(|_, record| record.seq > through);
            self.applied_indexed += before - ids.len() as u64;
            let end = self.postings.partition_point(|record| record.key.seq <= through);
            self.postings.drain(..end);
            self.applied_indexed_postings += end as u64;
        }
        assert_eq!(self.applied_indexed, count, "the on-disk index holds exactly the ids that left memory");
        assert_eq!(
            self.applied_indexed_postings, postings,
            "the on-disk posting index holds exactly the postings that left memory"
        );
        self.indexed_through = through;
        self.indexed = count;
        self.indexed_postings = postings;
    }

    /// Whether every id and posting the on-disk indexes claim was applied (true once
    /// the fold has passed the indexes' last entry, if they and the journal agree).
    pub(crate) fn index_complete(&self) -> bool {
        self.applied_indexed == self.indexed && self.applied_indexed_postings == self.indexed_postings
    }

    /// Records a transaction applied as entry `seq` with hash `hash`;
    /// `account_of(n)` is the account index of its posting n.
    pub(crate) fn apply(
        &mut self,
        tx: &PostedTransaction,
        seq: u64,
        hash: EntryHash,
        account_of: impl Fn(usize) -> u32,
    ) {
        self.running.update(&hash.0);
        let n_postings = tx.postings.len() as u64;
        if seq <= self.indexed_through {
            self.applied_indexed += 1;
            self.applied_indexed_postings += n_postings;
        } else if let Some(ids) = &mut self.ids {
            ids.insert(tx.id.as_str().into(), IdRecord { seq, hash, fingerprint: fingerprint(tx) });
            for (n, posting) in tx.postings.iter().enumerate() {
                let key = PostingKey::new(
                    account_of(n),
                    posting.currency,
                    tx.value_date,
                    seq,
                    u32::try_from(n).expect("fewer than 2^32 postings"),
                );
                self.postings.push(PostingRecord { key, amount: posting.amount });
            }
        }
        self.n_transactions += 1;
        self.n_postings += n_postings;
        self.booked_through = self.booked_through.max(Some(tx.value_date));
    }

    /// The latest value date of a transaction.
    pub(crate) fn booked_through(&self) -> Option<NaiveDate> {
        self.booked_through
    }

    /// Reverts the counts of the last `n_transactions` records and their
    /// `n_postings` postings (a rolled-back plan; its ids go with
    /// [`Transactions::forget`], its postings in memory with
    /// [`Transactions::forget_after`], its lines with [`Transactions::restore_running`]).
    pub(crate) fn undo(&mut self, n_transactions: u64, n_postings: u64) {
        self.n_transactions -= n_transactions;
        self.n_postings -= n_postings;
    }

    /// Removes the postings in memory of entries after `seq` (a rolled-back plan's).
    pub(crate) fn forget_after(&mut self, seq: u64) {
        let end = self.postings.partition_point(|record| record.key.seq <= seq);
        self.postings.truncate(end);
    }

    /// What a savepoint keeps to restore with [`Transactions::restore_mark`].
    pub(crate) fn mark(&self) -> TransactionsMark {
        TransactionsMark { running: self.running.clone(), booked_through: self.booked_through }
    }

    /// Restores the running digest and the latest value date a savepoint took.
    pub(crate) fn restore_mark(&mut self, mark: TransactionsMark) {
        self.running = mark.running;
        self.booked_through = mark.booked_through;
    }

    /// Removes an id a rolled-back plan indexed.
    pub(crate) fn forget(&mut self, id: &str) {
        if let Some(ids) = &mut self.ids {
            ids.remove(id);
        }
    }

    /// Whether `id` is among the ids in memory (always false without them).
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.ids.as_ref().is_some_and(|ids| ids.contains_key(id))
    }

    /// The entry that posted `id`, if it is among the ids in memory (the
    /// on-disk index holds the older ones: `Ledger` asks it next).
    pub(crate) fn get(&self, id: &str) -> Option<&IdRecord> {
        self.ids.as_ref().and_then(|ids| ids.get(id))
    }

    /// The number of transactions posted.
    pub(crate) fn n_transactions(&self) -> u64 {
        self.n_transactions
    }

    /// The index, where kept, holds exactly one record per transaction: in
    /// memory for the entries after the on-disk index's, on disk for the others.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        if let Some(ids) = &self.ids {
            let in_memory = u64::try_from(ids.len()).unwrap_or(u64::MAX);
            if in_memory.checked_add(self.applied_indexed) != Some(self.n_transactions) {
                return Err(format!(
                    "{} transactions but {} ids indexed ({in_memory} in memory, {} on disk)",
                    self.n_transactions,
                    in_memory.saturating_add(self.applied_indexed),
                    self.applied_indexed
                ));
            }
            if self.applied_indexed > self.indexed {
                return Err(format!(
                    "{} transactions are in entries the on-disk index covers, which holds {} ids",
                    self.applied_indexed, self.indexed
                ));
            }
            if let Some(record) = ids.values().find(|record| record.seq <= self.indexed_through) {
                return Err(format!("entry {} is indexed both in memory and on disk", record.seq));
            }
            let in_memory = self.postings.len() as u64;
            if in_memory.checked_add(self.applied_indexed_postings) != Some(self.n_postings) {
                return Err(format!(
                    "{} postings but {} in the posting index ({in_memory} in memory, {} on disk)",
                    self.n_postings,
                    in_memory.saturating_add(self.applied_indexed_postings),
                    self.applied_indexed_postings
                ));
            }
            if self.applied_indexed_postings > self.indexed_postings {
                return Err(format!(
                    "{} postings are in entries the on-disk index covers, which holds {}",
                    self.applied_indexed_postings, self.indexed_postings
                ));
            }
            if self.postings.first().is_some_and(|record| record.key.seq <= self.indexed_through)
                || self.postings.windows(2).any(|pair| pair[0].key.seq > pair[1].key.seq)
            {
                return Err("the postings in memory are not those after the on-disk index, in journal order".into());
            }
        }
        Ok(())
    }

    /// `[seq, id, hash]` per transaction in journal order (kept running).
    pub(crate) fn digest(&self) -> EntryHash {
        EntryHash(self.running.finish())
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
