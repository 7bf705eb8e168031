//! The journal's own append-only segment files.
//!
//! A segment is a file `journal/<first seq, 20 digits>.log` holding records:
//!
//! ```text
//! magic "CPJ1" | payload length u32 LE | first seq u64 LE | entries u32 LE | CRC-32 of payload u32 LE | payload
//! ```
//!
//! The payload is a block of framed entries ([`crate::journal::block_push`]).
//! [`JournalLog::append`] writes one record and `fdatasync`s before it
//! returns: that is the durability point of a commit. A crash can leave only
//! the last record of the last segment torn; opening the log truncates such a
//! tail (it was never acknowledged) and refuses anything else that is broken.
//! Readers stream records through a small buffer, so reading the whole journal
//! takes memory independent of its length.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{BlockIter, StorageError};

const MAGIC: [u8; 4] = *b"CPJ1";
const HEADER_LEN: usize = 24;
/// A segment is closed and a new one started once it grows past this.
pub(crate) const SEGMENT_LEN_TARGET: u64 = 64 << 20;
/// The largest record payload: bounds what a reader allocates for a corrupt length.
pub(crate) const RECORD_LEN_MAX: usize = 1 << 30;
/// How many times a read-only open looks again at a journal that seemed corrupt.
const READ_ONLY_RETRIES: u32 = 3;

struct Header {
    payload_len: usize,
    first_seq: u64,
    n_entries: u64,
    crc: u32,
}

fn encode_header(payload: &[u8], first_seq: u64, n_entries: u32) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[0..4].copy_from_slice(&MAGIC);
    let len = u32::try_from(payload.len()).expect("payload bounded by RECORD_LEN_MAX");
    header[4..8].copy_from_slice(&len.to_le_bytes());
    header[8..16].copy_from_slice(&first_seq.to_le_bytes());
    header[16..20].copy_from_slice(&n_entries.to_le_bytes());
    header[20..24].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
    header
}

fn decode_header(bytes: &[u8; HEADER_LEN]) -> Option<Header> {
    if bytes[0..4] != MAGIC {
        return None;
    }
    let word = |range: std::ops::Range<usize>| u32::from_le_bytes(bytes[range].try_into().expect("4 bytes"));
    let payload_len = usize::try_from(word(4..8)).ok().filter(|len| *len <= RECORD_LEN_MAX)?;
    let first_seq = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
    Some(Header { payload_len, first_seq, n_entries: u64::from(word(16..20)), crc: word(20..24) })
}

#[derive(Debug, Clone)]
struct Segment {
    first_seq: u64,
    path: PathBuf,
    /// Bytes of complete, durable records.
    len: u64,
}

struct Active {
    segments: Vec<Segment>,
    /// The last segment, open for appending; `None` in a read-only log.
    file: Option<File>,
    next_seq: u64,
}

/// The journal's segment files in one folder.
pub(crate) struct JournalLog {
    dir: PathBuf,
    active: Mutex<Active>,
}

fn io_error<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StorageError + 'a {
    move |source| StorageError::Io { op, path: path.display().to_string(), source }
}

fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}.log"))
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_error("fsync", dir))
}

impl JournalLog {
    /// Opens (creating if needed) the log in `dir`, truncating a torn last record.
    pub(crate) fn open(dir: &Path) -> Result<JournalLog, StorageError> {
        std::fs::create_dir_all(dir).map_err(io_error("creating", dir))?;
        let mut segments = list_segments(dir)?;
        if segments.is_empty() {
            let path = segment_path(dir, 1);
            File::create(&path).map_err(io_error("creating", &path))?;
            sync_dir(dir)?;
            segments.push(Segment { first_seq: 1, path, len: 0 });
        }
        let last = segments.last_mut().expect("at least one segment");
        let (valid_len, next_seq) = recover_segment(last)?;
        let file = OpenOptions::new().write(true).open(&last.path).map_err(io_error("opening", &last.path))?;
        if valid_len < last.len {
            file.set_len(valid_len).map_err(io_error("truncating", &last.path))?;
            file.sync_all().map_err(io_error("fsync", &last.path))?;
            last.len = valid_len;
        }
        Ok(JournalLog { dir: dir.to_path_buf(), active: Mutex::new(Active { segments, file: Some(file), next_seq }) })
    }

