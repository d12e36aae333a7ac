-- Quality reports select requests by when they were filed, first answered
-- and resolved. Each index holds every column its report query reads, so
-- the report reads the index alone (no row lookups) and never scans the
-- whole table for a month.
CREATE INDEX requests_created_idx ON requests (created_at, provider_unit_id, service_id, consumer_unit_id);
CREATE INDEX requests_first_responded_idx ON requests (first_responded_at, provider_unit_id, service_id,
    first_response_business_minutes, first_response_due_at);
CREATE INDEX requests_resolved_at_idx ON requests (resolved_at, provider_unit_id, service_id, consumer_unit_id,
    resolution_business_minutes, resolution_due_at, id);
