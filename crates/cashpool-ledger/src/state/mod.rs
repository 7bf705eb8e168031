//! The state a journal folds into: accounts, balances (total and by value
//! date) and the idempotency index; the checks every transaction must pass;
//! the state digest.
//!
//! The live path and replay share one fold: [`State::check_transaction`] then
//! [`State::apply_transaction`]. A journal entry that fails the check on
//! replay is an integrity failure, so a regulator's replay re-proves every
//! rule the operator's ledger enforced when it posted.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{parse_group_config, GroupConfig};
use crate::journal::{Entry, EntryBody, EntryHash, PostedTransaction};
use crate::limits::{Effects, LimitState, Parameters};
use crate::model::{AccountKind, AccountSpec, SYSTEM_ACCOUNT_PREFIX, SYS_FX_POSITION};
use crate::money::{format_amount, Currency};
use crate::rates::RateBook;

mod rejection;

pub use rejection::Rejection;

/// The balance of one currency of one account.
#[derive(Debug, Clone, Default)]
pub(crate) struct CurrencyBalance {
    pub total: Decimal,
    /// Net change per value date; never holds a zero.
    pub by_date: BTreeMap<NaiveDate, Decimal>,
}

#[derive(Debug, Clone)]
pub(crate) struct AccountState {
    pub spec: AccountSpec,
    /// Sorted by currency.
    pub balances: Vec<(Currency, CurrencyBalance)>,
}

impl AccountState {
    pub fn balance(&self, currency: Currency) -> Option<&CurrencyBalance> {
        self.balances.iter().find(|(ccy, _)| *ccy == currency).map(|(_, balance)| balance)
    }

    fn balance_mut(&mut self, currency: Currency) -> &mut CurrencyBalance {
        let idx = match self.balances.binary_search_by(|(ccy, _)| ccy.cmp(&currency)) {
            Ok(idx) => idx,
            Err(idx) => {
                self.balances.insert(idx, (currency, CurrencyBalance::default()));
                idx
            }
        };
        &mut self.balances[idx].1
    }
}

/// What the idempotency index keeps per transaction id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IdRecord {
    pub seq: u64,
    pub hash: EntryHash,
    pub fingerprint: [u8; 16],
}

/// One applied posting, to undo it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Applied {
    pub account_idx: u32,
    pub currency: Currency,
    pub value_date: NaiveDate,
    pub amount: Decimal,
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

/// The folded journal.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub config: Option<Arc<GroupConfig>>,
    pub accounts: Vec<AccountState>,
    pub account_index: HashMap<String, u32>,
    /// `None` in a flat-memory replay, which does not need it.
    pub ids: Option<HashMap<Box<str>, IdRecord>>,
    pub head_seq: u64,
    pub head_hash: EntryHash,
    pub n_transactions: u64,
    /// Imported FX rates.
    pub rates: RateBook,
    /// Dated regulatory parameters.
    pub params: Parameters,
    /// The pool position and the entities' loans.
    pub limits: LimitState,
    /// Sweep runs by value date.
    pub sweep_runs: std::collections::BTreeMap<NaiveDate, crate::sweep::SweepRun>,
    /// Settled interest periods [from, to), in settlement order, and their reports.
    pub interest_runs: Vec<(NaiveDate, NaiveDate)>,
    pub interest_reports: Vec<crate::interest::InterestRun>,
    /// Interest rounding residues not yet booked, per currency (below one minor unit).
    pub interest_carry: std::collections::BTreeMap<Currency, Decimal>,
    /// Posted netting cycles by id, and every invoice they netted.
    pub netting_cycles: std::collections::BTreeMap<String, crate::cycle::NettingRun>,
    pub settled_invoices: std::collections::HashSet<String>,
    /// The entry of each sweep run, interest settlement and netting cycle (for the state digest).
    pub sweep_entries: BTreeMap<NaiveDate, (u64, EntryHash)>,
    pub interest_entries: Vec<(NaiveDate, NaiveDate, u64, EntryHash)>,
    pub netting_entries: BTreeMap<String, (u64, EntryHash)>,
    /// The running digest of the `transactions` part (docs/FORMATS.md, "The state digest").
    pub transactions_part: Sha256,
    /// Accounts by normalised `bank_id` (see [`crate::bank::normalise_bank_id`]).
    pub bank_index: HashMap<String, u32>,
    /// Imported bank statements by (bank account, statement id, sequence): the
    /// first one's content hash and journal entry.
    pub bank_statements: HashMap<(String, String, String), (EntryHash, u64)>,
}

