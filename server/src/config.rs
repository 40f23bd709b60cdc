//! The server configuration.
//!
//! Every option is declared once, in the table at the `config_options!` invocation below:
//! its TOML key, its `SEALDESK_*` environment variable, its type, default, unit and the doc
//! sentence. From that one table come the typed [`Config`] struct, the option descriptors in
//! [`OPTIONS`], the loader, `sealdesk config check` ([`Config::effective_table`]), the README
//! table ([`Config::markdown_table`]) and `server/sealdesk.example.toml`
//! ([`Config::example_toml`]; a unit test keeps the file in step).
//!
//! Loading order: defaults, then the TOML file given with `--config` (unknown keys are an
//! error), then environment variables (a bad value is an error naming the variable). Relative
//! paths are relative to the working directory. [`Config::validate`] checks the result.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

pub use crate::services::embed_origins::EmbedOrigins;
pub use crate::services::rate_limits::TrustedProxies;

/// `Some(x)` for one literal, `None` for none.
macro_rules! optional {
    () => {
        None
    };
    ($value:literal) => {
        Some($value)
    };
}

/// Declares the options. Each entry: doc comment (one sentence or a few, used everywhere the
/// option is documented), `field: Type = default;`, then its environment variable, unit and,
/// for options without a default value, an example value for the example file.
macro_rules! config_options {
    ($(
        [$group:literal]
        $(
            $(#[doc = $doc:literal])+
            $field:ident: $ty:ty = $default:expr;
            env = $env:literal, unit = $unit:literal $(, example = $example:literal)?;
        )+
    )+) => {
        /// The server configuration: one typed field per option of [`OPTIONS`]. Build it with
        /// [`Config::load`]; `Config::default()` holds the defaults.
        #[derive(Clone, Debug, PartialEq)]
        pub struct Config {
            $($(
                $(#[doc = $doc])+
                pub $field: $ty,
            )+)+
            /// Where each value came from (for `sealdesk config check`).
            pub provenance: Provenance,
        }

        impl Default for Config {
            fn default() -> Self {
                Config {
                    $($( $field: $default, )+)+
                    provenance: Provenance::default(),
                }
            }
        }

        /// Every option, in the order of the table in `config.rs`.
        pub static OPTIONS: &[OptionInfo] = &[
            $($(
                OptionInfo {
                    key: stringify!($field),
                    env: $env,
                    group: $group,
                    type_name: <$ty as OptionValue>::TYPE_NAME,
                    unit: $unit,
                    doc_raw: concat!($($doc, "\n"),+),
                    example: optional!($($example)?),
                },
            )+)+
        ];

        impl Config {
            /// Sets option `key` from a TOML value; `None` if there is no such option.
            fn set_from_toml(
                &mut self,
                key: &str,
                value: &toml::Value,
            ) -> Option<Result<(), String>> {
                match key {
                    $($(
                        stringify!($field) => Some(
                            <$ty as OptionValue>::from_toml(value).map(|v| self.$field = v),
                        ),
                    )+)+
                    _ => None,
                }
            }

            /// Sets option `key` from the text of its environment variable.
            fn set_from_env(&mut self, key: &str, raw: &str) -> Result<(), String> {
                match key {
                    $($(
                        stringify!($field) => {
                            <$ty as OptionValue>::from_env(raw).map(|v| self.$field = v)
                        }
                    )+)+
                    _ => Err(format!("no option named `{key}`")),
                }
            }

            /// The value of option `key` as TOML; `None` if it is unset (or no such option).
            fn value_toml(&self, key: &str) -> Option<toml::Value> {
                match key {
                    $($( stringify!($field) => OptionValue::to_toml(&self.$field), )+)+
                    _ => None,
                }
            }
        }
    };
}

config_options! {
    ["Network"]
    /// Address and port the HTTP server listens on (port 0 picks a free port).
    listen: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);
        env = "SEALDESK_LISTEN", unit = "";
    /// Public base URL of this instance, used to print links such as invites; unset means
    /// `http://` followed by `listen` (with `localhost` for an unspecified address).
    public_url: Option<String> = None;
        env = "SEALDESK_PUBLIC_URL", unit = "", example = "https://support.example.org";
    /// Reverse proxies whose `X-Forwarded-For` header is believed: a comma-separated list of
    /// addresses and CIDR ranges such as `"127.0.0.1, 10.0.0.0/8, ::1"`. When the TCP peer is
    /// one of them, the client address is the right-most `X-Forwarded-For` entry that is not
    /// (entries left of it are the client's own say); otherwise, and when unset, the TCP peer
    /// address is used. See the README's "Behind a reverse proxy".
    trusted_proxies: TrustedProxies = TrustedProxies::default();
        env = "SEALDESK_TRUSTED_PROXIES", unit = "", example = "127.0.0.1/32, ::1/128";

    ["Connections"]
    /// How long a client may take to send a request's headers once it has started one (or
    /// from the connection's start); the connection is closed after it, so slow clients
    /// cannot hold connections open.
    header_read_timeout_seconds: u64 = 10;
        env = "SEALDESK_HEADER_READ_TIMEOUT_SECONDS", unit = "seconds";
    /// How long a connection may go without a byte read or written before it is closed: a
    /// keep-alive connection between requests, or a reader that stopped taking its answer.
    /// Live-update streams write a comment every 15 seconds, so keep this above 15.
    idle_timeout_seconds: u64 = 60;
        env = "SEALDESK_IDLE_TIMEOUT_SECONDS", unit = "seconds";
    /// Most connections open at once; further connections are closed as they are accepted.
    /// The soft limit of open files is raised to the hard limit at start (the log gives the
    /// figure); keep this below it, with room for the database's files.
    max_connections: u32 = 4096;
        env = "SEALDESK_MAX_CONNECTIONS", unit = "connections";
    /// Most connections open at once from one client address (the TCP peer, so behind a
    /// reverse proxy raise it or set 0, which means no cap: the proxy is the only peer).
    max_connections_per_address: u32 = 256;
        env = "SEALDESK_MAX_CONNECTIONS_PER_ADDRESS", unit = "connections";

    ["Storage"]
    /// Directory of the embedded database (sled) and command-line invites; created if missing.
    data_dir: PathBuf = PathBuf::from("./data");
        env = "SEALDESK_DATA_DIR", unit = "";
    /// Directory the web front end is served from; if it does not exist, only the API is
    /// served. A binary built with the `embed-web` feature (as `scripts/serve.sh` builds it)
    /// serves the web files it carries and reads this directory only when the option is set
    /// explicitly (in the file or the environment).
    web_dir: PathBuf = PathBuf::from("web");
        env = "SEALDESK_WEB_DIR", unit = "";
    /// Memory the embedded database (sled) may use to cache pages of the data directory. The
    /// server's resident memory is roughly this plus a few tens of MiB; more cache reads less
    /// from disk on a large instance (BENCHMARKS.md, "Inbox at scale"). At least 1 MiB.
    storage_cache_bytes: u64 = 64 << 20;
        env = "SEALDESK_STORAGE_CACHE_BYTES", unit = "bytes";

    ["Logging"]
    /// Log filter: a level (`error`, `warn`, `info`, `debug`, `trace`) or tracing directives
    /// such as `info,sealdesk_server=debug`.
    log_level: String = String::from("info");
        env = "SEALDESK_LOG_LEVEL", unit = "";
    /// Format of the log lines on standard error: `text` or `json` (one object per line).
    log_format: LogFormat = LogFormat::Text;
        env = "SEALDESK_LOG_FORMAT", unit = "";

    ["Limits"]
    /// Largest request body accepted on routes that need a token or session (2 MiB fits the
    /// largest message, 1 MiB of padded content, base64url-encoded in JSON).
    max_body_bytes: u64 = 2 << 20;
        env = "SEALDESK_MAX_BODY_BYTES", unit = "bytes";
    /// Largest request body accepted on routes open to anyone (anonymous ticket creation); at
    /// most `max_body_bytes`.
    max_anonymous_body_bytes: u64 = 256 << 10;
        env = "SEALDESK_MAX_ANONYMOUS_BODY_BYTES", unit = "bytes";
    /// Largest attachment (encrypted size) one message may carry.
    max_attachment_bytes: u64 = 25 << 20;
        env = "SEALDESK_MAX_ATTACHMENT_BYTES", unit = "bytes";
    /// Ciphertext stored per ticket (messages, key wraps, attachments) beyond which further
    /// writes to the ticket are refused; at least `max_attachment_bytes`.
    ticket_quota_bytes: u64 = 100 << 20;
        env = "SEALDESK_TICKET_QUOTA_BYTES", unit = "bytes";
    /// Deletes every ticket closed for more than this many days (no activity since), with
    /// everything stored for it, checked hourly; 0 keeps closed tickets until an
    /// administrator deletes them (spec/THREAT-MODEL.md, "Deletion and retention").
    retention_days: u32 = 0;
        env = "SEALDESK_RETENTION_DAYS", unit = "days";
    /// Most message bytes one page of `GET …/messages` carries (before base64url); a page
    /// stops before the message that would exceed it, always holds at least one message, and
    /// says `more` so the client asks again from its last seq. Bounds the memory of a read.
    max_page_bytes: u64 = 4 << 20;
        env = "SEALDESK_MAX_PAGE_BYTES", unit = "bytes";

    ["Abuse protection"]
    /// Anonymous tickets one client address may create per hour.
    anonymous_tickets_per_hour: u32 = 10;
        env = "SEALDESK_ANONYMOUS_TICKETS_PER_HOUR", unit = "tickets per hour";
    /// Messages one access token or session may post per minute.
    posts_per_minute: u32 = 60;
        env = "SEALDESK_POSTS_PER_MINUTE", unit = "posts per minute";
    /// Attachment declarations and chunks one access token or session may upload per minute.
    uploads_per_minute: u32 = 120;
        env = "SEALDESK_UPLOADS_PER_MINUTE", unit = "uploads per minute";
    /// Proof of work the browser must compute to create an anonymous ticket, as a number of
    /// leading zero bits (0 turns it off; at most 32). Each bit doubles the expected work:
    /// 2^bits SHA-256 hashes on the reporter's device, so 16 costs about 65,000 hashes.
    proof_of_work_bits: u32 = 0;
        env = "SEALDESK_PROOF_OF_WORK_BITS", unit = "bits";
    /// Message reads (`GET …/messages`) one access token or session may have in progress at
    /// once, until their answers are sent; further reads answer `429 too_many_reads` (0: no
    /// cap). With `max_page_bytes`, bounds the memory one client can make the server hold.
    max_reads_per_token: u32 = 4;
        env = "SEALDESK_MAX_READS_PER_TOKEN", unit = "reads";
    /// Live-update event streams one access token or session may hold open; further streams
    /// answer `429 too_many_streams` (0: no cap).
    max_event_streams_per_token: u32 = 16;
        env = "SEALDESK_MAX_EVENT_STREAMS_PER_TOKEN", unit = "streams";
    /// Live-update event streams one client address may hold open; further streams answer
    /// `429 too_many_streams` (0: no cap).
    max_event_streams_per_address: u32 = 64;
        env = "SEALDESK_MAX_EVENT_STREAMS_PER_ADDRESS", unit = "streams";

    ["Limits on every route"]
    /// API requests one client address may make per minute, on every `/api/v1` route,
    /// `/healthz` and `/metrics` (0: no limit); over it, `429 rate_limited` with `Retry-After`.
    requests_per_minute_per_address: u32 = 600;
        env = "SEALDESK_REQUESTS_PER_MINUTE_PER_ADDRESS", unit = "requests per minute";
    /// Pre-logins and logins one client address may make per minute (0: no limit).
    sign_ins_per_minute_per_address: u32 = 30;
        env = "SEALDESK_SIGN_INS_PER_MINUTE_PER_ADDRESS", unit = "requests per minute";
    /// Account registrations one client address may attempt per hour (0: no limit).
    registrations_per_hour_per_address: u32 = 10;
        env = "SEALDESK_REGISTRATIONS_PER_HOUR_PER_ADDRESS", unit = "registrations per hour";
    /// Account tickets one client address may create per hour (0: no limit).
    account_tickets_per_hour_per_address: u32 = 20;
        env = "SEALDESK_ACCOUNT_TICKETS_PER_HOUR_PER_ADDRESS", unit = "tickets per hour";
    /// Open tickets one account may have at once; creating one more answers
    /// `429 too_many_open_tickets` (0: no limit).
    max_open_tickets_per_account: u32 = 20;
        env = "SEALDESK_MAX_OPEN_TICKETS_PER_ACCOUNT", unit = "tickets";
    /// Whether account ticket creation needs the proof of work of `proof_of_work_bits` too
    /// (it has no effect while `proof_of_work_bits` is 0).
    proof_of_work_for_account_tickets: bool = false;
        env = "SEALDESK_PROOF_OF_WORK_FOR_ACCOUNT_TICKETS", unit = "";
    /// Failed logins one username may have before each further failure locks it for a
    /// doubling time (1 s, 2 s, 4 s, ... up to `login_backoff_max_seconds`). Counted for
    /// unknown usernames the same way, so the lock says nothing about whether one exists.
    failed_logins_before_backoff: u32 = 5;
        env = "SEALDESK_FAILED_LOGINS_BEFORE_BACKOFF", unit = "failures";
    /// Longest lock of a username after failed logins; a username's failure count is
    /// forgotten this long after its last failure, or at its next successful login.
    login_backoff_max_seconds: u64 = 900;
        env = "SEALDESK_LOGIN_BACKOFF_MAX_SECONDS", unit = "seconds";
    /// Instance-wide storage budget: once the database holds this much, new tickets and
    /// attachment uploads answer `507 storage_full`, while messages to existing tickets are
    /// still accepted (0: no budget).
    max_data_bytes: u64 = 0;
        env = "SEALDESK_MAX_DATA_BYTES", unit = "bytes";
    /// How long an attachment upload may stay incomplete; after it the upload is removed
    /// (its chunks deleted, its quota released).
    upload_expiry_seconds: u64 = 3600;
        env = "SEALDESK_UPLOAD_EXPIRY_SECONDS", unit = "seconds";
    /// How often an open live-update stream re-checks its credential; the stream ends once
    /// the session is logged out, expired or replaced by a password change, or the
    /// administrator is no longer in the directory.
    event_stream_recheck_seconds: u64 = 30;
        env = "SEALDESK_EVENT_STREAM_RECHECK_SECONDS", unit = "seconds";
    /// Longest life of a live-update stream; the server then ends it and the client
    /// reconnects (and is authorised afresh).
    event_stream_max_seconds: u64 = 3600;
        env = "SEALDESK_EVENT_STREAM_MAX_SECONDS", unit = "seconds";
    /// Lifetime of the first-administrator invite that `sealdesk serve` prints (and writes to
    /// `first-invite.txt` in the data directory) while the instance has no administrator.
    first_invite_ttl_seconds: u64 = 3600;
        env = "SEALDESK_FIRST_INVITE_TTL_SECONDS", unit = "seconds";
    /// The weakest Argon2id memory cost accepted at registration and password change.
    argon2_min_memory_kib: u32 = 65536;
        env = "SEALDESK_ARGON2_MIN_MEMORY_KIB", unit = "KiB";
    /// The fewest Argon2id passes accepted at registration and password change.
    argon2_min_iterations: u32 = 3;
        env = "SEALDESK_ARGON2_MIN_ITERATIONS", unit = "passes";
    /// The fewest Argon2id lanes accepted at registration and password change.
    argon2_min_parallelism: u32 = 1;
        env = "SEALDESK_ARGON2_MIN_PARALLELISM", unit = "lanes";

    ["Sessions"]
    /// How long a sign-in session stays valid.
    session_ttl_seconds: u64 = 30 * 24 * 3600;
        env = "SEALDESK_SESSION_TTL_SECONDS", unit = "seconds";
    /// How long an administrator invite stays valid.
    invite_ttl_seconds: u64 = 7 * 24 * 3600;
        env = "SEALDESK_INVITE_TTL_SECONDS", unit = "seconds";

    ["Mail"]
    /// SMTP relay for mail: `smtp://[user@]host[:port]` (STARTTLS required, port 587 by
    /// default), `smtps://[user@]host[:port]` (implicit TLS, 465), or
    /// `smtp://127.0.0.1:port?tls=none` for a loopback relay. Unset: mail is off and the pages
    /// do not offer it. Never put the password here: set `SEALDESK_SMTP_PASSWORD` or
    /// `smtp_password_file`. Needs `mail_from` and `public_url`.
    smtp_url: Option<String> = None;
        env = "SEALDESK_SMTP_URL", unit = "", example = "smtp://sealdesk@mail.example.org:587";
    /// File holding the SMTP password (its first line), for a user named in `smtp_url`; the
    /// environment variable `SEALDESK_SMTP_PASSWORD` is the other way to give it.
    smtp_password_file: Option<String> = None;
        env = "SEALDESK_SMTP_PASSWORD_FILE", unit = "", example = "/etc/sealdesk/smtp-password";
    /// Sender of every mail, an address or `Name <address>`.
    mail_from: Option<String> = None;
        env = "SEALDESK_MAIL_FROM", unit = "", example = "Support <support@example.org>";
    /// The instance's name as mails give it.
    instance_name: String = String::from("Sealdesk support");
        env = "SEALDESK_INSTANCE_NAME", unit = "";
    /// Least time between two reply notifications of one ticket (or one account).
    reply_notification_interval_seconds: u64 = 3600;
        env = "SEALDESK_REPLY_NOTIFICATION_INTERVAL_SECONDS", unit = "seconds";
    /// How long a ticket's notification address is kept once the ticket is closed and stays
    /// closed; then it is deleted.
    closed_address_retention_seconds: u64 = 7 * 24 * 3600;
        env = "SEALDESK_CLOSED_ADDRESS_RETENTION_SECONDS", unit = "seconds";
    /// How often an administrator who chose a digest gets one (the first event starts the
    /// wait).
    mail_digest_interval_seconds: u64 = 24 * 3600;
        env = "SEALDESK_MAIL_DIGEST_INTERVAL_SECONDS", unit = "seconds";
    /// Longest wait between two tries of a mail the relay did not take (the wait doubles from
    /// 10 seconds up to this).
    mail_retry_max_seconds: u64 = 3600;
        env = "SEALDESK_MAIL_RETRY_MAX_SECONDS", unit = "seconds";
    /// How long a mail is tried before it is given up as failed (logged and counted).
    mail_give_up_seconds: u64 = 3 * 24 * 3600;
        env = "SEALDESK_MAIL_GIVE_UP_SECONDS", unit = "seconds";

    ["Recovery"]
    /// How long a mailed recovery link ("resend access link") stays valid; it is single-use.
    recovery_ttl_seconds: u64 = 3600;
        env = "SEALDESK_RECOVERY_TTL_SECONDS", unit = "seconds";
    /// Recovery requests one client address, and separately one email address, may make per
    /// hour; the answer is the same whether or not the address belongs to a ticket.
    recovery_requests_per_hour: u32 = 5;
        env = "SEALDESK_RECOVERY_REQUESTS_PER_HOUR", unit = "requests per hour";

    ["Embedding"]
    /// Host origins allowed to show the support tab (`/help`) in a frame, comma-separated:
    /// exact origins such as `"https://app.example.org, https://example.com:8443"`
    /// (`http://` only for a loopback host). The support tab's `frame-ancestors` lists exactly
    /// them, and the tab takes `postMessage` messages (a display name, debug-data fields) from
    /// them only (spec/API.md, "Embedding the support tab"). Unset: no page may frame it.
    embed_origins: EmbedOrigins = EmbedOrigins::default();
        env = "SEALDESK_EMBED_ORIGINS", unit = "", example = "https://app.example.org";
}

/// The format of log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where an option's effective value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The configuration file.
    File,
    /// The option's environment variable.
    Env,
}

