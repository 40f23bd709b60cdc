//! What the pages send, checked before anything is derived or sent: the new-ticket form, ticket
//! and invite links, ticket and key ids, Argon2id parameters, usernames, the keyring's app data,
//! inbox filters and pinned directory heads. Every refusal is `input.invalid` unless said
//! otherwise, so a page can tell its own mistakes from the server's answers.

use std::collections::BTreeMap;

use base64ct::{Base64UrlUnpadded, Encoding};
use sealdesk_crypto::{
    Argon2Params, Directory, DirectoryHead, KeyId, MAX_KEYRING_LEN, TicketId, Zeroizing,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::admin::{InboxAssigned, InboxFilter, ListOrder};
use crate::error::{ClientError, Result};
use crate::reporter::{Opening, TicketLink};

/// An `input.invalid` error.
pub(crate) fn invalid(message: impl Into<String>) -> ClientError {
    ClientError::new("input.invalid", message)
}

/// The new-ticket form as the page sends it (`createTicket`, `createAccountTicket`; snake_case
/// as in the API). Optional strings that are empty or only spaces count as absent; unknown
/// members are refused.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(deny_unknown_fields)]
pub struct OpeningInput {
    /// The subject, not blank (at most 200 characters).
    pub subject: String,
    /// The first message, not blank (at most 65,536 characters).
    pub text: String,
    /// One of the instance's categories.
    #[serde(default)]
    pub category: Option<String>,
    /// The name the reporter gives.
    #[serde(default)]
    pub name: Option<String>,
    /// The email the reporter gives (travels encrypted).
    #[serde(default)]
    pub email: Option<String>,
    /// Marked urgent.
    #[serde(default)]
    pub urgent: bool,
    /// Where the server mails a notice of answers (spec/API.md; the server sees it).
    #[serde(default)]
    pub notify_email: Option<String>,
    /// The debug fields the reporter left in (sent as a second, encrypted message).
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Record<string, string>"))]
    pub debug: Option<BTreeMap<String, String>>,
}

/// Parses the new-ticket form: `{"subject", "text", "category"?, "name"?, "email"?,
/// "urgent"?, "notify_email"?, "debug"?}` (`debug`: an object of strings, the fields the
/// reporter left in). Optional strings that are empty or only spaces count as absent.
///
/// # Errors
/// `input.invalid` for other JSON (an unknown member, a wrong type) or an empty subject or
/// text.
pub fn parse_opening(json: &str) -> Result<Opening> {
    let input: OpeningInput = serde_json::from_str(json)
        .map_err(|e| invalid(format!("The new-ticket form is not valid: {e}.")))?;
    check_opening(input)
}

/// Checks the new-ticket form ([`OpeningInput`]) as [`parse_opening`] does.
///
/// # Errors
/// `input.invalid` for an empty subject or text.
pub fn check_opening(input: OpeningInput) -> Result<Opening> {
    if input.subject.trim().is_empty() || input.text.trim().is_empty() {
        return Err(invalid("A ticket needs a subject and a message."));
    }
    let present = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    Ok(Opening {
        subject: input.subject,
        text: input.text,
        category: present(input.category),
        name: present(input.name),
        email: present(input.email),
        urgent: input.urgent,
        notify_email: present(input.notify_email),
        debug: input.debug,
    })
}

/// Parses a ticket link as a person pastes it: a whole URL or `/help/ticket/{id}#{secret}`,
/// with surrounding spaces.
///
/// # Errors
/// `link.malformed`, `link.mismatch` (see [`TicketLink::parse`]).
pub fn parse_link(input: &str) -> Result<TicketLink> {
    TicketLink::parse(input.trim())
}

/// Parses a ticket id: 32 hexadecimal characters (surrounding spaces ignored).
///
/// # Errors
/// `input.invalid`.
pub fn parse_ticket_id(input: &str) -> Result<TicketId> {
    TicketId::from_hex(input.trim())
        .map_err(|_| invalid("A ticket id is 32 hexadecimal characters."))
}

/// A key id as the views write it: 32 bytes, unpadded base64url (43 characters).
pub fn key_id_text(key_id: &KeyId) -> String {
    Base64UrlUnpadded::encode_string(&key_id.0)
}

/// Parses a key id as the views write it ([`key_id_text`]).
///
/// # Errors
/// `input.invalid`.
pub fn parse_key_id(input: &str) -> Result<KeyId> {
    Base64UrlUnpadded::decode_vec(input.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .map(KeyId)
        .ok_or_else(|| invalid("A key id is 32 bytes of unpadded base64url (43 characters)."))
}

/// A solved proof of work as `proofOfWork` resolves to and `createTicket` takes it back:
/// `{challenge, nonce}` (spec/API.md, "Proof of work").
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(deny_unknown_fields)]
pub struct ProofInput {
    /// The challenge as the server issued it (32 bytes, base64url).
    pub challenge: String,
    /// The solving nonce (below 2^53).
    pub nonce: u64,
}

/// Argon2id parameters as the page writes them (the API's names, PROTOCOL.md §12.1).
#[derive(Clone, Copy, Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(deny_unknown_fields)]
pub struct Argon2Input {
    /// Memory, KiB (256 to 1,048,576).
    pub memory_kib: u32,
    /// Passes (1 to 64).
    pub iterations: u32,
    /// Lanes (1 to 16).
    pub parallelism: u32,
}

/// Parses Argon2id parameters `{"memory_kib", "iterations", "parallelism"}`; absent (or an empty
/// string) means `default`. Accepted from [`Argon2Params::TEST_ONLY_CHEAP`] (tests only) up to
/// [`Argon2Params::MAX`].
///
/// # Errors
/// `input.invalid` for other JSON or parameters outside that range.
pub fn parse_argon2(json: Option<&str>, default: Argon2Params) -> Result<Argon2Params> {
    let Some(json) = json.filter(|j| !j.trim().is_empty()) else {
        return Ok(default);
    };
    let input: Argon2Input = serde_json::from_str(json)
        .map_err(|e| invalid(format!("The Argon2id parameters are not valid: {e}.")))?;
    check_argon2(input)
}

/// Checks Argon2id parameters ([`Argon2Input`]) as [`parse_argon2`] does.
///
/// # Errors
/// `input.invalid` for parameters outside the accepted range.
pub fn check_argon2(input: Argon2Input) -> Result<Argon2Params> {
    let params = Argon2Params {
        memory_kib: input.memory_kib,
        iterations: input.iterations,
        parallelism: input.parallelism,
    };
    if !params.at_least(&Argon2Params::TEST_ONLY_CHEAP) || !Argon2Params::MAX.at_least(&params) {
        return Err(invalid(
            "Argon2id parameters go from memory_kib 256, iterations 1, parallelism 1 (tests \
             only) to memory_kib 1048576, iterations 64, parallelism 16.",
        ));
    }
    Ok(params)
}

/// Each parameter the larger of `a`'s and `b`'s.
pub fn stronger(a: Argon2Params, b: Argon2Params) -> Argon2Params {
    Argon2Params {
        memory_kib: a.memory_kib.max(b.memory_kib),
        iterations: a.iterations.max(b.iterations),
        parallelism: a.parallelism.max(b.parallelism),
    }
}

/// Checks a username for registration as the server will (1 to 64 characters of
/// `[A-Za-z0-9._-]`), before the password is derived.
///
/// # Errors
/// `input.invalid`.
pub fn check_username(username: &str) -> Result<()> {
    let valid = (1..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(invalid(
            "A username is 1 to 64 letters, digits, dots, hyphens or underscores.",
        ))
    }
}

/// Checks that a new password is not empty (the page sets its own rules beyond that).
///
/// # Errors
/// `input.invalid`.
pub fn check_new_password(password: &str) -> Result<()> {
    if password.is_empty() {
        Err(invalid("The password is empty."))
    } else {
        Ok(())
    }
}

/// Parses the inbox assignee filter: `"me"`, `"none"` (nobody), or whoever for `"any"`, an
/// empty string or none.
///
/// # Errors
/// `input.invalid` for anything else.
pub fn parse_inbox_assigned(assigned: Option<&str>) -> Result<Option<InboxAssigned>> {
    match assigned.map(str::trim) {
        None | Some("" | "any") => Ok(None),
        Some("me") => Ok(Some(InboxAssigned::Me)),
        Some("none") => Ok(Some(InboxAssigned::None)),
        Some(_) => Err(invalid("The inbox assignee is me, none or any.")),
    }
}

/// Parses the inbox order: `"newest"` (also for none) or `"oldest"`.
///
/// # Errors
/// `input.invalid` for anything else.
pub fn parse_inbox_order(order: Option<&str>) -> Result<ListOrder> {
    match order.map(str::trim) {
        None | Some("" | "newest") => Ok(ListOrder::Newest),
        Some("oldest") => Ok(ListOrder::Oldest),
        Some(_) => Err(invalid("The inbox order is newest or oldest.")),
    }
}

/// Parses the inbox filter: `"open"`, `"closed"`, `"waiting"`, `"on_hold"`, `"unanswered"`,
/// or every ticket for `"all"`, an empty string or none.
///
/// # Errors
/// `input.invalid`.
pub fn parse_inbox_status(status: Option<&str>) -> Result<Option<InboxFilter>> {
    match status.map(str::trim) {
        None | Some("" | "all") => Ok(None),
        Some("open") => Ok(Some(InboxFilter::Open)),
        Some("closed") => Ok(Some(InboxFilter::Closed)),
        Some("waiting") => Ok(Some(InboxFilter::Waiting)),
        Some("on_hold") => Ok(Some(InboxFilter::OnHold)),
        Some("unanswered") => Ok(Some(InboxFilter::Unanswered)),
        Some(_) => Err(invalid(
            "The inbox status is open, closed, waiting, on_hold, unanswered or all.",
        )),
    }
}

/// Largest app data a keyring holds, in bytes of UTF-8 (the keyring's 64 KiB less the identity
/// seed and the length).
pub const MAX_APP_DATA_BYTES: usize = MAX_KEYRING_LEN - 36;

/// Checks the keyring's app data as the page sends it: a JSON object, at most
/// [`MAX_APP_DATA_BYTES`] bytes. Returns the bytes to store (the page's text, unchanged).
///
/// # Errors
/// `input.invalid` for anything but a JSON object; `too_large` beyond the limit.
pub fn parse_app_data(json: &str) -> Result<Zeroizing<Vec<u8>>> {
    if json.len() > MAX_APP_DATA_BYTES {
        return Err(ClientError::new(
            "too_large",
            format!("The keyring holds at most {MAX_APP_DATA_BYTES} bytes of app data."),
        ));
    }
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(_)) => Ok(Zeroizing::new(json.as_bytes().to_vec())),
        _ => Err(invalid("The keyring's app data is a JSON object.")),
    }
}

