//! The group definition parser: the shipped example parses to the expected
//! values, and each kind of mistake is reported at its key path.

use cashpool_ledger::config::{
    parse_group_config, ConfigError, DayCount, EligibilityThresholds, GroupConfig, ParameterRow, Residence,
    SweepDirection, SweepMethod,
};
use cashpool_ledger::model::{AccountKind, Zone};
use cashpool_ledger::money::Currency;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// The example group shipped with the project.
const EXAMPLE: &str = include_str!("../../../examples/lingang-group.toml");
/// A small valid group exercising the optional features.
const MINIMAL: &str = include_str!("fixtures/config/minimal.toml");

fn ccy(code: &str) -> Currency {
    Currency::from_code(code).expect("known currency")
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("valid date")
}

/// The decimal's exact text (scale included): `"5000000.00"`.
fn s(value: Decimal) -> String {
    value.to_string()
}

fn parse_ok(text: &str) -> GroupConfig {
    match parse_group_config(text) {
        Ok(config) => config,
        Err(errors) => panic!("expected a valid group definition, got:\n{errors}"),
    }
}

/// `base` with `from` (which must occur exactly once) replaced by `to`.
fn edit(base: &str, from: &str, to: &str) -> String {
    assert_eq!(base.matches(from).count(), 1, "mutation anchor {from:?} must occur exactly once");
    base.replacen(from, to, 1)
}

/// The example with one replacement.
fn ex(from: &str, to: &str) -> String {
    edit(EXAMPLE, from, to)
}

/// The example with `[[macro_prudential]]` rows `(effective, parameter as TOML)` appended.
fn mp(rows: &[(&str, &str)]) -> String {
    let mut text = EXAMPLE.to_string();
    for (effective, parameter) in rows {
        text.push_str(&format!("\n[[macro_prudential]]\neffective = \"{effective}\"\nparameter = {parameter}\n"));
    }
    text
}

/// The example with one more `[[interest]]` row (ACT/360, `keys` besides), `interest[6]`.
fn int(keys: &str) -> String {
    format!("{EXAMPLE}\n[[interest]]\nday_count = \"ACT/360\"\n{keys}\n")
}

/// The example with a `[pool.eligibility]` table of `keys` appended.
fn elig(keys: &str) -> String {
    format!("{EXAMPLE}\n[pool.eligibility]\n{keys}\n")
}

/// Parses `text`, expects failure, and returns the errors.
fn errors_of(text: &str) -> Vec<ConfigError> {
    match parse_group_config(text) {
        Ok(_) => panic!("expected errors, but the text parsed"),
        Err(errors) => {
            assert!(!errors.0.is_empty(), "ConfigErrors must never be empty");
            errors.0
        }
    }
}

/// Expects an error at exactly `path` whose message contains `message`, with a
/// line number, displayed as `path: message…` (or `line N: …` for syntax errors).
fn check(text: &str, path: &str, message: &str) -> Result<(), String> {
    let errors = match parse_group_config(text) {
        Ok(_) => return Err(format!("{path}: expected an error containing {message:?}, but the text parsed")),
        Err(errors) => errors.0,
    };
    let listed = || errors.iter().map(|e| format!("    {e}")).collect::<Vec<_>>().join("\n");
    let Some(error) = errors.iter().find(|e| e.path == path && e.message.contains(message)) else {
        return Err(format!("no error at {path:?} containing {message:?}; got:\n{}", listed()));
    };
    if error.line.is_none() {
        return Err(format!("error without a line: {error}"));
    }
    let shown = error.to_string();
    let prefix = if path.is_empty() { "line ".to_string() } else { format!("{path}: ") };
    if !shown.starts_with(&prefix) {
        return Err(format!("{shown:?} does not start with {prefix:?}"));
    }
    Ok(())
}

