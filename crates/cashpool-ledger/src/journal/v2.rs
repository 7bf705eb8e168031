//! Format 2 of the journal (docs/FORMATS.md, "The journal (format version 2)"):
//! a fixed 50-byte header, then a binary body for transactions and a
//! canonical JSON body for every other kind.
//!
//! The JSON bodies are written from the record types below, which belong to
//! the journal and nothing else: the domain types (`AccountSpec`, `SweepRun`,
//! `GroupConfig` …) are converted to and from them, so that changing what the
//! library returns or the CLI prints never changes the bytes that are hashed.
//! Every record struct declares its fields in sorted order, which makes
//! `serde_json`'s output the canonical encoding (a test checks the order).

use std::borrow::Cow;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::wire::{self, Reader};
use super::{
    Drawdown, Entry, EntryBody, EntryHash, FormatVersion, FxRate, PostedTransaction, Posting, Repayment, Timestamp,
    TxEffects,
};
use crate::bank::{BankBalance, BankLine, BankStatement, ImportStatus, ImportedStatement, StatementFormat};
use crate::benchmarks::BenchmarkRow;
use crate::calendar::{CalendarDay, CalendarImport, DayKind};
use crate::config::{
    BenchmarkTerms, CalendarRules, DayCount, EligibilityThresholds, Entity, GroupConfig, GroupInfo, InterestRule,
    InterestTier, LimitRow, ParameterRow, PoolConfig, QuotaModel, QuotaRow, Residence, RiskFactors, Roll,
    SecondLineRule, SweepDirection, SweepMethod, SweepRule, ValueDateRule, WithholdingRow,
};
use crate::cycle::NettingRun;
use crate::interest::{Accrual, InterestRun};
use crate::limits::{LimitsChange, PoolParameters};
use crate::model::{AccountKind, AccountSpec, Classification, Purpose, Zone};
use crate::money::Currency;
use crate::netting::{CycleResult, Excluded, Exclusion, Mode, NetPosition, Settlement};
use crate::rates::{Market, RateRow};
use crate::sweep::SkipReason;
use crate::sweep::{Flow, SkippedSweep, SweepLine, SweepRun};
use crate::withholding::Withheld;

/// The length of the header before the body.
pub(crate) const HEADER_LEN: usize = 50;

/// The kind byte of each body (docs/FORMATS.md, the table of kinds).
pub fn kind_of(body: &EntryBody) -> u8 {
    match body {
        EntryBody::GroupDefined { .. } | EntryBody::GroupRecord(_) => 0,
        EntryBody::AccountOpened(_) => 1,
        EntryBody::Transaction(_) => 2,
        EntryBody::RatesImported { .. } => 3,
        EntryBody::LimitsSet(_) => 4,
        EntryBody::SweepRun(_) => 5,
        EntryBody::InterestSettled(_) => 6,
        EntryBody::NettingCycle(_) => 7,
        EntryBody::StatementImported(_) => 8,
        EntryBody::Amended(_) => 9,
        EntryBody::BenchmarksImported { .. } => 10,
        EntryBody::CalendarImported(_) => CALENDAR_IMPORTED,
    }
}

/// The kind of a `calendar_imported` entry (docs/FORMATS.md, the table of kinds).
pub(crate) const CALENDAR_IMPORTED: u8 = 11;

/// The kind number and name of each kind, as the export writes it.
pub(crate) const KIND_NAMES: [(u8, &str); 12] = [
    (0, "group_defined"),
    (1, "account_opened"),
    (2, "transaction"),
    (3, "rates_imported"),
    (4, "limits_set"),
    (5, "sweep_run"),
    (6, "interest_settled"),
    (7, "netting_cycle"),
    (8, "statement_imported"),
    (9, "amendment"),
    (10, "benchmarks_imported"),
    (CALENDAR_IMPORTED, "calendar_imported"),
];

/// The name of an entry kind (`calendar_imported` for 11).
pub fn entry_kind_name(kind: u8) -> Option<&'static str> {
    KIND_NAMES.iter().find(|(code, _)| *code == kind).map(|(_, name)| *name)
}

/// The kind of a name.
fn kind_code(name: &str) -> Option<u8> {
    KIND_NAMES.iter().find(|(_, known)| *known == name).map(|(code, _)| *code)
}

/// Appends the entry's format-2 bytes to `out`.
pub(crate) fn encode_into(entry: &Entry, out: &mut Vec<u8>) {
    out.push(2);
    out.push(kind_of(&entry.body));
    out.extend_from_slice(&entry.seq.to_le_bytes());
    out.extend_from_slice(&entry.prev_hash.0);
    out.extend_from_slice(&entry.recorded_at.unix_micros().to_le_bytes());
    match &entry.body {
        EntryBody::Transaction(tx) => encode_transaction(tx, out),
        EntryBody::StatementImported(imported) => encode_statement(imported, out),
        body => {
            let record = JsonRecord::of(body);
            serde_json::to_writer(&mut *out, &record).expect("a record always renders as JSON");
        }
    }
}

/// Decodes format-2 bytes (the caller has checked the version byte).
pub(crate) fn decode(bytes: &[u8]) -> Result<Entry, String> {
    if bytes.len() < HEADER_LEN {
        return Err(format!("{} bytes, shorter than the {HEADER_LEN}-byte header", bytes.len()));
    }
    let kind = bytes[1];
    let seq = u64::from_le_bytes(bytes[2..10].try_into().expect("8 bytes"));
    let prev_hash = EntryHash(bytes[10..42].try_into().expect("32 bytes"));
    let recorded_at = Timestamp::from_unix_micros(i64::from_le_bytes(bytes[42..50].try_into().expect("8 bytes")));
    let body_bytes = &bytes[HEADER_LEN..];
    let body = match kind {
        2 => EntryBody::Transaction(decode_transaction(body_bytes)?),
        8 => EntryBody::StatementImported(decode_statement(body_bytes)?),
        0..=7 | 9 | 10 | CALENDAR_IMPORTED => body_of_json(kind, body_bytes)?,
        other => return Err(format!("unknown kind {other}")),
    };
    Ok(Entry { format: FormatVersion::V2, seq, prev_hash, recorded_at, body })
}

// ---------------------------------------------------------------------------------------------
// The transaction body
// ---------------------------------------------------------------------------------------------

/// The journal's own numbering of purposes and classifications (docs/FORMATS.md): deliberately
/// not `Purpose::ALL`, whose order is the domain's and may change; these codes may not.
const PURPOSES: [Purpose; 10] = [
    Purpose::CurrentAccount,
    Purpose::PoolFunding,
    Purpose::LoanRepayment,
    Purpose::RealInvestment,
    Purpose::ForeignDebt,
    Purpose::OverseasLending,
    Purpose::Fx,
    Purpose::Interest,
    Purpose::Fee,
    Purpose::Other,
];

const CLASSIFICATIONS: [Classification; 6] = [
    Classification::Internal,
    Classification::Domestic,
    Classification::Offshore,
    Classification::FirstLine,
    Classification::CrossBorder,
    Classification::SecondLine,
];

fn code_of<T: PartialEq + Copy>(table: &[T], value: T) -> u8 {
    let idx = table.iter().position(|item| *item == value).expect("every variant is in its table");
    u8::try_from(idx).expect("tables are short")
}

fn encode_transaction(tx: &PostedTransaction, out: &mut Vec<u8>) {
    let effects = tx.effects.as_ref().expect("a format-2 transaction carries its effects");
    wire::put_str(out, &tx.id);
    wire::put_date(out, tx.value_date);
    out.push(code_of(&PURPOSES, tx.purpose));
    out.push(code_of(&CLASSIFICATIONS, tx.classification));
    wire::put_str(out, &tx.reference);
    wire::put_str(out, &tx.memo);
    wire::put_str(out, &tx.operator);
    wire::put_uvarint(out, tx.postings.len() as u64);
    for posting in &tx.postings {
        wire::put_str(out, &posting.account);
        wire::put_ccy(out, posting.currency);
        wire::put_amount(out, posting.amount, posting.currency);
    }
    wire::put_flag(out, tx.rate.is_some());
    if let Some(rate) = &tx.rate {
        wire::put_ccy(out, rate.base);
        wire::put_ccy(out, rate.quote);
        wire::put_dec(out, rate.rate);
    }
    assert_eq!(tx.term_days.is_some(), tx.lender.is_some(), "term_days and lender come together");
    wire::put_flag(out, tx.term_days.is_some());
    if let (Some(term_days), Some(lender)) = (tx.term_days, &tx.lender) {
        wire::put_uvarint(out, u64::from(term_days));
        wire::put_str(out, lender);
    }
    wire::put_flag(out, effects.pool_flow.is_some());
    if let Some((currency, flow)) = effects.pool_flow {
        wire::put_ccy(out, currency);
        wire::put_amount(out, flow, currency);
    }
    wire::put_flag(out, effects.drawdown.is_some());
    if let Some(loan) = &effects.drawdown {
        wire::put_str(out, &loan.entity);
        wire::put_ccy(out, loan.currency);
        wire::put_amount(out, loan.principal, loan.currency);
        wire::put_uvarint(out, u64::from(loan.term_days));
        wire::put_dec(out, loan.base_rate);
        wire::put_flag(out, loan.usd_base_rate.is_some());
        if let Some(rate) = loan.usd_base_rate {
            wire::put_dec(out, rate);
        }
    }
    wire::put_flag(out, effects.repayment.is_some());
    if let Some(repayment) = &effects.repayment {
        wire::put_str(out, &repayment.loan);
        wire::put_ccy(out, repayment.currency);
        wire::put_amount(out, repayment.amount, repayment.currency);
    }
}

fn decode_transaction(bytes: &[u8]) -> Result<PostedTransaction, String> {
    let mut r = Reader::new(bytes);
    let id = r.str("id")?.to_string();
    let value_date = r.date("value_date")?;
    let purpose_code = r.u8("purpose")?;
    let purpose = *PURPOSES.get(usize::from(purpose_code)).ok_or_else(|| format!("purpose: code {purpose_code}"))?;
    let class_code = r.u8("classification")?;
    let classification =
        *CLASSIFICATIONS.get(usize::from(class_code)).ok_or_else(|| format!("classification: code {class_code}"))?;
    let reference = r.str("reference")?.to_string();
    let memo = r.str("memo")?.to_string();
    let operator = r.str("operator")?.to_string();
    let n_postings = r.uvarint("postings")?;
    if n_postings == 0 || n_postings > crate::tx::POSTINGS_MAX as u64 {
        return Err(format!("postings: {n_postings}, expected 1 to {}", crate::tx::POSTINGS_MAX));
    }
    let mut postings = Vec::with_capacity(n_postings as usize);
    for _ in 0..n_postings {
        let account = r.str("postings.account")?.to_string();
        let currency = r.ccy("postings.currency")?;
        let amount = r.amount(currency, "postings.amount")?;
        postings.push(Posting { account, currency, amount });
    }
    let rate = if r.flag("rate")? {
        Some(FxRate { base: r.ccy("rate.base")?, quote: r.ccy("rate.quote")?, rate: r.dec("rate.rate")? })
    } else {
        None
    };
    let (term_days, lender) = if r.flag("foreign_debt")? {
        let days = u32::try_from(r.uvarint("foreign_debt.term_days")?).map_err(|_| "term_days above 2^32")?;
        (Some(days), Some(r.str("foreign_debt.lender")?.to_string()))
    } else {
        (None, None)
    };
    let pool_flow = if r.flag("pool_flow")? {
        let currency = r.ccy("pool_flow.currency")?;
        Some((currency, r.amount(currency, "pool_flow.amount")?))
    } else {
        None
    };
    let drawdown = if r.flag("drawdown")? {
        let entity = r.str("drawdown.entity")?.to_string();
        let currency = r.ccy("drawdown.currency")?;
        let principal = r.amount(currency, "drawdown.principal")?;
        let term_days = u32::try_from(r.uvarint("drawdown.term_days")?).map_err(|_| "term_days above 2^32")?;
        let base_rate = r.dec("drawdown.base_rate")?;
        let usd_base_rate =
            if r.flag("drawdown.usd_base_rate")? { Some(r.dec("drawdown.usd_base_rate")?) } else { None };
        Some(Drawdown { entity, currency, principal, term_days, base_rate, usd_base_rate })
    } else {
        None
    };
    let repayment = if r.flag("repayment")? {
        let loan = r.str("repayment.loan")?.to_string();
        let currency = r.ccy("repayment.currency")?;
        Some(Repayment { loan, currency, amount: r.amount(currency, "repayment.amount")? })
    } else {
        None
    };
    if !r.is_at_end() {
        return Err(format!("{} bytes after the last field", bytes.len() - r.pos()));
    }
    Ok(PostedTransaction {
        id,
        value_date,
        purpose,
        reference,
        memo,
        postings,
        rate,
        term_days,
        lender,
        classification,
        operator,
        effects: Some(TxEffects { pool_flow, drawdown, repayment }),
    })
}

