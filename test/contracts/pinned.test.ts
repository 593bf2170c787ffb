/**
 * The contracts' runtime bytecode is part of the protocol: contracts/pinned.json (written by
 * `node scripts/build-contracts.mjs --pin`) records the keccak of every contract's runtime code and
 * the compiler that made it. This test compiles contracts/*.sol (the build script's cached build)
 * and fails when any contract's runtime hash differs from its pin, when a contract is missing from
 * the pins or a pin names no contract, or when a runtime exceeds the EIP-170 code size limit of
 * 24,576 bytes (Osaka keeps it), so a change to the bytecode is always a visible change to the pins.
 */
import { readFileSync } from "node:fs";
import { beforeAll, expect, test } from "vitest";
import { keccak256, toHex } from "../../vm/index.js";
import { hexBytes, loadContracts, type ContractBuild } from "./evm-harness.js";

const RUNTIME_SIZE_LIMIT = 24_576;
const REPIN = "after reviewing the change, run `node scripts/build-contracts.mjs --pin`";

interface Pins {
  compiler: string;
  evmVersion: string;
  runtimeHashes: Record<string, string>;
}

let build: ContractBuild;
let pins: Pins;

// Compiling takes ~15 s when the sources changed since the last build (`npm run build` caches it).
beforeAll(async () => {
  build = await loadContracts();
  pins = JSON.parse(readFileSync("contracts/pinned.json", "utf8")) as Pins;
}, 120_000);

test("the pins name exactly the compiled contracts, with the same compiler and EVM version", () => {
  expect(Object.keys(pins.runtimeHashes).sort(), REPIN).toEqual(Object.keys(build.contracts).sort());
  expect(pins.compiler, REPIN).toBe(build.compiler);
  expect(pins.evmVersion).toBe("osaka");
});

test("every contract's runtime bytecode hashes to its pin", () => {
  expect(Object.keys(build.contracts).length).toBeGreaterThan(0);
  for (const [name, c] of Object.entries(build.contracts)) {
    expect(toHex(keccak256(hexBytes(c.deployedBytecode))), `${name}: the artifact's runtimeHash`).toBe(c.runtimeHash);
    expect(c.runtimeHash, `${name}'s runtime bytecode changed; ${REPIN}`).toBe(pins.runtimeHashes[name]);
  }
});

test(`every contract's runtime fits the ${RUNTIME_SIZE_LIMIT}-byte code size limit`, () => {
  for (const [name, c] of Object.entries(build.contracts)) {
    expect(hexBytes(c.deployedBytecode).length, name).toBe(c.runtimeBytes);
    expect(c.runtimeBytes, name).toBeLessThanOrEqual(RUNTIME_SIZE_LIMIT);
  }
});
