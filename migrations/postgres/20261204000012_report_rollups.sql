-- Reports (issue 14): the daily roll-ups grow what reports need, so that a
-- report's cost grows with jobs x days, never with runs.

-- Whether a run answered an expected slot of its job's schedule (a run
-- between slots, a manual extra, does not). SLA % = expected slots answered
-- by a success or warning / expected slots (missed runs are slots too).
alter table runs add column answered_slot boolean not null default false;
-- A successful run far outside its job's recent pattern: bytes_small,
-- bytes_large, duration_short or duration_long, with the median it was
-- compared with (bytes or seconds).
alter table runs add column anomaly text
    check (anomaly is null or anomaly in ('bytes_small', 'bytes_large', 'duration_short', 'duration_long'));
alter table runs add column anomaly_median bigint;
-- Reports list failures, misses and anomalies of a period without reading
-- the period's other runs.
create index runs_problems_idx on runs (started_at, job_id) where result in ('failed', 'missed');
create index runs_anomaly_idx on runs (started_at, job_id) where anomaly is not null;

-- Per job and day: expected slots and those answered by a good run, the
-- longest run, and when good backups (success or warning, by their end in
-- Unix seconds) became available: the first, the last and the longest gap
-- between two of the day's, from which RPO compliance is computed.
alter table job_daily add column expected bigint not null default 0;
alter table job_daily add column expected_ok bigint not null default 0;
alter table job_daily add column duration_max bigint;
alter table job_daily add column good_first bigint;
alter table job_daily add column good_last bigint;
alter table job_daily add column good_max_gap bigint not null default 0;

-- Before this release slots were not recorded: a scheduled job's finished
-- runs count as its expected runs (an approximation for the old days).
update job_daily set expected = missed + success + warning + failed, expected_ok = success + warning
    where job_id in (select id from jobs where schedule_kind <> 'none' or source = 'veeam');

-- Durations per job and day as a histogram (bucket = 1 + floor(8 * log2
-- seconds), 0 for 0 s: within 5 %), for p50 and p95 over any period.
create table job_daily_durations (
    job_id bigint not null references jobs (id) on delete cascade,
    day text not null,
    bucket bigint not null,
    runs bigint not null default 0,
    primary key (job_id, day, bucket)
);
create index job_daily_durations_day_idx on job_daily_durations (day, job_id, bucket, runs);