/// The keyring's app data as text for the page.
///
/// # Errors
/// `account.bad_app_data` when it is not UTF-8 (written by another client).
pub fn app_data_text(bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        ClientError::new(
            "account.bad_app_data",
            "The keyring's app data is not text; another client wrote it.",
        )
    })
}

/// The token of an administrator invite given as a link (`…/admin/invite#<token>`) or alone:
/// 32 bytes of unpadded base64url.
///
/// # Errors
/// `input.invalid`.
pub fn invite_token(link: &str) -> Result<String> {
    let token = link
        .rsplit_once('#')
        .map_or(link, |(_, token)| token)
        .trim();
    match Base64UrlUnpadded::decode_vec(token) {
        Ok(bytes) if bytes.len() == 32 => Ok(token.to_owned()),
        _ => Err(invalid(
            "This is not an administrator invite (/admin/invite#<token>).",
        )),
    }
}

/// A directory head as the pages store it and the API writes it (PROTOCOL.md §7.4):
/// `{"seq": 3, "hash": "<32 bytes, base64url>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(deny_unknown_fields)]
pub struct PinnedHead {
    /// The head entry's position, from 0.
    pub seq: u64,
    /// The head entry's hash: 32 bytes, unpadded base64url.
    pub hash: String,
}

impl PinnedHead {
    /// The pages' form of `head`.
    pub fn of(head: &DirectoryHead) -> Self {
        PinnedHead {
            seq: head.seq,
            hash: Base64UrlUnpadded::encode_string(&head.hash),
        }
    }
}

