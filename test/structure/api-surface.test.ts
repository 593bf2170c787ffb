/**
 * The public API surface: every runtime name the package entry (index.ts, what `import ... from
 * "detml"` gives) exports, flat and inside each namespace (`vm.Session`, `ops.relu`), with its
 * kind, sorted, one per line, compared with the committed test/structure/api-surface.txt. Adding,
 * removing or renaming an export fails here until that file is regenerated on purpose, so a
 * change of the API is visible in review:
 *
 *   UPDATE_API=1 npx vitest run test/structure/api-surface.test.ts
 *
 * (Types are erased at run time and are not listed; the namespaces' index files hold them.)
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as detml from "../../index.js";

const SURFACE_FILE = join(dirname(fileURLToPath(import.meta.url)), "api-surface.txt");

function isNamespace(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && Object.prototype.toString.call(v) === "[object Module]";
}

/** "name: kind" for every export, namespaces expanded as "ns.name: kind". */
function surface(module: Record<string, unknown>, prefix = ""): string[] {
  return Object.keys(module).flatMap((name) => {
    const value = module[name];
    return isNamespace(value) ? [`${prefix}${name}: namespace`, ...surface(value, `${prefix}${name}.`)] : [`${prefix}${name}: ${typeof value}`];
  });
}

describe("the public API surface", () => {
  const current = surface(detml as Record<string, unknown>).sort();

  it("matches test/structure/api-surface.txt (regenerate: UPDATE_API=1 npx vitest run test/structure/api-surface.test.ts)", () => {
    if (process.env.UPDATE_API) writeFileSync(SURFACE_FILE, `${current.join("\n")}\n`);
    expect(existsSync(SURFACE_FILE), "test/structure/api-surface.txt is missing: run with UPDATE_API=1").toBe(true);
    const committed = readFileSync(SURFACE_FILE, "utf8").split("\n").filter((l) => l !== "");
    expect({ added: current.filter((l) => !committed.includes(l)), removed: committed.filter((l) => !current.includes(l)) }).toEqual({ added: [], removed: [] });
  });

  it("keeps the internals out of the package root", () => {
    const root = Object.keys(detml);
    for (const internal of ["roundShiftBig", "narrowBig", "divRoundBig", "broadcastIndex", "EXACT_LIMIT", "prepareInputs", "splitBatch", "readFileOrFail"]) {
      expect(root, internal).not.toContain(internal);
    }
  });
});
