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

/// A foreign-debt loan of one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Loan {
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

/// Maturity factor of DOMAIN §3: 1.5 for a term of at most a year, else 1.
pub(crate) fn maturity_factor(term_days: u32) -> Decimal {
    if term_days <= 365 {
        Decimal::new(15, 1)
    } else {
        Decimal::ONE
    }
}

/// The FX factor added for foreign-currency debt (DOMAIN §3).
pub(crate) fn fx_factor() -> Decimal {
    Decimal::new(5, 1)
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

/// The risk-weighted balance (DOMAIN §3) and USD total of some loans, in the base currency.
pub(crate) fn debt_use_of<'l>(
    loans: impl Iterator<Item = &'l Loan>,
    base: Currency,
    as_of: Option<NaiveDate>,
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
        weighted += principal_base * maturity_factor(loan.term_days);
        if loan.currency != base {
            weighted += principal_base * fx_factor();
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
}

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
        if let Some(flow) = effects.pool_flow {
            self.check_pool_caps(tx.value_date, flow, base)?;
        }
        if tx.purpose == Purpose::ForeignDebt && self.has_external(tx) {
            let loan = self.drawdown(tx, base)?;
            self.check_foreign_debt(tx.value_date, &loan, base)?;
            effects.drawdown = Some(loan);
        }
        if tx.purpose == Purpose::LoanRepayment {
            effects.repayment = self.repayment(tx)?;
        }
        Ok(effects)
    }

    fn has_external(&self, tx: &PostedTransaction) -> bool {
        tx.postings.iter().any(|posting| {
            self.account_idx(&posting.account).is_some_and(|idx| self.spec(idx).kind == AccountKind::External)
        })
    }

    fn check_second_line(&self, tx: &PostedTransaction) -> Result<(), Rejection> {
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
            .config()
            .is_some_and(|config| config.entities.iter().any(|e| e.id == entity && !e.facilitation_quota.is_empty()));
        let usd_base_rate = if has_quota { Some(self.base_rate(usd, market, tx.value_date, base)?) } else { None };
        Ok(Loan {
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
            .config()
            .and_then(|config| config.entities.iter().find(|e| e.id == entity))
            .and_then(|e| e.net_assets)
            .unwrap_or(Decimal::ZERO);
        let parameter = match date {
            Some(date) => self.limits().params().macro_at(date),
            None => self.limits().params().macro_latest(),
        };
        net_assets * Decimal::TWO * parameter.unwrap_or(Decimal::ZERO)
    }

    /// The facilitation quota (USD) of an entity in force on `date`.
    pub(crate) fn facilitation_quota(&self, entity: &str, date: Option<NaiveDate>) -> Option<Decimal> {
        let config = self.config()?;
        let entity = config.entities.iter().find(|e| e.id == entity)?;
        entity
            .facilitation_quota
            .iter()
            .rev()
            .find(|row| date.is_none_or(|date| row.effective <= date))
            .map(|row| row.usd_amount)
    }

    fn check_foreign_debt(&self, date: NaiveDate, loan: &Loan, base: Currency) -> Result<(), Rejection> {
        let before = self.limits().debt_use(&loan.entity, base, None);
        let existing = self.limits().loans().filter(|other| other.entity == loan.entity);
        let after = debt_use_of(existing.chain(std::iter::once(loan)), base, None);
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

    /// A repayment of the loan named by the reference: what it pays from the borrower's accounts.
    fn repayment(&self, tx: &PostedTransaction) -> Result<Option<(String, Decimal)>, Rejection> {
        let Some(loan) = self.limits().loan(&tx.reference) else {
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
    pub used: Decimal,
    pub headroom: Decimal,
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
    pub inflow: CapUse,
    pub outflow: CapUse,
    pub entities: Vec<EntityDebt>,
}

impl State {
    /// The limits at the end of `as_of`, or now (with the latest parameters).
    pub(crate) fn limits_view(&self, as_of: Option<NaiveDate>) -> LimitsView {
        let base = self.base_currency();
        let params = match as_of {
            Some(date) => self.limits().params().pool_at(date),
            None => self.limits().params().pool_latest(),
        };
        let position = self.limits().pool_position(as_of);
        let cap_use = |cap: Decimal, used: Decimal| {
            let cap = base_round(cap, base);
            CapUse { cap, used, headroom: positive_part(cap - used) }
        };
        let inflow = cap_use(params.map_or(Decimal::ZERO, PoolParameters::inflow_cap), positive_part(position));
        let outflow = cap_use(params.map_or(Decimal::ZERO, PoolParameters::outflow_cap), positive_part(-position));
        let mut entities: Vec<String> = self
            .config()
            .map(|config| {
                config
                    .entities
                    .iter()
                    .filter(|e| e.net_assets.is_some() || !e.facilitation_quota.is_empty())
                    .map(|e| e.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        entities.extend(self.limits().loans().map(|loan| loan.entity.clone()));
        entities.sort();
        entities.dedup();
        let entities = entities
            .into_iter()
            .map(|entity| {
                let debt = self.limits().debt_use(&entity, base, as_of);
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
        LimitsView { as_of, base_currency: base, inflow, outflow, entities }
    }
}
