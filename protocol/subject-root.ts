// The first token of every Evently subject, operations and domain events
// alike. Its own module so that domain-events.ts need not import operations.ts,
// which imports the schemas that name domain-event types.
export const SUBJECT_ROOT = 'evently';
