//! One function per command: parse what the library needs, call it, render.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use cashpool_files::transactions::{as_written, parse_transactions, ParsedBatch, TransactionFormat};
use cashpool_ledger::audit::{self, VerifyReport};
use cashpool_ledger::config::parse_group_config;
use cashpool_ledger::journal::Timestamp;
use cashpool_ledger::money::{format_amount, format_grouped, Currency};
use cashpool_ledger::storage::{JournalSnapshot, LockHolder, SledStorage, Storage, StorageError};
use cashpool_ledger::{BatchMode, Ledger, LedgerError, Rejection, StatementCursor, StatementQuery};
use chrono::NaiveDate;
use serde_json::json;

use crate::args::{AuditCommand, Cli, Command, ExportFormat, Format, InputFormat};
use crate::output::{csv_line, print_csv, print_json, resolve, Table};
use crate::{exit, Failure};

pub fn run(cli: Cli) -> Result<u8, Failure> {
    let read_only = cli.read_only;
    let (label, operator_flag) = command_label(&cli.command);
    let _ =
        WRITER.set(Writer { wait: cli.wait, command: format!("cashpool {label}"), operator: operator(operator_flag) });
    match cli.command {
        Command::Init { config, format } => {
            refuse_if_read_only(read_only)?;
            init(&data_dir(&cli.data), &config, resolve(format.format))
        }
        Command::Demo { days, seed, format } => {
            refuse_if_read_only(read_only)?;
            crate::demo::run(cli.data.as_deref(), days, seed, resolve(format.format))
        }
        Command::Post { file, format, partial, operator, report } => {
            refuse_if_read_only(read_only)?;
            post(&data_dir(&cli.data), &file, format, partial, operator, resolve(report))
        }
        Command::Balances { as_of, account, currency, format } => balances(
            &data_dir(&cli.data),
            as_of.as_deref(),
            account.as_deref(),
            currency.as_deref(),
            resolve(format.format),
        ),
        Command::Statement { account, from, to, currency, limit, after, format } => statement(
            &data_dir(&cli.data),
            &StatementArgs {
                account: &account,
                from: from.as_deref(),
                to: to.as_deref(),
                currency: currency.as_deref(),
                limit: limit.as_deref(),
                after: after.as_deref(),
            },
            resolve(format.format),
        ),
        Command::Sweep { date, dry_run, format } => {
            if !dry_run {
                refuse_if_read_only(read_only)?;
            }
            crate::pool::sweep(&data_dir(&cli.data), &date, dry_run, resolve(format.format))
        }
        Command::Interest { from, to, settle, format } => {
            if settle {
                refuse_if_read_only(read_only)?;
            }
            crate::pool::interest(&data_dir(&cli.data), &from, &to, settle, resolve(format.format))
        }
        Command::Net { invoices, date, mode, cycle, window_from, format } => {
            refuse_if_read_only(read_only)?;
            let window = crate::pool::NetWindow { date, from: window_from };
            crate::pool::net(&data_dir(&cli.data), &invoices, &window, mode, cycle, resolve(format.format))
        }
        Command::Amend { file, effective, format } => {
            refuse_if_read_only(read_only)?;
            crate::definition::amend(&data_dir(&cli.data), &file, &effective, resolve(format.format))
        }
        Command::Accounts { as_of, format } => {
            crate::definition::accounts(&data_dir(&cli.data), as_of.as_deref(), resolve(format.format))
        }
        Command::Positions { as_of, format } => {
            crate::pool::positions(&data_dir(&cli.data), as_of.as_deref(), resolve(format.format))
        }
        Command::Rates { command: crate::args::RatesCommand::Import { file, format } } => {
            refuse_if_read_only(read_only)?;
            crate::pool::rates_import(&data_dir(&cli.data), &file, resolve(format.format))
        }
        Command::Benchmarks { series, from, to, format, command } => match command {
            None => {
                let filter = crate::pool::BenchmarkFilter { series, from, to };
                crate::pool::benchmarks(&data_dir(&cli.data), &filter, resolve(format.format))
            }
            Some(crate::args::BenchmarksCommand::Import { file, format }) => {
                refuse_if_read_only(read_only)?;
                crate::pool::benchmarks_import(&data_dir(&cli.data), &file, resolve(format.format))
            }
        },
        Command::Calendars { calendar, from, to, format, command } => match command {
            None => crate::calendars::list(
                &data_dir(&cli.data),
                calendar.as_deref(),
                from.as_deref(),
                to.as_deref(),
                resolve(format.format),
            ),
            Some(crate::args::CalendarsCommand::Import { file, correct, format }) => {
                refuse_if_read_only(read_only)?;
                crate::calendars::import(&data_dir(&cli.data), &file, correct, resolve(format.format))
            }
        },
        Command::Limits { as_of, format, command } => match command {
            None => crate::pool::limits(&data_dir(&cli.data), as_of.as_deref(), resolve(format.format)),
            Some(command) => {
                refuse_if_read_only(read_only)?;
                crate::pool::limits_set(&data_dir(&cli.data), command)
            }
        },
        Command::Pool { command: crate::args::PoolCommand::Check { figures, as_of, format } } => {
            crate::pool::pool_check(&data_dir(&cli.data), &figures, as_of.as_deref(), resolve(format.format))
        }
        Command::Report { html } => crate::report::run(&data_dir(&cli.data), &html),
        Command::Recon { command } => crate::recon::run(&data_dir(&cli.data), read_only, command),
        Command::Audit { command } => match command {
            AuditCommand::Verify { journal, exclusive, format } => {
                audit_verify(&data_dir(&cli.data), journal.as_deref(), access(exclusive), resolve(format.format))
            }
            AuditCommand::Replay { to, journal, exclusive, format } => {
                audit_replay(&data_dir(&cli.data), to, journal.as_deref(), access(exclusive), resolve(format.format))
            }
            AuditCommand::Export { format, output, from, to } => {
                let dir = data_dir(&cli.data);
                audit_export(&dir, format, output.as_deref(), from.as_deref(), to.as_deref())
            }
        },
        Command::Bench { what, n, members, batch, clients, json, store, keep_store, keep_files } => {
            let batch = batch.unwrap_or(match what {
                crate::args::BenchWhat::Scale => cashpool_sim::scale::DEFAULT_BATCH,
                _ => 8_000,
            });
            let shape = crate::bench::Shape { n, members, batch, clients };
            let dirs = crate::bench::Dirs {
                store: store.as_deref(),
                keep_store: keep_store.as_deref(),
                keep_files: keep_files.as_deref(),
            };
            crate::bench::run(what, shape, json, dirs)
        }
    }
}

