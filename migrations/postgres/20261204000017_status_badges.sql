-- Status badges (/badge/<token>.svg, like Healthchecks): an SVG that shows
-- whether a job, or every job with a tag, is up, late or down. The token
-- in the URL is the only credential: revoking a badge makes its URL 404.
create table status_badges (
    id bigint generated always as identity primary key,
    token text not null,
    job_id bigint references jobs (id) on delete cascade,
    tag text,
    -- Show the age of the last run beside the state.
    show_age boolean not null default false,
    created_by text,
    created_at timestamptz not null,
    revoked_at timestamptz,
    constraint status_badges_token_key unique (token),
    constraint status_badges_subject check ((job_id is null) <> (tag is null))
);
create index status_badges_job_idx on status_badges (job_id);
create index status_badges_tag_idx on status_badges (tag);
