//! Business-day calendars: which days a market (a payment system, a
//! country's banks) is open, as dated data imported into the journal
//! (docs/SWEEPS.md, "Business days").
//!
//! A calendar is a named set of days (`CN`, `HK`, `US`, `TARGET`, `JP`,
//! `SG` …). Saturdays and Sundays are closed and every other day is open,
//! unless a day of the calendar says otherwise: a `holiday` closes a day, a
//! `working` day opens one (the PRC's adjusted working days, 调休, are
//! Saturdays and Sundays open for business). A calendar *covers* each
//! calendar year in which it holds at least one day: in a year it does not
//! cover, its Saturdays and Sundays are still closed, but the ledger does not
//! know the market's holidays and says so of a weekday
//! ([`DayStatus::Uncovered`]) rather than call it a business day silently.
//!
//! The group definition says which calendars govern a currency, and an
//! account's own market (`[pool.calendars]`, `[[account]] calendars`,
//! [`crate::config::CalendarRules`]); a day is a business day for a movement
//! when it is open in every calendar that governs it.
//!
//! The calendar file (`calendar,date,kind[,name]`) is read outside the core,
//! by `cashpool_files::calendars`, into [`CalendarDay`]s for
//! [`crate::Ledger::import_calendars`]. Interest never reads a calendar: it
//! accrues on every calendar day.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

use crate::config::ValueDateRule;
use crate::journal::PostedTransaction;
use crate::model::SYSTEM_ACCOUNT_PREFIX;
use crate::money::Currency;
use crate::state::{Rejection, State};

/// The longest calendar id, in bytes.
pub const CALENDAR_ID_LEN_MAX: usize = 16;
/// The longest name of a day, in bytes.
pub const DAY_NAME_LEN_MAX: usize = 128;
/// The most days one import may hold (one journal entry; a century of forty
/// calendars of fifteen holidays a year is 60,000).
pub const IMPORT_DAYS_MAX: usize = 100_000;

/// What a day of a calendar says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// The market is closed (a weekday holiday; on a weekend it restates the default).
    Holiday,
    /// The market is open (a Saturday or Sunday worked, 调休; on a weekday it restates the default).
    Working,
}

impl DayKind {
    /// Both kinds.
    pub const ALL: [DayKind; 2] = [DayKind::Holiday, DayKind::Working];

    /// The name in files and JSON: `holiday` or `working`.
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Working => "working",
        }
    }

    /// Parses `holiday` or `working` (lower case, exactly).
    pub fn parse(text: &str) -> Option<DayKind> {
        DayKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Whether the market is open that day.
    pub fn is_open(self) -> bool {
        self == DayKind::Working
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One day of one calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarDay {
    /// The calendar's id ([`check_calendar_id`]).
    pub calendar: String,
    /// The day.
    #[serde(with = "crate::journal::date_format")]
    pub date: NaiveDate,
    /// Closed or open.
    pub kind: DayKind,
    /// What the day is (`国庆节`, `Good Friday`); empty when the file gave none.
    pub name: String,
}

/// The days of one import, as its `calendar_imported` entry records them:
/// sorted by calendar id (UTF-8 bytes) and date, each (calendar, date) once.
/// In an import, a day the ledger does not hold yet is new; a day it holds
/// with another kind or name is a change, recorded only when `correction` is
/// set (`cashpool calendars import --correct`); a day it holds as given is
/// never recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarImport {
    /// Whether the import may change days held (a dated correction).
    pub correction: bool,
    /// The days, sorted, each once.
    pub days: Vec<CalendarDay>,
}

/// `Ok` for a calendar id: 1 to [`CALENDAR_ID_LEN_MAX`] upper-case ASCII
/// letters, digits, `-` or `_`, beginning with a letter (`CN`, `TARGET`,
/// `US-NY`); else what is wrong.
pub fn check_calendar_id(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("is empty; give the calendar's id, such as CN, HK, US or TARGET".into());
    }
    if text.len() > CALENDAR_ID_LEN_MAX {
        return Err(format!("{text:?} is {} bytes long; a calendar id has at most {CALENDAR_ID_LEN_MAX}", text.len()));
    }
    let allowed = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_';
    if !text.bytes().all(allowed) || !text.as_bytes()[0].is_ascii_uppercase() {
        let hint = if text.bytes().all(|b| allowed(b.to_ascii_uppercase())) && text.as_bytes()[0].is_ascii_alphabetic()
        {
            format!(" (write {:?})", text.to_ascii_uppercase())
        } else {
            String::new()
        };
        return Err(format!(
            "{text:?} is not a calendar id: upper-case letters, digits, `-` and `_`, beginning with a letter{hint}"
        ));
    }
    Ok(())
}

