//! The journal's test vectors (tests/golden/, docs/FORMATS.md "Test vectors"):
//! the format-2 journal and a format-1 journal written before format 2 verify
//! and replay to their pinned heads and state digests, and a store that began
//! in format 1 opens, takes format-2 entries after its format-1 ones, and
//! verifies and replays whole; a store of the format-2 vector, written before
//! VAT and the surcharges were withheld on interest, settles them and still
//! verifies and replays whole.

use std::path::PathBuf;
use std::sync::Arc;

use cashpool_ledger::audit;
use cashpool_ledger::journal::{Entry, EntryHash, FormatVersion, Timestamp};
use cashpool_ledger::model::Purpose;
use cashpool_ledger::storage::{Checkpoint, Commit, MemoryStorage, Storage};
use cashpool_ledger::testing::{block_push, entry_of_line, ExportLine, ExportLineV2};
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{BatchMode, Ledger};
use serde_json::Value;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden").join(name)
}

fn expected(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(golden(name)).unwrap()).unwrap()
}

fn text(name: &str) -> String {
    std::fs::read_to_string(golden(name)).unwrap()
}

#[test]
fn the_format_2_test_vector_verifies_and_replays_to_its_pinned_head_and_digest() {
    let pinned = expected("journal-v2.expected.json");
    let journal = text("journal-v2.jsonl");
    let verified = audit::verify_journal(&mut journal.as_bytes()).unwrap();
    assert!(verified.ok, "{verified:?}");
    assert_eq!(verified.entries, pinned["entries"].as_u64().unwrap());
    assert_eq!(verified.head.to_hex(), pinned["head"].as_str().unwrap());
    let replayed = audit::replay_journal(&mut journal.as_bytes(), None).unwrap();
    assert_eq!(replayed.state_digest.to_string(), pinned["state_digest"].as_str().unwrap());
    // Every kind is in it, and every line is format 2.
    let mut kinds: Vec<String> = journal
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            assert_eq!(value["version"], 2, "{line}");
            value["kind"].as_str().unwrap().to_string()
        })
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds.len(), 9, "{kinds:?}");
    for effect in ["\"drawdown\":{", "\"repayment\":{", "\"pool_flow\":{", "\"rate\":{", "\"foreign_debt\":{"] {
        assert!(journal.contains(effect), "the vector holds a transaction with {effect}");
    }
}

#[test]
fn the_format_1_journal_written_before_format_2_still_verifies_and_replays() {
    let pinned = expected("journal-v1.expected.json");
    let journal = text("journal-v1.jsonl");
    let verified = audit::verify_journal(&mut journal.as_bytes()).unwrap();
    assert!(verified.ok, "{verified:?}");
    assert_eq!(verified.entries, pinned["entries"].as_u64().unwrap());
    assert_eq!(verified.head.to_hex(), pinned["head"].as_str().unwrap());
    let replayed = audit::replay_journal(&mut journal.as_bytes(), None).unwrap();
    assert_eq!(replayed.state_digest.to_string(), pinned["state_digest_v2"].as_str().unwrap());
}

/// A storage holding the format-1 journal as a store written before format 2 held it.
fn format_1_store() -> MemoryStorage {
    let storage = MemoryStorage::new();
    let mut block = Vec::new();
    let mut last = (0, EntryHash::GENESIS);
    for line in text("journal-v1.jsonl").lines() {
        let parsed: ExportLine = serde_json::from_str(line).unwrap();
        let entry = Entry {
            format: FormatVersion::V1,
            seq: parsed.seq,
            prev_hash: parsed.prev_hash,
            recorded_at: parsed.recorded_at,
            body: parsed.body,
        };
        let bytes = entry.encode();
        assert_eq!(bytes[0], 1);
        assert_eq!(Entry::decode(&bytes).unwrap().hash(), parsed.hash);
        block_push(&mut block, &bytes);
        last = (entry.seq, parsed.hash);
    }
    let commit = Commit { first_seq: 1, last_seq: last.0, block: Arc::new(block), balances: Vec::new(), head: last.1 };
    storage.commit(&commit).unwrap();
    // The balances a format-1 store kept are rebuilt from its journal when it opens: an empty
    // checkpoint is the one a crash before the first checkpoint write would have left.
    storage.write_checkpoint(&Checkpoint::default()).unwrap();
    storage
}

