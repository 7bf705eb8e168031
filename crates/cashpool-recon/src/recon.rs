//! Reconciliation: the imported statements against the ledger's postings.
//!
//! The report is a pure function of the journal: [`Reconciler`] reads the
//! entries in order (the store's, or a regulator's export) and
//! [`Reconciler::finish`] matches and checks. Nothing of the matching is
//! stored, so the same journal always gives the same report, and a
//! regulator re-derives it from an export.
//!
//! Which statements take part: end-of-day statements (MT940, camt.053, BAI2)
//! of a known account are matched line by line and balance-checked;
//! intraday reports and notifications (MT942, camt.052, camt.054) are counted
//! and listed only, since their movements come again on the day's statement.
//!
//! The matching cascade, per ledger account and currency, each bank line and
//! each ledger posting used at most once:
//!
//! 0. adopted: a `BNK-<entry>-<line>` transaction matches the line it adopted;
//! 1. `reference`: the line's UETR, end-to-end id or owner reference equals
//!    the ledger transaction's reference or id (an MT940 owner reference is
//!    cut at 16 characters, so a 16-character one also matches the first 16
//!    of a longer reference), same amount, value dates within the tolerance;
//! 2. `type_code`: a cash-pool line (MT940 `CMZ`/`CMS`/`CMT`, camt account
//!    balancing `CAMT/ACCB/…`) and a pool-funding posting, same amount and value date;
//! 3. `amount_date`: same amount, value dates within ±N days (nearest first);
//! 4. `grouped`: one line for several postings, or several lines for one
//!    posting (same sign, within the tolerance, a bounded subset search);
//! 5. `reversal`: an unmatched reversal line and the unmatched line it reverses.
//!
//! What is left is an exception with a reason code: bank lines `no_candidate`,
//! `ambiguous`, `amount_variance`, `date_variance`, `duplicate`, `reversal`,
//! `bank_initiated` (with a proposed posting), `unknown_account` (one per
//! statement); ledger postings inside the statements' period that no line
//! shows: `missing_at_bank`.

use std::collections::{BTreeMap, HashMap};

use cashpool_ledger::bank::{BankLine, ImportStatus, ImportedStatement};
use cashpool_ledger::journal::{Entry, EntryBody};
use cashpool_ledger::model::{Purpose, SYS_FEES, SYS_INTEREST};
use cashpool_ledger::money::{format_amount, to_currency_scale, Currency};
use cashpool_ledger::sweep::{adopted_id, ADOPTED_PREFIX};
use cashpool_ledger::tx::{PostingRequest, TransactionRequest};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// The knobs of the matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconOptions {
    /// ±N days between a line's value date and a posting's (rules 1, 3, 4).
    pub date_tolerance_days: i64,
    /// The most items on the "several" side of a grouped match.
    pub group_size_max: usize,
    /// How many nearest candidates the grouped search considers.
    pub group_candidates_max: usize,
}

impl Default for ReconOptions {
    fn default() -> ReconOptions {
        ReconOptions { date_tolerance_days: 2, group_size_max: 4, group_candidates_max: 12 }
    }
}

/// One match: bank lines and ledger transactions that account for each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchRow {
    /// `adopted`, `reference`, `type_code`, `amount_date`, `grouped` or `reversal`.
    pub rule: &'static str,
    pub account: String,
    pub currency: String,
    /// Line ids (`S<entry>-L<line>`).
    pub lines: Vec<String>,
    /// Ledger transaction ids (empty for a reversal pair).
    pub ledger: Vec<String>,
}

/// A bank line, statement or ledger posting that did not reconcile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    /// `S<entry>-L<line>` for a bank line, `S<entry>` for a statement, the
    /// transaction id for a ledger posting.
    pub id: String,
    /// `bank` or `ledger`.
    pub side: &'static str,
    /// The ledger account (the bank's account id for `unknown_account`).
    pub account: String,
    pub currency: String,
    pub reference: String,
    pub amount: String,
    pub date: Option<NaiveDate>,
    pub reason: &'static str,
    pub detail: String,
    /// Ledger transactions (or line ids) that nearly matched.
    pub candidates: Vec<String>,
    /// The file and line it came from (bank side).
    pub source: String,
    pub line: u32,
    /// For `bank_initiated`: the transaction `cashpool recon adopt` would post.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed: Option<TransactionRequest>,
}

/// A failed continuity or balance check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    /// The ledger account, else the bank's account id.
    pub account: String,
    pub currency: String,
    /// `opening_mismatch`, `sum_mismatch`, `sequence_gap`, `currency_mismatch`,
    /// `duplicate_statement`, `missing_balance` or `ledger_balance_mismatch`.
    pub kind: &'static str,
    pub expected: String,
    pub found: String,
    pub statement: String,
    /// The journal entry of the statement.
    pub seq: u64,
    pub date: Option<NaiveDate>,
    pub detail: String,
}

/// The reconciliation report (`cashpool recon report`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Statements imported (all formats).
    pub statements: usize,
    /// Of which intraday reports and notifications, listed but not reconciled.
    pub intraday: usize,
    /// Lines of end-of-day statements.
    pub lines: usize,
    /// Lines matched (any rule).
    pub matched: usize,
    /// matched / lines in percent, two decimals (`"100.00"`; `"0.00"` without lines).
    pub match_rate: String,
    /// Ledger postings on bank accounts inside the statements' periods, and how many matched.
    pub ledger_items: usize,
    pub ledger_matched: usize,
    pub matches: Vec<MatchRow>,
    pub exceptions: Vec<Exception>,
    pub breaks: Vec<Break>,
}

impl Report {
    /// Whether everything reconciled: no exception, no break.
    pub fn is_clean(&self) -> bool {
        self.exceptions.is_empty() && self.breaks.is_empty()
    }
}

/// The id of line `n` (1-based) of the statement in journal entry `seq`.
pub fn line_id(seq: u64, n: usize) -> String {
    format!("S{seq}-L{n}")
}

/// Reads a line id (`S12-L3`, or the adoption id `BNK-12-3`) back.
pub fn parse_line_id(text: &str) -> Option<(u64, usize)> {
    let text = text.trim();
    let (seq, n) = if let Some(rest) = text.strip_prefix(ADOPTED_PREFIX) {
        rest.split_once('-')?
    } else {
        let rest = text.strip_prefix('S').or_else(|| text.strip_prefix('s'))?;
        let (seq, n) = rest.split_once('-')?;
        (seq, n.strip_prefix('L').or_else(|| n.strip_prefix('l'))?)
    };
    let seq: u64 = seq.parse().ok()?;
    let n: usize = n.parse().ok()?;
    (seq >= 1 && n >= 1).then_some((seq, n))
}

