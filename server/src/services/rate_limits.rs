//! Rate limits (spec/API.md, "Rate limits"): keyed GCRA limiters from `governor`, held in
//! memory only.
//!
//! - anonymous ticket creation: `anonymous_tickets_per_hour` per client address;
//! - proof-of-work challenges: ten times that per client address (a challenge is cheap to ask
//!   for, but each one occupies the bounded challenge table);
//! - posts: `posts_per_minute` per access token (reporters, keyed by the token's hash) or per
//!   sender key (administrators, whose verified signature authorises the post);
//! - uploads: `uploads_per_minute` attachment declarations and chunks per access token or per
//!   session's account (keyed like posts, see [`PostKey`]);
//! - every API request: `requests_per_minute_per_address` per client address;
//! - pre-logins and logins: `sign_ins_per_minute_per_address`; registrations:
//!   `registrations_per_hour_per_address`; account tickets:
//!   `account_tickets_per_hour_per_address` (each per client address);
//! - failed logins per username: [`LoginBackoff`].
//!
//! The client address is the TCP peer, or when the peer is one of `trusted_proxies` the
//! right-most `X-Forwarded-For` address that is not (`api::extract`). IPv6 addresses are limited per /64, since one host commonly holds a
//! whole /64. Keys whose allowance has fully replenished are dropped every
//! [`HOUSEKEEPING_INTERVAL`] (by `state::housekeeping`, started by `sealdesk serve`) and every
//! [`HOUSEKEEPING_EVERY`] checks (so a flood between two runs is bounded too): the tables
//! stay proportional to recently active clients, and an address is not kept in memory much
//! longer than its limit needs it.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;
use crate::storage::Owner;

/// Keyed limiters drop stale keys once per this many checks.
pub const HOUSEKEEPING_EVERY: u64 = 256;

/// How often `state::housekeeping` runs.
pub const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(60);

/// Proof-of-work challenges one client address may ask for, per anonymous ticket allowed.
pub const CHALLENGES_PER_TICKET: u32 = 10;

/// One keyed limiter with its housekeeping and refusal counters.
pub struct KeyedLimiter<K: Hash + Eq + Clone> {
    name: &'static str,
    limiter: DefaultKeyedRateLimiter<K>,
    checks: AtomicU64,
    refused: AtomicU64,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// A limiter called `name` (in errors and metrics) allowing `quota`.
    pub fn new(name: &'static str, quota: Quota) -> Self {
        KeyedLimiter {
            name,
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            checks: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// Spends one unit of `key`'s allowance, or answers `429 rate_limited` with the seconds to
    /// wait (rounded up, at least 1).
    ///
    /// # Errors
    /// `rate_limited` when the key has no allowance left.
    pub fn check(&self, key: &K) -> Result<(), ApiError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % HOUSEKEEPING_EVERY
            == HOUSEKEEPING_EVERY - 1
        {
            self.housekeeping();
        }
        match self.limiter.check_key(key) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                tracing::info!(limit = self.name, retry_after = seconds, "rate limited");
                Err(rate_limited(seconds.max(1)))
            }
        }
    }

    /// The limiter's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Requests refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Keys currently held.
    pub fn keys(&self) -> usize {
        self.limiter.len()
    }

    /// Drops the keys whose state is indistinguishable from a fresh one.
    pub fn housekeeping(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// `429 rate_limited` with `Retry-After: seconds`.
pub fn rate_limited(seconds: u64) -> ApiError {
    ApiError {
        retry_after: Some(seconds),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("Too many requests; try again in {seconds} seconds."),
        )
    }
}

/// What a post is counted against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PostKey {
    /// A reporter's access token, by its hash.
    AccessToken([u8; 32]),
    /// An account holder, by account id.
    Account(String),
    /// An administrator, by the key id whose signature authorised the post.
    Sender([u8; 32]),
}

impl PostKey {
    /// The key of a post to a ticket owned by `owner`: the sender's key id for an
    /// administrator's post, the ticket's credential otherwise. Call it only once the
    /// message's signature has verified, so that a forged message naming an administrator
    /// cannot spend that administrator's allowance.
    pub fn of(sender_is_admin: bool, sender: &sealdesk_crypto::KeyId, owner: &Owner) -> Self {
        match owner {
            _ if sender_is_admin => PostKey::Sender(sender.0),
            Owner::Anonymous { access_token_hash } => PostKey::AccessToken(*access_token_hash),
            Owner::Account { account_id } => PostKey::Account(account_id.clone()),
        }
    }
}

