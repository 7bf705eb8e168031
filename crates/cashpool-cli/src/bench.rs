//! `cashpool bench`: re-measures the figures in docs/PERFORMANCE.md. The
//! workloads and measurements are `cashpool_sim::bench`; this prints them.

use std::path::Path;

use cashpool_sim::bench::{self, HardCaseFigures, NetFigures, PostRun, ReconFigures, ReplayFigures, SweepFigures};
use serde_json::json;

use crate::args::BenchWhat;
use crate::demo::sim_failure;
use crate::{exit, Failure};

pub use cashpool_sim::bench::Shape;

fn env_failure(err: impl std::fmt::Display) -> Failure {
    Failure::environment(err.to_string())
}

fn print_figures(figures: &serde_json::Map<String, serde_json::Value>, json_out: bool) {
    if json_out {
        println!("{}", serde_json::to_string_pretty(figures).unwrap_or_default());
    } else {
        for (name, value) in figures {
            println!("{name}: {value}");
        }
    }
}

fn replay_json(f: &ReplayFigures) -> serde_json::Value {
    json!({
        "entries": f.entries,
        "verify_seconds": f.verify_seconds,
        "verify_entries_per_second": f.verify_entries_per_second,
        "replay_seconds": f.replay_seconds,
        "replay_entries_per_second": f.replay_entries_per_second,
        "peak_rss_kib": f.peak_rss_kib,
        "rss_after_open_kib": f.rss_after_open_kib,
        "peak_rss_growth_kib": f.peak_rss_growth_kib,
    })
}

fn sweep_json(f: &SweepFigures) -> serde_json::Value {
    json!({
        "member_accounts": f.member_accounts,
        "currencies": f.currencies,
        "sweeps": f.sweeps,
        "sweep_seconds": f.sweep_seconds,
        "positions": f.positions,
        "interest_days": f.interest_days,
        "interest_settle_seconds": f.interest_settle_seconds,
    })
}

fn net_json(f: &NetFigures) -> serde_json::Value {
    json!({
        "entities": f.entities,
        "invoices": f.invoices,
        "settlements": f.settlements,
        "parse_seconds": f.parse_seconds,
        "net_and_settle_seconds": f.net_and_settle_seconds,
    })
}

fn hard_case_json(f: &HardCaseFigures) -> serde_json::Value {
    json!({
        "identical_postings": f.identical_postings,
        "lines": f.lines,
        "matched": f.matched,
        "exceptions": f.exceptions,
        "reconcile_seconds": f.reconcile_seconds,
    })
}

fn recon_json(f: &ReconFigures) -> serde_json::Value {
    json!({
        "ledger_postings": f.ledger_postings,
        "post_seconds": f.post_seconds,
        "statement_lines": f.statement_lines,
        "mt940_bytes": f.mt940_bytes,
        "mt940_parse_seconds": f.mt940_parse_seconds,
        "mt940_mb_per_second": f.mt940_mb_per_second,
        "camt053_bytes": f.camt053_bytes,
        "camt053_parse_seconds": f.camt053_parse_seconds,
        "camt053_mb_per_second": f.camt053_mb_per_second,
        "import_seconds": f.import_seconds,
        "reconcile_seconds": f.reconcile_seconds,
        "matched": f.matched,
        "match_rate": f.match_rate,
        "matched_by_reference": f.matched_by_reference,
        "matched_by_amount_date": f.matched_by_amount_date,
        "exceptions": f.exceptions,
        "breaks": f.breaks,
        "hard_case": hard_case_json(&f.hard_case),
    })
}

fn post_json(run: &PostRun, figures: &mut serde_json::Map<String, serde_json::Value>) {
    let PostRun { post, memory, single } = run;
    figures.insert(
        "post".into(),
        json!({
            "transactions": post.transactions, "batch": post.batch, "clients": post.clients, "seconds": post.seconds,
            "transactions_per_second": post.transactions_per_second,
            // Durable journal writes (one fdatasync each): group commit gathers concurrent batches.
            "commits": post.commits,
            "transactions_per_commit": post.transactions_per_commit,
        }),
    );
    figures.insert(
        "post_memory".into(),
        json!({
            "transactions": memory.transactions,
            "current_account_per_second": memory.current_account_per_second,
            "cross_border_pool_funding_per_second": memory.cross_border_pool_funding_per_second,
            "pool_rules_cost_percent": memory.pool_rules_cost_percent,
        }),
    );
    figures.insert(
        "post_single".into(),
        json!({
            "median_microseconds": single.median_microseconds, "fsync_median_microseconds": single.fsync_median_microseconds,
            "fsyncs_per_acknowledgement": single.fsyncs_per_acknowledgement,
        }),
    );
}

pub fn run(
    what: BenchWhat,
    shape: Shape,
    json_out: bool,
    store: Option<&Path>,
    keep: Option<&Path>,
) -> Result<u8, Failure> {
    let Shape { n, members, batch, clients } = shape;
    if batch == 0 || n == 0 || clients == 0 {
        return Err(Failure::invalid("--n, --batch and --clients must be positive"));
    }
    let mut figures = serde_json::Map::new();
    if what == BenchWhat::Net {
        figures.insert("net".into(), net_json(&bench::netting_figures(1_000, 100_000).map_err(sim_failure)?));
        print_figures(&figures, json_out);
        return Ok(exit::OK);
    }
    if what == BenchWhat::Recon {
        figures.insert("recon".into(), recon_json(&bench::recon_figures(100_000, batch, keep).map_err(sim_failure)?));
        print_figures(&figures, json_out);
        return Ok(exit::OK);
    }
    if what == BenchWhat::Sweep {
        figures.insert("sweep".into(), sweep_json(&bench::sweep_figures(members, batch).map_err(sim_failure)?));
        print_figures(&figures, json_out);
        return Ok(exit::OK);
    }
    if let Some(dir) = store {
        figures.insert("replay".into(), replay_json(&bench::replay_figures(dir).map_err(sim_failure)?));
        print_figures(&figures, json_out);
        return Ok(exit::OK);
    }
    let dir = std::env::temp_dir().join(format!("cashpool-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    figures.insert("machine".into(), json!({"cores": bench::machine_cores()}));
    let measure = matches!(what, BenchWhat::Post | BenchWhat::All);
    if let Some(run) = bench::post_figures(&dir, &shape, measure).map_err(sim_failure)? {
        post_json(&run, &mut figures);
    }
    if matches!(what, BenchWhat::Replay | BenchWhat::All) {
        // A fresh process, so that its peak memory is the replay's alone.
        let exe = std::env::current_exe().map_err(env_failure)?;
        let output = std::process::Command::new(exe)
            .args(["bench", "replay", "--json", "--store"])
            .arg(&dir)
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(env_failure)?;
        let child: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|err| {
            Failure::environment(format!(
                "the replay bench printed no figures ({err}): {}",
                String::from_utf8_lossy(&output.stderr)
            ))
        })?;
        figures.insert("replay".into(), child["replay"].clone());
    }
    let _ = std::fs::remove_dir_all(&dir);
    if what == BenchWhat::All {
        figures.insert("sweep".into(), sweep_json(&bench::sweep_figures(members, batch).map_err(sim_failure)?));
        figures.insert("net".into(), net_json(&bench::netting_figures(1_000, 100_000).map_err(sim_failure)?));
        figures.insert("recon".into(), recon_json(&bench::recon_figures(100_000, batch, keep).map_err(sim_failure)?));
    }
    print_figures(&figures, json_out);
    Ok(exit::OK)
}
