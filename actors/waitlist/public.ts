// What of the waitlist the supervisor and tests may use directly: which events
// have holds past their expiry (the hold sweep then asks the waitlist, through
// its operation, to expire them) and the name of its domain-event consumer.
export { eventsWithExpiredHolds } from './expiry.js';
export { CONSUMER } from './reactions.js';
