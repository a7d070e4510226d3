//! Anomalies: a successful run whose bytes processed or duration is far
//! outside its job's own recent pattern. A backup that "succeeded" with a
//! fraction of its usual data is often empty or partial (a moved share, an
//! excluded volume); one with many times its usual data often means churn
//! such as ransomware encrypting files.
//!
//! Robust statistics over the job's last [`HISTORY`] successful runs: the
//! median and the median absolute deviation (MAD), which a few odd runs in
//! the history do not move. A value is an anomaly when it is both more than
//! [`MAD_LIMIT`] scaled MADs from the median and beyond a ratio of it
//! ([`SMALL_RATIO`], [`LARGE_RATIO`]), so that a very steady job (MAD near
//! zero) is not flagged for a few per cent. Nothing is judged before
//! [`MIN_HISTORY`] successful runs.

use crate::model::report::{AnomalyKind, RunAnomaly};

/// How many recent successful runs make the pattern.
pub const HISTORY: usize = 20;
/// Fewest successful runs before anything is judged.
pub const MIN_HISTORY: usize = 8;
/// How many scaled MADs from the median a value must be.
pub const MAD_LIMIT: f64 = 5.0;
/// At most this share of the median is "suspiciously small".
pub const SMALL_RATIO: f64 = 0.5;
/// At least this multiple of the median is "unusually large".
pub const LARGE_RATIO: f64 = 2.0;
/// Durations shorter than this (seconds) are never judged: a 3 s job taking
/// 9 s is noise.
pub const MIN_DURATION_SECONDS: i64 = 60;

/// The median of `values` (sorted in place); `None` when empty.
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] })
}

/// Judges `value` against `history` (the same measure of the job's recent
/// successful runs): `Some(true)` when far above, `Some(false)` when far
/// below, with the median.
fn judge(value: i64, history: &[i64]) -> Option<(bool, i64)> {
    if history.len() < MIN_HISTORY {
        return None;
    }
    let mut values: Vec<f64> = history.iter().map(|v| *v as f64).collect();
    let med = median(&mut values)?;
    let mut deviations: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
    let mad = median(&mut deviations)?;
    // 1.4826 × MAD estimates the standard deviation of normal data; a floor
    // of 1 % of the median keeps a perfectly steady job from dividing by 0.
    let scale = (1.4826 * mad).max(med.abs() * 0.01).max(1.0);
    let x = value as f64;
    let score = (x - med) / scale;
    let median = med.round() as i64;
    if score > MAD_LIMIT && x >= med * LARGE_RATIO {
        Some((true, median))
    } else if score < -MAD_LIMIT && x <= med * SMALL_RATIO {
        Some((false, median))
    } else {
        None
    }
}

/// Whether a successful run with `bytes` and `duration` (seconds) is an
/// anomaly, given the job's recent successful runs (`(bytes, duration)`,
/// any order; runs without a figure are left out of that figure). Bytes
/// are judged first: they say more about what was backed up.
pub fn detect(
    bytes: Option<i64>,
    duration: Option<i64>,
    history: &[(Option<i64>, Option<i64>)],
) -> Option<RunAnomaly> {
    if let Some(value) = bytes {
        let past: Vec<i64> = history.iter().filter_map(|(b, _)| *b).collect();
        // A job that never reports bytes (all zero) has nothing to judge.
        if past.iter().any(|b| *b > 0)
            && let Some((large, median)) = judge(value, &past)
        {
            let kind = if large { AnomalyKind::BytesLarge } else { AnomalyKind::BytesSmall };
            return Some(RunAnomaly { kind, value, median });
        }
    }
    if let Some(value) = duration {
        let past: Vec<i64> = history.iter().filter_map(|(_, d)| *d).collect();
        if let Some((large, median)) = judge(value, &past)
            && value.max(median) >= MIN_DURATION_SECONDS
        {
            let kind = if large { AnomalyKind::DurationLong } else { AnomalyKind::DurationShort };
            return Some(RunAnomaly { kind, value, median });
        }
    }
    None
}

