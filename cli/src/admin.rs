//! `sealdesk admin login|inbox|show|reply|note|tag|approve|remove|download|endorse|recoveries`:
//! an administrator, through `sealdesk-client`'s `Admin`.
//!
//! `login` signs in with the account password, opens the account's keyring (Argon2id with
//! at least [`Argon2Params::DEFAULT`]: a server cannot talk this client into a weaker
//! derivation), checks that its identity is an administrator of the verified directory and
//! saves the identity seed, server, username and directory head in a local keyring file
//! ([`super::keyring`]). Every other command opens that file with its passphrase, signs in
//! again with the account password, checks that the account's identity is still the one in
//! the file, verifies that the directory extends the pinned head (a server that rolls it back
//! or forks it is refused), runs, saves the new head and ends its session.

use std::path::{Path, PathBuf};

use sealdesk_client::ClientError;
use sealdesk_client::account::Account;
use sealdesk_client::admin::{
    Admin, AdminTicket, History, InboxAssigned, InboxFilter, InboxOptions, ListOrder,
};
use sealdesk_client::attachments::download_to_vec;
use sealdesk_client::content::{Content, Outgoing, TagSet, normalise_tags};
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::recovery::PendingClaim;
use sealdesk_client::transport::NativeTransport;
use sealdesk_client::wasm::{StatusName, content_view, current_tags, error_view, message_view};
use sealdesk_crypto::{
    Argon2Params, DirectoryHead, Identity, KeyId, PUBLIC_IDENTITY_LEN, PublicIdentity, TicketId,
    Zeroizing, system_rng,
};
use sealdesk_wire::b64;
use serde_json::{Value, json};

use crate::args::{
    AdminClientCommand, Assigned, KeyringArgs, RecoveryAction, SaveArgs, Status, WriteArgs,
};
use crate::clock::now;
use crate::failure::Failure;
use crate::files;
use crate::keyring::{self, AdminKeyring, Profile};
use crate::render::{self, Viewer};
use crate::reporter::{attachment_at, saved, unreadable};
use crate::secrets::{self, PASSPHRASE_ENV, PASSWORD_ENV};
use crate::server::Server;
use crate::state;

/// Runs an administrator's client command.
pub(crate) async fn run(command: AdminClientCommand) -> Result<(), Failure> {
    match command {
        AdminClientCommand::Login {
            server,
            transport,
            username,
            keyring,
        } => login(&server, transport.insecure_http, &username, keyring).await,
        AdminClientCommand::Setup {
            server,
            transport,
            invite,
            username,
            keyring,
        } => {
            setup(
                &server,
                transport.insecure_http,
                &invite,
                &username,
                keyring,
            )
            .await
        }
        AdminClientCommand::Inbox {
            keyring,
            status,
            assigned,
            oldest,
            cursor,
            page,
            json,
        } => {
            let options = InboxOptions {
                status: status.map(|s| match s {
                    Status::Open => InboxFilter::Open,
                    Status::Closed => InboxFilter::Closed,
                    Status::Waiting => InboxFilter::Waiting,
                    Status::OnHold => InboxFilter::OnHold,
                    Status::Unanswered => InboxFilter::Unanswered,
                }),
                assigned: assigned.map(|a| match a {
                    Assigned::Me => InboxAssigned::Me,
                    Assigned::None => InboxAssigned::None,
                }),
                order: if oldest {
                    ListOrder::Oldest
                } else {
                    ListOrder::Newest
                },
                cursor,
                page,
            };
            with_session(&keyring, async |s| inbox(s, &options, json).await).await
        }
        AdminClientCommand::Delete { keyring, id } => {
            with_session(&keyring, async |s| delete(s, id).await).await
        }
        AdminClientCommand::Show { keyring, id, json } => {
            with_session(&keyring, async |s| show(s, id, json).await).await
        }
        AdminClientCommand::Reply(args) => {
            // Read before the session, whose passphrase may come from standard input after it.
            let text = message_text(&args)?;
            with_session(&args.keyring, async |s| write(s, &args, &text, false).await).await
        }
        AdminClientCommand::Note(args) => {
            let text = message_text(&args)?;
            with_session(&args.keyring, async |s| write(s, &args, &text, true).await).await
        }
        AdminClientCommand::Tag {
            keyring,
            id,
            add,
            remove,
        } => with_session(&keyring, async |s| tag(s, id, &add, &remove).await).await,
        AdminClientCommand::Approve { keyring, key_id } => {
            with_session(&keyring, async |s| approve(s, key_id.as_deref()).await).await
        }
        AdminClientCommand::Remove { keyring, key_id } => {
            with_session(&keyring, async |s| remove(s, key_id.as_deref()).await).await
        }
        AdminClientCommand::Download {
            keyring,
            id,
            target,
        } => {
            files::check_output(&target)?;
            with_session(&keyring, async |s| download(s, id, &target).await).await
        }
        AdminClientCommand::Endorse { keyring, id, key } => {
            with_session(&keyring, async |s| endorse(s, id, &key).await).await
        }
        AdminClientCommand::Recoveries {
            keyring,
            action,
            key_id,
        } => {
            with_session(&keyring, async |s| {
                recoveries(s, action.zip(key_id.as_deref())).await
            })
            .await
        }
    }
}

