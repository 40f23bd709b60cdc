//! The wall clock, read in one place: the senders' `sent_at` claims.

/// Unix seconds now (the senders' `sent_at` claims).
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
