//! A blocked Bloom filter over 64-bit keys: each key sets [`PROBES`] bits in
//! one 512-bit block (one cache line), so a lookup touches one line of memory.
//! About 10 bits a key: roughly 1 % false positives.

/// Bits per key the filter is sized for.
pub(crate) const BITS_PER_KEY: u64 = 10;
/// Bits set (and tested) per key, all in the key's block.
const PROBES: u32 = 7;
/// u64 words per 512-bit block.
const WORDS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bloom {
    words: Vec<u64>,
}

impl Bloom {
    /// An empty filter sized for `n` keys.
    pub(crate) fn with_capacity(n: u64) -> Bloom {
        let blocks = (n.saturating_mul(BITS_PER_KEY).div_ceil(512)).max(1);
        Bloom { words: vec![0; usize::try_from(blocks).expect("a filter that fits memory") * WORDS] }
    }

    /// A filter from its stored words; `None` unless whole blocks.
    pub(crate) fn from_words(words: Vec<u64>) -> Option<Bloom> {
        (!words.is_empty() && words.len().is_multiple_of(WORDS)).then_some(Bloom { words })
    }

    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }

    fn blocks(&self) -> u64 {
        (self.words.len() / WORDS) as u64
    }

    /// The block of `key` and its probe bits (bit numbers 0..512).
    fn probes(&self, key: u64) -> (usize, impl Iterator<Item = u32>) {
        // The block from the key's high bits (multiply-shift range reduction),
        // the probes from a second mix of it, nine bits each.
        let block = ((u128::from(key) * u128::from(self.blocks())) >> 64) as usize;
        let mixed = key.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29) ^ key;
        (block, (0..PROBES).map(move |i| ((mixed >> (9 * i)) & 511) as u32))
    }

    pub(crate) fn insert(&mut self, key: u64) {
        let (block, probes) = self.probes(key);
        for bit in probes {
            self.words[block * WORDS + (bit / 64) as usize] |= 1 << (bit % 64);
        }
    }

    /// False: `key` was never inserted. True: it may have been.
    pub(crate) fn may_contain(&self, key: u64) -> bool {
        let (block, mut probes) = self.probes(key);
        probes.all(|bit| self.words[block * WORDS + (bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u64) -> u64 {
        // Keys as the index makes them: uniformly spread (here a fixed mix of i).
        let mut x = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }

    #[test]
    fn never_a_false_negative_and_few_false_positives() {
        let n = 50_000;
        let mut bloom = Bloom::with_capacity(n);
        for i in 0..n {
            bloom.insert(key(i));
        }
        assert!((0..n).all(|i| bloom.may_contain(key(i))), "a key inserted is always found");
        let false_positives = (n..n * 3).filter(|&i| bloom.may_contain(key(i))).count();
        // About 1 % expected at 10 bits a key; 3 % would mean the probes are broken.
        assert!(false_positives < (2 * n as usize) * 3 / 100, "{false_positives} false positives of {}", 2 * n);
    }

    #[test]
    fn stored_words_round_trip_and_bad_shapes_are_refused() {
        let mut bloom = Bloom::with_capacity(100);
        bloom.insert(42);
        let again = Bloom::from_words(bloom.words().to_vec()).expect("whole blocks");
        assert_eq!(again, bloom);
        assert!(again.may_contain(42));
        assert!(Bloom::from_words(vec![0; 7]).is_none());
        assert!(Bloom::from_words(Vec::new()).is_none());
    }
}
