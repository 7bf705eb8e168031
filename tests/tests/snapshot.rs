//! The state snapshot (docs/STORAGE.md, "The state snapshot"): opening a
//! store reads the state at the snapshot's entry and folds only the entries
//! after it, and must then be exactly the ledger a fold of the whole journal
//! gives: the same state digest and head, the same answers to every query
//! (balances now and as of dates, positions, limits, account statements), the
//! same idempotency (a sweep, an interest period, a netting cycle, a statement
//! and a transaction done before are found done), and the same next entries.
//! A snapshot that does not check out (a byte flipped, another version,
//! another history, a tail that does not fold onto it) is ignored; one that is
//! older than the head is used and the entries after it folded; `audit` folds
//! from genesis and refuses a snapshot whose state is not the journal's.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use cashpool_files::calendars::parse_calendars_csv;
use cashpool_files::invoices::parse_invoices_csv;
use cashpool_files::rates::parse_rates_csv;
use cashpool_ledger::bank::{BankStatement, ImportOutcome};
use cashpool_ledger::journal::{EntryBody, Timestamp};
use cashpool_ledger::limits::LimitsChange;
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::netting::Mode;
use cashpool_ledger::storage::{Commit, MemoryStorage, SledStorage, Storage, StorageError};
use cashpool_ledger::testing::{
    block_push, entry_of_line, forge_snapshot, ExportLineV2, Forgery, MemoryStorageExt, SNAPSHOT_FILE,
};
use cashpool_ledger::tx::{PostingRequest, RateRequest, TransactionRequest};
use cashpool_ledger::{audit, BatchMode, Ledger, LedgerError, Rejection};
use cashpool_tests::faulty::{Faults, FaultyStorage, Method};
use cashpool_tests::{at, sz_statement, EXAMPLE_GROUP};
use chrono::NaiveDate;
use rust_decimal::Decimal;

const RATES: &str = include_str!("../../examples/rates-2026-11.csv");
const BENCHMARKS: &str = include_str!("../../examples/benchmarks-2026.csv");
const CALENDARS: &str = include_str!("../../examples/calendars-2026.csv");

const INVOICES: &str = "\
id,payer,payee,currency,amount,due_date,purpose
SI-001,LGT-HK,LGT-SZ,USD,150000.00,2026-11-03,current_account
SI-002,LGT-SZ,LGT-SG,USD,60000.00,2026-11-03,current_account
SI-003,LGT-DE,LGT-HK,EUR,40000.00,2026-11-03,current_account
SI-004,LGT-SG,LGT-JP,USD,25000.00,2026-11-03,current_account
";

