//! Amendments of the group definition (`cashpool amend FILE --effective DATE`).
//!
//! An amendment is a TOML fragment in the schema of the group definition
//! (docs/AMENDMENTS.md). [`amend`] merges it into the definition in force and
//! validates the result exactly as `init` validates a definition, so a rule
//! that could not be defined at `init` cannot be amended in either.
//!
//! The merge, table by table:
//!
//! - `[group]` and `[pool]`: each key given replaces the one in force (nested
//!   tables such as `[pool.eligibility]` key by key). `group.id`,
//!   `group.base_currency`, `pool.id`, `pool.host` and `pool.quota_model`
//!   cannot change (a new host is a new pool);
//!   `[[pool.limits]]` and `[[macro_prudential]]` are changed with
//!   `cashpool limits set`, which journals its own dated rows.
//! - `[[entity]]`, by `id`: a new id joins the group (a whole entity); a known
//!   id changes the keys given (its `withholding` and `facilitation_quota`
//!   rows merged by `effective`); `leave = true` (and nothing else) takes it
//!   out of the group. `residence` cannot change.
//! - `[[account]]`, by `id`: a new id opens an account (a whole account);
//!   `close = true` (and nothing else) closes one. The terms of an open
//!   account do not change: close it and open another.
//! - `[[sweep]]`, by `account` and `currency`: a known rule is replaced as a
//!   whole, a new one added; `remove = true` removes one.
//! - `[[interest]]`, by `currency` (and `entity` and `effective` where the
//!   rule gives them): the same.
//! - `[[risk_factors]]`, by `effective`: a row of a known date replaces it,
//!   a new one is added.
//!
//! The core does no IO: the caller reads the file.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use toml::{Table, Value};

use crate::config::{
    line_of, parse_group_config, path_of_line, ConfigError, ConfigErrors, Entity, GroupConfig, InterestRule,
    SweepDirection, SweepMethod, SweepRule,
};
use crate::model::AccountSpec;

/// A journaled amendment (entry kind 9, `amendment`): the whole definition
/// in force from `effective`, as [`amend`] validated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amendment {
    /// The first value date the definition governs.
    pub effective: NaiveDate,
    /// The definition in force from then.
    pub config: Arc<GroupConfig>,
}

/// A validated amendment: the definition it leads to and what it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amended {
    /// The whole definition in force from the amendment's effective date.
    pub config: GroupConfig,
    /// Accounts the amendment opens, in the new definition's order.
    pub opened: Vec<String>,
    /// Accounts it closes.
    pub closed: Vec<String>,
    /// Entities that join the group.
    pub joined: Vec<String>,
    /// Entities that leave it.
    pub left: Vec<String>,
}

/// The arrays of tables an amendment merges element by element, and the keys
/// that name an element.
const KEYED: [(&str, &[&str]); 4] = [
    ("entity", &["id"]),
    ("account", &["id"]),
    ("sweep", &["account", "currency"]),
    ("interest", &["currency", "entity", "effective"]),
];

/// Merges the fragment `text` into `current` and validates the result.
///
/// Errors name the fragment's key path and line where the problem is in the
/// fragment; a problem the merge leaves in the rest of the definition (a
/// sweep rule on an account the fragment closes) names the amended
/// definition's key path, marked as such.
pub fn amend(current: &GroupConfig, text: &str) -> Result<Amended, ConfigErrors> {
    let fragment: Table = text.parse().map_err(|err: toml::de::Error| {
        let line = err.span().map(|span| line_of(text, span.start));
        let path = line.map(|line| path_of_line(text, line)).unwrap_or_default();
        ConfigErrors(vec![ConfigError { path, line, message: err.message().to_string() }])
    })?;
    let mut merge = Merge {
        text,
        errors: Vec::new(),
        origin: BTreeMap::new(),
        opened: Vec::new(),
        closed: Vec::new(),
        joined: Vec::new(),
        left: Vec::new(),
    };
    let mut table = to_toml(current);
    merge.fragment(&mut table, &fragment);
    if !merge.errors.is_empty() {
        return Err(ConfigErrors(merge.errors));
    }
    let merged = toml::to_string(&table).map_err(|err| {
        ConfigErrors(vec![ConfigError {
            path: String::new(),
            line: None,
            message: format!("the amended definition cannot be written as TOML: {err}"),
        }])
    })?;
    let config = match parse_group_config(&merged) {
        Ok(config) => config,
        Err(errors) => return Err(ConfigErrors(errors.0.into_iter().map(|error| merge.located(error)).collect())),
    };
    if config == *current {
        return Err(ConfigErrors(vec![ConfigError {
            path: String::new(),
            line: None,
            message: "the amendment changes nothing in the definition in force".into(),
        }]));
    }
    let mut opened = merge.opened;
    opened.retain(|id| config.account(id).is_some());
    Ok(Amended { config, opened, closed: merge.closed, joined: merge.joined, left: merge.left })
}

