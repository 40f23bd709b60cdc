//! `sealdesk ticket ...`: the anonymous reporter, through `sealdesk-client`'s
//! `ReporterTicket`. The link's secret stays on this machine; the server address comes from
//! the link. The directory is verified on every command and must extend the head kept in the
//! server's pin file (`pins`) and the head the link carries, if any (PROTOCOL.md §7.4).

use std::io::Write as _;
use std::path::Path;

use sealdesk_client::attachments::{download_to_vec, reporter_bearer};
use sealdesk_client::content::Content;
use sealdesk_client::reporter::{Opening, ReporterTicket, TicketLink};
use sealdesk_client::transport::NativeTransport;
use sealdesk_client::wasm::ticket_view;
use sealdesk_crypto::{Directory, system_rng};

use crate::args::{DownloadArgs, LinkArgs, NewArgs, ReplyArgs, ShowArgs, TicketCommand};
use crate::clock::now;
use crate::failure::Failure;
use crate::files::{self, Attachment};
use crate::pins;
use crate::render::{self, Viewer};
use crate::secrets;
use crate::server::Server;
use crate::state;

/// Runs a `ticket` command.
pub(crate) async fn run(command: TicketCommand) -> Result<(), Failure> {
    match command {
        TicketCommand::New(args) => new(args).await,
        TicketCommand::Show(args) => show(args).await,
        TicketCommand::Reply(args) => reply(args).await,
        TicketCommand::Close(args) => close(args).await,
        TicketCommand::Download(args) => download(args).await,
    }
}

fn required(value: &str, what: &str) -> Result<(), Failure> {
    if value.trim().is_empty() {
        return Err(Failure::usage(
            "input.empty",
            format!("The {what} is empty."),
        ));
    }
    Ok(())
}

fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

async fn new(args: NewArgs) -> Result<(), Failure> {
    let server = Server::parse(&args.server, args.transport.insecure_http)?;
    required(&args.subject, "subject")?;
    let message = secrets::text_or_file(
        args.message.as_deref(),
        args.message_file.as_deref(),
        "message",
    )?;
    required(&message, "message")?;
    let attachments = files::check_attachments(&args.attach)?;
    let opening = Opening {
        subject: args.subject,
        text: message.as_str().to_owned(),
        category: present(args.category),
        name: present(args.name),
        email: present(args.email),
        urgent: args.urgent,
        notify_email: present(args.notify_email),
        debug: None,
    };
    let transport = NativeTransport::new(&server.base);
    let directory =
        pins::verified_directory(&transport, &server, args.pin_file.as_deref(), None).await?;
    let mut rng = system_rng();
    let mut ticket =
        ReporterTicket::create(&transport, &directory, opening, now(), &mut rng).await?;
    // The link first, whatever happens to the attachments: it is the only way back.
    println!("{}{}", server.base, ticket.link().path());
    let _ = std::io::stdout().flush();
    eprintln!(
        "Ticket created. Keep this link private: it is the only way back to the ticket, and \
         whoever has it can read and answer it."
    );
    if let Err(failure) = attach(&transport, &directory, &mut ticket, &attachments, &mut rng).await
    {
        eprintln!("note: the ticket exists; its link is above.");
        return Err(failure);
    }
    if let Err(not_kept) = keep(None, &ticket) {
        eprintln!("warning: {not_kept}");
    }
    Ok(())
}

/// Uploads and posts each attachment; returns the name and message number of each.
async fn attach(
    transport: &NativeTransport,
    directory: &Directory,
    ticket: &mut ReporterTicket,
    attachments: &[Attachment],
    rng: &mut impl sealdesk_crypto::CryptoRng,
) -> Result<Vec<(String, u64)>, Failure> {
    let mut posted = Vec::new();
    if attachments.is_empty() {
        return Ok(posted);
    }
    let bearer = reporter_bearer(ticket.link())?;
    let id = ticket.link().ticket_id();
    for attachment in attachments {
        let reference = files::upload(transport, &bearer, id, attachment, now(), rng).await?;
        let name = render::clean_line(&reference.name);
        ticket
            .send(transport, directory, Content::AttachmentRef(reference), rng)
            .await?;
        posted.push((name, ticket.conversation().last_seq()));
    }
    Ok(posted)
}