fn d(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn ccy(code: &str) -> Currency {
    Currency::from_code(code).unwrap()
}

fn transfer(id: &str, date: &str, from: &str, to: &str, currency: &str, amount: &str) -> TransactionRequest {
    TransactionRequest::transfer(id, d(date), from, to, currency, dec(amount), Purpose::CurrentAccount, id, "")
}

fn post_all(ledger: &Ledger, requests: &[TransactionRequest]) {
    let outcome = ledger.post_batch(requests, BatchMode::Atomic, "snapshot", at()).unwrap();
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
    assert!(outcome.receipts.iter().all(|receipt| !receipt.duplicate), "{outcome:?}");
}

/// A month's work of every kind on the example group: rates, benchmark fixings, a macro-prudential
/// parameter (limits set), funding, payments and an FX deal, a foreign-debt
/// loan and a repayment, sweeps of two days (intercompany positions), a
/// netting cycle, an interest settlement (with withholding tax and a rounding
/// carry) and a statement import.
fn rich_workload(ledger: &Ledger) {
    let (rows, errors) = parse_rates_csv(RATES, ccy("CNY"));
    assert!(errors.is_empty(), "{errors:?}");
    ledger.import_rates(&rows, at()).unwrap();
    // Benchmark fixings: the rest of the `rates` part (docs/FORMATS.md), in the snapshot since version 5.
    let (fixings, errors) = cashpool_files::benchmarks::parse_benchmarks_csv(BENCHMARKS);
    assert!(errors.is_empty(), "{errors:?}");
    ledger.import_benchmarks(&fixings, at()).unwrap();
    // The year's business-day calendars (the `calendars` part of the snapshot, format 5).
    let (days, errors) = parse_calendars_csv(CALENDARS);
    assert!(errors.is_empty(), "{errors:?}");
    ledger.import_calendars(&days, false, at()).unwrap();
    let change = LimitsChange { effective: d("2026-11-01"), pool: None, macro_prudential: Some(dec("1")) };
    ledger.set_limits(change, at()).unwrap();
    post_all(
        ledger,
        &[
            transfer("F-SH-CNY", "2026-11-02", "EXT-ONSHORE", "SH-DMA", "CNY", "50000000.00"),
            transfer("F-SZ-CNY", "2026-11-02", "EXT-ONSHORE", "SZ-OPS", "CNY", "3000000.00"),
            transfer("F-SZ-USD", "2026-11-02", "EXT-ONSHORE", "SZ-OPS", "USD", "400000.00"),
            transfer("F-IMA-USD", "2026-11-02", "EXT-OFFSHORE", "SH-IMA", "USD", "4000000.00"),
            transfer("F-HK-USD", "2026-11-02", "EXT-OFFSHORE", "HK-OPS", "USD", "1500000.00"),
            transfer("F-SG-USD", "2026-11-02", "EXT-OFFSHORE", "SG-OPS", "USD", "800000.00"),
            transfer("F-DE-EUR", "2026-11-02", "EXT-OFFSHORE", "DE-OPS", "EUR", "900000.00"),
            transfer("F-JP-JPY", "2026-11-02", "EXT-OFFSHORE", "JP-OPS", "JPY", "60000000"),
        ],
    );
    let fx = TransactionRequest {
        id: "FX-HK-1".into(),
        value_date: d("2026-11-02"),
        purpose: Purpose::Fx,
        reference: "FX-HK-1".into(),
        memo: "sell USD buy HKD".into(),
        postings: vec![
            PostingRequest { account: "HK-OPS".into(), currency: "USD".into(), amount: dec("-100000.00") },
            PostingRequest { account: "HK-OPS".into(), currency: "HKD".into(), amount: dec("778650.00") },
        ],
        rate: Some(RateRequest { base: "USD".into(), quote: "HKD".into(), rate: dec("7.7865") }),
        term_days: None,
        lender: None,
    };
    // The same deal back at the same rate on the same day: the FX position nets to zero in both
    // currencies, so SYS-FX-POSITION keeps a USD and an HKD balance without a day (listed as 0.00).
    let fx_back = TransactionRequest {
        id: "FX-HK-2".into(),
        memo: "buy USD back".into(),
        reference: "FX-HK-2".into(),
        postings: vec![
            PostingRequest { account: "HK-OPS".into(), currency: "USD".into(), amount: dec("100000.00") },
            PostingRequest { account: "HK-OPS".into(), currency: "HKD".into(), amount: dec("-778650.00") },
        ],
        ..fx.clone()
    };
    let mut loan = transfer("L-SZ-1", "2026-11-02", "EXT-OFFSHORE", "SZ-OPS", "CNY", "1000000.00");
    loan.purpose = Purpose::ForeignDebt;
    loan.term_days = Some(365);
    loan.lender = Some("Offshore Lender Ltd".into());
    post_all(
        ledger,
        &[
            transfer("P-SZ-PAYROLL", "2026-11-02", "SZ-OPS", "EXT-ONSHORE", "CNY", "1250000.00"),
            transfer("P-HK-SUPPLIER", "2026-11-02", "HK-OPS", "EXT-OFFSHORE", "USD", "200000.00"),
            fx,
            fx_back,
            loan,
        ],
    );
    let mut repayment = transfer("L-SZ-1-R1", "2026-11-03", "SZ-OPS", "EXT-OFFSHORE", "CNY", "250000.00");
    repayment.purpose = Purpose::LoanRepayment;
    repayment.reference = "L-SZ-1".into();
    post_all(ledger, &[repayment]);
    assert!(!ledger.sweep(d("2026-11-02"), false, at()).unwrap().run.sweeps.is_empty());
    let (invoices, errors) = parse_invoices_csv(INVOICES);
    assert!(errors.is_empty(), "{errors:?}");
    let netted = ledger.net("NC-2611-A", d("2026-11-03"), &invoices, Mode::Centre, None, at()).unwrap();
    assert!(!netted.run.result.settlements.is_empty(), "{netted:?}");
    post_all(ledger, &[transfer("D-SZ-IN", "2026-11-03", "EXT-ONSHORE", "SZ-OPS", "CNY", "777777.77")]);
    assert!(!ledger.sweep(d("2026-11-03"), false, at()).unwrap().run.sweeps.is_empty());
    let interest = ledger.interest(d("2026-11-02"), d("2026-11-05"), true, at()).unwrap();
    assert!(interest.settled && !interest.run.accruals.is_empty(), "{interest:?}");
    let receipts = ledger.import_statements(vec![("icbc-20261102.sta".into(), sz_statement())], at()).unwrap();
    assert_eq!(receipts[0].status, ImportOutcome::New, "{receipts:?}");
}

/// What was done before, read back from the journal: what idempotency must find again.
#[derive(Default)]
struct Done {
    sweeps: Vec<NaiveDate>,
    periods: Vec<(NaiveDate, NaiveDate)>,
    cycles: Vec<String>,
    statements: Vec<(String, BankStatement)>,
    /// Transactions an ordinary post can submit again (no FX, no reserved id).
    transactions: Vec<TransactionRequest>,
    dates: Vec<NaiveDate>,
}

fn done(ledger: &Ledger) -> Done {
    let mut done = Done::default();
    for item in ledger.entries(1) {
        let (entry, _) = item.unwrap();
        match entry.body {
            EntryBody::SweepRun(run) => done.sweeps.push(run.date),
            EntryBody::InterestSettled(run) => done.periods.push((run.from, run.to)),
            EntryBody::NettingCycle(run) => done.cycles.push(run.result.cycle.clone()),
            EntryBody::StatementImported(imported) => done.statements.push((imported.source, imported.statement)),
            EntryBody::Transaction(tx) => {
                done.dates.push(tx.value_date);
                // Not the ledger's own (sweeps, interest, netting: reserved ids), no FX legs to rebuild.
                let reserved = ["SW", "INT-", "NET-", "BNK-"].iter().any(|prefix| tx.id.starts_with(prefix));
                let ordinary = tx.rate.is_none() && !reserved;
                if ordinary {
                    done.transactions.push(TransactionRequest {
                        id: tx.id.clone(),
                        value_date: tx.value_date,
                        purpose: tx.purpose,
                        reference: tx.reference.clone(),
                        memo: tx.memo.clone(),
                        postings: tx
                            .postings
                            .iter()
                            .map(|p| PostingRequest {
                                account: p.account.clone(),
                                currency: p.currency.code().into(),
                                amount: p.amount,
                            })
                            .collect(),
                        rate: None,
                        term_days: tx.term_days,
                        lender: tx.lender.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    done.dates.sort();
    done.dates.dedup();
    done
}

/// Every query of `a` and `b` gives the same answer, and every operation done
/// before is found done, with the same answer, by both.
fn assert_same_ledger(a: &Ledger, b: &Ledger) {
    assert_eq!(a.state_digest(), b.state_digest());
    assert_eq!(a.head(), b.head());
    assert_eq!(a.n_transactions(), b.n_transactions());
    assert_eq!(a.accounts(), b.accounts());
    let done = done(b);
    assert!(!done.dates.is_empty());
    let mut dates: Vec<Option<NaiveDate>> = vec![None];
    dates.extend(done.dates.iter().map(|date| Some(*date)));
    dates.push(done.dates.first().and_then(|date| date.pred_opt()));
    for as_of in dates {
        assert_eq!(a.balances(as_of, None, None).unwrap(), b.balances(as_of, None, None).unwrap(), "as of {as_of:?}");
        assert_eq!(a.positions(as_of), b.positions(as_of), "positions as of {as_of:?}");
        assert_eq!(a.limits(as_of), b.limits(as_of), "limits as of {as_of:?}");
    }
    for spec in b.accounts().iter().filter(|spec| !spec.id.starts_with("SYS-")).take(6) {
        assert_eq!(a.statement(&spec.id, None, None).unwrap(), b.statement(&spec.id, None, None).unwrap());
    }
    assert_eq!(a.benchmarks(None, None, None), b.benchmarks(None, None, None), "the benchmark fixings");
    for (currency, market) in
        [("USD", cashpool_ledger::rates::Market::Onshore), ("EUR", cashpool_ledger::rates::Market::Offshore)]
    {
        for date in &done.dates {
            assert_eq!(a.rate(ccy(currency), market, *date), b.rate(ccy(currency), market, *date));
        }
    }
    // Done before: found done, the same way.
    for date in &done.sweeps {
        let (x, y) = (a.sweep(*date, false, at()).unwrap(), b.sweep(*date, false, at()).unwrap());
        assert!(x.already_run, "{x:?}");
        assert_eq!(x, y);
    }
    for (from, to) in &done.periods {
        let (x, y) = (a.interest(*from, *to, true, at()).unwrap(), b.interest(*from, *to, true, at()).unwrap());
        assert!(x.already_settled, "{x:?}");
        assert_eq!(x, y);
        // A period overlapping it is refused alike.
        let overlap =
            |ledger: &Ledger| ledger.interest(*from, to.succ_opt().unwrap(), true, at()).map(|_| ()).unwrap_err();
        assert_eq!(overlap(a).to_string(), overlap(b).to_string());
    }
    for cycle in &done.cycles {
        let date = done.dates[0];
        let (x, y) = (
            a.net(cycle, date, &[], Mode::Centre, None, at()).unwrap(),
            b.net(cycle, date, &[], Mode::Centre, None, at()).unwrap(),
        );
        assert!(x.already_run, "{x:?}");
        assert_eq!(x, y);
    }
    for (source, statement) in &done.statements {
        let again = vec![(source.clone(), statement.clone())];
        let (x, y) = (a.import_statements(again.clone(), at()).unwrap(), b.import_statements(again, at()).unwrap());
        assert_eq!(x[0].status, ImportOutcome::AlreadyImported, "{x:?}");
        assert_eq!(x, y);
    }
    assert!(!done.transactions.is_empty());
    let every = done.transactions.len().div_ceil(30);
    for request in done.transactions.iter().step_by(every) {
        let (x, y) = (
            a.post_batch(std::slice::from_ref(request), BatchMode::Atomic, "snapshot", at()).unwrap(),
            b.post_batch(std::slice::from_ref(request), BatchMode::Atomic, "snapshot", at()).unwrap(),
        );
        assert!(x.receipts.len() == 1 && x.receipts[0].duplicate, "{x:?}");
        assert_eq!(x, y);
        let mut changed = request.clone();
        let amount = &mut changed.postings[0].amount;
        let one = Decimal::new(1, amount.scale());
        *amount = if amount.is_sign_negative() { *amount - one } else { *amount + one };
        let (x, y) = (
            a.post_batch(std::slice::from_ref(&changed), BatchMode::Atomic, "snapshot", at()).unwrap(),
            b.post_batch(std::slice::from_ref(&changed), BatchMode::Atomic, "snapshot", at()).unwrap(),
        );
        assert!(
            matches!(&x.rejected[..], [rejected] if matches!(rejected.rejection, Rejection::IdConflict { .. })),
            "{x:?}"
        );
        assert_eq!(x, y);
    }
    // Nothing above wrote anything.
    assert_eq!(a.state_digest(), b.state_digest());
    assert_eq!(a.head(), b.head());
}

/// Both ledgers take the same next entries and stay equal.
fn assert_same_next_entries(a: &Ledger, b: &Ledger, next_day: &str) {
    let batch = [
        transfer("N-SZ-IN", next_day, "EXT-ONSHORE", "SZ-OPS", "CNY", "123456.78"),
        transfer("N-HK-OUT", next_day, "HK-OPS", "EXT-OFFSHORE", "USD", "1000.00"),
    ];
    let later = Timestamp::parse_rfc3339("2026-11-20T09:00:00Z").unwrap();
    let x = a.post_batch(&batch, BatchMode::Atomic, "snapshot", later).unwrap();
    let y = b.post_batch(&batch, BatchMode::Atomic, "snapshot", later).unwrap();
    assert!(x.rejected.is_empty(), "{x:?}");
    assert_eq!(x, y);
    let date = d(next_day);
    assert_eq!(a.sweep(date, false, later).unwrap(), b.sweep(date, false, later).unwrap());
    assert_eq!(a.state_digest(), b.state_digest());
    assert_eq!(audit::replay_storage(a.storage(), None).unwrap().state_digest, a.state_digest());
}

fn remove_snapshot(storage: &dyn Storage) {
    storage.index_remove(SNAPSHOT_FILE).unwrap();
    assert!(storage.index_read(SNAPSHOT_FILE).unwrap().is_none());
}

fn write_index_file(storage: &dyn Storage, name: &str, bytes: &[u8]) {
    storage
        .index_write(name, &mut |out| out.write_all(bytes).map_err(|err| StorageError::Corrupt(err.to_string())))
        .unwrap();
}

#[test]
fn a_memory_store_opened_from_its_snapshot_is_the_ledger_a_full_fold_gives() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), EXAMPLE_GROUP, at()).unwrap();
    assert_eq!(ledger.opened_from(), None, "a created ledger was not opened from anything");
    rich_workload(&ledger);
    ledger.checkpoint().unwrap();
    let head = ledger.head();
    let digest = ledger.state_digest();
    drop(ledger);
    assert!(storage.index_read(SNAPSHOT_FILE).unwrap().is_some(), "the checkpoint wrote the snapshot");

    let full = storage.snapshot();
    remove_snapshot(&full);
    let from_snapshot = Ledger::open(Box::new(storage.clone())).unwrap();
    let folded = Ledger::open(Box::new(full.clone())).unwrap();
    assert_eq!(from_snapshot.opened_from(), Some(head.0), "the open read the snapshot at the head");
    assert_eq!(folded.opened_from(), None);
    assert_eq!((from_snapshot.head(), from_snapshot.state_digest()), (head, digest));
    // A balance whose days all netted to zero (HKD on the FX position) is still listed, at 0.00.
    let fx_position = folded.balances(None, Some("SYS-FX-POSITION"), Some(ccy("HKD"))).unwrap();
    assert!(matches!(&fx_position[..], [row] if row.balance.is_zero()), "{fx_position:?}");
    assert_same_ledger(&from_snapshot, &folded);
    assert_same_next_entries(&from_snapshot, &folded, "2026-11-06");
}

#[test]
fn a_sled_store_opened_from_its_snapshot_is_the_ledger_a_full_fold_gives() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create(Box::new(SledStorage::open(dir.path()).unwrap()), EXAMPLE_GROUP, at()).unwrap();
    rich_workload(&ledger);
    ledger.checkpoint().unwrap();
    let head = ledger.head();
    drop(ledger);
    let snapshot_path = dir.path().join("index").join(SNAPSHOT_FILE);
    assert!(snapshot_path.is_file(), "the snapshot is a file of the index folder");
    let files: Vec<String> = std::fs::read_dir(dir.path().join("index"))
        .unwrap()
        .map(|item| item.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!files.iter().any(|name| name.ends_with(".tmp")), "no temporary file is left: {files:?}");

    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), copy.path());
    std::fs::remove_file(copy.path().join("index").join(SNAPSHOT_FILE)).unwrap();
    let from_snapshot = Ledger::open(Box::new(SledStorage::open(dir.path()).unwrap())).unwrap();
    let folded = Ledger::open(Box::new(SledStorage::open(copy.path()).unwrap())).unwrap();
    assert_eq!(from_snapshot.opened_from(), Some(head.0));
    assert_eq!(folded.opened_from(), None);
    assert_same_ledger(&from_snapshot, &folded);
    assert_same_next_entries(&from_snapshot, &folded, "2026-11-06");
    // The audit folds from genesis and checks the snapshot's digest on the way.
    let verify = audit::verify_storage(from_snapshot.storage()).unwrap();
    assert!(verify.ok, "{verify:?}");
    assert_eq!(verify.snapshot_seq, Some(head.0));
}

fn copy_dir(from: &Path, to: &Path) {
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&item.path(), &target);
        } else if item.file_name() != "LOCK" {
            std::fs::copy(item.path(), &target).unwrap();
        }
    }
}

