//! Rate limits (governor): sign-in attempts and password changes per
//! client address and per account, and a general per-address limit on
//! `/api/v1`. An IPv6 client is keyed by its /64 network (one host usually
//! owns a whole /64 and can rotate through it).
//!
//! Sign-in and password-change limits hold across instances: besides the
//! in-process limiter (which spares the database a flood from one
//! client), each attempt is counted in the database (`login_limits`, the
//! same generic cell rate algorithm as governor's, one row per key), so
//! attempts spread over several instances behind a load balancer meet one
//! limit. The general `/api/v1` limit is per instance: each allows the
//! configured rate; the balancer's own limits (nginx `limit_req`) are the
//! place for a cluster-wide cap there.

use std::{
    hash::Hash,
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock, clock::DefaultClock};

use super::{db::Db, settings::Settings};
use crate::{error::AppError, on_db};

/// Every limiter of the process.
#[derive(Debug)]
pub struct RateLimits {
    login_by_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_by_user: DefaultKeyedRateLimiter<String>,
    password_change_by_user: DefaultKeyedRateLimiter<i64>,
    api_by_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// One audit row per refused key and minute.
    refusals_told: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    /// Sign-in attempts per minute and key, for the shared limit.
    login_per_minute: u32,
}

/// The key an address is limited by: IPv4 as is (also when written as an
/// IPv4-mapped IPv6 address), IPv6 by its /64 network.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

/// Which limit refused a sign-in attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRefusal {
    /// Too many attempts from this address (network, for IPv6).
    Address(IpAddr),
    /// Too many attempts for this username, from anywhere.
    Username(String),
}

impl LoginRefusal {
    /// The refused key, as text (for the audit log).
    pub fn key(&self) -> String {
        match self {
            Self::Address(ip) => format!("address {ip}"),
            Self::Username(name) => format!("username {name}"),
        }
    }
}

fn per_minute<K: Hash + Eq + Clone>(n: u32) -> DefaultKeyedRateLimiter<K> {
    let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    // A burst of n, refilled evenly over the minute.
    RateLimiter::keyed(Quota::per_minute(n))
}

impl RateLimits {
    /// Limiters sized from the settings.
    pub fn new(settings: &Settings) -> Self {
        Self {
            login_by_ip: per_minute(settings.login_rate_per_minute),
            login_by_user: per_minute(settings.login_rate_per_minute),
            password_change_by_user: per_minute(settings.login_rate_per_minute),
            refusals_told: per_minute(1),
            api_by_ip: (settings.api_rate_per_minute > 0).then(|| per_minute(settings.api_rate_per_minute)),
            clock: DefaultClock::default(),
            login_per_minute: settings.login_rate_per_minute.max(1),
        }
    }

