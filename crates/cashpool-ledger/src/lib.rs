//! `cashpool-ledger`: the core of cashpool, a unified multi-currency cash pool ledger.
//!
//! The public API is what the other crates of the workspace (and the guides'
//! examples) use, nothing more; everything else is `pub(crate)`.
//!
//! **The ledger, its requests and its typed outcomes.** [`Ledger`] validates,
//! posts (group commit) and answers queries. It takes requests
//! ([`tx::TransactionRequest`], [`rates::RateRow`], [`limits::LimitsChange`],
//! [`netting::Invoice`], [`bank::BankStatement`]) and answers with one type per
//! operation: [`Receipt`], [`BatchOutcome`] (with [`BatchMode`]), [`RatesImport`],
//! [`SweepOutcome`], [`InterestOutcome`], [`NettingOutcome`],
//! [`bank::ImportReceipt`], and the views [`BalanceRow`], [`PositionRow`],
//! [`StatementView`], [`limits::LimitsView`] and [`StateDigest`].
//!
//! **The refusal.** Every operation refuses a request with one
//! `#[non_exhaustive]` type, [`Rejection`], with a stable reason code (per
//! request of a batch, as [`Rejected`]). [`LedgerError`] carries it
//! (`Refused`) beside the operating errors: the store, the journal's
//! integrity, the group definition, the state of the store.
//!
//! **Storage.** The [`storage::Storage`] trait (with [`storage::Commit`],
//! [`storage::Checkpoint`] and [`storage::StorageError`]) and its backends:
//! [`storage::SledStorage`] (durable), [`storage::MemoryStorage`] (tests,
//! simulations, benchmarks) and [`storage::JournalSnapshot`] (a read-only view
//! of a journal). The core does no IO of its own beyond the storage it is
//! given: no clock, no randomness. Time comes from the caller as a
//! [`journal::Timestamp`].
//!
//! **Domain values.** What the signatures above need: [`money`] (ISO 4217
//! currencies, exact amounts, their formatting), [`config`] (the group
//! definition, parsed from its TOML by [`config::parse_group_config`]),
//! [`model`] (accounts, zones, purposes), [`journal`] (entries, their hashes
//! and the reading of the hash-chained journal), and the results of the pool's
//! rules: [`sweep`], [`interest`] (with the taxes withheld on it,
//! [`withholding`]), [`cycle`] and [`netting`], [`limits`],
//! [`eligibility`] ([`eligibility::check_eligibility`]), [`bank`] and
//! [`totals`].
//!
//! **Audit.** [`audit`] verifies a store or a JSON Lines export of its journal
//! (the regulator's copy), replays either into a [`StateDigest`], and writes the
//! export.
//!
//! The core knows no file format, except for now the group definition TOML
//! ([`config`]) and the journal's own JSON Lines export ([`audit`]): the
//! readers of the input files (transactions, rates, invoices, figures) and the
//! hledger export are in the `cashpool-files` crate, which uses only this
//! crate's public API.
//!
//! **`testing`** (hidden from these docs) gathers the internals that the
//! workspace's own tests and fuzz targets reach from outside the crate; it is
//! not part of the API and not covered by semver.

#![forbid(unsafe_code)]

pub mod amendment;
pub mod audit;
pub mod bank;
pub mod benchmarks;
pub mod calendar;
pub mod config;
mod currency_table;
pub mod cycle;
mod digest;
pub mod eligibility;
mod index;
pub mod interest;
pub mod journal;
mod ledger;
pub mod limits;
pub mod model;
pub mod money;
pub mod netting;
pub mod rates;
mod settle;
mod state;
mod statement;
pub mod storage;
pub mod sweep;
pub mod totals;
pub mod tx;
pub mod withholding;

pub use ledger::{
    AmendOutcome, BalanceRow, BatchMode, BatchOutcome, BenchmarksImport, CalendarsImport, FlowDirection,
    InterestOutcome, Ledger, LedgerError, NettingOutcome, PositionRow, RatesImport, Receipt, Rejected, Rejection,
    StatementLine, StatementView, SweepOutcome,
};
pub use state::StateDigest;
pub use statement::{StatementCursor, StatementQuery, StatementReader};

