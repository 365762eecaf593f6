//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): a per-hook secret shown
//! once as `whsec_<base64>`, and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

use sha2::{Digest, Sha256};

use crate::base64::{base64_decode, base64_encode};

/// The prefix of a shown signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// HMAC-SHA256 (RFC 2104) with a 64-byte block.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The secret as shown to the user once.
pub fn show_secret(secret: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", base64_encode(secret))
}

/// The secret bytes of a `whsec_<base64>` string (`None` when malformed).
pub fn parse_secret(shown: &str) -> Option<Vec<u8>> {
    base64_decode(shown.strip_prefix(SECRET_PREFIX)?).filter(|b| !b.is_empty())
}

/// The `webhook-signature` header value for a message.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let signed = format!("{id}.{timestamp}.{body}");
    format!("v1,{}", base64_encode(&hmac_sha256(secret, signed.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn hmac_with_a_key_longer_than_a_block_hashes_the_key_first() {
        // RFC 4231 test case 6.
        let mac = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(hex::encode(mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn the_signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification and its reference libraries.
        let secret = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        let sig = sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_shown_secret_parses_back() {
        let secret = [7u8; 32];
        assert_eq!(parse_secret(&show_secret(&secret)).unwrap(), secret);
        assert!(parse_secret("nope").is_none());
    }
}
