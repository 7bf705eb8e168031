//! The child of the crash test: works on a sled store of the example group
//! for ever, until the parent kills it with SIGKILL.
//!
//! Operation `k` (0, 1, 2, … in journal order) is one atomic commit, chosen
//! and built from `k` and the journal alone, so that a child restarted after
//! a kill plans exactly the operation that was in flight and submits it again
//! (the operations are `cashpool_sim::crash`; this binary is their process
//! protocol: reading the journal back, redoing, saying what it does):
//! - a batch of transfers into (and back out of) the members' bank accounts on
//!   the open value date, ids `B<k>-<i>of<n>`;
//! - the sweep of the open value date (its transactions and the `SweepRun`
//!   trailer), after which the next day is open;
//! - an import of the generated MT940 statements of the next swept date not
//!   imported yet, sources `I<k>-<i>of<n>.sta`.
//!
//! Every third operation begins with `Ledger::checkpoint` (a state snapshot),
//! and the id index is flushed every 25 ids (each flush writes a snapshot
//! too), so that kills land in snapshot writes; every restart opens from the
//! last snapshot written.
//!
//! Lines on stdout: `READY` once the store is open; `REDO <k> <kind>` once the
//! last operation found in the journal was submitted again and found to be a
//! no-op; `BEGIN <k> <kind>` before an operation; after it is acknowledged
//! `ACK <k> batch <date> <n> <first seq>`, `ACK <k> sweep <date> <transactions>
//! <trailer seq>` or `ACK <k> import <date> <n> <bank id>/<currency>/<statement id>@<seq>…`.

use std::io::Write;

use cashpool_ledger::bank::{BankStatement, ImportOutcome, ImportReceipt, StatementFormat};
use cashpool_ledger::journal::EntryBody;
use cashpool_ledger::storage::{SledStorage, Storage};
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{BatchMode, Ledger};
use cashpool_recon::generate::StatementGenerator;
use cashpool_sim::crash::{at, batch_requests, import_source, op_kind, parse_tag, start_date, OpKind};
use cashpool_sim::EXAMPLE_GROUP;
use chrono::NaiveDate;

/// What operation `k` does, planned before it starts.
enum Planned {
    Batch(Vec<TransactionRequest>),
    Sweep,
    Import(NaiveDate, Vec<BankStatement>),
}

/// The last operation found in the journal when the child starts.
enum LastOp {
    Batch { k: u64, date: NaiveDate, n: usize, first_seq: u64 },
    Sweep { k: u64, date: NaiveDate, transactions: usize },
    Import { k: u64, date: NaiveDate, statements: Vec<(BankStatement, u64)> },
}

/// Where the work stands, derived from the journal.
struct Progress {
    /// The number of the next operation.
    next_op: u64,
    /// The open (not yet swept) value date.
    date: NaiveDate,
    /// Every swept date, in order.
    swept: Vec<NaiveDate>,
    /// The date of the last imported statements.
    imported_through: Option<NaiveDate>,
    /// The statement generator has seen the journal up to this entry.
    fed_seq: u64,
}

