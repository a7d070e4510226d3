-- The console's own backups (backup-mgmt backup create, and the daily
-- one): where the file is, how big, its SHA-256, and whether it worked.
create table console_backups (
    id integer primary key,
    file_name text,
    -- scheduled (the daily backup) or manual (the CLI, the Settings page).
    trigger text not null check (trigger in ('scheduled', 'manual')),
    backend text not null,
    encrypted boolean not null,
    status text not null check (status in ('ok', 'failed')),
    size_bytes integer,
    sha256 text,
    error text,
    started_at text not null,
    finished_at text not null
);
create index console_backups_time_idx on console_backups (started_at desc, id desc);

-- Events about the console gain its backups, its disk and its error rate
-- (recoveries are console_recovered). SQLite cannot change a check
-- constraint in place: the table is rebuilt with its ids.
create table console_events_new (
    id integer primary key autoincrement,
    kind text not null check (kind in ('console_degraded', 'console_recovered', 'delivery_dead',
        'console_backup_failed', 'console_disk_low', 'console_error_rate')),
    subject text not null,
    subject_name text not null,
    details text,
    channel_id integer references notification_channels (id) on delete set null,
    delivery_id integer references notification_deliveries (id) on delete set null,
    occurred_at text not null
);
insert into console_events_new (id, kind, subject, subject_name, details, channel_id, delivery_id, occurred_at)
    select id, kind, subject, subject_name, details, channel_id, delivery_id, occurred_at from console_events;
drop table console_events;
alter table console_events_new rename to console_events;
