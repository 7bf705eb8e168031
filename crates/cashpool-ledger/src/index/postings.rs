//! The posting index on disk: every posting of every transaction, sorted by
//! account, currency, value date, sequence number and position in its
//! transaction, with its amount (docs/STORAGE.md, "The posting index"). A
//! statement of one account reads the range of its account and currencies
//! instead of the whole journal, and its running balance needs nothing else.
//!
//! ```text
//! header   48 bytes: magic "CPP1", version u32 = 1, first_seq u64, last_seq u64,
//!          records u64, page records u32, reserved 12 bytes (all LE)
//! records  records × 40 bytes (below), sorted by key
//! fences   one per page of `page records` records: the page's first key
//!          (24 bytes, as in a record) and the CRC-32 of the page (u32 LE)
//! trailer  CRC-32 of header and fences, u32 LE
//! record   account u32, currency u32 (the code's three ASCII letters, big-endian
//!          in the low 24 bits), value date i32 (days from 0001-01-01 = 1),
//!          posting u32 (its position in the transaction), seq u64,
//!          amount: 16 bytes (`rust_decimal`'s serialized form); all LE
//! ```
//!
//! The runs are written with the id index's (same `through`, one manifest):
//! the two indexes always cover the same entries.

use std::io::Write;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::money::Currency;
use crate::storage::{Storage, StorageError};

const MAGIC: [u8; 4] = *b"CPP1";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 48;
const KEY_LEN: usize = 24;
pub(crate) const RECORD_LEN: usize = 40;
const FENCE_LEN: usize = KEY_LEN + 4;
/// Records a page (5 KiB): a statement's first page reads one or two per run.
const PAGE_RECORDS: usize = 128;

/// Where a posting sorts: account, currency, value date, entry, position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PostingKey {
    pub(crate) account: u32,
    pub(crate) currency: u32,
    pub(crate) day: i32,
    pub(crate) seq: u64,
    pub(crate) posting: u32,
}

impl PostingKey {
    pub(crate) fn new(account: u32, currency: Currency, date: NaiveDate, seq: u64, posting: u32) -> PostingKey {
        PostingKey { account, currency: currency_code(currency), day: date.num_days_from_ce(), seq, posting }
    }

    /// The first key of `(account, currency)` on `date`.
    pub(crate) fn first_on(account: u32, currency: Currency, date: NaiveDate) -> PostingKey {
        PostingKey::new(account, currency, date, 0, 0)
    }

    /// The last key of `(account, currency)` on `date`.
    pub(crate) fn last_on(account: u32, currency: Currency, date: NaiveDate) -> PostingKey {
        PostingKey::new(account, currency, date, u64::MAX, u32::MAX)
    }

    pub(crate) fn date(&self) -> Option<NaiveDate> {
        NaiveDate::from_num_days_from_ce_opt(self.day)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.account.to_le_bytes());
        out.extend_from_slice(&self.currency.to_le_bytes());
        out.extend_from_slice(&self.day.to_le_bytes());
        out.extend_from_slice(&self.posting.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
    }

    fn decode(bytes: &[u8]) -> PostingKey {
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        PostingKey {
            account: u32_at(0),
            currency: u32_at(4),
            day: i32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")),
            posting: u32_at(12),
            seq: u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes")),
        }
    }
}

/// A currency's code as the index sorts it: its three letters, big-endian.
pub(crate) fn currency_code(currency: Currency) -> u32 {
    currency.code().bytes().fold(0u32, |code, byte| (code << 8) | u32::from(byte))
}

/// One posting as the index holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PostingRecord {
    pub(crate) key: PostingKey,
    pub(crate) amount: Decimal,
}

impl PostingRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        self.key.encode(out);
        out.extend_from_slice(&self.amount.serialize());
    }

    fn decode(bytes: &[u8]) -> PostingRecord {
        let amount: [u8; 16] = bytes[KEY_LEN..RECORD_LEN].try_into().expect("16 bytes");
        PostingRecord { key: PostingKey::decode(&bytes[..KEY_LEN]), amount: Decimal::deserialize(amount) }
    }
}

