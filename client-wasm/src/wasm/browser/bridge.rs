//! The bridge between the exports and JavaScript: `fetch` as the client's transport, promises,
//! JavaScript errors with their codes, the lock that orders a handle's operations, pinned
//! directory heads, event streams and timers.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use js_sys::{Function, Promise, Reflect, Uint8Array};
use sealdesk_crypto::{Directory, Zeroizing};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_sys::{Headers, ReadableStreamDefaultReader, RequestInit};

use crate::directory::fetch_verified;
use crate::error::{ClientError, Result};
use crate::live::{Notice, Poller as LivePoller, SseParser};
use crate::transport::{Body, Method, Request, Response, Transport};
use crate::wasm::input::{DirectoryPin, PinnedHead, check_head, invalid};
use crate::wasm::views::LiveEvent;

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
pub(crate) fn describe(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "The request failed.".to_owned())
}

pub(crate) fn network(value: JsValue) -> ClientError {
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

pub(crate) async fn body_bytes(response: &web_sys::Response) -> Result<Vec<u8>> {
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
pub(crate) async fn sleep(milliseconds: i32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, milliseconds);
    });
    let _ = JsFuture::from(promise).await;
}

/// A [`ClientError`] as a JavaScript `Error` (`name` `"SealdeskError"`) with `code` (and
/// `status`) properties.
pub fn js_error(error: ClientError) -> JsValue {
    let js = js_sys::Error::new(&error.message);
    js.set_name("SealdeskError");
    let _ = Reflect::set(&js, &"code".into(), &error.code.as_str().into());
    if let Some(status) = error.status {
        let _ = Reflect::set(&js, &"status".into(), &status.into());
    }
    js.into()
}

/// A view as the JavaScript value the page receives (through JSON, as the views' `Tsify`
/// declarations describe it).
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue> {
    serde_json::to_string(value)
        .ok()
        .and_then(|json| js_sys::JSON::parse(&json).ok())
        .ok_or_else(|| ClientError::new("input.invalid", "A value could not be converted."))
}

/// A typed argument from the page (`what` names it in the error).
///
/// # Errors
/// `input.invalid` when the value does not have the declared type.
pub(crate) fn from_js<T: Tsify + DeserializeOwned>(value: &Ts<T>, what: &str) -> Result<T>
where
    T::JsType: Clone,
{
    value
        .to_rust()
        // Never the value itself: serde's text quotes it, and it may be a secret.
        .map_err(|e| {
            invalid(format!(
                "{what} is not valid: {}.",
                sealdesk_wire::errors::describe_deserialize_error(&e.to_string())
            ))
        })
}

/// Runs `future` as a `Promise` that rejects with [`js_error`].
pub(crate) fn promise<F>(future: F) -> Promise
where
    F: Future<Output = Result<JsValue>> + 'static,
{
    boxed_promise(Box::pin(future))
}

/// [`promise`] for every export through one instance of `future_to_promise` (each instance is
/// a large state machine, and rustc copies generic ones into several codegen units).
pub(crate) fn boxed_promise(future: Pin<Box<dyn Future<Output = Result<JsValue>>>>) -> Promise {
    future_to_promise(async move { future.await.map_err(js_error) })
}

pub(crate) fn now_seconds() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// A password as PROTOCOL.md §12.1 derives it: Unicode NFC (`String.prototype.normalize`), so
/// that the same password typed on another system opens the same account.
pub fn normalize_password(password: &str) -> Zeroizing<String> {
    Zeroizing::new(String::from(
        js_sys::JsString::from(password).normalize("NFC"),
    ))
}

/// A count or position given by the page as a JavaScript number: a whole number from 0.
pub(crate) fn whole_number(value: f64, what: &str) -> Result<u64> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value < 9.007_199_254_740_992e15
    {
        Ok(value as u64)
    } else {
        Err(ClientError::new(
            "input.invalid",
            format!("{what} is a whole number from 0."),
        ))
    }
}

/// A value that one operation at a time holds across its awaits: operations wait in the order
/// they reach the lock (a `refresh` started by a live notification waits for a `reply` in
/// flight, and the other way round).
pub(crate) struct Lock<T: 'static> {
    value: RefCell<Option<T>>,
    waiters: RefCell<VecDeque<Waker>>,
}

