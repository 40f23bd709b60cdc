//! The ticket handle, one type for the three ways a page holds a ticket: an anonymous
//! reporter's (from its link), an account holder's (with the account's session and identity),
//! an administrator's (both chains). The same exports (`view`, `refresh`, `reply`, `close`,
//! `uploadAttachment`, `downloadAttachment`, `listen`, `unreadAnswers`) work on each; `note`,
//! `reopen` and `assign` on an administrator's.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect, Uint8Array};
#[cfg(any(feature = "reporter", feature = "account"))]
use sealdesk_crypto::Directory;
use sealdesk_crypto::{TicketId, Zeroizing, system_rng};
use tsify::Ts;
use wasm_bindgen::prelude::*;
use web_sys::ReadableStreamDefaultReader;

#[cfg(feature = "account")]
use super::bridge::Held;
#[cfg(any(feature = "reporter", feature = "account"))]
use super::bridge::from_js;
use super::bridge::{
    FetchTransport, Lock, head_from_js, listen_stream, now_seconds, promise, sleep, stop_stream,
    to_js, verify_directory, whole_number,
};
#[cfg(feature = "account")]
use super::session::Role;
#[cfg(feature = "session")]
use super::session::{Core, EndsWithSignOut, signed_out};
#[cfg(feature = "account")]
use crate::account::AccountTicket;
#[cfg(feature = "admin")]
use crate::admin::AdminTicket;
#[cfg(feature = "reporter")]
use crate::attachments::reporter_bearer;
use crate::attachments::{AttachmentFile, Uploader, download_to_vec, upload_with_retries};
use crate::content::{Content, StatusChange, Text};
use crate::error::{ClientError, Result};
use crate::live::ticket_events_path;
#[cfg(feature = "reporter")]
use crate::pow;
#[cfg(feature = "reporter")]
use crate::recovery::RecoveredTicket;
#[cfg(feature = "reporter")]
use crate::reporter::ReporterTicket;
use crate::reporter::Shown;
use crate::wasm::input::{DirectoryPin, PinnedHead, invalid};
#[cfg(any(feature = "reporter", feature = "account"))]
use crate::wasm::input::{OpeningInput, check_opening};
#[cfg(feature = "reporter")]
use crate::wasm::input::{ProofInput, parse_link};
#[cfg(feature = "admin")]
use crate::wasm::input::{key_id_text, parse_key_id};
#[cfg(feature = "account")]
use crate::wasm::views::conversation_view;
#[cfg(feature = "reporter")]
use crate::wasm::views::ticket_view;
#[cfg(feature = "admin")]
use crate::wasm::views::{AssignmentView, admin_ticket_view};
use crate::wasm::views::{TicketView, largest_attachment, unread_answers};
#[cfg(feature = "reporter")]
use sealdesk_wire::pow::ProofOfWork;

/// What a ticket handle holds while no operation runs.
// One per handle, moved only when the account signs out: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum TicketState {
    /// An anonymous ticket and the directory last verified for it.
    #[cfg(feature = "reporter")]
    Reporter {
        directory: Directory,
        ticket: ReporterTicket,
    },
    /// An anonymous ticket read with a recovered key (PROTOCOL.md §11.1), after approval.
    #[cfg(feature = "reporter")]
    Recovered {
        directory: Directory,
        ticket: RecoveredTicket,
    },
    /// An account's own ticket.
    #[cfg(feature = "account")]
    Account(AccountTicket),
    /// A ticket as an administrator reads it.
    #[cfg(feature = "admin")]
    Admin(AdminTicket),
    /// The account signed out: its keys of this ticket are gone.
    #[cfg(feature = "session")]
    Ended,
}

impl TicketState {
    fn messages(&self) -> Result<&[Shown]> {
        match self {
            #[cfg(feature = "reporter")]
            TicketState::Reporter { ticket, .. } => Ok(&ticket.messages),
            #[cfg(feature = "reporter")]
            TicketState::Recovered { ticket, .. } => Ok(&ticket.messages),
            #[cfg(feature = "account")]
            TicketState::Account(ticket) => Ok(&ticket.messages),
            #[cfg(feature = "admin")]
            TicketState::Admin(ticket) => Ok(&ticket.messages),
            #[cfg(feature = "session")]
            TicketState::Ended => Err(signed_out()),
        }
    }

