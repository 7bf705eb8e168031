//! Shared fixtures for cashpool's end-to-end tests.

use cashpool_ledger::bank::{BankBalance, BankLine, BankStatement, StatementFormat};
use cashpool_ledger::journal::Timestamp;
use cashpool_ledger::{LedgerError, Rejection};

pub mod faulty;

/// The small test group: T-DMA (CNY overdraft 100.00, USD), T-IMA (USD, JPY, KWD), HK-OPS (USD, CNY), EXT (external).
pub const SMALL_GROUP: &str = include_str!("../fixtures/small-group.toml");
/// The bundled example group.
pub const EXAMPLE_GROUP: &str = include_str!("../../examples/lingang-group.toml");

/// The refusal of an operation as a value; an operating error (storage,
/// integrity) fails the test.
pub fn refusal<T>(result: Result<T, LedgerError>) -> Result<T, Rejection> {
    match result {
        Ok(value) => Ok(value),
        Err(LedgerError::Refused(rejection)) => Err(rejection),
        Err(err) => panic!("not a refusal: {err}"),
    }
}

/// A fixed timestamp for tests: 2026-11-02T09:00:00Z.
pub fn at() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-02T09:00:00Z").expect("valid timestamp")
}

/// An MT940 statement (as the bank simulator would read it) of SZ-OPS (CNY) for 2026-11-02 with the day's funding and payroll.
pub fn sz_statement() -> BankStatement {
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("a date");
    let line = |amount: &str, reference: &str, source_line: u32| BankLine {
        source_line,
        booking_date: Some(date),
        value_date: Some(date),
        amount: amount.parse().expect("a decimal"),
        currency: "CNY".into(),
        reversal: false,
        end_to_end_id: None,
        uetr: None,
        owner_reference: Some(reference.into()),
        bank_reference: None,
        type_code: "NTRF".into(),
        narrative: String::new(),
    };
    let balance = |amount: &str| {
        Some(BankBalance { date: Some(date), currency: "CNY".into(), amount: amount.parse().expect("a decimal") })
    };
    BankStatement {
        format: StatementFormat::Mt940,
        statement_id: "SZ-20261102".into(),
        sequence: Some("00001/001".into()),
        account_id: "32000077770001".into(),
        bic: Some("ICBKCNBJSZH".into()),
        currency: "CNY".into(),
        opening: balance("0.00"),
        closing: balance("1750000.00"),
        closing_available: None,
        date: Some(date),
        lines: vec![line("3000000.00", "F-SZ-CNY", 5), line("-1250000.00", "P-SZ-PAYROLL", 7)],
    }
}

/// The statement of `account` as the journal says it, read entry by entry
/// (the model the posting index is checked against): every posting of the
/// account, sorted by value date and sequence number, with running balances.
pub fn journal_statement(
    ledger: &cashpool_ledger::Ledger,
    account: &str,
    currency: Option<cashpool_ledger::money::Currency>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> cashpool_ledger::StatementView {
    use cashpool_ledger::journal::EntryBody;
    use cashpool_ledger::money::Currency;
    use rust_decimal::Decimal;
    let mut opening: Vec<(Currency, Decimal)> = Vec::new();
    let mut lines = Vec::new();
    for item in ledger.entries(1) {
        let (entry, _) = item.expect("the journal reads back");
        let EntryBody::Transaction(tx) = entry.body else { continue };
        for posting in tx.postings.iter().filter(|p| p.account == account) {
            if currency.is_some_and(|c| c != posting.currency) {
                continue;
            }
            if from.is_some_and(|from| tx.value_date < from) {
                add(&mut opening, posting.currency, posting.amount);
            } else if to.is_none_or(|to| tx.value_date <= to) {
                lines.push(cashpool_ledger::StatementLine {
                    seq: entry.seq,
                    value_date: tx.value_date,
                    id: tx.id.clone(),
                    purpose: tx.purpose,
                    reference: tx.reference.clone(),
                    memo: tx.memo.clone(),
                    currency: posting.currency,
                    amount: posting.amount,
                    balance: Decimal::ZERO,
                });
            }
        }
    }
    lines.sort_by_key(|line| (line.value_date, line.seq));
    opening.sort_by_key(|(ccy, _)| *ccy);
    let mut closing = opening.clone();
    for line in &mut lines {
        line.balance = add(&mut closing, line.currency, line.amount);
    }
    closing.sort_by_key(|(ccy, _)| *ccy);
    cashpool_ledger::StatementView { account: account.to_string(), from, to, opening, lines, closing, next: None }
}

/// Every account's statement from the posting index is the journal's (the
/// model of [`journal_statement`], for every account in one pass over the journal).
#[track_caller]
pub fn assert_statements_are_the_journals(ledger: &cashpool_ledger::Ledger, context: &str) {
    use cashpool_ledger::journal::EntryBody;
    use cashpool_ledger::money::Currency;
    use rust_decimal::Decimal;
    let mut lines: std::collections::HashMap<String, Vec<cashpool_ledger::StatementLine>> = Default::default();
    for item in ledger.entries(1) {
        let (entry, _) = item.expect("the journal reads back");
        let EntryBody::Transaction(tx) = entry.body else { continue };
        for posting in &tx.postings {
            lines.entry(posting.account.clone()).or_default().push(cashpool_ledger::StatementLine {
                seq: entry.seq,
                value_date: tx.value_date,
                id: tx.id.clone(),
                purpose: tx.purpose,
                reference: tx.reference.clone(),
                memo: tx.memo.clone(),
                currency: posting.currency,
                amount: posting.amount,
                balance: Decimal::ZERO,
            });
        }
    }
    for spec in ledger.accounts() {
        let mut expected = lines.remove(&spec.id).unwrap_or_default();
        // Stable: two postings of one entry to the account keep their order, as the index's position does.
        expected.sort_by_key(|line| (line.value_date, line.seq));
        let mut closing: Vec<(Currency, Decimal)> = Vec::new();
        for line in &mut expected {
            line.balance = add(&mut closing, line.currency, line.amount);
        }
        closing.sort_by_key(|(ccy, _)| *ccy);
        let from_journal = cashpool_ledger::StatementView {
            account: spec.id.clone(),
            from: None,
            to: None,
            opening: Vec::new(),
            lines: expected,
            closing,
            next: None,
        };
        let from_index = ledger.statement(&spec.id, None, None).expect("a statement reads");
        assert_eq!(from_index, from_journal, "{context}: the statement of {}", spec.id);
    }
}

/// Adds `amount` to the running total of `currency` in `totals`; the new total.
fn add(
    totals: &mut Vec<(cashpool_ledger::money::Currency, rust_decimal::Decimal)>,
    currency: cashpool_ledger::money::Currency,
    amount: rust_decimal::Decimal,
) -> rust_decimal::Decimal {
    match totals.iter_mut().find(|(ccy, _)| *ccy == currency) {
        Some((_, total)) => {
            *total += amount;
            *total
        }
        None => {
            totals.push((currency, amount));
            amount
        }
    }
}
