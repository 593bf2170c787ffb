import { describe, expect, test } from "vitest";
import {
  checkProofJson, Op, ProofError, proofBytes, proofToJson, Session, STATE_FIELDS, stateHash, Status, toHex, verifyProof, type StepProof,
} from "../../vm/index.js";
import { Rng } from "../helpers/random.js";
import { wat, UNBOUNDED } from "./helpers.js";
import { sortInput, sortProgram } from "./programs.js";

const WORDS = 23;
const bytes = wat(sortProgram(WORDS));
const input = sortInput(WORDS, 11);

describe("one-step proofs over a nontrivial program", () => {
  const s = new Session(bytes, input, { ...UNBOUNDED, snapshotEvery: 500 });
  const steps = s.segmentSteps();

  test("random honest proofs verify to the state the VM reaches one step later", () => {
    const rng = new Rng(5);
    for (let i = 0; i < 150; i++) {
      const k = rng.int(0, steps.length - 1);
      const n = rng.int(0, steps[k] - 1);
      const p = s.prove(k, n);
      expect(toHex(p.preHash)).toBe(toHex(s.stateAt(k, n).hash));
      expect(toHex(verifyProof(p.preHash, proofBytes(p)))).toBe(toHex(s.stateAt(k, n + 1).hash));
    }
  });

  // Up to three steps of every instruction kind the program executes (I/O, calls, returns, br_table, ...).
  const samples: StepProof[] = [];
  const seen = new Map<number, number>();
  for (let k = 0; k < steps.length; k++) {
    for (let n = 0; n < steps[k]; n++) {
      const p = s.prove(k, n);
      const key = p.instruction.op * 2 + (p.instruction.op === Op.BR_IF || p.instruction.op === Op.BR ? Math.min(p.instruction.b, 1) : 0);
      if ((seen.get(key) ?? 0) < 3) {
        seen.set(key, (seen.get(key) ?? 0) + 1);
        samples.push(p);
      }
    }
  }

  test("the samples cover I/O, calls, returns, branches with drops, straddling stores", () => {
    const ops = new Set(samples.map((p) => p.instruction.op));
    for (const op of [Op.READ_INPUT, Op.WRITE_OUTPUT, Op.CALL, Op.RETURN, Op.BR_TABLE, Op.HALT, Op.SELECT, 0x37]) expect(ops).toContain(op);
    expect(samples.some((p) => p.words.some((w) => w.label === "memory leaf 65"))).toBe(true); // the i64 store across leaves 64/65
  });

  test("flipping any bit of any word of a proof gets it rejected", () => {
    const rng = new Rng(9);
    let tampered = 0;
    for (const p of samples) {
      const honest = proofBytes(p);
      for (let w = 0; w < p.words.length; w++) {
        const b = honest.slice();
        b[w * 32 + rng.int(0, 31)] ^= 1 << rng.int(0, 7);
        expect(() => verifyProof(p.preHash, b), `word ${w} (${p.words[w].label}) of a ${p.instruction.op.toString(16)} proof`).toThrow(ProofError);
        tampered++;
      }
    }
    expect(tampered).toBeGreaterThan(1000);
  });

  test("a wrong pre-state hash, a truncated or extended proof are rejected with the reason", () => {
    const p = samples.find((x) => x.instruction.op === Op.READ_INPUT)!;
    const b = proofBytes(p);
    const other = p.preHash.slice();
    other[0] ^= 1;
    expect(() => verifyProof(other, b)).toThrow(/does not hash to the agreed pre-state hash/);
    expect(() => verifyProof(p.preHash, b.slice(0, b.length - 32))).toThrow(/the proof ends early: missing memory leaf 32 sibling/);
    expect(() => verifyProof(p.preHash, new Uint8Array([...b, ...new Uint8Array(32)]))).toThrow(/1 unread words/);
    expect(() => verifyProof(p.preHash, b.slice(0, b.length - 1))).toThrow(/32-byte words/);
  });

  test("tampered I/O: an input chunk byte and an output leaf byte", () => {
    for (const [op, label] of [[Op.READ_INPUT, "input chunk"], [Op.WRITE_OUTPUT, "memory leaf"]] as const) {
      const p = samples.find((x) => x.instruction.op === op)!;
      const w = p.words.findIndex((x) => x.label.startsWith(label));
      const b = proofBytes(p);
      b[w * 32 + 7] ^= 0x80;
      expect(() => verifyProof(p.preHash, b)).toThrow(/does not match the (input|memory) root/);
    }
  });

  test("a step beyond the end of a segment or of the run is a clear error", () => {
    expect(() => s.prove(1, steps[1])).toThrow(`step ${steps[1]} is beyond the end of segment 1 (op_0): it has ${steps[1]} steps, numbered 0..${steps[1] - 1}`);
    expect(() => s.stateAt(1, steps[1] + 1)).toThrow(/beyond the end of segment 1/);
    const total = steps.reduce((a, b) => a + b, 0);
    expect(s.locate(total - 1)).toEqual({ segment: steps.length - 1, step: steps[steps.length - 1] - 1 });
    expect(() => s.locate(total)).toThrow(`step ${total} is beyond the end of the run, which has ${total} steps (0..${total - 1})`);
    expect(() => s.prove(9, 0)).toThrow(/segment 9 does not exist/);
  });

  test("proof.json: honest files check; tampered and malformed files are refused with the reason", () => {
    const p = samples.find((x) => x.instruction.op === Op.CALL)!;
    const json = proofToJson(p, "op_0");
    expect(json.words.every((w) => /^0x[0-9a-f]{64}$/.test(w))).toBe(true);
    const proven = checkProofJson(JSON.stringify(json));
    expect(toHex(proven.postStateHash)).toBe(json.postStateHash);
    expect(proven).toMatchObject({ segment: p.segment, step: p.step, pc: p.pre.pc, status: p.pre.status, instruction: p.instruction });
    // The annotations are not read: edited ones change nothing of what the check reports.
    const edited = { ...json, segment: 9, step: -1, instruction: "i64.div_s (pc 7)", labels: json.labels.map(() => "?") };
    expect(checkProofJson(JSON.stringify(edited))).toEqual(proven);
    // A stopped state's proof is its state words alone: no instruction is proven.
    const halted = s.stateAt(0, steps[0]);
    const word = (v: Uint8Array | number) => (typeof v === "number" ? `0x${v.toString(16).padStart(64, "0")}` : toHex(v));
    const stopped = { ...json, preStateHash: toHex(halted.hash), postStateHash: toHex(halted.hash), words: STATE_FIELDS.map((k) => word(halted.fields[k])) };
    expect(checkProofJson(JSON.stringify(stopped))).toEqual({ preStateHash: halted.hash, postStateHash: halted.hash, segment: 0, step: steps[0],
      status: Status.HALTED, pc: halted.fields.pc, stepBudget: halted.fields.stepBudget, instruction: undefined });
    const claim = { ...json, postStateHash: json.preStateHash };
    expect(() => checkProofJson(JSON.stringify(claim))).toThrow(/verifies to post-state 0x[0-9a-f]+, not the claimed/);
    const words = [...json.words];
    words[20] = `0x${"00".repeat(32)}`;
    expect(() => checkProofJson(JSON.stringify({ ...json, words }))).toThrow(ProofError);
    expect(() => checkProofJson("{not json")).toThrow(/malformed proof file: not JSON/);
    expect(() => checkProofJson("[]")).toThrow(/not a JSON object/);
    expect(() => checkProofJson(JSON.stringify({ ...json, format: "x" }))).toThrow(/format is "x"/);
    expect(() => checkProofJson(JSON.stringify({ ...json, version: 2 }))).toThrow(/unsupported proof version 2/);
    expect(() => checkProofJson(JSON.stringify({ ...json, words: [] }))).toThrow(/words must be a non-empty array/);
    expect(() => checkProofJson(JSON.stringify({ ...json, words: ["0x1234"] }))).toThrow(/words\[0\]: expected 32 bytes of hex, got 2/);
    expect(() => checkProofJson(JSON.stringify({ ...json, preStateHash: "abc" }))).toThrow(/preStateHash: not 0x-prefixed hex/);
  });
});

