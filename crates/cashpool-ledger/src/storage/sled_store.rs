//! The default, on-disk [`Storage`]: the journal in its own segment files,
//! the balance checkpoint in sled, behind an exclusive lock file.
//!
//! Why not the journal in sled too: sled's flush ends in `sync_file_range`,
//! which neither flushes the device's write cache nor the file's metadata;
//! values over a quarter of its segment go to blob files that it never
//! fsyncs; and its page cache keeps everything it reads (upstream issues
//! #1036, #1093, #1309), so replaying a journal stored in sled takes memory in
//! proportion to the journal. The journal log appends one record per commit
//! and `fdatasync`s it, and streams it back through a 64 KiB buffer.
//! sled keeps what it is good at: small, frequently rewritten keyed records.
//!
//! Only a writer opens this storage: the exclusive lock on `LOCK` (and sled's
//! own lock on its files) admits one process at a time. The process that holds
//! it says who it is in the `LOCK` file ([`LockHolder`]), and a writer that
//! finds the store held waits for it ([`SledStorage::open_wait`]). Readers
//! never come here: they read the journal's segment files without any lock
//! ([`super::JournalSnapshot`]), so they never hold up a writer.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::index_dir::IndexDir;
use super::log::JournalLog;
use super::{
    balance_key, decode_balance, encode_balance, BlockIter, Checkpoint, Commit, IndexFill, Storage, StorageError,
};
use crate::journal::{EntryHash, Timestamp};

const HEAD_KEY: &[u8] = b"H";
const BALANCE_PREFIX: &[u8] = b"B";

/// The checkpoint is written to sled after this many commits (and when the
/// store is dropped or read): a single-transaction commit then costs one
/// `fdatasync` and no sled write.
pub(crate) const CHECKPOINT_EVERY_COMMITS: u32 = 64;

/// How often a waiting writer tries the lock again.
const LOCK_POLL: Duration = Duration::from_millis(25);

/// Who holds a store's writer lock. The holder writes it into the `LOCK` file
/// when it takes the lock (and empties the file when it lets go); a writer that
/// finds the store held reads it back to say who is in the way
/// ([`StorageError::Locked`]). Only `pid` is always known; the library takes
/// the rest from its caller, the time too (it reads no clock).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockHolder {
    /// The holder's process id.
    pub pid: u32,
    /// What it is doing (`cashpool post`), as its caller put it.
    pub command: Option<String>,
    /// Who runs it.
    pub operator: Option<String>,
    /// The machine it runs on.
    pub host: Option<String>,
    /// When it took the lock.
    pub since: Option<Timestamp>,
}

impl LockHolder {
    /// The holder `pid`, saying nothing else yet.
    pub fn new(pid: u32) -> LockHolder {
        LockHolder { pid, command: None, operator: None, host: None, since: None }
    }

    /// This process.
    pub fn this_process() -> LockHolder {
        LockHolder::new(std::process::id())
    }

    pub fn with_command(mut self, command: impl Into<String>) -> LockHolder {
        self.command = Some(command.into());
        self
    }

    pub fn with_operator(mut self, operator: impl Into<String>) -> LockHolder {
        self.operator = Some(operator.into());
        self
    }

    pub fn with_host(mut self, host: impl Into<String>) -> LockHolder {
        self.host = Some(host.into());
        self
    }

    pub fn with_since(mut self, since: Timestamp) -> LockHolder {
        self.since = Some(since);
        self
    }

    /// The `LOCK` file's text: one `key value` a line (`pid`, then `command`,
    /// `operator`, `host`, `since` when known), each value on one line.
    pub fn to_lock_text(&self) -> String {
        let one_line = |text: &str| {
            text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_string()
        };
        let mut text = format!("pid {}\n", self.pid);
        for (key, value) in [("command", &self.command), ("operator", &self.operator), ("host", &self.host)] {
            if let Some(value) = value {
                text.push_str(&format!("{key} {}\n", one_line(value)));
            }
        }
        if let Some(since) = self.since {
            text.push_str(&format!("since {}\n", since.to_rfc3339()));
        }
        text
    }