/// A directory head as JSON ([`PinnedHead`]).
pub fn head_json(head: &DirectoryHead) -> Value {
    serde_json::to_value(PinnedHead::of(head)).unwrap_or(Value::Null)
}

/// Parses a directory head as [`head_json`] writes it.
///
/// # Errors
/// `input.invalid`.
pub fn parse_head(json: &str) -> Result<DirectoryHead> {
    let input: PinnedHead = serde_json::from_str(json).map_err(|_| bad_head())?;
    check_head(input)
}

fn bad_head() -> ClientError {
    invalid("A pinned head is {\"seq\": <number>, \"hash\": \"<32 bytes>\"}.")
}

/// Checks a directory head ([`PinnedHead`]) as [`parse_head`] does.
///
/// # Errors
/// `input.invalid`.
pub fn check_head(input: PinnedHead) -> Result<DirectoryHead> {
    let hash = Base64UrlUnpadded::decode_vec(&input.hash)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(bad_head)?;
    Ok(DirectoryHead {
        seq: input.seq,
        hash,
    })
}

/// The directory heads a handle holds the server to (PROTOCOL.md §7.4): the head of the last
/// directory it verified, and a head the page imported (from IndexedDB or the keyring) that the
/// next verified directory must contain. Every directory read passes [`DirectoryPin::head`] and then
/// [`DirectoryPin::accept`]s what it verified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirectoryPin {
    verified: Option<DirectoryHead>,
    imported: Option<DirectoryHead>,
}

