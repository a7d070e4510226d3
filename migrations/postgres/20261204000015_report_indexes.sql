-- Reports over a year of 2,000 jobs (measured with issue 14's benchmark):
-- the period's failures, misses and anomalies come newest first straight
-- from their partial indexes (ordered as the list is), and the daily sums,
-- good-backup times and duration histograms are read from covering
-- indexes without touching the wide table rows.
drop index runs_problems_idx;
drop index runs_anomaly_idx;
create index runs_problems_idx on runs (started_at desc, id desc, job_id) where result in ('failed', 'missed');
create index runs_anomaly_idx on runs (started_at desc, id desc, job_id) where anomaly is not null;

drop index job_daily_day_totals_idx;
create index job_daily_day_totals_idx on job_daily (day, job_id)
    include (success, warning, failed, missed, duration_seconds_sum, duration_count, bytes_sum,
             expected, expected_ok, duration_max);
create index job_daily_good_idx on job_daily (job_id, day) include (good_first, good_last, good_max_gap);

create index job_daily_durations_job_idx on job_daily_durations (job_id, bucket, day) include (runs);
