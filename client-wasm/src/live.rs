//! Live updates (spec/API.md, "Live updates"): the server-sent event stream of a ticket or the
//! inbox, and polling every 6 seconds when no stream is up.
//!
//! A notification says only *that* a message was stored, as `(ticket, chain, seq)`; it carries
//! no content and proves nothing. The client answers every notification by reading and verifying
//! the new messages itself (for the reporter, [`crate::reporter::ReporterTicket::refresh`]), so a
//! forged or replayed notification costs one read and nothing else.
//!
//! - [`SseParser`] turns the bytes of a `text/event-stream` body, in chunks of any size, into
//!   [`Event`]s (the WHATWG event-stream format: `event:`/`data:` fields, comments, CR, LF or
//!   CRLF line ends). It does no I/O, so the same parser runs over a streaming `fetch` in the
//!   browser (`wasm/`) and over `reqwest` natively ([`EventStream`]).
//! - [`Notice`] is the meaning of an event: `ready`, a new `message`, or `resync`.
//! - [`Poller`] is the schedule the app drives: no polling while a stream is up, a read every
//!   [`POLL_INTERVAL_MS`] otherwise, and one read at once when a stream starts or fails
//!   (subscribe first, read after `ready`, so nothing falls between the two).

use sealdesk_crypto::{Chain, TicketId};
use sealdesk_wire::events::MessageEvent;

use crate::error::{ClientError, Result};

/// How often a client without a stream reads new messages (6 seconds).
pub const POLL_INTERVAL_MS: u64 = 6_000;

/// Longest line, and longest event data, the parser keeps (1 MiB). The server's events are a
/// few dozen bytes; an event with a longer line or data is dropped whole, so a misbehaving
/// server cannot make the client buffer without bound.
pub const MAX_EVENT_BYTES: usize = 1 << 20;

/// The stream path of a ticket's events (reporter, its account, administrators).
pub fn ticket_events_path(ticket_id: &TicketId) -> String {
    format!("/api/v1/tickets/{}/events", ticket_id.to_hex())
}

/// The stream path of the inbox's events (administrators' sessions).
pub const INBOX_EVENTS_PATH: &str = "/api/v1/inbox/events";

/// One dispatched server-sent event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field, `message` when the event has none.
    pub name: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// An incremental `text/event-stream` parser (the WHATWG HTML standard's "event stream
/// interpretation"). Feed it the body's bytes as they arrive with [`SseParser::push`].
///
/// Lines end with CRLF, LF or CR, also when the two bytes of a CRLF arrive in different
/// chunks; a UTF-8 character split across chunks is decoded whole. Lines starting with `:` are
/// comments (keep-alives). An empty line dispatches the event being built if it has data.
/// `id:` is kept as [`SseParser::last_event_id`] and `retry:` as [`SseParser::retry_ms`];
/// other fields are ignored. An event still being built when the stream ends is discarded, as
/// the standard says.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    line_too_long: bool,
    after_cr: bool,
    seen_first_line: bool,
    name: String,
    data: String,
    event_too_long: bool,
    last_event_id: Option<String>,
    retry_ms: Option<u64>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next bytes of the stream; returns the events they complete, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        for &byte in bytes {
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    // The LF of a CRLF whose CR already ended the line.
                    continue;
                }
            }
            match byte {
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    if let Some(event) = self.end_line() {
                        events.push(event);
                    }
                }
                _ if self.line.len() >= MAX_EVENT_BYTES => self.line_too_long = true,
                _ => self.line.push(byte),
            }
        }
        events
    }

    /// The last `id:` field seen (the standard's "last event ID"), if any.
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// The last valid `retry:` field: the reconnection delay the server asks for.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// Interprets the line collected so far; an empty line may dispatch an event.
    fn end_line(&mut self) -> Option<Event> {
        let raw = std::mem::take(&mut self.line);
        let first = !self.seen_first_line;
        self.seen_first_line = true;
        if std::mem::take(&mut self.line_too_long) {
            self.event_too_long = true;
            return None;
        }
        let mut line = String::from_utf8_lossy(&raw).into_owned();
        if first && line.starts_with('\u{feff}') {
            line.remove(0);
        }
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        match field {
            "event" => value.clone_into(&mut self.name),
            "data" => {
                if self.data.len() + value.len() + 1 > MAX_EVENT_BYTES {
                    self.event_too_long = true;
                } else {
                    self.data.push_str(value);
                    self.data.push('\n');
                }
            }
            "id" if !value.contains('\0') => self.last_event_id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok();
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<Event> {
        let name = std::mem::take(&mut self.name);
        let mut data = std::mem::take(&mut self.data);
        if std::mem::take(&mut self.event_too_long) || data.is_empty() {
            return None;
        }
        data.pop();
        Some(Event {
            name: if name.is_empty() {
                "message".to_owned()
            } else {
                name
            },
            data,
        })
    }
}

/// What an event of a Sealdesk stream means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The subscription is in place: read the messages now (anything stored from here on will
    /// be announced).
    Ready,
    /// A message was stored at `seq` on `chain` of `ticket`: read the messages after the last
    /// one verified.
    Message {
        /// The ticket.
        ticket: TicketId,
        /// Conversation (reporters see only these) or internal notes.
        chain: Chain,
        /// Its sequence number.
        seq: u64,
    },
    /// The subscriber fell behind and missed notifications: read everything new.
    Resync,
    /// An event this client does not know (ignored, for later versions of the server).
    Other(String),
}

