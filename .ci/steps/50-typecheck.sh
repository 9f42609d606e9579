#!/usr/bin/env bash
# tsx runs TypeScript without checking it; the whole tree (gateway, provisioning, infra, tests,
# bench) is type-checked here once, before the tests.
set -euo pipefail
npm run typecheck
