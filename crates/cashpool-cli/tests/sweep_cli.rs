//! End-to-end tests of the `cashpool` binary for the daily cycle: `sweep`,
//! `positions` and `interest` (`CONTRACT.md`, `docs/SWEEPS.md`,
//! `docs/GUIDE.md` §6), their read-only behaviour, the audit trail they leave,
//! and the demo that runs them.
//!
//! As in `cli.rs` and `limits_cli.rs`, every test runs the binary on its own
//! fresh store (a temporary folder given as `--data`) with `CASHPOOL_NOW` and
//! `CASHPOOL_OPERATOR` fixed, and reads `--format json` wherever it reads output.
//!
//! Inputs: the example group `examples/lingang-group.toml`, the example rates
//! `examples/rates-2026-11.csv`, and the files of `tests/fixtures/sweep/`:
//!
//! | file | what (all `current_account` receipts from EXT-ONSHORE / EXT-OFFSHORE) |
//! |---|---|
//! | `opening.csv` | value 2026-11-02: SZ-OPS CNY 3,000,000.00; HK-OPS USD 1,250,000.00 and CNY 800,000.00; SG-OPS USD 600,000.00; DE-OPS EUR 50,000.00; JP-OPS JPY 20,000,000; FTZ-FTE USD 450,000.00; SH-IMA USD 5,500,000.00 and JPY 40,000,000; SH-DMA EUR 100,000.00 |
//! | `next_day.csv` | value 2026-11-03: SZ-OPS CNY 125,000.50 |
//! | `later_debit.csv` | value 2026-11-05: SZ-OPS pays EXT-ONSHORE CNY 1,000,000.00 (posted before the sweep of 2026-11-02) |
//! | `skips.csv` | value 2026-11-02: HK-OPS USD 1,004,000.00; SG-OPS USD 499,999.99; DE-OPS EUR 500,000.00; JP-OPS JPY 20,000,000; FTZ-FTE USD 150,000.00; SH-IMA USD 3,000,000.00 |
//!
//! The sweeps of 2026-11-02 after `opening.csv`, by hand from the rules of the
//! example group (rule index = its position among the `[[sweep]]` tables):
//!
//! | rule | account | B | rule | sweep |
//! |---|---|---|---|---|
//! | 0 | SZ-OPS CNY | 3,000,000.00 | zero, both | up 3,000,000.00 into SH-DMA |
//! | 1 | HK-OPS USD | 1,250,000.00 | target 1,000,000.00, min 10,000.00 | up 250,000.00 into SH-IMA |
//! | 2 | HK-OPS CNY | 800,000.00 | zero, up | up 800,000.00 into SH-DMA (cross-border inflow) |
//! | 3 | SG-OPS USD | 600,000.00 | threshold 500,000.00 | up all 600,000.00 into SH-IMA |
//! | 6 | FTZ-FTE USD | 450,000.00 | target 200,000.00, up | up 250,000.00 into SH-IMA (first line) |
//! | 4 | DE-OPS EUR | 50,000.00 | range 200,000–800,000, partial | wants down 150,000.00; SH-DMA holds 100,000.00: down 100,000.00 |
//! | 5 | JP-OPS JPY | 20,000,000 | target 50,000,000 | down 30,000,000 from SH-IMA |
//! | 7 | SH-IMA USD | 5,500,000.00 + 1,100,000.00 | range 2,000,000–6,000,000 (header, after the members) | up 600,000.00 into SH-DMA |
//!
//! In that order: the members first (every concentration, then funding by
//! priority), the header last. Positions: LGT-SZ CNY 3,000,000.00, LGT-HK USD
//! 250,000.00 and CNY 800,000.00, LGT-SG USD 600,000.00, LGT-FTZ USD 250,000.00,
//! LGT-DE EUR -100,000.00, LGT-JP JPY -30,000,000; the host's own SH-IMA →
//! SH-DMA sweep makes none.
//!
//! Interest over [2026-11-02, 2026-12-01) (29 days) on those positions, from the
//! `[[interest]]` rules, rounded half-even once; the taxes withheld on what the
//! pool pays an offshore member (DOMAIN §5, docs/SWEEPS.md "Withholding"): VAT
//! 6 % (interest ÷ 1.06 × 6 %) and income tax on the interest without VAT at
//! the example's treaty rates (LGT-HK 7 %, LGT-SG, LGT-DE, LGT-JP 10 %); no
//! surcharge in 2026: see `expected_interest`.

mod common;
use common::{boolean, items, keys, sorted, string, text, Run, Snapshot};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};
use tempfile::TempDir;

const EXAMPLE_GROUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lingang-group.toml");
const EXAMPLE_RATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/rates-2026-11.csv");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sweep");

/// Entries `init` writes for the example group.
const INIT_ENTRIES: u64 = 24;

const DATE: &str = "2026-11-02";
const NEXT_DATE: &str = "2026-11-03";
const FROM: &str = "2026-11-02";
const TO: &str = "2026-12-01";

/// The members of the example group (every entity but the host LGT-SH).
const MEMBERS: [&str; 6] = ["LGT-SZ", "LGT-FTZ", "LGT-HK", "LGT-SG", "LGT-DE", "LGT-JP"];
const HOST: &str = "LGT-SH";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

/// Runs `cashpool --data DATA ARGS...` with the reproducible environment.
fn cashpool(data: &Path, args: &[&str]) -> Run {
    common::cashpool_as("sweep-test", data, args)
}

/// One sweep line: (account, currency, amount, direction, into, reference, capped).
type Sweep = (String, String, String, String, String, String, bool);

/// A store in a fresh temporary folder, and a second folder for exports.
struct Pool {
    store: TempDir,
    files: TempDir,
}

impl Pool {
    /// The example group, initialised, with the example rates.
    fn rated() -> Pool {
        let pool = Pool { store: tempfile::tempdir().expect("tempdir"), files: tempfile::tempdir().expect("tempdir") };
        let init = pool.run(&["init", "--config", EXAMPLE_GROUP, "--format", "json"]).expect(0).json();
        assert_eq!(init["entries"], INIT_ENTRIES, "{init}");
        let import = pool.run(&["rates", "import", EXAMPLE_RATES, "--format", "json"]).expect(0).json();
        assert_eq!(import["imported"], 200, "{import}");
        pool
    }

    /// The example group, the rates and `opening.csv`.
    fn opened() -> Pool {
        let pool = Pool::rated();
        pool.post("opening.csv", 10);
        pool
    }

    /// `opened`, swept for 2026-11-02.
    fn swept() -> Pool {
        let pool = Pool::opened();
        let run = pool.sweep(DATE, &[]).expect(0).json();
        assert_eq!(run["already_run"], false, "{run}");
        pool
    }

    fn data(&self) -> &Path {
        self.store.path()
    }

    fn run(&self, args: &[&str]) -> Run {
        cashpool(self.data(), args)
    }