/// `--data`, else `$CASHPOOL_DATA` (clap reads it), else `./cashpool-data`.
pub fn data_dir(data: &Option<PathBuf>) -> PathBuf {
    data.clone().unwrap_or_else(|| PathBuf::from("cashpool-data"))
}

fn refuse_if_read_only(read_only: bool) -> Result<(), Failure> {
    if read_only {
        return Err(Failure::invalid("--read-only: this command writes to the store and is refused"));
    }
    Ok(())
}

/// The time the ledger records: `$CASHPOOL_NOW` (RFC 3339, for reproducible journals) or the clock.
pub fn now() -> Result<Timestamp, Failure> {
    if let Ok(text) = std::env::var("CASHPOOL_NOW") {
        return Timestamp::parse_rfc3339(&text).ok_or_else(|| {
            Failure::invalid(format!("CASHPOOL_NOW={text:?} is not an RFC 3339 timestamp (2026-11-02T09:00:00Z)"))
        });
    }
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| Failure::environment("the system clock is before 1970"))?
        .as_micros();
    Ok(Timestamp::from_unix_micros(
        i64::try_from(micros).map_err(|_| Failure::environment("the system clock is out of range"))?,
    ))
}

/// Today: the date (UTC) of [`now`], the clock or `CASHPOOL_NOW`.
pub fn today() -> Result<NaiveDate, Failure> {
    date_of(now()?)
}

/// The date (UTC) of a timestamp.
pub fn date_of(at: Timestamp) -> Result<NaiveDate, Failure> {
    chrono::DateTime::from_timestamp_micros(at.unix_micros())
        .map(|at| at.date_naive())
        .ok_or_else(|| Failure::environment("the clock is out of range"))
}

pub fn operator(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("CASHPOOL_OPERATOR").ok())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// What to do about a refusal that a command of this CLI can fix. The ledger
/// never names a command: advice is the CLI's.
pub fn advice(rejection: &Rejection) -> Option<&'static str> {
    match rejection {
        Rejection::MissingRate { .. } => Some("import one with `cashpool rates import`"),
        Rejection::MissingRates { .. } => Some("import them with `cashpool rates import` and run the cycle again"),
        Rejection::SettlementRefused { rejection, .. } => advice(rejection),
        Rejection::MissingFixing { .. } => Some(
            "import the fixing with `cashpool benchmarks import` (or, for a series published monthly or weekly, give the row a longer `stale_after_days`) and run the interest again",
        ),
        Rejection::CalendarMissing { .. } => Some("import it with `cashpool calendars import FILE`"),
        Rejection::NotBusinessDay { field, .. } if field == "date" => {
            Some("run the sweep on a business day, or give the rule another `roll`")
        }
        Rejection::NotBusinessDay { .. } => {
            Some("value it on a business day of its calendars (the pool refuses others: non_business_value_dates)")
        }
        _ => None,
    }
}

/// A refusal as the CLI prints it: the ledger's words, then the advice, if any.
pub fn refusal_text(rejection: &Rejection) -> String {
    match advice(rejection) {
        Some(advice) => format!("{rejection}; {advice}"),
        None => rejection.to_string(),
    }
}

