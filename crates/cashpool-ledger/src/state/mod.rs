//! The state a journal folds into, in parts (docs/FORMATS.md, "The state
//! digest"): the group definition and accounts, balances, transactions,
//! rates, limits, sweeps, interest, netting and the bank inbox, each a module
//! here with private fields, its own `apply`, its own invariant checks and
//! its own digest; and the head of the chain. [`State::apply_entry_with`]
//! hands each entry to the part(s) it concerns; the rules that read several
//! parts (classification and the pool rules in `limits.rs`, sweep planning,
//! interest accrual, netting cycles) are `impl State` blocks in their own
//! files and read the parts through their methods.
//!
//! The live path and replay share one fold: [`State::check_transaction`] then
//! [`State::apply_transaction`]. A journal entry that fails the check on
//! replay is an integrity failure, so a regulator's replay re-proves every
//! rule the operator's ledger enforced when it posted.

mod balances;
mod calendars;
mod definition;
mod interest;
mod limits;
mod netting;
mod rates;
mod rejection;
mod running_hash;
pub(crate) mod snapshot;
mod statements;
mod sweeps;
mod transactions;

use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::config::GroupConfig;
use crate::journal::{Entry, EntryBody, EntryHash, PostedTransaction};
use crate::limits::Effects;
use crate::model::{AccountSpec, SYS_FX_POSITION};
use crate::money::{at_scale, Currency};

pub(crate) use balances::Balances;
pub(crate) use calendars::Calendars;
pub(crate) use definition::Definition;
pub(crate) use interest::Interest;
pub(crate) use limits::{LimitState, Limits};
pub(crate) use netting::Netting;
pub(crate) use rates::Rates;
pub use rejection::{FlowDirection, Rejection};
pub(crate) use statements::Statements;
pub(crate) use sweeps::Sweeps;
pub(crate) use transactions::TransactionsMark;
pub(crate) use transactions::{fingerprint, IdRecord, Transactions};

/// One applied posting, to undo it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Applied {
    pub(crate) account_idx: u32,
    pub(crate) currency: Currency,
    pub(crate) value_date: NaiveDate,
    pub(crate) amount: Decimal,
}

/// A SHA-256 digest of the whole state: identical for identical journals on any machine.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct StateDigest(pub EntryHash);

impl fmt::Display for StateDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_hex())
    }
}

impl fmt::Debug for StateDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_hex())
    }
}

/// The folded journal: its parts, in the order of the state digest, and the head.
#[derive(Debug, Clone)]
pub(crate) struct State {
    definition: Definition,
    balances: Balances,
    transactions: Transactions,
    rates: Rates,
    limits: Limits,
    sweeps: Sweeps,
    interest: Interest,
    netting: Netting,
    statements: Statements,
    /// The business-day calendars (a tenth part, in the digest only once it holds a day).
    calendars: Calendars,
    /// The last entry applied (0 and [`EntryHash::GENESIS`] before the first).
    head_seq: u64,
    head_hash: EntryHash,
}

impl State {
    /// An empty state; `with_id_index`: keep the idempotency index (a flat-memory replay does not).
    pub(crate) fn new(with_id_index: bool) -> State {
        State {
            definition: Definition::default(),
            balances: Balances::default(),
            transactions: Transactions::new(with_id_index),
            rates: Rates::default(),
            limits: Limits::default(),
            sweeps: Sweeps::default(),
            interest: Interest::default(),
            netting: Netting::default(),
            statements: Statements::default(),
            calendars: Calendars::default(),
            head_seq: 0,
            head_hash: EntryHash::GENESIS,
        }
    }

    /// The group definition and the accounts.
    pub(crate) fn definition(&self) -> &Definition {
        &self.definition
    }

    /// The balances.
    pub(crate) fn balances(&self) -> &Balances {
        &self.balances
    }

    /// The transactions (count, idempotency index).
    /// Leaves the ids of entries up to `through` (`count` of them) to the
    /// on-disk id index; set on an empty state, before folding.
    pub(crate) fn index_ids_through(&mut self, through: u64, count: u64, postings: u64) {
        self.transactions.index_through(through, count, postings);
    }