    /// Posts a fixture (`post FILE --report json`) and checks how many transactions it posted.
    #[track_caller]
    fn post(&self, name: &str, posted: u64) {
        let report = self.run(&["post", text(&fixture(name)), "--report", "json"]).expect(0).json();
        assert_eq!(report["posted"], posted, "{name}: {report}");
        assert_eq!(report["rejected"], json!([]), "{name}: {report}");
    }

    /// `sweep --date DATE --format json EXTRA...`
    fn sweep(&self, date: &str, extra: &[&str]) -> Run {
        let mut args = vec!["sweep", "--date", date, "--format", "json"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `interest --from FROM --to TO --format json EXTRA...`
    fn interest(&self, from: &str, to: &str, extra: &[&str]) -> Run {
        let mut args = vec!["interest", "--from", from, "--to", to, "--format", "json"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `positions --format json EXTRA...`, checked, as (entity, currency) → position.
    #[track_caller]
    fn positions(&self, extra: &[&str]) -> BTreeMap<(String, String), String> {
        let mut args = vec!["positions", "--format", "json"];
        args.extend_from_slice(extra);
        let value = self.run(&args).expect(0).json();
        positions_of(&value)
    }

    /// One balance (`balances --account ID --currency CCY`), all postings.
    #[track_caller]
    fn balance(&self, account: &str, currency: &str) -> String {
        let value =
            self.run(&["balances", "--account", account, "--currency", currency, "--format", "json"]).expect(0).json();
        let rows = value["balances"].as_array().cloned().unwrap_or_default();
        assert_eq!(rows.len(), 1, "{account} {currency}: {value}");
        string(&rows[0], "balance")
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
            head: string(&verify, "head"),
            state_digest: string(&replay, "state_digest"),
        }
    }

    /// `audit export --format jsonl --output FILE`; returns the file.
    #[track_caller]
    fn export(&self, name: &str) -> PathBuf {
        let path = self.files.path().join(name);
        self.run(&["audit", "export", "--format", "jsonl", "--output", text(&path)]).expect(0);
        path
    }
}

/// The `sweeps` of a `sweep` report, in order.
#[track_caller]
fn sweeps_of(report: &Value) -> Vec<Sweep> {
    items(report, "sweeps")
        .iter()
        .map(|s| {
            (
                string(s, "account"),
                string(s, "currency"),
                string(s, "amount"),
                string(s, "direction"),
                string(s, "into"),
                string(s, "reference"),
                boolean(s, "capped"),
            )
        })
        .collect()
}

/// The `skipped` of a `sweep` report, in order: (account, currency, direction, wanted, reason, capped).
#[track_caller]
fn skipped_of(report: &Value) -> Vec<(String, String, String, String, String, bool)> {
    items(report, "skipped")
        .iter()
        .map(|s| {
            (
                string(s, "account"),
                string(s, "currency"),
                string(s, "direction"),
                string(s, "wanted"),
                string(s, "reason"),
                boolean(s, "capped"),
            )
        })
        .collect()
}

/// The `positions` of a `positions` report as (entity, currency) → position; each pair at most once.
#[track_caller]
fn positions_of(value: &Value) -> BTreeMap<(String, String), String> {
    let mut map = BTreeMap::new();
    for row in items(value, "positions") {
        let key = (string(&row, "entity"), string(&row, "currency"));
        let position = string(&row, "position");
        assert_eq!(decimals(&position), minor_units(&key.1), "{row}: the currency's minor units");
        assert!(map.insert(key, position).is_none(), "an (entity, currency) twice in {value}");
    }
    map
}

/// The `accruals` of an `interest` report as (entity, currency) → (interest, withholding_tax, net),
/// having checked that the taxes of each add up: `withholding_tax` = `income_tax` + `vat` +
/// `surcharges`, `surcharges` the sum of the three on the VAT, `net` = `interest` − `withholding_tax`.
#[track_caller]
fn accruals_of(value: &Value) -> BTreeMap<(String, String), (String, String, String)> {
    let mut map = BTreeMap::new();
    for row in items(value, "accruals") {
        let key = (string(&row, "entity"), string(&row, "currency"));
        let amounts = (string(&row, "interest"), string(&row, "withholding_tax"), string(&row, "net"));
        let taxes = TAX_KEYS.map(|tax| string(&row, tax));
        for amount in [&amounts.0, &amounts.1, &amounts.2].into_iter().chain(&taxes) {
            assert_eq!(decimals(amount), minor_units(&key.1), "{row}: the currency's minor units");
        }
        let [income_tax, vat, surcharges, urban, education, local] = taxes.map(|tax| dec(&tax));
        assert_eq!(surcharges, urban + education + local, "{row}");
        assert_eq!(dec(&amounts.1), income_tax + vat + surcharges, "{row}");
        assert_eq!(dec(&amounts.2), dec(&amounts.0) - dec(&amounts.1), "{row}");
        assert!(map.insert(key, amounts).is_none(), "an (entity, currency) twice in {value}");
    }
    map
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|err| panic!("{text:?} is not a decimal: {err}"))
}

/// Decimals of an amount string (`"710250.00"` → 2).
fn decimals(amount: &str) -> usize {
    amount.split_once('.').map_or(0, |(_, frac)| frac.len())
}

/// ISO 4217 minor units of the currencies of the example group.
fn minor_units(currency: &str) -> usize {
    match currency {
        "JPY" => 0,
        "CNY" | "USD" | "EUR" | "HKD" | "SGD" => 2,
        other => panic!("no minor units known for {other}"),
    }
}

/// `amount` rounded half-even to the currency's minor units, written with exactly those units.
fn money(amount: Decimal, currency: &str) -> String {
    let units = minor_units(currency);
    let rounded = amount.round_dp_with_strategy(units as u32, RoundingStrategy::MidpointNearestEven);
    let text = format!("{rounded:.units$}");
    if dec(&text).is_zero() {
        format!("{:.units$}", Decimal::ZERO)
    } else {
        text
    }
}

fn owned(rows: &[(&str, &str, &str)]) -> BTreeMap<(String, String), String> {
    rows.iter().map(|(e, c, p)| ((e.to_string(), c.to_string()), p.to_string())).collect()
}

/// (account, currency) of each `[[sweep]]` of the example group, in file order.
fn sweep_rules() -> Vec<(String, String)> {
    let toml = std::fs::read_to_string(EXAMPLE_GROUP).expect("read the example group");
    let value_of = |line: &str, key: &str| -> Option<String> {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().split('"').nth(1).unwrap_or_default().to_string())
    };
    let mut rules = Vec::new();
    let mut current: Option<(Option<String>, Option<String>)> = None;
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            if let Some((Some(a), Some(c))) = current.take() {
                rules.push((a, c));
            }
            if line == "[[sweep]]" {
                current = Some((None, None));
            }
        } else if let Some((account, currency)) = current.as_mut() {
            if let Some(v) = value_of(line, "account") {
                *account = Some(v);
            }
            if let Some(v) = value_of(line, "currency") {
                *currency = Some(v);
            }
        }
    }
    if let Some((Some(a), Some(c))) = current {
        rules.push((a, c));
    }
    rules
}

