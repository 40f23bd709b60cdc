//! The `sealdesk` binary: the server's commands (`serve`, `admin invite`, `backup`,
//! `restore`, `config check`, from `sealdesk_server::cli`) and the command-line client's
//! (`ticket ...`, `admin login|inbox|show|reply|note|download|approve|remove`, from this
//! crate's library) in one command tree. Only this file knows both.

use std::process::ExitCode;

use clap::Parser;
use sealdesk_cli::{AdminClientCommand, TicketCommand};
use sealdesk_server::cli::{self, Hooks};

/// The whole command line: the server's tree with the client's commands in its slots.
type Cli = cli::Cli<TicketCommand, AdminClientCommand>;

fn main() -> ExitCode {
    cli::run(
        Cli::parse(),
        &Hooks {
            serve: sealdesk_server::serve,
            create_invite: |config| {
                sealdesk_server::api::invites::create_cli_invite(
                    &config.data_dir,
                    config.invite_ttl_seconds,
                )
                .map_err(|e| {
                    format!(
                        "cannot create the invite in {}: {e}",
                        config.data_dir.display()
                    )
                })
            },
            run_ticket: sealdesk_cli::run_ticket,
            run_admin: sealdesk_cli::run_admin,
        },
    )
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;
    use sealdesk_cli::Status;
    use sealdesk_server::cli::{AdminCommand, Command};

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("sealdesk").chain(args.iter().copied()))
    }

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn client_commands_parse_beside_the_servers() {
        let cli = parse(&[
            "ticket",
            "new",
            "--server",
            "http://h",
            "--subject",
            "s",
            "--message",
            "m",
            "--attach",
            "a",
            "--attach",
            "b",
            "--urgent",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::Ticket(TicketCommand::New(args)) if args.attach.len() == 2 && args.urgent
        ));
        assert!(matches!(
            parse(&["admin", "invite"]).unwrap().command,
            Command::Admin(AdminCommand::Invite)
        ));
        assert!(matches!(
            parse(&["admin", "inbox", "--status", "unanswered", "--json"])
                .unwrap()
                .command,
            Command::Admin(AdminCommand::Client(AdminClientCommand::Inbox {
                status: Some(Status::Unanswered),
                json: true,
                page: 0,
                ..
            }))
        ));
        assert!(matches!(
            parse(&["admin", "approve"]).unwrap().command,
            Command::Admin(AdminCommand::Client(AdminClientCommand::Approve {
                key_id: None,
                ..
            }))
        ));
        assert!(parse(&["ticket", "reply", "L", "--attach", "f"]).is_ok());
        for bad in [
            &["ticket", "new"][..],
            &["ticket", "reply", "L"],
            &["admin", "inbox", "--status", "bogus"],
            &["admin", "show", "xyz"],
            &["admin", "reply", "00112233445566778899aabbccddeeff"],
            &["admin", "inbox", "--keyring", "k", "--server", "http://h"],
        ] {
            let error = parse(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}");
        }
    }
}
