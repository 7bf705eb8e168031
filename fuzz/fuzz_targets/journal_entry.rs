//! `journal::Entry::decode` on any bytes: it must return, never panic, and
//! accept only canonical bytes (`encode` of what it decoded gives the input
//! back). The same bytes, read as a block, must split without panicking.
#![no_main]

use cashpool_ledger::journal::{block_entries, Entry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = Entry::decode(data) {
        assert_eq!(entry.encode(), data, "decode accepted bytes that are not the canonical encoding");
        let _ = entry.hash();
    }
    for bytes in block_entries(data).flatten() {
        let _ = Entry::decode(bytes);
    }
});
