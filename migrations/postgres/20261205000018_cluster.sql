-- Several instances on one database (PostgreSQL).
--
-- One missed run per expected slot, whatever the instances believe: the
-- monitor's insert does nothing when the slot is already recorded. Earlier
-- doubles (none are expected: the monitor also locks the job's row) keep
-- their first run; what pointed at a later double points at the first.
create temporary table missed_doubles as
select r.id as id, (select min(f.id) from runs f
                    where f.job_id = r.job_id and f.started_at = r.started_at and f.result = 'missed') as first_id
from runs r
where r.result = 'missed'
  and r.id <> (select min(f.id) from runs f
               where f.job_id = r.job_id and f.started_at = r.started_at and f.result = 'missed');
update jobs set last_run_id = (select first_id from missed_doubles where id = jobs.last_run_id)
where last_run_id in (select id from missed_doubles);
update job_events set run_id = (select first_id from missed_doubles where id = job_events.run_id)
where run_id in (select id from missed_doubles);
delete from runs where id in (select id from missed_doubles);
drop table missed_doubles;
create unique index runs_missed_slot_key on runs (job_id, started_at) where result = 'missed';

-- The instances that serve this database: each writes its row every few
-- seconds (Settings -> Cluster lists them; rows not seen for a day go).
create table cluster_instances (
    id text primary key,
    hostname text not null,
    address text not null,
    version text not null,
    started_at timestamptz not null,
    last_seen_at timestamptz not null
);

-- Who leads the periodic work that must not run twice (the monitor, Veeam
-- syncs, scheduled reports, backups, retention). The lead itself is a
-- PostgreSQL advisory lock held on a dedicated connection; this row only
-- tells the others who holds it, since when, and how many leads there
-- have been (epoch).
create table cluster_leader (
    id integer primary key check (id = 1),
    instance_id text not null,
    hostname text not null,
    address text not null,
    since timestamptz not null,
    heartbeat_at timestamptz not null,
    epoch bigint not null
);

-- Sign-in limits shared by every instance (GCRA: the theoretical arrival
-- time of the next attempt, in milliseconds since 1970, per key).
create table login_limits (
    key text primary key,
    tat_ms bigint not null
);
