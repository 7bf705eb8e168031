//! Transaction files: CSV and JSON Lines into [`TransactionRequest`]s.
//!
//! The parsers check syntax only: that each row or line is well formed and
//! every field has the right shape (ISO dates, strict decimal strings,
//! three-letter currency codes, known purposes, length limits). Whether the
//! accounts exist, the currencies are active ISO 4217 codes with the right
//! minor units and the postings balance is the ledger's business
//! ([`crate::Ledger::post_batch`]).
//!
//! A parser never stops at the first bad row: it returns every good row and an
//! [`InputError`] for every bad one (a row may report several fields), so that
//! the caller can list them all and post nothing, or post the good rows only.
//! Line numbers are the 1-based physical lines of the file. The parsers never
//! panic, whatever the input.

use std::fmt;
use std::marker::PhantomData;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::model::Purpose;
use crate::money::{parse_decimal, MoneyError};
use crate::tx::{
    PostingRequest, RateRequest, TransactionRequest, ID_LEN_MAX, MEMO_LEN_MAX, POSTINGS_MAX, REFERENCE_LEN_MAX,
};

/// Most rows one file may hold.
pub const ROWS_MAX: usize = 1_000_000;

/// The columns every transaction CSV starts with, in this order.
pub const CSV_COLUMNS: [&str; 9] =
    ["id", "value_date", "from", "to", "currency", "amount", "purpose", "reference", "memo"];

/// The optional trailing columns of a transaction CSV (for `foreign_debt`).
pub const CSV_FOREIGN_DEBT_COLUMNS: [&str; 2] = ["term_days", "lender"];

/// The longest lender name, in bytes.
const LENDER_LEN_MAX: usize = MEMO_LEN_MAX;

/// How much of an offending value an error message echoes, in characters.
const SHOWN_CHARS_MAX: usize = 40;

/// One good row or line of a transaction file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    /// The 1-based physical line where the row starts.
    pub line: u64,
    /// The transaction the row asks for, syntactically valid.
    pub request: TransactionRequest,
}

/// Why a row or line of a transaction file was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The 1-based physical line where the bad row starts.
    pub line: u64,
    /// The field at fault (`amount`, `postings[1].amount`), or `None` when the
    /// row as a whole is wrong (bad header, wrong number of fields, not JSON).
    pub field: Option<String>,
    /// What is wrong, and what to do when that is not obvious.
    pub reason: String,
}

