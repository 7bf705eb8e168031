//! SWIFT MT940 (customer statement, end of day) and MT942 (interim transaction
//! report, intraday): a tolerant reader and a writer.
//!
//! A message is block 4 of a SWIFT message, one field a line or more:
//!
//! ```text
//! :20:STMT-1                               statement (transaction) reference
//! :25:BKCHCNBJ300/31000088880001           account, optionally BIC/ first
//! :28C:00012/001                           statement number / page
//! :60F:C261101CNY1000,00                   opening balance (60M: intermediate)
//! :61:2611021102DR250,00NTRFINV-7//B123    a movement ...
//! ZERO BALANCING                           ... with supplementary details
//! :86:/EREF/E2E-1/REMI/sweep to header     ... and its information to the owner
//! :62F:C261102CNY750,00                    closing balance (62M: intermediate)
//! :64:C261102CNY750,00                     closing available balance
//! -
//! ```
//!
//! What the reader makes of it: one [`BankStatement`] per `:20:`; MT942 when
//! the statement has `:34F:` or `:13D:` (or `:13:`), or the file's header says
//! 942 (`{2:O942`, `{2:I942`, a `:942:` pseudo field, a `942` header line).
//!
//! Decisions where the standard leaves room or banks deviate from it:
//!
//! - Whatever stands before the first `:20:` of a message is a header and
//!   skipped: free text, SWIFT blocks `{1:..}{2:..}{4:`, ING's `0000 01INGB..`
//!   and `940 00` lines, Rabobank's `:940:`. A line `-`, or one starting with
//!   `-}`, ends a message. Empty lines are skipped everywhere.
//! - `:61:` is read as: value date `YYMMDD`; optional entry date `MMDD` (its
//!   year is the value date's, one less or one more when the months are more
//!   than six apart); mark `C`, `D`, `RC` (reversal of a credit: negative),
//!   `RD` (positive), MT942's `EC`/`ED` (expected credit/debit, read as `C`/`D`);
//!   an optional funds code letter; the amount (digits and
//!   one decimal comma, kept with the decimals written); a 4-character
//!   transaction type (`NTRF`, `N033`, ...); the owner's reference up to `//`
//!   (`NONREF` is none) and the bank's reference after it. Without `//`, text
//!   beyond the 16 characters of the reference (Rabobank's fixed-width name)
//!   is supplementary detail, as are the lines after `:61:` up to the next
//!   field; supplementary details come first in the narrative.
//! - An invalid date (`0230`) is kept as absent with a warning; the line is
//!   kept. A `:61:` whose value date, mark or amount cannot be read is left out
//!   (error); a missing transaction type is a warning (the line is kept).
//! - `:86:` after a `:61:` (and every further `:86:` before the next other
//!   field) is that line's information; `:86:` elsewhere (before the first
//!   `:61:`, after `:62F:`) is statement information and not kept.
//! - Lines of one `:86:` are joined with one space, except after a line of 65
//!   or more characters (the field's width, tag not counted), which the bank
//!   (or [`write()`]) filled and broke, possibly within a word: the next line is
//!   joined to it without a separator. Several `:86:` fields join with a space.
//! - German structured `:86:` (`166?00GUTSCHRIFT?20...?32Name`): the lines are
//!   concatenated as they stand, the narrative is the remittance text
//!   `?20`..`?29` followed by the name `?32`/`?33` (sub-fields of 27 characters
//!   are continued without a separator, shorter ones joined with a space), or
//!   the posting text `?00` when there is neither; `EREF+` in the remittance
//!   text gives the EndToEndId (up to the next `XXXX+` keyword).
//! - Slash keywords (`/EREF/../UETR/../REMI/..`): EndToEndId, UETR and the
//!   narrative from `REMI` (text before the first keyword comes first); without
//!   `REMI` the whole text is the narrative.
//! - Currency: the opening balance's, else the closing balance's, else (MT942)
//!   the available balance's, else (MT942) the floor limit's `:34F:` or the
//!   `:90D:`/`:90C:` sums'; else empty, with an error. MT942 reports carry no opening or closing balance.
//! - `:25:` is split into BIC and account only when the part before `/` is a
//!   valid BIC (`DABADKKK/1234`); German `BLZ/account` stays whole.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use cashpool_ledger::bank::{BankBalance, BankLine, BankStatement, StatementFormat};

use crate::parse::{decode_text, Diagnostic, Parsed};

/// The width of a `:86:` line (tag not counted): a line this long was broken by its writer.
const INFO_WIDTH: usize = 65;
/// The width of a German structured `:86:` sub-field (`?20`..`?29`, `?32`/`?33`).
const SUBFIELD_WIDTH: usize = 27;
/// The width of the owner's reference in `:61:`.
const REF_WIDTH: usize = 16;
/// The slash keywords (`/EREF/value`) that end a keyword's value.
const KEYWORDS: [&[u8; 4]; 13] = [
    b"EREF", b"UETR", b"REMI", b"CNTP", b"ORDP", b"BENM", b"MARF", b"CSID", b"BUSP", b"PURP", b"IREF", b"TRCD", b"RTRN",
];

/// Parses an MT940/MT942 file: every statement it could read, and what was
/// wrong (never panics, never fails the whole file).
pub fn parse(bytes: &[u8]) -> Parsed {
    let (text, latin1) = decode_text(bytes);
    let mut reader = Reader::default();
    if latin1 {
        let valid = std::str::from_utf8(bytes).err().map_or(0, |e| e.valid_up_to());
        let line = line_number(bytes[..valid].iter().filter(|&&b| b == b'\n').count());
        reader.diagnostics.push(Diagnostic::warning(
            line,
            "charset",
            "not UTF-8 (first invalid byte on this line): read as ISO 8859-1",
        ));
    }
    let text: &str = &text;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (idx, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        reader.line(line_number(idx), line);
    }
    reader.end_message();
    Parsed { statements: reader.statements, diagnostics: reader.diagnostics }
}

/// The 1-based number of the line at 0-based index `idx`.
fn line_number(idx: usize) -> u32 {
    u32::try_from(idx).map_or(u32::MAX, |n| n.saturating_add(1))
}

/// What a continuation line (one that starts no field) belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cont {
    /// Outside a message: a header line.
    Header,
    /// Supplementary details of the pending `:61:`.
    Line,
    /// The pending `:61:`'s `:86:`.
    LineInfo,
    /// `:25P:`: the BIC follows the account.
    AccountBic,
    /// Statement information, a field read and ignored, a line left out: skipped silently.
    Skip,
    /// A one-line field: a further line is reported.
    Single,
}

#[derive(Default)]
struct Reader<'a> {
    statements: Vec<BankStatement>,
    diagnostics: Vec<Diagnostic>,
    current: Option<Builder>,
    cont: Option<Cont>,
    /// The tag of the field a continuation line belongs to (for messages).
    tag: &'a str,
    /// What the last header said: `Some(true)` for 942, `Some(false)` for 940.
    header_942: Option<bool>,
}

struct Builder {
    start_line: u32,
    statement_id: String,
    sequence: Option<String>,
    account_id: Option<String>,
    bic: Option<String>,
    opening: Option<BankBalance>,
    closing: Option<BankBalance>,
    available: Option<BankBalance>,
    other_currency: Option<String>,
    report_date: Option<NaiveDate>,
    is_942: bool,
    lines: Vec<BankLine>,
    pending: Option<Pending>,
}

/// A `:61:` read, waiting for its supplementary details and `:86:`.
struct Pending {
    line: BankLine,
    supplementary: String,
    info: String,
    has_info: bool,
    structured: bool,
    /// The last `:86:` line filled the width: the next is joined without a separator.
    last_full: bool,
}

impl<'a> Reader<'a> {
    fn line(&mut self, no: u32, line: &'a str) {
        let Some(&first) = line.as_bytes().first() else {
            self.blank_line();
            return;
        };
        if first.is_ascii_whitespace() && line.trim().is_empty() {
            self.blank_line();
            return;
        }
        // A DOS end-of-file byte (0x1A) or a `$` some banks put between messages ends the
        // message; what follows it on the line is read as a line of its own.
        if first == 0x1A || first == b'$' {
            self.end_message();
            let rest = line.trim_start_matches(['\u{1a}', '$']);
            if !rest.trim().is_empty() {
                self.line(no, rest);
            }
            return;
        }
        if first == b':' {
            if let Some((tag, content)) = split_tag(line) {
                self.field(no, tag, content);
                return;
            }
        } else if first == b'-' && (line.trim_end() == "-" || line.starts_with("-}")) {
            self.end_message();
            return;
        } else if first == b'{' && line.len() >= 3 && line.as_bytes()[1].is_ascii_digit() && line.as_bytes()[2] == b':'
        {
            self.block(no, line);
            return;
        }
        self.continuation(no, line);
    }

    /// A blank line ends a message that already has its closing balance (some banks separate
    /// messages with blank lines alone); inside a message it is skipped.
    fn blank_line(&mut self) {
        if self.current.as_ref().is_some_and(|builder| builder.closing.is_some()) {
            self.end_message();
        }
    }

    /// A line of SWIFT blocks: `{1:...}{2:O940...}{3:...}{4:` (block 4 may start on it).
    fn block(&mut self, no: u32, line: &'a str) {
        if line.starts_with("{1:") {
            self.end_message();
        }
        if let Some(pos) = line.find("{2:") {
            let kind = line.get(pos + 4..pos + 7);
            if kind == Some("942") {
                self.header_942 = Some(true);
            } else if kind == Some("940") {
                self.header_942 = Some(false);
            }
        }
        if let Some(pos) = line.find("{4:") {
            let rest = &line[pos + 3..];
            if let Some((tag, content)) = split_tag(rest) {
                self.field(no, tag, content);
            }
        }
    }

    fn continuation(&mut self, no: u32, line: &'a str) {
        match self.cont {
            None | Some(Cont::Header) => match line.split_whitespace().next() {
                Some("942") => self.header_942 = Some(true),
                Some("940") => self.header_942 = Some(false),
                _ => {}
            },
            Some(Cont::Line) => {
                if let Some(pending) = self.current.as_mut().and_then(|b| b.pending.as_mut()) {
                    join_spaced(&mut pending.supplementary, line);
                }
            }
            Some(Cont::LineInfo) => {
                if let Some(pending) = self.current.as_mut().and_then(|b| b.pending.as_mut()) {
                    pending.add_info_line(line);
                }
            }
            Some(Cont::AccountBic) => {
                let text = line.trim();
                match self.current.as_mut() {
                    Some(builder) if builder.bic.is_none() && is_bic(text) => builder.bic = Some(text.to_string()),
                    _ => self.diagnostics.push(Diagnostic::warning(no, ":25P:", "not a BIC: line ignored")),
                }
                self.cont = Some(Cont::Single);
            }
            Some(Cont::Skip) => {}
            Some(Cont::Single) => {
                self.diagnostics.push(Diagnostic::warning(
                    no,
                    format!(":{}:", self.tag),
                    "a further line of a one-line field: ignored",
                ));
            }
        }
    }

