//! Totals per currency of the ledger's query rows ([`Ledger::balances`],
//! [`Ledger::positions`]): what a summary shows under a table of them, so
//! that no caller adds up balances of its own.
//!
//! [`Ledger::balances`]: crate::Ledger::balances
//! [`Ledger::positions`]: crate::Ledger::positions

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::money::Currency;
use crate::{BalanceRow, PositionRow};

/// Adds `amount` to its currency's total, keeping exactly the currency's minor units.
fn add(totals: &mut BTreeMap<Currency, Decimal>, currency: Currency, amount: Decimal) {
    let total = totals.entry(currency).or_insert_with(|| {
        let mut zero = Decimal::ZERO;
        zero.rescale(currency.minor_units());
        zero
    });
    *total = total.checked_add(amount).expect("a total of balances fits a decimal");
    total.rescale(currency.minor_units());
    assert_eq!(total.scale(), currency.minor_units());
}

/// The sum of `rows` per currency (a currency without rows has no total).
///
/// ```
/// use cashpool_ledger::money::Currency;
/// use cashpool_ledger::totals::balance_totals;
/// use cashpool_ledger::BalanceRow;
/// use rust_decimal::Decimal;
/// let usd = Currency::from_code("USD").unwrap();
/// let row = |account: &str, cents| BalanceRow { account: account.into(), currency: usd, balance: Decimal::new(cents, 2) };
/// let totals = balance_totals(&[row("A", 150), row("B", -25)]);
/// assert_eq!(totals[&usd].to_string(), "1.25");
/// ```
pub fn balance_totals<'a>(rows: impl IntoIterator<Item = &'a BalanceRow>) -> BTreeMap<Currency, Decimal> {
    let mut totals = BTreeMap::new();
    for row in rows {
        add(&mut totals, row.currency, row.balance);
    }
    totals
}

/// The net of the members' intercompany positions per currency (a currency
/// without rows has no total): positive, the members together lent to the pool.
pub fn position_totals<'a>(rows: impl IntoIterator<Item = &'a PositionRow>) -> BTreeMap<Currency, Decimal> {
    let mut totals = BTreeMap::new();
    for row in rows {
        add(&mut totals, row.currency, row.position);
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_per_currency_at_its_minor_units() {
        let usd = Currency::from_code("USD").expect("USD");
        let jpy = Currency::from_code("JPY").expect("JPY");
        let rows = [
            BalanceRow { account: "A".into(), currency: usd, balance: Decimal::new(100, 2) },
            BalanceRow { account: "A".into(), currency: jpy, balance: Decimal::new(500, 0) },
            BalanceRow { account: "B".into(), currency: usd, balance: Decimal::ZERO },
        ];
        let totals = balance_totals(&rows);
        assert_eq!(totals.len(), 2);
        assert_eq!(totals[&usd].to_string(), "1.00");
        assert_eq!(totals[&jpy].to_string(), "500");
        assert!(balance_totals(&[]).is_empty());
    }

    #[test]
    fn positions_net_to_what_the_members_lent() {
        let cny = Currency::from_code("CNY").expect("CNY");
        let rows = [
            PositionRow { entity: "E1".into(), currency: cny, position: Decimal::new(100_000, 2) },
            PositionRow { entity: "E2".into(), currency: cny, position: Decimal::new(-40_000, 2) },
        ];
        let totals = position_totals(&rows);
        assert_eq!(totals[&cny].to_string(), "600.00");
        assert_eq!(totals.len(), 1);
    }
}