/// Folds the journal into the progress, the statement generator (with every
/// statement imported before the last operation counted as issued) and the
/// last operation. Checks on the way that no operation is partial.
fn scan(ledger: &Ledger, generator: &mut StatementGenerator) -> (Progress, Option<LastOp>) {
    let mut progress =
        Progress { next_op: 0, date: start_date(), swept: Vec::new(), imported_through: None, fed_seq: 0 };
    let mut last: Option<LastOp> = None;
    let mut earlier_imports: Vec<BankStatement> = Vec::new();
    let mut open_sweep = 0usize;
    for item in ledger.entries(1) {
        let (entry, _) = item.expect("read the journal");
        progress.fed_seq = entry.seq;
        generator.push(&entry);
        match entry.body {
            EntryBody::GroupDefined { .. } | EntryBody::GroupRecord(_) | EntryBody::AccountOpened(_) => {}
            EntryBody::Transaction(tx) if tx.id.starts_with("SW") => open_sweep += 1,
            EntryBody::Transaction(tx) => {
                let (k, i, n) = parse_tag(&tx.id, "B", "").unwrap_or_else(|| panic!("unexpected id {}", tx.id));
                if i == 0 {
                    assert_eq!(k, progress.next_op, "batch {} out of order", tx.id);
                    progress.next_op += 1;
                    if let Some(LastOp::Import { statements, .. }) = last.take() {
                        earlier_imports.extend(statements.into_iter().map(|(statement, _)| statement));
                    }
                    last = Some(LastOp::Batch { k, date: tx.value_date, n, first_seq: entry.seq });
                } else {
                    assert!(
                        matches!(last, Some(LastOp::Batch { k: last_k, first_seq, .. }) if last_k == k && first_seq + i as u64 == entry.seq),
                        "{} does not follow its batch",
                        tx.id
                    );
                }
            }
            EntryBody::SweepRun(run) => {
                assert_eq!(run.date, progress.date, "sweeps are consecutive days");
                assert_eq!(run.sweeps.len(), open_sweep, "the sweep of {} is partial", run.date);
                open_sweep = 0;
                if let Some(LastOp::Import { statements, .. }) = last.take() {
                    earlier_imports.extend(statements.into_iter().map(|(statement, _)| statement));
                }
                last = Some(LastOp::Sweep { k: progress.next_op, date: run.date, transactions: run.sweeps.len() });
                progress.next_op += 1;
                progress.swept.push(run.date);
                progress.date = run.date.succ_opt().expect("a next day");
            }
            EntryBody::StatementImported(imported) => {
                let (k, i, _) = parse_tag(&imported.source, "I", ".sta")
                    .unwrap_or_else(|| panic!("unexpected source {}", imported.source));
                let date = imported.statement.date.expect("generated statements are dated");
                if i == 0 {
                    assert_eq!(k, progress.next_op, "import {} out of order", imported.source);
                    progress.next_op += 1;
                    if let Some(LastOp::Import { statements, .. }) = last.take() {
                        earlier_imports.extend(statements.into_iter().map(|(statement, _)| statement));
                    }
                    last = Some(LastOp::Import { k, date, statements: Vec::new() });
                    progress.imported_through = Some(date);
                }
                match &mut last {
                    Some(LastOp::Import { k: last_k, statements, .. }) if *last_k == k && statements.len() == i => {
                        statements.push((imported.statement, entry.seq));
                    }
                    _ => panic!("{} does not follow its import", imported.source),
                }
            }
            other => panic!("unexpected entry {}: {other:?}", entry.seq),
        }
    }
    assert_eq!(open_sweep, 0, "a sweep's transactions without its trailer");
    for statement in &earlier_imports {
        generator.skip_number(&statement.account_id, &statement.currency);
    }
    (progress, last)
}

/// Submits the last operation of the journal again: it must be a no-op.
fn redo(ledger: &Ledger, generator: &mut StatementGenerator, last: LastOp) -> (u64, &'static str) {
    match last {
        LastOp::Batch { k, date, n, first_seq } => {
            let requests = batch_requests(k, date);
            assert_eq!(requests.len(), n, "batch {k} has another size");
            let outcome = ledger.post_batch(&requests, BatchMode::Atomic, "crash", at(date)).expect("post again");
            assert!(outcome.rejected.is_empty(), "batch {k} again: {:?}", outcome.rejected);
            for (i, receipt) in outcome.receipts.iter().enumerate() {
                assert!(receipt.duplicate, "batch {k} again posted {}", receipt.id);
                assert_eq!(receipt.seq, first_seq + i as u64, "batch {k} again: {}", receipt.id);
            }
            (k, "batch")
        }
        LastOp::Sweep { k, date, transactions } => {
            let outcome = ledger.sweep(date, false, at(date)).expect("sweep again");
            assert!(outcome.already_run, "the sweep of {date} ran twice");
            assert_eq!(outcome.run.sweeps.len(), transactions);
            (k, "sweep")
        }
        LastOp::Import { k, date, statements } => {
            let again = generator.statements_for(date, |_| StatementFormat::Mt940);
            assert!(
                again.iter().eq(statements.iter().map(|(statement, _)| statement)),
                "import {k}: the statements of {date} came out otherwise"
            );
            let n = again.len();
            let named = again.into_iter().enumerate().map(|(i, s)| (import_source(k, i, n), s)).collect();
            let receipts = ledger.import_statements(named, at(date)).expect("import again");
            for (receipt, (_, seq)) in receipts.iter().zip(&statements) {
                assert_eq!((receipt.status, receipt.seq), (ImportOutcome::AlreadyImported, *seq), "import {k} again");
            }
            (k, "import")
        }
    }
}

