//! `cashpool report --html FILE`: one self-contained HTML page for treasury staff.
//!
//! The page shows the balances of the group's own accounts per currency over
//! the journal's value dates, the members' intercompany positions, the pool's
//! cross-border cap use and headroom, and the reconciliation (match rate, open
//! exceptions, breaks), under a header naming the group, the journal head, the
//! date range and the generation time (`CASHPOOL_NOW`, else the clock).
//!
//! Self-contained: no script, no external style sheet, font or image; the
//! charts are inline SVG drawn here. Every figure shown as text is exact
//! (`Decimal`, thousands separators); `f64` is used only for the charts'
//! coordinates. The store is opened read-only and never written.
//!
//! Built in three steps: [`collect`] reads the journal once and queries the
//! ledger per chart date, the `render_*` functions turn that into HTML, and
//! [`line_chart`] (with the pure scale functions [`nice_ticks`],
//! [`axis_labels`] and [`sample_dates`]) draws every chart.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use cashpool_ledger::journal::EntryBody;
use cashpool_ledger::limits::{CapUse, LimitsView};
use cashpool_ledger::money::{format_grouped, group_thousands, Currency};
use cashpool_ledger::totals::{balance_totals, position_totals, BaseTotal, BaseTotals, Conversion};
use cashpool_ledger::{BalanceRow, Ledger, PositionRow};
use cashpool_recon::{DayMatch, ReconOptions, Reconciler, Report};
use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::commands::{date_of, ledger_failure, now, open_ledger, Access};
use crate::{exit, Failure};

/// The most value dates a chart plots; a longer journal is sampled evenly (first and last kept).
const MAX_POINTS: usize = 60;
/// The most rows of the exceptions and breaks tables; the rest are counted.
const MAX_ROWS: usize = 1000;

/// A small palette, one colour per account or member (by position in the group definition).
const PALETTE: [&str; 10] =
    ["#2563eb", "#0d9488", "#f59e0b", "#7c3aed", "#e11d48", "#84cc16", "#0ea5e9", "#c026d3", "#78716c", "#ea580c"];
/// Totals and other emphasised lines.
const INK: &str = "#0f172a";
/// Caps.
const CAP: &str = "#dc2626";
/// The names of the two caps: under the separate quotas, what each measures.
fn cap_titles(view: &LimitsView) -> [&'static str; 2] {
    if view.quota_model == "net_position" {
        ["Net inflow", "Net outflow"]
    } else {
        ["Foreign debt, risk-weighted (net inflow cap)", "Overseas lending (net outflow cap)"]
    }
}

/// The intraday peak of a cap's use.
const CAP_PEAK: &str = "#f59e0b";
/// Use of a cap, match rate.
const ACCENT: &str = "#2563eb";

pub fn run(dir: &Path, html: &Path) -> Result<u8, Failure> {
    let at = now()?;
    let ledger = open_ledger(dir, Access::Read)?;
    // The base-currency totals use the rates of the generation date, as `balances` without --as-of does.
    let data = collect(&ledger, at.to_rfc3339(), date_of(at)?)?;
    let page = render(&data);
    std::fs::write(html, page.as_bytes())
        .map_err(|err| Failure::environment(format!("{}: cannot write the report: {err}", html.display())))?;
    println!("wrote {} ({} bytes)", html.display(), page.len());
    Ok(exit::OK)
}

// ---------------------------------------------------------------------------
// Collecting
// ---------------------------------------------------------------------------

/// An account of the group itself (not an external counterparty, not a system account).
struct OwnAccount {
    id: String,
    entity: String,
    zone: &'static str,
    kind: &'static str,
    colour: &'static str,
}

/// One currency's balances over the chart dates.
struct CurrencyBalances {
    currency: Currency,
    /// Per account holding the currency (index into `ReportData::accounts`), its balance at each chart date.
    accounts: Vec<(usize, Vec<Decimal>)>,
    /// The sum over those accounts at each chart date.
    total: Vec<Decimal>,
}

/// One member's intercompany position in one currency over the chart dates.
struct PositionSeries {
    entity: String,
    colour: &'static str,
    values: Vec<Decimal>,
}

struct ReportData {
    group_id: String,
    group_name: String,
    pool_id: String,
    base: Currency,
    head_seq: u64,
    head_hash: String,
    generated: String,
    n_transactions: u64,
    /// Every distinct value date of a transaction.
    n_value_dates: usize,
    first_date: Option<NaiveDate>,
    last_date: Option<NaiveDate>,
    /// The dates the charts plot (all value dates, or an even sample of [`MAX_POINTS`]).
    dates: Vec<NaiveDate>,
    accounts: Vec<OwnAccount>,
    /// Currencies of the own accounts: the base currency first, then by code.
    currencies: Vec<Currency>,
    balances: Vec<CurrencyBalances>,
    /// The latest balances of the own accounts (all postings), as `cashpool balances` gives them.
    latest: Vec<BalanceRow>,
    /// Per currency, each member's position over the chart dates.
    positions: Vec<(Currency, Vec<PositionSeries>)>,
    latest_positions: Vec<PositionRow>,
    /// Entity id → display name.
    entity_names: BTreeMap<String, String>,
    limits: Vec<LimitsView>,
    latest_limits: LimitsView,
    /// The latest balances of the own accounts in the base currency, at the generation date's rates.
    liquidity: BaseTotals,
    /// The net of the latest positions in the base currency, at the generation date's onshore rates.
    positions_base: BaseTotals,
    recon: Report,
    match_by_date: Vec<DayMatch>,
    /// The definition's amendments: each with its effective date and what it changed.
    amendments: Vec<(NaiveDate, cashpool_ledger::amendment::Changes)>,
    /// Accounts an amendment opened or closed: (id, entity, opened, closed).
    account_dates: Vec<(String, String, Option<NaiveDate>, Option<NaiveDate>)>,
}

/// Reads the journal once (value dates, reconciliation) and asks the ledger
/// for balances, positions and limits at each chart date: every figure is the
/// ledger's or the reconciliation's.
fn collect(ledger: &Ledger, generated: String, rates_as_of: NaiveDate) -> Result<ReportData, Failure> {
    let config = ledger.config();
    let (head_seq, head_hash) = ledger.head();
    let accounts: Vec<OwnAccount> = ledger
        .accounts()
        .into_iter()
        .filter(|spec| spec.kind.is_own())
        .enumerate()
        .map(|(idx, spec)| OwnAccount {
            zone: spec.zone.map_or("", |zone| zone.as_str()),
            kind: spec.kind.as_str(),
            colour: PALETTE[idx % PALETTE.len()],
            entity: spec.entity,
            id: spec.id,
        })
        .collect();
    let index: HashMap<&str, usize> = accounts.iter().enumerate().map(|(idx, a)| (a.id.as_str(), idx)).collect();

    // One pass over the journal: value dates, reconciliation (with the match rate per statement date).
    let mut value_dates = BTreeSet::new();
    let mut reconciler = Reconciler::new(ReconOptions::default());
    for item in ledger.entries(1) {
        let (entry, _) = item.map_err(ledger_failure)?;
        if let EntryBody::Transaction(tx) = &entry.body {
            value_dates.insert(tx.value_date);
        }
        reconciler.push(&entry);
    }
    let (recon, match_by_date) = reconciler.finish_by_date();
    let value_dates: Vec<NaiveDate> = value_dates.into_iter().collect();
    let dates = sample_dates(&value_dates, MAX_POINTS);

    let own_rows = |as_of: Option<NaiveDate>| -> Result<Vec<BalanceRow>, Failure> {
        Ok(ledger
            .balances(as_of, None, None)
            .map_err(ledger_failure)?
            .into_iter()
            .filter(|row| index.contains_key(row.account.as_str()))
            .collect())
    };
    let latest = own_rows(None)?;
    // The own accounts' balances at the end of each chart date.
    let dated: Vec<Vec<BalanceRow>> = dates.iter().map(|date| own_rows(Some(*date))).collect::<Result<_, _>>()?;
    let base = config.group.base_currency;
    let mut currencies: Vec<Currency> = latest.iter().map(|row| row.currency).collect();
    currencies.sort_by_key(|currency| (*currency != base, *currency));
    currencies.dedup();

    let totals: Vec<_> = dated.iter().map(balance_totals).collect();
    let balances = currencies
        .iter()
        .map(|&currency| {
            let mut holders: Vec<usize> = latest
                .iter()
                .filter(|row| row.currency == currency)
                .filter_map(|row| index.get(row.account.as_str()).copied())
                .collect();
            holders.sort_unstable();
            holders.dedup();
            let series: Vec<(usize, Vec<Decimal>)> = holders
                .into_iter()
                .map(|idx| {
                    let id = accounts[idx].id.as_str();
                    let at_dates = dated
                        .iter()
                        .map(|rows| {
                            rows.iter()
                                .find(|row| row.account == id && row.currency == currency)
                                .map_or(Decimal::ZERO, |row| row.balance)
                        })
                        .collect();
                    (idx, at_dates)
                })
                .collect();
            let total =
                totals.iter().map(|per_currency| per_currency.get(&currency).copied().unwrap_or_default()).collect();
            CurrencyBalances { currency, accounts: series, total }
        })
        .collect();

    let position_rows: Vec<Vec<PositionRow>> = dates.iter().map(|date| ledger.positions(Some(*date))).collect();
    let latest_positions = ledger.positions(None);
    let entity_colour = |entity: &str| {
        let idx = config.entities.iter().position(|e| e.id == entity).unwrap_or(0);
        PALETTE[idx % PALETTE.len()]
    };
    let mut by_currency: BTreeMap<Currency, BTreeMap<String, Vec<Decimal>>> = BTreeMap::new();
    for (i, rows) in position_rows.iter().enumerate() {
        for row in rows {
            let values = by_currency
                .entry(row.currency)
                .or_default()
                .entry(row.entity.clone())
                .or_insert_with(|| vec![Decimal::ZERO; dates.len()]);
            values[i] = row.position;
        }
    }
    let mut positions: Vec<(Currency, Vec<PositionSeries>)> = by_currency
        .into_iter()
        .map(|(currency, members)| {
            let series = members
                .into_iter()
                .map(|(entity, values)| PositionSeries { colour: entity_colour(&entity), entity, values })
                .collect();
            (currency, series)
        })
        .collect();
    positions.sort_by_key(|(currency, _)| (*currency != base, *currency));

    let limits = dates.iter().map(|date| ledger.limits(Some(*date))).collect();
    let latest_limits = ledger.limits(None);
    let liquidity = ledger.balance_totals_in_base(None, None, None, rates_as_of).map_err(ledger_failure)?;
    let positions_base = ledger.position_totals_in_base(None, rates_as_of).map_err(ledger_failure)?;

    Ok(ReportData {
        group_id: config.group.id.clone(),
        group_name: config.group.name.clone(),
        pool_id: config.pool.id.clone(),
        base,
        head_seq,
        head_hash: head_hash.to_hex(),
        generated,
        n_transactions: ledger.n_transactions(),
        n_value_dates: value_dates.len(),
        first_date: value_dates.first().copied(),
        last_date: value_dates.last().copied(),
        dates,
        accounts,
        currencies,
        balances,
        latest,
        positions,
        latest_positions,
        entity_names: config.entities.iter().map(|e| (e.id.clone(), e.name.clone())).collect(),
        limits,
        latest_limits,
        liquidity,
        positions_base,
        recon,
        match_by_date,
        amendments: ledger
            .definitions()
            .windows(2)
            .filter_map(|pair| {
                pair[1].0.map(|effective| (effective, cashpool_ledger::amendment::changes(&pair[0].1, &pair[1].1)))
            })
            .collect(),
        account_dates: ledger
            .account_windows()
            .into_iter()
            .filter(|(_, from, until)| from.is_some() || until.is_some())
            .map(|(spec, from, until)| (spec.id, spec.entity, from, until))
            .collect(),
    })
}

