//! The journal's entries and their canonical, versioned encodings.
//!
//! Entries are written in format 2 ([`v2`], docs/FORMATS.md "The journal
//! (format version 2)"): a fixed header, a binary body for transactions and a
//! canonical JSON body for the other kinds, written from record types that
//! belong to the journal. Entries written before format 2 keep their format-1
//! bytes (a version byte, then [postcard](https://postcard.jamesmunns.com/wire-format)
//! of [`Entry`] through the serde derives of this module and the domain types
//! it names: those derives *are* format 1 and must not change; the golden
//! format-1 journal in `tests/golden/` would notice). An entry's hash is
//! SHA-256 over its bytes; because each entry carries the previous entry's
//! hash, every entry commits to the whole history before it. Decoding
//! re-encodes and rejects any byte string that is not exactly what the
//! encoder writes.

pub mod v2;
mod wire;

use std::fmt;

use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::model::{AccountSpec, Classification, Purpose};
use crate::money::Currency;

/// The encoding an entry's bytes are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FormatVersion {
    /// Written before format 2: read, never written.
    #[default]
    V1,
    /// The current format.
    V2,
}
/// The largest encoded entry, in bytes: the group definition of a pool of thousands of
/// members (about 1.5 KiB of canonical JSON a member) and a long bank statement are the largest.
pub(crate) const ENTRY_LEN_MAX: usize = 64 << 20;

/// A SHA-256 hash of an entry's encoding.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EntryHash(pub [u8; 32]);

impl EntryHash {
    /// The `prev_hash` of the first entry.
    pub const GENESIS: EntryHash = EntryHash([0; 32]);

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        let mut text = String::with_capacity(64);
        for byte in self.0 {
            text.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            text.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
        }
        text
    }

    /// Parses 64 hex digits.
    pub(crate) fn from_hex(text: &str) -> Option<EntryHash> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut hash = [0u8; 32];
        for (idx, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = char::from(pair[1]).to_digit(16)?;
            hash[idx] = u8::try_from(hi * 16 + lo).ok()?;
        }
        Some(EntryHash(hash))
    }
}

impl fmt::Debug for EntryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Display for EntryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for EntryHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_hex())
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for EntryHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EntryHash, D::Error> {
        if deserializer.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
            EntryHash::from_hex(&text).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
        } else {
            Ok(EntryHash(<[u8; 32]>::deserialize(deserializer)?))
        }
    }
}

/// A point in time, microseconds since the Unix epoch, UTC. The ledger never
/// reads a clock: every timestamp comes from its caller.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const EPOCH: Timestamp = Timestamp(0);

    pub fn from_unix_micros(micros: i64) -> Timestamp {
        Timestamp(micros)
    }

    pub fn unix_micros(self) -> i64 {
        self.0
    }

    /// RFC 3339 with microseconds, `2026-11-02T09:30:00.000000Z`.
    pub fn to_rfc3339(self) -> String {
        match DateTime::from_timestamp_micros(self.0) {
            Some(at) => at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            None => format!("@{}us", self.0),
        }
    }

    /// Parses RFC 3339 (any offset; stored as UTC).
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        DateTime::parse_from_rfc3339(text).ok().map(|at| Timestamp(at.timestamp_micros()))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_rfc3339())
        } else {
            serializer.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        if deserializer.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
            Timestamp::parse_rfc3339(&text).ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 timestamp"))
        } else {
            Ok(Timestamp(i64::deserialize(deserializer)?))
        }
    }
}

/// Dates: ISO strings for people, day numbers (days since 0001-01-01 = 1) in binary.
pub(crate) mod date_format {
    use chrono::{Datelike, NaiveDate};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(&date.format("%Y-%m-%d"))
        } else {
            serializer.serialize_i32(date.num_days_from_ce())
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        if deserializer.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
            NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(serde::de::Error::custom)
        } else {
            let days = i32::deserialize(deserializer)?;
            NaiveDate::from_num_days_from_ce_opt(days)
                .ok_or_else(|| serde::de::Error::custom("day number out of range"))
        }
    }
}

