//! ISO 20022 camt.052, camt.053 and camt.054, versions `.001.02` to `.001.13`:
//! a reader into [`BankStatement`]s and a camt.053.001.08 writer.
//!
//! # Reading
//!
//! [`parse`] reads one file with quick-xml's pull reader (no DOM, no serde),
//! matching elements by their local name whatever their prefix. The message
//! and version come from the `Document`'s namespace
//! (`urn:iso:std:iso:20022:tech:xsd:camt.05X.001.NN`); a version outside
//! `.001.02`..`.001.13` is read the same way with a warning, a missing or
//! foreign namespace is read by the message element (`BkToCstmrStmt`,
//! `BkToCstmrAcctRpt`, `BkToCstmrDbtCdtNtfctn`) with a warning. The message may
//! sit at any depth (inside a business-message envelope, say).
//!
//! It never panics and never fails a whole file: malformed XML stops the
//! reading there, with an error, and the statements completed before it are
//! returned; a bad field gives a diagnostic and the rest is kept. Every
//! diagnostic names the line where its element starts.
//!
//! One [`BankStatement`] per `Stmt` (camt.053), `Rpt` (camt.052) or `Ntfctn`
//! (camt.054):
//!
//! - `statement_id` = `Id`; `sequence` = `ElctrncSeqNb`, else `LglSeqNb`;
//!   `account_id` = `Acct/Id/IBAN`, else `Acct/Id/Othr/Id`; `bic` =
//!   `Acct/Svcr/FinInstnId/BIC` or `BICFI`.
//! - `currency` = `Acct/Ccy`, else the opening balance's (OPBD, else PRCD)
//!   currency, else the first entry's, else empty with an error.
//! - Balances by `Tp/CdOrPrtry/Cd` (or `Prtry`): opening = OPBD, else PRCD;
//!   closing = CLBD; closing available = CLAV; other types are ignored without a
//!   diagnostic. The amount keeps the decimals written (`8.850` stays scale 3),
//!   signed by `CdtDbtInd` (DBIT negative); the date is `Dt/Dt` or the date part
//!   of `Dt/DtTm` (its offset ignored).
//! - `date` = the closing balance's date, else `FrToDt/ToDtTm`'s, else the
//!   booking date of the last entry that has one, else the group header's
//!   `CreDtTm`.
//! - Each `Ntry` is one [`BankLine`]: `Amt` signed by `CdtDbtInd` (the
//!   indicator is the effect, also for a reversal), `Amt@Ccy`, `RvslInd`,
//!   `BookgDt` and `ValDt` (`Dt` or `DtTm`), `AcctSvcrRef`, `BkTxCd` as
//!   `DOMN/FMLY/SUBFMLY` (else `Prtry/Cd`, else empty). References come from
//!   `NtryDtls/TxDtls/Refs` only when the entry has exactly one `TxDtls`:
//!   `EndToEndId` (none when `NOTPROVIDED`), `UETR`, and `InstrId` (else
//!   `PmtInfId`, else `MsgId`) as the owner's reference. The narrative is
//!   `AddtlNtryInf`, else the `TxDtls/AddtlTxInf`, else the `TxDtls/RmtInf/Ustrd`
//!   (several joined with a space, across all `TxDtls`). An entry without a
//!   readable amount and credit/debit indicator is left out with an error.
//! - A balance or entry in another currency than the statement's is kept as
//!   written, with a warning.
//!
//! Text values are unescaped, their line ends normalised (`\r\n` → `\n`) and
//! trimmed of XML whitespace at both ends (whitespace written as a character
//! reference, `&#32;`, is content and kept); an empty element counts as absent.
//! Input that is not UTF-8 is read as ISO 8859-1 when its XML declaration says
//! so, else with the bad bytes replaced by U+FFFD; both with a warning.
//!
//! # Writing
//!
//! [`write_camt053`] writes statements as one camt.053.001.08 document. It is
//! the inverse of [`parse`] (source lines aside, the format becoming camt.053)
//! for statements with every date present, a closing date equal to the
//! statement date, an all-digit sequence (any other sequence is not written:
//! camt's sequence numbers are numbers), a currency, no empty `Some("")` text
//! (read back as `None`), no `NOTPROVIDED` EndToEndId and no empty part in a
//! `DOMN/FMLY/SUBFMLY` type code. Whitespace at the ends of a text is written as
//! character references, so that it survives the reader's trimming.

use std::borrow::Cow;

use cashpool_ledger::bank::{BankBalance, BankLine, BankStatement, StatementFormat};
use chrono::NaiveDate;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;
use rust_decimal::Decimal;

use crate::parse::{Diagnostic, Parsed};

/// The versions (`camt.05X.001.NN`) this reader knows; others are read the same way with a warning.
pub const KNOWN_VERSIONS: std::ops::RangeInclusive<u32> = 2..=13;

/// What every ISO 20022 namespace starts with.
const ISO_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:";

/// The whitespace XML trims (space, tab, line feed, carriage return).
const XML_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// Parses a camt.052, camt.053 or camt.054 file: never panics, never fails the whole file.
pub fn parse(bytes: &[u8]) -> Parsed {
    let mut diagnostics = Vec::new();
    let text = decode(bytes, &mut diagnostics);
    let mut parser = CamtParser::new(&text, diagnostics);
    parser.run();
    Parsed { statements: parser.statements, diagnostics: parser.diagnostics }
}

/// The input as text: UTF-8 as it is, else decoded with a warning.
fn decode<'a>(bytes: &'a [u8], diagnostics: &mut Vec<Diagnostic>) -> Cow<'a, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(err) => {
            let bad = err.valid_up_to();
            let line = 1 + count_newlines(&bytes[..bad]);
            if declares_single_byte_encoding(bytes) {
                diagnostics.push(Diagnostic::warning(
                    line,
                    "encoding",
                    "not UTF-8 (as ISO 20022 requires): read as ISO 8859-1, as the XML declaration says",
                ));
                Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())
            } else {
                diagnostics.push(Diagnostic::warning(
                    line,
                    "encoding",
                    "not valid UTF-8: the invalid bytes are read as U+FFFD",
                ));
                String::from_utf8_lossy(bytes)
            }
        }
    }
}

/// Whether the XML declaration names ISO 8859-1 (or a relative of it).
fn declares_single_byte_encoding(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(200)];
    let Some(end) = head.windows(2).position(|w| w == b"?>") else {
        return false;
    };
    let decl = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    let Some(at) = decl.find("encoding") else {
        return false;
    };
    let value = decl[at + "encoding".len()..].trim_start_matches([' ', '=', '"', '\'']);
    ["iso-8859-1", "iso8859-1", "latin1", "latin-1", "iso_8859-1", "windows-1252", "cp1252", "us-ascii"]
        .iter()
        .any(|name| value.starts_with(name))
}

fn count_newlines(bytes: &[u8]) -> u32 {
    let count = bytes.iter().filter(|&&b| b == b'\n').count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// Line numbers from byte positions, counted incrementally (positions only grow).
struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u32,
}

impl Lines<'_> {
    /// The 1-based line of byte position `pos` (at most the end of the input).
    fn at(&mut self, pos: u64) -> u32 {
        let pos = usize::try_from(pos).unwrap_or(usize::MAX).min(self.bytes.len());
        if pos > self.pos {
            self.line = self.line.saturating_add(count_newlines(&self.bytes[self.pos..pos]));
            self.pos = pos;
        }
        self.line
    }
}

/// The element names the reader looks at; every other name is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Other,
    Document,
    /// `BkToCstmrStmt`, `BkToCstmrAcctRpt` or `BkToCstmrDbtCdtNtfctn` (not nested in another).
    Msg,
    /// `Stmt`, `Rpt` or `Ntfctn` directly in a [`Tag::Msg`].
    Stmt,
    GrpHdr,
    CreDtTm,
    Id,
    ElctrncSeqNb,
    LglSeqNb,
    FrToDt,
    ToDtTm,
    Acct,
    Iban,
    Othr,
    Ccy,
    Svcr,
    FinInstnId,
    /// `BIC` or `BICFI`.
    Bic,
    Bal,
    Tp,
    CdOrPrtry,
    Cd,
    Prtry,
    Amt,
    CdtDbtInd,
    Dt,
    DtTm,
    Ntry,
    RvslInd,
    BookgDt,
    ValDt,
    AcctSvcrRef,
    BkTxCd,
    Domn,
    Fmly,
    SubFmlyCd,
    NtryDtls,
    TxDtls,
    Refs,
    EndToEndId,
    Uetr,
    InstrId,
    PmtInfId,
    MsgId,
    AddtlNtryInf,
    AddtlTxInf,
    RmtInf,
    Ustrd,
}

fn tag_of(name: &str) -> Tag {
    match name {
        "Id" => Tag::Id,
        "Amt" => Tag::Amt,
        "Cd" => Tag::Cd,
        "Dt" => Tag::Dt,
        "DtTm" => Tag::DtTm,
        "CdtDbtInd" => Tag::CdtDbtInd,
        "Ntry" => Tag::Ntry,
        "Bal" => Tag::Bal,
        "Tp" => Tag::Tp,
        "CdOrPrtry" => Tag::CdOrPrtry,
        "Prtry" => Tag::Prtry,
        "RvslInd" => Tag::RvslInd,
        "BookgDt" => Tag::BookgDt,
        "ValDt" => Tag::ValDt,
        "AcctSvcrRef" => Tag::AcctSvcrRef,
        "BkTxCd" => Tag::BkTxCd,
        "Domn" => Tag::Domn,
        "Fmly" => Tag::Fmly,
        "SubFmlyCd" => Tag::SubFmlyCd,
        "NtryDtls" => Tag::NtryDtls,
        "TxDtls" => Tag::TxDtls,
        "Refs" => Tag::Refs,
        "EndToEndId" => Tag::EndToEndId,
        "UETR" => Tag::Uetr,
        "InstrId" => Tag::InstrId,
        "PmtInfId" => Tag::PmtInfId,
        "MsgId" => Tag::MsgId,
        "AddtlNtryInf" => Tag::AddtlNtryInf,
        "AddtlTxInf" => Tag::AddtlTxInf,
        "RmtInf" => Tag::RmtInf,
        "Ustrd" => Tag::Ustrd,
        "Acct" => Tag::Acct,
        "IBAN" => Tag::Iban,
        "Othr" => Tag::Othr,
        "Ccy" => Tag::Ccy,
        "Svcr" => Tag::Svcr,
        "FinInstnId" => Tag::FinInstnId,
        "BIC" | "BICFI" => Tag::Bic,
        "GrpHdr" => Tag::GrpHdr,
        "CreDtTm" => Tag::CreDtTm,
        "ElctrncSeqNb" => Tag::ElctrncSeqNb,
        "LglSeqNb" => Tag::LglSeqNb,
        "FrToDt" => Tag::FrToDt,
        "ToDtTm" => Tag::ToDtTm,
        "Document" => Tag::Document,
        _ => Tag::Other,
    }
}

/// A leaf element whose text the reader keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    GrpCreDtTm,
    StmtId,
    ElctrncSeqNb,
    LglSeqNb,
    ToDtTm,
    Iban,
    OthrId,
    AcctCcy,
    Bic,
    BalCode,
    BalAmt,
    BalInd,
    BalDate { time: bool },
    NtryAmt,
    NtryInd,
    NtryRvsl,
    BookgDate { time: bool },
    ValDate { time: bool },
    AcctSvcrRef,
    DomnCd,
    FmlyCd,
    SubFmlyCd,
    PrtryCd,
    EndToEndId,
    Uetr,
    InstrId,
    PmtInfId,
    MsgId,
    AddtlTxInf,
    Ustrd,
    AddtlNtryInf,
}

/// What the start of an element means, from the path to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    None,
    Document,
    Msg,
    Stmt,
    Bal,
    Ntry,
    TxDtls,
    Field(Field),
}

