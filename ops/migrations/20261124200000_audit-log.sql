-- Up Migration

-- One row per state-changing request (who, what, when, outcome, request and
-- trace id). Append-only: the triggers refuse UPDATE, DELETE and TRUNCATE to
-- everyone, so a compromised service account cannot rewrite history; only
-- the owner can lift them (ALTER TABLE ... DISABLE TRIGGER), for retention
-- under change control.
CREATE TABLE audit_log (
  id          uuid PRIMARY KEY,
  at          timestamptz NOT NULL,
  user_id     uuid,
  role        text,
  subject     text,
  ip          text NOT NULL,
  method      text NOT NULL,
  route       text NOT NULL,
  action      text NOT NULL,
  target_id   text,
  status      integer NOT NULL,
  code        text,
  request_id  text NOT NULL,
  trace_id    text NOT NULL,
  duration_ms real NOT NULL
);
-- Newest first, with the id breaking ties: the order of the admin list and its cursor.
CREATE INDEX audit_log_by_time ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_by_user ON audit_log (user_id, at DESC, id DESC) WHERE user_id IS NOT NULL;
CREATE INDEX audit_log_by_request ON audit_log (request_id);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- Down Migration
DROP TABLE audit_log;
DROP FUNCTION audit_log_refuse_change();
