//! Recovery in the browser ("resend access link", PROTOCOL.md §11.1): claiming a ticket with a
//! new key made here, the claim's state, opening the ticket once approved; and, in the panel,
//! the pending claims, approval and refusal.

use std::cell::RefCell;

use js_sys::Promise;
use sealdesk_crypto::{TicketId, system_rng};
use serde::Serialize;
use tsify::Ts;
use wasm_bindgen::prelude::*;

#[cfg(feature = "panel")]
use super::admin::AdminHandle;
use super::bridge::{FetchTransport, promise, to_js, verify_directory};
use super::ticket::{TicketHandle, initial_pin, kept_from_js};
#[cfg(feature = "panel")]
use crate::error::ClientError;
use crate::error::Result;
use crate::recovery::{self, ClaimState, RecoveredKey, RecoveredTicket, RecoveryLink};
use crate::util::{b64, unb64_array};
use crate::wasm::input::{PinnedHead, parse_ticket_id};

/// A recovered key to keep in this browser until, and after, approval: `{ticket_id,
/// fingerprint, seed, reader}` (`seed` and `reader` are 32-byte secrets in base64url: keep
/// them as the ticket link would be kept).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct RecoveredKeyView {
    /// The ticket id (hex).
    pub ticket_id: String,
    /// The new key's fingerprint (PROTOCOL.md §4.3), to show and compare.
    pub fingerprint: String,
    /// The identity seed (base64url).
    pub seed: String,
    /// The reader token (base64url).
    pub reader: String,
}

fn key_view(key: &RecoveredKey) -> RecoveredKeyView {
    RecoveredKeyView {
        ticket_id: key.ticket_id().to_hex(),
        fingerprint: key.fingerprint(),
        seed: b64(key.seed().as_bytes()),
        reader: b64(key.reader().as_bytes()),
    }
}

fn key_from_js(ticket_id: &str, seed: &str, reader: &str) -> Result<RecoveredKey> {
    let id: TicketId = parse_ticket_id(ticket_id)?;
    let what = "the kept recovery key";
    Ok(RecoveredKey::from_parts(
        id,
        unb64_array::<32>(seed, what)?,
        unb64_array::<32>(reader, what)?,
    ))
}

/// Claims the ticket of a mailed recovery link (the whole URL or its fragment): makes a new
/// key and reader token here and registers a pending claim signed by the key. Resolves to a
/// `RecoveredKeyView`. Errors: `recovery.malformed_link`, `server.invalid_recovery`.
#[wasm_bindgen(js_name = claimRecovery, unchecked_return_type = "Promise<RecoveredKeyView>")]
pub fn claim_recovery(link: String) -> Promise {
    promise(async move {
        let link = RecoveryLink::parse(&link)?;
        let key = recovery::claim(&FetchTransport::new(), &link, &mut system_rng()).await?;
        to_js(&key_view(&key))
    })
}

/// Where a kept claim stands: resolves to `"pending"`, `"approved"` or `"gone"` (declined or
/// expired).
#[wasm_bindgen(js_name = recoveryState, unchecked_return_type = "Promise<string>")]
pub fn recovery_state(ticket_id: String, seed: String, reader: String) -> Promise {
    promise(async move {
        let key = key_from_js(&ticket_id, &seed, &reader)?;
        let state = recovery::claim_state(&FetchTransport::new(), &key).await?;
        Ok(match state {
            ClaimState::Pending => "pending",
            ClaimState::Approved => "approved",
            ClaimState::Gone => "gone",
        }
        .into())
    })
}

/// Opens a ticket with an approved recovered key (the parts `claimRecovery` gave): verifies
/// the directory (extending `pinnedHead`) and the whole conversation (extending `kept`, as
/// `openTicket`). Resolves to a `TicketHandle`.
#[wasm_bindgen(js_name = openRecoveredTicket, unchecked_return_type = "Promise<TicketHandle>")]
pub fn open_recovered_ticket(
    ticket_id: String,
    seed: String,
    reader: String,
    pinned_head: Option<Ts<PinnedHead>>,
    kept: Option<String>,
) -> Promise {
    promise(async move {
        let key = key_from_js(&ticket_id, &seed, &reader)?;
        let kept = kept_from_js(kept.as_deref())?;
        let pin = RefCell::new(initial_pin(pinned_head)?);
        let transport = FetchTransport::new();
        let directory = verify_directory(&transport, &pin).await?;
        let ticket = RecoveredTicket::open(&transport, &directory, key, kept.as_deref()).await?;
        Ok(TicketHandle::recovered(transport, pin.into_inner(), directory, ticket).into())
    })
}

