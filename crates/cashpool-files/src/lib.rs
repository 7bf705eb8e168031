//! `cashpool-files`: the readers of cashpool's input files, and its hledger export.
//!
//! The core (`cashpool-ledger`) knows no file format, except for now the group
//! definition TOML: it takes typed requests ([`cashpool_ledger::tx::TransactionRequest`],
//! [`cashpool_ledger::rates::RateRow`], [`cashpool_ledger::calendar::CalendarDay`], [`cashpool_ledger::netting::Invoice`],
//! [`cashpool_ledger::eligibility::MemberFigures`]) and hands out its journal
//! through its public API. This crate turns files into those types and the
//! journal into text, one module a format:
//!
//! - [`transactions`]: transactions CSV and JSON Lines, and [`transactions::column()`],
//!   which names a refusal's field as the file wrote it;
//! - [`rates`]: the rates CSV;
//! - [`benchmarks`]: the benchmarks CSV (dated fixings of interest rate series);
//! - [`calendars`]: the business-day calendar CSV;
//! - [`invoices`]: the invoices CSV (netting);
//! - [`figures`]: the members' previous-year figures CSV (`cashpool pool check`);
//! - [`hledger`]: the journal as a plain-text hledger journal.
//!
//! Every reader checks each cell through [`cell`], the one typed cell reader,
//! so that a date, a currency code or a decimal is read, and its mistakes
//! explained, the same way in every file. A reader never stops at the first bad
//! row: it returns every good row and an [`InputError`] for every bad one (a row
//! may report several fields), with 1-based physical line numbers, and never
//! panics, whatever the input.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;

pub mod benchmarks;
pub mod calendars;
pub mod cell;
pub mod figures;
pub mod hledger;
pub mod invoices;
pub mod rates;
mod records;
pub mod transactions;

/// Most rows one file may hold.
pub const ROWS_MAX: usize = 1_000_000;

/// Why a row or line of an input file was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The 1-based physical line where the bad row starts.
    pub line: u64,
    /// The field at fault (`amount`, `postings[1].amount`), or `None` when the
    /// row as a whole is wrong (bad header, wrong number of fields, not JSON).
    pub field: Option<String>,
    /// What is wrong, and what to do when that is not obvious.
    pub reason: String,
}

impl InputError {
    pub(crate) fn new(line: u64, field: Option<&str>, reason: impl Into<String>) -> InputError {
        InputError { line, field: field.map(str::to_string), reason: reason.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}, field `{}`: {}", self.line, field, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

impl std::error::Error for InputError {}

/// The errors of one row, each naming its field: every reader collects a
/// row's errors here, so that one row may report several fields.
pub(crate) struct RowCheck {
    line: u64,
    pub(crate) errors: Vec<InputError>,
}

impl RowCheck {
    pub(crate) fn new(line: u64) -> RowCheck {
        RowCheck { line, errors: Vec::new() }
    }

    /// Records an error against `field`.
    pub(crate) fn fail(&mut self, field: &str, reason: impl Into<String>) {
        self.errors.push(InputError::new(self.line, Some(field), reason));
    }

    /// `result`'s value, or `None` after recording its error against `field`.
    pub(crate) fn take<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(reason) => {
                self.fail(field, reason);
                None
            }
        }
    }
}
