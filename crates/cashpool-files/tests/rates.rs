//! FX rates: the rates CSV (a table of bad rows, line numbers, the November
//! fixture), the rate book's lookups, insert atomicity, exact conversion, and
//! fuzzing of the parser.

use cashpool_files::rates::*;
use cashpool_files::InputError;
use cashpool_ledger::model::Zone;
use cashpool_ledger::money::Currency;
use cashpool_ledger::rates::{Market, RateConflict, RateRow};
use cashpool_ledger::testing::{MissingRate, RateBook, RateError};
use chrono::{Datelike, NaiveDate, Weekday};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const HEADER: &str = "date,currency,market,rate\n";
const NOVEMBER: &str = include_str!("fixtures/rates/november.csv");

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test date")
}

fn ccy(code: &str) -> Currency {
    Currency::from_code(code).expect("test currency")
}

fn cny() -> Currency {
    ccy("CNY")
}

fn row(day: &str, code: &str, market: Market, rate: Decimal) -> RateRow {
    RateRow { date: date(day), currency: ccy(code), market, rate }
}

fn to_csv(rows: &[RateRow]) -> String {
    let mut text = HEADER.to_string();
    for row in rows {
        text.push_str(&format!("{},{},{},{}\n", row.date, row.currency, row.market, row.rate));
    }
    text
}

fn november_book() -> RateBook {
    let (rows, errors) = parse_rates_csv(NOVEMBER, cny());
    assert_eq!(errors, vec![]);
    let mut book = RateBook::new();
    book.insert(&rows).expect("fixture inserts");
    book
}

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

#[test]
fn november_fixture_covers_every_business_day_in_both_markets() {
    let (rows, errors) = parse_rates_csv(NOVEMBER, cny());
    assert_eq!(errors, vec![]);
    let currencies = ["EUR", "HKD", "JPY", "SGD", "USD"];
    let days: Vec<NaiveDate> = date("2026-11-02")
        .iter_days()
        .take_while(|d| *d <= date("2026-11-27"))
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect();
    assert_eq!(days.len(), 20);
    assert_eq!(rows.len(), days.len() * currencies.len() * Market::ALL.len());
    let book = november_book();
    assert_eq!(book.len(), rows.len());
    for day in &days {
        for code in currencies {
            let onshore = book.rate(ccy(code), Market::Onshore, *day).expect("onshore rate");
            let offshore = book.rate(ccy(code), Market::Offshore, *day).expect("offshore rate");
            assert_eq!((onshore.0, offshore.0), (*day, *day), "{code} {day}");
            // CNH stays within 0.1% of CNY.
            let gap = (onshore.1 - offshore.1).abs() / onshore.1;
            assert!(gap < dec!(0.001), "{code} {day}: {} vs {}", onshore.1, offshore.1);
        }
    }
    // The contract's FX example converts at this rate.
    assert_eq!(rows[8], row("2026-11-02", "USD", Market::Onshore, dec!(7.1025)));
}

