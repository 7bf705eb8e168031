//! The `calendars` part: the business-day calendars imported ([`CalendarBook`]).

use sha2::{Digest, Sha256};

use crate::calendar::{CalendarBook, CalendarImport};
use crate::digest::{date, finish, line, string};
use crate::journal::v2::{calendar_of, calendar_rec, CalendarRec};
use crate::journal::EntryHash;

/// The imported calendar days.
#[derive(Debug, Clone, Default)]
pub(crate) struct Calendars {
    book: CalendarBook,
}

impl Calendars {
    /// A `calendar_imported` entry (checked as [`CalendarBook::apply`] says).
    pub(crate) fn apply(&mut self, import: &CalendarImport) -> Result<(), String> {
        self.book.apply(import)
    }

    /// The book.
    pub(crate) fn book(&self) -> &CalendarBook {
        &self.book
    }

    /// Whether no day is held (the part is then left out of the state digest).
    pub(crate) fn is_empty(&self) -> bool {
        self.book.is_empty()
    }

    /// The part as the state snapshot keeps it: every day held, as one import's record.
    pub(crate) fn snapshot(&self) -> CalendarRec {
        calendar_rec(&CalendarImport { correction: false, days: self.book.days().collect() })
    }

    /// The part a snapshot kept; its days are checked as an import's.
    pub(crate) fn restore(rec: CalendarRec) -> Result<Calendars, String> {
        let mut calendars = Calendars::default();
        calendars.book.restore(&calendar_of(rec)?)?;
        Ok(calendars)
    }

    /// Every id and name valid, no calendar kept without days.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        self.book.check_invariants()
    }

    /// `[calendar, date, kind, name]` per day held, by calendar id (UTF-8 bytes) and date.
    pub(crate) fn digest(&self) -> EntryHash {
        let mut hasher = Sha256::new();
        for day in self.book.days() {
            line(&mut hasher, &[string(&day.calendar), date(day.date), string(day.kind.as_str()), string(&day.name)]);
        }
        finish(hasher)
    }
}
