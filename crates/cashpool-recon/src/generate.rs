//! The banks' side, simulated: end-of-day statements generated from what the
//! ledger posted. The demo writes them as MT940 or camt.053 files and imports
//! them the next morning; the round-trip tests check that a faithful bank
//! reconciles to 100 % with no break.
//!
//! Each bank account (a ledger account with a `bank_id`) gets one statement
//! per currency and value date with movements: opening = the balance at the
//! end of the day before, one line per posting (the transaction's reference
//! as owner reference and end-to-end id, a sweep coded as cash-pool zero
//! balancing), closing = opening + Σ lines, consecutive sequence numbers.

use std::collections::BTreeMap;

use cashpool_ledger::bank::{BankBalance, BankLine, BankStatement, StatementFormat};
use cashpool_ledger::journal::{Entry, EntryBody};
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use chrono::NaiveDate;
use rust_decimal::Decimal;

#[derive(Debug, Clone)]
struct Movement {
    seq: u64,
    tx_id: String,
    reference: String,
    memo: String,
    purpose: Purpose,
    amount: Decimal,
}

#[derive(Debug, Clone)]
struct BankAccount {
    id: String,
    bank_id: String,
    bic: Option<String>,
    /// Movements by currency and value date.
    movements: BTreeMap<(Currency, NaiveDate), Vec<Movement>>,
    /// Statements issued so far per currency (the next sequence number - 1).
    issued: BTreeMap<Currency, u64>,
}

/// Folds journal entries and issues statements.
#[derive(Debug, Default)]
pub struct StatementGenerator {
    accounts: Vec<BankAccount>,
    index: BTreeMap<String, usize>,
}

impl StatementGenerator {
    pub fn new() -> StatementGenerator {
        StatementGenerator::default()
    }

    /// Takes the next journal entry.
    pub fn push(&mut self, entry: &Entry) {
        match &entry.body {
            EntryBody::AccountOpened(spec) => {
                if let Some(bank_id) = &spec.bank_id {
                    self.index.insert(spec.id.clone(), self.accounts.len());
                    self.accounts.push(BankAccount {
                        id: spec.id.clone(),
                        bank_id: bank_id.clone(),
                        bic: spec.bank_bic.clone(),
                        movements: BTreeMap::new(),
                        issued: BTreeMap::new(),
                    });
                }
            }
            EntryBody::Transaction(tx) => {
                for posting in &tx.postings {
                    let Some(&idx) = self.index.get(&posting.account) else { continue };
                    self.accounts[idx].movements.entry((posting.currency, tx.value_date)).or_default().push(Movement {
                        seq: entry.seq,
                        tx_id: tx.id.clone(),
                        reference: tx.reference.clone(),
                        memo: tx.memo.clone(),
                        purpose: tx.purpose,
                        amount: posting.amount,
                    });
                }
            }
            _ => {}
        }
    }

    /// Makes the next statement of a bank account and currency skip one
    /// sequence number (the demo's deliberate continuity break).
    pub fn skip_number(&mut self, bank_id: &str, currency: &str) {
        let Some(currency) = Currency::from_code(currency) else { return };
        if let Some(account) = self.accounts.iter_mut().find(|a| a.bank_id == bank_id) {
            *account.issued.entry(currency).or_insert(0) += 1;
        }
    }

    /// The statements of value date `date`: one per bank account and currency
    /// with movements that day, each with the next sequence number of its
    /// account and currency. `format` picks each account's format (it is
    /// recorded in the statement; the caller writes the file).
    pub fn statements_for(&mut self, date: NaiveDate, format: impl Fn(&str) -> StatementFormat) -> Vec<BankStatement> {
        let mut out = Vec::new();
        for account in &mut self.accounts {
            let currencies: Vec<Currency> =
                account.movements.keys().filter(|(_, d)| *d == date).map(|(c, _)| *c).collect();
            for currency in currencies {
                let opening: Decimal = account
                    .movements
                    .range((currency, NaiveDate::MIN)..(currency, date))
                    .flat_map(|(_, moves)| moves.iter().map(|m| m.amount))
                    .sum();
                let moves = &account.movements[&(currency, date)];
                let number = account.issued.entry(currency).or_insert(0);
                *number += 1;
                let statement_format = format(&account.id);
                let code = currency.code();
                let lines: Vec<BankLine> = moves
                    .iter()
                    .enumerate()
                    .map(|(n, m)| {
                        let reference = if m.reference.is_empty() { m.tx_id.clone() } else { m.reference.clone() };
                        let owner: String = reference.chars().filter(|c| *c != '/').take(16).collect();
                        let sweep = m.purpose == Purpose::PoolFunding;
                        let type_code = match (statement_format, sweep) {
                            (StatementFormat::Camt053, true) => "CAMT/ACCB/ZABA".to_string(),
                            (StatementFormat::Camt053, false) if m.amount.is_sign_negative() => {
                                "PMNT/ICDT/ESCT".to_string()
                            }
                            (StatementFormat::Camt053, false) => "PMNT/RCDT/ESCT".to_string(),
                            (_, true) => "NCMZ".to_string(),
                            _ => "NTRF".to_string(),
                        };
                        BankLine {
                            source_line: 0,
                            booking_date: Some(date),
                            value_date: Some(date),
                            amount: m.amount,
                            currency: code.to_string(),
                            reversal: false,
                            end_to_end_id: Some(reference.chars().filter(|c| *c != '/').collect()),
                            uetr: None,
                            owner_reference: (!owner.is_empty()).then_some(owner),
                            bank_reference: Some(format!("{}{:03}", m.seq, n + 1)),
                            type_code,
                            narrative: m
                                .memo
                                .chars()
                                .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
                                .collect::<String>()
                                .split_whitespace()
                                .collect::<Vec<_>>()
                                .join(" "),
                        }
                    })
                    .collect();
                let closing = opening + lines.iter().map(|l| l.amount).sum::<Decimal>();
                let day_before = date.pred_opt().unwrap_or(date);
                out.push(BankStatement {
                    format: statement_format,
                    statement_id: format!("{}{code}{:05}", date.format("%y%m%d"), *number),
                    sequence: Some(number.to_string()),
                    account_id: account.bank_id.clone(),
                    bic: account.bic.clone(),
                    currency: code.to_string(),
                    opening: Some(BankBalance { date: Some(day_before), currency: code.to_string(), amount: opening }),
                    closing: Some(BankBalance { date: Some(date), currency: code.to_string(), amount: closing }),
                    closing_available: None,
                    date: Some(date),
                    lines,
                });
            }
        }
        out
    }
}
