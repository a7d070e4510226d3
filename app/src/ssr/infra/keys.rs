//! The server's signing keys, from configuration or, in development only,
//! generated once and kept in the data directory (so sessions survive a
//! restart). Production refuses to start without a configured secret
//! (checked when settings are loaded).

use std::{io::Write, path::Path};

use axum_extra::extract::cookie::Key as CookieKey;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha512};

use super::settings::Settings;

/// Keys derived from the one configured secret.
#[derive(Clone)]
pub struct Keys {
    /// Signs session and API JWTs (HS256).
    pub jwt_encoding: EncodingKey,
    /// Verifies them.
    pub jwt_decoding: DecodingKey,
    /// Encrypts short-lived cookies (the flash message of no-JavaScript forms).
    pub cookie: CookieKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

impl Keys {
    /// Keys from a secret.
    pub fn from_secret(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        // The cookie key must be 64 bytes; derive it rather than reuse the
        // JWT secret directly, so the two uses never share key material.
        let mut hasher = Sha512::new();
        hasher.update(b"backup-mgmt cookie key v1\0");
        hasher.update(bytes);
        let cookie = CookieKey::from(&hasher.finalize());
        Self {
            jwt_encoding: EncodingKey::from_secret(bytes),
            jwt_decoding: DecodingKey::from_secret(bytes),
            cookie,
        }
    }

    /// The configured secret, or in development one generated on first use
    /// and stored in `<data_dir>/secrets/jwt-secret` (mode 0600).
    pub fn load(settings: &Settings) -> anyhow::Result<Self> {
        match &settings.jwt_secret {
            Some(secret) => Ok(Self::from_secret(secret)),
            None => Ok(Self::from_secret(&development_secret(&settings.data_dir)?)),
        }
    }
}

fn development_secret(data_dir: &Path) -> anyhow::Result<SecretString> {
    development_file(data_dir, "jwt-secret", "BMS_JWT_SECRET", 32, || {
        let mut bytes = [0u8; 48];
        rand::rng().fill_bytes(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    })
}

/// A development-only secret kept in `<data_dir>/secrets/<name>` (mode
/// 0600): read when present (and at least `min_len` long), else made with
/// `generate` and written once. Production never gets here: it requires
/// the `env` variable.
pub(crate) fn development_file(
    data_dir: &Path,
    name: &str,
    env: &str,
    min_len: usize,
    generate: impl FnOnce() -> String,
) -> anyhow::Result<SecretString> {
    let dir = data_dir.join("secrets");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path)
        && existing.trim().len() >= min_len
    {
        return Ok(SecretString::from(existing.trim().to_owned()));
    }
    let secret = generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes())?;
            tracing::warn!(path = %path.display(), "no {env} configured: generated a development value");
            Ok(SecretString::from(secret))
        }
        // Another process won the race: use its value.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(SecretString::from(std::fs::read_to_string(&path)?.trim().to_owned()))
        }
        Err(e) => Err(e.into()),
    }
}