#[test]
fn a_good_file_round_trips() {
    let text = format!(
        "{HEADER}2026-11-02,USD,onshore,7.1025\n2026-11-02,USD,offshore,7.1061\n2026-11-02,JPY,onshore,0.047512\n\
         2026-11-03,USD,onshore,7.1010\n2026-11-03,EUR,offshore,7.7000000001\n"
    );
    let (rows, errors) = parse_rates_csv(&text, cny());
    assert_eq!(errors, vec![]);
    assert_eq!(
        rows,
        vec![
            row("2026-11-02", "USD", Market::Onshore, dec!(7.1025)),
            row("2026-11-02", "USD", Market::Offshore, dec!(7.1061)),
            row("2026-11-02", "JPY", Market::Onshore, dec!(0.047512)),
            row("2026-11-03", "USD", Market::Onshore, dec!(7.1010)),
            row("2026-11-03", "EUR", Market::Offshore, dec!(7.7000000001)),
        ]
    );
    // Written back as parsed, the file reads the same, scale and all.
    assert_eq!(to_csv(&rows), text);
    // Through the book, in (currency, market, date) order.
    let mut book = RateBook::new();
    book.insert(&rows).unwrap();
    let ordered: Vec<RateRow> = book.rows().collect();
    assert_eq!(
        ordered.iter().map(|r| (r.currency.code(), r.market, r.date.day())).collect::<Vec<_>>(),
        vec![
            ("EUR", Market::Offshore, 3),
            ("JPY", Market::Onshore, 2),
            ("USD", Market::Onshore, 2),
            ("USD", Market::Onshore, 3),
            ("USD", Market::Offshore, 2),
        ]
    );
    let (again, errors) = parse_rates_csv(&to_csv(&ordered), cny());
    assert_eq!(errors, vec![]);
    assert_eq!(again, ordered);
    // JSON: ISO date, lower-case market, the rate as a string.
    let json = serde_json::to_string(&rows[0]).unwrap();
    assert_eq!(json, r#"{"date":"2026-11-02","currency":"USD","market":"onshore","rate":"7.1025"}"#);
    assert_eq!(serde_json::from_str::<RateRow>(&json).unwrap(), rows[0]);
}

#[test]
fn the_base_currency_is_whatever_the_caller_says() {
    let text = format!("{HEADER}2026-11-02,CNY,onshore,0.1408\n2026-11-02,USD,onshore,1\n");
    let (rows, errors) = parse_rates_csv(&text, ccy("USD"));
    assert_eq!(rows, vec![row("2026-11-02", "CNY", Market::Onshore, dec!(0.1408))]);
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].field.as_deref()), (3, Some("currency")));
    assert!(errors[0].reason.contains("USD is the base currency"), "{}", errors[0].reason);
}

/// One bad row a case: the rows before it (each good) and the bad row last;
/// the error's line, field and a part of its reason.
const BAD_ROWS: &[(&str, u64, Option<&str>, &str)] = &[
    // date
    ("2026-11-31,USD,onshore,7.1", 2, Some("date"), "not a calendar date"),
    ("2026/11/02,USD,onshore,7.1", 2, Some("date"), "not an ISO date"),
    ("2026-11-2,USD,onshore,7.1", 2, Some("date"), "not an ISO date"),
    (",USD,onshore,7.1", 2, Some("date"), "is empty"),
    // currency
    ("2026-11-02,usd,onshore,7.1", 2, Some("currency"), "upper case: USD"),
    ("2026-11-02,US,onshore,7.1", 2, Some("currency"), "not a currency code"),
    ("2026-11-02,XYZ,onshore,7.1", 2, Some("currency"), "not an active ISO 4217 currency"),
    ("2026-11-02,,onshore,7.1", 2, Some("currency"), "is empty"),
    ("2026-11-02,CNY,onshore,1", 2, Some("currency"), "CNY is the base currency: its rate is always 1"),
    ("2026-11-02,CNY,offshore,1.0001", 2, Some("currency"), "base currency"),
    // market
    ("2026-11-02,USD,cnh,7.1", 2, Some("market"), "expected one of: onshore (the CNY market"),
    ("2026-11-02,USD,CNH,7.1", 2, Some("market"), "the CNH market is `offshore`"),
    ("2026-11-02,USD,cny,7.1", 2, Some("market"), "the CNY market is `onshore`"),
    ("2026-11-02,USD,Onshore,7.1", 2, Some("market"), "write `onshore`"),
    ("2026-11-02,USD,ft,7.1", 2, Some("market"), "unknown market \"ft\"; expected one of: onshore"),
    ("2026-11-02,USD,,7.1", 2, Some("market"), "is empty; expected one of"),
    // rate
    ("2026-11-02,USD,onshore,", 2, Some("rate"), "is empty"),
    ("2026-11-02,USD,onshore,7.1e0", 2, Some("rate"), "exponent notation"),
    ("2026-11-02,USD,onshore,+7.1", 2, Some("rate"), "drop the leading '+'"),
    ("2026-11-02,USD,onshore,\"7,1025\"", 2, Some("rate"), "thousands separators"),
    ("2026-11-02,USD,onshore, 7.1", 2, Some("rate"), "remove the spaces"),
    ("2026-11-02,USD,onshore,.71", 2, Some("rate"), "not a decimal"),
    ("2026-11-02,USD,onshore,7.", 2, Some("rate"), "not a decimal"),
    ("2026-11-02,USD,onshore,0", 2, Some("rate"), "greater than zero"),
    ("2026-11-02,USD,onshore,0.00000000000", 2, Some("rate"), "greater than zero"),
    ("2026-11-02,USD,onshore,-7.1", 2, Some("rate"), "greater than zero"),
    ("2026-11-02,USD,onshore,7.10250000001", 2, Some("rate"), "11 decimal places; a rate may have at most 10"),
    ("2026-11-02,USD,onshore,7.10250000000", 2, Some("rate"), "11 decimal places"),
    ("2026-11-02,USD,onshore,99999999999999999999999999999", 2, Some("rate"), "more than 28 digits"),
    // duplicates and order, within the file
    (
        "2026-11-02,USD,onshore,7.1\n2026-11-02,USD,onshore,7.1",
        3,
        Some("date"),
        "a second USD onshore rate for 2026-11-02 (the first is on line 2)",
    ),
    (
        "2026-11-02,USD,onshore,7.1\n2026-11-03,USD,onshore,7.2\n2026-11-02,USD,onshore,7.3",
        4,
        Some("date"),
        "(the first is on line 2)",
    ),
    (
        "2026-11-03,USD,onshore,7.1\n2026-11-02,EUR,onshore,7.7\n2026-11-02,USD,onshore,7.1",
        4,
        Some("date"),
        "2026-11-02 comes after 2026-11-03 (line 2) for USD onshore",
    ),
    (
        "2026-11-02,USD,offshore,7.1\n2026-11-04,USD,offshore,7.1\n2026-11-03,USD,offshore,7.1",
        4,
        Some("date"),
        "comes after 2026-11-04 (line 3) for USD offshore; within a file the dates",
    ),
    // the row as a whole
    ("2026-11-02,USD,onshore", 2, None, "expected 4 fields as in the header `date,currency,market,rate`, found 3"),
    ("2026-11-02,USD,onshore,7.1,x", 2, None, "found 5"),
    ("2026-11-02", 2, None, "found 1"),
];

