//! The `netting` part: the posted netting cycles by id, each with its entry,
//! and every invoice they netted (an invoice is netted once).

use std::collections::{BTreeMap, HashSet};

use sha2::{Digest, Sha256};

use crate::cycle::NettingRun;
use crate::digest::{finish, hash, line, string};
use crate::journal::EntryHash;

/// The posted netting cycles.
#[derive(Debug, Clone, Default)]
pub(crate) struct Netting {
    /// Each cycle's report, by cycle id.
    cycles: BTreeMap<String, NettingRun>,
    /// Every invoice a cycle netted.
    settled_invoices: HashSet<String>,
    /// The entry of each cycle (for the digest), by cycle id.
    entries: BTreeMap<String, (u64, EntryHash)>,
}

impl Netting {
    /// A `netting_cycle` entry: a new cycle id, netting no invoice netted before.
    /// Nothing is changed when it fails.
    pub fn apply(&mut self, run: &NettingRun, seq: u64, entry_hash: EntryHash) -> Result<(), String> {
        if self.cycles.contains_key(&run.result.cycle) {
            return Err(format!("netting cycle {} is posted twice", run.result.cycle));
        }
        for (idx, invoice) in run.invoices.iter().enumerate() {
            if !self.settled_invoices.insert(invoice.clone()) {
                // The ones before it were new: take them out again.
                for earlier in &run.invoices[..idx] {
                    self.settled_invoices.remove(earlier);
                }
                return Err(format!("invoice {invoice} is netted twice"));
            }
        }
        self.cycles.insert(run.result.cycle.clone(), run.clone());
        self.entries.insert(run.result.cycle.clone(), (seq, entry_hash));
        Ok(())
    }

    /// The cycle `cycle`, if posted.
    pub fn cycle(&self, cycle: &str) -> Option<&NettingRun> {
        self.cycles.get(cycle)
    }

    /// Every invoice netted so far.
    pub fn settled_invoices(&self) -> &HashSet<String> {
        &self.settled_invoices
    }

    /// `[cycle, seq, hash]` per cycle by id.
    pub fn digest(&self) -> EntryHash {
        let mut hasher = Sha256::new();
        for (cycle, (seq, entry_hash)) in &self.entries {
            line(&mut hasher, &[string(cycle), seq.to_string(), hash(*entry_hash)]);
        }
        finish(hasher)
    }
}
