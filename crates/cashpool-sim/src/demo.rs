//! The demo's workload: a seeded month of the bundled example group.
//!
//! [`simulate`] drives the ledger through it (the month's rates and the
//! year's business-day calendars imported, receipts, supplier payments and FX
//! deals on every weekday an account's market is open, the banks' mornings,
//! the evening sweeps on business days only, the outflow-cap exercise,
//! month-end pre-funding, netting and interest) and returns a [`DemoRun`] for
//! the caller to render.

use std::path::Path;

use cashpool_ledger::journal::Timestamp;
use cashpool_ledger::model::{AccountKind, Purpose, Zone};
use cashpool_ledger::money::{round_half_even, Currency};
use cashpool_ledger::storage::Storage;
use cashpool_ledger::tx::{PostingRequest, RateRequest, TransactionRequest};
use cashpool_ledger::{BatchMode, Ledger};
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

pub use crate::bank::BankDays;
use crate::bank::BankSimulator;
use crate::{business_days, SimError, SplitMix64, EXAMPLE_CALENDARS, EXAMPLE_GROUP, EXAMPLE_RATES};

/// The first business day of the demo month.
pub const DEMO_START: (i32, u32, u32) = (2026, 11, 2);

/// A movement the ledger refused on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The transaction id.
    pub id: String,
    /// The rejection's reason code (`limit`).
    pub reason: String,
    /// The rejection's message.
    pub message: String,
}

/// What the demo did, for the summary.
#[derive(Debug)]
pub struct DemoRun {
    /// The business days run.
    pub days: Vec<NaiveDate>,
    /// Every transaction in the journal, counted as `audit export`, the
    /// report and `cashpool_ledger::Ledger::n_transactions` count them.
    pub transactions: u64,
    /// Of them, the day-to-day activity: receipts, payments and FX deals
    /// (the export proceeds and the pool funding of the cap exercise included).
    pub activity: usize,
    /// Movements the ledger refused on purpose.
    pub refused: Vec<Refusal>,
    /// Sweeps posted.
    pub sweeps: usize,
    /// Sweeps capped (or held back) by the pool's limits.
    pub sweeps_capped: usize,
    /// Sweeps held over to the next business day (the day was not one for the rule's calendars).
    pub sweeps_held_over: usize,
    /// The calendar days imported (examples/calendars-2026.csv).
    pub calendar_days: usize,
    /// The holidays among the days run that closed a calendar of the group: date, calendar, name.
    pub holidays: Vec<(NaiveDate, String, String)>,
    /// The month-end interest settlement.
    pub interest: Option<cashpool_ledger::InterestOutcome>,
    /// The month-end netting cycle.
    pub netting: Option<cashpool_ledger::NettingOutcome>,
    /// The banks' statements: what was generated, imported and adopted.
    pub bank: BankDays,
    /// The reconciliation after the last import.
    pub recon: Option<cashpool_recon::Report>,
}

/// A typical order of magnitude for flows in a currency, in whole units.
fn scale(currency: Currency) -> i64 {
    match currency.code() {
        "JPY" => 200_000_000,
        "CNY" | "HKD" => 10_000_000,
        _ => 1_500_000,
    }
}

/// A random amount between `lo`‰ and `hi`‰ of `base`, at the currency's minor units.
fn amount(rng: &mut SplitMix64, currency: Currency, base: i64, lo: u64, hi: u64) -> Decimal {
    let per_mille = lo + rng.below(hi - lo + 1);
    let minor = 10i64.pow(currency.minor_units());
    let raw = i128::from(base) * i128::from(minor) * i128::from(per_mille) / 1000;
    // A few minor units of jitter, so that amounts are not all round.
    let jitter = i128::from(rng.below(100));
    Decimal::from_i128_with_scale(raw + jitter, currency.minor_units())
}

/// Mid rates (quote per base) the demo trades at, drifting a little each day.
struct Market {
    usd_cny: Decimal,
    usd_hkd: Decimal,
    usd_sgd: Decimal,
}

impl Market {
    fn drift(rng: &mut SplitMix64, rate: Decimal, step_bp: u64) -> Decimal {
        let bp =
            Decimal::from(i64::try_from(rng.below(2 * step_bp + 1)).unwrap_or(0) - i64::try_from(step_bp).unwrap_or(0));
        (rate * (Decimal::ONE + bp / Decimal::from(10_000))).round_dp(4)
    }
}

