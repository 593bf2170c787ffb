/**
 * The long differential run of the on-chain one-step verifier: more than 10,000 real step proofs
 * drawn from several sources (the numeric, memory, quicksort and large-frame test programs, the
 * MLP and LeNet fixtures), spread evenly over each run's steps, go through both the StepVerifier
 * contract (test/contracts/evm-harness.ts, an in-process Osaka EVM) and vm/spec/verifier.ts, which
 * must both reach the prover's post-state; every 25th proof also gets mutated copies (a flipped
 * byte, a cut, an extra word, swapped words) that both must reject. It prints the transaction-
 * equivalent gas (21,000 + calldata per EIP-7623 + execution) per instruction class, median and
 * max, and writes them to bench/step-gas-results.json in the style of the other bench results.
 * Run with `npm run test:long` (scripts/long-suite.sh), not in the default suite.
 */
import { writeFileSync } from "node:fs";
import { expect, test } from "vitest";
import { instructionClass, proofBytes, Session, toHex, type InstructionClass, type StepProof } from "../../vm/index.js";
import { UNBOUNDED, wat } from "../vm/helpers.js";
import { frameProgram, I32_VALUES, I64_VALUES, memoryProgram, numericProgram, sortInput, sortProgram } from "../vm/programs.js";
import { loadFixture } from "../dispute/fixtures.js";
import { loadContracts, mutations, StepVerifierRunner } from "../contracts/evm-harness.js";

const GAS_TARGET = 150_000n;
const TX_GAS_CAP = 1n << 24n; // EIP-7825
const MUTATE_EVERY = 25;
const MUTATIONS_PER_PROOF = 4;

interface Source {
  name: string;
  session: () => Session;
  proofs: number;
  /** Proofs spread over the first and the last segment too (load_inputs and store_outputs: the I/O). */
  edgeProofs?: number;
}

const SOURCES: Source[] = [
  { name: "numeric i32", session: () => new Session(wat(numericProgram("i32", I32_VALUES)), new Uint8Array(0), UNBOUNDED), proofs: 2500 },
  { name: "numeric i64", session: () => new Session(wat(numericProgram("i64", I64_VALUES)), new Uint8Array(0), UNBOUNDED), proofs: 2500 },
  { name: "loads and stores", session: () => new Session(wat(memoryProgram()), new Uint8Array(0), UNBOUNDED), proofs: 800 },
  { name: "quicksort", session: () => new Session(wat(sortProgram(40)), sortInput(40, 11), UNBOUNDED), proofs: 1500, edgeProofs: 200 },
  { name: "large frames", session: () => new Session(wat(frameProgram(200, 16, 12)), new Uint8Array(32).fill(3), UNBOUNDED), proofs: 800 },
  { name: "mlp", session: () => sessionOf("mlp"), proofs: 1500, edgeProofs: 300 },
  { name: "mnist_lenet", session: () => sessionOf("lenet"), proofs: 2000, edgeProofs: 500 },
];

function sessionOf(fixture: "mlp" | "lenet"): Session {
  const { wasm, input } = loadFixture(fixture).fixture;
  return new Session(wasm, input, { snapshotEvery: 1 << 14 });
}

/** A small deterministic generator (xorshift32) for the steps and mutations picked. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

/** `count` proofs at steps spread over the whole run (one per stratum, jittered), in run order. */
function* spreadProofs(s: Session, count: number, next: () => number): Generator<StepProof> {
  const total = s.segmentSteps().reduce((a, b) => a + b, 0);
  const n = Math.min(count, total);
  for (let i = 0; i < n; i++) {
    const { segment, step } = s.locate(Math.min(total - 1, Math.floor(((i + next()) * total) / n)));
    yield s.prove(segment, step);
  }
}

/** `count` proofs spread over each of the first and the last segment. */
function* edgeProofs(s: Session, count: number): Generator<StepProof> {
  for (const k of [0, s.segmentCount - 1]) {
    const steps = s.segmentSteps()[k];
    const n = Math.min(count, steps);
    for (let i = 0; i < n; i++) yield s.prove(k, Math.floor((i * steps) / n));
  }
}

