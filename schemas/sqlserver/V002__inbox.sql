-- V002: the durable inbox of `respond serve` and the cursors of its pollers (SQL Server 2022). Applied once by
-- SqlServerAuditStore.InitializeAsync, batch by batch (split on GO lines) in one transaction.
-- A finding is committed here before the webhook answers 202 or a poller moves its cursor; (source, finding_id) is
-- unique, so a duplicate is accepted once. The inbox is a work queue beside the audit trail, not part of it: instances
-- lease rows with UPDLOCK, READPAST (each skips what another holds) and write lease_owner, lease_until and attempts;
-- completion writes completed_at and outcome. What was received never changes and is never removed: the trigger
-- refuses a change of the record or its identity, and respond_writer is denied DELETE.

CREATE TABLE dbo.inbox (
    sequence     bigint         IDENTITY(1, 1) NOT NULL CONSTRAINT pk_inbox PRIMARY KEY CLUSTERED,
    source       nvarchar(400)  NOT NULL,
    finding_id   nvarchar(400)  NOT NULL,
    origin       nvarchar(400)  NOT NULL,
    payload      nvarchar(max)  NOT NULL,
    received_at  datetime2(7)   NOT NULL,
    lease_owner  nvarchar(200)  NULL,
    lease_until  datetime2(7)   NULL,
    attempts     int            NOT NULL CONSTRAINT df_inbox_attempts DEFAULT (0),
    completed_at datetime2(7)   NULL,
    outcome      nvarchar(max)  NULL,
    CONSTRAINT uq_inbox_source_finding UNIQUE (source, finding_id)
);
GO

-- The processor's lease query (open items in arrival order) and `respond plan --findings audit:30d`.
CREATE NONCLUSTERED INDEX ix_inbox_open ON dbo.inbox (completed_at, sequence) INCLUDE (lease_until);
CREATE NONCLUSTERED INDEX ix_inbox_received_at ON dbo.inbox (received_at);
GO

CREATE TABLE dbo.poller_cursor (
    name       nvarchar(200) NOT NULL CONSTRAINT pk_poller_cursor PRIMARY KEY,
    value      nvarchar(max) NOT NULL,
    updated_at datetime2(7)  NOT NULL
);
GO

CREATE TRIGGER dbo.inbox_record_is_immutable ON dbo.inbox
AFTER UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF EXISTS (SELECT 1 FROM inserted AS i JOIN deleted AS d ON d.sequence = i.sequence
                WHERE i.source <> d.source OR i.finding_id <> d.finding_id OR i.origin <> d.origin
                   OR i.payload <> d.payload OR i.received_at <> d.received_at)
        THROW 51003, N'inbox: a received finding is never changed', 1;
END;
GO

GRANT INSERT, SELECT, UPDATE ON dbo.inbox TO respond_writer;
GRANT INSERT, SELECT, UPDATE ON dbo.poller_cursor TO respond_writer;
DENY DELETE, ALTER ON dbo.inbox TO respond_writer;
DENY DELETE, ALTER ON dbo.poller_cursor TO respond_writer;
GO
