//! The state snapshot (docs/STORAGE.md, "The state snapshot"): the folded
//! state at one durable entry, persisted as the index file `state.snapshot`,
//! so that opening a store reads it and folds only the entries after it.
//!
//! The snapshot is derived data, like the id index: it is checked against the
//! journal before it is used, and a snapshot that does not check out (damaged,
//! of another version, of another history) is ignored and the journal folded
//! from genesis.
//!
//! Each part of the state turns itself into a record of its own here
//! (`snapshot`) and back (`restore`), so that its fields stay private. The
//! domain objects a part keeps (the group definition, the accounts, rate rows,
//! sweep, interest and netting reports) are written as the journal's own
//! format-2 records (`journal::v2`), so a restored part holds exactly what a
//! fold of the journal holds; amounts and dates the fold computes are written
//! exactly (mantissa and scale, day numbers).
//!
//! The file: a 48-byte header — magic `CPST`, the format version (u32), the
//! body's length (u64), the SHA-256 of the body (32 bytes); little-endian —
//! then the body, the [postcard](https://postcard.jamesmunns.com/wire-format)
//! encoding of [`SnapshotRec`].

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::journal::v2::{
    AccountRec, BenchmarksRec, CalendarRec, Dec, InterestRec, NettingRec, PoolRowRec, RatesRec, SweepRec,
};

/// The index file that holds the snapshot.
pub(crate) const FILE: &str = "state.snapshot";
const MAGIC: [u8; 4] = *b"CPST";
/// The format of the snapshot. A snapshot of another version is ignored (and
/// replaced by the next one written): it is derived data.
/// Version 4: the group definition kept as its JSON record, the pool movements and the
/// intraday peaks of the `limits` part, the entities' withholding rows and the accruals' taxes.
/// Version 5: the `calendars` part and the group definition's calendar keys, the amendments
/// (`definition`), the latest value date booked (`transactions`), the benchmark fixings of the
/// `rates` part (postcard writes every field, so versions 1 to 4 no longer read).
pub(crate) const VERSION: u32 = 5;
const HEADER_LEN: usize = 48;

/// An exact decimal: its mantissa and scale (the scale is kept: `0.00` stays `0.00`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Exact(i128, u32);

impl Exact {
    pub(crate) fn of(value: Decimal) -> Exact {
        Exact(value.mantissa(), value.scale())
    }

    pub(crate) fn get(self) -> Result<Decimal, String> {
        Decimal::try_from_i128_with_scale(self.0, self.1)
            .map_err(|_| format!("decimal {}e-{} out of range", self.0, self.1))
    }
}

/// An amount of `currency`, which must be held at its minor units (as every
/// amount the state keeps is: the digest writes it in minor units).
pub(crate) fn amount_of(value: Exact, currency: crate::money::Currency) -> Result<Decimal, String> {
    let amount = value.get()?;
    let mut at_scale = amount;
    at_scale.rescale(currency.minor_units());
    if at_scale != amount {
        return Err(format!("{amount} {currency} is not at the currency's minor units"));
    }
    Ok(amount)
}

/// A date as its day number (days from 0001-01-01, which is day 1).
pub(crate) fn day(date: NaiveDate) -> i32 {
    date.num_days_from_ce()
}

/// The date of a day number.
pub(crate) fn date_of(day: i32) -> Result<NaiveDate, String> {
    NaiveDate::from_num_days_from_ce_opt(day).ok_or_else(|| format!("day {day} is not a date"))
}

/// The `definition` part: the group definition and the accounts, in opening order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DefinitionSnap {
    /// The group definition's record as its canonical JSON (the bytes the
    /// journal's `group_defined` entry holds).
    pub(crate) group: Option<String>,
    /// Each amendment: its effective date (days from the common era) and its record's canonical JSON.
    pub(crate) amendments: Vec<(i32, String)>,
    pub(crate) accounts: Vec<AccountRec>,
}

