-- Backup jobs: anything whose runs the console watches. Veeam jobs
-- (source 'veeam') are created by the sync or the job-complete webhook;
-- every other tool reports runs to a 'push' job.
create table jobs (
    id integer primary key,
    name text not null,
    description text not null default '',
    source text not null check (source in ('push', 'veeam')),
    -- Expected schedule: none, a cron expression in a time zone, or an interval.
    schedule_kind text not null default 'none' check (schedule_kind in ('none', 'cron', 'interval')),
    schedule_cron text,
    schedule_timezone text,
    schedule_interval_seconds integer,
    -- How long after an expected time a run may start before it counts as missed.
    grace_seconds integer not null default 3600,
    -- A run still going after this long makes the job 'overdue'.
    max_duration_seconds integer,
    owner_id integer references users (id) on delete set null,
    state text not null default 'new' check (state in
        ('new', 'ok', 'warning', 'failed', 'running', 'late', 'missed', 'overdue', 'paused')),
    -- Paused jobs are not expected to run; with paused_until they resume by themselves.
    paused boolean not null default false,
    paused_until text,
    -- Secret of the job's ping URLs (/ping/{token}).
    ping_token text not null,
    -- For Veeam jobs: the server and the job's id there.
    veeam_server_id integer,
    veeam_job_id text,
    -- Marked when a synced Veeam job disappeared from its server (kept with its history).
    removed_at text,
    last_run_id integer,
    last_run_at text,
    last_result text,
    next_expected_at text,
    running_since text,
    created_at text not null,
    updated_at text not null,
    constraint jobs_name_key unique (name),
    constraint jobs_ping_token_key unique (ping_token)
);
create index jobs_state_idx on jobs (state);
create index jobs_next_expected_idx on jobs (next_expected_at);
create index jobs_veeam_idx on jobs (veeam_server_id, veeam_job_id);

-- Tags, one row each (portable: no arrays in shared tables).
create table job_tags (
    job_id integer not null references jobs (id) on delete cascade,
    tag text not null,
    primary key (job_id, tag)
);
create index job_tags_tag_idx on job_tags (tag, job_id);

-- Runs (the design's backup_history). external_id is the source's own id
-- (a Veeam session id, a ping rid), unique per job so a report delivered
-- twice is stored once.
create table runs (
    id integer primary key,
    job_id integer not null references jobs (id) on delete cascade,
    started_at text not null,
    ended_at text,
    result text not null check (result in ('running', 'success', 'warning', 'failed', 'missed')),
    message text,
    bytes_processed integer,
    exit_code integer,
    log_excerpt text,
    external_id text,
    -- How it arrived: ping, api, veeam_webhook, veeam_sync, scheduler.
    origin text not null,
    created_at text not null,
    updated_at text not null,
    constraint runs_job_external_key unique (job_id, external_id)
);
-- Keyset pagination newest first, per job and across jobs.
create index runs_job_started_idx on runs (job_id, started_at desc, id desc);
create index runs_started_idx on runs (started_at desc, id desc);
create index runs_running_idx on runs (job_id) where result = 'running';

-- Per job and day (in the configured time zone): counts and sums, kept up
-- to date as runs finish, so dashboards and reports never scan history.
create table job_daily (
    job_id integer not null references jobs (id) on delete cascade,
    day text not null,
    success integer not null default 0,
    warning integer not null default 0,
    failed integer not null default 0,
    missed integer not null default 0,
    duration_seconds_sum integer not null default 0,
    duration_count integer not null default 0,
    bytes_sum integer not null default 0,
    primary key (job_id, day)
);
create index job_daily_day_idx on job_daily (day);

-- State changes of jobs, in order: what notifications are made from.
create table job_events (
    id integer primary key,
    job_id integer not null references jobs (id) on delete cascade,
    occurred_at text not null,
    from_state text not null,
    to_state text not null,
    run_id integer,
    details text
);
create index job_events_time_idx on job_events (occurred_at, id);
create index job_events_job_idx on job_events (job_id, id);
