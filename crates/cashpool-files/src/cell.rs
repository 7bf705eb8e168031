//! The one typed cell reader: every reader of the crate reads its dates,
//! currency codes, decimals, ids, free text and purposes here, so that a
//! mistake is caught, and explained, the same way in every file.
//!
//! Each function takes the cell's text as written and returns the typed value
//! or the reason it is wrong, without the field name: the reader records the
//! reason against its column ([`crate::InputError`]). Where files word a rule
//! for their own readers ("every invoice needs an id"), the caller passes that
//! wording; the check itself, and its hints, are the same everywhere.

use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::{parse_decimal, Currency, MoneyError};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// How much of an offending value an error message echoes, in characters.
const SHOWN_CHARS_MAX: usize = 40;

/// A value quoted for an error message (as a Rust string literal), cut short
/// with `…` after 40 characters.
pub fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS_MAX) {
        Some((cut, _)) => format!("{:?}…", text.get(..cut).unwrap_or_default()),
        None => format!("{text:?}"),
    }
}

// ---------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------

/// A strict ISO date `YYYY-MM-DD` (no sign, no single-digit parts, no
/// spaces); the error says what is expected.
pub fn date(text: &str) -> Result<NaiveDate, String> {
    if text.is_empty() {
        return Err("is empty; expected an ISO date YYYY-MM-DD such as 2026-11-02".to_string());
    }
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(idx, &b)| if idx == 4 || idx == 7 { b == b'-' } else { b.is_ascii_digit() });
    let not_iso = || format!("{} is not an ISO date; write YYYY-MM-DD such as 2026-11-02", shown(text));
    if !shaped {
        return Err(not_iso());
    }
    let number = |range: std::ops::Range<usize>| text.get(range).and_then(|part| part.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return Err(not_iso());
    };
    i32::try_from(year)
        .ok()
        .and_then(|year| NaiveDate::from_ymd_opt(year, month, day))
        .ok_or_else(|| format!("{} is not a calendar date: no such day (expected YYYY-MM-DD)", shown(text)))
}

// ---------------------------------------------------------------------------
// Currencies
// ---------------------------------------------------------------------------

/// Three upper-case ASCII letters, else the reason (`examples`: the codes the
/// message offers), with the upper-case spelling when only the case is wrong.
fn code_shape(text: &str, examples: &str) -> Result<(), String> {
    if text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase()) {
        return Ok(());
    }
    let hint = if text.len() == 3 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
        format!(" (write it in upper case: {})", text.to_ascii_uppercase())
    } else {
        String::new()
    };
    Err(format!(
        "{} is not a currency code; expected three upper-case letters of ISO 4217 such as {examples}{hint}",
        shown(text)
    ))
}

/// The shape of a currency code only (three upper-case letters): transaction
/// files leave whether the code is an active ISO 4217 currency, and held by
/// the account, to the ledger, which refuses with its own reason code.
pub fn currency_code(text: &str) -> Result<(), String> {
    code_shape(text, "USD or CNY")
}

/// An active ISO 4217 currency: not empty, three upper-case letters, known.
pub fn currency(text: &str) -> Result<Currency, String> {
    if text.is_empty() {
        return Err("is empty; name the currency, such as USD".to_string());
    }
    code_shape(text, "USD")?;
    Currency::from_code(text).ok_or_else(|| format!("{} is not an active ISO 4217 currency", shown(text)))
}

// ---------------------------------------------------------------------------
// Decimals
// ---------------------------------------------------------------------------

/// A strict decimal string (`-?digits(.digits)?`, at most 28 digits), with a
/// hint for the usual mistakes: thousands separators (`,` `_` `'`, also a
/// decimal comma), exponent notation, a leading `+`, spaces. `if_empty` is the
/// reason for an empty cell ("is empty; write the rate as a decimal such as 7.1025").
pub fn decimal(text: &str, if_empty: &str) -> Result<Decimal, String> {
    if text.is_empty() {
        return Err(if_empty.to_string());
    }
    parse_decimal(text).map_err(|err| {
        let detail = match err {
            MoneyError::Invalid { reason, .. } => format!("{} is not a decimal: {reason}", shown(text)),
            other => other.to_string(),
        };
        format!("{detail}{}", decimal_hint(text))
    })
}

