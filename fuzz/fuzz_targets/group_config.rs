//! `config::parse_group_config` on any UTF-8 text: it must return, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match cashpool_ledger::config::parse_group_config(text) {
        Ok(config) => {
            let _ = config.entity("HK-OPS");
            let _ = config.account("SH-DMA");
        }
        Err(errors) => {
            // The messages are part of the contract: rendering them must not panic either.
            let _ = errors.to_string();
        }
    }
});
