//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// cashpool: a unified multi-currency cash pool ledger (RMB and foreign
/// currencies, onshore, FT and offshore accounts) with a durable,
/// hash-chained journal that regulators can verify and replay.
#[derive(Debug, Parser)]
#[command(name = "cashpool", version, about, long_about = None)]
#[command(
    after_help = "Examples:\n  cashpool demo\n  cashpool init --config examples/lingang-group.toml\n  cashpool post transactions.csv\n  cashpool balances --as-of 2026-11-30\n  cashpool audit verify"
)]
pub struct Cli {
    /// The store folder [default: $CASHPOOL_DATA, else ./cashpool-data]
    #[arg(long, global = true, env = "CASHPOOL_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Open the store so that nothing can change it; writing commands fail with exit code 2. (Reading commands
    /// never lock the store: they read its journal as it stands, with or without this flag.)
    #[arg(long, global = true)]
    pub read_only: bool,

    /// How long a writing command (and `audit verify/replay --exclusive`) waits for a store that another writer
    /// holds, then exits 1 naming it [default: $CASHPOOL_WAIT, else 10]
    #[arg(long, global = true, env = "CASHPOOL_WAIT", value_name = "SECONDS", default_value = "10", value_parser = parse_wait)]
    pub wait: std::time::Duration,

    #[command(subcommand)]
    pub command: Command,
}

