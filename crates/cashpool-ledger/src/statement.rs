//! Account statements read from the posting index (docs/STORAGE.md, "The
//! posting index"), a page or a stream at a time: a statement of one account
//! reads the account's postings in order of value date and sequence number
//! from the index's runs (and the entries after them from memory or the
//! journal), never the whole journal, and holds one page of lines at most.
//!
//! A [`StatementReader`] is an iterator of [`StatementLine`]s with the
//! opening balance computed before the first line (the balances part's
//! totals per value date, and the lines of the same value date before the
//! cursor) and the closing balance after the last one.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::index::postings::{currency_code, PostingKey, PostingRecord, PostingRun};
use crate::index::Manifest;
use crate::journal::{Entry, EntryBody};
use crate::ledger::{Ledger, LedgerError, StatementLine};
use crate::model::Purpose;
use crate::money::Currency;
use crate::storage::{Storage, StorageError};

/// Where a page of a statement ends: the value date, entry and position in its
/// transaction of its last line. The next page starts after it. Written
/// `DATE.SEQ.POSTING` (`2026-11-02.1234.0`), as `--after` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatementCursor {
    pub value_date: NaiveDate,
    pub seq: u64,
    pub posting: u32,
}

impl fmt::Display for StatementCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.value_date, self.seq, self.posting)
    }
}

impl serde::Serialize for StatementCursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl FromStr for StatementCursor {
    type Err = String;

    fn from_str(text: &str) -> Result<StatementCursor, String> {
        let bad = || format!("{text:?} is not a statement cursor (DATE.SEQ.POSTING, as `next` gives it)");
        let mut parts = text.trim().split('.');
        let (Some(date), Some(seq), Some(posting), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        Ok(StatementCursor {
            value_date: NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
            posting: posting.parse().map_err(|_| bad())?,
        })
    }
}

/// Which lines of which account a statement shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementQuery {
    pub account: String,
    /// One currency only (`None`: every currency of the account).
    pub currency: Option<Currency>,
    /// The first value date (`None`: from the first posting).
    pub from: Option<NaiveDate>,
    /// The last value date (`None`: to the last posting).
    pub to: Option<NaiveDate>,
    /// Start after this line (the previous page's `next`).
    pub after: Option<StatementCursor>,
    /// At most this many lines (`None`: all).
    pub limit: Option<usize>,
}

impl StatementQuery {
    /// Every line of `account`, in every currency.
    pub fn new(account: impl Into<String>) -> StatementQuery {
        StatementQuery { account: account.into(), currency: None, from: None, to: None, after: None, limit: None }
    }
}

/// What a statement needs of the ledger's state, taken under its lock
/// ([`Ledger::statement_basis`]); the index and the journal are read after.
pub(crate) struct StatementBasis {
    pub(crate) account_idx: u32,
    pub(crate) currencies: Vec<Currency>,
    /// The last durable entry: the statement is as of it.
    pub(crate) head: u64,
    /// Per currency in scope: the balance of the postings value-dated before
    /// the start date (durable entries only), and whether there are any.
    pub(crate) before: Vec<(Currency, Decimal, bool)>,
    /// A writer's index and the postings in memory of the account after it
    /// (up to `head`); `None` for a reader, which reads the manifest.
    pub(crate) writer: Option<(Manifest, Vec<PostingRecord>)>,
}

/// The order of lines: value date, entry, position, then currency.
fn line_order(record: &PostingRecord) -> (i32, u64, u32, u32) {
    (record.key.day, record.key.seq, record.key.posting, record.key.currency)
}

/// One sorted source of postings: a run's range for one currency, or the tail.
type Source<'a> = std::iter::Peekable<Box<dyn Iterator<Item = Result<PostingRecord, LedgerError>> + 'a>>;

