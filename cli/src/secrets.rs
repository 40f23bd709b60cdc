//! Passwords and passphrases: from an environment variable, else a prompt on the terminal
//! without echo (through `stty`, so no dependency and no unsafe code), else one line of
//! standard input when it is not a terminal (scripts; several secrets are read as successive
//! lines, the keyring passphrase first).

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::{Command, Stdio};

use sealdesk_crypto::Zeroizing;

use crate::failure::Failure;

/// The environment variable of the keyring passphrase.
pub(crate) const PASSPHRASE_ENV: &str = "SEALDESK_PASSPHRASE";
/// The environment variable of the account password.
pub(crate) const PASSWORD_ENV: &str = "SEALDESK_PASSWORD";

/// Reads a secret: `env` if set, else a prompt (`prompt`, asked twice when `confirm`) on a
/// terminal, else a line of standard input. The secret is returned in Unicode NFC, as
/// PROTOCOL.md §12.1 requires and as the browser does, so the same password typed in a
/// decomposed form derives the same keys everywhere.
///
/// # Errors
/// Usage errors: an empty or non-UTF-8 secret, none on standard input, two different entries,
/// or a terminal whose echo cannot be turned off.
pub(crate) fn read(env: &str, prompt: &str, confirm: bool) -> Result<Zeroizing<String>, Failure> {
    let empty = || Failure::usage("input.empty_secret", format!("{prompt} is empty."));
    match std::env::var(env) {
        Ok(value) if value.is_empty() => return Err(empty()),
        Ok(value) => return Ok(nfc(&Zeroizing::new(value))),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(Failure::usage(
                "input.secret_encoding",
                format!("{env} is not UTF-8."),
            ));
        }
        Err(std::env::VarError::NotPresent) => {}
    }
    let secret = if std::io::stdin().is_terminal() {
        let first = prompt_hidden(&format!("{prompt}: "))?;
        if confirm {
            let again = prompt_hidden(&format!("{prompt} (again): "))?;
            if *again != *first {
                return Err(Failure::usage(
                    "input.secret_mismatch",
                    "The two entries differ.",
                ));
            }
        }
        first
    } else {
        read_line()?.ok_or_else(|| {
            Failure::usage(
                "input.no_secret",
                format!("{prompt} is needed: set {env}, or give it as a line on standard input."),
            )
        })?
    };
    if secret.is_empty() {
        return Err(empty());
    }
    Ok(nfc(&secret))
}

/// The NFC form of a secret (the input is wiped by its own `Zeroizing` on drop).
fn nfc(secret: &Zeroizing<String>) -> Zeroizing<String> {
    use unicode_normalization::UnicodeNormalization;
    Zeroizing::new(secret.nfc().collect())
}

/// One line of standard input without its line ending; `None` at its end.
fn read_line() -> Result<Option<Zeroizing<String>>, Failure> {
    let mut line = Zeroizing::new(String::new());
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::usage("input.stdin", format!("Cannot read standard input: {e}.")))?;
    if read == 0 {
        return Ok(None);
    }
    let len = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(len);
    Ok(Some(line))
}

fn stty(setting: &str) -> bool {
    Command::new("stty")
        .arg(setting)
        .stdin(Stdio::inherit())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Asks on standard error and reads a line from the terminal with echo off.
fn prompt_hidden(prompt: &str) -> Result<Zeroizing<String>, Failure> {
    if !stty("-echo") {
        return Err(Failure::usage(
            "input.no_echo",
            "Cannot turn off the terminal's echo to ask for a secret: set SEALDESK_PASSPHRASE \
             and SEALDESK_PASSWORD, or write them on standard input.",
        ));
    }
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let line = read_line();
    stty("echo");
    eprintln!();
    line?.ok_or_else(|| Failure::usage("input.no_secret", "No input."))
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_normalised_to_nfc() {
        let decomposed = zeroize::Zeroizing::new("cafe\u{301} \u{2615}".to_owned());
        assert_eq!(super::nfc(&decomposed).as_str(), "caf\u{e9} \u{2615}");
    }
}

/// Text given as an argument or read from `file` (`-`: standard input, to its end). A
/// secret or a message as an argument is visible to other local users (`ps`,
/// `/proc/PID/cmdline`) and stays in the shell's history; a file or a pipe is not.
/// Trailing line ends are dropped (an editor's or `echo`'s last newline).
///
/// # Errors
/// Usage errors: `input.read` when the file or standard input cannot be read or is not UTF-8,
/// `input.empty` when neither is given (clap normally refuses that first).
pub(crate) fn text_or_file(
    text: Option<&str>,
    file: Option<&std::path::Path>,
    what: &str,
) -> Result<Zeroizing<String>, Failure> {
    use std::io::Read as _;

    let read = match (text, file) {
        (Some(text), _) => return Ok(Zeroizing::new(text.to_owned())),
        (None, None) => {
            return Err(Failure::usage(
                "input.empty",
                format!("No {what} was given."),
            ));
        }
        (None, Some(path)) if path == std::path::Path::new("-") => {
            let mut text = Zeroizing::new(String::new());
            std::io::stdin()
                .read_to_string(&mut text)
                .map(|_| text)
                .map_err(|e| (String::from("standard input"), e))
        }
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(Zeroizing::new)
            .map_err(|e| (path.display().to_string(), e)),
    };
    let mut text = read.map_err(|(from, e)| {
        Failure::usage(
            "input.read",
            format!("Cannot read the {what} from {from}: {e}."),
        )
    })?;
    let kept = text.trim_end_matches(['\n', '\r']).len();
    text.truncate(kept);
    Ok(text)
}

#[cfg(test)]
mod input_tests {
    use super::*;

    #[test]
    fn text_from_an_argument_or_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("link");
        std::fs::write(&file, "http://127.0.0.1/help/ticket/x#secret\r\n\n").unwrap();
        assert_eq!(
            text_or_file(None, Some(&file), "link").unwrap().as_str(),
            "http://127.0.0.1/help/ticket/x#secret"
        );
        assert_eq!(
            text_or_file(Some("given\n"), None, "link")
                .unwrap()
                .as_str(),
            "given\n"
        );
        let missing = text_or_file(None, Some(&dir.path().join("none")), "link").unwrap_err();
        assert_eq!(missing.code, "input.read");
        assert!(missing.usage);
        assert_eq!(
            text_or_file(None, None, "link").unwrap_err().code,
            "input.empty"
        );
    }
}