/// An optional date as [`date_format`] writes a date (`null` when absent): for values that are only written.
pub(crate) fn serialize_opt_date<S: serde::Serializer>(
    date: &Option<NaiveDate>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serializer.serialize_some(&date.format("%Y-%m-%d").to_string()),
        None => serializer.serialize_none(),
    }
}

/// One entry of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The encoding of its bytes (not itself encoded: the version byte says it).
    #[serde(skip)]
    pub format: FormatVersion,
    /// 1 for the first entry, then +1 each.
    pub seq: u64,
    /// The hash of entry `seq - 1`, or [`EntryHash::GENESIS`].
    pub prev_hash: EntryHash,
    /// When the caller says the entry was recorded.
    pub recorded_at: Timestamp,
    pub body: EntryBody,
}

/// What an entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryBody {
    /// The group definition, verbatim (TOML), as `cashpool init` received it.
    GroupDefined { config_toml: String },
    /// An account opened (group accounts from the definition, then system accounts).
    AccountOpened(AccountSpec),
    /// A posted transaction.
    Transaction(PostedTransaction),
    /// FX rates imported (`cashpool rates import`).
    RatesImported { rows: Vec<crate::rates::RateRow> },
    /// A dated change of regulatory parameters (`cashpool limits set`).
    LimitsSet(crate::limits::LimitsChange),
    /// The report of a sweep run, journaled in the same commit as its sweeps.
    SweepRun(crate::sweep::SweepRun),
    /// A settled interest period, journaled in the same commit as its postings.
    InterestSettled(crate::interest::InterestRun),
    /// A netting cycle, journaled in the same commit as its settlements.
    NettingCycle(crate::cycle::NettingRun),
    /// A bank statement received (`cashpool recon import`), mapped to its account.
    StatementImported(crate::bank::ImportedStatement),
    /// The validated group definition (format 2; format 1 journaled the TOML text, [`EntryBody::GroupDefined`]).
    #[serde(skip)]
    GroupRecord(std::sync::Arc<crate::config::GroupConfig>),
    /// A dated amendment of the group definition (`cashpool amend`; format 2 only).
    #[serde(skip)]
    Amended(crate::amendment::Amendment),
    /// Benchmark fixings imported (`cashpool benchmarks import`; format 2 only, kind 10).
    #[serde(skip)]
    BenchmarksImported { rows: Vec<crate::benchmarks::BenchmarkRow> },
    /// Business-day calendar days imported (`cashpool calendars import`; format 2 only).
    #[serde(skip)]
    CalendarImported(crate::calendar::CalendarImport),
}

/// A transaction as the ledger posted it: validated, amounts at their
/// currencies' minor units, FX legs through the FX position account included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedTransaction {
    pub id: String,
    #[serde(with = "date_format")]
    pub value_date: NaiveDate,
    pub purpose: Purpose,
    pub reference: String,
    pub memo: String,
    pub postings: Vec<Posting>,
    pub rate: Option<FxRate>,
    pub term_days: Option<u32>,
    pub lender: Option<String>,
    /// How it crosses the pool's borders, derived from the accounts' zones
    /// when it was posted (replay derives it again and compares).
    pub classification: Classification,
    /// Who posted it. Not part of the idempotency comparison.
    pub(crate) operator: String,
    /// Its effects on the pool's limits as the ledger derived them when it
    /// posted (format 2; `None` for a format-1 entry, which did not record
    /// them). Replay derives them again and refuses an entry whose recorded
    /// effects differ.
    #[serde(skip)]
    pub(crate) effects: Option<TxEffects>,
}

/// What a transaction changed besides balances, as its format-2 entry records it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct TxEffects {
    /// Its use of the pool's cross-border caps in the base currency (+ inflow, − outflow).
    pub(crate) pool_flow: Option<(Currency, Decimal)>,
    /// The foreign-debt loan it opens (the loan's id is the transaction's id).
    pub(crate) drawdown: Option<Drawdown>,
    /// The loan it repays.
    pub(crate) repayment: Option<Repayment>,
}

