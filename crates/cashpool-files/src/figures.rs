//! The figures CSV of `cashpool pool check`: each member's previous-year
//! figures, into [`MemberFigures`] for [`cashpool_ledger::eligibility::check_eligibility`].
//!
//! The header is
//! `entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date`,
//! optionally followed by `member_type` and `trade_rating` in either order
//! (see [`parse_figures_csv`]).

use std::collections::HashMap;

use cashpool_ledger::config::Residence;
use cashpool_ledger::eligibility::{MemberFigures, MemberType, TradeRating};
use cashpool_ledger::money::{to_currency_scale, Currency, MoneyError};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::cell::{self, shown};
use crate::records::{strip_bom, width_diff, wrong_header, CsvRecords};
use crate::{InputError, RowCheck, ROWS_MAX};

/// The columns every figures CSV starts with, in this order.
pub const FIGURES_COLUMNS: [&str; 6] =
    ["entity", "residence", "cross_border_receipts", "cross_border_payments", "revenue", "major_violation_date"];

/// The optional columns that may follow [`FIGURES_COLUMNS`], each at most
/// once, in either order. A file without one of them still parses; the
/// eligibility criterion it feeds is then reported as not checked.
pub const FIGURES_OPTIONAL_COLUMNS: [&str; 2] = ["member_type", "trade_rating"];

/// Where a file's optional columns are (0-based field index), as its header declares them.
#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    member_type: Option<usize>,
    trade_rating: Option<usize>,
    /// The number of columns.
    width: usize,
}