#[test]
fn every_bad_row_is_reported_with_its_line_and_field() {
    for &(body, line, field, needle) in BAD_ROWS {
        let text = format!("{HEADER}{body}\n");
        let (rows, errors) = parse_rates_csv(&text, cny());
        assert_eq!(errors.len(), 1, "{body:?}: {errors:?}");
        let error = &errors[0];
        assert_eq!((error.line, error.field.as_deref()), (line, field), "{body:?}: {error}");
        assert!(error.reason.contains(needle), "{body:?}: {:?} lacks {needle:?}", error.reason);
        let good = usize::try_from(line).unwrap() - 2;
        assert_eq!(rows.len(), good, "{body:?}: the rows before the bad one parse");
    }
}

#[test]
fn order_is_per_currency_and_market_and_ten_decimals_are_fine() {
    let text = format!(
        "{HEADER}2026-11-03,USD,onshore,7.1\n2026-11-02,USD,offshore,7.1\n2026-11-02,EUR,onshore,7.7\n\
         2026-11-04,USD,onshore,7.1025000000\n"
    );
    let (rows, errors) = parse_rates_csv(&text, cny());
    assert_eq!(errors, vec![]);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3].rate.to_string(), "7.1025000000");
}

#[test]
fn a_file_reports_every_bad_row_and_every_bad_field() {
    let text = "\u{feff}date,currency,market,rate\r\n\
                2026-11-02,USD,onshore,7.1025\r\n\
                \r\n\
                2026-13-01,USD,cnh,0\r\n\
                2026-11-02,GBP,offshore,9.4\r\n\
                \"2026-11-03\",\"EUR\",\"offshore\",\"7.70\"\r\n\
                2026-11-03,CNY,onshore,1\r\n\
                2026-11-01,USD,onshore,7.1\r\n";
    let (rows, errors) = parse_rates_csv(text, cny());
    assert_eq!(
        rows,
        vec![
            row("2026-11-02", "USD", Market::Onshore, dec!(7.1025)),
            row("2026-11-02", "GBP", Market::Offshore, dec!(9.4)),
            row("2026-11-03", "EUR", Market::Offshore, dec!(7.70)),
        ]
    );
    let found: Vec<(u64, Option<&str>)> = errors.iter().map(|e| (e.line, e.field.as_deref())).collect();
    assert_eq!(
        found,
        vec![(4, Some("date")), (4, Some("market")), (4, Some("rate")), (7, Some("currency")), (8, Some("date")),]
    );
    assert!(errors[4].reason.contains("(line 2)"), "{}", errors[4]);
    // Display names the line and the field.
    assert!(errors[3].to_string().starts_with("line 7, field `currency`: CNY is the base currency"), "{}", errors[3]);
}

