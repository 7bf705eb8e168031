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
//! | `members_min` | the group has at least `members_min` (3) entities that may take part, host included |
//! | `member_type` | per member: not a financial institution, a local-government financing vehicle or a real-estate enterprise; a finance company only as the host |
//! | `trade_rating_a` | per member: category A of SAFE's goods-trade classification, when on SAFE's goods-trade list |
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
//! **Who may take part** (`member_type`). Item 1 of the notice: 金融机构、地方政府
//! 融资平台公司和房地产企业不得参与资金池业务，财务公司作为主办企业的除外 (financial
//! institutions, local-government financing vehicles and real-estate
//! enterprises may not take part in the pool business, except a finance
//! company acting as the host). Each member's [`MemberType`] is stated in the
//! figures: `enterprise` may take part; `finance_company` (a group finance
//! company, 财务公司, itself a non-bank financial institution) only if it is the
//! pool's host (`[pool] host`); `financial_institution`, `lgfv` and
//! `real_estate` never. The notice names no exception by residence, so an
//! offshore member is held to the same rule. Read literally, the exception is
//! for the host alone: a finance company that is an ordinary member fails. No
//! part of this rule is left open by the notice's words, so none is made
//! configurable. A member that may not take part fails its `member_type`
//! criterion (remove it from the group definition) and is not counted towards
//! `members_min` (item 3 counts the members, and it cannot be one).
//!
//! **Goods-trade classification** (`trade_rating_a`). Item 3 of the notice:
//! the members on SAFE's list of enterprises with trade foreign-exchange
//! receipts and payments (贸易外汇收支企业名录) must be category A of the
//! goods-trade foreign-exchange classification (货物贸易外汇管理分类, categories
//! A, B and C). A member not on the list ([`TradeRating::NotListed`], an
//! empty cell) meets the rule; offshore members are never on SAFE's list.
//!
//! **Not given is not met.** The figures file may leave out the `member_type`
//! or `trade_rating` column (files written before these rules were checked).
//! Then the rule is reported once for the pool, not checked
//! ([`Criterion::checked`] `false`), and not met: the report cannot say the
//! pool is eligible on a rule it did not check. A member whose row lacks the
//! value while others have it (possible through the API only) gets its own
//! criterion, not checked.
//!
//! Not checked, because no figure shows them (the operator attests them when
//! filing): a real business need, a cross-border funds management structure
//! and internal controls.
//!
//! The figures file is a CSV with the header
//! `entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date`,
//! optionally followed by `member_type` and `trade_rating`, read outside the
//! core by `cashpool-files` (`cashpool_files::figures::parse_figures_csv`)
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
    /// What kind of enterprise the member is (column `member_type`), or
    /// `None` when the figures do not say (the `member_type` criterion is then
    /// not checked).
    pub member_type: Option<MemberType>,
    /// The member's goods-trade classification (column `trade_rating`), or
    /// `None` when the figures do not say (the `trade_rating_a` criterion is
    /// then not checked).
    pub trade_rating: Option<TradeRating>,
}

/// What kind of enterprise a member is, for item 1 of 银发〔2025〕251号: who may
/// take part in the pool. The names are the values of the figures file's
/// `member_type` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberType {
    /// `enterprise`: an enterprise that is none of the others (a manufacturer,
    /// a trading company, a group treasury company without a financial
    /// licence): may take part.
    Enterprise,
    /// `finance_company`: a group finance company (企业集团财务公司), a non-bank
    /// financial institution: may take part only as the pool's host.
    FinanceCompany,
    /// `financial_institution`: any other financial institution (金融机构: a
    /// bank, insurer, securities or fund company, trust, leasing or
    /// consumer-finance company...): may not take part.
    FinancialInstitution,
    /// `lgfv`: a local-government financing vehicle (地方政府融资平台公司): may not take part.
    Lgfv,
    /// `real_estate`: a real-estate enterprise (房地产企业): may not take part.
    RealEstate,
}