/// The golden format-2 journal (every kind of entry) as a store.
fn golden_store() -> MemoryStorage {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/journal-v2.jsonl")).unwrap();
    let storage = MemoryStorage::new();
    let mut block = Vec::new();
    let mut last = None;
    for line in text.lines() {
        let parsed: ExportLineV2 = serde_json::from_str(line).unwrap();
        let entry = entry_of_line(&parsed).unwrap();
        block_push(&mut block, &entry.encode());
        last = Some((entry.seq, entry.hash()));
    }
    let (last_seq, head) = last.unwrap();
    storage.commit(&Commit { first_seq: 1, last_seq, block: Arc::new(block), balances: Vec::new(), head }).unwrap();
    // The balances are rebuilt from the journal on open, as after a crash before the first checkpoint write.
    storage.write_checkpoint(&Default::default()).unwrap();
    storage
}

#[test]
fn the_golden_journal_opens_from_a_snapshot_to_its_pinned_digest() {
    let pinned: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/journal-v2.expected.json"))
            .unwrap(),
    )
    .unwrap();
    let storage = golden_store();
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(ledger.opened_from(), None);
    ledger.checkpoint().unwrap();
    drop(ledger);
    let full = storage.snapshot();
    remove_snapshot(&full);
    let from_snapshot = Ledger::open(Box::new(storage.clone())).unwrap();
    let folded = Ledger::open(Box::new(full)).unwrap();
    assert_eq!(from_snapshot.opened_from(), Some(pinned["entries"].as_u64().unwrap()));
    assert_eq!(from_snapshot.state_digest().to_string(), pinned["state_digest"].as_str().unwrap());
    assert_same_ledger(&from_snapshot, &folded);
}