/// The `[[interest]]` rules of the example group: currency → (days in the year, credit %, debit %).
/// ACT/360 counts 360, ACT/365F 365; both count the actual days.
fn interest_rule(currency: &str) -> (i64, Decimal, Decimal) {
    match currency {
        "USD" => (360, dec("4.00"), dec("5.00")),
        "EUR" => (360, dec("2.00"), dec("3.00")),
        "CNY" => (365, dec("1.80"), dec("3.10")),
        "HKD" => (365, dec("3.50"), dec("4.50")),
        "SGD" => (365, dec("2.50"), dec("3.50")),
        "JPY" => (365, dec("0.10"), dec("0.90")),
        other => panic!("no interest rule for {other}"),
    }
}

/// The keys of an accrual's taxes in the `interest` JSON.
const TAX_KEYS: [&str; 6] =
    ["income_tax", "vat", "surcharges", "urban_maintenance_tax", "education_surcharge", "local_education_surcharge"];

/// The income tax rates of the example group's offshore members (their `[[entity.withholding]]`
/// rows: the Mainland–Hong Kong arrangement's 7 %; 10 % for the others, LGT-SG being no bank),
/// `None` for onshore members, from which nothing is withheld.
fn income_tax_rate(entity: &str) -> Option<Decimal> {
    match entity {
        "LGT-HK" => Some(dec("0.07")),
        "LGT-SG" | "LGT-DE" | "LGT-JP" => Some(dec("0.10")),
        _ => None,
    }
}

/// The taxes withheld in 2026 on `gross` paid to an offshore member at `income_tax_rate`:
/// (VAT, income tax). VAT 6 % is `gross ÷ 1.06 × 6 %`, split as gross − the interest without VAT
/// (rounded half-even); the income tax is on the interest without VAT; no surcharge since 2021-09-01.
fn taxes_2026(gross: Decimal, income_tax_rate: Decimal, currency: &str) -> (Decimal, Decimal) {
    let without_vat = dec(&money(gross / dec("1.06"), currency));
    (gross - without_vat, dec(&money(without_vat * income_tax_rate, currency)))
}

/// The interest on `segments` of (position, days) in `currency`, in exact decimals, rounded once
/// (half-even); the taxes withheld on it when the pool pays an offshore member; and the net.
fn expected_interest(entity: &str, currency: &str, segments: &[(&str, i64)]) -> (String, String, String) {
    let (basis, credit, debit) = interest_rule(currency);
    let exact: Decimal = segments
        .iter()
        .map(|(position, days)| {
            let position = dec(position);
            let rate = if position >= Decimal::ZERO { credit } else { debit };
            position * rate / Decimal::from(100) * Decimal::from(*days) / Decimal::from(basis)
        })
        .sum();
    let gross = dec(&money(exact, currency));
    let tax = match income_tax_rate(entity) {
        Some(rate) if gross > Decimal::ZERO => {
            let (vat, income_tax) = taxes_2026(gross, rate, currency);
            vat + income_tax
        }
        _ => Decimal::ZERO,
    };
    (money(gross, currency), money(tax, currency), money(gross - tax, currency))
}

/// The expected sweeps of 2026-11-02 after `opening.csv` (table at the top), without references.
fn expected_opening_sweeps() -> Vec<(&'static str, &'static str, &'static str, &'static str, &'static str)> {
    vec![
        ("SZ-OPS", "CNY", "3000000.00", "up", "SH-DMA"),
        ("HK-OPS", "USD", "250000.00", "up", "SH-IMA"),
        ("HK-OPS", "CNY", "800000.00", "up", "SH-DMA"),
        ("SG-OPS", "USD", "600000.00", "up", "SH-IMA"),
        ("FTZ-FTE", "USD", "250000.00", "up", "SH-IMA"),
        ("DE-OPS", "EUR", "100000.00", "down", "SH-DMA"),
        ("JP-OPS", "JPY", "30000000", "down", "SH-IMA"),
        ("SH-IMA", "USD", "600000.00", "up", "SH-DMA"),
    ]
}

/// Checks every reference of `sweeps` (of `date`): at most 16 characters, `SW` + YYMMDD + `R` + the
/// rule's index (3 digits) + `U`/`D` (docs/SWEEPS.md), the same index base for every rule.
#[track_caller]
fn check_references(sweeps: &[Sweep], date: &str) {
    let rules = sweep_rules();
    assert_eq!(rules.len(), 8, "the example group has 8 sweep rules: {rules:?}");
    let yymmdd = format!("{}{}{}", &date[2..4], &date[5..7], &date[8..10]);
    let mut bases = BTreeSet::new();
    for (account, currency, _, direction, _, reference, _) in sweeps {
        assert!(reference.len() <= 16, "{reference}: longer than an MT940 :61: reference");
        assert_eq!(reference.len(), 13, "{reference}: SW + YYMMDD + R + 3 digits + U/D");
        assert!(reference.starts_with(&format!("SW{yymmdd}R")), "{reference}: SW + YYMMDD ({date}) + R");
        let arrow = if direction == "up" { "U" } else { "D" };
        assert!(reference.ends_with(arrow), "{reference}: {direction} ends with {arrow}");
        let index: usize = reference[9..12].parse().unwrap_or_else(|_| panic!("{reference}: 3 digits after R"));
        let position = rules
            .iter()
            .position(|(a, c)| a == account && c == currency)
            .unwrap_or_else(|| panic!("no rule for {account} {currency}"));
        bases.insert(index as i64 - position as i64);
    }
    assert!(
        bases.len() <= 1 && bases.iter().all(|b| *b == 0 || *b == 1),
        "references must carry the rule's index (0- or 1-based, the same for all): {sweeps:?}"
    );
    let unique: BTreeSet<&String> = sweeps.iter().map(|s| &s.5).collect();
    assert_eq!(unique.len(), sweeps.len(), "references are unique: {sweeps:?}");
}

// ---------------------------------------------------------------------------
// 1. `sweep`: the contract's JSON, and the example group's rules by hand
// ---------------------------------------------------------------------------