struct Merge<'t> {
    text: &'t str,
    errors: Vec<ConfigError>,
    /// (array, index in the amended definition) → index in the fragment.
    origin: BTreeMap<(&'static str, usize), usize>,
    /// Accounts opened and closed, entities joined and left, by the fragment.
    opened: Vec<String>,
    closed: Vec<String>,
    joined: Vec<String>,
    left: Vec<String>,
}

impl Merge<'_> {
    /// An error at a key path of the fragment, with its line.
    fn error(&mut self, path: String, message: impl Into<String>) {
        let line = line_of_path(self.text, &path);
        self.errors.push(ConfigError { path, line, message: message.into() });
    }

    fn fragment(&mut self, table: &mut Table, fragment: &Table) {
        for (key, value) in fragment {
            match key.as_str() {
                "group" => self.fixed_table(table, key, value, &["id", "base_currency"]),
                "pool" => self.fixed_table(table, key, value, &["id", "host", "quota_model", "limits"]),
                "risk_factors" => merge_rows(table, key, value),
                "macro_prudential" => self.error(
                    key.clone(),
                    "the macro-prudential history is changed with `cashpool limits set --effective DATE --macro-prudential P`, not by an amendment",
                ),
                name => match KEYED.iter().find(|(array, _)| *array == name) {
                    Some((array, keys)) => self.keyed(table, array, keys, value),
                    None => self.error(
                        key.clone(),
                        format!(
                            "unknown table `{key}`; an amendment holds group, pool, entity, account, sweep, interest or risk_factors"
                        ),
                    ),
                },
            }
        }
    }

    /// `[group]` or `[pool]`: keys replace keys, tables merge, `fixed` keys may not change.
    fn fixed_table(&mut self, table: &mut Table, name: &str, value: &Value, fixed: &[&str]) {
        let Some(given) = value.as_table() else {
            self.error(name.to_string(), format!("`{name}` is a table ([{name}])"));
            return;
        };
        let Some(Value::Table(current)) = table.get_mut(name) else {
            self.error(name.to_string(), format!("the definition in force has no [{name}]"));
            return;
        };
        for (key, value) in given {
            let path = format!("{name}.{key}");
            if fixed.contains(&key.as_str()) && current.get(key) != Some(value) {
                let how = if key == "limits" {
                    "the pool's limits are changed with `cashpool limits set --effective DATE …`, not by an amendment"
                        .to_string()
                } else {
                    format!("{path} cannot change after init (it is {})", current.get(key).map_or("unset".into(), show))
                };
                self.error(path, how);
                continue;
            }
            merge_value(current, key, value);
        }
    }

    /// An array of tables merged element by element, by `keys`.
    fn keyed(&mut self, table: &mut Table, array: &'static str, keys: &[&str], value: &Value) {
        let Some(given) = value.as_array() else {
            self.error(array.to_string(), format!("`{array}` is an array of tables ([[{array}]])"));
            return;
        };
        let mut elements: Vec<Value> = match table.remove(array) {
            Some(Value::Array(elements)) => elements,
            _ => Vec::new(),
        };
        let mut from_fragment: Vec<Option<usize>> = vec![None; elements.len()];
        for (idx, element) in given.iter().enumerate() {
            let path = format!("{array}[{idx}]");
            let Some(element) = element.as_table() else {
                self.error(path, "expected a table");
                continue;
            };
            let Some(key) = self.key_of(&path, keys, element) else { continue };
            let at = elements
                .iter()
                .position(|existing| existing.as_table().is_some_and(|existing| key_values(keys, existing) == key));
            let flag = match array {
                "entity" => "leave",
                "account" => "close",
                _ => "remove",
            };
            let flagged = match element.get(flag) {
                None => false,
                Some(Value::Boolean(true)) => true,
                Some(_) => {
                    self.error(format!("{path}.{flag}"), format!("`{flag}` is `true` or left out"));
                    continue;
                }
            };
            let named = key.iter().flatten().cloned().collect::<Vec<_>>().join(" ");
            if flagged {
                let extra: Vec<&String> =
                    element.keys().filter(|k| *k != flag && !keys.contains(&k.as_str())).collect();
                if let Some(extra) = extra.first() {
                    self.error(
                        format!("{path}.{extra}"),
                        format!("a table with `{flag} = true` names its {} and nothing else", keys.join(" and ")),
                    );
                    continue;
                }
                let Some(at) = at else {
                    self.error(path, format!("no {array} {named} is in force to {flag}"));
                    continue;
                };
                elements.remove(at);
                from_fragment.remove(at);
                match array {
                    "entity" => self.left.push(named),
                    "account" => self.closed.push(named),
                    _ => {}
                }
                continue;
            }
            match (array, at) {
                ("entity", Some(at)) => {
                    let Some(Value::Table(existing)) = elements.get_mut(at) else { continue };
                    if let Some(residence) = element.get("residence") {
                        if existing.get("residence") != Some(residence) {
                            self.error(
                                format!("{path}.residence"),
                                "an entity's residence cannot change; a member that moves is a new entity (leave = true, then a new id)",
                            );
                            continue;
                        }
                    }
                    for (key, value) in element {
                        match key.as_str() {
                            "withholding" | "facilitation_quota" => merge_rows(existing, key, value),
                            _ => merge_value(existing, key, value),
                        }
                    }
                    from_fragment[at] = Some(idx);
                }
                ("account", Some(at)) => {
                    let same = elements[at].as_table() == Some(element);
                    if !same {
                        self.error(
                            path,
                            format!("account {named} is open; its terms do not change: close it (close = true) and open a new account"),
                        );
                    }
                }
                (_, Some(at)) => {
                    elements[at] = Value::Table(element.clone());
                    from_fragment[at] = Some(idx);
                }
                (_, None) => {
                    match array {
                        "entity" => self.joined.push(named),
                        "account" => self.opened.push(named),
                        _ => {}
                    }
                    elements.push(Value::Table(element.clone()));
                    from_fragment.push(Some(idx));
                }
            }
        }
        for (merged, fragment) in from_fragment.iter().enumerate() {
            if let Some(fragment) = fragment {
                self.origin.insert((array, merged), *fragment);
            }
        }
        table.insert(array.to_string(), Value::Array(elements));
    }

    /// The values of an element's naming keys; the first (`id`, `account`…) is required.
    fn key_of(&mut self, path: &str, keys: &[&str], element: &Table) -> Option<Vec<Option<String>>> {
        let values = key_values(keys, element);
        if values.first().is_none_or(Option::is_none) {
            self.error(
                format!("{path}.{}", keys[0]),
                format!("an amendment names each element by its {} (a string)", keys.join(" and ")),
            );
            return None;
        }
        Some(values)
    }

    /// A problem the validation of the amended definition found, located in
    /// the fragment where the element came from it.
    fn located(&self, error: ConfigError) -> ConfigError {
        let (head, rest) = match error.path.find(['.', '[']) {
            Some(at) => error.path.split_at(at),
            None => (error.path.as_str(), ""),
        };
        if let Some((array, _)) = KEYED.iter().find(|(array, _)| *array == head) {
            let index = rest
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .and_then(|(n, tail)| n.parse::<usize>().ok().map(|n| (n, tail)));
            if let Some((merged, tail)) = index {
                if let Some(fragment) = self.origin.get(&(*array, merged)) {
                    let path = format!("{array}[{fragment}]{tail}");
                    let line = line_of_path(self.text, &path);
                    return ConfigError { path, line, message: error.message };
                }
            }
        } else if matches!(head, "group" | "pool") {
            if let Some(line) = line_of_path(self.text, &error.path) {
                return ConfigError { path: error.path, line: Some(line), message: error.message };
            }
        }
        ConfigError {
            path: error.path,
            line: None,
            message: format!("{} (in the definition as amended, not in the fragment)", error.message),
        }
    }
}

