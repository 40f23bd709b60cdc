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
//! sealdesk ticket new --server URL --subject S (--message-file FILE|- | --message M)
//!                     [--name N] [--email E] [--category C] [--urgent] [--notify-email E]
//!                     [--attach FILE]...
//! sealdesk ticket show (--link-file FILE|- | LINK | $SEALDESK_LINK) [--json]
//! sealdesk ticket reply LINK... [--message-file FILE|- | --message M] [--attach FILE]...
//! sealdesk ticket close LINK...
//! sealdesk ticket download LINK... --seq N --out FILE [--force]
//!                     [--pin-file FILE]          (every ticket command)
//! sealdesk admin setup --server URL --invite LINK|TOKEN --username U [--keyring FILE]
//! sealdesk admin login --server URL --username U [--keyring FILE]
//! sealdesk admin inbox [--status open|closed|waiting|on_hold|unanswered] [--assigned me|none] [--oldest] [--cursor C | --page N] [--json]
//! sealdesk admin show ID [--json]
//! sealdesk admin reply ID (--message-file FILE|- | --message M) [--as NAME]
//! sealdesk admin note ID (--message-file FILE|- | --message M) [--as NAME]
//! sealdesk admin approve [KEY_ID]
//! sealdesk admin remove [KEY_ID]
//! sealdesk admin download ID --seq N --out FILE [--force]
//! ```
//!
//! Every command that reaches a server takes `--insecure-http`: without it, `http://` goes only
//! to this machine (127.0.0.0/8, `::1`, `localhost`; `config.insecure_http` otherwise), and
//! `https://` is the way to another (rustls). `--out -` refuses a terminal without `--force`.
//!
//! Exit status: 0 on success; 1 when the command fails, with one line
//! `error: <sentence> (<code>)` on standard error (the codes are `sealdesk-client`'s, e.g.
//! `link.mismatch`, `transcript.bad_signature`, `server.not_found`), preceded by a `warning:`
//! line when what the server sent did not verify; 2 for a usage or configuration error
//! (clap's own usage errors included).

mod admin;
mod args;
mod clock;
mod failure;
mod files;
mod keyring;
mod pins;
mod render;
mod reporter;
mod secrets;
mod server;
mod state;

use std::future::Future;
use std::process::ExitCode;

pub use args::{
    AdminClientCommand, DownloadArgs, KeyringArgs, LinkArgs, NewArgs, ReplyArgs, SaveArgs,
    ShowArgs, Status, TicketCommand, TransportArgs, WriteArgs,
};
pub use failure::Failure;
use failure::report;

/// Runs `sealdesk ticket ...` and returns the exit status.
pub fn run_ticket(command: TicketCommand) -> ExitCode {
    report(block_on(reporter::run(command)))
}

/// Runs an administrator's client command and returns the exit status.
pub fn run_admin(command: AdminClientCommand) -> ExitCode {
    report(block_on(admin::run(command)))
}

/// Runs the client on a single-threaded runtime.
fn block_on<F: Future<Output = Result<(), Failure>>>(future: F) -> Result<(), Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new("runtime", format!("Cannot start the async runtime: {e}.")))?
        .block_on(future)
}
