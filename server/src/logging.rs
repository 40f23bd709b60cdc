//! Logging to standard error, configured by `log_level` and `log_format`.
//!
//! # Never log secrets or content
//!
//! The server holds access tokens, session tokens, invite tokens and ciphertext; none of them,
//! and no request body, may reach a log line. Rules for code that logs:
//!
//! - log ids, sizes, counts, status codes and error codes, never a body, a header value, a
//!   token or a URL that could carry one;
//! - a value that is secret but must appear in a structured event (to show that it was
//!   present) goes in [`Redacted`]: `tracing::info!(token = %Redacted(&token), ...)` prints
//!   `token=<redacted>`;
//! - as a second line of defence, the formatters installed here print `<redacted>` instead of
//!   the value of every field whose name mentions a token, secret, password, passphrase,
//!   cookie, authorization or private/master key, whatever its type.

use std::fmt;
use std::io::IsTerminal as _;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, field::RecordFields};

use crate::config::{Config, LogFormat};

/// Wraps a secret so that `Debug` and `Display` print `<redacted>` instead of it. Use it for
/// anything secret that is passed to a `tracing` macro or kept in a type that derives `Debug`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Redacted<T>(pub T);

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Installs the global logger: the `log_level` filter, text or JSON lines on standard error.
///
/// # Errors
/// The filter does not parse, or a global logger is already installed.
pub fn init(config: &Config) -> Result<(), String> {
    let subscriber = subscriber(config, std::io::stderr, std::io::stderr().is_terminal())?;
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| format!("cannot install the logger: {e}"))
}

/// The subscriber [`init`] installs, writing to `writer`.
fn subscriber<W>(
    config: &Config,
    writer: W,
    ansi: bool,
) -> Result<Box<dyn Subscriber + Send + Sync>, String>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&config.log_level).map_err(|e| {
        format!(
            "log_level {:?} is not a valid filter: {e}",
            config.log_level
        )
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .fmt_fields(SafeFields);
    Ok(match config.log_format {
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
        LogFormat::Json => Box::new(builder.with_ansi(false).event_format(JsonLines).finish()),
    })
}

/// Whether a field with this name must never show its value.
fn is_sensitive(name: &str) -> bool {
    const WORDS: [&str; 8] = [
        "token",
        "secret",
        "password",
        "passphrase",
        "cookie",
        "authorization",
        "private",
        "master_key",
    ];
    let name = name.to_ascii_lowercase();
    WORDS.iter().any(|word| name.contains(word))
}

/// Formats fields as `name=value` separated by spaces (the message first, bare), redacting
/// sensitive names. Used for events in text mode and for span fields in both modes.
struct SafeFields;

impl<'writer> FormatFields<'writer> for SafeFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = TextVisitor {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct TextVisitor<'writer> {
    writer: Writer<'writer>,
    first: bool,
    result: fmt::Result,
}

impl Visit for TextVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        let separator = if self.first { "" } else { " " };
        self.first = false;
        let name = field.name();
        self.result = if name == "message" {
            write!(self.writer, "{separator}{value:?}")
        } else if is_sensitive(name) {
            write!(self.writer, "{separator}{name}=<redacted>")
        } else {
            write!(self.writer, "{separator}{name}={value:?}")
        };
    }
}

/// One JSON object per event: `timestamp`, `level`, `target`, `fields` (the message and the
/// event's fields, sensitive ones redacted) and `spans` (outermost first, each with its name
/// and its fields as formatted by [`SafeFields`]).
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        let mut fields = JsonVisitor(Map::new());
        event.record(&mut fields);
        let mut spans = Vec::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let mut object = Map::new();
                object.insert("name".to_owned(), Value::from(span.name()));
                if let Some(formatted) = span.extensions().get::<FormattedFields<N>>()
                    && !formatted.fields.is_empty()
                {
                    object.insert("fields".to_owned(), Value::from(formatted.fields.as_str()));
                }
                spans.push(Value::Object(object));
            }
        }
        let metadata = event.metadata();
        // Written by hand to keep the keys in this order (serde_json's map sorts them).
        write!(
            writer,
            "{{\"timestamp\":{},\"level\":{},\"target\":{},\"fields\":{}",
            Value::from(timestamp),
            Value::from(metadata.level().as_str()),
            Value::from(metadata.target()),
            Value::Object(fields.0)
        )?;
        if !spans.is_empty() {
            write!(writer, ",\"spans\":{}", Value::Array(spans))?;
        }
        writeln!(writer, "}}")
    }
}

