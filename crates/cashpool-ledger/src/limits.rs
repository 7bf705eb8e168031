//! Pool rules and regulatory limits (DOMAIN §2 to §4): the second line, the
//! pool's cross-border caps, and foreign debt per entity.
//!
//! Everything here is a pure function of the state and a transaction, so the
//! ledger checks it when it posts and a replay checks it again: a regulator
//! recomputes every figure from the exported journal alone.
//!
//! Choices where the rules are terse (also in `docs/LIMITS.md`):
//! - A movement counts toward the pool's caps when it is cross-border, its
//!   purpose is `pool_funding`, `foreign_debt` or `overseas_lending`, and every
//!   account it posts to is a pool account (no external counterparty). Its
//!   size is the net change of its onshore accounts, each posting converted to
//!   the base currency at the onshore rate of the value date (or the latest
//!   before it) and rounded half-even to the base currency's minor units:
//!   positive is an inflow, negative an outflow.
//! - The pool position is the sum of every counted movement posted; the cap
//!   is the one in force on the new movement's value date. A movement that
//!   would take the net inflow above the inflow cap, or the net outflow above
//!   the outflow cap, is refused; a movement that reduces the use is always
//!   accepted, so after a parameter cut existing positions stand and only
//!   what increases the excess is refused.
//! - A `foreign_debt` transaction with an external offshore lender opens a
//!   loan of the receiving member, keyed by the transaction id; a
//!   `loan_repayment` whose reference is that id reduces it.
//! - Under `quota_model = "separate"` (the default of a new definition,
//!   银发〔2025〕251号) the two caps are measured apart: see [`QuotaUse`].

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{round, Currency, RoundingMode};
use crate::rates::Market;

pub(crate) use crate::state::LimitState;

/// The pool's cap parameters, in force from `effective` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolParameters {
    #[serde(with = "crate::journal::date_format")]
    pub effective: NaiveDate,
    /// In the base currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub owners_equity: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub inflow_leverage: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub inflow_parameter: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub outflow_coefficient: Decimal,
}

impl PoolParameters {
    /// Net inflow cap = owners' equity × inflow leverage × inflow parameter.
    pub(crate) fn inflow_cap(&self) -> Decimal {
        self.owners_equity
            .checked_mul(self.inflow_leverage)
            .and_then(|x| x.checked_mul(self.inflow_parameter))
            .unwrap_or(Decimal::MAX)
    }

    /// Net outflow cap = owners' equity × outflow coefficient.
    pub(crate) fn outflow_cap(&self) -> Decimal {
        self.owners_equity.checked_mul(self.outflow_coefficient).unwrap_or(Decimal::MAX)
    }
}

/// A dated change of regulatory parameters, journaled (`cashpool limits set`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitsChange {
    #[serde(with = "crate::journal::date_format")]
    pub effective: NaiveDate,
    /// A new row of pool parameters.
    pub pool: Option<PoolParameters>,
    /// A new macro-prudential parameter for entities' foreign debt.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub macro_prudential: Option<Decimal>,
}

/// Which way a loan crosses the border.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum LoanKind {
    /// The onshore borrower owes a lender abroad (外债): an external
    /// offshore lender, or a member on the other side of the border.
    ForeignDebt,
    /// A member abroad owes the onshore lender (境外放款).
    OverseasLending,
}

/// A cross-border loan, keyed by the id of the transaction that drew it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Loan {
    /// Which way it crosses the border.
    pub(crate) kind: LoanKind,
    /// The borrower.
    pub(crate) entity: String,
    pub(crate) drawn: NaiveDate,
    pub(crate) currency: Currency,
    pub(crate) principal: Decimal,
    pub(crate) term_days: u32,
    /// Base currency per unit of the loan currency at drawdown (1 for the base currency).
    pub(crate) base_rate: Decimal,
    /// Base currency per USD at drawdown, for a facilitation quota (`None`: no USD rate then).
    pub(crate) usd_base_rate: Option<Decimal>,
    /// Repayments by value date.
    pub(crate) repayments: Vec<(NaiveDate, Decimal)>,
}

impl Loan {
    /// Outstanding principal at the end of `as_of` (or now).
    pub(crate) fn outstanding(&self, as_of: Option<NaiveDate>) -> Decimal {
        if as_of.is_some_and(|date| self.drawn > date) {
            return Decimal::ZERO;
        }
        self.repayments
            .iter()
            .filter(|(date, _)| as_of.is_none_or(|as_of| *date <= as_of))
            .fold(self.principal, |left, (_, amount)| left - *amount)
    }
}

/// Every parameter of a change is positive (checked when it is set and again on replay).
pub(crate) fn check_change_values(change: &LimitsChange) -> Result<(), String> {
    let mut values: Vec<(&str, Decimal)> = Vec::new();
    if let Some(pool) = &change.pool {
        values.extend([
            ("owners_equity", pool.owners_equity),
            ("inflow_leverage", pool.inflow_leverage),
            ("inflow_parameter", pool.inflow_parameter),
            ("outflow_coefficient", pool.outflow_coefficient),
        ]);
    }
    if let Some(parameter) = change.macro_prudential {
        values.push(("macro_prudential", parameter));
    }
    match values.iter().find(|(_, value)| *value <= Decimal::ZERO) {
        Some((field, value)) => Err(format!("{field} must be positive, got {value}")),
        None => Ok(()),
    }
}

/// `amount` if positive, else zero (never a negative zero).
pub(crate) fn positive_part(amount: Decimal) -> Decimal {
    if amount > Decimal::ZERO {
        amount
    } else {
        Decimal::ZERO
    }
}

