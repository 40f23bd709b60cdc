//! Remembered devices (spec/THREAT-MODEL.md "Remembered devices"): a signed-in account as bytes
//! ([`Account::to_remembered`]) wrapped with AES-256-GCM by a WebCrypto key the page made
//! non-extractable, and back. The wrapping runs here, through `crypto.subtle`: the plaintext
//! lives in the module's memory (zeroized) and, for the length of one synchronous call, in a
//! JavaScript copy that is overwritten with zeros as soon as WebCrypto has read it. The same
//! functions hand an account from the Web Worker that ran Argon2id to the page (the page
//! passes the worker its wrapping key; `CryptoKey`s are structured-cloneable), and
//! `logoutEverywhere` ends every session of the account.

use js_sys::{Object, Promise, Reflect, Uint8Array};
use sealdesk_crypto::Zeroizing;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::account::AccountHandle;
use super::bridge::{FetchTransport, describe, now_seconds, promise};
use super::session::Core;
use crate::account::Account;
use crate::error::{ClientError, Result};

/// AES-GCM's nonce length, bytes: the first bytes of a wrapped account.
const NONCE_LEN: usize = 12;
/// AES-GCM's tag length, bytes.
const TAG_LEN: usize = 16;
/// Authenticated with every wrapped account, so the key wraps nothing else by mistake.
const WRAP_CONTEXT: &[u8] = b"sealdesk remembered account v1";

fn crypto_failed(value: &JsValue) -> ClientError {
    ClientError::new(
        "device.crypto",
        format!("This browser's WebCrypto refused: {}", describe(value)),
    )
}

#[wasm_bindgen]
extern "C" {
    /// `crypto.subtle.encrypt` (windows and workers alike).
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = encrypt, catch)]
    fn subtle_encrypt(
        algorithm: &Object,
        key: &JsValue,
        data: &Uint8Array,
    ) -> std::result::Result<Promise, JsValue>;

    /// `crypto.subtle.decrypt`.
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = decrypt, catch)]
    fn subtle_decrypt(
        algorithm: &Object,
        key: &JsValue,
        data: &Uint8Array,
    ) -> std::result::Result<Promise, JsValue>;

    /// `crypto.getRandomValues`: the browser's CSPRNG, which the module's own generator draws
    /// from too.
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
    fn get_random_values(array: &Uint8Array) -> std::result::Result<JsValue, JsValue>;
}

/// AES-GCM's parameters with `nonce` and the associated data `context`.
fn aes_gcm(nonce: &Uint8Array, context: &[u8]) -> Result<Object> {
    let algorithm = Object::new();
    for (name, value) in [
        ("name", JsValue::from_str("AES-GCM")),
        ("iv", nonce.into()),
        ("additionalData", Uint8Array::from(context).into()),
    ] {
        Reflect::set(&algorithm, &name.into(), &value).map_err(|e| crypto_failed(&e))?;
    }
    Ok(algorithm)
}

/// The signed-in account wrapped with `wrappingKey` (an AES-GCM `CryptoKey` with the
/// "encrypt" usage; the page makes it with `extractable: false`): resolves to a `Uint8Array`,
/// a 12-byte nonce then the AES-GCM ciphertext and tag of the account's session token,
/// identity seed, app data, salt and Argon2id parameters. Store it only next to the key
/// (IndexedDB); `resumeAccount` opens it. Rejects with `account.signed_out` after `logout`,
/// `device.crypto` when WebCrypto refuses the key.
#[wasm_bindgen(js_name = rememberAccount, unchecked_return_type = "Promise<Uint8Array>")]
pub fn remember_account(
    account: &AccountHandle,
    #[wasm_bindgen(unchecked_param_type = "CryptoKey")] wrapping_key: JsValue,
) -> Promise {
    let core = account.core.clone();
    promise(async move {
        let plain = {
            let role = core.state.acquire().await;
            role.account()?.to_remembered()
        };
        Ok(seal_under(&wrapping_key, WRAP_CONTEXT, &plain)
            .await?
            .into())
    })
}

