//! The idempotency index on disk: which entry posted a transaction id, for
//! every id ever posted, without keeping them in memory (docs/STORAGE.md,
//! "The id index").
//!
//! The ids of recent entries are in memory (the `transactions` part of the
//! state, at most about [`FLUSH_IDS`] of them). Once that many are durable,
//! the ledger writes them as one **run**: an immutable file of
//! `(key, seq)` records sorted by key, where `key` is the first 8 bytes of
//! SHA-256 of the id, with a Bloom filter and one fence per 2 KiB page
//! ([`run`]). The **manifest** names the runs and the last entry they cover;
//! it is replaced atomically after the run is durable, so a crash leaves the
//! old manifest (and a stray file, removed at the next open) or the new one.
//! Runs of similar size are merged, so that a lookup consults a few filters.
//!
//! A key names candidates, never an answer: two ids can share a key, so the
//! ledger reads the entry a candidate names and compares its id.
//!
//! The layout serves batches: a run costs one sequential write and two
//! `fsync`s per [`FLUSH_IDS`] transactions, never a write per transaction.

mod bloom;
pub(crate) mod postings;
mod run;

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::storage::{Storage, StorageError};
use postings::{PostingRecord, PostingRunMeta};
use run::Run;

/// The in-memory ids that make a run.
pub(crate) const FLUSH_IDS: usize = 1 << 17;
/// Runs are merged while the merged run stays below this many records
/// (the merge holds the new run's filter in memory: 1.25 bytes a record).
const MERGE_RECORDS_MAX: u64 = 1 << 24;
/// Merge when this many runs are within a factor [`TIER_FACTOR`] of each other in size.
const TIER_RUNS: usize = 4;
const TIER_FACTOR: u64 = 4;

const MANIFEST: &str = "ids.manifest";
const MANIFEST_HEADER: &str = "cashpool-id-index 2";

/// The key of a transaction id: the first 8 bytes of SHA-256 of its UTF-8 bytes, little-endian.
pub(crate) fn id_key(id: &str) -> u64 {
    let digest: [u8; 32] = Sha256::digest(id.as_bytes()).into();
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

fn corrupt(reason: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("index manifest {MANIFEST}: {reason}"))
}

/// What the manifest says: the runs of both indexes and the last entry they cover.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Manifest {
    /// Every transaction of an entry up to this one is in the runs.
    pub(crate) through: u64,
    /// The id index's runs, oldest first.
    pub(crate) id_runs: Vec<String>,
    /// The posting index's runs, oldest first.
    pub(crate) posting_runs: Vec<PostingRunMeta>,
}

impl Manifest {
    /// Reads and checks the manifest (none: empty indexes).
    pub(crate) fn read(storage: &dyn Storage) -> Result<Manifest, StorageError> {
        let Some(bytes) = storage.index_read(MANIFEST)? else {
            return Ok(Manifest::default());
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| corrupt("not UTF-8"))?;
        let (body, crc_line) = text.trim_end_matches('\n').rsplit_once('\n').ok_or_else(|| corrupt("too short"))?;
        let crc = crc_line.strip_prefix("crc ").ok_or_else(|| corrupt("no crc line"))?;
        if format!("{:08x}", crc32fast::hash(body.as_bytes())) != crc {
            return Err(corrupt("checksum mismatch"));
        }
        let mut lines = body.lines();
        if lines.next() != Some(MANIFEST_HEADER) {
            return Err(corrupt("unknown version"));
        }
        let through = lines
            .next()
            .and_then(|line| line.strip_prefix("through "))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| corrupt("no `through` line"))?;
        let mut manifest = Manifest { through, ..Manifest::default() };
        for line in lines {
            if let Some(name) = line.strip_prefix("run ") {
                manifest.id_runs.push(name.to_string());
            } else if let Some(rest) = line.strip_prefix("postings ") {
                let meta = rest
                    .split_once(' ')
                    .and_then(|(name, records)| {
                        let (first_seq, last_seq) = parse_run_name(name, "postings-")?;
                        Some(PostingRunMeta {
                            name: name.to_string(),
                            first_seq,
                            last_seq,
                            records: records.parse().ok()?,
                        })
                    })
                    .ok_or_else(|| corrupt(format!("unexpected line {line:?}")))?;
                let previous = manifest.posting_runs.last();
                if previous.is_some_and(|last| last.last_seq >= meta.first_seq) || meta.last_seq > through {
                    return Err(corrupt(format!("run {} overlaps another or passes `through`", meta.name)));
                }
                manifest.posting_runs.push(meta);
            } else {
                return Err(corrupt(format!("unexpected line {line:?}")));
            }
        }
        Ok(manifest)
    }
}

