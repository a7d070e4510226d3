//! Secrets at rest (Veeam passwords, later SMTP passwords and webhook
//! URLs): AES-256-GCM with a key from `BMS_ENCRYPTION_KEY`, a random nonce
//! per value, stored as `v1:<base64(nonce || ciphertext)>`.
//!
//! The key is 32 bytes given as base64 (`openssl rand -base64 32`), or any
//! passphrase of at least 32 characters (hashed with SHA-256). Production
//! refuses to start without one; development generates one on first use in
//! `<data_dir>/secrets/encryption-key`.

use std::{path::Path, sync::Arc};

use aes_gcm::{
    Aes256Gcm, Key, KeyInit, Nonce,
    aead::{Aead, AeadCore, OsRng},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::settings::Settings;

/// Encrypts and decrypts stored secrets.
#[derive(Clone)]
pub struct Cipher(Arc<Aes256Gcm>);

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(<redacted>)")
    }
}

/// A stored secret could not be decrypted.
#[derive(Debug, thiserror::Error)]
#[error("a stored secret cannot be decrypted: was BMS_ENCRYPTION_KEY changed?")]
pub struct DecryptError;

impl Cipher {
    /// A cipher from key material: 32 bytes in base64, or a passphrase.
    pub fn from_key(material: &SecretString) -> Self {
        let text = material.expose_secret().trim();
        let key: [u8; 32] = match STANDARD.decode(text) {
            Ok(bytes) if bytes.len() == 32 => bytes.try_into().unwrap_or([0; 32]),
            _ => Sha256::digest(text.as_bytes()).into(),
        };
        Self(Arc::new(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key))))
    }

    /// The configured key, or in development one generated on first use.
    pub fn load(settings: &Settings) -> anyhow::Result<Self> {
        match &settings.encryption_key {
            Some(key) => Ok(Self::from_key(key)),
            None => Ok(Self::from_key(&development_key(&settings.data_dir)?)),
        }
    }

    /// Encrypts `plain`.
    pub fn encrypt(&self, plain: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a fresh nonce cannot fail for inputs of this size.
        let sealed = self.0.encrypt(&nonce, plain.as_bytes()).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("v1:{}", STANDARD.encode(out))
    }

    /// Decrypts what [`Cipher::encrypt`] produced.
    pub fn decrypt(&self, stored: &str) -> Result<SecretString, DecryptError> {
        let bytes = stored.strip_prefix("v1:").and_then(|b| STANDARD.decode(b).ok()).ok_or(DecryptError)?;
        if bytes.len() < 12 {
            return Err(DecryptError);
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = self.0.decrypt(Nonce::from_slice(nonce), sealed).map_err(|_| DecryptError)?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| DecryptError)
    }
}

fn development_key(data_dir: &Path) -> anyhow::Result<SecretString> {
    super::keys::development_file(data_dir, "encryption-key", "BMS_ENCRYPTION_KEY", 32, || {
        STANDARD.encode(Aes256Gcm::generate_key(&mut OsRng))
    })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn secrets_round_trip_and_fail_under_another_key() {
        let cipher = Cipher::from_key(&SecretString::from("a passphrase of at least thirty-two chars"));
        let stored = cipher.encrypt("P@ssw0rd!");
        assert!(stored.starts_with("v1:") && !stored.contains("P@ssw0rd"));
        assert_ne!(stored, cipher.encrypt("P@ssw0rd!"), "a fresh nonce each time");
        assert_eq!(cipher.decrypt(&stored).unwrap().expose_secret(), "P@ssw0rd!");
        let other = Cipher::from_key(&SecretString::from(STANDARD.encode([7u8; 32])));
        assert!(other.decrypt(&stored).is_err());
        assert!(cipher.decrypt("v1:AAAA").is_err());
        assert!(format!("{cipher:?}").contains("redacted"));
    }
}