/// CONTRACT.md: `sweep`: `{"date", "sweeps": [{"account", "currency", "amount", "direction", "into",
/// "reference", "capped"}]}`, plus `skipped`, `already_run`, `dry_run`, `calendars_missing` (docs/SWEEPS.md).
#[test]
fn sweep_json_has_the_contract_fields_and_the_documented_extensions() {
    let pool = Pool::opened();
    let mut problems = Vec::new();
    for (what, run) in [
        ("dry run", pool.sweep(DATE, &["--dry-run"])),
        ("run", pool.sweep(DATE, &[])),
        ("second run", pool.sweep(DATE, &[])),
        ("next day (a skip)", pool.sweep(NEXT_DATE, &["--dry-run"])),
    ] {
        let report = run.expect(0).json();
        let top = sorted(&["date", "sweeps", "skipped", "already_run", "dry_run", "calendars_missing"]);
        if keys(&report) != top {
            problems.push(format!("{what}: top-level keys {:?}, documented {top:?}", keys(&report)));
        }
        for line in items(&report, "sweeps") {
            let expected = sorted(&["account", "currency", "amount", "direction", "into", "reference", "capped"]);
            if keys(&line) != expected {
                problems.push(format!("{what}: sweep keys {:?}, the contract has {expected:?}", keys(&line)));
            }
            assert!(line["capped"].is_boolean(), "{line}");
            assert!(["up", "down"].contains(&string(&line, "direction").as_str()), "{line}");
        }
        for skip in items(&report, "skipped") {
            let expected = sorted(&["account", "currency", "direction", "wanted", "reason", "capped"]);
            if keys(&skip) != expected {
                problems.push(format!("{what}: skipped keys {:?}, documented {expected:?}", keys(&skip)));
            }
        }
        assert!(report["already_run"].is_boolean() && report["dry_run"].is_boolean(), "{report}");
    }
    assert!(problems.is_empty(), "`sweep --format json` fields differ from the docs:\n{}", problems.join("\n"));
}

#[test]
fn sweep_of_the_example_group_moves_what_the_rules_say() {
    let pool = Pool::opened();
    let before = pool.snapshot();
    let report = pool.sweep(DATE, &[]).expect(0).json();
    assert_eq!(report["date"], DATE, "{report}");
    assert_eq!(report["already_run"], false, "{report}");
    assert_eq!(report["dry_run"], false, "{report}");
    assert_eq!(report["skipped"], json!([]), "nothing is skipped: {report}");

    let sweeps = sweeps_of(&report);
    let got: Vec<_> = sweeps
        .iter()
        .map(|(a, c, amount, d, into, _, capped)| {
            assert!(!capped, "no cap is reached: {report}");
            (a.as_str(), c.as_str(), amount.as_str(), d.as_str(), into.as_str())
        })
        .collect();
    // The members' concentrations, then their funding by priority, then the header (SH-IMA) last.
    assert_eq!(got, expected_opening_sweeps(), "{report}");
    for (_, currency, amount, ..) in &sweeps {
        assert_eq!(decimals(amount), minor_units(currency), "{amount} {currency}: the currency's minor units");
    }
    check_references(&sweeps, DATE);

    // One transaction per sweep, plus the run's SweepRun entry, in one commit.
    let after = pool.snapshot();
    assert_eq!(after.entries, before.entries + sweeps.len() as u64 + 1, "{before:?} -> {after:?}");

    // The bank legs: every member at its rule's level, the headers where the sweeps left them.
    for (account, currency, balance) in [
        ("SZ-OPS", "CNY", "0.00"),
        ("HK-OPS", "USD", "1000000.00"),
        ("HK-OPS", "CNY", "0.00"),
        ("SG-OPS", "USD", "0.00"),
        ("FTZ-FTE", "USD", "200000.00"),
        ("DE-OPS", "EUR", "150000.00"),
        ("JP-OPS", "JPY", "50000000"),
        ("SH-IMA", "USD", "6000000.00"),
        ("SH-IMA", "JPY", "10000000"),
        ("SH-DMA", "CNY", "3800000.00"),
        ("SH-DMA", "EUR", "0.00"),
        ("SH-DMA", "USD", "600000.00"),
    ] {
        assert_eq!(pool.balance(account, currency), balance, "{account} {currency} after the sweep");
    }

    // The sweep's id and reference in the member's statement, purpose pool_funding.
    let statement = pool.run(&["statement", "--account", "SZ-OPS", "--format", "json"]).expect(0).json();
    let line = items(&statement, "lines")
        .into_iter()
        .find(|line| line["id"] == json!(sweeps[0].5))
        .unwrap_or_else(|| panic!("no line {} in {statement}", sweeps[0].5));
    assert_eq!(line["reference"], json!(sweeps[0].5), "{line}");
    assert_eq!(line["purpose"], "pool_funding", "{line}");
    assert_eq!(line["amount"], "-3000000.00", "{line}");
    assert_eq!(line["value_date"], DATE, "{line}");
}

#[test]
fn sweep_skips_what_is_under_min_transfer_or_beyond_the_header_and_leaves_balances_inside_their_rule() {
    let pool = Pool::rated();
    pool.post("skips.csv", 6);
    let before = pool.snapshot();
    let report = pool.sweep(DATE, &[]).expect(0).json();
    // HK-OPS USD 1,004,000.00: 4,000.00 above target, under min_transfer 10,000.00.
    // JP-OPS JPY 20,000,000: wants 30,000,000 from SH-IMA, which holds no JPY; partial not allowed.
    // SG-OPS 499,999.99 is under its threshold, DE-OPS 500,000.00 and SH-IMA 3,000,000.00 inside their
    // ranges, FTZ-FTE under its target but swept up only: no sweep and no skip for them.
    assert_eq!(report["sweeps"], json!([]), "{report}");
    let expected = vec![
        ("HK-OPS".into(), "USD".into(), "up".into(), "4000.00".into(), "below_min_transfer".into(), false),
        ("JP-OPS".into(), "JPY".into(), "down".into(), "30000000".into(), "header_short".into(), false),
    ];
    assert_eq!(skipped_of(&report), expected, "{report}");
    // Only the run's report is journaled.
    let after = pool.snapshot();
    assert_eq!(after.entries, before.entries + 1, "{before:?} -> {after:?}");
    assert_eq!(pool.positions(&[]), BTreeMap::new(), "no sweep, no position");
    assert_eq!(pool.balance("HK-OPS", "USD"), "1004000.00");
    assert_eq!(pool.balance("JP-OPS", "JPY"), "20000000");
}

/// docs/SWEEPS.md: the balance a rule sees is the value-dated end of day, never more than the balance of
/// all postings, so a later-dated debit already posted is respected.
#[test]
fn a_later_dated_debit_is_respected_by_the_concentration() {
    let pool = Pool::opened();
    pool.post("later_debit.csv", 1);
    let report = pool.sweep(DATE, &[]).expect(0).json();
    let sz = sweeps_of(&report).into_iter().find(|s| s.0 == "SZ-OPS").unwrap_or_else(|| panic!("{report}"));
    // 3,000,000.00 on 2026-11-02, 1,000,000.00 paid on 2026-11-05: only 2,000,000.00 is swept.
    assert_eq!((sz.2.as_str(), sz.3.as_str()), ("2000000.00", "up"), "{report}");
    assert_eq!(pool.balance("SZ-OPS", "CNY"), "0.00");
    assert_eq!(pool.positions(&[])[&("LGT-SZ".to_string(), "CNY".to_string())], "2000000.00");
}

