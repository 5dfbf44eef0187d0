// The live bookings-per-second chart: confirmed bookings counted by the
// second they reached the page, the last minute drawn as SVG bars. Hand-
// rolled: sixty rectangles need no chart library.

const SECONDS = 60;
const SVG = 'http://www.w3.org/2000/svg';

export class RateSeries {
  constructor(seconds = SECONDS) {
    this.seconds = seconds;
    /** second (ms since the epoch / 1000, floored) → bookings */
    this.counts = new Map();
  }

  add(nowMs = Date.now()) {
    const second = Math.floor(nowMs / 1000);
    this.counts.set(second, (this.counts.get(second) ?? 0) + 1);
    for (const s of this.counts.keys()) if (s <= second - this.seconds) this.counts.delete(s);
  }

  /** The last `seconds` counts, oldest first, ending with the current second. */
  window(nowMs = Date.now()) {
    const now = Math.floor(nowMs / 1000);
    return Array.from({ length: this.seconds }, (_, i) => this.counts.get(now - this.seconds + 1 + i) ?? 0);
  }
}

function element(name, attributes) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, String(v));
  return el;
}

/** Redraws the chart (the bars scale to the minute's peak); its data attributes say what it shows (for people using tools, and for the browser test). */
export function drawRate(svg, series, nowMs = Date.now()) {
  const counts = series.window(nowMs);
  const [width, height] = [600, 120];
  const peak = Math.max(...counts);
  const scale = Math.max(1, peak);
  const slot = width / counts.length;
  const children = [];
  counts.forEach((n, i) => {
    if (n === 0) return;
    const h = Math.max(2, (n / scale) * (height - 4));
    const bar = element('rect', {
      x: (i * slot + 1).toFixed(1),
      y: (height - h).toFixed(1),
      width: (slot - 2).toFixed(1),
      height: h.toFixed(1),
      class: 'rate-bar',
    });
    const title = element('title', {});
    title.textContent = `${n} booking${n === 1 ? '' : 's'}, ${counts.length - 1 - i} s ago`;
    bar.append(title);
    children.push(bar);
  });
  svg.replaceChildren(...children);
  const total = counts.reduce((a, b) => a + b, 0);
  svg.dataset.lastMinute = String(total);
  svg.dataset.current = String(counts[counts.length - 1]);
  return { total, peak };
}
