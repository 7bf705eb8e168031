//! Transaction requests: what a caller asks the ledger to post.
//!
//! A request is unvalidated: currencies are still text and amounts may carry
//! too many decimals. [`crate::Ledger::post_batch`] validates it against the
//! ledger's accounts and balances and either posts it or rejects it with a
//! [`crate::Rejection`].

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::Purpose;

/// The most postings one transaction may carry (FX legs included).
pub const POSTINGS_MAX: usize = 256;
/// The longest transaction id, in bytes.
pub const ID_LEN_MAX: usize = 64;
/// The longest reference, in bytes.
pub const REFERENCE_LEN_MAX: usize = 64;
/// The longest memo, in bytes.
pub const MEMO_LEN_MAX: usize = 256;

/// A transaction as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionRequest {
    /// The idempotency key: unique in the store.
    pub id: String,
    pub value_date: NaiveDate,
    pub purpose: Purpose,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub memo: String,
    /// Per currency they sum to zero, except the two currencies of `rate`,
    /// whose difference the ledger routes through the FX position account.
    pub postings: Vec<PostingRequest>,
    #[serde(default)]
    pub rate: Option<RateRequest>,
    /// For `foreign_debt`: the term of the borrowing in days.
    #[serde(default)]
    pub term_days: Option<u32>,
    /// For `foreign_debt`: who lends.
    #[serde(default)]
    pub lender: Option<String>,
}

/// One leg: a positive amount increases the account's balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingRequest {
    pub account: String,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// An FX rate: `rate` units of `quote` for one unit of `base`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateRequest {
    pub base: String,
    pub quote: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
}

impl TransactionRequest {
    /// A two-posting movement of `amount` from one account to another.
    #[allow(clippy::too_many_arguments)]
    pub fn transfer(
        id: impl Into<String>,
        value_date: NaiveDate,
        from: impl Into<String>,
        to: impl Into<String>,
        currency: impl Into<String>,
        amount: Decimal,
        purpose: Purpose,
        reference: impl Into<String>,
        memo: impl Into<String>,
    ) -> TransactionRequest {
        let currency = currency.into();
        TransactionRequest {
            id: id.into(),
            value_date,
            purpose,
            reference: reference.into(),
            memo: memo.into(),
            postings: vec![
                PostingRequest { account: from.into(), currency: currency.clone(), amount: -amount },
                PostingRequest { account: to.into(), currency, amount },
            ],
            rate: None,
            term_days: None,
            lender: None,
        }
    }
}
