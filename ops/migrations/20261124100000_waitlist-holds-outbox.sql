-- Up Migration

-- Holds are inventory: seats in a hold, or set aside for the waitlist until
-- they are offered, are neither on sale nor sold.
--   capacity = confirmed + held + set_aside + available, at every commit.
ALTER TABLE events
  ADD COLUMN held      integer NOT NULL DEFAULT 0,
  ADD COLUMN set_aside integer NOT NULL DEFAULT 0,
  DROP CONSTRAINT events_available_in_range,
  ADD CONSTRAINT events_seats_in_range
    CHECK (available >= 0 AND held >= 0 AND set_aside >= 0 AND available + held + set_aside <= capacity);

CREATE TABLE waitlist_entries (
  id         uuid PRIMARY KEY,
  event_id   uuid NOT NULL REFERENCES events (id),
  user_id    uuid NOT NULL REFERENCES users (id),
  quantity   integer NOT NULL CHECK (quantity > 0),
  priority   integer NOT NULL DEFAULT 0,
  status     text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'offered', 'booked', 'expired', 'left')),
  -- How often people behind this entry were served first because it did not fit.
  skips      integer NOT NULL DEFAULT 0,
  hold_id    uuid,
  joined_at  timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- One live entry per person per event.
CREATE UNIQUE INDEX waitlist_one_live_entry ON waitlist_entries (event_id, user_id) WHERE status IN ('waiting', 'offered');
-- The queue order: priority tier first, then join time.
CREATE INDEX waitlist_queue ON waitlist_entries (event_id, priority DESC, joined_at, id) WHERE status = 'waiting';

CREATE TABLE holds (
  id         uuid PRIMARY KEY,
  event_id   uuid NOT NULL REFERENCES events (id),
  user_id    uuid NOT NULL REFERENCES users (id),
  entry_id   uuid NOT NULL REFERENCES waitlist_entries (id),
  quantity   integer NOT NULL CHECK (quantity > 0),
  status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'confirmed', 'expired', 'released')),
  expires_at timestamptz NOT NULL,
  booking_id uuid REFERENCES bookings (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT holds_confirmed_has_booking CHECK ((status = 'confirmed') = (booking_id IS NOT NULL))
);
CREATE INDEX holds_active_by_expiry ON holds (expires_at) WHERE status = 'active';
CREATE INDEX holds_by_event ON holds (event_id) WHERE status = 'active';

ALTER TABLE bookings ADD COLUMN hold_id uuid REFERENCES holds (id);

-- Transactional outbox: domain events are written in the transaction that
-- made the change and published to JetStream after commit by a relay, so a
-- process dying between commit and publish loses nothing.
CREATE TABLE outbox (
  seq        bigserial PRIMARY KEY,
  shard      integer NOT NULL,
  id         uuid NOT NULL UNIQUE,
  subject    text NOT NULL,
  payload    text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_by_shard ON outbox (shard, seq);

-- Effects applied by durable consumers, keyed by domain event id, written in
-- the transaction of the effect: a redelivered event changes nothing.
CREATE TABLE consumed_events (
  consumer    text NOT NULL,
  event_id    uuid NOT NULL,
  consumed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Down Migration
DROP TABLE consumed_events;
DROP TABLE outbox;
ALTER TABLE bookings DROP COLUMN hold_id;
DROP TABLE holds;
DROP TABLE waitlist_entries;
ALTER TABLE events
  DROP CONSTRAINT events_seats_in_range,
  DROP COLUMN set_aside,
  DROP COLUMN held,
  ADD CONSTRAINT events_available_in_range CHECK (available >= 0 AND available <= capacity);
