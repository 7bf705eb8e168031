//! Bank statements as the ledger journals them: one model for every format.
//!
//! The ledger knows no bank file format. `cashpool-recon` parses MT940,
//! MT942, camt.052/053/054 and BAI2 into a [`BankStatement`] and hands it to
//! [`crate::Ledger::import_statements`], which maps it to a ledger account,
//! recognises a statement it already has, and journals it, so that the hash
//! chain and a regulator's replay cover every statement the pool received.
//!
//! Amounts are signed from the account holder's side, as a ledger posting on
//! the account is: a credit (money in) is positive, a debit negative. A
//! reversal of a credit (`RC`) is therefore negative and a reversal of a
//! debit (`RD`) positive. Amounts keep the decimals the bank wrote (a bank
//! may write `8.850` for EUR); currencies are kept as written, because a bad
//! statement is still recorded, never refused.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::journal::EntryHash;

/// The file format a statement came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementFormat {
    /// SWIFT MT940 customer statement (end of day).
    Mt940,
    /// SWIFT MT942 interim transaction report (intraday).
    Mt942,
    /// ISO 20022 camt.052 bank-to-customer account report (intraday).
    Camt052,
    /// ISO 20022 camt.053 bank-to-customer statement (end of day).
    Camt053,
    /// ISO 20022 camt.054 debit/credit notification.
    Camt054,
    /// BAI2 cash management balance report (previous day).
    Bai2,
}

impl StatementFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            StatementFormat::Mt940 => "mt940",
            StatementFormat::Mt942 => "mt942",
            StatementFormat::Camt052 => "camt052",
            StatementFormat::Camt053 => "camt053",
            StatementFormat::Camt054 => "camt054",
            StatementFormat::Bai2 => "bai2",
        }
    }

    /// End-of-day statements are reconciled line by line and balance-checked;
    /// intraday reports and notifications (MT942, camt.052, camt.054) are
    /// journaled and listed, because their movements arrive again on the
    /// day's statement.
    pub fn is_end_of_day(self) -> bool {
        matches!(self, StatementFormat::Mt940 | StatementFormat::Camt053 | StatementFormat::Bai2)
    }
}

/// A balance as the bank reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankBalance {
    /// The date the balance is struck at; `None` when the file's date is invalid or absent.
    #[serde(with = "opt_date")]
    pub date: Option<NaiveDate>,
    /// The currency code as written (normally ISO 4217).
    pub currency: String,
    /// Signed: a credit balance is positive, a debit balance (overdraft) negative.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// One movement on a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankLine {
    /// Where the line starts in the source file (1-based); not part of the content hash.
    pub source_line: u32,
    #[serde(with = "opt_date")]
    pub booking_date: Option<NaiveDate>,
    #[serde(with = "opt_date")]
    pub value_date: Option<NaiveDate>,
    /// Signed from the account holder's side: credit positive, debit negative.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// The line's currency as written (the statement's when the format has none per line).
    pub currency: String,
    /// A reversal (`RC`/`RD` in MT940, `RvslInd` true in camt).
    pub reversal: bool,
    /// ISO 20022 EndToEndId (also BAI2's customer reference when it carries one).
    pub end_to_end_id: Option<String>,
    /// SWIFT gpi UETR.
    pub uetr: Option<String>,
    /// The account owner's reference (MT940 `:61:` before `//`, at most 16 characters there).
    pub owner_reference: Option<String>,
    /// The bank's reference (MT940 after `//`, camt `AcctSvcrRef`, BAI2 bank reference).
    pub bank_reference: Option<String>,
    /// The bank transaction code as written: MT940 `NTRF`, `NCMZ`, `N033`; camt
    /// `DOMAIN/FAMILY/SUBFAMILY` or the proprietary code; BAI2 type code.
    pub type_code: String,
    /// Free text (MT940 `:86:`, camt `AddtlNtryInf`/`Ustrd`, BAI2 text).
    pub narrative: String,
}

/// One statement (or report, or notification) of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankStatement {
    pub format: StatementFormat,
    /// MT940 `:20:`, camt `Stmt/Id`, BAI2 file id and account.
    pub statement_id: String,
    /// As written: MT940 `:28C:` (`00012/001`), camt `ElctrncSeqNb` (else `LglSeqNb`).
    pub sequence: Option<String>,
    /// The bank's identifier of the account: MT940 `:25:` (without a BIC prefix),
    /// camt IBAN or `Othr/Id`, BAI2 account number.
    pub account_id: String,
    /// The account servicer's BIC when the file names it.
    pub bic: Option<String>,
    /// The statement's currency (from the opening balance, else the account, else the first line).
    pub currency: String,
    pub opening: Option<BankBalance>,
    pub closing: Option<BankBalance>,
    /// Closing available balance (MT940 `:64:`, camt `CLAV`), informational.
    pub closing_available: Option<BankBalance>,
    /// The statement's date: the closing balance's date, else the last line's booking date.
    #[serde(with = "opt_date")]
    pub date: Option<NaiveDate>,
    pub lines: Vec<BankLine>,
}

