import { defineConfig } from "vitest/config";

/** The long suite (scripts/long-suite.sh, `npm run test:long`): test/long/*.long.ts, one file at a time. */
export default defineConfig({
  test: {
    include: ["test/long/**/*.long.ts"],
    testTimeout: 30 * 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: false,
  },
});