/// A run as the manifest names it: enough to plan merges without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PostingRunMeta {
    pub(crate) name: String,
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
    pub(crate) records: u64,
}

pub(crate) fn run_name(first_seq: u64, last_seq: u64) -> String {
    format!("postings-{first_seq:020}-{last_seq:020}.run")
}

fn corrupt(name: &str, reason: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("index file {name}: {reason}"))
}

/// Writes a run of `records` (sorted by key, `count` of them) for entries `first_seq..=last_seq`.
pub(crate) fn write_run(
    out: &mut dyn Write,
    first_seq: u64,
    last_seq: u64,
    count: u64,
    records: &mut dyn Iterator<Item = Result<PostingRecord, StorageError>>,
) -> Result<(), StorageError> {
    let io = |err: std::io::Error| StorageError::Corrupt(format!("writing an index file: {err}"));
    let mut header = [0u8; HEADER_LEN];
    header[0..4].copy_from_slice(&MAGIC);
    header[4..8].copy_from_slice(&VERSION.to_le_bytes());
    header[8..16].copy_from_slice(&first_seq.to_le_bytes());
    header[16..24].copy_from_slice(&last_seq.to_le_bytes());
    header[24..32].copy_from_slice(&count.to_le_bytes());
    header[32..36].copy_from_slice(&(PAGE_RECORDS as u32).to_le_bytes());
    out.write_all(&header).map_err(io)?;
    let mut fences: Vec<u8> = Vec::new();
    let mut page = Vec::with_capacity(PAGE_RECORDS * RECORD_LEN);
    let mut written = 0u64;
    let mut last: Option<PostingKey> = None;
    let end_page = |page: &mut Vec<u8>, fences: &mut Vec<u8>, out: &mut dyn Write| -> Result<(), StorageError> {
        fences.extend_from_slice(&page[..KEY_LEN]);
        fences.extend_from_slice(&crc32fast::hash(page).to_le_bytes());
        out.write_all(page).map_err(io)?;
        page.clear();
        Ok(())
    };
    for record in records {
        let record = record?;
        assert!(last.is_none_or(|last| last < record.key), "run records are sorted and distinct");
        assert!((first_seq..=last_seq).contains(&record.key.seq), "a run holds postings of its entries only");
        last = Some(record.key);
        record.encode(&mut page);
        written += 1;
        if page.len() == PAGE_RECORDS * RECORD_LEN {
            end_page(&mut page, &mut fences, out)?;
        }
    }
    if !page.is_empty() {
        end_page(&mut page, &mut fences, out)?;
    }
    assert_eq!(written, count, "a run holds the records it announced");
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&header);
    hasher.update(&fences);
    out.write_all(&fences).map_err(io)?;
    out.write_all(&hasher.finalize().to_le_bytes()).map_err(io)?;
    Ok(())
}

/// A run opened for reading: its fences in memory (28 bytes a page of 128 records).
#[derive(Debug, Clone)]
pub(crate) struct PostingRun {
    meta: PostingRunMeta,
    fences: Vec<(PostingKey, u32)>,
}

