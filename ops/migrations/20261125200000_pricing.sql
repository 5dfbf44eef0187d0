-- Up Migration

-- An event's pricing policy. No row means `fixed` at the event's own price.
-- The windows are copied from the settings when the policy is set, so a
-- policy's prices depend only on the policy and the domain stream.
CREATE TABLE event_pricing (
  event_id        uuid PRIMARY KEY REFERENCES events (id),
  strategy        text NOT NULL CHECK (strategy IN ('fixed', 'dynamic')),
  base_price      integer NOT NULL CHECK (base_price >= 0),
  -- Bounds and step only matter to `dynamic`; a `fixed` policy may leave them out.
  floor           integer CHECK (floor >= 0),
  ceiling         integer,
  max_step        integer CHECK (max_step > 0),
  interval_s      integer NOT NULL CHECK (interval_s > 0),
  short_window_s  integer NOT NULL CHECK (short_window_s > 0),
  long_window_s   integer NOT NULL CHECK (long_window_s > 0),
  -- The last interval boundary evaluated; the next is last_tick + interval_s.
  last_tick       timestamptz NOT NULL,
  last_reason     text NOT NULL DEFAULT '',
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT event_pricing_range CHECK (floor <= ceiling),
  CONSTRAINT event_pricing_dynamic_bounded
    CHECK (strategy = 'fixed' OR (floor IS NOT NULL AND ceiling IS NOT NULL AND max_step IS NOT NULL))
);
CREATE INDEX event_pricing_due ON event_pricing (last_tick) WHERE strategy = 'dynamic';

-- Demand, as the pricing actor read it from the domain stream: what the
-- event is (latest version wins), tickets sold by the second they were
-- sold in, and the waitlist with when each entry joined and stopped waiting.
-- Everything is keyed by the stream's own times, so the order in which
-- events arrive does not change what a boundary sees. No foreign keys here:
-- their check would take a share lock on the event row a flash sale is
-- holding, once per booking.
CREATE TABLE pricing_events (
  event_id     uuid PRIMARY KEY,
  capacity     integer NOT NULL,
  starts_at    timestamptz NOT NULL,
  -- When event.cancelled occurred: the sale is closed at every boundary after it.
  cancelled_at timestamptz,
  version      integer NOT NULL,
  -- Net tickets of seconds folded out of pricing_sales (up to folded_until).
  sold_before  integer NOT NULL DEFAULT 0,
  folded_until timestamptz NOT NULL DEFAULT '-infinity'
);

-- Net tickets (confirmed minus cancelled) per event and second; `second` is
-- occurredAt rounded up, so a boundary B counts exactly what occurred by B.
CREATE TABLE pricing_sales (
  event_id uuid NOT NULL,
  second   timestamptz NOT NULL,
  tickets  integer NOT NULL,
  PRIMARY KEY (event_id, second)
);

CREATE TABLE pricing_waitlist (
  entry_id  uuid PRIMARY KEY,
  event_id  uuid NOT NULL,
  quantity  integer NOT NULL,
  joined_at timestamptz NOT NULL,
  left_at   timestamptz
);
CREATE INDEX pricing_waitlist_by_event ON pricing_waitlist (event_id) WHERE left_at IS NULL;

-- Every price change, written with the change under the event row lock.
CREATE TABLE price_history (
  id         uuid PRIMARY KEY,
  event_id   uuid NOT NULL REFERENCES events (id),
  -- The interval boundary the change belongs to (or the time of an admin's change).
  at         timestamptz NOT NULL,
  price      integer NOT NULL,
  previous   integer NOT NULL,
  strategy   text NOT NULL,
  reason     text NOT NULL,
  version    integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX price_history_by_event ON price_history (event_id, id DESC);

-- Down Migration
DROP TABLE price_history;
DROP TABLE pricing_waitlist;
DROP TABLE pricing_sales;
DROP TABLE pricing_events;
DROP TABLE event_pricing;