// ---- login ----

/// Reads the account password (SEALDESK_PASSWORD, a prompt or a line of standard input) and
/// signs in to `server` as `username` with `sealdesk-client`'s [`Account::login`]
/// (PROTOCOL.md §12: pre-login, Argon2id here with at least [`Argon2Params::DEFAULT`], login,
/// the account's keyring opened and its identity checked).
async fn sign_in(server: &Server, username: &str) -> Result<(NativeTransport, Account), Failure> {
    let password = secrets::read(
        PASSWORD_ENV,
        &format!("Password of {username} at {}", server.base),
        false,
    )?;
    let transport = NativeTransport::new(&server.base);
    let account = Account::login(&transport, username, &password, Argon2Params::DEFAULT).await?;
    Ok((transport, account))
}

/// Opens the keyring file at `path` with its passphrase.
fn open_keyring(path: &Path) -> Result<AdminKeyring, Failure> {
    AdminKeyring::open(path, || {
        secrets::read(
            PASSPHRASE_ENV,
            &format!("Passphrase of {}", path.display()),
            false,
        )
    })
}

fn identity_changed() -> Failure {
    Failure::new(
        "keyring.identity_changed",
        "The account's identity is not the one in the keyring: the server may be \
         misbehaving. Remove the keyring file only if the account was deliberately replaced.",
    )
}

/// The username as the server stores it (trimmed, ASCII lowercase; PROTOCOL.md §12.4).
///
/// # Errors
/// `input.empty` (a usage error) for an empty name.
fn normalised_username(typed: &str) -> Result<String, Failure> {
    let username = typed.trim().to_ascii_lowercase();
    if username.is_empty() {
        return Err(Failure::usage("input.empty", "The username is empty."));
    }
    Ok(username)
}