    /// The view: [`ticket_view`] / [`conversation_view`], or [`admin_ticket_view`].
    fn view(&self) -> Result<TicketView> {
        Ok(match self {
            #[cfg(feature = "reporter")]
            TicketState::Reporter { ticket, .. } => ticket_view(ticket),
            #[cfg(feature = "reporter")]
            TicketState::Recovered { ticket, .. } => crate::wasm::views::conversation_view(
                ticket.ticket_id(),
                ticket.status(),
                &ticket.messages,
            ),
            #[cfg(feature = "account")]
            TicketState::Account(ticket) => {
                conversation_view(ticket.ticket_id(), ticket.status(), &ticket.messages)
            }
            #[cfg(feature = "admin")]
            TicketState::Admin(ticket) => admin_ticket_view(ticket),
            #[cfg(feature = "session")]
            TicketState::Ended => return Err(signed_out()),
        })
    }

    /// Whether this is an administrator's ticket (`note`, `reopen`, `assign`, named replies).
    fn is_admin(&self) -> bool {
        #[cfg(feature = "admin")]
        return matches!(self, TicketState::Admin(_));
        #[cfg(not(feature = "admin"))]
        return false;
    }
}

/// Whose ticket it is: the directory pin and, for accounts, the session's state.
pub(crate) enum Owner {
    /// An anonymous ticket keeps its own pin.
    #[cfg(feature = "reporter")]
    Reporter(RefCell<DirectoryPin>),
    /// An account's or administrator's ticket shares the account's.
    #[cfg(feature = "session")]
    Account(Rc<Core>),
}

pub(crate) struct TicketInner {
    transport: FetchTransport,
    ticket_id: TicketId,
    /// The credential of the attachment and event routes: the link's access token, or the
    /// account's session.
    bearer: Zeroizing<String>,
    owner: Owner,
    pub(crate) state: Rc<Lock<TicketState>>,
    /// The reader of the running `listen`, for `stopListening`.
    pub(crate) reader: RefCell<Option<ReadableStreamDefaultReader>>,
}

#[cfg(feature = "session")]
impl EndsWithSignOut for TicketInner {
    fn end(self: Rc<Self>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
        Box::pin(async move {
            stop_stream(&self.reader);
            *self.state.acquire().await = TicketState::Ended;
        })
    }
}

impl TicketInner {
    fn pin(&self) -> &RefCell<DirectoryPin> {
        match &self.owner {
            #[cfg(feature = "reporter")]
            Owner::Reporter(pin) => pin,
            #[cfg(feature = "session")]
            Owner::Account(core) => &core.pin,
        }
    }

    #[cfg(feature = "session")]
    fn core(&self) -> Result<&Rc<Core>> {
        match &self.owner {
            Owner::Account(core) => Ok(core),
            #[cfg(feature = "reporter")]
            Owner::Reporter(_) => Err(ClientError::new(
                "input.invalid",
                "This ticket belongs to no account.",
            )),
        }
    }

    /// For an account's ticket: the sign-in's role, held for the operation, and the directory
    /// verified again (an extension of the account's pin).
    #[cfg(feature = "account")]
    async fn account_and_directory(&self) -> Result<(Held<Role>, Directory)> {
        let core = self.core()?;
        let role = core.state.acquire().await;
        role.account()?;
        let directory = verify_directory(&self.transport, &core.pin).await?;
        Ok((role, directory))
    }

    /// Reads, verifies and decrypts what was added (after verifying the directory again, an
    /// extension of the pinned head: PROTOCOL.md §15); returns how many messages (and notes)
    /// were added.
    async fn refresh(&self, state: &mut TicketState) -> Result<usize> {
        let transport = &self.transport;
        match state {
            #[cfg(feature = "reporter")]
            TicketState::Reporter { directory, ticket } => {
                *directory = verify_directory(transport, self.pin()).await?;
                ticket.refresh(transport, directory).await
            }
            #[cfg(feature = "reporter")]
            TicketState::Recovered { directory, ticket } => {
                *directory = verify_directory(transport, self.pin()).await?;
                ticket.refresh(transport, directory).await
            }
            #[cfg(feature = "account")]
            TicketState::Account(ticket) => {
                let (role, directory) = self.account_and_directory().await?;
                ticket.refresh(transport, role.account()?, &directory).await
            }
            #[cfg(feature = "admin")]
            TicketState::Admin(ticket) => {
                let core = self.core()?;
                let mut role = core.state.acquire().await;
                let admin = role.admin_mut()?;
                let added = admin.refresh(transport, ticket).await?;
                core.pin.borrow_mut().accept(admin.directory())?;
                Ok(added)
            }
            #[cfg(feature = "session")]
            TicketState::Ended => Err(signed_out()),
        }
    }

