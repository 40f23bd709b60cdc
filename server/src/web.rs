//! The web front end's files: from the web folder on disk, or from inside the binary.
//!
//! A binary built with the `embed-web` feature (the release build of `scripts/serve.sh`)
//! carries the web folder (`web/`, with the modules `scripts/build-web.sh` writes to `web/pkg/`)
//! and serves that copy, so a self-hoster needs only the binary; it reads `web_dir` only when
//! the option is set explicitly (configuration file or `SEALDESK_WEB_DIR`). Without the
//! feature, `web_dir` is served from disk if it exists, and only the API otherwise.
//!
//! Either way the files are the router's fallback (the page routes of [`crate::pages`] rewrite
//! to them), and the security headers of [`crate::app`] wrap their responses. Embedded files
//! answer `GET` and `HEAD` with the type of their extension ([`content_type`]), a strong `ETag`
//! (from the SHA-256 of the content), `Cache-Control: no-cache` (browsers revalidate, so an upgraded
//! binary's module is picked up at once) and `304 Not Modified` for a matching
//! `If-None-Match`; a directory answers with its `index.html`, as on disk.
//!
//! Both serve a file's gzip copy beside it (`FILE.gz`, which `scripts/build-web.sh` writes for
//! the WebAssembly modules and their JavaScript) with `Content-Encoding: gzip` to a browser that
//! accepts gzip ([`accepts_gzip`], RFC 9110 §12.5.3), and say `Vary: Accept-Encoding`: the
//! modules are the bulk of a page (about 0.4 of their size gzipped), and they hold no secret,
//! so compressing them leaks nothing.

use std::path::PathBuf;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;
use tower_http::set_header::SetResponseHeader;

use crate::config::{Config, Source};

/// Where the web front end is served from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebSource {
    /// The web folder on disk (`web_dir`).
    Disk(PathBuf),
    /// The copy of `web/` inside the binary (feature `embed-web`).
    Embedded,
}

impl WebSource {
    /// The source for `config`: the embedded files when the binary has them and `web_dir` was
    /// not set explicitly; otherwise `web_dir` if it is a directory; otherwise none (only the
    /// API is served).
    pub fn from_config(config: &Config) -> Option<WebSource> {
        let explicit = config.provenance.source("web_dir") != Source::Default;
        if EMBEDDED && !explicit {
            tracing::info!("serving the web front end embedded in the binary");
            Some(WebSource::Embedded)
        } else if config.web_dir.is_dir() {
            tracing::info!(
                web_dir = %config.web_dir.display(),
                "serving the web front end from disk"
            );
            Some(WebSource::Disk(config.web_dir.clone()))
        } else {
            tracing::info!(
                web_dir = %config.web_dir.display(),
                "no web folder: serving only the API"
            );
            None
        }
    }

    /// Makes this source the router's fallback.
    pub fn serve(self, router: axum::Router) -> axum::Router {
        match self {
            WebSource::Disk(dir) => {
                let files = tower_http::services::ServeDir::new(dir).precompressed_gzip();
                let files = SetResponseHeader::if_not_present(
                    files,
                    header::VARY,
                    HeaderValue::from_static("accept-encoding"),
                );
                // As the embedded files: browsers revalidate, so an upgrade is picked up at once.
                let files = SetResponseHeader::overriding(
                    files,
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                );
                router.fallback(move |request: Request| from_disk(files.clone(), request))
            }
            #[cfg(feature = "embed-web")]
            WebSource::Embedded => router.fallback(embedded::respond),
            #[cfg(not(feature = "embed-web"))]
            WebSource::Embedded => router,
        }
    }
}

/// Answers a request for a file of the web folder on disk, after the path check of the
/// embedded files ([`relative_path`]): a path with empty, `.` or `..` segments or a dotfile
/// is not found, rather than left to `ServeDir` (which redirects `//pkg` to `//pkg/`, a
/// protocol-relative address, and serves dotfiles).
async fn from_disk<S>(files: S, request: Request) -> Response
where
    S: tower::Service<Request, Error = std::convert::Infallible>,
    S::Response: IntoResponse,
{
    if relative_path(request.uri().path()).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    match files.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}