/// Everything the demo generates for one day, as one atomic batch.
fn generate_day(
    ledger: &Ledger,
    rng: &mut SplitMix64,
    market: &mut Market,
    day_idx: usize,
    date: NaiveDate,
) -> Result<Vec<TransactionRequest>, SimError> {
    let mut txs = Vec::new();
    let mut n_ids = 0u32;
    let mut next_id = |kind: &str| {
        n_ids += 1;
        format!("D{:02}-{kind}-{n_ids:03}", day_idx + 1)
    };
    let accounts = ledger.accounts();
    let members: Vec<_> =
        accounts.iter().filter(|a| !matches!(a.kind, AccountKind::External | AccountKind::System)).collect();
    let mut projected: Vec<(String, Currency, Decimal)> = Vec::new();
    let mut balance_of = |account: &str, currency: Currency, delta: Decimal| -> Result<Decimal, SimError> {
        if let Some(entry) = projected.iter_mut().find(|(a, c, _)| a == account && *c == currency) {
            entry.2 += delta;
            return Ok(entry.2);
        }
        let now = ledger.balance(account, currency, None)? + delta;
        projected.push((account.to_string(), currency, now));
        Ok(now)
    };
    // A bank values nothing on a day its market is closed: the day's activity of an account in a
    // currency waits for a business day of the calendars that govern it (the ledger's answer).
    let config = ledger.config();
    let open = |account: &str, currency: Currency| {
        let calendars = config.pool.calendars.for_posting(account, currency);
        !matches!(ledger.business_day(&calendars, date), cashpool_ledger::calendar::DayStatus::Closed(_))
    };
    for account in &members {
        let external = if account.zone == Some(Zone::Onshore) { "EXT-ONSHORE" } else { "EXT-OFFSHORE" };
        let external_currencies =
            accounts.iter().find(|a| a.id == external).map(|a| a.currencies.clone()).unwrap_or_default();
        for &currency in &account.currencies {
            if !external_currencies.contains(&currency) || (day_idx > 0 && !open(&account.id, currency)) {
                continue;
            }
            let base = scale(currency);
            if day_idx == 0 {
                let opening = amount(rng, currency, base, 500, 1500);
                balance_of(&account.id, currency, opening)?;
                txs.push(TransactionRequest::transfer(
                    next_id("OPN"),
                    date,
                    external,
                    account.id.clone(),
                    currency.code(),
                    opening,
                    Purpose::Other,
                    format!("OPEN-{}", account.id),
                    "opening balance brought forward",
                ));
            }
            for _ in 0..rng.below(3) {
                let value = amount(rng, currency, base, 5, 60);
                balance_of(&account.id, currency, value)?;
                let invoice = 10_000 + rng.below(90_000);
                txs.push(TransactionRequest::transfer(
                    next_id("RCV"),
                    date,
                    external,
                    account.id.clone(),
                    currency.code(),
                    value,
                    Purpose::CurrentAccount,
                    format!("INV-{invoice}"),
                    "customer receipt",
                ));
            }
            for _ in 0..rng.below(3) {
                let available = balance_of(&account.id, currency, Decimal::ZERO)?;
                let value = amount(rng, currency, base, 5, 50);
                if value > available * Decimal::new(4, 1) {
                    continue;
                }
                balance_of(&account.id, currency, -value)?;
                let order = 100_000 + rng.below(900_000);
                txs.push(TransactionRequest::transfer(
                    next_id("PAY"),
                    date,
                    account.id.clone(),
                    external,
                    currency.code(),
                    value,
                    Purpose::CurrentAccount,
                    format!("PO-{order}"),
                    "supplier payment",
                ));
            }
        }
    }
    market.usd_cny = Market::drift(rng, market.usd_cny, 15);
    market.usd_hkd = Market::drift(rng, market.usd_hkd, 3);
    market.usd_sgd = Market::drift(rng, market.usd_sgd, 10);
    let deals = [
        ("SH-DMA", "USD", "CNY", market.usd_cny, "sell USD export proceeds for CNY"),
        ("FTZ-FTE", "USD", "CNY", market.usd_cny, "convert USD at the CNH rate"),
        ("HK-OPS", "USD", "HKD", market.usd_hkd, "buy HKD for local payroll"),
        ("SG-OPS", "USD", "SGD", market.usd_sgd, "buy SGD for local suppliers"),
    ];
    for (account, base_code, quote_code, rate, memo) in deals {
        if day_idx == 0 || !rng.chance(40) {
            continue;
        }
        let base = Currency::from_code(base_code).expect("demo currency");
        let quote = Currency::from_code(quote_code).expect("demo currency");
        if !open(account, base) || !open(account, quote) {
            continue;
        }
        let available = balance_of(account, base, Decimal::ZERO)?;
        let sold = amount(rng, base, scale(base), 20, 120);
        if sold > available * Decimal::new(3, 1) {
            continue;
        }
        let bought = round_half_even(sold * rate, quote).rounded;
        balance_of(account, base, -sold)?;
        balance_of(account, quote, bought)?;
        let deal = 1000 + rng.below(9000);
        txs.push(TransactionRequest {
            id: next_id("FX"),
            value_date: date,
            purpose: Purpose::Fx,
            reference: format!("FX{deal}"),
            memo: memo.into(),
            postings: vec![
                PostingRequest { account: account.into(), currency: base_code.into(), amount: -sold },
                PostingRequest { account: account.into(), currency: quote_code.into(), amount: bought },
            ],
            rate: Some(RateRequest { base: base_code.into(), quote: quote_code.into(), rate }),
            term_days: None,
            lender: None,
        });
    }
    Ok(txs)
}