pub fn ledger_failure(err: LedgerError) -> Failure {
    match err {
        LedgerError::Storage(err) => storage_failure(err),
        // A refusal writes nothing: invalid input (exit 2), not a damaged journal.
        LedgerError::Refused(rejection) => Failure::invalid(refusal_text(&rejection)),
        LedgerError::NotInitialized => Failure::environment(format!("{err}: run `cashpool init --config FILE` first")),
        LedgerError::Integrity { .. } => Failure::integrity(format!("{err}; run `cashpool audit verify` for a report")),
        LedgerError::AlreadyInitialized => Failure::invalid(format!("{err}; choose an empty --data folder")),
        LedgerError::Config(_) | LedgerError::ReadOnly | LedgerError::UnknownAccount(_) => {
            Failure::invalid(err.to_string())
        }
        _ => Failure::environment(err.to_string()),
    }
}

fn storage_failure(err: StorageError) -> Failure {
    match err {
        StorageError::Locked { .. } => {
            Failure::environment(format!("{err}; try again when it has finished, or wait longer with --wait SECONDS"))
        }
        err => Failure::environment(err.to_string()),
    }
}

/// How a command opens the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The journal as it stands, without any lock and without the balance
    /// checkpoint (`JournalSnapshot`): a reader never waits for a writer and
    /// never makes one wait or fail.
    Read,
    /// The store itself, under its writer lock (`SledStorage`), waiting up to
    /// `--wait` for another writer to finish.
    Write,
}

/// `audit verify` and `audit replay`: `--exclusive` takes the writer's lock to compare the stored balances.
fn access(exclusive: bool) -> Access {
    if exclusive {
        Access::Write
    } else {
        Access::Read
    }
}

/// Who this process says it is when it takes a store's writer lock, and how long it waits for one.
struct Writer {
    wait: Duration,
    command: String,
    operator: String,
}

static WRITER: OnceLock<Writer> = OnceLock::new();

/// The command as the `LOCK` file names it, and its `--operator`, if it takes one.
fn command_label(command: &Command) -> (&'static str, Option<String>) {
    use crate::args::{CalendarsCommand, LimitsCommand, PoolCommand, RatesCommand, ReconCommand};
    match command {
        Command::Init { .. } => ("init", None),
        Command::Demo { .. } => ("demo", None),
        Command::Post { operator, .. } => ("post", operator.clone()),
        Command::Balances { .. } => ("balances", None),
        Command::Statement { .. } => ("statement", None),
        Command::Sweep { .. } => ("sweep", None),
        Command::Interest { settle: true, .. } => ("interest --settle", None),
        Command::Interest { .. } => ("interest", None),
        Command::Net { .. } => ("net", None),
        Command::Positions { .. } => ("positions", None),
        Command::Amend { .. } => ("amend", None),
        Command::Accounts { .. } => ("accounts", None),
        Command::Rates { command: RatesCommand::Import { .. } } => ("rates import", None),
        Command::Benchmarks { command: Some(crate::args::BenchmarksCommand::Import { .. }), .. } => {
            ("benchmarks import", None)
        }
        Command::Benchmarks { .. } => ("benchmarks", None),
        Command::Calendars { command: Some(CalendarsCommand::Import { .. }), .. } => ("calendars import", None),
        Command::Calendars { .. } => ("calendars", None),
        Command::Limits { command: Some(LimitsCommand::Set { .. }), .. } => ("limits set", None),
        Command::Limits { .. } => ("limits", None),
        Command::Pool { command: PoolCommand::Check { .. } } => ("pool check", None),
        Command::Report { .. } => ("report", None),
        Command::Recon { command: ReconCommand::Import { .. } } => ("recon import", None),
        Command::Recon { command: ReconCommand::Report { .. } } => ("recon report", None),
        Command::Recon { command: ReconCommand::Adopt { operator, .. } } => ("recon adopt", operator.clone()),
        Command::Audit { command: AuditCommand::Verify { .. } } => ("audit verify --exclusive", None),
        Command::Audit { command: AuditCommand::Replay { .. } } => ("audit replay --exclusive", None),
        Command::Audit { command: AuditCommand::Export { .. } } => ("audit export", None),
        Command::Bench { .. } => ("bench", None),
    }
}

/// This machine's name, if it says: `$HOSTNAME`, else `/etc/hostname`.
fn host_name() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
}

fn no_store(dir: &Path) -> Failure {
    Failure::environment(format!(
        "no store at {}: run `cashpool init --config FILE` (or pass --data DIR / set CASHPOOL_DATA)",
        dir.display()
    ))
}

