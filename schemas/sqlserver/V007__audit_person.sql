-- V007: the person index (#21), as SQLite's V006. For each audit row about an account: that account, and the person it
-- was decided for, which is the account the finding named. A row acting on a linked account (a rule's `on:`) records
-- the named account in its facts as linked_from; every other row is its own account's. `respond audit list --person`
-- and the console's person timeline follow these keys through the indexes instead of reading the whole trail.
-- Keys are N'provider:ID'; the engine upper-cases the id's ASCII letters, and the key columns compare without case
-- (Latin1_General_100_CI_AS), so the backfill's UPPER() and the engine's keys meet. Derived from hashed fields only
-- (provider, identity_id, identity_name, facts): not part of the hash chain, recomputable from the trail at any time.
-- Append-only like the trail.

CREATE TABLE dbo.audit_person (
    sequence     bigint        NOT NULL CONSTRAINT pk_audit_person PRIMARY KEY CLUSTERED,
    person       nvarchar(470) COLLATE Latin1_General_100_CI_AS NOT NULL,
    person_name  nvarchar(400) COLLATE Latin1_General_100_CI_AS NULL,
    account      nvarchar(470) COLLATE Latin1_General_100_CI_AS NOT NULL,
    account_name nvarchar(400) COLLATE Latin1_General_100_CI_AS NULL
);
GO

CREATE NONCLUSTERED INDEX ix_audit_person_person ON dbo.audit_person (person) INCLUDE (account);
CREATE NONCLUSTERED INDEX ix_audit_person_account ON dbo.audit_person (account) INCLUDE (person);
CREATE NONCLUSTERED INDEX ix_audit_person_person_name ON dbo.audit_person (person_name);
CREATE NONCLUSTERED INDEX ix_audit_person_account_name ON dbo.audit_person (account_name);
GO

-- Rows written before this migration: the same keys from the stored facts, once, in the migration's transaction.
INSERT INTO dbo.audit_person (sequence, person, person_name, account, account_name)
SELECT l.sequence,
       CASE WHEN j.linked = 1 THEN j.from_provider + N':' + UPPER(j.from_id) ELSE l.provider + N':' + UPPER(l.identity_id) END,
       CASE WHEN j.linked = 1 THEN j.from_account ELSE l.identity_name END,
       l.provider + N':' + UPPER(l.identity_id),
       l.identity_name
  FROM dbo.audit_log AS l
 OUTER APPLY (SELECT v.from_provider, v.from_id,
                     CASE WHEN LEN(v.from_account) <= 400 THEN v.from_account END AS from_account,
                     CASE WHEN LEN(v.from_provider) <= 64 AND LEN(v.from_id) <= 400 THEN 1 ELSE 0 END AS linked
                FROM (SELECT JSON_VALUE(l.facts, N'$.linked_from.provider') AS from_provider,
                             JSON_VALUE(l.facts, N'$.linked_from.id') AS from_id,
                             JSON_VALUE(l.facts, N'$.linked_from.account') AS from_account
                       WHERE l.facts LIKE N'%"linked_from"%' AND ISJSON(l.facts) = 1) AS v) AS j
 WHERE l.provider IS NOT NULL AND l.identity_id IS NOT NULL;
GO

CREATE TRIGGER dbo.audit_person_append_only ON dbo.audit_person
INSTEAD OF UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 51005, N'audit_person is append-only: UPDATE and DELETE are refused', 1;
END;
GO

GRANT INSERT, SELECT ON dbo.audit_person TO respond_writer;
DENY UPDATE, DELETE, ALTER ON dbo.audit_person TO respond_writer;
GO