/// A statement read line by line (see the module's documentation).
pub struct StatementReader<'l> {
    ledger: &'l Ledger,
    storage: &'l dyn Storage,
    basis: StatementBasis,
    account: String,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    opening: Vec<(Currency, Decimal)>,
    running: Vec<(Currency, Decimal)>,
    sources: Vec<Source<'l>>,
    /// The manifest the sources were built from.
    manifest: Manifest,
    /// The last line given (where a rebuilt set of sources resumes).
    last: Option<StatementCursor>,
    limit: Option<usize>,
    given: usize,
    next: Option<StatementCursor>,
    entries: EntryCache,
    rebuilds: u32,
    done: bool,
}

impl<'l> StatementReader<'l> {
    pub(crate) fn new(
        ledger: &'l Ledger,
        query: &StatementQuery,
        basis: StatementBasis,
    ) -> Result<StatementReader<'l>, LedgerError> {
        let storage = ledger.storage();
        let start_date = match (query.from, query.after) {
            (Some(from), Some(after)) => Some(from.max(after.value_date)),
            (from, after) => from.or(after.map(|a| a.value_date)),
        };
        let mut reader = StatementReader {
            ledger,
            storage,
            account: query.account.clone(),
            from: query.from,
            to: query.to,
            opening: Vec::new(),
            running: Vec::new(),
            sources: Vec::new(),
            manifest: Manifest::default(),
            last: query.after.filter(|after| start_date == Some(after.value_date)),
            limit: query.limit,
            given: 0,
            next: None,
            entries: EntryCache::default(),
            rebuilds: 0,
            done: false,
            basis,
        };
        // The opening: what was value-dated before the start date, and the
        // lines of the start date up to the cursor.
        let mut opening: Vec<(Currency, Decimal)> =
            reader.basis.before.iter().filter(|(_, _, any)| *any).map(|(ccy, amount, _)| (*ccy, *amount)).collect();
        if let (Some(after), Some(start)) = (reader.last, start_date) {
            let hi = (after.value_date, after.seq, after.posting);
            let prefix = reader.records(start, Some(start), None)?;
            for record in prefix.into_iter().flatten() {
                let record = record?;
                if (record.key.day, record.key.seq, record.key.posting) > (start_day(hi.0), hi.1, hi.2) {
                    continue;
                }
                let currency = reader.currency_of(record.key.currency);
                add_to(&mut opening, currency, record.amount);
            }
        }
        opening.sort_by_key(|(ccy, _)| *ccy);
        for (currency, amount) in &mut opening {
            amount.rescale(currency.minor_units());
        }
        reader.opening = opening.clone();
        reader.running = opening;
        let start = start_date.unwrap_or(NaiveDate::MIN);
        reader.sources = reader.records(start, reader.to, reader.last)?;
        Ok(reader)
    }

    /// Per currency, the balance before the first line, at its minor units.
    pub fn opening(&self) -> &[(Currency, Decimal)] {
        &self.opening
    }

    /// Per currency, the balance after the last line given so far (after the
    /// last line: the closing balance).
    pub fn closing(&self) -> Vec<(Currency, Decimal)> {
        let mut closing = self.running.clone();
        closing.sort_by_key(|(ccy, _)| *ccy);
        closing
    }

    /// Once the reader is exhausted: where the next page starts, if the limit
    /// stopped it before the last line.
    pub fn next_page(&self) -> Option<StatementCursor> {
        self.next
    }

    /// The account.
    pub fn account(&self) -> &str {
        &self.account
    }

    fn currency_of(&self, code: u32) -> Currency {
        *self
            .basis
            .currencies
            .iter()
            .find(|ccy| currency_code(**ccy) == code)
            .expect("sources hold only the currencies in scope")
    }

    /// The sorted sources of the account's postings in scope with value dates
    /// in `[from, to]`, after `after`, as of the basis's head: each posting
    /// run's range per currency, and the entries after the runs.
    fn records(
        &mut self,
        from: NaiveDate,
        to: Option<NaiveDate>,
        after: Option<StatementCursor>,
    ) -> Result<Vec<Source<'l>>, LedgerError> {
        let storage = self.storage;
        let head = self.basis.head;
        let account = self.basis.account_idx;
        let to = to.unwrap_or(NaiveDate::MAX);
        let after_key = after.map(|a| (start_day(a.value_date), a.seq, a.posting));
        let keep = move |record: &PostingRecord| {
            record.key.seq <= head
                && after_key.is_none_or(|after| (record.key.day, record.key.seq, record.key.posting) > after)
        };
        // The runs: from the writer's memory, or the manifest on disk (a
        // reader's; a damaged one leaves the whole statement to the journal).
        let (manifest, tail) = match &self.basis.writer {
            Some((manifest, tail)) => (manifest.clone(), Some(tail)),
            None => (Manifest::read(storage).unwrap_or_default(), None),
        };
        let mut runs = Vec::with_capacity(manifest.posting_runs.len());
        let mut through = manifest.through;
        for meta in &manifest.posting_runs {
            match PostingRun::open(storage, meta) {
                Ok(run) => runs.push(std::sync::Arc::new(run)),
                Err(StorageError::Corrupt(_)) => {
                    // A damaged index is derived data: read the journal instead.
                    runs.clear();
                    through = 0;
                    break;
                }
                Err(err) => return Err(err.into()),
            }
        }
        if through == 0 {
            runs.clear();
        }
        let mut sources: Vec<Source<'l>> = Vec::new();
        for run in runs {
            for currency in self.basis.currencies.clone() {
                let lo = PostingKey::first_on(account, currency, from);
                let hi = PostingKey::last_on(account, currency, to);
                let scan = run.clone().scan(storage, lo, hi).map(|item| item.map_err(LedgerError::from));
                let scan: Box<dyn Iterator<Item = Result<PostingRecord, LedgerError>> + 'l> =
                    Box::new(scan.filter(move |item| item.as_ref().map_or(true, keep)));
                sources.push(scan.peekable());
            }
        }
        // The entries after the runs: from memory (a writer's, when they are
        // those after this manifest) or the journal.
        let in_scope = |record: &PostingRecord| {
            record.key.day >= start_day(from)
                && record.key.day <= start_day(to)
                && self.basis.currencies.iter().any(|ccy| currency_code(*ccy) == record.key.currency)
                && record.key.seq > through
                && keep(record)
        };
        let mut tail: Vec<PostingRecord> = match tail {
            Some(tail) if through == manifest.through => tail.iter().filter(|r| in_scope(r)).copied().collect(),
            _ => journal_postings(storage, self, through, head)?.into_iter().filter(|r| in_scope(r)).collect(),
        };
        tail.sort_by_key(line_order);
        let tail: Box<dyn Iterator<Item = Result<PostingRecord, LedgerError>> + 'l> =
            Box::new(tail.into_iter().map(Ok));
        sources.push(tail.peekable());
        self.manifest = manifest;
        Ok(sources)
    }

    /// The next posting of the merged sources, rebuilding them from the
    /// current manifest when a run went away under the reader (merged by the
    /// writer): the lines resume after the last one given.
    fn next_record(&mut self) -> Option<Result<PostingRecord, LedgerError>> {
        loop {
            let mut best: Option<(usize, (i32, u64, u32, u32))> = None;
            let mut failed = None;
            for (idx, source) in self.sources.iter_mut().enumerate() {
                match source.peek() {
                    Some(Err(_)) => {
                        failed = Some(idx);
                        break;
                    }
                    Some(Ok(record)) if best.is_none_or(|(_, b)| line_order(record) < b) => {
                        best = Some((idx, line_order(record)))
                    }
                    _ => {}
                }
            }
            if let Some(idx) = failed {
                let err = self.sources[idx].next().expect("peeked").expect_err("peeked an error");
                // Runs merged away under the statement (by this ledger's own
                // flush, or the writer's of the store): read the new ones.
                let current = match &self.basis.writer {
                    Some(_) => self.ledger.writer_index(self.basis.account_idx, self.basis.head).map(|(m, _)| m),
                    None => Manifest::read(self.storage).ok(),
                };
                if self.rebuilds < 8 && current.is_some_and(|current| current != self.manifest) {
                    self.rebuilds += 1;
                    if self.basis.writer.is_some() {
                        self.basis.writer = self.ledger.writer_index(self.basis.account_idx, self.basis.head);
                    }
                    let start = self.last.map(|l| l.value_date).or(self.from).unwrap_or(NaiveDate::MIN);
                    match self.records(start, self.to, self.last) {
                        Ok(sources) => {
                            self.sources = sources;
                            continue;
                        }
                        Err(err) => return Some(Err(err)),
                    }
                }
                return Some(Err(err));
            }
            let (idx, _) = best?;
            return self.sources[idx].next();
        }
    }

    fn line(&mut self, record: PostingRecord) -> Result<StatementLine, LedgerError> {
        let currency = self.currency_of(record.key.currency);
        let value_date = record.key.date().ok_or_else(|| LedgerError::Integrity {
            seq: record.key.seq,
            reason: "the posting index holds an impossible value date".into(),
        })?;
        let details = self.entries.get(self.storage, record.key.seq)?;
        // The index and the journal agree on the posting, or the statement stops.
        let agrees = details.value_date == value_date
            && details.postings.get(record.key.posting as usize).is_some_and(|(account, ccy, amount)| {
                *account == self.account && *ccy == currency && *amount == record.amount
            });
        if !agrees {
            return Err(LedgerError::Integrity {
                seq: record.key.seq,
                reason: format!(
                    "the posting index names posting {} of this entry to {} in {currency}, which the journal does not hold",
                    record.key.posting, self.account
                ),
            });
        }
        let balance = add_to(&mut self.running, currency, record.amount);
        let mut amount = record.amount;
        amount.rescale(currency.minor_units());
        let mut balance = balance;
        balance.rescale(currency.minor_units());
        Ok(StatementLine {
            seq: record.key.seq,
            value_date,
            id: details.id.clone(),
            purpose: details.purpose,
            reference: details.reference.clone(),
            memo: details.memo.clone(),
            currency,
            amount,
            balance,
        })
    }
}

