//! Shared fixtures for cashpool's end-to-end tests.

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