fn classify(stack: &[Tag]) -> Action {
    use Tag::*;
    let field = Action::Field;
    match stack {
        [.., Document] => Action::Document,
        [.., Msg] => Action::Msg,
        [.., Msg, GrpHdr, CreDtTm] => field(Field::GrpCreDtTm),
        [.., Msg, Stmt] => Action::Stmt,
        [.., Stmt, Id] => field(Field::StmtId),
        [.., Stmt, ElctrncSeqNb] => field(Field::ElctrncSeqNb),
        [.., Stmt, LglSeqNb] => field(Field::LglSeqNb),
        [.., Stmt, FrToDt, ToDtTm] => field(Field::ToDtTm),
        [.., Stmt, Acct, Id, Iban] => field(Field::Iban),
        [.., Stmt, Acct, Id, Othr, Id] => field(Field::OthrId),
        [.., Stmt, Acct, Ccy] => field(Field::AcctCcy),
        [.., Stmt, Acct, Svcr, FinInstnId, Bic] => field(Field::Bic),
        [.., Stmt, Bal] => Action::Bal,
        [.., Stmt, Bal, Tp, CdOrPrtry, Cd | Prtry] => field(Field::BalCode),
        [.., Stmt, Bal, Amt] => field(Field::BalAmt),
        [.., Stmt, Bal, CdtDbtInd] => field(Field::BalInd),
        [.., Stmt, Bal, Dt, Dt] => field(Field::BalDate { time: false }),
        [.., Stmt, Bal, Dt, DtTm] => field(Field::BalDate { time: true }),
        [.., Stmt, Ntry] => Action::Ntry,
        [.., Stmt, Ntry, Amt] => field(Field::NtryAmt),
        [.., Stmt, Ntry, CdtDbtInd] => field(Field::NtryInd),
        [.., Stmt, Ntry, RvslInd] => field(Field::NtryRvsl),
        [.., Stmt, Ntry, BookgDt, Dt] => field(Field::BookgDate { time: false }),
        [.., Stmt, Ntry, BookgDt, DtTm] => field(Field::BookgDate { time: true }),
        [.., Stmt, Ntry, ValDt, Dt] => field(Field::ValDate { time: false }),
        [.., Stmt, Ntry, ValDt, DtTm] => field(Field::ValDate { time: true }),
        [.., Stmt, Ntry, AcctSvcrRef] => field(Field::AcctSvcrRef),
        [.., Stmt, Ntry, BkTxCd, Domn, Cd] => field(Field::DomnCd),
        [.., Stmt, Ntry, BkTxCd, Domn, Fmly, Cd] => field(Field::FmlyCd),
        [.., Stmt, Ntry, BkTxCd, Domn, Fmly, SubFmlyCd] => field(Field::SubFmlyCd),
        [.., Stmt, Ntry, BkTxCd, Prtry, Cd] => field(Field::PrtryCd),
        [.., Stmt, Ntry, NtryDtls, TxDtls] => Action::TxDtls,
        [.., Stmt, Ntry, NtryDtls, TxDtls, Refs, EndToEndId] => field(Field::EndToEndId),
        [.., Stmt, Ntry, NtryDtls, TxDtls, Refs, Uetr] => field(Field::Uetr),
        [.., Stmt, Ntry, NtryDtls, TxDtls, Refs, InstrId] => field(Field::InstrId),
        [.., Stmt, Ntry, NtryDtls, TxDtls, Refs, PmtInfId] => field(Field::PmtInfId),
        [.., Stmt, Ntry, NtryDtls, TxDtls, Refs, MsgId] => field(Field::MsgId),
        [.., Stmt, Ntry, NtryDtls, TxDtls, AddtlTxInf] => field(Field::AddtlTxInf),
        [.., Stmt, Ntry, NtryDtls, TxDtls, RmtInf, Ustrd] => field(Field::Ustrd),
        [.., Stmt, Ntry, AddtlNtryInf] => field(Field::AddtlNtryInf),
        _ => Action::None,
    }
}

/// A camt namespace found on `Document` (or on the message element).
#[derive(Debug, Clone)]
struct Namespace {
    uri: String,
    /// The statement format the namespace names; `None` for another camt message.
    format: Option<StatementFormat>,
}

/// Reads the camt namespace declared on an element, warning about an unknown version.
/// Without a camt namespace, the element's default namespace (if any) is returned, naming no format.
fn namespace_of(e: &BytesStart<'_>, line: u32, diagnostics: &mut Vec<Diagnostic>) -> Option<Namespace> {
    let mut default = None;
    for attr in e.attributes() {
        let Ok(attr) = attr else { break };
        let key = attr.key.into_inner();
        if key != "xmlns" && !key.starts_with("xmlns:") {
            continue;
        }
        let uri = attr.value.trim();
        let Some(rest) = uri.strip_prefix(ISO_NAMESPACE).and_then(|rest| rest.strip_prefix("camt.")) else {
            if key == "xmlns" {
                default = Some(Namespace { uri: uri.to_string(), format: None });
            }
            continue;
        };
        let mut parts = rest.split('.');
        let format = match parts.next() {
            Some("052") => Some(StatementFormat::Camt052),
            Some("053") => Some(StatementFormat::Camt053),
            Some("054") => Some(StatementFormat::Camt054),
            _ => None,
        };
        let variant = parts.next();
        let version = parts.next().and_then(|v| v.parse::<u32>().ok());
        let known =
            variant == Some("001") && version.is_some_and(|v| KNOWN_VERSIONS.contains(&v)) && parts.next().is_none();
        if format.is_some() && !known {
            diagnostics.push(Diagnostic::warning(
                line,
                "Document",
                format!("unknown version {uri}: read as .001.02 to .001.13 are"),
            ));
        }
        return Some(Namespace { uri: uri.to_string(), format });
    }
    default
}

struct MsgState {
    depth: usize,
    line: u32,
    name: &'static str,
    format: StatementFormat,
    created: Option<NaiveDate>,
    statements: usize,
}

/// A balance as read, checked when its `Bal` ends.
struct BalState {
    depth: usize,
    line: u32,
    code: Option<String>,
    amount: Option<(Result<Decimal, String>, u32)>,
    currency: Option<String>,
    indicator: Option<(String, u32)>,
    date: Option<(Result<NaiveDate, String>, u32)>,
}

/// A balance kept, with where its amount is.
struct KeptBalance {
    balance: BankBalance,
    amount_line: u32,
    currency_written: bool,
}

#[derive(Default)]
struct NtryState {
    depth: usize,
    line: u32,
    amount: Option<(Result<Decimal, String>, u32)>,
    currency: Option<String>,
    indicator: Option<(String, u32)>,
    reversal: Option<(String, u32)>,
    booking: Option<(Result<NaiveDate, String>, u32)>,
    value: Option<(Result<NaiveDate, String>, u32)>,
    bank_reference: Option<String>,
    domain: Option<String>,
    family: Option<String>,
    sub_family: Option<String>,
    proprietary: Option<String>,
    transactions: u32,
    end_to_end_id: Option<String>,
    uetr: Option<String>,
    instr_id: Option<String>,
    pmt_inf_id: Option<String>,
    msg_id: Option<String>,
    entry_info: Option<String>,
    tx_info: String,
    unstructured: String,
}

/// A line kept, with where its amount is.
struct LineMeta {
    amount_line: u32,
    currency_written: bool,
}

struct StmtState {
    depth: usize,
    line: u32,
    name: &'static str,
    id: Option<String>,
    electronic_seq: Option<String>,
    legal_seq: Option<String>,
    iban: Option<String>,
    other_id: Option<String>,
    bic: Option<String>,
    account_currency: Option<String>,
    to_date: Option<NaiveDate>,
    opbd: Option<KeptBalance>,
    prcd: Option<KeptBalance>,
    clbd: Option<KeptBalance>,
    clav: Option<KeptBalance>,
    lines: Vec<BankLine>,
    meta: Vec<LineMeta>,
}

#[derive(Debug, Clone, Copy)]
struct Capture {
    field: Field,
    depth: usize,
    line: u32,
}

struct CamtParser<'a> {
    text: &'a str,
    lines: Lines<'a>,
    stack: Vec<Tag>,
    statements: Vec<BankStatement>,
    diagnostics: Vec<Diagnostic>,
    namespace: Option<Namespace>,
    root: Option<(String, u32)>,
    messages: usize,
    msg: Option<MsgState>,
    stmt: Option<StmtState>,
    bal: Option<BalState>,
    ntry: Option<NtryState>,
    capture: Option<Capture>,
    text_buf: String,
    /// The part of `text_buf` from the first to the last character written as a
    /// reference: whitespace written so is content, never trimmed.
    referenced: Option<(usize, usize)>,
}

/// Text without the XML whitespace at its ends, except whitespace written as a
/// character reference (within `referenced`).
fn trim_text(text: &str, referenced: Option<(usize, usize)>) -> &str {
    match referenced {
        Some((first, last)) if first <= last && text.is_char_boundary(first) && text.is_char_boundary(last) => {
            let head = &text[..first];
            let start = head.len() - head.trim_start_matches(XML_WHITESPACE).len();
            let end = last + text[last..].trim_end_matches(XML_WHITESPACE).len();
            &text[start..end]
        }
        _ => text.trim_matches(XML_WHITESPACE),
    }
}

/// Keeps the first non-empty value of a field.
fn keep_first(slot: &mut Option<String>, text: &str) {
    if slot.is_none() && !text.is_empty() {
        *slot = Some(text.to_string());
    }
}

/// Appends to a space-separated list.
fn join_into(list: &mut String, text: &str) {
    if !text.is_empty() {
        if !list.is_empty() {
            list.push(' ');
        }
        list.push_str(text);
    }
}

/// Appends XML text, its line ends normalised as XML requires.
fn push_text(buf: &mut String, text: &str) {
    if text.contains('\r') {
        buf.push_str(&text.replace("\r\n", "\n").replace('\r', "\n"));
    } else {
        buf.push_str(text);
    }
}

impl<'a> CamtParser<'a> {
    fn new(text: &'a str, diagnostics: Vec<Diagnostic>) -> Self {
        CamtParser {
            text,
            lines: Lines { bytes: text.as_bytes(), pos: 0, line: 1 },
            stack: Vec::with_capacity(32),
            statements: Vec::new(),
            diagnostics,
            namespace: None,
            root: None,
            messages: 0,
            msg: None,
            stmt: None,
            bal: None,
            ntry: None,
            capture: None,
            text_buf: String::with_capacity(256),
            referenced: None,
        }
    }

