#!/usr/bin/env node
// `npm run conformance -- [--update-manifest] [--filter TEXT]`: run the ONNX conformance suite
// alone (vitest on test/conformance/onnx.test.ts). --update-manifest rewrites manifest.txt with
// this run's passing cases; --filter runs only the cases whose name contains TEXT (report only).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const usage = "usage: npm run conformance -- [--update-manifest] [--filter TEXT]";
const env = { ...process.env };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--update-manifest") env.CONFORMANCE_UPDATE = "1";
  else if (args[i] === "--filter" && i + 1 < args.length) env.CONFORMANCE_FILTER = args[++i];
  else {
    console.error(`conformance: unknown argument '${args[i]}'\n${usage}`);
    process.exit(1);
  }
}
if (env.CONFORMANCE_UPDATE && env.CONFORMANCE_FILTER) {
  console.error("conformance: --update-manifest needs the full suite, not --filter");
  process.exit(1);
}
const root = fileURLToPath(new URL("../..", import.meta.url));
const result = spawnSync("npx", ["vitest", "run", "test/conformance/onnx.test.ts"], { cwd: root, env, stdio: "inherit" });
process.exit(result.status ?? 1);
