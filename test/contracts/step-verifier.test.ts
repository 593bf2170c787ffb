/**
 * Differential tests of the on-chain one-step verifier: every proof goes through both the
 * StepVerifier contract (in the in-process Osaka EVM of evm-harness.ts) and the reference
 * vm/spec/verifier.ts, and the two must give the same verdict, the same post-state hash or both a
 * rejection. Real proofs come from VM sessions over the test programs (every numeric instruction,
 * every load and store width at straddling addresses, control flow, calls, I/O), sampled per
 * opcode, and steps spread over the MLP fixture's run; then every trap status, stopped states,
 * mutated proofs, crafted pre-states at the edges of the protocol v2 ranges, crafted instructions
 * no decoder emits, and the golden vectors of test/vm/golden. The transaction-equivalent gas of
 * every accepted real proof must stay under 150k. The long run is test/long/step-verifier.long.ts.
 */
import { existsSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, test } from "vitest";
import { fromHex, instructionClass, keccak256, proofBytes, Session, STATE_FIELDS, stateHash, Status, toHex, type InstructionClass, type StateFields, type StepProof } from "../../vm/index.js";
import { module, wat, UNBOUNDED } from "../vm/helpers.js";
import { I32_VALUES, I64_VALUES, memoryProgram, numericProgram, sortInput, sortProgram } from "../vm/programs.js";
import { loadFixture } from "../dispute/fixtures.js";
import {
  craftPreState, loadContracts, mutations, preStateHashOf, StepVerifierRunner,
} from "./evm-harness.js";

const GAS_TARGET = 150_000n;

let runner: StepVerifierRunner;
const gasByClass = new Map<InstructionClass, bigint[]>();

// Compiling takes ~15 s when the sources changed since the last build (`npm run build` caches it).
beforeAll(async () => {
  runner = await StepVerifierRunner.create(await loadContracts());
}, 120_000);

/** Both verifiers on a proof; fails with both verdicts when they disagree. Returns the contract's. */
async function agree(preStateHash: Uint8Array, proof: Uint8Array, label: string) {
  const r = await runner.compare(preStateHash, proof);
  expect(r.agree, `${label}: reference ${JSON.stringify(r.reference)}, contract ${JSON.stringify({ ...r.contract, executionGas: undefined, txGas: undefined })}`).toBe(true);
  return r;
}

/** A real step proof: both verifiers reach the prover's post-state; records the gas by class. */
async function agreeOnRealProof(p: StepProof, label: string): Promise<void> {
  const bytes = proofBytes(p);
  const r = await agree(p.preHash, bytes, label);
  expect(r.contract.post, label).toBe(toHex(p.postHash));
  const cls = instructionClass(bytes);
  gasByClass.set(cls, [...(gasByClass.get(cls) ?? []), r.contract.txGas]);
}

/** Proofs of every step of a session's segments, keeping the first `perOp` of each opcode. */
function sampleByOpcode(s: Session, perOp: number): StepProof[] {
  const seen = new Map<number, number>();
  const kept: StepProof[] = [];
  for (let k = 0; k < s.segmentCount; k++) {
    const steps = s.traceSegment(k).steps;
    for (let i = 0; i < steps; i++) {
      const p = s.prove(k, i);
      const n = seen.get(p.instruction.op) ?? 0;
      if (n >= perOp) continue;
      seen.set(p.instruction.op, n + 1);
      kept.push(p);
    }
  }
  return kept;
}

/** The 18 words of a state as a proof of that state alone (a stopped state's whole proof). */
function stateProof(fields: StateFields): Uint8Array {
  const out = new Uint8Array(32 * STATE_FIELDS.length);
  STATE_FIELDS.forEach((k, i) => {
    const v = fields[k];
    if (v instanceof Uint8Array) out.set(v, i * 32);
    else new DataView(out.buffer).setBigUint64(i * 32 + 24, BigInt(v));
  });
  return out;
}

