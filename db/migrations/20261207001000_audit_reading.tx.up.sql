-- The audit trail is read newest first (GET /audit, the portal's /audit),
-- narrowed by who acted or by a time range: without these an actor's or a
-- month's events mean reading the whole trail.
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, id);
--bun:split
CREATE INDEX audit_events_at_idx ON audit_events (at);