    fn field(&mut self, no: u32, tag: &'a str, content: &'a str) {
        self.tag = tag;
        match tag {
            "20" => {
                self.end_message();
                let mut builder = Builder::new(no, self.header_942 == Some(true));
                builder.statement_id = content.trim().to_string();
                self.current = Some(builder);
                self.cont = Some(Cont::Single);
                return;
            }
            "940" | "942" => {
                self.end_message();
                self.header_942 = Some(tag == "942");
                return;
            }
            _ => {}
        }
        if self.current.is_none() {
            self.diagnostics.push(Diagnostic::error(
                no,
                format!(":{tag}:"),
                "field outside a statement (no :20: before it): statement read without a reference",
            ));
            self.current = Some(Builder::new(no, self.header_942 == Some(true)));
        }
        let Some(builder) = self.current.as_mut() else { return };
        if tag != "86" {
            builder.finish_line();
        }
        let diagnostics = &mut self.diagnostics;
        let field = || format!(":{tag}:");
        self.cont = Some(Cont::Single);
        match tag {
            "25" | "25P" => {
                if builder.account_id.is_some() {
                    diagnostics.push(Diagnostic::warning(no, field(), "second account field: ignored"));
                } else if tag == "25P" {
                    builder.account_id = Some(content.trim().to_string());
                    self.cont = Some(Cont::AccountBic);
                } else {
                    let text = content.trim();
                    match text.split_once('/') {
                        Some((bic, account)) if is_bic(bic) => {
                            builder.bic = Some(bic.to_string());
                            builder.account_id = Some(account.trim().to_string());
                        }
                        _ => builder.account_id = Some(text.to_string()),
                    }
                }
            }
            "28C" | "28" => {
                if builder.sequence.is_some() {
                    diagnostics.push(Diagnostic::warning(no, field(), "second statement number: ignored"));
                } else {
                    builder.sequence = Some(content.trim().to_string());
                }
            }
            "60F" | "60M" | "62F" | "62M" | "64" => {
                let slot = match tag {
                    "60F" | "60M" => &mut builder.opening,
                    "64" => &mut builder.available,
                    _ => &mut builder.closing,
                };
                if slot.is_some() {
                    diagnostics.push(Diagnostic::warning(no, field(), "second balance of this kind: ignored"));
                } else {
                    match parse_balance(content.trim_end()) {
                        Ok((balance, bad_date)) => {
                            if bad_date {
                                diagnostics.push(Diagnostic::warning(
                                    no,
                                    field(),
                                    format!("invalid date `{}`: balance kept without a date", &content[1..7]),
                                ));
                            }
                            *slot = Some(balance);
                        }
                        Err(why) => {
                            diagnostics.push(Diagnostic::error(no, field(), format!("balance left out: {why}")));
                        }
                    }
                }
            }
            "61" => match parse_line(no, content.trim_end(), diagnostics) {
                Ok(pending) => {
                    builder.pending = Some(pending);
                    self.cont = Some(Cont::Line);
                }
                Err(why) => {
                    diagnostics.push(Diagnostic::error(no, field(), format!("line left out: {why}")));
                    self.cont = Some(Cont::Skip);
                }
            },
            "86" => match builder.pending.as_mut() {
                Some(pending) => {
                    pending.add_info_field(content);
                    self.cont = Some(Cont::LineInfo);
                }
                None => self.cont = Some(Cont::Skip),
            },
            "34F" => {
                builder.is_942 = true;
                if builder.other_currency.is_none() {
                    builder.other_currency = currency_at(content.trim_start());
                }
            }
            "90D" | "90C" => {
                if builder.other_currency.is_none() {
                    builder.other_currency =
                        currency_at(content.trim_start().trim_start_matches(|c: char| c.is_ascii_digit()));
                }
            }
            "13D" | "13" => {
                builder.is_942 = true;
                let text = content.trim().as_bytes();
                match text.get(..6).filter(|d| d.iter().all(u8::is_ascii_digit)) {
                    Some(digits) => {
                        let (year, month, day) = yymmdd(digits);
                        builder.report_date = NaiveDate::from_ymd_opt(year, month, day);
                        if builder.report_date.is_none() {
                            diagnostics.push(Diagnostic::warning(no, field(), "invalid date: report date absent"));
                        }
                    }
                    None => diagnostics.push(Diagnostic::warning(no, field(), "no YYMMDD date: report date absent")),
                }
            }
            "21" | "65" => self.cont = Some(Cont::Skip),
            "NS" => {
                diagnostics.push(Diagnostic::warning(
                    no,
                    field(),
                    "the bank's own non-standard field (:NS:), not part of the statement: ignored with its further lines",
                ));
                self.cont = Some(Cont::Skip);
            }
            _ => {
                diagnostics.push(Diagnostic::warning(no, field(), "unknown field: ignored"));
                self.cont = Some(Cont::Skip);
            }
        }
    }

    /// Ends the message being read (at `-`, a new `:20:`, a header, the end of the file).
    fn end_message(&mut self) {
        if let Some(builder) = self.current.take() {
            let statement = builder.finish(&mut self.diagnostics);
            self.statements.push(statement);
        }
        self.cont = Some(Cont::Header);
    }
}

impl Builder {
    fn new(start_line: u32, header_942: bool) -> Builder {
        Builder {
            start_line,
            statement_id: String::new(),
            sequence: None,
            account_id: None,
            bic: None,
            opening: None,
            closing: None,
            available: None,
            other_currency: None,
            report_date: None,
            is_942: header_942,
            lines: Vec::new(),
            pending: None,
        }
    }

    /// Completes the pending `:61:` with its details and information.
    fn finish_line(&mut self) {
        let Some(pending) = self.pending.take() else { return };
        let Pending { mut line, supplementary, info, has_info, structured, .. } = pending;
        if has_info {
            let read = if structured { read_structured(&info) } else { read_info(info) };
            line.end_to_end_id = read.end_to_end_id;
            line.uetr = read.uetr;
            line.narrative = read.narrative;
        }
        if !supplementary.is_empty() {
            let mut supplementary = supplementary;
            let kept = supplementary.trim_end().len();
            supplementary.truncate(kept);
            line.narrative = if line.narrative.is_empty() {
                supplementary
            } else {
                let mut text = supplementary;
                text.push(' ');
                text.push_str(&line.narrative);
                text
            };
        }
        self.lines.push(line);
    }

    fn finish(mut self, diagnostics: &mut Vec<Diagnostic>) -> BankStatement {
        self.finish_line();
        let format = if self.is_942 { StatementFormat::Mt942 } else { StatementFormat::Mt940 };
        let start = self.start_line;
        let account_id = self.account_id.unwrap_or_else(|| {
            diagnostics.push(Diagnostic::error(start, ":25:", "statement without an account (:25:)"));
            String::new()
        });
        let balance = self.opening.as_ref().or(self.closing.as_ref()).or(self.available.as_ref());
        let currency = match (balance, self.other_currency) {
            (Some(balance), _) => balance.currency.clone(),
            (None, Some(currency)) => currency,
            (None, None) => {
                diagnostics.push(Diagnostic::error(
                    start,
                    ":60F:",
                    "statement without a currency (no opening or closing balance)",
                ));
                String::new()
            }
        };
        for line in &mut self.lines {
            line.currency.clone_from(&currency);
        }
        let (opening, closing) = if self.is_942 {
            (None, None)
        } else {
            if self.opening.is_none() {
                diagnostics.push(Diagnostic::warning(start, ":60F:", "statement without an opening balance"));
            }
            if self.closing.is_none() {
                diagnostics.push(Diagnostic::warning(start, ":62F:", "statement without a closing balance"));
            }
            (self.opening, self.closing)
        };
        let date = closing
            .as_ref()
            .and_then(|b| b.date)
            .or(if self.is_942 { self.report_date } else { None })
            .or_else(|| self.lines.last().and_then(|l| l.booking_date.or(l.value_date)));
        BankStatement {
            format,
            statement_id: self.statement_id,
            sequence: self.sequence,
            account_id,
            bic: self.bic,
            currency,
            opening,
            closing,
            closing_available: self.available,
            date,
            lines: self.lines,
        }
    }
}

impl Pending {
    /// A `:86:` field (its first line) for this line.
    fn add_info_field(&mut self, content: &str) {
        if !self.has_info {
            self.has_info = true;
            self.structured = is_structured(content);
            self.info.push_str(content);
        } else if self.structured {
            self.info.push_str(content);
        } else {
            join_spaced(&mut self.info, content);
        }
        self.last_full = is_full(content, INFO_WIDTH);
    }

    /// A further line of a `:86:` field.
    fn add_info_line(&mut self, line: &str) {
        if self.structured || self.last_full {
            self.info.push_str(line);
        } else {
            join_spaced(&mut self.info, line);
        }
        self.last_full = is_full(line, INFO_WIDTH);
    }
}

/// Appends `text` to `out` with one space between: blanks at the end of `out`
/// and at the start of `text` are dropped (those at the end of `text` are kept
/// until something is joined to it, because a full line may end in a space).
fn join_spaced(out: &mut String, text: &str) {
    let text = text.trim_start();
    let kept = out.trim_end().len();
    out.truncate(kept);
    if text.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(text);
}

/// Whether a line fills its field's width (`width` characters or more).
fn is_full(text: &str, width: usize) -> bool {
    text.len() >= width && (text.is_ascii() || text.chars().count() >= width)
}

/// `:tag:content` → (`tag`, `content`); a tag is 2 or 3 digits and an optional letter.
fn split_tag(line: &str) -> Option<(&str, &str)> {
    let b = line.as_bytes();
    if b.first() != Some(&b':') {
        return None;
    }
    // `:NS:`, the non-standard field some banks add (German banks' MT940 among them).
    if let Some(rest) = line.strip_prefix(":NS:") {
        return Some(("NS", rest));
    }
    let mut i = 1;
    while i < b.len() && i <= 3 && b[i].is_ascii_digit() {
        i += 1;
    }
    if i < 3 {
        return None;
    }
    if i < b.len() && b[i].is_ascii_uppercase() {
        i += 1;
    }
    if b.get(i) == Some(&b':') {
        Some((&line[1..i], &line[i + 1..]))
    } else {
        None
    }
}

/// A BIC (ISO 9362): 4 letters bank, 2 letters country, 2 alphanumerics location, optionally 3 branch.
fn is_bic(text: &str) -> bool {
    let b = text.as_bytes();
    (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && b[6..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Three letters at the start of `text`.
fn currency_at(text: &str) -> Option<String> {
    let code = text.get(..3)?;
    code.bytes().all(|b| b.is_ascii_alphabetic()).then(|| code.to_string())
}

/// The year, month and day of `YYMMDD` (6 ASCII digits): `YY` < 80 is 20YY, else 19YY.
fn yymmdd(digits: &[u8]) -> (i32, u32, u32) {
    let yy = two(&digits[0..2]) as i32;
    let year = if yy < 80 { 2000 + yy } else { 1900 + yy };
    (year, two(&digits[2..4]), two(&digits[4..6]))
}

fn two(digits: &[u8]) -> u32 {
    u32::from(digits[0] - b'0') * 10 + u32::from(digits[1] - b'0')
}

/// An amount with a decimal comma (`1234,56`, `100,`, `,5`, `000000000473,17`), kept
/// with the decimals written. A point is accepted too.
fn parse_amount(text: &str) -> Result<Decimal, String> {
    let mut mantissa: u128 = 0;
    let mut scale: Option<u32> = None;
    let mut digits = 0;
    for &b in text.as_bytes() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(u128::from(b - b'0')))
                    .ok_or_else(|| format!("amount `{text}` is too large"))?;
                digits += 1;
                if let Some(scale) = scale.as_mut() {
                    *scale += 1;
                }
            }
            b',' | b'.' if scale.is_none() => scale = Some(0),
            _ => return Err(format!("amount `{text}` is not a number with a decimal comma")),
        }
    }
    if digits == 0 {
        return Err(if text.is_empty() {
            "amount missing".to_string()
        } else {
            format!("amount `{text}` has no digits")
        });
    }
    let Some(scale) = scale else { return Err(format!("amount `{text}` has no decimal comma")) };
    i128::try_from(mantissa)
        .ok()
        .and_then(|m| Decimal::try_from_i128_with_scale(m, scale).ok())
        .ok_or_else(|| format!("amount `{text}` is out of range"))
}