// ---------------------------------------------------------------------------------------------
// The statement body (binary: a statement may hold tens of thousands of lines)
// ---------------------------------------------------------------------------------------------

const FORMATS: [StatementFormat; 6] = [
    StatementFormat::Mt940,
    StatementFormat::Mt942,
    StatementFormat::Camt052,
    StatementFormat::Camt053,
    StatementFormat::Camt054,
    StatementFormat::Bai2,
];

fn put_opt_str(out: &mut Vec<u8>, text: &Option<String>) {
    wire::put_flag(out, text.is_some());
    if let Some(text) = text {
        wire::put_str(out, text);
    }
}

fn put_opt_date(out: &mut Vec<u8>, date: Option<NaiveDate>) {
    wire::put_flag(out, date.is_some());
    if let Some(date) = date {
        wire::put_date(out, date);
    }
}

/// A bank's figure with the scale the bank wrote: mantissa, then scale.
fn put_bank_dec(out: &mut Vec<u8>, value: Decimal) {
    wire::put_svarint(out, value.mantissa());
    out.push(u8::try_from(value.scale()).expect("a decimal's scale is at most 28"));
}

fn put_balance(out: &mut Vec<u8>, balance: &Option<BankBalance>) {
    wire::put_flag(out, balance.is_some());
    if let Some(balance) = balance {
        put_opt_date(out, balance.date);
        wire::put_str(out, &balance.currency);
        put_bank_dec(out, balance.amount);
    }
}

fn encode_statement(imported: &ImportedStatement, out: &mut Vec<u8>) {
    let statement = &imported.statement;
    let (k0, k1, k2) = crate::bank::statement_key(statement);
    wire::put_str(out, &imported.source);
    put_opt_str(out, &imported.account);
    for part in [&k0, &k1, &k2] {
        wire::put_str(out, part);
    }
    out.extend_from_slice(&imported.content_hash.0);
    out.push(match imported.status {
        ImportStatus::New => 0,
        ImportStatus::Conflict => 1,
    });
    out.push(code_of(&FORMATS, statement.format));
    wire::put_str(out, &statement.statement_id);
    put_opt_str(out, &statement.sequence);
    wire::put_str(out, &statement.account_id);
    put_opt_str(out, &statement.bic);
    wire::put_str(out, &statement.currency);
    put_opt_date(out, statement.date);
    put_balance(out, &statement.opening);
    put_balance(out, &statement.closing);
    put_balance(out, &statement.closing_available);
    wire::put_uvarint(out, statement.lines.len() as u64);
    for line in &statement.lines {
        wire::put_uvarint(out, u64::from(line.source_line));
        put_opt_date(out, line.booking_date);
        put_opt_date(out, line.value_date);
        put_bank_dec(out, line.amount);
        wire::put_str(out, &line.currency);
        wire::put_flag(out, line.reversal);
        put_opt_str(out, &line.end_to_end_id);
        put_opt_str(out, &line.uetr);
        put_opt_str(out, &line.owner_reference);
        put_opt_str(out, &line.bank_reference);
        wire::put_str(out, &line.type_code);
        wire::put_str(out, &line.narrative);
    }
}

fn opt_str(r: &mut Reader<'_>, what: &str) -> Result<Option<String>, String> {
    Ok(if r.flag(what)? { Some(r.str(what)?.to_string()) } else { None })
}

fn opt_date(r: &mut Reader<'_>, what: &str) -> Result<Option<NaiveDate>, String> {
    Ok(if r.flag(what)? { Some(r.date(what)?) } else { None })
}

fn bank_dec(r: &mut Reader<'_>, what: &str) -> Result<Decimal, String> {
    let mantissa = r.svarint(what)?;
    let scale = u32::from(r.u8(what)?);
    if scale > 28 {
        return Err(format!("{what}: scale {scale} above 28"));
    }
    Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| format!("{what}: decimal out of range"))
}

fn balance(r: &mut Reader<'_>, what: &str) -> Result<Option<BankBalance>, String> {
    if !r.flag(what)? {
        return Ok(None);
    }
    let date = opt_date(r, what)?;
    let currency = r.str(what)?.to_string();
    Ok(Some(BankBalance { date, currency, amount: bank_dec(r, what)? }))
}

fn decode_statement(bytes: &[u8]) -> Result<ImportedStatement, String> {
    let mut r = Reader::new(bytes);
    let source = r.str("source")?.to_string();
    let account = opt_str(&mut r, "account")?;
    let key = [r.str("key")?.to_string(), r.str("key")?.to_string(), r.str("key")?.to_string()];
    let mut hash = [0u8; 32];
    for byte in &mut hash {
        *byte = r.u8("content_hash")?;
    }
    let status = match r.u8("status")? {
        0 => ImportStatus::New,
        1 => ImportStatus::Conflict,
        other => return Err(format!("status: code {other}")),
    };
    let format_code = r.u8("format")?;
    let format = *FORMATS.get(usize::from(format_code)).ok_or_else(|| format!("format: code {format_code}"))?;
    let statement_id = r.str("statement_id")?.to_string();
    let sequence = opt_str(&mut r, "sequence")?;
    let account_id = r.str("account_id")?.to_string();
    let bic = opt_str(&mut r, "bic")?;
    let currency = r.str("currency")?.to_string();
    let date = opt_date(&mut r, "date")?;
    let opening = balance(&mut r, "opening")?;
    let closing = balance(&mut r, "closing")?;
    let closing_available = balance(&mut r, "closing_available")?;
    let n_lines = r.uvarint("lines")?;
    if n_lines > crate::bank::STATEMENT_LINES_MAX as u64 {
        return Err(format!("lines: {n_lines}, above {}", crate::bank::STATEMENT_LINES_MAX));
    }
    let mut lines = Vec::with_capacity(n_lines as usize);
    for _ in 0..n_lines {
        lines.push(BankLine {
            source_line: u32::try_from(r.uvarint("lines.source_line")?).map_err(|_| "source_line above 2^32")?,
            booking_date: opt_date(&mut r, "lines.booking_date")?,
            value_date: opt_date(&mut r, "lines.value_date")?,
            amount: bank_dec(&mut r, "lines.amount")?,
            currency: r.str("lines.currency")?.to_string(),
            reversal: r.flag("lines.reversal")?,
            end_to_end_id: opt_str(&mut r, "lines.end_to_end_id")?,
            uetr: opt_str(&mut r, "lines.uetr")?,
            owner_reference: opt_str(&mut r, "lines.owner_reference")?,
            bank_reference: opt_str(&mut r, "lines.bank_reference")?,
            type_code: r.str("lines.type_code")?.to_string(),
            narrative: r.str("lines.narrative")?.to_string(),
        });
    }
    if !r.is_at_end() {
        return Err(format!("{} bytes after the last field", bytes.len() - r.pos()));
    }
    let statement = BankStatement {
        format,
        statement_id,
        sequence,
        account_id,
        bic,
        currency,
        opening,
        closing,
        closing_available,
        date,
        lines,
    };
    let (k0, k1, k2) = crate::bank::statement_key(&statement);
    if key != [k0, k1, k2] {
        return Err("key: does not match the statement's bank account, id and sequence".into());
    }
    Ok(ImportedStatement { source, account, content_hash: EntryHash(hash), status, statement })
}

// ---------------------------------------------------------------------------------------------
// JSON bodies
// ---------------------------------------------------------------------------------------------

/// An amount in minor units of its currency, written as a JSON string of an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Minor(pub(crate) i128);

impl Minor {
    pub(crate) fn of(amount: Decimal, currency: Currency) -> Minor {
        Minor(wire::minor_units(amount, currency))
    }

    pub(crate) fn to_amount(self, currency: Currency) -> Result<Decimal, String> {
        Decimal::try_from_i128_with_scale(self.0, currency.minor_units())
            .map_err(|_| format!("amount {} out of range", self.0))
    }
}

impl Serialize for Minor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Minor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Minor, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse::<i128>().map(Minor).map_err(|_| serde::de::Error::custom(format!("{text:?} is not an integer")))
    }
}

/// A normalised decimal, written as a JSON string without exponent or trailing zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dec(pub(crate) Decimal);

impl Serialize for Dec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0.normalize())
    }
}

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Dec, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse::<Decimal>().map(Dec).map_err(|_| serde::de::Error::custom(format!("{text:?} is not a decimal")))
    }
}

/// A bank's figure, with the decimals the bank wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BankDec(pub(crate) Decimal);

impl Serialize for BankDec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for BankDec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<BankDec, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse::<Decimal>().map(BankDec).map_err(|_| serde::de::Error::custom(format!("{text:?} is not a decimal")))
    }
}

/// Dates as `YYYY-MM-DD`.
mod iso_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&date.format("%Y-%m-%d"))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(serde::de::Error::custom)
    }
}

mod opt_iso_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(date: &Option<NaiveDate>, serializer: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(date) => serializer.collect_str(&date.format("%Y-%m-%d")),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
        text.map(|text| NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(serde::de::Error::custom)).transpose()
    }
}

/// Enumerations by name, both ways.
macro_rules! names {
    ($name:ident, $parse:ident, $ty:ty, $what:literal, [$($variant:path => $text:literal),* $(,)?]) => {
        fn $name(value: $ty) -> String {
            match value { $($variant => $text,)* }.to_string()
        }
        fn $parse(text: &str) -> Result<$ty, String> {
            match text {
                $($text => Ok($variant),)*
                other => Err(format!("{}: unknown value {:?}", $what, other)),
            }
        }
    };
}

names!(zone_name, parse_zone, Zone, "zone", [Zone::Onshore => "onshore", Zone::Ft => "ft", Zone::Offshore => "offshore"]);
names!(kind_name, parse_kind, AccountKind, "kind", [
    AccountKind::DomesticMaster => "domestic-master",
    AccountKind::InternationalMaster => "international-master",
    AccountKind::Settlement => "settlement",
    AccountKind::Fte => "fte",
    AccountKind::Ftn => "ftn",
    AccountKind::Ftu => "ftu",
    AccountKind::Nra => "nra",
    AccountKind::Osa => "osa",
    AccountKind::External => "external",
    AccountKind::System => "system",
]);
names!(market_name, parse_market, Market, "market", [Market::Onshore => "onshore", Market::Offshore => "offshore"]);
names!(residence_name, parse_residence, Residence, "residence", [Residence::Onshore => "onshore", Residence::Offshore => "offshore"]);
names!(direction_name, parse_direction, SweepDirection, "direction", [
    SweepDirection::Up => "up", SweepDirection::Down => "down", SweepDirection::Both => "both",
]);
names!(flow_name, parse_flow, Flow, "direction", [Flow::Up => "up", Flow::Down => "down"]);
names!(day_count_name, parse_day_count, DayCount, "day_count", [
    DayCount::Act360 => "ACT/360", DayCount::Act365F => "ACT/365F", DayCount::Thirty360 => "30/360", DayCount::ThirtyE360 => "30E/360",
]);
names!(mode_name, parse_mode, Mode, "mode", [Mode::Centre => "centre", Mode::Direct => "direct"]);
names!(format_name, parse_format, StatementFormat, "format", [
    StatementFormat::Mt940 => "mt940",
    StatementFormat::Mt942 => "mt942",
    StatementFormat::Camt052 => "camt052",
    StatementFormat::Camt053 => "camt053",
    StatementFormat::Camt054 => "camt054",
    StatementFormat::Bai2 => "bai2",
]);
names!(status_name, parse_status, ImportStatus, "status", [ImportStatus::New => "new", ImportStatus::Conflict => "conflict"]);
names!(exclusion_name, parse_exclusion, Exclusion, "reason", [
    Exclusion::CapitalItem => "capital_item",
    Exclusion::UnknownEntity => "unknown_entity",
    Exclusion::SameEntity => "same_entity",
    Exclusion::OutsideWindow => "outside_window",
    Exclusion::DuplicateInvoice => "duplicate_invoice",
    Exclusion::AlreadySettled => "already_settled",
]);

