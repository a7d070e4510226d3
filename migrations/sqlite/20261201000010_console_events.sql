-- Events about the console itself, told by notification rules like the
-- others: a background task stalled or keeps failing (console_degraded)
-- and works again (console_recovered), recorded by the watchdog; a
-- notification given up (delivery_dead), recorded by the worker in the
-- same transaction that marks the delivery dead. Ids are never reused:
-- the notifier reads the table by a cursor on them.
create table console_events (
    id integer primary key autoincrement,
    kind text not null check (kind in ('console_degraded', 'console_recovered', 'delivery_dead')),
    -- What recoveries answer: task:<name>, or delivery:<id>.
    subject text not null,
    -- The task's name, or the name of the channel that failed.
    subject_name text not null,
    -- Why: the stall or the last error.
    details text,
    -- delivery_dead: the channel that failed (the message goes through another one when a rule has one).
    channel_id integer references notification_channels (id) on delete set null,
    -- delivery_dead: the delivery given up.
    delivery_id integer references notification_deliveries (id) on delete set null,
    occurred_at text not null
);
