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
