//! `cashpool recon`: import bank statements, reconcile, adopt bank-initiated lines.

use std::path::Path;

use cashpool_ledger::bank::{BankStatement, ImportOutcome, ImportReceipt};
use cashpool_ledger::{Ledger, LedgerError};
use cashpool_recon::{Diagnostic, ReconOptions, Reconciler, Report, Severity};
use serde_json::json;

use crate::args::{Format, ReconCommand};
use crate::commands::{checkpoint, ledger_failure, now, open_ledger, operator, refusal_text, Access};
use crate::output::{paint, print_json, progress, resolve, Paint, Table};
use crate::{exit, Failure};

pub fn run(dir: &Path, read_only: bool, command: ReconCommand) -> Result<u8, Failure> {
    match command {
        ReconCommand::Import { files, tolerance, format } => {
            if read_only {
                return Err(Failure::invalid("--read-only: `recon import` writes to the store and is refused"));
            }
            import(dir, &files, options(tolerance.date_tolerance), resolve(format.format))
        }
        ReconCommand::Report { journal, tolerance, format } => {
            let options = options(tolerance.date_tolerance);
            let report = match journal {
                Some(path) => report_from_export(&path, options)?,
                None => reconcile(&open_ledger(dir, Access::Read)?, options)?,
            };
            print_report(&report, resolve(format.format));
            Ok(exit::OK)
        }
        ReconCommand::Adopt { ids, all_charges, operator: who, tolerance, format } => {
            if read_only {
                return Err(Failure::invalid("--read-only: `recon adopt` writes to the store and is refused"));
            }
            adopt(dir, &ids, all_charges, &operator(who), options(tolerance.date_tolerance), resolve(format.format))
        }
    }
}

fn options(days: u32) -> ReconOptions {
    ReconOptions { date_tolerance_days: i64::from(days), ..ReconOptions::default() }
}

/// Reconciles the store's journal.
pub fn reconcile(ledger: &Ledger, options: ReconOptions) -> Result<Report, Failure> {
    let mut reconciler = Reconciler::new(options);
    for item in ledger.entries(1) {
        let (entry, _) = item.map_err(ledger_failure)?;
        reconciler.push(&entry);
    }
    Ok(reconciler.finish())
}

fn report_from_export(path: &Path, options: ReconOptions) -> Result<Report, Failure> {
    let file = std::fs::File::open(path).map_err(|err| Failure::environment(format!("{}: {err}", path.display())))?;
    let mut reader = std::io::BufReader::new(file);
    let mut reconciler = Reconciler::new(options);
    match cashpool_ledger::audit::read_journal(&mut reader, |entry| reconciler.push(entry)) {
        Ok(_) => Ok(reconciler.finish()),
        Err(cashpool_ledger::audit::AuditError::Io(err)) => {
            Err(Failure::environment(format!("{}: {err}", path.display())))
        }
        Err(err) => Err(Failure::integrity(format!("{}: {err}; nothing reconciled", path.display()))),
    }
}

struct FileRead {
    path: String,
    format: &'static str,
    statements: usize,
    diagnostics: Vec<Diagnostic>,
}