/// Whether a loan drawn on `drawn` for `term_days` days is short-term: its
/// maturity (`drawn + term_days`) falls on or before the same calendar date a
/// year later (29 February → 28 February). "Up to one year" is by calendar
/// date, so a one-year loan spanning 29 February (366 days) is short-term.
pub(crate) fn is_short_term(drawn: NaiveDate, term_days: u32) -> bool {
    let maturity = drawn.checked_add_days(chrono::Days::new(u64::from(term_days)));
    let one_year = drawn.checked_add_months(chrono::Months::new(12));
    match (maturity, one_year) {
        (Some(maturity), Some(one_year)) => maturity <= one_year,
        // Past chrono's last date: far more than a year.
        _ => false,
    }
}

/// Maturity factor of DOMAIN §3: `short_term` (1.5) for a term of at most a
/// year (by calendar date, [`is_short_term`]), else `long_term` (1).
pub(crate) fn maturity_factor(drawn: NaiveDate, term_days: u32, factors: &RiskFactors) -> Decimal {
    if is_short_term(drawn, term_days) {
        factors.short_term
    } else {
        factors.long_term
    }
}

/// Whether debt in `currency` bears the FX factor: foreign currency, i.e.
/// anything but RMB, whatever the group's base currency (银发〔2016〕132号:
/// 外币跨境融资 … 汇率风险折算因子).
pub(crate) fn bears_fx_factor(currency: Currency) -> bool {
    currency.code() != "CNY"
}

/// Rounds a base-currency figure half-even to the base currency's minor units.
pub(crate) fn base_round(amount: Decimal, base: Currency) -> Decimal {
    round(amount, base, RoundingMode::HalfEven).rounded
}

/// One entity's foreign debt: risk-weighted balance and, for a facilitation quota, the USD total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DebtUse {
    pub(crate) weighted: Decimal,
    pub(crate) usd_total: Decimal,
}

/// The risk-weighted balance (DOMAIN §3: balance × maturity factor ×
/// category factor, plus balance × FX factor in foreign currency, at the
/// `factors` in force) and USD total of some loans, in the base currency.
pub(crate) fn debt_use_of<'l>(
    loans: impl Iterator<Item = &'l Loan>,
    base: Currency,
    as_of: Option<NaiveDate>,
    factors: &RiskFactors,
) -> DebtUse {
    let usd = Currency::from_code("USD").expect("USD is an ISO currency");
    let mut weighted = Decimal::ZERO;
    let mut usd_total = Decimal::ZERO;
    for loan in loans {
        let outstanding = loan.outstanding(as_of);
        if outstanding.is_zero() {
            continue;
        }
        let principal_base = base_round(outstanding * loan.base_rate, base);
        weighted += principal_base * maturity_factor(loan.drawn, loan.term_days, factors) * factors.category;
        if bears_fx_factor(loan.currency) {
            weighted += principal_base * factors.fx;
        }
        let in_usd = if loan.currency == usd {
            outstanding
        } else {
            loan.usd_base_rate.map_or(Decimal::MAX, |rate| base_round(principal_base / rate, usd))
        };
        usd_total = usd_total.saturating_add(in_usd);
    }
    DebtUse { weighted: base_round(weighted, base), usd_total }
}

/// A counted sweep-like movement (`pool_funding`) under the separate quota
/// model: between the onshore side and one entity on the other side (the
/// counterparty), in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PoolMove {
    pub(crate) date: NaiveDate,
    /// The entity of the accounts on the other side of the border (the host
    /// itself for its international master account).
    pub(crate) counterparty: String,
    pub(crate) currency: Currency,
    /// The net change of the onshore accounts in `currency`: + into onshore.
    pub(crate) amount: Decimal,
    /// `amount` in the base currency at the value date's onshore rate (the
    /// transaction's recorded pool flow): + an inflow.
    pub(crate) base: Decimal,
}

/// What the onshore side owes one counterparty in one currency from pool
/// movements (+: foreign debt) or is owed by it (−: overseas lending), in
/// the currency and at the base-currency value of the movements that made it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Book {
    pub(crate) amount: Decimal,
    pub(crate) base: Decimal,
}

impl Book {
    /// Adds a movement. One of the other sign first repays the balance, at the
    /// balance's own base value (pro rata, rounded half-even; in full when it
    /// repays all of it); only what is left over opens a balance the other
    /// way, at the movement's rate. So a repayment frees the headroom its
    /// borrowing used, and borrowing from one side never nets against lending.
    pub(crate) fn apply(&mut self, amount: Decimal, base: Decimal, base_currency: Currency) {
        let same_way = (self.amount > Decimal::ZERO) == (amount > Decimal::ZERO);
        if self.amount.is_zero() || amount.is_zero() || same_way {
            self.amount += amount;
            self.base += base;
        } else if amount.abs() <= self.amount.abs() {
            let released = if amount.abs() == self.amount.abs() {
                self.base
            } else {
                base_round(self.base * amount.abs() / self.amount.abs(), base_currency)
            };
            self.amount += amount;
            self.base -= released;
        } else {
            let rest = self.amount + amount;
            self.base = base_round(base * rest / amount, base_currency);
            self.amount = rest;
        }
        if self.amount.is_zero() {
            self.base = Decimal::ZERO;
        }
    }

    /// Its use of the two quotas, unrounded: (risk-weighted foreign debt, overseas lending).
    fn quota_use(&self, currency: Currency, factors: &RiskFactors) -> (Decimal, Decimal) {
        if self.amount > Decimal::ZERO {
            // Pool balances are repayable on demand: a term of up to a year.
            let mut weight = factors.short_term * factors.category;
            if bears_fx_factor(currency) {
                weight += factors.fx;
            }
            (positive_part(self.base) * weight, Decimal::ZERO)
        } else {
            (Decimal::ZERO, positive_part(-self.base))
        }
    }
}