/// Takes the writer's lock on the store in `dir` (creating the folder if
/// needed), naming this process in its `LOCK` file. A store held by another
/// writer is waited for, up to `--wait`, with a note on standard error.
pub fn take_store(dir: &Path) -> Result<SledStorage, Failure> {
    let writer = WRITER.get();
    let wait = writer.map_or(Duration::ZERO, |writer| writer.wait);
    let holder = || -> Result<LockHolder, Failure> {
        let mut holder = LockHolder::this_process().with_since(now()?);
        if let Some(writer) = writer {
            holder = holder.with_command(writer.command.clone()).with_operator(writer.operator.clone());
        }
        if let Some(host) = host_name() {
            holder = holder.with_host(host);
        }
        Ok(holder)
    };
    let storage = match SledStorage::open_wait(dir, &holder()?, Duration::ZERO) {
        Err(StorageError::Locked { holder: held_by, .. }) if !wait.is_zero() => {
            let held_by = held_by.map_or_else(|| "its lock file does not say who".to_string(), |h| h.to_string());
            eprintln!(
                "note: the store at {} is held by another writer ({held_by}); waiting up to {} s (--wait)",
                dir.display(),
                wait.as_secs_f64()
            );
            SledStorage::open_wait(dir, &holder()?, wait)
        }
        result => result,
    }
    .map_err(storage_failure)?;
    if let Some(reason) = storage.rebuilt_checkpoint() {
        eprintln!("warning: the balance checkpoint could not be read ({reason}); it is rebuilt from the journal");
    }
    Ok(storage)
}

/// Opens the store in `dir`: for reading, its journal as it stands, without
/// any lock and without writing anything; for writing, the store itself under
/// its writer lock ([`take_store`]).
fn open_storage(dir: &Path, access: Access) -> Result<Box<dyn Storage>, Failure> {
    if !SledStorage::exists(dir) {
        return Err(no_store(dir));
    }
    Ok(match access {
        Access::Read => Box::new(JournalSnapshot::open(dir).map_err(storage_failure)?),
        Access::Write => Box::new(take_store(dir)?),
    })
}

/// Opens the ledger of the store in `dir`: a read-only ledger on the journal
/// as it stands ([`Access::Read`]), or the writer's ([`Access::Write`]).
pub fn open_ledger(dir: &Path, access: Access) -> Result<Ledger, Failure> {
    let storage = open_storage(dir, access)?;
    let ledger = match access {
        Access::Read => Ledger::open_read_only(storage),
        Access::Write => Ledger::open(storage),
    }
    .map_err(ledger_failure)?;
    // The indexes' runs are written on the other core while a large file posts on.
    ledger.set_background_flush(true);
    Ok(ledger)
}

/// Entries a store's state snapshot may be behind its head before a writing
/// command checkpoints: the next open folds at most this many entries (about a
/// millisecond's work) after reading the snapshot, and a command that writes a
/// few entries does not pay for writing the indexes and the snapshot each time.
pub const CHECKPOINT_AFTER_ENTRIES: u64 = 1024;

/// Called once a command has written to the store: once the state snapshot is
/// [`CHECKPOINT_AFTER_ENTRIES`] or more behind the head, the transaction ids
/// and postings still in memory and the state snapshot go to disk, so that the
/// next command's open reads the state instead of folding the journal
/// (docs/STORAGE.md, "The state snapshot"). What the command wrote is durable
/// already, so a failure here is a warning: the next open folds a little more,
/// the next write tries again.
pub fn checkpoint(ledger: &Ledger) {
    if ledger.entries_after_snapshot() < CHECKPOINT_AFTER_ENTRIES {
        return;
    }
    if let Err(err) = ledger.checkpoint() {
        eprintln!("warning: the state snapshot was not written ({err}); the next write tries again");
    }
}

pub fn read_file(path: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(path).map_err(|err| Failure::environment(format!("{}: {err}", path.display())))?;
    String::from_utf8(bytes).map_err(|err| {
        let bytes = err.as_bytes();
        if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
            return Failure::invalid(format!(
                "{}: line 1: the file is UTF-16 text (as Excel's \"Unicode text\" saves it); save it as UTF-8 (CSV UTF-8) and try again",
                path.display()
            ));
        }
        let at = err.utf8_error().valid_up_to();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Failure::invalid(format!(
            "{}: line {line}: not UTF-8 text (byte {at} is not valid UTF-8); save the file as UTF-8",
            path.display()
        ))
    })
}

pub fn parse_date(text: &str, flag: &str) -> Result<NaiveDate, Failure> {
    cashpool_files::cell::date(text).map_err(|reason| Failure::invalid(format!("{flag}: {reason}")))
}

fn parse_currency(text: &str) -> Result<Currency, Failure> {
    Currency::from_code(text)
        .ok_or_else(|| Failure::invalid(format!("--currency {text:?}: not an active ISO 4217 currency code")))
}