/// The `next()` calls on the journal's blocks that opening `storage` makes.
fn blocks_read_by_open(storage: &MemoryStorage) -> (u64, Option<u64>) {
    let faults = Faults::new();
    let ledger = Ledger::open(Box::new(FaultyStorage::new(storage.clone(), faults.clone()))).unwrap();
    let reads = faults.trace().iter().filter(|method| **method == Method::BlocksNext).count() as u64;
    (reads, ledger.opened_from())
}

#[test]
fn open_folds_only_the_entries_after_the_snapshot_and_an_older_snapshot_works() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), EXAMPLE_GROUP, at()).unwrap();
    // 60 commits of two transactions each.
    let batch = |n: u32| {
        [
            transfer(&format!("T{n}-A"), "2026-11-02", "EXT-ONSHORE", "SZ-OPS", "CNY", "100.00"),
            transfer(&format!("T{n}-B"), "2026-11-02", "SZ-OPS", "EXT-ONSHORE", "CNY", "40.00"),
        ]
    };
    for n in 0..60 {
        post_all(&ledger, &batch(n));
    }
    ledger.checkpoint().unwrap();
    let older = storage.index_read(SNAPSHOT_FILE).unwrap().unwrap();
    let older_seq = ledger.head().0;
    for n in 60..63 {
        post_all(&ledger, &batch(n));
    }
    ledger.checkpoint().unwrap();
    let head = ledger.head();
    drop(ledger);

    let full = storage.snapshot();
    remove_snapshot(&full);
    let (with_snapshot, from) = blocks_read_by_open(&storage);
    let (without, none) = blocks_read_by_open(&full);
    assert_eq!((from, none), (Some(head.0), None));
    // A full fold reads every block (the definition's and 63 commits); from the snapshot, the
    // block holding its entry (to check its hash) and what follows it.
    assert!(without >= 64, "a full fold read {without} blocks");
    assert!(with_snapshot <= 4, "the open from the snapshot read {with_snapshot} blocks");

    // The older snapshot: the three commits after it are folded onto it.
    let older_store = storage.snapshot();
    write_index_file(&older_store, SNAPSHOT_FILE, &older);
    let (tail_reads, from) = blocks_read_by_open(&older_store);
    assert_eq!(from, Some(older_seq));
    assert!(tail_reads <= 8, "the open from the older snapshot read {tail_reads} blocks");
    let from_older = Ledger::open(Box::new(older_store.clone())).unwrap();
    let folded = Ledger::open(Box::new(full)).unwrap();
    assert_eq!(from_older.head(), head);
    assert_same_ledger(&from_older, &folded);
    // The ids of the entries after the snapshot are found too: a repost is a duplicate.
    let again = from_older.post_batch(&batch(61), BatchMode::Atomic, "snapshot", at()).unwrap();
    assert!(again.receipts.iter().all(|receipt| receipt.duplicate), "{again:?}");
}