impl PostingRun {
    /// Reads the header and fences of the run the manifest names, and checks them against it.
    pub(crate) fn open(storage: &dyn Storage, meta: &PostingRunMeta) -> Result<PostingRun, StorageError> {
        let name = meta.name.as_str();
        let mut header = [0u8; HEADER_LEN];
        storage.index_read_at(name, 0, &mut header)?;
        if header[0..4] != MAGIC {
            return Err(corrupt(name, "not a posting index file (bad magic)"));
        }
        let word = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().expect("8 bytes"));
        let version = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(corrupt(name, format!("version {version}, this build reads {VERSION}")));
        }
        let page_records = u32::from_le_bytes(header[32..36].try_into().expect("4 bytes"));
        if (word(8), word(16), word(24)) != (meta.first_seq, meta.last_seq, meta.records)
            || page_records as usize != PAGE_RECORDS
            || meta.records == 0
        {
            return Err(corrupt(name, "its header does not match the manifest"));
        }
        let pages = meta.records.div_ceil(PAGE_RECORDS as u64);
        let fences_len = usize::try_from(pages * FENCE_LEN as u64).map_err(|_| corrupt(name, "too large"))?;
        let mut meta_bytes = vec![0u8; fences_len + 4];
        storage.index_read_at(name, HEADER_LEN as u64 + meta.records * RECORD_LEN as u64, &mut meta_bytes)?;
        let (body, trailer) = meta_bytes.split_at(fences_len);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&header);
        hasher.update(body);
        if hasher.finalize().to_le_bytes() != trailer {
            return Err(corrupt(name, "checksum mismatch in its header or fences"));
        }
        let fences = body
            .chunks_exact(FENCE_LEN)
            .map(|f| (PostingKey::decode(&f[..KEY_LEN]), u32::from_le_bytes(f[KEY_LEN..].try_into().expect("4 bytes"))))
            .collect();
        Ok(PostingRun { meta: meta.clone(), fences })
    }

    /// The records of page `page`, checked against its fence.
    fn page(&self, storage: &dyn Storage, page: usize) -> Result<Vec<PostingRecord>, StorageError> {
        let first = page as u64 * PAGE_RECORDS as u64;
        let n = (self.meta.records - first).min(PAGE_RECORDS as u64) as usize;
        let mut bytes = vec![0u8; n * RECORD_LEN];
        storage.index_read_at(&self.meta.name, HEADER_LEN as u64 + first * RECORD_LEN as u64, &mut bytes)?;
        let (fence_key, fence_crc) = self.fences[page];
        if crc32fast::hash(&bytes) != fence_crc {
            return Err(corrupt(&self.meta.name, format!("checksum mismatch in page {page}")));
        }
        let records: Vec<PostingRecord> = bytes.chunks_exact(RECORD_LEN).map(PostingRecord::decode).collect();
        if records.first().map(|r| r.key) != Some(fence_key) {
            return Err(corrupt(&self.meta.name, format!("page {page} does not start with its fence")));
        }
        Ok(records)
    }

    /// The records with `lo <= key <= hi`, in key order, a page at a time.
    pub(crate) fn scan(self: Arc<Self>, storage: &dyn Storage, lo: PostingKey, hi: PostingKey) -> RunScan<'_> {
        // The range starts in the last page whose first key is below `lo` (or the first page).
        let page = self.fences.partition_point(|(first, _)| *first < lo).saturating_sub(1);
        RunScan { run: self, storage, lo, hi, page, buffer: Vec::new().into_iter(), done: false }
    }
}

/// The records of a run in a key range ([`PostingRun::scan`]).
pub(crate) struct RunScan<'a> {
    run: Arc<PostingRun>,
    storage: &'a dyn Storage,
    lo: PostingKey,
    hi: PostingKey,
    page: usize,
    buffer: std::vec::IntoIter<PostingRecord>,
    done: bool,
}

impl Iterator for RunScan<'_> {
    type Item = Result<PostingRecord, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            for record in self.buffer.by_ref() {
                if record.key > self.hi {
                    self.done = true;
                    break;
                }
                if record.key >= self.lo {
                    return Some(Ok(record));
                }
            }
            if self.done || self.page >= self.run.fences.len() || self.run.fences[self.page].0 > self.hi {
                self.done = true;
                return None;
            }
            match self.run.page(self.storage, self.page) {
                Ok(records) => self.buffer = records.into_iter(),
                Err(err) => {
                    self.done = true;
                    return Some(Err(err));
                }
            }
            self.page += 1;
        }
    }
}