async fn login(
    url: &str,
    insecure_http: bool,
    username: &str,
    keyring: Option<PathBuf>,
) -> Result<(), Failure> {
    let server = Server::parse(url, insecure_http)?;
    let username = normalised_username(username)?;
    let path = match keyring {
        Some(path) => path,
        None => keyring::default_path(&server)?,
    };
    let mut rng = system_rng();
    // An existing keyring keeps its passphrase and, for the same instance, its pinned head.
    let (existing, new_passphrase) = if path.exists() {
        let existing = open_keyring(&path)?;
        if existing.profile.server != server.base {
            return Err(Failure::usage(
                "config.keyring_in_use",
                format!(
                    "The keyring {} is for {}: choose another file with --keyring FILE.",
                    path.display(),
                    render::clean_line(&existing.profile.server)
                ),
            ));
        }
        (Some(existing), None)
    } else {
        let passphrase = secrets::read(PASSPHRASE_ENV, "Passphrase for the new keyring", true)?;
        (None, Some(passphrase))
    };
    let (transport, account) = sign_in(&server, &username).await?;
    let seed = account.identity_seed().clone();
    let identity = account.identity();
    let pinned = existing.as_ref().map(|k| k.profile.pinned);
    let checked = async {
        if let Some(old) = &existing
            && old.profile.username == username
            && Identity::from_seed(&old.seed).key_id() != identity.key_id()
        {
            return Err(identity_changed());
        }
        let directory = fetch_verified(&transport, pinned.as_ref()).await?;
        if directory
            .admin_at(directory.head_seq(), &identity.key_id())
            .is_none()
        {
            return Err(Failure::new(
                "admin.not_an_administrator",
                "This account's key is not an administrator of the verified directory (an \
                 invited account is one once another administrator approved it).",
            ));
        }
        Ok(directory.head())
    }
    .await;
    let key_id = identity.key_id();
    let fingerprint = identity.public().fingerprint();
    let _ = account.logout(&transport).await;
    let head = checked?;
    let profile = Profile {
        server: server.base.clone(),
        username: username.clone(),
        pinned: head,
    };
    let keyring = match (existing, new_passphrase) {
        (Some(mut keyring), _) => {
            keyring.seed = seed;
            keyring.profile = profile;
            keyring
        }
        (None, Some(passphrase)) => {
            AdminKeyring::create(&passphrase, Argon2Params::DEFAULT, seed, profile, &mut rng)?
        }
        (None, None) => return Err(Failure::new("keyring.passphrase", "No passphrase.")),
    };
    keyring.save(&path, &mut rng)?;
    println!("Signed in as {username} at {}.", server.base);
    println!("Your key: {key_id} (fingerprint {fingerprint}).");
    println!(
        "Saved the keyring {} (directory head {}).",
        path.display(),
        head.seq
    );
    Ok(())
}

// ---- setup ----

/// `sealdesk admin setup`: registers the account, redeems the first-administrator invite with
/// its genesis entry (`Admin::redeem_genesis`: the verified directory must start with that
/// entry) and saves the keyring file with the new head.
async fn setup(
    url: &str,
    insecure_http: bool,
    invite: &str,
    username: &str,
    keyring: Option<PathBuf>,
) -> Result<(), Failure> {
    let server = Server::parse(url, insecure_http)?;
    let username = normalised_username(username)?;
    if invite.trim().is_empty() {
        return Err(Failure::usage("input.empty", "The invite is empty."));
    }
    let path = match keyring {
        Some(path) => path,
        None => keyring::default_path(&server)?,
    };
    if path.exists() {
        return Err(Failure::usage(
            "config.keyring_in_use",
            format!(
                "The keyring {} exists already: choose another file with --keyring FILE.",
                path.display()
            ),
        ));
    }
    let passphrase = secrets::read(PASSPHRASE_ENV, "Passphrase for the new keyring", true)?;
    let password = secrets::read(
        PASSWORD_ENV,
        &format!("Password for the new account {username} at {}", server.base),
        true,
    )?;
    let mut rng = system_rng();
    let transport = NativeTransport::new(&server.base);
    let account = Account::register(
        &transport,
        &username,
        &password,
        Argon2Params::DEFAULT,
        &mut rng,
    )
    .await?;
    let seed = account.identity_seed().clone();
    let admin = Admin::redeem_genesis(&transport, account, invite.trim()).await?;
    let head = admin.head();
    let instance = admin.directory().instance_fingerprint();
    let identity = admin.account().identity();
    let (key_id, fingerprint) = (identity.key_id(), identity.public().fingerprint());
    let _ = admin.into_account().logout(&transport).await;
    let profile = Profile {
        server: server.base.clone(),
        username: username.clone(),
        pinned: head,
    };
    AdminKeyring::create(&passphrase, Argon2Params::DEFAULT, seed, profile, &mut rng)?
        .save(&path, &mut rng)?;
    println!(
        "You are the first administrator of {} as {username}.",
        server.base
    );
    println!("Your key: {key_id} (fingerprint {fingerprint}).");
    println!("Instance fingerprint: {instance}");
    println!(
        "Saved the keyring {} (directory head {}).",
        path.display(),
        head.seq
    );
    Ok(())
}

// ---- a signed-in session ----