#[test]
fn a_snapshot_with_a_byte_flipped_or_of_another_version_is_ignored_and_removed() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), EXAMPLE_GROUP, at()).unwrap();
    rich_workload(&ledger);
    ledger.checkpoint().unwrap();
    let digest = ledger.state_digest();
    drop(ledger);
    let good = storage.index_read(SNAPSHOT_FILE).unwrap().unwrap();
    let folded = {
        let full = storage.snapshot();
        remove_snapshot(&full);
        Ledger::open(Box::new(full)).unwrap()
    };
    // The magic, the version, the length, the checksum, the body's first, middle and last bytes.
    let len = good.len();
    for at_byte in [0, 4, 9, 20, 48, 49, len / 2, len - 1] {
        let damaged = storage.snapshot();
        let mut bytes = good.clone();
        bytes[at_byte] ^= 0x01;
        write_index_file(&damaged, SNAPSHOT_FILE, &bytes);
        // A reader ignores it and leaves it in place.
        let reader = Ledger::open_read_only(Box::new(damaged.clone())).unwrap();
        assert_eq!(reader.opened_from(), None, "byte {at_byte}: a damaged snapshot is not used");
        assert_eq!(reader.state_digest(), digest);
        drop(reader);
        assert!(damaged.index_read(SNAPSHOT_FILE).unwrap().is_some());
        // A writer ignores it and removes it; the state is the full fold's.
        let ledger = Ledger::open(Box::new(damaged.clone())).unwrap();
        assert_eq!(ledger.opened_from(), None, "byte {at_byte}");
        assert_same_ledger(&ledger, &folded);
        assert!(damaged.index_read(SNAPSHOT_FILE).unwrap().is_none(), "byte {at_byte}: the writer removed it");
        // The audit does not trust it either: nothing to compare, nothing wrong.
        let verify = audit::verify_storage(&damaged).unwrap();
        assert!(verify.ok && verify.snapshot_seq.is_none(), "{verify:?}");
        // The next checkpoint writes a good one again.
        ledger.checkpoint().unwrap();
        drop(ledger);
        assert_eq!(Ledger::open(Box::new(damaged)).unwrap().opened_from(), Some(folded.head().0));
    }
}

