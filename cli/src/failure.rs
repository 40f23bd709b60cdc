//! Why a command failed ([`Failure`]: a stable code, a sentence, an exit status), and how it is
//! reported on standard error ([`report`]).

use std::fmt;
use std::process::ExitCode;

use sealdesk_client::ClientError;

use crate::render;

/// Why a command failed: a stable code, a sentence, and whether it is a usage or
/// configuration error (exit status 2) rather than a failure (1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Stable machine-readable code (`sealdesk-client`'s, or this crate's `input.*`,
    /// `config.*`, `keyring.*`, `file.*`).
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// Exit with status 2 instead of 1.
    pub usage: bool,
}

impl Failure {
    /// A failure (exit status 1).
    pub(crate) fn new(code: &str, message: impl Into<String>) -> Self {
        Failure {
            code: code.to_owned(),
            message: message.into(),
            usage: false,
        }
    }

    /// A usage or configuration error (exit status 2).
    pub(crate) fn usage(code: &str, message: impl Into<String>) -> Self {
        Failure {
            usage: true,
            ..Failure::new(code, message)
        }
    }

    /// The exit status.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(if self.usage { 2 } else { 1 })
    }

    /// Whether the failure means that what the server sent did not verify (a tampering server
    /// or network), which is shown with a warning.
    pub fn is_verification(&self) -> bool {
        const PREFIXES: [&str; 4] = ["transcript.", "directory.", "wrap.", "endorsement."];
        const CODES: [&str; 11] = [
            "link.wrong_reporter",
            "bad_signature",
            "decryption_failed",
            "bad_response",
            "malformed",
            "attachment.truncated",
            "attachment.trailing_data",
            "attachment.bad_reference",
            "account.identity_mismatch",
            "account.bad_keyring",
            "keyring.identity_changed",
        ];
        (PREFIXES.iter().any(|p| self.code.starts_with(p)) && self.code != "directory.empty")
            || CODES.contains(&self.code.as_str())
    }
}

impl From<sealdesk_crypto::Error> for Failure {
    fn from(error: sealdesk_crypto::Error) -> Self {
        Failure::from(ClientError::from(error))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Self {
        if error.code == "network" {
            return Failure::new(
                "network",
                format!("Cannot reach the server: {}.", error.message),
            );
        }
        Failure::new(&error.code, error.message)
    }
}

/// Prints a failure as `error: <sentence> (<code>)` (after a warning for a verification
/// failure) and returns the exit status.
pub(crate) fn report(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if failure.is_verification() {
                eprintln!(
                    "warning: what the server sent does not verify: it or the network may have \
                     altered it. Nothing unverified was shown or used."
                );
            }
            eprintln!("error: {}", render::clean_line(&failure.to_string()));
            failure.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_print_their_code_and_pick_their_status() {
        let failure = Failure::from(ClientError::new("link.mismatch", "The link is damaged."));
        assert_eq!(failure.to_string(), "The link is damaged. (link.mismatch)");
        assert_eq!(failure.exit_code(), ExitCode::from(1));
        assert!(!failure.is_verification());
        assert_eq!(
            Failure::usage("input.x", "Bad.").exit_code(),
            ExitCode::from(2)
        );
        for code in [
            "transcript.bad_signature",
            "directory.rollback",
            "wrap.missing",
            "attachment.truncated",
            "link.wrong_reporter",
        ] {
            assert!(Failure::new(code, "x").is_verification(), "{code}");
        }
        for code in ["directory.empty", "server.not_found", "network"] {
            assert!(!Failure::new(code, "x").is_verification(), "{code}");
        }
    }
}
