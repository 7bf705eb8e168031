//! The `interest` part: the settled interest periods with their reports and
//! entries, and the rounding carry per currency (residues below one minor
//! unit not yet booked).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::snapshot::{Exact, InterestSnap, Journaled};
use crate::digest::{date, dec, finish, hash, line, string};
use crate::interest::InterestRun;
use crate::journal::v2::{interest_of, interest_rec};
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
    pub(crate) fn apply(
        &mut self,
        run: &InterestRun,
        recorded: bool,
        seq: u64,
        entry_hash: EntryHash,
    ) -> Result<(), String> {
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
            let amount = crate::money::to_currency_scale(*amount, *currency).map_err(|err| err.to_string())?;
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
    pub(crate) fn carry(&self, currency: Currency) -> Decimal {
        self.carry.get(&currency).copied().unwrap_or_default()
    }

    /// The last day of the latest settled period (its settlement's value date).
    pub(crate) fn last_day(&self) -> Option<NaiveDate> {
        self.periods.iter().map(|(_, to)| *to).max().and_then(|to| to.pred_opt())
    }

    /// The report of the settled period [from, to), if settled.
    pub(crate) fn report(&self, from: NaiveDate, to: NaiveDate) -> Option<&InterestRun> {
        self.reports.iter().find(|run| run.from == from && run.to == to)
    }

    /// The first settled period overlapping [from, to).
    pub(crate) fn overlapping(&self, from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        self.periods.iter().copied().find(|settled| overlap((from, to), *settled))
    }

    /// The part as the state snapshot keeps it: each settlement's report, as
    /// the journal records it, with its entry, in journal order; the carry exactly.
    pub(crate) fn snapshot(&self) -> InterestSnap {
        InterestSnap {
            settled: self
                .reports
                .iter()
                .zip(&self.entries)
                .map(|(run, (_, _, seq, entry_hash))| Journaled {
                    report: interest_rec(run),
                    seq: *seq,
                    hash: entry_hash.0,
                })
                .collect(),
            carry: self
                .carry
                .iter()
                .map(|(currency, carry)| (currency.code().to_string(), Exact::of(*carry)))
                .collect(),
        }
    }

    /// The part a snapshot kept.
    pub(crate) fn restore(snap: InterestSnap) -> Result<Interest, String> {
        let mut interest = Interest::default();
        for settled in snap.settled {
            let run = interest_of(settled.report)?;
            interest.periods.push((run.from, run.to));
            interest.entries.push((run.from, run.to, settled.seq, EntryHash(settled.hash)));
            interest.reports.push(run);
        }
        for (code, carry) in snap.carry {
            let currency = Currency::from_code(&code).ok_or_else(|| format!("unknown currency {code:?}"))?;
            if interest.carry.insert(currency, carry.get()?).is_some() {
                return Err(format!("the carry of {currency} is kept twice"));
            }
        }
        Ok(interest)
    }

    /// Periods, reports and entries agree, and no two settled periods overlap.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        if self.reports.len() != self.periods.len() || self.entries.len() != self.periods.len() {
            return Err(format!(
                "{} periods, {} reports, {} entries",
                self.periods.len(),
                self.reports.len(),
                self.entries.len()
            ));
        }
        for ((period, run), (from, to, _, _)) in self.periods.iter().zip(&self.reports).zip(&self.entries) {
            if *period != (run.from, run.to) || *period != (*from, *to) {
                return Err(format!("period [{}, {}) has the report or entry of another", period.0, period.1));
            }
        }
        for (idx, a) in self.periods.iter().enumerate() {
            if let Some(b) = self.periods[idx + 1..].iter().find(|b| overlap(*a, **b)) {
                return Err(format!("the settled periods [{}, {}) and [{}, {}) overlap", a.0, a.1, b.0, b.1));
            }
        }
        Ok(())
    }

    /// `["period", from, to, seq, hash]` per settlement in journal order,
    /// then `["carry", currency, carry]` per non-zero carry by code.
    pub(crate) fn digest(&self) -> EntryHash {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interest::Accrual;
    use rust_decimal_macros::dec;

    fn run(from: u32, to: u32, residue: Decimal, carry: Decimal) -> InterestRun {
        let eur = Currency::from_code("EUR").unwrap();
        InterestRun {
            from: NaiveDate::from_ymd_opt(2026, 3, from).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 3, to).unwrap(),
            accruals: vec![Accrual {
                entity: "M-SZ".into(),
                currency: eur,
                interest: dec!(1.00),
                withholding_tax: Decimal::ZERO,
                taxes: crate::withholding::Withheld::zero(eur),
                net: dec!(1.00),
                residue,
            }],
            rounding: Vec::new(),
            carry: vec![(eur, carry)],
        }
    }

    #[test]
    fn an_overlapping_period_is_refused_and_a_refused_run_changes_nothing() {
        let eur = Currency::from_code("EUR").unwrap();
        let mut interest = Interest::default();
        interest.apply(&run(1, 10, dec!(0.004), dec!(0.004)), true, 5, EntryHash::GENESIS).unwrap();
        let err = interest.apply(&run(9, 20, dec!(0.001), dec!(0.005)), true, 6, EntryHash::GENESIS).unwrap_err();
        assert_eq!(err, "interest [2026-03-09, 2026-03-20) overlaps the settled period [2026-03-01, 2026-03-10)");
        let err = interest.apply(&run(10, 20, dec!(0.001), dec!(0.009)), true, 6, EntryHash::GENESIS).unwrap_err();
        assert!(err.contains("the recorded carry"), "{err}");
        assert_eq!(interest.carry(eur), dec!(0.004), "a refused run leaves the carry as it was");
        assert_eq!(interest.periods.len(), 1);
        interest.apply(&run(10, 20, dec!(0.001), dec!(0.005)), true, 6, EntryHash::GENESIS).unwrap();
        assert_eq!(interest.carry(eur), dec!(0.005));
        interest.check_invariants().unwrap();
        let mut broken = interest.clone();
        broken.periods[1].0 = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        broken.reports[1].from = broken.periods[1].0;
        broken.entries[1].0 = broken.periods[1].0;
        let reason = broken.check_invariants().unwrap_err();
        assert!(reason.contains("overlap"), "{reason}");
    }
}