describe("state fields are uint64 (docs/vm-state.md section 4)", () => {
  const s = new Session(bytes, input, { ...UNBOUNDED, snapshotEvery: 500 });
  const p = s.prove(1, 3);
  const before = s.stateAt(1, 3).fields;
  const after = s.stateAt(1, 4).fields;
  const STATE_WORDS = STATE_FIELDS.length * 32;
  /** The proof of step 3 with its pre-state fields replaced, and the hash of that pre-state. */
  type Counts = Partial<Record<"step" | "stepBudget" | "pc" | "memoryBytes" | "stackHeight", bigint>>;
  function edited(values: Counts): { pre: Uint8Array; proof: Uint8Array } {
    const proof = proofBytes(p);
    for (const [name, v] of Object.entries(values)) {
      const at = STATE_FIELDS.indexOf(name as (typeof STATE_FIELDS)[number]) * 32;
      for (let i = 31, x = v; i >= 0; i--, x >>= 8n) proof[at + i] = Number(x & 0xffn);
    }
    return { pre: stateHash<number | bigint>({ ...before, ...values }), proof };
  }

  test("steps and budgets past 2^53 verify exactly", () => {
    const { pre, proof } = edited({ step: 2n ** 60n, stepBudget: 2n ** 62n });
    expect(toHex(verifyProof(pre, proof))).toBe(toHex(stateHash<number | bigint>({ ...after, step: 2n ** 60n + 1n, stepBudget: 2n ** 62n })));
  });
  test("a step at the budget traps STEP_LIMIT with step + 1, at 2^64 - 1 too", () => {
    const top = 2n ** 64n - 1n;
    const { pre, proof } = edited({ step: top, stepBudget: top });
    expect(toHex(verifyProof(pre, proof.subarray(0, STATE_WORDS)))).toBe(toHex(stateHash<number | bigint>({ ...before, step: top + 1n, stepBudget: top, status: Status.STEP_LIMIT })));
  });
  test("a field of 2^64 or more, a memory size off the leaf grid or above 4 GiB, and a pop from height 0 are rejected", () => {
    const cases: Counts[] = [
      { step: 2n ** 64n }, { pc: 2n ** 200n }, { memoryBytes: 65536n + 16n }, { memoryBytes: 2n ** 32n + 65536n }, { stackHeight: 0n },
    ];
    expect(p.instruction.op === Op.LOCAL_GET || p.instruction.op === Op.I32_CONST, "step 3 must pop for the last case").toBe(false);
    for (const bad of cases) {
      const { pre, proof } = edited(bad);
      expect(() => verifyProof(pre, proof), Object.keys(bad)[0]).toThrow(ProofError);
    }
  });
});
