//! End-to-end tests of `cashpool net` (`CONTRACT.md`, `docs/NETTING.md`,
//! DOMAIN §6) on the example group `examples/lingang-group.toml` with the
//! example rates `examples/rates-2026-11.csv`.
//!
//! As in the other CLI test files, every test runs the binary on its own fresh
//! store with `CASHPOOL_NOW` and `CASHPOOL_OPERATOR` fixed, and reads `--format json`.
//!
//! Fixtures (`tests/fixtures/net/`):
//!
//! | file | what |
//! |---|---|
//! | `funding.csv` | value 2026-11-02, receipts from outside: SH-IMA USD 5,000,000.00; SZ-OPS, HK-OPS, SG-OPS, FTZ-FTE USD 1,000,000.00 each; DE-OPS EUR 1,000,000.00; JP-OPS JPY 100,000,000 |
//! | `invoices.csv` | C-01…C-06 net (USD, EUR, JPY; LGT-DE holds only EUR, LGT-JP only JPY); C-07 capital_item, C-08 outside_window, C-09 unknown_entity, C-10 same_entity, C-01 again duplicate_invoice |
//! | `second_line.csv` | LGT-FTZ owes LGT-SZ USD 1,000.00: paid directly, FTZ-FTE (FT) → SZ-OPS (onshore) in USD breaks the second-line currency rule |
//! | `bad_*.csv` | malformed rows, a negative amount, too many decimals, an unknown currency |
//!
//! The cycle date 2026-11-30 uses the rates of 2026-11-27 (the latest before):
//! USD 7.1092, EUR 7.6796, JPY 0.047081 CNY; frozen USD per unit = rate ÷ 7.1092,
//! half-even to 10 decimals. The expected nets are computed from those in `expected_nets`.

mod common;
use common::{items, keys, sorted, string, text, Run, Snapshot};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;
use tempfile::TempDir;

const EXAMPLE_GROUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lingang-group.toml");
const EXAMPLE_RATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/rates-2026-11.csv");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/net");

const DATE: &str = "2026-11-30";
const HOST: &str = "LGT-SH";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn cashpool(data: &Path, args: &[&str]) -> Run {
    common::cashpool_as("net-test", data, args)
}

struct Pool {
    store: TempDir,
    files: TempDir,
}

impl Pool {
    /// The example group, initialised, with the example rates and `funding.csv`.
    fn funded() -> Pool {
        Pool::funded_with(|text| text)
    }

    /// [`Pool::funded`] on the example group changed by `edit`.
    fn funded_with(edit: impl Fn(String) -> String) -> Pool {
        let pool = Pool { store: tempfile::tempdir().expect("tempdir"), files: tempfile::tempdir().expect("tempdir") };
        let config = pool.files.path().join("group.toml");
        let group = std::fs::read_to_string(EXAMPLE_GROUP).expect("the example group");
        std::fs::write(&config, edit(group)).expect("write the group");
        pool.run(&["init", "--config", text(&config), "--format", "json"]).expect(0);
        let import = pool.run(&["rates", "import", EXAMPLE_RATES, "--format", "json"]).expect(0).json();
        assert_eq!(import["imported"], 200, "{import}");
        let report = pool.run(&["post", text(&fixture("funding.csv")), "--report", "json"]).expect(0).json();
        assert_eq!(report["posted"], 7, "{report}");
        pool
    }

    fn data(&self) -> &Path {
        self.store.path()
    }

    fn run(&self, args: &[&str]) -> Run {
        cashpool(self.data(), args)
    }

    /// `net --invoices FILE --date DATE --format json EXTRA...`
    fn net(&self, file: &str, extra: &[&str]) -> Run {
        let path = fixture(file);
        let mut args = vec!["net", "--invoices", text(&path), "--date", DATE, "--format", "json"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

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

    #[track_caller]
    fn balance(&self, account: &str, currency: &str) -> Decimal {
        let value =
            self.run(&["balances", "--account", account, "--currency", currency, "--format", "json"]).expect(0).json();
        let rows = items(&value, "balances");
        assert_eq!(rows.len(), 1, "{account} {currency}: {value}");
        dec(&string(&rows[0], "balance"))
    }

    /// `audit export --format jsonl --output FILE`, parsed.
    #[track_caller]
    fn export(&self, name: &str) -> (PathBuf, Vec<Value>) {
        let path = self.files.path().join(name);
        self.run(&["audit", "export", "--format", "jsonl", "--output", text(&path)]).expect(0);
        let lines = std::fs::read_to_string(&path)
            .expect("read the export")
            .lines()
            .map(|line| serde_json::from_str(line).expect("an export line is JSON"))
            .collect();
        (path, lines)
    }
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|err| panic!("{text:?} is not a decimal: {err}"))
}

/// An amount string with exactly USD's 2 decimals: `-?digits.dd`.
#[track_caller]
fn check_usd(amount: &str) {
    let digits = amount.strip_prefix('-').unwrap_or(amount);
    let (int, frac) = digits.split_once('.').unwrap_or_else(|| panic!("{amount:?} has no decimals"));
    assert!(!int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()), "{amount:?}");
    assert!(frac.len() == 2 && frac.bytes().all(|b| b.is_ascii_digit()), "{amount:?}: exactly 2 decimals");
}

