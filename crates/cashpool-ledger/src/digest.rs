//! The state digest (docs/FORMATS.md, "The state digest"): the SHA-256 of the
//! head and of the nine parts' digests (and of the tenth, `calendars`, once it
//! holds a day). Each part computes its own digest (its
//! line of the specification's table) in its module under `state/`; this
//! module assembles them and holds the canonical JSON line those digests are
//! made of. The specification is the document; `tools/verify-journal.py`
//! computes the same from an export.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::journal::EntryHash;
use crate::money::Currency;
use crate::state::{State, StateDigest};

/// The parts, in the order their digests enter the state digest.
pub(crate) const PARTS: [&str; 9] =
    ["definition", "balances", "transactions", "rates", "limits", "sweeps", "interest", "netting", "statements"];
/// The part after them, whose line is in the state digest only once it holds a day.
pub(crate) const CALENDARS_PART: &str = "calendars";

/// A JSON string.
pub(crate) fn string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always renders as JSON")
}

/// A `date` string.
pub(crate) fn date(date: NaiveDate) -> String {
    format!("\"{}\"", date.format("%Y-%m-%d"))
}

/// An `amount` string: the integer number of minor units.
pub(crate) fn amount(value: Decimal, currency: Currency) -> String {
    format!("\"{}\"", crate::journal::v2::Minor::of(value, currency).0)
}

/// A `dec` string: the decimal without trailing zeros.
pub(crate) fn dec(value: Decimal) -> String {
    format!("\"{}\"", value.normalize())
}

/// A hash in hex, as a JSON string.
pub(crate) fn hash(hash: EntryHash) -> String {
    format!("\"{hash}\"")
}

/// Adds one line, the canonical JSON array of `fields` and `\n`, to a part's hasher.
pub(crate) fn line(hasher: &mut Sha256, fields: &[String]) {
    hasher.update(b"[");
    for (idx, field) in fields.iter().enumerate() {
        if idx > 0 {
            hasher.update(b",");
        }
        hasher.update(field.as_bytes());
    }
    hasher.update(b"]\n");
}

/// A part's digest: the SHA-256 of its lines.
pub(crate) fn finish(hasher: Sha256) -> EntryHash {
    EntryHash(hasher.finalize().into())
}

/// The state digest of a folded state: the head, then each part's digest in [`PARTS`] order.
pub(crate) fn state_digest(state: &State) -> StateDigest {
    let mut hasher = Sha256::new();
    line(&mut hasher, &[string("cashpool-state"), "2".into(), state.head_seq().to_string(), hash(state.head_hash())]);
    for (name, digest) in PARTS.iter().zip(state.part_digests()) {
        line(&mut hasher, &[string(name), hash(digest)]);
    }
    // The tenth part, only once it holds a day: a journal without calendars keeps its digest.
    if let Some(digest) = state.calendars_digest() {
        line(&mut hasher, &[string(CALENDARS_PART), hash(digest)]);
    }
    StateDigest(finish(hasher))
}