fn init(dir: &Path, config_path: &Path, format: Format) -> Result<u8, Failure> {
    let text = read_file(config_path)?;
    if let Err(errors) = parse_group_config(&text) {
        let lines: Vec<String> = errors.0.iter().map(|err| format!("{}: {err}", config_path.display())).collect();
        return Err(Failure::invalid(lines.join("\n")));
    }
    let storage = take_store(dir)?;
    let ledger = Ledger::create(Box::new(storage), &text, now()?).map_err(ledger_failure)?;
    ledger.set_background_flush(true);
    checkpoint(&ledger);
    let (head_seq, head) = ledger.head();
    let n_accounts = ledger.accounts().len();
    match format {
        Format::Json => print_json(&json!({
            "store": dir.display().to_string(),
            "entries": head_seq,
            "head": head.to_hex(),
            "accounts": n_accounts,
        })),
        Format::Table | Format::Csv => {
            println!(
                "initialised {} from {}: {n_accounts} accounts, {head_seq} entries, head {head}",
                dir.display(),
                config_path.display()
            );
        }
    }
    Ok(exit::OK)
}

fn post(
    dir: &Path,
    file: &Path,
    format: Option<InputFormat>,
    partial: bool,
    operator_given: Option<String>,
    report: Format,
) -> Result<u8, Failure> {
    let input_format = match format {
        Some(format) => format,
        None => match file.extension().and_then(|ext| ext.to_str()) {
            Some("csv") => InputFormat::Csv,
            Some("jsonl") | Some("ndjson") => InputFormat::Jsonl,
            _ => {
                return Err(Failure::invalid(format!(
                    "{}: cannot tell the format from the extension; use .csv or .jsonl, or pass --format csv|jsonl",
                    file.display()
                )))
            }
        },
    };
    let spinner = crate::output::spinner(&format!("posting {}…", file.display()));
    let text = read_file(file)?;
    let file_format = match input_format {
        InputFormat::Csv => TransactionFormat::Csv,
        InputFormat::Jsonl => TransactionFormat::Jsonl,
    };
    let ParsedBatch { rows, errors } = parse_transactions(file_format, &text);
    drop(text); // the rows own their text
    let mut problems: Vec<(u64, String, serde_json::Value)> = errors
        .iter()
        .map(|err| {
            (
                err.line,
                format!("{}:{err}", file.display()),
                json!({"line": err.line, "field": err.field, "reason": "malformed", "message": err.reason}),
            )
        })
        .collect();
    let ledger = open_ledger(dir, Access::Write)?;
    // Moved, not copied: a large file's requests are the bulk of the memory.
    let (lines, requests): (Vec<u64>, Vec<_>) = rows.into_iter().map(|row| (row.line, row.request)).unzip();
    let operator = operator(operator_given);
    let mode = if partial { BatchMode::Partial } else { BatchMode::Atomic };
    let outcome = if problems.is_empty() || partial {
        ledger.post_batch(&requests, mode, &operator, now()?).map_err(ledger_failure)?
    } else {
        // The file is rejected already; still list what the ledger would reject among the rows that parsed.
        let rejected = ledger.check_batch(&requests, &operator).map_err(ledger_failure)?;
        cashpool_ledger::BatchOutcome { receipts: Vec::new(), rejected }
    };
    checkpoint(&ledger);
    spinner.finish_and_clear();
    for rejected in &outcome.rejected {
        let line = lines[rejected.index];
        // Named as the file wrote the transaction: a CSV row's columns, its positive amount.
        let rejection = as_written(file_format, &rejected.rejection);
        let detail = serde_json::to_value(&rejection).unwrap_or_default();
        let mut message = refusal_text(&rejection);
        if let Rejection::IdConflict { .. } = rejection {
            if let Some(first) = requests[..rejected.index].iter().position(|request| request.id == rejected.id) {
                message.push_str(&format!(" (the id is used first on line {} of this file)", lines[first]));
            }
        }
        problems.push((
            line,
            format!("{}:line {line}: transaction {}: {message}", file.display(), rejected.id),
            json!({"line": line, "id": rejected.id, "reason": rejected.rejection.code(), "detail": detail, "message": message}),
        ));
    }
    problems.sort_by_key(|(line, _, _)| *line);
    if outcome.is_rejected() || (!partial && !problems.is_empty()) {
        return report_rejection(file, &problems, report);
    }
    let posted = outcome.receipts.iter().filter(|r| !r.duplicate).count();
    let duplicates = outcome.receipts.len() - posted;
    // Posted, but valued on a day that is not a business day (docs/SWEEPS.md, "Business days").
    let warnings: Vec<(u64, String, serde_json::Value)> = outcome
        .receipts
        .iter()
        .flat_map(|receipt| receipt.warnings.iter().map(move |warning| (receipt, warning)))
        .map(|(receipt, warning)| {
            let line = requests.iter().position(|request| request.id == receipt.id).map_or(0, |idx| lines[idx]);
            (
                line,
                format!("{}:line {line}: transaction {}: {warning}", file.display(), receipt.id),
                json!({"line": line, "id": receipt.id, "code": warning.code(), "detail": warning, "message": warning.to_string()}),
            )
        })
        .collect();
    let (head_seq, head) = ledger.head();
    match report {
        Format::Json => print_json(&json!({
            "file": file.display().to_string(),
            "posted": posted,
            "duplicates": duplicates,
            "rejected": problems.iter().map(|(_, _, value)| value.clone()).collect::<Vec<_>>(),
            "warnings": warnings.iter().map(|(_, _, value)| value.clone()).collect::<Vec<_>>(),
            "head": {"seq": head_seq, "hash": head.to_hex()},
        })),
        Format::Table | Format::Csv => {
            println!(
                "{}: posted {posted}, duplicates {duplicates} (nothing written for them), rejected {}",
                file.display(),
                problems.len()
            );
            for (_, message, _) in &problems {
                println!("  rejected {message}");
            }
            for (_, message, _) in &warnings {
                println!("  warning {message}");
            }
            println!("head: entry {head_seq}, {head}");
        }
    }
    Ok(if problems.is_empty() { exit::OK } else { exit::INVALID })
}

