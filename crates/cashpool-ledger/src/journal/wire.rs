//! The primitive encodings of format 2's binary body (docs/FORMATS.md,
//! "Primitive encodings of the binary body"): LEB128 varints (zig-zag for
//! signed), length-prefixed UTF-8, currency codes, day numbers, optional
//! values and normalised decimals. The reader accepts only the shortest
//! form of every value, so that one value has one encoding.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::money::Currency;

/// The largest scale of a `dec`.
const DEC_SCALE_MAX: u32 = 28;

pub(crate) fn put_uvarint(out: &mut Vec<u8>, value: u64) {
    put_u128_varint(out, u128::from(value));
}

fn put_u128_varint(out: &mut Vec<u8>, mut value: u128) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

pub(crate) fn put_svarint(out: &mut Vec<u8>, value: i128) {
    // Zig-zag: 0, -1, 1, -2 … → 0, 1, 2, 3 …
    let zigzag = ((value << 1) ^ (value >> 127)) as u128;
    put_u128_varint(out, zigzag);
}

pub(crate) fn put_str(out: &mut Vec<u8>, text: &str) {
    put_uvarint(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

pub(crate) fn put_ccy(out: &mut Vec<u8>, currency: Currency) {
    out.extend_from_slice(currency.code().as_bytes());
}

pub(crate) fn put_date(out: &mut Vec<u8>, date: NaiveDate) {
    let day = u64::try_from(date.num_days_from_ce()).expect("the ledger's dates are after year 1");
    put_uvarint(out, day);
}

/// Writes an amount as minor units of its currency. The amount is at the
/// currency's scale (the ledger's invariant), so the mantissa is the count.
pub(crate) fn put_amount(out: &mut Vec<u8>, amount: Decimal, currency: Currency) {
    put_svarint(out, minor_units(amount, currency));
}

/// The count of minor units of an amount held at its currency's scale.
pub(crate) fn minor_units(amount: Decimal, currency: Currency) -> i128 {
    let mut scaled = amount;
    scaled.rescale(currency.minor_units());
    assert_eq!(scaled, amount, "an amount is held at its currency's minor units");
    scaled.mantissa()
}

pub(crate) fn put_dec(out: &mut Vec<u8>, value: Decimal) {
    let normal = value.normalize();
    put_svarint(out, normal.mantissa());
    out.push(u8::try_from(normal.scale()).expect("a decimal's scale is at most 28"));
}

pub(crate) fn put_flag(out: &mut Vec<u8>, present: bool) {
    out.push(u8::from(present));
}

/// A reader over a binary body; every method fails with a reason, never panics.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

pub(crate) type ReadResult<T> = Result<T, String>;

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    pub(crate) fn is_at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn u8(&mut self, what: &str) -> ReadResult<u8> {
        let byte = *self.bytes.get(self.pos).ok_or_else(|| format!("{what}: the body ends early"))?;
        self.pos += 1;
        Ok(byte)
    }

    fn take(&mut self, n: usize, what: &str) -> ReadResult<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| format!("{what}: the body ends early"))?;
        let part = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(part)
    }

    fn varint(&mut self, max_bytes: usize, what: &str) -> ReadResult<u128> {
        let mut value: u128 = 0;
        for idx in 0..max_bytes {
            let byte = self.u8(what)?;
            let group = u128::from(byte & 0x7f);
            let shift = 7 * idx as u32;
            if shift >= 128 || (group << shift) >> shift != group {
                return Err(format!("{what}: varint out of range"));
            }
            value |= group << shift;
            if byte & 0x80 == 0 {
                if byte == 0 && idx > 0 {
                    return Err(format!("{what}: varint not in its shortest form"));
                }
                return Ok(value);
            }
        }
        Err(format!("{what}: varint longer than {max_bytes} bytes"))
    }

    pub(crate) fn uvarint(&mut self, what: &str) -> ReadResult<u64> {
        let value = self.varint(10, what)?;
        u64::try_from(value).map_err(|_| format!("{what}: above 2^64"))
    }

    pub(crate) fn svarint(&mut self, what: &str) -> ReadResult<i128> {
        let zigzag = self.varint(19, what)?;
        let magnitude = (zigzag >> 1) as i128;
        Ok(if zigzag & 1 == 0 { magnitude } else { -magnitude - 1 })
    }

    pub(crate) fn str(&mut self, what: &str) -> ReadResult<&'a str> {
        let len = usize::try_from(self.uvarint(what)?).map_err(|_| format!("{what}: length out of range"))?;
        let bytes = self.take(len, what)?;
        std::str::from_utf8(bytes).map_err(|_| format!("{what}: not UTF-8"))
    }

    pub(crate) fn ccy(&mut self, what: &str) -> ReadResult<Currency> {
        let code = self.take(3, what)?;
        std::str::from_utf8(code)
            .ok()
            .and_then(Currency::from_code)
            .ok_or_else(|| format!("{what}: {:?} is not an ISO 4217 code of docs/currencies.csv", code))
    }

    pub(crate) fn date(&mut self, what: &str) -> ReadResult<NaiveDate> {
        let day = self.uvarint(what)?;
        i32::try_from(day)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .filter(|_| day > 0)
            .ok_or_else(|| format!("{what}: day number {day} out of range"))
    }

    pub(crate) fn flag(&mut self, what: &str) -> ReadResult<bool> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(format!("{what}: presence byte {other}, expected 0 or 1")),
        }
    }

    pub(crate) fn amount(&mut self, currency: Currency, what: &str) -> ReadResult<Decimal> {
        let minor = self.svarint(what)?;
        Decimal::try_from_i128_with_scale(minor, currency.minor_units())
            .map_err(|_| format!("{what}: amount out of range"))
    }

    pub(crate) fn dec(&mut self, what: &str) -> ReadResult<Decimal> {
        let mantissa = self.svarint(what)?;
        let scale = u32::from(self.u8(what)?);
        if scale > DEC_SCALE_MAX {
            return Err(format!("{what}: scale {scale} above {DEC_SCALE_MAX}"));
        }
        if (scale > 0 && mantissa % 10 == 0) || (mantissa == 0 && scale != 0) {
            return Err(format!("{what}: decimal not normalised"));
        }
        Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| format!("{what}: decimal out of range"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_hand_computed_bytes() {
        let cases: [(u64, &[u8]); 5] =
            [(0, &[0]), (127, &[0x7f]), (128, &[0x80, 0x01]), (300, &[0xac, 0x02]), (1 << 63, &[0x80; 9])];
        for (value, bytes) in cases {
            let mut out = Vec::new();
            put_uvarint(&mut out, value);
            if value == 1 << 63 {
                assert_eq!(&out[..9], bytes);
                assert_eq!(out[9], 0x01);
            } else {
                assert_eq!(out, bytes, "{value}");
            }
            assert_eq!(Reader::new(&out).uvarint("v").unwrap(), value);
        }
    }

    #[test]
    fn svarints_zigzag_and_round_trip_at_the_extremes() {
        for (value, first) in [(0i128, 0u8), (-1, 1), (1, 2), (-2, 3), (63, 126), (-64, 127)] {
            let mut out = Vec::new();
            put_svarint(&mut out, value);
            assert_eq!(out, vec![first], "{value}");
        }
        for value in [i128::MAX, i128::MIN, i128::from(i64::MIN), -13_000_027, 1 << 96] {
            let mut out = Vec::new();
            put_svarint(&mut out, value);
            assert!(out.len() <= 19);
            let mut reader = Reader::new(&out);
            assert_eq!(reader.svarint("v").unwrap(), value);
            assert!(reader.is_at_end());
        }
    }

    #[test]
    fn non_shortest_and_overlong_varints_are_refused() {
        assert!(Reader::new(&[0x80, 0x00]).uvarint("v").is_err());
        assert!(Reader::new(&[0xff; 11]).uvarint("v").is_err());
        assert!(Reader::new(&[0x80]).uvarint("v").is_err());
        assert!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]).uvarint("v").is_err());
    }

    #[test]
    fn decimals_are_normalised() {
        let mut out = Vec::new();
        put_dec(&mut out, Decimal::new(71025000, 7));
        assert_eq!(out, vec![0xe2, 0xd5, 0x08, 4]);
        assert_eq!(Reader::new(&out).dec("d").unwrap(), Decimal::new(71025, 4));
        assert!(Reader::new(&[20, 1]).dec("d").is_err(), "10 at scale 1 is not normalised");
        assert!(Reader::new(&[0, 2]).dec("d").is_err(), "zero has scale 0");
        assert!(Reader::new(&[2, 29]).dec("d").is_err());
    }

    #[test]
    fn dates_are_ordinals() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let mut out = Vec::new();
        put_date(&mut out, date);
        // Python: date(2026, 11, 2).toordinal() == 739922
        assert_eq!(Reader::new(&out).uvarint("d").unwrap(), 739_922);
        assert_eq!(Reader::new(&out).date("d").unwrap(), date);
        assert!(Reader::new(&[0]).date("d").is_err());
    }
}
