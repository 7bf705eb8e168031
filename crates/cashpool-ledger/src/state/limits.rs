//! The `limits` part: the dated regulatory parameters (from the group
//! definition and every `limits_set`), the pool's counted cross-border flows
//! and the entities' foreign-debt loans. The rules that decide what a
//! transaction changes here are in `crate::limits`; this part keeps what they
//! decided ([`Limits::apply_effects`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::snapshot::{amount_of, date_of, day, Exact, LimitsSnap, LoanSnap, MoveSnap};
use crate::config::{GroupConfig, QuotaModel, Residence, RiskFactors};
use crate::digest::{amount, date, dec, finish, line, string};
use crate::journal::v2::{pool_row_of, pool_row_rec, Dec};
use crate::journal::{EntryHash, PostedTransaction};
use crate::limits::{
    debt_use_of, positive_part, quota_use_of, Book, DebtUse, Effects, LimitsChange, Loan, LoanKind, PoolMove,
    PoolParameters,
};
use crate::money::Currency;

/// Dated parameters: from the group definition, then `LimitsSet` entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parameters {
    /// Sorted by effective date, no two on one date.
    pool: Vec<PoolParameters>,
    /// (effective, parameter), sorted, no two on one date.
    macro_prudential: Vec<(NaiveDate, Decimal)>,
}

impl Parameters {
    pub(crate) fn from_config(config: &GroupConfig) -> Parameters {
        Parameters {
            pool: config
                .pool
                .limits
                .iter()
                .map(|row| PoolParameters {
                    effective: row.effective,
                    owners_equity: row.owners_equity,
                    inflow_leverage: row.inflow_leverage,
                    inflow_parameter: row.inflow_parameter,
                    outflow_coefficient: row.outflow_coefficient,
                })
                .collect(),
            macro_prudential: config.macro_prudential.iter().map(|row| (row.effective, row.parameter)).collect(),
        }
    }

    /// The pool parameters in force on `date`.
    pub(crate) fn pool_at(&self, date: NaiveDate) -> Option<&PoolParameters> {
        self.pool.iter().rev().find(|row| row.effective <= date)
    }

    /// The latest pool parameters.
    pub(crate) fn pool_latest(&self) -> Option<&PoolParameters> {
        self.pool.last()
    }

    /// The macro-prudential parameter in force on `date`.
    pub(crate) fn macro_at(&self, date: NaiveDate) -> Option<Decimal> {
        self.macro_prudential.iter().rev().find(|(effective, _)| *effective <= date).map(|(_, p)| *p)
    }

    /// The latest macro-prudential parameter.
    pub(crate) fn macro_latest(&self) -> Option<Decimal> {
        self.macro_prudential.last().map(|(_, p)| *p)
    }

    /// Adds a change; refuses a row on a date that already has one. The
    /// ledger also calls it on a copy, to check a change before journaling it.
    pub(crate) fn apply(&mut self, change: &LimitsChange) -> Result<(), String> {
        if let Some(pool) = &change.pool {
            if pool.effective != change.effective {
                return Err("the pool row's effective date differs from the change's".into());
            }
            if self.pool.iter().any(|row| row.effective == change.effective) {
                return Err(format!("a pool limits row is already in force from {}", change.effective));
            }
        }
        if change.macro_prudential.is_some()
            && self.macro_prudential.iter().any(|(effective, _)| *effective == change.effective)
        {
            return Err(format!("a macro-prudential parameter is already set from {}", change.effective));
        }
        if change.pool.is_none() && change.macro_prudential.is_none() {
            return Err("the change sets nothing".into());
        }
        if let Some(pool) = &change.pool {
            let idx = self.pool.partition_point(|row| row.effective < pool.effective);
            self.pool.insert(idx, pool.clone());
        }
        if let Some(parameter) = change.macro_prudential {
            let idx = self.macro_prudential.partition_point(|(effective, _)| *effective < change.effective);
            self.macro_prudential.insert(idx, (change.effective, parameter));
        }
        Ok(())
    }

