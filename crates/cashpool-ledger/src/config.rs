//! The group definition: parsing and validating the TOML file that describes
//! a cash pool (see `examples/lingang-group.toml`).
//!
//! [`parse_group_config`] reads the text in two steps:
//!
//! 1. **Structure**: serde with `deny_unknown_fields` reads the tables and
//!    keys. An unknown key, a value of the wrong TOML type or a missing
//!    required key stops here with one error that names the key path and line.
//! 2. **Meaning**: every value is checked (ids, currencies, amounts, rates,
//!    dates, references between entities, accounts and sweep rules) and
//!    *every* problem is reported, each with its key path
//!    (`account[4].currencies[1]`, `sweep[0].into`) and line.
//!
//! Amounts and rates are quoted decimal strings: a TOML float is rejected
//! because a binary float is not an exact amount of money. Amounts are stored
//! at their currency's minor units (see [`crate::money::to_currency_scale`]);
//! rates and regulatory parameters are stored normalized.
//!
//! Dated rows ([`LimitRow`], [`QuotaRow`], [`ParameterRow`]) apply from their
//! `effective` date until the next row: the row with the latest `effective`
//! on or before a value date applies.
//!
//! # Optional sections
//!
//! **`[[macro_prudential]]`** (top level): the dated history of the
//! macro-prudential parameter of full-scope cross-border financing
//! (银发〔2016〕132号), one row per change, `effective` strictly increasing and
//! `parameter` a quoted decimal greater than 0:
//!
//! ```toml
//! [[macro_prudential]]
//! effective = "2023-07-20"
//! parameter = "1.5"
//!
//! [[macro_prudential]]
//! effective = "2025-01-13"
//! parameter = "1.75"
//! ```
//!
//! Without the section, the published history applies
//! ([`ParameterRow::default_history`]): 1 from 2017-01-11, 1.25 from
//! 2020-03-12, 1 from 2021-01-07, 1.25 from 2022-10-25, 1.5 from 2023-07-20,
//! 1.75 from 2025-01-13. Read it with
//! [`GroupConfig::macro_prudential_at`]. (The pool's own quota parameter stays
//! in `[[pool.limits]]`; this history is the national parameter, e.g. for an
//! entity's own cap.)
//!
//! **`[[risk_factors]]`** (top level): the dated factors that weigh
//! cross-border financing (银发〔2017〕9号, [`RiskFactors`]), `effective`
//! strictly increasing, every factor optional (a quoted decimal; the
//! published value when left out): `short_term` (1.5), `long_term` (1),
//! `category` (1), `fx` (0.5, may be 0), `leverage` (2). Without the section
//! the published row applies from 2017-01-11 ([`RiskFactors::default_history`]).
//!
//! **`[pool.eligibility]`**: the thresholds of the pool's eligibility check
//! ([`crate::eligibility`]), every key optional, defaults from 银发〔2025〕251号:
//!
//! ```toml
//! [pool.eligibility]
//! onshore_cross_border_min = "7000000000.00"   # onshore members' cross-border receipts + payments, previous year
//! onshore_revenue_min = "10000000000.00"       # onshore members' revenue, previous year
//! offshore_revenue_min = "2000000000.00"       # offshore members' revenue, previous year
//! members_min = 3                              # entities of the group, host included
//! violation_free_years = 2                     # years without a major violation
//! ```
//!
//! Amounts are in the group's base currency (at most its minor units, 0 or
//! more); the counts are whole TOML numbers. The defaults are RMB amounts: a
//! group whose base currency is not CNY should state its own equivalents.
//!
//! **`[[entity.withholding]]`** (offshore entities only): the dated rates
//! withheld on interest the pool pays to the entity (DOMAIN §5;
//! docs/SWEEPS.md, "Withholding"), `effective` strictly increasing, every
//! rate optional, a quoted fraction in `[0, 1)`:
//!
//! ```toml
//! [[entity.withholding]]
//! effective = "2008-01-01"
//! income_tax_rate = "0.07"                  # the treaty's rate, of the interest without VAT
//! # vat_rate = "0.06"                       # of the interest without VAT
//! # urban_maintenance_rate = "0.07"         # of the VAT
//! # education_surcharge_rate = "0.03"       # of the VAT
//! # local_education_surcharge_rate = "0.02" # of the VAT
//! ```
//!
//! A rate a row leaves out follows the national rules on the value date
//! ([`WithholdingRates::national`]); an offshore entity without rows bears
//! them all. The older key `withholding_tax_rate` (one fraction on the
//! entity) still loads, read as the income tax rate on every date; an entity
//! gives that key or rows, not both.
//!
//! **`[[interest]]`** rows may be dated, a member's own, and priced on a
//! benchmark (docs/SWEEPS.md, "Interest as treasuries set it";
//! [`InterestRule`], [`BenchmarkTerms`]): `effective` (from that date until
//! the next row of the same currency and member; absent, from the
//! beginning), `entity` (a member's own terms, which win over the pool's),
//! and either `credit_rate` and `debit_rate` or `benchmark` with
//! `credit_margin` and `debit_margin` (percent per annum, -100 to 100) and
//! the optional `benchmark_floor`, `credit_floor`, `debit_floor`,
//! `credit_cap`, `debit_cap`, `lookback_days` and `stale_after_days`:
//!
//! ```toml
//! [[interest]]
//! currency = "USD"
//! entity = "LGT-HK"
//! effective = "2026-01-01"
//! day_count = "ACT/360"
//! benchmark = "SOFR"
//! credit_margin = "-0.25"
//! debit_margin = "1.50"
//! credit_floor = "0"
//! ```
//!
//! No two rows share a currency, member and `effective`.
//! **`[pool.calendars]`**, **`[[account]] calendars`**, **`[pool]
//! non_business_value_dates`** and **`[[sweep]] roll`**: the business-day
//! calendars ([`crate::calendar`]; docs/SWEEPS.md, "Business days"), every
//! key optional:
//!
//! ```toml
//! [pool]
//! non_business_value_dates = "warn"   # or "refuse" (not_business_day); default "warn"
//!
//! [pool.calendars]                    # the calendars that govern each currency
//! CNY = ["CN"]
//! USD = ["US"]
//!
//! [[account]]
//! calendars = ["HK"]                  # the account's own market, on top of its currencies'
//!
//! [[sweep]]
//! roll = "following"                  # or "modified_following", "none"; default "following"
//! ```
//!
//! A day is a business day for a posting when it is open in every calendar of
//! its currency and of its account, for a sweep rule in every calendar of its
//! currency and of both its accounts ([`CalendarRules`]). A definition that
//! names no calendar has every day a business day, as before calendars
//! existed; `roll` on a rule that no calendar governs is an error.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use toml::{Spanned, Value};

use crate::model::{AccountKind, AccountSpec, Zone, EXTERNAL_ENTITY, SYSTEM_ACCOUNT_PREFIX};
use crate::money::{parse_decimal, to_currency_scale, Currency, MoneyError};

/// The longest id (group, pool, entity, account, bank id), in bytes.
pub(crate) const ID_LEN_MAX: usize = 64;
/// The longest display name (group, entity), in bytes.
pub(crate) const NAME_LEN_MAX: usize = 256;
/// The fewest entities a pool may have (one host and its members).
pub(crate) const ENTITIES_MIN: usize = 3;

// ---------------------------------------------------------------------------------------------
// The validated configuration
// ---------------------------------------------------------------------------------------------

/// A validated group definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    /// The `[group]` table.
    pub group: GroupInfo,
    /// The `[pool]` table with its dated limit rows.
    pub pool: PoolConfig,
    /// The `[[entity]]` tables, in file order.
    pub entities: Vec<Entity>,
    /// The `[[account]]` tables, in file order (zone always set, currencies
    /// sorted, overdrafts sorted by currency and at the currency's minor units).
    pub accounts: Vec<AccountSpec>,
    /// The `[[sweep]]` rules, in file order.
    pub sweeps: Vec<SweepRule>,
    /// The `[[interest]]` rules, in file order (one per currency).
    pub interest: Vec<InterestRule>,
    /// The `[[macro_prudential]]` parameter history, `effective` strictly
    /// increasing (at least one row); [`ParameterRow::default_history`] when
    /// the file has no such section.
    pub macro_prudential: Vec<ParameterRow>,
    /// The `[[risk_factors]]` history of the weights of foreign debt,
    /// `effective` strictly increasing (at least one row);
    /// [`RiskFactors::default_history`] when the file has no such section.
    pub risk_factors: Vec<RiskFactors>,
}

impl GroupConfig {
    /// The entity with this id.
    pub fn entity(&self, id: &str) -> Option<&Entity> {
        self.entities.iter().find(|entity| entity.id == id)
    }

    /// The account with this id.
    pub fn account(&self, id: &str) -> Option<&AccountSpec> {
        self.accounts.iter().find(|account| account.id == id)
    }

    /// The first pool-wide `[[interest]]` row of this currency (in file order):
    /// the currency's terms when the definition gives one row per currency.
    pub fn interest_rule(&self, currency: Currency) -> Option<&InterestRule> {
        self.interest.iter().find(|rule| rule.currency == currency && rule.entity.is_none())
    }

    /// The `[[interest]]` row in force on `date` for `entity`'s position in
    /// `currency`, with its index in [`GroupConfig::interest`]: the entity's own
    /// row with the latest `effective` on or before `date`, else the pool's
    /// row so chosen; `None` when neither has begun.
    pub fn interest_rule_at(
        &self,
        entity: &str,
        currency: Currency,
        date: NaiveDate,
    ) -> Option<(usize, &InterestRule)> {
        let latest = |own: bool| {
            self.interest
                .iter()
                .enumerate()
                .filter(|(_, rule)| rule.currency == currency && rule.starts() <= date)
                .filter(|(_, rule)| if own { rule.entity.as_deref() == Some(entity) } else { rule.entity.is_none() })
                .max_by_key(|(_, rule)| rule.starts())
        };
        latest(true).or_else(|| latest(false))
    }

    /// Whether any `[[interest]]` row concerns `entity`'s position in `currency` (its own or the pool's).
    pub fn has_interest_terms(&self, entity: &str, currency: Currency) -> bool {
        self.interest
            .iter()
            .any(|rule| rule.currency == currency && rule.entity.as_deref().is_none_or(|own| own == entity))
    }

    /// The macro-prudential parameter row that applies on `date`: the latest
    /// `effective` on or before it, or `None` before the first row.
    pub fn macro_prudential_at(&self, date: NaiveDate) -> Option<&ParameterRow> {
        self.macro_prudential.iter().rev().find(|row| row.effective <= date)
    }

    /// The risk factors in force on `date` (the latest row on or before it;
    /// the first row before every row, the published ones without any).
    pub fn risk_factors_at(&self, date: NaiveDate) -> RiskFactors {
        self.risk_factors
            .iter()
            .rev()
            .find(|row| row.effective <= date)
            .or(self.risk_factors.first())
            .cloned()
            .unwrap_or_else(RiskFactors::published)
    }

    /// The latest risk factors.
    pub fn risk_factors_latest(&self) -> RiskFactors {
        self.risk_factors.last().cloned().unwrap_or_else(RiskFactors::published)
    }
}

/// One dated row of the factors that weigh cross-border financing
/// (`[[risk_factors]]`; 银发〔2017〕9号, DOMAIN §3): the risk-weighted balance
/// is Σ balance × maturity factor × category factor + Σ foreign-currency
/// balance × FX factor, and an entity's cap is net assets × leverage ×
/// macro-prudential parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskFactors {
    /// The first date the row applies to.
    pub effective: NaiveDate,
    /// 期限风险转换因子 for a term of up to a year (by calendar date): 1.5.
    pub short_term: Decimal,
    /// 期限风险转换因子 for a longer term: 1.
    pub long_term: Decimal,
    /// 类别风险转换因子 of on-balance-sheet financing: 1.
    pub category: Decimal,
    /// 汇率风险折算因子 added for foreign-currency debt: 0.5.
    pub fx: Decimal,
    /// 跨境融资杠杆率 of an enterprise: 2 (times net assets).
    pub leverage: Decimal,
}

impl RiskFactors {
    /// The factors of 银发〔2017〕9号 (in force from 2017-01-11): maturity 1.5
    /// (up to a year) or 1, category 1, FX 0.5, leverage 2 for enterprises.
    pub fn published() -> RiskFactors {
        RiskFactors {
            effective: NaiveDate::from_ymd_opt(2017, 1, 11).expect("a valid date"),
            short_term: Decimal::new(15, 1),
            long_term: Decimal::ONE,
            category: Decimal::ONE,
            fx: Decimal::new(5, 1),
            leverage: Decimal::TWO,
        }
    }

    /// The history used when a definition has no `[[risk_factors]]`: the published row alone.
    pub fn default_history() -> Vec<RiskFactors> {
        vec![RiskFactors::published()]
    }
}

/// One dated row of the macro-prudential parameter (`[[macro_prudential]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterRow {
    /// The first date the row applies to.
    pub effective: NaiveDate,
    /// The macro-prudential parameter, > 0 (normalized: `1.75`, `1`).
    pub parameter: Decimal,
}

impl ParameterRow {
    /// The published history of the parameter (DOMAIN §3), used when a group
    /// definition has no `[[macro_prudential]]` section: 1 from 2017-01-11
    /// (银发〔2017〕9号), then by PBOC/SAFE announcements of the day (Xinhua
    /// reports of 2020-03-11, 2021-01-07, 2022-10-25, 2023-07-20, SAFE's of
    /// 2025-01-14): 1.25 from 2020-03-12, 1 from 2021-01-07 (for enterprises),
    /// 1.25 from 2022-10-25, 1.5 from 2023-07-20, 1.75 from 2025-01-13.
    pub fn default_history() -> Vec<ParameterRow> {
        [
            ((2017, 1, 11), 1, 0),
            ((2020, 3, 12), 125, 2),
            ((2021, 1, 7), 1, 0),
            ((2022, 10, 25), 125, 2),
            ((2023, 7, 20), 15, 1),
            ((2025, 1, 13), 175, 2),
        ]
        .into_iter()
        .filter_map(ParameterRow::published)
        .collect()
    }

    /// A published row: (year, month, day) and the parameter as mantissa and scale.
    fn published(((year, month, day), mantissa, scale): ((i32, u32, u32), i64, u32)) -> Option<ParameterRow> {
        Some(ParameterRow {
            effective: NaiveDate::from_ymd_opt(year, month, day)?,
            parameter: Decimal::new(mantissa, scale),
        })
    }

    /// The history a definition without `[[macro_prudential]]` had while
    /// format 1 of the journal was written (1.25 from 2016-05-03, 1 from
    /// 2021-01-07, 1.5 from 2023-07-20, 1.75 from 2025-01-13): a format-1
    /// journal keeps the TOML, not the rows, so its replay needs the default
    /// of its day ([`parse_format_1_definition`]).
    fn format_1_default_history() -> Vec<ParameterRow> {
        [((2016, 5, 3), 125, 2), ((2021, 1, 7), 1, 0), ((2023, 7, 20), 15, 1), ((2025, 1, 13), 175, 2)]
            .into_iter()
            .filter_map(ParameterRow::published)
            .collect()
    }
}

/// Parses the group definition a format-1 journal recorded as TOML, with the
/// defaults of the rules it was posted under: a definition that leaves out
/// `quota_model` is `net_position`, one that leaves out `[[macro_prudential]]`
/// has the history of [`ParameterRow::format_1_default_history`]. (A
/// format-2 journal records the validated definition, defaults included.)
pub(crate) fn parse_format_1_definition(text: &str) -> Result<GroupConfig, ConfigErrors> {
    let mut config = parse_group_config(text)?;
    let table: Option<toml::Table> = text.parse().ok();
    let has = |path: &[&str]| {
        let mut value: Option<&Value> = None;
        for (idx, key) in path.iter().enumerate() {
            value = if idx == 0 { table.as_ref().and_then(|t| t.get(*key)) } else { value.and_then(|v| v.get(*key)) };
        }
        value.is_some()
    };
    if !has(&["pool", "quota_model"]) {
        config.pool.quota_model = QuotaModel::NetPosition;
    }
    if !has(&["macro_prudential"]) {
        config.macro_prudential = ParameterRow::format_1_default_history();
    }
    Ok(config)
}

/// The `[group]` table: who runs the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// The group's id.
    pub id: String,
    /// The group's display name.
    pub name: String,
    /// The reporting currency: limits, owners' equity and net assets are in it.
    pub base_currency: Currency,
}

