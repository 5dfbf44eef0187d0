// A leading-edge throttle: the first request after a quiet spell runs at once
// (on the next timer turn), later ones within `ms` fold into one run at the
// end of the window. Presence uses it so a change is announced promptly, yet
// a crowd subscribing at once costs one report, not thousands.
export interface Throttled {
  request(): void;
  cancel(): void;
}

export function throttled(fn: () => void, ms: number): Throttled {
  let last = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    timer = undefined;
    last = Date.now();
    fn();
  };
  return {
    request() {
      if (timer) return;
      timer = setTimeout(run, Math.max(0, last + ms - Date.now()));
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