/// Runs every case and reports all the failing ones at once.
fn run_cases(cases: &[(String, &str, &str)]) {
    let failures: Vec<String> =
        cases.iter().filter_map(|(text, path, message)| check(text, path, message).err()).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// (a) the shipped example
// ---------------------------------------------------------------------------------------------

#[test]
fn shipped_example_parses() {
    let config = parse_ok(EXAMPLE);

    assert_eq!(config.group.id, "LGT");
    assert_eq!(config.group.base_currency, ccy("CNY"));
    assert_eq!(config.pool.host, "LGT-SH");
    assert_eq!(config.pool.domestic_master, "SH-DMA");
    assert_eq!(config.pool.international_master, "SH-IMA");
    assert_eq!(config.pool.netting_currency, ccy("USD"));

    // Pool limits: two dated rows, equity at CNY minor units, parameters normalized.
    let limits = &config.pool.limits;
    assert_eq!(limits.len(), 2);
    assert_eq!(limits[0].effective, date("2023-07-20"));
    assert_eq!(limits[1].effective, date("2025-01-13"));
    assert_eq!(s(limits[0].owners_equity), "50000000.00");
    assert_eq!(s(limits[0].inflow_parameter), "1.5");
    assert_eq!(s(limits[1].inflow_parameter), "1.75");
    assert_eq!(s(limits[1].inflow_leverage), "2");
    assert_eq!(s(limits[1].outflow_coefficient), "0.8");
    assert_eq!(config.pool.limits_at(date("2024-12-31")).map(|r| s(r.inflow_parameter)), Some("1.5".into()));
    assert_eq!(config.pool.limits_at(date("2025-01-13")).map(|r| s(r.inflow_parameter)), Some("1.75".into()));
    assert!(config.pool.limits_at(date("2023-07-19")).is_none());

    // Entities.
    assert_eq!(config.entities.len(), 7);
    let ftz = config.entity("LGT-FTZ").expect("LGT-FTZ");
    assert_eq!(ftz.residence, Residence::Onshore);
    assert_eq!(ftz.net_assets.map(s), Some("8000000.00".into()));
    assert_eq!(ftz.facilitation_quota.len(), 2);
    assert_eq!(s(ftz.facilitation_quota[1].usd_amount), "10000000.00");
    assert_eq!(ftz.facilitation_quota_at(date("2022-04-30")).map(|q| s(q.usd_amount)), Some("5000000.00".into()));
    let hk = config.entity("LGT-HK").expect("LGT-HK");
    assert_eq!(hk.residence, Residence::Offshore);
    assert_eq!(hk.net_assets, None);
    // Withholding (DOMAIN §5): the treaty rates as [[entity.withholding]] rows; the older key is not used.
    assert_eq!(hk.withholding_tax_rate, None);
    assert_eq!(hk.withholding.len(), 1);
    assert_eq!(hk.withholding[0].effective, date("2008-01-01"));
    assert_eq!(hk.withholding[0].income_tax_rate.map(s), Some("0.07".into()));
    assert_eq!(hk.withholding[0].vat_rate, None, "left to the national rules");
    // China-Singapore: 7 % only for banks and financial institutions; LGT-SG is neither.
    for (id, income_tax) in [("LGT-HK", "0.07"), ("LGT-SG", "0.1"), ("LGT-DE", "0.1"), ("LGT-JP", "0.1")] {
        let entity = config.entity(id).expect(id);
        let rates = entity.withholding_at(date("2026-11-30")).expect("offshore");
        assert_eq!(
            (s(rates.income_tax.normalize()), s(rates.vat.normalize()), rates.urban_maintenance.is_zero()),
            (income_tax.to_string(), "0.06".to_string(), true),
            "{id}: income tax, VAT 6 %, no surcharges since 2021-09-01"
        );
    }
    assert_eq!(config.entity("LGT-SH").and_then(|e| e.withholding_at(date("2026-11-30"))), None, "onshore");

    // Accounts, in file order.
    let ids: Vec<&str> = config.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "SH-DMA",
            "SH-IMA",
            "SZ-OPS",
            "FTZ-FTE",
            "FTZ-OPS",
            "HK-OPS",
            "SG-OPS",
            "DE-OPS",
            "JP-OPS",
            "EXT-ONSHORE",
            "EXT-OFFSHORE"
        ]
    );
    assert!(config.accounts.iter().all(|a| a.zone.is_some()));
    let sz = config.account("SZ-OPS").expect("SZ-OPS");
    assert_eq!(sz.overdrafts.len(), 1);
    assert_eq!(sz.overdrafts[0].0, ccy("CNY"));
    assert_eq!(s(sz.overdrafts[0].1), "5000000.00");
    assert_eq!(sz.overdraft(ccy("CNY")).map(s), Some("5000000.00".into()));
    let ima = config.account("SH-IMA").expect("SH-IMA");
    assert_eq!(ima.kind, AccountKind::InternationalMaster);
    assert_eq!(ima.zone, Some(Zone::Offshore));
    assert_eq!(ima.bank_id.as_deref(), Some("NRA31000088880002"));
    let codes: Vec<&str> = ima.currencies.iter().map(|c| c.code()).collect();
    assert_eq!(codes, ["CNY", "EUR", "HKD", "JPY", "SGD", "USD"], "currencies are sorted");
    let ext = config.account("EXT-OFFSHORE").expect("EXT-OFFSHORE");
    assert_eq!((ext.kind, ext.entity.as_str(), ext.bank_bic.as_deref()), (AccountKind::External, "EXTERNAL", None));
    assert_eq!(config.account("FTZ-FTE").map(|a| a.zone), Some(Some(Zone::Ft)));

    // Sweeps.
    assert_eq!(config.sweeps.len(), 8);
    assert_eq!(config.sweeps[0].method, SweepMethod::Zero);
    assert_eq!(config.sweeps[0].direction, SweepDirection::Both);
    let hk_usd = &config.sweeps[1];
    assert_eq!((hk_usd.account.as_str(), hk_usd.into.as_str(), hk_usd.currency), ("HK-OPS", "SH-IMA", ccy("USD")));
    assert_eq!(hk_usd.min_transfer.map(s), Some("10000.00".into()));
    assert_eq!(hk_usd.max_transfer, None);
    assert!(!hk_usd.partial_allowed);
    assert_eq!(config.sweeps[2].direction, SweepDirection::Up);
    assert!(matches!(config.sweeps[3].method, SweepMethod::Threshold { threshold } if s(threshold) == "500000.00"));
    let jp = &config.sweeps[5];
    assert_eq!(jp.currency, ccy("JPY"));
    match jp.method {
        SweepMethod::Target { target } => assert_eq!(s(target), "50000000"),
        ref other => panic!("JP-OPS sweeps by target, got {other:?}"),
    }
    let header = &config.sweeps[7];
    assert_eq!(header.priority, 99);
    assert!(header.partial_allowed);
    match header.method {
        SweepMethod::Range { min, max } => assert_eq!((s(min), s(max)), ("2000000.00".into(), "6000000.00".into())),
        ref other => panic!("SH-IMA sweeps by range, got {other:?}"),
    }
    let priorities: Vec<u32> = config.sweeps.iter().map(|r| r.priority).collect();
    assert_eq!(priorities, [1, 2, 3, 4, 5, 6, 7, 99]);

    // Interest.
    assert_eq!(config.interest.len(), 6);
    let usd = config.interest_rule(ccy("USD")).expect("USD interest");
    assert_eq!(usd.day_count, DayCount::Act360);
    assert_eq!((s(usd.credit_rate), s(usd.debit_rate)), ("4".into(), "5".into()));
    assert!(usd.tiers.is_empty());
    let cny = config.interest_rule(ccy("CNY")).expect("CNY interest");
    assert_eq!((cny.day_count, s(cny.credit_rate), s(cny.debit_rate)), (DayCount::Act365F, "1.8".into(), "3.1".into()));
}

#[test]
fn minimal_fixture_parses_with_optional_features() {
    let config = parse_ok(MINIMAL);
    assert_eq!(config.group.name, "Mini Group 迷你集团");
    assert_eq!(config.pool.limits[0].effective, date("2025-01-13"), "a TOML local date is accepted");
    assert_eq!(s(config.pool.limits[0].owners_equity), "1000000.00");
    assert_eq!(s(config.pool.limits[0].inflow_leverage), "2");
    assert_eq!(s(config.pool.limits[0].inflow_parameter), "1.75");
    assert_eq!(config.entities[1].net_assets.map(s), Some("0.00".into()));
    assert_eq!(s(config.entities[1].facilitation_quota[0].usd_amount), "10000000.00");
    assert_eq!(config.entities[2].withholding_tax_rate.map(s), Some("0".into()));
    // The older key still loads, read as the income tax rate alone: VAT and the surcharges
    // follow the national rules (DOMAIN §5; docs/SWEEPS.md "Withholding").
    let rates = config.entities[2].withholding_at(date("2020-06-30")).expect("M-JP is offshore");
    assert_eq!(rates.income_tax, Decimal::ZERO);
    assert_eq!(
        [rates.vat, rates.urban_maintenance, rates.education_surcharge, rates.local_education_surcharge].map(s),
        ["0.06", "0.07", "0.03", "0.02"]
    );
    assert!(config.entities[2].withholding.is_empty());

    let ima = &config.accounts[1];
    let overdrafts: Vec<(&str, String)> = ima.overdrafts.iter().map(|(c, a)| (c.code(), s(*a))).collect();
    assert_eq!(overdrafts, [("JPY", "5000".to_string()), ("USD", "100.00".to_string())], "sorted, at minor units");
    assert_eq!(config.accounts[0].currencies, [ccy("CNY"), ccy("USD")]);
    assert_eq!(config.accounts[2].bank_bic.as_deref(), Some("MHCBJPJT"));

    let rule = &config.sweeps[0];
    assert_eq!(rule.method, SweepMethod::Range { min: Decimal::ZERO, max: Decimal::from(1_000_000) });
    assert_eq!(rule.direction, SweepDirection::Down);
    assert_eq!((rule.min_transfer, rule.max_transfer), (Some(Decimal::from(1000)), Some(Decimal::from(1000))));
    assert_eq!(rule.rounding.map(s), Some("100".into()));
    assert_eq!(rule.priority, 0);

    let jpy = &config.interest[0];
    assert_eq!(jpy.day_count, DayCount::ThirtyE360);
    assert_eq!((s(jpy.credit_rate), s(jpy.debit_rate)), ("0".into(), "100".into()));
    let tiers: Vec<(String, String, String)> =
        jpy.tiers.iter().map(|t| (s(t.from), s(t.credit_rate), s(t.debit_rate))).collect();
    assert_eq!(
        tiers,
        [("1000000".into(), "0.05".into(), "1.5".into()), ("5000000".into(), "0.1".into(), "1.25".into())]
    );
    assert_eq!(config.interest[1].day_count, DayCount::Thirty360);
    assert_eq!(s(config.interest[1].credit_rate), "4.125");
}

