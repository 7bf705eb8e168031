//! Sweeping: concentration of members' surplus into the pool (资金归集) and
//! funding of members in deficit from it (余缺调剂), by the group's rules.
//!
//! A run for a value date plans every sweep from value-dated end-of-day
//! balances, then posts them as one atomic batch together with a `SweepRun`
//! journal entry that records the report. A second run for the same date finds
//! that entry, posts nothing and reports the same result; a dry run plans
//! exactly as a real run would and writes nothing.
//!
//! Order: rules whose account is no other rule's `into` (members) run first,
//! then the rules of the headers they sweep into, level by level (bottom-up).
//! Within a level every concentration runs first (it gives the header what it
//! can then lend), then funding by priority (1 first), ties by account id.
//!
//! Business days (docs/SWEEPS.md, "Business days"): a rule whose calendars
//! (its currency's and both its accounts', [`crate::config::CalendarRules`])
//! are not all open on the run's date is skipped, `not_business_day`, and the
//! next business day's run sweeps what waited (`roll = "following"`); under
//! `"modified_following"` the month's last business day plans the rule on
//! the balance through the month's end as well; under `"none"` the run is
//! refused.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::calendar::DayStatus;
use crate::config::{QuotaModel, Roll, SweepDirection, SweepMethod, SweepRule};
use crate::journal::{PostedTransaction, Posting};
use crate::model::{ic_account, Classification, Purpose, SYS_IC_POOL};
use crate::money::Currency;
use crate::state::{Rejection, State};
use crate::tx::{PostingRequest, TransactionRequest};

/// Which way a sweep moves money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// Concentration: member → header.
    Up,
    /// Funding: header → member.
    Down,
}

/// One sweep of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepLine {
    /// The member's account (the rule's account).
    pub account: String,
    pub currency: crate::money::Currency,
    /// At the currency's minor units.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub direction: Flow,
    /// The header account.
    pub into: String,
    /// At most 16 characters: the transaction id and the reference a bank statement carries.
    pub reference: String,
    /// Cut to the pool's cross-border headroom.
    pub capped: bool,
}

/// Why a sweep the rules wanted did not happen.
///
/// Its serde form is its code as a string (`below_min_transfer`, …): format 1
/// journaled the reason as text, and its stores still decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// Less than the rule's `min_transfer` (after rounding, or all the sender can give).
    BelowMinTransfer,
    /// Funding: the header cannot give it (partial not allowed, or nothing left).
    HeaderShort,
    /// The pool's cross-border caps leave no headroom for it.
    Limit,
    /// No rate to weigh it against the pool's caps.
    MissingRate,
    /// The second line does not let it across on that day (docs/LIMITS.md).
    SecondLine,
    /// The day is not a business day for the rule (a calendar of its currency
    /// or of one of its accounts is closed); with `roll = "following"` or
    /// `"modified_following"` the next business day's run sweeps it.
    NotBusinessDay,
}

impl SkipReason {
    /// Every reason, in the order of their codes' documentation.
    pub const ALL: [SkipReason; 6] = [
        SkipReason::BelowMinTransfer,
        SkipReason::HeaderShort,
        SkipReason::Limit,
        SkipReason::MissingRate,
        SkipReason::SecondLine,
        SkipReason::NotBusinessDay,
    ];

    /// The stable code: `below_min_transfer`, `header_short`, `limit`, `missing_rate`, `second_line`,
    /// `not_business_day`.
    pub fn code(self) -> &'static str {
        match self {
            SkipReason::BelowMinTransfer => "below_min_transfer",
            SkipReason::HeaderShort => "header_short",
            SkipReason::Limit => "limit",
            SkipReason::MissingRate => "missing_rate",
            SkipReason::SecondLine => "second_line",
            SkipReason::NotBusinessDay => "not_business_day",
        }
    }

    /// The reason with this code.
    pub fn from_code(code: &str) -> Option<SkipReason> {
        SkipReason::ALL.into_iter().find(|reason| reason.code() == code)
    }

    /// True when the pool's caps were the reason.
    pub fn is_cap(self) -> bool {
        matches!(self, SkipReason::Limit | SkipReason::MissingRate)
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for SkipReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for SkipReason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        SkipReason::from_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown sweep skip reason {code:?}")))
    }
}

