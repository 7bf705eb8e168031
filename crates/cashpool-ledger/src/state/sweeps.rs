//! The `sweeps` part: the sweep runs by value date, each with its entry.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::snapshot::Journaled;
use crate::digest::{date, finish, hash, line};
use crate::journal::v2::{sweep_of, sweep_rec, SweepRec};
use crate::journal::EntryHash;
use crate::sweep::SweepRun;

/// The sweep runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sweeps {
    /// The report of each run, by value date.
    runs: BTreeMap<NaiveDate, SweepRun>,
    /// The entry of each run (for the digest), by value date.
    entries: BTreeMap<NaiveDate, (u64, EntryHash)>,
}

impl Sweeps {
    /// A `sweep_run` entry: one run per value date.
    pub(crate) fn apply(&mut self, run: &SweepRun, seq: u64, entry_hash: EntryHash) -> Result<(), String> {
        if self.runs.contains_key(&run.date) {
            return Err(format!("a second sweep run for {}", run.date));
        }
        self.runs.insert(run.date, run.clone());
        self.entries.insert(run.date, (seq, entry_hash));
        Ok(())
    }

    /// The latest value date of a run.
    pub(crate) fn last_date(&self) -> Option<NaiveDate> {
        self.runs.keys().next_back().copied()
    }

    /// The run of value date `date`.
    pub(crate) fn run(&self, date: NaiveDate) -> Option<&SweepRun> {
        self.runs.get(&date)
    }

    /// The part as the state snapshot keeps it: each run's report, as the journal records it, with its entry.
    pub(crate) fn snapshot(&self) -> Vec<Journaled<SweepRec>> {
        self.runs
            .iter()
            .map(|(date, run)| {
                let (seq, entry_hash) = self.entries[date];
                Journaled { report: sweep_rec(run), seq, hash: entry_hash.0 }
            })
            .collect()
    }

    /// The part a snapshot kept; each run is applied as its entry was.
    pub(crate) fn restore(runs: Vec<Journaled<SweepRec>>) -> Result<Sweeps, String> {
        let mut sweeps = Sweeps::default();
        for run in runs {
            sweeps.apply(&sweep_of(run.report)?, run.seq, EntryHash(run.hash))?;
        }
        Ok(sweeps)
    }

    /// Each run is kept under its own date, with its entry.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        if let Some((day, run)) = self.runs.iter().find(|(day, run)| **day != run.date) {
            return Err(format!("the run of {} is kept under {day}", run.date));
        }
        if !self.runs.keys().eq(self.entries.keys()) {
            return Err(format!("{} runs but {} entries", self.runs.len(), self.entries.len()));
        }
        Ok(())
    }

    /// `[date, seq, hash]` per run by date.
    pub(crate) fn digest(&self) -> EntryHash {
        let mut hasher = Sha256::new();
        for (day, (seq, entry_hash)) in &self.entries {
            line(&mut hasher, &[date(*day), seq.to_string(), hash(*entry_hash)]);
        }
        finish(hasher)
    }
}
