//! The bad-input corpus: realistic malformed files for every input of
//! `cashpool`, each refused with the contract's exit code and a message that
//! names the file, the line or row, the field and the reason, and none of them
//! changing the store (`CONTRACT.md`: exit codes 2 and 3, "every error message
//! names the file, the row or line, the field and the reason").
//!
//! The files and their manifest live in `tests/bad-input/` at the workspace
//! root; `cases.json` says, for each file, the command, the exit code and the
//! fragments the message must hold (its `about` describes the format). A case
//! whose message falls short of the contract carries a `known_gap`: the test
//! asserts everything else and prints the gap, so the list of product defects
//! stays visible (`cargo test -p cashpool-cli --test bad_input -- --nocapture`).
//!
//! One store serves every case: the example group with the example rates and
//! calendars and `tests/bad-input/setup/opening.csv` posted. After each case the journal's
//! length and head (`audit verify`) and the replayed state digest (`audit
//! replay`) must equal those before it. Group definitions run `init` on a fresh
//! folder, which must stay without a store.

mod common;
use common::{string, text, Run, Snapshot};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use tempfile::TempDir;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/bad-input");
const EXAMPLE_GROUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lingang-group.toml");
const EXAMPLE_RATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/rates-2026-11.csv");
const EXAMPLE_CALENDARS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/calendars-2026.csv");

/// Files of the corpus that are not cases: the manifest, the store's setup and the controls.
const SETUP: &str = "setup/opening.csv";
const VALID_GROUP: &str = "group/valid-small-group.toml";
const VALID_EXPORT: &str = "journal/valid-export.jsonl";
const NOT_CASES: [&str; 4] = ["cases.json", SETUP, VALID_GROUP, VALID_EXPORT];
/// Entries of `journal/valid-export.jsonl`.
const VALID_EXPORT_ENTRIES: u64 = 19;

/// The floor: malformed files that the product refuses with exit 2 or 3.
const MIN_REFUSED: usize = 60;
/// And at least this many for each kind of input (the corpus's folders).
const MIN_PER_KIND: usize = 5;

// ---------------------------------------------------------------------------
// The manifest
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[allow(dead_code)]
    about: Vec<String>,
    commands: BTreeMap<String, String>,
    cases: Vec<Case>,
    imported_with_diagnostics: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Commands {
    One(String),
    Several(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Scope {
    /// The whole file is wrong: no field (and perhaps no line) applies.
    File,
    /// The whole line is wrong: no field applies.
    Line,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    file: String,
    command: Commands,
    /// The exit code the contract asks for.
    exit: i32,
    mistake: String,
    line: Option<String>,
    field: Option<String>,
    reason: Option<String>,
    #[serde(default)]
    scope: Option<Scope>,
    #[serde(default)]
    known_gap: Option<String>,
    /// The exit code the product gives instead of `exit` (a known gap).
    #[serde(default)]
    observed_exit: Option<i32>,
    /// The observed run writes to the store.
    #[serde(default)]
    writes: bool,
    #[serde(default = "yes")]
    file_named: bool,
    #[serde(default)]
    first_bad_seq: Option<u64>,
    /// Statements an `imported_with_diagnostics` file journals.
    #[serde(default)]
    statements: Option<u64>,
}

fn yes() -> bool {
    true
}

impl Case {
    fn commands(&self) -> Vec<&str> {
        match &self.command {
            Commands::One(name) => vec![name.as_str()],
            Commands::Several(names) => names.iter().map(String::as_str).collect(),
        }
    }

    /// The folder of the file: the kind of input.
    fn kind(&self) -> &str {
        self.file.split('/').next().unwrap_or_default()
    }

    fn path(&self) -> PathBuf {
        corpus().join(&self.file)
    }

    fn expected_exit(&self) -> i32 {
        self.observed_exit.unwrap_or(self.exit)
    }

    /// A malformed file the product refuses as the contract asks (the count).
    fn refused(&self) -> bool {
        matches!(self.exit, 2 | 3) && self.observed_exit.is_none()
    }

    fn label(&self) -> String {
        format!("{} ({})", self.file, self.commands().join(" + "))
    }

    /// The manifest's own rules (see its `about`).
    fn problems(&self, commands: &BTreeMap<String, String>) -> Vec<String> {
        let mut problems = Vec::new();
        for name in self.commands() {
            if !commands.contains_key(name) {
                problems.push(format!("unknown command {name:?}"));
            }
        }
        let gap = self.known_gap.is_some();
        if self.mistake.trim().is_empty() {
            problems.push("no `mistake`".into());
        }
        if self.reason.is_none() && self.observed_exit.is_none() {
            problems.push("`reason` is null without `observed_exit`".into());
        }
        if self.line.is_none() && self.scope != Some(Scope::File) && !gap {
            problems.push("`line` is null without `scope = file` or a `known_gap`".into());
        }
        if self.field.is_none() && self.scope.is_none() && !gap {
            problems.push("`field` is null without a `scope` or a `known_gap`".into());
        }
        if (self.observed_exit.is_some() || !self.file_named) && !gap {
            problems.push("`observed_exit` or `file_named: false` without a `known_gap`".into());
        }
        if self.observed_exit == Some(self.exit) {
            problems.push("`observed_exit` equals `exit`".into());
        }
        if self.writes && self.expected_exit() != 0 {
            problems.push("`writes` on a run that fails".into());
        }
        if self.first_bad_seq.is_some() != (self.expected_exit() == 3) {
            problems.push("`first_bad_seq` must be given exactly for exit code 3".into());
        }
        problems
    }
}

/// The corpus folder, without the `..` of `CORPUS` (messages show the paths as given).
fn corpus() -> PathBuf {
    Path::new(CORPUS).canonicalize().unwrap_or_else(|err| panic!("{CORPUS}: {err}"))
}

fn manifest() -> Manifest {
    let path = corpus().join("cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Every file of the corpus, relative to it, with `/` separators.
fn corpus_files() -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).expect("under the corpus");
                out.insert(
                    relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"),
                );
            }
        }
    }
    let mut files = BTreeSet::new();
    let root = corpus();
    walk(&root, &root, &mut files);
    files
}