impl InputError {
    fn new(line: u64, field: Option<&str>, reason: impl Into<String>) -> InputError {
        InputError { line, field: field.map(str::to_string), reason: reason.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}, field `{}`: {}", self.line, field, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

impl std::error::Error for InputError {}

/// The outcome of parsing one transaction file: the good rows and an error for
/// every bad one, each in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedBatch {
    /// The rows that parsed, in file order.
    pub rows: Vec<ParsedRow>,
    /// Every rejected row (several errors when several fields are wrong), in file order.
    pub errors: Vec<InputError>,
}

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

/// Parses a transaction CSV: the header
/// `id,value_date,from,to,currency,amount,purpose,reference,memo`, optionally
/// followed by `term_days,lender`, then one movement of a positive `amount`
/// from `from` to `to` a row. A UTF-8 byte-order mark and blank lines are
/// tolerated.
pub fn parse_transactions_csv(text: &str) -> ParsedBatch {
    parse_csv_limited(text, ROWS_MAX)
}

fn expected_header() -> String {
    format!(
        "`{}` (optionally followed by `,{}` for foreign_debt)",
        CSV_COLUMNS.join(","),
        CSV_FOREIGN_DEBT_COLUMNS.join(",")
    )
}

/// The records of a CSV text with their 1-based physical lines: blank records
/// are skipped, and an unreadable record ends the file with an error. Every
/// CSV parser of the crate reads through it.
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
        CsvRecords {
            reader: csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes()),
            record: csv::StringRecord::new(),
            lines: LineCounter::new(text),
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

pub(crate) fn is_blank_record(record: &csv::StringRecord) -> bool {
    record.is_empty() || (record.len() == 1 && record.get(0).is_none_or(|f| f.trim().is_empty()))
}

fn parse_csv_limited(text: &str, rows_max: usize) -> ParsedBatch {
    let text = strip_bom(text);
    let mut batch = ParsedBatch::default();
    let mut records = CsvRecords::new(text);
    // The number of columns the header declared, once it has been read.
    let mut columns: Option<usize> = None;
    let mut rows = 0usize;
    while let Some((line, record)) = records.next_record(&mut batch.errors) {
        let Some(expected) = columns else {
            match check_header(record) {
                Ok(count) => columns = Some(count),
                Err(reason) => {
                    batch.errors.push(InputError::new(line, None, reason));
                    return batch;
                }
            }
            continue;
        };
        if rows >= rows_max {
            batch.errors.push(InputError::new(
                line,
                None,
                format!(
                    "more than {rows_max} rows in one file; split the file and post the rest separately \
                     (this row and the rest of the file were not read)"
                ),
            ));
            break;
        }
        rows += 1;
        if record.len() != expected {
            let hint = if record.iter().any(|f| f.contains(['\n', '\r'])) {
                "; close the quoted field that runs on past the end of its line"
            } else {
                "; quote a field that contains a comma"
            };
            batch.errors.push(InputError::new(
                line,
                None,
                format!(
                    "expected {expected} fields as in the header, found {}{}{hint}",
                    record.len(),
                    width_diff(&all_columns()[..expected], record)
                ),
            ));
            continue;
        }
        let mut row = RowCheck::new(line);
        if let Some(request) = csv_row(record, expected, &mut row) {
            if row.errors.is_empty() {
                batch.rows.push(ParsedRow { line, request });
            }
        }
        batch.errors.append(&mut row.errors);
    }
    if columns.is_none() && batch.errors.is_empty() {
        batch.errors.push(InputError::new(
            1,
            None,
            format!("the file is empty; a transaction CSV starts with the header {}", expected_header()),
        ));
    }
    batch
}

/// Physical line numbers of CSV records.
///
/// csv's own `Position::line()` is the line where the reader stood before the
/// record, which is off after blank lines and CRLF terminators; this counts
/// from the record's first byte instead.
pub(crate) struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub(crate) fn new(text: &'a str) -> LineCounter<'a> {
        LineCounter { bytes: text.as_bytes(), offset: 0, line: 1 }
    }

    /// The line of the first byte of the record that starts at `pos`,
    /// skipping the line terminators and blank lines the reader passed over.
    pub(crate) fn record_line(&mut self, pos: &csv::Position) -> u64 {
        let mut start = usize::try_from(pos.byte()).unwrap_or(usize::MAX).min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        self.line_at(start)
    }

    /// The 1-based line of byte `target`: a line ends at `\n`, or at a `\r`
    /// not followed by `\n` (csv reads a lone CR as a terminator too).
    pub(crate) fn line_at(&mut self, target: usize) -> u64 {
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

/// Every column a transactions CSV may have, in order (the foreign-debt ones last).
fn all_columns() -> Vec<&'static str> {
    CSV_COLUMNS.iter().chain(CSV_FOREIGN_DEBT_COLUMNS.iter()).copied().collect()
}

/// Checks the header record and returns how many columns it declares.
fn check_header(record: &csv::StringRecord) -> Result<usize, String> {
    let found: Vec<&str> = record.iter().collect();
    let base = CSV_COLUMNS.as_slice();
    let full: Vec<&str> = CSV_COLUMNS.iter().chain(CSV_FOREIGN_DEBT_COLUMNS.iter()).copied().collect();
    if found == base {
        Ok(base.len())
    } else if found == full {
        Ok(full.len())
    } else {
        Err(wrong_header(base, &expected_header(), record))
    }
}

/// Reads one data row of the right width; field errors go to `row`.
fn csv_row(record: &csv::StringRecord, columns: usize, row: &mut RowCheck) -> Option<TransactionRequest> {
    let field = |idx: usize| record.get(idx).unwrap_or_default();
    let id = row.take("id", check_id(field(0)));
    let value_date = row.take("value_date", check_date(field(1)));
    let from = row.take("from", check_account(field(2)));
    let to = row.take("to", check_account(field(3)));
    let currency = row.take("currency", check_currency(field(4)));
    let (id, from, to, currency) =
        (id.map(|()| field(0)), from.map(|()| field(2)), to.map(|()| field(3)), currency.map(|()| field(4)));
    let amount = row.take("amount", check_positive_amount(field(5)));
    let purpose = row.take("purpose", check_purpose(field(6)));
    let reference = row.take("reference", check_text(field(7), REFERENCE_LEN_MAX));
    let memo = row.take("memo", check_text(field(8), MEMO_LEN_MAX));
    let (term_days, lender) = if columns > CSV_COLUMNS.len() {
        let term_days = row.take("term_days", check_term_days_text(field(9)));
        let lender = row.take("lender", check_optional_text(field(10), LENDER_LEN_MAX));
        (term_days.flatten(), lender.flatten())
    } else {
        (None, None)
    };
    let mut request =
        TransactionRequest::transfer(id?, value_date?, from?, to?, currency?, amount?, purpose?, reference?, memo?);
    request.term_days = term_days;
    request.lender = lender;
    Some(request)
}

// ---------------------------------------------------------------------------
// JSON Lines
// ---------------------------------------------------------------------------

/// Parses a transaction JSON Lines file: one object a line with `id`,
/// `value_date`, `purpose`, `postings` (`account`, `currency`, `amount`) and
/// optionally `reference`, `memo`, `rate` (`base`, `quote`, `rate`),
/// `term_days` and `lender`. Amounts and rates are decimal strings; a JSON
/// number is rejected. Unknown fields are errors; blank lines are skipped.
pub fn parse_transactions_jsonl(text: &str) -> ParsedBatch {
    parse_jsonl_limited(text, ROWS_MAX)
}

fn parse_jsonl_limited(text: &str, rows_max: usize) -> ParsedBatch {
    let text = strip_bom(text);
    let mut batch = ParsedBatch::default();
    let mut rows = 0usize;
    for (idx, raw) in text.split('\n').enumerate() {
        let line = u64::try_from(idx).unwrap_or(u64::MAX).saturating_add(1);
        let content = raw.strip_suffix('\r').unwrap_or(raw);
        if content.trim().is_empty() {
            continue;
        }
        if rows >= rows_max {
            batch.errors.push(InputError::new(
                line,
                None,
                format!(
                    "more than {rows_max} lines in one file; split the file and post the rest separately \
                     (this line and the rest of the file were not read)"
                ),
            ));
            break;
        }
        rows += 1;
        let mut row = RowCheck::new(line);
        match read_json_line(content) {
            Ok(raw_tx) => {
                if let Some(request) = json_tx(raw_tx, &mut row) {
                    if row.errors.is_empty() {
                        batch.rows.push(ParsedRow { line, request });
                    }
                }
            }
            Err(error) => row.errors.push(InputError { line, ..error }),
        }
        batch.errors.append(&mut row.errors);
    }
    batch
}

/// Deserializes one line; on failure the error's line is still to be set.
fn read_json_line(content: &str) -> Result<JsonTx, InputError> {
    let mut deserializer = serde_json::Deserializer::from_str(content);
    let result: Result<Obj<JsonTx>, _> = serde_path_to_error::deserialize(&mut deserializer);
    let parsed = result.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let field = (path != "." && !path.is_empty() && !is_syntax(&inner)).then_some(path);
        InputError { line: 0, field, reason: json_reason(&inner) }
    })?;
    deserializer.end().map_err(|err| InputError { line: 0, field: None, reason: json_reason(&err) })?;
    Ok(parsed.0)
}