/// A sweep the rules wanted but that did not happen, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedSweep {
    pub account: String,
    pub currency: crate::money::Currency,
    pub direction: Flow,
    /// What the rule wanted to move.
    #[serde(with = "rust_decimal::serde::str")]
    pub wanted: Decimal,
    pub reason: SkipReason,
    /// True when the pool's caps were the reason.
    pub capped: bool,
}

/// The result of a sweep run, journaled with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepRun {
    #[serde(with = "crate::journal::date_format")]
    pub date: NaiveDate,
    pub sweeps: Vec<SweepLine>,
    pub skipped: Vec<SkippedSweep>,
}

/// Whether an id has the shape of the ledger's own sweep, interest and
/// netting transactions (`NET-…`) or of an adopted bank line (`BNK-…`). Such ids are reserved: a posted transaction may not take one,
/// so that a sweep's or a settlement's id is always free when it runs.
pub(crate) fn is_reserved_id(id: &str) -> bool {
    let b = id.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range).is_some_and(|part| part.iter().all(u8::is_ascii_digit));
    let sweep = b.len() == 13
        && id.starts_with("SW")
        && digits(2..8)
        && b[8] == b'R'
        && digits(9..12)
        && matches!(b[12], b'U' | b'D');
    let interest = id.starts_with("INT-") && digits(4..20) && b.get(20) == Some(&b'-');
    let netting = id.starts_with("NET-");
    let adopted = id.starts_with(ADOPTED_PREFIX);
    sweep || interest || netting || adopted
}

/// The id prefix of a transaction that adopts a bank-initiated statement line
/// (`BNK-<statement entry>-<line>`, see `cashpool recon adopt`).
pub const ADOPTED_PREFIX: &str = "BNK-";

/// The id of the transaction adopting line `line` (1-based) of the statement journaled in entry `seq`.
pub fn adopted_id(seq: u64, line: usize) -> String {
    format!("{ADOPTED_PREFIX}{seq}-{line}")
}

/// The reference of the sweep of rule `rule_idx` on `date`: `SW` + YYMMDD + `R` + rule + U/D (13 characters).
pub(crate) fn sweep_reference(date: NaiveDate, rule_idx: usize, direction: Flow) -> String {
    let arrow = match direction {
        Flow::Up => 'U',
        Flow::Down => 'D',
    };
    format!("SW{}R{rule_idx:03}{arrow}", date.format("%y%m%d"))
}

/// Rounds `amount` to a multiple: down for concentration, up for funding.
fn to_multiple(amount: Decimal, multiple: Option<Decimal>, direction: Flow) -> Decimal {
    match multiple {
        Some(m) if m > Decimal::ZERO => {
            let strategy = match direction {
                Flow::Up => RoundingStrategy::ToZero,
                Flow::Down => RoundingStrategy::AwayFromZero,
            };
            (amount / m).round_dp_with_strategy(0, strategy) * m
        }
        _ => amount,
    }
}

/// What a rule wants to move from a balance: (direction, amount), before limits.
pub(crate) fn wanted(rule: &SweepRule, balance: Decimal) -> Option<(Flow, Decimal)> {
    let up_allowed = matches!(rule.direction, SweepDirection::Up | SweepDirection::Both);
    let down_allowed = matches!(rule.direction, SweepDirection::Down | SweepDirection::Both);
    let zero = Decimal::ZERO;
    let (up, down) = match &rule.method {
        SweepMethod::Zero => (balance.max(zero), (-balance).max(zero)),
        SweepMethod::Target { target } => ((balance - target).max(zero), (target - balance).max(zero)),
        SweepMethod::Threshold { threshold } => {
            (if balance >= *threshold && balance > zero { balance } else { zero }, (-balance).max(zero))
        }
        SweepMethod::Range { min, max } => ((balance - max).max(zero), (min - balance).max(zero)),
    };
    if up > zero && up_allowed {
        Some((Flow::Up, up))
    } else if down > zero && down_allowed {
        Some((Flow::Down, down))
    } else {
        None
    }
}

