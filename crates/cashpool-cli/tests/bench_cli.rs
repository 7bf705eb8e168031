//! `cashpool bench post --clients`: several threads posting one transaction
//! at a time to the same two accounts are all posted, none lost or refused,
//! and the figures say how many durable commits carried them.

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