fn report_rejection(file: &Path, problems: &[(u64, String, serde_json::Value)], report: Format) -> Result<u8, Failure> {
    if report == Format::Json {
        print_json(&json!({
            "file": file.display().to_string(),
            "posted": 0,
            "rejected": problems.iter().map(|(_, _, value)| value.clone()).collect::<Vec<_>>(),
        }));
    }
    let mut message = format!(
        "{}: {} bad row(s); nothing was written (use --partial to post the good rows)",
        file.display(),
        problems.len()
    );
    for (_, line, _) in problems {
        message.push_str("\n  ");
        message.push_str(line);
    }
    Err(Failure::invalid(message))
}

fn balances(
    dir: &Path,
    as_of: Option<&str>,
    account: Option<&str>,
    currency: Option<&str>,
    format: Format,
) -> Result<u8, Failure> {
    let as_of = as_of.map(|text| parse_date(text, "--as-of")).transpose()?;
    let currency = currency.map(parse_currency).transpose()?;
    // The day's rates: those of the value date asked for, else today's.
    let rates_as_of = match as_of {
        Some(date) => date,
        None => today()?,
    };
    let ledger = open_ledger(dir, Access::Read)?;
    let rows = ledger.balances(as_of, account, currency).map_err(ledger_failure)?;
    let totals = ledger.balance_totals_in_base(as_of, account, currency, rates_as_of).map_err(ledger_failure)?;
    match format {
        Format::Json => print_json(&json!({
            "as_of": as_of.map(|d| d.to_string()),
            "balances": rows.iter().map(|row| json!({
                "account": row.account,
                "currency": row.currency.code(),
                "balance": format_amount(row.balance, row.currency),
            })).collect::<Vec<_>>(),
            "totals": crate::totals::lines_json(&totals),
            "base_total": crate::totals::base_total_json(&totals),
        })),
        Format::Csv => {
            print_csv(
                &["account", "currency", "balance"],
                &rows
                    .iter()
                    .map(|r| vec![r.account.clone(), r.currency.code().into(), format_amount(r.balance, r.currency)])
                    .collect::<Vec<_>>(),
            );
            print!("{}", crate::totals::csv_text(&totals));
        }
        Format::Table => {
            let mut table = Table::new(&["account", "currency", "balance"], &["balance"]);
            for row in &rows {
                table.push(vec![
                    row.account.clone(),
                    row.currency.code().into(),
                    format_grouped(row.balance, row.currency),
                ]);
            }
            match as_of {
                Some(date) => println!("balances as of value date {date}"),
                None => println!("balances (all postings)"),
            }
            print!("{}", table.render());
            println!();
            print!("{}", crate::totals::table_text(&totals, crate::totals::BALANCES_SCOPE));
        }
    }
    Ok(exit::OK)
}

/// The flags of `cashpool statement`, as given.
struct StatementArgs<'a> {
    account: &'a str,
    from: Option<&'a str>,
    to: Option<&'a str>,
    currency: Option<&'a str>,
    limit: Option<&'a str>,
    after: Option<&'a str>,
}