/// For the workspace's own tests and fuzz targets only, not for users of the
/// crate: the internals they drive directly (the interest, netting and rate
/// engines, the export lines, the block framing, tampering with a
/// [`storage::MemoryStorage`]). Not part of the API, not covered by semver:
/// anything here may change or go in any release.
///
/// The items re-exported here are `#[doc(hidden)]` where they are defined.
#[doc(hidden)]
pub mod testing {
    pub use crate::audit::ExportLine;
    pub use crate::benchmarks::BenchmarkBook;
    pub use crate::interest::{accrue, day_count_fraction, segments, try_segments, InterestError, Segment};
    pub use crate::journal::block_push;
    pub use crate::journal::v2::{entry_of_line, export_line, ExportLineV2};
    pub use crate::netting::{net_cycle, CycleInput};
    pub use crate::rates::{MissingRate, RateBook, RateError};

    use crate::storage::{MemoryStorage, StoredBalance};

    pub use crate::state::snapshot::Forgery;

    /// Rewrites the state snapshot of `storage` with `forgery` applied and made
    /// consistent otherwise (digest, checksum): a snapshot that a writer with a
    /// bug could have written. `audit verify` and `audit replay` must refuse
    /// it; the ledger trusts it unless what it holds disagrees with something
    /// it checks (the stored balances). `Err` when the storage holds no
    /// snapshot with what `forgery` names.
    pub fn forge_snapshot(storage: &dyn crate::storage::Storage, forgery: &Forgery) -> Result<(), String> {
        crate::state::snapshot::forge(storage, forgery)
    }

    /// A state snapshot's body (docs/STORAGE.md, "The state snapshot"; the
    /// file without its header and checksum) decoded and restored, with the
    /// checks opening makes on the state itself (invariants, digest): the entry
    /// it is at, or why it is refused. For the fuzz target `state_snapshot`.
    pub fn restore_snapshot_body(body: &[u8]) -> Result<u64, String> {
        crate::state::snapshot::restore_body(body)
    }

    /// Imports `days` into `book` as `Ledger::import_calendars` journals and
    /// the fold applies them (the plan, then every check the journal's entry
    /// passes on replay): the days journaled, how many were new and how many
    /// changed, or the conflict that refuses them. For the fuzz target
    /// `calendars_csv`. Panics when the plan's own entry fails the fold's
    /// checks: a bug.
    pub fn import_into_book(
        book: &mut crate::calendar::CalendarBook,
        days: &[crate::calendar::CalendarDay],
        correction: bool,
    ) -> Result<(usize, usize, usize), crate::calendar::CalendarConflict> {
        let plan = book.plan(days, correction)?;
        if !plan.import.days.is_empty() {
            book.apply(&plan.import).unwrap_or_else(|reason| panic!("a planned import fails the fold: {reason}"));
        }
        Ok((plan.import.days.len(), plan.new_days, plan.changed_days))
    }

    /// A state snapshot file decoded (header, version, checksum, body): the entry it is at, or why not.
    pub fn decode_snapshot(bytes: &[u8]) -> Result<u64, String> {
        crate::state::snapshot::decode(bytes).map(|rec| rec.seq)
    }

    /// The name of the index file that holds the state snapshot (docs/STORAGE.md, "The state snapshot").
    pub const SNAPSHOT_FILE: &str = crate::state::snapshot::FILE;

    /// What the tests do to a [`MemoryStorage`] besides storing into it: copy
    /// it, and tamper with what it holds (implemented in `storage::memory`).
    pub trait MemoryStorageExt {
        /// An independent copy of everything stored.
        fn snapshot(&self) -> MemoryStorage;

        /// Edits a stored block's bytes (for tamper tests).
        fn tamper_block(&self, first_seq: u64, edit: impl FnOnce(&mut Vec<u8>));

        /// Overwrites a stored balance (for tamper tests).
        fn tamper_balance(&self, balance: &StoredBalance);
    }
}
