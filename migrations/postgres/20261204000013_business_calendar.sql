-- The business calendar: company closures (年末年始, お盆...) on top of
-- weekends and Japanese public holidays, and jobs expected on business
-- days only.

-- A closure closes every day from first_day to last_day, both included
-- ('YYYY-MM-DD' dates: a closure is a calendar date wherever the console is).
create table calendar_closures (
    id bigint generated always as identity primary key,
    first_day text not null,
    last_day text not null,
    name text not null,
    created_at timestamptz not null,
    constraint calendar_closures_order check (first_day <= last_day)
);
create index calendar_closures_days_idx on calendar_closures (first_day, last_day);

-- A job expected on business days only is not expected on a closed day:
-- no late or missed run then, and its next expected run is the first
-- occurrence on a business day.
alter table jobs add column business_days_only boolean not null default false;