interface Figures {
  tx: bigint[];
  exec: bigint[];
  bytes: number[];
}

const median = (v: readonly bigint[]): bigint => [...v].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[v.length >> 1];
const max = <T extends bigint | number>(v: readonly T[]): T => v.reduce((m, x) => (x > m ? x : m));

test("10,000+ real proofs and their mutations: the contract and the reference agree; gas per class", async () => {
  const runner = await StepVerifierRunner.create(await loadContracts());
  const byClass = new Map<InstructionClass, Figures>();
  const bySource: Record<string, unknown>[] = [];
  let proofs = 0, mutated = 0;
  const started = Date.now();
  for (const [index, source] of SOURCES.entries()) {
    const next = random(0x5eed + index);
    const s = source.session();
    let count = 0;
    const picked = function* () {
      yield* spreadProofs(s, source.proofs, next);
      if (source.edgeProofs) yield* edgeProofs(s, source.edgeProofs);
    };
    for (const p of picked()) {
      const bytes = proofBytes(p);
      const where = `${source.name}: segment ${p.segment} step ${p.step} op 0x${p.instruction.op.toString(16)}`;
      const r = await runner.compare(p.preHash, bytes);
      expect(r.agree, `${where}: ${JSON.stringify(r.reference)} vs ${r.contract.post ?? r.contract.reject}`).toBe(true);
      expect(r.contract.post, where).toBe(toHex(p.postHash));
      const cls = instructionClass(bytes);
      const f = byClass.get(cls) ?? { tx: [], exec: [], bytes: [] };
      f.tx.push(r.contract.txGas);
      f.exec.push(r.contract.executionGas);
      f.bytes.push(bytes.length);
      byClass.set(cls, f);
      expect(r.contract.txGas, where).toBeLessThan(GAS_TARGET);
      if (count % MUTATE_EVERY === 0) {
        const all = mutations(bytes);
        for (let m = 0; m < MUTATIONS_PER_PROOF; m++) {
          const pick = all[Math.floor(next() * all.length)];
          const v = await runner.compare(p.preHash, pick.proof);
          expect(v.agree && v.contract.post === undefined, `${where}: ${pick.name}: ${JSON.stringify(v.reference)} vs ${v.contract.post ?? v.contract.reject}`).toBe(true);
          mutated++;
        }
      }
      count++;
    }
    proofs += count;
    bySource.push({ source: source.name, proofs: count, steps: s.segmentSteps().reduce((a, b) => a + b, 0) });
  }
  expect(proofs).toBeGreaterThanOrEqual(10_000);
  expect([...byClass.keys()].sort()).toEqual(["alu", "call/return", "control", "io", "load", "local", "store"]);

  const classes = [...byClass].sort(([a], [b]) => a.localeCompare(b)).map(([cls, f]) => ({
    class: cls, proofs: f.tx.length,
    tx_gas_median: Number(median(f.tx)), tx_gas_max: Number(max(f.tx)),
    execution_gas_median: Number(median(f.exec)), execution_gas_max: Number(max(f.exec)),
    proof_bytes_max: max(f.bytes),
  }));
  for (const c of classes) expect(BigInt(c.tx_gas_max)).toBeLessThan(TX_GAS_CAP);
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`StepVerifier: ${proofs} proofs and ${mutated} mutations agree (${seconds.toFixed(1)} s). Transaction gas (execution gas) by class:\n`);
  for (const c of classes) {
    process.stdout.write(`  ${c.class.padEnd(12)} n=${String(c.proofs).padStart(5)}  median ${c.tx_gas_median} (${c.execution_gas_median})  max ${c.tx_gas_max} (${c.execution_gas_max})  proof <= ${c.proof_bytes_max} bytes\n`);
  }
  writeFileSync("bench/step-gas-results.json", `${JSON.stringify({
    node: process.version, date: new Date().toISOString(), hardfork: "osaka",
    gas: "transaction-equivalent: 21000 + max(4 * tokens + execution, 10 * tokens), tokens = zero bytes + 4 * nonzero bytes of the calldata",
    proofs, mutations: mutated, seconds, sources: bySource, results: classes,
  }, null, 1)}\n`);
}, 30 * 60_000);