fn is_syntax(err: &serde_json::Error) -> bool {
    matches!(err.classify(), serde_json::error::Category::Syntax | serde_json::error::Category::Eof)
}

/// serde_json's message without its "at line 1 column N" suffix (each line is
/// parsed alone, so its line would always be 1).
fn json_reason(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let message = full.strip_suffix(suffix.as_str()).unwrap_or(&full);
    if is_syntax(err) {
        format!("not valid JSON: {message} (column {}); each line must hold one complete JSON object", err.column())
    } else {
        message.to_string()
    }
}

/// One line as written; every field optional so that a missing one is
/// reported with its name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonTx {
    id: Option<String>,
    value_date: Option<String>,
    purpose: Option<String>,
    reference: Option<String>,
    memo: Option<String>,
    postings: Option<Vec<Obj<JsonPosting>>>,
    rate: Option<Obj<JsonRate>>,
    term_days: Option<u64>,
    lender: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonPosting {
    account: Option<String>,
    currency: Option<String>,
    amount: Option<DecimalText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRate {
    base: Option<String>,
    quote: Option<String>,
    rate: Option<DecimalText>,
}

/// A value that must be a JSON object: a derived struct would also accept an
/// array of its fields in order, which no one writing a transaction means.
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Obj<T>, D::Error> {
        struct ObjVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object {...}")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer.deserialize_map(ObjVisitor(PhantomData)).map(Obj)
    }
}