impl MemberType {
    /// Every member type, in the order the documentation lists them.
    pub const ALL: [MemberType; 5] = [
        MemberType::Enterprise,
        MemberType::FinanceCompany,
        MemberType::FinancialInstitution,
        MemberType::Lgfv,
        MemberType::RealEstate,
    ];

    /// The value in the figures file (and in JSON): `enterprise`, `finance_company`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            MemberType::Enterprise => "enterprise",
            MemberType::FinanceCompany => "finance_company",
            MemberType::FinancialInstitution => "financial_institution",
            MemberType::Lgfv => "lgfv",
            MemberType::RealEstate => "real_estate",
        }
    }

    /// The member type written `text` exactly (lower case), if any.
    pub fn from_code(text: &str) -> Option<MemberType> {
        MemberType::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Why a member of this type may not take part, or `None` when it may
    /// (`is_host`: the member is the pool's host). 银发〔2025〕251号 item 1.
    ///
    /// ```
    /// use cashpool_ledger::eligibility::MemberType;
    ///
    /// assert_eq!(MemberType::Enterprise.refusal(false), None);
    /// assert_eq!(MemberType::FinanceCompany.refusal(true), None);
    /// assert!(MemberType::FinanceCompany.refusal(false).is_some());
    /// assert!(MemberType::RealEstate.refusal(true).is_some());
    /// assert_eq!(MemberType::from_code("lgfv"), Some(MemberType::Lgfv));
    /// ```
    pub fn refusal(self, is_host: bool) -> Option<&'static str> {
        match self {
            MemberType::Enterprise => None,
            MemberType::FinanceCompany if is_host => None,
            MemberType::FinanceCompany => Some("a finance company may take part only as the pool's host"),
            MemberType::FinancialInstitution => Some("a financial institution may not take part"),
            MemberType::Lgfv => Some("a local-government financing vehicle may not take part"),
            MemberType::RealEstate => Some("a real-estate enterprise may not take part"),
        }
    }
}

/// A member's goods-trade classification by SAFE (货物贸易外汇管理分类), for item
/// 3 of 银发〔2025〕251号: members on SAFE's goods-trade list must be category A.
/// The values of the figures file's `trade_rating` column: `A`, `B`, `C`, or
/// empty for [`TradeRating::NotListed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TradeRating {
    /// Category A (A类): meets the rule.
    A,
    /// Category B (B类): fails.
    B,
    /// Category C (C类): fails.
    C,
    /// Not on SAFE's list of enterprises with trade foreign-exchange receipts
    /// and payments (贸易外汇收支企业名录), so not classified: meets the rule.
    /// Offshore members are never on the list.
    NotListed,
}

impl TradeRating {
    /// The value in the figures file: `A`, `B`, `C`, or `` (empty) for [`TradeRating::NotListed`].
    pub fn as_str(self) -> &'static str {
        match self {
            TradeRating::A => "A",
            TradeRating::B => "B",
            TradeRating::C => "C",
            TradeRating::NotListed => "",
        }
    }

    /// The rating written `text` exactly (`A`, `B`, `C`, or empty), if any.
    pub fn from_code(text: &str) -> Option<TradeRating> {
        [TradeRating::A, TradeRating::B, TradeRating::C, TradeRating::NotListed]
            .into_iter()
            .find(|rating| rating.as_str() == text)
    }

    /// Whether a member with this rating meets the rule: category A, or not on the list.
    pub fn meets_rule(self) -> bool {
        matches!(self, TradeRating::A | TradeRating::NotListed)
    }
}