/// The planned run: the transactions to post and the report.
pub(crate) struct Plan {
    pub(crate) requests: Vec<TransactionRequest>,
    pub(crate) run: SweepRun,
}

struct Planner<'s> {
    state: &'s State,
    date: NaiveDate,
    /// Changes of this run per (account, currency).
    deltas: HashMap<(String, Currency), Decimal>,
    /// Counted cross-border flow of this run.
    flow: Decimal,
    /// The pool movements of this run (separate quota model).
    moves: Vec<crate::limits::PoolMove>,
    requests: Vec<TransactionRequest>,
    run: SweepRun,
}

impl Planner<'_> {
    /// The balance the rules see: value-dated end of day, and never more than
    /// the balance of all postings (a later-dated debit is already committed).
    fn balance(&self, account: &str, currency: Currency) -> Decimal {
        self.balance_through(account, currency, None)
    }

    /// [`Planner::balance`], and never more than the balance value-dated
    /// through `month_end` either (a rule brought forward by
    /// `modified_following`: it funds what the days after the run need by
    /// the month's end, and concentrates nothing that has not arrived).
    fn balance_through(&self, account: &str, currency: Currency, month_end: Option<NaiveDate>) -> Decimal {
        let delta = self.deltas.get(&(account.to_string(), currency)).copied().unwrap_or_default();
        let Some(idx) = self.state.account_idx(account) else { return Decimal::ZERO };
        let as_of = self.state.balance(idx, currency, Some(self.date));
        let total = self.state.balance(idx, currency, None);
        let through = month_end.map_or(total, |end| self.state.balance(idx, currency, Some(end)));
        as_of.min(total).min(through) + delta
    }

    /// What an account can give without breaking its overdraft (`None`: unbounded).
    fn available(&self, account: &str, currency: Currency) -> Option<Decimal> {
        let idx = self.state.account_idx(account)?;
        let overdraft = self.state.spec(idx).overdraft(currency)?;
        Some((self.balance(account, currency) + overdraft).max(Decimal::ZERO))
    }

    fn skip(&mut self, rule: &SweepRule, direction: Flow, wanted: Decimal, reason: SkipReason) {
        self.run.skipped.push(SkippedSweep {
            account: rule.account.clone(),
            currency: rule.currency,
            direction,
            wanted,
            reason,
            capped: reason.is_cap(),
        });
    }

    fn transaction(&self, rule: &SweepRule, direction: Flow, amount: Decimal, reference: &str) -> TransactionRequest {
        let (from, to) = match direction {
            Flow::Up => (&rule.account, &rule.into),
            Flow::Down => (&rule.into, &rule.account),
        };
        let code = rule.currency.code().to_string();
        let leg = |account: &str, amount: Decimal| PostingRequest {
            account: account.to_string(),
            currency: code.clone(),
            amount,
        };
        let mut postings = vec![leg(from, -amount), leg(to, amount)];
        let member = self.state.account_idx(&rule.account).map(|idx| self.state.spec(idx).entity.clone());
        let header = self.state.account_idx(&rule.into).map(|idx| self.state.spec(idx).entity.clone());
        let host = self.state.config_on(self.date).map(|config| config.pool.host.clone());
        if let (Some(member), Some(header)) = (member, header) {
            if member != header {
                // The member lends to (up) or borrows from (down) the header's
                // entity: the pool itself when the header is the host's, else
                // the member that runs the sub-pool (docs/SWEEPS.md, "Sub-pools").
                let position_of = |entity: &str| {
                    if Some(entity) == host.as_deref() {
                        SYS_IC_POOL.to_string()
                    } else {
                        ic_account(entity)
                    }
                };
                let lent = if direction == Flow::Up { amount } else { -amount };
                postings.push(leg(&position_of(&member), lent));
                postings.push(leg(&position_of(&header), -lent));
            }
        }
        let word = if direction == Flow::Up { "concentration" } else { "funding" };
        TransactionRequest {
            id: reference.to_string(),
            value_date: self.date,
            purpose: Purpose::PoolFunding,
            reference: reference.to_string(),
            memo: format!(
                "sweep {word} {} {} {}",
                rule.account,
                if direction == Flow::Up { "->" } else { "<-" },
                rule.into
            ),
            postings,
            rate: None,
            term_days: None,
            lender: None,
        }
    }

    /// The transaction a sweep request would post, classified.
    fn posted(&self, request: &TransactionRequest) -> PostedTransaction {
        let postings = request
            .postings
            .iter()
            .map(|p| Posting {
                account: p.account.clone(),
                currency: Currency::from_code(&p.currency).expect("a configured currency"),
                amount: p.amount,
            })
            .collect();
        let mut tx = PostedTransaction {
            id: request.id.clone(),
            value_date: request.value_date,
            purpose: request.purpose,
            reference: request.reference.clone(),
            memo: String::new(),
            postings,
            rate: None,
            term_days: None,
            lender: None,
            classification: crate::model::Classification::Internal,
            operator: String::new(),
            effects: None,
        };
        tx.classification = self.state.classify(&tx);
        tx
    }

    /// The counted cross-border flow a sweep would have, in the base currency.
    fn flow_of(&self, request: &TransactionRequest) -> Result<Option<Decimal>, Rejection> {
        let tx = self.posted(request);
        self.state.pool_flow(&tx, tx.classification, self.state.base_currency())
    }

    /// Plans one sweep of `amount`, within the caps; cut to the headroom when partial is allowed.
    fn plan(&mut self, rule_idx: usize, rule: &SweepRule, direction: Flow, amount: Decimal) {
        let reference = sweep_reference(self.date, rule_idx, direction);
        let wanted = amount;
        let mut amount = amount;
        let mut capped = false;
        let base = self.state.base_currency();
        // The rules that do not depend on the amount: a sweep they refuse is
        // a reported skip, and the rest of the run goes on.
        let tx = self.posted(&self.transaction(rule, direction, amount, &reference));
        if tx.classification == Classification::SecondLine && self.state.check_second_line(&tx).is_err() {
            return self.skip(rule, direction, wanted, SkipReason::SecondLine);
        }
        if self.state.quota_model() == QuotaModel::Separate {
            return self.plan_separate(rule, direction, amount, reference);
        }
        for _ in 0..3 {
            let request = self.transaction(rule, direction, amount, &reference);
            let flow = match self.flow_of(&request) {
                Ok(flow) => flow,
                Err(_) => return self.skip(rule, direction, amount, SkipReason::MissingRate),
            };
            let Some(flow) = flow else { return self.commit(rule, direction, amount, request, capped) };
            let position = self.state.limits().pool_position(None) + self.flow;
            if self.state.check_pool_caps_at(self.date, position, flow, base).is_ok() {
                self.flow += flow;
                return self.commit(rule, direction, amount, request, capped);
            }
            if !rule.partial_allowed {
                return self.skip(rule, direction, wanted, SkipReason::Limit);
            }
            // Cut to the headroom, at the rate this flow implies, and check again.
            let (inflow_cap, outflow_cap) = self.state.pool_caps(self.date);
            let allowed = if flow > Decimal::ZERO { inflow_cap - position } else { outflow_cap + position };
            let cut = (amount * allowed / flow.abs())
                .round_dp_with_strategy(rule.currency.minor_units(), RoundingStrategy::ToZero);
            let cut = to_multiple(cut, rule.rounding, Flow::Up);
            let minor = Decimal::new(1, rule.currency.minor_units());
            amount = if capped { cut - minor } else { cut };
            capped = true;
            if amount <= Decimal::ZERO || rule.min_transfer.is_some_and(|min| amount < min) {
                return self.skip(rule, direction, wanted, SkipReason::Limit);
            }
        }
        self.skip(rule, direction, wanted, SkipReason::Limit);
    }

    /// [`Planner::plan`] under the separate quota model: the sweep's effect
    /// on each quota, with this run's earlier sweeps counted, must stay within
    /// its cap; cut to the headroom when partial is allowed.
    fn plan_separate(&mut self, rule: &SweepRule, direction: Flow, wanted: Decimal, reference: String) {
        let base = self.state.base_currency();
        let mut amount = wanted;
        let mut capped = false;
        for _ in 0..3 {
            let request = self.transaction(rule, direction, amount, &reference);
            let tx = self.posted(&request);
            let flow = match self.state.pool_flow(&tx, tx.classification, base) {
                Ok(flow) => flow,
                Err(_) => return self.skip(rule, direction, amount, SkipReason::MissingRate),
            };
            let Some(flow) = flow else { return self.commit(rule, direction, amount, request, capped) };
            let effects = match self.state.sweep_effects(&tx, flow) {
                Ok(effects) => effects,
                Err(_) => return self.skip(rule, direction, wanted, SkipReason::Limit),
            };
            let planned: Vec<&crate::limits::PoolMove> = self.moves.iter().collect();
            let (needed, allowed) = match self.state.check_quotas_with(self.date, &planned, &effects, base) {
                Ok(()) => {
                    self.moves.extend(effects.pool_move);
                    return self.commit(rule, direction, amount, request, capped);
                }
                Err(Rejection::Limit { requested, headroom, .. }) => (requested, headroom),
                Err(_) => return self.skip(rule, direction, wanted, SkipReason::Limit),
            };
            if !rule.partial_allowed || needed <= Decimal::ZERO {
                return self.skip(rule, direction, wanted, SkipReason::Limit);
            }
            // Cut in proportion to the headroom, and check again.
            let cut = (amount * allowed / needed)
                .round_dp_with_strategy(rule.currency.minor_units(), RoundingStrategy::ToZero);
            let cut = to_multiple(cut, rule.rounding, Flow::Up);
            let minor = Decimal::new(1, rule.currency.minor_units());
            amount = if capped { cut.min(amount) - minor } else { cut };
            capped = true;
            if amount <= Decimal::ZERO || rule.min_transfer.is_some_and(|min| amount < min) {
                return self.skip(rule, direction, wanted, SkipReason::Limit);
            }
        }
        self.skip(rule, direction, wanted, SkipReason::Limit);
    }

    fn commit(
        &mut self,
        rule: &SweepRule,
        direction: Flow,
        amount: Decimal,
        request: TransactionRequest,
        capped: bool,
    ) {
        let (from, to) = match direction {
            Flow::Up => (&rule.account, &rule.into),
            Flow::Down => (&rule.into, &rule.account),
        };
        *self.deltas.entry((from.clone(), rule.currency)).or_default() -= amount;
        *self.deltas.entry((to.clone(), rule.currency)).or_default() += amount;
        self.run.sweeps.push(SweepLine {
            account: rule.account.clone(),
            currency: rule.currency,
            amount,
            direction,
            into: rule.into.clone(),
            reference: request.id.clone(),
            capped,
        });
        self.requests.push(request);
    }

    /// Applies min/max transfer and the rounding multiple; `None` (recorded) when below the minimum.
    fn shaped(&mut self, rule: &SweepRule, direction: Flow, wanted: Decimal) -> Option<Decimal> {
        let mut amount = to_multiple(wanted, rule.rounding, direction);
        if let Some(max) = rule.max_transfer {
            amount = amount.min(max);
        }
        if amount <= Decimal::ZERO || rule.min_transfer.is_some_and(|min| amount < min) {
            self.skip(rule, direction, wanted, SkipReason::BelowMinTransfer);
            return None;
        }
        Some(amount)
    }
}

