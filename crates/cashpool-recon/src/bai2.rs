//! BAI2 (Cash Management Balance Reporting Specifications, Version 2): the
//! previous-day report of North American banks.
//!
//! A file is a tree of comma-separated records, one a line:
//!
//! ```text
//! 01 file header      (sender, receiver, date, time, file id, record length, block size, version)
//!   02 group header   (receiver, originator, status, as-of date, as-of time, currency, modifier)
//!     03 account      (account number, currency, then type code, amount, item count, funds type, ...)
//!       16 detail     (type code, amount, funds type, bank reference, customer reference, text)
//!     49 account trailer (control total, number of records)
//!   98 group trailer  (control total, number of accounts, number of records)
//! 99 file trailer     (control total, number of groups, number of records)
//! ```
//!
//! An `88` record continues the record before it: its fields follow that
//! record's fields (a record may end, with `/`, in the middle of an `03`
//! summary), and for a `16` whose text has begun, it continues the text
//! (joined with a space). A `/` ends a record except inside a `16`'s text,
//! which runs to the end of the line; one trailing `/` is dropped from the text
//! because banks write it there too.
//!
//! What this parser makes of it: one [`BankStatement`] per `03` account, with
//! `statement_id` = `<01 file id>/<account number>`, the `02` as-of date as the
//! statement's date, its balances' dates and every line's booking date, the
//! balances of summary type codes `010` (opening ledger), `015` (closing
//! ledger) and `045` (closing available), and one [`BankLine`] per `16`.
//! Amounts carry the implied decimals of the currency (ISO 4217 minor units).
//!
//! Decisions where the specification leaves room or banks deviate from it:
//!
//! - A `16`'s direction comes from its type code: 100–399 and 920–959 are
//!   credits, 400–699 and 960–999 debits (the specification's customized
//!   ranges). A debit is always negative; any other amount keeps the sign
//!   written, with a warning when a credit is written negative.
//! - Non-monetary codes (890, status codes 001–099, loan codes 700–799,
//!   customized status codes 900–919) are no movement: a line with a zero or
//!   empty amount is left out silently, a non-zero one kept as a credit with a
//!   warning. Any other code (000, 800–899 but 890, not three digits) is read
//!   as a credit with a warning.
//! - A `16` without an amount, or with an unreadable one, is left out (error).
//! - The customer reference is both the owner reference and the EndToEndId
//!   (BAI2 has no separate EndToEndId; banks put it there).
//! - A `V` funds type's value date is the line's value date (absent, with a
//!   warning, when it is not a valid `YYMMDD`); without one, the as-of date.
//!   Two-digit years are 2000–2069 for `00`–`69`, 1970–1999 otherwise.
//! - Control totals and record counts of `49`, `98` and `99` are checked;
//!   a mismatch is a warning and never drops data. A `49` total is the
//!   algebraic sum of the account's `03` and `16` amounts as written (not the
//!   availability amounts of funds types `S` and `D`); record counts include
//!   the `88` continuations and the header and trailer themselves. A `98` total is compared
//!   with the sum of its accounts' `49` totals as written, a `99` total with
//!   its groups' `98` totals (so one wrong trailer is reported once); the
//!   computed sum stands in for a trailer that is missing or unreadable.
//! - Missing trailers (a file cut short), headers (an `03` without `02`) and an
//!   unknown currency are warnings; an `88` with nothing to continue, a `16`
//!   outside an account and a line that is no BAI2 record are errors (left out).
//!   A group status other than 1 (update) — 2 deletion, 3 correction, 4 test
//!   only — is a warning; its accounts are read all the same.
//! - The statement id names no as-of date: the same account in two groups of
//!   one file (two days) gets the same id.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use cashpool_ledger::bank::{BankBalance, BankLine, BankStatement, StatementFormat};
use cashpool_ledger::money::Currency;

use crate::parse::{decode_text, Diagnostic, Parsed};

/// The currency BAI2 assumes when neither the account (`03`) nor its group (`02`) names one.
pub const DEFAULT_CURRENCY: &str = "USD";

/// The implied decimals of a currency this parser does not know.
pub const DEFAULT_MINOR_UNITS: u32 = 2;

/// Parses a BAI2 file: never fails and never panics, but returns the
/// statements it read and diagnostics (1-based lines) for what it could not.
pub fn parse(bytes: &[u8]) -> Parsed {
    // A UTF-8 byte order mark, taken off before decoding: a file with one
    // that is not valid UTF-8 (then read as ISO 8859-1) keeps its first record.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let (text, latin1) = decode_text(bytes);
    let mut reader = Reader::default();
    if latin1 {
        reader.diags.push(Diagnostic::warning(1, "file", "not UTF-8: read as ISO 8859-1"));
    }
    // The record being gathered (its code), and its physical records: the
    // record itself, then its 88 continuations.
    let mut pending: Option<Code> = None;
    let mut segments: Vec<Segment<'_>> = Vec::new();
    let mut last_line = 0u32;
    for (idx, raw) in text.split('\n').enumerate() {
        let line_no = u32::try_from(idx).map_or(u32::MAX, |n| n.saturating_add(1));
        let line = raw.strip_suffix('\r').unwrap_or(raw).trim_start();
        if line.trim_end().is_empty() {
            continue;
        }
        last_line = line_no;
        let (code_text, rest) = split_code(line);
        match Code::parse(code_text) {
            Some(Code::Continuation) => {
                if pending.is_some() {
                    segments.push(Segment { line: line_no, text: rest });
                } else {
                    reader.diags.push(Diagnostic::error(
                        line_no,
                        "88",
                        "a continuation without a record before it to continue: line left out",
                    ));
                }
            }
            Some(code) => {
                if let Some(previous) = pending.take() {
                    reader.record(previous, &segments);
                }
                segments.clear();
                segments.push(Segment { line: line_no, text: rest });
                pending = Some(code);
            }
            None => {
                if let Some(previous) = pending.take() {
                    reader.record(previous, &segments);
                }
                segments.clear();
                reader.diags.push(Diagnostic::error(
                    line_no,
                    "record",
                    format!("{:?} is not a BAI2 record code: line left out", shorten(code_text)),
                ));
            }
        }
    }
    if let Some(previous) = pending.take() {
        reader.record(previous, &segments);
    }
    reader.finish(last_line)
}

/// The record codes of BAI2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    FileHeader,
    GroupHeader,
    Account,
    Detail,
    Continuation,
    AccountTrailer,
    GroupTrailer,
    FileTrailer,
}

impl Code {
    fn parse(text: &str) -> Option<Code> {
        Some(match text {
            "01" => Code::FileHeader,
            "02" => Code::GroupHeader,
            "03" => Code::Account,
            "16" => Code::Detail,
            "88" => Code::Continuation,
            "49" => Code::AccountTrailer,
            "98" => Code::GroupTrailer,
            "99" => Code::FileTrailer,
            _ => return None,
        })
    }
}

/// The record code of a line, and the rest after its comma (empty when a `/`
/// or nothing follows the code).
fn split_code(line: &str) -> (&str, &str) {
    match line.as_bytes().iter().position(|&b| b == b',' || b == b'/') {
        Some(i) if line.as_bytes()[i] == b',' => (line[..i].trim(), &line[i + 1..]),
        Some(i) => (line[..i].trim(), ""),
        None => (line.trim(), ""),
    }
}

/// At most 20 characters of a value, for a message.
fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(20).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// One physical record of a logical one: the record or one of its 88 continuations.
#[derive(Debug, Clone, Copy)]
struct Segment<'a> {
    line: u32,
    /// What follows the record code and its comma.
    text: &'a str,
}

/// Reads the fields of a logical record across its physical records.
struct Fields<'s, 'a> {
    segments: &'s [Segment<'a>],
    segment: usize,
    pos: usize,
    /// The current segment has no more fields (a `/`, or its end, was reached).
    done: bool,
}