/// At most `max` of `dates` (sorted), evenly spread by position, the first and the last always kept.
fn sample_dates(dates: &[NaiveDate], max: usize) -> Vec<NaiveDate> {
    if dates.len() <= max {
        return dates.to_vec();
    }
    if max < 2 {
        return dates.last().copied().into_iter().take(max).collect();
    }
    let last = dates.len() - 1;
    let mut picked: Vec<NaiveDate> = (0..max).map(|i| dates[i * last / (max - 1)]).collect();
    picked.dedup();
    picked
}

/// The share of a cap used, in percent, cut (not rounded) to `dp` decimals.
fn percent(part: Decimal, whole: Decimal, dp: u32) -> Option<String> {
    if whole.is_zero() {
        return None;
    }
    let mut rate = (part * Decimal::ONE_HUNDRED / whole).round_dp_with_strategy(dp, RoundingStrategy::ToZero);
    rate.rescale(dp);
    Some(rate.to_string())
}

fn to_f64(amount: Decimal) -> f64 {
    amount.to_f64().unwrap_or(0.0)
}

// ---------------------------------------------------------------------------
// Scales and ticks (pure)
// ---------------------------------------------------------------------------

/// A "nice" axis: from `lo` to `hi` in steps of `step` (1, 2, 2.5 or 5 times a power of ten).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ticks {
    lo: f64,
    hi: f64,
    step: f64,
}

impl Ticks {
    fn values(&self) -> Vec<f64> {
        let n = ((self.hi - self.lo) / self.step).round() as i64;
        (0..=n)
            .map(|i| {
                let value = self.lo + i as f64 * self.step;
                // Round off the float noise (3 × 0.1 is 0.30000000000000004) well below the step.
                let scale = 10f64.powi(6 - self.step.log10().floor() as i32);
                let snapped = (value * scale).round() / scale;
                if snapped == 0.0 {
                    0.0
                } else {
                    snapped
                }
            })
            .collect()
    }

    /// The position of `value` between `from` (at `lo`) and `to` (at `hi`).
    fn map(&self, value: f64, from: f64, to: f64) -> f64 {
        from + (value - self.lo) / (self.hi - self.lo) * (to - from)
    }
}

/// The nice step nearest above `raw`: 1, 2, 2.5, 5 or 10 times a power of ten.
fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let fraction = raw / power;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 2.5 {
        2.5
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// An axis covering `[min, max]` with about `target` intervals; a flat or empty range gets some room.
fn nice_ticks(min: f64, max: f64, target: usize) -> Ticks {
    let (mut min, mut max) = if min.is_finite() && max.is_finite() && min <= max { (min, max) } else { (0.0, 1.0) };
    if max - min < f64::EPSILON * max.abs().max(min.abs()).max(1.0) {
        let pad = if min == 0.0 { 1.0 } else { min.abs() * 0.1 };
        min -= pad;
        max += pad;
        if min < 0.0 && (min + pad) >= 0.0 {
            min = 0.0;
        }
    }
    let step = nice_step((max - min) / target.max(1) as f64);
    let lo = (min / step).floor() * step;
    let mut hi = (max / step).ceil() * step;
    if hi <= lo {
        hi = lo + step;
    }
    Ticks { lo: if lo == 0.0 { 0.0 } else { lo }, hi, step }
}

/// What an axis counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// Money: compact labels (`12.5M`, `800k`).
    Amount,
    /// Percent: `99.5%`.
    Percent,
}

/// The labels of an axis's ticks: compact (`k`, `M`, `B` by the largest tick),
/// with as many decimals as the step needs and no more; zero money is `0`.
fn axis_labels(ticks: &Ticks, unit: Unit) -> Vec<String> {
    let values = ticks.values();
    let largest = values.iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
    let (divisor, suffix) = match unit {
        Unit::Percent => (1.0, "%"),
        Unit::Amount if largest >= 1e9 => (1e9, "B"),
        Unit::Amount if largest >= 1e6 => (1e6, "M"),
        Unit::Amount if largest >= 1e3 => (1e3, "k"),
        Unit::Amount => (1.0, ""),
    };
    let step = ticks.step / divisor;
    let mut decimals = 0usize;
    while decimals < 4 {
        let scaled = step * 10f64.powi(decimals as i32);
        if (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0) {
            break;
        }
        decimals += 1;
    }
    values
        .iter()
        .map(|value| {
            if *value == 0.0 && unit == Unit::Amount {
                return "0".to_string();
            }
            format!("{:.*}{suffix}", decimals, value / divisor)
        })
        .collect()
}

/// Indices of at most `max` of `dates` (sorted) to label on a time axis: the dates nearest to evenly
/// spaced instants from the first to the last, both ends included, none closer than half a spacing.
fn date_label_indices(dates: &[NaiveDate], max: usize) -> Vec<usize> {
    let (Some(first), Some(last)) = (dates.first(), dates.last()) else { return Vec::new() };
    let span = (*last - *first).num_days();
    if span <= 0 || max < 2 {
        return vec![0];
    }
    let labels = max.min(dates.len()) as i64;
    let spacing = span as f64 / (labels - 1) as f64;
    let mut picked: Vec<usize> = Vec::new();
    for k in 0..labels {
        let target = *first + chrono::Days::new((k * span / (labels - 1)) as u64);
        let after = dates.partition_point(|date| *date < target).min(dates.len() - 1);
        let before = after.saturating_sub(1);
        let idx = if (target - dates[before]).num_days().abs() <= (dates[after] - target).num_days().abs() {
            before
        } else {
            after
        };
        let far_enough = |from: usize| (dates[idx] - dates[from]).num_days() as f64 >= spacing / 2.0;
        match picked.last() {
            None => picked.push(idx),
            Some(&prev) if idx != prev && far_enough(prev) => picked.push(idx),
            _ => {}
        }
    }
    // The last date is always labelled: it replaces a neighbour that is too close.
    let end = dates.len() - 1;
    if picked.last() != Some(&end) {
        if picked.len() > 1 && ((dates[end] - dates[picked[picked.len() - 1]]).num_days() as f64) < spacing / 2.0 {
            picked.pop();
        }
        picked.push(end);
    }
    picked
}

// ---------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stroke {
    /// A total or the main figure: thick, with dots that show the exact figure on hover.
    Main,
    /// One of several: thin.
    Thin,
    /// A limit: dashed.
    Dashed,
}