/// `Ok` for the name of a day: at most [`DAY_NAME_LEN_MAX`] bytes, no control characters.
pub fn check_day_name(text: &str) -> Result<(), String> {
    if text.len() > DAY_NAME_LEN_MAX {
        return Err(format!("is {} bytes long; a day's name has at most {DAY_NAME_LEN_MAX}", text.len()));
    }
    if text.chars().any(char::is_control) {
        return Err("holds a control character (a line break, a tab); write the name on one line".into());
    }
    Ok(())
}

/// Saturday or Sunday.
pub fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Why one calendar is closed on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Closure {
    /// The calendar.
    pub calendar: String,
    /// The holiday's name, `holiday` when it has none, or `Saturday`/`Sunday`.
    pub reason: String,
}

impl fmt::Display for Closure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.calendar, self.reason)
    }
}

/// Whether a day is a business day for a set of calendars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayStatus {
    /// Open in every calendar (or no calendar governs it).
    Open,
    /// Closed in at least one calendar (each named, in the order asked).
    Closed(Vec<Closure>),
    /// A weekday no calendar is known to close, but these hold no day of the
    /// date's year: their holidays are not known.
    Uncovered(Vec<String>),
}

/// A day held by a calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    kind: DayKind,
    name: String,
}

/// Every imported calendar day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarBook {
    calendars: BTreeMap<String, BTreeMap<NaiveDate, Held>>,
}

/// An import would change a day already held, and it is not a correction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error(
    "{calendar} {date} is already held as {held_kind}{held_name}; refusing to change it to {given_kind}{given_name} \
     (a held day changes only by a correction)",
    held_name = named(held_name),
    given_name = named(given_name)
)]
pub struct CalendarConflict {
    /// The row's index in the days given (0-based).
    pub row: usize,
    /// Its calendar.
    pub calendar: String,
    /// Its date.
    #[serde(with = "crate::journal::date_format")]
    pub date: NaiveDate,
    /// The kind held (or given by an earlier row of the same import).
    pub held_kind: DayKind,
    /// The name held (or given by an earlier row of the same import).
    pub held_name: String,
    /// The kind given.
    pub given_kind: DayKind,
    /// The name given.
    pub given_name: String,
}

fn named(name: &str) -> String {
    if name.is_empty() {
        " (no name)".to_string()
    } else {
        format!(" ({name})")
    }
}

/// What an import would do, before it is journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImportPlan {
    /// The days to journal (new ones, and changes when correcting), sorted.
    pub(crate) import: CalendarImport,
    /// How many rows were new.
    pub(crate) new_days: usize,
    /// How many rows changed a day held.
    pub(crate) changed_days: usize,
}

impl CalendarBook {
    /// An empty book.
    pub fn new() -> CalendarBook {
        CalendarBook::default()
    }

    /// Whether no day is held.
    pub fn is_empty(&self) -> bool {
        self.calendars.is_empty()
    }

    /// The number of days held.
    pub fn len(&self) -> usize {
        self.calendars.values().map(BTreeMap::len).sum()
    }

