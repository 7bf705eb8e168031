//! Business-day calendars (docs/SWEEPS.md, "Business days") end to end through
//! the public API: the shipped 2026 calendars say what their sources say, an
//! import is idempotent and a changed day needs a correction, sweeps run only
//! on business days (following, modified following, none), value dates are
//! checked (warn, refuse), interest accrues on calendar days whatever the
//! calendars say, and the calendars survive replay and the state snapshot.
//!
//! The sweep and interest cases run on the round-number group of
//! `tests/fixtures/sweep/group.toml` with the calendar keys each case needs
//! written into it ([`group`]); every expected figure is worked by hand next
//! to it. The calendars are the shipped `examples/calendars-2026.csv` (CN, HK,
//! US, TARGET, JP, SG) unless a case says otherwise.

use std::str::FromStr;

use cashpool_files::calendars::parse_calendars_csv;
use cashpool_files::rates::parse_rates_csv;
use cashpool_ledger::audit;
use cashpool_ledger::calendar::{CalendarDay, DayKind, DayStatus};
use cashpool_ledger::journal::EntryBody;
use cashpool_ledger::model::Purpose;
use cashpool_ledger::money::Currency;
use cashpool_ledger::storage::MemoryStorage;
use cashpool_ledger::sweep::{Flow, SkipReason};
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{Ledger, Rejection};
use cashpool_tests::{at, refusal};
use chrono::NaiveDate;
use rust_decimal::Decimal;

const SWEEP_GROUP: &str = include_str!("../fixtures/sweep/group.toml");
const SWEEP_RATES: &str = include_str!("../fixtures/sweep/rates.csv");
const SHIPPED: &str = include_str!("../../examples/calendars-2026.csv");

