//! End-to-end tests of the `cashpool` binary for FX rates, the pool's limits,
//! dated parameter changes and the eligibility check: `rates import`,
//! `limits [--as-of]`, `limits set`, `pool check` (`CONTRACT.md`,
//! `docs/LIMITS.md`, `docs/GUIDE.md` §5).
//!
//! As in `cli.rs`, every test runs the binary on its own fresh store (a
//! temporary folder given as `--data`) with `CASHPOOL_NOW` and
//! `CASHPOOL_OPERATOR` fixed, and reads `--format json` (or `post --report
//! json`) wherever it reads output.
//!
//! Inputs: the example group `examples/lingang-group.toml` (pool caps from
//! `[[pool.limits]]`: owners' equity 50,000,000.00, inflow leverage 2, inflow
//! parameter 1.5 from 2023-07-20 and 1.75 from 2025-01-13, outflow coefficient
//! 0.8; macro-prudential parameter: the default history, 1.5 from 2023-07-20
//! and 1.75 from 2025-01-13), the ledger's rates fixture `november.csv` and
//! figures fixture `lingang-figures.csv`, and the files of
//! `tests/fixtures/limits/`:
//!
//! | file | what |
//! |---|---|
//! | `funding.csv` | EXT-ONSHORE -> SH-DMA USD 10,000,000.00; EXT-OFFSHORE -> FTZ-FTE USD 100,000.00 and CNY 100,000.00 (2026-11-02) |
//! | `pool_funding.csv` | PF-1: SH-DMA -> HK-OPS USD 1,234,568.75 `pool_funding`, value 2026-11-05 (an outflow; × 7.1032 is a rounding tie) |
//! | `second_line_*.csv` | FTZ-FTE -> SH-DMA in USD (`current_account`: cross-border between two entities, refused under `second_line_between_entities = "same_name"`), and FTZ-FTE -> FTZ-OPS in CNY for `pool_funding` (LGT-FTZ's own accounts: refused) |
//! | `rates_*.csv` | rates files with one fault each, most with the good row `2026-12-01,USD,onshore,7.1100` first; `rates_conflict.csv` changes the imported 2026-11-02 USD onshore rate |
//! | `rates_overlap.csv` | two rows already in `november.csv` (one written `7.109200`) and two new ones |
//! | `figures_*.csv` | a figures file with bad fields on lines 3-6, one with a wrong header, one with a bad `member_type` and `trade_rating` |
//!
//! Expected amounts in the base currency are computed here from the rates
//! fixture (the onshore rate of the value date, or the latest before it),
//! rounded half-even to 0.01 CNY, as `docs/LIMITS.md` states.

mod common;
use common::{keys, sorted, string, text, Run, Snapshot};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};
use tempfile::TempDir;

const EXAMPLE_GROUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lingang-group.toml");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/limits");
const RATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../cashpool-files/tests/fixtures/rates/november.csv");
const FIGURES: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../cashpool-files/tests/fixtures/eligibility/lingang-figures.csv");
/// The same figures without the `member_type` and `trade_rating` columns (a file written before they were checked).
const FIGURES_SIX_COLUMNS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../cashpool-files/tests/fixtures/eligibility/lingang-figures-six-columns.csv"
);

/// Entries `init` writes for the example group: the definition, 11 accounts, 5 system accounts, 7 intercompany accounts.
const INIT_ENTRIES: u64 = 24;

const CSV_HEADER: &str = "id,value_date,from,to,currency,amount,purpose,reference,memo";
const RATES_HEADER: &str = "date,currency,market,rate";
/// The good row every bad rates fixture starts with (not in `november.csv`).
const GOOD_RATE_ROW: &str = "2026-12-01,USD,onshore,7.1100";

/// The pool's caps of the example group, in force from 2025-01-13: 50,000,000 × 2 × 1.75 and 50,000,000 × 0.8.
const INFLOW_CAP: &str = "175000000.00";
const OUTFLOW_CAP: &str = "40000000.00";
/// PF-1 of `pool_funding.csv`.
const PF1_AMOUNT: &str = "1234568.75";
const PF1_DATE: &str = "2026-11-05";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

/// Runs `cashpool --data DATA ARGS...` with the reproducible environment.
fn cashpool(data: &Path, args: &[&str]) -> Run {
    common::cashpool_as("limits-test", data, args)
}

/// (cap, used, headroom) of one direction of `limits --format json`.
type CapUse = (String, String, String);

/// A store in a fresh temporary folder, and a second folder for input files.
struct Pool {
    store: TempDir,
    files: TempDir,
}

impl Pool {
    /// The example group, initialised.
    fn init() -> Pool {
        Pool::init_with(|text| text)
    }

    /// The example group changed by `edit`, initialised.
    fn init_with(edit: impl Fn(String) -> String) -> Pool {
        let pool = Pool { store: tempfile::tempdir().expect("tempdir"), files: tempfile::tempdir().expect("tempdir") };
        let text = std::fs::read_to_string(EXAMPLE_GROUP).expect("the example group");
        let config = pool.write("group.toml", &edit(text));
        let init = pool.run(&["init", "--config", &config.to_string_lossy(), "--format", "json"]).expect(0).json();
        assert_eq!(init["entries"], INIT_ENTRIES, "{init}");
        pool
    }

    /// The example group with the November rates imported.
    fn rated() -> Pool {
        Pool::rated_with(|text| text)
    }

    /// The example group changed by `edit`, with the November rates imported.
    fn rated_with(edit: impl Fn(String) -> String) -> Pool {
        let pool = Pool::init_with(edit);
        let import = pool.run(&["rates", "import", RATES, "--format", "json"]).expect(0).json();
        assert_eq!(import["imported"], november_rows().len(), "{import}");
        pool
    }

    /// The example group with the November rates and `funding.csv`.
    fn funded() -> Pool {
        Pool::funded_with(|text| text)
    }

    /// The example group changed by `edit`, with the November rates and `funding.csv`.
    fn funded_with(edit: impl Fn(String) -> String) -> Pool {
        let pool = Pool::rated_with(edit);
        let report = pool.post(&fixture("funding.csv")).expect(0).json();
        assert_eq!(report["posted"], 3, "{report}");
        pool
    }

    fn data(&self) -> &Path {
        self.store.path()
    }

    fn run(&self, args: &[&str]) -> Run {
        cashpool(self.data(), args)
    }

    /// Writes an input file into the files folder.
    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.files.path().join(name);
        std::fs::write(&path, content).expect("write an input file");
        path
    }

    /// `post FILE --report json`
    fn post(&self, file: &Path) -> Run {
        self.run(&["post", text(file), "--report", "json"])
    }

    /// Posts one CSV movement row (without the header) from a file of its own.
    fn post_row(&self, name: &str, row: &str) -> Run {
        let file = self.write(&format!("{name}.csv"), &format!("{CSV_HEADER}\n{row}\n"));
        self.post(&file)
    }

    /// `limits --format json EXTRA...`
    #[track_caller]
    fn limits(&self, extra: &[&str]) -> Value {
        let mut args = vec!["limits", "--format", "json"];
        args.extend_from_slice(extra);
        self.run(&args).expect(0).json()
    }

    /// The journal's length and head (`audit verify`) and the state digest (`audit replay`), with the
    /// stored balances compared too (`--exclusive`).
    #[track_caller]
    fn snapshot(&self) -> Snapshot {
        let verify = self.run(&["audit", "verify", "--exclusive", "--format", "json"]).expect(0).json();
        assert_eq!(verify["ok"], true, "{verify}");
        let replay = self.run(&["audit", "replay", "--exclusive", "--format", "json"]).expect(0).json();
        assert_eq!(replay["matches_store"], true, "{replay}");
        assert_eq!(replay["entries"], verify["entries"], "{replay} vs {verify}");
        Snapshot {
            entries: verify["entries"].as_u64().expect("entries is a number"),
            head: verify["head"].as_str().expect("head is a string").to_string(),
            state_digest: replay["state_digest"].as_str().expect("state_digest is a string").to_string(),
        }
    }
}