impl Iterator for StatementReader<'_> {
    type Item = Result<StatementLine, LedgerError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let record = match self.next_record() {
            None => {
                self.done = true;
                return None;
            }
            Some(Err(err)) => {
                self.done = true;
                return Some(Err(err));
            }
            Some(Ok(record)) => record,
        };
        if self.limit.is_some_and(|limit| self.given >= limit) {
            // One more line exists: the page ends at the last one given.
            self.next = self.last;
            self.done = true;
            return None;
        }
        let cursor = StatementCursor {
            value_date: record.key.date().unwrap_or(NaiveDate::MIN),
            seq: record.key.seq,
            posting: record.key.posting,
        };
        match self.line(record) {
            Ok(line) => {
                self.given += 1;
                self.last = Some(cursor);
                Some(Ok(line))
            }
            Err(err) => {
                self.done = true;
                Some(Err(err))
            }
        }
    }
}

fn start_day(date: NaiveDate) -> i32 {
    chrono::Datelike::num_days_from_ce(&date)
}

pub(crate) fn add_to(totals: &mut Vec<(Currency, Decimal)>, currency: Currency, amount: Decimal) -> Decimal {
    match totals.iter_mut().find(|(ccy, _)| *ccy == currency) {
        Some((_, total)) => {
            *total += amount;
            *total
        }
        None => {
            totals.push((currency, amount));
            amount
        }
    }
}

