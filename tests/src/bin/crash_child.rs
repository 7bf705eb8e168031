//! The child of the crash test: posts numbered batches to a sled store
//! forever and prints `ACK <batch>` after each one is acknowledged, until the
//! parent kills it with SIGKILL.

use std::io::Write;

use cashpool_ledger::model::Purpose;
use cashpool_ledger::storage::{SledStorage, Storage};
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{BatchMode, Ledger};
use cashpool_tests::{at, SMALL_GROUP};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Transactions per batch.
pub const BATCH: u64 = 50;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: crash_child DIR");
    let storage = SledStorage::open(std::path::Path::new(&dir)).expect("open the store");
    let ledger = if !storage.is_empty().expect("read the journal") {
        Ledger::open(Box::new(storage)).expect("reopen after a crash")
    } else {
        Ledger::create(Box::new(storage), SMALL_GROUP, at()).expect("create")
    };
    println!("READY");
    let n_transactions = ledger.n_transactions();
    assert_eq!(n_transactions % BATCH, 0, "no batch is partial");
    let date = NaiveDate::from_ymd_opt(2026, 11, 2).expect("valid date");
    let mut stdout = std::io::stdout().lock();
    for batch in n_transactions / BATCH.. {
        let requests: Vec<_> = (0..BATCH)
            .map(|idx| {
                TransactionRequest::transfer(
                    format!("C{batch}-{idx}"),
                    date,
                    "EXT",
                    "T-IMA",
                    "USD",
                    Decimal::new(i64::try_from(batch * BATCH + idx + 1).expect("small"), 2),
                    Purpose::CurrentAccount,
                    "",
                    "",
                )
            })
            .collect();
        let outcome = ledger.post_batch(&requests, BatchMode::Atomic, "crash", at()).expect("post");
        assert!(outcome.rejected.is_empty());
        writeln!(stdout, "ACK {batch}").expect("write");
        stdout.flush().expect("flush");
    }
}
