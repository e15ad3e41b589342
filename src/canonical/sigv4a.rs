//! SigV4a key derivation (NIST SP 800-108 counter-mode KDF with HMAC-SHA256) and ECDSA
//! P-256 signing and verification, from the specification, with `p256` for the curve.

use std::fmt;

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey as EcdsaSigningKey};
use p256::elliptic_curve::PrimeField;
use p256::{FieldBytes, NonZeroScalar, Scalar};

use super::key::hmac_bytes;
use super::ALGORITHM_V4A;

/// The KDF's output length in bits, `[L]_32` of the fixed input.
const KDF_OUTPUT_BITS: u32 = 256;

/// A derived SigV4a key pair (ECDSA P-256). Its `Debug` shows the public key only.
#[derive(Clone)]
pub struct SigV4aKey(EcdsaSigningKey);

impl fmt::Debug for SigV4aKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4aKey")
            .field("public_key", &hex::encode(self.public_key_sec1()))
            .finish()
    }
}

impl SigV4aKey {
    /// The public key's affine coordinates `(X, Y)`, big-endian: what the AWS suite's
    /// `public-key.json` lists (in hex).
    pub fn public_key_coordinates(&self) -> ([u8; 32], [u8; 32]) {
        let point = self.0.verifying_key().to_sec1_point(false);
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        // An uncompressed point of a valid key always has both coordinates.
        if let (Some(px), Some(py)) = (point.x(), point.y()) {
            x.copy_from_slice(px);
            y.copy_from_slice(py);
        }
        (x, y)
    }

    /// The public key, SEC1 uncompressed: `04 || X || Y` (65 bytes).
    pub fn public_key_sec1(&self) -> Vec<u8> {
        self.0
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec()
    }

    /// The lower-case hex of the DER-encoded ECDSA signature of SHA-256(`string_to_sign`).
    ///
    /// The nonce is deterministic here (RFC 6979); signers such as `aws-sigv4` and the AWS
    /// CRT draw a random one, so two valid signatures of the same string differ: check a
    /// signature with [`SigV4aKey::verify`], never by comparing it with this.
    pub fn sign(&self, string_to_sign: &str) -> String {
        let signature: DerSignature = self.0.sign(string_to_sign.as_bytes());
        hex::encode(signature.as_bytes())
    }

    /// Whether `signature_hex` (lower-case hex of a DER-encoded ECDSA P-256 signature) is a
    /// valid signature of SHA-256(`string_to_sign`) by this key. Hex or DER that does not
    /// decode is simply not a match, and so is hex in upper case or with anything around
    /// it: the specification's `HexEncode` is lower-case, as every AWS signer writes it, and
    /// the SigV4 check refuses any other spelling too. High-S signatures are valid (SigV4a
    /// does not normalize S).
    pub fn verify(&self, string_to_sign: &str, signature_hex: &str) -> bool {
        if !super::key::is_lower_hex(signature_hex) {
            return false;
        }
        let Ok(der) = hex::decode(signature_hex) else {
            return false;
        };
        let Ok(signature) = Signature::from_der(&der) else {
            return false;
        };
        self.0
            .verifying_key()
            .verify(string_to_sign.as_bytes(), &signature)
            .is_ok()
    }
}

/// One KDF block: HMAC-SHA256(`input_key`, `[1]_32 || Label || 0x00 || Context || [L]_32`)
/// with the label `AWS4-ECDSA-P256-SHA256`, the context `access_key_id || counter` and
/// L = 256 (NIST SP 800-108, counter mode; one block gives the 256 bits).
fn kdf_block(input_key: &[u8], access_key_id: &str, counter: u8) -> [u8; 32] {
    let mut fixed = Vec::with_capacity(4 + ALGORITHM_V4A.len() + 1 + access_key_id.len() + 5);
    fixed.extend_from_slice(&1u32.to_be_bytes());
    fixed.extend_from_slice(ALGORITHM_V4A.as_bytes());
    fixed.push(0);
    fixed.extend_from_slice(access_key_id.as_bytes());
    fixed.push(counter);
    fixed.extend_from_slice(&KDF_OUTPUT_BITS.to_be_bytes());
    hmac_bytes(input_key, &fixed)
}

/// `candidate + 1` as a private scalar when `candidate` (big-endian) is at most n - 2,
/// n being the order of P-256; `None` otherwise (the caller then tries the next counter).
pub(super) fn private_scalar(candidate: &[u8; 32]) -> Option<NonZeroScalar> {
    // `from_repr` accepts exactly the values below n ...
    let scalar: Option<Scalar> = Scalar::from_repr(FieldBytes::from(*candidate)).into();
    // ... and `+ 1` wraps to zero exactly for n - 1.
    Option::from(NonZeroScalar::new(scalar? + Scalar::ONE))
}