/// Tops up members' offshore and FT USD accounts to USD 150,000 from the
/// international master before the netting cycle (pool funding, with the
/// members' intercompany positions), as a treasurer does before settlement day.
fn prefund_netting(ledger: &Ledger, date: NaiveDate, at: Timestamp) -> Result<(), SimError> {
    let usd = Currency::from_code("USD").expect("USD");
    let floor = Decimal::new(15_000_000, 2);
    let mut requests = Vec::new();
    for (entity, account) in [("LGT-HK", "HK-OPS"), ("LGT-SG", "SG-OPS"), ("LGT-FTZ", "FTZ-FTE")] {
        let balance = ledger.balance(account, usd, None)?;
        if balance >= floor {
            continue;
        }
        let amount = floor - balance;
        let leg =
            |account: &str, amount: Decimal| PostingRequest { account: account.into(), currency: "USD".into(), amount };
        requests.push(TransactionRequest {
            id: format!("PREFUND-{account}"),
            value_date: date,
            purpose: Purpose::PoolFunding,
            reference: format!("PREFUND{}", &account[..2]),
            memo: "pre-funding for the netting cycle".into(),
            postings: vec![
                leg("SH-IMA", -amount),
                leg(account, amount),
                leg(&cashpool_ledger::model::ic_account(entity), -amount),
                leg(cashpool_ledger::model::SYS_IC_POOL, amount),
            ],
            rate: None,
            term_days: None,
            lender: None,
        });
    }
    let outcome = ledger.post_batch(&requests, BatchMode::Atomic, "demo", at)?;
    match outcome.rejected.first() {
        Some(rejected) => {
            Err(SimError::Integrity(format!("the demo's pre-funding was refused: {}", rejected.rejection)))
        }
        None => Ok(()),
    }
}