/// An amount or rate as written: a JSON string, never a JSON number.
struct DecimalText(String);

fn number_error<E: de::Error>(shown_number: impl fmt::Display) -> E {
    E::custom(format_args!(
        "{shown_number} is a JSON number; amounts and rates must be JSON strings such as \"1000.50\": \
         quote it (a JSON number is a float, and floats are not exact money)"
    ))
}

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DecimalText, D::Error> {
        struct DecimalVisitor;
        impl Visitor<'_> for DecimalVisitor {
            type Value = DecimalText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal string such as \"1000.50\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<DecimalText, E> {
                Ok(DecimalText(text.to_string()))
            }
            fn visit_u64<E: de::Error>(self, number: u64) -> Result<DecimalText, E> {
                Err(number_error(number))
            }
            fn visit_i64<E: de::Error>(self, number: i64) -> Result<DecimalText, E> {
                Err(number_error(number))
            }
            fn visit_f64<E: de::Error>(self, number: f64) -> Result<DecimalText, E> {
                Err(number_error(number))
            }
        }
        deserializer.deserialize_any(DecimalVisitor)
    }
}

/// Checks the fields of one deserialized line; errors go to `row`.
fn json_tx(tx: JsonTx, row: &mut RowCheck) -> Option<TransactionRequest> {
    let id = row.take("id", required(tx.id, "an id (its idempotency key)").and_then(|t| check_id(&t).map(|()| t)));
    let value_date = row.take("value_date", required(tx.value_date, "a value date").and_then(|t| check_date(&t)));
    let purpose = row.take("purpose", required(tx.purpose, "a purpose").and_then(|t| check_purpose(&t)));
    let reference = row.take("reference", check_text(tx.reference.as_deref().unwrap_or_default(), REFERENCE_LEN_MAX));
    let memo = row.take("memo", check_text(tx.memo.as_deref().unwrap_or_default(), MEMO_LEN_MAX));
    let postings = match tx.postings {
        None => {
            row.fail("postings", "is missing; list the postings as [{\"account\", \"currency\", \"amount\"}, ...]");
            None
        }
        Some(postings) if postings.len() > POSTINGS_PARSE_MAX => {
            row.fail("postings", format!("{} postings; a line may hold at most {POSTINGS_PARSE_MAX}", postings.len()));
            None
        }
        Some(postings) => {
            let mut out = Vec::with_capacity(postings.len());
            let mut ok = true;
            for (idx, Obj(posting)) in postings.into_iter().enumerate() {
                match json_posting(posting, idx, row) {
                    Some(posting) => out.push(posting),
                    None => ok = false,
                }
            }
            ok.then_some(out)
        }
    };
    let rate = match tx.rate {
        None => Some(None),
        Some(Obj(rate)) => json_rate(rate, row).map(Some),
    };
    let term_days = match tx.term_days {
        None => Some(None),
        Some(days) => row.take("term_days", check_term_days(days).map(Some)),
    };
    let lender = match tx.lender {
        None => Some(None),
        Some(lender) => row.take("lender", check_optional_text(&lender, LENDER_LEN_MAX)),
    };
    Some(TransactionRequest {
        id: id?,
        value_date: value_date?,
        purpose: purpose?,
        reference: reference?,
        memo: memo?,
        postings: postings?,
        rate: rate?,
        term_days: term_days?,
        lender: lender?,
    })
}

fn json_posting(posting: JsonPosting, idx: usize, row: &mut RowCheck) -> Option<PostingRequest> {
    let account = row.take(
        &format!("postings[{idx}].account"),
        required(posting.account, "an account").and_then(|t| check_account(&t).map(|()| t)),
    );
    let currency = row.take(
        &format!("postings[{idx}].currency"),
        required(posting.currency, "a currency").and_then(|t| check_currency(&t).map(|()| t)),
    );
    let amount = row.take(
        &format!("postings[{idx}].amount"),
        required(posting.amount.map(|d| d.0), "an amount").and_then(|t| check_decimal(&t)),
    );
    Some(PostingRequest { account: account?, currency: currency?, amount: amount? })
}