impl State {
    pub fn new(with_id_index: bool) -> State {
        State {
            config: None,
            accounts: Vec::new(),
            account_index: HashMap::new(),
            ids: with_id_index.then(HashMap::new),
            head_seq: 0,
            head_hash: EntryHash::GENESIS,
            n_transactions: 0,
            rates: RateBook::new(),
            params: Parameters::default(),
            limits: LimitState::default(),
            sweep_runs: std::collections::BTreeMap::new(),
            interest_runs: Vec::new(),
            interest_reports: Vec::new(),
            interest_carry: std::collections::BTreeMap::new(),
            netting_cycles: std::collections::BTreeMap::new(),
            settled_invoices: std::collections::HashSet::new(),
            sweep_entries: BTreeMap::new(),
            interest_entries: Vec::new(),
            netting_entries: BTreeMap::new(),
            transactions_part: Sha256::new(),
            bank_index: HashMap::new(),
            bank_statements: HashMap::new(),
        }
    }

    pub fn account_idx(&self, id: &str) -> Option<u32> {
        self.account_index.get(id).copied()
    }

    pub fn account(&self, idx: u32) -> &AccountState {
        &self.accounts[idx as usize]
    }

    /// Applies a journal entry read back (replay, open): every check of the live path runs again.
    pub fn apply_entry(&mut self, entry: &Entry, hash: EntryHash) -> Result<(), String> {
        self.apply_entry_with(entry, hash, |_| {})
    }

