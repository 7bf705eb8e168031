//! The pool's eligibility check (`cashpool pool check --figures FILE`).
//!
//! A group may run a unified RMB + foreign-currency pool only if it meets the
//! conditions of PBOC/SAFE 银发〔2025〕251号, item 3 (DOMAIN §2). This module
//! checks the ones that figures can show (amounts are previous-year figures in
//! the base currency), with the thresholds of the group definition's
//! `[pool.eligibility]` table ([`crate::config::EligibilityThresholds`]):
//!
//! | code | rule |
//! |---|---|
//! | `onshore_cross_border` | Σ onshore members' cross-border receipts + payments ≥ `onshore_cross_border_min` (RMB 7 bn) |
//! | `onshore_revenue` | Σ onshore members' revenue ≥ `onshore_revenue_min` (RMB 10 bn) |
//! | `offshore_revenue` | Σ offshore members' revenue ≥ `offshore_revenue_min` (RMB 2 bn) |
//! | `no_major_violation` | per member: no major violation dated after the check date minus `violation_free_years` (2) |
//! | `members_min` | the group has at least `members_min` (3) entities, host included |
//! | `management_system` | an internal electronic management system: this software, always met |
//!
//! **Totals, not each member.** DOMAIN §2 says only "onshore members'
//! previous-year cross-border receipts and payments ≥ RMB 7 bn". The notice
//! itself (银发〔2025〕251号, item 3, as published on 26 Dec 2025 and reproduced
//! e.g. at <https://www.10100.com/article/68118435>; also summarized by
//! etnet, 29 Dec 2025) states the amounts as totals (合计) over *all* onshore
//! members (境内全部成员企业) and over *all* offshore members (境外全部成员企业).
//! The check follows the notice: a small member (an FTZ start-up) does not
//! make the pool ineligible as long as the totals reach the thresholds. The
//! violation rule, by contrast, applies to every member (a member founded less
//! than two years ago must have none since its founding, which the same test
//! covers).
//!
//! Which members count where is decided by the group definition: the
//! onshore totals add up the rows of the group's onshore entities, the offshore
//! total those of its offshore entities.
//!
//! **Checks of the input** are reported as criteria too, only when they fail
//! (each makes the pool not eligible, since the totals would be wrong):
//! `member_of_group` (a row names no entity of the group; the row is left out
//! of every total), `residence_matches` (a row's residence differs from the
//! group definition; the group definition's residence is used),
//! `figures_unique` (a second row for the same entity, left out; the parser
//! already rejects this) and `figures_present` (an entity of the group has no
//! row).
//!
//! Not checked, because no figure shows them (the operator attests them when
//! filing): a real business need, a cross-border funds management structure
//! and internal controls, and the goods-trade classification (category A) of
//! members on the trade list.
//!
//! The figures file is a CSV with the header
//! `entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date`
//! (see [`parse_figures_csv`]).

use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::config::{GroupConfig, Residence, ID_LEN_MAX};
use crate::input::{parse_iso_date, InputError, ROWS_MAX};
use crate::input::{shown, CsvRecords};
use crate::money::{format_amount, parse_amount, Currency, MoneyError};

/// The header of a figures CSV, exactly these columns in this order.
pub const FIGURES_COLUMNS: [&str; 6] =
    ["entity", "residence", "cross_border_receipts", "cross_border_payments", "revenue", "major_violation_date"];

/// One member's previous-year figures: one good row of a figures CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFigures {
    /// The 1-based physical line of the row.
    pub line: u64,
    /// The entity id, as in the group definition.
    pub entity: String,
    /// Onshore or offshore, as the file states it (checked against the group definition).
    pub residence: Residence,
    /// Previous-year cross-border receipts, in the base currency (≥ 0, at its minor units).
    pub cross_border_receipts: Decimal,
    /// Previous-year cross-border payments, in the base currency (≥ 0, at its minor units).
    pub cross_border_payments: Decimal,
    /// Previous-year revenue (营业收入), in the base currency (≥ 0, at its minor units).
    pub revenue: Decimal,
    /// The date of the member's latest major cross-border violation, if any.
    pub major_violation_date: Option<NaiveDate>,
}

/// One eligibility criterion, met or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    /// The entity the criterion is about, or `None` for a criterion of the
    /// whole pool (the totals, `members_min`, `management_system`).
    pub entity: Option<String>,
    /// A stable code: `onshore_cross_border`, `onshore_revenue`,
    /// `offshore_revenue`, `no_major_violation`, `members_min`,
    /// `management_system`, and for the input `member_of_group`,
    /// `residence_matches`, `figures_unique`, `figures_present`.
    pub criterion: String,
    /// What is required: an amount in the base currency with its minor units
    /// (met when the actual amount is at least this), a count, or a phrase.
    pub threshold: String,
    /// What the figures show, in the same form as `threshold`.
    pub actual: String,
    /// Whether the criterion is met.
    pub met: bool,
}