fn json_rate(rate: JsonRate, row: &mut RowCheck) -> Option<RateRequest> {
    let base =
        row.take("rate.base", required(rate.base, "the base currency").and_then(|t| check_currency(&t).map(|()| t)));
    let quote =
        row.take("rate.quote", required(rate.quote, "the quote currency").and_then(|t| check_currency(&t).map(|()| t)));
    let value = row.take("rate.rate", required(rate.rate.map(|d| d.0), "the rate").and_then(|t| check_rate(&t)));
    Some(RateRequest { base: base?, quote: quote?, rate: value? })
}

fn required(value: Option<String>, what: &str) -> Result<String, String> {
    value.ok_or_else(|| format!("is missing; every transaction needs {what}"))
}

// ---------------------------------------------------------------------------
// Field checks, shared by both formats
// ---------------------------------------------------------------------------

/// The errors of one row, each naming its field.
struct RowCheck {
    line: u64,
    errors: Vec<InputError>,
}

impl RowCheck {
    fn new(line: u64) -> RowCheck {
        RowCheck { line, errors: Vec::new() }
    }

    fn fail(&mut self, field: &str, reason: impl Into<String>) {
        self.errors.push(InputError::new(self.line, Some(field), reason));
    }

    fn take<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(reason) => {
                self.fail(field, reason);
                None
            }
        }
    }
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The whole message for a CSV header that is not `expected`: what differs
/// (see [`header_diff`]), the header expected (`shown_expected`, as the parser
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
pub(crate) fn header_diff(expected: &[&str], found: &[&str]) -> String {
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

/// A value quoted for an error message, cut short when long.
pub(crate) fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS_MAX) {
        Some((cut, _)) => format!("{:?}…", text.get(..cut).unwrap_or_default()),
        None => format!("{text:?}"),
    }
}

fn check_id(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("is empty; every transaction needs an id (its idempotency key)".to_string());
    }
    if text.len() > ID_LEN_MAX {
        return Err(format!("is {} bytes long; an id may have at most {ID_LEN_MAX}", text.len()));
    }
    if let Some(bad) = text.chars().find(|&c| !c.is_ascii_graphic() || c == ',' || c == '"') {
        return Err(format!(
            "{} contains {bad:?}; an id may hold printable ASCII only, without spaces, commas or double quotes",
            shown(text)
        ));
    }
    Ok(())
}

/// The most postings one JSON line may hold. The ledger's own limit,
/// [`POSTINGS_MAX`], is lower: a line between the two parses, and the ledger
/// rejects it with reason `posting_limit`. This bound only protects memory.
pub const POSTINGS_PARSE_MAX: usize = 16 * POSTINGS_MAX;

/// Parses a strict ISO date `YYYY-MM-DD` (no sign, no single-digit parts, no
/// spaces); the error says what is expected.
pub fn parse_iso_date(text: &str) -> Result<NaiveDate, String> {
    check_date(text)
}

fn check_date(text: &str) -> Result<NaiveDate, String> {
    if text.is_empty() {
        return Err("is empty; expected an ISO date YYYY-MM-DD such as 2026-11-02".to_string());
    }
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(idx, &b)| if idx == 4 || idx == 7 { b == b'-' } else { b.is_ascii_digit() });
    let not_iso = || format!("{} is not an ISO date; write YYYY-MM-DD such as 2026-11-02", shown(text));
    if !shaped {
        return Err(not_iso());
    }
    let number = |range: std::ops::Range<usize>| text.get(range).and_then(|part| part.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return Err(not_iso());
    };
    i32::try_from(year)
        .ok()
        .and_then(|year| NaiveDate::from_ymd_opt(year, month, day))
        .ok_or_else(|| format!("{} is not a calendar date: no such day (expected YYYY-MM-DD)", shown(text)))
}

fn check_account(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("is empty; name the account id".to_string());
    }
    if text.trim() != text {
        return Err(format!("{} has leading or trailing spaces; remove them", shown(text)));
    }
    if text.chars().any(char::is_control) {
        return Err(format!("{} contains a control character", shown(text)));
    }
    Ok(())
}

fn check_currency(text: &str) -> Result<(), String> {
    if text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase()) {
        return Ok(());
    }
    let hint = if text.len() == 3 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
        format!(" (write it in upper case: {})", text.to_ascii_uppercase())
    } else {
        String::new()
    };
    Err(format!(
        "{} is not a currency code; expected three upper-case letters of ISO 4217 such as USD or CNY{hint}",
        shown(text)
    ))
}