const label = (p: StepProof) => `segment ${p.segment} step ${p.step} op 0x${p.instruction.op.toString(16)}`;

describe("real proofs: the contract reaches the reference's post-state", () => {
  test("every i32 and i64 numeric instruction", async () => {
    // Operands with no symmetry a wrong rotation, shift or sign could hide behind (not 0 or -1).
    const few = (v: readonly string[]) => v.filter((_, i) => [8, 10, 11].includes(i));
    for (const t of ["i32", "i64"] as const) {
      const proofs = sampleByOpcode(new Session(wat(numericProgram(t, few(t === "i32" ? I32_VALUES : I64_VALUES))), new Uint8Array(0), UNBOUNDED), 9);
      expect(proofs.filter((p) => instructionClass(proofBytes(p)) === "alu").length).toBeGreaterThan(250);
      for (const p of proofs) await agreeOnRealProof(p, `${t}: ${label(p)}`);
    }
  });

  test("every load and store width at aligned, unaligned and leaf-straddling addresses", async () => {
    const proofs = sampleByOpcode(new Session(wat(memoryProgram()), new Uint8Array(0), UNBOUNDED), 10);
    const memory = proofs.filter((p) => p.instruction.op >= 0x28 && p.instruction.op <= 0x3e);
    expect(new Set(memory.map((p) => p.instruction.op)).size).toBe(19);
    for (const p of proofs) await agreeOnRealProof(p, label(p));
  });

  test("control flow, calls, returns, locals and I/O (the quicksort program)", async () => {
    const proofs = sampleByOpcode(new Session(wat(sortProgram(9)), sortInput(9, 7), UNBOUNDED), 12);
    const classes = new Set(proofs.map((p) => instructionClass(proofBytes(p))));
    for (const c of ["local", "control", "call/return", "io"] as const) expect(classes).toContain(c);
    for (const p of proofs) await agreeOnRealProof(p, label(p));
  });

  test("the MLP fixture (a compiled model)", async () => {
    const { fixture } = loadFixture("mlp");
    const s = new Session(fixture.wasm, fixture.input);
    // Steps spread over the whole run (proving all 21,000 would take seconds), plus the first
    // steps of load_inputs and store_outputs, where the I/O is.
    const total = s.segmentSteps().reduce((a, b) => a + b, 0);
    const proofs: StepProof[] = [];
    for (let i = 0; i < 80; i++) {
      const { segment, step } = s.locate(Math.floor(((i + 0.5) * total) / 80));
      proofs.push(s.prove(segment, step));
    }
    for (const k of [0, s.segmentCount - 1]) for (let i = 0; i < Math.min(30, s.segmentSteps()[k]); i++) proofs.push(s.prove(k, i));
    const classes = new Set(proofs.map((p) => instructionClass(proofBytes(p))));
    for (const c of ["alu", "load", "local", "io"] as const) expect(classes).toContain(c);
    for (const p of proofs) await agreeOnRealProof(p, `mlp: ${label(p)}`);
  });
});

const run = (body: string, extra = "") => module(`${extra} (func (export "run") ${body})`);
const manyLocals = Array.from({ length: 100 }, () => "(local i64)").join(" ");
const TRAPS: [string, string, number, Uint8Array?][] = [
  ["unreachable", run("(unreachable)"), Status.UNREACHABLE],
  ["i32.div_u by zero", run("(drop (i32.div_u (i32.const 7) (i32.const 0)))"), Status.DIV_ZERO],
  ["i64.rem_s by zero", run("(drop (i64.rem_s (i64.const 7) (i64.const 0)))"), Status.DIV_ZERO],
  ["i32.div_s overflow", run("(drop (i32.div_s (i32.const -2147483648) (i32.const -1)))"), Status.INT_OVERFLOW],
  ["i64.div_s overflow", run("(drop (i64.div_s (i64.const -9223372036854775808) (i64.const -1)))"), Status.INT_OVERFLOW],
  ["i64 load straddling the end", run("(drop (i64.load offset=1 (i32.const 65528)))"), Status.OUT_OF_BOUNDS],
  ["store with a huge offset", run("(i32.store8 offset=4294967295 (i32.const 1) (i32.const 1))"), Status.OUT_OF_BOUNDS],
  ["call stack exhausted", run("(call $down)", "(func $down (call $down))"), Status.CALL_DEPTH],
  ["value stack overflow", run("(call $deep)", `(func $deep ${manyLocals} (call $deep))`), Status.STACK_OVERFLOW],
  ["read_input past the input", run("(call $read_input (i32.const 1) (i32.const 64))"), Status.BAD_HOST_CALL, new Uint8Array(32)],
  ["write_output from a misaligned address", run("(call $write_output (i32.const 3))"), Status.BAD_HOST_CALL],
];

