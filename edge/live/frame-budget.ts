// Which moves of a waiting person's place are worth a `queue` frame. A room
// ticks twice a second and every tick moves everyone behind an admission, so
// sending every move gave each of 5,000 sockets ~2 frames a second: ~8,000
// frames a second from the edge that also serves the bookings (and as many
// parsed by the crowd on the same cores), for changes nobody can read. A frame
// is sent at once, for the change that caused it (so its `changedAt` stays
// honest), when the place moved enough to matter:
// - a place that moved back (only a redraw or a rebuild does that) at once;
// - near the front (within FRONT places) every move, at most one per tick;
// - farther back when it moved by STEP of the last place sent, at most one a second;
// - and whatever the step, a changed place after REFRESH_MS of silence, so the
//   estimate a person sees is never older than that while the line moves.
export const FRONT = 100;
export const STEP = 0.05;
export const MIN_GAP_MS = 1000;
export const REFRESH_MS = 10_000;

export interface Sent {
  /** The place in the last frame sent (null: none yet). */
  position: number | null;
  /** When it was sent (ms). */
  at: number;
}

export function frameDue(sent: Sent, position: number, now: number): boolean {
  if (sent.position === null) return true;
  if (position === sent.position) return false;
  if (position > sent.position || position <= FRONT) return true;
  const since = now - sent.at;
  if (since >= REFRESH_MS) return true;
  return since >= MIN_GAP_MS && Math.abs(sent.position - position) >= Math.ceil(sent.position * STEP);
}
