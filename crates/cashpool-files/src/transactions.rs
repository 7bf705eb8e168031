//! Transaction files: CSV and JSON Lines into [`TransactionRequest`]s.
//!
//! The parsers check syntax only: that each row or line is well formed and
//! every field has the right shape (ISO dates, strict decimal strings,
//! three-letter currency codes, known purposes, length limits). Whether the
//! accounts exist, the currencies are active ISO 4217 codes with the right
//! minor units and the postings balance is the ledger's business
//! ([`cashpool_ledger::Ledger::post_batch`]).
//!
//! A parser never stops at the first bad row: it returns every good row and an
//! [`InputError`] for every bad one (a row may report several fields), so that
//! the caller can list them all and post nothing, or post the good rows only.
//! Line numbers are the 1-based physical lines of the file. The parsers never
//! panic, whatever the input.
//!
//! A refusal of the ledger names a field of the request it saw
//! (`postings[0].amount`); [`column()`] and [`as_written`] name it as the file
//! wrote it (`amount` in a CSV row).

use std::fmt;
use std::marker::PhantomData;

use cashpool_ledger::tx::{
    PostingRequest, RateRequest, TransactionRequest, MEMO_LEN_MAX, POSTINGS_MAX, REFERENCE_LEN_MAX,
};
use cashpool_ledger::Rejection;
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::cell::{self, shown};
use crate::records::{strip_bom, width_diff, width_hint, wrong_header, CsvRecords};
use crate::RowCheck;
pub use crate::{InputError, ROWS_MAX};

/// The columns every transaction CSV starts with, in this order.
pub const CSV_COLUMNS: [&str; 9] =
    ["id", "value_date", "from", "to", "currency", "amount", "purpose", "reference", "memo"];

/// The optional trailing columns of a transaction CSV (for `foreign_debt`).
pub const CSV_FOREIGN_DEBT_COLUMNS: [&str; 2] = ["term_days", "lender"];

/// The longest lender name, in bytes.
const LENDER_LEN_MAX: usize = MEMO_LEN_MAX;

/// The two formats of a transaction file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionFormat {
    /// CSV: one movement of a positive amount between two accounts a row ([`parse_transactions_csv`]).
    Csv,
    /// JSON Lines: one transaction of any number of postings a line ([`parse_transactions_jsonl`]).
    Jsonl,
}

/// One good row or line of a transaction file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    /// The 1-based physical line where the row starts.
    pub line: u64,
    /// The transaction the row asks for, syntactically valid.
    pub request: TransactionRequest,
}

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

/// Parses a transaction file of `format`: [`parse_transactions_csv`] or [`parse_transactions_jsonl`].
pub fn parse_transactions(format: TransactionFormat, text: &str) -> ParsedBatch {
    match format {
        TransactionFormat::Csv => parse_transactions_csv(text),
        TransactionFormat::Jsonl => parse_transactions_jsonl(text),
    }
}

