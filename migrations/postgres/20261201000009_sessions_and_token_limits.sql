-- Security hardening (issue 12). PostgreSQL's identity columns never hand
-- out an id twice, so users need no change here (SQLite's twin rebuilds
-- its table for that).

-- A one-time password (first administrator, reset) stops working after
-- this time unless it has been used.
alter table users add column password_expires_at timestamptz;

-- Every session cookie and bearer JWT names one row here (the JWT's `sid`,
-- 128 random bits). Signing out revokes the row; a session also ends at
-- `expires_at` however active it is (`session_max_days`). Rows go with
-- their user, so a deleted user's token can never match anyone.
create table auth_sessions (
    id text primary key,
    user_id bigint not null references users (id) on delete cascade,
    kind text not null check (kind in ('session', 'api')),
    created_at timestamptz not null,
    expires_at timestamptz not null,
    revoked_at timestamptz
);
create index auth_sessions_user_idx on auth_sessions (user_id);
create index auth_sessions_expiry_idx on auth_sessions (expires_at);

-- API tokens may be limited to chosen jobs and/or tags (JSON arrays);
-- null means every job.
alter table api_tokens add column job_ids text;
alter table api_tokens add column tags text;