/// The account's postings in the journal's entries `after + 1 ..= head`.
fn journal_postings(
    storage: &dyn Storage,
    reader: &StatementReader<'_>,
    after: u64,
    head: u64,
) -> Result<Vec<PostingRecord>, LedgerError> {
    let mut found = Vec::new();
    if after >= head {
        return Ok(found);
    }
    for item in crate::ledger::journal_entries(storage, after + 1) {
        let (entry, _) = item?;
        if entry.seq > head {
            break;
        }
        let EntryBody::Transaction(tx) = &entry.body else { continue };
        for (n, posting) in tx.postings.iter().enumerate() {
            if posting.account == reader.account {
                found.push(PostingRecord {
                    key: PostingKey::new(
                        reader.basis.account_idx,
                        posting.currency,
                        tx.value_date,
                        entry.seq,
                        u32::try_from(n).expect("fewer than 2^32 postings"),
                    ),
                    amount: posting.amount,
                });
            }
        }
    }
    Ok(found)
}

/// What a statement line shows of its transaction.
struct Details {
    value_date: NaiveDate,
    id: String,
    purpose: Purpose,
    reference: String,
    memo: String,
    postings: Vec<(String, Currency, Decimal)>,
}

/// The last few journal blocks read, their entries decoded as lines ask for
/// them: the lines of a statement come mostly from the same blocks one after
/// the other, and a page needs a few of a block's thousands of entries.
#[derive(Default)]
struct EntryCache {
    blocks: VecDeque<CachedBlock>,
}