// ---------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------

fn cashpool(data: &Path, args: &[&str]) -> Run {
    common::cashpool_as("bad-input-test", data, args)
}

/// The command's arguments with `{file}` replaced (split before replacing, so a path may hold spaces).
fn arguments(template: &str, file: &str) -> Vec<String> {
    template.split_whitespace().map(|word| word.replace("{file}", file)).collect()
}

fn run_case(data: &Path, template: &str, file: &str) -> Run {
    let args = arguments(template, file);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cashpool(data, &args)
}

/// What a reader of the failure sees: standard error, and the JSON `reason` of `audit verify`/`replay`.
fn message(run: &Run) -> String {
    let mut message = run.stderr.clone();
    if let Ok(value) = serde_json::from_str::<Value>(&run.stdout) {
        if let Some(reason) = value.get("reason").and_then(Value::as_str) {
            message.push('\n');
            message.push_str(reason);
        }
    }
    message
}

/// What `case` asks of one run of one command; the list of what is wrong.
fn check_run(case: &Case, command: &str, run: &Run, file: &str) -> Vec<String> {
    let mut wrong = Vec::new();
    let exit = case.expected_exit();
    if run.code != exit {
        wrong.push(format!("{command}: exit code {} (expected {exit})", run.code));
    }
    let message = message(run);
    let mut fragments: Vec<String> = Vec::new();
    if case.file_named && case.reason.is_some() {
        fragments.push(file.to_string());
    }
    for fragment in [&case.line, &case.field, &case.reason].into_iter().flatten() {
        fragments.push(fragment.replace("{file}", file));
    }
    for fragment in fragments {
        if !message.contains(&fragment) {
            wrong.push(format!("{command}: the message lacks {fragment:?}"));
        }
    }
    if message.contains("panicked") || run.code == 101 {
        wrong.push(format!("{command}: the binary panicked"));
    }
    if let Some(seq) = case.first_bad_seq {
        match serde_json::from_str::<Value>(&run.stdout) {
            Ok(value) => {
                if value["ok"] != Value::Bool(false) || value["first_bad_seq"].as_u64() != Some(seq) {
                    wrong.push(format!("{command}: expected {{\"ok\": false, \"first_bad_seq\": {seq}}}, got {value}"));
                }
            }
            Err(err) => wrong.push(format!("{command}: stdout is not JSON ({err})")),
        }
    }
    if !wrong.is_empty() {
        wrong.push(format!("--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr));
    }
    wrong
}

/// The store every case but `init` runs on.
struct Pool {
    store: TempDir,
}

impl Pool {
    /// The example group, the example rates and calendars, and `setup/opening.csv`.
    fn new() -> Pool {
        let pool = Pool { store: tempfile::tempdir().expect("tempdir") };
        pool.run(&["init", "--config", EXAMPLE_GROUP, "--format", "json"]).expect(0);
        pool.run(&["rates", "import", EXAMPLE_RATES, "--format", "json"]).expect(0);
        pool.run(&["calendars", "import", EXAMPLE_CALENDARS, "--format", "json"]).expect(0);
        let setup = corpus().join(SETUP);
        let report = pool.run(&["post", text(&setup), "--report", "json"]).expect(0).json();
        assert_eq!(report["posted"], 8, "{report}");
        pool
    }

    fn data(&self) -> &Path {
        self.store.path()
    }

    fn run(&self, args: &[&str]) -> Run {
        cashpool(self.data(), args)
    }

    fn snapshot(&self) -> Snapshot {
        let verify = self.run(&["audit", "verify", "--exclusive", "--format", "json"]).expect(0).json();
        assert_eq!(verify["ok"], true, "{verify}");
        let replay = self.run(&["audit", "replay", "--exclusive", "--format", "json"]).expect(0).json();
        assert_eq!(replay["matches_store"], true, "{replay}");
        Snapshot {
            entries: verify["entries"].as_u64().expect("entries is a number"),
            head: string(&verify, "head"),
            state_digest: string(&replay, "state_digest"),
        }
    }
}

/// Prints the known gaps of `cases`, one line per gap with the cases that show it
/// (shown with `--nocapture`, and with any failure).
fn print_gaps<'a>(cases: impl IntoIterator<Item = &'a Case>) {
    let mut gaps: Vec<(String, Vec<String>)> = Vec::new();
    for case in cases {
        let Some(gap) = &case.known_gap else { continue };
        let gap = match case.observed_exit {
            Some(observed) => format!("[exit code {observed}, contract {}] {gap}", case.exit),
            None => gap.clone(),
        };
        match gaps.iter_mut().find(|(text, _)| *text == gap) {
            Some((_, labels)) => labels.push(case.label()),
            None => gaps.push((gap, vec![case.label()])),
        }
    }
    for (gap, labels) in gaps {
        println!("known gap: {}: {gap}", labels.join(", "));
    }
}

#[track_caller]
fn assert_no_failures(failures: &[String]) {
    assert!(failures.is_empty(), "{} failure(s):\n\n{}", failures.len(), failures.join("\n\n"));
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn the_manifest_covers_every_file_and_every_input_at_least_sixty_times() {
    let manifest = manifest();
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for case in manifest.cases.iter().chain(&manifest.imported_with_diagnostics) {
        for problem in case.problems(&manifest.commands) {
            problems.push(format!("{}: {problem}", case.label()));
        }
        if !listed.insert(case.file.clone()) {
            problems.push(format!("{}: listed twice", case.file));
        }
        // A missing file is a case of its own (exit code 1); every other case's file exists.
        if case.exit != 1 && !case.path().is_file() {
            problems.push(format!("{}: no such file in the corpus", case.file));
        }
    }
    for case in &manifest.imported_with_diagnostics {
        if case.exit != 0 || case.statements.is_none() || case.commands() != ["recon"] {
            problems.push(format!("{}: a diagnostics case is `recon`, exit 0, with `statements`", case.file));
        }
    }
    for file in corpus_files() {
        if !listed.contains(&file) && !NOT_CASES.contains(&file.as_str()) {
            problems.push(format!("{file}: in the corpus but not in the manifest"));
        }
    }
    assert!(problems.is_empty(), "cases.json:\n{}", problems.join("\n"));

    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for case in manifest.cases.iter().filter(|case| case.refused()) {
        *per_kind.entry(case.kind()).or_default() += 1;
    }
    let total: usize = per_kind.values().sum();
    println!("malformed files refused with exit code 2 or 3: {total} {per_kind:?}");
    assert!(total >= MIN_REFUSED, "only {total} refused files (at least {MIN_REFUSED}): {per_kind:?}");
    for kind in ["group", "tx-csv", "tx-jsonl", "rates", "calendars", "invoices", "figures", "statements", "journal"] {
        let count = per_kind.get(kind).copied().unwrap_or(0);
        assert!(count >= MIN_PER_KIND, "{kind}: only {count} refused files (at least {MIN_PER_KIND})");
    }
}

#[test]
fn a_bad_group_definition_creates_no_store() {
    let manifest = manifest();
    let template = &manifest.commands["init"];
    let folders = tempfile::tempdir().expect("tempdir");

    // The control: the group every bad definition is derived from is accepted.
    let control = folders.path().join("control");
    let valid = corpus().join(VALID_GROUP);
    run_case(&control, template, text(&valid)).expect(0);

    let cases: Vec<&Case> = manifest.cases.iter().filter(|case| case.commands() == ["init"]).collect();
    let mut failures = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let data = folders.path().join(format!("store-{n}"));
        let path = case.path();
        let run = run_case(&data, template, text(&path));
        let mut wrong = check_run(case, "init", &run, text(&path));
        let left: Vec<String> = match std::fs::read_dir(&data) {
            Ok(entries) => {
                entries.map(|e| e.expect("a directory entry").file_name().to_string_lossy().into_owned()).collect()
            }
            Err(_) => Vec::new(),
        };
        if !left.is_empty() {
            wrong.push(format!("init left a store behind in {}: {left:?}", data.display()));
        }
        if !wrong.is_empty() {
            failures.push(format!("{} — {}\n{}", case.label(), case.mistake, wrong.join("\n")));
        }
    }
    print_gaps(cases.iter().copied());
    assert_no_failures(&failures);
}

#[test]
fn every_bad_file_is_refused_and_leaves_the_store_unchanged() {
    let manifest = manifest();
    let pool = Pool::new();

    // The control: the export every tampered journal is derived from verifies and replays.
    let valid = corpus().join(VALID_EXPORT);
    let verified = run_case(pool.data(), &manifest.commands["verify"], text(&valid)).expect(0).json();
    assert_eq!(verified["entries"].as_u64(), Some(VALID_EXPORT_ENTRIES), "{verified}");
    let replayed = run_case(pool.data(), &manifest.commands["replay"], text(&valid)).expect(0).json();
    assert_eq!(replayed["head"], verified["head"], "{replayed}");

    // Cases that write (known gaps) run last, so that every other one is compared with the same store.
    let (writers, readers): (Vec<&Case>, Vec<&Case>) =
        manifest.cases.iter().filter(|case| case.commands() != ["init"]).partition(|case| case.writes);
    let mut failures = Vec::new();
    let mut before = pool.snapshot();
    for case in readers.iter().chain(&writers) {
        let path = case.path();
        let mut wrong = Vec::new();
        for command in case.commands() {
            let run = run_case(pool.data(), &manifest.commands[command], text(&path));
            wrong.extend(check_run(case, command, &run, text(&path)));
        }
        let after = pool.snapshot();
        if case.writes {
            if after.entries <= before.entries {
                wrong.push(format!(
                    "expected the (known, wrong) write; the journal stayed at {} entries",
                    after.entries
                ));
            }
            before = after;
        } else if after != before {
            wrong.push(format!("the store changed: before {before:?}, after {after:?}"));
            before = after;
        }
        if !wrong.is_empty() {
            failures.push(format!("{} — {}\n{}", case.label(), case.mistake, wrong.join("\n")));
        }
    }
    print_gaps(readers.iter().chain(&writers).copied());
    assert_no_failures(&failures);
}

#[test]
fn a_garbled_statement_is_imported_with_its_diagnostics() {
    let manifest = manifest();
    let pool = Pool::new();
    let template = &manifest.commands["recon"];
    let mut failures = Vec::new();
    let mut before = pool.snapshot();
    for case in &manifest.imported_with_diagnostics {
        let path = case.path();
        let run = run_case(pool.data(), template, text(&path));
        let mut wrong = check_run(case, "recon", &run, text(&path));
        let statements = case.statements.expect("checked by the manifest test");
        if run.code == 0 {
            let out = run.json();
            let imported = out["imported"].as_array().cloned().unwrap_or_default();
            if imported.len() as u64 != statements || imported.iter().any(|s| s["status"] != "new") {
                wrong.push(format!("expected {statements} new statement(s), got {}", out["imported"]));
            }
        }
        let after = pool.snapshot();
        if after.entries != before.entries + statements {
            wrong.push(format!(
                "the journal went from {} to {} entries (expected +{statements})",
                before.entries, after.entries
            ));
        }
        before = after;
        if !wrong.is_empty() {
            failures.push(format!("{} — {}\n{}", case.label(), case.mistake, wrong.join("\n")));
        }
    }
    print_gaps(&manifest.imported_with_diagnostics);
    assert_no_failures(&failures);
}
