//! A run: an immutable, sorted file of `(key, seq)` records with a Bloom
//! filter and a sparse index (docs/STORAGE.md, "The id index").
//!
//! ```text
//! header   48 bytes: magic "CPX1", version u32 = 2, first_seq u64, last_seq u64,
//!          records u64, bloom words u64, page records u32, reserved u32 (all LE)
//! records  records × (key u64 LE, seq u64 LE), sorted by (key, seq)
//! bloom    bloom words × u64 LE
//! fences   one per page of `page records` records: (first key u64 LE, CRC-32 of the page u32 LE)
//! trailer  CRC-32 of header and fences, u32 LE; then CRC-32 of header, bloom,
//!          fences and that CRC, u32 LE
//! ```
//!
//! Opening a run reads its header and fences (0.1 byte a record) and checks
//! the first CRC of the trailer. A lookup reads the one page the fences point to
//! (2 KiB) and checks its CRC; once a run has answered [`LOOKUPS_BEFORE_FILTER`]
//! lookups (a process posting more than a handful of transactions), its Bloom
//! filter (1.25 bytes a record) is read, checked against the trailer and kept,
//! and a lookup reads a page only when the filter says the key may be there.
//! The records themselves are never all in memory.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use super::bloom::Bloom;
use crate::storage::{Storage, StorageError};

const MAGIC: [u8; 4] = *b"CPX1";
const VERSION: u32 = 2;
/// Lookups a run answers from its pages before it reads its filter.
pub(crate) const LOOKUPS_BEFORE_FILTER: u64 = 32;
const HEADER_LEN: usize = 48;
const RECORD_LEN: usize = 16;
const FENCE_LEN: usize = 12;
/// Records a page: a lookup reads one page (2 KiB).
pub(crate) const PAGE_RECORDS: usize = 128;

/// What is kept in memory of a run.
#[derive(Debug)]
pub(crate) struct Run {
    pub name: String,
    pub first_seq: u64,
    pub last_seq: u64,
    pub records: u64,
    bloom_words: u64,
    /// The filter, once read (after [`LOOKUPS_BEFORE_FILTER`] lookups).
    bloom: OnceLock<Bloom>,
    lookups: AtomicU64,
    /// The header as read (the trailer's CRC covers it).
    header: [u8; HEADER_LEN],
    /// Per page: its first key and its CRC-32.
    fences: Vec<(u64, u32)>,
}

fn corrupt(name: &str, reason: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("index file {name}: {reason}"))
}

/// Writes a run of `records` (sorted by (key, seq), `count` of them) for entries `first_seq..=last_seq`.
pub(crate) fn write_run(
    out: &mut dyn Write,
    first_seq: u64,
    last_seq: u64,
    count: u64,
    records: &mut dyn Iterator<Item = Result<(u64, u64), StorageError>>,
) -> Result<(), StorageError> {
    let io = |err: std::io::Error| StorageError::Corrupt(format!("writing an index file: {err}"));
    let mut bloom = Bloom::with_capacity(count);
    let mut header = [0u8; HEADER_LEN];
    header[0..4].copy_from_slice(&MAGIC);
    header[4..8].copy_from_slice(&VERSION.to_le_bytes());
    header[8..16].copy_from_slice(&first_seq.to_le_bytes());
    header[16..24].copy_from_slice(&last_seq.to_le_bytes());
    header[24..32].copy_from_slice(&count.to_le_bytes());
    header[32..40].copy_from_slice(&(bloom.words().len() as u64).to_le_bytes());
    header[40..44].copy_from_slice(&(PAGE_RECORDS as u32).to_le_bytes());
    out.write_all(&header).map_err(io)?;
    let mut fences: Vec<(u64, u32)> = Vec::new();
    let mut page = Vec::with_capacity(PAGE_RECORDS * RECORD_LEN);
    let mut page_key = 0u64;
    let mut written = 0u64;
    let mut last: Option<(u64, u64)> = None;
    for record in records {
        let (key, seq) = record?;
        assert!(last.is_none_or(|last| last < (key, seq)), "run records are sorted and distinct");
        last = Some((key, seq));
        if page.is_empty() {
            page_key = key;
        }
        bloom.insert(key);
        page.extend_from_slice(&key.to_le_bytes());
        page.extend_from_slice(&seq.to_le_bytes());
        written += 1;
        if page.len() == PAGE_RECORDS * RECORD_LEN {
            fences.push((page_key, crc32fast::hash(&page)));
            out.write_all(&page).map_err(io)?;
            page.clear();
        }
    }
    if !page.is_empty() {
        fences.push((page_key, crc32fast::hash(&page)));
        out.write_all(&page).map_err(io)?;
    }
    assert_eq!(written, count, "a run holds the records it announced");
    let mut meta = Vec::with_capacity(bloom.words().len() * 8 + fences.len() * FENCE_LEN);
    for word in bloom.words() {
        meta.extend_from_slice(&word.to_le_bytes());
    }
    let fences_at = meta.len();
    for (key, crc) in &fences {
        meta.extend_from_slice(&key.to_le_bytes());
        meta.extend_from_slice(&crc.to_le_bytes());
    }
    let mut fence_crc = crc32fast::Hasher::new();
    fence_crc.update(&header);
    fence_crc.update(&meta[fences_at..]);
    meta.extend_from_slice(&fence_crc.finalize().to_le_bytes());
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&header);
    hasher.update(&meta);
    out.write_all(&meta).map_err(io)?;
    out.write_all(&hasher.finalize().to_le_bytes()).map_err(io)?;
    Ok(())
}