/// (cap, used, headroom) of `inflow` or `outflow`.
#[track_caller]
fn cap_use(limits: &Value, direction: &str) -> CapUse {
    let object = &limits[direction];
    (string(object, "cap"), string(object, "used"), string(object, "headroom"))
}

/// (entity, foreign_debt_weighted, cap, headroom) of every entity.
#[track_caller]
fn entity_rows(limits: &Value) -> Vec<[String; 4]> {
    limits["entities"]
        .as_array()
        .unwrap_or_else(|| panic!("`entities` is not an array: {limits}"))
        .iter()
        .map(|e| [string(e, "entity"), string(e, "foreign_debt_weighted"), string(e, "cap"), string(e, "headroom")])
        .collect()
}

/// The cap of one entity.
#[track_caller]
fn entity_cap(limits: &Value, entity: &str) -> String {
    entity_rows(limits)
        .into_iter()
        .find(|row| row[0] == entity)
        .unwrap_or_else(|| panic!("no entity {entity} in {limits}"))[2]
        .clone()
}

fn owned(cap: &str, used: &str, headroom: &str) -> CapUse {
    (cap.to_string(), used.to_string(), headroom.to_string())
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|err| panic!("{text:?} is not a decimal: {err}"))
}

/// A CNY amount as the JSON shows it: exactly two decimals.
fn cny(amount: Decimal) -> String {
    let rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    let mut text = format!("{rounded:.2}");
    if text == "-0.00" {
        text = "0.00".into();
    }
    text
}

/// The rows of the rates fixture: (date, currency, market, rate).
fn november_rows() -> Vec<(String, String, String, Decimal)> {
    let content = std::fs::read_to_string(RATES).expect("read the rates fixture");
    let mut lines = content.lines();
    assert_eq!(lines.next(), Some(RATES_HEADER), "the rates fixture's header");
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 4, "{line}");
            (fields[0].to_string(), fields[1].to_string(), fields[2].to_string(), dec(fields[3]))
        })
        .collect()
}

/// The onshore rate of `currency` in force on `date` in the fixture: that day's, or the latest before it.
fn onshore_rate(currency: &str, date: &str) -> Decimal {
    november_rows()
        .into_iter()
        .filter(|(on, ccy, market, _)| ccy == currency && market == "onshore" && on.as_str() <= date)
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|row| row.3)
        .unwrap_or_else(|| panic!("the fixture has no onshore {currency} rate on or before {date}"))
}

/// `amount` of USD in CNY at the onshore rate of `date`, rounded half-even to 0.01 (docs/LIMITS.md).
fn usd_to_cny(amount: &str, date: &str) -> Decimal {
    (dec(amount) * onshore_rate("USD", date)).round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven)
}

/// Decimals of an amount string (`"710250.00"` → 2).
fn decimals(amount: &str) -> usize {
    amount.split_once('.').map_or(0, |(_, frac)| frac.len())
}

/// The single rejection of a `post --report json` that refused a one-row file.
#[track_caller]
fn only_rejection(run: &Run) -> Value {
    let report = run.json();
    assert_eq!(report["posted"], 0, "{report}");
    let rejected = report["rejected"].as_array().unwrap_or_else(|| panic!("no `rejected` array: {report}"));
    assert_eq!(rejected.len(), 1, "exactly the one row: {report}");
    rejected[0].clone()
}

// ---------------------------------------------------------------------------
// 1. `limits`: the contract's JSON and the caps of the example group
// ---------------------------------------------------------------------------

/// CONTRACT.md, JSON output: `limits`: `{"as_of", "inflow": {"cap", "used", "headroom"}, "outflow": {…},
/// "entities": [{"entity", "foreign_debt_weighted", "cap", "headroom"}]}`: exactly these fields, no others.
#[test]
fn limits_json_has_the_contract_fields_and_only_the_documented_extensions() {
    // CONTRACT.md's fields, plus the extensions documented in docs/LIMITS.md:
    // `base_currency`, `quota_model`, `pool_balances`, and each entity's facilitation quota and its use.
    let pool = Pool::init();
    let mut problems = Vec::new();
    for extra in [&[][..], &["--as-of", "2024-01-01"][..]] {
        let value = pool.limits(extra);
        let top = sorted(&["as_of", "inflow", "outflow", "entities", "base_currency", "quota_model", "pool_balances"]);
        if keys(&value) != top {
            problems.push(format!("limits {extra:?}: top-level keys {:?}, the contract has {top:?}", keys(&value)));
        }
        for direction in ["inflow", "outflow"] {
            let expected = sorted(&["cap", "used", "headroom", "peak", "peak_date"]);
            if keys(&value[direction]) != expected {
                problems.push(format!(
                    "limits {extra:?}: `{direction}` keys {:?}, the contract has {expected:?}",
                    keys(&value[direction])
                ));
            }
        }
        let expected = sorted(&[
            "entity",
            "foreign_debt_weighted",
            "cap",
            "headroom",
            "facilitation_quota_usd",
            "facilitation_used_usd",
        ]);
        let entities = value["entities"].as_array().cloned().unwrap_or_default();
        assert!(!entities.is_empty(), "{value}");
        for entity in &entities {
            if keys(entity) != expected {
                problems.push(format!(
                    "limits {extra:?}: entity {} keys {:?}, the contract has {expected:?}",
                    entity["entity"],
                    keys(entity)
                ));
                break;
            }
        }
    }
    assert!(problems.is_empty(), "`limits --format json` fields differ from CONTRACT.md:\n{}", problems.join("\n"));
}

#[test]
fn limits_shows_the_caps_of_the_example_group_and_the_row_in_force() {
    let pool = Pool::init();

    // Without --as-of: every movement (none) and the latest parameters.
    let now = pool.limits(&[]);
    assert_eq!(now["as_of"], Value::Null, "{now}");
    assert_eq!(cap_use(&now, "inflow"), owned(INFLOW_CAP, "0.00", INFLOW_CAP), "50,000,000 × 2 × 1.75: {now}");
    assert_eq!(cap_use(&now, "outflow"), owned(OUTFLOW_CAP, "0.00", OUTFLOW_CAP), "50,000,000 × 0.8: {now}");
    // Entities with net assets: cap = net assets × 2 × macro-prudential parameter (1.75 since 2025-01-13).
    #[rustfmt::skip]
    let expected_now = [
        ["LGT-FTZ", "0.00", "28000000.00", "28000000.00"],
        ["LGT-SH", "0.00", "1400000000.00", "1400000000.00"],
        ["LGT-SZ", "0.00", "420000000.00", "420000000.00"],
    ];
    let mut entities = entity_rows(&now);
    entities.sort();
    assert_eq!(entities, expected_now.map(|row| row.map(String::from)).to_vec(), "{now}");
    // Amounts in the base currency, as strings with exactly its two decimals.
    for direction in ["inflow", "outflow"] {
        let (cap, used, headroom) = cap_use(&now, direction);
        for amount in [cap, used, headroom] {
            assert_eq!(decimals(&amount), 2, "{direction}: {amount}");
        }
    }
    for row in &entities {
        for amount in &row[1..] {
            assert_eq!(decimals(amount), 2, "{row:?}");
        }
    }

    // --as-of takes the row in force on the date: 2023-07-20 (inflow parameter 1.5, macro-prudential 1.5).
    let old = pool.limits(&["--as-of", "2024-01-01"]);
    assert_eq!(old["as_of"], "2024-01-01", "{old}");
    assert_eq!(cap_use(&old, "inflow"), owned("150000000.00", "0.00", "150000000.00"), "{old}");
    assert_eq!(cap_use(&old, "outflow"), owned(OUTFLOW_CAP, "0.00", OUTFLOW_CAP), "{old}");
    assert_eq!(entity_cap(&old, "LGT-SH"), "1200000000.00", "400,000,000 × 2 × 1.5: {old}");
    assert_eq!(entity_cap(&old, "LGT-FTZ"), "24000000.00", "{old}");

    // On the effective dates themselves, and the day before the first row (no row: a cap of zero).
    for (as_of, inflow_cap, outflow_cap) in [
        ("2025-01-12", "150000000.00", OUTFLOW_CAP),
        ("2025-01-13", INFLOW_CAP, OUTFLOW_CAP),
        ("2023-07-20", "150000000.00", OUTFLOW_CAP),
        ("2023-07-19", "0.00", "0.00"),
        ("2026-11-02", INFLOW_CAP, OUTFLOW_CAP),
    ] {
        let value = pool.limits(&["--as-of", as_of]);
        assert_eq!(cap_use(&value, "inflow").0, inflow_cap, "as of {as_of}: {value}");
        assert_eq!(cap_use(&value, "outflow").0, outflow_cap, "as of {as_of}: {value}");
    }

    // Reading works read-only; a bad date is invalid input.
    let read_only = pool.run(&["--read-only", "limits", "--format", "json"]).expect(0).json();
    assert_eq!(read_only, now);
    pool.run(&["limits", "--as-of", "2026-02-30", "--format", "json"]).expect(2).stderr_has(&["--as-of"]);

    // The table groups thousands.
    let table = pool.run(&["limits", "--format", "table"]).expect(0).stdout;
    assert!(table.contains("175,000,000.00") && table.contains("40,000,000.00"), "{table}");
    assert!(table.contains("LGT-SH") && table.contains("1,400,000,000.00"), "{table}");
}