    /// Posts `content` (internal notes on the notes chain, the rest on the conversation), after
    /// verifying the directory again.
    async fn send(&self, state: &mut TicketState, content: Content) -> Result<()> {
        let transport = &self.transport;
        let mut rng = system_rng();
        match state {
            #[cfg(feature = "reporter")]
            TicketState::Reporter { directory, ticket } => {
                *directory = verify_directory(transport, self.pin()).await?;
                ticket.send(transport, directory, content, &mut rng).await
            }
            #[cfg(feature = "reporter")]
            TicketState::Recovered { directory, ticket } => {
                *directory = verify_directory(transport, self.pin()).await?;
                ticket.send(transport, directory, content, &mut rng).await
            }
            #[cfg(feature = "account")]
            TicketState::Account(ticket) => {
                let (role, directory) = self.account_and_directory().await?;
                ticket
                    .send(transport, role.account()?, &directory, content, &mut rng)
                    .await
            }
            #[cfg(feature = "admin")]
            TicketState::Admin(ticket) => {
                let core = self.core()?;
                let mut role = core.state.acquire().await;
                let admin = role.admin_mut()?;
                admin.send(transport, ticket, content, &mut rng).await?;
                core.pin.borrow_mut().accept(admin.directory())
            }
            #[cfg(feature = "session")]
            TicketState::Ended => Err(signed_out()),
        }
    }
}

/// An open ticket in this page: an anonymous reporter's, an account holder's or an
/// administrator's. Free it with `handle.free()` when the page no longer needs it (its keys
/// are zeroized then, once no operation on it runs).
#[wasm_bindgen]
pub struct TicketHandle {
    pub(crate) inner: Rc<TicketInner>,
}

impl TicketHandle {
    #[cfg(feature = "reporter")]
    fn reporter(
        transport: FetchTransport,
        pin: DirectoryPin,
        directory: Directory,
        ticket: ReporterTicket,
    ) -> Result<Self> {
        let bearer = Zeroizing::new(reporter_bearer(ticket.link())?);
        Ok(TicketHandle {
            inner: Rc::new(TicketInner {
                transport,
                ticket_id: ticket.link().ticket_id(),
                bearer,
                owner: Owner::Reporter(RefCell::new(pin)),
                state: Lock::new(TicketState::Reporter { directory, ticket }),
                reader: RefCell::default(),
            }),
        })
    }

    /// A ticket read with an approved recovered key and its reader token.
    #[cfg(feature = "reporter")]
    pub(crate) fn recovered(
        transport: FetchTransport,
        pin: DirectoryPin,
        directory: Directory,
        ticket: RecoveredTicket,
    ) -> Self {
        TicketHandle {
            inner: Rc::new(TicketInner {
                transport,
                ticket_id: ticket.ticket_id(),
                bearer: Zeroizing::new(ticket.key().bearer()),
                owner: Owner::Reporter(RefCell::new(pin)),
                state: Lock::new(TicketState::Recovered { directory, ticket }),
                reader: RefCell::default(),
            }),
        }
    }

    /// A ticket read with `core`'s session (`bearer`); registered with the account so that
    /// signing out ends it.
    #[cfg(feature = "session")]
    pub(crate) fn of_account(
        core: &Rc<Core>,
        ticket_id: TicketId,
        bearer: Zeroizing<String>,
        state: TicketState,
    ) -> Self {
        let inner = Rc::new(TicketInner {
            transport: core.transport.clone(),
            ticket_id,
            bearer,
            owner: Owner::Account(core.clone()),
            state: Lock::new(state),
            reader: RefCell::default(),
        });
        core.register(&inner);
        TicketHandle { inner }
    }
}

#[wasm_bindgen]
impl TicketHandle {
    /// The ticket id (32 hexadecimal characters).
    #[wasm_bindgen(getter, js_name = ticketId)]
    pub fn ticket_id(&self) -> String {
        self.inner.ticket_id.to_hex()
    }
}

super::bridge::pinned_head_methods!(TicketHandle, |handle| handle.inner.pin());

/// A pin from the optional `pinnedHead` argument (absent: none).
pub(crate) fn initial_pin(pinned_head: Option<Ts<PinnedHead>>) -> Result<DirectoryPin> {
    let mut pin = DirectoryPin::default();
    if let Some(head) = pinned_head {
        pin.import(head_from_js(&head)?)?;
    }
    Ok(pin)
}

