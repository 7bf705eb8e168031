//! The `statements` part, the bank inbox: for each statement key (bank
//! account, statement id, sequence), the first imported copy's content hash
//! and entry. Conflicting copies are journaled but change nothing here.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::snapshot::FirstImportSnap;
use crate::bank::{statement_key, BankStatement, ImportStatus, ImportedStatement};
use crate::digest::{finish, hash, line, string};
use crate::journal::EntryHash;

/// The bank inbox.
#[derive(Debug, Clone, Default)]
pub(crate) struct Statements {
    /// Statement key → the first copy's content hash and journal entry.
    first_imports: HashMap<(String, String, String), (EntryHash, u64)>,
}

impl Statements {
    /// A `statement_imported` entry. `account`: the ledger account the
    /// definition maps the statement to, which must be the one recorded, as
    /// must the status this part gives it.
    pub(crate) fn apply(
        &mut self,
        imported: &ImportedStatement,
        account: Option<String>,
        seq: u64,
    ) -> Result<(), String> {
        let statement = &imported.statement;
        if imported.content_hash != statement.content_hash() {
            return Err(format!("statement {:?}: content hash does not match its content", statement.statement_id));
        }
        let status = self.status(statement, imported.content_hash)?;
        if account != imported.account || status != imported.status {
            return Err(format!(
                "statement {:?}: recorded as account {:?} ({:?}), replay finds {:?} ({:?})",
                statement.statement_id, imported.account, imported.status, account, status
            ));
        }
        self.first_imports.entry(statement_key(statement)).or_insert((imported.content_hash, seq));
        Ok(())
    }

    /// Whether a statement is new or a conflicting copy; an exact copy of an
    /// imported statement is an error.
    pub(crate) fn status(&self, statement: &BankStatement, content_hash: EntryHash) -> Result<ImportStatus, String> {
        match self.first_imports.get(&statement_key(statement)) {
            None => Ok(ImportStatus::New),
            Some((hash, seq)) if *hash == content_hash => {
                Err(format!("statement {:?} is already in entry {seq}", statement.statement_id))
            }
            Some(_) => Ok(ImportStatus::Conflict),
        }
    }

    /// The first copy imported under a statement key: its content hash and entry.
    pub(crate) fn first_import(&self, key: &(String, String, String)) -> Option<(EntryHash, u64)> {
        self.first_imports.get(key).copied()
    }

    /// The part as the state snapshot keeps it: the first copy under each key.
    pub(crate) fn snapshot(&self) -> Vec<FirstImportSnap> {
        let mut keys: Vec<FirstImportSnap> = self
            .first_imports
            .iter()
            .map(|((k0, k1, k2), (content_hash, seq))| FirstImportSnap {
                key: [k0.clone(), k1.clone(), k2.clone()],
                content_hash: content_hash.0,
                seq: *seq,
            })
            .collect();
        // One order for one state: the file is the same for the same journal.
        keys.sort_by(|a, b| a.key.cmp(&b.key));
        keys
    }

    /// The part a snapshot kept.
    pub(crate) fn restore(keys: Vec<FirstImportSnap>) -> Result<Statements, String> {
        let mut statements = Statements::default();
        for FirstImportSnap { key: [k0, k1, k2], content_hash, seq } in keys {
            if statements.first_imports.insert((k0, k1, k2), (EntryHash(content_hash), seq)).is_some() {
                return Err(format!("a statement key is kept twice (entry {seq})"));
            }
        }
        Ok(statements)
    }

    /// Each entry imports one statement: no entry is the first copy of two keys.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        let mut seqs = HashSet::with_capacity(self.first_imports.len());
        if let Some((_, seq)) = self.first_imports.values().find(|(_, seq)| *seq == 0 || !seqs.insert(*seq)) {
            return Err(format!("entry {seq} is the first copy of two statements, or no entry"));
        }
        Ok(())
    }

    /// `[key0, key1, key2, content_hash, seq]` per key, sorted by the key's strings.
    pub(crate) fn digest(&self) -> EntryHash {
        let mut keys: Vec<_> = self.first_imports.iter().collect();
        keys.sort();
        let mut hasher = Sha256::new();
        for ((k0, k1, k2), (content_hash, seq)) in keys {
            line(&mut hasher, &[string(k0), string(k1), string(k2), hash(*content_hash), seq.to_string()]);
        }
        finish(hasher)
    }
}
