// The audit log: one record per state-changing request, whatever its outcome.
// Edges publish records in batches on a JetStream work-queue stream after
// the response has gone; the audit actor inserts each batch in one statement
// into an append-only table, deduplicated by record id, and admins read it
// through `audit.list`. Record schemas: ./schemas/audit.ts.
import { SUBJECT_ROOT } from './operations.js';

export const AUDIT_STREAM = 'EVENTLY_AUDIT';
/** Where edges publish record batches (not an actor subject: nobody replies). */
export const AUDIT_RECORDS_SUBJECT = `${SUBJECT_ROOT}.auditlog.records`;
/** The audit actor's durable pull consumer. */
export const AUDIT_CONSUMER = 'audit-writer';
