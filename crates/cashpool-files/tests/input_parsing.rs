//! The transaction file parsers: the contract's examples, a table of bad
//! inputs in both formats, whole-file error collection, and fuzzing.

use cashpool_files::transactions::POSTINGS_PARSE_MAX;
use cashpool_files::transactions::*;
use cashpool_ledger::model::Purpose;
use cashpool_ledger::tx::{PostingRequest, RateRequest, TransactionRequest, POSTINGS_MAX};
use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal_macros::dec;

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test date")
}

fn lines_of(errors: &[InputError]) -> Vec<u64> {
    let mut lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    lines.dedup();
    lines
}

#[test]
fn contract_csv_example_parses() {
    let batch = parse_transactions_csv(include_str!("fixtures/input/contract_example.csv"));
    assert_eq!(batch.errors, vec![]);
    let expected = TransactionRequest::transfer(
        "T-0001",
        date("2026-11-02"),
        "EXT-OFFSHORE",
        "HK-OPS",
        "USD",
        dec!(250000.00),
        Purpose::CurrentAccount,
        "INV-88412",
        "customer receipt",
    );
    assert_eq!(batch.rows, vec![ParsedRow { line: 2, request: expected }]);
    // The amount keeps the scale as written.
    assert_eq!(batch.rows[0].request.postings[1].amount.to_string(), "250000.00");
    assert_eq!(batch.rows[0].request.postings[0].amount.to_string(), "-250000.00");
}

#[test]
fn contract_jsonl_example_parses() {
    let batch = parse_transactions_jsonl(include_str!("fixtures/input/contract_example.jsonl"));
    assert_eq!(batch.errors, vec![]);
    let expected = TransactionRequest {
        id: "FX-0001".into(),
        value_date: date("2026-11-02"),
        purpose: Purpose::Fx,
        reference: "FX88".into(),
        memo: String::new(),
        postings: vec![
            PostingRequest { account: "SH-DMA".into(), currency: "USD".into(), amount: dec!(-100000.00) },
            PostingRequest { account: "SH-DMA".into(), currency: "CNY".into(), amount: dec!(710250.00) },
        ],
        rate: Some(RateRequest { base: "USD".into(), quote: "CNY".into(), rate: dec!(7.1025) }),
        term_days: None,
        lender: None,
    };
    assert_eq!(batch.rows, vec![ParsedRow { line: 1, request: expected }]);
}

#[test]
fn csv_with_foreign_debt_columns_parses() {
    let batch = parse_transactions_csv(include_str!("fixtures/input/foreign_debt.csv"));
    assert_eq!(batch.errors, vec![]);
    assert_eq!(batch.rows.len(), 2);
    let loan = &batch.rows[0];
    assert_eq!(loan.line, 2);
    assert_eq!(loan.request.purpose, Purpose::ForeignDebt);
    assert_eq!(loan.request.memo, "offshore loan, 1 year");
    assert_eq!(loan.request.term_days, Some(365));
    assert_eq!(loan.request.lender.as_deref(), Some("Bank of Example (Hong Kong)"));
    let plain = &batch.rows[1];
    assert_eq!(plain.line, 3);
    assert_eq!(plain.request.term_days, None);
    assert_eq!(plain.request.lender, None);
    assert_eq!(plain.request.reference, "");
}

#[test]
fn bom_crlf_and_blank_lines_are_tolerated() {
    let text = "\u{feff}id,value_date,from,to,currency,amount,purpose,reference,memo\r\n\r\n\
                T-1,2026-11-02,A,B,JPY,500,fee,,\r\n\r\n\r\n";
    let batch = parse_transactions_csv(text);
    assert_eq!(batch.errors, vec![]);
    assert_eq!(batch.rows.len(), 1);
    assert_eq!(batch.rows[0].line, 3);

    let jsonl = "\u{feff}\n  \n{\"id\":\"J\",\"value_date\":\"2026-11-02\",\"purpose\":\"fee\",\"postings\":[]}\r\n\n";
    let batch = parse_transactions_jsonl(jsonl);
    assert_eq!(batch.errors, vec![]);
    assert_eq!(batch.rows.len(), 1);
    assert_eq!(batch.rows[0].line, 3);
}

