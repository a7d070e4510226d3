-- People who sign in to the console. Usernames are stored lower-cased
-- (the application normalises them), so a plain unique constraint is
-- enough on both backends.
create table users (
    id bigint generated always as identity primary key,
    username text not null,
    email text not null,
    -- argon2id PHC string; never the password itself.
    password_hash text not null,
    role text not null check (role in ('admin', 'operator', 'viewer')),
    locale text not null default 'en' check (locale in ('en', 'ja')),
    disabled boolean not null default false,
    -- Set for one-time passwords: the next sign-in must choose a new one.
    must_change_password boolean not null default false,
    -- Bumped to end every session and token of the user at once
    -- (password change, role change, disabling).
    session_version bigint not null default 0,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    constraint users_username_key unique (username)
);