/// `(first, last)` of a run file named `<prefix><first>-<last>.run`.
fn parse_run_name(name: &str, prefix: &str) -> Option<(u64, u64)> {
    let (first, last) = name.strip_prefix(prefix)?.strip_suffix(".run")?.split_once('-')?;
    Some((first.parse().ok()?, last.parse().ok()?))
}

/// The runs of the id index and of the posting index, as the manifest lists them.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdIndex {
    /// Oldest first.
    runs: Vec<Arc<Run>>,
    /// The posting index's runs, oldest first (opened only to read them: a statement, a merge).
    postings: Vec<PostingRunMeta>,
    /// Every transaction of an entry up to this one is in a run.
    through: u64,
}

impl IdIndex {
    /// Opens the index the manifest describes (none: an empty index).
    pub(crate) fn open(storage: &dyn Storage) -> Result<IdIndex, StorageError> {
        let manifest = Manifest::read(storage)?;
        let mut runs: Vec<Arc<Run>> = Vec::new();
        for name in &manifest.id_runs {
            let run = Run::open(storage, name)?;
            if runs.last().is_some_and(|last| last.last_seq >= run.first_seq) || run.last_seq > manifest.through {
                return Err(corrupt(format!("run {name} overlaps another or passes `through`")));
            }
            runs.push(Arc::new(run));
        }
        Ok(IdIndex { runs, postings: manifest.posting_runs, through: manifest.through })
    }

    /// The posting index's runs and the last entry they cover.
    pub(crate) fn manifest(&self) -> Manifest {
        Manifest {
            through: self.through,
            id_runs: self.runs.iter().map(|run| run.name.clone()).collect(),
            posting_runs: self.postings.clone(),
        }
    }

    /// How many postings the posting index holds.
    pub(crate) fn postings_len(&self) -> u64 {
        self.postings.iter().map(|run| run.records).sum()
    }

    /// Every transaction of an entry up to this sequence number is in a run.
    pub(crate) fn through(&self) -> u64 {
        self.through
    }

    /// How many ids the runs hold.
    pub(crate) fn len(&self) -> u64 {
        self.runs.iter().map(|run| run.records).sum()
    }

    #[cfg(test)]
    pub(crate) fn n_runs(&self) -> usize {
        self.runs.len()
    }

    /// The entries that may have posted `id` (newest run first); read each to be sure.
    pub(crate) fn candidates(&self, storage: &dyn Storage, id: &str) -> Result<Vec<u64>, StorageError> {
        let key = id_key(id);
        let mut seqs = Vec::new();
        for run in self.runs.iter().rev() {
            seqs.extend(run.lookup(storage, key)?);
        }
        Ok(seqs)
    }

    /// Writes the ids of entries `first_seq..=last_seq` as a new run (`ids`:
    /// every transaction of those entries, by id and sequence number) and
    /// their postings as a new posting run, then the manifest; merges runs
    /// where a tier is full. The files of merged runs stay until
    /// [`IdIndex::remove_strays`].
    pub(crate) fn flush(
        &mut self,
        storage: &dyn Storage,
        ids: impl IntoIterator<Item = (u64, u64)>,
        mut postings: Vec<PostingRecord>,
        first_seq: u64,
        last_seq: u64,
    ) -> Result<(), StorageError> {
        assert!(first_seq > self.through, "a run starts after the runs before it");
        assert!(first_seq <= last_seq, "a run covers at least one entry");
        let mut records: Vec<(u64, u64)> = ids.into_iter().collect();
        records.sort_unstable();
        if !records.is_empty() {
            let name = run_name(first_seq, last_seq);
            let count = records.len() as u64;
            storage.index_write(&name, &mut |out| {
                run::write_run(out, first_seq, last_seq, count, &mut records.iter().copied().map(Ok))
            })?;
            self.runs.push(Arc::new(Run::open(storage, &name)?));
        }
        if !postings.is_empty() {
            postings.sort_unstable_by_key(|record| record.key);
            let name = postings::run_name(first_seq, last_seq);
            let count = postings.len() as u64;
            storage.index_write(&name, &mut |out| {
                postings::write_run(out, first_seq, last_seq, count, &mut postings.iter().copied().map(Ok))
            })?;
            self.postings.push(PostingRunMeta { name, first_seq, last_seq, records: count });
        }
        self.through = last_seq;
        self.merge_full_tiers(storage)?;
        self.merge_full_posting_tiers(storage)?;
        self.write_manifest(storage)?;
        // The manifest no longer names the merged runs: their files can go once
        // nobody looks them up through the old index ([`IdIndex::remove_strays`],
        // which the caller calls once this index has replaced the old one).
        Ok(())
    }