impl Notice {
    /// The meaning of `event`.
    ///
    /// # Errors
    /// `bad_response` when a `message` event's data is not `{"ticket", "chain", "seq"}`.
    pub fn from_event(event: &Event) -> Result<Notice> {
        Ok(match event.name.as_str() {
            "ready" => Notice::Ready,
            "resync" => Notice::Resync,
            "message" => {
                let bad = || ClientError::bad_response("a live update");
                let data: MessageEvent = serde_json::from_str(&event.data).map_err(|_| bad())?;
                Notice::Message {
                    ticket: TicketId::from_hex(&data.ticket).map_err(|_| bad())?,
                    chain: Chain::from_u8(data.chain).map_err(|_| bad())?,
                    seq: data.seq,
                }
            }
            other => Notice::Other(other.to_owned()),
        })
    }

    /// Whether the client should read new messages now.
    pub fn wants_refresh(&self) -> bool {
        !matches!(self, Notice::Other(_))
    }
}

/// The read schedule, driven by the app with its own clock (milliseconds of any epoch, e.g.
/// `Date.now()`): while an event stream is up the app reads when a [`Notice`] says so and
/// never polls; without one, it reads every [`POLL_INTERVAL_MS`].
///
/// ```
/// use sealdesk_client::live::Poller;
/// let mut poller = Poller::new();
/// assert_eq!(poller.next_due(1_000), Some(1_000)); // never read: due now
/// poller.polled(1_000);
/// assert_eq!(poller.next_due(2_000), Some(7_000));
/// poller.stream_up();
/// assert_eq!(poller.next_due(8_000), None); // notifications instead
/// poller.stream_down();
/// assert_eq!(poller.next_due(9_000), Some(9_000)); // events may have been missed
/// ```
#[derive(Clone, Debug)]
pub struct Poller {
    interval_ms: u64,
    last_read: Option<u64>,
    streaming: bool,
}

impl Default for Poller {
    fn default() -> Self {
        Self::new()
    }
}

impl Poller {
    /// A schedule with the 6-second interval and no stream.
    pub fn new() -> Self {
        Self::with_interval(POLL_INTERVAL_MS)
    }

    /// A schedule that polls every `interval_ms` (tests; at least 1 ms).
    pub fn with_interval(interval_ms: u64) -> Self {
        Poller {
            interval_ms: interval_ms.max(1),
            last_read: None,
            streaming: false,
        }
    }

    /// When the next poll is due: `None` while a stream is up, else a time at or after which
    /// to read (at most `now` when a read is due already).
    pub fn next_due(&self, now: u64) -> Option<u64> {
        if self.streaming {
            return None;
        }
        Some(match self.last_read {
            None => now,
            Some(last) => last.saturating_add(self.interval_ms),
        })
    }

    /// Whether a poll is due at `now`.
    pub fn is_due(&self, now: u64) -> bool {
        self.next_due(now).is_some_and(|due| due <= now)
    }

    /// Records that the messages were read (after a poll or a notification) at `now`.
    pub fn polled(&mut self, now: u64) {
        self.last_read = Some(now);
    }

