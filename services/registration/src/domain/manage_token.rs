//! Short manage tokens, for links that fit in any mail client: `{public_url}/manage/{token}`.
//!
//! A token is the registration's id and a truncated HMAC-SHA256 of it, both base64url without padding: 22 + 22 = 44
//! characters (`[A-Za-z0-9_-]`, never a `.`, so it cannot be mistaken for a JWT). A link is then 35 + 3 + 44 = 82
//! characters for a 35-character public URL. 128 bits of MAC are as hard to guess as a random token.
//!
//! Why an HMAC and not a random token stored hashed: nothing is stored, so every email of a registration can carry
//! the same link (notifications asks for a token per email; a stored random one would have to be kept in plain to be
//! handed out again, or each email would invalidate the links sent before), and every replica checks a token
//! without the database. A token dies with its registration (erased → 404: the handlers find no registration) and
//! with its key.
//!
//! The key is derived from the signing key of people's tokens (so nothing new to configure, and a replica has it
//! exactly when it can sign manage JWTs); links made with a retiring key keep working while that key is listed in
//! `auth.previous_signing_key_files`, as its JWTs do.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Characters of a short token.
pub const TOKEN_LEN: usize = 44;
/// Bytes of the HMAC kept in a token.
const MAC_LEN: usize = 16;
/// Separates this key's use from any other use of the signing key.
const CONTEXT: &[u8] = b"cloverleaf manage link v1\0";
/// Check-in codes (the QR code shown at the door) are made the same way under their own key, so a code opens the
/// door and nothing else: whoever reads it over a shoulder cannot change or cancel the registration with it.
const CHECK_IN_CONTEXT: &[u8] = b"cloverleaf check-in code v1\0";

type HmacSha256 = Hmac<Sha256>;

/// The keys that make and check short manage tokens: the current one makes them, every one checks them.
#[derive(Clone)]
pub struct ManageKeys {
    keys: Vec<[u8; 32]>,
}

impl std::fmt::Debug for ManageKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManageKeys")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl ManageKeys {
    /// One key per secret (the current one first), derived with SHA-256 under a fixed context.
    pub fn derive<'a>(secrets: impl IntoIterator<Item = &'a [u8]>) -> Self {
        Self::derive_under(CONTEXT, secrets)
    }

    fn derive_under<'a>(context: &[u8], secrets: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let keys = secrets
            .into_iter()
            .map(|secret| {
                let mut hash = Sha256::new();
                hash.update(context);
                hash.update(secret);
                hash.finalize().into()
            })
            .collect();
        Self { keys }
    }

    fn mac(key: &[u8; 32], id: Uuid) -> HmacSha256 {
        // An HMAC key may have any length: `new_from_slice` cannot fail here.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(id.as_bytes());
        mac
    }

    /// The short token of a registration (always the same one for the same key).
    pub fn issue(&self, id: Uuid) -> Option<String> {
        let key = self.keys.first()?;
        let tag = Self::mac(key, id).finalize().into_bytes();
        let mut token = URL_SAFE_NO_PAD.encode(id.as_bytes());
        token.push_str(&URL_SAFE_NO_PAD.encode(&tag[..MAC_LEN]));
        Some(token)
    }

    /// The registration a short token opens; `None` when it is not one of ours (malformed or forged).
    pub fn open(&self, token: &str) -> Option<Uuid> {
        if !is_short(token) {
            return None;
        }
        let (id, tag) = token.split_at(22);
        let id = Uuid::from_slice(&URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != MAC_LEN {
            return None;
        }
        // Constant-time comparison of the kept bytes.
        self.keys
            .iter()
            .any(|key| Self::mac(key, id).verify_truncated_left(&tag).is_ok())
            .then_some(id)
    }
}

/// The keys of check-in codes: the same shape as manage tokens, under a key of their own (a distinct type, so that
/// one can never be passed where the other is meant).
#[derive(Clone, Debug)]
pub struct CheckInKeys(ManageKeys);

impl CheckInKeys {
    pub fn derive<'a>(secrets: impl IntoIterator<Item = &'a [u8]>) -> Self {
        Self(ManageKeys::derive_under(CHECK_IN_CONTEXT, secrets))
    }

    /// The check-in code of a registration (always the same one for the same key).
    pub fn issue(&self, id: Uuid) -> Option<String> {
        self.0.issue(id)
    }

    /// The registration a check-in code names; `None` when it is not one of ours.
    pub fn open(&self, code: &str) -> Option<Uuid> {
        self.0.open(code)
    }
}

/// Shaped like a short token (a JWT has dots and is far longer).
pub fn is_short(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_opens_its_registration_only_and_survives_a_key_rotation() {
        let old = ManageKeys::derive([b"old key".as_slice()]);
        let id = Uuid::now_v7();
        let token = old.issue(id).expect("token");
        assert_eq!(token.len(), TOKEN_LEN);
        assert_eq!(old.issue(id).as_deref(), Some(token.as_str()), "stable");
        assert_eq!(old.open(&token), Some(id));
        let rotated = ManageKeys::derive([b"new key".as_slice(), b"old key".as_slice()]);
        assert_eq!(rotated.open(&token), Some(id), "a retiring key still opens");
        assert_ne!(rotated.issue(id), Some(token.clone()));
        let stranger = ManageKeys::derive([b"new key".as_slice()]);
        assert_eq!(stranger.open(&token), None);
        // Another registration's id with this MAC, or one flipped character of the MAC: refused.
        let other = URL_SAFE_NO_PAD.encode(Uuid::now_v7().as_bytes());
        assert_eq!(old.open(&format!("{other}{}", &token[22..])), None);
        let mut flipped = token.clone().into_bytes();
        flipped[30] = if flipped[30] == b'A' { b'B' } else { b'A' };
        assert_eq!(old.open(&String::from_utf8(flipped).expect("ascii")), None);
        assert_eq!(old.open("not.a.token"), None);
    }

    #[test]
    fn a_check_in_code_is_not_a_manage_token() {
        let secret = b"one signing key".as_slice();
        let (manage, door) = (ManageKeys::derive([secret]), CheckInKeys::derive([secret]));
        let id = Uuid::now_v7();
        let code = door.issue(id).expect("code");
        assert_eq!(door.open(&code), Some(id));
        assert_eq!(
            manage.open(&code),
            None,
            "a check-in code opens no manage page"
        );
        assert_eq!(door.open(&manage.issue(id).expect("token")), None);
    }
}