/// `cashpool statement`: the lines stream from the posting index to standard
/// output as they are read (JSON and CSV), so a statement of millions of lines
/// needs no more memory than a page; the table, laid out for people, is built whole.
fn statement(dir: &Path, args: &StatementArgs<'_>, format: Format) -> Result<u8, Failure> {
    let from = args.from.map(|text| parse_date(text, "--from")).transpose()?;
    let to = args.to.map(|text| parse_date(text, "--to")).transpose()?;
    let currency = args.currency.map(parse_currency).transpose()?;
    let limit = args
        .limit
        .map(|text| match text.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(Failure::invalid(format!("--limit {text:?}: not a whole number of lines above 0"))),
        })
        .transpose()?;
    let after = args
        .after
        .map(|text| text.parse::<StatementCursor>().map_err(|reason| Failure::invalid(format!("--after: {reason}"))))
        .transpose()?;
    let query = StatementQuery { account: args.account.to_string(), currency, from, to, after, limit };
    let ledger = open_ledger(dir, Access::Read)?;
    let mut reader = ledger.statement_reader(&query).map_err(ledger_failure)?;
    let totals = |list: &[(Currency, rust_decimal::Decimal)]| {
        list.iter()
            .map(|(ccy, amount)| json!({"currency": ccy.code(), "balance": format_amount(*amount, *ccy)}))
            .collect::<Vec<_>>()
    };
    let cells = |line: &cashpool_ledger::StatementLine, grouped: bool| {
        let amount =
            |value| if grouped { format_grouped(value, line.currency) } else { format_amount(value, line.currency) };
        vec![
            line.value_date.to_string(),
            line.seq.to_string(),
            line.id.clone(),
            line.purpose.to_string(),
            line.reference.clone(),
            line.currency.code().to_string(),
            amount(line.amount),
            amount(line.balance),
        ]
    };
    const HEADERS: [&str; 8] = ["value_date", "seq", "id", "purpose", "reference", "currency", "amount", "balance"];
    let write_error = |err: std::io::Error| Failure::environment(format!("writing the statement: {err}"));
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match format {
        Format::Json => {
            let head = json!({
                "account": args.account,
                "from": from.map(|d| d.to_string()),
                "to": to.map(|d| d.to_string()),
                "opening": totals(reader.opening()),
            });
            let head = serde_json::to_string_pretty(&head).expect("JSON values serialize");
            // The object without its closing brace, then the lines one by one.
            write!(out, "{},\n  \"lines\": [", head.trim_end().trim_end_matches('}').trim_end())
                .map_err(write_error)?;
            let mut first = true;
            for line in reader.by_ref() {
                let line = line.map_err(ledger_failure)?;
                let value = json!({
                    "seq": line.seq,
                    "value_date": line.value_date.to_string(),
                    "id": line.id,
                    "purpose": line.purpose.as_str(),
                    "reference": line.reference,
                    "memo": line.memo,
                    "currency": line.currency.code(),
                    "amount": format_amount(line.amount, line.currency),
                    "balance": format_amount(line.balance, line.currency),
                });
                write!(out, "{}\n    {value}", if first { "" } else { "," }).map_err(write_error)?;
                first = false;
            }
            let closing = serde_json::to_string(&totals(&reader.closing())).expect("JSON values serialize");
            let next =
                serde_json::to_string(&reader.next_page().map(|c| c.to_string())).expect("JSON values serialize");
            let end = if first { "" } else { "\n  " };
            writeln!(out, "{end}],\n  \"closing\": {closing},\n  \"next\": {next}\n}}").map_err(write_error)?;
        }
        Format::Csv => {
            write!(out, "{}", csv_line(&HEADERS)).map_err(write_error)?;
            for line in reader.by_ref() {
                write!(out, "{}", csv_line(&cells(&line.map_err(ledger_failure)?, false))).map_err(write_error)?;
            }
        }
        Format::Table => {
            writeln!(out, "statement of {}", args.account).map_err(write_error)?;
            for (ccy, amount) in reader.opening() {
                writeln!(out, "  opening {ccy} {}", format_grouped(*amount, *ccy)).map_err(write_error)?;
            }
            let mut table = Table::new(&HEADERS, &["seq", "amount", "balance"]);
            for line in reader.by_ref() {
                table.push(cells(&line.map_err(ledger_failure)?, true));
            }
            write!(out, "{}", table.render()).map_err(write_error)?;
            for (ccy, amount) in &reader.closing() {
                writeln!(out, "  closing {ccy} {}", format_grouped(*amount, *ccy)).map_err(write_error)?;
            }
        }
    }
    out.flush().map_err(write_error)?;
    if let Some(next) = reader.next_page() {
        if format != Format::Json {
            eprintln!("more lines follow: the next page is --after {next}");
        }
    }
    Ok(exit::OK)
}

fn open_journal(path: &Path) -> Result<BufReader<File>, Failure> {
    File::open(path).map(BufReader::new).map_err(|err| Failure::environment(format!("{}: {err}", path.display())))
}

/// `checkpoint`: for a store, whether its stored balances were compared (`--exclusive`); `None` for an export.
fn print_verify(report: &VerifyReport, source: &str, checkpoint: Option<bool>, format: Format) -> u8 {
    let mut value = if report.ok {
        json!({"ok": true, "entries": report.entries, "head": report.head.to_hex()})
    } else {
        json!({"ok": false, "entries": report.entries, "head": report.head.to_hex(), "first_bad_seq": report.first_bad_seq, "reason": report.reason, "source": source})
    };
    if let Some(checkpoint) = checkpoint {
        value["stored_balances_checked"] = json!(checkpoint);
    }
    if !report.ok {
        eprintln!(
            "error: {source}: entry {}: {}",
            report.first_bad_seq.unwrap_or_default(),
            report.reason.as_deref().unwrap_or("")
        );
    }
    match format {
        Format::Json | Format::Csv => print_json(&value),
        Format::Table => {
            if report.ok {
                println!(
                    "audit verify {source}: {}, {} entries, head {}",
                    crate::output::paint("ok", crate::output::Paint::Good),
                    report.entries,
                    report.head
                );
                match checkpoint {
                    Some(true) => println!("checked: the hash chain, every rule, and every stored balance"),
                    Some(false) => println!(
                        "checked: the hash chain and every rule (--exclusive also compares the stored balances)"
                    ),
                    None => {}
                }
            } else {
                println!(
                    "audit verify {source}: {} at entry {}: {}",
                    crate::output::paint("FAILED", crate::output::Paint::Bad),
                    report.first_bad_seq.unwrap_or_default(),
                    report.reason.as_deref().unwrap_or("")
                );
            }
        }
    }
    if report.ok {
        exit::OK
    } else {
        exit::INTEGRITY
    }
}