#[test]
fn a_bad_row_does_not_count_for_the_order_of_later_rows() {
    let text = format!("{HEADER}2026-11-05,USD,onshore,-1\n2026-11-02,USD,onshore,7.1\n");
    let (rows, errors) = parse_rates_csv(&text, cny());
    assert_eq!(rows, vec![row("2026-11-02", "USD", Market::Onshore, dec!(7.1))]);
    assert_eq!(errors.iter().map(|e| (e.line, e.field.as_deref())).collect::<Vec<_>>(), vec![(2, Some("rate"))]);
}

#[test]
fn the_header_is_required_exactly() {
    let cases: &[(&str, u64, &str)] = &[
        ("", 1, "the file is empty; a rates CSV starts with the header `date,currency,market,rate`"),
        ("\n\n", 1, "the file is empty"),
        ("2026-11-02,USD,onshore,7.1\n", 1, "wrong header: the first line holds no column name"),
        ("2026-11-02,USD,onshore,7.1\n", 1, "expected `date,currency,market,rate`"),
        ("date,currency,market\n", 1, "missing column `rate`"),
        ("date,currency,market,rate,source\n", 1, "unknown column \"source\""),
        ("date,currency,rate,market\n", 1, "found \"date,currency,rate,market\""),
        ("date,currency,market\n", 1, "wrong header"),
        ("date,currency,market,rate,source\n", 1, "wrong header"),
        ("Date,Currency,Market,Rate\n", 1, "wrong header"),
        ("\ndate, currency, market, rate\n", 2, "wrong header"),
    ];
    for &(text, line, needle) in cases {
        let (rows, errors) = parse_rates_csv(text, cny());
        assert_eq!(rows, vec![], "{text:?}");
        assert_eq!(errors.len(), 1, "{text:?}: {errors:?}");
        assert_eq!((errors[0].line, errors[0].field.as_deref()), (line, None), "{text:?}");
        assert!(errors[0].reason.contains(needle), "{text:?}: {}", errors[0].reason);
    }
    // A header alone is an empty, valid file.
    assert_eq!(parse_rates_csv(HEADER, cny()), (vec![], vec![]));
    assert_eq!(parse_rates_csv("date,currency,market,rate", cny()), (vec![], vec![]));
}

#[test]
fn an_unterminated_quote_stops_the_file_with_its_line() {
    let text =
        format!("{HEADER}2026-11-02,USD,onshore,7.1\n2026-11-03,\"USD,onshore,7.1\n2026-11-04,USD,onshore,7.1\n");
    let (rows, errors) = parse_rates_csv(&text, cny());
    assert_eq!(rows.len(), 1);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].field.as_deref()), (3, None));
}

// ---------------------------------------------------------------------------
// Markets
// ---------------------------------------------------------------------------

