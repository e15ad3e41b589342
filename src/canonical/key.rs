//! The SigV4 signing key (HMAC-SHA256 derivation), the signature, and constant-time
//! comparison.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::{CredentialScope, REDACTED, SCOPE_TERMINATOR};

type HmacSha256 = Hmac<Sha256>;

const SHA256_BLOCK: usize = 64;

/// HMAC-SHA256 keyed with `key`. The key is brought to one block the way HMAC does (hashed
/// when longer, zero-padded when shorter) so that the infallible `KeyInit::new` can be used.
fn hmac_sha256(key: &[u8], data: &[u8]) -> HmacSha256 {
    let mut block = [0u8; SHA256_BLOCK];
    if key.len() > SHA256_BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut mac = HmacSha256::new(&block.into());
    mac.update(data);
    mac
}

pub(super) fn hmac_bytes(key: &[u8], data: &[u8]) -> [u8; 32] {
    hmac_sha256(key, data).finalize().into_bytes().into()
}

/// The derived SigV4 signing key. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct SigningKey([u8; 32]);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(")?;
        f.write_str(REDACTED)?;
        f.write_str(")")
    }
}

impl SigningKey {
    /// The lower-case hex signature of `string_to_sign`.
    pub fn sign(&self, string_to_sign: &str) -> String {
        hex::encode(hmac_bytes(&self.0, string_to_sign.as_bytes()))
    }

    /// Whether `signature_hex` is the signature of `string_to_sign`, compared in constant
    /// time. Only the signature's own spelling matches: exactly 64 lower-case hex digits,
    /// nothing around them. AWS compares the signature as a string, so an upper-case (or
    /// padded) spelling of the right bytes is refused there, and here.
    pub fn verify(&self, string_to_sign: &str, signature_hex: &str) -> bool {
        if signature_hex.len() != 64 || !is_lower_hex(signature_hex) {
            return false;
        }
        let Ok(provided) = hex::decode(signature_hex) else {
            return false;
        };
        hmac_sha256(&self.0, string_to_sign.as_bytes())
            .verify_slice(&provided)
            .is_ok()
    }
}

/// Derives the signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
/// "aws4_request")`.
pub fn signing_key(secret_access_key: &str, scope: &CredentialScope) -> SigningKey {
    let mut seed = Vec::with_capacity(4 + secret_access_key.len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret_access_key.as_bytes());
    let k_date = hmac_bytes(&seed, scope.date.as_bytes());
    // The seed holds the secret: do not leave it in freed memory longer than needed.
    seed.iter_mut().for_each(|b| *b = 0);
    let k_region = hmac_bytes(&k_date, scope.region.as_bytes());
    let k_service = hmac_bytes(&k_region, scope.service.as_bytes());
    SigningKey(hmac_bytes(&k_service, SCOPE_TERMINATOR.as_bytes()))
}

/// The lower-case hex signature of `string_to_sign` with `key`.
pub fn signature(key: &SigningKey, string_to_sign: &str) -> String {
    key.sign(string_to_sign)
}

/// Whether `s` is non-empty and only lower-case hex digits: the spelling of SigV4's
/// `HexEncode` ("a lowercase base-16 encoding"), the only one AWS's string comparison
/// accepts for a signature.
pub(crate) fn is_lower_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Compares two byte strings without stopping at the first difference (for session tokens;
/// signatures are compared through the HMAC's own check). Only the length can leak.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_hmac_keys_are_hashed_first() {
        // RFC 4231 test case 6: a 131-byte key.
        let key = [0xaau8; 131];
        let mac = hmac_bytes(
            &key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex::encode(mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        // RFC 4231 test case 2: a short key.
        let mac = hmac_bytes(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
    #[test]
    fn signing_key_debug_is_redacted() {
        let key = signing_key("secret", &CredentialScope::new("20150830", "r", "s"));
        let shown = format!("{key:?}");
        assert_eq!(shown, "SigningKey(<redacted>)");
    }
    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
