//! The journal as a plain-text [hledger](https://hledger.org) journal, so that
//! `hledger balance` on the export gives the balances `cashpool balances` gives,
//! per account and currency (docs/HLEDGER.md).
//!
//! The export reads the store twice, through the core's public API only, and
//! keeps no per-entry state:
//!
//! 1. It reads the whole journal as `audit replay` does
//!    ([`cashpool_ledger::audit::read_storage`]: each entry decoded, its place
//!    in the hash chain checked, every ledger rule applied), and keeps what the
//!    file declares: the accounts opened, in order, and per account the
//!    currencies it was ever posted in, with the sum of its postings
//!    value-dated before `from` (the opening balances). It also counts, per
//!    value date, the transactions the export will write.
//! 2. It writes the header (what the file is, `commodity` and `account`
//!    declarations), the opening balances when `from` is given, then reads the
//!    journal again, checking the chain again up to the head of step 1, and
//!    writes each transaction in the range, ordered by value date then sequence
//!    number. A transaction is written as soon as every transaction of an
//!    earlier value date is written; only those that arrive ahead of an
//!    earlier-dated one wait in memory (none when value dates never go back).
//!
//! Only transactions become hledger transactions: the other entries (group
//! definition, accounts opened, rates, limits, the reports of sweeps, interest
//! and netting runs, bank statements) move no balance; the header counts them
//! and the `account` declarations come from the accounts opened.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use cashpool_ledger::audit::{read_storage, AuditError, IntegrityError, StoredJournal};
use cashpool_ledger::journal::{block_entries, ChainCursor, Entry, EntryBody, PostedTransaction};
use cashpool_ledger::model::AccountSpec;
use cashpool_ledger::money::{format_amount, Currency};
use cashpool_ledger::storage::Storage;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Writes the store's whole journal as a plain-text hledger journal; returns the number of entries read.
pub fn export_hledger(storage: &dyn Storage, out: &mut dyn Write) -> Result<u64, AuditError> {
    export_hledger_range(storage, None, None, out)
}

/// Writes the transactions value-dated from `from` to `to` (both inclusive,
/// each optional) as a plain-text hledger journal; returns the number of
/// journal entries read (all of them: the chain is checked to its head).
///
/// With `from`, an opening transaction dated `from` carries, per account and
/// currency, the balance of everything value-dated before `from` (it sums to
/// zero per currency by itself, as every transaction does), so `hledger
/// balance` on the export equals `cashpool balances --as-of TO`.
///
/// A broken journal is an [`AuditError::Integrity`]; `from` after `to` is an
/// [`AuditError::Io`] of kind `InvalidInput`, and nothing is written.
pub fn export_hledger_range(
    storage: &dyn Storage,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    out: &mut dyn Write,
) -> Result<u64, AuditError> {
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(AuditError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the export range starts ({from}) after it ends ({to})"),
            )));
        }
    }
    let range = Range { from, to };
    let scan = scan(storage, range)?;
    write_header(out, &scan, range)?;
    if let Some(from) = from {
        write_opening(out, &scan, from)?;
    }
    write_transactions(storage, &scan, range, out)?;
    out.flush()?;
    Ok(scan.journal.entries)
}

/// The hledger account name of an account id: the id itself when it is made
/// of ASCII letters, digits, `-`, `_`, `.` and `/` only (every id of the
/// example group); otherwise every other byte is written `%XX` (upper-case
/// hex), `%` included, so the mapping is one-to-one and hledger never reads
/// a `:` as a sub-account, brackets as a virtual posting, a leading `*` or
/// `!` as a status or `;` as a comment. Transaction codes and tag values are
/// written the same way.
pub fn account_name(id: &str) -> Cow<'_, str> {
    escape(id)
}

fn escape(text: &str) -> Cow<'_, str> {
    let safe = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/');
    if text.bytes().all(safe) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for byte in text.bytes() {
        if safe(byte) {
            escaped.push(char::from(byte));
        } else {
            escaped.push_str(&format!("%{byte:02X}"));
        }
    }
    Cow::Owned(escaped)
}

/// Free text as an hledger description: control characters become spaces
/// and `;` (which would start a comment) becomes `,`.
fn description_text(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_control() {
                ' '
            } else if c == ';' {
                ','
            } else {
                c
            }
        })
        .collect();
    cleaned.trim().to_string()
}

