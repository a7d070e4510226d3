//! Rate limits (governor): sign-in attempts per client address and per
//! username, and a general per-address limit on `/api/v1`.
//!
//! Limits are per process. Several instances behind a load balancer each
//! allow the configured rate; the balancer's own limits (nginx
//! `limit_req`) are the place for a cluster-wide cap.

use std::{hash::Hash, net::IpAddr, num::NonZeroU32};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock, clock::DefaultClock};

use super::settings::Settings;
use crate::error::AppError;

/// Every limiter of the process.
#[derive(Debug)]
pub struct RateLimits {
    login_by_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_by_user: DefaultKeyedRateLimiter<String>,
    api_by_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
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
            api_by_ip: (settings.api_rate_per_minute > 0).then(|| per_minute(settings.api_rate_per_minute)),
            clock: DefaultClock::default(),
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
        if let Some(ip) = ip {
            self.check(&self.login_by_ip, &ip)?;
        }
        self.check(&self.login_by_user, &username.to_lowercase())
    }

    /// One `/api/v1` request from `ip`.
    pub fn check_api(&self, ip: IpAddr) -> Result<(), AppError> {
        match &self.api_by_ip {
            Some(limiter) => self.check(limiter, &ip),
            None => Ok(()),
        }
    }

    /// Forgets keys whose limits have fully recovered, so memory stays
    /// bounded however many addresses and names are seen.
    pub fn prune(&self) {
        self.login_by_ip.retain_recent();
        self.login_by_user.retain_recent();
        if let Some(limiter) = &self.api_by_ip {
            limiter.retain_recent();
        }
    }
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
}
