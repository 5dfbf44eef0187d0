// The NATS client writes to its socket once per microtask checkpoint, so two
// requests handled in two I/O callbacks cost two syscalls (and two wake-ups
// of nats-server), even when they became ready in the same poll. Sending on
// the next turn of the event loop instead lets every message that became
// ready in one poll go out in one write. The wait is one loop turn, not a
// timer: an idle process sends at once.
let waiting: (() => void)[] = [];

function release(): void {
  const ready = waiting;
  waiting = [];
  for (const resolve of ready) resolve();
}

export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    if (waiting.push(resolve) === 1) setImmediate(release);
  });
}
