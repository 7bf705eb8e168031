//! The `definition` part: the group definition with its amendments (the
//! definition in force on each date), the accounts opened with the dates each
//! is open, and the indexes that find an account by id and by its bank's
//! account number.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;

use sha2::{Digest, Sha256};

use super::snapshot::{date_of, day, DefinitionSnap};
use crate::amendment::Amendment;
use crate::bank::BankStatement;
use crate::config::{parse_format_1_definition, GroupConfig};
use crate::digest::{date, finish, line, string};
use crate::journal::v2::{account_json, account_of, account_rec, group_json, group_of};
use crate::journal::EntryHash;
use crate::model::{AccountKind, AccountSpec, SYSTEM_ACCOUNT_PREFIX};
use crate::money::Currency;

/// The group definition and the accounts, in opening order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Definition {
    /// The definition in force now (the last amendment's, else entry 1's);
    /// `None` until entry 1 defines the group.
    config: Option<Arc<GroupConfig>>,
    /// Entry 1's definition when amendments followed it (`None` otherwise: then it is `config`).
    initial: Option<Arc<GroupConfig>>,
    /// The amendments in journal order, effective dates non-decreasing.
    amendments: Vec<Amendment>,
    /// In opening order: an account's index is its place here.
    accounts: Vec<AccountSpec>,
    /// The dates each account is open, in the same order.
    windows: Vec<Window>,
    /// Account id → index.
    account_index: HashMap<String, u32>,
    /// Normalised `bank_id` (see [`crate::bank::normalise_bank_id`]) → index.
    bank_index: HashMap<String, u32>,
}

/// When an account is open: from `from` (`None`: since the group was
/// defined) to the day before `until` (`None`: still open). An account an
/// amendment closed takes no posting at all once the amendment is journaled
/// (its balance was zero then and stays zero); one an amendment opened takes
/// postings valued from `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Window {
    pub(crate) from: Option<NaiveDate>,
    pub(crate) until: Option<NaiveDate>,
}

impl Window {
    /// Whether a posting valued on `date` may reach the account.
    pub(crate) fn takes(&self, date: NaiveDate) -> bool {
        self.until.is_none() && self.from.is_none_or(|from| from <= date)
    }
}

impl Definition {
    /// Applies a format-1 group definition (its TOML).
    pub(crate) fn apply_group_toml(&mut self, seq: u64, config_toml: &str) -> Result<(), String> {
        self.check_first(seq)?;
        let config = parse_format_1_definition(config_toml).map_err(|err| format!("group definition: {err}"))?;
        self.config = Some(Arc::new(config));
        Ok(())
    }

    /// Applies a format-2 group definition (its record).
    pub(crate) fn apply_group(&mut self, seq: u64, config: &Arc<GroupConfig>) -> Result<(), String> {
        self.check_first(seq)?;
        crate::config::check_references(config).map_err(|reason| format!("group definition: {reason}"))?;
        self.config = Some(Arc::clone(config));
        Ok(())
    }

    fn check_first(&self, seq: u64) -> Result<(), String> {
        if self.config.is_some() || seq != 1 {
            return Err("a group definition may only be entry 1".into());
        }
        Ok(())
    }

    /// Opens an account; returns its index.
    pub(crate) fn apply_account(&mut self, spec: &AccountSpec) -> Result<u32, String> {
        self.check_account(spec)?;
        let idx = u32::try_from(self.accounts.len()).expect("fewer than 2^32 accounts");
        if let Some(bank_id) = &spec.bank_id {
            self.bank_index.insert(crate::bank::normalise_bank_id(bank_id), idx);
        }
        self.account_index.insert(spec.id.clone(), idx);
        self.windows.push(self.window_of(&spec.id));
        self.accounts.push(spec.clone());
        Ok(idx)
    }

