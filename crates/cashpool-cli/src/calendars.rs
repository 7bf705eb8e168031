//! `calendars import` and `calendars`: the business-day calendars (docs/SWEEPS.md, "Business days").

use std::path::Path;

use cashpool_files::calendars::parse_calendars_csv_lines;
use cashpool_files::InputError;
use cashpool_ledger::calendar::check_calendar_id;
use cashpool_ledger::{LedgerError, Rejection};
use chrono::Datelike;
use serde_json::json;

use crate::args::Format;
use crate::commands::{checkpoint, ledger_failure, now, open_ledger, parse_date, read_file, Access};
use crate::output::{print_csv, print_json, Table};
use crate::{exit, Failure};

fn row_errors(file: &Path, errors: &[InputError]) -> Failure {
    let mut lines: Vec<u64> = errors.iter().map(|err| err.line).collect();
    lines.dedup();
    let mut message =
        format!("{}: {} error(s) on {} line(s); nothing was written", file.display(), errors.len(), lines.len());
    for err in errors {
        message.push_str(&format!("\n  {}:{err}", file.display()));
    }
    Failure::invalid(message)
}

/// `cashpool calendars import FILE [--correct]`.
pub fn import(dir: &Path, file: &Path, correct: bool, format: Format) -> Result<u8, Failure> {
    let text = read_file(file)?;
    let (days, lines, errors) = parse_calendars_csv_lines(&text);
    if !errors.is_empty() {
        return Err(row_errors(file, &errors));
    }
    let ledger = open_ledger(dir, Access::Write)?;
    let outcome = match ledger.import_calendars(&days, correct, now()?) {
        Ok(outcome) => outcome,
        Err(LedgerError::Refused(Rejection::CalendarConflict(conflict))) => {
            let line = lines.get(conflict.row).map_or(String::new(), |line| format!(":line {line}"));
            let field = if conflict.held_kind != conflict.given_kind { "kind" } else { "name" };
            return Err(Failure::invalid(format!(
                "{}{line}, field `{field}`: {conflict}; nothing was written. If the market's calendar really \
                 changed (a holiday added, moved or withdrawn by notice), import the file again with --correct: \
                 the change is journaled as a dated correction",
                file.display()
            )));
        }
        Err(err) => return Err(ledger_failure(err)),
    };
    checkpoint(&ledger);
    let (head_seq, head) = ledger.head();
    let unchanged = outcome.rows - outcome.new_days - outcome.changed_days;
    match format {
        Format::Json | Format::Csv => print_json(&json!({
            "file": file.display().to_string(),
            "rows": outcome.rows,
            "imported": outcome.new_days,
            "changed": outcome.changed_days,
            "unchanged": unchanged,
            "correction": correct,
            "head": {"seq": head_seq, "hash": head.to_hex()},
        })),
        Format::Table => {
            let changed =
                if correct { format!(", {} changed (a correction)", outcome.changed_days) } else { String::new() };
            println!(
                "{}: {} calendar days imported{changed}, {unchanged} already held; head: entry {head_seq}",
                file.display(),
                outcome.new_days
            );
        }
    }
    Ok(exit::OK)
}

/// `cashpool calendars [--calendar ID] [--from DATE] [--to DATE]`: the days held.
pub fn list(
    dir: &Path,
    calendar: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    format: Format,
) -> Result<u8, Failure> {
    if let Some(id) = calendar {
        check_calendar_id(id).map_err(|reason| Failure::invalid(format!("--calendar: {reason}")))?;
    }
    let from = from.map(|text| parse_date(text, "--from")).transpose()?;
    let to = to.map(|text| parse_date(text, "--to")).transpose()?;
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(Failure::invalid(format!("--from {from} is after --to {to}")));
        }
    }
    let ledger = open_ledger(dir, Access::Read)?;
    if let Some(id) = calendar {
        let known: Vec<String> = ledger.calendar_days(None, None, None).into_iter().map(|day| day.calendar).collect();
        if !known.iter().any(|known| known == id) {
            let mut ids = known;
            ids.dedup();
            let held = if ids.is_empty() { "none yet".to_string() } else { ids.join(", ") };
            return Err(Failure::invalid(format!(
                "--calendar {id}: no such calendar is imported (held: {held}); import it with `cashpool calendars import FILE`"
            )));
        }
    }
    let days = ledger.calendar_days(calendar, from, to);
    match format {
        Format::Json => print_json(&json!({
            "calendar": calendar,
            "from": from.map(|d| d.to_string()),
            "to": to.map(|d| d.to_string()),
            "days": days.iter().map(|day| json!({
                "calendar": day.calendar,
                "date": day.date.to_string(),
                "weekday": day.date.weekday().to_string(),
                "kind": day.kind.as_str(),
                "name": day.name,
            })).collect::<Vec<_>>(),
        })),
        // The import format: `calendars --format csv` imports again as it is.
        Format::Csv => print_csv(
            &["calendar", "date", "kind", "name"],
            &days
                .iter()
                .map(|day| vec![day.calendar.clone(), day.date.to_string(), day.kind.as_str().into(), day.name.clone()])
                .collect::<Vec<_>>(),
        ),
        Format::Table => {
            if days.is_empty() {
                println!(
                    "no calendar days held{}",
                    if calendar.is_some() || from.is_some() || to.is_some() {
                        " in that range"
                    } else {
                        "; import some with `cashpool calendars import FILE`"
                    }
                );
                return Ok(exit::OK);
            }
            println!("calendar days (Saturdays and Sundays are closed and other days open, unless listed)");
            let mut table = Table::new(&["calendar", "date", "weekday", "kind", "name"], &[]);
            for day in &days {
                table.push(vec![
                    day.calendar.clone(),
                    day.date.to_string(),
                    day.date.weekday().to_string(),
                    day.kind.as_str().into(),
                    day.name.clone(),
                ]);
            }
            print!("{}", table.render());
        }
    }
    Ok(exit::OK)
}
