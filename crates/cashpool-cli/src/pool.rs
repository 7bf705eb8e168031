//! `rates import`, `limits`, `limits set`, `pool check`.

use std::path::Path;

use cashpool_files::benchmarks::parse_benchmarks_csv_lines;
use cashpool_files::figures::parse_figures_csv;
use cashpool_files::rates::parse_rates_csv_lines;
use cashpool_files::InputError;
use cashpool_ledger::config::GroupConfig;
use cashpool_ledger::eligibility::check_eligibility;
use cashpool_ledger::interest::Bound;
use cashpool_ledger::limits::{LimitsChange, LimitsView, PoolParameters};
use cashpool_ledger::money::{format_amount, format_grouped, parse_decimal};
use cashpool_ledger::netting::NettingError;
use cashpool_ledger::{LedgerError, Rejection};
use rust_decimal::Decimal;
use serde_json::json;

use crate::args::{Format, LimitsCommand};
use crate::commands::{
    advice, checkpoint, ledger_failure, now, open_ledger, parse_date, read_file, refusal_text, today, Access,
};
use crate::output::{print_csv, print_json, Table};
use crate::{exit, Failure};

fn row_errors(file: &Path, errors: &[InputError], writes: bool) -> Failure {
    let mut lines: Vec<u64> = errors.iter().map(|err| err.line).collect();
    lines.dedup();
    let outcome = if writes { "; nothing was written" } else { "" };
    let mut message = format!("{}: {} error(s) on {} line(s){outcome}", file.display(), errors.len(), lines.len());
    for err in errors {
        message.push_str(&format!("\n  {}:{err}", file.display()));
    }
    Failure::invalid(message)
}

/// The reason a netting cycle was refused, as the netting module words it:
/// a planning refusal is its message, a refused settlement names the
/// settlement's transaction and its rejection.
fn netting_reason(rejection: &Rejection) -> String {
    match rejection {
        Rejection::MissingRates { currencies } => {
            let advice = advice(rejection).unwrap_or_default();
            format!("{}; {advice}", NettingError::MissingRates(currencies.clone()))
        }
        Rejection::Invalid { message, .. } => message.clone(),
        Rejection::SettlementRefused { transaction, rejection } => {
            format!("settlement {transaction} was refused: {}; nothing was written", refusal_text(rejection))
        }
        other => format!("{}; nothing was written", refusal_text(other)),
    }
}

pub fn rates_import(dir: &Path, file: &Path, format: Format) -> Result<u8, Failure> {
    let text = read_file(file)?;
    let ledger = open_ledger(dir, Access::Write)?;
    let base = ledger.config().group.base_currency;
    let (rows, lines, errors) = parse_rates_csv_lines(&text, base);
    if !errors.is_empty() {
        let mut failure = row_errors(file, &errors, true);
        let header =
            text.trim_start_matches('\u{feff}').lines().find(|line| !line.trim().is_empty() && !line.starts_with('#'));
        if header.is_some_and(|header| header.trim().starts_with("date,series,")) {
            failure.message.push_str(
                "\n  this is a benchmarks CSV (date,series,rate_percent): import it with `cashpool benchmarks import`",
            );
        }
        return Err(failure);
    }
    let outcome = match ledger.import_rates(&rows, now()?) {
        Ok(outcome) => outcome,
        Err(LedgerError::Refused(Rejection::RateConflict(conflict))) => {
            let line = lines.get(conflict.row).map_or(String::new(), |line| format!(":line {line}"));
            return Err(Failure::invalid(format!("{}{line}: rate: {conflict}; nothing was written", file.display())));
        }
        Err(err) => return Err(ledger_failure(err)),
    };
    checkpoint(&ledger);
    print_import(&ledger, file, outcome.rows, outcome.new_rows, "rates", format);
    Ok(exit::OK)
}

/// What an import of `rows` rows from `file` wrote (`new_rows`, the rest were held already) and the head.
fn print_import(
    ledger: &cashpool_ledger::Ledger,
    file: &Path,
    rows: usize,
    new_rows: usize,
    what: &str,
    format: Format,
) {
    let (head_seq, head) = ledger.head();
    match format {
        Format::Json | Format::Csv => print_json(&json!({
            "file": file.display().to_string(),
            "rows": rows,
            "imported": new_rows,
            "skipped": rows - new_rows,
            "head": {"seq": head_seq, "hash": head.to_hex()},
        })),
        Format::Table => println!(
            "{}: {new_rows} {what} imported, {} already there; head: entry {head_seq}",
            file.display(),
            rows - new_rows
        ),
    }
}