#[test]
fn a_snapshot_copied_from_another_history_is_ignored() {
    // Two stores with the same shape (as many entries and ids) but other amounts.
    let store = |cents: i64| {
        let storage = MemoryStorage::new();
        let ledger = Ledger::create(Box::new(storage.clone()), EXAMPLE_GROUP, at()).unwrap();
        for n in 0..20 {
            let amount = Decimal::new(10_000 + cents + n, 2).to_string();
            post_all(&ledger, &[transfer(&format!("H{n}"), "2026-11-02", "EXT-ONSHORE", "SZ-OPS", "CNY", &amount)]);
        }
        ledger.checkpoint().unwrap();
        (storage, ledger.head(), ledger.state_digest())
    };
    let (a, head_a, digest_a) = store(1);
    let (b, head_b, _) = store(2);
    assert_eq!(head_a.0, head_b.0);
    assert_ne!(head_a.1, head_b.1);
    write_index_file(&a, SNAPSHOT_FILE, &b.index_read(SNAPSHOT_FILE).unwrap().unwrap());
    let verify = audit::verify_storage(&a).unwrap();
    assert!(verify.ok && verify.snapshot_seq.is_none(), "a foreign snapshot is not compared: {verify:?}");
    let ledger = Ledger::open(Box::new(a.clone())).unwrap();
    assert_eq!(ledger.opened_from(), None, "B's snapshot is not A's state");
    assert_eq!((ledger.head(), ledger.state_digest()), (head_a, digest_a));
    assert!(a.index_read(SNAPSHOT_FILE).unwrap().is_none(), "and it was removed");
}

#[test]
fn the_audit_refuses_a_snapshot_whose_state_is_not_the_journals() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), EXAMPLE_GROUP, at()).unwrap();
    rich_workload(&ledger);
    ledger.checkpoint().unwrap();
    let (seq, _) = ledger.head();
    let digest = ledger.state_digest();
    let (usd, market, date) = (ccy("USD"), cashpool_ledger::rates::Market::Offshore, d("2026-11-30"));
    let rate = ledger.rate(usd, market, date).unwrap();
    drop(ledger);
    // A sound snapshot: compared on the way, and it agrees.
    let verify = audit::verify_storage(&storage).unwrap();
    assert!(verify.ok, "{verify:?}");
    assert_eq!(verify.snapshot_seq, Some(seq));
    let replay = audit::replay_storage(&storage, None).unwrap();
    assert_eq!(replay.snapshot_seq, Some(seq));
    // Replayed only to an entry before the snapshot's: nothing to compare.
    assert_eq!(audit::replay_storage(&storage, Some(seq - 1)).unwrap().snapshot_seq, None);

    // A snapshot consistent in itself but with one rate off the journal's, as a writer with a
    // bug could write it.
    let forged = storage.snapshot();
    forge_snapshot(&forged, &Forgery::Rate { currency: usd, delta: dec("0.0001") }).unwrap();
    // The ledger cannot tell from the snapshot alone (no stored figure to check a rate against):
    // it opens from it…
    let ledger = Ledger::open_read_only(Box::new(forged.clone())).unwrap();
    assert_eq!(ledger.opened_from(), Some(seq));
    let shown = ledger.rate(usd, market, date).unwrap();
    assert_eq!((shown.0, shown.1), (rate.0, rate.1 + dec("0.0001")), "the forged rate");
    assert_ne!(ledger.state_digest(), digest);
    drop(ledger);
    // …and the audit, which folds the journal, says where and why.
    let verify = audit::verify_storage(&forged).unwrap();
    assert!(!verify.ok, "{verify:?}");
    assert_eq!((verify.first_bad_seq, verify.snapshot_seq), (Some(seq), Some(seq)));
    let reason = verify.reason.unwrap();
    assert!(reason.contains("state snapshot") && reason.contains(SNAPSHOT_FILE), "{reason}");
    assert!(reason.contains(&digest.to_string()), "the reason names the journal's digest: {reason}");
    match audit::replay_storage(&forged, None) {
        Err(audit::AuditError::Integrity(err)) => {
            assert_eq!(err.seq, seq);
            assert!(err.reason.contains("state snapshot"), "{}", err.reason);
        }
        other => panic!("the replay accepted a snapshot that is not the journal's state: {other:?}"),
    }
}

#[test]
fn a_snapshot_whose_balances_are_not_the_stored_ones_is_not_used() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), EXAMPLE_GROUP, at()).unwrap();
    rich_workload(&ledger);
    ledger.checkpoint().unwrap();
    let (head, digest) = (ledger.head(), ledger.state_digest());
    drop(ledger);
    let forgery = Forgery::Balance { account: "SZ-OPS".into(), currency: ccy("CNY"), delta: dec("0.01") };
    forge_snapshot(&storage, &forgery).unwrap();
    // The stored balances say otherwise: the whole journal is folded, and the ledger is the journal's.
    let reader = Ledger::open_read_only(Box::new(storage.clone())).unwrap();
    assert_eq!(reader.opened_from(), None);
    assert_eq!((reader.head(), reader.state_digest()), (head, digest));
    drop(reader);
    assert!(storage.index_read(SNAPSHOT_FILE).unwrap().is_some(), "a reader leaves it");
    let verify = audit::verify_storage(&storage).unwrap();
    assert_eq!((verify.ok, verify.first_bad_seq), (false, Some(head.0)), "{verify:?}");
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(ledger.opened_from(), None);
    assert_eq!(ledger.state_digest(), digest);
    assert!(storage.index_read(SNAPSHOT_FILE).unwrap().is_none(), "a writer removes it");
    assert!(audit::verify_storage(&storage).unwrap().ok);
}

