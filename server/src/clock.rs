//! The wall clock, in the Unix seconds that records and answers carry.

use std::time::{SystemTime, UNIX_EPOCH};

/// Current time in Unix seconds (0 if the clock is before 1970).
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