// ---------------------------------------------------------------------------
// 2. `rates import`
// ---------------------------------------------------------------------------

#[test]
fn rates_import_reports_counts_and_importing_again_writes_nothing() {
    let pool = Pool::init();
    let n_rows = november_rows().len();
    assert_eq!(n_rows, 200, "20 business days × 5 currencies × 2 markets");

    let first = pool.run(&["rates", "import", RATES, "--format", "json"]).expect(0).json();
    assert_eq!(first["rows"], n_rows, "{first}");
    assert_eq!(first["imported"], n_rows, "{first}");
    assert_eq!(first["skipped"], 0, "{first}");
    // One journal entry for the whole import.
    assert_eq!(first["head"]["seq"], INIT_ENTRIES + 1, "{first}");
    let before = pool.snapshot();
    assert_eq!(before.entries, INIT_ENTRIES + 1);

    let again = pool.run(&["rates", "import", RATES, "--format", "json"]).expect(0).json();
    assert_eq!(again["imported"], 0, "{again}");
    assert_eq!(again["skipped"], n_rows, "{again}");
    assert_eq!(again["head"], first["head"], "{again}");
    assert_eq!(pool.snapshot(), before, "importing the same file again changed the journal");

    // Rows already there (by value: 7.109200 is 7.1092) are skipped, the new ones imported.
    let overlap = pool.run(&["rates", "import", text(&fixture("rates_overlap.csv")), "--format", "json"]).expect(0);
    let overlap = overlap.json();
    assert_eq!((&overlap["rows"], &overlap["imported"], &overlap["skipped"]), (&json!(4), &json!(2), &json!(2)));
    assert_eq!(overlap["head"]["seq"], INIT_ENTRIES + 2, "{overlap}");
    assert_eq!(pool.snapshot().entries, INIT_ENTRIES + 2);
}

/// A rates file the import must refuse: what standard error must show, and what it must not.
struct BadRates {
    file: &'static str,
    shows: &'static [&'static str],
    not: &'static [&'static str],
}

