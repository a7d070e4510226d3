-- Which events go to which channels, for which jobs.
create table notification_rules (
    id bigint generated always as identity primary key,
    name text not null,
    -- Comma-separated event kinds (run_failed, run_warning, ...).
    events text not null,
    -- Comma-separated channel ids.
    channel_ids text not null,
    job_filter_kind text not null default 'all' check (job_filter_kind in ('all', 'tags', 'jobs')),
    job_filter_tags text not null default '',
    job_filter_job_ids text not null default '',
    min_consecutive_failures bigint not null default 1,
    repeat_every_hours bigint,
    enabled boolean not null default true,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    constraint notification_rules_name_key unique (name)
);

-- The durable outbox: one row per (event, channel), written in one
-- transaction with the producer's cursor; the dedup key keeps an event
-- from being queued twice. A worker claims due rows with locked_until, so
-- a delivery in flight when the process dies is sent again.
create table notification_deliveries (
    id bigint generated always as identity primary key,
    dedup_key text not null,
    channel_id bigint not null references notification_channels (id) on delete cascade,
    rule_id bigint references notification_rules (id) on delete set null,
    event text not null,
    job_id bigint references jobs (id) on delete set null,
    notice text not null,
    status text not null default 'pending' check (status in ('pending', 'sent', 'dead')),
    attempts bigint not null default 0,
    next_attempt_at timestamptz not null,
    locked_until timestamptz,
    last_error text,
    created_at timestamptz not null,
    sent_at timestamptz,
    constraint notification_deliveries_dedup_key unique (dedup_key)
);
create index notification_deliveries_due_idx on notification_deliveries (status, next_attempt_at);
create index notification_deliveries_created_idx on notification_deliveries (created_at desc, id desc);

-- How far the producer has read job_events.
create table notifier_cursors (
    name text primary key,
    position bigint not null
);
