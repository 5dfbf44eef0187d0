-- Up Migration

-- Outgoing webhooks (Standard Webhooks). An endpoint is a URL an admin
-- registered with the domain event types it wants ('*' = every public type)
-- and its signing secret. During a rotation's grace period the previous
-- secret signs too, so receivers can switch keys without dropping a delivery.
-- A 410 answer, or a delivery that fails past the retry schedule, disables it
-- (disabled_reason says why); an admin enables it again with PATCH.
CREATE TABLE webhook_endpoints (
  id                   uuid PRIMARY KEY,
  url                  text NOT NULL,
  events               text[] NOT NULL CHECK (cardinality(events) > 0),
  description          text,
  secret               text NOT NULL,
  previous_secret      text,
  previous_expires_at  timestamptz,
  enabled              boolean NOT NULL DEFAULT true,
  disabled_reason      text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);

-- One row per (endpoint, domain event), planned in the webhook consumer's
-- transaction; the unique key makes planning the same event twice a no-op.
-- Its id is the webhook-id header, the same on every attempt. Order: the
-- deliveries of one event to one endpoint go out in (version, seq) order,
-- one at a time: a row is not sent while an earlier one of its
-- (endpoint, event) chain is still pending or failed. A sender leases the
-- head of a chain (and what follows it) with lease_until, so a sender that
-- dies leaves the chain to another once the lease runs out.
CREATE TABLE webhook_deliveries (
  id               uuid PRIMARY KEY,
  seq              bigserial NOT NULL,
  endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  domain_event_id  uuid NOT NULL,
  event_type       text NOT NULL,
  event_id         uuid NOT NULL,
  version          integer NOT NULL,
  payload          jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  lease_until      timestamptz,
  first_attempt_at timestamptz,
  last_status_code integer,
  last_error       text,
  last_response    text,
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (endpoint_id, domain_event_id)
);
-- What the senders scan: only rows still owed, in chain order.
CREATE INDEX webhook_deliveries_open ON webhook_deliveries (endpoint_id, event_id, version, seq) WHERE status IN ('pending', 'failed');
-- The delivery log, newest first (ids are UUIDv7, time-ordered; the id is its cursor).
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, id DESC);

-- Down Migration
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
