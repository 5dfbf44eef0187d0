// How the benchmark reports the seat ledger (actors/inventory/ledger.ts) after a sale.
import type { SeatLedger } from '../../actors/inventory/ledger.js';

export function describeOversell(c: SeatLedger): string {
  return (
    `capacity ${c.capacity}, available ${c.available}, sold (capacity − available) ${c.sold}, ` +
    `confirmed quantity ${c.confirmed} in ${c.confirmedBookings} bookings, per-user counters ${c.perUserTotal} → ${c.ok ? 'OK' : 'MISMATCH'}`
  );
}