#[test]
fn header_only_and_empty_files() {
    let batch = parse_transactions_csv("id,value_date,from,to,currency,amount,purpose,reference,memo\n");
    assert_eq!(batch, ParsedBatch::default());
    assert_eq!(parse_transactions_jsonl(""), ParsedBatch::default());
    assert_eq!(parse_transactions_jsonl("\n\n  \n"), ParsedBatch::default());
}

macro_rules! csv {
    ($row:expr) => {
        concat!("id,value_date,from,to,currency,amount,purpose,reference,memo\n", $row, "\n")
    };
}

macro_rules! csv_fd {
    ($row:expr) => {
        concat!("id,value_date,from,to,currency,amount,purpose,reference,memo,term_days,lender\n", $row, "\n")
    };
}

macro_rules! jsonl {
    ($fields:expr) => {
        concat!(
            r#"{"id":"J-1","value_date":"2026-11-02","purpose":"fx","postings":[{"account":"A","currency":"USD","amount":"-1.00"},{"account":"B","currency":"USD","amount":"1.00"}]"#,
            $fields,
            "}"
        )
    };
}

#[derive(Debug, Clone, Copy)]
enum Format {
    Csv,
    Jsonl,
}
use Format::{Csv, Jsonl};

/// (format, input, expected line, expected field, expected reason substring)
type Case = (Format, &'static str, u64, Option<&'static str>, &'static str);

#[rustfmt::skip]
const BAD_CASES: &[Case] = &[
    // --- CSV ---
    (Csv, csv!("T-1,2026-11-02,A,B,USD,2.5e5,current_account,,"), 2, Some("amount"), "exponent"),
    (Csv, csv!("T-1,2026-11-02,A,B,USD,\"250,000.00\",current_account,,"), 2, Some("amount"), "thousands separators"),
    (Csv, csv!("T-1,2026-11-02,A,B,USD,-100.00,current_account,,"), 2, Some("amount"), "negative"),
    (Csv, csv!("T-1,2026-11-02,A,B,USD,0.00,current_account,,"), 2, Some("amount"), "greater than zero"),
    (Csv, csv!("T-1,2026-11-02,A,B,USD,+5.00,current_account,,"), 2, Some("amount"), "'+'"),
    (Csv, csv!("T-1,2026-11-02,A,B,USD,.5,current_account,,"), 2, Some("amount"), "missing digits"),
    (Csv, csv!("T-1,2026-11-02,A,B,USD,,current_account,,"), 2, Some("amount"), "is empty"),
    (Csv, csv!("T-1,2026-11-02,A,B,USD,1 000.00,current_account,,"), 2, Some("amount"), "not a decimal"),
    (Csv, csv!("T-1,2026-02-30,A,B,USD,1.00,current_account,,"), 2, Some("value_date"), "not a calendar date"),
    (Csv, csv!("T-1,02/11/2026,A,B,USD,1.00,current_account,,"), 2, Some("value_date"), "YYYY-MM-DD"),
    (Csv, csv!("T-1,2026-11-2,A,B,USD,1.00,current_account,,"), 2, Some("value_date"), "not an ISO date"),
    (Csv, csv!("T-1,20261102,A,B,USD,1.00,current_account,,"), 2, Some("value_date"), "not an ISO date"),
    (Csv, csv!("T-1,2026-11-02,A,B,USD,1.00,salary,,"), 2, Some("purpose"), "expected one of: current_account"),
    (Csv, csv!("T-1,2026-11-02,A,B,USD,1.00,current_account,"), 2, None, "expected 9 fields"),
    (Csv, csv!("T-1,2026-11-02,A,B,USD,1.00,current_account,,,"), 2, None, "found 10"),
    (Csv, "id,date,from,to,currency,amount,purpose,reference,memo\nT-1,2026-11-02,A,B,USD,1.00,fee,,\n", 1, None, "id,value_date,from,to,currency,amount,purpose,reference,memo"),
    (Csv, "T-1,2026-11-02,A,B,USD,1.00,fee,,\n", 1, None, "wrong header"),
    (Csv, "", 1, None, "empty"),
    (Csv, csv!(",2026-11-02,A,B,USD,1.00,current_account,,"), 2, Some("id"), "is empty"),
    (Csv, csv!("XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX,2026-11-02,A,B,USD,1.00,fee,,"), 2, Some("id"), "at most 64"),
    (Csv, csv!("T 1,2026-11-02,A,B,USD,1.00,current_account,,"), 2, Some("id"), "printable ASCII"),
    (Csv, csv!("T-1,2026-11-02,A,B,usd,1.00,current_account,,"), 2, Some("currency"), "upper case"),
    (Csv, csv!("T-1,2026-11-02,A,B,US,1.00,current_account,,"), 2, Some("currency"), "three upper-case letters"),
    (Csv, csv!("T-1,2026-11-02,,B,USD,1.00,current_account,,"), 2, Some("from"), "is empty"),
    (Csv, csv!("T-1,2026-11-02,A, B,USD,1.00,current_account,,"), 2, Some("to"), "spaces"),
    (Csv, csv!("T-1,2026-11-02,A,B,USD,1.00,fee,,\"two\nlines\""), 2, Some("memo"), "control character"),
    (Csv, csv!("T-1,2026-11-02,A,B,USD,1.00,fee,RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR,"), 2, Some("reference"), "at most 64"),
    (Csv, csv_fd!("T-1,2026-11-02,A,B,USD,1.00,foreign_debt,,,-30,L"), 2, Some("term_days"), "whole number"),
    (Csv, csv_fd!("T-1,2026-11-02,A,B,USD,1.00,foreign_debt,,,0,L"), 2, Some("term_days"), "positive"),
    (Csv, csv_fd!("T-1,2026-11-02,A,B,USD,1.00,foreign_debt,,,99999999999,L"), 2, Some("term_days"), "too large"),
    (Csv, csv!("\"T-1,2026-11-02,A,B,USD,1.00,fee,,\nT-2,2026-11-02,A,B,USD,1.00,fee,,"), 2, None, "close the quoted field"),
    // --- JSON Lines ---
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"fx","postings":[{"account":"A","currency":"USD","amount":-100.5}]}"#, 1, Some("postings[0].amount"), "quote it"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"fx","postings":[{"account":"A","currency":"USD","amount":"1"},{"account":"B","currency":"USD","amount":100}]}"#, 1, Some("postings[1].amount"), "JSON number"),
    (Jsonl, jsonl!(r#","rate":{"base":"USD","quote":"CNY","rate":7.1}"#), 1, Some("rate.rate"), "quote it"),
    (Jsonl, jsonl!(r#","rate":{"base":"USD","quote":"CNY","rate":"0"}"#), 1, Some("rate.rate"), "greater than zero"),
    (Jsonl, jsonl!(r#","rate":{"base":"USD","quote":"CNY"}"#), 1, Some("rate.rate"), "missing"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"fx","postings":[{"account":"A","currency":"USD","amount":"1E+3"}]}"#, 1, Some("postings[0].amount"), "exponent"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"fx","postings":[{"account":"A","currency":"USD","amount":"1,000"}]}"#, 1, Some("postings[0].amount"), "thousands separators"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"fx","postings":[{"account":"A","currency":"usd","amount":"1"}]}"#, 1, Some("postings[0].currency"), "upper case"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"fx","postings":[{"account":"A","amount":"1"}]}"#, 1, Some("postings[0].currency"), "missing"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"fx","postings":[{"account":"A","currency":"USD","amount":"1","side":"D"}]}"#, 1, Some("postings[0].side"), "unknown field `side`"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"fx","postings":[["A","USD","1"]]}"#, 1, Some("postings[0]"), "JSON object"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"fx","postings":{}}"#, 1, Some("postings"), "invalid type"),
    (Jsonl, jsonl!(r#","colour":"red""#), 1, Some("colour"), "unknown field `colour`"),
    (Jsonl, r#"{"value_date":"2026-11-02","purpose":"fx","postings":[]}"#, 1, Some("id"), "missing"),
    (Jsonl, r#"{"id":"","value_date":"2026-11-02","purpose":"fx","postings":[]}"#, 1, Some("id"), "is empty"),
    (Jsonl, r#"{"id":"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","value_date":"2026-11-02","purpose":"fx","postings":[]}"#, 1, Some("id"), "at most 64"),
    (Jsonl, r#"{"id":7,"value_date":"2026-11-02","purpose":"fx","postings":[]}"#, 1, Some("id"), "expected a string"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-02-30","purpose":"fx","postings":[]}"#, 1, Some("value_date"), "not a calendar date"),
    (Jsonl, r#"{"id":"J-1","value_date":"02/11/2026","purpose":"fx","postings":[]}"#, 1, Some("value_date"), "YYYY-MM-DD"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"FX","postings":[]}"#, 1, Some("purpose"), "expected one of"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"fx"}"#, 1, Some("postings"), "missing"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"foreign_debt","postings":[],"term_days":-90}"#, 1, Some("term_days"), "invalid value"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"foreign_debt","postings":[],"term_days":0}"#, 1, Some("term_days"), "positive"),
    (Jsonl, r#"["J-1","2026-11-02","fx"]"#, 1, None, "JSON object"),
    (Jsonl, "42", 1, None, "JSON object"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"fx","postings":["#, 1, None, "not valid JSON"),
    (Jsonl, r#"{"id":"J-1","value_date":"2026-11-02","purpose":"fx","postings":[]} trailing"#, 1, None, "not valid JSON"),
    (Jsonl, r#"{"id":"J-1","id":"J-2","value_date":"2026-11-02","purpose":"fx","postings":[]}"#, 1, None, "duplicate field"),
    (Jsonl, "id,value_date\n", 1, None, "not valid JSON"),
    (Jsonl, "\n\n{\"id\":\"J-1\"", 3, None, "not valid JSON"),
];

#[test]
fn bad_inputs_report_line_field_and_reason() {
    assert!(BAD_CASES.len() >= 20);
    let mut failures = Vec::new();
    for (idx, &(format, input, line, field, reason)) in BAD_CASES.iter().enumerate() {
        let batch = match format {
            Csv => parse_transactions_csv(input),
            Jsonl => parse_transactions_jsonl(input),
        };
        let hit =
            batch.errors.iter().any(|e| e.line == line && e.field.as_deref() == field && e.reason.contains(reason));
        if !hit || !batch.rows.is_empty() || lines_of(&batch.errors) != vec![line] {
            failures.push(format!(
                "case {idx} ({format:?} {input:?}): expected line {line}, field {field:?}, reason containing {reason:?}; \
                 got rows {:?}, errors {:#?}",
                batch.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
                batch.errors
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn csv_file_with_three_bad_rows_of_six() {
    let batch = parse_transactions_csv(include_str!("fixtures/input/three_bad_of_six.csv"));
    let good: Vec<(u64, &str)> = batch.rows.iter().map(|r| (r.line, r.request.id.as_str())).collect();
    assert_eq!(good, vec![(2, "G-1"), (4, "G-2"), (8, "G-3")]);
    assert_eq!(lines_of(&batch.errors), vec![3, 6, 7], "{:#?}", batch.errors);
    // Row 7 has two bad fields, and both are reported.
    let row7: Vec<Option<&str>> = batch.errors.iter().filter(|e| e.line == 7).map(|e| e.field.as_deref()).collect();
    assert_eq!(row7, vec![Some("amount"), Some("purpose")]);
    assert_eq!(batch.rows[2].request.memo, "memo, with comma");
}

#[test]
fn jsonl_file_with_three_bad_lines_of_six() {
    let batch = parse_transactions_jsonl(include_str!("fixtures/input/three_bad_of_six.jsonl"));
    let good: Vec<(u64, &str)> = batch.rows.iter().map(|r| (r.line, r.request.id.as_str())).collect();
    assert_eq!(good, vec![(1, "G-1"), (4, "G-2"), (7, "G-3")]);
    assert_eq!(lines_of(&batch.errors), vec![2, 5, 6], "{:#?}", batch.errors);
    let g3 = &batch.rows[2].request;
    assert_eq!(g3.term_days, Some(90));
    assert_eq!(g3.lender.as_deref(), Some("L"));
}

#[test]
fn jsonl_amounts_keep_their_sign_and_may_be_zero() {
    let batch = parse_transactions_jsonl(
        r#"{"id":"J","value_date":"2026-11-02","purpose":"other","postings":[{"account":"A","currency":"KWD","amount":"-1.250"},{"account":"B","currency":"KWD","amount":"1.250"},{"account":"C","currency":"KWD","amount":"0"}]}"#,
    );
    assert_eq!(batch.errors, vec![]);
    let amounts: Vec<String> = batch.rows[0].request.postings.iter().map(|p| p.amount.to_string()).collect();
    assert_eq!(amounts, vec!["-1.250", "1.250", "0"]);
}

#[test]
fn too_many_postings_is_an_error() {
    let posting = r#"{"account":"A","currency":"USD","amount":"1"}"#;
    let postings = vec![posting; POSTINGS_PARSE_MAX + 1].join(",");
    let line = format!(r#"{{"id":"J","value_date":"2026-11-02","purpose":"other","postings":[{postings}]}}"#);
    let batch = parse_transactions_jsonl(&line);
    assert!(batch.rows.is_empty());
    assert_eq!(batch.errors.len(), 1);
    assert_eq!(batch.errors[0].field.as_deref(), Some("postings"));
    assert!(batch.errors[0].reason.contains("at most 4096"), "{}", batch.errors[0]);

    // Above the ledger's limit but within the parser's: parsed, for the ledger to reject as `posting_limit`.
    let postings = vec![posting; POSTINGS_MAX + 1].join(",");
    let line = format!(r#"{{"id":"J","value_date":"2026-11-02","purpose":"other","postings":[{postings}]}}"#);
    assert_eq!(parse_transactions_jsonl(&line).rows.len(), 1);
}

#[test]
fn errors_display_line_field_and_reason() {
    let with_field = InputError { line: 3, field: Some("amount".into()), reason: "is zero".into() };
    assert_eq!(with_field.to_string(), "line 3, field `amount`: is zero");
    let without = InputError { line: 1, field: None, reason: "wrong header".into() };
    assert_eq!(without.to_string(), "line 1: wrong header");
    let _: &dyn std::error::Error = &without;
}

#[test]
fn long_values_are_cut_short_in_messages() {
    let huge = "9".repeat(10_000);
    let text =
        format!("id,value_date,from,to,currency,amount,purpose,reference,memo\nT,2026-11-02,A,B,USD,{huge}x,fee,,\n");
    let batch = parse_transactions_csv(&text);
    assert_eq!(batch.errors.len(), 1);
    assert!(batch.errors[0].reason.len() < 300, "{}", batch.errors[0].reason);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse_transactions_csv(&text);
        let _ = parse_transactions_jsonl(&text);
    }

    #[test]
    fn csv_like_text_never_panics(
        rows in proptest::collection::vec("[A-Za-z0-9_.,\"\r\n +-]{0,80}", 0..8),
        with_fd in any::<bool>(),
    ) {
        let header = if with_fd {
            "id,value_date,from,to,currency,amount,purpose,reference,memo,term_days,lender\n"
        } else {
            "id,value_date,from,to,currency,amount,purpose,reference,memo\n"
        };
        let text = format!("{header}{}", rows.join("\n"));
        let batch = parse_transactions_csv(&text);
        // Every reported line lies within the file.
        let terminators = text.bytes().filter(|&b| b == b'\n' || b == b'\r').count();
        let last = u64::try_from(terminators).unwrap_or(u64::MAX) + 1;
        for error in &batch.errors {
            prop_assert!(error.line >= 1 && error.line <= last, "{error}");
        }
    }

    #[test]
    fn json_like_text_never_panics(text in r#"[{}\[\]":,0-9a-z._ \n-]{0,200}"#) {
        let _ = parse_transactions_jsonl(&text);
        let prefixed = format!(r#"{{"id":"J","value_date":"2026-11-02","purpose":"fx","postings":[{text}"#);
        let _ = parse_transactions_jsonl(&prefixed);
    }

    #[test]
    fn valid_csv_rows_round_trip(
        cents in 1u64..=99_999_999_999,
        day in 1u32..=28,
        purpose in proptest::sample::select(Purpose::ALL.to_vec()),
    ) {
        let amount = format!("{}.{:02}", cents / 100, cents % 100);
        let text = format!(
            "id,value_date,from,to,currency,amount,purpose,reference,memo\nT-1,2026-11-{day:02},A,B,CNY,{amount},{},,\n",
            purpose.as_str()
        );
        let batch = parse_transactions_csv(&text);
        prop_assert_eq!(batch.errors, vec![]);
        prop_assert_eq!(batch.rows.len(), 1);
        let request = &batch.rows[0].request;
        prop_assert_eq!(request.postings[1].amount.to_string(), amount);
        prop_assert_eq!(request.purpose, purpose);
    }
}