fn half_even(value: Decimal, dp: u32) -> Decimal {
    value.round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven)
}

/// The frozen rates of 2026-11-30 (rates of 2026-11-27): USD per unit.
fn frozen(currency: &str) -> Decimal {
    let cny_per = |ccy: &str| match ccy {
        "USD" => dec("7.1092"),
        "EUR" => dec("7.6796"),
        "JPY" => dec("0.047081"),
        "HKD" => dec("0.91202"),
        "SGD" => dec("5.3081"),
        "CNY" => Decimal::ONE,
        other => panic!("no rate for {other}"),
    };
    if currency == "USD" {
        return Decimal::ONE;
    }
    half_even(cny_per(currency) / cny_per("USD"), 10)
}

/// The nets of `invoices.csv` by hand: each entity's exact sum, rounded half-even once, the residue to the host.
fn expected_nets() -> BTreeMap<String, Decimal> {
    let netted = [
        ("LGT-SZ", "LGT-HK", "USD", "120000.00"),
        ("LGT-HK", "LGT-SG", "USD", "45000.50"),
        ("LGT-DE", "LGT-SZ", "EUR", "30000.00"),
        ("LGT-JP", "LGT-SG", "JPY", "2500000"),
        ("LGT-SG", "LGT-SH", "USD", "10000.00"),
        ("LGT-FTZ", "LGT-SH", "USD", "7500.25"),
    ];
    let mut exact: BTreeMap<String, Decimal> = BTreeMap::new();
    for (payer, payee, currency, amount) in netted {
        let usd = dec(amount) * frozen(currency);
        *exact.entry(payer.to_string()).or_default() -= usd;
        *exact.entry(payee.to_string()).or_default() += usd;
    }
    let mut nets: BTreeMap<String, Decimal> = exact.iter().map(|(e, v)| (e.clone(), half_even(*v, 2))).collect();
    let residue: Decimal = nets.values().sum();
    *nets.get_mut(HOST).unwrap() -= residue;
    nets
}

/// `positions` of a report as entity → net (checked: USD's 2 decimals, each entity once).
#[track_caller]
fn nets_of(report: &Value) -> BTreeMap<String, Decimal> {
    let mut map = BTreeMap::new();
    for p in items(report, "positions") {
        assert_eq!(keys(&p), sorted(&["entity", "net"]), "{p}");
        let net = string(&p, "net");
        check_usd(&net);
        assert!(map.insert(string(&p, "entity"), dec(&net)).is_none(), "an entity twice: {report}");
    }
    map
}

/// `settlements` of a report as (from, to, amount) (checked: USD, 2 decimals, > 0).
#[track_caller]
fn settlements_of(report: &Value) -> Vec<(String, String, Decimal)> {
    items(report, "settlements")
        .iter()
        .map(|s| {
            assert_eq!(keys(s), sorted(&["from", "to", "currency", "amount"]), "{s}");
            assert_eq!(string(s, "currency"), "USD", "{s}");
            let amount = string(s, "amount");
            check_usd(&amount);
            assert!(dec(&amount) > Decimal::ZERO, "{s}");
            assert_ne!(string(s, "from"), string(s, "to"), "{s}");
            (string(s, "from"), string(s, "to"), dec(&amount))
        })
        .collect()
}

/// Each entity's net as the settlements move it.
fn settled_nets(settlements: &[(String, String, Decimal)]) -> BTreeMap<String, Decimal> {
    let mut moved: BTreeMap<String, Decimal> = BTreeMap::new();
    for (from, to, amount) in settlements {
        *moved.entry(from.clone()).or_default() -= *amount;
        *moved.entry(to.clone()).or_default() += *amount;
    }
    moved.retain(|_, v| !v.is_zero());
    moved
}

fn non_zero(nets: &BTreeMap<String, Decimal>) -> BTreeMap<String, Decimal> {
    nets.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (k.clone(), *v)).collect()
}

