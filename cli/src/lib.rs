//! # sealdesk-cli
//!
//! The command-line client: `sealdesk ticket ...` (an anonymous reporter) and the
//! administrator's `sealdesk admin setup|login|inbox|show|reply|note|approve|remove|download`.
//! The `sealdesk` binary (src/main.rs) puts these commands into the server's command tree
//! (`sealdesk_server::cli`) as [`TicketCommand`] and [`AdminClientCommand`], and runs them
//! with [`run_ticket`] and [`run_admin`].
//!
//! All protocol logic is `sealdesk-client`'s (the same code the browser runs as WebAssembly):
//! signing in, the directory and every message verified before anything is shown, everything
//! encrypted before it is sent, attachments uploaded with their retries. This crate adds the
//! command line: arguments, the administrator's keyring file (`keyring`), secrets from the
//! environment or a prompt (`secrets`), files (`files`), and output for people (`render`) or
//! scripts (`--json`, the browser's JSON views).
//!
//! ```text
//! sealdesk ticket new --server URL --subject S --message M [--name N] [--email E]
//!                     [--category C] [--urgent] [--notify-email E] [--attach FILE]...
//!                     [--pin-file FILE]          (also for show, reply, close, download)
//! sealdesk ticket show LINK [--json]
//! sealdesk ticket reply LINK [--message M] [--attach FILE]...
//! sealdesk ticket close LINK
//! sealdesk ticket download LINK --seq N --out FILE
//! sealdesk admin setup --server URL --invite LINK|TOKEN --username U [--keyring FILE]
//! sealdesk admin login --server URL --username U [--keyring FILE]
//! sealdesk admin inbox [--status open|closed|unanswered] [--page N] [--json]
//! sealdesk admin show ID [--json]
//! sealdesk admin reply ID --message M [--as NAME]
//! sealdesk admin note ID --message M [--as NAME]
//! sealdesk admin approve [KEY_ID]
//! sealdesk admin remove [KEY_ID]
//! sealdesk admin download ID --seq N --out FILE
//! ```
//!
//! Exit status: 0 on success; 1 when the command fails, with one line
//! `error: <sentence> (<code>)` on standard error (the codes are `sealdesk-client`'s, e.g.
//! `link.mismatch`, `transcript.bad_signature`, `server.not_found`), preceded by a `warning:`
//! line when what the server sent did not verify; 2 for a usage or configuration error
//! (clap's own usage errors included).

mod admin;
mod files;
mod keyring;
mod pins;
mod render;
mod reporter;
mod secrets;

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use sealdesk_client::ClientError;
use sealdesk_crypto::TicketId;

/// `sealdesk ticket ...`: an anonymous ticket, reached through its private link.
#[derive(Debug, Subcommand)]
pub enum TicketCommand {
    /// Open an anonymous ticket and print its private link, and nothing else, on standard
    /// output. Keep the link: it is the only way back to the ticket.
    New(NewArgs),
    /// Show the verified conversation: who wrote what and when, and the attachments.
    Show(ShowArgs),
    /// Reply, with a message, attachments or both.
    Reply(ReplyArgs),
    /// Close the ticket.
    Close(LinkArgs),
    /// Save an attachment (message --seq N) to a file, once the whole file has verified.
    Download(DownloadArgs),
}

/// `sealdesk ticket new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The instance, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// Subject (at most 200 characters).
    #[arg(long)]
    pub subject: String,
    /// The message.
    #[arg(long, value_name = "TEXT")]
    pub message: String,
    /// Your name (sent encrypted).
    #[arg(long)]
    pub name: Option<String>,
    /// An email address to show the administrators (sent encrypted).
    #[arg(long)]
    pub email: Option<String>,
    /// Category.
    #[arg(long)]
    pub category: Option<String>,
    /// Mark the ticket urgent.
    #[arg(long)]
    pub urgent: bool,
    /// Address for "resend access link" (the server keeps only a keyed hash of it).
    #[arg(long, value_name = "EMAIL")]
    pub notify_email: Option<String>,
    /// A file to attach (encrypted before upload); may be repeated.
    #[arg(long, value_name = "FILE")]
    pub attach: Vec<PathBuf>,
    /// The file keeping the directory head pinned for this server (default
    /// ~/.config/sealdesk/reporter-HOST-PORT.pin).
    #[arg(long, value_name = "FILE")]
    pub pin_file: Option<PathBuf>,
}