/// A signed-in administrator with the keyring it came from.
pub(crate) struct Session {
    transport: NativeTransport,
    admin: Admin,
    /// The tickets' verified states kept beside the keyring (PROTOCOL.md §10.4).
    kept: state::AdminStates,
}

impl Session {
    /// Reads ticket `id` (see [`Admin::read_ticket`]) from its kept state: a conversation or
    /// notes shorter than, or diverging from, what an earlier command verified is refused as
    /// a rollback or fork. Keeps the new state.
    async fn read(&mut self, id: TicketId) -> Result<AdminTicket, Failure> {
        let kept = self.kept.get(id)?;
        let ticket = self
            .admin
            .read_ticket_with_state(&self.transport, id, kept.as_deref())
            .await?;
        self.kept.set(id, &ticket.state_bytes());
        Ok(ticket)
    }
}

/// Opens the keyring, signs in, runs `command`, then saves the new directory head and ends
/// the session (also when the command failed: the head was verified all the same).
async fn with_session(
    args: &KeyringArgs,
    command: impl AsyncFnOnce(&mut Session) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let path = keyring::locate(args.keyring.as_deref(), args.server.as_deref())?;
    let mut keyring = open_keyring(&path)?;
    let server = Server::parse(&keyring.profile.server, args.transport.insecure_http)?;
    let (transport, account) = sign_in(&server, &keyring.profile.username).await?;
    if account.identity().key_id() != Identity::from_seed(&keyring.seed).key_id() {
        let _ = account.logout(&transport).await;
        return Err(identity_changed());
    }
    // The session token lives in memory only; a failed sign-in leaves it to expire unused.
    let kept = state::AdminStates::load(&path)?;
    let admin = Admin::new(&transport, account, Some(&keyring.profile.pinned)).await?;
    let mut session = Session {
        transport,
        admin,
        kept,
    };
    let result = command(&mut session).await;
    let head: DirectoryHead = session.admin.head();
    let saved = if head == keyring.profile.pinned {
        Ok(())
    } else {
        keyring.profile.pinned = head;
        keyring.save(&path, &mut system_rng())
    };
    let saved = saved.and(session.kept.save());
    let _ = session
        .admin
        .into_account()
        .logout(&session.transport)
        .await;
    match (result, saved) {
        (Err(failure), Err(not_saved)) => {
            eprintln!("warning: {not_saved}");
            Err(failure)
        }
        (result, saved) => result.and(saved),
    }
}

// ---- commands ----

fn filter_name(filter: Option<InboxFilter>) -> &'static str {
    match filter {
        None => "all",
        Some(InboxFilter::Open) => "open",
        Some(InboxFilter::Closed) => "closed",
        Some(InboxFilter::Waiting) => "waiting",
        Some(InboxFilter::OnHold) => "on_hold",
        Some(InboxFilter::Unanswered) => "unanswered",
    }
}

async fn inbox(session: &mut Session, options: &InboxOptions, json: bool) -> Result<(), Failure> {
    let filter = options.status;
    let page = options.page;
    let answer = session
        .admin
        .inbox_with(&session.transport, options)
        .await?;
    let failed: Vec<&str> = answer
        .tickets
        .iter()
        .filter_map(|t| t.opening.as_ref().err().map(|e| e.code.as_str()))
        .collect();
    if json {
        let tickets: Vec<Value> = answer
            .tickets
            .iter()
            .map(|item| {
                let s = &item.summary;
                let mut view = json!({
                    "ticket_id": s.ticket_id.to_hex(),
                    "status": StatusName::of(s.status),
                    "answered": s.answered,
                    "created_at": s.created_at,
                    "last_activity": s.last_activity,
                    "conversation_seq": s.conversation_seq,
                    "assigned_to": s.assigned_to.map(|k| k.to_string()),
                    "subject": Value::Null,
                    "opening": Value::Null,
                });
                match &item.opening {
                    Ok(text) => {
                        view["subject"] = json!(text.subject);
                        view["opening"] = content_view(&Content::Message(text.clone()));
                    }
                    Err(error) => view["error"] = error_view(error),
                }
                view
            })
            .collect();
        let counts = answer.counts;
        let view = json!({
            "page": page,
            "more": answer.more,
            "next_cursor": answer.next_cursor,
            "counts": {
                "all": counts.all, "open": counts.open, "closed": counts.closed,
                "waiting": counts.waiting, "on_hold": counts.on_hold,
                "unanswered": counts.unanswered, "mine": counts.mine,
                "unassigned": counts.unassigned,
            },
            "tickets": tickets,
        });
        render::print_json(&view);
    } else if answer.tickets.is_empty() {
        println!("No tickets ({}).", filter_name(filter));
    } else {
        let mut out = String::new();
        for item in &answer.tickets {
            render::inbox_line(&mut out, item);
        }
        print!("{out}");
        match (&answer.next_cursor, answer.more) {
            (Some(cursor), true) => eprintln!("More tickets: --cursor {cursor}"),
            (None, true) => eprintln!("More tickets: --page {}.", page + 1),
            _ => {}
        }
    }
    match failed.first() {
        None => Ok(()),
        Some(code) => Err(Failure::new(
            code,
            format!(
                "{} of these could not be verified or read; see the warnings in their place.",
                render::count(failed.len(), "ticket")
            ),
        )),
    }
}