/// Whether this binary carries the web folder (built with the `embed-web` feature).
pub const EMBEDDED: bool = cfg!(feature = "embed-web");

/// The `Content-Type` of a web file, by its extension; `application/octet-stream` for others.
pub fn content_type(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let extension = name
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase());
    match extension.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("json" | "map") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("txt") => "text/plain; charset=utf-8",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("avif") => "image/avif",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        _ => "application/octet-stream",
    }
}

/// The file a request path names, relative to the web folder: percent-decoded, without the
/// leading `/`, with `index.html` appended to a directory path (ending in `/`). `None` for a
/// path that could leave the folder or is not clean: `.` or `..` segments, empty segments,
/// backslashes, NUL, invalid percent-encoding or UTF-8, and dotfiles (a segment starting with
/// `.`, such as `.git` or `.env`: the embedded copy leaves them out, the disk must not serve
/// them either).
pub fn relative_path(uri_path: &str) -> Option<String> {
    let rest = percent_decode(uri_path.strip_prefix('/')?)?;
    if rest.is_empty() {
        return Some("index.html".to_owned());
    }
    let (path, directory) = match rest.strip_suffix('/') {
        Some(dir) => (dir, true),
        None => (rest.as_str(), false),
    };
    let clean = |segment: &str| {
        !(segment.is_empty() || segment.starts_with('.') || segment.contains(['\\', '\0']))
    };
    if !path.split('/').all(clean) {
        return None;
    }
    Some(if directory {
        format!("{path}/index.html")
    } else {
        path.to_owned()
    })
}

/// Decodes `%XX` escapes; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether an `Accept-Encoding` header value accepts gzip (RFC 9110 §12.5.3): `gzip` (or
/// `x-gzip`) listed with a weight above 0, or else `*` with a weight above 0. A missing weight
/// is 1; one that does not parse counts as 0.
pub fn accepts_gzip(accept_encoding: &str) -> bool {
    let mut wildcard = false;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let weight = parts
            .find_map(|param| {
                let (name, value) = param.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| value.trim().parse::<f32>().unwrap_or(0.0))
            })
            .unwrap_or(1.0);
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            return weight > 0.0;
        }
        if coding == "*" {
            wildcard = weight > 0.0;
        }
    }
    wildcard
}

/// Whether an `If-None-Match` header value matches `etag` (weak comparison, or `*`).
pub fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let etag = bare(etag);
    if_none_match
        .split(',')
        .any(|candidate| candidate.trim() == "*" || bare(candidate) == etag)
}

#[cfg(feature = "embed-web")]
mod embedded {
    use axum::body::Body;
    use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
    use axum::response::{IntoResponse, Response};
    use rust_embed::RustEmbed;

    /// The web folder. Release builds hold its files; debug builds (`debug_assertions`) read
    /// them from `web/` at the path it had at compile time. Left out: TypeScript declarations
    /// and npm's package file of the generated module, and dotfiles such as `.gitignore`.
    #[derive(RustEmbed)]
    #[folder = "../web/"]
    #[exclude = "*.d.ts"]
    #[exclude = "pkg/**/package.json"]
    #[exclude = "**/.*"]
    struct Assets;