fn import(dir: &Path, files: &[std::path::PathBuf], options: ReconOptions, format: Format) -> Result<u8, Failure> {
    // Read and parse every file first: a file that is not a statement at all
    // refuses the whole import, before anything is written.
    let mut statements: Vec<(String, BankStatement)> = Vec::new();
    let mut reads = Vec::new();
    let bar = progress(files.len() as u64, "reading");
    for path in files {
        bar.inc(1);
        let bytes = std::fs::read(path).map_err(|err| Failure::environment(format!("{}: {err}", path.display())))?;
        let Some(detected) = cashpool_recon::detect(&bytes) else {
            return Err(Failure::invalid(format!(
                "{}: line 1: not a bank statement this version reads (MT940, MT942, camt.052/053/054, BAI2); nothing was written",
                path.display()
            )));
        };
        let parsed = cashpool_recon::parse(&bytes).unwrap_or_default();
        if parsed.statements.is_empty() {
            let first =
                parsed.diagnostics.iter().find(|d| d.severity == Severity::Error).or(parsed.diagnostics.first());
            let why = first.map_or_else(
                || "no statement in it".to_string(),
                |d| format!("line {}: {}: {}", d.line, d.field, d.message),
            );
            return Err(Failure::invalid(format!(
                "{}: looks like {} but no statement could be read ({why}); nothing was written",
                path.display(),
                detected.as_str()
            )));
        }
        let source = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        reads.push(FileRead {
            path: path.display().to_string(),
            format: detected.as_str(),
            statements: parsed.statements.len(),
            diagnostics: parsed.diagnostics,
        });
        statements.extend(parsed.statements.into_iter().map(|st| (source.clone(), st)));
    }
    bar.finish_and_clear();
    for read in &reads {
        for d in &read.diagnostics {
            let severity = if d.severity == Severity::Error { "error" } else { "warning" };
            eprintln!("{severity}: {}:{}: {}: {}", read.path, d.line, d.field, d.message);
        }
    }
    let ledger = open_ledger(dir, Access::Write)?;
    let receipts = match ledger.import_statements(statements, now()?) {
        Ok(receipts) => receipts,
        Err(LedgerError::Refused(rejection)) => {
            return Err(Failure::invalid(format!("{}; nothing was written", refusal_text(&rejection))))
        }
        Err(err) => return Err(ledger_failure(err)),
    };
    checkpoint(&ledger);
    let report = reconcile(&ledger, options)?;
    let (head_seq, head) = ledger.head();
    match format {
        Format::Json | Format::Csv => print_json(&json!({
            "files": reads.iter().map(|r| json!({
                "file": r.path,
                "format": r.format,
                "statements": r.statements,
                "diagnostics": r.diagnostics,
            })).collect::<Vec<_>>(),
            "imported": receipts,
            "report": summary_json(&report),
            "head": {"seq": head_seq, "hash": head.to_hex()},
        })),
        Format::Table => {
            let mut table = Table::new(
                &["file", "format", "statement", "account", "currency", "lines", "status", "entry"],
                &["lines", "entry"],
            );
            for r in &receipts {
                table.push(receipt_row(r));
            }
            print!("{}", table.render());
            let new = receipts.iter().filter(|r| r.status != ImportOutcome::AlreadyImported).count();
            println!(
                "{} statement(s) read, {new} journaled, {} already imported; head: entry {head_seq}",
                receipts.len(),
                receipts.len() - new
            );
            print_summary(&report);
        }
    }
    Ok(exit::OK)
}

fn receipt_row(r: &ImportReceipt) -> Vec<String> {
    vec![
        r.source.clone(),
        r.format.as_str().to_string(),
        format!("{}{}", r.statement_id, r.sequence.as_ref().map(|s| format!(" #{s}")).unwrap_or_default()),
        r.account.clone().unwrap_or_else(|| format!("unknown ({})", r.account_id)),
        r.currency.clone(),
        r.lines.to_string(),
        r.status.to_string(),
        r.seq.to_string(),
    ]
}

fn summary_json(report: &Report) -> serde_json::Value {
    json!({
        "statements": report.statements,
        "lines": report.lines,
        "matched": report.matched,
        "match_rate": report.match_rate,
        "exceptions": report.exceptions.len(),
        "breaks": report.breaks.len(),
    })
}

fn print_summary(report: &Report) {
    let clean = report.is_clean() && report.matched == report.lines;
    let line = format!(
        "reconciliation: {} statement(s) ({} intraday), {} line(s), {} matched ({}%), {} exception(s), {} break(s)",
        report.statements,
        report.intraday,
        report.lines,
        report.matched,
        report.match_rate,
        report.exceptions.len(),
        report.breaks.len()
    );
    println!("{}", paint(&line, if clean { Paint::Good } else { Paint::Warn }));
}

fn print_report(report: &Report, format: Format) {
    match format {
        Format::Json | Format::Csv => {
            print_json(&serde_json::to_value(report).expect("the report serialises"));
        }
        Format::Table => {
            print_summary(report);
            if !report.exceptions.is_empty() {
                println!("\n{}", paint("exceptions:", Paint::Warn));
                let mut table = Table::new(
                    &["id", "side", "account", "currency", "amount", "date", "reference", "reason", "detail"],
                    &["amount"],
                );
                for ex in &report.exceptions {
                    table.push(vec![
                        ex.id.clone(),
                        ex.side.to_string(),
                        ex.account.clone(),
                        ex.currency.clone(),
                        grouped(&ex.amount),
                        ex.date.map(|d| d.to_string()).unwrap_or_default(),
                        ex.reference.clone(),
                        ex.reason.to_string(),
                        ex.detail.clone(),
                    ]);
                }
                print!("{}", table.render());
            }
            if !report.breaks.is_empty() {
                println!("\n{}", paint("breaks:", Paint::Warn));
                let mut table = Table::new(
                    &["account", "currency", "kind", "expected", "found", "statement", "entry", "date"],
                    &["expected", "found", "entry"],
                );
                for b in &report.breaks {
                    table.push(vec![
                        b.account.clone(),
                        b.currency.clone(),
                        b.kind.to_string(),
                        grouped(&b.expected),
                        grouped(&b.found),
                        b.statement.clone(),
                        b.seq.to_string(),
                        b.date.map(|d| d.to_string()).unwrap_or_default(),
                    ]);
                }
                print!("{}", table.render());
            }
        }
    }
}

