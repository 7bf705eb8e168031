//! Multilateral netting: one netting cycle over intercompany invoices.
//!
//! A netting cycle takes the group's intercompany invoices, keeps the
//! current-account items between two different members that fall due inside
//! the window and were not settled before, converts them into the netting
//! currency at one frozen rate set, and computes for each member
//! `net = Σ receivable − Σ payable` (positive: the member receives). The nets
//! sum to zero exactly: each one is rounded half-even to the netting
//! currency's minor units and the rounding residue goes to the netting centre.
//! Then it proposes the payments that settle the nets, either all through the
//! centre ([`Mode::Centre`]: at most one payment per member) or directly
//! between members ([`Mode::Direct`]: exact pairs first, then greedy largest
//! payer to largest receiver, at most n − 1 payments).
//!
//! The module is pure: no ledger state, no IO, no clock. The invoices CSV is
//! read outside the core, by `cashpool-files`
//! (`cashpool_files::invoices::parse_invoices_csv`), into [`Invoice`]s;
//! [`net_cycle`] runs a cycle.
//!
//! Arithmetic is exact until the one rounding of each net: every converted
//! amount (`amount × rate`) is held as an `i128` at the largest scale any of
//! them needs, so that no digit is lost however many decimals the rates have;
//! a value that does not fit gives [`NettingError::Overflow`], never a wrong
//! figure.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::Purpose;
use crate::money::Currency;

// ---------------------------------------------------------------------------
// Data types
// ---------------------------------------------------------------------------

/// One intercompany invoice: `payer` owes `payee` `amount` of `currency`, due on `due_date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// The 1-based physical line of the invoices file the row starts on.
    pub line: u64,
    /// The invoice id: unique within a file, and across cycles (see [`CycleInput::already_settled`]).
    pub id: String,
    /// The entity that owes the amount.
    pub payer: String,
    /// The entity the amount is owed to.
    pub payee: String,
    /// The invoice currency.
    pub currency: Currency,
    /// Greater than zero, at exactly the currency's minor units.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// The day the invoice falls due.
    #[serde(with = "crate::journal::date_format")]
    pub due_date: NaiveDate,
    /// Only `current_account` invoices are netted; the others are capital items.
    pub purpose: Purpose,
}

/// How the nets of a cycle are settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Every member pays the netting centre, or is paid by it: at most one payment per member.
    Centre,
    /// Members pay each other: exact pairs first, then greedy largest payer to
    /// largest receiver; at most n − 1 payments for n members with a non-zero net.
    Direct,
}

impl Mode {
    /// The name used on the command line and in JSON: `centre` or `direct`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mode::Centre => "centre",
            Mode::Direct => "direct",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an invoice was left out of a cycle. When several reasons apply, the
/// first in this order is reported: [`Exclusion::DuplicateInvoice`],
/// [`Exclusion::AlreadySettled`], [`Exclusion::CapitalItem`],
/// [`Exclusion::UnknownEntity`], [`Exclusion::SameEntity`], [`Exclusion::OutsideWindow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// The purpose is not `current_account`: capital items are never netted.
    CapitalItem,
    /// The payer or the payee is not an entity of the group.
    UnknownEntity,
    /// The payer is the payee.
    SameEntity,
    /// Due after the cycle date, or before the window's start.
    OutsideWindow,
    /// A second (or later) invoice with an id already seen in the file; the first may still net.
    DuplicateInvoice,
    /// Settled by an earlier cycle.
    AlreadySettled,
}

impl Exclusion {
    /// The reason code used in JSON: `capital_item`, `unknown_entity`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Exclusion::CapitalItem => "capital_item",
            Exclusion::UnknownEntity => "unknown_entity",
            Exclusion::SameEntity => "same_entity",
            Exclusion::OutsideWindow => "outside_window",
            Exclusion::DuplicateInvoice => "duplicate_invoice",
            Exclusion::AlreadySettled => "already_settled",
        }
    }
}