    /// Applies an amendment: the definition in force from `effective`. Checks
    /// what the definition alone can tell (the state checks the books).
    pub(crate) fn apply_amendment(&mut self, effective: NaiveDate, config: &Arc<GroupConfig>) -> Result<(), String> {
        let Some(current) = self.config.clone() else {
            return Err("an amendment before the group definition".into());
        };
        if let Some(last) = self.amendments.last() {
            if effective < last.effective {
                return Err(format!("an amendment effective {effective} follows one effective {}", last.effective));
            }
        }
        crate::config::check_references(config).map_err(|reason| format!("amendment: {reason}"))?;
        let fixed = [
            ("group.id", current.group.id == config.group.id),
            ("group.base_currency", current.group.base_currency == config.group.base_currency),
            ("pool.id", current.pool.id == config.pool.id),
            ("pool.host", current.pool.host == config.pool.host),
            ("pool.quota_model", current.pool.quota_model == config.pool.quota_model),
            ("pool.limits", current.pool.limits == config.pool.limits),
            ("macro_prudential", current.macro_prudential == config.macro_prudential),
        ];
        if let Some((key, _)) = fixed.iter().find(|(_, same)| !same) {
            return Err(format!("amendment: {key} cannot change"));
        }
        for account in &config.accounts {
            if current.account(&account.id).is_none() && self.account_index.contains_key(&account.id) {
                return Err(format!(
                    "amendment: account {} was open before; an account id is never reused",
                    account.id
                ));
            }
            if let Some(before) = current.account(&account.id) {
                if before != account {
                    return Err(format!("amendment: the terms of open account {} change", account.id));
                }
            }
        }
        if self.initial.is_none() {
            self.initial = Some(current);
        }
        self.amendments.push(Amendment { effective, config: Arc::clone(config) });
        self.config = Some(Arc::clone(config));
        self.windows = self.accounts.iter().map(|spec| self.window_of(&spec.id)).collect();
        Ok(())
    }

    /// The dates `id` is open, from the definitions: open from the first one
    /// that lists it (since the group was defined for entry 1's accounts and
    /// for the system accounts, which no definition lists), closed from the
    /// first later one that does not.
    fn window_of(&self, id: &str) -> Window {
        let mut versions = self.versions();
        let Some((_, first)) = versions.next() else { return Window::default() };
        let mut window = Window::default();
        let mut listed = first.account(id).is_some();
        let system = !listed && !self.amendments.iter().any(|a| a.config.account(id).is_some());
        if system {
            return window;
        }
        for (effective, config) in versions {
            let lists = config.account(id).is_some();
            if lists && !listed && window.from.is_none() {
                window.from = effective;
            }
            if !lists && listed {
                window.until = effective;
                break;
            }
            listed = lists;
        }
        window
    }

    /// Takes back the amendments after the first `n` (a rolled-back plan), last first.
    pub(crate) fn undo_amendments(&mut self, n: usize) {
        if self.amendments.len() <= n {
            return;
        }
        self.amendments.truncate(n);
        self.config = match self.amendments.last() {
            Some(last) => Some(Arc::clone(&last.config)),
            None => self.initial.take(),
        };
        self.windows = self.accounts.iter().map(|spec| self.window_of(&spec.id)).collect();
    }

