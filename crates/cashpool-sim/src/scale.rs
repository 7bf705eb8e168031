//! `cashpool bench scale`: how each command behaves as one store grows.
//!
//! One store of the example group is grown in this process, in durable
//! batches, to `n` transactions. At each checkpoint ([`checkpoints`]: 10,000,
//! 1,000,000 and 10,000,000 up to `n`, and `n` itself) the ledger is closed, so
//! that the store's lock is free, and each measured command runs
//! [`REPEATS`] times in a fresh process of the `cashpool` binary, the way an
//! operator runs it: the wall time is taken here around the child's spawn and
//! exit, its peak memory is what the child reports of itself at exit
//! ([`PEAK_RSS_ENV`]). Then the store grows on to the next checkpoint.
//!
//! The workload is [`crate::bench::receipts`] (the `bench post` ids and
//! amounts) spread over four account-currencies ([`route`]), so that one of
//! them, [`STATEMENT_ACCOUNT`] [`STATEMENT_CURRENCY`], receives a steady
//! quarter of the postings and its statement grows with the store.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cashpool_ledger::journal::Timestamp;
use cashpool_ledger::storage::SledStorage;
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{BatchMode, Ledger};
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;

use crate::bench::receipts;
use crate::{env_error, SimError, SplitMix64};

/// The store sizes measured, in transactions, when `--n` reaches them.
pub const CHECKPOINTS: [u64; 3] = [10_000, 1_000_000, 10_000_000];
/// Transactions per posted batch unless `--batch` says otherwise.
pub const DEFAULT_BATCH: usize = 8_189;
/// How many times each command is run at each checkpoint.
pub const REPEATS: usize = 3;
/// The account whose statement is measured.
pub const STATEMENT_ACCOUNT: &str = "HK-OPS";
/// The currency of the measured statement.
pub const STATEMENT_CURRENCY: &str = "USD";
/// The lines of a first page of the statement.
pub const PAGE_LINES: u64 = 100;
/// When set to a file name, `cashpool` writes its own peak resident memory
/// (`VmHWM` of /proc/self/status, in KiB) to that file as it exits.
pub const PEAK_RSS_ENV: &str = "CASHPOOL_REPORT_PEAK_RSS";
/// The seed of the workload's amounts.
const SEED: u64 = 1;

/// Where receipt `idx` of the scale workload goes: in turn HK-OPS USD (the
/// measured statement), HK-OPS HKD, SG-OPS SGD (all from EXT-OFFSHORE) and
/// SZ-OPS CNY (from EXT-ONSHORE).
pub fn route(idx: u64) -> (&'static str, &'static str, &'static str) {
    match idx % 4 {
        0 => ("EXT-OFFSHORE", STATEMENT_ACCOUNT, STATEMENT_CURRENCY),
        1 => ("EXT-OFFSHORE", "HK-OPS", "HKD"),
        2 => ("EXT-OFFSHORE", "SG-OPS", "SGD"),
        _ => ("EXT-ONSHORE", "SZ-OPS", "CNY"),
    }
}

/// The statement lines of [`STATEMENT_ACCOUNT`] [`STATEMENT_CURRENCY`] once
/// receipts `0..transactions` are posted.
pub fn statement_lines_after(transactions: u64) -> u64 {
    transactions.div_ceil(4)
}

/// The checkpoints of a run to `n` transactions: those of [`CHECKPOINTS`]
/// up to `n`, and `n`.
///
/// ```
/// use cashpool_sim::scale::checkpoints;
/// assert_eq!(checkpoints(2_000), [2_000]);
/// assert_eq!(checkpoints(1_000_000), [10_000, 1_000_000]);
/// assert_eq!(checkpoints(2_500_000), [10_000, 1_000_000, 2_500_000]);
/// ```
pub fn checkpoints(n: u64) -> Vec<u64> {
    let mut points: Vec<u64> = CHECKPOINTS.iter().copied().filter(|&point| point <= n).collect();
    if points.last() != Some(&n) {
        points.push(n);
    }
    points
}

/// Wall time of one command over its repetitions, and its peak memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// The median wall time, from spawning the process to its exit.
    pub seconds_median: f64,
    /// The shortest.
    pub seconds_min: f64,
    /// The longest.
    pub seconds_max: f64,
    /// The largest peak resident memory (`VmHWM`) any repetition reported of itself.
    pub peak_rss_kib: u64,
}

