-- Veeam Backup & Replication servers the console syncs from. The password
-- is encrypted (AES-256-GCM with BMS_ENCRYPTION_KEY); it never leaves the server.
create table veeam_servers (
    id integer primary key,
    name text not null,
    base_url text not null,
    username text not null,
    password_encrypted text not null,
    -- The revision chosen by the admin; null: detected from the server.
    api_version text,
    detected_api_version text,
    tls_mode text not null default 'verify' check (tls_mode in ('verify', 'custom_ca', 'insecure')),
    ca_pem text,
    sync_interval_seconds integer not null default 300,
    enabled boolean not null default true,
    status text not null default 'new' check (status in ('new', 'ok', 'unreachable', 'error')),
    last_sync_at text,
    last_error text,
    last_error_code text,
    -- Creation time of the newest session seen: later syncs ask only for newer ones.
    sessions_synced_until text,
    -- While a sync runs (also a lock between instances): phase, counts, start.
    sync_phase text,
    sync_done integer,
    sync_total integer,
    sync_started_at text,
    created_at text not null,
    updated_at text not null,
    constraint veeam_servers_name_key unique (name)
);

-- Veeam's own state of a synced job (running, inactive, disabled, ...).
alter table jobs add column veeam_status text;

-- Backup repositories and their space, from the Veeam sync.
create table repositories (
    id integer primary key,
    veeam_server_id integer not null references veeam_servers (id) on delete cascade,
    external_id text not null,
    name text not null,
    kind text not null,
    host_name text,
    path text,
    capacity_gb real not null,
    free_gb real not null,
    used_gb real not null,
    online boolean not null,
    -- Warn below this share of free space.
    warning_free_percent integer not null default 15,
    removed_at text,
    updated_at text not null,
    constraint repositories_server_external_key unique (veeam_server_id, external_id)
);

-- One sample of a repository's space per day (the last of the day).
create table repository_samples (
    repository_id integer not null references repositories (id) on delete cascade,
    day text not null,
    capacity_gb real not null,
    free_gb real not null,
    used_gb real not null,
    primary key (repository_id, day)
);
