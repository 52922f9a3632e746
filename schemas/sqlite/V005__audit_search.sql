-- V005: indexes for the console's activity search (#20). A search reads newest first a page at a time
-- (WHERE <filter> AND sequence < @before ORDER BY sequence DESC LIMIT n). In SQLite every index ends with the rowid,
-- which is sequence, so a one-column index on a filter's column walks that column's rows in sequence order: the first
-- page is read straight off the index, never sorted from every matching row. (rule_id, action, provider and status
-- already have (column, recorded_at) indexes for the rate-limit windows; those order by time, not by sequence.)
CREATE INDEX ix_audit_log_search_identity_name ON audit_log (identity_name);
CREATE INDEX ix_audit_log_search_guard ON audit_log (guard);
CREATE INDEX ix_audit_log_search_rule_id ON audit_log (rule_id);
CREATE INDEX ix_audit_log_search_action ON audit_log (action);
CREATE INDEX ix_audit_log_search_provider ON audit_log (provider);
CREATE INDEX ix_audit_log_search_status ON audit_log (status);