impl<'s, 'a> Fields<'s, 'a> {
    fn new(segments: &'s [Segment<'a>]) -> Self {
        Fields { segments, segment: 0, pos: 0, done: false }
    }

    /// The line of the physical record being read (the last one once all are read).
    fn line(&self) -> u32 {
        self.segments.get(self.segment).or(self.segments.last()).map_or(1, |s| s.line)
    }

    /// The next field, trimmed, and its line; `None` once the record is read.
    fn next(&mut self) -> Option<(&'a str, u32)> {
        loop {
            let segment = *self.segments.get(self.segment)?;
            let bytes = segment.text.as_bytes();
            if self.done || self.pos >= bytes.len() {
                self.segment += 1;
                self.pos = 0;
                self.done = false;
                continue;
            }
            let start = self.pos;
            let field = match bytes[start..].iter().position(|&b| b == b',' || b == b'/') {
                Some(offset) => {
                    let end = start + offset;
                    if bytes[end] == b',' {
                        self.pos = end + 1;
                        // A comma at the end of the line ends the field, not the start of another.
                        self.done = self.pos >= bytes.len();
                    } else {
                        self.done = true;
                    }
                    &segment.text[start..end]
                }
                None => {
                    self.done = true;
                    &segment.text[start..]
                }
            };
            return Some((field.trim(), segment.line));
        }
    }

    /// The rest of the record as text: the rest of this line, then every
    /// continuation, trimmed, one trailing `/` of each dropped, joined with a space.
    fn rest_text(&mut self) -> String {
        let mut out = String::new();
        let mut push = |part: &str| {
            let part = part.trim_end();
            let part = part.strip_suffix('/').unwrap_or(part).trim();
            if !part.is_empty() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(part);
            }
        };
        if let Some(segment) = self.segments.get(self.segment) {
            if !self.done && self.pos < segment.text.len() {
                push(&segment.text[self.pos..]);
            }
        }
        for segment in self.segments.get(self.segment + 1..).unwrap_or(&[]) {
            push(segment.text);
        }
        self.segment = self.segments.len();
        self.pos = 0;
        self.done = false;
        out
    }
}

/// An amount field: an optional `+` or `-`, then digits (no decimal point).
/// `Ok(None)` when empty, `Err` when not an amount; the value is in minor units.
fn parse_amount(text: &str) -> Result<Option<i128>, ()> {
    if text.is_empty() {
        return Ok(None);
    }
    let (negative, digits) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    let significant = digits.trim_start_matches('0');
    // 28 digits always fit a Decimal's 96-bit mantissa (and an i128).
    if significant.len() > 28 {
        return Err(());
    }
    let mut value: i128 = 0;
    for b in significant.bytes() {
        value = value * 10 + i128::from(b - b'0');
    }
    Ok(Some(if negative { -value } else { value }))
}

/// Minor units and implied decimals → a decimal amount.
fn to_decimal(minor: i128, scale: u32) -> Option<Decimal> {
    Decimal::try_from_i128_with_scale(minor, scale).ok()
}

/// A `YYMMDD` date (`00`–`69` → 2000–2069, `70`–`99` → 1970–1999).
fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let yy = two(0);
    let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, two(2), two(4))
}

/// A count field (number of records, accounts, groups, distributions).
fn parse_count(text: &str) -> Option<u64> {
    let text = text.strip_prefix('+').unwrap_or(text);
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// What a type code of a `16` means for the sign of its amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Credit,
    Debit,
    NonMonetary,
    Unknown,
}

fn direction(code: &str) -> Direction {
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Direction::Unknown;
    }
    match code.parse::<u16>().unwrap_or(0) {
        100..=399 | 920..=959 => Direction::Credit,
        400..=699 | 960..=999 => Direction::Debit,
        1..=99 | 700..=799 | 890 | 900..=919 => Direction::NonMonetary,
        _ => Direction::Unknown,
    }
}

/// What a funds type told, besides positioning the fields after it.
enum Funds {
    /// No value date (absent, `0`, `1`, `2`, `Z`, `S`, `D`, or unknown).
    Plain,
    /// `V`: the value date (`None` when it is missing or invalid).
    Value(Option<NaiveDate>),
    /// A `D` whose distribution count is unreadable: where the following
    /// fields are is unknown, so the rest of the record is not read.
    Lost,
}

/// Reads a funds type and its extra fields (`V`: value date and time; `S`:
/// three amounts; `D`: a count, then that many pairs of days and amount).
fn read_funds(fields: &mut Fields<'_, '_>, record: &str, diags: &mut Vec<Diagnostic>) -> Funds {
    let Some((funds, line)) = fields.next() else {
        return Funds::Plain;
    };
    match funds {
        "" | "0" | "1" | "2" | "Z" => Funds::Plain,
        "V" => {
            let date = fields.next();
            let _time = fields.next();
            match date {
                Some((text, line)) => match parse_date(text) {
                    Some(date) => Funds::Value(Some(date)),
                    None => {
                        let message = if text.is_empty() {
                            "funds type V without a value date: value date left absent".to_string()
                        } else {
                            format!("{:?} is not a YYMMDD date: value date left absent", shorten(text))
                        };
                        diags.push(Diagnostic::warning(line, format!("{record} value date"), message));
                        Funds::Value(None)
                    }
                },
                None => {
                    diags.push(Diagnostic::warning(
                        line,
                        format!("{record} value date"),
                        "funds type V without a value date (record ends): value date left absent",
                    ));
                    Funds::Value(None)
                }
            }
        }
        "S" => {
            for _ in 0..3 {
                match fields.next() {
                    Some((text, line)) => {
                        if parse_amount(text).is_err() {
                            diags.push(Diagnostic::warning(
                                line,
                                format!("{record} availability"),
                                format!("{:?} is not an amount (funds type S): ignored", shorten(text)),
                            ));
                        }
                    }
                    None => break,
                }
            }
            Funds::Plain
        }
        "D" => {
            let Some((count_text, count_line)) = fields.next() else {
                diags.push(Diagnostic::warning(
                    line,
                    format!("{record} availability"),
                    "funds type D without a distribution count (record ends)",
                ));
                return Funds::Plain;
            };
            let Some(count) = parse_count(count_text) else {
                diags.push(Diagnostic::error(
                    count_line,
                    format!("{record} availability"),
                    format!(
                        "{:?} is not a distribution count (funds type D): the rest of the record is not read",
                        shorten(count_text)
                    ),
                ));
                return Funds::Lost;
            };
            let mut found = 0u64;
            while found < count {
                let (Some((days, days_line)), Some((amount, amount_line))) = (fields.next(), fields.next()) else {
                    diags.push(Diagnostic::warning(
                        fields.line(),
                        format!("{record} availability"),
                        format!("funds type D announces {count} distributions, the record ends after {found}"),
                    ));
                    break;
                };
                if parse_count(days).is_none() {
                    diags.push(Diagnostic::warning(
                        days_line,
                        format!("{record} availability"),
                        format!("{:?} is not a number of days (funds type D): ignored", shorten(days)),
                    ));
                }
                if parse_amount(amount).is_err() {
                    diags.push(Diagnostic::warning(
                        amount_line,
                        format!("{record} availability"),
                        format!("{:?} is not an amount (funds type D): ignored", shorten(amount)),
                    ));
                }
                found += 1;
            }
            Funds::Plain
        }
        other => {
            diags.push(Diagnostic::warning(
                line,
                format!("{record} funds type"),
                format!("{:?} is not a BAI2 funds type: read as one without availability fields", shorten(other)),
            ));
            Funds::Plain
        }
    }
}

struct FileCtx {
    /// Opened by an 01 (else by a group or account without one: no 99 is expected).
    header: bool,
    id: String,
    records: u64,
    groups: u64,
    /// The sum of the group control totals (as the 98s wrote them).
    total: i128,
}

struct GroupCtx {
    /// Opened by an 02 (else by an account without one: no 98 is expected).
    header: bool,
    as_of: Option<NaiveDate>,
    currency: String,
    records: u64,
    accounts: u64,
    /// The sum of the account control totals (as the 49s wrote them).
    total: i128,
}

