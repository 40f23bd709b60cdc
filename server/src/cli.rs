//! The `sealdesk` command line.
//!
//! ```text
//! sealdesk serve                 [--config PATH]
//! sealdesk admin invite          [--config PATH]
//! sealdesk backup FILE           [--config PATH]
//! sealdesk restore FILE [--force] [--config PATH]
//! sealdesk config check          [--config PATH]
//! sealdesk mail test ADDRESS     [--config PATH]
//!
//! sealdesk ticket new|show|reply|close|download ...          (the command-line client)
//! sealdesk admin login|inbox|show|reply|note|approve|remove|download ...
//! ```
//!
//! This module holds the whole command tree and runs the server's commands. The client's
//! commands are the crate `sealdesk-cli`'s: they fill the two slots `T` (`sealdesk ticket
//! ...`) and `A` (`sealdesk admin ...` beside `invite`) of [`Cli<T, A>`], and [`Hooks`] runs
//! them, so this crate does not depend on the client. `sealdesk-cli`'s binary composes the
//! two.
//!
//! `--config` (or `SEALDESK_CONFIG`) is accepted before or after any subcommand; the client's
//! commands ignore it and neither read the configuration nor log.
//!
//! Exit status: 0 on success, 1 when the command fails, 2 for a usage or configuration
//! error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::backup;
use crate::config::Config;
use crate::logging;

/// Path of the web page that redeems an administrator invite; the token follows in the URL
/// fragment, which browsers never send to the server.
pub const INVITE_PATH: &str = "/admin/invite";

/// Sealdesk: an end-to-end encrypted support desk. The server stores only ciphertext.
// (The doc comment is the help's text.) `T` is the client's `sealdesk ticket ...` subcommands,
// `A` the administrator's client subcommands beside `sealdesk admin invite`: sealdesk-cli's.
#[derive(Debug, Parser)]
#[command(name = "sealdesk", version, propagate_version = true)]
pub struct Cli<T: Subcommand, A: Subcommand> {
    /// Configuration file (TOML); without it, the defaults and SEALDESK_* environment
    /// variables apply.
    #[arg(long, global = true, value_name = "PATH", env = "SEALDESK_CONFIG")]
    pub config: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command<T, A>,
}

/// The subcommands, with the client's in the slots `T` and `A` (see [`Cli`]).
#[derive(Debug, Subcommand)]
pub enum Command<T: Subcommand, A: Subcommand> {
    /// Run the server.
    Serve,
    /// Administration: invites on the server machine, and the administrator's client.
    #[command(subcommand)]
    Admin(AdminCommand<A>),
    /// An anonymous ticket from the command line: open one, read, reply, close, download.
    #[command(subcommand)]
    Ticket(T),
    /// Write a backup of the database to FILE (stop the server first).
    Backup {
        /// The backup file to write (replaced if it exists).
        file: PathBuf,
    },
    /// Restore the database from a backup FILE (stop the server first).
    Restore {
        /// The backup file to read.
        file: PathBuf,
        /// Restore even if the data directory is not empty; its current content is moved to
        /// DATA_DIR.before-restore-UNIXTIME.
        #[arg(long)]
        force: bool,
    },
    /// Configuration tasks.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Mail: send a test mail through the configured relay.
    #[command(subcommand)]
    Mail(MailCommand),
}

/// `sealdesk mail ...`.
#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Sends a test mail to ADDRESS through `smtp_url` and reports the relay's answer.
    Test {
        /// The recipient.
        address: String,
    },
}

/// `sealdesk admin ...`: `invite`, then the administrator's client commands `A`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand<A: Subcommand> {
    /// Create a one-time administrator invite and print its URL (works while the server
    /// runs). Send it to the new administrator over a private channel.
    Invite,
    /// The administrator's client commands.
    #[command(flatten)]
    Client(A),
}

/// `sealdesk config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every option with its effective value and where it came from, then validate.
    Check,
}