/// The pool's use of its two quotas under the separate model, in the base
/// currency (rounded half-even to its minor units).
///
/// - **Foreign debt** (外债, against the net inflow cap, the centralised
///   foreign-debt quota): the risk-weighted balance (银发〔2016〕132号,
///   DOMAIN §3) of (a) every counterparty's positive pool balance ([`Book`]:
///   maturity factor 1.5, as a balance repayable on demand, plus the FX
///   factor 0.5 for a currency other than RMB) and (b) every outstanding
///   foreign-debt loan of an onshore entity, intra-pool or from an external
///   lender ([`debt_use_of`]).
/// - **Overseas lending** (境外放款, against the net outflow cap): every
///   counterparty's negative pool balance and every outstanding overseas loan,
///   at the base value of when it arose; not risk-weighted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct QuotaUse {
    pub(crate) foreign_debt: Decimal,
    pub(crate) overseas_lending: Decimal,
}

/// The use of pool balances and loans, in the base currency.
pub(crate) fn quota_use_of<'a>(
    books: impl Iterator<Item = (Currency, &'a Book)>,
    loans: impl Iterator<Item = &'a Loan>,
    onshore: impl Fn(&str) -> bool,
    base: Currency,
    as_of: Option<NaiveDate>,
    factors: &RiskFactors,
) -> QuotaUse {
    let (mut debt, mut lending) = (Decimal::ZERO, Decimal::ZERO);
    for (currency, book) in books {
        let (d, l) = book.quota_use(currency, factors);
        debt += d;
        lending += l;
    }
    let mut debt_loans: Vec<&Loan> = Vec::new();
    for loan in loans {
        match loan.kind {
            LoanKind::ForeignDebt if onshore(&loan.entity) => debt_loans.push(loan),
            LoanKind::ForeignDebt => {}
            LoanKind::OverseasLending => {
                lending += base_round(loan.outstanding(as_of) * loan.base_rate, base);
            }
        }
    }
    debt += debt_use_of(debt_loans.into_iter(), base, as_of, factors).weighted;
    QuotaUse { foreign_debt: base_round(debt, base), overseas_lending: base_round(lending, base) }
}

/// Which market converts an account's postings: its zone's.
pub(crate) fn market_of(zone: Option<crate::model::Zone>) -> Market {
    zone.map_or(Market::Onshore, Market::of_zone)
}

/// What a checked transaction changes besides balances.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Effects {
    /// A counted cross-border movement of the pool (base currency, + inflow / − outflow).
    pub(crate) pool_flow: Option<Decimal>,
    /// A foreign-debt drawdown: the loan it opens, keyed by the transaction id.
    pub(crate) drawdown: Option<Loan>,
    /// A repayment: loan id and amount in the loan's currency.
    pub(crate) repayment: Option<(String, Decimal)>,
    /// Under the separate quota model, the pool movement a `pool_funding`
    /// transaction across the border makes (derived from its postings and its
    /// recorded pool flow, not recorded itself).
    pub(crate) pool_move: Option<PoolMove>,
}

use crate::config::{QuotaModel, Residence, RiskFactors, SecondLineRule};
use crate::journal::PostedTransaction;
use crate::model::{AccountKind, Classification, Purpose, Zone};
use crate::money::{at_scale, format_amount};
use crate::state::{FlowDirection, Rejection, State};

impl State {
    fn zone_of(&self, account: &str) -> Option<Zone> {
        self.account_idx(account).and_then(|idx| self.spec(idx).zone)
    }

    /// The classification of a transaction, from its accounts' zones.
    pub(crate) fn classify(&self, tx: &PostedTransaction) -> Classification {
        let (mut onshore, mut ft, mut offshore) = (false, false, false);
        for posting in &tx.postings {
            match self.zone_of(&posting.account) {
                Some(Zone::Onshore) => onshore = true,
                Some(Zone::Ft) => ft = true,
                Some(Zone::Offshore) => offshore = true,
                None => {}
            }
        }
        Classification::of_zones(onshore, ft, offshore)
    }

    /// The pool rules a transaction must pass after the ledger's own checks:
    /// its stored classification, the second line, the pool caps, foreign debt.
    pub(crate) fn check_pool_rules(&self, tx: &PostedTransaction) -> Result<Effects, Rejection> {
        let classification = self.classify(tx);
        if tx.classification != classification {
            return Err(Rejection::Invalid {
                field: "classification".into(),
                message: format!(
                    "recorded as {} but its accounts make it {}",
                    tx.classification.as_str(),
                    classification.as_str()
                ),
            });
        }
        if classification == Classification::SecondLine {
            self.check_second_line(tx)?;
        }
        let base = self.base_currency();
        let mut effects = Effects { pool_flow: self.pool_flow(tx, classification, base)?, ..Effects::default() };
        if self.quota_model() == QuotaModel::NetPosition {
            if let Some(flow) = effects.pool_flow {
                self.check_pool_caps(tx.value_date, flow, base)?;
            }
            if tx.purpose == Purpose::ForeignDebt && self.has_external(tx) {
                let loan = self.drawdown(tx, base)?;
                self.check_foreign_debt(tx.value_date, &loan, base)?;
                effects.drawdown = Some(loan);
            }
            if tx.purpose == Purpose::LoanRepayment {
                effects.repayment = self.repayment(tx, false)?;
            }
            return Ok(effects);
        }
        if let Some(flow) = effects.pool_flow {
            match tx.purpose {
                Purpose::PoolFunding => effects.pool_move = Some(self.pool_move(tx, flow)?),
                Purpose::ForeignDebt => {
                    effects.drawdown = Some(self.intra_pool_loan(tx, LoanKind::ForeignDebt, base)?)
                }
                Purpose::OverseasLending => {
                    effects.drawdown = Some(self.intra_pool_loan(tx, LoanKind::OverseasLending, base)?)
                }
                _ => {}
            }
        }
        if tx.purpose == Purpose::ForeignDebt && self.has_external(tx) {
            let loan = self.drawdown(tx, base)?;
            self.check_foreign_debt(tx.value_date, &loan, base)?;
            effects.drawdown = Some(loan);
        }
        if tx.purpose == Purpose::LoanRepayment {
            effects.repayment = self.repayment(tx, classification.is_cross_border())?;
        }
        self.check_quotas(tx.value_date, &effects, base)?;
        Ok(effects)
    }