struct Series {
    name: String,
    colour: &'static str,
    /// One per chart date; `None` leaves a gap.
    values: Vec<Option<f64>>,
    stroke: Stroke,
    /// Shade the area between the line and zero.
    area: bool,
    /// The exact figure at each date, shown on hover over the dots of a `Main` series.
    notes: Vec<String>,
}

impl Series {
    fn new(name: impl Into<String>, colour: &'static str, stroke: Stroke, values: Vec<Option<f64>>) -> Series {
        Series { name: name.into(), colour, values, stroke, area: false, notes: Vec::new() }
    }

    fn amounts(name: impl Into<String>, colour: &'static str, stroke: Stroke, amounts: &[Decimal]) -> Series {
        Series::new(name, colour, stroke, amounts.iter().map(|a| Some(to_f64(*a))).collect())
    }
}

struct Chart<'a> {
    /// What the chart shows, for screen readers.
    label: String,
    dates: &'a [NaiveDate],
    series: Vec<Series>,
    unit: Unit,
    /// Values the y axis must cover besides the data (zero, a cap).
    include: Vec<f64>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 250.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

fn date_label(date: NaiveDate, dates: &[NaiveDate]) -> String {
    let same_year =
        dates.first().zip(dates.last()).is_some_and(|(a, b)| a.format("%Y").to_string() == b.format("%Y").to_string());
    if same_year {
        date.format("%d %b").to_string()
    } else {
        date.format("%Y-%m-%d").to_string()
    }
}

/// An SVG line chart over `chart.dates` (a time axis), with its legend as HTML.
fn line_chart(chart: &Chart) -> String {
    let dates = chart.dates;
    let mut out = String::new();
    let data = chart.series.iter().flat_map(|s| s.values.iter().flatten().copied());
    let (min, max) = data
        .chain(chart.include.iter().copied())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let ticks = nice_ticks(min, max, 5);
    let labels = axis_labels(&ticks, chart.unit);
    let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP);
    let span = match (dates.first(), dates.last()) {
        (Some(first), Some(last)) => (*last - *first).num_days().max(0) as f64,
        _ => 0.0,
    };
    let x = |i: usize| -> f64 {
        if span == 0.0 {
            (x0 + x1) / 2.0
        } else {
            x0 + (dates[i] - dates[0]).num_days() as f64 / span * (x1 - x0)
        }
    };
    let y = |v: f64| ticks.map(v, y0, y1);
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}">"#,
        esc(&chart.label)
    );
    // Grid and y axis labels.
    for (value, label) in ticks.values().iter().zip(&labels) {
        let py = y(*value);
        let class = if *value == 0.0 { "zero" } else { "grid" };
        let _ = write!(
            out,
            r#"<line class="{class}" x1="{x0:.1}" x2="{x1:.1}" y1="{py:.1}" y2="{py:.1}"/><text class="ytick" x="{:.1}" y="{:.1}">{}</text>"#,
            x0 - 8.0,
            py + 3.5,
            esc(label)
        );
    }
    // X axis: ticks and date labels.
    for i in date_label_indices(dates, 6) {
        let px = x(i);
        let anchor = if dates.len() > 1 && i == 0 {
            "start"
        } else if dates.len() > 1 && i == dates.len() - 1 {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            out,
            r#"<line class="xtick" x1="{px:.1}" x2="{px:.1}" y1="{y0:.1}" y2="{:.1}"/><text class="xlabel" text-anchor="{anchor}" x="{px:.1}" y="{:.1}">{}</text>"#,
            y0 + 4.0,
            HEIGHT - 8.0,
            esc(&date_label(dates[i], dates))
        );
    }
    // Areas first, then the lines (thin ones under the main ones), then the dots.
    let baseline = y(0.0f64.clamp(ticks.lo, ticks.hi));
    let runs = |series: &Series| -> Vec<Vec<(f64, f64)>> {
        let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut current = Vec::new();
        for (i, value) in series.values.iter().enumerate().take(dates.len()) {
            match value {
                Some(v) => current.push((x(i), y(*v))),
                None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
                None => {}
            }
        }
        if !current.is_empty() {
            runs.push(current);
        }
        runs
    };
    let points =
        |run: &[(f64, f64)]| run.iter().map(|(px, py)| format!("{px:.1},{py:.1}")).collect::<Vec<_>>().join(" ");
    for series in chart.series.iter().filter(|s| s.area) {
        for run in runs(series).iter().filter(|run| run.len() > 1) {
            let (first, last) = (run[0].0, run[run.len() - 1].0);
            let _ = write!(
                out,
                r#"<polygon class="area" fill="{}" points="{first:.1},{baseline:.1} {} {last:.1},{baseline:.1}"/>"#,
                series.colour,
                points(run)
            );
        }
    }
    let order = [Stroke::Thin, Stroke::Dashed, Stroke::Main];
    for stroke in order {
        for series in chart.series.iter().filter(|s| s.stroke == stroke) {
            let class = match stroke {
                Stroke::Main => "line main",
                Stroke::Thin => "line thin",
                Stroke::Dashed => "line dashed",
            };
            for run in runs(series) {
                if run.len() == 1 {
                    let _ = write!(
                        out,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{}"/>"#,
                        run[0].0, run[0].1, series.colour
                    );
                } else {
                    let _ = write!(
                        out,
                        r#"<polyline class="{class}" stroke="{}" points="{}"><title>{}</title></polyline>"#,
                        series.colour,
                        points(&run),
                        esc(&series.name)
                    );
                }
            }
        }
    }
    // Many dates: the dots show only under the pointer, the line stays clean.
    let dot = if dates.len() > 31 { "dot hidden" } else { "dot" };
    for series in chart.series.iter().filter(|s| s.stroke == Stroke::Main && !s.notes.is_empty()) {
        for (i, value) in series.values.iter().enumerate().take(dates.len()) {
            let (Some(v), Some(note)) = (value, series.notes.get(i)) else { continue };
            let _ = write!(
                out,
                r#"<circle class="{dot}" cx="{:.1}" cy="{:.1}" r="2.6" fill="{}"><title>{}</title></circle>"#,
                x(i),
                y(*v),
                series.colour,
                esc(note)
            );
        }
    }
    out.push_str("</svg>");
    out.push_str(r#"<ul class="legend">"#);
    for series in &chart.series {
        let class = match series.stroke {
            Stroke::Main => "swatch main",
            Stroke::Thin => "swatch",
            Stroke::Dashed => "swatch dashed",
        };
        let _ = write!(
            out,
            r#"<li><span class="{class}" style="border-color:{}"></span>{}</li>"#,
            series.colour,
            esc(&series.name)
        );
    }
    out.push_str("</ul>");
    out
}

