//! The conformance corpus: every file in `tests/feeds/` (real statements from
//! public test suites, see `tests/feeds/SOURCES.md`) parses, and what it reads
//! is compared with a reviewed snapshot in `tests/snapshots/`.
//!
//! After a deliberate change, regenerate with `UPDATE_SNAPSHOTS=1 cargo test -p
//! cashpool-recon --test corpus` and review the diff.

use std::path::{Path, PathBuf};

fn corpus_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/feeds");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            for file in std::fs::read_dir(&dir).unwrap() {
                files.push(file.unwrap().path());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_corpus_file_is_detected_parsed_and_matches_its_snapshot() {
    let files = corpus_files();
    assert!(files.len() >= 16, "corpus incomplete: {files:?}");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut mismatched = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let parsed = cashpool_recon::parse(&bytes).unwrap_or_else(|| panic!("{}: format not detected", file.display()));
        assert!(!parsed.statements.is_empty(), "{}: no statement read", file.display());
        let dir = file.parent().unwrap().file_name().unwrap().to_string_lossy();
        let name = format!("{dir}__{}.snap", file.file_name().unwrap().to_string_lossy());
        let snap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(name);
        let text = cashpool_recon::parse::summary(&parsed);
        if update {
            std::fs::write(&snap, &text).unwrap();
        } else {
            let expected = std::fs::read_to_string(&snap).unwrap_or_default();
            if expected != text {
                mismatched.push(format!("{}:\n--- expected\n{expected}\n--- found\n{text}", file.display()));
            }
        }
    }
    assert!(
        mismatched.is_empty(),
        "snapshots differ (UPDATE_SNAPSHOTS=1 to regenerate, then review):\n{}",
        mismatched.join("\n")
    );
}
