//! The client's command-line arguments: `sealdesk ticket ...` ([`TicketCommand`]) and the
//! administrator's client commands ([`AdminClientCommand`]), which the binary puts into the
//! server's command tree (`sealdesk_server::cli`).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
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
    /// The file that keeps the ticket's verified state between commands, to detect a server
    /// that rolls the conversation back or forks it (PROTOCOL.md §10.4); by default
    /// ~/.config/sealdesk/tickets/ID.state.
    #[arg(long, value_name = "FILE")]
    pub state: Option<std::path::PathBuf>,
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
    /// (every listed ticket, open or closed, moves to new keys the removed administrator
    /// does not get).
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