/// One eligibility criterion, met or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    /// The entity the criterion is about, or `None` for a criterion of the
    /// whole pool (the totals, `members_min`, `management_system`).
    pub entity: Option<String>,
    /// A stable code: `onshore_cross_border`, `onshore_revenue`,
    /// `offshore_revenue`, `no_major_violation`, `members_min`,
    /// `member_type`, `trade_rating_a`, `management_system`, and for the input
    /// `member_of_group`, `residence_matches`, `figures_unique`,
    /// `figures_present`.
    pub criterion: String,
    /// What is required: an amount in the base currency with its minor units
    /// (met when the actual amount is at least this), a count, or a phrase.
    pub threshold: String,
    /// What the figures show, in the same form as `threshold`.
    pub actual: String,
    /// Whether the criterion is met (never when it was not checked).
    pub met: bool,
    /// Whether the figures allowed checking the criterion: `false` when they
    /// lack what it needs (a figures file without the `member_type` or
    /// `trade_rating` column); `met` is then `false` too, and `actual` says
    /// what is missing. Absent in JSON written before this field existed: true.
    #[serde(default = "checked_by_default")]
    pub checked: bool,
}

fn checked_by_default() -> bool {
    true
}

/// The outcome of [`check_eligibility`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityReport {
    /// Whether every criterion is met (a criterion not checked is not met).
    pub eligible: bool,
    /// Every criterion: first the failed input checks (in file order, then
    /// missing entities in group order), then `members_min`, the three totals,
    /// `no_major_violation` per entity in group order, `member_type` and
    /// `trade_rating_a` each per entity in group order (or once for the pool
    /// when no row gives the value), and `management_system`.
    pub criteria: Vec<Criterion>,
}

impl EligibilityReport {
    /// The criteria that could not be checked (see [`Criterion::checked`]).
    pub fn not_checked(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(|criterion| !criterion.checked)
    }

    /// The criteria that were checked and are not met.
    pub fn failed(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(|criterion| criterion.checked && !criterion.met)
    }
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
/// entities, as the notice states them; `member_type` and `trade_rating_a`
/// are per member, or once for the pool and not checked when no row gives
/// the value; see the [module documentation](self).
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
                checked: true,
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
                checked: true,
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
                checked: true,
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
                checked: true,
            });
        }
    }

    criteria.push(members_min(config, &by_entity));

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
            checked: true,
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
            checked: true,
        });
    }

    // Who may take part (item 1) and the goods-trade classification (item 3), per member with figures.
    let members: Vec<(&str, &MemberFigures)> = config
        .entities
        .iter()
        .filter_map(|entity| by_entity.get(entity.id.as_str()).map(|row| (entity.id.as_str(), *row)))
        .collect();
    criteria.extend(per_member_rule(&members, &MEMBER_TYPE_RULE, |id, row| {
        row.member_type.map(|kind| member_type_outcome(kind, id, &config.pool.host))
    }));
    criteria.extend(per_member_rule(&members, &TRADE_RATING_RULE, |_, row| row.trade_rating.map(trade_rating_outcome)));

    criteria.push(Criterion {
        entity: None,
        criterion: "management_system".into(),
        threshold: "an internal electronic management system".into(),
        actual: "met by this software: the cashpool ledger is the pool's internal electronic management system".into(),
        met: true,
        checked: true,
    });

    let eligible = criteria.iter().all(|criterion| criterion.met);
    EligibilityReport { eligible, criteria }
}

/// `members_min`: the group's entities that may take part, host included
/// (银发〔2025〕251号 item 3: 境内外成员企业合计不少于3家). An entity whose figures
/// give a [`MemberType`] that may not take part (item 1) is not counted; one
/// whose type is not given is.
fn members_min(config: &GroupConfig, by_entity: &HashMap<&str, &MemberFigures>) -> Criterion {
    const NAMED_MAX: usize = 5;
    let thresholds = &config.pool.eligibility;
    let excluded: Vec<&str> = config
        .entities
        .iter()
        .filter(|entity| {
            by_entity
                .get(entity.id.as_str())
                .and_then(|row| row.member_type)
                .is_some_and(|kind| kind.refusal(entity.id == config.pool.host).is_some())
        })
        .map(|entity| entity.id.as_str())
        .collect();
    let entities = config.entities.len();
    let members = entities.saturating_sub(excluded.len());
    assert!(members <= entities);
    let actual = if excluded.is_empty() {
        members.to_string()
    } else {
        let named = excluded.iter().take(NAMED_MAX).copied().collect::<Vec<_>>().join(", ");
        let more = excluded.len().saturating_sub(NAMED_MAX);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        let verb = if excluded.len() == 1 { "is not a member: it may" } else { "are not members: they may" };
        format!("{members} ({entities} entities in the group; {named}{more} {verb} not take part)")
    };
    Criterion {
        entity: None,
        criterion: "members_min".into(),
        threshold: thresholds.members_min.to_string(),
        actual,
        met: u64::try_from(members).unwrap_or(u64::MAX) >= u64::from(thresholds.members_min),
        checked: true,
    }
}