/// The per-address and per-username limits of every route (from the configuration; for the
/// per-address rates, 0 means no limit).
#[derive(Clone, Copy, Debug)]
pub struct RouteQuotas {
    /// API requests one client address may make per minute.
    pub requests_per_minute_per_address: u32,
    /// Pre-logins and logins one client address may make per minute.
    pub sign_ins_per_minute_per_address: u32,
    /// Registrations one client address may attempt per hour.
    pub registrations_per_hour_per_address: u32,
    /// Account tickets one client address may create per hour.
    pub account_tickets_per_hour_per_address: u32,
    /// Failed logins of one username before the backoff starts.
    pub failed_logins_before_backoff: u32,
    /// Longest lock of a username, in seconds; also how long its failures are remembered.
    pub login_backoff_max_seconds: u64,
}

impl Default for RouteQuotas {
    fn default() -> Self {
        RouteQuotas {
            requests_per_minute_per_address: 600,
            sign_ins_per_minute_per_address: 30,
            registrations_per_hour_per_address: 10,
            account_tickets_per_hour_per_address: 20,
            failed_logins_before_backoff: 5,
            login_backoff_max_seconds: 900,
        }
    }
}

/// The configured rates (from `state::Limits`); a zero rate counts as 1.
#[derive(Clone, Copy, Debug)]
pub struct RateQuotas {
    /// Anonymous tickets one client address may create per hour.
    pub anonymous_tickets_per_hour: u32,
    /// Messages one access token or sender key may post per minute.
    pub posts_per_minute: u32,
    /// Attachment declarations and chunks one access token or session may send per minute.
    pub uploads_per_minute: u32,
    /// The limits of every route.
    pub routes: RouteQuotas,
    /// Recovery requests one client address, and one email address, may make per hour.
    pub recovery_requests_per_hour: u32,
}

/// Every limiter of the server.
pub struct RateLimits {
    /// Anonymous ticket creation, per client address (per hour).
    pub anonymous_tickets: KeyedLimiter<IpAddr>,
    /// Proof-of-work challenges, per client address (per hour).
    pub pow_challenges: KeyedLimiter<IpAddr>,
    /// Posted messages, per credential (per minute).
    pub posts: KeyedLimiter<PostKey>,
    /// Attachment declarations and chunks, per credential (per minute).
    pub uploads: KeyedLimiter<PostKey>,
    /// Every API request, per client address (per minute); `None`: no limit.
    pub requests: Option<KeyedLimiter<IpAddr>>,
    /// Pre-logins and logins, per client address (per minute); `None`: no limit.
    pub sign_ins: Option<KeyedLimiter<IpAddr>>,
    /// Registrations, per client address (per hour); `None`: no limit.
    pub registrations: Option<KeyedLimiter<IpAddr>>,
    /// Account ticket creations, per client address (per hour); `None`: no limit.
    pub account_tickets: Option<KeyedLimiter<IpAddr>>,
    /// Failed logins per username.
    pub login_backoff: LoginBackoff,
    /// Recovery requests, per client address (per hour).
    pub recovery_by_client: KeyedLimiter<IpAddr>,
    /// Recovery requests, per email address: keyed by its email lookup (per hour), so the
    /// address itself is not held in memory.
    pub recovery_by_address: KeyedLimiter<[u8; 32]>,
}

