//! The guides, run: every command of `docs/TREASURY-DAY.md`, then every
//! command of `docs/REGULATOR.md`, in the order they are written, on one store,
//! so that the guides cannot go stale.
//!
//! **How a guide is read.** Only fenced blocks opened with ```` ```sh ```` hold
//! commands; every other block (```` ```text ````, ```` ```json ````) is shown
//! output and is not run. In a `sh` block, blank lines and lines starting with
//! `#` are skipped; a trailing ` # comment` is stripped. Each remaining line is
//! one of:
//!
//! - `cashpool ARGS…`: run with `env!("CARGO_BIN_EXE_cashpool")`;
//! - `export NAME=VALUE` for a `CASHPOOL_*` variable of [`VARIABLES`]: set for
//!   every later command (`CASHPOOL_NOW` must be [`common::NOW`], the clock
//!   of every test of the binary);
//! - a line of another program of [`OTHER_PROGRAMS`] (`hledger …`): run only
//!   where that program is installed, else skipped with a note on stderr
//!   (unless `CASHPOOL_REQUIRE_HLEDGER=1`, which CI sets: then a missing
//!   hledger fails the test).
//!
//! Arguments are split at whitespace: no shell features (quotes, pipes, globs,
//! variables, redirections, line continuations). A line holding one of the
//! characters of [`SHELL_CHARACTERS`] fails the test, so a guide keeps to
//! commands that run the same in any shell. Any other line fails the test too.
//!
//! **Excerpts.** Every line of a ```` ```text ```` block, except blank ones
//! and those holding `…` (an elision), must be a line (trailing spaces aside)
//! of what a command before it in the same guide printed, on standard output
//! or standard error: the guides show real output. An excerpt right after a
//! skipped line (`hledger` not installed) is not checked.
//!
//! **Exit codes.** Every command must exit 0, unless its comment starts with
//! `exit N` (`cashpool --read-only post … # exit 2: a write`).
//!
//! **Where things live.** The working directory of every command is a fresh
//! temporary folder into which the repository's `examples/` folder is copied,
//! so the guides' relative paths (`examples/day/…`) resolve as they do for a
//! reader at the repository root, and what the commands write (the store
//! `treasury` that `export CASHPOOL_DATA=treasury` names, `journal.jsonl`,
//! `pool.journal`) lands in that folder, never in the repository. A command
//! reading an export (`--journal FILE`) runs with `CASHPOOL_DATA` naming a
//! folder that does not exist, and must not create it: the regulator's checks
//! need no store.
//!
//! **Prose checks.** After a step whose command is a key of [`checks`], the
//! test runs the JSON variant of the figures the guide states in its prose and
//! excerpts (match rate, exceptions, entries, nets, interest, digests, the
//! tampered export's `first_bad_seq`, …) and asserts them. Every key must
//! match a command of the guides: renaming a command in a guide means updating
//! its check here.
//!
//! `cargo test -p cashpool-cli --test guides -- --nocapture` prints every
//! command and its output: the source of the guides' excerpts.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{items, string, Run};
use serde_json::Value;

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The guides, in the order they run (the second continues the first's store).
const GUIDES: [&str; 2] = ["docs/TREASURY-DAY.md", "docs/REGULATOR.md"];

/// Programs other than `cashpool` a guide may use; their lines run only where installed.
const OTHER_PROGRAMS: [&str; 2] = ["hledger", "python3"];

/// The variables a guide may `export`.
const VARIABLES: [&str; 3] = ["CASHPOOL_DATA", "CASHPOOL_OPERATOR", "CASHPOOL_NOW"];

/// Characters that would need a shell: quoting, pipes, globs, variables, redirections.
const SHELL_CHARACTERS: &[char] = &['|', '&', ';', '<', '>', '$', '*', '?', '`', '\'', '"', '\\', '(', ')', '{', '}'];

/// What a line (or a block) of a guide does.
#[derive(Debug, Clone)]
enum Action {
    Export {
        name: String,
        value: String,
    },
    Run {
        program: String,
        args: Vec<String>,
    },
    /// A ```` ```text ```` block: output the commands before it printed.
    Excerpt {
        lines: Vec<String>,
    },
}

/// One line of a `sh` block, or one `text` block.
#[derive(Debug, Clone)]
struct Step {
    /// `docs/TREASURY-DAY.md:123`.
    place: String,
    /// The line as written, without its comment (empty for an excerpt).
    command: String,
    action: Action,
    /// The exit code the guide says it has.
    expect: i32,
}

/// The `N` of a comment `exit N…`.
fn exit_marker(comment: &str) -> Option<i32> {
    let rest = comment.strip_prefix("exit ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(digits.parse().unwrap_or_else(|_| panic!("`# {comment}`: `exit` is followed by an exit code")))
}

/// The steps of one guide, in order.
fn parse_guide(guide: &str, markdown: &str) -> Vec<Step> {
    enum Fence {
        Sh,
        Text { place: String, lines: Vec<String> },
        Other,
    }
    let mut steps = Vec::new();
    let mut fence: Option<Fence> = None;
    for (n, raw) in markdown.lines().enumerate() {
        let place = format!("{guide}:{}", n + 1);
        let line = raw.trim();
        if let Some(info) = line.strip_prefix("```") {
            fence = match (fence.take(), info.trim()) {
                (None, "sh") => Some(Fence::Sh),
                (None, "text") => Some(Fence::Text { place, lines: Vec::new() }),
                (None, _) => Some(Fence::Other),
                (Some(Fence::Text { place, lines }), _) => {
                    steps.push(Step { place, command: String::new(), action: Action::Excerpt { lines }, expect: 0 });
                    None
                }
                (Some(_), _) => None,
            };
            continue;
        }
        if let Some(Fence::Text { lines, .. }) = &mut fence {
            lines.push(raw.trim_end().to_string());
            continue;
        }
        if !matches!(fence, Some(Fence::Sh)) || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (command, comment) = match line.find(" #") {
            Some(at) => (line[..at].trim_end(), Some(line[at + 2..].trim())),
            None => (line, None),
        };
        if let Some(bad) = command.chars().find(|c| SHELL_CHARACTERS.contains(c)) {
            panic!("{place}: `{command}` uses {bad:?}, a shell feature the guides' test does not run; write the command without it");
        }
        let expect = comment.and_then(exit_marker).unwrap_or(0);
        let words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
        let action = match words[0].as_str() {
            "export" => {
                let assignment = match &words[1..] {
                    [assignment] => assignment,
                    _ => panic!("{place}: `export` takes one NAME=VALUE"),
                };
                let (name, value) =
                    assignment.split_once('=').unwrap_or_else(|| panic!("{place}: `export {assignment}`: no `=`"));
                assert!(VARIABLES.contains(&name), "{place}: a guide may export only {VARIABLES:?}, not {name}");
                assert_eq!(expect, 0, "{place}: `export` has no exit code");
                Action::Export { name: name.to_string(), value: value.to_string() }
            }
            program if program == "cashpool" || OTHER_PROGRAMS.contains(&program) => {
                Action::Run { program: program.to_string(), args: words[1..].to_vec() }
            }
            other => panic!(
                "{place}: `{other}`: the guides' test runs `cashpool …`, `export CASHPOOL_…=…` and {OTHER_PROGRAMS:?} lines; \
                 write this line so, or teach the test to run it"
            ),
        };
        steps.push(Step { place, command: command.to_string(), action, expect });
    }
    assert!(fence.is_none(), "{guide}: a code block is not closed");
    steps
}

/// Whether `program` can be run here.
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a folder in the temporary directory");
    for item in std::fs::read_dir(from).expect("read the examples folder") {
        let item = item.expect("read the examples folder");
        let target = to.join(item.file_name());
        if item.file_type().expect("file type").is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), &target).expect("copy an example file");
        }
    }
}

