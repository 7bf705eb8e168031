//! `cashpool_recon::camt::parse` on any bytes returns, never panics, and what it
//! returns is sane: every diagnostic and every line points at a line of the input
//! (1 to the number of lines), every statement is a camt one. Writing what was read
//! back as camt.053 and reading that again must not panic either, and gives back as
//! many statements and lines.
#![no_main]

use cashpool_ledger::bank::StatementFormat;
use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = cashpool_recon::camt::parse(data);
    let lines = 1 + data.iter().filter(|&&b| b == b'\n').count();
    for d in &parsed.diagnostics {
        assert!(d.line >= 1 && d.line as usize <= lines, "diagnostic outside the input: {d:?}");
        assert!(!d.message.is_empty());
    }
    for statement in &parsed.statements {
        assert!(matches!(
            statement.format,
            StatementFormat::Camt052 | StatementFormat::Camt053 | StatementFormat::Camt054
        ));
        for line in &statement.lines {
            assert!(line.source_line >= 1 && line.source_line as usize <= lines, "line outside the input");
        }
    }
    let created = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
    let written = cashpool_recon::camt::write_camt053(&parsed.statements, created);
    let again = cashpool_recon::camt::parse(written.as_bytes());
    assert_eq!(again.statements.len(), parsed.statements.len(), "{written}");
    for (a, b) in again.statements.iter().zip(&parsed.statements) {
        assert_eq!(a.lines.len(), b.lines.len(), "{written}");
    }
});
