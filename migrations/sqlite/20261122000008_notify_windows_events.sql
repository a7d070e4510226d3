-- Maintenance windows: events of the jobs they cover are recorded, not sent.
create table maintenance_windows (
    id integer primary key,
    name text not null,
    kind text not null check (kind in ('once', 'weekly')),
    -- once: the window, as instants.
    starts_at text,
    ends_at text,
    -- weekly: comma-separated days (mon..sun) and local times HH:MM in time_zone;
    -- an end at or before the start ends on the next day.
    weekdays text not null default '',
    start_time text,
    end_time text,
    time_zone text not null,
    job_filter_kind text not null default 'all' check (job_filter_kind in ('all', 'tags', 'jobs')),
    job_filter_tags text not null default '',
    job_filter_job_ids text not null default '',
    enabled boolean not null default true,
    created_at text not null,
    updated_at text not null,
    constraint maintenance_windows_name_key unique (name)
);

-- Events that are not about one job's state: a Veeam server became
-- unreachable or came back, a repository went below its threshold.
create table system_events (
    id integer primary key,
    kind text not null,
    veeam_server_id integer references veeam_servers (id) on delete cascade,
    repository_id integer references repositories (id) on delete cascade,
    subject_name text not null,
    details text,
    occurred_at text not null
);
create index system_events_server_idx on system_events (veeam_server_id, occurred_at, id);

-- Events a rule matched but that were held back: in a maintenance window,
-- or a missed/late job of a Veeam server that was down at the time (told
-- once in the server's messages instead).
create table notification_suppressions (
    id integer primary key,
    rule_id integer references notification_rules (id) on delete set null,
    event text not null,
    job_id integer references jobs (id) on delete set null,
    run_id integer,
    subject_name text not null,
    reason text not null check (reason in ('maintenance', 'correlated')),
    maintenance_window_id integer references maintenance_windows (id) on delete set null,
    -- correlated: the server and its outage (the veeam_unreachable system event).
    veeam_server_id integer references veeam_servers (id) on delete set null,
    outage_event_id integer,
    occurred_at text not null,
    created_at text not null
);
create index notification_suppressions_created_idx on notification_suppressions (created_at, id);
create index notification_suppressions_outage_idx on notification_suppressions (outage_event_id);

-- What a delivery is about (job:<id>, veeam:<id>, repository:<id>), for
-- "recovered only when announced" and reminders.
alter table notification_deliveries add column subject text;
update notification_deliveries set subject = 'job:' || job_id where job_id is not null;
create index notification_deliveries_subject_idx on notification_deliveries (rule_id, subject, id);