/// A ledger posting on an account that has a bank identifier.
#[derive(Debug, Clone)]
struct Item {
    seq: u64,
    tx_id: String,
    reference: String,
    purpose: Purpose,
    value_date: NaiveDate,
    amount: Decimal,
    matched: bool,
}

/// A bank line of an end-of-day statement of a known account.
#[derive(Debug, Clone)]
struct Line {
    seq: u64,
    n: usize,
    stmt: usize,
    date: NaiveDate,
    amount: Decimal,
    matched: bool,
    /// A near miss found by the cascade, reported if nothing matches.
    hint: Option<(&'static str, String, Vec<String>)>,
}

type Group = (u32, Currency);

/// Folds journal entries into what the reconciliation needs.
#[derive(Debug, Default)]
pub struct Reconciler {
    options: ReconOptions,
    /// Account ids by index, and which have a bank identifier.
    accounts: Vec<String>,
    account_index: HashMap<String, u32>,
    items: BTreeMap<Group, Vec<Item>>,
    statements: Vec<(u64, ImportedStatement)>,
}

impl Reconciler {
    pub fn new(options: ReconOptions) -> Reconciler {
        Reconciler { options, ..Reconciler::default() }
    }

    /// Takes the next journal entry (in sequence order).
    pub fn push(&mut self, entry: &Entry) {
        match &entry.body {
            EntryBody::AccountOpened(spec) if spec.bank_id.is_some() => {
                let idx = u32::try_from(self.accounts.len()).expect("fewer than 2^32 accounts");
                self.accounts.push(spec.id.clone());
                self.account_index.insert(spec.id.clone(), idx);
            }
            EntryBody::Transaction(tx) => {
                for posting in &tx.postings {
                    let Some(&idx) = self.account_index.get(&posting.account) else { continue };
                    self.items.entry((idx, posting.currency)).or_default().push(Item {
                        seq: entry.seq,
                        tx_id: tx.id.clone(),
                        reference: tx.reference.clone(),
                        purpose: tx.purpose,
                        value_date: tx.value_date,
                        amount: posting.amount,
                        matched: false,
                    });
                }
            }
            EntryBody::StatementImported(imported) => self.statements.push((entry.seq, imported.clone())),
            _ => {}
        }
    }

    /// Matches, checks and reports.
    pub fn finish(self) -> Report {
        Run::new(self).run()
    }

    /// Matches, checks and reports ([`Reconciler::finish`]), and gives the
    /// match rate of the end-of-day statements per statement date: the dates
    /// that have lines, in order. Statements without a date are left out of
    /// the days (they count in the report's overall rate).
    pub fn finish_by_date(self) -> (Report, Vec<DayMatch>) {
        let statements: Vec<(u64, NaiveDate, usize)> = self
            .statements
            .iter()
            .filter(|(_, imported)| imported.statement.format.is_end_of_day())
            .filter_map(|(seq, imported)| Some((*seq, imported.statement.date?, imported.statement.lines.len())))
            .collect();
        let report = self.finish();
        let days = match_rate_by_date(&statements, &report);
        (report, days)
    }
}

/// The match rate of the end-of-day statements of one statement date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayMatch {
    /// The statement date.
    pub date: NaiveDate,
    /// Lines of the end-of-day statements of that date (more than zero).
    pub lines: usize,
    /// Of which matched (any rule).
    pub matched: usize,
    /// matched / lines in percent, cut to two decimals, as [`Report::match_rate`].
    pub match_rate: String,
}

impl DayMatch {
    /// matched / lines in percent, as a float: for plotting only; the exact
    /// figure is [`DayMatch::match_rate`].
    pub fn percent(&self) -> f64 {
        assert!(self.lines > 0, "a day of the match rate has lines");
        self.matched as f64 * 100.0 / self.lines as f64
    }
}

/// `matched` of `lines` in percent, cut (not rounded) to two decimals; `"0.00"` without lines.
fn match_rate_text(matched: usize, lines: usize) -> String {
    debug_assert!(matched <= lines, "{matched} of {lines} lines matched");
    if lines == 0 {
        return "0.00".to_string();
    }
    let mut rate = Decimal::from(matched) * Decimal::from(100) / Decimal::from(lines);
    rate = rate.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero);
    rate.rescale(2);
    rate.to_string()
}

/// Lines and matched lines per statement date, from the end-of-day
/// statements `(entry seq, date, lines)` and the matches of `report`.
fn match_rate_by_date(statements: &[(u64, NaiveDate, usize)], report: &Report) -> Vec<DayMatch> {
    let mut matched_per_statement: HashMap<u64, std::collections::BTreeSet<usize>> = HashMap::new();
    for row in &report.matches {
        for line in &row.lines {
            if let Some((seq, n)) = parse_line_id(line) {
                matched_per_statement.entry(seq).or_default().insert(n);
            }
        }
    }
    let mut days: BTreeMap<NaiveDate, (usize, usize)> = BTreeMap::new();
    for &(seq, date, lines) in statements {
        let day = days.entry(date).or_default();
        day.0 += lines;
        day.1 += matched_per_statement.get(&seq).map_or(0, std::collections::BTreeSet::len);
    }
    days.into_iter()
        .filter(|(_, (lines, _))| *lines > 0)
        .map(|(date, (lines, matched))| DayMatch { date, lines, matched, match_rate: match_rate_text(matched, lines) })
        .collect()
}

struct Run {
    options: ReconOptions,
    accounts: Vec<String>,
    account_index: HashMap<String, u32>,
    items: BTreeMap<Group, Vec<Item>>,
    statements: Vec<(u64, ImportedStatement)>,
    lines: BTreeMap<Group, Vec<Line>>,
    coverage: HashMap<Group, (NaiveDate, NaiveDate)>,
    matches: Vec<MatchRow>,
    exceptions: Vec<Exception>,
    breaks: Vec<Break>,
    n_lines: usize,
    intraday: usize,
}

fn fmt_amount(amount: Decimal, currency: &str) -> String {
    match Currency::from_code(currency) {
        Some(ccy) => match to_currency_scale(amount, ccy) {
            Ok(scaled) => format_amount(scaled, ccy),
            Err(_) => amount.to_string(),
        },
        None => amount.to_string(),
    }
}

fn line_reference(line: &BankLine) -> String {
    line.owner_reference
        .clone()
        .or_else(|| line.end_to_end_id.clone())
        .or_else(|| line.uetr.clone())
        .or_else(|| line.bank_reference.clone())
        .unwrap_or_default()
}

/// Whether a bank transaction code names cash-pool account balancing.
pub fn is_cash_pool_code(code: &str) -> bool {
    let code = code.trim().to_ascii_uppercase();
    if code.len() == 4 && matches!(&code[1..], "CMZ" | "CMS" | "CMT") {
        return true;
    }
    let parts: Vec<&str> = code.split('/').collect();
    parts.len() == 3 && parts[1] == "ACCB"
}

