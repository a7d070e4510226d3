-- Where notifications go: e-mail, Teams, Slack, Discord or a generic
-- webhook. The whole settings object is encrypted (AES-256-GCM with
-- BMS_ENCRYPTION_KEY): it holds SMTP passwords, webhook URLs (which are
-- credentials themselves) and signing secrets.
create table notification_channels (
    id integer primary key,
    name text not null,
    kind text not null check (kind in ('email', 'teams', 'slack', 'discord', 'webhook')),
    -- Language of the messages: 'ja' or 'en'.
    locale text not null default 'ja',
    enabled boolean not null default true,
    config_encrypted text not null,
    created_at text not null,
    updated_at text not null,
    constraint notification_channels_name_key unique (name)
);