/// `plain` sealed with AES-256-GCM under the device's `wrapping_key`, authenticating
/// `context`: a 12-byte random nonce, then the ciphertext and tag. The plaintext's JavaScript
/// copy is overwritten with zeros as soon as WebCrypto has read it.
///
/// # Errors
/// `device.crypto` when WebCrypto refuses the key.
pub(crate) async fn seal_under(
    wrapping_key: &JsValue,
    context: &[u8],
    plain: &[u8],
) -> Result<Uint8Array> {
    let nonce = Uint8Array::new_with_length(NONCE_LEN as u32);
    get_random_values(&nonce).map_err(|e| crypto_failed(&e))?;
    let algorithm = aes_gcm(&nonce, context)?;
    let copy = Uint8Array::from(plain);
    // WebCrypto copies `copy` before `encrypt` returns: overwrite it at once.
    let started = subtle_encrypt(&algorithm, wrapping_key, &copy);
    copy.fill(0, 0, copy.length());
    let started = started.map_err(|e| crypto_failed(&e));
    let sealed = JsFuture::from(started?)
        .await
        .map_err(|e| crypto_failed(&e))?;
    let sealed = Uint8Array::new(&sealed);
    let wrapped = Uint8Array::new_with_length(NONCE_LEN as u32 + sealed.length());
    wrapped.set(&nonce, 0);
    wrapped.set(&sealed, NONCE_LEN as u32);
    Ok(wrapped)
}

/// What [`seal_under`] sealed with the same key and `context`.
///
/// # Errors
/// `device.malformed` (damaged bytes, another key or another context), `device.crypto`.
pub(crate) async fn open_under(
    wrapping_key: &JsValue,
    context: &[u8],
    bytes: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    if bytes.len() < NONCE_LEN + TAG_LEN {
        return Err(malformed());
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let algorithm = aes_gcm(&Uint8Array::from(nonce), context)?;
    let started = subtle_decrypt(&algorithm, wrapping_key, &Uint8Array::from(sealed))
        .map_err(|e| crypto_failed(&e))?;
    // AES-GCM's refusal (an OperationError) means other bytes or another key.
    let opened = JsFuture::from(started).await.map_err(|_| malformed())?;
    let opened = Uint8Array::new(&opened);
    let plain = Zeroizing::new(opened.to_vec());
    opened.fill(0, 0, opened.length());
    Ok(plain)
}

/// A signed-in account again from `rememberAccount`'s bytes and the same `wrappingKey`, with
/// no password and no request (a session ended since shows at the first request as
/// `server.unauthorized`). Resolves to an `AccountHandle`. Rejects with `device.malformed`
/// (damaged bytes, or another key: AES-GCM refuses them), `device.expired` (the session's
/// expiry passed), `device.crypto`.
#[wasm_bindgen(js_name = resumeAccount, unchecked_return_type = "Promise<AccountHandle>")]
pub fn resume_account(
    wrapped: Uint8Array,
    #[wasm_bindgen(unchecked_param_type = "CryptoKey")] wrapping_key: JsValue,
) -> Promise {
    promise(async move {
        let plain = open_under(&wrapping_key, WRAP_CONTEXT, &wrapped.to_vec()).await?;
        let account = Account::from_remembered(&plain, now_seconds())?;
        Ok(AccountHandle {
            core: Core::new(FetchTransport::new(), account),
        }
        .into())
    })
}

fn malformed() -> ClientError {
    ClientError::new(
        "device.malformed",
        "What this device remembered of the account cannot be opened; sign in again.",
    )
}

/// "Sign out everywhere": ends every session of the account on the server (every device and
/// tab signed in to it, this one included) and drops this sign-in's keys like `logout`.
/// Resolves to `undefined`; the keys are dropped even when the request fails.
#[wasm_bindgen(js_name = logoutEverywhere, unchecked_return_type = "Promise<void>")]
pub fn logout_everywhere(account: &AccountHandle) -> Promise {
    let core = account.core.clone();
    promise(async move {
        core.sign_out_everywhere().await?;
        Ok(JsValue::UNDEFINED)
    })
}
