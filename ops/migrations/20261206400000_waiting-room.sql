-- Up Migration

-- A waiting room per event (issue 15). Postgres holds what must survive a
-- restart of the actor or of Redis: the room's settings, its shuffle seed
-- (so an operator can replay the pre-queue draw), and every queue ticket
-- with its rank. Redis only mirrors the waiting ranks for fast positions
-- and is rebuilt from here when it comes back empty.
CREATE TABLE waitroom_rooms (
  event_id         uuid PRIMARY KEY REFERENCES events (id),
  opens_at         timestamptz NOT NULL,
  -- NULL = adapt to what the event's booking path completes.
  admit_per_minute integer CHECK (admit_per_minute > 0),
  admission_ttl_s  integer NOT NULL CHECK (admission_ttl_s > 0),
  -- Ranks handed out in join order; locking this row serialises a join batch with the shuffle.
  next_rank        bigint NOT NULL DEFAULT 1,
  shuffle_seed     text,
  shuffled_at      timestamptz,
  shuffled_count   integer,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- No foreign keys to users or events: checking them would take share locks
-- on the event row a flash sale is holding, once per join.
CREATE TABLE waitroom_tickets (
  id                   uuid PRIMARY KEY,
  event_id             uuid NOT NULL,
  user_id              uuid NOT NULL,
  state                text NOT NULL CHECK (state IN ('waiting', 'admitted', 'expired', 'left')),
  -- Joined before opensAt: the rank is redrawn by the shuffle (negative ranks, ahead of every later joiner).
  prequeue             boolean NOT NULL,
  rank                 bigint NOT NULL,
  joined_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
  admitted_at          timestamptz,
  admission_expires_at timestamptz,
  ended_at             timestamptz
);
CREATE UNIQUE INDEX waitroom_one_live_ticket ON waitroom_tickets (event_id, user_id) WHERE state IN ('waiting', 'admitted');
CREATE INDEX waitroom_queue ON waitroom_tickets (event_id, rank) WHERE state = 'waiting';
CREATE INDEX waitroom_admitted ON waitroom_tickets (event_id, admission_expires_at) WHERE state = 'admitted';

-- Down Migration
DROP TABLE waitroom_tickets;
DROP TABLE waitroom_rooms;
