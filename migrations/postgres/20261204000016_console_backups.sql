-- The console's own backups (backup-mgmt backup create, and the daily
-- one): where the file is, how big, its SHA-256, and whether it worked.
create table console_backups (
    id bigint generated always as identity primary key,
    file_name text,
    -- scheduled (the daily backup) or manual (the CLI, the Settings page).
    trigger text not null check (trigger in ('scheduled', 'manual')),
    backend text not null,
    encrypted boolean not null,
    status text not null check (status in ('ok', 'failed')),
    size_bytes bigint,
    sha256 text,
    error text,
    started_at timestamptz not null,
    finished_at timestamptz not null
);
create index console_backups_time_idx on console_backups (started_at desc, id desc);

-- Events about the console gain its backups, its disk and its error rate
-- (recoveries are console_recovered).
alter table console_events drop constraint console_events_kind_check;
alter table console_events add constraint console_events_kind_check check (kind in ('console_degraded',
    'console_recovered', 'delivery_dead', 'console_backup_failed', 'console_disk_low', 'console_error_rate'));