#[test]
fn markets_of_zones_and_their_names() {
    for (zone, market) in
        [(Zone::Onshore, Market::Onshore), (Zone::Ft, Market::Offshore), (Zone::Offshore, Market::Offshore)]
    {
        assert_eq!(Market::of_zone(zone), market, "{zone:?}");
    }
    for (market, name) in [(Market::Onshore, "onshore"), (Market::Offshore, "offshore")] {
        assert_eq!(market.as_str(), name);
        assert_eq!(market.to_string(), name);
        assert_eq!(Market::parse(name), Some(market));
        assert_eq!(serde_json::to_string(&market).unwrap(), format!("\"{name}\""));
    }
    for bad in ["", "Onshore", "OFFSHORE", "cnh", "ft", " onshore"] {
        assert_eq!(Market::parse(bad), None, "{bad:?}");
    }
}

// ---------------------------------------------------------------------------
// The book
// ---------------------------------------------------------------------------

#[test]
fn lookups_take_the_rate_in_force() {
    let book = november_book();
    let usd = ccy("USD");
    // (date asked, market, date of the rate in force, rate)
    let cases = [
        ("2026-11-02", Market::Onshore, "2026-11-02", dec!(7.1025)),
        ("2026-11-02", Market::Offshore, "2026-11-02", dec!(7.0987)),
        ("2026-11-06", Market::Onshore, "2026-11-06", dec!(7.1049)),
        // Saturday and Sunday: Friday's rate.
        ("2026-11-07", Market::Onshore, "2026-11-06", dec!(7.1049)),
        ("2026-11-08", Market::Onshore, "2026-11-06", dec!(7.1049)),
        // After the last rate: the last one stays in force.
        ("2026-11-30", Market::Offshore, "2026-11-27", dec!(7.1119)),
        ("2027-06-30", Market::Onshore, "2026-11-27", dec!(7.1092)),
    ];
    for (asked, market, set_for, rate) in cases {
        assert_eq!(book.rate(usd, market, date(asked)), Some((date(set_for), rate)), "{asked} {market}");
    }
    // Nothing before the first rate, nothing for a currency never imported.
    assert_eq!(book.rate(usd, Market::Onshore, date("2026-11-01")), None);
    assert_eq!(book.rate(ccy("GBP"), Market::Onshore, date("2026-11-10")), None);
}

#[test]
fn a_missing_rate_names_currency_market_and_date() {
    let book = november_book();
    let err = book.to_base(dec!(100.00), ccy("USD"), Market::Offshore, date("2026-11-01"), cny()).unwrap_err();
    let missing = MissingRate { currency: ccy("USD"), market: Market::Offshore, date: date("2026-11-01") };
    assert_eq!(err, RateError::Missing(missing.clone()));
    assert_eq!(err.to_string(), "no offshore rate for USD on or before 2026-11-01");
    assert_eq!(
        serde_json::to_value(&missing).unwrap(),
        serde_json::json!({"currency": "USD", "market": "offshore", "date": "2026-11-01"})
    );
    let err = book.to_base(dec!(1.00), ccy("GBP"), Market::Onshore, date("2026-11-10"), cny()).unwrap_err();
    assert_eq!(err.to_string(), "no onshore rate for GBP on or before 2026-11-10");
}

#[test]
fn the_base_currency_converts_one_to_one_without_any_rate() {
    let empty = RateBook::new();
    assert!(empty.is_empty());
    assert_eq!(empty.len(), 0);
    for market in Market::ALL {
        let amount = empty.to_base(dec!(-1234.56), cny(), market, date("1999-01-01"), cny()).unwrap();
        assert_eq!(amount.to_string(), "-1234.56");
    }
    // With another base, CNY needs a rate like any other currency.
    assert!(matches!(
        empty.to_base(dec!(1.00), cny(), Market::Onshore, date("2026-11-02"), ccy("USD")),
        Err(RateError::Missing(_))
    ));
}