/// The month's intercompany invoices: members bill each other for goods and
/// services in the payee's currency; a few are capital items or fall due next month.
fn month_invoices(rng: &mut SplitMix64, days: &[NaiveDate]) -> Vec<cashpool_ledger::netting::Invoice> {
    let billers = [
        ("LGT-SZ", "CNY"),
        ("LGT-FTZ", "USD"),
        ("LGT-HK", "HKD"),
        ("LGT-SG", "SGD"),
        ("LGT-DE", "EUR"),
        ("LGT-JP", "JPY"),
        ("LGT-SH", "CNY"),
    ];
    let mut invoices = Vec::new();
    let n_invoices = (6 + 3 * days.len() as u64).min(48);
    for idx in 0..n_invoices {
        let payee = billers[usize::try_from(rng.below(billers.len() as u64)).unwrap_or(0)];
        let mut payer = billers[usize::try_from(rng.below(billers.len() as u64)).unwrap_or(0)];
        if payer.0 == payee.0 {
            payer = billers[(billers.iter().position(|b| b.0 == payee.0).unwrap_or(0) + 1) % billers.len()];
        }
        let currency = Currency::from_code(payee.1).expect("demo currency");
        // About USD 1,000 to 8,000 worth.
        let usd_cents = 100_000 + rng.below(700_000);
        let per_usd: i64 = match payee.1 {
            "CNY" => 710,
            "HKD" => 780,
            "SGD" => 134,
            "EUR" => 92,
            "JPY" => 15_000,
            _ => 100,
        };
        let minor = i128::from(10i64.pow(currency.minor_units()));
        let amount = Decimal::from_i128_with_scale(
            i128::from(usd_cents) * i128::from(per_usd) / 100 * minor / 100,
            currency.minor_units(),
        );
        let due = days.get(usize::try_from(rng.below(days.len() as u64)).unwrap_or(0)).copied().unwrap_or(days[0]);
        let (purpose, due) = match idx % 16 {
            7 => (Purpose::RealInvestment, due), // a capital item: not netted
            15 => (Purpose::CurrentAccount, due + Duration::days(40)), // due next month
            _ => (Purpose::CurrentAccount, due),
        };
        invoices.push(cashpool_ledger::netting::Invoice {
            line: idx + 2,
            id: format!("IC-2026-11-{idx:03}"),
            payer: payer.0.to_string(),
            payee: payee.0.to_string(),
            currency,
            amount,
            due_date: due,
            purpose,
        });
    }
    invoices
}

/// Funds HK-OPS in CNY from the domestic master up to 95% of the room the
/// pool has for net outflow (a cross-border pool movement, accepted close to
/// the cap), then tries twice what is left, which the cap refuses. A maturing
/// deposit first gives the domestic master the CNY for it.
fn exercise_outflow_cap(ledger: &Ledger, date: NaiveDate, at: Timestamp) -> Result<(usize, Refusal), SimError> {
    let cny = Currency::from_code("CNY").expect("CNY");
    let limits = ledger.limits(None);
    let room = if limits.quota_model == "net_position" {
        // Room for net outflow: the cap, plus any net inflow the pool has already.
        limits.outflow.cap + limits.inflow.used - limits.outflow.used
    } else {
        // Room for lending to HK: the overseas-lending headroom, plus what the pool owes HK in
        // CNY (a payment to HK repays that first).
        let owed: Decimal = limits
            .pool_balances
            .iter()
            .filter(|b| b.counterparty == "LGT-HK" && b.currency == cny && b.base > Decimal::ZERO)
            .map(|b| b.base)
            .sum();
        limits.outflow.headroom + owed
    };
    let near = (room * Decimal::new(95, 2)).round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero);
    let over = (room - near) * Decimal::TWO;
    let deposit = TransactionRequest::transfer(
        "POOL-DEP-01",
        date,
        "EXT-ONSHORE",
        "SH-DMA",
        cny.code(),
        near + over,
        Purpose::CurrentAccount,
        "TD-2026-0917",
        "term deposit matured",
    );
    let out = with_position(
        TransactionRequest::transfer(
            "POOL-OUT-01",
            date,
            "SH-DMA",
            "HK-OPS",
            cny.code(),
            near,
            Purpose::PoolFunding,
            "POOLFUND01",
            "fund HK from the domestic master (cross-border)",
        ),
        "LGT-HK",
    );
    let outcome = ledger.post_batch(&[deposit, out], BatchMode::Atomic, "demo", at)?;
    if let Some(rejected) = outcome.rejected.first() {
        return Err(SimError::Integrity(format!("the demo's pool funding was refused: {}", rejected.rejection)));
    }
    let over = with_position(
        TransactionRequest::transfer(
            "POOL-OUT-02",
            date,
            "SH-DMA",
            "HK-OPS",
            cny.code(),
            over,
            Purpose::PoolFunding,
            "POOLFUND02",
            "more funding for HK: beyond the overseas-lending quota",
        ),
        "LGT-HK",
    );
    let outcome = ledger.post_batch(&[over], BatchMode::Atomic, "demo", at)?;
    match outcome.rejected.first() {
        Some(rejected) if rejected.rejection.code() == "limit" => {
            let refusal = Refusal {
                id: rejected.id.clone(),
                reason: rejected.rejection.code().to_string(),
                message: rejected.rejection.to_string(),
            };
            Ok((2, refusal))
        }
        Some(rejected) => Err(SimError::Integrity(format!(
            "the demo expected the outflow cap to refuse POOL-OUT-02: {}",
            rejected.rejection
        ))),
        None => Err(SimError::Integrity("the demo expected the outflow cap to refuse POOL-OUT-02".into())),
    }
}