/// Parses the link, then opens the ticket on the link's server (or `--server`), verifying
/// the directory and the whole conversation.
async fn open(args: &LinkArgs) -> Result<(NativeTransport, Directory, ReporterTicket), Failure> {
    let text = secrets::text_or_file(args.link.as_deref(), args.link_file.as_deref(), "link")?;
    let text = text.trim();
    let link = TicketLink::parse(text)?;
    let insecure_http = args.transport.insecure_http;
    let server = match &args.server {
        Some(url) => Server::parse(url, insecure_http)?,
        None => match text.split_once("/help/ticket/") {
            Some((base, _)) if !base.is_empty() => Server::parse(base, insecure_http)?,
            _ => {
                return Err(Failure::usage(
                    "input.link_server",
                    "This link has no server address: give the whole link or --server URL.",
                ));
            }
        },
    };
    let transport = NativeTransport::new(&server.base);
    let directory =
        pins::verified_directory(&transport, &server, args.pin_file.as_deref(), link.head())
            .await?;
    // From the state kept on the last command (PROTOCOL.md §10.4), kept again once verified.
    let kept_at = state::reporter_path(args.state.as_deref(), link.ticket_id());
    let kept = match &kept_at {
        Some(path) => state::load_reporter(path, link.ticket_id())?,
        None => None,
    };
    let ticket =
        ReporterTicket::open_with_state(&transport, &directory, link, kept.as_deref()).await?;
    keep(args.state.as_deref(), &ticket)?;
    Ok((transport, directory, ticket))
}

/// Refuses the link and the message both from standard input (one stream cannot hold both).
fn one_standard_input(link: &LinkArgs, message_file: Option<&Path>) -> Result<(), Failure> {
    let stdin = Path::new("-");
    if link.link_file.as_deref() == Some(stdin) && message_file == Some(stdin) {
        return Err(Failure::usage(
            "input.two_stdin",
            "The link and the message cannot both come from standard input: give one of \
             them in a file (or the link in SEALDESK_LINK).",
        ));
    }
    Ok(())
}

/// Keeps the ticket's verified state for the next command (in `chosen`, or the default file).
fn keep(chosen: Option<&Path>, ticket: &ReporterTicket) -> Result<(), Failure> {
    let id = ticket.link().ticket_id();
    match state::reporter_path(chosen, id) {
        Some(path) => state::save_reporter(&path, id, &ticket.state_bytes()),
        None => Ok(()),
    }
}

/// The failure of a shown ticket with `unreadable` messages (their warnings are shown).
pub(crate) fn unreadable(count: usize, first_code: Option<&str>) -> Result<(), Failure> {
    match (count, first_code) {
        (0, _) | (_, None) => Ok(()),
        (1, Some(code)) => Err(Failure::new(
            code,
            "One message verified but could not be read; see the warning in its place.",
        )),
        (n, Some(code)) => Err(Failure::new(
            code,
            format!(
                "{n} messages verified but could not be read; see the warnings in their place."
            ),
        )),
    }
}

fn first_error(messages: &[sealdesk_client::reporter::Shown]) -> Option<&str> {
    messages
        .iter()
        .find_map(|m| m.content.as_ref().err().map(|e| e.code.as_str()))
}