fn ccy(code: &str) -> Result<Currency, String> {
    Currency::from_code(code).ok_or_else(|| format!("{code:?} is not an ISO 4217 code of docs/currencies.csv"))
}

/// The JSON body of one kind. Fields of every struct are declared in sorted order.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub(crate) enum JsonRecord<'a> {
    Group(GroupRec),
    Account(AccountRec),
    Rates(RatesRec),
    Limits(LimitsRec),
    Sweep(SweepRec),
    Interest(InterestRec),
    Netting(NettingRec),
    Statement(StatementRec<'a>),
    Amendment(AmendmentRec),
    Benchmarks(BenchmarksRec),
    Calendar(CalendarRec),
}

/// An amendment: its effective date and the whole definition in force from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AmendmentRec {
    #[serde(with = "iso_date")]
    effective: NaiveDate,
    group: GroupRec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountRec {
    bank_bic: Option<String>,
    bank_id: Option<String>,
    currencies: Vec<String>,
    entity: String,
    id: String,
    kind: String,
    overdrafts: Vec<OverdraftRec>,
    zone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverdraftRec {
    currency: String,
    limit: Minor,
}

/// The group definition. `risk_factors` was added after records without it
/// were journaled: it is written only when the definition's factors are not
/// the published ones ([`RiskFactors::default_history`], what an absent key means).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupRec {
    accounts: Vec<AccountRec>,
    entities: Vec<EntityRec>,
    group: GroupInfoRec,
    interest: Vec<InterestRuleRec>,
    macro_prudential: Vec<ParameterRec>,
    pool: PoolRec,
    #[serde(default)]
    risk_factors: Option<Vec<RiskFactorsRec>>,
    sweeps: Vec<SweepRuleRec>,
}

impl Serialize for GroupRec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let keep = keeps(&self.risk_factors, &serializer);
        let mut out = serializer.serialize_struct("GroupRec", 7 + usize::from(keep))?;
        out.serialize_field("accounts", &self.accounts)?;
        out.serialize_field("entities", &self.entities)?;
        out.serialize_field("group", &self.group)?;
        out.serialize_field("interest", &self.interest)?;
        out.serialize_field("macro_prudential", &self.macro_prudential)?;
        out.serialize_field("pool", &self.pool)?;
        serialize_since(&mut out, keep, "risk_factors", &self.risk_factors)?;
        out.serialize_field("sweeps", &self.sweeps)?;
        out.end()
    }
}

/// One `[[risk_factors]]` row.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskFactorsRec {
    category: Dec,
    #[serde(with = "iso_date")]
    effective: NaiveDate,
    fx: Dec,
    leverage: Dec,
    long_term: Dec,
    short_term: Dec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupInfoRec {
    base_currency: String,
    id: String,
    name: String,
}

/// The pool. Its keys added after records without them were journaled are
/// absent from the JSON when they hold the value an absent key means
/// ([`serialize_since`]): `quota_model` is written only as `"separate"`
/// (absent: `net_position`, the rules of every definition journaled before the
/// key existed), `second_line_between_entities` only as `"same_name"`
/// (absent: `cross_border`).
///
/// The business-day keys are absent likewise: `calendars` (currency → its
/// calendars) and `account_calendars` (account → its market's calendars) when
/// empty, `non_business_value_dates` unless `"refuse"` (absent: `warn`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolRec {
    #[serde(default)]
    account_calendars: Option<std::collections::BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    calendars: Option<std::collections::BTreeMap<String, Vec<String>>>,
    domestic_master: String,
    eligibility: EligibilityRec,
    host: String,
    id: String,
    international_master: String,
    limits: Vec<PoolRowRec>,
    netting_currency: String,
    #[serde(default)]
    non_business_value_dates: Option<String>,
    #[serde(default)]
    quota_model: Option<String>,
    #[serde(default)]
    second_line_between_entities: Option<String>,
}

impl Serialize for PoolRec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let keep_accounts = keeps(&self.account_calendars, &serializer);
        let keep_calendars = keeps(&self.calendars, &serializer);
        let keep_value_dates = keeps(&self.non_business_value_dates, &serializer);
        let keep_model = keeps(&self.quota_model, &serializer);
        let keep_line = keeps(&self.second_line_between_entities, &serializer);
        let added = [keep_accounts, keep_calendars, keep_value_dates, keep_model, keep_line];
        let mut out = serializer.serialize_struct("PoolRec", 7 + added.iter().filter(|keep| **keep).count())?;
        serialize_since(&mut out, keep_accounts, "account_calendars", &self.account_calendars)?;
        serialize_since(&mut out, keep_calendars, "calendars", &self.calendars)?;
        out.serialize_field("domestic_master", &self.domestic_master)?;
        out.serialize_field("eligibility", &self.eligibility)?;
        out.serialize_field("host", &self.host)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("international_master", &self.international_master)?;
        out.serialize_field("limits", &self.limits)?;
        out.serialize_field("netting_currency", &self.netting_currency)?;
        serialize_since(&mut out, keep_value_dates, "non_business_value_dates", &self.non_business_value_dates)?;
        serialize_since(&mut out, keep_model, "quota_model", &self.quota_model)?;
        serialize_since(&mut out, keep_line, "second_line_between_entities", &self.second_line_between_entities)?;
        out.end()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EligibilityRec {
    members_min: u32,
    offshore_revenue_min: Minor,
    onshore_cross_border_min: Minor,
    onshore_revenue_min: Minor,
    violation_free_years: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PoolRowRec {
    #[serde(with = "iso_date")]
    effective: NaiveDate,
    inflow_leverage: Dec,
    inflow_parameter: Dec,
    outflow_coefficient: Dec,
    owners_equity: Dec,
}

/// An entity. `withholding` is absent from the JSON when the entity has no
/// `[[entity.withholding]]` rows, as in every record written before they
/// existed, so those records decode and encode again to the same bytes
/// ([`serialize_since`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntityRec {
    facilitation_quota: Vec<QuotaRec>,
    id: String,
    name: String,
    net_assets: Option<Minor>,
    residence: String,
    #[serde(default)]
    withholding: Option<Vec<WithholdingRowRec>>,
    withholding_tax_rate: Option<Dec>,
}

impl Serialize for EntityRec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let keep = keeps(&self.withholding, &serializer);
        let mut out = serializer.serialize_struct("EntityRec", 6 + usize::from(keep))?;
        out.serialize_field("facilitation_quota", &self.facilitation_quota)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("name", &self.name)?;
        out.serialize_field("net_assets", &self.net_assets)?;
        out.serialize_field("residence", &self.residence)?;
        serialize_since(&mut out, keep, "withholding", &self.withholding)?;
        out.serialize_field("withholding_tax_rate", &self.withholding_tax_rate)?;
        out.end()
    }
}

/// Whether an optional key added to a record after records without it were
/// journaled is written: in the JSON (human-readable) only when it has a
/// value, so that an older record encodes to its own bytes again; always in
/// the state snapshot's postcard, which reads every field in order.
fn keeps<T, S: serde::Serializer>(value: &Option<T>, serializer: &S) -> bool {
    value.is_some() || !serializer.is_human_readable()
}

/// Writes the added key `key` (see [`keeps`]) or skips it.
fn serialize_since<M: serde::ser::SerializeStruct, T: Serialize>(
    out: &mut M,
    keep: bool,
    key: &'static str,
    value: &Option<T>,
) -> Result<(), M::Error> {
    if keep {
        out.serialize_field(key, value)
    } else {
        out.skip_field(key)
    }
}

/// One `[[entity.withholding]]` row; a rate the row leaves to the national rules is `null`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WithholdingRowRec {
    education_surcharge_rate: Option<Dec>,
    #[serde(with = "iso_date")]
    effective: NaiveDate,
    income_tax_rate: Option<Dec>,
    local_education_surcharge_rate: Option<Dec>,
    urban_maintenance_rate: Option<Dec>,
    vat_rate: Option<Dec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaRec {
    #[serde(with = "iso_date")]
    effective: NaiveDate,
    usd_amount: Minor,
}

/// A sweep rule. `roll` is absent from the JSON unless the rule rolls other
/// than `following` (the default, and what a rule meant before calendars
/// existed: without calendars every day is a business day).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepRuleRec {
    account: String,
    currency: String,
    direction: String,
    into: String,
    max_transfer: Option<Minor>,
    method: MethodRec,
    min_transfer: Option<Minor>,
    partial_allowed: bool,
    priority: u32,
    #[serde(default)]
    roll: Option<String>,
    rounding: Option<Minor>,
}

impl Serialize for SweepRuleRec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let keep = keeps(&self.roll, &serializer);
        let mut out = serializer.serialize_struct("SweepRuleRec", 10 + usize::from(keep))?;
        out.serialize_field("account", &self.account)?;
        out.serialize_field("currency", &self.currency)?;
        out.serialize_field("direction", &self.direction)?;
        out.serialize_field("into", &self.into)?;
        out.serialize_field("max_transfer", &self.max_transfer)?;
        out.serialize_field("method", &self.method)?;
        out.serialize_field("min_transfer", &self.min_transfer)?;
        out.serialize_field("partial_allowed", &self.partial_allowed)?;
        out.serialize_field("priority", &self.priority)?;
        serialize_since(&mut out, keep, "roll", &self.roll)?;
        out.serialize_field("rounding", &self.rounding)?;
        out.end()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MethodRec {
    kind: String,
    max: Option<Minor>,
    min: Option<Minor>,
    target: Option<Minor>,
    threshold: Option<Minor>,
}

/// An `[[interest]]` row. Its keys added after rows without them were
/// journaled are absent from the JSON when the row does not use them
/// ([`serialize_since`]): `benchmark` (absent: a fixed row; present, the
/// rates are margins over the fixing), `effective` (absent: from the
/// beginning) and `entity` (absent: the pool's terms), so that every older
/// definition encodes to its own bytes and means what it always meant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct InterestRuleRec {
    #[serde(default)]
    benchmark: Option<BenchmarkRec>,
    credit_rate: Dec,
    currency: String,
    day_count: String,
    debit_rate: Dec,
    #[serde(default, with = "opt_iso_date")]
    effective: Option<NaiveDate>,
    #[serde(default)]
    entity: Option<String>,
    tiers: Vec<TierRec>,
}

impl Serialize for InterestRuleRec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let keep_benchmark = keeps(&self.benchmark, &serializer);
        let keep_effective = keeps(&self.effective, &serializer);
        let keep_entity = keeps(&self.entity, &serializer);
        let added = [keep_benchmark, keep_effective, keep_entity].into_iter().filter(|keep| *keep).count();
        let mut out = serializer.serialize_struct("InterestRuleRec", 5 + added)?;
        serialize_since(&mut out, keep_benchmark, "benchmark", &self.benchmark)?;
        out.serialize_field("credit_rate", &self.credit_rate)?;
        out.serialize_field("currency", &self.currency)?;
        out.serialize_field("day_count", &self.day_count)?;
        out.serialize_field("debit_rate", &self.debit_rate)?;
        let effective = self.effective.map(|date| date.format("%Y-%m-%d").to_string());
        serialize_since(&mut out, keep_effective, "effective", &effective)?;
        serialize_since(&mut out, keep_entity, "entity", &self.entity)?;
        out.serialize_field("tiers", &self.tiers)?;
        out.end()
    }
}

