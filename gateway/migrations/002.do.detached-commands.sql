-- Detached command ids are global upstream (the sandbox in the path is ignored there), so the
-- gateway records which tenant's sandbox started each one and checks it on every later call.
CREATE TABLE detached_commands (
  id          text PRIMARY KEY,
  account_id  uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  sandbox_id  uuid NOT NULL REFERENCES sandboxes(id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX detached_commands_sandbox ON detached_commands(sandbox_id);