impl RateLimits {
    /// The limiters for `limits` (a zero rate counts as 1).
    pub fn new(limits: &RateQuotas) -> Self {
        let tickets = nonzero(limits.anonymous_tickets_per_hour);
        RateLimits {
            anonymous_tickets: KeyedLimiter::new("anonymous_tickets", Quota::per_hour(tickets)),
            pow_challenges: KeyedLimiter::new(
                "pow_challenges",
                Quota::per_hour(tickets.saturating_mul(nonzero(CHALLENGES_PER_TICKET))),
            ),
            posts: KeyedLimiter::new("posts", Quota::per_minute(nonzero(limits.posts_per_minute))),
            uploads: KeyedLimiter::new(
                "uploads",
                Quota::per_minute(nonzero(limits.uploads_per_minute)),
            ),
            requests: optional(
                "requests",
                limits.routes.requests_per_minute_per_address,
                Quota::per_minute,
            ),
            sign_ins: optional(
                "sign_ins",
                limits.routes.sign_ins_per_minute_per_address,
                Quota::per_minute,
            ),
            registrations: optional(
                "registrations",
                limits.routes.registrations_per_hour_per_address,
                Quota::per_hour,
            ),
            account_tickets: optional(
                "account_tickets",
                limits.routes.account_tickets_per_hour_per_address,
                Quota::per_hour,
            ),
            login_backoff: LoginBackoff::new(
                limits.routes.failed_logins_before_backoff,
                Duration::from_secs(limits.routes.login_backoff_max_seconds),
            ),
            recovery_by_client: KeyedLimiter::new(
                "recovery_by_client",
                Quota::per_hour(nonzero(limits.recovery_requests_per_hour)),
            ),
            recovery_by_address: KeyedLimiter::new(
                "recovery_by_address",
                Quota::per_hour(nonzero(limits.recovery_requests_per_hour)),
            ),
        }
    }

    /// Every keyed limiter, for housekeeping and metrics.
    pub fn all(&self) -> Vec<&KeyedLimiter<IpAddr>> {
        [
            Some(&self.anonymous_tickets),
            Some(&self.pow_challenges),
            self.requests.as_ref(),
            self.sign_ins.as_ref(),
            self.registrations.as_ref(),
            self.account_tickets.as_ref(),
            Some(&self.recovery_by_client),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Drops every limiter's replenished keys and the forgotten login failures.
    pub fn housekeeping(&self) {
        for limiter in self.all() {
            limiter.housekeeping();
        }
        self.posts.housekeeping();
        self.uploads.housekeeping();
        self.recovery_by_address.housekeeping();
        self.login_backoff.housekeeping();
    }

    /// Spends one API request of `client`.
    ///
    /// # Errors
    /// `rate_limited`.
    pub fn request(&self, client: ClientAddr) -> Result<(), ApiError> {
        spend(self.requests.as_ref(), client)
    }

    /// Spends one pre-login or login of `client`.
    ///
    /// # Errors
    /// `rate_limited`.
    pub fn sign_in(&self, client: ClientAddr) -> Result<(), ApiError> {
        spend(self.sign_ins.as_ref(), client)
    }

    /// Spends one registration of `client`.
    ///
    /// # Errors
    /// `rate_limited`.
    pub fn registration(&self, client: ClientAddr) -> Result<(), ApiError> {
        spend(self.registrations.as_ref(), client)
    }

    /// Spends one account ticket creation of `client`.
    ///
    /// # Errors
    /// `rate_limited`.
    pub fn account_ticket(&self, client: ClientAddr) -> Result<(), ApiError> {
        spend(self.account_tickets.as_ref(), client)
    }

    /// Spends one anonymous ticket creation of `client`.
    ///
    /// # Errors
    /// `rate_limited`.
    pub fn anonymous_ticket(&self, client: ClientAddr) -> Result<(), ApiError> {
        self.anonymous_tickets.check(&client.limit_key())
    }

    /// Spends one recovery request of `client` and one of the email address whose lookup is
    /// `address_lookup` (spec/API.md, "Recovery"); the client's allowance is checked first,
    /// so one client cannot spend another address's allowance beyond its own limit.
    ///
    /// # Errors
    /// `rate_limited`.
    pub fn recovery_request(
        &self,
        client: ClientAddr,
        address_lookup: &[u8; 32],
    ) -> Result<(), ApiError> {
        self.recovery_by_client.check(&client.limit_key())?;
        self.recovery_by_address.check(address_lookup)
    }

    /// Spends one proof-of-work challenge of `client`.
    ///
    /// # Errors
    /// `rate_limited`.
    pub fn pow_challenge(&self, client: ClientAddr) -> Result<(), ApiError> {
        self.pow_challenges.check(&client.limit_key())
    }

    /// Spends one post of `key`.
    ///
    /// # Errors
    /// `rate_limited`.
    pub fn post(&self, key: &PostKey) -> Result<(), ApiError> {
        self.posts.check(key)
    }

    /// Spends one upload (an attachment declaration or chunk) of `key`.
    ///
    /// # Errors
    /// `rate_limited`.
    pub fn upload(&self, key: &PostKey) -> Result<(), ApiError> {
        self.uploads.check(key)
    }
}

/// A per-address limiter of `rate` per `period`, or none for a rate of 0.
fn optional(
    name: &'static str,
    rate: u32,
    period: fn(NonZeroU32) -> Quota,
) -> Option<KeyedLimiter<IpAddr>> {
    NonZeroU32::new(rate).map(|rate| KeyedLimiter::new(name, period(rate)))
}

/// Spends one unit of `client`'s allowance in `limiter`, if there is a limiter.
fn spend(limiter: Option<&KeyedLimiter<IpAddr>>, client: ClientAddr) -> Result<(), ApiError> {
    limiter.map_or(Ok(()), |limiter| limiter.check(&client.limit_key()))
}

/// Backoff of failed logins per username (spec/API.md, "Rate limits"): after
/// `free_failures` failures, each further failure locks the username for a doubling time (1 s,
/// 2 s, 4 s, ... at most `max_lock`), during which every login of it answers `429
/// rate_limited` before the password is checked. Unknown usernames are counted exactly like
/// existing ones, so a lock says nothing about whether an account exists. A username's
/// failures are forgotten `max_lock` after its last failure or at its next successful login.
/// Keys are the SHA-256 of the normalised username, held in memory only.
pub struct LoginBackoff {
    free_failures: u32,
    max_lock: Duration,
    failures: std::sync::Mutex<std::collections::HashMap<[u8; 32], Failures>>,
}

/// One username's recent failures.
#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last: std::time::Instant,
    locked_until: std::time::Instant,
}

impl LoginBackoff {
    /// A backoff that starts after `free_failures` failures and locks for at most `max_lock`.
    pub fn new(free_failures: u32, max_lock: Duration) -> Self {
        LoginBackoff {
            free_failures,
            max_lock,
            failures: std::sync::Mutex::default(),
        }
    }

