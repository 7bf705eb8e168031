//! The workloads and measurements behind `cashpool bench` and
//! docs/PERFORMANCE.md: durable and in-memory posting, sweeping and interest,
//! netting, bank statements and reconciliation, verify and replay (the growth
//! of one store, `bench scale`, is [`crate::scale`]). Each returns typed
//! figures; the CLI prints them.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cashpool_files::rates::parse_rates_csv;
use cashpool_ledger::audit;
use cashpool_ledger::journal::Timestamp;
use cashpool_ledger::model::Purpose;
use cashpool_ledger::storage::{
    BlockIter, Checkpoint, Commit, IndexFill, MemoryStorage, SledStorage, Storage, StorageError,
};
use cashpool_ledger::tx::TransactionRequest;
use cashpool_ledger::{BatchMode, Ledger};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::{env_error, SimError, SplitMix64, EXAMPLE_RATES};

/// Durable posting from one thread or several at once (group commit).
#[derive(Debug, Clone, PartialEq)]
pub struct PostFigures {
    /// Transactions posted.
    pub transactions: u64,
    /// Transactions per batch.
    pub batch: usize,
    /// Threads posting at once.
    pub clients: usize,
    /// Wall time of the posting.
    pub seconds: f64,
    /// Transactions per second, rounded.
    pub transactions_per_second: f64,
    /// Durable journal writes (one fdatasync each).
    pub commits: u64,
    /// Transactions per durable write, one decimal.
    pub transactions_per_commit: f64,
}

/// In-memory posting: the CPU cost of the pool rules.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryFigures {
    /// Transactions posted in each of the two runs.
    pub transactions: u64,
    /// Local receipts per second.
    pub current_account_per_second: f64,
    /// Cross-border pool movements per second (classified, converted, checked against the caps).
    pub cross_border_pool_funding_per_second: f64,
    /// How much slower the pool movements are, in percent, one decimal.
    pub pool_rules_cost_percent: f64,
}

/// One transaction at a time: acknowledgement latency against the disk's fsync latency.
#[derive(Debug, Clone, PartialEq)]
pub struct SingleFigures {
    /// Median latency of posting one transaction.
    pub median_microseconds: u128,
    /// Median latency of a 4 KiB append and fdatasync.
    pub fsync_median_microseconds: u128,
    /// The first over the second, two decimals.
    pub fsyncs_per_acknowledgement: f64,
}

/// What [`post_figures`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct PostRun {
    /// Durable posting.
    pub post: PostFigures,
    /// In-memory posting.
    pub memory: MemoryFigures,
    /// Single transactions.
    pub single: SingleFigures,
}

/// Verify and replay of a store ([`replay_figures`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayFigures {
    /// Journal entries.
    pub entries: u64,
    /// Wall time of `audit verify`.
    pub verify_seconds: f64,
    /// Entries verified per second, rounded.
    pub verify_entries_per_second: f64,
    /// Wall time of `audit replay`.
    pub replay_seconds: f64,
    /// Entries replayed per second, rounded.
    pub replay_entries_per_second: f64,
    /// Peak resident memory of the process.
    pub peak_rss_kib: u64,
    /// Resident memory once the store was open.
    pub rss_after_open_kib: u64,
    /// Peak resident memory less what the process had before opening the store.
    pub peak_rss_growth_kib: u64,
}

/// Sweeping and interest ([`sweep_figures`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepFigures {
    /// Member accounts swept.
    pub member_accounts: usize,
    /// Currencies of each account.
    pub currencies: usize,
    /// Sweeps posted.
    pub sweeps: usize,
    /// Wall time of the sweep run, durable commit included.
    pub sweep_seconds: f64,
    /// Intercompany positions accrued.
    pub positions: usize,
    /// Days of interest accrued.
    pub interest_days: u32,
    /// Wall time of accruing and settling the interest.
    pub interest_settle_seconds: f64,
}

/// Multilateral netting ([`netting_figures`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NetFigures {
    /// Entities in the cycle.
    pub entities: usize,
    /// Invoices netted.
    pub invoices: usize,
    /// Settlement payments.
    pub settlements: usize,
    /// Wall time of parsing the invoices CSV.
    pub parse_seconds: f64,
    /// Wall time of netting and posting the settlements.
    pub net_and_settle_seconds: f64,
}