/// The new-ticket form from the page ([`OpeningInput`]).
///
/// # Errors
/// `input.invalid`.
#[cfg(any(feature = "reporter", feature = "account"))]
pub(crate) fn opening_from_js(opening: &Ts<OpeningInput>) -> Result<crate::reporter::Opening> {
    check_opening(from_js(opening, "The new-ticket form")?)
}

#[wasm_bindgen(typescript_custom_section)]
const TICKET_TYPES: &str = r#"
/** `createTicket`'s result: the ticket's view, its private link and its handle. */
export type CreatedTicket = TicketView & { link: string; handle: TicketHandle };
/** `refresh`'s result: the view and how many messages (and notes) were added. */
export type RefreshedView = TicketView & { added: number };
/** `downloadAttachment`'s result, given only once the whole file verified. */
export interface DownloadedAttachment { name: string; type: string; size: number; data: Uint8Array }
/** Progress of an upload or download: bytes done of the total. */
export type Progress = (done: number, total: number) => void;
/** What `listen` and `listenInbox` call for each live notification. */
export type LiveListener = (event: LiveEvent) => void;
"#;

/// Opens a new anonymous ticket. `opening` is the form ([`OpeningInput`]); `pinnedHead` a
/// head kept for this instance (`pinnedHead()`'s value), which the directory must extend.
/// Resolves to a `CreatedTicket`: the view, `link` (the private path
/// `/help/ticket/{id}#{secret}.{seq}.{hash}`, carrying the verified directory head, to show
/// and keep) and `handle`.
/// `proof`: the proof of work solved already (`proofOfWork`'s value, in a Web Worker); without
/// it the call asks for a challenge and, when the instance asks for a proof of work, solves it
/// on the calling thread.
#[cfg(feature = "reporter")]
#[wasm_bindgen(js_name = createTicket, unchecked_return_type = "Promise<CreatedTicket>")]
pub fn create_ticket(
    opening: Ts<OpeningInput>,
    pinned_head: Option<Ts<PinnedHead>>,
    proof: Option<Ts<ProofInput>>,
) -> Promise {
    promise(async move {
        let opening = opening_from_js(&opening)?;
        let pin = RefCell::new(initial_pin(pinned_head)?);
        let transport = FetchTransport::new();
        let proof = match proof {
            Some(proof) => {
                let proof = from_js(&proof, "The proof of work")?;
                Some(ProofOfWork {
                    challenge: proof.challenge,
                    nonce: proof.nonce,
                })
            }
            None => pow::solve_challenge(&transport).await?,
        };
        let directory = verify_directory(&transport, &pin).await?;
        let ticket = ReporterTicket::create_with_proof(
            &transport,
            &directory,
            opening,
            proof,
            now_seconds(),
            &mut system_rng(),
        )
        .await?;
        let view = to_js(&ticket_view(&ticket))?;
        let _ = Reflect::set(&view, &"link".into(), &ticket.link().path().into());
        let handle = TicketHandle::reporter(transport, pin.into_inner(), directory, ticket)?;
        let _ = Reflect::set(&view, &"handle".into(), &JsValue::from(handle));
        Ok(view)
    })
}

/// Asks the server for a proof-of-work challenge and solves it (about 2^bits SHA-256 hashes on
/// the calling thread: the pages call it in a Web Worker). Resolves to `{challenge, nonce}`
/// for `createTicket`, or `null` when the instance asks for no proof of work.
#[cfg(feature = "reporter")]
#[wasm_bindgen(js_name = proofOfWork, unchecked_return_type = "Promise<ProofInput | null>")]
pub fn proof_of_work() -> Promise {
    promise(async move {
        match pow::solve_challenge(&FetchTransport::new()).await? {
            Some(proof) => to_js(&ProofInput {
                challenge: proof.challenge,
                nonce: proof.nonce,
            }),
            None => Ok(JsValue::NULL),
        }
    })
}

/// Fetches and verifies the directory (extending `pinnedHead`, if given: `directory.rollback`,
/// `directory.fork` otherwise) for the pages' "Verify" disclosure. Resolves to a
/// [`DirectoryView`](crate::wasm::views::DirectoryView): `{instance_fingerprint, head, administrators:
/// [{key_id, fingerprint}]}` (PROTOCOL.md §7.6); `directory.empty` before the first
/// administrator.
#[wasm_bindgen(js_name = verifiedDirectory, unchecked_return_type = "Promise<DirectoryView>")]
pub fn verified_directory(pinned_head: Option<Ts<PinnedHead>>) -> Promise {
    promise(async move {
        let pin = RefCell::new(initial_pin(pinned_head)?);
        let directory = verify_directory(&FetchTransport::new(), &pin).await?;
        to_js(&crate::wasm::views::directory_view(&directory))
    })
}

