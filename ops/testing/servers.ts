// What tests outside ops/ may use of the dev stack and the load tools: a test
// imports ops/testing only, so this is the whole of ops a test can lean on.
export { startStack, type Stack } from '../stack/index.js';
export { startMailSink, type MailSink } from '../stack/mail-sink.js';
export { bookingStream, emptyStreamResult } from '../load/booking-stream.js';