/// A ticket link, and the server when the link is only a path.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The private ticket link, http://HOST/help/ticket/ID#SECRET (quote it in the shell).
    #[arg(value_name = "LINK")]
    pub link: String,
    /// The instance, for a link given as a path (/help/ticket/ID#SECRET); by default the
    /// server is the link's.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The file keeping the directory head pinned for this server (default
    /// ~/.config/sealdesk/reporter-HOST-PORT.pin).
    #[arg(long, value_name = "FILE")]
    pub pin_file: Option<PathBuf>,
}

/// `sealdesk ticket show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The ticket.
    #[command(flatten)]
    pub link: LinkArgs,
    /// Print the ticket as JSON (the browser's view) instead.
    #[arg(long)]
    pub json: bool,
}

/// `sealdesk ticket reply`.
#[derive(Debug, Args)]
pub struct ReplyArgs {
    /// The ticket.
    #[command(flatten)]
    pub link: LinkArgs,
    /// The reply.
    #[arg(long, value_name = "TEXT", required_unless_present = "attach")]
    pub message: Option<String>,
    /// A file to attach (after the message); may be repeated.
    #[arg(long, value_name = "FILE")]
    pub attach: Vec<PathBuf>,
}

/// `sealdesk ticket download`.
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The ticket.
    #[command(flatten)]
    pub link: LinkArgs,
    /// The attachment and the file.
    #[command(flatten)]
    pub target: SaveArgs,
}

/// Which attachment to save, and where.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// The attachment's message number, as `show` lists it.
    #[arg(long, value_name = "N")]
    pub seq: u64,
    /// Where to save it (replaced if it exists; `-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Where the administrator's keyring is.
#[derive(Debug, Args)]
pub struct KeyringArgs {
    /// The keyring file written by `sealdesk admin login` (default: the only
    /// ~/.config/sealdesk/admin-*.keyring, or the one of --server).
    #[arg(long, value_name = "FILE", env = "SEALDESK_KEYRING")]
    pub keyring: Option<PathBuf>,
    /// Use the default keyring of this instance.
    #[arg(long, value_name = "URL", conflicts_with = "keyring")]
    pub server: Option<String>,
}

/// `sealdesk admin reply` and `sealdesk admin note` (whose help says "note" instead).
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// The keyring.
    #[command(flatten)]
    pub keyring: KeyringArgs,
    /// The ticket id.
    #[arg(value_name = "ID", value_parser = parse_ticket_id)]
    pub id: TicketId,
    /// The reply.
    #[arg(long, value_name = "TEXT")]
    pub message: String,
    /// Sign the reply with this name instead of "the support team".
    #[arg(long = "as", value_name = "NAME")]
    pub author: Option<String>,
}

/// Inbox filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Status {
    /// Open tickets.
    Open,
    /// Closed tickets.
    Closed,
    /// Open tickets whose last message is not an administrator's.
    Unanswered,
}