    /// The effects a sweep's transaction would have under the separate model
    /// (its pool movement), for the sweep planner.
    pub(crate) fn sweep_effects(&self, tx: &PostedTransaction, flow: Decimal) -> Result<Effects, Rejection> {
        Ok(Effects { pool_flow: Some(flow), pool_move: Some(self.pool_move(tx, flow)?), ..Effects::default() })
    }

    /// The definition in force on `date`, or now.
    fn config_at(&self, date: Option<NaiveDate>) -> Option<&std::sync::Arc<crate::config::GroupConfig>> {
        match date {
            Some(date) => self.config_on(date),
            None => self.config(),
        }
    }

    /// The pool's quota model (the definition's; `net_position` before one is defined).
    pub(crate) fn quota_model(&self) -> QuotaModel {
        self.config().map_or(QuotaModel::NetPosition, |config| config.pool.quota_model)
    }

    /// Whether `entity` is an onshore entity of the group.
    pub(crate) fn is_onshore_entity(&self, entity: &str) -> bool {
        self.config().and_then(|config| config.entity(entity)).is_some_and(|e| e.residence == Residence::Onshore)
    }

    /// The use the quotas would have after `effects` (and `planned` moves not yet posted).
    pub(crate) fn quota_use_after(&self, planned: &[&PoolMove], effects: &Effects, date: NaiveDate) -> QuotaUse {
        let base = self.base_currency();
        let limits = self.limits();
        let mut books: std::collections::BTreeMap<(String, Currency), Book> =
            limits.books().map(|(key, book)| (key.clone(), *book)).collect();
        for pool_move in planned.iter().copied().chain(effects.pool_move.as_ref()) {
            books.entry((pool_move.counterparty.clone(), pool_move.currency)).or_default().apply(
                pool_move.amount,
                pool_move.base,
                base,
            );
        }
        let repaid = effects.repayment.as_ref().and_then(|(id, amount)| {
            let mut loan = limits.loan(id)?.clone();
            loan.repayments.push((NaiveDate::MAX, *amount));
            Some((id.as_str(), loan))
        });
        let loans = limits
            .loan_entries()
            .filter(|(id, _)| repaid.as_ref().is_none_or(|(repaid_id, _)| repaid_id != id))
            .map(|(_, loan)| loan)
            .chain(repaid.as_ref().map(|(_, loan)| loan))
            .chain(effects.drawdown.as_ref());
        quota_use_of(
            books.iter().map(|((_, currency), book)| (*currency, book)),
            loans,
            |entity| self.is_onshore_entity(entity),
            base,
            None,
            &self.risk_factors(Some(date)),
        )
    }

    /// The risk factors in force on `date`, or now.
    pub(crate) fn risk_factors(&self, date: Option<NaiveDate>) -> RiskFactors {
        match (self.config_at(date), date) {
            (Some(config), Some(date)) => config.risk_factors_at(date),
            (Some(config), None) => config.risk_factors_latest(),
            (None, _) => RiskFactors::published(),
        }
    }

    /// Refuses what would take either quota's use above its cap in force on
    /// `date`; what lowers a use, or leaves it under the cap, passes.
    pub(crate) fn check_quotas(&self, date: NaiveDate, effects: &Effects, base: Currency) -> Result<(), Rejection> {
        if effects.pool_move.is_none() && effects.drawdown.is_none() && effects.repayment.is_none() {
            return Ok(());
        }
        self.check_quotas_with(date, &[], effects, base)
    }

    /// [`State::check_quotas`] with `planned` moves of a sweep run counted first.
    pub(crate) fn check_quotas_with(
        &self,
        date: NaiveDate,
        planned: &[&PoolMove],
        effects: &Effects,
        base: Currency,
    ) -> Result<(), Rejection> {
        let before = self.quota_use_after(planned, &Effects::default(), date);
        let after = self.quota_use_after(planned, effects, date);
        let (debt_cap, lending_cap) = self.pool_caps(date);
        let show = |amount: Decimal| at_scale(base_round(amount, base), base);
        let breach = |direction, cap: Decimal, used: Decimal, now: Decimal| Rejection::Limit {
            direction,
            cap: show(cap),
            used: show(used),
            requested: show(now - used),
            headroom: show(positive_part(cap - used)),
        };
        if after.foreign_debt > before.foreign_debt && after.foreign_debt > debt_cap {
            return Err(breach(FlowDirection::Inflow, debt_cap, before.foreign_debt, after.foreign_debt));
        }
        if after.overseas_lending > before.overseas_lending && after.overseas_lending > lending_cap {
            return Err(breach(FlowDirection::Outflow, lending_cap, before.overseas_lending, after.overseas_lending));
        }
        Ok(())
    }

    /// The two sides of a pool movement across the border: the entity on the
    /// other side and the one currency of the onshore side, with the onshore
    /// side's net change in it.
    fn across(&self, tx: &PostedTransaction) -> Result<(String, Currency, Decimal), Rejection> {
        let invalid = |message: String| Rejection::Invalid { field: "postings".into(), message };
        let mut counterparty: Option<&str> = None;
        let mut onshore: Option<(Currency, Decimal)> = None;
        for posting in &tx.postings {
            let Some(idx) = self.account_idx(&posting.account) else { continue };
            let spec = self.spec(idx);
            match spec.zone {
                Some(Zone::Onshore) => match &mut onshore {
                    Some((currency, net)) if *currency == posting.currency => *net += posting.amount,
                    Some((currency, _)) => {
                        return Err(invalid(format!(
                            "a pool movement across the border moves one currency on the onshore side; it posts {currency} and {} there",
                            posting.currency
                        )))
                    }
                    None => onshore = Some((posting.currency, posting.amount)),
                },
                Some(Zone::Ft | Zone::Offshore) => match counterparty {
                    Some(entity) if entity != spec.entity => {
                        return Err(invalid(format!(
                            "a pool movement across the border is between the onshore side and one entity on the other; it posts to accounts of {entity} and {}",
                            spec.entity
                        )))
                    }
                    _ => counterparty = Some(&spec.entity),
                },
                None => {}
            }
        }
        match (counterparty, onshore) {
            (Some(entity), Some((currency, net))) => Ok((entity.to_string(), currency, net)),
            _ => Err(invalid("a pool movement across the border posts to both sides of it".into())),
        }
    }