    /// Each definition with the date it takes effect (`None` for entry 1's), oldest first.
    pub(crate) fn versions(&self) -> impl Iterator<Item = (Option<NaiveDate>, &Arc<GroupConfig>)> + '_ {
        let first = self.initial.as_ref().or(self.config.as_ref());
        first
            .map(|config| (None, config))
            .into_iter()
            .chain(self.amendments.iter().map(|amendment| (Some(amendment.effective), &amendment.config)))
    }

    /// The definition in force on `date` (`None` before entry 1).
    pub(crate) fn config_on(&self, date: NaiveDate) -> Option<&Arc<GroupConfig>> {
        match self.amendments.iter().rev().find(|amendment| amendment.effective <= date) {
            Some(amendment) => Some(&amendment.config),
            None => self.initial.as_ref().or(self.config.as_ref()),
        }
    }

    /// `[from, to)` cut at each amendment's effective date within it, each
    /// piece with the definition in force on it (empty before entry 1).
    pub(crate) fn slices(&self, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, NaiveDate, &Arc<GroupConfig>)> {
        let mut cuts = vec![from];
        cuts.extend(self.amendments.iter().map(|a| a.effective).filter(|date| from < *date && *date < to));
        cuts.dedup();
        let ends = cuts.iter().skip(1).copied().chain(std::iter::once(to));
        cuts.iter()
            .zip(ends)
            .filter_map(|(&start, end)| self.config_on(start).map(|config| (start, end, config)))
            .collect()
    }

    /// The amendments, in journal order.
    pub(crate) fn amendments(&self) -> &[Amendment] {
        &self.amendments
    }

    /// The dates each account is open, in opening order.
    pub(crate) fn windows(&self) -> &[Window] {
        &self.windows
    }

    /// The dates the account at `idx` is open.
    pub(crate) fn window(&self, idx: u32) -> Window {
        self.windows[idx as usize]
    }

    /// Closes again the accounts opened after the first `n` (a rolled-back plan
    /// that opened accounts: the interest settlement's tax accounts), last first.
    pub(crate) fn undo_accounts(&mut self, n: usize) {
        while self.accounts.len() > n {
            let spec = self.accounts.pop().expect("more than n accounts");
            self.windows.pop();
            let idx = u32::try_from(self.accounts.len()).expect("fewer than 2^32 accounts");
            assert_eq!(self.account_index.remove(&spec.id), Some(idx), "account {} indexed at its place", spec.id);
            if let Some(bank_id) = &spec.bank_id {
                let key = crate::bank::normalise_bank_id(bank_id);
                if self.bank_index.get(&key) == Some(&idx) {
                    self.bank_index.remove(&key);
                }
            }
        }
        assert_eq!(self.accounts.len(), n, "the accounts are back to {n}");
        assert_eq!(self.account_index.len(), n, "and so is their index");
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

    /// The group definition (`None` before entry 1).
    pub(crate) fn config(&self) -> Option<&Arc<GroupConfig>> {
        self.config.as_ref()
    }

    /// Whether entry 1 has defined the group.
    pub(crate) fn is_defined(&self) -> bool {
        self.config.is_some()
    }

    /// The group's base currency (CNY before the group is defined).
    pub(crate) fn base_currency(&self) -> Currency {
        self.config.as_ref().map_or_else(
            || Currency::from_code("CNY").expect("CNY is an ISO currency"),
            |config| config.group.base_currency,
        )
    }

    /// The index of the account `id`.
    pub(crate) fn account_idx(&self, id: &str) -> Option<u32> {
        self.account_index.get(id).copied()
    }

    /// The account at `idx` (an index this part handed out).
    pub(crate) fn spec(&self, idx: u32) -> &AccountSpec {
        &self.accounts[idx as usize]
    }

    /// Every account, in opening order (its index is its place).
    pub(crate) fn accounts(&self) -> &[AccountSpec] {
        &self.accounts
    }

    /// The ledger account whose `bank_id` (and BIC, where both name one) the statement names.
    pub(crate) fn statement_account(&self, statement: &BankStatement) -> Option<String> {
        crate::bank::candidate_ids(&statement.account_id, &statement.currency)
            .into_iter()
            .find_map(|id| self.bank_index.get(&id).copied())
            .map(|idx| self.spec(idx))
            .filter(|spec| crate::bank::bic_agrees(spec.bank_bic.as_deref(), statement.bic.as_deref()))
            .map(|spec| spec.id.clone())
    }

    /// Accounts only after the definition; each index finds its account; no
    /// account opened twice; currencies sorted.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        if self.config.is_none() && !self.accounts.is_empty() {
            return Err("accounts without a group definition".into());
        }
        if self.account_index.len() != self.accounts.len() {
            return Err(format!("{} accounts but {} in the index", self.accounts.len(), self.account_index.len()));
        }
        if self.windows.len() != self.accounts.len() {
            return Err(format!("{} accounts but {} windows", self.accounts.len(), self.windows.len()));
        }
        if !self.amendments.windows(2).all(|pair| pair[0].effective <= pair[1].effective) {
            return Err("the amendments are not in effective-date order".into());
        }
        if self.amendments.is_empty() != self.initial.is_none() {
            return Err("entry 1's definition is kept apart exactly when amendments follow it".into());
        }
        if let Some(last) = self.amendments.last() {
            if self.config.as_ref() != Some(&last.config) {
                return Err("the definition in force is not the last amendment's".into());
            }
        }
        for (id, &idx) in &self.account_index {
            if self.accounts.get(idx as usize).is_none_or(|spec| spec.id != *id) {
                return Err(format!("the index sends {id} to account {idx}, which is not it"));
            }
        }
        for (bank_id, &idx) in &self.bank_index {
            let names = self.accounts.get(idx as usize).and_then(|spec| spec.bank_id.as_deref());
            if names.is_none_or(|named| crate::bank::normalise_bank_id(named) != *bank_id) {
                return Err(format!("the bank index sends {bank_id} to account {idx}, which is not its account"));
            }
        }
        if let Some(spec) = self.accounts.iter().find(|spec| !spec.currencies.windows(2).all(|p| p[0] < p[1])) {
            return Err(format!("account {}: currencies not sorted", spec.id));
        }
        Ok(())
    }

    /// The part as the state snapshot keeps it: the journal's records of the definition and the accounts.
    pub(crate) fn snapshot(&self) -> DefinitionSnap {
        let first = self.initial.as_ref().or(self.config.as_ref());
        DefinitionSnap {
            group: first.map(|config| group_json(config)),
            amendments: self.amendments.iter().map(|a| (day(a.effective), group_json(&a.config))).collect(),
            accounts: self.accounts.iter().map(account_rec).collect(),
        }
    }

    /// The part a snapshot kept, with its indexes rebuilt; every account is checked as when it was opened.
    pub(crate) fn restore(snap: DefinitionSnap) -> Result<Definition, String> {
        let mut definition = Definition::default();
        if let Some(group) = snap.group {
            let config = serde_json::from_str(&group)
                .map_err(|err| err.to_string())
                .and_then(group_of)
                .map_err(|reason| format!("group definition: {reason}"))?;
            crate::config::check_references(&config).map_err(|reason| format!("group definition: {reason}"))?;
            definition.config = Some(Arc::new(config));
        }
        for (effective, group) in snap.amendments {
            let config = serde_json::from_str(&group)
                .map_err(|err| err.to_string())
                .and_then(group_of)
                .map_err(|reason| format!("amendment: {reason}"))?;
            definition.apply_amendment(date_of(effective)?, &Arc::new(config))?;
        }
        for rec in snap.accounts {
            let spec = account_of(rec)?;
            definition.apply_account(&spec)?;
        }
        Ok(definition)
    }

    /// `["group", BODY]` (entry 1's), `["amendment", DATE, BODY]` per
    /// amendment, then `["account", BODY]` per account in journal order.
    pub(crate) fn digest(&self) -> EntryHash {
        let mut hasher = Sha256::new();
        if let Some(config) = self.initial.as_ref().or(self.config.as_ref()) {
            line(&mut hasher, &[string("group"), group_json(config)]);
        }
        for amendment in &self.amendments {
            line(&mut hasher, &[string("amendment"), date(amendment.effective), group_json(&amendment.config)]);
        }
        for spec in &self.accounts {
            line(&mut hasher, &[string("account"), account_json(spec)]);
        }
        finish(hasher)
    }
}
