//! What a PRC payer withholds on interest it pays to a non-resident (DOMAIN §5;
//! docs/SWEEPS.md, "Withholding"): VAT, the surcharges on that VAT and
//! enterprise income tax, each rounded to the currency's minor units.
//!
//! The interest the pool pays is the price of a loan service **including
//! VAT**. From it, with the [`WithholdingRates`] in force on the value date:
//!
//! 1. the interest without VAT is `interest ÷ (1 + vat rate)`, rounded
//!    half-even to the minor unit, and the VAT is the rest: `interest −
//!    interest without VAT`. That is 财税〔2016〕36号 annex 1 article 20,
//!    `应扣缴税额 = 购买方支付的价款 ÷ (1 + 税率) × 税率`, split the way a VAT
//!    invoice splits a price (amount + tax = the total, exactly);
//! 2. the income tax is `interest without VAT × income tax rate`, rounded:
//!    a non-resident's income tax is levied on the income without VAT
//!    (国家税务总局公告2013年第9号), at 10 % (企业所得税法实施条例 article
//!    91) or the treaty's rate;
//! 3. each surcharge is `VAT × its rate`, rounded: the urban maintenance and
//!    construction tax, the education surcharge and the local education
//!    surcharge are levied on the VAT (none since 2021-09-01 on VAT a payee
//!    abroad bears: 财政部 税务总局公告2021年第28号);
//! 4. the net paid to the member is `interest − VAT − income tax − surcharges`.
//!
//! Every tax is rounded half-even to the currency's minor units, like every
//! amount the ledger computes. What rounding a tax leaves is not money the
//! ledger holds: the tax due is the rounded amount, and the member's net is
//! the interest less the rounded taxes, so `interest = net + Σ taxes` holds
//! exactly and no fraction of a minor unit is lost or booked. (The interest's
//! own rounding residue is booked as before, `settle.rs`.)
//!
//! Everything is exact [`Decimal`] arithmetic, checked; nothing panics. The
//! one division, `interest ÷ (1 + vat rate)`, is exact to 28 significant
//! digits, far below a minor unit, and cannot land on a false tie: the exact
//! quotient of an amount by `1 + r` (r with a handful of decimals) is a
//! fraction whose distance from a half minor unit, when not zero, is many
//! orders of magnitude above 10^-20 minor units.

use rust_decimal::Decimal;

use crate::config::WithholdingRates;
use crate::money::{round, Currency, RoundingMode};

/// The taxes withheld on one payment of interest, each at the currency's minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Withheld {
    /// Enterprise income tax (企业所得税).
    pub income_tax: Decimal,
    /// VAT (增值税).
    pub vat: Decimal,
    /// Urban maintenance and construction tax (城市维护建设税), on the VAT.
    pub urban_maintenance_tax: Decimal,
    /// Education surcharge (教育费附加), on the VAT.
    pub education_surcharge: Decimal,
    /// Local education surcharge (地方教育附加), on the VAT.
    pub local_education_surcharge: Decimal,
}

impl Withheld {
    /// Nothing withheld, every amount at `currency`'s minor units (`0.00`).
    pub fn zero(currency: Currency) -> Withheld {
        let zero = crate::money::at_scale(Decimal::ZERO, currency);
        Withheld {
            income_tax: zero,
            vat: zero,
            urban_maintenance_tax: zero,
            education_surcharge: zero,
            local_education_surcharge: zero,
        }
    }

    /// Income tax alone: what an accrual journaled before the VAT and the
    /// surcharges were withheld recorded (its `withholding_tax` was the income tax).
    pub fn income_tax_only(income_tax: Decimal, currency: Currency) -> Withheld {
        Withheld { income_tax, ..Withheld::zero(currency) }
    }

    /// The three surcharges on the VAT together (within range wherever
    /// [`Withheld::total`] is).
    pub fn surcharges(&self) -> Decimal {
        self.urban_maintenance_tax + self.education_surcharge + self.local_education_surcharge
    }

    /// Everything withheld: income tax, VAT and surcharges.
    ///
    /// # Panics
    ///
    /// When the sum leaves `Decimal`'s range, which [`withhold`] and the
    /// journal's reader rule out ([`Withheld::checked_total`]).
    pub fn total(&self) -> Decimal {
        self.checked_total().expect("the taxes withheld add up within the decimal range")
    }

    /// [`Withheld::total`], or `None` when the sum leaves `Decimal`'s range.
    pub fn checked_total(&self) -> Option<Decimal> {
        [self.vat, self.urban_maintenance_tax, self.education_surcharge, self.local_education_surcharge]
            .into_iter()
            .try_fold(self.income_tax, Decimal::checked_add)
    }

