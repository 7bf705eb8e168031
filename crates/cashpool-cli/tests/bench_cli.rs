//! `cashpool bench post --clients`: several threads posting one transaction
//! at a time to the same two accounts are all posted, none lost or refused,
//! and the figures say how many durable commits carried them. `cashpool bench
//! scale` on a small store: the shape of its figures, each command measured in
//! a fresh process that reports its peak memory, the grown store kept.

mod common;
use common::cashpool_as;

#[test]
fn concurrent_one_at_a_time_posters_are_all_posted() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["bench", "post", "--n", "400", "--batch", "1", "--clients", "4", "--json"];
    let run = cashpool_as("bench", dir.path(), &args).expect(0);
    let post = &run.json()["post"];
    assert_eq!(
        (post["transactions"].as_u64(), post["batch"].as_u64(), post["clients"].as_u64()),
        (Some(400), Some(1), Some(4)),
        "{post}"
    );
    let commits = post["commits"].as_u64().expect("commits");
    // Each acknowledged batch is in some durable commit; a commit carries at least one.
    assert!((1..=400).contains(&commits), "{post}");
    let per_commit = post["transactions_per_commit"].as_f64().expect("transactions_per_commit");
    assert!((per_commit - 400.0 / commits as f64).abs() < 0.05, "{post}");
}

#[test]
fn clients_must_be_positive() {
    let dir = tempfile::tempdir().unwrap();
    cashpool_as("bench", dir.path(), &["bench", "post", "--clients", "0"])
        .expect(2)
        .stderr_has(&["--clients must be positive"]);
}

/// The fields of one measured command of `bench scale`, each checked sane.
#[track_caller]
fn timed(point: &serde_json::Value, key: &str) -> serde_json::Value {
    let figures = point[key].clone();
    let [median, min, max] = ["seconds_median", "seconds_min", "seconds_max"]
        .map(|field| figures[field].as_f64().unwrap_or_else(|| panic!("{key}.{field} in {figures}")));
    assert!(min > 0.0 && min <= median && median <= max, "{key}: {figures}");
    let rss = figures["peak_rss_kib"].as_u64().unwrap_or_else(|| panic!("{key}.peak_rss_kib in {figures}"));
    // A process of this binary that opened the store is more than a few MiB and less than a GiB here.
    assert!((1_024..1 << 20).contains(&rss), "{key}: {figures}");
    figures
}

#[test]
fn scale_grows_one_store_and_times_each_command_in_a_fresh_process() {
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("grown");
    let args = ["bench", "scale", "--n", "2000", "--batch", "500", "--json", "--keep-store", common::text(&kept)];
    let run = cashpool_as("bench", dir.path(), &args).expect(0);
    let scale = &run.json()["scale"];
    assert_eq!((scale["batch"].as_u64(), scale["repeats"].as_u64()), (Some(500), Some(3)), "{scale}");
    // 2,000 is below the first checkpoint (10,000): only --n is measured.
    let points = common::items(scale, "points");
    assert_eq!(points.len(), 1, "{scale}");
    let point = &points[0];
    assert_eq!((point["transactions"].as_u64(), point["grown"].as_u64()), (Some(2_000), Some(2_000)), "{point}");
    assert!(point["grow_seconds"].as_f64().is_some_and(|s| s > 0.0), "{point}");
    assert!(point["store_bytes"].as_u64().is_some_and(|b| b > 100_000), "{point}");

    // One row for each currency of each of the example group's eleven accounts.
    let balances = timed(point, "open_balances");
    assert_eq!(balances["rows"].as_u64(), Some(30), "{balances}");
    // HK-OPS USD receives every fourth receipt.
    assert_eq!(timed(point, "statement_all")["lines"].as_u64(), Some(500), "{point}");
    let post_one = timed(point, "post_one");
    assert_eq!((post_one["posted"].as_u64(), post_one["duplicates"].as_u64()), (Some(1), Some(0)), "{post_one}");
    let duplicate = timed(point, "post_duplicate");
    assert_eq!((duplicate["posted"].as_u64(), duplicate["duplicates"].as_u64()), (Some(0), Some(1)), "{duplicate}");

    // The first page is measured only once `statement` can page.
    let help = cashpool_as("bench", dir.path(), &["statement", "--help"]).expect(0);
    if help.stdout.contains("--limit") {
        assert_eq!(timed(point, "statement_first_page")["lines"].as_u64(), Some(100), "{point}");
    } else {
        assert!(point["statement_first_page"].is_null(), "{point}");
        let note = scale["notes"]["statement_first_page"].as_str().unwrap_or_default();
        assert!(note.contains("not available"), "{scale}");
    }

    // The grown store was kept: 2,000 receipts and the 3 one-row posts, the duplicates written nowhere.
    let statement =
        cashpool_as("bench", &kept, &["statement", "--account", "HK-OPS", "--currency", "USD", "--format", "json"])
            .expect(0);
    assert_eq!(
        common::items(&statement.json(), "lines").len(),
        501,
        "three new receipts: B2000 (HK-OPS USD), B2001, B2002"
    );
    let verify = cashpool_as("bench", &kept, &["audit", "verify", "--format", "json"]).expect(0);
    assert_eq!(verify.json()["ok"], serde_json::json!(true));
}

#[test]
fn the_peak_memory_is_reported_on_failure_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("peak");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cashpool"))
        .args(["--data", common::text(&dir.path().join("none")), "balances", "--format", "json"])
        .env("CASHPOOL_REPORT_PEAK_RSS", &file)
        .env_remove("CASHPOOL_DATA")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "no store there");
    let kib: u64 = std::fs::read_to_string(&file).expect("the peak is written").trim().parse().expect("a number");
    assert!(kib > 0);
}

#[test]
fn scale_keeps_the_store_only_in_an_empty_folder_and_leaves_store_to_replay() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("something"), "x").unwrap();
    let args = ["bench", "scale", "--n", "10", "--keep-store", common::text(dir.path())];
    cashpool_as("bench", dir.path(), &args).expect(2).stderr_has(&["not empty"]);
    let args = ["bench", "scale", "--n", "10", "--store", common::text(dir.path())];
    cashpool_as("bench", dir.path(), &args).expect(2).stderr_has(&["--keep-store"]);
    let args = ["bench", "post", "--n", "10", "--keep-store", common::text(dir.path())];
    cashpool_as("bench", dir.path(), &args).expect(2).stderr_has(&["bench scale"]);
}
