//! Recovery in the browser ("resend access link", PROTOCOL.md §11.1): claiming a ticket with a
//! new key made here, the claim's state, opening the ticket once approved (the anonymous
//! pages' module). The panel's side is [`super::recoveries`].

use std::cell::RefCell;

use js_sys::Promise;
use sealdesk_crypto::{TicketId, system_rng};
use serde::Serialize;
use tsify::Ts;
use wasm_bindgen::prelude::*;

use super::bridge::{FetchTransport, promise, to_js, verify_directory};
use super::ticket::{TicketHandle, initial_pin, kept_from_js};
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