    /// While the newest [`TIER_RUNS`] runs are within [`TIER_FACTOR`] of each other, merges them into one.
    fn merge_full_tiers(&mut self, storage: &dyn Storage) -> Result<(), StorageError> {
        while let Some(from) = full_tier(self.runs.iter().map(|run| run.records)) {
            let merged = merge(storage, &self.runs[from..])?;
            self.runs.truncate(from);
            self.runs.push(Arc::new(merged));
        }
        Ok(())
    }

    /// [`IdIndex::merge_full_tiers`] for the posting index.
    fn merge_full_posting_tiers(&mut self, storage: &dyn Storage) -> Result<(), StorageError> {
        while let Some(from) = full_tier(self.postings.iter().map(|run| run.records)) {
            let merged = postings::merge(storage, &self.postings[from..])?;
            self.postings.truncate(from);
            self.postings.push(merged);
        }
        Ok(())
    }

    fn write_manifest(&self, storage: &dyn Storage) -> Result<(), StorageError> {
        let mut body = format!("{MANIFEST_HEADER}\nthrough {}\n", self.through);
        for run in &self.runs {
            body.push_str(&format!("run {}\n", run.name));
        }
        for run in &self.postings {
            body.push_str(&format!("postings {} {}\n", run.name, run.records));
        }
        let body = body.trim_end_matches('\n').to_string();
        let text = format!("{body}\ncrc {:08x}\n", crc32fast::hash(body.as_bytes()));
        storage.index_write(MANIFEST, &mut |out| {
            out.write_all(text.as_bytes()).map_err(|err| StorageError::Corrupt(format!("writing {MANIFEST}: {err}")))
        })
    }

    /// Removes run files the manifest does not name (merged away, or written before a crash).
    pub(crate) fn remove_strays(&self, storage: &dyn Storage) -> Result<(), StorageError> {
        for name in storage.index_names()? {
            let named = if name.starts_with("ids-") {
                self.runs.iter().any(|run| run.name == name)
            } else if name.starts_with("postings-") {
                self.postings.iter().any(|run| run.name == name)
            } else {
                true
            };
            if name.ends_with(".run") && !named {
                storage.index_remove(&name)?;
            }
        }
        Ok(())
    }
}

/// Where the newest [`TIER_RUNS`] runs start, if they are within
/// [`TIER_FACTOR`] of each other in size and merge into at most
/// [`MERGE_RECORDS_MAX`] records (`records`: each run's, oldest first).
fn full_tier(records: impl ExactSizeIterator<Item = u64>) -> Option<usize> {
    let n = records.len();
    let tier: Vec<u64> = records.skip(n.checked_sub(TIER_RUNS)?).collect();
    let smallest = tier.iter().copied().min().unwrap_or(0);
    let largest = tier.iter().copied().max().unwrap_or(0);
    let total: u64 = tier.iter().sum();
    (largest <= smallest.saturating_mul(TIER_FACTOR) && total <= MERGE_RECORDS_MAX).then_some(n - TIER_RUNS)
}

fn run_name(first_seq: u64, last_seq: u64) -> String {
    format!("ids-{first_seq:020}-{last_seq:020}.run")
}

