//! The nouns of the ledger: zones, account kinds, purposes, accounts.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Currency;

/// The entity id reserved for counterparties outside the group.
pub(crate) const EXTERNAL_ENTITY: &str = "EXTERNAL";
/// Every system account id starts with this prefix.
pub(crate) const SYSTEM_ACCOUNT_PREFIX: &str = "SYS-";
/// The FX position account: every FX transaction routes each currency through it.
pub(crate) const SYS_FX_POSITION: &str = "SYS-FX-POSITION";
/// Where rounding residues go.
pub(crate) const SYS_ROUNDING: &str = "SYS-ROUNDING";
/// Intercompany interest income and expense of the pool.
pub const SYS_INTEREST: &str = "SYS-INTEREST";
/// Enterprise income tax withheld on interest paid to offshore members, payable to the tax
/// office. (Named before the VAT was withheld too: in stores of that time it holds the one tax
/// withheld, which was income tax.)
pub(crate) const SYS_WITHHOLDING_TAX: &str = "SYS-WHT";
/// VAT withheld on interest paid to offshore members, payable. Opened by the first settlement
/// that books to it ([`TAX_ACCOUNTS`]).
pub(crate) const SYS_VAT: &str = "SYS-WHT-VAT";
/// The surcharges on that VAT (urban maintenance and construction tax, education surcharge,
/// local education surcharge), payable. Opened like [`SYS_VAT`].
pub(crate) const SYS_SURCHARGES: &str = "SYS-WHT-SURCHARGES";
/// Bank charges and fees.
pub const SYS_FEES: &str = "SYS-FEES";
/// The pool's side of every intercompany position (the host's books).
pub const SYS_IC_POOL: &str = "SYS-IC-POOL";
/// The prefix of a member's intercompany position account: `SYS-IC-<entity>`.
pub(crate) const SYS_IC_PREFIX: &str = "SYS-IC-";

/// The intercompany position account of a member entity.
pub fn ic_account(entity: &str) -> String {
    format!("{SYS_IC_PREFIX}{entity}")
}

/// The system accounts created at init, with what each is for.
pub(crate) const SYSTEM_ACCOUNTS: &[(&str, &str)] = &[
    (SYS_FX_POSITION, "FX position: the other side of every currency conversion"),
    (SYS_ROUNDING, "rounding residues"),
    (SYS_INTEREST, "intercompany interest income and expense"),
    (SYS_WITHHOLDING_TAX, "income tax withheld, payable"),
    (SYS_FEES, "bank charges and fees"),
];

/// The system accounts of the taxes withheld on interest that a store opens
/// when an interest settlement first books to them, in the same commit (so
/// that stores created before they existed need nothing done to them, and
/// new stores open them the same way).
pub(crate) const TAX_ACCOUNTS: &[(&str, &str)] =
    &[(SYS_VAT, "VAT withheld, payable"), (SYS_SURCHARGES, "surcharges on the VAT withheld, payable")];

/// Where an account sits for the cross-border rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Zone {
    /// Ordinary domestic accounts, the domestic master account.
    Onshore,
    /// Free-trade (FT) accounts.
    Ft,
    /// Accounts abroad, OSA, NRA, the international master account.
    Offshore,
}

impl Zone {
    pub fn as_str(self) -> &'static str {
        match self {
            Zone::Onshore => "onshore",
            Zone::Ft => "ft",
            Zone::Offshore => "offshore",
        }
    }
}

/// What an account is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountKind {
    DomesticMaster,
    InternationalMaster,
    Settlement,
    Fte,
    Ftn,
    Ftu,
    Nra,
    Osa,
    /// Counterparties outside the group: unbounded, never swept.
    External,
    /// Created by the ledger (`SYS-…`): unbounded.
    System,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::DomesticMaster => "domestic-master",
            AccountKind::InternationalMaster => "international-master",
            AccountKind::Settlement => "settlement",
            AccountKind::Fte => "fte",
            AccountKind::Ftn => "ftn",
            AccountKind::Ftu => "ftu",
            AccountKind::Nra => "nra",
            AccountKind::Osa => "osa",
            AccountKind::External => "external",
            AccountKind::System => "system",
        }
    }

    /// External and system accounts have no overdraft limit.
    pub(crate) fn is_unbounded(self) -> bool {
        matches!(self, AccountKind::External | AccountKind::System)
    }

    /// An account of the group itself: neither an external counterparty
    /// (`external`) nor an account the ledger keeps for itself (`system`,
    /// the `SYS-…` ids). Reports and summaries show these, by kind, whatever
    /// the group's ids look like.
    ///
    /// ```
    /// use cashpool_ledger::model::AccountKind;
    /// assert!(AccountKind::DomesticMaster.is_own());
    /// assert!(AccountKind::Settlement.is_own());
    /// assert!(!AccountKind::External.is_own());
    /// assert!(!AccountKind::System.is_own());
    /// ```
    pub fn is_own(self) -> bool {
        !matches!(self, AccountKind::External | AccountKind::System)
    }
}

