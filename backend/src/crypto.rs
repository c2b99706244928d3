//! The master key and what is derived from it.
//!
//! One 32-byte master key (`OTCPAY_MASTER_KEY`, hex) protects secrets at rest:
//! - API and webhook secrets are sealed with XChaCha20-Poly1305 under a sub-key;
//! - API key ids are stored as a keyed hash (HMAC-SHA256 under another sub-key), so a
//!   lookup is one indexed equality and a database dump reveals no usable key id;
//! - portal JWTs are signed with a third sub-key.
//!
//! Sub-keys are HMAC-SHA256(master, purpose): rotating one purpose never weakens another.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;
use crate::ids;

type HmacSha256 = Hmac<Sha256>;

const SEALED_PREFIX: &str = "v1:";

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("OTCPAY_MASTER_KEY must be 64 hex characters (32 bytes)")]
    BadMasterKey,
    #[error("OTCPAY_MASTER_KEY is required when DATABASE_URL is set")]
    MissingMasterKey,
    #[error("could not read or write the master key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("a sealed secret could not be opened (wrong master key or corrupt data)")]
    Unseal,
}

#[derive(Clone)]
pub struct MasterKey {
    seal_key: [u8; 32],
    lookup_key: [u8; 32],
    jwt_key: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        // HMAC is defined for keys of every length (long keys are hashed first).
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl MasterKey {
    pub fn from_bytes(master: &[u8; 32]) -> Self {
        Self {
            seal_key: hmac_sha256(master, b"otcpay/seal/v1"),
            lookup_key: hmac_sha256(master, b"otcpay/lookup/v1"),
            jwt_key: hmac_sha256(master, b"otcpay/jwt/v1"),
        }
    }

    pub fn from_hex(hex_key: &str) -> Result<Self, CryptoError> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| CryptoError::BadMasterKey)?;
        let master: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadMasterKey)?;
        Ok(Self::from_bytes(&master))
    }

    /// The configured key; in embedded mode, the key file in the data dir, created on
    /// first start. A server with an external database refuses to invent a key, since
    /// a second node would invent another.
    pub fn load_or_create(
        configured: Option<&Secret>,
        data_dir: &Path,
        embedded: bool,
    ) -> Result<Self, CryptoError> {
        if let Some(secret) = configured {
            return Self::from_hex(secret.expose());
        }
        if !embedded {
            return Err(CryptoError::MissingMasterKey);
        }
        let path = data_dir.join("master.key");
        let io = |source| CryptoError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_hex(&text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                crate::config::create_private_dir(data_dir).map_err(io)?;
                let hex_key = ids::random_hex(32);
                write_private(&path, &hex_key).map_err(io)?;
                Self::from_hex(&hex_key)
            }
            Err(err) => Err(io(err)),
        }
    }

    /// Encrypts a secret for storage: `v1:` + base64(nonce ‖ ciphertext).
    pub fn seal(&self, plaintext: &str) -> String {
        let cipher = XChaCha20Poly1305::new(&self.seal_key.into());
        let nonce_bytes: [u8; 24] = ids::random_bytes(24).try_into().unwrap_or([0u8; 24]);
        let mut out = nonce_bytes.to_vec();
        // Encryption with a valid key and in-memory buffer does not fail.
        if let Ok(ciphertext) = cipher.encrypt(&nonce_bytes.into(), plaintext.as_bytes()) {
            out.extend_from_slice(&ciphertext);
        }
        format!("{SEALED_PREFIX}{}", B64.encode(out))
    }

    pub fn unseal(&self, sealed: &str) -> Result<String, CryptoError> {
        let data = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|b64| B64.decode(b64).ok())
            .ok_or(CryptoError::Unseal)?;
        if data.len() < 24 {
            return Err(CryptoError::Unseal);
        }
        let (nonce, ciphertext) = data.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| CryptoError::Unseal)?;
        let cipher = XChaCha20Poly1305::new(&self.seal_key.into());
        let plain = cipher
            .decrypt(&nonce.into(), ciphertext)
            .map_err(|_| CryptoError::Unseal)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Unseal)
    }

    /// Keyed hash for lookups of public identifiers (API key ids).
    pub fn lookup_hash(&self, value: &str) -> String {
        hex::encode(hmac_sha256(&self.lookup_key, value.as_bytes()))
    }

    pub fn jwt_secret(&self) -> &[u8; 32] {
        &self.jwt_key
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = crate::config::private_file_options()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// Constant-time equality for secrets and signatures.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_bytes(&[7u8; 32])
    }

    #[test]
    fn seal_round_trips_and_is_randomised() {
        let k = key();
        let a = k.seal("whsec_abc");
        let b = k.seal("whsec_abc");
        assert_ne!(a, b, "nonces must differ");
        assert!(!a.contains("whsec_abc"));
        assert_eq!(k.unseal(&a).unwrap(), "whsec_abc");
    }

    #[test]
    fn unseal_fails_with_another_key_or_tampering() {
        let sealed = key().seal("secret");
        let other = MasterKey::from_bytes(&[8u8; 32]);
        assert!(other.unseal(&sealed).is_err());
        assert!(key().unseal(&sealed).is_ok());
        // Flip one bit of the nonce, of the ciphertext and of the tag in turn: each
        // changes the sealed text and each is refused.
        let bytes = B64
            .decode(sealed.strip_prefix(SEALED_PREFIX).unwrap())
            .unwrap();
        for position in [0, 24, bytes.len() - 1] {
            let mut flipped = bytes.clone();
            flipped[position] ^= 0x01;
            let tampered = format!("{SEALED_PREFIX}{}", B64.encode(&flipped));
            assert_ne!(tampered, sealed);
            assert!(
                key().unseal(&tampered).is_err(),
                "bit flipped at {position}"
            );
        }
        assert!(key().unseal("garbage").is_err());
    }

    #[test]
    fn lookup_hash_is_stable_and_keyed() {
        let k = key();
        assert_eq!(k.lookup_hash("mk_live_x"), k.lookup_hash("mk_live_x"));
        assert_ne!(
            k.lookup_hash("mk_live_x"),
            MasterKey::from_bytes(&[9u8; 32]).lookup_hash("mk_live_x")
        );
    }

    #[test]
    fn master_key_hex_is_strict() {
        assert!(MasterKey::from_hex("abcd").is_err());
        assert!(MasterKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(MasterKey::from_hex(&"ab".repeat(32)).is_ok());
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