#[test]
fn bad_rates_files_are_refused_naming_line_and_field_and_nothing_is_written() {
    let pool = Pool::rated();
    #[rustfmt::skip]
    let cases = [
        BadRates { file: "rates_unknown_currency.csv", shows: &["line 3", "`currency`", "ABC"], not: &["line 2"] },
        BadRates { file: "rates_negative_rate.csv", shows: &["line 3", "`rate`", "-7.7000"], not: &["line 2"] },
        BadRates { file: "rates_zero_rate.csv", shows: &["line 3", "`rate`"], not: &["line 2"] },
        BadRates { file: "rates_out_of_order.csv", shows: &["line 3", "`date`", "2026-12-01", "2026-12-02"], not: &[] },
        BadRates { file: "rates_bad_market.csv", shows: &["line 3", "`market`", "CNH"], not: &["line 2"] },
        BadRates { file: "rates_base_currency.csv", shows: &["line 3", "`currency`", "CNY"], not: &["line 2"] },
        BadRates { file: "rates_missing_column.csv", shows: &["line 1", "header", "market"], not: &[] },
        BadRates { file: "rates_short_row.csv", shows: &["line 3"], not: &["line 2"] },
        // Every bad row, not only the first: lines 3, 4 and 6 (line 5 is good).
        BadRates {
            file: "rates_several_bad.csv",
            shows: &["line 3", "`currency`", "line 4", "`rate`", "line 6", "`market`"],
            not: &["line 2", "line 5"],
        },
    ];
    let before = pool.snapshot();
    let mut failures = Vec::new();
    for case in &cases {
        let file = fixture(case.file);
        let run = pool.run(&["rates", "import", text(&file), "--format", "json"]);
        let mut problems = Vec::new();
        if run.code != 2 {
            problems.push(format!("exit code {} (expected 2)", run.code));
        }
        for needle in case.shows.iter().chain(&[case.file]) {
            if !run.stderr.contains(needle) {
                problems.push(format!("stderr lacks {needle:?}"));
            }
        }
        for needle in case.not {
            if run.stderr.contains(needle) {
                problems.push(format!("stderr names {needle:?}, a good row"));
            }
        }
        if !run.stdout.trim().is_empty() {
            problems.push(format!("stdout is not empty: {}", run.stdout));
        }
        let after = pool.snapshot();
        if after != before {
            problems.push(format!("the store changed: {before:?} -> {after:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}:\n    {}\n    stderr: {}",
                case.file,
                problems.join("\n    "),
                run.stderr.trim_end()
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));

    // The good first row of those files was never imported: alone, it is new.
    let good = pool.write("good.csv", &format!("{RATES_HEADER}\n{GOOD_RATE_ROW}\n"));
    let import = pool.run(&["rates", "import", text(&good), "--format", "json"]).expect(0).json();
    assert_eq!(import["imported"], 1, "{import}");
}

#[test]
fn an_import_that_changes_an_imported_rate_is_refused_whole() {
    let pool = Pool::rated();
    let before = pool.snapshot();
    // 2026-11-02 USD onshore at 7.1026 where 7.1025 was imported, then a new row.
    let file = fixture("rates_conflict.csv");
    pool.run(&["rates", "import", text(&file), "--format", "json"]).expect(2).stderr_has(&[
        "rates_conflict.csv",
        "USD",
        "onshore",
        "2026-11-02",
        "7.1025",
        "7.1026",
    ]);
    assert_eq!(pool.snapshot(), before);
    // Nothing of the file was written: its new row is still new.
    let good = pool.write("good.csv", &format!("{RATES_HEADER}\n{GOOD_RATE_ROW}\n"));
    let import = pool.run(&["rates", "import", text(&good), "--format", "json"]).expect(0).json();
    assert_eq!(import["imported"], 1, "{import}");
}

#[test]
fn read_only_refuses_rates_import() {
    let pool = Pool::init();
    let before = pool.snapshot();
    pool.run(&["--read-only", "rates", "import", RATES, "--format", "json"]).expect(2).stderr_has(&["read-only"]);
    assert_eq!(pool.snapshot(), before);
    // Nothing was imported: the same file then imports every row.
    let import = pool.run(&["rates", "import", RATES, "--format", "json"]).expect(0).json();
    assert_eq!(import["imported"], november_rows().len(), "{import}");
}

// ---------------------------------------------------------------------------
// 3. Pool movements against the caps; the second line
// ---------------------------------------------------------------------------

#[test]
fn a_pool_funding_movement_uses_the_outflow_cap_at_the_onshore_rate_of_its_value_date() {
    let pool = Pool::funded();
    let rate = onshore_rate("USD", PF1_DATE);
    assert_eq!(rate, dec("7.1032"), "the fixture's onshore USD rate of {PF1_DATE}");
    let used = usd_to_cny(PF1_AMOUNT, PF1_DATE);
    // 1,234,568.75 × 7.1032 = 8,769,388.745: a tie, so half-even and half-up differ.
    let half_up = (dec(PF1_AMOUNT) * rate).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    assert_ne!(used, half_up, "PF-1 is chosen to be a rounding tie");
    assert_eq!(cny(used), "8769388.74");

    let report = pool.post(&fixture("pool_funding.csv")).expect(0).json();
    assert_eq!(report["posted"], 1, "{report}");

    let headroom = dec(OUTFLOW_CAP) - used;
    let now = pool.limits(&[]);
    assert_eq!(cap_use(&now, "outflow"), owned(OUTFLOW_CAP, &cny(used), &cny(headroom)), "{now}");
    assert_eq!(cap_use(&now, "inflow"), owned(INFLOW_CAP, "0.00", INFLOW_CAP), "an outflow uses no inflow: {now}");
    // Value-dated: not yet used the day before its value date.
    let before_value_date = pool.limits(&["--as-of", "2026-11-04"]);
    assert_eq!(cap_use(&before_value_date, "outflow"), owned(OUTFLOW_CAP, "0.00", OUTFLOW_CAP));
    let on_value_date = pool.limits(&["--as-of", PF1_DATE]);
    assert_eq!(cap_use(&on_value_date, "outflow"), owned(OUTFLOW_CAP, &cny(used), &cny(headroom)));

    // Movements that do not count: current_account across the border, and any movement with an
    // external counterparty.
    for (name, row) in [
        ("ca", "CA-1,2026-11-05,SH-DMA,HK-OPS,USD,1000.00,current_account,CA-1,trade settlement"),
        ("ext", "EX-1,2026-11-05,SH-DMA,EXT-OFFSHORE,USD,1000.00,pool_funding,EX-1,external counterparty"),
    ] {
        pool.post_row(name, row).expect(0);
    }
    assert_eq!(cap_use(&pool.limits(&[]), "outflow"), owned(OUTFLOW_CAP, &cny(used), &cny(headroom)));
    pool.snapshot();
}

/// The largest USD amount (in cents) whose CNY value at the onshore rate of `date` fits in `headroom`.
fn largest_fitting_usd(headroom: Decimal, date: &str) -> Decimal {
    let cent = dec("0.01");
    let rate = onshore_rate("USD", date);
    let mut amount = (headroom / rate).round_dp_with_strategy(2, RoundingStrategy::ToZero) - dec("1.00");
    while usd_to_cny(&(amount + cent).to_string(), date) <= headroom {
        amount += cent;
    }
    amount
}

#[test]
fn a_movement_beyond_the_headroom_is_refused_with_reason_limit_and_nothing_written() {
    let pool = Pool::funded();
    pool.post(&fixture("pool_funding.csv")).expect(0);
    let used = usd_to_cny(PF1_AMOUNT, PF1_DATE);
    let headroom = dec(OUTFLOW_CAP) - used;

    // The largest amount that fits, and one cent more, value-dated 2026-11-06.
    let date = "2026-11-06";
    let fits = largest_fitting_usd(headroom, date);
    let beyond = fits + dec("0.01");
    let beyond_cny = usd_to_cny(&beyond.to_string(), date);
    assert!(beyond_cny > headroom && usd_to_cny(&fits.to_string(), date) <= headroom);

    let before = pool.snapshot();
    let run = pool.post_row("beyond", &format!("PF-2,{date},SH-DMA,HK-OPS,USD,{beyond},pool_funding,PF-2,too much"));
    let run = run.expect(2);
    let rejection = only_rejection(&run);
    assert_eq!(rejection["reason"], "limit", "{rejection}");
    assert_eq!(rejection["id"], "PF-2", "{rejection}");
    assert_eq!(rejection["line"], 2, "{rejection}");
    // It states the cap, the use, the headroom and what the movement needs.
    let detail = &rejection["detail"];
    assert_eq!(detail["direction"], "outflow", "{rejection}");
    assert_eq!(detail["cap"], OUTFLOW_CAP, "{rejection}");
    assert_eq!(detail["used"], cny(used), "{rejection}");
    assert_eq!(detail["headroom"], cny(headroom), "{rejection}");
    assert_eq!(detail["requested"], cny(beyond_cny), "{rejection}");
    run.stderr_has(&["beyond.csv", "line 2", "PF-2", "limit", OUTFLOW_CAP, &cny(used), &cny(headroom)]);
    assert_eq!(pool.snapshot(), before, "a refused movement wrote something");
    // `--partial` does not post it either.
    let partial = pool.run(&["post", text(&pool.files.path().join("beyond.csv")), "--partial", "--report", "json"]);
    assert_eq!(only_rejection(&partial.expect(2))["reason"], "limit");
    assert_eq!(pool.snapshot(), before);

    // The largest amount that fits is accepted, and leaves less than a cent of USD (plus rounding) of headroom.
    let fits_cny = usd_to_cny(&fits.to_string(), date);
    pool.post_row("fits", &format!("PF-3,{date},SH-DMA,HK-OPS,USD,{fits},pool_funding,PF-3,up to the cap")).expect(0);
    let now = pool.limits(&[]);
    let (cap, used_now, headroom_now) = cap_use(&now, "outflow");
    assert_eq!((cap.as_str(), used_now), (OUTFLOW_CAP, cny(used + fits_cny)), "{now}");
    assert_eq!(headroom_now, cny(headroom - fits_cny), "{now}");
    assert!(dec(&headroom_now) < onshore_rate("USD", date) / dec("100") + dec("0.01"), "{now}");

    // A movement back onshore repays part of what HK owes and is always accepted. Under the
    // separate quotas (docs/LIMITS.md) the repayment releases its share of the balance's own base
    // value, not today's: HK owes USD (PF1 + fits) worth (used + fits_cny), and USD 1,000.00 of
    // it releases (used + fits_cny) × 1,000.00 / (PF1 + fits), rounded half-even to the fen.
    let back = "1000.00";
    let back_date = "2026-11-09";
    pool.post_row("back", &format!("PF-4,{back_date},HK-OPS,SH-DMA,USD,{back},pool_funding,PF-4,back onshore"))
        .expect(0);
    let after_back = pool.limits(&[]);
    let owed_usd = dec(PF1_AMOUNT) + fits;
    let released =
        ((used + fits_cny) * dec(back) / owed_usd).round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    let expected_used = used + fits_cny - released;
    assert_eq!(cap_use(&after_back, "outflow").1, cny(expected_used), "{after_back}");
    assert_eq!(cap_use(&after_back, "inflow").1, "0.00", "still a net outflow: {after_back}");
    pool.snapshot();
}

#[test]
fn a_pool_funding_movement_without_any_rate_is_refused_with_missing_rate() {
    let pool = Pool::init();
    pool.post(&fixture("funding.csv")).expect(0);
    let before = pool.snapshot();
    let run = pool.post(&fixture("pool_funding.csv")).expect(2);
    let rejection = only_rejection(&run);
    assert_eq!(rejection["reason"], "missing_rate", "{rejection}");
    assert_eq!(rejection["line"], 2, "{rejection}");
    let detail = &rejection["detail"];
    assert_eq!(
        (&detail["currency"], &detail["market"], &detail["date"]),
        (&json!("USD"), &json!("onshore"), &json!(PF1_DATE))
    );
    run.stderr_has(&["pool_funding.csv", "line 2", "missing_rate", "USD", "onshore", PF1_DATE]);
    // The ledger's refusal names no command; the CLI adds what to do.
    run.stderr_has(&["; import one with `cashpool rates import`"]);
    assert_eq!(
        rejection["message"].as_str().map(|m| m.ends_with("import one with `cashpool rates import`")),
        Some(true)
    );
    assert_eq!(pool.snapshot(), before);
    // With the rates, the same file posts.
    pool.run(&["rates", "import", RATES, "--format", "json"]).expect(0);
    pool.post(&fixture("pool_funding.csv")).expect(0);
    assert_eq!(cap_use(&pool.limits(&[]), "outflow").1, cny(usd_to_cny(PF1_AMOUNT, PF1_DATE)));
}

/// The second line (docs/LIMITS.md): between one entity's own FT and ordinary accounts
/// (同名划转) only current_account, loan_repayment and real_investment, in CNY; between
/// different entities the flow is managed as cross-border (银发〔2013〕244号), unless the pool
/// holds every transfer to the same-name rules (`second_line_between_entities = "same_name"`).
#[test]
fn second_line_violations_are_refused_with_reason_second_line() {
    let refused = |pool: &Pool, file: &str, rule: &str| {
        let before = pool.snapshot();
        let run = pool.post(&fixture(file)).expect(2);
        let rejection = only_rejection(&run);
        assert_eq!(rejection["reason"], "second_line", "{file}: {rejection}");
        assert_eq!(rejection["detail"]["rule"], rule, "{file}: {rejection}");
        assert_eq!(rejection["line"], 2, "{file}: {rejection}");
        run.stderr_has(&[file, "line 2", "second_line", rule]);
        assert_eq!(pool.snapshot(), before, "{file}");
    };
    // Same-name: FTZ-FTE -> FTZ-OPS (both LGT-FTZ's), pool_funding.
    let pool = Pool::funded();
    refused(&pool, "second_line_purpose.csv", "purpose");
    // FTZ-FTE -> SH-DMA (LGT-FTZ to the host) in USD is cross-border under the default ...
    let report = pool.post(&fixture("second_line_currency.csv")).expect(0).json();
    assert_eq!(report["posted"], 1, "{report}");
    // ... and refused where the pool holds every transfer to the same-name rules.
    let strict = Pool::funded_with(|text| {
        let edited = text.replacen(
            "netting_currency = \"USD\"\n",
            "netting_currency = \"USD\"\nsecond_line_between_entities = \"same_name\"\n",
            1,
        );
        assert_ne!(edited, text);
        edited
    });
    refused(&strict, "second_line_currency.csv", "currency");
    // CNY for current_account crosses the second line, and is journaled as such.
    pool.post_row("ok", "SL-3,2026-11-05,FTZ-FTE,SH-DMA,CNY,1000.00,current_account,SL-3,CNY current account")
        .expect(0);
    let export = pool.run(&["audit", "export", "--format", "jsonl"]).expect(0).stdout;
    let last: Value = serde_json::from_str(export.lines().last().expect("an entry")).expect("a JSON line");
    assert_eq!(last["kind"], "transaction", "{last}");
    assert_eq!(last["body"]["id"], "SL-3", "{last}");
    assert_eq!(last["body"]["classification"], "second_line", "{last}");
}

// ---------------------------------------------------------------------------
// 4. `limits set`
// ---------------------------------------------------------------------------

const POOL_SET: [&str; 11] = [
    "limits",
    "set",
    "--effective",
    "2026-12-01",
    "--owners-equity",
    "60000000.00",
    "--inflow-leverage",
    "2",
    "--inflow-parameter",
    "1.25",
    "--outflow-coefficient",
];

/// `limits set --effective 2026-12-01` with the four pool parameters (outflow coefficient 0.5):
/// inflow cap 60,000,000 × 2 × 1.25 = 150,000,000.00, outflow cap 60,000,000 × 0.5 = 30,000,000.00.
fn pool_set_args() -> Vec<&'static str> {
    let mut args = POOL_SET.to_vec();
    args.extend(["0.5", "--format", "json"]);
    args
}

#[test]
fn limits_set_with_the_four_pool_parameters_applies_from_its_effective_date() {
    let pool = Pool::funded();
    let before = pool.snapshot();
    let set = pool.run(&pool_set_args()).expect(0).json();
    assert_eq!(set["effective"], "2026-12-01", "{set}");
    assert_eq!(set["seq"], before.entries + 1, "one journal entry: {set}");
    assert_eq!(pool.snapshot().entries, before.entries + 1);

    for (as_of, inflow_cap, outflow_cap) in [
        (Some("2026-11-30"), INFLOW_CAP, OUTFLOW_CAP),
        (Some("2026-12-01"), "150000000.00", "30000000.00"),
        (Some("2027-06-30"), "150000000.00", "30000000.00"),
        (None, "150000000.00", "30000000.00"),
    ] {
        let extra: Vec<&str> = as_of.map(|date| vec!["--as-of", date]).unwrap_or_default();
        let value = pool.limits(&extra);
        assert_eq!(cap_use(&value, "inflow").0, inflow_cap, "as of {as_of:?}: {value}");
        assert_eq!(cap_use(&value, "outflow").0, outflow_cap, "as of {as_of:?}: {value}");
    }

    // A movement is checked against the cap in force on its value date: USD 4,900,000.00 is about
    // CNY 34.8 m, within 40 m on 2026-11-30 and beyond 30 m from 2026-12-01 (no rate on either date:
    // the 2026-11-27 rate applies).
    let amount = "4900000.00";
    let flow = usd_to_cny(amount, "2026-11-30");
    assert_eq!(flow, usd_to_cny(amount, "2026-12-01"));
    assert!(flow > dec("30000000.00") && flow < dec(OUTFLOW_CAP), "{flow}");
    let snapshot = pool.snapshot();
    let late = pool.post_row("late", &format!("PF-12,2026-12-01,SH-DMA,HK-OPS,USD,{amount},pool_funding,PF-12,"));
    let rejection = only_rejection(&late.expect(2));
    assert_eq!(rejection["reason"], "limit", "{rejection}");
    assert_eq!(rejection["detail"]["cap"], "30000000.00", "{rejection}");
    assert_eq!(pool.snapshot(), snapshot);
    pool.post_row("early", &format!("PF-11,2026-11-30,SH-DMA,HK-OPS,USD,{amount},pool_funding,PF-11,")).expect(0);

    let on_nov_30 = pool.limits(&["--as-of", "2026-11-30"]);
    assert_eq!(cap_use(&on_nov_30, "outflow"), owned(OUTFLOW_CAP, &cny(flow), &cny(dec(OUTFLOW_CAP) - flow)));
    // Under the new, lower cap the position stands: used above the cap, no headroom.
    let now = pool.limits(&[]);
    assert_eq!(cap_use(&now, "outflow"), owned("30000000.00", &cny(flow), "0.00"), "{now}");

    // Over the cap, what reduces the use is accepted and what increases it is refused.
    pool.post_row("reduce", "PF-13,2026-12-02,HK-OPS,SH-DMA,USD,100.00,pool_funding,PF-13,back onshore").expect(0);
    let reduced = flow - usd_to_cny("100.00", "2026-12-02");
    assert_eq!(cap_use(&pool.limits(&[]), "outflow"), owned("30000000.00", &cny(reduced), "0.00"));
    let snapshot = pool.snapshot();
    let more = pool.post_row("more", "PF-14,2026-12-02,SH-DMA,HK-OPS,USD,1.00,pool_funding,PF-14,more").expect(2);
    assert_eq!(only_rejection(&more)["reason"], "limit");
    assert_eq!(pool.snapshot(), snapshot);
}

#[test]
fn limits_set_macro_prudential_alone_changes_the_entities_caps_from_its_date() {
    let pool = Pool::init();
    let set = pool
        .run(&["limits", "set", "--effective", "2026-12-01", "--macro-prudential", "1.25", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(set["effective"], "2026-12-01", "{set}");
    assert_eq!(pool.snapshot().entries, INIT_ENTRIES + 1);

    // (as of, LGT-SH, LGT-SZ, LGT-FTZ): net assets × 2 × 1.75 before, × 1.25 from 2026-12-01.
    for (as_of, sh, sz, ftz) in [
        (Some("2026-11-30"), "1400000000.00", "420000000.00", "28000000.00"),
        (Some("2026-12-01"), "1000000000.00", "300000000.00", "20000000.00"),
        (None, "1000000000.00", "300000000.00", "20000000.00"),
    ] {
        let extra: Vec<&str> = as_of.map(|date| vec!["--as-of", date]).unwrap_or_default();
        let value = pool.limits(&extra);
        let caps = [entity_cap(&value, "LGT-SH"), entity_cap(&value, "LGT-SZ"), entity_cap(&value, "LGT-FTZ")];
        assert_eq!(caps, [sh, sz, ftz], "as of {as_of:?}: {value}");
        // The pool's caps do not change.
        assert_eq!(cap_use(&value, "inflow").0, INFLOW_CAP, "{value}");
        assert_eq!(cap_use(&value, "outflow").0, OUTFLOW_CAP, "{value}");
    }
}

#[test]
fn limits_set_refuses_incomplete_empty_duplicate_and_bad_values_and_writes_nothing() {
    let pool = Pool::init();
    pool.run(&pool_set_args()).expect(0);
    pool.run(&["limits", "set", "--effective", "2026-12-01", "--macro-prudential", "1.5"]).expect(0);
    let before = pool.snapshot();
    assert_eq!(before.entries, INIT_ENTRIES + 2);

    let d = "2026-12-05";
    let all_four =
        |owners: &'static str, leverage: &'static str, parameter: &'static str, coefficient: &'static str| {
            vec![
                "limits".to_string(),
                "set".into(),
                "--effective".into(),
                d.into(),
                format!("--owners-equity={owners}"),
                format!("--inflow-leverage={leverage}"),
                format!("--inflow-parameter={parameter}"),
                format!("--outflow-coefficient={coefficient}"),
            ]
        };
    let set = |flags: &[&str]| {
        let mut args: Vec<String> = ["limits", "set", "--effective", d].map(String::from).to_vec();
        args.extend(flags.iter().map(|f| f.to_string()));
        args
    };
    // (what, args, what stderr must name; `_` reads as `-`, so `macro_prudential` names `--macro-prudential`)
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<String>, &[&str])> = vec![
        ("two of four", set(&["--owners-equity", "1", "--inflow-leverage", "2"]),
            &["--inflow-parameter", "--outflow-coefficient"]),
        ("three of four", set(&["--owners-equity", "1", "--inflow-leverage", "2", "--inflow-parameter", "1.5"]),
            &["--outflow-coefficient"]),
        ("one of four", set(&["--inflow-parameter", "1.5"]),
            &["--owners-equity", "--inflow-leverage", "--outflow-coefficient"]),
        ("one of four with macro", set(&["--outflow-coefficient", "0.5", "--macro-prudential", "1.5"]),
            &["--owners-equity", "--inflow-leverage", "--inflow-parameter"]),
        ("nothing", set(&[]), &["--macro-prudential"]),
        ("pool row on a date that has one", {
            let mut args: Vec<String> = POOL_SET.map(String::from).to_vec();
            args.push("0.5".into());
            args
        }, &["2026-12-01"]),
        ("macro on a date that has one",
            ["limits", "set", "--effective", "2026-12-01", "--macro-prudential", "1.25"].map(String::from).to_vec(),
            &["2026-12-01"]),
        ("pool row on the group definition's date", {
            let mut args: Vec<String> = POOL_SET.map(String::from).to_vec();
            args[3] = "2025-01-13".into();
            args.push("0.5".into());
            args
        }, &["2025-01-13"]),
        ("macro on a date of the default history",
            ["limits", "set", "--effective", "2025-01-13", "--macro-prudential", "1.25"].map(String::from).to_vec(),
            &["2025-01-13"]),
        ("zero macro", set(&["--macro-prudential", "0"]), &["macro-prudential"]),
        ("negative macro", set(&["--macro-prudential=-1.5"]), &["macro-prudential"]),
        ("zero owners' equity", all_four("0", "2", "1.25", "0.5"), &["owners-equity"]),
        ("negative owners' equity", all_four("-50000000.00", "2", "1.25", "0.5"), &["owners-equity"]),
        ("zero inflow leverage", all_four("50000000.00", "0.00", "1.25", "0.5"), &["inflow-leverage"]),
        ("negative inflow parameter", all_four("50000000.00", "2", "-1.25", "0.5"), &["inflow-parameter"]),
        ("negative outflow coefficient", all_four("50000000.00", "2", "1.25", "-0.5"), &["outflow-coefficient"]),
        ("text macro", set(&["--macro-prudential", "abc"]), &["macro-prudential", "abc"]),
        ("empty macro", set(&["--macro-prudential="]), &["macro-prudential"]),
        ("macro with an exponent", set(&["--macro-prudential", "1e0"]), &["macro-prudential"]),
        ("owners' equity with separators", all_four("50,000,000.00", "2", "1.25", "0.5"), &["owners-equity"]),
        ("inflow parameter with a comma", all_four("50000000.00", "2", "1,25", "0.5"), &["inflow-parameter"]),
        ("bad effective date",
            ["limits", "set", "--effective", "2026-02-30", "--macro-prudential", "1.5"].map(String::from).to_vec(),
            &["--effective"]),
        ("read-only",
            ["--read-only", "limits", "set", "--effective", d, "--macro-prudential", "1.5"].map(String::from).to_vec(),
            &["read-only"]),
    ];
    let mut failures = Vec::new();
    for (what, args, names) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = pool.run(&args);
        let mut problems = Vec::new();
        if run.code != 2 {
            problems.push(format!("exit code {} (expected 2)", run.code));
        }
        let stderr = run.stderr.replace('_', "-");
        for name in *names {
            if !stderr.contains(name) {
                problems.push(format!("stderr lacks {name:?}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{what} (`{}`):\n    {}\n    stderr: {}",
                args.join(" "),
                problems.join("\n    "),
                run.stderr.trim_end()
            ));
        }
    }
    assert_eq!(pool.snapshot(), before, "a refused `limits set` wrote something");
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    // The parameters are those of the two accepted commands.
    let value = pool.limits(&["--as-of", "2026-12-05"]);
    assert_eq!(cap_use(&value, "outflow").0, "30000000.00", "{value}");
    assert_eq!(entity_cap(&value, "LGT-SH"), "1200000000.00", "{value}");
}

#[test]
fn the_audit_trail_verifies_and_replays_after_rates_and_parameter_changes() {
    let pool = Pool::funded();
    pool.post(&fixture("pool_funding.csv")).expect(0);
    pool.run(&pool_set_args()).expect(0);
    pool.run(&["limits", "set", "--effective", "2026-12-01", "--macro-prudential", "1.25"]).expect(0);
    pool.run(&["rates", "import", text(&fixture("rates_overlap.csv"))]).expect(0);
    let snapshot = pool.snapshot();
    // 17 + rates + 3 funding + PF-1 + 2 parameter changes + rates.
    assert_eq!(snapshot.entries, INIT_ENTRIES + 8);

    // The export alone (the regulator's copy) verifies and replays to the store's digest.
    let export = pool.files.path().join("journal.jsonl");
    pool.run(&["audit", "export", "--format", "jsonl", "--output", text(&export)]).expect(0);
    let verify = pool.run(&["audit", "verify", "--journal", text(&export), "--format", "json"]).expect(0).json();
    assert_eq!(
        (&verify["ok"], &verify["entries"], &verify["head"]),
        (&json!(true), &json!(snapshot.entries), &json!(snapshot.head))
    );
    let replay = pool.run(&["audit", "replay", "--journal", text(&export), "--format", "json"]).expect(0).json();
    assert_eq!(replay["state_digest"], snapshot.state_digest, "{replay}");
    let kinds: Vec<String> = std::fs::read_to_string(&export)
        .expect("read the export")
        .lines()
        .skip(INIT_ENTRIES as usize)
        .map(|line| {
            let entry: Value = serde_json::from_str(line).expect("a JSON line");
            entry["kind"].as_str().expect("a kind").to_string()
        })
        .collect();
    #[rustfmt::skip]
    let expected = ["rates_imported", "transaction", "transaction", "transaction", "transaction", "limits_set",
        "limits_set", "rates_imported"];
    assert_eq!(kinds, expected, "the journal's entries after init");
}

// ---------------------------------------------------------------------------
// 5. `pool check`
// ---------------------------------------------------------------------------

/// Sums of the figures fixture: (onshore receipts + payments, onshore revenue, offshore revenue).
fn figure_totals() -> (Decimal, Decimal, Decimal) {
    let content = std::fs::read_to_string(FIGURES).expect("read the figures fixture");
    let mut totals = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for line in content.lines().skip(1).filter(|line| !line.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        match fields[1] {
            "onshore" => {
                totals.0 += dec(fields[2]) + dec(fields[3]);
                totals.1 += dec(fields[4]);
            }
            "offshore" => totals.2 += dec(fields[4]),
            other => panic!("residence {other:?} in {line}"),
        }
    }
    totals
}

/// The members of the example group, in group order.
const MEMBERS: [&str; 7] = ["LGT-SH", "LGT-SZ", "LGT-FTZ", "LGT-HK", "LGT-SG", "LGT-DE", "LGT-JP"];

#[test]
fn pool_check_reports_every_criterion_with_its_stable_code() {
    let pool = Pool::init();
    let before = pool.snapshot();
    let run = pool.run(&["pool", "check", "--figures", FIGURES, "--as-of", "2026-01-15", "--format", "json"]);
    let report = run.expect(0).json();
    assert_eq!(report["as_of"], "2026-01-15", "{report}");
    assert_eq!(report["eligible"], true, "{report}");
    let criteria = report["criteria"].as_array().unwrap_or_else(|| panic!("no criteria: {report}"));
    let codes: Vec<(String, Value)> = criteria.iter().map(|c| (string(c, "criterion"), c["entity"].clone())).collect();
    let mut expected: Vec<(String, Value)> = vec![
        ("members_min".into(), Value::Null),
        ("onshore_cross_border".into(), Value::Null),
        ("onshore_revenue".into(), Value::Null),
        ("offshore_revenue".into(), Value::Null),
    ];
    expected.extend(MEMBERS.iter().map(|m| ("no_major_violation".to_string(), json!(m))));
    // 银发〔2025〕251号 item 1 (who may take part) and item 3 (goods-trade category A), per member.
    expected.extend(MEMBERS.iter().map(|m| ("member_type".to_string(), json!(m))));
    expected.extend(MEMBERS.iter().map(|m| ("trade_rating_a".to_string(), json!(m))));
    expected.push(("management_system".into(), Value::Null));
    assert_eq!(codes, expected, "{report}");
    for criterion in criteria {
        assert_eq!(criterion["met"], true, "{criterion}");
        assert_eq!(criterion["checked"], true, "{criterion}");
        for key in ["threshold", "actual"] {
            assert!(criterion[key].is_string(), "{criterion}");
        }
    }
    let find = |code: &str| criteria.iter().find(|c| c["criterion"] == code).expect("the criterion").clone();
    let (cross_border, onshore_revenue, offshore_revenue) = figure_totals();
    #[rustfmt::skip]
    let amounts = [
        ("onshore_cross_border", "7000000000.00", cny(cross_border)),
        ("onshore_revenue", "10000000000.00", cny(onshore_revenue)),
        ("offshore_revenue", "2000000000.00", cny(offshore_revenue)),
    ];
    for (code, threshold, actual) in amounts {
        let criterion = find(code);
        assert_eq!((string(&criterion, "threshold"), string(&criterion, "actual")), (threshold.into(), actual));
    }
    let members = find("members_min");
    assert_eq!((string(&members, "threshold"), string(&members, "actual")), ("3".into(), "7".into()));
    // A check, not a change; and it works read-only.
    assert_eq!(pool.snapshot(), before);
    let read_only = pool.run(&["--read-only", "pool", "check", "--figures", FIGURES, "--as-of", "2026-01-15"]);
    assert_eq!(read_only.expect(0).json(), report);

    // Two years earlier, LGT-DE's 2022-06-15 violation is recent: not eligible, and still exit 0.
    let earlier = pool.run(&["pool", "check", "--figures", FIGURES, "--as-of", "2024-01-15", "--format", "json"]);
    let earlier = earlier.expect(0).json();
    assert_eq!(earlier["eligible"], false, "{earlier}");
    let failed: Vec<(String, Value)> = earlier["criteria"]
        .as_array()
        .expect("criteria")
        .iter()
        .filter(|c| c["met"] == false)
        .map(|c| (string(c, "criterion"), c["entity"].clone()))
        .collect();
    assert_eq!(failed, [("no_major_violation".to_string(), json!("LGT-DE"))], "{earlier}");
}

#[test]
fn pool_check_refuses_a_malformed_figures_file_naming_line_and_field() {
    let pool = Pool::init();
    let run = pool.run(&[
        "pool",
        "check",
        "--figures",
        text(&fixture("figures_malformed.csv")),
        "--as-of",
        "2026-01-15",
        "--format",
        "json",
    ]);
    let run = run.expect(2);
    run.stderr_has(&[
        "figures_malformed.csv",
        "line 3, field `cross_border_payments`",
        "line 4, field `residence`",
        "line 4, field `revenue`",
        "line 5, field `major_violation_date`",
        "line 6, field `cross_border_receipts`",
    ]);
    assert!(!run.stderr.contains("line 2"), "line 2 is good:\n{}", run.stderr);
    assert!(run.stdout.trim().is_empty(), "no report on stdout: {}", run.stdout);

    let header =
        pool.run(&["pool", "check", "--figures", text(&fixture("figures_wrong_header.csv")), "--as-of", "2026-01-15"]);
    header.expect(2).stderr_has(&["figures_wrong_header.csv", "line 1", "header"]);
    let missing = pool.files.path().join("no-such-figures.csv");
    pool.run(&["pool", "check", "--figures", text(&missing), "--as-of", "2026-01-15"]).expect(1);
}

#[test]
fn pool_check_prints_a_readable_table() {
    let pool = Pool::init();
    let run = pool.run(&["pool", "check", "--figures", FIGURES, "--as-of", "2026-01-15", "--format", "table"]);
    let table = run.expect(0).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].contains("2026-01-15") && lines[0].contains("ELIGIBLE"), "{table}");
    let header = lines.iter().position(|l| l.contains("criterion")).unwrap_or_else(|| panic!("no header:\n{table}"));
    for column in ["entity", "criterion", "threshold", "actual", "met"] {
        assert!(lines[header].contains(column), "header lacks {column}:\n{table}");
    }
    assert!(lines[header + 1].starts_with("---"), "a rule under the header:\n{table}");
    let body = &lines[header + 2..];
    assert_eq!(body.len(), 26, "one line per criterion:\n{table}");
    for code in ["members_min", "onshore_cross_border", "onshore_revenue", "offshore_revenue", "management_system"] {
        assert_eq!(body.iter().filter(|l| l.contains(code)).count(), 1, "{code}:\n{table}");
    }
    for member in MEMBERS {
        for code in ["no_major_violation", "member_type", "trade_rating_a"] {
            assert!(body.iter().any(|l| l.starts_with(member) && l.contains(code)), "{member} {code}:\n{table}");
        }
    }
    assert!(body.iter().all(|l| l.trim_end().ends_with("yes")), "every criterion met:\n{table}");
    // Columns are aligned: every criterion code starts at the same column.
    let column = lines[header].find("criterion").expect("criterion column");
    assert!(body.iter().all(|l| l.get(column..).is_some_and(|rest| !rest.starts_with(' '))), "{table}");
}