    fn key(username: &str) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(username.as_bytes()).into()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<[u8; 32], Failures>> {
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Refuses a login of `username` (normalised) while it is locked.
    ///
    /// # Errors
    /// `429 rate_limited` with the seconds until the lock ends.
    pub fn check(&self, username: &str) -> Result<(), ApiError> {
        let now = std::time::Instant::now();
        match self.lock().get(&Self::key(username)) {
            Some(failures) if failures.locked_until > now => {
                let wait = failures.locked_until - now;
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                tracing::info!(
                    limit = "failed_logins",
                    retry_after = seconds,
                    "rate limited"
                );
                Err(rate_limited(seconds.max(1)))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed login of `username` (normalised), locking it past the free failures.
    pub fn failed(&self, username: &str) {
        let now = std::time::Instant::now();
        let mut failures = self.lock();
        let entry = failures.entry(Self::key(username)).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: now,
        });
        if now.duration_since(entry.last) > self.max_lock {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        if let Some(over) = entry
            .count
            .checked_sub(self.free_failures)
            .filter(|n| *n > 0)
        {
            let lock = Duration::from_secs(1u64 << (over - 1).min(30)).min(self.max_lock);
            entry.locked_until = now + lock;
        }
    }

    /// Forgets `username`'s failures (after a successful login).
    pub fn succeeded(&self, username: &str) {
        self.lock().remove(&Self::key(username));
    }

    /// Usernames with failures held now.
    pub fn keys(&self) -> usize {
        self.lock().len()
    }

    /// Forgets the usernames whose last failure is older than the longest lock.
    pub fn housekeeping(&self) {
        let now = std::time::Instant::now();
        let max_lock = self.max_lock;
        self.lock()
            .retain(|_, failures| now.duration_since(failures.last) <= max_lock);
    }
}

fn nonzero(value: u32) -> NonZeroU32 {
    NonZeroU32::new(value).unwrap_or(NonZeroU32::MIN)
}

/// The reverse proxies whose `X-Forwarded-For` is believed (option `trusted_proxies`):
/// addresses and CIDR ranges, written as one comma-separated string. An address alone is a
/// range of one (/32 or /128).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Parses `"127.0.0.1, 10.0.0.0/8, ::1"`; an empty string is the empty list.
    ///
    /// # Errors
    /// A message naming the entry that is neither an address nor a CIDR range.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let range = match entry.parse::<ipnet::IpNet>() {
                Ok(range) => range.trunc(),
                Err(_) => entry
                    .parse::<IpAddr>()
                    .map(ipnet::IpNet::from)
                    .map_err(|_| {
                        format!(
                            "expected addresses or CIDR ranges separated by commas, such as \
                         \"127.0.0.1, 10.0.0.0/8\", found {entry:?}"
                        )
                    })?,
            };
            ranges.push(range);
        }
        Ok(TrustedProxies(ranges))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `address` (IPv4-mapped IPv6 counts as IPv4) is a trusted proxy.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|range| range.contains(&address))
    }
}