/// Each naming key's string value (or `None`).
fn key_values(keys: &[&str], element: &Table) -> Vec<Option<String>> {
    keys.iter().map(|key| element.get(*key).and_then(Value::as_str).map(str::to_string)).collect()
}

/// Sets `key` to `value`, merging tables key by key.
fn merge_value(table: &mut Table, key: &str, value: &Value) {
    match (table.get_mut(key), value) {
        (Some(Value::Table(existing)), Value::Table(given)) => {
            for (k, v) in given {
                merge_value(existing, k, v);
            }
        }
        _ => {
            table.insert(key.to_string(), value.clone());
        }
    }
}

/// Dated rows merged by `effective`: a row of a known date replaces it, others are added; sorted by date.
fn merge_rows(table: &mut Table, key: &str, value: &Value) {
    let Value::Array(given) = value else {
        table.insert(key.to_string(), value.clone());
        return;
    };
    let mut rows = match table.remove(key) {
        Some(Value::Array(rows)) => rows,
        _ => Vec::new(),
    };
    for row in given {
        let effective = row.get("effective");
        match rows.iter().position(|existing| effective.is_some() && existing.get("effective") == effective) {
            Some(at) => rows[at] = row.clone(),
            None => rows.push(row.clone()),
        }
    }
    rows.sort_by(|a, b| {
        let date = |row: &Value| row.get("effective").map(ToString::to_string).unwrap_or_default();
        date(a).cmp(&date(b))
    });
    table.insert(key.to_string(), Value::Array(rows));
}