fn d(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn ccy(code: &str) -> Currency {
    Currency::from_code(code).unwrap()
}

fn shipped() -> Vec<CalendarDay> {
    let (days, errors) = parse_calendars_csv(SHIPPED);
    assert!(errors.is_empty(), "examples/calendars-2026.csv: {errors:?}");
    days
}

/// The sweep group with `pool_keys` written into `[pool]` (after its netting currency) and
/// `extra` (tables: `[pool.calendars]`, rules) appended.
fn group(pool_keys: &str, extra: &str) -> String {
    let anchor = "netting_currency = \"USD\"\n";
    assert!(SWEEP_GROUP.contains(anchor));
    format!("{}\n{extra}", SWEEP_GROUP.replacen(anchor, &format!("{anchor}{pool_keys}\n"), 1))
}

/// A ledger on `config` with the sweep rates and, when `days` is given, those calendar days.
fn ledger(config: &str, days: Option<&[CalendarDay]>) -> (MemoryStorage, Ledger) {
    let storage = MemoryStorage::new();
    let ledger = Ledger::create(Box::new(storage.clone()), config, at()).unwrap();
    let (rows, errors) = parse_rates_csv(SWEEP_RATES, ccy("CNY"));
    assert!(errors.is_empty(), "{errors:?}");
    ledger.import_rates(&rows, at()).unwrap();
    if let Some(days) = days {
        ledger.import_calendars(days, false, at()).unwrap();
    }
    (storage, ledger)
}

/// `[[sweep]]` of `account` `currency` into `into`, zero both ways, with `extra` keys.
fn zero_rule(account: &str, currency: &str, into: &str, extra: &str) -> String {
    format!(
        "\n[[sweep]]\naccount = \"{account}\"\ncurrency = \"{currency}\"\ninto = \"{into}\"\nmethod = \"zero\"\ndirection = \"both\"\npriority = 1\n{extra}\n"
    )
}

/// Moves `amount` (signed: + into `account`) from its external counterpart, valued `date`.
fn fund(
    ledger: &Ledger,
    id: &str,
    date: &str,
    account: &str,
    currency: &str,
    amount: &str,
) -> cashpool_ledger::Receipt {
    let amount = dec(amount);
    let ext = if ["HK-OPS", "SG-OPS", "JP-OPS", "H-IMA"].contains(&account) { "EXT-OFF" } else { "EXT-ON" };
    let (from, to) = if amount > Decimal::ZERO { (ext, account) } else { (account, ext) };
    let tx =
        TransactionRequest::transfer(id, d(date), from, to, currency, amount.abs(), Purpose::CurrentAccount, "", "");
    ledger.post(&tx, "calendar-test", at()).unwrap_or_else(|err| panic!("{id}: {err}"))
}

fn balance(ledger: &Ledger, account: &str, currency: &str, as_of: &str) -> Decimal {
    ledger.balance(account, ccy(currency), Some(d(as_of))).unwrap()
}

/// `(account, direction, amount)` of each sweep and `(account, direction, wanted, reason)` of each skip.
type Lines = (Vec<(String, Flow, Decimal)>, Vec<(String, Flow, Decimal, SkipReason)>);

fn sweep(ledger: &Ledger, date: &str) -> Lines {
    let outcome = ledger.sweep(d(date), false, at()).unwrap_or_else(|err| panic!("sweep {date}: {err}"));
    let run = outcome.run;
    (
        run.sweeps.into_iter().map(|l| (l.account, l.direction, l.amount)).collect(),
        run.skipped.into_iter().map(|s| (s.account, s.direction, s.wanted, s.reason)).collect(),
    )
}

fn line(account: &str, flow: Flow, amount: &str) -> (String, Flow, Decimal) {
    (account.to_string(), flow, dec(amount))
}

fn skip(account: &str, flow: Flow, wanted: &str) -> (String, Flow, Decimal, SkipReason) {
    (account.to_string(), flow, dec(wanted), SkipReason::NotBusinessDay)
}

// ---------------------------------------------------------------------------------------------
// The shipped calendars
// ---------------------------------------------------------------------------------------------

/// One line a day, from the sources named in the file and in docs/SWEEPS.md: the calendars asked
/// (comma-separated), the date, and `open`, `closed CAL reason` (the first calendar closed) or
/// `uncovered CAL`.
const SHIPPED_DAYS: &[(&str, &str, &str)] = &[
    ("CN", "2026-01-04", "open"),                           // a Sunday worked (调休)
    ("CN", "2026-02-16", "closed CN 春节 Spring Festival"), // a Monday of the Spring Festival
    ("CN", "2026-02-28", "open"),                           // a Saturday worked
    ("CN", "2026-03-01", "closed CN Sunday"),
    ("CN", "2026-05-09", "open"),                          // a Saturday worked
    ("CN", "2026-09-20", "open"),                          // a Sunday worked
    ("CN", "2026-10-07", "closed CN 国庆节 National Day"), // a Wednesday of National Day week
    ("CN", "2026-10-08", "open"),
    ("CN", "2026-10-10", "open"),                  // a Saturday worked
    ("CN,US", "2026-10-10", "closed US Saturday"), // but not for USD
    ("US", "2026-07-03", "open"),                  // Independence Day is a Saturday: the Fed opens on Friday
    ("US", "2026-11-11", "closed US Veterans Day"),
    ("US", "2026-11-26", "closed US Thanksgiving Day"),
    ("HK", "2026-04-06", "closed HK The day following Ching Ming Festival (and Easter Monday)"),
    ("HK", "2026-04-07", "closed HK The day following Easter Monday"),
    ("HK", "2026-10-19", "closed HK The day following Chung Yeung Festival"),
    ("TARGET", "2026-04-03", "closed TARGET Good Friday"),
    ("TARGET", "2026-05-01", "closed TARGET Labour Day"),
    ("TARGET", "2026-12-24", "open"),
    ("JP", "2026-01-02", "closed JP 銀行休業日 bank holiday"),
    ("JP", "2026-05-06", "closed JP 休日 substitute holiday"),
    ("JP", "2026-09-22", "closed JP 休日 citizens' holiday"),
    ("JP", "2026-12-31", "closed JP 銀行休業日 bank holiday"),
    ("SG", "2026-06-01", "closed SG Vesak Day (observed)"),
    ("SG", "2026-11-09", "closed SG Deepavali (observed)"),
    ("SG", "2026-03-20", "open"),
    ("HK,SG,US", "2026-12-25", "closed HK Christmas Day"),
    ("CN", "2027-01-04", "uncovered CN"),     // a Monday of a year not imported
    ("CN", "2027-01-03", "closed CN Sunday"), // its weekends are still closed
    ("", "2026-10-03", "open"),               // no calendar: every day
];

#[test]
fn the_shipped_calendars_say_what_their_sources_say() {
    let days = shipped();
    let (_, ledger) = ledger(&group("", ""), Some(&days));
    for &(calendars, date, expected) in SHIPPED_DAYS {
        let ids: Vec<String> = calendars.split(',').filter(|id| !id.is_empty()).map(str::to_string).collect();
        let found = match ledger.business_day(&ids, d(date)) {
            DayStatus::Open => "open".to_string(),
            DayStatus::Closed(closures) => format!("closed {} {}", closures[0].calendar, closures[0].reason),
            DayStatus::Uncovered(ids) => format!("uncovered {}", ids.join(",")),
        };
        assert_eq!(found, expected, "{calendars} on {date}");
    }
    // Every calendar the example group names is shipped, with every day its sources list.
    let count = |id: &str| days.iter().filter(|day| day.calendar == id).count();
    let counts: Vec<(&str, usize)> =
        ["CN", "HK", "US", "TARGET", "JP", "SG"].iter().map(|id| (*id, count(id))).collect();
    assert_eq!(counts, [("CN", 39), ("HK", 17), ("US", 11), ("TARGET", 6), ("JP", 21), ("SG", 14)]);
    let working: Vec<&str> =
        days.iter().filter(|day| day.kind == DayKind::Working).map(|day| day.calendar.as_str()).collect();
    assert_eq!(working, ["CN"; 6], "the six adjusted working days of the State Council's notice");
    let example = cashpool_ledger::config::parse_group_config(cashpool_tests::EXAMPLE_GROUP).unwrap();
    let named = example.pool.calendars.currencies.values().chain(example.pool.calendars.accounts.values());
    for id in named.flatten() {
        assert!(count(id) > 0, "the example group names {id}, which is not shipped");
    }
}

// ---------------------------------------------------------------------------------------------
// Importing
// ---------------------------------------------------------------------------------------------

#[test]
fn a_reimport_writes_nothing_a_changed_day_is_refused_and_a_correction_is_dated() {
    let days = shipped();
    let (storage, ledger) = ledger(&group("", ""), None);
    let first = ledger.import_calendars(&days, false, at()).unwrap();
    assert_eq!((first.rows, first.new_days, first.changed_days), (108, 108, 0));
    let head = ledger.head();
    assert_eq!(first.receipt.as_ref().map(|r| r.seq), Some(head.0));

    // The same file again: nothing written.
    let again = ledger.import_calendars(&days, false, at()).unwrap();
    assert_eq!((again.new_days, again.changed_days, again.receipt), (0, 0, None));
    assert_eq!(ledger.head(), head);

    // Hong Kong adds a holiday by notice, and a file restates Thanksgiving under another name:
    // without --correct, the changed day refuses the whole import (the new day included).
    let mut amended = days.clone();
    let thanksgiving = amended.iter().position(|day| day.calendar == "US" && day.date == d("2026-11-26")).unwrap();
    amended[thanksgiving].name = "Thanksgiving".into();
    let extra = CalendarDay {
        calendar: "HK".into(),
        date: d("2026-12-28"),
        kind: DayKind::Holiday,
        name: "an extra holiday".into(),
    };
    amended.push(extra.clone());
    let conflict = match refusal(ledger.import_calendars(&amended, false, at())) {
        Err(Rejection::CalendarConflict(conflict)) => conflict,
        other => panic!("expected calendar_conflict, got {other:?}"),
    };
    assert_eq!(
        (conflict.row, conflict.held_name.as_str(), conflict.given_name.as_str()),
        (thanksgiving, "Thanksgiving Day", "Thanksgiving")
    );
    assert_eq!(ledger.head(), head, "a refused import writes nothing");
    assert!(ledger.calendar_days(Some("HK"), Some(d("2026-12-28")), None).is_empty());

    // As a correction: one entry, the changed day and the new one, from its entry on.
    let corrected = ledger.import_calendars(&amended, true, at()).unwrap();
    assert_eq!((corrected.new_days, corrected.changed_days), (1, 1));
    assert_eq!(ledger.head().0, head.0 + 1);
    let (entry, _) = ledger.entries(head.0 + 1).next().unwrap().unwrap();
    let EntryBody::CalendarImported(import) = entry.body else { panic!("a calendar_imported entry") };
    assert!(import.correction);
    assert_eq!(import.days.len(), 2, "only what changed is journaled");
    assert_eq!(ledger.calendar_days(Some("HK"), Some(d("2026-12-28")), Some(d("2026-12-28"))), [extra]);
    assert!(matches!(ledger.business_day(&["HK"], d("2026-12-28")), DayStatus::Closed(_)));

    // The journal replays to the state the ledger holds; a restart reads the same days.
    let digest = ledger.state_digest();
    let replayed = audit::replay_storage(&storage, None).unwrap();
    assert_eq!(replayed.state_digest, digest);
    let listed = ledger.calendar_days(None, None, None);
    drop(ledger);
    let reopened = Ledger::open(Box::new(storage.clone())).unwrap();
    assert_eq!(reopened.state_digest(), digest);
    assert_eq!(reopened.calendar_days(None, None, None), listed);
}

#[test]
fn the_calendars_are_in_the_state_snapshot_and_their_digest_only_once_imported() {
    let (storage, ledger) = ledger(&group("", ""), None);
    let before = ledger.state_digest();
    // A journal without calendar days has the nine-part digest it always had; one day changes it.
    let one =
        [CalendarDay { calendar: "XM".into(), date: d("2026-10-01"), kind: DayKind::Holiday, name: String::new() }];
    ledger.import_calendars(&one, false, at()).unwrap();
    assert_ne!(ledger.state_digest(), before);
    ledger.import_calendars(&shipped(), false, at()).unwrap();
    ledger.checkpoint().unwrap();
    let digest = ledger.state_digest();
    let days = ledger.calendar_days(None, None, None);
    drop(ledger);
    let reopened = Ledger::open(Box::new(storage.clone())).unwrap();
    assert!(reopened.opened_from().is_some(), "opened from the state snapshot");
    assert_eq!(reopened.state_digest(), digest);
    assert_eq!(reopened.calendar_days(None, None, None), days);
    assert!(matches!(reopened.business_day(&["CN"], d("2026-10-01")), DayStatus::Closed(_)));
    assert!(audit::verify_storage(&storage).unwrap().ok);
}

// ---------------------------------------------------------------------------------------------
// Sweeps on business days
// ---------------------------------------------------------------------------------------------

const CNY_CN: &str = "\n[pool.calendars]\nCNY = [\"CN\"]\nUSD = [\"US\"]\n";

#[test]
fn a_rule_sweeps_only_on_business_days_and_the_next_one_sweeps_what_waited() {
    let rules =
        format!("{CNY_CN}{}{}", zero_rule("SZ-OPS", "CNY", "H-DMA", ""), zero_rule("BJ-OPS", "USD", "H-DMA", ""));
    let (_, ledger) = ledger(&group("", &rules), Some(&shipped()));
    // Wednesday 30 September: both open.
    fund(&ledger, "R1", "2026-09-30", "SZ-OPS", "CNY", "1000.00");
    fund(&ledger, "R2", "2026-09-30", "BJ-OPS", "USD", "10.00");
    assert_eq!(
        sweep(&ledger, "2026-09-30"),
        (vec![line("BJ-OPS", Flow::Up, "10.00"), line("SZ-OPS", Flow::Up, "1000.00")], vec![])
    );
    // Thursday 1 October, National Day: the CNY rule waits, the USD rule (US open) sweeps.
    fund(&ledger, "R3", "2026-10-01", "SZ-OPS", "CNY", "200.00");
    fund(&ledger, "R4", "2026-10-01", "BJ-OPS", "USD", "20.00");
    assert_eq!(
        sweep(&ledger, "2026-10-01"),
        (vec![line("BJ-OPS", Flow::Up, "20.00")], vec![skip("SZ-OPS", Flow::Up, "200.00")])
    );
    // Saturday 3 October: closed for both (and nothing to sweep in USD: no skip line).
    fund(&ledger, "R5", "2026-10-03", "SZ-OPS", "CNY", "-50.00");
    assert_eq!(sweep(&ledger, "2026-10-03"), (vec![], vec![skip("SZ-OPS", Flow::Up, "150.00")]));
    // Thursday 8 October, open again: the balance of the days that waited, 200.00 - 50.00.
    assert_eq!(sweep(&ledger, "2026-10-08"), (vec![line("SZ-OPS", Flow::Up, "150.00")], vec![]));
    assert_eq!(balance(&ledger, "SZ-OPS", "CNY", "2026-10-08"), Decimal::ZERO);
    // Saturday 10 October, worked in the PRC (调休): CNY sweeps, USD (a US Saturday) waits.
    fund(&ledger, "R6", "2026-10-10", "SZ-OPS", "CNY", "70.00");
    fund(&ledger, "R7", "2026-10-10", "BJ-OPS", "USD", "7.00");
    assert_eq!(
        sweep(&ledger, "2026-10-10"),
        (vec![line("SZ-OPS", Flow::Up, "70.00")], vec![skip("BJ-OPS", Flow::Up, "7.00")])
    );
}

#[test]
fn an_accounts_own_market_closes_its_rules_only() {
    let rules =
        format!("{CNY_CN}{}{}", zero_rule("HK-OPS", "USD", "H-IMA", ""), zero_rule("SZ-OPS", "USD", "H-DMA", ""));
    // HK-OPS is held in Hong Kong: its rules need the HK calendar open too.
    let config = group("", &rules).replacen(
        "id = \"HK-OPS\"\nentity = \"M-HK\"\n",
        "id = \"HK-OPS\"\nentity = \"M-HK\"\ncalendars = [\"HK\"]\n",
        1,
    );
    assert!(config.contains("calendars = [\"HK\"]"));
    let (_, ledger) = ledger(&config, Some(&shipped()));
    // Monday 19 October: Chung Yeung (observed) in Hong Kong, an ordinary Monday in the US.
    fund(&ledger, "R1", "2026-10-19", "HK-OPS", "USD", "300.00");
    fund(&ledger, "R2", "2026-10-19", "SZ-OPS", "USD", "400.00");
    assert_eq!(
        sweep(&ledger, "2026-10-19"),
        (vec![line("SZ-OPS", Flow::Up, "400.00")], vec![skip("HK-OPS", Flow::Up, "300.00")])
    );
    assert_eq!(sweep(&ledger, "2026-10-20"), (vec![line("HK-OPS", Flow::Up, "300.00")], vec![]));
}

#[test]
fn roll_none_refuses_a_run_on_a_day_that_is_not_a_business_day_and_writes_nothing() {
    let rules = format!("{CNY_CN}{}", zero_rule("SZ-OPS", "CNY", "H-DMA", "roll = \"none\""));
    let (_, ledger) = ledger(&group("", &rules), Some(&shipped()));
    fund(&ledger, "R1", "2026-10-01", "SZ-OPS", "CNY", "100.00");
    let head = ledger.head();
    for dry_run in [true, false] {
        match refusal(ledger.sweep(d("2026-10-01"), dry_run, at())) {
            Err(Rejection::NotBusinessDay { field, subject, date, closures }) => {
                assert_eq!((field.as_str(), date), ("date", d("2026-10-01")));
                assert!(subject.contains("SZ-OPS CNY into H-DMA"), "{subject}");
                assert_eq!(closures[0].reason, "国庆节 National Day");
            }
            other => panic!("expected not_business_day, got {other:?}"),
        }
        assert_eq!(ledger.head(), head, "nothing written (dry run {dry_run})");
    }
    assert_eq!(sweep(&ledger, "2026-10-08"), (vec![line("SZ-OPS", Flow::Up, "100.00")], vec![]));
}

#[test]
fn modified_following_funds_the_months_end_on_its_last_business_day() {
    // Friday 30 October is the last business day of October (the 31st is a Saturday). SZ-OPS pays
    // 30.00 valued Saturday 31 October, and receives 50.00 valued Monday 2 November, both booked
    // before Friday's run. Following sees the lower of Friday's balance (0.00) and all postings
    // (20.00): nothing to do, and SZ-OPS ends the month at -30.00. Modified following also sees
    // the balance through the month's end (-30.00): Friday's run funds 30.00.
    for (roll, friday, month_end) in
        [("following", vec![], "-30.00"), ("modified_following", vec![line("SZ-OPS", Flow::Down, "30.00")], "0.00")]
    {
        let rules = format!("{CNY_CN}{}", zero_rule("SZ-OPS", "CNY", "H-DMA", &format!("roll = \"{roll}\"")));
        let (_, ledger) = ledger(&group("", &rules), Some(&shipped()));
        fund(&ledger, "P1", "2026-10-31", "SZ-OPS", "CNY", "-30.00");
        fund(&ledger, "R1", "2026-11-02", "SZ-OPS", "CNY", "50.00");
        assert_eq!(sweep(&ledger, "2026-10-30"), (friday, vec![]), "{roll}");
        assert_eq!(balance(&ledger, "SZ-OPS", "CNY", "2026-10-31").to_string(), month_end, "{roll}");
        // Monday 2 November sweeps what is there then, 20.00 or 50.00.
        let monday = if roll == "following" { "20.00" } else { "50.00" };
        assert_eq!(sweep(&ledger, "2026-11-02"), (vec![line("SZ-OPS", Flow::Up, monday)], vec![]), "{roll}");
    }
    // A day that has a business day after it in its month is no month's end: modified following is following.
    let rules = format!("{CNY_CN}{}", zero_rule("SZ-OPS", "CNY", "H-DMA", "roll = \"modified_following\""));
    let (_, ledger) = ledger(&group("", &rules), Some(&shipped()));
    fund(&ledger, "P1", "2026-10-24", "SZ-OPS", "CNY", "-30.00");
    fund(&ledger, "R1", "2026-11-02", "SZ-OPS", "CNY", "50.00");
    assert_eq!(sweep(&ledger, "2026-10-23"), (vec![], vec![]), "Monday 26 October is a business day of October");
}

#[test]
fn a_year_without_calendar_days_keeps_its_weekends_and_names_the_missing_calendars() {
    let rules = format!("{CNY_CN}{}", zero_rule("SZ-OPS", "CNY", "H-DMA", ""));
    let (_, ledger) = ledger(&group("", &rules), Some(&shipped()));
    fund(&ledger, "R1", "2027-01-04", "SZ-OPS", "CNY", "10.00");
    let monday = ledger.sweep(d("2027-01-04"), false, at()).unwrap();
    assert_eq!(monday.run.sweeps.len(), 1, "a weekday of 2027 is swept");
    assert_eq!(monday.calendars_missing, ["CN"], "the calendars of the rules (USD has no rule)");
    fund(&ledger, "R2", "2027-01-09", "SZ-OPS", "CNY", "10.00");
    assert_eq!(sweep(&ledger, "2027-01-09"), (vec![], vec![skip("SZ-OPS", Flow::Up, "10.00")]), "a Saturday is not");
    let in_2026 = ledger.sweep(d("2026-12-01"), false, at()).unwrap();
    assert!(in_2026.calendars_missing.is_empty());
}

#[test]
fn a_definition_without_calendars_sweeps_every_day_as_before() {
    let (_, ledger) = ledger(&group("", &zero_rule("SZ-OPS", "CNY", "H-DMA", "")), Some(&shipped()));
    fund(&ledger, "R1", "2026-10-03", "SZ-OPS", "CNY", "10.00");
    let saturday = ledger.sweep(d("2026-10-03"), false, at()).unwrap();
    assert_eq!(saturday.run.sweeps.len(), 1, "a Saturday of National Day week, swept: no calendar governs CNY");
    assert!(saturday.calendars_missing.is_empty());
    let posted = fund(&ledger, "R2", "2026-10-04", "SZ-OPS", "CNY", "10.00");
    assert!(posted.warnings.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Value dates
// ---------------------------------------------------------------------------------------------

#[test]
fn a_value_date_on_a_holiday_is_posted_with_a_warning_or_refused_as_the_pool_says() {
    let config = |rule: &str| group(&format!("non_business_value_dates = \"{rule}\""), CNY_CN);
    // warn (the default's behaviour): posted, with the warning in the receipt.
    let (_, warned) = ledger(&config("warn"), Some(&shipped()));
    let ledger = warned;
    let receipt = fund(&ledger, "T1", "2026-10-01", "SZ-OPS", "CNY", "100.00");
    assert!(!receipt.duplicate);
    let [warning] = receipt.warnings.as_slice() else { panic!("one warning: {:?}", receipt.warnings) };
    // Both legs (EXT-ON and SZ-OPS) are CNY under CN: one warning, on the first posting.
    assert_eq!(
        (warning.code(), warning.field.as_str(), warning.account.as_str()),
        ("not_business_day", "postings[0]", "EXT-ON")
    );
    assert_eq!(warning.closures[0].reason, "国庆节 National Day");
    assert!(warning.to_string().contains("2026-10-01 is not a business day (CN: 国庆节 National Day)"), "{warning}");
    let again = fund(&ledger, "T1", "2026-10-01", "SZ-OPS", "CNY", "100.00");
    assert!(again.duplicate && again.warnings.is_empty(), "a duplicate writes nothing and warns of nothing");
    assert!(fund(&ledger, "T2", "2026-10-09", "SZ-OPS", "CNY", "100.00").warnings.is_empty());
    let uncovered = fund(&ledger, "T3", "2027-01-04", "SZ-OPS", "CNY", "100.00");
    assert_eq!(uncovered.warnings[0].code(), "calendar_missing");
    assert_eq!(uncovered.warnings[0].uncovered, ["CN"]);

    // refuse: nothing written, the reason names the field, the posting and the holiday.
    drop(ledger);
    let (storage, ledger) = self::ledger(&config("refuse"), Some(&shipped()));
    let head = ledger.head();
    let tx = TransactionRequest::transfer(
        "T1",
        d("2026-10-01"),
        "EXT-ON",
        "SZ-OPS",
        "CNY",
        dec("100.00"),
        Purpose::CurrentAccount,
        "",
        "",
    );
    match refusal(ledger.post(&tx, "calendar-test", at())) {
        Err(Rejection::NotBusinessDay { field, subject, date, closures }) => {
            assert_eq!(
                (field.as_str(), subject.as_str(), date),
                ("value_date", "CNY on EXT-ON (postings[0])", d("2026-10-01"))
            );
            assert_eq!(closures.len(), 1);
        }
        other => panic!("expected not_business_day, got {other:?}"),
    }
    let next_year = TransactionRequest { value_date: d("2027-01-04"), ..tx.clone() };
    assert!(matches!(refusal(ledger.post(&next_year, "calendar-test", at())), Err(Rejection::CalendarMissing { .. })));
    assert_eq!(ledger.head(), head, "nothing written");
    let receipt = fund(&ledger, "T2", "2026-10-09", "SZ-OPS", "CNY", "100.00");
    assert!(receipt.warnings.is_empty());
    // USD on a CN-only day: the USD calendar decides (US open on 1 October).
    assert!(fund(&ledger, "T3", "2026-10-01", "SZ-OPS", "USD", "5.00").warnings.is_empty());
    // Replay applies the same rule to the same journal.
    assert_eq!(audit::replay_storage(&storage, None).unwrap().state_digest, ledger.state_digest());
}

// ---------------------------------------------------------------------------------------------
// Interest on calendar days
// ---------------------------------------------------------------------------------------------

#[test]
fn interest_accrues_on_every_calendar_day_holidays_included() {
    // SZ-OPS lends CNY 1,000,000.00 to the pool on Wednesday 30 September; interest over
    // [1 October, 8 October) is 7 calendar days, all of National Day week, at 1.80 % ACT/365F:
    // 1,000,000.00 × 0.018 × 7 / 365 = 345.2054… → 345.21, with or without the CN calendar.
    let interest =
        "\n[[interest]]\ncurrency = \"CNY\"\nday_count = \"ACT/365F\"\ncredit_rate = \"1.80\"\ndebit_rate = \"3.10\"\n";
    let rule = zero_rule("SZ-OPS", "CNY", "H-DMA", "");
    let mut settled = Vec::new();
    for calendars in [CNY_CN, ""] {
        let (_, ledger) = ledger(&group("", &format!("{calendars}{rule}{interest}")), Some(&shipped()));
        fund(&ledger, "R1", "2026-09-30", "SZ-OPS", "CNY", "1000000.00");
        assert_eq!(sweep(&ledger, "2026-09-30").0, [line("SZ-OPS", Flow::Up, "1000000.00")]);
        let outcome = ledger.interest(d("2026-10-01"), d("2026-10-08"), true, at()).unwrap();
        let accruals: Vec<(String, Decimal)> =
            outcome.run.accruals.iter().map(|a| (a.entity.clone(), a.interest)).collect();
        assert_eq!(accruals, [("M-SZ".to_string(), dec("345.21"))], "calendars: {calendars:?}");
        settled.push(outcome.run.accruals);
    }
    assert_eq!(settled[0], settled[1], "a holiday changes no accrual");
}
