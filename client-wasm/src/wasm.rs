//! The JavaScript surface: what the web pages call, compiled to WebAssembly. Only the
//! anonymous reporter's flows for now; `client-wasm/README.md` documents every export, its
//! arguments, results and error codes, and how the module is built.
//!
//! Two parts:
//!
//! - the JSON views, natively and in the browser (so their tests run in both): the opening form
//!   as the page sends it ([`parse_opening`]), a pasted link ([`parse_link`]), and the verified
//!   conversation as the page shows it ([`ticket_view`], [`message_view`]). File keys never
//!   leave the module: an attachment's view has no `key`, and the page downloads by `seq`;
//! - on `wasm32` only, [`FetchTransport`] (a [`Transport`] over the browser's `fetch`, same
//!   origin by default) and the `#[wasm_bindgen]` exports. Every export that talks to the server
//!   returns a `Promise`; a failure rejects it with a JavaScript `Error` whose `code` property
//!   is the [`ClientError`] code (and `status` the HTTP status of a server refusal).
//!
//! [`Transport`]: crate::transport::Transport

use std::collections::BTreeMap;

use base64ct::{Base64UrlUnpadded, Encoding};
use sealdesk_crypto::Kind;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::content::Content;
use crate::error::{ClientError, Result};
use crate::reporter::{Opening, ReporterTicket, Shown, TicketLink};

#[cfg(target_arch = "wasm32")]
pub use browser::*;

/// The new-ticket form as the page sends it (JSON, snake_case as in the API).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpeningInput {
    subject: String,
    text: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    urgent: bool,
    #[serde(default)]
    notify_email: Option<String>,
    #[serde(default)]
    debug: Option<BTreeMap<String, String>>,
}

fn invalid(message: impl Into<String>) -> ClientError {
    ClientError::new("input.invalid", message)
}

/// Parses the new-ticket form: `{"subject", "text", "category"?, "name"?, "email"?,
/// "urgent"?, "notify_email"?, "debug"?}` (`debug`: an object of strings, the fields the
/// reporter left in). Optional strings that are empty or only spaces count as absent.
///
/// # Errors
/// `input.invalid` for other JSON (an unknown member, a wrong type) or an empty subject or
/// text.
pub fn parse_opening(json: &str) -> Result<Opening> {
    let input: OpeningInput = serde_json::from_str(json)
        .map_err(|e| invalid(format!("The new-ticket form is not valid: {e}.")))?;
    if input.subject.trim().is_empty() || input.text.trim().is_empty() {
        return Err(invalid("A ticket needs a subject and a message."));
    }
    let present = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    Ok(Opening {
        subject: input.subject,
        text: input.text,
        category: present(input.category),
        name: present(input.name),
        email: present(input.email),
        urgent: input.urgent,
        notify_email: present(input.notify_email),
        debug: input.debug,
    })
}

/// Parses a ticket link as a person pastes it: a whole URL or `/help/ticket/{id}#{secret}`,
/// with surrounding spaces.
///
/// # Errors
/// `link.malformed`, `link.mismatch` (see [`TicketLink::parse`]).
pub fn parse_link(input: &str) -> Result<TicketLink> {
    TicketLink::parse(input.trim())
}

/// The name of a kind in the views: `message`, `debug_data`, `attachment`, `close`,
/// `reopen`, `internal_note`, `rotate`.
pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Message => "message",
        Kind::DebugData => "debug_data",
        Kind::AttachmentRef => "attachment",
        Kind::Close => "close",
        Kind::Reopen => "reopen",
        Kind::InternalNote => "internal_note",
        Kind::Rotate => "rotate",
    }
}

/// The content as the page shows it: PROTOCOL.md §14's JSON, except that an attachment
/// reference has no `key`.
pub fn content_view(content: &Content) -> Value {
    let encoded = match content {
        Content::Message(text) | Content::InternalNote(text) => serde_json::to_value(text),
        Content::DebugData(data) => serde_json::to_value(data),
        Content::AttachmentRef(reference) => {
            return json!({
                "attachment_id": reference.attachment_id,
                "name": reference.name,
                "type": reference.mime_type,
                "size": reference.size,
                "encrypted_size": reference.encrypted_size,
                "sent_at": reference.sent_at,
            });
        }
        Content::Close(change) | Content::Reopen(change) => serde_json::to_value(change),
        Content::Rotate => return json!({}),
    };
    encoded.unwrap_or(Value::Null)
}

