//! The pool's eligibility check: the figures CSV parser and the criteria,
//! through the public API only.

use cashpool_files::figures::parse_figures_csv;
use cashpool_ledger::config::{parse_group_config, GroupConfig, Residence};
use cashpool_ledger::eligibility::{
    check_eligibility, Criterion, EligibilityReport, MemberFigures, MemberType, TradeRating,
};
use cashpool_ledger::money::Currency;
use chrono::NaiveDate;

/// The example group shipped with the project.
const EXAMPLE: &str = include_str!("../../../examples/lingang-group.toml");
/// Realistic previous-year figures of the example group, with each member's type and goods-trade rating.
const FIGURES: &str = include_str!("fixtures/eligibility/lingang-figures.csv");
/// The same figures as a file written before `member_type` and `trade_rating` were checked: the six first columns.
const FIGURES_SIX_COLUMNS: &str = include_str!("fixtures/eligibility/lingang-figures-six-columns.csv");

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
/// entity not in [`EXACT`] is appended. The file has the `member_type` and
/// `trade_rating` columns: a row of six fields gets `enterprise` and, onshore,
/// `A` (offshore: not on SAFE's list); a row of eight is taken as it is.
fn exact_with(edits: &[(&str, &str)]) -> String {
    let typed = |row: &str| -> String {
        match row.split(',').count() {
            6 if row.contains(",onshore,") => format!("{row},enterprise,A"),
            6 => format!("{row},enterprise,"),
            _ => row.to_string(),
        }
    };
    let mut lines = vec![format!("{HEADER},member_type,trade_rating")];
    for (entity, row) in EXACT {
        match edits.iter().find(|(edited, _)| *edited == entity) {
            Some((_, "")) => {}
            Some((_, replacement)) => lines.push(typed(replacement)),
            None => lines.push(typed(row)),
        }
    }
    for (entity, row) in edits {
        if !EXACT.iter().any(|(known, _)| known == entity) {
            lines.push(typed(row));
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
    assert_eq!(rows[0].member_type, Some(MemberType::Enterprise));
    assert_eq!(rows[0].trade_rating, Some(TradeRating::A));
    assert_eq!(rows[3].trade_rating, Some(TradeRating::NotListed), "an offshore member is not on SAFE's list");

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
    // 银发〔2025〕251号 item 1 (who may take part) and item 3 (goods-trade category A), one criterion a member.
    for code in ["member_type", "trade_rating_a"] {
        let per_member: Vec<&Criterion> = report.criteria.iter().filter(|c| c.criterion == code).collect();
        assert_eq!(per_member.len(), 7, "{code}: {per_member:#?}");
        assert!(per_member.iter().all(|c| c.met && c.checked && c.entity.is_some()), "{per_member:#?}");
    }
    assert_eq!(find(&report, "member_type", Some("LGT-SH")).map(|c| c.actual.as_str()), Ok("enterprise"));
    assert_eq!(find(&report, "trade_rating_a", Some("LGT-SZ")).map(|c| c.actual.as_str()), Ok("A"));
    assert_eq!(
        find(&report, "trade_rating_a", Some("LGT-HK")).map(|c| c.actual.as_str()),
        Ok("not on SAFE's goods-trade list")
    );
    assert_eq!(report.not_checked().count(), 0);

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
    assert_eq!(json["criteria"][0]["checked"], serde_json::json!(true));
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

/// `(what and its source, [pool.eligibility] keys, row edits, criterion, entity, expected met, expected checked, expected actual ("" = any), eligible)`
type MemberRuleCase<'a> =
    (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str, Option<&'a str>, bool, bool, &'a str, bool);

/// Who may take part (银发〔2025〕251号 item 1: 金融机构、地方政府融资平台公司和房地产企业不得参与
/// 资金池业务，财务公司作为主办企业的除外), the members counted towards "at least 3" (item 3:
/// 境内外成员企业合计不少于3家) and the goods-trade classification (item 3: 贸易外汇收支名录内的
/// 成员企业货物贸易分类结果为A类). The example group's host is LGT-SH.
#[test]
fn member_types_and_goods_trade_ratings() {
    // Each edited row is EXACT's with its two last fields, so the totals stay exactly at the thresholds.
    #[rustfmt::skip]
    let cases: &[MemberRuleCase] = &[
        // item 1: who may take part
        ("item 1: an enterprise takes part", "", &[], "member_type", Some("LGT-SZ"), true, true, "enterprise", true),
        ("item 1: a finance company may be the host", "", &[("LGT-SH", "LGT-SH,onshore,4000000000.00,2000000000.00,9000000000.00,,finance_company,A")], "member_type", Some("LGT-SH"), true, true, "finance_company, the host", true),
        ("item 1: a finance company that is not the host", "", &[("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,,finance_company,A")], "member_type", Some("LGT-SZ"), false, true, "finance_company: a finance company may take part only as the pool's host", false),
        ("item 1: a bank, even as the host", "", &[("LGT-SH", "LGT-SH,onshore,4000000000.00,2000000000.00,9000000000.00,,financial_institution,A")], "member_type", Some("LGT-SH"), false, true, "financial_institution: a financial institution may not take part", false),
        ("item 1: a local-government financing vehicle", "", &[("LGT-FTZ", "LGT-FTZ,onshore,0.00,0.01,0.01,,lgfv,A")], "member_type", Some("LGT-FTZ"), false, true, "lgfv: a local-government financing vehicle may not take part", false),
        ("item 1: a real-estate enterprise", "", &[("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,,real_estate,A")], "member_type", Some("LGT-SZ"), false, true, "real_estate: a real-estate enterprise may not take part", false),
        ("item 1: an offshore real-estate enterprise", "", &[("LGT-JP", "LGT-JP,offshore,0,0,200000000.00,,real_estate,")], "member_type", Some("LGT-JP"), false, true, "real_estate: a real-estate enterprise may not take part", false),
        ("item 1: an offshore bank", "", &[("LGT-HK", "LGT-HK,offshore,0,0,1000000000.00,,financial_institution,")], "member_type", Some("LGT-HK"), false, true, "financial_institution: a financial institution may not take part", false),
        ("item 1: the other members still take part", "", &[("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,,real_estate,A")], "member_type", Some("LGT-SH"), true, true, "enterprise", false),
        // item 3: at least 3 members, an entity that may not take part not counted
        ("item 3: one excluded entity is not counted", "members_min = 7", &[("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,,real_estate,A")], "members_min", None, false, true, "6 (7 entities in the group; LGT-SZ is not a member: it may not take part)", false),
        ("item 3: 6 members still reach 6", "members_min = 6", &[("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,,lgfv,A")], "members_min", None, true, true, "6 (7 entities in the group; LGT-SZ is not a member: it may not take part)", false),
        ("item 3: two excluded entities", "members_min = 6", &[("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,,real_estate,A"), ("LGT-HK", "LGT-HK,offshore,0,0,1000000000.00,,finance_company,")], "members_min", None, false, true, "5 (7 entities in the group; LGT-SZ, LGT-HK are not members: they may not take part)", false),
        ("item 3: a finance company host counts", "members_min = 7", &[("LGT-SH", "LGT-SH,onshore,4000000000.00,2000000000.00,9000000000.00,,finance_company,A")], "members_min", None, true, true, "7", true),
        // item 3: members on SAFE's goods-trade list are category A
        ("item 3: category A", "", &[], "trade_rating_a", Some("LGT-SH"), true, true, "A", true),
        ("item 3: not on the list", "", &[("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,,enterprise,")], "trade_rating_a", Some("LGT-SZ"), true, true, "not on SAFE's goods-trade list", true),
        ("item 3: category B", "", &[("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,,enterprise,B")], "trade_rating_a", Some("LGT-SZ"), false, true, "B: a member on SAFE's goods-trade list must be category A", false),
        ("item 3: category C", "", &[("LGT-FTZ", "LGT-FTZ,onshore,0.00,0.01,0.01,,enterprise,C")], "trade_rating_a", Some("LGT-FTZ"), false, true, "C: a member on SAFE's goods-trade list must be category A", false),
        ("item 3: category B offshore, as the file states it", "", &[("LGT-HK", "LGT-HK,offshore,0,0,1000000000.00,,enterprise,B")], "trade_rating_a", Some("LGT-HK"), false, true, "B: a member on SAFE's goods-trade list must be category A", false),
        ("item 3: a B member fails only its own rule", "", &[("LGT-SZ", "LGT-SZ,onshore,600000000.00,399999999.99,999999999.99,,enterprise,B")], "member_type", Some("LGT-SZ"), true, true, "enterprise", false),
    ];
    let mut failures = Vec::new();
    for &(what, eligibility, edits, code, entity, met, checked, actual, eligible) in cases {
        let report = check_eligibility(&group(eligibility), &figures_ok(&exact_with(edits)), date("2026-01-15"));
        match find(&report, code, entity) {
            Err(error) => failures.push(format!("{what}: {error}")),
            Ok(found) => {
                if found.met != met || found.checked != checked || (!actual.is_empty() && found.actual != actual) {
                    failures
                        .push(format!("{what}: expected met={met} checked={checked} actual={actual:?}, got {found:?}"));
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

/// A figures file without the `member_type` or `trade_rating` column (written
/// before these rules were checked) still parses, and the rule it cannot show
/// is reported once, not checked and not met: the report does not call the
/// pool eligible on a rule it did not check.
#[test]
fn a_rule_without_its_column_is_reported_not_checked() {
    let config = group("");
    let as_of = date("2026-01-15");
    // The fixture without its two last columns, with one of them, and with both in the other order.
    let drop_columns = |keep: fn(&[&str]) -> Vec<String>| -> String {
        FIGURES.lines().map(|line| keep(&line.split(',').collect::<Vec<_>>()).join(",") + "\n").collect()
    };
    let six = drop_columns(|f| f[..6].iter().map(|s| s.to_string()).collect());
    assert_eq!(six, FIGURES_SIX_COLUMNS, "the six-column fixture is the typed one without its two last columns");
    let type_only = drop_columns(|f| f[..7].iter().map(|s| s.to_string()).collect());
    let rating_only = drop_columns(|f| f[..6].iter().chain(&f[7..8]).map(|s| s.to_string()).collect());
    let swapped = drop_columns(|f| f[..6].iter().chain(&f[7..8]).chain(&f[6..7]).map(|s| s.to_string()).collect());
    assert!(swapped.starts_with(&format!("{HEADER},trade_rating,member_type\n")), "{swapped}");

    let pool_level = |report: &EligibilityReport, code: &str| -> Option<Criterion> {
        let found = find(report, code, None).ok()?.clone();
        assert_eq!(report.criteria.iter().filter(|c| c.criterion == code).count(), 1, "{code}: one for the pool");
        Some(found)
    };

    let report = check_eligibility(&config, &figures_ok(FIGURES_SIX_COLUMNS), as_of);
    assert!(!report.eligible, "not shown eligible: {report:#?}");
    assert_eq!(report.failed().count(), 0, "no rule checked fails: {report:#?}");
    let unchecked: Vec<&str> = report.not_checked().map(|c| c.criterion.as_str()).collect();
    assert_eq!(unchecked, ["member_type", "trade_rating_a"]);
    let member_type = pool_level(&report, "member_type").expect("member_type for the pool");
    assert!(!member_type.met && !member_type.checked, "{member_type:?}");
    assert_eq!(
        member_type.actual,
        "not checked: the figures give no `member_type`; add the `member_type` column to the figures file"
    );
    let rating = pool_level(&report, "trade_rating_a").expect("trade_rating_a for the pool");
    assert!(!rating.met && !rating.checked, "{rating:?}");
    assert!(rating.actual.contains("`trade_rating` column"), "{rating:?}");
    // Without types, every entity counts as a member.
    assert_eq!(find(&report, "members_min", None).map(|c| c.actual.as_str()), Ok("7"));

    let report = check_eligibility(&config, &figures_ok(&type_only), as_of);
    assert_eq!(report.criteria.iter().filter(|c| c.criterion == "member_type" && c.checked && c.met).count(), 7);
    assert!(pool_level(&report, "trade_rating_a").is_some_and(|c| !c.checked && !c.met));
    assert!(!report.eligible);

    let report = check_eligibility(&config, &figures_ok(&rating_only), as_of);
    assert_eq!(report.criteria.iter().filter(|c| c.criterion == "trade_rating_a" && c.checked && c.met).count(), 7);
    assert!(pool_level(&report, "member_type").is_some_and(|c| !c.checked && !c.met));
    assert!(!report.eligible);

    let both = check_eligibility(&config, &figures_ok(FIGURES), as_of);
    assert!(both.eligible);
    assert_eq!(check_eligibility(&config, &figures_ok(&swapped), as_of), both, "the optional columns in either order");

    // Through the API a row may lack a value others give: that member's criterion is not checked.
    let mut rows = figures_ok(FIGURES);
    rows[1].member_type = None;
    let report = check_eligibility(&config, &rows, as_of);
    let sz = find(&report, "member_type", Some("LGT-SZ")).expect("LGT-SZ's member_type");
    assert!(!sz.met && !sz.checked && sz.actual.contains("not checked"), "{sz:?}");
    assert_eq!(report.criteria.iter().filter(|c| c.criterion == "member_type").count(), 7);
    assert!(!report.eligible);
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

/// Bad `member_type` and `trade_rating` cells and headers: each names the line,
/// the column and the values allowed.
#[test]
fn malformed_member_types_and_ratings_are_reported_with_line_and_field() {
    const H: &str = "entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date,member_type,trade_rating\n";
    const TYPES: &str = "expected one of enterprise, finance_company, financial_institution, lgfv, real_estate";
    const RATINGS: &str = "expected A, B or C (SAFE's goods-trade classification), or empty when the member is not on SAFE's goods-trade list";
    #[rustfmt::skip]
    let cases: &[(String, u64, Option<&str>, &str)] = &[
        // (file, line, field, reason contains)
        (format!("{H}LGT-SH,onshore,0,0,0,,bank,A\n"), 2, Some("member_type"), "unknown member type \"bank\""),
        (format!("{H}LGT-SH,onshore,0,0,0,,bank,A\n"), 2, Some("member_type"), TYPES),
        (format!("{H}LGT-SH,onshore,0,0,0,,,A\n"), 2, Some("member_type"), "is empty; write the member's type, one of enterprise, finance_company"),
        (format!("{H}LGT-SH,onshore,0,0,0,,Enterprise,A\n"), 2, Some("member_type"), "write it `enterprise`"),
        (format!("{H}LGT-SH,onshore,0,0,0,,real estate,A\n"), 2, Some("member_type"), "write it `real_estate`"),
        (format!("{H}LGT-SH,onshore,0,0,0,,房地产企业,A\n"), 2, Some("member_type"), TYPES),
        (format!("{H}LGT-SH,onshore,0,0,0,,房地产企业,A\n"), 2, Some("member_type"), "unknown member type \"房地产企业\"; write it `real_estate`"),
        (format!("{H}LGT-SH,onshore,0,0,0,,集团财务公司,A\n"), 2, Some("member_type"), "write it `finance_company`"),
        (format!("{H}LGT-SH,onshore,0,0,0,,地方政府融资平台公司,A\n"), 2, Some("member_type"), "write it `lgfv`"),
        (format!("{H}LGT-SH,onshore,0,0,0,,商业银行,A\n"), 2, Some("member_type"), "write it `financial_institution`"),
        (format!("{H}LGT-SH,onshore,0,0,0,,enterprise,a\n"), 2, Some("trade_rating"), "write the letter alone: `A`"),
        (format!("{H}LGT-SH,onshore,0,0,0,,enterprise,A类\n"), 2, Some("trade_rating"), "write the letter alone: `A`"),
        (format!("{H}LGT-SH,onshore,0,0,0,,enterprise,Class B\n"), 2, Some("trade_rating"), "write the letter alone: `B`"),
        (format!("{H}LGT-SH,onshore,0,0,0,,enterprise,D\n"), 2, Some("trade_rating"), RATINGS),
        (format!("{H}LGT-SH,onshore,0,0,0,,enterprise,AA\n"), 2, Some("trade_rating"), "unknown goods-trade category \"AA\""),
        (format!("{H}LGT-SH,onshore,0,0,0,,enterprise, \n"), 2, Some("trade_rating"), RATINGS),
        (format!("{H}LGT-SH,onshore,0,0,0,,enterprise,A\nLGT-SZ,onshore,0,0,0,,lgfv,none\n"), 3, Some("trade_rating"), "unknown goods-trade category \"none\""),
        (format!("{H}LGT-SH,onshore,0,0,0,,enterprise\n"), 2, None, "expected 8 fields as in the header, found 7 (no `trade_rating`)"),
        (format!("{H}LGT-SH,onshore,0,0,0\n"), 2, None, "found 5 (no `major_violation_date`, `member_type`, `trade_rating`)"),
        // headers
        (format!("{HEADER},member_type,member_type\n"), 1, None, "column `member_type` appears twice"),
        (format!("{HEADER},member_type,rating\n"), 1, None, "unknown column \"rating\"; expected `entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date` (optionally followed by `,member_type` and `,trade_rating` in either order)"),
        (format!("{HEADER},type\n"), 1, None, "unknown column \"type\""),
        ("entity,residence,cross_border_receipts,cross_border_payments,revenue,member_type,major_violation_date\n".to_string(), 1, None, "in another order"),
        (format!("{HEADER},Member_Type\n"), 1, None, "in another order, or in another case or spelling"),
        ("entity,residence,cross_border_receipts,cross_border_payments,revenue,member_type,trade_rating\n".to_string(), 1, None, "missing column `major_violation_date`"),
    ];
    let mut failures = Vec::new();
    for (text, line, field, reason) in cases {
        let (rows, errors) = parse_figures_csv(text, ccy("CNY"));
        let hit = errors.iter().any(|e| e.line == *line && e.field.as_deref() == *field && e.reason.contains(reason));
        if !hit {
            failures.push(format!(
                "{text:?}: no error at line {line}, field {field:?} containing {reason:?}; got {errors:?}"
            ));
        }
        if rows.iter().any(|row| row.line == *line) {
            failures.push(format!("{text:?}: the bad row on line {line} was kept: {rows:?}"));
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
        "entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date,trade_rating,member_type,member_type\n",
        "entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date,member_type\nLGT-SH,onshore,0,0,0,,\u{0}\n",
        "entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date,trade_rating\nLGT-SH,onshore,0,0,0,,类\n",
        "member_type,trade_rating\n",
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
            member_type: Some(MemberType::RealEstate),
            trade_rating: Some(TradeRating::C),
        })
        .collect();
    let report = check_eligibility(&config, &rows, NaiveDate::MAX);
    assert!(find(&report, "onshore_cross_border", None).expect("total").met);
}