#[test]
fn optional_sections_default_and_parse() {
    // Without the sections: the published parameter history (DOMAIN §3; issue 15, defect 4: the
    // steps of 2020-03-12 and 2022-10-25 were missing, understating caps from 2022-10-25 to
    // 2023-07-19 by 20 %) and the regulation's thresholds.
    let config = parse_ok(EXAMPLE);
    let history: Vec<(NaiveDate, String)> =
        config.macro_prudential.iter().map(|r| (r.effective, s(r.parameter))).collect();
    assert_eq!(
        history,
        [
            (date("2017-01-11"), "1".to_string()),
            (date("2020-03-12"), "1.25".to_string()),
            (date("2021-01-07"), "1".to_string()),
            (date("2022-10-25"), "1.25".to_string()),
            (date("2023-07-20"), "1.5".to_string()),
            (date("2025-01-13"), "1.75".to_string())
        ]
    );
    assert_eq!(config.macro_prudential, ParameterRow::default_history());
    #[rustfmt::skip]
    let at: &[(&str, Option<&str>)] = &[
        ("2017-01-10", None),
        ("2017-01-11", Some("1")),
        ("2020-03-11", Some("1")),
        ("2020-03-12", Some("1.25")),
        ("2021-01-06", Some("1.25")),
        ("2021-01-07", Some("1")),
        ("2022-10-24", Some("1")),
        ("2022-10-25", Some("1.25")),
        ("2023-07-19", Some("1.25")),
        ("2023-07-20", Some("1.5")),
        ("2025-01-12", Some("1.5")),
        ("2025-01-13", Some("1.75")),
        ("2099-12-31", Some("1.75")),
    ];
    for (day, expected) in at {
        assert_eq!(config.macro_prudential_at(date(day)).map(|r| s(r.parameter)).as_deref(), *expected, "{day}");
    }
    let thresholds = &config.pool.eligibility;
    assert_eq!(*thresholds, EligibilityThresholds::default());
    assert_eq!(
        (s(thresholds.onshore_cross_border_min), s(thresholds.onshore_revenue_min), s(thresholds.offshore_revenue_min)),
        ("7000000000.00".into(), "10000000000.00".into(), "2000000000.00".into())
    );
    assert_eq!((thresholds.members_min, thresholds.violation_free_years), (3, 2));
    let jpy = EligibilityThresholds::default_in(ccy("JPY"));
    assert_eq!(s(jpy.onshore_revenue_min), "10000000000", "defaults at the base currency's minor units");

    // With the sections: rows as given (normalized, TOML dates accepted), unset thresholds default.
    let text = format!(
        "{EXAMPLE}\n[pool.eligibility]\nonshore_revenue_min = \"5000000000\"\nmembers_min = 5\nviolation_free_years = 0\n\
         \n[[macro_prudential]]\neffective = 2020-03-11\nparameter = \"1.50\"\n\
         \n[[macro_prudential]]\neffective = \"2025-01-13\"\nparameter = \"2\"\n"
    );
    let config = parse_ok(&text);
    let history: Vec<(NaiveDate, String)> =
        config.macro_prudential.iter().map(|r| (r.effective, s(r.parameter))).collect();
    assert_eq!(history, [(date("2020-03-11"), "1.5".to_string()), (date("2025-01-13"), "2".to_string())]);
    assert!(config.macro_prudential_at(date("2020-03-10")).is_none());
    assert_eq!(config.macro_prudential_at(date("2024-12-31")).map(|r| s(r.parameter)), Some("1.5".into()));
    let thresholds = &config.pool.eligibility;
    assert_eq!(s(thresholds.onshore_revenue_min), "5000000000.00");
    assert_eq!(s(thresholds.onshore_cross_border_min), "7000000000.00");
    assert_eq!((thresholds.members_min, thresholds.violation_free_years), (5, 0));
}

// ---------------------------------------------------------------------------------------------
// (b) one mistake at a time
// ---------------------------------------------------------------------------------------------

#[test]
fn structural_mistakes() {
    #[rustfmt::skip]
    let cases: &[(String, &str, &str)] = &[
        (format!("{EXAMPLE}\n[extras]\nfoo = 1\n"), "extras", "unknown key `extras`"),
        (ex("[group]\n", "[group]\ncolour = \"red\"\n"), "group.colour", "unknown key"),
        (ex("bank_id = \"31000088880001\"\n", "bank_id = \"31000088880001\"\ncolour = \"red\"\n"), "account[0].colour", "unknown key"),
        (ex("inflow_parameter = \"1.5\"\n", "inflow_parameter = \"1.5\"\ncap = \"1\"\n"), "pool.limits[0].cap", "unknown key"),
        (ex("usd_amount = \"5000000.00\"\n", "usd_amount = \"5000000.00\"\nrate = \"7\"\n"), "entity[2].facilitation_quota[0].rate", "unknown key"),
        (ex("income_tax_rate = \"0.07\"", "income_tax_rate = \"0.07\"\nvat = \"0.06\""), "entity[3].withholding[0].vat", "unknown key"),
        (ex("effective = \"2008-01-01\"\nincome_tax_rate = \"0.07\"", "income_tax_rate = \"0.07\""), "entity[3].withholding[0].effective", "required key `effective` is missing"),
        (ex("partial_allowed = true\npriority = 5\n", "partial_allowed = true\npriority = 5\nweight = 2\n"), "sweep[4].weight", "unknown key"),
        (ex("currency = \"JPY\"\nday_count", "currency = \"JPY\"\nbasis = 1\nday_count"), "interest[5].basis", "unknown key"),
        (ex("zone = \"ft\"\n", ""), "account[3].zone", "required key `zone` is missing"),
        (ex("base_currency = \"CNY\"", ""), "group.base_currency", "missing"),
        (ex("id = \"LGT-POOL\"", "id = 7"), "pool.id", "invalid type"),
        (ex("currencies = [\"EUR\"]", "currencies = \"EUR\""), "account[7].currencies", "invalid type"),
        (ex("partial_allowed = true\npriority = 5", "partial_allowed = \"yes\"\npriority = 5"), "sweep[4].partial_allowed", "invalid type"),
        // Syntax errors: the key path is read from the text around the line.
        (ex("name = \"Lingang Technology Group\"", "name = \"Lingang Technology Group"), "group.name", "string"),
        (ex("[[sweep]]\naccount = \"SZ-OPS\"", "[[sweep]\naccount = \"SZ-OPS\""), "", ""),
        (ex("id = \"LGT-SH\"\nname", "id = \"LGT-SH\"\nid = \"LGT-SH2\"\nname"), "entity[0].id", "duplicate key"),
        (ex("effective = \"2022-05-01\"\nusd_amount = \"10000000.00\"", "effective = \"2022-05-01\"\nusd_amount = \"10000000.00"),
            "entity[2].facilitation_quota[1].usd_amount", "string"),
        (ex("effective = \"2022-05-01\"\nusd_amount = \"10000000.00\"\n", "effective = \"2022-05-01\"\nusd_amount = \"10000000.00\"\n[[entity]]\nid = \"X\"\n[[entity.facilitation_quota]]\nusd_amount = 5 5\n"),
            "entity[3].facilitation_quota[0].usd_amount", ""),
        (format!("{EXAMPLE}\n[pool.eligibility]\nnote = \"\"\"\n[[sweep]]\n\"\"\"\nmembers_min = 3 3\n"), "pool.eligibility.members_min", ""),
        (format!("{EXAMPLE}\n[pool.eligibility]\nrevenue_min = \"1\"\n"), "pool.eligibility.revenue_min", "unknown key"),
        (format!("{EXAMPLE}\n[pool.eligibility]\nmembers_min = 3\nmembers_min = 4\n"), "pool.eligibility.members_min", "duplicate key"),
        (format!("{EXAMPLE}\n[[macro_prudential]]\neffective = \"2025-01-13\"\nparameter = \"1.75\"\nleverage = \"2\"\n"), "macro_prudential[0].leverage", "unknown key"),
        (format!("{EXAMPLE}\n[[macro_prudential]]\neffective = \"2025-01-13\"\n"), "macro_prudential[0].parameter", "required key `parameter` is missing"),
        (format!("macro_prudential = \"1.75\"\n{EXAMPLE}"), "macro_prudential", "invalid type"),
        (format!("{EXAMPLE}\n[pool.eligibility]\n[pool.eligibility.extra]\n"), "pool.eligibility.extra", "unknown key"),
    ];
    run_cases(cases);
}