/// Opens a ticket from its link (a whole URL or `/help/ticket/{id}#{fragment}`): verifies the
/// directory (extending `pinnedHead`, if given, and the head the link carries, if any) and the
/// whole conversation. Resolves to a
/// `TicketHandle`.
///
/// `kept` is the state kept from the last visit (`keptState`'s value, base64url), if any: the
/// conversation must then extend it (PROTOCOL.md §10.4), else the open fails with
/// `transcript.unexpected_seq` (a rollback) or `transcript.broken_link` (a fork). Keep
/// `keptState()` again after a successful open, never after a failed one.
#[cfg(feature = "reporter")]
#[wasm_bindgen(js_name = openTicket, unchecked_return_type = "Promise<TicketHandle>")]
pub fn open_ticket(
    link: String,
    pinned_head: Option<Ts<PinnedHead>>,
    kept: Option<String>,
) -> Promise {
    promise(async move {
        let link = parse_link(&link)?;
        let kept = kept_from_js(kept.as_deref())?;
        let mut pin = initial_pin(pinned_head)?;
        // A link that carries the directory head its creator verified pins it (PROTOCOL.md §7.4).
        if let Some(head) = link.head() {
            pin.import(head)?;
        }
        let pin = RefCell::new(pin);
        let transport = FetchTransport::new();
        let directory = verify_directory(&transport, &pin).await?;
        let ticket =
            ReporterTicket::open_with_state(&transport, &directory, link, kept.as_deref()).await?;
        Ok(TicketHandle::reporter(transport, pin.into_inner(), directory, ticket)?.into())
    })
}

/// The kept state from the page (`keptState`'s value, base64url), if any.
///
/// # Errors
/// `kept.malformed`.
pub(crate) fn kept_from_js(kept: Option<&str>) -> Result<Option<Vec<u8>>> {
    kept.filter(|k| !k.is_empty())
        .map(|text| {
            crate::util::unb64(text, "the kept state").map_err(|_| {
                ClientError::new(
                    "kept.malformed",
                    "The state kept from an earlier visit of this ticket is damaged.",
                )
            })
        })
        .transpose()
}

/// The verified state of the ticket's chains to keep until the next visit (PROTOCOL.md
/// §10.4), base64url: pass it as `kept` when opening the ticket again. Keep it after every
/// successful open, refresh and send.
#[wasm_bindgen(js_name = keptState, unchecked_return_type = "Promise<string>")]
pub fn kept_state(handle: &TicketHandle) -> Promise {
    let inner = handle.inner.clone();
    promise(async move {
        let state = inner.state.acquire().await;
        let bytes = match &*state {
            #[cfg(feature = "reporter")]
            TicketState::Reporter { ticket, .. } => ticket.state_bytes(),
            #[cfg(feature = "reporter")]
            TicketState::Recovered { ticket, .. } => ticket.state_bytes(),
            #[cfg(feature = "account")]
            TicketState::Account(ticket) => ticket.state_bytes(),
            #[cfg(feature = "admin")]
            TicketState::Admin(ticket) => ticket.state_bytes(),
            #[cfg(feature = "session")]
            TicketState::Ended => return Err(signed_out()),
        };
        Ok(crate::util::b64(&bytes).into())
    })
}

/// Resolves to the ticket's view ([`TicketView`]) without a request: `{ticket_id, closed,
/// messages}`, for an administrator's ticket also `reporter`, `opening`, `notes`,
/// `debug_data`, `attachments`.
#[wasm_bindgen(unchecked_return_type = "Promise<TicketView>")]
pub fn view(handle: &TicketHandle) -> Promise {
    let inner = handle.inner.clone();
    promise(async move {
        let state = inner.state.acquire().await;
        to_js(&state.view()?)
    })
}

/// Reads, verifies and decrypts new messages (after a live notification, or every 6 s
/// without one). Resolves to the view with `added`, the number of new messages (and notes).
#[wasm_bindgen(unchecked_return_type = "Promise<RefreshedView>")]
pub fn refresh(handle: &TicketHandle) -> Promise {
    let inner = handle.inner.clone();
    promise(async move {
        let mut state = inner.state.acquire().await;
        let added = inner.refresh(&mut state).await?;
        let view = to_js(&state.view()?)?;
        let _ = Reflect::set(&view, &"added".into(), &(added as f64).into());
        Ok(view)
    })
}