/// `benchmarks import FILE`: the fixings of a benchmarks CSV, journaled once.
pub fn benchmarks_import(dir: &Path, file: &Path, format: Format) -> Result<u8, Failure> {
    let text = read_file(file)?;
    let (rows, lines, errors) = parse_benchmarks_csv_lines(&text);
    if !errors.is_empty() {
        return Err(row_errors(file, &errors, true));
    }
    let ledger = open_ledger(dir, Access::Write)?;
    let outcome = match ledger.import_benchmarks(&rows, now()?) {
        Ok(outcome) => outcome,
        Err(LedgerError::Refused(Rejection::FixingConflict(conflict))) => {
            let line = lines.get(conflict.row).map_or(String::new(), |line| format!(":line {line}"));
            return Err(Failure::invalid(format!(
                "{}{line}: rate_percent: {conflict}; nothing was written",
                file.display()
            )));
        }
        Err(err) => return Err(ledger_failure(err)),
    };
    checkpoint(&ledger);
    print_import(&ledger, file, outcome.rows, outcome.new_rows, "fixings", format);
    Ok(exit::OK)
}

/// What `cashpool benchmarks` lists.
pub struct BenchmarkFilter {
    pub series: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A rate in percent per annum as the outputs show it: at least two decimals (`3.00`, `1.374`).
pub fn percent_text(rate: Decimal) -> String {
    let mut shown = rate.normalize();
    if shown.scale() < 2 {
        shown.rescale(2);
    }
    shown.to_string()
}

/// `benchmarks`: the imported fixings, by series and date.
pub fn benchmarks(dir: &Path, filter: &BenchmarkFilter, format: Format) -> Result<u8, Failure> {
    let from = filter.from.as_deref().map(|text| parse_date(text, "--from")).transpose()?;
    let to = filter.to.as_deref().map(|text| parse_date(text, "--to")).transpose()?;
    let ledger = open_ledger(dir, Access::Read)?;
    if let Some(series) = &filter.series {
        if ledger.benchmarks(Some(series), None, None).is_empty() {
            let mut known: Vec<String> =
                ledger.benchmarks(None, None, None).into_iter().map(|row| row.series).collect();
            known.dedup();
            let known = if known.is_empty() { "none yet".to_string() } else { known.join(", ") };
            return Err(Failure::invalid(format!(
                "--series {series}: no fixing of {series:?} has been imported; the store holds: {known}"
            )));
        }
    }
    let rows = ledger.benchmarks(filter.series.as_deref(), from, to);
    let cells = |row: &cashpool_ledger::benchmarks::BenchmarkRow| {
        vec![row.series.clone(), row.date.to_string(), percent_text(row.rate_percent)]
    };
    match format {
        Format::Json => print_json(&json!({
            "benchmarks": rows.iter().map(|row| json!({
                "series": row.series,
                "date": row.date.to_string(),
                "rate_percent": percent_text(row.rate_percent),
            })).collect::<Vec<_>>(),
        })),
        Format::Csv => print_csv(&["series", "date", "rate_percent"], &rows.iter().map(cells).collect::<Vec<_>>()),
        Format::Table => {
            println!(
                "benchmark fixings, percent per annum ({} rows); each in force from its date to the next",
                rows.len()
            );
            let mut table = Table::new(&["series", "date", "rate_percent"], &["rate_percent"]);
            for row in &rows {
                table.push(cells(row));
            }
            print!("{}", table.render());
        }
    }
    Ok(exit::OK)
}

pub fn limits(dir: &Path, as_of: Option<&str>, format: Format) -> Result<u8, Failure> {
    let as_of = as_of.map(|text| parse_date(text, "--as-of")).transpose()?;
    let ledger = open_ledger(dir, Access::Read)?;
    print_limits(&ledger.limits(as_of), format);
    Ok(exit::OK)
}

/// The `limits` JSON of the contract.
pub fn limits_json(view: &LimitsView) -> serde_json::Value {
    let base = view.base_currency;
    let amount = |value: Decimal| format_amount(value, base);
    let cap = |c: &cashpool_ledger::limits::CapUse| {
        json!({
            "cap": amount(c.cap),
            "used": amount(c.used),
            "headroom": amount(c.headroom),
            "peak": c.peak.map(amount),
            "peak_date": c.peak_date.map(|d| d.to_string()),
        })
    };
    let usd = cashpool_ledger::money::Currency::from_code("USD").expect("USD");
    json!({
        "as_of": view.as_of.map(|d| d.to_string()),
        "base_currency": base.code(),
        "quota_model": view.quota_model,
        "inflow": cap(&view.inflow),
        "outflow": cap(&view.outflow),
        "pool_balances": view.pool_balances.iter().map(|b| json!({
            "counterparty": b.counterparty,
            "currency": b.currency.code(),
            "amount": format_amount(b.amount, b.currency),
            "base": amount(b.base),
        })).collect::<Vec<_>>(),
        "entities": view.entities.iter().map(|e| json!({
            "entity": e.entity,
            "foreign_debt_weighted": amount(e.foreign_debt_weighted),
            "cap": amount(e.cap),
            "headroom": amount(e.headroom),
            "facilitation_quota_usd": e.facilitation_quota_usd.map(|q| format_amount(q, usd)),
            "facilitation_used_usd": e.facilitation_used_usd.map(|q| format_amount(q, usd)),
        })).collect::<Vec<_>>(),
    })
}

fn print_limits(view: &LimitsView, format: Format) {
    let base = view.base_currency;
    match format {
        Format::Json => print_json(&limits_json(view)),
        Format::Csv => {
            let mut rows = vec![
                vec![
                    "pool".into(),
                    "inflow".into(),
                    format_amount(view.inflow.cap, base),
                    format_amount(view.inflow.used, base),
                    format_amount(view.inflow.headroom, base),
                ],
                vec![
                    "pool".into(),
                    "outflow".into(),
                    format_amount(view.outflow.cap, base),
                    format_amount(view.outflow.used, base),
                    format_amount(view.outflow.headroom, base),
                ],
            ];
            for e in &view.entities {
                rows.push(vec![
                    e.entity.clone(),
                    "foreign_debt".into(),
                    format_amount(e.cap, base),
                    format_amount(e.foreign_debt_weighted, base),
                    format_amount(e.headroom, base),
                ]);
            }
            print_csv(&["subject", "limit", "cap", "used", "headroom"], &rows);
        }
        Format::Table => {
            match view.as_of {
                Some(date) => println!("limits as of value date {date} (amounts in {base})"),
                None => println!("limits (all movements, parameters in force now; amounts in {base})"),
            }
            let mut table =
                Table::new(&["pool", "cap", "used", "headroom", "intraday peak"], &["cap", "used", "headroom"]);
            let names = if view.quota_model == "net_position" {
                ["net inflow", "net outflow"]
            } else {
                ["foreign debt (risk-weighted; net inflow cap)", "overseas lending (net outflow cap)"]
            };
            for (name, cap) in names.into_iter().zip([&view.inflow, &view.outflow]) {
                let peak = match (cap.peak, cap.peak_date) {
                    (Some(peak), Some(date)) => format!("{} on {date}", format_grouped(peak, base)),
                    _ => String::new(),
                };
                table.push(vec![
                    name.into(),
                    format_grouped(cap.cap, base),
                    format_grouped(cap.used, base),
                    format_grouped(cap.headroom, base),
                    peak,
                ]);
            }
            print!("{}", table.render());
            println!();
            if !view.pool_balances.is_empty() {
                println!(
                    "pool balances across the border (positive: owed abroad, foreign debt; negative: lent abroad)"
                );
                let mut table = Table::new(&["counterparty", "currency", "amount", "base"], &["amount", "base"]);
                for b in &view.pool_balances {
                    table.push(vec![
                        b.counterparty.clone(),
                        b.currency.code().into(),
                        format_grouped(b.amount, b.currency),
                        format_grouped(b.base, base),
                    ]);
                }
                print!("{}", table.render());
                println!();
            }
            let mut table = Table::new(
                &["entity", "foreign debt (weighted)", "cap", "headroom", "quota USD", "quota used USD"],
                &["foreign debt (weighted)", "cap", "headroom", "quota USD", "quota used USD"],
            );
            let usd = cashpool_ledger::money::Currency::from_code("USD").expect("USD");
            for e in &view.entities {
                table.push(vec![
                    e.entity.clone(),
                    format_grouped(e.foreign_debt_weighted, base),
                    format_grouped(e.cap, base),
                    format_grouped(e.headroom, base),
                    e.facilitation_quota_usd.map(|q| format_grouped(q, usd)).unwrap_or_default(),
                    e.facilitation_used_usd.map(|q| format_grouped(q, usd)).unwrap_or_default(),
                ]);
            }
            print!("{}", table.render());
        }
    }
}

fn decimal_flag(flag: &str, text: &Option<String>) -> Result<Option<Decimal>, Failure> {
    text.as_deref()
        .map(|t| parse_decimal(t).map(|d| d.normalize()).map_err(|err| Failure::invalid(format!("{flag}: {err}"))))
        .transpose()
}

pub fn limits_set(dir: &Path, command: LimitsCommand) -> Result<u8, Failure> {
    let LimitsCommand::Set {
        effective,
        owners_equity,
        inflow_leverage,
        inflow_parameter,
        outflow_coefficient,
        macro_prudential,
        format,
    } = command;
    let effective = parse_date(&effective, "--effective")?;
    let pool_flags = [
        ("--owners-equity", decimal_flag("--owners-equity", &owners_equity)?),
        ("--inflow-leverage", decimal_flag("--inflow-leverage", &inflow_leverage)?),
        ("--inflow-parameter", decimal_flag("--inflow-parameter", &inflow_parameter)?),
        ("--outflow-coefficient", decimal_flag("--outflow-coefficient", &outflow_coefficient)?),
    ];
    let given: Vec<&str> = pool_flags.iter().filter(|(_, v)| v.is_some()).map(|(f, _)| *f).collect();
    let missing: Vec<&str> = pool_flags.iter().filter(|(_, v)| v.is_none()).map(|(f, _)| *f).collect();
    let macro_prudential = decimal_flag("--macro-prudential", &macro_prudential)?;
    if !given.is_empty() && !missing.is_empty() {
        return Err(Failure::invalid(format!(
            "a pool limits row needs all four parameters; missing {} (given {})",
            missing.join(", "),
            given.join(", ")
        )));
    }
    if given.is_empty() && macro_prudential.is_none() {
        return Err(Failure::invalid(
            "nothing to set: give the pool's four parameters (--owners-equity --inflow-leverage --inflow-parameter --outflow-coefficient) and/or --macro-prudential",
        ));
    }
    let value = |idx: usize| pool_flags[idx].1.unwrap_or_default();
    let pool = if given.is_empty() {
        None
    } else {
        Some(PoolParameters {
            effective,
            owners_equity: value(0),
            inflow_leverage: value(1),
            inflow_parameter: value(2),
            outflow_coefficient: value(3),
        })
    };
    let ledger = open_ledger(dir, Access::Write)?;
    let change = LimitsChange { effective, pool, macro_prudential };
    match ledger.set_limits(change, now()?) {
        Ok(receipt) => {
            checkpoint(&ledger);
            let format = crate::output::resolve(format.format);
            match format {
                Format::Json | Format::Csv => print_json(
                    &json!({"effective": effective.to_string(), "seq": receipt.seq, "head": receipt.head.to_hex()}),
                ),
                Format::Table => println!(
                    "parameters in force from {effective} recorded as entry {} ({})",
                    receipt.seq, receipt.head
                ),
            }
            Ok(exit::OK)
        }
        Err(LedgerError::Refused(rejection)) => {
            Err(Failure::invalid(format!("limits set: {}; nothing was written", refusal_text(&rejection))))
        }
        Err(err) => Err(ledger_failure(err)),
    }
}

/// Groups thousands in a cell that is a plain decimal amount (tables only).
fn group_if_amount(cell: &str) -> String {
    if parse_decimal(cell).is_ok() && cell.contains('.') {
        cashpool_ledger::money::group_thousands(cell)
    } else {
        cell.to_string()
    }
}

/// The headline of `pool check`'s table: ELIGIBLE, NOT ELIGIBLE (a criterion
/// checked and not met), or NOT CONFIRMED (every criterion checked is met, but
/// the figures could not show some: a figures file without the `member_type`
/// or `trade_rating` column).
fn verdict(report: &cashpool_ledger::eligibility::EligibilityReport) -> String {
    let failed = report.failed().count();
    let not_checked = report.not_checked().count();
    let criteria = |n: usize| if n == 1 { "1 criterion".to_string() } else { format!("{n} criteria") };
    match (report.eligible, failed, not_checked) {
        (true, _, _) => "ELIGIBLE".into(),
        (false, 0, 0) => "NOT ELIGIBLE".into(),
        (false, 0, _) => format!(
            "NOT CONFIRMED: {} not checked (the figures file lacks a column; see `not checked` below)",
            criteria(not_checked)
        ),
        (false, _, 0) => "NOT ELIGIBLE".into(),
        (false, _, _) => format!("NOT ELIGIBLE ({} not checked as well)", criteria(not_checked)),
    }
}

pub fn pool_check(dir: &Path, figures: &Path, as_of: Option<&str>, format: Format) -> Result<u8, Failure> {
    let as_of = match as_of {
        Some(text) => parse_date(text, "--as-of")?,
        None => today()?,
    };
    let text = read_file(figures)?;
    let ledger = open_ledger(dir, Access::Read)?;
    let config = ledger.config();
    let (rows, errors) = parse_figures_csv(&text, config.group.base_currency);
    if !errors.is_empty() {
        return Err(row_errors(figures, &errors, false));
    }
    let report = check_eligibility(&config, &rows, as_of);
    match format {
        Format::Json => {
            print_json(&json!({"as_of": as_of.to_string(), "eligible": report.eligible, "criteria": report.criteria}))
        }
        Format::Csv => print_csv(
            &["entity", "criterion", "threshold", "actual", "met", "checked"],
            &report
                .criteria
                .iter()
                .map(|c| {
                    vec![
                        c.entity.clone().unwrap_or_default(),
                        c.criterion.clone(),
                        c.threshold.clone(),
                        c.actual.clone(),
                        c.met.to_string(),
                        c.checked.to_string(),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
        Format::Table => {
            println!("pool eligibility as of {as_of}: {}", verdict(&report));
            let mut table = Table::new(&["entity", "criterion", "threshold", "actual", "met"], &[]);
            for c in &report.criteria {
                table.push(vec![
                    c.entity.clone().unwrap_or_else(|| "(pool)".into()),
                    c.criterion.clone(),
                    group_if_amount(&c.threshold),
                    group_if_amount(&c.actual),
                    match (c.checked, c.met) {
                        (false, _) => "not checked".into(),
                        (true, true) => "yes".into(),
                        (true, false) => "NO".into(),
                    },
                ]);
            }
            print!("{}", table.render());
        }
    }
    // Not eligible is an answer, not an error: the report says which criteria fail.
    Ok(exit::OK)
}

/// The `sweep` JSON of the contract, plus `skipped`, `already_run` and `dry_run`.
pub fn sweep_json(outcome: &cashpool_ledger::SweepOutcome) -> serde_json::Value {
    let run = &outcome.run;
    json!({
        "date": run.date.to_string(),
        "sweeps": run.sweeps.iter().map(|line| json!({
            "account": line.account,
            "currency": line.currency.code(),
            "amount": format_amount(line.amount, line.currency),
            "direction": line.direction,
            "into": line.into,
            "reference": line.reference,
            "capped": line.capped,
        })).collect::<Vec<_>>(),
        "skipped": run.skipped.iter().map(|skip| json!({
            "account": skip.account,
            "currency": skip.currency.code(),
            "direction": skip.direction,
            "wanted": format_amount(skip.wanted, skip.currency),
            "reason": skip.reason,
            "capped": skip.capped,
        })).collect::<Vec<_>>(),
        "already_run": outcome.already_run,
        "dry_run": outcome.dry_run,
        "calendars_missing": outcome.calendars_missing,
    })
}

pub fn sweep(dir: &Path, date: &str, dry_run: bool, format: Format) -> Result<u8, Failure> {
    let date = parse_date(date, "--date")?;
    // A dry run is a reading: it plans on the journal as it stands and writes nothing.
    let ledger = open_ledger(dir, if dry_run { Access::Read } else { Access::Write })?;
    let outcome = match ledger.sweep(date, dry_run, now()?) {
        Ok(outcome) => outcome,
        // The state moved under the plan: nothing was written, the journal is sound.
        Err(LedgerError::Refused(rejection)) => {
            return Err(Failure::invalid(format!(
                "sweep {date}: {}; nothing was written; run the sweep again",
                refusal_text(&rejection)
            )))
        }
        Err(err) => return Err(ledger_failure(err)),
    };
    if !dry_run {
        checkpoint(&ledger);
    }
    match format {
        Format::Json => print_json(&sweep_json(&outcome)),
        Format::Csv => print_csv(
            &["account", "currency", "amount", "direction", "into", "reference", "capped"],
            &outcome
                .run
                .sweeps
                .iter()
                .map(|l| {
                    vec![
                        l.account.clone(),
                        l.currency.code().into(),
                        format_amount(l.amount, l.currency),
                        format!("{:?}", l.direction).to_lowercase(),
                        l.into.clone(),
                        l.reference.clone(),
                        l.capped.to_string(),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
        Format::Table => {
            let what = if outcome.dry_run && !outcome.already_run {
                "dry run: nothing written"
            } else if outcome.already_run {
                "already swept: nothing posted, the first run's report"
            } else {
                "posted"
            };
            println!("sweep for value date {date} ({what})");
            let mut table =
                Table::new(&["account", "currency", "direction", "amount", "into", "reference", "capped"], &["amount"]);
            for l in &outcome.run.sweeps {
                table.push(vec![
                    l.account.clone(),
                    l.currency.code().into(),
                    format!("{:?}", l.direction).to_lowercase(),
                    format_grouped(l.amount, l.currency),
                    l.into.clone(),
                    l.reference.clone(),
                    if l.capped { "capped".into() } else { String::new() },
                ]);
            }
            print!("{}", table.render());
            for skip in &outcome.run.skipped {
                println!(
                    "  skipped {} {} {:?} {}: {}",
                    skip.account,
                    skip.currency,
                    skip.direction,
                    format_grouped(skip.wanted, skip.currency),
                    skip.reason
                );
            }
            if !outcome.calendars_missing.is_empty() {
                println!(
                    "  note: calendar(s) {} hold no day of {}: their holidays are not known, so only their \
                     weekends were kept; import them with `cashpool calendars import FILE`",
                    outcome.calendars_missing.join(", "),
                    date.format("%Y")
                );
            }
        }
    }
    Ok(exit::OK)
}

pub fn positions(dir: &Path, as_of: Option<&str>, format: Format) -> Result<u8, Failure> {
    let as_of = as_of.map(|text| parse_date(text, "--as-of")).transpose()?;
    // The day's rates: those of the value date asked for, else today's.
    let rates_as_of = match as_of {
        Some(date) => date,
        None => today()?,
    };
    let ledger = open_ledger(dir, Access::Read)?;
    let rows = ledger.positions(as_of);
    let totals = ledger.position_totals_in_base(as_of, rates_as_of).map_err(ledger_failure)?;
    match format {
        Format::Json => print_json(&json!({
            "as_of": as_of.map(|d| d.to_string()),
            "positions": rows.iter().map(|r| json!({
                "entity": r.entity, "currency": r.currency.code(), "position": format_amount(r.position, r.currency),
            })).collect::<Vec<_>>(),
            "totals": crate::totals::lines_json(&totals),
            "base_total": crate::totals::base_total_json(&totals),
        })),
        Format::Csv => {
            print_csv(
                &["entity", "currency", "position"],
                &rows
                    .iter()
                    .map(|r| vec![r.entity.clone(), r.currency.code().into(), format_amount(r.position, r.currency)])
                    .collect::<Vec<_>>(),
            );
            print!("{}", crate::totals::csv_text(&totals));
        }
        Format::Table => {
            match as_of {
                Some(date) => {
                    println!("intercompany positions as of value date {date} (positive: the member lent to the pool)")
                }
                None => println!("intercompany positions (positive: the member lent to the pool)"),
            }
            let mut table = Table::new(&["entity", "currency", "position"], &["position"]);
            for r in &rows {
                table.push(vec![r.entity.clone(), r.currency.code().into(), format_grouped(r.position, r.currency)]);
            }
            print!("{}", table.render());
            println!();
            print!("{}", crate::totals::table_text(&totals, crate::totals::POSITIONS_SCOPE));
        }
    }
    Ok(exit::OK)
}

/// The `interest` JSON of the contract, plus `settled` and `already_settled`, and per accrual
/// the taxes of `withholding_tax` one by one: `income_tax`, `vat`, `surcharges` (the three on the
/// VAT together) and each surcharge (`urban_maintenance_tax`, `education_surcharge`,
/// `local_education_surcharge`).
pub fn interest_json(outcome: &cashpool_ledger::InterestOutcome, config: &GroupConfig) -> serde_json::Value {
    let run = &outcome.run;
    json!({
        "from": run.from.to_string(),
        "to": run.to.to_string(),
        "accruals": run.accruals.iter().map(|a| {
            let amount = |value: Decimal| format_amount(value, a.currency);
            json!({
                "entity": a.entity,
                "currency": a.currency.code(),
                "interest": amount(a.interest),
                "withholding_tax": amount(a.withholding_tax),
                "net": amount(a.net),
                "income_tax": amount(a.taxes.income_tax),
                "vat": amount(a.taxes.vat),
                "surcharges": amount(a.taxes.surcharges()),
                "urban_maintenance_tax": amount(a.taxes.urban_maintenance_tax),
                "education_surcharge": amount(a.taxes.education_surcharge),
                "local_education_surcharge": amount(a.taxes.local_education_surcharge),
            })
        }).collect::<Vec<_>>(),
        "settled": outcome.settled,
        "already_settled": outcome.already_settled,
        "rates": rates_json(outcome, config),
    })
}

/// The `rates` of the `interest` JSON: per accrual, the periods of the rates applied (percent per
/// annum), each with its `[[interest]]` row and, for a benchmark row, the fixing, the margins,
/// floors and caps (docs/SWEEPS.md, "What `interest` shows").
fn rates_json(outcome: &cashpool_ledger::InterestOutcome, config: &GroupConfig) -> serde_json::Value {
    let opt = |rate: Option<Decimal>| rate.map(percent_text);
    let periods = |applied: &cashpool_ledger::interest::AppliedRates| -> Vec<serde_json::Value> {
        applied
            .periods
            .iter()
            .map(|period| {
                let row = config.interest.get(period.rule);
                let terms = row.and_then(|row| row.benchmark.as_ref());
                json!({
                    "from": period.start.to_string(),
                    "to": period.end.to_string(),
                    "rule": format!("interest[{}]", period.rule),
                    "rule_entity": row.and_then(|row| row.entity.clone()),
                    "rule_effective": row.and_then(|row| row.effective).map(|date| date.to_string()),
                    "day_count": period.day_count.to_string(),
                    "basis": if terms.is_some() { "benchmark" } else { "fixed" },
                    "series": period.fixing.as_ref().map(|fixing| fixing.series.clone()),
                    "fixing_date": period.fixing.as_ref().map(|fixing| fixing.date.to_string()),
                    "fixing": period.fixing.as_ref().map(|fixing| percent_text(fixing.rate_percent)),
                    "credit_margin": terms.and(row.map(|row| percent_text(row.credit_rate))),
                    "debit_margin": terms.and(row.map(|row| percent_text(row.debit_rate))),
                    "fixing_floored": period.fixing.as_ref().map(|fixing| fixing.floored),
                    "benchmark_floor": opt(terms.and_then(|terms| terms.benchmark_floor)),
                    "credit_floor": opt(terms.and_then(|terms| terms.credit_floor)),
                    "debit_floor": opt(terms.and_then(|terms| terms.debit_floor)),
                    "credit_cap": opt(terms.and_then(|terms| terms.credit_cap)),
                    "debit_cap": opt(terms.and_then(|terms| terms.debit_cap)),
                    "credit_rate": percent_text(period.credit_rate),
                    "debit_rate": percent_text(period.debit_rate),
                    "credit_bound": period.credit_bound,
                    "debit_bound": period.debit_bound,
                    "tiers": period.tiers.iter().map(|tier| json!({
                        "from": tier.from.to_string(),
                        "credit_rate": percent_text(tier.credit_rate),
                        "debit_rate": percent_text(tier.debit_rate),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect()
    };
    outcome
        .rates
        .iter()
        .map(|applied| {
            json!({
                "entity": applied.entity,
                "currency": applied.currency.code(),
                "periods": periods(applied),
            })
        })
        .collect()
}

/// One side's rate of a period as the table shows it: the rate of a fixed row; for a benchmark
/// row the margin and the rate, and the floor or cap when one set it (`+0.50 = 4.63`, `-2.00 → 0.00 floor`).
fn rate_cell(rate: Decimal, margin: Option<Decimal>, bound: Option<Bound>) -> String {
    let Some(margin) = margin else { return percent_text(rate) };
    let sign = if margin.is_sign_negative() { "" } else { "+" };
    match bound {
        None => format!("{sign}{} = {}", percent_text(margin), percent_text(rate)),
        Some(Bound::Floor) => format!("{sign}{} → {} floor", percent_text(margin), percent_text(rate)),
        Some(Bound::Cap) => format!("{sign}{} → {} cap", percent_text(margin), percent_text(rate)),
    }
}

/// The benchmark terms of a row, if it is a benchmark row.
fn terms_of(row: Option<&cashpool_ledger::config::InterestRule>) -> Option<&cashpool_ledger::config::BenchmarkTerms> {
    row.and_then(|row| row.benchmark.as_ref())
}

/// The rates-applied table under the `interest` table.
fn rates_table(outcome: &cashpool_ledger::InterestOutcome, config: &GroupConfig) -> Table {
    let header = ["entity", "currency", "from", "to", "row", "basis", "credit", "debit", "tiers"];
    let mut table = Table::new(&header, &[]);
    for applied in &outcome.rates {
        for period in &applied.periods {
            let row = config.interest.get(period.rule);
            let benchmark = row.and_then(|row| row.benchmark.as_ref()).is_some();
            let margins = if benchmark { row.map(|row| (row.credit_rate, row.debit_rate)) } else { None };
            let basis = match &period.fixing {
                None => "fixed".to_string(),
                Some(fixing) => {
                    let floor = terms_of(row).and_then(|terms| terms.benchmark_floor).filter(|_| fixing.floored);
                    let floored = floor.map_or(String::new(), |floor| format!(" → {} floor", percent_text(floor)));
                    format!("{} {} of {}{floored}", fixing.series, percent_text(fixing.rate_percent), fixing.date)
                }
            };
            let tiers: Vec<String> = period
                .tiers
                .iter()
                .map(|tier| {
                    format!(
                        "from {}: {}/{}",
                        format_grouped(tier.from, applied.currency),
                        percent_text(tier.credit_rate),
                        percent_text(tier.debit_rate)
                    )
                })
                .collect();
            table.push(vec![
                applied.entity.clone(),
                applied.currency.code().to_string(),
                period.start.to_string(),
                period.end.to_string(),
                format!("interest[{}]", period.rule),
                basis,
                rate_cell(period.credit_rate, margins.map(|m| m.0), period.credit_bound),
                rate_cell(period.debit_rate, margins.map(|m| m.1), period.debit_bound),
                tiers.join("; "),
            ]);
        }
    }
    table
}

/// The CSV columns of `interest`: the contract's, then the taxes of `withholding_tax`.
const INTEREST_CSV: [&str; 11] = [
    "entity",
    "currency",
    "interest",
    "withholding_tax",
    "net",
    "income_tax",
    "vat",
    "surcharges",
    "urban_maintenance_tax",
    "education_surcharge",
    "local_education_surcharge",
];

pub fn interest(dir: &Path, from: &str, to: &str, settle: bool, format: Format) -> Result<u8, Failure> {
    let from = parse_date(from, "--from")?;
    let to = parse_date(to, "--to")?;
    // Accrual alone is a reading; settling writes.
    let ledger = open_ledger(dir, if settle { Access::Write } else { Access::Read })?;
    let outcome = match ledger.interest(from, to, settle, now()?) {
        Ok(outcome) => outcome,
        Err(LedgerError::Refused(rejection)) => {
            return Err(Failure::invalid(format!("interest: {}; nothing was written", refusal_text(&rejection))))
        }
        Err(err) => return Err(ledger_failure(err)),
    };
    if settle {
        checkpoint(&ledger);
    }
    match format {
        Format::Json => print_json(&interest_json(&outcome, &ledger.config())),
        Format::Csv => print_csv(
            &INTEREST_CSV,
            &outcome
                .run
                .accruals
                .iter()
                .map(|a| {
                    let taxes = &a.taxes;
                    let mut row = vec![a.entity.clone(), a.currency.code().into()];
                    row.extend(
                        [
                            a.interest,
                            a.withholding_tax,
                            a.net,
                            taxes.income_tax,
                            taxes.vat,
                            taxes.surcharges(),
                            taxes.urban_maintenance_tax,
                            taxes.education_surcharge,
                            taxes.local_education_surcharge,
                        ]
                        .map(|amount| format_amount(amount, a.currency)),
                    );
                    row
                })
                .collect::<Vec<_>>(),
        ),
        Format::Table => {
            let what = match (outcome.settled, outcome.already_settled) {
                (_, true) => "settled before: nothing posted",
                (true, false) => "settled",
                (false, _) => "accrued, not posted: add --settle to post",
            };
            println!("intercompany interest [{from}, {to}) ({what}); positive: the pool pays the member");
            let amounts = ["interest", "income_tax", "vat", "surcharges", "withholding_tax", "net"];
            let mut header = vec!["entity", "currency"];
            header.extend(amounts);
            let mut table = Table::new(&header, &amounts);
            for a in &outcome.run.accruals {
                let mut row = vec![a.entity.clone(), a.currency.code().into()];
                row.extend(
                    [a.interest, a.taxes.income_tax, a.taxes.vat, a.taxes.surcharges(), a.withholding_tax, a.net]
                        .map(|amount| format_grouped(amount, a.currency)),
                );
                table.push(row);
            }
            print!("{}", table.render());
            if !outcome.rates.is_empty() {
                println!();
                println!(
                    "rates applied, percent per annum (to: exclusive); a benchmark row shows each side's margin and its rate: fixing + margin, held to the row's floors and caps"
                );
                print!("{}", rates_table(&outcome, &ledger.config()).render());
            }
        }
    }
    Ok(exit::OK)
}

/// The `net` JSON of the contract, plus `gross`, `invoices_netted`, `rates`, `mode` and `already_run`.
pub fn net_json(outcome: &cashpool_ledger::NettingOutcome) -> serde_json::Value {
    let result = &outcome.run.result;
    let ccy = result.currency;
    json!({
        "cycle": result.cycle,
        "date": result.date.to_string(),
        "currency": ccy.code(),
        "mode": outcome.run.mode,
        "positions": result.positions.iter().map(|p| json!({"entity": p.entity, "net": format_amount(p.net, ccy)})).collect::<Vec<_>>(),
        "settlements": result.settlements.iter().map(|s| json!({
            "from": s.from, "to": s.to, "currency": ccy.code(), "amount": format_amount(s.amount, ccy),
        })).collect::<Vec<_>>(),
        "excluded": result.excluded.iter().map(|e| json!({"invoice": e.invoice, "reason": e.reason})).collect::<Vec<_>>(),
        "gross": format_amount(result.gross, ccy),
        "invoices_netted": result.invoices_netted,
        "rates": outcome.run.rates.iter().map(|(c, r)| json!({"currency": c.code(), "rate": r})).collect::<Vec<_>>(),
        "already_run": outcome.already_run,
    })
}

/// The cycle date and the optional start of the netting window, as given.
pub struct NetWindow {
    pub date: String,
    pub from: Option<String>,
}

pub fn net(
    dir: &Path,
    file: &Path,
    window: &NetWindow,
    mode: crate::args::NetMode,
    cycle: Option<String>,
    format: Format,
) -> Result<u8, Failure> {
    use cashpool_files::invoices::parse_invoices_csv;
    use cashpool_ledger::netting::Mode;
    let date = parse_date(&window.date, "--date")?;
    let window_from = window.from.as_deref().map(|text| parse_date(text, "--window-from")).transpose()?;
    let cycle = cycle.unwrap_or_else(|| date.to_string());
    let text = read_file(file)?;
    let (invoices, errors) = parse_invoices_csv(&text);
    if !errors.is_empty() {
        return Err(row_errors(file, &errors, true));
    }
    let mode = match mode {
        crate::args::NetMode::Centre => Mode::Centre,
        crate::args::NetMode::Direct => Mode::Direct,
    };
    let ledger = open_ledger(dir, Access::Write)?;
    let outcome = match ledger.net(&cycle, date, &invoices, mode, window_from, now()?) {
        Ok(outcome) => outcome,
        Err(LedgerError::Refused(rejection)) => {
            let reason = netting_reason(&rejection);
            return Err(Failure::invalid(format!("{}: netting cycle {cycle}: {reason}", file.display())));
        }
        Err(err) => return Err(ledger_failure(err)),
    };
    checkpoint(&ledger);
    match format {
        Format::Json => print_json(&net_json(&outcome)),
        Format::Csv => print_csv(
            &["from", "to", "currency", "amount"],
            &outcome
                .run
                .result
                .settlements
                .iter()
                .map(|s| {
                    vec![
                        s.from.clone(),
                        s.to.clone(),
                        outcome.run.result.currency.code().into(),
                        format_amount(s.amount, outcome.run.result.currency),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
        Format::Table => {
            let result = &outcome.run.result;
            let ccy = result.currency;
            let what = if outcome.already_run { "posted before: nothing written" } else { "posted" };
            println!("netting cycle {} on {} in {ccy} ({what})", result.cycle, result.date);
            println!(
                "{} invoices netted, gross {}; {} settlement(s) instead of {} payments; {} excluded",
                result.invoices_netted,
                format_grouped(result.gross, ccy),
                result.settlements.len(),
                result.invoices_netted,
                result.excluded.len()
            );
            let mut table = Table::new(&["entity", "net"], &["net"]);
            for p in &result.positions {
                table.push(vec![p.entity.clone(), format_grouped(p.net, ccy)]);
            }
            print!("{}", table.render());
            let mut table = Table::new(&["from", "to", "amount"], &["amount"]);
            for s in &result.settlements {
                table.push(vec![s.from.clone(), s.to.clone(), format_grouped(s.amount, ccy)]);
            }
            print!("{}", table.render());
            for e in &result.excluded {
                println!("  excluded {}: {}", e.invoice, e.reason);
            }
        }
    }
    Ok(exit::OK)
}