#[test]
fn conversion_is_exact_and_unrounded() {
    let book = november_book();
    let on = date("2026-11-02");
    // (amount, currency, market, result as written)
    let cases = [
        (dec!(100000.00), "USD", Market::Onshore, "710250.000000"),
        (dec!(-100000.00), "USD", Market::Onshore, "-710250.000000"),
        (dec!(0.01), "USD", Market::Offshore, "0.070987"),
        (dec!(1000000), "JPY", Market::Onshore, "47512.000000"),
        (dec!(12345.67), "HKD", Market::Onshore, "11261.4732606"),
        (dec!(1.00), "EUR", Market::Offshore, "7.698700"),
    ];
    for (amount, code, market, expected) in cases {
        let converted = book.to_base(amount, ccy(code), market, on, cny()).unwrap();
        assert_eq!(converted.to_string(), expected, "{amount} {code} {market}");
    }
    assert_eq!(book.to_base(dec!(0.00), ccy("SGD"), Market::Onshore, on, cny()), Ok(Decimal::ZERO));
    // An overflowing product is an error, not a panic.
    assert_eq!(book.to_base(Decimal::MAX, ccy("USD"), Market::Onshore, on, cny()), Err(RateError::Overflow));
    assert!(RateError::Overflow.to_string().starts_with("the converted amount overflows the decimal range"));
}

#[test]
fn conversion_never_rounds_silently() {
    let on = date("2026-11-02");
    let mut book = RateBook::new();
    book.insert(&[
        row("2026-11-02", "USD", Market::Onshore, dec!(7.1025000001)),
        row("2026-11-02", "EUR", Market::Onshore, dec!(7.7000000000)),
        row("2026-11-02", "JPY", Market::Onshore, dec!(0.0000000001)),
    ])
    .unwrap();
    // 1234567890123456789.12 × 7.1025000001 needs 31 digits: Decimal would drop some, so it is refused.
    let odd = dec!(1234567890123456789.12);
    assert_eq!(book.to_base(odd, ccy("USD"), Market::Onshore, on, cny()), Err(RateError::Overflow));
    // Without their trailing zeros these products fit, exactly.
    let big = dec!(1000000000000000000.00);
    let converted = book.to_base(big, ccy("USD"), Market::Onshore, on, cny()).unwrap();
    assert_eq!(converted.to_string(), "7102500000100000000.0000000000");
    let converted = book.to_base(big, ccy("EUR"), Market::Onshore, on, cny()).unwrap();
    assert_eq!(converted.to_string(), "7700000000000000000.0");
    // A product below the smallest decimal is not rounded to zero either.
    let tiny = Decimal::new(1, 20);
    assert_eq!(book.to_base(tiny, ccy("JPY"), Market::Onshore, on, cny()), Err(RateError::Overflow));
    // Exact small products keep every digit.
    let converted = book.to_base(dec!(0.000001), ccy("USD"), Market::Onshore, on, cny()).unwrap();
    assert_eq!(converted.to_string(), "0.0000071025000001");
}

#[test]
fn insert_is_atomic_on_conflict() {
    let mut book = november_book();
    let before = book.clone();
    let fresh = row("2026-11-30", "USD", Market::Onshore, dec!(7.1100));
    let clash = row("2026-11-02", "USD", Market::Offshore, dec!(7.1000));
    let err = book.insert(&[fresh.clone(), clash.clone()]).unwrap_err();
    assert_eq!(
        err,
        RateConflict {
            row: 1,
            currency: ccy("USD"),
            market: Market::Offshore,
            date: date("2026-11-02"),
            existing: dec!(7.0987),
            given: dec!(7.1000),
        }
    );
    let message = err.to_string();
    for part in ["USD", "offshore", "2026-11-02", "7.0987", "7.1000"] {
        assert!(message.contains(part), "{message:?} lacks {part}");
    }
    assert_eq!(book, before, "nothing of a conflicting call is added");

    // Two different rates for one key in the same call conflict too.
    let err = book.insert(&[fresh.clone(), RateRow { rate: dec!(7.2), ..fresh.clone() }]).unwrap_err();
    assert_eq!((err.row, err.existing, err.given), (1, dec!(7.1100), dec!(7.2)));
    assert_eq!(book, before);

    // The same rate again is accepted and changes nothing; the value counts, not the scale.
    let again = row("2026-11-02", "USD", Market::Offshore, dec!(7.098700));
    book.insert(&[again, fresh.clone(), fresh.clone()]).unwrap();
    assert_eq!(book.len(), before.len() + 1);
    assert_eq!(book.rate(ccy("USD"), Market::Offshore, date("2026-11-02")).unwrap().1.to_string(), "7.0987");
    assert_eq!(book.rate(ccy("USD"), Market::Onshore, date("2026-12-01")), Some((date("2026-11-30"), dec!(7.11))));

    // An empty call is a no-op.
    let snapshot = book.clone();
    book.insert(&[]).unwrap();
    assert_eq!(book, snapshot);
}