/// Writes one run of every record of `runs` (consecutive in sequence numbers), streamed page by page.
pub(crate) fn merge(storage: &dyn Storage, metas: &[PostingRunMeta]) -> Result<PostingRunMeta, StorageError> {
    let first_seq = metas.first().map_or(0, |run| run.first_seq);
    let last_seq = metas.last().map_or(0, |run| run.last_seq);
    let count: u64 = metas.iter().map(|run| run.records).sum();
    let runs = metas.iter().map(|meta| PostingRun::open(storage, meta).map(Arc::new)).collect::<Result<Vec<_>, _>>()?;
    let name = run_name(first_seq, last_seq);
    let (lo, hi) = (
        PostingKey { account: 0, currency: 0, day: i32::MIN, seq: 0, posting: 0 },
        PostingKey { account: u32::MAX, currency: u32::MAX, day: i32::MAX, seq: u64::MAX, posting: u32::MAX },
    );
    storage.index_write(&name, &mut |out| {
        let mut sources: Vec<_> = runs.iter().map(|run| Arc::clone(run).scan(storage, lo, hi).peekable()).collect();
        let mut merged = std::iter::from_fn(|| {
            let mut best: Option<(usize, PostingKey)> = None;
            for (idx, source) in sources.iter_mut().enumerate() {
                match source.peek() {
                    Some(Err(_)) => return source.next(),
                    Some(Ok(record)) if best.is_none_or(|(_, b)| record.key < b) => best = Some((idx, record.key)),
                    _ => {}
                }
            }
            let (idx, _) = best?;
            sources[idx].next()
        });
        write_run(out, first_seq, last_seq, count, &mut merged)
    })?;
    Ok(PostingRunMeta { name, first_seq, last_seq, records: count })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;

    fn usd() -> Currency {
        Currency::from_code("USD").unwrap()
    }

    fn record(account: u32, day: u32, seq: u64, cents: i64) -> PostingRecord {
        let date = NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        PostingRecord { key: PostingKey::new(account, usd(), date, seq, 0), amount: Decimal::new(cents, 2) }
    }

    fn write(storage: &MemoryStorage, first: u64, last: u64, mut records: Vec<PostingRecord>) -> PostingRunMeta {
        records.sort_by_key(|r| r.key);
        let name = run_name(first, last);
        let count = records.len() as u64;
        storage
            .index_write(&name, &mut |out| write_run(out, first, last, count, &mut records.iter().map(|r| Ok(*r))))
            .unwrap();
        PostingRunMeta { name, first_seq: first, last_seq: last, records: count }
    }

    #[test]
    fn a_range_scan_returns_exactly_the_records_in_range_across_pages_and_merges() {
        let storage = MemoryStorage::new();
        // 1,000 postings on three accounts and thirty days, in two runs.
        let all: Vec<PostingRecord> =
            (1..=1000u64).map(|seq| record((seq % 3) as u32, 1 + (seq * 7 % 30) as u32, seq, seq as i64)).collect();
        let a = write(&storage, 1, 600, all[..600].to_vec());
        let b = write(&storage, 601, 1000, all[600..].to_vec());
        let merged = merge(&storage, &[a, b]).unwrap();
        assert_eq!(merged.records, 1000);
        let run = Arc::new(PostingRun::open(&storage, &merged).unwrap());
        let date = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let (lo, hi) = (PostingKey::first_on(1, usd(), date(5)), PostingKey::last_on(1, usd(), date(20)));
        let found: Vec<PostingRecord> = Arc::clone(&run).scan(&storage, lo, hi).map(Result::unwrap).collect();
        let mut expected: Vec<PostingRecord> = all.iter().filter(|r| r.key >= lo && r.key <= hi).copied().collect();
        expected.sort_by_key(|r| r.key);
        assert!(!expected.is_empty());
        assert_eq!(found, expected);
        // A damaged page is an error, not a wrong answer.
        let mut bytes = storage.index_read(&merged.name).unwrap().unwrap();
        bytes[HEADER_LEN + RECORD_LEN * 3 + 30] ^= 1;
        storage
            .index_write(&merged.name, &mut |out| {
                out.write_all(&bytes).map_err(|e| StorageError::Corrupt(e.to_string()))
            })
            .unwrap();
        let run = Arc::new(PostingRun::open(&storage, &merged).unwrap());
        let (lo, hi) = (PostingKey::first_on(0, usd(), date(1)), PostingKey::last_on(2, usd(), date(30)));
        assert!(run.scan(&storage, lo, hi).any(|r| matches!(r, Err(StorageError::Corrupt(_)))));
    }
}