/// The `balances` part: per account (in the definition's order) and currency, the change per value date.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BalancesSnap {
    pub(crate) accounts: Vec<AccountBalancesSnap>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccountBalancesSnap {
    pub(crate) id: String,
    /// Every currency ever posted, in order (one whose days net to zero too: it has no days).
    pub(crate) currencies: Vec<CurrencyBalanceSnap>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CurrencyBalanceSnap {
    pub(crate) currency: String,
    /// (day number, net change), ascending; the total is their sum.
    pub(crate) days: Vec<(i32, Exact)>,
}

/// The `transactions` part: the count and the running digest. Its ids are on
/// disk, in the id index: a snapshot is written only once every id is there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TransactionsSnap {
    pub(crate) count: u64,
    /// The running digest as `RunningSha256::save` writes it.
    pub(crate) running: Vec<u8>,
    /// The number of postings of those transactions.
    pub(crate) postings: u64,
    /// The latest value date of a transaction (days from the common era).
    pub(crate) booked_through: Option<i32>,
}

/// The `limits` part: the dated parameters, the pool flows, the position and the loans.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LimitsSnap {
    pub(crate) base: String,
    pub(crate) pool: Vec<PoolRowRec>,
    pub(crate) macro_prudential: Vec<(i32, Dec)>,
    /// (day number, net flow), ascending.
    pub(crate) flows: Vec<(i32, Exact)>,
    pub(crate) position: Exact,
    /// The intraday peaks (day number, inflow use, outflow use), ascending.
    pub(crate) peaks: Vec<(i32, Exact, Exact)>,
    /// The pool movements (separate quota model), in journal order.
    pub(crate) moves: Vec<MoveSnap>,
    /// By the id of the transaction that drew each.
    pub(crate) loans: Vec<LoanSnap>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MoveSnap {
    pub(crate) date: i32,
    pub(crate) counterparty: String,
    pub(crate) currency: String,
    pub(crate) amount: Exact,
    pub(crate) base: Exact,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LoanSnap {
    pub(crate) id: String,
    /// An overseas loan (else foreign debt).
    pub(crate) overseas: bool,
    pub(crate) entity: String,
    pub(crate) drawn: i32,
    pub(crate) currency: String,
    pub(crate) principal: Exact,
    pub(crate) term_days: u32,
    pub(crate) base_rate: Dec,
    pub(crate) usd_base_rate: Option<Dec>,
    pub(crate) repayments: Vec<(i32, Exact)>,
}

/// A report kept with the entry that journaled it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Journaled<R> {
    pub(crate) report: R,
    pub(crate) seq: u64,
    pub(crate) hash: [u8; 32],
}

/// The `interest` part: the settlements in journal order and the carry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct InterestSnap {
    pub(crate) settled: Vec<Journaled<InterestRec>>,
    /// (currency, carry) by currency.
    pub(crate) carry: Vec<(String, Exact)>,
}

/// The `statements` part: the first copy under each statement key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FirstImportSnap {
    pub(crate) key: [String; 3],
    pub(crate) content_hash: [u8; 32],
    pub(crate) seq: u64,
}

/// The whole snapshot: where it stands (entry `seq`, its hash, the state
/// digest there, what the id index held), then the ten parts in the order of
/// the state digest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SnapshotRec {
    pub(crate) seq: u64,
    pub(crate) hash: [u8; 32],
    pub(crate) digest: [u8; 32],
    /// The id index's `through` when the snapshot was written: every
    /// transaction of an entry up to `seq` was in it.
    pub(crate) ids_through: u64,
    /// How many ids the id index held then (every transaction up to `seq`).
    pub(crate) ids_count: u64,
    pub(crate) definition: DefinitionSnap,
    pub(crate) balances: BalancesSnap,
    pub(crate) transactions: TransactionsSnap,
    pub(crate) rates: RatesRec,
    /// The benchmark fixings, the rest of the `rates` part, as the journal records them.
    pub(crate) benchmarks: BenchmarksRec,
    pub(crate) limits: LimitsSnap,
    pub(crate) sweeps: Vec<Journaled<SweepRec>>,
    pub(crate) interest: InterestSnap,
    pub(crate) netting: Vec<Journaled<NettingRec>>,
    pub(crate) statements: Vec<FirstImportSnap>,
    /// Every calendar day held, as one import's record (no days: none).
    pub(crate) calendars: CalendarRec,
}