/// `balances --format json` in a fresh process (opening the store included).
#[derive(Debug, Clone, PartialEq)]
pub struct BalancesFigures {
    /// Times and memory.
    pub timing: Timing,
    /// Balance rows printed.
    pub rows: u64,
}

/// `statement --account A --currency C --format json` in a fresh process.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementFigures {
    /// Times and memory.
    pub timing: Timing,
    /// Statement lines printed.
    pub lines: u64,
}

/// `post FILE --report json` of a one-row CSV in a fresh process.
#[derive(Debug, Clone, PartialEq)]
pub struct PostFigures {
    /// Times and memory.
    pub timing: Timing,
    /// Transactions the post reported posted (each repetition).
    pub posted: u64,
    /// Transactions it reported as duplicates (each repetition).
    pub duplicates: u64,
}

/// What was measured at one checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalePoint {
    /// Transactions in the store when measured.
    pub transactions: u64,
    /// The store folder's size: the sum of its files' lengths.
    pub store_bytes: u64,
    /// Wall time of growing the store, in this process, from the previous checkpoint to this one.
    pub grow_seconds: f64,
    /// Transactions posted by that growth.
    pub grown: u64,
    /// Open the store, print every balance.
    pub open_balances: BalancesFigures,
    /// The measured account's whole statement in its currency.
    pub statement_all: StatementFigures,
    /// Its first page of [`PAGE_LINES`] lines; `None` while `statement` has no `--limit`.
    pub statement_first_page: Option<StatementFigures>,
    /// Post a new one-row transaction (a new one each repetition).
    pub post_one: PostFigures,
    /// Post again the first transaction of the store: a duplicate, nothing written.
    pub post_duplicate: PostFigures,
}

/// A whole `bench scale` run.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleRun {
    /// Transactions per posted batch.
    pub batch: usize,
    /// Repetitions of each command.
    pub repeats: usize,
    /// Why the first page was not measured, when it was not.
    pub first_page_note: Option<String>,
    /// Where the store was kept, if it was.
    pub kept_store: Option<PathBuf>,
    /// One per checkpoint, in growing order.
    pub points: Vec<ScalePoint>,
}

/// How to run [`scale_figures`].
#[derive(Debug, Clone)]
pub struct ScaleOptions<'a> {
    /// Transactions to grow the store to.
    pub n: u64,
    /// Transactions per posted batch.
    pub batch: usize,
    /// The `cashpool` binary that runs each measured command.
    pub exe: &'a Path,
    /// Grow the store in this folder (absent or empty) and keep it; without,
    /// it grows in the bench's temporary folder and is removed at the end.
    pub keep_store: Option<&'a Path>,
}

