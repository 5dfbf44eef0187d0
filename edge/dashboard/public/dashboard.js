// The dashboard page: takes the admin token (from `#token=` in the URL
// fragment, which never reaches a server log, else from localStorage, else
// asks), reads the analytics summary, follows the WebSocket's dashboard
// feed, and redraws. Frames move the figures at once; the summary (the
// derived figures: velocity, predictions, rates) is re-read at most once a
// second while frames arrive, once more when they stop, and every 15 s.
import { checkins, renderCheckins } from './checkin.js';
import { connectLive } from './live.js';
import { drawRate, RateSeries } from './rate-chart.js';
import { renderAlerts, renderEvents, renderPredictions, renderTotals } from './render.js';
import { DashboardState } from './state.js';
import { followWaitingRooms } from './waiting-rooms.js';

const SUMMARY = '/v1/admin/analytics/summary';
const TOKEN_KEY = 'evently.dashboard.token';
const REFRESH_MIN_GAP_MS = 1000;
const SETTLE_MS = 3000;
const PERIODIC_MS = 15_000;

const $ = (id) => document.getElementById(id);
const state = new DashboardState();
const rate = new RateSeries();
let live;
let timers = [];
let settle;
let stopRooms;

function setStatus(state, text) {
  const el = $('status');
  el.dataset.state = state;
  el.textContent = text;
}

function takeToken() {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromFragment) {
    localStorage.setItem(TOKEN_KEY, fromFragment);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return localStorage.getItem(TOKEN_KEY);
}

function askForToken(reason) {
  stop();
  localStorage.removeItem(TOKEN_KEY);
  $('board').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-reason').textContent = reason;
  setStatus('signed-out', 'signed out');
}

function redraw() {
  const view = state.view();
  if (!view) return;
  renderTotals(view.totals);
  renderEvents(view.events);
  renderPredictions(view.events);
  renderAlerts(view.alerts, view.names);
  renderCheckins(view.events);
  for (const e of view.events) live?.followCheckin(e.eventId);
  $('generated').textContent = `Analytics as of ${new Date(view.generatedAt).toLocaleTimeString()}`;
}

function showProblem(text) {
  $('problem').hidden = !text;
  $('problem').textContent = text ?? '';
}

async function fetchSummary(token) {
  let res;
  try {
    res = await fetch(SUMMARY, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  } catch {
    return showProblem('The analytics API cannot be reached; retrying.');
  }
  if (res.status === 401 || res.status === 403)
    return askForToken(
      res.status === 401 ? 'That token is not valid or has expired.' : "That token is not an admin's.",
    );
  if (!res.ok) {
    const problem = await res.json().catch(() => ({}));
    return showProblem(`Analytics summary: ${res.status} ${problem.code ?? ''} ${problem.detail ?? ''}`.trim());
  }
  showProblem(undefined);
  state.setSummary(await res.json());
  redraw();
}

/** At most one summary read a second, the last request never dropped. */
function refresher(token) {
  let last = 0;
  let pending;
  return () => {
    if (pending) return;
    pending = setTimeout(
      () => {
        pending = undefined;
        last = Date.now();
        void fetchSummary(token);
      },
      Math.max(0, last + REFRESH_MIN_GAP_MS - Date.now()),
    );
  };
}

function start(token) {
  $('sign-in').hidden = true;
  $('board').hidden = false;
  $('sign-out').hidden = false;
  setStatus('connecting', 'connecting');
  const refresh = refresher(token);
  live = connectLive(token, {
    onActivity(frame) {
      if (!state.apply(frame)) return;
      if (frame.kind === 'booking.confirmed') rate.add();
      redraw();
      drawChart();
      refresh();
      clearTimeout(settle);
      settle = setTimeout(refresh, SETTLE_MS);
    },
    onCheckin(frame) {
      checkins.set(frame.eventId, frame);
      redraw();
    },
    // (Re)connected: whatever happened while away is in the summary.
    onLive() {
      setStatus('live', 'live');
      refresh();
    },
    onDown(reason) {
      setStatus('down', reason);
    },
    onRefused(error) {
      askForToken(
        error.code === 'FORBIDDEN' ? "That token is not an admin's." : 'That token is not valid or has expired.',
      );
    },
  });
  timers = [
    setInterval(refresh, PERIODIC_MS),
    // The chart moves on with the clock, bookings or not.
    setInterval(drawChart, 1000),
  ];
  drawChart();
  void fetchSummary(token);
  stopRooms = followWaitingRooms(token, $('rooms-section'), $('rooms'));
}

function drawChart() {
  const { total, peak } = drawRate($('rate-chart'), rate);
  $('rate-summary').textContent = `(${total} in the last minute, peak ${peak}/s)`;
}

function stop() {
  live?.close();
  live = undefined;
  timers.forEach(clearInterval);
  timers = [];
  clearTimeout(settle);
  stopRooms?.();
  stopRooms = undefined;
}

$('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  if (!token) return;
  localStorage.setItem(TOKEN_KEY, token);
  $('token').value = '';
  start(token);
});
$('sign-out').addEventListener('click', () => askForToken('Signed out.'));

const token = takeToken();
if (token) start(token);
else askForToken('Paste an admin token to open the dashboard, or open /dashboard#token=<token>.');
