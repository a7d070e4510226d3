-- The dashboard sums job_daily over the last 14 days for every job; with
-- the summed columns included, PostgreSQL can answer from the index alone.
drop index if exists job_daily_day_idx;
create index if not exists job_daily_day_totals_idx on job_daily (day)
    include (success, warning, failed, missed, duration_seconds_sum, duration_count, bytes_sum);
