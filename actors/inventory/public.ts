// What of inventory the supervisor, tests and ops may use directly; the rest
// of inventory is reached only through its operations in protocol/. Clearing
// the booking locks of a dead thread and of old releases, the seat ledger the
// admin gauges and the invariant checks read, the event row's columns and
// mapping, and the booking write itself for the fixture that crashes mid-commit.
export { expireTimelessLocks, lockKey, lockOwner, releaseLocksOf } from './booking-lock.js';
export { readSeatDrift, readSeatLedger, type SeatLedger } from './ledger.js';
export { EVENT_COLUMNS, toEvent, type EventRow } from './rows.js';
export { bookBatch } from './book.js';
