-- Up Migration

-- One row per mail the mailer owes someone. Rows are written in the same
-- transaction that marks the domain event consumed, so a mail is never lost
-- and never planned twice; dedupe_key (domain event id : recipient :
-- template) keeps one mail per person per event even if it is planned again.
-- A sender claims due rows, sends, and records the outcome: sent (with the
-- provider and its message id), retried later with backoff, or dead after the
-- last attempt (the dead-letter store operators read and retry). A recipient
-- without a usable address is kept as skipped, with the reason.
CREATE TABLE mail_deliveries (
  id              uuid PRIMARY KEY,
  dedupe_key      text NOT NULL UNIQUE,
  template        text NOT NULL,
  domain_event_id uuid NOT NULL,
  event_id        uuid,
  user_id         uuid,
  recipient       text,
  data            jsonb NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead', 'skipped')),
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  skip_reason     text,
  provider        text,
  message_id      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  CONSTRAINT mail_sent_has_provider CHECK ((status = 'sent') = (provider IS NOT NULL)),
  CONSTRAINT mail_skipped_has_reason CHECK ((status = 'skipped') = (skip_reason IS NOT NULL))
);
-- What the senders poll: only rows still owed.
CREATE INDEX mail_deliveries_due ON mail_deliveries (next_attempt_at) WHERE status = 'pending';
-- The dead-letter list, newest mail first (ids are UUIDv7, time-ordered; the id is its cursor).
CREATE INDEX mail_deliveries_dead ON mail_deliveries (id DESC) WHERE status = 'dead';

-- The last state of each event's mailed fields, so an event.updated (which
-- carries only the new state) can say what changed. Newer versions only.
CREATE TABLE mail_event_snapshots (
  event_id   uuid PRIMARY KEY,
  version    integer NOT NULL,
  name       text NOT NULL,
  venue      text NOT NULL,
  starts_at  timestamptz NOT NULL,
  ends_at    timestamptz
);

-- Down Migration
DROP TABLE mail_event_snapshots;
DROP TABLE mail_deliveries;
