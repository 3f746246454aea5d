//! Encryption of secret values at rest: a key derived from a passphrase with Argon2id, values
//! sealed with ChaCha20-Poly1305 under a fresh random nonce each.
//!
//! Wherever secrets are stored (the state database, a stack's config file) a random salt and a
//! "check" value sealed with the derived key are stored beside them, so that a wrong passphrase
//! is a clear error rather than garbage.

use argon2::Argon2;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, Generate, Key, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};

/// The environment variable that holds the passphrase.
pub const PASSPHRASE_VAR: &str = "CAIRN_PASSPHRASE";

const CHECK_PLAINTEXT: &[u8] = b"cairn secrets v1";
const NONCE_LEN: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the passphrase is wrong (it does not open the secrets stored here)")]
    WrongPassphrase,
    #[error("secret values need the stack's passphrase: set {PASSPHRASE_VAR}")]
    PassphraseRequired,
    #[error("a stored secret is damaged and cannot be decrypted")]
    Damaged,
}

/// A key derived from a passphrase and salt.
#[derive(Clone)]
pub struct SecretKey {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// A fresh random salt, base64.
    pub fn new_salt() -> String {
        STANDARD.encode(Key::<ChaCha20Poly1305>::generate())
    }

    pub fn derive(passphrase: &str, salt: &str) -> Result<SecretKey, CryptoError> {
        let salt = STANDARD.decode(salt).map_err(|_| CryptoError::Damaged)?;
        let mut key = [0u8; 32];
        Argon2::default()
            .hash_password_into(passphrase.as_bytes(), &salt, &mut key)
            .map_err(|_| CryptoError::Damaged)?;
        let cipher = ChaCha20Poly1305::new(&key.into());
        Ok(SecretKey { cipher })
    }

    /// Seals `plaintext`: base64 of nonce followed by ciphertext and tag.
    pub fn seal(&self, plaintext: &[u8]) -> String {
        let nonce = Nonce::generate();
        let ct = self
            .cipher
            .encrypt(&nonce, plaintext)
            .expect("encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        STANDARD.encode(out)
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| CryptoError::Damaged)?;
        if bytes.len() < NONCE_LEN {
            return Err(CryptoError::Damaged);
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Damaged)?;
        self.cipher
            .decrypt(&nonce, ct)
            .map_err(|_| CryptoError::Damaged)
    }

    /// The check value to store beside the salt.
    pub fn check_value(&self) -> String {
        self.seal(CHECK_PLAINTEXT)
    }

    /// Whether this key opens `check` (made by [`SecretKey::check_value`] with the right key).
    pub fn verify(&self, check: &str) -> Result<(), CryptoError> {
        match self.open(check) {
            Ok(p) if p == CHECK_PLAINTEXT => Ok(()),
            _ => Err(CryptoError::WrongPassphrase),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_wrong_passphrase() {
        let salt = SecretKey::new_salt();
        let key = SecretKey::derive("correct horse", &salt).unwrap();
        let sealed = key.seal(b"hunter2");
        assert!(!sealed.contains("hunter2"));
        assert_eq!(key.open(&sealed).unwrap(), b"hunter2");
        // Nonces are fresh: sealing twice differs.
        assert_ne!(sealed, key.seal(b"hunter2"));
        let check = key.check_value();
        assert!(key.verify(&check).is_ok());
        let wrong = SecretKey::derive("battery staple", &salt).unwrap();
        assert_eq!(wrong.verify(&check), Err(CryptoError::WrongPassphrase));
        assert_eq!(wrong.open(&sealed), Err(CryptoError::Damaged));
    }
}