    /// Answers a request for a web file (the router's fallback).
    pub(super) async fn respond(method: Method, uri: Uri, headers: HeaderMap) -> Response {
        if method != Method::GET && method != Method::HEAD {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "GET, HEAD")],
            )
                .into_response();
        }
        let Some(path) = super::relative_path(uri.path()) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let Some(file) = Assets::get(&path) else {
            // A directory without its trailing slash: send the browser to it, as ServeDir does.
            if !uri.path().ends_with('/') && Assets::get(&format!("{path}/index.html")).is_some() {
                let location = match uri.query() {
                    Some(query) => format!("{}/?{query}", uri.path()),
                    None => format!("{}/", uri.path()),
                };
                if let Ok(location) = HeaderValue::from_str(&location) {
                    return (
                        StatusCode::TEMPORARY_REDIRECT,
                        [(header::LOCATION, location)],
                    )
                        .into_response();
                }
            }
            return StatusCode::NOT_FOUND.into_response();
        };
        // The gzip copy, when there is one and the browser takes it (each has its own ETag).
        let compressed = Assets::get(&format!("{path}.gz"));
        let has_copy = compressed.is_some();
        let accepts = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|value| value.to_str().ok())
            .is_some_and(super::accepts_gzip);
        let (file, gzip) = match compressed {
            Some(copy) if accepts => (copy, true),
            _ => (file, false),
        };
        let hash = file.metadata.sha256_hash();
        let etag = format!("\"{}\"", hex::encode(&hash[..16]));
        let mut common = HeaderMap::new();
        common.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if let Ok(value) = HeaderValue::from_str(&etag) {
            common.insert(header::ETAG, value);
        }
        if has_copy {
            common.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        if gzip {
            common.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let not_modified = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| super::etag_matches(value, &etag));
        if not_modified {
            return (StatusCode::NOT_MODIFIED, common).into_response();
        }
        (
            StatusCode::OK,
            common,
            [(header::CONTENT_TYPE, super::content_type(&path))],
            Body::from(file.data),
        )
            .into_response()
    }

    #[cfg(test)]
    mod tests {
        use axum::body::to_bytes;
        use axum::http::{HeaderMap, Method, StatusCode, Uri, header};

        use super::{Assets, respond};

        async fn get(path: &str, headers: HeaderMap) -> axum::response::Response {
            respond(Method::GET, Uri::try_from(path).unwrap(), headers).await
        }

        #[tokio::test]
        async fn serves_the_module_with_its_type_and_etag() {
            for package in ["account", "admin", "reporter"] {
                assert!(
                    Assets::get(&format!("pkg/{package}/sealdesk_client_bg.wasm")).is_some()
                        && Assets::get(&format!("pkg/{package}/sealdesk_client.js")).is_some(),
                    "web/pkg/{package} is missing: run scripts/build-web.sh"
                );
            }
            let module = "pkg/reporter/sealdesk_client_bg.wasm";
            let response = get(&format!("/{module}"), HeaderMap::new()).await;
            assert_eq!(response.status(), StatusCode::OK);
            let headers = response.headers().clone();
            assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
            assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
            let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
            assert_eq!(&body[..4], b"\0asm");

            let mut conditional = HeaderMap::new();
            conditional.insert(header::IF_NONE_MATCH, headers[header::ETAG].clone());
            let again = get(&format!("/{module}"), conditional).await;
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

            let script = get("/pkg/admin/sealdesk_client.js", HeaderMap::new()).await;
            assert_eq!(
                script.headers()[header::CONTENT_TYPE],
                "text/javascript; charset=utf-8"
            );
        }

        #[tokio::test]
        async fn serves_the_gzip_copy_to_browsers_that_accept_it() {
            for file in ["sealdesk_client_bg.wasm", "sealdesk_client.js"] {
                let path = format!("/pkg/account/{file}");
                let copy = Assets::get(&format!("pkg/account/{file}.gz"))
                    .unwrap_or_else(|| panic!("{path}.gz is missing: run scripts/build-web.sh"));
                assert_eq!(&copy.data[..2], [0x1f, 0x8b], "{path}.gz is gzip");

                let mut accepting = HeaderMap::new();
                accepting.insert(
                    header::ACCEPT_ENCODING,
                    "gzip, deflate, br".parse().unwrap(),
                );
                let gzipped = get(&path, accepting.clone()).await;
                assert_eq!(gzipped.status(), StatusCode::OK);
                let headers = gzipped.headers().clone();
                assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
                assert_eq!(headers[header::VARY], "accept-encoding");
                assert_eq!(
                    headers[header::CONTENT_TYPE],
                    super::super::content_type(&path)
                );
                let body = to_bytes(gzipped.into_body(), usize::MAX).await.unwrap();
                assert_eq!(&body[..], &copy.data[..], "{path}: the gzip copy");

                // Refused gzip, or none asked for: the file itself, with another ETag.
                let mut refusing = HeaderMap::new();
                refusing.insert(header::ACCEPT_ENCODING, "gzip;q=0, br".parse().unwrap());
                for request in [refusing, HeaderMap::new()] {
                    let plain = get(&path, request).await;
                    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
                    assert_eq!(plain.headers()[header::VARY], "accept-encoding");
                    assert_ne!(plain.headers()[header::ETAG], headers[header::ETAG]);
                    let body = to_bytes(plain.into_body(), usize::MAX).await.unwrap();
                    assert_eq!(&body[..], &Assets::get(&path[1..]).unwrap().data[..]);
                }

                // The gzip copy's ETag revalidates the gzip copy.
                accepting.insert(header::IF_NONE_MATCH, headers[header::ETAG].clone());
                let again = get(&path, accepting).await;
                assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
                assert_eq!(again.headers()[header::CONTENT_ENCODING], "gzip");
            }
            // A file without a copy says nothing of encodings.
            let page = get("/help.html", HeaderMap::new()).await;
            assert!(page.headers().get(header::VARY).is_none());
        }

        #[tokio::test]
        async fn refuses_what_is_not_a_served_file() {
            for path in [
                "/pkg/account/sealdesk_client.d.ts",
                // The module of every export, split into `account` and `admin`.
                "/pkg/full/sealdesk_client.js",
                "/pkg/reporter/sealdesk_client_bg.wasm.d.ts",
                "/pkg/sealdesk_client.js",
                "/.gitignore",
                "/pkg/../../Cargo.toml",
                "/pkg/%2e%2e/%2e%2e/Cargo.toml",
                "/no-such-file.js",
            ] {
                let response = get(path, HeaderMap::new()).await;
                assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
            }
            let post = respond(
                Method::POST,
                Uri::from_static("/pkg/account/sealdesk_client.js"),
                HeaderMap::new(),
            )
            .await;
            assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode, header};
    use tower::ServiceExt;

    use super::{WebSource, accepts_gzip, content_type, etag_matches, relative_path};

    /// From disk too, a file's gzip copy goes to a browser that accepts gzip.
    #[tokio::test]
    async fn disk_serves_the_gzip_copy_to_browsers_that_accept_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.js"), "plain").unwrap();
        std::fs::write(dir.path().join("app.js.gz"), "pretend gzip").unwrap();
        let app = WebSource::Disk(dir.path().to_owned()).serve(axum::Router::new());
        let fetch = |accept: Option<&'static str>| {
            let app = app.clone();
            async move {
                let mut request = Request::get("/app.js");
                if let Some(accept) = accept {
                    request = request.header(header::ACCEPT_ENCODING, accept);
                }
                let response = app
                    .oneshot(request.body(Body::empty()).unwrap())
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                assert_eq!(response.headers()[header::VARY], "accept-encoding");
                let encoding = response.headers().get(header::CONTENT_ENCODING).cloned();
                let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
                (encoding, body)
            }
        };
        let (encoding, body) = fetch(Some("gzip, br")).await;
        assert_eq!(encoding.unwrap(), "gzip");
        assert_eq!(&body[..], b"pretend gzip");
        for refused in [None, Some("gzip;q=0")] {
            let (encoding, body) = fetch(refused).await;
            assert!(encoding.is_none(), "{refused:?}");
            assert_eq!(&body[..], b"plain");
        }
    }

    /// From disk, the path check of the embedded files: no redirect of `//pkg` to `//pkg/`
    /// (a protocol-relative address), no dotfiles, and `Cache-Control: no-cache`.
    #[tokio::test]
    async fn disk_checks_paths_and_refuses_dotfiles() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join("pkg/index.html"), "pkg").unwrap();
        std::fs::write(dir.path().join("app.js"), "plain").unwrap();
        std::fs::write(dir.path().join(".env"), "SECRET=1").unwrap();
        std::fs::write(dir.path().join(".git/config"), "[core]").unwrap();
        std::fs::write(dir.path().join("pkg/.hidden"), "x").unwrap();
        let app = WebSource::Disk(dir.path().to_owned()).serve(axum::Router::new());
        let get = |path: &'static str| {
            let app = app.clone();
            async move {
                app.oneshot(Request::get(path).body(Body::empty()).unwrap())
                    .await
                    .unwrap()
            }
        };
        let file = get("/app.js").await;
        assert_eq!(file.status(), StatusCode::OK);
        assert_eq!(file.headers()[header::CACHE_CONTROL], "no-cache");
        let directory = get("/pkg/").await;
        assert_eq!(directory.status(), StatusCode::OK);
        assert_eq!(directory.headers()[header::CACHE_CONTROL], "no-cache");
        for refused in [
            "//pkg",
            "//pkg/",
            "/.env",
            "/.git/config",
            "/pkg/.hidden",
            "/%2eenv",
            "/pkg//index.html",
        ] {
            let response = get(refused).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{refused}");
            assert!(
                response.headers().get(header::LOCATION).is_none(),
                "{refused}"
            );
        }
    }

    #[test]
    fn gzip_when_accepted() {
        for yes in [
            "gzip",
            "GZIP",
            "deflate, gzip;q=1.0, *;q=0.5",
            "br;q=1, gzip;q=0.001",
            "x-gzip",
            "*",
            "br, *;q=0.1",
        ] {
            assert!(accepts_gzip(yes), "{yes}");
        }
        for no in [
            "",
            "identity",
            "br, deflate",
            "gzip;q=0",
            "gzip; q=0.000",
            "gzip;q=nonsense",
            "*, gzip;q=0",
            "*;q=0",
            "gzipx",
        ] {
            assert!(!accepts_gzip(no), "{no}");
        }
    }

    #[test]
    fn types_by_extension() {
        assert_eq!(
            content_type("pkg/admin/sealdesk_client_bg.wasm"),
            "application/wasm"
        );
        assert_eq!(content_type("js/app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("css/app.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("help.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("LOGO.PNG"), "image/png");
        assert_eq!(content_type("README"), "application/octet-stream");
        assert_eq!(content_type("a.b/c"), "application/octet-stream");
    }

    #[test]
    fn request_paths_to_files() {
        assert_eq!(relative_path("/").as_deref(), Some("index.html"));
        assert_eq!(relative_path("/help.html").as_deref(), Some("help.html"));
        assert_eq!(relative_path("/docs/").as_deref(), Some("docs/index.html"));
        assert_eq!(
            relative_path("/pkg/admin/sealdesk_client_bg.wasm").as_deref(),
            Some("pkg/admin/sealdesk_client_bg.wasm")
        );
        assert_eq!(relative_path("/a%20b.css").as_deref(), Some("a b.css"));
        for bad in [
            "",
            "relative",
            "/..",
            "/../etc/passwd",
            "/pkg/../x",
            "/%2e%2e/x",
            "/a//b",
            "//",
            "/a/./",
            "/./a",
            "/a\\..\\b",
            "/a%5c..%5cb",
            "/a%00",
            "/.env",
            "/.git/config",
            "/pkg/.hidden",
            "/%2egitignore",
            "/%zz",
            "/%e9",
            "/%2",
        ] {
            assert_eq!(relative_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn etags() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }
}
