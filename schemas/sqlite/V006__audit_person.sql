-- V006: the person index (#21). For each audit row about an account: that account, and the person it was decided
-- for, which is the account the finding named. A row acting on a linked account (a rule's `on:`) records the named
-- account in its facts as linked_from; every other row is its own account's. `respond audit list --person` and the
-- console's person timeline follow these keys through the indexes instead of reading the whole trail.
-- Keys are 'provider:ID' with the id's ASCII letters upper-cased (upper(), as AuditPersons.Key does in the engine).
-- The index is derived from hashed fields only (provider, identity_id, identity_name, facts): it is not part of the
-- hash chain, and can be recomputed from the trail at any time. Append-only like the trail.
CREATE TABLE audit_person (
    sequence     INTEGER NOT NULL PRIMARY KEY,
    person       TEXT    NOT NULL,
    person_name  TEXT,
    account      TEXT    NOT NULL,
    account_name TEXT
) STRICT;

CREATE INDEX ix_audit_person_person ON audit_person (person);
CREATE INDEX ix_audit_person_account ON audit_person (account);
CREATE INDEX ix_audit_person_person_name ON audit_person (person_name COLLATE NOCASE);
CREATE INDEX ix_audit_person_account_name ON audit_person (account_name COLLATE NOCASE);

-- Rows written before this migration: the same keys from the stored facts, once, in the migration's transaction.
INSERT INTO audit_person (sequence, person, person_name, account, account_name)
SELECT sequence,
       CASE WHEN linked THEN from_provider || ':' || upper(from_id) ELSE provider || ':' || upper(identity_id) END,
       CASE WHEN linked THEN from_account ELSE identity_name END,
       provider || ':' || upper(identity_id),
       identity_name
  FROM (SELECT sequence, provider, identity_id, identity_name,
               json_extract(facts, '$.linked_from.provider') AS from_provider,
               json_extract(facts, '$.linked_from.id') AS from_id,
               CASE WHEN json_type(facts, '$.linked_from.account') = 'text' AND length(json_extract(facts, '$.linked_from.account')) <= 400
                    THEN json_extract(facts, '$.linked_from.account') END AS from_account,
               coalesce(json_type(facts, '$.linked_from.provider') = 'text' AND json_type(facts, '$.linked_from.id') = 'text'
                        AND length(json_extract(facts, '$.linked_from.provider')) <= 64 AND length(json_extract(facts, '$.linked_from.id')) <= 400, 0) AS linked
          FROM (SELECT sequence, provider, identity_id, identity_name,
                       CASE WHEN facts LIKE '%"linked_from"%' AND json_valid(facts) AND json_type(facts) = 'object' THEN facts END AS facts
                  FROM audit_log
                 WHERE provider IS NOT NULL AND identity_id IS NOT NULL));

CREATE TRIGGER audit_person_no_update BEFORE UPDATE ON audit_person
BEGIN
    SELECT RAISE(ABORT, 'audit_person is append-only: UPDATE is refused');
END;

CREATE TRIGGER audit_person_no_delete BEFORE DELETE ON audit_person
BEGIN
    SELECT RAISE(ABORT, 'audit_person is append-only: DELETE is refused');
END;