    /// The pool movement of a `pool_funding` transaction across the border.
    fn pool_move(&self, tx: &PostedTransaction, flow: Decimal) -> Result<PoolMove, Rejection> {
        let (counterparty, currency, amount) = self.across(tx)?;
        Ok(PoolMove { date: tx.value_date, counterparty, currency, amount, base: flow })
    }

    /// The loan an intra-pool `foreign_debt` (the onshore side borrows) or
    /// `overseas_lending` (the other side borrows) transaction draws.
    fn intra_pool_loan(&self, tx: &PostedTransaction, kind: LoanKind, base: Currency) -> Result<Loan, Rejection> {
        let invalid = |message: String| Rejection::Invalid { field: "postings".into(), message };
        let (counterparty, currency, net) = self.across(tx)?;
        let (borrower, principal) = match kind {
            LoanKind::ForeignDebt => {
                let mut onshore_entities = tx.postings.iter().filter_map(|posting| {
                    let spec = self.spec(self.account_idx(&posting.account)?);
                    (spec.zone == Some(Zone::Onshore)).then_some(spec.entity.as_str())
                });
                let first = onshore_entities.next().unwrap_or_default();
                if onshore_entities.any(|entity| entity != first) {
                    return Err(invalid("an intra-pool foreign-debt loan is lent to one onshore entity".into()));
                }
                (first.to_string(), net)
            }
            LoanKind::OverseasLending => (counterparty, -net),
        };
        if principal <= Decimal::ZERO {
            let way = match kind {
                LoanKind::ForeignDebt => "foreign_debt brings money into onshore",
                LoanKind::OverseasLending => "overseas_lending takes money out of onshore",
            };
            return Err(invalid(format!("{way}; this transaction moves it the other way")));
        }
        Ok(Loan {
            kind,
            entity: borrower,
            drawn: tx.value_date,
            currency,
            principal,
            term_days: tx.term_days.unwrap_or(0),
            base_rate: self.base_rate(currency, Market::Onshore, tx.value_date, base)?,
            usd_base_rate: None,
            repayments: Vec::new(),
        })
    }

    fn has_external(&self, tx: &PostedTransaction) -> bool {
        tx.postings.iter().any(|posting| {
            self.account_idx(&posting.account).is_some_and(|idx| self.spec(idx).kind == AccountKind::External)
        })
    }

    /// The second line (docs/LIMITS.md, "The second line"): between one
    /// entity's own FT and ordinary onshore accounts (同名划转) only
    /// `current_account`, `loan_repayment` and `real_investment`, only in CNY;
    /// between different entities (an external counterparty included) the
    /// movement is managed as cross-border, unless the pool holds every
    /// transfer to the same-name rules (`second_line_between_entities`).
    pub(crate) fn check_second_line(&self, tx: &PostedTransaction) -> Result<(), Rejection> {
        let rule =
            self.config_on(tx.value_date).map(|config| config.pool.second_line_between_entities).unwrap_or_default();
        if rule == SecondLineRule::CrossBorder && !self.is_same_name(tx) {
            return Ok(());
        }
        if !Purpose::SECOND_LINE.contains(&tx.purpose) {
            return Err(Rejection::SecondLine {
                rule: "purpose".into(),
                message: format!(
                    "purpose {} may not cross the second line (FT ↔ onshore); only current_account, loan_repayment and real_investment may",
                    tx.purpose
                ),
            });
        }
        let cny = Currency::from_code("CNY").expect("CNY is an ISO currency");
        for (posting_idx, posting) in tx.postings.iter().enumerate() {
            let zone = self.zone_of(&posting.account);
            if matches!(zone, Some(Zone::Ft | Zone::Onshore)) && posting.currency != cny {
                return Err(Rejection::SecondLine {
                    rule: "currency".into(),
                    message: format!(
                        "only CNY crosses the second line (FT ↔ onshore); postings[{posting_idx}] is {} on {}",
                        posting.currency, posting.account
                    ),
                });
            }
        }
        Ok(())
    }

    /// Whether every FT and onshore account a transaction posts to belongs to
    /// one entity of the group: a same-name transfer (同名划转).
    fn is_same_name(&self, tx: &PostedTransaction) -> bool {
        let mut owner: Option<&str> = None;
        for posting in &tx.postings {
            let Some(idx) = self.account_idx(&posting.account) else { continue };
            let spec = self.spec(idx);
            if !matches!(spec.zone, Some(Zone::Ft | Zone::Onshore)) {
                continue;
            }
            if spec.kind == AccountKind::External || owner.is_some_and(|owner| owner != spec.entity) {
                return false;
            }
            owner = Some(&spec.entity);
        }
        owner.is_some()
    }

    /// The counted cross-border flow of a pool movement: the net change of its
    /// onshore accounts in the base currency, each posting at the onshore rate.
    pub(crate) fn pool_flow(
        &self,
        tx: &PostedTransaction,
        classification: Classification,
        base: Currency,
    ) -> Result<Option<Decimal>, Rejection> {
        if !classification.is_cross_border() || !Purpose::POOL_COUNTED.contains(&tx.purpose) || self.has_external(tx) {
            return Ok(None);
        }
        let mut flow = Decimal::ZERO;
        for posting in &tx.postings {
            if self.zone_of(&posting.account) != Some(Zone::Onshore) {
                continue;
            }
            flow += self.to_base(posting.amount, posting.currency, Market::Onshore, tx.value_date, base)?;
        }
        Ok(Some(flow))
    }