/// A text for a message or note: not blank; `author` only for administrators.
fn text_content(text: String, author: Option<String>) -> Result<Text> {
    if text.trim().is_empty() {
        return Err(invalid("The message is empty."));
    }
    Ok(Text {
        text,
        sent_at: now_seconds(),
        author: author.filter(|a| !a.trim().is_empty()),
        ..Text::default()
    })
}

fn admin_only() -> ClientError {
    invalid("Only an administrator's ticket handle (openAdminTicket) does this.")
}

/// Sends `text` as a reply. On an administrator's ticket the reply is signed "the support
/// team" unless `author` gives a display name. Resolves to the view.
#[wasm_bindgen(unchecked_return_type = "Promise<TicketView>")]
pub fn reply(handle: &TicketHandle, text: String, author: Option<String>) -> Promise {
    post_text(handle, text, author, false)
}

/// Writes an internal note (administrators; readable by administrators only), signed with
/// `author` if given. Resolves to the view.
#[cfg(feature = "admin")]
#[wasm_bindgen(unchecked_return_type = "Promise<TicketView>")]
pub fn note(handle: &TicketHandle, text: String, author: Option<String>) -> Promise {
    post_text(handle, text, author, true)
}

/// `reply` (a message) or `note` (an internal note, administrators only); a named `author`
/// only on an administrator's ticket.
fn post_text(handle: &TicketHandle, text: String, author: Option<String>, note: bool) -> Promise {
    post(handle, move |state| {
        if note && !state.is_admin() {
            return Err(admin_only());
        }
        let text = text_content(text, author)?;
        if text.author.is_some() && !state.is_admin() {
            return Err(invalid("Only administrators sign replies with a name."));
        }
        Ok(if note {
            Content::InternalNote(text)
        } else {
            Content::Message(text)
        })
    })
}

/// Posts the content `make` gives for the ticket's state (after its checks), one operation at
/// a time on the handle, and resolves to the view.
fn post(
    handle: &TicketHandle,
    make: impl FnOnce(&TicketState) -> Result<Content> + 'static,
) -> Promise {
    let inner = handle.inner.clone();
    promise(async move {
        let mut state = inner.state.acquire().await;
        let content = make(&state)?;
        inner.send(&mut state, content).await?;
        to_js(&state.view()?)
    })
}

/// Closes the ticket. Resolves to the view (`closed: true`).
#[wasm_bindgen(unchecked_return_type = "Promise<TicketView>")]
pub fn close(handle: &TicketHandle) -> Promise {
    status_change(handle, StatusRequest::Close)
}

/// Reopens a closed, waiting or on-hold ticket (administrators). Resolves to the view.
#[cfg(feature = "admin")]
#[wasm_bindgen(unchecked_return_type = "Promise<TicketView>")]
pub fn reopen(handle: &TicketHandle) -> Promise {
    status_change(handle, StatusRequest::Reopen)
}

/// Sets the ticket to "waiting for the reporter" (administrators, PROTOCOL.md §10.3): the
/// reporter's next message returns it to open. Resolves to the view (`status: "waiting"`).
#[cfg(feature = "admin")]
#[wasm_bindgen(js_name = setWaiting, unchecked_return_type = "Promise<TicketView>")]
pub fn set_waiting(handle: &TicketHandle) -> Promise {
    status_change(handle, StatusRequest::Waiting)
}

/// Puts the ticket on hold (administrators, PROTOCOL.md §10.3). Resolves to the view
/// (`status: "on_hold"`).
#[cfg(feature = "admin")]
#[wasm_bindgen(js_name = putOnHold, unchecked_return_type = "Promise<TicketView>")]
pub fn put_on_hold(handle: &TicketHandle) -> Promise {
    status_change(handle, StatusRequest::OnHold)
}

/// Replaces the ticket's tags (administrators; a tags message on the notes chain, PROTOCOL.md
/// §14): `tags` is the whole set after the change, as typed (each trimmed and lowercased,
/// blanks and duplicates dropped, sorted). Resolves to the view, whose `tags` are the new set.
/// Rejects with `tags.invalid` (a tag that is not 1 to 32 of `a-z 0-9 - _`, or more than 20)
/// before anything is sent.
#[cfg(feature = "admin")]
#[wasm_bindgen(js_name = setTags, unchecked_return_type = "Promise<TicketView>")]
pub fn set_tags(handle: &TicketHandle, tags: Vec<String>) -> Promise {
    post(handle, move |state| {
        if !state.is_admin() {
            return Err(admin_only());
        }
        Ok(Content::Tags(crate::content::TagSet {
            tags: crate::content::normalise_tags(&tags)?,
            sent_at: now_seconds(),
            author: None,
        }))
    })
}

