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
    /// The instance, e.g. https://help.example.org or http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// Allow plain http:// to another machine.
    #[command(flatten)]
    pub transport: TransportArgs,
    /// Subject (at most 200 characters).
    #[arg(long)]
    pub subject: String,
    /// The message (other local users can see arguments: prefer --message-file).
    #[arg(
        long,
        value_name = "TEXT",
        required_unless_present = "message_file",
        conflicts_with = "message_file"
    )]
    pub message: Option<String>,
    /// Read the message from this file, or from standard input with `-`.
    #[arg(long, value_name = "FILE")]
    pub message_file: Option<PathBuf>,
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

/// Whether plain HTTP may go to another machine.
#[derive(Debug, Args)]
pub struct TransportArgs {
    /// Allow a plain http:// address that is not this machine (127.0.0.1, ::1, localhost):
    /// anyone on the way can read what is sent, the link's secret and sign-in keys included.
    #[arg(long)]
    pub insecure_http: bool,
}

/// A ticket link, and the server when the link is only a path. The link holds the ticket's
/// secret: as an argument, other users of the machine see it (`ps`) and it stays in the
/// shell's history, so it is better read from a file, standard input or `SEALDESK_LINK`.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The private ticket link, https://HOST/help/ticket/ID#SECRET (prefer --link-file or
    /// SEALDESK_LINK).
    #[arg(
        value_name = "LINK",
        env = "SEALDESK_LINK",
        hide_env_values = true,
        required_unless_present = "link_file",
        conflicts_with = "link_file"
    )]
    pub link: Option<String>,
    /// Read the link from this file, or from standard input with `-`.
    #[arg(long, value_name = "FILE")]
    pub link_file: Option<PathBuf>,
    /// The instance, for a link given as a path (/help/ticket/ID#SECRET); by default the
    /// server is the link's.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The file keeping the directory head pinned for this server (default
    /// ~/.config/sealdesk/reporter-HOST-PORT.pin).
    #[arg(long, value_name = "FILE")]
    pub pin_file: Option<PathBuf>,
    /// Allow plain http:// to another machine.
    #[command(flatten)]
    pub transport: TransportArgs,
    /// The file that keeps the ticket's verified state between commands, to detect a server
    /// that rolls the conversation back or forks it (PROTOCOL.md §10.4); by default
    /// ~/.config/sealdesk/tickets/ID.state.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
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
    /// The reply (other local users can see arguments: prefer --message-file).
    #[arg(
        long,
        value_name = "TEXT",
        required_unless_present_any = ["attach", "message_file"],
        conflicts_with = "message_file"
    )]
    pub message: Option<String>,
    /// Read the reply from this file, or from standard input with `-`.
    #[arg(long, value_name = "FILE")]
    pub message_file: Option<PathBuf>,
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
    /// Write to standard output even when it is a terminal (a file's bytes can drive the
    /// terminal: set its title, clear it, print lines that seem to be sealdesk's).
    #[arg(long)]
    pub force: bool,
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
    /// Allow plain http:// to another machine.
    #[command(flatten)]
    pub transport: TransportArgs,
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
    /// The reply (other local users can see arguments: prefer --message-file).
    #[arg(
        long,
        value_name = "TEXT",
        required_unless_present = "message_file",
        conflicts_with = "message_file"
    )]
    pub message: Option<String>,
    /// Read the reply from this file, or from standard input with `-`.
    #[arg(long, value_name = "FILE")]
    pub message_file: Option<PathBuf>,
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
    /// Tickets waiting for the reporter.
    Waiting,
    /// Tickets on hold.
    OnHold,
    /// Open tickets whose last message is not an administrator's.
    Unanswered,
}

/// Inbox assignee filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Assigned {
    /// Assigned to me.
    Me,
    /// Assigned to nobody.
    None,
}

