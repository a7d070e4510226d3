//! Password hashing (argon2id), verification and one-time passwords.
//!
//! Hashing costs tens of milliseconds of CPU and 19 MiB of memory by
//! design, so it runs on the blocking pool, never on the async worker
//! threads, and at most [`hashing_slots`] at once: a burst of sign-ins or
//! password changes waits its turn instead of taking all memory and CPU.

use std::sync::{
    LazyLock,
    atomic::{AtomicUsize, Ordering},
};

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use rand::{Rng, distr::Uniform};
use secrecy::{ExposeSecret, SecretString};

/// The shortest password we accept.
pub const MIN_PASSWORD_LENGTH: usize = 12;
/// The longest password we hash (a guard against hashing megabytes).
pub const MAX_PASSWORD_LENGTH: usize = 1024;

/// OWASP's argon2id recommendation (2024): 19 MiB of memory, 2 passes,
/// 1 lane. We use exactly that floor raised in memory to 19 456 KiB.
fn hasher() -> Argon2<'static> {
    // The parameters are constants that argon2 accepts.
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Why a password was refused by the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    /// Shorter than [`MIN_PASSWORD_LENGTH`] characters.
    #[error("the password must be at least {MIN_PASSWORD_LENGTH} characters long")]
    TooShort,
    /// Longer than [`MAX_PASSWORD_LENGTH`] characters.
    #[error("the password must be at most {MAX_PASSWORD_LENGTH} characters long")]
    TooLong,
}

/// Checks a new password against the policy.
pub fn check_policy(password: &str) -> Result<(), PasswordPolicyError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LENGTH {
        Err(PasswordPolicyError::TooShort)
    } else if length > MAX_PASSWORD_LENGTH {
        Err(PasswordPolicyError::TooLong)
    } else {
        Ok(())
    }
}

/// How many argon2 computations may run at once: one per core.
pub fn hashing_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

static SLOTS: LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
    LazyLock::new(|| std::sync::Arc::new(tokio::sync::Semaphore::new(hashing_slots())));
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static MOST_RUNNING: AtomicUsize = AtomicUsize::new(0);

/// The most argon2 computations seen running at once (for tests).
pub fn most_running_at_once() -> usize {
    MOST_RUNNING.load(Ordering::Relaxed)
}

/// Runs one argon2 computation on the blocking pool once a slot is free.
/// The slot goes with the computation, so a caller that gives up (a client
/// that disconnects) does not free it before the work is done.
async fn with_slot<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let permit = SLOTS.clone().acquire_owned().await?;
    let result = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        MOST_RUNNING.fetch_max(now, Ordering::Relaxed);
        let result = work();
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        result
    })
    .await?;
    Ok(result)
}

/// Hashes a password into an argon2id PHC string.
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    with_slot(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
    })
    .await?
}

/// A hash of a random password, verified against when the user does not
/// exist so that unknown users and wrong passwords take the same time.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(b"no user has this password, it is only here to spend time", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Verifies `password` against `stored` (or against a dummy hash when there
/// is no user), always spending the same effort.
pub async fn verify(password: SecretString, stored: Option<String>) -> bool {
    with_slot(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&phc) else { return false };
        let ok = hasher().verify_password(password.expose_secret().as_bytes(), &parsed).is_ok();
        known && ok
    })
    .await
    .unwrap_or(false)
}

/// How long a one-time password (first administrator, reset) works unless used.
pub const ONE_TIME_PASSWORD_HOURS: i64 = 24;

/// When a one-time password issued now stops working.
pub fn one_time_expiry() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::hours(ONE_TIME_PASSWORD_HOURS)
}

/// A random password for first sign-in or a reset: 20 characters from an
/// alphabet without look-alikes (no 0/O, 1/l/I), about 115 bits.
pub fn generate_one_time_password() -> SecretString {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let between = Uniform::new(0, ALPHABET.len()).expect("non-empty alphabet");
    let password: String = rand::rng().sample_iter(between).take(20).map(|i| ALPHABET[i] as char).collect();
    SecretString::from(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_there_are_slots() {
        let stored = hash(SecretString::from("correct horse battery")).await.expect("hash");
        let tries: Vec<_> = (0..hashing_slots() * 3)
            .map(|i| {
                let stored = stored.clone();
                tokio::spawn(
                    async move { verify(SecretString::from(format!("guess {i}")), Some(stored)).await },
                )
            })
            .collect();
        for t in tries {
            assert!(!t.await.expect("join"));
        }
        let most = most_running_at_once();
        assert!(most >= 1 && most <= hashing_slots(), "{most} ran at once, {} slots", hashing_slots());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_own_password_and_nothing_else() {
        let hash = hash(SecretString::from("correct horse battery")).await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(SecretString::from("correct horse battery"), Some(hash.clone())).await);
        assert!(!verify(SecretString::from("wrong horse battery"), Some(hash)).await);
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!verify(SecretString::from("anything at all"), None).await);
    }

    #[test]
    fn the_policy_wants_twelve_characters_counted_as_characters() {
        assert_eq!(check_policy("short"), Err(PasswordPolicyError::TooShort));
        assert_eq!(check_policy("twelve chars"), Ok(()));
        // Twelve Japanese characters are twelve characters, not 36 bytes.
        assert_eq!(check_policy("あいうえおかきくけこさし"), Ok(()));
        assert_eq!(check_policy("あいうえおかきくけこさ"), Err(PasswordPolicyError::TooShort));
    }

    #[test]
    fn one_time_passwords_are_long_and_pass_the_policy() {
        let a = generate_one_time_password();
        let b = generate_one_time_password();
        assert_eq!(a.expose_secret().len(), 20);
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(check_policy(a.expose_secret()), Ok(()));
    }
}
