//! What every parser returns, and the format detection that picks the parser.

use cashpool_ledger::bank::{BankStatement, StatementFormat};
use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Read, with a tolerated oddity (a dialect quirk, an invalid date kept as absent).
    Warning,
    /// Something could not be read: a field, a line or a whole statement was left out.
    Error,
}

/// One finding of a parser, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// 1-based line of the file (for XML, the line where the element starts).
    pub line: u32,
    pub severity: Severity,
    /// The field or record: `:61:`, `Ntry/Amt`, `16`, …
    pub field: String,
    pub message: String,
}

impl Diagnostic {
    pub fn warning(line: u32, field: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { line, severity: Severity::Warning, field: field.into(), message: message.into() }
    }

    pub fn error(line: u32, field: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { line, severity: Severity::Error, field: field.into(), message: message.into() }
    }
}

/// What a parser read from one file: never an error for the whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub statements: Vec<BankStatement>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }
}

/// The format of a file, from its content (not its name).
pub fn detect(bytes: &[u8]) -> Option<StatementFormat> {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('<') {
        for (marker, format) in [
            ("camt.053", StatementFormat::Camt053),
            ("camt.052", StatementFormat::Camt052),
            ("camt.054", StatementFormat::Camt054),
        ] {
            if text.contains(marker) {
                return Some(format);
            }
        }
        for (marker, format) in [
            ("BkToCstmrStmt", StatementFormat::Camt053),
            ("BkToCstmrAcctRpt", StatementFormat::Camt052),
            ("BkToCstmrDbtCdtNtfctn", StatementFormat::Camt054),
        ] {
            if text.contains(marker) {
                return Some(format);
            }
        }
        return None;
    }
    if trimmed.starts_with("01,") {
        return Some(StatementFormat::Bai2);
    }
    let whole = String::from_utf8_lossy(bytes);
    if whole.contains(":20:") && (whole.contains(":25:") || whole.contains(":61:")) {
        if whole.contains(":34F:") || whole.contains(":13D:") || whole.contains("{2:I942") || whole.contains("{2:O942")
        {
            return Some(StatementFormat::Mt942);
        }
        return Some(StatementFormat::Mt940);
    }
    None
}

/// Parses a file whose format [`detect`] found; `None` when no format matched.
pub fn parse(bytes: &[u8]) -> Option<Parsed> {
    let format = detect(bytes)?;
    Some(match format {
        StatementFormat::Mt940 | StatementFormat::Mt942 => crate::mt940::parse(bytes),
        StatementFormat::Camt052 | StatementFormat::Camt053 | StatementFormat::Camt054 => crate::camt::parse(bytes),
        StatementFormat::Bai2 => crate::bai2::parse(bytes),
    })
}

/// Text of a file: UTF-8 when it is valid UTF-8, else ISO 8859-1 (every byte a
/// character), which is what most European banks' MT940 files use. The flag
/// says whether the fallback was taken.
pub fn decode_text(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, bool) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (std::borrow::Cow::Borrowed(text), false),
        Err(_) => (std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()), true),
    }
}

/// A compact, stable text rendering of what a parser read: the corpus
/// snapshots (`tests/snapshots/`) are written with it.
pub fn summary(parsed: &Parsed) -> String {
    use std::fmt::Write;
    fn opt<T: std::fmt::Display>(value: &Option<T>) -> String {
        value.as_ref().map_or_else(|| "-".to_string(), |v| v.to_string())
    }
    fn balance(value: &Option<cashpool_ledger::bank::BankBalance>) -> String {
        value.as_ref().map_or_else(|| "-".to_string(), |b| format!("{} {} on {}", b.amount, b.currency, opt(&b.date)))
    }
    let mut out = String::new();
    for (idx, st) in parsed.statements.iter().enumerate() {
        let total: rust_decimal::Decimal = st.lines.iter().map(|l| l.amount).sum();
        let _ = writeln!(
            out,
            "statement {}: {} id={} seq={} account={} bic={} currency={} date={}",
            idx + 1,
            st.format.as_str(),
            st.statement_id,
            opt(&st.sequence),
            st.account_id,
            opt(&st.bic),
            st.currency,
            opt(&st.date)
        );
        let _ = writeln!(out, "  opening {}", balance(&st.opening));
        let _ = writeln!(out, "  closing {}", balance(&st.closing));
        let _ = writeln!(out, "  available {}", balance(&st.closing_available));
        let _ = writeln!(out, "  lines {} sum {}", st.lines.len(), total);
        for line in &st.lines {
            let _ = writeln!(
                out,
                "  L{} book={} value={} {} {}{} code={} e2e={} uetr={} owner={} bank={} | {}",
                line.source_line,
                opt(&line.booking_date),
                opt(&line.value_date),
                line.amount,
                line.currency,
                if line.reversal { " reversal" } else { "" },
                line.type_code,
                opt(&line.end_to_end_id),
                opt(&line.uetr),
                opt(&line.owner_reference),
                opt(&line.bank_reference),
                line.narrative.chars().take(60).collect::<String>()
            );
        }
    }
    for d in &parsed.diagnostics {
        let severity = match d.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        let _ = writeln!(out, "{severity} line {} {}: {}", d.line, d.field, d.message);
    }
    out
}