    /// Opens the log in `dir` for reading only, as it stands, without any
    /// lock, and writes nothing: no folder or segment is created, and an
    /// incomplete last record (a record another process is appending right
    /// now, or the torn tail of a crash) is left in place and not read.
    ///
    /// The view ends at a record boundary: the segments' lengths are taken
    /// once, and the last segment is read only up to that length, so a record
    /// being appended is either wholly in the view (it was complete when the
    /// length was taken; every record's CRC is checked) or not at all. Records
    /// appended after this call are not seen; an [`JournalLog::append`] fails
    /// with [`StorageError::ReadOnly`].
    pub(crate) fn open_read_only(dir: &Path) -> Result<JournalLog, StorageError> {
        // Only a writer that is recovering a crashed writer's torn tail
        // changes bytes a reader may already have read (it cuts the tail and
        // appends after it): a scan that raced it can see a mix of both and
        // take it for corruption. Look again; real damage stays.
        let mut attempt = 0;
        loop {
            match Self::scan_read_only(dir) {
                Err(StorageError::Corrupt(_)) if attempt < READ_ONLY_RETRIES => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                result => return result,
            }
        }
    }

    fn scan_read_only(dir: &Path) -> Result<JournalLog, StorageError> {
        let mut segments = list_segments(dir)?;
        let next_seq = match segments.last_mut() {
            None => 1,
            Some(last) => {
                let (valid_len, next_seq) = recover_segment(last)?;
                last.len = valid_len;
                next_seq
            }
        };
        Ok(JournalLog { dir: dir.to_path_buf(), active: Mutex::new(Active { segments, file: None, next_seq }) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Active> {
        self.active.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the log holds no entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.lock().next_seq == 1
    }

    /// The sequence number the next record must start with.
    pub(crate) fn next_seq(&self) -> u64 {
        self.lock().next_seq
    }

    /// Appends one record and makes it durable.
    pub(crate) fn append(&self, first_seq: u64, n_entries: u32, payload: &[u8]) -> Result<(), StorageError> {
        if payload.len() > RECORD_LEN_MAX {
            return Err(StorageError::Corrupt(format!("a record of {} bytes exceeds the limit", payload.len())));
        }
        let mut active = self.lock();
        if first_seq != active.next_seq {
            return Err(StorageError::Corrupt(format!(
                "append of entry {first_seq} but the log expects entry {}",
                active.next_seq
            )));
        }
        let Some(file) = active.file.as_ref() else {
            return Err(StorageError::ReadOnly);
        };
        let mut record = Vec::with_capacity(HEADER_LEN + payload.len());
        record.extend_from_slice(&encode_header(payload, first_seq, n_entries));
        record.extend_from_slice(payload);
        let segment = active.segments.last().expect("at least one segment").clone();
        file.write_all_at(&record, segment.len).map_err(io_error("writing", &segment.path))?;
        file.sync_data().map_err(io_error("fdatasync", &segment.path))?;
        let segment_len = segment.len + record.len() as u64;
        active.segments.last_mut().expect("at least one segment").len = segment_len;
        active.next_seq += u64::from(n_entries);
        if segment_len >= SEGMENT_LEN_TARGET {
            let path = segment_path(&self.dir, active.next_seq);
            let file =
                OpenOptions::new().create_new(true).write(true).open(&path).map_err(io_error("creating", &path))?;
            sync_dir(&self.dir)?;
            let first_seq = active.next_seq;
            active.segments.push(Segment { first_seq, path, len: 0 });
            active.file = Some(file);
        }
        Ok(())
    }

    /// Streams the records holding entries `>= from_seq`, in order.
    pub(crate) fn blocks(&self, from_seq: u64) -> BlockIter<'static> {
        let segments = self.lock().segments.clone();
        let start = segments.iter().rposition(|segment| segment.first_seq <= from_seq).unwrap_or(0);
        Box::new(LogReader {
            segments: segments[start..].to_vec(),
            segment_idx: 0,
            reader: None,
            offset: 0,
            expect_seq: None,
            from_seq,
        })
    }
}

/// The segment files of `dir` (`<first seq>.log`), in order, with their current lengths.
fn list_segments(dir: &Path) -> Result<Vec<Segment>, StorageError> {
    let mut segments = Vec::new();
    for item in std::fs::read_dir(dir).map_err(io_error("listing", dir))? {
        let item = item.map_err(io_error("listing", dir))?;
        let name = item.file_name();
        let Some(first_seq) = name.to_str().and_then(|n| n.strip_suffix(".log")).and_then(|n| n.parse().ok()) else {
            continue;
        };
        segments.push(Segment { first_seq, path: item.path(), len: 0 });
    }
    segments.sort_by_key(|segment| segment.first_seq);
    for segment in &mut segments {
        segment.len = std::fs::metadata(&segment.path).map_err(io_error("reading", &segment.path))?.len();
    }
    Ok(segments)
}

/// Scans the last segment up to `segment.len` (its length when listed):
/// returns the length of its complete records and the next sequence number.
/// Records are walked by their headers; the last one is read whole and its CRC
/// checked (the only one a crash can tear), so opening a store reads a few
/// bytes a record, not the segment (up to 64 MiB). A
/// broken record that reaches that length (or is followed only by zeros) is a
/// torn write, or a record being appended by another process, and is left out;
/// anything else is corruption. Bytes past `segment.len` are never read, so a
/// record appended meanwhile cannot make an incomplete one look like damage.
fn recover_segment(segment: &Segment) -> Result<(u64, u64), StorageError> {
    let file = File::open(&segment.path).map_err(io_error("opening", &segment.path))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut offset = 0u64;
    let mut next_seq = segment.first_seq;
    let mut payload = Vec::new();
    loop {
        let remaining = segment.len - offset;
        if remaining == 0 {
            return Ok((offset, next_seq));
        }
        let torn_or_corrupt = |reader: &mut BufReader<File>, reason: &str| -> Result<(u64, u64), StorageError> {
            // A torn tail: the rest of the file is this one incomplete record, or zeros.
            let mut rest = Vec::new();
            reader.seek(SeekFrom::Start(offset)).map_err(io_error("reading", &segment.path))?;
            reader.by_ref().take(remaining).read_to_end(&mut rest).map_err(io_error("reading", &segment.path))?;
            let claimed_end = rest
                .get(..HEADER_LEN)
                .and_then(|h| <&[u8; HEADER_LEN]>::try_from(h).ok())
                .and_then(decode_header)
                .map(|h| HEADER_LEN + h.payload_len);
            let torn = rest.len() < HEADER_LEN
                || claimed_end.is_some_and(|end| end >= rest.len())
                || rest.iter().all(|b| *b == 0);
            if torn {
                Ok((offset, next_seq))
            } else {
                Err(StorageError::Corrupt(format!("{} at byte {offset}: {reason}", segment.path.display())))
            }
        };
        if remaining < HEADER_LEN as u64 {
            return torn_or_corrupt(&mut reader, "truncated record header");
        }
        let mut header_bytes = [0u8; HEADER_LEN];
        match reader.read_exact(&mut header_bytes) {
            Ok(()) => {}
            // The file is shorter than when it was listed: only a writer cutting
            // a crashed writer's torn tail does that; what follows is not complete.
            Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => return Ok((offset, next_seq)),
            Err(err) => return Err(io_error("reading", &segment.path)(err)),
        }
        let Some(header) = decode_header(&header_bytes) else {
            return torn_or_corrupt(&mut reader, "bad record header");
        };
        if (HEADER_LEN + header.payload_len) as u64 > remaining {
            return torn_or_corrupt(&mut reader, "record runs past the end of the file");
        }
        if (HEADER_LEN + header.payload_len) as u64 != remaining {
            // Not the last record: a crash tears only the last one (every
            // append is made durable before the next begins), so the records
            // before it are walked by their headers; their payloads' CRCs are
            // checked when they are read (a fold, an audit).
            if header.first_seq != next_seq {
                return Err(StorageError::Corrupt(format!(
                    "{} at byte {offset}: record starts at entry {}, expected {next_seq}",
                    segment.path.display(),
                    header.first_seq
                )));
            }
            let skip = i64::try_from(header.payload_len).expect("a record is at most RECORD_LEN_MAX bytes");
            reader.seek_relative(skip).map_err(io_error("reading", &segment.path))?;
            next_seq += header.n_entries;
            offset += (HEADER_LEN + header.payload_len) as u64;
            continue;
        }
        payload.resize(header.payload_len, 0);
        match reader.read_exact(&mut payload) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => return Ok((offset, next_seq)),
            Err(err) => return Err(io_error("reading", &segment.path)(err)),
        }
        if crc32fast::hash(&payload) != header.crc {
            return torn_or_corrupt(&mut reader, "record checksum mismatch");
        }
        if header.first_seq != next_seq {
            return Err(StorageError::Corrupt(format!(
                "{} at byte {offset}: record starts at entry {}, expected {next_seq}",
                segment.path.display(),
                header.first_seq
            )));
        }
        next_seq += header.n_entries;
        offset += (HEADER_LEN + header.payload_len) as u64;
    }
}

struct LogReader {
    segments: Vec<Segment>,
    segment_idx: usize,
    reader: Option<BufReader<File>>,
    offset: u64,
    expect_seq: Option<u64>,
    from_seq: u64,
}

impl LogReader {
    fn next_record(&mut self) -> Result<Option<(u64, Vec<u8>)>, StorageError> {
        loop {
            let Some(segment) = self.segments.get(self.segment_idx) else {
                return Ok(None);
            };
            if self.reader.is_none() {
                let file = File::open(&segment.path).map_err(io_error("opening", &segment.path))?;
                self.reader = Some(BufReader::with_capacity(1 << 16, file));
                self.offset = 0;
                if self.expect_seq.is_some_and(|expect| expect != segment.first_seq) {
                    return Err(StorageError::Corrupt(format!(
                        "segment {} starts at entry {}, expected {}",
                        segment.path.display(),
                        segment.first_seq,
                        self.expect_seq.unwrap_or_default()
                    )));
                }
                self.expect_seq = Some(segment.first_seq);
            }
            let reader = self.reader.as_mut().expect("opened above");
            if self.offset >= segment.len {
                self.segment_idx += 1;
                self.reader = None;
                continue;
            }
            let corrupt = |what: &str, offset: u64| {
                StorageError::Corrupt(format!("{} at byte {offset}: {what}", segment.path.display()))
            };
            let mut header_bytes = [0u8; HEADER_LEN];
            reader.read_exact(&mut header_bytes).map_err(|_| corrupt("truncated record header", self.offset))?;
            let header = decode_header(&header_bytes).ok_or_else(|| corrupt("bad record header", self.offset))?;
            let record_end = self.offset + (HEADER_LEN + header.payload_len) as u64;
            if record_end > segment.len {
                return Err(corrupt("record runs past the end of the segment", self.offset));
            }
            let expect_seq = self.expect_seq.unwrap_or(segment.first_seq);
            if header.first_seq != expect_seq {
                return Err(corrupt(
                    &format!("record starts at entry {}, expected {expect_seq}", header.first_seq),
                    self.offset,
                ));
            }
            self.expect_seq = Some(expect_seq + header.n_entries);
            let skip = expect_seq + header.n_entries <= self.from_seq;
            if skip {
                let len = i64::try_from(header.payload_len).expect("bounded by RECORD_LEN_MAX");
                reader.seek_relative(len).map_err(io_error("reading", &segment.path))?;
                self.offset = record_end;
                continue;
            }
            let mut payload = vec![0u8; header.payload_len];
            reader.read_exact(&mut payload).map_err(|_| corrupt("truncated record", self.offset))?;
            if crc32fast::hash(&payload) != header.crc {
                return Err(corrupt("record checksum mismatch", self.offset));
            }
            self.offset = record_end;
            return Ok(Some((header.first_seq, payload)));
        }
    }
}

impl Iterator for LogReader {
    type Item = Result<(u64, Vec<u8>), StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_record() {
            Ok(Some(block)) => Some(Ok(block)),
            Ok(None) => None,
            Err(err) => {
                // Stop after the first error.
                self.segment_idx = self.segments.len();
                Some(Err(err))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(log: &JournalLog, from: u64) -> Vec<(u64, Vec<u8>)> {
        log.blocks(from).collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn appends_survive_reopen_and_torn_tails_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let log = JournalLog::open(dir.path()).unwrap();
        assert!(log.is_empty());
        log.append(1, 2, b"first").unwrap();
        log.append(3, 1, b"second").unwrap();
        drop(log);
        let log = JournalLog::open(dir.path()).unwrap();
        assert_eq!(log.next_seq(), 4);
        assert_eq!(collect(&log, 1), vec![(1, b"first".to_vec()), (3, b"second".to_vec())]);
        assert_eq!(collect(&log, 3), vec![(3, b"second".to_vec())]);
        drop(log);
        // A torn third record: half written.
        let path = segment_path(dir.path(), 1);
        let len = std::fs::metadata(&path).unwrap().len();
        let record = [&encode_header(b"third!", 4, 1)[..], b"thi"].concat();
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(&record, len).unwrap();
        drop(file);
        let log = JournalLog::open(dir.path()).unwrap();
        assert_eq!(log.next_seq(), 4, "the torn record is not there");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len, "and it was cut");
        log.append(4, 1, b"third").unwrap();
        assert_eq!(collect(&log, 4), vec![(4, b"third".to_vec())]);
    }

    #[test]
    fn a_read_only_log_reads_what_is_complete_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // Nothing there: an error, and no folder is created.
        let missing = dir.path().join("missing");
        assert!(matches!(JournalLog::open_read_only(&missing), Err(StorageError::Io { .. })));
        assert!(!missing.exists());

        let writer = JournalLog::open(dir.path()).unwrap();
        writer.append(1, 2, b"first").unwrap();
        writer.append(3, 1, b"second").unwrap();
        // The writer is half-way through its third record.
        let path = segment_path(dir.path(), 1);
        let len = std::fs::metadata(&path).unwrap().len();
        let record = [&encode_header(b"third!", 4, 1)[..], b"thi"].concat();
        OpenOptions::new().write(true).open(&path).unwrap().write_all_at(&record, len).unwrap();
        let torn_len = std::fs::metadata(&path).unwrap().len();

        let reader = JournalLog::open_read_only(dir.path()).unwrap();
        assert_eq!(reader.next_seq(), 4);
        assert_eq!(collect(&reader, 1), vec![(1, b"first".to_vec()), (3, b"second".to_vec())]);
        assert!(matches!(reader.append(4, 1, b"third"), Err(StorageError::ReadOnly)));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), torn_len, "the torn record is left in place");