describe("traps and stopped states", () => {
  for (const [name, text, status, input] of TRAPS) {
    test(`${name}: the trapping step, then the trapped state`, async () => {
      const s = new Session(wat(text), input ?? new Uint8Array(0), UNBOUNDED);
      const trace = s.traceSegment(0);
      expect(trace.status).toBe(status);
      const p = s.prove(0, trace.steps - 1);
      expect(p.post.status).toBe(status);
      await agreeOnRealProof(p, name);
      const final = s.stateAt(0, trace.steps);
      const r = await agree(final.hash, stateProof(final.fields), `${name} (trapped state)`);
      expect(r.contract.post).toBe(toHex(final.hash));
    });
  }

  test("step budget exhausted (a tiny --step-budget), then the halted state of a full run", async () => {
    const bytes = wat(run("(drop (i32.add (i32.const 1) (i32.const 2)))"));
    const limited = new Session(bytes, new Uint8Array(0), { ...UNBOUNDED, stepBudget: 3 });
    const trace = limited.traceSegment(0);
    expect(trace.status).toBe(Status.STEP_LIMIT);
    const p = limited.prove(0, trace.steps - 1);
    expect(proofBytes(p).length).toBe(32 * STATE_FIELDS.length);
    await agreeOnRealProof(p, "step limit");
    const full = new Session(bytes, new Uint8Array(0), UNBOUNDED);
    const halted = full.stateAt(0, full.traceSegment(0).steps);
    expect(halted.fields.status).toBe(Status.HALTED);
    expect((await agree(halted.hash, stateProof(halted.fields), "halted")).contract.post).toBe(toHex(halted.hash));
  });
});

