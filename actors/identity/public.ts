// What of identity the supervisor may use directly: creating the first admin
// at start. The rest of identity is reached through its operations in protocol/.
export { ensureAdmin } from './accounts.js';
