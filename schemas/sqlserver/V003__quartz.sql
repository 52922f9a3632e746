-- V003: the tables of Quartz.NET's clustered ADO.NET job store, for `respond serve` with `serve.scheduler.store:
-- sqlserver` (SQL Server 2022). Applied once by SqlServerAuditStore.InitializeAsync, batch by batch (split on GO lines)
-- in one transaction, like every migration here; Quartz then only validates them at start (it creates nothing itself).
--
-- The part between the two "Quartz.NET" markers is Quartz.NET 4.7.3's own SQL Server schema, the script its job store
-- runs when asked to provision itself (embedded in Quartz.dll as Quartz.Impl.AdoJobStore.Schema.create_sqlServer.sql),
-- with its table prefix placeholders filled in ({0} = dbo.QRTZ_, {1} = QRTZ_) and its '--;;' statement separators
-- written as GO. It is used here under the Apache License, Version 2.0:
--
--   Copyright Marko Lahma and the Quartz.NET contributors.
--   Licensed under the Apache License, Version 2.0 (the "License"); you may not use this file except in compliance
--   with the License. You may obtain a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
--   Unless required by applicable law or agreed to in writing, software distributed under the License is distributed
--   on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the License for
--   the specific language governing permissions and limitations under the License.
--
-- tests/ResponseEngine.Service.Tests/QuartzSchemaTests checks that this part equals the script of the Quartz.dll the
-- engine is built with, so an upgrade of Quartz that changes its schema fails the build until a migration follows.
-- Every statement only creates what is missing; nothing here drops or changes anything.
--
-- The scheduler's tables are not part of the audit trail: Quartz inserts, updates and deletes its own rows. They are
-- granted to a role of their own, respond_scheduler, so that respond_writer keeps INSERT and SELECT only; the engine's
-- login is made a member of respond_scheduler only where the clustered scheduler is used (docs/serve.md).

-- ---- Quartz.NET 4.7.3 schema (Apache License 2.0) ----
--
-- Quartz.NET schema -- SQL Server
--
-- GENERATED FILE. Describe the schema in build/Build.DatabaseSchema.cs and run
-- 'dotnet fallout GenerateSchema'; edits made here are overwritten.
--
-- This is what AdoJobStore runs for itself when SchemaProvisioning.CreateIfMissing is
-- configured. It is not the script to run by hand -- use
-- database/tables/tables_sqlServer.sql for that, which is written for a person with a
-- database client and drops an existing schema before it recreates one.
--
-- Every statement creates only what is missing, and nothing here ever drops anything.
-- So it is safe to run against a schema that already exists, and safe to run twice.
--
-- 'dbo.QRTZ_' is the configured table prefix and 'QRTZ_' is the same prefix with any schema
-- qualifier removed, for the identifiers that cannot carry one -- index, constraint and
-- catalog-lookup names. They are substituted at runtime, so a schema provisioned under a
-- prefix of its own collides with nothing.
--
-- Statements are separated by a line reading exactly '--;;'. The job store splits on
-- it and sends each piece to the provider as one command, which is why no dialect's batch
-- separator appears: no GO, no lone '/', no SET TERM.
--
-- Tables are named without a [dbo] qualifier, exactly as the rest of Quartz's SQL names
-- them, so they are created in the connection's own default schema and a table prefix
-- that carries a schema of its own is honoured.
--
-- The memory-optimized (tables_sqlServerMOT.sql) and pre-2016 (tables_sqlServer_Below2016.sql)
-- variants have no counterpart here: both are deliberate departures from the standard
-- schema, chosen by a human for a particular deployment, and neither is something a
-- scheduler should decide to create on its own. Run those by hand and leave
-- SchemaProvisioning at Validate.
--
GO
-- dbo.QRTZ_JOB_DETAILS
IF OBJECT_ID(N'dbo.QRTZ_JOB_DETAILS', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_JOB_DETAILS (
    SCHED_NAME nvarchar(120) NOT NULL,
    JOB_NAME nvarchar(150) NOT NULL,
    JOB_GROUP nvarchar(150) NOT NULL,
    DESCRIPTION nvarchar(250) NULL,
    JOB_CLASS_NAME nvarchar(250) NOT NULL,
    IS_DURABLE bit NOT NULL,
    IS_NONCONCURRENT bit NOT NULL,
    IS_UPDATE_DATA bit NOT NULL,
    REQUESTS_RECOVERY bit NOT NULL,
    JOB_DATA varbinary(max) NULL,
    CONSTRAINT PK_QRTZ_JOB_DETAILS PRIMARY KEY (SCHED_NAME,JOB_NAME,JOB_GROUP)
  );
END
GO
-- dbo.QRTZ_TRIGGERS
IF OBJECT_ID(N'dbo.QRTZ_TRIGGERS', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_TRIGGERS (
    SCHED_NAME nvarchar(120) NOT NULL,
    TRIGGER_NAME nvarchar(150) NOT NULL,
    TRIGGER_GROUP nvarchar(150) NOT NULL,
    JOB_NAME nvarchar(150) NOT NULL,
    JOB_GROUP nvarchar(150) NOT NULL,
    DESCRIPTION nvarchar(250) NULL,
    NEXT_FIRE_TIME bigint NULL,
    PREV_FIRE_TIME bigint NULL,
    PRIORITY int NULL,
    TRIGGER_STATE nvarchar(16) NOT NULL,
    TRIGGER_TYPE nvarchar(8) NOT NULL,
    START_TIME bigint NOT NULL,
    END_TIME bigint NULL,
    CALENDAR_NAME nvarchar(200) NULL,
    MISFIRE_INSTR int NULL,
    MISFIRE_ORIG_FIRE_TIME bigint NULL,
    EXECUTION_GROUP nvarchar(200) NULL,
    PREFERRED_NODE nvarchar(200) NULL,
    PREFERRED_NODE_AUTO bit NOT NULL DEFAULT 0,
    RETRY_POLICY nvarchar(250) NULL,
    RETRY_ATTEMPT int NULL,
    CONTINUES_TRIGGER_NAME nvarchar(150) NULL,
    CONTINUES_TRIGGER_GROUP nvarchar(150) NULL,
    CONTINUATION_CONDITION int NULL,
    OVERLAP_POLICY int NULL,
    PAUSE_REASON nvarchar(250) NULL,
    PAUSED_BY nvarchar(200) NULL,
    PAUSED_AT bigint NULL,
    MISFIRE_THRESHOLD bigint NULL,
    FIXED_DELAY bit NULL,
    JOB_DATA varbinary(max) NULL,
    CONSTRAINT PK_QRTZ_TRIGGERS PRIMARY KEY (SCHED_NAME,TRIGGER_NAME,TRIGGER_GROUP),
    CONSTRAINT FK_QRTZ_TRIGGERS_QRTZ_JOB_DETAILS FOREIGN KEY (SCHED_NAME,JOB_NAME,JOB_GROUP) REFERENCES dbo.QRTZ_JOB_DETAILS (SCHED_NAME,JOB_NAME,JOB_GROUP)
  );
END
GO
-- dbo.QRTZ_SIMPLE_TRIGGERS
IF OBJECT_ID(N'dbo.QRTZ_SIMPLE_TRIGGERS', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_SIMPLE_TRIGGERS (
    SCHED_NAME nvarchar(120) NOT NULL,
    TRIGGER_NAME nvarchar(150) NOT NULL,
    TRIGGER_GROUP nvarchar(150) NOT NULL,
    REPEAT_COUNT int NOT NULL,
    REPEAT_INTERVAL bigint NOT NULL,
    TIMES_TRIGGERED int NOT NULL,
    CONSTRAINT PK_QRTZ_SIMPLE_TRIGGERS PRIMARY KEY (SCHED_NAME,TRIGGER_NAME,TRIGGER_GROUP),
    CONSTRAINT FK_QRTZ_SIMPLE_TRIGGERS_QRTZ_TRIGGERS FOREIGN KEY (SCHED_NAME,TRIGGER_NAME,TRIGGER_GROUP) REFERENCES dbo.QRTZ_TRIGGERS (SCHED_NAME,TRIGGER_NAME,TRIGGER_GROUP) ON DELETE CASCADE
  );
END
GO
-- dbo.QRTZ_CRON_TRIGGERS
IF OBJECT_ID(N'dbo.QRTZ_CRON_TRIGGERS', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_CRON_TRIGGERS (
    SCHED_NAME nvarchar(120) NOT NULL,
    TRIGGER_NAME nvarchar(150) NOT NULL,
    TRIGGER_GROUP nvarchar(150) NOT NULL,
    CRON_EXPRESSION nvarchar(120) NOT NULL,
    TIME_ZONE_ID nvarchar(80),
    CONSTRAINT PK_QRTZ_CRON_TRIGGERS PRIMARY KEY (SCHED_NAME,TRIGGER_NAME,TRIGGER_GROUP),
    CONSTRAINT FK_QRTZ_CRON_TRIGGERS_QRTZ_TRIGGERS FOREIGN KEY (SCHED_NAME,TRIGGER_NAME,TRIGGER_GROUP) REFERENCES dbo.QRTZ_TRIGGERS (SCHED_NAME,TRIGGER_NAME,TRIGGER_GROUP) ON DELETE CASCADE
  );
END
GO
-- dbo.QRTZ_SIMPROP_TRIGGERS
IF OBJECT_ID(N'dbo.QRTZ_SIMPROP_TRIGGERS', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_SIMPROP_TRIGGERS (
    SCHED_NAME nvarchar(120) NOT NULL,
    TRIGGER_NAME nvarchar(150) NOT NULL,
    TRIGGER_GROUP nvarchar(150) NOT NULL,
    STR_PROP_1 nvarchar(512) NULL,
    STR_PROP_2 nvarchar(512) NULL,
    STR_PROP_3 nvarchar(512) NULL,
    INT_PROP_1 int NULL,
    INT_PROP_2 int NULL,
    LONG_PROP_1 bigint NULL,
    LONG_PROP_2 bigint NULL,
    DEC_PROP_1 numeric(13,4) NULL,
    DEC_PROP_2 numeric(13,4) NULL,
    BOOL_PROP_1 bit NULL,
    BOOL_PROP_2 bit NULL,
    TIME_ZONE_ID nvarchar(80) NULL,
    CONSTRAINT PK_QRTZ_SIMPROP_TRIGGERS PRIMARY KEY (SCHED_NAME,TRIGGER_NAME,TRIGGER_GROUP),
    CONSTRAINT FK_QRTZ_SIMPROP_TRIGGERS_QRTZ_TRIGGERS FOREIGN KEY (SCHED_NAME,TRIGGER_NAME,TRIGGER_GROUP) REFERENCES dbo.QRTZ_TRIGGERS (SCHED_NAME,TRIGGER_NAME,TRIGGER_GROUP) ON DELETE CASCADE
  );
END
GO
-- dbo.QRTZ_BLOB_TRIGGERS
IF OBJECT_ID(N'dbo.QRTZ_BLOB_TRIGGERS', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_BLOB_TRIGGERS (
    SCHED_NAME nvarchar(120) NOT NULL,
    TRIGGER_NAME nvarchar(150) NOT NULL,
    TRIGGER_GROUP nvarchar(150) NOT NULL,
    BLOB_DATA varbinary(max) NULL,
    CONSTRAINT PK_QRTZ_BLOB_TRIGGERS PRIMARY KEY (SCHED_NAME,TRIGGER_NAME,TRIGGER_GROUP)
  );
END
GO
-- dbo.QRTZ_CALENDARS
IF OBJECT_ID(N'dbo.QRTZ_CALENDARS', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_CALENDARS (
    SCHED_NAME nvarchar(120) NOT NULL,
    CALENDAR_NAME nvarchar(200) NOT NULL,
    CALENDAR varbinary(max) NOT NULL,
    CONSTRAINT PK_QRTZ_CALENDARS PRIMARY KEY (SCHED_NAME,CALENDAR_NAME)
  );
END
GO
-- dbo.QRTZ_PAUSED_TRIGGER_GRPS
IF OBJECT_ID(N'dbo.QRTZ_PAUSED_TRIGGER_GRPS', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_PAUSED_TRIGGER_GRPS (
    SCHED_NAME nvarchar(120) NOT NULL,
    TRIGGER_GROUP nvarchar(150) NOT NULL,
    PAUSE_REASON nvarchar(250) NULL,
    PAUSED_BY nvarchar(200) NULL,
    PAUSED_AT bigint NULL,
    CONSTRAINT PK_QRTZ_PAUSED_TRIGGER_GRPS PRIMARY KEY (SCHED_NAME,TRIGGER_GROUP)
  );
END
GO
-- dbo.QRTZ_PAUSED_JOB_GRPS
IF OBJECT_ID(N'dbo.QRTZ_PAUSED_JOB_GRPS', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_PAUSED_JOB_GRPS (
    SCHED_NAME nvarchar(120) NOT NULL,
    JOB_GROUP nvarchar(150) NOT NULL,
    PAUSE_REASON nvarchar(250) NULL,
    PAUSED_BY nvarchar(200) NULL,
    PAUSED_AT bigint NULL,
    CONSTRAINT PK_QRTZ_PAUSED_JOB_GRPS PRIMARY KEY (SCHED_NAME,JOB_GROUP)
  );
END
GO
-- dbo.QRTZ_FIRED_TRIGGERS
IF OBJECT_ID(N'dbo.QRTZ_FIRED_TRIGGERS', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_FIRED_TRIGGERS (
    SCHED_NAME nvarchar(120) NOT NULL,
    ENTRY_ID nvarchar(140) NOT NULL,
    TRIGGER_NAME nvarchar(150) NOT NULL,
    TRIGGER_GROUP nvarchar(150) NOT NULL,
    INSTANCE_NAME nvarchar(200) NOT NULL,
    FIRED_TIME bigint NOT NULL,
    SCHED_TIME bigint NOT NULL,
    PRIORITY int NOT NULL,
    STATE nvarchar(16) NOT NULL,
    JOB_NAME nvarchar(150) NULL,
    JOB_GROUP nvarchar(150) NULL,
    IS_NONCONCURRENT bit NULL,
    REQUESTS_RECOVERY bit NULL,
    EXECUTION_GROUP nvarchar(200) NULL,
    PROGRESS int NULL,
    PROGRESS_MESSAGE nvarchar(250) NULL,
    INTERRUPT_REQUESTED_TIME bigint NULL,
    CONSTRAINT PK_QRTZ_FIRED_TRIGGERS PRIMARY KEY (SCHED_NAME,ENTRY_ID)
  );
END
GO
-- dbo.QRTZ_SCHEDULER_STATE
IF OBJECT_ID(N'dbo.QRTZ_SCHEDULER_STATE', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_SCHEDULER_STATE (
    SCHED_NAME nvarchar(120) NOT NULL,
    INSTANCE_NAME nvarchar(200) NOT NULL,
    LAST_CHECKIN_TIME bigint NOT NULL,
    CHECKIN_INTERVAL bigint NOT NULL,
    QUARTZ_VERSION nvarchar(20) NULL,
    CONSTRAINT PK_QRTZ_SCHEDULER_STATE PRIMARY KEY (SCHED_NAME,INSTANCE_NAME)
  );
END
GO
-- dbo.QRTZ_LOCKS
IF OBJECT_ID(N'dbo.QRTZ_LOCKS', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_LOCKS (
    SCHED_NAME nvarchar(120) NOT NULL,
    LOCK_NAME nvarchar(40) NOT NULL,
    CONSTRAINT PK_QRTZ_LOCKS PRIMARY KEY (SCHED_NAME,LOCK_NAME)
  );
END
GO
-- dbo.QRTZ_EXECUTION_HISTORY
IF OBJECT_ID(N'dbo.QRTZ_EXECUTION_HISTORY', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_EXECUTION_HISTORY (
    SCHED_NAME nvarchar(120) NOT NULL,
    ENTRY_ID nvarchar(140) NOT NULL,
    INSTANCE_NAME nvarchar(200) NOT NULL,
    JOB_NAME nvarchar(150) NOT NULL,
    JOB_GROUP nvarchar(150) NOT NULL,
    TRIGGER_NAME nvarchar(150) NOT NULL,
    TRIGGER_GROUP nvarchar(150) NOT NULL,
    FIRED_TIME bigint NOT NULL,
    RUN_TIME bigint NOT NULL,
    SUCCEEDED bit NOT NULL,
    ERROR_MESSAGE nvarchar(1000) NULL,
    RETRY_ATTEMPT int NOT NULL DEFAULT 0,
    RETRY_SCHEDULED bit NOT NULL DEFAULT 0,
    EXECUTION_LOG nvarchar(max) NULL,
    RESULT int NULL,
    SUMMARY nvarchar(1000) NULL,
    METRICS nvarchar(max) NULL,
    MANUAL bit NULL,
    FIRE_INSTANCE_ID nvarchar(140) NULL,
    JOB_INPUT nvarchar(max) NULL,
    JOB_INPUT_TOO_LARGE bit NULL,
    CONSTRAINT PK_QRTZ_EXECUTION_HISTORY PRIMARY KEY (SCHED_NAME,ENTRY_ID)
  );
END
GO
-- dbo.QRTZ_MISFIRE_HISTORY
IF OBJECT_ID(N'dbo.QRTZ_MISFIRE_HISTORY', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_MISFIRE_HISTORY (
    SCHED_NAME nvarchar(120) NOT NULL,
    ENTRY_ID nvarchar(140) NOT NULL,
    INSTANCE_NAME nvarchar(200) NOT NULL,
    TRIGGER_NAME nvarchar(150) NOT NULL,
    TRIGGER_GROUP nvarchar(150) NOT NULL,
    JOB_NAME nvarchar(150) NULL,
    JOB_GROUP nvarchar(150) NULL,
    MISFIRE_TIME bigint NOT NULL,
    SCHED_TIME bigint NULL,
    REASON int NULL,
    CONSTRAINT PK_QRTZ_MISFIRE_HISTORY PRIMARY KEY (SCHED_NAME,ENTRY_ID)
  );
END
GO
-- dbo.QRTZ_JOB_STATUS
IF OBJECT_ID(N'dbo.QRTZ_JOB_STATUS', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.QRTZ_JOB_STATUS (
    SCHED_NAME nvarchar(120) NOT NULL,
    JOB_GROUP nvarchar(150) NOT NULL,
    JOB_NAME nvarchar(150) NOT NULL,
    FIRST_FIRED_TIME bigint NOT NULL,
    LAST_FIRED_TIME bigint NOT NULL,
    LAST_RESULT int NOT NULL,
    LAST_RUN_TIME bigint NOT NULL,
    LAST_INSTANCE_NAME nvarchar(200) NOT NULL,
    LAST_ENTRY_ID nvarchar(140) NULL,
    LAST_SUMMARY nvarchar(1000) NULL,
    LAST_SUCCESS_TIME bigint NULL,
    LAST_FAILURE_TIME bigint NULL,
    LAST_FAILURE_MESSAGE nvarchar(1000) NULL,
    CONSECUTIVE_FAILURES int NOT NULL DEFAULT 0,
    RUN_COUNT bigint NOT NULL DEFAULT 0,
    FAILURE_COUNT bigint NOT NULL DEFAULT 0,
    CONSTRAINT PK_QRTZ_JOB_STATUS PRIMARY KEY (SCHED_NAME,JOB_GROUP,JOB_NAME)
  );
END
GO
-- IDX_QRTZ_J_G_N
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_J_G_N' AND object_id = OBJECT_ID('dbo.QRTZ_JOB_DETAILS'))
BEGIN
  CREATE INDEX IDX_QRTZ_J_G_N ON dbo.QRTZ_JOB_DETAILS(SCHED_NAME, JOB_GROUP, JOB_NAME);
END
GO
-- IDX_QRTZ_T_J
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_T_J' AND object_id = OBJECT_ID('dbo.QRTZ_TRIGGERS'))
BEGIN
  CREATE INDEX IDX_QRTZ_T_J ON dbo.QRTZ_TRIGGERS(SCHED_NAME, JOB_NAME, JOB_GROUP);
END
GO
-- IDX_QRTZ_T_G_N
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_T_G_N' AND object_id = OBJECT_ID('dbo.QRTZ_TRIGGERS'))
BEGIN
  CREATE INDEX IDX_QRTZ_T_G_N ON dbo.QRTZ_TRIGGERS(SCHED_NAME, TRIGGER_GROUP, TRIGGER_NAME);
END
GO
-- IDX_QRTZ_T_C
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_T_C' AND object_id = OBJECT_ID('dbo.QRTZ_TRIGGERS'))
BEGIN
  CREATE INDEX IDX_QRTZ_T_C ON dbo.QRTZ_TRIGGERS(SCHED_NAME, CALENDAR_NAME);
END
GO
-- IDX_QRTZ_T_NFT_ST
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_T_NFT_ST' AND object_id = OBJECT_ID('dbo.QRTZ_TRIGGERS'))
BEGIN
  CREATE INDEX IDX_QRTZ_T_NFT_ST ON dbo.QRTZ_TRIGGERS(SCHED_NAME, TRIGGER_STATE, NEXT_FIRE_TIME ASC, PRIORITY DESC, MISFIRE_INSTR);
END
GO
-- IDX_QRTZ_FT_INST_JOB_REQ_RCVRY
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_FT_INST_JOB_REQ_RCVRY' AND object_id = OBJECT_ID('dbo.QRTZ_FIRED_TRIGGERS'))
BEGIN
  CREATE INDEX IDX_QRTZ_FT_INST_JOB_REQ_RCVRY ON dbo.QRTZ_FIRED_TRIGGERS(SCHED_NAME, INSTANCE_NAME, REQUESTS_RECOVERY);
END
GO
-- IDX_QRTZ_FT_J_G
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_FT_J_G' AND object_id = OBJECT_ID('dbo.QRTZ_FIRED_TRIGGERS'))
BEGIN
  CREATE INDEX IDX_QRTZ_FT_J_G ON dbo.QRTZ_FIRED_TRIGGERS(SCHED_NAME, JOB_NAME, JOB_GROUP);
END
GO
-- IDX_QRTZ_FT_T_G
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_FT_T_G' AND object_id = OBJECT_ID('dbo.QRTZ_FIRED_TRIGGERS'))
BEGIN
  CREATE INDEX IDX_QRTZ_FT_T_G ON dbo.QRTZ_FIRED_TRIGGERS(SCHED_NAME, TRIGGER_NAME, TRIGGER_GROUP);
END
GO
-- IDX_QRTZ_EH_FIRED_TIME
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_EH_FIRED_TIME' AND object_id = OBJECT_ID('dbo.QRTZ_EXECUTION_HISTORY'))
BEGIN
  CREATE INDEX IDX_QRTZ_EH_FIRED_TIME ON dbo.QRTZ_EXECUTION_HISTORY(SCHED_NAME, FIRED_TIME);
END
GO
-- IDX_QRTZ_EH_INST
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_EH_INST' AND object_id = OBJECT_ID('dbo.QRTZ_EXECUTION_HISTORY'))
BEGIN
  CREATE INDEX IDX_QRTZ_EH_INST ON dbo.QRTZ_EXECUTION_HISTORY(SCHED_NAME, INSTANCE_NAME);
END
GO
-- IDX_QRTZ_MH_MISFIRE_TIME
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_MH_MISFIRE_TIME' AND object_id = OBJECT_ID('dbo.QRTZ_MISFIRE_HISTORY'))
BEGIN
  CREATE INDEX IDX_QRTZ_MH_MISFIRE_TIME ON dbo.QRTZ_MISFIRE_HISTORY(SCHED_NAME, MISFIRE_TIME);
END
GO
-- IDX_QRTZ_MH_INST
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_MH_INST' AND object_id = OBJECT_ID('dbo.QRTZ_MISFIRE_HISTORY'))
BEGIN
  CREATE INDEX IDX_QRTZ_MH_INST ON dbo.QRTZ_MISFIRE_HISTORY(SCHED_NAME, INSTANCE_NAME);
END
GO
-- IDX_QRTZ_EH_JOB_TIME
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_EH_JOB_TIME' AND object_id = OBJECT_ID('dbo.QRTZ_EXECUTION_HISTORY'))
BEGIN
  CREATE INDEX IDX_QRTZ_EH_JOB_TIME ON dbo.QRTZ_EXECUTION_HISTORY(SCHED_NAME, JOB_GROUP, JOB_NAME, FIRED_TIME);
END
GO
-- IDX_QRTZ_EH_FIRE_INST
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_EH_FIRE_INST' AND object_id = OBJECT_ID('dbo.QRTZ_EXECUTION_HISTORY'))
BEGIN
  CREATE INDEX IDX_QRTZ_EH_FIRE_INST ON dbo.QRTZ_EXECUTION_HISTORY(SCHED_NAME, FIRE_INSTANCE_ID);
END
GO
-- IDX_QRTZ_EH_TRIG_TIME
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'IDX_QRTZ_EH_TRIG_TIME' AND object_id = OBJECT_ID('dbo.QRTZ_EXECUTION_HISTORY'))
BEGIN
  CREATE INDEX IDX_QRTZ_EH_TRIG_TIME ON dbo.QRTZ_EXECUTION_HISTORY(SCHED_NAME, TRIGGER_GROUP, TRIGGER_NAME, FIRED_TIME);
END
-- ---- end of the Quartz.NET 4.7.3 schema ----
GO

IF DATABASE_PRINCIPAL_ID(N'respond_scheduler') IS NULL
    CREATE ROLE respond_scheduler AUTHORIZATION dbo;
GO

GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_JOB_DETAILS TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_TRIGGERS TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_SIMPLE_TRIGGERS TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_CRON_TRIGGERS TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_SIMPROP_TRIGGERS TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_BLOB_TRIGGERS TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_CALENDARS TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_PAUSED_TRIGGER_GRPS TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_PAUSED_JOB_GRPS TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_FIRED_TRIGGERS TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_SCHEDULER_STATE TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_LOCKS TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_EXECUTION_HISTORY TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_MISFIRE_HISTORY TO respond_scheduler;
GRANT SELECT, INSERT, UPDATE, DELETE ON dbo.QRTZ_JOB_STATUS TO respond_scheduler;
GO