/// The outcome of [`check_eligibility`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityReport {
    /// Whether every criterion is met.
    pub eligible: bool,
    /// Every criterion checked: first the failed input checks (in file order,
    /// then missing entities in group order), then `members_min`, the three
    /// totals, `no_major_violation` per entity in group order, and
    /// `management_system`.
    pub criteria: Vec<Criterion>,
}

// ---------------------------------------------------------------------------------------------
// The figures CSV
// ---------------------------------------------------------------------------------------------

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
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
                errors.push(whole_row(line, crate::input::wrong_header(&FIGURES_COLUMNS, &expected, record)));
                return (rows, errors);
            }
            header_seen = true;
            continue;
        }
        if count >= ROWS_MAX {
            errors.push(whole_row(
                line,
                format!("more than {ROWS_MAX} rows in one file (this row and the rest of the file were not read)"),
            ));
            break;
        }
        count += 1;
        if record.len() != FIGURES_COLUMNS.len() {
            errors.push(whole_row(
                line,
                format!(
                    "expected {} fields as in the header, found {}{}; quote a field that contains a comma",
                    FIGURES_COLUMNS.len(),
                    record.len(),
                    crate::input::width_diff(&FIGURES_COLUMNS, record)
                ),
            ));
            continue;
        }
        let field = |idx: usize| record.get(idx).unwrap_or_default();
        let mut row = RowErrors { line, errors: Vec::new() };
        let entity = row.take("entity", check_entity(field(0)));
        let residence = row.take("residence", check_residence(field(1)));
        let receipts = row.take("cross_border_receipts", check_amount(field(2), base));
        let payments = row.take("cross_border_payments", check_amount(field(3), base));
        let revenue = row.take("revenue", check_amount(field(4), base));
        let violation = row.take("major_violation_date", check_optional_date(field(5)));
        let entity = entity.and_then(|entity| match seen.get(&entity) {
            Some(first) => {
                row.errors.push(InputError {
                    line,
                    field: Some("entity".to_string()),
                    reason: format!("{} already has figures on line {first}; give one row per entity", shown(&entity)),
                });
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
        errors.push(whole_row(
            1,
            format!("the file is empty; a figures CSV starts with the header `{}`", FIGURES_COLUMNS.join(",")),
        ));
    }
    (rows, errors)
}

/// The errors of one row, each naming its field.
struct RowErrors {
    line: u64,
    errors: Vec<InputError>,
}

impl RowErrors {
    fn take<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(reason) => {
                self.errors.push(InputError { line: self.line, field: Some(field.to_string()), reason });
                None
            }
        }
    }
}

fn whole_row(line: u64, reason: String) -> InputError {
    InputError { line, field: None, reason }
}

