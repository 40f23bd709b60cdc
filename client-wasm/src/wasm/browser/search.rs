//! The panel's search over every ticket ([`crate::search`]) as a JavaScript class, and its
//! copy at rest: sealed with AES-256-GCM under the remembered device's non-extractable
//! wrapping key (the one `rememberAccount` uses), so what IndexedDB holds of the decrypted
//! tickets opens only with that key, in this browser.

use std::cell::RefCell;

use js_sys::{Promise, Uint8Array};
use sealdesk_crypto::Zeroizing;
use wasm_bindgen::prelude::*;

use super::bridge::{promise, to_js};
use super::device::{open_under, seal_under};
use crate::error::Result;
use crate::search::{SearchDocument, SearchIndex as Index};

/// Authenticated with every sealed index, with the administrator's key id after it.
const INDEX_CONTEXT: &[u8] = b"sealdesk search index v1 ";

fn context(key_id: &str) -> Vec<u8> {
    [INDEX_CONTEXT, key_id.as_bytes()].concat()
}

/// The administrator's search index in this page: `put` a ticket's document (after reading
/// it), `remove` a deleted one, `search` as the person types. Nothing it holds leaves the
/// page except sealed (`seal`).
#[wasm_bindgen]
pub struct SearchIndex {
    index: RefCell<Index>,
}

impl Default for SearchIndex {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl SearchIndex {
    /// An empty index.
    #[wasm_bindgen(constructor)]
    pub fn new() -> SearchIndex {
        SearchIndex {
            index: RefCell::new(Index::new()),
        }
    }

    /// Adds (or replaces) a ticket's document: its id, `stamp` (its newest message's
    /// `received_at`, Unix seconds), `fields` = `[subject, name, email, category]` (missing
    /// ones empty), its tags, and `texts` (every message's and note's text, attachment names).
    pub fn put(
        &self,
        #[wasm_bindgen(js_name = ticketId)] ticket_id: String,
        stamp: f64,
        fields: Vec<String>,
        tags: Vec<String>,
        texts: Vec<String>,
    ) {
        let mut fields = fields.into_iter();
        let mut next = || fields.next().unwrap_or_default();
        let document = SearchDocument {
            ticket_id,
            // Whole seconds; anything else counts as 0 (read again at the next catch-up).
            stamp: if stamp.is_finite() && stamp >= 0.0 {
                stamp as u64
            } else {
                0
            },
            subject: next(),
            name: next(),
            email: next(),
            category: next(),
            tags,
            texts,
        };
        self.index.borrow_mut().put(document);
    }

    /// Removes a ticket. Returns whether it was indexed.
    pub fn remove(&self, #[wasm_bindgen(js_name = ticketId)] ticket_id: &str) -> bool {
        self.index.borrow_mut().remove(ticket_id)
    }

    /// The tickets containing every word of `query` (the last also as a prefix), best first,
    /// at most `limit`: `[{ticket_id, score, field, snippet, subject}]`.
    #[wasm_bindgen(unchecked_return_type = "SearchHit[]")]
    pub fn search(&self, query: &str, limit: u32) -> JsValue {
        let hits = self.index.borrow().search(query, limit as usize);
        to_js(&hits).unwrap_or(JsValue::NULL)
    }

    /// The tags of an indexed ticket (empty when it has none or is not indexed).
    #[wasm_bindgen(js_name = tagsOf)]
    pub fn tags_of(&self, #[wasm_bindgen(js_name = ticketId)] ticket_id: &str) -> Vec<String> {
        self.index
            .borrow()
            .document(ticket_id)
            .map(|d| d.tags.clone())
            .unwrap_or_default()
    }

    /// The stamp of an indexed ticket's document (Unix seconds), or `undefined` when it is
    /// not indexed.
    #[wasm_bindgen(js_name = stampOf)]
    pub fn stamp_of(&self, #[wasm_bindgen(js_name = ticketId)] ticket_id: &str) -> Option<f64> {
        self.index
            .borrow()
            .document(ticket_id)
            .map(|d| d.stamp as f64)
    }

    /// Every indexed ticket id.
    #[wasm_bindgen(js_name = ticketIds)]
    pub fn ticket_ids(&self) -> Vec<String> {
        self.index
            .borrow()
            .ticket_ids()
            .map(str::to_owned)
            .collect()
    }

    /// How many tickets it holds.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.index.borrow().len()).unwrap_or(u32::MAX)
    }

    /// How many distinct words it holds.
    #[wasm_bindgen(getter, js_name = wordCount)]
    pub fn word_count(&self) -> u32 {
        u32::try_from(self.index.borrow().word_count()).unwrap_or(u32::MAX)
    }

    /// The index sealed under `wrappingKey` (the remembered device's AES-GCM `CryptoKey`) for
    /// the administrator `keyId`: resolves to a `Uint8Array` (12-byte nonce, ciphertext, tag)
    /// to keep in IndexedDB. Rejects with `device.crypto` when WebCrypto refuses the key.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array>")]
    pub fn seal(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CryptoKey")] wrapping_key: JsValue,
        #[wasm_bindgen(js_name = keyId)] key_id: String,
    ) -> Promise {
        let plain = Zeroizing::new(self.index.borrow().to_bytes());
        promise(async move {
            Ok(seal_under(&wrapping_key, &context(&key_id), &plain)
                .await?
                .into())
        })
    }

    /// The index `seal` made with the same key and key id. Rejects with `device.malformed`
    /// (damaged, another key or another administrator), `search.malformed`, `device.crypto`.
    #[wasm_bindgen(unchecked_return_type = "Promise<SearchIndex>")]
    pub fn open(
        sealed: Uint8Array,
        #[wasm_bindgen(unchecked_param_type = "CryptoKey")] wrapping_key: JsValue,
        #[wasm_bindgen(js_name = keyId)] key_id: String,
    ) -> Promise {
        promise(async move {
            let plain = open_under(&wrapping_key, &context(&key_id), &sealed.to_vec()).await?;
            let index: Result<Index> = Index::from_bytes(&plain);
            Ok(SearchIndex {
                index: RefCell::new(index?),
            }
            .into())
        })
    }
}
