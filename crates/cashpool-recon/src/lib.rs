//! `cashpool-recon`: the bank-feed adapter of cashpool.
//!
//! Every morning the banks send statements. This crate will read them
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
//! Its boundaries, fixed now so that the core stays clean:
//!
//! - It depends on `cashpool-ledger`, never the reverse: the ledger knows no
//!   bank file format.
//! - A parser never fails a whole file and never panics: it returns what it
//!   read plus diagnostics with line numbers.
//! - Imported statements become journal entries of the ledger, so the hash
//!   chain and a regulator's replay cover them.
//!
//! The parsers and the matching engine arrive with the reconciliation issue;
//! until then the crate has no public items.

#![forbid(unsafe_code)]
