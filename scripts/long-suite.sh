#!/bin/sh
# The long suite: tests too slow or too memory-hungry for `npm test` (test/long/*.long.ts, run
# with vitest.long.config.ts), e.g. a proving session over the VM's largest memory (1 GiB), whose
# peak RSS is measured in a child process, and detml installed into fresh projects from `npm pack`,
# a checkout folder and a git clone (install.long.ts: npm with --prefer-offline, a few minutes).
# Builds dist/ first (the children run the compiled VM). Needs about 3 GB of free memory.
# Usage: scripts/long-suite.sh [vitest args, e.g. a file filter: scripts/long-suite.sh install]
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
npx tsc -p tsconfig.json
npx vitest run -c vitest.long.config.ts "$@"
