-- V004: the signed anchor of the audit trail's tail (SQL Server 2022). One row, replaced in the same transaction as
-- every append (under the append applock) when an audit key is set (RESPOND_AUDIT_KEY_FILE / RESPOND_AUDIT_KEY): the
-- last sequence, its hash, the key's fingerprint and an HMAC-SHA256 of sequence and hash under the key. Cutting rows off
-- the end of audit_log leaves an anchor that names a row no longer there; writing a new anchor needs the key.

CREATE TABLE dbo.audit_anchor (
    id        tinyint      NOT NULL CONSTRAINT pk_audit_anchor PRIMARY KEY CONSTRAINT ck_audit_anchor_one_row CHECK (id = 1),
    sequence  bigint       NOT NULL,
    hash      char(64)     NOT NULL,
    key_id    varchar(32)  NOT NULL,
    mac       char(64)     NOT NULL,
    signed_at datetime2(7) NOT NULL
);
GO

GRANT INSERT, SELECT, UPDATE ON dbo.audit_anchor TO respond_writer;
DENY DELETE, ALTER ON dbo.audit_anchor TO respond_writer;
GO
