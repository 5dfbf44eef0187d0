-- Up Migration
CREATE TABLE users (
  id            uuid PRIMARY KEY,
  email         text NOT NULL,
  name          text NOT NULL,
  password_hash text NOT NULL,
  role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_unique ON users (lower(email));

CREATE TABLE events (
  id                   uuid PRIMARY KEY,
  name                 text NOT NULL,
  description          text NOT NULL DEFAULT '',
  venue                text NOT NULL,
  starts_at            timestamptz NOT NULL,
  ends_at              timestamptz,
  capacity             integer NOT NULL CHECK (capacity > 0),
  available            integer NOT NULL,
  price                integer NOT NULL CHECK (price >= 0),
  currency             char(3) NOT NULL,
  max_tickets_per_user integer NOT NULL DEFAULT 10 CHECK (max_tickets_per_user > 0),
  status               text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled', 'completed')),
  version              integer NOT NULL DEFAULT 1,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  -- The last guard against overselling: no commit can leave a negative count.
  CONSTRAINT events_available_in_range CHECK (available >= 0 AND available <= capacity),
  CONSTRAINT events_ends_after_start CHECK (ends_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX events_by_start ON events (starts_at, id);

CREATE TABLE bookings (
  id           uuid PRIMARY KEY,
  event_id     uuid NOT NULL REFERENCES events (id),
  user_id      uuid NOT NULL REFERENCES users (id),
  quantity     integer NOT NULL CHECK (quantity > 0),
  unit_price   integer NOT NULL CHECK (unit_price >= 0),
  total_price  integer NOT NULL CHECK (total_price >= 0),
  currency     char(3) NOT NULL,
  status       text NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  cancelled_at timestamptz,
  CONSTRAINT bookings_cancelled_has_time CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX bookings_by_user ON bookings (user_id, id DESC);
CREATE INDEX bookings_by_event ON bookings (event_id) WHERE status = 'confirmed';

-- Confirmed tickets per user per event, kept in the booking transaction so the
-- per-user limit is one indexed read, not a sum over bookings.
CREATE TABLE event_user_tickets (
  event_id  uuid NOT NULL REFERENCES events (id),
  user_id   uuid NOT NULL REFERENCES users (id),
  confirmed integer NOT NULL CHECK (confirmed >= 0),
  PRIMARY KEY (event_id, user_id)
);

-- A retried request with the same key returns the stored outcome; the row is
-- inserted first in the transaction so a concurrent duplicate waits for it.
CREATE TABLE idempotency_keys (
  user_id      uuid NOT NULL,
  key          text NOT NULL,
  request_hash text NOT NULL,
  outcome      jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);

-- Down Migration
DROP TABLE idempotency_keys;
DROP TABLE event_user_tickets;
DROP TABLE bookings;
DROP TABLE events;
DROP TABLE users;