/// The bytes of the file.
pub(crate) fn encode(rec: &SnapshotRec) -> Vec<u8> {
    let body = postcard::to_allocvec(rec).expect("encoding into a Vec cannot fail");
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(&body));
    out.extend_from_slice(&body);
    out
}

/// The snapshot in `bytes`, or why it is not one this version can use.
pub(crate) fn decode(bytes: &[u8]) -> Result<SnapshotRec, String> {
    let header = bytes.get(..HEADER_LEN).ok_or("shorter than its header")?;
    if header[..4] != MAGIC {
        return Err("not a state snapshot (magic)".into());
    }
    let version = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(format!("format version {version}, this version reads {VERSION}"));
    }
    let len = u64::from_le_bytes(header[8..16].try_into().expect("8 bytes"));
    let body = &bytes[HEADER_LEN..];
    if body.len() as u64 != len {
        return Err(format!("the body is {} bytes, the header says {len}", body.len()));
    }
    if Sha256::digest(body)[..] != header[16..48] {
        return Err("checksum mismatch".into());
    }
    let (rec, rest) = postcard::take_from_bytes::<SnapshotRec>(body).map_err(|err| format!("body: {err}"))?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the body", rest.len()));
    }
    Ok(rec)
}

/// What [`forge`] changes in a snapshot.
#[doc(hidden)] // public for `crate::testing` only
#[derive(Debug, Clone)]
pub enum Forgery {
    /// The change on the last value date of `account` in `currency`, by `delta`.
    Balance { account: String, currency: crate::money::Currency, delta: Decimal },
    /// The last rate of `currency` (in either market), by `delta`.
    Rate { currency: crate::money::Currency, delta: Decimal },
}

/// For the workspace's tests (`crate::testing::forge_snapshot`): rewrites the
/// snapshot in `storage` with `forgery` applied, and its digest, its checksum
/// and everything else consistent with it, as a writer with a bug would have
/// written it.
pub(crate) fn forge(storage: &dyn crate::storage::Storage, forgery: &Forgery) -> Result<(), String> {
    let bytes = storage.index_read(FILE).map_err(|err| err.to_string())?.ok_or("no snapshot")?;
    let mut rec = decode(&bytes)?;
    match forgery {
        Forgery::Balance { account, currency, delta } => {
            let change = rec
                .balances
                .accounts
                .iter_mut()
                .find(|balances| balances.id == *account)
                .and_then(|balances| balances.currencies.iter_mut().find(|c| c.currency == currency.code()))
                .and_then(|balance| balance.days.last_mut())
                .ok_or("no such balance in the snapshot")?;
            change.1 = Exact::of(change.1.get()? + delta);
        }
        Forgery::Rate { currency, delta } => {
            let mut rows = crate::journal::v2::rates_of(rec.rates)?;
            let row = rows.iter_mut().filter(|row| row.currency == *currency).last().ok_or("no such rate")?;
            row.rate += delta;
            rec.rates = crate::journal::v2::rates_rec(&rows);
        }
    }
    let state = super::State::restore(rec.clone(), rec.ids_through, rec.ids_count, rec.transactions.postings)?;
    rec.digest = state.digest().0 .0;
    let bytes = encode(&rec);
    storage
        .index_write(FILE, &mut |out| {
            out.write_all(&bytes).map_err(|err| crate::storage::StorageError::Corrupt(err.to_string()))
        })
        .map_err(|err| err.to_string())
}