/// What a bank-initiated line is: `Some(Purpose::Fee)` for charges,
/// `Some(Purpose::Interest)` for bank interest.
pub fn bank_initiated_kind(code: &str) -> Option<Purpose> {
    let code = code.trim().to_ascii_uppercase();
    let parts: Vec<&str> = code.split('/').collect();
    if code.len() == 4 && code[1..].chars().all(|c| c.is_ascii_alphabetic()) {
        return match &code[1..] {
            "CHG" | "COM" | "BRF" => Some(Purpose::Fee),
            "INT" => Some(Purpose::Interest),
            _ => None,
        };
    }
    if parts.len() == 3 {
        if parts[1] == "CHRG" || parts[2] == "CHRG" || parts[2] == "COMM" || parts[2] == "FEES" {
            return Some(Purpose::Fee);
        }
        if parts[1] == "INTR" || parts[2] == "INTR" {
            return Some(Purpose::Interest);
        }
        return None;
    }
    match code.as_str() {
        // BAI2: 354 interest credit, 475-ish are cheques; 698/699 fees.
        "354" | "355" => Some(Purpose::Interest),
        "698" | "699" => Some(Purpose::Fee),
        _ => None,
    }
}

impl Run {
    fn new(reconciler: Reconciler) -> Run {
        Run {
            options: reconciler.options,
            accounts: reconciler.accounts,
            account_index: reconciler.account_index,
            items: reconciler.items,
            statements: reconciler.statements,
            lines: BTreeMap::new(),
            coverage: HashMap::new(),
            matches: Vec::new(),
            exceptions: Vec::new(),
            breaks: Vec::new(),
            n_lines: 0,
            intraday: 0,
        }
    }

    fn bank_line(&self, line: &Line) -> &BankLine {
        &self.statements[line.stmt].1.statement.lines[line.n - 1]
    }

    fn bank_exception(&self, group: Group, line: &Line, reason: &'static str, detail: String) -> Exception {
        let bank = self.bank_line(line);
        let imported = &self.statements[line.stmt].1;
        Exception {
            id: line_id(line.seq, line.n),
            side: "bank",
            account: self.accounts[group.0 as usize].clone(),
            currency: group.1.code().to_string(),
            reference: line_reference(bank),
            amount: fmt_amount(line.amount, group.1.code()),
            date: Some(line.date),
            reason,
            detail,
            candidates: Vec::new(),
            source: imported.source.clone(),
            line: bank.source_line,
            proposed: None,
        }
    }

    fn run(mut self) -> Report {
        self.collect_lines();
        self.compute_coverage();
        self.check_continuity();
        let groups: Vec<Group> = self.lines.keys().copied().collect();
        for &group in &groups {
            self.match_group(group);
        }
        self.check_ledger_balances();
        self.report_leftovers(&groups);
        let matched: usize = self.lines.values().flatten().filter(|l| l.matched).count();
        let (mut ledger_items, mut ledger_matched) = (0, 0);
        for (group, items) in &self.items {
            let Some((from, to)) = self.coverage(*group) else { continue };
            for item in items.iter().filter(|i| i.value_date >= from && i.value_date <= to) {
                ledger_items += 1;
                ledger_matched += usize::from(item.matched);
            }
        }
        let match_rate = match_rate_text(matched, self.n_lines);
        Report {
            statements: self.statements.len(),
            intraday: self.intraday,
            lines: self.n_lines,
            matched,
            match_rate,
            ledger_items,
            ledger_matched,
            matches: self.matches,
            exceptions: self.exceptions,
            breaks: self.breaks,
        }
    }

    /// Sorts the lines of end-of-day statements into groups; statements of
    /// unknown accounts and lines that cannot be matched become exceptions.
    fn collect_lines(&mut self) {
        let mut seen_bank_refs: HashMap<(u32, Currency, String), String> = HashMap::new();
        for stmt in 0..self.statements.len() {
            let (seq, imported) = &self.statements[stmt];
            let seq = *seq;
            let statement = &imported.statement;
            if !statement.format.is_end_of_day() {
                self.intraday += 1;
                continue;
            }
            self.n_lines += statement.lines.len();
            let Some(account) = imported.account.as_ref().and_then(|a| self.account_index.get(a).copied()) else {
                let total: Decimal = statement.lines.iter().map(|l| l.amount).sum();
                self.exceptions.push(Exception {
                    id: format!("S{seq}"),
                    side: "bank",
                    account: statement.account_id.clone(),
                    currency: statement.currency.clone(),
                    reference: statement.statement_id.clone(),
                    amount: fmt_amount(total, &statement.currency),
                    date: statement.date,
                    reason: "unknown_account",
                    detail: format!(
                        "statement {:?} ({} line(s)) names account {:?}{}, which no ledger account has as bank_id",
                        statement.statement_id,
                        statement.lines.len(),
                        statement.account_id,
                        statement.bic.as_ref().map(|b| format!(" at {b}")).unwrap_or_default()
                    ),
                    candidates: Vec::new(),
                    source: imported.source.clone(),
                    line: statement.lines.first().map_or(0, |l| l.source_line),
                    proposed: None,
                });
                continue;
            };
            let conflict = imported.status == ImportStatus::Conflict;
            for (idx, bank) in statement.lines.iter().enumerate() {
                let n = idx + 1;
                let date = bank.value_date.or(bank.booking_date).or(statement.date);
                let currency = Currency::from_code(bank.currency.trim());
                let problem = match (currency, date) {
                    (None, _) => Some(format!("currency {:?} is not an ISO 4217 code", bank.currency)),
                    (_, None) => Some("the line has no valid date".to_string()),
                    _ => None,
                };
                let exception = |reason, detail: String, account_name: &str| Exception {
                    id: line_id(seq, n),
                    side: "bank",
                    account: account_name.to_string(),
                    currency: bank.currency.clone(),
                    reference: line_reference(bank),
                    amount: fmt_amount(bank.amount, &bank.currency),
                    date,
                    reason,
                    detail,
                    candidates: Vec::new(),
                    source: imported.source.clone(),
                    line: bank.source_line,
                    proposed: None,
                };
                let account_name = &self.accounts[account as usize];
                if let Some(problem) = problem {
                    self.exceptions.push(exception("no_candidate", problem, account_name));
                    continue;
                }
                let (Some(currency), Some(date)) = (currency, date) else { continue };
                if conflict {
                    self.exceptions.push(exception(
                        "duplicate",
                        format!(
                            "statement {:?} was imported before with other content; its lines are not matched",
                            statement.statement_id
                        ),
                        account_name,
                    ));
                    continue;
                }
                if let Some(bank_ref) = bank.bank_reference.as_ref().filter(|r| !r.trim().is_empty()) {
                    let key = (account, currency, bank_ref.trim().to_string());
                    if let Some(first) = seen_bank_refs.get(&key) {
                        let mut ex = exception(
                            "duplicate",
                            format!("the bank's reference {bank_ref:?} was already reported on line {first}"),
                            account_name,
                        );
                        ex.candidates.push(first.clone());
                        self.exceptions.push(ex);
                        continue;
                    }
                    seen_bank_refs.insert(key, line_id(seq, n));
                }
                self.lines.entry((account, currency)).or_default().push(Line {
                    seq,
                    n,
                    stmt,
                    date,
                    amount: bank.amount,
                    matched: false,
                    hint: None,
                });
            }
        }
    }