#[test]
fn semantic_mistakes() {
    #[rustfmt::skip]
    let cases: &[(String, &str, &str)] = &[
        // ids
        (ex("id = \"LGT-POOL\"", "id = \"LGT POOL\""), "pool.id", "printable ASCII characters without spaces"),
        (ex("id = \"LGT\"", "id = \"\""), "group.id", "must not be empty"),
        (ex("id = \"LGT\"", &format!("id = \"{}\"", "G".repeat(65))), "group.id", "at most 64"),
        (ex("name = \"Lingang Technology Group\"", "name = \"  \""), "group.name", "must not be empty"),
        (ex("id = \"LGT-JP\"", "id = \"EXTERNAL\""), "entity[6].id", "reserved"),
        (ex("id = \"LGT-SG\"", "id = \"LGT-HK\""), "entity[4].id", "duplicate entity id"),
        (ex("id = \"SG-OPS\"", "id = \"HK-OPS\""), "account[6].id", "duplicate account id"),
        (ex("id = \"DE-OPS\"", "id = \"SYS-DE\""), "account[7].id", "reserved for the ledger's system accounts"),
        (ex("bank_id = \"SG0720123456\"", "bank_id = \"HK400123456001\""), "account[6].bank_id", "already used by account[5]"),
        (ex("bank_bic = \"DEUTDEFFXXX\"", "bank_bic = \"deutdeffxxx\""), "account[7].bank_bic", "not a BIC"),
        // group and pool
        (ex("base_currency = \"CNY\"", "base_currency = \"RMB\""), "group.base_currency", "unknown currency \"RMB\""),
        (ex("netting_currency = \"USD\"", "netting_currency = \"usd\""), "pool.netting_currency", "unknown currency"),
        (ex("host = \"LGT-SH\"", "host = \"LGT-HK\""), "pool.host", "must be an onshore entity"),
        (ex("host = \"LGT-SH\"", "host = \"LGT-XX\""), "pool.host", "unknown entity"),
        (ex("domestic_master = \"SH-DMA\"", "domestic_master = \"SH-IMA\""), "pool.domestic_master", "expected an account of kind \"domestic-master\""),
        (ex("international_master = \"SH-IMA\"", "international_master = \"HK-OPS\""), "pool.international_master", "not to the host"),
        (ex("international_master = \"SH-IMA\"", "international_master = \"SH-NOPE\""), "pool.international_master", "unknown account"),
        (ex("effective = \"2025-01-13\"", "effective = \"2025-13-01\""), "pool.limits[1].effective", "YYYY-MM-DD"),
        (ex("effective = \"2025-01-13\"", "effective = \"2025-1-13\""), "pool.limits[1].effective", "YYYY-MM-DD"),
        (ex("effective = \"2025-01-13\"", "effective = 2025-01-13T09:00:00"), "pool.limits[1].effective", "not a valid date"),
        (ex("effective = \"2025-01-13\"", "effective = \"2023-07-20\""), "pool.limits[1].effective", "must be after the previous row's 2023-07-20"),
        (ex("inflow_parameter = \"1.75\"", "inflow_parameter = 1.75"), "pool.limits[1].inflow_parameter", "quote it, write \"1.75\""),
        (ex("inflow_parameter = \"1.75\"", "inflow_parameter = \"0\""), "pool.limits[1].inflow_parameter", "greater than 0"),
        (ex("inflow_parameter = \"1.75\"", "inflow_parameter = \"1,75\""), "pool.limits[1].inflow_parameter", "decimal string"),
        (ex("inflow_leverage = \"2\"\ninflow_parameter = \"1.5\"", "inflow_leverage = 2\ninflow_parameter = \"1.5\""), "pool.limits[0].inflow_leverage", "quote it"),
        (ex("owners_equity = \"50000000.00\"\ninflow_leverage = \"2\"\ninflow_parameter = \"1.5\"", "owners_equity = \"0\"\ninflow_leverage = \"2\"\ninflow_parameter = \"1.5\""), "pool.limits[0].owners_equity", "greater than 0"),
        // entities
        (ex("residence = \"offshore\"\n[[entity.withholding]]\neffective = \"2008-01-01\"\nincome_tax_rate = \"0.07\"", "residence = \"abroad\"\n[[entity.withholding]]\neffective = \"2008-01-01\"\nincome_tax_rate = \"0.07\""), "entity[3].residence", "expected \"onshore\" or \"offshore\""),
        (ex("net_assets = \"8000000.00\"", "net_assets = \"-1.00\""), "entity[2].net_assets", "0 or more"),
        (ex("net_assets = \"8000000.00\"", "net_assets = 8000000.00"), "entity[2].net_assets", "floats are not exact money"),
        (ex("net_assets = \"8000000.00\"", "net_assets = \"8000000.005\""), "entity[2].net_assets", "more decimals than CNY allows"),
        (ex("income_tax_rate = \"0.07\"", "income_tax_rate = \"7\""), "entity[3].withholding[0].income_tax_rate", "fraction from 0 up to (not including) 1"),
        (ex("income_tax_rate = \"0.07\"", "withholding_tax_rate = \"7\""), "entity[3].withholding[0].withholding_tax_rate", "unknown key"),
        (ex("income_tax_rate = \"0.07\"", "income_tax_rate = 0.07"), "entity[3].withholding[0].income_tax_rate", "floats are not exact money"),
        (ex("income_tax_rate = \"0.07\"", "income_tax_rate = \"0.07\"\nvat_rate = \"1\""), "entity[3].withholding[0].vat_rate", "fraction from 0 up to (not including) 1"),
        (ex("income_tax_rate = \"0.07\"", "income_tax_rate = \"0.07\"\nurban_maintenance_rate = \"-0.07\""), "entity[3].withholding[0].urban_maintenance_rate", "out of range"),
        (ex("income_tax_rate = \"0.07\"", "income_tax_rate = \"0.07\"\neducation_surcharge_rate = \"3%\""), "entity[3].withholding[0].education_surcharge_rate", "decimal string"),
        (ex("income_tax_rate = \"0.07\"", "income_tax_rate = \"0.07\"\nlocal_education_surcharge_rate = \"0.2.\""), "entity[3].withholding[0].local_education_surcharge_rate", "decimal string"),
        (ex("income_tax_rate = \"0.07\"", "income_tax_rate = \"0.07\"\n[[entity.withholding]]\neffective = \"2007-12-31\"\nincome_tax_rate = \"0.05\""), "entity[3].withholding[1].effective", "must be after the previous row's 2008-01-01"),
        (ex("income_tax_rate = \"0.07\"", "income_tax_rate = \"0.07\"\n[[entity.withholding]]\neffective = \"2026-02-30\""), "entity[3].withholding[1].effective", "not a valid date"),
        (ex("residence = \"offshore\"\n[[entity.withholding]]\neffective = \"2008-01-01\"\nincome_tax_rate = \"0.07\"", "residence = \"offshore\"\nwithholding_tax_rate = \"0.07\"\n[[entity.withholding]]\neffective = \"2008-01-01\"\nincome_tax_rate = \"0.07\""), "entity[3].withholding_tax_rate", "not both"),
        (ex("net_assets = \"120000000.00\"\n", "net_assets = \"120000000.00\"\n[[entity.withholding]]\neffective = \"2008-01-01\"\n"), "entity[1].withholding", "onshore (resident) entity"),
        (ex("effective = \"2022-05-01\"", "effective = \"2020-04-03\""), "entity[2].facilitation_quota[1].effective", "increasing date order"),
        (ex("usd_amount = \"5000000.00\"", "usd_amount = \"0\""), "entity[2].facilitation_quota[0].usd_amount", "greater than 0"),
        (ex("residence = \"onshore\"\nnet_assets = \"8000000.00\"", "residence = \"offshore\"\nnet_assets = \"8000000.00\""), "entity[2].facilitation_quota", "offshore entity cannot have one"),
        // accounts
        (ex("id = \"SZ-OPS\"\nentity = \"LGT-SZ\"", "id = \"SZ-OPS\"\nentity = \"LGT-SUZHOU\""), "account[2].entity", "unknown entity \"LGT-SUZHOU\""),
        (ex("kind = \"fte\"", "kind = \"system\""), "account[3].kind", "reserved for the accounts the ledger creates"),
        (ex("kind = \"fte\"", "kind = \"ftx\""), "account[3].kind", "expected one of domestic-master"),
        (ex("zone = \"ft\"", "zone = \"onshore\""), "account[3].zone", "sits in zone \"ft\""),
        (ex("entity = \"EXTERNAL\"\nkind = \"external\"\nzone = \"onshore\"", "entity = \"EXTERNAL\"\nkind = \"settlement\"\nzone = \"onshore\""), "account[9].kind", "must have kind \"external\""),
        (ex("id = \"JP-OPS\"\nentity = \"LGT-JP\"\nkind = \"settlement\"", "id = \"JP-OPS\"\nentity = \"LGT-JP\"\nkind = \"external\""), "account[8].kind", "only for accounts of entity \"EXTERNAL\""),
        (ex("zone = \"ft\"", "zone = \"FT\""), "account[3].zone", "expected \"onshore\", \"ft\" or \"offshore\""),
        (ex("currencies = [\"SGD\", \"USD\"]", "currencies = [\"SGD\", \"CNH\"]"), "account[6].currencies[1]", "unknown currency \"CNH\""),
        (ex("currencies = [\"EUR\"]", "currencies = [\"EUR\", \"EUR\"]"), "account[7].currencies[1]", "listed twice"),
        (ex("currencies = [\"EUR\"]", "currencies = []"), "account[7].currencies", "at least one currency"),
        (ex("{ CNY = \"5000000.00\" }", "{ CNY = \"5000000.001\" }"), "account[2].overdraft.CNY", "more decimals than CNY allows"),
        (ex("{ CNY = \"5000000.00\" }", "{ CNY = \"-5000000.00\" }"), "account[2].overdraft.CNY", "0 or more"),
        (ex("{ CNY = \"5000000.00\" }", "{ CNY = 5000000.00 }"), "account[2].overdraft.CNY", "quote it"),
        (ex("{ CNY = \"5000000.00\" }", "{ CNY = \"5000000.00\", EUR = \"1.00\" }"), "account[2].overdraft.EUR", "does not hold EUR"),
        (ex("{ CNY = \"5000000.00\" }", "{ CNH = \"1.00\" }"), "account[2].overdraft.CNH", "unknown currency"),
        (ex("zone = \"onshore\"\ncurrencies = [\"CNY\", \"USD\", \"EUR\"]", "zone = \"onshore\"\ncurrencies = [\"CNY\", \"USD\", \"EUR\"]\noverdraft = { CNY = \"1.00\" }"), "account[9].overdraft", "external accounts are unbounded"),
        // sweeps
        (ex("account = \"SZ-OPS\"\ncurrency = \"CNY\"", "account = \"SZ-OPZ\"\ncurrency = \"CNY\""), "sweep[0].account", "unknown account \"SZ-OPZ\""),
        (ex("into = \"SH-IMA\"                  # ft", "into = \"SH-XMA\"                  # ft"), "sweep[6].into", "unknown account"),
        (ex("into = \"SH-DMA\"                  # header", "into = \"SH-IMA\"                  # header"), "sweep[7].into", "must differ from `account`"),
        (ex("account = \"JP-OPS\"", "account = \"EXT-OFFSHORE\""), "sweep[5].account", "external account"),
        (ex("account = \"SZ-OPS\"\ncurrency = \"CNY\"", "account = \"SZ-OPS\"\ncurrency = \"EUR\""), "sweep[0].account", "does not hold EUR"),
        (ex("account = \"SG-OPS\"\ncurrency = \"USD\"\ninto = \"SH-IMA\"", "account = \"SG-OPS\"\ncurrency = \"SGD\"\ninto = \"SH-DMA\""), "sweep[3].into", "does not hold SGD"),
        (ex("account = \"SZ-OPS\"\ncurrency = \"CNY\"", "account = \"SZ-OPS\"\ncurrency = \"RMB\""), "sweep[0].currency", "unknown currency"),
        (ex("currency = \"CNY\"\ninto = \"SH-DMA\"                  # offshore", "currency = \"USD\"\ninto = \"SH-DMA\"                  # offshore"), "sweep[2]", "sweep[1] already sweeps HK-OPS USD"),
        (ex("min = \"200000.00\"", "min = \"900000.00\""), "sweep[4].min", "expected min ≤ max"),
        (ex("method = \"target\"\ntarget = \"1000000.00\"\n", "method = \"target\"\n"), "sweep[1].target", "method \"target\" needs `target"),
        (ex("method = \"threshold\"\nthreshold = \"500000.00\"\n", "method = \"threshold\"\n"), "sweep[3].threshold", "needs `threshold"),
        (ex("max = \"800000.00\"\n", ""), "sweep[4].max", "method \"range\" needs `max"),
        (ex("method = \"zero\"\ndirection = \"both\"\npriority = 1", "method = \"zero\"\ndirection = \"both\"\npriority = 1\nthreshold = \"5.00\""), "sweep[0].threshold", "belongs to method \"threshold\""),
        (ex("target = \"50000000\"", "target = \"50000000\"\nmin = \"1\""), "sweep[5].min", "remove `min`"),
        (ex("target = \"50000000\"", "target = \"50000000.5\""), "sweep[5].target", "more decimals than JPY allows: expected at most 0"),
        (ex("target = \"1000000.00\"", "target = 1000000.00"), "sweep[1].target", "floats are not exact money"),
        (ex("target = \"200000.00\"", "target = \"-1.00\""), "sweep[6].target", "0 or more"),
        (ex("method = \"zero\"\ndirection = \"up\"", "method = \"sweep-all\"\ndirection = \"up\""), "sweep[2].method", "unknown sweep method"),
        (ex("method = \"zero\"\ndirection = \"up\"", "method = \"zero\"\ndirection = \"upward\""), "sweep[2].direction", "expected \"up\""),
        (ex("priority = 99", ""), "sweep[7].priority", "priority is required"),
        (ex("priority = 99", "priority = -1"), "sweep[7].priority", "out of range"),
        (ex("priority = 99", "priority = \"99\""), "sweep[7].priority", "whole number"),
        (ex("min_transfer = \"10000.00\"", "min_transfer = \"10000.00\"\nmax_transfer = \"5000.00\""), "sweep[1].min_transfer", "min_transfer ≤ max_transfer"),
        (ex("min_transfer = \"10000.00\"", "min_transfer = \"10000.00\"\nrounding = \"0\""), "sweep[1].rounding", "greater than 0"),
        (ex("min_transfer = \"10000.00\"", "min_transfer = \"10000.00\"\nmax_transfer = \"0\""), "sweep[1].max_transfer", "greater than 0"),
        (format!("{EXAMPLE}\n[[sweep]]\naccount = \"SH-DMA\"\ncurrency = \"USD\"\ninto = \"SH-IMA\"\nmethod = \"zero\"\ndirection = \"both\"\npriority = 100\n"), "sweep[7].into", "form a cycle (SH-IMA → SH-DMA → SH-IMA)"),
        // interest
        (ex("credit_rate = \"4.00\"", "credit_rate = \"400\""), "interest[0].credit_rate", "percent per annum from 0 to 100"),
        (ex("debit_rate = \"5.00\"", "debit_rate = \"-5.00\""), "interest[0].debit_rate", "from 0 to 100"),
        (ex("credit_rate = \"4.00\"", "credit_rate = 4.0"), "interest[0].credit_rate", "quote it"),
        (ex("currency = \"JPY\"\nday_count", "currency = \"USD\"\nday_count"), "interest[5].currency", "one [[interest]] rule per currency"),
        (ex("day_count = \"ACT/360\"\ncredit_rate = \"4.00\"", "day_count = \"ACT/366\"\ncredit_rate = \"4.00\""), "interest[0].day_count", "ACT/365F, 30/360, 30E/360"),
        (ex("debit_rate = \"0.90\"", "debit_rate = \"0.90\"\n[[interest.tiers]]\nfrom = \"100\"\ncredit_rate = \"1\"\ndebit_rate = \"1\"\n[[interest.tiers]]\nfrom = \"100\"\ncredit_rate = \"1\"\ndebit_rate = \"1\""), "interest[5].tiers[1].from", "increasing order"),
        (ex("debit_rate = \"0.90\"", "debit_rate = \"0.90\"\n[[interest.tiers]]\nfrom = \"100.5\"\ncredit_rate = \"1\"\ndebit_rate = \"1\""), "interest[5].tiers[0].from", "more decimals than JPY"),
        (ex("debit_rate = \"0.90\"", "debit_rate = \"0.90\"\n[[interest.tiers]]\nfrom = \"0\"\ncredit_rate = \"1\"\ndebit_rate = \"101\""), "interest[5].tiers[0].from", "greater than 0"),
        (ex("debit_rate = \"0.90\"", "debit_rate = \"0.90\"\n[[interest.tiers]]\nfrom = \"10\"\ncredit_rate = \"1\"\ndebit_rate = \"101\""), "interest[5].tiers[0].debit_rate", "0 to 100"),
        // interest: dated rows, members' own rows, benchmarks (docs/SWEEPS.md, "Interest as treasuries set it")
        (int("currency = \"USD\"\ndebit_rate = \"5.00\"\ncredit_rate = \"4.00\""), "interest[6].currency", "already sets the pool's USD terms from the beginning"),
        (int("currency = \"USD\"\nentity = \"LGT-HK\"\neffective = \"2026-01-01\"\ncredit_rate = \"4\"\ndebit_rate = \"5\"\n[[interest]]\ncurrency = \"USD\"\nday_count = \"ACT/360\"\nentity = \"LGT-HK\"\neffective = \"2026-01-01\"\ncredit_rate = \"4\"\ndebit_rate = \"5\""), "interest[7].currency", "LGT-HK's own USD terms from 2026-01-01"),
        (int("currency = \"USD\"\nentity = \"LGT-XX\"\ncredit_rate = \"4\"\ndebit_rate = \"5\""), "interest[6].entity", "not an entity of the group"),
        (int("currency = \"USD\"\nentity = \"LGT-SH\"\ncredit_rate = \"4\"\ndebit_rate = \"5\""), "interest[6].entity", "is the pool's host"),
        (int("currency = \"USD\"\neffective = \"2026-02-30\"\ncredit_rate = \"4\"\ndebit_rate = \"5\""), "interest[6].effective", "YYYY-MM-DD"),
        (int("currency = \"USD\"\neffective = \"2026-02-01\"\ncredit_rate = \"4\""), "interest[6].debit_rate", "required key `debit_rate` is missing"),
        (int("currency = \"USD\"\neffective = \"2026-02-01\"\nbenchmark = \"SOFR\"\ncredit_margin = \"0\"\ndebit_margin = \"1\"\ncredit_rate = \"4\""), "interest[6].credit_rate", "write `credit_margin`"),
        (int("currency = \"USD\"\neffective = \"2026-02-01\"\nbenchmark = \"SOFR\"\ncredit_margin = \"0\""), "interest[6].debit_margin", "required key `debit_margin` is missing"),
        (int("currency = \"USD\"\neffective = \"2026-02-01\"\nbenchmark = \"sofr\"\ncredit_margin = \"0\"\ndebit_margin = \"1\""), "interest[6].benchmark", "(write \"SOFR\")"),
        (int("currency = \"USD\"\neffective = \"2026-02-01\"\nbenchmark = \"SOFR\"\ncredit_margin = \"-150\"\ndebit_margin = \"1\""), "interest[6].credit_margin", "from -100 to 100"),
        (int("currency = \"USD\"\neffective = \"2026-02-01\"\nbenchmark = \"SOFR\"\ncredit_margin = \"-0.5\"\ndebit_margin = \"1\"\ndebit_floor = \"2\"\ndebit_cap = \"1.5\""), "interest[6].debit_cap", "below the debit floor 2"),
        (int("currency = \"USD\"\neffective = \"2026-02-01\"\ncredit_rate = \"4\"\ndebit_rate = \"5\"\ncredit_floor = \"0\""), "interest[6].credit_floor", "applies to a benchmark rate"),
        (int("currency = \"USD\"\neffective = \"2026-02-01\"\nbenchmark = \"SOFR\"\ncredit_margin = \"0\"\ndebit_margin = \"1\"\nlookback_days = 40"), "interest[6].lookback_days", "from 0 to 31"),
        (int("currency = \"USD\"\neffective = \"2026-02-01\"\nbenchmark = \"SOFR\"\ncredit_margin = \"0\"\ndebit_margin = \"1\"\nstale_after_days = 0"), "interest[6].stale_after_days", "from 1 to 400"),
        (int("currency = \"USD\"\neffective = \"2026-02-01\"\nbenchmark = \"SOFR\"\ncredit_margin = \"0\"\ndebit_margin = \"1\"\n[[interest.tiers]]\nfrom = \"100.00\"\ncredit_rate = \"1\"\ndebit_rate = \"2\""), "interest[6].tiers[0].credit_rate", "gives margins over the fixing"),
        (int("currency = \"USD\"\neffective = \"2026-02-01\"\ncredit_rate = \"4\"\ndebit_rate = \"5\"\n[[interest.tiers]]\nfrom = \"100.00\"\ncredit_margin = \"1\"\ndebit_rate = \"2\""), "interest[6].tiers[0].credit_rate", "required key `credit_rate` is missing"),
        (int("currency = \"USD\"\neffective = \"2026-02-01\"\ncredit_rate = \"4\"\ndebit_rate = \"5\"\n[[interest.tiers]]\nfrom = \"100.00\"\ncredit_margin = \"1\"\ndebit_rate = \"2\""), "interest[6].tiers[0].credit_margin", "a tier of a fixed row gives rates"),
        // macro-prudential parameter history
        (mp(&[("2021-01-07", "\"1\""), ("2025-01-13", "\"0\"")]), "macro_prudential[1].parameter", "must be greater than 0"),
        (mp(&[("2025-01-13", "\"-1.75\"")]), "macro_prudential[0].parameter", "must be greater than 0"),
        (mp(&[("2025-01-13", "1.75")]), "macro_prudential[0].parameter", "quote it, write \"1.75\""),
        (mp(&[("2025-01-13", "\"1,75\"")]), "macro_prudential[0].parameter", "decimal string"),
        (mp(&[("2025-01-13", "\"1.75\""), ("2023-07-20", "\"1.5\"")]), "macro_prudential[1].effective", "must be after the previous row's 2025-01-13"),
        (mp(&[("2025-01-13", "\"1.75\""), ("2025-01-13", "\"1.5\"")]), "macro_prudential[1].effective", "one per date"),
        (mp(&[("2025-02-30", "\"1.75\"")]), "macro_prudential[0].effective", "YYYY-MM-DD"),
        (format!("macro_prudential = []\n{EXAMPLE}"), "macro_prudential", "remove the key to use the published history"),
        // eligibility thresholds
        (elig("onshore_cross_border_min = \"-1.00\""), "pool.eligibility.onshore_cross_border_min", "0 or more"),
        (elig("onshore_revenue_min = \"10000000000.001\""), "pool.eligibility.onshore_revenue_min", "more decimals than CNY allows"),
        (elig("offshore_revenue_min = 2000000000.00"), "pool.eligibility.offshore_revenue_min", "floats are not exact money"),
        (elig("offshore_revenue_min = 2000000000"), "pool.eligibility.offshore_revenue_min", "quote it, write \"2000000000\""),
        (elig("onshore_revenue_min = \"1e10\""), "pool.eligibility.onshore_revenue_min", "decimal string"),
        (elig("members_min = \"3\""), "pool.eligibility.members_min", "expected a whole number such as members_min = 3 (unquoted)"),
        (elig("members_min = 0"), "pool.eligibility.members_min", "out of range; expected a whole number from 1"),
        (elig("members_min = -3"), "pool.eligibility.members_min", "out of range"),
        (elig("violation_free_years = 101"), "pool.eligibility.violation_free_years", "from 0 to 100"),
        (elig("violation_free_years = 2.0"), "pool.eligibility.violation_free_years", "whole number"),
    ];
    assert!(cases.len() >= 25);
    run_cases(cases);
}