impl fmt::Display for Exclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An invoice left out of the cycle, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excluded {
    /// The invoice id.
    pub invoice: String,
    /// The first reason that applied.
    pub reason: Exclusion,
}

/// One member's net position in the cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetPosition {
    /// The entity id.
    pub entity: String,
    /// Σ receivable − Σ payable in the netting currency, at its minor units
    /// (the centre's includes the rounding residue); positive: the entity receives.
    #[serde(with = "rust_decimal::serde::str")]
    pub net: Decimal,
}

/// One payment that settles the cycle, in the netting currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// The paying entity.
    pub from: String,
    /// The receiving entity.
    pub to: String,
    /// Greater than zero, at the netting currency's minor units.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// Everything a cycle needs besides the invoices.
#[doc(hidden)] // public for `crate::testing` only
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleInput<'a> {
    /// The cycle's name, such as `2026-11`.
    pub cycle: String,
    /// The cycle date: invoices due on or before it are netted.
    pub date: NaiveDate,
    /// The currency the nets and settlements are in.
    pub netting_currency: Currency,
    /// Entities of the group (ids); the netting centre (the host) must be one of them.
    pub entities: &'a [String],
    /// The netting centre: it receives the rounding residue and, in [`Mode::Centre`], is the other side of every payment.
    pub centre: &'a str,
    /// Window: invoices due on or before `date` and, if given, on or after `window_start`.
    pub window_start: Option<NaiveDate>,
    /// Invoice ids settled by earlier cycles.
    pub already_settled: &'a HashSet<String>,
    /// Frozen rates: units of the netting currency for one unit of each
    /// invoice currency (the caller derives them from base-currency rates; the
    /// netting currency itself need not be present: its rate is always 1,
    /// whatever the map says). A rate that is not greater than zero counts as missing.
    pub rates: &'a BTreeMap<Currency, Decimal>,
    /// How the nets are settled.
    pub mode: Mode,
}

/// The outcome of a netting cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleResult {
    /// The cycle's name, as given.
    pub cycle: String,
    /// The cycle date, as given.
    #[serde(with = "crate::journal::date_format")]
    pub date: NaiveDate,
    /// The netting currency.
    pub currency: Currency,
    /// Sorted by entity: every entity with a non-zero gross (a party to a
    /// netted invoice), and the centre whenever anything was netted (it may
    /// carry the rounding residue, and in [`Mode::Centre`] it is a party to
    /// every payment). The nets sum to exactly zero.
    pub positions: Vec<NetPosition>,
    /// The payments that settle the nets, in a deterministic order: in
    /// [`Mode::Centre`] by entity; in [`Mode::Direct`] the exact pairs (largest
    /// amount first, then by payer id), then the greedy payments in the order made.
    pub settlements: Vec<Settlement>,
    /// The invoices left out, in invoice order.
    pub excluded: Vec<Excluded>,
    /// Σ of the netted invoices in the netting currency, rounded half-even once.
    #[serde(with = "rust_decimal::serde::str")]
    pub gross: Decimal,
    /// How many invoices were netted.
    pub invoices_netted: usize,
}

/// Why a cycle could not be netted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NettingError {
    /// No rate for these invoice currencies (sorted by code); every one is listed.
    #[error("missing rates for the cycle date: {}", codes(.0))]
    MissingRates(Vec<Currency>),
    /// An amount, a rate or a sum cannot be held exactly.
    #[error(
        "the netting amounts overflow the exact arithmetic (an amount or a rate is too large or has too many \
         decimals); check the invoices and the rates"
    )]
    Overflow,
    /// The netting centre is not one of the group's entities.
    #[error("the netting centre {0:?} is not an entity of the group; name one of the group's entities")]
    UnknownCentre(String),
}