/// How a benchmark row prices (every key present; a floor or cap it does not set is `null`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BenchmarkRec {
    benchmark_floor: Option<Dec>,
    credit_cap: Option<Dec>,
    credit_floor: Option<Dec>,
    debit_cap: Option<Dec>,
    debit_floor: Option<Dec>,
    lookback_days: u32,
    series: String,
    stale_after_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierRec {
    credit_rate: Dec,
    debit_rate: Dec,
    from: Minor,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterRec {
    #[serde(with = "iso_date")]
    effective: NaiveDate,
    parameter: Dec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RatesRec {
    rows: Vec<RateRec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateRec {
    currency: String,
    #[serde(with = "iso_date")]
    date: NaiveDate,
    market: String,
    rate: Dec,
}

/// A `benchmarks_imported` body: fixings, percent per annum.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BenchmarksRec {
    rows: Vec<FixingRec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixingRec {
    #[serde(with = "iso_date")]
    date: NaiveDate,
    rate_percent: Dec,
    series: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsRec {
    #[serde(with = "iso_date")]
    effective: NaiveDate,
    macro_prudential: Option<Dec>,
    pool: Option<PoolRowRec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SweepRec {
    #[serde(with = "iso_date")]
    date: NaiveDate,
    skipped: Vec<SkippedRec>,
    sweeps: Vec<SweepLineRec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepLineRec {
    account: String,
    amount: Minor,
    capped: bool,
    currency: String,
    direction: String,
    into: String,
    reference: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SkippedRec {
    account: String,
    capped: bool,
    currency: String,
    direction: String,
    reason: String,
    wanted: Minor,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InterestRec {
    accruals: Vec<AccrualRec>,
    carry: Vec<CarryRec>,
    #[serde(with = "iso_date")]
    from: NaiveDate,
    rounding: Vec<RoundingRec>,
    #[serde(with = "iso_date")]
    to: NaiveDate,
}

/// An accrual. `taxes` is the breakdown of `withholding_tax`, present when it
/// holds VAT or a surcharge; absent, the whole `withholding_tax` is income tax
/// (as in every record written before the VAT was withheld, which decode and
/// encode again to the same bytes: [`serialize_since`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccrualRec {
    currency: String,
    entity: String,
    interest: Minor,
    net: Minor,
    residue: Dec,
    #[serde(default)]
    taxes: Option<TaxesRec>,
    withholding_tax: Minor,
}

impl Serialize for AccrualRec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let keep = keeps(&self.taxes, &serializer);
        let mut out = serializer.serialize_struct("AccrualRec", 6 + usize::from(keep))?;
        out.serialize_field("currency", &self.currency)?;
        out.serialize_field("entity", &self.entity)?;
        out.serialize_field("interest", &self.interest)?;
        out.serialize_field("net", &self.net)?;
        out.serialize_field("residue", &self.residue)?;
        serialize_since(&mut out, keep, "taxes", &self.taxes)?;
        out.serialize_field("withholding_tax", &self.withholding_tax)?;
        out.end()
    }
}

/// The taxes withheld on one accrual, in minor units of its currency.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxesRec {
    education_surcharge: Minor,
    income_tax: Minor,
    local_education_surcharge: Minor,
    urban_maintenance_tax: Minor,
    vat: Minor,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CarryRec {
    carry: Dec,
    currency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoundingRec {
    amount: Minor,
    currency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NettingRec {
    currency: String,
    cycle: String,
    #[serde(with = "iso_date")]
    date: NaiveDate,
    excluded: Vec<ExcludedRec>,
    gross: Minor,
    invoices: Vec<String>,
    invoices_netted: u64,
    mode: String,
    positions: Vec<NetRec>,
    rates: Vec<FrozenRateRec>,
    settlements: Vec<SettlementRec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExcludedRec {
    invoice: String,
    reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetRec {
    entity: String,
    net: Minor,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrozenRateRec {
    currency: String,
    rate: Dec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettlementRec {
    amount: Minor,
    from: String,
    to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatementRec<'a> {
    #[serde(borrow)]
    account: Option<Cow<'a, str>>,
    #[serde(borrow)]
    content_hash: Cow<'a, str>,
    key: [Cow<'a, str>; 3],
    #[serde(borrow)]
    source: Cow<'a, str>,
    statement: BankStatementRec<'a>,
    #[serde(borrow)]
    status: Cow<'a, str>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BankStatementRec<'a> {
    #[serde(borrow)]
    account_id: Cow<'a, str>,
    #[serde(borrow)]
    bic: Option<Cow<'a, str>>,
    closing: Option<BankBalanceRec<'a>>,
    closing_available: Option<BankBalanceRec<'a>>,
    #[serde(borrow)]
    currency: Cow<'a, str>,
    #[serde(with = "opt_iso_date")]
    date: Option<NaiveDate>,
    #[serde(borrow)]
    format: Cow<'a, str>,
    lines: Vec<BankLineRec<'a>>,
    opening: Option<BankBalanceRec<'a>>,
    #[serde(borrow)]
    sequence: Option<Cow<'a, str>>,
    #[serde(borrow)]
    statement_id: Cow<'a, str>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BankBalanceRec<'a> {
    amount: BankDec,
    #[serde(borrow)]
    currency: Cow<'a, str>,
    #[serde(with = "opt_iso_date")]
    date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BankLineRec<'a> {
    amount: BankDec,
    #[serde(borrow)]
    bank_reference: Option<Cow<'a, str>>,
    #[serde(with = "opt_iso_date")]
    booking_date: Option<NaiveDate>,
    #[serde(borrow)]
    currency: Cow<'a, str>,
    #[serde(borrow)]
    end_to_end_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    narrative: Cow<'a, str>,
    #[serde(borrow)]
    owner_reference: Option<Cow<'a, str>>,
    reversal: bool,
    source_line: u32,
    #[serde(borrow)]
    type_code: Cow<'a, str>,
    #[serde(borrow)]
    uetr: Option<Cow<'a, str>>,
    #[serde(with = "opt_iso_date")]
    value_date: Option<NaiveDate>,
}

/// A `calendar_imported` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CalendarRec {
    correction: bool,
    days: Vec<CalendarDayRec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarDayRec {
    calendar: String,
    #[serde(with = "iso_date")]
    date: NaiveDate,
    kind: String,
    name: String,
}

// --- domain → record -------------------------------------------------------------------------

impl JsonRecord<'_> {
    fn of(body: &EntryBody) -> JsonRecord<'_> {
        match body {
            EntryBody::GroupRecord(config) => JsonRecord::Group(group_rec(config)),
            EntryBody::GroupDefined { .. } => unreachable!("a format-2 entry holds the validated definition"),
            EntryBody::AccountOpened(spec) => JsonRecord::Account(account_rec(spec)),
            EntryBody::Transaction(_) => unreachable!("a transaction has a binary body"),
            EntryBody::RatesImported { rows } => JsonRecord::Rates(rates_rec(rows)),
            EntryBody::LimitsSet(change) => JsonRecord::Limits(LimitsRec {
                effective: change.effective,
                macro_prudential: change.macro_prudential.map(Dec),
                pool: change.pool.as_ref().map(pool_row_rec),
            }),
            EntryBody::SweepRun(run) => JsonRecord::Sweep(sweep_rec(run)),
            EntryBody::InterestSettled(run) => JsonRecord::Interest(interest_rec(run)),
            EntryBody::NettingCycle(run) => JsonRecord::Netting(netting_rec(run)),
            // Binary in the entry; this JSON is its export form.
            EntryBody::StatementImported(imported) => JsonRecord::Statement(statement_rec(imported)),
            EntryBody::Amended(amendment) => JsonRecord::Amendment(AmendmentRec {
                effective: amendment.effective,
                group: group_rec(&amendment.config),
            }),
            EntryBody::BenchmarksImported { rows } => JsonRecord::Benchmarks(benchmarks_rec(rows)),
            EntryBody::CalendarImported(import) => JsonRecord::Calendar(calendar_rec(import)),
        }
    }
}

/// The record of a calendar import (a `calendar_imported` body).
pub(crate) fn calendar_rec(import: &CalendarImport) -> CalendarRec {
    CalendarRec {
        correction: import.correction,
        days: import
            .days
            .iter()
            .map(|day| CalendarDayRec {
                calendar: day.calendar.clone(),
                date: day.date,
                kind: day.kind.as_str().into(),
                name: day.name.clone(),
            })
            .collect(),
    }
}

/// The calendar import of a record.
pub(crate) fn calendar_of(rec: CalendarRec) -> Result<CalendarImport, String> {
    let days = rec
        .days
        .into_iter()
        .map(|day| {
            let kind = DayKind::parse(&day.kind).ok_or_else(|| format!("days.kind: unknown value {:?}", day.kind))?;
            Ok(CalendarDay { calendar: day.calendar, date: day.date, kind, name: day.name })
        })
        .collect::<Result<_, String>>()?;
    Ok(CalendarImport { correction: rec.correction, days })
}

pub(crate) fn account_rec(spec: &AccountSpec) -> AccountRec {
    AccountRec {
        bank_bic: spec.bank_bic.clone(),
        bank_id: spec.bank_id.clone(),
        currencies: spec.currencies.iter().map(|ccy| ccy.code().to_string()).collect(),
        entity: spec.entity.clone(),
        id: spec.id.clone(),
        kind: kind_name(spec.kind),
        overdrafts: spec
            .overdrafts
            .iter()
            .map(|(currency, limit)| OverdraftRec {
                currency: currency.code().into(),
                limit: Minor::of(*limit, *currency),
            })
            .collect(),
        zone: spec.zone.map(zone_name),
    }
}

pub(crate) fn pool_row_rec(row: &PoolParameters) -> PoolRowRec {
    PoolRowRec {
        effective: row.effective,
        inflow_leverage: Dec(row.inflow_leverage),
        inflow_parameter: Dec(row.inflow_parameter),
        outflow_coefficient: Dec(row.outflow_coefficient),
        owners_equity: Dec(row.owners_equity),
    }
}

/// The record of rate rows (a `rates_imported` body).
pub(crate) fn rates_rec(rows: &[RateRow]) -> RatesRec {
    RatesRec {
        rows: rows
            .iter()
            .map(|row| RateRec {
                currency: row.currency.code().into(),
                date: row.date,
                market: market_name(row.market),
                rate: Dec(row.rate),
            })
            .collect(),
    }
}

/// The record of benchmark fixings (a `benchmarks_imported` body).
pub(crate) fn benchmarks_rec(rows: &[BenchmarkRow]) -> BenchmarksRec {
    BenchmarksRec {
        rows: rows
            .iter()
            .map(|row| FixingRec { date: row.date, rate_percent: Dec(row.rate_percent), series: row.series.clone() })
            .collect(),
    }
}

/// The fixings of a record.
pub(crate) fn benchmarks_of(rec: BenchmarksRec) -> Vec<BenchmarkRow> {
    rec.rows
        .into_iter()
        .map(|row| BenchmarkRow { date: row.date, series: row.series, rate_percent: row.rate_percent.0 })
        .collect()
}

pub(crate) fn group_rec(config: &GroupConfig) -> GroupRec {
    let base = config.group.base_currency;
    let usd = Currency::from_code("USD").expect("USD is an ISO currency");
    let opt = |amount: Option<Decimal>, ccy: Currency| amount.map(|amount| Minor::of(amount, ccy));
    GroupRec {
        accounts: config.accounts.iter().map(account_rec).collect(),
        entities: config
            .entities
            .iter()
            .map(|entity| EntityRec {
                facilitation_quota: entity
                    .facilitation_quota
                    .iter()
                    .map(|row| QuotaRec { effective: row.effective, usd_amount: Minor::of(row.usd_amount, usd) })
                    .collect(),
                id: entity.id.clone(),
                name: entity.name.clone(),
                net_assets: opt(entity.net_assets, base),
                residence: residence_name(entity.residence),
                withholding: (!entity.withholding.is_empty()).then(|| {
                    entity
                        .withholding
                        .iter()
                        .map(|row| WithholdingRowRec {
                            education_surcharge_rate: row.education_surcharge_rate.map(Dec),
                            effective: row.effective,
                            income_tax_rate: row.income_tax_rate.map(Dec),
                            local_education_surcharge_rate: row.local_education_surcharge_rate.map(Dec),
                            urban_maintenance_rate: row.urban_maintenance_rate.map(Dec),
                            vat_rate: row.vat_rate.map(Dec),
                        })
                        .collect()
                }),
                withholding_tax_rate: entity.withholding_tax_rate.map(Dec),
            })
            .collect(),
        group: GroupInfoRec {
            base_currency: base.code().into(),
            id: config.group.id.clone(),
            name: config.group.name.clone(),
        },
        interest: config
            .interest
            .iter()
            .map(|rule| InterestRuleRec {
                benchmark: rule.benchmark.as_ref().map(|terms| BenchmarkRec {
                    benchmark_floor: terms.benchmark_floor.map(Dec),
                    credit_cap: terms.credit_cap.map(Dec),
                    credit_floor: terms.credit_floor.map(Dec),
                    debit_cap: terms.debit_cap.map(Dec),
                    debit_floor: terms.debit_floor.map(Dec),
                    lookback_days: terms.lookback_days,
                    series: terms.series.clone(),
                    stale_after_days: terms.stale_after_days,
                }),
                credit_rate: Dec(rule.credit_rate),
                currency: rule.currency.code().into(),
                day_count: day_count_name(rule.day_count),
                debit_rate: Dec(rule.debit_rate),
                effective: rule.effective,
                entity: rule.entity.clone(),
                tiers: rule
                    .tiers
                    .iter()
                    .map(|tier| TierRec {
                        credit_rate: Dec(tier.credit_rate),
                        debit_rate: Dec(tier.debit_rate),
                        from: Minor::of(tier.from, rule.currency),
                    })
                    .collect(),
            })
            .collect(),
        macro_prudential: config
            .macro_prudential
            .iter()
            .map(|row| ParameterRec { effective: row.effective, parameter: Dec(row.parameter) })
            .collect(),
        risk_factors: (config.risk_factors != RiskFactors::default_history()).then(|| {
            config
                .risk_factors
                .iter()
                .map(|row| RiskFactorsRec {
                    category: Dec(row.category),
                    effective: row.effective,
                    fx: Dec(row.fx),
                    leverage: Dec(row.leverage),
                    long_term: Dec(row.long_term),
                    short_term: Dec(row.short_term),
                })
                .collect()
        }),
        pool: PoolRec {
            domestic_master: config.pool.domestic_master.clone(),
            eligibility: EligibilityRec {
                members_min: config.pool.eligibility.members_min,
                offshore_revenue_min: Minor::of(config.pool.eligibility.offshore_revenue_min, base),
                onshore_cross_border_min: Minor::of(config.pool.eligibility.onshore_cross_border_min, base),
                onshore_revenue_min: Minor::of(config.pool.eligibility.onshore_revenue_min, base),
                violation_free_years: config.pool.eligibility.violation_free_years,
            },
            host: config.pool.host.clone(),
            id: config.pool.id.clone(),
            international_master: config.pool.international_master.clone(),
            limits: config
                .pool
                .limits
                .iter()
                .map(|row| PoolRowRec {
                    effective: row.effective,
                    inflow_leverage: Dec(row.inflow_leverage),
                    inflow_parameter: Dec(row.inflow_parameter),
                    outflow_coefficient: Dec(row.outflow_coefficient),
                    owners_equity: Dec(row.owners_equity),
                })
                .collect(),
            netting_currency: config.pool.netting_currency.code().into(),
            quota_model: match config.pool.quota_model {
                QuotaModel::NetPosition => None,
                model => Some(model.as_str().to_string()),
            },
            second_line_between_entities: match config.pool.second_line_between_entities {
                SecondLineRule::CrossBorder => None,
                rule => Some(rule.as_str().to_string()),
            },
            account_calendars: (!config.pool.calendars.accounts.is_empty())
                .then(|| config.pool.calendars.accounts.clone()),
            calendars: (!config.pool.calendars.currencies.is_empty()).then(|| {
                config
                    .pool
                    .calendars
                    .currencies
                    .iter()
                    .map(|(ccy, ids)| (ccy.code().to_string(), ids.clone()))
                    .collect()
            }),
            non_business_value_dates: match config.pool.calendars.value_dates {
                ValueDateRule::Warn => None,
                rule => Some(rule.as_str().to_string()),
            },
        },
        sweeps: config
            .sweeps
            .iter()
            .map(|rule| {
                let ccy = rule.currency;
                let mut method =
                    MethodRec { kind: rule.method.name().into(), max: None, min: None, target: None, threshold: None };
                match &rule.method {
                    SweepMethod::Zero => {}
                    SweepMethod::Target { target } => method.target = Some(Minor::of(*target, ccy)),
                    SweepMethod::Threshold { threshold } => method.threshold = Some(Minor::of(*threshold, ccy)),
                    SweepMethod::Range { min, max } => {
                        method.min = Some(Minor::of(*min, ccy));
                        method.max = Some(Minor::of(*max, ccy));
                    }
                }
                SweepRuleRec {
                    account: rule.account.clone(),
                    currency: ccy.code().into(),
                    direction: direction_name(rule.direction),
                    into: rule.into.clone(),
                    max_transfer: opt(rule.max_transfer, ccy),
                    method,
                    min_transfer: opt(rule.min_transfer, ccy),
                    partial_allowed: rule.partial_allowed,
                    priority: rule.priority,
                    roll: match rule.roll {
                        Roll::Following => None,
                        roll => Some(roll.as_str().to_string()),
                    },
                    rounding: opt(rule.rounding, ccy),
                }
            })
            .collect(),
    }
}

pub(crate) fn sweep_rec(run: &SweepRun) -> SweepRec {
    SweepRec {
        date: run.date,
        skipped: run
            .skipped
            .iter()
            .map(|skip| SkippedRec {
                account: skip.account.clone(),
                capped: skip.capped,
                currency: skip.currency.code().into(),
                direction: flow_name(skip.direction),
                reason: skip.reason.code().into(),
                wanted: Minor::of(skip.wanted, skip.currency),
            })
            .collect(),
        sweeps: run
            .sweeps
            .iter()
            .map(|line| SweepLineRec {
                account: line.account.clone(),
                amount: Minor::of(line.amount, line.currency),
                capped: line.capped,
                currency: line.currency.code().into(),
                direction: flow_name(line.direction),
                into: line.into.clone(),
                reference: line.reference.clone(),
            })
            .collect(),
    }
}

pub(crate) fn interest_rec(run: &InterestRun) -> InterestRec {
    InterestRec {
        accruals: run
            .accruals
            .iter()
            .map(|accrual| {
                let minor = |amount: Decimal| Minor::of(amount, accrual.currency);
                let taxes = &accrual.taxes;
                assert_eq!(taxes.total(), accrual.withholding_tax, "{accrual:?}");
                AccrualRec {
                    currency: accrual.currency.code().into(),
                    entity: accrual.entity.clone(),
                    interest: minor(accrual.interest),
                    net: minor(accrual.net),
                    residue: Dec(accrual.residue),
                    // Without VAT or a surcharge the breakdown says nothing `withholding_tax` does not.
                    taxes: taxes.has_indirect_taxes().then(|| TaxesRec {
                        education_surcharge: minor(taxes.education_surcharge),
                        income_tax: minor(taxes.income_tax),
                        local_education_surcharge: minor(taxes.local_education_surcharge),
                        urban_maintenance_tax: minor(taxes.urban_maintenance_tax),
                        vat: minor(taxes.vat),
                    }),
                    withholding_tax: minor(accrual.withholding_tax),
                }
            })
            .collect(),
        carry: run
            .carry
            .iter()
            .map(|(currency, carry)| CarryRec { carry: Dec(*carry), currency: currency.code().into() })
            .collect(),
        from: run.from,
        rounding: run
            .rounding
            .iter()
            .map(|(currency, amount)| RoundingRec {
                amount: Minor::of(*amount, *currency),
                currency: currency.code().into(),
            })
            .collect(),
        to: run.to,
    }
}

pub(crate) fn netting_rec(run: &NettingRun) -> NettingRec {
    let result = &run.result;
    let ccy = result.currency;
    NettingRec {
        currency: ccy.code().into(),
        cycle: result.cycle.clone(),
        date: result.date,
        excluded: result
            .excluded
            .iter()
            .map(|e| ExcludedRec { invoice: e.invoice.clone(), reason: exclusion_name(e.reason) })
            .collect(),
        gross: Minor::of(result.gross, ccy),
        invoices: run.invoices.clone(),
        invoices_netted: result.invoices_netted as u64,
        mode: mode_name(run.mode),
        positions: result
            .positions
            .iter()
            .map(|p| NetRec { entity: p.entity.clone(), net: Minor::of(p.net, ccy) })
            .collect(),
        rates: run
            .rates
            .iter()
            .map(|(currency, rate)| FrozenRateRec { currency: currency.code().into(), rate: Dec(*rate) })
            .collect(),
        settlements: result
            .settlements
            .iter()
            .map(|s| SettlementRec { amount: Minor::of(s.amount, ccy), from: s.from.clone(), to: s.to.clone() })
            .collect(),
    }
}

fn balance_rec(balance: &BankBalance) -> BankBalanceRec<'_> {
    BankBalanceRec { amount: BankDec(balance.amount), currency: Cow::Borrowed(&balance.currency), date: balance.date }
}

fn borrowed(text: &Option<String>) -> Option<Cow<'_, str>> {
    text.as_deref().map(Cow::Borrowed)
}

fn statement_rec(imported: &ImportedStatement) -> StatementRec<'_> {
    let statement = &imported.statement;
    let (k0, k1, k2) = crate::bank::statement_key(statement);
    StatementRec {
        account: borrowed(&imported.account),
        content_hash: Cow::Owned(imported.content_hash.to_hex()),
        key: [Cow::Owned(k0), Cow::Owned(k1), Cow::Owned(k2)],
        source: Cow::Borrowed(&imported.source),
        statement: BankStatementRec {
            account_id: Cow::Borrowed(&statement.account_id),
            bic: borrowed(&statement.bic),
            closing: statement.closing.as_ref().map(balance_rec),
            closing_available: statement.closing_available.as_ref().map(balance_rec),
            currency: Cow::Borrowed(&statement.currency),
            date: statement.date,
            format: Cow::Owned(format_name(statement.format)),
            lines: statement
                .lines
                .iter()
                .map(|line| BankLineRec {
                    amount: BankDec(line.amount),
                    bank_reference: borrowed(&line.bank_reference),
                    booking_date: line.booking_date,
                    currency: Cow::Borrowed(&line.currency),
                    end_to_end_id: borrowed(&line.end_to_end_id),
                    narrative: Cow::Borrowed(&line.narrative),
                    owner_reference: borrowed(&line.owner_reference),
                    reversal: line.reversal,
                    source_line: line.source_line,
                    type_code: Cow::Borrowed(&line.type_code),
                    uetr: borrowed(&line.uetr),
                    value_date: line.value_date,
                })
                .collect(),
            opening: statement.opening.as_ref().map(balance_rec),
            sequence: borrowed(&statement.sequence),
            statement_id: Cow::Borrowed(&statement.statement_id),
        },
        status: Cow::Owned(status_name(imported.status)),
    }
}

// --- record → domain -------------------------------------------------------------------------

fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|err| format!("body: {err}"))
}

fn body_of_json(kind: u8, bytes: &[u8]) -> Result<EntryBody, String> {
    Ok(match kind {
        0 => EntryBody::GroupRecord(Arc::new(group_of(parse_json(bytes)?)?)),
        1 => EntryBody::AccountOpened(account_of(parse_json(bytes)?)?),
        3 => EntryBody::RatesImported { rows: rates_of(parse_json(bytes)?)? },
        4 => {
            let rec: LimitsRec = parse_json(bytes)?;
            EntryBody::LimitsSet(LimitsChange {
                effective: rec.effective,
                pool: rec.pool.map(pool_row_of),
                macro_prudential: rec.macro_prudential.map(|dec| dec.0),
            })
        }
        5 => EntryBody::SweepRun(sweep_of(parse_json(bytes)?)?),
        6 => EntryBody::InterestSettled(interest_of(parse_json(bytes)?)?),
        7 => EntryBody::NettingCycle(netting_of(parse_json(bytes)?)?),
        9 => {
            let rec: AmendmentRec = parse_json(bytes)?;
            EntryBody::Amended(crate::amendment::Amendment {
                effective: rec.effective,
                config: Arc::new(group_of(rec.group)?),
            })
        }
        10 => EntryBody::BenchmarksImported { rows: benchmarks_of(parse_json(bytes)?) },
        CALENDAR_IMPORTED => EntryBody::CalendarImported(calendar_of(parse_json(bytes)?)?),
        other => return Err(format!("unknown kind {other}")),
    })
}

/// The rate rows of a record.
pub(crate) fn rates_of(rec: RatesRec) -> Result<Vec<RateRow>, String> {
    rec.rows
        .into_iter()
        .map(|row| {
            Ok(RateRow {
                date: row.date,
                currency: ccy(&row.currency)?,
                market: parse_market(&row.market)?,
                rate: row.rate.0,
            })
        })
        .collect()
}

/// The pool parameters of a record.
pub(crate) fn pool_row_of(row: PoolRowRec) -> PoolParameters {
    PoolParameters {
        effective: row.effective,
        owners_equity: row.owners_equity.0,
        inflow_leverage: row.inflow_leverage.0,
        inflow_parameter: row.inflow_parameter.0,
        outflow_coefficient: row.outflow_coefficient.0,
    }
}

pub(crate) fn account_of(rec: AccountRec) -> Result<AccountSpec, String> {
    Ok(AccountSpec {
        id: rec.id,
        entity: rec.entity,
        kind: parse_kind(&rec.kind)?,
        zone: rec.zone.as_deref().map(parse_zone).transpose()?,
        bank_bic: rec.bank_bic,
        bank_id: rec.bank_id,
        currencies: rec.currencies.iter().map(|code| ccy(code)).collect::<Result<_, _>>()?,
        overdrafts: rec
            .overdrafts
            .into_iter()
            .map(|od| {
                let currency = ccy(&od.currency)?;
                Ok((currency, od.limit.to_amount(currency)?))
            })
            .collect::<Result<_, String>>()?,
    })
}

pub(crate) fn group_of(rec: GroupRec) -> Result<GroupConfig, String> {
    let base = ccy(&rec.group.base_currency)?;
    let usd = Currency::from_code("USD").expect("USD is an ISO currency");
    let opt = |amount: Option<Minor>, currency: Currency| amount.map(|m| m.to_amount(currency)).transpose();
    let entities = rec
        .entities
        .into_iter()
        .map(|e| {
            Ok(Entity {
                id: e.id,
                name: e.name,
                residence: parse_residence(&e.residence)?,
                net_assets: opt(e.net_assets, base)?,
                withholding_tax_rate: e.withholding_tax_rate.map(|d| d.0),
                withholding: e
                    .withholding
                    .unwrap_or_default()
                    .into_iter()
                    .map(|row| WithholdingRow {
                        effective: row.effective,
                        income_tax_rate: row.income_tax_rate.map(|d| d.0),
                        vat_rate: row.vat_rate.map(|d| d.0),
                        urban_maintenance_rate: row.urban_maintenance_rate.map(|d| d.0),
                        education_surcharge_rate: row.education_surcharge_rate.map(|d| d.0),
                        local_education_surcharge_rate: row.local_education_surcharge_rate.map(|d| d.0),
                    })
                    .collect(),
                facilitation_quota: e
                    .facilitation_quota
                    .into_iter()
                    .map(|q| Ok(QuotaRow { effective: q.effective, usd_amount: q.usd_amount.to_amount(usd)? }))
                    .collect::<Result<_, String>>()?,
            })
        })
        .collect::<Result<_, String>>()?;
    let sweeps = rec
        .sweeps
        .into_iter()
        .map(|s| {
            let currency = ccy(&s.currency)?;
            let need = |m: Option<Minor>, what: &str| -> Result<Decimal, String> {
                m.ok_or_else(|| format!("sweep method {}: {what} missing", s.method.kind))?.to_amount(currency)
            };
            let method = match s.method.kind.as_str() {
                "zero" => SweepMethod::Zero,
                "target" => SweepMethod::Target { target: need(s.method.target, "target")? },
                "threshold" => SweepMethod::Threshold { threshold: need(s.method.threshold, "threshold")? },
                "range" => SweepMethod::Range { min: need(s.method.min, "min")?, max: need(s.method.max, "max")? },
                other => return Err(format!("sweep method: unknown value {other:?}")),
            };
            Ok(SweepRule {
                account: s.account,
                currency,
                into: s.into,
                method,
                direction: parse_direction(&s.direction)?,
                min_transfer: opt(s.min_transfer, currency)?,
                max_transfer: opt(s.max_transfer, currency)?,
                rounding: opt(s.rounding, currency)?,
                priority: s.priority,
                partial_allowed: s.partial_allowed,
                roll: match s.roll.as_deref() {
                    None => Roll::Following,
                    Some(text @ ("modified_following" | "none")) => Roll::parse(text).expect("a spelling of Roll"),
                    Some(other) => {
                        return Err(format!(
                            "sweep roll: {other:?} is not \"modified_following\" or \"none\" (following is written by leaving the key out)"
                        ))
                    }
                },
            })
        })
        .collect::<Result<_, String>>()?;
    let interest = rec
        .interest
        .into_iter()
        .map(|rule| {
            let currency = ccy(&rule.currency)?;
            Ok(InterestRule {
                currency,
                entity: rule.entity,
                effective: rule.effective,
                day_count: parse_day_count(&rule.day_count)?,
                credit_rate: rule.credit_rate.0,
                debit_rate: rule.debit_rate.0,
                benchmark: rule.benchmark.map(|terms| BenchmarkTerms {
                    series: terms.series,
                    benchmark_floor: terms.benchmark_floor.map(|d| d.0),
                    credit_floor: terms.credit_floor.map(|d| d.0),
                    debit_floor: terms.debit_floor.map(|d| d.0),
                    credit_cap: terms.credit_cap.map(|d| d.0),
                    debit_cap: terms.debit_cap.map(|d| d.0),
                    lookback_days: terms.lookback_days,
                    stale_after_days: terms.stale_after_days,
                }),
                tiers: rule
                    .tiers
                    .into_iter()
                    .map(|t| {
                        Ok(InterestTier {
                            from: t.from.to_amount(currency)?,
                            credit_rate: t.credit_rate.0,
                            debit_rate: t.debit_rate.0,
                        })
                    })
                    .collect::<Result<_, String>>()?,
            })
        })
        .collect::<Result<_, String>>()?;
    let limits = rec
        .pool
        .limits
        .into_iter()
        .map(|row| {
            Ok(LimitRow {
                effective: row.effective,
                owners_equity: row.owners_equity.0,
                inflow_leverage: row.inflow_leverage.0,
                inflow_parameter: row.inflow_parameter.0,
                outflow_coefficient: row.outflow_coefficient.0,
            })
        })
        .collect::<Result<_, String>>()?;
    let eligibility = EligibilityThresholds {
        onshore_cross_border_min: rec.pool.eligibility.onshore_cross_border_min.to_amount(base)?,
        onshore_revenue_min: rec.pool.eligibility.onshore_revenue_min.to_amount(base)?,
        offshore_revenue_min: rec.pool.eligibility.offshore_revenue_min.to_amount(base)?,
        members_min: rec.pool.eligibility.members_min,
        violation_free_years: rec.pool.eligibility.violation_free_years,
    };
    let second_line_between_entities = match rec.pool.second_line_between_entities.as_deref() {
        None => SecondLineRule::CrossBorder,
        Some("same_name") => SecondLineRule::SameName,
        Some(other) => {
            return Err(format!(
                "pool.second_line_between_entities: {other:?} is not \"same_name\" (the default, cross_border, is written by leaving the key out)"
            ))
        }
    };
    let quota_model = match rec.pool.quota_model.as_deref() {
        None => QuotaModel::NetPosition,
        Some("separate") => QuotaModel::Separate,
        Some(other) => {
            return Err(format!(
                "pool.quota_model: {other:?} is not \"separate\" (net_position is written by leaving the key out)"
            ))
        }
    };
    let risk_factors = match rec.risk_factors {
        None => RiskFactors::default_history(),
        Some(rows) => {
            let rows: Vec<RiskFactors> = rows
                .into_iter()
                .map(|row| RiskFactors {
                    effective: row.effective,
                    short_term: row.short_term.0,
                    long_term: row.long_term.0,
                    category: row.category.0,
                    fx: row.fx.0,
                    leverage: row.leverage.0,
                })
                .collect();
            if rows.is_empty() || rows == RiskFactors::default_history() {
                return Err("risk_factors: written with the value an absent key means (the published factors)".into());
            }
            rows
        }
    };
    let value_dates = match rec.pool.non_business_value_dates.as_deref() {
        None => ValueDateRule::Warn,
        Some("refuse") => ValueDateRule::Refuse,
        Some(other) => {
            return Err(format!(
                "pool.non_business_value_dates: {other:?} is not \"refuse\" (warn is written by leaving the key out)"
            ))
        }
    };
    let empty_is_absent = |what: &str, present: bool| {
        if present {
            Ok(())
        } else {
            Err(format!("pool.{what}: an empty object (no calendars is written by leaving the key out)"))
        }
    };
    if let Some(map) = &rec.pool.calendars {
        empty_is_absent("calendars", !map.is_empty())?;
    }
    if let Some(map) = &rec.pool.account_calendars {
        empty_is_absent("account_calendars", !map.is_empty())?;
    }
    let calendars = CalendarRules {
        currencies: rec
            .pool
            .calendars
            .unwrap_or_default()
            .into_iter()
            .map(|(code, ids)| Ok((ccy(&code)?, ids)))
            .collect::<Result<_, String>>()?,
        accounts: rec.pool.account_calendars.unwrap_or_default(),
        value_dates,
    };
    Ok(GroupConfig {
        group: GroupInfo { id: rec.group.id, name: rec.group.name, base_currency: base },
        pool: PoolConfig {
            id: rec.pool.id,
            host: rec.pool.host,
            domestic_master: rec.pool.domestic_master,
            international_master: rec.pool.international_master,
            netting_currency: ccy(&rec.pool.netting_currency)?,
            limits,
            eligibility,
            second_line_between_entities,
            quota_model,
            calendars,
        },
        entities,
        accounts: rec.accounts.into_iter().map(account_of).collect::<Result<_, _>>()?,
        sweeps,
        interest,
        macro_prudential: rec
            .macro_prudential
            .into_iter()
            .map(|row| ParameterRow { effective: row.effective, parameter: row.parameter.0 })
            .collect(),
        risk_factors,
    })
}

pub(crate) fn sweep_of(rec: SweepRec) -> Result<SweepRun, String> {
    Ok(SweepRun {
        date: rec.date,
        sweeps: rec
            .sweeps
            .into_iter()
            .map(|line| {
                let currency = ccy(&line.currency)?;
                Ok(SweepLine {
                    account: line.account,
                    currency,
                    amount: line.amount.to_amount(currency)?,
                    direction: parse_flow(&line.direction)?,
                    into: line.into,
                    reference: line.reference,
                    capped: line.capped,
                })
            })
            .collect::<Result<_, String>>()?,
        skipped: rec
            .skipped
            .into_iter()
            .map(|skip| {
                let currency = ccy(&skip.currency)?;
                Ok(SkippedSweep {
                    account: skip.account,
                    currency,
                    direction: parse_flow(&skip.direction)?,
                    wanted: skip.wanted.to_amount(currency)?,
                    reason: SkipReason::from_code(&skip.reason)
                        .ok_or_else(|| format!("unknown sweep skip reason {:?}", skip.reason))?,
                    capped: skip.capped,
                })
            })
            .collect::<Result<_, String>>()?,
    })
}

pub(crate) fn interest_of(rec: InterestRec) -> Result<InterestRun, String> {
    Ok(InterestRun {
        from: rec.from,
        to: rec.to,
        accruals: rec
            .accruals
            .into_iter()
            .map(|a| {
                let currency = ccy(&a.currency)?;
                let withholding_tax = a.withholding_tax.to_amount(currency)?;
                let taxes = match a.taxes {
                    None => Withheld::income_tax_only(withholding_tax, currency),
                    Some(t) => Withheld {
                        income_tax: t.income_tax.to_amount(currency)?,
                        vat: t.vat.to_amount(currency)?,
                        urban_maintenance_tax: t.urban_maintenance_tax.to_amount(currency)?,
                        education_surcharge: t.education_surcharge.to_amount(currency)?,
                        local_education_surcharge: t.local_education_surcharge.to_amount(currency)?,
                    },
                };
                let accrual = Accrual {
                    entity: a.entity,
                    currency,
                    interest: a.interest.to_amount(currency)?,
                    withholding_tax,
                    taxes,
                    net: a.net.to_amount(currency)?,
                    residue: a.residue.0,
                };
                // What the settlement asserted before it encoded the record (settle.rs).
                let t = &accrual.taxes;
                let each =
                    [t.income_tax, t.vat, t.urban_maintenance_tax, t.education_surcharge, t.local_education_surcharge];
                if each.iter().any(|tax| tax.is_sign_negative() && !tax.is_zero()) {
                    return Err(format!("accrual of {} {}: a negative tax {:?}", accrual.entity, accrual.currency, t));
                }
                if accrual.taxes.checked_total() != Some(accrual.withholding_tax) {
                    return Err(format!(
                        "accrual of {} {}: the taxes {:?} do not add up to withholding_tax {}",
                        accrual.entity, accrual.currency, accrual.taxes, accrual.withholding_tax
                    ));
                }
                if accrual.net.checked_add(accrual.withholding_tax) != Some(accrual.interest) {
                    return Err(format!(
                        "accrual of {} {}: net {} + withholding_tax {} is not interest {}",
                        accrual.entity, accrual.currency, accrual.net, accrual.withholding_tax, accrual.interest
                    ));
                }
                Ok(accrual)
            })
            .collect::<Result<_, String>>()?,
        rounding: rec
            .rounding
            .into_iter()
            .map(|r| {
                let currency = ccy(&r.currency)?;
                Ok((currency, r.amount.to_amount(currency)?))
            })
            .collect::<Result<_, String>>()?,
        carry: rec.carry.into_iter().map(|c| Ok((ccy(&c.currency)?, c.carry.0))).collect::<Result<_, String>>()?,
    })
}

pub(crate) fn netting_of(rec: NettingRec) -> Result<NettingRun, String> {
    let currency = ccy(&rec.currency)?;
    Ok(NettingRun {
        result: CycleResult {
            cycle: rec.cycle,
            date: rec.date,
            currency,
            positions: rec
                .positions
                .into_iter()
                .map(|p| Ok(NetPosition { entity: p.entity, net: p.net.to_amount(currency)? }))
                .collect::<Result<_, String>>()?,
            settlements: rec
                .settlements
                .into_iter()
                .map(|s| Ok(Settlement { from: s.from, to: s.to, amount: s.amount.to_amount(currency)? }))
                .collect::<Result<_, String>>()?,
            excluded: rec
                .excluded
                .into_iter()
                .map(|e| Ok(Excluded { invoice: e.invoice, reason: parse_exclusion(&e.reason)? }))
                .collect::<Result<_, String>>()?,
            gross: rec.gross.to_amount(currency)?,
            invoices_netted: usize::try_from(rec.invoices_netted).map_err(|_| "invoices_netted out of range")?,
        },
        mode: parse_mode(&rec.mode)?,
        rates: rec.rates.into_iter().map(|r| Ok((ccy(&r.currency)?, r.rate.0))).collect::<Result<_, String>>()?,
        invoices: rec.invoices,
    })
}

fn bank_balance_of(rec: BankBalanceRec<'_>) -> BankBalance {
    BankBalance { date: rec.date, currency: rec.currency.into_owned(), amount: rec.amount.0 }
}

fn owned(text: Option<Cow<'_, str>>) -> Option<String> {
    text.map(Cow::into_owned)
}

fn statement_of(rec: StatementRec<'_>) -> Result<ImportedStatement, String> {
    let content_hash =
        EntryHash::from_hex(&rec.content_hash).ok_or_else(|| "content_hash: expected 64 hex digits".to_string())?;
    let s = rec.statement;
    let statement = BankStatement {
        format: parse_format(&s.format)?,
        statement_id: s.statement_id.into_owned(),
        sequence: owned(s.sequence),
        account_id: s.account_id.into_owned(),
        bic: owned(s.bic),
        currency: s.currency.into_owned(),
        opening: s.opening.map(bank_balance_of),
        closing: s.closing.map(bank_balance_of),
        closing_available: s.closing_available.map(bank_balance_of),
        date: s.date,
        lines: s
            .lines
            .into_iter()
            .map(|line| BankLine {
                source_line: line.source_line,
                booking_date: line.booking_date,
                value_date: line.value_date,
                amount: line.amount.0,
                currency: line.currency.into_owned(),
                reversal: line.reversal,
                end_to_end_id: owned(line.end_to_end_id),
                uetr: owned(line.uetr),
                owner_reference: owned(line.owner_reference),
                bank_reference: owned(line.bank_reference),
                type_code: line.type_code.into_owned(),
                narrative: line.narrative.into_owned(),
            })
            .collect(),
    };
    let (k0, k1, k2) = crate::bank::statement_key(&statement);
    if rec.key[0] != k0 || rec.key[1] != k1 || rec.key[2] != k2 {
        return Err("key: does not match the statement's bank account, id and sequence".into());
    }
    Ok(ImportedStatement {
        source: rec.source.into_owned(),
        account: owned(rec.account),
        content_hash,
        status: parse_status(&rec.status)?,
        statement,
    })
}

/// The canonical JSON of a group definition's record (the state digest's `definition` part).
pub(crate) fn group_json(config: &GroupConfig) -> String {
    serde_json::to_string(&group_rec(config)).expect("a record always renders as JSON")
}

/// The canonical JSON of an account's record.
pub(crate) fn account_json(spec: &AccountSpec) -> String {
    serde_json::to_string(&account_rec(spec)).expect("a record always renders as JSON")
}

// ---------------------------------------------------------------------------------------------
// The JSON Lines export of a format-2 entry
// ---------------------------------------------------------------------------------------------

/// One format-2 line of a JSON Lines export (docs/FORMATS.md, "The JSON Lines export").
#[doc(hidden)] // public for `crate::testing` only
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportLineV2 {
    pub(crate) version: u8,
    pub(crate) seq: u64,
    pub(crate) kind: String,
    pub(crate) recorded_at: Timestamp,
    pub(crate) prev_hash: EntryHash,
    pub hash: EntryHash,
    pub(crate) body: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TxRec {
    classification: String,
    drawdown: Option<DrawdownRec>,
    foreign_debt: Option<ForeignDebtRec>,
    id: String,
    memo: String,
    operator: String,
    pool_flow: Option<MoneyRec>,
    postings: Vec<PostingRec>,
    purpose: String,
    rate: Option<FxRateRec>,
    reference: String,
    repayment: Option<RepaymentRec>,
    #[serde(with = "iso_date")]
    value_date: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostingRec {
    account: String,
    amount: Minor,
    currency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FxRateRec {
    base: String,
    quote: String,
    rate: Dec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForeignDebtRec {
    lender: String,
    term_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyRec {
    amount: Minor,
    currency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DrawdownRec {
    base_rate: Dec,
    currency: String,
    entity: String,
    principal: Minor,
    term_days: u32,
    usd_base_rate: Option<Dec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RepaymentRec {
    amount: Minor,
    currency: String,
    loan: String,
}

fn purpose_name(purpose: Purpose) -> String {
    purpose.to_string()
}

fn tx_rec(tx: &PostedTransaction) -> TxRec {
    let effects = tx.effects.clone().unwrap_or_default();
    TxRec {
        classification: tx.classification.as_str().into(),
        drawdown: effects.drawdown.map(|d| DrawdownRec {
            base_rate: Dec(d.base_rate),
            currency: d.currency.code().into(),
            entity: d.entity,
            principal: Minor::of(d.principal, d.currency),
            term_days: d.term_days,
            usd_base_rate: d.usd_base_rate.map(Dec),
        }),
        foreign_debt: match (tx.term_days, &tx.lender) {
            (Some(term_days), Some(lender)) => Some(ForeignDebtRec { lender: lender.clone(), term_days }),
            _ => None,
        },
        id: tx.id.clone(),
        memo: tx.memo.clone(),
        operator: tx.operator.clone(),
        pool_flow: effects
            .pool_flow
            .map(|(currency, flow)| MoneyRec { amount: Minor::of(flow, currency), currency: currency.code().into() }),
        postings: tx
            .postings
            .iter()
            .map(|p| PostingRec {
                account: p.account.clone(),
                amount: Minor::of(p.amount, p.currency),
                currency: p.currency.code().into(),
            })
            .collect(),
        purpose: purpose_name(tx.purpose),
        rate: tx.rate.as_ref().map(|r| FxRateRec {
            base: r.base.code().into(),
            quote: r.quote.code().into(),
            rate: Dec(r.rate),
        }),
        reference: tx.reference.clone(),
        repayment: effects.repayment.map(|r| RepaymentRec {
            amount: Minor::of(r.amount, r.currency),
            currency: r.currency.code().into(),
            loan: r.loan,
        }),
        value_date: tx.value_date,
    }
}

fn tx_of(rec: TxRec) -> Result<PostedTransaction, String> {
    let purpose = Purpose::parse(&rec.purpose).ok_or_else(|| format!("purpose: unknown value {:?}", rec.purpose))?;
    let classification = CLASSIFICATIONS
        .iter()
        .copied()
        .find(|c| c.as_str() == rec.classification)
        .ok_or_else(|| format!("classification: unknown value {:?}", rec.classification))?;
    let postings = rec
        .postings
        .into_iter()
        .map(|p| {
            let currency = ccy(&p.currency)?;
            Ok(Posting { account: p.account, currency, amount: p.amount.to_amount(currency)? })
        })
        .collect::<Result<_, String>>()?;
    let rate = rec
        .rate
        .map(|r| Ok::<_, String>(FxRate { base: ccy(&r.base)?, quote: ccy(&r.quote)?, rate: r.rate.0 }))
        .transpose()?;
    let pool_flow = rec
        .pool_flow
        .map(|m| {
            let currency = ccy(&m.currency)?;
            Ok::<_, String>((currency, m.amount.to_amount(currency)?))
        })
        .transpose()?;
    let drawdown = rec
        .drawdown
        .map(|d| {
            let currency = ccy(&d.currency)?;
            Ok::<_, String>(Drawdown {
                entity: d.entity,
                currency,
                principal: d.principal.to_amount(currency)?,
                term_days: d.term_days,
                base_rate: d.base_rate.0,
                usd_base_rate: d.usd_base_rate.map(|r| r.0),
            })
        })
        .transpose()?;
    let repayment = rec
        .repayment
        .map(|r| {
            let currency = ccy(&r.currency)?;
            Ok::<_, String>(Repayment { loan: r.loan, currency, amount: r.amount.to_amount(currency)? })
        })
        .transpose()?;
    let (term_days, lender) = match rec.foreign_debt {
        Some(fd) => (Some(fd.term_days), Some(fd.lender)),
        None => (None, None),
    };
    Ok(PostedTransaction {
        id: rec.id,
        value_date: rec.value_date,
        purpose,
        reference: rec.reference,
        memo: rec.memo,
        postings,
        rate,
        term_days,
        lender,
        classification,
        operator: rec.operator,
        effects: Some(TxEffects { pool_flow, drawdown, repayment }),
    })
}

/// The export line of a format-2 entry whose hash is `hash`.
#[doc(hidden)] // public for `crate::testing` only
pub fn export_line(entry: &Entry, hash: EntryHash) -> ExportLineV2 {
    let body = match &entry.body {
        EntryBody::Transaction(tx) => serde_json::to_value(tx_rec(tx)),
        body => serde_json::to_value(JsonRecord::of(body)),
    }
    .expect("a record always renders as JSON");
    ExportLineV2 {
        version: 2,
        seq: entry.seq,
        kind: entry_kind_name(kind_of(&entry.body)).expect("every body has a named kind").to_string(),
        recorded_at: entry.recorded_at,
        prev_hash: entry.prev_hash,
        hash,
        body,
    }
}

/// The entry an export line describes (its hash is not checked here).
#[doc(hidden)] // public for `crate::testing` only
pub fn entry_of_line(line: &ExportLineV2) -> Result<Entry, String> {
    if line.version != 2 {
        return Err(format!("version {} is not 2", line.version));
    }
    let kind = kind_code(&line.kind).ok_or_else(|| format!("kind: unknown value {:?}", line.kind))?;
    let body = if kind == 2 {
        let rec: TxRec = serde_json::from_value(line.body.clone()).map_err(|err| format!("body: {err}"))?;
        EntryBody::Transaction(tx_of(rec)?)
    } else if kind == 8 {
        let text = serde_json::to_vec(&line.body).map_err(|err| format!("body: {err}"))?;
        EntryBody::StatementImported(statement_of(parse_json(&text)?)?)
    } else {
        let bytes = serde_json::to_vec(&line.body).map_err(|err| format!("body: {err}"))?;
        body_of_json(kind, &bytes)?
    };
    Ok(Entry {
        format: FormatVersion::V2,
        seq: line.seq,
        prev_hash: line.prev_hash,
        recorded_at: line.recorded_at,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key of a record, at every depth, is in sorted order: serde_json's
    /// output is then the canonical encoding.
    fn assert_sorted(value: &serde_json::Value, path: &str) {
        match value {
            serde_json::Value::Object(map) => {
                let text = serde_json::to_string(value).unwrap();
                let keys: Vec<&String> = map.keys().collect();
                let mut sorted = keys.clone();
                sorted.sort();
                assert_eq!(keys, sorted, "{path}: {text}");
                for (key, inner) in map {
                    assert_sorted(inner, &format!("{path}.{key}"));
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| assert_sorted(item, path)),
            _ => {}
        }
    }

    /// The keys added to records after records without them were journaled: in the JSON only
    /// when they have a value (an older record encodes to its own bytes), always in postcard
    /// (the state snapshot reads every field in order); both read back to the same domain value.
    #[test]
    fn added_keys_are_left_out_of_the_json_only_when_empty_and_always_in_postcard() {
        let example = include_str!("../../../../examples/lingang-group.toml");
        let with_rows = crate::config::parse_group_config(example).expect("the example group is valid");
        let mut without_rows = with_rows.clone();
        for entity in &mut without_rows.entities {
            entity.withholding.clear();
        }
        let mut strict = with_rows.clone();
        strict.pool.second_line_between_entities = crate::config::SecondLineRule::SameName;
        let mut legacy = without_rows.clone();
        legacy.pool.quota_model = crate::config::QuotaModel::NetPosition;
        for (config, pool_keys) in [(&strict, 2), (&legacy, 0), (&with_rows, 1)] {
            let json = group_json(config);
            let written = usize::from(json.contains("\"quota_model\":\"separate\""))
                + usize::from(json.contains("\"second_line_between_entities\":\"same_name\""));
            assert_eq!(written, pool_keys, "{json}");
            assert!(!json.contains("\"quota_model\":null") && !json.contains("\"second_line_between_entities\":null"));
            let from_json: GroupRec = serde_json::from_str(&json).unwrap();
            assert_eq!(&group_of(from_json).unwrap(), config);
            let bytes = postcard::to_allocvec(&group_rec(config)).unwrap();
            let from_postcard: GroupRec = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(&group_of(from_postcard).unwrap(), config);
        }
        for (config, rows) in [(&with_rows, true), (&without_rows, false)] {
            let json = group_json(config);
            assert_eq!(json.contains("\"withholding\":"), rows, "{json}");
            assert!(!json.contains("\"withholding\":null") && !json.contains("\"withholding\":[]"), "{json}");
            let from_json: GroupRec = serde_json::from_str(&json).unwrap();
            assert_eq!(&group_of(from_json).unwrap(), config);
            let bytes = postcard::to_allocvec(&group_rec(config)).unwrap();
            let from_postcard: GroupRec = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(&group_of(from_postcard).unwrap(), config);
        }

        let cny = Currency::from_code("CNY").unwrap();
        let amount = |text: &str| Decimal::from_str_exact(text).unwrap();
        let accrual = |withholding_tax: &str, net: &str, taxes: Withheld| Accrual {
            entity: "LGT-SG".into(),
            currency: cny,
            interest: amount("3100.00"),
            withholding_tax: amount(withholding_tax),
            taxes,
            net: amount(net),
            residue: Decimal::ZERO,
        };
        let taxed = Withheld {
            income_tax: amount("292.45"),
            vat: amount("175.47"),
            urban_maintenance_tax: amount("12.28"),
            education_surcharge: amount("5.26"),
            local_education_surcharge: amount("3.51"),
        };
        let income_tax_only = Withheld::income_tax_only(amount("310.00"), cny);
        for (accrual, key) in
            [(accrual("488.97", "2611.03", taxed), true), (accrual("310.00", "2790.00", income_tax_only), false)]
        {
            let run = InterestRun {
                from: NaiveDate::from_ymd_opt(2021, 8, 1).unwrap(),
                to: NaiveDate::from_ymd_opt(2021, 9, 1).unwrap(),
                accruals: vec![accrual],
                rounding: Vec::new(),
                carry: vec![(cny, Decimal::ZERO)],
            };
            let json = serde_json::to_string(&interest_rec(&run)).unwrap();
            assert_eq!(json.contains("\"taxes\":{"), key, "{json}");
            assert_eq!(interest_of(serde_json::from_str(&json).unwrap()).unwrap(), run);
            let bytes = postcard::to_allocvec(&interest_rec(&run)).unwrap();
            assert_eq!(interest_of(postcard::from_bytes(&bytes).unwrap()).unwrap(), run);
        }
        // What the exporter never writes is refused: taxes that do not add up.
        let json = serde_json::to_string(&interest_rec(&InterestRun {
            from: NaiveDate::from_ymd_opt(2021, 8, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2021, 9, 1).unwrap(),
            accruals: vec![accrual("488.97", "2611.03", taxed)],
            rounding: Vec::new(),
            carry: Vec::new(),
        }))
        .unwrap()
        .replace("\"vat\":\"17547\"", "\"vat\":\"17548\"");
        let err = interest_of(serde_json::from_str(&json).unwrap()).unwrap_err();
        assert!(err.contains("do not add up to withholding_tax"), "{err}");
        // Nor a negative tax, even one the others make up for.
        let json = json
            .replace("\"vat\":\"17548\"", "\"vat\":\"17647\"")
            .replace("\"income_tax\":\"29245\"", "\"income_tax\":\"-100\"");
        let err = interest_of(serde_json::from_str(&json).unwrap()).unwrap_err();
        assert!(err.contains("a negative tax"), "{err}");
    }

    /// The `[[interest]]` keys of dated, members' own and benchmark rows are written only by the
    /// rows that use them: a fixed pool-wide row from the beginning encodes as it always did.
    #[test]
    fn interest_rows_write_their_added_keys_only_when_they_use_them() {
        let example = include_str!("../../../../examples/lingang-group.toml");
        let plain = crate::config::parse_group_config(example).expect("the example group is valid");
        let json = group_json(&plain);
        let rows = &json[json.find("\"interest\":[").unwrap()..json.find("],\"macro_prudential\"").unwrap()];
        for key in ["\"benchmark\"", "\"effective\"", "\"entity\""] {
            assert!(!rows.contains(key), "{key} in {rows}");
        }
        assert!(json.contains("{\"credit_rate\":\"4\",\"currency\":\"USD\",\"day_count\":\"ACT/360\",\"debit_rate\":\"5\",\"tiers\":[]}"), "{json}");
        let text = format!(
            "{example}\n[[interest]]\ncurrency = \"USD\"\nentity = \"LGT-HK\"\neffective = \"2026-01-01\"\nday_count = \"ACT/360\"\n\
             benchmark = \"SOFR\"\ncredit_margin = \"-0.25\"\ndebit_margin = \"1.50\"\ncredit_floor = \"0\"\nlookback_days = 2\n\
             [[interest.tiers]]\nfrom = \"1000000.00\"\ncredit_margin = \"0\"\ndebit_margin = \"1\"\n"
        );
        let dated = crate::config::parse_group_config(&text).expect("valid");
        let json = group_json(&dated);
        assert!(
            json.contains("{\"benchmark\":{\"benchmark_floor\":null,\"credit_cap\":null,\"credit_floor\":\"0\",\"debit_cap\":null,\"debit_floor\":null,\"lookback_days\":2,\"series\":\"SOFR\",\"stale_after_days\":14},\"credit_rate\":\"-0.25\",\"currency\":\"USD\",\"day_count\":\"ACT/360\",\"debit_rate\":\"1.5\",\"effective\":\"2026-01-01\",\"entity\":\"LGT-HK\",\"tiers\":[{\"credit_rate\":\"0\",\"debit_rate\":\"1\",\"from\":\"100000000\"}]}"),
            "{json}"
        );
        assert_sorted(&serde_json::from_str(&json).unwrap(), "group");
        for config in [&plain, &dated] {
            let from_json: GroupRec = serde_json::from_str(&group_json(config)).unwrap();
            assert_eq!(&group_of(from_json).unwrap(), config);
            let bytes = postcard::to_allocvec(&group_rec(config)).unwrap();
            let from_postcard: GroupRec = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(&group_of(from_postcard).unwrap(), config);
        }
        // A key written with the value its absence means is not the exporter's: the entry's bytes
        // would not be the canonical encoding of what they decode to.
        let with_null = group_json(&plain).replacen(
            "\"day_count\":\"ACT/360\",",
            "\"day_count\":\"ACT/360\",\"effective\":null,",
            1,
        );
        let decoded: GroupRec = serde_json::from_str(&with_null).unwrap();
        assert_ne!(serde_json::to_string(&decoded).unwrap(), with_null);
    }

    #[test]
    fn benchmark_fixings_are_kind_10_between_the_amendments_and_the_calendars() {
        assert_eq!(entry_kind_name(10), Some("benchmarks_imported"));
        assert_eq!((entry_kind_name(9), entry_kind_name(11)), (Some("amendment"), Some("calendar_imported")));
        assert_eq!(entry_kind_name(12), None);
        assert_eq!(kind_code("benchmarks_imported"), Some(10));
        let rows = vec![BenchmarkRow {
            date: NaiveDate::from_ymd_opt(2026, 1, 20).unwrap(),
            series: "LPR-1Y".into(),
            rate_percent: Decimal::new(300, 2),
        }];
        let body = EntryBody::BenchmarksImported { rows: rows.clone() };
        assert_eq!(kind_of(&body), 10);
        let json = serde_json::to_string(&JsonRecord::of(&body)).unwrap();
        assert_eq!(json, "{\"rows\":[{\"date\":\"2026-01-20\",\"rate_percent\":\"3\",\"series\":\"LPR-1Y\"}]}");
        let EntryBody::BenchmarksImported { rows: back } = body_of_json(10, json.as_bytes()).unwrap() else {
            panic!("kind 10 is benchmarks_imported")
        };
        assert_eq!(back[0].rate_percent, rows[0].rate_percent, "equal by value");
        // A benchmarks body under the amendments' and the calendars' kinds is refused by their
        // records; kind 12 is no kind at all.
        for kind in [9u8, 11] {
            let mut bytes = vec![2, kind];
            bytes.extend_from_slice(&[0; 48]);
            bytes.extend_from_slice(json.as_bytes());
            assert!(decode(&bytes).unwrap_err().starts_with("body: "), "kind {kind}");
        }
        let mut bytes = vec![2, 12];
        bytes.extend_from_slice(&[0; 48]);
        bytes.extend_from_slice(json.as_bytes());
        assert_eq!(decode(&bytes).unwrap_err(), "unknown kind 12");
    }

    #[test]
    fn record_fields_are_declared_in_sorted_order() {
        // serde_json without `preserve_order` sorts object keys; parse the
        // record's own output into a Value that keeps order by reading the
        // text, so check the text's key order directly.
        let config = crate::config::parse_group_config(include_str!("../../../../examples/lingang-group.toml"))
            .expect("the example group is valid");
        let text = group_json(&config);
        let reparsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&reparsed).unwrap(), text, "group record keys are sorted");
        assert_sorted(&reparsed, "group");
        let tx = PostedTransaction {
            id: "T-1".into(),
            value_date: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            purpose: Purpose::ForeignDebt,
            reference: "r".into(),
            memo: "m".into(),
            postings: vec![],
            rate: None,
            term_days: Some(30),
            lender: Some("L".into()),
            classification: Classification::CrossBorder,
            operator: "op".into(),
            effects: Some(TxEffects::default()),
        };
        let text = serde_json::to_string(&tx_rec(&tx)).unwrap();
        let reparsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&reparsed).unwrap(), text, "transaction export keys are sorted");
    }
}