#[test]
fn a_store_begun_in_format_1_opens_and_continues_in_format_2() {
    let storage = format_1_store();
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    let (v1_head_seq, _) = ledger.head();
    let at = Timestamp::parse_rfc3339("2026-12-02T09:00:00Z").unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 6).unwrap();
    let request = TransactionRequest::transfer(
        "AFTER-V1",
        day,
        "EXT-OFFSHORE",
        "HK-OPS",
        "USD",
        "1234.56".parse().unwrap(),
        Purpose::CurrentAccount,
        "INV-1",
        "after the upgrade",
    );
    let outcome = ledger.post_batch(&[request], BatchMode::Atomic, "ops", at).unwrap();
    assert_eq!(outcome.receipts[0].seq, v1_head_seq + 1);
    let new_entry = ledger.entries(v1_head_seq + 1).next().unwrap().unwrap().0;
    assert_eq!(new_entry.format, FormatVersion::V2, "what the ledger writes is format 2");
    let verified = audit::verify_storage(ledger.storage()).unwrap();
    assert!(verified.ok, "{verified:?}");
    let replayed = audit::replay_storage(ledger.storage(), None).unwrap();
    assert_eq!(replayed.state_digest, ledger.state_digest());
    assert_eq!(replayed.matches_store, Some(true));
    // The export holds both formats, and verifies and replays whole.
    let mut export = Vec::new();
    audit::export_jsonl(ledger.storage(), &mut export).unwrap();
    let export = String::from_utf8(export).unwrap();
    assert!(!export.lines().next().unwrap().contains("\"version\""), "format-1 lines are exported as format 1");
    assert!(export.lines().last().unwrap().starts_with("{\"version\":2,"), "format-2 lines say so");
    let verified = audit::verify_journal(&mut export.as_bytes()).unwrap();
    assert!(verified.ok, "{verified:?}");
    assert_eq!((verified.entries, verified.head), ledger.head());
    let replayed = audit::replay_journal(&mut export.as_bytes(), None).unwrap();
    assert_eq!(replayed.state_digest, ledger.state_digest());
    drop(ledger);
    // And it opens again.
    let reopened = Ledger::open(Box::new(storage)).unwrap();
    assert_eq!(reopened.state_digest(), replayed.state_digest);
}

/// A storage holding the format-2 test vector as the store that wrote it held it.
fn format_2_store() -> MemoryStorage {
    let storage = MemoryStorage::new();
    let mut block = Vec::new();
    let mut last = (0, EntryHash::GENESIS);
    for line in text("journal-v2.jsonl").lines() {
        let parsed: ExportLineV2 = serde_json::from_str(line).unwrap();
        let entry = entry_of_line(&parsed).unwrap();
        let bytes = entry.encode();
        assert_eq!(Entry::decode(&bytes).unwrap().hash(), parsed.hash, "entry {} encodes to its own bytes", entry.seq);
        block_push(&mut block, &bytes);
        last = (entry.seq, parsed.hash);
    }
    let commit = Commit { first_seq: 1, last_seq: last.0, block: Arc::new(block), balances: Vec::new(), head: last.1 };
    storage.commit(&commit).unwrap();
    storage.write_checkpoint(&Checkpoint::default()).unwrap();
    storage
}