fn show(value: &Value) -> String {
    match value {
        Value::String(text) => format!("{text:?}"),
        other => other.to_string(),
    }
}

/// The first line of `text` whose key path is `path` or lies under it
/// (`entity[0]` finds the line of `entity[0].id`).
fn line_of_path(text: &str, path: &str) -> Option<usize> {
    let n_lines = text.lines().count();
    let under = format!("{path}.");
    (1..=n_lines)
        .map(|line| (line, path_of_line(text, line)))
        .find(|(_, at)| at == path || at.starts_with(&under))
        .map(|(line, _)| line)
}

/// What changed from one definition to the next, for people: accounts
/// opened and closed, entities that joined and left, and the key paths of
/// everything else that changed (`pool.eligibility.members_min`,
/// `entity LGT-SZ net_assets`, `sweep SZ-OPS CNY`), in schema order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub opened: Vec<String>,
    pub closed: Vec<String>,
    pub joined: Vec<String>,
    pub left: Vec<String>,
    pub changed: Vec<String>,
}

/// The [`Changes`] from `before` to `after`.
pub fn changes(before: &GroupConfig, after: &GroupConfig) -> Changes {
    let (old, new) = (to_toml(before), to_toml(after));
    let mut changes = Changes::default();
    for section in ["group", "pool"] {
        let (Some(Value::Table(a)), Some(Value::Table(b))) = (old.get(section), new.get(section)) else { continue };
        diff_tables(section, a, b, &mut changes.changed);
    }
    if !old.get("risk_factors").zip(new.get("risk_factors")).is_some_and(|(a, b)| equivalent(a, b)) {
        changes.changed.push("risk_factors".into());
    }
    for (array, keys) in KEYED {
        let list = |file: &Table| -> Vec<(Vec<Option<String>>, Table)> {
            match file.get(array) {
                Some(Value::Array(elements)) => {
                    elements.iter().filter_map(Value::as_table).map(|t| (key_values(keys, t), t.clone())).collect()
                }
                _ => Vec::new(),
            }
        };
        let (a, b) = (list(&old), list(&new));
        let name = |key: &[Option<String>]| key.iter().flatten().cloned().collect::<Vec<_>>().join(" ");
        for (key, table) in &b {
            match a.iter().find(|(k, _)| k == key) {
                None => match array {
                    "entity" => changes.joined.push(name(key)),
                    "account" => changes.opened.push(name(key)),
                    _ => changes.changed.push(format!("{array} {} added", name(key))),
                },
                Some((_, before)) if !equivalent_tables(before, table) => {
                    diff_tables(&format!("{array} {}", name(key)), before, table, &mut changes.changed);
                }
                Some(_) => {}
            }
        }
        for (key, _) in a.iter().filter(|(k, _)| !b.iter().any(|(other, _)| other == k)) {
            match array {
                "entity" => changes.left.push(name(key)),
                "account" => changes.closed.push(name(key)),
                _ => changes.changed.push(format!("{array} {} removed", name(key))),
            }
        }
    }
    changes
}

