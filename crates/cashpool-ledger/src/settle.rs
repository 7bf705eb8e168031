//! Interest on intercompany positions: accrual over a period and settlement.
//!
//! Accrual runs daily over `[from, to)` on each member's value-dated
//! end-of-day position ([`crate::interest`]), at the rates in force on each
//! day: each segment of constant position is crossed with the periods of
//! constant rates ([`crate::interest::rate_periods`]: the `[[interest]]` row
//! of the day, the member's own before the pool's, and a benchmark row's
//! fixing), and a day a benchmark row has no fixing for refuses the run. Settlement rounds once per
//! member and currency (half-even), withholds the taxes on interest the pool
//! pays to an offshore member ([`crate::withholding`], at the rates of
//! [`crate::config::Entity::withholding_at`] on the settlement's value date,
//! the period's last day), and posts one transaction per accrual: the net
//! capitalised into the member's position, the income tax to `SYS-WHT`, the
//! VAT to `SYS-WHT-VAT`, the surcharges on the VAT to `SYS-WHT-SURCHARGES`,
//! the gross against `SYS-INTEREST`. Rounding residues of the interest (below
//! one minor unit) accumulate per currency; whenever the accumulated residue
//! reaches whole minor units they are booked to `SYS-ROUNDING`. A settled
//! period is journaled (`InterestSettled`): settling it again posts nothing,
//! and a period overlapping a settled one is refused.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::config::{Entity, GroupConfig};
use crate::interest::{
    accrue, push_period, rate_periods, try_segments, Accrual, AppliedRates, InterestRun, RatePeriod, Segment,
    TermsError,
};
use crate::model::{ic_account, Purpose, SYS_INTEREST, SYS_ROUNDING, SYS_SURCHARGES, SYS_VAT, SYS_WITHHOLDING_TAX};
use crate::money::{round, Currency, RoundingMode};
use crate::state::{Rejection, State};
use crate::tx::{PostingRequest, TransactionRequest};
use crate::withholding::{withhold, Withheld};

fn invalid(message: String) -> Rejection {
    Rejection::Invalid { field: "to".into(), message }
}

impl State {
    /// The exact interest of one member's position in one currency over
    /// `[from, to)`, with the rate periods of the days it was not zero: each
    /// segment of constant position accrues at the rates of each period it
    /// spans ([`rate_periods`]), segment by segment and period by period.
    fn accrue_position(
        &self,
        config: &GroupConfig,
        entity: &Entity,
        account_idx: u32,
        currency: Currency,
        by_date: &BTreeMap<NaiveDate, Decimal>,
        (from, to): (NaiveDate, NaiveDate),
    ) -> Result<(Decimal, Vec<RatePeriod>), Rejection> {
        let day_before = from.pred_opt().ok_or_else(|| invalid("from is the first representable day".into()))?;
        let overflow = |_| invalid("interest overflows".into());
        let opening = self.balance(account_idx, currency, Some(day_before));
        let segments = try_segments(opening, by_date, from, to).map_err(overflow)?;
        let mut exact = Decimal::ZERO;
        let mut shown: Vec<RatePeriod> = Vec::new();
        for segment in segments.iter().filter(|segment| !segment.balance.is_zero()) {
            let periods =
                rate_periods(config, self.rates().benchmarks(), &entity.id, currency, segment.start, segment.end)
                    .map_err(|err| terms_refusal(err, &entity.id, currency))?;
            for period in periods {
                let piece = Segment { start: period.start, end: period.end, balance: segment.balance };
                let interest = accrue(&period.as_rule(currency), &[piece]).map_err(overflow)?;
                exact = exact.checked_add(interest).ok_or_else(|| invalid("interest overflows".into()))?;
                push_period(&mut shown, period);
            }
        }
        Ok((exact, shown))
    }

    /// The rates a settled run applied, computed again for display (the
    /// definition and the fixings never change once journaled); a position
    /// whose rates cannot be found again is left out.
    pub(crate) fn applied_rates(&self, run: &InterestRun) -> Vec<AppliedRates> {
        run.accruals
            .iter()
            .filter_map(|accrual| {
                let idx = self.account_idx(&ic_account(&accrual.entity))?;
                let (_, balance) =
                    self.balances().of_account(idx).find(|(currency, _)| *currency == accrual.currency)?;
                let mut periods = Vec::new();
                for (start, end, config) in self.definition().slices(run.from, run.to) {
                    let Some(entity) = config.entity(&accrual.entity) else { continue };
                    if !config.has_interest_terms(&entity.id, accrual.currency) {
                        continue;
                    }
                    let (_, shown) = self
                        .accrue_position(config, entity, idx, accrual.currency, balance.by_date(), (start, end))
                        .ok()?;
                    for period in shown {
                        push_period(&mut periods, period);
                    }
                }
                Some(AppliedRates { entity: accrual.entity.clone(), currency: accrual.currency, periods })
            })
            .collect()
    }

