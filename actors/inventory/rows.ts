// Column lists and row → protocol mapping for the inventory tables.
import type { Booking, Event } from '../../protocol/index.js';

export const EVENT_COLUMNS = `id, name, description, venue, starts_at, ends_at, capacity, available, held, set_aside, price,
  currency, max_tickets_per_user, status, version, created_at, updated_at`;

export const BOOKING_COLUMNS = `id, event_id, user_id, quantity, unit_price, total_price, currency, status,
  created_at, cancelled_at`;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export interface EventRow {
  id: string; name: string; description: string; venue: string; starts_at: Date; ends_at: Date | null;
  capacity: number; available: number; held: number; set_aside: number; price: number; currency: string; max_tickets_per_user: number;
  status: Event['status']; version: number; created_at: Date; updated_at: Date;
}

export interface BookingRow {
  id: string; event_id: string; user_id: string; quantity: number; unit_price: number; total_price: number;
  currency: string; status: Booking['status']; created_at: Date; cancelled_at: Date | null;
}

export function toEvent(r: EventRow): Event {
  return {
    id: r.id, name: r.name, description: r.description, venue: r.venue,
    startsAt: r.starts_at.toISOString(), endsAt: iso(r.ends_at),
    capacity: r.capacity, available: r.available, held: r.held + r.set_aside, price: r.price, currency: r.currency,
    maxTicketsPerUser: r.max_tickets_per_user, status: r.status, version: r.version,
    createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
  };
}

export function toBooking(r: BookingRow): Booking {
  return {
    id: r.id, eventId: r.event_id, userId: r.user_id, quantity: r.quantity,
    unitPrice: r.unit_price, totalPrice: r.total_price, currency: r.currency, status: r.status,
    createdAt: r.created_at.toISOString(), cancelledAt: iso(r.cancelled_at),
  };
}