/// A figures file written before `member_type` and `trade_rating` were
/// checked still works: the two rules are reported `not checked`, the pool is
/// NOT CONFIRMED (JSON `eligible: false`, every checked criterion met), and
/// the exit code is 0 (an answer, not an error).
#[test]
fn pool_check_reports_a_rule_without_its_column_as_not_checked() {
    let pool = Pool::init();
    let args =
        |format| ["pool", "check", "--figures", FIGURES_SIX_COLUMNS, "--as-of", "2026-01-15", "--format", format];
    let report = pool.run(&args("json")).expect(0).json();
    assert_eq!(report["eligible"], false, "{report}");
    let criteria = report["criteria"].as_array().unwrap_or_else(|| panic!("no criteria: {report}"));
    let not_checked: Vec<(String, Value, Value)> = criteria
        .iter()
        .filter(|c| c["checked"] == false)
        .map(|c| (string(c, "criterion"), c["entity"].clone(), c["met"].clone()))
        .collect();
    assert_eq!(
        not_checked,
        [
            ("member_type".to_string(), Value::Null, json!(false)),
            ("trade_rating_a".to_string(), Value::Null, json!(false))
        ],
        "{report}"
    );
    assert!(
        criteria.iter().all(|c| c["checked"] == false || c["met"] == true),
        "every checked criterion met: {report}"
    );
    let member_type = criteria.iter().find(|c| c["criterion"] == "member_type").expect("member_type");
    assert!(string(member_type, "actual").contains("add the `member_type` column"), "{member_type}");

    let table = pool.run(&args("table")).expect(0).stdout;
    let first = table.lines().next().unwrap_or_default();
    assert!(first.contains("NOT CONFIRMED: 2 criteria not checked"), "{table}");
    assert!(!first.contains("NOT ELIGIBLE"), "{table}");
    let unchecked: Vec<&str> = table.lines().filter(|l| l.trim_end().ends_with("not checked")).collect();
    assert_eq!(unchecked.len(), 2, "{table}");
    assert!(unchecked[0].starts_with("(pool)") && unchecked[0].contains("member_type"), "{table}");

    let csv = pool.run(&args("csv")).expect(0).stdout;
    assert!(csv.starts_with("entity,criterion,threshold,actual,met,checked\n"), "{csv}");
    assert!(csv.lines().any(|l| l.starts_with(",member_type,") && l.ends_with(",false,false")), "{csv}");
}