/// A foreign-debt loan opened by a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Drawdown {
    pub(crate) entity: String,
    pub(crate) currency: Currency,
    pub(crate) principal: Decimal,
    pub(crate) term_days: u32,
    /// Base currency per unit of `currency` on the value date (1 for the base currency).
    pub(crate) base_rate: Decimal,
    /// Base currency per USD on the value date, when known.
    pub(crate) usd_base_rate: Option<Decimal>,
}

/// A repayment of a foreign-debt loan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Repayment {
    /// The id of the loan's drawdown transaction.
    pub(crate) loan: String,
    pub(crate) currency: Currency,
    pub(crate) amount: Decimal,
}

/// One leg of a posted transaction; `amount` has exactly the currency's minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: String,
    pub currency: Currency,
    pub amount: Decimal,
}

#[derive(Serialize, Deserialize)]
struct PostingText<'a> {
    #[serde(borrow)]
    account: std::borrow::Cow<'a, str>,
    currency: Currency,
    amount: std::borrow::Cow<'a, str>,
}

impl Serialize for Posting {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            PostingText {
                account: self.account.as_str().into(),
                currency: self.currency,
                amount: crate::money::format_amount(self.amount, self.currency).into(),
            }
            .serialize(serializer)
        } else {
            (&self.account, self.currency, self.amount.mantissa()).serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for Posting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Posting, D::Error> {
        use serde::de::Error;
        if deserializer.is_human_readable() {
            let text = PostingText::deserialize(deserializer)?;
            let amount = crate::money::parse_amount(&text.amount, text.currency).map_err(D::Error::custom)?;
            Ok(Posting { account: text.account.into_owned(), currency: text.currency, amount })
        } else {
            let (account, currency, mantissa) = <(String, Currency, i128)>::deserialize(deserializer)?;
            let amount = Decimal::try_from_i128_with_scale(mantissa, currency.minor_units())
                .map_err(|_| D::Error::custom("amount out of range"))?;
            Ok(Posting { account, currency, amount })
        }
    }
}

/// The rate of an FX transaction: `rate` units of `quote` for one `base`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FxRate {
    pub base: Currency,
    pub quote: Currency,
    /// Normalised (no trailing zeros).
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
}

/// Why bytes are not a valid entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("empty entry")]
    Empty,
    #[error("unknown format version {0}")]
    Version(u8),
    #[error("entry of {0} bytes exceeds the limit")]
    TooLarge(usize),
    #[error("malformed entry: {0}")]
    Malformed(String),
    #[error("entry is not canonically encoded")]
    NotCanonical,
}

impl Entry {
    /// The canonical bytes in the entry's format.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(256);
        self.encode_into(&mut bytes);
        bytes
    }

    /// Appends the canonical bytes to `out`.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        match self.format {
            FormatVersion::V2 => v2::encode_into(self, out),
            FormatVersion::V1 => {
                out.push(1);
                let encoded = postcard::to_extend(self, std::mem::take(out)).expect("encoding into a Vec cannot fail");
                *out = encoded;
            }
        }
    }

    /// Decodes canonical bytes of either format; anything else is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Entry, DecodeError> {
        let (&version, payload) = bytes.split_first().ok_or(DecodeError::Empty)?;
        if bytes.len() > ENTRY_LEN_MAX {
            return Err(DecodeError::TooLarge(bytes.len()));
        }
        let entry = match version {
            1 => {
                let (entry, rest): (Entry, &[u8]) =
                    postcard::take_from_bytes(payload).map_err(|err| DecodeError::Malformed(err.to_string()))?;
                if !rest.is_empty() {
                    return Err(DecodeError::Malformed(format!("{} trailing bytes", rest.len())));
                }
                entry
            }
            2 => v2::decode(bytes).map_err(DecodeError::Malformed)?,
            other => return Err(DecodeError::Version(other)),
        };
        // The binary bodies of format 2 (transactions, statements) are read by a decoder that
        // accepts only the one encoding of each value (shortest varints, 0/1 presence bytes,
        // normalised decimals, known codes, nothing left over), so encoding again could only give
        // back the same bytes: the fuzz target `journal_entry` asserts exactly that. Every other
        // body is re-encoded and compared.
        let binary_body =
            version == 2 && matches!(entry.body, EntryBody::Transaction(_) | EntryBody::StatementImported(_));
        if !binary_body && entry.encode() != bytes {
            return Err(DecodeError::NotCanonical);
        }
        Ok(entry)
    }

    /// SHA-256 of the canonical bytes.
    pub fn hash(&self) -> EntryHash {
        hash_bytes(&self.encode())
    }
}