async fn delete(session: &mut Session, id: TicketId) -> Result<(), Failure> {
    session.admin.delete_ticket(&session.transport, id).await?;
    println!("Deleted ticket {}.", id.to_hex());
    Ok(())
}

async fn show(session: &mut Session, id: TicketId, json: bool) -> Result<(), Failure> {
    let ticket = session.read(id).await?;
    let all = ticket.messages.iter().chain(&ticket.notes);
    let failed = all.clone().filter(|m| m.content.is_err()).count();
    let first_code = all
        .clone()
        .find_map(|m| m.content.as_ref().err().map(|e| e.code.as_str()));
    let hex = id.to_hex();
    if json {
        let reporter = ticket.reporter().key_id();
        let view = json!({
            "ticket_id": hex,
            "closed": ticket.is_closed(),
            "status": StatusName::of(ticket.status()),
            "reporter": {"key_id": reporter.to_string(), "fingerprint": reporter.fingerprint()},
            "messages": ticket.messages.iter().map(message_view).collect::<Vec<_>>(),
            "notes": ticket.notes.iter().map(message_view).collect::<Vec<_>>(),
        });
        render::print_json(&view);
    } else {
        let mut out = format!(
            "Ticket {hex} · {}\nReporter key: {}\n",
            render::status(ticket.status(), Viewer::Admin(&hex)),
            ticket.reporter().fingerprint()
        );
        if let Some(opening) = ticket.opening() {
            render::opening(&mut out, opening);
        }
        out.push_str("\nConversation:\n");
        render::messages(&mut out, &ticket.messages, Viewer::Admin(&hex));
        if ticket.notes.is_empty() {
            out.push_str("\nNo internal notes.\n");
        } else {
            out.push_str("\nInternal notes (administrators only):\n");
            render::messages(&mut out, &ticket.notes, Viewer::Admin(&hex));
        }
        print!("{out}");
    }
    unreadable(failed, first_code)
}

/// The text of a reply or note: `--message`, or `--message-file` (a file or standard input).
fn message_text(args: &WriteArgs) -> Result<Zeroizing<String>, Failure> {
    secrets::text_or_file(
        args.message.as_deref(),
        args.message_file.as_deref(),
        "message",
    )
}

/// `sealdesk admin reply` or, with `note`, `sealdesk admin note`.
async fn write(
    session: &mut Session,
    args: &WriteArgs,
    text: &str,
    note: bool,
) -> Result<(), Failure> {
    let id = args.id;
    if text.trim().is_empty() {
        return Err(Failure::usage("input.empty", "The message is empty."));
    }
    let author = args.author.clone().filter(|a| !a.trim().is_empty());
    let mut ticket = session.read(id).await?;
    let transport = &session.transport;
    let mut rng = system_rng();
    let outgoing = Outgoing::new(text, now()).with_author(author);
    if note {
        session
            .admin
            .note(transport, &mut ticket, outgoing, &mut rng)
            .await?;
        println!("Added internal note {}.", ticket.notes_state().last_seq());
    } else {
        session
            .admin
            .reply(transport, &mut ticket, outgoing, &mut rng)
            .await?;
        println!("Sent message {}.", ticket.conversation().last_seq());
    }
    session.kept.set(id, &ticket.state_bytes());
    Ok(())
}