impl<T: 'static> Lock<T> {
    pub(crate) fn new(value: T) -> Rc<Self> {
        Rc::new(Lock {
            value: RefCell::new(Some(value)),
            waiters: RefCell::default(),
        })
    }

    /// Waits for the value and holds it until the returned guard is dropped.
    pub(crate) async fn acquire(self: &Rc<Self>) -> Held<T> {
        let value = std::future::poll_fn(|cx| {
            if let Some(value) = self.value.borrow_mut().take() {
                return Poll::Ready(value);
            }
            self.waiters.borrow_mut().push_back(cx.waker().clone());
            Poll::Pending
        })
        .await;
        Held {
            lock: self.clone(),
            value: Some(value),
        }
    }
}

/// The value of a [`Lock`] while one operation holds it.
pub(crate) struct Held<T: 'static> {
    lock: Rc<Lock<T>>,
    value: Option<T>,
}

// `value` is `Some` from `acquire` until `drop` takes it back: the `Option` only lets `drop`
// move the value out, so these two `expect`s cannot fail.
impl<T> Deref for Held<T> {
    type Target = T;
    #[allow(clippy::expect_used, reason = "`value` is Some until drop")]
    fn deref(&self) -> &T {
        self.value.as_ref().expect("held until dropped")
    }
}

impl<T> DerefMut for Held<T> {
    #[allow(clippy::expect_used, reason = "`value` is Some until drop")]
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("held until dropped")
    }
}

impl<T> Drop for Held<T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            *self.lock.value.borrow_mut() = Some(value);
            // Every waiter polls again; the first takes the value, the others wait on.
            let waiters: Vec<Waker> = self.lock.waiters.borrow_mut().drain(..).collect();
            waiters.into_iter().for_each(Waker::wake);
        }
    }
}

/// Fetches and verifies the directory, extending the heads `pin` holds, and pins its head.
pub(crate) async fn verify_directory(
    transport: &FetchTransport,
    pin: &RefCell<DirectoryPin>,
) -> Result<Directory> {
    let head = pin.borrow().head();
    let directory = fetch_verified(transport, head.as_ref()).await?;
    pin.borrow_mut().accept(&directory)?;
    Ok(directory)
}

/// `pinnedHead()`: the newest head `pin` holds, `undefined` before any.
pub(crate) fn export_pin(pin: &RefCell<DirectoryPin>) -> Option<Ts<PinnedHead>> {
    let head = PinnedHead::of(&pin.borrow().head()?);
    to_js(&head).ok().map(Ts::new_unchecked)
}

/// A pinned head from the page ([`PinnedHead`]).
///
/// # Errors
/// `input.invalid`.
pub(crate) fn head_from_js(head: &Ts<PinnedHead>) -> Result<sealdesk_crypto::DirectoryHead> {
    check_head(from_js(head, "The pinned head")?)
}

/// `setPinnedHead(head)`.
pub(crate) fn import_pin(
    pin: &RefCell<DirectoryPin>,
    head: &Ts<PinnedHead>,
) -> core::result::Result<(), JsValue> {
    let head = head_from_js(head).map_err(js_error)?;
    pin.borrow_mut().import(head).map_err(js_error)
}

/// `pinnedHead()` and `setPinnedHead(head)` for a handle type whose pin `$pin` reaches from
/// `$this` (the ticket's own, or its sign-in's: shared by an account, its panel and its
/// tickets).
macro_rules! pinned_head_methods {
    ($handle:ty, |$this:ident| $pin:expr) => {
        #[wasm_bindgen]
        impl $handle {
            /// The newest directory head this handle holds the server to, `{seq, hash}`
            /// (`undefined` before the first directory read): keep it (IndexedDB or the
            /// keyring) and give it back next time. A sign-in's handles and tickets share one.
            #[wasm_bindgen(js_name = pinnedHead)]
            pub fn pinned_head(&self) -> Option<tsify::Ts<$crate::wasm::input::PinnedHead>> {
                let $this = self;
                $crate::wasm::browser::bridge::export_pin($pin)
            }

            /// Takes a head kept from an earlier visit (`pinnedHead()`'s value): the next
            /// directory read must contain it. Throws `input.invalid`, or `directory.fork` for
            /// another head at the position of one already verified.
            #[wasm_bindgen(js_name = setPinnedHead)]
            pub fn set_pinned_head(
                &self,
                head: tsify::Ts<$crate::wasm::input::PinnedHead>,
            ) -> core::result::Result<(), JsValue> {
                let $this = self;
                $crate::wasm::browser::bridge::import_pin($pin, &head)
            }
        }
    };
}
pub(crate) use pinned_head_methods;

