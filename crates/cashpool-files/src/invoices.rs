//! The invoices CSV (netting): `id,payer,payee,currency,amount,due_date,purpose`,
//! one intercompany invoice a row, into [`Invoice`]s for [`cashpool_ledger::Ledger::net`].

use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::{amount_max, to_currency_scale, Currency, MoneyError};
use cashpool_ledger::netting::Invoice;
use rust_decimal::Decimal;

use crate::cell::{self, shown};
use crate::records::{strip_bom, width_diff, width_hint, wrong_header, CsvRecords};
use crate::{InputError, RowCheck};

/// Most invoice rows one file may hold.
pub const INVOICES_MAX: usize = 1_000_000;

/// The columns of an invoices CSV, exactly and in this order.
pub const INVOICES_CSV_COLUMNS: [&str; 7] = ["id", "payer", "payee", "currency", "amount", "due_date", "purpose"];

/// Parses the invoices CSV: the header `id,payer,payee,currency,amount,due_date,purpose`
/// (exactly those columns, in that order), then one invoice a row: an id (1
/// to 64 printable ASCII characters without spaces, commas or double quotes),
/// payer and payee entity ids (1 to 64 printable ASCII characters without
/// spaces), an active ISO 4217 currency, a strict decimal amount greater than
/// zero with at most the currency's minor units, an ISO due date and a purpose
/// (`current_account`, `pool_funding`, …). A UTF-8 byte-order mark and blank
/// lines are tolerated; at most [`INVOICES_MAX`] rows.
///
/// Returns every good row, in file order (amounts at exactly the currency's
/// minor units), and an [`InputError`] for every bad row (a row may report
/// several fields), with 1-based physical line numbers (the header is line 1).
/// Rows that parse are returned even when others are bad. Whether the ids are
/// unique and the entities exist is the netting's business
/// ([`cashpool_ledger::Ledger::net`]). Never panics, whatever the input.
pub fn parse_invoices_csv(text: &str) -> (Vec<Invoice>, Vec<InputError>) {
    parse_limited(text, INVOICES_MAX)
}

fn expected_header() -> String {
    format!("`{}`", INVOICES_CSV_COLUMNS.join(","))
}

fn parse_limited(text: &str, rows_max: usize) -> (Vec<Invoice>, Vec<InputError>) {
    let text = strip_bom(text);
    let mut invoices = Vec::new();
    let mut errors = Vec::new();
    let mut records = CsvRecords::new(text);
    let mut header_seen = false;
    let mut count = 0usize;
    while let Some((line, record)) = records.next_record(&mut errors) {
        if !header_seen {
            if record.iter().eq(INVOICES_CSV_COLUMNS) {
                header_seen = true;
                continue;
            }
            errors.push(InputError::new(line, None, wrong_header(&INVOICES_CSV_COLUMNS, &expected_header(), record)));
            return (invoices, errors);
        }
        if count >= rows_max {
            errors.push(InputError::new(
                line,
                None,
                format!(
                    "more than {rows_max} invoices in one file; split the file into cycles \
                     (this row and the rest of the file were not read)"
                ),
            ));
            break;
        }
        count += 1;
        if record.len() != INVOICES_CSV_COLUMNS.len() {
            errors.push(InputError::new(
                line,
                None,
                format!(
                    "expected {} fields as in the header {}, found {}{}{}",
                    INVOICES_CSV_COLUMNS.len(),
                    expected_header(),
                    record.len(),
                    width_diff(&INVOICES_CSV_COLUMNS, record),
                    width_hint(record)
                ),
            ));
            continue;
        }
        let mut check = RowCheck::new(line);
        if let Some(invoice) = csv_row(record, line, &mut check).filter(|_| check.errors.is_empty()) {
            invoices.push(invoice);
        }
        errors.append(&mut check.errors);
    }
    if !header_seen && errors.is_empty() {
        errors.push(InputError::new(
            1,
            None,
            format!("the file is empty; an invoices CSV starts with the header {}", expected_header()),
        ));
    }
    (invoices, errors)
}

/// Checks one data row of the right width; every field error goes to `check`.
fn csv_row(record: &csv::StringRecord, line: u64, check: &mut RowCheck) -> Option<Invoice> {
    let field = |idx: usize| record.get(idx).unwrap_or_default();
    let id = check.take("id", cell::id(field(0), &cell::INVOICE_ID));
    let payer = check.take("payer", cell::id(field(1), &cell::INVOICE_ENTITY_ID));
    let payee = check.take("payee", cell::id(field(2), &cell::INVOICE_ENTITY_ID));
    let currency = check.take("currency", cell::currency(field(3)));
    let amount = check.take("amount", check_amount(field(4), currency));
    let due_date = check.take("due_date", cell::date(field(5)));
    let purpose = check.take("purpose", check_purpose(field(6)));
    Some(Invoice {
        line,
        id: id?.to_string(),
        payer: payer?.to_string(),
        payee: payee?.to_string(),
        currency: currency?,
        amount: amount?,
        due_date: due_date?,
        purpose: purpose?,
    })
}

/// A strict decimal greater than zero; with a known currency, at most its minor units.
fn check_amount(text: &str, currency: Option<Currency>) -> Result<Decimal, String> {
    let amount = cell::decimal(text, "is empty; write the amount as a decimal such as 1000.50")?;
    if amount.is_zero() {
        return Err(format!("{} is zero; an invoice amount must be greater than zero", shown(text)));
    }
    if amount.is_sign_negative() {
        return Err(format!(
            "{} is negative; an invoice amount is what the payer owes the payee and must be greater than zero \
             (for a credit note, swap payer and payee)",
            shown(text)
        ));
    }
    match currency {
        Some(currency) => to_currency_scale(amount, currency).map_err(|err| match err {
            MoneyError::TooManyDecimals { .. } => format!(
                "{} has more decimals than {currency} allows ({}); write it in whole minor units",
                shown(text),
                currency.minor_units()
            ),
            MoneyError::Overflow => {
                format!("{} is too large; an amount may be at most {}", shown(text), amount_max())
            }
            other => format!("{}: {other}", shown(text)),
        }),
        // The currency's own error is reported; the scale cannot be checked without it.
        None => Ok(amount),
    }
}

/// A purpose by its name; an empty cell is said to be empty.
fn check_purpose(text: &str) -> Result<Purpose, String> {
    cell::purpose(text).map_err(|_| {
        let what = if text.is_empty() { "is empty".to_string() } else { format!("unknown purpose {}", shown(text)) };
        format!("{what}; expected one of: {} (only current_account invoices are netted)", cell::purpose_names())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_first_excess_row() {
        let text = "id,payer,payee,currency,amount,due_date,purpose\n\
                    I-1,A,B,USD,1.00,2026-11-02,current_account\n\n\
                    I-2,A,B,USD,1.00,2026-11-02,current_account\n\
                    I-3,A,B,USD,1.00,2026-11-02,current_account\n";
        let (rows, errors) = parse_limited(text, 2);
        assert_eq!(rows.len(), 2);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 5);
        assert!(errors[0].reason.contains("more than 2 invoices"), "{}", errors[0].reason);
    }
}
