//! An instance's address as the client uses it ([`Server`]).

use crate::failure::Failure;
use crate::render;

/// An instance's address as the client uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Server {
    /// `http://host[:port][/prefix]`, without a trailing slash.
    pub(crate) base: String,
    /// `host[-port]` in characters safe for a file name (the default keyring's name).
    pub(crate) label: String,
}

impl Server {
    /// Parses `http://host[:port][/prefix]`.
    ///
    /// # Errors
    /// A usage error for anything else, including `https://`: this build has no TLS library
    /// (`config.https_unsupported`).
    pub(crate) fn parse(url: &str) -> Result<Server, Failure> {
        let url = url.trim();
        if url
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        {
            return Err(Failure::usage(
                "config.https_unsupported",
                "This build of sealdesk speaks plain HTTP only (no TLS library is built in): \
                 use an http:// address, on the server machine or through an SSH tunnel.",
            ));
        }
        let bad = || {
            Failure::usage(
                "input.server_url",
                format!(
                    "{:?} is not a server address like http://127.0.0.1:8080.",
                    render::clean_line(url)
                ),
            )
        };
        let rest = match url.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("http://") => &url[7..],
            _ => return Err(bad()),
        };
        let rest = rest.trim_end_matches('/');
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty()
            || rest.contains(['?', '#', '@', ' '])
            || rest.chars().any(char::is_control)
        {
            return Err(bad());
        }
        let label = authority
            .to_ascii_lowercase()
            .chars()
            .map(|c| match c {
                'a'..='z' | '0'..='9' | '.' | '-' | '_' => c,
                _ => '-',
            })
            .collect();
        Ok(Server {
            base: format!("http://{rest}"),
            label,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        let server = Server::parse(" http://127.0.0.1:8080/ ").unwrap();
        assert_eq!(server.base, "http://127.0.0.1:8080");
        assert_eq!(server.label, "127.0.0.1-8080");
        let server = Server::parse("HTTP://Help.Example.org/desk").unwrap();
        assert_eq!(server.base, "http://Help.Example.org/desk");
        assert_eq!(server.label, "help.example.org");
        let https = Server::parse("https://help.example.org").unwrap_err();
        assert_eq!(https.code, "config.https_unsupported");
        assert!(https.usage);
        for bad in [
            "",
            "127.0.0.1:8080",
            "http://",
            "http:///x",
            "http://a@b",
            "http://h/x#y",
            "ftp://h",
        ] {
            let error = Server::parse(bad).unwrap_err();
            assert_eq!(error.code, "input.server_url", "{bad}");
            assert!(error.usage);
        }
    }
}