    fn check_invariants(&self) -> Result<(), String> {
        if !self.pool.windows(2).all(|pair| pair[0].effective < pair[1].effective) {
            return Err("the pool parameter rows are not sorted by effective date, one per date".into());
        }
        if !self.macro_prudential.windows(2).all(|pair| pair[0].0 < pair[1].0) {
            return Err("the macro-prudential rows are not sorted by effective date, one per date".into());
        }
        Ok(())
    }
}

/// Adds a pool movement to the balances by counterparty and currency,
/// keeping no zero balance.
fn fold_move(books: &mut BTreeMap<(String, Currency), Book>, pool_move: &PoolMove, base: Currency) {
    let key = (pool_move.counterparty.clone(), pool_move.currency);
    let book = books.entry(key.clone()).or_default();
    book.apply(pool_move.amount, pool_move.base, base);
    if book.amount.is_zero() {
        books.remove(&key);
    }
}

/// The limit state a transaction can change: restored as a whole when an atomic batch is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LimitState {
    /// Counted cross-border movements, net per value date (never zero).
    pool_flows: BTreeMap<NaiveDate, Decimal>,
    /// Their sum: positive a net inflow, negative a net outflow.
    pool_position: Decimal,
    /// Loans by the id of the transaction that drew them.
    loans: BTreeMap<String, Loan>,
    /// Under the separate quota model: the fold of the pool movements, by
    /// counterparty and currency (zero balances are not kept).
    books: BTreeMap<(String, Currency), Book>,
    /// How many pool movements [`Limits::moves`] holds (a savepoint truncates to it).
    n_moves: usize,
    /// Per value date, the highest use of each cap (inflow, outflow) the
    /// ledger measured right after a movement of that date changed it: the
    /// intraday peak, beside the end-of-day use `limits --as-of` gives.
    peaks: BTreeMap<NaiveDate, (Decimal, Decimal)>,
}

/// The limits part.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// The group's base currency, the unit of the flows (set with the definition).
    base: Currency,
    params: Parameters,
    state: LimitState,
    /// Every pool movement (separate quota model), in journal order: kept
    /// outside [`LimitState`] so that a savepoint need not copy them.
    moves: Vec<PoolMove>,
    /// The definition's quota model and its onshore entities (whose foreign
    /// debt counts against the pool's quota), for the peaks.
    model: QuotaModel,
    onshore: BTreeSet<String>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            base: Currency::from_code("CNY").expect("CNY is an ISO currency"),
            params: Parameters::default(),
            state: LimitState::default(),
            moves: Vec::new(),
            model: QuotaModel::NetPosition,
            onshore: BTreeSet::new(),
        }
    }
}

impl Limits {
    /// The group definition's parameters and base currency.
    pub(crate) fn apply_group(&mut self, config: &GroupConfig) {
        self.base = config.group.base_currency;
        self.params = Parameters::from_config(config);
        self.set_definition(config);
    }

    /// An amendment: the entities may have changed (its parameters cannot:
    /// `limits set` changes them).
    pub(crate) fn apply_amendment(&mut self, config: &GroupConfig) {
        self.set_definition(config);
    }

    /// What the part reads of the definition besides its parameters.
    fn set_definition(&mut self, config: &GroupConfig) {
        self.model = config.pool.quota_model;
        self.onshore = config
            .entities
            .iter()
            .filter(|entity| entity.residence == Residence::Onshore)
            .map(|entity| entity.id.clone())
            .collect();
    }

    /// The use of the caps now, as the rules measure it on `date`: (inflow, outflow).
    fn live_use(&self, factors: &RiskFactors) -> (Decimal, Decimal) {
        match self.model {
            QuotaModel::NetPosition => {
                let position = self.state.pool_position;
                (positive_part(position), positive_part(-position))
            }
            QuotaModel::Separate => {
                let used = quota_use_of(
                    self.state.books.iter().map(|((_, currency), book)| (*currency, book)),
                    self.state.loans.values(),
                    |entity| self.onshore.contains(entity),
                    self.base,
                    None,
                    factors,
                );
                (used.foreign_debt, used.overseas_lending)
            }
        }
    }

