// An offline scanner's upload may hold scans of several events: each event's
// scans go to its own check-in shard (in parallel), and the answers come back
// in the order of the upload. A code that is not even shaped like a ticket
// is answered INVALID_TICKET here.
import {
  checkin,
  ok,
  peekTicketCode,
  type BatchResults,
  type CallContext,
  type Outcome,
  type ScanResult,
  type UploadedScan,
} from '../../protocol/index.js';
import type { Broker } from '../../platform/broker.js';

export async function uploadScans(
  broker: Broker,
  scans: readonly UploadedScan[],
  ctx: CallContext,
): Promise<Outcome<BatchResults>> {
  const results: ScanResult[] = new Array(scans.length);
  const byEvent = new Map<string, { scan: UploadedScan; at: number }[]>();
  scans.forEach((scan, at) => {
    const eventId = peekTicketCode(scan.code)?.eventId;
    if (!eventId)
      results[at] = { nonce: scan.nonce, result: 'INVALID_TICKET', ticketId: null, checkedInAt: null, gate: null };
    else byEvent.set(eventId, [...(byEvent.get(eventId) ?? []), { scan, at }]);
  });
  const answers = await Promise.all(
    [...byEvent].map(async ([eventId, group]) => ({
      group,
      outcome: await broker.call(checkin.batch, { eventId, scans: group.map((g) => g.scan) }, ctx),
    })),
  );
  for (const { group, outcome } of answers) {
    if (!outcome.ok) return outcome;
    group.forEach((g, i) => {
      const answer = outcome.value.results[i];
      if (answer) results[g.at] = answer;
    });
  }
  return ok({ results });
}