    fn check<K: Hash + Eq + Clone>(
        &self,
        limiter: &DefaultKeyedRateLimiter<K>,
        key: &K,
    ) -> Result<(), AppError> {
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            AppError::RateLimited { retry_after_seconds: wait.as_secs() + u64::from(wait.subsec_nanos() > 0) }
        })
    }

    /// One sign-in attempt from `ip` for `username`.
    pub fn check_login(&self, ip: Option<IpAddr>, username: &str) -> Result<(), AppError> {
        self.check_login_address(ip).map_err(|(_, e)| e)?;
        self.check_login_username(username).map_err(|(_, e)| e)
    }

    /// One sign-in attempt (or password check) from `ip`.
    pub fn check_login_address(&self, ip: Option<IpAddr>) -> Result<(), (LoginRefusal, AppError)> {
        match ip.map(limit_key) {
            Some(key) => self.check(&self.login_by_ip, &key).map_err(|e| (LoginRefusal::Address(key), e)),
            None => Ok(()),
        }
    }

    /// One sign-in attempt for `username`, from anywhere.
    pub fn check_login_username(&self, username: &str) -> Result<(), (LoginRefusal, AppError)> {
        let name = username.to_lowercase();
        self.check(&self.login_by_user, &name).map_err(|e| (LoginRefusal::Username(name), e))
    }

    /// One password change (a check of the current password) by user
    /// `user_id` from `ip`: limited like sign-ins, per address and per user.
    pub fn check_password_change(&self, ip: Option<IpAddr>, user_id: i64) -> Result<(), AppError> {
        self.check_login_address(ip).map_err(|(_, e)| e)?;
        self.check(&self.password_change_by_user, &user_id)
    }

    /// [`RateLimits::check_login_address`], then the same limit shared by
    /// every instance on the database.
    pub async fn check_login_address_shared(
        &self,
        db: &Db,
        ip: Option<IpAddr>,
    ) -> Result<(), (LoginRefusal, AppError)> {
        self.check_login_address(ip)?;
        let Some(key) = ip.map(limit_key) else { return Ok(()) };
        self.shared(db, &format!("address {key}")).await.map_err(|e| (LoginRefusal::Address(key), e))
    }

    /// [`RateLimits::check_login_username`], then the same limit shared by
    /// every instance on the database.
    pub async fn check_login_username_shared(
        &self,
        db: &Db,
        username: &str,
    ) -> Result<(), (LoginRefusal, AppError)> {
        self.check_login_username(username)?;
        let name = username.to_lowercase();
        self.shared(db, &format!("username {name}")).await.map_err(|e| (LoginRefusal::Username(name), e))
    }

    /// [`RateLimits::check_password_change`], then the same limits shared
    /// by every instance on the database.
    pub async fn check_password_change_shared(
        &self,
        db: &Db,
        ip: Option<IpAddr>,
        user_id: i64,
    ) -> Result<(), AppError> {
        self.check_password_change(ip, user_id)?;
        if let Some(key) = ip.map(limit_key) {
            self.shared(db, &format!("address {key}")).await?;
        }
        self.shared(db, &format!("password change {user_id}")).await
    }

    /// One attempt against `key`'s limit in the database. A database that
    /// does not answer lets the attempt through (the in-process limit still
    /// holds) with a warning.
    async fn shared(&self, db: &Db, key: &str) -> Result<(), AppError> {
        let now = chrono::Utc::now().timestamp_millis();
        match shared_attempt(db, key, self.login_per_minute, now).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(wait_ms)) => Err(AppError::RateLimited {
                retry_after_seconds: u64::try_from(wait_ms.max(1)).unwrap_or(1).div_ceil(1000),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "the shared sign-in limit could not be checked; the instance's own limit applies");
                Ok(())
            }
        }
    }

    /// Whether a refusal of `key` is the first this minute, so the audit log
    /// gets one row per key and minute however hard someone knocks.
    pub fn first_refusal_this_minute(&self, key: &str) -> bool {
        self.refusals_told.check_key(&key.to_owned()).is_ok()
    }

    /// One `/api/v1` request from `ip`.
    pub fn check_api(&self, ip: IpAddr) -> Result<(), AppError> {
        match &self.api_by_ip {
            Some(limiter) => self.check(limiter, &limit_key(ip)),
            None => Ok(()),
        }
    }

    /// Forgets keys whose limits have fully recovered, so memory stays
    /// bounded however many addresses and names are seen.
    pub fn prune(&self) {
        self.login_by_ip.retain_recent();
        self.login_by_user.retain_recent();
        self.password_change_by_user.retain_recent();
        self.refusals_told.retain_recent();
        if let Some(limiter) = &self.api_by_ip {
            limiter.retain_recent();
        }
    }
}

/// See [`shared_attempt`]: how far out of order attempts may arrive.
const SHARED_SLACK_MS: i64 = 1_000;

/// One attempt against `key`'s shared limit of `per_minute` (a burst of
/// that many, refilled evenly over the minute) at `now_ms`: `Ok(())` when
/// allowed (and counted), else the milliseconds to wait.
///
/// The generic cell rate algorithm in one statement: the row holds the
/// theoretical arrival time (TAT) of the next attempt; an attempt is
/// allowed when `max(TAT, now) - now` leaves room for one more within the
/// burst, and then moves the TAT on by one interval. A refused attempt
/// changes nothing.
pub async fn shared_attempt(
    db: &Db,
    key: &str,
    per_minute: u32,
    now_ms: i64,
) -> Result<Result<(), i64>, sqlx::Error> {
    let interval = 60_000 / i64::from(per_minute.max(1));
    // Attempts read their clock before they reach the database (a sign-in
    // checks its password first), so they may arrive in another order than
    // their times: a second of slack keeps the last attempt of a full burst
    // from being refused for arriving after a later-dated one.
    let tolerance = interval * (i64::from(per_minute.max(1)) - 1) + SHARED_SLACK_MS;
    let key: String = key.chars().take(200).collect();
    on_db!(db, |pool| {
        let allowed: Option<i64> = sqlx::query_scalar(
            "insert into login_limits (key, tat_ms) values ($1, $2 + $3) \
             on conflict (key) do update \
             set tat_ms = (case when login_limits.tat_ms > $2 then login_limits.tat_ms else $2 end) + $3 \
             where (case when login_limits.tat_ms > $2 then login_limits.tat_ms else $2 end) - $2 <= $4 \
             returning tat_ms",
        )
        .bind(&key)
        .bind(now_ms)
        .bind(interval)
        .bind(tolerance)
        .fetch_optional(pool)
        .await?;
        if allowed.is_some() {
            return Ok(Ok(()));
        }
        let tat: Option<i64> = sqlx::query_scalar("select tat_ms from login_limits where key = $1")
            .bind(&key)
            .fetch_optional(pool)
            .await?;
        Ok(Err(tat.map_or(interval, |tat| tat - now_ms - tolerance)))
    })
}