/// SHA-256 of an entry's canonical bytes.
pub(crate) fn hash_bytes(bytes: &[u8]) -> EntryHash {
    EntryHash(Sha256::digest(bytes).into())
}

/// Walks a journal in order and checks that each entry follows the one before.
#[derive(Debug, Clone)]
pub struct ChainCursor {
    next_seq: u64,
    prev_hash: EntryHash,
}

/// A break in the chain: the first bad entry and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {seq}: {reason}")]
pub struct ChainError {
    /// The sequence number of the first bad entry (the one expected there).
    pub seq: u64,
    pub reason: String,
}

impl Default for ChainCursor {
    fn default() -> Self {
        ChainCursor::new()
    }
}

impl ChainCursor {
    /// A cursor expecting entry 1.
    pub fn new() -> ChainCursor {
        ChainCursor { next_seq: 1, prev_hash: EntryHash::GENESIS }
    }

    /// A cursor expecting the entry after `seq`, whose hash is `hash` (a fold
    /// that goes on from a state snapshot); `at(0, GENESIS)` is [`ChainCursor::new`].
    pub(crate) fn at(seq: u64, hash: EntryHash) -> ChainCursor {
        ChainCursor { next_seq: seq + 1, prev_hash: hash }
    }

    /// The next sequence number expected.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The hash of the last accepted entry ([`EntryHash::GENESIS`] before the first).
    pub fn head(&self) -> EntryHash {
        self.prev_hash
    }

    /// Decodes `bytes` as the next entry and checks its place in the chain.
    pub fn accept_bytes(&mut self, bytes: &[u8]) -> Result<(Entry, EntryHash), ChainError> {
        let entry = Entry::decode(bytes).map_err(|err| ChainError { seq: self.next_seq, reason: err.to_string() })?;
        let hash = hash_bytes(bytes);
        self.accept(&entry, hash)?;
        Ok((entry, hash))
    }

    /// Checks that `entry`, whose hash is `hash`, is the next one.
    pub(crate) fn accept(&mut self, entry: &Entry, hash: EntryHash) -> Result<(), ChainError> {
        if entry.seq != self.next_seq {
            return Err(ChainError {
                seq: self.next_seq,
                reason: format!("expected sequence number {}, found {}", self.next_seq, entry.seq),
            });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainError {
                seq: self.next_seq,
                reason: format!(
                    "prev_hash {} does not match the hash of entry {} ({})",
                    entry.prev_hash,
                    self.next_seq - 1,
                    self.prev_hash
                ),
            });
        }
        self.next_seq += 1;
        self.prev_hash = hash;
        Ok(())
    }
}

/// Appends one entry's bytes to a block: a little-endian `u32` length, then the bytes.
#[doc(hidden)] // public for `crate::testing` only
pub fn block_push(block: &mut Vec<u8>, entry_bytes: &[u8]) {
    let len = u32::try_from(entry_bytes.len()).expect("entry length is bounded by ENTRY_LEN_MAX");
    block.extend_from_slice(&len.to_le_bytes());
    block.extend_from_slice(entry_bytes);
}

