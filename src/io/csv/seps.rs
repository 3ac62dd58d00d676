//! Finding field ends (delimiters and line ends) 64 bytes at a time.
//!
//! Fields are short, so searching for each field's end separately (memchr, or eight bytes at a
//! time) pays a loop exit, and usually a mispredicted branch, per field. Instead [`Seps`]
//! classifies a 64-byte block once into a bitmask of delimiter and newline positions, and each
//! field end is then one `trailing_zeros` on that mask. On x86_64 the block is classified with
//! SSE2 (part of the x86_64 baseline, so no runtime detection); elsewhere with exact SWAR
//! arithmetic on `u64` words. Quote characters are not in the mask: the record parser checks
//! the first byte of each field and handles quoted fields itself, and asks for the next
//! separator after them (bits inside a quoted field are simply never asked for).

use super::split::NL;

const NO_BLOCK: usize = usize::MAX - 63;

/// A cursor over the separators of `buf[..end]`, for positions that only move forward.
pub(crate) struct Seps<'a> {
    buf: &'a [u8],
    end: usize,
    delim: u8,
    /// Start of the classified block. Before the first, `NO_BLOCK`: then `pos - block`
    /// (wrapping) is `pos + 64`, never inside a block, for every position.
    block: usize,
    /// Bit `i` set: `buf[block + i]` is a delimiter or newline (and `block + i < end`).
    mask: u64,
}

impl<'a> Seps<'a> {
    pub fn new(buf: &'a [u8], end: usize, delim: u8) -> Self {
        Self {
            buf,
            end: end.min(buf.len()),
            delim,
            block: NO_BLOCK,
            mask: 0,
        }
    }

    /// The first delimiter or newline at or after `pos`, or `end` when there is none.
    #[inline(always)]
    pub fn next(&mut self, mut pos: usize) -> usize {
        loop {
            let rel = pos.wrapping_sub(self.block);
            if rel < 64 {
                let m = self.mask >> rel;
                if m != 0 {
                    return pos + m.trailing_zeros() as usize;
                }
                pos = self.block + 64;
            }
            if pos >= self.end {
                return self.end;
            }
            self.load(pos);
        }
    }

    #[inline(always)]
    fn load(&mut self, b: usize) {
        let mut mask = match self.buf.get(b..b + 64) {
            Some(chunk) => match <&[u8; 64]>::try_from(chunk) {
                Ok(chunk) => classify(chunk, self.delim),
                Err(_) => 0,
            },
            None => {
                let mut m = 0u64;
                for (i, c) in self.buf[b..].iter().enumerate() {
                    if *c == self.delim || *c == NL {
                        m |= 1 << i;
                    }
                }
                m
            }
        };
        let room = self.end - b;
        if room < 64 {
            mask &= (1u64 << room) - 1;
        }
        self.block = b;
        self.mask = mask;
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify(chunk: &[u8; 64], delim: u8) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut m = 0u64;
    // SAFETY: SSE2 is enabled on every x86_64 target, and each unaligned 16-byte load at
    // offsets 0, 16, 32 and 48 stays inside the 64-byte array.
    unsafe {
        let d = _mm_set1_epi8(delim as i8);
        let n = _mm_set1_epi8(NL as i8);
        for k in 0..4 {
            let v = _mm_loadu_si128(chunk.as_ptr().add(16 * k).cast::<__m128i>());
            let hit = _mm_or_si128(_mm_cmpeq_epi8(v, d), _mm_cmpeq_epi8(v, n));
            m |= u64::from(_mm_movemask_epi8(hit) as u16) << (16 * k);
        }
    }
    m
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn classify(chunk: &[u8; 64], delim: u8) -> u64 {
    classify_swar(chunk, delim)
}

/// Portable classification: for each 8-byte word, an exact per-byte "equals" flag (no borrow
/// between bytes, unlike the usual has-zero-byte test), gathered into 8 bits by a multiply.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn classify_swar(chunk: &[u8; 64], delim: u8) -> u64 {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HI: u64 = 0x8080_8080_8080_8080;
    let eq = |w: u64, c: u8| -> u64 {
        let x = w ^ (0x0101_0101_0101_0101 * u64::from(c));
        // High bit of each byte set iff that byte of x is zero.
        !(((x & LO7) + LO7) | x) & HI
    };
    let mut m = 0u64;
    for (k, word) in chunk.chunks_exact(8).enumerate() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let w = u64::from_le_bytes(bytes);
        let t = eq(w, delim) | eq(w, NL);
        let bits = ((t >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
        m |= bits << (8 * k);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar_next(buf: &[u8], pos: usize, end: usize) -> usize {
        (pos..end)
            .find(|i| buf[*i] == b',' || buf[*i] == NL)
            .unwrap_or(end)
    }

    #[test]
    fn matches_a_scalar_search() {
        // Pseudo-random text with separators at every density, including high bytes.
        let mut state = 12345u64;
        let buf: Vec<u8> = (0..1000)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                match state >> 60 {
                    0..=2 => b',',
                    3 => NL,
                    4 => 0xff,
                    5 => 0x8a,
                    _ => b'a' + (state >> 40) as u8 % 26,
                }
            })
            .collect();
        for end in [0, 1, 63, 64, 65, 500, 999, 1000] {
            for stride in [1, 3, 17, 70] {
                let mut s = Seps::new(&buf, end, b',');
                let mut pos = 0;
                while pos <= end {
                    assert_eq!(
                        s.next(pos),
                        scalar_next(&buf, pos, end),
                        "end {end} pos {pos}"
                    );
                    pos += stride;
                }
            }
        }
        let chunk: &[u8; 64] = buf[100..164].try_into().unwrap();
        assert_eq!(classify_swar(chunk, b','), classify(chunk, b','));
    }
}
