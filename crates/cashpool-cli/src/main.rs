//! `cashpool`: the command-line face of the cashpool ledger. Thin: it parses
//! arguments, calls one library function, and renders the result.

mod args;
mod bench;
mod calendars;
mod commands;
mod definition;
mod demo;
mod output;
mod pool;
mod recon;
mod report;
mod totals;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;

/// Exit codes of the contract.
pub(crate) mod exit {
    /// Done.
    pub const OK: u8 = 0;
    /// The environment failed: IO, a locked or unreadable store.
    pub const ENVIRONMENT: u8 = 1;
    /// Invalid input or a rejected request: nothing was written.
    pub const INVALID: u8 = 2;
    /// Integrity failure: the journal or the state is wrong.
    pub const INTEGRITY: u8 = 3;
}

/// An error that ends the command with an exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn environment(message: impl Into<String>) -> Failure {
        Failure { code: exit::ENVIRONMENT, message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure { code: exit::INVALID, message: message.into() }
    }
    pub fn integrity(message: impl Into<String>) -> Failure {
        Failure { code: exit::INTEGRITY, message: message.into() }
    }
}

fn main() -> ExitCode {
    // Like any Unix filter: when the reader of standard output goes away
    // (`cashpool balances | head`), end quietly instead of panicking on the
    // failed write. Rust ignores SIGPIPE by default; restore the default action.
    // SAFETY: setting a signal disposition to SIG_DFL at startup, before any
    // thread exists, has no preconditions.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let code = run();
    report_peak_rss();
    ExitCode::from(code)
}

fn run() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { exit::INVALID } else { exit::OK };
            let _ = err.print();
            return code;
        }
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("error: {}", failure.message);
            }
            failure.code
        }
    }
}

/// For `bench scale`, which runs each measured command in a child process:
/// when `CASHPOOL_REPORT_PEAK_RSS` names a file, the process writes its own
/// peak resident memory there as it ends (`VmHWM` in KiB, whatever the exit
/// code). Nothing is written where /proc/self/status cannot be read.
fn report_peak_rss() {
    if let Some(path) = std::env::var_os(cashpool_sim::scale::PEAK_RSS_ENV) {
        if let Some(kib) = cashpool_sim::bench::rss_kib("VmHWM:") {
            if let Err(err) = std::fs::write(&path, format!("{kib}\n")) {
                eprintln!("warning: {}: cannot write the peak memory: {err}", std::path::Path::new(&path).display());
            }
        }
    }
}