    /// A state folded without ids (a reader's) keeps the ids of the entries
    /// applied from now on; those before are left to the journal.
    pub(crate) fn keep_ids_after_head(&mut self) {
        self.transactions.keep_ids_after(self.head_seq());
    }

    /// The on-disk indexes now hold the ids and postings of entries up to
    /// `through` (`count` ids and `postings` postings in all).
    pub(crate) fn ids_indexed(&mut self, through: u64, count: u64, postings: u64) {
        self.transactions.indexed(through, count, postings);
    }

    pub(crate) fn transactions(&self) -> &Transactions {
        &self.transactions
    }

    /// The imported FX rates.
    pub(crate) fn rates(&self) -> &Rates {
        &self.rates
    }

    /// The parameters, the pool flows and the loans.
    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The sweep runs.
    pub(crate) fn sweeps(&self) -> &Sweeps {
        &self.sweeps
    }

    /// The settled interest periods and the rounding carry.
    pub(crate) fn interest(&self) -> &Interest {
        &self.interest
    }

    /// The netting cycles and the netted invoices.
    pub(crate) fn netting(&self) -> &Netting {
        &self.netting
    }

    /// The bank inbox.
    pub(crate) fn statements(&self) -> &Statements {
        &self.statements
    }

    /// The business-day calendars.
    pub(crate) fn calendars(&self) -> &Calendars {
        &self.calendars
    }

    /// The sequence number of the last entry applied (0 for none).
    pub(crate) fn head_seq(&self) -> u64 {
        self.head_seq
    }

    /// The hash of the last entry applied ([`EntryHash::GENESIS`] for none).
    pub(crate) fn head_hash(&self) -> EntryHash {
        self.head_hash
    }

    /// The group definition (`None` before entry 1).
    pub(crate) fn config(&self) -> Option<&Arc<GroupConfig>> {
        self.definition.config()
    }

    /// The group definition in force on `date` (`None` before entry 1).
    pub(crate) fn config_on(&self, date: NaiveDate) -> Option<&Arc<GroupConfig>> {
        self.definition.config_on(date)
    }

    /// The group's base currency (CNY before the group is defined).
    pub(crate) fn base_currency(&self) -> Currency {
        self.definition.base_currency()
    }

    /// The index of the account `id`.
    pub(crate) fn account_idx(&self, id: &str) -> Option<u32> {
        self.definition.account_idx(id)
    }

    /// The account at `idx`.
    pub(crate) fn spec(&self, idx: u32) -> &AccountSpec {
        self.definition.spec(idx)
    }

    /// The number of transactions posted.
    pub(crate) fn n_transactions(&self) -> u64 {
        self.transactions.n_transactions()
    }

    /// Applies a journal entry read back (replay, open): every check of the live path runs again.
    pub(crate) fn apply_entry(&mut self, entry: &Entry, hash: EntryHash) -> Result<(), String> {
        self.apply_entry_with(entry, hash, |_| {})
    }