/// `sealdesk admin tag`: prints the ticket's tags; with `add` or `remove`, first posts the
/// new whole set as a tags message on the notes chain (PROTOCOL.md §14).
async fn tag(
    session: &mut Session,
    id: TicketId,
    add: &[String],
    remove: &[String],
) -> Result<(), Failure> {
    let mut ticket = session.read(id).await?;
    let mut tags = current_tags(&ticket.notes);
    if !add.is_empty() || !remove.is_empty() {
        let removed = normalise_tags(remove)?;
        tags.retain(|t| !removed.contains(t));
        tags.extend(add.iter().cloned());
        let tags = normalise_tags(&tags)?;
        let content = Content::Tags(TagSet {
            tags,
            sent_at: now(),
            author: None,
        });
        let mut rng = system_rng();
        session
            .admin
            .send(&session.transport, &mut ticket, content, &mut rng)
            .await?;
        session.kept.set(id, &ticket.state_bytes());
    }
    let tags = current_tags(&ticket.notes);
    if tags.is_empty() {
        println!("No tags.");
    } else {
        println!("{}", tags.join(" "));
    }
    Ok(())
}

/// The item whose key id `query` names: the whole key id in hexadecimal or base64url, or at
/// least its first 8 hexadecimal characters. `None` when nothing matches.
fn pick<'a, T>(
    items: &'a [T],
    key_id: impl Fn(&T) -> KeyId,
    query: &str,
) -> Result<Option<&'a T>, Failure> {
    let query = query.trim();
    let hex = query.to_ascii_lowercase();
    let is_hex = (8..=64).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    let base64 = b64::decode_array::<32>(query).ok();
    if !is_hex && base64.is_none() {
        return Err(Failure::usage(
            "input.key_id",
            "Give a key id in hexadecimal (at least its first 8 characters) or in base64url.",
        ));
    }
    let matches: Vec<&T> = items
        .iter()
        .filter(|item| {
            let id = key_id(item);
            (is_hex && id.to_string().starts_with(&hex)) || base64 == Some(id.0)
        })
        .collect();
    match matches.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(Failure::usage(
            "input.ambiguous_key_id",
            "Several keys start with these characters: give more of the key id.",
        )),
    }
}

fn report_history(history: &History) -> Result<(), Failure> {
    println!(
        "Shared the keys of {} ({} wrapped for the new administrator).",
        render::count(history.tickets, "ticket"),
        render::count(history.wraps, "key")
    );
    if !history.unavailable.is_empty() {
        eprintln!(
            "note: you do not hold {} of the keys yourself (tickets from before you joined); \
             an administrator who does can share them with `sealdesk admin approve KEY_ID`.",
            history.unavailable.len()
        );
    }
    ticket_failures(&history.failures, |n| {
        Failure::new(
            "admin.history_incomplete",
            format!(
                "The keys of {} could not be shared; run the same command again to retry.",
                render::count(n, "ticket")
            ),
        )
    })
}

/// Prints a warning for each ticket in `failures`; fails with `failure(how many)` if there
/// is any.
fn ticket_failures(
    failures: &[(TicketId, ClientError)],
    failure: impl FnOnce(usize) -> Failure,
) -> Result<(), Failure> {
    for (id, error) in failures {
        eprintln!(
            "warning: ticket {}: {} ({})",
            id.to_hex(),
            render::clean_line(&error.message),
            error.code
        );
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failure(failures.len()))
    }
}