/// A rule checked member by member on a value the figures file may leave out.
struct MemberRule {
    /// The criterion's code.
    code: &'static str,
    /// The figures file's column that gives the value.
    column: &'static str,
    /// What each member must be.
    threshold: &'static str,
    /// What the whole pool must be (the threshold of the one criterion when no row gives the value).
    threshold_pool: &'static str,
}

const MEMBER_TYPE_RULE: MemberRule = MemberRule {
    code: "member_type",
    column: "member_type",
    threshold: "enterprise, or finance_company as the host",
    threshold_pool: "each member an enterprise, or a finance company as the host",
};

const TRADE_RATING_RULE: MemberRule = MemberRule {
    code: "trade_rating_a",
    column: "trade_rating",
    threshold: "A, or not on SAFE's goods-trade list",
    threshold_pool: "each member on SAFE's goods-trade list in category A",
};

/// The criteria of `rule` for `members` (entity id and row, in group order):
/// one per member, from `outcome` (`actual` and `met`, or `None` when the row
/// does not give the value: not checked); or, when no row gives it, one for
/// the pool, not checked.
fn per_member_rule(
    members: &[(&str, &MemberFigures)],
    rule: &MemberRule,
    outcome: impl Fn(&str, &MemberFigures) -> Option<(String, bool)>,
) -> Vec<Criterion> {
    let outcomes: Vec<Option<(String, bool)>> = members.iter().map(|(id, row)| outcome(id, row)).collect();
    assert_eq!(outcomes.len(), members.len());
    if outcomes.iter().all(Option::is_none) {
        return vec![Criterion {
            entity: None,
            criterion: rule.code.into(),
            threshold: rule.threshold_pool.into(),
            actual: format!(
                "not checked: the figures give no `{}`; add the `{}` column to the figures file",
                rule.column, rule.column
            ),
            met: false,
            checked: false,
        }];
    }
    members
        .iter()
        .zip(outcomes)
        .map(|((id, _), outcome)| {
            let (actual, met, checked) = match outcome {
                Some((actual, met)) => (actual, met, true),
                None => (format!("not checked: no `{}` in this member's figures", rule.column), false, false),
            };
            Criterion {
                entity: Some((*id).to_string()),
                criterion: rule.code.into(),
                threshold: rule.threshold.into(),
                actual,
                met,
                checked,
            }
        })
        .collect()
}

/// `member_type` of one member (银发〔2025〕251号 item 1): what it is, and whether it may take part.
fn member_type_outcome(kind: MemberType, id: &str, host: &str) -> (String, bool) {
    let is_host = id == host;
    match kind.refusal(is_host) {
        None if is_host && kind == MemberType::FinanceCompany => (format!("{}, the host", kind.as_str()), true),
        None => (kind.as_str().to_string(), true),
        Some(reason) => (format!("{}: {reason}", kind.as_str()), false),
    }
}

/// `trade_rating_a` of one member (银发〔2025〕251号 item 3): its category, and whether it meets the rule.
fn trade_rating_outcome(rating: TradeRating) -> (String, bool) {
    let actual = match rating {
        TradeRating::A => "A".to_string(),
        TradeRating::NotListed => "not on SAFE's goods-trade list".to_string(),
        TradeRating::B | TradeRating::C => {
            format!("{}: a member on SAFE's goods-trade list must be category A", rating.as_str())
        }
    };
    (actual, rating.meets_rule())
}