#[test]
fn the_format_2_test_vector_predates_the_taxes_and_its_store_settles_them() {
    // The vector was written when only income tax was withheld, at the older key `withholding_tax_rate`
    // (DOMAIN §5): no `withholding` rows in its definition, no `taxes` in its accruals. It still
    // decodes, encodes again to the same bytes and replays to its pinned digest.
    let journal = text("journal-v2.jsonl");
    assert!(!journal.contains("\"withholding\":") && !journal.contains("\"taxes\":"), "an old journal");
    assert!(journal.contains("\"withholding_tax_rate\":\"0.07\"") && journal.contains("\"kind\":\"interest_settled\""));
    let pinned = expected("journal-v2.expected.json");
    let storage = format_2_store();
    let ledger = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(ledger.state_digest().to_string(), pinned["state_digest"].as_str().unwrap());
    assert!(ledger.accounts().iter().all(|a| a.id != "SYS-WHT-VAT"), "a store of that time has no VAT account");

    // Its store settles the rest of November under today's rules: the older key is LGT-HK's income
    // tax rate (7 %), and VAT is withheld besides (6 %, 财税〔2016〕36号: interest ÷ 1.06 × 6 %), the
    // income tax on the interest without VAT (国家税务总局公告2013年第9号); no surcharge since
    // 2021-09-01. Worked here with Decimal, apart from the ledger's code.
    let at = Timestamp::parse_rfc3339("2026-12-02T09:00:00Z").unwrap();
    let (from, to) =
        (chrono::NaiveDate::from_ymd_opt(2026, 11, 5).unwrap(), chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    let outcome = ledger.interest(from, to, true, at).unwrap();
    let round = |value: rust_decimal::Decimal, units: u32| {
        value.round_dp_with_strategy(units, rust_decimal::RoundingStrategy::MidpointNearestEven)
    };
    let rate = |text: &str| text.parse::<rust_decimal::Decimal>().unwrap();
    let mut taxed = 0;
    for accrual in &outcome.run.accruals {
        let units = accrual.currency.minor_units();
        let income_tax_rate = match accrual.entity.as_str() {
            "LGT-HK" | "LGT-SG" => rate("0.07"),
            "LGT-DE" | "LGT-JP" => rate("0.10"),
            _ => {
                assert!(accrual.withholding_tax.is_zero(), "onshore: {accrual:?}");
                continue;
            }
        };
        if accrual.interest <= rust_decimal::Decimal::ZERO {
            assert!(accrual.withholding_tax.is_zero(), "{accrual:?}");
            continue;
        }
        taxed += 1;
        let without_vat = round(accrual.interest / rate("1.06"), units);
        assert_eq!(accrual.taxes.vat, accrual.interest - without_vat, "{accrual:?}");
        assert_eq!(accrual.taxes.income_tax, round(without_vat * income_tax_rate, units), "{accrual:?}");
        assert!(accrual.taxes.surcharges().is_zero(), "{accrual:?}");
        assert_eq!(accrual.net, accrual.interest - accrual.taxes.vat - accrual.taxes.income_tax, "{accrual:?}");
    }
    assert!(taxed >= 2, "offshore members the pool pays: {:?}", outcome.run.accruals);
    assert!(ledger.accounts().iter().any(|a| a.id == "SYS-WHT-VAT"), "opened by the settlement that needs it");

    // The old journal and its new entries verify and replay whole, from the store and from its export.
    let verified = audit::verify_storage(ledger.storage()).unwrap();
    assert!(verified.ok, "{verified:?}");
    let replayed = audit::replay_storage(ledger.storage(), None).unwrap();
    assert_eq!((replayed.state_digest, replayed.matches_store), (ledger.state_digest(), Some(true)));
    let mut export = Vec::new();
    audit::export_jsonl(ledger.storage(), &mut export).unwrap();
    let export = String::from_utf8(export).unwrap();
    assert!(export.starts_with(&journal), "the old entries are exported as they were");
    assert!(export.contains("\"taxes\":{"), "the new accruals carry their taxes");
    let verified = audit::verify_journal(&mut export.as_bytes()).unwrap();
    assert!(verified.ok, "{verified:?}");
    assert_eq!(audit::replay_journal(&mut export.as_bytes(), None).unwrap().state_digest, ledger.state_digest());
    drop(ledger);
    assert_eq!(Ledger::open(Box::new(storage)).unwrap().state_digest(), replayed.state_digest);
}

/// The group of the benchmarks test vector: the example group with LGT-HK's own USD row on SOFR
/// (floor 0) and a pool-wide CNY row on the LPR from 2026-01-20.
const BENCHMARK_ROWS: &str = "\n[[interest]]\ncurrency = \"USD\"\nentity = \"LGT-HK\"\neffective = \"2025-11-01\"\n\
    day_count = \"ACT/360\"\nbenchmark = \"SOFR\"\ncredit_margin = \"-0.25\"\ndebit_margin = \"1.50\"\ncredit_floor = \"0\"\n\
    \n[[interest]]\ncurrency = \"CNY\"\neffective = \"2026-01-20\"\nday_count = \"ACT/365F\"\nbenchmark = \"LPR-1Y\"\n\
    credit_margin = \"-1.20\"\ndebit_margin = \"0.10\"\ndebit_cap = \"6\"\n";

/// The journal of the benchmarks test vector, exported: the definition, the fixings of
/// examples/benchmarks-2026.csv (kind 10), a receipt swept into LGT-HK's position, and its SOFR
/// interest settled for [2025-11-03, 2025-11-10).
fn benchmarks_journal() -> String {
    let at = Timestamp::parse_rfc3339("2026-01-21T09:00:00Z").unwrap();
    let storage = MemoryStorage::new();
    let config = format!("{}{BENCHMARK_ROWS}", cashpool_tests::EXAMPLE_GROUP);
    let ledger = Ledger::create(Box::new(storage.clone()), &config, at).unwrap();
    let csv =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/benchmarks-2026.csv"))
            .unwrap();
    let (rows, errors) = cashpool_files::benchmarks::parse_benchmarks_csv(&csv);
    assert!(errors.is_empty(), "{errors:?}");
    ledger.import_benchmarks(&rows, at).unwrap();
    let date = chrono::NaiveDate::from_ymd_opt(2025, 11, 3).unwrap();
    let amount = rust_decimal::Decimal::new(300_000_000, 2);
    let receipt = TransactionRequest::transfer(
        "R-1",
        date,
        "EXT-OFFSHORE",
        "HK-OPS",
        "USD",
        amount,
        Purpose::CurrentAccount,
        "INV-1",
        "",
    );
    ledger.post(&receipt, "golden", at).unwrap();
    ledger.sweep(date, false, at).unwrap();
    let to = chrono::NaiveDate::from_ymd_opt(2025, 11, 10).unwrap();
    let settled = ledger.interest(date, to, true, at).unwrap();
    assert_eq!(settled.run.accruals.len(), 1, "{settled:?}");
    let mut export = Vec::new();
    audit::export_jsonl(&storage, &mut export).unwrap();
    String::from_utf8(export).unwrap()
}

#[test]
fn the_benchmarks_test_vector_is_what_cashpool_writes_and_replays_to_its_pinned_digest() {
    // `CASHPOOL_WRITE_GOLDEN=1` writes the vector again (after a deliberate change of the format).
    let journal = benchmarks_journal();
    if std::env::var_os("CASHPOOL_WRITE_GOLDEN").is_some() {
        std::fs::write(golden("journal-v2-benchmarks.jsonl"), &journal).unwrap();
        let verified = audit::verify_journal(&mut journal.as_bytes()).unwrap();
        let replayed = audit::replay_journal(&mut journal.as_bytes(), None).unwrap();
        let pinned = serde_json::json!({
            "entries": verified.entries,
            "head": verified.head.to_hex(),
            "state_digest": replayed.state_digest.to_string(),
            "made_by": "tests/tests/golden.rs, benchmarks_journal(): the example group with two benchmark [[interest]] rows, \
                        examples/benchmarks-2026.csv imported, a receipt swept into LGT-HK's USD position, its SOFR interest \
                        settled for [2025-11-03, 2025-11-10)",
        });
        std::fs::write(golden("journal-v2-benchmarks.expected.json"), format!("{pinned}\n")).unwrap();
    }
    assert_eq!(journal, text("journal-v2-benchmarks.jsonl"), "cashpool writes the vector's bytes");
    let pinned = expected("journal-v2-benchmarks.expected.json");
    let verified = audit::verify_journal(&mut journal.as_bytes()).unwrap();
    assert!(verified.ok, "{verified:?}");
    assert_eq!(verified.entries, pinned["entries"].as_u64().unwrap());
    assert_eq!(verified.head.to_hex(), pinned["head"].as_str().unwrap());
    let replayed = audit::replay_journal(&mut journal.as_bytes(), None).unwrap();
    assert_eq!(replayed.state_digest.to_string(), pinned["state_digest"].as_str().unwrap());
    // It holds what the format-2 vector predates: a kind-10 entry and the added keys of [[interest]].
    assert!(journal.contains("\"kind\":\"benchmarks_imported\""));
    for key in ["\"benchmark\":{", "\"effective\":\"2025-11-01\"", "\"entity\":\"LGT-HK\"", "\"rate_percent\":\"3\""] {
        assert!(journal.contains(key), "{key}");
    }
}