/// The status message a page asks to post.
#[derive(Clone, Copy)]
// The reporter's module (without "panel") only closes.
#[cfg_attr(not(feature = "admin"), allow(dead_code))]
enum StatusRequest {
    Close,
    Reopen,
    Waiting,
    OnHold,
}

/// Posts the status message `request` asks for; all but a close are the administrators'
/// (`admin_only` for anyone else, before anything is sent).
fn status_change(handle: &TicketHandle, request: StatusRequest) -> Promise {
    post(handle, move |state| {
        let change = StatusChange {
            sent_at: now_seconds(),
            author: None,
        };
        match request {
            StatusRequest::Close => Ok(Content::Close(change)),
            _ if !state.is_admin() => Err(admin_only()),
            StatusRequest::Reopen => Ok(Content::Reopen(change)),
            StatusRequest::Waiting => Ok(Content::Waiting(change)),
            StatusRequest::OnHold => Ok(Content::OnHold(change)),
        }
    })
}

/// Assigns the ticket to an administrator of the verified directory (`keyId` as the views
/// write it), or unassigns it (`null`). Resolves to `{assigned_to}`.
#[cfg(feature = "admin")]
#[wasm_bindgen(unchecked_return_type = "Promise<AssignmentView>")]
pub fn assign(handle: &TicketHandle, key_id: Option<String>) -> Promise {
    let inner = handle.inner.clone();
    promise(async move {
        let key = key_id
            .as_deref()
            .filter(|k| !k.trim().is_empty())
            .map(parse_key_id)
            .transpose()?;
        let state = inner.state.acquire().await;
        if !state.is_admin() {
            return Err(admin_only());
        }
        let core = inner.core()?;
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        admin
            .assign(&inner.transport, inner.ticket_id, key.as_ref())
            .await?;
        core.pin.borrow_mut().accept(admin.directory())?;
        to_js(&AssignmentView {
            assigned_to: key.as_ref().map(key_id_text),
        })
    })
}

/// How many messages support sent after `seq` (the last one the person saw): messages,
/// attachments, closes and reopens by an administrator. Resolves to a number, without a
/// request (call `refresh` first).
#[wasm_bindgen(js_name = unreadAnswers, unchecked_return_type = "Promise<number>")]
pub fn unread_answers_of(handle: &TicketHandle, seq: f64) -> Promise {
    let inner = handle.inner.clone();
    promise(async move {
        let after = whole_number(seq, "The last seen seq")?;
        let state = inner.state.acquire().await;
        Ok((unread_answers(state.messages()?, after) as f64).into())
    })
}

/// Encrypts `data` as a new attachment, uploads it chunk by chunk and posts its reference
/// (kind 3) to the conversation. `progress(sent, total)`, if given, is called after each
/// stored chunk with bytes of the encrypted stream. Rate limits and network failures are
/// waited out (up to 10 times in a row, 1 to 8 s apart). Resolves to the view.
#[wasm_bindgen(js_name = uploadAttachment, unchecked_return_type = "Promise<TicketView>")]
pub fn upload_attachment(
    handle: &TicketHandle,
    data: Uint8Array,
    name: String,
    mime_type: String,
    #[wasm_bindgen(unchecked_param_type = "Progress")] progress: Option<Function>,
) -> Promise {
    let inner = handle.inner.clone();
    promise(async move {
        let report = |sent: u64, total: u64| {
            if let Some(progress) = &progress {
                // A throwing callback does not stop the upload.
                let _ = progress.call2(
                    &JsValue::NULL,
                    &(sent as f64).into(),
                    &(total as f64).into(),
                );
            }
        };
        let size = u64::from(data.length());
        let mut uploader = Uploader::start(
            &inner.transport,
            &inner.bearer,
            inner.ticket_id,
            AttachmentFile {
                name,
                mime_type,
                size,
            },
            report,
            &mut system_rng(),
        )
        .await?;
        let mut offset = 0u32;
        let read = |piece: &mut [u8]| {
            let end = offset
                .saturating_add(u32::try_from(piece.len()).unwrap_or(u32::MAX))
                .min(data.length());
            let piece = &mut piece[..(end - offset) as usize];
            data.subarray(offset, end).copy_to(piece);
            offset = end;
            Ok(piece.len())
        };
        let wait = async |delay: core::time::Duration| {
            sleep(i32::try_from(delay.as_millis()).unwrap_or(i32::MAX)).await;
        };
        let reference = upload_with_retries(&mut uploader, read, now_seconds, wait).await?;
        let mut state = inner.state.acquire().await;
        inner
            .send(&mut state, Content::AttachmentRef(reference))
            .await?;
        to_js(&state.view()?)
    })
}