/// Where the values of a [`Config`] came from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Provenance {
    /// The configuration file that was read, if any.
    pub file: Option<PathBuf>,
    /// The source of each option set by the file or the environment (absent: default).
    sources: BTreeMap<&'static str, Source>,
}

impl Provenance {
    /// Where option `key` came from.
    pub fn source(&self, key: &str) -> Source {
        self.sources.get(key).copied().unwrap_or(Source::Default)
    }
}

/// The description of one option (see [`OPTIONS`]).
#[derive(Debug)]
pub struct OptionInfo {
    /// Key in the TOML file (and field name of [`Config`]).
    pub key: &'static str,
    /// Environment variable that overrides it.
    pub env: &'static str,
    /// Heading it is listed under.
    pub group: &'static str,
    /// Type of the value, for documentation.
    pub type_name: &'static str,
    /// Unit of the value (empty if none).
    pub unit: &'static str,
    /// The doc comment's lines.
    doc_raw: &'static str,
    /// Example value for options without a default value.
    example: Option<&'static str>,
}

impl OptionInfo {
    /// The doc sentence(s) on one line.
    pub fn doc(&self) -> String {
        self.doc_raw
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The default value as text (with a readable form for bytes and seconds), or `unset`.
    pub fn default_text(&self) -> String {
        Config::default().value_text(self.key)
    }
}

/// A configuration that cannot be loaded or is invalid; the message names the file key or
/// environment variable at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// A type an option can have: how it is read from TOML and from the environment.
trait OptionValue: Sized {
    /// The type's name in documentation.
    const TYPE_NAME: &'static str;
    /// Reads a TOML value.
    fn from_toml(value: &toml::Value) -> Result<Self, String>;
    /// Reads an environment variable's text.
    fn from_env(raw: &str) -> Result<Self, String>;
    /// The value as TOML; `None` if unset.
    fn to_toml(&self) -> Option<toml::Value>;
}

/// "found string \"x\"" for error messages.
fn found(value: &toml::Value) -> String {
    format!("found {} {value}", value.type_str())
}

fn toml_string(value: &toml::Value, expected: &str) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        other => Err(format!("expected {expected}, {}", found(other))),
    }
}

