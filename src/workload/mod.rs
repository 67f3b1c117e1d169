//! Generated workloads for benchmarks (`shared/benchmark.md`), behind the cargo feature `bench`
//! (on with `cli`, which `iamc bench` needs), so a library user does not compile them.
//! Everything is generated from a fixed seed, so every run and every engine sees the same
//! policies and requests.
//!
//! - [`tiers`]: the tiers S1-S5 and mixes M1-M3, flat policy sets of 10 to 100,000 statements
//!   (re-exported here).
//! - [`org`]: an organization-scale store (accounts, users in groups, roles with boundaries,
//!   streams and consumers with resource policies, SCP levels), written in the store format so
//!   `iamc check` and `iamc authorize --store` read it, and requests from sessions the store
//!   does not list.

pub mod org;
pub mod tiers;

pub use tiers::{policies, requests, workload, Mix, Tier, Workload};

/// A small, fast, seeded PRNG (splitmix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with the given probability in percent.
    pub fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    /// One element of a non-empty slice (the first for an empty one is impossible: callers pass
    /// constants).
    pub fn pick<T: Copy + Default>(&mut self, items: &[T]) -> T {
        items
            .get(self.below(items.len()))
            .copied()
            .unwrap_or_default()
    }
}

/// Indexes into `0..n` drawn from a Zipf distribution with exponent `s` (mix M4: 1,000,000
/// draws over the 10,000 requests of M1, s = 1.0).
pub fn zipf_indices(n: usize, draws: usize, s: f64, seed: u64) -> Vec<usize> {
    let weights: Vec<f64> = (1..=n).map(|k| 1.0 / (k as f64).powf(s)).collect();
    let total: f64 = weights.iter().sum();
    let mut cdf = Vec::with_capacity(n);
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total;
        cdf.push(acc);
    }
    let mut rng = Rng::new(seed ^ 0x21FF);
    (0..draws)
        .map(|_| {
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            cdf.partition_point(|c| *c < u).min(n.saturating_sub(1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_is_skewed() {
        let idx = zipf_indices(10_000, 100_000, 1.0, 1);
        let first = idx.iter().filter(|i| **i == 0).count();
        let last = idx.iter().filter(|i| **i == 9_999).count();
        assert!(first > 5_000 && last < 20, "{first} {last}");
    }
}
