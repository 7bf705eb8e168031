//! How the binary behaves for people and for programs (CONTRACT.md "Commands",
//! docs/GUIDE.md "Output", docs/REGULATOR.md): an example in every command's
//! `--help`; thousands separators in tables only; colour only on a terminal and
//! never with `NO_COLOR`; `--read-only` lets every reading command run and
//! refuses every writing command with exit code 2, writing nothing.

mod common;
use common::{items, string, text, Run};
use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

const EXAMPLE_GROUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lingang-group.toml");
const EXAMPLE_RATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/rates-2026-11.csv");
const RECON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/recon");
const FIGURES: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../cashpool-files/tests/fixtures/eligibility/lingang-figures.csv");

const COMMANDS: &[&[&str]] = &[
    &["init"],
    &["demo"],
    &["post"],
    &["balances"],
    &["statement"],
    &["sweep"],
    &["positions"],
    &["interest"],
    &["net"],
    &["rates", "import"],
    &["limits"],
    &["limits", "set"],
    &["pool", "check"],
    &["recon", "import"],
    &["recon", "report"],
    &["recon", "adopt"],
    &["report"],
    &["audit", "verify"],
    &["audit", "replay"],
    &["audit", "export"],
    &["bench"],
];

fn run(data: &Path, args: &[&str]) -> Run {
    common::cashpool_as("terminal-test", data, args)
}

#[test]
fn every_command_has_an_example_in_its_help() {
    let store = tempfile::tempdir().unwrap();
    for command in COMMANDS {
        let mut args = command.to_vec();
        args.push("--help");
        let help = run(store.path(), &args).expect(0);
        assert!(help.stdout.contains("Example"), "`cashpool {}` has no example:\n{}", command.join(" "), help.stdout);
        let shown = format!("cashpool {}", command.join(" "));
        assert!(help.stdout.contains(&shown), "`{shown} --help` shows no use of itself:\n{}", help.stdout);
    }
}

/// The example group with a receipt of 1,234,567.89 CNY on SZ-OPS and its bank statement imported.
fn pool() -> TempDir {
    let store = tempfile::tempdir().unwrap();
    run(store.path(), &["init", "--config", EXAMPLE_GROUP, "--format", "json"]).expect(0);
    let files = tempfile::tempdir().unwrap();
    let csv = files.path().join("big.csv");
    std::fs::write(
        &csv,
        "id,value_date,from,to,currency,amount,purpose,reference,memo\n\
         T-1,2026-11-02,EXT-ONSHORE,SZ-OPS,CNY,1234567.89,current_account,INV-1,receipt\n",
    )
    .unwrap();
    run(store.path(), &["post", text(&csv), "--report", "json"]).expect(0);
    store
}

#[test]
fn tables_group_thousands_and_json_and_csv_do_not() {
    let store = pool();
    let table = run(store.path(), &["balances", "--account", "SZ-OPS", "--format", "table"]).expect(0);
    assert!(table.stdout.contains("1,234,567.89"), "{}", table.stdout);
    let json = run(store.path(), &["balances", "--account", "SZ-OPS", "--format", "json"]).expect(0).json();
    assert_eq!(string(&items(&json, "balances")[0], "balance"), "1234567.89");
    let csv = run(store.path(), &["balances", "--account", "SZ-OPS", "--format", "csv"]).expect(0);
    assert!(csv.stdout.contains("1234567.89") && !csv.stdout.contains("1,234,567.89"), "{}", csv.stdout);
    assert!(!table.stdout.contains('\u{1b}'), "no colour when standard output is not a terminal");
}