struct AccountCtx {
    statement: BankStatement,
    scale: u32,
    records: u64,
    /// The algebraic sum of the account's 03 and 16 amounts, as written.
    total: i128,
}

#[derive(Default)]
struct Reader {
    statements: Vec<BankStatement>,
    diags: Vec<Diagnostic>,
    file: Option<FileCtx>,
    group: Option<GroupCtx>,
    account: Option<AccountCtx>,
    /// Whether any BAI2 record was read.
    any_record: bool,
}

impl Reader {
    fn record(&mut self, code: Code, segments: &[Segment<'_>]) {
        if segments.is_empty() {
            return;
        }
        self.any_record = true;
        match code {
            Code::FileHeader => self.file_header(segments),
            Code::GroupHeader => self.group_header(segments),
            Code::Account => self.account_record(segments),
            Code::Detail => self.detail(segments),
            Code::AccountTrailer => self.account_trailer(segments),
            Code::GroupTrailer => self.group_trailer(segments),
            Code::FileTrailer => self.file_trailer(segments),
            // Attached to the record before them by `parse`.
            Code::Continuation => {}
        }
    }

    /// Counts physical records in every open file, group and account.
    fn count(&mut self, records: usize) {
        let records = u64::try_from(records).unwrap_or(u64::MAX);
        if let Some(file) = &mut self.file {
            file.records = file.records.saturating_add(records);
        }
        if let Some(group) = &mut self.group {
            group.records = group.records.saturating_add(records);
        }
        if let Some(account) = &mut self.account {
            account.records = account.records.saturating_add(records);
        }
    }

    /// Ends the open account, if any: `trailer` is its 49 control total as
    /// written; without a 49, a warning at `line` and the computed total.
    fn close_account(&mut self, line: u32, trailer: Option<Option<i128>>) {
        let Some(account) = self.account.take() else {
            return;
        };
        if trailer.is_none() {
            self.diags.push(Diagnostic::warning(
                line,
                "49",
                format!("account {:?} has no 49 account trailer", account.statement.account_id),
            ));
        }
        if let Some(group) = &mut self.group {
            group.total = group.total.saturating_add(trailer.flatten().unwrap_or(account.total));
        }
        self.statements.push(account.statement);
    }

    /// Ends the open group (and its account), if any; `trailer` as for [`Reader::close_account`].
    fn close_group(&mut self, line: u32, trailer: Option<Option<i128>>) {
        self.close_account(line, None);
        let Some(group) = self.group.take() else {
            return;
        };
        if trailer.is_none() && group.header {
            self.diags.push(Diagnostic::warning(line, "98", "the group has no 98 group trailer"));
        }
        if let Some(file) = &mut self.file {
            file.total = file.total.saturating_add(trailer.flatten().unwrap_or(group.total));
        }
    }

    /// Ends the open file (and its group and account), if any.
    fn close_file(&mut self, line: u32, trailer: bool) {
        self.close_group(line, None);
        if self.file.take().is_some_and(|file| file.header) && !trailer {
            self.diags.push(Diagnostic::warning(line, "99", "the file has no 99 file trailer"));
        }
    }

    fn file_header(&mut self, segments: &[Segment<'_>]) {
        let line = segments[0].line;
        self.close_file(line, false);
        let mut fields = Fields::new(segments);
        for _ in 0..4 {
            fields.next(); // sender, receiver, creation date and time
        }
        let id = match fields.next() {
            Some((id, _)) if !id.is_empty() => id.to_string(),
            other => {
                let line = other.map_or(line, |(_, line)| line);
                self.diags.push(Diagnostic::warning(
                    line,
                    "01 file id",
                    "no file identification number: statement ids are \"/<account>\"",
                ));
                String::new()
            }
        };
        fields.next(); // physical record length
        fields.next(); // block size
        if let Some((version, version_line)) = fields.next() {
            if !version.is_empty() && version != "2" {
                self.diags.push(Diagnostic::warning(
                    version_line,
                    "01 version",
                    format!("version {:?}, not 2: read as BAI2", shorten(version)),
                ));
            }
        }
        self.file = Some(FileCtx { header: true, id, records: 0, groups: 0, total: 0 });
        self.count(segments.len());
    }

    fn group_header(&mut self, segments: &[Segment<'_>]) {
        let line = segments[0].line;
        self.close_group(line, None);
        if self.file.is_none() {
            self.diags.push(Diagnostic::warning(line, "02", "a group without a 01 file header before it"));
            self.file = Some(FileCtx { header: false, id: String::new(), records: 0, groups: 0, total: 0 });
        }
        let mut fields = Fields::new(segments);
        fields.next(); // ultimate receiver
        fields.next(); // originator
        if let Some((status, status_line)) = fields.next() {
            let meaning = match status {
                "" | "1" => None,
                "2" => Some("2 (deletion)".to_string()),
                "3" => Some("3 (correction)".to_string()),
                "4" => Some("4 (test only)".to_string()),
                other => Some(format!("{:?} (not a BAI2 group status)", shorten(other))),
            };
            if let Some(meaning) = meaning {
                self.diags.push(Diagnostic::warning(
                    status_line,
                    "02 group status",
                    format!("group status {meaning}: its accounts are read as an update"),
                ));
            }
        }
        let as_of = match fields.next() {
            Some((text, date_line)) => {
                let date = parse_date(text);
                if date.is_none() {
                    self.diags.push(Diagnostic::warning(
                        date_line,
                        "02 as-of date",
                        format!("{:?} is not a YYMMDD date: the group's statements have no date", shorten(text)),
                    ));
                }
                date
            }
            None => {
                self.diags.push(Diagnostic::warning(
                    fields.line(),
                    "02 as-of date",
                    "no as-of date (record ends): the group's statements have no date",
                ));
                None
            }
        };
        fields.next(); // as-of time
        let currency = fields.next().map_or("", |(c, _)| c).to_string();
        if let Some(file) = &mut self.file {
            file.groups += 1;
        }
        self.group = Some(GroupCtx { header: true, as_of, currency, records: 0, accounts: 0, total: 0 });
        self.count(segments.len());
    }

    fn account_record(&mut self, segments: &[Segment<'_>]) {
        let line = segments[0].line;
        self.close_account(line, None);
        if self.group.is_none() {
            self.diags.push(Diagnostic::warning(
                line,
                "03",
                "an account without a 02 group header before it: no as-of date",
            ));
            if self.file.is_none() {
                self.file = Some(FileCtx { header: false, id: String::new(), records: 0, groups: 0, total: 0 });
            }
            if let Some(file) = &mut self.file {
                file.groups += 1;
            }
            self.group = Some(GroupCtx {
                header: false,
                as_of: None,
                currency: String::new(),
                records: 0,
                accounts: 0,
                total: 0,
            });
        }
        let (as_of, group_currency) = self.group.as_ref().map_or((None, ""), |g| (g.as_of, g.currency.as_str()));
        let file_id = self.file.as_ref().map_or("", |f| f.id.as_str());

        let mut fields = Fields::new(segments);
        let account_id = fields.next().map_or("", |(a, _)| a).to_string();
        if account_id.is_empty() {
            self.diags.push(Diagnostic::warning(line, "03 account", "no account number"));
        }
        let (currency_field, currency_line) = fields.next().unwrap_or(("", line));
        let currency = if !currency_field.is_empty() {
            currency_field.to_string()
        } else if !group_currency.is_empty() {
            group_currency.to_string()
        } else {
            self.diags.push(Diagnostic::warning(
                currency_line,
                "03 currency",
                format!("no currency in the account or its group: {DEFAULT_CURRENCY}, BAI2's default"),
            ));
            DEFAULT_CURRENCY.to_string()
        };
        let scale = match Currency::from_code(&currency) {
            Some(c) => c.minor_units(),
            None => {
                self.diags.push(Diagnostic::warning(
                    currency_line,
                    "03 currency",
                    format!(
                        "{:?} is not an ISO 4217 currency: amounts read with {DEFAULT_MINOR_UNITS} implied decimals",
                        shorten(&currency)
                    ),
                ));
                DEFAULT_MINOR_UNITS
            }
        };
        let mut account = AccountCtx {
            statement: BankStatement {
                format: StatementFormat::Bai2,
                statement_id: format!("{file_id}/{account_id}"),
                sequence: None,
                account_id,
                bic: None,
                currency,
                opening: None,
                closing: None,
                closing_available: None,
                date: as_of,
                lines: Vec::new(),
            },
            scale,
            records: 0,
            total: 0,
        };

        // Summaries: type code, amount, item count, funds type (and its fields).
        while let Some((code, code_line)) = fields.next() {
            let amount = fields.next();
            let _item_count = fields.next();
            let funds = read_funds(&mut fields, "03", &mut self.diags);
            let (amount_text, amount_line) = amount.unwrap_or(("", code_line));
            let slot = match code {
                "010" => Some(("opening ledger", &mut account.statement.opening)),
                "015" => Some(("closing ledger", &mut account.statement.closing)),
                "045" => Some(("closing available", &mut account.statement.closing_available)),
                _ => None,
            };
            match parse_amount(amount_text) {
                Ok(Some(minor)) => {
                    account.total = account.total.saturating_add(minor);
                    if let Some((name, slot)) = slot {
                        match to_decimal(minor, scale) {
                            Some(amount) => {
                                if slot.is_some() {
                                    self.diags.push(Diagnostic::warning(
                                        code_line,
                                        format!("03 {code}"),
                                        format!("a second {name} balance: the later one kept"),
                                    ));
                                }
                                *slot = Some(BankBalance {
                                    date: as_of,
                                    currency: account.statement.currency.clone(),
                                    amount,
                                });
                            }
                            None => self.diags.push(Diagnostic::error(
                                amount_line,
                                "03 amount",
                                format!("{:?} is out of range: {name} balance left out", shorten(amount_text)),
                            )),
                        }
                    }
                }
                Ok(None) => {
                    if let Some((name, _)) = slot {
                        self.diags.push(Diagnostic::warning(
                            amount_line,
                            "03 amount",
                            format!("type code {code} without an amount: {name} balance left absent"),
                        ));
                    }
                }
                Err(()) => self.diags.push(Diagnostic::error(
                    amount_line,
                    "03 amount",
                    format!("{:?} is not an amount: summary {:?} left out", shorten(amount_text), shorten(code)),
                )),
            }
            if matches!(funds, Funds::Lost) {
                break;
            }
        }

        if let Some(group) = &mut self.group {
            group.accounts += 1;
        }
        self.account = Some(account);
        self.count(segments.len());
    }

    fn detail(&mut self, segments: &[Segment<'_>]) {
        let line = segments[0].line;
        self.count(segments.len());
        let as_of = self.group.as_ref().and_then(|g| g.as_of);
        let Some(account) = self.account.as_mut() else {
            self.diags.push(Diagnostic::error(
                line,
                "16",
                "a transaction outside an account (no 03 before it): line left out",
            ));
            return;
        };
        let diags = &mut self.diags;
        let mut fields = Fields::new(segments);
        let type_code = fields.next().map_or("", |(c, _)| c);
        let (amount_text, amount_line) = fields.next().unwrap_or(("", fields.line()));
        let direction = direction(type_code);
        let minor = match parse_amount(amount_text) {
            Ok(Some(minor)) => minor,
            Ok(None) if direction == Direction::NonMonetary => return,
            Ok(None) => {
                diags.push(Diagnostic::error(amount_line, "16 amount", "no amount: line left out"));
                return;
            }
            Err(()) => {
                diags.push(Diagnostic::error(
                    amount_line,
                    "16 amount",
                    format!("{:?} is not an amount: line left out", shorten(amount_text)),
                ));
                return;
            }
        };
        account.total = account.total.saturating_add(minor);
        let signed = match direction {
            Direction::Debit => -minor.abs(),
            Direction::Credit => {
                if minor < 0 {
                    diags.push(Diagnostic::warning(
                        amount_line,
                        "16 amount",
                        format!("a negative amount on credit type code {type_code}: kept negative"),
                    ));
                }
                minor
            }
            Direction::NonMonetary => {
                if minor == 0 {
                    return;
                }
                diags.push(Diagnostic::warning(
                    line,
                    "16 type code",
                    format!("type code {type_code} is non-monetary but has an amount: read as a credit"),
                ));
                minor
            }
            Direction::Unknown => {
                diags.push(Diagnostic::warning(
                    line,
                    "16 type code",
                    format!("{:?} is not a BAI2 transaction type code: read as a credit", shorten(type_code)),
                ));
                minor
            }
        };
        let Some(amount) = to_decimal(signed, account.scale) else {
            diags.push(Diagnostic::error(
                amount_line,
                "16 amount",
                format!("{:?} is out of range: line left out", shorten(amount_text)),
            ));
            return;
        };
        let funds = read_funds(&mut fields, "16", diags);
        let value_date = match funds {
            Funds::Value(date) => date,
            Funds::Plain | Funds::Lost => as_of,
        };
        let (bank_reference, customer_reference, narrative) = if matches!(funds, Funds::Lost) {
            (None, None, String::new())
        } else {
            let bank = non_empty(fields.next());
            let customer = non_empty(fields.next());
            (bank, customer, fields.rest_text())
        };
        account.statement.lines.push(BankLine {
            source_line: line,
            booking_date: as_of,
            value_date,
            amount,
            currency: account.statement.currency.clone(),
            reversal: false,
            end_to_end_id: customer_reference.clone(),
            uetr: None,
            owner_reference: customer_reference,
            bank_reference,
            type_code: type_code.to_string(),
            narrative,
        });
    }

    fn account_trailer(&mut self, segments: &[Segment<'_>]) {
        let line = segments[0].line;
        self.count(segments.len());
        let Some(account) = self.account.as_ref() else {
            self.diags.push(Diagnostic::warning(line, "49", "an account trailer without an account (no 03): ignored"));
            return;
        };
        let (computed, records) = (account.total, account.records);
        let mut fields = Fields::new(segments);
        let written = check_total(
            &mut self.diags,
            fields.next(),
            line,
            "49 control total",
            computed,
            "the account's 03 and 16 amounts",
        );
        check_count(&mut self.diags, fields.next(), line, "49 number of records", records, "03 to 49");
        self.close_account(line, Some(written));
    }

    fn group_trailer(&mut self, segments: &[Segment<'_>]) {
        let line = segments[0].line;
        self.close_account(line, None);
        self.count(segments.len());
        let Some(group) = self.group.as_ref() else {
            self.diags.push(Diagnostic::warning(line, "98", "a group trailer without a group (no 02): ignored"));
            return;
        };
        let (computed, accounts, records) = (group.total, group.accounts, group.records);
        let mut fields = Fields::new(segments);
        let written = check_total(
            &mut self.diags,
            fields.next(),
            line,
            "98 control total",
            computed,
            "the group's 49 account control totals",
        );
        check_count(&mut self.diags, fields.next(), line, "98 number of accounts", accounts, "03 records");
        check_count(&mut self.diags, fields.next(), line, "98 number of records", records, "02 to 98");
        self.close_group(line, Some(written));
    }

    fn file_trailer(&mut self, segments: &[Segment<'_>]) {
        let line = segments[0].line;
        self.close_group(line, None);
        self.count(segments.len());
        let Some(file) = self.file.as_ref() else {
            self.diags.push(Diagnostic::warning(line, "99", "a file trailer without a file (no 01): ignored"));
            return;
        };
        let (computed, groups, records) = (file.total, file.groups, file.records);
        let mut fields = Fields::new(segments);
        check_total(
            &mut self.diags,
            fields.next(),
            line,
            "99 control total",
            computed,
            "the file's 98 group control totals",
        );
        check_count(&mut self.diags, fields.next(), line, "99 number of groups", groups, "02 records");
        check_count(&mut self.diags, fields.next(), line, "99 number of records", records, "01 to 99");
        self.close_file(line, true);
    }

    fn finish(mut self, last_line: u32) -> Parsed {
        let line = last_line.max(1);
        self.close_file(line, false);
        if !self.any_record && self.diags.iter().all(|d| d.field != "record") {
            self.diags.push(Diagnostic::error(line, "file", "no BAI2 record: the file is empty"));
        }
        Parsed { statements: self.statements, diagnostics: self.diags }
    }
}

/// A reference field: `None` when missing or empty.
fn non_empty(field: Option<(&str, u32)>) -> Option<String> {
    field.map(|(value, _)| value).filter(|value| !value.is_empty()).map(str::to_string)
}

/// Checks a control total against the sum computed: the written value when
/// it is readable (a mismatch is a warning), else `None` (also a warning).
fn check_total(
    diags: &mut Vec<Diagnostic>,
    field: Option<(&str, u32)>,
    record_line: u32,
    name: &str,
    computed: i128,
    what: &str,
) -> Option<i128> {
    let (text, line) = field.unwrap_or(("", record_line));
    match parse_amount(text) {
        Ok(Some(written)) => {
            if written != computed {
                diags.push(Diagnostic::warning(line, name, format!("{written} written, but {what} sum to {computed}")));
            }
            Some(written)
        }
        Ok(None) => {
            diags.push(Diagnostic::warning(line, name, format!("missing ({what} sum to {computed})")));
            None
        }
        Err(()) => {
            diags.push(Diagnostic::warning(
                line,
                name,
                format!("{:?} is not a number ({what} sum to {computed})", shorten(text)),
            ));
            None
        }
    }
}

/// Checks a count of a trailer against the one counted; a mismatch is a warning.
fn check_count(
    diags: &mut Vec<Diagnostic>,
    field: Option<(&str, u32)>,
    record_line: u32,
    name: &str,
    counted: u64,
    what: &str,
) {
    let (text, line) = field.unwrap_or(("", record_line));
    match parse_count(text) {
        Some(written) if written == counted => {}
        Some(written) => {
            diags.push(Diagnostic::warning(line, name, format!("{written} written, but {counted} counted ({what})")))
        }
        None if text.is_empty() => {
            diags.push(Diagnostic::warning(line, name, format!("missing ({counted} counted, {what})")))
        }
        None => diags.push(Diagnostic::warning(
            line,
            name,
            format!("{:?} is not a number ({counted} counted, {what})", shorten(text)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Severity;

    fn read(text: &str) -> Parsed {
        parse(text.as_bytes())
    }

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    /// `(line, field)` of every diagnostic of a severity.
    fn found(parsed: &Parsed, severity: Severity) -> Vec<(u32, String)> {
        parsed.diagnostics.iter().filter(|d| d.severity == severity).map(|d| (d.line, d.field.clone())).collect()
    }

    fn warnings(parsed: &Parsed) -> Vec<(u32, String)> {
        found(parsed, Severity::Warning)
    }

    fn errors(parsed: &Parsed) -> Vec<(u32, String)> {
        found(parsed, Severity::Error)
    }

    fn at(line: u32, field: &str) -> (u32, String) {
        (line, field.to_string())
    }

    /// A complete file around one account's records (03 to 49 excluded), with
    /// trailers whose totals are ignored by [`only`].
    fn wrap(account: &str) -> String {
        format!("01,SND,RCV,260105,0800,7,,,2/\n02,RCV,BNK,1,260104,2400,USD,2/\n{account}\n49,0,0/\n98,0,1,0/\n99,0,1,0/\n")
    }

    /// The diagnostics but those of the trailers' totals and counts.
    fn only(parsed: &Parsed) -> Vec<(u32, String, Severity)> {
        parsed
            .diagnostics
            .iter()
            .filter(|d| !["49 ", "98 ", "99 "].iter().any(|t| d.field.starts_with(t)))
            .map(|d| (d.line, d.field.clone(), d.severity))
            .collect()
    }

    const CLEAN: &str = "01,SENDER,RECEIVER,260105,0800,42,,,2/\n\
02,RECEIVER,BANK,1,260104,2400,EUR,2/\n\
03,ACC1,,010,+150000,,,015,200000,,,045,180000,,/\n\
16,195,100000,0,BREF1,CREF1,Incoming wire, from ACME/\n\
16,495,50000,Z,BREF2,,Outgoing/\n\
49,680000,4/\n\
98,680000,1,6/\n\
99,680000,1,8/\n";

    #[test]
    fn a_clean_file_reads_every_field_without_a_diagnostic() {
        let parsed = read(CLEAN);
        assert_eq!(parsed.diagnostics, vec![]);
        assert_eq!(parsed.statements.len(), 1);
        let st = &parsed.statements[0];
        assert_eq!(st.format, StatementFormat::Bai2);
        assert_eq!(st.statement_id, "42/ACC1");
        assert_eq!(st.sequence, None);
        assert_eq!(st.account_id, "ACC1");
        assert_eq!(st.bic, None);
        assert_eq!(st.currency, "EUR", "the group's currency when the account has none");
        assert_eq!(st.date, date(2026, 1, 4));
        let balance =
            |amount: &str| Some(BankBalance { date: date(2026, 1, 4), currency: "EUR".into(), amount: dec(amount) });
        assert_eq!(st.opening, balance("1500.00"));
        assert_eq!(st.closing, balance("2000.00"));
        assert_eq!(st.closing_available, balance("1800.00"));
        assert_eq!(
            st.lines,
            vec![
                BankLine {
                    source_line: 4,
                    booking_date: date(2026, 1, 4),
                    value_date: date(2026, 1, 4),
                    amount: dec("1000.00"),
                    currency: "EUR".into(),
                    reversal: false,
                    end_to_end_id: Some("CREF1".into()),
                    uetr: None,
                    owner_reference: Some("CREF1".into()),
                    bank_reference: Some("BREF1".into()),
                    type_code: "195".into(),
                    narrative: "Incoming wire, from ACME".into(),
                },
                BankLine {
                    source_line: 5,
                    booking_date: date(2026, 1, 4),
                    value_date: date(2026, 1, 4),
                    amount: dec("-500.00"),
                    currency: "EUR".into(),
                    reversal: false,
                    end_to_end_id: None,
                    uetr: None,
                    owner_reference: None,
                    bank_reference: Some("BREF2".into()),
                    type_code: "495".into(),
                    narrative: "Outgoing".into(),
                },
            ]
        );
        // The format is detected, and the generic entry point gives the same.
        assert_eq!(crate::parse::detect(CLEAN.as_bytes()), Some(StatementFormat::Bai2));
        assert_eq!(crate::parse::parse(CLEAN.as_bytes()), Some(parsed));
    }

    #[test]
    fn crlf_leading_blank_lines_and_a_bom_keep_line_numbers() {
        let text = format!("\u{feff}\r\n\r\n{}", CLEAN.replace('\n', "\r\n"));
        let parsed = read(&text);
        assert_eq!(parsed.diagnostics, vec![]);
        let st = &parsed.statements[0];
        assert_eq!(st.lines.iter().map(|l| l.source_line).collect::<Vec<_>>(), vec![6, 7]);
        assert_eq!(st.lines[0].narrative, "Incoming wire, from ACME");
        // Blank lines in between are skipped, and still counted as lines.
        let parsed = read(&CLEAN.replace("16,495", "\n   \n16,495"));
        assert_eq!(parsed.statements[0].lines[1].source_line, 7);
    }

    #[test]
    fn funds_types_of_details_place_the_fields_after_them() {
        let parsed = read(&wrap(
            "03,A,USD/\n\
16,195,1000,V,260103,1200,B1,C1,value dated\n\
16,195,1000,S,100,200,700,B2,C2,simple\n\
16,195,1000,D,2,0,400,1,600,B3,C3,distributed\n\
16,195,1000,D,0,B4,C4,no distribution\n\
16,195,1000,0,B5,C5,immediate\n\
16,195,1000,1,B6,C6,one day\n\
16,195,1000,2,B7,C7,two days\n\
16,195,1000,Z,B8,C8,unknown\n\
16,195,1000,,B9,C9,absent\n\
16,195,1000,V,260102,,B10,C10,value dated without a time",
        ));
        assert_eq!(only(&parsed), vec![]);
        let lines = &parsed.statements[0].lines;
        assert_eq!(lines.len(), 10);
        for (idx, line) in lines.iter().enumerate() {
            assert_eq!(line.bank_reference.as_deref(), Some(format!("B{}", idx + 1).as_str()), "{line:?}");
            assert_eq!(line.owner_reference.as_deref(), Some(format!("C{}", idx + 1).as_str()), "{line:?}");
            assert_eq!(line.end_to_end_id, line.owner_reference);
            assert_eq!(line.amount, dec("10.00"));
            assert_eq!(line.booking_date, date(2026, 1, 4));
        }
        let narratives: Vec<&str> = lines.iter().map(|l| l.narrative.as_str()).collect();
        assert_eq!(
            narratives,
            [
                "value dated",
                "simple",
                "distributed",
                "no distribution",
                "immediate",
                "one day",
                "two days",
                "unknown",
                "absent",
                "value dated without a time"
            ]
        );
        let values: Vec<_> = lines.iter().map(|l| l.value_date).collect();
        assert_eq!(values[0], date(2026, 1, 3), "V: the value date");
        assert_eq!(values[9], date(2026, 1, 2));
        assert!(values[1..9].iter().all(|v| *v == date(2026, 1, 4)), "others: the as-of date");
    }

    #[test]
    fn funds_types_of_summaries_place_the_balances_after_them() {
        let parsed = read(&wrap(
            "03,A,USD,100,5000,2,V,260103,,010,1000,,,400,300,1,S,100,100,100,015,2000,,,\
040,9,,D,2,0,5,1,4,045,1500,,,072,1,,1,050,7,,2/",
        ));
        assert_eq!(only(&parsed), vec![]);
        let st = &parsed.statements[0];
        assert_eq!(st.opening.as_ref().unwrap().amount, dec("10.00"));
        assert_eq!(st.closing.as_ref().unwrap().amount, dec("20.00"));
        assert_eq!(st.closing_available.as_ref().unwrap().amount, dec("15.00"));
        assert_eq!(st.closing.as_ref().unwrap().date, date(2026, 1, 4));
    }

    #[test]
    fn bad_funds_types_are_reported_where_they_are() {
        let parsed = read(&wrap(
            "03,A,USD/\n\
16,195,1000,V,261399,,B1,C1,bad value date\n\
16,195,1000,Q,B2,C2,unknown funds type\n\
16,195,1000,D,x,1,2,B3,C3,bad count\n\
16,195,1000,S,1,x,3,B4,C4,bad S amount\n\
16,195,1000,D,3,1,100,B5",
        ));
        assert_eq!(errors(&parsed), vec![at(6, "16 availability")]);
        assert_eq!(
            only(&parsed).into_iter().filter(|d| d.2 == Severity::Warning).map(|d| (d.0, d.1)).collect::<Vec<_>>(),
            vec![at(4, "16 value date"), at(5, "16 funds type"), at(7, "16 availability"), at(8, "16 availability")]
        );
        let lines = &parsed.statements[0].lines;
        assert_eq!(lines.len(), 5, "every line kept");
        assert_eq!(lines[0].value_date, None, "an invalid value date is left absent");
        assert_eq!(lines[0].bank_reference.as_deref(), Some("B1"));
        assert_eq!(lines[1].bank_reference.as_deref(), Some("B2"));
        assert_eq!(lines[1].narrative, "unknown funds type");
        assert_eq!((lines[2].bank_reference.as_deref(), lines[2].narrative.as_str()), (None, ""), "D lost");
        assert_eq!(lines[2].amount, dec("10.00"));
        assert_eq!(lines[3].owner_reference.as_deref(), Some("C4"));
        assert_eq!(lines[4].bank_reference, None, "D announced 3, the record ended");
    }

    #[test]
    fn continuations_continue_fields_and_text() {
        let parsed = read(&wrap(
            "03,A,USD,010,1000,,,015/\n\
88,2000,,/\n\
16,115,10000000,S,5000000,4000000,1000000/\n\
88,AX13612,B096132,AMALGAMATED CORP. LOCKBOX\n\
88,DEPOSIT-MISC. RECEIVABLES\n\
16,195,1000,,B,C,first part, with a comma\n\
88,second part/\n\
16,195,1000,,B,C,/\n\
88,only in the continuation",
        ));
        assert_eq!(only(&parsed), vec![]);
        let st = &parsed.statements[0];
        assert_eq!(st.closing.as_ref().unwrap().amount, dec("20.00"), "an 03 continued in the middle of a summary");
        let lines = &st.lines;
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].source_line, 5, "the 16's line, not its continuation's");
        assert_eq!(lines[0].amount, dec("100000.00"));
        assert_eq!(lines[0].bank_reference.as_deref(), Some("AX13612"));
        assert_eq!(lines[0].owner_reference.as_deref(), Some("B096132"));
        assert_eq!(lines[0].narrative, "AMALGAMATED CORP. LOCKBOX DEPOSIT-MISC. RECEIVABLES");
        assert_eq!(lines[1].narrative, "first part, with a comma second part");
        assert_eq!(lines[2].narrative, "only in the continuation");
    }

    #[test]
    fn continuations_count_as_records_of_trailers_and_continue_them() {
        let text = "01,S,R,260105,0800,1,,,2/\n\
02,R,B,1,260104,,USD/\n\
03,A,,010,1000,,,015,3000,,/\n\
16,195,2000,,,,text\n\
88,more text\n\
49,6000/\n\
88,5/\n\
98,6000,1/\n\
88,8/\n\
99,6000,1,10/\n";
        let parsed = read(text);
        assert_eq!(parsed.diagnostics, vec![]);
        assert_eq!(parsed.statements[0].lines[0].narrative, "text more text");
    }

    #[test]
    fn an_orphan_continuation_is_an_error() {
        let parsed = read(&format!("88,nothing before\n{CLEAN}"));
        assert_eq!(errors(&parsed), vec![at(1, "88")]);
        assert_eq!(parsed.statements.len(), 1);
        let parsed = read(&CLEAN.replace("16,495", "garbage here\n88,continues garbage\n16,495"));
        assert_eq!(errors(&parsed), vec![at(5, "record"), at(6, "88")]);
        assert_eq!(parsed.statements[0].lines.len(), 2);
    }

    #[test]
    fn signed_amounts() {
        let parsed = read(&wrap(
            "03,A,USD,010,-500000,,,015,+000000000000,,,045,+0000012,,/\n\
16,195,+1000,,,,credit with a plus\n\
16,495,-1000,,,,debit written negative\n\
16,495,+1000,,,,debit with a plus\n\
16,195,-1000,,,,credit written negative\n\
16,195,-0,,,,negative zero",
        ));
        assert_eq!(only(&parsed), vec![(7, "16 amount".to_string(), Severity::Warning)]);
        let st = &parsed.statements[0];
        assert_eq!(st.opening.as_ref().unwrap().amount, dec("-5000.00"));
        assert_eq!(st.closing.as_ref().unwrap().amount.to_string(), "0.00");
        assert_eq!(st.closing_available.as_ref().unwrap().amount, dec("0.12"));
        let amounts: Vec<String> = st.lines.iter().map(|l| l.amount.to_string()).collect();
        assert_eq!(amounts, ["10.00", "-10.00", "-10.00", "-10.00", "0.00"]);
    }

    #[test]
    fn implied_decimals_follow_the_currency() {
        let jpy = read(&wrap("03,A,JPY,010,150000,,,/\n16,195,2500,,,,yen"));
        assert_eq!(only(&jpy), vec![]);
        let st = &jpy.statements[0];
        assert_eq!(st.currency, "JPY");
        assert_eq!(st.opening.as_ref().unwrap().amount.to_string(), "150000");
        assert_eq!(st.opening.as_ref().unwrap().currency, "JPY");
        assert_eq!(st.lines[0].amount.to_string(), "2500");
        assert_eq!(st.lines[0].currency, "JPY");

        let kwd = read(&wrap("03,A,KWD,010,150000,,,/"));
        assert_eq!(kwd.statements[0].opening.as_ref().unwrap().amount.to_string(), "150.000");

        // The account's currency wins over the group's (USD in `wrap`).
        let cad = read(&wrap("03,A,CAD,010,150000,,,/"));
        assert_eq!(cad.statements[0].currency, "CAD");
        let usd = read(&wrap("03,A,,010,150000,,,/"));
        assert_eq!(usd.statements[0].currency, "USD");

        let unknown = read(&wrap("03,A,ZZZ,010,150000,,,/"));
        assert_eq!(only(&unknown), vec![(3, "03 currency".to_string(), Severity::Warning)]);
        assert_eq!(unknown.statements[0].currency, "ZZZ", "kept as written");
        assert_eq!(unknown.statements[0].opening.as_ref().unwrap().amount.to_string(), "1500.00");
    }

    #[test]
    fn no_currency_anywhere_is_usd_with_a_warning() {
        let parsed = read(&wrap("03,A,,010,100,,,/").replace(",USD,2/", ",,2/"));
        assert_eq!(only(&parsed), vec![(3, "03 currency".to_string(), Severity::Warning)]);
        assert_eq!(parsed.statements[0].currency, "USD");
        assert_eq!(parsed.statements[0].opening.as_ref().unwrap().currency, "USD");
    }

    #[test]
    fn type_codes_decide_the_direction() {
        let parsed = read(&wrap(
            "03,A,USD/\n\
16,890,0,,,,information only\n\
16,890,,,,,information only\n\
16,890,500,,,,information with an amount\n\
16,930,100,,,,customized credit\n\
16,965,100,,,,customized debit\n\
16,850,100,,,,not a BAI2 code\n\
16,1AB,100,,,,not a code\n\
16,720,0,,,,loan information\n\
16,100,100,,,,total credits\n\
16,699,100,,,,debit",
        ));
        assert_eq!(
            only(&parsed),
            vec![
                (6, "16 type code".to_string(), Severity::Warning),
                (9, "16 type code".to_string(), Severity::Warning),
                (10, "16 type code".to_string(), Severity::Warning),
            ]
        );
        let lines = &parsed.statements[0].lines;
        let seen: Vec<(&str, String)> = lines.iter().map(|l| (l.type_code.as_str(), l.amount.to_string())).collect();
        assert_eq!(
            seen,
            [
                ("890", "5.00".to_string()),
                ("930", "1.00".to_string()),
                ("965", "-1.00".to_string()),
                ("850", "1.00".to_string()),
                ("1AB", "1.00".to_string()),
                ("100", "1.00".to_string()),
                ("699", "-1.00".to_string()),
            ]
        );
    }

    #[test]
    fn control_totals_and_counts_are_checked_as_warnings() {
        let text = CLEAN.replace("49,680000,4/", "49,680001,5/").replace("98,680000,1,6/", "98,680001,2,7/");
        let parsed = read(&text);
        assert_eq!(errors(&parsed), vec![]);
        assert_eq!(
            warnings(&parsed),
            vec![
                at(6, "49 control total"),
                at(6, "49 number of records"),
                // The 98 total matches the 49 as written: the wrong 49 is reported once.
                at(7, "98 number of accounts"),
                at(7, "98 number of records"),
                at(8, "99 control total"),
            ]
        );
        assert_eq!(parsed.statements[0].lines.len(), 2, "nothing dropped");
        let parsed = read(&CLEAN.replace("49,680000,4/", "49,x,/"));
        assert_eq!(warnings(&parsed), vec![at(6, "49 control total"), at(6, "49 number of records")]);
    }

    #[test]
    fn multiple_groups_and_accounts() {
        let text = "01,S,R,260105,0800,9,,,2/\n\
02,R,B,1,260103,,USD/\n\
03,A,,010,100,,/\n\
16,195,100,,,,a\n\
49,200,3/\n\
03,B,EUR,010,300,,/\n\
49,300,2/\n\
98,500,2,7/\n\
02,R,B,1,260104,,JPY/\n\
03,A,,015,400,,/\n\
49,400,2/\n\
98,400,1,4/\n\
99,900,2,13/\n";
        let parsed = read(text);
        assert_eq!(parsed.diagnostics, vec![]);
        let seen: Vec<(&str, &str, Option<NaiveDate>, usize)> = parsed
            .statements
            .iter()
            .map(|s| (s.statement_id.as_str(), s.currency.as_str(), s.date, s.lines.len()))
            .collect();
        assert_eq!(
            seen,
            [
                ("9/A", "USD", date(2026, 1, 3), 1),
                ("9/B", "EUR", date(2026, 1, 3), 0),
                ("9/A", "JPY", date(2026, 1, 4), 0)
            ]
        );
        assert_eq!(parsed.statements[2].closing.as_ref().unwrap().amount.to_string(), "400");
    }

    #[test]
    fn a_bad_amount_leaves_its_line_out_and_the_rest_is_read() {
        let parsed = read(&CLEAN.replace("16,195,100000,", "16,195,1000.00,"));
        assert_eq!(errors(&parsed), vec![at(4, "16 amount")]);
        assert_eq!(parsed.statements[0].lines.len(), 1);
        assert_eq!(parsed.statements[0].lines[0].source_line, 5);
        for bad in ["12a", "+", "-", "1 2", "1e5", "99999999999999999999999999999"] {
            let parsed = read(&CLEAN.replace("16,195,100000,", &format!("16,195,{bad},")));
            assert_eq!(errors(&parsed), vec![at(4, "16 amount")], "{bad}");
        }
        // 28 digits is the most a Decimal holds.
        let parsed = read(&CLEAN.replace("16,195,100000,", "16,195,9999999999999999999999999999,"));
        assert_eq!(errors(&parsed), vec![]);
        assert_eq!(parsed.statements[0].lines[0].amount.to_string(), "99999999999999999999999999.99");
        // A bad summary amount leaves that balance out.
        let parsed = read(&CLEAN.replace("010,+150000", "010,+15x000"));
        assert_eq!(errors(&parsed), vec![at(3, "03 amount")]);
        assert_eq!(parsed.statements[0].opening, None);
        assert!(parsed.statements[0].closing.is_some());
        // No amount: a detail is left out, a balance left absent.
        let parsed = read(&CLEAN.replace("16,195,100000,", "16,195,,").replace("010,+150000", "010,"));
        assert_eq!(errors(&parsed), vec![at(4, "16 amount")]);
        assert!(warnings(&parsed).contains(&at(3, "03 amount")));
        assert_eq!(parsed.statements[0].opening, None);
    }

    #[test]
    fn a_detail_before_any_account_is_an_error() {
        let text = CLEAN.replace("03,ACC1", "16,195,100,,,,stray\n03,ACC1");
        let parsed = read(&text);
        assert_eq!(errors(&parsed), vec![at(3, "16")]);
        assert_eq!(parsed.statements.len(), 1);
        assert_eq!(parsed.statements[0].lines.len(), 2);
        // A detail after the account's trailer is outside too.
        let text = CLEAN.replace("98,", "16,195,100,,,,late\n98,");
        assert_eq!(errors(&read(&text)), vec![at(7, "16")]);
    }

    #[test]
    fn a_truncated_file_keeps_what_it_read() {
        let cut = &CLEAN[..CLEAN.find("Outgoing").unwrap() - 2];
        assert!(cut.ends_with(",BREF2"));
        let parsed = read(cut);
        assert_eq!(errors(&parsed), vec![]);
        assert_eq!(warnings(&parsed), vec![at(5, "49"), at(5, "98"), at(5, "99")]);
        let lines = &parsed.statements[0].lines;
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].bank_reference.as_deref(), Some("BREF2"));
        assert_eq!(lines[1].narrative, "");
        // Cut in the middle of the amount's record: no amount.
        let parsed = read(&CLEAN[..CLEAN.find("16,495").unwrap() + 5]);
        assert_eq!(errors(&parsed), vec![at(5, "16 amount")]);
        assert_eq!(parsed.statements[0].lines.len(), 1);
        // Cut in the middle of a trailer.
        let parsed = read(&CLEAN[..CLEAN.find("99,").unwrap() + 4]);
        assert_eq!(errors(&parsed), vec![]);
        assert_eq!(
            warnings(&parsed),
            vec![at(8, "99 control total"), at(8, "99 number of groups"), at(8, "99 number of records")]
        );
    }

    #[test]
    fn garbage_empty_and_headerless_input() {
        let parsed = read("hello, world\n\u{0}\u{1}binary\n{1:F01BANK}\n");
        assert_eq!(parsed.statements, vec![]);
        assert_eq!(errors(&parsed), vec![at(1, "record"), at(2, "record"), at(3, "record")]);

        for empty in ["", "\n", "  \r\n\t\n"] {
            let parsed = read(empty);
            assert_eq!(parsed.statements, vec![]);
            assert_eq!(errors(&parsed), vec![at(1, "file")], "{empty:?}");
        }

        let bytes: Vec<u8> = (0..=255u8).cycle().take(4000).collect();
        let parsed = parse(&bytes);
        assert!(parsed.statements.is_empty());
        assert!(parsed.diagnostics.iter().all(|d| d.line >= 1));

        // Without 01 and 02: read, with warnings.
        let parsed = read("03,A,USD,010,100,,/\n16,195,100,,,,x\n49,200,3/\n");
        assert_eq!(errors(&parsed), vec![]);
        assert_eq!(warnings(&parsed), vec![at(1, "03")]);
        assert_eq!(parsed.statements[0].statement_id, "/A");
        assert_eq!(parsed.statements[0].date, None);
        assert_eq!(parsed.statements[0].lines[0].booking_date, None);
    }

    #[test]
    fn header_oddities_are_warnings() {
        let text =
            CLEAN.replace(",42,,,2/", ",,,,3/").replace("BANK,1,260104", "BANK,4,260199").replace("03,ACC1,", "03,,");
        let parsed = read(&text);
        assert_eq!(errors(&parsed), vec![]);
        assert_eq!(
            warnings(&parsed),
            vec![
                at(1, "01 file id"),
                at(1, "01 version"),
                at(2, "02 group status"),
                at(2, "02 as-of date"),
                at(3, "03 account")
            ]
        );
        let st = &parsed.statements[0];
        assert_eq!(st.statement_id, "/");
        assert_eq!((st.date, st.lines[0].booking_date, st.lines[0].value_date), (None, None, None));
        assert_eq!(st.opening.as_ref().unwrap().date, None);
    }

    #[test]
    fn missing_trailers_between_accounts_and_groups() {
        let text = "01,S,R,260105,0800,1,,,2/\n\
02,R,B,1,260104,,USD/\n\
03,A,,010,100,,/\n\
03,B,,010,100,,/\n\
02,R,B,1,260105,,USD/\n\
03,C,,010,100,,/\n\
01,S,R,260105,0800,2,,,2/\n";
        let parsed = read(text);
        assert_eq!(errors(&parsed), vec![]);
        assert_eq!(
            warnings(&parsed),
            vec![at(4, "49"), at(5, "49"), at(5, "98"), at(7, "49"), at(7, "98"), at(7, "99"), at(7, "99")]
        );
        let ids: Vec<&str> = parsed.statements.iter().map(|s| s.statement_id.as_str()).collect();
        assert_eq!(ids, ["1/A", "1/B", "1/C"]);
    }

    #[test]
    fn a_bom_before_latin1_text_is_dropped() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(CLEAN.replace("Outgoing", "Caf\u{e9}").as_bytes());
        let e_acute = bytes.windows(2).position(|w| w == "\u{e9}".as_bytes()).unwrap();
        bytes.splice(e_acute..e_acute + 2, [0xE9]);
        let parsed = parse(&bytes);
        assert_eq!(parsed.diagnostics, vec![Diagnostic::warning(1, "file", "not UTF-8: read as ISO 8859-1")]);
        assert_eq!(parsed.statements[0].lines[1].narrative, "Café");
    }

    #[test]
    fn latin1_text_is_decoded() {
        let mut bytes = CLEAN.replace("Outgoing", "Caf").into_bytes();
        let at_text = bytes.windows(3).position(|w| w == b"Caf").unwrap() + 3;
        bytes.insert(at_text, 0xE9);
        let parsed = parse(&bytes);
        assert_eq!(parsed.diagnostics, vec![Diagnostic::warning(1, "file", "not UTF-8: read as ISO 8859-1")]);
        assert_eq!(parsed.statements[0].lines[1].narrative, "Café");
    }

    #[test]
    fn the_corpus_files_read_in_full() {
        let parsed = parse(include_bytes!("../tests/feeds/bai2/test.bai"));
        assert_eq!(errors(&parsed), vec![]);
        let line = &parsed.statements[0].lines[0];
        assert_eq!(
            line.narrative,
            "To: Payee account, Account: XXXXX-4454, Client Ref ID: endtoendID, GS ID:I1220012 \
CREF: 9f4396bd-8c47-4893-8682-bd8ff006d140, BREF: 204820942048"
        );
        assert_eq!((line.source_line, line.end_to_end_id.as_deref()), (5, Some("endtoendID")));

        let parsed = parse(include_bytes!("../tests/feeds/bai2/test2.bai"));
        assert_eq!(errors(&parsed), vec![]);
        let st = &parsed.statements[0];
        assert_eq!((st.statement_id.as_str(), st.currency.as_str()), ("001/10200123456", "CAD"));
        assert_eq!(st.lines[0].narrative, "Store104");
        assert_eq!(st.lines[0].value_date, date(2006, 3, 16));
        assert_eq!(st.lines[0].booking_date, date(2006, 3, 17));
    }

    #[test]
    fn helpers() {
        assert_eq!(parse_amount(""), Ok(None));
        assert_eq!(parse_amount("+000000000000"), Ok(Some(0)));
        assert_eq!(parse_amount("-0012"), Ok(Some(-12)));
        assert_eq!(parse_amount("1.5"), Err(()));
        assert_eq!(parse_date("060316"), date(2006, 3, 16));
        assert_eq!(parse_date("991231"), date(1999, 12, 31));
        assert_eq!(parse_date("690101"), date(2069, 1, 1));
        assert_eq!(parse_date("700101"), date(1970, 1, 1));
        assert_eq!(parse_date("060230"), None);
        assert_eq!(parse_date("2006-03"), None);
        assert_eq!(split_code(" 16,1,2"), ("16", "1,2"));
        assert_eq!(split_code("98/"), ("98", ""));
        assert_eq!(split_code("x"), ("x", ""));
        assert_eq!(shorten("ééééééééééééééééééééééé"), "éééééééééééééééééééé…");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        #[test]
        fn never_panics_on_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let parsed = parse(&bytes);
            proptest::prop_assert!(parsed.diagnostics.iter().all(|d| d.line >= 1));
        }

        #[test]
        fn never_panics_on_edited_files(
            edits in proptest::collection::vec((0usize..400, proptest::sample::select(vec![",", "/", "\n", "88,", "16,", "V", "D,9", "S", "-", ""]), 0usize..4), 1..6)
        ) {
            let mut text = CLEAN.replace("16,495,50000,Z", "16,495,50000,D,2,1,5,2,6");
            for (pos, insert, remove) in edits {
                let pos = pos % (text.len() + 1);
                let end = (pos + remove).min(text.len());
                text.replace_range(pos..end, insert);
            }
            let parsed = read(&text);
            proptest::prop_assert!(parsed.diagnostics.iter().all(|d| d.line >= 1));
            for st in &parsed.statements {
                proptest::prop_assert!(st.lines.iter().all(|l| l.source_line >= 1 && l.currency == st.currency));
            }
        }
    }
}