/// 银发〔2025〕251号 item 1: a real-estate enterprise may not take part, and a
/// finance company only as the host; item 3: a member on SAFE's goods-trade
/// list must be category A. Each offending member is named with the reason.
#[test]
fn pool_check_names_members_that_may_not_take_part() {
    let pool = Pool::init();
    let figures = std::fs::read_to_string(FIGURES).expect("read the figures fixture");
    let edited = figures
        .replace(
            "LGT-SZ,onshore,412880540.16,1036227918.40,4210775602.08,,enterprise,A",
            "LGT-SZ,onshore,412880540.16,1036227918.40,4210775602.08,,real_estate,A",
        )
        .replace(
            "LGT-HK,offshore,1904118360.22,2266741095.70,1285440117.90,,enterprise,",
            "LGT-HK,offshore,1904118360.22,2266741095.70,1285440117.90,,finance_company,",
        )
        .replace(
            "LGT-FTZ,onshore,18640225.50,9315770.05,46208913.66,,enterprise,A",
            "LGT-FTZ,onshore,18640225.50,9315770.05,46208913.66,,enterprise,B",
        );
    assert_eq!(edited.lines().count(), figures.lines().count());
    assert_ne!(edited, figures);
    let file = pool.write("figures-excluded.csv", &edited);
    let run = pool.run(&["pool", "check", "--figures", text(&file), "--as-of", "2026-01-15", "--format", "json"]);
    let report = run.expect(0).json();
    assert_eq!(report["eligible"], false, "{report}");
    let failed: Vec<(String, Value, String)> = report["criteria"]
        .as_array()
        .expect("criteria")
        .iter()
        .filter(|c| c["met"] == false)
        .map(|c| (string(c, "criterion"), c["entity"].clone(), string(c, "actual")))
        .collect();
    assert_eq!(
        failed,
        [
            (
                "member_type".to_string(),
                json!("LGT-SZ"),
                "real_estate: a real-estate enterprise may not take part".to_string()
            ),
            (
                "member_type".to_string(),
                json!("LGT-HK"),
                "finance_company: a finance company may take part only as the pool's host".to_string()
            ),
            (
                "trade_rating_a".to_string(),
                json!("LGT-FTZ"),
                "B: a member on SAFE's goods-trade list must be category A".to_string()
            ),
        ],
        "{report}"
    );
    let members =
        report["criteria"].as_array().expect("criteria").iter().find(|c| c["criterion"] == "members_min").cloned();
    let members = members.expect("members_min");
    assert_eq!(
        string(&members, "actual"),
        "5 (7 entities in the group; LGT-SZ, LGT-HK are not members: they may not take part)"
    );
    let table_args = ["pool", "check", "--figures", text(&file), "--as-of", "2026-01-15", "--format", "table"];
    let table = pool.run(&table_args).expect(0).stdout;
    assert!(table.lines().next().is_some_and(|l| l.contains("NOT ELIGIBLE") && !l.contains("not checked")), "{table}");
    assert_eq!(table.lines().filter(|l| l.trim_end().ends_with("NO")).count(), 3, "{table}");
}

