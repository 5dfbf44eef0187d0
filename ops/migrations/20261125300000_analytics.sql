-- Up Migration

-- Roll-ups the analytics actor keeps from the domain event stream, one
-- transaction per event together with its consumed_events claim. Every
-- figure can be rebuilt from the bookings, holds and waitlist tables or by
-- replaying the stream. No foreign keys: the tables are written from the
-- stream, which may mention an event before a read of `events` would.

-- Per event, the running totals: bookings and tickets still confirmed,
-- cancellations, revenue still confirmed (minor units), waitlist offers.
CREATE TABLE analytics_events (
  event_id         uuid PRIMARY KEY,
  bookings         integer NOT NULL DEFAULT 0,
  tickets          integer NOT NULL DEFAULT 0,
  cancellations    integer NOT NULL DEFAULT 0,
  revenue          bigint NOT NULL DEFAULT 0,
  offers_made      integer NOT NULL DEFAULT 0,
  offers_confirmed integer NOT NULL DEFAULT 0,
  -- When the stream last changed this row (wall clock): a stalled-sale check
  -- waits until a backlog being caught up has settled.
  applied_at       timestamptz NOT NULL DEFAULT now()
);

-- Per event and UTC minute: what was booked in it (whatever became of it
-- later) and what was cancelled in it. Velocity and the anomaly baselines.
CREATE TABLE analytics_minutes (
  event_id      uuid NOT NULL,
  minute        timestamptz NOT NULL,
  bookings      integer NOT NULL DEFAULT 0,
  tickets       integer NOT NULL DEFAULT 0,
  revenue       bigint NOT NULL DEFAULT 0,
  cancellations integer NOT NULL DEFAULT 0,
  refunds       bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, minute)
);
CREATE INDEX analytics_minutes_by_minute ON analytics_minutes (minute);

-- Per event and UTC day: bookings made, tickets in them, cancellations made,
-- and revenue = booked − refunded that day.
CREATE TABLE analytics_days (
  event_id      uuid NOT NULL,
  day           date NOT NULL,
  bookings      integer NOT NULL DEFAULT 0,
  tickets       integer NOT NULL DEFAULT 0,
  cancellations integer NOT NULL DEFAULT 0,
  revenue       bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, day)
);
CREATE INDEX analytics_days_by_day ON analytics_days (day);

-- Each waitlist entry's furthest status (waiting 0 < offered 1 < booked,
-- expired or left 2): events of different types arrive in any order, the
-- furthest one wins.
CREATE TABLE analytics_waitlist (
  entry_id uuid PRIMARY KEY,
  event_id uuid NOT NULL,
  status   text NOT NULL,
  rank     smallint NOT NULL
);
CREATE INDEX analytics_waitlist_live ON analytics_waitlist (event_id) WHERE status IN ('waiting', 'offered');

-- Alerts raised, newest first in the API; one per episode per event and kind.
CREATE TABLE analytics_alerts (
  id        uuid PRIMARY KEY,
  event_id  uuid NOT NULL,
  kind      text NOT NULL CHECK (kind IN ('velocity-spike', 'cancellation-burst', 'stalled-sale')),
  observed  double precision NOT NULL,
  baseline  double precision NOT NULL,
  detail    text NOT NULL,
  raised_at timestamptz NOT NULL
);
CREATE INDEX analytics_alerts_recent ON analytics_alerts (raised_at DESC, id DESC);
CREATE INDEX analytics_alerts_by_event ON analytics_alerts (event_id, raised_at DESC, id DESC);

-- The minute an episode of each kind last showed for an event, so an episode
-- raises one alert, not one a minute.
CREATE TABLE analytics_alert_episodes (
  event_id    uuid NOT NULL,
  kind        text NOT NULL,
  last_minute timestamptz NOT NULL,
  PRIMARY KEY (event_id, kind)
);

-- An event's bookings in the order the CSV export streams them, read from
-- the index instead of sorted in memory.
CREATE INDEX bookings_by_event_time ON bookings (event_id, created_at, id);

-- Down Migration
DROP INDEX bookings_by_event_time;
DROP TABLE analytics_alert_episodes;
DROP TABLE analytics_alerts;
DROP TABLE analytics_waitlist;
DROP TABLE analytics_days;
DROP TABLE analytics_minutes;
DROP TABLE analytics_events;
