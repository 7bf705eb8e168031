//! `cashpool bench`: re-measures the figures in docs/PERFORMANCE.md. The
//! workloads and measurements are `cashpool_sim::bench`; this prints them.

use std::path::Path;

use cashpool_sim::bench::{self, HardCaseFigures, NetFigures, PostRun, ReconFigures, ReplayFigures, SweepFigures};
use cashpool_sim::scale::{self, PostFigures as ScalePost, ScaleRun, StatementFigures, Timing};
use serde_json::json;

use crate::args::BenchWhat;
use crate::demo::sim_failure;
use crate::output::Table;
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

fn timing_json(t: &Timing) -> serde_json::Map<String, serde_json::Value> {
    let value = json!({
        "seconds_median": t.seconds_median,
        "seconds_min": t.seconds_min,
        "seconds_max": t.seconds_max,
        "peak_rss_kib": t.peak_rss_kib,
    });
    value.as_object().cloned().unwrap_or_default()
}

fn with(mut object: serde_json::Map<String, serde_json::Value>, more: serde_json::Value) -> serde_json::Value {
    if let serde_json::Value::Object(more) = more {
        object.extend(more);
    }
    serde_json::Value::Object(object)
}

fn statement_json(f: &StatementFigures) -> serde_json::Value {
    with(timing_json(&f.timing), json!({"lines": f.lines}))
}

fn scale_post_json(f: &ScalePost) -> serde_json::Value {
    with(timing_json(&f.timing), json!({"posted": f.posted, "duplicates": f.duplicates}))
}

fn scale_json(run: &ScaleRun) -> serde_json::Value {
    let points: Vec<serde_json::Value> = run
        .points
        .iter()
        .map(|p| {
            json!({
                "transactions": p.transactions,
                "store_bytes": p.store_bytes,
                "grow_seconds": p.grow_seconds,
                "grown": p.grown,
                "open_balances": with(timing_json(&p.open_balances.timing), json!({"rows": p.open_balances.rows})),
                "statement_all": statement_json(&p.statement_all),
                "statement_first_page": p.statement_first_page.as_ref().map(statement_json),
                "post_one": scale_post_json(&p.post_one),
                "post_duplicate": scale_post_json(&p.post_duplicate),
            })
        })
        .collect();
    json!({
        "batch": run.batch,
        "repeats": run.repeats,
        "statement": {"account": scale::STATEMENT_ACCOUNT, "currency": scale::STATEMENT_CURRENCY},
        "notes": {"statement_first_page": run.first_page_note},
        "store": run.kept_store.as_ref().map(|dir| dir.display().to_string()),
        "points": points,
    })
}

/// Seconds for a table: three significant decimals below 10 s.
fn secs(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.3}")
    } else {
        format!("{seconds:.1}")
    }
}

fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (idx, ch) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn print_scale_table(run: &ScaleRun) {
    println!(
        "bench scale: one store grown in batches of {}; each command {} times in a fresh process \
         (wall time median, min, max; the largest peak RSS); statement of {} {}",
        grouped(run.batch as u64),
        run.repeats,
        scale::STATEMENT_ACCOUNT,
        scale::STATEMENT_CURRENCY
    );
    let mut table = Table::new(
        &["transactions", "store MiB", "grow s", "command", "median s", "min s", "max s", "peak RSS MiB", "result"],
        &["transactions", "store MiB", "grow s", "median s", "min s", "max s", "peak RSS MiB"],
    );
    let mib = |kib: u64| format!("{:.1}", kib as f64 / 1024.0);
    for p in &run.points {
        let rows: [(&str, Option<&Timing>, String); 5] = [
            ("open + balances", Some(&p.open_balances.timing), format!("{} rows", p.open_balances.rows)),
            ("statement (all)", Some(&p.statement_all.timing), format!("{} lines", grouped(p.statement_all.lines))),
            (
                "statement (first 100)",
                p.statement_first_page.as_ref().map(|f| &f.timing),
                p.statement_first_page
                    .as_ref()
                    .map_or_else(|| "not available (no paging)".to_string(), |f| format!("{} lines", f.lines)),
            ),
            ("post one row", Some(&p.post_one.timing), format!("{} posted", p.post_one.posted)),
            ("post a duplicate", Some(&p.post_duplicate.timing), format!("{} duplicate", p.post_duplicate.duplicates)),
        ];
        for (idx, (command, timing, result)) in rows.into_iter().enumerate() {
            let (head, store, grow) = if idx == 0 {
                (
                    grouped(p.transactions),
                    format!("{:.1}", p.store_bytes as f64 / (1 << 20) as f64),
                    secs(p.grow_seconds),
                )
            } else {
                (String::new(), String::new(), String::new())
            };
            let cells = match timing {
                Some(t) => vec![secs(t.seconds_median), secs(t.seconds_min), secs(t.seconds_max), mib(t.peak_rss_kib)],
                None => vec!["-".into(), "-".into(), "-".into(), "-".into()],
            };
            let mut row = vec![head, store, grow, command.to_string()];
            row.extend(cells);
            row.push(result);
            table.push(row);
        }
    }
    print!("{}", table.render());
    if let Some(dir) = &run.kept_store {
        println!("the store is kept in {}", dir.display());
    }
}

fn scale_run(n: u64, batch: usize, json_out: bool, dirs: &Dirs) -> Result<u8, Failure> {
    if dirs.store.is_some() {
        return Err(Failure::invalid("--store is the replay bench's; to keep the grown store, use --keep-store DIR"));
    }
    if let Some(dir) = dirs.keep_store {
        let used = std::fs::read_dir(dir).map(|mut items| items.next().is_some()).unwrap_or(false);
        if used {
            return Err(Failure::invalid(format!(
                "--keep-store {}: the folder is not empty; give a new or empty folder",
                dir.display()
            )));
        }
    }
    let exe = std::env::current_exe().map_err(env_failure)?;
    let options = scale::ScaleOptions { n, batch, exe: &exe, keep_store: dirs.keep_store };
    let spinner = crate::output::spinner("bench scale");
    let run = scale::scale_figures(&options, &mut |what| spinner.set_message(format!("bench scale: {what}…")))
        .map_err(sim_failure)?;
    spinner.finish_and_clear();
    if json_out {
        let mut figures = serde_json::Map::new();
        figures.insert("machine".into(), json!({"cores": bench::machine_cores()}));
        figures.insert("scale".into(), scale_json(&run));
        print_figures(&figures, true);
    } else {
        print_scale_table(&run);
    }
    Ok(exit::OK)
}

/// The folders a bench may be given.
pub struct Dirs<'a> {
    /// `--store` (hidden): replay this existing store (the replay bench's fresh process).
    pub store: Option<&'a Path>,
    /// `--keep-store`: where `bench scale` grows its store, kept.
    pub keep_store: Option<&'a Path>,
    /// `--keep-files`: where `bench recon` leaves its statement files.
    pub keep_files: Option<&'a Path>,
}

pub fn run(what: BenchWhat, shape: Shape, json_out: bool, dirs: Dirs) -> Result<u8, Failure> {
    let Shape { n, members, batch, clients } = shape;
    if batch == 0 || n == 0 || clients == 0 {
        return Err(Failure::invalid("--n, --batch and --clients must be positive"));
    }
    if what == BenchWhat::Scale {
        return scale_run(n, batch, json_out, &dirs);
    }
    if dirs.keep_store.is_some() {
        return Err(Failure::invalid("--keep-store is for `cashpool bench scale`"));
    }
    let (store, keep) = (dirs.store, dirs.keep_files);
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
