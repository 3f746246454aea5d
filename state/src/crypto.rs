//! Encryption of secret values at rest: a key derived from a passphrase with Argon2id, values
//! sealed with XChaCha20-Poly1305 under a fresh random 192-bit nonce each, bound to where they
//! belong (the associated data names the stack file's key or the record and property path), so
//! a ciphertext moved to another place does not open. Values sealed before (ChaCha20-Poly1305,
//! no associated data) still open, and are sealed in the new form the next time they are
//! written.
//!
//! Wherever secrets are stored (the state database, a stack's config file) a random salt, the
//! key derivation's parameters ([`Kdf`]) and a "check" value sealed with the derived key are
//! stored beside them, so that a wrong passphrase is a clear error rather than garbage and the
//! parameters can be raised later (a rekey) without losing what was sealed before.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, Generate, Key, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, XChaCha20Poly1305, XNonce};

/// The environment variable that holds the passphrase.
pub const PASSPHRASE_VAR: &str = "CAIRN_PASSPHRASE";

/// The environment variable that holds the passphrase a rekey seals under.
pub const NEW_PASSPHRASE_VAR: &str = "CAIRN_NEW_PASSPHRASE";

const CHECK_PLAINTEXT: &[u8] = b"cairn secrets v1";
const NONCE_LEN: usize = 12;
const XNONCE_LEN: usize = 24;
/// What starts a value sealed in the current form.
const V2: &str = "v2:";
/// Where the check value belongs.
const CHECK_CONTEXT: &str = "cairn:check";

/// The shortest passphrase that may seal new secrets. The config file is meant to be
/// committed, so its secrets face offline guessing: length is what makes that slow.
pub const MIN_PASSPHRASE_LEN: usize = 12;

/// Argon2id's costs, as stored beside a salt (`argon2id$v=19$m=65536,t=3,p=1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kdf {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub passes: u32,
    /// Lanes (parallelism).
    pub lanes: u32,
}

impl Kdf {
    /// What new keys are derived with: 64 MiB and 3 passes, above OWASP's floor for Argon2id.
    pub const CURRENT: Kdf = Kdf {
        memory_kib: 64 * 1024,
        passes: 3,
        lanes: 1,
    };

    /// What keys were derived with before the parameters were stored (Argon2's defaults):
    /// what a salt with no parameters beside it means.
    pub const LEGACY: Kdf = Kdf {
        memory_kib: 19 * 1024,
        passes: 2,
        lanes: 1,
    };

    /// The parameters as stored beside the salt (`argon2id$v=19$m=…,t=…,p=…`).
    pub fn encode(&self) -> String {
        format!(
            "argon2id$v=19$m={},t={},p={}",
            self.memory_kib, self.passes, self.lanes
        )
    }

    /// Reads stored parameters; none stored means [`Kdf::LEGACY`].
    pub fn decode(stored: Option<&str>) -> Result<Kdf, CryptoError> {
        let Some(text) = stored.filter(|t| !t.is_empty()) else {
            return Ok(Kdf::LEGACY);
        };
        let costs = text
            .strip_prefix("argon2id$v=19$")
            .ok_or(CryptoError::UnknownKdf(text.to_string()))?;
        let mut kdf = Kdf {
            memory_kib: 0,
            passes: 0,
            lanes: 0,
        };
        for part in costs.split(',') {
            let (k, v) = part
                .split_once('=')
                .ok_or(CryptoError::UnknownKdf(text.to_string()))?;
            let v: u32 = v
                .parse()
                .map_err(|_| CryptoError::UnknownKdf(text.to_string()))?;
            match k {
                "m" => kdf.memory_kib = v,
                "t" => kdf.passes = v,
                "p" => kdf.lanes = v,
                _ => return Err(CryptoError::UnknownKdf(text.to_string())),
            }
        }
        Ok(kdf)
    }

    /// Whether keys derived with these costs should be derived again with [`Kdf::CURRENT`].
    pub fn is_outdated(&self) -> bool {
        self.memory_kib < Kdf::CURRENT.memory_kib || self.passes < Kdf::CURRENT.passes
    }
}

