//! `amendment::amend` of the example group with any UTF-8 text as the
//! fragment: it must return, never panic; an amended definition writes back
//! to TOML that reads to the same definition, and `changes` describes it.
#![no_main]

use std::sync::OnceLock;

use cashpool_ledger::amendment::{amend, changes, to_toml};
use cashpool_ledger::config::{parse_group_config, GroupConfig};
use libfuzzer_sys::fuzz_target;

fn example() -> &'static GroupConfig {
    static CONFIG: OnceLock<GroupConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        parse_group_config(include_str!("../../examples/lingang-group.toml")).expect("the example is valid")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match amend(example(), text) {
        Ok(amended) => {
            let written = to_toml(&amended.config).to_string();
            assert_eq!(parse_group_config(&written).as_ref(), Ok(&amended.config), "{written}");
            let _ = changes(example(), &amended.config);
        }
        Err(errors) => {
            let _ = errors.to_string();
        }
    }
});