// ---------------------------------------------------------------------------------------------
// Whole-file rules, error collection, robustness
// ---------------------------------------------------------------------------------------------

#[test]
fn too_few_entities_and_no_limit_rows() {
    // Drop the third entity (and its account, sweep and interest rule) from the minimal group.
    let start = MINIMAL.find("[[entity]]\nid = \"M-JP\"").expect("anchor");
    let end = MINIMAL.find("[[account]]").expect("anchor");
    let two = format!("{}{}", &MINIMAL[..start], &MINIMAL[end..]);
    let errors = errors_of(&two);
    let error = errors.iter().find(|e| e.path == "entity").expect("entity count error");
    assert!(error.message.contains("at least 3 entities"), "{error}");
    assert!(error.message.contains("found 2"), "{error}");
    assert_eq!(errors.last().map(|e| e.path.as_str()), Some("entity"), "errors without a line come last");

    let start = MINIMAL.find("[[pool.limits]]").expect("anchor");
    let end = MINIMAL.find("[[entity]]").expect("anchor");
    let no_limits = format!("{}{}", &MINIMAL[..start], &MINIMAL[end..]);
    let errors = errors_of(&no_limits);
    assert!(
        errors.iter().any(|e| e.path == "pool.limits" && e.message.contains("at least one [[pool.limits]] row")),
        "{errors:?}"
    );
}

