#!/usr/bin/env bash
# Exact versions from the lockfile; install scripts are limited by package.json "allowScripts".
set -euo pipefail
npm ci --no-audit --no-fund
