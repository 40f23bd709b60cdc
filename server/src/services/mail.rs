//! The mail transport: SMTP through `lettre`, with STARTTLS or implicit TLS over rustls and
//! optional authentication (README.md, "Mail"). It sends one finished mail and says whether a
//! failure is worth retrying; what to send, to whom and when is `crate::mail`'s.
//!
//! `smtp_url` forms (the password never appears in it):
//! - `smtp://[user@]host[:port]`: STARTTLS, required (port 587 by default);
//! - `smtps://[user@]host[:port]`: implicit TLS (RFC 8314, port 465 by default);
//! - `smtp://host:port?tls=none`: no TLS, accepted only for a loopback host (`localhost`,
//!   `127.0.0.0/8`, `::1`), for a relay on the same machine and the tests.

use std::net::IpAddr;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use zeroize::Zeroizing;

/// Seconds one SMTP conversation may take before it counts as a (retryable) failure.
const SMTP_TIMEOUT_SECONDS: u64 = 30;

/// How the connection to the relay is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (RFC 3207); the upgrade is required.
    StartTls,
    /// TLS from the first byte (RFC 8314 §3.3).
    ImplicitTls,
    /// No TLS: loopback relays only.
    None,
}

/// A parsed `smtp_url`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpEndpoint {
    /// Host name or address of the relay.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// STARTTLS, implicit TLS or none.
    pub security: Security,
    /// User name for SMTP AUTH, if any (its password comes from the environment or a file).
    pub username: Option<String>,
}