fn audit_verify(dir: &Path, journal: Option<&Path>, access: Access, format: Format) -> Result<u8, Failure> {
    let (report, source, checkpoint) = match journal {
        Some(path) => {
            let mut reader = open_journal(path)?;
            let report = audit::verify_journal(&mut reader)
                .map_err(|err| Failure::environment(format!("{}: {err}", path.display())))?;
            (report, path.display().to_string(), None)
        }
        None => {
            let storage = open_storage(dir, access)?;
            let checkpoint = storage.keeps_checkpoint();
            let checked = if checkpoint { "the journal and every stored balance" } else { "the journal" };
            let spinner = crate::output::spinner(&format!("verifying {checked}…"));
            let report = audit::verify_storage(storage.as_ref()).map_err(storage_failure)?;
            spinner.finish_and_clear();
            (report, dir.display().to_string(), Some(checkpoint))
        }
    };
    Ok(print_verify(&report, &source, checkpoint, format))
}

fn audit_replay(
    dir: &Path,
    to: Option<u64>,
    journal: Option<&Path>,
    access: Access,
    format: Format,
) -> Result<u8, Failure> {
    let spinner = crate::output::spinner("replaying the journal…");
    let result = match journal {
        Some(path) => audit::replay_journal(&mut open_journal(path)?, to),
        None => audit::replay_storage(open_storage(dir, access)?.as_ref(), to),
    };
    spinner.finish_and_clear();
    let report = match result {
        Ok(report) => report,
        Err(audit::AuditError::Integrity(err)) => {
            if format != Format::Table {
                print_json(&json!({"ok": false, "first_bad_seq": err.seq, "reason": err.reason}));
            }
            let source = journal.map_or_else(|| dir.display().to_string(), |path| path.display().to_string());
            return Err(Failure::integrity(format!("{source}: replay failed at entry {}: {}", err.seq, err.reason)));
        }
        Err(err) => return Err(Failure::environment(err.to_string())),
    };
    match format {
        Format::Json | Format::Csv => print_json(&json!({
            "entries": report.entries,
            "head": report.head.to_hex(),
            "state_digest": report.state_digest.to_string(),
            "matches_store": report.matches_store,
        })),
        Format::Table => {
            println!("replayed {} entries; head {}", report.entries, report.head);
            println!("state digest {}", report.state_digest);
            match report.matches_store {
                Some(true) => println!("the store's balances and head match the replay"),
                Some(false) => println!("the store's balances or head DO NOT match the replay"),
                None => {}
            }
        }
    }
    Ok(if report.matches_store == Some(false) { exit::INTEGRITY } else { exit::OK })
}

fn audit_export(
    dir: &Path,
    format: ExportFormat,
    output: Option<&Path>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<u8, Failure> {
    let from = from.map(|text| parse_date(text, "--from")).transpose()?;
    let to = to.map(|text| parse_date(text, "--to")).transpose()?;
    if format == ExportFormat::Jsonl && (from.is_some() || to.is_some()) {
        return Err(Failure::invalid(
            "--from/--to: a JSON Lines export is the whole journal from entry 1, so that anyone can verify its hash chain; use --format hledger for a date range",
        ));
    }
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(Failure::invalid(format!("--from {from} is after --to {to}")));
        }
    }
    let storage = open_storage(dir, Access::Read)?;
    let export = |out: &mut dyn std::io::Write| match format {
        ExportFormat::Jsonl => audit::export_jsonl(storage.as_ref(), out),
        ExportFormat::Hledger => cashpool_files::hledger::export_hledger_range(storage.as_ref(), from, to, out),
    };
    let result = match output {
        Some(path) => {
            let file = File::create(path).map_err(|err| Failure::environment(format!("{}: {err}", path.display())))?;
            export(&mut BufWriter::new(file))
        }
        None => export(&mut BufWriter::new(std::io::stdout().lock())),
    };
    match result {
        Ok(n_entries) => {
            eprintln!("exported {n_entries} entries");
            Ok(exit::OK)
        }
        Err(audit::AuditError::Integrity(err)) => Err(Failure::integrity(err.to_string())),
        Err(err) => Err(Failure::environment(err.to_string())),
    }
}