async fn approve(session: &mut Session, query: Option<&str>) -> Result<(), Failure> {
    let transport = &session.transport;
    let pending = session.admin.pending(transport).await?;
    let Some(query) = query else {
        if pending.is_empty() {
            println!("No account is waiting to become an administrator.");
            return Ok(());
        }
        println!(
            "Waiting to become administrators (compare each fingerprint with the person, over \
             another channel, before approving):"
        );
        for p in &pending {
            println!(
                "  {}\n    key id       {}\n    fingerprint  {}\n    redeemed     {}",
                render::clean_line(&p.username),
                p.key_id(),
                p.fingerprint,
                render::utc(p.redeemed_at)
            );
        }
        println!("Approve one with: sealdesk admin approve KEY_ID");
        return Ok(());
    };
    let mut rng = system_rng();
    if let Some(candidate) = pick(&pending, |p| p.key_id(), query)? {
        let candidate = candidate.clone();
        let approval = session
            .admin
            .approve(transport, &candidate, &mut rng)
            .await?;
        println!(
            "Approved {} (fingerprint {}): directory head {}.",
            render::clean_line(&candidate.username),
            candidate.fingerprint,
            approval.head.seq
        );
        return report_history(&approval.history);
    }
    let team = session.admin.team();
    if let Some(member) = pick(&team, |m| m.identity.key_id(), query)? {
        let history = session
            .admin
            .share_history(transport, &member.identity, &mut rng)
            .await?;
        println!(
            "{} is an administrator already; shared what it was missing.",
            member.fingerprint
        );
        return report_history(&history);
    }
    Err(Failure::new(
        "admin.unknown_key",
        "No account waiting for approval has this key id: run `sealdesk admin approve` to list \
         them.",
    ))
}

async fn remove(session: &mut Session, query: Option<&str>) -> Result<(), Failure> {
    let team = session.admin.team();
    let me = session.admin.account().identity().key_id();
    let Some(query) = query else {
        println!(
            "Administrators (directory head {}):",
            session.admin.head().seq
        );
        for member in &team {
            let id = member.identity.key_id();
            println!(
                "  {}  {}{}",
                member.fingerprint,
                id,
                if id == me { "  (you)" } else { "" }
            );
        }
        println!("Remove one with: sealdesk admin remove KEY_ID");
        return Ok(());
    };
    let Some(member) = pick(&team, |m| m.identity.key_id(), query)? else {
        return Err(Failure::new(
            "admin.unknown_administrator",
            "No administrator has this key id: run `sealdesk admin remove` to list them.",
        ));
    };
    let key_id = member.identity.key_id();
    let removal = session
        .admin
        .remove(&session.transport, &key_id, &mut system_rng())
        .await?;
    println!(
        "Removed {}: directory head {}. Moved {} of {} to new keys.",
        member.fingerprint,
        removal.head.seq,
        render::count(removal.rotated, "chain"),
        render::count(removal.tickets, "listed ticket")
    );
    if let Some(error) = &removal.team_key_failure {
        // PROTOCOL.md §18.2: the next canned reply written opens the new team epoch instead.
        eprintln!(
            "warning: the canned replies' team key did not move to a new epoch now ({}); the \
             next canned reply written does it.",
            error.code
        );
    }
    ticket_failures(&removal.failures, |n| {
        Failure::new(
            "admin.rotation_incomplete",
            format!(
                "{} did not move to new keys now; their next message opens new keys without \
                 the removed administrator.",
                render::count(n, "ticket")
            ),
        )
    })
}

/// Endorses `key` (a 64-byte public identity in base64url) as a further reporter key of
/// ticket `id` (PROTOCOL.md §8.2) and wraps the conversation's keys for it.
async fn endorse(session: &mut Session, id: TicketId, key: &str) -> Result<(), Failure> {
    let endorsed = b64::decode_array::<PUBLIC_IDENTITY_LEN>(key.trim())
        .ok()
        .and_then(|bytes| PublicIdentity::from_bytes(&bytes).ok())
        .ok_or_else(|| {
            Failure::usage(
                "input.bad_key",
                "--key is a public identity: 64 bytes in unpadded base64url.",
            )
        })?;
    let transport = &session.transport;
    let mut ticket = session.admin.read_ticket(transport, id).await?;
    let wraps = session
        .admin
        .endorse(transport, &mut ticket, &endorsed, &mut system_rng())
        .await?;
    println!(
        "Added a device for the reporter in message {}, fingerprint {}; {} wrapped for it.",
        ticket.conversation().last_seq(),
        endorsed.key_id().fingerprint(),
        render::count(wraps, "key")
    );
    Ok(())
}