/// The `[pool]` table: the host, its master accounts and the regulatory limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// The pool's id.
    pub id: String,
    /// The host entity (主办企业): a declared onshore entity.
    pub host: String,
    /// The host's domestic master account (国内资金主账户).
    pub domestic_master: String,
    /// The host's international master account (国际资金主账户).
    pub international_master: String,
    /// The currency multilateral netting settles in.
    pub netting_currency: Currency,
    /// Dated limit parameters, `effective` strictly increasing (at least one row).
    pub limits: Vec<LimitRow>,
    /// The thresholds of the eligibility check (`[pool.eligibility]`), each
    /// defaulting to [`EligibilityThresholds::default_in`] the base currency.
    pub eligibility: EligibilityThresholds,
    /// How a movement across the second line between *different* entities is
    /// judged (`second_line_between_entities`; docs/LIMITS.md, "The second line").
    pub second_line_between_entities: SecondLineRule,
    /// How the pool's two caps are measured (`quota_model`; docs/LIMITS.md,
    /// "The pool's cross-border caps").
    pub quota_model: QuotaModel,
    /// Which business-day calendars govern the pool's currencies and accounts.
    pub calendars: CalendarRules,
}

/// How the pool measures its use of the foreign-debt quota (net inflow cap)
/// and the overseas-lending quota (net outflow cap), `[pool] quota_model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaModel {
    /// `"separate"`, the default of a new definition (银发〔2025〕251号): the
    /// foreign-debt quota and the overseas-lending quota are kept apart.
    /// Foreign debt (what the onshore side owes abroad: sweeps in, intra-pool
    /// and external foreign-debt loans of onshore members) is risk-weighted
    /// (银发〔2016〕132号); overseas lending (what abroad owes the onshore
    /// side) is not; neither nets against the other, and a repayment of a
    /// named loan frees its headroom.
    Separate,
    /// `"net_position"`: one net position, the sum of every counted movement
    /// (inflow positive), against the inflow cap when positive and the
    /// outflow cap when negative. The rules of stores begun before
    /// `quota_model` existed (a journaled definition without the key).
    NetPosition,
}

impl QuotaModel {
    /// The TOML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaModel::Separate => "separate",
            QuotaModel::NetPosition => "net_position",
        }
    }

    /// The model with this TOML spelling.
    pub fn parse(text: &str) -> Option<QuotaModel> {
        [QuotaModel::Separate, QuotaModel::NetPosition].into_iter().find(|model| model.as_str() == text)
    }
}

/// How the ledger judges a movement between an FT account and an ordinary
/// onshore account of *different* entities (`[pool]
/// second_line_between_entities`). Between one entity's own FT and ordinary
/// accounts (同名划转) the same-name rules always apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecondLineRule {
    /// `"cross_border"` (the default): as a cross-border movement, like one
    /// between onshore and offshore (银发〔2013〕244号: flows between a resident
    /// FT account and ordinary accounts outside the zone are managed as
    /// cross-border business, 视同跨境业务管理); a pool sweep counts toward
    /// the pool's caps.
    #[default]
    CrossBorder,
    /// `"same_name"`: by the same-name rules too (only `current_account`,
    /// `loan_repayment` and `real_investment`, only CNY), for a bank that
    /// applies them to every transfer across the second line.
    SameName,
}

impl SecondLineRule {
    /// The TOML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SecondLineRule::CrossBorder => "cross_border",
            SecondLineRule::SameName => "same_name",
        }
    }

    /// The rule with this TOML spelling.
    pub fn parse(text: &str) -> Option<SecondLineRule> {
        [SecondLineRule::CrossBorder, SecondLineRule::SameName].into_iter().find(|rule| rule.as_str() == text)
    }
}

impl PoolConfig {
    /// The limit row that applies on `date`: the latest `effective` on or
    /// before it, or `None` before the first row.
    pub fn limits_at(&self, date: NaiveDate) -> Option<&LimitRow> {
        self.limits.iter().rev().find(|row| row.effective <= date)
    }
}

/// The thresholds of the pool's eligibility check (`[pool.eligibility]`,
/// 银发〔2025〕251号 item 3), used by [`crate::eligibility::check_eligibility`].
///
/// Amounts are previous-year figures in the group's base currency, at its
/// minor units. [`Default`] gives the regulation's values at CNY's minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityThresholds {
    /// The least previous-year cross-border receipts + payments of the onshore
    /// members (RMB 7 bn by default).
    pub onshore_cross_border_min: Decimal,
    /// The least previous-year revenue of the onshore members (RMB 10 bn by default).
    pub onshore_revenue_min: Decimal,
    /// The least previous-year revenue of the offshore members (RMB 2 bn by default).
    pub offshore_revenue_min: Decimal,
    /// The fewest members of the group, host included (3 by default): its
    /// entities, less those whose member type may not take part (see
    /// [`crate::eligibility::MemberType::refusal`]).
    pub members_min: u32,
    /// How many years before the check date must be free of a major violation (2 by default).
    pub violation_free_years: u32,
}

impl EligibilityThresholds {
    /// The regulation's thresholds with the amounts at `base`'s minor units.
    /// The amounts are the RMB figures whatever `base` is: convert them when
    /// the base currency is not CNY.
    pub fn default_in(base: Currency) -> EligibilityThresholds {
        let at_scale = |units: i64| {
            let mut amount = Decimal::from(units);
            amount.rescale(base.minor_units());
            amount
        };
        EligibilityThresholds {
            onshore_cross_border_min: at_scale(7_000_000_000),
            onshore_revenue_min: at_scale(10_000_000_000),
            offshore_revenue_min: at_scale(2_000_000_000),
            members_min: 3,
            violation_free_years: 2,
        }
    }
}

impl Default for EligibilityThresholds {
    /// [`EligibilityThresholds::default_in`] CNY: `7000000000.00`,
    /// `10000000000.00`, `2000000000.00`, 3 entities, 2 years.
    fn default() -> EligibilityThresholds {
        EligibilityThresholds {
            onshore_cross_border_min: Decimal::new(700_000_000_000, 2),
            onshore_revenue_min: Decimal::new(1_000_000_000_000, 2),
            offshore_revenue_min: Decimal::new(200_000_000_000, 2),
            members_min: 3,
            violation_free_years: 2,
        }
    }
}

/// One dated row of the pool's cross-border limit parameters.
///
/// Net inflow cap = `owners_equity × inflow_leverage × inflow_parameter`;
/// net outflow cap = `owners_equity × outflow_coefficient`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitRow {
    /// The first value date the row applies to.
    pub effective: NaiveDate,
    /// The pooled owners' equity, in the group's base currency (minor units).
    pub owners_equity: Decimal,
    /// The cross-border financing leverage (normalized).
    pub inflow_leverage: Decimal,
    /// The macro-prudential parameter (normalized).
    pub inflow_parameter: Decimal,
    /// The overseas-lending coefficient (normalized).
    pub outflow_coefficient: Decimal,
}

/// Where an entity is resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Residence {
    /// A resident (domestic) legal person.
    Onshore,
    /// A non-resident legal person.
    Offshore,
}

impl Residence {
    /// The TOML spelling: `"onshore"`, `"offshore"`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Residence::Onshore => "onshore",
            Residence::Offshore => "offshore",
        }
    }
}

/// A legal entity of the group: the host or a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// The entity's id (never `EXTERNAL`).
    pub id: String,
    /// The entity's display name.
    pub name: String,
    /// Onshore or offshore.
    pub residence: Residence,
    /// Net assets in the group's base currency (minor units), the basis of
    /// the entity's own foreign-debt cap.
    pub net_assets: Option<Decimal>,
    /// The older spelling of the enterprise income tax withheld on interest
    /// the pool pays to the entity (the `withholding_tax_rate` key), as a
    /// fraction in `[0, 1)` (`0.07` is 7 %), normalized: read as that income
    /// tax rate on every date, VAT and surcharges following the national
    /// rules ([`Entity::withholding_at`]). Kept so that group definitions and
    /// journals written before `[[entity.withholding]]` existed load as they were.
    pub withholding_tax_rate: Option<Decimal>,
    /// The dated `[[entity.withholding]]` rows, `effective` strictly
    /// increasing (offshore entities only).
    pub withholding: Vec<WithholdingRow>,
    /// The dated high-tech SME facilitation quota, `effective` strictly increasing.
    pub facilitation_quota: Vec<QuotaRow>,
}

impl Entity {
    /// The facilitation quota row that applies on `date`, if any.
    pub fn facilitation_quota_at(&self, date: NaiveDate) -> Option<&QuotaRow> {
        self.facilitation_quota.iter().rev().find(|row| row.effective <= date)
    }

    /// The rates withheld on interest the pool pays to this entity with a
    /// value date of `date` (DOMAIN §5), or `None` for an onshore (resident)
    /// entity, from which nothing is withheld.
    ///
    /// Start from the national rules on `date` ([`WithholdingRates::national`]);
    /// the older key `withholding_tax_rate`, when given, replaces the income
    /// tax rate; then the entity's `[[entity.withholding]]` row that applies on
    /// `date` (the latest `effective` on or before it) replaces each rate it
    /// sets. A rate the row leaves out follows the national rules on `date`.
    ///
    /// ```
    /// use cashpool_ledger::config::{Entity, Residence, WithholdingRates, WithholdingRow};
    /// use chrono::NaiveDate;
    /// use rust_decimal::Decimal;
    ///
    /// let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    /// let singapore = Entity {
    ///     id: "LGT-SG".into(),
    ///     name: "Lingang Technology Singapore Pte. Ltd.".into(),
    ///     residence: Residence::Offshore,
    ///     net_assets: None,
    ///     withholding_tax_rate: None,
    ///     withholding: vec![WithholdingRow {
    ///         effective: day(2008, 1, 1),
    ///         income_tax_rate: Some(Decimal::new(10, 2)),
    ///         ..WithholdingRow::default()
    ///     }],
    ///     facilitation_quota: Vec::new(),
    /// };
    /// // 2020: 10 % income tax, 6 % VAT, and the surcharges on the VAT (7 %, 3 %, 2 %).
    /// let before = singapore.withholding_at(day(2020, 6, 30)).unwrap();
    /// assert_eq!((before.vat, before.urban_maintenance), (Decimal::new(6, 2), Decimal::new(7, 2)));
    /// // From 2021-09-01 no surcharge is levied on VAT withheld for a payee abroad.
    /// let after = singapore.withholding_at(day(2026, 11, 30)).unwrap();
    /// assert_eq!(after.income_tax, Decimal::new(10, 2));
    /// assert_eq!(after.urban_maintenance + after.education_surcharge + after.local_education_surcharge, Decimal::ZERO);
    /// ```
    pub fn withholding_at(&self, date: NaiveDate) -> Option<WithholdingRates> {
        if self.residence == Residence::Onshore {
            return None;
        }
        let mut rates = WithholdingRates::national(date);
        if let Some(rate) = self.withholding_tax_rate {
            rates.income_tax = rate;
        }
        if let Some(row) = self.withholding.iter().rev().find(|row| row.effective <= date) {
            let set = |rate: Option<Decimal>, national: Decimal| rate.unwrap_or(national);
            rates.income_tax = set(row.income_tax_rate, rates.income_tax);
            rates.vat = set(row.vat_rate, rates.vat);
            rates.urban_maintenance = set(row.urban_maintenance_rate, rates.urban_maintenance);
            rates.education_surcharge = set(row.education_surcharge_rate, rates.education_surcharge);
            rates.local_education_surcharge = set(row.local_education_surcharge_rate, rates.local_education_surcharge);
        }
        Some(rates)
    }
}

/// One dated row of an entity's `[[entity.withholding]]`: the rates withheld
/// on interest the pool pays to it from `effective` until the next row. Each
/// rate is a fraction in `[0, 1)`, normalized; `None` where the row leaves
/// the rate to the national rules ([`WithholdingRates::national`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WithholdingRow {
    /// The first value date the row applies to.
    pub effective: NaiveDate,
    /// Enterprise income tax, of the interest without VAT (`income_tax_rate`).
    pub income_tax_rate: Option<Decimal>,
    /// VAT, of the interest without VAT (`vat_rate`).
    pub vat_rate: Option<Decimal>,
    /// Urban maintenance and construction tax, of the VAT (`urban_maintenance_rate`).
    pub urban_maintenance_rate: Option<Decimal>,
    /// Education surcharge, of the VAT (`education_surcharge_rate`).
    pub education_surcharge_rate: Option<Decimal>,
    /// Local education surcharge, of the VAT (`local_education_surcharge_rate`).
    pub local_education_surcharge_rate: Option<Decimal>,
}

/// The rates a PRC payer withholds on interest paid to a non-resident on one
/// date (DOMAIN §5; docs/SWEEPS.md, "Withholding"), each a fraction in `[0, 1)`.
///
/// The interest paid is the price including VAT. The VAT is
/// `interest ÷ (1 + vat) × vat` and the income tax is levied on the interest
/// without VAT; the surcharges are levied on the VAT ([`crate::withholding`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WithholdingRates {
    /// Enterprise income tax (企业所得税), of the interest without VAT.
    pub income_tax: Decimal,
    /// VAT (增值税) on the loan service, of the interest without VAT.
    pub vat: Decimal,
    /// Urban maintenance and construction tax (城市维护建设税), of the VAT.
    pub urban_maintenance: Decimal,
    /// Education surcharge (教育费附加), of the VAT.
    pub education_surcharge: Decimal,
    /// Local education surcharge (地方教育附加), of the VAT.
    pub local_education_surcharge: Decimal,
}

/// The national rules' dates: VAT replaced business tax on financial services (财税〔2016〕36号).
const VAT_FROM: (i32, u32, u32) = (2016, 5, 1);
/// From this date no surcharge is levied on VAT paid on services a payee abroad sells into China
/// (城市维护建设税法 article 3; 财政部 税务总局公告2021年第28号 items 1 and 2, for both education surcharges).
const NO_SURCHARGES_FROM: (i32, u32, u32) = (2021, 9, 1);

impl WithholdingRates {
    /// What the national rules withhold on interest paid to a non-resident
    /// enterprise without an establishment in China, on `date`, in the
    /// absence of a treaty (sources in docs/SWEEPS.md, "Withholding"):
    ///
    /// - income tax 10 % (企业所得税法实施条例 article 91), of the interest
    ///   without VAT (国家税务总局公告2013年第9号);
    /// - from 2016-05-01, VAT 6 % on loan services, withheld by the payer as
    ///   `price ÷ (1 + 6 %) × 6 %` (财税〔2016〕36号, annex 1, articles 6, 15 and 20);
    ///   before that date interest bore business tax, which the ledger does
    ///   not model (0 here);
    /// - from 2016-05-01 to 2021-08-31, the surcharges on that VAT at the
    ///   urban-district rates of Shanghai: urban maintenance and construction
    ///   tax 7 %, education surcharge 3 %, local education surcharge 2 %
    ///   (财综〔2010〕98号);
    /// - from 2021-09-01, no surcharge on VAT a payee abroad bears
    ///   (城市维护建设税法 article 3; 财政部 税务总局公告2021年第28号).
    ///
    /// A treaty rate, an exemption or another location's surcharge rates are
    /// the entity's `[[entity.withholding]]` rows.
    pub fn national(date: NaiveDate) -> WithholdingRates {
        let on_or_after = |(year, month, day): (i32, u32, u32)| {
            NaiveDate::from_ymd_opt(year, month, day).is_some_and(|from| date >= from)
        };
        let vat = on_or_after(VAT_FROM);
        let surcharges = vat && !on_or_after(NO_SURCHARGES_FROM);
        let rate = |applies: bool, percent: i64| if applies { Decimal::new(percent, 2) } else { Decimal::ZERO };
        WithholdingRates {
            income_tax: Decimal::new(1, 1),
            vat: rate(vat, 6),
            urban_maintenance: rate(surcharges, 7),
            education_surcharge: rate(surcharges, 3),
            local_education_surcharge: rate(surcharges, 2),
        }
    }
}

/// One dated row of an entity's facilitation quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaRow {
    /// The first value date the row applies to.
    pub(crate) effective: NaiveDate,
    /// The quota in USD (minor units), > 0.
    pub usd_amount: Decimal,
}

/// A sweep rule: how one account's balance in one currency is swept into
/// (and funded from) its header account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepRule {
    /// The swept (member) account.
    pub account: String,
    /// The currency swept; both accounts hold it.
    pub currency: Currency,
    /// The header account the balance is swept into.
    pub into: String,
    /// What balance the rule aims for.
    pub method: SweepMethod,
    /// Which way money may move.
    pub direction: SweepDirection,
    /// Smaller transfers are skipped (in the sweep currency's minor units).
    pub min_transfer: Option<Decimal>,
    /// Larger transfers are capped (in the sweep currency's minor units).
    pub max_transfer: Option<Decimal>,
    /// Transfers are a multiple of this (> 0, in the sweep currency's minor units).
    pub rounding: Option<Decimal>,
    /// Order of funding when the header cannot cover everyone (lower first).
    pub priority: u32,
    /// Whether a funding transfer may be partly made when the header is short.
    pub partial_allowed: bool,
    /// What the rule does on a day that is not a business day for it (`roll`).
    pub roll: Roll,
}