/// Iterates the entries' bytes of a block; a malformed block yields an error.
pub fn block_entries(block: &[u8]) -> impl Iterator<Item = Result<&[u8], DecodeError>> + '_ {
    let mut rest = block;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some((len_bytes, tail)) = rest.split_first_chunk::<4>() else {
            rest = &[];
            return Some(Err(DecodeError::Malformed("truncated block length".into())));
        };
        let len = usize::try_from(u32::from_le_bytes(*len_bytes)).unwrap_or(usize::MAX);
        if len > tail.len() {
            rest = &[];
            return Some(Err(DecodeError::Malformed("truncated block entry".into())));
        }
        let (entry, tail) = tail.split_at(len);
        rest = tail;
        Some(Ok(entry))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entry {
        Entry {
            format: FormatVersion::V1,
            seq: 7,
            prev_hash: EntryHash([3; 32]),
            recorded_at: Timestamp::from_unix_micros(1_793_000_000_000_000),
            body: EntryBody::Transaction(PostedTransaction {
                id: "T-1".into(),
                value_date: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
                purpose: Purpose::Fx,
                reference: "FX88".into(),
                memo: String::new(),
                postings: vec![
                    Posting {
                        account: "SH-DMA".into(),
                        currency: Currency::from_code("USD").unwrap(),
                        amount: Decimal::new(-10000000, 2),
                    },
                    Posting {
                        account: "SH-DMA".into(),
                        currency: Currency::from_code("CNY").unwrap(),
                        amount: Decimal::new(71025000, 2),
                    },
                ],
                rate: Some(FxRate {
                    base: Currency::from_code("USD").unwrap(),
                    quote: Currency::from_code("CNY").unwrap(),
                    rate: Decimal::new(71025, 4),
                }),
                term_days: None,
                lender: None,
                classification: Classification::Domestic,
                operator: "ops".into(),
                effects: None,
            }),
        }
    }

    #[test]
    fn encoding_round_trips_and_is_canonical() {
        let entry = sample();
        let bytes = entry.encode();
        assert_eq!(bytes[0], 1);
        assert_eq!(Entry::decode(&bytes).unwrap(), entry);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Entry::decode(&longer).is_err());
        let mut wrong_version = bytes.clone();
        wrong_version[0] = 3;
        assert_eq!(Entry::decode(&wrong_version), Err(DecodeError::Version(3)));
    }

    #[test]
    fn json_round_trip_gives_the_same_hash() {
        let entry = sample();
        let json = serde_json::to_string(&entry).unwrap();
        assert!(json.contains("\"amount\":\"-100000.00\""), "{json}");
        let back: Entry = serde_json::from_str(&json).unwrap();
        assert_eq!(back.hash(), entry.hash());
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            assert!(Entry::decode(&bytes[..len]).is_err());
        }
    }

    #[test]
    fn chain_cursor_names_the_first_bad_entry() {
        let mut first = sample();
        first.seq = 1;
        first.prev_hash = EntryHash::GENESIS;
        let mut second = sample();
        second.seq = 2;
        second.prev_hash = first.hash();
        let mut cursor = ChainCursor::new();
        cursor.accept_bytes(&first.encode()).unwrap();
        let mut forged = second.clone();
        forged.prev_hash = EntryHash([9; 32]);
        assert_eq!(cursor.clone().accept_bytes(&forged.encode()).unwrap_err().seq, 2);
        cursor.accept_bytes(&second.encode()).unwrap();
        assert_eq!(cursor.next_seq(), 3);
    }

    #[test]
    fn blocks_split_back_into_entries() {
        let mut block = Vec::new();
        block_push(&mut block, b"abc");
        block_push(&mut block, b"");
        block_push(&mut block, b"xy");
        let parts: Vec<_> = block_entries(&block).collect::<Result<_, _>>().unwrap();
        assert_eq!(parts, vec![&b"abc"[..], &b""[..], &b"xy"[..]]);
        assert!(block_entries(&block[..5]).any(|part| part.is_err()));
    }
}