    /// The intraday peak of each cap's use on `date` (inflow, outflow), if a
    /// movement of that date changed a use.
    pub(crate) fn peak_on(&self, date: NaiveDate) -> Option<(Decimal, Decimal)> {
        self.state.peaks.get(&date).copied()
    }

    /// Every date's intraday peaks.
    pub(crate) fn peaks(&self) -> impl Iterator<Item = (&NaiveDate, &(Decimal, Decimal))> + '_ {
        self.state.peaks.iter()
    }

    /// A `limits_set` entry: positive values, no second row on a date.
    pub(crate) fn apply_change(&mut self, change: &LimitsChange) -> Result<(), String> {
        crate::limits::check_change_values(change)?;
        self.params.apply(change)
    }

    /// What a checked transaction changes here: the pool flow, the loan it
    /// draws or the repayment of one.
    /// `factors`: the risk factors in force on the transaction's value date, which weigh the peak.
    pub(crate) fn apply_effects(&mut self, tx: &PostedTransaction, effects: &Effects, factors: &RiskFactors) {
        let state = &mut self.state;
        if let Some(flow) = effects.pool_flow {
            state.pool_position += flow;
            let day = state.pool_flows.entry(tx.value_date).or_insert(Decimal::ZERO);
            *day += flow;
            if day.is_zero() {
                state.pool_flows.remove(&tx.value_date);
            }
        }
        if let Some(loan) = &effects.drawdown {
            state.loans.insert(tx.id.clone(), loan.clone());
        }
        if let Some((loan_id, amount)) = &effects.repayment {
            let loan = state.loans.get_mut(loan_id).expect("checked: the loan exists");
            loan.repayments.push((tx.value_date, *amount));
        }
        if let Some(pool_move) = &effects.pool_move {
            fold_move(&mut state.books, pool_move, self.base);
            self.moves.push(pool_move.clone());
            state.n_moves = self.moves.len();
        }
        let counted = match self.model {
            QuotaModel::NetPosition => effects.pool_flow.is_some(),
            QuotaModel::Separate => {
                effects.pool_move.is_some() || effects.drawdown.is_some() || effects.repayment.is_some()
            }
        };
        if counted {
            let (inflow, outflow) = self.live_use(factors);
            let peak = self.state.peaks.entry(tx.value_date).or_insert((Decimal::ZERO, Decimal::ZERO));
            *peak = (peak.0.max(inflow), peak.1.max(outflow));
        }
    }

    /// Restores the limit state a savepoint took with [`Limits::state`] (a rolled-back plan).
    pub(crate) fn undo(&mut self, before: LimitState) {
        self.moves.truncate(before.n_moves);
        self.state = before;
    }

    /// The pool balances by counterparty and currency (separate quota model).
    pub(crate) fn books(&self) -> impl Iterator<Item = (&(String, Currency), &Book)> + '_ {
        self.state.books.iter()
    }

    /// The pool balances at the end of `as_of`: the fold of the movements
    /// value-dated up to it, in journal order.
    pub(crate) fn books_at(&self, as_of: NaiveDate) -> BTreeMap<(String, Currency), Book> {
        let mut books: BTreeMap<(String, Currency), Book> = BTreeMap::new();
        for pool_move in self.moves.iter().filter(|pool_move| pool_move.date <= as_of) {
            fold_move(&mut books, pool_move, self.base);
        }
        books
    }

    /// Every loan with its id.
    pub(crate) fn loan_entries(&self) -> impl Iterator<Item = (&String, &Loan)> + '_ {
        self.state.loans.iter()
    }

    /// The dated parameters.
    pub(crate) fn params(&self) -> &Parameters {
        &self.params
    }

    /// The flows and loans, for a savepoint.
    pub(crate) fn state(&self) -> &LimitState {
        &self.state
    }

    /// The pool position at the end of `as_of` (or now).
    pub(crate) fn pool_position(&self, as_of: Option<NaiveDate>) -> Decimal {
        match as_of {
            None => self.state.pool_position,
            Some(date) => self.state.pool_flows.range(..=date).map(|(_, flow)| *flow).sum(),
        }
    }

    /// The loan drawn by transaction `id`.
    pub(crate) fn loan(&self, id: &str) -> Option<&Loan> {
        self.state.loans.get(id)
    }

    /// Every loan, by the id of the transaction that drew it.
    pub(crate) fn loans(&self) -> impl Iterator<Item = &Loan> + '_ {
        self.state.loans.values()
    }

    /// The risk-weighted foreign-debt balance of `entity` (DOMAIN §3), in the base currency.
    pub(crate) fn debt_use(
        &self,
        entity: &str,
        base: Currency,
        as_of: Option<NaiveDate>,
        factors: &RiskFactors,
    ) -> DebtUse {
        debt_use_of(
            self.loans().filter(|loan| loan.entity == entity && loan.kind == LoanKind::ForeignDebt),
            base,
            as_of,
            factors,
        )
    }

    /// Parameters sorted, one per date; the position is the sum of the flows
    /// and no zero flow is kept; every loan lent something and is repaid at
    /// most in full.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        self.params.check_invariants()?;
        let state = &self.state;
        if let Some(day) = state.pool_flows.iter().find(|(_, flow)| flow.is_zero()).map(|(day, _)| day) {
            return Err(format!("a zero pool flow is kept for {day}"));
        }
        let sum = state.pool_flows.values().try_fold(Decimal::ZERO, |sum, flow| sum.checked_add(*flow));
        if sum != Some(state.pool_position) {
            return Err(format!("the pool position {} is not the sum of the flows {sum:?}", state.pool_position));
        }
        if state.n_moves != self.moves.len() {
            return Err(format!("{} pool movements are kept, the state counts {}", self.moves.len(), state.n_moves));
        }
        let mut books: BTreeMap<(String, Currency), Book> = BTreeMap::new();
        for pool_move in &self.moves {
            fold_move(&mut books, pool_move, self.base);
        }
        if books != state.books {
            return Err("the pool balances are not the fold of the pool movements".into());
        }
        for (id, loan) in &state.loans {
            if loan.principal <= Decimal::ZERO {
                return Err(format!("loan {id}: principal {} is not positive", loan.principal));
            }
            if loan.outstanding(None) < Decimal::ZERO {
                return Err(format!("loan {id}: repaid more than its principal {}", loan.principal));
            }
        }
        Ok(())
    }

    /// The part as the state snapshot keeps it: the parameters as the journal
    /// records them, the flows, the position and the loans exactly.
    pub(crate) fn snapshot(&self) -> LimitsSnap {
        let state = &self.state;
        LimitsSnap {
            base: self.base.code().to_string(),
            pool: self.params.pool.iter().map(pool_row_rec).collect(),
            macro_prudential: self.params.macro_prudential.iter().map(|(date, p)| (day(*date), Dec(*p))).collect(),
            flows: state.pool_flows.iter().map(|(date, flow)| (day(*date), Exact::of(*flow))).collect(),
            position: Exact::of(state.pool_position),
            peaks: state
                .peaks
                .iter()
                .map(|(date, (inflow, outflow))| (day(*date), Exact::of(*inflow), Exact::of(*outflow)))
                .collect(),
            moves: self
                .moves
                .iter()
                .map(|pool_move| MoveSnap {
                    date: day(pool_move.date),
                    counterparty: pool_move.counterparty.clone(),
                    currency: pool_move.currency.code().to_string(),
                    amount: Exact::of(pool_move.amount),
                    base: Exact::of(pool_move.base),
                })
                .collect(),
            loans: state
                .loans
                .iter()
                .map(|(id, loan)| LoanSnap {
                    id: id.clone(),
                    overseas: loan.kind == LoanKind::OverseasLending,
                    entity: loan.entity.clone(),
                    drawn: day(loan.drawn),
                    currency: loan.currency.code().to_string(),
                    principal: Exact::of(loan.principal),
                    term_days: loan.term_days,
                    base_rate: Dec(loan.base_rate),
                    usd_base_rate: loan.usd_base_rate.map(Dec),
                    repayments: loan.repayments.iter().map(|(date, paid)| (day(*date), Exact::of(*paid))).collect(),
                })
                .collect(),
        }
    }

    /// The part a snapshot kept; every amount at its currency's minor units.
    pub(crate) fn restore(snap: LimitsSnap, config: Option<&GroupConfig>) -> Result<Limits, String> {
        let currency = |code: &str| Currency::from_code(code).ok_or_else(|| format!("unknown currency {code:?}"));
        let dated = |rows: Vec<(i32, Exact)>, currency: Currency| -> Result<Vec<(NaiveDate, Decimal)>, String> {
            rows.into_iter()
                .map(|(day_number, value)| Ok((date_of(day_number)?, amount_of(value, currency)?)))
                .collect()
        };
        let base = currency(&snap.base)?;
        let mut loans = BTreeMap::new();
        for loan in snap.loans {
            let loan_currency = currency(&loan.currency)?;
            let restored = Loan {
                kind: if loan.overseas { LoanKind::OverseasLending } else { LoanKind::ForeignDebt },
                entity: loan.entity,
                drawn: date_of(loan.drawn)?,
                currency: loan_currency,
                principal: amount_of(loan.principal, loan_currency)?,
                term_days: loan.term_days,
                base_rate: loan.base_rate.0,
                usd_base_rate: loan.usd_base_rate.map(|rate| rate.0),
                repayments: dated(loan.repayments, loan_currency)?,
            };
            if loans.insert(loan.id.clone(), restored).is_some() {
                return Err(format!("loan {} is kept twice", loan.id));
            }
        }
        let flows = dated(snap.flows, base)?;
        let n_flows = flows.len();
        let pool_flows: BTreeMap<NaiveDate, Decimal> = flows.into_iter().collect();
        if pool_flows.len() != n_flows {
            return Err("two pool flows on one date".into());
        }
        let macro_prudential = snap
            .macro_prudential
            .into_iter()
            .map(|(day_number, parameter)| Ok((date_of(day_number)?, parameter.0)))
            .collect::<Result<_, String>>()?;
        let mut moves = Vec::with_capacity(snap.moves.len());
        let mut books: BTreeMap<(String, Currency), Book> = BTreeMap::new();
        for pool_move in snap.moves {
            let move_currency = currency(&pool_move.currency)?;
            let restored = PoolMove {
                date: date_of(pool_move.date)?,
                counterparty: pool_move.counterparty,
                currency: move_currency,
                amount: amount_of(pool_move.amount, move_currency)?,
                base: amount_of(pool_move.base, base)?,
            };
            fold_move(&mut books, &restored, base);
            moves.push(restored);
        }
        let mut peaks = BTreeMap::new();
        for (day_number, inflow, outflow) in snap.peaks {
            if peaks.insert(date_of(day_number)?, (amount_of(inflow, base)?, amount_of(outflow, base)?)).is_some() {
                return Err("two peaks on one date".into());
            }
        }
        let mut limits = Limits {
            base,
            params: Parameters { pool: snap.pool.into_iter().map(pool_row_of).collect(), macro_prudential },
            state: LimitState {
                pool_flows,
                pool_position: amount_of(snap.position, base)?,
                loans,
                books,
                n_moves: moves.len(),
                peaks,
            },
            moves,
            model: QuotaModel::NetPosition,
            onshore: BTreeSet::new(),
        };
        if let Some(config) = config {
            limits.set_definition(config);
        }
        Ok(limits)
    }

    /// The pool rows, the macro-prudential rows, the non-zero flows by date,
    /// the loans by id with their repayments.
    pub(crate) fn digest(&self) -> EntryHash {
        let mut hasher = Sha256::new();
        for row in &self.params.pool {
            line(
                &mut hasher,
                &[
                    string("pool"),
                    date(row.effective),
                    dec(row.owners_equity),
                    dec(row.inflow_leverage),
                    dec(row.inflow_parameter),
                    dec(row.outflow_coefficient),
                ],
            );
        }
        for (effective, parameter) in &self.params.macro_prudential {
            line(&mut hasher, &[string("macro_prudential"), date(*effective), dec(*parameter)]);
        }
        for (day, flow) in &self.state.pool_flows {
            line(&mut hasher, &[string("flow"), date(*day), amount(*flow, self.base)]);
        }
        for pool_move in &self.moves {
            line(
                &mut hasher,
                &[
                    string("move"),
                    date(pool_move.date),
                    string(&pool_move.counterparty),
                    string(pool_move.currency.code()),
                    amount(pool_move.amount, pool_move.currency),
                    amount(pool_move.base, self.base),
                ],
            );
        }
        for (id, loan) in &self.state.loans {
            let repayments: Vec<String> = loan
                .repayments
                .iter()
                .map(|(day, paid)| format!("[{},{}]", date(*day), amount(*paid, loan.currency)))
                .collect();
            let mut fields = vec![
                string("loan"),
                string(id),
                string(&loan.entity),
                string(loan.currency.code()),
                amount(loan.principal, loan.currency),
                date(loan.drawn),
                loan.term_days.to_string(),
                dec(loan.base_rate),
                loan.usd_base_rate.map_or("null".into(), dec),
                format!("[{}]", repayments.join(",")),
            ];
            if loan.kind == LoanKind::OverseasLending {
                // Only an overseas loan says so: a foreign-debt loan's line is as it always was.
                fields.push(string("overseas_lending"));
            }
            line(&mut hasher, &fields);
        }
        finish(hasher)
    }

    /// The base currency the flows are in.
    pub(crate) fn base_currency(&self) -> Currency {
        self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn flow(day: u32, amount: Decimal) -> (PostedTransaction, Effects) {
        let tx = PostedTransaction {
            id: format!("T{day}"),
            value_date: NaiveDate::from_ymd_opt(2026, 3, day).unwrap(),
            purpose: crate::model::Purpose::PoolFunding,
            reference: String::new(),
            memo: String::new(),
            postings: Vec::new(),
            rate: None,
            term_days: None,
            lender: None,
            classification: crate::model::Classification::CrossBorder,
            operator: String::new(),
            effects: None,
        };
        (tx, Effects { pool_flow: Some(amount), ..Effects::default() })
    }

    #[test]
    fn the_position_is_the_sum_of_the_flows_and_undo_restores_it() {
        let mut limits = Limits::default();
        let before = limits.state().clone();
        for (day, amount) in [(2, dec!(100.00)), (2, dec!(-100.00)), (3, dec!(40.00))] {
            let (tx, effects) = flow(day, amount);
            limits.apply_effects(&tx, &effects, &RiskFactors::published());
            limits.check_invariants().unwrap();
        }
        assert_eq!(limits.pool_position(None), dec!(40.00));
        assert_eq!(limits.pool_position(NaiveDate::from_ymd_opt(2026, 3, 2)), Decimal::ZERO);
        limits.undo(before.clone());
        assert_eq!(*limits.state(), before);
        let mut broken = limits.clone();
        broken.state.pool_position = dec!(1.00);
        let reason = broken.check_invariants().unwrap_err();
        assert!(reason.contains("is not the sum of the flows"), "{reason}");
    }
}