    /// `amount` in the base currency, rounded half-even to its minor units.
    fn to_base(
        &self,
        amount: Decimal,
        currency: Currency,
        market: Market,
        date: NaiveDate,
        base: Currency,
    ) -> Result<Decimal, Rejection> {
        let rate = self.base_rate(currency, market, date, base)?;
        Ok(base_round(amount * rate, base))
    }

    /// Base currency per unit of `currency` on `date` (1 for the base currency).
    pub(crate) fn base_rate(
        &self,
        currency: Currency,
        market: Market,
        date: NaiveDate,
        base: Currency,
    ) -> Result<Decimal, Rejection> {
        if currency == base {
            return Ok(Decimal::ONE);
        }
        self.rates().rate(currency, market, date).map(|(_, rate)| rate).ok_or(Rejection::MissingRate {
            currency,
            market,
            date,
        })
    }

    fn check_pool_caps(&self, date: NaiveDate, flow: Decimal, base: Currency) -> Result<(), Rejection> {
        self.check_pool_caps_at(date, self.limits().pool_position(None), flow, base)
    }

    /// The caps in force on `date`: (net inflow cap, net outflow cap).
    pub(crate) fn pool_caps(&self, date: NaiveDate) -> (Decimal, Decimal) {
        let params = self.limits().params().pool_at(date);
        (
            params.map_or(Decimal::ZERO, PoolParameters::inflow_cap),
            params.map_or(Decimal::ZERO, PoolParameters::outflow_cap),
        )
    }

    /// Checks a flow against the caps in force on `date`, from `position`.
    pub(crate) fn check_pool_caps_at(
        &self,
        date: NaiveDate,
        position: Decimal,
        flow: Decimal,
        base: Currency,
    ) -> Result<(), Rejection> {
        let (inflow_cap, outflow_cap) = self.pool_caps(date);
        let after = position + flow;
        let show = |amount: Decimal| at_scale(base_round(amount, base), base);
        if flow > Decimal::ZERO && after > inflow_cap {
            let used = positive_part(position);
            return Err(Rejection::Limit {
                direction: FlowDirection::Inflow,
                cap: show(inflow_cap),
                used: show(used),
                requested: show(flow),
                headroom: show(positive_part(inflow_cap - used)),
            });
        }
        if flow < Decimal::ZERO && -after > outflow_cap {
            let used = positive_part(-position);
            return Err(Rejection::Limit {
                direction: FlowDirection::Outflow,
                cap: show(outflow_cap),
                used: show(used),
                requested: show(-flow),
                headroom: show(positive_part(outflow_cap - used)),
            });
        }
        Ok(())
    }

    /// The loan a foreign-debt drawdown opens: from an external offshore
    /// lender to the accounts of one member, in one currency.
    fn drawdown(&self, tx: &PostedTransaction, base: Currency) -> Result<Loan, Rejection> {
        let invalid = |message: String| Rejection::Invalid { field: "postings".into(), message };
        let mut borrower: Option<(&str, Currency, Option<Zone>)> = None;
        let mut principal = Decimal::ZERO;
        for posting in &tx.postings {
            let Some(idx) = self.account_idx(&posting.account) else { continue };
            let spec = self.spec(idx);
            match spec.kind {
                AccountKind::External => {
                    if spec.zone != Some(Zone::Offshore) || posting.amount > Decimal::ZERO {
                        return Err(invalid(format!(
                            "foreign debt is lent by an external offshore account; {} is not one lending here",
                            spec.id
                        )));
                    }
                }
                AccountKind::System => {}
                _ if posting.amount > Decimal::ZERO => {
                    if let Some((entity, currency, _)) = borrower {
                        if entity != spec.entity || currency != posting.currency {
                            return Err(invalid("a drawdown goes to one member in one currency".into()));
                        }
                    }
                    borrower = Some((spec.entity.as_str(), posting.currency, spec.zone));
                    principal += posting.amount;
                }
                _ => return Err(invalid(format!("a drawdown only credits the borrower; {} is debited", spec.id))),
            }
        }
        let Some((entity, currency, zone)) = borrower else {
            return Err(invalid("a drawdown credits an account of the borrowing member".into()));
        };
        let market = market_of(zone);
        let base_rate = self.base_rate(currency, market, tx.value_date, base)?;
        let usd = Currency::from_code("USD").expect("USD is an ISO currency");
        let has_quota = self
            .config_on(tx.value_date)
            .is_some_and(|config| config.entities.iter().any(|e| e.id == entity && !e.facilitation_quota.is_empty()));
        let usd_base_rate = if has_quota { Some(self.base_rate(usd, market, tx.value_date, base)?) } else { None };
        Ok(Loan {
            kind: LoanKind::ForeignDebt,
            entity: entity.to_string(),
            drawn: tx.value_date,
            currency,
            principal,
            term_days: tx.term_days.unwrap_or(0),
            base_rate,
            usd_base_rate,
            repayments: Vec::new(),
        })
    }

    /// The entity's foreign-debt cap on `date`: net assets × 2 × macro-prudential parameter.
    pub(crate) fn foreign_debt_cap(&self, entity: &str, date: Option<NaiveDate>) -> Decimal {
        let net_assets = self
            .config_at(date)
            .and_then(|config| config.entities.iter().find(|e| e.id == entity))
            .and_then(|e| e.net_assets)
            .unwrap_or(Decimal::ZERO);
        let parameter = match date {
            Some(date) => self.limits().params().macro_at(date),
            None => self.limits().params().macro_latest(),
        };
        net_assets * self.risk_factors(date).leverage * parameter.unwrap_or(Decimal::ZERO)
    }

    /// The facilitation quota (USD) of an entity in force on `date`.
    pub(crate) fn facilitation_quota(&self, entity: &str, date: Option<NaiveDate>) -> Option<Decimal> {
        let config = self.config_at(date)?;
        let entity = config.entities.iter().find(|e| e.id == entity)?;
        entity
            .facilitation_quota
            .iter()
            .rev()
            .find(|row| date.is_none_or(|date| row.effective <= date))
            .map(|row| row.usd_amount)
    }

