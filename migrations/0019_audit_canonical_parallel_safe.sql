-- An event's canonical text is a pure function of its columns: marked parallel safe, so that
-- recomputing every sealed event's hash (registry.audit.repo.walk) can be shared among
-- PostgreSQL's parallel workers. A function left unmarked is parallel unsafe, and keeps the
-- whole statement on one core even where the planner inlines it.
ALTER FUNCTION audit_canonical(audit_event, bigint) PARALLEL SAFE;
