-- V001: the audit trail (SQLite). Applied once by SqliteAuditStore.InitializeAsync and recorded in schema_migrations.
-- Append-only: intent and outcome are separate rows, and the triggers at the end abort any UPDATE or DELETE.
-- recorded_at is UTC text in a fixed-width ISO-8601 form (yyyy-MM-ddTHH:mm:ss.fffffffZ): it sorts by time and
-- round-trips to the exact tick, so the hash chain verifies.

CREATE TABLE audit_log (
    sequence        INTEGER NOT NULL PRIMARY KEY,
    recorded_at     TEXT    NOT NULL,
    run_id          TEXT    NOT NULL,
    host            TEXT    NOT NULL,
    engine_version  TEXT    NOT NULL,
    actor           TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    dry_run         INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
    idempotency_key TEXT,
    intent_sequence INTEGER,
    rule_id         TEXT,
    rule_file       TEXT,
    rule_hash       TEXT,
    rules_commit    TEXT,
    finding_id      TEXT,
    finding_source  TEXT,
    provider        TEXT,
    identity_id     TEXT,
    identity_name   TEXT,
    action          TEXT,
    parameters      TEXT,
    destructive     INTEGER NOT NULL CHECK (destructive IN (0, 1)),
    verdict         TEXT,
    guard           TEXT,
    reason          TEXT,
    error           TEXT,
    prior_state     TEXT,
    facts           TEXT,
    previous_hash   TEXT    NOT NULL CHECK (length(previous_hash) = 64),
    hash            TEXT    NOT NULL CHECK (length(hash) = 64)
) STRICT;

-- What the guards and `respond audit` filter on: rate-limit windows (status, rule, action, provider by time),
-- dedupe (idempotency key), pending remediation and crash recovery (intent_sequence), per-identity history.
CREATE INDEX ix_audit_log_recorded_at ON audit_log (recorded_at);
CREATE INDEX ix_audit_log_status_recorded_at ON audit_log (status, recorded_at);
CREATE INDEX ix_audit_log_rule_id_recorded_at ON audit_log (rule_id, recorded_at);
CREATE INDEX ix_audit_log_action_recorded_at ON audit_log (action, recorded_at);
CREATE INDEX ix_audit_log_provider_recorded_at ON audit_log (provider, recorded_at);
CREATE INDEX ix_audit_log_identity_id ON audit_log (identity_id);
CREATE INDEX ix_audit_log_idempotency_key ON audit_log (idempotency_key);
CREATE INDEX ix_audit_log_intent_sequence ON audit_log (intent_sequence);
CREATE INDEX ix_audit_log_run_id ON audit_log (run_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE is refused');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE is refused');
END;
