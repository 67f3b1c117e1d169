//! The reload triggers that are not requests: `SIGHUP`, and a poll ticker.

use std::time::Duration;

/// `SIGHUP`, if the front end reloads on it.
pub(crate) struct Sighup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Sighup {
    /// None: [`Sighup::recv`] never returns.
    pub(crate) fn none() -> Sighup {
        Sighup {
            #[cfg(unix)]
            signal: None,
        }
    }

    /// Handles `SIGHUP` when `enabled` (on Unix; elsewhere there is none). The error says why
    /// the handler could not be installed.
    pub(crate) fn install(enabled: bool) -> Result<Sighup, String> {
        #[cfg(unix)]
        if enabled {
            use tokio::signal::unix::{signal, SignalKind};
            return signal(SignalKind::hangup())
                .map(|s| Sighup { signal: Some(s) })
                .map_err(|e| format!("cannot handle SIGHUP: {e}"));
        }
        let _ = enabled;
        Ok(Sighup::none())
    }

    /// Waits for the next `SIGHUP`; without a handler, forever.
    pub(crate) async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.signal {
            if s.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await
    }
}

/// A ticker every `period` (at least 10 ms), or none.
pub(crate) fn ticker(period: Option<Duration>) -> Option<tokio::time::Interval> {
    period.map(|d| {
        let mut t = tokio::time::interval(d.max(Duration::from_millis(10)));
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    })
}

/// Waits for the next tick; without a ticker, forever.
pub(crate) async fn tick_or_never(tick: &mut Option<tokio::time::Interval>) {
    match tick {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending::<()>().await,
    }
}
