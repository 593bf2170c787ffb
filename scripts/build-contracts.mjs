/**
 * Compiles contracts/*.sol with the solc-js pinned in package.json (a devDependency) and writes
 * contracts/build/artifacts.json: per contract its ABI, creation bytecode, runtime bytecode and
 * the keccak of the runtime bytecode. The compiler settings below are part of the protocol: the
 * EVM version is pinned to the hardfork the chains run (osaka), and test/contracts/pinned.test.ts
 * fails when a contract's runtime bytecode changes without contracts/pinned.json changing.
 * Run by `npm run build`; a published detml ships the artifacts, so users never need solc.
 * `--check` compiles and compares with contracts/pinned.json without writing anything;
 * `--pin` rewrites contracts/pinned.json from the compiled bytecode. A build whose sources,
 * settings and compiler are those of the last one (a hash kept in the artifacts) is skipped.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const sourcesDir = join(root, "contracts");
const buildDir = join(sourcesDir, "build");
const pinnedFile = join(sourcesDir, "pinned.json");

export const SETTINGS = {
  evmVersion: "osaka",
  optimizer: { enabled: true, runs: 200 },
  viaIR: true,
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};

export function compileAll(useCache = false) {
  const require = createRequire(import.meta.url);
  let solc;
  try {
    solc = require("solc");
  } catch {
    throw new Error("solc is not installed: run `npm ci` in the detml checkout (solc is a devDependency used only to build the contracts)");
  }
  const sources = {};
  const files = existsSync(sourcesDir) ? readdirSync(sourcesDir).filter((f) => f.endsWith(".sol")).sort() : [];
  for (const f of files) {
    sources[f] = { content: readFileSync(join(sourcesDir, f), "utf8") };
  }
  if (files.length === 0) return { key: "none", compiler: solc.version(), settings: {}, contracts: {} };
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const { keccak_256 } = require("@noble/hashes/sha3.js");
  const key = Buffer.from(keccak_256(Buffer.from(JSON.stringify([solc.version(), input])))).toString("hex");
  if (useCache) {
    try {
      const previous = JSON.parse(readFileSync(join(buildDir, "artifacts.json"), "utf8"));
      if (previous.key === key) return previous;
    } catch { /* no previous build */ }
  }
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (out.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join("\n")}`);
  const contracts = {};
  for (const [file, byName] of Object.entries(out.contracts ?? {})) {
    for (const [name, c] of Object.entries(byName)) {
      const runtime = c.evm.deployedBytecode.object;
      if (runtime.length === 0) continue; // interfaces and abstract contracts
      contracts[name] = {
        source: `contracts/${file}`,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${runtime}`,
        runtimeBytes: runtime.length / 2,
        runtimeHash: `0x${Buffer.from(keccak_256(Buffer.from(runtime, "hex"))).toString("hex")}`,
      };
    }
  }
  return { key, compiler: solc.version(), settings: { evmVersion: SETTINGS.evmVersion, optimizer: SETTINGS.optimizer, viaIR: SETTINGS.viaIR }, contracts };
}

function pins(build) {
  return Object.fromEntries(Object.entries(build.contracts).map(([n, c]) => [n, c.runtimeHash]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const build = compileAll(!process.argv.includes("--check") && !process.argv.includes("--pin"));
    if (process.argv.includes("--pin")) {
      writeFileSync(pinnedFile, `${JSON.stringify({ compiler: build.compiler, evmVersion: SETTINGS.evmVersion, runtimeHashes: pins(build) }, null, 2)}\n`);
      process.stdout.write(`pinned ${Object.keys(build.contracts).length} contracts in contracts/pinned.json\n`);
    }
    if (!process.argv.includes("--check")) {
      mkdirSync(buildDir, { recursive: true });
      writeFileSync(join(buildDir, "artifacts.json"), JSON.stringify(build));
    }
    const maxName = Math.max(0, ...Object.keys(build.contracts).map((n) => n.length));
    for (const [n, c] of Object.entries(build.contracts)) process.stdout.write(`  ${n.padEnd(maxName)}  ${String(c.runtimeBytes).padStart(6)} bytes\n`);
  } catch (e) {
    process.stderr.write(`build-contracts: ${e.message}\n`);
    process.exit(1);
  }
}