    fn warn(&mut self, line: u32, field: impl Into<String>, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::warning(line, field, message));
    }

    fn error(&mut self, line: u32, field: impl Into<String>, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(line, field, message));
    }

    fn run(&mut self) {
        let mut reader = Reader::from_str(self.text);
        loop {
            let before = reader.buffer_position();
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(err) => {
                    let line = self.lines.at(reader.error_position());
                    let lost = self.unfinished();
                    self.error(line, "XML", format!("malformed XML: {err}; reading stopped{lost}"));
                    return;
                }
            };
            match event {
                Event::Start(e) => self.start(&e, before),
                Event::Empty(e) => {
                    self.start(&e, before);
                    self.end();
                }
                Event::End(_) => self.end(),
                Event::Text(t) if self.capturing() => push_text(&mut self.text_buf, &t),
                Event::CData(c) if self.capturing() => push_text(&mut self.text_buf, &c),
                Event::GeneralRef(r) if self.capturing() => self.push_reference(&r, before),
                Event::Eof => {
                    self.end_of_input();
                    return;
                }
                _ => {}
            }
        }
    }

    /// What reading stops inside, for the error message.
    fn unfinished(&self) -> String {
        match &self.stmt {
            Some(stmt) => format!(" (the {} of line {} is incomplete and left out)", stmt.name, stmt.line),
            None => String::new(),
        }
    }

    fn capturing(&self) -> bool {
        matches!(self.capture, Some(c) if c.depth == self.stack.len())
    }

    fn push_reference(&mut self, reference: &BytesRef<'_>, before: u64) {
        let name: &str = reference;
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ if reference.is_char_ref() => reference.resolve_char_ref().ok().flatten(),
            _ => None,
        };
        match c {
            Some(c) => {
                let start = self.text_buf.len();
                self.text_buf.push(c);
                let end = self.text_buf.len();
                self.referenced = Some(self.referenced.map_or((start, end), |(first, _)| (first, end)));
            }
            None => {
                let line = self.lines.at(before);
                self.warn(line, "XML", format!("unknown or invalid reference &{name};: kept as written"));
                self.text_buf.push('&');
                self.text_buf.push_str(name);
                self.text_buf.push(';');
            }
        }
    }

    fn start(&mut self, e: &BytesStart<'_>, before: u64) {
        let name = e.local_name().into_inner();
        let parent = self.stack.last().copied();
        let tag = match name {
            "BkToCstmrStmt" | "BkToCstmrAcctRpt" | "BkToCstmrDbtCdtNtfctn" if self.msg.is_none() => Tag::Msg,
            "Stmt" | "Rpt" | "Ntfctn" if parent == Some(Tag::Msg) => Tag::Stmt,
            _ => tag_of(name),
        };
        if self.root.is_none() {
            let line = self.lines.at(before);
            self.root = Some((name.to_string(), line));
        }
        self.stack.push(tag);
        if self.capture.is_some() {
            return;
        }
        let depth = self.stack.len();
        match classify(&self.stack) {
            Action::None => {}
            Action::Document => {
                let line = self.lines.at(before);
                self.namespace = namespace_of(e, line, &mut self.diagnostics);
            }
            Action::Msg => {
                let line = self.lines.at(before);
                self.begin_message(e, name, depth, line);
            }
            Action::Stmt => {
                let line = self.lines.at(before);
                let name = match name {
                    "Rpt" => "Rpt",
                    "Ntfctn" => "Ntfctn",
                    _ => "Stmt",
                };
                self.bal = None;
                self.ntry = None;
                self.stmt = Some(StmtState {
                    depth,
                    line,
                    name,
                    id: None,
                    electronic_seq: None,
                    legal_seq: None,
                    iban: None,
                    other_id: None,
                    bic: None,
                    account_currency: None,
                    to_date: None,
                    opbd: None,
                    prcd: None,
                    clbd: None,
                    clav: None,
                    lines: Vec::new(),
                    meta: Vec::new(),
                });
            }
            Action::Bal => {
                let line = self.lines.at(before);
                self.bal = Some(BalState {
                    depth,
                    line,
                    code: None,
                    amount: None,
                    currency: None,
                    indicator: None,
                    date: None,
                });
            }
            Action::Ntry => {
                let line = self.lines.at(before);
                self.ntry = Some(NtryState { depth, line, ..NtryState::default() });
            }
            Action::TxDtls => {
                if let Some(ntry) = &mut self.ntry {
                    ntry.transactions = ntry.transactions.saturating_add(1);
                }
            }
            Action::Field(field) => {
                let line = self.lines.at(before);
                if matches!(field, Field::BalAmt | Field::NtryAmt) {
                    let currency = self.currency_attribute(e, field, line);
                    match field {
                        Field::BalAmt => {
                            if let Some(bal) = &mut self.bal {
                                if bal.amount.is_none() {
                                    bal.currency = currency;
                                }
                            }
                        }
                        _ => {
                            if let Some(ntry) = &mut self.ntry {
                                if ntry.amount.is_none() {
                                    ntry.currency = currency;
                                }
                            }
                        }
                    }
                }
                self.text_buf.clear();
                self.referenced = None;
                self.capture = Some(Capture { field, depth, line });
            }
        }
    }

    /// The `Ccy` attribute of an `Amt`.
    fn currency_attribute(&mut self, e: &BytesStart<'_>, field: Field, line: u32) -> Option<String> {
        for attr in e.attributes() {
            match attr {
                Ok(attr) if attr.key.local_name().into_inner() == "Ccy" => {
                    return match attr.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                        Ok(value) => {
                            let value = value.trim_matches(XML_WHITESPACE);
                            (!value.is_empty()).then(|| value.to_string())
                        }
                        Err(err) => {
                            self.error(line, amount_path(field), format!("unreadable Ccy attribute: {err}"));
                            None
                        }
                    };
                }
                Ok(_) => {}
                Err(err) => {
                    self.error(line, amount_path(field), format!("malformed attributes: {err}"));
                    return None;
                }
            }
        }
        None
    }

    fn begin_message(&mut self, e: &BytesStart<'_>, name: &str, depth: usize, line: u32) {
        let (name, format) = match name {
            "BkToCstmrStmt" => ("BkToCstmrStmt", StatementFormat::Camt053),
            "BkToCstmrAcctRpt" => ("BkToCstmrAcctRpt", StatementFormat::Camt052),
            _ => ("BkToCstmrDbtCdtNtfctn", StatementFormat::Camt054),
        };
        if self.namespace.is_none() {
            self.namespace = namespace_of(e, line, &mut self.diagnostics);
        }
        match &self.namespace {
            Some(ns) if ns.format == Some(format) => {}
            Some(ns) => {
                let message = format!("namespace {} does not match <{name}>: read as {}", ns.uri, format.as_str());
                self.warn(line, name, message);
            }
            None => {
                let message =
                    format!("no camt namespace on Document: read as {} by the element <{name}>", format.as_str());
                self.warn(line, name, message);
            }
        }
        self.messages += 1;
        self.msg = Some(MsgState { depth, line, name, format, created: None, statements: 0 });
    }

    fn end(&mut self) {
        let depth = self.stack.len();
        if let Some(capture) = self.capture {
            if capture.depth == depth {
                self.capture = None;
                self.finish_field(capture);
            }
        }
        if self.ntry.as_ref().is_some_and(|n| n.depth == depth) {
            if let Some(ntry) = self.ntry.take() {
                self.finish_entry(ntry);
            }
        } else if self.bal.as_ref().is_some_and(|b| b.depth == depth) {
            if let Some(bal) = self.bal.take() {
                self.finish_balance(bal);
            }
        } else if self.stmt.as_ref().is_some_and(|s| s.depth == depth) {
            if let Some(stmt) = self.stmt.take() {
                self.finish_statement(stmt);
            }
        } else if self.msg.as_ref().is_some_and(|m| m.depth == depth) {
            if let Some(msg) = self.msg.take() {
                if msg.statements == 0 {
                    let what = match msg.format {
                        StatementFormat::Camt052 => "Rpt",
                        StatementFormat::Camt054 => "Ntfctn",
                        _ => "Stmt",
                    };
                    self.warn(msg.line, msg.name, format!("no {what} in the message"));
                }
            }
        }
        self.stack.pop();
    }

    fn end_of_input(&mut self) {
        let line = self.lines.at(u64::MAX);
        if !self.stack.is_empty() {
            let lost = self.unfinished();
            let open = self.stack.len();
            self.error(
                line,
                "XML",
                format!("unexpected end of input with {open} element(s) not closed (truncated?){lost}"),
            );
        } else if self.messages == 0 {
            match self.root.clone() {
                Some((root, root_line)) => {
                    let ns = self.namespace.as_ref().map(|ns| format!(" (namespace {})", ns.uri)).unwrap_or_default();
                    let version_01 =
                        self.namespace.as_ref().is_some_and(|ns| ns.format.is_some() && ns.uri.ends_with(".001.01"));
                    let message = if version_01 {
                        // Version .001.01 names its messages BkToCstmrStmtV01 … and differs in structure.
                        format!(
                            "camt version .001.01 is not supported{ns}: this reader reads camt.052, camt.053 and camt.054 versions .001.02 to .001.13; ask the bank for .001.02 or later (.001.08 is the most common)"
                        )
                    } else {
                        format!("not a camt.052/053/054 document: no BkToCstmr message in <{root}>{ns}")
                    };
                    self.error(root_line, root.clone(), message);
                }
                None => self.error(1, "XML", "no XML element: not a camt document"),
            }
        }
    }

    fn finish_field(&mut self, capture: Capture) {
        let buf = std::mem::take(&mut self.text_buf);
        let text = trim_text(&buf, self.referenced);
        let line = capture.line;
        match capture.field {
            Field::GrpCreDtTm => {
                let date = self.date_or_warn(text, true, line, "GrpHdr/CreDtTm");
                if let Some(msg) = &mut self.msg {
                    if msg.created.is_none() {
                        msg.created = date;
                    }
                }
            }
            Field::ToDtTm => {
                let date = self.date_or_warn(text, true, line, "FrToDt/ToDtTm");
                if let Some(stmt) = &mut self.stmt {
                    if stmt.to_date.is_none() {
                        stmt.to_date = date;
                    }
                }
            }
            Field::StmtId
            | Field::ElctrncSeqNb
            | Field::LglSeqNb
            | Field::Iban
            | Field::OthrId
            | Field::AcctCcy
            | Field::Bic => {
                if let Some(stmt) = &mut self.stmt {
                    let slot = match capture.field {
                        Field::StmtId => &mut stmt.id,
                        Field::ElctrncSeqNb => &mut stmt.electronic_seq,
                        Field::LglSeqNb => &mut stmt.legal_seq,
                        Field::Iban => &mut stmt.iban,
                        Field::OthrId => &mut stmt.other_id,
                        Field::AcctCcy => &mut stmt.account_currency,
                        _ => &mut stmt.bic,
                    };
                    keep_first(slot, text);
                }
            }
            Field::BalCode | Field::BalAmt | Field::BalInd | Field::BalDate { .. } => {
                if let Some(bal) = &mut self.bal {
                    match capture.field {
                        Field::BalCode => keep_first(&mut bal.code, text),
                        Field::BalAmt => set_once(&mut bal.amount, || amount_at(text, line)),
                        Field::BalInd => set_once(&mut bal.indicator, || (text.to_string(), line)),
                        Field::BalDate { time } => set_once(&mut bal.date, || date_at(text, time, line)),
                        _ => {}
                    }
                }
            }
            _ => {
                if let Some(ntry) = &mut self.ntry {
                    ntry_field(ntry, capture.field, text, line);
                }
            }
        }
        self.text_buf = buf;
    }

    /// A date, or `None` with a warning (absent when the element is empty).
    fn date_or_warn(&mut self, text: &str, time: bool, line: u32, field: &str) -> Option<NaiveDate> {
        let date = parse_date(text, time);
        if date.is_none() {
            self.warn(line, field, format!("invalid date {text:?}: kept as absent"));
        }
        date
    }

    fn finish_balance(&mut self, bal: BalState) {
        let Some(stmt) = &self.stmt else { return };
        let Some(code) = bal.code.as_deref() else {
            self.warn(bal.line, "Bal/Tp", "balance without a type code: ignored");
            return;
        };
        let (code, taken) = match code {
            "OPBD" => ("OPBD", stmt.opbd.is_some()),
            "PRCD" => ("PRCD", stmt.prcd.is_some()),
            "CLBD" => ("CLBD", stmt.clbd.is_some()),
            "CLAV" => ("CLAV", stmt.clav.is_some()),
            _ => return,
        };
        if taken {
            self.warn(bal.line, "Bal", format!("a second {code} balance: ignored"));
            return;
        }
        let (amount, amount_line) = match bal.amount {
            Some((Ok(amount), line)) => (amount, line),
            Some((Err(text), line)) => {
                self.error(line, "Bal/Amt", format!("invalid amount {text:?}: the {code} balance is left out"));
                return;
            }
            None => {
                self.error(bal.line, "Bal/Amt", format!("no amount: the {code} balance is left out"));
                return;
            }
        };
        let what = format!("{code} balance");
        let Some(amount) = self.signed(amount, bal.indicator, bal.line, "Bal/CdtDbtInd", &what) else {
            return;
        };
        let date = match bal.date {
            Some((Ok(date), _)) => Some(date),
            Some((Err(text), line)) => {
                self.warn(line, "Bal/Dt", format!("invalid date {text:?}: kept as absent"));
                None
            }
            None => {
                self.warn(bal.line, "Bal/Dt", format!("no date on the {code} balance"));
                None
            }
        };
        let currency_written = bal.currency.is_some();
        let kept = KeptBalance {
            balance: BankBalance { date, currency: bal.currency.unwrap_or_default(), amount },
            amount_line,
            currency_written,
        };
        let Some(stmt) = &mut self.stmt else { return };
        match code {
            "OPBD" => stmt.opbd = Some(kept),
            "PRCD" => stmt.prcd = Some(kept),
            "CLBD" => stmt.clbd = Some(kept),
            _ => stmt.clav = Some(kept),
        }
    }

    /// The amount signed by its credit/debit indicator; `None` (with an error) when it has none.
    fn signed(
        &mut self,
        amount: Decimal,
        indicator: Option<(String, u32)>,
        owner_line: u32,
        field: &str,
        what: &str,
    ) -> Option<Decimal> {
        match indicator {
            Some((ind, _)) if ind == "CRDT" => Some(amount),
            Some((ind, _)) if ind == "DBIT" => Some(if amount.is_zero() { amount } else { -amount }),
            _ if amount.is_zero() => Some(amount),
            Some((ind, line)) => {
                let message = format!("invalid credit/debit indicator {ind:?}: the {what} is left out");
                self.error(line, field, message);
                None
            }
            None => {
                self.error(owner_line, field, format!("no credit/debit indicator: the {what} is left out"));
                None
            }
        }
    }

    fn finish_entry(&mut self, ntry: NtryState) {
        if self.stmt.is_none() {
            return;
        }
        let what = format!("entry of line {}", ntry.line);
        let (amount, amount_line) = match ntry.amount {
            Some((Ok(amount), line)) => (amount, line),
            Some((Err(text), line)) => {
                self.error(line, "Ntry/Amt", format!("invalid amount {text:?}: the {what} is left out"));
                return;
            }
            None => {
                self.error(ntry.line, "Ntry/Amt", format!("no amount: the {what} is left out"));
                return;
            }
        };
        let Some(amount) = self.signed(amount, ntry.indicator, ntry.line, "Ntry/CdtDbtInd", &what) else {
            return;
        };
        let reversal = match ntry.reversal {
            None => false,
            Some((text, line)) => match text.as_str() {
                "true" | "1" => true,
                "false" | "0" | "" => false,
                _ => {
                    self.warn(line, "Ntry/RvslInd", format!("invalid indicator {text:?}: not a reversal"));
                    false
                }
            },
        };
        let booking_date = self.entry_date(ntry.booking, "Ntry/BookgDt");
        let value_date = self.entry_date(ntry.value, "Ntry/ValDt");
        let type_code = match (&ntry.domain, &ntry.proprietary) {
            (Some(domain), _) => {
                let parts = [Some(domain), ntry.family.as_ref(), ntry.sub_family.as_ref()];
                parts.into_iter().flatten().map(String::as_str).collect::<Vec<_>>().join("/")
            }
            (None, Some(proprietary)) => proprietary.clone(),
            (None, None) => String::new(),
        };
        let single = ntry.transactions == 1;
        let (end_to_end_id, uetr, owner_reference) = if single {
            (
                ntry.end_to_end_id.filter(|id| id != "NOTPROVIDED"),
                ntry.uetr,
                ntry.instr_id.or(ntry.pmt_inf_id).or(ntry.msg_id),
            )
        } else {
            (None, None, None)
        };
        let narrative = match ntry.entry_info {
            Some(info) => info,
            None if !ntry.tx_info.is_empty() => ntry.tx_info,
            None => ntry.unstructured,
        };
        let currency_written = ntry.currency.is_some();
        let line = BankLine {
            source_line: ntry.line,
            booking_date,
            value_date,
            amount,
            currency: ntry.currency.unwrap_or_default(),
            reversal,
            end_to_end_id,
            uetr,
            owner_reference,
            bank_reference: ntry.bank_reference,
            type_code,
            narrative,
        };
        if let Some(stmt) = &mut self.stmt {
            stmt.lines.push(line);
            stmt.meta.push(LineMeta { amount_line, currency_written });
        }
    }

    fn entry_date(&mut self, date: Option<(Result<NaiveDate, String>, u32)>, field: &str) -> Option<NaiveDate> {
        match date {
            Some((Ok(date), _)) => Some(date),
            Some((Err(text), line)) => {
                self.warn(line, field, format!("invalid date {text:?}: kept as absent"));
                None
            }
            None => None,
        }
    }

    fn finish_statement(&mut self, stmt: StmtState) {
        let Some(msg) = &mut self.msg else { return };
        msg.statements += 1;
        let format = msg.format;
        let created = msg.created;
        let name = stmt.name;
        let id = match stmt.id {
            Some(id) => id,
            None => {
                self.error(stmt.line, format!("{name}/Id"), format!("no {name}/Id"));
                String::new()
            }
        };
        let account_id = match stmt.iban.or(stmt.other_id) {
            Some(account) => account,
            None => {
                self.error(stmt.line, format!("{name}/Acct/Id"), "no account: neither IBAN nor Othr/Id");
                String::new()
            }
        };
        let opening = stmt.opbd.or(stmt.prcd);
        let currency = stmt
            .account_currency
            .or_else(|| opening.as_ref().filter(|b| b.currency_written).map(|b| b.balance.currency.clone()))
            .or_else(|| {
                stmt.lines
                    .iter()
                    .zip(&stmt.meta)
                    .find(|(_, meta)| meta.currency_written)
                    .map(|(l, _)| l.currency.clone())
            });
        let currency = match currency {
            Some(currency) => currency,
            None => {
                self.error(
                    stmt.line,
                    format!("{name}/Acct/Ccy"),
                    "no currency: none in Acct/Ccy, the opening balance or an entry",
                );
                String::new()
            }
        };
        let mut balances = [opening, stmt.clbd, stmt.clav];
        for kept in balances.iter_mut().flatten() {
            self.check_currency(
                &mut kept.balance.currency,
                kept.currency_written,
                &currency,
                kept.amount_line,
                "Bal/Amt",
            );
        }
        let [opening, closing, closing_available] = balances;
        let mut lines = stmt.lines;
        for (line, meta) in lines.iter_mut().zip(&stmt.meta) {
            self.check_currency(&mut line.currency, meta.currency_written, &currency, meta.amount_line, "Ntry/Amt");
        }
        let closing = closing.map(|b| b.balance);
        let date = closing
            .as_ref()
            .and_then(|b| b.date)
            .or(stmt.to_date)
            .or_else(|| lines.iter().rev().find_map(|l| l.booking_date))
            .or(created);
        self.statements.push(BankStatement {
            format,
            statement_id: id,
            sequence: stmt.electronic_seq.or(stmt.legal_seq),
            account_id,
            bic: stmt.bic,
            currency,
            opening: opening.map(|b| b.balance),
            closing,
            closing_available: closing_available.map(|b| b.balance),
            date,
            lines,
        });
    }

    /// Fills a missing currency with the statement's, and warns about one that differs.
    fn check_currency(&mut self, currency: &mut String, written: bool, statement: &str, line: u32, field: &str) {
        if !written {
            *currency = statement.to_string();
            if !statement.is_empty() {
                self.warn(line, field, format!("no Ccy: the statement currency {statement} assumed"));
            }
        } else if !statement.is_empty() && currency != statement {
            self.warn(line, field, format!("currency {currency} differs from the statement currency {statement}"));
        }
    }
}

