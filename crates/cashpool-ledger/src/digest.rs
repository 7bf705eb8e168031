//! The state digest (docs/FORMATS.md, "The state digest"): nine parts, each
//! the SHA-256 of lines of canonical JSON arrays, and the digest of the whole
//! the SHA-256 of the head and the parts' digests. The specification is the
//! document; `tools/verify-journal.py` computes the same from an export.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::journal::v2::{account_json, group_json};
use crate::journal::EntryHash;
use crate::money::Currency;
use crate::state::{State, StateDigest};

/// The parts, in the order their digests enter the state digest.
pub const PARTS: [&str; 9] =
    ["definition", "balances", "transactions", "rates", "limits", "sweeps", "interest", "netting", "statements"];

fn string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always renders as JSON")
}

fn date(date: NaiveDate) -> String {
    format!("\"{}\"", date.format("%Y-%m-%d"))
}

fn amount(value: Decimal, currency: Currency) -> String {
    format!("\"{}\"", crate::journal::v2::Minor::of(value, currency).0)
}

fn dec(value: Decimal) -> String {
    format!("\"{}\"", value.normalize())
}

fn line(hasher: &mut Sha256, fields: &[String]) {
    hasher.update(b"[");
    for (idx, field) in fields.iter().enumerate() {
        if idx > 0 {
            hasher.update(b",");
        }
        hasher.update(field.as_bytes());
    }
    hasher.update(b"]\n");
}

/// Adds one transaction's line to the running `transactions` part:
/// `[seq,"id","hash"]\n`. On the hot path of posting and replay, so it
/// writes into a stack buffer instead of allocating.
pub(crate) fn transactions_line(hasher: &mut Sha256, seq: u64, id: &str, hash: EntryHash) {
    let mut head = [0u8; 24];
    head[0] = b'[';
    let mut digits = [0u8; 20];
    let mut n = seq;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for idx in 0..len {
        head[1 + idx] = digits[len - 1 - idx];
    }
    head[1 + len] = b',';
    hasher.update(&head[..len + 2]);
    if id.bytes().all(|byte| byte >= 0x20 && byte != b'"' && byte != b'\\') {
        hasher.update(b"\"");
        hasher.update(id.as_bytes());
        hasher.update(b"\"");
    } else {
        hasher.update(string(id).as_bytes());
    }
    let mut tail = [0u8; 69];
    tail[0] = b',';
    tail[1] = b'"';
    for (idx, byte) in hash.0.iter().enumerate() {
        tail[2 + 2 * idx] = b"0123456789abcdef"[usize::from(byte >> 4)];
        tail[3 + 2 * idx] = b"0123456789abcdef"[usize::from(byte & 0xf)];
    }
    tail[66] = b'"';
    tail[67] = b']';
    tail[68] = b'\n';
    hasher.update(tail);
}

fn finish(hasher: Sha256) -> EntryHash {
    EntryHash(hasher.finalize().into())
}

/// Every part's digest, in [`PARTS`] order.
pub(crate) fn part_digests(state: &State) -> [EntryHash; 9] {
    [
        definition(state),
        balances(state),
        finish(state.transactions_part.clone()),
        rates(state),
        limits(state),
        sweeps(state),
        interest(state),
        netting(state),
        statements(state),
    ]
}

/// The state digest of a folded state.
pub(crate) fn state_digest(state: &State) -> StateDigest {
    let mut hasher = Sha256::new();
    line(
        &mut hasher,
        &[string("cashpool-state"), "2".into(), state.head_seq.to_string(), format!("\"{}\"", state.head_hash)],
    );
    for (name, digest) in PARTS.iter().zip(part_digests(state)) {
        line(&mut hasher, &[string(name), format!("\"{digest}\"")]);
    }
    StateDigest(finish(hasher))
}

fn definition(state: &State) -> EntryHash {
    let mut hasher = Sha256::new();
    if let Some(config) = &state.config {
        line(&mut hasher, &[string("group"), group_json(config)]);
    }
    for account in &state.accounts {
        line(&mut hasher, &[string("account"), account_json(&account.spec)]);
    }
    finish(hasher)
}