/// docs/SWEEPS.md, Limits: a sweep that would breach a cap is cut to the headroom when
/// `partial_allowed` and marked `capped`.
#[test]
fn a_sweep_beyond_the_pools_cap_is_cut_to_the_headroom_and_marked_capped() {
    let pool = Pool::opened();
    // Inflow cap from 2026-11-01: 1,000,000.00 × 2 × 1.75 = 3,500,000.00 CNY; outflow 500,000.00.
    pool.run(&[
        "limits",
        "set",
        "--effective",
        "2026-11-01",
        "--owners-equity",
        "1000000.00",
        "--inflow-leverage",
        "2",
        "--inflow-parameter",
        "1.75",
        "--outflow-coefficient",
        "0.5",
        "--format",
        "json",
    ])
    .expect(0);
    let report = pool.sweep(DATE, &[]).expect(0).json();
    let sweeps = sweeps_of(&report);
    // The example group keeps its quotas apart (docs/LIMITS.md, quota_model "separate"). Members:
    // HK-OPS CNY 800,000.00 in is foreign debt weighing 800,000.00 × 1.5 = 1,200,000.00. DE-OPS
    // EUR 100,000.00 out (770,120.00 CNY at 7.7012) is overseas lending past the 500,000.00 cap:
    // its rule allows partial sweeps, so it is cut to EUR 64,924.94 (499,999.95 CNY; one cent more
    // would be 500,000.03). The header: SH-IMA USD 600,000.00 in would weigh 4,261,500.00 × (1.5 +
    // 0.5) against a headroom of 2,300,000.00: cut.
    let de = sweeps.iter().find(|s| s.0 == "DE-OPS").unwrap_or_else(|| panic!("no DE-OPS sweep: {report}"));
    assert_eq!((de.2.as_str(), de.3.as_str(), de.6), ("64924.94", "down", true), "{report}");
    let header = sweeps.iter().find(|s| s.0 == "SH-IMA").unwrap_or_else(|| panic!("no SH-IMA sweep: {report}"));
    assert!(header.6, "the header's sweep is capped: {report}");
    let amount = dec(&header.2);
    assert!(amount > Decimal::ZERO && amount < dec("600000.00"), "cut: {report}");
    for s in sweeps.iter().filter(|s| s.0 != "SH-IMA" && s.0 != "DE-OPS") {
        assert!(!s.6, "only the header's and DE-OPS's sweeps are capped: {report}");
    }
    let limits = pool.run(&["limits", "--format", "json"]).expect(0).json();
    assert_eq!(limits["inflow"]["cap"], "3500000.00", "{limits}");
    assert_eq!(limits["outflow"]["used"], "499999.95", "{limits}");
    let headroom = dec(&string(&limits["inflow"], "headroom"));
    // Cut to the headroom: what is left is less than one more cent of USD at 7.1025, weighted 2.
    assert!(headroom >= Decimal::ZERO && headroom < dec("0.15"), "inflow headroom after the cut: {limits}");
    let used = dec(&string(&limits["inflow"], "used"));
    assert_eq!(used, dec("1200000.00") + (amount * dec("7.1025")).round_dp(2) * dec("2"), "{limits} vs {report}");
    assert_eq!(pool.snapshot().entries, INIT_ENTRIES + 1 + 10 + 1 + sweeps.len() as u64 + 1);
}

// ---------------------------------------------------------------------------
// 2. Dry run and idempotence
// ---------------------------------------------------------------------------

#[test]
fn dry_run_prints_exactly_what_the_run_then_prints_and_writes_nothing() {
    let pool = Pool::opened();
    let before = pool.snapshot();
    let dry = pool.sweep(DATE, &["--dry-run"]).expect(0).json();
    assert_eq!(dry["dry_run"], true, "{dry}");
    assert_eq!(dry["already_run"], false, "{dry}");
    assert_eq!(pool.snapshot(), before, "a dry run writes nothing");
    assert_eq!(pool.positions(&[]), BTreeMap::new(), "a dry run moves no position");

    let real = pool.sweep(DATE, &[]).expect(0).json();
    assert_eq!(real["dry_run"], false, "{real}");
    assert_eq!(real["sweeps"], dry["sweeps"], "the dry run planned exactly what the run posted");
    assert_eq!(real["skipped"], dry["skipped"], "{dry}\n{real}");
    assert_eq!(real["date"], dry["date"]);
    assert!(!sweeps_of(&real).is_empty(), "{real}");
    assert_ne!(pool.snapshot(), before, "the real run writes");
}

#[test]
fn a_second_run_for_the_same_date_posts_nothing_and_reports_the_first_run() {
    let pool = Pool::opened();
    let first = pool.sweep(DATE, &[]).expect(0).json();
    let after_first = pool.snapshot();
    let positions = pool.positions(&[]);

    let second = pool.sweep(DATE, &[]).expect(0).json();
    assert_eq!(second["already_run"], true, "{second}");
    assert_eq!(second["dry_run"], false, "{second}");
    assert_eq!(second["sweeps"], first["sweeps"], "the first run's report");
    assert_eq!(second["skipped"], first["skipped"], "the first run's report");
    assert_eq!(pool.snapshot(), after_first, "the second run writes nothing");
    assert_eq!(pool.positions(&[]), positions);

    // A dry run of a swept date reports the first run too.
    let dry = pool.sweep(DATE, &["--dry-run"]).expect(0).json();
    assert_eq!(dry["already_run"], true, "{dry}");
    assert_eq!(dry["sweeps"], first["sweeps"], "{dry}");
    assert_eq!(pool.snapshot(), after_first, "nothing written");
}

#[test]
fn sweeps_of_two_dates_have_distinct_references_and_positions_add_up() {
    let pool = Pool::swept();
    pool.post("next_day.csv", 1);
    let first = pool.sweep(DATE, &[]).expect(0).json();
    let next = pool.sweep(NEXT_DATE, &[]).expect(0).json();
    assert_eq!(next["date"], NEXT_DATE, "{next}");
    assert_eq!(next["already_run"], false, "{next}");
    // Every member is back at its rule's level but SZ-OPS (the receipt) and DE-OPS (150,000.00, under
    // its range's 200,000.00, with SH-DMA's EUR all lent the day before).
    let sweeps = sweeps_of(&next);
    let got: Vec<_> = sweeps.iter().map(|s| (s.0.as_str(), s.1.as_str(), s.2.as_str(), s.3.as_str(), s.6)).collect();
    assert_eq!(got, vec![("SZ-OPS", "CNY", "125000.50", "up", false)], "{next}");
    assert_eq!(
        skipped_of(&next),
        vec![("DE-OPS".into(), "EUR".into(), "down".into(), "50000.00".into(), "header_short".into(), false)],
        "{next}"
    );
    check_references(&sweeps, NEXT_DATE);
    let mut all = sweeps_of(&first);
    check_references(&all, DATE);
    all.extend(sweeps);
    let references: BTreeSet<&String> = all.iter().map(|s| &s.5).collect();
    assert_eq!(references.len(), all.len(), "references are unique in the store: {all:?}");

    assert_eq!(pool.positions(&[])[&("LGT-SZ".to_string(), "CNY".to_string())], "3125000.50");
    assert_eq!(pool.positions(&["--as-of", DATE])[&("LGT-SZ".to_string(), "CNY".to_string())], "3000000.00");

    // Interest segment by segment: 3,000,000.00 for 2026-11-02, 3,125,000.50 for the 28 days after.
    let interest = pool.interest(FROM, TO, &[]).expect(0).json();
    let accruals = accruals_of(&interest);
    let sz = &accruals[&("LGT-SZ".to_string(), "CNY".to_string())];
    assert_eq!(sz, &expected_interest("LGT-SZ", "CNY", &[("3000000.00", 1), ("3125000.50", 28)]), "{interest}");
}

