//! `cashpool_files::calendars::parse_calendars_csv` on any UTF-8 text: it must return, never panic.
//! Besides, the days it returns must keep the parser's promises, and importing them into a
//! `CalendarBook` (as `cashpool calendars import` journals them and replay folds them: twice, the
//! second a no-op) and asking the book about each day must not panic either.
#![no_main]

use std::collections::BTreeSet;

use cashpool_files::calendars::parse_calendars_csv;
use cashpool_ledger::calendar::{check_calendar_id, check_day_name, CalendarBook, DayKind, DayStatus};
use cashpool_ledger::testing::import_into_book;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (days, errors) = parse_calendars_csv(text);
    for error in &errors {
        assert!(error.line >= 1, "line numbers are 1-based: {error:?}");
        let _ = error.to_string();
    }
    // Every day is valid and each (calendar, date) is given once.
    let mut seen = BTreeSet::new();
    for day in &days {
        assert!(check_calendar_id(&day.calendar).is_ok(), "a bad calendar id was accepted: {day:?}");
        assert!(check_day_name(&day.name).is_ok(), "a bad name was accepted: {day:?}");
        assert!(seen.insert((day.calendar.clone(), day.date)), "a (calendar, date) was given twice: {day:?}");
    }
    // The days of one parse go into a book without conflict, each new; a second import adds nothing.
    let mut book = CalendarBook::new();
    let (journaled, new_days, changed) = import_into_book(&mut book, &days, false).expect("one parse never conflicts");
    assert_eq!((journaled, new_days, changed), (days.len(), days.len(), 0));
    assert_eq!(book.len(), days.len());
    let again = import_into_book(&mut book, &days, false).expect("re-importing the same days is accepted");
    assert_eq!(again, (0, 0, 0), "a re-import journals nothing");
    // Each day reads back, and a calendar's own day decides its status.
    for day in days.iter().take(64) {
        let name = book.day(&day.calendar, day.date).map(|(kind, name)| (kind, name.to_string()));
        assert_eq!(name, Some((day.kind, day.name.clone())));
        match (day.kind, book.status(std::slice::from_ref(&day.calendar), day.date)) {
            (DayKind::Holiday, DayStatus::Closed(closures)) => assert_eq!(closures[0].calendar, day.calendar),
            (DayKind::Working, DayStatus::Open) => {}
            (kind, status) => panic!("{day:?}: a {kind} day reads {status:?}"),
        }
    }
});