macro_rules! unsigned_option {
    ($($t:ty),*) => {$(
        impl OptionValue for $t {
            const TYPE_NAME: &'static str = "integer";
            fn from_toml(value: &toml::Value) -> Result<Self, String> {
                match value {
                    toml::Value::Integer(n) => <$t>::try_from(*n).map_err(|_| {
                        format!("expected an integer from 0 to {}, found {n}", <$t>::MAX)
                    }),
                    other => Err(format!("expected an integer, {}", found(other))),
                }
            }
            fn from_env(raw: &str) -> Result<Self, String> {
                raw.trim().parse::<$t>().map_err(|_| {
                    format!("expected an integer from 0 to {}, found {raw:?}", <$t>::MAX)
                })
            }
            fn to_toml(&self) -> Option<toml::Value> {
                Some(toml::Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX)))
            }
        }
    )*};
}

unsigned_option!(u32, u64);

impl OptionValue for bool {
    const TYPE_NAME: &'static str = "boolean";
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::Boolean(b) => Ok(*b),
            other => Err(format!("expected true or false, {}", found(other))),
        }
    }
    fn from_env(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(format!("expected true or false, found {raw:?}")),
        }
    }
    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::Boolean(*self))
    }
}

impl OptionValue for SocketAddr {
    const TYPE_NAME: &'static str = "address";
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        Self::from_env(&toml_string(
            value,
            "an address such as \"127.0.0.1:8080\"",
        )?)
    }
    fn from_env(raw: &str) -> Result<Self, String> {
        raw.trim().parse().map_err(|_| {
            format!(
                "expected an IP address and port such as \"127.0.0.1:8080\" or \"[::]:8080\", \
                 found {raw:?}"
            )
        })
    }
    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::String(self.to_string()))
    }
}