/// An amount with exactly its currency's minor units, then the code: `-100000.00 USD`, `500 JPY`.
fn amount_text(amount: Decimal, currency: Currency) -> String {
    format!("{} {}", format_amount(amount, currency), currency.code())
}

#[derive(Debug, Clone, Copy)]
struct Range {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl Range {
    fn holds(self, date: NaiveDate) -> bool {
        self.from.is_none_or(|from| date >= from) && self.to.is_none_or(|to| date <= to)
    }
}

/// What the first pass learns.
struct Scan {
    /// The journal read: its head and its group definition.
    journal: StoredJournal,
    /// Every account opened, in opening order.
    accounts: Vec<AccountRead>,
    /// Per value date in the range, the transactions to write.
    dates: BTreeMap<NaiveDate, u64>,
    /// Entries per kind, in [`KINDS`] order, then those of any other kind.
    kinds: [u64; KINDS.len() + 1],
}

/// One account as the first pass reads it.
struct AccountRead {
    spec: AccountSpec,
    /// Every currency the account was ever posted in, with the sum of its
    /// postings value-dated before the range's `from` (zero without `from`).
    before: BTreeMap<Currency, Decimal>,
}

/// Each entry kind (docs/FORMATS.md) and its label; the counts keep one more
/// slot, for a kind this list does not name.
const KINDS: [(u8, &str); 12] = [
    (0, "group definitions"),
    (1, "accounts opened"),
    (2, "transactions"),
    (3, "rates imports"),
    (4, "limits changes"),
    (5, "sweep runs"),
    (6, "interest settlements"),
    (7, "netting cycles"),
    (8, "bank statements"),
    (9, "amendments"),
    (10, "benchmark imports"),
    (11, "calendar imports"),
];

/// The place of the entry's kind in [`KINDS`] ([`KINDS`]`.len()` for another kind).
fn kind(body: &EntryBody) -> usize {
    let code = cashpool_ledger::journal::v2::kind_of(body);
    KINDS.iter().position(|(known, _)| *known == code).unwrap_or(KINDS.len())
}

fn integrity(seq: u64, reason: impl Into<String>) -> AuditError {
    AuditError::Integrity(IntegrityError { seq, reason: reason.into() })
}

/// Pass 1: reads the journal, checking the chain and every rule, and keeps
/// the accounts, their currencies and opening balances, and the transactions to write.
fn scan(storage: &dyn Storage, range: Range) -> Result<Scan, AuditError> {
    let mut accounts: Vec<AccountRead> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut dates = BTreeMap::new();
    let mut kinds = [0; KINDS.len() + 1];
    // The first sum that left the decimal range (the rules keep every balance in it).
    let mut overflow: Option<(u64, String)> = None;
    let journal = read_storage(storage, |entry: &Entry| {
        kinds[kind(&entry.body)] += 1;
        match &entry.body {
            EntryBody::AccountOpened(spec) => {
                index.insert(spec.id.clone(), accounts.len());
                accounts.push(AccountRead { spec: spec.clone(), before: BTreeMap::new() });
            }
            EntryBody::Transaction(tx) => {
                if range.holds(tx.value_date) {
                    *dates.entry(tx.value_date).or_insert(0) += 1;
                }
                let counts = range.from.is_some_and(|from| tx.value_date < from);
                for posting in &tx.postings {
                    // The rules refuse a posting on an account never opened, so every one is found.
                    let Some(&idx) = index.get(&posting.account) else { continue };
                    let sum = accounts[idx].before.entry(posting.currency).or_insert(Decimal::ZERO);
                    if counts {
                        match sum.checked_add(posting.amount) {
                            Some(total) => *sum = total,
                            None => {
                                overflow.get_or_insert((
                                    entry.seq,
                                    format!("the balance of {} overflows", posting.account),
                                ));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    })?;
    if let Some((seq, reason)) = overflow {
        return Err(integrity(seq, reason));
    }
    debug_assert_eq!(accounts.len(), index.len(), "account ids are unique");
    Ok(Scan { journal, accounts, dates, kinds })
}

fn write_header(out: &mut dyn Write, scan: &Scan, range: Range) -> Result<(), AuditError> {
    let journal = &scan.journal;
    writeln!(out, "; cashpool journal, exported for hledger (https://hledger.org); see docs/HLEDGER.md")?;
    match &journal.config {
        Some(config) => writeln!(out, "; group: {} ({})", config.group.id, description_text(&config.group.name))?,
        None => writeln!(out, "; group: none (the journal is empty)")?,
    }
    writeln!(
        out,
        "; journal: {} entries, head {} (the hash of entry {})",
        journal.entries, journal.head, journal.entries
    )?;
    let labels = KINDS.iter().map(|(_, name)| *name).chain(["other entries"]);
    let counts: Vec<String> =
        labels.zip(scan.kinds).filter(|(_, n)| *n > 0).map(|(name, n)| format!("{name} {n}")).collect();
    if !counts.is_empty() {
        writeln!(out, ";   by kind: {}", counts.join(", "))?;
    }
    writeln!(out, ";   only transactions are written; the other entries move no balance")?;
    let written: u64 = scan.dates.values().sum();
    match (range.from, range.to) {
        (None, None) => writeln!(out, "; value dates: all; transactions written: {written}")?,
        (from, to) => {
            let shown = |date: Option<NaiveDate>, open: &str| date.map_or(open.to_string(), |d| d.to_string());
            writeln!(
                out,
                "; value dates: {} to {} inclusive; transactions written: {written}",
                shown(from, "the first"),
                shown(to, "the last")
            )?;
            if let Some(from) = from {
                writeln!(out, ";   the balances value-dated before {from} open the file, dated {from}")?;
            }
        }
    }
    writeln!(out, "; hledger -f FILE --strict balance --flat --no-total --layout bare -O csv")?;
    writeln!(out)?;
    writeln!(out, "decimal-mark .")?;
    writeln!(out)?;

    // Every currency an account holds or has ever had a posting in, with its minor units.
    let mut currencies: Vec<Currency> = scan
        .accounts
        .iter()
        .flat_map(|account| account.spec.currencies.iter().copied().chain(account.before.keys().copied()))
        .collect();
    currencies.sort();
    currencies.dedup();
    for currency in currencies {
        // hledger wants a decimal mark in the directive: `1000.` is zero decimals.
        writeln!(out, "commodity 1000.{} {}", "0".repeat(currency.minor_units() as usize), currency.code())?;
    }
    if !scan.accounts.is_empty() {
        writeln!(out)?;
    }
    for account in &scan.accounts {
        write_account(out, &account.spec)?;
    }
    Ok(())
}

fn write_account(out: &mut dyn Write, spec: &AccountSpec) -> Result<(), AuditError> {
    let mut tags = vec![format!("entity:{}", escape(&spec.entity)), format!("kind:{}", spec.kind.as_str())];
    if let Some(zone) = spec.zone {
        tags.push(format!("zone:{}", zone.as_str()));
    }
    writeln!(out, "account {}  ; {}", account_name(&spec.id), tags.join(", "))?;
    Ok(())
}

/// The opening transaction: per account and currency, the balance value-dated before `from`.
fn write_opening(out: &mut dyn Write, scan: &Scan, from: NaiveDate) -> Result<(), AuditError> {
    let mut postings = Vec::new();
    let mut sums: BTreeMap<Currency, Decimal> = BTreeMap::new();
    for account in &scan.accounts {
        for (currency, sum) in &account.before {
            // Every balance carries exactly its currency's minor units.
            let mut balance = *sum;
            balance.rescale(currency.minor_units());
            if !balance.is_zero() {
                let total = sums.entry(*currency).or_default();
                *total = total.checked_add(balance).ok_or_else(|| {
                    integrity(scan.journal.entries, format!("the balances before {from} overflow in {currency}"))
                })?;
                postings.push((account_name(&account.spec.id), *currency, balance));
            }
        }
    }
    if let Some((currency, sum)) = sums.iter().find(|(_, sum)| !sum.is_zero()) {
        return Err(integrity(
            scan.journal.entries,
            format!("the balances before {from} sum to {} in {currency}, not zero", format_amount(*sum, *currency)),
        ));
    }
    writeln!(out)?;
    if postings.is_empty() {
        writeln!(out, "; no balance is value-dated before {from}: no opening transaction")?;
        return Ok(());
    }
    writeln!(out, "{} opening balances", from.format("%Y-%m-%d"))?;
    writeln!(out, "    ; opening:balances value-dated before {from}")?;
    let lines: Vec<(Cow<'_, str>, String)> =
        postings.into_iter().map(|(name, currency, amount)| (name, amount_text(amount, currency))).collect();
    write_postings(out, &lines)
}

/// Posting lines, amounts aligned: at least two spaces between account and amount.
fn write_postings(out: &mut dyn Write, lines: &[(Cow<'_, str>, String)]) -> Result<(), AuditError> {
    let name_width = lines.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let amount_width = lines.iter().map(|(_, amount)| amount.len()).max().unwrap_or(0);
    for (name, amount) in lines {
        writeln!(out, "    {name:<name_width$}  {amount:>amount_width$}")?;
    }
    Ok(())
}

fn write_transaction(out: &mut dyn Write, seq: u64, tx: &PostedTransaction) -> Result<(), AuditError> {
    let parts: Vec<String> =
        [&tx.reference, &tx.memo].into_iter().map(|text| description_text(text)).filter(|t| !t.is_empty()).collect();
    let description = if parts.is_empty() { tx.purpose.as_str().to_string() } else { parts.join(" - ") };
    writeln!(out)?;
    writeln!(out, "{} ({}) {description}", tx.value_date.format("%Y-%m-%d"), escape(&tx.id))?;
    let mut tags = vec![
        format!("seq:{seq}"),
        format!("purpose:{}", tx.purpose.as_str()),
        format!("classification:{}", tx.classification.as_str()),
    ];
    if let Some(rate) = &tx.rate {
        tags.push(format!("rate:{}/{} {}", rate.base, rate.quote, rate.rate));
    }
    if let Some(days) = tx.term_days {
        tags.push(format!("term_days:{days}"));
    }
    if let Some(lender) = &tx.lender {
        tags.push(format!("lender:{}", escape(lender)));
    }
    writeln!(out, "    ; {}", tags.join(", "))?;
    let lines: Vec<(Cow<'_, str>, String)> = tx
        .postings
        .iter()
        .map(|posting| (account_name(&posting.account), amount_text(posting.amount, posting.currency)))
        .collect();
    write_postings(out, &lines)
}

/// Writes transactions in (value date, seq) order from a stream in seq order.
struct Reorder {
    /// Per value date, the transactions not written yet (no zero counts): the first key is the next date to write.
    remaining: BTreeMap<NaiveDate, u64>,
    /// Rendered transactions that arrived before an earlier-dated one.
    waiting: BTreeMap<(NaiveDate, u64), Vec<u8>>,
}

impl Reorder {
    fn written(&mut self, date: NaiveDate) {
        if let Some(count) = self.remaining.get_mut(&date) {
            *count -= 1;
            if *count == 0 {
                self.remaining.remove(&date);
            }
        }
    }

    fn push(&mut self, out: &mut dyn Write, seq: u64, tx: &PostedTransaction) -> Result<(), AuditError> {
        let date = tx.value_date;
        if !self.remaining.contains_key(&date) {
            return Err(integrity(seq, "the journal changed while it was exported (an unexpected transaction)"));
        }
        if self.remaining.keys().next() == Some(&date) {
            // Every earlier date is written and later arrivals of this date have higher sequence numbers.
            write_transaction(out, seq, tx)?;
            self.written(date);
            self.release(out)
        } else {
            let mut text = Vec::new();
            write_transaction(&mut text, seq, tx)?;
            self.waiting.insert((date, seq), text);
            Ok(())
        }
    }

    /// Writes the waiting transactions of the next date to write, for as long as there are some.
    fn release(&mut self, out: &mut dyn Write) -> Result<(), AuditError> {
        while let Some(&next) = self.remaining.keys().next() {
            match self.waiting.first_entry() {
                Some(waiting) if waiting.key().0 == next => {
                    out.write_all(&waiting.remove())?;
                    self.written(next);
                }
                _ => break,
            }
        }
        Ok(())
    }
}

/// Pass 2: reads the journal again up to the head of pass 1, checking the
/// chain (the rules were checked by pass 1), and writes the transactions in the range.
fn write_transactions(storage: &dyn Storage, scan: &Scan, range: Range, out: &mut dyn Write) -> Result<(), AuditError> {
    let head_seq = scan.journal.entries;
    let changed = |seq: u64| integrity(seq, "the journal changed while it was exported");
    let mut reorder = Reorder { remaining: scan.dates.clone(), waiting: BTreeMap::new() };
    let mut cursor = ChainCursor::new();
    if head_seq > 0 {
        'blocks: for block in storage.blocks(1) {
            let (first_seq, bytes) = block?;
            if first_seq != cursor.next_seq() {
                return Err(integrity(cursor.next_seq(), format!("the next stored block starts at entry {first_seq}")));
            }
            // One entry decoded at a time: a block holds a whole commit.
            for part in block_entries(&bytes) {
                let part = part.map_err(|err| integrity(cursor.next_seq(), err.to_string()))?;
                let (entry, _) = cursor.accept_bytes(part).map_err(|err| integrity(err.seq, err.reason))?;
                if let EntryBody::Transaction(tx) = &entry.body {
                    if range.holds(tx.value_date) {
                        reorder.push(out, entry.seq, tx)?;
                    }
                }
                if entry.seq == head_seq {
                    break 'blocks;
                }
            }
        }
    }
    if cursor.next_seq() != head_seq + 1 || cursor.head() != scan.journal.head {
        return Err(changed(cursor.next_seq()));
    }
    if !reorder.remaining.is_empty() || !reorder.waiting.is_empty() {
        return Err(changed(head_seq));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use cashpool_ledger::journal::Timestamp;
    use cashpool_ledger::model::Purpose;
    use cashpool_ledger::storage::MemoryStorage;
    use cashpool_ledger::testing::MemoryStorageExt;
    use cashpool_ledger::tx::{PostingRequest, RateRequest, TransactionRequest};
    use cashpool_ledger::Ledger;

    const GROUP_TOML: &str = r#"
[group]
id = "HLG"
name = "hledger Test Group"
base_currency = "CNY"

[pool]
id = "HLG-POOL"
host = "H-SH"
domestic_master = "H-DMA"
international_master = "H-IMA"
netting_currency = "USD"

[[pool.limits]]
effective = "2026-01-01"
owners_equity = "100000000.00"
inflow_leverage = "1"
inflow_parameter = "1"
outflow_coefficient = "0.5"

[[entity]]
id = "H-SH"
name = "Host; Shanghai"
residence = "onshore"

[[entity]]
id = "M-JP"
name = "Member Japan"
residence = "offshore"

[[entity]]
id = "M-SZ"
name = "Member Suzhou"
residence = "onshore"

[[account]]
id = "H-DMA"
entity = "H-SH"
kind = "domestic-master"
zone = "onshore"
currencies = ["CNY", "USD"]

[[account]]
id = "H-IMA"
entity = "H-SH"
kind = "international-master"
zone = "offshore"
currencies = ["JPY", "KWD", "USD"]

[[account]]
id = "JP:OPS(1)"
entity = "M-JP"
kind = "settlement"
zone = "offshore"
currencies = ["JPY"]

[[account]]
id = "EXT-ON"
entity = "EXTERNAL"
kind = "external"
zone = "onshore"
currencies = ["CNY", "USD"]

[[account]]
id = "EXT-OFF"
entity = "EXTERNAL"
kind = "external"
zone = "offshore"
currencies = ["JPY", "KWD", "USD"]
"#;

    fn at() -> Timestamp {
        Timestamp::from_unix_micros(1_790_000_000_000_000)
    }

    fn d(text: &str) -> NaiveDate {
        NaiveDate::from_str(text).unwrap()
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    fn ledger() -> (MemoryStorage, Ledger) {
        let storage = MemoryStorage::new();
        let ledger = Ledger::create(Box::new(storage.clone()), GROUP_TOML, at()).unwrap();
        (storage, ledger)
    }

    fn post(ledger: &Ledger, request: TransactionRequest) {
        let id = request.id.clone();
        ledger.post(&request, "hledger-test", at()).unwrap_or_else(|rejection| panic!("{id}: {rejection}"));
    }

    #[allow(clippy::too_many_arguments)]
    fn transfer(ledger: &Ledger, id: &str, date: &str, from: &str, to: &str, ccy: &str, amount: &str, memo: &str) {
        let request =
            TransactionRequest::transfer(id, d(date), from, to, ccy, dec(amount), Purpose::CurrentAccount, "REF", memo);
        post(ledger, request);
    }

    fn fx(ledger: &Ledger, id: &str, date: &str) {
        let leg = |account: &str, currency: &str, amount: &str| PostingRequest {
            account: account.into(),
            currency: currency.into(),
            amount: dec(amount),
        };
        post(
            ledger,
            TransactionRequest {
                id: id.into(),
                value_date: d(date),
                purpose: Purpose::Fx,
                reference: "FX88".into(),
                memo: String::new(),
                postings: vec![leg("H-DMA", "USD", "-100000.00"), leg("H-DMA", "CNY", "710250.00")],
                rate: Some(RateRequest { base: "USD".into(), quote: "CNY".into(), rate: dec("7.1025") }),
                term_days: None,
                lender: None,
            },
        );
    }

    fn export(storage: &MemoryStorage, from: Option<&str>, to: Option<&str>) -> (u64, String) {
        let mut out = Vec::new();
        let n = export_hledger_range(storage, from.map(d), to.map(d), &mut out).unwrap();
        (n, String::from_utf8(out).unwrap())
    }

    /// The transactions of an export: (header line, posting lines), comments left out.
    fn transactions(text: &str) -> Vec<(String, Vec<String>)> {
        let mut found: Vec<(String, Vec<String>)> = Vec::new();
        for line in text.lines() {
            if line.starts_with(|c: char| c.is_ascii_digit()) {
                found.push((line.to_string(), Vec::new()));
            } else if let Some(posting) = line.strip_prefix("    ") {
                if !posting.starts_with(';') {
                    found.last_mut().expect("a posting follows a transaction line").1.push(posting.to_string());
                }
            }
        }
        found
    }

    /// Per (account, currency) the sum of the postings of an export.
    fn balances(text: &str) -> BTreeMap<(String, String), Decimal> {
        let mut sums = BTreeMap::new();
        for (_, postings) in transactions(text) {
            for posting in postings {
                let (account, amount) = posting.split_once("  ").unwrap();
                let mut words = amount.split_whitespace();
                let value = dec(words.next().unwrap());
                let currency = words.next().unwrap().to_string();
                *sums.entry((account.trim().to_string(), currency)).or_insert(Decimal::ZERO) += value;
            }
        }
        sums.retain(|_, sum| !sum.is_zero());
        sums
    }

    fn ledger_balances(ledger: &Ledger, as_of: Option<&str>) -> BTreeMap<(String, String), Decimal> {
        ledger
            .balances(as_of.map(d), None, None)
            .unwrap()
            .into_iter()
            .filter(|row| !row.balance.is_zero())
            .map(|row| ((account_name(&row.account).into_owned(), row.currency.code().to_string()), row.balance))
            .collect()
    }

    #[test]
    fn account_names_pass_plain_ids_and_escape_the_rest() {
        assert_eq!(account_name("SH-DMA"), "SH-DMA");
        assert_eq!(account_name("SYS-FX-POSITION"), "SYS-FX-POSITION");
        assert_eq!(account_name("a_b.c/d-9"), "a_b.c/d-9");
        assert_eq!(account_name("JP:OPS(1)"), "JP%3AOPS%281%29");
        assert_eq!(account_name("*X;y%"), "%2AX%3By%25");
        assert_eq!(account_name("[V]"), "%5BV%5D");
        assert_eq!(escape("T)1"), "T%291");
    }

    #[test]
    fn amounts_carry_exactly_the_minor_units() {
        let jpy = Currency::from_code("JPY").unwrap();
        let usd = Currency::from_code("USD").unwrap();
        let kwd = Currency::from_code("KWD").unwrap();
        assert_eq!(amount_text(dec("500"), jpy), "500 JPY");
        assert_eq!(amount_text(dec("-500"), jpy), "-500 JPY");
        assert_eq!(amount_text(dec("-100000.00"), usd), "-100000.00 USD");
        assert_eq!(amount_text(dec("0.00"), usd), "0.00 USD");
        assert_eq!(amount_text(dec("-1.250"), kwd), "-1.250 KWD");
        assert_eq!(description_text(" INV;1\nnext\t"), "INV,1 next");
    }

    #[test]
    fn header_declares_commodities_and_accounts() {
        let (storage, ledger) = ledger();
        transfer(&ledger, "T-1", "2026-03-02", "EXT-OFF", "JP:OPS(1)", "JPY", "500", "yen in");
        let (n, text) = export(&storage, None, None);
        let head = ledger.head();
        assert_eq!(n, head.0);
        assert!(text.starts_with("; cashpool journal, exported for hledger"), "{text}");
        assert!(text.contains("; group: HLG (hledger Test Group)"), "{text}");
        assert!(text.contains(&format!("; journal: {n} entries, head {}", head.1)), "{text}");
        assert!(text.contains("\ndecimal-mark .\n"), "{text}");
        for line in ["commodity 1000.00 CNY", "commodity 1000. JPY", "commodity 1000.000 KWD", "commodity 1000.00 USD"]
        {
            assert!(text.contains(&format!("\n{line}\n")), "{line} missing:\n{text}");
        }
        assert!(text.contains("\naccount H-DMA  ; entity:H-SH, kind:domestic-master, zone:onshore\n"), "{text}");
        assert!(text.contains("\naccount JP%3AOPS%281%29  ; entity:M-JP, kind:settlement, zone:offshore\n"), "{text}");
        assert!(text.contains("\naccount SYS-FX-POSITION  ; entity:"), "{text}");
        assert!(text.contains("kind:system\n"), "{text}");
        assert!(text.contains(
            "\n2026-03-02 (T-1) REF - yen in\n    \
             ; seq:"
        ));
        assert!(text.contains("    EXT-OFF          -500 JPY\n    JP%3AOPS%281%29   500 JPY\n"), "{text}");
    }

    #[test]
    fn fx_transaction_balances_per_currency_through_the_fx_position() {
        let (storage, ledger) = ledger();
        transfer(&ledger, "F-1", "2026-03-02", "EXT-ON", "H-DMA", "USD", "250000.00", "");
        fx(&ledger, "FX-0001", "2026-03-03");
        let (_, text) = export(&storage, None, None);
        let txs = transactions(&text);
        let (line, postings) = txs.iter().find(|(line, _)| line.contains("(FX-0001)")).expect("the FX transaction");
        assert_eq!(line, "2026-03-03 (FX-0001) FX88");
        let tags = text.lines().skip_while(|l| !l.contains("(FX-0001)")).nth(1).unwrap();
        assert!(tags.contains(", purpose:fx, classification:domestic, rate:USD/CNY 7.1025"), "{tags}");
        let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
        for posting in postings {
            let amount = posting.split_once("  ").unwrap().1.trim();
            let (value, code) = amount.split_once(' ').unwrap();
            *sums.entry(code.to_string()).or_default() += dec(value);
        }
        assert_eq!(sums.len(), 2, "{postings:?}");
        assert!(sums.values().all(|sum| sum.is_zero()), "{postings:?}");
        assert!(
            postings.iter().any(|p| p.starts_with("SYS-FX-POSITION") && p.ends_with(" 100000.00 USD")),
            "{postings:?}"
        );
        assert!(postings.iter().any(|p| p.starts_with("H-DMA") && p.ends_with(" -100000.00 USD")), "{postings:?}");
        assert_eq!(balances(&text), ledger_balances(&ledger, None));
    }

    #[test]
    fn transactions_are_ordered_by_value_date_then_seq() {
        let (storage, ledger) = ledger();
        transfer(&ledger, "A", "2026-03-05", "EXT-OFF", "H-IMA", "JPY", "1000", "");
        transfer(&ledger, "B", "2026-03-03", "EXT-OFF", "H-IMA", "JPY", "2000", "back-dated");
        transfer(&ledger, "C", "2026-03-05", "EXT-OFF", "H-IMA", "JPY", "3000", "");
        transfer(&ledger, "D", "2026-03-04", "EXT-OFF", "H-IMA", "KWD", "1.250", "");
        transfer(&ledger, "E", "2026-03-03", "EXT-OFF", "H-IMA", "USD", "1.00", "");
        transfer(&ledger, "F", "2026-03-06", "EXT-OFF", "H-IMA", "USD", "2.00", "");
        let (_, text) = export(&storage, None, None);
        let order: Vec<String> = transactions(&text).into_iter().map(|(line, _)| line[..15].to_string()).collect();
        assert_eq!(
            order,
            [
                "2026-03-03 (B)",
                "2026-03-03 (E)",
                "2026-03-04 (D)",
                "2026-03-05 (A)",
                "2026-03-05 (C)",
                "2026-03-06 (F)"
            ]
            .map(|s| format!("{s} "))
        );
        assert_eq!(balances(&text), ledger_balances(&ledger, None));
    }

    #[test]
    fn a_range_opens_with_the_earlier_balances_and_ends_at_to() {
        let (storage, ledger) = ledger();
        transfer(&ledger, "A", "2026-03-02", "EXT-OFF", "H-IMA", "JPY", "1000", "");
        transfer(&ledger, "B", "2026-03-03", "EXT-ON", "H-DMA", "USD", "300000.00", "");
        fx(&ledger, "FX-1", "2026-03-04");
        transfer(&ledger, "C", "2026-03-05", "H-IMA", "EXT-OFF", "JPY", "1000", "back to zero");
        transfer(&ledger, "D", "2026-03-06", "EXT-OFF", "H-IMA", "KWD", "0.005", "");
        transfer(&ledger, "E", "2026-03-02", "EXT-ON", "H-DMA", "CNY", "10.00", "back-dated");
        for (from, to) in [
            (Some("2026-03-04"), Some("2026-03-05")),
            (Some("2026-03-03"), None),
            (None, Some("2026-03-04")),
            (Some("2026-03-06"), Some("2026-03-06")),
            (Some("2026-03-07"), Some("2026-03-09")),
            (Some("2026-01-01"), Some("2026-03-01")),
        ] {
            let (_, text) = export(&storage, from, to);
            assert_eq!(balances(&text), ledger_balances(&ledger, to), "{from:?}..{to:?}:\n{text}");
            for (line, _) in transactions(&text) {
                let date = &line[..10];
                assert!(
                    from.is_none_or(|f| date >= f) && to.is_none_or(|t| date <= t),
                    "{line} outside {from:?}..{to:?}"
                );
            }
        }
        let (_, text) = export(&storage, Some("2026-03-04"), Some("2026-03-05"));
        let txs = transactions(&text);
        let (line, postings) = &txs[0];
        assert_eq!(line, "2026-03-04 opening balances");
        let opening_text: String = postings.iter().map(|p| format!("    {p}\n")).collect();
        let expected: BTreeMap<(String, String), Decimal> = [
            ("H-DMA", "CNY", "10.00"),
            ("H-DMA", "USD", "300000.00"),
            ("H-IMA", "JPY", "1000"),
            ("EXT-ON", "CNY", "-10.00"),
            ("EXT-ON", "USD", "-300000.00"),
            ("EXT-OFF", "JPY", "-1000"),
        ]
        .into_iter()
        .map(|(a, c, v)| ((a.to_string(), c.to_string()), dec(v)))
        .collect();
        assert_eq!(balances(&format!("2026-03-04 opening\n{opening_text}")), expected);
        assert_eq!(postings.len(), expected.len(), "no zero posting in the opening: {postings:?}");
        let lines: Vec<&str> = txs[1..].iter().map(|(line, _)| line.as_str()).collect();
        assert_eq!(lines, ["2026-03-04 (FX-1) FX88", "2026-03-05 (C) REF - back to zero"]);
        let (_, empty) = export(&storage, Some("2026-01-01"), Some("2026-03-01"));
        assert!(empty.contains("; no balance is value-dated before 2026-01-01: no opening transaction"), "{empty}");
        assert!(transactions(&empty).is_empty(), "{empty}");
    }

    #[test]
    fn from_after_to_is_refused() {
        let (storage, _ledger) = ledger();
        let mut out = Vec::new();
        let err = export_hledger_range(&storage, Some(d("2026-03-05")), Some(d("2026-03-04")), &mut out).unwrap_err();
        assert!(matches!(&err, AuditError::Io(io) if io.kind() == std::io::ErrorKind::InvalidInput), "{err}");
        assert!(out.is_empty());
    }

    #[test]
    fn an_empty_store_exports_a_header_only() {
        let storage = MemoryStorage::new();
        let (n, text) = export(&storage, None, None);
        assert_eq!(n, 0);
        assert!(text.contains("; group: none"), "{text}");
        assert!(transactions(&text).is_empty());
    }

    #[test]
    fn a_broken_chain_is_an_integrity_error() {
        let (storage, ledger) = ledger();
        transfer(&ledger, "A", "2026-03-02", "EXT-OFF", "H-IMA", "JPY", "1000", "memo-A");
        let (seq_a, _) = ledger.head();
        transfer(&ledger, "B", "2026-03-03", "EXT-OFF", "H-IMA", "JPY", "2000", "");
        let export_err = |storage: &MemoryStorage| {
            let mut out = Vec::new();
            match export_hledger(storage, &mut out).unwrap_err() {
                AuditError::Integrity(err) => err,
                other => panic!("not an integrity failure: {other}"),
            }
        };

        // Entry A still decodes with another memo, but B no longer follows it in the chain.
        let edited = storage.snapshot();
        edited.tamper_block(seq_a, |bytes| {
            let at = bytes.windows(6).position(|w| w == b"memo-A").expect("the memo is stored as text");
            bytes[at + 5] = b'B';
        });
        let err = export_err(&edited);
        assert_eq!(err.seq, seq_a + 1, "{err}");
        assert!(err.reason.contains("prev_hash"), "{err}");

        // The last entry no longer decodes.
        storage.tamper_block(seq_a + 1, |bytes| {
            let at = bytes.len() - 20;
            bytes[at] ^= 0x01;
        });
        assert_eq!(export_err(&storage).seq, seq_a + 1);
    }
}
