//! The administrators' search over every ticket they read (the panel's search box): a compact
//! inverted index kept in the administrator's browser, never sent anywhere. The panel feeds it
//! one [`SearchDocument`] per ticket (subject, name, email, category, tags, the text of every
//! message and internal note, attachment names), stores [`SearchIndex::to_bytes`] encrypted
//! under the device key, and asks [`SearchIndex::search`].
//!
//! Words are runs of alphanumeric characters (`char::is_alphanumeric`), lowercased with
//! Unicode's lowercase mapping and folded by a small table of Latin letters with diacritics
//! (`é` → `e`; no NFKD normalisation), at most [`MAX_WORD_CHARS`] characters each. A query
//! matches the tickets that contain every word of it; its last word also matches as a prefix
//! while the person is still typing it (no trailing space). Ranking: each matched word scores
//! the weights of the fields it is in ([`Field::weight`], subject highest), a whole-word match
//! twice a prefix match; ties go to the most recent activity.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::{ClientError, Result};

/// Longest word kept, characters (a longer run is cut there).
pub const MAX_WORD_CHARS: usize = 40;
/// Characters of a snippet on each side of the first match.
const SNIPPET_CONTEXT: usize = 60;

/// What the index knows of one ticket: the decrypted texts it is searched by. All strings are
/// as the administrator's client decrypted them (PROTOCOL.md §14).
// No serde here: the page passes the members as arguments and the kept form is the compact
// layout of `SearchIndex::to_bytes`, which keeps serde's per-type code out of the module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchDocument {
    /// The ticket id, 32 hexadecimal characters.
    pub ticket_id: String,
    /// The ticket's last activity when it was read, Unix seconds (the inbox's `last_activity`):
    /// a later one means the document is out of date; also the tie-break of the ranking.
    pub stamp: u64,
    /// The subject of the first message.
    pub subject: String,
    /// The name the reporter typed.
    pub name: String,
    /// The email the reporter typed.
    pub email: String,
    /// The category.
    pub category: String,
    /// The ticket's tags (PROTOCOL.md §14, *Tags*).
    pub tags: Vec<String>,
    /// The text of every message, internal note and attachment name, in chain order.
    pub texts: Vec<String>,
}

/// Where in a ticket a word was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The subject.
    Subject,
    /// A tag.
    Tags,
    /// The reporter's name.
    Name,
    /// The reporter's email.
    Email,
    /// The category.
    Category,
    /// A message, a note or an attachment name.
    Text,
}

impl Field {
    /// How much a word in this field counts: subject 8, tags 6, name and email 4, category 2,
    /// texts 1.
    pub fn weight(self) -> u32 {
        match self {
            Field::Subject => 8,
            Field::Tags => 6,
            Field::Name | Field::Email => 4,
            Field::Category => 2,
            Field::Text => 1,
        }
    }
}

impl SearchDocument {
    /// Every field's texts, highest weight first (the order snippets are looked for in).
    fn fields(&self) -> impl Iterator<Item = (Field, &str)> {
        [
            (Field::Subject, self.subject.as_str()),
            (Field::Name, self.name.as_str()),
            (Field::Email, self.email.as_str()),
            (Field::Category, self.category.as_str()),
        ]
        .into_iter()
        .chain(self.tags.iter().map(|t| (Field::Tags, t.as_str())))
        .chain(self.texts.iter().map(|t| (Field::Text, t.as_str())))
    }

    /// Each word of the document once, with its summed field weight.
    fn weighted_words(&self) -> Vec<(String, u32)> {
        let mut all: Vec<(String, u32)> = self
            .fields()
            .flat_map(|(field, text)| words_of(text).into_iter().map(move |w| (w, field.weight())))
            .collect();
        all.sort_unstable();
        let mut words: Vec<(String, u32)> = Vec::with_capacity(all.len());
        for (word, weight) in all {
            match words.last_mut() {
                Some((last, total)) if *last == word => *total += weight,
                _ => words.push((word, weight)),
            }
        }
        words
    }
}