    /// The value dates each group's statements cover: from the first line or
    /// statement date to the last statement's date.
    fn compute_coverage(&mut self) {
        let mut coverage: HashMap<Group, (NaiveDate, NaiveDate)> = HashMap::new();
        let mut widen = |group: Group, date: NaiveDate| {
            let span = coverage.entry(group).or_insert((date, date));
            span.0 = span.0.min(date);
            span.1 = span.1.max(date);
        };
        for (group, lines) in &self.lines {
            for line in lines {
                widen(*group, line.date);
            }
        }
        for (_, imported) in &self.statements {
            let st = &imported.statement;
            let Some(account) = imported.account.as_ref().and_then(|a| self.account_index.get(a)) else { continue };
            let Some(currency) = Currency::from_code(st.currency.trim()) else { continue };
            if let (true, Some(date)) = (st.format.is_end_of_day(), st.date) {
                widen((*account, currency), date);
            }
        }
        self.coverage = coverage;
    }

    fn coverage(&self, group: Group) -> Option<(NaiveDate, NaiveDate)> {
        self.coverage.get(&group).copied()
    }

    fn match_group(&mut self, group: Group) {
        let mut lines = self.lines.remove(&group).unwrap_or_default();
        let mut items = self.items.remove(&group).unwrap_or_default();
        let tolerance = self.options.date_tolerance_days;
        let account = self.accounts[group.0 as usize].clone();
        let currency = group.1.code().to_string();
        let mut push = |matches: &mut Vec<MatchRow>, rule, lines: Vec<String>, ledger: Vec<String>| {
            matches.push(MatchRow { rule, account: account.clone(), currency: currency.clone(), lines, ledger });
        };

        // 0. Adopted lines.
        let mut by_line: HashMap<(u64, usize), usize> = HashMap::new();
        for (idx, line) in lines.iter().enumerate() {
            by_line.insert((line.seq, line.n), idx);
        }
        for item in items.iter_mut().filter(|i| i.tx_id.starts_with(ADOPTED_PREFIX)) {
            let Some(key) = parse_line_id(&item.tx_id) else { continue };
            let Some(&idx) = by_line.get(&key) else { continue };
            let line = &mut lines[idx];
            if !line.matched && line.amount == item.amount {
                line.matched = true;
                item.matched = true;
                push(&mut self.matches, "adopted", vec![line_id(line.seq, line.n)], vec![item.tx_id.clone()]);
            }
        }

        // 1. References.
        let mut by_ref: HashMap<String, Vec<usize>> = HashMap::new();
        for (idx, item) in items.iter().enumerate() {
            if !item.reference.is_empty() {
                by_ref.entry(item.reference.clone()).or_default().push(idx);
                if item.reference.len() > 16 && item.reference.is_char_boundary(16) {
                    by_ref.entry(item.reference[..16].to_string()).or_default().push(idx);
                }
            }
            if item.tx_id != item.reference {
                by_ref.entry(item.tx_id.clone()).or_default().push(idx);
            }
        }
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for (lidx, line) in lines.iter_mut().enumerate() {
            if line.matched {
                continue;
            }
            let bank = &self.statements[line.stmt].1.statement.lines[line.n - 1];
            let refs: Vec<&str> = [&bank.uetr, &bank.end_to_end_id, &bank.owner_reference]
                .into_iter()
                .filter_map(|r| r.as_deref())
                .map(str::trim)
                .filter(|r| {
                    !r.is_empty() && !r.eq_ignore_ascii_case("NONREF") && !r.eq_ignore_ascii_case("NOTPROVIDED")
                })
                .collect();
            let mut candidates: Vec<usize> = Vec::new();
            for r in &refs {
                // A reference that many postings share does not identify one.
                if let Some(found) = by_ref.get(*r).filter(|found| found.len() <= SHARED_REFERENCE_MAX) {
                    candidates.extend(found.iter().copied().filter(|&i| !items[i].matched));
                }
            }
            candidates.sort_unstable();
            candidates.dedup();
            if candidates.is_empty() {
                continue;
            }
            let exact = candidates
                .iter()
                .copied()
                .filter(|&i| items[i].amount == line.amount)
                .filter(|&i| (items[i].value_date - line.date).num_days().abs() <= tolerance)
                .min_by_key(|&i| ((items[i].value_date - line.date).num_days().abs(), items[i].seq));
            match exact {
                Some(i) => {
                    items[i].matched = true;
                    line.matched = true;
                    pairs.push((lidx, i));
                }
                None => {
                    let ids: Vec<String> = candidates.iter().map(|&i| items[i].tx_id.clone()).collect();
                    let same_amount = candidates.iter().find(|&&i| items[i].amount == line.amount);
                    line.hint = Some(match same_amount {
                        Some(&i) => (
                            "date_variance",
                            format!(
                                "reference matches {} but its value date {} is more than {tolerance} days from {}",
                                items[i].tx_id, items[i].value_date, line.date
                            ),
                            ids,
                        ),
                        None => (
                            "amount_variance",
                            format!(
                                "reference matches {} but the ledger amount is {} (bank {})",
                                items[candidates[0]].tx_id,
                                fmt_amount(items[candidates[0]].amount, group.1.code()),
                                fmt_amount(line.amount, group.1.code())
                            ),
                            ids,
                        ),
                    });
                }
            }
        }
        for (lidx, i) in pairs.drain(..) {
            push(
                &mut self.matches,
                "reference",
                vec![line_id(lines[lidx].seq, lines[lidx].n)],
                vec![items[i].tx_id.clone()],
            );
        }

        // 2. Cash-pool type codes: pool-funding postings, same amount and value date.
        // 3. Amount and value date within the tolerance.
        for rule in ["type_code", "amount_date"] {
            let window = if rule == "type_code" { 0 } else { tolerance };
            let line_ok: Vec<bool> = lines
                .iter()
                .map(|line| {
                    !line.matched
                        && (rule == "amount_date"
                            || is_cash_pool_code(&self.statements[line.stmt].1.statement.lines[line.n - 1].type_code))
                })
                .collect();
            let item_ok: Vec<bool> = items
                .iter()
                .map(|item| !item.matched && (rule == "amount_date" || item.purpose == Purpose::PoolFunding))
                .collect();
            for (lidx, i) in pair_by_amount_and_date(&mut lines, &mut items, &line_ok, &item_ok, window) {
                push(
                    &mut self.matches,
                    rule,
                    vec![line_id(lines[lidx].seq, lines[lidx].n)],
                    vec![items[i].tx_id.clone()],
                );
            }
        }

        // 4. Grouped: one line for several postings, then several lines for one posting.
        self.match_grouped_lines(&mut lines, &mut items, &mut push);

        // 5. Reversals: an unmatched reversal and the unmatched line it reverses.
        let mut originals: HashMap<Decimal, Vec<usize>> = HashMap::new();
        for (lidx, line) in lines.iter().enumerate() {
            if !line.matched && !self.bank_line(line).reversal {
                originals.entry(line.amount.normalize()).or_default().push(lidx);
            }
        }
        for r in 0..lines.len() {
            if lines[r].matched || !self.bank_line(&lines[r]).reversal {
                continue;
            }
            let reversal_refs = {
                let bank = self.bank_line(&lines[r]);
                [bank.owner_reference.clone(), bank.end_to_end_id.clone(), bank.bank_reference.clone()]
            };
            let Some(same) = originals.get(&(-lines[r].amount).normalize()) else { continue };
            let target = same.iter().copied().filter(|&o| !lines[o].matched).take(SCAN_MAX).min_by_key(|&o| {
                let bank = self.bank_line(&lines[o]);
                let shares_ref = [&bank.owner_reference, &bank.end_to_end_id, &bank.bank_reference]
                    .iter()
                    .any(|r| r.is_some() && reversal_refs.contains(r));
                (!shares_ref, (lines[o].date - lines[r].date).num_days().abs(), lines[o].seq, lines[o].n)
            });
            if let Some(o) = target {
                lines[o].matched = true;
                lines[r].matched = true;
                push(
                    &mut self.matches,
                    "reversal",
                    vec![line_id(lines[o].seq, lines[o].n), line_id(lines[r].seq, lines[r].n)],
                    Vec::new(),
                );
            }
        }

        // Near misses for the leftovers: same amount at another date, or a
        // small difference on the same date.
        let mut open_by_amount: HashMap<Decimal, Vec<usize>> = HashMap::new();
        let mut open_by_date: HashMap<NaiveDate, Vec<usize>> = HashMap::new();
        for (idx, item) in items.iter().enumerate().filter(|(_, item)| !item.matched) {
            open_by_amount.entry(item.amount.normalize()).or_default().push(idx);
            open_by_date.entry(item.value_date).or_default().push(idx);
        }
        for day in open_by_date.values_mut() {
            day.sort_by_key(|&i| (items[i].amount, items[i].seq));
        }
        for line in lines.iter_mut().filter(|l| !l.matched && l.hint.is_none()) {
            let same_amount = open_by_amount.get(&line.amount.normalize()).and_then(|found| {
                found
                    .iter()
                    .take(SCAN_MAX)
                    .min_by_key(|&&i| ((items[i].value_date - line.date).num_days().abs(), items[i].seq))
            });
            if let Some(&i) = same_amount {
                let item = &items[i];
                line.hint = Some((
                    "date_variance",
                    format!(
                        "{} has this amount but value date {}, more than {tolerance} days from {}",
                        item.tx_id, item.value_date, line.date
                    ),
                    vec![item.tx_id.clone()],
                ));
                continue;
            }
            // Same value date, same sign, within 1 % of the line's amount.
            let Some(day) = open_by_date.get(&line.date) else { continue };
            let margin = line.amount.abs() / Decimal::from(100);
            let (low, high) = (line.amount - margin, line.amount + margin);
            let first = day.partition_point(|&i| items[i].amount < low);
            let near = day[first..]
                .iter()
                .take_while(|&&i| items[i].amount <= high)
                .take(SCAN_MAX)
                .filter(|&&i| {
                    items[i].amount.is_sign_negative() == line.amount.is_sign_negative() && !items[i].amount.is_zero()
                })
                .min_by_key(|&&i| ((items[i].amount - line.amount).abs(), items[i].seq));
            if let Some(&i) = near {
                let item = &items[i];
                line.hint = Some((
                    "amount_variance",
                    format!(
                        "{} on the same value date differs by {}",
                        item.tx_id,
                        fmt_amount((item.amount - line.amount).abs(), group.1.code())
                    ),
                    vec![item.tx_id.clone()],
                ));
            }
        }
        self.lines.insert(group, lines);
        self.items.insert(group, items);
    }

