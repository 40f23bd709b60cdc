//! The host origins that may frame the support tab (option `embed_origins`, spec/API.md
//! "Embedding the support tab"): exact origins, `https://host[:port]`, or `http://` for a
//! loopback host only. They become the support tab's `frame-ancestors` and are published in
//! the instance settings, where the support tab reads which origins it takes `postMessage`
//! messages from.

use std::net::IpAddr;

/// Most origins the option lists.
pub const MAX_EMBED_ORIGINS: usize = 20;

/// The origins allowed to frame the support tab, in the order given, without duplicates.
/// Empty (the default): no page may frame it (`frame-ancestors 'none'`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmbedOrigins(Vec<String>);

impl EmbedOrigins {
    /// Parses `"https://app.example.org, https://example.com:8443"`: comma-separated
    /// origins; an empty string is the empty list. Each is an ASCII origin as browsers
    /// serialise it (RFC 6454 §6.2): `https://` then a lower-case host name or IP literal
    /// (IPv6 in brackets) and an optional port from 1 to 65535, no path, query, fragment or
    /// user info. `http://` is accepted only for `localhost`, `127.0.0.0/8` and `[::1]`, where
    /// no network sits between the browser and the host.
    ///
    /// # Errors
    /// A sentence naming the entry that is not such an origin, or saying there are more than
    /// [`MAX_EMBED_ORIGINS`].
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut origins: Vec<String> = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            check_origin(entry).map_err(|why| {
                format!(
                    "expected origins such as \"https://app.example.org\" or \
                     \"http://127.0.0.1:3000\" separated by commas: {entry:?} {why}"
                )
            })?;
            if !origins.iter().any(|o| o == entry) {
                origins.push(entry.to_owned());
            }
        }
        if origins.len() > MAX_EMBED_ORIGINS {
            return Err(format!(
                "at most {MAX_EMBED_ORIGINS} origins may frame the support tab"
            ));
        }
        Ok(EmbedOrigins(origins))
    }

    /// Whether no origin may frame the support tab.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The origins, as given.
    pub fn origins(&self) -> &[String] {
        &self.0
    }

    /// The value of the `frame-ancestors` directive (CSP Level 3 §6.4.2): the origins
    /// separated by spaces, or `'none'` when there is none.
    pub fn frame_ancestors(&self) -> String {
        if self.0.is_empty() {
            "'none'".to_owned()
        } else {
            self.0.join(" ")
        }
    }
}

impl std::fmt::Display for EmbedOrigins {
    /// The origins, comma-separated.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}

/// Why `origin` is not an accepted origin (see [`EmbedOrigins::parse`]).
fn check_origin(origin: &str) -> Result<(), &'static str> {
    let (secure, rest) = if let Some(rest) = origin.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = origin.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err("does not start with https:// (or http:// for a loopback host)");
    };
    if rest.contains(['/', '?', '#', '@', '*']) || rest.chars().any(char::is_whitespace) {
        return Err("is not an origin: no path, query, fragment, user or wildcard");
    }
    let (host, port) = split_host_port(rest)?;
    if let Some(port) = port {
        let valid = !port.starts_with('0') && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err("has a port that is not a number from 1 to 65535");
        }
    }
    let loopback = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        match v6.parse::<IpAddr>() {
            Ok(address) => address.is_loopback(),
            Err(_) => return Err("has a bracketed host that is not an IPv6 address"),
        }
    } else if let Ok(address) = host.parse::<IpAddr>() {
        address.is_loopback()
    } else {
        let valid = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            });
        if !valid {
            return Err("has a host that is not a lower-case host name (punycode for others)");
        }
        host == "localhost"
    };
    if !secure && !loopback {
        return Err("uses http://, which is accepted only for a loopback host");
    }
    Ok(())
}

/// `host[:port]` split into the host (IPv6 with its brackets) and the port's text.
fn split_host_port(rest: &str) -> Result<(&str, Option<&str>), &'static str> {
    if rest.starts_with('[') {
        let end = rest.find(']').ok_or("has an unclosed [ in its host")?;
        let (host, after) = rest.split_at(end + 1);
        return match after.strip_prefix(':') {
            Some(port) => Ok((host, Some(port))),
            None if after.is_empty() => Ok((host, None)),
            None => Err("has text after its IPv6 host"),
        };
    }
    Ok(match rest.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn accepts_exact_origins() {
        let parsed = EmbedOrigins::parse(
            " https://app.example.org, https://example.com:8443,http://127.0.0.1:3000, \
             http://localhost:8081, http://[::1]:9000, https://[2001:db8::1], \
             https://app.example.org",
        )
        .unwrap();
        assert_eq!(
            parsed.origins(),
            [
                "https://app.example.org",
                "https://example.com:8443",
                "http://127.0.0.1:3000",
                "http://localhost:8081",
                "http://[::1]:9000",
                "https://[2001:db8::1]",
            ]
        );
        assert_eq!(
            parsed.frame_ancestors(),
            "https://app.example.org https://example.com:8443 http://127.0.0.1:3000 \
             http://localhost:8081 http://[::1]:9000 https://[2001:db8::1]"
        );
    }

    #[test]
    fn empty_means_none() {
        let parsed = EmbedOrigins::parse(" , ").unwrap();
        assert!(parsed.is_empty());
        assert_eq!(parsed.frame_ancestors(), "'none'");
    }

    #[test]
    fn refuses_what_is_not_an_exact_origin() {
        for bad in [
            "app.example.org",
            "https://",
            "https://app.example.org/",
            "https://app.example.org/help",
            "https://app.example.org?x",
            "https://app.example.org#x",
            "https://user@app.example.org",
            "https://*.example.org",
            "https://App.Example.org",
            "https://app.example.org:0",
            "https://app.example.org:65536",
            "https://app.example.org:080",
            "https://app.example.org:x",
            "https://-app.example.org",
            "https://[not-v6]",
            "https://[::1",
            "https://[::1]x",
            "ftp://app.example.org",
            "'self'",
            "*",
            "http://app.example.org",
            "http://10.0.0.1:8080",
            "http://[2001:db8::1]",
            "https://app.example.org https://b.example.org",
        ] {
            assert!(EmbedOrigins::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn caps_the_list() {
        let many: Vec<String> = (1..=MAX_EMBED_ORIGINS + 1)
            .map(|i| format!("https://host{i}.example.org"))
            .collect();
        assert!(EmbedOrigins::parse(&many.join(",")).is_err());
        assert!(EmbedOrigins::parse(&many[..MAX_EMBED_ORIGINS].join(",")).is_ok());
    }
}
