//! The pool's eligibility check: the figures CSV parser and the criteria,
//! through the public API only.

use cashpool_files::figures::parse_figures_csv;
use cashpool_ledger::config::{parse_group_config, GroupConfig, Residence};
use cashpool_ledger::eligibility::{check_eligibility, Criterion, EligibilityReport, MemberFigures};
use cashpool_ledger::money::Currency;
use chrono::NaiveDate;

/// The example group shipped with the project.
const EXAMPLE: &str = include_str!("../../../examples/lingang-group.toml");
/// Realistic previous-year figures of the example group.
const FIGURES: &str = include_str!("fixtures/eligibility/lingang-figures.csv");

const HEADER: &str = "entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date";

/// Figures at exactly the default thresholds: onshore cross-border
/// 7000000000.00, onshore revenue 10000000000.00, offshore revenue 2000000000.00.
const EXACT: [(&str, &str); 7] = [
    ("LGT-SH", "LGT-SH,onshore,4000000000.00,2000000000.00,9000000000.00,"),
    ("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,"),
    ("LGT-FTZ", "LGT-FTZ,onshore,0.00,0.01,0.01,"),
    ("LGT-HK", "LGT-HK,offshore,0,0,1000000000.00,"),
    ("LGT-SG", "LGT-SG,offshore,0,0,500000000.00,"),
    ("LGT-DE", "LGT-DE,offshore,0,0,300000000.00,"),
    ("LGT-JP", "LGT-JP,offshore,0,0,200000000.00,"),
];

fn ccy(code: &str) -> Currency {
    Currency::from_code(code).expect("known currency")
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("valid date")
}

/// The example group, with `eligibility` (TOML keys) as its `[pool.eligibility]` table when not empty.
fn group(eligibility: &str) -> GroupConfig {
    let text = if eligibility.is_empty() {
        EXAMPLE.to_string()
    } else {
        format!("{EXAMPLE}\n[pool.eligibility]\n{eligibility}\n")
    };
    match parse_group_config(&text) {
        Ok(config) => config,
        Err(errors) => panic!("invalid group definition:\n{errors}"),
    }
}

/// Parses figures that must be valid.
fn figures_ok(text: &str) -> Vec<MemberFigures> {
    let (rows, errors) = parse_figures_csv(text, ccy("CNY"));
    assert!(errors.is_empty(), "unexpected errors: {errors:?}");
    rows
}

/// The [`EXACT`] figures with rows replaced (`""` drops the row); a row for an
/// entity not in [`EXACT`] is appended.
fn exact_with(edits: &[(&str, &str)]) -> String {
    let mut lines = vec![HEADER.to_string()];
    for (entity, row) in EXACT {
        match edits.iter().find(|(edited, _)| *edited == entity) {
            Some((_, "")) => {}
            Some((_, replacement)) => lines.push((*replacement).to_string()),
            None => lines.push(row.to_string()),
        }
    }
    for (entity, row) in edits {
        if !EXACT.iter().any(|(known, _)| known == entity) {
            lines.push((*row).to_string());
        }
    }
    lines.join("\n") + "\n"
}

