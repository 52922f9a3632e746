-- V003: the signed anchor of the audit trail's tail (SQLite). One row, replaced in the same transaction as every append
-- when an audit key is set (RESPOND_AUDIT_KEY_FILE / RESPOND_AUDIT_KEY): the last sequence, its hash, the key's
-- fingerprint and an HMAC-SHA256 of sequence and hash under the key. Cutting rows off the end of audit_log leaves an
-- anchor that names a row no longer there; writing a new anchor needs the key. See docs/audit.md.

CREATE TABLE audit_anchor (
    id        INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    sequence  INTEGER NOT NULL,
    hash      TEXT    NOT NULL CHECK (length(hash) = 64),
    key_id    TEXT    NOT NULL,
    mac       TEXT    NOT NULL CHECK (length(mac) = 64),
    signed_at TEXT    NOT NULL
) STRICT;