/// Bank statements and reconciliation at scale ([`recon_figures`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ReconFigures {
    /// Ledger postings on the bank accounts.
    pub ledger_postings: usize,
    /// Wall time of posting them.
    pub post_seconds: f64,
    /// Statement lines generated.
    pub statement_lines: usize,
    /// Size of all statements as one MT940 file.
    pub mt940_bytes: usize,
    /// Best of three parses of it.
    pub mt940_parse_seconds: f64,
    /// MT940 parsing speed, one decimal.
    pub mt940_mb_per_second: f64,
    /// Size of all statements as one camt.053 file.
    pub camt053_bytes: usize,
    /// Best of three parses of it.
    pub camt053_parse_seconds: f64,
    /// camt.053 parsing speed, one decimal.
    pub camt053_mb_per_second: f64,
    /// Wall time of the import (one durable commit).
    pub import_seconds: f64,
    /// Wall time of the reconciliation.
    pub reconcile_seconds: f64,
    /// Lines matched.
    pub matched: usize,
    /// The reconciliation's match rate (its `Report::match_rate`).
    pub match_rate: String,
    /// Lines matched by reference.
    pub matched_by_reference: usize,
    /// Lines matched by amount and date.
    pub matched_by_amount_date: usize,
    /// Open exceptions.
    pub exceptions: usize,
    /// Continuity and balance breaks.
    pub breaks: usize,
    /// The matcher's worst case.
    pub hard_case: HardCaseFigures,
}

/// The matcher's worst inputs: identical postings without references.
#[derive(Debug, Clone, PartialEq)]
pub struct HardCaseFigures {
    /// Identical postings (and as many lines that match nothing).
    pub identical_postings: usize,
    /// Statement lines.
    pub lines: usize,
    /// Lines matched.
    pub matched: usize,
    /// Open exceptions.
    pub exceptions: usize,
    /// Wall time of the reconciliation.
    pub reconcile_seconds: f64,
}