#[test]
fn a_tail_that_does_not_fold_onto_the_snapshot_falls_back_to_the_whole_journal() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), EXAMPLE_GROUP, at()).unwrap();
    post_all(&ledger, &[transfer("T-IN", "2026-11-02", "EXT-ONSHORE", "SZ-OPS", "CNY", "5000.00")]);
    ledger.checkpoint().unwrap();
    // After the snapshot: SZ-OPS pays out all it has.
    post_all(&ledger, &[transfer("T-OUT", "2026-11-03", "SZ-OPS", "EXT-ONSHORE", "CNY", "5000.00")]);
    let (head, digest) = (ledger.head(), ledger.state_digest());
    drop(ledger);
    // A snapshot that holds 4,000.00 less on SZ-OPS: the payment after it would overdraw.
    let forgery = Forgery::Balance { account: "SZ-OPS".into(), currency: ccy("CNY"), delta: dec("-4000.00") };
    forge_snapshot(&storage, &forgery).unwrap();
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(ledger.opened_from(), None, "the tail did not fold onto the snapshot: the whole journal was folded");
    assert_eq!((ledger.head(), ledger.state_digest()), (head, digest));
    assert!(storage.index_read(SNAPSHOT_FILE).unwrap().is_none(), "the writer removed the snapshot");
}

#[test]
fn an_id_index_flush_writes_a_snapshot_when_the_state_is_quiet() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), EXAMPLE_GROUP, at()).unwrap();
    ledger.set_id_index_flush(10);
    for n in 0..9 {
        post_all(&ledger, &[transfer(&format!("Q{n}"), "2026-11-02", "EXT-ONSHORE", "SZ-OPS", "CNY", "1.00")]);
    }
    assert!(storage.index_read(SNAPSHOT_FILE).unwrap().is_none(), "no flush yet, no snapshot");
    post_all(&ledger, &[transfer("Q9", "2026-11-02", "EXT-ONSHORE", "SZ-OPS", "CNY", "1.00")]);
    assert!(storage.index_read(SNAPSHOT_FILE).unwrap().is_some(), "the flush of 10 ids wrote a snapshot");
    let head = ledger.head();
    drop(ledger);
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(ledger.opened_from(), Some(head.0));
    // A read-only ledger writes nothing, not even on a checkpoint.
    post_all(&ledger, &[transfer("Q10", "2026-11-02", "EXT-ONSHORE", "SZ-OPS", "CNY", "1.00")]);
    drop(ledger);
    let before = storage.index_read(SNAPSHOT_FILE).unwrap();
    let reader = Ledger::open_read_only(Box::new(storage.clone())).unwrap();
    assert_eq!(reader.opened_from(), Some(head.0), "an older snapshot, and the entry after it folded");
    reader.checkpoint().unwrap();
    assert_eq!(storage.index_read(SNAPSHOT_FILE).unwrap(), before);
    let refused = reader.post(&transfer("Q11", "2026-11-02", "EXT-ONSHORE", "SZ-OPS", "CNY", "1.00"), "x", at());
    assert!(matches!(refused, Err(LedgerError::ReadOnly)), "{refused:?}");
}

#[test]
fn a_store_begun_in_format_1_opens_from_a_snapshot_too() {
    use cashpool_ledger::journal::{Entry, FormatVersion};
    use cashpool_ledger::testing::ExportLine;
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let pinned: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden.join("journal-v1.expected.json")).unwrap()).unwrap();
    let storage = MemoryStorage::new();
    let mut block = Vec::new();
    let mut last = None;
    for line in std::fs::read_to_string(golden.join("journal-v1.jsonl")).unwrap().lines() {
        let parsed: ExportLine = serde_json::from_str(line).unwrap();
        let entry = Entry {
            format: FormatVersion::V1,
            seq: parsed.seq,
            prev_hash: parsed.prev_hash,
            recorded_at: parsed.recorded_at,
            body: parsed.body,
        };
        block_push(&mut block, &entry.encode());
        last = Some((entry.seq, parsed.hash));
    }
    let (last_seq, head) = last.unwrap();
    storage.commit(&Commit { first_seq: 1, last_seq, block: Arc::new(block), balances: Vec::new(), head }).unwrap();
    storage.write_checkpoint(&Default::default()).unwrap();

    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(ledger.state_digest().to_string(), pinned["state_digest_v2"].as_str().unwrap());
    ledger.checkpoint().unwrap();
    drop(ledger);
    let full = storage.snapshot();
    remove_snapshot(&full);
    let from_snapshot = Ledger::open(Box::new(storage.clone())).unwrap();
    let folded = Ledger::open(Box::new(full)).unwrap();
    assert_eq!(from_snapshot.opened_from(), Some(last_seq), "the format-1 state was persisted and read back");
    assert_eq!(from_snapshot.state_digest().to_string(), pinned["state_digest_v2"].as_str().unwrap());
    assert_same_ledger(&from_snapshot, &folded);
    // Format-2 entries go on after it, alike.
    assert_same_next_entries(&from_snapshot, &folded, "2026-11-20");
}