async fn show(args: ShowArgs) -> Result<(), Failure> {
    let (_, _, ticket) = open(&args.link).await?;
    let failed = ticket
        .messages
        .iter()
        .filter(|m| m.content.is_err())
        .count();
    if args.json {
        let view = ticket_view(&ticket);
        render::print_json(&view);
    } else {
        let mut out = format!(
            "Ticket {} · {}\n",
            ticket.link().ticket_id().to_hex(),
            render::status(ticket.status(), Viewer::Reporter)
        );
        if let Some(Ok(Content::Message(first))) = ticket.messages.first().map(|m| &m.content) {
            render::opening(&mut out, first);
        }
        render::messages(&mut out, &ticket.messages, Viewer::Reporter);
        print!("{out}");
    }
    unreadable(failed, first_error(&ticket.messages))
}

async fn reply(args: ReplyArgs) -> Result<(), Failure> {
    one_standard_input(&args.link, args.message_file.as_deref())?;
    let message = match (&args.message, &args.message_file) {
        (None, None) => None,
        (text, file) => Some(secrets::text_or_file(
            text.as_deref(),
            file.as_deref(),
            "message",
        )?),
    };
    if let Some(message) = &message {
        required(message, "message")?;
    }
    let attachments = files::check_attachments(&args.attach)?;
    let (transport, directory, mut ticket) = open(&args.link).await?;
    let mut rng = system_rng();
    if let Some(message) = &message {
        ticket
            .reply(&transport, &directory, message, now(), &mut rng)
            .await?;
        println!("Sent message {}.", ticket.conversation().last_seq());
    }
    let attached = attach(&transport, &directory, &mut ticket, &attachments, &mut rng).await;
    keep(args.link.state.as_deref(), &ticket)?;
    for (name, seq) in attached? {
        println!("Attached {name} as message {seq}.");
    }
    Ok(())
}

async fn close(args: LinkArgs) -> Result<(), Failure> {
    let (transport, directory, mut ticket) = open(&args).await?;
    if ticket.is_closed() {
        println!("The ticket is already closed.");
        return Ok(());
    }
    ticket
        .close(&transport, &directory, now(), &mut system_rng())
        .await?;
    keep(args.state.as_deref(), &ticket)?;
    println!("Closed the ticket.");
    Ok(())
}

async fn download(args: DownloadArgs) -> Result<(), Failure> {
    files::check_output(&args.target)?;
    let (transport, _, ticket) = open(&args.link).await?;
    let reference = attachment_at(&ticket.messages, args.target.seq)?;
    let bearer = reporter_bearer(ticket.link())?;
    let data = download_to_vec(
        &transport,
        &bearer,
        ticket.link().ticket_id(),
        reference,
        |_, _| {},
    )
    .await?;
    files::save(&args.target.out, &data)?;
    saved(reference, &args.target.out);
    Ok(())
}

/// The attachment reference of message `seq`.
pub(crate) fn attachment_at(
    messages: &[sealdesk_client::reporter::Shown],
    seq: u64,
) -> Result<&sealdesk_client::content::AttachmentRef, Failure> {
    let message = messages.iter().find(|m| m.seq == seq).ok_or_else(|| {
        Failure::new(
            "input.no_message",
            format!("The conversation has no message {seq}."),
        )
    })?;
    match &message.content {
        Ok(Content::AttachmentRef(reference)) => Ok(reference),
        Ok(_) => Err(Failure::new(
            "input.not_an_attachment",
            format!("Message {seq} is not an attachment."),
        )),
        Err(error) => Err(Failure::new(
            &error.code,
            format!(
                "Message {seq} verified but cannot be read: {}",
                error.message
            ),
        )),
    }
}

/// Says where a download went (on standard error when the file went to standard output).
pub(crate) fn saved(reference: &sealdesk_client::content::AttachmentRef, out: &std::path::Path) {
    let name = render::clean_line(&reference.name);
    let size = render::size(reference.size);
    if out == std::path::Path::new("-") {
        eprintln!("Wrote {name} ({size}) to standard output.");
    } else {
        println!("Saved {name} ({size}) to {}.", out.display());
    }
}