fn amount_path(field: Field) -> &'static str {
    match field {
        Field::BalAmt => "Bal/Amt",
        _ => "Ntry/Amt",
    }
}

fn ntry_field(ntry: &mut NtryState, field: Field, text: &str, line: u32) {
    let first_tx = ntry.transactions == 1;
    match field {
        Field::NtryAmt => set_once(&mut ntry.amount, || amount_at(text, line)),
        Field::NtryInd => set_once(&mut ntry.indicator, || (text.to_string(), line)),
        Field::NtryRvsl => set_once(&mut ntry.reversal, || (text.to_string(), line)),
        Field::BookgDate { time } if !text.is_empty() => set_once(&mut ntry.booking, || date_at(text, time, line)),
        Field::ValDate { time } if !text.is_empty() => set_once(&mut ntry.value, || date_at(text, time, line)),
        Field::AcctSvcrRef => keep_first(&mut ntry.bank_reference, text),
        Field::DomnCd => keep_first(&mut ntry.domain, text),
        Field::FmlyCd => keep_first(&mut ntry.family, text),
        Field::SubFmlyCd => keep_first(&mut ntry.sub_family, text),
        Field::PrtryCd => keep_first(&mut ntry.proprietary, text),
        Field::EndToEndId if first_tx => keep_first(&mut ntry.end_to_end_id, text),
        Field::Uetr if first_tx => keep_first(&mut ntry.uetr, text),
        Field::InstrId if first_tx => keep_first(&mut ntry.instr_id, text),
        Field::PmtInfId if first_tx => keep_first(&mut ntry.pmt_inf_id, text),
        Field::MsgId if first_tx => keep_first(&mut ntry.msg_id, text),
        Field::AddtlTxInf => join_into(&mut ntry.tx_info, text),
        Field::Ustrd => join_into(&mut ntry.unstructured, text),
        Field::AddtlNtryInf => keep_first(&mut ntry.entry_info, text),
        _ => {}
    }
}

/// Sets a field seen for the first time (a repeated field is ignored).
fn set_once<T>(slot: &mut Option<T>, value: impl FnOnce() -> T) {
    if slot.is_none() {
        *slot = Some(value());
    }
}

/// An amount as read: the value, or the text that is not one; with the line of its element.
fn amount_at(text: &str, line: u32) -> (Result<Decimal, String>, u32) {
    (parse_amount(text).ok_or_else(|| text.to_string()), line)
}

/// A date as read: the value, or the text that is not one; with the line of its element.
fn date_at(text: &str, time: bool, line: u32) -> (Result<NaiveDate, String>, u32) {
    (parse_date(text, time).ok_or_else(|| text.to_string()), line)
}

/// A camt amount: digits with an optional `.` and decimals, kept at the scale written.
fn parse_amount(text: &str) -> Option<Decimal> {
    let mut mantissa: i128 = 0;
    let mut digits = 0u32;
    let mut integer_digits = 0u32;
    let mut scale = 0u32;
    let mut dot = false;
    for &b in text.as_bytes() {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if digits > 38 {
                    return None;
                }
                mantissa = mantissa * 10 + i128::from(b - b'0');
                if dot {
                    scale += 1;
                } else {
                    integer_digits += 1;
                }
            }
            b'.' if !dot => dot = true,
            _ => return None,
        }
    }
    if integer_digits == 0 || (dot && scale == 0) {
        return None;
    }
    Decimal::try_from_i128_with_scale(mantissa, scale).ok()
}

/// An ISO date (`YYYY-MM-DD`, an offset allowed after it) or, with `time`, the
/// date part of an ISO date-time (`YYYY-MM-DDThh:mm:ss…`, its offset ignored).
fn parse_date(text: &str, time: bool) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let mut n = 0u32;
        for &d in &b[range] {
            if !d.is_ascii_digit() {
                return None;
            }
            n = n * 10 + u32::from(d - b'0');
        }
        Some(n)
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let rest = &b[10..];
    let rest_ok = if time {
        rest.first() == Some(&b'T') && rest.len() >= 6 && rest[1..3].iter().all(u8::is_ascii_digit) && rest[3] == b':'
    } else {
        matches!(rest, [] | [b'Z']) || (rest.len() == 6 && matches!(rest[0], b'+' | b'-') && rest[3] == b':')
    };
    if !rest_ok {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Writes statements as one camt.053.001.08 document, created on `created` at 00:00:00.
///
/// The group header's `MsgId` is the first statement's id (at most 35
/// characters; `CASHPOOL` when there is none). Each statement gets `Id`,
/// `ElctrncSeqNb` (only for an all-digit sequence), `FrToDt` (the statement date
/// from 00:00:00 to 23:59:59, when it has one), `Acct` (`IBAN` when the account
/// id has an IBAN's shape, else `Othr/Id`; `Ccy`; `Svcr/FinInstnId/BICFI`), the
/// OPBD, CLBD and CLAV balances, and one booked `Ntry` per line (`BkTxCd/Domn`
/// for a `DOMN/FMLY/SUBFMLY` type code, else `Prtry/Cd`; one `TxDtls/Refs` when
/// the line has an owner's reference, EndToEndId or UETR; the narrative as
/// `AddtlNtryInf`). Text is XML-escaped.
pub fn write_camt053(statements: &[BankStatement], created: NaiveDate) -> String {
    let estimate = statements
        .iter()
        .fold(1024usize, |sum, s| sum.saturating_add(2048).saturating_add(s.lines.len().saturating_mul(900)));
    let mut out = String::with_capacity(estimate.min(1 << 30));
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\">\n");
    open(&mut out, 1, "BkToCstmrStmt");
    open(&mut out, 2, "GrpHdr");
    let msg_id: String = match statements.first() {
        Some(first) if !first.statement_id.trim_matches(XML_WHITESPACE).is_empty() => {
            first.statement_id.trim_matches(XML_WHITESPACE).chars().take(35).collect()
        }
        _ => "CASHPOOL".to_string(),
    };
    leaf(&mut out, 3, "MsgId", &msg_id);
    leaf(&mut out, 3, "CreDtTm", &format!("{}T00:00:00", iso_date(created)));
    close(&mut out, 2, "GrpHdr");
    for statement in statements {
        write_statement(&mut out, statement);
    }
    close(&mut out, 1, "BkToCstmrStmt");
    out.push_str("</Document>\n");
    out
}