    /// [`State::apply_entry`], with `on_posting` seeing each posting a transaction applies.
    /// Nothing is changed when it fails.
    pub fn apply_entry_with(
        &mut self,
        entry: &Entry,
        hash: EntryHash,
        on_posting: impl FnMut(Applied),
    ) -> Result<(), String> {
        match &entry.body {
            EntryBody::GroupDefined { config_toml } => {
                if self.config.is_some() || entry.seq != 1 {
                    return Err("a group definition may only be entry 1".into());
                }
                let config = parse_group_config(config_toml).map_err(|err| format!("group definition: {err}"))?;
                self.params = Parameters::from_config(&config);
                self.config = Some(Arc::new(config));
            }
            EntryBody::GroupRecord(config) => {
                if self.config.is_some() || entry.seq != 1 {
                    return Err("a group definition may only be entry 1".into());
                }
                crate::config::check_references(config).map_err(|reason| format!("group definition: {reason}"))?;
                self.params = Parameters::from_config(config);
                self.config = Some(Arc::clone(config));
            }
            EntryBody::AccountOpened(spec) => {
                self.check_account(spec)?;
                self.open_account(spec.clone());
            }
            EntryBody::Transaction(tx) => {
                if self.ids.as_ref().is_some_and(|ids| ids.contains_key(tx.id.as_str())) {
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
                self.apply_transaction(tx, &effects, on_posting);
                self.record_id(tx, entry.seq, hash);
            }
            EntryBody::RatesImported { rows } => {
                if self.config.is_none() {
                    return Err("rates are imported before the group definition".into());
                }
                let base = self.config.as_ref().map(|config| config.group.base_currency);
                if let Some(row) = rows.iter().find(|row| row.rate <= Decimal::ZERO || Some(row.currency) == base) {
                    return Err(format!(
                        "rate row {} {} {} {} is not a positive rate of a foreign currency",
                        row.date,
                        row.currency,
                        row.market.as_str(),
                        row.rate
                    ));
                }
                self.rates.insert(rows).map_err(|conflict| conflict.to_string())?;
            }
            EntryBody::LimitsSet(change) => {
                if self.config.is_none() {
                    return Err("limits are set before the group definition".into());
                }
                crate::limits::check_change_values(change)?;
                self.params.apply(change)?;
            }
            EntryBody::InterestSettled(run) => {
                self.apply_interest_run(run, entry.format == crate::journal::FormatVersion::V2)?;
                self.interest_entries.push((run.from, run.to, entry.seq, hash));
            }
            EntryBody::NettingCycle(run) => {
                self.apply_netting_run(run)?;
                self.netting_entries.insert(run.result.cycle.clone(), (entry.seq, hash));
            }
            EntryBody::StatementImported(imported) => {
                if self.config.is_none() {
                    return Err("a statement is imported before the group definition".into());
                }
                let statement = &imported.statement;
                if imported.content_hash != statement.content_hash() {
                    return Err(format!(
                        "statement {:?}: content hash does not match its content",
                        statement.statement_id
                    ));
                }
                let (account, status) = self.classify_statement(statement, imported.content_hash)?;
                if account != imported.account || status != imported.status {
                    return Err(format!(
                        "statement {:?}: recorded as account {:?} ({:?}), replay finds {:?} ({:?})",
                        statement.statement_id, imported.account, imported.status, account, status
                    ));
                }
                self.bank_statements
                    .entry(crate::bank::statement_key(statement))
                    .or_insert((imported.content_hash, entry.seq));
            }
            EntryBody::SweepRun(run) => {
                if self.sweep_runs.contains_key(&run.date) {
                    return Err(format!("a second sweep run for {}", run.date));
                }
                self.sweep_runs.insert(run.date, run.clone());
                self.sweep_entries.insert(run.date, (entry.seq, hash));
            }
        }
        self.head_seq = entry.seq;
        self.head_hash = hash;
        Ok(())
    }

    fn check_account(&self, spec: &AccountSpec) -> Result<(), String> {
        if self.config.is_none() {
            return Err("an account is opened before the group definition".into());
        }
        if self.account_index.contains_key(&spec.id) {
            return Err(format!("account {} is opened twice", spec.id));
        }
        let is_system = spec.kind == AccountKind::System;
        if is_system != spec.id.starts_with(SYSTEM_ACCOUNT_PREFIX) {
            return Err(format!("account {}: only system accounts have ids starting {SYSTEM_ACCOUNT_PREFIX}", spec.id));
        }
        if !spec.currencies.windows(2).all(|pair| pair[0] < pair[1]) {
            return Err(format!("account {}: currencies not sorted", spec.id));
        }
        Ok(())
    }

    /// The ledger account whose `bank_id` (and BIC, where both name one) the statement names.
    pub fn statement_account(&self, statement: &crate::bank::BankStatement) -> Option<String> {
        crate::bank::candidate_ids(&statement.account_id, &statement.currency)
            .into_iter()
            .find_map(|id| self.bank_index.get(&id).copied())
            .map(|idx| &self.accounts[idx as usize].spec)
            .filter(|spec| crate::bank::bic_agrees(spec.bank_bic.as_deref(), statement.bic.as_deref()))
            .map(|spec| spec.id.clone())
    }

    /// The ledger account a statement belongs to and whether it is new or a
    /// conflicting copy; an exact copy of an imported statement is an error.
    pub fn classify_statement(
        &self,
        statement: &crate::bank::BankStatement,
        content_hash: EntryHash,
    ) -> Result<(Option<String>, crate::bank::ImportStatus), String> {
        let account = self.statement_account(statement);
        let status = match self.bank_statements.get(&crate::bank::statement_key(statement)) {
            None => crate::bank::ImportStatus::New,
            Some((hash, seq)) if *hash == content_hash => {
                return Err(format!("statement {:?} is already in entry {seq}", statement.statement_id))
            }
            Some(_) => crate::bank::ImportStatus::Conflict,
        };
        Ok((account, status))
    }

    pub fn open_account(&mut self, spec: AccountSpec) {
        let idx = u32::try_from(self.accounts.len()).expect("fewer than 2^32 accounts");
        if let Some(bank_id) = &spec.bank_id {
            self.bank_index.insert(crate::bank::normalise_bank_id(bank_id), idx);
        }
        self.account_index.insert(spec.id.clone(), idx);
        self.accounts.push(AccountState { spec, balances: Vec::new() });
    }

    /// The checks every posted transaction passes, live and on replay.
    pub fn check_transaction(&self, tx: &PostedTransaction) -> Result<Effects, Rejection> {
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
            let account = self.account(account_idx);
            if !account.spec.holds(posting.currency) {
                return Err(Rejection::CurrencyNotHeld {
                    field: format!("{}.currency", field()),
                    account: posting.account.clone(),
                    currency: posting.currency,
                });
            }
            if posting.amount.scale() != posting.currency.minor_units() {
                return Err(Rejection::TooManyDecimals {
                    field: format!("{}.amount", field()),
                    amount: posting.amount.to_string(),
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
            return Err(Rejection::Unbalanced { currency: *currency, sum: format_amount(*sum, *currency) });
        }
        if let Some(rate) = &tx.rate {
            self.check_fx(tx, rate)?;
        }
        for &(account_idx, currency, net) in &nets {
            let account = self.account(account_idx);
            let balance = account.balance(currency).map_or(Decimal::ZERO, |b| b.total);
            let after = balance
                .checked_add(net)
                .ok_or_else(|| Rejection::Overflow { account: account.spec.id.clone(), currency })?;
            if let Some(overdraft) = account.spec.overdraft(currency) {
                if net.is_sign_negative() && after < -overdraft {
                    // The net is negative, so some leg debits the account.
                    let leg = tx
                        .postings
                        .iter()
                        .position(|p| {
                            p.account == account.spec.id && p.currency == currency && p.amount.is_sign_negative()
                        })
                        .unwrap_or_default();
                    return Err(Rejection::Overdraft {
                        field: format!("postings[{leg}].amount"),
                        account: account.spec.id.clone(),
                        currency,
                        balance: format_amount(balance, currency),
                        change: format_amount(net, currency),
                        overdraft: format_amount(overdraft, currency),
                    });
                }
            }
        }
        self.check_pool_rules(tx)
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
            rate: rate.rate.to_string(),
            expected_quote: expected.map_or("overflow".into(), |e| (-e).round_dp(rate.quote.minor_units()).to_string()),
            found_quote: format_amount(-fx_quote, rate.quote),
        })
    }

    /// Applies a checked transaction's postings; `on_posting` sees each, for undo and dirty tracking.
    pub fn apply_transaction(
        &mut self,
        tx: &PostedTransaction,
        effects: &Effects,
        mut on_posting: impl FnMut(Applied),
    ) {
        for posting in &tx.postings {
            let account_idx = self.account_idx(&posting.account).expect("checked: the account exists");
            self.add(account_idx, posting.currency, tx.value_date, posting.amount);
            on_posting(Applied {
                account_idx,
                currency: posting.currency,
                value_date: tx.value_date,
                amount: posting.amount,
            });
        }
        self.apply_effects(tx, effects);
        self.n_transactions += 1;
    }

    /// Reverts what [`State::apply_transaction`] applied (a rejected atomic
    /// batch): the postings one by one, the limit state as a whole.
    pub fn undo(&mut self, applied: &[Applied], n_transactions: u64, limits_before: LimitState) {
        for posting in applied.iter().rev() {
            self.add(posting.account_idx, posting.currency, posting.value_date, -posting.amount);
        }
        self.n_transactions -= n_transactions;
        self.limits = limits_before;
    }

    fn add(&mut self, account_idx: u32, currency: Currency, value_date: NaiveDate, amount: Decimal) {
        let balance = self.accounts[account_idx as usize].balance_mut(currency);
        // Checked before: the transaction's net change fits; a single posting is bounded by it.
        balance.total = balance.total.checked_add(amount).expect("checked: balance stays in range");
        let day = balance.by_date.entry(value_date).or_insert(Decimal::ZERO);
        *day = day.checked_add(amount).expect("checked: a day's change stays in range");
        if day.is_zero() {
            balance.by_date.remove(&value_date);
        }
    }

    pub fn record_id(&mut self, tx: &PostedTransaction, seq: u64, hash: EntryHash) {
        crate::digest::transactions_line(&mut self.transactions_part, seq, &tx.id, hash);
        if let Some(ids) = &mut self.ids {
            ids.insert(tx.id.as_str().into(), IdRecord { seq, hash, fingerprint: fingerprint(tx) });
        }
    }

    /// Removes an id a rolled-back plan indexed.
    pub fn forget_id(&mut self, id: &str) {
        if let Some(ids) = &mut self.ids {
            ids.remove(id);
        }
    }

    /// The total balance of an account in a currency (zero when it never held it).
    pub fn total(&self, account_idx: u32, currency: Currency) -> Decimal {
        self.account(account_idx).balance(currency).map_or(Decimal::ZERO, |balance| balance.total)
    }

    /// A transaction's effects as its format-2 entry records them.
    pub fn tx_effects(&self, effects: &Effects) -> crate::journal::TxEffects {
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
                currency: self.limits.loans.get(loan).map_or(base, |loan| loan.currency),
                amount: *amount,
            }),
        }
    }

    /// The balance of an account in a currency as of the end of `as_of` (value-dated), or now.
    pub fn balance(&self, account_idx: u32, currency: Currency, as_of: Option<NaiveDate>) -> Decimal {
        let mut value = match self.account(account_idx).balance(currency) {
            None => Decimal::ZERO,
            Some(balance) => match as_of {
                None => balance.total,
                Some(date) => balance.by_date.range(..=date).fold(Decimal::ZERO, |sum, (_, change)| sum + *change),
            },
        };
        // Every balance carries exactly its currency's minor units, also when nothing was posted.
        value.rescale(currency.minor_units());
        value
    }

    /// The state digest (docs/FORMATS.md, "The state digest"): the hash of the parts' digests.
    pub fn digest(&self) -> StateDigest {
        crate::digest::state_digest(self)
    }

    /// Every (account, currency) with a balance record, with the balance.
    pub fn all_balances(&self) -> impl Iterator<Item = (&AccountSpec, Currency, Decimal)> + '_ {
        self.accounts.iter().flat_map(|account| {
            account
                .balances
                .iter()
                .filter(|(_, balance)| !balance.by_date.is_empty() || !balance.total.is_zero())
                .map(move |(currency, balance)| (&account.spec, *currency, balance.total))
        })
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

/// A fingerprint of a transaction's content: everything but the operator.
pub(crate) fn fingerprint(tx: &PostedTransaction) -> [u8; 16] {
    #[derive(Serialize)]
    struct Content<'a> {
        id: &'a str,
        #[serde(with = "crate::journal::date_format")]
        value_date: NaiveDate,
        purpose: crate::model::Purpose,
        reference: &'a str,
        memo: &'a str,
        postings: &'a [crate::journal::Posting],
        rate: &'a Option<crate::journal::FxRate>,
        term_days: Option<u32>,
        lender: &'a Option<String>,
    }
    let content = Content {
        id: &tx.id,
        value_date: tx.value_date,
        purpose: tx.purpose,
        reference: &tx.reference,
        memo: &tx.memo,
        postings: &tx.postings,
        rate: &tx.rate,
        term_days: tx.term_days,
        lender: &tx.lender,
    };
    let bytes = postcard::to_allocvec(&content).expect("encoding into a Vec cannot fail");
    let digest: [u8; 32] = Sha256::digest(&bytes).into();
    let mut fingerprint = [0u8; 16];
    fingerprint.copy_from_slice(&digest[..16]);
    fingerprint
}