/// One ticket found by [`SearchIndex::search`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct SearchHit {
    /// The ticket id.
    pub ticket_id: String,
    /// The ranking score (higher first).
    pub score: u32,
    /// The field the snippet comes from.
    pub field: Field,
    /// Up to about 120 characters of that field around the first match, with `…` where cut.
    pub snippet: String,
    /// The subject, for the result's title.
    pub subject: String,
}

/// A posting: a document number and the word's weight in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Posting {
    doc: u32,
    weight: u32,
}

/// The inverted index: documents by number, and for each word its postings sorted by document
/// number. Numbers of removed documents are reused. (Hash maps only, one key type: a prefix
/// scans every word, which is fast enough for 10,000 tickets and keeps the module small.)
#[derive(Debug, Default)]
pub struct SearchIndex {
    documents: Vec<Option<SearchDocument>>,
    numbers: HashMap<String, u32>,
    free: Vec<u32>,
    words: HashMap<String, Vec<Posting>>,
}

/// Lowercases and folds one character (Latin letters with diacritics to their base letter).
fn fold(c: char, out: &mut String) {
    for lower in c.to_lowercase() {
        out.push(match lower {
            'à'..='å' | 'ā' | 'ă' | 'ą' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'ď' | 'đ' => 'd',
            'è'..='ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
            'ì'..='ï' | 'ī' | 'į' | 'ı' => 'i',
            'ł' | 'ľ' => 'l',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò'..='ö' | 'ø' | 'ō' | 'ő' => 'o',
            'ř' => 'r',
            'ś' | 'š' | 'ş' => 's',
            'ť' | 'ţ' => 't',
            'ù'..='ü' | 'ū' | 'ů' | 'ű' => 'u',
            'ý' | 'ÿ' => 'y',
            'ź' | 'ż' | 'ž' => 'z',
            other => other,
        });
    }
}