/// What a sweep rule does on a day that is not a business day for it
/// (`[[sweep]] roll`; ISDA 2006 §4.12, read for an end-of-day balance sweep
/// in docs/SWEEPS.md, "Business days").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Roll {
    /// `"following"` (the default): the rule is skipped (`not_business_day`);
    /// the next business day's run sweeps the balance then.
    #[default]
    Following,
    /// `"modified_following"`: as following, but when the next business day
    /// is in the next month, the sweep is brought forward to the month's last
    /// business day, whose run plans the rule on the balance through the end
    /// of the month.
    ModifiedFollowing,
    /// `"none"`: the rule is never rolled: a run on a day that is not a
    /// business day for it is refused (`not_business_day`).
    None,
}

impl Roll {
    /// Every convention, in TOML spelling order.
    pub const ALL: [Roll; 3] = [Roll::Following, Roll::ModifiedFollowing, Roll::None];

    /// The TOML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Roll::Following => "following",
            Roll::ModifiedFollowing => "modified_following",
            Roll::None => "none",
        }
    }

    /// The convention with this TOML spelling.
    pub fn parse(text: &str) -> Option<Roll> {
        Roll::ALL.into_iter().find(|roll| roll.as_str() == text)
    }
}

/// What the ledger does with a transaction valued on a day that is not a
/// business day for one of its postings (`[pool] non_business_value_dates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueDateRule {
    /// `"warn"` (the default): posted, with a warning in its receipt.
    #[default]
    Warn,
    /// `"refuse"`: refused, `not_business_day` (or `calendar_missing` when a
    /// calendar holds no day of the value date's year).
    Refuse,
}

impl ValueDateRule {
    /// The TOML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueDateRule::Warn => "warn",
            ValueDateRule::Refuse => "refuse",
        }
    }

    /// The rule with this TOML spelling.
    pub fn parse(text: &str) -> Option<ValueDateRule> {
        [ValueDateRule::Warn, ValueDateRule::Refuse].into_iter().find(|rule| rule.as_str() == text)
    }
}

/// Which business-day calendars govern what (`[pool.calendars]`,
/// `[[account]] calendars`, `[pool] non_business_value_dates`). Empty: every
/// day is a business day.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CalendarRules {
    /// The calendars of each currency (each list sorted, each id once).
    pub currencies: BTreeMap<Currency, Vec<String>>,
    /// The calendars of an account's own market, by account id (each list sorted, each id once).
    pub accounts: BTreeMap<String, Vec<String>>,
    /// What a value date on a day that is not a business day does.
    pub value_dates: ValueDateRule,
}

impl CalendarRules {
    /// Whether no calendar governs anything.
    pub fn is_empty(&self) -> bool {
        self.currencies.is_empty() && self.accounts.is_empty()
    }

    /// The calendars that govern a posting in `currency` on `account`: the
    /// currency's and the account's, sorted, each once.
    pub fn for_posting(&self, account: &str, currency: Currency) -> Vec<&str> {
        self.union(&[account], currency)
    }

    /// The calendars that govern a sweep rule: its currency's and both its accounts', sorted, each once.
    pub fn for_rule(&self, rule: &SweepRule) -> Vec<&str> {
        self.union(&[&rule.account, &rule.into], rule.currency)
    }

    fn union(&self, accounts: &[&str], currency: Currency) -> Vec<&str> {
        let mut ids: Vec<&str> = self.currencies.get(&currency).into_iter().flatten().map(String::as_str).collect();
        for account in accounts {
            ids.extend(self.accounts.get(*account).into_iter().flatten().map(String::as_str));
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// The sweep method and its parameters (amounts in the sweep currency's minor units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepMethod {
    /// Sweep the whole credit balance; cover an overdraft to zero.
    Zero,
    /// Sweep the excess over `target`; top up to `target`.
    Target {
        /// The balance to leave on the account.
        target: Decimal,
    },
    /// Sweep everything once the balance reaches `threshold`; cover to zero when negative.
    Threshold {
        /// The balance from which everything is swept.
        threshold: Decimal,
    },
    /// Sweep the excess over `max` back to `max`; top up to `min` when below `min`.
    Range {
        /// The lower bound of the balance (`min ≤ max`).
        min: Decimal,
        /// The upper bound of the balance.
        max: Decimal,
    },
}

impl SweepMethod {
    /// The TOML spelling: `"zero"`, `"target"`, `"threshold"`, `"range"`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            SweepMethod::Zero => "zero",
            SweepMethod::Target { .. } => "target",
            SweepMethod::Threshold { .. } => "threshold",
            SweepMethod::Range { .. } => "range",
        }
    }
}

/// Which way a sweep rule moves money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SweepDirection {
    /// Member → header only (concentration).
    Up,
    /// Header → member only (funding).
    Down,
    /// Both ways.
    Both,
}

/// One `[[interest]]` row: the intercompany interest terms of one currency,
/// for the pool or for one member, from a date (docs/SWEEPS.md, "Interest as
/// treasuries set it").
///
/// A fixed row gives the rates themselves; a benchmark row (`benchmark` set)
/// gives margins over the fixing of a series, and the rate of a day is the
/// fixing in force plus the margin, held between the row's floor and cap
/// ([`BenchmarkTerms`]). Either way `credit_rate`, `debit_rate` and each
/// tier's rates are percent per annum: the rates of a fixed row, the margins
/// (which may be negative) of a benchmark row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterestRule {
    /// The currency of the intercompany positions.
    pub currency: Currency,
    /// The member whose own terms these are (`entity`); `None`: the pool's
    /// terms, for every member without terms of its own on the day.
    pub entity: Option<String>,
    /// The first day the row applies to (`effective`); it applies until the
    /// next row of the same currency and member. `None`: from the beginning.
    pub effective: Option<NaiveDate>,
    /// The day-count convention.
    pub day_count: DayCount,
    /// Fixed row: percent per annum paid to a member lending to the pool
    /// (normalized, 0..=100). Benchmark row: the credit margin over the fixing
    /// (`credit_margin`, -100..=100).
    pub credit_rate: Decimal,
    /// Fixed row: percent per annum charged to a member borrowing from the pool
    /// (normalized, 0..=100). Benchmark row: the debit margin (`debit_margin`).
    pub debit_rate: Decimal,
    /// Optional tiers, `from` strictly increasing: rates of a fixed row, margins of a benchmark row.
    pub tiers: Vec<InterestTier>,
    /// The benchmark a row prices on; `None`: a fixed row.
    pub benchmark: Option<BenchmarkTerms>,
}

impl InterestRule {
    /// A fixed pool-wide row from the beginning (the only kind of row before
    /// rows were dated): `credit_rate` and `debit_rate` percent per annum.
    pub fn fixed(
        currency: Currency,
        day_count: DayCount,
        credit_rate: Decimal,
        debit_rate: Decimal,
        tiers: Vec<InterestTier>,
    ) -> InterestRule {
        InterestRule {
            currency,
            entity: None,
            effective: None,
            day_count,
            credit_rate,
            debit_rate,
            tiers,
            benchmark: None,
        }
    }

    /// The first day the row applies to (`NaiveDate::MIN` for a row from the beginning).
    pub fn starts(&self) -> NaiveDate {
        self.effective.unwrap_or(NaiveDate::MIN)
    }
}

/// How a benchmark row turns a fixing into the rates of a day.
///
/// The fixing in force on day `d` is the latest fixing of `series` dated on or
/// before `d − lookback_days`; it must be at most `stale_after_days` older
/// than that date, or the day has no fixing and an interest run over it is
/// refused. The fixing is first raised to `benchmark_floor`, where set; each
/// band's rate is then the fixing plus the band's margin, raised to the floor
/// and lowered to the cap of its side, where the row sets them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchmarkTerms {
    /// The series id ([`crate::benchmarks::check_series`]).
    pub series: String,
    /// The lowest fixing the row prices on, before any margin (the loan
    /// market's "zero floor": a negative fixing counts as zero); `None`: none.
    pub benchmark_floor: Option<Decimal>,
    /// The lowest credit rate, percent per annum (e.g. `0`: a negative
    /// benchmark never makes a lender pay); `None`: no floor.
    pub credit_floor: Option<Decimal>,
    /// The lowest debit rate; `None`: no floor.
    pub debit_floor: Option<Decimal>,
    /// The highest credit rate; `None`: no cap.
    pub credit_cap: Option<Decimal>,
    /// The highest debit rate; `None`: no cap.
    pub debit_cap: Option<Decimal>,
    /// Calendar days between an accrual day and the date of the fixing it uses (0: the day's own).
    pub lookback_days: u32,
    /// How old (in calendar days) the fixing in force may be before a day counts as without one.
    pub stale_after_days: u32,
}

impl BenchmarkTerms {
    /// The default of `stale_after_days` for a series: 40 days for a series
    /// whose id starts `LPR-` (published monthly, on the 20th or the next
    /// business day), 14 for every other (daily series; the longest gaps
    /// between fixings are the Chinese holidays, 9 to 10 days).
    pub fn default_stale_after_days(series: &str) -> u32 {
        if series.starts_with("LPR-") {
            40
        } else {
            14
        }
    }
}

/// The most calendar days a benchmark row may look back.
pub const LOOKBACK_DAYS_MAX: u32 = 31;
/// The most calendar days a fixing may be allowed to age.
pub const STALE_AFTER_DAYS_MAX: u32 = 400;

/// An interest tier: its rates apply to the part of `|balance|` above `from`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InterestTier {
    /// The balance magnitude the tier starts at (> 0, in the rule's currency minor units).
    #[serde(with = "rust_decimal::serde::str")]
    pub from: Decimal,
    /// Percent per annum for credit positions (normalized, 0..=100); the credit margin in a benchmark row.
    #[serde(with = "rust_decimal::serde::str")]
    pub credit_rate: Decimal,
    /// Percent per annum for debit positions (normalized, 0..=100); the debit margin in a benchmark row.
    #[serde(with = "rust_decimal::serde::str")]
    pub debit_rate: Decimal,
}

/// A day-count convention (ISDA 2006 §4.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DayCount {
    /// `"ACT/360"`: actual days / 360.
    Act360,
    /// `"ACT/365F"`: actual days / 365.
    Act365F,
    /// `"30/360"`: bond basis (D1=31→30; D2=31→30 only if D1≥30).
    Thirty360,
    /// `"30E/360"`: Eurobond basis (both 31→30).
    ThirtyE360,
}

impl DayCount {
    /// Every convention, in TOML spelling order.
    pub const ALL: [DayCount; 4] = [DayCount::Act360, DayCount::Act365F, DayCount::Thirty360, DayCount::ThirtyE360];

    /// The TOML spelling: `"ACT/360"`, `"ACT/365F"`, `"30/360"`, `"30E/360"`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DayCount::Act360 => "ACT/360",
            DayCount::Act365F => "ACT/365F",
            DayCount::Thirty360 => "30/360",
            DayCount::ThirtyE360 => "30E/360",
        }
    }

    /// Parses the TOML spelling (exact).
    pub(crate) fn parse(text: &str) -> Option<DayCount> {
        DayCount::ALL.into_iter().find(|dc| dc.as_str() == text)
    }
}