    /// Whether anything but income tax is withheld (VAT or a surcharge).
    pub fn has_indirect_taxes(&self) -> bool {
        !self.vat.is_zero() || !self.surcharges().is_zero()
    }
}

/// The taxes withheld on `interest` (the gross interest paid, VAT included,
/// at `currency`'s minor units) at `rates`; nothing on zero or negative
/// interest (the member pays the pool). See the module docs for the rules.
///
/// ```
/// use cashpool_ledger::config::WithholdingRates;
/// use cashpool_ledger::money::Currency;
/// use cashpool_ledger::withholding::withhold;
/// use chrono::NaiveDate;
/// use rust_decimal::Decimal;
///
/// let usd = Currency::from_code("USD").unwrap();
/// let amount = |text: &str| Decimal::from_str_exact(text).unwrap();
/// // A member abroad without a treaty rate, paid USD 10,600.00 of interest on 2020-06-30:
/// // 10,000.00 without VAT, 600.00 VAT, 1,000.00 income tax, surcharges 7 %, 3 % and 2 % of the VAT.
/// let rates = WithholdingRates::national(NaiveDate::from_ymd_opt(2020, 6, 30).unwrap());
/// let taxes = withhold(amount("10600.00"), usd, &rates).unwrap();
/// assert_eq!(taxes.vat, amount("600.00"));
/// assert_eq!(taxes.income_tax, amount("1000.00"));
/// assert_eq!(
///     (taxes.urban_maintenance_tax, taxes.education_surcharge, taxes.local_education_surcharge),
///     (amount("42.00"), amount("18.00"), amount("12.00"))
/// );
/// assert_eq!(taxes.total(), amount("1672.00")); // the member receives 8,928.00
/// ```
///
/// # Errors
///
/// [`WithholdingError::Overflow`] when an intermediate leaves `Decimal`'s
/// range (not for any amount the ledger accepts);
/// [`WithholdingError::ExceedsInterest`] when the rates would withhold more
/// than the interest (each rate is below 1, but the surcharges of high
/// rates on a high VAT can add up past it).
pub fn withhold(interest: Decimal, currency: Currency, rates: &WithholdingRates) -> Result<Withheld, WithholdingError> {
    if interest <= Decimal::ZERO {
        return Ok(Withheld::zero(currency));
    }
    let overflow = WithholdingError::Overflow;
    let divisor = Decimal::ONE.checked_add(rates.vat).ok_or(overflow)?;
    let exclusive = round(interest.checked_div(divisor).ok_or(overflow)?, currency, RoundingMode::HalfEven);
    let vat = interest.checked_sub(exclusive.rounded).ok_or(overflow)?;
    let of = |base: Decimal, rate: Decimal| -> Result<Decimal, WithholdingError> {
        let exact = base.checked_mul(rate).ok_or(overflow)?;
        Ok(round(exact, currency, RoundingMode::HalfEven).rounded)
    };
    let withheld = Withheld {
        income_tax: of(exclusive.rounded, rates.income_tax)?,
        vat: crate::money::to_currency_scale(vat, currency).map_err(|_| overflow)?,
        urban_maintenance_tax: of(vat, rates.urban_maintenance)?,
        education_surcharge: of(vat, rates.education_surcharge)?,
        local_education_surcharge: of(vat, rates.local_education_surcharge)?,
    };
    // The split is exact: the interest without VAT and the VAT add up to the interest.
    assert_eq!(exclusive.rounded + withheld.vat, interest, "interest without VAT + VAT = interest");
    let total = withheld.checked_total().ok_or(overflow)?;
    if total > interest {
        return Err(WithholdingError::ExceedsInterest { interest, withheld: total });
    }
    Ok(withheld)
}

