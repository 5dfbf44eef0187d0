// The webhook threads' series, on prom-client's default registry of each
// thread (the supervisor sums them per pool when Prometheus scrapes).
import { Counter, Histogram } from 'prom-client';

/** outcome: delivered, retry (another attempt is due later), dead (past the schedule), refused (SSRF guard). */
export const webhookAttempts = new Counter({
  name: 'evently_webhook_attempts_total',
  help: 'Webhook delivery attempts, by outcome (delivered, retry, dead, refused)',
  labelNames: ['outcome'] as const,
});

export const webhookAttemptSeconds = new Histogram({
  name: 'evently_webhook_attempt_duration_seconds',
  help: 'Time from sending a webhook delivery to its answer (or failure)',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

/** reason: gone (the receiver answered 410) or failing (a delivery died past the retry schedule). */
export const webhookEndpointsDisabled = new Counter({
  name: 'evently_webhook_endpoints_disabled_total',
  help: 'Webhook endpoints Evently disabled, by reason (gone, failing)',
  labelNames: ['reason'] as const,
});

export const webhookPlanned = new Counter({
  name: 'evently_webhook_planned_total',
  help: 'Webhook deliveries planned from domain events',
});