/// Plans operation `k`, saying `BEGIN <k> <kind>` first: the planning is
/// part of the operation (an import that finds no statements to import
/// becomes a batch, and says so).
fn plan(
    k: u64,
    ledger: &Ledger,
    generator: &mut StatementGenerator,
    progress: &mut Progress,
    say: &mut impl FnMut(String),
) -> Planned {
    match op_kind(k) {
        OpKind::Sweep => {
            say(format!("BEGIN {k} sweep"));
            return Planned::Sweep;
        }
        OpKind::Import => {
            let first = progress.swept.partition_point(|date| Some(*date) <= progress.imported_through);
            if first < progress.swept.len() {
                say(format!("BEGIN {k} import"));
                for item in ledger.entries(progress.fed_seq + 1) {
                    let (entry, _) = item.expect("read the journal");
                    progress.fed_seq = entry.seq;
                    generator.push(&entry);
                }
                for &date in &progress.swept[first..] {
                    let statements = generator.statements_for(date, |_| StatementFormat::Mt940);
                    if !statements.is_empty() {
                        return Planned::Import(date, statements);
                    }
                }
            }
        }
        OpKind::Batch => {}
    }
    say(format!("BEGIN {k} batch"));
    Planned::Batch(batch_requests(k, progress.date))
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: crash_child DIR");
    let storage = SledStorage::open(std::path::Path::new(&dir)).expect("open the store");
    let ledger = if !storage.is_empty().expect("read the journal") {
        Ledger::open(Box::new(storage)).expect("reopen after a crash")
    } else {
        Ledger::create(Box::new(storage), EXAMPLE_GROUP, at(start_date())).expect("create")
    };
    // As the CLI: the indexes' runs are written on a thread of their own, so kills land in them
    // while the child posts on.
    ledger.set_background_flush(true);
    // A run of the on-disk id index every few dozen ids, so that kills land in index writes
    // too, and the operations redone after a kill are found there as duplicates.
    ledger.set_id_index_flush(25);
    let mut stdout = std::io::stdout().lock();
    let mut say = |line: String| {
        writeln!(stdout, "{line}").expect("write");
        stdout.flush().expect("flush");
    };
    say("READY".into());
    let mut generator = StatementGenerator::new();
    let (mut progress, last) = scan(&ledger, &mut generator);
    if let Some(last) = last {
        let (k, kind) = redo(&ledger, &mut generator, last);
        say(format!("REDO {k} {kind}"));
    }
    loop {
        let k = progress.next_op;
        let planned = plan(k, &ledger, &mut generator, &mut progress, &mut say);
        // Every third operation begins with a checkpoint (the ids in memory to the id index,
        // then the state snapshot), so that kills land in snapshot writes too; the id flushes
        // every 25 ids write a snapshot as well.
        if k % 3 == 0 {
            ledger.checkpoint().expect("checkpoint");
        }
        match planned {
            Planned::Batch(requests) => {
                let date = progress.date;
                let outcome = ledger.post_batch(&requests, BatchMode::Atomic, "crash", at(date)).expect("post");
                assert!(outcome.rejected.is_empty(), "batch {k}: {:?}", outcome.rejected);
                let first_seq = outcome.receipts[0].seq;
                for (i, receipt) in outcome.receipts.iter().enumerate() {
                    assert!(!receipt.duplicate && receipt.seq == first_seq + i as u64, "batch {k}: {receipt:?}");
                }
                say(format!("ACK {k} batch {date} {} {first_seq}", requests.len()));
            }
            Planned::Sweep => {
                let date = progress.date;
                let outcome = ledger.sweep(date, false, at(date)).expect("sweep");
                assert!(!outcome.already_run, "{date} was swept before");
                let trailer_seq = ledger.head().0;
                say(format!("ACK {k} sweep {date} {} {trailer_seq}", outcome.run.sweeps.len()));
                progress.swept.push(date);
                progress.date = date.succ_opt().expect("a next day");
            }
            Planned::Import(date, statements) => {
                let n = statements.len();
                let named = statements.into_iter().enumerate().map(|(i, s)| (import_source(k, i, n), s)).collect();
                let receipts = ledger.import_statements(named, at(date)).expect("import");
                let mut line = format!("ACK {k} import {date} {n}");
                for receipt in &receipts {
                    assert_eq!(receipt.status, ImportOutcome::New, "import {k}: {receipt:?}");
                    let ImportReceipt { account_id, currency, statement_id, seq, .. } = receipt;
                    line.push_str(&format!(" {account_id}/{currency}/{statement_id}@{seq}"));
                }
                say(line);
                progress.imported_through = Some(date);
            }
        }
        progress.next_op += 1;
    }
}