/// `C261102CNY750,00` → the balance, and whether its date was invalid (kept as absent).
fn parse_balance(text: &str) -> Result<(BankBalance, bool), String> {
    let b = text.as_bytes();
    let negative = match b.first() {
        Some(b'C') => false,
        Some(b'D') => true,
        Some(_) => return Err(format!("mark `{}` is not C or D", text.chars().next().unwrap_or(' '))),
        None => return Err("empty".to_string()),
    };
    let digits = b.get(1..7).filter(|d| d.iter().all(u8::is_ascii_digit)).ok_or("no YYMMDD date")?;
    let (year, month, day) = yymmdd(digits);
    let date = NaiveDate::from_ymd_opt(year, month, day);
    let rest = &text[7..];
    let currency = rest.get(..3).filter(|c| c.bytes().all(|b| b.is_ascii_alphabetic())).ok_or("no currency code")?;
    let amount = parse_amount(rest[3..].trim())?;
    let amount = if negative && !amount.is_zero() { -amount } else { amount };
    Ok((BankBalance { date, currency: currency.to_string(), amount }, date.is_none()))
}

/// Reads a `:61:` (its first line, trailing blanks removed).
fn parse_line(no: u32, text: &str, diagnostics: &mut Vec<Diagnostic>) -> Result<Pending, String> {
    let b = text.as_bytes();
    let value = b.get(..6).filter(|d| d.iter().all(u8::is_ascii_digit)).ok_or_else(|| {
        if text.is_empty() {
            "empty".to_string()
        } else {
            format!("value date `{}` is not YYMMDD", text.chars().take(6).collect::<String>())
        }
    })?;
    let (year, month, day) = yymmdd(value);
    let value_date = NaiveDate::from_ymd_opt(year, month, day);
    if value_date.is_none() {
        diagnostics.push(Diagnostic::warning(
            no,
            ":61:",
            format!("invalid value date `{}`: kept as absent", &text[..6]),
        ));
    }
    let mut pos = 6;
    let entry = b.get(6..10).filter(|d| d.iter().all(u8::is_ascii_digit));
    let booking_date = match entry {
        Some(digits) => {
            pos = 10;
            let (entry_month, entry_day) = (two(&digits[0..2]), two(&digits[2..4]));
            let entry_year = if entry_month > month + 6 {
                year - 1
            } else if month > entry_month + 6 {
                year + 1
            } else {
                year
            };
            let date = NaiveDate::from_ymd_opt(entry_year, entry_month, entry_day);
            if date.is_none() {
                diagnostics.push(Diagnostic::warning(
                    no,
                    ":61:",
                    format!("invalid entry date `{}`: booking date kept as absent", &text[6..10]),
                ));
            }
            date
        }
        None => {
            // Spaces where the optional entry date would be (some banks pad the field): no entry date.
            if b.get(6..10).is_some_and(|d| d.iter().all(|c| *c == b' ')) {
                pos = 10;
            }
            value_date
        }
    };
    let (negative, reversal, width) = match (b.get(pos), b.get(pos + 1)) {
        (Some(b'R'), Some(b'C')) => (true, true, 2),
        (Some(b'R'), Some(b'D')) => (false, true, 2),
        (Some(b'E'), Some(b'C')) => (false, false, 2),
        (Some(b'E'), Some(b'D')) => (true, false, 2),
        (Some(b'C'), _) => (false, false, 1),
        (Some(b'D'), _) => (true, false, 1),
        (None, _) => return Err("debit/credit mark missing".to_string()),
        (Some(_), _) => {
            let mark: String = text[pos..].chars().take(2).collect();
            return Err(format!("mark `{mark}` is not C, D, RC, RD, EC or ED"));
        }
    };
    pos += width;
    if b.get(pos).is_some_and(u8::is_ascii_alphabetic) {
        pos += 1; // funds code
    }
    let amount_end =
        b[pos..].iter().position(|c| !(c.is_ascii_digit() || *c == b',' || *c == b'.')).map_or(b.len(), |n| pos + n);
    let amount_text = &text[pos..amount_end];
    // The transaction type (`N`, `S` or `F` and three characters) follows the amount.
    let type_follows = b.get(amount_end).is_some_and(|c| matches!(c, b'N' | b'S' | b'F'));
    let amount = if type_follows && !amount_text.is_empty() && amount_text.bytes().all(|c| c.is_ascii_digit()) {
        // SWIFT requires the decimal comma, but a whole number followed by the type is unambiguous.
        diagnostics.push(Diagnostic::warning(
            no,
            ":61:",
            format!("amount `{amount_text}` has no decimal comma (SWIFT requires one): read as {amount_text},00"),
        ));
        parse_amount(&format!("{amount_text},"))?
    } else {
        parse_amount(amount_text)?
    };
    let amount = if negative && !amount.is_zero() { -amount } else { amount };
    let rest = &text[amount_end..];
    let (type_code, rest) = match rest.char_indices().map(|(i, _)| i).chain(std::iter::once(rest.len())).nth(4) {
        Some(end) => (&rest[..end], &rest[end..]),
        None => {
            diagnostics.push(Diagnostic::warning(
                no,
                ":61:",
                "transaction type (4 characters) and reference missing: line kept",
            ));
            (rest, "")
        }
    };
    let mut supplementary = String::new();
    let (owner, bank) = match rest.find("//") {
        Some(split) => (&rest[..split], Some(rest[split + 2..].trim())),
        None => match rest.char_indices().nth(REF_WIDTH) {
            Some((end, _)) => {
                supplementary.push_str(rest[end..].trim());
                (&rest[..end], None)
            }
            None => (rest, None),
        },
    };
    let owner = owner.trim();
    let line = BankLine {
        source_line: no,
        booking_date,
        value_date,
        amount,
        currency: String::new(),
        reversal,
        end_to_end_id: None,
        uetr: None,
        owner_reference: (!owner.is_empty() && owner != "NONREF").then(|| owner.to_string()),
        bank_reference: bank.filter(|b| !b.is_empty()).map(str::to_string),
        type_code: type_code.to_string(),
        narrative: String::new(),
    };
    Ok(Pending { line, supplementary, info: String::new(), has_info: false, structured: false, last_full: false })
}

/// What a `:86:` says about its line.
#[derive(Debug, Default, PartialEq, Eq)]
struct Info {
    narrative: String,
    end_to_end_id: Option<String>,
    uetr: Option<String>,
}

/// German structured information: `GVC?00posting text?10..?20remittance..?32name`.
fn is_structured(text: &str) -> bool {
    let b = text.as_bytes();
    let at = |i: usize| b.len() >= i + 3 && b[i] == b'?' && b[i + 1].is_ascii_digit() && b[i + 2].is_ascii_digit();
    at(0) || (b.len() >= 3 && b[..3].iter().all(u8::is_ascii_digit) && at(3))
}