fn expected_header() -> String {
    format!(
        "`{}` (optionally followed by `,{}` for foreign_debt)",
        CSV_COLUMNS.join(","),
        CSV_FOREIGN_DEBT_COLUMNS.join(",")
    )
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
            batch.errors.push(crate::records::too_many(line, rows_max, "row", "post"));
            break;
        }
        rows += 1;
        if record.len() != expected {
            batch.errors.push(InputError::new(
                line,
                None,
                format!(
                    "expected {expected} fields as in the header, found {}{}{}",
                    record.len(),
                    width_diff(&all_columns()[..expected], record),
                    width_hint(record)
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
    let id = row.take("id", cell::id(field(0), &cell::TRANSACTION_ID));
    let value_date = row.take("value_date", cell::date(field(1)));
    let from = row.take("from", cell::account_id(field(2)));
    let to = row.take("to", cell::account_id(field(3)));
    let currency = row.take("currency", cell::currency_code(field(4)).map(|()| field(4)));
    let amount = row.take("amount", check_positive_amount(field(5)));
    let purpose = row.take("purpose", cell::purpose(field(6)));
    let reference = row.take("reference", cell::text(field(7), REFERENCE_LEN_MAX));
    let memo = row.take("memo", cell::text(field(8), MEMO_LEN_MAX));
    let (term_days, lender) = if columns > CSV_COLUMNS.len() {
        let term_days = row.take("term_days", check_term_days_text(field(9)));
        let lender = row.take("lender", cell::optional_text(field(10), LENDER_LEN_MAX));
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
            batch.errors.push(crate::records::too_many(line, rows_max, "line", "post"));
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
    let id = row.take(
        "id",
        required(tx.id, "an id (its idempotency key)")
            .and_then(|t| cell::id(&t, &cell::TRANSACTION_ID).map(|_| ()).map(|()| t)),
    );
    let value_date = row.take("value_date", required(tx.value_date, "a value date").and_then(|t| cell::date(&t)));
    let purpose = row.take("purpose", required(tx.purpose, "a purpose").and_then(|t| cell::purpose(&t)));
    let reference = row.take("reference", cell::text(tx.reference.as_deref().unwrap_or_default(), REFERENCE_LEN_MAX));
    let memo = row.take("memo", cell::text(tx.memo.as_deref().unwrap_or_default(), MEMO_LEN_MAX));
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
        Some(lender) => row.take("lender", cell::optional_text(&lender, LENDER_LEN_MAX)),
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
        required(posting.account, "an account").and_then(|t| cell::account_id(&t).map(|_| ()).map(|()| t)),
    );
    let currency = row.take(
        &format!("postings[{idx}].currency"),
        required(posting.currency, "a currency").and_then(|t| cell::currency_code(&t).map(|()| t)),
    );
    let amount = row.take(
        &format!("postings[{idx}].amount"),
        required(posting.amount.map(|d| d.0), "an amount").and_then(|t| cell::decimal(&t, DECIMAL_IF_EMPTY)),
    );
    Some(PostingRequest { account: account?, currency: currency?, amount: amount? })
}

fn json_rate(rate: JsonRate, row: &mut RowCheck) -> Option<RateRequest> {
    let base = row
        .take("rate.base", required(rate.base, "the base currency").and_then(|t| cell::currency_code(&t).map(|()| t)));
    let quote = row.take(
        "rate.quote",
        required(rate.quote, "the quote currency").and_then(|t| cell::currency_code(&t).map(|()| t)),
    );
    let value = row.take(
        "rate.rate",
        required(rate.rate.map(|d| d.0), "the rate")
            .and_then(|t| cell::rate(&t, DECIMAL_IF_EMPTY, "; an FX rate must be greater than zero")),
    );
    Some(RateRequest { base: base?, quote: quote?, rate: value? })
}

fn required(value: Option<String>, what: &str) -> Result<String, String> {
    value.ok_or_else(|| format!("is missing; every transaction needs {what}"))
}

// ---------------------------------------------------------------------------
// Field checks of transaction files (the rest are in `cell`)
// ---------------------------------------------------------------------------

/// The reason for an empty amount or rate.
const DECIMAL_IF_EMPTY: &str = "is empty; write a decimal such as 1000.50";

/// The most postings one JSON line may hold. The ledger's own limit,
/// [`POSTINGS_MAX`], is lower: a line between the two parses, and the ledger
/// rejects it with reason `posting_limit`. This bound only protects memory.
pub const POSTINGS_PARSE_MAX: usize = 16 * POSTINGS_MAX;

/// A CSV amount: strict decimal, greater than zero (the row's direction is from → to).
fn check_positive_amount(text: &str) -> Result<Decimal, String> {
    let amount = cell::decimal(text, DECIMAL_IF_EMPTY)?;
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

// ---------------------------------------------------------------------------
// Refusals, named as the file wrote them
// ---------------------------------------------------------------------------

/// The column (CSV) or field (JSON Lines) of a transaction file that a field
/// of the request names, as the ledger's [`Rejection`]s and
/// [`cashpool_ledger::Rejected`] name it.
///
/// A CSV row is a two-posting transaction, so its postings' fields are its
/// columns: `postings[0].account` is `from`, `postings[1].account` is `to`,
/// either leg's `currency` is `currency` and either leg's `amount` is
/// `amount`. Every other field (`id`, `value_date`, `reference`, …) has its
/// own column of the same name, and a JSON Lines file writes the fields as
/// the request names them: both are returned unchanged.
pub fn column(format: TransactionFormat, field: &str) -> &str {
    if format == TransactionFormat::Jsonl {
        return field;
    }
    match field {
        "postings[0].account" => "from",
        "postings[1].account" => "to",
        "postings[0].currency" | "postings[1].currency" => "currency",
        "postings[0].amount" | "postings[1].amount" => "amount",
        other => other,
    }
}

/// `rejection` as the file wrote the transaction: its field named by
/// [`column()`], and for a CSV row, whose amount is the positive amount moved
/// while the ledger saw the `from` leg's negative posting, the amounts of a
/// `too_many_decimals` or `id_conflict` on that leg without their minus sign
/// (`id_conflict` shows the row's amount and currency, not the leg's account).
/// Its message ([`Rejection`]'s `Display`) and JSON then name the file's
/// column. A refusal without a field is returned as it is.
pub fn as_written(format: TransactionFormat, rejection: &Rejection) -> Rejection {
    let mut rejection = rejection.clone();
    if format == TransactionFormat::Csv {
        match &mut rejection {
            Rejection::TooManyDecimals { field, amount, .. } if field == "postings[0].amount" => {
                amount.set_sign_positive(true);
            }
            // `ACCOUNT -AMOUNT CCY` of the from leg: the row's amount and currency.
            Rejection::IdConflict { field, stored, given } if field == "postings[0].amount" => {
                for shown in [stored, given] {
                    if let Some((_, rest)) = shown.split_once(' ') {
                        *shown = rest.trim_start_matches('-').to_string();
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(field) = field_mut(&mut rejection) {
        *field = column(format, field).to_string();
    }
    rejection
}

/// The field a refusal names, if it names one.
fn field_mut(rejection: &mut Rejection) -> Option<&mut String> {
    match rejection {
        Rejection::Invalid { field, .. }
        | Rejection::UnknownAccount { field, .. }
        | Rejection::UnknownCurrency { field, .. }
        | Rejection::CurrencyNotHeld { field, .. }
        | Rejection::TooManyDecimals { field, .. }
        | Rejection::ZeroAmount { field }
        | Rejection::FxRate { field, .. }
        | Rejection::Overdraft { field, .. }
        | Rejection::IdConflict { field, .. } => Some(field),
        // No field: the transaction as a whole (or a refusal this version does not know).
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,value_date,from,to,currency,amount,purpose,reference,memo\n";

    fn dec(text: &str) -> rust_decimal::Decimal {
        text.parse().expect("a decimal")
    }

    fn row(n: usize) -> String {
        format!("T-{n},2026-11-02,A,B,USD,1.00,current_account,,\n")
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
    fn a_csv_row_names_its_postings_by_their_columns() {
        use TransactionFormat::{Csv, Jsonl};
        for (field, csv) in [
            ("postings[0].account", "from"),
            ("postings[1].account", "to"),
            ("postings[0].currency", "currency"),
            ("postings[1].currency", "currency"),
            ("postings[0].amount", "amount"),
            ("postings[1].amount", "amount"),
            ("value_date", "value_date"),
            ("term_days", "term_days"),
        ] {
            assert_eq!(column(Csv, field), csv);
            assert_eq!(column(Jsonl, field), field);
        }
        let overdraft = |field: &str| Rejection::Overdraft {
            field: field.into(),
            account: "A".into(),
            currency: cashpool_ledger::money::Currency::from_code("USD").unwrap(),
            balance: dec("0.00"),
            change: dec("-1.00"),
            overdraft: dec("0.00"),
        };
        assert_eq!(as_written(Csv, &overdraft("postings[0].amount")), overdraft("amount"));
        assert_eq!(as_written(Jsonl, &overdraft("postings[0].amount")), overdraft("postings[0].amount"));
        let decimals = |field: &str, amount: &str| Rejection::TooManyDecimals {
            field: field.into(),
            amount: dec(amount),
            currency: cashpool_ledger::money::Currency::from_code("JPY").unwrap(),
            minor_units: 0,
        };
        assert_eq!(as_written(Csv, &decimals("postings[0].amount", "-1.5")), decimals("amount", "1.5"));
        assert_eq!(as_written(Csv, &decimals("postings[1].amount", "1.5")), decimals("amount", "1.5"));
        // Equal decimals can differ in scale: the text shows the amount as written.
        assert_eq!(
            as_written(Csv, &decimals("postings[0].amount", "-1.50")).to_string(),
            "too_many_decimals: field `amount`: 1.50 has more decimals than JPY allows (0)"
        );
        let conflict = Rejection::IdConflict {
            field: "postings[0].amount".into(),
            stored: "A -1.00 USD".into(),
            given: "A -2.00 USD".into(),
        };
        let expected =
            Rejection::IdConflict { field: "amount".into(), stored: "1.00 USD".into(), given: "2.00 USD".into() };
        assert_eq!(as_written(Csv, &conflict), expected);
        assert!(as_written(Csv, &conflict).to_string().contains("with a different `amount`"));
        assert_eq!(as_written(Csv, &Rejection::Empty), Rejection::Empty);
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
}