    /// Reads a `LOCK` file's text back; `None` unless it names a pid (an empty
    /// file: nobody said who they are, or the holder is writing it right now).
    /// Unknown keys are skipped.
    pub fn parse_lock_text(text: &str) -> Option<LockHolder> {
        let mut holder: Option<LockHolder> = None;
        let mut rest = LockHolder::new(0);
        for line in text.lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            let value = value.trim();
            match key {
                "pid" => holder = Some(LockHolder::new(value.parse().ok()?)),
                "command" if !value.is_empty() => rest.command = Some(value.to_string()),
                "operator" if !value.is_empty() => rest.operator = Some(value.to_string()),
                "host" if !value.is_empty() => rest.host = Some(value.to_string()),
                "since" => rest.since = Timestamp::parse_rfc3339(value),
                _ => {}
            }
        }
        holder.map(|holder| LockHolder { pid: holder.pid, ..rest })
    }
}

/// `pid 1234, `cashpool post`, operator alice, host ops-1, since 2026-12-07T19:00:00.000000Z`.
impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {}", self.pid)?;
        if let Some(command) = &self.command {
            write!(f, ", `{command}`")?;
        }
        if let Some(operator) = &self.operator {
            write!(f, ", operator {operator}")?;
        }
        if let Some(host) = &self.host {
            write!(f, ", host {host}")?;
        }
        if let Some(since) = self.since {
            write!(f, ", since {}", since.to_rfc3339())?;
        }
        Ok(())
    }
}

/// A store in a folder: `LOCK` (held exclusively while open, naming its
/// holder), `journal/` (the segment files) and `sled/` (the balance checkpoint).
pub struct SledStorage {
    log: JournalLog,
    /// `index/`: the id index's runs and manifest.
    index: IndexDir,
    /// sled, opened on a thread of its own while the ledger reads the journal,
    /// the indexes and the snapshot (opening sled starts its threads and reads
    /// its log: 3 to 18 ms on the 2-core machine, the largest part of opening a
    /// store to post one transaction); the first use waits for it.
    sled: OnceLock<Result<OpenedSled, String>>,
    opening: Mutex<Option<std::thread::JoinHandle<Result<OpenedSled, StorageError>>>>,
    /// Balance records and head of commits not yet written to sled.
    pending: Mutex<PendingCheckpoint>,
    path: PathBuf,
    /// The open `LOCK` file, locked exclusively: dropping it lets go.
    lock: File,
}

/// sled, open, and why the checkpoint was started afresh at open, if it was.
struct OpenedSled {
    db: sled::Db,
    rebuilt: Option<String>,
}

#[derive(Default)]
struct PendingCheckpoint {
    balances: BTreeMap<Vec<u8>, [u8; 16]>,
    head: Option<[u8; 40]>,
    n_commits: u32,
}

impl std::fmt::Debug for SledStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStorage").field("path", &self.path).finish()
    }
}

fn engine(err: sled::Error) -> StorageError {
    StorageError::Engine(err.to_string())
}

impl SledStorage {
    /// Opens (creating if needed) the store in `dir` without waiting. Fails
    /// with [`StorageError::Locked`] when another process holds it. The
    /// `LOCK` file names this process by its pid only: a caller that can say
    /// more uses [`SledStorage::open_wait`].
    pub fn open(dir: &Path) -> Result<SledStorage, StorageError> {
        SledStorage::open_wait(dir, &LockHolder::this_process(), Duration::ZERO)
    }

