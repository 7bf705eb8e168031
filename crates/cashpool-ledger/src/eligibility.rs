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
//! `entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date`,
//! read outside the core by `cashpool-files` (`cashpool_files::figures::parse_figures_csv`)
//! into [`MemberFigures`].

use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::config::{GroupConfig, Residence};
use crate::money::format_amount;

/// One member's previous-year figures: one good row of a figures CSV
/// (`cashpool_files::figures::parse_figures_csv`).
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
