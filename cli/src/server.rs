//! An instance's address as the client uses it ([`Server`]).

use crate::failure::Failure;
use crate::render;

/// An instance's address as the client uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Server {
    /// `https://host[:port][/prefix]` or `http://...`, without a trailing slash.
    pub(crate) base: String,
    /// `host[-port]` in characters safe for a file name (the default keyring's name).
    pub(crate) label: String,
    /// Whether the address is `https://`.
    pub(crate) tls: bool,
    /// The host, lowercase, without brackets or port.
    pub(crate) host: String,
}

impl Server {
    /// Parses `https://host[:port][/prefix]`, or `http://` to a loopback address
    /// (127.0.0.0/8, `::1`, `localhost`); any other `http://` address only with
    /// `insecure_http` (the `--insecure-http` flag): over plain HTTP anyone on the path reads
    /// the `auth_key` of a sign-in, which gives a lasting administrator session.
    ///
    /// # Errors
    /// A usage error: `input.server_url` for anything but such an address,
    /// `config.insecure_http` for plain HTTP to another host without `insecure_http`.
    pub(crate) fn parse(url: &str, insecure_http: bool) -> Result<Server, Failure> {
        let server = Server::parse_address(url)?;
        if !server.tls && !insecure_http && !is_loopback(&server.host) {
            return Err(Failure::usage(
                "config.insecure_http",
                format!(
                    "{} is plain HTTP to another machine: anyone on the way could read the \
                     link's secret or a sign-in key. Use https://, an SSH tunnel to \
                     http://127.0.0.1, or --insecure-http if the network is yours.",
                    render::clean_line(url.trim())
                ),
            ));
        }
        Ok(server)
    }

    /// Parses `http[s]://host[:port][/prefix]` without the plain-HTTP policy of
    /// [`Server::parse`] (for a keyring's file name, which sends nothing).
    ///
    /// # Errors
    /// `input.server_url` (a usage error) for anything else.
    pub(crate) fn parse_address(url: &str) -> Result<Server, Failure> {
        let url = url.trim();
        let bad = || {
            Failure::usage(
                "input.server_url",
                format!(
                    "{:?} is not a server address like https://help.example.org or \
                     http://127.0.0.1:8080.",
                    render::clean_line(url)
                ),
            )
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let tls = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return Err(bad());
        };
        let rest = rest.trim_end_matches('/');
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty()
            || rest.contains(['?', '#', '@', ' ', '\\'])
            || rest.chars().any(char::is_control)
        {
            return Err(bad());
        }
        let host = host_of(authority).ok_or_else(bad)?;
        let label = authority
            .to_ascii_lowercase()
            .chars()
            .map(|c| match c {
                'a'..='z' | '0'..='9' | '.' | '-' | '_' => c,
                _ => '-',
            })
            .collect();
        let scheme = if tls { "https" } else { "http" };
        Ok(Server {
            base: format!("{scheme}://{rest}"),
            label,
            tls,
            host: host.to_ascii_lowercase(),
        })
    }
}

/// The host of `host[:port]` or `[v6][:port]`, without brackets; `None` if malformed.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest.split_once(']')?;
            (
                host,
                after
                    .strip_prefix(':')
                    .or((after.is_empty()).then_some(""))?,
            )
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, port),
            None => (authority, ""),
        },
    };
    let port_ok = port.is_empty() || (port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()));
    (!host.is_empty() && port_ok).then_some(host)
}

/// Whether `host` is this machine: 127.0.0.0/8, `::1` or `localhost`.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        let server = Server::parse(" http://127.0.0.1:8080/ ", false).unwrap();
        assert_eq!(server.base, "http://127.0.0.1:8080");
        assert_eq!(server.label, "127.0.0.1-8080");
        let server = Server::parse("HTTPS://Help.Example.org/desk", false).unwrap();
        assert_eq!(server.base, "https://Help.Example.org/desk");
        assert_eq!(server.label, "help.example.org");
        assert!(server.tls);
        for bad in [
            "",
            "127.0.0.1:8080",
            "http://",
            "http:///x",
            "http://a@b",
            "http://h/x#y",
            "ftp://h",
            "https://h:port",
            "http://[::1",
        ] {
            let error = Server::parse(bad, true).unwrap_err();
            assert_eq!(error.code, "input.server_url", "{bad}");
            assert!(error.usage);
        }
    }

    /// Plain HTTP goes to this machine only, unless `--insecure-http`.
    #[test]
    fn plain_http_only_to_loopback() {
        for local in [
            "http://127.0.0.1:8080",
            "http://127.8.9.10",
            "http://[::1]:8080/desk",
            "http://localhost:8080",
            "http://LOCALHOST",
        ] {
            assert!(Server::parse(local, false).is_ok(), "{local}");
        }
        for remote in [
            "http://help.example.org",
            "http://192.168.1.5:8080",
            "http://[::ffff:127.0.0.1]",
            "http://localhost.example.org",
            "http://127.0.0.1.example.org",
        ] {
            let error = Server::parse(remote, false).unwrap_err();
            assert_eq!(error.code, "config.insecure_http", "{remote}");
            assert!(error.usage, "{remote}");
            assert!(Server::parse(remote, true).is_ok(), "{remote}");
        }
        assert!(Server::parse("https://help.example.org", false).is_ok());
        assert!(Server::parse_address("http://help.example.org").is_ok());
    }
}
