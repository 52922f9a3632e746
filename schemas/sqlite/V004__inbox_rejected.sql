-- V004: the quarantine of `respond serve` (SQLite): records an input could not use, kept with their reason instead of
-- being dropped. fingerprint (SHA-256 of origin, key and payload) is unique, so a record met again (a re-read file, a
-- re-fetched page) is kept, logged and counted once. Resubmitting writes resubmitted_at in the transaction that adds
-- the finding to the inbox; the record and its reason never change and are never removed.

CREATE TABLE inbox_rejected (
    id             INTEGER NOT NULL PRIMARY KEY,
    fingerprint    TEXT    NOT NULL,
    origin         TEXT    NOT NULL,
    record_key     TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    rejected_at    TEXT    NOT NULL,
    resubmitted_at TEXT,
    CONSTRAINT uq_inbox_rejected_fingerprint UNIQUE (fingerprint)
) STRICT;

CREATE TRIGGER inbox_rejected_is_immutable BEFORE UPDATE OF id, fingerprint, origin, record_key, payload, reason, rejected_at ON inbox_rejected
BEGIN
    SELECT RAISE(ABORT, 'inbox_rejected: a quarantined record is never changed');
END;

CREATE TRIGGER inbox_rejected_no_delete BEFORE DELETE ON inbox_rejected
BEGIN
    SELECT RAISE(ABORT, 'inbox_rejected: a quarantined record is never removed');
END;
