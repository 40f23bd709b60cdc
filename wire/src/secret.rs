//! A credential inside a body.

use core::fmt;

use sealdesk_crypto::Zeroizing;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A credential as it travels in a body (an `auth_key`, a session token, an invite token: each
/// base64url text): a JSON string, zeroized when dropped, and shown by `Debug` as `[secret]`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    /// Wraps `text`.
    pub fn new(text: String) -> Self {
        SecretText(Zeroizing::new(text))
    }

    /// The text, to decode or send.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The text, still zeroized on drop.
    pub fn into_zeroizing(self) -> Zeroizing<String> {
        self.0
    }
}

impl From<String> for SecretText {
    fn from(text: String) -> Self {
        SecretText::new(text)
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

impl Serialize for SecretText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SecretText::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_string_never_printed() {
        let secret: SecretText = serde_json::from_str(r#""c2VjcmV0""#).unwrap();
        assert_eq!(secret.expose(), "c2VjcmV0");
        assert_eq!(format!("{secret:?}"), "[secret]");
        assert_eq!(serde_json::to_string(&secret).unwrap(), r#""c2VjcmV0""#);
    }
}