// ---------------------------------------------------------------------------
// 3. `positions`
// ---------------------------------------------------------------------------

#[test]
fn positions_reflect_the_sweeps_and_never_show_the_host() {
    let pool = Pool::swept();
    let value = pool.run(&["positions", "--format", "json"]).expect(0).json();
    // CONTRACT.md's fields, plus the extensions documented in docs/GUIDE.md (section 6): `totals` and
    // `base_total`, the net positions in the base currency.
    assert_eq!(
        keys(&value),
        sorted(&["as_of", "positions", "totals", "base_total"]),
        "the contract's fields and the documented extensions: {value}"
    );
    assert_eq!(value["as_of"], Value::Null, "{value}");
    for row in items(&value, "positions") {
        assert_eq!(keys(&row), sorted(&["entity", "currency", "position"]), "the contract's fields: {row}");
    }
    let expected = owned(&[
        ("LGT-SZ", "CNY", "3000000.00"),
        ("LGT-HK", "USD", "250000.00"),
        ("LGT-HK", "CNY", "800000.00"),
        ("LGT-SG", "USD", "600000.00"),
        ("LGT-FTZ", "USD", "250000.00"),
        ("LGT-DE", "EUR", "-100000.00"),
        ("LGT-JP", "JPY", "-30000000"),
    ]);
    assert_eq!(positions_of(&value), expected, "{value}");
    for as_of in [DATE, "2026-11-30"] {
        assert_eq!(pool.positions(&["--as-of", as_of]), expected, "as of {as_of}");
    }
    let at_date = pool.run(&["positions", "--as-of", DATE, "--format", "json"]).expect(0).json();
    assert_eq!(at_date["as_of"], DATE, "{at_date}");

    // The host's own SH-IMA -> SH-DMA sweep makes no position, and the host never appears.
    for (entity, _) in expected.keys() {
        assert!(MEMBERS.contains(&entity.as_str()), "{entity}");
    }
    assert!(!value.to_string().contains(HOST), "the host never appears: {value}");
}

#[test]
fn positions_as_of_before_the_sweep_date_show_nothing() {
    let pool = Pool::swept();
    let value = pool.run(&["positions", "--as-of", "2026-11-01", "--format", "json"]).expect(0).json();
    assert_eq!(value["as_of"], "2026-11-01", "{value}");
    assert_eq!(value["positions"], json!([]), "every sweep is value-dated {DATE}: {value}");
    // Before any sweep, no position at all.
    assert_eq!(Pool::opened().positions(&[]), BTreeMap::new());
}

// ---------------------------------------------------------------------------
// 4. `interest`
// ---------------------------------------------------------------------------

/// The accruals of [2026-11-02, 2026-12-01) on the positions of the swept pool (29 days each).
fn expected_accruals() -> BTreeMap<(String, String), (String, String, String)> {
    [
        ("LGT-SZ", "CNY", "3000000.00"),
        ("LGT-HK", "USD", "250000.00"),
        ("LGT-HK", "CNY", "800000.00"),
        ("LGT-SG", "USD", "600000.00"),
        ("LGT-FTZ", "USD", "250000.00"),
        ("LGT-DE", "EUR", "-100000.00"),
        ("LGT-JP", "JPY", "-30000000"),
    ]
    .iter()
    .map(|(e, c, p)| ((e.to_string(), c.to_string()), expected_interest(e, c, &[(p, 29)])))
    .collect()
}

#[test]
fn interest_json_has_the_contract_fields_and_accrues_by_the_rules_without_writing() {
    let pool = Pool::swept();
    let before = pool.snapshot();
    let value = pool.interest(FROM, TO, &[]).expect(0).json();
    assert_eq!(
        keys(&value),
        sorted(&["from", "to", "accruals", "settled", "already_settled", "rates"]),
        "the contract's fields plus the documented ones: {value}"
    );
    // `rates` (docs/SWEEPS.md, "What `interest` shows"): each accrual's fixed row over the whole period.
    let rates = items(&value, "rates");
    assert_eq!(rates.len(), items(&value, "accruals").len(), "{value}");
    let sz = rates.iter().find(|r| r["entity"] == "LGT-SZ" && r["currency"] == "CNY").expect("LGT-SZ CNY");
    let periods = items(sz, "periods");
    let shown = ["from", "to", "rule", "basis", "credit_rate", "debit_rate"].map(|key| string(&periods[0], key));
    assert_eq!((periods.len(), shown), (1, [FROM, TO, "interest[2]", "fixed", "1.80", "3.10"].map(String::from)));
    for row in items(&value, "accruals") {
        let mut want = vec!["entity", "currency", "interest", "withholding_tax", "net"];
        want.extend(TAX_KEYS);
        assert_eq!(keys(&row), sorted(&want), "the contract's fields plus the taxes one by one: {row}");
    }
    assert_eq!(value["from"], FROM, "{value}");
    assert_eq!(value["to"], TO, "{value}");
    assert_eq!(value["settled"], false, "{value}");
    assert_eq!(value["already_settled"], false, "{value}");
    let accruals = accruals_of(&value);

    // By hand: 3,000,000.00 × 1.80% × 29 / 365 = 4,290.4109… → 4,290.41.
    let key = |e: &str, c: &str| (e.to_string(), c.to_string());
    let sz = (String::from("4290.41"), String::from("0.00"), String::from("4290.41"));
    assert_eq!(accruals[&key("LGT-SZ", "CNY")], sz, "{value}");
    // 250,000.00 × 4.00% × 29 / 360 = 805.5555… → 805.56; LGT-HK is offshore: VAT 6 % of the
    // interest without VAT, 805.56 / 1.06 = 759.9622… → 759.96, is 45.60; income tax at the
    // Hong Kong arrangement's 7 % of 759.96 = 53.1972 → 53.20; withheld 98.80, net 706.76.
    // LGT-FTZ (onshore) gets the same gross, no tax.
    let hk = (String::from("805.56"), String::from("98.80"), String::from("706.76"));
    assert_eq!(accruals[&key("LGT-HK", "USD")], hk, "{value}");
    let hk_row =
        items(&value, "accruals").into_iter().find(|row| row["entity"] == "LGT-HK" && row["currency"] == "USD");
    let hk_row = hk_row.expect("LGT-HK USD");
    assert_eq!(TAX_KEYS.map(|tax| string(&hk_row, tax)), ["53.20", "45.60", "0.00", "0.00", "0.00", "0.00"]);
    assert_eq!(accruals[&key("LGT-FTZ", "USD")], (hk.0.clone(), "0.00".into(), hk.0.clone()), "{value}");
    // JP borrowed: 30,000,000 × 0.90% × 29 / 365 = 21,452.05… → -21452, no tax, JPY without decimals.
    assert_eq!(accruals[&key("LGT-JP", "JPY")], ("-21452".into(), "0".into(), "-21452".into()), "{value}");

    // Every accrual, by the rules; the taxes of an offshore member: VAT, and income tax on the
    // interest without VAT (LGT-SG at 10 %: the Singapore treaty's 7 % is for banks only).
    assert_eq!(accruals, expected_accruals(), "{value}");
    for (entity, tax_rate) in [("LGT-HK", dec("0.07")), ("LGT-SG", dec("0.10"))] {
        for ((e, currency), (gross, tax, net)) in accruals.iter().filter(|((e, _), _)| e == entity) {
            let (vat, income_tax) = taxes_2026(dec(gross), tax_rate, currency);
            assert_eq!(tax, &money(vat + income_tax, currency), "{e} {currency}: taxes on {gross}");
            assert_eq!(dec(net), dec(gross) - dec(tax), "{e} {currency}");
        }
    }
    assert!(!value.to_string().contains(HOST), "the host has no position: {value}");
    assert_eq!(pool.snapshot(), before, "interest without --settle writes nothing");
}

