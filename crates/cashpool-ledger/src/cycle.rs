//! Posting a netting cycle: frozen rates from the imported ones, the pure
//! engine ([`crate::netting`]), then one `current_account` transaction per
//! settlement, journaled with the cycle's report in one atomic commit.
//!
//! Each entity pays or is paid through its first account holding the netting
//! currency (the host: its international master first). An entity without
//! one pays or is paid in its own currency (its first account's first
//! currency) converted at the frozen rate, with the FX booked through
//! `SYS-FX-POSITION`: the own-currency amount is the settlement divided by
//! the rate, rounded half-even; what that conversion leaves against the
//! settlement amount (below a minor unit of the own currency at the rate)
//! goes to `SYS-ROUNDING`, so every entity paying in the netting currency
//! moves by exactly its net.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{AccountKind, Purpose, SYS_FX_POSITION, SYS_ROUNDING};
use crate::money::{round_half_even, Currency};
use crate::netting::{CycleResult, Invoice};
use crate::rates::Market;
use crate::state::{Rejection, State};
use crate::tx::{PostingRequest, RateRequest, TransactionRequest};

/// Decimal places of a frozen netting rate.
pub(crate) const FROZEN_RATE_DECIMALS: u32 = 10;

/// A netting cycle as journaled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NettingRun {
    pub result: CycleResult,
    pub mode: crate::netting::Mode,
    /// The frozen rates: units of the netting currency per unit of each invoice currency.
    pub rates: Vec<(Currency, Decimal)>,
    /// The invoices it netted (they can never be netted again).
    pub invoices: Vec<String>,
}

impl State {
    /// Frozen rates of `date` (onshore market): netting currency per unit of each currency.
    pub(crate) fn frozen_rates(
        &self,
        date: NaiveDate,
        currencies: &[Currency],
        netting: Currency,
    ) -> BTreeMap<Currency, Decimal> {
        let base = self.base_currency();
        let per_base = |ccy: Currency| self.base_rate(ccy, Market::Onshore, date, base).ok();
        let mut rates = BTreeMap::new();
        let Some(netting_rate) = per_base(netting) else { return rates };
        for &ccy in currencies {
            if ccy == netting {
                continue;
            }
            if let Some(rate) = per_base(ccy) {
                if let Some(frozen) = rate.checked_div(netting_rate) {
                    rates.insert(
                        ccy,
                        frozen
                            .round_dp_with_strategy(FROZEN_RATE_DECIMALS, RoundingStrategy::MidpointNearestEven)
                            .normalize(),
                    );
                }
            }
        }
        rates
    }

    /// The account an entity settles through: its first pool account holding
    /// `currency` (the host's international master first), or `None`.
    pub(crate) fn settlement_account(&self, entity: &str, currency: Currency, date: NaiveDate) -> Option<String> {
        let config = self.config_on(date)?;
        let mut candidates: Vec<&crate::model::AccountSpec> = self.member_accounts(entity, date).collect();
        if entity == config.pool.host {
            candidates.sort_by_key(|spec| spec.id != config.pool.international_master);
        }
        candidates.iter().find(|spec| spec.holds(currency)).map(|spec| spec.id.clone())
    }

    /// An entity's own currency and account: its first account's first currency.
    fn own_account(&self, entity: &str, date: NaiveDate) -> Option<(String, Currency)> {
        self.member_accounts(entity, date)
            .next()
            .and_then(|spec| spec.currencies.first().map(|ccy| (spec.id.clone(), *ccy)))
    }

