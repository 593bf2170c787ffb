/**
 * The layering of the source tree as one table (LAYERS), checked over the import graph: every
 * .ts file under the source folders (tsconfig.test.json's, except test/) belongs to the first
 * layer whose paths match it; each of its imports (static, `import type`, re-exports, dynamic
 * `import()`) is resolved to a file, and an import into a layer that is neither the file's own
 * nor in its `may` list fails. The table encodes DESIGN.md's arrows: lib/tensor <- lib/ops <-
 * lib/graph <- {executor, converter, compiler}; the VM imports nothing outside vm/ (and no
 * package); the VM's spec layer vm/spec/ (encoding, hashes, commitments, ALU, limits, verifier,
 * I/O rules) imports nothing outside itself; chain/ (the only importer of viem and @ethereumjs)
 * sits above dispute/ and compiler/ (it deploys compiled EVM models and runs their precompiles); the compiler imports neither runtime
 * (runtime-wasm/ nor the VM's JS WebAssembly host); nothing imports bin/ (test/ may import
 * anything and is not scanned). KNOWN_VIOLATIONS lists the imports that break the table today,
 * waiting for a fix elsewhere; an entry that no longer breaks it fails too, so the list shrinks.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The source folders: what tsconfig.test.json type-checks, except test/ (which may import anything). */
const SOURCES = (JSON.parse(readFileSync(join(ROOT, "tsconfig.test.json"), "utf8")) as { include: string[] }).include.filter((p) => p !== "test");

/** The VM's specification (vm/spec/): what a verifier contract mirrors. It must not depend on how the VM runs, nor on anything else. */
const VM_SPEC = ["vm/spec/"];
/** The VM's execution: the machine, its interpreter and JIT, sessions, proving, tracing, the JS WebAssembly host (and the barrel). */
const VM_EXEC = ["machine", "interpreter", "jit", "jit-ops", "jit-plan", "session", "prove", "trace", "fast", "wasm-host", "index"].map((f) => `vm/${f}.ts`);

interface Layer {
  name: string;
  /** Files (exact) or folders (ending in "/") of the layer; the first matching layer wins. */
  paths: string[];
  /** Layers it may import besides its own. */
  may: string[];
  /** Whether it may import npm packages and node: builtins. */
  packages: boolean;
}

const LAYERS: Layer[] = [
  { name: "tensor", paths: ["lib/tensor/"], may: [], packages: true },
  { name: "ops", paths: ["lib/ops/"], may: ["tensor"], packages: true },
  { name: "graph", paths: ["lib/graph/"], may: ["tensor", "ops"], packages: true },
  { name: "executor", paths: ["lib/executor.ts", "lib/inputs.ts", "lib/batch.ts", "lib/model-files.ts", "lib/index.ts"], may: ["tensor", "ops", "graph"], packages: true },
  { name: "float-oracle", paths: ["lib/verify/"], may: ["tensor", "ops", "graph", "executor"], packages: true },
  { name: "vm-spec", paths: VM_SPEC, may: [], packages: false },
  { name: "vm-exec", paths: VM_EXEC, may: ["vm-spec", "vm-support"], packages: false },
  { name: "vm-support", paths: ["vm/"], may: ["vm-spec"], packages: false },
  { name: "abi", paths: ["abi/"], may: ["tensor", "executor", "vm-spec", "vm-support"], packages: true },
  { name: "converter", paths: ["converter/"], may: ["tensor", "ops", "graph", "executor", "float-oracle"], packages: true },
  { name: "compiler", paths: ["compiler/"], may: ["tensor", "ops", "graph", "executor", "abi", "vm-spec", "vm-support"], packages: true },
  { name: "runtime", paths: ["runtime-wasm/"], may: ["tensor", "executor", "abi", "vm-spec", "vm-support", "vm-exec"], packages: true },
  { name: "dispute", paths: ["dispute/"], may: ["vm-spec", "vm-support", "vm-exec"], packages: true },
  { name: "chain", paths: ["chain/"], may: ["vm-spec", "vm-support", "vm-exec", "dispute", "compiler"], packages: true },
  { name: "verify", paths: ["verify/"], may: ["tensor", "ops", "graph", "executor", "float-oracle", "abi", "compiler", "runtime", "vm-spec", "vm-support", "vm-exec", "chain"], packages: true },
  { name: "api", paths: ["index.ts"], may: ["tensor", "ops", "graph", "executor", "float-oracle", "vm-spec", "vm-support", "vm-exec", "abi", "converter", "compiler", "runtime", "dispute", "verify"], packages: true },
  { name: "examples", paths: ["examples/", "bench/"], may: ["tensor", "ops", "graph", "executor", "float-oracle", "vm-spec", "vm-support", "vm-exec", "abi", "converter", "compiler", "runtime", "dispute", "chain", "verify", "api"], packages: true },
  { name: "bin", paths: ["bin/"], may: ["tensor", "ops", "graph", "executor", "float-oracle", "vm-spec", "vm-support", "vm-exec", "abi", "converter", "compiler", "runtime", "dispute", "chain", "verify"], packages: true },
];

