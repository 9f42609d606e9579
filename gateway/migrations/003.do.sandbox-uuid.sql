-- The upstream's UUID of each sandbox, so GET /sandboxes/by-uuid/{uuid} can be scoped to its owner.
ALTER TABLE sandboxes ADD COLUMN upstream_uuid text;
CREATE INDEX sandboxes_upstream_uuid ON sandboxes(account_id, upstream_uuid) WHERE deleted_at IS NULL;