impl OptionValue for PathBuf {
    const TYPE_NAME: &'static str = "path";
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        Self::from_env(&toml_string(value, "a path")?)
    }
    fn from_env(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("expected a path, found an empty string".to_owned());
        }
        Ok(PathBuf::from(raw))
    }
    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::String(self.display().to_string()))
    }
}

impl OptionValue for String {
    const TYPE_NAME: &'static str = "string";
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        toml_string(value, "a string")
    }
    fn from_env(raw: &str) -> Result<Self, String> {
        Ok(raw.to_owned())
    }
    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::String(self.clone()))
    }
}

impl OptionValue for TrustedProxies {
    const TYPE_NAME: &'static str = "addresses and CIDR ranges";
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        Self::parse(&toml_string(
            value,
            "a string such as \"127.0.0.1, 10.0.0.0/8\"",
        )?)
    }
    fn from_env(raw: &str) -> Result<Self, String> {
        Self::parse(raw)
    }
    fn to_toml(&self) -> Option<toml::Value> {
        // Unset when empty, so the example file shows the option's example.
        (!self.is_empty()).then(|| toml::Value::String(self.to_string()))
    }
}

impl OptionValue for EmbedOrigins {
    const TYPE_NAME: &'static str = "origins";
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        Self::parse(&toml_string(
            value,
            "a string such as \"https://app.example.org\"",
        )?)
    }
    fn from_env(raw: &str) -> Result<Self, String> {
        Self::parse(raw)
    }
    fn to_toml(&self) -> Option<toml::Value> {
        // Unset when empty, so the example file shows the option's example.
        (!self.is_empty()).then(|| toml::Value::String(self.to_string()))
    }
}

/// An optional string: an empty string means unset.
impl OptionValue for Option<String> {
    const TYPE_NAME: &'static str = "string";
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        Self::from_env(&toml_string(value, "a string")?)
    }
    fn from_env(raw: &str) -> Result<Self, String> {
        Ok(Some(raw.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_owned))
    }
    fn to_toml(&self) -> Option<toml::Value> {
        self.clone().map(toml::Value::String)
    }
}

impl OptionValue for LogFormat {
    const TYPE_NAME: &'static str = "`text` or `json`";
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        Self::from_env(&toml_string(value, "\"text\" or \"json\"")?)
    }
    fn from_env(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("expected \"text\" or \"json\", found {raw:?}")),
        }
    }
    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::String(
            match self {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            }
            .to_owned(),
        ))
    }
}

/// `1048576 (1 MiB)`, `2592000 (30 days)`: a number with a readable form for its unit.
pub(crate) fn with_unit(n: i64, unit: &str) -> String {
    let scaled = |steps: &[(i64, &str, &str)]| {
        steps
            .iter()
            .find(|(size, _, _)| n >= *size && n % size == 0)
            .map(|(size, one, many)| {
                let k = n / size;
                format!("{n} ({k} {})", if k == 1 { one } else { many })
            })
    };
    let readable = match unit {
        "bytes" => scaled(&[
            (1 << 30, "GiB", "GiB"),
            (1 << 20, "MiB", "MiB"),
            (1 << 10, "KiB", "KiB"),
        ]),
        "seconds" => scaled(&[
            (86_400, "day", "days"),
            (3_600, "hour", "hours"),
            (60, "minute", "minutes"),
        ]),
        _ => None,
    };
    readable.unwrap_or_else(|| n.to_string())
}

/// `url` with any password inside it replaced by `REDACTED` (a password belongs in
/// `SEALDESK_SMTP_PASSWORD` or `smtp_password_file`; `validate` refuses one here, and no message
/// repeats it).
fn redacted_smtp_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("REDACTED"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// The closest option name to `key`, if it is close enough to be a typo.
fn suggestion(key: &str) -> Option<&'static str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut previous: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut current = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                let substitute = previous[j] + usize::from(ca != *cb);
                current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
            }
            previous = current;
        }
        previous[b.len()]
    }
    let key = key.to_ascii_lowercase();
    OPTIONS
        .iter()
        .map(|o| {
            let d = if key.len() >= 4 && o.key.contains(key.as_str()) {
                0
            } else {
                distance(&key, o.key)
            };
            (d, o.key)
        })
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, k)| k)
}

/// The table's row for `key`; `None` only for a key that is not an option (callers pass keys
/// that come from the table).
fn option(key: &str) -> Option<&'static OptionInfo> {
    OPTIONS.iter().find(|o| o.key == key)
}

