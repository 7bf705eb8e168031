//! The records of every CSV the crate reads, with physical line numbers, and
//! the messages for a wrong header or a row of the wrong width.

use crate::cell::shown;
use crate::InputError;

/// The text without a leading UTF-8 byte-order mark.
/// The refusal of the first row past a file's limit: `more than N rows in one
/// file; split the file and post the rest separately (this row and the rest of
/// the file were not read)`, with the reader's own words for a row and for what
/// is done with the rest.
pub(crate) fn too_many(line: u64, rows_max: usize, row: &str, verb: &str) -> crate::InputError {
    crate::InputError::new(
        line,
        None,
        format!(
            "more than {rows_max} {row}s in one file; split the file and {verb} the rest separately \
             (this {row} and the rest of the file were not read)"
        ),
    )
}

pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The records of a CSV text with their 1-based physical lines: blank records
/// are skipped, and an unreadable record ends the file with an error. Every
/// CSV reader of the crate reads through it.
pub(crate) struct CsvRecords<'a> {
    reader: csv::Reader<&'a [u8]>,
    record: csv::StringRecord,
    lines: LineCounter<'a>,
    last_line: u64,
    done: bool,
}

impl<'a> CsvRecords<'a> {
    /// Reads `text` (already without a byte-order mark), every record as data: the caller checks the header.
    pub(crate) fn new(text: &'a str) -> CsvRecords<'a> {
        CsvRecords::build(text, false)
    }

    /// [`CsvRecords::new`], skipping comment lines: lines that begin with `#`
    /// (the calendar file names its sources in them).
    pub(crate) fn with_comments(text: &'a str) -> CsvRecords<'a> {
        CsvRecords::build(text, true)
    }

    fn build(text: &'a str, comments: bool) -> CsvRecords<'a> {
        let comment = comments.then_some(b'#');
        CsvRecords {
            reader: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .comment(comment)
                .from_reader(text.as_bytes()),
            record: csv::StringRecord::new(),
            lines: LineCounter { comments, ..LineCounter::new(text) },
            last_line: 1,
            done: false,
        }
    }

    /// The next non-blank record and its line; `None` at the end of the file
    /// or after an unreadable record, which is reported in `errors`.
    pub(crate) fn next_record(&mut self, errors: &mut Vec<InputError>) -> Option<(u64, &csv::StringRecord)> {
        while !self.done {
            match self.reader.read_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => self.done = true,
                Err(err) => {
                    let line = err.position().map_or(self.last_line, |pos| self.lines.record_line(pos));
                    errors.push(InputError::new(
                        line,
                        None,
                        format!("unreadable CSV ({err}); the rest of the file was not read"),
                    ));
                    self.done = true;
                }
            }
            if self.done {
                break;
            }
            let line = self.record.position().map_or(self.last_line, |pos| self.lines.record_line(pos));
            self.last_line = line;
            if !is_blank_record(&self.record) {
                return Some((line, &self.record));
            }
        }
        None
    }
}

fn is_blank_record(record: &csv::StringRecord) -> bool {
    record.is_empty() || (record.len() == 1 && record.get(0).is_none_or(|f| f.trim().is_empty()))
}

/// Physical line numbers of CSV records.
///
/// csv's own `Position::line()` is the line where the reader stood before the
/// record, which is off after blank lines and CRLF terminators; this counts
/// from the record's first byte instead.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
    /// Whether lines beginning with `#` are comments the reader passes over.
    comments: bool,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> LineCounter<'a> {
        LineCounter { bytes: text.as_bytes(), offset: 0, line: 1, comments: false }
    }