/// Removes the bench's temporary folder however the run ends.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Grows one store to `options.n` transactions and measures every command at
/// each checkpoint (see the module's documentation); `progress` hears what is
/// being done.
pub fn scale_figures(options: &ScaleOptions, progress: &mut dyn FnMut(&str)) -> Result<ScaleRun, SimError> {
    let ScaleOptions { n, batch, exe, keep_store } = *options;
    assert!(n > 0 && batch > 0, "a bench shape is positive");
    let work = WorkDir(std::env::temp_dir().join(format!("cashpool-bench-scale-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&work.0);
    std::fs::create_dir_all(&work.0).map_err(env_error)?;
    let store = keep_store.map_or_else(|| work.0.join("store"), Path::to_path_buf);
    let runner = Runner { exe, store: &store, work: &work.0 };
    let paging = runner.statement_has_limit()?;

    let mut ledger =
        Some(crate::example_ledger(Box::new(SledStorage::open(&store).map_err(env_error)?), Timestamp::EPOCH)?);
    let mut rng = SplitMix64::new(SEED);
    let first = receipts(0, 1, &mut SplitMix64::new(SEED), route);
    let mut posted = 0u64;
    let mut points = Vec::new();
    for target in checkpoints(n) {
        let open = match ledger.take() {
            Some(open) => open,
            None => Ledger::open(Box::new(SledStorage::open(&store).map_err(env_error)?))?,
        };
        // As the CLI posts: the indexes' runs are written on the other core.
        open.set_background_flush(true);
        progress(&format!("growing the store to {target} transactions"));
        let before = posted;
        let start = Instant::now();
        while posted < target {
            let size = (target - posted).min(batch as u64);
            let txs = receipts(posted, size, &mut rng, route);
            let outcome = open.post_batch(&txs, BatchMode::Atomic, "bench", Timestamp::EPOCH)?;
            if let Some(rejected) = outcome.rejected.first() {
                return Err(SimError::Integrity(format!("a bench transaction was rejected: {}", rejected.rejection)));
            }
            posted += size;
        }
        let grow = start.elapsed();
        // Checkpointed (every id to the id index, then the state snapshot), as every writing
        // command of the CLI does before it exits, and closed, so that each command's process
        // opens the store as an operator's would.
        open.checkpoint()?;
        drop(open);
        let transactions = posted;
        progress(&format!("measuring at {transactions} transactions"));
        let open_balances = runner.balances()?;
        let statement_all = runner.statement(None)?;
        let expected = statement_lines_after(transactions);
        if statement_all.lines != expected {
            return Err(SimError::Integrity(format!(
                "the statement of {STATEMENT_ACCOUNT} {STATEMENT_CURRENCY} showed {} lines after {transactions} transactions, not {expected}",
                statement_all.lines
            )));
        }
        let statement_first_page = if paging { Some(runner.statement(Some(PAGE_LINES))?) } else { None };
        if let Some(page) = &statement_first_page {
            if page.lines != PAGE_LINES.min(expected) {
                return Err(SimError::Integrity(format!(
                    "the statement's first page showed {} lines, not {}",
                    page.lines,
                    PAGE_LINES.min(expected)
                )));
            }
        }
        let new = receipts(posted, REPEATS as u64, &mut rng, route);
        posted += REPEATS as u64;
        let post_one = runner.post(&new, "one", (1, 0))?;
        let post_duplicate = runner.post(&vec![first[0].clone(); REPEATS], "duplicate", (0, 1))?;
        points.push(ScalePoint {
            transactions,
            store_bytes: folder_bytes(&store)?,
            grow_seconds: grow.as_secs_f64(),
            grown: transactions - before,
            open_balances,
            statement_all,
            statement_first_page,
            post_one,
            post_duplicate,
        });
    }
    Ok(ScaleRun {
        batch,
        repeats: REPEATS,
        first_page_note: (!paging).then(|| {
            "not available: `cashpool statement` has no --limit (paging) yet, so a first page cannot be asked for"
                .to_string()
        }),
        kept_store: keep_store.map(Path::to_path_buf),
        points,
    })
}

/// The sum of the lengths of every file under `dir`.
fn folder_bytes(dir: &Path) -> Result<u64, SimError> {
    let mut total = 0;
    for item in std::fs::read_dir(dir).map_err(env_error)? {
        let item = item.map_err(env_error)?;
        let meta = item.metadata().map_err(env_error)?;
        total += if meta.is_dir() { folder_bytes(&item.path())? } else { meta.len() };
    }
    Ok(total)
}

/// One line of the transactions CSV for a receipt made by [`receipts`].
fn csv_row(tx: &TransactionRequest) -> String {
    let (from, to) = (&tx.postings[0], &tx.postings[1]);
    format!(
        "{},{},{},{},{},{},{},{},{}\n",
        tx.id,
        tx.value_date,
        from.account,
        to.account,
        to.currency,
        to.amount,
        tx.purpose.as_str(),
        tx.reference,
        tx.memo
    )
}

/// The statement's `lines`, counted as they stream by (a statement of
/// millions of lines is never held in memory here).
struct LineCount(u64);

impl<'de> Deserialize<'de> for LineCount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LineCount, D::Error> {
        struct Count;
        impl<'de> Visitor<'de> for Count {
            type Value = LineCount;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of statement lines")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LineCount, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(LineCount(n))
            }
        }
        deserializer.deserialize_seq(Count)
    }
}

#[derive(Deserialize)]
struct StatementOutput {
    lines: LineCount,
}

#[derive(Deserialize)]
struct BalancesOutput {
    balances: Vec<IgnoredAny>,
}

#[derive(Deserialize)]
struct PostOutput {
    posted: u64,
    duplicates: u64,
}

/// Runs commands of the binary on the store, each in a fresh process.
struct Runner<'a> {
    exe: &'a Path,
    store: &'a Path,
    work: &'a Path,
}

