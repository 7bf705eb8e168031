//! Seeded workloads for cashpool: what drives the ledger in the demo, the
//! benchmarks and the crash test, kept out of the binary so that the CLI is
//! argument parsing, a session and rendering, and so that every workload
//! draws from one generator ([`SplitMix64`]).
//!
//! - [`demo`]: the demo's month of the bundled example group, returning a [`demo::DemoRun`];
//! - [`bank`]: the bank simulator (statements from the journal, charges, a
//!   deliberate sequence gap) and the treasury's morning import;
//! - [`bench`]: the workloads and measurements of `cashpool bench`, returning typed figures;
//! - [`scale`]: `cashpool bench scale`, one store grown to millions of
//!   transactions and each command timed in a fresh process at checkpoints;
//! - [`crash`]: the operations of the SIGKILL crash test's child.
//!
//! Architecture invariant: no business rule lives here. The workloads ask the
//! ledger (`cashpool-ledger`) and the reconciliation (`cashpool-recon`) for
//! every figure; a seed and the storage come in from the caller.

#![forbid(unsafe_code)]

use chrono::{Datelike, Duration, NaiveDate, Weekday};

pub mod bank;
pub mod bench;
pub mod crash;
pub mod demo;
mod rng;
pub mod scale;

pub use rng::SplitMix64;

/// The example group (examples/lingang-group.toml), shipped inside the crate.
pub const EXAMPLE_GROUP: &str = include_str!("../../../examples/lingang-group.toml");
/// The month's FX rates (CNY and CNH markets, examples/rates-2026-11.csv), shipped inside the crate.
pub const EXAMPLE_RATES: &str = include_str!("../../../examples/rates-2026-11.csv");
/// The business-day calendars of 2026 the example group names (examples/calendars-2026.csv), shipped inside the crate.
pub const EXAMPLE_CALENDARS: &str = include_str!("../../../examples/calendars-2026.csv");

/// A ledger of the example group on `storage`, with its 2026 business-day
/// calendars imported (as a store of the group runs: every posting valued on a
/// business day of its calendars, none warned of a calendar it lacks): the
/// benchmarks' store.
pub fn example_ledger(
    storage: Box<dyn cashpool_ledger::storage::Storage>,
    at: cashpool_ledger::journal::Timestamp,
) -> Result<cashpool_ledger::Ledger, SimError> {
    let ledger = cashpool_ledger::Ledger::create(storage, EXAMPLE_GROUP, at)?;
    let (days, errors) = cashpool_files::calendars::parse_calendars_csv(EXAMPLE_CALENDARS);
    if let Some(err) = errors.first() {
        return Err(SimError::Integrity(format!("examples/calendars-2026.csv: {err}")));
    }
    ledger.import_calendars(&days, false, at).map_err(refused_as_bug("examples/calendars-2026.csv: "))?;
    Ok(ledger)
}

/// Why a workload stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum SimError {
    /// The ledger refused to work (storage, integrity, configuration).
    Ledger(cashpool_ledger::LedgerError),
    /// The environment failed: a file the workload writes or reads, the store's folder.
    Environment(String),
    /// The workload's own, valid, work was refused or did not read back: a bug
    /// in the ledger or in the workload.
    Integrity(String),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::Ledger(err) => err.fmt(f),
            SimError::Environment(message) | SimError::Integrity(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for SimError {}

impl From<cashpool_ledger::LedgerError> for SimError {
    fn from(err: cashpool_ledger::LedgerError) -> SimError {
        SimError::Ledger(err)
    }
}

/// The workload's own, valid, work refused: a bug ([`SimError::Integrity`],
/// the refusal after `context`); any other ledger error stays one.
pub(crate) fn refused_as_bug(context: &'static str) -> impl Fn(cashpool_ledger::LedgerError) -> SimError {
    move |err| match err {
        cashpool_ledger::LedgerError::Refused(rejection) => SimError::Integrity(format!("{context}{rejection}")),
        other => SimError::Ledger(other),
    }
}

/// An environment failure naming what failed.
pub(crate) fn env_error(err: impl std::fmt::Display) -> SimError {
    SimError::Environment(err.to_string())
}

/// The first `n_days` weekdays from `start` (included when it is one).
///
/// ```
/// use chrono::NaiveDate;
/// let friday = NaiveDate::from_ymd_opt(2026, 11, 6).unwrap();
/// let days = cashpool_sim::business_days(friday, 2);
/// assert_eq!(days, [friday, NaiveDate::from_ymd_opt(2026, 11, 9).unwrap()]);
/// ```
pub fn business_days(start: NaiveDate, n_days: u32) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    let mut day = start;
    while days.len() < n_days as usize {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            days.push(day);
        }
        day += Duration::days(1);
    }
    days
}

/// Folds the whole journal of `ledger` into a reconciliation report, as
/// `cashpool recon report` does.
pub fn reconcile(
    ledger: &cashpool_ledger::Ledger,
    options: cashpool_recon::ReconOptions,
) -> Result<cashpool_recon::Report, SimError> {
    let mut reconciler = cashpool_recon::Reconciler::new(options);
    for item in ledger.entries(1) {
        let (entry, _) = item?;
        reconciler.push(&entry);
    }
    Ok(reconciler.finish())
}