#[test]
fn pool_check_refuses_a_bad_member_type_or_rating_naming_line_column_and_values() {
    let pool = Pool::init();
    let run = pool.run(&[
        "pool",
        "check",
        "--figures",
        text(&fixture("figures_bad_types.csv")),
        "--as-of",
        "2026-01-15",
        "--format",
        "json",
    ]);
    let run = run.expect(2);
    run.stderr_has(&[
        "figures_bad_types.csv",
        "line 3, field `member_type`: unknown member type \"bank\"; expected one of enterprise, finance_company, financial_institution, lgfv, real_estate",
        "line 5, field `trade_rating`: unknown goods-trade category \"A类\"; write the letter alone: `A`; expected A, B or C",
    ]);
    assert!(!run.stderr.contains("line 2"), "line 2 is good:\n{}", run.stderr);
    assert!(run.stdout.trim().is_empty(), "no report on stdout: {}", run.stdout);
}

#[test]
fn pool_check_table_groups_thousands_like_every_table() {
    // docs/GUIDE.md, Output: "Tables group thousands (`1,234,567.89`); JSON and CSV never do."
    let pool = Pool::init();
    let run = pool.run(&["pool", "check", "--figures", FIGURES, "--as-of", "2026-01-15", "--format", "table"]);
    let table = run.expect(0).stdout;
    let (cross_border, _, _) = figure_totals();
    assert_eq!(cny(cross_border), "8286785778.30");
    for grouped in ["7,000,000,000.00", "8,286,785,778.30", "10,000,000,000.00"] {
        assert!(table.contains(grouped), "the table lacks {grouped}:\n{table}");
    }
}

