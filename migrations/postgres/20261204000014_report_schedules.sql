-- Scheduled report e-mails: a report for a period (a preset name, resolved
-- as of each occurrence in the schedule's time zone) and filters, sent to
-- e-mail channels daily, weekly or monthly at a time of day.
create table report_schedules (
    id bigint generated always as identity primary key,
    name text not null,
    enabled boolean not null default true,
    cadence text not null check (cadence in ('daily', 'weekly', 'monthly')),
    -- Weekly: 'mon' ... 'sun'; null otherwise.
    weekday text,
    -- Monthly: '1' ... '28' or 'last'; null otherwise.
    month_day text,
    -- 'HH:MM' in time_zone.
    time_of_day text not null,
    -- IANA name, e.g. 'Asia/Tokyo'.
    time_zone text not null,
    -- A report preset: yesterday, last_7_days, last_30_days, last_month, this_month.
    period text not null,
    group_by text not null default 'job',
    tag text,
    source text,
    veeam_server_id bigint,
    -- Comma-separated job ids ('' for all).
    job_ids text not null default '',
    lang text not null default 'ja' check (lang in ('ja', 'en')),
    created_by text,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    -- The next occurrence; the scheduler moves it in the transaction that
    -- queues the deliveries (guarded by its old value: sent once).
    next_send_at timestamptz not null,
    last_sent_at timestamptz,
    last_period_from text,
    last_period_until text,
    constraint report_schedules_name_key unique (name)
);
create index report_schedules_due_idx on report_schedules (enabled, next_send_at);

-- Where each schedule's report goes: e-mail channels.
create table report_schedule_channels (
    schedule_id bigint not null references report_schedules (id) on delete cascade,
    channel_id bigint not null references notification_channels (id) on delete cascade,
    primary key (schedule_id, channel_id)
);