fn write_statement(out: &mut String, s: &BankStatement) {
    open(out, 2, "Stmt");
    leaf(out, 3, "Id", &s.statement_id);
    if let Some(sequence) = s.sequence.as_deref() {
        if !sequence.is_empty() && sequence.bytes().all(|b| b.is_ascii_digit()) {
            leaf(out, 3, "ElctrncSeqNb", sequence);
        }
    }
    if let Some(date) = s.date {
        open(out, 3, "FrToDt");
        leaf(out, 4, "FrDtTm", &format!("{}T00:00:00", iso_date(date)));
        leaf(out, 4, "ToDtTm", &format!("{}T23:59:59", iso_date(date)));
        close(out, 3, "FrToDt");
    }
    open(out, 3, "Acct");
    open(out, 4, "Id");
    if looks_like_iban(&s.account_id) {
        leaf(out, 5, "IBAN", &s.account_id);
    } else {
        open(out, 5, "Othr");
        leaf(out, 6, "Id", &s.account_id);
        close(out, 5, "Othr");
    }
    close(out, 4, "Id");
    if !s.currency.is_empty() {
        leaf(out, 4, "Ccy", &s.currency);
    }
    if let Some(bic) = s.bic.as_deref() {
        open(out, 4, "Svcr");
        open(out, 5, "FinInstnId");
        leaf(out, 6, "BICFI", bic);
        close(out, 5, "FinInstnId");
        close(out, 4, "Svcr");
    }
    close(out, 3, "Acct");
    for (code, balance) in [("OPBD", &s.opening), ("CLBD", &s.closing), ("CLAV", &s.closing_available)] {
        if let Some(balance) = balance {
            write_balance(out, code, balance);
        }
    }
    for line in &s.lines {
        write_entry(out, line);
    }
    close(out, 2, "Stmt");
}

fn write_balance(out: &mut String, code: &str, balance: &BankBalance) {
    open(out, 3, "Bal");
    open(out, 4, "Tp");
    open(out, 5, "CdOrPrtry");
    leaf(out, 6, "Cd", code);
    close(out, 5, "CdOrPrtry");
    close(out, 4, "Tp");
    write_amount(out, 4, balance.amount, &balance.currency);
    if let Some(date) = balance.date {
        open(out, 4, "Dt");
        leaf(out, 5, "Dt", &iso_date(date));
        close(out, 4, "Dt");
    }
    close(out, 3, "Bal");
}

fn write_entry(out: &mut String, line: &BankLine) {
    open(out, 3, "Ntry");
    write_amount(out, 4, line.amount, &line.currency);
    if line.reversal {
        leaf(out, 4, "RvslInd", "true");
    }
    open(out, 4, "Sts");
    leaf(out, 5, "Cd", "BOOK");
    close(out, 4, "Sts");
    for (name, date) in [("BookgDt", line.booking_date), ("ValDt", line.value_date)] {
        if let Some(date) = date {
            open(out, 4, name);
            leaf(out, 5, "Dt", &iso_date(date));
            close(out, 4, name);
        }
    }
    if let Some(reference) = non_empty(&line.bank_reference) {
        leaf(out, 4, "AcctSvcrRef", reference);
    }
    let parts: Vec<&str> = line.type_code.split('/').collect();
    if parts.len() == 3 && parts.iter().all(|p| !p.is_empty()) {
        open(out, 4, "BkTxCd");
        open(out, 5, "Domn");
        leaf(out, 6, "Cd", parts[0]);
        open(out, 6, "Fmly");
        leaf(out, 7, "Cd", parts[1]);
        leaf(out, 7, "SubFmlyCd", parts[2]);
        close(out, 6, "Fmly");
        close(out, 5, "Domn");
        close(out, 4, "BkTxCd");
    } else if !line.type_code.is_empty() {
        open(out, 4, "BkTxCd");
        open(out, 5, "Prtry");
        leaf(out, 6, "Cd", &line.type_code);
        close(out, 5, "Prtry");
        close(out, 4, "BkTxCd");
    } else {
        indent(out, 4);
        out.push_str("<BkTxCd/>\n");
    }
    let refs = [("InstrId", &line.owner_reference), ("EndToEndId", &line.end_to_end_id), ("UETR", &line.uetr)];
    if refs.iter().any(|(_, value)| non_empty(value).is_some()) {
        open(out, 4, "NtryDtls");
        open(out, 5, "TxDtls");
        open(out, 6, "Refs");
        for (name, value) in refs {
            if let Some(value) = non_empty(value) {
                leaf(out, 7, name, value);
            }
        }
        close(out, 6, "Refs");
        close(out, 5, "TxDtls");
        close(out, 4, "NtryDtls");
    }
    if !line.narrative.is_empty() {
        leaf(out, 4, "AddtlNtryInf", &line.narrative);
    }
    close(out, 3, "Ntry");
}

fn write_amount(out: &mut String, depth: usize, amount: Decimal, currency: &str) {
    indent(out, depth);
    out.push_str("<Amt Ccy=\"");
    escape_into(out, currency);
    out.push_str("\">");
    out.push_str(&amount.abs().to_string());
    out.push_str("</Amt>\n");
    let indicator = if amount.is_sign_negative() && !amount.is_zero() { "DBIT" } else { "CRDT" };
    leaf(out, depth, "CdtDbtInd", indicator);
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// An IBAN's shape: two letters, two digits, then 1 to 30 letters or digits.
fn looks_like_iban(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() >= 5
        && b.len() <= 34
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric)
}

fn iso_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn open(out: &mut String, depth: usize, name: &str) {
    indent(out, depth);
    out.push('<');
    out.push_str(name);
    out.push_str(">\n");
}