/// The working folder and the environment the guides set.
struct Session {
    work: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl Session {
    fn new() -> Session {
        let work = tempfile::tempdir().expect("tempdir");
        copy_dir(&Path::new(REPO).join("examples"), &work.path().join("examples"));
        // `python3 tools/verify-journal.py …` (REGULATOR.md) reads docs/currencies.csv beside it.
        copy_dir(&Path::new(REPO).join("tools"), &work.path().join("tools"));
        std::fs::create_dir_all(work.path().join("docs")).expect("create docs/");
        std::fs::copy(Path::new(REPO).join("docs/currencies.csv"), work.path().join("docs/currencies.csv"))
            .expect("copy docs/currencies.csv");
        let env = BTreeMap::from([("CASHPOOL_NOW".to_string(), common::NOW.to_string())]);
        Session { work, env }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// Where a command that reads an export looks for a store: nowhere.
    fn no_store(&self) -> PathBuf {
        self.path("no-store-here")
    }

    /// Runs `program ARGS…` in the working folder with the guides' environment.
    fn run(&self, program: &str, args: &[String]) -> Run {
        let binary = if program == "cashpool" { env!("CARGO_BIN_EXE_cashpool") } else { program };
        let mut command = Command::new(binary);
        command.args(args).current_dir(self.work.path()).stdin(Stdio::null());
        for name in VARIABLES {
            command.env_remove(name);
        }
        command.envs(&self.env);
        let reads_export = args.iter().any(|arg| arg == "--journal");
        if reads_export {
            command.env("CASHPOOL_DATA", self.no_store());
        }
        let output = command.output().unwrap_or_else(|err| panic!("{program} runs: {err}"));
        if reads_export {
            assert!(!self.no_store().exists(), "`{program} {}` created a store", args.join(" "));
        }
        Run {
            command: format!("{program} {}", args.join(" ")),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `cashpool ARGS…` (a check's own command).
    fn cashpool(&self, args: &[&str]) -> Run {
        self.run("cashpool", &args.iter().map(|arg| arg.to_string()).collect::<Vec<_>>())
    }

    /// Runs `cashpool ARGS…`, expects exit code 0 and returns its JSON.
    #[track_caller]
    fn json(&self, args: &[&str]) -> Value {
        self.cashpool(args).expect(0).json()
    }

    /// The number of entries of the store's journal.
    #[track_caller]
    fn entries(&self) -> u64 {
        let verify = self.json(&["audit", "verify", "--format", "json"]);
        assert_eq!(verify["ok"], true, "{verify}");
        verify["entries"].as_u64().expect("entries is a number")
    }

    /// The store's journal, exported to a file of its own and read back, one value a line.
    fn journal(&self) -> Vec<Value> {
        let file = self.path("checks-journal.jsonl");
        self.cashpool(&["audit", "export", "--format", "jsonl", "--output", common::text(&file)]).expect(0);
        let text = std::fs::read_to_string(&file).expect("read the export");
        text.lines().map(|line| serde_json::from_str(line).expect("an export line is JSON")).collect()
    }
}

/// The transaction `id` of an export, with its line.
fn transaction<'a>(journal: &'a [Value], id: &str) -> &'a Value {
    journal
        .iter()
        .find(|line| line["kind"] == "transaction" && line["body"]["id"] == id)
        .unwrap_or_else(|| panic!("no transaction {id} in the journal"))
}

/// `(a, b)` of each item of an array field.
fn pairs(value: &Value, key: &str, a: &str, b: &str) -> Vec<(String, String)> {
    items(value, key).iter().map(|item| (string(item, a), string(item, b))).collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

type Check = fn(&Session, &Run);

/// The prose checks: after the step with this exact command, run this.
fn checks() -> Vec<(&'static str, Check)> {
    vec![
        ("cashpool init --config examples/lingang-group.toml --format table", |s, run| {
            assert!(run.stdout.contains("23 accounts, 24 entries"), "{}", run.stdout);
            assert_eq!(s.entries(), 24);
        }),
        ("cashpool rates import examples/rates-2026-11.csv --format table", |s, _| {
            assert_eq!(s.entries(), 25);
        }),
        ("cashpool calendars import examples/calendars-2026.csv --format table", |s, _| {
            assert_eq!(s.entries(), 26);
            // Importing again writes nothing.
            let again = s.json(&["calendars", "import", "examples/calendars-2026.csv", "--format", "json"]);
            assert_eq!((again["imported"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(108)), "{again}");
            assert_eq!(s.entries(), 26);
        }),
        ("cashpool post examples/day/opening-balances.csv --report table", |s, _| {
            assert_eq!(s.entries(), 43);
        }),
        ("cashpool post examples/day/transactions.csv --report table", |s, _| {
            // Posted before (the step itself, or the guide's first post): a duplicate, nothing written.
            let before = s.entries();
            let again = s.json(&["post", "examples/day/transactions.csv", "--report", "json"]);
            assert_eq!((again["posted"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(14)), "{again}");
            assert_eq!(s.entries(), before);
        }),
        ("cashpool post examples/day/fx.jsonl --report table", |s, _| {
            assert_eq!(s.entries(), 59);
            let journal = s.journal();
            for (id, classification) in
                [("T-1030-012", "first_line"), ("T-1030-005", "offshore"), ("T-1030-001", "domestic")]
            {
                assert_eq!(transaction(&journal, id)["body"]["classification"], classification, "{id}");
            }
            let fx = &transaction(&journal, "FX-1030-01")["body"];
            let legs: Vec<(String, String, String)> = items(fx, "postings")
                .iter()
                .map(|p| (string(p, "account"), string(p, "currency"), string(p, "amount")))
                .collect();
            // The export holds amounts in minor units: USD 500,000.00 and CNY -3,550,500.00.
            for leg in [("SYS-FX-POSITION", "USD", "50000000"), ("SYS-FX-POSITION", "CNY", "-355050000")] {
                let leg = (leg.0.to_string(), leg.1.to_string(), leg.2.to_string());
                assert!(legs.contains(&leg), "{leg:?} not in {legs:?}");
            }
        }),
        ("cashpool post examples/day/rejected-payments.csv --report table", |s, run| {
            assert!(run.stderr.contains("2 bad row(s); nothing was written"), "{}", run.stderr);
            let out = s.cashpool(&["post", "examples/day/rejected-payments.csv", "--report", "json"]).expect(2).json();
            assert_eq!(out["posted"], 0);
            let rejected: Vec<(String, String)> = pairs(&out, "rejected", "id", "reason");
            assert_eq!(rejected, owned(&[("T-1030-015", "overdraft"), ("T-1030-016", "too_many_decimals")]));
            assert_eq!(s.entries(), 59, "a refused file writes nothing");
        }),
        (
            "cashpool recon import examples/day/statements/boc-20261030.sta examples/day/statements/icbc-20261030.sta \
             examples/day/statements/hsbc-20261030.sta examples/day/statements/dbs-20261030.xml \
             examples/day/statements/deutsche-20261030.xml examples/day/statements/mizuho-20261030.xml --format table",
            |s, _| {
                assert_eq!(s.entries(), 72);
                let report = s.json(&["recon", "report", "--format", "json"]);
                assert_eq!((report["statements"].as_u64(), report["lines"].as_u64()), (Some(13), Some(19)));
                assert_eq!((report["matched"].as_u64(), string(&report, "match_rate")), (Some(18), "94.73".into()));
                let exceptions = items(&report, "exceptions");
                assert_eq!(exceptions.len(), 1, "{report}");
                let charge = &exceptions[0];
                assert_eq!(
                    ["id", "reason", "account", "currency", "amount"].map(|key| string(charge, key)),
                    ["S68-L3", "bank_initiated", "HK-OPS", "USD", "-35.00"]
                );
                let breaks = items(&report, "breaks");
                assert_eq!(breaks.len(), 1, "{report}");
                assert_eq!(
                    ["kind", "account", "currency", "expected", "found"].map(|key| string(&breaks[0], key)),
                    ["ledger_balance_mismatch", "HK-OPS", "USD", "1535000.00", "1534965.00"]
                );
                // The same files again: nothing written.
                let files: Vec<String> = ["boc-20261030.sta", "icbc-20261030.sta", "hsbc-20261030.sta"]
                    .into_iter()
                    .chain(["dbs-20261030.xml", "deutsche-20261030.xml", "mizuho-20261030.xml"])
                    .map(|name| format!("examples/day/statements/{name}"))
                    .collect();
                let mut args: Vec<&str> = vec!["recon", "import"];
                args.extend(files.iter().map(String::as_str));
                args.extend(["--format", "json"]);
                let again = s.json(&args);
                assert!(items(&again, "imported").iter().all(|r| r["status"] == "already_imported"), "{again}");
                assert_eq!(s.entries(), 72);
            },
        ),
        ("cashpool recon adopt S68-L3 --format table", |s, run| {
            assert!(run.stdout.contains("adopted S68-L3 as BNK-68-3"), "{}", run.stdout);
            let report = s.json(&["recon", "report", "--format", "json"]);
            assert_eq!(string(&report, "match_rate"), "100.00");
            assert_eq!(report["matched"], 19);
            assert!(items(&report, "exceptions").is_empty() && items(&report, "breaks").is_empty(), "{report}");
        }),
        ("cashpool statement --account HK-OPS --currency USD --to 2026-10-30 --format table", |_, run| {
            assert!(run.stdout.contains("closing USD 1,534,965.00"), "{}", run.stdout);
        }),
        ("cashpool sweep --date 2026-11-02 --dry-run --format table", |s, _| {
            let plan = s.json(&["sweep", "--date", "2026-11-02", "--dry-run", "--format", "json"]);
            assert_eq!((plan["dry_run"].as_bool(), items(&plan, "sweeps").len()), (Some(true), 8));
            assert_eq!(s.entries(), 73, "a dry run writes nothing");
        }),
        ("cashpool sweep --date 2026-11-02 --format table", |s, run| {
            assert!(run.stdout.contains("(posted)"), "{}", run.stdout);
            let again = s.json(&["sweep", "--date", "2026-11-02", "--format", "json"]);
            assert_eq!((again["already_run"].as_bool(), items(&again, "sweeps").len()), (Some(true), 8));
        }),
        ("cashpool positions --format table", |s, _| {
            let positions = s.json(&["positions", "--format", "json"]);
            let rows: Vec<(String, String, String)> = items(&positions, "positions")
                .iter()
                .map(|p| (string(p, "entity"), string(p, "currency"), string(p, "position")))
                .collect();
            for row in [("LGT-SZ", "CNY", "-54800.00"), ("LGT-FTZ", "USD", "750000.00"), ("LGT-DE", "EUR", "-62300.00")]
            {
                assert!(rows.contains(&(row.0.into(), row.1.into(), row.2.into())), "{row:?} not in {rows:?}");
            }
            assert!(!rows.iter().any(|(entity, _, _)| entity == "LGT-SH"), "the host has no position");
            // The net in CNY at the onshore rates of today (CASHPOOL_NOW: 2 November), as the prose works it out.
            let total = &positions["base_total"];
            assert_eq!(
                (string(total, "rates_as_of"), string(total, "amount")),
                ("2026-11-02".into(), "15677532.00".into())
            );
            let usd =
                items(&positions, "totals").into_iter().find(|line| line["currency"] == "USD").expect("a USD line");
            assert_eq!(
                ["market", "total", "rate", "total_base"].map(|key| string(&usd, key)),
                ["onshore", "1917465.00", "7.1025", "13618795.16"]
            );
        }),
        ("cashpool net --invoices examples/day/invoices-2026-11.csv --date 2026-11-30 --format table", |s, _| {
            let net = s.json(&[
                "net",
                "--invoices",
                "examples/day/invoices-2026-11.csv",
                "--date",
                "2026-11-30",
                "--format",
                "json",
            ]);
            assert_eq!(net["already_run"], true);
            assert_eq!(items(&net, "settlements").len(), 6);
            assert_eq!(
                pairs(&net, "excluded", "invoice", "reason"),
                owned(&[("IC-2611-008", "outside_window"), ("IC-2611-009", "capital_item")])
            );
            let total: rust_decimal::Decimal = items(&net, "positions")
                .iter()
                .map(|p| string(p, "net").parse::<rust_decimal::Decimal>().unwrap())
                .sum();
            assert!(total.is_zero(), "the nets sum to {total}");
            for (account, currency, balance) in [("DE-OPS", "EUR", "105000.00"), ("JP-OPS", "JPY", "40500000")] {
                let rows = s.json(&["balances", "--account", account, "--currency", currency, "--format", "json"]);
                assert_eq!(string(&items(&rows, "balances")[0], "balance"), balance, "{account}");
            }
        }),
        ("cashpool interest --from 2026-11-01 --to 2026-12-01 --format table", |s, _| {
            let accrued = s.json(&["interest", "--from", "2026-11-01", "--to", "2026-12-01", "--format", "json"]);
            assert_eq!(accrued["settled"], false);
            let rows: Vec<[String; 5]> = items(&accrued, "accruals")
                .iter()
                .map(|a| ["entity", "currency", "interest", "withholding_tax", "net"].map(|key| string(a, key)))
                .collect();
            assert!(rows.contains(&["LGT-SZ", "CNY", "-134.97", "0.00", "-134.97"].map(String::from)), "{rows:?}");
            assert!(rows.contains(&["LGT-HK", "USD", "1723.78", "211.40", "1512.38"].map(String::from)), "{rows:?}");
            // The prose: 1,723.78 / 1.06 = 1,626.21 without VAT, VAT 97.57, income tax 7 % = 113.83.
            let hk = items(&accrued, "accruals")
                .into_iter()
                .find(|a| a["entity"] == "LGT-HK" && a["currency"] == "USD")
                .expect("LGT-HK USD");
            assert_eq!(["income_tax", "vat", "surcharges"].map(|key| string(&hk, key)), ["113.83", "97.57", "0.00"]);
        }),
        ("cashpool interest --from 2026-11-01 --to 2026-12-01 --settle --format table", |s, run| {
            assert!(run.stdout.contains("(settled)"), "{}", run.stdout);
            let again =
                s.json(&["interest", "--from", "2026-11-01", "--to", "2026-12-01", "--settle", "--format", "json"]);
            assert_eq!(again["already_settled"], true);
        }),
        ("cashpool limits --as-of 2026-11-30 --format table", |s, _| {
            let limits = s.json(&["limits", "--as-of", "2026-11-30", "--format", "json"]);
            // The quotas apart (docs/LIMITS.md): the pool owes LGT-HK CNY 1,320,000.00 (× 1.5) and
            // its own international master USD 2,717,465.00 worth 19,300,795.16 (× 1.5 + 0.5), and
            // has lent LGT-DE EUR 62,300.00 worth 479,784.76. Foreign debt 1,980,000.00 +
            // 38,601,590.32; overseas lending 479,784.76 (one net position hid it: 20,141,010.40).
            let balances: Vec<[String; 4]> = items(&limits, "pool_balances")
                .iter()
                .map(|b| ["counterparty", "currency", "amount", "base"].map(|key| string(b, key)))
                .collect();
            assert_eq!(
                balances,
                [
                    ["LGT-DE", "EUR", "-62300.00", "-479784.76"],
                    ["LGT-HK", "CNY", "1320000.00", "1320000.00"],
                    ["LGT-SH", "USD", "2717465.00", "19300795.16"]
                ]
                .map(|row| row.map(String::from))
            );
            assert_eq!(
                ["cap", "used", "headroom"].map(|key| string(&limits["inflow"], key)),
                ["175000000.00", "40581590.32", "134418409.68"]
            );
            assert_eq!(
                ["cap", "used", "headroom"].map(|key| string(&limits["outflow"], key)),
                ["40000000.00", "479784.76", "39520215.24"]
            );
        }),
        ("cashpool balances --as-of 2026-11-30 --account SH-IMA --format table", |s, run| {
            assert!(run.stdout.contains("5,852,914.19"), "{}", run.stdout);
            let fees = s.json(&["balances", "--account", "SYS-FEES", "--currency", "USD", "--format", "json"]);
            assert_eq!(string(&items(&fees, "balances")[0], "balance"), "35.00");
            // SH-IMA's liquidity at the rates of Friday 27 November, the latest on or before the 30th.
            let ima = s.json(&["balances", "--as-of", "2026-11-30", "--account", "SH-IMA", "--format", "json"]);
            let usd = items(&ima, "totals").into_iter().find(|line| line["currency"] == "USD").expect("a USD line");
            assert_eq!(
                ["market", "rate", "rate_date", "total_base"].map(|key| string(&usd, key)),
                ["offshore", "7.1119", "2026-11-27", "41625340.43"]
            );
            assert_eq!(string(&ima["base_total"], "amount"), "44710382.03");
            let all = s.json(&["balances", "--format", "json"]);
            assert_eq!(all["base_total"]["complete"], true, "{all}");
            assert_eq!(string(&all["base_total"], "amount"), "189411182.49");
        }),
        ("cashpool audit verify --exclusive --format table", |s, _| {
            assert_eq!(s.entries(), 99);
            let verify = s.json(&["audit", "verify", "--exclusive", "--format", "json"]);
            assert_eq!((verify["ok"].as_bool(), verify["stored_balances_checked"].as_bool()), (Some(true), Some(true)));
        }),
        ("cashpool audit replay --exclusive --format table", |s, _| {
            let replay = s.json(&["audit", "replay", "--exclusive", "--format", "json"]);
            assert_eq!((replay["entries"].as_u64(), replay["matches_store"].as_bool()), (Some(99), Some(true)));
        }),
        ("cashpool --read-only audit verify --format table", |s, _| {
            // A reader: the journal, not the stored balances (REGULATOR.md §6).
            let verify = s.json(&["--read-only", "audit", "verify", "--format", "json"]);
            assert_eq!(
                (verify["entries"].as_u64(), verify["stored_balances_checked"].as_bool()),
                (Some(99), Some(false))
            );
            let replay = s.json(&["--read-only", "audit", "replay", "--format", "json"]);
            assert_eq!(replay["matches_store"], Value::Null);
        }),
        ("cashpool --read-only audit replay --exclusive --format table", |s, _| {
            let replay = s.json(&["--read-only", "audit", "replay", "--exclusive", "--format", "json"]);
            assert_eq!((replay["entries"].as_u64(), replay["matches_store"].as_bool()), (Some(99), Some(true)));
        }),
        ("cashpool audit verify --journal journal.jsonl --format table", |s, _| {
            let copy = s.json(&["audit", "verify", "--journal", "journal.jsonl", "--format", "json"]);
            let store = s.json(&["audit", "verify", "--format", "json"]);
            assert_eq!(
                (&copy["ok"], &copy["entries"], &copy["head"]),
                (&store["ok"], &store["entries"], &store["head"])
            );
            // REGULATOR.md §5: one amount of entry 45 changed, on both postings.
            let text = std::fs::read_to_string(s.path("journal.jsonl")).expect("read the export");
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            assert!(lines[44].contains("\"id\":\"T-1030-002\""), "entry 45 is T-1030-002: {}", lines[44]);
            lines[44] = lines[44].replace("\"118050000\"", "\"118005000\"");
            std::fs::write(s.path("tampered.jsonl"), lines.join("\n") + "\n").expect("write the tampered copy");
            for args in [
                &["audit", "verify", "--journal", "tampered.jsonl", "--format", "json"][..],
                &["audit", "replay", "--journal", "tampered.jsonl", "--format", "json"][..],
            ] {
                let bad = s.cashpool(args).expect(3).json();
                assert_eq!((bad["ok"].as_bool(), bad["first_bad_seq"].as_u64()), (Some(false), Some(45)), "{bad}");
                assert!(
                    string(&bad, "reason").starts_with("line 45: the content does not match its hash (recomputed "),
                    "{bad}"
                );
                if args[1] == "verify" {
                    assert_eq!(bad["entries"], 44);
                }
            }
            s.cashpool(&["recon", "report", "--journal", "tampered.jsonl", "--format", "json"]).expect(3);
        }),
        ("cashpool audit replay --journal journal.jsonl --format table", |s, _| {
            let copy = s.json(&["audit", "replay", "--journal", "journal.jsonl", "--format", "json"]);
            let store = s.json(&["audit", "replay", "--format", "json"]);
            for key in ["entries", "head", "state_digest"] {
                assert_eq!(copy[key], store[key], "{key}");
            }
            assert_eq!(copy["matches_store"], Value::Null);
        }),
        ("cashpool audit replay --to 59 --format table", |s, _| {
            let copy = s.json(&["audit", "replay", "--journal", "journal.jsonl", "--to", "59", "--format", "json"]);
            let store = s.json(&["audit", "replay", "--to", "59", "--format", "json"]);
            assert_eq!(copy["entries"], 59);
            for key in ["entries", "head", "state_digest"] {
                assert_eq!(copy[key], store[key], "{key}");
            }
        }),
        ("cashpool recon report --journal journal.jsonl --format table", |s, _| {
            let copy = s.json(&["recon", "report", "--journal", "journal.jsonl", "--format", "json"]);
            let store = s.json(&["recon", "report", "--format", "json"]);
            assert_eq!(copy, store, "the regulator's report is the operator's");
            assert_eq!(string(&copy, "match_rate"), "100.00");
        }),
        ("cashpool --read-only post examples/day/transactions.csv --report table", |s, run| {
            assert!(
                run.stderr.contains("error: --read-only: this command writes to the store and is refused"),
                "{}",
                run.stderr
            );
            assert_eq!(s.entries(), 99);
        }),
        ("hledger -f pool.journal --strict balance --flat --no-total --layout bare -O csv", |s, run| {
            // hledger's balances (zero ones left out) are cashpool's non-zero ones, amount strings included.
            let unquote = |field: &str| field.trim().trim_matches('"').to_string();
            let mut hledger: Vec<[String; 3]> = run
                .stdout
                .lines()
                .skip(1)
                .filter(|line| !line.trim().is_empty())
                .map(|line| {
                    let fields: Vec<String> = line.split(',').map(unquote).collect();
                    [fields[0].clone(), fields[1].clone(), fields[2].clone()]
                })
                .collect();
            let balances = s.json(&["balances", "--format", "json"]);
            let mut cashpool: Vec<[String; 3]> = items(&balances, "balances")
                .iter()
                .map(|row| ["account", "currency", "balance"].map(|key| string(row, key)))
                .filter(|[_, _, balance]| !balance.parse::<rust_decimal::Decimal>().unwrap().is_zero())
                .collect();
            hledger.sort();
            cashpool.sort();
            assert_eq!(hledger, cashpool);
        }),
        (
            "cashpool --read-only net --invoices examples/day/invoices-2026-11.csv --date 2026-11-30 --format table",
            |s, _| {
                assert_eq!(s.entries(), 99, "the refused writes wrote nothing");
            },
        ),
    ]
}

#[test]
fn the_guides_run_as_written() {
    let mut session = Session::new();
    let checks = checks();
    let mut fired = BTreeSet::new();
    let mut skipped = Vec::new();
    for guide in GUIDES {
        let markdown = std::fs::read_to_string(Path::new(REPO).join(guide)).expect("read the guide");
        let steps = parse_guide(guide, &markdown);
        let n_runs = steps.iter().filter(|step| matches!(step.action, Action::Run { .. })).count();
        assert!(n_runs >= 10, "{guide}: only {n_runs} commands found; are its blocks still ```sh?");
        // Every line the guide's commands printed so far, and whether the last one was skipped.
        let mut printed: BTreeSet<String> = BTreeSet::new();
        let mut last_skipped = false;
        for step in steps {
            let (program, args) = match &step.action {
                Action::Export { name, value } => {
                    if name == "CASHPOOL_NOW" {
                        assert_eq!(value, common::NOW, "{}: the guide's clock is the tests' clock", step.place);
                    }
                    session.env.insert(name.clone(), value.clone());
                    continue;
                }
                Action::Excerpt { lines } => {
                    if last_skipped {
                        eprintln!("{}: excerpt not checked, the command before it was skipped", step.place);
                        continue;
                    }
                    for line in lines.iter().filter(|line| !line.trim().is_empty() && !line.contains('…')) {
                        assert!(
                            printed.contains(line.as_str()),
                            "{}: the excerpt line {line:?} is not in the output of the commands before it \
                             (run `cargo test -p cashpool-cli --test guides -- --nocapture` to see it)",
                            step.place
                        );
                    }
                    continue;
                }
                Action::Run { program, args } => (program, args),
            };
            if program != "cashpool" && !installed(program) {
                let required = format!("CASHPOOL_REQUIRE_{}", program.to_ascii_uppercase());
                assert!(
                    std::env::var(&required).as_deref() != Ok("1"),
                    "{}: {program} is not installed and {required}=1 requires it: {}",
                    step.place,
                    step.command
                );
                eprintln!("{}: skipped, {program} is not installed: {}", step.place, step.command);
                skipped.push(step.place.clone());
                last_skipped = true;
                if let Some((command, _)) = checks.iter().find(|(command, _)| *command == step.command) {
                    fired.insert(*command);
                }
                continue;
            }
            let run = session.run(program, args);
            last_skipped = false;
            printed.extend(run.stdout.lines().chain(run.stderr.lines()).map(|line| line.trim_end().to_string()));
            println!("$ {}    ({}, exit {})\n{}{}", step.command, step.place, run.code, run.stdout, run.stderr);
            assert_eq!(
                run.code, step.expect,
                "{}: `{}` exited {} (the guide says {})\n--- stdout\n{}\n--- stderr\n{}",
                step.place, step.command, run.code, step.expect, run.stdout, run.stderr
            );
            for (command, check) in &checks {
                if *command == step.command {
                    check(&session, &run);
                    fired.insert(*command);
                }
            }
        }
    }
    let missing: Vec<&str> = checks.iter().map(|(command, _)| *command).filter(|c| !fired.contains(c)).collect();
    assert!(
        missing.is_empty(),
        "checks of commands no guide runs any more (update the check):\n{}",
        missing.join("\n")
    );
    if !skipped.is_empty() {
        eprintln!("{} line(s) skipped: {}", skipped.len(), skipped.join(", "));
    }
}

#[test]
fn guide_lines_are_read_as_documented() {
    let markdown = "text\n```sh\n# a comment\nexport CASHPOOL_DATA=treasury\n\ncashpool a  b   # exit 2: refused\n\
                    hledger -f x balance\n```\n```text\nan excerpt  \n\n```\n```json\ncashpool not run\n```\n";
    let steps = parse_guide("g.md", markdown);
    assert_eq!(steps.len(), 4);
    assert!(
        matches!(&steps[0].action, Action::Export { name, value } if name == "CASHPOOL_DATA" && value == "treasury")
    );
    assert!(matches!(&steps[1].action, Action::Run { program, args } if program == "cashpool" && args == &["a", "b"]));
    assert_eq!((steps[1].expect, steps[1].command.as_str(), steps[1].place.as_str()), (2, "cashpool a  b", "g.md:6"));
    assert!(matches!(&steps[2].action, Action::Run { program, .. } if program == "hledger"));
    assert!(matches!(&steps[3].action, Action::Excerpt { lines } if lines == &["an excerpt", ""]));
    assert_eq!(steps[3].place, "g.md:9");
    let refused = std::panic::catch_unwind(|| parse_guide("g.md", "```sh\ncashpool post *.csv\n```\n"));
    assert!(refused.is_err(), "a glob is refused");
    let refused = std::panic::catch_unwind(|| parse_guide("g.md", "```sh\nrm -rf treasury\n```\n"));
    assert!(refused.is_err(), "an unknown program is refused");
    let refused = std::panic::catch_unwind(|| parse_guide("g.md", "```sh\ncashpool balances\n"));
    assert!(refused.is_err(), "an unclosed block is refused");
}