fn check_entity(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("is empty; name the entity id of the group definition".to_string());
    }
    if text.trim() != text {
        return Err(format!("{} has leading or trailing spaces; remove them", shown(text)));
    }
    if text.len() > ID_LEN_MAX {
        return Err(format!("is {} bytes long; an entity id has at most {ID_LEN_MAX}", text.len()));
    }
    if let Some(bad) = text.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(format!("{} contains {bad:?}; an entity id is printable ASCII without spaces", shown(text)));
    }
    Ok(text.to_string())
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
    if text.is_empty() {
        return Err(format!("is empty; write the amount in {base}, 0 when there is none"));
    }
    let amount = parse_amount(text, base).map_err(|err| {
        let detail = match err {
            MoneyError::Invalid { reason, .. } => format!("{} is not a decimal: {reason}", shown(text)),
            MoneyError::TooManyDecimals { minor_units, .. } => format!(
                "{} has more decimals than {base} allows: expected at most {minor_units} decimal place(s)",
                shown(text)
            ),
            MoneyError::Overflow => format!("{} is too large; an amount is at most 10^18", shown(text)),
            other => other.to_string(),
        };
        let hint = if text.contains([',', '_', '\'']) {
            "; remove the thousands separators"
        } else if text.contains(['e', 'E']) {
            "; exponent notation is not allowed: write the digits out"
        } else if text.starts_with('+') {
            "; drop the leading '+'"
        } else if text.contains(char::is_whitespace) {
            "; remove the spaces"
        } else {
            ""
        };
        format!("{detail}{hint}")
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
    parse_iso_date(text)
        .map(Some)
        .map_err(|reason| format!("{reason}; leave it empty when there was no major violation"))
}

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

/// Checks the pool's eligibility from the members' previous-year `figures`
/// against the group definition's thresholds (`config.pool.eligibility`).
///
/// `as_of` is the check date (violations within `violation_free_years` before it fail).
/// The window is the `violation_free_years` years up to `as_of`: a violation
/// dated after `as_of` minus that many years (calendar years; 29 February
/// falls back to the 28th) fails, one dated exactly that many years before
/// `as_of` or earlier does not. A violation dated after `as_of` fails too.
///
/// The amount criteria are totals over the group's onshore (or offshore)
/// entities, as the notice states them; see the [module documentation](self).
/// Never panics; the totals saturate rather than overflow.
pub fn check_eligibility(config: &GroupConfig, figures: &[MemberFigures], as_of: NaiveDate) -> EligibilityReport {
    let base = config.group.base_currency;
    let thresholds = &config.pool.eligibility;
    let amount = |value: Decimal| format_amount(value, base);
    let mut criteria: Vec<Criterion> = Vec::new();

    // The input: every row names a group entity, with its residence, once.
    let mut by_entity: HashMap<&str, &MemberFigures> = HashMap::new();
    for row in figures {
        let Some(entity) = config.entity(&row.entity) else {
            criteria.push(Criterion {
                entity: Some(row.entity.clone()),
                criterion: "member_of_group".into(),
                threshold: format!("an entity of group {}", config.group.id),
                actual: format!("not in the group definition (figures line {})", row.line),
                met: false,
            });
            continue;
        };
        if let Some(first) = by_entity.get(row.entity.as_str()) {
            criteria.push(Criterion {
                entity: Some(row.entity.clone()),
                criterion: "figures_unique".into(),
                threshold: "one row per entity".into(),
                actual: format!("rows on lines {} and {}", first.line, row.line),
                met: false,
            });
            continue;
        }
        if entity.residence != row.residence {
            criteria.push(Criterion {
                entity: Some(row.entity.clone()),
                criterion: "residence_matches".into(),
                threshold: entity.residence.as_str().into(),
                actual: format!("{} (figures line {})", row.residence.as_str(), row.line),
                met: false,
            });
        }
        by_entity.insert(row.entity.as_str(), row);
    }
    for entity in &config.entities {
        if !by_entity.contains_key(entity.id.as_str()) {
            criteria.push(Criterion {
                entity: Some(entity.id.clone()),
                criterion: "figures_present".into(),
                threshold: "a row in the figures file".into(),
                actual: "missing".into(),
                met: false,
            });
        }
    }

    // The group's size.
    let members = config.entities.len();
    criteria.push(Criterion {
        entity: None,
        criterion: "members_min".into(),
        threshold: thresholds.members_min.to_string(),
        actual: members.to_string(),
        met: u64::try_from(members).unwrap_or(u64::MAX) >= u64::from(thresholds.members_min),
    });

    // The totals, by the group definition's residence.
    let total = |residence: Residence, value: fn(&MemberFigures) -> Decimal| {
        config
            .entities
            .iter()
            .filter(|entity| entity.residence == residence)
            .filter_map(|entity| by_entity.get(entity.id.as_str()))
            .fold(Decimal::ZERO, |sum, row| sum.checked_add(value(row)).unwrap_or(Decimal::MAX))
    };
    let cross_border =
        |row: &MemberFigures| row.cross_border_receipts.checked_add(row.cross_border_payments).unwrap_or(Decimal::MAX);
    let totals = [
        ("onshore_cross_border", total(Residence::Onshore, cross_border), thresholds.onshore_cross_border_min),
        ("onshore_revenue", total(Residence::Onshore, |row| row.revenue), thresholds.onshore_revenue_min),
        ("offshore_revenue", total(Residence::Offshore, |row| row.revenue), thresholds.offshore_revenue_min),
    ];
    for (code, actual, threshold) in totals {
        criteria.push(Criterion {
            entity: None,
            criterion: code.into(),
            threshold: amount(threshold),
            actual: amount(actual),
            met: actual >= threshold,
        });
    }

    // No major violation in the window, per entity with figures.
    let window_start = thresholds
        .violation_free_years
        .checked_mul(12)
        .and_then(|months| as_of.checked_sub_months(Months::new(months)))
        .unwrap_or(NaiveDate::MIN);
    for entity in &config.entities {
        let Some(row) = by_entity.get(entity.id.as_str()) else {
            continue;
        };
        let (actual, met) = match row.major_violation_date {
            None => ("none".to_string(), true),
            Some(date) => (date.to_string(), date <= window_start),
        };
        criteria.push(Criterion {
            entity: Some(entity.id.clone()),
            criterion: "no_major_violation".into(),
            threshold: format!("none after {window_start}"),
            actual,
            met,
        });
    }

    criteria.push(Criterion {
        entity: None,
        criterion: "management_system".into(),
        threshold: "an internal electronic management system".into(),
        actual: "met by this software: the cashpool ledger is the pool's internal electronic management system".into(),
        met: true,
    });

    let eligible = criteria.iter().all(|criterion| criterion.met);
    EligibilityReport { eligible, criteria }
}