/// An error as the views carry it: `{"code", "message"}`.
pub fn error_view(error: &ClientError) -> Value {
    json!({"code": error.code, "message": error.message})
}

/// A verified message as the page shows it: `{"seq", "received_at", "sender" (key id,
/// base64url), "from_support", "kind", "content"}`, where `content` is [`content_view`], or
/// `null` with `"error": {"code", "message"}` when the content cannot be read (the message
/// itself is verified: show a warning in its place).
pub fn message_view(shown: &Shown) -> Value {
    let mut view = json!({
        "seq": shown.seq,
        "received_at": shown.received_at,
        "sender": Base64UrlUnpadded::encode_string(&shown.sender.0),
        "from_support": shown.from_support,
        "kind": kind_name(shown.kind),
        "content": Value::Null,
    });
    match &shown.content {
        Ok(content) => view["content"] = content_view(content),
        Err(error) => view["error"] = error_view(error),
    }
    view
}

/// A ticket as the page shows it: `{"ticket_id", "closed", "messages": [message_view...]}`.
pub fn ticket_view(ticket: &ReporterTicket) -> Value {
    json!({
        "ticket_id": ticket.link().ticket_id().to_hex(),
        "closed": ticket.is_closed(),
        "messages": ticket.messages.iter().map(message_view).collect::<Vec<_>>(),
    })
}

#[cfg(target_arch = "wasm32")]
mod browser {
    //! The browser part: `fetch`, promises, and the exports.

    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;
    use std::task::{Poll, Waker};

    use js_sys::{Function, Promise, Reflect, Uint8Array};
    use sealdesk_crypto::{CHUNK_LEN, Directory, TicketId, Zeroizing, system_rng};
    use serde_json::Value;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::{JsFuture, future_to_promise};
    use web_sys::{Headers, ReadableStreamDefaultReader, RequestInit};

    use super::{parse_link, parse_opening, ticket_view};
    use crate::attachments::{Uploader, download_to_vec, reporter_bearer};
    use crate::content::Content;
    use crate::directory::fetch_verified;
    use crate::error::{ClientError, Result};
    use crate::live::{Notice, Poller as LivePoller, SseParser, ticket_events_path};
    use crate::reporter::ReporterTicket;
    use crate::transport::{Body, Method, Request, Response, Transport};

    #[wasm_bindgen]
    extern "C" {
        /// The global `fetch` (windows and workers alike).
        #[wasm_bindgen(js_name = fetch)]
        fn global_fetch(request: &web_sys::Request) -> Promise;

        /// The global `setTimeout`.
        #[wasm_bindgen(js_name = setTimeout)]
        fn set_timeout(handler: &Function, milliseconds: i32) -> JsValue;
    }

