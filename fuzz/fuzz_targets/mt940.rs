//! `cashpool_recon::mt940::parse` on any bytes returns, never panics, and what it
//! returns is sane: every diagnostic and every line points at a line of the input
//! (1 to the number of lines), a statement is MT940 or MT942, an MT942 has no
//! opening or closing balance, every line carries the statement's currency.
//! Writing what was read back as MT940 and reading that again must not panic
//! either, and keeps the same sanity.
#![no_main]

use cashpool_ledger::bank::StatementFormat;
use cashpool_recon::Parsed;
use libfuzzer_sys::fuzz_target;

fn check(parsed: &Parsed, input: &[u8]) {
    let lines = 1 + input.iter().filter(|&&b| b == b'\n').count();
    for d in &parsed.diagnostics {
        assert!(d.line >= 1 && d.line as usize <= lines, "diagnostic outside the input: {d:?}");
        assert!(!d.message.is_empty() && !d.field.is_empty());
    }
    for statement in &parsed.statements {
        match statement.format {
            StatementFormat::Mt940 => {}
            StatementFormat::Mt942 => assert!(statement.opening.is_none() && statement.closing.is_none()),
            other => panic!("not an MT940/MT942 statement: {other:?}"),
        }
        for line in &statement.lines {
            assert!(line.source_line >= 1 && line.source_line as usize <= lines, "line outside the input");
            assert_eq!(line.currency, statement.currency);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let parsed = cashpool_recon::mt940::parse(data);
    check(&parsed, data);
    let written = cashpool_recon::mt940::write(&parsed.statements);
    let again = cashpool_recon::mt940::parse(written.as_bytes());
    check(&again, written.as_bytes());
});
