//! `cashpool_files::invoices::parse_invoices_csv` on any UTF-8 text, then a netting cycle over
//! what it returns: neither may panic, and the nets must sum to zero.
#![no_main]

use std::collections::{BTreeMap, HashSet};

use cashpool_files::invoices::parse_invoices_csv;
use cashpool_ledger::money::Currency;
use cashpool_ledger::netting::Mode;
use cashpool_ledger::testing::{net_cycle, CycleInput};
use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (invoices, errors) = parse_invoices_csv(text);
    for error in &errors {
        assert!(error.line >= 1, "line numbers are 1-based: {error:?}");
    }
    for invoice in &invoices {
        assert!(invoice.amount > Decimal::ZERO, "a parsed invoice has a positive amount");
        assert_eq!(invoice.amount.scale(), invoice.currency.minor_units(), "at the currency's minor units");
    }
    let usd = Currency::from_code("USD").expect("USD");
    let entities: Vec<String> =
        invoices.iter().flat_map(|i| [i.payer.clone(), i.payee.clone()]).chain(["C".to_string()]).collect();
    let rates: BTreeMap<Currency, Decimal> = invoices.iter().map(|i| (i.currency, Decimal::new(7, 1))).collect();
    let settled = HashSet::new();
    for mode in [Mode::Centre, Mode::Direct] {
        let input = CycleInput {
            cycle: "FUZZ".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 30).expect("valid date"),
            netting_currency: usd,
            entities: &entities,
            centre: "C",
            window_start: None,
            already_settled: &settled,
            rates: &rates,
            mode,
        };
        if let Ok(result) = net_cycle(&input, &invoices) {
            let total: Decimal = result.positions.iter().map(|p| p.net).sum();
            assert!(total.is_zero(), "nets sum to zero: {total}");
        }
    }
});