// ---------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// An exact amount for a table cell, with its sign class.
fn amount_cell(amount: Decimal, currency: Currency, attrs: &str) -> String {
    let class = if amount.is_sign_negative() && !amount.is_zero() { "num neg" } else { "num" };
    format!(r#"<td class="{class}"{attrs}>{}</td>"#, format_grouped(amount, currency))
}

/// A signed change with an explicit `+`.
fn signed(amount: Decimal, currency: Currency) -> String {
    let text = format_grouped(amount, currency);
    if amount > Decimal::ZERO {
        format!("+{text}")
    } else {
        text
    }
}

/// Thousands separators for a figure the reconciliation report gives as text.
fn grouped_text(text: &str) -> String {
    if text.parse::<Decimal>().is_ok() {
        group_thousands(text)
    } else {
        text.to_string()
    }
}

const STYLE: &str = r#"
:root{--bg:#f4f6f9;--card:#fff;--ink:#0f172a;--text:#1e293b;--muted:#64748b;--line:#e2e8f0;--soft:#f8fafc;--accent:#2563eb;--good:#15803d;--warn:#b45309;--bad:#dc2626}
*{box-sizing:border-box}
html{background:var(--bg)}
body{margin:0;color:var(--text);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif;-webkit-font-smoothing:antialiased}
.wrap{max-width:1200px;margin:0 auto;padding:0 24px 40px}
header.top{background:var(--ink);color:#e2e8f0}
header.top .wrap{display:flex;flex-wrap:wrap;gap:16px 40px;justify-content:space-between;align-items:flex-end;padding-top:26px;padding-bottom:22px}
.eyebrow{margin:0;font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:#94a3b8}
h1{margin:2px 0 4px;font-size:26px;font-weight:650;color:#fff;letter-spacing:-.01em}
.sub{margin:0;color:#cbd5e1}
dl.meta{display:grid;grid-template-columns:repeat(3,auto);gap:4px 28px;margin:0}
dl.meta dt{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:#94a3b8}
dl.meta dd{margin:0;color:#f1f5f9;font-variant-numeric:tabular-nums}
.hash{font:11px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:#94a3b8;word-break:break-all;margin:8px 0 0;flex-basis:100%}
nav.toc{position:sticky;top:0;z-index:1;background:rgba(255,255,255,.92);border-bottom:1px solid var(--line)}
nav.toc .wrap{display:flex;gap:22px;padding-top:10px;padding-bottom:10px}
nav.toc a{color:var(--muted);text-decoration:none;font-weight:550}
nav.toc a:hover{color:var(--accent)}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:14px;margin:22px 0 6px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.kpi .k{font-size:12px;color:var(--muted)}
.kpi .v{font-size:18px;font-weight:650;color:var(--ink);font-variant-numeric:tabular-nums;line-height:1.3}
.kpi .s{font-size:12px;color:var(--muted)}
.kpi.good .v{color:var(--good)}.kpi.warn .v{color:var(--warn)}.kpi.bad .v{color:var(--bad)}
section{margin-top:34px}
h2{font-size:19px;margin:0 0 4px;color:var(--ink);font-weight:650}
.lead{margin:0 0 14px;color:var(--muted);max-width:860px}
h3{font-size:14px;margin:0;color:var(--ink);font-weight:650}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px 12px;box-shadow:0 1px 2px rgba(15,23,42,.04)}
.card-head{display:flex;justify-content:space-between;align-items:baseline;gap:12px;margin-bottom:6px}
.figure{text-align:right;font-variant-numeric:tabular-nums;font-weight:650;color:var(--ink)}
.figure small{display:block;font-weight:400;color:var(--muted);font-size:12px}
svg.chart{display:block;width:100%;height:auto;overflow:visible}
svg .grid{stroke:#eef2f6;stroke-width:1}
svg .zero{stroke:#94a3b8;stroke-width:1}
svg .xtick{stroke:#cbd5e1}
svg text{font-size:11px;fill:#64748b;font-variant-numeric:tabular-nums}
svg .ytick{text-anchor:end}
svg .line{fill:none;stroke-linejoin:round;stroke-linecap:round}
svg .main{stroke-width:2.6}
svg .thin{stroke-width:1.5;opacity:.85}
svg .dashed{stroke-width:1.8;stroke-dasharray:6 4}
svg .area{opacity:.12}
svg .dot{stroke:#fff;stroke-width:1}
svg .dot.hidden{opacity:0}
svg .dot:hover{opacity:1;stroke:var(--ink)}
ul.legend{list-style:none;margin:6px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:var(--muted)}
ul.legend li{display:flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:16px;border-top:2px solid}
.swatch.main{border-top-width:4px}
.swatch.dashed{border-top-style:dashed}
.table-card{padding:0;overflow-x:auto}
table{width:100%;border-collapse:collapse;font-size:13px}
th,td{padding:7px 12px;text-align:left;border-bottom:1px solid var(--line);vertical-align:top;white-space:nowrap}
td.long{white-space:normal;min-width:220px}
th{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600;background:var(--soft);white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.neg{color:var(--bad)}
td.empty{color:#cbd5e1}
tr.total td{font-weight:650;background:var(--soft);border-top:2px solid var(--line)}
tbody tr:last-child td{border-bottom:0}
td code,.id{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.muted{color:var(--muted)}
.tag{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;background:#eef2ff;color:#3730a3;white-space:nowrap}
.tag.warn{background:#fef3c7;color:#92400e}
.tag.bad{background:#fee2e2;color:#991b1b}
.tag.good{background:#dcfce7;color:#166534}
.bar{position:relative;height:8px;border-radius:4px;background:#e2e8f0;min-width:120px;overflow:hidden}
.bar span{position:absolute;left:0;top:0;bottom:0;border-radius:4px;background:var(--accent)}
.bar.warn span{background:#f59e0b}.bar.bad span{background:var(--bad)}
.split{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:16px;margin-top:16px;align-items:start}
h3.table-title{margin:22px 0 8px}
.empty-note{padding:16px;color:var(--muted)}
.note{font-size:12px;color:var(--muted);margin:8px 0 0}
footer{margin-top:40px;padding-top:14px;border-top:1px solid var(--line);font-size:12px;color:var(--muted)}
"#;

fn render(r: &ReportData) -> String {
    let mut out = String::with_capacity(256 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{} · cash-pool report · entry {}</title>", esc(&r.group_name), r.head_seq);
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    render_header(&mut out, r);
    out.push_str("<main class=\"wrap\">\n");
    render_kpis(&mut out, r);
    render_balances(&mut out, r);
    render_positions(&mut out, r);
    render_limits(&mut out, r);
    render_recon(&mut out, r);
    render_definition(&mut out, r);
    let _ = writeln!(
        out,
        "<footer>Generated by <code>cashpool report</code> at {} from journal entry {} (read-only). Figures in tables \
         and hover labels are exact; charts plot {} of {} value date(s), each at the end of the day. Own accounts \
         exclude external (<code>EXT-</code>) and system (<code>SYS-</code>) accounts.</footer>",
        esc(&r.generated),
        r.head_seq,
        r.dates.len(),
        r.n_value_dates
    );
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn render_header(out: &mut String, r: &ReportData) {
    let range = match (r.first_date, r.last_date) {
        (Some(first), Some(last)) => format!("{first} → {last}"),
        _ => "no transactions yet".to_string(),
    };
    let _ = write!(
        out,
        r#"<header class="top"><div class="wrap"><div><p class="eyebrow">Cash-pool report</p><h1>{}</h1><p class="sub">Group <b>{}</b> · pool {} · base currency {}</p></div>"#,
        esc(&r.group_name),
        esc(&r.group_id),
        esc(&r.pool_id),
        r.base
    );
    let _ = write!(
        out,
        r#"<dl class="meta"><div><dt>Journal head</dt><dd>entry {}</dd></div><div><dt>Value dates</dt><dd>{}</dd></div><div><dt>Generated</dt><dd>{}</dd></div></dl>"#,
        group_thousands(&r.head_seq.to_string()),
        esc(&range),
        esc(&r.generated)
    );
    let _ = writeln!(out, r#"<p class="hash">head hash {}</p></div></header>"#, esc(&r.head_hash));
    out.push_str(
        "<nav class=\"toc\"><div class=\"wrap\"><a href=\"#balances\">Balances</a><a href=\"#positions\">Intercompany positions</a>\
         <a href=\"#limits\">Cross-border caps</a><a href=\"#recon\">Reconciliation</a><a href=\"#definition\">Definition</a></div></nav>\n",
    );
}

fn kpi(out: &mut String, class: &str, key: &str, value: &str, sub: &str) {
    let _ = write!(
        out,
        r#"<div class="kpi {class}"><div class="k">{}</div><div class="v">{value}</div><div class="s">{sub}</div></div>"#,
        esc(key)
    );
}

fn render_kpis(out: &mut String, r: &ReportData) {
    out.push_str("<div class=\"kpis\">");
    kpi(
        out,
        "",
        "Transactions",
        &group_thousands(&r.n_transactions.to_string()),
        &format!("{} value date(s)", r.n_value_dates),
    );
    let holding = r.latest.iter().filter(|row| !row.balance.is_zero()).count();
    kpi(
        out,
        "",
        "Own accounts",
        &r.accounts.len().to_string(),
        &format!("{holding} balance(s) in {} currencies", r.currencies.len()),
    );
    let base = r.liquidity.base();
    match r.liquidity.total() {
        BaseTotal::Complete(amount) => kpi(
            out,
            "",
            "Total liquidity",
            &format!("{base} {}", format_grouped(*amount, base)),
            &format!("own accounts at the rates of {}", r.liquidity.rates_as_of()),
        ),
        BaseTotal::Unknown { .. } => kpi(
            out,
            "warn",
            "Total liquidity",
            "unknown",
            &format!("no {} rate on or before {}", missing_text(&r.liquidity), r.liquidity.rates_as_of()),
        ),
    }
    let outflow = &r.latest_limits.outflow;
    let share = percent(outflow.used, outflow.cap, 1).map_or("no cap".to_string(), |p| format!("{p}% of the cap used"));
    let class = cap_class(outflow);
    kpi(
        out,
        class,
        "Outflow headroom",
        &format_grouped(outflow.headroom, r.latest_limits.base_currency),
        &format!("{}, {share}", r.latest_limits.base_currency),
    );
    let rate_class = if r.recon.lines == 0 {
        ""
    } else if r.recon.matched == r.recon.lines {
        "good"
    } else {
        "warn"
    };
    kpi(
        out,
        rate_class,
        "Match rate",
        &format!("{}%", esc(&r.recon.match_rate)),
        &format!(
            "{} of {} statement lines",
            group_thousands(&r.recon.matched.to_string()),
            group_thousands(&r.recon.lines.to_string())
        ),
    );
    let n_ex = r.recon.exceptions.len();
    let n_br = r.recon.breaks.len();
    kpi(
        out,
        if n_ex == 0 { "good" } else { "warn" },
        "Open exceptions",
        &group_thousands(&n_ex.to_string()),
        "bank lines and postings unmatched",
    );
    kpi(out, if n_br == 0 { "good" } else { "bad" }, "Breaks", &n_br.to_string(), "continuity and balance checks");
    out.push_str("</div>\n");
}

fn cap_class(cap: &CapUse) -> &'static str {
    if cap.cap.is_zero() {
        return "";
    }
    let share = cap.used / cap.cap;
    if share >= Decimal::new(95, 2) {
        "bad"
    } else if share >= Decimal::new(80, 2) {
        "warn"
    } else {
        "good"
    }
}

fn section_head(out: &mut String, id: &str, title: &str, lead: &str) {
    let _ = write!(out, "<section id=\"{id}\"><h2>{}</h2><p class=\"lead\">{lead}</p>", esc(title));
}

fn render_balances(out: &mut String, r: &ReportData) {
    section_head(
        out,
        "balances",
        "Balances per currency",
        "Total balance of the group's own accounts per currency at the end of each value date (thick line), \
         and each account holding the currency (thin lines). Hover a dot for the exact total.",
    );
    if r.dates.is_empty() {
        out.push_str("<div class=\"card empty-note\">No transactions yet: nothing to chart.</div>");
    } else {
        out.push_str("<div class=\"grid\">");
        for cb in &r.balances {
            let ccy = cb.currency;
            let last = cb.total.last().copied().unwrap_or_default();
            let first = cb.total.first().copied().unwrap_or_default();
            let _ = write!(
                out,
                r#"<div class="card" id="balances-{ccy}"><div class="card-head"><h3>{ccy}</h3><div class="figure">{} {}<small>{} since {}</small></div></div>"#,
                ccy,
                format_grouped(last, ccy),
                signed(last - first, ccy),
                r.dates[0]
            );
            let mut series: Vec<Series> = cb
                .accounts
                .iter()
                .map(|(idx, values)| {
                    let account = &r.accounts[*idx];
                    Series::amounts(account.id.clone(), account.colour, Stroke::Thin, values)
                })
                .collect();
            let mut total = Series::amounts(format!("Total {ccy}"), INK, Stroke::Main, &cb.total);
            total.notes = r
                .dates
                .iter()
                .zip(&cb.total)
                .map(|(date, amount)| format!("{date}: total {ccy} {}", format_grouped(*amount, ccy)))
                .collect();
            series.push(total);
            out.push_str(&line_chart(&Chart {
                label: format!("Balances in {ccy} by value date"),
                dates: &r.dates,
                series,
                unit: Unit::Amount,
                include: vec![0.0],
            }));
            out.push_str("</div>");
        }
        out.push_str("</div>");
    }
    // The latest balances: one row per account, one column per currency, totals.
    out.push_str(
        "<h3 class=\"table-title\">Latest balances</h3><div class=\"card table-card\"><table id=\"latest-balances\"><thead><tr><th>Account</th><th>Entity</th><th>Zone</th><th>Kind</th>",
    );
    for ccy in &r.currencies {
        let _ = write!(out, "<th class=\"num\">{ccy}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    let totals = balance_totals(&r.latest);
    for account in &r.accounts {
        let _ = write!(
            out,
            "<tr><td><b>{}</b></td><td>{}</td><td>{}</td><td class=\"muted\">{}</td>",
            esc(&account.id),
            esc(&account.entity),
            esc(account.zone),
            esc(account.kind)
        );
        for ccy in &r.currencies {
            match r.latest.iter().find(|row| row.account == account.id && row.currency == *ccy) {
                Some(row) => {
                    let attrs = format!(r#" data-account="{}" data-currency="{ccy}""#, esc(&account.id));
                    out.push_str(&amount_cell(row.balance, *ccy, &attrs));
                }
                None => out.push_str("<td class=\"num empty\">–</td>"),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("<tr class=\"total\"><td colspan=\"4\">Total own accounts</td>");
    for ccy in &r.currencies {
        out.push_str(&amount_cell(totals.get(ccy).copied().unwrap_or_default(), *ccy, ""));
    }
    out.push_str("</tr></tbody></table></div>");
    render_base_totals(
        out,
        &r.liquidity,
        "liquidity",
        "Total liquidity",
        "the latest balances of the own accounts; onshore accounts at the onshore CNY rate, FT and offshore \
         accounts at the offshore CNH rate",
    );
    out.push_str("</section>\n");
}

/// The currencies and markets without a rate: `EUR offshore, KRW offshore`.
fn missing_text(totals: &BaseTotals) -> String {
    totals
        .missing()
        .map(|line| format!("{} {}", line.currency, line.market.map_or("", |market| market.as_str())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A table of totals in the base currency (`id` on the table): one row per
/// currency and market with its rate, the rate's date and its value, and the
/// grand total, or UNKNOWN naming the lines without a rate.
fn render_base_totals(out: &mut String, totals: &BaseTotals, id: &str, title: &str, scope: &str) {
    let base = totals.base();
    let as_of = totals.rates_as_of();
    let _ = write!(
        out,
        "<h3 class=\"table-title\">{} in {base}</h3><p class=\"note\">At the rates in force on {as_of} (each \
         currency's rate of that date or the latest before it): {}. Each line is its total × the rate, rounded \
         half-even to the {base} minor unit; the total is the sum of the lines.</p>",
        esc(title),
        esc(scope)
    );
    let _ = write!(
        out,
        "<div class=\"card table-card\"><table id=\"{id}\"><thead><tr><th>Currency</th><th>Market</th>\
         <th class=\"num\">Total</th><th class=\"num\">Rate</th><th>Rate date</th><th class=\"num\">In {base}</th>\
         </tr></thead><tbody>"
    );
    for line in totals.lines() {
        let market = line.market.map_or("", |market| market.as_str());
        let (rate, rate_date) = match &line.conversion {
            Conversion::Base => ("1".to_string(), String::new()),
            Conversion::Converted { rate, rate_date, .. } => (rate.to_string(), rate_date.to_string()),
            Conversion::ZeroWithoutRate => ("none needed".to_string(), String::new()),
            Conversion::MissingRate => ("<span class=\"tag warn\">no rate</span>".to_string(), String::new()),
        };
        let _ = write!(out, "<tr><td><b>{}</b></td><td>{market}</td>", line.currency);
        out.push_str(&amount_cell(line.total, line.currency, ""));
        let _ = write!(out, "<td class=\"num\">{rate}</td><td>{rate_date}</td>");
        match line.total_base(base) {
            Some(value) => {
                let attrs = format!(r#" data-line="{} {market}""#, line.currency);
                out.push_str(&amount_cell(value, base, &attrs));
            }
            None => out.push_str("<td class=\"num empty\">not converted</td>"),
        }
        out.push_str("</tr>");
    }
    match totals.total() {
        BaseTotal::Complete(amount) => {
            let _ = write!(out, "<tr class=\"total\"><td colspan=\"5\">Total in {base}</td>");
            out.push_str(&amount_cell(*amount, base, r#" data-total="complete""#));
        }
        BaseTotal::Unknown { converted } => {
            let _ = write!(
                out,
                "<tr class=\"total\"><td colspan=\"5\">Total in {base}: <span class=\"tag warn\">unknown</span> no \
                 rate on or before {as_of} for {}; the lines converted come to {}, which leaves those out</td>\
                 <td class=\"num\" data-total=\"unknown\">unknown</td>",
                esc(&missing_text(totals)),
                format_grouped(*converted, base)
            );
        }
    }
    out.push_str("</tr></tbody></table></div>");
}

/// The group definition's history: each amendment with what it changed, and the accounts opened or closed since init.
fn render_definition(out: &mut String, r: &ReportData) {
    section_head(
        out,
        "definition",
        "Group definition",
        "The amendments of the group definition since init (<code>cashpool amend</code>, docs/AMENDMENTS.md): every \
         rule reads the definition in force on the value date it judges.",
    );
    if r.amendments.is_empty() {
        out.push_str(
            "<div class=\"card empty-note\">The definition has not been amended since init.</div></section>\n",
        );
        return;
    }
    out.push_str(
        "<div class=\"card table-card\"><table id=\"amendments\"><thead><tr><th>In force from</th><th>Accounts opened</th>\
         <th>Accounts closed</th><th>Entities joined</th><th>Entities left</th><th>Changed</th></tr></thead><tbody>",
    );
    for (effective, changes) in &r.amendments {
        let list = |items: &[String]| if items.is_empty() { "—".to_string() } else { esc(&items.join(", ")) };
        let _ = write!(
            out,
            "<tr><td><b>{effective}</b></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"muted\">{}</td></tr>",
            list(&changes.opened),
            list(&changes.closed),
            list(&changes.joined),
            list(&changes.left),
            list(&changes.changed)
        );
    }
    out.push_str("</tbody></table></div>");
    if !r.account_dates.is_empty() {
        out.push_str(
            "<h3 class=\"table-title\">Accounts opened or closed by an amendment</h3><div class=\"card table-card\">\
             <table id=\"account-dates\"><thead><tr><th>Account</th><th>Entity</th><th>Opened</th><th>Closed</th></tr></thead><tbody>",
        );
        for (id, entity, from, until) in &r.account_dates {
            let date = |d: &Option<NaiveDate>| d.map_or("—".to_string(), |d| d.to_string());
            let _ = write!(
                out,
                "<tr><td><b>{}</b></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(id),
                esc(entity),
                date(from),
                date(until)
            );
        }
        out.push_str("</tbody></table></div>");
    }
    out.push_str("</section>\n");
}

fn render_positions(out: &mut String, r: &ReportData) {
    section_head(
        out,
        "positions",
        "Intercompany positions",
        "Each member's position with the pool per currency at the end of each value date: positive, the member \
         lent to the pool; negative, it borrowed from the pool.",
    );
    if r.positions.is_empty() {
        out.push_str(
            "<div class=\"card empty-note\">No intercompany positions: no sweep has run yet.</div></section>\n",
        );
        return;
    }
    out.push_str("<div class=\"grid\">");
    for (ccy, members) in &r.positions {
        let net = position_totals(&r.latest_positions).get(ccy).copied().unwrap_or_default();
        let _ = write!(
            out,
            r#"<div class="card" id="positions-{ccy}"><div class="card-head"><h3>{ccy}</h3><div class="figure">{} {}<small>net of {} member(s), latest</small></div></div>"#,
            ccy,
            format_grouped(net, *ccy),
            members.len()
        );
        let series = members
            .iter()
            .map(|member| {
                let mut series = Series::amounts(member.entity.clone(), member.colour, Stroke::Main, &member.values);
                series.notes = r
                    .dates
                    .iter()
                    .zip(&member.values)
                    .map(|(date, amount)| format!("{date}: {} {ccy} {}", member.entity, format_grouped(*amount, *ccy)))
                    .collect();
                series
            })
            .collect();
        out.push_str(&line_chart(&Chart {
            label: format!("Intercompany positions in {ccy} by value date"),
            dates: &r.dates,
            series,
            unit: Unit::Amount,
            include: vec![0.0],
        }));
        out.push_str("</div>");
    }
    out.push_str("</div>");
    let currencies: BTreeSet<Currency> = r.positions.iter().map(|(ccy, _)| *ccy).collect();
    let members: BTreeSet<&str> = r.positions.iter().flat_map(|(_, m)| m.iter().map(|s| s.entity.as_str())).collect();
    out.push_str(
        "<h3 class=\"table-title\">Latest positions</h3><div class=\"card table-card\"><table id=\"latest-positions\"><thead><tr><th>Member</th><th>Name</th>",
    );
    for ccy in &currencies {
        let _ = write!(out, "<th class=\"num\">{ccy}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for member in &members {
        let name = r.entity_names.get(*member).map_or("", String::as_str);
        let _ = write!(out, "<tr><td><b>{}</b></td><td>{}</td>", esc(member), esc(name));
        for ccy in &currencies {
            let row = r.latest_positions.iter().find(|row| row.entity == *member && row.currency == *ccy);
            match row {
                Some(row) => {
                    let attrs = format!(r#" data-entity="{}" data-currency="{ccy}""#, esc(member));
                    out.push_str(&amount_cell(row.position, *ccy, &attrs));
                }
                None => out.push_str("<td class=\"num empty\">–</td>"),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    render_base_totals(
        out,
        &r.positions_base,
        "positions-base",
        "Net positions",
        "the members' latest positions, at the onshore rate: they are held in the host's onshore books",
    );
    out.push_str("</section>\n");
}

/// One of a view's two caps.
type PickCap = fn(&LimitsView) -> &CapUse;

fn render_limits(out: &mut String, r: &ReportData) {
    let base = r.latest_limits.base_currency;
    section_head(
        out,
        "limits",
        "Cross-border caps",
        &format!(
            "Use of the pool's net inflow and net outflow caps at the end of each value date, in {base}: the shaded \
             line is the use, the dashed line the cap in force. Headroom is the cap less the use."
        ),
    );
    if !r.dates.is_empty() {
        out.push_str("<div class=\"grid\">");
        let [inflow_title, outflow_title] = cap_titles(&r.latest_limits);
        let directions: [(&str, &str, PickCap); 2] =
            [("inflow", inflow_title, |view| &view.inflow), ("outflow", outflow_title, |view| &view.outflow)];
        for (key, title, pick) in directions {
            let latest = pick(&r.latest_limits);
            let _ = write!(
                out,
                r#"<div class="card" id="cap-{key}"><div class="card-head"><h3>{title}</h3><div class="figure">{} {}<small>headroom, latest</small></div></div>"#,
                base,
                format_grouped(latest.headroom, base)
            );
            let used: Vec<Decimal> = r.limits.iter().map(|view| pick(view).used).collect();
            let caps: Vec<Decimal> = r.limits.iter().map(|view| pick(view).cap).collect();
            let mut use_series = Series::amounts("Used", ACCENT, Stroke::Main, &used);
            use_series.area = true;
            use_series.notes = r
                .dates
                .iter()
                .zip(&r.limits)
                .map(|(date, view)| {
                    let cap = pick(view);
                    format!(
                        "{date}: used {} of {} {base}{}, headroom {}{}",
                        format_grouped(cap.used, base),
                        format_grouped(cap.cap, base),
                        percent(cap.used, cap.cap, 1).map(|p| format!(" ({p}%)")).unwrap_or_default(),
                        format_grouped(cap.headroom, base),
                        cap.peak
                            .map(|peak| format!(", intraday peak {}", format_grouped(peak, base)))
                            .unwrap_or_default()
                    )
                })
                .collect();
            let cap_series = Series::amounts("Cap", CAP, Stroke::Dashed, &caps);
            // The intraday peak beside the end-of-day use: they differ on a day a movement
            // used the cap and a later one freed it (a funding swept back the same evening).
            let peaks: Vec<Decimal> = r.limits.iter().map(|view| pick(view).peak.unwrap_or(pick(view).used)).collect();
            let peak_series = Series::amounts("Intraday peak", CAP_PEAK, Stroke::Thin, &peaks);
            out.push_str(&line_chart(&Chart {
                label: format!("{title} cap, its use at the end of each value date and its intraday peak, {base}"),
                dates: &r.dates,
                series: vec![use_series, peak_series, cap_series],
                unit: Unit::Amount,
                include: vec![0.0],
            }));
            out.push_str("</div>");
        }
        out.push_str("</div>");
    }
    out.push_str("<h3 class=\"table-title\">Cap use, latest</h3><div class=\"card table-card\"><table id=\"caps\"><thead><tr><th>Cap</th>");
    let _ = write!(
        out,
        "<th class=\"num\">Cap ({base})</th><th class=\"num\">Used</th><th class=\"num\">Headroom</th><th class=\"num\">Highest intraday peak</th><th>Use</th></tr></thead><tbody>"
    );
    let [inflow_title, outflow_title] = cap_titles(&r.latest_limits);
    for (title, cap) in [(inflow_title, &r.latest_limits.inflow), (outflow_title, &r.latest_limits.outflow)] {
        let peak = match (cap.peak, cap.peak_date) {
            (Some(peak), Some(date)) => {
                format!("<td class=\"num\">{} <small>{date}</small></td>", format_grouped(peak, base))
            }
            _ => "<td class=\"num\">–</td>".to_string(),
        };
        let share = percent(cap.used, cap.cap, 1);
        let width = share.as_deref().and_then(|p| p.parse::<f64>().ok()).unwrap_or(0.0).clamp(0.0, 100.0);
        let _ = write!(
            out,
            "<tr><td><b>{title}</b></td>{}{}{}{peak}<td><div style=\"display:flex;align-items:center;gap:8px\"><div class=\"bar {}\" style=\"flex:1\"><span style=\"width:{width:.1}%\"></span></div><span class=\"num\">{}</span></div></td></tr>",
            amount_cell(cap.cap, base, ""),
            amount_cell(cap.used, base, ""),
            amount_cell(cap.headroom, base, ""),
            cap_class(cap),
            share.map_or("–".to_string(), |p| format!("{p}%"))
        );
    }
    out.push_str("</tbody></table></div>");
    out.push_str("<h3 class=\"table-title\">Foreign debt per entity, latest</h3><div class=\"card table-card\"><table id=\"foreign-debt\"><thead><tr><th>Entity</th>");
    let _ = write!(
        out,
        "<th class=\"num\">Foreign debt, weighted ({base})</th><th class=\"num\">Cap</th><th class=\"num\">Headroom</th><th class=\"num\">Facilitation used / quota (USD)</th></tr></thead><tbody>"
    );
    if r.latest_limits.entities.is_empty() {
        out.push_str("<tr><td colspan=\"5\" class=\"muted\">No entity has a foreign-debt cap.</td></tr>");
    }
    let usd = Currency::from_code("USD");
    for entity in &r.latest_limits.entities {
        let facilitation = match (entity.facilitation_used_usd, entity.facilitation_quota_usd, usd) {
            (Some(used), Some(quota), Some(usd)) => {
                format!("{} / {}", format_grouped(used, usd), format_grouped(quota, usd))
            }
            _ => "–".to_string(),
        };
        let _ = write!(
            out,
            "<tr><td><b>{}</b></td>{}{}{}<td class=\"num\">{}</td></tr>",
            esc(&entity.entity),
            amount_cell(entity.foreign_debt_weighted, base, ""),
            amount_cell(entity.cap, base, ""),
            amount_cell(entity.headroom, base, ""),
            facilitation
        );
    }
    out.push_str("</tbody></table></div></section>\n");
}

fn reason_class(reason: &str) -> &'static str {
    match reason {
        "bank_initiated" | "date_variance" | "amount_variance" | "ambiguous" => "warn",
        _ => "bad",
    }
}

fn render_recon(out: &mut String, r: &ReportData) {
    let report = &r.recon;
    section_head(
        out,
        "recon",
        "Reconciliation",
        "Bank statements reconciled against the ledger, recomputed from the journal (as <code>cashpool recon \
         report</code>): the match rate is matched lines ÷ end-of-day statement lines, cut to two decimals.",
    );
    out.push_str("<div class=\"kpis\" style=\"margin-top:0\">");
    kpi(
        out,
        "",
        "Statements",
        &group_thousands(&report.statements.to_string()),
        &format!("{} intraday (listed, not matched)", report.intraday),
    );
    kpi(
        out,
        if report.matched == report.lines { "good" } else { "warn" },
        "Match rate",
        &format!("{}%", esc(&report.match_rate)),
        &format!(
            "{} of {} lines matched",
            group_thousands(&report.matched.to_string()),
            group_thousands(&report.lines.to_string())
        ),
    );
    kpi(
        out,
        "",
        "Ledger postings matched",
        &group_thousands(&report.ledger_matched.to_string()),
        &format!("of {} inside the statements' periods", group_thousands(&report.ledger_items.to_string())),
    );
    kpi(
        out,
        if report.exceptions.is_empty() { "good" } else { "warn" },
        "Open exceptions",
        &report.exceptions.len().to_string(),
        &format!("{} break(s)", report.breaks.len()),
    );
    out.push_str("</div>");
    if !r.match_by_date.is_empty() {
        let dates: Vec<NaiveDate> = r.match_by_date.iter().map(|day| day.date).collect();
        let dates = sample_dates(&dates, MAX_POINTS);
        let days: Vec<&DayMatch> =
            r.match_by_date.iter().filter(|day| dates.binary_search(&day.date).is_ok()).collect();
        let rates: Vec<Option<f64>> = days.iter().map(|day| Some(day.percent())).collect();
        let mut series = Series::new("Match rate", ACCENT, Stroke::Main, rates);
        series.notes = days
            .iter()
            .map(|day| format!("{}: {} of {} lines matched ({}%)", day.date, day.matched, day.lines, day.match_rate))
            .collect();
        let low = days.iter().map(|day| day.percent()).fold(100.0f64, f64::min);
        out.push_str("<div class=\"split\" style=\"margin-top:0\"><div class=\"card\" id=\"match-rate\"><div class=\"card-head\"><h3>Match rate by statement date</h3><div class=\"figure\">");
        let _ = write!(out, "{}%<small>overall</small></div></div>", esc(&report.match_rate));
        out.push_str(&line_chart(&Chart {
            label: "Match rate of the end-of-day statements by statement date".into(),
            dates: &dates,
            series: vec![series],
            unit: Unit::Percent,
            include: vec![100.0, (low - 1.0).max(0.0)],
        }));
        out.push_str("</div>");
        render_exception_summary(out, report);
        out.push_str("</div>");
    } else {
        out.push_str("<div class=\"split\" style=\"margin-top:0\">");
        render_exception_summary(out, report);
        out.push_str("</div>");
    }

    out.push_str("<h3 class=\"table-title\">Open exceptions</h3><div class=\"card table-card\">");
    if report.exceptions.is_empty() {
        out.push_str(
            "<div class=\"empty-note\">None: every statement line and every expected posting is matched.</div>",
        );
    } else {
        out.push_str(
            "<table id=\"exceptions\"><thead><tr><th>Id</th><th>Side</th><th>Account</th><th>Ccy</th><th class=\"num\">Amount</th><th>Date</th><th>Reference</th><th>Reason</th><th>Detail</th></tr></thead><tbody>",
        );
        for ex in report.exceptions.iter().take(MAX_ROWS) {
            let negative = ex.amount.starts_with('-');
            let _ = write!(
                out,
                "<tr><td class=\"id\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num{}\">{}</td><td class=\"num\">{}</td><td>{}</td><td><span class=\"tag {}\">{}</span></td><td class=\"long\">{}</td></tr>",
                esc(&ex.id),
                esc(ex.side),
                esc(&ex.account),
                esc(&ex.currency),
                if negative { " neg" } else { "" },
                esc(&grouped_text(&ex.amount)),
                ex.date.map(|d| d.to_string()).unwrap_or_default(),
                esc(&ex.reference),
                reason_class(ex.reason),
                esc(ex.reason),
                esc(&ex.detail)
            );
        }
        out.push_str("</tbody></table>");
        if report.exceptions.len() > MAX_ROWS {
            let _ = write!(
                out,
                "<p class=\"note\" style=\"padding:0 12px 10px\">The first {MAX_ROWS} of {} exceptions; <code>cashpool recon report</code> lists them all.</p>",
                report.exceptions.len()
            );
        }
    }
    out.push_str("</div>");

    out.push_str("<h3 class=\"table-title\">Breaks</h3><div class=\"card table-card\">");
    if report.breaks.is_empty() {
        out.push_str(
            "<div class=\"empty-note\">None: every statement follows the one before and agrees with the ledger.</div>",
        );
    } else {
        out.push_str(
            "<table id=\"breaks\"><thead><tr><th>Account</th><th>Ccy</th><th>Kind</th><th class=\"num\">Expected</th><th class=\"num\">Found</th><th>Statement</th><th class=\"num\">Entry</th><th>Date</th><th>Detail</th></tr></thead><tbody>",
        );
        for b in report.breaks.iter().take(MAX_ROWS) {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td><span class=\"tag bad\">{}</span></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"id\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"long\">{}</td></tr>",
                esc(&b.account),
                esc(&b.currency),
                esc(b.kind),
                esc(&grouped_text(&b.expected)),
                esc(&grouped_text(&b.found)),
                esc(&b.statement),
                b.seq,
                b.date.map(|d| d.to_string()).unwrap_or_default(),
                esc(&b.detail)
            );
        }
        out.push_str("</tbody></table>");
        if report.breaks.len() > MAX_ROWS {
            let _ = write!(
                out,
                "<p class=\"note\" style=\"padding:0 12px 10px\">The first {MAX_ROWS} of {} breaks; <code>cashpool recon report</code> lists them all.</p>",
                report.breaks.len()
            );
        }
    }
    out.push_str("</div></section>\n");
}

/// Open exceptions and breaks counted by reason and kind.
fn render_exception_summary(out: &mut String, report: &Report) {
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for ex in &report.exceptions {
        *reasons.entry(ex.reason).or_default() += 1;
    }
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for b in &report.breaks {
        *kinds.entry(b.kind).or_default() += 1;
    }
    out.push_str("<div class=\"card table-card\"><table id=\"recon-summary\"><thead><tr><th>Open items</th><th class=\"num\">Count</th></tr></thead><tbody>");
    if reasons.is_empty() && kinds.is_empty() {
        out.push_str("<tr><td><span class=\"tag good\">all reconciled</span></td><td class=\"num\">0</td></tr>");
    }
    for (reason, count) in &reasons {
        let _ = write!(
            out,
            "<tr><td>exception <span class=\"tag {}\">{}</span></td><td class=\"num\">{count}</td></tr>",
            reason_class(reason),
            esc(reason)
        );
    }
    for (kind, count) in &kinds {
        let _ = write!(
            out,
            "<tr><td>break <span class=\"tag bad\">{}</span></td><td class=\"num\">{count}</td></tr>",
            esc(kind)
        );
    }
    let _ = write!(
        out,
        "<tr><td class=\"muted\">bank lines</td><td class=\"num\">{}</td></tr><tr><td class=\"muted\">lines matched</td><td class=\"num\">{}</td></tr>",
        group_thousands(&report.lines.to_string()),
        group_thousands(&report.matched.to_string())
    );
    out.push_str("</tbody></table></div>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn nice_steps_are_one_two_two_and_a_half_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.3), 2.0);
        assert_eq!(nice_step(2.2), 2.5);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(2_300_000.0), 2_500_000.0);
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(nice_step(f64::NAN), 1.0);
    }

    #[test]
    fn ticks_cover_the_data_on_a_nice_grid() {
        let ticks = nice_ticks(0.0, 37_252_851.19, 5);
        assert_eq!(ticks, Ticks { lo: 0.0, hi: 40_000_000.0, step: 10_000_000.0 });
        assert_eq!(ticks.values(), vec![0.0, 1e7, 2e7, 3e7, 4e7]);
        let ticks = nice_ticks(-420_289.99, 2_042_937.83, 5);
        assert_eq!(ticks.step, 500_000.0);
        assert_eq!((ticks.lo, ticks.hi), (-500_000.0, 2_500_000.0));
        assert!(ticks.values().contains(&0.0));
        // Small steps do not drift: 0.1 * 3 is 0.3 here.
        let ticks = nice_ticks(0.0, 0.5, 5);
        assert_eq!(ticks.values(), vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    }

    #[test]
    fn flat_and_empty_ranges_get_room() {
        let flat = nice_ticks(0.0, 0.0, 5);
        assert!(flat.lo <= 0.0 && flat.hi > 0.0, "{flat:?}");
        let flat = nice_ticks(100.0, 100.0, 5);
        assert!(flat.lo < 100.0 && flat.hi > 100.0, "{flat:?}");
        let empty = nice_ticks(f64::INFINITY, f64::NEG_INFINITY, 5);
        assert_eq!((empty.lo, empty.hi), (0.0, 1.0));
    }

    #[test]
    fn the_scale_maps_lo_and_hi_to_the_ends() {
        let ticks = Ticks { lo: -10.0, hi: 30.0, step: 10.0 };
        assert_eq!(ticks.map(-10.0, 222.0, 12.0), 222.0);
        assert_eq!(ticks.map(30.0, 222.0, 12.0), 12.0);
        assert_eq!(ticks.map(10.0, 0.0, 100.0), 50.0);
    }

    #[test]
    fn axis_labels_are_compact_with_just_enough_decimals() {
        let labels = axis_labels(&Ticks { lo: 0.0, hi: 40e6, step: 10e6 }, Unit::Amount);
        assert_eq!(labels, ["0", "10M", "20M", "30M", "40M"]);
        let labels = axis_labels(&Ticks { lo: -5e5, hi: 1e6, step: 5e5 }, Unit::Amount);
        assert_eq!(labels, ["-0.5M", "0", "0.5M", "1.0M"]);
        let labels = axis_labels(&Ticks { lo: 0.0, hi: 7500.0, step: 2500.0 }, Unit::Amount);
        assert_eq!(labels, ["0", "2.5k", "5.0k", "7.5k"]);
        let labels = axis_labels(&Ticks { lo: 0.0, hi: 3e9, step: 1e9 }, Unit::Amount);
        assert_eq!(labels, ["0", "1B", "2B", "3B"]);
        let labels = axis_labels(&Ticks { lo: 0.0, hi: 40.0, step: 20.0 }, Unit::Amount);
        assert_eq!(labels, ["0", "20", "40"]);
        let labels = axis_labels(&Ticks { lo: 98.0, hi: 100.0, step: 0.5 }, Unit::Percent);
        assert_eq!(labels, ["98.0%", "98.5%", "99.0%", "99.5%", "100.0%"]);
    }

    #[test]
    fn sampling_keeps_short_lists_and_spreads_long_ones() {
        let dates: Vec<NaiveDate> = (0..200).map(|i| d("2026-01-01") + chrono::Days::new(i)).collect();
        assert_eq!(sample_dates(&dates[..20], 60), dates[..20].to_vec());
        let sample = sample_dates(&dates, 60);
        assert_eq!(sample.len(), 60);
        assert_eq!(sample.first(), dates.first());
        assert_eq!(sample.last(), dates.last());
        assert!(sample.windows(2).all(|w| w[0] < w[1]));
        assert!(sample_dates(&[], 60).is_empty());
    }

    #[test]
    fn balances_fold_the_flows_up_to_each_date() {
        // The report charts the ledger's balance at the end of each chart date.
        use cashpool_ledger::journal::Timestamp;
        use cashpool_ledger::model::Purpose;
        use cashpool_ledger::storage::MemoryStorage;
        use cashpool_ledger::tx::TransactionRequest;
        use cashpool_ledger::BatchMode;
        let ledger = Ledger::create(Box::new(MemoryStorage::new()), cashpool_sim::EXAMPLE_GROUP, Timestamp::EPOCH)
            .expect("create");
        let flows = [
            ("2026-11-02", "EXT-OFFSHORE", "HK-OPS", Decimal::new(10000, 2)),
            ("2026-11-03", "HK-OPS", "EXT-OFFSHORE", Decimal::new(2550, 2)),
            ("2026-11-05", "EXT-OFFSHORE", "HK-OPS", Decimal::new(1, 2)),
        ];
        let requests: Vec<TransactionRequest> = flows
            .iter()
            .enumerate()
            .map(|(idx, (date, from, to, amount))| {
                TransactionRequest::transfer(
                    format!("T{idx}"),
                    d(date),
                    *from,
                    *to,
                    "USD",
                    *amount,
                    Purpose::CurrentAccount,
                    "",
                    "",
                )
            })
            .collect();
        let outcome = ledger.post_batch(&requests, BatchMode::Atomic, "test", Timestamp::EPOCH).expect("post");
        assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
        let usd = Currency::from_code("USD").expect("USD");
        let dates = [d("2026-11-01"), d("2026-11-03"), d("2026-11-04"), d("2026-11-06")];
        let at_dates: Vec<Decimal> = dates
            .iter()
            .map(|date| ledger.balances(Some(*date), Some("HK-OPS"), Some(usd)).expect("balances")[0].balance)
            .collect();
        assert_eq!(at_dates, vec![Decimal::ZERO, Decimal::new(7450, 2), Decimal::new(7450, 2), Decimal::new(7451, 2)]);
    }

    #[test]
    fn date_labels_are_spread_in_time_and_include_both_ends() {
        assert_eq!(date_label_indices(&[], 6), Vec::<usize>::new());
        assert_eq!(date_label_indices(&[d("2026-11-02")], 6), vec![0]);
        let three = [d("2026-11-02"), d("2026-11-03"), d("2026-11-04")];
        assert_eq!(date_label_indices(&three, 6), vec![0, 1, 2]);
        // 20 business days from Monday 2 November: labels about every five days.
        let days: Vec<NaiveDate> = (0..28)
            .map(|i| d("2026-11-02") + chrono::Days::new(i))
            .filter(|date| date.format("%u").to_string().parse::<u32>().unwrap() <= 5)
            .take(20)
            .collect();
        let picked: Vec<String> = date_label_indices(&days, 6).iter().map(|&i| days[i].to_string()).collect();
        assert_eq!(picked, ["2026-11-02", "2026-11-06", "2026-11-12", "2026-11-17", "2026-11-23", "2026-11-27"]);
        // A cluster at the start and one late date: no two labels on top of each other.
        let uneven = [d("2026-01-01"), d("2026-01-02"), d("2026-01-03"), d("2026-12-31")];
        assert_eq!(date_label_indices(&uneven, 6), vec![0, 3]);
    }

    #[test]
    fn percent_is_cut_not_rounded() {
        assert_eq!(percent(Decimal::from(2), Decimal::from(3), 2).as_deref(), Some("66.66"));
        assert_eq!(percent(Decimal::from(3), Decimal::from(3), 1).as_deref(), Some("100.0"));
        assert_eq!(percent(Decimal::ONE, Decimal::ZERO, 1), None);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }

    #[test]
    fn a_chart_draws_lines_dots_and_a_legend() {
        let dates = [d("2026-11-02"), d("2026-11-03"), d("2026-11-04")];
        let mut total = Series::new("Total <CNY>", INK, Stroke::Main, vec![Some(1.0), Some(3.0), Some(2.0)]);
        total.notes = vec!["a".into(), "b".into(), "c".into()];
        let gap = Series::new("gap", PALETTE[0], Stroke::Thin, vec![Some(1.0), None, Some(2.0)]);
        let svg = line_chart(&Chart {
            label: "test".into(),
            dates: &dates,
            series: vec![total, gap],
            unit: Unit::Amount,
            include: vec![0.0],
        });
        assert!(svg.starts_with("<svg class=\"chart\" viewBox=\"0 0 640 250\""), "{svg}");
        assert_eq!(svg.matches("<polyline").count(), 1, "the gap splits the thin line into two dots");
        assert_eq!(svg.matches("class=\"dot\"").count(), 3);
        assert!(svg.contains("Total &lt;CNY&gt;"));
        assert!(!svg.contains("<CNY>"));
        assert!(svg.contains(">02 Nov<") && svg.contains(">04 Nov<"));
        // The line spans the plot: first point at the left edge, last at the right.
        assert!(svg.contains(&format!("points=\"{LEFT:.1},")));
        assert!(svg.contains(&format!("{:.1},", WIDTH - RIGHT)));
    }

    #[test]
    fn the_dots_of_a_long_chart_show_only_under_the_pointer() {
        let dates: Vec<NaiveDate> = (0..40).map(|i| d("2026-01-01") + chrono::Days::new(i)).collect();
        let mut series = Series::new("total", INK, Stroke::Main, (0..40).map(|i| Some(f64::from(i))).collect());
        series.notes = (0..40).map(|i| format!("note {i}")).collect();
        let svg = line_chart(&Chart {
            label: "long".into(),
            dates: &dates,
            series: vec![series],
            unit: Unit::Amount,
            include: vec![],
        });
        assert_eq!(svg.matches("class=\"dot hidden\"").count(), 40);
        assert!(svg.contains("<title>note 39</title>"));
        assert!(svg.contains(">01 Jan<") && svg.contains(">09 Feb<"), "dates of one year: day and month");
        let years = [d("2026-12-30"), d("2027-01-04")];
        assert_eq!(date_label(years[0], &years), "2026-12-30", "dates of two years: in full");
    }

    #[test]
    fn a_chart_of_one_date_puts_it_in_the_middle() {
        let dates = [d("2026-11-02")];
        let svg = line_chart(&Chart {
            label: "one".into(),
            dates: &dates,
            series: vec![Series::new("x", INK, Stroke::Thin, vec![Some(5.0)])],
            unit: Unit::Amount,
            include: vec![],
        });
        assert!(svg.contains(&format!("cx=\"{:.1}\"", (LEFT + WIDTH - RIGHT) / 2.0)), "{svg}");
        assert!(!svg.contains("NaN"));
    }
}