impl BankStatement {
    /// SHA-256 over the statement's canonical encoding, source line numbers
    /// left out: the same statement in another file has the same hash.
    pub fn content_hash(&self) -> EntryHash {
        let mut copy = self.clone();
        for line in &mut copy.lines {
            line.source_line = 0;
        }
        let bytes = postcard::to_stdvec(&copy).expect("encoding into a Vec cannot fail");
        EntryHash(Sha256::digest(&bytes).into())
    }

    /// The statement number and page parsed from [`BankStatement::sequence`]
    /// (`00012/001` → (12, 1); `7` → (7, 0)); `None` when it is absent or not numeric.
    pub fn sequence_number(&self) -> Option<(u64, u64)> {
        let text = self.sequence.as_deref()?.trim();
        let (number, page) = match text.split_once('/') {
            Some((number, page)) => (number, Some(page)),
            None => (text, None),
        };
        let number: u64 = number.trim().parse().ok()?;
        let page = match page {
            Some(page) => page.trim().parse().ok()?,
            None => 0,
        };
        Some((number, page))
    }
}

/// How an imported statement relates to what the store already had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// New: its account, statement id and sequence were not seen before.
    New,
    /// The same account, statement id and sequence as an earlier statement but
    /// different content: journaled (nothing lost) and reported as a break.
    Conflict,
}

/// A statement as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedStatement {
    /// The file it came from, as the operator named it (no directories).
    pub source: String,
    /// The ledger account whose `bank_id` (and `bank_bic`, where both sides
    /// have one) the statement names; `None` for an unknown account.
    pub account: Option<String>,
    /// [`BankStatement::content_hash`], checked again on replay.
    pub(crate) content_hash: EntryHash,
    pub status: ImportStatus,
    pub statement: BankStatement,
}

/// Gives every zero amount of a statement a positive sign (a negated zero
/// such as `-0.00` is the same figure), keeping the decimals the bank wrote.
pub(crate) fn unsign_zeros(statement: &mut BankStatement) {
    let amounts = statement.lines.iter_mut().map(|line| &mut line.amount).chain(
        [&mut statement.opening, &mut statement.closing, &mut statement.closing_available]
            .into_iter()
            .flat_map(|balance| balance.as_mut().map(|balance| &mut balance.amount)),
    );
    for amount in amounts {
        if amount.is_zero() {
            *amount = amount.abs();
        }
    }
}

/// A bank account identifier without spaces, upper case: `DE89 3704 0044` and
/// `de8937040044` name the same account.
pub fn normalise_bank_id(id: &str) -> String {
    id.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect()
}

/// The identifiers a statement's account may be known by: as written
/// (normalised), and without a trailing currency code when the bank appends
/// the statement's currency to the account number (`NL69INGB0123456789EUR`).
pub(crate) fn candidate_ids(account_id: &str, currency: &str) -> Vec<String> {
    let id = normalise_bank_id(account_id);
    let mut ids = vec![id.clone()];
    let currency = currency.to_ascii_uppercase();
    if currency.len() == 3 && id.len() > 3 && id.ends_with(&currency) {
        ids.push(id[..id.len() - 3].to_string());
    }
    ids
}

/// Whether a statement's BIC agrees with the account's: either side absent,
/// or the same institution, country and location (the first 8 characters; a
/// BIC8 and its `XXX` BIC11 are the same).
pub(crate) fn bic_agrees(account: Option<&str>, statement: Option<&str>) -> bool {
    match (account, statement) {
        (Some(account), Some(statement)) => {
            let head = |bic: &str| bic.trim().to_ascii_uppercase().chars().take(8).collect::<String>();
            head(account) == head(statement)
        }
        _ => true,
    }
}

/// The key that recognises a statement imported before: bank account and
/// currency (one account number may carry a statement per currency, as an FT
/// account does), statement id and sequence.
pub(crate) fn statement_key(statement: &BankStatement) -> (String, String, String) {
    (
        format!("{}/{}", normalise_bank_id(&statement.account_id), statement.currency.trim().to_ascii_uppercase()),
        statement.statement_id.trim().to_string(),
        statement.sequence.as_deref().unwrap_or("").trim().to_string(),
    )
}