fn balances(state: &State) -> EntryHash {
    let mut hasher = Sha256::new();
    let mut order: Vec<_> = state.accounts.iter().collect();
    order.sort_by(|a, b| a.spec.id.cmp(&b.spec.id));
    for account in order {
        for (currency, balance) in &account.balances {
            if balance.by_date.is_empty() {
                continue;
            }
            let days: Vec<String> = balance
                .by_date
                .iter()
                .map(|(day, change)| format!("[{},{}]", date(*day), amount(*change, *currency)))
                .collect();
            line(
                &mut hasher,
                &[
                    string(&account.spec.id),
                    string(currency.code()),
                    amount(balance.total, *currency),
                    format!("[{}]", days.join(",")),
                ],
            );
        }
    }
    finish(hasher)
}

fn rates(state: &State) -> EntryHash {
    let mut rows: Vec<_> = state.rates.rows().collect();
    rows.sort_by(|a, b| {
        (a.currency.code(), a.market.as_str(), a.date).cmp(&(b.currency.code(), b.market.as_str(), b.date))
    });
    let mut hasher = Sha256::new();
    for row in rows {
        line(&mut hasher, &[string(row.currency.code()), string(row.market.as_str()), date(row.date), dec(row.rate)]);
    }
    finish(hasher)
}

fn limits(state: &State) -> EntryHash {
    let mut hasher = Sha256::new();
    for row in &state.params.pool {
        line(
            &mut hasher,
            &[
                string("pool"),
                date(row.effective),
                dec(row.owners_equity),
                dec(row.inflow_leverage),
                dec(row.inflow_parameter),
                dec(row.outflow_coefficient),
            ],
        );
    }
    for (effective, parameter) in &state.params.macro_prudential {
        line(&mut hasher, &[string("macro_prudential"), date(*effective), dec(*parameter)]);
    }
    let base = state.base_currency();
    for (day, flow) in &state.limits.pool_flows {
        line(&mut hasher, &[string("flow"), date(*day), amount(*flow, base)]);
    }
    for (id, loan) in &state.limits.loans {
        let repayments: Vec<String> = loan
            .repayments
            .iter()
            .map(|(day, paid)| format!("[{},{}]", date(*day), amount(*paid, loan.currency)))
            .collect();
        line(
            &mut hasher,
            &[
                string("loan"),
                string(id),
                string(&loan.entity),
                string(loan.currency.code()),
                amount(loan.principal, loan.currency),
                date(loan.drawn),
                loan.term_days.to_string(),
                dec(loan.base_rate),
                loan.usd_base_rate.map_or("null".into(), dec),
                format!("[{}]", repayments.join(",")),
            ],
        );
    }
    finish(hasher)
}

fn sweeps(state: &State) -> EntryHash {
    let mut hasher = Sha256::new();
    for (day, (seq, hash)) in &state.sweep_entries {
        line(&mut hasher, &[date(*day), seq.to_string(), format!("\"{hash}\"")]);
    }
    finish(hasher)
}

fn interest(state: &State) -> EntryHash {
    let mut hasher = Sha256::new();
    for (from, to, seq, hash) in &state.interest_entries {
        line(&mut hasher, &[string("period"), date(*from), date(*to), seq.to_string(), format!("\"{hash}\"")]);
    }
    for (currency, carry) in &state.interest_carry {
        if !carry.is_zero() {
            line(&mut hasher, &[string("carry"), string(currency.code()), dec(*carry)]);
        }
    }
    finish(hasher)
}

fn netting(state: &State) -> EntryHash {
    let mut hasher = Sha256::new();
    for (cycle, (seq, hash)) in &state.netting_entries {
        line(&mut hasher, &[string(cycle), seq.to_string(), format!("\"{hash}\"")]);
    }
    finish(hasher)
}

fn statements(state: &State) -> EntryHash {
    let mut keys: Vec<_> = state.bank_statements.iter().collect();
    keys.sort();
    let mut hasher = Sha256::new();
    for ((k0, k1, k2), (content_hash, seq)) in keys {
        line(&mut hasher, &[string(k0), string(k1), string(k2), format!("\"{content_hash}\""), seq.to_string()]);
    }
    finish(hasher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transactions_line_is_canonical_json() {
        for (seq, id) in [(0u64, "T-1"), (7, "a\"b"), (u64::MAX, "\u{1}x"), (123_456, "中文")] {
            let hash = EntryHash([0xab; 32]);
            let mut fast = Sha256::new();
            transactions_line(&mut fast, seq, id, hash);
            let mut plain = Sha256::new();
            line(&mut plain, &[seq.to_string(), string(id), format!("\"{hash}\"")]);
            assert_eq!(fast.finalize(), plain.finalize(), "{seq} {id:?}");
        }
    }
}
