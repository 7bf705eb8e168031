//! The state snapshot's decoders on any bytes (docs/STORAGE.md, "The state
//! snapshot"): the file's (header, version, checksum, body) and, since mutated
//! bytes almost never carry the right SHA-256, the body's alone, restored into
//! a state with every check opening makes (each part's restore, the
//! invariants, the digest). Both must return, never panic: the snapshot is a
//! file on disk, derived data the ledger must be able to refuse.
#![no_main]

use cashpool_ledger::testing::{decode_snapshot, restore_snapshot_body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode_snapshot(data);
    let _ = restore_snapshot_body(data);
});
