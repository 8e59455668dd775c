//! An exact one-bit-per-key table (a static function / XOR retrieval structure, after Botelho,
//! Pagh and Ziviani and the XOR filters of Graf and Lemire): for every key of a known set it
//! returns the bit it was built with, in about 1.23 bits per key plus 32, and nothing else about
//! the set. The status list uses it to give every licence version its one status bit (in force or
//! not) without publishing an index per licence — the verifier only has the identifier — and
//! without listing identifiers (herd privacy, as the W3C Bitstring Status List).
//!
//! A key outside the set gets an arbitrary bit: callers must know the key is covered.
//!
//! Construction: each key hashes (SHA-256 of seed ‖ key) to three slots, one in each third of the
//! table; the 3-hypergraph is peeled (a slot hit by one remaining key fixes that key); slots are
//! then assigned in reverse peel order so that the XOR of a key's three bits is its value. A
//! failed peel retries with the next seed. Knows nothing of licences.

/// The table: `slots` bits, three equal blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub seed: u64,
    pub slots: u64,
    pub bits: Vec<u8>,
}

/// Most seeds tried before giving up (each fails with probability well under 1 % at 1.23×).
const MAX_TRIES: u64 = 64;

fn block_size(n: usize) -> u64 {
    let slots = (n as u64).saturating_mul(123) / 100 + 32;
    slots.div_ceil(3)
}

/// The three slots of `key` for `seed` in a table of three blocks of `block` slots.
pub fn slots_of(seed: u64, block: u64, key: &[u8]) -> [u64; 3] {
    let mut input = Vec::with_capacity(8 + key.len());
    input.extend_from_slice(&seed.to_be_bytes());
    input.extend_from_slice(key);
    let h = crate::pades::cms::sha256(&input);
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(h.get(i * 8..i * 8 + 8).unwrap_or(&[0; 8]));
        u64::from_be_bytes(b)
    };
    let block = block.max(1);
    [word(0) % block, block + word(1) % block, 2 * block + word(2) % block]
}

fn get_bit(bits: &[u8], i: u64) -> bool {
    usize::try_from(i / 8).ok().and_then(|b| bits.get(b)).is_some_and(|byte| byte >> (i % 8) & 1 == 1)
}

fn flip_bit(bits: &mut [u8], i: u64) {
    if let Some(byte) = usize::try_from(i / 8).ok().and_then(|b| bits.get_mut(b)) {
        *byte ^= 1 << (i % 8);
    }
}

impl Table {
    /// Build a table giving each key its bit. Keys must be distinct. `None` only if every seed
    /// failed to peel (duplicate keys make it fail).
    pub fn build(keys: &[(&[u8], bool)]) -> Option<Table> {
        let block = block_size(keys.len());
        let slots = block * 3;
        let nslots = usize::try_from(slots).ok()?;
        for seed in 0..MAX_TRIES {
            let edges: Vec<[u64; 3]> = keys.iter().map(|(k, _)| slots_of(seed, block, k)).collect();
            // Per slot: how many keys hit it and the XOR of their indices (finds the last one).
            let mut count = vec![0u32; nslots];
            let mut xor = vec![0usize; nslots];
            for (i, e) in edges.iter().enumerate() {
                for &s in e {
                    let s = s as usize;
                    count[s] += 1;
                    xor[s] ^= i;
                }
            }
            let mut queue: Vec<usize> = (0..nslots).filter(|&s| count[s] == 1).collect();
            let mut order: Vec<(usize, u64)> = Vec::with_capacity(keys.len());
            while let Some(s) = queue.pop() {
                if count[s] != 1 {
                    continue;
                }
                let k = xor[s];
                order.push((k, s as u64));
                for &t in &edges[k] {
                    let t = t as usize;
                    count[t] -= 1;
                    xor[t] ^= k;
                    if count[t] == 1 {
                        queue.push(t);
                    }
                }
            }
            if order.len() != keys.len() {
                continue;
            }
            let mut bits = vec![0u8; nslots.div_ceil(8)];
            for &(k, s) in order.iter().rev() {
                let e = edges[k];
                let want = keys[k].1;
                let have = e.iter().filter(|&&t| t != s).fold(false, |acc, &t| acc ^ get_bit(&bits, t));
                if have != want {
                    flip_bit(&mut bits, s);
                }
            }
            return Some(Table { seed, slots, bits });
        }
        None
    }

    /// The bit of `key` (arbitrary for a key the table was not built with).
    pub fn get(&self, key: &[u8]) -> bool {
        let block = self.slots / 3;
        slots_of(self.seed, block, key).iter().fold(false, |acc, &s| acc ^ get_bit(&self.bits, s))
    }

    /// Whether the table's fields are consistent (slots a multiple of 3, bits long enough).
    pub fn well_formed(&self) -> bool {
        self.slots.is_multiple_of(3) && self.slots > 0 && (self.bits.len() as u64) * 8 >= self.slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key built into the table reads back its own bit, for a mix of values.
    #[test]
    fn every_key_reads_its_bit() {
        let keys: Vec<Vec<u8>> = (0..5000).map(|i| format!("licence-{i}").into_bytes()).collect();
        let input: Vec<(&[u8], bool)> =
            keys.iter().enumerate().map(|(i, k)| (k.as_slice(), i % 7 == 0)).collect();
        let t = Table::build(&input).unwrap();
        assert!(t.well_formed());
        for (k, v) in &input {
            assert_eq!(t.get(k), *v);
        }
        assert!(t.bits.len() <= 5000 * 124 / 100 / 8 + 8);
    }

    /// An empty set builds a small table.
    #[test]
    fn empty_set() {
        let t = Table::build(&[]).unwrap();
        assert!(t.well_formed());
    }
}
