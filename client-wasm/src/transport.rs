//! The client's only I/O: HTTP requests through a [`Transport`], so the same protocol logic
//! runs in the browser (`fetch`) and natively (`reqwest`, [`NativeTransport`]).

use sealdesk_wire::errors::ErrorBody;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ClientError, Result};

/// HTTP methods the API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
}

/// A request body.
#[derive(Clone, Debug)]
pub enum Body {
    /// `application/json`.
    Json(Value),
    /// `application/octet-stream`.
    Bytes(Vec<u8>),
}

impl Body {
    /// The JSON body of a wire type (`sealdesk_wire`'s request bodies).
    ///
    /// # Errors
    /// `encoding` if `body` does not serialize, which no wire type does (they hold strings,
    /// numbers, lists and objects with string keys only).
    pub fn json<B: Serialize>(body: &B) -> Result<Body> {
        serde_json::to_value(body).map(Body::Json).map_err(|_| {
            ClientError::new("encoding", "The request body could not be written as JSON.")
        })
    }
}

/// One HTTP request to the instance, by path (`/api/v1/...`).
#[derive(Clone, Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// Path and query, starting with `/`.
    pub path: String,
    /// Bearer credential (access token or session), if any.
    pub bearer: Option<String>,
    /// The body, if any.
    pub body: Option<Body>,
}

impl Request {
    /// A GET of `path`.
    pub fn get(path: impl Into<String>) -> Self {
        Request {
            method: Method::Get,
            path: path.into(),
            bearer: None,
            body: None,
        }
    }

    /// A POST of a wire body (`sealdesk_wire`), the client's own requests.
    ///
    /// # Errors
    /// As [`Body::json`].
    pub fn post_json<B: Serialize>(path: impl Into<String>, body: &B) -> Result<Self> {
        Ok(Request {
            method: Method::Post,
            path: path.into(),
            bearer: None,
            body: Some(Body::json(body)?),
        })
    }

    /// A PUT of a wire body (`sealdesk_wire`).
    ///
    /// # Errors
    /// As [`Body::json`].
    pub fn put_json<B: Serialize>(path: impl Into<String>, body: &B) -> Result<Self> {
        Ok(Request {
            method: Method::Put,
            path: path.into(),
            bearer: None,
            body: Some(Body::json(body)?),
        })
    }

    /// A DELETE without a body.
    pub fn delete(path: impl Into<String>) -> Self {
        Request {
            method: Method::Delete,
            path: path.into(),
            bearer: None,
            body: None,
        }
    }

    /// A POST of any JSON value, for requests that are not the client's own (tests that
    /// send what a misbehaving client would); the client sends [`Request::post_json`].
    pub fn post(path: impl Into<String>, body: Value) -> Self {
        Request {
            method: Method::Post,
            path: path.into(),
            bearer: None,
            body: Some(Body::Json(body)),
        }
    }

    /// The same request with a bearer credential.
    pub fn bearer(mut self, credential: Option<&str>) -> Self {
        self.bearer = credential.map(str::to_owned);
        self
    }
}

/// An HTTP response: status and body bytes.
#[derive(Clone, Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// The JSON body of a 2xx answer, or the server's refusal as a [`ClientError`]
    /// (`server.<code>`, with the server's sentence and status).
    ///
    /// # Errors
    /// The refusal, or `bad_response` if a 2xx body does not parse as `T`.
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T> {
        self.check()?;
        serde_json::from_slice(&self.body).map_err(|_| ClientError::bad_response(what))
    }

    /// `Ok` for a 2xx answer, else the server's refusal.
    ///
    /// # Errors
    /// `server.<code>` with the status.
    pub fn check(&self) -> Result<()> {
        if (200..300).contains(&self.status) {
            return Ok(());
        }
        let parsed: ErrorBody = serde_json::from_slice(&self.body).unwrap_or_default();
        let code = match parsed.error.as_str() {
            "" => "unknown",
            code => code,
        };
        let message = match parsed.message.as_str() {
            "" => "The server refused the request.",
            message => message,
        };
        Err(ClientError {
            code: format!("server.{code}"),
            message: message.to_owned(),
            status: Some(self.status),
        })
    }
}

/// Sends requests to one instance.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Sends `request` and returns the response (any status).
    ///
    /// # Errors
    /// `network` when no response arrives.
    async fn send(&self, request: Request) -> Result<Response>;
}

/// The native transport (tests and the command-line client), over `reqwest`.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone, Debug)]
pub struct NativeTransport {
    base: String,
    http: reqwest::Client,
}

#[cfg(not(target_arch = "wasm32"))]
impl NativeTransport {
    /// A transport to the instance at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Self {
        NativeTransport {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Transport for NativeTransport {
    async fn send(&self, request: Request) -> Result<Response> {
        let url = format!("{}{}", self.base, request.path);
        let mut builder = match request.method {
            Method::Get => self.http.get(&url),
            Method::Post => self.http.post(&url),
            Method::Put => self.http.put(&url),
            Method::Delete => self.http.delete(&url),
        };
        if let Some(bearer) = &request.bearer {
            builder = builder.bearer_auth(bearer);
        }
        builder = match request.body {
            Some(Body::Json(value)) => builder.json(&value),
            Some(Body::Bytes(bytes)) => builder
                .header("content-type", "application/octet-stream")
                .body(bytes),
            None => builder,
        };
        let response = builder
            .send()
            .await
            .map_err(|e| ClientError::network(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| ClientError::network(e.to_string()))?;
        Ok(Response {
            status,
            body: body.to_vec(),
        })
    }
}
