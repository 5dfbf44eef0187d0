-- Up Migration

-- Messages a JetStream consumer can never process (a payload that fails its
-- schema, or one that failed a bounded number of deliveries), one table for
-- every consumer. The consumer stores the message here and then terminates it,
-- so nothing waits behind it and nothing is lost: an operator lists these
-- (GET /dead-letters on the supervisor) and replays one after a fix, which
-- publishes the payload to its subject again.
CREATE TABLE dead_letters (
  id          bigserial PRIMARY KEY,
  consumer    text NOT NULL,
  stream      text NOT NULL,
  subject     text NOT NULL,
  stream_seq  bigint NOT NULL,
  reason      text NOT NULL,
  -- Raw bytes: a poison message need not be JSON, or even UTF-8.
  payload     bytea NOT NULL,
  -- NATS headers as name → values.
  headers     jsonb NOT NULL DEFAULT '{}'::jsonb,
  deliveries  integer NOT NULL DEFAULT 1,
  first_seen  timestamptz NOT NULL DEFAULT now(),
  last_seen   timestamptz NOT NULL DEFAULT now(),
  replayed_at timestamptz,
  -- The same message recorded twice (a crash between insert and term) is one row.
  UNIQUE (stream, consumer, stream_seq)
);

-- The operator's list: newest first, optionally of one consumer.
CREATE INDEX dead_letters_by_consumer ON dead_letters (consumer, id DESC);

-- Down Migration

DROP TABLE dead_letters;
