-- Veeam expectations (issue 13): a Veeam job's schedule as Veeam has it,
-- restore points per protected machine with an RPO per job, Veeam's own
-- security and health signals, and acknowledging a job's problem.

-- Where a job's expected schedule comes from: 'console' (set by an
-- operator) or 'veeam' (kept in step with the job's schedule in Veeam by
-- every sync). An operator who edits the schedule of a Veeam job takes it
-- over ('console').
alter table jobs add column schedule_from text not null default 'console'
    check (schedule_from in ('console', 'veeam'));
update jobs set schedule_from = 'veeam' where source = 'veeam' and schedule_kind = 'none';
-- The schedule read from Veeam: cron or interval when it maps, next_run
-- when only Veeam's own next run can say (after-this-job chains,
-- continuous, backup windows), none when the job never runs by itself.
alter table jobs add column veeam_schedule_kind text
    check (veeam_schedule_kind in ('none', 'cron', 'interval', 'next_run'));
alter table jobs add column veeam_schedule_cron text;
alter table jobs add column veeam_schedule_timezone text;
alter table jobs add column veeam_schedule_interval_seconds integer;
-- In words, as Veeam has it ("daily 22:00", "after Tokyo FS Backup").
alter table jobs add column veeam_schedule_summary text;
-- Veeam's nextRun, remembered across syncs (a running job has none).
alter table jobs add column veeam_next_run_at text;
-- scheduled | unscheduled (enabled, but will never run by itself) | disabled.
alter table jobs add column veeam_schedule_state text
    check (veeam_schedule_state in ('scheduled', 'unscheduled', 'disabled'));
-- Recovery point objective in hours; rpo_breached_since while a machine of
-- the job has no restore point younger than that.
alter table jobs add column rpo_hours integer check (rpo_hours is null or rpo_hours between 1 and 8760);
-- How many machines are outside the RPO now (the dashboard's count).
alter table jobs add column rpo_machines_breached integer not null default 0;
alter table jobs add column rpo_breached_since text;
-- An operator's acknowledgement of the job's current problem (ack_problem:
-- the state or condition acknowledged); it ends at the next state change.
alter table jobs add column ack_user_id integer references users (id) on delete set null;
alter table jobs add column ack_by text;
alter table jobs add column ack_at text;
alter table jobs add column ack_comment text;
alter table jobs add column ack_until text;
alter table jobs add column ack_problem text;

-- Server events can be about one job (rpo_breached, veeam_job_disabled,
-- job_acknowledged…); subject is what a recovery answers.
alter table system_events add column job_id integer references jobs (id) on delete cascade;
alter table system_events add column subject text;

-- Protected machines (Veeam backup objects) per job, with their newest
-- restore point.
create table veeam_machines (
    id integer primary key,
    veeam_server_id integer not null references veeam_servers (id) on delete cascade,
    job_id integer not null references jobs (id) on delete cascade,
    name text not null,
    backup_id text not null,
    newest_point_at text not null,
    newest_point_id text not null,
    malware_status text,
    updated_at text not null,
    constraint veeam_machines_job_name_key unique (job_id, name)
);
create index veeam_machines_age_idx on veeam_machines (job_id, newest_point_at);

-- Malware detection events read from Veeam, one row per Veeam event.
create table veeam_malware_events (
    id integer primary key,
    veeam_server_id integer not null references veeam_servers (id) on delete cascade,
    external_id text not null,
    job_id integer references jobs (id) on delete set null,
    machine_name text not null,
    detected_at text not null,
    state text,
    severity text,
    details text,
    resolved_at text,
    constraint veeam_malware_events_key unique (veeam_server_id, external_id)
);

-- Restore points are read incrementally after the first sync.
alter table veeam_servers add column restore_points_synced_until text;
alter table veeam_servers add column malware_synced_until text;
-- Veeam's signals as last read: configuration backup, licence, and which
-- are raised now (one per line: config_backup_stale, license_expiring, malware:<machine>);
-- signal_notes says what the account may not read (told once).
alter table veeam_servers add column config_backup_enabled boolean;
alter table veeam_servers add column config_backup_last_success text;
alter table veeam_servers add column license_status text;
alter table veeam_servers add column license_expires_at text;
alter table veeam_servers add column signals_raised text not null default '';
alter table veeam_servers add column signal_notes text not null default '';
alter table veeam_servers add column time_zone text;