/// A block's bytes, where each entry's frame lies, and the transactions decoded so far.
struct CachedBlock {
    first: u64,
    bytes: Vec<u8>,
    /// (start, length) of each entry's bytes, in order from `first`.
    frames: Vec<(usize, usize)>,
    decoded: HashMap<u64, Details>,
}

const CACHED_BLOCKS: usize = 4;

impl EntryCache {
    fn get(&mut self, storage: &dyn Storage, seq: u64) -> Result<&Details, LedgerError> {
        let cached =
            self.blocks.iter().position(|block| block.first <= seq && seq - block.first < block.frames.len() as u64);
        let idx = match cached {
            Some(idx) => idx,
            None => {
                let block = read_block(storage, seq)?;
                if self.blocks.len() == CACHED_BLOCKS {
                    self.blocks.pop_front();
                }
                self.blocks.push_back(block);
                self.blocks.len() - 1
            }
        };
        let block = &mut self.blocks[idx];
        if !block.decoded.contains_key(&seq) {
            let (start, len) = block.frames[usize::try_from(seq - block.first).expect("checked above")];
            let not_a_transaction = || LedgerError::Integrity {
                seq,
                reason: "the posting index names an entry that is not a transaction of the journal".into(),
            };
            let entry = Entry::decode(&block.bytes[start..start + len])
                .map_err(|err| LedgerError::Integrity { seq, reason: err.to_string() })?;
            let EntryBody::Transaction(tx) = entry.body else { return Err(not_a_transaction()) };
            if entry.seq != seq {
                return Err(not_a_transaction());
            }
            block.decoded.insert(
                seq,
                Details {
                    value_date: tx.value_date,
                    id: tx.id,
                    purpose: tx.purpose,
                    reference: tx.reference,
                    memo: tx.memo,
                    postings: tx.postings.into_iter().map(|p| (p.account, p.currency, p.amount)).collect(),
                },
            );
        }
        Ok(&block.decoded[&seq])
    }
}

/// The block that holds entry `seq`, its entries' frames found (not decoded).
fn read_block(storage: &dyn Storage, seq: u64) -> Result<CachedBlock, LedgerError> {
    let missing =
        || LedgerError::Integrity { seq, reason: "the posting index names an entry the journal does not hold".into() };
    let (first, bytes) = storage.blocks(seq).next().ok_or_else(missing)??;
    if first > seq {
        return Err(missing());
    }
    // The frames: a little-endian u32 length, then the entry's bytes (`journal::block_entries`).
    let mut frames = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let len = bytes
            .get(pos..pos + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
            .filter(|len| pos + 4 + len <= bytes.len())
            .ok_or_else(|| LedgerError::Integrity { seq: first, reason: "a truncated entry in its block".into() })?;
        frames.push((pos + 4, len));
        pos += 4 + len;
    }
    if seq - first >= frames.len() as u64 {
        return Err(missing());
    }
    Ok(CachedBlock { first, bytes, frames, decoded: HashMap::new() })
}