    /// The ids of the calendars held, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.calendars.keys().map(String::as_str)
    }

    /// The day `calendar` holds for `date`, if any: its kind and name.
    pub fn day(&self, calendar: &str, date: NaiveDate) -> Option<(DayKind, &str)> {
        let held = self.calendars.get(calendar)?.get(&date)?;
        Some((held.kind, held.name.as_str()))
    }

    /// Whether `calendar` holds a day in `year`.
    pub fn covers(&self, calendar: &str, year: i32) -> bool {
        let (Some(first), Some(last)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31))
        else {
            return false;
        };
        self.calendars.get(calendar).is_some_and(|days| days.range(first..=last).next().is_some())
    }

    /// Whether `date` is open in one calendar: `Some(None)` open,
    /// `Some(Some(closure))` closed, `None` a weekday of a year not covered.
    fn one(&self, calendar: &str, date: NaiveDate) -> Option<Option<Closure>> {
        let closure = |reason: String| Some(Closure { calendar: calendar.to_string(), reason });
        Some(match self.day(calendar, date) {
            Some((DayKind::Working, _)) => None,
            Some((DayKind::Holiday, name)) => {
                closure(if name.is_empty() { "holiday".to_string() } else { name.to_string() })
            }
            None if is_weekend(date) => {
                closure(if date.weekday() == Weekday::Sat { "Saturday" } else { "Sunday" }.to_string())
            }
            None if !self.covers(calendar, date.year()) => return None,
            None => None,
        })
    }

    /// Whether `date` is known to be open in `calendar`: not a holiday of it,
    /// and a weekday of a year it covers or a `working` day (the fast path of
    /// [`CalendarBook::status`], without an allocation).
    pub fn is_open(&self, calendar: &str, date: NaiveDate) -> bool {
        let Some(days) = self.calendars.get(calendar) else { return false };
        match days.get(&date) {
            Some(held) => held.kind.is_open(),
            None if is_weekend(date) => false,
            None => {
                let (Some(first), Some(last)) =
                    (NaiveDate::from_ymd_opt(date.year(), 1, 1), NaiveDate::from_ymd_opt(date.year(), 12, 31))
                else {
                    return false;
                };
                days.range(first..=last).next().is_some()
            }
        }
    }

    /// Whether `date` is a business day in every one of `calendars` (none: always).
    pub fn status(&self, calendars: &[impl AsRef<str>], date: NaiveDate) -> DayStatus {
        let mut closed = Vec::new();
        let mut uncovered = Vec::new();
        for calendar in calendars {
            let calendar = calendar.as_ref();
            match self.one(calendar, date) {
                Some(Some(closure)) => closed.push(closure),
                Some(None) => {}
                None => uncovered.push(calendar.to_string()),
            }
        }
        if !closed.is_empty() {
            DayStatus::Closed(closed)
        } else if !uncovered.is_empty() {
            DayStatus::Uncovered(uncovered)
        } else {
            DayStatus::Open
        }
    }

    /// Every day held, sorted by calendar id and date.
    pub fn days(&self) -> impl Iterator<Item = CalendarDay> + '_ {
        self.calendars.iter().flat_map(|(calendar, days)| {
            days.iter().map(move |(date, held)| CalendarDay {
                calendar: calendar.clone(),
                date: *date,
                kind: held.kind,
                name: held.name.clone(),
            })
        })
    }

    /// What importing `rows` would journal: the rows not held yet, and (with
    /// `correction`) those that change a day held; rows held as given are
    /// left out. Without `correction`, the first row that would change a day
    /// is a [`CalendarConflict`]. Two rows for one (calendar, date) must agree.
    pub(crate) fn plan(&self, rows: &[CalendarDay], correction: bool) -> Result<ImportPlan, CalendarConflict> {
        let mut staged: BTreeMap<(&str, NaiveDate), (usize, &CalendarDay)> = BTreeMap::new();
        let (mut new_days, mut changed_days) = (0, 0);
        for (row, day) in rows.iter().enumerate() {
            let conflict = |held_kind: DayKind, held_name: &str| CalendarConflict {
                row,
                calendar: day.calendar.clone(),
                date: day.date,
                held_kind,
                held_name: held_name.to_string(),
                given_kind: day.kind,
                given_name: day.name.clone(),
            };
            if let Some((_, earlier)) = staged.get(&(day.calendar.as_str(), day.date)) {
                if earlier.kind != day.kind || earlier.name != day.name {
                    return Err(conflict(earlier.kind, &earlier.name));
                }
                continue;
            }
            match self.day(&day.calendar, day.date) {
                Some((kind, name)) if kind == day.kind && name == day.name => continue,
                Some((kind, name)) if !correction => return Err(conflict(kind, name)),
                Some(_) => changed_days += 1,
                None => new_days += 1,
            }
            staged.insert((day.calendar.as_str(), day.date), (row, day));
        }
        let days = staged.into_values().map(|(_, day)| day.clone()).collect();
        Ok(ImportPlan { import: CalendarImport { correction, days }, new_days, changed_days })
    }

    /// Applies a journaled import, checking it as the journal specifies:
    /// valid ids and names, days sorted and each once, at most
    /// [`IMPORT_DAYS_MAX`], none restating a day held, and a day held changed
    /// only by a correction. Nothing is changed when it fails.
    pub(crate) fn apply(&mut self, import: &CalendarImport) -> Result<(), String> {
        if import.days.len() > IMPORT_DAYS_MAX {
            return Err(format!("{} days in one import, above {IMPORT_DAYS_MAX}", import.days.len()));
        }
        self.insert(import)
    }

    /// The days a state snapshot kept (every day held, which may be more than
    /// one import's), checked as [`CalendarBook::apply`] checks an import's.
    pub(crate) fn restore(&mut self, import: &CalendarImport) -> Result<(), String> {
        if import.days.is_empty() {
            return Ok(());
        }
        self.insert(import)
    }

    fn insert(&mut self, import: &CalendarImport) -> Result<(), String> {
        let days = &import.days;
        if days.is_empty() {
            return Err("a calendar import without days".into());
        }
        for (idx, day) in days.iter().enumerate() {
            let at = || format!("days[{idx}] ({} {})", day.calendar, day.date);
            check_calendar_id(&day.calendar).map_err(|reason| format!("{}: calendar {reason}", at()))?;
            check_day_name(&day.name).map_err(|reason| format!("{}: the name {reason}", at()))?;
            if idx > 0 {
                let before = &days[idx - 1];
                if (before.calendar.as_bytes(), before.date) >= (day.calendar.as_bytes(), day.date) {
                    return Err(format!("{}: days are not sorted by calendar and date, each once", at()));
                }
            }
            match self.day(&day.calendar, day.date) {
                Some((kind, name)) if kind == day.kind && name == day.name => {
                    return Err(format!("{}: restates the day held", at()));
                }
                Some(_) if !import.correction => {
                    return Err(format!("{}: changes a day held, and the import is not a correction", at()));
                }
                _ => {}
            }
        }
        for day in days {
            let held = Held { kind: day.kind, name: day.name.clone() };
            self.calendars.entry(day.calendar.clone()).or_default().insert(day.date, held);
        }
        Ok(())
    }

    /// Every id valid, every name valid, no calendar without days.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        for (calendar, days) in &self.calendars {
            check_calendar_id(calendar).map_err(|reason| format!("calendar {reason}"))?;
            if days.is_empty() {
                return Err(format!("calendar {calendar} is kept without days"));
            }
            if let Some((date, held)) = days.iter().find(|(_, held)| check_day_name(&held.name).is_err()) {
                return Err(format!("{calendar} {date}: the name {:?} is not valid", held.name));
            }
        }
        Ok(())
    }
}

