//! `cashpool_files::figures::parse_figures_csv` (base CNY) on any UTF-8 text: it must return,
//! never panic. The rows it returns must keep the parser's promises, and
//! `eligibility::check_eligibility` on them (with the example group) must not
//! panic either and must agree with its own criteria.
#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;

use cashpool_files::figures::parse_figures_csv;
use cashpool_ledger::config::{parse_group_config, GroupConfig};
use cashpool_ledger::eligibility::check_eligibility;
use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;

fn example_group() -> &'static GroupConfig {
    static CONFIG: OnceLock<GroupConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        parse_group_config(include_str!("../../examples/lingang-group.toml")).expect("the example group is valid")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let config = example_group();
    let (rows, errors) = parse_figures_csv(text, config.group.base_currency);
    for error in &errors {
        assert!(error.line >= 1, "line numbers are 1-based: {error:?}");
        let _ = error.to_string();
    }
    let mut entities = HashSet::new();
    for row in &rows {
        assert!(entities.insert(row.entity.as_str()), "a second row for {} was accepted", row.entity);
        // The optional columns are the file's: every row has a value, or none has.
        assert_eq!(row.member_type.is_some(), rows[0].member_type.is_some(), "member_type in some rows only: {row:?}");
        assert_eq!(
            row.trade_rating.is_some(),
            rows[0].trade_rating.is_some(),
            "trade_rating in some rows only: {row:?}"
        );
        for amount in [row.cross_border_receipts, row.cross_border_payments, row.revenue] {
            assert!(amount >= Decimal::ZERO, "a negative amount was accepted: {row:?}");
            assert!(amount.scale() <= 2, "more decimals than CNY has were accepted: {row:?}");
        }
    }
    for as_of in
        [NaiveDate::from_ymd_opt(2026, 1, 15), NaiveDate::from_ymd_opt(1, 1, 1), NaiveDate::from_ymd_opt(9999, 12, 31)]
            .into_iter()
            .flatten()
    {
        let report = check_eligibility(config, &rows, as_of);
        assert_eq!(
            report.eligible,
            report.criteria.iter().all(|c| c.met),
            "eligible must be exactly `every criterion met`: {report:?}"
        );
        // A criterion the figures could not show is never met.
        assert!(report.criteria.iter().all(|c| c.checked || !c.met), "a criterion not checked was met: {report:?}");
    }
});
