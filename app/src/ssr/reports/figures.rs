//! The arithmetic of reports, pure: rates, percentiles from duration
//! histograms, RPO compliance from the days' good backups, and the order
//! of rows (worst first).

use std::{cmp::Ordering, collections::BTreeMap};

use crate::{
    model::report::{ReportFigures, ReportRow},
    ssr::jobs::{ingest::bucket_seconds, reporting::DailySums},
};

/// `num ÷ den`, absent when `den` is 0.
pub fn rate(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// A duration histogram: bucket → runs.
pub type Histogram = BTreeMap<i64, i64>;

/// The `q` quantile (0 to 1) of a histogram, as its bucket's middle.
pub fn quantile(histogram: &Histogram, q: f64) -> Option<i64> {
    let total: i64 = histogram.values().sum();
    if total == 0 {
        return None;
    }
    // The smallest bucket whose running count reaches ceil(q × total).
    let rank = ((q * total as f64).ceil() as i64).clamp(1, total);
    let mut seen = 0;
    for (bucket, runs) in histogram {
        seen += runs;
        if seen >= rank {
            return Some(bucket_seconds(*bucket));
        }
    }
    None
}

/// Adds `other` into `into`.
pub fn merge(into: &mut Histogram, other: &Histogram) {
    for (bucket, runs) in other {
        *into.entry(*bucket).or_default() += runs;
    }
}

/// The figures of sums over a period (RPO, previous bytes and anomalies
/// are filled in by the caller). The longest run is capped to the
/// histogram's p95 and p50 never exceeding it (a bucket's middle can be
/// above the real maximum).
pub fn figures(sums: &DailySums, histogram: &Histogram) -> ReportFigures {
    let runs = sums.success + sums.warning + sums.failed;
    let max = sums.duration_max;
    let cap = |v: Option<i64>| match (v, max) {
        (Some(v), Some(m)) => Some(v.min(m)),
        (v, _) => v,
    };
    ReportFigures {
        runs,
        success: sums.success,
        warning: sums.warning,
        failed: sums.failed,
        missed: sums.missed,
        success_rate: rate(sums.success + sums.warning, runs),
        expected: sums.expected,
        expected_ok: sums.expected_ok,
        sla: rate(sums.expected_ok, sums.expected),
        duration_p50_seconds: cap(quantile(histogram, 0.5)),
        duration_p95_seconds: cap(quantile(histogram, 0.95)),
        duration_max_seconds: max,
        bytes: sums.bytes,
        ..ReportFigures::default()
    }
}

/// Adds `b` into `a` (for totals and groups).
pub fn add_sums(a: &mut DailySums, b: &DailySums) {
    a.success += b.success;
    a.warning += b.warning;
    a.failed += b.failed;
    a.missed += b.missed;
    a.duration_sum += b.duration_sum;
    a.duration_count += b.duration_count;
    a.bytes += b.bytes;
    a.expected += b.expected;
    a.expected_ok += b.expected_ok;
    a.duration_max = match (a.duration_max, b.duration_max) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    };
}

/// One day's good backups (Unix seconds): the first and last to become
/// available and the longest gap between two of that day's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoodSpan {
    /// First.
    pub first: i64,
    /// Last.
    pub last: i64,
    /// Longest gap between two of the day's.
    pub max_gap: i64,
}

