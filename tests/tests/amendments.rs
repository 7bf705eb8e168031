//! Amendments of the group definition (issue 15, "What to build" 1; docs/AMENDMENTS.md) end to
//! end through the public API, on the group of `tests/fixtures/sweep/group.toml` with the
//! zero-balancing rules of `tests/fixtures/sweep/positions.toml` and a CNY interest rule of
//! 3.65 % ACT/365F both ways (100.00 a day on 1,000,000.00).
//!
//! Every rule reads the definition in force on the value date, live and on replay; an amendment
//! takes effect after every date already booked; a closed account takes no posting; closing an
//! account that holds money is refused; every refusal writes nothing.

use std::str::FromStr;

use cashpool_ledger::amendment::{amend, to_toml};
use cashpool_ledger::config::parse_group_config;
use cashpool_ledger::model::Purpose;
use cashpool_ledger::storage::MemoryStorage;
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{Ledger, LedgerError, Rejection};
use cashpool_tests::at;
use chrono::NaiveDate;
use rust_decimal::Decimal;

const GROUP: &str = include_str!("../fixtures/sweep/group.toml");
const POSITIONS: &str = include_str!("../fixtures/sweep/positions.toml");
const INTEREST: &str =
    "\n[[interest]]\ncurrency = \"CNY\"\nday_count = \"ACT/365F\"\ncredit_rate = \"3.65\"\ndebit_rate = \"3.65\"\n";

fn d(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn definition() -> String {
    format!("{GROUP}\n{POSITIONS}\n{INTEREST}")
}

fn ledger() -> (MemoryStorage, Ledger) {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), &definition(), at()).unwrap();
    (storage, ledger)
}

fn pay(id: &str, date: &str, from: &str, to: &str, amount: &str) -> TransactionRequest {
    TransactionRequest::transfer(id, d(date), from, to, "CNY", dec(amount), Purpose::CurrentAccount, "", "")
}

/// M-SZ lends 1,000,000.00 to the pool from 2026-02-27 (paid in, then swept).
fn with_position(ledger: &Ledger) {
    ledger.post(&pay("IN-SZ", "2026-02-27", "EXT-ON", "SZ-OPS", "1000000.00"), "test", at()).unwrap();
    let run = ledger.sweep(d("2026-02-27"), false, at()).unwrap();
    assert_eq!(run.run.sweeps.len(), 1, "{run:?}");
}

/// Amends, which must be refused with `amendment_invalid`; nothing is written. Returns the refusal.
fn refused_amendment(ledger: &Ledger, fragment: &str, effective: &str) -> (String, String) {
    let before = (ledger.state_digest(), ledger.head());
    match ledger.amend(fragment, d(effective), at()) {
        Err(LedgerError::Refused(Rejection::AmendmentInvalid { field, message })) => {
            assert_eq!((ledger.state_digest(), ledger.head()), before, "a refused amendment wrote");
            (field, message)
        }
        other => panic!("expected amendment_invalid, got {other:?}"),
    }
}

fn reopened_digest(storage: &MemoryStorage) -> cashpool_ledger::StateDigest {
    Ledger::open(Box::new(storage.clone())).unwrap().state_digest()
}

const RATE_DOUBLED: &str =
    "[[interest]]\ncurrency = \"CNY\"\nday_count = \"ACT/365F\"\ncredit_rate = \"7.30\"\ndebit_rate = \"7.30\"\n";