/// The words of `text`, lowercased and folded, in order (see the module's documentation).
pub fn words_of(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = 0;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if chars < MAX_WORD_CHARS {
                fold(c, &mut word);
                chars += 1;
            }
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
            chars = 0;
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

impl SearchIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many tickets it holds.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    /// Whether it holds no ticket.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// How many distinct words it holds.
    pub fn word_count(&self) -> usize {
        self.words.len()
    }

    /// The document of `ticket_id`, if indexed.
    pub fn document(&self, ticket_id: &str) -> Option<&SearchDocument> {
        let number = *self.numbers.get(ticket_id)?;
        self.documents.get(number as usize)?.as_ref()
    }

    /// Every indexed ticket id, in no particular order.
    pub fn ticket_ids(&self) -> impl Iterator<Item = &str> {
        self.numbers.keys().map(String::as_str)
    }

    /// Adds `document`, replacing the ticket's earlier one.
    pub fn put(&mut self, document: SearchDocument) {
        self.remove(&document.ticket_id);
        let number = match self.free.pop() {
            Some(number) => number,
            None => {
                self.documents.push(None);
                // More than 2^32 tickets do not fit in a browser's memory anyway.
                u32::try_from(self.documents.len() - 1).unwrap_or(u32::MAX)
            }
        };
        for (word, weight) in document.weighted_words() {
            let postings = self.words.entry(word).or_default();
            let at = postings.partition_point(|p| p.doc < number);
            postings.insert(
                at,
                Posting {
                    doc: number,
                    weight,
                },
            );
        }
        self.numbers.insert(document.ticket_id.clone(), number);
        if let Some(slot) = self.documents.get_mut(number as usize) {
            *slot = Some(document);
        }
    }

    /// Removes the ticket `ticket_id` (deleted, or no longer readable). Returns whether it was
    /// indexed.
    pub fn remove(&mut self, ticket_id: &str) -> bool {
        let Some(number) = self.numbers.remove(ticket_id) else {
            return false;
        };
        let old = self
            .documents
            .get_mut(number as usize)
            .and_then(Option::take);
        if let Some(old) = old {
            for (word, _) in old.weighted_words() {
                if let Some(postings) = self.words.get_mut(&word) {
                    if let Ok(at) = postings.binary_search_by_key(&number, |p| p.doc) {
                        postings.remove(at);
                    }
                    if postings.is_empty() {
                        self.words.remove(&word);
                    }
                }
            }
        }
        self.free.push(number);
        true
    }

    /// The score of `word` in each document, by document number (0: absent): a whole-word
    /// match counts twice its weight; with `prefix`, every word starting with it counts its
    /// weight.
    fn scores(&self, word: &str, prefix: bool) -> Vec<u32> {
        let mut scores = vec![0; self.documents.len()];
        let mut add = |postings: &[Posting], factor: u32| {
            for p in postings {
                if let Some(score) = scores.get_mut(p.doc as usize) {
                    *score += p.weight * factor;
                }
            }
        };
        if prefix {
            for (found, postings) in &self.words {
                if found.starts_with(word) {
                    add(postings, if found == word { 2 } else { 1 });
                }
            }
        } else if let Some(postings) = self.words.get(word) {
            add(postings, 2);
        }
        scores
    }

    /// The tickets that contain every word of `query` (its last word also as a prefix, unless
    /// the query ends with a space or punctuation), best first, at most `limit`. An empty query
    /// finds nothing.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let words = words_of(query);
        let open_ended = query.chars().last().is_some_and(char::is_alphanumeric);
        let Some((last, whole)) = words.split_last() else {
            return Vec::new();
        };
        let mut lists: Vec<Vec<u32>> = whole.iter().map(|w| self.scores(w, false)).collect();
        lists.push(self.scores(last, open_ended));
        // Every word must match: a document scores only when no list has 0 for it.
        let mut found: Vec<(u32, u32, u64)> = Vec::new();
        for (doc, document) in self.documents.iter().enumerate() {
            let Some(document) = document else { continue };
            let mut total = 0;
            for list in &lists {
                match list.get(doc) {
                    Some(&score) if score > 0 => total += score,
                    _ => {
                        total = 0;
                        break;
                    }
                }
            }
            if total > 0 {
                found.push((
                    u32::try_from(doc).unwrap_or(u32::MAX),
                    total,
                    document.stamp,
                ));
            }
        }
        found.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        found
            .into_iter()
            .take(limit)
            .filter_map(|(doc, score, _)| {
                let document = self.documents.get(doc as usize)?.as_ref()?;
                let (field, snippet) = snippet(document, &words, open_ended);
                Some(SearchHit {
                    ticket_id: document.ticket_id.clone(),
                    score,
                    field,
                    snippet,
                    subject: document.subject.clone(),
                })
            })
            .collect()
    }

    /// The index as bytes to keep: the documents only (the postings are rebuilt on
    /// [`SearchIndex::from_bytes`]). Layout: a version byte 1, then per document its ticket id,
    /// stamp (u64), subject, name, email, category, then the tags and the texts each as a
    /// count (u32) and strings; a string is a u32 byte length and UTF-8; big-endian integers.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![1u8];
        let text = |out: &mut Vec<u8>, s: &str| {
            out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        let list = |out: &mut Vec<u8>, items: &[String]| {
            out.extend_from_slice(&u32::try_from(items.len()).unwrap_or(u32::MAX).to_be_bytes());
            for item in items {
                text(out, item);
            }
        };
        for d in self.documents.iter().flatten() {
            text(&mut out, &d.ticket_id);
            out.extend_from_slice(&d.stamp.to_be_bytes());
            for field in [&d.subject, &d.name, &d.email, &d.category] {
                text(&mut out, field);
            }
            list(&mut out, &d.tags);
            list(&mut out, &d.texts);
        }
        out
    }

    /// The index [`SearchIndex::to_bytes`] kept.
    ///
    /// # Errors
    /// `search.malformed` when the bytes are not such an index.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let malformed = || {
            ClientError::new(
                "search.malformed",
                "The search index kept in this browser is damaged.",
            )
        };
        let mut reader = Reader(bytes);
        if reader.take(1) != Some(&[1]) {
            return Err(malformed());
        }
        let mut index = SearchIndex::new();
        while !reader.0.is_empty() {
            let document = reader.document().ok_or_else(malformed)?;
            index.put(document);
        }
        Ok(index)
    }
}

