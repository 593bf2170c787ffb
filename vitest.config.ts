import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    pool: "forks",
    // Test files share a worker's module cache: importing binaryen, the converters and the VM once
    // per worker instead of once per file took the suite from 286 s to 180 s on 2 cores. Every
    // file passes alone, in the default order and in a shuffled one (--sequence.shuffle.files).
    isolate: false,
  },
});
