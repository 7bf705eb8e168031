//! The demo: the bundled example group, a seeded month of activity, a summary.

use std::path::{Path, PathBuf};

use cashpool_ledger::audit;
use cashpool_ledger::journal::Timestamp;
use cashpool_ledger::model::{AccountKind, Purpose, Zone};
use cashpool_ledger::money::{format_amount, format_grouped, round_half_even, Currency};
use cashpool_ledger::storage::SledStorage;
use cashpool_ledger::tx::{PostingRequest, RateRequest, TransactionRequest};
use cashpool_ledger::{BatchMode, Ledger};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde_json::json;

use crate::args::Format;
use crate::commands::ledger_failure;
use crate::output::{paint, print_json, Paint, Table};
use crate::{exit, Failure};

/// The example group, shipped inside the binary.
pub const EXAMPLE_GROUP: &str = include_str!("../../../examples/lingang-group.toml");
/// The month's FX rates (CNY and CNH markets), shipped inside the binary.
pub const EXAMPLE_RATES: &str = include_str!("../../../examples/rates-2026-11.csv");
/// The first business day of the demo month.
pub const DEMO_START: (i32, u32, u32) = (2026, 11, 2);

/// SplitMix64: a small, fully specified generator, so that a seed gives the
/// same journal on every machine and every version of every dependency.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, n)` (n > 0), by rejection so there is no modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
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