/// Derives the SigV4a key pair of an access key, as AWS does: a 256-bit candidate from
/// the KDF (key `"AWS4A" + secret`, label `AWS4-ECDSA-P256-SHA256`, context the access
/// key id followed by a counter byte starting at 1), retried with the next counter while
/// the candidate exceeds n - 2; the private key is the candidate plus one.
///
/// # Panics
/// If 255 candidates in a row are out of range, which for a 256-bit HMAC output happens
/// with probability below 2^-8000.
pub fn sigv4a_signing_key(access_key_id: &str, secret_access_key: &str) -> SigV4aKey {
    let mut input_key = Vec::with_capacity(5 + secret_access_key.len());
    input_key.extend_from_slice(b"AWS4A");
    input_key.extend_from_slice(secret_access_key.as_bytes());
    let mut found = None;
    for counter in 1..=u8::MAX {
        let mut candidate = kdf_block(&input_key, access_key_id, counter);
        found = private_scalar(&candidate);
        candidate.iter_mut().for_each(|b| *b = 0);
        if found.is_some() {
            break;
        }
    }
    // The key holds the secret: do not leave it in freed memory longer than needed.
    input_key.iter_mut().for_each(|b| *b = 0);
    let scalar = found.expect("a KDF candidate below n - 1 within 255 counters");
    SigV4aKey(EcdsaSigningKey::from(scalar))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order n of P-256, big-endian.
    #[cfg(feature = "sigv4a")]
    const P256_ORDER: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
    #[cfg(feature = "sigv4a")]
    fn order_minus(k: u8) -> [u8; 32] {
        let mut n: [u8; 32] = hex::decode(P256_ORDER).unwrap().try_into().unwrap();
        // The last byte of n is 0x51: no borrow for the small k used here.
        n[31] -= k;
        n
    }
    #[cfg(feature = "sigv4a")]
    #[test]
    fn sigv4a_candidate_range_is_one_to_n_minus_2() {
        use p256::elliptic_curve::PrimeField;
        let scalar_bytes =
            |c: &[u8; 32]| private_scalar(c).map(|s| hex::encode(p256::Scalar::from(s).to_repr()));
        // 0 gives the private key 1; n - 2 gives n - 1, the largest scalar.
        assert_eq!(
            scalar_bytes(&[0u8; 32]).unwrap(),
            format!("{}1", "0".repeat(63))
        );
        assert_eq!(
            scalar_bytes(&order_minus(2)).unwrap(),
            hex::encode(order_minus(1))
        );
        // n - 1 (private key n, i.e. zero), n and above are retried.
        assert_eq!(scalar_bytes(&order_minus(1)), None);
        assert_eq!(scalar_bytes(&order_minus(0)), None);
        assert_eq!(scalar_bytes(&[0xff; 32]), None);
    }
    #[cfg(feature = "sigv4a")]
    #[test]
    fn sigv4a_key_of_the_suite_credentials() {
        // The AWS suite's v4a public-key.json (same for every case).
        let key = sigv4a_signing_key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let (x, y) = key.public_key_coordinates();
        assert_eq!(
            hex::encode(x),
            "b6618f6a65740a99e650b33b6b4b5bd0d43b176d721a3edfea7e7d2d56d936b1"
        );
        assert_eq!(
            hex::encode(y),
            "865ed22a7eadc9c5cb9d2cbaca1b3699139fedc5043dc6661864218330c8e518"
        );
        let sec1 = key.public_key_sec1();
        assert_eq!(sec1.len(), 65);
        assert_eq!(sec1[0], 4);
        assert_eq!(&sec1[1..33], &x);
        assert!(format!("{key:?}").starts_with("SigV4aKey { public_key: \"04b6618f"));
        // Another access key id or secret gives another key.
        let other = sigv4a_signing_key("AKIDEXAMPLF", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        assert_ne!(other.public_key_coordinates().0, x);
        let other = sigv4a_signing_key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ");
        assert_ne!(other.public_key_coordinates().0, x);

        // v4a/get-vanilla's header-signature.txt signs its header-string-to-sign.txt.
        let sts = "AWS4-ECDSA-P256-SHA256\n20150830T123600Z\n20150830/service/aws4_request\n\
                   cf59db423e841c8b7e3444158185aa261b724a5c27cbe762676f3eed19f4dc02";
        let suite_signature = "3045022018b4e277d0281864beb51d3600e23f88510ea5031d68ddfbb68614b82a5eb7d2022100effb9c5f22ed9ef3ae0ab243d21f06bce82365bbb79529a07b6888c343ae5f8c";
        assert!(key.verify(sts, suite_signature));
        assert!(!key.verify(sts, &suite_signature.to_ascii_uppercase()));
        assert!(!key.verify(sts, &format!("{suite_signature} ")));
        assert!(!key.verify(&sts.replace("service", "servicf"), suite_signature));
        assert!(!other.verify(sts, suite_signature));
        assert!(!key.verify(sts, &suite_signature[..suite_signature.len() - 2]));
        assert!(!key.verify(sts, "zz"));
        assert!(!key.verify(sts, ""));
        // Our own (deterministic) signatures verify, and are DER.
        let ours = key.sign(sts);
        assert!(ours.starts_with("30"));
        assert_eq!(ours, key.sign(sts));
        assert!(key.verify(sts, &ours));
        assert!(!key.verify("another string", &ours));
    }
}