/// Reads [`SearchIndex::to_bytes`]'s layout.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(taken)
    }

    fn u32(&mut self) -> Option<usize> {
        let bytes = self.take(4)?.try_into().ok()?;
        usize::try_from(u32::from_be_bytes(bytes)).ok()
    }

    fn text(&mut self) -> Option<String> {
        let len = self.u32()?;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }

    fn list(&mut self) -> Option<Vec<String>> {
        let count = self.u32()?;
        // Each string takes at least its 4-byte length: a count beyond that is damage.
        if count > self.0.len() / 4 {
            return None;
        }
        (0..count).map(|_| self.text()).collect()
    }

    fn document(&mut self) -> Option<SearchDocument> {
        let ticket_id = self.text()?;
        let stamp = u64::from_be_bytes(self.take(8)?.try_into().ok()?);
        Some(SearchDocument {
            ticket_id,
            stamp,
            subject: self.text()?,
            name: self.text()?,
            email: self.text()?,
            category: self.text()?,
            tags: self.list()?,
            texts: self.list()?,
        })
    }
}

/// The field and the piece of it around the first word of the query found in `document`
/// (the last query word as a prefix when `open_ended`); the subject when none is found.
fn snippet(document: &SearchDocument, query: &[String], open_ended: bool) -> (Field, String) {
    let matches = |word: &str| {
        query.iter().enumerate().any(|(i, q)| {
            if open_ended && i + 1 == query.len() {
                word.starts_with(q.as_str())
            } else {
                word == q
            }
        })
    };
    for (field, text) in document.fields() {
        if let Some(at) = first_match(text, &matches) {
            return (field, around(text, at));
        }
    }
    (Field::Subject, around(&document.subject, 0))
}

/// The character position of the first word of `text` that `matches`.
fn first_match(text: &str, matches: &impl Fn(&str) -> bool) -> Option<usize> {
    let mut word = String::new();
    let mut start = 0;
    for (i, c) in text.chars().chain(std::iter::once(' ')).enumerate() {
        if c.is_alphanumeric() {
            if word.is_empty() {
                start = i;
            }
            fold(c, &mut word);
        } else if !word.is_empty() {
            if matches(&word) {
                return Some(start);
            }
            word.clear();
        }
    }
    None
}