/// The anomaly in words (English, for event details and logs):
/// "120 MB processed, usually 10.0 GB".
pub fn describe(anomaly: &RunAnomaly) -> String {
    let (value, median) = if anomaly.kind.is_bytes() {
        (
            crate::model::format::format_bytes(anomaly.value),
            crate::model::format::format_bytes(anomaly.median),
        )
    } else {
        (format!("{} s", anomaly.value), format!("{} s", anomaly.median))
    };
    match anomaly.kind {
        AnomalyKind::BytesSmall => format!("suspiciously small: {value} processed, usually {median}"),
        AnomalyKind::BytesLarge => format!("unusually large: {value} processed, usually {median}"),
        AnomalyKind::DurationShort => format!("unusually short: took {value}, usually {median}"),
        AnomalyKind::DurationLong => format!("unusually long: took {value}, usually {median}"),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;

    fn steady(n: usize) -> Vec<(Option<i64>, Option<i64>)> {
        // About 10 GB and 20 minutes, with the ordinary wobble of a real job.
        (0..n)
            .map(|i| {
                let wobble = (i as i64 % 5) - 2;
                (Some(10_000_000_000 + wobble * 150_000_000), Some(1_200 + wobble * 40))
            })
            .collect()
    }

    #[test]
    fn too_little_history_judges_nothing() {
        let history = steady(MIN_HISTORY - 1);
        assert_eq!(detect(Some(0), Some(1), &history), None);
        assert_eq!(detect(Some(100_000_000_000), Some(100_000), &history), None);
        assert!(detect(Some(0), None, &steady(MIN_HISTORY)).is_some(), "enough history judges");
    }

    #[test]
    fn a_small_backup_is_suspicious_and_a_large_one_unusual() {
        let history = steady(HISTORY);
        let small = detect(Some(120_000_000), Some(1_150), &history).unwrap();
        assert_eq!(small.kind, AnomalyKind::BytesSmall);
        assert_eq!(small.median, 10_000_000_000);
        let empty = detect(Some(0), Some(30), &history).unwrap();
        assert_eq!(empty.kind, AnomalyKind::BytesSmall, "bytes are judged before duration");
        let large = detect(Some(45_000_000_000), Some(1_250), &history).unwrap();
        assert_eq!(large.kind, AnomalyKind::BytesLarge);
    }

    #[test]
    fn ordinary_wobble_and_moderate_growth_are_not_anomalies() {
        let history = steady(HISTORY);
        assert_eq!(detect(Some(10_300_000_000), Some(1_280), &history), None);
        // 60 % more data is growth, not yet an anomaly (below the ratio).
        assert_eq!(detect(Some(16_000_000_000), Some(1_300), &history), None);
        // A perfectly steady job: 1 % off is nothing, half is something.
        let flat: Vec<_> = (0..10).map(|_| (Some(1_000_000), Some(600))).collect();
        assert_eq!(detect(Some(1_010_000), Some(606), &flat), None);
        assert_eq!(detect(Some(400_000), Some(600), &flat).map(|a| a.kind), Some(AnomalyKind::BytesSmall));
    }

    #[test]
    fn durations_are_judged_when_bytes_are_ordinary_or_absent() {
        let history = steady(HISTORY);
        let long = detect(Some(10_000_000_000), Some(7_200), &history).unwrap();
        assert_eq!((long.kind, long.median), (AnomalyKind::DurationLong, 1_200));
        let short = detect(None, Some(100), &history).unwrap();
        assert_eq!(short.kind, AnomalyKind::DurationShort);
        // A job of seconds is never judged on its duration.
        let quick: Vec<_> = (0..10).map(|i| (None, Some(3 + i % 2))).collect();
        assert_eq!(detect(None, Some(30), &quick), None);
    }

    #[test]
    fn odd_runs_in_the_history_do_not_hide_the_next_one() {
        let mut history = steady(HISTORY);
        history[3] = (Some(0), Some(5));
        history[7] = (Some(80_000_000_000), Some(9_000));
        assert_eq!(detect(Some(0), Some(1_200), &history).map(|a| a.kind), Some(AnomalyKind::BytesSmall));
    }

    #[test]
    fn a_job_without_bytes_is_judged_on_duration_only() {
        let history: Vec<_> = (0..12).map(|i| (Some(0), Some(1_000 + i))).collect();
        assert_eq!(detect(Some(0), Some(1_003), &history), None);
        assert_eq!(detect(Some(0), Some(5_000), &history).map(|a| a.kind), Some(AnomalyKind::DurationLong));
    }
}