/// A pool funding from the host's master account to `member` with the
/// member's intercompany position: it borrows from the pool what it receives,
/// as a sweep would book it (docs/SWEEPS.md). Without it the evening sweep
/// that brings the money back would leave the member "lending" the pool
/// money the pool gave it, and earning interest on it.
fn with_position(mut tx: TransactionRequest, member: &str) -> TransactionRequest {
    let leg = tx.postings.iter().find(|p| p.amount > Decimal::ZERO).cloned().expect("a transfer credits one account");
    tx.postings.push(PostingRequest {
        account: cashpool_ledger::model::ic_account(member),
        currency: leg.currency.clone(),
        amount: -leg.amount,
    });
    tx.postings.push(PostingRequest {
        account: cashpool_ledger::model::SYS_IC_POOL.into(),
        currency: leg.currency,
        amount: leg.amount,
    });
    tx
}

/// The weekday holidays of the calendars the group names, among `days`: (date, calendar, name).
fn holidays(ledger: &Ledger, days: &[NaiveDate]) -> Vec<(NaiveDate, String, String)> {
    let config = ledger.config();
    let named: std::collections::BTreeSet<&String> =
        config.pool.calendars.currencies.values().chain(config.pool.calendars.accounts.values()).flatten().collect();
    let (Some(first), Some(last)) = (days.first(), days.last()) else { return Vec::new() };
    ledger
        .calendar_days(None, Some(*first), Some(*last))
        .into_iter()
        .filter(|day| day.kind == cashpool_ledger::calendar::DayKind::Holiday && named.contains(&day.calendar))
        .filter(|day| days.contains(&day.date))
        .map(|day| (day.date, day.calendar, day.name))
        .collect()
}

/// What [`simulate`] reports after each business day, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayDone {
    /// The business day just finished (its evening sweep run).
    pub date: NaiveDate,
    /// Transactions posted so far.
    pub transactions: usize,
    /// Bank statements imported so far.
    pub statements: usize,
}

/// The timestamp of `hour`:00 UTC on `date`: when the demo records its work.
fn at(date: NaiveDate, hour: u32) -> Timestamp {
    let micros = date.and_hms_opt(hour, 0, 0).expect("valid time").and_utc().timestamp_micros();
    Timestamp::from_unix_micros(micros)
}