fn read_structured(text: &str) -> Info {
    let b = text.as_bytes();
    let mut marks = Vec::new();
    let mut i = 0;
    while i + 2 < b.len() {
        if b[i] == b'?' && b[i + 1].is_ascii_digit() && b[i + 2].is_ascii_digit() {
            marks.push(i);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut posting = "";
    let mut remittance: Vec<&str> = Vec::new();
    let mut name: Vec<&str> = Vec::new();
    for (k, &start) in marks.iter().enumerate() {
        let end = marks.get(k + 1).copied().unwrap_or(text.len());
        let value = &text[start + 3..end];
        match two(&b[start + 1..start + 3]) {
            0 => posting = value,
            20..=29 => remittance.push(value),
            32 | 33 => name.push(value),
            _ => {}
        }
    }
    let mut narrative = join_subfields(&remittance);
    let name = join_subfields(&name);
    if !name.is_empty() {
        if !narrative.is_empty() {
            narrative.push(' ');
        }
        narrative.push_str(&name);
    }
    if narrative.is_empty() {
        narrative = posting.trim().to_string();
    }
    Info { narrative, end_to_end_id: structured_eref(&remittance), uetr: None }
}

/// Sub-fields of 27 characters run on without a separator; shorter ones end a word.
fn join_subfields(parts: &[&str]) -> String {
    let mut out = String::new();
    let mut last_full = false;
    for part in parts {
        if last_full {
            out.push_str(part);
        } else {
            join_spaced(&mut out, part);
        }
        last_full = is_full(part, SUBFIELD_WIDTH);
    }
    let kept = out.trim_end().len();
    out.truncate(kept);
    if out.starts_with(char::is_whitespace) {
        out = out.trim_start().to_string();
    }
    out
}

/// `XXXX+` (SEPA keyword in German structured text) at the start of `b`.
fn sepa_keyword(b: &[u8], also_colon: bool) -> bool {
    b.len() >= 5 && b[..4].iter().all(u8::is_ascii_uppercase) && (b[4] == b'+' || (also_colon && b[4] == b':'))
}

/// The text of `part` up to the next SEPA keyword, and whether one cut it.
fn until_sepa_keyword(part: &str) -> (&str, bool) {
    let b = part.as_bytes();
    match (0..b.len()).find(|&i| sepa_keyword(&b[i..], false)) {
        Some(i) => (&part[..i], true),
        None => (part, false),
    }
}

/// `EREF+value` in the remittance sub-fields: the value runs on into the next
/// sub-field while one is full and the next starts no keyword.
fn structured_eref(parts: &[&str]) -> Option<String> {
    let (first, pos) = parts.iter().enumerate().find_map(|(i, part)| part.find("EREF+").map(|pos| (i, pos)))?;
    let part = parts[first];
    let (text, cut) = until_sepa_keyword(&part[pos + 5..]);
    let mut value = text.to_string();
    let mut more = !cut && is_full(part, SUBFIELD_WIDTH);
    for next in &parts[first + 1..] {
        if !more || sepa_keyword(next.as_bytes(), true) {
            break;
        }
        let (text, cut) = until_sepa_keyword(next);
        value.push_str(text);
        more = !cut && is_full(next, SUBFIELD_WIDTH);
    }
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// `/KEYWORD/` at `i` of `b`: the keyword's index in [`KEYWORDS`].
fn keyword_at(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'/') || b.get(i + 5) != Some(&b'/') {
        return None;
    }
    let word = &b[i + 1..i + 5];
    KEYWORDS.iter().position(|k| &k[..] == word)
}

/// The next `/KEYWORD/` at or after `from`: (position, keyword index).
fn next_keyword(text: &str, from: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut at = from;
    while let Some(n) = text.get(at..).and_then(|rest| rest.find('/')) {
        let i = at + n;
        if let Some(k) = keyword_at(b, i) {
            return Some((i, k));
        }
        at = i + 1;
    }
    None
}

/// Unstructured `:86:`: slash keywords when there are any, else the whole text.
fn read_info(text: String) -> Info {
    let Some((first, mut keyword)) = next_keyword(&text, 0) else {
        let trimmed = text.trim();
        let narrative = if trimmed.len() == text.len() { text } else { trimmed.to_string() };
        return Info { narrative, end_to_end_id: None, uetr: None };
    };
    let mut info = Info::default();
    let mut remittance: Option<String> = None;
    let mut start = first;
    loop {
        let value_start = start + 6;
        let next = next_keyword(&text, value_start);
        let value = text[value_start..next.map_or(text.len(), |(i, _)| i)].trim();
        let some = || (!value.is_empty()).then(|| value.to_string());
        match KEYWORDS[keyword] {
            b"EREF" if info.end_to_end_id.is_none() => info.end_to_end_id = some(),
            b"UETR" if info.uetr.is_none() => info.uetr = some(),
            b"REMI" => join_spaced(remittance.get_or_insert_with(String::new), value),
            _ => {}
        }
        match next {
            Some((i, k)) => (start, keyword) = (i, k),
            None => break,
        }
    }
    info.narrative = match remittance {
        Some(remittance) => {
            let mut narrative = text[..first].trim().to_string();
            join_spaced(&mut narrative, &remittance);
            narrative
        }
        None => text.trim().to_string(),
    };
    info
}

/// Writes statements as MT940 (block 4 bodies, LF line ends, each message ended by a line `-`).
///
/// [`parse`] reads back the same statements (but the lines' `source_line`) when
/// their currencies are 3-letter codes, the dates lie in 1980..=2079, the owner
/// reference is at most 16 characters without `/` (and not `NONREF`), the
/// narrative has no line break, no double space and no blank at either end,
/// the texts hold no `/EREF/`-style keywords or `?20`-style sub-fields, and the
/// statement's date is the one [`parse`] derives (closing date, else the last
/// line's booking date). An absent date is written as an invalid one (`000000`,
/// entry date `0000`), which [`parse`] reads as absent again, with a warning.
pub fn write(statements: &[BankStatement]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(statements.iter().map(|s| 200 + s.lines.len() * 160).sum());
    for statement in statements {
        let _ = writeln!(out, ":20:{}", statement.statement_id);
        match &statement.bic {
            Some(bic) => {
                let _ = writeln!(out, ":25:{bic}/{}", statement.account_id);
            }
            None => {
                let _ = writeln!(out, ":25:{}", statement.account_id);
            }
        }
        if let Some(sequence) = &statement.sequence {
            let _ = writeln!(out, ":28C:{sequence}");
        }
        if let Some(balance) = &statement.opening {
            write_balance(&mut out, "60F", balance);
        }
        for line in &statement.lines {
            out.push_str(":61:");
            write_yymmdd(&mut out, line.value_date);
            match line.booking_date {
                Some(date) => {
                    let _ = write!(out, "{:02}{:02}", date.month(), date.day());
                }
                None => out.push_str("0000"),
            }
            out.push_str(match (line.reversal, line.amount.is_sign_negative() && !line.amount.is_zero()) {
                (false, false) => "C",
                (false, true) => "D",
                (true, true) => "RC",
                (true, false) => "RD",
            });
            write_amount(&mut out, line.amount);
            out.push_str(if line.type_code.is_empty() { "NTRF" } else { &line.type_code });
            out.push_str(line.owner_reference.as_deref().unwrap_or("NONREF"));
            if let Some(bank) = &line.bank_reference {
                out.push_str("//");
                out.push_str(bank);
            }
            out.push('\n');
            let has_ids = line.end_to_end_id.is_some() || line.uetr.is_some();
            if has_ids || !line.narrative.is_empty() {
                let mut info = String::new();
                let text: &str = if has_ids {
                    if let Some(e2e) = &line.end_to_end_id {
                        info.push_str("/EREF/");
                        info.push_str(e2e);
                    }
                    if let Some(uetr) = &line.uetr {
                        info.push_str("/UETR/");
                        info.push_str(uetr);
                    }
                    info.push_str("/REMI/");
                    info.push_str(&line.narrative);
                    &info
                } else {
                    &line.narrative
                };
                out.push_str(":86:");
                write_wrapped(&mut out, text);
            }
        }
        if let Some(balance) = &statement.closing {
            write_balance(&mut out, "62F", balance);
        }
        if let Some(balance) = &statement.closing_available {
            write_balance(&mut out, "64", balance);
        }
        out.push_str("-\n");
    }
    out
}

/// Writes `text` in lines of at most [`INFO_WIDTH`] characters, each ended by LF:
/// broken at a space (dropped) into lines shorter than the width where there is
/// one, else cut at exactly the width, so that [`parse`] joins them back.
fn write_wrapped(out: &mut String, mut text: &str) {
    // `text[..cut]` is the first INFO_WIDTH characters; a space among them
    // (not the first) ends a line of at most INFO_WIDTH - 1 characters.
    while let Some((cut, _)) = text.char_indices().nth(INFO_WIDTH) {
        let (line, rest) = match text[..cut].rfind(' ') {
            Some(space) if space > 0 => (&text[..space], &text[space + 1..]),
            _ => (&text[..cut], &text[cut..]),
        };
        out.push_str(line);
        out.push('\n');
        text = rest;
    }
    out.push_str(text);
    out.push('\n');
}

fn write_yymmdd(out: &mut String, date: Option<NaiveDate>) {
    use std::fmt::Write as _;
    match date {
        Some(date) => {
            let _ = write!(out, "{:02}{:02}{:02}", date.year().rem_euclid(100), date.month(), date.day());
        }
        None => out.push_str("000000"),
    }
}

fn write_amount(out: &mut String, amount: Decimal) {
    use std::fmt::Write as _;
    let start = out.len();
    let _ = write!(out, "{}", amount.abs());
    match out[start..].find('.') {
        Some(point) => out.replace_range(start + point..start + point + 1, ","),
        None => out.push(','),
    }
}

fn write_balance(out: &mut String, tag: &str, balance: &BankBalance) {
    out.push(':');
    out.push_str(tag);
    out.push(':');
    out.push(if balance.amount.is_sign_negative() && !balance.amount.is_zero() { 'D' } else { 'C' });
    write_yymmdd(out, balance.date);
    out.push_str(&balance.currency);
    write_amount(out, balance.amount);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Severity;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn parse_str(text: &str) -> Parsed {
        parse(text.as_bytes())
    }

    /// Parses and expects exactly one statement and no diagnostics.
    fn one(text: &str) -> BankStatement {
        let parsed = parse_str(text);
        assert_eq!(parsed.diagnostics, vec![], "{text}");
        assert_eq!(parsed.statements.len(), 1, "{text}");
        parsed.statements.into_iter().next().unwrap()
    }

    /// The diagnostics as (line, severity, field).
    fn found(parsed: &Parsed) -> Vec<(u32, Severity, &str)> {
        parsed.diagnostics.iter().map(|d| (d.line, d.severity, d.field.as_str())).collect()
    }

    const HEAD: &str = ":20:STMT-1\n:25:31000088880001\n:28C:00012/001\n:60F:C261101CNY1000,00\n";
    const TAIL: &str = ":62F:C261102CNY750,00\n";

    /// A statement with the given body between HEAD (4 lines) and TAIL.
    fn body(lines: &str) -> String {
        format!("{HEAD}{lines}{TAIL}")
    }

    fn without_source_lines(mut statements: Vec<BankStatement>) -> Vec<BankStatement> {
        for statement in &mut statements {
            for line in &mut statement.lines {
                line.source_line = 0;
            }
        }
        statements
    }

    // ---- the statement and its fields ----

    #[test]
    fn reads_a_plain_statement_exactly() {
        let st = one(&body(":61:2611021102DR250,00NTRFINV-7//B123\n:86:sweep to header\n:64:C261102CNY740,5\n"));
        assert_eq!(st.format, StatementFormat::Mt940);
        assert_eq!(st.statement_id, "STMT-1");
        assert_eq!(st.sequence.as_deref(), Some("00012/001"));
        assert_eq!(st.account_id, "31000088880001");
        assert_eq!(st.bic, None);
        assert_eq!(st.currency, "CNY");
        assert_eq!(
            st.opening,
            Some(BankBalance { date: date(2026, 11, 1), currency: "CNY".into(), amount: dec("1000.00") })
        );
        assert_eq!(
            st.closing,
            Some(BankBalance { date: date(2026, 11, 2), currency: "CNY".into(), amount: dec("750.00") })
        );
        assert_eq!(st.closing_available.as_ref().unwrap().amount, dec("740.5"));
        assert_eq!(st.date, date(2026, 11, 2));
        assert_eq!(
            st.lines,
            vec![BankLine {
                source_line: 5,
                booking_date: date(2026, 11, 2),
                value_date: date(2026, 11, 2),
                amount: dec("-250.00"),
                currency: "CNY".into(),
                reversal: false,
                end_to_end_id: None,
                uetr: None,
                owner_reference: Some("INV-7".into()),
                bank_reference: Some("B123".into()),
                type_code: "NTRF".into(),
                narrative: "sweep to header".into(),
            }]
        );
    }

    /// Issue 16 item 4: a bank's `:NS:` field is named in the warning, its further lines with it,
    /// and the statement reads as without it.
    #[test]
    fn a_non_standard_ns_field_is_named_and_skipped_with_its_lines() {
        let with_ns =
            body(":61:2611021102DR250,00NTRFINV-7//B123\n:86:sweep to header\n:NS:01BANK INTERNAL\n02REF 7\n");
        let parsed = parse_str(&with_ns);
        assert_eq!(found(&parsed), vec![(7, Severity::Warning, ":NS:")]);
        assert!(parsed.diagnostics[0].message.contains("non-standard field (:NS:)"), "{:?}", parsed.diagnostics);
        let plain = one(&body(":61:2611021102DR250,00NTRFINV-7//B123\n:86:sweep to header\n"));
        let read = parsed.statements.into_iter().next().unwrap();
        assert_eq!(without_source_lines(vec![read]), without_source_lines(vec![plain]));
    }

    /// Issue 16 items 1 and 3: spaces for the optional entry date, and an amount without its
    /// decimal comma (with a warning naming it), are read.
    #[test]
    fn a_blank_entry_date_and_an_amount_without_a_comma_are_read() {
        let st = one(&body(":61:261102    DD212,39NTRFINV-8//B9\n:86:charges\n"));
        assert_eq!(st.lines.len(), 1);
        assert_eq!((st.lines[0].booking_date, st.lines[0].amount), (date(2026, 11, 2), dec("-212.39")));
        assert_eq!(st.lines[0].owner_reference.as_deref(), Some("INV-8"));
        let parsed = parse_str(&body(":61:2611021102C500NTRFINV-9//B10\n:86:receipt\n"));
        assert_eq!(found(&parsed), vec![(5, Severity::Warning, ":61:")]);
        assert!(parsed.diagnostics[0].message.contains("no decimal comma"), "{:?}", parsed.diagnostics);
        assert_eq!(parsed.statements[0].lines[0].amount, dec("500"));
    }

    /// Issue 16 item 2: a DOS end-of-file byte, a `$` or a blank line after the closing balance
    /// between two messages ends the first: both statements are read, each with its own lines.
    #[test]
    fn message_separators_end_a_message() {
        let first = body(":61:2611021102DR250,00NTRFINV-7//B123\n:86:one\n");
        let second = first.replace("STMT-1", "STMT-2").replace("31000088880001", "32000077770001");
        for separator in ["\u{1a}", "$", "\n", "\u{1a}\n"] {
            let text = format!("{first}{separator}{second}");
            let parsed = parse_str(&text);
            assert_eq!(parsed.statements.len(), 2, "{separator:?}: {:?}", parsed.diagnostics);
            assert_eq!(parsed.statements[1].statement_id, "STMT-2", "{separator:?}");
            assert_eq!(parsed.statements[1].account_id, "32000077770001", "{separator:?}");
            assert!(parsed.statements.iter().all(|st| st.lines.len() == 1), "{separator:?}");
        }
    }

    #[test]
    fn crlf_and_lf_read_the_same() {
        let lf = body(":61:2611021102DR250,00NTRFINV-7//B123\n:86:sweep\nto header\n");
        let crlf = lf.replace('\n', "\r\n");
        assert_eq!(one(&lf), one(&crlf));
    }

    #[test]
    fn account_splits_off_a_valid_bic_only() {
        let st = one(":20:A\n:25:DABADKKK/1234567890\n:60F:C261101DKK1,00\n:62F:C261101DKK1,00\n");
        assert_eq!((st.bic.as_deref(), st.account_id.as_str()), (Some("DABADKKK"), "1234567890"));
        let st = one(":20:A\n:25: BKCHCNBJ300/31000088880001 \n:60F:C261101CNY1,00\n:62F:C261101CNY1,00\n");
        assert_eq!((st.bic.as_deref(), st.account_id.as_str()), (Some("BKCHCNBJ300"), "31000088880001"));
        // German bank code / account: not a BIC, kept whole.
        let st = one(":20:A\n:25:50880050/0194774600888\n:60F:C261101EUR1,00\n:62F:C261101EUR1,00\n");
        assert_eq!((st.bic, st.account_id.as_str()), (None, "50880050/0194774600888"));
        // Lower case, wrong length: not a BIC.
        let st = one(":20:A\n:25:dabadkkk/1\n:60F:C261101EUR1,00\n:62F:C261101EUR1,00\n");
        assert_eq!((st.bic, st.account_id.as_str()), (None, "dabadkkk/1"));
        let st = one(":20:A\n:25:DABADKKK1/1\n:60F:C261101EUR1,00\n:62F:C261101EUR1,00\n");
        assert_eq!((st.bic, st.account_id.as_str()), (None, "DABADKKK1/1"));
    }

    #[test]
    fn account_25p_carries_the_bic_on_its_second_line() {
        let st = one(":20:A\n:25P:31000088880001\nBKCHCNBJ300\n:60F:C261101CNY1,00\n:62F:C261101CNY1,00\n");
        assert_eq!((st.bic.as_deref(), st.account_id.as_str()), (Some("BKCHCNBJ300"), "31000088880001"));
    }

    #[test]
    fn a_statement_without_account_is_kept_with_an_error() {
        let parsed = parse_str(":20:A\n:28C:1\n:60F:C261101EUR1,00\n:62F:C261101EUR1,00\n");
        assert_eq!(parsed.statements.len(), 1);
        assert_eq!(parsed.statements[0].account_id, "");
        assert_eq!(found(&parsed), vec![(1, Severity::Error, ":25:")]);
    }

    #[test]
    fn sequence_is_kept_as_written_from_28c_or_28() {
        assert_eq!(one(&body("")).sequence.as_deref(), Some("00012/001"));
        let st = one(":20:A\n:25:1\n:28:00000/00 \n:60F:C261101EUR1,00\n:62F:C261101EUR1,00\n");
        assert_eq!(st.sequence.as_deref(), Some("00000/00"));
        let st = one(":20:A\n:25:1\n:28C:000\n:60F:C261101EUR1,00\n:62F:C261101EUR1,00\n");
        assert_eq!(st.sequence.as_deref(), Some("000"));
    }

    #[test]
    fn debit_balances_are_negative_and_zero_padded_amounts_read() {
        let st = one(":20:A\n:25:1\n:60F:D070903EUR000000001234,5\n:62M:C070904EUR0000000000,00\n:64:D070904EUR1,\n");
        assert_eq!(st.opening.unwrap().amount, dec("-1234.5"));
        let closing = st.closing.unwrap();
        assert_eq!((closing.amount, closing.date), (dec("0.00"), date(2007, 9, 4)));
        assert!(!closing.amount.is_sign_negative());
        assert_eq!(st.closing_available.unwrap().amount, dec("-1"));
    }

    #[test]
    fn two_digit_years_pivot_at_80() {
        let st = one(":20:A\n:25:1\n:60F:C791231EUR1,00\n:62F:C800101EUR1,00\n");
        assert_eq!(st.opening.unwrap().date, date(2079, 12, 31));
        assert_eq!(st.closing.unwrap().date, date(1980, 1, 1));
    }

    #[test]
    fn currency_comes_from_opening_else_closing_else_an_error() {
        let st = one(":20:A\n:25:1\n:60M:C261101USD1,00\n:62F:C261101EUR1,00\n");
        assert_eq!(st.currency, "USD");
        let parsed = parse_str(":20:A\n:25:1\n:61:261101C1,00NTRFX\n:62F:C261101JPY1,\n");
        assert_eq!(parsed.statements[0].currency, "JPY");
        assert_eq!(parsed.statements[0].lines[0].currency, "JPY");
        assert_eq!(found(&parsed), vec![(1, Severity::Warning, ":60F:")]);
        let parsed = parse_str(":20:A\n:25:1\n:61:261101C1,00NTRFX\n");
        assert_eq!(parsed.statements[0].currency, "");
        assert_eq!(parsed.statements[0].lines.len(), 1);
        assert!(parsed.diagnostics.iter().any(|d| d.severity == Severity::Error && d.line == 1), "{parsed:?}");
    }

    #[test]
    fn statement_date_is_the_closing_date_else_the_last_lines_date() {
        let parsed = parse_str(":20:A\n:25:1\n:60F:C261101EUR1,00\n:61:2611031104C1,00NTRF\n:61:261105C1,00NTRF\n");
        assert_eq!(parsed.statements[0].date, date(2026, 11, 5));
        let parsed = parse_str(":20:A\n:25:1\n:60F:C261101EUR1,00\n:61:2611031104C1,00NTRF\n");
        assert_eq!(parsed.statements[0].date, date(2026, 11, 4));
        let parsed = parse_str(":20:A\n:25:1\n:60F:C261101EUR1,00\n:61:2611030230C1,00NTRF\n");
        assert_eq!(parsed.statements[0].date, date(2026, 11, 3));
        assert_eq!(one(":20:A\n:25:1\n:60F:C261101EUR1,00\n:62F:C261109EUR1,00\n").date, date(2026, 11, 9));
    }

    // ---- dialects: headers, separators, statement layout ----

    #[test]
    fn free_text_preamble_before_the_first_20_is_skipped() {
        let text = format!("This is an example file\n\nThe example starts after the dashes.\n------------------------------\n- - - - - -\n{}", body(""));
        let st = one(&text);
        assert_eq!(st.statement_id, "STMT-1");
    }

    #[test]
    fn swift_blocks_and_trailer_are_skipped() {
        let message = |kind: &str, id: &str| {
            format!(
                "{{1:F01BANKBEBBAXXX0000000000}}{{2:O{kind}1506110804BANKBEBBAXXX00000000001108041506N}}{{3:{{108:X}}}}{{4:\r\n\
                 :20:{id}\r\n:25:1\r\n:34F:EURD0,00\r\n-}}{{5:{{CHK:123}}}}\r\n"
            )
        };
        let parsed = parse_str(&format!("{}{}", message("942", "A"), message("942", "B")));
        assert_eq!(parsed.diagnostics, vec![]);
        assert_eq!(parsed.statements.len(), 2);
        assert!(parsed.statements.iter().all(|s| s.format == StatementFormat::Mt942));
        // Block 4 opening on the same line as the first field.
        let st = one("{1:F01X}{2:I940BANKBEBBXXXXN}{4::20:C\n:25:1\n:60F:C261101EUR1,00\n:62F:C261101EUR1,00\n-}");
        assert_eq!((st.statement_id.as_str(), st.format), ("C", StatementFormat::Mt940));
    }

    #[test]
    fn ing_header_lines_and_trailing_statement_information() {
        let text = "0000 01INGBNL2AXXXX00001\n0000 01INGBNL2AXXXX00001\n940 00\n:20:MPBZ\n:25:0001234567\n:28C:000\n\
                    :60F:C100722EUR0,00\n:61:100722D25,03NTRFNONREF\n:86: RC AFREKENING\n:61:100723C28,50NTRFNONREF\n\
                    :62F:C100723EUR3,47\n:86:D000004C000002D25,24C28,71\n-XXX\n";
        let st = one(text);
        assert_eq!(st.format, StatementFormat::Mt940);
        assert_eq!(st.lines.len(), 2);
        assert_eq!(st.lines[0].narrative, "RC AFREKENING");
        assert_eq!(st.lines[1].narrative, "", "the :86: after :62F: belongs to the statement");
        assert_eq!(st.lines[0].booking_date, date(2010, 7, 22), "no entry date: the value date");
    }

    #[test]
    fn rabobank_pseudo_header_28_padding_and_fixed_width_names() {
        let text = ":940:\n:20:940A110615\n:25:1291.99.348EUR\n:28:00000/00\n:60F:C110614EUR000000000473,17\n\
                    :61:110527D000000001213,28N0440121470966      W.P. Jansen                      \n\
                    :86:Terugboeking                                                    \n\
                    :86:NIET AKKOORD MET AFSCHRIJVING                                   \n\
                    :61:110617D000000000044,95N030NONREF          T-MOBILE NETHERLANDS BV          \n\
                    :62F:C110615EUR000000000395,82\n\n:20:940A110616\n:25:1291.99.348EUR\n:28:00000/00\n\
                    :60F:C110615EUR0000000001000,89\n:62F:C110616EUR0000000001000,89\n";
        let parsed = parse_str(text);
        assert_eq!(parsed.diagnostics, vec![]);
        assert_eq!(parsed.statements.len(), 2);
        let st = &parsed.statements[0];
        assert_eq!((st.account_id.as_str(), st.sequence.as_deref()), ("1291.99.348EUR", Some("00000/00")));
        assert_eq!(st.opening.as_ref().unwrap().amount, dec("473.17"));
        let line = &st.lines[0];
        assert_eq!((line.amount, line.type_code.as_str()), (dec("-1213.28"), "N044"));
        assert_eq!(line.owner_reference.as_deref(), Some("0121470966"));
        assert_eq!(line.narrative, "W.P. Jansen Terugboeking NIET AKKOORD MET AFSCHRIJVING");
        let line = &st.lines[1];
        assert_eq!((line.owner_reference.as_deref(), line.narrative.as_str()), (None, "T-MOBILE NETHERLANDS BV"));
        assert_eq!(line.type_code, "N030");
        assert!(parsed.statements[1].lines.is_empty(), "an empty statement is still a statement");
    }

    #[test]
    fn dash_separators_end_messages_and_headers_between_them_are_skipped() {
        let text = format!("ABNANL2A\n940\nABNANL2A\n{}-\nABNANL2A\n940\nABNANL2A\n{}-\n", body(""), body(""));
        let parsed = parse_str(&text);
        assert_eq!(parsed.diagnostics, vec![]);
        assert_eq!(parsed.statements.len(), 2);
    }

    #[test]
    fn a_942_header_or_34f_or_13d_makes_an_mt942_report() {
        let report = ":20:R\n:25:1\n:28C:03917/00001\n:34F:EURD0,00\n:34F:EURC0,00\n:13D:1610301730+0000\n\
                      :61:1610301031D0,42MCI0NONREF//055001022000001\nYAY MT942 CHG\n:86:REMIT:Costs\n:90D:1EUR0,42\n";
        let st = one(report);
        assert_eq!(st.format, StatementFormat::Mt942);
        assert_eq!((st.opening.clone(), st.closing.clone()), (None, None));
        assert_eq!(st.currency, "EUR");
        assert_eq!(st.date, date(2016, 10, 30));
        let line = &st.lines[0];
        assert_eq!((line.value_date, line.booking_date), (date(2016, 10, 30), date(2016, 10, 31)));
        assert_eq!((line.amount, line.type_code.as_str()), (dec("-0.42"), "MCI0"));
        assert_eq!((line.owner_reference.clone(), line.bank_reference.as_deref()), (None, Some("055001022000001")));
        assert_eq!(line.narrative, "YAY MT942 CHG REMIT:Costs");
        // Only a header says so: balances are dropped for an MT942.
        let st = one(&format!(":942:\n{}", body(":61:261102C1,00NTRF\n")));
        assert_eq!(
            (st.format, st.opening, st.closing, st.date),
            (StatementFormat::Mt942, None, None, date(2026, 11, 2))
        );
        let st = one(&format!("942 00\n{}", body("")));
        assert_eq!(st.format, StatementFormat::Mt942);
        assert_eq!(one(&format!("940 00\n{}", body(""))).format, StatementFormat::Mt940);
    }

    #[test]
    fn empty_statement_has_no_lines_and_no_diagnostics() {
        let st = one(&body(""));
        assert!(st.lines.is_empty());
        assert_eq!(st.date, date(2026, 11, 2));
    }

    // ---- :61: ----

    fn line_of(field: &str) -> BankLine {
        let st = one(&body(&format!("{field}\n")));
        assert_eq!(st.lines.len(), 1);
        st.lines.into_iter().next().unwrap()
    }

    #[test]
    fn marks_and_reversals() {
        let l = line_of(":61:2611021102C10,00NTRF");
        assert_eq!((l.amount, l.reversal), (dec("10.00"), false));
        let l = line_of(":61:2611021102D10,00NTRF");
        assert_eq!((l.amount, l.reversal), (dec("-10.00"), false));
        let l = line_of(":61:2611021102RC10,00NTRF");
        assert_eq!((l.amount, l.reversal), (dec("-10.00"), true));
        let l = line_of(":61:2611021102RD10,00NTRF");
        assert_eq!((l.amount, l.reversal), (dec("10.00"), true));
        // Funds code letters (third letter of the currency) after the mark.
        let l = line_of(":61:0709040904RCR204,88NRTINONREF");
        assert_eq!((l.amount, l.reversal, l.type_code.as_str()), (dec("-204.88"), true, "NRTI"));
        let l = line_of(":61:0909290929DK829419,78NTRFDansken");
        assert_eq!((l.amount, l.owner_reference.as_deref()), (dec("-829419.78"), Some("Dansken")));
        let l = line_of(":61:0910010930CR0,23FINTInterest");
        assert_eq!((l.amount, l.type_code.as_str()), (dec("0.23"), "FINT"));
        let l = line_of(":61:2611021102RDR7,NTRF");
        assert_eq!((l.amount, l.reversal), (dec("7"), true));
        let l = line_of(":61:2611021102ED7,NTRF");
        assert_eq!((l.amount, l.reversal), (dec("-7"), false));
        let l = line_of(":61:2611021102ECR7,NTRF");
        assert_eq!((l.amount, l.reversal), (dec("7"), false));
    }

    #[test]
    fn amounts_keep_the_decimals_written() {
        for (text, value, scale) in [
            ("100,", "100", 0),
            ("1,5", "1.5", 1),
            (",50", "0.50", 2),
            ("000000000473,17", "473.17", 2),
            ("8,850", "8.850", 3),
        ] {
            let l = line_of(&format!(":61:261102C{text}NTRF"));
            assert_eq!((l.amount, l.amount.scale()), (dec(value), scale), "{text}");
        }
    }

    #[test]
    fn type_codes_and_references() {
        let l = line_of(":61:1811271127DR5,00N033NONREF");
        assert_eq!((l.type_code.as_str(), l.owner_reference.clone(), l.bank_reference.clone()), ("N033", None, None));
        let l = line_of(":61:2611021102C1,00FMSCABC//");
        assert_eq!(
            (l.type_code.as_str(), l.owner_reference.as_deref(), l.bank_reference.clone()),
            ("FMSC", Some("ABC"), None)
        );
        let l = line_of(":61:0910021002DK10625,00NMSCDBT.F.M.T//v/teste kunden");
        assert_eq!(l.owner_reference.as_deref(), Some("DBT.F.M.T"));
        assert_eq!(l.bank_reference.as_deref(), Some("v/teste kunden"));
        let l = line_of(":61:0910021002DK1,00NMSCDBT.banktesten--//-");
        assert_eq!((l.owner_reference.as_deref(), l.bank_reference.as_deref()), (Some("DBT.banktesten--"), Some("-")));
        let l = line_of(":61:2611021102C1,00NTRF");
        assert_eq!((l.owner_reference, l.bank_reference, l.narrative.as_str()), (None, None, ""));
    }

    #[test]
    fn supplementary_details_come_first_in_the_narrative() {
        let st = one(&body(":61:1610301031D0,42MCI0NONREF//055001022000001\nYAY MT942 CHG\n:86:REMIT:Costs to MT940 Parsing. \nThis is Somuchfun.\n"));
        assert_eq!(st.lines[0].narrative, "YAY MT942 CHG REMIT:Costs to MT940 Parsing. This is Somuchfun.");
        let st = one(&body(":61:2611021102C1,00NTRFX\nDETAILS\n"));
        assert_eq!(st.lines[0].narrative, "DETAILS");
    }

    #[test]
    fn entry_date_year_crosses_the_year_end_both_ways() {
        let l = line_of(":61:2612310102C1,00NTRF");
        assert_eq!((l.value_date, l.booking_date), (date(2026, 12, 31), date(2027, 1, 2)));
        let l = line_of(":61:2701021231C1,00NTRF");
        assert_eq!((l.value_date, l.booking_date), (date(2027, 1, 2), date(2026, 12, 31)));
        let l = line_of(":61:2606301201C1,00NTRF");
        assert_eq!(l.booking_date, date(2026, 12, 1));
    }

    #[test]
    fn entry_date_february_30_is_kept_as_absent_with_a_warning() {
        let parsed = parse_str(&body(":61:1602290230DR6,00N024NONREF\n:86:805?00ENTGELTABSCHLUSS?20Pauschalen\n"));
        assert_eq!(found(&parsed), vec![(5, Severity::Warning, ":61:")]);
        assert!(parsed.diagnostics[0].message.contains("0230"), "{:?}", parsed.diagnostics);
        let l = &parsed.statements[0].lines[0];
        assert_eq!((l.value_date, l.booking_date, l.amount), (date(2016, 2, 29), None, dec("-6.00")));
        assert_eq!(l.narrative, "Pauschalen");
    }

    #[test]
    fn an_invalid_value_date_keeps_the_line() {
        let parsed = parse_str(&body(":61:1602300301DR6,00N024NONREF\n"));
        assert_eq!(found(&parsed), vec![(5, Severity::Warning, ":61:")]);
        let l = &parsed.statements[0].lines[0];
        assert_eq!((l.value_date, l.booking_date), (None, date(2016, 3, 1)));
        let parsed = parse_str(&body(":61:261340C6,00NTRF\n"));
        let l = &parsed.statements[0].lines[0];
        assert_eq!((l.value_date, l.booking_date), (None, None));
        assert_eq!(found(&parsed), vec![(5, Severity::Warning, ":61:")]);
    }

    // ---- :86: ----

    #[test]
    fn information_before_the_first_line_belongs_to_the_statement() {
        let st = one(&body(
            ":86:For your inform. IBAN no.: DK5030001234567890\n:86:DABADKKK\n:61:2611021102C1,00NTRFA\n:86:mine\n",
        ));
        assert_eq!(st.lines[0].narrative, "mine");
    }

    #[test]
    fn multi_line_information_is_joined_with_single_spaces() {
        let st = one(&body(":61:2611021102C1,00NTRFA\n:86:DB faktura 1234567\r\nTestkunde   \n\n   HOLMENS KANAL 2-12\n1192  KOBENHAVN H\n"));
        assert_eq!(st.lines[0].narrative, "DB faktura 1234567 Testkunde HOLMENS KANAL 2-12 1192  KOBENHAVN H");
        // Several :86: fields of one line (Rabobank).
        let st = one(&body(":61:2611021102C1,00NTRFA\n:86:ONE     \n:86:TWO\nTHREE\n"));
        assert_eq!(st.lines[0].narrative, "ONE TWO THREE");
    }

    #[test]
    fn a_full_65_character_line_runs_on_without_a_separator() {
        let first = "a".repeat(60) + "bcdef"; // 65 characters: broken within a word
        let st = one(&body(&format!(":61:2611021102C1,00NTRFA\n:86:{first}\nghi jkl\n")));
        assert_eq!(st.lines[0].narrative, format!("{first}ghi jkl"));
        let short = "a".repeat(64);
        let st = one(&body(&format!(":61:2611021102C1,00NTRFA\n:86:{short}\nghi\n")));
        assert_eq!(st.lines[0].narrative, format!("{short} ghi"));
    }

    #[test]
    fn german_structured_information() {
        let info = ":86:166?00GUTSCHRIFT?100399?20EREF+EndToEndIdTFNR20004000?2101?22SVWZ\n\
                    +TO 13 TFNr 20004?30PBNKDEFF100?31DE42100100100043921105?32Ri\n\
                    chter Renate 70 Zeichen B?33eginn Fuellzeichen\n";
        let l = &one(&body(&format!(":61:0709040904CR15000,05NTRFNONREF//0724710290621954\n{info}"))).lines[0];
        assert_eq!(l.end_to_end_id.as_deref(), Some("EndToEndIdTFNR2000400001"));
        assert_eq!(
            l.narrative,
            "EREF+EndToEndIdTFNR2000400001 SVWZ+TO 13 TFNr 20004 Richter Renate 70 Zeichen Beginn Fuellzeichen"
        );
        // The EREF value stops at a short sub-field and at the next keyword.
        let info = ":86:159?00RETOURE?100399?20EREF+TFNR 40005 00005?21MTLG:Grund nicht s\npezifizie?22rt\n";
        let l = &one(&body(&format!(":61:0709040904CR300,NTRFTFNr 40005 MSGID//0724710345313905\n{info}"))).lines[0];
        assert_eq!(l.end_to_end_id.as_deref(), Some("TFNR 40005 00005"));
        assert_eq!(l.narrative, "EREF+TFNR 40005 00005 MTLG:Grund nicht spezifiziert");
        assert_eq!((l.amount, l.owner_reference.as_deref()), (dec("300"), Some("TFNr 40005 MSGID")));
        // A sub-field's trailing blank is part of the text.
        let info = ":86:116?00X?20EREF+TFNR 21005 EndToEndId ?2100001?22KREF+X\n";
        let l = &one(&body(&format!(":61:261102D1,00NTRFKREF+//1\n{info}"))).lines[0];
        assert_eq!(l.end_to_end_id.as_deref(), Some("TFNR 21005 EndToEndId 00001"));
        assert_eq!(l.narrative, "EREF+TFNR 21005 EndToEndId 00001 KREF+X");
        // Posting text only.
        let l = &one(&body(":61:261102D1,00NTRF\n:86:116?00SEPA-UEBERW/STORNO?100399\n")).lines[0];
        assert_eq!((l.narrative.as_str(), l.end_to_end_id.clone()), ("SEPA-UEBERW/STORNO", None));
        // An `EREF+` inside the text.
        let l = &one(&body(":61:261102D1,00NTRF\n:86:?20SVWZ+Invoice 7 EREF+E-1 KREF+K\n")).lines[0];
        assert_eq!(l.end_to_end_id.as_deref(), Some("E-1"));
    }

    #[test]
    fn slash_keywords() {
        let l = &one(&body(
            ":61:261102C1,00NTRF\n:86:/EREF/E2E-1/UETR/0b8c5f38-1a9c-4e0b-8c2e-3f6f1b2a9d11/REMI/invoice 7/CNTP/ACME//\n",
        ))
        .lines[0];
        assert_eq!(l.end_to_end_id.as_deref(), Some("E2E-1"));
        assert_eq!(l.uetr.as_deref(), Some("0b8c5f38-1a9c-4e0b-8c2e-3f6f1b2a9d11"));
        assert_eq!(l.narrative, "invoice 7");
        // No REMI: the whole text; text before the first keyword stays in front.
        let l = &one(&body(":61:261102C1,00NTRF\n:86:/EREF/E2E-1/CNTP/ACME\n")).lines[0];
        assert_eq!((l.end_to_end_id.as_deref(), l.narrative.as_str()), (Some("E2E-1"), "/EREF/E2E-1/CNTP/ACME"));
        let l = &one(&body(":61:261102C1,00NTRF\n:86:PAYMENT /REMI/a/b /EREF/\n")).lines[0];
        assert_eq!((l.end_to_end_id.clone(), l.narrative.as_str()), (None, "PAYMENT a/b"));
        // Not a keyword: plain text.
        let l = &one(&body(":61:261102C1,00NTRF\n:86:/ABCD/x/REMIX/y\n")).lines[0];
        assert_eq!((l.end_to_end_id.clone(), l.narrative.as_str()), (None, "/ABCD/x/REMIX/y"));
    }

    // ---- bad input ----

    #[test]
    fn a_line_that_cannot_be_read_is_left_out_and_the_rest_kept() {
        for (field, why) in [
            (":61:2611", "value date"),
            (":61:261102", "mark missing"),
            (":61:261102X1,00NTRF", "mark `X1`"),
            (":61:261102C", "amount missing"),
            (":61:261102CNTRF", "amount missing"),
            (":61:261102C12x,00NTRF", "decimal comma"),
            (":61:261102C1,2,3NTRF", "decimal comma"),
            (":61:261102C99999999999999999999999999999999999999999,NTRF", "too large"),
            (":61:261102C,NTRF", "no digits"),
        ] {
            let parsed = parse_str(&body(&format!("{field}\n:86:its information\n:61:261102C1,00NTRF\n")));
            assert_eq!(found(&parsed), vec![(5, Severity::Error, ":61:")], "{field}");
            assert!(parsed.diagnostics[0].message.contains(why), "{field}: {:?}", parsed.diagnostics);
            let st = &parsed.statements[0];
            assert_eq!(st.lines.len(), 1, "{field}");
            assert_eq!((st.lines[0].source_line, st.lines[0].narrative.as_str()), (7, ""));
            assert!(st.closing.is_some());
        }
    }

    #[test]
    fn a_line_without_type_code_is_kept_with_a_warning() {
        let parsed = parse_str(&body(":61:261102C1,00NT\n"));
        assert_eq!(found(&parsed), vec![(5, Severity::Warning, ":61:")]);
        assert_eq!(parsed.statements[0].lines[0].type_code, "NT");
        assert_eq!(parsed.statements[0].lines[0].amount, dec("1.00"));
    }

    #[test]
    fn bad_balances_are_left_out_with_errors_and_bad_dates_kept_absent() {
        let parsed = parse_str(":20:A\n:25:1\n:60F:C261101EUR1x00\n:62F:X261101EUR1,00\n:64:C261340EUR1,00\n");
        let st = &parsed.statements[0];
        assert_eq!((st.opening.clone(), st.closing.clone()), (None, None));
        assert_eq!(st.closing_available.as_ref().map(|b| (b.date, b.amount)), Some((None, dec("1.00"))));
        assert_eq!(st.currency, "EUR");
        assert_eq!(
            found(&parsed),
            vec![
                (3, Severity::Error, ":60F:"),
                (4, Severity::Error, ":62F:"),
                (5, Severity::Warning, ":64:"),
                (1, Severity::Warning, ":60F:"),
                (1, Severity::Warning, ":62F:"),
            ]
        );
        let parsed = parse_str(":20:A\n:25:1\n:60F:C2611\n:62F:C261101E\n");
        assert_eq!(found(&parsed)[..2], [(3, Severity::Error, ":60F:"), (4, Severity::Error, ":62F:")]);
    }

    #[test]
    fn unknown_fields_and_stray_lines_are_reported() {
        let parsed = parse_str(&body(":99Z:whatever\nmore of it\n:61:261102C1,00NTRF\n:62F:C261102CNY750,00\nstray\n"));
        assert_eq!(
            found(&parsed),
            vec![(5, Severity::Warning, ":99Z:"), (9, Severity::Warning, ":62F:"), (10, Severity::Warning, ":62F:")]
        );
        assert_eq!(parsed.statements[0].lines.len(), 1);
    }

    #[test]
    fn fields_without_20_make_a_statement_with_an_error() {
        let parsed = parse_str("garbage\n-\n:25:1\n:60F:C261101EUR1,00\n:61:261102C1,00NTRF\n:62F:C261102EUR2,00\n");
        assert_eq!(found(&parsed), vec![(3, Severity::Error, ":25:")]);
        assert_eq!(parsed.statements.len(), 1);
        assert_eq!((parsed.statements[0].statement_id.as_str(), parsed.statements[0].lines.len()), ("", 1));
    }

    #[test]
    fn empty_and_garbage_input_never_panic() {
        assert_eq!(parse(b""), Parsed::default());
        assert_eq!(parse(b"\n\r\n  \n"), Parsed::default());
        assert_eq!(parse(b"hello\nworld"), Parsed::default());
        let parsed = parse(b"\xff\xfe:20:\xe9\n:61:\xe9\xe9\n:61:26\xe9");
        assert_eq!(parsed.statements.len(), 1);
        assert_eq!(parsed.diagnostics[0], Diagnostic::warning(1, "charset", parsed.diagnostics[0].message.clone()));
        for bad in [
            &b":61:261102C1,00\xc3\xa9\xc3\xa9\xc3"[..],
            b":61:2611\xc3\xa9",
            b":61:261102C1,00NTR\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
            b":60F:C26110\xc3\xa9",
            b":60F:C261101\xc3\xa9\xc3\xa9",
            b":86:?2\xc3\xa9?20\xc3\xa9?2",
            b"{4:",
            b"{2:O94\xc3\xa9",
            b":13D:\xc3\xa9\xc3\xa9\xc3\xa9",
            b":34F:E\xc3\xa9",
            b":90D:1E\xc3\xa9",
        ] {
            let mut input = b":20:A\n:25:1\n:61:261102C1,00NTRFA\n".to_vec();
            input.extend_from_slice(bad);
            let parsed = parse(&input);
            assert!(parsed.diagnostics.iter().all(|d| (1..=5).contains(&d.line)), "{parsed:?}");
        }
    }

    #[test]
    fn latin1_files_are_read_with_a_warning_on_the_first_bad_line() {
        let mut text = format!("{HEAD}:61:261102C1,00NTRFA\n:86:").into_bytes();
        text.extend_from_slice(b"M\xfcller GmbH\n");
        text.extend_from_slice(TAIL.as_bytes());
        let parsed = parse(&text);
        assert_eq!(found(&parsed), vec![(6, Severity::Warning, "charset")]);
        assert_eq!(parsed.statements[0].lines[0].narrative, "Müller GmbH");
    }

    #[test]
    fn every_prefix_of_the_corpus_parses_within_its_lines() {
        for name in CORPUS {
            let bytes = corpus(name);
            let step = if bytes.len() > 4000 { 37 } else { 1 };
            for end in (0..=bytes.len()).step_by(step) {
                let input = &bytes[..end];
                let parsed = parse(input);
                let lines = input.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
                for d in &parsed.diagnostics {
                    assert!(d.line >= 1 && d.line <= lines, "{name}[..{end}]: {d:?}");
                }
                for st in &parsed.statements {
                    assert!(st.lines.iter().all(|l| l.source_line >= 1 && l.source_line <= lines));
                }
                let again = parse(write(&parsed.statements).as_bytes());
                assert_eq!(again.statements.len(), parsed.statements.len(), "{name}[..{end}]");
            }
        }
    }

    // ---- the corpus ----

    const CORPUS: [&str; 9] = [
        "MT940_DK_Example.sta",
        "MT940_FI_Example.sta",
        "abnamro.sta",
        "buxtehude.sta",
        "february_30.sta",
        "ing.sta",
        "mt942.sta",
        "rabobank.sta",
        "sepa_mt9401.sta",
    ];

    fn corpus(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/feeds/mt940-rs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    /// Per statement: opening + Σ lines = closing; and each opening equals the
    /// previous closing of the same account.
    fn balances(statements: &[BankStatement]) -> (bool, bool) {
        let mut sums = true;
        let mut continuity = true;
        let mut last: std::collections::HashMap<&str, Decimal> = std::collections::HashMap::new();
        for st in statements {
            let (opening, closing) = (st.opening.as_ref().unwrap().amount, st.closing.as_ref().unwrap().amount);
            sums &= opening + st.lines.iter().map(|l| l.amount).sum::<Decimal>() == closing;
            if let Some(previous) = last.insert(&st.account_id, closing) {
                continuity &= previous == opening;
            }
        }
        (sums, continuity)
    }

    #[test]
    fn the_corpus_files_that_balance_do_and_the_others_do_not() {
        let read = |name: &str| parse(&corpus(name)).statements;
        let dk = read("MT940_DK_Example.sta");
        assert_eq!((dk.len(), dk.iter().map(|s| s.lines.len()).sum::<usize>()), (15, 89));
        assert_eq!(balances(&dk), (true, true));
        let fi = read("MT940_FI_Example.sta");
        assert_eq!((fi.len(), fi[0].lines.len()), (1, 6));
        assert_eq!(balances(&fi), (true, true));
        let sepa = read("sepa_mt9401.sta");
        assert_eq!((sepa.len(), sepa.iter().map(|s| s.lines.len()).sum::<usize>()), (26, 97));
        assert_eq!(sepa.iter().map(|s| &s.account_id).collect::<std::collections::HashSet<_>>().len(), 20);
        assert!(balances(&sepa).0, "every sepa statement balances");
        let reversals: Vec<_> = sepa.iter().flat_map(|s| &s.lines).filter(|l| l.reversal).map(|l| l.amount).collect();
        assert_eq!(reversals, vec![dec("-204.88"), dec("-204.88")]);
        assert!(!balances(&read("buxtehude.sta")).0, "13564.13 - 141.04 != 13523.09");
        assert_eq!(balances(&read("abnamro.sta")), (false, false));
    }

    #[test]
    fn the_corpus_reads_without_errors() {
        for name in CORPUS {
            let parsed = parse(&corpus(name));
            assert!(!parsed.has_errors(), "{name}: {:?}", parsed.diagnostics);
            assert!(!parsed.statements.is_empty(), "{name}");
        }
    }

    // ---- write ----

    fn sample() -> BankStatement {
        BankStatement {
            format: StatementFormat::Mt940,
            statement_id: "STMT-1".into(),
            sequence: Some("00012/001".into()),
            account_id: "31000088880001".into(),
            bic: Some("BKCHCNBJ300".into()),
            currency: "CNY".into(),
            opening: Some(BankBalance { date: date(2026, 11, 1), currency: "CNY".into(), amount: dec("-10.00") }),
            closing: Some(BankBalance { date: date(2026, 11, 2), currency: "CNY".into(), amount: dec("230.50") }),
            closing_available: Some(BankBalance {
                date: date(2026, 11, 2),
                currency: "CNY".into(),
                amount: dec("230.5"),
            }),
            date: date(2026, 11, 2),
            lines: vec![
                BankLine {
                    source_line: 0,
                    booking_date: date(2026, 11, 3),
                    value_date: date(2026, 11, 2),
                    amount: dec("250.50"),
                    currency: "CNY".into(),
                    reversal: false,
                    end_to_end_id: Some("E2E-1".into()),
                    uetr: Some("0b8c5f38-1a9c-4e0b-8c2e-3f6f1b2a9d11".into()),
                    owner_reference: Some("SW261102R001U".into()),
                    bank_reference: Some("B1".into()),
                    type_code: "NCMZ".into(),
                    narrative: "zero balancing".into(),
                },
                BankLine {
                    source_line: 0,
                    booking_date: date(2026, 11, 2),
                    value_date: date(2026, 11, 2),
                    amount: dec("-10"),
                    currency: "CNY".into(),
                    reversal: true,
                    end_to_end_id: None,
                    uetr: None,
                    owner_reference: None,
                    bank_reference: None,
                    type_code: String::new(),
                    narrative: String::new(),
                },
            ],
        }
    }

    #[test]
    fn writes_the_expected_text() {
        let expected = ":20:STMT-1\n:25:BKCHCNBJ300/31000088880001\n:28C:00012/001\n:60F:D261101CNY10,00\n\
                        :61:2611021103C250,50NCMZSW261102R001U//B1\n\
                        :86:/EREF/E2E-1/UETR/0b8c5f38-1a9c-4e0b-8c2e-3f6f1b2a9d11/REMI/zero\nbalancing\n\
                        :61:2611021102RC10,NTRFNONREF\n:62F:C261102CNY230,50\n:64:C261102CNY230,5\n-\n";
        assert_eq!(write(&[sample()]), expected);
    }

    fn round_trip(statements: &[BankStatement]) -> Parsed {
        let text = write(statements);
        let parsed = parse(text.as_bytes());
        assert!(!parsed.has_errors(), "{text}\n{:?}", parsed.diagnostics);
        let mut expected = without_source_lines(statements.to_vec());
        for st in &mut expected {
            for line in &mut st.lines {
                if line.type_code.is_empty() {
                    line.type_code = "NTRF".into();
                }
            }
        }
        assert_eq!(without_source_lines(parsed.statements.clone()), expected, "{text}");
        parsed
    }

    #[test]
    fn round_trips_hand_made_statements() {
        let mut statements = vec![sample()];
        let narratives = [
            "x".repeat(64),
            "x".repeat(65),
            "x".repeat(66),
            "x".repeat(200),
            format!("{} {}", "a".repeat(64), "b".repeat(70)),
            format!("{} {}", "a".repeat(65), "b".repeat(3)),
            format!("{} {}", "a".repeat(66), "b".repeat(3)),
            format!("{} {} {}", "a".repeat(130), "b".repeat(64), "c"),
            "word ".repeat(60).trim().to_string(),
            "Müller GmbH ümläuté ".repeat(10).trim().to_string(),
        ];
        for (i, narrative) in narratives.iter().enumerate() {
            let mut st = sample();
            st.statement_id = format!("S{i}");
            st.lines[0].narrative = narrative.clone();
            st.lines[1].narrative = narrative.clone();
            if i % 2 == 0 {
                st.lines[0].end_to_end_id = None;
                st.lines[0].uetr = None;
            }
            statements.push(st);
        }
        let mut jpy = sample();
        jpy.currency = "JPY".into();
        for balance in [&mut jpy.opening, &mut jpy.closing, &mut jpy.closing_available].into_iter().flatten() {
            balance.currency = "JPY".into();
            balance.amount = dec("-12345");
        }
        for line in &mut jpy.lines {
            line.currency = "JPY".into();
            line.amount = dec("7");
        }
        jpy.sequence = None;
        jpy.bic = None;
        jpy.lines[0].end_to_end_id = None;
        jpy.lines[1].narrative = "no ids".into();
        jpy.lines[1].uetr = Some("u".into());
        statements.push(jpy);
        let mut empty = sample();
        empty.lines.clear();
        empty.closing_available = None;
        statements.push(empty);
        round_trip(&statements);
        round_trip(&[]);
    }

    #[test]
    fn absent_dates_are_written_invalid_and_read_absent_again() {
        let mut st = sample();
        st.lines[0].booking_date = None;
        st.lines[1].value_date = None;
        st.lines[1].booking_date = None;
        let parsed = round_trip(&[st]);
        assert_eq!(parsed.diagnostics.len(), 3, "{:?}", parsed.diagnostics);
    }

    const WORDS: &str = "[A-Za-z0-9]{1,12}";

    fn narrative() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z0-9 ]{0,300}",
            prop::collection::vec(WORDS, 0..40).prop_map(|w| w.join(" ")),
            prop::collection::vec("[A-Za-z0-9]{50,80}", 0..5).prop_map(|w| w.join(" ")),
        ]
        .prop_map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    fn day() -> impl Strategy<Value = NaiveDate> {
        (0u64..365).prop_map(|d| NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(d))
    }

    type LineSeed = (
        NaiveDate,
        i64,
        i64,
        bool,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        &'static str,
        String,
    );

    fn line_seed() -> impl Strategy<Value = LineSeed> {
        (
            day(),
            -3i64..=3,
            -10_000_000_000i64..10_000_000_000,
            any::<bool>(),
            prop::option::of("[A-Za-z0-9]{1,35}"),
            prop::option::of("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
            prop::option::of("[A-Za-z0-9]{1,16}".prop_filter("NONREF means none", |r| r != "NONREF")),
            prop::option::of("[A-Za-z0-9]{1,16}"),
            prop::sample::select(vec!["NTRF", "NCMZ", "N033", "FMSC", "NCHG", "S103"]),
            narrative(),
        )
    }

    fn statement() -> impl Strategy<Value = BankStatement> {
        (
            prop::sample::select(vec!["CNY", "USD", "EUR", "JPY"]),
            "[A-Za-z0-9]{1,16}",
            prop::option::of("[0-9]{5}/[0-9]{3}"),
            "[A-Z0-9]{1,34}",
            prop::option::of("[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?"),
            -10_000_000_000i64..10_000_000_000,
            (day(), day()),
            prop::collection::vec(line_seed(), 0..8),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(currency, id, sequence, account, bic, opening, (open_day, close_day), seeds, closed, available)| {
                    let scale = if currency == "JPY" { 0 } else { 2 };
                    let balance = |date: NaiveDate, amount: Decimal| BankBalance {
                        date: Some(date),
                        currency: currency.to_string(),
                        amount,
                    };
                    let lines: Vec<BankLine> = seeds
                        .into_iter()
                        .map(|(value, shift, amount, reversal, e2e, uetr, owner, bank, code, narrative)| BankLine {
                            source_line: 0,
                            booking_date: Some(value + chrono::TimeDelta::days(shift)),
                            value_date: Some(value),
                            amount: Decimal::new(amount, scale),
                            currency: currency.to_string(),
                            reversal,
                            end_to_end_id: e2e,
                            uetr,
                            owner_reference: owner,
                            bank_reference: bank,
                            type_code: code.to_string(),
                            narrative,
                        })
                        .collect();
                    let opening = Decimal::new(opening, scale);
                    let total = opening + lines.iter().map(|l| l.amount).sum::<Decimal>();
                    let closing = closed.then(|| balance(close_day, total));
                    let date = closing
                        .as_ref()
                        .and_then(|b| b.date)
                        .or_else(|| lines.last().and_then(|l| l.booking_date.or(l.value_date)));
                    BankStatement {
                        format: StatementFormat::Mt940,
                        statement_id: id,
                        sequence,
                        account_id: account,
                        bic,
                        currency: currency.to_string(),
                        opening: Some(balance(open_day, opening)),
                        closing,
                        closing_available: available.then(|| balance(close_day, total)),
                        date,
                        lines,
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn write_then_parse_round_trips(statements in prop::collection::vec(statement(), 0..4)) {
            round_trip(&statements);
        }

        #[test]
        fn arbitrary_text_never_panics_and_stays_within_its_lines(text in "(:(20|25|28C|60F|61|86|62F|64|34F|13D|99):|\\?2[0-9]|[-{}/ ,0-9A-Z\\n])*") {
            let parsed = parse(text.as_bytes());
            let lines = text.matches('\n').count() as u32 + 1;
            prop_assert!(parsed.diagnostics.iter().all(|d| d.line >= 1 && d.line <= lines));
            let _ = parse(write(&parsed.statements).as_bytes());
        }
    }
}
