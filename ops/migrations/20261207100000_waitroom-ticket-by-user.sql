-- Up Migration

-- A user's tickets of one room, newest first: what a poll (GET .../waiting-room/me)
-- reads. The only index by user was the partial one of live tickets, which a
-- lookup that must also find an expired or left ticket cannot use, so every
-- poll scanned the whole table: 2 ms of Postgres per poll at 20,000 tickets,
-- growing with every sale ever held, at hundreds of polls a second in a sale.
CREATE INDEX waitroom_by_user ON waitroom_tickets (event_id, user_id, joined_at DESC);

-- Down Migration
DROP INDEX waitroom_by_user;