#[test]
fn interest_accrues_at_the_rate_in_force_on_each_day() {
    let (storage, ledger) = ledger();
    with_position(&ledger);
    // From 2026-03-11 the CNY rate is 7.30 %: 200.00 a day on 1,000,000.00.
    let outcome = ledger.amend(RATE_DOUBLED, d("2026-03-11"), at()).unwrap();
    assert_eq!(outcome.effective, d("2026-03-11"));
    assert!(outcome.opened.is_empty() && outcome.closed.is_empty());
    // [03-01, 03-21): 10 days at 100.00 and 10 days at 200.00.
    let run = ledger.interest(d("2026-03-01"), d("2026-03-21"), true, at()).unwrap().run;
    let sz = run.accruals.iter().find(|a| a.entity == "M-SZ").expect("M-SZ accrues");
    assert_eq!(sz.interest, dec("3000.00"));
    // Before the amendment's date the old rate: [02-28, 03-01) is one day at 100.00.
    let before = ledger.interest(d("2026-02-28"), d("2026-03-01"), false, at()).unwrap().run;
    assert_eq!(before.accruals.iter().find(|a| a.entity == "M-SZ").unwrap().interest, dec("100.00"));
    // Replay folds the amendment at its place in the journal: the same state.
    assert_eq!(reopened_digest(&storage), ledger.state_digest());
}

#[test]
fn an_amendment_takes_effect_only_after_every_date_booked() {
    let (_, ledger) = ledger();
    with_position(&ledger); // a transaction and a sweep run valued 2026-02-27
    let (field, message) = refused_amendment(&ledger, RATE_DOUBLED, "2026-02-27");
    assert_eq!(field, "effective");
    assert!(message.contains("2026-02-27") && message.contains("2026-02-28"), "{message}");
    ledger.amend(RATE_DOUBLED, d("2026-02-28"), at()).unwrap();
    // And never before an amendment already journaled.
    let later = RATE_DOUBLED.replace("7.30", "5.00");
    ledger.amend(&later, d("2026-04-01"), at()).unwrap();
    let (field, _) = refused_amendment(&ledger, &RATE_DOUBLED.replace("7.30", "6.00"), "2026-03-15");
    assert_eq!(field, "effective");
}

const OPEN_ACCOUNT: &str = r#"
[[account]]
id = "SZ-NEW"
entity = "M-SZ"
kind = "settlement"
zone = "onshore"
currencies = ["CNY"]
"#;