/// A posting valued on a day that is not a business day for it: the warning
/// in a receipt (`non_business_value_dates = "warn"`), or why the transaction
/// is refused (`"refuse"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValueDateWarning {
    /// The first posting concerned (`postings[1]`); postings in one currency
    /// whose calendars say the same are one warning.
    pub field: String,
    /// Its account.
    pub account: String,
    /// Its currency.
    pub currency: Currency,
    /// The value date.
    #[serde(with = "crate::journal::date_format")]
    pub date: NaiveDate,
    /// The calendars closed that day (empty when none is closed but some do not cover the year).
    pub closures: Vec<Closure>,
    /// The calendars that hold no day of the date's year (when none is closed).
    pub uncovered: Vec<String>,
}

impl ValueDateWarning {
    /// `not_business_day`, or `calendar_missing` when no calendar is closed but some do not cover the year.
    pub fn code(&self) -> &'static str {
        if self.closures.is_empty() {
            "calendar_missing"
        } else {
            "not_business_day"
        }
    }

    /// What the posting is: `USD on HK-OPS (postings[1])`.
    pub fn subject(&self) -> String {
        format!("{} on {} ({})", self.currency, self.account, self.field)
    }

    /// The refusal this warning is under `non_business_value_dates = "refuse"`.
    pub(crate) fn rejection(&self) -> Rejection {
        if self.closures.is_empty() {
            Rejection::CalendarMissing {
                field: "value_date".into(),
                subject: self.subject(),
                date: self.date,
                calendars: self.uncovered.clone(),
            }
        } else {
            Rejection::NotBusinessDay {
                field: "value_date".into(),
                subject: self.subject(),
                date: self.date,
                closures: self.closures.clone(),
            }
        }
    }
}

impl fmt::Display for ValueDateWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.closures.is_empty() {
            write!(
                f,
                "calendar_missing: {}: no day of {} is imported for {}, so {} cannot be told a business day",
                self.subject(),
                self.uncovered.join(", "),
                self.date.year(),
                self.date
            )
        } else {
            let closed: Vec<String> = self.closures.iter().map(Closure::to_string).collect();
            write!(
                f,
                "not_business_day: {}: {} is not a business day ({})",
                self.subject(),
                self.date,
                closed.join("; ")
            )
        }
    }
}

