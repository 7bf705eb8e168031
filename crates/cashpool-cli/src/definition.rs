//! `cashpool amend` and `cashpool accounts`: the group definition over time.

use std::path::Path;

use cashpool_ledger::amendment::{changes, Changes};
use cashpool_ledger::model::AccountKind;
use cashpool_ledger::{LedgerError, Rejection};
use chrono::NaiveDate;
use serde_json::json;

use crate::args::Format;
use crate::commands::{
    checkpoint, ledger_failure, now, open_ledger, parse_date, read_file, refusal_text, today, Access,
};
use crate::output::{print_csv, print_json, Table};
use crate::{exit, Failure};

/// `cashpool amend FILE --effective DATE`.
pub fn amend(dir: &Path, file: &Path, effective: &str, format: Format) -> Result<u8, Failure> {
    let effective = parse_date(effective, "--effective")?;
    let text = read_file(file)?;
    let ledger = open_ledger(dir, Access::Write)?;
    let outcome = match ledger.amend(&text, effective, now()?) {
        Ok(outcome) => outcome,
        Err(LedgerError::Refused(rejection)) => {
            let text = match &rejection {
                Rejection::AmendmentInvalid { field, message } if field == "effective" => {
                    format!("amendment_invalid: --effective {effective}: {message}")
                }
                Rejection::AmendmentInvalid { message, .. } => {
                    let errors: Vec<String> =
                        message.lines().map(|error| format!("\n  {}: {error}", file.display())).collect();
                    format!("amendment_invalid: {} error(s){}", errors.len(), errors.concat())
                }
                other => refusal_text(other),
            };
            return Err(Failure::invalid(format!("{}: {text}\nnothing was written", file.display())));
        }
        Err(err) => return Err(ledger_failure(err)),
    };
    checkpoint(&ledger);
    let versions = ledger.definitions();
    let changed = match versions.as_slice() {
        [.., (_, before), (_, after)] => changes(before, after),
        _ => Changes::default(),
    };
    match format {
        Format::Json | Format::Csv => print_json(&json!({
            "effective": outcome.effective.to_string(),
            "seq": outcome.seq,
            "head": outcome.head.to_hex(),
            "changes": changes_json(&changed),
        })),
        Format::Table => {
            println!(
                "amendment in force from {} recorded; the journal's head is entry {} ({})",
                outcome.effective, outcome.seq, outcome.head
            );
            for line in changes_lines(&changed) {
                println!("  {line}");
            }
        }
    }
    Ok(exit::OK)
}

/// `cashpool accounts [--as-of DATE]`.
pub fn accounts(dir: &Path, as_of: Option<&str>, format: Format) -> Result<u8, Failure> {
    let date = match as_of {
        Some(text) => parse_date(text, "--as-of")?,
        None => today()?,
    };
    let ledger = open_ledger(dir, Access::Read)?;
    let windows = ledger.account_windows();
    let versions = ledger.definitions();
    let rows: Vec<AccountRow> = windows
        .into_iter()
        .map(|(spec, from, until)| AccountRow {
            status: status(date, from, until),
            zone: spec.zone.map(|zone| zone.as_str().to_string()),
            kind: spec.kind,
            currencies: spec.currencies.iter().map(|c| c.code().to_string()).collect(),
            id: spec.id,
            entity: spec.entity,
            from,
            until,
        })
        .collect();
    let history: Vec<(Option<NaiveDate>, Changes)> =
        versions.windows(2).map(|pair| (pair[1].0, changes(&pair[0].1, &pair[1].1))).collect();
    match format {
        Format::Json => print_json(&json!({
            "as_of": date.to_string(),
            "accounts": rows.iter().map(|row| json!({
                "id": row.id,
                "entity": row.entity,
                "zone": row.zone,
                "kind": row.kind.as_str(),
                "currencies": row.currencies,
                "status": row.status,
                "opened": row.from.map(|d| d.to_string()),
                "closed": row.until.map(|d| d.to_string()),
            })).collect::<Vec<_>>(),
            "amendments": history.iter().map(|(effective, changed)| {
                let mut value = changes_json(changed);
                value["effective"] = json!(effective.map(|d| d.to_string()));
                value
            }).collect::<Vec<_>>(),
        })),
        Format::Csv => print_csv(
            &["id", "entity", "zone", "kind", "currencies", "status", "opened", "closed"],
            &rows.iter().map(AccountRow::cells).collect::<Vec<_>>(),
        ),
        Format::Table => {
            println!("accounts on {date}");
            let mut table =
                Table::new(&["id", "entity", "zone", "kind", "currencies", "status", "opened", "closed"], &[]);
            for row in &rows {
                table.push(row.cells());
            }
            print!("{}", table.render());
            if history.is_empty() {
                println!("the definition has not been amended since init");
            }
            for (effective, changed) in &history {
                println!("amendment in force from {}:", effective.map_or("-".to_string(), |d| d.to_string()));
                for line in changes_lines(changed) {
                    println!("  {line}");
                }
            }
        }
    }
    Ok(exit::OK)
}

struct AccountRow {
    id: String,
    entity: String,
    zone: Option<String>,
    kind: AccountKind,
    currencies: Vec<String>,
    status: &'static str,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
}

impl AccountRow {
    fn cells(&self) -> Vec<String> {
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        vec![
            self.id.clone(),
            self.entity.clone(),
            self.zone.clone().unwrap_or_default(),
            self.kind.as_str().to_string(),
            if self.kind == AccountKind::System { "any".into() } else { self.currencies.join(" ") },
            self.status.to_string(),
            date(self.from),
            date(self.until),
        ]
    }
}

/// `open`, `closed` (on or after its closing date; it takes no posting once
/// the closing amendment is journaled, whatever the date) or `not_yet_open`.
fn status(date: NaiveDate, from: Option<NaiveDate>, until: Option<NaiveDate>) -> &'static str {
    if until.is_some_and(|until| date >= until) {
        "closed"
    } else if from.is_some_and(|from| date < from) {
        "not_yet_open"
    } else if until.is_some() {
        "closing"
    } else {
        "open"
    }
}

fn changes_json(changed: &Changes) -> serde_json::Value {
    json!({
        "opened": changed.opened,
        "closed": changed.closed,
        "joined": changed.joined,
        "left": changed.left,
        "changed": changed.changed,
    })
}

fn changes_lines(changed: &Changes) -> Vec<String> {
    let mut lines = Vec::new();
    let mut add = |what: &str, list: &[String]| {
        if !list.is_empty() {
            lines.push(format!("{what}: {}", list.join(", ")));
        }
    };
    add("accounts opened", &changed.opened);
    add("accounts closed", &changed.closed);
    add("entities joined", &changed.joined);
    add("entities left", &changed.left);
    add("changed", &changed.changed);
    lines
}