/// Why [`withhold`] computed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WithholdingError {
    /// An intermediate left `Decimal`'s range.
    #[error("the taxes on the interest overflow the decimal range")]
    Overflow,
    /// The rates withhold more than the interest paid.
    #[error("the withholding rates would withhold {withheld} from interest of {interest}; check the entity's [[entity.withholding]] rates")]
    ExceedsInterest {
        /// The interest paid.
        interest: Decimal,
        /// What the rates would withhold.
        withheld: Decimal,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn amount(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    fn ccy(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    fn rates(income_tax: &str, vat: &str, surcharges: [&str; 3]) -> WithholdingRates {
        WithholdingRates {
            income_tax: amount(income_tax),
            vat: amount(vat),
            urban_maintenance: amount(surcharges[0]),
            education_surcharge: amount(surcharges[1]),
            local_education_surcharge: amount(surcharges[2]),
        }
    }

    #[test]
    fn one_payment_worked_by_hand() {
        // CNY 3,100.00 at 10 % income tax and 6 % VAT, no surcharges (2026):
        // 3,100.00 / 1.06 = 2,924.5283… -> 2,924.53 without VAT; VAT 175.47;
        // income tax 292.453 -> 292.45; withheld 467.92; net 2,632.08.
        let taxes = withhold(amount("3100.00"), ccy("CNY"), &rates("0.10", "0.06", ["0", "0", "0"])).unwrap();
        assert_eq!(
            (taxes.vat, taxes.income_tax, taxes.surcharges()),
            (amount("175.47"), amount("292.45"), amount("0"))
        );
        assert_eq!(taxes.total(), amount("467.92"));
        for value in [taxes.vat, taxes.income_tax, taxes.urban_maintenance_tax] {
            assert_eq!(value.scale(), 2, "at the minor units: {taxes:?}");
        }
        // With the 2016-2021 surcharges: 175.47 × 7 % = 12.2829 -> 12.28, × 3 % = 5.2641 -> 5.26,
        // × 2 % = 3.5094 -> 3.51.
        let taxes = withhold(amount("3100.00"), ccy("CNY"), &rates("0.10", "0.06", ["0.07", "0.03", "0.02"])).unwrap();
        assert_eq!(
            (taxes.urban_maintenance_tax, taxes.education_surcharge, taxes.local_education_surcharge),
            (amount("12.28"), amount("5.26"), amount("3.51"))
        );
        assert_eq!(taxes.total(), amount("488.97"));
    }

    #[test]
    fn ties_round_half_even_and_jpy_has_no_minor_units() {
        // No VAT: the income tax is on the whole interest; 1.25 × 10 % = 0.125 -> 0.12 (even).
        let taxes = withhold(amount("1.25"), ccy("CNY"), &rates("0.10", "0", ["0", "0", "0"])).unwrap();
        assert_eq!(taxes, Withheld::income_tax_only(amount("0.12"), ccy("CNY")));
        assert!(!taxes.has_indirect_taxes());
        // JPY 1,000 at 6 % VAT: 943.396… -> 943 without VAT, VAT 57, income tax 94.3 -> 94.
        let taxes = withhold(amount("1000"), ccy("JPY"), &rates("0.10", "0.06", ["0.07", "0.03", "0.02"])).unwrap();
        assert_eq!((taxes.vat, taxes.income_tax), (amount("57"), amount("94")));
        // 57 × 7 % = 3.99 -> 4; × 3 % = 1.71 -> 2; × 2 % = 1.14 -> 1.
        assert_eq!(taxes.surcharges(), amount("7"));
    }

    #[test]
    fn rates_that_would_withhold_more_than_the_interest_are_refused() {
        // Each rate below 1, and yet: VAT 0.99 takes about half, income tax 0.99 of the other
        // half, and three surcharges of 0.99 of the VAT add up past the interest.
        let greedy = rates("0.99", "0.99", ["0.99", "0.99", "0.99"]);
        let err = withhold(amount("100.00"), ccy("CNY"), &greedy).unwrap_err();
        assert!(matches!(err, WithholdingError::ExceedsInterest { .. }), "{err:?}");
        assert!(err.to_string().contains("[[entity.withholding]]"), "{err}");
    }

    #[test]
    fn nothing_is_withheld_on_interest_the_member_pays() {
        let national = WithholdingRates::national(NaiveDate::from_ymd_opt(2020, 1, 1).unwrap());
        for interest in ["0.00", "-3100.00"] {
            let taxes = withhold(amount(interest), ccy("CNY"), &national).unwrap();
            assert_eq!(taxes, Withheld::default());
            assert_eq!(taxes.total().to_string(), "0.00", "at the minor units");
        }
    }

    #[test]
    fn the_national_rules_by_date() {
        let on = |y, m, d| WithholdingRates::national(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        // Before VAT replaced business tax (财税〔2016〕36号): income tax alone.
        assert_eq!(on(2016, 4, 30), rates("0.1", "0", ["0", "0", "0"]));
        assert_eq!(on(2016, 5, 1), rates("0.1", "0.06", ["0.07", "0.03", "0.02"]));
        assert_eq!(on(2021, 8, 31), rates("0.1", "0.06", ["0.07", "0.03", "0.02"]));
        // 财政部 税务总局公告2021年第28号: no surcharge on VAT a payee abroad bears.
        assert_eq!(on(2021, 9, 1), rates("0.1", "0.06", ["0", "0", "0"]));
    }
}