/** Packages only one layer may import (DESIGN.md: the compiler is the only importer of binaryen; the chain libraries stay in chain/). */
const PACKAGE_OWNERS: Record<string, string> = { binaryen: "compiler", viem: "chain", "@ethereumjs/vm": "chain", "@ethereumjs/common": "chain", "@ethereumjs/tx": "chain", "@ethereumjs/util": "chain", "@ethereumjs/block": "chain" };

/** "from -> to": imports that break the table today, each waiting for a fix in the file named first. */
const KNOWN_VIOLATIONS: string[] = [];

function layerOf(file: string): Layer | undefined {
  return LAYERS.find((l) => l.paths.some((p) => (p.endsWith("/") ? file.startsWith(p) : file === p)));
}

function sourceFiles(path: string): string[] {
  const full = join(ROOT, path);
  let stat;
  try {
    stat = statSync(full);
  } catch {
    return [];
  }
  if (!stat.isDirectory()) return path.endsWith(".ts") && !path.endsWith(".d.ts") ? [path] : [];
  return readdirSync(full).flatMap((f) => sourceFiles(join(path, f)));
}

/** Every module specifier a file imports: static imports and re-exports (type-only included), bare imports, dynamic import(). */
function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  const specs: string[] = [];
  for (const m of code.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/gm)) specs.push(m[1]);
  for (const m of code.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) specs.push(m[1]);
  for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) specs.push(m[1]);
  return specs;
}

interface Edge {
  from: string;
  to: string;
}

function importGraph(): { files: string[]; local: Edge[]; packages: Edge[] } {
  const files = SOURCES.flatMap(sourceFiles).map((f) => f.split("\\").join("/"));
  const local: Edge[] = [];
  const packages: Edge[] = [];
  for (const from of files) {
    for (const spec of importsOf(readFileSync(join(ROOT, from), "utf8"))) {
      if (spec.startsWith(".")) local.push({ from, to: normalize(join(dirname(from), spec)).split("\\").join("/").replace(/\.js$/, ".ts") });
      else packages.push({ from, to: spec.startsWith("node:") ? "node:" : spec.split("/").slice(0, spec.startsWith("@") ? 2 : 1).join("/") });
    }
  }
  return { files, local, packages };
}

function violations(): string[] {
  const { local, packages } = importGraph();
  const found: string[] = [];
  for (const { from, to } of local) {
    const a = layerOf(from)!;
    const b = layerOf(to);
    if (!b) found.push(`${from} -> ${to} (outside every layer${to.startsWith("bin/") ? "" : ", or not a source file"})`);
    else if (b !== a && !a.may.includes(b.name)) found.push(`${from} -> ${to}`);
  }
  for (const { from, to } of packages) {
    const a = layerOf(from)!;
    if (!a.packages) found.push(`${from} -> package ${to}`);
    else if (PACKAGE_OWNERS[to] !== undefined && PACKAGE_OWNERS[to] !== a.name) found.push(`${from} -> package ${to} (only ${PACKAGE_OWNERS[to]} may)`);
  }
  return [...new Set(found)].sort();
}

describe("the layers of the source tree", () => {
  it("assigns every source file to a layer", () => {
    const { files } = importGraph();
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((f) => !layerOf(f))).toEqual([]);
  });

  it("has a table whose 'may' lists name layers and never bin", () => {
    const names = new Set(LAYERS.map((l) => l.name));
    for (const l of LAYERS) {
      for (const m of l.may) expect(names.has(m), `${l.name} may ${m}`).toBe(true);
      expect(l.may, l.name).not.toContain("bin");
    }
  });

  it("has no import against the table, apart from the known violations", () => {
    const found = violations();
    expect(found.filter((v) => !KNOWN_VIOLATIONS.includes(v)), "imports against the layers").toEqual([]);
    expect(KNOWN_VIOLATIONS.filter((v) => !found.includes(v)), "known violations that are fixed now: remove them from KNOWN_VIOLATIONS").toEqual([]);
  });

  it("parses every kind of import statement", () => {
    const src = [
      'import { a } from "./a.js";',
      'import type { B } from "../b.js";',
      "export { c } from './c.js';",
      'export * as d from "./d.js";',
      'import "./side.js";',
      'const e = await import("./e.js");',
      'import {\n  f,\n  g,\n} from "./fg.js";',
      '// import { no } from "./comment.js";',
      'const s = "from \\"./string.js\\"";',
    ].join("\n");
    expect(importsOf(src).sort()).toEqual(["../b.js", "./a.js", "./c.js", "./d.js", "./e.js", "./fg.js", "./side.js"]);
  });
});
