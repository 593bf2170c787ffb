#!/bin/sh
# The long suite: tests too slow or too memory-hungry for `npm test` (test/long/*.long.ts, run
# with vitest.long.config.ts), e.g. a proving session over the VM's largest memory (4 GiB), whose
# peak RSS is measured in a child process; the StepVerifier contract against vm/spec/verifier.ts
# over more than 10,000 real and mutated proofs (step-verifier.long.ts, which also writes
# bench/step-gas-results.json); the chain layer's throughput; and detml installed into fresh
# projects from `npm pack`, a checkout folder and a git clone (install.long.ts: npm with
# --prefer-offline, a few minutes). Builds dist/ and the contracts first (the children run the
# compiled VM). Needs about 5 GB of free memory (the 4 GiB session peaks at 4.4 GB).
# Usage: scripts/long-suite.sh [vitest args, e.g. a file filter: scripts/long-suite.sh install]
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
npm run build
npx vitest run -c vitest.long.config.ts "$@"