/// One run of a command: its wall time, its peak memory, what it printed.
struct Sample<T> {
    elapsed: Duration,
    peak_rss_kib: u64,
    output: T,
}

impl Runner<'_> {
    /// Whether `statement` takes `--limit` (the paging another change adds).
    fn statement_has_limit(&self) -> Result<bool, SimError> {
        let output = Command::new(self.exe)
            .args(["statement", "--help"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|err| SimError::Environment(format!("{}: {err}", self.exe.display())))?;
        Ok(String::from_utf8_lossy(&output.stdout).contains("--limit"))
    }

    /// Runs `cashpool --data STORE ARGS…` once; `read` reads its standard
    /// output as it is written (whatever it leaves is drained).
    fn once<T>(
        &self,
        args: &[&OsStr],
        read: impl FnOnce(&mut dyn BufRead) -> serde_json::Result<T>,
    ) -> Result<Sample<T>, SimError> {
        let shown = args.iter().map(|arg| arg.to_string_lossy()).collect::<Vec<_>>().join(" ");
        let rss_file = self.work.join("peak-rss");
        let stderr_file = self.work.join("stderr");
        let _ = std::fs::remove_file(&rss_file);
        let stderr = std::fs::File::create(&stderr_file).map_err(env_error)?;
        let start = Instant::now();
        let mut child = Command::new(self.exe)
            .arg("--data")
            .arg(self.store)
            .args(args)
            .env(PEAK_RSS_ENV, &rss_file)
            .env("CASHPOOL_OPERATOR", "bench")
            .env_remove("CASHPOOL_DATA")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|err| SimError::Environment(format!("{}: {err}", self.exe.display())))?;
        let mut stdout = BufReader::with_capacity(1 << 20, child.stdout.take().expect("standard output is piped"));
        let output = read(&mut stdout);
        let drained = std::io::copy(&mut stdout, &mut std::io::sink());
        let status = child.wait().map_err(env_error)?;
        let elapsed = start.elapsed();
        if !status.success() {
            let message = format!(
                "`cashpool {shown}` failed ({status}): {}",
                std::fs::read_to_string(&stderr_file).unwrap_or_default().trim()
            );
            // Exit 2 or 3 is the command refusing the bench's valid work; anything else the environment.
            return Err(match status.code() {
                Some(2 | 3) => SimError::Integrity(message),
                _ => SimError::Environment(message),
            });
        }
        drained.map_err(env_error)?;
        let output =
            output.map_err(|err| SimError::Integrity(format!("`cashpool {shown}` printed no readable JSON: {err}")))?;
        let peak_rss_kib = std::fs::read_to_string(&rss_file)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .ok_or_else(|| SimError::Integrity(format!("`cashpool {shown}` did not report its peak memory")))?;
        Ok(Sample { elapsed, peak_rss_kib, output })
    }

    /// Runs the command [`REPEATS`] times, `args(k)` the arguments of the k-th.
    fn repeat<T: Clone + PartialEq + std::fmt::Debug>(
        &self,
        args: impl Fn(usize) -> Vec<std::ffi::OsString>,
        read: impl Fn(&mut dyn BufRead) -> serde_json::Result<T>,
    ) -> Result<(Timing, T), SimError> {
        let mut samples = Vec::with_capacity(REPEATS);
        for k in 0..REPEATS {
            let args = args(k);
            let args: Vec<&OsStr> = args.iter().map(|arg| arg.as_os_str()).collect();
            samples.push(self.once(&args, &read)?);
        }
        let output = samples[0].output.clone();
        if let Some(other) = samples.iter().find(|sample| sample.output != output) {
            return Err(SimError::Integrity(format!(
                "a repetition printed {:?} where the first printed {output:?}",
                other.output
            )));
        }
        let mut times: Vec<Duration> = samples.iter().map(|sample| sample.elapsed).collect();
        times.sort();
        let timing = Timing {
            seconds_median: times[times.len() / 2].as_secs_f64(),
            seconds_min: times[0].as_secs_f64(),
            seconds_max: times[times.len() - 1].as_secs_f64(),
            peak_rss_kib: samples.iter().map(|sample| sample.peak_rss_kib).max().unwrap_or(0),
        };
        Ok((timing, output))
    }

    fn balances(&self) -> Result<BalancesFigures, SimError> {
        let (timing, rows) = self.repeat(
            |_| vec!["balances".into(), "--format".into(), "json".into()],
            |out| Ok(serde_json::from_reader::<_, BalancesOutput>(out)?.balances.len() as u64),
        )?;
        Ok(BalancesFigures { timing, rows })
    }

    fn statement(&self, limit: Option<u64>) -> Result<StatementFigures, SimError> {
        let (timing, lines) = self.repeat(
            |_| {
                let mut args: Vec<std::ffi::OsString> = ["statement", "--account", STATEMENT_ACCOUNT]
                    .into_iter()
                    .chain(["--currency", STATEMENT_CURRENCY, "--format", "json"])
                    .map(Into::into)
                    .collect();
                if let Some(limit) = limit {
                    args.extend(["--limit".into(), limit.to_string().into()]);
                }
                args
            },
            |out| Ok(serde_json::from_reader::<_, StatementOutput>(out)?.lines.0),
        )?;
        Ok(StatementFigures { timing, lines })
    }

    /// Posts `txs[k]` as a one-row CSV in the k-th repetition; each must
    /// report `expect` (posted, duplicates).
    fn post(&self, txs: &[TransactionRequest], name: &str, expect: (u64, u64)) -> Result<PostFigures, SimError> {
        let mut files = Vec::with_capacity(txs.len());
        for (k, tx) in txs.iter().enumerate() {
            let file = self.work.join(format!("{name}-{k}.csv"));
            let text = format!("id,value_date,from,to,currency,amount,purpose,reference,memo\n{}", csv_row(tx));
            std::fs::write(&file, text).map_err(env_error)?;
            files.push(file);
        }
        let (timing, (posted, duplicates)) = self.repeat(
            |k| vec!["post".into(), files[k].clone().into(), "--report".into(), "json".into()],
            |out| {
                let report: PostOutput = serde_json::from_reader(out)?;
                Ok((report.posted, report.duplicates))
            },
        )?;
        if (posted, duplicates) != expect {
            return Err(SimError::Integrity(format!(
                "posting a one-row file ({name}) reported {posted} posted and {duplicates} duplicates, not {} and {}",
                expect.0, expect.1
            )));
        }
        Ok(PostFigures { timing, posted, duplicates })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_stop_at_n_and_end_with_it() {
        assert_eq!(checkpoints(10_000), [10_000]);
        assert_eq!(checkpoints(10_001), [10_000, 10_001]);
        assert_eq!(checkpoints(10_000_000), [10_000, 1_000_000, 10_000_000]);
        assert_eq!(checkpoints(12_000_000), [10_000, 1_000_000, 10_000_000, 12_000_000]);
    }

    #[test]
    fn a_quarter_of_the_receipts_reach_the_measured_statement() {
        let txs = receipts(0, 10, &mut SplitMix64::new(SEED), route);
        let measured = txs
            .iter()
            .filter(|tx| {
                tx.postings.iter().any(|p| {
                    p.account == STATEMENT_ACCOUNT && p.currency == STATEMENT_CURRENCY && p.amount.is_sign_positive()
                })
            })
            .count() as u64;
        assert_eq!(measured, statement_lines_after(10));
        assert_eq!(measured, 3);
    }

    #[test]
    fn the_csv_row_parses_back_to_the_same_transaction() {
        let txs = receipts(41, 4, &mut SplitMix64::new(9), route);
        let mut text = String::from("id,value_date,from,to,currency,amount,purpose,reference,memo\n");
        for tx in &txs {
            text.push_str(&csv_row(tx));
        }
        let parsed = cashpool_files::transactions::parse_transactions(
            cashpool_files::transactions::TransactionFormat::Csv,
            &text,
        );
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let back: Vec<TransactionRequest> = parsed.rows.into_iter().map(|row| row.request).collect();
        assert_eq!(back, txs);
    }

    #[test]
    fn statement_lines_are_counted_without_keeping_them() {
        let json = r#"{"account": "HK-OPS", "opening": [], "lines": [{"seq": 1, "id": "a"}, {"seq": 2, "memo": "[x]"}], "closing": []}"#;
        let out: StatementOutput = serde_json::from_str(json).unwrap();
        assert_eq!(out.lines.0, 2);
    }
}