/// The administrator's client commands (`sealdesk admin invite` is the server's).
#[derive(Debug, Subcommand)]
pub enum AdminClientCommand {
    /// Sign in as an administrator and save a keyring file (identity seed, server, username,
    /// pinned directory head), encrypted under a passphrase. Secrets come from
    /// SEALDESK_PASSPHRASE and SEALDESK_PASSWORD, a prompt, or lines on standard input
    /// (passphrase first).
    Login {
        /// The instance, e.g. http://127.0.0.1:8080.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The administrator's account.
        #[arg(long)]
        username: String,
        /// Where to save the keyring (default ~/.config/sealdesk/admin-HOST.keyring).
        #[arg(long, value_name = "FILE", env = "SEALDESK_KEYRING")]
        keyring: Option<PathBuf>,
    },
    /// Become the first administrator from a shell (PROTOCOL.md §7.5): register an account
    /// with a new identity, redeem the first-administrator invite printed by `sealdesk serve`
    /// or `sealdesk admin invite` with the genesis entry, check the verified directory and
    /// save the keyring file as `login` does. Secrets come from SEALDESK_PASSPHRASE and
    /// SEALDESK_PASSWORD, prompts (asked twice), or lines on standard input (passphrase first).
    Setup {
        /// The instance, e.g. http://127.0.0.1:8080.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The invite: the link `.../admin/invite#TOKEN` or the token alone.
        #[arg(long, value_name = "LINK|TOKEN", env = "SEALDESK_INVITE")]
        invite: String,
        /// The new account's username.
        #[arg(long)]
        username: String,
        /// Where to save the keyring (default ~/.config/sealdesk/admin-HOST.keyring).
        #[arg(long, value_name = "FILE", env = "SEALDESK_KEYRING")]
        keyring: Option<PathBuf>,
    },
    /// List tickets with their verified, decrypted subjects, newest activity first (50 a page).
    Inbox {
        /// The keyring.
        #[command(flatten)]
        keyring: KeyringArgs,
        /// Only these tickets.
        #[arg(long, value_enum)]
        status: Option<Status>,
        /// The page, from 0.
        #[arg(long, default_value_t = 0)]
        page: u64,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Show a ticket: the verified conversation, debug data, attachments and internal notes.
    Show {
        /// The keyring.
        #[command(flatten)]
        keyring: KeyringArgs,
        /// The ticket id (32 hexadecimal characters).
        #[arg(value_name = "ID", value_parser = parse_ticket_id)]
        id: TicketId,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Reply to the reporter, as "the support team" or, with --as, by name.
    Reply(WriteArgs),
    /// Write an internal note, readable by administrators only.
    // Reply's arguments, described as a note's (without a final period, as clap shows a
    // one-sentence doc comment).
    #[command(
        mut_arg("message", |arg| arg.help("The note")),
        mut_arg("author", |arg| arg.help("Sign the note with this name"))
    )]
    Note(WriteArgs),
    /// Without KEY_ID, list the accounts waiting to become administrators, with their
    /// fingerprints; with it, approve one (after comparing its fingerprint with the person)
    /// and share the ticket history with it.
    Approve {
        /// The keyring.
        #[command(flatten)]
        keyring: KeyringArgs,
        /// The key id (hexadecimal, at least its first 8 characters, or base64url).
        #[arg(value_name = "KEY_ID")]
        key_id: Option<String>,
    },
    /// Without KEY_ID, list the administrators with their fingerprints; with it, remove one
    /// (open tickets move to new keys the removed administrator does not get).
    Remove {
        /// The keyring.
        #[command(flatten)]
        keyring: KeyringArgs,
        /// The key id (hexadecimal, at least its first 8 characters, or base64url).
        #[arg(value_name = "KEY_ID")]
        key_id: Option<String>,
    },
    /// Save an attachment of a ticket to a file, once the whole file has verified.
    Download {
        /// The keyring.
        #[command(flatten)]
        keyring: KeyringArgs,
        /// The ticket id.
        #[arg(value_name = "ID", value_parser = parse_ticket_id)]
        id: TicketId,
        /// The attachment and the file.
        #[command(flatten)]
        target: SaveArgs,
    },
}

fn parse_ticket_id(text: &str) -> Result<TicketId, String> {
    TicketId::from_hex(text.trim())
        .map_err(|_| "a ticket id is 32 hexadecimal characters".to_owned())
}

/// Runs `sealdesk ticket ...` and returns the exit status.
pub fn run_ticket(command: TicketCommand) -> ExitCode {
    report(block_on(reporter::run(command)))
}

/// Runs an administrator's client command and returns the exit status.
pub fn run_admin(command: AdminClientCommand) -> ExitCode {
    report(block_on(admin::run(command)))
}

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
fn report(result: Result<(), Failure>) -> ExitCode {
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

/// Runs the client on a single-threaded runtime.
fn block_on<F: Future<Output = Result<(), Failure>>>(future: F) -> Result<(), Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new("runtime", format!("Cannot start the async runtime: {e}.")))?
        .block_on(future)
}

/// Unix seconds now (the senders' `sent_at` claims).
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

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