/// For the fuzz target `state_snapshot` (`crate::testing::restore_snapshot_body`):
/// a snapshot's body (without the file's header and checksum) decoded and
/// restored with every check opening makes on the state itself; the entry it
/// is at, or why it is refused. Never panics, whatever the bytes.
pub(crate) fn restore_body(body: &[u8]) -> Result<u64, String> {
    let (rec, rest) = postcard::take_from_bytes::<SnapshotRec>(body).map_err(|err| format!("body: {err}"))?;
    if !rest.is_empty() {
        return Err("bytes after the body".into());
    }
    let (seq, digest) = (rec.seq, rec.digest);
    let (through, count, postings) = (rec.ids_through, rec.ids_count, rec.transactions.postings);
    let state = super::State::restore(rec, through, count, postings)?;
    state.check_invariants()?;
    if state.digest().0 .0 != digest {
        return Err("the restored state does not have the snapshot's digest".into());
    }
    Ok(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_decimals_and_day_numbers_round_trip() {
        for text in
            ["0", "0.00", "-12.5", "7.10250", "79228162514264337593543950335", "-0.0000000000000000000000000001"]
        {
            let value: Decimal = text.parse().unwrap();
            let back = Exact::of(value).get().unwrap();
            assert_eq!(back.to_string(), value.to_string(), "{text}");
        }
        assert!(Exact(1, 29).get().is_err(), "a scale above 28 is refused");
        let date = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        assert_eq!(date_of(day(date)).unwrap(), date);
        assert!(date_of(i32::MAX).is_err());
    }

    #[test]
    fn a_damaged_file_or_another_version_is_refused() {
        let rec = SnapshotRec {
            seq: 7,
            hash: [1; 32],
            digest: [2; 32],
            ids_through: 5,
            ids_count: 3,
            definition: DefinitionSnap { group: None, amendments: Vec::new(), accounts: Vec::new() },
            balances: BalancesSnap { accounts: Vec::new() },
            transactions: TransactionsSnap {
                count: 3,
                running: vec![0; 4],
                postings: 6,
                booked_through: Some(740_000),
            },
            rates: crate::journal::v2::rates_rec(&[]),
            benchmarks: crate::journal::v2::benchmarks_rec(&[]),
            limits: LimitsSnap {
                base: "CNY".into(),
                pool: Vec::new(),
                macro_prudential: Vec::new(),
                flows: vec![(740_000, Exact::of(Decimal::new(-250, 2)))],
                position: Exact::of(Decimal::new(-250, 2)),
                peaks: Vec::new(),
                moves: Vec::new(),
                loans: Vec::new(),
            },
            sweeps: Vec::new(),
            interest: InterestSnap { settled: Vec::new(), carry: Vec::new() },
            netting: Vec::new(),
            statements: vec![FirstImportSnap {
                key: ["a".into(), "b".into(), "c".into()],
                content_hash: [3; 32],
                seq: 6,
            }],
            calendars: crate::journal::v2::calendar_rec(&crate::calendar::CalendarImport {
                correction: false,
                days: Vec::new(),
            }),
        };
        let bytes = encode(&rec);
        let back = decode(&bytes).unwrap();
        assert_eq!((back.seq, back.ids_through, back.statements[0].seq), (7, 5, 6));
        for at in [0, 5, 12, 20, HEADER_LEN, bytes.len() - 1] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x10;
            assert!(decode(&flipped).is_err(), "a byte flipped at {at} is found");
        }
        // Version 1 (before the posting index counted postings), 2 (before the records held the
        // taxes withheld on interest), 3 (before the pool movements and peaks) and 4 (before the
        // calendars, the amendments and the benchmark fixings) are not read.
        for old in [1u32, 2, 3, 4] {
            let mut other = bytes.clone();
            other[4..8].copy_from_slice(&old.to_le_bytes());
            assert_eq!(decode(&other).unwrap_err(), format!("format version {old}, this version reads 5"));
        }
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(&bytes[..10]).is_err());
    }
}