    /// The entity's own accounts (not external, not system) that take postings valued `date`.
    fn member_accounts<'s>(
        &'s self,
        entity: &'s str,
        date: NaiveDate,
    ) -> impl Iterator<Item = &'s crate::model::AccountSpec> + 's {
        let definition = self.definition();
        definition.accounts().iter().zip(definition.windows()).filter_map(move |(spec, window)| {
            let member = spec.entity == entity && !matches!(spec.kind, AccountKind::External | AccountKind::System);
            (member && window.takes(date)).then_some(spec)
        })
    }

    /// The transactions that settle a cycle; refused with every missing frozen
    /// rate ([`Rejection::MissingRates`]), or naming an entity with no account
    /// to settle through ([`Rejection::Invalid`], field `cycle`).
    pub(crate) fn cycle_requests(
        &self,
        result: &CycleResult,
        rates: &BTreeMap<Currency, Decimal>,
        centre: &str,
    ) -> Result<Vec<TransactionRequest>, Rejection> {
        let netting = result.currency;
        let tag = {
            let digest: [u8; 32] = Sha256::digest(result.cycle.as_bytes()).into();
            digest[..4].iter().map(|b| format!("{b:02X}")).collect::<String>()
        };
        // Every entity that settles in its own currency needs that currency's frozen rate: list all that are missing.
        let mut missing = std::collections::BTreeSet::new();
        for settlement in &result.settlements {
            for entity in [&settlement.from, &settlement.to] {
                if self.settlement_account(entity, netting, result.date).is_none() {
                    match self.own_account(entity, result.date) {
                        Some((_, own)) if !rates.contains_key(&own) => {
                            missing.insert(own);
                        }
                        Some(_) => {}
                        None => {
                            return Err(Rejection::Invalid {
                                field: "cycle".into(),
                                message: format!("{entity} has no account to settle through"),
                            })
                        }
                    }
                }
            }
        }
        if !missing.is_empty() {
            return Err(Rejection::MissingRates { currencies: missing.into_iter().collect() });
        }
        let mut requests = Vec::new();
        let mut legs: Vec<(String, String, Decimal)> = Vec::new();
        for settlement in &result.settlements {
            let from_direct = self.settlement_account(&settlement.from, netting, result.date);
            let to_direct = self.settlement_account(&settlement.to, netting, result.date);
            // Both without the netting currency: through the centre, one conversion each.
            if from_direct.is_none() && to_direct.is_none() {
                legs.push((settlement.from.clone(), centre.to_string(), settlement.amount));
                legs.push((centre.to_string(), settlement.to.clone(), settlement.amount));
            } else {
                legs.push((settlement.from.clone(), settlement.to.clone(), settlement.amount));
            }
        }
        // Payments into the centre first, so that it has collected before it pays out
        // (the batch is validated in order; the centre needs no overdraft).
        legs.sort_by_key(|(_, to, _)| to != centre);
        for (idx, (from, to, amount)) in legs.iter().enumerate() {
            let reference = format!("NT{tag}S{idx:04}");
            let id = format!("NET-{}-{idx:04}", result.cycle);
            let code = netting.code().to_string();
            let leg = |account: &str, currency: &str, amount: Decimal| PostingRequest {
                account: account.to_string(),
                currency: currency.to_string(),
                amount,
            };
            let payer = self.settlement_account(from, netting, result.date);
            let payee = self.settlement_account(to, netting, result.date);
            let mut postings = Vec::new();
            let mut rate = None;
            match (payer, payee) {
                (Some(payer), Some(payee)) => {
                    postings.push(leg(&payer, &code, -*amount));
                    postings.push(leg(&payee, &code, *amount));
                }
                (payer, payee) => {
                    // One side converts: its own currency at the frozen rate.
                    let (own_entity, paying) = if payer.is_none() { (from, true) } else { (to, false) };
                    // Both checked above, for every settlement.
                    let (own_account, own) =
                        self.own_account(own_entity, result.date).ok_or_else(|| Rejection::Invalid {
                            field: "cycle".into(),
                            message: format!("{own_entity} has no account to settle through"),
                        })?;
                    let r = *rates.get(&own).ok_or_else(|| Rejection::MissingRates { currencies: vec![own] })?;
                    let own_amount = round_half_even(*amount / r, own).rounded;
                    let value = round_half_even(own_amount * r, netting).rounded;
                    let residue = *amount - value;
                    let own_code = own.code().to_string();
                    if paying {
                        let payee = payee.expect("the other side holds the netting currency");
                        postings.push(leg(&own_account, &own_code, -own_amount));
                        postings.push(leg(SYS_FX_POSITION, &own_code, own_amount));
                        postings.push(leg(SYS_FX_POSITION, &code, -value));
                        postings.push(leg(&payee, &code, *amount));
                        postings.push(leg(SYS_ROUNDING, &code, -residue));
                    } else {
                        let payer = payer.expect("the other side holds the netting currency");
                        postings.push(leg(&payer, &code, -*amount));
                        postings.push(leg(SYS_ROUNDING, &code, residue));
                        postings.push(leg(SYS_FX_POSITION, &code, value));
                        postings.push(leg(SYS_FX_POSITION, &own_code, -own_amount));
                        postings.push(leg(&own_account, &own_code, own_amount));
                    }
                    postings.retain(|p| !p.amount.is_zero());
                    rate = Some(RateRequest { base: own_code, quote: code.clone(), rate: r });
                }
            }
            requests.push(TransactionRequest {
                id,
                value_date: result.date,
                purpose: Purpose::CurrentAccount,
                reference,
                memo: format!("netting cycle {}: {from} pays {to}", result.cycle),
                postings,
                rate,
                term_days: None,
                lender: None,
            });
        }
        Ok(requests)
    }
}

/// The ids of the invoices a result netted: the first occurrence of each id
/// that was not excluded for a reason of its own.
pub(crate) fn netted_ids(invoices: &[Invoice], result: &CycleResult) -> Vec<String> {
    use crate::netting::Exclusion;
    let excluded: std::collections::HashSet<&str> = result
        .excluded
        .iter()
        .filter(|e| e.reason != Exclusion::DuplicateInvoice)
        .map(|e| e.invoice.as_str())
        .collect();
    let mut seen = std::collections::HashSet::new();
    invoices
        .iter()
        .filter(|invoice| seen.insert(invoice.id.as_str()))
        .filter(|invoice| !excluded.contains(invoice.id.as_str()))
        .map(|invoice| invoice.id.clone())
        .collect()
}
