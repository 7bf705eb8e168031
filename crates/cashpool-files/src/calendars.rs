//! The calendar CSV: `calendar,date,kind[,name]`, one day of one business-day
//! calendar a row, into [`CalendarDay`]s for
//! [`cashpool_ledger::Ledger::import_calendars`].
//!
//! [`parse_calendars_csv`] reads a file the way the other readers do: it never
//! stops at the first bad row, returns every good row and an [`InputError`]
//! for every bad one, and never panics. Lines that begin with `#` are comments
//! (the shipped calendars name their sources in them).

use std::collections::HashMap;

use cashpool_ledger::calendar::{check_calendar_id, check_day_name, CalendarDay, DayKind, IMPORT_DAYS_MAX};
use chrono::{Datelike, NaiveDate};

use crate::cell::{self, shown};
use crate::records::{strip_bom, width_diff, width_hint, wrong_header, CsvRecords};
use crate::{InputError, RowCheck};

/// The columns of a calendar CSV, in this order; the last, `name`, may be left out of the header.
pub const CALENDARS_CSV_COLUMNS: [&str; 4] = ["calendar", "date", "kind", "name"];

/// Parses the calendar CSV: comment lines beginning with `#` anywhere, then
/// the header `calendar,date,kind,name` (or `calendar,date,kind`: no names),
/// then one day a row: a calendar id (upper-case letters, digits, `-`, `_`,
/// beginning with a letter, at most 16: `CN`, `TARGET`), an ISO date,
/// `holiday` (the market is closed) or `working` (open: a Saturday or Sunday
/// worked, 调休), and an optional name (at most 128 bytes). Saturdays and
/// Sundays are closed and other days open unless a row says otherwise. A
/// (calendar, date) appears once in a file. A UTF-8 byte-order mark and blank
/// lines are tolerated; at most [`IMPORT_DAYS_MAX`] rows.
///
/// Returns every good row, in file order, and an [`InputError`] for every bad
/// row (a row may report several fields), with 1-based physical line numbers.
/// Never panics, whatever the input.
pub fn parse_calendars_csv(text: &str) -> (Vec<CalendarDay>, Vec<InputError>) {
    let (days, _, errors) = parse_limited(text, IMPORT_DAYS_MAX);
    (days, errors)
}

/// [`parse_calendars_csv`], with each good row's 1-based physical line (the
/// second vector, as long as the first), so that a later refusal of a row (a
/// [`cashpool_ledger::calendar::CalendarConflict`], which gives the row's
/// index) can name its line.
pub fn parse_calendars_csv_lines(text: &str) -> (Vec<CalendarDay>, Vec<u64>, Vec<InputError>) {
    parse_limited(text, IMPORT_DAYS_MAX)
}

fn expected_header() -> String {
    format!("`{}` (or without `,name`)", CALENDARS_CSV_COLUMNS.join(","))
}

fn parse_limited(text: &str, rows_max: usize) -> (Vec<CalendarDay>, Vec<u64>, Vec<InputError>) {
    let text = strip_bom(text);
    let mut days = Vec::new();
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut records = CsvRecords::with_comments(text);
    let mut columns: Option<&[&str]> = None;
    let mut count = 0usize;
    // (calendar, date) → the line of its good row.
    let mut seen: HashMap<(String, NaiveDate), u64> = HashMap::new();
    while let Some((line, record)) = records.next_record(&mut errors) {
        let Some(columns) = columns else {
            if record.iter().eq(CALENDARS_CSV_COLUMNS) {
                columns = Some(&CALENDARS_CSV_COLUMNS);
            } else if record.iter().eq(CALENDARS_CSV_COLUMNS[..3].iter().copied()) {
                columns = Some(&CALENDARS_CSV_COLUMNS[..3]);
            } else {
                let reason = wrong_header(&CALENDARS_CSV_COLUMNS, &expected_header(), record);
                errors.push(InputError::new(line, None, reason));
                return (days, lines, errors);
            }
            continue;
        };
        if count >= rows_max {
            errors.push(crate::records::too_many(line, rows_max, "row", "import"));
            break;
        }
        count += 1;
        if record.len() != columns.len() {
            errors.push(InputError::new(
                line,
                None,
                format!(
                    "expected {} fields as in the header `{}`, found {}{}{}",
                    columns.len(),
                    columns.join(","),
                    record.len(),
                    width_diff(columns, record),
                    width_hint(record)
                ),
            ));
            continue;
        }
        let mut check = RowCheck::new(line);
        let day = csv_row(record, &seen, &mut check);
        if let Some(day) = day.filter(|_| check.errors.is_empty()) {
            seen.insert((day.calendar.clone(), day.date), line);
            days.push(day);
            lines.push(line);
        }
        errors.append(&mut check.errors);
    }
    if columns.is_none() && errors.is_empty() {
        errors.push(InputError::new(
            1,
            None,
            format!("the file is empty; a calendar CSV starts with the header {}", expected_header()),
        ));
    }
    (days, lines, errors)
}