impl State {
    /// The postings of `tx` valued on a day that is not a business day for
    /// them (the calendars of the group definition, [`crate::config::CalendarRules`]),
    /// grouped per currency and what the calendars say. Postings on system
    /// accounts move no money through a bank and are not looked at; an
    /// adopted bank line ([`crate::sweep::ADOPTED_PREFIX`]) is what the bank
    /// did, and is not either.
    pub(crate) fn value_date_warnings(&self, tx: &PostedTransaction) -> Vec<ValueDateWarning> {
        let Some(config) = self.config_on(tx.value_date) else { return Vec::new() };
        let rules = &config.pool.calendars;
        if rules.is_empty() || tx.id.starts_with(crate::sweep::ADOPTED_PREFIX) {
            return Vec::new();
        }
        let book = self.calendars().book();
        let mut warnings: Vec<ValueDateWarning> = Vec::new();
        for (idx, posting) in tx.postings.iter().enumerate() {
            // The ledger's own accounts (`SYS-…`, a prefix no account of a definition may take).
            if posting.account.starts_with(SYSTEM_ACCOUNT_PREFIX) {
                continue;
            }
            // The common case without an allocation: every calendar open.
            let of_currency = rules.currencies.get(&posting.currency).map_or(&[][..], Vec::as_slice);
            let of_account = rules.accounts.get(&posting.account).map_or(&[][..], Vec::as_slice);
            if of_currency.iter().chain(of_account).all(|calendar| book.is_open(calendar, tx.value_date)) {
                continue;
            }
            let calendars = rules.for_posting(&posting.account, posting.currency);
            let (closures, uncovered) = match self.calendars().book().status(&calendars, tx.value_date) {
                DayStatus::Open => continue,
                DayStatus::Closed(closures) => (closures, Vec::new()),
                DayStatus::Uncovered(uncovered) => (Vec::new(), uncovered),
            };
            let said = |w: &ValueDateWarning| {
                w.currency == posting.currency && w.closures == closures && w.uncovered == uncovered
            };
            if !warnings.iter().any(said) {
                warnings.push(ValueDateWarning {
                    field: format!("postings[{idx}]"),
                    account: posting.account.clone(),
                    currency: posting.currency,
                    date: tx.value_date,
                    closures,
                    uncovered,
                });
            }
        }
        warnings
    }

    /// Under `non_business_value_dates = "refuse"`, the refusal of a
    /// transaction valued on a day that is not a business day for one of its
    /// postings, or a weekday of a year a calendar of theirs does not cover
    /// (the first such); live and on replay alike.
    pub(crate) fn check_value_date(&self, tx: &PostedTransaction) -> Result<(), Rejection> {
        let refuse = self
            .config_on(tx.value_date)
            .is_some_and(|config| config.pool.calendars.value_dates == ValueDateRule::Refuse);
        if !refuse {
            return Ok(());
        }
        match self.value_date_warnings(tx).first() {
            Some(warning) => Err(warning.rejection()),
            None => Ok(()),
        }
    }

