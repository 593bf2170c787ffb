/**
 * detml as a dependency of someone else's project, the way a user gets it: `npm pack` of this
 * repository installed into a fresh temporary project, where `npx detml --version` must print
 * detml's version (not the project's 1.0.0), `verify` must fail with an install hint that works
 * while onnxruntime-node (an optional peer dependency) is missing, and pass once it is installed
 * with that hint; `convert`, `compile` and `run` work on fixtures/models/mlp.onnx. Then the
 * unbuilt sources: a copy of the checkout without dist/ and node_modules/ installed as a folder
 * (scripts/prepare.mjs installs its build tools and builds), and a `git clone` of the repository
 * installed as a git dependency. npm runs with --prefer-offline (the registry is reachable for
 * what the cache lacks). Long: `npm run test:long` (scripts/long-suite.sh), a few minutes.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PKG = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string; devDependencies: Record<string, string> };
const MLP = join(REPO, "fixtures/models/mlp.onnx");
const MLP_INPUT = join(REPO, "fixtures/data/mlp_input.npy");
const dir = mkdtempSync(join(tmpdir(), "detml-install-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** npm's install of onnxruntime-node downloads GPU files unless told not to (the hint verify gives). */
const ENV = { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" };
const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund"];

function sh(cwd: string, command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { cwd, env: ENV, encoding: "utf8", maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command that must succeed; returns its stdout. */
function ok(cwd: string, command: string, args: string[]): string {
  const r = sh(cwd, command, args);
  expect(r.status, `${command} ${args.join(" ")} in ${cwd} failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** A new empty project (its package.json says version 1.0.0, as `npm init -y` writes it). */
function project(name: string): string {
  const path = join(dir, name);
  mkdirSync(path);
  writeFileSync(join(path, "package.json"), `${JSON.stringify({ name, version: "1.0.0", private: true }, null, 2)}\n`);
  return path;
}

/** `npx detml ...` in a project (after `--`, so npx leaves --version and --help to detml). */
const detml = (cwd: string, args: string[]) => sh(cwd, "npx", ["--no", "--", "detml", ...args]);

describe("detml installed from npm pack", () => {
  const app = project("app");

  test("installs from the tarball and prints detml's own version", () => {
    ok(REPO, "npm", ["pack", "--pack-destination", dir, "--silent"]);
    const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
    expect(tarball, "npm pack wrote no tarball").toBeDefined();
    ok(app, "npm", ["install", join(dir, tarball!), ...NPM_FLAGS]);
    const version = detml(app, ["--version"]);
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(PKG.version);
  });

  test("verify without onnxruntime-node: one line with an install hint that works", () => {
    const r = detml(app, ["verify", MLP, "--random", "2"]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node");
  });

  test("verify with onnxruntime-node installed as the hint says", () => {
    ok(app, "npm", ["install", `onnxruntime-node@${PKG.devDependencies["onnxruntime-node"]}`, ...NPM_FLAGS]);
    const r = detml(app, ["verify", MLP, "--random", "2"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("onnxruntime");
    expect(r.stderr, "onnxruntime's own warnings").toBe("");
  });

  test("convert, compile and run the MLP fixture", () => {
    for (const args of [["convert", MLP, "-o", "mlp.detml"], ["compile", "mlp.detml", "-o", "mlp.wasm"]]) {
      const r = detml(app, args);
      expect(r.status, `detml ${args.join(" ")}: ${r.stderr}`).toBe(0);
    }
    const run = detml(app, ["run", "mlp.wasm", "--input", MLP_INPUT, "--json"]);
    expect(run.status, run.stderr).toBe(0);
    const ref = detml(app, ["run", "mlp.detml", "--input", MLP_INPUT, "--json"]);
    const outputs = (s: string) => (JSON.parse(s) as { outputs: unknown }).outputs;
    expect(outputs(run.stdout)).toEqual(outputs(ref.stdout));
  });
});

describe("detml installed from its unbuilt sources", () => {
  test("from a checkout folder without dist/ or node_modules/", () => {
    const checkout = join(dir, "checkout");
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: REPO, encoding: "utf8" }).split("\0").filter((f) => f !== "");
    for (const f of files) {
      mkdirSync(dirname(join(checkout, f)), { recursive: true });
      try {
        cpSync(join(REPO, f), join(checkout, f));
      } catch (e) {
        // A file git still lists but the working tree has deleted.
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    }
    const app = project("from-folder");
    ok(app, "npm", ["install", checkout, ...NPM_FLAGS]);
    const version = detml(app, ["--version"]);
    expect(version.stdout.trim(), version.stderr).toBe(PKG.version);
  });

  test("from a git clone (a git dependency)", () => {
    const clone = join(dir, "clone");
    ok(dir, "git", ["clone", "--quiet", REPO, clone]);
    const app = project("from-git");
    ok(app, "npm", ["install", `git+file://${clone}`, ...NPM_FLAGS]);
    const help = detml(app, ["--help"]);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain("detml convert");
  });
});
