//! The memory budget of batches in flight.
//!
//! A batch costs more memory than its body: the parsed requests, the decisions and the answer.
//! Measured on the example store, a 10,000-request batch (a 1.8 MB body) takes about 10 to
//! 15 MB while it is decided (it took 50 MB while items were parsed into JSON trees and
//! answers built as trees; they are now raw texts), and 64 at once took the server to 630 MB,
//! which the allocator then kept for reuse.
//! Each batch is therefore charged [`COST_PER_BODY_BYTE`] times its body size against
//! [`Limits::max_batch_memory`](super::Limits::max_batch_memory) **before its body is read**
//! (from `Content-Length`, or the body bound when none is declared), and the charge is given
//! back when the batch's handler ends, on every path (an RAII [`Charge`]). A batch that does
//! not fit is answered 503 `overloaded` with `Retry-After`; one batch alone always fits, so a
//! budget smaller than one batch slows batches down to one at a time but never refuses them
//! all.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// What a batch is charged per byte of its body: the body itself, the parsed requests, the
/// decisions and the answer (measured: 5 to 8 bytes per body byte at peak).
pub(crate) const COST_PER_BODY_BYTE: usize = 8;

/// Bytes charged by the batches in flight, against a limit.
#[derive(Debug)]
pub(crate) struct Budget {
    used: AtomicUsize,
    /// 0: no limit.
    limit: usize,
}

/// A batch's share of the [`Budget`], given back on drop.
#[derive(Debug)]
pub(crate) struct Charge {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Budget {
        Budget {
            used: AtomicUsize::new(0),
            limit,
        }
    }

    /// Charges `bytes`, if they fit (or if nothing else is charged: one batch always fits).
    pub(crate) fn try_charge(self: &Arc<Self>, bytes: usize) -> Option<Charge> {
        let mut cur = self.used.load(Ordering::Acquire);
        loop {
            let next = cur.saturating_add(bytes);
            if self.limit != 0 && cur != 0 && next > self.limit {
                return None;
            }
            match self
                .used
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    return Some(Charge {
                        budget: Arc::clone(self),
                        bytes,
                    })
                }
                Err(now) => cur = now,
            }
        }
    }

    /// Bytes charged now.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// The Prometheus lines of the budget.
    pub(crate) fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP iamc_batch_memory_bytes Estimated memory of the batches in flight (each charged {COST_PER_BODY_BYTE} times its body size).\n\
             # TYPE iamc_batch_memory_bytes gauge\n\
             iamc_batch_memory_bytes {}\n\
             # HELP iamc_batch_memory_limit_bytes The budget of iamc_batch_memory_bytes (0: none).\n\
             # TYPE iamc_batch_memory_limit_bytes gauge\n\
             iamc_batch_memory_limit_bytes {}",
            self.used(),
            self.limit
        );
    }
}

impl Charge {
    /// Lowers the charge to `bytes` (once the body's real size is known); never raises it.
    pub(crate) fn lower_to(&mut self, bytes: usize) {
        if bytes < self.bytes {
            self.budget
                .used
                .fetch_sub(self.bytes - bytes, Ordering::AcqRel);
            self.bytes = bytes;
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn charges_fit_or_wait_and_are_given_back() {
        let b = Arc::new(Budget::new(100));
        let mut first = b.try_charge(500).unwrap(); // alone, it fits
        assert!(b.try_charge(1).is_none());
        first.lower_to(60);
        assert_eq!(b.used(), 60);
        let second = b.try_charge(40).unwrap();
        assert!(b.try_charge(1).is_none());
        drop(first);
        drop(second);
        assert_eq!(b.used(), 0);
        assert!(b.try_charge(100).is_some());
        let unlimited = Arc::new(Budget::new(0));
        let _a = unlimited.try_charge(usize::MAX / 2).unwrap();
        assert!(unlimited.try_charge(usize::MAX / 2).is_some());
    }
}
