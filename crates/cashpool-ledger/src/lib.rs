//! `cashpool-ledger`: the core of cashpool, a unified multi-currency cash pool ledger.
//!
//! The crate holds the domain: [`money`] (ISO 4217 currencies and exact
//! amounts), [`config`] (the group definition), [`tx`] (transaction requests),
//! [`journal`] (the canonical, hash-chained entry encoding), [`storage`] (the
//! storage trait with sled and in-memory backends), [`Ledger`] (validation,
//! posting, group commit, queries) and [`audit`] (verification, replay, export).
//!
//! The core does no IO of its own beyond the [`storage::Storage`] it is given:
//! no clock, no randomness. Time comes from the caller as a [`journal::Timestamp`].
//!
//! The core knows no file format, except for now the group definition TOML
//! ([`config`]) and the journal's own JSON Lines export ([`audit`], the
//! regulator's copy of the chain): the readers of the input files
//! (transactions, rates, invoices, figures) and the hledger export are in the
//! `cashpool-files` crate, which uses only this crate's public API.

#![forbid(unsafe_code)]

pub mod audit;
pub mod bank;
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
pub mod storage;
pub mod sweep;
pub mod totals;
pub mod tx;

pub use ledger::{
    BalanceRow, BatchMode, BatchOutcome, FlowDirection, InterestOutcome, Ledger, LedgerError, NettingOutcome,
    PositionRow, RatesImport, Receipt, Rejected, Rejection, StatementLine, StatementView, SweepOutcome,
};
pub use state::StateDigest;
