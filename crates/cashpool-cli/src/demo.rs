//! `cashpool demo`: a fresh store, the seeded month of the bundled example
//! group (the workload is `cashpool_sim::demo`), a summary.

use std::path::{Path, PathBuf};

use cashpool_ledger::audit;
use cashpool_ledger::money::{format_amount, format_grouped, group_thousands};
use cashpool_ledger::storage::SledStorage;
use cashpool_sim::SimError;
use rust_decimal::Decimal;
use serde_json::json;

use crate::args::Format;
use crate::commands::ledger_failure;
use crate::output::{paint, print_json, Paint, Table};
use crate::{exit, Failure};

/// A workload's failure as the command's: the ledger's as every command maps
/// it, the environment's exit 1, the workload's own work refused exit 3.
pub fn sim_failure(err: SimError) -> Failure {
    match err {
        SimError::Ledger(err) => ledger_failure(err),
        SimError::Environment(message) => Failure::environment(message),
        SimError::Integrity(message) => Failure::integrity(message),
        other => Failure::integrity(other.to_string()),
    }
}

/// A fresh folder for the demo's store.
fn fresh_dir(given: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(dir) = given {
        if SledStorage::exists(dir) {
            return Err(Failure::invalid(format!(
                "{} already holds a store; the demo needs a fresh one",
                dir.display()
            )));
        }
        return Ok(dir.to_path_buf());
    }
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    Ok(std::env::temp_dir().join(format!("cashpool-demo-{}-{nanos}", std::process::id())))
}