impl SmtpEndpoint {
    /// Parses an `smtp_url` (see the module documentation).
    ///
    /// # Errors
    /// A sentence naming what is wrong: another scheme, no host, a password inside the URL,
    /// an unknown `tls` value, `tls=none` for a host that is not a loopback address.
    pub fn parse(text: &str) -> Result<SmtpEndpoint, String> {
        let url = url::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
        if url.password().is_some() {
            return Err(
                "must not contain a password: set SEALDESK_SMTP_PASSWORD or \
                        smtp_password_file instead"
                    .to_owned(),
            );
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("has no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let tls = url
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());
        let security = match (url.scheme(), tls.as_deref()) {
            ("smtp", None | Some("required")) => Security::StartTls,
            ("smtps", None) => Security::ImplicitTls,
            ("smtp", Some("none")) => {
                if !is_loopback(&host) {
                    return Err("may use tls=none only with a loopback host".to_owned());
                }
                Security::None
            }
            ("smtp" | "smtps", Some(other)) => {
                return Err(format!(
                    "has an unknown tls={other}: leave it out (STARTTLS, or implicit TLS \
                     with smtps://), or tls=none for a loopback relay"
                ));
            }
            (scheme, _) => {
                return Err(format!(
                    "has the scheme {scheme}:, expected smtp: (STARTTLS) or smtps: (implicit TLS)"
                ));
            }
        };
        let port = url.port().unwrap_or(match security {
            Security::ImplicitTls => 465,
            Security::StartTls | Security::None => 587,
        });
        let username = Some(url.username()).filter(|u| !u.is_empty()).map(|u| {
            url::form_urlencoded::parse(format!("u={u}").as_bytes())
                .next()
                .map_or_else(|| u.to_owned(), |(_, v)| v.into_owned())
        });
        Ok(SmtpEndpoint {
            host,
            port,
            security,
            username,
        })
    }

    /// `smtp://user@host:port (STARTTLS)`: for `sealdesk config check` and logs; no secret.
    pub fn describe(&self) -> String {
        let user = self
            .username
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let security = match self.security {
            Security::StartTls => "STARTTLS required",
            Security::ImplicitTls => "implicit TLS",
            Security::None => "no TLS, loopback",
        };
        format!("{user}{}:{} ({security})", self.host, self.port)
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The mail settings the server runs with (from the `Mail` options; present only when
/// `smtp_url` is set).
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// The transport.
    pub mailer: Mailer,
    /// Sender of every mail (`mail_from`).
    pub from: lettre::message::Mailbox,
    /// Base of every link in a mail, without a trailing slash (`public_url`).
    pub public_url: String,
    /// The instance's name as mails give it (`instance_name`).
    pub instance_name: String,
    /// Least seconds between two reply notifications of one ticket or account.
    pub reply_interval_seconds: u64,
    /// Seconds a closed ticket's address is kept.
    pub closed_retention_seconds: u64,
    /// Seconds between two digests of one administrator.
    pub digest_interval_seconds: u64,
    /// Longest wait between two tries of one mail, in seconds.
    pub retry_max_seconds: u64,
    /// Seconds after queueing when a mail not taken is given up.
    pub give_up_seconds: u64,
}

/// Why a send failed.
#[derive(Debug)]
pub struct SendError {
    /// Whether the relay refused for good (a 5xx answer): retrying will not help.
    pub permanent: bool,
    /// The relay's answer code or the connection's error, for logs; never the relay's answer
    /// text, which may quote the address.
    pub reason: String,
}

/// The SMTP transport (a pool of connections to the relay).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    endpoint: SmtpEndpoint,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mailer({})", self.endpoint.describe())
    }
}

impl Mailer {
    /// A transport to `endpoint`, authenticating with `password` when the endpoint names a
    /// user.
    ///
    /// # Errors
    /// A user without a password, or TLS parameters that cannot be built.
    pub fn new(
        endpoint: SmtpEndpoint,
        password: Option<Zeroizing<String>>,
    ) -> Result<Mailer, String> {
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned()).map_err(|e| format!("TLS setup failed: {e}"))
        };
        let security = match endpoint.security {
            Security::StartTls => Tls::Required(tls(&endpoint.host)?),
            Security::ImplicitTls => Tls::Wrapper(tls(&endpoint.host)?),
            Security::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&endpoint.host)
            .port(endpoint.port)
            .tls(security)
            .timeout(Some(std::time::Duration::from_secs(SMTP_TIMEOUT_SECONDS)));
        match (&endpoint.username, password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), (*password).clone()));
            }
            (Some(_), None) => {
                return Err("smtp_url names a user but no password is set: set \
                            SEALDESK_SMTP_PASSWORD or smtp_password_file"
                    .to_owned());
            }
            (None, _) => {}
        }
        Ok(Mailer {
            transport: builder.build(),
            endpoint,
        })
    }

    /// Where this transport sends (no secret).
    pub fn endpoint(&self) -> &SmtpEndpoint {
        &self.endpoint
    }

    /// Hands `message` to the relay; the envelope is its `From` and `To` headers.
    ///
    /// # Errors
    /// [`SendError`]: permanent for a 5xx answer, otherwise worth retrying later.
    pub async fn send(&self, message: lettre::Message) -> Result<(), SendError> {
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) => {
                // A relay's answer may quote the recipient's address: keep only its code.
                let reason = match error.status() {
                    Some(code) => format!("the relay answered {code}"),
                    None if error.is_timeout() => "the relay did not answer in time".to_owned(),
                    None => error.to_string(),
                };
                Err(SendError {
                    permanent: error.is_permanent(),
                    reason,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_security_and_refuse_passwords() {
        let e = SmtpEndpoint::parse("smtp://relay.example.org").unwrap();
        assert_eq!((e.port, e.security), (587, Security::StartTls));
        let e = SmtpEndpoint::parse("smtps://me%40x@relay.example.org").unwrap();
        assert_eq!((e.port, e.security), (465, Security::ImplicitTls));
        assert_eq!(e.username.as_deref(), Some("me@x"));
        let e = SmtpEndpoint::parse("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!((e.port, e.security), (2525, Security::None));
        assert!(SmtpEndpoint::parse("smtp://[::1]:25?tls=none").is_ok());
        assert!(
            SmtpEndpoint::parse("smtp://u:secret@relay.example.org")
                .unwrap_err()
                .contains("password")
        );
        assert!(SmtpEndpoint::parse("smtp://relay.example.org?tls=none").is_err());
        assert!(SmtpEndpoint::parse("http://relay.example.org").is_err());
        assert!(SmtpEndpoint::parse("smtp://relay.example.org?tls=maybe").is_err());
    }

    #[test]
    fn a_user_needs_a_password() {
        let e = SmtpEndpoint::parse("smtp://me@relay.example.org").unwrap();
        assert!(Mailer::new(e.clone(), None).is_err());
        assert!(Mailer::new(e, Some(Zeroizing::new("pw".to_owned()))).is_ok());
    }

    #[test]
    fn tls_parameters_build_with_the_ring_provider() {
        // rustls has one provider compiled in (ring): both TLS modes find it and the
        // platform verifier accepts it.
        for url in ["smtp://relay.example.org", "smtps://relay.example.org"] {
            let endpoint = SmtpEndpoint::parse(url).unwrap();
            assert!(Mailer::new(endpoint, None).is_ok(), "{url}");
        }
    }
}