#[test]
fn the_fuzz_seeds_are_snapshots_of_this_format() {
    // A snapshot of today's format decodes and restores through the hooks of the fuzz target
    // `state_snapshot`, whole and as a body alone; the committed seeds are such snapshots
    // (`CASHPOOL_WRITE_SEEDS=1` writes them again, after a change of the format).
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), EXAMPLE_GROUP, at()).unwrap();
    rich_workload(&ledger);
    ledger.checkpoint().unwrap();
    let head = ledger.head().0;
    let bytes = storage.index_read(SNAPSHOT_FILE).unwrap().unwrap();
    assert_eq!(cashpool_ledger::testing::decode_snapshot(&bytes), Ok(head));
    assert_eq!(cashpool_ledger::testing::restore_snapshot_body(&bytes[48..]), Ok(head));
    assert!(cashpool_ledger::testing::restore_snapshot_body(&bytes[48..bytes.len() - 1]).is_err());
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/state_snapshot");
    if std::env::var_os("CASHPOOL_WRITE_SEEDS").is_some() {
        // After a change of the snapshot's format: the seeds are this workload's snapshot.
        std::fs::write(seeds.join("file-after-a-sweep.snapshot"), &bytes).unwrap();
        std::fs::write(seeds.join("body-after-a-sweep.postcard"), &bytes[48..]).unwrap();
    }
    let file = std::fs::read(seeds.join("file-after-a-sweep.snapshot")).unwrap();
    let body = std::fs::read(seeds.join("body-after-a-sweep.postcard")).unwrap();
    let seq = cashpool_ledger::testing::decode_snapshot(&file).unwrap();
    assert_eq!(cashpool_ledger::testing::restore_snapshot_body(&body), Ok(seq));
    assert_eq!(&file[48..], &body[..]);
}

#[test]
fn the_audit_through_a_readers_view_compares_the_snapshot_and_a_new_view_opens_from_the_new_one() {
    use cashpool_ledger::storage::JournalSnapshot;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create(Box::new(SledStorage::open(dir.path()).unwrap()), EXAMPLE_GROUP, at()).unwrap();
    rich_workload(&ledger);
    ledger.checkpoint().unwrap();
    post_all(&ledger, &[transfer("V-1", "2026-11-06", "EXT-ONSHORE", "SZ-OPS", "CNY", "10.00")]);
    ledger.checkpoint().unwrap();
    let later = ledger.head();
    // While the writer holds the store: a view's audit compares the snapshot with its fold.
    let view = JournalSnapshot::open(dir.path()).unwrap();
    let verify = audit::verify_storage(&view).unwrap();
    assert!(verify.ok && verify.snapshot_seq == Some(later.0), "{verify:?}");
    let replay = audit::replay_storage(&view, None).unwrap();
    assert_eq!((replay.snapshot_seq, replay.state_digest), (Some(later.0), ledger.state_digest()));
    let reader = Ledger::open_read_only(Box::new(JournalSnapshot::open(dir.path()).unwrap())).unwrap();
    assert_eq!(reader.opened_from(), Some(later.0));
    assert_eq!((reader.head(), reader.state_digest()), (ledger.head(), ledger.state_digest()));
    // A reader keeps no ids, and still finds a repeated one by reading the journal (a check of a batch).
    let repeat = transfer("V-1", "2026-11-06", "EXT-ONSHORE", "SZ-OPS", "CNY", "11.00");
    let refused = reader.check_batch(&[repeat], "snapshot").unwrap();
    assert!(matches!(&refused[..], [r] if matches!(r.rejection, Rejection::IdConflict { .. })), "{refused:?}");
}

/// A reader (every reading command: a view of the journal without the lock)
/// opens from the snapshot too, keeping no ids, and answers as the writer's
/// ledger does; a snapshot past the view's head is not used.
#[test]
fn a_reader_opens_from_the_snapshot_without_the_lock_and_keeps_no_ids() {
    use cashpool_ledger::storage::JournalSnapshot;
    let dir = tempfile::tempdir().unwrap();
    let writer = Ledger::create(Box::new(SledStorage::open(dir.path()).unwrap()), EXAMPLE_GROUP, at()).unwrap();
    rich_workload(&writer);
    writer.checkpoint().unwrap();
    let head = writer.head();
    // The writer keeps the store (and its lock); the reader needs neither.
    let reader = Ledger::open_read_only(Box::new(JournalSnapshot::open(dir.path()).unwrap())).unwrap();
    assert_eq!(reader.opened_from(), Some(head.0), "the reader opened from the snapshot");
    assert_eq!(reader.id_index_extent(), (0, 0), "a reader opens no id index");
    assert_eq!((reader.head(), reader.state_digest()), (writer.head(), writer.state_digest()));
    assert_eq!(reader.balances(None, None, None).unwrap(), writer.balances(None, None, None).unwrap());
    // A read-only check finds an id the journal holds (by reading it): the same request again is no refusal.
    let first = writer.entries(1).find_map(|item| match item.unwrap().0.body {
        EntryBody::Transaction(tx) => Some(tx.id),
        _ => None,
    });
    let first = first.expect("the workload posted transactions");
    let again = transfer(&first, "2026-11-02", "EXT-OFFSHORE", "HK-OPS", "USD", "0.01");
    let rejected = reader.check_batch(&[again], "ops").unwrap();
    assert_eq!(rejected.len(), 1, "the id was posted with other content: {rejected:?}");
    assert!(matches!(rejected[0].rejection, Rejection::IdConflict { .. }), "{rejected:?}");
    drop(reader);
    // The writer goes on; a reader whose view ends before a newer snapshot's entry folds the journal instead.
    let view = JournalSnapshot::open(dir.path()).unwrap();
    post_all(&writer, &[transfer("LATE-1", "2026-11-06", "EXT-OFFSHORE", "HK-OPS", "USD", "5.00")]);
    writer.checkpoint().unwrap();
    let stale = Ledger::open_read_only(Box::new(view)).unwrap();
    assert_eq!(stale.opened_from(), None, "the snapshot is past the view's head: not used");
    assert_eq!(stale.head(), head, "the view as it stood");
}
