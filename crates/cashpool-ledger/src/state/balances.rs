//! The `balances` part: per account and currency, the total and the net
//! change per value date. Changed only by [`Balances::apply`] (one posting of
//! a checked transaction) and [`Balances::undo`] (a rolled-back plan).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::snapshot::{amount_of, date_of, day, AccountBalancesSnap, BalancesSnap, CurrencyBalanceSnap, Exact};
use super::Applied;
use crate::digest::{amount, date, finish, line, string};
use crate::journal::EntryHash;
use crate::money::Currency;

/// The balance of one currency of one account.
#[derive(Debug, Clone, Default)]
pub(crate) struct CurrencyBalance {
    /// The sum of every posting.
    total: Decimal,
    /// Net change per value date; never holds a zero.
    by_date: BTreeMap<NaiveDate, Decimal>,
}

impl CurrencyBalance {
    /// The sum of every posting.
    pub(crate) fn total(&self) -> Decimal {
        self.total
    }

    /// The net change per value date (never a zero), ascending.
    pub(crate) fn by_date(&self) -> &BTreeMap<NaiveDate, Decimal> {
        &self.by_date
    }
}

/// The balances of one account.
#[derive(Debug, Clone)]
struct AccountBalances {
    /// The account's id (for the digest's order).
    id: String,
    /// Sorted by currency, one entry per currency ever posted.
    balances: Vec<(Currency, CurrencyBalance)>,
}

impl AccountBalances {
    fn balance(&self, currency: Currency) -> Option<&CurrencyBalance> {
        self.balances.iter().find(|(ccy, _)| *ccy == currency).map(|(_, balance)| balance)
    }

    fn balance_mut(&mut self, currency: Currency) -> &mut CurrencyBalance {
        let idx = match self.balances.binary_search_by(|(ccy, _)| ccy.cmp(&currency)) {
            Ok(idx) => idx,
            Err(idx) => {
                self.balances.insert(idx, (currency, CurrencyBalance::default()));
                idx
            }
        };
        &mut self.balances[idx].1
    }
}

/// Every account's balances, by account index (the definition's opening order).
#[derive(Debug, Clone, Default)]
pub(crate) struct Balances {
    accounts: Vec<AccountBalances>,
}

impl Balances {
    /// Opens the balances of a new account; returns its index.
    pub(crate) fn apply_account(&mut self, id: &str) -> u32 {
        let idx = u32::try_from(self.accounts.len()).expect("fewer than 2^32 accounts");
        self.accounts.push(AccountBalances { id: id.to_string(), balances: Vec::new() });
        idx
    }

    /// Drops the balances of the accounts opened after the first `n` (a
    /// rolled-back plan, whose postings to them are undone already: they hold nothing).
    pub(crate) fn undo_accounts(&mut self, n: usize) {
        for account in self.accounts.iter().skip(n) {
            assert!(
                account.balances.iter().all(|(_, balance)| balance.total.is_zero() && balance.by_date.is_empty()),
                "account {} is closed again holding money",
                account.id
            );
        }
        self.accounts.truncate(n);
    }

    /// Applies one posting of a checked transaction.
    pub(crate) fn apply(&mut self, posting: Applied) {
        self.add(posting.account_idx, posting.currency, posting.value_date, posting.amount);
    }

    /// Reverts postings applied by [`Balances::apply`], last first.
    pub(crate) fn undo(&mut self, applied: &[Applied]) {
        for posting in applied.iter().rev() {
            self.add(posting.account_idx, posting.currency, posting.value_date, -posting.amount);
        }
    }

    fn add(&mut self, account_idx: u32, currency: Currency, value_date: NaiveDate, amount: Decimal) {
        let balance = self.accounts[account_idx as usize].balance_mut(currency);
        // Checked before: the transaction's net change fits; a single posting is bounded by it.
        balance.total = balance.total.checked_add(amount).expect("checked: balance stays in range");
        let day = balance.by_date.entry(value_date).or_insert(Decimal::ZERO);
        *day = day.checked_add(amount).expect("checked: a day's change stays in range");
        if day.is_zero() {
            balance.by_date.remove(&value_date);
        }
    }

    /// The total balance of an account in a currency (zero when it never held it).
    pub(crate) fn total(&self, account_idx: u32, currency: Currency) -> Decimal {
        self.accounts[account_idx as usize].balance(currency).map_or(Decimal::ZERO, |balance| balance.total)
    }

    /// The balance of an account in a currency as of the end of `as_of` (value-dated), or now,
    /// at the currency's minor units.
    pub(crate) fn balance(&self, account_idx: u32, currency: Currency, as_of: Option<NaiveDate>) -> Decimal {
        let mut value = match self.accounts[account_idx as usize].balance(currency) {
            None => Decimal::ZERO,
            Some(balance) => match as_of {
                None => balance.total,
                Some(date) => balance.by_date.range(..=date).fold(Decimal::ZERO, |sum, (_, change)| sum + *change),
            },
        };
        // Every balance carries exactly its currency's minor units, also when nothing was posted.
        value.rescale(currency.minor_units());
        value
    }