pub fn run(data: Option<&Path>, n_days: u32, seed: u64, format: Format) -> Result<u8, Failure> {
    if n_days == 0 {
        return Err(Failure::invalid("--days must be at least 1"));
    }
    let dir = fresh_dir(data)?;
    let storage = crate::commands::take_store(&dir)?;
    let bar = crate::output::progress(u64::from(n_days), "demo days");
    let (ledger, run) = cashpool_sim::demo::simulate(Box::new(storage), &dir, n_days, seed, &mut |day| {
        bar.set_message(format!("{}  {} transactions, {} statements", day.date, day.transactions, day.statements));
        bar.inc(1);
    })
    .map_err(sim_failure)?;
    bar.finish_and_clear();
    // The next command opens from the state at the head (docs/STORAGE.md).
    crate::commands::checkpoint(&ledger);
    let verify = audit::verify_storage(ledger.storage()).map_err(|err| Failure::environment(err.to_string()))?;
    let replay = audit::replay_storage(ledger.storage(), None).map_err(|err| Failure::integrity(err.to_string()))?;
    let digest_matches = replay.state_digest == ledger.state_digest();
    let own: std::collections::HashSet<String> =
        ledger.accounts().into_iter().filter(|spec| spec.kind.is_own()).map(|spec| spec.id).collect();
    let rows: Vec<_> = ledger
        .balances(None, None, None)
        .map_err(ledger_failure)?
        .into_iter()
        .filter(|row| own.contains(&row.account))
        .collect();
    // The group's total liquidity in the base currency, at the rates of the demo's last business day.
    let last_day = match run.days.last() {
        Some(day) => *day,
        None => crate::commands::today()?,
    };
    let liquidity = ledger.balance_totals_in_base(None, None, None, last_day).map_err(ledger_failure)?;
    let (_, head) = ledger.head();
    let limits = ledger.limits(None);
    let positions = ledger.positions(None);
    let ok = verify.ok && replay.matches_store == Some(true) && digest_matches;
    let data_flag = format!("--data {}", dir.display());
    match format {
        Format::Json | Format::Csv => print_json(&json!({
            "store": dir.display().to_string(),
            "seed": seed,
            "days": run.days.len(),
            "from": run.days.first().map(|d| d.to_string()),
            "to": run.days.last().map(|d| d.to_string()),
            "transactions": run.transactions,
            "activity": run.activity,
            "balances": rows.iter().map(|r| json!({"account": r.account, "currency": r.currency.code(), "balance": format_amount(r.balance, r.currency)})).collect::<Vec<_>>(),
            "liquidity": {
                "totals": crate::totals::lines_json(&liquidity),
                "base_total": crate::totals::base_total_json(&liquidity),
            },
            "limits": crate::pool::limits_json(&limits),
            "sweeps": {"posted": run.sweeps, "capped": run.sweeps_capped, "held_over": run.sweeps_held_over},
            "calendars": {
                "days_imported": run.calendar_days,
                "holidays": run.holidays.iter().map(|(date, calendar, name)| json!({"date": date.to_string(), "calendar": calendar, "name": name})).collect::<Vec<_>>(),
            },
            "positions": positions.iter().map(|r| json!({"entity": r.entity, "currency": r.currency.code(), "position": format_amount(r.position, r.currency)})).collect::<Vec<_>>(),
            "interest": run.interest.as_ref().map(|interest| crate::pool::interest_json(interest, &ledger.config())),
            "netting": run.netting.as_ref().map(crate::pool::net_json),
            "reconciliation": run.recon.as_ref().map(|r| json!({
                "statement_files": run.bank.files,
                "mt940": run.bank.mt940,
                "camt053": run.bank.camt053,
                "statements": r.statements,
                "lines": r.lines,
                "matched": r.matched,
                "match_rate": r.match_rate,
                "charges_booked": run.bank.charges,
                "charges_adopted": run.bank.adopted,
                "exceptions": r.exceptions,
                "breaks": r.breaks,
            })),
            "refused": run.refused.iter().map(|r| json!({"id": r.id, "reason": r.reason, "message": r.message})).collect::<Vec<_>>(),
            "audit": {"ok": verify.ok, "entries": verify.entries, "head": verify.head.to_hex()},
            "replay": {"entries": replay.entries, "state_digest": replay.state_digest.to_string(), "matches_store": replay.matches_store, "matches_live_state": digest_matches},
        })),
        Format::Table => {
            println!(
                "cashpool demo: Lingang Technology Group, {} business days from {} to {} (seed {seed})",
                run.days.len(),
                run.days.first().map(|d| d.to_string()).unwrap_or_default(),
                run.days.last().map(|d| d.to_string()).unwrap_or_default()
            );
            println!("store: {}", dir.display());
            println!(
                "posted {} transactions in all (as the report and `audit export` count them): {} customer receipts, supplier payments, FX deals and fundings of the day across all members, {} sweeps, and {} month-end pre-fundings, netting settlements, interest settlements and adopted bank charges",
                group_thousands(&run.transactions.to_string()),
                group_thousands(&run.activity.to_string()),
                run.sweeps,
                (run.transactions as usize).saturating_sub(run.activity + run.sweeps)
            );
            println!();
            let mut table = Table::new(&["account", "currency", "balance"], &["balance"]);
            for row in &rows {
                table.push(vec![
                    row.account.clone(),
                    row.currency.code().into(),
                    format_grouped(row.balance, row.currency),
                ]);
            }
            print!("{}", table.render());
            println!();
            println!("the group's total liquidity:");
            print!("{}", crate::totals::table_text(&liquidity, crate::totals::BALANCES_SCOPE));
            println!();
            let base = limits.base_currency;
            if limits.quota_model == "net_position" {
                println!(
                    "pool cross-border position ({base}): net outflow {} of a {} cap, headroom {}; net inflow {} of {}",
                    format_grouped(limits.outflow.used, base),
                    format_grouped(limits.outflow.cap, base),
                    format_grouped(limits.outflow.headroom, base),
                    format_grouped(limits.inflow.used, base),
                    format_grouped(limits.inflow.cap, base),
                );
            } else {
                let peak = |cap: &cashpool_ledger::limits::CapUse| match (cap.peak, cap.peak_date) {
                    (Some(peak), Some(date)) => format!(" (intraday peak {} on {date})", format_grouped(peak, base)),
                    _ => String::new(),
                };
                println!(
                    "pool quotas at the end ({base}): overseas lending {} of {}, headroom {}{}; foreign debt (risk-weighted) {} of {}, headroom {}{}",
                    format_grouped(limits.outflow.used, base),
                    format_grouped(limits.outflow.cap, base),
                    format_grouped(limits.outflow.headroom, base),
                    peak(&limits.outflow),
                    format_grouped(limits.inflow.used, base),
                    format_grouped(limits.inflow.cap, base),
                    format_grouped(limits.inflow.headroom, base),
                    peak(&limits.inflow),
                );
            }
            for refusal in &run.refused {
                println!("{}", paint(&format!("refused on purpose: {}: {}", refusal.id, refusal.message), Paint::Warn));
            }
            println!();
            println!(
                "sweeps: {} posted over {} evenings ({} held to the pool's caps, {} held over to the next business day of their calendars)",
                run.sweeps,
                run.days.len(),
                run.sweeps_capped,
                run.sweeps_held_over
            );
            if !run.holidays.is_empty() {
                let holidays: Vec<String> =
                    run.holidays.iter().map(|(date, calendar, name)| format!("{date} {calendar} {name}")).collect();
                println!(
                    "  holidays of the month ({} calendar days imported from examples/calendars-2026.csv): {}",
                    run.calendar_days,
                    holidays.join("; ")
                );
                if run.sweeps_held_over == 0 {
                    println!(
                        "  (no bank valued anything in a market on its holiday, so no sweep had anything to hold over)"
                    );
                }
            }
            println!("intercompany positions (positive: lent to the pool):");
            let mut table = Table::new(
                &["entity", "currency", "position", "interest", "withholding tax", "net"],
                &["position", "interest", "withholding tax", "net"],
            );
            for row in &positions {
                let accrual = run
                    .interest
                    .as_ref()
                    .and_then(|i| i.run.accruals.iter().find(|a| a.entity == row.entity && a.currency == row.currency));
                let cell = |value: Option<Decimal>| value.map(|v| format_grouped(v, row.currency)).unwrap_or_default();
                table.push(vec![
                    row.entity.clone(),
                    row.currency.code().into(),
                    format_grouped(row.position, row.currency),
                    cell(accrual.map(|a| a.interest)),
                    cell(accrual.map(|a| a.withholding_tax)),
                    cell(accrual.map(|a| a.net)),
                ]);
            }
            print!("{}", table.render());
            if let Some(netting) = &run.netting {
                let result = &netting.run.result;
                let settled: Decimal = result.settlements.iter().map(|s| s.amount).sum();
                println!(
                    "netting cycle {}: {} intercompany invoices, gross {} {}, settled by {} payments through the centre totalling {} ({} payments saved); {} excluded",
                    result.cycle,
                    result.invoices_netted,
                    result.currency,
                    format_grouped(result.gross, result.currency),
                    result.settlements.len(),
                    format_grouped(settled, result.currency),
                    result.invoices_netted.saturating_sub(result.settlements.len()),
                    result.excluded.len()
                );
            }
            if let Some(interest) = &run.interest {
                println!(
                    "interest settled for [{}, {}), capitalised into the positions above",
                    interest.run.from, interest.run.to
                );
            }
            if let Some(report) = &run.recon {
                println!();
                println!(
                    "bank statements: {} files ({} MT940, {} camt.053) in {}/statements/, imported each morning",
                    run.bank.files,
                    run.bank.mt940,
                    run.bank.camt053,
                    dir.display()
                );
                let summary = format!(
                    "reconciliation: {} of {} statement lines matched ({}%); {} bank charges adopted; {} open exception(s), {} break(s)",
                    report.matched,
                    report.lines,
                    report.match_rate,
                    run.bank.adopted,
                    report.exceptions.len(),
                    report.breaks.len()
                );
                println!("{}", paint(&summary, if report.matched == report.lines { Paint::Good } else { Paint::Warn }));
                for b in &report.breaks {
                    let line = format!(
                        "  break on purpose: {} {} statement {}: {} (expected {}, found {})",
                        b.account, b.currency, b.statement, b.kind, b.expected, b.found
                    );
                    println!("{}", paint(&line, Paint::Warn));
                }
                for ex in report.exceptions.iter().take(5) {
                    println!(
                        "  open: {} {} {} {} {}: {}",
                        ex.id, ex.account, ex.currency, ex.amount, ex.reason, ex.detail
                    );
                }
            }
            println!();
            println!(
                "audit verify: {} ({} entries, head {})",
                if verify.ok { paint("ok", Paint::Good) } else { paint("FAILED", Paint::Bad) },
                verify.entries,
                head
            );
            println!(
                "audit replay: state digest {} ({})",
                replay.state_digest,
                if replay.matches_store == Some(true) && digest_matches {
                    paint("matches the store", Paint::Good)
                } else {
                    paint("DOES NOT match the store", Paint::Bad)
                }
            );
            println!();
            println!("Next, try:");
            println!(
                "  cargo run --release -- {data_flag} balances --as-of {}",
                run.days.get(run.days.len() / 2).map(|d| d.to_string()).unwrap_or_default()
            );
            println!("  cargo run --release -- {data_flag} statement --account HK-OPS --currency USD");
            println!("  cargo run --release -- {data_flag} audit export --format jsonl --output journal.jsonl");
            println!("  cargo run --release -- audit verify --journal journal.jsonl");
            println!("  cargo run --release -- {data_flag} limits");
            println!(
                "  cargo run --release -- {data_flag} positions --as-of {}",
                run.days.get(run.days.len() / 2).map(|d| d.to_string()).unwrap_or_default()
            );
            println!("  cargo run --release -- {data_flag} audit replay");
            println!("  cargo run --release -- {data_flag} recon report");
            println!(
                "  cargo run --release -- {data_flag} calendars --from {} --to {}",
                run.days.first().map(|d| d.to_string()).unwrap_or_default(),
                run.days.last().map(|d| d.to_string()).unwrap_or_default()
            );
            println!("  cargo run --release -- {data_flag} report --html pool.html");
            println!("  cargo run --release -- {data_flag} audit export --format hledger --output pool.journal");
        }
    }
    Ok(if ok { exit::OK } else { exit::INTEGRITY })
}