/// Forgets shared limits that have fully recovered.
pub async fn prune_shared(db: &Db) -> Result<u64, sqlx::Error> {
    let now = chrono::Utc::now().timestamp_millis();
    on_db!(db, |pool| {
        sqlx::query("delete from login_limits where tat_ms < $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_sign_in_within_a_minute_is_refused_with_a_wait() {
        let settings = Settings::for_tests(std::env::temp_dir(), None);
        let limits = RateLimits::new(&settings);
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..5 {
            assert_eq!(limits.check_login(Some(ip), "alice"), Ok(()));
        }
        match limits.check_login(Some(ip), "alice") {
            Err(AppError::RateLimited { retry_after_seconds }) => {
                assert!((1..=60).contains(&retry_after_seconds))
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
    }

    #[test]
    fn the_username_limit_holds_across_addresses() {
        let settings = Settings::for_tests(std::env::temp_dir(), None);
        let limits = RateLimits::new(&settings);
        for i in 0..5u8 {
            assert_eq!(limits.check_login(Some([10, 0, 0, i].into()), "Bob"), Ok(()));
        }
        assert!(limits.check_login(Some([10, 0, 1, 99].into()), "bob").is_err());
        assert!(limits.check_login(Some([10, 0, 1, 99].into()), "carol").is_ok());
    }

    #[test]
    fn an_ipv6_client_is_limited_by_its_slash_64() {
        let settings = Settings::for_tests(std::env::temp_dir(), None);
        let limits = RateLimits::new(&settings);
        for i in 0..5u16 {
            let ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, i, i, i, i));
            assert!(limits.check_login_address(Some(ip)).is_ok());
        }
        let rotated = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0xffff, 9, 9, 9));
        assert!(limits.check_login_address(Some(rotated)).is_err(), "same /64, new host bits");
        let other_net = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1));
        assert!(limits.check_login_address(Some(other_net)).is_ok());
        let mapped = IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201));
        assert_eq!(limit_key(mapped), IpAddr::from([192, 0, 2, 1]));
    }

    #[test]
    fn password_changes_are_limited_per_user() {
        let settings = Settings::for_tests(std::env::temp_dir(), None);
        let limits = RateLimits::new(&settings);
        for i in 0..5u8 {
            assert_eq!(limits.check_password_change(Some([10, 0, 2, i].into()), 7), Ok(()));
        }
        assert!(limits.check_password_change(Some([10, 0, 3, 1].into()), 7).is_err());
        assert!(limits.check_password_change(Some([10, 0, 3, 1].into()), 8).is_ok());
    }

    #[test]
    fn a_refusal_is_told_once_a_minute_per_key() {
        let settings = Settings::for_tests(std::env::temp_dir(), None);
        let limits = RateLimits::new(&settings);
        assert!(limits.first_refusal_this_minute("username admin"));
        assert!(!limits.first_refusal_this_minute("username admin"));
        assert!(limits.first_refusal_this_minute("address 10.0.0.1"));
    }

    /// The shared limit: a burst of five, then one per 12 s; a refusal
    /// counts nothing and says how long to wait; keys are independent.
    async fn the_shared_limit_allows_a_burst_then_the_rate(db: &Db) {
        #![expect(clippy::unwrap_used)]
        let t0 = 1_800_000_000_000_i64;
        // Attempts may arrive a little out of order (the first one read its
        // clock last): the whole burst is still allowed.
        for (i, at) in [900, 0, 1, 2, 3].into_iter().enumerate() {
            assert_eq!(
                shared_attempt(db, "username alice", 5, t0 + at).await.unwrap(),
                Ok(()),
                "attempt {i}"
            );
        }
        let wait = shared_attempt(db, "username alice", 5, t0 + 10).await.unwrap().unwrap_err();
        assert!((10_000..=12_000).contains(&wait), "{wait}");
        // Refusals do not push the next allowed attempt further away.
        assert!(shared_attempt(db, "username alice", 5, t0 + 20).await.unwrap().is_err());
        assert_eq!(shared_attempt(db, "username alice", 5, t0 + 12_000).await.unwrap(), Ok(()));
        assert!(shared_attempt(db, "username alice", 5, t0 + 12_001).await.unwrap().is_err());
        assert_eq!(shared_attempt(db, "username bob", 5, t0 + 12_001).await.unwrap(), Ok(()));
        // A minute later the burst is back.
        for i in 0..5 {
            assert_eq!(shared_attempt(db, "username alice", 5, t0 + 80_000 + i).await.unwrap(), Ok(()));
        }
    }
    crate::db_test!(shared_limit_on, the_shared_limit_allows_a_burst_then_the_rate);
}