/// The event `onEvent` receives for a notice; `None` for events this client does not know.
pub(crate) fn live_event(notice: &Notice) -> Option<LiveEvent> {
    Some(match notice {
        Notice::Ready => LiveEvent::Ready,
        Notice::Resync => LiveEvent::Resync,
        Notice::Message { ticket, chain, seq } => LiveEvent::Message {
            ticket: ticket.to_hex(),
            chain: chain.to_u8(),
            seq: *seq,
        },
        Notice::Other(_) => return None,
    })
}

/// Reads the event stream at `path` over a streaming `fetch` and calls `on_event` with each
/// [`live_event`]. `slot` holds the reader while the stream runs, so [`stop_stream`] can
/// end it (a running stream in the same slot is ended first). Resolves when the stream ends.
pub(crate) async fn listen_stream(
    transport: &FetchTransport,
    path: String,
    bearer: &str,
    slot: &RefCell<Option<ReadableStreamDefaultReader>>,
    on_event: &Function,
) -> Result<JsValue> {
    let request = Request::get(path).bearer(Some(bearer));
    let response = transport.fetch(request, Some("text/event-stream")).await?;
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
    if let Some(previous) = slot.borrow_mut().replace(reader.clone()) {
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
                if let Some(object) = live_event(&notice) {
                    on_event
                        .call1(&JsValue::NULL, &to_js(&object)?)
                        .map_err(network)?;
                }
            }
        }
    }
    .await;
    let mut current = slot.borrow_mut();
    if current.as_ref().is_some_and(|r| *r == reader) {
        *current = None;
    }
    if result.is_err() {
        let _ = reader.cancel();
    }
    result
}

/// Ends the stream whose reader `slot` holds, if any (its `listen` then resolves).
pub(crate) fn stop_stream(slot: &RefCell<Option<ReadableStreamDefaultReader>>) {
    if let Some(reader) = slot.borrow_mut().take() {
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
    //! The browser transport and helpers in headless Chromium.

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
            .send(
                Request::post_json("/api/v1/tickets", &sealdesk_wire::EmptyBody {})
                    .expect("a body"),
            )
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

    #[wasm_bindgen_test]
    async fn the_lock_hands_the_value_to_one_operation_at_a_time() {
        let lock = Lock::new(Vec::<u32>::new());
        let mut first = lock.acquire().await;
        let second = {
            let lock = lock.clone();
            wasm_bindgen_futures::JsFuture::from(future_to_promise(async move {
                lock.acquire().await.push(2);
                Ok(JsValue::UNDEFINED)
            }))
        };
        sleep(10).await;
        first.push(1);
        drop(first);
        second.await.expect("second");
        assert_eq!(*lock.acquire().await, [1, 2]);
    }

    #[wasm_bindgen_test]
    fn whole_numbers() {
        assert_eq!(whole_number(0.0, "x").ok(), Some(0));
        assert_eq!(whole_number(42.0, "x").ok(), Some(42));
        for bad in [-1.0, 0.5, f64::NAN, f64::INFINITY, 1e300] {
            assert_eq!(
                whole_number(bad, "x").err().map(|e| e.code).as_deref(),
                Some("input.invalid")
            );
        }
    }

    #[wasm_bindgen_test]
    fn passwords_are_normalized_to_nfc() {
        // "é" as e + combining acute accent, and precomposed.
        assert_eq!(normalize_password("Caf\u{65}\u{301}").as_str(), "Caf\u{e9}");
        assert_eq!(normalize_password("Caf\u{e9}").as_str(), "Caf\u{e9}");
    }
}
