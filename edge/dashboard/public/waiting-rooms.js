// The waiting-rooms panel: every room with its line, admissions and pace,
// re-read every 2 s from GET /v1/admin/waiting-rooms (the same admin token as
// the rest of the page). Text only (textContent), as everywhere on the page.
const ROOMS = '/v1/admin/waiting-rooms';
const EVERY_MS = 2000;

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text;
  row.append(td);
}

function render(body, items) {
  body.replaceChildren(
    ...items.map((r) => {
      const row = document.createElement('tr');
      cell(row, r.eventId.slice(-12));
      cell(row, new Date(r.opensAt).toLocaleTimeString());
      cell(row, String(r.waiting));
      cell(row, String(r.admitted));
      cell(row, String(r.expired));
      cell(row, `${r.measuredAdmitPerMinute}/min`);
      cell(row, r.admitPerMinute === null ? 'adaptive' : `fixed ${r.admitPerMinute}/min`);
      cell(row, r.shuffle ? `${r.shuffle.count} drawn, seed ${r.shuffle.seed.slice(0, 8)}…` : 'not yet');
      return row;
    }),
  );
}

/** Starts polling; returns a function that stops it. */
export function followWaitingRooms(token, section, body) {
  let stopped = false;
  const read = async () => {
    try {
      const res = await fetch(ROOMS, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
      if (!res.ok) return;
      const { items } = await res.json();
      section.hidden = items.length === 0;
      render(body, items);
    } catch {
      // The next read tries again; the analytics panels report a lost API.
    }
  };
  void read();
  const timer = setInterval(() => {
    if (!stopped) void read();
  }, EVERY_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