/// Runs `cashpool ARGS` under `script`, which gives it a pseudo-terminal, and returns what it printed.
fn on_a_terminal(data: &Path, args: &[&str], no_color: Option<&str>) -> Option<String> {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("note: `script` (util-linux) is not installed; the terminal colour check did not run");
        return None;
    }
    let mut line = format!("{} --data {}", env!("CARGO_BIN_EXE_cashpool"), data.display());
    for arg in args {
        line.push(' ');
        line.push_str(arg);
    }
    let mut command = Command::new("script");
    command.args(["-qec", &line, "/dev/null"]).env("CASHPOOL_NOW", common::NOW).env_remove("NO_COLOR");
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let output = command.output().expect("script runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let store = pool();
    let Some(coloured) = on_a_terminal(store.path(), &["balances", "--account", "SZ-OPS"], None) else { return };
    assert!(coloured.contains("\u{1b}["), "a terminal gets colour:\n{coloured}");
    assert!(coloured.contains("1,234,567.89"), "a terminal gets a table by default:\n{coloured}");
    let plain = on_a_terminal(store.path(), &["balances", "--account", "SZ-OPS"], Some("1")).unwrap();
    assert!(!plain.contains("\u{1b}["), "NO_COLOR=1 means no colour:\n{plain}");
    assert!(plain.contains("1,234,567.89"), "{plain}");
}

/// The journal's length and head, read without writing.
fn head(data: &Path) -> (u64, String) {
    let verify = run(data, &["--read-only", "audit", "verify", "--format", "json"]).expect(0).json();
    (verify["entries"].as_u64().unwrap(), string(&verify, "head"))
}

#[test]
fn read_only_runs_every_reading_command_and_refuses_every_writing_one() {
    let store = pool();
    let data = store.path();
    run(data, &["recon", "import", &format!("{RECON}/sz-20261102.sta"), "--format", "json"]).expect(0);
    let before = head(data);
    let files = tempfile::tempdir().unwrap();
    let export = files.path().join("journal.jsonl");
    let hledger = files.path().join("pool.journal");
    let html = files.path().join("pool.html");
    let reading: Vec<Vec<String>> = vec![
        vec!["pool".into(), "check".into(), "--figures".into(), FIGURES.into(), "--as-of".into(), "2026-01-15".into()],
        vec!["balances".into()],
        vec!["balances".into(), "--as-of".into(), "2026-11-02".into()],
        vec!["statement".into(), "--account".into(), "SZ-OPS".into()],
        vec!["positions".into()],
        vec!["limits".into()],
        vec!["sweep".into(), "--date".into(), "2026-11-02".into(), "--dry-run".into()],
        vec!["interest".into(), "--from".into(), "2026-11-01".into(), "--to".into(), "2026-12-01".into()],
        vec!["recon".into(), "report".into()],
        vec!["audit".into(), "verify".into()],
        vec!["audit".into(), "replay".into()],
        vec!["audit".into(), "export".into(), "--output".into(), text(&export).into()],
        vec![
            "audit".into(),
            "export".into(),
            "--format".into(),
            "hledger".into(),
            "--output".into(),
            text(&hledger).into(),
        ],
        vec!["report".into(), "--html".into(), text(&html).into()],
    ];
    for args in &reading {
        let mut full: Vec<&str> = vec!["--read-only"];
        full.extend(args.iter().map(String::as_str));
        // Exports and the HTML page write files; every other reading command prints JSON.
        if args[0] != "report" && args.get(1).map(String::as_str) != Some("export") {
            full.extend(["--format", "json"]);
        }
        run(data, &full).expect(0);
    }
    let csv = format!("{RECON}/receipts.csv");
    let sta = format!("{RECON}/sz-20261102.sta");
    let writing: Vec<Vec<&str>> = vec![
        vec!["init", "--config", EXAMPLE_GROUP],
        vec!["demo"],
        vec!["post", &csv],
        vec!["rates", "import", EXAMPLE_RATES],
        vec!["limits", "set", "--effective", "2026-12-01", "--macro-prudential", "1.5"],
        vec!["sweep", "--date", "2026-11-02"],
        vec!["interest", "--from", "2026-11-01", "--to", "2026-12-01", "--settle"],
        vec!["net", "--invoices", &csv, "--date", "2026-11-30"],
        vec!["recon", "import", &sta],
        vec!["recon", "adopt", "--all-charges"],
    ];
    for args in &writing {
        let mut full = vec!["--read-only"];
        full.extend(args.iter().copied());
        let refused = run(data, &full).expect(2);
        assert!(refused.stderr.contains("read-only"), "`{}`: {}", full.join(" "), refused.stderr);
    }
    assert_eq!(head(data), before, "nothing was written");
}