struct JsonVisitor(Map<String, Value>);

impl JsonVisitor {
    fn insert(&mut self, field: &Field, value: Value) {
        let value = if is_sensitive(field.name()) {
            Value::from("<redacted>")
        } else {
            value
        };
        self.0.insert(field.name().to_owned(), value);
    }
}

impl Visit for JsonVisitor {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.insert(field, Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.insert(field, Value::from(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Capture {
        type Writer = Capture;
        fn make_writer(&'w self) -> Capture {
            self.clone()
        }
    }

    fn capture(format: LogFormat, level: &str, log: impl FnOnce()) -> String {
        let config = Config {
            log_format: format,
            log_level: level.to_owned(),
            ..Config::default()
        };
        let out = Capture::default();
        let subscriber = subscriber(&config, out.clone(), false).unwrap();
        tracing::subscriber::with_default(subscriber, log);
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    fn log_some_events() {
        let span = tracing::info_span!("request", ticket = "t-1", session_token = "span-secret");
        let _entered = span.enter();
        let token = "sekrit-token";
        tracing::info!(
            size = 42,
            access_token = token,
            authorization = ?token,
            wrapped = %Redacted(token),
            "stored a message"
        );
        tracing::debug!("hidden at info");
    }

    #[test]
    fn redacted_hides_the_value() {
        let secret = Redacted("hunter2");
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(
            format!("{:?}", Some(Redacted(vec![1u8, 2]))),
            "Some(<redacted>)"
        );
        assert_eq!(secret.0, "hunter2");
    }

    #[test]
    fn text_lines_redact_sensitive_fields() {
        let out = capture(LogFormat::Text, "info", log_some_events);
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(out.contains("INFO"), "{out}");
        assert!(out.contains("stored a message"), "{out}");
        assert!(out.contains("size=42"), "{out}");
        assert!(out.contains("access_token=<redacted>"), "{out}");
        assert!(out.contains("authorization=<redacted>"), "{out}");
        assert!(out.contains("wrapped=<redacted>"), "{out}");
        assert!(out.contains("ticket=\"t-1\""), "{out}");
        assert!(out.contains("session_token=<redacted>"), "{out}");
        assert!(
            !out.contains("sekrit") && !out.contains("span-secret"),
            "{out}"
        );
    }

    #[test]
    fn json_lines_are_objects_and_redact_sensitive_fields() {
        let out = capture(LogFormat::Json, "info", log_some_events);
        assert!(
            !out.contains("sekrit") && !out.contains("span-secret"),
            "{out}"
        );
        let lines: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{out}");
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert!(out.starts_with("{\"timestamp\":"), "{out}");
        assert!(line["timestamp"].as_str().unwrap().contains('T'), "{out}");
        assert_eq!(line["fields"]["message"], "stored a message");
        assert_eq!(line["fields"]["size"], 42);
        assert_eq!(line["fields"]["access_token"], "<redacted>");
        assert_eq!(line["fields"]["authorization"], "<redacted>");
        assert_eq!(line["fields"]["wrapped"], "<redacted>");
        assert_eq!(line["spans"][0]["name"], "request");
        let span_fields = line["spans"][0]["fields"].as_str().unwrap();
        assert!(span_fields.contains("ticket=\"t-1\""), "{out}");
        assert!(span_fields.contains("session_token=<redacted>"), "{out}");
    }

    #[test]
    fn level_filter_applies() {
        let out = capture(LogFormat::Text, "debug", log_some_events);
        assert!(out.contains("hidden at info"), "{out}");
        let out = capture(LogFormat::Text, "warn", log_some_events);
        assert!(out.is_empty(), "{out}");
    }
}