/// Checks one data row of the right width; every field error goes to `check`.
fn csv_row(
    record: &csv::StringRecord,
    seen: &HashMap<(String, NaiveDate), u64>,
    check: &mut RowCheck,
) -> Option<CalendarDay> {
    let field = |idx: usize| record.get(idx).unwrap_or_default();
    let calendar = check.take("calendar", check_calendar_id(field(0)).map(|()| field(0).to_string()));
    let date = check.take("date", cell::date(field(1)));
    let kind = check.take("kind", check_kind(field(2)));
    let name = check.take("name", check_name(field(3)));
    let (calendar, date) = (calendar?, date?);
    if let Some(first) = seen.get(&(calendar.clone(), date)) {
        check.fail(
            "date",
            format!(
                "a second row for {calendar} {date} (the first is on line {first}); keep one row per calendar and date"
            ),
        );
        return None;
    }
    let (kind, name) = (kind?, name?);
    if date.year() < 1900 {
        check.fail("date", format!("{date} is before 1900; a calendar's days are dates of the modern calendar"));
        return None;
    }
    Some(CalendarDay { calendar, date, kind, name })
}

fn check_kind(text: &str) -> Result<DayKind, String> {
    if let Some(kind) = DayKind::parse(text) {
        return Ok(kind);
    }
    let hint = match text.trim().to_ascii_lowercase().as_str() {
        "closed" | "holiday" | "bank holiday" | "public holiday" => " (write `holiday`)".to_string(),
        "open" | "workday" | "working day" | "business" | "business day" => " (write `working`)".to_string(),
        _ => String::new(),
    };
    let what = if text.is_empty() { "is empty".to_string() } else { format!("unknown kind {}", shown(text)) };
    Err(format!(
        "{what}; expected holiday (the market is closed that day) or working (it is open: a Saturday or Sunday \
         worked){hint}"
    ))
}

fn check_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    check_day_name(name)?;
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_skipped_and_lines_stay_physical() {
        let text = "# PRC\n\ncalendar,date,kind,name\n# 元旦\nCN,2026-01-01,holiday,元旦\n\n# 调休\r\nCN,2026-01-04,working,\n";
        let (days, lines, errors) = parse_limited(text, 10);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(lines, [5, 8]);
        assert_eq!(days[1].kind, DayKind::Working);
        assert_eq!(days[1].name, "");
        assert_eq!(days[0].name, "元旦");
    }

    #[test]
    fn stops_at_the_first_excess_row() {
        let text = "calendar,date,kind\nUS,2026-01-01,holiday\nUS,2026-01-19,holiday\nUS,2026-02-16,holiday\n";
        let (days, _, errors) = parse_limited(text, 2);
        assert_eq!(days.len(), 2);
        assert_eq!((errors.len(), errors[0].line), (1, 4));
        assert!(errors[0].reason.contains("more than 2 rows"), "{}", errors[0].reason);
    }
}
