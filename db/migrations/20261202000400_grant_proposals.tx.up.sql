-- Money roles (finance, auditor) are granted by two people: an admin
-- proposes, a finance user who is neither the proposer nor the grantee
-- confirms or declines. A proposal is kept after its decision, so who asked
-- and who decided stays on record.
CREATE TABLE grant_proposals (
    id          {{.ID}},
    user_id     BIGINT NOT NULL REFERENCES users (id),
    role        TEXT NOT NULL CHECK (role IN ('finance', 'auditor')),
    proposed_by BIGINT NOT NULL REFERENCES users (id),
    proposed_at {{.TS}} NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'declined')),
    decided_by  BIGINT REFERENCES users (id),
    decided_at  {{.TS}},
    CHECK (proposed_by <> user_id),
    CHECK ((status = 'pending') = (decided_by IS NULL)),
    CHECK (decided_by IS NULL OR (decided_by <> proposed_by AND decided_by <> user_id))
);
-- One open proposal per user and role.
CREATE UNIQUE INDEX grant_proposals_pending_key ON grant_proposals (user_id, role) WHERE status = 'pending';
