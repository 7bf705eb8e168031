//! A SHA-256 whose running state can be saved and restored: the
//! `transactions` part's digest is SHA-256 over every transaction entry's
//! hash since genesis, and a persisted state must carry it forward without
//! hashing the whole journal again. The compression function is `sha2`'s;
//! this keeps the chaining value, the unprocessed bytes and the length
//! (FIPS 180-4, section 5.1.1 for the padding).

use sha2::digest::generic_array::GenericArray;

/// SHA-256 initial hash value (FIPS 180-4, section 5.3.3).
const H0: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// The saved form's length: chaining value, buffered bytes, buffer length, total length.
pub(crate) const SAVED_LEN: usize = 32 + 64 + 1 + 8;

#[derive(Clone)]
pub(crate) struct RunningSha256 {
    state: [u32; 8],
    buffer: [u8; 64],
    buffered: usize,
    /// Bytes hashed so far (the message length of FIPS 180-4).
    total: u64,
}

impl std::fmt::Debug for RunningSha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSha256").field("total", &self.total).finish_non_exhaustive()
    }
}

impl Default for RunningSha256 {
    fn default() -> Self {
        RunningSha256::new()
    }
}

impl RunningSha256 {
    pub(crate) fn new() -> RunningSha256 {
        RunningSha256 { state: H0, buffer: [0; 64], buffered: 0, total: 0 }
    }

    pub(crate) fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.checked_add(data.len() as u64).expect("SHA-256 input below 2^64 bytes");
        if self.buffered > 0 {
            let take = (64 - self.buffered).min(data.len());
            self.buffer[self.buffered..self.buffered + take].copy_from_slice(&data[..take]);
            self.buffered += take;
            data = &data[take..];
            if self.buffered < 64 {
                return;
            }
            sha2::compress256(&mut self.state, &[*GenericArray::from_slice(&self.buffer)]);
            self.buffered = 0;
        }
        let whole = data.len() / 64 * 64;
        if whole > 0 {
            let blocks: Vec<GenericArray<u8, _>> =
                data[..whole].chunks_exact(64).map(|chunk| *GenericArray::from_slice(chunk)).collect();
            sha2::compress256(&mut self.state, &blocks);
        }
        let rest = &data[whole..];
        self.buffer[..rest.len()].copy_from_slice(rest);
        self.buffered = rest.len();
    }

    /// The digest of everything hashed so far (the running state is kept).
    pub(crate) fn finish(&self) -> [u8; 32] {
        let mut state = self.state;
        let mut block = [0u8; 128];
        block[..self.buffered].copy_from_slice(&self.buffer[..self.buffered]);
        block[self.buffered] = 0x80;
        let len = if self.buffered < 56 { 64 } else { 128 };
        block[len - 8..len].copy_from_slice(&(self.total.wrapping_mul(8)).to_be_bytes());
        let blocks: Vec<GenericArray<u8, _>> =
            block[..len].chunks_exact(64).map(|chunk| *GenericArray::from_slice(chunk)).collect();
        sha2::compress256(&mut state, &blocks);
        let mut out = [0u8; 32];
        for (word, bytes) in state.iter().zip(out.chunks_exact_mut(4)) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// The running state as bytes ([`SAVED_LEN`] of them).
    pub(crate) fn save(&self) -> [u8; SAVED_LEN] {
        let mut out = [0u8; SAVED_LEN];
        for (word, bytes) in self.state.iter().zip(out[..32].chunks_exact_mut(4)) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        // Only the bytes still to hash: the rest of the buffer is stale.
        out[32..32 + self.buffered].copy_from_slice(&self.buffer[..self.buffered]);
        out[96] = u8::try_from(self.buffered).expect("fewer than 64 bytes buffered");
        out[97..105].copy_from_slice(&self.total.to_le_bytes());
        out
    }

    /// A running state saved by [`RunningSha256::save`]; `None` if the bytes cannot be one.
    pub(crate) fn restore(bytes: &[u8]) -> Option<RunningSha256> {
        if bytes.len() != SAVED_LEN {
            return None;
        }
        let mut state = [0u32; 8];
        for (word, chunk) in state.iter_mut().zip(bytes[..32].chunks_exact(4)) {
            *word = u32::from_be_bytes(chunk.try_into().ok()?);
        }
        let mut buffer = [0u8; 64];
        buffer.copy_from_slice(&bytes[32..96]);
        let buffered = usize::from(bytes[96]);
        let total = u64::from_le_bytes(bytes[97..105].try_into().ok()?);
        // The buffer holds exactly the bytes past the last whole block, and nothing after them.
        if buffered >= 64 || total % 64 != buffered as u64 || buffer[buffered..].iter().any(|b| *b != 0) {
            return None;
        }
        Some(RunningSha256 { state, buffer, buffered, total })
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
    }

    #[test]
    fn equals_sha256_for_every_split_and_length() {
        for len in [0, 1, 31, 32, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000] {
            let data = bytes(len, len as u8);
            let want: [u8; 32] = Sha256::digest(&data).into();
            for split in [0, 1, len / 3, len / 2, len.saturating_sub(1), len] {
                let split = split.min(len);
                let mut running = RunningSha256::new();
                running.update(&data[..split]);
                running.update(&data[split..]);
                assert_eq!(running.finish(), want, "len {len} split {split}");
            }
        }
    }

    #[test]
    fn save_and_restore_carry_on_exactly() {
        let mut running = RunningSha256::new();
        let mut reference = Sha256::new();
        for step in 0..50u8 {
            let chunk = bytes(usize::from(step) * 7 % 97, step);
            running.update(&chunk);
            reference.update(&chunk);
            let saved = running.save();
            let restored = RunningSha256::restore(&saved).expect("a saved state restores");
            assert_eq!(restored.save(), saved);
            running = restored;
            let want: [u8; 32] = reference.clone().finalize().into();
            assert_eq!(running.finish(), want, "step {step}");
        }
    }

    #[test]
    fn a_damaged_saved_state_is_refused() {
        let mut running = RunningSha256::new();
        running.update(&bytes(70, 1));
        let saved = running.save();
        assert!(RunningSha256::restore(&saved[..SAVED_LEN - 1]).is_none());
        let mut wrong_len = saved;
        wrong_len[97] ^= 1; // total no longer agrees with the buffered count
        assert!(RunningSha256::restore(&wrong_len).is_none());
        let mut garbage = saved;
        garbage[95] = 7; // a byte past the buffered ones
        assert!(RunningSha256::restore(&garbage).is_none());
    }
}
