// The door, live: for each top event, `checked in / sold` and the count per
// gate, from the `checkin` frames the WebSocket pushes as gates scan.

const integer = new Intl.NumberFormat('en-GB');

/** eventId → the latest figure */
export const checkins = new Map();

/** @param {{ eventId: string, name: string }[]} events the top events, in their order */
export function renderCheckins(events) {
  const rows = events.map((e) => {
    const figure = checkins.get(e.eventId);
    const tr = document.createElement('tr');
    tr.dataset.eventId = e.eventId;
    const name = document.createElement('td');
    name.textContent = e.name;
    const count = document.createElement('td');
    count.className = 'checked-in';
    count.textContent = figure ? `${integer.format(figure.checkedIn)} / ${integer.format(figure.sold)}` : '–';
    const gates = document.createElement('td');
    gates.className = 'gates';
    gates.textContent = figure
      ? Object.entries(figure.gates)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([gate, n]) => `${gate}: ${integer.format(n)}`)
          .join(' · ') || 'no scans yet'
      : '';
    tr.append(name, count, gates);
    return tr;
  });
  document.getElementById('checkins').replaceChildren(...rows);
}
