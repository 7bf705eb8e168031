//! The full demo (`cargo run --release -- demo`, CONTRACT.md): 20 business
//! days of the example group, checked from its summary and from the store it
//! leaves: the audit passes, the balances it prints are the store's, the
//! banks' statements reconcile as generated (every line matched, the charges
//! adopted, exactly the one deliberate break), one movement was refused at
//! the outflow cap, and the next commands it suggests work.

mod common;
use common::{items, string, Run};
use std::collections::BTreeMap;
use std::path::Path;

fn run(data: &Path, args: &[&str]) -> Run {
    common::cashpool_as("demo-test", data, args)
}

#[test]
fn the_full_demo_summary_is_true_of_the_store_it_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let summary = run(&store, &["demo", "--format", "json"]).expect(0).json();
    assert_eq!(summary["days"], 20);
    assert_eq!(summary["audit"]["ok"], true, "{summary}");
    assert_eq!(summary["replay"]["matches_store"], true);
    assert_eq!(summary["replay"]["matches_live_state"], true);

    // The balances printed are the store's, and a replay of the store gives the printed digest.
    let printed: BTreeMap<(String, String), String> = items(&summary, "balances")
        .iter()
        .map(|row| ((string(row, "account"), string(row, "currency")), string(row, "balance")))
        .collect();
    let balances = run(&store, &["balances", "--format", "json"]).expect(0).json();
    let stored: BTreeMap<(String, String), String> = items(&balances, "balances")
        .iter()
        .filter(|row| !string(row, "account").starts_with("EXT-") && !string(row, "account").starts_with("SYS-"))
        .map(|row| ((string(row, "account"), string(row, "currency")), string(row, "balance")))
        .collect();
    assert_eq!(printed, stored);

    // The group's total liquidity is the one `balances` gives on the demo's last day (without --as-of: every
    // posting, at that day's rates): every currency of the example group has a rate, so the total is complete.
    let liquidity = &summary["liquidity"];
    let last_day = string(&summary, "to");
    let on_last_day = at_clock(&store, &format!("{last_day}T18:00:00Z"), &["balances", "--format", "json"]);
    assert_eq!(liquidity["totals"], on_last_day["totals"]);
    assert_eq!(liquidity["base_total"], on_last_day["base_total"]);
    assert_eq!(string(&liquidity["base_total"], "rates_as_of"), last_day);
    assert_eq!(liquidity["base_total"]["complete"], true, "{liquidity}");
    assert_eq!(liquidity["base_total"]["amount"], liquidity["base_total"]["converted"], "{liquidity}");
    let lines = items(liquidity, "totals");
    assert!(
        lines.iter().any(|line| line["market"] == "offshore") && lines.iter().any(|line| line["market"] == "onshore")
    );
    assert!(lines.iter().all(|line| line["status"] == "base" || line["rate_date"] == last_day.as_str()), "{liquidity}");

    let replay = run(&store, &["audit", "replay", "--format", "json"]).expect(0).json();
    assert_eq!(replay["state_digest"], summary["replay"]["state_digest"]);

    // The reconciliation as generated: every line matched, every charge adopted, one break.
    let recon = &summary["reconciliation"];
    assert!(recon["lines"].as_u64().unwrap() > 500, "{recon}");
    assert_eq!(recon["matched"], recon["lines"], "{recon}");
    assert_eq!(string(recon, "match_rate"), "100.00");
    assert!(recon["mt940"].as_u64().unwrap() > 0 && recon["camt053"].as_u64().unwrap() > 0, "{recon}");
    assert!(recon["charges_booked"].as_u64().unwrap() > 0, "{recon}");
    assert_eq!(recon["charges_booked"], recon["charges_adopted"]);
    assert!(items(recon, "exceptions").is_empty(), "{recon}");
    let breaks = items(recon, "breaks");
    assert_eq!(breaks.len(), 1, "{recon}");
    assert_eq!(string(&breaks[0], "kind"), "sequence_gap");
    let report = run(&store, &["recon", "report", "--format", "json"]).expect(0).json();
    assert_eq!(report["matched"], recon["matched"]);
    assert_eq!(report["breaks"], recon["breaks"]);

    // The statement files are in the store's folder, one per bank account, currency and day.
    let files: usize = std::fs::read_dir(store.join("statements"))
        .unwrap()
        .map(|day| std::fs::read_dir(day.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(files as u64, recon["statement_files"].as_u64().unwrap());

    // One movement refused at the outflow cap; the cap approached, not exceeded.
    let refused = items(&summary, "refused");
    assert_eq!(refused.len(), 1, "{summary}");
    assert_eq!(string(&refused[0], "reason"), "limit");
    let limits = run(&store, &["limits", "--format", "json"]).expect(0).json();
    assert_eq!(limits, summary["limits"]);
    // Issue 15, "one story": the funding of HK is lending (the overseas-lending quota), and the
    // evening sweep that brings it back repays it, so the end of the month shows no lending but
    // the intraday peak shows how close the day came: the use the refusal states, plus the
    // accepted funding.
    let message = string(&refused[0], "message");
    let used_then: rust_decimal::Decimal = message
        .split(", ")
        .nth(1)
        .and_then(|part| part.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{message}"));
    let peak: rust_decimal::Decimal = string(&limits["outflow"], "peak").parse().unwrap();
    assert_eq!(peak, used_then, "{limits} / {message}");
    assert_eq!(string(&limits["outflow"], "used"), "0.00", "{limits}");
    // The sweep back leaves HK's CNY position at what HK itself swept in: the funding leg booked
    // HK's borrowing from the pool, so the pool does not pay interest on money it gave HK.
    let positions = run(&store, &["positions", "--format", "json"]).expect(0).json();
    let hk_cny: rust_decimal::Decimal = items(&positions, "positions")
        .iter()
        .find(|p| string(p, "entity") == "LGT-HK" && string(p, "currency") == "CNY")
        .map(|p| string(p, "position").parse().unwrap())
        .unwrap_or_default();
    assert!(hk_cny < used_then, "HK's CNY position {hk_cny} counts the funding of {used_then} as its own lending");
    // One count of transactions: the summary's is the journal's, as the report counts it.
    let export = run(&store, &["audit", "export", "--format", "jsonl"]).expect(0).stdout;
    let in_journal = export
        .lines()
        .filter(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["kind"] == "transaction")
        .count() as u64;
    assert_eq!(summary["transactions"].as_u64(), Some(in_journal), "{summary}");
    assert!(summary["activity"].as_u64().unwrap() < summary["transactions"].as_u64().unwrap(), "{summary}");

    // Netting and interest happened; the positions printed are the store's.
    assert!(summary["netting"]["settlements"].as_array().is_some_and(|s| !s.is_empty()), "{summary}");
    assert!(summary["interest"]["accruals"].as_array().is_some_and(|a| !a.is_empty()), "{summary}");
    let positions = run(&store, &["positions", "--format", "json"]).expect(0).json();
    assert_eq!(positions["positions"], summary["positions"]);
}

/// `cashpool --data DATA ARGS` (JSON) with the clock at `now` instead of the tests' usual one.
fn at_clock(data: &Path, now: &str, args: &[&str]) -> serde_json::Value {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cashpool"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("CASHPOOL_NOW", now)
        .env_remove("CASHPOOL_DATA")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the cashpool binary runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn the_table_summary_names_what_happened_and_what_to_try_next() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = run(&store, &["demo", "--days", "6", "--format", "table"]).expect(0).stdout;
    for needle in [
        "bank statements:",
        "reconciliation:",
        "break on purpose",
        "refused on purpose",
        "audit verify: ok",
        "matches the store",
        "Next, try:",
        "recon report",
        "the group's total liquidity:",
        "total in CNY: ",
    ] {
        assert!(out.contains(needle), "the summary lacks {needle:?}:\n{out}");
    }
    // Each suggested command runs (against the store the demo left).
    for line in out.lines().filter_map(|l| l.trim().strip_prefix("cargo run --release -- ")) {
        let args: Vec<&str> = line.split_whitespace().collect();
        let (data, rest) = match args.as_slice() {
            ["--data", data, rest @ ..] => (Path::new(*data).to_path_buf(), rest.to_vec()),
            rest => (store.clone(), rest.to_vec()),
        };
        if rest.contains(&"--journal") || rest.contains(&"--output") {
            continue; // They name files in the user's working directory.
        }
        run(&data, &rest).expect(0);
    }
}