/// What a rule's calendars say of a run's date.
struct RuleDay {
    /// Why the rule does not sweep that day (not a business day).
    skip: Option<SkipReason>,
    /// The month's last day, when `modified_following` brings the sweeps of the
    /// days after the run (all closed, to the end of the month) forward to it.
    month_end: Option<NaiveDate>,
}

impl State {
    /// The calendars of `rule` on `date` (docs/SWEEPS.md, "Business days").
    fn rule_day(&self, rule: &SweepRule, date: NaiveDate) -> RuleDay {
        let calendars = self.config_on(date).map(|config| config.pool.calendars.for_rule(rule)).unwrap_or_default();
        if calendars.is_empty() {
            return RuleDay { skip: None, month_end: None };
        }
        // A weekday of a year a calendar does not cover is swept (its holidays are not known; the
        // run's outcome names the calendar, `SweepOutcome::calendars_missing`).
        let skip = match self.day_status(&calendars, date) {
            DayStatus::Open | DayStatus::Uncovered(_) => None,
            DayStatus::Closed(_) => Some(SkipReason::NotBusinessDay),
        };
        let month_end =
            (skip.is_none() && rule.roll == Roll::ModifiedFollowing).then(|| last_day_of_month(date)).filter(|&end| {
                // Every day after the run to the month's end is closed (the year is the run's,
                // which the calendars cover): the next business day is in the next month.
                end > date
                    && date
                        .iter_days()
                        .skip(1)
                        .take_while(|day| *day <= end)
                        .all(|day| matches!(self.day_status(&calendars, day), DayStatus::Closed(_)))
            });
        RuleDay { skip, month_end }
    }