    /// An account's balance records, by currency.
    pub(crate) fn of_account(&self, account_idx: u32) -> impl Iterator<Item = (Currency, &CurrencyBalance)> + '_ {
        self.accounts[account_idx as usize].balances.iter().map(|(currency, balance)| (*currency, balance))
    }

    /// Every balance record: (account index, currency, balance), by account index then currency.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, Currency, &CurrencyBalance)> + '_ {
        self.accounts.iter().enumerate().flat_map(|(idx, account)| {
            let idx = u32::try_from(idx).expect("fewer than 2^32 accounts");
            account.balances.iter().map(move |(currency, balance)| (idx, *currency, balance))
        })
    }

    /// The account ids, by index (the definition's must be the same).
    pub(crate) fn account_ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.accounts.iter().map(|account| account.id.as_str())
    }

    /// Per account: currencies sorted and distinct; per currency: no zero
    /// day kept, and the total is the sum of the changes by date.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        for account in &self.accounts {
            if !account.balances.windows(2).all(|pair| pair[0].0 < pair[1].0) {
                return Err(format!("{}: currencies not sorted", account.id));
            }
            for (currency, balance) in &account.balances {
                if let Some((day, _)) = balance.by_date.iter().find(|(_, change)| change.is_zero()) {
                    return Err(format!("{} {currency}: a zero change is kept for {day}", account.id));
                }
                let sum = balance.by_date.values().try_fold(Decimal::ZERO, |sum, change| sum.checked_add(*change));
                if sum != Some(balance.total) {
                    return Err(format!(
                        "{} {currency}: the total {} is not the sum of the changes by date {sum:?}",
                        account.id, balance.total
                    ));
                }
            }
        }
        Ok(())
    }

    /// The part as the state snapshot keeps it: per account and currency, the change per value date.
    pub(crate) fn snapshot(&self) -> BalancesSnap {
        BalancesSnap {
            accounts: self
                .accounts
                .iter()
                .map(|account| AccountBalancesSnap {
                    id: account.id.clone(),
                    currencies: account
                        .balances
                        .iter()
                        .map(|(currency, balance)| CurrencyBalanceSnap {
                            currency: currency.code().to_string(),
                            days: balance
                                .by_date
                                .iter()
                                .map(|(date, change)| (day(*date), Exact::of(*change)))
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The part a snapshot kept; each total is the sum of its days.
    pub(crate) fn restore(snap: BalancesSnap) -> Result<Balances, String> {
        let mut accounts = Vec::with_capacity(snap.accounts.len());
        for account in snap.accounts {
            let mut balances = Vec::with_capacity(account.currencies.len());
            for rec in account.currencies {
                let currency = Currency::from_code(&rec.currency)
                    .ok_or_else(|| format!("{}: unknown currency {:?}", account.id, rec.currency))?;
                let mut balance =
                    CurrencyBalance { total: Decimal::new(0, currency.minor_units()), by_date: BTreeMap::new() };
                for (day_number, change) in rec.days {
                    let date = date_of(day_number)?;
                    let change = amount_of(change, currency)?;
                    if balance.by_date.last_key_value().is_some_and(|(last, _)| *last >= date) {
                        return Err(format!("{} {currency}: value dates not ascending at {date}", account.id));
                    }
                    balance.total = balance
                        .total
                        .checked_add(change)
                        .ok_or_else(|| format!("{} {currency}: the total overflows", account.id))?;
                    balance.by_date.insert(date, change);
                }
                balances.push((currency, balance));
            }
            accounts.push(AccountBalances { id: account.id, balances });
        }
        Ok(Balances { accounts })
    }

    /// For each account (by id) and currency with a non-zero day:
    /// `[account, currency, total, [[date, change], …]]`.
    pub(crate) fn digest(&self) -> EntryHash {
        let mut hasher = Sha256::new();
        let mut order: Vec<&AccountBalances> = self.accounts.iter().collect();
        order.sort_by(|a, b| a.id.cmp(&b.id));
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
                        string(&account.id),
                        string(currency.code()),
                        amount(balance.total, *currency),
                        format!("[{}]", days.join(",")),
                    ],
                );
            }
        }
        finish(hasher)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn posting(day: u32, amount: Decimal) -> Applied {
        Applied {
            account_idx: 0,
            currency: Currency::from_code("EUR").unwrap(),
            value_date: NaiveDate::from_ymd_opt(2026, 3, day).unwrap(),
            amount,
        }
    }

    #[test]
    fn a_day_that_nets_to_zero_is_not_kept_and_undo_restores_the_empty_balance() {
        let mut balances = Balances::default();
        assert_eq!(balances.apply_account("M-SZ-EUR"), 0);
        let applied = [posting(2, dec!(10.00)), posting(2, dec!(-10.00)), posting(3, dec!(5.00))];
        for posting in applied {
            balances.apply(posting);
        }
        let eur = Currency::from_code("EUR").unwrap();
        assert_eq!(balances.total(0, eur), dec!(5.00));
        assert_eq!(balances.of_account(0).next().unwrap().1.by_date().len(), 1, "the zero day is dropped");
        balances.check_invariants().unwrap();
        balances.undo(&applied);
        assert_eq!(balances.total(0, eur), Decimal::ZERO);
        assert!(balances.of_account(0).all(|(_, balance)| balance.by_date().is_empty()));
        balances.check_invariants().unwrap();
    }

    #[test]
    fn a_total_that_is_not_the_sum_of_its_days_or_a_kept_zero_day_is_reported() {
        let mut balances = Balances::default();
        balances.apply_account("M-SZ-EUR");
        balances.apply(posting(2, dec!(10.00)));
        let mut broken = balances.clone();
        broken.accounts[0].balances[0].1.total = dec!(11.00);
        let reason = broken.check_invariants().unwrap_err();
        assert!(reason.contains("is not the sum of the changes by date"), "{reason}");
        let mut broken = balances.clone();
        broken.accounts[0].balances[0].1.by_date.insert(NaiveDate::from_ymd_opt(2026, 3, 9).unwrap(), Decimal::ZERO);
        let reason = broken.check_invariants().unwrap_err();
        assert!(reason.contains("a zero change is kept for 2026-03-09"), "{reason}");
    }
}