#[test]
fn an_account_opened_by_an_amendment_takes_postings_from_its_date() {
    let (storage, ledger) = ledger();
    let outcome = ledger.amend(OPEN_ACCOUNT, d("2026-03-01"), at()).unwrap();
    assert_eq!(outcome.opened, vec!["SZ-NEW".to_string()]);
    let early = pay("EARLY", "2026-02-28", "EXT-ON", "SZ-NEW", "10.00");
    let before = ledger.state_digest();
    match ledger.post(&early, "test", at()) {
        Err(LedgerError::Refused(Rejection::AccountClosed { field, account, opens, closed_from, .. })) => {
            assert_eq!((field.as_str(), account.as_str()), ("postings[1].account", "SZ-NEW"));
            assert_eq!((opens, closed_from), (Some(d("2026-03-01")), None));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ledger.state_digest(), before);
    ledger.post(&pay("ON-TIME", "2026-03-01", "EXT-ON", "SZ-NEW", "10.00"), "test", at()).unwrap();
    let windows = ledger.account_windows();
    let (_, from, until) = windows.iter().find(|(spec, ..)| spec.id == "SZ-NEW").unwrap();
    assert_eq!((*from, *until), (Some(d("2026-03-01")), None));
    assert_eq!(reopened_digest(&storage), ledger.state_digest());
}

#[test]
fn closing_an_account_that_holds_money_is_refused_and_a_closed_account_takes_no_posting() {
    let (storage, ledger) = ledger();
    ledger.post(&pay("IN", "2026-02-02", "EXT-ON", "H-TOP", "500.00"), "test", at()).unwrap();
    let close = "[[account]]\nid = \"H-TOP\"\nclose = true\n";
    let (field, message) = refused_amendment(&ledger, close, "2026-03-01");
    assert_eq!(field, "account H-TOP");
    assert!(message.contains("CNY 500.00"), "{message}");
    ledger.post(&pay("OUT", "2026-02-03", "H-TOP", "EXT-ON", "500.00"), "test", at()).unwrap();
    let outcome = ledger.amend(close, d("2026-03-01"), at()).unwrap();
    assert_eq!(outcome.closed, vec!["H-TOP".to_string()]);
    // Closed: no posting at any value date, even one before the closing date.
    for date in ["2026-02-20", "2026-03-05"] {
        let before = ledger.state_digest();
        match ledger.post(&pay(&format!("LATE-{date}"), date, "EXT-ON", "H-TOP", "1.00"), "test", at()) {
            Err(LedgerError::Refused(Rejection::AccountClosed { closed_from, .. })) => {
                assert_eq!(closed_from, Some(d("2026-03-01")));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(ledger.state_digest(), before);
    }
    // Its id is never reused.
    let reopen =
        "[[account]]\nid = \"H-TOP\"\nentity = \"H-SH\"\nkind = \"settlement\"\nzone = \"onshore\"\ncurrencies = [\"CNY\"]\n";
    let (_, message) = refused_amendment(&ledger, reopen, "2026-04-01");
    assert!(message.contains("never reused"), "{message}");
    assert_eq!(reopened_digest(&storage), ledger.state_digest());
}

#[test]
fn a_sweep_rule_added_by_an_amendment_runs_from_its_date() {
    let (_, ledger) = ledger();
    let rule = "[[sweep]]\naccount = \"GZ-OPS\"\ncurrency = \"CNY\"\ninto = \"H-DMA\"\nmethod = \"zero\"\ndirection = \"up\"\npriority = 3\n";
    ledger.amend(rule, d("2026-03-02"), at()).unwrap();
    ledger.post(&pay("GZ-IN", "2026-03-01", "EXT-ON", "GZ-OPS", "700.00"), "test", at()).unwrap();
    let first = ledger.sweep(d("2026-03-01"), false, at()).unwrap();
    assert!(first.run.sweeps.iter().all(|s| s.account != "GZ-OPS"), "{first:?}");
    let second = ledger.sweep(d("2026-03-02"), false, at()).unwrap();
    let gz = second.run.sweeps.iter().find(|s| s.account == "GZ-OPS").expect("the new rule runs");
    assert_eq!(gz.amount, dec("700.00"));
}

#[test]
fn an_entity_leaves_only_without_accounts_or_a_position() {
    let (_, ledger) = ledger();
    with_position(&ledger);
    // Its account still open: the amended definition names the dangling reference.
    let (_, message) = refused_amendment(&ledger, "[[entity]]\nid = \"M-SZ\"\nleave = true\n", "2026-03-01");
    assert!(message.contains("M-SZ") && message.contains("in the definition as amended"), "{message}");
    // Its account closed (the sweep left it empty), its intercompany position is not settled.
    let leave = "[[entity]]\nid = \"M-SZ\"\nleave = true\n\n[[account]]\nid = \"SZ-OPS\"\nclose = true\n\n[[sweep]]\naccount = \"SZ-OPS\"\ncurrency = \"CNY\"\nremove = true\n";
    let (field, message) = refused_amendment(&ledger, leave, "2026-03-01");
    assert_eq!(field, "entity M-SZ");
    assert!(message.contains("intercompany position of CNY 1000000.00"), "{message}");
}

#[test]
fn a_bad_fragment_names_its_key_path_and_line() {
    let (_, ledger) = ledger();
    let cases: [(&str, &str, &str); 6] = [
        ("[group]\nbase_currency = \"USD\"\n", "group.base_currency", "cannot change"),
        ("[pool]\nquota_model = \"separate\"\n", "pool.quota_model", "cannot change"),
        ("[[macro_prudential]]\neffective = \"2026-01-01\"\nparameter = \"2\"\n", "macro_prudential", "limits set"),
        ("[[entity]]\nid = \"M-SZ\"\nnet_assets = \"1.005\"\n", "entity[0].net_assets", ""),
        ("[[sweep]]\naccount = \"SZ-OPS\"\ncurrency = \"CNY\"\ninto = \"H-DMA\"\nmethod = \"sideways\"\ndirection = \"up\"\npriority = 1\n", "sweep[0].method", "sideways"),
        ("[[account]]\nid = \"SZ-OPS\"\ncurrencies = [\"CNY\"]\n", "account[0]", "close it"),
    ];
    for (fragment, path, words) in cases {
        let (field, message) = refused_amendment(&ledger, fragment, "2026-03-01");
        assert_eq!(field, path, "{fragment}: {message}");
        assert!(message.contains(words), "{fragment}: {message}");
    }
    // The line of a problem in the fragment is the fragment's.
    let (_, message) =
        refused_amendment(&ledger, "# a comment\n\n[[entity]]\nid = \"M-SZ\"\nnet_assets = \"-1.00\"\n", "2026-03-01");
    assert!(message.contains("(line 5)"), "{message}");
    // A fragment that changes nothing is refused too.
    let (_, message) = refused_amendment(&ledger, INTEREST, "2026-03-01");
    assert!(message.contains("changes nothing"), "{message}");
    // TOML that does not parse names its line.
    let (_, message) = refused_amendment(&ledger, "[[entity]\nid = 1\n", "2026-03-01");
    assert!(message.contains("line 1"), "{message}");
}

#[test]
fn the_amended_definition_survives_a_snapshot_and_the_export() {
    let (storage, ledger) = ledger();
    with_position(&ledger);
    ledger.amend(OPEN_ACCOUNT, d("2026-03-01"), at()).unwrap();
    ledger.amend(RATE_DOUBLED, d("2026-03-11"), at()).unwrap();
    ledger.checkpoint().unwrap();
    let reopened = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(reopened.state_digest(), ledger.state_digest());
    assert_eq!(reopened.definitions(), ledger.definitions());
    assert_eq!(reopened.definitions().len(), 3);
    assert_eq!(reopened.account_windows(), ledger.account_windows());
    // The journal's amendment entries carry the whole definition in force (kind 9).
    let mut export = Vec::new();
    cashpool_ledger::audit::export_jsonl(&storage, &mut export).unwrap();
    let amendments: Vec<serde_json::Value> = String::from_utf8(export)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|line| line["kind"] == "amendment")
        .collect();
    assert_eq!(amendments.len(), 2);
    assert_eq!(amendments[0]["body"]["effective"], "2026-03-01");
    assert_eq!(amendments[1]["body"]["group"]["interest"][0]["credit_rate"], "7.3");
    // The export replays to the same state, and the independent verifier (written from
    // docs/FORMATS.md) folds the amendments to the same state digest.
    let mut export = Vec::new();
    cashpool_ledger::audit::export_jsonl(&storage, &mut export).unwrap();
    let replay = cashpool_ledger::audit::replay_journal(&mut export.as_slice(), None).unwrap();
    assert_eq!(replay.state_digest, ledger.state_digest());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, &export).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tools/verify-journal.py");
    let output = std::process::Command::new("python3").arg(script).arg(&file).output().expect(
        "python3 runs the independent verifier (tools/verify-journal.py); install Python 3 (`apt install python3`)",
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("verifier output: {}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["state_digest"], ledger.state_digest().to_string(), "{result}");
}

#[test]
fn every_definition_written_as_toml_reads_back_the_same() {
    let texts = [
        definition(),
        include_str!("../../examples/lingang-group.toml").to_string(),
        include_str!("../fixtures/limits/round-group.toml").to_string(),
        include_str!("../fixtures/small-group.toml").to_string(),
        format!(
            "{}\n{}",
            include_str!("../fixtures/sweep/group.toml"),
            include_str!("../fixtures/sweep/hierarchy.toml")
        ),
        include_str!("../fixtures/totals/group.toml").to_string(),
    ];
    for text in texts {
        let config = parse_group_config(&text).unwrap();
        let written = toml::to_string(&to_toml(&config)).unwrap();
        assert_eq!(parse_group_config(&written).unwrap(), config);
        // An amendment of a net-assets figure changes that and nothing else.
        let host = &config.pool.host;
        let amended = amend(&config, &format!("[[entity]]\nid = \"{host}\"\nnet_assets = \"123.00\"\n")).unwrap();
        let mut expected = config.clone();
        expected.entities.iter_mut().find(|e| &e.id == host).unwrap().net_assets = Some(dec("123.00"));
        assert_eq!(amended.config, expected);
    }
}