#[test]
fn every_semantic_error_is_reported_in_file_order() {
    let text = ex("base_currency = \"CNY\"", "base_currency = \"RMB\"");
    let text = edit(&text, "id = \"DE-OPS\"", "id = \"SYS-DE\"");
    let text = edit(&text, "{ CNY = \"5000000.00\" }", "{ CNY = \"5000000.001\" }");
    let text = edit(&text, "min = \"200000.00\"", "min = \"900000.00\"");
    let text = edit(&text, "credit_rate = \"4.00\"", "credit_rate = \"400\"");
    let errors = errors_of(&text);
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    for expected in
        ["group.base_currency", "account[2].overdraft.CNY", "account[7].id", "sweep[4].min", "interest[0].credit_rate"]
    {
        assert!(paths.contains(&expected), "{expected} missing from {paths:?}");
    }
    let lines: Vec<usize> = errors.iter().map(|e| e.line.expect("line")).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "errors sorted by line: {lines:?}");
    // The renamed DE-OPS makes the DE-OPS sweep refer to an unknown account: reported too.
    assert!(paths.contains(&"sweep[4].account"), "{paths:?}");
    // Display: one error per line.
    let shown = parse_group_config(&text).expect_err("invalid").to_string();
    assert_eq!(shown.lines().count(), errors.len());
}