    /// The accruals of `[from, to)` for every member position with an interest
    /// rule, and the rates each applied. A day a benchmark row needs a fixing
    /// the store does not hold refuses the whole run
    /// ([`Rejection::MissingFixing`]).
    pub(crate) fn accrue_interest(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(InterestRun, Vec<AppliedRates>), Rejection> {
        if to <= from {
            return Err(invalid(format!("the period [{from}, {to}) is empty")));
        }
        if !self.definition().is_defined() {
            return Err(invalid("no group definition".into()));
        }
        // The settlement's value date: the taxes due on it are the ones withheld.
        let value_date = to.pred_opt().unwrap_or(to);
        // Per member and currency, in first-seen order: the exact interest and the rate periods,
        // summed over the pieces of the period each governed by one definition (an amendment
        // within it changes the rules from its effective date), with the member as last defined.
        let mut positions: Vec<(&Entity, Currency, Decimal, Vec<RatePeriod>)> = Vec::new();
        for (start, end, config) in self.definition().slices(from, to) {
            for entity in config.entities.iter().filter(|e| e.id != config.pool.host) {
                let Some(idx) = self.account_idx(&ic_account(&entity.id)) else { continue };
                for (currency, balance) in self.balances().of_account(idx) {
                    if !config.has_interest_terms(&entity.id, currency) {
                        continue;
                    }
                    let (exact, periods) =
                        self.accrue_position(config, entity, idx, currency, balance.by_date(), (start, end))?;
                    match positions.iter_mut().find(|(e, ccy, ..)| e.id == entity.id && *ccy == currency) {
                        Some(found) => {
                            found.0 = entity;
                            found.2 = found.2.checked_add(exact).ok_or_else(|| invalid("interest overflows".into()))?;
                            for period in periods {
                                push_period(&mut found.3, period);
                            }
                        }
                        None => positions.push((entity, currency, exact, periods)),
                    }
                }
            }
        }
        let mut accruals = Vec::new();
        let mut applied = Vec::new();
        for (entity, currency, exact, periods) in positions {
            if exact.is_zero() {
                continue;
            }
            applied.push(AppliedRates { entity: entity.id.clone(), currency, periods });
            let gross = round(exact, currency, RoundingMode::HalfEven);
            let taxes = match entity.withholding_at(value_date) {
                Some(rates) => withhold(gross.rounded, currency, &rates)
                    .map_err(|err| invalid(format!("the taxes withheld from {} {currency}: {err}", entity.id)))?,
                None => Withheld::zero(currency),
            };
            let withholding_tax = taxes.total();
            let net = gross.rounded - withholding_tax;
            assert_eq!(net + withholding_tax, gross.rounded, "gross = net + taxes");
            accruals.push(Accrual {
                entity: entity.id.clone(),
                currency,
                interest: gross.rounded,
                withholding_tax,
                taxes,
                net,
                // Each tax is rounded as a tax is (half-even to the minor unit) and is what is
                // due; only the interest's own rounding is a residue for the rounding account.
                residue: gross.residue,
            });
        }
        let mut rounding = Vec::new();
        let mut carry_after = Vec::new();
        let mut currencies: Vec<Currency> = accruals.iter().map(|a| a.currency).collect();
        currencies.sort();
        currencies.dedup();
        for currency in currencies {
            let carry = self.interest().carry(currency)
                + accruals.iter().filter(|a| a.currency == currency).map(|a| a.residue).sum::<Decimal>();
            let whole = round(carry, currency, RoundingMode::Down).rounded;
            if !whole.is_zero() {
                rounding.push((currency, crate::money::at_scale(whole, currency)));
            }
            carry_after.push((currency, carry - whole));
        }
        Ok((InterestRun { from, to, accruals, rounding, carry: carry_after }, applied))
    }

    /// The transactions that settle a run.
    pub(crate) fn settlement_requests(&self, run: &InterestRun) -> Vec<TransactionRequest> {
        let period = format!("{}{}", run.from.format("%Y%m%d"), run.to.format("%Y%m%d"));
        // 15 characters, within the 16 of an MT940 reference, like the sweeps'.
        let reference = format!("INT{}{}", run.from.format("%y%m%d"), run.to.format("%y%m%d"));
        let mut requests = Vec::new();
        for accrual in &run.accruals {
            let code = accrual.currency.code().to_string();
            let leg = |account: &str, amount: Decimal| PostingRequest {
                account: account.to_string(),
                currency: code.clone(),
                amount,
            };
            let taxes = &accrual.taxes;
            assert_eq!(taxes.total(), accrual.withholding_tax, "{accrual:?}");
            let mut postings = vec![
                leg(&ic_account(&accrual.entity), accrual.net),
                leg(SYS_INTEREST, -accrual.interest),
                leg(SYS_WITHHOLDING_TAX, taxes.income_tax),
                leg(SYS_VAT, taxes.vat),
                leg(SYS_SURCHARGES, taxes.surcharges()),
            ];
            postings.retain(|p| !p.amount.is_zero());
            requests.push(TransactionRequest {
                id: format!("INT-{period}-{}-{}", accrual.entity, accrual.currency),
                value_date: run.to.pred_opt().unwrap_or(run.to),
                purpose: Purpose::Interest,
                reference: reference.clone(),
                memo: format!("intercompany interest {} to {} (exclusive)", run.from, run.to),
                postings,
                rate: None,
                term_days: None,
                lender: None,
            });
        }
        for (currency, amount) in &run.rounding {
            let amount = *amount;
            let code = currency.code().to_string();
            requests.push(TransactionRequest {
                id: format!("INT-{period}-ROUNDING-{currency}"),
                value_date: run.to.pred_opt().unwrap_or(run.to),
                purpose: Purpose::Interest,
                reference: reference.clone(),
                memo: "interest rounding residues, whole minor units".into(),
                postings: vec![
                    PostingRequest { account: SYS_ROUNDING.into(), currency: code.clone(), amount },
                    PostingRequest { account: SYS_INTEREST.into(), currency: code, amount: -amount },
                ],
                rate: None,
                term_days: None,
                lender: None,
            });
        }
        requests
    }
}

/// A day without its fixing, as the ledger refuses it.
fn terms_refusal(err: TermsError, entity: &str, currency: Currency) -> Rejection {
    match err {
        TermsError::MissingFixing { series, date, latest, stale_after_days } => {
            Rejection::MissingFixing { series, date, latest, stale_after_days, entity: entity.to_string(), currency }
        }
        TermsError::Overflow => invalid(format!("the rate of {entity}'s {currency} position overflows")),
    }
}