    /// The refusal of a sweep run for `date` when a rule with `roll = "none"`
    /// has a calendar closed that day: the rule forbids rolling.
    pub(crate) fn check_sweep_day(&self, date: NaiveDate) -> Result<(), Rejection> {
        let Some(config) = self.config_on(date) else { return Ok(()) };
        for rule in config.sweeps.iter().filter(|rule| rule.roll == Roll::None) {
            let calendars = config.pool.calendars.for_rule(rule);
            if let DayStatus::Closed(closures) = self.day_status(&calendars, date) {
                let subject = format!(
                    "the sweep of {} {} into {} (its rule has roll = \"none\")",
                    rule.account, rule.currency, rule.into
                );
                return Err(Rejection::NotBusinessDay { field: "date".into(), subject, date, closures });
            }
        }
        Ok(())
    }

    /// The calendars of the sweep rules that hold no day of `date`'s year:
    /// a run sweeps their weekdays without knowing their holidays.
    pub(crate) fn sweep_calendars_missing(&self, date: NaiveDate) -> Vec<String> {
        let Some(config) = self.config_on(date) else { return Vec::new() };
        let mut missing: Vec<String> = config
            .sweeps
            .iter()
            .flat_map(|rule| config.pool.calendars.for_rule(rule))
            .filter(|calendar| !self.calendars().book().covers(calendar, date.year()))
            .map(str::to_string)
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }

    /// Plans the sweeps of `date` (see the module documentation).
    pub(crate) fn plan_sweeps(&self, date: NaiveDate) -> Plan {
        let rules: Vec<SweepRule> = self.config_on(date).map(|config| config.sweeps.clone()).unwrap_or_default();
        let levels = levels(&rules);
        let mut planner = Planner {
            state: self,
            date,
            deltas: HashMap::new(),
            flow: Decimal::ZERO,
            moves: Vec::new(),
            requests: Vec::new(),
            run: SweepRun { date, sweeps: Vec::new(), skipped: Vec::new() },
        };
        let max_level = levels.iter().copied().max().unwrap_or(0);
        for level in 0..=max_level {
            let mut at_level: Vec<usize> = (0..rules.len()).filter(|idx| levels[*idx] == level).collect();
            at_level.sort_by(|a, b| {
                (rules[*a].priority, &rules[*a].account).cmp(&(rules[*b].priority, &rules[*b].account))
            });
            for phase in [Flow::Up, Flow::Down] {
                for &idx in &at_level {
                    let rule = &rules[idx];
                    let day = self.rule_day(rule, date);
                    let balance = planner.balance_through(&rule.account, rule.currency, day.month_end);
                    let Some((direction, want)) = wanted(rule, balance) else { continue };
                    if direction != phase {
                        continue;
                    }
                    if let Some(reason) = day.skip {
                        planner.skip(rule, direction, want, reason);
                        continue;
                    }
                    let Some(mut amount) = planner.shaped(rule, direction, want) else { continue };
                    // Never send more than the sender can give.
                    let sender = if direction == Flow::Up { &rule.account } else { &rule.into };
                    if let Some(available) = planner.available(sender, rule.currency) {
                        if amount > available {
                            let partial = direction == Flow::Down && rule.partial_allowed;
                            let floored = to_multiple(available, rule.rounding, Flow::Up);
                            let enough = floored > Decimal::ZERO && rule.min_transfer.is_none_or(|min| floored >= min);
                            if (partial || direction == Flow::Up) && enough {
                                amount = floored;
                            } else {
                                let reason = if direction == Flow::Down {
                                    SkipReason::HeaderShort
                                } else {
                                    SkipReason::BelowMinTransfer
                                };
                                planner.skip(rule, direction, want, reason);
                                continue;
                            }
                        }
                    }
                    planner.plan(idx, rule, direction, amount);
                }
            }
        }
        Plan { requests: planner.requests, run: planner.run }
    }
}