/// What the command line needs from the rest of the server, and the client's commands (`T`
/// and `A` as in [`Cli`]).
pub struct Hooks<T, A> {
    /// Runs the server with a validated configuration until it shuts down (logging is
    /// already installed).
    pub serve: fn(Config) -> Result<(), String>,
    /// Creates a one-time administrator invite valid for `invite_ttl_seconds` and returns its
    /// token (base64url), which is printed inside a URL and never stored.
    pub create_invite: fn(&Config) -> Result<String, String>,
    /// Runs a `sealdesk ticket ...` command (without configuration or logging) and returns
    /// the exit status: 0, 1 when it failed, 2 for a usage error.
    pub run_ticket: fn(T) -> ExitCode,
    /// Runs an administrator's client command, as `run_ticket`.
    pub run_admin: fn(A) -> ExitCode,
}

/// The URL printed by `sealdesk admin invite`: `{public_url}/admin/invite#{token}`.
pub fn invite_url(config: &Config, token: &str) -> String {
    format!("{}{INVITE_PATH}#{token}", config.public_url())
}

/// Runs a parsed command line and returns the process exit status.
pub fn run<T: Subcommand, A: Subcommand>(cli: Cli<T, A>, hooks: &Hooks<T, A>) -> ExitCode {
    let path = cli.config.as_deref();
    let command = match cli.command {
        Command::Ticket(command) => return (hooks.run_ticket)(command),
        Command::Admin(AdminCommand::Client(command)) => return (hooks.run_admin)(command),
        command => command,
    };
    if let Command::Config(ConfigCommand::Check) = command {
        let config = match Config::read(path) {
            Ok(config) => config,
            Err(error) => return config_error(&error),
        };
        print!("{}", config.effective_table());
        println!("{}", config.mail_report());
        return match config.validate() {
            Ok(()) => {
                match crate::directory::stored_instance_fingerprint(&config.data_dir) {
                    Ok(Some(fingerprint)) => println!("instance fingerprint: {fingerprint}"),
                    Ok(None) => println!("instance fingerprint: none yet (no administrator)"),
                    Err(error) => println!("instance fingerprint: unknown ({error})"),
                }
                println!("configuration is valid");
                ExitCode::SUCCESS
            }
            Err(error) => config_error(&error),
        };
    }

    let config = match Config::load(path) {
        Ok(config) => config,
        Err(error) => return config_error(&error),
    };
    if let Err(error) = logging::init(&config) {
        // Only possible if a logger is already installed (the filter was validated).
        eprintln!("warning: {error}");
    }
    match execute(command, config, hooks) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command other than `config check` with a loaded configuration (logging installed).
fn execute<T: Subcommand, A: Subcommand>(
    command: Command<T, A>,
    config: Config,
    hooks: &Hooks<T, A>,
) -> Result<(), String> {
    match command {
        Command::Serve => {
            tracing::info!(
                listen = %config.listen,
                data_dir = %config.data_dir.display(),
                public_url = %config.public_url(),
                "starting sealdesk {}",
                env!("CARGO_PKG_VERSION")
            );
            (hooks.serve)(config)
        }
        Command::Admin(AdminCommand::Invite) => (hooks.create_invite)(&config).map(|token| {
            println!("{}", invite_url(&config, &token));
            let ttl = i64::try_from(config.invite_ttl_seconds).unwrap_or(i64::MAX);
            eprintln!(
                "This link adds one administrator and expires after invite_ttl_seconds = {}. \
                 Send it over a private channel: whoever opens it first becomes an administrator.",
                crate::config::with_unit(ttl, "seconds")
            );
        }),
        Command::Backup { file } => backup::backup(&config.data_dir, &file)
            .map(|summary| println!("wrote {}: {summary}", file.display()))
            .map_err(|e| e.to_string()),
        Command::Restore { file, force } => backup::restore(&file, &config.data_dir, force)
            .map(|restored| {
                println!(
                    "restored {} into {}: {}",
                    file.display(),
                    config.data_dir.display(),
                    restored.summary
                );
                if let Some(previous) = restored.previous {
                    println!("the previous data directory is now {}", previous.display());
                }
            })
            .map_err(|e| e.to_string()),
        Command::Config(ConfigCommand::Check) => Ok(()),
        Command::Mail(MailCommand::Test { address }) => send_test_mail(&config, &address),
        // The client's commands need no configuration; `run` hands them over before loading it.
        Command::Ticket(_) | Command::Admin(AdminCommand::Client(_)) => {
            Err("the client's commands run through cli::run".to_owned())
        }
    }
}

/// `sealdesk mail test ADDRESS`: one mail with no content through the configured relay.
fn send_test_mail(config: &Config, address: &str) -> Result<(), String> {
    let settings = config
        .mail_settings()?
        .ok_or("mail is off: set smtp_url (and mail_from, public_url) first")?;
    let to: lettre::message::Mailbox = address
        .trim()
        .parse()
        .map_err(|_| format!("{address:?} is not an email address"))?;
    let message = lettre::Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(format!("{}: test mail", settings.instance_name))
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(format!(
            "This is a test mail from {} ({}), sent by `sealdesk mail test`.\n",
            settings.instance_name, settings.public_url
        ))
        .map_err(|e| format!("cannot build the test mail: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime
        .block_on(settings.mailer.send(message))
        .map_err(|e| format!("the relay did not take the test mail: {}", e.reason))?;
    println!(
        "test mail handed to {}",
        settings.mailer.endpoint().describe()
    );
    Ok(())
}

fn config_error(error: &crate::config::ConfigError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::CommandFactory;

    use super::*;

    /// Stand-ins for the client's `sealdesk ticket ...` commands (sealdesk-cli's).
    #[derive(Debug, Subcommand)]
    enum TicketStub {
        /// A ticket command.
        New,
    }

    /// Stand-ins for the administrator's client commands (sealdesk-cli's).
    #[derive(Debug, Subcommand)]
    enum AdminStub {
        /// An administrator's client command.
        Login,
    }

    type TestCli = Cli<TicketStub, AdminStub>;

    fn parse(args: &[&str]) -> Result<TestCli, clap::Error> {
        TestCli::try_parse_from(std::iter::once("sealdesk").chain(args.iter().copied()))
    }

    #[test]
    fn definition_is_consistent() {
        TestCli::command().debug_assert();
    }

    #[test]
    fn config_is_global() {
        let cli = parse(&["serve", "--config", "a.toml"]).unwrap();
        assert_eq!(cli.config, Some(PathBuf::from("a.toml")));
        assert!(matches!(cli.command, Command::Serve));
        let cli = parse(&["--config", "b.toml", "admin", "invite"]).unwrap();
        assert_eq!(cli.config, Some(PathBuf::from("b.toml")));
        assert!(matches!(cli.command, Command::Admin(AdminCommand::Invite)));
        let cli = parse(&["config", "check", "--config", "c.toml"]).unwrap();
        assert_eq!(cli.config, Some(PathBuf::from("c.toml")));
        assert!(matches!(cli.command, Command::Config(ConfigCommand::Check)));
    }

    #[test]
    fn backup_and_restore_take_a_file() {
        let cli = parse(&["backup", "out.bak"]).unwrap();
        assert!(matches!(cli.command, Command::Backup { file } if file == Path::new("out.bak")));
        let cli = parse(&["restore", "in.bak", "--force", "--config", "x.toml"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Restore { file, force: true } if file == Path::new("in.bak")
        ));
        let cli = parse(&["restore", "in.bak"]).unwrap();
        assert!(matches!(cli.command, Command::Restore { force: false, .. }));
        assert!(parse(&["backup"]).is_err());
        assert!(parse(&["restore"]).is_err());
        assert!(parse(&["admin"]).is_err());
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn client_commands_fill_their_slots_and_run_through_the_hooks() {
        assert!(matches!(
            parse(&["ticket", "new"]).unwrap().command,
            Command::Ticket(TicketStub::New)
        ));
        assert!(matches!(
            parse(&["admin", "login"]).unwrap().command,
            Command::Admin(AdminCommand::Client(AdminStub::Login))
        ));
        assert!(matches!(
            parse(&["admin", "invite"]).unwrap().command,
            Command::Admin(AdminCommand::Invite)
        ));
        // The client's commands neither read the configuration nor need it to be valid.
        let missing = ["--config", "/nonexistent/sealdesk.toml"];
        let cli = parse(&[&["ticket", "new"][..], &missing].concat()).unwrap();
        assert_eq!(run(cli, &HOOKS), ExitCode::from(7));
        let cli = parse(&[&["admin", "login"][..], &missing].concat()).unwrap();
        assert_eq!(run(cli, &HOOKS), ExitCode::from(8));
    }

    #[test]
    fn invite_url_uses_the_public_url_and_a_fragment() {
        let mut config = Config::default();
        assert_eq!(
            invite_url(&config, "abc"),
            "http://127.0.0.1:8080/admin/invite#abc"
        );
        config.public_url = Some("https://help.example.org/".to_owned());
        assert_eq!(
            invite_url(&config, "abc"),
            "https://help.example.org/admin/invite#abc"
        );
    }

    fn no_serve(_: Config) -> Result<(), String> {
        Err("not in tests".to_owned())
    }

    fn fixed_invite(_: &Config) -> Result<String, String> {
        Ok("token".to_owned())
    }

    fn ticket_status(_: TicketStub) -> ExitCode {
        ExitCode::from(7)
    }

    fn admin_status(_: AdminStub) -> ExitCode {
        ExitCode::from(8)
    }

    const HOOKS: Hooks<TicketStub, AdminStub> = Hooks {
        serve: no_serve,
        create_invite: fixed_invite,
        run_ticket: ticket_status,
        run_admin: admin_status,
    };

    #[test]
    fn config_check_reports_errors_with_status_2() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sealdesk.toml");
        std::fs::write(&path, "max_anonymous_body_bytes = 0\n").unwrap();
        let cli = parse(&["config", "check", "--config", path.to_str().unwrap()]).unwrap();
        assert_eq!(run(cli, &HOOKS), ExitCode::from(2));
        std::fs::write(&path, "bogus = 1\n").unwrap();
        let cli = parse(&["backup", "x", "--config", path.to_str().unwrap()]).unwrap();
        assert_eq!(run(cli, &HOOKS), ExitCode::from(2));
        std::fs::write(&path, "max_anonymous_body_bytes = 1\n").unwrap();
        let cli = parse(&["config", "check", "--config", path.to_str().unwrap()]).unwrap();
        assert_eq!(run(cli, &HOOKS), ExitCode::SUCCESS);
    }

    /// Through [`execute`], which is [`run`] without installing the global logger (that
    /// would leak log lines into every other test of the crate).
    #[test]
    fn backup_and_restore_run_through_the_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let db = sled::open(&data).unwrap();
        db.open_tree("tickets")
            .unwrap()
            .insert(b"k", b"v".as_slice())
            .unwrap();
        db.flush().unwrap();
        drop(db);
        let config = Config {
            data_dir: data.clone(),
            ..Config::default()
        };
        let file = dir.path().join("b.bak");
        let exec = |args: &[&str]| execute(parse(args).unwrap().command, config.clone(), &HOOKS);

        exec(&["backup", file.to_str().unwrap()]).unwrap();
        let error = exec(&["restore", file.to_str().unwrap()]).unwrap_err();
        assert!(error.contains("is not empty"), "{error}");
        exec(&["restore", file.to_str().unwrap(), "--force"]).unwrap();
        let db = sled::open(&data).unwrap();
        assert_eq!(
            db.open_tree("tickets").unwrap().get(b"k").unwrap().unwrap(),
            b"v".as_slice()
        );
        drop(db);
        exec(&["admin", "invite"]).unwrap();
        assert_eq!(exec(&["serve"]).unwrap_err(), "not in tests");
    }
}
