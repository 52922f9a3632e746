-- V006: indexes for the console's activity search (#20). A search reads newest first a page at a time
-- (WHERE <filter> AND sequence < @BeforeSequence ORDER BY sequence DESC, TOP n). A non-unique nonclustered index
-- carries the clustering key (sequence) as its last key column, so a one-column index on a filter's column returns that
-- column's rows in sequence order: the first page is a backward range seek, never a sort of every matching row.
-- (rule_id, action, provider and status already have (column, recorded_at) indexes for the rate-limit windows.)
CREATE NONCLUSTERED INDEX ix_audit_log_search_identity_name ON dbo.audit_log (identity_name);
CREATE NONCLUSTERED INDEX ix_audit_log_search_guard ON dbo.audit_log (guard);
CREATE NONCLUSTERED INDEX ix_audit_log_search_rule_id ON dbo.audit_log (rule_id);
CREATE NONCLUSTERED INDEX ix_audit_log_search_action ON dbo.audit_log (action);
CREATE NONCLUSTERED INDEX ix_audit_log_search_provider ON dbo.audit_log (provider);
CREATE NONCLUSTERED INDEX ix_audit_log_search_status ON dbo.audit_log (status);
