//! The time lamina judges "now" by when it validates what a client sends
//! (a release's `publish_at` must lie ahead of it).
//!
//! Production reads the system clock. Tests shift it years ahead to prove that
//! nothing a client is shown (spec examples, documented requests) stops being
//! valid when today's date has passed.

use chrono::{DateTime, TimeDelta, Utc};

/// The system clock, optionally shifted by a fixed offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    offset: TimeDelta,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// The system clock moved `offset` ahead (negative: back).
    pub fn shifted(offset: TimeDelta) -> Clock {
        Clock { offset }
    }

    /// What time it is by this clock.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}