    /// [`State::apply_entry`], with `on_posting` seeing each posting a transaction applies.
    /// Hands the entry to the part(s) it concerns; nothing is changed when it fails.
    pub(crate) fn apply_entry_with(
        &mut self,
        entry: &Entry,
        hash: EntryHash,
        on_posting: impl FnMut(Applied),
    ) -> Result<(), String> {
        match &entry.body {
            EntryBody::GroupDefined { config_toml } => {
                self.definition.apply_group_toml(entry.seq, config_toml)?;
                self.limits.apply_group(self.definition.config().expect("the group was just defined"));
            }
            EntryBody::GroupRecord(config) => {
                self.definition.apply_group(entry.seq, config)?;
                self.limits.apply_group(config);
            }
            EntryBody::AccountOpened(spec) => {
                let idx = self.definition.apply_account(spec)?;
                let balances_idx = self.balances.apply_account(&spec.id);
                assert_eq!(idx, balances_idx, "the definition and the balances index accounts alike");
            }
            EntryBody::Transaction(tx) => {
                if self.transactions.contains(&tx.id) {
                    return Err(format!("transaction id {:?} appears twice", tx.id));
                }
                let effects =
                    self.check_transaction(tx).map_err(|rejection| format!("transaction {}: {rejection}", tx.id))?;
                if let Some(recorded) = &tx.effects {
                    let derived = self.tx_effects(&effects);
                    if *recorded != derived {
                        return Err(format!(
                            "transaction {}: the recorded effects on the pool's limits {recorded:?} are not the rules' {derived:?}",
                            tx.id
                        ));
                    }
                }
                self.apply_transaction(tx, &effects, entry.seq, hash, on_posting);
            }
            EntryBody::RatesImported { rows } => {
                if !self.definition.is_defined() {
                    return Err("rates are imported before the group definition".into());
                }
                self.rates.apply(rows, self.definition.base_currency())?;
            }
            EntryBody::BenchmarksImported { rows } => {
                if !self.definition.is_defined() {
                    return Err("benchmark fixings are imported before the group definition".into());
                }
                self.rates.apply_benchmarks(rows)?;
            }
            EntryBody::LimitsSet(change) => {
                if !self.definition.is_defined() {
                    return Err("limits are set before the group definition".into());
                }
                self.limits.apply_change(change)?;
            }
            EntryBody::InterestSettled(run) => {
                let recorded = entry.format == crate::journal::FormatVersion::V2;
                self.interest.apply(run, recorded, entry.seq, hash)?;
            }
            EntryBody::NettingCycle(run) => {
                self.netting.apply(run, entry.seq, hash)?;
            }
            EntryBody::StatementImported(imported) => {
                if !self.definition.is_defined() {
                    return Err("a statement is imported before the group definition".into());
                }
                let account = self.definition.statement_account(&imported.statement);
                self.statements.apply(imported, account, entry.seq)?;
            }
            EntryBody::SweepRun(run) => {
                self.sweeps.apply(run, entry.seq, hash)?;
            }
            EntryBody::Amended(amendment) => {
                self.check_amendment(amendment).map_err(|rejection| rejection.to_string())?;
                self.definition.apply_amendment(amendment.effective, &amendment.config)?;
                self.limits.apply_amendment(&amendment.config);
            }
            EntryBody::CalendarImported(import) => {
                if !self.definition.is_defined() {
                    return Err("calendars are imported before the group definition".into());
                }
                self.calendars.apply(import)?;
            }
        }
        self.move_head(entry.seq, hash);
        Ok(())
    }

    /// Moves the head to the entry just applied. In debug and test builds,
    /// checks every part's invariants after every entry (O(state), so not on
    /// the release hot path: there a replay checks them once, at the end).
    pub(crate) fn move_head(&mut self, seq: u64, hash: EntryHash) {
        self.head_seq = seq;
        self.head_hash = hash;
        #[cfg(debug_assertions)]
        self.assert_invariants();
    }

    /// Puts the head back where a savepoint found it (a rolled-back plan),
    /// once every part is restored; checked as [`State::move_head`] is.
    pub(crate) fn rewind_head(&mut self, seq: u64, hash: EntryHash) {
        self.transactions.forget_after(seq);
        self.head_seq = seq;
        self.head_hash = hash;
        #[cfg(debug_assertions)]
        self.assert_invariants();
    }

    /// The ledger account whose `bank_id` (and BIC, where both name one) the statement names.
    pub(crate) fn statement_account(&self, statement: &crate::bank::BankStatement) -> Option<String> {
        self.definition.statement_account(statement)
    }

    /// The ledger account a statement belongs to and whether it is new or a
    /// conflicting copy; an exact copy of an imported statement is an error.
    pub(crate) fn classify_statement(
        &self,
        statement: &crate::bank::BankStatement,
        content_hash: EntryHash,
    ) -> Result<(Option<String>, crate::bank::ImportStatus), String> {
        let account = self.statement_account(statement);
        let status = self.statements.status(statement, content_hash)?;
        Ok((account, status))
    }