/// `--wait SECONDS`: a non-negative number of seconds (`10`, `0.5`, `0`: do not wait), at most a day.
fn parse_wait(text: &str) -> Result<std::time::Duration, String> {
    let seconds: f64 = text.trim().parse().map_err(|_| format!("{text:?} is not a number of seconds (10, 0.5)"))?;
    if !(0.0..=86_400.0).contains(&seconds) {
        return Err(format!("{text:?}: give from 0 to 86400 seconds"));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// How data is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// The output format option shared by every printing command.
#[derive(Debug, Clone, Args)]
pub struct FormatArg {
    /// Output format [default: table on a terminal, json otherwise]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a store from a group definition (refuses to overwrite a store).
    #[command(after_help = "Example:\n  cashpool --data ./pool init --config examples/lingang-group.toml")]
    Init {
        /// The group definition (TOML).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Run the demo: a month of the example group on a fresh store, then a summary.
    #[command(after_help = "Example:\n  cashpool demo --days 20 --seed 7")]
    Demo {
        /// Business days to simulate.
        #[arg(long, default_value_t = 20)]
        days: u32,
        /// Seed of the generated activity (same seed, same journal).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Post transactions from CSV or JSON Lines; a file is atomic unless --partial.
    #[command(
        after_help = "Examples:\n  cashpool post transactions.csv\n  cashpool post fx.jsonl --partial\n  cashpool post data.txt --format jsonl"
    )]
    Post {
        /// The file (format from the extension .csv / .jsonl, or --format).
        file: PathBuf,
        /// Input format when the extension does not say.
        #[arg(long, value_enum)]
        format: Option<InputFormat>,
        /// Post the good rows and report the bad ones instead of rejecting the file.
        #[arg(long)]
        partial: bool,
        /// Who posts (recorded in the journal) [default: $CASHPOOL_OPERATOR, else $USER].
        #[arg(long)]
        operator: Option<String>,
        /// Report format [default: table on a terminal, json otherwise].
        #[arg(long, value_enum)]
        report: Option<Format>,
    },
    /// Value-dated balances of every account and currency, and the own accounts' totals in the base currency.
    #[command(
        after_help = "Examples:\n  cashpool balances\n  cashpool balances --as-of 2026-11-15 --account SH-DMA --currency USD --format json"
    )]
    Balances {
        /// Balances at the end of this value date, totals at its rates (default: all postings, today's rates).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        #[arg(long, value_name = "ID")]
        account: Option<String>,
        #[arg(long, value_name = "CCY")]
        currency: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// The postings of one account with running balance, a page at a time with --limit.
    #[command(
        after_help = "Examples:\n  cashpool statement --account HK-OPS --from 2026-11-01 --to 2026-11-30\n  cashpool statement --account HK-OPS --currency USD --limit 100\n  cashpool statement --account HK-OPS --currency USD --limit 100 --after 2026-11-02.1234.0"
    )]
    Statement {
        #[arg(long, value_name = "ID")]
        account: String,
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        #[arg(long, value_name = "CCY")]
        currency: Option<String>,
        /// At most N lines; the output then says where the next page starts (`next`).
        #[arg(long, value_name = "N")]
        limit: Option<String>,
        /// Start after this line: the `next` of the previous page (DATE.SEQ.POSTING).
        #[arg(long, value_name = "CURSOR")]
        after: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Run the sweep rules for a value date (concentration and funding).
    #[command(
        after_help = "Examples:\n  cashpool sweep --date 2026-11-02 --dry-run\n  cashpool sweep --date 2026-11-02"
    )]
    Sweep {
        #[arg(long, value_name = "DATE")]
        date: String,
        /// Show exactly what a real run would do, write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Amend the group definition from a date on: a TOML fragment in the definition's schema (docs/AMENDMENTS.md).
    #[command(
        after_help = "Examples:\n  cashpool amend join-lgt-de.toml --effective 2027-01-01\n  cashpool amend close-ftz-fte.toml --effective 2026-12-15 --format json"
    )]
    Amend {
        /// The amendment (TOML): entities and accounts added or closed, sweep rules, interest rates, tax rates, net assets, thresholds.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The first value date the amended definition governs (after every date already booked).
        #[arg(long, value_name = "DATE")]
        effective: String,
        #[command(flatten)]
        format: FormatArg,
    },
    /// The accounts, their status on a date and the dates they opened and closed; the definition's amendments.
    #[command(after_help = "Examples:\n  cashpool accounts\n  cashpool accounts --as-of 2026-12-31 --format json")]
    Accounts {
        /// Status at this value date (default: today).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Each member's intercompany position with the pool, per currency (positive: the member lent), and their net in the base currency.
    #[command(after_help = "Example:\n  cashpool positions --as-of 2026-11-30")]
    Positions {
        /// Positions at the end of this value date, their net at its onshore rates (default: all postings, today's rates).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Accrue intercompany interest over [from, to), and settle it with --settle.
    #[command(
        after_help = "Examples:\n  cashpool interest --from 2026-11-01 --to 2026-12-01\n  cashpool interest --from 2026-11-01 --to 2026-12-01 --settle"
    )]
    Interest {
        #[arg(long, value_name = "DATE")]
        from: String,
        /// Exclusive.
        #[arg(long, value_name = "DATE")]
        to: String,
        /// Post the interest (journaled; settling the same period again posts nothing).
        #[arg(long)]
        settle: bool,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Run a multilateral netting cycle over intercompany invoices and post its settlements.
    #[command(
        after_help = "Examples:\n  cashpool net --invoices invoices.csv --date 2026-11-30\n  cashpool net --invoices invoices.csv --date 2026-11-30 --mode direct --cycle 2026-11"
    )]
    Net {
        /// CSV `id,payer,payee,currency,amount,due_date,purpose`.
        #[arg(long, value_name = "FILE")]
        invoices: PathBuf,
        /// The cycle date: invoices due on or before it net, at its rates.
        #[arg(long, value_name = "DATE")]
        date: String,
        #[arg(long, value_enum, default_value_t = NetMode::Centre)]
        mode: NetMode,
        /// The cycle id (default: the cycle date); a cycle id posts once.
        #[arg(long, value_name = "ID")]
        cycle: Option<String>,
        /// Net only invoices due on or after this date (default: every invoice due on or before --date).
        #[arg(long, value_name = "DATE")]
        window_from: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Import FX rates.
    Rates {
        #[command(subcommand)]
        command: RatesCommand,
    },
    /// Benchmark fixings (LPR, SHIBOR, SOFR, HIBOR, €STR …) that interest rules price on; `benchmarks import` loads them.
    #[command(args_conflicts_with_subcommands = true)]
    #[command(
        after_help = "Examples:\n  cashpool benchmarks import examples/benchmarks-2026.csv\n  cashpool benchmarks --series SOFR --from 2025-11-01 --to 2025-11-30"
    )]
    Benchmarks {
        /// Only this series (`LPR-1Y`, `SOFR` …).
        #[arg(long, value_name = "SERIES")]
        series: Option<String>,
        /// Only fixings dated on or after this date.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Only fixings dated on or before this date.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        #[command(flatten)]
        format: FormatArg,
        #[command(subcommand)]
        command: Option<BenchmarksCommand>,
    },
    /// The business-day calendars held (one calendar, a range of dates, or all); `calendars import` adds days.
    #[command(args_conflicts_with_subcommands = true)]
    #[command(
        after_help = "Examples:\n  cashpool calendars --calendar CN --from 2026-09-01 --to 2026-10-31\n  cashpool calendars --format csv > calendars.csv      # the import format\n  cashpool calendars import examples/calendars-2026.csv"
    )]
    Calendars {
        /// Only this calendar (CN, HK, US, TARGET, JP, SG …).
        #[arg(long, value_name = "ID")]
        calendar: Option<String>,
        /// Days on or after this date.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Days on or before this date.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        #[command(flatten)]
        format: FormatArg,
        #[command(subcommand)]
        command: Option<CalendarsCommand>,
    },
    /// Cross-border cap use and headroom, entities' foreign debt; `limits set` adds dated parameters.
    #[command(args_conflicts_with_subcommands = true)]
    #[command(
        after_help = "Examples:\n  cashpool limits --as-of 2026-11-30\n  cashpool limits set --effective 2026-12-01 --macro-prudential 1.5"
    )]
    Limits {
        /// Use and caps at the end of this value date (default: all movements, latest parameters).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        #[command(flatten)]
        format: FormatArg,
        #[command(subcommand)]
        command: Option<LimitsCommand>,
    },
    /// The pool's eligibility.
    Pool {
        #[command(subcommand)]
        command: PoolCommand,
    },
    /// Write one self-contained HTML page: balances and positions over time, cap use, reconciliation.
    #[command(
        after_help = "Examples:\n  cashpool report --html pool.html\n  cashpool --read-only report --html /tmp/pool.html"
    )]
    Report {
        /// The page to write (overwritten).
        #[arg(long, value_name = "FILE")]
        html: PathBuf,
    },
    /// Bank statements: import (MT940/MT942, camt.052/053/054, BAI2), reconcile, adopt bank-initiated lines.
    Recon {
        #[command(subcommand)]
        command: ReconCommand,
    },
    /// Verify, replay and export the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Re-measure the published performance figures (docs/PERFORMANCE.md).
    #[command(
        after_help = "Examples:\n  cashpool bench post\n  cashpool bench post --clients 8 --batch 1 --n 20000\n  cashpool bench all --json\n  cashpool bench scale --n 1000000 --json          # about a minute; not part of `bench all`\n  cashpool bench scale --n 100000 --keep-store /tmp/grown"
    )]
    Bench {
        #[arg(value_enum, default_value_t = BenchWhat::All)]
        what: BenchWhat,
        /// Transactions to post.
        #[arg(long, default_value_t = 400_000)]
        n: u64,
        /// Member accounts of the sweep bench (5 currencies each).
        #[arg(long, default_value_t = 10_000)]
        members: usize,
        /// Transactions per batch [default: 8000; 8189 for scale].
        #[arg(long)]
        batch: Option<usize>,
        /// Threads posting at once to the same accounts, each its share of
        /// --n in batches of --batch (`--clients 8 --batch 1`: eight
        /// one-at-a-time posters, the counterpart of a database's client connections).
        #[arg(long, default_value_t = 1)]
        clients: usize,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
        /// Replay this existing store instead of building one (used by the
        /// bench itself to measure replay memory in a fresh process).
        #[arg(long, hide = true, value_name = "DIR")]
        store: Option<PathBuf>,
        /// scale: grow the store in this folder (absent or empty) and keep it
        /// afterwards, instead of in a temporary folder removed at the end.
        #[arg(long, value_name = "DIR")]
        keep_store: Option<PathBuf>,
        /// Keep the recon bench's statement files (bench-statements.sta, bench-statements.xml)
        /// in this folder, to time other parsers on the same bytes (scripts/compare-mt940.sh).
        #[arg(long, value_name = "DIR")]
        keep_files: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NetMode {
    /// Every member pays the netting centre or is paid by it.
    Centre,
    /// Members pay each other: exact pairs first, then largest payer to largest receiver.
    Direct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Csv,
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One journal entry a line, with its hash: what `audit verify --journal` reads.
    Jsonl,
    /// A plain-text hledger journal: `hledger -f FILE balance` gives the balances of `cashpool balances`.
    Hledger,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchWhat {
    Post,
    Replay,
    /// A sweep over many members and currencies, then interest on their positions.
    Sweep,
    /// A netting cycle of 100,000 invoices among 1,000 entities, netted and settled.
    Net,
    /// 100,000 statement lines (MT940 and camt.053) parsed, imported and reconciled against 100,000 postings.
    Recon,
    /// One store grown to --n transactions in batches of --batch; at 10,000, 1,000,000, 10,000,000 and --n,
    /// `balances`, `statement`, a one-row `post` and a duplicate `post`, each timed 3 times in a fresh
    /// process with its peak memory. About 15 s to 1,000,000 and 3–4 min to 10,000,000 on a 2-core machine: not part of `all`.
    Scale,
    /// post, replay, sweep, net and recon (not scale).
    All,
}

#[derive(Debug, Subcommand)]
pub enum RatesCommand {
    /// Load FX rates from a CSV `date,currency,market,rate` (atomic; rows already imported are skipped).
    #[command(after_help = "Example:\n  cashpool rates import rates.csv")]
    Import {
        file: PathBuf,
        #[command(flatten)]
        format: FormatArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchmarksCommand {
    /// Load benchmark fixings from a CSV `date,series,rate_percent`, percent per annum (atomic; fixings already imported are skipped).
    #[command(after_help = "Example:\n  cashpool benchmarks import examples/benchmarks-2026.csv")]
    Import {
        file: PathBuf,
        #[command(flatten)]
        format: FormatArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarsCommand {
    /// Load business-day calendars from a CSV `calendar,date,kind[,name]` (atomic; days already held are
    /// skipped; a day held otherwise is refused unless --correct).
    #[command(
        after_help = "The file: lines beginning with # are comments, then the header calendar,date,kind,name and one day a row:\n  \
                      kind  holiday (closed that day) | working (open: a Saturday or Sunday worked, 调休)\n\
                      Saturdays and Sundays are closed and other days open unless a row says otherwise.\n\n\
                      Examples:\n  cashpool calendars import examples/calendars-2026.csv\n  cashpool calendars import hk-2026-amended.csv --correct"
    )]
    Import {
        file: PathBuf,
        /// Change days already held to what the file says (a holiday added, moved or withdrawn by notice),
        /// journaled as a dated correction.
        #[arg(long)]
        correct: bool,
        #[command(flatten)]
        format: FormatArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum LimitsCommand {
    /// Add a dated row of regulatory parameters (journaled). The pool's four
    /// parameters go together; the macro-prudential parameter may go alone.
    #[command(
        after_help = "Examples:\n  cashpool limits set --effective 2026-12-01 --owners-equity 50000000.00 --inflow-leverage 2 --inflow-parameter 1.25 --outflow-coefficient 0.5\n  cashpool limits set --effective 2026-12-01 --macro-prudential 1.5"
    )]
    Set {
        #[arg(long, value_name = "DATE")]
        effective: String,
        /// Pool owners' equity, in the base currency.
        #[arg(long, value_name = "AMOUNT")]
        owners_equity: Option<String>,
        #[arg(long, value_name = "DECIMAL")]
        inflow_leverage: Option<String>,
        #[arg(long, value_name = "DECIMAL")]
        inflow_parameter: Option<String>,
        #[arg(long, value_name = "DECIMAL")]
        outflow_coefficient: Option<String>,
        /// The macro-prudential parameter of entities' foreign-debt caps.
        #[arg(long, value_name = "DECIMAL")]
        macro_prudential: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum PoolCommand {
    /// Check the pool's eligibility criteria against members' previous-year figures.
    #[command(
        after_help = "The figures CSV: entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date\n\
                      then, optionally, member_type,trade_rating (either order):\n  \
                      member_type   enterprise | finance_company (only as the host) | financial_institution | lgfv | real_estate\n  \
                      trade_rating  A | B | C (SAFE's goods-trade classification), empty when not on SAFE's goods-trade list\n\
                      Without one of these columns its criterion (member_type, trade_rating_a) is reported `not checked`:\n\
                      the pool is not shown eligible (NOT CONFIRMED when nothing else fails). Exit code 0 either way.\n\n\
                      Example:\n  cashpool pool check --figures figures.csv --as-of 2026-01-15"
    )]
    Check {
        /// CSV `entity,residence,cross_border_receipts,cross_border_payments,revenue,major_violation_date`,
        /// optionally followed by `member_type,trade_rating` (see below).
        #[arg(long, value_name = "FILE")]
        figures: PathBuf,
        /// The check date (default: today, or the date of CASHPOOL_NOW).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
}

/// The matching knob shared by the recon commands.
#[derive(Debug, Clone, Args)]
pub struct ToleranceArg {
    /// Days a bank line's value date may differ from the ledger's for an amount match.
    #[arg(long, value_name = "DAYS", default_value_t = 2)]
    pub date_tolerance: u32,
}

#[derive(Debug, Subcommand)]
pub enum ReconCommand {
    /// Import statements (format detected from the content), journal them and reconcile.
    #[command(
        after_help = "Examples:\n  cashpool recon import statements/*.sta statements/*.xml\n  cashpool recon import bank.bai --format json"
    )]
    Import {
        /// Statement files: MT940, MT942, camt.052/053/054 (.001.02-.13), BAI2.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        tolerance: ToleranceArg,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Matches, exceptions with reason codes, continuity breaks and balance checks.
    #[command(
        after_help = "Examples:\n  cashpool recon report\n  cashpool recon report --format json --date-tolerance 3\n  cashpool recon report --journal journal.jsonl   # from an export, no store"
    )]
    Report {
        /// Reconcile from an exported JSON Lines journal instead of the store.
        #[arg(long, value_name = "FILE")]
        journal: Option<PathBuf>,
        #[command(flatten)]
        tolerance: ToleranceArg,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Post bank-initiated lines (charges, bank interest) that the ledger did not know.
    #[command(after_help = "Examples:\n  cashpool recon adopt S31-L4\n  cashpool recon adopt --all-charges")]
    Adopt {
        /// Exception ids of `bank_initiated` lines (`S<entry>-L<line>`, as `recon report` shows).
        #[arg(value_name = "ID", required_unless_present = "all_charges")]
        ids: Vec<String>,
        /// Adopt every open bank charge (not bank interest).
        #[arg(long)]
        all_charges: bool,
        /// Who posts (recorded in the journal) [default: $CASHPOOL_OPERATOR, else $USER].
        #[arg(long)]
        operator: Option<String>,
        #[command(flatten)]
        tolerance: ToleranceArg,
        #[command(flatten)]
        format: FormatArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and every rule; with --exclusive, every stored balance too (exit 3 if wrong).
    #[command(
        after_help = "Examples:\n  cashpool audit verify\n  cashpool audit verify --exclusive\n  cashpool audit verify --journal journal.jsonl"
    )]
    Verify {
        /// Verify an exported JSON Lines journal alone, without a store.
        #[arg(long, value_name = "FILE")]
        journal: Option<PathBuf>,
        /// Also compare the store's stored balances (its checkpoint) with the journal: takes the store's
        /// writer lock, so it waits for a writer (--wait) and writers wait for it.
        #[arg(long, conflicts_with = "journal")]
        exclusive: bool,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Rebuild the whole state from the journal alone and print its digest.
    #[command(
        after_help = "Examples:\n  cashpool audit replay\n  cashpool audit replay --exclusive\n  cashpool audit replay --journal journal.jsonl --to 120"
    )]
    Replay {
        /// Replay entries up to this sequence number.
        #[arg(long, value_name = "SEQ")]
        to: Option<u64>,
        /// Replay an exported JSON Lines journal alone, without a store.
        #[arg(long, value_name = "FILE")]
        journal: Option<PathBuf>,
        /// Also compare the store's stored balances and head with the replay (`matches_store`): takes the
        /// store's writer lock, so it waits for a writer (--wait) and writers wait for it.
        #[arg(long, conflicts_with = "journal")]
        exclusive: bool,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Export the journal: JSON Lines for verification and replay, or an hledger journal.
    #[command(
        after_help = "Examples:\n  cashpool audit export --format jsonl --output journal.jsonl\n  cashpool audit export --format hledger --output pool.journal\n  cashpool audit export --format hledger --from 2026-11-01 --to 2026-11-30"
    )]
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        /// Write here instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// hledger only: transactions value-dated from this date, with the balances before it as an opening entry.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// hledger only: transactions value-dated up to this date.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
    },
}