impl serde::Serialize for DayCount {
    /// The TOML spelling.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for DayCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Everything wrong with a group definition (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (idx, error) in self.0.iter().enumerate() {
            if idx > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// One problem in a group definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key path: `account[3].overdraft.CNY`; empty for a TOML syntax error.
    pub path: String,
    /// The 1-based line of the offending value or table, when known.
    pub line: Option<usize>,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    /// `account[3].overdraft.CNY: <message> (line 12)`, or `line 12: <message>`
    /// for a syntax error, which has no key path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.path.is_empty(), self.line) {
            (true, Some(line)) => write!(f, "line {line}: {}", self.message),
            (true, None) => f.write_str(&self.message),
            (false, Some(line)) => write!(f, "{}: {} (line {line})", self.path, self.message),
            (false, None) => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

// ---------------------------------------------------------------------------------------------
// The raw file, as serde reads it
// ---------------------------------------------------------------------------------------------

type Sp<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    group: Sp<RawGroup>,
    pool: Sp<RawPool>,
    #[serde(default)]
    entity: Vec<Sp<RawEntity>>,
    #[serde(default)]
    account: Vec<Sp<RawAccount>>,
    #[serde(default)]
    sweep: Vec<Sp<RawSweep>>,
    #[serde(default)]
    interest: Vec<Sp<RawInterest>>,
    macro_prudential: Option<Sp<Vec<Sp<RawParameterRow>>>>,
    risk_factors: Option<Sp<Vec<Sp<RawRiskFactors>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRiskFactors {
    effective: Sp<Value>,
    short_term: Option<Sp<Value>>,
    long_term: Option<Sp<Value>>,
    category: Option<Sp<Value>>,
    fx: Option<Sp<Value>>,
    leverage: Option<Sp<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameterRow {
    effective: Sp<Value>,
    parameter: Sp<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEligibility {
    onshore_cross_border_min: Option<Sp<Value>>,
    onshore_revenue_min: Option<Sp<Value>>,
    offshore_revenue_min: Option<Sp<Value>>,
    members_min: Option<Sp<Value>>,
    violation_free_years: Option<Sp<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    id: Sp<String>,
    name: Sp<String>,
    base_currency: Sp<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPool {
    id: Sp<String>,
    host: Sp<String>,
    domestic_master: Sp<String>,
    international_master: Sp<String>,
    netting_currency: Sp<String>,
    #[serde(default)]
    limits: Vec<Sp<RawLimit>>,
    eligibility: Option<Sp<RawEligibility>>,
    second_line_between_entities: Option<Sp<String>>,
    quota_model: Option<Sp<String>>,
    non_business_value_dates: Option<Sp<String>>,
    calendars: Option<Sp<BTreeMap<String, Sp<Value>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    effective: Sp<Value>,
    owners_equity: Sp<Value>,
    inflow_leverage: Sp<Value>,
    inflow_parameter: Sp<Value>,
    outflow_coefficient: Sp<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    id: Sp<String>,
    name: Sp<String>,
    residence: Sp<String>,
    net_assets: Option<Sp<Value>>,
    withholding_tax_rate: Option<Sp<Value>>,
    #[serde(default)]
    withholding: Vec<Sp<RawWithholding>>,
    #[serde(default)]
    facilitation_quota: Vec<Sp<RawQuota>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWithholding {
    effective: Sp<Value>,
    income_tax_rate: Option<Sp<Value>>,
    vat_rate: Option<Sp<Value>>,
    urban_maintenance_rate: Option<Sp<Value>>,
    education_surcharge_rate: Option<Sp<Value>>,
    local_education_surcharge_rate: Option<Sp<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuota {
    effective: Sp<Value>,
    usd_amount: Sp<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    id: Sp<String>,
    entity: Sp<String>,
    kind: Sp<String>,
    zone: Sp<String>,
    bank_bic: Option<Sp<String>>,
    bank_id: Option<Sp<String>>,
    currencies: Sp<Vec<Sp<String>>>,
    overdraft: Option<Sp<BTreeMap<String, Sp<Value>>>>,
    calendars: Option<Sp<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    account: Sp<String>,
    currency: Sp<String>,
    into: Sp<String>,
    method: Sp<String>,
    direction: Sp<String>,
    priority: Option<Sp<Value>>,
    target: Option<Sp<Value>>,
    threshold: Option<Sp<Value>>,
    min: Option<Sp<Value>>,
    max: Option<Sp<Value>>,
    min_transfer: Option<Sp<Value>>,
    max_transfer: Option<Sp<Value>>,
    rounding: Option<Sp<Value>>,
    partial_allowed: Option<bool>,
    roll: Option<Sp<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInterest {
    currency: Sp<String>,
    entity: Option<Sp<String>>,
    effective: Option<Sp<Value>>,
    day_count: Sp<String>,
    credit_rate: Option<Sp<Value>>,
    debit_rate: Option<Sp<Value>>,
    benchmark: Option<Sp<String>>,
    benchmark_floor: Option<Sp<Value>>,
    credit_margin: Option<Sp<Value>>,
    debit_margin: Option<Sp<Value>>,
    credit_floor: Option<Sp<Value>>,
    debit_floor: Option<Sp<Value>>,
    credit_cap: Option<Sp<Value>>,
    debit_cap: Option<Sp<Value>>,
    lookback_days: Option<Sp<Value>>,
    stale_after_days: Option<Sp<Value>>,
    #[serde(default)]
    tiers: Vec<Sp<RawTier>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    from: Sp<Value>,
    credit_rate: Option<Sp<Value>>,
    debit_rate: Option<Sp<Value>>,
    credit_margin: Option<Sp<Value>>,
    debit_margin: Option<Sp<Value>>,
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// Parses and validates a group definition.
///
/// On failure returns every semantic problem found (or the first structural
/// one: a TOML syntax error, an unknown key, a wrong value type, a missing
/// required key), each naming its key path and line. Never panics.
pub fn parse_group_config(text: &str) -> Result<GroupConfig, ConfigErrors> {
    let deserializer = toml::Deserializer::new(text);
    let raw: RawFile = match serde_path_to_error::deserialize(deserializer) {
        Ok(raw) => raw,
        Err(error) => return Err(ConfigErrors(vec![structural_error(text, &error)])),
    };
    let mut checker = Checker { text, errors: Vec::new() };
    let config = checker.check(&raw);
    match config {
        Some(config) if checker.errors.is_empty() => Ok(config),
        _ => {
            if checker.errors.is_empty() {
                checker.errors.push(ConfigError {
                    path: String::new(),
                    line: None,
                    message: "the group definition is invalid (internal: no specific error was recorded)".into(),
                });
            }
            // File order; errors without a line (whole-file rules) last.
            checker.errors.sort_by_key(|error| error.line.unwrap_or(usize::MAX));
            Err(ConfigErrors(checker.errors))
        }
    }
}

/// Turns a serde/toml error into a [`ConfigError`] with a clean key path.
fn structural_error(text: &str, error: &serde_path_to_error::Error<toml::de::Error>) -> ConfigError {
    use serde_path_to_error::Segment;
    let mut path = String::new();
    for segment in error.path().iter() {
        match segment {
            Segment::Seq { index } => path.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if key.starts_with("$__") {
                    continue; // serde_spanned / toml datetime internals
                }
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Segment::Unknown => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push('?');
            }
        }
    }
    let inner = error.inner();
    // toml puts details on further lines; keep one error per line.
    let joined: Vec<&str> = inner.message().lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    let joined = joined.join("; ");
    let raw_message = joined.as_str();
    let mut message = raw_message.to_string();
    if let Some(key) = backticked_after(raw_message, "unknown field ") {
        if !path.ends_with(key) {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
        }
        message = format!("unknown key{}; remove it or fix its spelling", &raw_message["unknown field".len()..]);
    } else if let Some(key) = backticked_after(raw_message, "missing field ") {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        message = format!("required key `{key}` is missing");
    }
    let line = inner.span().map(|span| line_of(text, span.start));
    if path.is_empty() {
        // A syntax error comes without a key path: read it from the text.
        if let Some(line) = line {
            path = path_of_line(text, line);
        }
    }
    ConfigError { path, line, message }
}

/// The key path of a line (`entity[1].name`), read from the TOML text alone
/// for a syntax error, which the parser reports without one: the table from
/// the headers above it (each `[[array]]` counted, nested arrays within
/// their parent's element) and the key from the line's `key =`. It reads
/// conservatively: on a line that is not `key = …` (a header, the inside of a
/// multi-line value) only the table is named; headers inside multi-line
/// strings are skipped.
pub(crate) fn path_of_line(text: &str, line: usize) -> String {
    // The current element of each array of tables seen, by its dotted name.
    let mut elements: BTreeMap<String, usize> = BTreeMap::new();
    let mut table = String::new();
    let mut open_quotes: Option<&str> = None;
    for (idx, raw) in text.lines().enumerate() {
        let at_line = idx + 1 == line;
        if let Some(quotes) = open_quotes {
            if raw.matches(quotes).count() % 2 == 1 {
                open_quotes = None;
            }
            if at_line {
                return table;
            }
            continue;
        }
        let trimmed = raw.trim();
        if at_line {
            if trimmed.starts_with('[') {
                return String::new(); // a header: the table above is not its path
            }
            return match toml_key(trimmed) {
                Some(key) if table.is_empty() => key,
                Some(key) => format!("{table}.{key}"),
                None => table,
            };
        }
        if let Some(name) = header(trimmed, "[[", "]]") {
            let element = elements.get(&name).map_or(0, |n| n + 1);
            // A new element of `name` starts its nested arrays afresh.
            elements.retain(|other, _| !other.starts_with(&format!("{name}.")));
            elements.insert(name.clone(), element);
            table = indexed(&name, &elements);
        } else if let Some(name) = header(trimmed, "[", "]") {
            table = indexed(&name, &elements);
        } else {
            open_quotes = ["\"\"\"", "'''"].into_iter().find(|quotes| raw.matches(quotes).count() % 2 == 1);
        }
    }
    String::new()
}

/// The dotted name of a table header line (`[[pool.limits]]` → `pool.limits`).
fn header(line: &str, open: &str, close: &str) -> Option<String> {
    let line = line.split_once('#').map_or(line, |(before, _)| before).trim_end();
    dotted_key(line.strip_prefix(open)?.strip_suffix(close)?)
}

/// `pool.limits` with the current element of every array on its way (`pool.limits[2]`).
fn indexed(name: &str, elements: &BTreeMap<String, usize>) -> String {
    let mut path = String::new();
    let mut prefix = String::new();
    for part in name.split('.') {
        if !prefix.is_empty() {
            prefix.push('.');
            path.push('.');
        }
        prefix.push_str(part);
        path.push_str(part);
        if let Some(element) = elements.get(&prefix) {
            path.push_str(&format!("[{element}]"));
        }
    }
    path
}

/// The key of a `key = value` line (dotted keys joined), if the key is bare.
fn toml_key(line: &str) -> Option<String> {
    dotted_key(line.split_once('=')?.0)
}

/// ` a . b ` → `a.b`, if every part is a bare TOML key (quoted keys are not read).
fn dotted_key(text: &str) -> Option<String> {
    let is_bare =
        |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let parts: Vec<&str> = text.split('.').map(str::trim).collect();
    parts.iter().all(|part| is_bare(part)).then(|| parts.join("."))
}

/// `"unknown field `x`, expected …"` → `Some("x")`.
fn backticked_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    let end = rest.find('`')?;
    Some(&rest[..end])
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

/// `"CNY, USD"`, or `"none"`.
fn list_codes(currencies: &[Currency]) -> String {
    if currencies.is_empty() {
        return "none".to_string();
    }
    currencies.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ")
}

/// Whether a decimal must be `> 0` or `≥ 0`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sign {
    Positive,
    NonNegative,
}

impl Sign {
    fn accepts(self, value: Decimal) -> bool {
        match self {
            Sign::Positive => value > Decimal::ZERO,
            Sign::NonNegative => value >= Decimal::ZERO,
        }
    }

    fn expectation(self) -> &'static str {
        match self {
            Sign::Positive => "greater than 0",
            Sign::NonNegative => "0 or more",
        }
    }
}

/// An entity as checked: its id and residence when valid (for references
/// from accounts and the pool), and the entity when entirely valid.
struct CheckedEntity {
    key: Option<(String, Option<Residence>)>,
    entity: Option<Entity>,
}

/// A sweep rule's source: (account, currency).
type SweepKey = (String, Currency);
/// Valid sweep rules: source → (rule index, header account).
type SweepEdges = HashMap<SweepKey, (usize, String)>;

/// What the checker knows about a declared account, for references.
struct AccountFacts {
    index: usize,
    entity: String,
    kind: Option<AccountKind>,
    currencies: Vec<Currency>,
}

/// Collects semantic errors while building the validated configuration.
struct Checker<'t> {
    text: &'t str,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    fn error(&mut self, path: impl Into<String>, span: Option<Range<usize>>, message: impl Into<String>) {
        let line = span.map(|span| line_of(self.text, span.start));
        self.errors.push(ConfigError { path: path.into(), line, message: message.into() });
    }

    fn check(&mut self, raw: &RawFile) -> Option<GroupConfig> {
        let group = self.group(raw.group.get_ref());
        let base = group.as_ref().map(|group| group.base_currency);
        let entities = self.entities(&raw.entity, base);
        let (accounts, facts) = self.accounts(&raw.account, &entities);
        let account_calendars = self.account_calendars(&raw.account);
        let pool = self.pool(&raw.pool, base, &entities, &facts);
        let pool = match (pool, account_calendars) {
            (Some(mut pool), Some(by_account)) => {
                pool.calendars.accounts = by_account;
                Some(pool)
            }
            _ => None,
        };
        let sweeps = self.sweeps(&raw.sweep, &facts);
        if let (Some(pool), Some(sweeps)) = (&pool, &sweeps) {
            self.rolls_without_calendars(&raw.sweep, sweeps, &pool.calendars);
        }
        let interest = self.interest(&raw.interest, &entities, raw.pool.get_ref().host.get_ref());
        let macro_prudential = self.macro_prudential(raw.macro_prudential.as_ref());
        let risk_factors = self.risk_factors(raw.risk_factors.as_ref());

        let entities: Option<Vec<Entity>> = entities.into_iter().map(|checked| checked.entity).collect();
        let accounts: Option<Vec<AccountSpec>> = accounts.into_iter().collect();
        if let (Some(pool), Some(accounts), Some(sweeps)) = (&pool, &accounts, &sweeps) {
            self.sweeps_across_the_second_line(&raw.sweep, sweeps, accounts, pool.second_line_between_entities);
        }
        Some(GroupConfig {
            group: group?,
            pool: pool?,
            entities: entities?,
            accounts: accounts?,
            sweeps: sweeps?,
            interest: interest?,
            macro_prudential: macro_prudential?,
            risk_factors: risk_factors?,
        })
    }

    // --- [group] ------------------------------------------------------------------------------

    fn group(&mut self, raw: &RawGroup) -> Option<GroupInfo> {
        let id = self.id("group.id", &raw.id);
        let name = self.name("group.name", &raw.name);
        let base_currency = self.currency("group.base_currency", &raw.base_currency);
        Some(GroupInfo { id: id?, name: name?, base_currency: base_currency? })
    }

    // --- [[entity]] ---------------------------------------------------------------------------

    /// Returns, per entity in file order, its id (when valid, for references) and the entity.
    fn entities(&mut self, raw: &[Sp<RawEntity>], base: Option<Currency>) -> Vec<CheckedEntity> {
        let usd = Currency::from_code("USD");
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::with_capacity(raw.len());
        for (idx, spanned) in raw.iter().enumerate() {
            let entity = spanned.get_ref();
            let path = format!("entity[{idx}]");
            let mut id = self.id(&format!("{path}.id"), &entity.id);
            if let Some(text) = id.as_deref() {
                if text.eq_ignore_ascii_case(EXTERNAL_ENTITY) {
                    self.error(
                        format!("{path}.id"),
                        Some(entity.id.span()),
                        format!("{text:?} is reserved for counterparties outside the group (accounts with entity = \"{EXTERNAL_ENTITY}\"); choose another entity id"),
                    );
                    id = None;
                } else if let Some(first) = seen.get(text) {
                    self.error(
                        format!("{path}.id"),
                        Some(entity.id.span()),
                        format!(
                            "duplicate entity id {text:?} (already used by entity[{first}]); entity ids must be unique"
                        ),
                    );
                    id = None;
                } else {
                    seen.insert(text.to_string(), idx);
                }
            }
            let name = self.name(&format!("{path}.name"), &entity.name);
            let residence = match entity.residence.get_ref().as_str() {
                "onshore" => Some(Residence::Onshore),
                "offshore" => Some(Residence::Offshore),
                other => {
                    self.error(
                        format!("{path}.residence"),
                        Some(entity.residence.span()),
                        format!("unknown residence {other:?}; expected \"onshore\" or \"offshore\""),
                    );
                    None
                }
            };
            let net_assets = match &entity.net_assets {
                Some(value) => self.amount(&format!("{path}.net_assets"), value, base, Sign::NonNegative).map(Some),
                None => Some(None),
            };
            let withholding_tax_rate = match &entity.withholding_tax_rate {
                Some(value) => self.fraction(&format!("{path}.withholding_tax_rate"), value).map(Some),
                None => Some(None),
            };
            let withholding = self.withholding(&path, entity, residence);
            if residence == Some(Residence::Offshore) && !entity.facilitation_quota.is_empty() {
                self.error(
                    format!("{path}.facilitation_quota"),
                    Some(entity.facilitation_quota[0].span()),
                    "the facilitation quota is for onshore high-tech SMEs borrowing abroad; an offshore entity cannot have one",
                );
            }
            let mut quota = Some(Vec::with_capacity(entity.facilitation_quota.len()));
            let mut previous: Option<NaiveDate> = None;
            for (qidx, row) in entity.facilitation_quota.iter().enumerate() {
                let row_path = format!("{path}.facilitation_quota[{qidx}]");
                let row = row.get_ref();
                let effective = self.date(&format!("{row_path}.effective"), &row.effective);
                if let Some(date) = effective {
                    self.check_increasing(
                        &format!("{row_path}.effective"),
                        &row.effective,
                        previous,
                        date,
                        &format!("{path}.facilitation_quota"),
                    );
                    previous = Some(date);
                }
                let usd_amount = self.amount(&format!("{row_path}.usd_amount"), &row.usd_amount, usd, Sign::Positive);
                match (effective, usd_amount, quota.as_mut()) {
                    (Some(effective), Some(usd_amount), Some(rows)) => rows.push(QuotaRow { effective, usd_amount }),
                    _ => quota = None,
                }
            }
            let key = id.clone().map(|id| (id, residence));
            let built = (|| {
                Some(Entity {
                    id: id?,
                    name: name?,
                    residence: residence?,
                    net_assets: net_assets?,
                    withholding_tax_rate: withholding_tax_rate?,
                    withholding: withholding?,
                    facilitation_quota: quota?,
                })
            })();
            out.push(CheckedEntity { key, entity: built });
        }
        if raw.len() < ENTITIES_MIN {
            self.error(
                "entity",
                None,
                format!(
                    "a pool needs at least {ENTITIES_MIN} entities (the host and its members, each an [[entity]] table); found {}",
                    raw.len()
                ),
            );
        }
        out
    }

    /// The `[[entity.withholding]]` rows of the entity at `path` (offshore entities only;
    /// not beside the older key `withholding_tax_rate`, which says the same as one row's
    /// `income_tax_rate`).
    fn withholding(
        &mut self,
        path: &str,
        entity: &RawEntity,
        residence: Option<Residence>,
    ) -> Option<Vec<WithholdingRow>> {
        let Some(first) = entity.withholding.first() else { return Some(Vec::new()) };
        if residence == Some(Residence::Onshore) {
            self.error(
                format!("{path}.withholding"),
                Some(first.span()),
                "nothing is withheld on interest paid to an onshore (resident) entity; [[entity.withholding]] is for offshore entities",
            );
        }
        if let Some(rate) = &entity.withholding_tax_rate {
            self.error(
                format!("{path}.withholding_tax_rate"),
                Some(rate.span()),
                "give either withholding_tax_rate (the older key: the income tax rate alone) or [[entity.withholding]] rows, not both; move it into a row as income_tax_rate",
            );
        }
        let mut rows = Some(Vec::with_capacity(entity.withholding.len()));
        let mut previous: Option<NaiveDate> = None;
        for (ridx, row) in entity.withholding.iter().enumerate() {
            let row_path = format!("{path}.withholding[{ridx}]");
            let row = row.get_ref();
            let effective = self.date(&format!("{row_path}.effective"), &row.effective);
            if let Some(date) = effective {
                let rows_name = format!("{path}.withholding");
                self.check_increasing(&format!("{row_path}.effective"), &row.effective, previous, date, &rows_name);
                previous = Some(date);
            }
            let mut rate = |key: &str, value: &Option<Sp<Value>>| match value {
                Some(value) => self.fraction(&format!("{row_path}.{key}"), value).map(Some),
                None => Some(None),
            };
            let income_tax_rate = rate("income_tax_rate", &row.income_tax_rate);
            let vat_rate = rate("vat_rate", &row.vat_rate);
            let urban_maintenance_rate = rate("urban_maintenance_rate", &row.urban_maintenance_rate);
            let education_surcharge_rate = rate("education_surcharge_rate", &row.education_surcharge_rate);
            let local_education_surcharge_rate =
                rate("local_education_surcharge_rate", &row.local_education_surcharge_rate);
            let built = (|| {
                Some(WithholdingRow {
                    effective: effective?,
                    income_tax_rate: income_tax_rate?,
                    vat_rate: vat_rate?,
                    urban_maintenance_rate: urban_maintenance_rate?,
                    education_surcharge_rate: education_surcharge_rate?,
                    local_education_surcharge_rate: local_education_surcharge_rate?,
                })
            })();
            match (built, rows.as_mut()) {
                (Some(built), Some(rows)) => rows.push(built),
                _ => rows = None,
            }
        }
        rows
    }

    // --- [[account]] --------------------------------------------------------------------------

    fn accounts(
        &mut self,
        raw: &[Sp<RawAccount>],
        entities: &[CheckedEntity],
    ) -> (Vec<Option<AccountSpec>>, HashMap<String, AccountFacts>) {
        let declared: HashSet<&str> =
            entities.iter().filter_map(|checked| checked.key.as_ref().map(|(id, _)| id.as_str())).collect();
        let mut facts: HashMap<String, AccountFacts> = HashMap::new();
        let mut bank_ids: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::with_capacity(raw.len());
        for (idx, spanned) in raw.iter().enumerate() {
            let account = spanned.get_ref();
            let path = format!("account[{idx}]");

            let mut id = self.id(&format!("{path}.id"), &account.id);
            if let Some(text) = id.as_deref() {
                let prefix_len = SYSTEM_ACCOUNT_PREFIX.len();
                if text.get(..prefix_len).is_some_and(|head| head.eq_ignore_ascii_case(SYSTEM_ACCOUNT_PREFIX)) {
                    self.error(
                        format!("{path}.id"),
                        Some(account.id.span()),
                        format!("account ids starting with {SYSTEM_ACCOUNT_PREFIX:?} are reserved for the ledger's system accounts; choose another id than {text:?}"),
                    );
                    id = None;
                } else if let Some(first) = facts.get(text) {
                    let first = first.index;
                    self.error(
                        format!("{path}.id"),
                        Some(account.id.span()),
                        format!("duplicate account id {text:?} (already used by account[{first}]); account ids must be unique"),
                    );
                    id = None;
                }
            }

            let entity_text = account.entity.get_ref();
            let entity = if entity_text == EXTERNAL_ENTITY || declared.contains(entity_text.as_str()) {
                Some(entity_text.clone())
            } else {
                self.error(
                    format!("{path}.entity"),
                    Some(account.entity.span()),
                    format!("unknown entity {entity_text:?}; expected the id of a declared [[entity]] or \"{EXTERNAL_ENTITY}\" for a counterparty outside the group"),
                );
                None
            };

            let kind = self.account_kind(&path, &account.kind);
            let is_external_entity = entity_text == EXTERNAL_ENTITY;
            if let Some(kind) = kind {
                if is_external_entity && kind != AccountKind::External {
                    self.error(
                        format!("{path}.kind"),
                        Some(account.kind.span()),
                        format!(
                            "an account of entity \"{EXTERNAL_ENTITY}\" must have kind \"external\", not {:?}",
                            kind.as_str()
                        ),
                    );
                } else if !is_external_entity && kind == AccountKind::External {
                    self.error(
                        format!("{path}.kind"),
                        Some(account.kind.span()),
                        format!("kind \"external\" is only for accounts of entity \"{EXTERNAL_ENTITY}\"; an account of {entity_text:?} needs another kind (settlement, fte, …)"),
                    );
                }
            }

            let zone = match account.zone.get_ref().as_str() {
                "onshore" => Some(Zone::Onshore),
                "ft" => Some(Zone::Ft),
                "offshore" => Some(Zone::Offshore),
                other => {
                    self.error(
                        format!("{path}.zone"),
                        Some(account.zone.span()),
                        format!("unknown zone {other:?}; expected \"onshore\", \"ft\" or \"offshore\""),
                    );
                    None
                }
            };
            if let (Some(kind), Some(zone)) = (kind, zone) {
                let required = match kind {
                    AccountKind::DomesticMaster => Some(Zone::Onshore),
                    AccountKind::InternationalMaster | AccountKind::Nra | AccountKind::Osa => Some(Zone::Offshore),
                    AccountKind::Fte | AccountKind::Ftn | AccountKind::Ftu => Some(Zone::Ft),
                    _ => None,
                };
                if let Some(required) = required {
                    if required != zone {
                        self.error(
                            format!("{path}.zone"),
                            Some(account.zone.span()),
                            format!(
                                "an account of kind {:?} sits in zone {:?}, not {:?}",
                                kind.as_str(),
                                required.as_str(),
                                zone.as_str()
                            ),
                        );
                    }
                }
            }

            let bank_bic = match &account.bank_bic {
                Some(bic) => self.bic(&format!("{path}.bank_bic"), bic).map(Some),
                None => Some(None),
            };
            let bank_id = match &account.bank_id {
                Some(bank_id) => {
                    let checked = self.id(&format!("{path}.bank_id"), bank_id);
                    match checked {
                        Some(text) => {
                            if let Some(first) = bank_ids.get(&text) {
                                let first = *first;
                                self.error(
                                    format!("{path}.bank_id"),
                                    Some(bank_id.span()),
                                    format!("bank_id {text:?} is already used by account[{first}]; each bank account maps to one ledger account"),
                                );
                                None
                            } else {
                                bank_ids.insert(text.clone(), idx);
                                Some(Some(text))
                            }
                        }
                        None => None,
                    }
                }
                None => Some(None),
            };

            // Currencies: known, no duplicates, at least one.
            let mut currencies: Option<Vec<Currency>> = Some(Vec::new());
            let listed = account.currencies.get_ref();
            if listed.is_empty() {
                self.error(
                    format!("{path}.currencies"),
                    Some(account.currencies.span()),
                    "an account holds at least one currency; list them, e.g. currencies = [\"CNY\", \"USD\"]",
                );
                currencies = None;
            }
            let mut held: Vec<Currency> = Vec::new();
            for (cidx, code) in listed.iter().enumerate() {
                let cpath = format!("{path}.currencies[{cidx}]");
                match self.currency(&cpath, code) {
                    Some(currency) => {
                        if held.contains(&currency) {
                            self.error(
                                cpath,
                                Some(code.span()),
                                format!("{currency} is listed twice; list each currency once"),
                            );
                            currencies = None;
                        } else {
                            held.push(currency);
                        }
                    }
                    None => currencies = None,
                }
            }
            held.sort();
            if let Some(list) = currencies.as_mut() {
                list.clone_from(&held);
            }

            // Overdrafts.
            let mut overdrafts: Option<Vec<(Currency, Decimal)>> = Some(Vec::new());
            if let Some(table) = &account.overdraft {
                if kind == Some(AccountKind::External) || is_external_entity {
                    self.error(
                        format!("{path}.overdraft"),
                        Some(table.span()),
                        "external accounts are unbounded and take no overdraft; remove the overdraft",
                    );
                    overdrafts = None;
                }
                for (code, value) in table.get_ref() {
                    let opath = format!("{path}.overdraft.{code}");
                    let currency = match Currency::from_code(code) {
                        Some(currency) => currency,
                        None => {
                            self.error(
                                opath,
                                Some(value.span()),
                                format!("unknown currency {code:?}; overdraft keys are ISO 4217 codes of currencies the account holds"),
                            );
                            overdrafts = None;
                            continue;
                        }
                    };
                    if !held.contains(&currency) {
                        self.error(
                            opath.clone(),
                            Some(value.span()),
                            format!(
                                "the account does not hold {currency} (its currencies: {}); add it to currencies or remove the overdraft",
                                list_codes(&held)
                            ),
                        );
                        overdrafts = None;
                    }
                    match self.amount(&opath, value, Some(currency), Sign::NonNegative) {
                        Some(limit) => {
                            if let Some(list) = overdrafts.as_mut() {
                                list.push((currency, limit));
                            }
                        }
                        None => overdrafts = None,
                    }
                }
            }
            if let Some(list) = overdrafts.as_mut() {
                list.sort_by_key(|(currency, _)| *currency);
            }

            if let Some(text) = &id {
                facts.insert(
                    text.clone(),
                    AccountFacts { index: idx, entity: entity_text.clone(), kind, currencies: held.clone() },
                );
            }
            // A kind that contradicts the entity is already reported.
            let kind = kind.filter(|kind| (*kind == AccountKind::External) == is_external_entity);
            let built = (|| {
                Some(AccountSpec {
                    id: id?,
                    entity: entity?,
                    kind: kind?,
                    zone: Some(zone?),
                    bank_bic: bank_bic?,
                    bank_id: bank_id?,
                    currencies: currencies?,
                    overdrafts: overdrafts?,
                })
            })();
            out.push(built);
        }
        (out, facts)
    }

    fn account_kind(&mut self, path: &str, raw: &Sp<String>) -> Option<AccountKind> {
        const KINDS: [AccountKind; 9] = [
            AccountKind::DomesticMaster,
            AccountKind::InternationalMaster,
            AccountKind::Settlement,
            AccountKind::Fte,
            AccountKind::Ftn,
            AccountKind::Ftu,
            AccountKind::Nra,
            AccountKind::Osa,
            AccountKind::External,
        ];
        let text = raw.get_ref().as_str();
        if text == AccountKind::System.as_str() {
            self.error(
                format!("{path}.kind"),
                Some(raw.span()),
                "kind \"system\" is reserved for the accounts the ledger creates itself; choose another kind",
            );
            return None;
        }
        match KINDS.into_iter().find(|kind| kind.as_str() == text) {
            Some(kind) => Some(kind),
            None => {
                let expected: Vec<&str> = KINDS.iter().map(|kind| kind.as_str()).collect();
                self.error(
                    format!("{path}.kind"),
                    Some(raw.span()),
                    format!("unknown account kind {text:?}; expected one of {}", expected.join(", ")),
                );
                None
            }
        }
    }

    // --- [pool] -------------------------------------------------------------------------------

    fn pool(
        &mut self,
        raw: &Sp<RawPool>,
        base: Option<Currency>,
        entities: &[CheckedEntity],
        facts: &HashMap<String, AccountFacts>,
    ) -> Option<PoolConfig> {
        let pool = raw.get_ref();
        let id = self.id("pool.id", &pool.id);

        let host_text = pool.host.get_ref();
        let host = match entities.iter().find_map(|checked| checked.key.as_ref().filter(|(id, _)| id == host_text)) {
            Some((_, Some(Residence::Offshore))) => {
                self.error(
                    "pool.host",
                    Some(pool.host.span()),
                    format!("the host must be an onshore entity (an onshore legal person files and runs the pool); {host_text:?} is offshore"),
                );
                None
            }
            Some((_, Some(Residence::Onshore))) => Some(host_text.clone()),
            Some((_, None)) => None, // its residence is already reported
            None => {
                self.error(
                    "pool.host",
                    Some(pool.host.span()),
                    format!("unknown entity {host_text:?}; the host must be the id of a declared onshore [[entity]]"),
                );
                None
            }
        };

        let domestic_master = self.master(
            "pool.domestic_master",
            &pool.domestic_master,
            host.as_deref(),
            AccountKind::DomesticMaster,
            facts,
        );
        let international_master = self.master(
            "pool.international_master",
            &pool.international_master,
            host.as_deref(),
            AccountKind::InternationalMaster,
            facts,
        );
        let netting_currency = self.currency("pool.netting_currency", &pool.netting_currency);

        let mut limits = Some(Vec::with_capacity(pool.limits.len()));
        if pool.limits.is_empty() {
            self.error(
                "pool.limits",
                Some(raw.span()),
                "at least one [[pool.limits]] row is required (effective, owners_equity, inflow_leverage, inflow_parameter, outflow_coefficient)",
            );
            limits = None;
        }
        let mut previous: Option<NaiveDate> = None;
        for (idx, row) in pool.limits.iter().enumerate() {
            let path = format!("pool.limits[{idx}]");
            let row = row.get_ref();
            let effective = self.date(&format!("{path}.effective"), &row.effective);
            if let Some(date) = effective {
                self.check_increasing(&format!("{path}.effective"), &row.effective, previous, date, "pool.limits");
                previous = Some(date);
            }
            let owners_equity = self.amount(&format!("{path}.owners_equity"), &row.owners_equity, base, Sign::Positive);
            let inflow_leverage = self.factor(&format!("{path}.inflow_leverage"), &row.inflow_leverage);
            let inflow_parameter = self.factor(&format!("{path}.inflow_parameter"), &row.inflow_parameter);
            let outflow_coefficient = self.factor(&format!("{path}.outflow_coefficient"), &row.outflow_coefficient);
            let built = (|| {
                Some(LimitRow {
                    effective: effective?,
                    owners_equity: owners_equity?,
                    inflow_leverage: inflow_leverage?,
                    inflow_parameter: inflow_parameter?,
                    outflow_coefficient: outflow_coefficient?,
                })
            })();
            match (built, limits.as_mut()) {
                (Some(built), Some(rows)) => rows.push(built),
                _ => limits = None,
            }
        }

        let eligibility = self.eligibility(pool.eligibility.as_ref(), base);
        let second_line_between_entities = match &pool.second_line_between_entities {
            None => Some(SecondLineRule::default()),
            Some(raw) => {
                let rule = SecondLineRule::parse(raw.get_ref());
                if rule.is_none() {
                    self.error(
                        "pool.second_line_between_entities",
                        Some(raw.span()),
                        format!(
                            "unknown rule {:?}; expected \"cross_border\" (the default: a transfer between an FT account and another entity's ordinary account is managed as cross-border) or \"same_name\" (held to the same-name rules: current_account, loan_repayment, real_investment, CNY only)",
                            raw.get_ref()
                        ),
                    );
                }
                rule
            }
        };

        let quota_model = match &pool.quota_model {
            None => Some(QuotaModel::Separate),
            Some(raw) => {
                let model = QuotaModel::parse(raw.get_ref());
                if model.is_none() {
                    self.error(
                        "pool.quota_model",
                        Some(raw.span()),
                        format!(
                            "unknown model {:?}; expected \"separate\" (the default: the foreign-debt and overseas-lending quotas apart, 银发〔2025〕251号) or \"net_position\" (one net position against both caps)",
                            raw.get_ref()
                        ),
                    );
                }
                model
            }
        };

        let value_dates = match &pool.non_business_value_dates {
            None => Some(ValueDateRule::default()),
            Some(raw) => {
                let rule = ValueDateRule::parse(raw.get_ref());
                if rule.is_none() {
                    self.error(
                        "pool.non_business_value_dates",
                        Some(raw.span()),
                        format!(
                            "unknown rule {:?}; expected \"warn\" (the default: post it, with a warning) or \"refuse\" (refuse it, not_business_day)",
                            raw.get_ref()
                        ),
                    );
                }
                rule
            }
        };
        let currency_calendars = self.currency_calendars(pool.calendars.as_ref());

        Some(PoolConfig {
            id: id?,
            host: host?,
            domestic_master: domestic_master?,
            international_master: international_master?,
            netting_currency: netting_currency?,
            limits: limits?,
            eligibility: eligibility?,
            second_line_between_entities: second_line_between_entities?,
            quota_model: quota_model?,
            calendars: CalendarRules {
                currencies: currency_calendars?,
                accounts: BTreeMap::new(),
                value_dates: value_dates?,
            },
        })
    }

    /// `[pool.calendars]`: a currency code → a list of calendar ids.
    fn currency_calendars(
        &mut self,
        raw: Option<&Sp<BTreeMap<String, Sp<Value>>>>,
    ) -> Option<BTreeMap<Currency, Vec<String>>> {
        let mut out = Some(BTreeMap::new());
        let Some(raw) = raw else { return out };
        for (code, value) in raw.get_ref() {
            let path = format!("pool.calendars.{code}");
            let currency = match Currency::from_code(code) {
                Some(currency) => Some(currency),
                None => {
                    self.error(
                        path.clone(),
                        Some(value.span()),
                        format!("{code:?} is not an active ISO 4217 currency code; each key of [pool.calendars] is a currency (CNY = [\"CN\"])"),
                    );
                    None
                }
            };
            let ids = self.calendar_list(&path, value);
            match (currency, ids, out.as_mut()) {
                (Some(currency), Some(ids), Some(map)) => {
                    map.insert(currency, ids);
                }
                _ => out = None,
            }
        }
        out
    }

    /// `[[account]] calendars`: by account id (of the accounts whose id is valid).
    fn account_calendars(&mut self, raw: &[Sp<RawAccount>]) -> Option<BTreeMap<String, Vec<String>>> {
        let mut out = Some(BTreeMap::new());
        for (idx, spanned) in raw.iter().enumerate() {
            let account = spanned.get_ref();
            let Some(value) = &account.calendars else { continue };
            let ids = self.calendar_list(&format!("account[{idx}].calendars"), value);
            match (ids, out.as_mut()) {
                (Some(ids), Some(map)) => {
                    map.insert(account.id.get_ref().clone(), ids);
                }
                _ => out = None,
            }
        }
        out
    }

    /// A non-empty array of calendar ids, each once; returned sorted.
    fn calendar_list(&mut self, path: &str, raw: &Sp<Value>) -> Option<Vec<String>> {
        let Value::Array(items) = raw.get_ref() else {
            self.error(
                path,
                Some(raw.span()),
                format!("expected an array of calendar ids such as [\"CN\"], found {}", raw.get_ref().type_str()),
            );
            return None;
        };
        if items.is_empty() {
            self.error(path, Some(raw.span()), "an empty list: name at least one calendar, or leave the key out");
            return None;
        }
        let mut ids = Vec::with_capacity(items.len());
        let mut ok = true;
        for (idx, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{idx}]");
            match item.as_str() {
                Some(id) => match crate::calendar::check_calendar_id(id) {
                    Ok(()) if ids.iter().any(|seen: &String| seen == id) => {
                        self.error(item_path, Some(raw.span()), format!("{id:?} is listed twice"));
                        ok = false;
                    }
                    Ok(()) => ids.push(id.to_string()),
                    Err(reason) => {
                        self.error(item_path, Some(raw.span()), reason);
                        ok = false;
                    }
                },
                None => {
                    self.error(
                        item_path,
                        Some(raw.span()),
                        format!("expected a calendar id (a string such as \"CN\"), found {}", item.type_str()),
                    );
                    ok = false;
                }
            }
        }
        ids.sort();
        ok.then_some(ids)
    }

    /// A rule that sets `roll` though no calendar governs its days: the key
    /// would do nothing, which is most likely a mistake.
    fn rolls_without_calendars(&mut self, raw: &[Sp<RawSweep>], sweeps: &[SweepRule], calendars: &CalendarRules) {
        for (idx, (rule, spanned)) in sweeps.iter().zip(raw).enumerate() {
            let Some(roll) = &spanned.get_ref().roll else { continue };
            if calendars.for_rule(rule).is_empty() {
                self.error(
                    format!("sweep[{idx}].roll"),
                    Some(roll.span()),
                    format!(
                        "no calendar governs this rule's days (every day is a business day for it): add {} to [pool.calendars], or calendars to {} or {}; or remove roll",
                        rule.currency, rule.account, rule.into
                    ),
                );
            }
        }
    }

    /// `[pool.eligibility]`: each key optional, defaulting to the regulation's value.
    fn eligibility(
        &mut self,
        raw: Option<&Sp<RawEligibility>>,
        base: Option<Currency>,
    ) -> Option<EligibilityThresholds> {
        let base = base?;
        let mut out = EligibilityThresholds::default_in(base);
        let Some(raw) = raw else {
            return Some(out);
        };
        let table = raw.get_ref();
        let mut ok = true;
        let amounts = [
            ("onshore_cross_border_min", &table.onshore_cross_border_min, &mut out.onshore_cross_border_min),
            ("onshore_revenue_min", &table.onshore_revenue_min, &mut out.onshore_revenue_min),
            ("offshore_revenue_min", &table.offshore_revenue_min, &mut out.offshore_revenue_min),
        ];
        for (key, value, slot) in amounts {
            if let Some(value) = value {
                match self.amount(&format!("pool.eligibility.{key}"), value, Some(base), Sign::NonNegative) {
                    Some(amount) => *slot = amount,
                    None => ok = false,
                }
            }
        }
        let counts = [
            ("members_min", &table.members_min, &mut out.members_min, 1, u32::MAX, "members_min = 3"),
            (
                "violation_free_years",
                &table.violation_free_years,
                &mut out.violation_free_years,
                0,
                100,
                "violation_free_years = 2",
            ),
        ];
        for (key, value, slot, min, max, example) in counts {
            if let Some(value) = value {
                match self.whole_number(&format!("pool.eligibility.{key}"), value, min, max, example) {
                    Some(number) => *slot = number,
                    None => ok = false,
                }
            }
        }
        ok.then_some(out)
    }

    // --- [[macro_prudential]] -----------------------------------------------------------------

    fn macro_prudential(&mut self, raw: Option<&Sp<Vec<Sp<RawParameterRow>>>>) -> Option<Vec<ParameterRow>> {
        let Some(raw) = raw else {
            return Some(ParameterRow::default_history());
        };
        let rows = raw.get_ref();
        let mut out = Some(Vec::with_capacity(rows.len()));
        if rows.is_empty() {
            self.error(
                "macro_prudential",
                Some(raw.span()),
                "an empty macro_prudential list; add [[macro_prudential]] rows (effective, parameter) or remove the key to use the published history",
            );
            out = None;
        }
        let mut previous: Option<NaiveDate> = None;
        for (idx, row) in rows.iter().enumerate() {
            let path = format!("macro_prudential[{idx}]");
            let row = row.get_ref();
            let effective = self.date(&format!("{path}.effective"), &row.effective);
            if let Some(date) = effective {
                self.check_increasing(&format!("{path}.effective"), &row.effective, previous, date, "macro_prudential");
                previous = Some(date);
            }
            let parameter = self.factor(&format!("{path}.parameter"), &row.parameter);
            match (effective, parameter, out.as_mut()) {
                (Some(effective), Some(parameter), Some(list)) => list.push(ParameterRow { effective, parameter }),
                _ => out = None,
            }
        }
        out
    }

    // --- [[risk_factors]] ---------------------------------------------------------------------

    fn risk_factors(&mut self, raw: Option<&Sp<Vec<Sp<RawRiskFactors>>>>) -> Option<Vec<RiskFactors>> {
        let Some(raw) = raw else {
            return Some(RiskFactors::default_history());
        };
        let rows = raw.get_ref();
        let mut out = Some(Vec::with_capacity(rows.len()));
        if rows.is_empty() {
            self.error(
                "risk_factors",
                Some(raw.span()),
                "an empty risk_factors list; add [[risk_factors]] rows or remove the key to use the published factors",
            );
            out = None;
        }
        let mut previous: Option<NaiveDate> = None;
        let published = RiskFactors::published();
        for (idx, row) in rows.iter().enumerate() {
            let path = format!("risk_factors[{idx}]");
            let row = row.get_ref();
            let effective = self.date(&format!("{path}.effective"), &row.effective);
            if let Some(date) = effective {
                self.check_increasing(&format!("{path}.effective"), &row.effective, previous, date, "risk_factors");
                previous = Some(date);
            }
            let mut value = |key: &str, raw: &Option<Sp<Value>>, default: Decimal, zero_allowed: bool| match raw {
                None => Some(default),
                Some(raw) if zero_allowed => {
                    let value = self.decimal(&format!("{path}.{key}"), raw)?;
                    if value < Decimal::ZERO {
                        self.error(format!("{path}.{key}"), Some(raw.span()), format!("{value} must be 0 or more"));
                        return None;
                    }
                    Some(value.normalize())
                }
                Some(raw) => self.factor(&format!("{path}.{key}"), raw),
            };
            let factors = (
                value("short_term", &row.short_term, published.short_term, false),
                value("long_term", &row.long_term, published.long_term, false),
                value("category", &row.category, published.category, false),
                value("fx", &row.fx, published.fx, true),
                value("leverage", &row.leverage, published.leverage, false),
            );
            match (effective, factors, out.as_mut()) {
                (
                    Some(effective),
                    (Some(short_term), Some(long_term), Some(category), Some(fx), Some(leverage)),
                    Some(list),
                ) => {
                    list.push(RiskFactors { effective, short_term, long_term, category, fx, leverage });
                }
                _ => out = None,
            }
        }
        out
    }

    fn master(
        &mut self,
        path: &str,
        raw: &Sp<String>,
        host: Option<&str>,
        kind: AccountKind,
        facts: &HashMap<String, AccountFacts>,
    ) -> Option<String> {
        let text = raw.get_ref();
        let Some(account) = facts.get(text) else {
            self.error(
                path,
                Some(raw.span()),
                format!(
                    "unknown account {text:?}; expected the id of the host's [[account]] of kind {:?}",
                    kind.as_str()
                ),
            );
            return None;
        };
        let mut ok = true;
        // With the host itself invalid (already reported), ownership cannot be judged.
        if let Some(host) = host.filter(|host| account.entity != *host) {
            self.error(
                path,
                Some(raw.span()),
                format!("account {text:?} belongs to entity {:?}, not to the host {host:?}; the master accounts are the host's", account.entity),
            );
            ok = false;
        }
        if let Some(actual) = account.kind {
            if actual != kind {
                self.error(
                    path,
                    Some(raw.span()),
                    format!(
                        "account {text:?} has kind {:?}; expected an account of kind {:?}",
                        actual.as_str(),
                        kind.as_str()
                    ),
                );
                ok = false;
            }
        }
        (ok && account.kind.is_some()).then(|| text.clone())
    }

    // --- [[sweep]] ----------------------------------------------------------------------------

    fn sweeps(&mut self, raw: &[Sp<RawSweep>], facts: &HashMap<String, AccountFacts>) -> Option<Vec<SweepRule>> {
        let mut out = Some(Vec::with_capacity(raw.len()));
        // (account, currency) → first rule index, for duplicates.
        let mut seen: HashMap<SweepKey, usize> = HashMap::new();
        // (account, currency) → (rule index, into) of the valid rules, for cycles.
        let mut edges: SweepEdges = HashMap::new();
        for (idx, spanned) in raw.iter().enumerate() {
            let sweep = spanned.get_ref();
            let path = format!("sweep[{idx}]");
            let currency = self.currency(&format!("{path}.currency"), &sweep.currency);
            let account = self.sweep_end(&format!("{path}.account"), &sweep.account, currency, facts);
            let into = self.sweep_end(&format!("{path}.into"), &sweep.into, currency, facts);
            let mut pair_ok = true;
            if sweep.account.get_ref() == sweep.into.get_ref() {
                self.error(
                    format!("{path}.into"),
                    Some(sweep.into.span()),
                    format!(
                        "a rule sweeps one account into another; `into` must differ from `account` ({:?})",
                        sweep.into.get_ref()
                    ),
                );
                pair_ok = false;
            }

            let method_name = sweep.method.get_ref().as_str();
            let direction = match sweep.direction.get_ref().as_str() {
                "up" => Some(SweepDirection::Up),
                "down" => Some(SweepDirection::Down),
                "both" => Some(SweepDirection::Both),
                other => {
                    self.error(
                        format!("{path}.direction"),
                        Some(sweep.direction.span()),
                        format!(
                            "unknown direction {other:?}; expected \"up\" (concentrate), \"down\" (fund) or \"both\""
                        ),
                    );
                    None
                }
            };

            // Method-specific keys: required for their method, forbidden for the others.
            let keys: [(&str, &Option<Sp<Value>>, &str); 4] = [
                ("target", &sweep.target, "target"),
                ("threshold", &sweep.threshold, "threshold"),
                ("min", &sweep.min, "range"),
                ("max", &sweep.max, "range"),
            ];
            let known_method = matches!(method_name, "zero" | "target" | "threshold" | "range");
            if !known_method {
                self.error(
                    format!("{path}.method"),
                    Some(sweep.method.span()),
                    format!("unknown sweep method {method_name:?}; expected \"zero\", \"target\", \"threshold\" or \"range\""),
                );
            }
            let mut values: [Option<Decimal>; 4] = [None; 4];
            let mut method_ok = known_method;
            for (slot, (key, value, owner)) in keys.iter().enumerate() {
                let kpath = format!("{path}.{key}");
                match value {
                    Some(value) => {
                        if known_method && method_name != *owner {
                            self.error(
                                kpath.clone(),
                                Some(value.span()),
                                format!("`{key}` belongs to method \"{owner}\"; this rule's method is \"{method_name}\", so remove `{key}`"),
                            );
                            method_ok = false;
                        }
                        values[slot] = self.amount(&kpath, value, currency, Sign::NonNegative);
                        if values[slot].is_none() {
                            method_ok = false;
                        }
                    }
                    None => {
                        if method_name == *owner {
                            self.error(
                                kpath,
                                Some(spanned.span()),
                                format!("method \"{owner}\" needs `{key} = \"<amount>\"` (a decimal string in the sweep currency)"),
                            );
                            method_ok = false;
                        }
                    }
                }
            }
            let [target, threshold, min, max] = values;
            if let (Some(min_value), Some(max_value), Some(min_raw)) = (min, max, &sweep.min) {
                if min_value > max_value {
                    self.error(
                        format!("{path}.min"),
                        Some(min_raw.span()),
                        format!("range min {min_value} is above max {max_value}; expected min ≤ max"),
                    );
                    method_ok = false;
                }
            }
            let method = if method_ok {
                match (method_name, target, threshold, min, max) {
                    ("zero", ..) => Some(SweepMethod::Zero),
                    ("target", Some(target), ..) => Some(SweepMethod::Target { target }),
                    ("threshold", _, Some(threshold), ..) => Some(SweepMethod::Threshold { threshold }),
                    ("range", _, _, Some(min), Some(max)) => Some(SweepMethod::Range { min, max }),
                    _ => None,
                }
            } else {
                None
            };

            let optional = |checker: &mut Self, key: &str, value: &Option<Sp<Value>>, sign: Sign| match value {
                Some(value) => checker.amount(&format!("{path}.{key}"), value, currency, sign).map(Some),
                None => Some(None),
            };
            let min_transfer = optional(self, "min_transfer", &sweep.min_transfer, Sign::NonNegative);
            let max_transfer = optional(self, "max_transfer", &sweep.max_transfer, Sign::Positive);
            let rounding = optional(self, "rounding", &sweep.rounding, Sign::Positive);
            let mut transfers_ok = true;
            if let (Some(Some(low)), Some(Some(high)), Some(low_raw)) =
                (min_transfer, max_transfer, &sweep.min_transfer)
            {
                if low > high {
                    self.error(
                        format!("{path}.min_transfer"),
                        Some(low_raw.span()),
                        format!(
                            "min_transfer {low} is above max_transfer {high}; expected min_transfer ≤ max_transfer"
                        ),
                    );
                    transfers_ok = false;
                }
            }

            let priority = match &sweep.priority {
                None => {
                    self.error(
                        format!("{path}.priority"),
                        Some(spanned.span()),
                        "priority is required: a whole number, lower is funded first (e.g. priority = 1)",
                    );
                    None
                }
                Some(value) => match value.get_ref() {
                    Value::Integer(number) => match u32::try_from(*number) {
                        Ok(priority) => Some(priority),
                        Err(_) => {
                            self.error(
                                format!("{path}.priority"),
                                Some(value.span()),
                                format!(
                                    "priority {number} is out of range; expected a whole number from 0 to {}",
                                    u32::MAX
                                ),
                            );
                            None
                        }
                    },
                    other => {
                        self.error(
                            format!("{path}.priority"),
                            Some(value.span()),
                            format!(
                                "expected a whole number such as priority = 1 (unquoted), found {}",
                                other.type_str()
                            ),
                        );
                        None
                    }
                },
            };

            let roll = match &sweep.roll {
                None => Some(Roll::default()),
                Some(raw) => {
                    let roll = Roll::parse(raw.get_ref());
                    if roll.is_none() {
                        self.error(
                            format!("{path}.roll"),
                            Some(raw.span()),
                            format!(
                                "unknown roll {:?}; expected \"following\" (the default), \"modified_following\" or \"none\"",
                                raw.get_ref()
                            ),
                        );
                    }
                    roll
                }
            };

            // One rule per (account, currency).
            if let (Some(account_id), Some(currency)) = (&account, currency) {
                let key = (account_id.clone(), currency);
                if let Some(first) = seen.get(&key) {
                    self.error(
                        path.clone(),
                        Some(spanned.span()),
                        format!(
                            "sweep[{first}] already sweeps {account_id} {currency}; one rule per account and currency"
                        ),
                    );
                    pair_ok = false;
                } else {
                    seen.insert(key.clone(), idx);
                    if let (Some(into_id), true) = (&into, pair_ok) {
                        edges.insert(key, (idx, into_id.clone()));
                    }
                }
            }

            let built = (|| {
                if !pair_ok || !transfers_ok {
                    return None;
                }
                Some(SweepRule {
                    account: account?,
                    currency: currency?,
                    into: into?,
                    method: method?,
                    direction: direction?,
                    min_transfer: min_transfer?,
                    max_transfer: max_transfer?,
                    rounding: rounding?,
                    priority: priority?,
                    partial_allowed: sweep.partial_allowed.unwrap_or(false),
                    roll: roll?,
                })
            })();
            match (built, out.as_mut()) {
                (Some(rule), Some(rules)) => rules.push(rule),
                _ => out = None,
            }
        }
        if self.sweep_cycles(raw, &edges) {
            out = None;
        }
        out
    }

    /// Checks one end of a sweep rule: a declared, non-external account holding the currency.
    fn sweep_end(
        &mut self,
        path: &str,
        raw: &Sp<String>,
        currency: Option<Currency>,
        facts: &HashMap<String, AccountFacts>,
    ) -> Option<String> {
        let text = raw.get_ref();
        let Some(account) = facts.get(text) else {
            self.error(
                path,
                Some(raw.span()),
                format!("unknown account {text:?}; expected the id of a declared [[account]]"),
            );
            return None;
        };
        if account.kind == Some(AccountKind::External) || account.entity == EXTERNAL_ENTITY {
            self.error(
                path,
                Some(raw.span()),
                format!(
                    "{text:?} is an external account; external accounts are never swept, name an account of the group"
                ),
            );
            return None;
        }
        if let Some(currency) = currency {
            if !account.currencies.contains(&currency) {
                self.error(
                    path,
                    Some(raw.span()),
                    format!(
                        "account {text:?} does not hold {currency} (its currencies: {}); both accounts of a sweep must hold its currency",
                        list_codes(&account.currencies)
                    ),
                );
                return None;
            }
        }
        Some(text.clone())
    }

    /// Refuses a sweep rule that can never run because the second line
    /// forbids it: a sweep is a `pool_funding` movement, which the same-name
    /// rules (同名划转: current account, loan repayment, real investment)
    /// never let across. So a rule between one entity's own FT and ordinary
    /// accounts, or between any FT and ordinary accounts under
    /// `second_line_between_entities = "same_name"`, is refused here rather
    /// than failing every evening.
    fn sweeps_across_the_second_line(
        &mut self,
        raw: &[Sp<RawSweep>],
        sweeps: &[SweepRule],
        accounts: &[AccountSpec],
        rule: SecondLineRule,
    ) {
        let find = |id: &str| accounts.iter().find(|account| account.id == id);
        for (idx, (sweep, spanned)) in sweeps.iter().zip(raw).enumerate() {
            let (Some(from), Some(into)) = (find(&sweep.account), find(&sweep.into)) else { continue };
            let across = matches!(
                (from.zone, into.zone),
                (Some(Zone::Ft), Some(Zone::Onshore)) | (Some(Zone::Onshore), Some(Zone::Ft))
            );
            if !across {
                continue;
            }
            let same_name = from.entity == into.entity;
            if !same_name && rule == SecondLineRule::CrossBorder {
                continue;
            }
            let why = if same_name {
                format!(
                    "between {}'s own FT account and ordinary account (同名划转), which the second line opens only to current_account, loan_repayment and real_investment",
                    from.entity
                )
            } else {
                "across the second line, which `pool.second_line_between_entities = \"same_name\"` opens only to current_account, loan_repayment and real_investment".to_string()
            };
            self.error(
                format!("sweep[{idx}].into"),
                Some(spanned.get_ref().into.span()),
                format!(
                    "this rule can never run: it sweeps {} -> {} {why}, and a sweep is pool_funding; sweep through an account on the same side of the line, or move the money with one of those purposes",
                    sweep.account, sweep.into
                ),
            );
        }
    }

    /// Reports every cycle among sweep rules of the same currency (once, at the
    /// rule with the lowest index in it). Returns whether there was one.
    fn sweep_cycles(&mut self, raw: &[Sp<RawSweep>], edges: &SweepEdges) -> bool {
        let mut found = false;
        let mut starts: Vec<(&SweepKey, &(usize, String))> = edges.iter().collect();
        starts.sort_by_key(|(_, (idx, _))| *idx);
        for (start, (start_idx, _)) in starts {
            let mut chain = vec![start.0.clone()];
            let mut min_idx = *start_idx;
            let mut current = start.clone();
            let mut cyclic = false;
            for _ in 0..edges.len() {
                let Some((idx, next)) = edges.get(&current) else { break };
                min_idx = min_idx.min(*idx);
                chain.push(next.clone());
                if *next == start.0 {
                    cyclic = true;
                    break;
                }
                current = (next.clone(), start.1);
            }
            if cyclic && min_idx == *start_idx {
                found = true;
                let span = raw.get(*start_idx).map(|rule| rule.get_ref().into.span());
                self.error(
                    format!("sweep[{start_idx}].into"),
                    span,
                    format!(
                        "the {} sweep rules form a cycle ({}); a sweep hierarchy must end at a header account that is not swept itself",
                        start.1,
                        chain.join(" → ")
                    ),
                );
            }
        }
        found
    }

    // --- [[interest]] -------------------------------------------------------------------------

    /// The `[[interest]]` rows: fixed or benchmark, pool-wide or a member's own, dated or from the
    /// beginning; no two rows for the same currency, member and `effective`.
    fn interest(
        &mut self,
        raw: &[Sp<RawInterest>],
        entities: &[CheckedEntity],
        host: &str,
    ) -> Option<Vec<InterestRule>> {
        let mut out = Some(Vec::with_capacity(raw.len()));
        // (currency, member, effective) -> the first row that sets it.
        let mut seen: HashMap<(Currency, Option<String>, Option<NaiveDate>), usize> = HashMap::new();
        for (idx, spanned) in raw.iter().enumerate() {
            let rule = spanned.get_ref();
            let path = format!("interest[{idx}]");
            let currency = self.currency(&format!("{path}.currency"), &rule.currency);
            let entity = match &rule.entity {
                Some(raw_entity) => {
                    self.interest_entity(&format!("{path}.entity"), raw_entity, entities, host).map(Some)
                }
                None => Some(None),
            };
            let effective = match &rule.effective {
                Some(raw_date) => self.date(&format!("{path}.effective"), raw_date).map(Some),
                None => Some(None),
            };
            let mut unique = true;
            if let (Some(code), Some(member), Some(from)) = (currency, &entity, effective) {
                let key = (code, member.clone(), from);
                if let Some(first) = seen.get(&key) {
                    let whose = member.as_deref().map_or("the pool's".to_string(), |m| format!("{m}'s own"));
                    let when = from.map_or("from the beginning".to_string(), |date| format!("from {date}"));
                    self.error(
                        format!("{path}.currency"),
                        Some(rule.currency.span()),
                        format!(
                            "interest[{first}] already sets {whose} {code} terms {when}; one [[interest]] rule per currency, \
                             member and effective date (give a later `effective` to change the terms from that date)"
                        ),
                    );
                    unique = false;
                } else {
                    seen.insert(key, idx);
                }
            }
            let day_count = match DayCount::parse(rule.day_count.get_ref()) {
                Some(day_count) => Some(day_count),
                None => {
                    let expected: Vec<&str> = DayCount::ALL.iter().map(|dc| dc.as_str()).collect();
                    self.error(
                        format!("{path}.day_count"),
                        Some(rule.day_count.span()),
                        format!(
                            "unknown day count {:?}; expected one of {}",
                            rule.day_count.get_ref(),
                            expected.join(", ")
                        ),
                    );
                    None
                }
            };
            let pricing = self.interest_pricing(&path, spanned);
            let tiers = self.interest_tiers(&path, rule, currency, rule.benchmark.is_some());
            let built = (|| {
                let (credit_rate, debit_rate, benchmark) = pricing?;
                unique.then_some(())?;
                Some(InterestRule {
                    currency: currency?,
                    entity: entity?,
                    effective: effective?,
                    day_count: day_count?,
                    credit_rate,
                    debit_rate,
                    tiers: tiers?,
                    benchmark,
                })
            })();
            match (built, out.as_mut()) {
                (Some(rule), Some(rules)) => rules.push(rule),
                _ => out = None,
            }
        }
        out
    }

    /// A row's `entity`: a member of the group other than the host (the host has no
    /// intercompany position to bear interest).
    fn interest_entity(
        &mut self,
        path: &str,
        raw: &Sp<String>,
        entities: &[CheckedEntity],
        host: &str,
    ) -> Option<String> {
        let id = raw.get_ref();
        let known = entities.iter().filter_map(|checked| checked.key.as_ref()).any(|(known, _)| known == id);
        if !known {
            self.error(
                path,
                Some(raw.span()),
                format!("{id:?} is not an entity of the group; a member's own terms name one of the [[entity]] ids"),
            );
            return None;
        }
        if id == host {
            self.error(
                path,
                Some(raw.span()),
                format!(
                    "{id:?} is the pool's host, which has no intercompany position to bear interest; name a member"
                ),
            );
            return None;
        }
        Some(id.clone())
    }

    /// A row's rates: `credit_rate` and `debit_rate` (a fixed row), or `benchmark` with
    /// `credit_margin` and `debit_margin` and the optional floors, caps, lookback and age limit.
    fn interest_pricing(
        &mut self,
        path: &str,
        spanned: &Sp<RawInterest>,
    ) -> Option<(Decimal, Decimal, Option<BenchmarkTerms>)> {
        let rule = spanned.get_ref();
        let span = Some(spanned.span());
        let Some(series) = &rule.benchmark else {
            // A fixed row: the benchmark's keys have no meaning in it.
            let benchmark_keys = [
                ("benchmark_floor", &rule.benchmark_floor),
                ("credit_margin", &rule.credit_margin),
                ("debit_margin", &rule.debit_margin),
                ("credit_floor", &rule.credit_floor),
                ("debit_floor", &rule.debit_floor),
                ("credit_cap", &rule.credit_cap),
                ("debit_cap", &rule.debit_cap),
                ("lookback_days", &rule.lookback_days),
                ("stale_after_days", &rule.stale_after_days),
            ];
            let mut stray = false;
            for (key, value) in benchmark_keys {
                if let Some(value) = value {
                    self.error(
                        format!("{path}.{key}"),
                        Some(value.span()),
                        format!("`{key}` applies to a benchmark rate; this row has fixed rates (no `benchmark`): remove it, or give `benchmark = \"SERIES\"`"),
                    );
                    stray = true;
                }
            }
            let credit = self.required_percent(path, "credit_rate", &rule.credit_rate, span.clone(), "a fixed row");
            let debit = self.required_percent(path, "debit_rate", &rule.debit_rate, span, "a fixed row");
            if stray {
                return None;
            }
            return Some((credit?, debit?, None));
        };
        let mut mixed = false;
        for (key, value) in [("credit_rate", &rule.credit_rate), ("debit_rate", &rule.debit_rate)] {
            if let Some(value) = value {
                let margin = key.replace("_rate", "_margin");
                self.error(
                    format!("{path}.{key}"),
                    Some(value.span()),
                    format!("a row with `benchmark` gives margins over the fixing, not rates: write `{margin}` (percent per annum, may be negative), or remove `benchmark` for a fixed rate"),
                );
                mixed = true;
            }
        }
        let series_id = match crate::benchmarks::check_series(series.get_ref()) {
            Ok(()) => Some(series.get_ref().clone()),
            Err(reason) => {
                self.error(format!("{path}.benchmark"), Some(series.span()), reason);
                None
            }
        };
        let credit = self.required_margin(path, "credit_margin", &rule.credit_margin, span.clone());
        let debit = self.required_margin(path, "debit_margin", &rule.debit_margin, span);
        let mut bound = |key: &str, value: &Option<Sp<Value>>| match value {
            Some(value) => self.signed_percent(&format!("{path}.{key}"), value).map(Some),
            None => Some(None),
        };
        let benchmark_floor = bound("benchmark_floor", &rule.benchmark_floor);
        let credit_floor = bound("credit_floor", &rule.credit_floor);
        let debit_floor = bound("debit_floor", &rule.debit_floor);
        let credit_cap = bound("credit_cap", &rule.credit_cap);
        let debit_cap = bound("debit_cap", &rule.debit_cap);
        for (side, floor, cap, raw_cap) in
            [("credit", credit_floor, credit_cap, &rule.credit_cap), ("debit", debit_floor, debit_cap, &rule.debit_cap)]
        {
            if let (Some(Some(floor)), Some(Some(cap)), Some(raw_cap)) = (floor, cap, raw_cap) {
                if cap < floor {
                    self.error(
                        format!("{path}.{side}_cap"),
                        Some(raw_cap.span()),
                        format!("the {side} cap {cap} is below the {side} floor {floor}; a cap is the highest rate, at or above the floor"),
                    );
                    mixed = true;
                }
            }
        }
        let lookback_days = match &rule.lookback_days {
            Some(value) => self.whole_number(&format!("{path}.lookback_days"), value, 0, LOOKBACK_DAYS_MAX, "2"),
            None => Some(0),
        };
        let stale_after_days = match (&rule.stale_after_days, &series_id) {
            (Some(value), _) => {
                self.whole_number(&format!("{path}.stale_after_days"), value, 1, STALE_AFTER_DAYS_MAX, "14")
            }
            (None, Some(series)) => Some(BenchmarkTerms::default_stale_after_days(series)),
            (None, None) => None,
        };
        if mixed {
            return None;
        }
        let terms = BenchmarkTerms {
            series: series_id?,
            benchmark_floor: benchmark_floor?,
            credit_floor: credit_floor?,
            debit_floor: debit_floor?,
            credit_cap: credit_cap?,
            debit_cap: debit_cap?,
            lookback_days: lookback_days?,
            stale_after_days: stale_after_days?,
        };
        Some((credit?, debit?, Some(terms)))
    }

    /// A row's tiers: `from` strictly increasing, with rates (a fixed row) or margins (a benchmark row).
    fn interest_tiers(
        &mut self,
        path: &str,
        rule: &RawInterest,
        currency: Option<Currency>,
        benchmark: bool,
    ) -> Option<Vec<InterestTier>> {
        let mut tiers = Some(Vec::with_capacity(rule.tiers.len()));
        let mut previous: Option<Decimal> = None;
        for (tidx, spanned) in rule.tiers.iter().enumerate() {
            let tpath = format!("{path}.tiers[{tidx}]");
            let tier = spanned.get_ref();
            let span = Some(spanned.span());
            let from = self.amount(&format!("{tpath}.from"), &tier.from, currency, Sign::Positive);
            if let (Some(from_value), Some(prev)) = (from, previous) {
                if from_value <= prev {
                    self.error(
                        format!("{tpath}.from"),
                        Some(tier.from.span()),
                        format!("tier from {from_value} must be above the previous tier's from {prev}; list tiers in increasing order"),
                    );
                    tiers = None;
                }
            }
            if from.is_some() {
                previous = from;
            }
            let (wanted, unwanted, what) = if benchmark {
                (
                    [("credit_margin", &tier.credit_margin), ("debit_margin", &tier.debit_margin)],
                    [("credit_rate", &tier.credit_rate), ("debit_rate", &tier.debit_rate)],
                    "a tier of a benchmark row gives margins over the fixing: write credit_margin and debit_margin",
                )
            } else {
                ([("credit_rate", &tier.credit_rate), ("debit_rate", &tier.debit_rate)],
                 [("credit_margin", &tier.credit_margin), ("debit_margin", &tier.debit_margin)],
                 "a tier of a fixed row gives rates: write credit_rate and debit_rate (margins need `benchmark` on the row)")
            };
            for (key, value) in unwanted {
                if let Some(value) = value {
                    self.error(format!("{tpath}.{key}"), Some(value.span()), what);
                    tiers = None;
                }
            }
            let [(credit_key, credit_raw), (debit_key, debit_raw)] = wanted;
            let (credit, debit) = if benchmark {
                (
                    self.required_margin(&tpath, credit_key, credit_raw, span.clone()),
                    self.required_margin(&tpath, debit_key, debit_raw, span),
                )
            } else {
                (
                    self.required_percent(&tpath, credit_key, credit_raw, span.clone(), "a tier of a fixed row"),
                    self.required_percent(&tpath, debit_key, debit_raw, span, "a tier of a fixed row"),
                )
            };
            match (from, credit, debit, tiers.as_mut()) {
                (Some(from), Some(credit_rate), Some(debit_rate), Some(list)) => {
                    list.push(InterestTier { from, credit_rate, debit_rate })
                }
                _ => tiers = None,
            }
        }
        tiers
    }

    /// A required rate of a fixed row or tier ([`Checker::percent`]); missing, an error at `path.key`.
    fn required_percent(
        &mut self,
        path: &str,
        key: &str,
        value: &Option<Sp<Value>>,
        table: Option<Range<usize>>,
        what: &str,
    ) -> Option<Decimal> {
        match value {
            Some(value) => self.percent(&format!("{path}.{key}"), value),
            None => {
                self.error(
                    format!("{path}.{key}"),
                    table,
                    format!("required key `{key}` is missing; {what} gives credit_rate and debit_rate (or the row gives `benchmark` with margins)"),
                );
                None
            }
        }
    }

    /// A required margin of a benchmark row or tier ([`Checker::signed_percent`]).
    fn required_margin(
        &mut self,
        path: &str,
        key: &str,
        value: &Option<Sp<Value>>,
        table: Option<Range<usize>>,
    ) -> Option<Decimal> {
        match value {
            Some(value) => self.signed_percent(&format!("{path}.{key}"), value),
            None => {
                self.error(
                    format!("{path}.{key}"),
                    table,
                    format!("required key `{key}` is missing; a benchmark row gives credit_margin and debit_margin over the fixing (percent per annum, \"0\" for none)"),
                );
                None
            }
        }
    }

    // --- values -------------------------------------------------------------------------------

    /// An id: 1..=64 bytes of printable ASCII without spaces.
    fn id(&mut self, path: &str, raw: &Sp<String>) -> Option<String> {
        let text = raw.get_ref();
        let problem = if text.is_empty() {
            Some("must not be empty".to_string())
        } else if text.len() > ID_LEN_MAX {
            Some(format!("is {} bytes long; at most {ID_LEN_MAX} are allowed", text.len()))
        } else {
            text.chars().find(|c| !c.is_ascii_graphic()).map(|c| format!("{text:?} contains {c:?}"))
        };
        match problem {
            None => Some(text.clone()),
            Some(problem) => {
                self.error(
                    path,
                    Some(raw.span()),
                    format!("{problem}; an id is 1 to {ID_LEN_MAX} printable ASCII characters without spaces, e.g. \"LGT-SH\""),
                );
                None
            }
        }
    }

    /// A display name: not blank, at most 256 bytes, no control characters.
    fn name(&mut self, path: &str, raw: &Sp<String>) -> Option<String> {
        let text = raw.get_ref();
        let problem = if text.trim().is_empty() {
            Some("must not be empty".to_string())
        } else if text.len() > NAME_LEN_MAX {
            Some(format!("is {} bytes long; at most {NAME_LEN_MAX} are allowed", text.len()))
        } else {
            text.chars().find(|c| c.is_control()).map(|c| format!("contains the control character {c:?}"))
        };
        match problem {
            None => Some(text.clone()),
            Some(problem) => {
                self.error(path, Some(raw.span()), format!("name {problem}; expected a one-line display name"));
                None
            }
        }
    }

    /// A BIC (ISO 9362): 8 or 11 upper-case letters and digits, letters for the country.
    fn bic(&mut self, path: &str, raw: &Sp<String>) -> Option<String> {
        let text = raw.get_ref();
        let bytes = text.as_bytes();
        let shape_ok = (bytes.len() == 8 || bytes.len() == 11)
            && bytes.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && bytes[4..6].iter().all(u8::is_ascii_uppercase);
        if shape_ok {
            Some(text.clone())
        } else {
            self.error(
                path,
                Some(raw.span()),
                format!("{text:?} is not a BIC; expected 8 or 11 upper-case letters and digits (ISO 9362), e.g. \"BKCHCNBJ300\""),
            );
            None
        }
    }

    /// An active ISO 4217 currency code.
    fn currency(&mut self, path: &str, raw: &Sp<String>) -> Option<Currency> {
        let code = raw.get_ref();
        match Currency::from_code(code) {
            Some(currency) => Some(currency),
            None => {
                self.error(
                    path,
                    Some(raw.span()),
                    format!("unknown currency {code:?}; expected an active ISO 4217 code in upper case, such as \"CNY\", \"USD\", \"JPY\""),
                );
                None
            }
        }
    }

    /// A quoted decimal string (not a TOML number).
    fn decimal(&mut self, path: &str, raw: &Sp<Value>) -> Option<Decimal> {
        match raw.get_ref() {
            Value::String(text) => match parse_decimal(text) {
                Ok(value) => Some(value),
                Err(error) => {
                    self.error(
                        path,
                        Some(raw.span()),
                        format!("{error}; expected a decimal string such as \"1000.00\""),
                    );
                    None
                }
            },
            Value::Float(_) | Value::Integer(_) => {
                let literal = self.text.get(raw.span()).unwrap_or("").trim();
                let quoted = if parse_decimal(literal).is_ok() {
                    format!("\"{literal}\"")
                } else {
                    "a quoted decimal string such as \"1000.00\"".to_string()
                };
                let kind = if matches!(raw.get_ref(), Value::Float(_)) {
                    "a TOML float, and floats are not exact money"
                } else {
                    "a TOML number"
                };
                self.error(
                    path,
                    Some(raw.span()),
                    format!("{literal} is {kind}: quote it, write {quoted}; amounts and rates are decimal strings"),
                );
                None
            }
            other => {
                self.error(
                    path,
                    Some(raw.span()),
                    format!("expected a quoted decimal string such as \"1000.00\", found {}", other.type_str()),
                );
                None
            }
        }
    }

    /// An amount at `currency`'s minor units. With `currency` unknown (already
    /// reported), checks the syntax and sign only and returns `None`.
    fn amount(&mut self, path: &str, raw: &Sp<Value>, currency: Option<Currency>, sign: Sign) -> Option<Decimal> {
        let value = self.decimal(path, raw)?;
        if !sign.accepts(value) {
            self.error(path, Some(raw.span()), format!("amount {value} must be {}", sign.expectation()));
            return None;
        }
        let currency = currency?;
        match to_currency_scale(value, currency) {
            Ok(scaled) => Some(scaled),
            Err(MoneyError::TooManyDecimals { amount, currency, minor_units }) => {
                self.error(
                    path,
                    Some(raw.span()),
                    format!("{amount} has more decimals than {currency} allows: expected at most {minor_units} decimal place(s)"),
                );
                None
            }
            Err(error) => {
                self.error(path, Some(raw.span()), format!("{error}; expected an amount of at most 10^18"));
                None
            }
        }
    }

    /// A whole TOML number (unquoted) in `min..=max`.
    fn whole_number(&mut self, path: &str, raw: &Sp<Value>, min: u32, max: u32, example: &str) -> Option<u32> {
        match raw.get_ref() {
            Value::Integer(number) => match u32::try_from(*number) {
                Ok(value) if (min..=max).contains(&value) => Some(value),
                _ => {
                    self.error(
                        path,
                        Some(raw.span()),
                        format!("{number} is out of range; expected a whole number from {min} to {max}"),
                    );
                    None
                }
            },
            other => {
                self.error(
                    path,
                    Some(raw.span()),
                    format!("expected a whole number such as {example} (unquoted), found {}", other.type_str()),
                );
                None
            }
        }
    }

    /// A regulatory factor: a decimal > 0, normalized.
    fn factor(&mut self, path: &str, raw: &Sp<Value>) -> Option<Decimal> {
        let value = self.decimal(path, raw)?;
        if value <= Decimal::ZERO {
            self.error(path, Some(raw.span()), format!("{value} must be greater than 0"));
            return None;
        }
        Some(value.normalize())
    }

    /// A fraction in `[0, 1)` (a tax rate), normalized.
    fn fraction(&mut self, path: &str, raw: &Sp<Value>) -> Option<Decimal> {
        let value = self.decimal(path, raw)?;
        if value < Decimal::ZERO || value >= Decimal::ONE {
            self.error(
                path,
                Some(raw.span()),
                format!("{value} is out of range; expected a fraction from 0 up to (not including) 1, e.g. \"0.07\" for 7 %"),
            );
            return None;
        }
        Some(value.normalize())
    }

    /// A percentage per annum in `[0, 100]`, normalized.
    fn percent(&mut self, path: &str, raw: &Sp<Value>) -> Option<Decimal> {
        let value = self.decimal(path, raw)?;
        if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
            self.error(
                path,
                Some(raw.span()),
                format!("{value} is out of range; rates are percent per annum from 0 to 100, e.g. \"4.00\" for 4 %"),
            );
            return None;
        }
        Some(value.normalize())
    }

    /// A margin, floor or cap: percent per annum in `[-100, 100]`, normalized.
    fn signed_percent(&mut self, path: &str, raw: &Sp<Value>) -> Option<Decimal> {
        let value = self.decimal(path, raw)?;
        if value < -Decimal::ONE_HUNDRED || value > Decimal::ONE_HUNDRED {
            self.error(
                path,
                Some(raw.span()),
                format!("{value} is out of range; margins, floors and caps are percent per annum from -100 to 100, e.g. \"-0.50\" for minus half a percent"),
            );
            return None;
        }
        Some(value.normalize())
    }

    /// An ISO `YYYY-MM-DD` date: a string, or a TOML local date (no time, no offset).
    fn date(&mut self, path: &str, raw: &Sp<Value>) -> Option<NaiveDate> {
        let parsed = match raw.get_ref() {
            Value::String(text) => parse_iso_date(text),
            Value::Datetime(datetime) if datetime.time.is_none() && datetime.offset.is_none() => {
                datetime.date.and_then(|date| {
                    NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
                })
            }
            _ => None,
        };
        if parsed.is_none() {
            let shown = self.text.get(raw.span()).unwrap_or("").trim();
            self.error(
                path,
                Some(raw.span()),
                format!("{shown} is not a valid date; expected an ISO date \"YYYY-MM-DD\", e.g. \"2025-01-13\""),
            );
        }
        parsed
    }

    /// Reports a dated row whose `effective` is not after the previous row's.
    fn check_increasing(
        &mut self,
        path: &str,
        raw: &Sp<Value>,
        previous: Option<NaiveDate>,
        date: NaiveDate,
        rows: &str,
    ) {
        if let Some(previous) = previous {
            if date <= previous {
                self.error(
                    path,
                    Some(raw.span()),
                    format!("effective {date} must be after the previous row's {previous}; list {rows} rows in increasing date order, one per date"),
                );
            }
        }
    }
}

/// Parses exactly `YYYY-MM-DD` (four-digit year, two-digit month and day).
fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes.iter().enumerate().all(|(idx, b)| idx == 4 || idx == 7 || b.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let year: i32 = text.get(0..4)?.parse().ok()?;
    let month: u32 = text.get(5..7)?.parse().ok()?;
    let day: u32 = text.get(8..10)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The references a folded state relies on, checked when a format-2 group
/// definition record is replayed: the record was validated in full when it
/// was created (by the rules of that day), so replay re-checks only what the
/// ledger's code needs to hold (ids unique, every id it names defined), never
/// the value rules, which a later version may tighten without breaking old journals.
pub(crate) fn check_references(config: &GroupConfig) -> Result<(), String> {
    // Dated parameter histories, as the TOML parser requires them: one row per
    // date, in order (a journal's definition is not read through that parser).
    if !config.pool.limits.windows(2).all(|pair| pair[0].effective < pair[1].effective) {
        return Err("pool.limits: the rows' effective dates are not strictly increasing".into());
    }
    if config.risk_factors.is_empty()
        || !config.risk_factors.windows(2).all(|pair| pair[0].effective < pair[1].effective)
    {
        return Err("risk_factors: no row, or the rows' effective dates are not strictly increasing".into());
    }
    if !config.macro_prudential.windows(2).all(|pair| pair[0].effective < pair[1].effective) {
        return Err("macro_prudential: the rows' effective dates are not strictly increasing".into());
    }
    let mut entities = HashSet::new();
    for entity in &config.entities {
        if !entities.insert(entity.id.as_str()) {
            return Err(format!("entity {} is defined twice", entity.id));
        }
        if !entity.withholding.windows(2).all(|pair| pair[0].effective < pair[1].effective) {
            return Err(format!(
                "entity {}: the withholding rows' effective dates are not strictly increasing",
                entity.id
            ));
        }
        // The settlement's arithmetic relies on fractions (as the parser has always required).
        let rates = entity.withholding.iter().flat_map(|row| {
            [
                row.income_tax_rate,
                row.vat_rate,
                row.urban_maintenance_rate,
                row.education_surcharge_rate,
                row.local_education_surcharge_rate,
            ]
        });
        let mut rates = rates.chain(std::iter::once(entity.withholding_tax_rate)).flatten();
        if !rates.all(|rate| rate >= Decimal::ZERO && rate < Decimal::ONE) {
            return Err(format!("entity {}: a withholding rate is not a fraction in [0, 1)", entity.id));
        }
    }
    for (what, id) in [("host", &config.pool.host)] {
        if !entities.contains(id.as_str()) {
            return Err(format!("pool.{what} {id} is not an entity"));
        }
    }
    let mut accounts = HashSet::new();
    for account in &config.accounts {
        if !accounts.insert(account.id.as_str()) {
            return Err(format!("account {} is defined twice", account.id));
        }
        if account.entity != EXTERNAL_ENTITY && !entities.contains(account.entity.as_str()) {
            return Err(format!("account {}: entity {} is not defined", account.id, account.entity));
        }
        if account.id.starts_with(SYSTEM_ACCOUNT_PREFIX) {
            return Err(format!("account {}: {SYSTEM_ACCOUNT_PREFIX} ids are the ledger's own", account.id));
        }
    }
    for (what, id) in
        [("domestic_master", &config.pool.domestic_master), ("international_master", &config.pool.international_master)]
    {
        if !accounts.contains(id.as_str()) {
            return Err(format!("pool.{what} {id} is not an account"));
        }
    }
    for (idx, rule) in config.sweeps.iter().enumerate() {
        for id in [&rule.account, &rule.into] {
            if !accounts.contains(id.as_str()) {
                return Err(format!("sweep[{idx}]: account {id} is not defined"));
            }
        }
    }
    let mut rows = HashSet::new();
    for (idx, rule) in config.interest.iter().enumerate() {
        if !rows.insert((rule.currency, rule.entity.as_deref(), rule.effective)) {
            return Err(format!("interest[{idx}]: a second rule for the same currency, member and effective date"));
        }
        if let Some(entity) = &rule.entity {
            if !entities.contains(entity.as_str()) || *entity == config.pool.host {
                return Err(format!("interest[{idx}]: entity {entity} is not a member of the pool"));
            }
        }
        if let Some(terms) = &rule.benchmark {
            crate::benchmarks::check_series(&terms.series)
                .map_err(|reason| format!("interest[{idx}].benchmark: {reason}"))?;
            // The accrual's arithmetic relies on these bounds (as the parser requires them).
            if terms.lookback_days > LOOKBACK_DAYS_MAX || !(1..=STALE_AFTER_DAYS_MAX).contains(&terms.stale_after_days)
            {
                return Err(format!("interest[{idx}]: lookback_days or stale_after_days out of range"));
            }
        }
    }
    let calendars = &config.pool.calendars;
    let lists = calendars.currencies.iter().map(|(currency, ids)| (currency.code().to_string(), ids));
    for (key, ids) in lists.chain(calendars.accounts.iter().map(|(account, ids)| (account.clone(), ids))) {
        if ids.is_empty() || !ids.windows(2).all(|pair| pair[0] < pair[1]) {
            return Err(format!("pool.calendars {key}: not a sorted list of calendars, each once"));
        }
        if let Some(reason) = ids.iter().find_map(|id| crate::calendar::check_calendar_id(id).err()) {
            return Err(format!("pool.calendars {key}: calendar {reason}"));
        }
    }
    if let Some(account) = calendars.accounts.keys().find(|account| !accounts.contains(account.as_str())) {
        return Err(format!("pool.calendars: account {account} is not defined"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_strict() {
        assert_eq!(parse_iso_date("2025-01-13"), NaiveDate::from_ymd_opt(2025, 1, 13));
        for bad in
            ["2025-1-13", "2025-02-30", "20250113", "2025/01/13", "2025-01-13T00:00", " 2025-01-13", "２025-01-13"]
        {
            assert_eq!(parse_iso_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_replayed_definition_needs_its_withholding_rates_to_be_fractions() {
        // The settlement's arithmetic relies on it (withholding.rs); the parser always required it.
        let example = include_str!("../../../examples/lingang-group.toml");
        let mut config = parse_group_config(example).expect("the example group is valid");
        check_references(&config).expect("as parsed");
        let sg = config.entities.iter_mut().find(|e| e.id == "LGT-SG").expect("LGT-SG");
        sg.withholding[0].vat_rate = Some(Decimal::ONE);
        let reason = check_references(&config).unwrap_err();
        assert_eq!(reason, "entity LGT-SG: a withholding rate is not a fraction in [0, 1)");
        let sg = config.entities.iter_mut().find(|e| e.id == "LGT-SG").expect("LGT-SG");
        sg.withholding[0].vat_rate = None;
        sg.withholding_tax_rate = Some(Decimal::NEGATIVE_ONE);
        assert!(check_references(&config).is_err());
    }

    #[test]
    fn line_numbers_are_one_based() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }

    #[test]
    fn error_display() {
        let error = ConfigError { path: "account[3].overdraft.CNY".into(), line: None, message: "bad".into() };
        assert_eq!(error.to_string(), "account[3].overdraft.CNY: bad");
        let error = ConfigError { path: String::new(), line: Some(12), message: "bad".into() };
        assert_eq!(error.to_string(), "line 12: bad");
        let errors = ConfigErrors(vec![error.clone(), error]);
        assert_eq!(errors.to_string(), "line 12: bad\nline 12: bad");
    }
}