/// The NET- transactions in an export: (id, reference, value).
fn netting_transactions(lines: &[Value]) -> Vec<(String, String, Value)> {
    lines
        .iter()
        .filter(|line| line["kind"] == "transaction")
        .map(|line| &line["body"])
        .filter(|tx| tx["id"].as_str().is_some_and(|id| id.starts_with("NET-")))
        .map(|tx| (string(tx, "id"), string(tx, "reference"), tx.clone()))
        .collect()
}

#[track_caller]
fn check_reference(reference: &str) {
    assert!(reference.len() <= 16, "{reference:?} is longer than 16 characters");
    assert_eq!(reference.len(), 15, "{reference:?}: NT + 8 hex + S + 4 digits");
    assert!(reference.starts_with("NT"), "{reference:?}");
    assert!(reference[2..10].bytes().all(|b| b.is_ascii_hexdigit()), "{reference:?}");
    assert_eq!(&reference[10..11], "S", "{reference:?}");
    assert!(reference[11..].bytes().all(|b| b.is_ascii_digit()), "{reference:?}");
}

// ---------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------

#[test]
fn net_json_has_the_contract_fields_and_the_documented_extras() {
    let pool = Pool::funded();
    let report = pool.net("invoices.csv", &[]).expect(0).json();
    assert_eq!(
        keys(&report),
        sorted(&[
            "cycle",
            "currency",
            "positions",
            "settlements",
            "excluded",
            "date",
            "mode",
            "gross",
            "invoices_netted",
            "rates",
            "already_run",
        ]),
        "{report}"
    );
    assert_eq!(report["cycle"], DATE, "the cycle id defaults to the cycle date");
    assert_eq!(report["date"], DATE);
    assert_eq!(report["currency"], "USD");
    assert_eq!(report["mode"], "centre", "centre is the default mode");
    assert_eq!(report["already_run"], false);
    assert_eq!(report["invoices_netted"], 6);

    let excluded: Vec<(String, String)> = items(&report, "excluded")
        .iter()
        .map(|e| {
            assert_eq!(keys(e), sorted(&["invoice", "reason"]), "{e}");
            (string(e, "invoice"), string(e, "reason"))
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("C-07", "capital_item"),
        ("C-08", "outside_window"),
        ("C-09", "unknown_entity"),
        ("C-10", "same_entity"),
        ("C-01", "duplicate_invoice"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(excluded, expected);

    // Nets: by hand from the frozen rates, USD at 2 decimals, summing to zero.
    let nets = nets_of(&report);
    assert_eq!(nets, expected_nets(), "{report}");
    assert_eq!(nets.values().sum::<Decimal>(), Decimal::ZERO);
    let gross = string(&report, "gross");
    check_usd(&gross);
    let exact_gross = dec("120000.00")
        + dec("45000.50")
        + dec("30000.00") * frozen("EUR")
        + dec("2500000") * frozen("JPY")
        + dec("10000.00")
        + dec("7500.25");
    assert_eq!(dec(&gross), half_even(exact_gross, 2));

    // The frozen rates, as journaled: ÷ the USD rate, half-even to 10 decimals.
    let rates: BTreeMap<String, String> = items(&report, "rates")
        .iter()
        .map(|r| {
            assert_eq!(keys(r), sorted(&["currency", "rate"]), "{r}");
            (string(r, "currency"), string(r, "rate"))
        })
        .collect();
    for currency in ["EUR", "JPY"] {
        let rate = rates.get(currency).unwrap_or_else(|| panic!("no frozen {currency} rate: {rates:?}"));
        assert_eq!(dec(rate), frozen(currency), "{currency}");
        assert!(rate.split_once('.').is_none_or(|(_, frac)| frac.len() <= 10), "{currency} {rate}");
    }

    // Centre: one payment per member with a non-zero net, each to or from the host.
    let settlements = settlements_of(&report);
    let members = nets.iter().filter(|(e, v)| e.as_str() != HOST && !v.is_zero()).count();
    assert_eq!(settlements.len(), members, "{report}");
    for (from, to, _) in &settlements {
        assert!(from == HOST || to == HOST, "{from} → {to} does not go through the centre");
    }
    assert_eq!(settled_nets(&settlements), non_zero(&nets), "the settlements settle the nets");
}

#[test]
fn the_settlements_are_posted_with_short_unique_references_and_the_balances_move_by_the_nets() {
    let pool = Pool::funded();
    let before: Vec<Decimal> = [("SZ-OPS", "USD"), ("HK-OPS", "USD"), ("SG-OPS", "USD"), ("FTZ-FTE", "USD")]
        .iter()
        .map(|(account, ccy)| pool.balance(account, ccy))
        .collect();
    let report = pool.net("invoices.csv", &["--cycle", "2026-11-M"]).expect(0).json();
    assert_eq!(report["cycle"], "2026-11-M");
    let nets = nets_of(&report);
    for ((account, entity), before) in
        [("SZ-OPS", "LGT-SZ"), ("HK-OPS", "LGT-HK"), ("SG-OPS", "LGT-SG"), ("FTZ-FTE", "LGT-FTZ")].iter().zip(before)
    {
        assert_eq!(pool.balance(account, "USD") - before, nets[*entity], "{account} moved by {entity}'s net");
    }
    // The host settles through its international master; it started with 5,000,000.00.
    assert_eq!(pool.balance("SH-IMA", "USD") - dec("5000000.00"), nets[HOST], "SH-IMA moves by the host's net");
    assert_eq!(pool.balance("SH-DMA", "USD"), Decimal::ZERO, "the domestic master is not used");

    // References from the statement of the host's master account.
    let statement = pool.run(&["statement", "--account", "SH-IMA", "--format", "json"]).expect(0).json();
    let lines: Vec<Value> =
        items(&statement, "lines").into_iter().filter(|l| string(l, "id").starts_with("NET-")).collect();
    assert!(!lines.is_empty(), "{statement}");
    for line in &lines {
        check_reference(&string(line, "reference"));
        assert_eq!(string(line, "purpose"), "current_account", "{line}");
        assert_eq!(string(line, "value_date"), DATE, "{line}");
    }
    // And every settlement from the export: unique, one cycle tag.
    let (_, exported) = pool.export("journal.jsonl");
    let txs = netting_transactions(&exported);
    assert_eq!(txs.len(), items(&report, "settlements").len(), "no entity pair needs two legs in centre mode");
    let references: BTreeSet<&str> = txs.iter().map(|(_, r, _)| r.as_str()).collect();
    assert_eq!(references.len(), txs.len(), "unique references: {references:?}");
    let tags: BTreeSet<&str> = txs.iter().map(|(_, r, _)| &r[2..10]).collect();
    assert_eq!(tags.len(), 1, "{references:?}");
    for (id, reference, _) in &txs {
        check_reference(reference);
        assert!(id.starts_with("NET-2026-11-M-"), "{id}");
    }
    let cycles: Vec<&Value> =
        exported.iter().filter(|line| line["kind"] == "netting_cycle").map(|line| &line["body"]).collect();
    assert_eq!(cycles.len(), 1, "one NettingCycle entry");
}

#[test]
fn direct_mode_needs_at_most_n_minus_1_payments_and_settles_the_same_nets() {
    let pool = Pool::funded();
    let report = pool.net("invoices.csv", &["--mode", "direct"]).expect(0).json();
    assert_eq!(report["mode"], "direct");
    let nets = nets_of(&report);
    assert_eq!(nets, expected_nets());
    let settlements = settlements_of(&report);
    let n = non_zero(&nets).len();
    assert!(settlements.len() < n, "{} payments for {n} entities: {report}", settlements.len());
    assert_eq!(settled_nets(&settlements), non_zero(&nets), "the settlements settle the nets");
    // Members pay members: not every payment goes through the host.
    assert!(settlements.iter().any(|(from, to, _)| from != HOST && to != HOST), "{report}");
    let (_, exported) = pool.export("journal.jsonl");
    for (_, reference, _) in netting_transactions(&exported) {
        check_reference(&reference);
    }
    pool.snapshot();
}

// ---------------------------------------------------------------------------
// Idempotence and refusals
// ---------------------------------------------------------------------------

#[test]
fn re_running_a_cycle_exits_0_reports_already_run_and_writes_nothing() {
    let pool = Pool::funded();
    let first = pool.net("invoices.csv", &[]).expect(0).json();
    let before = pool.snapshot();
    for extra in [&[][..], &["--mode", "direct"][..]] {
        let again = pool.net("invoices.csv", extra).expect(0).json();
        assert_eq!(again["already_run"], true, "{again}");
        for key in ["cycle", "currency", "mode", "positions", "settlements", "excluded", "gross", "rates"] {
            assert_eq!(again[key], first[key], "{key}: the first run is reported");
        }
        assert_eq!(pool.snapshot(), before, "nothing written");
    }
    // Another file under the same cycle id: still the first run.
    let other = pool.net("second_line.csv", &["--cycle", DATE]).expect(0).json();
    assert_eq!(other["already_run"], true);
    assert_eq!(other["positions"], first["positions"]);
    assert_eq!(pool.snapshot(), before);
}

#[test]
fn bad_invoice_files_exit_2_naming_line_and_field_and_write_nothing() {
    let pool = Pool::funded();
    let before = pool.snapshot();
    for (file, needles) in [
        // A row with six fields (whole row), an impossible date.
        ("bad_malformed.csv", &["line 3", "line 4, field `due_date`"][..]),
        ("bad_negative.csv", &["line 2, field `amount`", "negative"][..]),
        ("bad_decimals.csv", &["line 3, field `amount`", "line 4, field `amount`", "decimals"][..]),
        ("bad_currency.csv", &["line 2, field `currency`", "XYZ"][..]),
    ] {
        let run = pool.net(file, &[]).expect(2);
        run.stderr_has(&[file, "nothing was written"]).stderr_has(needles);
        assert!(run.stdout.trim().is_empty(), "{file}: no report on stdout: {}", run.stdout);
        assert_eq!(pool.snapshot(), before, "{file}: nothing written");
    }
    // The good rows of those files did not net either: the cycle id is still free.
    let report = pool.net("invoices.csv", &[]).expect(0).json();
    assert_eq!(report["already_run"], false);
}

/// The settlement FTZ-FTE (LGT-FTZ) → SZ-OPS (LGT-SZ) crosses the second line between two
/// entities: cross-border by default (docs/LIMITS.md, 银发〔2013〕244号), refused in USD where
/// the pool holds every transfer to the same-name rules.
#[test]
fn a_second_line_refusal_refuses_the_whole_cycle_with_exit_2() {
    let open = Pool::funded();
    let report = open.net("second_line.csv", &["--mode", "direct"]).expect(0).json();
    assert_eq!(settlements_of(&report).len(), 1, "{report}");
    let pool = Pool::funded_with(|text| {
        let edited = text.replacen(
            "netting_currency = \"USD\"\n",
            "netting_currency = \"USD\"\nsecond_line_between_entities = \"same_name\"\n",
            1,
        );
        assert_ne!(edited, text);
        edited
    });
    let before = pool.snapshot();
    let run = pool.net("second_line.csv", &["--mode", "direct"]).expect(2);
    run.stderr_has(&["second_line", "nothing was written"]);
    // The refused settlement is named by its transaction id.
    run.stderr_has(&["netting cycle", "settlement NET-", "was refused: second_line"]);
    assert_eq!(pool.snapshot(), before);
    // Through the centre (FTZ-FTE → SH-IMA first line, SH-IMA → SZ-OPS cross-border) it posts.
    let report = pool.net("second_line.csv", &[]).expect(0).json();
    assert_eq!(report["already_run"], false);
    assert_eq!(settlements_of(&report).len(), 2);
}

#[test]
fn read_only_net_is_exit_2_and_writes_nothing() {
    let pool = Pool::funded();
    let before = pool.snapshot();
    let path = fixture("invoices.csv");
    let run =
        pool.run(&["--read-only", "net", "--invoices", text(&path), "--date", DATE, "--format", "json"]).expect(2);
    run.stderr_has(&["read-only"]);
    assert_eq!(pool.snapshot(), before);
    // After a cycle, re-running it read-only is refused the same way.
    pool.net("invoices.csv", &[]).expect(0);
    let after = pool.snapshot();
    pool.run(&["--read-only", "net", "--invoices", text(&path), "--date", DATE, "--format", "json"]).expect(2);
    assert_eq!(pool.snapshot(), after);
}

// ---------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------

#[test]
fn after_cycles_the_audit_verifies_and_the_export_replays_to_the_stores_digest() {
    let pool = Pool::funded();
    pool.net("invoices.csv", &[]).expect(0);
    pool.net("second_line.csv", &["--cycle", "FTZ"]).expect(0);
    let snapshot = pool.snapshot();
    let (export, lines) = pool.export("journal.jsonl");
    assert_eq!(lines.len() as u64, snapshot.entries, "one line an entry");
    let nowhere = tempfile::tempdir().expect("tempdir");
    let verified =
        cashpool(nowhere.path(), &["audit", "verify", "--journal", text(&export), "--format", "json"]).expect(0).json();
    assert_eq!(verified["ok"], true, "{verified}");
    assert_eq!(string(&verified, "head"), snapshot.head);
    let replayed =
        cashpool(nowhere.path(), &["audit", "replay", "--journal", text(&export), "--format", "json"]).expect(0).json();
    assert_eq!(string(&replayed, "state_digest"), snapshot.state_digest, "the export replays to the store's state");
    assert_eq!(replayed["entries"], snapshot.entries);
}