describe("mutated proofs and crafted pre-states: same verdicts", () => {
  /** One real proof per instruction class, from the sort program (it has all of them). */
  let byClass: Map<InstructionClass, StepProof>;
  beforeAll(() => {
    byClass = new Map();
    for (const p of sampleByOpcode(new Session(wat(sortProgram(5)), sortInput(5, 3), UNBOUNDED), 2)) {
      const cls = instructionClass(proofBytes(p));
      const known = byClass.get(cls);
      // Prefer the longest proof of a class: a straddling store, a return with a result.
      if (!known || proofBytes(p).length > proofBytes(known).length) byClass.set(cls, p);
    }
  });

  test("a flipped byte in every word, truncations, an extra word, swapped words: both reject", async () => {
    expect([...byClass.keys()].sort()).toEqual(["alu", "call/return", "control", "io", "load", "local", "store"]);
    for (const [cls, p] of byClass) {
      for (const m of mutations(proofBytes(p))) {
        const r = await agree(p.preHash, m.proof, `${cls} ${label(p)}: ${m.name}`);
        expect(r.contract.post, `${cls}: ${m.name} accepted`).toBeUndefined();
      }
    }
  });

  test("numeric pre-state fields of 2^64 or more, statuses past 9, bad memory sizes: both reject", async () => {
    const p = byClass.get("alu")!;
    const numeric = ["codeSize", "memoryBytes", "stepBudget", "inputChunks", "outputChunks", "segment", "step", "status", "pc", "stackHeight", "callDepth"] as const;
    for (const field of numeric) {
      for (const v of [1n << 64n, (1n << 256n) - 1n]) {
        const c = craftPreState(proofBytes(p), { [field]: v });
        expect((await agree(c.preStateHash, c.proof, `${field} = ${v}`)).contract.reject).toBe("FieldOutOfRange");
      }
    }
    for (const status of [10n, (1n << 64n) - 1n]) {
      const c = craftPreState(proofBytes(p), { status }, 18);
      expect((await agree(c.preStateHash, c.proof, `status ${status}`)).contract.reject).toBe("FieldOutOfRange");
    }
    for (const memoryBytes of [65_536n + 1n, 65_536n + 16n, (1n << 32n) + 32n]) {
      const c = craftPreState(proofBytes(p), { memoryBytes });
      expect((await agree(c.preStateHash, c.proof, `memoryBytes = ${memoryBytes}`)).contract.reject).toBe("FieldOutOfRange");
    }
  });

  test("counts up to 2^64 - 1 are exact: step limit at 2^64 - 1, stopped states, a 4 GiB memory size", async () => {
    const p = byClass.get("alu")!;
    const max = (1n << 64n) - 1n;
    const cases: [string, ReturnType<typeof craftPreState>][] = [
      ["step limit at step 2^64 - 1", craftPreState(proofBytes(p), { step: max, stepBudget: max }, 18)],
      ["a stopped state (status 9) with pc and call depth 2^64 - 1", craftPreState(proofBytes(p), { status: 9n, pc: max, callDepth: max }, 18)],
      ["a push at stack height 2^64 - 2 and step 2^63", craftPreState(proofBytes(p), { stackHeight: max - 1n, step: 1n << 63n, stepBudget: max })],
      ["memoryBytes 2^32 (the proof's memory depth changes nothing here)", craftPreState(proofBytes(p), { memoryBytes: 1n << 32n })],
    ];
    for (const [name, c] of cases) expect((await agree(c.preStateHash, c.proof, name)).contract.post, name).toBeDefined();
  });

  test("a pop from an empty stack, a return without a caller, a forged frame: both reject", async () => {
    const alu = byClass.get("alu")!;
    const ret = sampleByOpcode(new Session(wat(sortProgram(5)), sortInput(5, 3), UNBOUNDED), 50).find((p) => p.instruction.op === 0x0f)!;
    // The frame record is the proof's last 5 words: returnPc, callerStackHash, callerStackHeight, callerLocalsRoot, below.
    const frameAt = proofBytes(ret).length - 5 * 32;
    const farReturn = proofBytes(ret);
    farReturn[frameAt + 27] ^= 1; // returnPc + 2^32: the frames hash no longer opens
    // The same frame with returnPc + 2^32, committed in a crafted frames hash: it opens, but is out of range.
    const frame = farReturn.subarray(frameAt, frameAt + 5 * 32);
    const framePrefix = new TextEncoder().encode("detml.vm.frame:");
    const framesHash = keccak256(new Uint8Array([...framePrefix, ...frame.subarray(128, 160), ...frame.subarray(0, 128)]));
    const outOfRange = craftPreState(farReturn, { framesHash: BigInt(toHex(framesHash)) });
    const cases: [string, ReturnType<typeof craftPreState>, string][] = [
      ["stackHeight 0", craftPreState(proofBytes(alu), { stackHeight: 0n }), "StackMismatch"],
      ["stackHeight 1 under two pops", craftPreState(proofBytes(alu), { stackHeight: 1n }), "StackMismatch"],
      ["return at call depth 0", craftPreState(proofBytes(ret), { callDepth: 0n }), "FrameMismatch"],
      ["a frame record that is not the frames hash", { preStateHash: ret.preHash, proof: farReturn }, "FrameMismatch"],
      ["a return pc of 2^32 or more", outOfRange, "FrameMismatch"],
    ];
    for (const [name, c, error] of cases) {
      const r = await agree(c.preStateHash, c.proof, name);
      expect(r.contract.reject, name).toBe(error);
      if (c === outOfRange) expect(r.reference.reject).toMatch(/out of range/);
    }
  });

  test("a call at depth 1024 traps CALL_DEPTH, one past 65536 slots STACK_OVERFLOW; one slot fewer runs", async () => {
    const call = byClass.get("call/return")!.instruction.op === 0x10
      ? byClass.get("call/return")!
      : sampleByOpcode(new Session(wat(sortProgram(5)), sortInput(5, 3), UNBOUNDED), 3).find((p) => p.instruction.op === 0x10)!;
    const bytes = proofBytes(call);
    const headWords = (bytes.length - 64 * call.instruction.b) / 32; // the pre-state, instruction and code path
    const ins = call.instruction;
    const limitHeight = 65_536n + BigInt(ins.b) - BigInt(ins.c) - ins.imm;
    const depth = craftPreState(bytes, { callDepth: 1024n }, headWords);
    const overflow = craftPreState(bytes, { stackHeight: limitHeight + 1n }, headWords);
    const fits = craftPreState(bytes, { stackHeight: limitHeight });
    for (const [name, c] of [["depth", depth], ["overflow", overflow], ["fits", fits]] as const) {
      expect((await agree(c.preStateHash, c.proof, name)).contract.post, name).toBeDefined();
    }
  });
});