/// Lists the pending recovery claims with the address check, or approves or declines the
/// claim of the key `query` names (PROTOCOL.md §11.1, §8.2).
async fn recoveries(
    session: &mut Session,
    action: Option<(RecoveryAction, &str)>,
) -> Result<(), Failure> {
    let claims = session.admin.recoveries(&session.transport).await?;
    let Some((action, query)) = action else {
        if claims.is_empty() {
            println!("No recovery is waiting.");
            return Ok(());
        }
        println!(
            "Waiting recoveries (approve only when the address matches and, if you can, the              reporter confirms the fingerprint over another channel):"
        );
        for claim in &claims {
            let matches = match session.read(claim.ticket_id).await {
                Ok(ticket) => match claim.email_matches(&ticket) {
                    Some(true) => "matches the address in the first message",
                    Some(false) => "DIFFERS from the address in the first message",
                    None => "the first message has no address",
                },
                Err(_) => "the ticket could not be read",
            };
            println!(
                "  ticket {}\n    key id       {}\n    fingerprint  {}\n    address      {} \
                 ({matches})\n    claimed      {}",
                claim.ticket_id.to_hex(),
                claim.key_id(),
                claim.fingerprint,
                render::clean_line(&claim.email),
                render::utc(claim.claimed_at)
            );
        }
        println!("Approve or decline one with: sealdesk admin recoveries approve|decline KEY_ID");
        return Ok(());
    };
    let Some(claim) = pick(&claims, PendingClaim::key_id, query)?.cloned() else {
        return Err(Failure::usage(
            "input.unknown_key_id",
            "No waiting recovery has this key id; list them with `sealdesk admin recoveries`.",
        ));
    };
    match action {
        RecoveryAction::Decline => {
            session
                .admin
                .decline_recovery(&session.transport, &claim)
                .await?;
            println!(
                "Declined the recovery of ticket {}.",
                claim.ticket_id.to_hex()
            );
        }
        RecoveryAction::Approve => {
            let mut ticket = session.read(claim.ticket_id).await?;
            let wraps = session
                .admin
                .approve_recovery(&session.transport, &mut ticket, &claim, &mut system_rng())
                .await?;
            session.kept.set(claim.ticket_id, &ticket.state_bytes());
            println!(
                "Approved: the reporter's new key (fingerprint {}) was added in message {}; {} \
                 wrapped for it.",
                claim.fingerprint,
                ticket.conversation().last_seq(),
                render::count(wraps, "key")
            );
        }
    }
    Ok(())
}

async fn download(session: &mut Session, id: TicketId, target: &SaveArgs) -> Result<(), Failure> {
    let ticket = session.read(id).await?;
    let reference = attachment_at(&ticket.messages, target.seq)?;
    let data = download_to_vec(
        &session.transport,
        session.admin.account().session(),
        id,
        reference,
        |_, _| {},
    )
    .await?;
    files::save(&target.out, &data)?;
    saved(reference, &target.out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_picked_by_hex_prefix_or_base64url() {
        let keys = [KeyId([0xab; 32]), KeyId([0xac; 32]), KeyId([0x11; 32])];
        let id = |k: &KeyId| *k;
        assert_eq!(pick(&keys, id, "abababab").unwrap(), Some(&keys[0]));
        assert_eq!(pick(&keys, id, " ACACACAC ").unwrap(), Some(&keys[1]));
        assert_eq!(
            pick(&keys, id, &b64::encode(&[0x11; 32])).unwrap(),
            Some(&keys[2])
        );
        assert_eq!(pick(&keys, id, &"22".repeat(32)).unwrap(), None);
        let short = pick(&keys, id, "abab").unwrap_err();
        assert_eq!((short.code.as_str(), short.usage), ("input.key_id", true));
        let same = [KeyId([0xab; 32]), KeyId([0xab; 32])];
        let ambiguous = pick(&same, id, "abababab").unwrap_err();
        assert_eq!(ambiguous.code, "input.ambiguous_key_id");
    }
}