    fn check_foreign_debt(&self, date: NaiveDate, loan: &Loan, base: Currency) -> Result<(), Rejection> {
        let factors = self.risk_factors(Some(date));
        let before = self.limits().debt_use(&loan.entity, base, None, &factors);
        let existing =
            self.limits().loans().filter(|other| other.entity == loan.entity && other.kind == LoanKind::ForeignDebt);
        let after = debt_use_of(existing.chain(std::iter::once(loan)), base, None, &factors);
        let cap = self.foreign_debt_cap(&loan.entity, Some(date));
        if after.weighted <= cap {
            return Ok(());
        }
        if self.facilitation_quota(&loan.entity, Some(date)).is_some_and(|quota| after.usd_total <= quota) {
            return Ok(());
        }
        let show = |amount: Decimal| at_scale(base_round(amount, base), base);
        Err(Rejection::ForeignDebtLimit {
            entity: loan.entity.clone(),
            weighted: show(after.weighted),
            cap: show(cap),
            requested: show(after.weighted - before.weighted),
            headroom: show(positive_part(cap - before.weighted)),
        })
    }

    /// A repayment of the loan named by the reference: what it pays from the
    /// borrower's accounts. With `must_name_a_loan` (a repayment across the
    /// border under the separate quota model) a reference that names no loan
    /// is refused (`unknown_loan`): money leaving as a repayment of nothing
    /// would escape the caps.
    fn repayment(
        &self,
        tx: &PostedTransaction,
        must_name_a_loan: bool,
    ) -> Result<Option<(String, Decimal)>, Rejection> {
        let Some(loan) = self.limits().loan(&tx.reference) else {
            if must_name_a_loan {
                return Err(Rejection::UnknownLoan { loan: tx.reference.clone() });
            }
            return Ok(None);
        };
        let paid: Decimal = tx
            .postings
            .iter()
            .filter(|p| p.currency == loan.currency && p.amount < Decimal::ZERO)
            .filter(|p| self.account_idx(&p.account).is_some_and(|idx| self.spec(idx).entity == loan.entity))
            .map(|p| -p.amount)
            .sum();
        let outstanding = loan.outstanding(None);
        let invalid = |message: String| Rejection::Invalid { field: "reference".into(), message };
        if paid.is_zero() {
            return Err(invalid(format!(
                "repays loan {} of {} but pays no {} from its accounts",
                tx.reference, loan.entity, loan.currency
            )));
        }
        if paid > outstanding {
            return Err(invalid(format!(
                "repays {} of loan {} but only {} is outstanding",
                format_amount(paid, loan.currency),
                tx.reference,
                format_amount(outstanding, loan.currency)
            )));
        }
        Ok(Some((tx.reference.clone(), paid)))
    }
}

/// Use, cap and headroom of one direction of the pool's caps (base currency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapUse {
    pub cap: Decimal,
    /// At the end of the day (or now).
    pub used: Decimal,
    pub headroom: Decimal,
    /// The intraday peak: the highest use the ledger measured right after a
    /// movement of `peak_date` changed it (never below the end-of-day use of
    /// an as-of view). With an as-of date, that date's; without one, the
    /// highest of any date. `None` when no movement has used the cap.
    pub peak: Option<Decimal>,
    pub peak_date: Option<NaiveDate>,
}

/// What the onshore side owes one counterparty in one currency from pool
/// movements (positive: foreign debt) or is owed by it (negative: overseas
/// lending), under the separate quota model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolBalance {
    pub counterparty: String,
    pub currency: Currency,
    /// In `currency`.
    pub amount: Decimal,
    /// At the base-currency value of the movements that made it.
    pub base: Decimal,
}

/// One entity's foreign debt (base currency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntityDebt {
    pub entity: String,
    pub foreign_debt_weighted: Decimal,
    pub cap: Decimal,
    pub headroom: Decimal,
    /// The facilitation quota in USD, if the entity has one, and its use.
    pub facilitation_quota_usd: Option<Decimal>,
    pub facilitation_used_usd: Option<Decimal>,
}

/// The pool's limits and the entities' foreign debt at a date (`cashpool limits`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LimitsView {
    pub as_of: Option<NaiveDate>,
    pub base_currency: Currency,
    /// `separate` or `net_position` (docs/LIMITS.md).
    pub quota_model: &'static str,
    pub inflow: CapUse,
    pub outflow: CapUse,
    /// The pool balances by counterparty and currency (separate model; empty under `net_position`).
    pub pool_balances: Vec<PoolBalance>,
    pub entities: Vec<EntityDebt>,
}

impl State {
    /// The use of the two caps at the end of `as_of` (or now): (inflow,
    /// outflow) and, under the separate model, the pool balances.
    fn cap_uses(&self, as_of: Option<NaiveDate>) -> (Decimal, Decimal, Vec<PoolBalance>) {
        let base = self.base_currency();
        match self.quota_model() {
            QuotaModel::NetPosition => {
                let position = self.limits().pool_position(as_of);
                (positive_part(position), positive_part(-position), Vec::new())
            }
            QuotaModel::Separate => {
                let books = match as_of {
                    None => self.limits().books().map(|(key, book)| (key.clone(), *book)).collect(),
                    Some(date) => self.limits().books_at(date),
                };
                let used = quota_use_of(
                    books.iter().map(|((_, currency), book)| (*currency, book)),
                    self.limits().loans().filter(|loan| as_of.is_none_or(|date| loan.drawn <= date)),
                    |entity| self.is_onshore_entity(entity),
                    base,
                    as_of,
                    &self.risk_factors(as_of),
                );
                let balances = books
                    .into_iter()
                    .map(|((counterparty, currency), book)| PoolBalance {
                        counterparty,
                        currency,
                        amount: book.amount,
                        base: book.base,
                    })
                    .collect();
                (used.foreign_debt, used.overseas_lending, balances)
            }
        }
    }