/// Parses a figures CSV: the header
/// `entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date`,
/// optionally followed by `member_type` and `trade_rating` (in either order),
/// then one row per member.
///
/// - `entity`: the entity id (1 to 64 printable ASCII characters), one row per entity;
/// - `residence`: `onshore` or `offshore`;
/// - the three amounts: strict decimal strings (no sign, no separators, no
///   exponent) of 0 or more with at most `base`'s minor units, returned at
///   exactly its minor units;
/// - `major_violation_date`: empty, or an ISO date `YYYY-MM-DD`;
/// - `member_type` (optional column): `enterprise`, `finance_company`,
///   `financial_institution`, `lgfv` or `real_estate` ([`MemberType`]), never empty;
/// - `trade_rating` (optional column): `A`, `B` or `C`, SAFE's goods-trade
///   classification, or empty when the member is not on SAFE's goods-trade
///   list ([`TradeRating`]).
///
/// A row's [`MemberFigures::member_type`] and [`MemberFigures::trade_rating`]
/// are `None` when the file has no such column.
///
/// Returns the good rows and an error for every bad field of every bad row
/// (with its 1-based physical line), both in file order. A byte-order mark
/// and blank lines are tolerated; a wrong header stops the parse. Never panics.
pub fn parse_figures_csv(text: &str, base: Currency) -> (Vec<MemberFigures>, Vec<InputError>) {
    let text = strip_bom(text);
    let mut rows: Vec<MemberFigures> = Vec::new();
    let mut errors: Vec<InputError> = Vec::new();
    let mut records = CsvRecords::new(text);
    let mut layout: Option<(Layout, Vec<&str>)> = None;
    let mut count = 0usize;
    // Entity → the line of its first row.
    let mut seen: HashMap<String, u64> = HashMap::new();
    while let Some((line, record)) = records.next_record(&mut errors) {
        let Some((columns, names)) = &layout else {
            match check_header(record) {
                Ok(found) => layout = Some(found),
                Err(reason) => {
                    errors.push(InputError::new(line, None, reason));
                    return (rows, errors);
                }
            }
            continue;
        };
        if count >= ROWS_MAX {
            errors.push(InputError::new(
                line,
                None,
                format!("more than {ROWS_MAX} rows in one file (this row and the rest of the file were not read)"),
            ));
            break;
        }
        count += 1;
        if record.len() != columns.width {
            errors.push(InputError::new(
                line,
                None,
                format!(
                    "expected {} fields as in the header, found {}{}; quote a field that contains a comma",
                    columns.width,
                    record.len(),
                    width_diff(names, record)
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
        let member_type = match columns.member_type {
            Some(idx) => row.take("member_type", check_member_type(field(idx)).map(Some)),
            None => Some(None),
        };
        let trade_rating = match columns.trade_rating {
            Some(idx) => row.take("trade_rating", check_trade_rating(field(idx)).map(Some)),
            None => Some(None),
        };
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
        if let (
            Some(entity),
            Some(residence),
            Some(receipts),
            Some(payments),
            Some(revenue),
            Some(violation),
            Some(member_type),
            Some(trade_rating),
        ) = (entity, residence, receipts, payments, revenue, violation, member_type, trade_rating)
        {
            if row.errors.is_empty() {
                assert_eq!(member_type.is_some(), columns.member_type.is_some());
                assert_eq!(trade_rating.is_some(), columns.trade_rating.is_some());
                rows.push(MemberFigures {
                    line,
                    entity,
                    residence,
                    cross_border_receipts: receipts,
                    cross_border_payments: payments,
                    revenue,
                    major_violation_date: violation,
                    member_type,
                    trade_rating,
                });
            }
        }
        errors.append(&mut row.errors);
    }
    if layout.is_none() && errors.is_empty() {
        errors.push(InputError::new(
            1,
            None,
            format!("the file is empty; a figures CSV starts with the header {}", expected_header()),
        ));
    }
    (rows, errors)
}

/// The header as the messages show it.
fn expected_header() -> String {
    format!(
        "`{}` (optionally followed by `,{}` in either order)",
        FIGURES_COLUMNS.join(","),
        FIGURES_OPTIONAL_COLUMNS.join("` and `,")
    )
}

/// Checks the header record: [`FIGURES_COLUMNS`] in order, then each of
/// [`FIGURES_OPTIONAL_COLUMNS`] at most once. Returns where the optional
/// columns are and every column's name.
fn check_header(record: &csv::StringRecord) -> Result<(Layout, Vec<&'static str>), String> {
    let found: Vec<&str> = record.iter().collect();
    let mut names: Vec<&'static str> = FIGURES_COLUMNS.to_vec();
    let mut layout = Layout::default();
    let mut ok = found.len() >= FIGURES_COLUMNS.len() && found[..FIGURES_COLUMNS.len()] == FIGURES_COLUMNS;
    for (idx, name) in found.iter().enumerate().skip(FIGURES_COLUMNS.len()) {
        let slot = match *name {
            "member_type" => &mut layout.member_type,
            "trade_rating" => &mut layout.trade_rating,
            _ => {
                ok = false;
                continue;
            }
        };
        if slot.is_some() {
            return Err(format!(
                "wrong header: column `{name}` appears twice; expected {}, found {}",
                expected_header(),
                shown(&found.join(","))
            ));
        }
        *slot = Some(idx);
        names.extend(FIGURES_OPTIONAL_COLUMNS.iter().copied().filter(|optional| optional == name));
    }
    if !ok {
        // Name what differs against the required columns plus the optional ones the header has.
        let present: Vec<&str> = FIGURES_OPTIONAL_COLUMNS
            .iter()
            .copied()
            .filter(|optional| found.iter().any(|f| f.trim().eq_ignore_ascii_case(optional)))
            .collect();
        let expected: Vec<&str> = FIGURES_COLUMNS.iter().copied().chain(present).collect();
        return Err(wrong_header(&expected, &expected_header(), record));
    }
    layout.width = found.len();
    assert_eq!(names.len(), layout.width);
    Ok((layout, names))
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

/// A `member_type` cell: one of [`MemberType::ALL`], in lower case.
fn check_member_type(text: &str) -> Result<MemberType, String> {
    let allowed = || MemberType::ALL.iter().map(|kind| kind.as_str()).collect::<Vec<_>>().join(", ");
    if text.is_empty() {
        return Err(format!("is empty; write the member's type, one of {}", allowed()));
    }
    if let Some(kind) = MemberType::from_code(text) {
        return Ok(kind);
    }
    let hint = match MemberType::from_code(&text.trim().to_ascii_lowercase().replace([' ', '-'], "_")) {
        Some(kind) => format!("; write it `{}`", kind.as_str()),
        None => match member_type_in_chinese(text.trim()) {
            Some(kind) => format!("; write it `{}`", kind.as_str()),
            None => String::new(),
        },
    };
    Err(format!("unknown member type {}{hint}; expected one of {}", shown(text), allowed()))
}

/// A `trade_rating` cell: `A`, `B`, `C`, or empty when the member is not on SAFE's goods-trade list.
fn check_trade_rating(text: &str) -> Result<TradeRating, String> {
    const ALLOWED: &str = "expected A, B or C (SAFE's goods-trade classification), \
                           or empty when the member is not on SAFE's goods-trade list";
    if let Some(rating) = TradeRating::from_code(text) {
        return Ok(rating);
    }
    let letter = text.trim().trim_end_matches('类').trim_end_matches('類').trim();
    let letter = letter.strip_prefix("Class").or_else(|| letter.strip_prefix("class")).unwrap_or(letter).trim();
    let hint = match TradeRating::from_code(&letter.to_ascii_uppercase()) {
        Some(rating) if rating != TradeRating::NotListed => format!("; write the letter alone: `{}`", rating.as_str()),
        _ => String::new(),
    };
    Err(format!("unknown goods-trade category {}{hint}; {ALLOWED}", shown(text)))
}

/// The member type a cell names in Chinese, as 银发〔2025〕251号 words it (房地产企业,
/// 地方政府融资平台公司, 金融机构, 财务公司) or in a common short form: for the hint only.
fn member_type_in_chinese(text: &str) -> Option<MemberType> {
    const WORDS: [(&str, MemberType); 8] = [
        ("财务公司", MemberType::FinanceCompany),
        ("房地产", MemberType::RealEstate),
        ("融资平台", MemberType::Lgfv),
        ("城投", MemberType::Lgfv),
        ("金融", MemberType::FinancialInstitution),
        ("银行", MemberType::FinancialInstitution),
        ("保险", MemberType::FinancialInstitution),
        ("企业", MemberType::Enterprise),
    ];
    // The first word found wins: 房地产企业 is real estate, not a plain 企业.
    WORDS.iter().find(|(word, _)| text.contains(word)).map(|(_, kind)| *kind)
}