pub fn business_days(start: NaiveDate, n_days: u32) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    let mut day = start;
    while days.len() < n_days as usize {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            days.push(day);
        }
        day += Duration::days(1);
    }
    days
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
) -> Result<Vec<TransactionRequest>, Failure> {
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
    let mut balance_of = |account: &str, currency: Currency, delta: Decimal| -> Result<Decimal, Failure> {
        if let Some(entry) = projected.iter_mut().find(|(a, c, _)| a == account && *c == currency) {
            entry.2 += delta;
            return Ok(entry.2);
        }
        let now = ledger.balance(account, currency, None).map_err(ledger_failure)? + delta;
        projected.push((account.to_string(), currency, now));
        Ok(now)
    };
    for account in &members {
        let external = if account.zone == Some(Zone::Onshore) { "EXT-ONSHORE" } else { "EXT-OFFSHORE" };
        let external_currencies =
            accounts.iter().find(|a| a.id == external).map(|a| a.currencies.clone()).unwrap_or_default();
        for &currency in &account.currencies {
            if !external_currencies.contains(&currency) {
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

/// A fresh folder for the demo's store.
fn fresh_dir(given: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(dir) = given {
        if SledStorage::exists(dir) {
            return Err(Failure::invalid(format!(
                "{} already holds a store; the demo needs a fresh one",
                dir.display()
            )));
        }
        return Ok(dir.to_path_buf());
    }
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    Ok(std::env::temp_dir().join(format!("cashpool-demo-{}-{nanos}", std::process::id())))
}

/// What the demo did, for the summary.
pub struct DemoRun {
    pub dir: PathBuf,
    pub days: Vec<NaiveDate>,
    pub transactions: usize,
    /// Movements the ledger refused on purpose: (id, reason code, message).
    pub refused: Vec<(String, String, String)>,
    /// Sweeps posted, and how many of them were capped by the pool's limits.
    pub sweeps: usize,
    pub sweeps_capped: usize,
    /// The month-end interest settlement.
    pub interest: Option<cashpool_ledger::InterestOutcome>,
    /// The month-end netting cycle.
    pub netting: Option<cashpool_ledger::NettingOutcome>,
    /// The banks' statements: what was generated, imported and adopted.
    pub bank: BankDays,
    /// The reconciliation after the last import.
    pub recon: Option<cashpool_recon::Report>,
}

/// The banks' side of the demo, over all mornings.
#[derive(Default)]
pub struct BankDays {
    /// Statement files written (under `<store>/statements/`).
    pub files: usize,
    pub statements: usize,
    pub mt940: usize,
    pub camt053: usize,
    /// Bank charges the banks booked, and how many the treasury adopted.
    pub charges: usize,
    pub adopted: usize,
    /// The deliberate break: (account, statement id) whose sequence number skips one.
    pub gap: Option<(String, String)>,
}

/// Which banks send MT940 and which camt.053: the Chinese banks and HSBC send
/// MT940, DBS, Deutsche Bank and Mizuho camt.053.
fn bank_format(account: &str) -> cashpool_ledger::bank::StatementFormat {
    use cashpool_ledger::bank::StatementFormat;
    match account {
        "SG-OPS" | "DE-OPS" | "JP-OPS" => StatementFormat::Camt053,
        _ => StatementFormat::Mt940,
    }
}

/// The morning after `date`: each bank sends its statements of `date` (from
/// what the ledger posted, plus the bank's own charges, and on the gap day
/// one statement numbered one too far), the treasury imports them,
/// reconciles, and adopts the bank charges.
#[allow(clippy::too_many_arguments)]
fn bank_morning(
    ledger: &Ledger,
    generator: &mut cashpool_recon::generate::StatementGenerator,
    next_seq: &mut u64,
    rng: &mut SplitMix64,
    dir: &Path,
    date: NaiveDate,
    gap: bool,
    bank: &mut BankDays,
    at: Timestamp,
) -> Result<cashpool_recon::Report, Failure> {
    use cashpool_ledger::bank::{BankLine, StatementFormat};
    for item in ledger.entries(*next_seq) {
        let (entry, _) = item.map_err(ledger_failure)?;
        *next_seq = entry.seq + 1;
        generator.push(&entry);
    }
    let mut statements = generator.statements_for(date, bank_format);
    // Each bank books a charge on about one statement in six.
    for statement in &mut statements {
        if !rng.chance(17) {
            continue;
        }
        let Some(currency) = Currency::from_code(&statement.currency) else { continue };
        let minor = 10i64.pow(currency.minor_units());
        let fee = Decimal::new(-(5 + i64::try_from(rng.below(60)).unwrap_or(0)) * minor, currency.minor_units());
        // A bank does not charge an account into overdraft (nor may the ledger).
        if statement.closing.as_ref().is_none_or(|c| c.amount + fee < Decimal::ZERO) {
            continue;
        }
        let camt = statement.format == StatementFormat::Camt053;
        statement.lines.push(BankLine {
            source_line: 0,
            booking_date: Some(date),
            value_date: Some(date),
            amount: fee,
            currency: statement.currency.clone(),
            reversal: false,
            end_to_end_id: None,
            uetr: None,
            owner_reference: None,
            bank_reference: Some(format!("FEE{}{:03}", date.format("%y%m%d"), bank.charges + 1)),
            type_code: if camt { "ACMT/MDOP/CHRG".into() } else { "NCHG".into() },
            narrative: "payment and account maintenance charges".into(),
        });
        if let Some(closing) = statement.closing.as_mut() {
            closing.amount += fee;
        }
        bank.charges += 1;
    }
    if gap {
        if let Some(statement) = statements.first_mut() {
            let skipped = statement.sequence_number().map_or(0, |(n, _)| n) + 1;
            statement.sequence = Some(skipped.to_string());
            bank.gap = Some((statement.account_id.clone(), statement.statement_id.clone()));
            generator.skip_number(&statement.account_id, &statement.currency);
        }
    }
    let folder = dir.join("statements").join(date.to_string());
    std::fs::create_dir_all(&folder).map_err(|err| Failure::environment(format!("{}: {err}", folder.display())))?;
    let mut files = Vec::new();
    for statement in &statements {
        let (name, text) = match statement.format {
            StatementFormat::Camt053 => {
                bank.camt053 += 1;
                (
                    format!("{}-{}.xml", statement.account_id, statement.currency),
                    cashpool_recon::camt::write_camt053(std::slice::from_ref(statement), date),
                )
            }
            _ => {
                bank.mt940 += 1;
                (
                    format!("{}-{}.sta", statement.account_id, statement.currency),
                    cashpool_recon::mt940::write(std::slice::from_ref(statement)),
                )
            }
        };
        let path = folder.join(&name);
        std::fs::write(&path, text).map_err(|err| Failure::environment(format!("{}: {err}", path.display())))?;
        files.push(path);
    }
    // The treasury's morning: read the files as `cashpool recon import` does.
    let mut parsed = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).map_err(|err| Failure::environment(format!("{}: {err}", path.display())))?;
        let read = cashpool_recon::parse(&bytes).ok_or_else(|| {
            Failure::integrity(format!("{}: the demo's own statement is not recognised", path.display()))
        })?;
        if let Some(d) = read.diagnostics.first() {
            return Err(Failure::integrity(format!(
                "{}:{}: the demo's own statement does not read back: {}: {}",
                path.display(),
                d.line,
                d.field,
                d.message
            )));
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        parsed.extend(read.statements.into_iter().map(|st| (name.clone(), st)));
    }
    bank.files += files.len();
    bank.statements += parsed.len();
    ledger
        .import_statements(parsed, at)
        .map_err(ledger_failure)?
        .map_err(|rejection| Failure::integrity(format!("the demo's statements were refused: {rejection}")))?;
    let report = crate::recon::reconcile(ledger, cashpool_recon::ReconOptions::default())?;
    let charges: Vec<TransactionRequest> = report
        .exceptions
        .iter()
        .filter(|ex| ex.reason == "bank_initiated")
        .filter_map(|ex| ex.proposed.clone())
        .filter(|p| p.purpose == Purpose::Fee)
        .collect();
    if charges.is_empty() {
        return Ok(report);
    }
    let outcome = ledger.adopt(&charges, "demo", at).map_err(ledger_failure)?;
    if let Some(rejected) = outcome.rejected.first() {
        return Err(Failure::integrity(format!("adopting {} was refused: {}", rejected.id, rejected.rejection)));
    }
    bank.adopted += charges.len();
    crate::recon::reconcile(ledger, cashpool_recon::ReconOptions::default())
}

/// Tops up members' offshore and FT USD accounts to USD 150,000 from the
/// international master before the netting cycle (pool funding, with the
/// members' intercompany positions), as a treasurer does before settlement day.
fn prefund_netting(ledger: &Ledger, date: NaiveDate, at: Timestamp) -> Result<(), Failure> {
    let usd = Currency::from_code("USD").expect("USD");
    let floor = Decimal::new(15_000_000, 2);
    let mut requests = Vec::new();
    for (entity, account) in [("LGT-HK", "HK-OPS"), ("LGT-SG", "SG-OPS"), ("LGT-FTZ", "FTZ-FTE")] {
        let balance = ledger.balance(account, usd, None).map_err(ledger_failure)?;
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
    let outcome = ledger.post_batch(&requests, BatchMode::Atomic, "demo", at).map_err(ledger_failure)?;
    match outcome.rejected.first() {
        Some(rejected) => {
            Err(Failure::integrity(format!("the demo's pre-funding was refused: {}", rejected.rejection)))
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
fn exercise_outflow_cap(
    ledger: &Ledger,
    date: NaiveDate,
    at: Timestamp,
) -> Result<(usize, (String, String, String)), Failure> {
    let cny = Currency::from_code("CNY").expect("CNY");
    let limits = ledger.limits(None);
    // Room for net outflow: the cap, plus any net inflow the pool has already.
    let room = limits.outflow.cap + limits.inflow.used - limits.outflow.used;
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
    let out = TransactionRequest::transfer(
        "POOL-OUT-01",
        date,
        "SH-DMA",
        "HK-OPS",
        cny.code(),
        near,
        Purpose::PoolFunding,
        "POOLFUND01",
        "fund HK from the domestic master (cross-border)",
    );
    let outcome = ledger.post_batch(&[deposit, out], BatchMode::Atomic, "demo", at).map_err(ledger_failure)?;
    if let Some(rejected) = outcome.rejected.first() {
        return Err(Failure::integrity(format!("the demo's pool funding was refused: {}", rejected.rejection)));
    }
    let over = TransactionRequest::transfer(
        "POOL-OUT-02",
        date,
        "SH-DMA",
        "HK-OPS",
        cny.code(),
        over,
        Purpose::PoolFunding,
        "POOLFUND02",
        "more funding for HK: beyond the outflow cap",
    );
    let outcome = ledger.post_batch(&[over], BatchMode::Atomic, "demo", at).map_err(ledger_failure)?;
    match outcome.rejected.first() {
        Some(rejected) if rejected.rejection.code() == "limit" => {
            Ok((2, (rejected.id.clone(), rejected.rejection.code().to_string(), rejected.rejection.to_string())))
        }
        Some(rejected) => Err(Failure::integrity(format!(
            "the demo expected the outflow cap to refuse POOL-OUT-02: {}",
            rejected.rejection
        ))),
        None => Err(Failure::integrity("the demo expected the outflow cap to refuse POOL-OUT-02")),
    }
}

/// Runs the demo activity on a new store in `dir`.
pub fn simulate(dir: &Path, n_days: u32, seed: u64) -> Result<(Ledger, DemoRun), Failure> {
    let storage = SledStorage::open(dir).map_err(|err| Failure::environment(err.to_string()))?;
    let (y, m, d) = DEMO_START;
    let start = NaiveDate::from_ymd_opt(y, m, d).expect("valid start date");
    let days = business_days(start, n_days);
    let at = |date: NaiveDate, hour: u32| {
        let micros = date.and_hms_opt(hour, 0, 0).expect("valid time").and_utc().timestamp_micros();
        Timestamp::from_unix_micros(micros)
    };
    let ledger = Ledger::create(Box::new(storage), EXAMPLE_GROUP, at(start, 0)).map_err(ledger_failure)?;
    let base = ledger.config().group.base_currency;
    let (rates, errors) = cashpool_files::rates::parse_rates_csv(EXAMPLE_RATES, base);
    if let Some(err) = errors.first() {
        return Err(Failure::integrity(format!("the demo's rates: {err}")));
    }
    ledger
        .import_rates(&rates, at(start, 1))
        .map_err(ledger_failure)?
        .map_err(|c| Failure::integrity(c.to_string()))?;
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
    ledger.post_batch(&[proceeds], BatchMode::Atomic, "demo", at(start, 2)).map_err(ledger_failure)?;
    let mut refused = Vec::new();
    let (mut sweeps, mut sweeps_capped) = (0, 0);
    let cap_day = days.len().min(8) - 1;
    let mut rng = SplitMix64::new(seed);
    let mut market =
        Market { usd_cny: Decimal::new(71025, 4), usd_hkd: Decimal::new(77850, 4), usd_sgd: Decimal::new(13420, 4) };
    let mut transactions = 0;
    let bar = crate::output::progress(days.len() as u64, "demo days");
    let mut generator = cashpool_recon::generate::StatementGenerator::new();
    let mut next_seq = 1;
    let mut bank = BankDays::default();
    // The deliberate break: one bank skips a statement number on this morning.
    let gap_day = days.len().min(5).saturating_sub(1).max(1);
    for (day_idx, &date) in days.iter().enumerate() {
        if day_idx > 0 {
            let previous = days[day_idx - 1];
            bank_morning(
                &ledger,
                &mut generator,
                &mut next_seq,
                &mut rng,
                dir,
                previous,
                day_idx == gap_day,
                &mut bank,
                at(date, 8),
            )?;
        }
        let txs = generate_day(&ledger, &mut rng, &mut market, day_idx, date)?;
        let outcome = ledger.post_batch(&txs, BatchMode::Atomic, "demo", at(date, 10)).map_err(ledger_failure)?;
        if let Some(rejected) = outcome.rejected.first() {
            return Err(Failure::integrity(format!(
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
        let swept = ledger.sweep(date, false, at(date, 18)).map_err(ledger_failure)?;
        sweeps += swept.run.sweeps.len();
        sweeps_capped += swept.run.sweeps.iter().filter(|line| line.capped).count()
            + swept.run.skipped.iter().filter(|skip| skip.capped).count();
        bar.set_message(format!("{date}  {transactions} transactions, {} statements", bank.statements));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let last = *days.last().expect("at least one day");
    // Month-end netting of the intercompany invoices, through the centre.
    // First the treasury pre-funds the USD accounts that the sweeps left thin.
    prefund_netting(&ledger, last, at(last, 19))?;
    let invoices = month_invoices(&mut rng, &days);
    let netting = match ledger
        .net("2026-11", last, &invoices, cashpool_ledger::netting::Mode::Centre, None, at(last, 19))
        .map_err(ledger_failure)?
    {
        Ok(outcome) => Some(outcome),
        Err(reason) => return Err(Failure::integrity(format!("the demo's netting cycle was refused: {reason}"))),
    };
    // Month-end interest on the intercompany positions, over the days simulated.
    let end = last.succ_opt().expect("a representable date");
    let interest = match ledger.interest(start, end, true, at(last, 20)).map_err(ledger_failure)? {
        Ok(outcome) => Some(outcome),
        Err(rejection) => {
            return Err(Failure::integrity(format!("the demo's interest settlement was refused: {rejection}")))
        }
    };
    // The morning after the last day: its statements, imported and reconciled.
    let morning = at(end, 8);
    let recon =
        Some(bank_morning(&ledger, &mut generator, &mut next_seq, &mut rng, dir, last, false, &mut bank, morning)?);
    let run = DemoRun {
        dir: dir.to_path_buf(),
        days,
        transactions: transactions + 1,
        refused,
        sweeps,
        sweeps_capped,
        interest,
        netting,
        bank,
        recon,
    };
    Ok((ledger, run))
}

pub fn run(data: Option<&Path>, n_days: u32, seed: u64, format: Format) -> Result<u8, Failure> {
    if n_days == 0 {
        return Err(Failure::invalid("--days must be at least 1"));
    }
    let dir = fresh_dir(data)?;
    let (ledger, run) = simulate(&dir, n_days, seed)?;
    let verify = audit::verify_storage(ledger.storage()).map_err(|err| Failure::environment(err.to_string()))?;
    let replay = audit::replay_storage(ledger.storage(), None).map_err(|err| Failure::integrity(err.to_string()))?;
    let digest_matches = replay.state_digest == ledger.state_digest();
    let rows: Vec<_> = ledger
        .balances(None, None, None)
        .map_err(ledger_failure)?
        .into_iter()
        .filter(|row| !row.account.starts_with("EXT-") && !row.account.starts_with("SYS-"))
        .collect();
    let (_, head) = ledger.head();
    let limits = ledger.limits(None);
    let positions = ledger.positions(None);
    let ok = verify.ok && replay.matches_store == Some(true) && digest_matches;
    let data_flag = format!("--data {}", run.dir.display());
    match format {
        Format::Json | Format::Csv => print_json(&json!({
            "store": run.dir.display().to_string(),
            "seed": seed,
            "days": run.days.len(),
            "from": run.days.first().map(|d| d.to_string()),
            "to": run.days.last().map(|d| d.to_string()),
            "transactions": run.transactions,
            "balances": rows.iter().map(|r| json!({"account": r.account, "currency": r.currency.code(), "balance": format_amount(r.balance, r.currency)})).collect::<Vec<_>>(),
            "limits": crate::pool::limits_json(&limits),
            "sweeps": {"posted": run.sweeps, "capped": run.sweeps_capped},
            "positions": positions.iter().map(|r| json!({"entity": r.entity, "currency": r.currency.code(), "position": format_amount(r.position, r.currency)})).collect::<Vec<_>>(),
            "interest": run.interest.as_ref().map(crate::pool::interest_json),
            "netting": run.netting.as_ref().map(crate::pool::net_json),
            "reconciliation": run.recon.as_ref().map(|r| json!({
                "statement_files": run.bank.files,
                "mt940": run.bank.mt940,
                "camt053": run.bank.camt053,
                "statements": r.statements,
                "lines": r.lines,
                "matched": r.matched,
                "match_rate": r.match_rate,
                "charges_booked": run.bank.charges,
                "charges_adopted": run.bank.adopted,
                "exceptions": r.exceptions,
                "breaks": r.breaks,
            })),
            "refused": run.refused.iter().map(|(id, reason, message)| json!({"id": id, "reason": reason, "message": message})).collect::<Vec<_>>(),
            "audit": {"ok": verify.ok, "entries": verify.entries, "head": verify.head.to_hex()},
            "replay": {"entries": replay.entries, "state_digest": replay.state_digest.to_string(), "matches_store": replay.matches_store, "matches_live_state": digest_matches},
        })),
        Format::Table => {
            println!(
                "cashpool demo: Lingang Technology Group, {} business days from {} to {} (seed {seed})",
                run.days.len(),
                run.days.first().map(|d| d.to_string()).unwrap_or_default(),
                run.days.last().map(|d| d.to_string()).unwrap_or_default()
            );
            println!("store: {}", run.dir.display());
            println!(
                "posted {} transactions: customer receipts, supplier payments and FX deals across all members",
                run.transactions
            );
            println!();
            let mut table = Table::new(&["account", "currency", "balance"], &["balance"]);
            for row in &rows {
                table.push(vec![
                    row.account.clone(),
                    row.currency.code().into(),
                    format_grouped(row.balance, row.currency),
                ]);
            }
            print!("{}", table.render());
            println!();
            let base = limits.base_currency;
            println!(
                "pool cross-border position ({base}): net outflow {} of a {} cap, headroom {}; net inflow {} of {}",
                format_grouped(limits.outflow.used, base),
                format_grouped(limits.outflow.cap, base),
                format_grouped(limits.outflow.headroom, base),
                format_grouped(limits.inflow.used, base),
                format_grouped(limits.inflow.cap, base),
            );
            for (id, _, message) in &run.refused {
                println!("{}", paint(&format!("refused on purpose: {id}: {message}"), Paint::Warn));
            }
            println!();
            println!(
                "sweeps: {} posted over {} evenings ({} held to the pool's caps); intercompany positions (positive: lent to the pool):",
                run.sweeps,
                run.days.len(),
                run.sweeps_capped
            );
            let mut table = Table::new(
                &["entity", "currency", "position", "interest", "withholding tax", "net"],
                &["position", "interest", "withholding tax", "net"],
            );
            for row in &positions {
                let accrual = run
                    .interest
                    .as_ref()
                    .and_then(|i| i.run.accruals.iter().find(|a| a.entity == row.entity && a.currency == row.currency));
                let cell = |value: Option<Decimal>| value.map(|v| format_grouped(v, row.currency)).unwrap_or_default();
                table.push(vec![
                    row.entity.clone(),
                    row.currency.code().into(),
                    format_grouped(row.position, row.currency),
                    cell(accrual.map(|a| a.interest)),
                    cell(accrual.map(|a| a.withholding_tax)),
                    cell(accrual.map(|a| a.net)),
                ]);
            }
            print!("{}", table.render());
            if let Some(netting) = &run.netting {
                let result = &netting.run.result;
                let settled: Decimal = result.settlements.iter().map(|s| s.amount).sum();
                println!(
                    "netting cycle {}: {} intercompany invoices, gross {} {}, settled by {} payments through the centre totalling {} ({} payments saved); {} excluded",
                    result.cycle,
                    result.invoices_netted,
                    result.currency,
                    format_grouped(result.gross, result.currency),
                    result.settlements.len(),
                    format_grouped(settled, result.currency),
                    result.invoices_netted.saturating_sub(result.settlements.len()),
                    result.excluded.len()
                );
            }
            if let Some(interest) = &run.interest {
                println!(
                    "interest settled for [{}, {}), capitalised into the positions above",
                    interest.run.from, interest.run.to
                );
            }
            if let Some(report) = &run.recon {
                println!();
                println!(
                    "bank statements: {} files ({} MT940, {} camt.053) in {}/statements/, imported each morning",
                    run.bank.files,
                    run.bank.mt940,
                    run.bank.camt053,
                    run.dir.display()
                );
                let summary = format!(
                    "reconciliation: {} of {} statement lines matched ({}%); {} bank charges adopted; {} open exception(s), {} break(s)",
                    report.matched,
                    report.lines,
                    report.match_rate,
                    run.bank.adopted,
                    report.exceptions.len(),
                    report.breaks.len()
                );
                println!("{}", paint(&summary, if report.matched == report.lines { Paint::Good } else { Paint::Warn }));
                for b in &report.breaks {
                    let line = format!(
                        "  break on purpose: {} {} statement {}: {} (expected {}, found {})",
                        b.account, b.currency, b.statement, b.kind, b.expected, b.found
                    );
                    println!("{}", paint(&line, Paint::Warn));
                }
                for ex in report.exceptions.iter().take(5) {
                    println!(
                        "  open: {} {} {} {} {}: {}",
                        ex.id, ex.account, ex.currency, ex.amount, ex.reason, ex.detail
                    );
                }
            }
            println!();
            println!(
                "audit verify: {} ({} entries, head {})",
                if verify.ok { paint("ok", Paint::Good) } else { paint("FAILED", Paint::Bad) },
                verify.entries,
                head
            );
            println!(
                "audit replay: state digest {} ({})",
                replay.state_digest,
                if replay.matches_store == Some(true) && digest_matches {
                    paint("matches the store", Paint::Good)
                } else {
                    paint("DOES NOT match the store", Paint::Bad)
                }
            );
            println!();
            println!("Next, try:");
            println!(
                "  cargo run --release -- {data_flag} balances --as-of {}",
                run.days.get(run.days.len() / 2).map(|d| d.to_string()).unwrap_or_default()
            );
            println!("  cargo run --release -- {data_flag} statement --account HK-OPS --currency USD");
            println!("  cargo run --release -- {data_flag} audit export --format jsonl --output journal.jsonl");
            println!("  cargo run --release -- audit verify --journal journal.jsonl");
            println!("  cargo run --release -- {data_flag} limits");
            println!(
                "  cargo run --release -- {data_flag} positions --as-of {}",
                run.days.get(run.days.len() / 2).map(|d| d.to_string()).unwrap_or_default()
            );
            println!("  cargo run --release -- {data_flag} audit replay");
            println!("  cargo run --release -- {data_flag} recon report");
            println!("  cargo run --release -- {data_flag} report --html pool.html");
            println!("  cargo run --release -- {data_flag} audit export --format hledger --output pool.journal");
        }
    }
    Ok(if ok { exit::OK } else { exit::INTEGRITY })
}
