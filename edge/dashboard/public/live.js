// The dashboard's WebSocket: sign in with the admin token, ask for the
// dashboard feed, hand each `activity` frame on, and come back after a drop
// (with backoff). A refused token ends it: trying again would not help.

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

/**
 * @param {string} token admin JWT
 * @param {{ onActivity(frame): void, onCheckin(frame): void, onLive(): void, onDown(reason: string): void, onRefused(error): void }} on
 * @returns {{ close(): void, followCheckin(eventId: string): void }}
 */
export function connectLive(token, on) {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  let socket;
  let retryMs = RETRY_MIN_MS;
  let stopped = false;
  let timer;

  const send = (message) => socket.send(JSON.stringify(message));
  /** Events whose check-in figure the page shows: asked for again after every reconnect. */
  const followed = new Set();
  let live = false;

  function open() {
    socket = new WebSocket(url);
    socket.addEventListener('open', () => send({ type: 'auth', token }));
    socket.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === 'activity') return on.onActivity(message);
      if (message.type === 'checkin') return on.onCheckin(message);
      if (message.type === 'ack' && message.of === 'auth') return send({ type: 'subscribe-dashboard' });
      if (message.type === 'ack' && message.of === 'subscribe-dashboard') {
        retryMs = RETRY_MIN_MS;
        live = true;
        for (const eventId of followed) send({ type: 'subscribe-checkin', eventId });
        return on.onLive();
      }
      if (message.type === 'error') {
        if (message.code === 'UNAUTHENTICATED' || message.code === 'FORBIDDEN') {
          stopped = true;
          socket.close();
          return on.onRefused(message);
        }
        console.warn('dashboard socket:', message.code, message.detail);
      }
    });
    socket.addEventListener('close', () => {
      live = false;
      if (stopped) return;
      on.onDown(`connection lost; retrying in ${Math.round(retryMs / 1000)} s`);
      timer = setTimeout(open, retryMs);
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    });
  }

  open();
  return {
    followCheckin(eventId) {
      if (followed.has(eventId)) return;
      followed.add(eventId);
      if (live) send({ type: 'subscribe-checkin', eventId });
    },
    close() {
      stopped = true;
      clearTimeout(timer);
      socket.close();
    },
  };
}