/// RPO compliance over `[start, end)` (Unix seconds) for a target of
/// `target` seconds: the share of the time during which the newest good
/// backup was younger than the target, and the longest gap without a good
/// backup (from the last one before the period, or the period's start
/// when there is none, to the next one, or to the end). `previous` is the
/// last good backup before the period; `days` are the period's days with
/// good backups, oldest first. Inside a day only the longest gap is known:
/// when two of a day's gaps exceed the target, the shorter one's excess is
/// not counted.
pub fn rpo_compliance(
    target: i64,
    start: i64,
    end: i64,
    previous: Option<i64>,
    days: &[GoodSpan],
) -> Option<(f64, i64)> {
    if end <= start || target <= 0 {
        return None;
    }
    // Time in [start, end) during which a good backup made at `from` (or
    // nothing, when `None`) was the newest and too old, up to `to`.
    let stale = |from: Option<i64>, to: i64| -> i64 {
        let too_old_from = from.map_or(start, |f| f + target).max(start);
        (to.min(end) - too_old_from).max(0)
    };
    let mut exposed = 0;
    let mut longest = 0;
    let mut last = previous;
    for day in days {
        let first = day.first.max(start);
        exposed += stale(last, first);
        longest = longest.max(first - last.unwrap_or(start).max(i64::MIN / 2));
        exposed += (day.max_gap - target).max(0);
        longest = longest.max(day.max_gap);
        last = Some(last.map_or(day.last, |l| l.max(day.last)));
    }
    exposed += stale(last, end);
    longest = longest.max(end - last.unwrap_or(start));
    let exposed = exposed.min(end - start);
    Some((1.0 - exposed as f64 / (end - start) as f64, longest.max(0)))
}

