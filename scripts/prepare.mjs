/**
 * `npm run prepare` (run by npm on `npm install` in a checkout, before `npm pack`, and when detml
 * is installed from a git repository or a folder): builds dist/ with tsc. An installed detml
 * needs dist/, and only a checkout has the TypeScript sources and the build tools
 * (typescript, @types/*, the oracles' types) as devDependencies. npm installs them first for a
 * git dependency, but for a folder (`npm install ../detml`) it runs prepare in the folder before
 * installing anything there; then this script installs the folder's own dependencies (dev
 * included, install scripts off, so onnxruntime-node downloads nothing) and builds.
 * TypeScript stays a devDependency on purpose: moving it to dependencies would not help the
 * folder case (prepare runs before any dependency of the folder exists) and would add ~31 MB
 * (TypeScript 7's native compiler) to every install of a package that already ships dist/.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tsc = join(root, "node_modules", ".bin", "tsc");

function run(command, args, env = process.env) {
  const r = spawnSync(command, args, { cwd: root, stdio: "inherit", env });
  if (r.status !== 0) {
    process.stderr.write(`detml prepare: ${command} ${args.join(" ")} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status ?? 1);
  }
}

if (!existsSync(tsc)) {
  process.stderr.write("detml prepare: no build tools in this folder; installing its dependencies to build dist/\n");
  run("npm", ["install", "--include=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--no-save", "--prefer-offline"], { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" });
}
run(tsc, ["-p", "tsconfig.json"]);
