//! The `netting` part: the posted netting cycles by id, each with its entry,
//! and every invoice they netted (an invoice is netted once).

use std::collections::{BTreeMap, HashSet};

use sha2::{Digest, Sha256};

use super::snapshot::Journaled;
use crate::cycle::NettingRun;
use crate::digest::{finish, hash, line, string};
use crate::journal::v2::{netting_of, netting_rec, NettingRec};
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
    pub(crate) fn apply(&mut self, run: &NettingRun, seq: u64, entry_hash: EntryHash) -> Result<(), String> {
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
    pub(crate) fn cycle(&self, cycle: &str) -> Option<&NettingRun> {
        self.cycles.get(cycle)
    }

    /// Every invoice netted so far.
    pub(crate) fn settled_invoices(&self) -> &HashSet<String> {
        &self.settled_invoices
    }

    /// The part as the state snapshot keeps it: each cycle's report, as the journal records it, with its entry.
    pub(crate) fn snapshot(&self) -> Vec<Journaled<NettingRec>> {
        self.cycles
            .iter()
            .map(|(cycle, run)| {
                let (seq, entry_hash) = self.entries[cycle];
                Journaled { report: netting_rec(run), seq, hash: entry_hash.0 }
            })
            .collect()
    }

    /// The part a snapshot kept; each cycle is applied as its entry was (its invoices settled once).
    pub(crate) fn restore(cycles: Vec<Journaled<NettingRec>>) -> Result<Netting, String> {
        let mut netting = Netting::default();
        for cycle in cycles {
            netting.apply(&netting_of(cycle.report)?, cycle.seq, EntryHash(cycle.hash))?;
        }
        Ok(netting)
    }

    /// Each cycle is kept under its own id, with its entry; the settled
    /// invoices are exactly the cycles' invoices, none netted twice.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        if let Some((id, run)) = self.cycles.iter().find(|(id, run)| **id != run.result.cycle) {
            return Err(format!("cycle {} is kept under {id}", run.result.cycle));
        }
        if !self.cycles.keys().eq(self.entries.keys()) {
            return Err(format!("{} cycles but {} entries", self.cycles.len(), self.entries.len()));
        }
        let n_invoices: usize = self.cycles.values().map(|run| run.invoices.len()).sum();
        if n_invoices != self.settled_invoices.len() {
            return Err(format!("the cycles net {n_invoices} invoices, {} are settled", self.settled_invoices.len()));
        }
        if let Some(invoice) =
            self.cycles.values().flat_map(|run| &run.invoices).find(|invoice| !self.settled_invoices.contains(*invoice))
        {
            return Err(format!("invoice {invoice} is netted but not settled"));
        }
        Ok(())
    }

    /// `[cycle, seq, hash]` per cycle by id.
    pub(crate) fn digest(&self) -> EntryHash {
        let mut hasher = Sha256::new();
        for (cycle, (seq, entry_hash)) in &self.entries {
            line(&mut hasher, &[string(cycle), seq.to_string(), hash(*entry_hash)]);
        }
        finish(hasher)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netting::{CycleResult, Mode};

    fn run(cycle: &str, invoices: &[&str]) -> NettingRun {
        NettingRun {
            result: CycleResult {
                cycle: cycle.into(),
                date: chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
                currency: crate::money::Currency::from_code("USD").unwrap(),
                positions: Vec::new(),
                settlements: Vec::new(),
                excluded: Vec::new(),
                gross: rust_decimal::Decimal::ZERO,
                invoices_netted: invoices.len(),
            },
            mode: Mode::Centre,
            rates: Vec::new(),
            invoices: invoices.iter().map(|id| id.to_string()).collect(),
        }
    }

    #[test]
    fn a_cycle_netting_an_invoice_twice_is_refused_and_changes_nothing() {
        let mut netting = Netting::default();
        netting.apply(&run("2026-03", &["INV-1", "INV-2"]), 7, EntryHash::GENESIS).unwrap();
        let err = netting.apply(&run("2026-04", &["INV-3", "INV-4", "INV-2"]), 8, EntryHash::GENESIS).unwrap_err();
        assert_eq!(err, "invoice INV-2 is netted twice");
        let err = netting.apply(&run("2026-04", &["INV-5", "INV-5"]), 8, EntryHash::GENESIS).unwrap_err();
        assert_eq!(err, "invoice INV-5 is netted twice");
        assert_eq!(netting.settled_invoices().len(), 2, "a refused cycle settles nothing");
        assert!(netting.cycle("2026-04").is_none());
        netting.check_invariants().unwrap();
        let err = netting.apply(&run("2026-03", &["INV-9"]), 9, EntryHash::GENESIS).unwrap_err();
        assert_eq!(err, "netting cycle 2026-03 is posted twice");
    }
}