    /// A JavaScript exception's message, for `network` errors.
    fn describe(value: &JsValue) -> String {
        value
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| value.as_string())
            .unwrap_or_else(|| "The request failed.".to_owned())
    }

    fn network(value: JsValue) -> ClientError {
        ClientError::network(describe(&value))
    }

    /// A [`Transport`] over the browser's `fetch`. [`FetchTransport::new`] sends relative URLs
    /// (`/api/v1/...`), so requests go to the page's own origin, the only one the instance's
    /// Content-Security-Policy allows (`connect-src 'self'`).
    #[derive(Clone, Debug, Default)]
    pub struct FetchTransport {
        base: String,
    }

    impl FetchTransport {
        /// Requests to the page's own origin.
        pub fn new() -> Self {
            Self::default()
        }

        /// Requests to `base` (e.g. `http://127.0.0.1:8080`; tests).
        pub fn with_base(base: &str) -> Self {
            FetchTransport {
                base: base.trim_end_matches('/').to_owned(),
            }
        }

        /// Starts `request` and returns the browser's `Response` (any status).
        async fn fetch(&self, request: Request, accept: Option<&str>) -> Result<web_sys::Response> {
            let init = RequestInit::new();
            init.set_method(match request.method {
                Method::Get => "GET",
                Method::Post => "POST",
                Method::Put => "PUT",
                Method::Delete => "DELETE",
            });
            let headers = Headers::new().map_err(network)?;
            if let Some(bearer) = &request.bearer {
                headers
                    .set("Authorization", &format!("Bearer {bearer}"))
                    .map_err(network)?;
            }
            if let Some(accept) = accept {
                headers.set("Accept", accept).map_err(network)?;
            }
            match &request.body {
                Some(Body::Json(value)) => {
                    headers
                        .set("Content-Type", "application/json")
                        .map_err(network)?;
                    init.set_body(&JsValue::from_str(&value.to_string()));
                }
                Some(Body::Bytes(bytes)) => {
                    headers
                        .set("Content-Type", "application/octet-stream")
                        .map_err(network)?;
                    init.set_body(&Uint8Array::from(bytes.as_slice()));
                }
                None => {}
            }
            init.set_headers(&headers);
            let url = format!("{}{}", self.base, request.path);
            let request = web_sys::Request::new_with_str_and_init(&url, &init).map_err(network)?;
            JsFuture::from(global_fetch(&request))
                .await
                .map_err(network)?
                .dyn_into::<web_sys::Response>()
                .map_err(network)
        }
    }

    async fn body_bytes(response: &web_sys::Response) -> Result<Vec<u8>> {
        let buffer = JsFuture::from(response.array_buffer().map_err(network)?)
            .await
            .map_err(network)?;
        Ok(Uint8Array::new(&buffer).to_vec())
    }

    impl Transport for FetchTransport {
        async fn send(&self, request: Request) -> Result<Response> {
            let response = self.fetch(request, None).await?;
            Ok(Response {
                status: response.status(),
                body: body_bytes(&response).await?,
            })
        }
    }

    /// Waits `milliseconds` (through `setTimeout`).
    async fn sleep(milliseconds: i32) {
        let promise = Promise::new(&mut |resolve, _reject| {
            set_timeout(&resolve, milliseconds);
        });
        let _ = JsFuture::from(promise).await;
    }

    /// A [`ClientError`] as a JavaScript `Error` with `code` (and `status`) properties.
    fn js_error(error: ClientError) -> JsValue {
        let js = js_sys::Error::new(&error.message);
        js.set_name("SealdeskError");
        let _ = Reflect::set(&js, &"code".into(), &error.code.as_str().into());
        if let Some(status) = error.status {
            let _ = Reflect::set(&js, &"status".into(), &status.into());
        }
        js.into()
    }

    fn to_js(value: &Value) -> Result<JsValue> {
        js_sys::JSON::parse(&value.to_string())
            .map_err(|_| ClientError::new("input.invalid", "A value could not be converted."))
    }

    /// Runs `future` as a `Promise` that rejects with [`js_error`].
    fn promise<F>(future: F) -> Promise
    where
        F: std::future::Future<Output = Result<JsValue>> + 'static,
    {
        future_to_promise(async move { future.await.map_err(js_error) })
    }

    fn now_seconds() -> u64 {
        (js_sys::Date::now() / 1000.0) as u64
    }

    /// What a handle holds while no operation runs.
    struct Session {
        directory: Directory,
        ticket: ReporterTicket,
    }

    struct Inner {
        transport: FetchTransport,
        ticket_id: TicketId,
        bearer: String,
        /// `None` while an operation holds the session.
        session: RefCell<Option<Session>>,
        waiters: RefCell<VecDeque<Waker>>,
        /// The reader of the running `listen`, for `stopListening`.
        reader: RefCell<Option<ReadableStreamDefaultReader>>,
    }

    /// Exclusive use of a handle's session by one operation: operations on one handle run one
    /// after the other, in the order they could start.
    struct Guard {
        inner: Rc<Inner>,
        session: Option<Session>,
    }

    impl Guard {
        async fn acquire(inner: Rc<Inner>) -> Guard {
            let session = std::future::poll_fn(|cx| {
                if let Some(session) = inner.session.borrow_mut().take() {
                    return Poll::Ready(session);
                }
                inner.waiters.borrow_mut().push_back(cx.waker().clone());
                Poll::Pending
            })
            .await;
            Guard {
                inner,
                session: Some(session),
            }
        }

        fn get(&mut self) -> &mut Session {
            self.session.as_mut().expect("held until dropped")
        }

        /// Verifies the directory again (an extension of the pinned head), for reading and
        /// writing with the current administrators (PROTOCOL.md §15).
        async fn update_directory(&mut self) -> Result<()> {
            let head = self.get().directory.head();
            let transport = self.inner.transport.clone();
            self.get().directory = fetch_verified(&transport, Some(&head)).await?;
            Ok(())
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            if let Some(session) = self.session.take() {
                *self.inner.session.borrow_mut() = Some(session);
                // Every waiter polls again; the first takes the session, the others wait on.
                let waiters: Vec<Waker> = self.inner.waiters.borrow_mut().drain(..).collect();
                waiters.into_iter().for_each(Waker::wake);
            }
        }
    }

    /// An open anonymous ticket in this page. Free it with `handle.free()` when the page no
    /// longer needs it (its keys are zeroized then).
    #[wasm_bindgen]
    pub struct TicketHandle {
        inner: Rc<Inner>,
    }

    impl TicketHandle {
        fn new(
            transport: FetchTransport,
            directory: Directory,
            ticket: ReporterTicket,
        ) -> Result<Self> {
            let bearer = reporter_bearer(ticket.link())?;
            Ok(TicketHandle {
                inner: Rc::new(Inner {
                    transport,
                    ticket_id: ticket.link().ticket_id(),
                    bearer,
                    session: RefCell::new(Some(Session { directory, ticket })),
                    waiters: RefCell::default(),
                    reader: RefCell::default(),
                }),
            })
        }
    }

    #[wasm_bindgen]
    impl TicketHandle {
        /// The ticket id (32 hexadecimal characters).
        #[wasm_bindgen(getter, js_name = ticketId)]
        pub fn ticket_id(&self) -> String {
            self.inner.ticket_id.to_hex()
        }
    }

    fn view_of(session: &Session) -> Result<JsValue> {
        to_js(&ticket_view(&session.ticket))
    }

    /// Opens a new anonymous ticket. `opening` is the form as JSON: `{"subject", "text",
    /// "category"?, "name"?, "email"?, "urgent"?, "notify_email"?, "debug"?}`. Resolves to
    /// `{link, handle, ticket_id, closed, messages}`; `link` is the private path
    /// `/help/ticket/{id}#{secret}` to show and keep.
    #[wasm_bindgen(js_name = createTicket)]
    pub fn create_ticket(opening: String) -> Promise {
        promise(async move {
            let opening = parse_opening(&opening)?;
            let transport = FetchTransport::new();
            let directory = fetch_verified(&transport, None).await?;
            let ticket = ReporterTicket::create(
                &transport,
                &directory,
                opening,
                now_seconds(),
                &mut system_rng(),
            )
            .await?;
            let mut view = ticket_view(&ticket);
            view["link"] = Value::String(ticket.link().path());
            let view = to_js(&view)?;
            let handle = TicketHandle::new(transport, directory, ticket)?;
            let _ = Reflect::set(&view, &"handle".into(), &JsValue::from(handle));
            Ok(view)
        })
    }

    /// Opens a ticket from its link (a whole URL or `/help/ticket/{id}#{secret}`): verifies the
    /// directory and the whole conversation. Resolves to a `TicketHandle`.
    #[wasm_bindgen(js_name = openTicket)]
    pub fn open_ticket(link: String) -> Promise {
        promise(async move {
            let link = parse_link(&link)?;
            let transport = FetchTransport::new();
            let directory = fetch_verified(&transport, None).await?;
            let ticket = ReporterTicket::open(&transport, &directory, link).await?;
            Ok(TicketHandle::new(transport, directory, ticket)?.into())
        })
    }

    /// Resolves to the ticket's view `{ticket_id, closed, messages}` without a request.
    #[wasm_bindgen]
    pub fn view(handle: &TicketHandle) -> Promise {
        let inner = handle.inner.clone();
        promise(async move {
            let mut guard = Guard::acquire(inner).await;
            view_of(guard.get())
        })
    }

    /// Reads, verifies and decrypts new messages (after a live notification, or every 6 s
    /// without one). Resolves to the view with `added`, the number of new messages.
    #[wasm_bindgen]
    pub fn refresh(handle: &TicketHandle) -> Promise {
        let inner = handle.inner.clone();
        promise(async move {
            let mut guard = Guard::acquire(inner.clone()).await;
            guard.update_directory().await?;
            let session = guard.get();
            let added = session
                .ticket
                .refresh(&inner.transport, &session.directory)
                .await?;
            let view = view_of(session)?;
            let _ = Reflect::set(&view, &"added".into(), &(added as f64).into());
            Ok(view)
        })
    }

    /// Sends `text` as the reporter's reply. Resolves to the view.
    #[wasm_bindgen]
    pub fn reply(handle: &TicketHandle, text: String) -> Promise {
        let inner = handle.inner.clone();
        promise(async move {
            let mut guard = Guard::acquire(inner.clone()).await;
            guard.update_directory().await?;
            let session = guard.get();
            session
                .ticket
                .reply(
                    &inner.transport,
                    &session.directory,
                    &text,
                    now_seconds(),
                    &mut system_rng(),
                )
                .await?;
            view_of(session)
        })
    }

    /// Closes the ticket. Resolves to the view.
    #[wasm_bindgen]
    pub fn close(handle: &TicketHandle) -> Promise {
        let inner = handle.inner.clone();
        promise(async move {
            let mut guard = Guard::acquire(inner.clone()).await;
            guard.update_directory().await?;
            let session = guard.get();
            session
                .ticket
                .close(
                    &inner.transport,
                    &session.directory,
                    now_seconds(),
                    &mut system_rng(),
                )
                .await?;
            view_of(session)
        })
    }

    /// Consecutive failed requests an upload waits out before it gives up.
    const UPLOAD_RETRIES: u32 = 10;

    /// Whether a failed upload request is worth sending again after a pause.
    fn retryable(error: &ClientError) -> bool {
        error.code == "network"
            || error.code == "server.rate_limited"
            || error.status.is_some_and(|s| s >= 500)
    }

    /// Waits before the `attempt`th retry: 1, 2, 4, then 8 seconds.
    async fn back_off(attempt: u32) {
        sleep(1000 << attempt.min(3)).await;
    }

    /// Encrypts `data` as a new attachment, uploads it chunk by chunk and posts its reference
    /// (kind 3) to the conversation. `progress(sent, total)`, if given, is called after each
    /// stored chunk with bytes of the encrypted stream. Rate limits and network failures are
    /// waited out (up to 10 times in a row, 1 to 8 s apart). Resolves to the view.
    #[wasm_bindgen(js_name = uploadAttachment)]
    pub fn upload_attachment(
        handle: &TicketHandle,
        data: Uint8Array,
        name: String,
        mime_type: String,
        progress: Option<Function>,
    ) -> Promise {
        let inner = handle.inner.clone();
        promise(async move {
            let report = |sent: u64, total: u64| {
                if let Some(progress) = &progress {
                    // A throwing callback does not stop the upload.
                    let _ = progress.call2(
                        &JsValue::NULL,
                        &(sent as f64).into(),
                        &(total as f64).into(),
                    );
                }
            };
            let size = u64::from(data.length());
            let mut uploader = Uploader::start(
                &inner.transport,
                &inner.bearer,
                inner.ticket_id,
                &name,
                &mime_type,
                size,
                report,
                &mut system_rng(),
            )
            .await?;
            let mut piece = Zeroizing::new(vec![0u8; CHUNK_LEN]);
            let mut offset = 0u32;
            let mut failures = 0;
            while offset < data.length() {
                let end = offset.saturating_add(CHUNK_LEN as u32).min(data.length());
                let piece = &mut piece[..(end - offset) as usize];
                data.subarray(offset, end).copy_to(piece);
                offset = end;
                let mut result = uploader.push(piece).await;
                while let Err(error) = result {
                    if !retryable(&error) || failures >= UPLOAD_RETRIES {
                        return Err(error);
                    }
                    back_off(failures).await;
                    failures += 1;
                    result = uploader.flush().await;
                }
                failures = 0;
            }
            let reference = loop {
                match uploader.finish(now_seconds()).await {
                    Ok(reference) => break reference,
                    Err(error) if retryable(&error) && failures < UPLOAD_RETRIES => {
                        back_off(failures).await;
                        failures += 1;
                    }
                    Err(error) => return Err(error),
                }
            };
            let mut guard = Guard::acquire(inner.clone()).await;
            guard.update_directory().await?;
            let session = guard.get();
            session
                .ticket
                .send(
                    &inner.transport,
                    &session.directory,
                    Content::AttachmentRef(reference),
                    &mut system_rng(),
                )
                .await?;
            view_of(session)
        })
    }

    /// Downloads, verifies and decrypts the attachment of the message at `seq`. Resolves to
    /// `{name, type, size, data: Uint8Array}` only once the whole file verified.
    /// `progress(done, size)`, if given, counts decrypted bytes.
    #[wasm_bindgen(js_name = downloadAttachment)]
    pub fn download_attachment(
        handle: &TicketHandle,
        seq: f64,
        progress: Option<Function>,
    ) -> Promise {
        let inner = handle.inner.clone();
        promise(async move {
            let reference = {
                let mut guard = Guard::acquire(inner.clone()).await;
                guard
                    .get()
                    .ticket
                    .messages
                    .iter()
                    .find(|m| m.seq as f64 == seq)
                    .and_then(|m| match &m.content {
                        Ok(Content::AttachmentRef(reference)) => Some(reference.clone()),
                        _ => None,
                    })
                    .ok_or_else(|| {
                        ClientError::new(
                            "input.invalid",
                            "No readable attachment is at this position of the conversation.",
                        )
                    })?
            };
            let plain = download_to_vec(
                &inner.transport,
                &inner.bearer,
                inner.ticket_id,
                &reference,
                |done, size| {
                    if let Some(progress) = &progress {
                        let _ = progress.call2(
                            &JsValue::NULL,
                            &(done as f64).into(),
                            &(size as f64).into(),
                        );
                    }
                },
            )
            .await?;
            let result = to_js(&serde_json::json!({
                "name": reference.name,
                "type": reference.mime_type,
                "size": reference.size,
            }))?;
            let _ = Reflect::set(&result, &"data".into(), &Uint8Array::from(plain.as_slice()));
            Ok(result)
        })
    }

    /// The JavaScript object of a notice: `{event: "ready" | "message" | "resync", chain?,
    /// seq?}`; `None` for events this client does not know.
    fn notice_object(notice: &Notice) -> Option<Value> {
        Some(match notice {
            Notice::Ready => serde_json::json!({"event": "ready"}),
            Notice::Resync => serde_json::json!({"event": "resync"}),
            Notice::Message { chain, seq, .. } => {
                serde_json::json!({"event": "message", "chain": chain.to_u8(), "seq": seq})
            }
            Notice::Other(_) => return None,
        })
    }

    /// Subscribes to the ticket's live updates over a streaming `fetch` and calls
    /// `onEvent({event, chain?, seq?})` for each: `ready` once the subscription is in place,
    /// `message` for each new message, `resync` when notifications were missed (also for a
    /// notification that does not parse). Each one means: call `refresh(handle)`. Resolves when
    /// the server ends the stream (or after `stopListening`), rejects when it fails: then poll
    /// every 6 s (`Poller`) and subscribe again later.
    #[wasm_bindgen]
    pub fn listen(handle: &TicketHandle, on_event: Function) -> Promise {
        let inner = handle.inner.clone();
        promise(async move {
            let request =
                Request::get(ticket_events_path(&inner.ticket_id)).bearer(Some(&inner.bearer));
            let response = inner
                .transport
                .fetch(request, Some("text/event-stream"))
                .await?;
            if !response.ok() {
                Response {
                    status: response.status(),
                    body: body_bytes(&response).await?,
                }
                .check()?;
            }
            let body = response.body().ok_or_else(|| {
                ClientError::new(
                    "live.unsupported",
                    "This browser cannot read a streaming response.",
                )
            })?;
            let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
            if let Some(previous) = inner.reader.borrow_mut().replace(reader.clone()) {
                let _ = previous.cancel();
            }
            let mut parser = SseParser::new();
            let result = async {
                loop {
                    let chunk = JsFuture::from(reader.read()).await.map_err(network)?;
                    let done = Reflect::get(&chunk, &"done".into())
                        .map_err(network)?
                        .as_bool()
                        .unwrap_or(true);
                    if done {
                        return Ok(JsValue::UNDEFINED);
                    }
                    let value = Reflect::get(&chunk, &"value".into()).map_err(network)?;
                    let bytes = value.dyn_into::<Uint8Array>().map_err(network)?.to_vec();
                    for event in parser.push(&bytes) {
                        let notice = Notice::from_event(&event).unwrap_or(Notice::Resync);
                        if let Some(object) = notice_object(&notice) {
                            on_event
                                .call1(&JsValue::NULL, &to_js(&object)?)
                                .map_err(network)?;
                        }
                    }
                }
            }
            .await;
            let mut current = inner.reader.borrow_mut();
            if current.as_ref().is_some_and(|r| *r == reader) {
                *current = None;
            }
            if result.is_err() {
                let _ = reader.cancel();
            }
            result
        })
    }

    /// Ends the running `listen` of this handle (its promise then resolves).
    #[wasm_bindgen(js_name = stopListening)]
    pub fn stop_listening(handle: &TicketHandle) {
        if let Some(reader) = handle.inner.reader.borrow_mut().take() {
            let _ = reader.cancel();
        }
    }

    /// When to poll without a live stream: every 6 s, with one read due at once when a stream
    /// ends. Times are milliseconds (`Date.now()`).
    #[wasm_bindgen]
    pub struct Poller {
        inner: LivePoller,
    }

    impl Default for Poller {
        fn default() -> Self {
            Self::new()
        }
    }

    #[wasm_bindgen]
    impl Poller {
        /// A schedule that polls every 6 s until `streamUp()`.
        #[wasm_bindgen(constructor)]
        pub fn new() -> Poller {
            Poller {
                inner: LivePoller::new(),
            }
        }

        /// The time (ms) of the next poll, at most `now` when one is due; `undefined` while a
        /// stream is up.
        #[wasm_bindgen(js_name = nextDue)]
        pub fn next_due(&self, now: f64) -> Option<f64> {
            self.inner.next_due(now as u64).map(|t| t as f64)
        }

        /// Whether a poll is due at `now`.
        #[wasm_bindgen(js_name = isDue)]
        pub fn is_due(&self, now: f64) -> bool {
            self.inner.is_due(now as u64)
        }

        /// Records a read (a poll or a refresh after a notification) at `now`.
        pub fn polled(&mut self, now: f64) {
            self.inner.polled(now as u64);
        }

        /// A stream is up (its `ready` arrived): no polling.
        #[wasm_bindgen(js_name = streamUp)]
        pub fn stream_up(&mut self) {
            self.inner.stream_up();
        }

        /// The stream ended or failed: polling resumes at once.
        #[wasm_bindgen(js_name = streamDown)]
        pub fn stream_down(&mut self) {
            self.inner.stream_down();
        }
    }

    #[cfg(test)]
    mod tests {
        //! The browser transport in headless Chromium.

        use wasm_bindgen_test::wasm_bindgen_test;

        use super::*;

        #[wasm_bindgen_test]
        async fn fetch_reaches_the_page_origin() {
            // The test runner's own server: a path it does not have answers 404.
            let response = FetchTransport::new()
                .send(Request::get("/sealdesk-no-such-path"))
                .await
                .expect("a response");
            assert_eq!(response.status, 404);
            assert_eq!(response.check().map_err(|e| e.status), Err(Some(404)));
        }

        #[wasm_bindgen_test]
        async fn an_unreachable_server_is_a_network_error() {
            let error = FetchTransport::with_base("http://127.0.0.1:9")
                .send(Request::post("/api/v1/tickets", serde_json::json!({})))
                .await
                .expect_err("no server");
            assert_eq!(error.code, "network");
        }

        #[wasm_bindgen_test]
        fn errors_carry_their_code() {
            let mut error = ClientError::new("attachment.truncated", "Cut.");
            error.status = Some(413);
            let js = js_error(error);
            assert_eq!(
                Reflect::get(&js, &"code".into())
                    .ok()
                    .and_then(|c| c.as_string()),
                Some("attachment.truncated".to_owned())
            );
            assert_eq!(
                Reflect::get(&js, &"status".into())
                    .ok()
                    .and_then(|c| c.as_f64()),
                Some(413.0)
            );
            assert!(js.is_instance_of::<js_sys::Error>());
        }
    }
}