        // Records completed after the reader opened are not seen by it: a snapshot.
        OpenOptions::new().write(true).open(&path).unwrap().set_len(len).unwrap();
        writer.append(4, 1, b"third").unwrap();
        assert_eq!(collect(&reader, 1).len(), 2);
        assert_eq!(JournalLog::open_read_only(dir.path()).unwrap().next_seq(), 5);
    }

    #[test]
    fn a_reader_that_listed_the_segment_mid_record_leaves_that_record_out() {
        // A reader takes the segment's length while the writer is half-way
        // through record 2; by the time it scans, records 2 and 3 are complete.
        let dir = tempfile::tempdir().unwrap();
        let writer = JournalLog::open(dir.path()).unwrap();
        writer.append(1, 1, b"first").unwrap();
        let path = segment_path(dir.path(), 1);
        let first_end = std::fs::metadata(&path).unwrap().len();
        writer.append(2, 1, &[7u8; 1000]).unwrap();
        writer.append(3, 1, b"third").unwrap();
        let whole = std::fs::read(&path).unwrap();
        for listed_len in [first_end + 1, first_end + 10, first_end + HEADER_LEN as u64 + 500] {
            let listed = Segment { first_seq: 1, path: path.clone(), len: listed_len };
            assert_eq!(recover_segment(&listed).unwrap(), (first_end, 2), "listed at {listed_len} bytes");
        }
        // Listed at a record boundary, the view holds exactly the records before it.
        let second_end = first_end + (HEADER_LEN + 1000) as u64;
        let listed = Segment { first_seq: 1, path: path.clone(), len: second_end };
        assert_eq!(recover_segment(&listed).unwrap(), (second_end, 3));
        assert_eq!(std::fs::read(&path).unwrap(), whole, "reading changed nothing");
    }

    /// The payload of record `seq` in the concurrency test: its length and bytes follow from `seq`.
    fn payload_of(seq: u64) -> Vec<u8> {
        // From a few bytes to a few hundred KiB: records that span many pages and the reader's buffer.
        let len = usize::try_from(seq * 7919 % 300_000 + 1).unwrap();
        (0..len).map(|idx| (seq as usize).wrapping_mul(31).wrapping_add(idx) as u8).collect()
    }

    #[test]
    fn readers_see_whole_records_while_a_writer_appends() {
        const RECORDS: u64 = 200;
        let dir = tempfile::tempdir().unwrap();
        let writer = JournalLog::open(dir.path()).unwrap();
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let readers: Vec<_> = (0..3)
                .map(|_| {
                    scope.spawn(|| {
                        let mut seen = Vec::new();
                        loop {
                            // Read after the flag: the last pass sees every record.
                            let last_pass = done.load(std::sync::atomic::Ordering::SeqCst);
                            let reader = JournalLog::open_read_only(dir.path()).expect("a read-only open");
                            let blocks = collect(&reader, 1);
                            let n = blocks.len() as u64;
                            assert_eq!(reader.next_seq(), n + 1);
                            for (idx, (seq, payload)) in blocks.into_iter().enumerate() {
                                assert_eq!(seq, idx as u64 + 1, "records in order, none missing");
                                assert!(payload == payload_of(seq), "record {seq} is whole and exact");
                            }
                            assert!(seen.last().is_none_or(|before| *before <= n), "the journal only grows");
                            seen.push(n);
                            if last_pass {
                                return seen;
                            }
                        }
                    })
                })
                .collect();
            for seq in 1..=RECORDS {
                writer.append(seq, 1, &payload_of(seq)).unwrap();
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            for reader in readers {
                let seen = reader.join().unwrap();
                assert_eq!(seen.last(), Some(&RECORDS), "the last pass saw everything");
            }
        });
    }

    #[test]
    fn a_damaged_record_before_the_end_is_corruption_not_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let log = JournalLog::open(dir.path()).unwrap();
        log.append(1, 1, b"aaaa").unwrap();
        log.append(2, 1, b"bbbb").unwrap();
        drop(log);
        let path = segment_path(dir.path(), 1);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[HEADER_LEN] ^= 0xff; // flip a payload byte of the first record
        std::fs::write(&path, &bytes).unwrap();
        // Opening walks the records before the last by their headers: nothing
        // is cut (a torn tail would lose the second record), and reading the
        // first record finds the damage.
        let log = JournalLog::open(dir.path()).unwrap();
        assert_eq!(log.next_seq(), 3, "nothing was taken for a torn tail");
        assert!(matches!(log.blocks(1).next(), Some(Err(StorageError::Corrupt(_)))));
        drop(log);
        // A damaged header before the end is corruption when the store opens.
        bytes[HEADER_LEN] ^= 0xff;
        bytes[8] ^= 0x01; // the first record's sequence number
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(JournalLog::open(dir.path()), Err(StorageError::Corrupt(_))));
        // The last record's payload is checked whole: damage there, followed by nothing, is a torn tail.
        bytes[8] ^= 0x01;
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(JournalLog::open(dir.path()).unwrap().next_seq(), 2, "the torn last record is cut");
    }

    #[test]
    fn segments_rotate_and_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = JournalLog::open(dir.path()).unwrap();
        let big = vec![5u8; (SEGMENT_LEN_TARGET / 2) as usize];
        for seq in 1..=5u64 {
            log.append(seq, 1, &big).unwrap();
        }
        let n_segments = std::fs::read_dir(dir.path()).unwrap().count();
        assert!(n_segments >= 3, "{n_segments} segments");
        let seqs: Vec<u64> = log.blocks(1).map(|b| b.unwrap().0).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
        let seqs: Vec<u64> = log.blocks(4).map(|b| b.unwrap().0).collect();
        assert_eq!(seqs, vec![4, 5]);
        drop(log);
        assert_eq!(JournalLog::open(dir.path()).unwrap().next_seq(), 6);
    }
}