/// The processor cores this process may use.
pub fn machine_cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Where receipt `idx` of a workload goes: `(from, to, currency)`.
pub type Route = fn(u64) -> (&'static str, &'static str, &'static str);

/// `n` receipts of 1.00 to 9,999.99 (in a currency of two minor units), ids
/// `B<first>`…, amounts drawn from `rng`, receipt `idx` as `route(idx)` says.
pub fn receipts(first: u64, n: u64, rng: &mut SplitMix64, route: Route) -> Vec<TransactionRequest> {
    let date = NaiveDate::from_ymd_opt(2026, 11, 2).expect("valid date");
    (first..first + n)
        .map(|idx| {
            let cents = 100 + rng.below(999_900);
            let (from, to, currency) = route(idx);
            TransactionRequest::transfer(
                format!("B{idx:09}"),
                date,
                from,
                to,
                currency,
                Decimal::new(i64::try_from(cents).unwrap_or(100), 2),
                Purpose::CurrentAccount,
                format!("INV-{idx}"),
                "",
            )
        })
        .collect()
}

/// `n` receipts of USD 1.00 to 9,999.99 onto HK-OPS, ids `B<first>`…, amounts drawn from `rng`.
pub fn transfers(first: u64, n: u64, rng: &mut SplitMix64) -> Vec<TransactionRequest> {
    receipts(first, n, rng, |_| ("EXT-OFFSHORE", "HK-OPS", "USD"))
}

/// Cross-border pool movements, alternately out of and back into the
/// domestic master (so the position stays inside the caps): each one is
/// classified, converted at the onshore USD rate and checked against the caps.
pub fn pool_movements(first: u64, n: u64, rng: &mut SplitMix64) -> Vec<TransactionRequest> {
    let date = NaiveDate::from_ymd_opt(2026, 11, 2).expect("valid date");
    (first..first + n)
        .map(|idx| {
            let cents = Decimal::new(i64::try_from(100 + rng.below(999_900)).unwrap_or(100), 2);
            let (from, to) = if idx % 2 == 0 { ("SH-DMA", "HK-OPS") } else { ("HK-OPS", "SH-DMA") };
            TransactionRequest::transfer(
                format!("P{idx:09}"),
                date,
                from,
                to,
                "USD",
                cents,
                Purpose::PoolFunding,
                "",
                "",
            )
        })
        .collect()
}

/// In-memory posting throughput of `n` transactions from `make`: the CPU cost
/// of validation, classification, limit checks, encoding and hashing, without the disk.
pub fn memory_throughput(
    n: u64,
    batch: usize,
    make: fn(u64, u64, &mut SplitMix64) -> Vec<TransactionRequest>,
) -> Result<f64, SimError> {
    let ledger = crate::example_ledger(Box::new(MemoryStorage::new()), Timestamp::EPOCH)?;
    let (rates, _) = parse_rates_csv(EXAMPLE_RATES, ledger.config().group.base_currency);
    ledger.import_rates(&rates, Timestamp::EPOCH).map_err(crate::refused_as_bug(""))?;
    // Large balances on both sides, so that no movement hits an overdraft.
    let date = NaiveDate::from_ymd_opt(2026, 11, 2).expect("valid date");
    let funding: Vec<_> = [("EXT-ONSHORE", "SH-DMA"), ("EXT-OFFSHORE", "HK-OPS")]
        .iter()
        .map(|(from, to)| {
            TransactionRequest::transfer(
                format!("FUND-{to}"),
                date,
                *from,
                *to,
                "USD",
                Decimal::new(1_000_000_000_000, 2),
                Purpose::CurrentAccount,
                "",
                "",
            )
        })
        .collect();
    ledger.post_batch(&funding, BatchMode::Atomic, "bench", Timestamp::EPOCH)?;
    let mut rng = SplitMix64::new(2);
    let batches: Vec<Vec<TransactionRequest>> =
        (0..n).step_by(batch).map(|first| make(first, (n - first).min(batch as u64), &mut rng)).collect();
    let start = Instant::now();
    for txs in &batches {
        let outcome = ledger.post_batch(txs, BatchMode::Atomic, "bench", Timestamp::EPOCH)?;
        if let Some(rejected) = outcome.rejected.first() {
            return Err(SimError::Integrity(format!("a bench transaction was rejected: {}", rejected.rejection)));
        }
    }
    Ok((n as f64 / start.elapsed().as_secs_f64()).round())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Median latency of appending a 4 KiB record to a file and `fdatasync`:
/// what one journal commit costs the disk, so the unit of an acknowledgement.
pub fn fsync_latency(dir: &Path) -> Result<Duration, SimError> {
    use std::os::unix::fs::FileExt;
    let path = dir.join("fsync-probe");
    let file = std::fs::File::create(&path).map_err(env_error)?;
    let mut samples = Vec::new();
    for round in 0..100u64 {
        let start = Instant::now();
        file.write_all_at(&[7u8; 4096], round * 4096).map_err(env_error)?;
        file.sync_data().map_err(env_error)?;
        samples.push(start.elapsed());
    }
    let _ = std::fs::remove_file(&path);
    Ok(median(samples))
}

/// A memory figure of this process from /proc/self/status (`VmRSS:`, `VmHWM:`), in KiB.
pub fn rss_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Verifies and replays the store in `dir` in this process and measures
/// the time taken and the peak memory (run it in a fresh process, so that the
/// peak is the replay's alone).
pub fn replay_figures(dir: &Path) -> Result<ReplayFigures, SimError> {
    let rss_before = rss_kib("VmRSS:").unwrap_or(0);
    let storage = SledStorage::open(dir).map_err(env_error)?;
    let rss_opened = rss_kib("VmRSS:").unwrap_or(0);
    let start = Instant::now();
    let report = audit::verify_storage(&storage).map_err(env_error)?;
    let verify_elapsed = start.elapsed();
    let start = Instant::now();
    let replay = audit::replay_storage(&storage, None).map_err(env_error)?;
    let replay_elapsed = start.elapsed();
    let peak = rss_kib("VmHWM:").unwrap_or(0);
    if !report.ok || replay.matches_store != Some(true) {
        return Err(SimError::Integrity("the bench store did not verify".into()));
    }
    Ok(ReplayFigures {
        entries: replay.entries,
        verify_seconds: verify_elapsed.as_secs_f64(),
        verify_entries_per_second: (replay.entries as f64 / verify_elapsed.as_secs_f64()).round(),
        replay_seconds: replay_elapsed.as_secs_f64(),
        replay_entries_per_second: (replay.entries as f64 / replay_elapsed.as_secs_f64()).round(),
        peak_rss_kib: peak,
        rss_after_open_kib: rss_opened,
        peak_rss_growth_kib: peak.saturating_sub(rss_before),
    })
}

/// A group of `members` onshore members, each with one account in five
/// currencies swept `zero`/`both` into the domestic master, and interest rules.
fn sweep_group(members: usize) -> String {
    let mut toml = String::from(
        "[group]\nid = \"BENCH\"\nname = \"Bench\"\nbase_currency = \"CNY\"\n\n\
         [pool]\nid = \"BENCH-POOL\"\nhost = \"HOST\"\ndomestic_master = \"DMA\"\ninternational_master = \"IMA\"\nnetting_currency = \"USD\"\n\n\
         [[pool.limits]]\neffective = \"2025-01-13\"\nowners_equity = \"50000000.00\"\ninflow_leverage = \"2\"\ninflow_parameter = \"1.75\"\noutflow_coefficient = \"0.8\"\n\n\
         [[entity]]\nid = \"HOST\"\nname = \"Host\"\nresidence = \"onshore\"\n\n\
         [[account]]\nid = \"DMA\"\nentity = \"HOST\"\nkind = \"domestic-master\"\nzone = \"onshore\"\ncurrencies = [\"CNY\", \"USD\", \"EUR\", \"HKD\", \"JPY\"]\n\
         overdraft = { CNY = \"999999999999.00\", USD = \"999999999999.00\", EUR = \"999999999999.00\", HKD = \"999999999999.00\", JPY = \"999999999999\" }\n\n\
         [[account]]\nid = \"IMA\"\nentity = \"HOST\"\nkind = \"international-master\"\nzone = \"offshore\"\ncurrencies = [\"USD\"]\n\n\
         [[account]]\nid = \"EXT\"\nentity = \"EXTERNAL\"\nkind = \"external\"\nzone = \"onshore\"\ncurrencies = [\"CNY\", \"USD\", \"EUR\", \"HKD\", \"JPY\"]\n\n",
    );
    for (currency, day_count) in
        [("CNY", "ACT/365F"), ("USD", "ACT/360"), ("EUR", "ACT/360"), ("HKD", "ACT/365F"), ("JPY", "ACT/365F")]
    {
        toml.push_str(&format!(
            "[[interest]]\ncurrency = \"{currency}\"\nday_count = \"{day_count}\"\ncredit_rate = \"2.00\"\ndebit_rate = \"3.00\"\n\n"
        ));
    }
    for member in 0..members {
        toml.push_str(&format!(
            "[[entity]]\nid = \"M{member:05}\"\nname = \"Member {member}\"\nresidence = \"onshore\"\n\n\
             [[account]]\nid = \"A{member:05}\"\nentity = \"M{member:05}\"\nkind = \"settlement\"\nzone = \"onshore\"\n\
             currencies = [\"CNY\", \"USD\", \"EUR\", \"HKD\", \"JPY\"]\n\n"
        ));
        for currency in ["CNY", "USD", "EUR", "HKD", "JPY"] {
            toml.push_str(&format!(
                "[[sweep]]\naccount = \"A{member:05}\"\ncurrency = \"{currency}\"\ninto = \"DMA\"\nmethod = \"zero\"\ndirection = \"both\"\npriority = 1\n\n"
            ));
        }
    }
    toml
}

/// Sweeps `members` × 5 member balances into the header (durable commit
/// included), then accrues and settles 31 days of interest on the positions.
pub fn sweep_figures(members: usize, batch: usize) -> Result<SweepFigures, SimError> {
    let dir = std::env::temp_dir().join(format!("cashpool-bench-sweep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let storage = SledStorage::open(&dir).map_err(env_error)?;
    let ledger = Ledger::create(Box::new(storage), &sweep_group(members), Timestamp::EPOCH)?;
    let date = NaiveDate::from_ymd_opt(2026, 11, 2).expect("valid date");
    let mut rng = SplitMix64::new(3);
    // Opening receipts: every member account, every currency.
    let mut openings = Vec::with_capacity(members * 5);
    for member in 0..members {
        for currency in ["CNY", "USD", "EUR", "HKD", "JPY"] {
            let units = i64::try_from(1_000 + rng.below(1_000_000)).unwrap_or(1_000);
            let amount = if currency == "JPY" { Decimal::from(units * 100) } else { Decimal::new(units * 100, 2) };
            openings.push(TransactionRequest::transfer(
                format!("O{member:05}{currency}"),
                date,
                "EXT",
                format!("A{member:05}"),
                currency,
                amount,
                Purpose::CurrentAccount,
                "",
                "",
            ));
        }
    }
    for chunk in openings.chunks(batch) {
        ledger.post_batch(chunk, BatchMode::Atomic, "bench", Timestamp::EPOCH)?;
    }
    let start = Instant::now();
    let outcome = ledger.sweep(date, false, Timestamp::EPOCH)?;
    let sweep_elapsed = start.elapsed();
    let from = date;
    let to = from + chrono::Duration::days(31);
    let start = Instant::now();
    let interest = ledger.interest(from, to, true, Timestamp::EPOCH).map_err(crate::refused_as_bug(""))?;
    let interest_elapsed = start.elapsed();
    drop(ledger);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(SweepFigures {
        member_accounts: members,
        currencies: 5,
        sweeps: outcome.run.sweeps.len(),
        sweep_seconds: sweep_elapsed.as_secs_f64(),
        positions: interest.run.accruals.len(),
        interest_days: 31,
        interest_settle_seconds: interest_elapsed.as_secs_f64(),
    })
}

/// A group of `members` offshore members with one USD account each, for the netting bench.
fn netting_group(members: usize) -> String {
    let mut toml = String::from(
        "[group]\nid = \"NET\"\nname = \"Netting bench\"\nbase_currency = \"CNY\"\n\n\
         [pool]\nid = \"NET-POOL\"\nhost = \"HOST\"\ndomestic_master = \"DMA\"\ninternational_master = \"IMA\"\nnetting_currency = \"USD\"\n\n\
         [[pool.limits]]\neffective = \"2025-01-13\"\nowners_equity = \"50000000.00\"\ninflow_leverage = \"2\"\ninflow_parameter = \"1.75\"\noutflow_coefficient = \"0.8\"\n\n\
         [[entity]]\nid = \"HOST\"\nname = \"Host\"\nresidence = \"onshore\"\n\n\
         [[account]]\nid = \"DMA\"\nentity = \"HOST\"\nkind = \"domestic-master\"\nzone = \"onshore\"\ncurrencies = [\"CNY\"]\n\n\
         [[account]]\nid = \"IMA\"\nentity = \"HOST\"\nkind = \"international-master\"\nzone = \"offshore\"\ncurrencies = [\"USD\"]\n\
         overdraft = { USD = \"999999999999.00\" }\n\n",
    );
    for member in 0..members {
        toml.push_str(&format!(
            "[[entity]]\nid = \"E{member:04}\"\nname = \"Entity {member}\"\nresidence = \"offshore\"\n\n\
             [[account]]\nid = \"E{member:04}-USD\"\nentity = \"E{member:04}\"\nkind = \"settlement\"\nzone = \"offshore\"\n\
             currencies = [\"USD\"]\noverdraft = {{ USD = \"999999999999.00\" }}\n\n"
        ));
    }
    toml
}

/// Nets and settles `invoices` intercompany invoices among `entities` entities, durable commit included.
pub fn netting_figures(entities: usize, invoices: usize) -> Result<NetFigures, SimError> {
    use cashpool_ledger::netting::{Invoice, Mode};
    let dir = std::env::temp_dir().join(format!("cashpool-bench-net-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let storage = SledStorage::open(&dir).map_err(env_error)?;
    let ledger = Ledger::create(Box::new(storage), &netting_group(entities), Timestamp::EPOCH)?;
    let date = NaiveDate::from_ymd_opt(2026, 11, 30).expect("valid date");
    let (rates, _) =
        parse_rates_csv("date,currency,market,rate\n2026-11-30,USD,onshore,7.1\n", ledger.config().group.base_currency);
    ledger.import_rates(&rates, Timestamp::EPOCH).map_err(crate::refused_as_bug(""))?;
    let usd = cashpool_ledger::money::Currency::from_code("USD").expect("USD");
    let mut rng = SplitMix64::new(4);
    let n = entities as u64;
    let list: Vec<Invoice> = (0..invoices as u64)
        .map(|idx| {
            let payer = rng.below(n);
            let payee = (payer + 1 + rng.below(n - 1)) % n;
            Invoice {
                line: idx + 2,
                id: format!("INV{idx:07}"),
                payer: format!("E{payer:04}"),
                payee: format!("E{payee:04}"),
                currency: usd,
                amount: Decimal::new(i64::try_from(100 + rng.below(10_000_000)).unwrap_or(100), 2),
                due_date: date,
                purpose: Purpose::CurrentAccount,
            }
        })
        .collect();
    // The file a treasurer would hand to `cashpool net`, parsed as the command parses it.
    let mut csv = String::from("id,payer,payee,currency,amount,due_date,purpose\n");
    for invoice in &list {
        csv.push_str(&format!(
            "{},{},{},USD,{},{},current_account\n",
            invoice.id, invoice.payer, invoice.payee, invoice.amount, invoice.due_date
        ));
    }
    let start = Instant::now();
    let (parsed, errors) = cashpool_files::invoices::parse_invoices_csv(&csv);
    let parse_elapsed = start.elapsed();
    if !errors.is_empty() || parsed.len() != list.len() {
        return Err(SimError::Integrity("the bench invoices did not parse".into()));
    }
    let start = Instant::now();
    let outcome =
        ledger.net("BENCH", date, &parsed, Mode::Centre, None, Timestamp::EPOCH).map_err(crate::refused_as_bug(""))?;
    let elapsed = start.elapsed();
    drop(ledger);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(NetFigures {
        entities,
        invoices,
        settlements: outcome.run.result.settlements.len(),
        parse_seconds: parse_elapsed.as_secs_f64(),
        net_and_settle_seconds: elapsed.as_secs_f64(),
    })
}

/// Bank-feed reconciliation at scale: `lines` receipts and payments over 20
/// days on the example group's bank accounts (durably posted), the banks'
/// statements generated from them (MT940 for some accounts, camt.053 for
/// others; a fifth of the lines without any reference and a tenth booked a
/// day late, so that the amount-and-date rule works too), then: parsing
/// speed of each format, the import (one durable commit) and the
/// reconciliation of every line against every posting.
pub fn recon_figures(lines: usize, batch: usize, keep: Option<&Path>) -> Result<ReconFigures, SimError> {
    use cashpool_ledger::bank::StatementFormat;
    use cashpool_recon::generate::StatementGenerator;
    let dir = std::env::temp_dir().join(format!("cashpool-bench-recon-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let storage = SledStorage::open(&dir).map_err(env_error)?;
    let ledger = crate::example_ledger(Box::new(storage), Timestamp::EPOCH)?;
    let accounts = [
        ("SZ-OPS", "EXT-ONSHORE", "CNY"),
        ("SH-DMA", "EXT-ONSHORE", "USD"),
        ("HK-OPS", "EXT-OFFSHORE", "HKD"),
        ("SG-OPS", "EXT-OFFSHORE", "SGD"),
        ("DE-OPS", "EXT-OFFSHORE", "EUR"),
        ("JP-OPS", "EXT-OFFSHORE", "JPY"),
    ];
    let start_date = NaiveDate::from_ymd_opt(2026, 11, 2).expect("valid date");
    let days = crate::business_days(start_date, 20);
    let mut rng = SplitMix64::new(6);
    let per_day = lines.div_ceil(days.len());
    let mut posted = 0usize;
    let post_start = Instant::now();
    for &date in &days {
        let mut day = Vec::new();
        while day.len() < per_day && posted + day.len() < lines {
            let idx = posted + day.len();
            let (account, outside, ccy) = accounts[idx % accounts.len()];
            let minor = if ccy == "JPY" { 0 } else { 2 };
            // Receipts are larger than payments, so no account goes below zero.
            let units = i64::try_from(rng.below(900_000)).unwrap_or(0) + 1_000;
            let (from, to, amount) = if (idx / accounts.len()) % 3 == 2 {
                (account, outside, Decimal::new(units, minor))
            } else {
                (outside, account, Decimal::new(units * 3, minor))
            };
            day.push(TransactionRequest::transfer(
                format!("R{idx:08}"),
                date,
                from,
                to,
                ccy,
                amount,
                Purpose::CurrentAccount,
                format!("REF{idx:08}"),
                "",
            ));
        }
        for chunk in day.chunks(batch.max(1)) {
            let outcome = ledger.post_batch(chunk, BatchMode::Atomic, "bench", Timestamp::EPOCH)?;
            if let Some(rejected) = outcome.rejected.first() {
                return Err(SimError::Integrity(format!("a bench transaction was rejected: {}", rejected.rejection)));
            }
        }
        posted += day.len();
    }
    let post_elapsed = post_start.elapsed();
    let mut generator = StatementGenerator::new();
    for item in ledger.entries(1) {
        generator.push(&item?.0);
    }
    let format_of = |account: &str| match account {
        "SG-OPS" | "DE-OPS" | "JP-OPS" => StatementFormat::Camt053,
        _ => StatementFormat::Mt940,
    };
    let mut statements = Vec::new();
    for &date in &days {
        statements.extend(generator.statements_for(date, format_of));
    }
    // A fifth of the lines lose every reference; a tenth are also booked a day late.
    let mut k = 0usize;
    for statement in &mut statements {
        for line in &mut statement.lines {
            k += 1;
            if k.is_multiple_of(5) {
                line.owner_reference = None;
                line.end_to_end_id = None;
                if k.is_multiple_of(10) {
                    line.value_date = line.value_date.and_then(|d| d.succ_opt());
                }
            }
        }
    }
    let n_lines: usize = statements.iter().map(|s| s.lines.len()).sum();
    // The same statements in each format, to time the parsers on one file each.
    let mt940 = cashpool_recon::mt940::write(&statements);
    let camt = cashpool_recon::camt::write_camt053(&statements, start_date);
    let time_parse = |bytes: &[u8]| -> Result<(f64, usize), SimError> {
        let mut best = f64::MAX;
        let mut read = 0;
        for _ in 0..3 {
            let start = Instant::now();
            let parsed =
                cashpool_recon::parse(bytes).ok_or_else(|| SimError::Integrity("format not detected".into()))?;
            best = best.min(start.elapsed().as_secs_f64());
            read = parsed.statements.iter().map(|s| s.lines.len()).sum();
        }
        Ok((best, read))
    };
    if let Some(keep) = keep {
        std::fs::create_dir_all(keep).map_err(env_error)?;
        std::fs::write(keep.join("bench-statements.sta"), &mt940).map_err(env_error)?;
        std::fs::write(keep.join("bench-statements.xml"), &camt).map_err(env_error)?;
    }
    let (mt940_seconds, mt940_lines) = time_parse(mt940.as_bytes())?;
    let (camt_seconds, camt_lines) = time_parse(camt.as_bytes())?;
    if mt940_lines != n_lines || camt_lines != n_lines {
        return Err(SimError::Integrity(format!(
            "the bench statements did not read back: {n_lines} lines written, MT940 {mt940_lines}, camt {camt_lines}"
        )));
    }
    // What the banks really sent: each account in its own format.
    let mut files = Vec::new();
    for statement in statements {
        files.push(("bench".to_string(), statement));
    }
    let start = Instant::now();
    ledger.import_statements(files, Timestamp::EPOCH).map_err(crate::refused_as_bug(""))?;
    let import_elapsed = start.elapsed();
    let start = Instant::now();
    let report = crate::reconcile(&ledger, cashpool_recon::ReconOptions::default())?;
    let recon_elapsed = start.elapsed();
    drop(ledger);
    let _ = std::fs::remove_dir_all(&dir);
    let hard = recon_hard_case(20_000)?;
    let mb = |bytes: usize, seconds: f64| (bytes as f64 / 1e6 / seconds * 10.0).round() / 10.0;
    let rules = |rule: &str| report.matches.iter().filter(|m| m.rule == rule).count();
    Ok(ReconFigures {
        ledger_postings: posted,
        post_seconds: post_elapsed.as_secs_f64(),
        statement_lines: n_lines,
        mt940_bytes: mt940.len(),
        mt940_parse_seconds: mt940_seconds,
        mt940_mb_per_second: mb(mt940.len(), mt940_seconds),
        camt053_bytes: camt.len(),
        camt053_parse_seconds: camt_seconds,
        camt053_mb_per_second: mb(camt.len(), camt_seconds),
        import_seconds: import_elapsed.as_secs_f64(),
        reconcile_seconds: recon_elapsed.as_secs_f64(),
        matched: report.matched,
        matched_by_reference: rules("reference"),
        matched_by_amount_date: rules("amount_date"),
        exceptions: report.exceptions.len(),
        breaks: report.breaks.len(),
        match_rate: report.match_rate,
        hard_case: hard,
    })
}

/// The matcher's worst inputs, to show that no pass is quadratic: `n`
/// receipts of one amount on one day with no reference on either side, the
/// bank showing them all, plus `n` bank lines that match nothing (so the
/// grouped search and the near-miss search run for each), in memory.
fn recon_hard_case(n: usize) -> Result<HardCaseFigures, SimError> {
    use cashpool_ledger::bank::{BankBalance, BankLine, BankStatement, StatementFormat};
    let ledger = crate::example_ledger(Box::new(MemoryStorage::new()), Timestamp::EPOCH)?;
    let date = NaiveDate::from_ymd_opt(2026, 11, 2).expect("valid date");
    let amount = Decimal::new(10_000, 2);
    let receipts: Vec<TransactionRequest> = (0..n)
        .map(|idx| {
            TransactionRequest::transfer(
                format!("H{idx:07}"),
                date,
                "EXT-ONSHORE",
                "SZ-OPS",
                "CNY",
                amount,
                Purpose::CurrentAccount,
                "",
                "",
            )
        })
        .collect();
    for chunk in receipts.chunks(8_000) {
        ledger.post_batch(chunk, BatchMode::Atomic, "bench", Timestamp::EPOCH)?;
    }
    let line = |amount: Decimal| BankLine {
        source_line: 1,
        booking_date: Some(date),
        value_date: Some(date),
        amount,
        currency: "CNY".into(),
        reversal: false,
        end_to_end_id: None,
        uetr: None,
        owner_reference: None,
        bank_reference: None,
        type_code: "NTRF".into(),
        narrative: String::new(),
    };
    let mut lines: Vec<BankLine> = (0..n).map(|_| line(amount)).collect();
    lines.extend((0..n).map(|idx| line(Decimal::new(i64::try_from(idx).unwrap_or(0) * 7 + 1_000_003, 2))));
    let total: Decimal = lines.iter().map(|l| l.amount).sum();
    let balance = |amount| Some(BankBalance { date: Some(date), currency: "CNY".into(), amount });
    let statement = BankStatement {
        format: StatementFormat::Mt940,
        statement_id: "HARD".into(),
        sequence: Some("1".into()),
        account_id: "32000077770001".into(),
        bic: None,
        currency: "CNY".into(),
        opening: balance(Decimal::ZERO),
        closing: balance(total),
        closing_available: None,
        date: Some(date),
        lines,
    };
    ledger.import_statements(vec![("hard".into(), statement)], Timestamp::EPOCH).map_err(crate::refused_as_bug(""))?;
    let start = Instant::now();
    let report = crate::reconcile(&ledger, cashpool_recon::ReconOptions::default())?;
    let elapsed = start.elapsed();
    Ok(HardCaseFigures {
        identical_postings: n,
        lines: report.lines,
        matched: report.matched,
        exceptions: report.exceptions.len(),
        reconcile_seconds: elapsed.as_secs_f64(),
    })
}

/// The size of a bench run (`cashpool bench --n --members --batch --clients`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Transactions to post.
    pub n: u64,
    /// Member accounts of the sweep bench.
    pub members: usize,
    /// Transactions per batch.
    pub batch: usize,
    /// Threads posting at once.
    pub clients: usize,
}

/// A store that counts its commits: each is one durable journal write (one
/// `fdatasync`), so transactions per commit shows how group commit gathers
/// concurrent posters.
struct CountingStorage {
    inner: SledStorage,
    commits: Arc<AtomicU64>,
}

impl Storage for CountingStorage {
    fn blocks(&self, from_seq: u64) -> BlockIter<'_> {
        self.inner.blocks(from_seq)
    }

    fn commit(&self, commit: &Commit) -> Result<(), StorageError> {
        self.inner.commit(commit)?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn checkpoint(&self) -> Result<Checkpoint, StorageError> {
        self.inner.checkpoint()
    }

    fn write_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StorageError> {
        self.inner.write_checkpoint(checkpoint)
    }

    fn is_empty(&self) -> Result<bool, StorageError> {
        self.inner.is_empty()
    }
    fn index_write(&self, name: &str, fill: &mut IndexFill<'_>) -> Result<(), StorageError> {
        self.inner.index_write(name, fill)
    }

    fn index_read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<(), StorageError> {
        self.inner.index_read_at(name, offset, buf)
    }

    fn index_read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.index_read(name)
    }

    fn index_remove(&self, name: &str) -> Result<(), StorageError> {
        self.inner.index_remove(name)
    }

    fn index_names(&self) -> Result<Vec<String>, StorageError> {
        self.inner.index_names()
    }
}

/// Posts `n` transfers durably from `clients` threads at once, each its share
/// in batches of `batch`, onto the same two accounts; returns the number posted.
fn post_concurrently(ledger: &Ledger, n: u64, batch: usize, clients: usize) -> Result<u64, SimError> {
    let share = n.div_ceil(clients as u64);
    std::thread::scope(|scope| {
        let posters: Vec<_> = (0..clients as u64)
            .map(|client| {
                scope.spawn(move || -> Result<u64, SimError> {
                    let (first, end) = ((client * share).min(n), ((client + 1) * share).min(n));
                    let mut rng = SplitMix64::new(1 + client);
                    let mut next = first;
                    while next < end {
                        let size = (end - next).min(batch as u64);
                        let txs = transfers(next, size, &mut rng);
                        let outcome = ledger.post_batch(&txs, BatchMode::Atomic, "bench", Timestamp::EPOCH)?;
                        if let Some(rejected) = outcome.rejected.first() {
                            return Err(SimError::Integrity(format!(
                                "a bench transaction was rejected: {}",
                                rejected.rejection
                            )));
                        }
                        next += size;
                    }
                    Ok(end - first)
                })
            })
            .collect();
        posters
            .into_iter()
            .map(|poster| poster.join().unwrap_or_else(|_| Err(SimError::Integrity("a bench poster panicked".into()))))
            .sum()
    })
}

/// Creates a store of the example group in `dir` (which must not hold one)
/// and posts `shape.n` transfers durably from `shape.clients` threads in
/// batches of `shape.batch`. With `measure`, returns the figures of that
/// posting, of in-memory posting (local receipts against cross-border pool
/// movements) and of 100 single transactions against the disk's fsync
/// latency; without, only builds the store (for [`replay_figures`]).
pub fn post_figures(dir: &Path, shape: &Shape, measure: bool) -> Result<Option<PostRun>, SimError> {
    let Shape { n, batch, clients, .. } = *shape;
    assert!(n > 0 && batch > 0 && clients > 0, "a bench shape is positive");
    let commits = Arc::new(AtomicU64::new(0));
    let storage = CountingStorage { inner: SledStorage::open(dir).map_err(env_error)?, commits: Arc::clone(&commits) };
    let ledger = crate::example_ledger(Box::new(storage), Timestamp::EPOCH)?;
    // As the CLI posts: the indexes' runs are written on the other core.
    ledger.set_background_flush(true);
    let mut rng = SplitMix64::new(1);

    // Durable posting in batches, from one thread or several at once.
    let commits_before = commits.load(Ordering::Relaxed);
    let start = Instant::now();
    let posted = post_concurrently(&ledger, n, batch, clients)?;
    let elapsed = start.elapsed();
    let n_commits = commits.load(Ordering::Relaxed) - commits_before;
    if !measure {
        return Ok(None);
    }
    let post = PostFigures {
        transactions: posted,
        batch,
        clients,
        seconds: elapsed.as_secs_f64(),
        transactions_per_second: (posted as f64 / elapsed.as_secs_f64()).round(),
        commits: n_commits,
        transactions_per_commit: (posted as f64 / n_commits.max(1) as f64 * 10.0).round() / 10.0,
    };
    // The CPU cost of the pool rules: in memory, local receipts against cross-border pool movements.
    let local = memory_throughput(n.min(200_000), batch, transfers)?;
    let pool = memory_throughput(n.min(200_000), batch, pool_movements)?;
    let memory = MemoryFigures {
        transactions: n.min(200_000),
        current_account_per_second: local,
        cross_border_pool_funding_per_second: pool,
        pool_rules_cost_percent: ((1.0 - pool / local) * 1000.0).round() / 10.0,
    };
    // Single transactions: latency against the disk's fsync latency.
    let mut samples = Vec::new();
    for idx in 0..100 {
        let tx = transfers(n + idx, 1, &mut rng);
        let start = Instant::now();
        ledger.post_batch(&tx, BatchMode::Atomic, "bench", Timestamp::EPOCH)?;
        samples.push(start.elapsed());
    }
    let single = median(samples);
    let fsync = fsync_latency(dir)?;
    let single = SingleFigures {
        median_microseconds: single.as_micros(),
        fsync_median_microseconds: fsync.as_micros(),
        fsyncs_per_acknowledgement: (single.as_secs_f64() / fsync.as_secs_f64() * 100.0).round() / 100.0,
    };
    Ok(Some(PostRun { post, memory, single }))
}