#[test]
fn line_numbers_point_at_the_value() {
    let text = ex("{ CNY = \"5000000.00\" }", "{ CNY = \"5000000.001\" }");
    let expected_line = text.lines().position(|l| l.contains("5000000.001")).expect("line") + 1;
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, Some(expected_line));
    assert_eq!(
        errors[0].to_string(),
        format!("account[2].overdraft.CNY: 5000000.001 has more decimals than CNY allows: expected at most 2 decimal place(s) (line {expected_line})")
    );

    let text = ex("name = \"Lingang Technology Group\"", "name = \"Lingang Technology Group");
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1);
    let expected_line =
        text.lines().position(|l| l.starts_with("name = \"Lingang Technology Group")).expect("line") + 1;
    assert_eq!(errors[0].line, Some(expected_line));
    // A syntax error has its key path too, read from the text.
    assert_eq!(errors[0].to_string(), format!("group.name: invalid basic string (line {expected_line})"));
}

#[test]
fn never_panics_on_damaged_input() {
    // Every prefix of the example (at char boundaries, in steps) and every one-line deletion.
    let mut cut = 0;
    while cut < EXAMPLE.len() {
        if EXAMPLE.is_char_boundary(cut) {
            let _ = parse_group_config(&EXAMPLE[..cut]);
        }
        cut += 13;
    }
    let lines: Vec<&str> = EXAMPLE.lines().collect();
    for skip in 0..lines.len() {
        let text: Vec<&str> = lines.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, l)| *l).collect();
        let _ = parse_group_config(&text.join("\n"));
    }
    for text in [
        "",
        "\u{0}",
        "[[entity]]\n[[entity]]\n",
        "group = 1",
        "[group]\nid = \"\u{202e}\"\n",
        "a = [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]",
    ] {
        assert!(parse_group_config(text).is_err());
    }
}