/// What to do about a text that is not a strict decimal, or nothing.
fn decimal_hint(text: &str) -> &'static str {
    if text.contains([',', '_', '\'']) {
        "; remove the thousands separators"
    } else if text.contains(['e', 'E']) {
        "; exponent notation is not allowed: write the digits out"
    } else if text.starts_with('+') {
        "; drop the leading '+'"
    } else if text.contains(char::is_whitespace) {
        "; remove the spaces"
    } else {
        ""
    }
}

/// A rate: a strict [`decimal`] greater than zero. `if_empty` is the reason
/// for an empty cell; `rule` ends the reason for a rate of zero or less,
/// after "`\"0\"` is not a rate" (`": a rate must be greater than zero"`).
pub fn rate(text: &str, if_empty: &str, rule: &str) -> Result<Decimal, String> {
    let rate = decimal(text, if_empty)?;
    if rate <= Decimal::ZERO {
        return Err(format!("{} is not a rate{rule}", shown(text)));
    }
    Ok(rate)
}

// ---------------------------------------------------------------------------
// Ids and text
// ---------------------------------------------------------------------------

/// How one kind of id is read, and worded in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRule {
    /// The reason for an empty cell: `"is empty; every invoice needs an id"`.
    pub if_empty: &'static str,
    /// The length rule, after "is N bytes long; ": `"an invoice id may have at most"`, then the limit.
    pub too_long: &'static str,
    /// The character rule, after "`\"A B\"` contains ' '; ".
    pub characters: &'static str,
    /// Whether commas and double quotes are refused too (besides spaces and non-ASCII).
    pub refuses_commas_and_quotes: bool,
    /// Whether leading or trailing spaces are reported as such, before any other rule.
    pub spaces_first: bool,
}

/// The id of a transaction, its idempotency key.
pub const TRANSACTION_ID: IdRule = IdRule {
    if_empty: "is empty; every transaction needs an id (its idempotency key)",
    too_long: "an id may have at most",
    characters: "an id may hold printable ASCII only, without spaces, commas or double quotes",
    refuses_commas_and_quotes: true,
    spaces_first: false,
};

/// The id of an invoice (netting).
pub const INVOICE_ID: IdRule = IdRule {
    if_empty: "is empty; every invoice needs an id",
    too_long: "an invoice id may have at most",
    characters: "an invoice id may hold printable ASCII only, without spaces, commas or double quotes",
    refuses_commas_and_quotes: true,
    spaces_first: false,
};

/// An entity id as an invoice's payer or payee.
pub const INVOICE_ENTITY_ID: IdRule = IdRule {
    if_empty: "is empty; name the entity id, such as LGT-SH",
    too_long: "an entity id may have at most",
    characters: "an entity id is printable ASCII without spaces, such as LGT-SH",
    refuses_commas_and_quotes: false,
    spaces_first: false,
};

/// An entity id as the subject of a row of figures.
pub const FIGURES_ENTITY_ID: IdRule = IdRule {
    if_empty: "is empty; name the entity id of the group definition",
    too_long: "an entity id has at most",
    characters: "an entity id is printable ASCII without spaces",
    refuses_commas_and_quotes: false,
    spaces_first: true,
};

/// An id of 1 to [`cashpool_ledger::tx::ID_LEN_MAX`] bytes of printable ASCII, by `rule`.
pub fn id<'t>(text: &'t str, rule: &IdRule) -> Result<&'t str, String> {
    use cashpool_ledger::tx::ID_LEN_MAX;
    if text.is_empty() {
        return Err(rule.if_empty.to_string());
    }
    if rule.spaces_first && text.trim() != text {
        return Err(format!("{} has leading or trailing spaces; remove them", shown(text)));
    }
    if text.len() > ID_LEN_MAX {
        return Err(format!("is {} bytes long; {} {ID_LEN_MAX}", text.len(), rule.too_long));
    }
    let refused = |c: char| !c.is_ascii_graphic() || (rule.refuses_commas_and_quotes && (c == ',' || c == '"'));
    if let Some(bad) = text.chars().find(|&c| refused(c)) {
        return Err(format!("{} contains {bad:?}; {}", shown(text), rule.characters));
    }
    Ok(text)
}