/// Downloads, verifies and decrypts the attachment of the conversation message at `seq`.
/// Resolves to `{name, type, size, data: Uint8Array}` only once the whole file verified.
/// `progress(done, size)`, if given, counts decrypted bytes.
#[wasm_bindgen(
    js_name = downloadAttachment,
    unchecked_return_type = "Promise<DownloadedAttachment>"
)]
pub fn download_attachment(
    handle: &TicketHandle,
    seq: f64,
    #[wasm_bindgen(unchecked_param_type = "Progress")] progress: Option<Function>,
) -> Promise {
    let inner = handle.inner.clone();
    promise(async move {
        let reference = {
            let state = inner.state.acquire().await;
            state
                .messages()?
                .iter()
                .find(|m| m.seq as f64 == seq)
                .and_then(|m| match &m.content {
                    Ok(Content::AttachmentRef(reference)) => Some(reference.clone()),
                    _ => None,
                })
                .ok_or_else(|| {
                    invalid("No readable attachment is at this position of the conversation.")
                })?
        };
        let plain = download_to_vec(
            &inner.transport,
            &inner.bearer,
            inner.ticket_id,
            &reference,
            |done, size| {
                if let Some(progress) = &progress {
                    let _ = progress.call2(
                        &JsValue::NULL,
                        &(done as f64).into(),
                        &(size as f64).into(),
                    );
                }
            },
        )
        .await?;
        let result = js_sys::Object::new();
        let _ = Reflect::set(&result, &"name".into(), &reference.name.as_str().into());
        let _ = Reflect::set(
            &result,
            &"type".into(),
            &reference.mime_type.as_str().into(),
        );
        let _ = Reflect::set(&result, &"size".into(), &(reference.size as f64).into());
        let _ = Reflect::set(&result, &"data".into(), &Uint8Array::from(plain.as_slice()));
        let result = JsValue::from(result);
        Ok(result)
    })
}

/// Subscribes to the ticket's live updates over a streaming `fetch` and calls
/// `onEvent({event, ticket?, chain?, seq?})` for each: `ready` once the subscription is in
/// place, `message` for each new message (administrators also hear of notes, `chain: 1`),
/// `resync` when notifications were missed (also for a notification that does not parse).
/// Each one means: call `refresh(handle)`. Resolves when the server ends the stream (or after
/// `stopListening`), rejects when it fails: then poll every 6 s (`Poller`) and subscribe again
/// later.
#[wasm_bindgen(unchecked_return_type = "Promise<void>")]
pub fn listen(
    handle: &TicketHandle,
    #[wasm_bindgen(unchecked_param_type = "LiveListener")] on_event: Function,
) -> Promise {
    let inner = handle.inner.clone();
    promise(async move {
        listen_stream(
            &inner.transport,
            ticket_events_path(&inner.ticket_id),
            &inner.bearer,
            &inner.reader,
            &on_event,
        )
        .await
    })
}

/// Ends the running `listen` of this handle (its promise then resolves).
#[wasm_bindgen(js_name = stopListening)]
pub fn stop_listening(handle: &TicketHandle) {
    stop_stream(&handle.inner.reader);
}

/// Bytes of the encrypted stream of an `n`-byte file (PROTOCOL.md §13: the nonce, the file,
/// a 16-byte tag per 64 KiB chunk): what the instance's `max_attachment_bytes` limits.
/// `Infinity` beyond any size.
#[wasm_bindgen(js_name = encryptedLen)]
pub fn encrypted_len_of(n: f64) -> f64 {
    sealdesk_crypto::encrypted_len(n.max(0.0) as u64).map_or(f64::INFINITY, |len| len as f64)
}

/// The largest file (plaintext bytes) whose encrypted stream fits in `maxEncrypted` bytes
/// (the instance's `max_attachment_bytes`): the limit per file the pages announce.
#[wasm_bindgen(js_name = largestAttachment)]
pub fn largest_attachment_of(max_encrypted: f64) -> f64 {
    largest_attachment(max_encrypted.max(0.0) as u64) as f64
}
