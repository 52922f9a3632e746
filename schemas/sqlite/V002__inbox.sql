-- V002: the durable inbox of `respond serve` and the cursors of its pollers (SQLite). Applied once by
-- SqliteAuditStore.InitializeAsync and recorded in schema_migrations.
-- A finding is committed here before the webhook answers 202 or a poller moves its cursor; (source, finding_id) is
-- unique, so a duplicate is accepted once. The inbox is a work queue beside the audit trail, not part of it: leasing
-- writes lease_owner, lease_until and attempts, and completion writes completed_at and outcome. What was received never
-- changes and is never removed: the triggers at the end abort a change of the record or its identity, and any DELETE.
-- Times are UTC text in the audit trail's fixed-width form (yyyy-MM-ddTHH:mm:ss.fffffffZ), so text order is time order.

CREATE TABLE inbox (
    sequence     INTEGER NOT NULL PRIMARY KEY,
    source       TEXT    NOT NULL,
    finding_id   TEXT    NOT NULL,
    origin       TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    received_at  TEXT    NOT NULL,
    lease_owner  TEXT,
    lease_until  TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    completed_at TEXT,
    outcome      TEXT,
    CONSTRAINT uq_inbox_source_finding UNIQUE (source, finding_id)
) STRICT;

-- The processor's lease query (open items in arrival order) and `respond plan --findings audit:30d`.
CREATE INDEX ix_inbox_open ON inbox (completed_at, sequence);
CREATE INDEX ix_inbox_received_at ON inbox (received_at);

CREATE TABLE poller_cursor (
    name       TEXT NOT NULL PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TRIGGER inbox_record_is_immutable BEFORE UPDATE OF sequence, source, finding_id, origin, payload, received_at ON inbox
BEGIN
    SELECT RAISE(ABORT, 'inbox: a received finding is never changed');
END;

CREATE TRIGGER inbox_no_delete BEFORE DELETE ON inbox
BEGIN
    SELECT RAISE(ABORT, 'inbox: a received finding is never removed');
END;
