//! The node's local clock: wall-clock milliseconds since the Unix epoch plus a simulated offset.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A clock that never jumps with the system clock (it advances with `Instant`) and that
/// `simulate_drift` can shift by a cumulative offset. Clones share one offset: every part
/// of a node that holds a clone reads the same drifted clock.
#[derive(Debug, Clone)]
pub struct Clock {
    start_wall_ms: i64,
    start: Instant,
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// A clock reading the real time with no offset.
    pub fn new() -> Self {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Clock {
            start_wall_ms: wall.as_millis() as i64,
            start: Instant::now(),
            offset_ms: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Local time in milliseconds since the Unix epoch, offset included.
    pub fn now_ms(&self) -> i64 {
        self.start_wall_ms + self.start.elapsed().as_millis() as i64 + self.offset_ms()
    }

    /// Adds `delta_ms` (may be negative) to the offset; `Err` when it would overflow.
    pub fn drift(&mut self, delta_ms: i64) -> Result<(), String> {
        let offset = self
            .offset_ms()
            .checked_add(delta_ms)
            .ok_or("offset overflows")?;
        // Keep `now_ms` itself far from overflow: a century either way is plenty.
        const LIMIT: i64 = 100 * 365 * 24 * 3600 * 1000;
        if offset.abs() > LIMIT {
            return Err(format!("total offset {offset} ms is beyond +-100 years"));
        }
        self.offset_ms.store(offset, Ordering::Relaxed);
        Ok(())
    }

    /// The cumulative offset applied so far.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}