impl DirectoryPin {
    /// The newest head known: what to export, and what a directory read must extend.
    pub fn head(&self) -> Option<DirectoryHead> {
        match (self.verified, self.imported) {
            (Some(v), Some(i)) => Some(if i.seq > v.seq { i } else { v }),
            (v, i) => v.or(i),
        }
    }

    /// Takes a head the page kept from an earlier visit. It is checked against the next
    /// directory read (which must contain it); one at the position of a known head with
    /// another hash is refused at once. Of two imported heads, the newer is kept.
    ///
    /// # Errors
    /// `directory.fork`.
    pub fn import(&mut self, head: DirectoryHead) -> Result<()> {
        for known in [self.verified, self.imported].into_iter().flatten() {
            if known.seq == head.seq && known.hash != head.hash {
                return Err(sealdesk_crypto::Error::DirectoryFork.into());
            }
        }
        if self.imported.is_none_or(|i| head.seq > i.seq) {
            self.imported = Some(head);
        }
        Ok(())
    }

    /// Checks that `directory` (verified) contains every kept head and keeps its head.
    ///
    /// # Errors
    /// `directory.rollback` (shorter than a kept head), `directory.fork` (another entry at a
    /// kept head's position); nothing changes then.
    pub fn accept(&mut self, directory: &Directory) -> Result<()> {
        for known in [self.verified, self.imported].into_iter().flatten() {
            directory.check_extends(&known)?;
        }
        self.verified = Some(directory.head());
        self.imported = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sealdesk_crypto::{DirectoryEntry, Identity, system_rng};

    use super::*;

    fn code<T>(result: Result<T>) -> Option<String> {
        result.err().map(|e| e.code)
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn opening_form() {
        let opening = parse_opening(
            r#"{"subject": "Uploads fail", "text": "Since today.", "category": "",
                "name": "Robin", "email": "  ", "urgent": true, "notify_email": "r@example.org",
                "debug": {"user_agent": "Test/1.0"}}"#,
        )
        .expect("opening");
        assert_eq!(opening.subject, "Uploads fail");
        assert_eq!(opening.category, None);
        assert_eq!(opening.name.as_deref(), Some("Robin"));
        assert_eq!(opening.email, None);
        assert!(opening.urgent);
        assert_eq!(opening.notify_email.as_deref(), Some("r@example.org"));
        assert_eq!(
            opening.debug.expect("debug")["user_agent"],
            "Test/1.0".to_owned()
        );
        let minimal = parse_opening(r#"{"subject": "s", "text": "t"}"#).expect("minimal");
        assert!(!minimal.urgent && minimal.debug.is_none());
        for bad in [
            "",
            "[]",
            r#"{"subject": "s"}"#,
            r#"{"subject": "s", "text": "t", "sbject": "typo"}"#,
            r#"{"subject": "s", "text": "t", "urgent": "yes"}"#,
            r#"{"subject": "s", "text": "t", "debug": {"n": 1}}"#,
            r#"{"subject": " ", "text": "t"}"#,
            r#"{"subject": "s", "text": ""}"#,
        ] {
            assert_eq!(
                code(parse_opening(bad)).as_deref(),
                Some("input.invalid"),
                "{bad}"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn links() {
        let mut rng = system_rng();
        let link = TicketLink::generate(&mut rng);
        let path = link.path();
        for pasted in [
            path.clone(),
            format!("https://desk.example.org{path}"),
            format!("  https://desk.example.org{path}\n"),
        ] {
            let parsed = parse_link(&pasted).expect("link");
            assert_eq!(parsed.ticket_id(), link.ticket_id());
            assert_eq!(parsed.path(), path);
        }
        let (id, secret) = path.split_once('#').expect("fragment");
        let other = TicketLink::generate(&mut rng).path();
        let swapped = format!("{}#{secret}", other.split_once('#').expect("fragment").0);
        assert_eq!(code(parse_link(&swapped)).as_deref(), Some("link.mismatch"));
        assert_eq!(code(parse_link(id)).as_deref(), Some("link.malformed"));
        assert_eq!(
            code(parse_link(&format!("{path}x"))).as_deref(),
            Some("link.malformed")
        );
        assert_eq!(
            code(parse_link("https://desk.example.org/help")).as_deref(),
            Some("link.malformed")
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn ids_and_invites() {
        let id = TicketId::generate(&mut system_rng());
        assert_eq!(
            parse_ticket_id(&format!(" {} ", id.to_hex())).ok(),
            Some(id)
        );
        assert_eq!(
            parse_ticket_id(&id.to_hex().to_uppercase()).ok(),
            Some(id),
            "either case"
        );
        for bad in ["", "xyz", &id.to_hex()[1..]] {
            assert_eq!(code(parse_ticket_id(bad)).as_deref(), Some("input.invalid"));
        }
        let key = KeyId([7; 32]);
        let text = key_id_text(&key);
        assert_eq!(text.len(), 43);
        assert_eq!(parse_key_id(&text).ok(), Some(key));
        for bad in ["", "AAAA", &format!("{text}A"), &format!("+{}", &text[1..])] {
            assert_eq!(code(parse_key_id(bad)).as_deref(), Some("input.invalid"));
        }
        let token = Base64UrlUnpadded::encode_string(&[9; 32]);
        for link in [
            format!("https://desk.example.org/admin/invite#{token}"),
            format!("/admin/invite#{token} "),
            token.clone(),
        ] {
            assert_eq!(invite_token(&link).ok().as_deref(), Some(token.as_str()));
        }
        for bad in ["", "/admin/invite#", "/admin/invite#abc", &token[1..]] {
            assert_eq!(code(invite_token(bad)).as_deref(), Some("input.invalid"));
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn argon2_parameters_and_accounts() {
        assert_eq!(
            parse_argon2(None, Argon2Params::DEFAULT).ok(),
            Some(Argon2Params::DEFAULT)
        );
        assert_eq!(
            parse_argon2(Some(" "), Argon2Params::DEFAULT).ok(),
            Some(Argon2Params::DEFAULT)
        );
        assert_eq!(
            parse_argon2(
                Some(r#"{"memory_kib": 256, "iterations": 1, "parallelism": 1}"#),
                Argon2Params::DEFAULT
            )
            .ok(),
            Some(Argon2Params::TEST_ONLY_CHEAP)
        );
        for bad in [
            "{}",
            "null",
            r#"{"memory_kib": 255, "iterations": 1, "parallelism": 1}"#,
            r#"{"memory_kib": 256, "iterations": 0, "parallelism": 1}"#,
            r#"{"memory_kib": 256, "iterations": 65, "parallelism": 1}"#,
            r#"{"memory_kib": 1048577, "iterations": 1, "parallelism": 1}"#,
            r#"{"memory_kib": 256, "iterations": 1, "parallelism": 1, "lanes": 1}"#,
            r#"{"memory_kib": -1, "iterations": 1, "parallelism": 1}"#,
        ] {
            assert_eq!(
                code(parse_argon2(Some(bad), Argon2Params::DEFAULT)).as_deref(),
                Some("input.invalid"),
                "{bad}"
            );
        }
        let strong = stronger(
            Argon2Params::TEST_ONLY_CHEAP,
            Argon2Params {
                memory_kib: 128,
                iterations: 4,
                parallelism: 1,
            },
        );
        assert_eq!(
            (strong.memory_kib, strong.iterations, strong.parallelism),
            (256, 4, 1)
        );

        assert!(check_username("Alice.B-c_9").is_ok());
        assert!(check_username(&"a".repeat(64)).is_ok());
        for bad in ["", "al ice", "ålice", "a@b", &"a".repeat(65)] {
            assert_eq!(code(check_username(bad)).as_deref(), Some("input.invalid"));
        }
        assert!(check_new_password("x").is_ok());
        assert_eq!(
            code(check_new_password("")).as_deref(),
            Some("input.invalid")
        );
        assert_eq!(parse_inbox_status(None).ok(), Some(None));
        assert_eq!(parse_inbox_status(Some("all")).ok(), Some(None));
        assert_eq!(
            parse_inbox_status(Some("unanswered")).ok(),
            Some(Some(InboxFilter::Unanswered))
        );
        assert_eq!(
            code(parse_inbox_status(Some("answered"))).as_deref(),
            Some("input.invalid")
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn app_data() {
        let data = r#"{"links": ["/help/ticket/x#y"], "pinned": {"seq": 1}}"#;
        assert_eq!(
            parse_app_data(data).expect("object").as_slice(),
            data.as_bytes()
        );
        for bad in ["", "[]", "\"text\"", "{", "null"] {
            assert_eq!(code(parse_app_data(bad)).as_deref(), Some("input.invalid"));
        }
        let big = format!("{{\"a\": \"{}\"}}", "x".repeat(MAX_APP_DATA_BYTES));
        assert_eq!(code(parse_app_data(&big)).as_deref(), Some("too_large"));
        let fits = format!("{{\"a\": \"{}\"}}", "x".repeat(MAX_APP_DATA_BYTES - 9));
        assert_eq!(fits.len(), MAX_APP_DATA_BYTES);
        assert!(parse_app_data(&fits).is_ok());
        assert_eq!(app_data_text(b"{}").ok().as_deref(), Some("{}"));
        assert_eq!(
            code(app_data_text(&[0xff, 0xfe])).as_deref(),
            Some("account.bad_app_data")
        );
    }

    /// Directories after each of three entries: genesis by `a`, add `b`, add `c`; and a fork of
    /// the second position (add `d` instead).
    fn directories() -> ([Directory; 3], Directory) {
        let mut rng = system_rng();
        let [a, b, c, d] = [(); 4].map(|()| Identity::generate(&mut rng).1);
        let genesis = DirectoryEntry::genesis(&a);
        let d0 = Directory::verify(core::slice::from_ref(&genesis)).expect("genesis");
        let add_b = DirectoryEntry::add(&d0, &a, b.public()).expect("add");
        let d1 = Directory::verify(&[genesis.clone(), add_b.clone()]).expect("add");
        let add_c = DirectoryEntry::add(&d1, &a, c.public()).expect("add");
        let d2 = Directory::verify(&[genesis.clone(), add_b, add_c]).expect("add");
        let add_d = DirectoryEntry::add(&d0, &a, d.public()).expect("add");
        let fork = Directory::verify(&[genesis, add_d]).expect("fork");
        ([d0, d1, d2], fork)
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pinned_heads_round_trip_and_hold() {
        let ([d0, d1, d2], fork) = directories();
        // The JSON round trip.
        let text = head_json(&d1.head()).to_string();
        assert_eq!(parse_head(&text).ok(), Some(d1.head()));
        let value: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value["seq"], 1);
        assert_eq!(value["hash"].as_str().map(str::len), Some(43));
        for bad in [
            "",
            "{}",
            r#"{"seq": 1}"#,
            r#"{"seq": -1, "hash": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
            r#"{"seq": 1, "hash": "AAAA"}"#,
            r#"{"seq": 1, "hash": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x": 1}"#,
        ] {
            assert_eq!(code(parse_head(bad)).as_deref(), Some("input.invalid"));
        }

        // Verified heads move forward; a shorter directory or a fork is refused.
        let mut pin = DirectoryPin::default();
        assert_eq!(pin.head(), None);
        pin.accept(&d1).expect("first");
        assert_eq!(pin.head(), Some(d1.head()));
        assert_eq!(code(pin.accept(&d0)).as_deref(), Some("directory.rollback"));
        assert_eq!(code(pin.accept(&fork)).as_deref(), Some("directory.fork"));
        assert_eq!(
            pin.head(),
            Some(d1.head()),
            "a refused directory changes nothing"
        );
        pin.accept(&d2).expect("extension");
        assert_eq!(pin.head(), Some(d2.head()));

        // An imported older head must be in the next directory; a newer one is what the next
        // read must extend.
        let mut pin = DirectoryPin::default();
        pin.import(d1.head()).expect("import");
        assert_eq!(pin.head(), Some(d1.head()));
        assert_eq!(code(pin.accept(&d0)).as_deref(), Some("directory.rollback"));
        assert_eq!(code(pin.accept(&fork)).as_deref(), Some("directory.fork"));
        pin.accept(&d2).expect("contains the import");
        pin.import(d0.head()).expect("older");
        assert_eq!(pin.head(), Some(d2.head()));
        assert_eq!(
            code(pin.import(fork.head())).as_deref(),
            None,
            "a fork at an unverified position is found on the next read"
        );
        assert_eq!(code(pin.accept(&d2)).as_deref(), Some("directory.fork"));
        let mut pin = DirectoryPin::default();
        pin.accept(&d1).expect("verified");
        assert_eq!(
            code(pin.import(fork.head())).as_deref(),
            Some("directory.fork")
        );
        pin.import(d2.head()).expect("newer");
        assert_eq!(pin.head(), Some(d2.head()));
        assert_eq!(code(pin.accept(&d1)).as_deref(), Some("directory.rollback"));
        pin.accept(&d2).expect("caught up");
        assert_eq!(pin.head(), Some(d2.head()));
    }
}