    /// Opens (creating if needed) the store in `dir` for writing, as `holder`
    /// (written into the `LOCK` file for whoever waits next). When another
    /// process holds the store, tries again every 25 ms until `wait` has been
    /// slept, then fails with [`StorageError::Locked`] naming the holder that
    /// its `LOCK` file names. The wait is counted in sleeps, not read from a
    /// clock, so it lasts at least `wait`.
    pub fn open_wait(dir: &Path, holder: &LockHolder, wait: Duration) -> Result<SledStorage, StorageError> {
        let io = |op, source| StorageError::Io { op, path: dir.display().to_string(), source };
        std::fs::create_dir_all(dir).map_err(|err| io("creating", err))?;
        let lock_path = dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|err| io("opening the lock file in", err))?;
        let mut waited = Duration::ZERO;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if waited < wait => {
                    let step = LOCK_POLL.min(wait - waited);
                    std::thread::sleep(step);
                    waited += step;
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder =
                        std::fs::read_to_string(&lock_path).ok().and_then(|text| LockHolder::parse_lock_text(&text));
                    return Err(StorageError::Locked { path: dir.display().to_string(), holder, waited });
                }
                Err(std::fs::TryLockError::Error(err)) => return Err(io("locking", err)),
            }
        }
        // Say who holds the store: emptied first, so a shorter text leaves no
        // tail of the last holder's. Not synced: it is only read while this
        // process is alive to hold the lock.
        lock.set_len(0).map_err(|err| io("writing the lock file in", err))?;
        lock.write_all_at(holder.to_lock_text().as_bytes(), 0).map_err(|err| io("writing the lock file in", err))?;
        let sled_dir = dir.join("sled");
        let opening = std::thread::Builder::new()
            .name("cashpool-open-sled".into())
            .spawn(move || open_checkpoint(&sled_dir))
            .map_err(|err| io("starting a thread to open sled in", err))?;
        let opened = JournalLog::open(&dir.join("journal"))
            .and_then(|log| IndexDir::open(&dir.join("index"), true).map(|index| (log, index)));
        let (log, index) = match opened {
            Ok(parts) => parts,
            Err(err) => {
                // sled is let go of before the lock is.
                let _ = opening.join();
                return Err(err);
            }
        };
        let storage = SledStorage {
            log,
            index,
            sled: OnceLock::new(),
            opening: Mutex::new(Some(opening)),
            pending: Mutex::default(),
            path: dir.to_path_buf(),
            lock,
        };
        Ok(storage)
    }

    /// sled, once the thread that opens it is done (its error, if it failed).
    fn sled(&self) -> Result<&OpenedSled, StorageError> {
        let opened = self.sled.get_or_init(|| {
            let handle = self.opening.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
            match handle.map(std::thread::JoinHandle::join) {
                Some(Ok(result)) => result.map_err(|err| err.to_string()),
                Some(Err(_)) => Err("the thread opening sled panicked".to_string()),
                None => Err("sled was not opened".to_string()),
            }
        });
        opened.as_ref().map_err(|reason| StorageError::Engine(reason.clone()))
    }

    fn db(&self) -> Result<&sled::Db, StorageError> {
        self.sled().map(|opened| &opened.db)
    }

    /// Whether `dir` already holds a store (without opening it).
    pub fn exists(dir: &Path) -> bool {
        dir.join("journal").is_dir()
    }

    /// The folder of the store.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When sled's checkpoint could not be read at open (a crash while sled
    /// itself was writing can leave it unreadable), why, and where the damaged
    /// copy went. The journal is intact; the ledger rebuilds the checkpoint
    /// from it, so nothing is lost, but the stored balances could not be
    /// cross-checked this time.
    pub fn rebuilt_checkpoint(&self) -> Option<&str> {
        self.sled().ok().and_then(|opened| opened.rebuilt.as_deref())
    }

    fn pending(&self) -> MutexGuard<'_, PendingCheckpoint> {
        self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes the pending checkpoint records to sled in one atomic batch.
    fn write_pending(&self, pending: &mut PendingCheckpoint) -> Result<(), StorageError> {
        let Some(head) = pending.head.take() else {
            return Ok(());
        };
        let mut batch = sled::Batch::default();
        for (key, value) in std::mem::take(&mut pending.balances) {
            batch.insert(key, &value);
        }
        batch.insert(HEAD_KEY, head.as_slice());
        pending.n_commits = 0;
        self.db()?.apply_batch(batch).map_err(engine)
    }
}

impl Drop for SledStorage {
    fn drop(&mut self) {
        let mut pending = std::mem::take(&mut *self.pending());
        // Best effort: a checkpoint that is not written is rebuilt from the journal on open.
        if self.write_pending(&mut pending).is_ok() {
            if let Ok(db) = self.db() {
                let _ = db.flush();
            }
        }
        // Nobody holds the store once the lock goes (with the field, after this).
        let _ = self.lock.set_len(0);
    }
}

