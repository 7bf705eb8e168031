//! The `definition` part: the group definition and the accounts opened, with
//! the indexes that find an account by id and by its bank's account number.

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::snapshot::DefinitionSnap;
use crate::bank::BankStatement;
use crate::config::{parse_format_1_definition, GroupConfig};
use crate::digest::{finish, line, string};
use crate::journal::v2::{account_json, account_of, account_rec, group_json, group_of};
use crate::journal::EntryHash;
use crate::model::{AccountKind, AccountSpec, SYSTEM_ACCOUNT_PREFIX};
use crate::money::Currency;

/// The group definition and the accounts, in opening order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Definition {
    /// `None` until entry 1 defines the group.
    config: Option<Arc<GroupConfig>>,
    /// In opening order: an account's index is its place here.
    accounts: Vec<AccountSpec>,
    /// Account id → index.
    account_index: HashMap<String, u32>,
    /// Normalised `bank_id` (see [`crate::bank::normalise_bank_id`]) → index.
    bank_index: HashMap<String, u32>,
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
        self.accounts.push(spec.clone());
        Ok(idx)
    }

    /// Closes again the accounts opened after the first `n` (a rolled-back plan
    /// that opened accounts: the interest settlement's tax accounts), last first.
    pub(crate) fn undo_accounts(&mut self, n: usize) {
        while self.accounts.len() > n {
            let spec = self.accounts.pop().expect("more than n accounts");
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
        DefinitionSnap {
            group: self.config.as_deref().map(group_json),
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
        for rec in snap.accounts {
            let spec = account_of(rec)?;
            definition.apply_account(&spec)?;
        }
        Ok(definition)
    }

    /// `["group", BODY]`, then `["account", BODY]` per account in journal order.
    pub(crate) fn digest(&self) -> EntryHash {
        let mut hasher = Sha256::new();
        if let Some(config) = &self.config {
            line(&mut hasher, &[string("group"), group_json(config)]);
        }
        for spec in &self.accounts {
            line(&mut hasher, &[string("account"), account_json(spec)]);
        }
        finish(hasher)
    }
}
