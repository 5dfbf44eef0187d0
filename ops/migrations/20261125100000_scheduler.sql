-- Up Migration

-- One row per reminder announced, written in the transaction that records the
-- event.reminder domain event: a reminder job run twice (two supervisors, or
-- a rerun after a crash) announces once. Keyed by the start it announced, so
-- an event moved to another time is reminded again.
CREATE TABLE reminders_sent (
  event_id        uuid NOT NULL REFERENCES events (id),
  reminder_window text NOT NULL CHECK (reminder_window IN ('24h', '1h')),
  starts_at       timestamptz NOT NULL,
  sent_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, reminder_window, starts_at)
);

-- The retention job deletes consumed_events past the stream's max age.
CREATE INDEX consumed_events_by_age ON consumed_events (consumed_at);

-- The completion job finds scheduled events whose end has passed.
CREATE INDEX events_scheduled_by_end ON events ((coalesce(ends_at, starts_at))) WHERE status = 'scheduled';

-- Down Migration
DROP INDEX events_scheduled_by_end;
DROP INDEX consumed_events_by_age;
DROP TABLE reminders_sent;
