//! `cashpool-recon`: the bank-feed adapter of cashpool.
//!
//! Every morning the banks send statements. This crate reads them
//! (SWIFT MT940 and MT942; ISO 20022 camt.052, camt.053 and camt.054 in
//! versions .001.02 to .001.13; BAI2, the format detected from the content),
//! map each statement to a ledger account by its bank identifier, check its
//! continuity (opening balance equals the previous closing, opening plus
//! lines equals closing, no gap in sequence numbers, one currency), and
//! reconcile its lines against the ledger's postings: exact references, then
//! cash-pool type codes with amount and value date, then amount and value
//! date within a tolerance, then grouped matches, and otherwise an exception
//! with a reason code.
//!
//! Its boundaries:
//!
//! - It depends on `cashpool-ledger`, never the reverse: the ledger knows no
//!   bank file format, only the statement model ([`cashpool_ledger::bank`]).
//! - A parser never fails a whole file and never panics: it returns what it
//!   read plus diagnostics with line numbers ([`parse::Parsed`]).
//! - Imported statements become journal entries of the ledger, so the hash
//!   chain and a regulator's replay cover them; the reconciliation report
//!   ([`recon::Reconciler`]) is a pure function of the journal.
//!
//! Modules: [`mod@parse`] (detection, the shared result type), [`mt940`],
//! [`camt`] and [`bai2`] (one parser a format; MT940 and camt.053 writers),
//! [`recon`] (matching, continuity and balance checks, the report) and
//! [`generate`] (the statements a faithful bank would send, from the journal).
//! `docs/RECON.md` explains every rule.

#![forbid(unsafe_code)]

pub mod bai2;
pub mod camt;
pub mod generate;
pub mod guide;
pub mod mt940;
pub mod parse;
pub mod recon;

pub use parse::{detect, parse, Diagnostic, Parsed, Severity};
pub use recon::{Break, DayMatch, Exception, MatchRow, ReconOptions, Reconciler, Report};