impl Config {
    /// Loads and validates the configuration: defaults, then the file at `path` (if given),
    /// then the `SEALDESK_*` environment variables.
    ///
    /// # Errors
    /// The file cannot be read or parsed, a key is unknown, a value has the wrong type (the
    /// message names the key or variable), or [`Config::validate`] fails.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let config = Config::read(path)?;
        config.validate()?;
        Ok(config)
    }

    /// Like [`Config::load`] without [`Config::validate`] (for `sealdesk config check`, which
    /// shows the values before judging them).
    ///
    /// # Errors
    /// As [`Config::load`], except validation.
    pub fn read(path: Option<&Path>) -> Result<Config, ConfigError> {
        Config::read_with_env(path, &|name| std::env::var_os(name))
    }

    /// Like [`Config::read`], with the environment given as a lookup function (for tests).
    ///
    /// # Errors
    /// As [`Config::read`].
    pub fn read_with_env(
        path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        if let Some(path) = path {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError(format!(
                    "cannot read the configuration file {}: {e}",
                    path.display()
                ))
            })?;
            config.apply_toml(path, &text)?;
        }
        config.apply_env(env)?;
        Ok(config)
    }

    /// The defaults with the options of `text`, a configuration file's content, applied: no
    /// environment, no [`Config::validate`]. The public entry point of the configuration
    /// file's parser for the fuzz target `config` (fuzz/, FUZZING.md); errors name the file
    /// `sealdesk.toml`.
    ///
    /// # Errors
    /// As [`Config::read`] for a file's content: not TOML, an unknown option, a value of the
    /// wrong type or out of its type's range.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        config.apply_toml(Path::new("sealdesk.toml"), text)?;
        Ok(config)
    }

    /// Applies the options of a TOML document read from `path`.
    fn apply_toml(&mut self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let file = path.display();
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            ConfigError(format!(
                "the configuration file {file} is not valid TOML: {e}"
            ))
        })?;
        for (key, value) in &table {
            match self.set_from_toml(key, value) {
                None => {
                    let hint = suggestion(key)
                        .map(|k| format!(" (did you mean `{k}`?)"))
                        .unwrap_or_default();
                    return Err(ConfigError(format!(
                        "the configuration file {file} has an unknown option `{key}`{hint}; \
                         `sealdesk config check` and sealdesk.example.toml list the options"
                    )));
                }
                Some(Err(message)) => {
                    return Err(ConfigError(format!(
                        "the configuration file {file}, option `{key}`: {message}"
                    )));
                }
                Some(Ok(())) => {
                    if let Some(info) = option(key) {
                        self.provenance.sources.insert(info.key, Source::File);
                    }
                }
            }
        }
        self.provenance.file = Some(path.to_path_buf());
        Ok(())
    }

    /// Applies the options' environment variables that are set.
    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<OsString>) -> Result<(), ConfigError> {
        for info in OPTIONS {
            let Some(raw) = env(info.env) else { continue };
            let raw = raw.into_string().map_err(|_| {
                ConfigError(format!(
                    "environment variable {}: the value is not UTF-8",
                    info.env
                ))
            })?;
            self.set_from_env(info.key, &raw).map_err(|message| {
                ConfigError(format!("environment variable {}: {message}", info.env))
            })?;
            self.provenance.sources.insert(info.key, Source::Env);
        }
        Ok(())
    }

    /// Checks the values against each other and their ranges.
    ///
    /// # Errors
    /// Every problem found, one per line, each naming the option and where its value came
    /// from.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, message: String| {
            if !ok {
                problems.push(message);
            }
        };
        for (key, value) in [
            ("max_body_bytes", self.max_body_bytes),
            ("max_anonymous_body_bytes", self.max_anonymous_body_bytes),
            ("max_attachment_bytes", self.max_attachment_bytes),
            ("ticket_quota_bytes", self.ticket_quota_bytes),
            (
                "anonymous_tickets_per_hour",
                u64::from(self.anonymous_tickets_per_hour),
            ),
            ("posts_per_minute", u64::from(self.posts_per_minute)),
            ("uploads_per_minute", u64::from(self.uploads_per_minute)),
            ("session_ttl_seconds", self.session_ttl_seconds),
            ("invite_ttl_seconds", self.invite_ttl_seconds),
            ("upload_expiry_seconds", self.upload_expiry_seconds),
            (
                "event_stream_recheck_seconds",
                self.event_stream_recheck_seconds,
            ),
            ("event_stream_max_seconds", self.event_stream_max_seconds),
            ("first_invite_ttl_seconds", self.first_invite_ttl_seconds),
            (
                "argon2_min_memory_kib",
                u64::from(self.argon2_min_memory_kib),
            ),
            (
                "argon2_min_iterations",
                u64::from(self.argon2_min_iterations),
            ),
            (
                "argon2_min_parallelism",
                u64::from(self.argon2_min_parallelism),
            ),
            ("recovery_ttl_seconds", self.recovery_ttl_seconds),
            (
                "recovery_requests_per_hour",
                u64::from(self.recovery_requests_per_hour),
            ),
        ] {
            check(
                value > 0,
                format!("{} must be greater than 0", self.describe(key)),
            );
        }
        check(
            self.max_anonymous_body_bytes <= self.max_body_bytes,
            format!(
                "{} must not exceed {}",
                self.describe("max_anonymous_body_bytes"),
                self.describe("max_body_bytes")
            ),
        );
        check(
            self.ticket_quota_bytes >= self.max_attachment_bytes,
            format!(
                "{} must be at least {}, or no attachment of the largest size could be stored",
                self.describe("ticket_quota_bytes"),
                self.describe("max_attachment_bytes")
            ),
        );
        let floor = sealdesk_crypto::Argon2Params {
            memory_kib: self.argon2_min_memory_kib,
            iterations: self.argon2_min_iterations,
            parallelism: self.argon2_min_parallelism,
        };
        check(
            sealdesk_crypto::Argon2Params::MAX.at_least(&floor),
            format!(
                "{}, {} and {} must not exceed what clients accept (memory_kib {}, iterations \
                 {}, parallelism {}), or no account could be registered",
                self.describe("argon2_min_memory_kib"),
                self.describe("argon2_min_iterations"),
                self.describe("argon2_min_parallelism"),
                sealdesk_crypto::Argon2Params::MAX.memory_kib,
                sealdesk_crypto::Argon2Params::MAX.iterations,
                sealdesk_crypto::Argon2Params::MAX.parallelism,
            ),
        );
        check(
            self.proof_of_work_bits <= 32,
            format!("{} must be at most 32", self.describe("proof_of_work_bits")),
        );
        check(
            !self.data_dir.as_os_str().is_empty(),
            format!("{} must not be empty", self.describe("data_dir")),
        );
        check(
            self.storage_cache_bytes >= 1 << 20,
            format!(
                "{} must be at least 1048576 (1 MiB)",
                self.describe("storage_cache_bytes")
            ),
        );
        if let Some(url) = &self.public_url {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            let host_ok = rest.is_some_and(|r| {
                let host = r.split('/').next().unwrap_or("");
                !host.is_empty() && !host.contains(char::is_whitespace)
            });
            check(
                host_ok && !url.contains(['?', '#']),
                format!(
                    "{} must be an http:// or https:// URL with a host and without query or \
                     fragment, such as \"https://support.example.org\"",
                    self.describe("public_url")
                ),
            );
        }
        self.validate_mail(&mut check);
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log_level) {
            check(
                false,
                format!(
                    "{} is not a log level or filter ({e}); use error, warn, info, debug or trace",
                    self.describe("log_level")
                ),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(format!(
                "invalid configuration:\n  - {}",
                problems.join("\n  - ")
            )))
        }
    }

    /// The mail options' checks (README.md, "Mail"): with `smtp_url`, a valid URL, a valid
    /// `mail_from` and an explicit `public_url` (the links in mails must reach the instance).
    fn validate_mail(&self, check: &mut impl FnMut(bool, String)) {
        let Some(url) = &self.smtp_url else {
            return;
        };
        if let Err(problem) = crate::services::mail::SmtpEndpoint::parse(url) {
            // Not `describe`: the value may hold the password this refuses.
            check(
                false,
                format!(
                    "smtp_url = {:?} ({}) {problem}",
                    redacted_smtp_url(url),
                    self.origin("smtp_url")
                ),
            );
        }
        match &self.mail_from {
            None => check(
                false,
                format!(
                    "{} is needed when smtp_url is set",
                    self.describe("mail_from")
                ),
            ),
            Some(from) => check(
                from.parse::<lettre::message::Mailbox>().is_ok(),
                format!(
                    "{} must be an address or `Name <address>`",
                    self.describe("mail_from")
                ),
            ),
        }
        check(
            self.public_url.is_some(),
            format!(
                "{} is needed when smtp_url is set: every link in a mail starts with it",
                self.describe("public_url")
            ),
        );
        for key in [
            "reply_notification_interval_seconds",
            "mail_digest_interval_seconds",
            "mail_retry_max_seconds",
            "mail_give_up_seconds",
        ] {
            let value = self
                .value_toml(key)
                .and_then(|v| v.as_integer())
                .unwrap_or(0);
            check(
                value > 0,
                format!("{} must be greater than 0", self.describe(key)),
            );
        }
    }

    /// The SMTP password: `SEALDESK_SMTP_PASSWORD`, or the first line of `smtp_password_file`.
    fn smtp_password(&self) -> Result<Option<zeroize::Zeroizing<String>>, String> {
        if let Some(path) = &self.smtp_password_file {
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read smtp_password_file {path}: {e}"))?,
            );
            let first = text.lines().next().unwrap_or("").to_owned();
            return Ok(Some(zeroize::Zeroizing::new(first)));
        }
        Ok(std::env::var("SEALDESK_SMTP_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
            .map(zeroize::Zeroizing::new))
    }

    /// The mail settings of `config`, or `None` when mail is off (no `smtp_url`).
    ///
    /// # Errors
    /// An invalid `smtp_url` or `mail_from`, a missing password for a named user, an unreadable
    /// password file (the configuration was validated, so mostly the last two).
    pub fn mail_settings(&self) -> Result<Option<crate::services::mail::MailSettings>, String> {
        let Some(url) = &self.smtp_url else {
            return Ok(None);
        };
        let endpoint =
            crate::services::mail::SmtpEndpoint::parse(url).map_err(|e| format!("smtp_url {e}"))?;
        let mailer = crate::services::mail::Mailer::new(endpoint, self.smtp_password()?)?;
        let from = self
            .mail_from
            .as_deref()
            .ok_or("mail_from is needed when smtp_url is set")?
            .parse()
            .map_err(|_| "mail_from is not an address or `Name <address>`".to_owned())?;
        Ok(Some(crate::services::mail::MailSettings {
            mailer,
            from,
            public_url: self.public_url(),
            instance_name: self.instance_name.clone(),
            reply_interval_seconds: self.reply_notification_interval_seconds,
            closed_retention_seconds: self.closed_address_retention_seconds,
            digest_interval_seconds: self.mail_digest_interval_seconds,
            retry_max_seconds: self.mail_retry_max_seconds,
            give_up_seconds: self.mail_give_up_seconds,
        }))
    }

    /// What `sealdesk config check` says about mail: off, or the relay, its security, whether
    /// a password is given (never the password) and the sender.
    pub fn mail_report(&self) -> String {
        let Some(url) = &self.smtp_url else {
            return "mail: off (no smtp_url; the pages do not offer mail)".to_owned();
        };
        let relay = crate::services::mail::SmtpEndpoint::parse(url)
            .map_or_else(|e| format!("invalid smtp_url: {e}"), |e| e.describe());
        let password = if self.smtp_password_file.is_some() {
            "password from smtp_password_file"
        } else if std::env::var_os("SEALDESK_SMTP_PASSWORD").is_some() {
            "password from SEALDESK_SMTP_PASSWORD"
        } else {
            "no password"
        };
        format!(
            "mail: on, relay {relay}, {password}, from {}, links to {}",
            self.mail_from.as_deref().unwrap_or("(mail_from unset)"),
            self.public_url()
        )
    }

    /// `max_body_bytes = 0 (from SEALDESK_MAX_BODY_BYTES)`: an option, its value and source.
    fn describe(&self, key: &str) -> String {
        let value = self
            .value_toml(key)
            .map_or_else(|| "unset".to_owned(), |v| v.to_string());
        format!("{key} = {value} ({})", self.origin(key))
    }

    /// Where option `key`'s value came from, as `describe` words it.
    fn origin(&self, key: &str) -> String {
        let env = option(key).map_or("its environment variable", |info| info.env);
        match self.provenance.source(key) {
            Source::Default => "the default".to_owned(),
            Source::File => match &self.provenance.file {
                Some(file) => format!("set in {}", file.display()),
                None => "set in the configuration file".to_owned(),
            },
            Source::Env => format!("set by {env}"),
        }
    }

    /// The effective public base URL, without a trailing slash: the `public_url` option or
    /// one derived from `listen`.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let host = if self.listen.ip().is_unspecified() {
                    "localhost".to_owned()
                } else {
                    match self.listen.ip() {
                        IpAddr::V4(ip) => ip.to_string(),
                        IpAddr::V6(ip) => format!("[{ip}]"),
                    }
                };
                format!("http://{host}:{}", self.listen.port())
            }
        }
    }

    /// The value of option `key` as text (strings unquoted, numbers with a readable unit).
    fn value_text(&self, key: &str) -> String {
        match self.value_toml(key) {
            None => "unset".to_owned(),
            Some(toml::Value::String(s)) => s,
            Some(toml::Value::Integer(n)) => with_unit(n, option(key).map_or("", |info| info.unit)),
            Some(other) => other.to_string(),
        }
    }

    /// Every option with its effective value and where it came from (default, file or env):
    /// what `sealdesk config check` prints.
    pub fn effective_table(&self) -> String {
        let mut rows = vec![("OPTION".to_owned(), "VALUE".to_owned(), "SOURCE".to_owned())];
        for info in OPTIONS {
            let (value, source) = match (info.key, self.provenance.source(info.key)) {
                ("public_url", Source::Default) => (
                    self.public_url(),
                    "default (derived from listen)".to_owned(),
                ),
                ("smtp_url", source) => (
                    self.smtp_url
                        .as_deref()
                        .map_or_else(|| "unset".to_owned(), redacted_smtp_url),
                    match source {
                        Source::Default => "default".to_owned(),
                        Source::File => "file".to_owned(),
                        Source::Env => format!("env {}", info.env),
                    },
                ),
                (key, Source::Default) => (self.value_text(key), "default".to_owned()),
                (key, Source::File) => (self.value_text(key), "file".to_owned()),
                (key, Source::Env) => (self.value_text(key), format!("env {}", info.env)),
            };
            rows.push((info.key.to_owned(), value, source));
        }
        let key_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let value_width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
        let mut out = match &self.provenance.file {
            Some(file) => format!("configuration file: {}\n", file.display()),
            None => "configuration file: none (defaults and environment only)\n".to_owned(),
        };
        for (key, value, source) in rows {
            let _ = writeln!(out, "{key:key_width$}  {value:value_width$}  {source}");
        }
        out
    }

    /// The options as a Markdown table (for the README), generated from [`OPTIONS`].
    pub fn markdown_table() -> String {
        let mut out = String::from(
            "| Option (TOML key) | Environment variable | Type | Default | Unit | Description |\n\
             |---|---|---|---|---|---|\n",
        );
        for info in OPTIONS {
            let default = match Config::default().value_toml(info.key) {
                None => "unset".to_owned(),
                Some(_) => {
                    let text = info.default_text();
                    match text.split_once(" (") {
                        Some((value, readable)) => format!("`{value}` ({readable}"),
                        None => format!("`{text}`"),
                    }
                }
            };
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} | {} | {} |",
                info.key,
                info.env,
                info.type_name,
                default,
                info.unit,
                info.doc().replace('|', "\\|")
            );
        }
        out
    }

    /// The text of `server/sealdesk.example.toml`: every option commented out with its doc,
    /// environment variable and default.
    pub fn example_toml() -> String {
        let mut out = String::from(
            "# Sealdesk server configuration: an example listing every option.\n\
             #\n\
             # Every option is shown commented out with its default value; uncomment and edit\n\
             # the ones to change. The environment variable named with each option overrides\n\
             # this file.\n\
             # Relative paths are relative to the working directory.\n\
             #\n\
             #   sealdesk serve --config sealdesk.toml\n\
             #   sealdesk config check --config sealdesk.toml   # prints the effective values\n\
             #\n\
             # Generated from server/src/config.rs (Config::example_toml); a unit test keeps the\n\
             # two in step.\n",
        );
        let defaults = Config::default();
        let mut group = "";
        for info in OPTIONS {
            if info.group != group {
                group = info.group;
                let _ = write!(out, "\n# ---- {group} ----\n");
            }
            out.push('\n');
            for line in wrap(&info.doc(), 98) {
                let _ = writeln!(out, "# {line}");
            }
            let unit = if info.unit.is_empty() {
                String::new()
            } else {
                format!("Unit: {}. ", info.unit)
            };
            let _ = writeln!(
                out,
                "# {unit}Environment: {}. Default: {}.",
                info.env,
                info.default_text()
            );
            let value = match (defaults.value_toml(info.key), info.example) {
                (Some(value), _) => value.to_string(),
                (None, Some(example)) => toml::Value::String(example.to_owned()).to_string(),
                (None, None) => "\"\"".to_owned(),
            };
            let _ = writeln!(out, "#{} = {value}", info.key);
        }
        out
    }
}