/// Why a secret could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The passphrase given is empty.
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    #[error(
        "the passphrase is too short to seal secrets: use at least {MIN_PASSPHRASE_LEN} characters"
    )]
    /// The passphrase is shorter than [`MIN_PASSPHRASE_LEN`], too short to make a first key.
    ShortPassphrase,
    /// The stored key derivation is newer than this build (its text).
    #[error("the stored key derivation '{0}' is not one this version knows")]
    UnknownKdf(String),
    /// The passphrase does not open the stored key's check value.
    #[error("the passphrase is wrong (it does not open the secrets stored here)")]
    WrongPassphrase,
    /// A secret is to be sealed or opened and no passphrase was given.
    #[error("secret values need the stack's passphrase: set {PASSPHRASE_VAR}")]
    PassphraseRequired,
    /// A sealed value does not open: damaged, or moved from another place.
    #[error("a stored secret is damaged and cannot be decrypted")]
    Damaged,
}

/// A key derived from a passphrase and salt.
#[derive(Clone)]
pub struct SecretKey {
    cipher: XChaCha20Poly1305,
    /// For values sealed before the current form.
    legacy: ChaCha20Poly1305,
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

    /// The key of `passphrase` with the stored `salt` and parameters.
    pub fn derive(passphrase: &str, salt: &str, kdf: Kdf) -> Result<SecretKey, CryptoError> {
        if passphrase.is_empty() {
            return Err(CryptoError::EmptyPassphrase);
        }
        let salt = STANDARD.decode(salt).map_err(|_| CryptoError::Damaged)?;
        let params = Params::new(kdf.memory_kib, kdf.passes, kdf.lanes, Some(32))
            .map_err(|_| CryptoError::UnknownKdf(kdf.encode()))?;
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), &salt, key.as_mut())
            .map_err(|_| CryptoError::Damaged)?;
        Ok(SecretKey {
            cipher: XChaCha20Poly1305::new(&(*key).into()),
            legacy: ChaCha20Poly1305::new(&(*key).into()),
        })
    }

    /// A new key for `passphrase` (refused if short): with a fresh salt and the current
    /// parameters, returned to be stored beside what it seals.
    pub fn create(passphrase: &str) -> Result<(SecretKey, String, Kdf), CryptoError> {
        if passphrase.is_empty() {
            return Err(CryptoError::EmptyPassphrase);
        }
        if passphrase.chars().count() < MIN_PASSPHRASE_LEN {
            return Err(CryptoError::ShortPassphrase);
        }
        let salt = SecretKey::new_salt();
        let key = SecretKey::derive(passphrase, &salt, Kdf::CURRENT)?;
        Ok((key, salt, Kdf::CURRENT))
    }

    /// Seals `plaintext` for `context` (where it belongs): `v2:` then base64 of the nonce,
    /// ciphertext and tag.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let nonce = XNonce::generate();
        let payload = Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        let ct = self
            .cipher
            .encrypt(&nonce, payload)
            .expect("encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{V2}{}", STANDARD.encode(out))
    }

    /// Opens a value sealed for `context` (or in the old form, which names no context).
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, CryptoError> {
        let Some(current) = sealed.strip_prefix(V2) else {
            return self.open_legacy(sealed);
        };
        let bytes = STANDARD.decode(current).map_err(|_| CryptoError::Damaged)?;
        if bytes.len() < XNONCE_LEN {
            return Err(CryptoError::Damaged);
        }
        let (nonce, ct) = bytes.split_at(XNONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| CryptoError::Damaged)?;
        let payload = Payload {
            msg: ct,
            aad: context.as_bytes(),
        };
        self.cipher
            .decrypt(&nonce, payload)
            .map_err(|_| CryptoError::Damaged)
    }

    fn open_legacy(&self, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| CryptoError::Damaged)?;
        if bytes.len() < NONCE_LEN {
            return Err(CryptoError::Damaged);
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Damaged)?;
        self.legacy
            .decrypt(&nonce, ct)
            .map_err(|_| CryptoError::Damaged)
    }

    /// A value sealed as before the current form, for tests that it still opens.
    #[cfg(test)]
    pub(crate) fn seal_legacy(&self, plaintext: &[u8]) -> String {
        let nonce = Nonce::generate();
        let mut out = nonce.to_vec();
        out.extend(self.legacy.encrypt(&nonce, plaintext).expect("in memory"));
        STANDARD.encode(out)
    }

    /// Whether `sealed` is in the form before the current one (rewritten on the next write).
    pub fn is_legacy(sealed: &str) -> bool {
        !sealed.starts_with(V2)
    }

    /// The check value to store beside the salt.
    pub fn check_value(&self) -> String {
        self.seal(CHECK_PLAINTEXT, CHECK_CONTEXT)
    }

    /// Whether this key opens `check` (made by [`SecretKey::check_value`] with the right key).
    pub fn verify(&self, check: &str) -> Result<(), CryptoError> {
        match self.open(check, CHECK_CONTEXT) {
            Ok(p) if p == CHECK_PLAINTEXT => Ok(()),
            _ => Err(CryptoError::WrongPassphrase),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_round_trip_and_none_stored_means_the_old_defaults() {
        assert_eq!(Kdf::decode(Some(&Kdf::CURRENT.encode())), Ok(Kdf::CURRENT));
        assert_eq!(
            Kdf::CURRENT.encode(),
            "argon2id$v=19$m=65536,t=3,p=1",
            "at least 64 MiB and 3 passes"
        );
        assert_eq!(Kdf::decode(None), Ok(Kdf::LEGACY));
        assert!(Kdf::LEGACY.is_outdated() && !Kdf::CURRENT.is_outdated());
        assert!(matches!(
            Kdf::decode(Some("scrypt$n=1")),
            Err(CryptoError::UnknownKdf(_))
        ));
    }

    #[test]
    fn a_key_made_before_the_parameters_were_stored_still_opens() {
        // Argon2's defaults, as `Argon2::default()` derived keys before.
        let salt = SecretKey::new_salt();
        let mut old = [0u8; 32];
        Argon2::default()
            .hash_password_into(
                b"correct horse battery",
                &STANDARD.decode(&salt).unwrap(),
                &mut old,
            )
            .unwrap();
        // As values were sealed then: ChaCha20-Poly1305, a 96-bit nonce, no associated data.
        let nonce = Nonce::generate();
        let mut sealed = nonce.to_vec();
        sealed.extend(
            ChaCha20Poly1305::new(&old.into())
                .encrypt(&nonce, &b"hunter2"[..])
                .unwrap(),
        );
        let sealed = STANDARD.encode(sealed);
        let key =
            SecretKey::derive("correct horse battery", &salt, Kdf::decode(None).unwrap()).unwrap();
        assert!(SecretKey::is_legacy(&sealed));
        assert_eq!(key.open(&sealed, "anywhere").unwrap(), b"hunter2");
    }

    #[test]
    fn empty_and_short_passphrases_are_refused() {
        assert_eq!(
            SecretKey::create("").err(),
            Some(CryptoError::EmptyPassphrase)
        );
        assert_eq!(
            SecretKey::create("hunter2").err(),
            Some(CryptoError::ShortPassphrase)
        );
        let salt = SecretKey::new_salt();
        assert_eq!(
            SecretKey::derive("", &salt, Kdf::LEGACY).err(),
            Some(CryptoError::EmptyPassphrase)
        );
    }

    #[test]
    fn seal_open_and_wrong_passphrase() {
        let (key, salt, kdf) = SecretKey::create("correct horse battery").unwrap();
        let sealed = key.seal(b"hunter2", "dev/db#password");
        assert!(!sealed.contains("hunter2") && !SecretKey::is_legacy(&sealed));
        assert_eq!(key.open(&sealed, "dev/db#password").unwrap(), b"hunter2");
        // Bound to where it belongs: moved to another property, it does not open.
        assert_eq!(
            key.open(&sealed, "dev/db#username"),
            Err(CryptoError::Damaged)
        );
        // Nonces are fresh: sealing twice differs.
        assert_ne!(sealed, key.seal(b"hunter2", "dev/db#password"));
        let check = key.check_value();
        assert!(key.verify(&check).is_ok());
        let wrong = SecretKey::derive("battery staple", &salt, kdf).unwrap();
        assert_eq!(wrong.verify(&check), Err(CryptoError::WrongPassphrase));
        assert_eq!(
            wrong.open(&sealed, "dev/db#password"),
            Err(CryptoError::Damaged)
        );
    }
}
