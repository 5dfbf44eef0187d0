import { Type, type Static } from 'typebox';
import { Currency, Money, Page, PageQuery, Timestamp, Uuid } from './common.js';

export const Booking = Type.Object({
  id: Uuid,
  eventId: Uuid,
  userId: Uuid,
  quantity: Type.Integer(),
  unitPrice: Money,
  totalPrice: Type.Integer({ minimum: 0 }),
  currency: Currency,
  status: Type.Union([Type.Literal('confirmed'), Type.Literal('cancelled')]),
  createdAt: Timestamp,
  cancelledAt: Type.Union([Timestamp, Type.Null()]),
});
export type Booking = Static<typeof Booking>;

/** Body of POST /v1/events/:id/bookings; the event's own limit is checked by its actor. */
export const BookingBody = Type.Object(
  {
    quantity: Type.Integer({ minimum: 1, maximum: 10_000 }),
  },
  { additionalProperties: false },
);

export const Book = Type.Object(
  { eventId: Uuid, quantity: BookingBody.properties.quantity },
  { additionalProperties: false },
);
export type Book = Static<typeof Book>;

export const BookingRef = Type.Object({ bookingId: Uuid }, { additionalProperties: false });
export type BookingRef = Static<typeof BookingRef>;

export const ListBookings = Type.Object({ ...PageQuery }, { additionalProperties: false });
export type ListBookings = Static<typeof ListBookings>;

export const BookingPage = Page(Booking);
export type BookingPage = Static<typeof BookingPage>;