/// The criterion with this code (and entity), which must occur once.
fn find<'r>(report: &'r EligibilityReport, code: &str, entity: Option<&str>) -> Result<&'r Criterion, String> {
    let found: Vec<&Criterion> =
        report.criteria.iter().filter(|c| c.criterion == code && c.entity.as_deref() == entity).collect();
    match found.as_slice() {
        [one] => Ok(one),
        _ => {
            Err(format!("expected one criterion {code} for {entity:?}, found {}: {:#?}", found.len(), report.criteria))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The example group's fixture
// ---------------------------------------------------------------------------------------------

#[test]
fn lingang_fixture_is_eligible_on_the_totals() {
    let config = group("");
    let rows = figures_ok(FIGURES);
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0].line, 2);
    assert_eq!(rows[2].entity, "LGT-FTZ");
    assert_eq!(rows[2].residence, Residence::Onshore);
    assert_eq!(rows[2].cross_border_receipts.to_string(), "18640225.50");
    assert_eq!(rows[5].major_violation_date, Some(date("2022-06-15")));

    let report = check_eligibility(&config, &rows, date("2026-01-15"));
    let unmet: Vec<&Criterion> = report.criteria.iter().filter(|c| !c.met).collect();
    assert!(report.eligible, "unmet: {unmet:#?}");

    let total = |code| find(&report, code, None).map(|c| (c.threshold.clone(), c.actual.clone(), c.met));
    assert_eq!(total("onshore_cross_border"), Ok(("7000000000.00".into(), "8286785778.30".into(), true)));
    assert_eq!(total("onshore_revenue"), Ok(("10000000000.00".into(), "12881574847.19".into(), true)));
    assert_eq!(total("offshore_revenue"), Ok(("2000000000.00".into(), "2698071663.75".into(), true)));
    assert_eq!(total("members_min"), Ok(("3".into(), "7".into(), true)));
    let system = find(&report, "management_system", None).expect("management_system");
    assert!(system.met && system.actual.contains("this software"), "{system:?}");
    // LGT-DE's violation of 2022-06-15 lies outside the two years before the check date.
    let de = find(&report, "no_major_violation", Some("LGT-DE")).expect("LGT-DE");
    assert_eq!((de.threshold.as_str(), de.actual.as_str(), de.met), ("none after 2024-01-15", "2022-06-15", true));
    assert_eq!(report.criteria.iter().filter(|c| c.criterion == "no_major_violation").count(), 7);

    // LGT-FTZ, a small FTZ company, is far below the onshore thresholds on its
    // own: under 银发〔2025〕251号 the thresholds are totals over all onshore
    // members, so the pool is still eligible.
    let ftz = &rows[2];
    let thresholds = &config.pool.eligibility;
    assert!(ftz.cross_border_receipts + ftz.cross_border_payments < thresholds.onshore_cross_border_min);
    assert!(ftz.revenue < thresholds.onshore_revenue_min);
    assert!(report.criteria.iter().all(|c| c.entity.as_deref() != Some("LGT-FTZ") || c.met));

    // The report serializes for `--format json`.
    let json = serde_json::to_value(&report).expect("serializes");
    assert_eq!(json["eligible"], serde_json::json!(true));
    assert_eq!(json["criteria"][0]["criterion"], serde_json::json!("members_min"));
    assert_eq!(json["criteria"][0]["entity"], serde_json::Value::Null);
    assert_eq!(json["criteria"][0]["met"], serde_json::json!(true));
    let back: EligibilityReport = serde_json::from_value(json).expect("round-trips");
    assert_eq!(back, report);
}

// ---------------------------------------------------------------------------------------------
// Criteria, one case a line
// ---------------------------------------------------------------------------------------------

