//! The body of every refusal (spec/API.md, "Errors").

use serde::{Deserialize, Serialize};

/// `{"error": "<code>", "message": "<a sentence for people>"}`, the body of every 4xx and
/// 5xx answer. Reading it, a missing member is empty (a client falls back to its own words).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The stable code, such as `not_found` or `transcript.bad_signature`.
    #[serde(default)]
    pub error: String,
    /// A sentence for people; never carries stored content, tokens or secrets.
    #[serde(default)]
    pub message: String,
}

/// A deserializer's error message (serde's, through `serde_json`, `serde_urlencoded`,
/// `serde_path_to_error` or `serde-wasm-bindgen`) reduced to what may be shown: the field's
/// path and the expected type or variants, never the value that was sent. serde writes
/// `invalid type: string "<value>", expected u64`, which would echo a secret sent in the
/// wrong field into an error body or a log.
///
/// `message` is the error's text, optionally after a path and `": "`. The answer is a clause
/// such as `auth_key: wrong type, expected a string` or `a value is not valid`.
pub fn describe_deserialize_error(message: &str) -> String {
    const MARKERS: [&str; 7] = [
        "invalid type: ",
        "invalid value: ",
        "invalid length ",
        "unknown variant ",
        "unknown field ",
        "missing field ",
        "duplicate field ",
    ];
    let Some((at, marker)) = MARKERS
        .iter()
        .filter_map(|m| message.find(m).map(|at| (at, *m)))
        .min_by_key(|(at, _)| *at)
    else {
        return "a value is not valid".to_owned();
    };
    // A path names fields of our types; a map key would be the sender's, so anything but a
    // short field path is dropped.
    let path = message[..at].trim_end().trim_end_matches(':').trim();
    let path = path
        .rsplit_once("target type: ")
        .map_or(path, |(_, p)| p)
        .trim();
    let path_ok = !path.is_empty()
        && path.len() <= 64
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'));
    let rest = &message[at + marker.len()..];
    // What serde expected comes from the type, after the last ", expected " (a value may
    // itself contain that phrase, so the last one is serde's).
    let expected = rest.rfind(", expected ").map(|i| {
        let expected = &rest[i + ", expected ".len()..];
        let expected = expected
            .rfind(" at line ")
            .map_or(expected, |j| &expected[..j]);
        expected.trim().trim_end_matches('.').to_owned()
    });
    let clause = match marker {
        "invalid type: " => "wrong type".to_owned(),
        "invalid value: " => "invalid value".to_owned(),
        "invalid length " => "wrong length".to_owned(),
        "unknown variant " => "unknown variant".to_owned(),
        "unknown field " => "unknown field".to_owned(),
        // The field names of missing and duplicate fields are the type's own.
        _ => {
            let name = rest
                .strip_prefix('`')
                .and_then(|r| r.split_once('`'))
                .map(|(name, _)| name)
                .filter(|n| {
                    n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
            let what = marker.trim_end();
            match name {
                Some(name) => format!("{what} `{name}`"),
                None => what.to_owned(),
            }
        }
    };
    let clause = match expected {
        Some(expected) if expected.len() <= 200 && !expected.contains('"') => {
            format!("{clause}, expected {expected}")
        }
        _ => clause,
    };
    if path_ok {
        format!("{path}: {clause}")
    } else {
        clause
    }
}

#[cfg(test)]
mod tests {
    use super::describe_deserialize_error as describe;

    #[test]
    fn deserialize_errors_never_echo_the_value() {
        let secret = "s3cr3t-AAAAAAAAAAAAAAAAAAAA, expected u64";
        let cases = [
            (
                format!(
                    "Failed to deserialize the JSON body into the target type: auth_key: \
                     invalid type: string \"{secret}\", expected a string at line 1 column 9"
                ),
                "auth_key: wrong type, expected a string",
            ),
            (
                format!("invalid value: string \"{secret}\", expected a valid key"),
                "invalid value, expected a valid key",
            ),
            (
                format!("kind: unknown variant `{secret}`, expected `a` or `b`"),
                "kind: unknown variant, expected `a` or `b`",
            ),
            (
                format!("unknown field `{secret}`, expected one of `a`, `b`"),
                "unknown field, expected one of `a`, `b`",
            ),
            (
                "missing field `username` at line 1 column 2".to_owned(),
                "missing field `username`",
            ),
            (
                format!("{secret}: invalid length 3, expected 32 bytes"),
                "wrong length, expected 32 bytes",
            ),
            (format!("something else: {secret}"), "a value is not valid"),
        ];
        for (message, expected) in cases {
            let described = describe(&message);
            assert_eq!(described, expected, "{message}");
            assert!(!described.contains("s3cr3t"), "{described}");
        }
    }
}
