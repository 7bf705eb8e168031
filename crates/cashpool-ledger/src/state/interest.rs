//! The `interest` part: the settled interest periods with their reports and
//! entries, and the rounding carry per currency (residues below one minor
//! unit not yet booked).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::digest::{date, dec, finish, hash, line, string};
use crate::interest::InterestRun;
use crate::journal::EntryHash;
use crate::money::Currency;

/// The settled interest periods.
#[derive(Debug, Clone, Default)]
pub(crate) struct Interest {
    /// Settled periods [from, to), in settlement order.
    periods: Vec<(NaiveDate, NaiveDate)>,
    /// Their reports, in the same order.
    reports: Vec<InterestRun>,
    /// Interest rounding residues not yet booked, per currency (below one minor unit).
    carry: BTreeMap<Currency, Decimal>,
    /// The entry of each settlement (for the digest), in the same order.
    entries: Vec<(NaiveDate, NaiveDate, u64, EntryHash)>,
}

/// Whether two periods [from, to) overlap.
fn overlap(a: (NaiveDate, NaiveDate), b: (NaiveDate, NaiveDate)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

impl Interest {
    /// An `interest_settled` entry: its residues join the carry, minus what
    /// it booked. `recorded`: the entry records the carry after it (format
    /// 2), which must be what the fold gives. Nothing is changed when it fails.
    pub fn apply(&mut self, run: &InterestRun, recorded: bool, seq: u64, entry_hash: EntryHash) -> Result<(), String> {
        if let Some(settled) = self.overlapping(run.from, run.to) {
            return Err(format!(
                "interest [{}, {}) overlaps the settled period [{}, {})",
                run.from, run.to, settled.0, settled.1
            ));
        }
        // The carry after the run, per currency it touches (a handful), applied once all is checked.
        let mut carry_after: Vec<(Currency, Decimal)> = Vec::new();
        let mut carry_of = |currency: Currency| -> usize {
            match carry_after.iter().position(|(ccy, _)| *ccy == currency) {
                Some(idx) => idx,
                None => {
                    carry_after.push((currency, self.carry.get(&currency).copied().unwrap_or_default()));
                    carry_after.len() - 1
                }
            }
        };
        // (currency's place, residue added or whole units booked), in the order they apply.
        let mut changes: Vec<(usize, Decimal, bool)> = Vec::with_capacity(run.accruals.len() + run.rounding.len());
        for accrual in &run.accruals {
            changes.push((carry_of(accrual.currency), accrual.residue, false));
        }
        for (currency, amount) in &run.rounding {
            let amount = crate::money::parse_amount(amount, *currency).map_err(|err| err.to_string())?;
            changes.push((carry_of(*currency), amount, true));
        }
        for (idx, amount, booked) in changes {
            if booked {
                carry_after[idx].1 -= amount;
            } else {
                carry_after[idx].1 += amount;
            }
        }
        if recorded {
            let mut currencies: Vec<Currency> = run.accruals.iter().map(|a| a.currency).collect();
            currencies.sort();
            currencies.dedup();
            let folded: Vec<(Currency, Decimal)> = currencies
                .into_iter()
                .map(|ccy| {
                    let after = carry_after.iter().find(|(c, _)| *c == ccy).map(|(_, carry)| *carry);
                    (ccy, after.unwrap_or_default())
                })
                .collect();
            let same = folded.len() == run.carry.len()
                && folded.iter().zip(&run.carry).all(|((a, x), (b, y))| a == b && x.normalize() == y.normalize());
            if !same {
                return Err(format!(
                    "interest [{}, {}): the recorded carry {:?} is not the fold's {:?}",
                    run.from, run.to, run.carry, folded
                ));
            }
        }
        for (currency, carry) in carry_after {
            self.carry.insert(currency, carry);
        }
        self.periods.push((run.from, run.to));
        self.reports.push(run.clone());
        self.entries.push((run.from, run.to, seq, entry_hash));
        Ok(())
    }

    /// The carry of `currency` (zero when none).
    pub fn carry(&self, currency: Currency) -> Decimal {
        self.carry.get(&currency).copied().unwrap_or_default()
    }

    /// The report of the settled period [from, to), if settled.
    pub fn report(&self, from: NaiveDate, to: NaiveDate) -> Option<&InterestRun> {
        self.reports.iter().find(|run| run.from == from && run.to == to)
    }

    /// The first settled period overlapping [from, to).
    pub fn overlapping(&self, from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        self.periods.iter().copied().find(|settled| overlap((from, to), *settled))
    }

    /// `["period", from, to, seq, hash]` per settlement in journal order,
    /// then `["carry", currency, carry]` per non-zero carry by code.
    pub fn digest(&self) -> EntryHash {
        let mut hasher = Sha256::new();
        for (from, to, seq, entry_hash) in &self.entries {
            line(&mut hasher, &[string("period"), date(*from), date(*to), seq.to_string(), hash(*entry_hash)]);
        }
        for (currency, carry) in &self.carry {
            if !carry.is_zero() {
                line(&mut hasher, &[string("carry"), string(currency.code()), dec(*carry)]);
            }
        }
        finish(hasher)
    }
}