fn close(out: &mut String, depth: usize, name: &str) {
    indent(out, depth);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn leaf(out: &mut String, depth: usize, name: &str, text: &str) {
    indent(out, depth);
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_into(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// XML-escapes text or an attribute value: a carriage return as `&#13;` (so that
/// it is not read as a line end), whitespace at either end as a character
/// reference (so that it is not trimmed when read).
fn escape_into(out: &mut String, text: &str) {
    let inner = text.trim_matches(XML_WHITESPACE);
    if inner.len() != text.len() {
        let start = text.len() - text.trim_start_matches(XML_WHITESPACE).len();
        let (head, rest) = text.split_at(start);
        let tail = &rest[inner.len()..];
        whitespace_references(out, head);
        escape_inner(out, inner);
        whitespace_references(out, tail);
    } else {
        escape_inner(out, text);
    }
}

fn whitespace_references(out: &mut String, whitespace: &str) {
    for c in whitespace.chars() {
        out.push_str(match c {
            '\t' => "&#9;",
            '\n' => "&#10;",
            '\r' => "&#13;",
            _ => "&#32;",
        });
    }
}

fn escape_inner(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find(['&', '<', '>', '"', '\'', '\r']) {
        out.push_str(&rest[..at]);
        let c = rest[at..].chars().next().unwrap_or('&');
        out.push_str(match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&apos;",
            _ => "&#13;",
        });
        rest = &rest[at + c.len_utf8()..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Severity;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    /// The 1-based line of the `nth` (0-based) occurrence of `needle`.
    fn line_of(xml: &str, needle: &str, nth: usize) -> u32 {
        let at = xml.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("{needle} not in {xml}")).0;
        1 + count_newlines(&xml.as_bytes()[..at])
    }

    /// A document of message `msg` (`"052"`, `"053"`, `"054"`) and version `version` around `body`.
    fn document(msg: &str, version: u32, body: &str) -> String {
        let (message, statement) = match msg {
            "052" => ("BkToCstmrAcctRpt", "Rpt"),
            "054" => ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
            _ => ("BkToCstmrStmt", "Stmt"),
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.{msg}.001.{version:02}\">\n\
             <{message}>\n\
             <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-03T06:00:00+08:00</CreDtTm></GrpHdr>\n\
             <{statement}>\n{body}\n</{statement}>\n\
             </{message}>\n\
             </Document>\n"
        )
    }

    fn stmt053(body: &str) -> String {
        document("053", 8, body)
    }

    const ACCT: &str = "<Id>S1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>";

    fn entry(amount: &str, ind: &str, extra: &str) -> String {
        format!("<Ntry>\n<Amt Ccy=\"EUR\">{amount}</Amt>\n<CdtDbtInd>{ind}</CdtDbtInd>\n{extra}\n</Ntry>")
    }

    fn balance(code: &str, amount: &str, ccy: &str, ind: &str, date: &str) -> String {
        format!(
            "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>\n<Amt Ccy=\"{ccy}\">{amount}</Amt>\
             <CdtDbtInd>{ind}</CdtDbtInd><Dt><Dt>{date}</Dt></Dt></Bal>"
        )
    }

    fn one(xml: &str) -> (BankStatement, Vec<Diagnostic>) {
        let parsed = parse(xml.as_bytes());
        assert_eq!(parsed.statements.len(), 1, "{xml}\n{parsed:#?}");
        (parsed.statements.into_iter().next().unwrap(), parsed.diagnostics)
    }

    fn clean(xml: &str) -> BankStatement {
        let (statement, diagnostics) = one(xml);
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        statement
    }

    /// Issue 16 item 7: version .001.01 (messages `BkToCstmr…V01`) is refused saying so, and
    /// naming the versions read.
    #[test]
    fn version_01_is_refused_naming_the_versions_read() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                    <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.052.001.01\">\n\
                    <BkToCstmrAcctRptV01><GrpHdr><MsgId>M1</MsgId></GrpHdr></BkToCstmrAcctRptV01>\n\
                    </Document>\n";
        let parsed = parse(text.as_bytes());
        assert!(parsed.statements.is_empty());
        let messages: Vec<&str> = parsed.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert!(
            messages.iter().any(|m| m.contains("version .001.01 is not supported") && m.contains(".001.02 to .001.13")),
            "{messages:?}"
        );
    }

    #[test]
    fn every_version_02_to_13_of_every_message_is_recognised() {
        for (msg, format) in
            [("052", StatementFormat::Camt052), ("053", StatementFormat::Camt053), ("054", StatementFormat::Camt054)]
        {
            for version in KNOWN_VERSIONS {
                let xml = document(msg, version, &format!("{ACCT}{}", entry("1.00", "CRDT", "")));
                let statement = clean(&xml);
                assert_eq!(statement.format, format, "camt.{msg}.001.{version:02}");
                assert_eq!(statement.statement_id, "S1");
                assert_eq!(statement.lines.len(), 1);
            }
        }
    }

    #[test]
    fn an_unknown_version_is_read_the_same_way_with_a_warning() {
        for version in [1, 14, 99] {
            let xml = document("053", version, &format!("{ACCT}{}", entry("1.00", "CRDT", "")));
            let (statement, diagnostics) = one(&xml);
            assert_eq!(statement.lines.len(), 1);
            assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
            assert_eq!(diagnostics[0].severity, Severity::Warning);
            assert_eq!(diagnostics[0].line, 2);
            assert_eq!(diagnostics[0].field, "Document");
            assert!(diagnostics[0].message.contains(&format!("camt.053.001.{version:02}")), "{diagnostics:#?}");
        }
    }

    #[test]
    fn prefixes_and_envelopes_are_ignored() {
        let xml = "<?xml version=\"1.0\"?>\n<env:BizMsg xmlns:env=\"urn:example:envelope\">\n\
                   <h:AppHdr xmlns:h=\"urn:iso:std:iso:20022:tech:xsd:head.001.001.02\"><h:MsgDefIdr>camt.053.001.08</h:MsgDefIdr></h:AppHdr>\n\
                   <c:Document xmlns:c=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><c:BkToCstmrStmt>\n\
                   <c:Stmt><c:Id>P1</c:Id><c:Acct><c:Id><c:Othr><c:Id>12345</c:Id></c:Othr></c:Id></c:Acct>\n\
                   <c:Ntry><c:Amt Ccy=\"USD\">5</c:Amt><c:CdtDbtInd>DBIT</c:CdtDbtInd></c:Ntry>\n\
                   </c:Stmt></c:BkToCstmrStmt></c:Document></env:BizMsg>";
        let statement = clean(xml);
        assert_eq!(statement.format, StatementFormat::Camt053);
        assert_eq!(statement.statement_id, "P1");
        assert_eq!(statement.account_id, "12345");
        assert_eq!(statement.currency, "USD");
        assert_eq!(statement.lines[0].amount, dec("-5"));
        assert_eq!(statement.lines[0].source_line, 6);
    }

    #[test]
    fn a_missing_or_mismatched_namespace_is_read_by_the_message_element_with_a_warning() {
        let body = format!("<Rpt>{ACCT}{}</Rpt>", entry("1", "CRDT", ""));
        let xml = format!("<Document>\n<BkToCstmrAcctRpt>{body}</BkToCstmrAcctRpt></Document>");
        let (statement, diagnostics) = one(&xml);
        assert_eq!(statement.format, StatementFormat::Camt052);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!((diagnostics[0].line, diagnostics[0].severity), (2, Severity::Warning));
        let xml = format!(
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\">\n\n\
             <BkToCstmrAcctRpt>{body}</BkToCstmrAcctRpt></Document>"
        );
        let (statement, diagnostics) = one(&xml);
        assert_eq!(statement.format, StatementFormat::Camt052);
        assert_eq!((diagnostics.len(), diagnostics[0].line), (1, 3), "{diagnostics:#?}");
        assert!(diagnostics[0].message.contains("does not match"));
    }

    #[test]
    fn every_statement_field_is_read() {
        let xml = stmt053(&format!(
            "<Id>STMT-7</Id>\n<ElctrncSeqNb>42</ElctrncSeqNb><LglSeqNb>9</LglSeqNb>\n\
             <FrToDt><FrDtTm>2026-11-01T00:00:00</FrDtTm><ToDtTm>2026-11-01T23:59:59</ToDtTm></FrToDt>\n\
             <Acct><Id><IBAN>CH9300762011623852957</IBAN></Id><Ccy>CHF</Ccy><Ownr><Id><OrgId><Othr><Id>X</Id></Othr></OrgId></Id></Ownr>\n\
             <Svcr><FinInstnId><BICFI>UBSWCHZH80A</BICFI></FinInstnId></Svcr></Acct>\n\
             {}\n{}\n{}\n{}\n{}\n{}",
            balance("PRCD", "99.00", "CHF", "CRDT", "2026-10-31"),
            balance("OPBD", "100.50", "CHF", "DBIT", "2026-10-31"),
            balance("OPAV", "1", "CHF", "CRDT", "2026-10-31"),
            balance("CLBD", "8.850", "CHF", "CRDT", "2026-11-02"),
            "<Bal><Tp><CdOrPrtry><Cd>CLAV</Cd></CdOrPrtry></Tp><Amt Ccy=\"CHF\">7</Amt><CdtDbtInd>CRDT</CdtDbtInd>\
             <Dt><DtTm>2026-11-03T23:30:00-05:00</DtTm></Dt></Bal>",
            balance("XPCD", "3", "CHF", "CRDT", "2026-11-05"),
        ));
        let statement = clean(&xml);
        assert_eq!(statement.format, StatementFormat::Camt053);
        assert_eq!(statement.statement_id, "STMT-7");
        assert_eq!(statement.sequence.as_deref(), Some("42"));
        assert_eq!(statement.account_id, "CH9300762011623852957");
        assert_eq!(statement.bic.as_deref(), Some("UBSWCHZH80A"));
        assert_eq!(statement.currency, "CHF");
        let opening = statement.opening.unwrap();
        assert_eq!(
            (opening.amount, opening.date, opening.currency.as_str()),
            (dec("-100.50"), Some(date(2026, 10, 31)), "CHF")
        );
        let closing = statement.closing.unwrap();
        assert_eq!(closing.amount.to_string(), "8.850");
        assert_eq!(closing.date, Some(date(2026, 11, 2)));
        let available = statement.closing_available.unwrap();
        assert_eq!((available.amount, available.date), (dec("7"), Some(date(2026, 11, 3))));
        assert_eq!(statement.date, Some(date(2026, 11, 2)), "the closing balance's date");
        assert!(statement.lines.is_empty());
    }

    #[test]
    fn sequence_account_and_bic_fall_back() {
        let xml = stmt053(
            "<Id>S</Id><LglSeqNb>0007</LglSeqNb><Acct><Id><Othr><Id>ACC-1</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id>\
             <Ccy>EUR</Ccy><Svcr><FinInstnId><BIC>DEUTDEFF</BIC></FinInstnId></Svcr></Acct>",
        );
        let statement = clean(&xml);
        assert_eq!(statement.sequence.as_deref(), Some("0007"));
        assert_eq!(statement.account_id, "ACC-1");
        assert_eq!(statement.bic.as_deref(), Some("DEUTDEFF"));
        let xml = stmt053("<Id>S</Id><Acct><Id><IBAN>X1</IBAN></Id><Ccy>EUR</Ccy></Acct>");
        let statement = clean(&xml);
        assert_eq!((statement.sequence, statement.bic), (None, None));
    }

    #[test]
    fn the_currency_falls_back_from_the_account_to_the_opening_balance_to_the_first_entry() {
        let acct = "<Id>S</Id><Acct><Id><IBAN>X1</IBAN></Id></Acct>";
        let prcd = balance("PRCD", "1", "GBP", "CRDT", "2026-01-01");
        let opbd = balance("OPBD", "1", "USD", "CRDT", "2026-01-01");
        let statement = clean(&stmt053(&format!("{acct}{prcd}{opbd}")));
        assert_eq!(statement.currency, "USD");
        assert_eq!(statement.opening.unwrap().currency, "USD");
        let statement = clean(&stmt053(&format!("{acct}{prcd}")));
        assert_eq!(statement.currency, "GBP");
        let statement = clean(&stmt053(&format!("{acct}{}", entry("1", "CRDT", ""))));
        assert_eq!(statement.currency, "EUR");
        let xml = stmt053(acct);
        let (statement, diagnostics) = one(&xml);
        assert_eq!(statement.currency, "");
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].severity, Severity::Error);
        assert_eq!(diagnostics[0].field, "Stmt/Acct/Ccy");
        assert_eq!(diagnostics[0].line, line_of(&xml, "<Stmt>", 0));
    }

    #[test]
    fn the_date_falls_back_from_the_closing_balance_to_the_period_to_the_last_booking_to_the_header() {
        let clbd = balance("CLBD", "1", "EUR", "CRDT", "2026-05-05");
        let period = "<FrToDt><FrDtTm>2026-04-01T00:00:00</FrDtTm><ToDtTm>2026-04-04T10:00:00+02:00</ToDtTm></FrToDt>";
        let booked = |d: &str| entry("1", "CRDT", &format!("<BookgDt><Dt>{d}</Dt></BookgDt>"));
        let entries = format!("{}{}{}", booked("2026-03-01"), booked("2026-03-03"), entry("2", "CRDT", ""));
        let statement = clean(&stmt053(&format!("<Id>S</Id>{period}{}{clbd}{entries}", &ACCT[11..])));
        assert_eq!(statement.date, Some(date(2026, 5, 5)));
        let statement = clean(&stmt053(&format!("<Id>S</Id>{period}{}{entries}", &ACCT[11..])));
        assert_eq!(statement.date, Some(date(2026, 4, 4)));
        let statement = clean(&stmt053(&format!("{ACCT}{entries}")));
        assert_eq!(statement.date, Some(date(2026, 3, 3)));
        let statement = clean(&stmt053(ACCT));
        assert_eq!(statement.date, Some(date(2026, 11, 3)), "GrpHdr/CreDtTm, its offset ignored");
    }

    #[test]
    fn every_entry_field_is_read() {
        let xml = stmt053(&format!(
            "{ACCT}\n{}",
            entry(
                "1234.5",
                "DBIT",
                "<RvslInd>false</RvslInd><Sts><Cd>BOOK</Cd></Sts>\n\
                 <BookgDt><DtTm>2026-11-02T23:15:00-03:00</DtTm></BookgDt><ValDt><Dt>2026-11-03</Dt></ValDt>\n\
                 <AcctSvcrRef>BANK-REF-1</AcctSvcrRef>\n\
                 <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>\
                 <Prtry><Cd>NTRF</Cd></Prtry></BkTxCd>\n\
                 <NtryDtls><Btch><MsgId>BATCH</MsgId></Btch><TxDtls><Refs><MsgId>MSG</MsgId><AcctSvcrRef>TXREF</AcctSvcrRef>\
                 <PmtInfId>PMT</PmtInfId><InstrId>INSTR-9</InstrId><EndToEndId>E2E-9</EndToEndId>\
                 <UETR>eb6305c9-1f7f-49de-aed0-16487c27b42d</UETR></Refs><Amt Ccy=\"USD\">1</Amt>\
                 <BkTxCd><Prtry><Cd>TX</Cd></Prtry></BkTxCd>\
                 <AddtlTxInf>tx info</AddtlTxInf><RmtInf><Ustrd>remit</Ustrd></RmtInf></TxDtls></NtryDtls>\n\
                 <AddtlNtryInf>Entry &amp; info</AddtlNtryInf>"
            )
        ));
        let statement = clean(&xml);
        let expected = BankLine {
            source_line: line_of(&xml, "<Ntry>", 0),
            booking_date: Some(date(2026, 11, 2)),
            value_date: Some(date(2026, 11, 3)),
            amount: dec("-1234.5"),
            currency: "EUR".into(),
            reversal: false,
            end_to_end_id: Some("E2E-9".into()),
            uetr: Some("eb6305c9-1f7f-49de-aed0-16487c27b42d".into()),
            owner_reference: Some("INSTR-9".into()),
            bank_reference: Some("BANK-REF-1".into()),
            type_code: "PMNT/ICDT/ESCT".into(),
            narrative: "Entry & info".into(),
        };
        assert_eq!(statement.lines, vec![expected]);
    }

    #[test]
    fn reversals_keep_the_sign_of_their_indicator() {
        let xml = stmt053(&format!(
            "{ACCT}{}{}{}",
            entry("5.00", "DBIT", "<RvslInd>true</RvslInd>"),
            entry("6.00", "CRDT", "<RvslInd>true</RvslInd>"),
            entry("0.00", "DBIT", ""),
        ));
        let lines = clean(&xml).lines;
        assert_eq!((lines[0].amount, lines[0].reversal), (dec("-5.00"), true));
        assert_eq!((lines[1].amount, lines[1].reversal), (dec("6.00"), true));
        assert!(!lines[2].amount.is_sign_negative(), "no negative zero");
        assert_eq!(lines[2].amount.to_string(), "0.00");
    }

    #[test]
    fn type_codes_references_and_narratives_fall_back() {
        let tx = |refs: &str, rest: &str| format!("<TxDtls><Refs>{refs}</Refs>{rest}</TxDtls>");
        let xml = stmt053(&format!(
            "{ACCT}{}{}{}{}{}",
            // Proprietary code; PmtInfId as the owner's reference; AddtlTxInf as the narrative.
            entry(
                "1",
                "CRDT",
                &format!(
                    "<BkTxCd><Prtry><Cd>NTRF</Cd><Issr>SWIFT</Issr></Prtry></BkTxCd><NtryDtls>{}</NtryDtls>",
                    tx(
                        "<MsgId>M</MsgId><PmtInfId>P</PmtInfId><EndToEndId>NOTPROVIDED</EndToEndId>",
                        "<AddtlTxInf>tx</AddtlTxInf><RmtInf><Ustrd>u</Ustrd></RmtInf>"
                    )
                )
            ),
            // MsgId as the owner's reference; Ustrd lines joined.
            entry(
                "2",
                "CRDT",
                &format!(
                    "<BkTxCd/><NtryDtls>{}</NtryDtls>",
                    tx("<MsgId>M</MsgId>", "<RmtInf><Ustrd>one</Ustrd><Ustrd> two </Ustrd></RmtInf>")
                )
            ),
            // Two TxDtls: no references; the narratives of both.
            entry(
                "3",
                "CRDT",
                &format!(
                    "<NtryDtls>{}</NtryDtls><NtryDtls>{}</NtryDtls>",
                    tx(
                        "<EndToEndId>A</EndToEndId><UETR>U</UETR><InstrId>I</InstrId>",
                        "<RmtInf><Ustrd>a</Ustrd></RmtInf>"
                    ),
                    tx("<EndToEndId>B</EndToEndId>", "<RmtInf><Ustrd>b</Ustrd></RmtInf>")
                )
            ),
            // A batch without TxDtls: no references.
            entry("4", "CRDT", "<NtryDtls><Btch><MsgId>B</MsgId><PmtInfId>P</PmtInfId></Btch></NtryDtls>"),
            // Domain without a family.
            entry("5", "CRDT", "<BkTxCd><Domn><Cd>PMNT</Cd></Domn></BkTxCd>"),
        ));
        let lines = clean(&xml).lines;
        assert_eq!(lines[0].type_code, "NTRF");
        assert_eq!(lines[0].owner_reference.as_deref(), Some("P"));
        assert_eq!(lines[0].end_to_end_id, None, "NOTPROVIDED");
        assert_eq!(lines[0].narrative, "tx");
        assert_eq!(lines[1].type_code, "");
        assert_eq!(lines[1].owner_reference.as_deref(), Some("M"));
        assert_eq!(lines[1].narrative, "one two");
        assert_eq!((&lines[2].end_to_end_id, &lines[2].uetr, &lines[2].owner_reference), (&None, &None, &None));
        assert_eq!(lines[2].narrative, "a b");
        assert_eq!((&lines[3].owner_reference, lines[3].narrative.as_str()), (&None, ""));
        assert_eq!(lines[4].type_code, "PMNT");
    }

    #[test]
    fn text_is_unescaped_normalised_and_trimmed() {
        let xml = stmt053(&format!(
            "{ACCT}{}",
            entry(
                "1",
                "CRDT",
                "<AddtlNtryInf>\r\n  a &lt;b&gt; &quot;c&quot; &apos;d&apos; &#x4E2D;&#25991; <![CDATA[<raw> & ]]>x\r\ny\r\n</AddtlNtryInf>"
            )
        ));
        let lines = clean(&xml).lines;
        assert_eq!(lines[0].narrative, "a <b> \"c\" 'd' 中文 <raw> & x\ny");
    }

    #[test]
    fn a_currency_differing_from_the_statement_is_kept_with_a_warning() {
        let xml = stmt053(&format!(
            "{ACCT}\n{}\n{}\n<Ntry><Amt Ccy=\"USD\">3</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry>\n<Ntry><Amt>4</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry>",
            balance("OPBD", "1", "EUR", "CRDT", "2026-01-01"),
            balance("CLBD", "2", "SEK", "CRDT", "2026-01-01"),
        ));
        let (statement, diagnostics) = one(&xml);
        assert_eq!(statement.currency, "EUR");
        assert_eq!(statement.closing.unwrap().currency, "SEK");
        assert_eq!(statement.lines[0].currency, "USD");
        assert_eq!(statement.lines[1].currency, "EUR", "a missing Ccy is the statement's");
        let found: Vec<(u32, Severity, &str, &str)> =
            diagnostics.iter().map(|d| (d.line, d.severity, d.field.as_str(), d.message.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (
                    line_of(&xml, "<Amt Ccy=\"SEK\">", 0),
                    Severity::Warning,
                    "Bal/Amt",
                    "currency SEK differs from the statement currency EUR"
                ),
                (
                    line_of(&xml, "<Amt Ccy=\"USD\">", 0),
                    Severity::Warning,
                    "Ntry/Amt",
                    "currency USD differs from the statement currency EUR"
                ),
                (
                    line_of(&xml, "<Amt>4", 0),
                    Severity::Warning,
                    "Ntry/Amt",
                    "no Ccy: the statement currency EUR assumed"
                ),
            ]
        );
    }

    #[test]
    fn a_bad_amount_drops_its_entry_and_keeps_the_rest() {
        for bad in ["1,50", "-1.50", "1.5.0", "", "1.", ".5", "1e3", "99999999999999999999999999999999999999999"] {
            let xml = stmt053(&format!(
                "{ACCT}\n{}\n{}\n{}",
                entry("1.00", "CRDT", ""),
                entry(bad, "CRDT", ""),
                entry("3.00", "DBIT", "")
            ));
            let (statement, diagnostics) = one(&xml);
            assert_eq!(statement.lines.len(), 2, "{bad:?}");
            assert_eq!(statement.lines[1].amount, dec("-3.00"));
            assert_eq!(diagnostics.len(), 1, "{bad:?}: {diagnostics:#?}");
            let d = &diagnostics[0];
            assert_eq!((d.severity, d.field.as_str()), (Severity::Error, "Ntry/Amt"));
            assert_eq!(d.line, line_of(&xml, "<Amt", 1), "the line of the bad <Amt>");
            let entry_line = line_of(&xml, "<Ntry>", 1);
            assert!(d.message.contains(&format!("entry of line {entry_line}")), "{}", d.message);
        }
    }

    #[test]
    fn an_entry_without_amount_or_indicator_is_left_out_naming_its_line() {
        let xml = stmt053(&format!(
            "{ACCT}\n<Ntry>\n<CdtDbtInd>CRDT</CdtDbtInd></Ntry>\n{}\n{}",
            entry("2", "XXXX", ""),
            "<Ntry><Amt Ccy=\"EUR\">2</Amt></Ntry>"
        ));
        let (statement, diagnostics) = one(&xml);
        assert!(statement.lines.is_empty());
        let found: Vec<(u32, &str)> = diagnostics.iter().map(|d| (d.line, d.field.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (line_of(&xml, "<Ntry>", 0), "Ntry/Amt"),
                (line_of(&xml, "<CdtDbtInd>XXXX", 0), "Ntry/CdtDbtInd"),
                (line_of(&xml, "<Ntry>", 2), "Ntry/CdtDbtInd"),
            ]
        );
        assert!(diagnostics.iter().all(|d| d.severity == Severity::Error));
    }

    #[test]
    fn a_bad_date_is_kept_as_absent_with_a_warning() {
        let xml = stmt053(&format!(
            "{ACCT}\n{}\n{}",
            balance("CLBD", "1", "EUR", "CRDT", "2026-02-30"),
            entry("1", "CRDT", "<BookgDt><Dt>2026-13-01</Dt></BookgDt>\n<ValDt><DtTm>2026-01-01</DtTm></ValDt>")
        ));
        let (statement, diagnostics) = one(&xml);
        assert_eq!(statement.closing.unwrap().date, None);
        assert_eq!((statement.lines[0].booking_date, statement.lines[0].value_date), (None, None));
        let found: Vec<(u32, Severity, &str)> =
            diagnostics.iter().map(|d| (d.line, d.severity, d.field.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (line_of(&xml, "2026-02-30", 0), Severity::Warning, "Bal/Dt"),
                (line_of(&xml, "2026-13-01", 0), Severity::Warning, "Ntry/BookgDt"),
                (line_of(&xml, "<DtTm>2026-01-01", 0), Severity::Warning, "Ntry/ValDt"),
            ]
        );
        assert_eq!(statement.date, Some(date(2026, 11, 3)), "down to the header's date");
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(parse_date("2026-01-31", false), Some(date(2026, 1, 31)));
        assert_eq!(parse_date("2026-01-31+01:00", false), Some(date(2026, 1, 31)));
        assert_eq!(parse_date("2026-01-31Z", false), Some(date(2026, 1, 31)));
        assert_eq!(parse_date("2026-01-31T10:00:00", true), Some(date(2026, 1, 31)));
        assert_eq!(parse_date("2026-01-31T10:00:00.123-11:00", true), Some(date(2026, 1, 31)));
        for bad in ["2026-1-31", "2026-01-31T", "26-01-31", "2026/01/31", "2026-02-29", "", "２０２６-01-31"] {
            assert_eq!(parse_date(bad, false), None, "{bad}");
            assert_eq!(parse_date(bad, true), None, "{bad}");
        }
        assert_eq!(parse_date("2026-01-31", true), None);
        assert_eq!(parse_date("2026-01-31T10:00:00", false), None);
    }

    #[test]
    fn amounts_keep_their_scale() {
        assert_eq!(parse_amount("8.850").unwrap().to_string(), "8.850");
        assert_eq!(parse_amount("000000000473.17").unwrap().to_string(), "473.17");
        assert_eq!(parse_amount("2700").unwrap().scale(), 0);
        assert_eq!(parse_amount("0.00001").unwrap().scale(), 5);
        assert!(parse_amount("79228162514264337593543950335").is_some());
        assert!(parse_amount("79228162514264337593543950336").is_none(), "beyond 96 bits");
        assert!(parse_amount("1.00000000000000000000000000001").is_none(), "scale beyond 28");
    }

    #[test]
    fn truncated_xml_keeps_the_statements_completed_so_far() {
        let file = include_str!("../tests/feeds/camt/camt053.v2.multi.statement.xml");
        let cut = file.find("<Amt Ccy=\"EUR\">7.00").unwrap() + 5;
        let parsed = parse(&file.as_bytes()[..cut]);
        assert_eq!(parsed.statements.len(), 1);
        assert_eq!(parsed.statements[0].statement_id, "253EURNL26VAYB8060476890");
        assert_eq!(parsed.diagnostics.len(), 1, "{:#?}", parsed.diagnostics);
        let d = &parsed.diagnostics[0];
        assert_eq!((d.severity, d.line), (Severity::Error, line_of(file, "<Amt Ccy=\"EUR\">7.00", 0)));
        assert!(d.message.contains(&format!("Stmt of line {}", line_of(file, "<Stmt>", 1))), "{}", d.message);
        // Cut between elements: the end of input is the error.
        let cut = file.find("</BkToCstmrStmt>").unwrap();
        let parsed = parse(&file.as_bytes()[..cut]);
        assert_eq!(parsed.statements.len(), 2);
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.diagnostics[0].line, line_of(file, "</BkToCstmrStmt>", 0));
    }

    #[test]
    fn malformed_xml_stops_with_an_error_on_its_line() {
        let xml = stmt053(&format!(
            "{ACCT}\n{}\n<Ntry><Amt Ccy=\"EUR\">1</Amt></Wrong>\n{}",
            entry("1", "CRDT", ""),
            entry("2", "CRDT", "")
        ));
        let parsed = parse(xml.as_bytes());
        assert!(parsed.statements.is_empty(), "the statement never completed");
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.diagnostics[0].line, line_of(&xml, "</Wrong>", 0));
        assert_eq!(parsed.diagnostics[0].field, "XML");
        let xml = stmt053(&format!("{ACCT}\n{}", entry("1", "CRDT", "<AddtlNtryInf>a & b</AddtlNtryInf>")));
        let parsed = parse(xml.as_bytes());
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.diagnostics[0].line, line_of(&xml, "a & b", 0));
    }

    #[test]
    fn garbage_empty_and_foreign_input_give_an_error() {
        for (input, line) in [
            (&b""[..], 1),
            (b"   \n\n", 1),
            (b"hello, world", 1),
            (b":20:STMT\n:25:123\n:61:", 1),
            (b"\n\n<<<<>>>", 3),
            (b"\xff\xfe<\x00D\x00", 1),
            (b"<?xml version=\"1.0\"?>\n<html><body>hi</body></html>", 2),
            (
                b"<?xml version=\"1.0\"?>\n\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\">\
                  <CstmrCdtTrfInitn/></Document>",
                3,
            ),
        ] {
            let parsed = parse(input);
            assert!(parsed.statements.is_empty());
            assert!(parsed.has_errors(), "{:?}", String::from_utf8_lossy(input));
            let last = parsed.diagnostics.last().unwrap();
            assert_eq!(last.line, line, "{:?}: {:#?}", String::from_utf8_lossy(input), parsed.diagnostics);
        }
    }

    #[test]
    fn non_utf8_input_is_read_with_a_warning() {
        let body = format!("{ACCT}\n{}", entry("1", "CRDT", "<AddtlNtryInf>M\u{fc}ller</AddtlNtryInf>"));
        let latin1 = |text: &str| -> Vec<u8> { text.chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect() };
        let declared = stmt053(&body).replace("UTF-8", "ISO-8859-1");
        let parsed = parse(&latin1(&declared));
        assert_eq!(parsed.statements[0].lines[0].narrative, "Müller");
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.diagnostics[0].line, line_of(&declared, "M\u{fc}ller", 0));
        let undeclared = stmt053(&body);
        let parsed = parse(&latin1(&undeclared));
        assert_eq!(parsed.statements[0].lines[0].narrative, "M\u{fffd}ller");
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.diagnostics[0].severity, Severity::Warning);
    }

    #[test]
    fn every_prefix_of_the_corpus_parses_without_panic_and_with_sane_lines() {
        for file in [
            &include_bytes!("../tests/feeds/camt/camt053.v2.multi.statement.xml")[..],
            &include_bytes!("../tests/feeds/camt/camt054.v8-with-UETR.xml")[..],
        ] {
            for cut in 0..=file.len() {
                let input = &file[..cut];
                let parsed = parse(input);
                let max_line = 1 + count_newlines(input);
                for d in &parsed.diagnostics {
                    assert!(d.line >= 1 && d.line <= max_line, "cut {cut}: {d:?}");
                }
                for line in parsed.statements.iter().flat_map(|s| &s.lines) {
                    assert!(line.source_line >= 1 && line.source_line <= max_line);
                }
                if cut < file.len() - 1 {
                    assert!(parsed.has_errors(), "cut {cut}: a truncated file says so");
                }
            }
        }
    }

    #[test]
    fn the_multi_statement_corpus_file_balances() {
        let parsed = parse(include_bytes!("../tests/feeds/camt/camt053.v2.multi.statement.xml"));
        assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
        assert_eq!(parsed.statements.len(), 2);
        let mut previous_closing = None;
        for statement in &parsed.statements {
            let opening = statement.opening.as_ref().unwrap().amount;
            let closing = statement.closing.as_ref().unwrap().amount;
            let moved: Decimal = statement.lines.iter().map(|l| l.amount).sum();
            assert_eq!(opening + moved, closing, "{}", statement.statement_id);
            if let Some(previous) = previous_closing {
                assert_eq!(opening, previous);
            }
            previous_closing = Some(closing);
        }
        assert_eq!(parsed.statements[0].opening.as_ref().unwrap().amount, dec("18.15"));
        assert_eq!(parsed.statements[1].closing.as_ref().unwrap().amount, dec("20.00"));
        let e2e: Vec<_> = parsed.statements.iter().map(|s| s.lines[0].end_to_end_id.as_deref().unwrap()).collect();
        assert_eq!(e2e, ["000000001", "000000002"]);
    }

    fn sample() -> BankStatement {
        BankStatement {
            format: StatementFormat::Camt053,
            statement_id: "S-1 <&> \"q\" 'a'".into(),
            sequence: Some("00012".into()),
            account_id: "CN12 3456 & <x>".into(),
            bic: Some("BKCHCNBJ300".into()),
            currency: "CNY".into(),
            opening: Some(BankBalance { date: Some(date(2026, 11, 1)), currency: "CNY".into(), amount: dec("-10.00") }),
            closing: Some(BankBalance { date: Some(date(2026, 11, 2)), currency: "CNY".into(), amount: dec("-1.150") }),
            closing_available: Some(BankBalance {
                date: Some(date(2026, 11, 3)),
                currency: "JPY".into(),
                amount: dec("7"),
            }),
            date: Some(date(2026, 11, 2)),
            lines: vec![
                BankLine {
                    source_line: 0,
                    booking_date: Some(date(2026, 11, 2)),
                    value_date: Some(date(2026, 11, 3)),
                    amount: dec("8.850"),
                    currency: "CNY".into(),
                    reversal: false,
                    end_to_end_id: Some("E2E&<>".into()),
                    uetr: Some("eb6305c9-1f7f-49de-aed0-16487c27b42d".into()),
                    owner_reference: Some("SW261102R001U".into()),
                    bank_reference: Some(" B'REF\"\t".into()),
                    type_code: "PMNT/RCDT/ESCT".into(),
                    narrative: "zero balancing\r\nline 2 ]]> &amp;".into(),
                },
                BankLine {
                    source_line: 0,
                    booking_date: Some(date(2026, 11, 2)),
                    value_date: Some(date(2026, 11, 2)),
                    amount: dec("-0.00"),
                    currency: "USD".into(),
                    reversal: true,
                    end_to_end_id: None,
                    uetr: None,
                    owner_reference: None,
                    bank_reference: None,
                    type_code: "NTRF/X".into(),
                    narrative: String::new(),
                },
            ],
        }
    }

    fn without_source_lines(mut statements: Vec<BankStatement>) -> Vec<BankStatement> {
        for line in statements.iter_mut().flat_map(|s| &mut s.lines) {
            line.source_line = 0;
        }
        statements
    }

    #[test]
    fn the_writer_is_the_inverse_of_the_reader() {
        let statements = vec![sample(), BankStatement { statement_id: "S-2".into(), lines: vec![], ..sample() }];
        let xml = write_camt053(&statements, date(2026, 11, 3));
        assert!(xml.contains("<Id>S-1 &lt;&amp;&gt; &quot;q&quot; &apos;a&apos;</Id>"), "{xml}");
        assert!(xml.contains("<MsgId>S-1 &lt;&amp;&gt; &quot;q&quot; &apos;a&apos;</MsgId>"));
        assert!(xml.contains("<CreDtTm>2026-11-03T00:00:00</CreDtTm>"));
        assert!(xml.contains("<Othr>"), "not an IBAN");
        assert!(xml.contains("<AcctSvcrRef>&#32;B&apos;REF&quot;&#9;</AcctSvcrRef>"), "outer whitespace kept");
        assert!(xml.contains("<AddtlNtryInf>zero balancing&#13;\nline 2 ]]&gt; &amp;amp;</AddtlNtryInf>"));
        assert!(xml.contains("<Amt Ccy=\"CNY\">1.150</Amt>\n        <CdtDbtInd>DBIT</CdtDbtInd>"));
        let parsed = parse(xml.as_bytes());
        let warnings: Vec<_> = parsed.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            warnings,
            [
                "currency JPY differs from the statement currency CNY",
                "currency USD differs from the statement currency CNY",
                "currency JPY differs from the statement currency CNY"
            ]
        );
        let mut lines = parsed.statements.iter().flat_map(|s| &s.lines);
        assert!(lines.all(|l| l.source_line > 0));
        assert_eq!(without_source_lines(parsed.statements), statements);
    }

    #[test]
    fn the_writer_writes_ibans_and_numeric_sequences_only_where_they_fit() {
        let mut statement = sample();
        statement.account_id = "DE89370400440532013000".into();
        statement.sequence = Some("12/1".into());
        let xml = write_camt053(&[statement.clone()], date(2026, 11, 3));
        assert!(xml.contains("<IBAN>DE89370400440532013000</IBAN>"));
        assert!(!xml.contains("SeqNb"));
        let parsed = parse(xml.as_bytes());
        statement.sequence = None;
        assert_eq!(without_source_lines(parsed.statements), vec![statement]);
        let xml = write_camt053(&[], date(2026, 11, 3));
        let parsed = parse(xml.as_bytes());
        assert!(parsed.statements.is_empty());
        assert_eq!(parsed.diagnostics.len(), 1, "a warning: no Stmt");
        assert_eq!(parsed.diagnostics[0].severity, Severity::Warning);
    }

    /// Text: XML's special characters, whitespace (also at the ends), some non-ASCII.
    fn text() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9&<>\"' /.:\\-é中\r\n\t]{1,24}"
    }

    fn day() -> impl Strategy<Value = NaiveDate> {
        (1990i32..2100, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| date(y, m, d))
    }

    fn amount(currency: &'static str) -> impl Strategy<Value = Decimal> {
        let scale = if currency == "JPY" { 0 } else { 2 };
        (-10_000_000_000i64..10_000_000_000).prop_map(move |n| Decimal::new(n, scale))
    }

    fn bank_line(currency: &'static str) -> impl Strategy<Value = BankLine> {
        let type_code =
            prop_oneof![Just(String::new()), "[A-Z]{4}/[A-Z]{4}/[A-Z]{4}", "[A-Z0-9]{1,4}", "[A-Z]{2}/[A-Z]{2}",];
        (
            (day(), day(), amount(currency), any::<bool>()),
            (
                proptest::option::of(text().prop_filter("", |s| s != "NOTPROVIDED")),
                proptest::option::of("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
                proptest::option::of(text()),
                proptest::option::of(text()),
            ),
            type_code,
            prop_oneof![Just(String::new()), text()],
        )
            .prop_map(
                move |(
                    (booking, value, amount, reversal),
                    (end_to_end_id, uetr, owner_reference, bank_reference),
                    type_code,
                    narrative,
                )| {
                    BankLine {
                        source_line: 0,
                        booking_date: Some(booking),
                        value_date: Some(value),
                        amount,
                        currency: currency.to_string(),
                        reversal,
                        end_to_end_id,
                        uetr,
                        owner_reference,
                        bank_reference,
                        type_code,
                        narrative,
                    }
                },
            )
    }

    fn statement() -> impl Strategy<Value = BankStatement> {
        prop_oneof![Just("EUR"), Just("JPY"), Just("CNY")].prop_flat_map(|currency| {
            let balance = move || {
                (day(), amount(currency)).prop_map(move |(date, amount)| BankBalance {
                    date: Some(date),
                    currency: currency.into(),
                    amount,
                })
            };
            (
                text(),
                proptest::option::of("[0-9]{1,18}"),
                prop_oneof!["[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}", text()],
                proptest::option::of("[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?"),
                (proptest::option::of(balance()), proptest::option::of(balance()), proptest::option::of(balance())),
                day(),
                proptest::collection::vec(bank_line(currency), 0..6),
            )
                .prop_map(
                    move |(
                        statement_id,
                        sequence,
                        account_id,
                        bic,
                        (opening, closing, closing_available),
                        day,
                        lines,
                    )| {
                        let date = closing.as_ref().and_then(|b| b.date).or(Some(day));
                        BankStatement {
                            format: StatementFormat::Camt053,
                            statement_id,
                            sequence,
                            account_id,
                            bic,
                            currency: currency.to_string(),
                            opening,
                            closing,
                            closing_available,
                            date,
                            lines,
                        }
                    },
                )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn reading_what_was_written_gives_the_statements_back(
            statements in proptest::collection::vec(statement(), 1..4),
            created in day(),
        ) {
            let xml = write_camt053(&statements, created);
            let parsed = parse(xml.as_bytes());
            prop_assert!(parsed.diagnostics.is_empty(), "{:#?}\n{}", parsed.diagnostics, xml);
            prop_assert_eq!(without_source_lines(parsed.statements), statements);
        }

        #[test]
        fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let parsed = parse(&bytes);
            prop_assert!(parsed.diagnostics.iter().all(|d| d.line >= 1));
            let _ = parse(write_camt053(&parsed.statements, date(2026, 1, 1)).as_bytes());
        }
    }
}
