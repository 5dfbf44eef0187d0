-- Up Migration
-- Tickets are derived from bookings (id = UUIDv5 of booking id and seq), so
-- nothing is written in the booking transaction; what lasts is the signing
-- keys, each scan that admitted a ticket, and the answers to nonced scans.

-- Door staff check tickets in.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('user', 'staff', 'admin'));

-- Ed25519 signing keys; the private key is AES-256-GCM encrypted (iv | tag | ciphertext)
-- with a key derived from EVENTLY_TICKET_SECRET. At most one key signs at a time.
CREATE TABLE ticket_keys (
  kid         text PRIMARY KEY,
  public_key  bytea NOT NULL,
  private_key bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  retired_at  timestamptz
);
CREATE UNIQUE INDEX ticket_keys_one_active ON ticket_keys ((true)) WHERE retired_at IS NULL;

-- The primary key makes "checked in exactly once" a database fact: two gates
-- inserting one ticket at once, one insert wins.
CREATE TABLE checkins (
  ticket_id   uuid PRIMARY KEY,
  event_id    uuid NOT NULL REFERENCES events (id),
  booking_id  uuid NOT NULL REFERENCES bookings (id),
  seq         integer NOT NULL,
  gate        text NOT NULL,
  scanned_at  timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  staff_id    uuid
);
CREATE INDEX checkins_by_event ON checkins (event_id, gate);
CREATE INDEX checkins_by_booking ON checkins (booking_id);

-- The first answer to a scan that carried a nonce, returned again on a replay.
CREATE TABLE checkin_nonces (
  nonce      text PRIMARY KEY,
  reply      jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX checkin_nonces_by_age ON checkin_nonces (created_at);

-- The revocation list: cancelled bookings of an event since a time.
CREATE INDEX bookings_cancelled_by_event ON bookings (event_id, cancelled_at) WHERE status = 'cancelled';

-- Down Migration
DROP INDEX bookings_cancelled_by_event;
DROP TABLE checkin_nonces;
DROP TABLE checkins;
DROP TABLE ticket_keys;
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('user', 'admin'));