impl Run {
    fn pages(&self) -> usize {
        self.fences.len()
    }

    /// Reads the header and fences of the run file `name` (not its filter: [`Run::lookup`]).
    pub(crate) fn open(storage: &dyn Storage, name: &str) -> Result<Run, StorageError> {
        let mut header = [0u8; HEADER_LEN];
        storage.index_read_at(name, 0, &mut header)?;
        if header[0..4] != MAGIC {
            return Err(corrupt(name, "not an index file (bad magic)"));
        }
        let word = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().expect("8 bytes"));
        let version = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(corrupt(name, format!("version {version}, this build reads {VERSION}")));
        }
        let (first_seq, last_seq, records, bloom_words) = (word(8), word(16), word(24), word(32));
        let page_records = u32::from_le_bytes(header[40..44].try_into().expect("4 bytes"));
        if page_records as usize != PAGE_RECORDS || first_seq > last_seq || records == 0 {
            return Err(corrupt(name, "impossible header"));
        }
        let pages = records.div_ceil(PAGE_RECORDS as u64);
        let expected_words = Bloom::with_capacity(records).words().len() as u64;
        if bloom_words != expected_words {
            return Err(corrupt(name, "the filter's size does not match the record count"));
        }
        let fences_at = bloom_words
            .checked_mul(8)
            .and_then(|bloom| bloom.checked_add(HEADER_LEN as u64 + records * RECORD_LEN as u64))
            .ok_or_else(|| corrupt(name, "impossible header"))?;
        let fences_len = pages.checked_mul(FENCE_LEN as u64).ok_or_else(|| corrupt(name, "impossible header"))?;
        let mut fence_bytes = vec![0u8; usize::try_from(fences_len + 4).map_err(|_| corrupt(name, "too large"))?];
        storage.index_read_at(name, fences_at, &mut fence_bytes)?;
        let (body, crc) = fence_bytes.split_at(fence_bytes.len() - 4);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&header);
        hasher.update(body);
        if hasher.finalize().to_le_bytes() != crc {
            return Err(corrupt(name, "checksum mismatch in its header or fences"));
        }
        let fences = body
            .chunks_exact(FENCE_LEN)
            .map(|f| {
                (
                    u64::from_le_bytes(f[0..8].try_into().expect("8 bytes")),
                    u32::from_le_bytes(f[8..12].try_into().expect("4 bytes")),
                )
            })
            .collect();
        Ok(Run {
            name: name.to_string(),
            first_seq,
            last_seq,
            records,
            bloom_words,
            bloom: OnceLock::new(),
            lookups: AtomicU64::new(0),
            header,
            fences,
        })
    }

    /// The filter, read once and checked against the trailer (which covers
    /// the header, the filter and the fences as they were read).
    fn bloom(&self, storage: &dyn Storage) -> Result<&Bloom, StorageError> {
        if let Some(bloom) = self.bloom.get() {
            return Ok(bloom);
        }
        let name = self.name.as_str();
        let bloom_len = usize::try_from(self.bloom_words * 8).map_err(|_| corrupt(name, "too large"))?;
        let fences_len = self.fences.len() * FENCE_LEN;
        let mut meta = vec![0u8; bloom_len + fences_len + 8];
        storage.index_read_at(name, HEADER_LEN as u64 + self.records * RECORD_LEN as u64, &mut meta)?;
        let (body, trailer) = meta.split_at(meta.len() - 4);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&self.header);
        hasher.update(body);
        let fences_match = body[bloom_len..bloom_len + fences_len]
            .chunks_exact(FENCE_LEN)
            .zip(&self.fences)
            .all(|(bytes, (key, crc))| bytes[0..8] == key.to_le_bytes() && bytes[8..12] == crc.to_le_bytes());
        if hasher.finalize().to_le_bytes() != trailer || !fences_match {
            return Err(corrupt(name, "checksum mismatch in its header, filter or fences"));
        }
        let words =
            body[..bloom_len].chunks_exact(8).map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes"))).collect();
        let bloom = Bloom::from_words(words).ok_or_else(|| corrupt(name, "bad filter"))?;
        Ok(self.bloom.get_or_init(|| bloom))
    }

    /// The records of page `page`, checked against its fence.
    fn page(&self, storage: &dyn Storage, page: usize) -> Result<Vec<(u64, u64)>, StorageError> {
        let first = page as u64 * PAGE_RECORDS as u64;
        let n = (self.records - first).min(PAGE_RECORDS as u64) as usize;
        let mut bytes = vec![0u8; n * RECORD_LEN];
        storage.index_read_at(&self.name, HEADER_LEN as u64 + first * RECORD_LEN as u64, &mut bytes)?;
        let (fence_key, fence_crc) = self.fences[page];
        if crc32fast::hash(&bytes) != fence_crc {
            return Err(corrupt(&self.name, format!("checksum mismatch in page {page}")));
        }
        let records: Vec<(u64, u64)> = bytes
            .chunks_exact(RECORD_LEN)
            .map(|r| {
                (
                    u64::from_le_bytes(r[0..8].try_into().expect("8 bytes")),
                    u64::from_le_bytes(r[8..16].try_into().expect("8 bytes")),
                )
            })
            .collect();
        if records.first().map(|r| r.0) != Some(fence_key) {
            return Err(corrupt(&self.name, format!("page {page} does not start with its fence")));
        }
        Ok(records)
    }

    /// The sequence numbers recorded under `key` (empty: none; the filter
    /// answers most absent keys without reading the file).
    pub(crate) fn lookup(&self, storage: &dyn Storage, key: u64) -> Result<Vec<u64>, StorageError> {
        let filtered =
            self.bloom.get().is_some() || self.lookups.fetch_add(1, Ordering::Relaxed) >= LOOKUPS_BEFORE_FILTER;
        if filtered && !self.bloom(storage)?.may_contain(key) {
            return Ok(Vec::new());
        }
        // The key's records start in the last page whose first key is below
        // it (or in the page that starts with it) and may run on.
        let mut page = self.fences.partition_point(|(first, _)| *first < key).saturating_sub(1);
        let mut seqs = Vec::new();
        while page < self.pages() && self.fences[page].0 <= key {
            let records = self.page(storage, page)?;
            seqs.extend(records.iter().filter(|r| r.0 == key).map(|r| r.1));
            if records.last().is_some_and(|r| r.0 > key) {
                break;
            }
            page += 1;
        }
        Ok(seqs)
    }

    /// Every record, in order, a page at a time.
    pub(crate) fn records<'a>(
        &'a self,
        storage: &'a dyn Storage,
    ) -> impl Iterator<Item = Result<(u64, u64), StorageError>> + 'a {
        (0..self.pages()).flat_map(move |page| match self.page(storage, page) {
            Ok(records) => records.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(err) => vec![Err(err)],
        })
    }
}