/// The administrator's client commands (`sealdesk admin invite` is the server's).
#[derive(Debug, Subcommand)]
pub enum AdminClientCommand {
    /// Sign in as an administrator and save a keyring file (identity seed, server, username,
    /// pinned directory head), encrypted under a passphrase. Secrets come from
    /// SEALDESK_PASSPHRASE and SEALDESK_PASSWORD, a prompt, or lines on standard input
    /// (passphrase first).
    Login {
        /// The instance, e.g. https://help.example.org or http://127.0.0.1:8080.
        #[arg(long, value_name = "URL")]
        server: String,
        /// Allow plain http:// to another machine.
        #[command(flatten)]
        transport: TransportArgs,
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
        /// Allow plain http:// to another machine.
        #[command(flatten)]
        transport: TransportArgs,
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
        /// Only the tickets assigned to me, or to nobody.
        #[arg(long, value_enum)]
        assigned: Option<Assigned>,
        /// Oldest last activity first (default: newest).
        #[arg(long)]
        oldest: bool,
        /// Continue after the previous listing: the cursor it printed.
        #[arg(long, conflicts_with = "page")]
        cursor: Option<String>,
        /// The page, from 0 (`--cursor` is cheaper and stable while tickets change).
        #[arg(long, default_value_t = 0)]
        page: u64,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Delete a closed ticket with everything the server stores for it (its messages, notes,
    /// key wraps and files). It cannot be undone; backups made before keep it.
    Delete {
        /// The keyring.
        #[command(flatten)]
        keyring: KeyringArgs,
        /// The ticket id (32 hexadecimal characters).
        #[arg(value_name = "ID", value_parser = parse_ticket_id)]
        id: TicketId,
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
        mut_arg("message", |arg| arg.help("The note (other local users can see arguments: prefer --message-file)")),
        mut_arg("message_file", |arg| arg.help("Read the note from this file, or from standard input with `-`")),
        mut_arg("author", |arg| arg.help("Sign the note with this name"))
    )]
    Note(WriteArgs),
    /// Show a ticket's tags (administrators only see them), or change them with --add and
    /// --remove (PROTOCOL.md §14: 1 to 32 of a-z 0-9 - _, at most 20; letters are lowercased).
    Tag {
        /// The keyring.
        #[command(flatten)]
        keyring: KeyringArgs,
        /// The ticket id (32 hexadecimal characters).
        #[arg(value_name = "ID", value_parser = parse_ticket_id)]
        id: TicketId,
        /// Add this tag (repeatable).
        #[arg(long, value_name = "TAG")]
        add: Vec<String>,
        /// Remove this tag (repeatable).
        #[arg(long, value_name = "TAG")]
        remove: Vec<String>,
    },
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
    /// Add a device for the reporter of a ticket (after checking, out of band, that the key
    /// is theirs): posts an endorse message that everyone in the conversation sees and gives
    /// the key the conversation's keys.
    Endorse {
        /// The keyring.
        #[command(flatten)]
        keyring: KeyringArgs,
        /// The ticket id.
        #[arg(value_name = "ID", value_parser = parse_ticket_id)]
        id: TicketId,
        /// The new key: its public identity (64 bytes, base64url).
        #[arg(long, value_name = "PUBLIC_IDENTITY")]
        key: String,
    },
    /// "Resend access link" recoveries: without ACTION, list the pending claims (each
    /// ticket's first message decrypted here to say whether the address typed there is the
    /// address of the request); `approve KEY_ID` endorses the claimed key in the conversation
    /// and lets its browser in; `decline KEY_ID` refuses it.
    Recoveries {
        /// The keyring.
        #[command(flatten)]
        keyring: KeyringArgs,
        /// What to do with one claim.
        #[arg(value_name = "ACTION", value_enum, requires = "key_id")]
        action: Option<RecoveryAction>,
        /// The claimed key id (hexadecimal, at least its first 8 characters, or base64url).
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

/// What `sealdesk admin recoveries` does with one claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RecoveryAction {
    /// Endorse the claimed key and let its browser in.
    Approve,
    /// Refuse the claim.
    Decline,
}

fn parse_ticket_id(text: &str) -> Result<TicketId, String> {
    TicketId::from_hex(text.trim())
        .map_err(|_| "a ticket id is 32 hexadecimal characters".to_owned())
}