fn codes(currencies: &[Currency]) -> String {
    currencies.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------
// Netting
// ---------------------------------------------------------------------------

/// Runs one netting cycle over `invoices` (see the module documentation).
///
/// Each invoice is checked in this order, and the first reason that applies
/// excludes it: a repeated id ([`Exclusion::DuplicateInvoice`]; the first
/// occurrence may still net), settled before ([`Exclusion::AlreadySettled`]),
/// not `current_account` ([`Exclusion::CapitalItem`]), payer or payee not in
/// the group ([`Exclusion::UnknownEntity`]), payer = payee
/// ([`Exclusion::SameEntity`]), due after `date` or before `window_start`
/// ([`Exclusion::OutsideWindow`]).
///
/// Errors: [`NettingError::UnknownCentre`] when the centre is not in
/// `entities`; [`NettingError::MissingRates`] listing every currency of the
/// netted invoices without a rate; [`NettingError::Overflow`] when an amount
/// cannot be held exactly. Linear in the number of invoices; never panics.
#[doc(hidden)] // public for `crate::testing` only
pub fn net_cycle(input: &CycleInput, invoices: &[Invoice]) -> Result<CycleResult, NettingError> {
    let ccy = input.netting_currency;
    let minor = ccy.minor_units();

    // Entities by id; duplicates in the list collapse.
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(input.entities.len());
    let mut names: Vec<&str> = Vec::with_capacity(input.entities.len());
    for entity in input.entities {
        index.entry(entity.as_str()).or_insert_with(|| {
            names.push(entity.as_str());
            names.len() - 1
        });
    }
    let centre = *index.get(input.centre).ok_or_else(|| NettingError::UnknownCentre(input.centre.to_string()))?;

    // Pass 1: eligibility, in invoice order.
    let mut seen: HashSet<&str> = HashSet::with_capacity(invoices.len());
    let mut eligible: Vec<(usize, usize, &Invoice)> = Vec::with_capacity(invoices.len());
    let mut excluded = Vec::new();
    let mut currencies: BTreeSet<Currency> = BTreeSet::new();
    for invoice in invoices {
        let first = seen.insert(invoice.id.as_str());
        let payer = index.get(invoice.payer.as_str()).copied();
        let payee = index.get(invoice.payee.as_str()).copied();
        let reason = if !first {
            Some(Exclusion::DuplicateInvoice)
        } else if input.already_settled.contains(&invoice.id) {
            Some(Exclusion::AlreadySettled)
        } else if invoice.purpose != Purpose::CurrentAccount {
            Some(Exclusion::CapitalItem)
        } else if payer.is_none() || payee.is_none() {
            Some(Exclusion::UnknownEntity)
        } else if payer == payee {
            Some(Exclusion::SameEntity)
        } else if invoice.due_date > input.date || input.window_start.is_some_and(|start| invoice.due_date < start) {
            Some(Exclusion::OutsideWindow)
        } else {
            None
        };
        match (reason, payer, payee) {
            (None, Some(payer), Some(payee)) => {
                currencies.insert(invoice.currency);
                eligible.push((payer, payee, invoice));
            }
            (reason, _, _) => excluded
                .push(Excluded { invoice: invoice.id.clone(), reason: reason.unwrap_or(Exclusion::UnknownEntity) }),
        }
    }

    // The frozen rates, as exact (mantissa, scale), for the currencies in use.
    let mut rate_of: BTreeMap<Currency, (i128, u32)> = BTreeMap::new();
    let mut missing = Vec::new();
    for &currency in &currencies {
        if currency == ccy {
            rate_of.insert(currency, (1, 0));
            continue;
        }
        match input.rates.get(&currency).filter(|rate| **rate > Decimal::ZERO) {
            Some(rate) => {
                let rate = rate.normalize();
                rate_of.insert(currency, (rate.mantissa(), rate.scale()));
            }
            None => missing.push(currency),
        }
    }
    if !missing.is_empty() {
        return Err(NettingError::MissingRates(missing));
    }

    // Pass 2: every converted amount at one common scale, exactly.
    let mut scale = minor;
    let mut converted = Vec::with_capacity(eligible.len());
    for &(_, _, invoice) in &eligible {
        let &(rate, rate_scale) = rate_of.get(&invoice.currency).ok_or(NettingError::Overflow)?;
        let product = invoice.amount.mantissa().checked_mul(rate).ok_or(NettingError::Overflow)?;
        let product_scale = invoice.amount.scale() + rate_scale;
        scale = scale.max(product_scale);
        converted.push((product, product_scale));
    }
    let mut nets = vec![0i128; names.len()];
    let mut involved = vec![false; names.len()];
    let mut gross = 0i128;
    for (&(payer, payee, _), &(product, product_scale)) in eligible.iter().zip(&converted) {
        let value = rescale_up(product, scale - product_scale)?;
        let payee_net = nets.get_mut(payee).ok_or(NettingError::Overflow)?;
        *payee_net = payee_net.checked_add(value).ok_or(NettingError::Overflow)?;
        let payer_net = nets.get_mut(payer).ok_or(NettingError::Overflow)?;
        *payer_net = payer_net.checked_sub(value).ok_or(NettingError::Overflow)?;
        gross = gross.checked_add(value).ok_or(NettingError::Overflow)?;
        for party in [payer, payee] {
            if let Some(flag) = involved.get_mut(party) {
                *flag = true;
            }
        }
    }

    // Round each net once; the residue goes to the centre so that the nets sum to zero.
    let mut positions: Vec<(&str, i128)> = Vec::new();
    if !eligible.is_empty() {
        if let Some(flag) = involved.get_mut(centre) {
            *flag = true;
        }
        let mut total = 0i128;
        let mut centre_at = None;
        for (idx, (&name, &exact)) in names.iter().zip(&nets).enumerate() {
            if !involved.get(idx).copied().unwrap_or(false) {
                continue;
            }
            let rounded = round_half_even_scaled(exact, scale, minor)?;
            total = total.checked_add(rounded).ok_or(NettingError::Overflow)?;
            if idx == centre {
                centre_at = Some(positions.len());
            }
            positions.push((name, rounded));
        }
        let centre_net = centre_at.and_then(|at| positions.get_mut(at)).map(|(_, net)| net);
        if let Some(net) = centre_net {
            *net = net.checked_sub(total).ok_or(NettingError::Overflow)?;
        }
        let sum = positions.iter().try_fold(0i128, |acc, (_, net)| acc.checked_add(*net));
        assert_eq!(sum, Some(0), "netting: the nets of cycle {:?} must sum to exactly zero", input.cycle);
        positions.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }

    let settlements = match input.mode {
        Mode::Centre => settle_through_centre(&positions, names.get(centre).copied().unwrap_or(input.centre)),
        Mode::Direct => settle_directly(&positions),
    };

    let amount = |value: i128| Decimal::try_from_i128_with_scale(value, minor).map_err(|_| NettingError::Overflow);
    Ok(CycleResult {
        cycle: input.cycle.clone(),
        date: input.date,
        currency: ccy,
        positions: positions
            .iter()
            .map(|&(entity, net)| Ok(NetPosition { entity: entity.to_string(), net: amount(net)? }))
            .collect::<Result<_, NettingError>>()?,
        settlements: settlements
            .into_iter()
            .map(|(from, to, value)| {
                Ok(Settlement { from: from.to_string(), to: to.to_string(), amount: amount(value)? })
            })
            .collect::<Result<_, NettingError>>()?,
        excluded,
        gross: amount(round_half_even_scaled(gross, scale, minor)?)?,
        invoices_netted: eligible.len(),
    })
}

/// `value × 10^by`, or [`NettingError::Overflow`].
fn rescale_up(value: i128, by: u32) -> Result<i128, NettingError> {
    10i128.checked_pow(by).and_then(|factor| value.checked_mul(factor)).ok_or(NettingError::Overflow)
}

/// `value` (at `scale` decimals) rounded half-even to `minor` decimals, as a
/// mantissa at `minor` decimals.
fn round_half_even_scaled(value: i128, scale: u32, minor: u32) -> Result<i128, NettingError> {
    if scale <= minor {
        return rescale_up(value, minor - scale);
    }
    let divisor = 10i128.checked_pow(scale - minor).ok_or(NettingError::Overflow)?;
    let quotient = value / divisor;
    // |remainder| < divisor ≤ 10^38 / 10, so doubling it cannot overflow.
    let twice = (value % divisor).abs() * 2;
    let away = match twice.cmp(&divisor) {
        Ordering::Greater => true,
        Ordering::Equal => quotient % 2 != 0,
        Ordering::Less => false,
    };
    Ok(if away { quotient + value.signum() } else { quotient })
}

/// Centre mode: each member other than the centre with a non-zero net pays
/// the centre or is paid by it, in entity order.
fn settle_through_centre<'a>(positions: &[(&'a str, i128)], centre: &'a str) -> Vec<(&'a str, &'a str, i128)> {
    positions
        .iter()
        .filter(|&&(entity, net)| entity != centre && net != 0)
        .map(|&(entity, net)| if net < 0 { (entity, centre, -net) } else { (centre, entity, net) })
        .collect()
}

