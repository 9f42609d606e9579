-- Accounts, keys, sandbox ownership, monthly quota counters and the usage ledger.
-- PostgreSQL is the source of truth for all of it; Redis only ever holds rate-limit buckets.

CREATE TABLE accounts (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email       text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
  tier        text NOT NULL,
  -- Per-account limits on top of the tier (enterprise "custom"): a partial tier object.
  overrides   jsonb,
  -- Fixed-length upstream name prefix: sandbox "box" is "<namespace>-box" upstream.
  namespace   text NOT NULL UNIQUE CHECK (namespace ~ '^[a-z0-9]{8}$'),
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id    uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  -- The visible start of the key (e.g. "aks_live_1a2b3c4d"), to recognise it in lists; not secret.
  prefix        text NOT NULL,
  -- SHA-256 of the whole key; the key itself is shown once and never stored.
  hash          bytea NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  last_used_at  timestamptz
);
CREATE INDEX api_keys_account ON api_keys(account_id);

CREATE TABLE sandboxes (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id     uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name           text NOT NULL,
  upstream_name  text NOT NULL,
  memory_mb      integer NOT NULL,
  vcpus          integer NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz,
  deleted_at     timestamptz
);
-- A live name is unique per tenant and upstream; deleted rows stay for the lifetime ledger.
CREATE UNIQUE INDEX sandboxes_live_name ON sandboxes(account_id, name) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX sandboxes_live_upstream ON sandboxes(upstream_name) WHERE deleted_at IS NULL;
CREATE INDEX sandboxes_expiry ON sandboxes(expires_at) WHERE deleted_at IS NULL;

-- One row per account and month; `used` counts billable executions. Reservations update it under the
-- row lock with a limit check, which is what makes quotas exact under concurrency.
CREATE TABLE quota_counters (
  account_id  uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  period      date NOT NULL,
  used        bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
  PRIMARY KEY (account_id, period)
);

-- The usage ledger: one row per metered execution (and one per sandbox lifetime), keyed by request id.
CREATE TABLE usage_events (
  id           text PRIMARY KEY,
  account_id   uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  key_id       uuid REFERENCES api_keys(id) ON DELETE SET NULL,
  period       date NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('run', 'run_stream', 'batch_run', 'exec', 'exec_detached', 'sandbox')),
  sandbox      text,
  -- 1 for an execution, 0 for a sandbox lifetime row.
  executions   integer NOT NULL CHECK (executions IN (0, 1)),
  started_at   timestamptz NOT NULL DEFAULT now(),
  ended_at     timestamptz,
  duration_ms  bigint,
  memory_mb    integer NOT NULL,
  gb_seconds   numeric(20, 6) NOT NULL DEFAULT 0,
  -- reserved (in flight), succeeded, failed (ran, non-zero/upstream error after start), client_aborted,
  -- interrupted (gateway stopped mid-flight), upstream_unavailable / rejected (never ran: refunded).
  outcome      text NOT NULL DEFAULT 'reserved',
  billable     boolean NOT NULL DEFAULT true,
  status_code  integer
);
CREATE INDEX usage_events_account_period ON usage_events(account_id, period);
CREATE INDEX usage_events_reserved ON usage_events(started_at) WHERE outcome = 'reserved';
