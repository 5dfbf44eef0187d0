// Figures into the page. Everything is built with DOM calls and
// textContent (never innerHTML), so an event name is text, whatever it holds,
// and the content policy needs no inline style: widths are set through CSSOM.

const $ = (id) => document.getElementById(id);
const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });
const money = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const time = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Minor units to a plain amount (the summary carries no currency). */
const amount = (minor) => money.format(minor / 100);

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function setFigure(id, text, value) {
  const el = $(id);
  el.textContent = text;
  el.dataset.value = String(value);
}

export function renderTotals(t) {
  setFigure('total-tickets', integer.format(t.tickets), t.tickets);
  setFigure('total-bookings', integer.format(t.bookings), t.bookings);
  setFigure('total-revenue', amount(t.revenue), t.revenue);
  setFigure(
    'total-cancellations',
    `${integer.format(t.cancellations)} (${percent.format(t.cancellationRate)})`,
    t.cancellations,
  );
  setFigure('total-utilization', percent.format(t.utilization), t.utilization);
  setFigure('total-velocity', `${decimal.format(t.velocity)}/min`, t.velocity);
  setFigure('total-events', integer.format(t.events), t.events);
}

function utilizationCell(e) {
  const td = document.createElement('td');
  const track = document.createElement('div');
  track.className = 'bar';
  track.setAttribute('role', 'meter');
  track.setAttribute('aria-valuemin', '0');
  track.setAttribute('aria-valuemax', String(e.capacity));
  track.setAttribute('aria-valuenow', String(e.tickets));
  track.setAttribute('aria-label', `${e.name}: ${e.tickets} of ${e.capacity} seats sold`);
  track.dataset.utilization = String(e.utilization);
  const fill = document.createElement('div');
  fill.className = e.soldOut ? 'fill sold-out' : 'fill';
  fill.style.width = `${(e.utilization * 100).toFixed(2)}%`;
  const label = document.createElement('span');
  label.textContent = e.soldOut ? 'sold out' : percent.format(e.utilization);
  track.append(fill, label);
  td.append(track);
  return td;
}

export function renderEvents(events) {
  const rows = events.map((e) => {
    const tr = document.createElement('tr');
    tr.dataset.eventId = e.eventId;
    tr.dataset.tickets = String(e.tickets);
    const name = cell(e.name, 'name');
    const when = document.createElement('small');
    when.textContent = `${time.format(new Date(e.startsAt))} · ${e.status}`;
    name.append(document.createElement('br'), when);
    tr.append(
      name,
      utilizationCell(e),
      cell(`${integer.format(e.tickets)} / ${integer.format(e.capacity)}`, 'tickets'),
      cell(amount(e.revenue)),
      cell(`${decimal.format(e.velocity)}/min`),
      cell(percent.format(e.cancellationRate)),
      cell(integer.format(e.waitlistLength)),
    );
    return tr;
  });
  if (rows.length === 0) {
    const empty = document.createElement('tr');
    empty.className = 'empty';
    empty.append(Object.assign(cell('No events yet.'), { colSpan: 7 }));
    rows.push(empty);
  }
  $('events').replaceChildren(...rows);
}

function relative(ms) {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'any moment';
  if (minutes < 120) return `in ${minutes} min`;
  return `in ${decimal.format(minutes / 60)} h`;
}

export function renderPredictions(events, nowMs = Date.now()) {
  const soldOut = events.filter((e) => e.soldOut).map((e) => ({ e, text: 'sold out' }));
  const coming = events
    .filter((e) => !e.soldOut && e.sellOutAt)
    .sort((a, b) => Date.parse(a.sellOutAt) - Date.parse(b.sellOutAt))
    .map((e) => ({
      e,
      text: `sells out ${relative(Date.parse(e.sellOutAt) - nowMs)} (${time.format(new Date(e.sellOutAt))})`,
    }));
  const items = [...coming, ...soldOut].map(({ e, text }) => {
    const li = document.createElement('li');
    li.dataset.eventId = e.eventId;
    const name = document.createElement('strong');
    name.textContent = e.name;
    li.append(name, ` ${text}`);
    return li;
  });
  if (items.length === 0)
    items.push(
      Object.assign(document.createElement('li'), {
        textContent: 'No event is on course to sell out.',
        className: 'empty',
      }),
    );
  $('predictions').replaceChildren(...items);
}

const ALERT_TITLES = {
  'velocity-spike': 'Booking spike',
  'cancellation-burst': 'Cancellation burst',
  'stalled-sale': 'Stalled sale',
};

export function renderAlerts(alerts, names) {
  const items = alerts.map((a) => {
    const li = document.createElement('li');
    li.className = `alert ${a.kind}`;
    li.dataset.alertId = a.id;
    const title = document.createElement('strong');
    title.textContent = `${ALERT_TITLES[a.kind] ?? a.kind} · ${names.get(a.eventId) ?? a.eventId.slice(0, 8)}`;
    const detail = document.createElement('small');
    detail.textContent = `${a.detail} (observed ${decimal.format(a.observed)}, baseline ${decimal.format(a.baseline)}) · ${time.format(new Date(a.raisedAt))}`;
    li.append(title, document.createElement('br'), detail);
    return li;
  });
  if (items.length === 0)
    items.push(Object.assign(document.createElement('li'), { textContent: 'No alerts.', className: 'empty' }));
  $('alerts').replaceChildren(...items);
}