/// One run of every record of `runs` (consecutive in sequence numbers), streamed page by page.
fn merge(storage: &dyn Storage, runs: &[Arc<Run>]) -> Result<Run, StorageError> {
    let first_seq = runs.first().map_or(0, |run| run.first_seq);
    let last_seq = runs.last().map_or(0, |run| run.last_seq);
    let count: u64 = runs.iter().map(|run| run.records).sum();
    let name = run_name(first_seq, last_seq);
    storage.index_write(&name, &mut |out| {
        let mut sources: Vec<_> = runs.iter().map(|run| run.records(storage).peekable()).collect();
        let mut merged = std::iter::from_fn(|| {
            // The smallest head among the sources (an error first: it ends the merge).
            let mut best: Option<(usize, (u64, u64))> = None;
            for (idx, source) in sources.iter_mut().enumerate() {
                match source.peek() {
                    Some(Err(_)) => return source.next(),
                    Some(Ok(record)) if best.is_none_or(|(_, b)| *record < b) => best = Some((idx, *record)),
                    _ => {}
                }
            }
            let (idx, _) = best?;
            sources[idx].next()
        });
        run::write_run(out, first_seq, last_seq, count, &mut merged)
    })?;
    Run::open(storage, &name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;

    fn ids(range: std::ops::Range<u64>) -> Vec<(u64, u64)> {
        range.map(|seq| (id_key(&format!("T-{seq}")), seq)).collect()
    }

    #[test]
    fn every_flushed_id_is_found_through_merges_and_reopening() {
        let storage = MemoryStorage::new();
        let mut index = IdIndex::open(&storage).unwrap();
        let mut next = 1u64;
        // Twelve runs of 1,000: merged by tiers as they come.
        for _ in 0..12 {
            index.flush(&storage, ids(next..next + 1000), Vec::new(), next, next + 999).unwrap();
            index.remove_strays(&storage).unwrap();
            next += 1000;
        }
        assert!(index.n_runs() < 12, "full tiers were merged: {} runs", index.n_runs());
        assert_eq!(index.len(), 12_000);
        assert_eq!(index.through(), 12_000);
        let reopened = IdIndex::open(&storage).unwrap();
        assert_eq!((reopened.len(), reopened.through(), reopened.n_runs()), (12_000, 12_000, index.n_runs()));
        for seq in (1..12_000).step_by(97) {
            let found = reopened.candidates(&storage, &format!("T-{seq}")).unwrap();
            assert!(found.contains(&seq), "T-{seq}: {found:?}");
        }
        // An id never posted: at most a rare false candidate, never its own sequence number.
        let absent: usize = (0..2000).map(|i| reopened.candidates(&storage, &format!("X-{i}")).unwrap().len()).sum();
        assert!(absent < 20, "{absent} candidates for 2,000 absent ids");
        // Only the manifest's runs are left.
        let files = storage.index_names().unwrap();
        assert_eq!(files.iter().filter(|name| name.ends_with(".run")).count(), reopened.n_runs(), "{files:?}");
    }

    #[test]
    fn a_damaged_run_or_manifest_is_an_error_not_a_wrong_answer() {
        let storage = MemoryStorage::new();
        let mut index = IdIndex::open(&storage).unwrap();
        index.flush(&storage, ids(1..1001), Vec::new(), 1, 1000).unwrap();
        let run_name = storage.index_names().unwrap().into_iter().find(|n| n.ends_with(".run")).unwrap();
        // Flip one byte in the records: the page's CRC catches it on lookup.
        let mut bytes = storage.index_read(&run_name).unwrap().unwrap();
        bytes[48 + 16 * 5] ^= 0x40;
        storage
            .index_write(&run_name, &mut |out| out.write_all(&bytes).map_err(|e| StorageError::Corrupt(e.to_string())))
            .unwrap();
        let index = IdIndex::open(&storage).unwrap();
        let errors = (1..1001u64)
            .filter(|seq| matches!(index.candidates(&storage, &format!("T-{seq}")), Err(StorageError::Corrupt(_))))
            .count();
        assert!(errors > 0, "a lookup in the damaged page reports corruption");
        // A damaged manifest does not open.
        let mut manifest = storage.index_read(MANIFEST).unwrap().unwrap();
        manifest[20] ^= 1;
        storage
            .index_write(MANIFEST, &mut |out| {
                out.write_all(&manifest).map_err(|e| StorageError::Corrupt(e.to_string()))
            })
            .unwrap();
        assert!(matches!(IdIndex::open(&storage), Err(StorageError::Corrupt(_))));
    }

    #[test]
    fn a_run_answers_from_its_pages_then_from_its_filter_which_must_check_out() {
        let storage = MemoryStorage::new();
        let mut index = IdIndex::open(&storage).unwrap();
        index.flush(&storage, ids(1..1001), Vec::new(), 1, 1000).unwrap();
        let run_name = storage.index_names().unwrap().into_iter().find(|n| n.starts_with("ids-")).unwrap();
        // Damage the filter only (it starts after the header and the 1,000 records).
        let mut bytes = storage.index_read(&run_name).unwrap().unwrap();
        bytes[48 + 16 * 1000 + 3] ^= 0x08;
        storage
            .index_write(&run_name, &mut |out| out.write_all(&bytes).map_err(|e| StorageError::Corrupt(e.to_string())))
            .unwrap();
        let index = IdIndex::open(&storage).unwrap();
        // The first lookups read pages only, and are exact; then the filter is read, and its damage found.
        for seq in 1..=run::LOOKUPS_BEFORE_FILTER {
            assert_eq!(index.candidates(&storage, &format!("T-{seq}")).unwrap(), [seq]);
        }
        assert!(matches!(index.candidates(&storage, "T-500"), Err(StorageError::Corrupt(_))));
    }
}