/** A number as a big-endian 32-byte word. */
function word(v: bigint): Uint8Array {
  const w = new Uint8Array(32);
  for (let i = 31; i >= 0; i--, v >>= 8n) w[i] = Number(v & 0xffn);
  return w;
}

const hashOf = (prefix: string, ...words: Uint8Array[]): Uint8Array => keccak256(new Uint8Array([...new TextEncoder().encode(prefix), ...words.flatMap((w) => [...w])]));

/**
 * A one-instruction program in a crafted running state (code of one leaf, no memory, no input) with
 * `stack` as the current frame's operands (bottom first) and one local holding `local0`, the proof
 * popping the top `pops` operands then, with `readsLocal`, opening the local: for instructions and
 * values a decoder or a run never makes, which the verifiers must still decide alike.
 */
function craftedStep(ins: { op: number; a?: number; b?: number; c?: number; imm?: bigint }, stack: bigint[], pops: number, local0 = 0n, readsLocal = false) {
  const insWord = new Uint8Array(32);
  const v = new DataView(insWord.buffer);
  v.setUint16(0, ins.op);
  v.setUint32(2, ins.a ?? 0);
  v.setUint32(6, ins.b ?? 0);
  v.setUint32(10, ins.c ?? 0);
  v.setBigUint64(14, ins.imm ?? 0n);
  const chain: Uint8Array[] = [new Uint8Array(32)];
  for (const x of stack) chain.push(hashOf("detml.vm.stack:", chain[chain.length - 1], word(x)));
  const zero = new Uint8Array(32);
  const state = [hashOf("detml.vm.code-leaf:", insWord), word(1n), zero, word(0n), word(10n), zero, word(0n), zero, word(0n),
    word(0n), word(0n), word(0n), word(0n), chain[stack.length], word(BigInt(stack.length)), hashOf("detml.vm.local:", word(local0)), zero, word(0n)];
  const witnesses: Uint8Array[] = [];
  for (let i = stack.length; i > stack.length - pops; i--) witnesses.push(word(stack[i - 1]), chain[i - 1]);
  if (readsLocal) witnesses.push(word(local0));
  const proof = new Uint8Array([...state, insWord, ...witnesses].flatMap((w) => [...w]));
  return { preStateHash: preStateHashOf(proof), proof };
}