/// Orders rows worst first: by the lowest of their SLA, RPO compliance and
/// success rate (a row with none of them comes last), then by most missed
/// and failed runs, then by name.
pub fn worst_first(a: &ReportRow, b: &ReportRow) -> Ordering {
    fn score(f: &ReportFigures) -> f64 {
        [f.sla, f.rpo_compliance, f.success_rate].into_iter().flatten().fold(2.0, f64::min)
    }
    let (fa, fb) = (&a.figures, &b.figures);
    score(fa)
        .total_cmp(&score(fb))
        .then_with(|| (fb.missed + fb.failed).cmp(&(fa.missed + fa.failed)))
        .then_with(|| a.name.cmp(&b.name))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;
    use crate::ssr::jobs::ingest::duration_bucket;

    const H: i64 = 3600;
    const D: i64 = 24 * H;

    fn day(rows: &[(bool, &str)]) -> DailySums {
        // (expected slot?, result) of one day's runs, folded as the ingest does.
        let mut s = DailySums::default();
        for (slot, result) in rows {
            let ok = matches!(*result, "success" | "warning");
            match *result {
                "success" => s.success += 1,
                "warning" => s.warning += 1,
                "failed" => s.failed += 1,
                _ => s.missed += 1,
            }
            s.expected += i64::from(*slot);
            s.expected_ok += i64::from(*slot && ok);
        }
        s
    }

    #[test]
    fn sla_counts_slots_warnings_as_met_and_misses_as_not() {
        // A daily job over 5 days: ok, warning, failed then a retry that
        // answered no slot, missed, ok; plus a manual extra run.
        let days = [
            day(&[(true, "success"), (false, "success")]),
            day(&[(true, "warning")]),
            day(&[(true, "failed"), (false, "success")]),
            day(&[(true, "missed")]),
            day(&[(true, "success")]),
        ];
        let mut total = DailySums::default();
        for d in &days {
            add_sums(&mut total, d);
        }
        let f = figures(&total, &Histogram::new());
        assert_eq!((f.expected, f.expected_ok), (5, 3));
        assert_eq!(f.sla, Some(0.6));
        assert_eq!(f.runs, 6, "missed runs are not runs");
        assert_eq!(f.success_rate, Some(5.0 / 6.0));
        assert_eq!(f.missed, 1);
    }

    #[test]
    fn closed_days_expect_nothing_so_runs_on_them_do_not_change_the_sla() {
        // Business days only: Saturday and a holiday have no slots; a run on
        // one answers none (the ingest leaves `answered_slot` false).
        let week = [
            day(&[(true, "success")]),
            day(&[(true, "success")]),
            day(&[(false, "failed")]), // a holiday: someone ran it by hand
            day(&[(true, "success")]),
            day(&[]), // Saturday
        ];
        let mut total = DailySums::default();
        for d in &week {
            add_sums(&mut total, d);
        }
        let f = figures(&total, &Histogram::new());
        assert_eq!((f.expected, f.expected_ok, f.sla), (3, 3, Some(1.0)));
        assert_eq!(f.failed, 1, "the run is still counted as a run");
        assert_eq!(figures(&DailySums::default(), &Histogram::new()).sla, None, "nothing expected: no SLA");
    }

    #[test]
    fn percentiles_come_from_the_histogram_within_its_resolution() {
        let mut h = Histogram::new();
        for seconds in (1..=100).map(|i| i * 60) {
            *h.entry(duration_bucket(seconds)).or_default() += 1;
        }
        let p50 = quantile(&h, 0.5).unwrap() as f64;
        let p95 = quantile(&h, 0.95).unwrap() as f64;
        assert!((p50 / 3000.0 - 1.0).abs() < 0.06, "p50 {p50}");
        assert!((p95 / 5700.0 - 1.0).abs() < 0.06, "p95 {p95}");
        assert_eq!(quantile(&Histogram::new(), 0.5), None);
        let mut zero = Histogram::new();
        zero.insert(duration_bucket(0), 3);
        assert_eq!(quantile(&zero, 0.95), Some(0));
        let sums = DailySums { duration_max: Some(5_000), success: 100, ..DailySums::default() };
        assert!(figures(&sums, &h).duration_p95_seconds.unwrap() <= 5_000, "capped by the real maximum");
    }

    #[test]
    fn rpo_compliance_is_the_share_of_time_with_a_young_enough_backup() {
        // 10 days, a 24 h target, a good backup every day at 01:00 except
        // day 4 (index 3): from day 3 01:00 + 24 h to day 5 01:00 = 24 h too old.
        let start = 0;
        let end = 10 * D;
        let days: Vec<GoodSpan> = (0..10)
            .filter(|d| *d != 3)
            .map(|d| GoodSpan { first: d * D + H, last: d * D + H, max_gap: 0 })
            .collect();
        let (share, longest) = rpo_compliance(24 * H, start, end, Some(-23 * H), &days).unwrap();
        assert!((share - 0.9).abs() < 1e-9, "{share}");
        assert_eq!(longest, 2 * D);
        // Every day on time: fully compliant; the longest gap is a day.
        let all: Vec<GoodSpan> =
            (0..10).map(|d| GoodSpan { first: d * D + H, last: d * D + H, max_gap: 0 }).collect();
        assert_eq!(rpo_compliance(24 * H, start, end, Some(-23 * H), &all), Some((1.0, D)));
    }

    #[test]
    fn rpo_without_any_backup_before_or_during_is_fully_breached() {
        assert_eq!(rpo_compliance(24 * H, 0, 10 * D, None, &[]), Some((0.0, 10 * D)));
        // Nothing before the period: stale from its start to the first backup.
        let days = [GoodSpan { first: 2 * D, last: 9 * D, max_gap: D }];
        let (share, longest) = rpo_compliance(24 * H, 0, 10 * D, None, &days).unwrap();
        assert!((share - 0.8).abs() < 1e-9, "{share}");
        assert_eq!(longest, 2 * D);
    }

    #[test]
    fn gaps_inside_a_day_count_beyond_the_target() {
        // Hourly backups with a 4 h target; one day has a 10 h gap inside.
        let days = [GoodSpan { first: H, last: 23 * H, max_gap: 10 * H }];
        let (share, longest) = rpo_compliance(4 * H, 0, D, Some(0), &days).unwrap();
        // 6 h too old inside the day; 23:00 + 4 h is past the end.
        assert!((share - 18.0 / 24.0).abs() < 1e-9, "{share}");
        assert_eq!(longest, 10 * H);
        assert_eq!(rpo_compliance(4 * H, 0, 0, Some(0), &days), None, "an empty period has no figure");
    }
}