/// Splits `text` into lines of at most `width` characters (longer words stay whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE_FILE: &str = include_str!("../sealdesk.example.toml");

    fn no_env(_: &str) -> Option<OsString> {
        None
    }

    fn read(toml: Option<&str>, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sealdesk.toml");
        if let Some(text) = toml {
            std::fs::write(&path, text).unwrap();
        }
        let env: Vec<(String, OsString)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        Config::read_with_env(toml.map(|_| path.as_path()), &lookup)
    }

    #[test]
    fn a_file_s_text_reads_as_the_file_does() {
        let text = "max_body_bytes = 4096\nlisten = \"127.0.0.1:9000\"\n";
        let from_text = Config::from_toml_str(text).unwrap();
        let from_file = read(Some(text), &[]).unwrap();
        assert_eq!(from_text.max_body_bytes, 4096);
        assert_eq!(from_text.listen, from_file.listen);
        assert_eq!(from_text.max_body_bytes, from_file.max_body_bytes);
        let error = Config::from_toml_str("max_body_byte = 1").unwrap_err();
        assert!(error.0.contains("`max_body_byte`"), "{error}");
        assert!(Config::from_toml_str("max_body_bytes = ").is_err());
    }

    #[test]
    fn defaults_work_without_any_configuration() {
        let config = Config::read_with_env(None, &no_env).unwrap();
        config.validate().unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.web_dir, PathBuf::from("web"));
        assert_eq!(config.public_url(), "http://127.0.0.1:8080");
        assert_eq!(config.log_level, "info");
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.max_body_bytes, 2_097_152);
        assert_eq!(config.max_anonymous_body_bytes, 262_144);
        assert_eq!(config.max_attachment_bytes, 26_214_400);
        assert_eq!(config.ticket_quota_bytes, 104_857_600);
        assert_eq!(config.anonymous_tickets_per_hour, 10);
        assert_eq!(config.posts_per_minute, 60);
        assert_eq!(config.uploads_per_minute, 120);
        assert_eq!(config.proof_of_work_bits, 0);
        assert_eq!(config.session_ttl_seconds, 2_592_000);
        assert_eq!(config.invite_ttl_seconds, 604_800);
        assert!(config.trusted_proxies.is_empty());
    }

    #[test]
    fn every_option_is_described_once() {
        let mut keys: Vec<_> = OPTIONS.iter().map(|o| o.key).collect();
        let mut envs: Vec<_> = OPTIONS.iter().map(|o| o.env).collect();
        keys.sort_unstable();
        envs.sort_unstable();
        keys.dedup();
        envs.dedup();
        assert_eq!(keys.len(), OPTIONS.len());
        assert_eq!(envs.len(), OPTIONS.len());
        for info in OPTIONS {
            assert_eq!(
                info.env,
                format!("SEALDESK_{}", info.key.to_ascii_uppercase())
            );
            assert!(
                info.doc().ends_with('.'),
                "{}: doc should be a sentence",
                info.key
            );
            assert!(
                Config::default().value_toml(info.key).is_some() || info.example.is_some(),
                "{}: an option without a default needs an example",
                info.key
            );
        }
    }

    #[test]
    fn file_then_environment_override_defaults() {
        let config = read(
            Some("listen = \"0.0.0.0:9000\"\nmax_body_bytes = 2097152\nlog_format = \"json\"\n"),
            &[
                ("SEALDESK_LISTEN", "127.0.0.1:7000"),
                ("SEALDESK_TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
            ],
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(config.max_body_bytes, 2 << 20);
        assert_eq!(config.log_format, LogFormat::Json);
        assert!(config.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(config.trusted_proxies.contains("::1".parse().unwrap()));
        assert!(!config.trusted_proxies.contains("11.0.0.1".parse().unwrap()));
        assert_eq!(config.provenance.source("listen"), Source::Env);
        assert_eq!(config.provenance.source("max_body_bytes"), Source::File);
        assert_eq!(config.provenance.source("data_dir"), Source::Default);

        let table = config.effective_table();
        assert!(table.contains("configuration file: "), "{table}");
        let line = |key: &str| {
            table
                .lines()
                .find(|l| l.starts_with(&format!("{key} ")))
                .unwrap()
                .to_owned()
        };
        assert!(line("listen").contains("127.0.0.1:7000"));
        assert!(line("listen").ends_with("env SEALDESK_LISTEN"));
        assert!(line("max_body_bytes").contains("2097152 (2 MiB)"));
        assert!(line("max_body_bytes").ends_with("file"));
        assert!(line("data_dir").ends_with("default"));
        assert!(line("public_url").contains("http://127.0.0.1:7000"));
        for info in OPTIONS {
            line(info.key);
        }
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let error = read(Some("max_body_byte = 5\n"), &[]).unwrap_err().0;
        assert!(error.contains("unknown option `max_body_byte`"), "{error}");
        assert!(error.contains("did you mean `max_body_bytes`"), "{error}");
        let error = read(Some("[limits]\nmax_body_bytes = 5\n"), &[])
            .unwrap_err()
            .0;
        assert!(error.contains("unknown option `limits`"), "{error}");
        assert!(!error.contains("did you mean"), "{error}");
        let error = read(Some("quota = 5\n"), &[]).unwrap_err().0;
        assert!(
            error.contains("did you mean `ticket_quota_bytes`"),
            "{error}"
        );
    }

    #[test]
    fn wrong_types_name_the_key_or_variable() {
        let error = read(Some("max_body_bytes = \"1MiB\"\n"), &[])
            .unwrap_err()
            .0;
        assert!(error.contains("option `max_body_bytes`"), "{error}");
        assert!(error.contains("expected an integer"), "{error}");
        let error = read(Some("posts_per_minute = -1\n"), &[]).unwrap_err().0;
        assert!(error.contains("option `posts_per_minute`"), "{error}");
        let error = read(Some("listen = \"localhost\"\n"), &[]).unwrap_err().0;
        assert!(error.contains("option `listen`"), "{error}");
        let error = read(Some("not toml at all ="), &[]).unwrap_err().0;
        assert!(error.contains("is not valid TOML"), "{error}");

        let error = read(None, &[("SEALDESK_MAX_BODY_BYTES", "lots")])
            .unwrap_err()
            .0;
        assert!(
            error.starts_with("environment variable SEALDESK_MAX_BODY_BYTES:"),
            "{error}"
        );
        let error = read(None, &[("SEALDESK_LOG_FORMAT", "xml")]).unwrap_err().0;
        assert!(error.contains("SEALDESK_LOG_FORMAT"), "{error}");
        let error = read(
            None,
            &[("SEALDESK_TRUSTED_PROXIES", "10.0.0.0/8, proxy.lan")],
        )
        .unwrap_err()
        .0;
        assert!(error.contains("SEALDESK_TRUSTED_PROXIES"), "{error}");
        assert!(error.contains("\"proxy.lan\""), "{error}");
    }

    /// `embed_origins`: exact origins from the file or the environment; a path, a wildcard or
    /// plain http to a host that is not loopback is an error naming the option and the entry.
    #[test]
    fn embed_origins_are_exact_origins() {
        let config = read(
            Some("embed_origins = \"https://app.example.org, http://127.0.0.1:3000\"\n"),
            &[],
        )
        .unwrap();
        assert_eq!(
            config.embed_origins.origins(),
            ["https://app.example.org", "http://127.0.0.1:3000"]
        );
        assert!(Config::default().embed_origins.is_empty());
        let error = read(
            Some("embed_origins = \"https://app.example.org/help\"\n"),
            &[],
        )
        .unwrap_err()
        .0;
        assert!(error.contains("option `embed_origins`"), "{error}");
        assert!(error.contains("https://app.example.org/help"), "{error}");
        let error = read(
            None,
            &[("SEALDESK_EMBED_ORIGINS", "http://app.example.org")],
        )
        .unwrap_err()
        .0;
        assert!(error.contains("SEALDESK_EMBED_ORIGINS"), "{error}");
        assert!(error.contains("loopback"), "{error}");
    }

    #[test]
    fn validation_explains_each_problem() {
        let config = read(
            Some("max_anonymous_body_bytes = 4194304\nposts_per_minute = 0\n"),
            &[
                ("SEALDESK_PROOF_OF_WORK_BITS", "40"),
                ("SEALDESK_LOG_LEVEL", "info,=["),
            ],
        )
        .unwrap();
        let error = config.validate().unwrap_err().0;
        assert!(
            error.contains("max_anonymous_body_bytes = 4194304 (set in ")
                && error.contains("must not exceed max_body_bytes = 2097152 (the default)"),
            "{error}"
        );
        assert!(error.contains("posts_per_minute = 0 (set in "), "{error}");
        assert!(
            error.contains("proof_of_work_bits = 40 (set by SEALDESK_PROOF_OF_WORK_BITS)"),
            "{error}"
        );
        assert!(error.contains("log_level"), "{error}");
        assert_eq!(error.lines().count(), 5, "{error}");

        let config = read(Some("ticket_quota_bytes = 1024\n"), &[]).unwrap();
        assert!(
            config
                .validate()
                .unwrap_err()
                .0
                .contains("ticket_quota_bytes = 1024")
        );
        for bad in [
            "ftp://x",
            "https://",
            "https://a.org/?x=1",
            "support.example.org",
        ] {
            let config = read(None, &[("SEALDESK_PUBLIC_URL", bad)]).unwrap();
            assert!(config.validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn public_url_is_derived_from_listen_or_configured() {
        let mut config = Config {
            listen: "0.0.0.0:80".parse().unwrap(),
            ..Config::default()
        };
        assert_eq!(config.public_url(), "http://localhost:80");
        config.listen = "[::1]:8443".parse().unwrap();
        assert_eq!(config.public_url(), "http://[::1]:8443");
        config.public_url = Some("https://help.example.org/".to_owned());
        assert_eq!(config.public_url(), "https://help.example.org");
        let config = read(None, &[("SEALDESK_PUBLIC_URL", "")]).unwrap();
        assert_eq!(config.public_url, None);
    }

    /// The committed example file is exactly what the table generates. To regenerate it:
    /// `SEALDESK_UPDATE_EXAMPLE=1 cargo test -p sealdesk-server --lib config`.
    #[test]
    fn example_file_is_generated_from_the_table() {
        let generated = Config::example_toml();
        if std::env::var_os("SEALDESK_UPDATE_EXAMPLE").is_some() {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sealdesk.example.toml");
            std::fs::write(path, &generated).unwrap();
            return;
        }
        assert!(
            EXAMPLE_FILE == generated,
            "server/sealdesk.example.toml is out of date: run \
             `SEALDESK_UPDATE_EXAMPLE=1 cargo test -p sealdesk-server --lib config`"
        );
    }

    #[test]
    fn example_file_parses_and_lists_every_option() {
        // As shipped (everything commented out) it is valid and changes nothing.
        let config = read(Some(EXAMPLE_FILE), &[]).unwrap();
        assert_eq!(config.effective_table(), {
            let expected = Config {
                provenance: config.provenance.clone(),
                ..Config::default()
            };
            expected.effective_table()
        });
        // Uncommented, it sets every option to its default (or its example value).
        let uncommented: String = EXAMPLE_FILE
            .lines()
            .map(|line| match line.strip_prefix('#') {
                Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase()) => rest,
                _ => line,
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let config = read(Some(&uncommented), &[]).unwrap();
        config.validate().unwrap();
        for info in OPTIONS {
            assert_eq!(
                config.provenance.source(info.key),
                Source::File,
                "{}",
                info.key
            );
            assert!(EXAMPLE_FILE.contains(info.env), "{}", info.env);
            match info.example {
                None => assert_eq!(
                    config.value_toml(info.key),
                    Config::default().value_toml(info.key)
                ),
                Some(example) => assert_eq!(
                    config.value_toml(info.key),
                    Some(toml::Value::String(example.to_owned())),
                    "{}",
                    info.key
                ),
            }
        }
        assert_eq!(config.public_url(), "https://support.example.org");
    }

    #[test]
    fn markdown_table_lists_every_option() {
        let table = Config::markdown_table();
        assert_eq!(table.lines().count(), OPTIONS.len() + 2);
        for info in OPTIONS {
            assert!(table.contains(&format!("| `{}` | `{}` |", info.key, info.env)));
        }
        assert!(table.contains("| `2097152` (2 MiB) | bytes |"), "{table}");
    }
}