/// A pending recovery claim as the panel shows it.
#[cfg(feature = "panel")]
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct RecoveryClaimView {
    /// The ticket id (hex).
    pub ticket_id: String,
    /// The claimed key id (base64url).
    pub key_id: String,
    /// Its fingerprint, computed here.
    pub fingerprint: String,
    /// The address of the request.
    pub email: String,
    /// Whether it is the address the reporter typed in the first message: `true`, `false`, or
    /// `null` when the first message has none or could not be read.
    pub email_matches: Option<bool>,
    /// Unix seconds.
    pub claimed_at: u64,
}

/// The pending recovery claims, oldest first, each checked here: its signature (claims that
/// fail are left out) and, decrypting the ticket's first message, whether the address typed
/// there is the request's. Resolves to `RecoveryClaimView[]`.
#[cfg(feature = "panel")]
#[wasm_bindgen(unchecked_return_type = "Promise<RecoveryClaimView[]>")]
pub fn recoveries(admin: &AdminHandle) -> Promise {
    let core = admin.core();
    promise(async move {
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        let claims = admin.recoveries(&core.transport).await?;
        let mut views = Vec::new();
        for claim in claims {
            let email_matches = match admin.read_ticket(&core.transport, claim.ticket_id).await {
                Ok(ticket) => claim.email_matches(&ticket),
                Err(_) => None,
            };
            views.push(RecoveryClaimView {
                ticket_id: claim.ticket_id.to_hex(),
                key_id: crate::wasm::input::key_id_text(&claim.key_id()),
                fingerprint: claim.fingerprint.clone(),
                email: claim.email.clone(),
                email_matches,
                claimed_at: claim.claimed_at,
            });
        }
        core.pin.borrow_mut().accept(admin.directory())?;
        to_js(&views)
    })
}

/// The pending claim of `key_id` on `ticket_id`, as the server lists it now.
#[cfg(feature = "panel")]
async fn find_claim(
    transport: &FetchTransport,
    admin: &crate::admin::Admin,
    ticket_id: &str,
    key_id: &str,
) -> Result<recovery::PendingClaim> {
    let id = parse_ticket_id(ticket_id)?;
    let key_id = crate::wasm::input::parse_key_id(key_id)?;
    admin
        .recoveries(transport)
        .await?
        .into_iter()
        .find(|c| c.ticket_id == id && c.key_id() == key_id)
        .ok_or_else(|| {
            ClientError::new(
                "recovery.not_pending",
                "This recovery is no longer waiting.",
            )
        })
}

/// Approves a recovery: posts the endorse message for the claimed key (everyone in the
/// conversation sees it) with the keys of the conversation, then lets its browser in.
/// Resolves to the number of keys wrapped for it.
#[cfg(feature = "panel")]
#[wasm_bindgen(js_name = approveRecovery, unchecked_return_type = "Promise<number>")]
pub fn approve_recovery(admin: &AdminHandle, ticket_id: String, key_id: String) -> Promise {
    let core = admin.core();
    promise(async move {
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        let claim = find_claim(&core.transport, admin, &ticket_id, &key_id).await?;
        let mut ticket = admin.read_ticket(&core.transport, claim.ticket_id).await?;
        let stored = admin
            .approve_recovery(&core.transport, &mut ticket, &claim, &mut system_rng())
            .await?;
        core.pin.borrow_mut().accept(admin.directory())?;
        Ok((stored as f64).into())
    })
}

/// Declines a recovery. Resolves to `undefined`.
#[cfg(feature = "panel")]
#[wasm_bindgen(js_name = declineRecovery, unchecked_return_type = "Promise<void>")]
pub fn decline_recovery(admin: &AdminHandle, ticket_id: String, key_id: String) -> Promise {
    let core = admin.core();
    promise(async move {
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        let claim = find_claim(&core.transport, admin, &ticket_id, &key_id).await?;
        admin.decline_recovery(&core.transport, &claim).await?;
        Ok(JsValue::UNDEFINED)
    })
}
