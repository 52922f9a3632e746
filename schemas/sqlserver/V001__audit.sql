-- V001: the audit trail (SQL Server 2022). Applied once by SqlServerAuditStore.InitializeAsync, batch by batch
-- (split on GO lines) in one transaction, and recorded in dbo.schema_migrations.
-- Append-only: intent and outcome are separate rows; the trigger refuses UPDATE and DELETE, and the role
-- respond_writer may only INSERT and SELECT (TRUNCATE needs ALTER, which it is denied).
-- recorded_at is UTC in datetime2(7): it round-trips to the exact tick, so the hash chain verifies.

CREATE TABLE dbo.audit_log (
    sequence        bigint         NOT NULL CONSTRAINT pk_audit_log PRIMARY KEY CLUSTERED,
    recorded_at     datetime2(7)   NOT NULL,
    run_id          nvarchar(200)  NOT NULL,
    host            nvarchar(255)  NOT NULL,
    engine_version  nvarchar(100)  NOT NULL,
    actor           nvarchar(400)  NOT NULL,
    status          nvarchar(32)   NOT NULL,
    dry_run         bit            NOT NULL,
    idempotency_key nvarchar(200)  NULL,
    intent_sequence bigint         NULL,
    rule_id         nvarchar(400)  NULL,
    rule_file       nvarchar(max)  NULL,
    rule_hash       nvarchar(200)  NULL,
    rules_commit    nvarchar(200)  NULL,
    finding_id      nvarchar(400)  NULL,
    finding_source  nvarchar(400)  NULL,
    provider        nvarchar(64)   NULL,
    identity_id     nvarchar(400)  NULL,
    identity_name   nvarchar(400)  NULL,
    action          nvarchar(200)  NULL,
    parameters      nvarchar(max)  NULL,
    destructive     bit            NOT NULL,
    verdict         nvarchar(64)   NULL,
    guard           nvarchar(200)  NULL,
    reason          nvarchar(max)  NULL,
    error           nvarchar(max)  NULL,
    prior_state     nvarchar(max)  NULL,
    facts           nvarchar(max)  NULL,
    previous_hash   char(64)       NOT NULL,
    hash            char(64)       NOT NULL
);
GO

-- What the guards and `respond audit` filter on: rate-limit windows (status, rule, action, provider by time),
-- dedupe (idempotency key), pending remediation and crash recovery (intent_sequence), per-identity history.
CREATE NONCLUSTERED INDEX ix_audit_log_recorded_at ON dbo.audit_log (recorded_at);
CREATE NONCLUSTERED INDEX ix_audit_log_status_recorded_at ON dbo.audit_log (status, recorded_at);
CREATE NONCLUSTERED INDEX ix_audit_log_rule_id_recorded_at ON dbo.audit_log (rule_id, recorded_at);
CREATE NONCLUSTERED INDEX ix_audit_log_action_recorded_at ON dbo.audit_log (action, recorded_at);
CREATE NONCLUSTERED INDEX ix_audit_log_provider_recorded_at ON dbo.audit_log (provider, recorded_at);
CREATE NONCLUSTERED INDEX ix_audit_log_identity_id ON dbo.audit_log (identity_id);
CREATE NONCLUSTERED INDEX ix_audit_log_idempotency_key ON dbo.audit_log (idempotency_key);
CREATE NONCLUSTERED INDEX ix_audit_log_intent_sequence ON dbo.audit_log (intent_sequence);
CREATE NONCLUSTERED INDEX ix_audit_log_run_id ON dbo.audit_log (run_id);
GO

CREATE TRIGGER dbo.audit_log_append_only ON dbo.audit_log
INSTEAD OF UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 51001, N'audit_log is append-only: UPDATE and DELETE are refused', 1;
END;
GO

-- The engine's steady-state login is a member of respond_writer and nothing else; migrations run as an owner.
IF DATABASE_PRINCIPAL_ID(N'respond_writer') IS NULL
    CREATE ROLE respond_writer AUTHORIZATION dbo;
GO

GRANT INSERT, SELECT ON dbo.audit_log TO respond_writer;
GRANT SELECT ON dbo.schema_migrations TO respond_writer;
DENY UPDATE, DELETE, ALTER ON dbo.audit_log TO respond_writer;
DENY INSERT, UPDATE, DELETE, ALTER ON dbo.schema_migrations TO respond_writer;
GO