/// An account id in a transaction: not empty, no leading or trailing spaces,
/// no control character. Whether the account exists is the ledger's business.
pub fn account_id(text: &str) -> Result<&str, String> {
    if text.is_empty() {
        return Err("is empty; name the account id".to_string());
    }
    if text.trim() != text {
        return Err(format!("{} has leading or trailing spaces; remove them", shown(text)));
    }
    if text.chars().any(char::is_control) {
        return Err(format!("{} contains a control character", shown(text)));
    }
    Ok(text)
}

/// Free text (a reference, a memo, a lender): at most `max` bytes, no control characters.
pub fn text(text: &str, max: usize) -> Result<String, String> {
    if text.len() > max {
        return Err(format!("is {} bytes long; at most {max} are allowed", text.len()));
    }
    if text.chars().any(char::is_control) {
        return Err("contains a control character (a line break or tab); remove it".to_string());
    }
    Ok(text.to_string())
}

/// Optional free text: [`text`], where empty means absent.
pub fn optional_text(text: &str, max: usize) -> Result<Option<String>, String> {
    self::text(text, max).map(|text| (!text.is_empty()).then_some(text))
}

// ---------------------------------------------------------------------------
// Purposes
// ---------------------------------------------------------------------------

/// Every purpose's name, in order, comma-separated: what a message offers.
pub fn purpose_names() -> String {
    let known: Vec<&str> = Purpose::ALL.iter().map(|p| p.as_str()).collect();
    known.join(", ")
}

/// A purpose by its name (`current_account`, `pool_funding`, …).
pub fn purpose(text: &str) -> Result<Purpose, String> {
    Purpose::parse(text).ok_or_else(|| format!("unknown purpose {}; expected one of: {}", shown(text), purpose_names()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_cuts_on_a_char_boundary() {
        let long = "é".repeat(100);
        let text = shown(&long);
        assert!(text.ends_with('…'));
        assert!(text.chars().count() < 50);
    }

    #[test]
    fn every_decimal_mistake_gets_its_hint() {
        let reason = |text: &str| decimal(text, "is empty").unwrap_err();
        assert_eq!(reason(""), "is empty");
        assert!(reason("1,000.00").ends_with("; remove the thousands separators"));
        assert!(reason("1000,50").ends_with("; remove the thousands separators"));
        assert!(reason("1e3").ends_with("; exponent notation is not allowed: write the digits out"));
        assert!(reason("+5").ends_with("; drop the leading '+'"));
        assert!(reason(" 5").ends_with("; remove the spaces"));
        assert!(reason("1 000").ends_with("; remove the spaces"));
        // Any whitespace, not only the space: a tab, or the no-break space some spreadsheets group with.
        assert!(reason("1\t000").ends_with("; remove the spaces"));
        assert!(reason("1\u{a0}000").ends_with("; remove the spaces"));
        assert!(reason("1.2.3").ends_with("are allowed"), "{}", reason("1.2.3"));
        assert_eq!(decimal("-12.50", "is empty"), Ok(Decimal::new(-1250, 2)));
    }

    #[test]
    fn currencies_by_shape_or_by_the_table() {
        assert_eq!(currency_code("XYZ"), Ok(()));
        assert!(currency_code("usd").unwrap_err().ends_with("such as USD or CNY (write it in upper case: USD)"));
        assert!(currency("XYZ").unwrap_err().contains("not an active ISO 4217 currency"));
        assert_eq!(currency(""), Err("is empty; name the currency, such as USD".to_string()));
        assert!(currency("usd").unwrap_err().ends_with("such as USD (write it in upper case: USD)"));
    }

    #[test]
    fn ids_by_their_rule() {
        assert_eq!(id("T-1", &TRANSACTION_ID), Ok("T-1"));
        assert!(id("T,1", &TRANSACTION_ID).unwrap_err().contains("without spaces, commas or double quotes"));
        assert_eq!(id("E,1", &INVOICE_ENTITY_ID), Ok("E,1"));
        assert!(id(" E", &FIGURES_ENTITY_ID).unwrap_err().contains("leading or trailing spaces"));
        assert!(id(" E", &INVOICE_ENTITY_ID).unwrap_err().contains("contains ' '"));
        assert!(id(&"E".repeat(65), &FIGURES_ENTITY_ID).unwrap_err().ends_with("an entity id has at most 64"));
    }
}
