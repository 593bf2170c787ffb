#!/bin/sh
# The long suite: tests too slow or too memory-hungry for `npm test` (test/long/*.long.ts, run
# with vitest.long.config.ts), e.g. a proving session over the VM's largest memory (1 GiB), whose
# peak RSS is measured in a child process. Builds dist/ first (the children run the compiled VM).
# Needs about 3 GB of free memory. Usage: scripts/long-suite.sh [vitest args, e.g. a file filter]
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
npx tsc -p tsconfig.json
npx vitest run -c vitest.long.config.ts "$@"
