//! Account statements from the posting index (docs/STORAGE.md, "The posting
//! index"): whatever the flushes, merges, restarts and readers, a statement
//! is exactly the journal's postings of the account, ordered by value date
//! and sequence number with running balances, and its pages put end to end
//! are the whole statement.

use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::storage::{JournalSnapshot, MemoryStorage, SledStorage, Storage};
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{BatchMode, Ledger, StatementQuery, StatementView};
use cashpool_tests::{at, SMALL_GROUP};
use chrono::NaiveDate;
use rust_decimal::Decimal;

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).expect("a date")
}

/// A small deterministic generator (the test needs no other randomness).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Transactions `first..first + n`: receipts to HK-OPS and payments out of it in
/// USD and CNY, and receipts to T-DMA, value-dated over twenty days in no order.
fn transactions(first: u64, n: u64, rng: &mut Lcg) -> Vec<TransactionRequest> {
    (first..first + n)
        .map(|i| {
            let currency = if rng.below(3) == 0 { "CNY" } else { "USD" };
            let (from, to) = match rng.below(5) {
                0 => ("HK-OPS", "EXT"),
                1 => ("EXT", "T-DMA"),
                _ => ("EXT", "HK-OPS"),
            };
            let cents = 100 + rng.below(50_000) as i64;
            TransactionRequest::transfer(
                format!("S-{i:06}"),
                date(1 + rng.below(20) as u32),
                from,
                to,
                currency,
                Decimal::new(cents, 2),
                Purpose::CurrentAccount,
                format!("REF-{i}"),
                if i % 11 == 0 { "a memo, with \"quotes\"" } else { "" },
            )
        })
        .collect()
}

fn post(ledger: &Ledger, first: u64, n: u64, rng: &mut Lcg) {
    let mut i = first;
    while i < first + n {
        let batch = (1 + rng.below(60)).min(first + n - i);
        let requests = transactions(i, batch, rng);
        // Payments the balance cannot carry are refused; the others post.
        ledger.post_batch(&requests, BatchMode::Partial, "ops", at()).expect("the storage works");
        i += batch;
    }
}

fn expected(
    ledger: &Ledger,
    account: &str,
    currency: Option<Currency>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> StatementView {
    cashpool_tests::journal_statement(ledger, account, currency, from, to)
}

/// Every statement of the account the test asks for equals the model's, whole
/// and in pages of several sizes (each page opening where the last closed).
fn check_statements(ledger: &Ledger) {
    let usd = Currency::from_code("USD");
    let windows = [(None, None), (Some(date(5)), None), (None, Some(date(12))), (Some(date(7)), Some(date(9)))];
    for account in ["HK-OPS", "T-DMA", "EXT"] {
        for currency in [None, usd] {
            for (from, to) in windows {
                let want = expected(ledger, account, currency, from, to);
                let query = StatementQuery { currency, from, to, ..StatementQuery::new(account) };
                let got = ledger.statement_page(&query).unwrap();
                assert_eq!(got, want, "{account} {currency:?} {from:?}..{to:?}");
                for limit in [1, 7, 100] {
                    let mut lines = Vec::new();
                    let mut query = StatementQuery { limit: Some(limit), ..query.clone() };
                    let mut expected_opening = want.opening.clone();
                    loop {
                        let page = ledger.statement_page(&query).unwrap();
                        assert_eq!(
                            page.opening, expected_opening,
                            "{account} {currency:?} page after {:?}",
                            query.after
                        );
                        assert!(page.lines.len() <= limit);
                        lines.extend(page.lines);
                        expected_opening = page.closing;
                        match page.next {
                            Some(next) => query.after = Some(next),
                            None => break,
                        }
                    }
                    assert_eq!(lines, want.lines, "{account} {currency:?} {from:?}..{to:?} in pages of {limit}");
                    assert_eq!(expected_opening, want.closing, "the last page closes where the statement does");
                }
            }
        }
    }
}

#[test]
fn statements_from_the_posting_index_are_the_journals_through_flushes_merges_and_restarts() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), SMALL_GROUP, at()).unwrap();
    ledger.set_id_index_flush(40);
    let mut rng = Lcg(7);
    post(&ledger, 0, 700, &mut rng);
    assert!(
        storage.index_names().unwrap().iter().any(|name| name.starts_with("postings-")),
        "posting runs are written"
    );
    // Postings on disk (merged runs among them) and in memory.
    check_statements(&ledger);
    drop(ledger);
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    ledger.set_id_index_flush(40);
    post(&ledger, 700, 150, &mut rng);
    check_statements(&ledger);
    ledger.checkpoint().unwrap();
    check_statements(&ledger);
    // A reader of the same journal: the same statements.
    let reader = Ledger::open_read_only(Box::new(storage.clone())).unwrap();
    check_statements(&reader);
}