describe("instructions no decoder emits: same verdicts", () => {
  const cases: [string, ReturnType<typeof craftedStep>, boolean][] = [
    ["call with more parameters than locals (3 into 2)", craftedStep({ op: 0x10, a: 0, b: 3, c: 2 }, [5n, 6n, 7n], 3), false],
    ["call with 3 parameters into 3 locals", craftedStep({ op: 0x10, a: 0, b: 3, c: 3 }, [5n, 6n, 7n], 3), true],
    ["call with no parameters and 5 locals", craftedStep({ op: 0x10, a: 0, b: 0, c: 5, imm: 3n }, [], 0), true],
    ["br keeping 'c = 7' values (read as one) over 2 dropped", craftedStep({ op: 0x103, a: 0, b: 2, c: 7 }, [1n, 2n, 3n], 3), true],
    ["br_table with n = 2^32 - 1", craftedStep({ op: 0x105, a: 0xffffffff }, [0x1_0000_0003n], 1), true],
    ["select with a condition of 2^32 (its low 32 bits are 0)", craftedStep({ op: 0x1b }, [8n, 9n, 1n << 32n], 3), true],
    ["f32.load (0x2a), not a VM instruction", craftedStep({ op: 0x2a }, [0n], 1), false],
    ["f64.store (0x39), not a VM instruction", craftedStep({ op: 0x39 }, [0n, 0n], 2), false],
    ["opcode 0x1c", craftedStep({ op: 0x1c }, [], 0), false],
    ["opcode 0x109", craftedStep({ op: 0x109 }, [], 0), false],
    ["local.get with index 2 in a tree of depth 1", craftedStep({ op: 0x20, a: 2, b: 1 }, [], 0), false],
    ["local.get of a local holding 2^64 - 1", craftedStep({ op: 0x20 }, [], 0, (1n << 64n) - 1n, true), true],
    ["local.get of a local holding 2^64", craftedStep({ op: 0x20 }, [], 0, 1n << 64n, true), false],
    ["local.set over a local holding 2^64", craftedStep({ op: 0x21 }, [4n], 1, 1n << 64n, true), false],
    ["return at call depth 0", craftedStep({ op: 0x0f }, [], 0), false],
  ];
  test.each(cases)("%s", async (name, c, accepted) => {
    const r = await agree(c.preStateHash, c.proof, name);
    expect(r.contract.post !== undefined, name).toBe(accepted);
  });
});

describe("golden vectors (test/vm/golden/vectors.json)", () => {
  const file = "test/vm/golden/vectors.json";
  test.runIf(existsSync(file))("every vector: the contract's verdict is the recorded one", async () => {
    const vectors = JSON.parse(readFileSync(file, "utf8")) as { name: string; preStateHash: string; proof: string; expect: { postStateHash?: string; reject?: true } }[];
    expect(vectors.length).toBeGreaterThan(0);
    for (const v of vectors) {
      const r = await runner.verdict(fromHex(v.preStateHash), fromHex(v.proof));
      expect(r.post, v.name).toBe(v.expect.postStateHash);
    }
  });
});

describe("gas", () => {
  test(`every accepted real proof costs under ${GAS_TARGET} gas as a transaction`, () => {
    const lines: string[] = [];
    for (const [cls, gas] of [...gasByClass].sort()) {
      const sorted = [...gas].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      lines.push(`${cls.padEnd(12)} n=${String(sorted.length).padStart(4)} median ${sorted[sorted.length >> 1]} max ${sorted[sorted.length - 1]}`);
      expect(sorted[sorted.length - 1], cls).toBeLessThan(GAS_TARGET);
    }
    expect(gasByClass.size).toBeGreaterThanOrEqual(7);
    process.stdout.write(`StepVerifier transaction gas by instruction class:\n  ${lines.join("\n  ")}\n`);
  });
});

// Guards the test's own hashing helpers against drifting from the spec's state hash.
test("stateProof writes the words stateHash hashes", () => {
  const s = new Session(wat(run("(nop)")), new Uint8Array(0), UNBOUNDED);
  const st = s.stateAt(0, 0);
  expect(toHex(craftPreState(stateProof(st.fields), {}).preStateHash)).toBe(toHex(stateHash(st.fields)));
});