/// About [`SNIPPET_CONTEXT`] characters of `text` each side of character `at`, on one line.
fn around(text: &str, at: usize) -> String {
    let chars: Vec<char> = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let start = at.saturating_sub(SNIPPET_CONTEXT);
    let end = (at + 2 * SNIPPET_CONTEXT).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(chars.get(start..end).unwrap_or_default());
    if end < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn doc(id: &str, stamp: u64, subject: &str, texts: &[&str]) -> SearchDocument {
        SearchDocument {
            ticket_id: id.to_owned(),
            stamp,
            subject: subject.to_owned(),
            texts: texts.iter().map(|t| (*t).to_owned()).collect(),
            ..SearchDocument::default()
        }
    }

    fn ids(hits: &[SearchHit]) -> Vec<&str> {
        hits.iter().map(|h| h.ticket_id.as_str()).collect()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn words_are_lowercased_and_folded() {
        assert_eq!(
            words_of("Café CRÈME, naïve-Ärger: x@Example.org ΣΊΣΥΦΟΣ"),
            [
                "cafe",
                "creme",
                "naive",
                "arger",
                "x",
                "example",
                "org",
                "σίσυφοσ"
            ]
        );
        assert_eq!(words_of(&"a".repeat(50))[0].len(), MAX_WORD_CHARS);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn add_update_remove() {
        let mut index = SearchIndex::new();
        index.put(doc("t1", 1, "Printer jammed", &["The tray is stuck"]));
        index.put(doc("t2", 2, "Login fails", &["Password reset loops"]));
        assert_eq!(ids(&index.search("tray ", 10)), ["t1"]);
        assert_eq!(ids(&index.search("password reset", 10)), ["t2"]);
        assert!(index.search("password tray ", 10).is_empty(), "all words");

        // Updating replaces the old text: the old word no longer finds it.
        index.put(doc("t1", 3, "Printer jammed", &["Fixed by a new roller"]));
        assert!(index.search("tray ", 10).is_empty());
        assert_eq!(ids(&index.search("roller ", 10)), ["t1"]);
        assert_eq!(index.len(), 2);

        assert!(index.remove("t2"));
        assert!(!index.remove("t2"));
        assert!(index.search("password ", 10).is_empty());
        assert_eq!(index.len(), 1);
        // The freed number is reused without mixing postings.
        index.put(doc("t3", 4, "Roller again", &[]));
        assert_eq!(ids(&index.search("roller ", 10)), ["t3", "t1"]);
        assert!(index.search("login", 10).is_empty());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn last_word_matches_as_prefix_while_typing() {
        let mut index = SearchIndex::new();
        index.put(doc(
            "t1",
            1,
            "Invoice question",
            &["about the invoicing run"],
        ));
        index.put(doc("t2", 2, "Invite link expired", &[]));
        assert_eq!(ids(&index.search("invo", 10)), ["t1"]);
        let hits = index.search("inv", 10);
        let mut both = ids(&hits);
        both.sort();
        assert_eq!(both, ["t1", "t2"]);
        // A finished word (trailing space) is no prefix.
        assert!(index.search("invo ", 10).is_empty());
        // Only the last word is a prefix.
        assert!(index.search("invo question", 10).is_empty());
        assert_eq!(ids(&index.search("invoice quest", 10)), ["t1"]);
        assert!(index.search("", 10).is_empty());
        assert!(index.search(" ,", 10).is_empty());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn ranking_by_field_then_activity() {
        let mut index = SearchIndex::new();
        index.put(doc("body", 9, "Something else", &["the vpn drops"]));
        index.put(doc("subject", 1, "VPN drops", &[]));
        index.put(SearchDocument {
            tags: vec!["vpn".into()],
            ..doc("tag", 5, "Network", &[])
        });
        index.put(doc("body-old", 2, "Another", &["vpn again"]));
        assert_eq!(
            ids(&index.search("vpn ", 10)),
            ["subject", "tag", "body", "body-old"]
        );
        // A whole word outranks a longer word it prefixes.
        index.put(doc("longer", 10, "vpnclient crash", &[]));
        assert_eq!(ids(&index.search("vpn", 10))[0], "subject");
        assert_eq!(index.search("vpn", 2).len(), 2);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn snippets_and_round_trip() {
        let mut index = SearchIndex::new();
        let long = format!(
            "{} the keyword is here {}",
            "x ".repeat(100),
            "y ".repeat(100)
        );
        index.put(SearchDocument {
            name: "Zoë".into(),
            email: "zoe@example.org".into(),
            ..doc("t1", 1, "Hello", &["nothing", &long])
        });
        let hit = &index.search("keyword", 1)[0];
        assert_eq!(hit.field, Field::Text);
        assert!(hit.snippet.starts_with('…') && hit.snippet.ends_with('…'));
        assert!(hit.snippet.contains("the keyword is here"));
        assert_eq!(index.search("zoe ", 1)[0].field, Field::Name);
        assert_eq!(index.search("example", 1)[0].snippet, "zoe@example.org");

        let kept = SearchIndex::from_bytes(&index.to_bytes()).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept.search("keyword", 1), index.search("keyword", 1));
        let bytes = index.to_bytes();
        for damaged in [&b""[..], b"{", &bytes[..bytes.len() - 1], &[2]] {
            assert_eq!(
                SearchIndex::from_bytes(damaged).unwrap_err().code,
                "search.malformed"
            );
        }
        assert!(SearchIndex::from_bytes(&[1]).unwrap().is_empty());
    }
}