    /// The checks every posted transaction passes, live and on replay.
    pub(crate) fn check_transaction(&self, tx: &PostedTransaction) -> Result<Effects, Rejection> {
        if tx.postings.is_empty() {
            return Err(Rejection::Empty);
        }
        if tx.postings.len() > crate::tx::POSTINGS_MAX {
            return Err(Rejection::PostingLimit { postings: tx.postings.len(), max: crate::tx::POSTINGS_MAX });
        }
        // Net change per (account, currency), in first-seen order (a handful of entries).
        let mut nets: Vec<(u32, Currency, Decimal)> = Vec::with_capacity(tx.postings.len());
        let mut sums: Vec<(Currency, Decimal)> = Vec::with_capacity(2);
        for (posting_idx, posting) in tx.postings.iter().enumerate() {
            let field = || format!("postings[{posting_idx}]");
            let Some(account_idx) = self.account_idx(&posting.account) else {
                return Err(Rejection::UnknownAccount {
                    field: format!("{}.account", field()),
                    account: posting.account.clone(),
                });
            };
            let window = self.definition.window(account_idx);
            if !window.takes(tx.value_date) {
                return Err(Rejection::AccountClosed {
                    field: format!("{}.account", field()),
                    account: posting.account.clone(),
                    value_date: tx.value_date,
                    opens: window.from.filter(|from| tx.value_date < *from),
                    closed_from: window.until,
                });
            }
            if !self.spec(account_idx).holds(posting.currency) {
                return Err(Rejection::CurrencyNotHeld {
                    field: format!("{}.currency", field()),
                    account: posting.account.clone(),
                    currency: posting.currency,
                });
            }
            if posting.amount.scale() != posting.currency.minor_units() {
                return Err(Rejection::TooManyDecimals {
                    field: format!("{}.amount", field()),
                    amount: posting.amount,
                    currency: posting.currency,
                    minor_units: posting.currency.minor_units(),
                });
            }
            if posting.amount.is_zero() {
                return Err(Rejection::ZeroAmount { field: format!("{}.amount", field()) });
            }
            let overflow = || Rejection::Overflow { account: posting.account.clone(), currency: posting.currency };
            match nets.iter_mut().find(|(idx, ccy, _)| *idx == account_idx && *ccy == posting.currency) {
                Some((_, _, net)) => *net = net.checked_add(posting.amount).ok_or_else(overflow)?,
                None => nets.push((account_idx, posting.currency, posting.amount)),
            }
            match sums.iter_mut().find(|(ccy, _)| *ccy == posting.currency) {
                Some((_, sum)) => *sum = sum.checked_add(posting.amount).ok_or_else(overflow)?,
                None => sums.push((posting.currency, posting.amount)),
            }
        }
        if let Some((currency, sum)) = sums.iter().find(|(_, sum)| !sum.is_zero()) {
            return Err(Rejection::Unbalanced { currency: *currency, sum: at_scale(*sum, *currency) });
        }
        if let Some(rate) = &tx.rate {
            self.check_fx(tx, rate)?;
        }
        for &(account_idx, currency, net) in &nets {
            let spec = self.spec(account_idx);
            let balance = self.balances.total(account_idx, currency);
            let after =
                balance.checked_add(net).ok_or_else(|| Rejection::Overflow { account: spec.id.clone(), currency })?;
            if let Some(overdraft) = spec.overdraft(currency) {
                if net.is_sign_negative() && after < -overdraft {
                    // The net is negative, so some leg debits the account.
                    let leg = tx
                        .postings
                        .iter()
                        .position(|p| p.account == spec.id && p.currency == currency && p.amount.is_sign_negative())
                        .unwrap_or_default();
                    return Err(Rejection::Overdraft {
                        field: format!("postings[{leg}].amount"),
                        account: spec.id.clone(),
                        currency,
                        balance: at_scale(balance, currency),
                        change: at_scale(net, currency),
                        overdraft: at_scale(overdraft, currency),
                    });
                }
            }
        }
        self.check_value_date(tx)?;
        self.check_pool_rules(tx)
    }

