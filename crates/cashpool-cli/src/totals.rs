//! Rendering the ledger's totals in the base currency
//! (`cashpool_ledger::totals::BaseTotals`) under `balances`, `positions` and
//! the demo's summary: the JSON fields `totals` and `base_total`, the lines
//! under a table, the second section of the CSV. Every figure is the
//! ledger's; nothing here adds or converts.

use cashpool_ledger::money::{format_amount, format_grouped};
use cashpool_ledger::totals::{BaseLine, BaseTotal, BaseTotals, Conversion};
use serde_json::{json, Value};

use crate::output::{csv_line, paint, Paint, Table};

/// The line's status as JSON and CSV name it.
pub fn status(line: &BaseLine) -> &'static str {
    match line.conversion {
        Conversion::Base => "base",
        Conversion::Converted { .. } => "converted",
        Conversion::ZeroWithoutRate => "zero_without_rate",
        Conversion::MissingRate => "missing_rate",
    }
}

/// The rate of a line as text: the rate used, `1` for the base currency, none otherwise.
fn rate_text(line: &BaseLine) -> Option<String> {
    match &line.conversion {
        Conversion::Base => Some("1".into()),
        Conversion::Converted { rate, .. } => Some(rate.to_string()),
        Conversion::ZeroWithoutRate | Conversion::MissingRate => None,
    }
}

/// The JSON field `totals`: one object per line.
pub fn lines_json(totals: &BaseTotals) -> Value {
    let base = totals.base();
    Value::Array(
        totals
            .lines()
            .iter()
            .map(|line| {
                json!({
                    "currency": line.currency.code(),
                    "market": line.market.map(|market| market.as_str()),
                    "total": format_amount(line.total, line.currency),
                    "rate": rate_text(line),
                    "rate_date": line.rate().map(|(_, date)| date.to_string()),
                    "total_base": line.total_base(base).map(|value| format_amount(value, base)),
                    "status": status(line),
                })
            })
            .collect(),
    )
}

/// The JSON field `base_total`: the grand total, `null` unless every line was converted.
pub fn base_total_json(totals: &BaseTotals) -> Value {
    let base = totals.base();
    json!({
        "currency": base.code(),
        "rates_as_of": totals.rates_as_of().to_string(),
        "complete": totals.total().amount().is_some(),
        "amount": totals.total().amount().map(|amount| format_amount(amount, base)),
        "converted": format_amount(totals.total().converted(), base),
        "missing_rates": totals.missing().map(|line| json!({
            "currency": line.currency.code(),
            "market": line.market.map(|market| market.as_str()),
            "total": format_amount(line.total, line.currency),
        })).collect::<Vec<_>>(),
    })
}

/// The lines printed under a table: a heading naming the rates' date and what
/// converts at which market (`scope`), one row per line, and the grand total,
/// which says UNKNOWN, and why, when a line has no rate.
pub fn table_text(totals: &BaseTotals, scope: &str) -> String {
    let base = totals.base();
    let as_of = totals.rates_as_of();
    let mut out = format!("in {base} at the rates in force on {as_of} ({scope})\n");
    if totals.lines().is_empty() {
        out.push_str(&format!(
            "total in {base}: {} (nothing to convert)\n",
            format_grouped(totals.total().converted(), base)
        ));
        return out;
    }
    let value_header = format!("in {base}");
    let mut table =
        Table::new(&["currency", "market", "total", "rate", "rate date", &value_header], &["total", &value_header]);
    for line in totals.lines() {
        let (rate, rate_date) = match &line.conversion {
            Conversion::Base => ("1".to_string(), String::new()),
            Conversion::Converted { rate, rate_date, .. } => (rate.to_string(), rate_date.to_string()),
            Conversion::ZeroWithoutRate => ("none needed".to_string(), String::new()),
            Conversion::MissingRate => ("NO RATE".to_string(), String::new()),
        };
        table.push(vec![
            line.currency.code().to_string(),
            line.market.map_or(String::new(), |market| market.as_str().to_string()),
            format_grouped(line.total, line.currency),
            rate,
            rate_date,
            line.total_base(base).map_or_else(|| "not converted".to_string(), |value| format_grouped(value, base)),
        ]);
    }
    out.push_str(&table.render());
    let total_line = match totals.total() {
        BaseTotal::Complete(amount) => {
            paint(&format!("total in {base}: {}", format_grouped(*amount, base)), Paint::Bold)
        }
        BaseTotal::Unknown { converted } => {
            let missing: Vec<String> = totals
                .missing()
                .map(|line| format!("{} {}", line.currency, line.market.map_or("", |market| market.as_str())))
                .collect();
            paint(
                &format!(
                    "total in {base}: UNKNOWN: no rate on or before {as_of} for {}; the lines converted come to {}, \
                     which leaves those out",
                    missing.join(", "),
                    format_grouped(*converted, base)
                ),
                Paint::Warn,
            )
        }
    };
    out.push_str(&total_line);
    out.push('\n');
    out
}

/// The CSV's second section, after a blank line: a header, one row per line,
/// and a last row for the grand total (`status` `total`, or `total_unknown`
/// with no amount).
pub fn csv_text(totals: &BaseTotals) -> String {
    let base = totals.base();
    let as_of = totals.rates_as_of().to_string();
    let mut out = String::from("\n");
    out.push_str(&csv_line(&[
        "rates_as_of",
        "currency",
        "market",
        "total",
        "rate",
        "rate_date",
        "total_base",
        "status",
    ]));
    for line in totals.lines() {
        out.push_str(&csv_line(&[
            as_of.clone(),
            line.currency.code().to_string(),
            line.market.map_or(String::new(), |market| market.as_str().to_string()),
            format_amount(line.total, line.currency),
            rate_text(line).unwrap_or_default(),
            line.rate().map_or(String::new(), |(_, date)| date.to_string()),
            line.total_base(base).map_or(String::new(), |value| format_amount(value, base)),
            status(line).to_string(),
        ]));
    }
    let (amount, total_status) = match totals.total().amount() {
        Some(amount) => (format_amount(amount, base), "total"),
        None => (String::new(), "total_unknown"),
    };
    out.push_str(&csv_line(&[
        as_of,
        base.code().to_string(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        amount,
        total_status.to_string(),
    ]));
    out
}

/// What converts at which market, for the heading of `balances`.
pub const BALANCES_SCOPE: &str =
    "the group's own accounts; onshore accounts at the onshore CNY rate, FT and offshore accounts at the offshore CNH rate";

/// What converts at which market, for the heading of `positions`.
pub const POSITIONS_SCOPE: &str = "the members' net positions, at the onshore rate of the host's books";