/// Why money moves; drives the regulatory classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    CurrentAccount,
    PoolFunding,
    LoanRepayment,
    RealInvestment,
    ForeignDebt,
    OverseasLending,
    Fx,
    Interest,
    Fee,
    Other,
}

impl Purpose {
    pub const ALL: [Purpose; 10] = [
        Purpose::CurrentAccount,
        Purpose::PoolFunding,
        Purpose::LoanRepayment,
        Purpose::RealInvestment,
        Purpose::ForeignDebt,
        Purpose::OverseasLending,
        Purpose::Fx,
        Purpose::Interest,
        Purpose::Fee,
        Purpose::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::CurrentAccount => "current_account",
            Purpose::PoolFunding => "pool_funding",
            Purpose::LoanRepayment => "loan_repayment",
            Purpose::RealInvestment => "real_investment",
            Purpose::ForeignDebt => "foreign_debt",
            Purpose::OverseasLending => "overseas_lending",
            Purpose::Fx => "fx",
            Purpose::Interest => "interest",
            Purpose::Fee => "fee",
            Purpose::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An account as opened in the journal: one id, several currencies (the FT
/// account shape), an owner, a zone and an overdraft per currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSpec {
    pub id: String,
    /// The owning entity, or `EXTERNAL` (counterparties outside the group).
    pub entity: String,
    pub kind: AccountKind,
    /// `None` only for system accounts, which sit in no zone.
    pub zone: Option<Zone>,
    pub bank_bic: Option<String>,
    pub bank_id: Option<String>,
    /// Sorted, no duplicates. Empty for system accounts: they hold any currency.
    pub currencies: Vec<Currency>,
    /// How far below zero each currency may go (absent: 0). Sorted by currency.
    pub overdrafts: Vec<(Currency, Decimal)>,
}

impl AccountSpec {
    /// Whether the account may hold `currency`.
    pub(crate) fn holds(&self, currency: Currency) -> bool {
        self.kind == AccountKind::System || self.currencies.binary_search(&currency).is_ok()
    }

    /// The overdraft for `currency`, or `None` when the account is unbounded.
    pub fn overdraft(&self, currency: Currency) -> Option<Decimal> {
        if self.kind.is_unbounded() {
            return None;
        }
        Some(self.overdrafts.iter().find(|(ccy, _)| *ccy == currency).map_or(Decimal::ZERO, |(_, limit)| *limit))
    }
}

/// How a transaction crosses the pool's borders, from the zones of the
/// accounts it posts to (system accounts sit in no zone and do not count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// Only system accounts.
    Internal,
    /// Onshore accounts only.
    Domestic,
    /// Offshore accounts only.
    Offshore,
    /// FT accounts, alone or with offshore accounts: the free first line.
    FirstLine,
    /// Onshore with offshore accounts, no FT account: cross-border.
    CrossBorder,
    /// FT with onshore accounts: cross-border through the controlled second line.
    SecondLine,
}

impl Classification {
    /// Classifies by the zones present.
    pub(crate) fn of_zones(onshore: bool, ft: bool, offshore: bool) -> Classification {
        match (onshore, ft, offshore) {
            (false, false, false) => Classification::Internal,
            (true, false, false) => Classification::Domestic,
            (false, false, true) => Classification::Offshore,
            (false, true, _) => Classification::FirstLine,
            (true, false, true) => Classification::CrossBorder,
            (true, true, _) => Classification::SecondLine,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Internal => "internal",
            Classification::Domestic => "domestic",
            Classification::Offshore => "offshore",
            Classification::FirstLine => "first_line",
            Classification::CrossBorder => "cross_border",
            Classification::SecondLine => "second_line",
        }
    }

    /// Whether the movement crosses between onshore and FT or offshore.
    pub(crate) fn is_cross_border(self) -> bool {
        matches!(self, Classification::CrossBorder | Classification::SecondLine)
    }
}

impl Purpose {
    /// The purposes allowed through the second line (FT ↔ onshore), in CNY only.
    pub(crate) const SECOND_LINE: [Purpose; 3] =
        [Purpose::CurrentAccount, Purpose::LoanRepayment, Purpose::RealInvestment];

    /// The purposes of cross-border pool movements that count toward the pool's caps.
    pub(crate) const POOL_COUNTED: [Purpose; 3] =
        [Purpose::PoolFunding, Purpose::ForeignDebt, Purpose::OverseasLending];
}