impl std::fmt::Display for TrustedProxies {
    /// `127.0.0.1/32, 10.0.0.0/8`: the ranges, comma-separated.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&list.join(", "))
    }
}

/// The client's address: the TCP peer, or when the peer is one of `trusted_proxies`, the
/// right-most `X-Forwarded-For` address that is not one of them (the peer if the header is
/// missing or does not parse). The HTTP layer
/// extracts it (`api::extract`); without connection information (in-process tests) it is
/// `0.0.0.0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The key rate limits count against: an IPv4 address, or the /64 of an IPv6 address
    /// (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn limit_key(self) -> IpAddr {
        match self.0.to_canonical() {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !u128::from(u64::MAX);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_limited_per_64_and_mapped_v4_as_v4() {
        let key = |s: &str| ClientAddr(s.parse().unwrap()).limit_key();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::2"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
        assert_eq!(key("192.0.2.1").to_string(), "192.0.2.1");
    }

    #[test]
    fn limiter_refuses_beyond_the_burst_with_retry_after() {
        let limiter = KeyedLimiter::new("test", Quota::per_hour(nonzero(2)));
        assert!(limiter.check(&1u8).is_ok());
        assert!(limiter.check(&1u8).is_ok());
        let error = limiter.check(&1u8).unwrap_err();
        assert_eq!(error.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(error.code, "rate_limited");
        // One of two per hour replenishes every 30 minutes.
        let wait = error.retry_after.unwrap();
        assert!((1_790..=1_800).contains(&wait), "{wait}");
        assert!(limiter.check(&2u8).is_ok(), "keys are independent");
        assert_eq!(limiter.refused(), 1);
        assert_eq!(limiter.keys(), 2);
    }

    #[test]
    fn housekeeping_drops_fresh_keys() {
        // Ten per second: a key is fresh again 100 ms after its one request.
        let limiter = KeyedLimiter::new("test", Quota::per_second(nonzero(10)));
        for key in 0..100u32 {
            assert!(limiter.check(&key).is_ok());
        }
        assert_eq!(limiter.keys(), 100);
        std::thread::sleep(std::time::Duration::from_millis(250));
        limiter.housekeeping();
        assert_eq!(limiter.keys(), 0);
    }

    #[test]
    fn failed_logins_lock_a_username_for_doubling_times() {
        let backoff = LoginBackoff::new(2, Duration::from_secs(3));
        for _ in 0..2 {
            assert!(backoff.check("alice").is_ok());
            backoff.failed("alice");
        }
        assert!(backoff.check("alice").is_ok(), "two free failures");
        backoff.failed("alice");
        let error = backoff.check("alice").unwrap_err();
        assert_eq!(error.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(error.retry_after, Some(1));
        assert!(backoff.check("bob").is_ok(), "usernames are independent");
        backoff.failed("alice");
        backoff.failed("alice");
        // 1 s, 2 s, then 4 s capped at the 3 s maximum.
        assert_eq!(backoff.check("alice").unwrap_err().retry_after, Some(3));
        backoff.succeeded("alice");
        assert!(backoff.check("alice").is_ok());
        assert_eq!(backoff.keys(), 0);
        backoff.failed("carol");
        assert_eq!(backoff.keys(), 1);
        backoff.housekeeping();
        assert_eq!(backoff.keys(), 1, "kept until the longest lock has passed");
    }

    #[test]
    fn post_keys() {
        let sender = sealdesk_crypto::KeyId([5; 32]);
        let anonymous = Owner::Anonymous {
            access_token_hash: [9; 32],
        };
        assert_eq!(
            PostKey::of(false, &sender, &anonymous),
            PostKey::AccessToken([9; 32])
        );
        assert_eq!(
            PostKey::of(true, &sender, &anonymous),
            PostKey::Sender([5; 32])
        );
    }
}