/// What an import did with one statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReceipt {
    pub source: String,
    pub format: StatementFormat,
    pub statement_id: String,
    pub sequence: Option<String>,
    pub account_id: String,
    /// The ledger account it maps to; `None`: unknown account (an exception in the report).
    pub account: Option<String>,
    pub currency: String,
    pub lines: usize,
    /// What the import did with it.
    pub status: ImportOutcome,
    /// The journal entry that holds the statement (the earlier one when already imported).
    pub seq: u64,
}

/// What an import did with one statement (`new`, `conflict` or `already_imported` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportOutcome {
    /// Journaled: the first statement with its key.
    New,
    /// Journaled and reported: the same account, id and sequence as an earlier statement, other content.
    Conflict,
    /// The same content again: nothing written.
    AlreadyImported,
}

impl ImportOutcome {
    /// The name the JSON output uses (`new`, `conflict`, `already_imported`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ImportOutcome::New => "new",
            ImportOutcome::Conflict => "conflict",
            ImportOutcome::AlreadyImported => "already_imported",
        }
    }
}

impl std::fmt::Display for ImportOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The most statements one import may carry.
pub(crate) const IMPORT_STATEMENTS_MAX: usize = 100_000;
/// The most lines one statement may carry.
pub(crate) const STATEMENT_LINES_MAX: usize = 100_000;

/// Optional dates: ISO strings for people, day numbers in binary.
pub(crate) mod opt_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Wrapped(#[serde(with = "crate::journal::date_format")] NaiveDate);

    pub(crate) fn serialize<S: Serializer>(date: &Option<NaiveDate>, serializer: S) -> Result<S::Ok, S::Error> {
        date.map(Wrapped).serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(date)| date))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BankStatement {
        BankStatement {
            format: StatementFormat::Mt940,
            statement_id: "STMT-1".into(),
            sequence: Some("00012/001".into()),
            account_id: "31000088880001".into(),
            bic: Some("BKCHCNBJ300".into()),
            currency: "CNY".into(),
            opening: Some(BankBalance {
                date: NaiveDate::from_ymd_opt(2026, 11, 1),
                currency: "CNY".into(),
                amount: Decimal::new(-1000, 2),
            }),
            closing: None,
            closing_available: None,
            date: NaiveDate::from_ymd_opt(2026, 11, 2),
            lines: vec![BankLine {
                source_line: 7,
                booking_date: None,
                value_date: NaiveDate::from_ymd_opt(2026, 11, 2),
                amount: Decimal::new(8850, 3),
                currency: "CNY".into(),
                reversal: false,
                end_to_end_id: Some("E2E".into()),
                uetr: None,
                owner_reference: Some("SW261102R001U".into()),
                bank_reference: None,
                type_code: "NCMZ".into(),
                narrative: "zero balancing".into(),
            }],
        }
    }

    #[test]
    fn content_hash_ignores_source_lines_but_not_content() {
        let statement = sample();
        let mut moved = statement.clone();
        moved.lines[0].source_line = 99;
        assert_eq!(statement.content_hash(), moved.content_hash());
        let mut changed = statement.clone();
        changed.lines[0].amount = Decimal::new(8851, 3);
        assert_ne!(statement.content_hash(), changed.content_hash());
    }

    #[test]
    fn postcard_and_json_round_trip() {
        let statement = sample();
        let bytes = postcard::to_stdvec(&statement).unwrap();
        assert_eq!(postcard::from_bytes::<BankStatement>(&bytes).unwrap(), statement);
        let json = serde_json::to_string(&statement).unwrap();
        assert!(json.contains("\"amount\":\"8.850\""), "{json}");
        assert!(json.contains("\"value_date\":\"2026-11-02\""), "{json}");
        assert_eq!(serde_json::from_str::<BankStatement>(&json).unwrap(), statement);
    }

    #[test]
    fn sequence_numbers_parse() {
        let mut statement = sample();
        assert_eq!(statement.sequence_number(), Some((12, 1)));
        statement.sequence = Some("7".into());
        assert_eq!(statement.sequence_number(), Some((7, 0)));
        statement.sequence = Some("A/1".into());
        assert_eq!(statement.sequence_number(), None);
        statement.sequence = None;
        assert_eq!(statement.sequence_number(), None);
    }
}
