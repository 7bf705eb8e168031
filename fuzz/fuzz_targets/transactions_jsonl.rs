//! `cashpool_files::transactions::parse_transactions_jsonl` on any UTF-8 text: it must return, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let batch = cashpool_files::transactions::parse_transactions_jsonl(text);
    for error in &batch.errors {
        let _ = error.to_string();
    }
});