/// Direct mode: exact pairs first, then greedy largest payer to largest receiver.
fn settle_directly<'a>(positions: &[(&'a str, i128)]) -> Vec<(&'a str, &'a str, i128)> {
    // (amount, id), largest amount first, then by id.
    let by_amount = |a: &(i128, &str), b: &(i128, &str)| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1));
    let mut payers: Vec<(i128, &str)> =
        positions.iter().filter(|(_, net)| *net < 0).map(|&(entity, net)| (-net, entity)).collect();
    let mut receivers: Vec<(i128, &str)> =
        positions.iter().filter(|(_, net)| *net > 0).map(|&(entity, net)| (net, entity)).collect();
    payers.sort_unstable_by(by_amount);
    receivers.sort_unstable_by(by_amount);

    let mut settlements = Vec::new();
    let mut payer_heap = BinaryHeap::new();
    let mut receiver_heap = BinaryHeap::new();
    let mut payers = payers.into_iter().peekable();
    let mut receivers = receivers.into_iter().peekable();
    // Walk both lists from the largest amount down: equal amounts pair (in id
    // order); an amount larger than everything left on the other side cannot.
    while let (Some(&payer), Some(&receiver)) = (payers.peek(), receivers.peek()) {
        match payer.0.cmp(&receiver.0) {
            Ordering::Equal => {
                settlements.push((payer.1, receiver.1, payer.0));
                payers.next();
                receivers.next();
            }
            Ordering::Greater => {
                payer_heap.push((payer.0, Reverse(payer.1)));
                payers.next();
            }
            Ordering::Less => {
                receiver_heap.push((receiver.0, Reverse(receiver.1)));
                receivers.next();
            }
        }
    }
    payer_heap.extend(payers.map(|(amount, entity)| (amount, Reverse(entity))));
    receiver_heap.extend(receivers.map(|(amount, entity)| (amount, Reverse(entity))));

    // Each payment settles at least one side in full; the nets sum to zero,
    // so the last one settles both.
    while let (Some((owed, Reverse(payer))), Some((due, Reverse(receiver)))) = (payer_heap.pop(), receiver_heap.pop()) {
        let paid = owed.min(due);
        settlements.push((payer, receiver, paid));
        if owed > paid {
            payer_heap.push((owed - paid, Reverse(payer)));
        }
        if due > paid {
            receiver_heap.push((due - paid, Reverse(receiver)));
        }
    }
    settlements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_even_on_wide_scales() {
        for (value, scale, minor, expected) in [
            (2345, 3, 2, 234),
            (2355, 3, 2, 236),
            (-2345, 3, 2, -234),
            (-2355, 3, 2, -236),
            (-2346, 3, 2, -235),
            (12, 0, 2, 1200),
            (5, 1, 0, 0),
            (15, 1, 0, 2),
            (-15, 1, 0, -2),
            (149_999_999_999_999_999_999_999_999_999_999, 32, 0, 1),
            (150_000_000_000_000_000_000_000_000_000_000, 32, 0, 2),
        ] {
            assert_eq!(round_half_even_scaled(value, scale, minor), Ok(expected), "{value} at {scale} to {minor}");
        }
    }
}