impl Storage for SledStorage {
    fn blocks(&self, from_seq: u64) -> BlockIter<'_> {
        self.log.blocks(from_seq)
    }

    fn commit(&self, commit: &Commit) -> Result<(), StorageError> {
        let n_entries = u32::try_from(commit.last_seq + 1 - commit.first_seq)
            .map_err(|_| StorageError::Corrupt("a commit of more than 2^32 entries".into()))?;
        // The durability point: the journal record is fdatasync'ed.
        self.log.append(commit.first_seq, n_entries, &commit.block)?;
        // The checkpoint follows, every CHECKPOINT_EVERY_COMMITS commits; a
        // checkpoint that lags after a crash is brought up to date on open.
        let mut pending = self.pending();
        for balance in &commit.balances {
            pending.balances.insert(balance_key(&balance.account, balance.currency), encode_balance(balance.balance));
        }
        pending.head = Some(encode_head(commit.last_seq, commit.head));
        pending.n_commits += 1;
        if pending.n_commits >= CHECKPOINT_EVERY_COMMITS {
            self.write_pending(&mut pending)?;
        }
        Ok(())
    }

    fn checkpoint(&self) -> Result<Checkpoint, StorageError> {
        self.write_pending(&mut self.pending())?;
        let db = self.db()?;
        let head = match db.get(HEAD_KEY).map_err(engine)? {
            None => None,
            Some(value) => Some(decode_head(&value)?),
        };
        let balances = db
            .scan_prefix(BALANCE_PREFIX)
            .map(|item| {
                let (key, value) = item.map_err(engine)?;
                decode_balance(&key, &value)
            })
            .collect::<Result<_, _>>()?;
        Ok(Checkpoint { head, balances })
    }

    fn write_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StorageError> {
        *self.pending() = PendingCheckpoint::default();
        let db = self.db()?;
        let mut batch = sled::Batch::default();
        for item in db.scan_prefix(BALANCE_PREFIX).keys() {
            batch.remove(item.map_err(engine)?);
        }
        for balance in &checkpoint.balances {
            batch.insert(balance_key(&balance.account, balance.currency), &encode_balance(balance.balance));
        }
        match checkpoint.head {
            Some((seq, hash)) => batch.insert(HEAD_KEY, encode_head(seq, hash).as_slice()),
            None => batch.remove(HEAD_KEY),
        }
        db.apply_batch(batch).map_err(engine)?;
        db.flush().map_err(engine)?;
        Ok(())
    }

    fn is_empty(&self) -> Result<bool, StorageError> {
        Ok(self.log.is_empty())
    }

    fn index_write(&self, name: &str, fill: &mut IndexFill<'_>) -> Result<(), StorageError> {
        self.index.write(name, fill)
    }

    fn index_read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<(), StorageError> {
        self.index.read_at(name, offset, buf)
    }

    fn index_read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.index.read(name)
    }

    fn index_remove(&self, name: &str) -> Result<(), StorageError> {
        self.index.remove(name)
    }

    fn index_names(&self) -> Result<Vec<String>, StorageError> {
        self.index.names()
    }
}

/// Opens sled's checkpoint in `path`. A damaged one is derived from the
/// journal: the damaged copy is kept for inspection, an empty one started, and
/// the ledger rebuilds it from the journal when it opens.
fn open_checkpoint(path: &Path) -> Result<OpenedSled, StorageError> {
    match open_sled(path) {
        Ok(db) => Ok(OpenedSled { db, rebuilt: None }),
        Err(StorageError::Engine(reason)) if reason.contains("corrupt") => {
            let aside = set_aside(path)?;
            Ok(OpenedSled {
                db: open_sled(path)?,
                rebuilt: Some(format!("{reason}; the damaged checkpoint was moved to {}", aside.display())),
            })
        }
        Err(err) => Err(err),
    }
}

/// Opens sled. Our `LOCK` is the authority on who holds the store; sled's own
/// lock on its files can outlive a process that just closed the store by a
/// few milliseconds (its background threads let go last), so a refusal of
/// sled's lock is retried for up to two seconds.
fn open_sled(path: &Path) -> Result<sled::Db, StorageError> {
    let mut attempt = 0;
    loop {
        match sled::Config::new().path(path).cache_capacity(8 * 1024 * 1024).open() {
            Ok(db) => return Ok(db),
            Err(err) if attempt < 100 && err.to_string().contains("lock") => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(err) => return Err(engine(err)),
        }
    }
}

/// Renames a damaged sled folder to the first free `sled.damaged.N`.
fn set_aside(path: &Path) -> Result<PathBuf, StorageError> {
    for n in 1.. {
        let aside = path.with_extension(format!("damaged.{n}"));
        if !aside.exists() {
            std::fs::rename(path, &aside).map_err(|source| StorageError::Io {
                op: "setting aside",
                path: path.display().to_string(),
                source,
            })?;
            return Ok(aside);
        }
    }
    unreachable!("some sled.damaged.N is free")
}

fn encode_head(seq: u64, hash: EntryHash) -> [u8; 40] {
    let mut head = [0u8; 40];
    head[..8].copy_from_slice(&seq.to_be_bytes());
    head[8..].copy_from_slice(&hash.0);
    head
}