// ---------------------------------------------------------------------------
// 6. Determinism
// ---------------------------------------------------------------------------

#[test]
fn the_same_commands_on_two_fresh_stores_give_byte_identical_exports() {
    let script = |pool: &Pool| {
        pool.run(&["rates", "import", RATES, "--format", "json"]).expect(0);
        pool.post(&fixture("funding.csv")).expect(0);
        pool.post(&fixture("pool_funding.csv")).expect(0);
        pool.run(&pool_set_args()).expect(0);
        pool.run(&["limits", "set", "--effective", "2026-12-01", "--macro-prudential", "1.25"]).expect(0);
        pool.run(&["rates", "import", text(&fixture("rates_overlap.csv"))]).expect(0);
        // Refused commands in between change nothing.
        pool.run(&["rates", "import", text(&fixture("rates_conflict.csv"))]).expect(2);
        pool.post(&fixture("second_line_purpose.csv")).expect(2);
        pool.run(&["limits", "set", "--effective", "2026-12-01", "--macro-prudential", "1.5"]).expect(2);
        let export = pool.run(&["audit", "export", "--format", "jsonl"]).expect(0).stdout;
        (export, pool.snapshot(), pool.limits(&[]))
    };
    let (first_export, first_snapshot, first_limits) = script(&Pool::init());
    let (second_export, second_snapshot, second_limits) = script(&Pool::init());
    assert_eq!(first_export.lines().count(), INIT_ENTRIES as usize + 8);
    assert!(first_export == second_export, "the exports differ");
    assert_eq!(first_snapshot, second_snapshot);
    assert_eq!(first_limits, second_limits);
}