/// Whether two values say the same: decimal strings by value (a record
/// read back from the journal may write `50000000` for `50000000.00`).
fn equivalent(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            x == y
                || matches!((x.parse::<rust_decimal::Decimal>(), y.parse::<rust_decimal::Decimal>()), (Ok(p), Ok(q)) if p == q)
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equivalent(p, q)),
        (Value::Table(x), Value::Table(y)) => equivalent_tables(x, y),
        _ => a == b,
    }
}

fn equivalent_tables(a: &Table, b: &Table) -> bool {
    a.len() == b.len() && a.iter().all(|(key, value)| b.get(key).is_some_and(|other| equivalent(value, other)))
}

/// The keys of `b` that differ from `a`'s (or are new or gone), under `prefix`.
fn diff_tables(prefix: &str, a: &Table, b: &Table, out: &mut Vec<String>) {
    let sep = if prefix.contains(' ') { " " } else { "." };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        match (a.get(key), b.get(key)) {
            (Some(Value::Table(x)), Some(Value::Table(y))) => diff_tables(&format!("{prefix}{sep}{key}"), x, y, out),
            (Some(x), Some(y)) if equivalent(x, y) => {}
            (None, None) => {}
            _ => out.push(format!("{prefix}{sep}{key}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The definition as TOML
// ---------------------------------------------------------------------------------------------

/// The definition written in its TOML schema: [`parse_group_config`] reads
/// it back to the same definition (every default written out).
pub fn to_toml(config: &GroupConfig) -> Table {
    let mut file = Table::new();
    let mut group = Table::new();
    group.insert("id".into(), string(&config.group.id));
    group.insert("name".into(), string(&config.group.name));
    group.insert("base_currency".into(), string(config.group.base_currency.code()));
    file.insert("group".into(), Value::Table(group));

    let pool = &config.pool;
    let mut table = Table::new();
    table.insert("id".into(), string(&pool.id));
    table.insert("host".into(), string(&pool.host));
    table.insert("domestic_master".into(), string(&pool.domestic_master));
    table.insert("international_master".into(), string(&pool.international_master));
    table.insert("netting_currency".into(), string(pool.netting_currency.code()));
    table.insert("second_line_between_entities".into(), string(pool.second_line_between_entities.as_str()));
    table.insert("quota_model".into(), string(pool.quota_model.as_str()));
    if pool.calendars.value_dates != crate::config::ValueDateRule::default() {
        table.insert("non_business_value_dates".into(), string(pool.calendars.value_dates.as_str()));
    }
    if !pool.calendars.currencies.is_empty() {
        let calendars = pool.calendars.currencies.iter().map(|(currency, ids)| {
            (currency.code().to_string(), Value::Array(ids.iter().map(|id| string(id)).collect()))
        });
        table.insert("calendars".into(), Value::Table(calendars.collect()));
    }
    let limits = pool
        .limits
        .iter()
        .map(|row| {
            tab([
                ("effective", string(&row.effective.to_string())),
                ("owners_equity", string(&row.owners_equity.to_string())),
                ("inflow_leverage", string(&row.inflow_leverage.to_string())),
                ("inflow_parameter", string(&row.inflow_parameter.to_string())),
                ("outflow_coefficient", string(&row.outflow_coefficient.to_string())),
            ])
        })
        .collect();
    table.insert("limits".into(), Value::Array(limits));
    let e = &pool.eligibility;
    table.insert(
        "eligibility".into(),
        tab([
            ("onshore_cross_border_min", string(&e.onshore_cross_border_min.to_string())),
            ("onshore_revenue_min", string(&e.onshore_revenue_min.to_string())),
            ("offshore_revenue_min", string(&e.offshore_revenue_min.to_string())),
            ("members_min", Value::Integer(i64::from(e.members_min))),
            ("violation_free_years", Value::Integer(i64::from(e.violation_free_years))),
        ]),
    );
    file.insert("pool".into(), Value::Table(table));

    file.insert("entity".into(), Value::Array(config.entities.iter().map(entity_toml).collect()));
    let accounts = config.accounts.iter().map(|account| {
        let mut value = account_toml(account);
        if let (Some(ids), Value::Table(table)) = (pool.calendars.accounts.get(&account.id), &mut value) {
            table.insert("calendars".into(), Value::Array(ids.iter().map(|id| string(id)).collect()));
        }
        value
    });
    file.insert("account".into(), Value::Array(accounts.collect()));
    file.insert("sweep".into(), Value::Array(config.sweeps.iter().map(sweep_toml).collect()));
    file.insert("interest".into(), Value::Array(config.interest.iter().map(interest_toml).collect()));
    let history = config
        .macro_prudential
        .iter()
        .map(|row| {
            tab([("effective", string(&row.effective.to_string())), ("parameter", string(&row.parameter.to_string()))])
        })
        .collect();
    file.insert("macro_prudential".into(), Value::Array(history));
    let factors = config
        .risk_factors
        .iter()
        .map(|row| {
            tab([
                ("effective", string(&row.effective.to_string())),
                ("short_term", string(&row.short_term.to_string())),
                ("long_term", string(&row.long_term.to_string())),
                ("category", string(&row.category.to_string())),
                ("fx", string(&row.fx.to_string())),
                ("leverage", string(&row.leverage.to_string())),
            ])
        })
        .collect();
    file.insert("risk_factors".into(), Value::Array(factors));
    file
}

fn string(text: &str) -> Value {
    Value::String(text.to_string())
}

fn tab<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Table(pairs.into_iter().map(|(key, value)| (key.to_string(), value)).collect())
}

fn entity_toml(entity: &Entity) -> Value {
    let mut table = Table::new();
    table.insert("id".into(), string(&entity.id));
    table.insert("name".into(), string(&entity.name));
    table.insert("residence".into(), string(entity.residence.as_str()));
    if let Some(net_assets) = entity.net_assets {
        table.insert("net_assets".into(), string(&net_assets.to_string()));
    }
    if let Some(rate) = entity.withholding_tax_rate {
        table.insert("withholding_tax_rate".into(), string(&rate.to_string()));
    }
    if !entity.withholding.is_empty() {
        let rows = entity
            .withholding
            .iter()
            .map(|row| {
                let mut t = Table::new();
                t.insert("effective".into(), string(&row.effective.to_string()));
                let rates = [
                    ("income_tax_rate", row.income_tax_rate),
                    ("vat_rate", row.vat_rate),
                    ("urban_maintenance_rate", row.urban_maintenance_rate),
                    ("education_surcharge_rate", row.education_surcharge_rate),
                    ("local_education_surcharge_rate", row.local_education_surcharge_rate),
                ];
                for (key, rate) in rates {
                    if let Some(rate) = rate {
                        t.insert(key.into(), string(&rate.to_string()));
                    }
                }
                Value::Table(t)
            })
            .collect();
        table.insert("withholding".into(), Value::Array(rows));
    }
    if !entity.facilitation_quota.is_empty() {
        let rows = entity
            .facilitation_quota
            .iter()
            .map(|row| {
                tab([
                    ("effective", string(&row.effective.to_string())),
                    ("usd_amount", string(&row.usd_amount.to_string())),
                ])
            })
            .collect();
        table.insert("facilitation_quota".into(), Value::Array(rows));
    }
    Value::Table(table)
}

fn account_toml(account: &AccountSpec) -> Value {
    let mut table = Table::new();
    table.insert("id".into(), string(&account.id));
    table.insert("entity".into(), string(&account.entity));
    table.insert("kind".into(), string(account.kind.as_str()));
    if let Some(zone) = account.zone {
        table.insert("zone".into(), string(zone.as_str()));
    }
    if let Some(bic) = &account.bank_bic {
        table.insert("bank_bic".into(), string(bic));
    }
    if let Some(bank_id) = &account.bank_id {
        table.insert("bank_id".into(), string(bank_id));
    }
    table.insert("currencies".into(), Value::Array(account.currencies.iter().map(|c| string(c.code())).collect()));
    if !account.overdrafts.is_empty() {
        let overdraft = account
            .overdrafts
            .iter()
            .map(|(currency, limit)| (currency.code().to_string(), string(&limit.to_string())));
        table.insert("overdraft".into(), Value::Table(overdraft.collect()));
    }
    Value::Table(table)
}

fn sweep_toml(rule: &SweepRule) -> Value {
    let mut table = Table::new();
    table.insert("account".into(), string(&rule.account));
    table.insert("currency".into(), string(rule.currency.code()));
    table.insert("into".into(), string(&rule.into));
    table.insert("method".into(), string(rule.method.name()));
    match &rule.method {
        SweepMethod::Zero => {}
        SweepMethod::Target { target } => {
            table.insert("target".into(), string(&target.to_string()));
        }
        SweepMethod::Threshold { threshold } => {
            table.insert("threshold".into(), string(&threshold.to_string()));
        }
        SweepMethod::Range { min, max } => {
            table.insert("min".into(), string(&min.to_string()));
            table.insert("max".into(), string(&max.to_string()));
        }
    }
    let direction = match rule.direction {
        SweepDirection::Up => "up",
        SweepDirection::Down => "down",
        SweepDirection::Both => "both",
    };
    table.insert("direction".into(), string(direction));
    table.insert("priority".into(), Value::Integer(i64::from(rule.priority)));
    let amounts =
        [("min_transfer", rule.min_transfer), ("max_transfer", rule.max_transfer), ("rounding", rule.rounding)];
    for (key, amount) in amounts {
        if let Some(amount) = amount {
            table.insert(key.into(), string(&amount.to_string()));
        }
    }
    table.insert("partial_allowed".into(), Value::Boolean(rule.partial_allowed));
    if rule.roll != crate::config::Roll::default() {
        // Written only when not the default: `roll` on a rule no calendar governs is an error.
        table.insert("roll".into(), string(rule.roll.as_str()));
    }
    Value::Table(table)
}

fn interest_toml(rule: &InterestRule) -> Value {
    let mut table = Table::new();
    table.insert("currency".into(), string(rule.currency.code()));
    if let Some(entity) = &rule.entity {
        table.insert("entity".into(), string(entity));
    }
    if let Some(effective) = rule.effective {
        table.insert("effective".into(), string(&effective.to_string()));
    }
    table.insert("day_count".into(), string(rule.day_count.as_str()));
    // A benchmark row's rates are its margins over the fixing.
    let (credit, debit) =
        if rule.benchmark.is_some() { ("credit_margin", "debit_margin") } else { ("credit_rate", "debit_rate") };
    table.insert(credit.into(), string(&rule.credit_rate.to_string()));
    table.insert(debit.into(), string(&rule.debit_rate.to_string()));
    if let Some(terms) = &rule.benchmark {
        table.insert("benchmark".into(), string(&terms.series));
        let bounds = [
            ("benchmark_floor", terms.benchmark_floor),
            ("credit_floor", terms.credit_floor),
            ("debit_floor", terms.debit_floor),
            ("credit_cap", terms.credit_cap),
            ("debit_cap", terms.debit_cap),
        ];
        for (key, bound) in bounds {
            if let Some(bound) = bound {
                table.insert(key.into(), string(&bound.to_string()));
            }
        }
        table.insert("lookback_days".into(), Value::Integer(i64::from(terms.lookback_days)));
        table.insert("stale_after_days".into(), Value::Integer(i64::from(terms.stale_after_days)));
    }
    if !rule.tiers.is_empty() {
        let tiers = rule
            .tiers
            .iter()
            .map(|tier| {
                tab([
                    ("from", string(&tier.from.to_string())),
                    (credit, string(&tier.credit_rate.to_string())),
                    (debit, string(&tier.debit_rate.to_string())),
                ])
            })
            .collect();
        table.insert("tiers".into(), Value::Array(tiers));
    }
    Value::Table(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../examples/lingang-group.toml");

    #[test]
    fn the_definition_written_as_toml_reads_back_the_same() {
        let config = parse_group_config(EXAMPLE).expect("the example is valid");
        let text = toml::to_string(&to_toml(&config)).expect("a table is TOML");
        assert_eq!(parse_group_config(&text).expect("what was written reads back"), config);
    }
}