/// Thousands separators for a table cell that holds a plain decimal.
fn grouped(text: &str) -> String {
    if text.parse::<rust_decimal::Decimal>().is_ok() {
        cashpool_ledger::money::group_thousands(text)
    } else {
        text.to_string()
    }
}

fn adopt(
    dir: &Path,
    ids: &[String],
    all_charges: bool,
    operator: &str,
    options: ReconOptions,
    format: Format,
) -> Result<u8, Failure> {
    let ledger = open_ledger(dir, Access::Write)?;
    let report = reconcile(&ledger, options)?;
    let open: Vec<&cashpool_recon::Exception> =
        report.exceptions.iter().filter(|ex| ex.reason == "bank_initiated" && ex.proposed.is_some()).collect();
    let mut chosen = Vec::new();
    let mut problems = Vec::new();
    for id in ids {
        let Some(key) = cashpool_recon::recon::parse_line_id(id) else {
            problems.push(format!("{id:?} is not a line id (S<entry>-L<line>, as `cashpool recon report` shows)"));
            continue;
        };
        match open.iter().find(|ex| cashpool_recon::recon::parse_line_id(&ex.id) == Some(key)) {
            Some(ex) => chosen.push(*ex),
            None => match report.exceptions.iter().find(|ex| cashpool_recon::recon::parse_line_id(&ex.id) == Some(key)) {
                Some(ex) => problems.push(format!(
                    "{id}: an open exception, but {} (reason {}), not a bank-initiated line; only charges and bank interest can be adopted",
                    ex.detail, ex.reason
                )),
                None => problems.push(format!("{id}: no open bank-initiated line with this id (already matched or adopted?)")),
            },
        }
    }
    if all_charges {
        for ex in &open {
            let is_fee = ex.proposed.as_ref().is_some_and(|p| p.purpose == cashpool_ledger::model::Purpose::Fee);
            if is_fee && !chosen.iter().any(|c| c.id == ex.id) {
                chosen.push(*ex);
            }
        }
    }
    if !problems.is_empty() {
        return Err(Failure::invalid(format!("{}; nothing was written", problems.join("; "))));
    }
    let requests: Vec<_> = chosen.iter().filter_map(|ex| ex.proposed.clone()).collect();
    let outcome = ledger.adopt(&requests, operator, now()?).map_err(ledger_failure)?;
    checkpoint(&ledger);
    if let Some(first) = outcome.rejected.first() {
        return Err(Failure::invalid(format!(
            "{}: {}; nothing was written",
            first.id,
            serde_json::to_string(&first.rejection).unwrap_or_default()
        )));
    }
    let after = reconcile(&ledger, options)?;
    match format {
        Format::Json | Format::Csv => print_json(&json!({
            "adopted": chosen.iter().zip(&outcome.receipts).map(|(ex, receipt)| json!({
                "line": ex.id,
                "id": receipt.id,
                "account": ex.account,
                "currency": ex.currency,
                "amount": ex.amount,
                "seq": receipt.seq,
            })).collect::<Vec<_>>(),
            "report": summary_json(&after),
        })),
        Format::Table => {
            if chosen.is_empty() {
                println!("nothing to adopt: no open bank charges");
            }
            for (ex, receipt) in chosen.iter().zip(&outcome.receipts) {
                println!(
                    "adopted {} as {}: {} {} {} (entry {})",
                    ex.id,
                    receipt.id,
                    ex.account,
                    ex.currency,
                    grouped(&ex.amount),
                    receipt.seq
                );
            }
            print_summary(&after);
        }
    }
    Ok(exit::OK)
}