    /// Whether `date` is a business day for every one of `calendars`.
    pub(crate) fn day_status(&self, calendars: &[impl AsRef<str>], date: NaiveDate) -> DayStatus {
        self.calendars().book().status(calendars, date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn day(calendar: &str, on: &str, kind: DayKind, name: &str) -> CalendarDay {
        CalendarDay { calendar: calendar.into(), date: date(on), kind, name: name.into() }
    }

    fn book(days: &[CalendarDay]) -> CalendarBook {
        let mut book = CalendarBook::new();
        let plan = book.plan(days, false).unwrap();
        book.apply(&plan.import).unwrap();
        book
    }

    #[test]
    fn weekends_close_holidays_close_working_days_open_and_an_uncovered_year_is_said() {
        let book = book(&[
            day("CN", "2026-10-01", DayKind::Holiday, "国庆节"),
            day("CN", "2026-10-10", DayKind::Working, "国庆节调休"),
            day("US", "2026-11-26", DayKind::Holiday, ""),
        ]);
        let cn = vec!["CN".to_string()];
        let both = vec!["CN".to_string(), "US".to_string()];
        assert_eq!(book.status(&cn, date("2026-10-09")), DayStatus::Open, "a Friday");
        assert_eq!(book.status(&cn, date("2026-10-10")), DayStatus::Open, "a Saturday worked");
        let closure = |calendar: &str, reason: &str| Closure { calendar: calendar.into(), reason: reason.into() };
        assert_eq!(book.status(&cn, date("2026-10-11")), DayStatus::Closed(vec![closure("CN", "Sunday")]));
        assert_eq!(book.status(&cn, date("2026-10-01")), DayStatus::Closed(vec![closure("CN", "国庆节")]));
        assert_eq!(book.status(&both, date("2026-11-26")), DayStatus::Closed(vec![closure("US", "holiday")]));
        let saturday = DayStatus::Closed(vec![closure("CN", "Saturday"), closure("US", "Saturday")]);
        assert_eq!(book.status(&both, date("2026-10-03")), saturday);
        // 2027 is not covered: a Monday cannot be called open, a Sunday is still closed.
        assert_eq!(book.status(&cn, date("2027-01-04")), DayStatus::Uncovered(cn.clone()));
        assert_eq!(book.status(&cn, date("2027-01-03")), DayStatus::Closed(vec![closure("CN", "Sunday")]));
        assert_eq!(book.status(&[] as &[&str], date("2027-01-03")), DayStatus::Open, "no calendar governs: every day");
        assert!(book.covers("CN", 2026) && !book.covers("CN", 2025) && !book.covers("HK", 2026));
        // The fast path agrees with the status of one calendar.
        for (calendar, on) in [
            ("CN", "2026-10-09"),
            ("CN", "2026-10-10"),
            ("CN", "2026-10-11"),
            ("CN", "2026-10-01"),
            ("CN", "2027-01-04"),
            ("HK", "2026-10-09"),
        ] {
            let open = book.status(&[calendar], date(on)) == DayStatus::Open;
            assert_eq!(book.is_open(calendar, date(on)), open, "{calendar} {on}");
        }
    }

    #[test]
    fn a_reimport_journals_nothing_a_change_needs_a_correction_and_apply_refuses_what_plan_never_writes() {
        let first = [day("HK", "2026-12-25", DayKind::Holiday, "Christmas Day")];
        let mut book = book(&first);
        let again = book.plan(&first, false).unwrap();
        assert!(again.import.days.is_empty() && again.new_days == 0, "{again:?}");
        let changed = [day("HK", "2026-12-25", DayKind::Holiday, "Christmas")];
        let conflict = book.plan(&changed, false).unwrap_err();
        assert_eq!((conflict.row, conflict.held_name.as_str()), (0, "Christmas Day"));
        assert!(conflict.to_string().contains("only by a correction"), "{conflict}");
        let plan = book.plan(&changed, true).unwrap();
        assert_eq!((plan.new_days, plan.changed_days), (0, 1));
        let mut copy = book.clone();
        let not_correcting = CalendarImport { correction: false, days: plan.import.days.clone() };
        assert!(copy.apply(&not_correcting).unwrap_err().contains("not a correction"));
        assert_eq!(copy, book, "a refused import changes nothing");
        book.apply(&plan.import).unwrap();
        assert_eq!(book.day("HK", date("2026-12-25")), Some((DayKind::Holiday, "Christmas")));
        let restated = book.apply(&CalendarImport { correction: true, days: changed.to_vec() }).unwrap_err();
        assert!(restated.contains("restates"), "{restated}");
        let unsorted = CalendarImport {
            correction: false,
            days: vec![day("US", "2026-01-01", DayKind::Holiday, ""), day("JP", "2026-01-01", DayKind::Holiday, "")],
        };
        assert!(book.apply(&unsorted).unwrap_err().contains("not sorted"));
        // Two rows of one import for one day must agree.
        let twice = [day("SG", "2026-08-10", DayKind::Holiday, "a"), day("SG", "2026-08-10", DayKind::Holiday, "b")];
        assert_eq!(book.plan(&twice, true).unwrap_err().row, 1);
    }

    #[test]
    fn ids_and_names_are_checked() {
        for good in ["CN", "TARGET", "US-NY", "X_1"] {
            check_calendar_id(good).unwrap();
        }
        assert!(check_calendar_id("cn").unwrap_err().contains("write \"CN\""));
        for bad in ["", "1CN", "C N", "ABCDEFGHIJKLMNOPQ", "中国"] {
            assert!(check_calendar_id(bad).is_err(), "{bad}");
        }
        assert!(check_day_name("Good Friday").is_ok());
        assert!(check_day_name("a\nb").is_err());
        assert!(check_day_name(&"x".repeat(DAY_NAME_LEN_MAX + 1)).is_err());
    }
}
