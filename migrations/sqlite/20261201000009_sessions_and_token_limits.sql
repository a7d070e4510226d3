-- no-transaction
-- Security hardening (issue 12).
--
-- 1. User ids are never reused. Without AUTOINCREMENT SQLite hands a
--    deleted user's id to the next user created, and anything that still
--    names the old id (a token, an audit row) would name the new user.
--    Changing a table's key takes SQLite's documented rebuild: foreign
--    keys off, copy, swap, check, foreign keys on. It runs outside sqlx's
--    transaction because `foreign_keys` cannot change inside one.
PRAGMA foreign_keys = OFF;
BEGIN;
create table users_rebuilt (
    id integer primary key autoincrement,
    username text not null,
    email text not null,
    password_hash text not null,
    role text not null check (role in ('admin', 'operator', 'viewer')),
    locale text not null default 'en' check (locale in ('en', 'ja')),
    disabled boolean not null default false,
    must_change_password boolean not null default false,
    session_version integer not null default 0,
    created_at text not null,
    updated_at text not null,
    constraint users_username_key unique (username)
);
insert into users_rebuilt (id, username, email, password_hash, role, locale, disabled,
    must_change_password, session_version, created_at, updated_at)
select id, username, email, password_hash, role, locale, disabled,
    must_change_password, session_version, created_at, updated_at
from users;
drop table users;
alter table users_rebuilt rename to users;

-- A one-time password (first administrator, reset) stops working after
-- this time unless it has been used.
alter table users add column password_expires_at text;

-- 2. Every session cookie and bearer JWT names one row here (the JWT's
--    `sid`, 128 random bits). Signing out revokes the row; a session also
--    ends at `expires_at` however active it is (`session_max_days`). Rows
--    go with their user, so a deleted user's token can never match anyone.
create table auth_sessions (
    id text primary key,
    user_id integer not null references users (id) on delete cascade,
    kind text not null check (kind in ('session', 'api')),
    created_at text not null,
    expires_at text not null,
    revoked_at text
);
create index auth_sessions_user_idx on auth_sessions (user_id);
create index auth_sessions_expiry_idx on auth_sessions (expires_at);

-- 3. API tokens may be limited to chosen jobs and/or tags (JSON arrays);
--    null means every job.
alter table api_tokens add column job_ids text;
alter table api_tokens add column tags text;

PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;