    /// The limits at the end of `as_of`, or now (with the latest parameters).
    pub(crate) fn limits_view(&self, as_of: Option<NaiveDate>) -> LimitsView {
        let base = self.base_currency();
        let params = match as_of {
            Some(date) => self.limits().params().pool_at(date),
            None => self.limits().params().pool_latest(),
        };
        let model = self.quota_model();
        let (inflow_used, outflow_used, pool_balances) = self.cap_uses(as_of);
        // The use at the start of the as-of date: the end of the day before.
        let before = as_of.and_then(|date| date.pred_opt()).map(|day| self.cap_uses(Some(day)));
        let peak = |pick: fn(&(Decimal, Decimal)) -> Decimal, used: Decimal| -> (Option<Decimal>, Option<NaiveDate>) {
            match as_of {
                Some(date) => {
                    let start =
                        before.as_ref().map_or(Decimal::ZERO, |(inflow, outflow, _)| pick(&(*inflow, *outflow)));
                    let during = self.limits().peak_on(date).map_or(Decimal::ZERO, |peaks| pick(&peaks));
                    (Some(start.max(during).max(used)), Some(date))
                }
                None => self
                    .limits()
                    .peaks()
                    .map(|(date, peaks)| (pick(peaks), *date))
                    .filter(|(value, _)| !value.is_zero())
                    .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
                    .map_or((None, None), |(value, date)| (Some(value), Some(date))),
            }
        };
        let cap_use = |cap: Decimal, used: Decimal, (peak, peak_date): (Option<Decimal>, Option<NaiveDate>)| {
            let cap = base_round(cap, base);
            CapUse { cap, used, headroom: positive_part(cap - used), peak, peak_date }
        };
        let inflow = cap_use(
            params.map_or(Decimal::ZERO, PoolParameters::inflow_cap),
            inflow_used,
            peak(|peaks| peaks.0, inflow_used),
        );
        let outflow = cap_use(
            params.map_or(Decimal::ZERO, PoolParameters::outflow_cap),
            outflow_used,
            peak(|peaks| peaks.1, outflow_used),
        );
        let mut entities: Vec<String> = self
            .config_at(as_of)
            .map(|config| {
                config
                    .entities
                    .iter()
                    .filter(|e| e.net_assets.is_some() || !e.facilitation_quota.is_empty())
                    .map(|e| e.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        entities.extend(
            self.limits()
                .loans()
                .filter(|loan| loan.kind == LoanKind::ForeignDebt && self.is_onshore_entity(&loan.entity))
                .map(|loan| loan.entity.clone()),
        );
        entities.sort();
        entities.dedup();
        let entities = entities
            .into_iter()
            .map(|entity| {
                let debt = self.limits().debt_use(&entity, base, as_of, &self.risk_factors(as_of));
                let cap = base_round(self.foreign_debt_cap(&entity, as_of), base);
                let quota = self.facilitation_quota(&entity, as_of);
                EntityDebt {
                    headroom: positive_part(cap - debt.weighted),
                    foreign_debt_weighted: debt.weighted,
                    cap,
                    facilitation_used_usd: quota.map(|_| debt.usd_total),
                    facilitation_quota_usd: quota,
                    entity,
                }
            })
            .collect();
        LimitsView { as_of, base_currency: base, quota_model: model.as_str(), inflow, outflow, pool_balances, entities }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Issue 15, defect 5: "up to one year" is by calendar date (银发〔2016〕132号, 期限风险转换因子:
    /// 还款期限在1年（含）以下的为1.5), so a one-year loan spanning 29 February is short-term.
    #[test]
    fn a_year_is_a_calendar_year() {
        #[rustfmt::skip]
        let cases = [
            (d(2027, 3, 1), 366, true),   // to 2028-03-01: spans 2028-02-29, exactly one year
            (d(2027, 3, 1), 367, false),
            (d(2026, 3, 1), 365, true),   // to 2027-03-01
            (d(2026, 3, 1), 366, false),
            (d(2028, 2, 29), 365, true),  // to 2029-02-28, the same date a year later
            (d(2028, 2, 29), 366, false),
            (d(2027, 12, 31), 366, true), // to 2028-12-31
            (d(2026, 1, 1), 0, true),
        ];
        for (drawn, term, short) in cases {
            assert_eq!(is_short_term(drawn, term), short, "{drawn} + {term} days");
            let factor = if short { Decimal::new(15, 1) } else { Decimal::ONE };
            assert_eq!(maturity_factor(drawn, term, &RiskFactors::published()), factor, "{drawn} + {term} days");
        }
        assert!(!is_short_term(NaiveDate::MAX, 1));
    }

    /// Issue 15, defect 5: the FX factor is for foreign currency, i.e. not RMB, whatever the base.
    #[test]
    fn the_fx_factor_is_for_currencies_other_than_rmb() {
        for (code, bears) in [("CNY", false), ("USD", true), ("EUR", true), ("HKD", true), ("JPY", true)] {
            assert_eq!(bears_fx_factor(Currency::from_code(code).unwrap()), bears, "{code}");
        }
        // With a USD base, RMB debt bears no FX factor and USD debt does.
        let usd = Currency::from_code("USD").unwrap();
        let cny = Currency::from_code("CNY").unwrap();
        let loan = |currency: Currency| Loan {
            kind: LoanKind::ForeignDebt,
            entity: "E".into(),
            drawn: d(2026, 3, 2),
            currency,
            principal: Decimal::new(100_000, 2),
            term_days: 730,
            base_rate: Decimal::ONE,
            usd_base_rate: None,
            repayments: Vec::new(),
        };
        // 1,000.00 at rate 1 × maturity 1 (two years): 1,000.00; + 0.5 × 1,000.00 for USD.
        assert_eq!(
            debt_use_of([loan(cny)].iter(), usd, None, &RiskFactors::published()).weighted,
            Decimal::new(100_000, 2)
        );
        assert_eq!(
            debt_use_of([loan(usd)].iter(), usd, None, &RiskFactors::published()).weighted,
            Decimal::new(150_000, 2)
        );
    }
}
