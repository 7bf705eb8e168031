//! The crash test's workload: the operations its child process runs on a
//! store of the example group until the parent kills it with SIGKILL.
//!
//! Operation `k` (0, 1, 2, … in journal order) is one atomic commit whose
//! kind and content are a pure function of `k` (and, for an import, of the
//! journal), so that a child restarted after a kill plans exactly the
//! operation that was in flight and submits it again. The child binary keeps
//! only its process protocol (reading the journal back, `READY`/`BEGIN`/`ACK`).

use cashpool_ledger::journal::Timestamp;
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::tx::TransactionRequest;
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::SplitMix64;

/// The first value date.
pub fn start_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 2).expect("valid date")
}

/// When an operation on value date `date` is recorded: that day, 18:00 UTC.
pub fn at(date: NaiveDate) -> Timestamp {
    Timestamp::parse_rfc3339(&format!("{date}T18:00:00Z")).expect("valid timestamp")
}

/// What operation `k` is meant to be. An import that finds no statements to
/// import becomes a batch (the child decides, from the journal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// A batch of transfers on the open value date ([`batch_requests`]).
    Batch,
    /// The sweep of the open value date, after which the next day is open.
    Sweep,
    /// An import of the generated MT940 statements of the next swept date not imported yet.
    Import,
}

/// The kind of operation `k`: a quarter sweeps, a quarter imports, half batches.
pub fn op_kind(k: u64) -> OpKind {
    match SplitMix64::mix(k ^ 0xC0FF_EE00) % 8 {
        4 | 5 => OpKind::Sweep,
        6 | 7 => OpKind::Import,
        _ => OpKind::Batch,
    }
}

/// Members' bank accounts a batch moves money into (and partly back out of),
/// with the external counterparty on the same side of the border.
const TARGETS: [(&str, &str, &str); 6] = [
    ("HK-OPS", "USD", "EXT-OFFSHORE"),
    ("SZ-OPS", "CNY", "EXT-ONSHORE"),
    ("JP-OPS", "JPY", "EXT-OFFSHORE"),
    ("DE-OPS", "EUR", "EXT-OFFSHORE"),
    ("SG-OPS", "USD", "EXT-OFFSHORE"),
    ("HK-OPS", "CNY", "EXT-OFFSHORE"),
];

/// The id of transaction `i` of the `n` of batch operation `k`: `B<k>-<i>of<n>`.
pub fn batch_id(k: u64, i: usize, n: usize) -> String {
    format!("B{k}-{i}of{n}")
}

/// The source name of statement `i` of the `n` of import operation `k`: `I<k>-<i>of<n>.sta`.
pub fn import_source(k: u64, i: usize, n: usize) -> String {
    format!("I{k}-{i}of{n}.sta")
}

/// Reads `<prefix><k>-<i>of<n><suffix>` (a [`batch_id`] or an [`import_source`]) back.
///
/// ```
/// use cashpool_sim::crash::{batch_id, parse_tag};
/// assert_eq!(parse_tag(&batch_id(12, 3, 7), "B", ""), Some((12, 3, 7)));
/// assert_eq!(parse_tag("SW-1", "B", ""), None);
/// ```
pub fn parse_tag(text: &str, prefix: &str, suffix: &str) -> Option<(u64, usize, usize)> {
    let rest = text.strip_prefix(prefix)?.strip_suffix(suffix)?;
    let (k, rest) = rest.split_once('-')?;
    let (i, n) = rest.split_once("of")?;
    Some((k.parse().ok()?, i.parse().ok()?, n.parse().ok()?))
}

/// Batch operation `k` on `date`: 1 to 24 transactions; an even one moves
/// money in, the odd one after it moves less of it back out, so that no
/// member's balance falls below what it was before the batch.
pub fn batch_requests(k: u64, date: NaiveDate) -> Vec<TransactionRequest> {
    let mix = SplitMix64::mix;
    let n = 1 + (mix(k) % 24) as usize;
    let mut requests = Vec::with_capacity(n);
    let mut last_in = 0i64;
    for i in 0..n {
        let r = mix(k.wrapping_mul(1_000_003).wrapping_add(i as u64 + 1));
        let pair = if i % 2 == 0 { r } else { mix(k.wrapping_mul(1_000_003).wrapping_add(i as u64)) };
        let (account, code, external) = TARGETS[(pair % TARGETS.len() as u64) as usize];
        let scale = Currency::from_code(code).expect("active currency").minor_units();
        let (from, to, minor) = if i % 2 == 0 {
            last_in = 100_000 + (r >> 8) as i64 % 20_000_000;
            (external, account, last_in)
        } else {
            (account, external, (last_in * ((r >> 8) % 90 + 1) as i64 / 100).max(1))
        };
        requests.push(TransactionRequest::transfer(
            batch_id(k, i, n),
            date,
            from,
            to,
            code,
            Decimal::new(minor, scale),
            Purpose::CurrentAccount,
            "",
            format!("crash op {k}"),
        ));
    }
    assert_eq!(requests.len(), n);
    requests
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_a_pure_function_of_its_number() {
        let date = start_date();
        for k in 0..50 {
            let batch = batch_requests(k, date);
            assert!((1..=24).contains(&batch.len()));
            assert_eq!(batch, batch_requests(k, date));
            assert_eq!(parse_tag(&batch[0].id, "B", ""), Some((k, 0, batch.len())));
        }
    }

    #[test]
    fn every_kind_of_operation_occurs() {
        let kinds: Vec<OpKind> = (0..64).map(op_kind).collect();
        assert!(kinds.contains(&OpKind::Batch));
        assert!(kinds.contains(&OpKind::Sweep));
        assert!(kinds.contains(&OpKind::Import));
        assert_eq!(parse_tag(&import_source(5, 1, 3), "I", ".sta"), Some((5, 1, 3)));
    }
}