/// Runs `n_days` (at least 1) business days of the example group from
/// [`DEMO_START`] on an empty `storage`, the banks writing their statement
/// files under `<dir>/statements/`: each morning the statements of the day
/// before, imported and reconciled; each day receipts, payments and FX deals
/// drawn from `seed`; each evening the sweep; on the eighth day (or the last)
/// a pool funding near the outflow cap and one beyond it, which the cap
/// refuses; at month end pre-funding, netting and interest. The same seed
/// gives the same journal, byte for byte. `progress` is called after each day.
pub fn simulate(
    storage: Box<dyn Storage>,
    dir: &Path,
    n_days: u32,
    seed: u64,
    progress: &mut dyn FnMut(DayDone),
) -> Result<(Ledger, DemoRun), SimError> {
    assert!(n_days >= 1, "the demo needs at least one day");
    let (y, m, d) = DEMO_START;
    let start = NaiveDate::from_ymd_opt(y, m, d).expect("valid start date");
    let days = business_days(start, n_days);
    assert_eq!(days.len(), n_days as usize);
    let ledger = Ledger::create(storage, EXAMPLE_GROUP, at(start, 0))?;
    let base = ledger.config().group.base_currency;
    let (rates, errors) = cashpool_files::rates::parse_rates_csv(EXAMPLE_RATES, base);
    if let Some(err) = errors.first() {
        return Err(SimError::Integrity(format!("the demo's rates: {err}")));
    }
    ledger.import_rates(&rates, at(start, 1)).map_err(crate::refused_as_bug(""))?;
    let (calendar_days, errors) = cashpool_files::calendars::parse_calendars_csv(EXAMPLE_CALENDARS);
    if let Some(err) = errors.first() {
        return Err(SimError::Integrity(format!("the demo's calendars: {err}")));
    }
    ledger.import_calendars(&calendar_days, false, at(start, 1)).map_err(crate::refused_as_bug(""))?;
    let proceeds = TransactionRequest::transfer(
        "D01-EXP-000",
        start,
        "EXT-ONSHORE",
        "SH-DMA",
        "USD",
        Decimal::new(600_000_000, 2),
        Purpose::CurrentAccount,
        "EXP-2026-11",
        "export proceeds received in USD",
    );
    ledger.post_batch(&[proceeds], BatchMode::Atomic, "demo", at(start, 2))?;
    let mut refused = Vec::new();
    let (mut sweeps, mut sweeps_capped, mut sweeps_held_over) = (0, 0, 0);
    let cap_day = days.len().min(8) - 1;
    let mut rng = SplitMix64::new(seed);
    let mut market =
        Market { usd_cny: Decimal::new(71025, 4), usd_hkd: Decimal::new(77850, 4), usd_sgd: Decimal::new(13420, 4) };
    let mut transactions = 0;
    let mut banks = BankSimulator::new();
    // The deliberate break: one bank skips a statement number on this morning.
    let gap_day = days.len().min(5).saturating_sub(1).max(1);
    for (day_idx, &date) in days.iter().enumerate() {
        if day_idx > 0 {
            let previous = days[day_idx - 1];
            banks.morning(&ledger, &mut rng, dir, previous, day_idx == gap_day, at(date, 8))?;
        }
        let txs = generate_day(&ledger, &mut rng, &mut market, day_idx, date)?;
        let outcome = ledger.post_batch(&txs, BatchMode::Atomic, "demo", at(date, 10))?;
        if let Some(rejected) = outcome.rejected.first() {
            return Err(SimError::Integrity(format!(
                "the demo's own transaction {} was rejected: {}",
                rejected.id, rejected.rejection
            )));
        }
        transactions += outcome.receipts.len();
        if day_idx == cap_day && days.len() >= 2 {
            let (posted, refusal) = exercise_outflow_cap(&ledger, date, at(date, 16))?;
            transactions += posted;
            refused.push(refusal);
        }
        // The evening sweep.
        let swept = ledger.sweep(date, false, at(date, 18))?;
        sweeps += swept.run.sweeps.len();
        sweeps_capped += swept.run.sweeps.iter().filter(|line| line.capped).count()
            + swept.run.skipped.iter().filter(|skip| skip.capped).count();
        sweeps_held_over += swept
            .run
            .skipped
            .iter()
            .filter(|skip| skip.reason == cashpool_ledger::sweep::SkipReason::NotBusinessDay)
            .count();
        progress(DayDone { date, transactions, statements: banks.tally().statements });
    }
    let last = *days.last().expect("at least one day");
    // Month-end netting of the intercompany invoices, through the centre.
    // First the treasury pre-funds the USD accounts that the sweeps left thin.
    prefund_netting(&ledger, last, at(last, 19))?;
    let invoices = month_invoices(&mut rng, &days);
    let netting = Some(
        ledger
            .net("2026-11", last, &invoices, cashpool_ledger::netting::Mode::Centre, None, at(last, 19))
            .map_err(crate::refused_as_bug("the demo's netting cycle was refused: "))?,
    );
    // Month-end interest on the intercompany positions, over the days simulated.
    let end = last.succ_opt().expect("a representable date");
    let interest = Some(
        ledger
            .interest(start, end, true, at(last, 20))
            .map_err(crate::refused_as_bug("the demo's interest settlement was refused: "))?,
    );
    // The morning after the last day: its statements, imported and reconciled.
    let recon = Some(banks.morning(&ledger, &mut rng, dir, last, false, at(end, 8))?);
    let holidays = holidays(&ledger, &days);
    let run = DemoRun {
        days,
        transactions: ledger.n_transactions(),
        activity: transactions + 1,
        refused,
        sweeps,
        sweeps_capped,
        sweeps_held_over,
        calendar_days: calendar_days.len(),
        holidays,
        interest,
        netting,
        bank: banks.into_tally(),
        recon,
    };
    Ok((ledger, run))
}