#[test]
fn a_reader_sees_its_view_while_the_writer_posts_and_flushes_on() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create(Box::new(SledStorage::open(dir.path()).unwrap()), SMALL_GROUP, at()).unwrap();
    ledger.set_id_index_flush(50);
    let mut rng = Lcg(11);
    post(&ledger, 0, 400, &mut rng);
    let reader = Ledger::open_read_only(Box::new(JournalSnapshot::open(dir.path()).unwrap())).unwrap();
    let query = StatementQuery::new("HK-OPS");
    let before = reader.statement_page(&query).unwrap();
    assert_eq!(before, expected(&reader, "HK-OPS", None, None, None));
    // The writer flushes and merges runs past the reader's view (removing the
    // runs the reader's first statement read): the reader's statement is still its view's.
    post(&ledger, 400, 600, &mut rng);
    ledger.checkpoint().unwrap();
    assert_eq!(reader.statement_page(&query).unwrap(), before);
    check_statements(&reader);
    check_statements(&ledger);
}

#[test]
fn statements_are_the_journals_while_background_flushes_write_and_merge_runs() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create(Box::new(SledStorage::open(dir.path()).unwrap()), SMALL_GROUP, at()).unwrap();
    ledger.set_id_index_flush(30);
    ledger.set_background_flush(true);
    let mut rng = Lcg(5);
    for round in 0..6 {
        post(&ledger, round * 100, 100, &mut rng);
        // Read while a flush may be writing runs and merging away the ones a statement reads.
        check_statements(&ledger);
    }
    assert!(ledger.id_index_extent().0 > 0, "runs were written");
    check_statements(&ledger);
    let reader = Ledger::open_read_only(Box::new(JournalSnapshot::open(dir.path()).unwrap())).unwrap();
    check_statements(&reader);
}

#[test]
fn a_damaged_posting_index_leaves_statements_to_the_journal() {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), SMALL_GROUP, at()).unwrap();
    ledger.set_id_index_flush(30);
    post(&ledger, 0, 200, &mut Lcg(3));
    ledger.checkpoint().unwrap();
    for name in storage.index_names().unwrap().into_iter().filter(|name| name.starts_with("postings-")) {
        // A run whose header and fences no longer check out.
        let mut bytes = storage.index_read(&name).unwrap().unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        storage
            .index_write(&name, &mut |out| {
                out.write_all(&bytes).map_err(|err| cashpool_ledger::storage::StorageError::Corrupt(err.to_string()))
            })
            .unwrap();
    }
    check_statements(&ledger);
    let reader = Ledger::open_read_only(Box::new(storage.clone())).unwrap();
    check_statements(&reader);
}

#[test]
fn a_cursor_that_is_not_one_is_refused_with_the_form_it_takes() {
    let err = "2026-11-02.12".parse::<cashpool_ledger::StatementCursor>().unwrap_err();
    assert!(err.contains("DATE.SEQ.POSTING"), "{err}");
    let cursor: cashpool_ledger::StatementCursor = "2026-11-02.12.1".parse().unwrap();
    assert_eq!(cursor.to_string(), "2026-11-02.12.1");
}

proptest::proptest! {
    /// Any text given as `--after` is a cursor or a reason, never a panic; a
    /// cursor reads back as itself.
    #[test]
    fn any_text_is_a_cursor_or_a_reason(text in "\\PC{0,40}", day in 0u32..40_000, seq: u64, posting: u32) {
        let _ = text.parse::<cashpool_ledger::StatementCursor>();
        let value_date = NaiveDate::from_num_days_from_ce_opt(1 + day as i32).unwrap();
        let cursor = cashpool_ledger::StatementCursor { value_date, seq, posting };
        proptest::prop_assert_eq!(cursor.to_string().parse::<cashpool_ledger::StatementCursor>(), Ok(cursor));
    }
}
