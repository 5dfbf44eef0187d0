// What of the mailer tests may use directly: how a mail writes a time, which
// the ticket pages' tests compare with. The rest is reached through protocol/.
export { formatWhen } from './mail-data.js';