// ---------------------------------------------------------------------------
// Fuzzing
// ---------------------------------------------------------------------------

fn check_invariants(text: &str, rows: &[RateRow], errors: &[InputError]) {
    let lines = u64::try_from(text.split('\n').count() + text.matches('\r').count()).unwrap();
    for error in errors {
        assert!(error.line >= 1 && error.line <= lines.max(1), "line {} of {lines}: {error}", error.line);
    }
    for row in rows {
        assert_ne!(row.currency, cny());
        assert!(row.rate > Decimal::ZERO && row.rate.scale() <= 10, "{row:?}");
    }
    // Good rows never repeat a key and go forward per currency and market.
    for (idx, a) in rows.iter().enumerate() {
        for b in rows.iter().skip(idx + 1) {
            if (a.currency, a.market) == (b.currency, b.market) {
                assert!(a.date < b.date, "{a:?} then {b:?}");
            }
        }
    }
}

fn field_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("2026-11-02".to_string()),
        Just("2026-11-03".to_string()),
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]",
        Just("USD".to_string()),
        Just("CNY".to_string()),
        "[A-Za-z]{0,4}",
        Just("onshore".to_string()),
        Just("offshore".to_string()),
        "-?[0-9]{0,3}(\\.[0-9]{0,12})?",
        "[\",\r\n \u{feff}é]{0,3}",
        any::<String>(),
    ]
}

fn csvish_strategy() -> impl Strategy<Value = String> {
    let line = prop::collection::vec(field_strategy(), 0..6).prop_map(|fields| fields.join(","));
    (any::<bool>(), prop::collection::vec(line, 0..12), prop_oneof![Just("\n"), Just("\r\n"), Just("\r")]).prop_map(
        |(header, lines, newline)| {
            let mut text = if header { HEADER.replace('\n', newline) } else { String::new() };
            text.push_str(&lines.join(newline));
            text
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let (rows, errors) = parse_rates_csv(&text, cny());
        check_invariants(&text, &rows, &errors);
    }

    #[test]
    fn csv_like_text_never_panics(text in csvish_strategy()) {
        let (rows, errors) = parse_rates_csv(&text, cny());
        check_invariants(&text, &rows, &errors);
        let mut book = RateBook::new();
        prop_assert!(book.insert(&rows).is_ok());
        prop_assert_eq!(book.len(), rows.len());
    }

    #[test]
    fn valid_rows_round_trip(
        picks in prop::collection::btree_map(
            (0u32..60, prop::sample::select(vec!["USD", "EUR", "HKD", "SGD", "JPY"]), any::<bool>()),
            (1i64..1_000_000_000_000, 0u32..=10),
            0..40,
        )
    ) {
        let start = date("2026-10-01");
        let rows: Vec<RateRow> = picks
            .into_iter()
            .map(|((day, code, offshore), (mantissa, scale))| RateRow {
                date: start + chrono::Days::new(u64::from(day)),
                currency: ccy(code),
                market: if offshore { Market::Offshore } else { Market::Onshore },
                rate: Decimal::new(mantissa, scale),
            })
            .collect();
        let (parsed, errors) = parse_rates_csv(&to_csv(&rows), cny());
        prop_assert_eq!(errors, vec![]);
        prop_assert_eq!(&parsed, &rows);
        let mut book = RateBook::new();
        book.insert(&parsed).unwrap();
        prop_assert_eq!(book.len(), rows.len());
        let mut sorted = rows.clone();
        sorted.sort_by_key(|r| (r.currency, r.market, r.date));
        prop_assert_eq!(book.rows().collect::<Vec<_>>(), sorted);
    }
}