/// `(what, [pool.eligibility] keys, row edits, as_of, criterion, entity, expected met, expected actual ("" = any), eligible)`
type CriterionCase<'a> =
    (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str, &'a str, Option<&'a str>, bool, &'a str, bool);

#[test]
fn criteria_at_their_boundaries() {
    const AS_OF: &str = "2026-01-15";
    #[rustfmt::skip]
    let cases: &[CriterionCase] = &[
        // totals: exactly the threshold meets, one minor unit below fails
        ("cross-border exactly at 7 bn", "", &[], AS_OF, "onshore_cross_border", None, true, "7000000000.00", true),
        ("onshore revenue exactly at 10 bn", "", &[], AS_OF, "onshore_revenue", None, true, "10000000000.00", true),
        ("offshore revenue exactly at 2 bn", "", &[], AS_OF, "offshore_revenue", None, true, "2000000000.00", true),
        ("cross-border 0.01 below", "", &[("LGT-FTZ", "LGT-FTZ,onshore,0.00,0.00,0.01,")], AS_OF, "onshore_cross_border", None, false, "6999999999.99", false),
        ("receipts count as well as payments", "", &[("LGT-SH", "LGT-SH,onshore,3999999999.99,2000000000.00,9000000000.00,")], AS_OF, "onshore_cross_border", None, false, "6999999999.99", false),
        ("onshore revenue 0.01 below", "", &[("LGT-FTZ", "LGT-FTZ,onshore,0.00,0.01,0.00,")], AS_OF, "onshore_revenue", None, false, "9999999999.99", false),
        ("offshore revenue 0.01 below", "", &[("LGT-JP", "LGT-JP,offshore,0,0,199999999.99,")], AS_OF, "offshore_revenue", None, false, "1999999999.99", false),
        ("offshore flows do not count onshore", "", &[("LGT-FTZ", "LGT-FTZ,onshore,0.00,0.00,0.01,"), ("LGT-JP", "LGT-JP,offshore,5.00,5.00,200000000.00,")], AS_OF, "onshore_cross_border", None, false, "6999999999.99", false),
        ("onshore revenue does not count offshore", "", &[("LGT-JP", "LGT-JP,offshore,0,0,199999999.99,"), ("LGT-SH", "LGT-SH,onshore,4000000000.00,2000000000.00,9000000000.01,")], AS_OF, "offshore_revenue", None, false, "1999999999.99", false),
        // violations: the window is the 2 years up to the check date
        ("no violation", "", &[], AS_OF, "no_major_violation", Some("LGT-SZ"), true, "none", true),
        ("violation exactly 2 years before", "", &[("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,2024-01-15")], AS_OF, "no_major_violation", Some("LGT-SZ"), true, "2024-01-15", true),
        ("violation a day inside the window", "", &[("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,2024-01-16")], AS_OF, "no_major_violation", Some("LGT-SZ"), false, "2024-01-16", false),
        ("violation on the check date", "", &[("LGT-HK", "LGT-HK,offshore,0,0,1000000000.00,2026-01-15")], AS_OF, "no_major_violation", Some("LGT-HK"), false, "2026-01-15", false),
        ("violation after the check date", "", &[("LGT-HK", "LGT-HK,offshore,0,0,1000000000.00,2026-03-01")], AS_OF, "no_major_violation", Some("LGT-HK"), false, "2026-03-01", false),
        ("violation long ago", "", &[("LGT-HK", "LGT-HK,offshore,0,0,1000000000.00,2019-12-31")], AS_OF, "no_major_violation", Some("LGT-HK"), true, "2019-12-31", true),
        ("29 February: window starts on the 28th", "", &[("LGT-DE", "LGT-DE,offshore,0,0,300000000.00,2026-02-28")], "2028-02-29", "no_major_violation", Some("LGT-DE"), true, "2026-02-28", true),
        ("29 February: the 1st of March is inside", "", &[("LGT-DE", "LGT-DE,offshore,0,0,300000000.00,2026-03-01")], "2028-02-29", "no_major_violation", Some("LGT-DE"), false, "2026-03-01", false),
        // the input
        ("unknown entity", "", &[("LGT-XX", "LGT-XX,onshore,1.00,1.00,1.00,")], AS_OF, "member_of_group", Some("LGT-XX"), false, "", false),
        ("residence mismatch", "", &[("LGT-HK", "LGT-HK,onshore,0,0,1000000000.00,")], AS_OF, "residence_matches", Some("LGT-HK"), false, "onshore (figures line 5)", false),
        ("residence mismatch: counted as the group says", "", &[("LGT-HK", "LGT-HK,onshore,0,0,1000000000.00,")], AS_OF, "offshore_revenue", None, true, "2000000000.00", false),
        ("missing member", "", &[("LGT-JP", "")], AS_OF, "figures_present", Some("LGT-JP"), false, "missing", false),
        ("missing member: left out of the total", "", &[("LGT-JP", "")], AS_OF, "offshore_revenue", None, false, "1800000000.00", false),
        ("management system", "", &[], AS_OF, "management_system", None, true, "", true),
        ("members: 7 of 3", "", &[], AS_OF, "members_min", None, true, "7", true),
        // custom thresholds from [pool.eligibility]
        ("custom cross-border min met", "onshore_cross_border_min = \"6999999999.99\"", &[("LGT-FTZ", "LGT-FTZ,onshore,0.00,0.00,0.01,")], AS_OF, "onshore_cross_border", None, true, "6999999999.99", true),
        ("custom onshore revenue min", "onshore_revenue_min = \"10000000000.01\"", &[], AS_OF, "onshore_revenue", None, false, "10000000000.00", false),
        ("custom offshore revenue min", "offshore_revenue_min = \"0\"", &[("LGT-JP", "LGT-JP,offshore,0,0,0,")], AS_OF, "offshore_revenue", None, true, "1800000000.00", true),
        ("custom members min not met", "members_min = 8", &[], AS_OF, "members_min", None, false, "7", false),
        ("custom members min met", "members_min = 7", &[], AS_OF, "members_min", None, true, "7", true),
        ("custom window of 3 years", "violation_free_years = 3", &[("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,2023-06-30")], AS_OF, "no_major_violation", Some("LGT-SZ"), false, "2023-06-30", false),
        ("custom window of 0 years", "violation_free_years = 0", &[("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,2026-01-15")], AS_OF, "no_major_violation", Some("LGT-SZ"), true, "2026-01-15", true),
    ];
    let mut failures = Vec::new();
    for &(what, eligibility, edits, as_of, code, entity, met, actual, eligible) in cases {
        let config = group(eligibility);
        let rows = figures_ok(&exact_with(edits));
        let report = check_eligibility(&config, &rows, date(as_of));
        match find(&report, code, entity) {
            Err(error) => failures.push(format!("{what}: {error}")),
            Ok(found) => {
                if found.met != met || (!actual.is_empty() && found.actual != actual) {
                    failures.push(format!("{what}: expected met={met} actual={actual:?}, got {found:?}"));
                }
            }
        }
        if report.eligible != eligible {
            let unmet: Vec<String> =
                report.criteria.iter().filter(|c| !c.met).map(|c| format!("{}/{:?}", c.criterion, c.entity)).collect();
            failures.push(format!("{what}: expected eligible={eligible}, unmet: {unmet:?}"));
        }
        if report.eligible != report.criteria.iter().all(|c| c.met) {
            failures.push(format!("{what}: eligible must be every criterion met"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn thresholds_are_reported_at_the_base_currency_minor_units() {
    let config = group("onshore_cross_border_min = \"7000000000\"\nmembers_min = 3");
    assert_eq!(config.pool.eligibility.onshore_cross_border_min.to_string(), "7000000000.00");
    let report = check_eligibility(&config, &figures_ok(&exact_with(&[])), date("2026-01-15"));
    assert_eq!(find(&report, "onshore_cross_border", None).map(|c| c.threshold.as_str()), Ok("7000000000.00"));
    assert_eq!(
        find(&report, "no_major_violation", Some("LGT-SH")).map(|c| c.threshold.as_str()),
        Ok("none after 2024-01-15")
    );
}

#[test]
fn no_figures_at_all() {
    let report = check_eligibility(&group(""), &[], date("2026-01-15"));
    assert!(!report.eligible);
    assert_eq!(report.criteria.iter().filter(|c| c.criterion == "figures_present" && !c.met).count(), 7);
    assert_eq!(find(&report, "onshore_cross_border", None).map(|c| c.actual.as_str()), Ok("0.00"));
    assert_eq!(report.criteria.iter().filter(|c| c.criterion == "no_major_violation").count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Malformed figures, one case a line
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_rows_are_reported_with_line_and_field() {
    const H: &str = "entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date\n";
    #[rustfmt::skip]
    let cases: &[(&str, String, u64, Option<&str>, &str)] = &[
        // (base currency, file, line, field, reason contains)
        ("CNY", format!("{H}LGT-SH,onshore,1.001,0,0,\n"), 2, Some("cross_border_receipts"), "more decimals than CNY allows"),
        ("JPY", format!("{H}LGT-SH,onshore,0,0,1.5,\n"), 2, Some("revenue"), "more decimals than JPY allows: expected at most 0"),
        ("CNY", format!("{H}LGT-SH,onshore,-1.00,0,0,\n"), 2, Some("cross_border_receipts"), "is negative"),
        ("CNY", format!("{H}LGT-SH,onshore,0,,0,\n"), 2, Some("cross_border_payments"), "is empty"),
        ("CNY", format!("{H}LGT-SH,onshore,0,\"1,000.00\",0,\n"), 2, Some("cross_border_payments"), "remove the thousands separators"),
        ("CNY", format!("{H}LGT-SH,onshore,0,0,1e9,\n"), 2, Some("revenue"), "exponent notation"),
        ("CNY", format!("{H}LGT-SH,onshore,0,0,+5,\n"), 2, Some("revenue"), "drop the leading '+'"),
        ("CNY", format!("{H}LGT-SH,onshore,0,0, 5,\n"), 2, Some("revenue"), "remove the spaces"),
        ("CNY", format!("{H}LGT-SH,onshore,0,0,1000000000000000000000,\n"), 2, Some("revenue"), "too large"),
        ("CNY", format!("{H}LGT-SH,abroad,0,0,0,\n"), 2, Some("residence"), "expected onshore or offshore"),
        ("CNY", format!("{H}LGT-SH,Onshore,0,0,0,\n"), 2, Some("residence"), "unknown residence \"Onshore\""),
        ("CNY", format!("{H},onshore,0,0,0,\n"), 2, Some("entity"), "is empty"),
        ("CNY", format!("{H}LGT SH,onshore,0,0,0,\n"), 2, Some("entity"), "printable ASCII without spaces"),
        ("CNY", format!("{H} LGT-SH,onshore,0,0,0,\n"), 2, Some("entity"), "leading or trailing spaces"),
        ("CNY", format!("{H}{},onshore,0,0,0,\n", "E".repeat(65)), 2, Some("entity"), "at most 64"),
        ("CNY", format!("{H}LGT-SH,onshore,0,0,0,\nLGT-SH,onshore,0,0,0,\n"), 3, Some("entity"), "already has figures on line 2"),
        ("CNY", format!("{H}LGT-SH,onshore,0,0,0,2025-02-30\n"), 2, Some("major_violation_date"), "not a calendar date"),
        ("CNY", format!("{H}LGT-SH,onshore,0,0,0,15/03/2025\n"), 2, Some("major_violation_date"), "not an ISO date"),
        ("CNY", format!("{H}LGT-SH,onshore,0,0,0\n"), 2, None, "expected 6 fields as in the header, found 5"),
        ("CNY", format!("{H}LGT-SH,onshore,1,000.00,0,0,\n"), 2, None, "found 7"),
        ("CNY", format!("{H}LGT-SH,onshore,0,0,0,\n\n\nLGT-SZ,onshore,x,0,0,\n"), 5, Some("cross_border_receipts"), "not a decimal"),
        ("CNY", format!("{H}LGT-SH,onshore,0,0,0,\r\nLGT-SZ,onshore,0,0,-0.01,\r\n").replace(",major_violation_date\n", ",major_violation_date\r\n"), 3, Some("revenue"), "is negative"),
        ("CNY", format!("\u{feff}{H}LGT-SH,onshore,0,0,0,x\n"), 2, Some("major_violation_date"), "not an ISO date"),
        ("CNY", format!("\n{H}LGT-SH,onshore,0,0,0,x\n"), 3, Some("major_violation_date"), "not an ISO date"),
        ("CNY", "entity,residence,receipts,payments,revenue,major_violation_date\nLGT-SH,onshore,0,0,0,\n".to_string(), 1, None, "wrong header: missing columns `cross_border_receipts`, `cross_border_payments`; unknown columns \"receipts\", \"payments\"; expected `entity,residence,cross_border_receipts"),
        ("CNY", "entity,residence,cross_border_receipts,cross_border_payments,revenue\n".to_string(), 1, None, "wrong header"),
        ("CNY", String::new(), 1, None, "the file is empty"),
        ("CNY", "\n\n".to_string(), 1, None, "the file is empty"),
    ];
    let mut failures = Vec::new();
    for (base, text, line, field, reason) in cases {
        let (_, errors) = parse_figures_csv(text, ccy(base));
        let hit = errors.iter().any(|e| e.line == *line && e.field.as_deref() == *field && e.reason.contains(reason));
        if !hit {
            failures.push(format!(
                "{text:?}: no error at line {line}, field {field:?} containing {reason:?}; got {errors:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn every_bad_field_is_reported_and_good_rows_kept() {
    let text = format!(
        "{HEADER}\nLGT-SH,onshore,1.00,2.00,3.00,\nLGT-SZ,abroad,-1,x,3.00,2025-13-01\nLGT-HK,offshore,0.10,0,4.5,2024-02-29\n"
    );
    let (rows, errors) = parse_figures_csv(&text, ccy("CNY"));
    let entities: Vec<&str> = rows.iter().map(|r| r.entity.as_str()).collect();
    assert_eq!(entities, ["LGT-SH", "LGT-HK"]);
    assert_eq!(rows[1].line, 4);
    assert_eq!(rows[1].revenue.to_string(), "4.50", "amounts at the base currency's minor units");
    assert_eq!(rows[1].major_violation_date, Some(date("2024-02-29")));
    let fields: Vec<(u64, Option<&str>)> = errors.iter().map(|e| (e.line, e.field.as_deref())).collect();
    assert_eq!(
        fields,
        [
            (3, Some("residence")),
            (3, Some("cross_border_receipts")),
            (3, Some("cross_border_payments")),
            (3, Some("major_violation_date"))
        ]
    );
    assert!(errors[0].to_string().starts_with("line 3, field `residence`: "), "{}", errors[0]);
}

#[test]
fn never_panics_on_damaged_figures() {
    let mut cut = 0;
    while cut <= FIGURES.len() {
        if FIGURES.is_char_boundary(cut) {
            let (rows, _) = parse_figures_csv(&FIGURES[..cut], ccy("CNY"));
            let _ = check_eligibility(&group(""), &rows, date("2026-01-15"));
        }
        cut += 7;
    }
    for text in [
        "\u{0}",
        "\"",
        "entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date\n\"unterminated,onshore,0,0,0,\n",
        "entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date\né,onshore,0,0,0,\n",
        "\r\r\r",
    ] {
        let _ = parse_figures_csv(text, ccy("KWD"));
    }
    // Extreme values built directly: the totals saturate, the window falls back to the earliest date.
    let mut config = group("");
    config.pool.eligibility.violation_free_years = u32::MAX;
    let huge = rust_decimal::Decimal::MAX;
    let rows: Vec<MemberFigures> = ["LGT-SH", "LGT-SZ"]
        .iter()
        .map(|entity| MemberFigures {
            line: 2,
            entity: (*entity).to_string(),
            residence: Residence::Onshore,
            cross_border_receipts: huge,
            cross_border_payments: huge,
            revenue: huge,
            major_violation_date: Some(NaiveDate::MIN),
        })
        .collect();
    let report = check_eligibility(&config, &rows, NaiveDate::MAX);
    assert!(find(&report, "onshore_cross_border", None).expect("total").met);
}
