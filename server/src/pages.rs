//! The web front end's pages: which HTML file of the web folder answers which path.
//!
//! | path | file |
//! |---|---|
//! | `/help`, `/help/` | `help.html` (the support tab of account holders) |
//! | `/help/ticket/new` | `ticket-new.html` (a new anonymous ticket) |
//! | `/help/recover` | `recover.html` ("resend access link": ask for a recovery mail, or claim with its link) |
//! | `/help/ticket/{id}` (32 hexadecimal characters) | `ticket.html` (the conversation; its secret is in the fragment, which the browser never sends) |
//! | `/admin`, `/admin/`, `/admin/invite` | `admin.html` (the panel; the invite token is in the fragment) |
//! | `/help/unsubscribe/{token}` (base64url) | `unsubscribe.html` (posts the token at once, offers a retry) |
//!
//! [`rewrite`] changes the request's path to the file's before the web folder's service (the
//! router's fallback: files on disk, or embedded ones) answers it, so the pages need no route of
//! their own and every other path is served (or refused) as before. Wire it after the fallback:
//!
//! ```ignore
//! router = router.layer(axum::middleware::map_request(pages::rewrite));
//! ```

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::Response;

/// The file (relative to the web folder, with a leading `/`) that answers `path`, if `path` is
/// one of the pages'.
pub fn page_file(path: &str) -> Option<&'static str> {
    match path {
        "/help" | "/help/" => Some("/help.html"),
        "/help/ticket/new" | "/help/ticket/new/" => Some("/ticket-new.html"),
        "/help/recover" | "/help/recover/" => Some("/recover.html"),
        "/admin" | "/admin/" | "/admin/invite" | "/admin/invite/" => Some("/admin.html"),
        _ => {
            if let Some(token) = path.strip_prefix("/help/unsubscribe/") {
                let token = token.strip_suffix('/').unwrap_or(token);
                let ok = !token.is_empty()
                    && token.len() <= 64
                    && token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                return ok.then_some("/unsubscribe.html");
            }
            let id = path.strip_prefix("/help/ticket/")?;
            let id = id.strip_suffix('/').unwrap_or(id);
            (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some("/ticket.html")
        }
    }
}

/// Whether `path` is the support tab's page (`/help`, `/help/`, or its file `/help.html`): the
/// one page the `embed_origins` option lets host origins frame.
pub fn is_support_tab(path: &str) -> bool {
    path == "/help.html" || page_file(path) == Some("/help.html")
}

/// Lets the listed host origins frame the support tab (option `embed_origins`): on the
/// answer to [`is_support_tab`]'s paths only, puts `policy` (the crate root's `support_tab_policy`) in
/// place of the Content-Security-Policy and drops `X-Frame-Options: DENY`, which has no
/// allow-list (browsers follow `frame-ancestors` where both are present). Every other answer
/// keeps `frame-ancestors 'none'`. For `axum::middleware::from_fn_with_state`, outside the
/// layers that set the security headers.
pub async fn allow_framing_of_support_tab(
    State(policy): State<HeaderValue>,
    request: Request,
    next: Next,
) -> Response {
    let support_tab = is_support_tab(request.uri().path());
    let mut response = next.run(request).await;
    if support_tab {
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        headers.remove(header::X_FRAME_OPTIONS);
    }
    response
}

/// Points a request for a page (see [`page_file`]) at its HTML file; leaves every other request
/// as it is. For `axum::middleware::map_request`.
pub async fn rewrite(mut request: Request) -> Request {
    if let Some(file) = page_file(request.uri().path()) {
        let mut parts = request.uri().clone().into_parts();
        parts.path_and_query = Some(axum::http::uri::PathAndQuery::from_static(file));
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::page_file;

    #[test]
    fn maps_the_pages() {
        assert_eq!(page_file("/help"), Some("/help.html"));
        assert_eq!(page_file("/help/"), Some("/help.html"));
        assert_eq!(page_file("/help/ticket/new"), Some("/ticket-new.html"));
        assert_eq!(page_file("/help/recover"), Some("/recover.html"));
        assert_eq!(
            page_file("/help/ticket/0123456789abcdef0123456789ABCDEF"),
            Some("/ticket.html")
        );
        assert_eq!(page_file("/admin"), Some("/admin.html"));
        assert_eq!(page_file("/admin/invite"), Some("/admin.html"));
        assert_eq!(
            page_file("/help/unsubscribe/AbC-_09xyz"),
            Some("/unsubscribe.html")
        );
    }

    #[test]
    fn leaves_other_paths() {
        for path in [
            "/",
            "/help.html",
            "/css/app.css",
            "/help/ticket/",
            "/help/ticket/0123",
            "/help/ticket/0123456789abcdef0123456789abcdeg",
            "/help/ticket/0123456789abcdef0123456789abcdef/x",
            "/help/ticket/../admin",
            "/admin/team",
            "/api/v1/settings",
            "/help/unsubscribe/",
            "/help/unsubscribe/a/b",
            "/help/unsubscribe/a.b",
        ] {
            assert_eq!(page_file(path), None, "{path}");
        }
    }
}