    /// The checks of an amendment that need the books, live and on replay:
    /// it takes effect after every value date booked (a transaction, a sweep
    /// run, a settled interest period), so no entry already journaled was
    /// checked under other rules than those in force on its date; an account
    /// it closes holds nothing; an entity that leaves has no intercompany
    /// position with the pool.
    pub(crate) fn check_amendment(&self, amendment: &crate::amendment::Amendment) -> Result<(), Rejection> {
        let invalid = |field: &str, message: String| Rejection::AmendmentInvalid { field: field.into(), message };
        let Some(current) = self.config() else {
            return Err(invalid("effective", "the group is not defined yet".into()));
        };
        let effective = amendment.effective;
        let booked = [
            self.transactions.booked_through().map(|date| (date, "a transaction")),
            self.sweeps.last_date().map(|date| (date, "a sweep run")),
            self.interest.last_day().map(|date| (date, "a settled interest period")),
        ];
        if let Some((date, what)) = booked.into_iter().flatten().max_by_key(|(date, _)| *date) {
            if effective <= date {
                return Err(invalid(
                    "effective",
                    format!(
                        "the books hold {what} valued {date}; an amendment takes effect after every date booked, so from {} at the earliest",
                        date.succ_opt().unwrap_or(date)
                    ),
                ));
            }
        }
        if let Some(last) = self.definition.amendments().last() {
            if effective < last.effective {
                return Err(invalid(
                    "effective",
                    format!(
                        "an amendment effective {} is journaled; a later one cannot take effect before it",
                        last.effective
                    ),
                ));
            }
        }
        let holdings = |id: &str| -> Vec<String> {
            self.account_idx(id)
                .map(|idx| {
                    self.balances
                        .of_account(idx)
                        .filter(|(_, balance)| !balance.total().is_zero())
                        .map(|(currency, balance)| format!("{currency} {}", at_scale(balance.total(), currency)))
                        .collect()
                })
                .unwrap_or_default()
        };
        for account in amendment.config.accounts.iter().filter(|a| current.account(&a.id).is_none()) {
            if self.account_idx(&account.id).is_some() {
                return Err(invalid(
                    &format!("account {}", account.id),
                    "was open before and is closed; an account id is never reused: open the account under a new id"
                        .into(),
                ));
            }
        }
        for account in current.accounts.iter().filter(|a| amendment.config.account(&a.id).is_none()) {
            let held = holdings(&account.id);
            if !held.is_empty() {
                return Err(invalid(
                    &format!("account {}", account.id),
                    format!("holds {}; move the money out before the account closes", held.join(", ")),
                ));
            }
        }
        for entity in current.entities.iter().filter(|e| amendment.config.entity(&e.id).is_none()) {
            let held = holdings(&crate::model::ic_account(&entity.id));
            if !held.is_empty() {
                return Err(invalid(
                    &format!("entity {}", entity.id),
                    format!(
                        "has an intercompany position of {} with the pool; settle it before the entity leaves",
                        held.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_fx(&self, tx: &PostedTransaction, rate: &crate::journal::FxRate) -> Result<(), Rejection> {
        let fx_leg = |currency: Currency| -> Decimal {
            tx.postings
                .iter()
                .filter(|p| p.account == SYS_FX_POSITION && p.currency == currency)
                .fold(Decimal::ZERO, |sum, p| sum.saturating_add(p.amount))
        };
        let fx_base = fx_leg(rate.base);
        let fx_quote = fx_leg(rate.quote);
        let expected = fx_base.checked_mul(rate.rate).map(|product| -product);
        let tolerance = rate.quote.half_minor_unit();
        let ok = !fx_base.is_zero() && expected.is_some_and(|expected| (fx_quote - expected).abs() <= tolerance);
        if ok {
            return Ok(());
        }
        // The leg to correct: the first quote-currency leg as given (the
        // position legs are derived from the given legs).
        let field = tx
            .postings
            .iter()
            .position(|p| p.account != SYS_FX_POSITION && p.currency == rate.quote)
            .map_or("rate.rate".to_string(), |leg| format!("postings[{leg}].amount"));
        Err(Rejection::FxRate {
            field,
            base: rate.base,
            quote: rate.quote,
            rate: rate.rate,
            expected_quote: expected.map(|e| at_scale((-e).round_dp(rate.quote.minor_units()), rate.quote)),
            found_quote: at_scale(-fx_quote, rate.quote),
        })
    }

    /// Applies a checked transaction, entry `seq` with hash `hash`: its
    /// postings, its effects on the limits, and its record in the
    /// `transactions` part (the count, the idempotency index, the posting
    /// index's recent postings, the part's line); `on_posting` sees each
    /// posting, for undo and dirty tracking.
    pub(crate) fn apply_transaction(
        &mut self,
        tx: &PostedTransaction,
        effects: &Effects,
        seq: u64,
        hash: EntryHash,
        mut on_posting: impl FnMut(Applied),
    ) {
        let mut accounts = [0u32; 4];
        let mut more: Vec<u32> = Vec::new();
        for (n, posting) in tx.postings.iter().enumerate() {
            let account_idx = self.definition.account_idx(&posting.account).expect("checked: the account exists");
            match accounts.get_mut(n) {
                Some(slot) => *slot = account_idx,
                None => more.push(account_idx),
            }
            let applied =
                Applied { account_idx, currency: posting.currency, value_date: tx.value_date, amount: posting.amount };
            self.balances.apply(applied);
            on_posting(applied);
        }
        // The factors weigh the intraday peak of a movement that counts against a cap.
        let counts = effects.pool_flow.is_some()
            || effects.pool_move.is_some()
            || effects.drawdown.is_some()
            || effects.repayment.is_some();
        let factors =
            if counts { self.risk_factors(Some(tx.value_date)) } else { crate::config::RiskFactors::published() };
        self.limits.apply_effects(tx, effects, &factors);
        // The account of posting n, resolved once above.
        let account_of = |n: usize| accounts.get(n).copied().unwrap_or_else(|| more[n - accounts.len()]);
        self.transactions.apply(tx, seq, hash, account_of);
    }

    /// Reverts what [`State::apply_transaction`]
    /// applied (a rejected atomic batch): the postings one by one, the count,
    /// the limit state as a whole. The ids go with [`State::forget_id`], the
    /// running digest with [`State::restore_transactions_part`].
    pub(crate) fn undo(&mut self, applied: &[Applied], n_transactions: u64, limits_before: LimitState) {
        self.balances.undo(applied);
        self.transactions.undo(n_transactions, applied.len() as u64);
        self.limits.undo(limits_before);
    }

    /// Closes again the accounts opened after the first `n`, once a rolled-back
    /// plan's postings are undone ([`State::undo`]).
    pub(crate) fn undo_accounts(&mut self, n: usize) {
        self.definition.undo_accounts(n);
        self.balances.undo_accounts(n);
    }

    /// Takes back the amendments after the first `n` (a rolled-back plan).
    pub(crate) fn undo_amendments(&mut self, n: usize) {
        self.definition.undo_amendments(n);
        if let Some(config) = self.definition.config() {
            self.limits.apply_amendment(&Arc::clone(config));
        }
    }

    /// Removes an id a rolled-back plan indexed.
    pub(crate) fn forget_id(&mut self, id: &str) {
        self.transactions.forget(id);
    }

    /// The running digest of the `transactions` part, for a savepoint.
    pub(crate) fn transactions_part(&self) -> TransactionsMark {
        self.transactions.mark()
    }

    /// Restores what a savepoint took of the transactions part.
    pub(crate) fn restore_transactions_part(&mut self, mark: TransactionsMark) {
        self.transactions.restore_mark(mark);
    }

    /// The limit state (flows, loans), for a savepoint.
    pub(crate) fn limit_state(&self) -> &LimitState {
        self.limits.state()
    }

    /// The total balance of an account in a currency (zero when it never held it).
    pub(crate) fn total(&self, account_idx: u32, currency: Currency) -> Decimal {
        self.balances.total(account_idx, currency)
    }

    /// A transaction's effects as its format-2 entry records them.
    pub(crate) fn tx_effects(&self, effects: &Effects) -> crate::journal::TxEffects {
        let base = self.base_currency();
        crate::journal::TxEffects {
            pool_flow: effects.pool_flow.map(|flow| (base, flow)),
            drawdown: effects.drawdown.as_ref().map(|loan| crate::journal::Drawdown {
                entity: loan.entity.clone(),
                currency: loan.currency,
                principal: loan.principal,
                term_days: loan.term_days,
                base_rate: loan.base_rate,
                usd_base_rate: loan.usd_base_rate,
            }),
            repayment: effects.repayment.as_ref().map(|(loan, amount)| crate::journal::Repayment {
                loan: loan.clone(),
                currency: self.limits.loan(loan).map_or(base, |loan| loan.currency),
                amount: *amount,
            }),
        }
    }

    /// The balance of an account in a currency as of the end of `as_of` (value-dated), or now.
    pub(crate) fn balance(&self, account_idx: u32, currency: Currency, as_of: Option<NaiveDate>) -> Decimal {
        self.balances.balance(account_idx, currency, as_of)
    }

    /// The `calendars` part's digest, when it holds a day: the state digest
    /// leaves the part out until then, so a journal without calendars keeps
    /// the digest it had before the part existed.
    pub(crate) fn calendars_digest(&self) -> Option<EntryHash> {
        (!self.calendars.is_empty()).then(|| self.calendars.digest())
    }

    /// Every part's digest, in the order of [`crate::digest::PARTS`].
    pub(crate) fn part_digests(&self) -> [EntryHash; 9] {
        [
            self.definition.digest(),
            self.balances.digest(),
            self.transactions.digest(),
            self.rates.digest(),
            self.limits.digest(),
            self.sweeps.digest(),
            self.interest.digest(),
            self.netting.digest(),
            self.statements.digest(),
        ]
    }

    /// The state digest (docs/FORMATS.md, "The state digest"): the hash of the head and the parts' digests.
    pub(crate) fn digest(&self) -> StateDigest {
        crate::digest::state_digest(self)
    }

    /// The state as a snapshot (docs/STORAGE.md, "The state snapshot"): the
    /// head, the digest, what the id index held (`ids_through`; every
    /// transaction's id must be there: the caller checks), and every part.
    pub(crate) fn snapshot(&self, ids_through: u64) -> snapshot::SnapshotRec {
        snapshot::SnapshotRec {
            seq: self.head_seq,
            hash: self.head_hash.0,
            digest: self.digest().0 .0,
            ids_through,
            ids_count: self.transactions.n_transactions(),
            definition: self.definition.snapshot(),
            balances: self.balances.snapshot(),
            transactions: self.transactions.snapshot(),
            rates: self.rates.snapshot(),
            benchmarks: self.rates.snapshot_benchmarks(),
            limits: self.limits.snapshot(),
            sweeps: self.sweeps.snapshot(),
            interest: self.interest.snapshot(),
            netting: self.netting.snapshot(),
            statements: self.statements.snapshot(),
            calendars: self.calendars.snapshot(),
        }
    }

    /// The state a snapshot holds, at its entry, with the ids of every
    /// transaction in the on-disk id index, which holds the ids of entries up
    /// to `ids_through` (`ids_count` in all). Checks that each part restores;
    /// the caller checks the digest, the invariants and the journal.
    pub(crate) fn restore(
        rec: snapshot::SnapshotRec,
        ids_through: u64,
        ids_count: u64,
        postings_count: u64,
    ) -> Result<State, String> {
        let part = |name: &'static str| move |reason: String| format!("{name}: {reason}");
        let definition = Definition::restore(rec.definition).map_err(part("definition"))?;
        let base = definition.base_currency();
        let limits =
            Limits::restore(rec.limits, definition.config().map(|config| &**config)).map_err(part("limits"))?;
        Ok(State {
            definition,
            balances: Balances::restore(rec.balances).map_err(part("balances"))?,
            transactions: Transactions::restore(rec.transactions, ids_through, ids_count, postings_count)
                .map_err(part("transactions"))?,
            rates: Rates::restore(rec.rates, rec.benchmarks, base).map_err(part("rates"))?,
            limits,
            sweeps: Sweeps::restore(rec.sweeps).map_err(part("sweeps"))?,
            interest: Interest::restore(rec.interest).map_err(part("interest"))?,
            netting: Netting::restore(rec.netting).map_err(part("netting"))?,
            statements: Statements::restore(rec.statements).map_err(part("statements"))?,
            calendars: Calendars::restore(rec.calendars).map_err(part("calendars"))?,
            head_seq: rec.seq,
            head_hash: EntryHash(rec.hash),
        })
    }

    /// Every part's invariants, then those between parts: the balances are
    /// kept for exactly the definition's accounts, in its order; the limits
    /// count in its base currency; an empty head means an empty state. `Err`
    /// names the part and what is broken.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        let parts: [(&str, Result<(), String>); 10] = [
            ("definition", self.definition.check_invariants()),
            ("balances", self.balances.check_invariants()),
            ("transactions", self.transactions.check_invariants()),
            ("rates", self.rates.check_invariants()),
            ("limits", self.limits.check_invariants()),
            ("sweeps", self.sweeps.check_invariants()),
            ("interest", self.interest.check_invariants()),
            ("netting", self.netting.check_invariants()),
            ("statements", self.statements.check_invariants()),
            ("calendars", self.calendars.check_invariants()),
        ];
        for (name, result) in parts {
            result.map_err(|reason| format!("{name}: {reason}"))?;
        }
        let ids = self.definition.accounts().iter().map(|spec| spec.id.as_str());
        if !ids.eq(self.balances.account_ids()) {
            return Err("balances: not kept for the definition's accounts in its order".into());
        }
        if self.definition.is_defined() && self.limits.base_currency() != self.definition.base_currency() {
            return Err("limits: not in the group's base currency".into());
        }
        if self.head_seq == 0 && (self.head_hash != EntryHash::GENESIS || self.definition.is_defined()) {
            return Err("head: no entry applied, yet the state is not empty".into());
        }
        Ok(())
    }

    /// [`State::check_invariants`] as an assertion: a broken invariant is a
    /// bug of the fold (every entry passed its part's checks), not a bad journal.
    pub(crate) fn assert_invariants(&self) {
        if let Err(reason) = self.check_invariants() {
            panic!("state invariant broken at entry {}: {reason}", self.head_seq);
        }
    }

    /// Every (account, currency) with a balance record, with the balance.
    pub(crate) fn all_balances(&self) -> impl Iterator<Item = (&AccountSpec, Currency, Decimal)> + '_ {
        self.balances
            .iter()
            .filter(|(_, _, balance)| !balance.by_date().is_empty() || !balance.total().is_zero())
            .map(|(idx, currency, balance)| (self.definition.spec(idx), currency, balance.total()))
    }
}

/// The ledger's first invariant, asserted in release builds on every
/// transaction before it is encoded (replay checks it again after decoding):
/// its postings sum to zero in each currency, at the currency's minor units.
pub(crate) fn assert_balanced(tx: &PostedTransaction) {
    let mut sums: Vec<(Currency, Decimal)> = Vec::with_capacity(2);
    for posting in &tx.postings {
        assert_eq!(posting.amount.scale(), posting.currency.minor_units(), "posting at the currency's minor units");
        match sums.iter_mut().find(|(ccy, _)| *ccy == posting.currency) {
            Some((_, sum)) => *sum += posting.amount,
            None => sums.push((posting.currency, posting.amount)),
        }
    }
    assert!(sums.iter().all(|(_, sum)| sum.is_zero()), "transaction {} is unbalanced: {sums:?}", tx.id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    #[test]
    fn an_empty_state_holds_every_invariant_and_has_the_specified_empty_digest() {
        let state = State::new(true);
        state.check_invariants().unwrap();
        // Nine empty parts: each is the SHA-256 of no lines.
        let empty = EntryHash(sha2::Sha256::digest(b"").into());
        assert!(state.part_digests().iter().all(|digest| *digest == empty));
    }

    #[test]
    fn a_broken_part_is_named() {
        let mut state = State::new(true);
        state.balances.apply_account("M-SZ-EUR");
        let reason = state.check_invariants().unwrap_err();
        assert_eq!(reason, "balances: not kept for the definition's accounts in its order");
    }
}
