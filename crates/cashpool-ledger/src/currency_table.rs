//! The ISO 4217 table: every active currency and fund code of ISO 4217
//! List One that has a defined minor unit (as of 2026).
//!
//! Excluded on purpose:
//! - codes whose minor unit is "N.A." (precious metals XAU/XAG/XPT/XPD, XDR,
//!   the bond-market units XBA/XBB/XBC/XBD, XSU, XUA, XTS, XXX);
//! - withdrawn codes: HRK (euro, 2023), SLL (redenominated to SLE), ZWL
//!   (replaced by ZWG), ANG (replaced by XCG), CUC (withdrawn), and BGN
//!   (Bulgaria adopted the euro on 2026-01-01, ISO 4217 Amendment 180).
//!
//! Minor units follow ISO 4217 even where the currency is notionally
//! non-decimal: MGA and MRU are listed with 2 decimals.
//! Numeric codes are written in decimal without the ISO leading zeros
//! (`8` for ALL is ISO "008").

pub(crate) struct CurrencyInfo {
    pub(crate) code: &'static str,
    /// Read only by the unit tests (the table's own checks, and docs/currencies.csv against it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) numeric: u16,
    pub(crate) minor_units: u8,
    /// Read only by the unit tests.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) name: &'static str,
}

/// Sorted by `code` (strictly ascending): `Currency::from_code` binary-searches it.
pub(crate) static CURRENCIES: &[CurrencyInfo] = &[
    CurrencyInfo { code: "AED", numeric: 784, minor_units: 2, name: "UAE Dirham" },
    CurrencyInfo { code: "AFN", numeric: 971, minor_units: 2, name: "Afghani" },
    CurrencyInfo { code: "ALL", numeric: 8, minor_units: 2, name: "Lek" },
    CurrencyInfo { code: "AMD", numeric: 51, minor_units: 2, name: "Armenian Dram" },
    CurrencyInfo { code: "AOA", numeric: 973, minor_units: 2, name: "Kwanza" },
    CurrencyInfo { code: "ARS", numeric: 32, minor_units: 2, name: "Argentine Peso" },
    CurrencyInfo { code: "AUD", numeric: 36, minor_units: 2, name: "Australian Dollar" },
    CurrencyInfo { code: "AWG", numeric: 533, minor_units: 2, name: "Aruban Florin" },
    CurrencyInfo { code: "AZN", numeric: 944, minor_units: 2, name: "Azerbaijan Manat" },
    CurrencyInfo { code: "BAM", numeric: 977, minor_units: 2, name: "Convertible Mark" },
    CurrencyInfo { code: "BBD", numeric: 52, minor_units: 2, name: "Barbados Dollar" },
    CurrencyInfo { code: "BDT", numeric: 50, minor_units: 2, name: "Taka" },
    CurrencyInfo { code: "BHD", numeric: 48, minor_units: 3, name: "Bahraini Dinar" },
    CurrencyInfo { code: "BIF", numeric: 108, minor_units: 0, name: "Burundi Franc" },
    CurrencyInfo { code: "BMD", numeric: 60, minor_units: 2, name: "Bermudian Dollar" },
    CurrencyInfo { code: "BND", numeric: 96, minor_units: 2, name: "Brunei Dollar" },
    CurrencyInfo { code: "BOB", numeric: 68, minor_units: 2, name: "Boliviano" },
    CurrencyInfo { code: "BOV", numeric: 984, minor_units: 2, name: "Mvdol" },
    CurrencyInfo { code: "BRL", numeric: 986, minor_units: 2, name: "Brazilian Real" },
    CurrencyInfo { code: "BSD", numeric: 44, minor_units: 2, name: "Bahamian Dollar" },
    CurrencyInfo { code: "BTN", numeric: 64, minor_units: 2, name: "Ngultrum" },
    CurrencyInfo { code: "BWP", numeric: 72, minor_units: 2, name: "Pula" },
    CurrencyInfo { code: "BYN", numeric: 933, minor_units: 2, name: "Belarusian Ruble" },
    CurrencyInfo { code: "BZD", numeric: 84, minor_units: 2, name: "Belize Dollar" },
    CurrencyInfo { code: "CAD", numeric: 124, minor_units: 2, name: "Canadian Dollar" },
    CurrencyInfo { code: "CDF", numeric: 976, minor_units: 2, name: "Congolese Franc" },
    CurrencyInfo { code: "CHE", numeric: 947, minor_units: 2, name: "WIR Euro" },
    CurrencyInfo { code: "CHF", numeric: 756, minor_units: 2, name: "Swiss Franc" },
    CurrencyInfo { code: "CHW", numeric: 948, minor_units: 2, name: "WIR Franc" },
    CurrencyInfo { code: "CLF", numeric: 990, minor_units: 4, name: "Unidad de Fomento" },
    CurrencyInfo { code: "CLP", numeric: 152, minor_units: 0, name: "Chilean Peso" },
    CurrencyInfo { code: "CNY", numeric: 156, minor_units: 2, name: "Yuan Renminbi" },
    CurrencyInfo { code: "COP", numeric: 170, minor_units: 2, name: "Colombian Peso" },
    CurrencyInfo { code: "COU", numeric: 970, minor_units: 2, name: "Unidad de Valor Real" },
    CurrencyInfo { code: "CRC", numeric: 188, minor_units: 2, name: "Costa Rican Colon" },
    CurrencyInfo { code: "CUP", numeric: 192, minor_units: 2, name: "Cuban Peso" },
    CurrencyInfo { code: "CVE", numeric: 132, minor_units: 2, name: "Cabo Verde Escudo" },
    CurrencyInfo { code: "CZK", numeric: 203, minor_units: 2, name: "Czech Koruna" },
    CurrencyInfo { code: "DJF", numeric: 262, minor_units: 0, name: "Djibouti Franc" },
    CurrencyInfo { code: "DKK", numeric: 208, minor_units: 2, name: "Danish Krone" },
    CurrencyInfo { code: "DOP", numeric: 214, minor_units: 2, name: "Dominican Peso" },
    CurrencyInfo { code: "DZD", numeric: 12, minor_units: 2, name: "Algerian Dinar" },
    CurrencyInfo { code: "EGP", numeric: 818, minor_units: 2, name: "Egyptian Pound" },
    CurrencyInfo { code: "ERN", numeric: 232, minor_units: 2, name: "Nakfa" },
    CurrencyInfo { code: "ETB", numeric: 230, minor_units: 2, name: "Ethiopian Birr" },
    CurrencyInfo { code: "EUR", numeric: 978, minor_units: 2, name: "Euro" },
    CurrencyInfo { code: "FJD", numeric: 242, minor_units: 2, name: "Fiji Dollar" },
    CurrencyInfo { code: "FKP", numeric: 238, minor_units: 2, name: "Falkland Islands Pound" },
    CurrencyInfo { code: "GBP", numeric: 826, minor_units: 2, name: "Pound Sterling" },
    CurrencyInfo { code: "GEL", numeric: 981, minor_units: 2, name: "Lari" },
    CurrencyInfo { code: "GHS", numeric: 936, minor_units: 2, name: "Ghana Cedi" },
    CurrencyInfo { code: "GIP", numeric: 292, minor_units: 2, name: "Gibraltar Pound" },
    CurrencyInfo { code: "GMD", numeric: 270, minor_units: 2, name: "Dalasi" },
    CurrencyInfo { code: "GNF", numeric: 324, minor_units: 0, name: "Guinean Franc" },
    CurrencyInfo { code: "GTQ", numeric: 320, minor_units: 2, name: "Quetzal" },
    CurrencyInfo { code: "GYD", numeric: 328, minor_units: 2, name: "Guyana Dollar" },
    CurrencyInfo { code: "HKD", numeric: 344, minor_units: 2, name: "Hong Kong Dollar" },
    CurrencyInfo { code: "HNL", numeric: 340, minor_units: 2, name: "Lempira" },
    CurrencyInfo { code: "HTG", numeric: 332, minor_units: 2, name: "Gourde" },
    CurrencyInfo { code: "HUF", numeric: 348, minor_units: 2, name: "Forint" },
    CurrencyInfo { code: "IDR", numeric: 360, minor_units: 2, name: "Rupiah" },
    CurrencyInfo { code: "ILS", numeric: 376, minor_units: 2, name: "New Israeli Sheqel" },
    CurrencyInfo { code: "INR", numeric: 356, minor_units: 2, name: "Indian Rupee" },
    CurrencyInfo { code: "IQD", numeric: 368, minor_units: 3, name: "Iraqi Dinar" },
    CurrencyInfo { code: "IRR", numeric: 364, minor_units: 2, name: "Iranian Rial" },
    CurrencyInfo { code: "ISK", numeric: 352, minor_units: 0, name: "Iceland Krona" },
    CurrencyInfo { code: "JMD", numeric: 388, minor_units: 2, name: "Jamaican Dollar" },
    CurrencyInfo { code: "JOD", numeric: 400, minor_units: 3, name: "Jordanian Dinar" },
    CurrencyInfo { code: "JPY", numeric: 392, minor_units: 0, name: "Yen" },
    CurrencyInfo { code: "KES", numeric: 404, minor_units: 2, name: "Kenyan Shilling" },
    CurrencyInfo { code: "KGS", numeric: 417, minor_units: 2, name: "Som" },
    CurrencyInfo { code: "KHR", numeric: 116, minor_units: 2, name: "Riel" },
    CurrencyInfo { code: "KMF", numeric: 174, minor_units: 0, name: "Comorian Franc" },
    CurrencyInfo { code: "KPW", numeric: 408, minor_units: 2, name: "North Korean Won" },
    CurrencyInfo { code: "KRW", numeric: 410, minor_units: 0, name: "Won" },
    CurrencyInfo { code: "KWD", numeric: 414, minor_units: 3, name: "Kuwaiti Dinar" },
    CurrencyInfo { code: "KYD", numeric: 136, minor_units: 2, name: "Cayman Islands Dollar" },
    CurrencyInfo { code: "KZT", numeric: 398, minor_units: 2, name: "Tenge" },
    CurrencyInfo { code: "LAK", numeric: 418, minor_units: 2, name: "Lao Kip" },
    CurrencyInfo { code: "LBP", numeric: 422, minor_units: 2, name: "Lebanese Pound" },
    CurrencyInfo { code: "LKR", numeric: 144, minor_units: 2, name: "Sri Lanka Rupee" },
    CurrencyInfo { code: "LRD", numeric: 430, minor_units: 2, name: "Liberian Dollar" },
    CurrencyInfo { code: "LSL", numeric: 426, minor_units: 2, name: "Loti" },
    CurrencyInfo { code: "LYD", numeric: 434, minor_units: 3, name: "Libyan Dinar" },
    CurrencyInfo { code: "MAD", numeric: 504, minor_units: 2, name: "Moroccan Dirham" },
    CurrencyInfo { code: "MDL", numeric: 498, minor_units: 2, name: "Moldovan Leu" },
    CurrencyInfo { code: "MGA", numeric: 969, minor_units: 2, name: "Malagasy Ariary" },
    CurrencyInfo { code: "MKD", numeric: 807, minor_units: 2, name: "Denar" },
    CurrencyInfo { code: "MMK", numeric: 104, minor_units: 2, name: "Kyat" },
    CurrencyInfo { code: "MNT", numeric: 496, minor_units: 2, name: "Tugrik" },
    CurrencyInfo { code: "MOP", numeric: 446, minor_units: 2, name: "Pataca" },
    CurrencyInfo { code: "MRU", numeric: 929, minor_units: 2, name: "Ouguiya" },
    CurrencyInfo { code: "MUR", numeric: 480, minor_units: 2, name: "Mauritius Rupee" },
    CurrencyInfo { code: "MVR", numeric: 462, minor_units: 2, name: "Rufiyaa" },
    CurrencyInfo { code: "MWK", numeric: 454, minor_units: 2, name: "Malawi Kwacha" },
    CurrencyInfo { code: "MXN", numeric: 484, minor_units: 2, name: "Mexican Peso" },
    CurrencyInfo { code: "MXV", numeric: 979, minor_units: 2, name: "Mexican Unidad de Inversion (UDI)" },
    CurrencyInfo { code: "MYR", numeric: 458, minor_units: 2, name: "Malaysian Ringgit" },
    CurrencyInfo { code: "MZN", numeric: 943, minor_units: 2, name: "Mozambique Metical" },
    CurrencyInfo { code: "NAD", numeric: 516, minor_units: 2, name: "Namibia Dollar" },
    CurrencyInfo { code: "NGN", numeric: 566, minor_units: 2, name: "Naira" },
    CurrencyInfo { code: "NIO", numeric: 558, minor_units: 2, name: "Cordoba Oro" },
    CurrencyInfo { code: "NOK", numeric: 578, minor_units: 2, name: "Norwegian Krone" },
    CurrencyInfo { code: "NPR", numeric: 524, minor_units: 2, name: "Nepalese Rupee" },
    CurrencyInfo { code: "NZD", numeric: 554, minor_units: 2, name: "New Zealand Dollar" },
    CurrencyInfo { code: "OMR", numeric: 512, minor_units: 3, name: "Rial Omani" },
    CurrencyInfo { code: "PAB", numeric: 590, minor_units: 2, name: "Balboa" },
    CurrencyInfo { code: "PEN", numeric: 604, minor_units: 2, name: "Sol" },
    CurrencyInfo { code: "PGK", numeric: 598, minor_units: 2, name: "Kina" },
    CurrencyInfo { code: "PHP", numeric: 608, minor_units: 2, name: "Philippine Peso" },
    CurrencyInfo { code: "PKR", numeric: 586, minor_units: 2, name: "Pakistan Rupee" },
    CurrencyInfo { code: "PLN", numeric: 985, minor_units: 2, name: "Zloty" },
    CurrencyInfo { code: "PYG", numeric: 600, minor_units: 0, name: "Guarani" },
    CurrencyInfo { code: "QAR", numeric: 634, minor_units: 2, name: "Qatari Rial" },
    CurrencyInfo { code: "RON", numeric: 946, minor_units: 2, name: "Romanian Leu" },
    CurrencyInfo { code: "RSD", numeric: 941, minor_units: 2, name: "Serbian Dinar" },
    CurrencyInfo { code: "RUB", numeric: 643, minor_units: 2, name: "Russian Ruble" },
    CurrencyInfo { code: "RWF", numeric: 646, minor_units: 0, name: "Rwanda Franc" },
    CurrencyInfo { code: "SAR", numeric: 682, minor_units: 2, name: "Saudi Riyal" },
    CurrencyInfo { code: "SBD", numeric: 90, minor_units: 2, name: "Solomon Islands Dollar" },
    CurrencyInfo { code: "SCR", numeric: 690, minor_units: 2, name: "Seychelles Rupee" },
    CurrencyInfo { code: "SDG", numeric: 938, minor_units: 2, name: "Sudanese Pound" },
    CurrencyInfo { code: "SEK", numeric: 752, minor_units: 2, name: "Swedish Krona" },
    CurrencyInfo { code: "SGD", numeric: 702, minor_units: 2, name: "Singapore Dollar" },
    CurrencyInfo { code: "SHP", numeric: 654, minor_units: 2, name: "Saint Helena Pound" },
    CurrencyInfo { code: "SLE", numeric: 925, minor_units: 2, name: "Leone" },
    CurrencyInfo { code: "SOS", numeric: 706, minor_units: 2, name: "Somali Shilling" },
    CurrencyInfo { code: "SRD", numeric: 968, minor_units: 2, name: "Surinam Dollar" },
    CurrencyInfo { code: "SSP", numeric: 728, minor_units: 2, name: "South Sudanese Pound" },
    CurrencyInfo { code: "STN", numeric: 930, minor_units: 2, name: "Dobra" },
    CurrencyInfo { code: "SVC", numeric: 222, minor_units: 2, name: "El Salvador Colon" },
    CurrencyInfo { code: "SYP", numeric: 760, minor_units: 2, name: "Syrian Pound" },
    CurrencyInfo { code: "SZL", numeric: 748, minor_units: 2, name: "Lilangeni" },
    CurrencyInfo { code: "THB", numeric: 764, minor_units: 2, name: "Baht" },
    CurrencyInfo { code: "TJS", numeric: 972, minor_units: 2, name: "Somoni" },
    CurrencyInfo { code: "TMT", numeric: 934, minor_units: 2, name: "Turkmenistan New Manat" },
    CurrencyInfo { code: "TND", numeric: 788, minor_units: 3, name: "Tunisian Dinar" },
    CurrencyInfo { code: "TOP", numeric: 776, minor_units: 2, name: "Pa'anga" },
    CurrencyInfo { code: "TRY", numeric: 949, minor_units: 2, name: "Turkish Lira" },
    CurrencyInfo { code: "TTD", numeric: 780, minor_units: 2, name: "Trinidad and Tobago Dollar" },
    CurrencyInfo { code: "TWD", numeric: 901, minor_units: 2, name: "New Taiwan Dollar" },
    CurrencyInfo { code: "TZS", numeric: 834, minor_units: 2, name: "Tanzanian Shilling" },
    CurrencyInfo { code: "UAH", numeric: 980, minor_units: 2, name: "Hryvnia" },
    CurrencyInfo { code: "UGX", numeric: 800, minor_units: 0, name: "Uganda Shilling" },
    CurrencyInfo { code: "USD", numeric: 840, minor_units: 2, name: "US Dollar" },
    CurrencyInfo { code: "USN", numeric: 997, minor_units: 2, name: "US Dollar (Next day)" },
    CurrencyInfo { code: "UYI", numeric: 940, minor_units: 0, name: "Uruguay Peso en Unidades Indexadas (UI)" },
    CurrencyInfo { code: "UYU", numeric: 858, minor_units: 2, name: "Peso Uruguayo" },
    CurrencyInfo { code: "UYW", numeric: 927, minor_units: 4, name: "Unidad Previsional" },
    CurrencyInfo { code: "UZS", numeric: 860, minor_units: 2, name: "Uzbekistan Sum" },
    CurrencyInfo { code: "VED", numeric: 926, minor_units: 2, name: "Bolivar Soberano (VED)" },
    CurrencyInfo { code: "VES", numeric: 928, minor_units: 2, name: "Bolivar Soberano" },
    CurrencyInfo { code: "VND", numeric: 704, minor_units: 0, name: "Dong" },
    CurrencyInfo { code: "VUV", numeric: 548, minor_units: 0, name: "Vatu" },
    CurrencyInfo { code: "WST", numeric: 882, minor_units: 2, name: "Tala" },
    CurrencyInfo { code: "XAD", numeric: 396, minor_units: 2, name: "Arab Accounting Dinar" },
    CurrencyInfo { code: "XAF", numeric: 950, minor_units: 0, name: "CFA Franc BEAC" },
    CurrencyInfo { code: "XCD", numeric: 951, minor_units: 2, name: "East Caribbean Dollar" },
    CurrencyInfo { code: "XCG", numeric: 532, minor_units: 2, name: "Caribbean Guilder" },
    CurrencyInfo { code: "XOF", numeric: 952, minor_units: 0, name: "CFA Franc BCEAO" },
    CurrencyInfo { code: "XPF", numeric: 953, minor_units: 0, name: "CFP Franc" },
    CurrencyInfo { code: "YER", numeric: 886, minor_units: 2, name: "Yemeni Rial" },
    CurrencyInfo { code: "ZAR", numeric: 710, minor_units: 2, name: "Rand" },
    CurrencyInfo { code: "ZMW", numeric: 967, minor_units: 2, name: "Zambian Kwacha" },
    CurrencyInfo { code: "ZWG", numeric: 924, minor_units: 2, name: "Zimbabwe Gold" },
];