    // Indices, not iterators: each step reads other elements of the same slices.
    #[allow(clippy::needless_range_loop)]
    fn match_grouped_lines(
        &mut self,
        lines: &mut [Line],
        items: &mut [Item],
        push: &mut impl FnMut(&mut Vec<MatchRow>, &'static str, Vec<String>, Vec<String>),
    ) {
        let tolerance = self.options.date_tolerance_days;
        let size_max = self.options.group_size_max;
        let candidates_max = self.options.group_candidates_max;
        // One line, several postings: the unmatched postings by value date.
        let mut open_items: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
        for (idx, item) in items.iter().enumerate().filter(|(_, item)| !item.matched && !item.amount.is_zero()) {
            open_items.entry(item.value_date).or_default().push(idx);
        }
        for lidx in 0..lines.len() {
            let (date, amount) = (lines[lidx].date, lines[lidx].amount);
            if lines[lidx].matched || amount.is_zero() {
                continue;
            }
            let pool = nearest(
                &open_items,
                date,
                tolerance,
                candidates_max,
                |i| {
                    !items[i].matched
                        && items[i].amount.is_sign_negative() == amount.is_sign_negative()
                        && items[i].amount.abs() < amount.abs()
                },
                |i| items[i].seq,
            );
            let values: Vec<Decimal> = pool.iter().map(|&i| items[i].amount).collect();
            if let Some(chosen) = subset_sum(&values, amount, size_max) {
                let ids: Vec<String> = chosen.iter().map(|&k| items[pool[k]].tx_id.clone()).collect();
                for &k in &chosen {
                    items[pool[k]].matched = true;
                }
                lines[lidx].matched = true;
                lines[lidx].hint = None;
                push(&mut self.matches, "grouped", vec![line_id(lines[lidx].seq, lines[lidx].n)], ids);
            }
        }
        // Several lines, one posting: the unmatched lines by date.
        let mut open_lines: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
        for (lidx, line) in lines.iter().enumerate().filter(|(_, line)| !line.matched && !line.amount.is_zero()) {
            open_lines.entry(line.date).or_default().push(lidx);
        }
        for i in 0..items.len() {
            let (date, amount) = (items[i].value_date, items[i].amount);
            if items[i].matched || amount.is_zero() {
                continue;
            }
            let pool = nearest(
                &open_lines,
                date,
                tolerance,
                candidates_max,
                |l| {
                    !lines[l].matched
                        && lines[l].amount.is_sign_negative() == amount.is_sign_negative()
                        && lines[l].amount.abs() < amount.abs()
                },
                |l| (lines[l].seq, lines[l].n),
            );
            if pool.len() < 2 {
                continue;
            }
            let values: Vec<Decimal> = pool.iter().map(|&l| lines[l].amount).collect();
            if let Some(chosen) = subset_sum(&values, amount, size_max) {
                let ids: Vec<String> = chosen.iter().map(|&k| line_id(lines[pool[k]].seq, lines[pool[k]].n)).collect();
                for &k in &chosen {
                    lines[pool[k]].matched = true;
                    lines[pool[k]].hint = None;
                }
                items[i].matched = true;
                push(&mut self.matches, "grouped", ids, vec![items[i].tx_id.clone()]);
            }
        }
    }

    /// Continuity per bank account and currency, in import order: opening =
    /// the previous closing, opening + Σ lines = closing, consecutive
    /// sequence numbers, one currency, no conflicting copy.
    fn check_continuity(&mut self) {
        let mut previous: HashMap<(String, String), usize> = HashMap::new();
        for stmt in 0..self.statements.len() {
            let (seq, imported) = &self.statements[stmt];
            let st = &imported.statement;
            if !st.format.is_end_of_day() {
                continue;
            }
            let account = imported.account.clone().unwrap_or_else(|| st.account_id.clone());
            let currency = st.currency.trim().to_ascii_uppercase();
            let mut breaks = Vec::new();
            let brk = |kind, expected: String, found: String, detail: String| Break {
                account: account.clone(),
                currency: currency.clone(),
                kind,
                expected,
                found,
                statement: st.statement_id.clone(),
                seq: *seq,
                date: st.date,
                detail,
            };
            if imported.status == ImportStatus::Conflict {
                breaks.push(brk(
                    "duplicate_statement",
                    "one statement per account, id and sequence".into(),
                    format!(
                        "a second, different statement {:?} sequence {:?}",
                        st.statement_id,
                        st.sequence.as_deref().unwrap_or("")
                    ),
                    "journaled but not matched: ask the bank which copy is right".into(),
                ));
                self.breaks.append(&mut breaks);
                continue;
            }
            let mut foreign: Vec<String> = Vec::new();
            for balance in [&st.opening, &st.closing, &st.closing_available].into_iter().flatten() {
                if !balance.currency.trim().eq_ignore_ascii_case(&currency) {
                    foreign.push(balance.currency.trim().to_string());
                }
            }
            for line in &st.lines {
                if !line.currency.trim().eq_ignore_ascii_case(&currency) {
                    foreign.push(line.currency.trim().to_string());
                }
            }
            foreign.sort();
            foreign.dedup();
            if !foreign.is_empty() || Currency::from_code(&currency).is_none() {
                breaks.push(brk(
                    "currency_mismatch",
                    if currency.is_empty() { "-".into() } else { currency.clone() },
                    if foreign.is_empty() { currency.clone() } else { foreign.join(",") },
                    "a statement carries one currency, an ISO 4217 code".into(),
                ));
            }
            match (&st.opening, &st.closing) {
                (Some(opening), Some(closing)) => {
                    let sum: Decimal = st.lines.iter().map(|l| l.amount).sum();
                    let expected = opening.amount + sum;
                    if expected != closing.amount {
                        breaks.push(brk(
                            "sum_mismatch",
                            fmt_amount(expected, &currency),
                            fmt_amount(closing.amount, &currency),
                            format!(
                                "opening {} + {} lines ({}) is not the closing balance",
                                fmt_amount(opening.amount, &currency),
                                st.lines.len(),
                                fmt_amount(sum, &currency)
                            ),
                        ));
                    }
                }
                _ => breaks.push(brk(
                    "missing_balance",
                    "opening and closing balances".into(),
                    format!(
                        "{}{}",
                        if st.opening.is_none() { "no opening " } else { "" },
                        if st.closing.is_none() { "no closing" } else { "" }
                    )
                    .trim()
                    .to_string(),
                    "the statement cannot be checked for continuity".into(),
                )),
            }
            let key = (cashpool_ledger::bank::normalise_bank_id(&st.account_id), currency.clone());
            if let Some(&prev) = previous.get(&key) {
                let before = &self.statements[prev].1.statement;
                if let (Some(prev_closing), Some(opening)) = (&before.closing, &st.opening) {
                    if prev_closing.amount != opening.amount {
                        breaks.push(brk(
                            "opening_mismatch",
                            fmt_amount(prev_closing.amount, &currency),
                            fmt_amount(opening.amount, &currency),
                            format!("the previous statement {:?} closed at a different balance", before.statement_id),
                        ));
                    }
                }
                if let (Some((prev_n, prev_p)), Some((n, p))) = (before.sequence_number(), st.sequence_number()) {
                    let next = n == prev_n + 1 || (n == prev_n && p == prev_p + 1);
                    if !next {
                        breaks.push(brk(
                            "sequence_gap",
                            format!("{}", prev_n + 1),
                            st.sequence.clone().unwrap_or_default(),
                            format!("after statement sequence {:?}", before.sequence.clone().unwrap_or_default()),
                        ));
                    }
                }
            }
            previous.insert(key, stmt);
            self.breaks.append(&mut breaks);
        }
    }

    /// Each end-of-day statement's closing balance against the ledger
    /// balance of its account and currency at the statement's date.
    fn check_ledger_balances(&mut self) {
        // Per group, the balance after each value date: (date, running balance), sorted.
        let mut running: HashMap<Group, Vec<(NaiveDate, Decimal)>> = HashMap::new();
        for (group, items) in &self.items {
            let mut by_date: BTreeMap<NaiveDate, Decimal> = BTreeMap::new();
            for item in items {
                *by_date.entry(item.value_date).or_default() += item.amount;
            }
            let mut total = Decimal::ZERO;
            running.insert(
                *group,
                by_date
                    .into_iter()
                    .map(|(date, change)| {
                        total += change;
                        (date, total)
                    })
                    .collect(),
            );
        }
        let mut found = Vec::new();
        for (seq, imported) in &self.statements {
            let st = &imported.statement;
            if !st.format.is_end_of_day() || imported.status == ImportStatus::Conflict {
                continue;
            }
            let (Some(account), Some(closing), Some(date)) =
                (&imported.account, &st.closing, st.date.or(closing_date(st)))
            else {
                continue;
            };
            let Some(&idx) = self.account_index.get(account) else { continue };
            let Some(currency) = Currency::from_code(st.currency.trim()) else { continue };
            let ledger = running
                .get(&(idx, currency))
                .and_then(|steps| {
                    let after = steps.partition_point(|(day, _)| *day <= date);
                    after.checked_sub(1).map(|last| steps[last].1)
                })
                .unwrap_or(Decimal::ZERO);
            if ledger != closing.amount {
                found.push(Break {
                    account: account.clone(),
                    currency: currency.code().to_string(),
                    kind: "ledger_balance_mismatch",
                    expected: fmt_amount(ledger, currency.code()),
                    found: fmt_amount(closing.amount, currency.code()),
                    statement: st.statement_id.clone(),
                    seq: *seq,
                    date: Some(date),
                    detail: format!(
                        "the ledger's balance at the end of {date} (expected) differs from the bank's closing balance (found) by {}",
                        fmt_amount(closing.amount - ledger, currency.code())
                    ),
                });
            }
        }
        self.breaks.extend(found);
    }

    fn report_leftovers(&mut self, groups: &[Group]) {
        let tolerance = self.options.date_tolerance_days;
        for &group in groups {
            let lines = self.lines.get(&group).cloned().unwrap_or_default();
            for line in lines.iter().filter(|l| !l.matched) {
                let bank = self.bank_line(line);
                let mut exception = if let Some(kind) = bank_initiated_kind(&bank.type_code) {
                    let account = self.accounts[group.0 as usize].clone();
                    let counter = if kind == Purpose::Fee { SYS_FEES } else { SYS_INTEREST };
                    let amount = to_currency_scale(line.amount, group.1).ok();
                    let mut ex = self.bank_exception(
                        group,
                        line,
                        "bank_initiated",
                        format!(
                            "{} booked by the bank ({}): `cashpool recon adopt {}` posts it",
                            if kind == Purpose::Fee { "charges" } else { "interest" },
                            bank.type_code,
                            line_id(line.seq, line.n)
                        ),
                    );
                    ex.proposed = amount.map(|amount| {
                        let memo: String = bank.narrative.chars().take(200).collect();
                        TransactionRequest {
                            id: adopted_id(line.seq, line.n),
                            value_date: line.date,
                            purpose: kind,
                            reference: line_reference(bank).chars().take(64).collect(),
                            memo,
                            postings: vec![
                                PostingRequest { account, currency: group.1.code().into(), amount },
                                PostingRequest {
                                    account: counter.into(),
                                    currency: group.1.code().into(),
                                    amount: -amount,
                                },
                            ],
                            rate: None,
                            term_days: None,
                            lender: None,
                        }
                    });
                    ex
                } else if bank.reversal {
                    self.bank_exception(
                        group,
                        line,
                        "reversal",
                        "a reversal with no unmatched line of the opposite amount to reverse (the original may be matched to a ledger posting the bank has now undone)".into(),
                    )
                } else if let Some((reason, detail, candidates)) = &line.hint {
                    let mut ex = self.bank_exception(group, line, reason, detail.clone());
                    ex.candidates = candidates.clone();
                    ex
                } else {
                    self.bank_exception(
                        group,
                        line,
                        "no_candidate",
                        format!("no ledger posting of this amount within {tolerance} days and no matching reference"),
                    )
                };
                exception.detail = exception.detail.trim().to_string();
                self.exceptions.push(exception);
            }
        }
        // Ledger postings inside the statements' period that no line shows.
        let mut missing = Vec::new();
        for (group, items) in &self.items {
            let Some((from, to)) = self.coverage(*group) else { continue };
            for item in items.iter().filter(|i| !i.matched && i.value_date >= from && i.value_date <= to) {
                missing.push(Exception {
                    id: item.tx_id.clone(),
                    side: "ledger",
                    account: self.accounts[group.0 as usize].clone(),
                    currency: group.1.code().to_string(),
                    reference: item.reference.clone(),
                    amount: format_amount(item.amount, group.1),
                    date: Some(item.value_date),
                    reason: "missing_at_bank",
                    detail: format!(
                        "posted in entry {} with value date {}, inside the statements' period ({from} to {to}), on no bank line",
                        item.seq, item.value_date
                    ),
                    candidates: Vec::new(),
                    source: String::new(),
                    line: 0,
                    proposed: None,
                });
            }
        }
        self.exceptions.extend(missing);
    }
}

/// A reference shared by more postings than this (of one account and
/// currency) does not identify one: such references are not matched on.
const SHARED_REFERENCE_MAX: usize = 256;
/// The most candidates one line looks at in the bounded searches (grouped
/// matches, reversals, near misses), nearest in date first.
const SCAN_MAX: usize = 64;

/// Rules 2 and 3: pairs lines and postings of the same amount whose value
/// dates are at most `window` days apart, nearest first. Per amount, the lines
/// of one date take the postings at distance 0, then 1, …: when there are no
/// more postings at a distance than lines waiting, they pair in order (the
/// postings are interchangeable); when there are more, the waiting lines are
/// `ambiguous`. Near-linear: every posting bucket is visited a bounded number
/// of times.
fn pair_by_amount_and_date(
    lines: &mut [Line],
    items: &mut [Item],
    line_ok: &[bool],
    item_ok: &[bool],
    window: i64,
) -> Vec<(usize, usize)> {
    let mut item_buckets: HashMap<Decimal, BTreeMap<NaiveDate, Vec<usize>>> = HashMap::new();
    for (idx, item) in items.iter().enumerate().filter(|(idx, _)| item_ok[*idx]) {
        item_buckets.entry(item.amount.normalize()).or_default().entry(item.value_date).or_default().push(idx);
    }
    let mut line_buckets: BTreeMap<Decimal, BTreeMap<NaiveDate, Vec<usize>>> = BTreeMap::new();
    for (lidx, line) in lines.iter().enumerate().filter(|(lidx, _)| line_ok[*lidx]) {
        if item_buckets.contains_key(&line.amount.normalize()) {
            line_buckets.entry(line.amount.normalize()).or_default().entry(line.date).or_default().push(lidx);
        }
    }
    let mut pairs = Vec::new();
    for (amount, by_date) in line_buckets {
        let Some(buckets) = item_buckets.get_mut(&amount) else { continue };
        for (date, waiting) in by_date {
            let mut waiting: &[usize] = &waiting;
            for distance in 0..=window {
                if waiting.is_empty() {
                    break;
                }
                let mut dates = vec![date - chrono::Duration::days(distance)];
                if distance > 0 {
                    dates.push(date + chrono::Duration::days(distance));
                }
                let mut candidates: Vec<usize> = Vec::new();
                for day in &dates {
                    if let Some(bucket) = buckets.get_mut(day) {
                        bucket.retain(|&i| !items[i].matched);
                        candidates.extend(bucket.iter().copied());
                    }
                }
                if candidates.is_empty() {
                    continue;
                }
                candidates.sort_by_key(|&i| items[i].seq);
                if candidates.len() <= waiting.len() {
                    for (&lidx, &i) in waiting.iter().zip(&candidates) {
                        lines[lidx].matched = true;
                        lines[lidx].hint = None;
                        items[i].matched = true;
                        pairs.push((lidx, i));
                    }
                    waiting = &waiting[candidates.len()..];
                } else {
                    for &lidx in waiting {
                        if lines[lidx].hint.is_none() {
                            lines[lidx].hint = Some((
                                "ambiguous",
                                format!(
                                    "{} ledger postings of this amount are equally near in date, for {} line(s)",
                                    candidates.len(),
                                    waiting.len()
                                ),
                                candidates.iter().take(10).map(|&i| items[i].tx_id.clone()).collect(),
                            ));
                        }
                    }
                    waiting = &[];
                }
            }
        }
    }
    pairs
}

/// Up to `max` entries of `buckets` that pass `ok`, nearest to `date` first
/// (within `window` days), then in `order`; at most [`SCAN_MAX`] looked at.
fn nearest<K: Ord>(
    buckets: &BTreeMap<NaiveDate, Vec<usize>>,
    date: NaiveDate,
    window: i64,
    max: usize,
    ok: impl Fn(usize) -> bool,
    order: impl Fn(usize) -> K,
) -> Vec<usize> {
    let mut chosen = Vec::new();
    let mut looked = 0;
    for distance in 0..=window {
        let mut ring: Vec<usize> = Vec::new();
        for day in [date - chrono::Duration::days(distance), date + chrono::Duration::days(distance)] {
            if distance == 0 && day != date {
                continue;
            }
            if let Some(bucket) = buckets.get(&day) {
                ring.extend(bucket.iter().copied().take(SCAN_MAX - looked));
            }
            if distance == 0 {
                break;
            }
        }
        ring.sort_by_key(|&i| order(i));
        for i in ring {
            looked += 1;
            if ok(i) {
                chosen.push(i);
                if chosen.len() == max {
                    return chosen;
                }
            }
            if looked >= SCAN_MAX {
                return chosen;
            }
        }
    }
    chosen
}

fn closing_date(st: &cashpool_ledger::bank::BankStatement) -> Option<NaiveDate> {
    st.closing.as_ref().and_then(|c| c.date)
}

/// A subset of 2..=`size_max` of `values` (indices, ascending) summing to
/// `target`, searched depth first in index order; `None` when there is none.
fn subset_sum(values: &[Decimal], target: Decimal, size_max: usize) -> Option<Vec<usize>> {
    fn search(
        values: &[Decimal],
        start: usize,
        remaining: Decimal,
        size_max: usize,
        chosen: &mut Vec<usize>,
        budget: &mut u32,
    ) -> bool {
        if remaining.is_zero() && chosen.len() >= 2 {
            return true;
        }
        if chosen.len() == size_max || *budget == 0 {
            return false;
        }
        *budget -= 1;
        for k in start..values.len() {
            let value = values[k];
            // Same sign as the target: overshooting cannot come back.
            if value.abs() > remaining.abs() {
                continue;
            }
            chosen.push(k);
            if search(values, k + 1, remaining - value, size_max, chosen, budget) {
                return true;
            }
            chosen.pop();
        }
        false
    }
    let mut chosen = Vec::new();
    let mut budget = 20_000;
    search(values, 0, target, size_max, &mut chosen, &mut budget).then_some(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ids_round_trip() {
        assert_eq!(parse_line_id(&line_id(12, 3)), Some((12, 3)));
        assert_eq!(parse_line_id("BNK-12-3"), Some((12, 3)));
        assert_eq!(parse_line_id("S0-L1"), None);
        assert_eq!(parse_line_id("S1-X1"), None);
        assert_eq!(parse_line_id("12-3"), None);
    }

    #[test]
    fn the_match_rate_is_cut_to_two_decimals() {
        assert_eq!(match_rate_text(0, 0), "0.00");
        assert_eq!(match_rate_text(2, 3), "66.66");
        assert_eq!(match_rate_text(3, 3), "100.00");
    }

    #[test]
    fn days_count_the_lines_and_matches_of_their_statements() {
        let d1 = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let d2 = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        let row = |lines: &[&str]| MatchRow {
            rule: "reference",
            account: "A".into(),
            currency: "USD".into(),
            lines: lines.iter().map(|l| l.to_string()).collect(),
            ledger: Vec::new(),
        };
        let report = Report {
            statements: 3,
            intraday: 0,
            lines: 6,
            matched: 3,
            match_rate: match_rate_text(3, 6),
            ledger_items: 0,
            ledger_matched: 0,
            // Line 1 of entry 5 twice (counted once), line 2 of entry 5, line 1 of entry 9.
            matches: vec![row(&["S5-L1", "S5-L2"]), row(&["S5-L1"]), row(&["BNK-9-1"])],
            exceptions: Vec::new(),
            breaks: Vec::new(),
        };
        let days = match_rate_by_date(&[(5, d1, 3), (9, d2, 2), (11, d2, 1), (12, d1, 0)], &report);
        assert_eq!(days.len(), 2);
        assert_eq!((days[0].date, days[0].lines, days[0].matched, days[0].match_rate.as_str()), (d1, 3, 2, "66.66"));
        assert_eq!((days[1].date, days[1].lines, days[1].matched, days[1].match_rate.as_str()), (d2, 3, 1, "33.33"));
        assert!((days[1].percent() - 100.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn codes_are_recognised() {
        assert!(is_cash_pool_code("NCMZ"));
        assert!(is_cash_pool_code("CAMT/ACCB/ZABA"));
        assert!(!is_cash_pool_code("NTRF"));
        assert_eq!(bank_initiated_kind("NCHG"), Some(Purpose::Fee));
        assert_eq!(bank_initiated_kind("NINT"), Some(Purpose::Interest));
        assert_eq!(bank_initiated_kind("ACMT/MDOP/CHRG"), Some(Purpose::Fee));
        assert_eq!(bank_initiated_kind("PMNT/RCDT/ESCT"), None);
        assert_eq!(bank_initiated_kind("N033"), None);
    }

    #[test]
    fn subset_sum_finds_a_group_and_respects_the_bound() {
        let values: Vec<Decimal> = [5, 3, 9, 4].into_iter().map(Decimal::from).collect();
        assert_eq!(subset_sum(&values, Decimal::from(7), 4), Some(vec![1, 3]));
        assert_eq!(subset_sum(&values, Decimal::from(21), 3), None);
        assert_eq!(subset_sum(&values, Decimal::from(21), 4), Some(vec![0, 1, 2, 3]));
        assert_eq!(subset_sum(&values, Decimal::from(5), 4), None, "a single value is not a group");
    }
}
