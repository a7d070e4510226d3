-- API tokens for scripts. Only a SHA-256 hash of the secret is stored; the
-- secret is shown once when the token is created.
create table api_tokens (
    id bigint generated always as identity primary key,
    user_id bigint not null references users (id) on delete cascade,
    name text not null,
    scope text not null check (scope in ('read', 'write', 'ingest')),
    secret_hash text not null,
    -- The first characters of the secret, so users can tell tokens apart.
    prefix text not null,
    created_at timestamptz not null,
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz,
    constraint api_tokens_secret_hash_key unique (secret_hash)
);
create index api_tokens_user_idx on api_tokens (user_id);

-- Who did what, when, from where. Rows outlive the users they name
-- (actor_name keeps the name), so the trail stays readable.
create table audit_log (
    id bigint generated always as identity primary key,
    occurred_at timestamptz not null,
    actor_id bigint references users (id) on delete set null,
    actor_name text,
    action text not null,
    target_type text,
    target_id text,
    target_name text,
    client_ip text,
    success boolean not null,
    details text
);
create index audit_log_time_idx on audit_log (occurred_at desc, id desc);
create index audit_log_action_idx on audit_log (action, occurred_at desc);
create index audit_log_actor_idx on audit_log (actor_id, occurred_at desc);