#[test]
fn interest_settle_posts_and_positions_grow_by_net_and_settling_again_posts_nothing() {
    let pool = Pool::swept();
    let positions = pool.positions(&[]);
    let before = pool.snapshot();
    let settled = pool.interest(FROM, TO, &["--settle"]).expect(0).json();
    assert_eq!(settled["settled"], true, "{settled}");
    assert_eq!(settled["already_settled"], false, "{settled}");
    let accruals = accruals_of(&settled);
    assert_eq!(accruals, expected_accruals(), "{settled}");
    let after = pool.snapshot();
    // One transaction per accrual and the settlement's entry (and at most one for rounding
    // residues), and the opening of SYS-WHT-VAT, which this first settlement withholding VAT needs
    // (no surcharge in 2026: SYS-WHT-SURCHARGES stays unopened).
    let grew = after.entries - before.entries;
    let n = accruals.len() as u64;
    assert!(grew == n + 2 || grew == n + 3, "{n} accruals: {before:?} -> {after:?}");

    // Each member's position grows by its net, on the period's last day.
    let grown: BTreeMap<(String, String), String> = positions
        .iter()
        .map(|(key, position)| {
            let net = &accruals.get(key).unwrap_or_else(|| panic!("no accrual for {key:?}: {settled}")).2;
            (key.clone(), money(dec(position) + dec(net), &key.1))
        })
        .collect();
    assert_eq!(pool.positions(&[]), grown, "{settled}");
    assert_eq!(pool.positions(&["--as-of", "2026-11-30"]), grown, "value date: the period's last day");
    assert_eq!(pool.positions(&["--as-of", "2026-11-29"]), positions, "not before the last day");
    assert_eq!(grown[&("LGT-SZ".to_string(), "CNY".to_string())], "3004290.41");
    assert_eq!(grown[&("LGT-JP".to_string(), "JPY".to_string())], "-30021452");

    // The income tax is booked to SYS-WHT: 53.20 + 182.39 USD (HK, SG), 75.55 CNY (HK); the VAT
    // to SYS-WHT-VAT: 45.60 + 109.43 USD, 64.76 CNY; no surcharge in 2026.
    let rows = items(&settled, "accruals");
    for (account, tax, usd, cny) in
        [("SYS-WHT", "income_tax", "235.59", "75.55"), ("SYS-WHT-VAT", "vat", "155.03", "64.76")]
    {
        for (currency, by_hand) in [("USD", usd), ("CNY", cny)] {
            let booked: Decimal =
                rows.iter().filter(|row| row["currency"] == currency).map(|row| dec(&string(row, tax))).sum();
            assert_eq!(money(booked, currency), by_hand, "{account} {currency}");
            assert_eq!(pool.balance(account, currency), by_hand, "{account} {currency}");
        }
    }

    // Settling the same period again: the first settlement, nothing written.
    let again = pool.interest(FROM, TO, &["--settle"]).expect(0).json();
    assert_eq!(again["already_settled"], true, "{again}");
    assert_eq!(again["accruals"], settled["accruals"], "the first settlement");
    assert_eq!(pool.snapshot(), after, "settling again writes nothing");
    assert_eq!(pool.positions(&[]), grown);
}

#[test]
fn interest_refuses_overlapping_settlements_and_bad_periods_with_exit_2_writing_nothing() {
    let pool = Pool::swept();
    pool.interest(FROM, TO, &["--settle"]).expect(0);
    let before = pool.snapshot();
    for (from, to) in [("2026-11-15", "2026-12-15"), ("2026-10-01", "2026-11-03"), ("2026-11-10", "2026-11-20")] {
        pool.interest(from, to, &["--settle"]).expect(2).stderr_has(&["overlap"]);
        assert_eq!(pool.snapshot(), before, "[{from}, {to}) overlaps the settled period: nothing written");
    }
    // --from after --to, and an empty period.
    pool.interest(TO, FROM, &[]).expect(2);
    pool.interest(TO, FROM, &["--settle"]).expect(2);
    pool.interest(FROM, FROM, &["--settle"]).expect(2);
    assert_eq!(pool.snapshot(), before, "nothing written");
    // The next period, adjacent, settles.
    let next = pool.interest(TO, "2026-12-31", &["--settle"]).expect(0).json();
    assert_eq!(next["settled"], true, "{next}");
}

#[test]
fn bad_dates_are_exit_2_naming_the_flag() {
    let pool = Pool::opened();
    let before = pool.snapshot();
    let cases: [(&[&str], &str); 8] = [
        (&["sweep", "--date", "2026-02-30"], "--date"),
        (&["sweep", "--date", "02/11/2026", "--dry-run"], "--date"),
        (&["sweep", "--date", "tomorrow"], "--date"),
        (&["positions", "--as-of", "2026-11-31"], "--as-of"),
        (&["interest", "--from", "2026-13-01", "--to", TO], "--from"),
        (&["interest", "--from", FROM, "--to", "2026-12-1"], "--to"),
        (&["interest", "--from", FROM, "--to", "nope", "--settle"], "--to"),
        (&["interest", "--from", "", "--to", TO, "--settle"], "--from"),
    ];
    for (args, flag) in cases {
        let mut args = args.to_vec();
        args.extend(["--format", "json"]);
        pool.run(&args).expect(2).stderr_has(&[flag]);
    }
    assert_eq!(pool.snapshot(), before, "nothing written");
}

