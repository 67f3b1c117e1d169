//! The live engine: read without a lock by every request, replaced whole by one update at a
//! time.
//!
//! An [`Engine`] holds what decides requests now (`P`: an `Arc` of the front end's live state,
//! or an `Option` of one while nothing has loaded yet) and the state its updates need (`W`:
//! the reload bookkeeping, a database). Requests read the live value with [`Engine::load`] or
//! [`Engine::load_full`]; an update takes [`Engine::lock`], builds the next value aside, and
//! publishes it with [`Locked::commit`]: a request is decided entirely by the old value or
//! entirely by the new one, and a failed build changes nothing.

use arc_swap::strategy::DefaultStrategy;
use arc_swap::{ArcSwapAny, Guard, RefCnt};
use tokio::sync::{Mutex, MutexGuard};

/// The live value and the update lock.
pub(crate) struct Engine<P: RefCnt, W> {
    live: ArcSwapAny<P>,
    updates: Mutex<W>,
}

/// The update lock, held: the only way to publish a new live value.
pub(crate) struct Locked<'a, P: RefCnt, W> {
    live: &'a ArcSwapAny<P>,
    state: MutexGuard<'a, W>,
}

impl<P: RefCnt, W> Engine<P, W> {
    /// `live` serves from the start; `state` is what updates share.
    pub(crate) fn new(live: P, state: W) -> Engine<P, W> {
        Engine {
            live: ArcSwapAny::new(live),
            updates: Mutex::new(state),
        }
    }

    /// The live value, for a short look (no reference count touched).
    pub(crate) fn load(&self) -> Guard<P, DefaultStrategy> {
        self.live.load()
    }

    /// The live value, to keep.
    pub(crate) fn load_full(&self) -> P {
        self.live.load_full()
    }

    /// Waits for the update lock: other updates wait until it is dropped.
    pub(crate) async fn lock(&self) -> Locked<'_, P, W> {
        Locked {
            live: &self.live,
            state: self.updates.lock().await,
        }
    }
}

// `live` and `commit` serve the gateway's updates (the server replaces its engine whole).
#[cfg_attr(not(feature = "gateway"), allow(dead_code))]
impl<P: RefCnt, W> Locked<'_, P, W> {
    /// The live value.
    pub(crate) fn live(&self) -> P {
        self.live.load_full()
    }

    /// Publishes `next`, complete: requests from now on see it.
    pub(crate) fn publish(&self, next: P) {
        self.live.store(next);
    }

    /// Publishes the result of an update if it is `Ok`, and returns it. An `Err` leaves the
    /// live value as it was.
    pub(crate) fn commit<E>(&self, next: Result<P, E>) -> Result<P, E> {
        // INVARIANT: a bad update never replaces a good engine, and the engine is complete
        // before it is published; requests see the old value or the new one, never a mix.
        if let Ok(next) = &next {
            self.publish(next.clone());
        }
        next
    }
}

impl<P: RefCnt, W> std::ops::Deref for Locked<'_, P, W> {
    type Target = W;
    fn deref(&self) -> &W {
        &self.state
    }
}

impl<P: RefCnt, W> std::ops::DerefMut for Locked<'_, P, W> {
    fn deref_mut(&mut self) -> &mut W {
        &mut self.state
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_bad_update_keeps_the_old_value_and_a_good_one_replaces_it() {
        let engine: Engine<Option<Arc<u32>>, u32> = Engine::new(None, 0);
        assert!(engine.load_full().is_none());
        {
            let mut l = engine.lock().await;
            *l += 1;
            assert_eq!(l.commit::<()>(Ok(Some(Arc::new(1)))), Ok(Some(Arc::new(1))));
        }
        let held = engine.load_full();
        {
            let mut l = engine.lock().await;
            *l += 1;
            assert_eq!(l.commit(Err("invalid")), Err("invalid"));
            assert_eq!(l.live().as_deref(), Some(&1));
        }
        assert_eq!(engine.load().as_deref(), Some(&1));
        engine
            .lock()
            .await
            .commit::<()>(Ok(Some(Arc::new(2))))
            .unwrap();
        assert_eq!(engine.load_full().as_deref(), Some(&2));
        // A request that took the old value keeps it whole.
        assert_eq!(held.as_deref(), Some(&1));
        assert_eq!(*engine.lock().await, 2);
    }

    #[tokio::test]
    async fn updates_run_one_at_a_time() {
        let engine = Arc::new(Engine::new(Arc::new(0u32), Vec::new()));
        let first = engine.lock().await;
        let e = Arc::clone(&engine);
        let second = tokio::spawn(async move {
            let mut l = e.lock().await;
            l.push("second");
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!second.is_finished());
        drop(first);
        second.await.unwrap();
        assert_eq!(*engine.lock().await, vec!["second"]);
    }
}