#[cfg(test)]
mod tests {
    use super::{CurrencyInfo, CURRENCIES};
    use std::collections::HashSet;

    fn lookup(code: &str) -> &'static CurrencyInfo {
        let idx = CURRENCIES
            .binary_search_by(|info| info.code.cmp(code))
            .unwrap_or_else(|_| panic!("{code} missing from the table"));
        &CURRENCIES[idx]
    }

    #[test]
    fn codes_are_three_upper_case_letters_and_strictly_sorted() {
        for info in CURRENCIES {
            assert_eq!(info.code.len(), 3, "{}", info.code);
            assert!(info.code.bytes().all(|b| b.is_ascii_uppercase()), "{}", info.code);
            assert!(!info.name.is_empty(), "{} has no name", info.code);
        }
        for pair in CURRENCIES.windows(2) {
            assert!(pair[0].code < pair[1].code, "not strictly sorted: {} then {}", pair[0].code, pair[1].code);
        }
    }

    #[test]
    fn numeric_codes_are_unique_and_in_range() {
        let mut seen = HashSet::new();
        for info in CURRENCIES {
            assert!((1..=999).contains(&info.numeric), "{}: {}", info.code, info.numeric);
            assert!(seen.insert(info.numeric), "numeric {} used twice ({})", info.numeric, info.code);
        }
    }

    #[test]
    fn minor_units_are_0_to_4() {
        for info in CURRENCIES {
            assert!(info.minor_units <= 4, "{}: {}", info.code, info.minor_units);
        }
    }

    #[test]
    fn spot_checks() {
        for (code, numeric, minor_units) in [
            ("CNY", 156, 2),
            ("USD", 840, 2),
            ("JPY", 392, 0),
            ("KWD", 414, 3),
            ("CLF", 990, 4),
            ("EUR", 978, 2),
            ("HKD", 344, 2),
            ("SGD", 702, 2),
            ("XOF", 952, 0),
        ] {
            let info = lookup(code);
            assert_eq!(info.numeric, numeric, "{code} numeric");
            assert_eq!(info.minor_units, minor_units, "{code} minor units");
        }
    }

    #[test]
    fn minor_unit_groups() {
        for code in ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"] {
            assert_eq!(lookup(code).minor_units, 3, "{code}");
        }
        for code in [
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF",
            "XOF", "XPF",
        ] {
            assert_eq!(lookup(code).minor_units, 0, "{code}");
        }
        for code in ["CLF", "UYW"] {
            assert_eq!(lookup(code).minor_units, 4, "{code}");
        }
        for code in ["MGA", "MRU", "XCG", "ZWG", "SLE", "VED", "VES"] {
            assert_eq!(lookup(code).minor_units, 2, "{code}");
        }
    }

    #[test]
    fn excluded_codes_are_absent() {
        for code in [
            "XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XBB", "XBC", "XBD", "XSU", "XUA", "XTS", "XXX", "HRK", "SLL",
            "ZWL", "ANG", "CUC", "BGN",
        ] {
            assert!(
                CURRENCIES.binary_search_by(|info| info.code.cmp(code)).is_err(),
                "{code} should not be in the table"
            );
        }
    }

    #[test]
    fn table_is_complete_enough() {
        assert!(CURRENCIES.len() >= 150, "only {} entries", CURRENCIES.len());
    }
}
