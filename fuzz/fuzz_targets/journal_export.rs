//! `audit::verify_journal` and `audit::replay_journal` on any bytes as an
//! exported JSON Lines journal: both must return, never panic.
#![no_main]

use std::io::Cursor;

use cashpool_ledger::audit::{replay_journal, verify_journal};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = verify_journal(&mut Cursor::new(data));
    let _ = replay_journal(&mut Cursor::new(data), None);
});