fn decode_head(value: &[u8]) -> Result<(u64, EntryHash), StorageError> {
    let bytes: &[u8; 40] = value.try_into().map_err(|_| StorageError::Corrupt("head record length".into()))?;
    let seq = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
    Ok((seq, EntryHash(bytes[8..].try_into().expect("32 bytes"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> LockHolder {
        LockHolder::new(4242)
            .with_command("cashpool post")
            .with_operator("alice")
            .with_host("ops-1")
            .with_since(Timestamp::parse_rfc3339("2026-12-07T19:00:00Z").unwrap())
    }

    #[test]
    fn a_second_writer_is_refused_naming_the_holder_and_the_lock_file_is_emptied_on_close() {
        let dir = tempfile::tempdir().unwrap();
        let held = SledStorage::open_wait(dir.path(), &alice(), Duration::ZERO).unwrap();
        let lock_text = std::fs::read_to_string(dir.path().join("LOCK")).unwrap();
        assert_eq!(LockHolder::parse_lock_text(&lock_text), Some(alice()), "{lock_text}");

        let bob = LockHolder::new(7).with_command("cashpool sweep");
        let refused = SledStorage::open_wait(dir.path(), &bob, Duration::from_millis(60)).unwrap_err();
        let StorageError::Locked { path, holder, waited } = &refused else { panic!("{refused:?}") };
        assert_eq!(
            (path.as_str(), holder.as_ref(), *waited),
            (text(dir.path()), Some(&alice()), Duration::from_millis(60))
        );
        assert_eq!(
            refused.to_string(),
            format!(
                "the store at {} is held by another writer (pid 4242, `cashpool post`, operator alice, host ops-1, \
                 since 2026-12-07T19:00:00.000000Z); waited 0.06 s",
                dir.path().display()
            )
        );
        // The refused writer wrote nothing into the holder's lock file.
        assert_eq!(std::fs::read_to_string(dir.path().join("LOCK")).unwrap(), lock_text);
        assert!(matches!(SledStorage::open(dir.path()), Err(StorageError::Locked { waited: Duration::ZERO, .. })));

        drop(held);
        assert_eq!(std::fs::read_to_string(dir.path().join("LOCK")).unwrap(), "", "nobody holds it now");
        let next = SledStorage::open_wait(dir.path(), &bob, Duration::ZERO).unwrap();
        let lock_text = std::fs::read_to_string(dir.path().join("LOCK")).unwrap();
        assert_eq!(LockHolder::parse_lock_text(&lock_text), Some(bob), "{lock_text}");
        drop(next);
    }

    #[test]
    fn a_waiting_writer_gets_the_store_when_the_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let held = SledStorage::open_wait(dir.path(), &alice(), Duration::ZERO).unwrap();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                SledStorage::open_wait(dir.path(), &LockHolder::new(7), Duration::from_secs(120))
                    .map(|storage| storage.path().to_path_buf())
            });
            // Let go while the other writer waits (it is refused at once with no wait: see above).
            std::thread::sleep(Duration::from_millis(200));
            drop(held);
            assert_eq!(waiter.join().unwrap().unwrap(), dir.path());
        });
    }

    #[test]
    fn the_lock_file_holds_one_line_a_field_and_unreadable_text_names_nobody() {
        let holder = LockHolder::new(1).with_command("cashpool post\nforged line").with_operator("bob\r");
        let text = holder.to_lock_text();
        assert_eq!(text, "pid 1\ncommand cashpool post forged line\noperator bob\n");
        let read = LockHolder::parse_lock_text(&text).unwrap();
        assert_eq!(
            (read.pid, read.command.as_deref(), read.operator.as_deref()),
            (1, Some("cashpool post forged line"), Some("bob"))
        );
        assert_eq!(read.to_string(), "pid 1, `cashpool post forged line`, operator bob");
        for unreadable in ["", "pid\n", "pid twelve\n", "command cashpool post\n"] {
            assert_eq!(LockHolder::parse_lock_text(unreadable), None, "{unreadable:?}");
        }
        // Unknown keys (a later version's) are skipped.
        assert_eq!(LockHolder::parse_lock_text("pid 9\nshift night\n"), Some(LockHolder::new(9)));
    }

    fn text(path: &Path) -> &str {
        path.to_str().unwrap()
    }
}