// ---------------------------------------------------------------------------
// 5. Read-only
// ---------------------------------------------------------------------------

#[test]
fn read_only_refuses_a_sweep_and_a_settlement_but_allows_a_dry_run_and_positions() {
    let pool = Pool::opened();
    let before = pool.snapshot();
    let dry = pool.sweep(DATE, &["--dry-run"]).expect(0).json();

    pool.run(&["--read-only", "sweep", "--date", DATE, "--format", "json"]).expect(2);
    pool.run(&["--read-only", "interest", "--from", FROM, "--to", TO, "--settle", "--format", "json"]).expect(2);
    assert_eq!(pool.snapshot(), before, "nothing written");

    let read_only_dry =
        pool.run(&["--read-only", "sweep", "--date", DATE, "--dry-run", "--format", "json"]).expect(0).json();
    assert_eq!(read_only_dry, dry, "a read-only dry run plans the same");
    let positions = pool.run(&["--read-only", "positions", "--format", "json"]).expect(0).json();
    assert_eq!(positions["positions"], json!([]), "{positions}");
    pool.run(&["--read-only", "interest", "--from", FROM, "--to", TO, "--format", "json"]).expect(0);
    assert_eq!(pool.snapshot(), before, "nothing written");

    // After a real run, a read-only store shows its positions and its report.
    pool.sweep(DATE, &[]).expect(0);
    let swept = pool.snapshot();
    let positions = pool.run(&["--read-only", "positions", "--format", "json"]).expect(0).json();
    assert_eq!(positions_of(&positions), pool.positions(&[]));
    let report = pool.run(&["--read-only", "sweep", "--date", DATE, "--dry-run", "--format", "json"]).expect(0).json();
    assert_eq!(report["already_run"], true, "{report}");
    pool.run(&["--read-only", "interest", "--from", FROM, "--to", TO, "--settle", "--format", "json"]).expect(2);
    pool.run(&["--read-only", "sweep", "--date", NEXT_DATE, "--format", "json"]).expect(2);
    assert_eq!(pool.snapshot(), swept, "nothing written");
}

// ---------------------------------------------------------------------------
// 6. Audit and determinism
// ---------------------------------------------------------------------------

#[test]
fn after_sweeps_and_a_settlement_the_audit_verifies_replays_and_exports_to_the_same_digest() {
    let pool = Pool::swept();
    pool.post("next_day.csv", 1);
    pool.sweep(NEXT_DATE, &[]).expect(0);
    pool.interest(FROM, TO, &["--settle"]).expect(0);

    let verify = pool.run(&["audit", "verify", "--exclusive", "--format", "json"]).expect(0).json();
    assert_eq!(verify["ok"], true, "{verify}");
    let replay = pool.run(&["audit", "replay", "--exclusive", "--format", "json"]).expect(0).json();
    assert_eq!(replay["matches_store"], true, "{replay}");
    assert_eq!(replay["entries"], verify["entries"], "{replay}");

    let export = pool.export("journal.jsonl");
    let exported = std::fs::read_to_string(&export).expect("read the export");
    assert_eq!(exported.lines().count() as u64, verify["entries"].as_u64().unwrap(), "one line an entry");
    let from_journal =
        cashpool(pool.data(), &["audit", "verify", "--journal", text(&export), "--format", "json"]).expect(0).json();
    assert_eq!(from_journal["ok"], true, "{from_journal}");
    assert_eq!(from_journal["entries"], verify["entries"], "{from_journal}");
    assert_eq!(from_journal["head"], verify["head"], "{from_journal}");
    // The regulator's copy: no store at all.
    let nowhere = tempfile::tempdir().expect("tempdir");
    let replayed =
        cashpool(nowhere.path(), &["audit", "replay", "--journal", text(&export), "--format", "json"]).expect(0).json();
    assert_eq!(replayed["state_digest"], replay["state_digest"], "the export replays to the store's state");
    assert_eq!(replayed["entries"], replay["entries"], "{replayed}");
    assert_eq!(replayed["matches_store"], Value::Null, "{replayed}");
}

/// The same commands, in the same order.
fn scripted_store() -> (Pool, Vec<String>) {
    let pool = Pool::swept();
    let mut outputs = Vec::new();
    pool.post("next_day.csv", 1);
    outputs.push(pool.sweep(NEXT_DATE, &["--dry-run"]).expect(0).stdout);
    outputs.push(pool.sweep(NEXT_DATE, &[]).expect(0).stdout);
    outputs.push(pool.sweep(DATE, &[]).expect(0).stdout);
    outputs.push(pool.interest(FROM, TO, &[]).expect(0).stdout);
    outputs.push(pool.interest(FROM, TO, &["--settle"]).expect(0).stdout);
    outputs.push(pool.run(&["positions", "--format", "json"]).expect(0).stdout);
    (pool, outputs)
}

#[test]
fn the_same_commands_on_two_fresh_stores_give_byte_identical_exports() {
    let (one, one_outputs) = scripted_store();
    let (two, two_outputs) = scripted_store();
    assert_eq!(one_outputs, two_outputs, "the same reports");
    let a = std::fs::read(one.export("journal.jsonl")).expect("read export one");
    let b = std::fs::read(two.export("journal.jsonl")).expect("read export two");
    assert!(!a.is_empty());
    assert!(a == b, "the exports of two stores that ran the same commands differ");
    assert_eq!(one.snapshot(), two.snapshot());
}

// ---------------------------------------------------------------------------
// 7. The demo
// ---------------------------------------------------------------------------

#[test]
fn demo_sweeps_accrues_interest_refuses_a_limit_breach_and_verifies() {
    let store = tempfile::tempdir().expect("tempdir");
    let run = cashpool(store.path(), &["demo", "--days", "5", "--seed", "3", "--format", "json"]).expect(0);
    let demo = run.json();
    assert_eq!(demo["audit"]["ok"], true, "{demo}");
    assert_eq!(demo["replay"]["matches_store"], true, "{demo}");
    let posted = demo["sweeps"]["posted"].as_u64().unwrap_or_else(|| panic!("sweeps.posted: {demo}"));
    assert!(posted > 0, "{demo}");
    let positions = items(&demo, "positions");
    assert!(!positions.is_empty(), "{demo}");
    for row in &positions {
        assert_ne!(row["entity"], HOST, "{row}");
    }
    assert!(!items(&demo["interest"], "accruals").is_empty(), "{demo}");
    let refused = items(&demo, "refused");
    assert!(!refused.is_empty(), "{demo}");
    assert_eq!(refused[0]["reason"], "limit", "{demo}");

    // The store the demo leaves behind verifies, and its positions are the summary's.
    let verify = cashpool(store.path(), &["audit", "verify", "--format", "json"]).expect(0).json();
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(verify["entries"], demo["audit"]["entries"], "{verify}");
    let now = cashpool(store.path(), &["positions", "--format", "json"]).expect(0).json();
    assert_eq!(now["positions"], demo["positions"], "{now}");
}
