// The latest availability of each event someone on this edge watches, so a
// new subscriber gets it at once and an older version is never sent after a
// newer one. A first subscriber loads it through the broker (one request per
// event however many subscribe at the same moment); domain events keep it
// current from then on.
import { inventory, ok, refuse, type Availability, type Outcome } from '../../protocol/index.js';
import type { Broker } from '../../platform/broker.js';
import { encode, type AvailabilityFrame } from './hub.js';

export type Snapshot = Omit<Availability, 'capacity'> & { version: number };

/** The availability message of a snapshot, encoded once for every socket it goes to. */
export function availabilityFrame(eventId: string, s: Snapshot, watchers: number): AvailabilityFrame {
  const frame = encode({
    type: 'availability',
    eventId,
    available: s.available,
    held: s.held,
    price: s.price,
    status: s.status,
    version: s.version,
    watchers,
  });
  return { seen: { version: s.version, watchers }, frame };
}

export class Snapshots {
  private readonly latest = new Map<string, Snapshot>();
  private readonly loading = new Map<string, Promise<Outcome<Snapshot>>>();

  constructor(
    private readonly broker: Broker,
    private readonly isWatched: (eventId: string) => boolean,
  ) {}

  get(eventId: string): Snapshot | undefined {
    return this.latest.get(eventId);
  }

  /** Keeps the snapshot if the event is watched here and it is newer than the one held; says whether it did. */
  offer(eventId: string, s: Snapshot): boolean {
    if (!this.isWatched(eventId)) return false;
    const held = this.latest.get(eventId);
    if (held && held.version >= s.version) return false;
    this.latest.set(eventId, s);
    return true;
  }

  forget(eventId: string): void {
    this.latest.delete(eventId);
  }

  /** The current snapshot, loading it if none is held. */
  async current(eventId: string, requestId: string): Promise<Outcome<Snapshot>> {
    const held = this.latest.get(eventId);
    if (held) return ok(held);
    let pending = this.loading.get(eventId);
    if (!pending) {
      pending = this.load(eventId, requestId).finally(() => this.loading.delete(eventId));
      this.loading.set(eventId, pending);
    }
    const loaded = await pending;
    if (!loaded.ok) return loaded;
    // A domain event may have brought a newer version while the request was out.
    const now = this.latest.get(eventId) ?? loaded.value;
    return ok(now);
  }

  private async load(eventId: string, requestId: string): Promise<Outcome<Snapshot>> {
    const reply = await this.broker.call(inventory.getEvent, { eventId }, { requestId });
    if (!reply.ok) return reply.code === 'NOT_FOUND' ? refuse('NOT_FOUND', `no event ${eventId}`) : reply;
    const e = reply.value;
    const s: Snapshot = { available: e.available, held: e.held, price: e.price, status: e.status, version: e.version };
    this.offer(eventId, s);
    return ok(s);
  }
}
