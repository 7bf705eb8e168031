//! The child of the crash test: works on a sled store of the example group
//! for ever, until the parent kills it with SIGKILL.
//!
//! Operation `k` (0, 1, 2, … in journal order) is one atomic commit, chosen
//! and built from `k` and the journal alone, so that a child restarted after
//! a kill plans exactly the operation that was in flight and submits it again:
//! - a batch of transfers into (and back out of) the members' bank accounts on
//!   the open value date, ids `B<k>-<i>of<n>`;
//! - the sweep of the open value date (its transactions and the `SweepRun`
//!   trailer), after which the next day is open;
//! - an import of the generated MT940 statements of the next swept date not
//!   imported yet, sources `I<k>-<i>of<n>.sta`.
//!
//! Lines on stdout: `READY` once the store is open; `REDO <k> <kind>` once the
//! last operation found in the journal was submitted again and found to be a
//! no-op; `BEGIN <k> <kind>` before an operation; after it is acknowledged
//! `ACK <k> batch <date> <n> <first seq>`, `ACK <k> sweep <date> <transactions>
//! <trailer seq>` or `ACK <k> import <date> <n> <bank id>/<currency>/<statement id>@<seq>…`.

use std::io::Write;

use cashpool_ledger::bank::{BankStatement, ImportReceipt, StatementFormat};
use cashpool_ledger::journal::{EntryBody, Timestamp};
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::storage::{SledStorage, Storage};
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{BatchMode, Ledger};
use cashpool_recon::generate::StatementGenerator;
use cashpool_tests::EXAMPLE_GROUP;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// The first value date.
fn start_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 2).expect("valid date")
}

/// When an operation on value date `date` is recorded: that day, 18:00 UTC.
fn at(date: NaiveDate) -> Timestamp {
    Timestamp::parse_rfc3339(&format!("{date}T18:00:00Z")).expect("valid timestamp")
}

/// splitmix64: the operations' choices are a pure function of their number.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
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

/// The id of transaction `i` of the `n` of batch operation `k`.
fn batch_id(k: u64, i: usize, n: usize) -> String {
    format!("B{k}-{i}of{n}")
}

/// The source name of statement `i` of the `n` of import operation `k`.
fn import_source(k: u64, i: usize, n: usize) -> String {
    format!("I{k}-{i}of{n}.sta")
}

/// Parses `<prefix><k>-<i>of<n><suffix>`.
fn parse_tag(text: &str, prefix: &str, suffix: &str) -> Option<(u64, usize, usize)> {
    let rest = text.strip_prefix(prefix)?.strip_suffix(suffix)?;
    let (k, rest) = rest.split_once('-')?;
    let (i, n) = rest.split_once("of")?;
    Some((k.parse().ok()?, i.parse().ok()?, n.parse().ok()?))
}

/// Batch operation `k` on `date`: 1 to 24 transactions; an even one moves
/// money in, the odd one after it moves less of it back out, so that no
/// member's balance falls below what it was before the batch.
fn batch_requests(k: u64, date: NaiveDate) -> Vec<TransactionRequest> {
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
    requests
}

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
            let receipts = ledger.import_statements(named, at(date)).expect("import again").expect("accepted");
            for (receipt, (_, seq)) in receipts.iter().zip(&statements) {
                assert_eq!((receipt.status, receipt.seq), ("already_imported", *seq), "import {k} again");
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
    match mix(k ^ 0xC0FF_EE00) % 8 {
        4 | 5 => {
            say(format!("BEGIN {k} sweep"));
            return Planned::Sweep;
        }
        6 | 7 => {
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
        _ => {}
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
        match plan(k, &ledger, &mut generator, &mut progress, &mut say) {
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
                let receipts = ledger.import_statements(named, at(date)).expect("import").expect("accepted");
                let mut line = format!("ACK {k} import {date} {n}");
                for receipt in &receipts {
                    assert_eq!(receipt.status, "new", "import {k}: {receipt:?}");
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