    /// The line of the first byte of the record that starts at `pos`,
    /// skipping the line terminators, blank lines and comment lines the reader passed over.
    fn record_line(&mut self, pos: &csv::Position) -> u64 {
        let mut start = usize::try_from(pos.byte()).unwrap_or(usize::MAX).min(self.bytes.len());
        loop {
            while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
                start += 1;
            }
            if !(self.comments && self.bytes.get(start) == Some(&b'#')) {
                break;
            }
            // A comment runs to the end of its line (a lone CR ends a line too).
            while !matches!(self.bytes.get(start), None | Some(b'\r' | b'\n')) {
                start += 1;
            }
        }
        self.line_at(start)
    }

    /// The 1-based line of byte `target`: a line ends at `\n`, or at a `\r`
    /// not followed by `\n` (csv reads a lone CR as a terminator too).
    fn line_at(&mut self, target: usize) -> u64 {
        let target = target.min(self.bytes.len());
        if target < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        let mut idx = self.offset;
        while idx < target {
            match self.bytes.get(idx) {
                Some(b'\n') => self.line += 1,
                Some(b'\r') if self.bytes.get(idx + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            idx += 1;
        }
        self.offset = target;
        self.line
    }
}

/// The whole message for a CSV header that is not `expected`: what differs
/// (see [`header_diff`]), the header expected (`shown_expected`, as the reader
/// words it) and the one found.
pub(crate) fn wrong_header(expected: &[&str], shown_expected: &str, found: &csv::StringRecord) -> String {
    let found: Vec<&str> = found.iter().collect();
    format!(
        "wrong header: {}; expected {shown_expected}, found {}",
        header_diff(expected, &found),
        shown(&found.join(","))
    )
}

/// Names what differs between a CSV header and the expected columns:
/// `missing column `amount``, `unknown column `x``, or their order.
fn header_diff(expected: &[&str], found: &[&str]) -> String {
    let trimmed: Vec<String> =
        found.iter().map(|f| f.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()).collect();
    let missing: Vec<String> =
        expected.iter().filter(|e| !trimmed.iter().any(|f| f == *e)).map(|e| format!("`{e}`")).collect();
    let unknown: Vec<String> =
        found.iter().zip(&trimmed).filter(|(_, t)| !expected.contains(&t.as_str())).map(|(f, _)| shown(f)).collect();
    if missing.len() == expected.len() {
        return "the first line holds no column name (a data row, or another file?); the file must start with the header"
            .to_string();
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing column{} {}", if missing.len() == 1 { "" } else { "s" }, missing.join(", ")));
    }
    if !unknown.is_empty() {
        parts.push(format!("unknown column{} {}", if unknown.len() == 1 { "" } else { "s" }, unknown.join(", ")));
    }
    if parts.is_empty() {
        parts.push("the columns are there but in another order, or in another case or spelling".to_string());
    }
    parts.join("; ")
}

/// Names the fields a short row lacks (`no `reference`, `memo``), or how
/// many fields a long row has beyond the header.
/// A row with another number of fields than the header's `columns`:
/// "expected N fields as in the header HEADER, found M (no `x`)".
pub(crate) fn width_error(line: u64, columns: &[&str], header: &str, record: &csv::StringRecord) -> InputError {
    InputError::new(
        line,
        None,
        format!(
            "expected {} fields as in the header {header}, found {}{}",
            columns.len(),
            record.len(),
            width_diff(columns, record)
        ),
    )
}

pub(crate) fn width_diff(expected: &[&str], record: &csv::StringRecord) -> String {
    const EXTRA_SHOWN_MAX: usize = 3;
    let found = record.len();
    if found < expected.len() {
        let absent: Vec<String> = expected[found..].iter().map(|e| format!("`{e}`")).collect();
        format!(" (no {})", absent.join(", "))
    } else {
        let extra: Vec<String> = record
            .iter()
            .enumerate()
            .skip(expected.len())
            .take(EXTRA_SHOWN_MAX)
            .map(|(i, value)| format!("field {} ({})", i + 1, shown(value)))
            .collect();
        let more = if found - expected.len() > EXTRA_SHOWN_MAX { ", …" } else { "" };
        let verb = if extra.len() == 1 { "has" } else { "have" };
        format!(" ({} more than the header: {}{more} {verb} no column)", found - expected.len(), extra.join(", "))
    }
}

/// The hint for a row whose field count differs from the header's: a quoted
/// field running past its line, or an unquoted comma.
pub(crate) fn width_hint(record: &csv::StringRecord) -> &'static str {
    if record.iter().any(|f| f.contains(['\n', '\r'])) {
        "; close the quoted field that runs on past the end of its line"
    } else {
        "; quote a field that contains a comma"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_limit_refusal_names_the_limit_and_what_to_do() {
        let rows = too_many(7, 1_000_000, "row", "post");
        assert_eq!(rows.line, 7);
        assert_eq!(
            rows.reason,
            "more than 1000000 rows in one file; split the file and post the rest separately \
             (this row and the rest of the file were not read)"
        );
        let lines = too_many(3, 10, "line", "import");
        assert_eq!(
            lines.reason,
            "more than 10 lines in one file; split the file and import the rest separately \
             (this line and the rest of the file were not read)"
        );
    }

    #[test]
    fn a_row_of_the_wrong_width_names_the_missing_columns_or_the_extra_values() {
        let columns = ["date", "currency", "market", "rate"];
        let record = |fields: &[&str]| csv::StringRecord::from(fields.to_vec());
        assert_eq!(width_diff(&columns, &record(&["2026-11-02", "USD"])), " (no `market`, `rate`)");
        assert_eq!(
            width_diff(&columns, &record(&["2026-11-02", "USD", "onshore", "7.1", "x"])),
            " (1 more than the header: field 5 (\"x\") has no column)"
        );
        let wide = record(&["a", "b", "c", "d", "e", "f", "g", "h"]);
        assert_eq!(
            width_diff(&columns, &wide),
            " (4 more than the header: field 5 (\"e\"), field 6 (\"f\"), field 7 (\"g\"), … have no column)"
        );
    }
}
