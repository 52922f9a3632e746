-- V005: the quarantine of `respond serve` (SQL Server 2022): records an input could not use, kept with their reason
-- instead of being dropped. fingerprint (SHA-256 of origin, key and payload) is unique, so a record met again (a
-- re-read file, a re-fetched page) is kept, logged and counted once. Resubmitting writes resubmitted_at in the
-- transaction that adds the finding to the inbox; the record and its reason never change and are never removed.

CREATE TABLE dbo.inbox_rejected (
    id             bigint         IDENTITY(1, 1) NOT NULL CONSTRAINT pk_inbox_rejected PRIMARY KEY CLUSTERED,
    fingerprint    char(64)       NOT NULL CONSTRAINT uq_inbox_rejected_fingerprint UNIQUE,
    origin         nvarchar(400)  NOT NULL,
    record_key     nvarchar(1000) NOT NULL,
    payload        nvarchar(max)  NOT NULL,
    reason         nvarchar(max)  NOT NULL,
    rejected_at    datetime2(7)   NOT NULL,
    resubmitted_at datetime2(7)   NULL
);
GO

CREATE TRIGGER dbo.inbox_rejected_is_immutable ON dbo.inbox_rejected
AFTER UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF EXISTS (SELECT 1 FROM inserted AS i JOIN deleted AS d ON d.id = i.id
                WHERE i.fingerprint <> d.fingerprint OR i.origin <> d.origin OR i.record_key <> d.record_key
                   OR i.payload <> d.payload OR i.reason <> d.reason OR i.rejected_at <> d.rejected_at)
        THROW 51004, N'inbox_rejected: a quarantined record is never changed', 1;
END;
GO

GRANT INSERT, SELECT, UPDATE ON dbo.inbox_rejected TO respond_writer;
DENY DELETE, ALTER ON dbo.inbox_rejected TO respond_writer;
GO