    /// A stream is up (its `ready` arrived): polling stops.
    pub fn stream_up(&mut self) {
        self.streaming = true;
    }

    /// The stream ended or failed: polling resumes, with a read due at once because
    /// notifications may have been lost.
    pub fn stream_down(&mut self) {
        self.streaming = false;
        self.last_read = None;
    }

    /// Whether a stream is up.
    pub fn is_streaming(&self) -> bool {
        self.streaming
    }

    /// Applies a notice: `ready` marks the stream up. Returns whether to read now.
    pub fn on_notice(&mut self, notice: &Notice) -> bool {
        if *notice == Notice::Ready {
            self.stream_up();
        }
        notice.wants_refresh()
    }
}

/// A ticket's or the inbox's event stream over `reqwest` (tests and the command-line client;
/// the browser reads the stream with `fetch` in `wasm/`).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug)]
pub struct EventStream {
    response: reqwest::Response,
    parser: SseParser,
    queue: std::collections::VecDeque<Event>,
}

#[cfg(not(target_arch = "wasm32"))]
impl EventStream {
    /// Subscribes to `path` (e.g. [`ticket_events_path`]) at the instance `base` with a bearer
    /// credential.
    ///
    /// # Errors
    /// `network`; `server.<code>` when the server refuses (`server.not_found` for a token that
    /// does not open the ticket, `server.shutting_down`).
    pub async fn connect(base: &str, path: &str, bearer: Option<&str>) -> Result<EventStream> {
        let url = format!("{}{path}", base.trim_end_matches('/'));
        let mut builder = reqwest::Client::new()
            .get(url)
            .header("accept", "text/event-stream");
        if let Some(bearer) = bearer {
            builder = builder.bearer_auth(bearer);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| ClientError::network(e.to_string()))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let body = response
                .bytes()
                .await
                .map_err(|e| ClientError::network(e.to_string()))?;
            crate::transport::Response {
                status,
                body: body.to_vec(),
            }
            .check()?;
            return Err(ClientError::bad_response("the event stream"));
        }
        Ok(EventStream {
            response,
            parser: SseParser::new(),
            queue: Default::default(),
        })
    }

    /// The next event; `None` when the server ended the stream.
    ///
    /// # Errors
    /// `network` when the connection fails.
    pub async fn next(&mut self) -> Result<Option<Event>> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Ok(Some(event));
            }
            match self
                .response
                .chunk()
                .await
                .map_err(|e| ClientError::network(e.to_string()))?
            {
                Some(bytes) => self.queue.extend(self.parser.push(&bytes)),
                None => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, data: &str) -> Event {
        Event {
            name: name.to_owned(),
            data: data.to_owned(),
        }
    }

    const STREAM: &str = "event: ready\ndata: {}\n\n\
        : keep-alive\n\n\
        event: message\ndata: {\"ticket\":\"00112233445566778899aabbccddeeff\",\"chain\":0,\"seq\":5}\n\n\
        event: resync\ndata: {}\n\n";

    fn expected() -> Vec<Event> {
        vec![
            event("ready", "{}"),
            event(
                "message",
                "{\"ticket\":\"00112233445566778899aabbccddeeff\",\"chain\":0,\"seq\":5}",
            ),
            event("resync", "{}"),
        ]
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn parses_a_stream_in_one_piece() {
        assert_eq!(SseParser::new().push(STREAM.as_bytes()), expected());
    }

    /// `bytes` (the test stream with some line end) cut in two at every position parses to
    /// the expected events.
    fn parses_cut_anywhere(bytes: &[u8]) {
        for cut in 0..=bytes.len() {
            let mut parser = SseParser::new();
            let mut events = parser.push(&bytes[..cut]);
            events.extend(parser.push(&bytes[cut..]));
            assert_eq!(events, expected(), "cut at {cut}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn events_split_across_chunks_at_every_position() {
        let bytes = STREAM.as_bytes();
        for size in 1..=bytes.len() {
            let mut parser = SseParser::new();
            let events: Vec<Event> = bytes.chunks(size).flat_map(|c| parser.push(c)).collect();
            assert_eq!(events, expected(), "chunks of {size}");
        }
        parses_cut_anywhere(bytes);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn crlf_and_cr_line_ends_even_split() {
        let crlf = STREAM.replace('\n', "\r\n");
        let cr = STREAM.replace('\n', "\r");
        for stream in [crlf, cr] {
            let bytes = stream.as_bytes();
            parses_cut_anywhere(bytes);
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn comments_fields_and_defaults() {
        let mut parser = SseParser::new();
        let events = parser.push(
            "\u{feff}: hello\n\
             data\n\n\
             data:a\ndata: b\n\n\
             id: 7\nretry: 2500\nfoo: bar\ndata:  two spaces\n\n\
             event: ignored-no-data\n\n\
             data: x\nevent: late-name\n\n\
             retry: soon\nid: a\0b\n"
                .as_bytes(),
        );
        assert_eq!(
            events,
            vec![
                event("message", ""),
                event("message", "a\nb"),
                event("message", " two spaces"),
                event("late-name", "x"),
            ]
        );
        assert_eq!(parser.last_event_id(), Some("7"));
        assert_eq!(parser.retry_ms(), Some(2500));
        // An event not ended by an empty line is not dispatched.
        assert!(parser.push(b"event: ready\ndata: {}\n").is_empty());
        assert_eq!(parser.push(b"\n"), vec![event("ready", "{}")]);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn utf8_split_across_chunks() {
        let stream = "data: é€😀\n\n".as_bytes();
        for cut in 0..=stream.len() {
            let mut parser = SseParser::new();
            let mut events = parser.push(&stream[..cut]);
            events.extend(parser.push(&stream[cut..]));
            assert_eq!(events, vec![event("message", "é€😀")], "cut at {cut}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn overlong_events_are_dropped_and_parsing_goes_on() {
        let mut parser = SseParser::new();
        let mut stream = b"data: ".to_vec();
        stream.extend(std::iter::repeat_n(b'x', MAX_EVENT_BYTES + 10));
        stream.extend(b"\ndata: tail\n\nevent: ready\ndata: {}\n\n");
        assert_eq!(parser.push(&stream), vec![event("ready", "{}")]);
        // Many short data lines that add up past the limit are dropped as well.
        let line = format!("data: {}\n", "y".repeat(1000));
        let mut events = Vec::new();
        for _ in 0..(MAX_EVENT_BYTES / 1000 + 2) {
            events.extend(parser.push(line.as_bytes()));
        }
        events.extend(parser.push(b"\nevent: resync\ndata: {}\n\n"));
        assert_eq!(events, vec![event("resync", "{}")]);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn notices() {
        let notices: Vec<Notice> = expected()
            .iter()
            .map(|e| Notice::from_event(e).expect("notice"))
            .collect();
        assert_eq!(notices[0], Notice::Ready);
        assert_eq!(
            notices[1],
            Notice::Message {
                ticket: TicketId::from_hex("00112233445566778899aabbccddeeff").expect("id"),
                chain: Chain::Conversation,
                seq: 5,
            }
        );
        assert_eq!(notices[2], Notice::Resync);
        assert!(notices.iter().all(Notice::wants_refresh));
        let other = Notice::from_event(&event("later", "{}")).expect("other");
        assert_eq!(other, Notice::Other("later".into()));
        assert!(!other.wants_refresh());
        for bad in [
            "{}",
            "not json",
            "{\"ticket\":\"zz\",\"chain\":0,\"seq\":1}",
            "{\"ticket\":\"00112233445566778899aabbccddeeff\",\"chain\":9,\"seq\":1}",
        ] {
            assert_eq!(
                Notice::from_event(&event("message", bad)).map_err(|e| e.code),
                Err("bad_response".to_owned()),
                "{bad}"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn poller_schedule() {
        let mut poller = Poller::new();
        assert!(poller.is_due(0));
        poller.polled(10_000);
        assert!(!poller.is_due(15_999));
        assert!(poller.is_due(16_000));
        assert_eq!(poller.next_due(11_000), Some(16_000));
        assert!(poller.on_notice(&Notice::Ready));
        assert!(poller.is_streaming());
        assert_eq!(poller.next_due(100_000), None);
        assert!(!poller.is_due(100_000));
        assert!(poller.on_notice(&Notice::Resync));
        assert!(!poller.on_notice(&Notice::Other("x".into())));
        poller.stream_down();
        assert!(!poller.is_streaming());
        assert!(poller.is_due(100_001));
        let mut fast = Poller::with_interval(0);
        fast.polled(5);
        assert_eq!(fast.next_due(5), Some(6));
    }
}
