//! Shared fixtures for cashpool's end-to-end tests.

use cashpool_ledger::journal::Timestamp;

pub mod faulty;

/// The small test group: T-DMA (CNY overdraft 100.00, USD), T-IMA (USD, JPY, KWD), HK-OPS (USD, CNY), EXT (external).
pub const SMALL_GROUP: &str = include_str!("../fixtures/small-group.toml");
/// The bundled example group.
pub const EXAMPLE_GROUP: &str = include_str!("../../examples/lingang-group.toml");

/// A fixed timestamp for tests: 2026-11-02T09:00:00Z.
pub fn at() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-02T09:00:00Z").expect("valid timestamp")
}