#[test]
fn dated_members_and_benchmark_rows_parse_with_their_defaults_resolved() {
    let text = format!(
        "{EXAMPLE}\n[[interest]]\ncurrency = \"USD\"\nentity = \"LGT-HK\"\neffective = 2026-01-01\nday_count = \"ACT/360\"\n\
         benchmark = \"SOFR\"\ncredit_margin = \"-0.25\"\ndebit_margin = \"1.50\"\ncredit_floor = \"0\"\n\
         \n[[interest]]\ncurrency = \"CNY\"\neffective = \"2026-01-20\"\nday_count = \"ACT/365F\"\nbenchmark = \"LPR-1Y\"\n\
         credit_margin = \"-1.20\"\ndebit_margin = \"0.10\"\nlookback_days = 0\n"
    );
    let config = parse_ok(&text);
    let sofr = &config.interest[6];
    assert_eq!((sofr.entity.as_deref(), sofr.effective), (Some("LGT-HK"), Some(date("2026-01-01"))));
    let terms = sofr.benchmark.as_ref().expect("a benchmark row");
    assert_eq!((terms.series.as_str(), terms.stale_after_days, terms.lookback_days), ("SOFR", 14, 0));
    assert_eq!((s(sofr.credit_rate), s(sofr.debit_rate)), ("-0.25".into(), "1.5".into()));
    assert_eq!(terms.credit_floor.map(s), Some("0".into()));
    assert_eq!((terms.debit_floor, terms.credit_cap, terms.debit_cap), (None, None, None));
    let lpr = config.interest[7].benchmark.as_ref().expect("a benchmark row");
    assert_eq!(lpr.stale_after_days, 40, "a monthly LPR fixing may be 40 days old");
    // The rows in force: LGT-HK's own from 2026-01-01, the pool's before and for everyone else.
    let usd = ccy("USD");
    assert_eq!(config.interest_rule_at("LGT-HK", usd, date("2025-12-31")).map(|(idx, _)| idx), Some(0));
    assert_eq!(config.interest_rule_at("LGT-HK", usd, date("2026-01-01")).map(|(idx, _)| idx), Some(6));
    assert_eq!(config.interest_rule_at("LGT-SG", usd, date("2026-06-30")).map(|(idx, _)| idx), Some(0));
    let cny = ccy("CNY");
    assert_eq!(config.interest_rule_at("LGT-SZ", cny, date("2026-01-19")).map(|(idx, _)| idx), Some(2));
    assert_eq!(config.interest_rule_at("LGT-SZ", cny, date("2026-01-20")).map(|(idx, _)| idx), Some(7));
    assert_eq!(config.interest_rule(usd).map(|rule| rule.entity.is_none()), Some(true));
}

// ---------------------------------------------------------------------------------------------
// Business-day calendars (docs/SWEEPS.md, "Business days")
// ---------------------------------------------------------------------------------------------

#[test]
fn the_example_names_its_calendars_and_every_rule_rolls_following_but_the_headers() {
    use cashpool_ledger::config::{Roll, ValueDateRule};
    let config = parse_ok(EXAMPLE);
    let calendars = &config.pool.calendars;
    let currencies: Vec<(&str, Vec<&str>)> =
        calendars.currencies.iter().map(|(ccy, ids)| (ccy.code(), ids.iter().map(String::as_str).collect())).collect();
    assert_eq!(
        currencies,
        [
            ("CNY", vec!["CN"]),
            ("EUR", vec!["TARGET"]),
            ("HKD", vec!["HK"]),
            ("JPY", vec!["JP"]),
            ("SGD", vec!["SG"]),
            ("USD", vec!["US"])
        ]
    );
    assert_eq!(calendars.accounts["HK-OPS"], ["HK"]);
    assert_eq!(calendars.value_dates, ValueDateRule::Warn);
    // HK-OPS USD into SH-IMA: USD's calendar and both accounts' markets.
    let hk_usd = config.sweeps.iter().find(|rule| rule.account == "HK-OPS" && rule.currency == ccy("USD")).unwrap();
    assert_eq!(calendars.for_rule(hk_usd), ["CN", "HK", "US"]);
    assert_eq!(calendars.for_posting("DE-OPS", ccy("EUR")), ["TARGET"]);
    let rolls: Vec<Roll> = config.sweeps.iter().map(|rule| rule.roll).collect();
    assert_eq!(rolls.iter().filter(|roll| **roll == Roll::Following).count(), rolls.len() - 1);
    assert_eq!(config.sweeps.last().map(|rule| rule.roll), Some(Roll::ModifiedFollowing));
    // Without the keys: no calendar, every day a business day, warn, following.
    let minimal = parse_ok(MINIMAL);
    assert!(minimal.pool.calendars.is_empty());
    assert!(minimal.sweeps.iter().all(|rule| rule.roll == Roll::Following));
}

#[test]
fn calendar_mistakes() {
    #[rustfmt::skip]
    let cases: &[(String, &str, &str)] = &[
        (ex("CNY = [\"CN\"]", "CNX = [\"CN\"]"), "pool.calendars.CNX", "not an active ISO 4217 currency code"),
        (ex("CNY = [\"CN\"]", "CNY = [\"cn\"]"), "pool.calendars.CNY[0]", "write \"CN\""),
        (ex("CNY = [\"CN\"]", "CNY = []"), "pool.calendars.CNY", "an empty list"),
        (ex("CNY = [\"CN\"]", "CNY = \"CN\""), "pool.calendars.CNY", "expected an array of calendar ids"),
        (ex("CNY = [\"CN\"]", "CNY = [\"CN\", \"CN\"]"), "pool.calendars.CNY[1]", "listed twice"),
        (ex("CNY = [\"CN\"]", "CNY = [\"PRC-INTERBANK-MARKET\"]"), "pool.calendars.CNY[0]", "at most 16"),
        (ex("calendars = [\"HK\"]   ", "calendars = [1]   "), "account[5].calendars[0]", "expected a calendar id"),
        (ex("non_business_value_dates = \"warn\"", "non_business_value_dates = \"reject\""), "pool.non_business_value_dates", "expected \"warn\""),
        (ex("roll = \"modified_following\"", "roll = \"modified-following\""), "sweep[7].roll", "unknown roll \"modified-following\""),
        (edit(MINIMAL, "max_transfer = \"1000\"\n", "max_transfer = \"1000\"\nroll = \"none\"\n"), "sweep[0].roll", "no calendar governs this rule's days"),
    ];
    run_cases(cases);
}
