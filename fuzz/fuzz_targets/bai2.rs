//! `cashpool_recon::bai2::parse` on any bytes: it must return, never panic.
//! Besides, what it returns must keep the parser's promises: 1-based lines
//! within the input, BAI2 statements whose lines and balances are in the
//! statement's currency at its implied decimals, lines in file order.
#![no_main]

use cashpool_ledger::bank::StatementFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = cashpool_recon::bai2::parse(data);
    // Lines of the input: a line number beyond it was invented.
    let lines = u32::try_from(data.iter().filter(|&&b| b == b'\n').count() + 1).unwrap_or(u32::MAX);
    for d in &parsed.diagnostics {
        assert!(d.line >= 1 && d.line <= lines, "diagnostic line out of the file: {d:?}");
        assert!(!d.field.is_empty() && !d.message.is_empty(), "an empty diagnostic: {d:?}");
    }
    for st in &parsed.statements {
        assert_eq!(st.format, StatementFormat::Bai2);
        assert_eq!(st.sequence, None);
        assert!(st.statement_id.ends_with(&format!("/{}", st.account_id)), "statement id: {st:?}");
        for balance in [&st.opening, &st.closing, &st.closing_available].into_iter().flatten() {
            assert_eq!(balance.currency, st.currency, "balance currency: {st:?}");
            assert!(balance.amount.scale() <= 4, "implied decimals: {balance:?}");
        }
        let mut previous = 0;
        for line in &st.lines {
            assert!(line.source_line >= 1 && line.source_line <= lines, "source line out of the file: {line:?}");
            assert!(line.source_line > previous, "lines out of file order: {st:?}");
            previous = line.source_line;
            assert_eq!(line.currency, st.currency, "line currency: {line:?}");
            assert!(line.amount.scale() <= 4, "implied decimals: {line:?}");
            assert!(!line.reversal && line.uetr.is_none());
            assert_eq!(line.end_to_end_id, line.owner_reference);
        }
        let _ = st.content_hash();
    }
    // The same bytes read the same, and so through the format detection.
    assert_eq!(cashpool_recon::bai2::parse(data), parsed);
    if cashpool_recon::detect(data) == Some(StatementFormat::Bai2) {
        assert_eq!(cashpool_recon::parse(data).as_ref(), Some(&parsed));
    }
});