/// A strict decimal string (`-?digits(.digits)?`), with a hint for the usual mistakes.
fn check_decimal(text: &str) -> Result<Decimal, String> {
    if text.is_empty() {
        return Err("is empty; write a decimal such as 1000.50".to_string());
    }
    parse_decimal(text).map_err(|err| {
        let detail = match err {
            MoneyError::Invalid { reason, .. } => {
                format!("{} is not a decimal: {reason}", shown(text))
            }
            other => other.to_string(),
        };
        let hint = if text.contains(',') || text.contains('_') || text.contains('\'') {
            "; remove the thousands separators"
        } else if text.contains(['e', 'E']) {
            "; exponent notation is not allowed: write the digits out"
        } else if text.starts_with('+') {
            "; drop the leading '+'"
        } else if text.trim() != text || text.contains(' ') {
            "; remove the spaces"
        } else {
            ""
        };
        format!("{detail}{hint}")
    })
}

/// A CSV amount: strict decimal, greater than zero (the row's direction is from → to).
fn check_positive_amount(text: &str) -> Result<Decimal, String> {
    let amount = check_decimal(text)?;
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(format!(
            "{} is negative; a row moves a positive amount from `from` to `to`: swap the accounts instead",
            shown(text)
        ));
    }
    if amount.is_zero() {
        return Err(format!("{} is zero; the amount must be greater than zero", shown(text)));
    }
    Ok(amount)
}

fn check_rate(text: &str) -> Result<Decimal, String> {
    let rate = check_decimal(text)?;
    if rate <= Decimal::ZERO {
        return Err(format!("{} is not a rate; an FX rate must be greater than zero", shown(text)));
    }
    Ok(rate)
}

fn check_purpose(text: &str) -> Result<Purpose, String> {
    Purpose::parse(text).ok_or_else(|| {
        let known: Vec<&str> = Purpose::ALL.iter().map(|p| p.as_str()).collect();
        format!("unknown purpose {}; expected one of: {}", shown(text), known.join(", "))
    })
}

/// Free text (reference, memo): bounded length, no control characters.
fn check_text(text: &str, max: usize) -> Result<String, String> {
    if text.len() > max {
        return Err(format!("is {} bytes long; at most {max} are allowed", text.len()));
    }
    if text.chars().any(char::is_control) {
        return Err("contains a control character (a line break or tab); remove it".to_string());
    }
    Ok(text.to_string())
}

/// Optional free text: empty means absent.
fn check_optional_text(text: &str, max: usize) -> Result<Option<String>, String> {
    check_text(text, max).map(|text| (!text.is_empty()).then_some(text))
}

fn check_term_days(days: u64) -> Result<u32, String> {
    match u32::try_from(days) {
        Ok(0) => Err("is 0; the term must be a positive number of days".to_string()),
        Ok(days) => Ok(days),
        Err(_) => Err(format!("{days} is too large a number of days")),
    }
}

/// The CSV `term_days` column: empty means absent, else a positive integer.
fn check_term_days_text(text: &str) -> Result<Option<u32>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{} is not a whole number of days such as 90", shown(text)));
    }
    let days = text.parse::<u64>().map_err(|_| format!("{} is too large a number of days", shown(text)))?;
    check_term_days(days).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,value_date,from,to,currency,amount,purpose,reference,memo\n";

    fn row(n: usize) -> String {
        format!("T-{n},2026-11-02,A,B,USD,1.00,current_account,,\n")
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

    #[test]
    fn csv_stops_at_the_first_excess_row() {
        let text = format!("{HEADER}{}{}{}{}", row(1), row(2), row(3), row(4));
        let batch = parse_csv_limited(&text, 2);
        assert_eq!(batch.rows.len(), 2);
        assert_eq!(batch.errors.len(), 1);
        assert_eq!(batch.errors[0].line, 4);
        assert!(batch.errors[0].reason.contains("more than 2 rows"));
    }

    #[test]
    fn jsonl_stops_at_the_first_excess_line() {
        let line = r#"{"id":"T","value_date":"2026-11-02","purpose":"fee","postings":[]}"#;
        let text = format!("{line}\n\n{line}\n{line}\n");
        let batch = parse_jsonl_limited(&text, 2);
        assert_eq!(batch.rows.len(), 2);
        assert_eq!(batch.errors.len(), 1);
        assert_eq!(batch.errors[0].line, 4);
    }

    #[test]
    fn shown_cuts_on_a_char_boundary() {
        let long = "é".repeat(100);
        let text = shown(&long);
        assert!(text.ends_with('…'));
        assert!(text.chars().count() < 50);
    }
}