#[cfg(test)]
mod tests {
    //! The views, natively and in headless Chromium.

    use sealdesk_crypto::{KeyId, system_rng};

    use super::*;
    use crate::content::{AttachmentRef, DebugData, StatusChange, Text};

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn opening_form() {
        let opening = parse_opening(
            r#"{"subject": "Uploads fail", "text": "Since today.", "category": "",
                "name": "Robin", "email": "  ", "urgent": true, "notify_email": "r@example.org",
                "debug": {"user_agent": "Test/1.0"}}"#,
        )
        .expect("opening");
        assert_eq!(opening.subject, "Uploads fail");
        assert_eq!(opening.category, None);
        assert_eq!(opening.name.as_deref(), Some("Robin"));
        assert_eq!(opening.email, None);
        assert!(opening.urgent);
        assert_eq!(opening.notify_email.as_deref(), Some("r@example.org"));
        assert_eq!(
            opening.debug.expect("debug")["user_agent"],
            "Test/1.0".to_owned()
        );
        let minimal = parse_opening(r#"{"subject": "s", "text": "t"}"#).expect("minimal");
        assert!(!minimal.urgent && minimal.debug.is_none());
        for bad in [
            "",
            "[]",
            r#"{"subject": "s"}"#,
            r#"{"subject": "s", "text": "t", "sbject": "typo"}"#,
            r#"{"subject": "s", "text": "t", "urgent": "yes"}"#,
            r#"{"subject": "s", "text": "t", "debug": {"n": 1}}"#,
            r#"{"subject": " ", "text": "t"}"#,
            r#"{"subject": "s", "text": ""}"#,
        ] {
            assert_eq!(
                parse_opening(bad).map(|_| ()).map_err(|e| e.code),
                Err("input.invalid".to_owned()),
                "{bad}"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn links() {
        let mut rng = system_rng();
        let link = TicketLink::generate(&mut rng);
        let path = link.path();
        for pasted in [
            path.clone(),
            format!("https://desk.example.org{path}"),
            format!("  https://desk.example.org{path}\n"),
        ] {
            let parsed = parse_link(&pasted).expect("link");
            assert_eq!(parsed.ticket_id(), link.ticket_id());
            assert_eq!(parsed.path(), path);
        }
        let (id, secret) = path.split_once('#').expect("fragment");
        let other = TicketLink::generate(&mut rng).path();
        let swapped = format!("{}#{secret}", other.split_once('#').expect("fragment").0);
        let code = |input: &str| parse_link(input).err().map(|e| e.code);
        assert_eq!(code(&swapped).as_deref(), Some("link.mismatch"));
        assert_eq!(code(id).as_deref(), Some("link.malformed"));
        assert_eq!(code(&format!("{path}x")).as_deref(), Some("link.malformed"));
        assert_eq!(
            code("https://desk.example.org/help").as_deref(),
            Some("link.malformed")
        );
    }

    fn shown(kind: Kind, content: core::result::Result<Content, ClientError>) -> Shown {
        Shown {
            seq: 3,
            received_at: 1_700_000_000,
            sender: KeyId([1; 32]),
            from_support: true,
            kind,
            content,
        }
    }

    /// Every kind's content survives its encoding (§14) and shows as its JSON.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn content_round_trips_and_views() {
        let text = Text {
            text: "Hello ✓".into(),
            sent_at: 5,
            author: Some("Sam".into()),
            ..Text::default()
        };
        let reference = AttachmentRef {
            attachment_id: "0123456789abcdef0123456789abcdef".into(),
            name: "log.txt".into(),
            mime_type: "text/plain".into(),
            size: 150_000,
            encrypted_size: 150_064,
            key: Base64UrlUnpadded::encode_string(&[7; 32]),
            sent_at: 6,
        };
        let contents = [
            Content::Message(text.clone()),
            Content::DebugData(DebugData {
                fields: BTreeMap::from([("time_zone".into(), "Europe/Berlin".into())]),
                sent_at: 7,
            }),
            Content::AttachmentRef(reference),
            Content::Close(StatusChange::default()),
            Content::Reopen(StatusChange {
                sent_at: 8,
                author: None,
            }),
            Content::InternalNote(text),
            Content::Rotate,
        ];
        for content in contents {
            let bytes = content.to_bytes().expect("encode");
            let parsed = Content::parse(content.kind(), &bytes).expect("parse");
            assert_eq!(parsed, content);
            let view = message_view(&shown(content.kind(), Ok(parsed)));
            assert_eq!(view["kind"], kind_name(content.kind()));
            assert_eq!(view["seq"], 3);
            assert_eq!(view["from_support"], true);
            assert!(view.get("error").is_none());
            let shown_content = &view["content"];
            assert!(shown_content.is_object(), "{view}");
            assert!(shown_content.get("key").is_none(), "no file key in a view");
            if content.kind() != Kind::Rotate {
                // The view is the content's own JSON, less the key.
                let mut json: Value = serde_json::from_slice(&bytes).expect("json");
                if let Some(object) = json.as_object_mut() {
                    object.remove("key");
                }
                assert_eq!(*shown_content, json);
            }
        }
        let view = message_view(&shown(
            Kind::Message,
            Err(ClientError::new("content.unreadable", "No.")),
        ));
        assert_eq!(view["content"], Value::Null);
        assert_eq!(view["error"]["code"], "content.unreadable");
        // A member of the wrong type makes the content unreadable (§14).
        assert_eq!(
            Content::parse(Kind::Message, br#"{"text": 1, "sent_at": 0}"#).map_err(|e| e.code),
            Err("content.unreadable".to_owned())
        );
        // Unknown members are ignored.
        assert!(Content::parse(Kind::Close, br#"{"sent_at": 0, "later": true}"#).is_ok());
    }
}
