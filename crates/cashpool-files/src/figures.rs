//! The figures CSV of `cashpool pool check`: each member's previous-year
//! figures, into [`MemberFigures`] for [`cashpool_ledger::eligibility::check_eligibility`].
//!
//! The header is
//! `entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date`
//! (see [`parse_figures_csv`]).

use std::collections::HashMap;

use cashpool_ledger::config::Residence;
use cashpool_ledger::eligibility::MemberFigures;
use cashpool_ledger::money::{to_currency_scale, Currency, MoneyError};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::cell::{self, shown};
use crate::records::{strip_bom, width_diff, wrong_header, CsvRecords};
use crate::{InputError, RowCheck, ROWS_MAX};

/// The header of a figures CSV, exactly these columns in this order.
pub const FIGURES_COLUMNS: [&str; 6] =
    ["entity", "residence", "cross_border_receipts", "cross_border_payments", "revenue", "major_violation_date"];

/// Parses a figures CSV: the header
/// `entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date`,
/// then one row per member.
///
/// - `entity`: the entity id (1 to 64 printable ASCII characters), one row per entity;
/// - `residence`: `onshore` or `offshore`;
/// - the three amounts: strict decimal strings (no sign, no separators, no
///   exponent) of 0 or more with at most `base`'s minor units, returned at
///   exactly its minor units;
/// - `major_violation_date`: empty, or an ISO date `YYYY-MM-DD`.
///
/// Returns the good rows and an error for every bad field of every bad row
/// (with its 1-based physical line), both in file order. A byte-order mark
/// and blank lines are tolerated; a wrong header stops the parse. Never panics.
pub fn parse_figures_csv(text: &str, base: Currency) -> (Vec<MemberFigures>, Vec<InputError>) {
    let text = strip_bom(text);
    let mut rows: Vec<MemberFigures> = Vec::new();
    let mut errors: Vec<InputError> = Vec::new();
    let mut records = CsvRecords::new(text);
    let mut header_seen = false;
    let mut count = 0usize;
    // Entity → the line of its first row.
    let mut seen: HashMap<String, u64> = HashMap::new();
    while let Some((line, record)) = records.next_record(&mut errors) {
        if !header_seen {
            let found: Vec<&str> = record.iter().collect();
            if found != FIGURES_COLUMNS {
                let expected = format!("`{}`", FIGURES_COLUMNS.join(","));
                errors.push(InputError::new(line, None, wrong_header(&FIGURES_COLUMNS, &expected, record)));
                return (rows, errors);
            }
            header_seen = true;
            continue;
        }
        if count >= ROWS_MAX {
            errors.push(InputError::new(
                line,
                None,
                format!("more than {ROWS_MAX} rows in one file (this row and the rest of the file were not read)"),
            ));
            break;
        }
        count += 1;
        if record.len() != FIGURES_COLUMNS.len() {
            errors.push(InputError::new(
                line,
                None,
                format!(
                    "expected {} fields as in the header, found {}{}; quote a field that contains a comma",
                    FIGURES_COLUMNS.len(),
                    record.len(),
                    width_diff(&FIGURES_COLUMNS, record)
                ),
            ));
            continue;
        }
        let field = |idx: usize| record.get(idx).unwrap_or_default();
        let mut row = RowCheck::new(line);
        let entity = row.take("entity", cell::id(field(0), &cell::FIGURES_ENTITY_ID).map(str::to_string));
        let residence = row.take("residence", check_residence(field(1)));
        let receipts = row.take("cross_border_receipts", check_amount(field(2), base));
        let payments = row.take("cross_border_payments", check_amount(field(3), base));
        let revenue = row.take("revenue", check_amount(field(4), base));
        let violation = row.take("major_violation_date", check_optional_date(field(5)));
        let entity = entity.and_then(|entity| match seen.get(&entity) {
            Some(first) => {
                row.fail(
                    "entity",
                    format!("{} already has figures on line {first}; give one row per entity", shown(&entity)),
                );
                None
            }
            None => {
                seen.insert(entity.clone(), line);
                Some(entity)
            }
        });
        if let (Some(entity), Some(residence), Some(receipts), Some(payments), Some(revenue), Some(violation)) =
            (entity, residence, receipts, payments, revenue, violation)
        {
            if row.errors.is_empty() {
                rows.push(MemberFigures {
                    line,
                    entity,
                    residence,
                    cross_border_receipts: receipts,
                    cross_border_payments: payments,
                    revenue,
                    major_violation_date: violation,
                });
            }
        }
        errors.append(&mut row.errors);
    }
    if !header_seen && errors.is_empty() {
        errors.push(InputError::new(
            1,
            None,
            format!("the file is empty; a figures CSV starts with the header `{}`", FIGURES_COLUMNS.join(",")),
        ));
    }
    (rows, errors)
}

fn check_residence(text: &str) -> Result<Residence, String> {
    match text {
        "onshore" => Ok(Residence::Onshore),
        "offshore" => Ok(Residence::Offshore),
        other => Err(format!("unknown residence {}; expected onshore or offshore", shown(other))),
    }
}

/// A previous-year figure: strict decimal, 0 or more, at most `base`'s minor units.
fn check_amount(text: &str, base: Currency) -> Result<Decimal, String> {
    let amount = cell::decimal(text, &format!("is empty; write the amount in {base}, 0 when there is none"))?;
    let amount = to_currency_scale(amount, base).map_err(|err| match err {
        MoneyError::TooManyDecimals { minor_units, .. } => format!(
            "{} has more decimals than {base} allows: expected at most {minor_units} decimal place(s)",
            shown(text)
        ),
        MoneyError::Overflow => format!("{} is too large; an amount is at most 10^18", shown(text)),
        other => other.to_string(),
    })?;
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(format!("{} is negative; previous-year figures are 0 or more", shown(text)));
    }
    // `-0` parses as zero: store it without its sign.
    Ok(amount.abs())
}

fn check_optional_date(text: &str) -> Result<Option<NaiveDate>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    cell::date(text).map(Some).map_err(|reason| format!("{reason}; leave it empty when there was no major violation"))
}