/// Each rule's level: 0 for a rule whose account no other rule sweeps into,
/// else one more than the highest rule sweeping into it. Linear in the rules:
/// the group definition refuses loops, so the walk from each rule down the
/// rules that sweep into its account ends.
fn levels(rules: &[SweepRule]) -> Vec<usize> {
    let mut into: HashMap<(&str, Currency), Vec<usize>> = HashMap::new();
    for (idx, rule) in rules.iter().enumerate() {
        into.entry((rule.into.as_str(), rule.currency)).or_default().push(idx);
    }
    let mut levels: Vec<Option<usize>> = vec![None; rules.len()];
    fn level_of(
        idx: usize,
        rules: &[SweepRule],
        into: &HashMap<(&str, Currency), Vec<usize>>,
        levels: &mut Vec<Option<usize>>,
        depth: usize,
    ) -> usize {
        if let Some(level) = levels[idx] {
            return level;
        }
        let rule = &rules[idx];
        let below = if depth > rules.len() {
            0 // a loop (refused by the group definition): stop rather than recurse for ever
        } else {
            into.get(&(rule.account.as_str(), rule.currency))
                .map(|children| {
                    children.iter().map(|&c| level_of(c, rules, into, levels, depth + 1) + 1).max().unwrap_or(0)
                })
                .unwrap_or(0)
        };
        levels[idx] = Some(below);
        below
    }
    (0..rules.len()).map(|idx| level_of(idx, rules, &into, &mut levels, 0)).collect()
}

/// The last day of `date`'s month.
fn last_day_of_month(date: NaiveDate) -> NaiveDate {
    let (year, month) = if date.month() == 12 { (date.year() + 1, 1) } else { (date.year(), date.month() + 1) };
    NaiveDate::from_ymd_opt(year, month, 1).and_then(|first| first.pred_opt()).unwrap_or(date)
}
