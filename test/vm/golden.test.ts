/**
 * The golden one-step vectors (test/vm/golden/): every committed vector replayed through
 * verifyProof must get exactly its recorded verdict (post-state hash, or rejection with the same
 * ProofError message); the vectors must cover every VM instruction, every WASM opcode the subset
 * allows, every status and every kind of rejection; and a fresh build must equal the committed
 * file, so a protocol change cannot slip through without a deliberate regeneration
 * (`UPDATE_GOLDEN=1 npx vitest run test/vm/golden.test.ts` rewrites vectors.json).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { allowedOpcodes, fromHex, Op, ProofError, STATE_FIELDS, toHex, verifyProof } from "../../vm/index.js";
import { buildGoldenVectors, NO_STEP_OPCODES } from "./golden/generate.js";
import { stateHashOf, type AnyState, type Expectation, type GoldenVector } from "./golden/vector.js";

const FILE = new URL("./golden/vectors.json", import.meta.url);
/** Largest size of vectors.json we accept (it is committed). */
const MAX_FILE_BYTES = 1.5 * 1024 * 1024;

/** One vector per line: small diffs when a vector changes. */
function serialize(vectors: readonly GoldenVector[]): string {
  return `[\n${vectors.map((v) => JSON.stringify(v)).join(",\n")}\n]\n`;
}

function committed(): GoldenVector[] {
  return JSON.parse(readFileSync(FILE, "utf8")) as GoldenVector[];
}

function replay(v: GoldenVector): Expectation {
  try {
    return { postStateHash: toHex(verifyProof(fromHex(v.preStateHash), fromHex(v.proof))) };
  } catch (err) {
    if (!(err instanceof ProofError)) throw err;
    return { reject: true, reason: err.message };
  }
}

/** The opcode field of the instruction word of a proof that has one (word 18). */
function instructionOp(v: GoldenVector): number | undefined {
  const bytes = fromHex(v.proof);
  return bytes.length > 18 * 32 ? (bytes[18 * 32] << 8) | bytes[18 * 32 + 1] : undefined;
}

describe("golden one-step vectors", () => {
  test("a fresh build equals the committed vectors.json (UPDATE_GOLDEN=1 rewrites it)", () => {
    const text = serialize(buildGoldenVectors());
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(FILE, text);
    const fresh = JSON.parse(text) as GoldenVector[];
    const old = committed();
    expect(fresh.map((v) => v.name), "vector names and order").toEqual(old.map((v) => v.name));
    fresh.forEach((v, i) => expect(v, `vector ${i}: ${v.name}`).toEqual(old[i]));
    expect(text.length).toBeLessThan(MAX_FILE_BYTES);
  });

  test("every committed vector gets its recorded verdict from verifyProof", () => {
    const vectors = committed();
    expect(vectors.length).toBeGreaterThan(300);
    for (const v of vectors) expect(replay(v), v.name).toEqual(v.expect);
  });

  test("every vector's labelled pre-state hashes to its preStateHash, and names are unique", () => {
    const vectors = committed();
    for (const v of vectors) {
      expect(Object.keys(v.preState), v.name).toEqual([...STATE_FIELDS]);
      const state = Object.fromEntries(STATE_FIELDS.map((k) => [k, v.preState[k].startsWith("0x") ? fromHex(v.preState[k]) : BigInt(v.preState[k])])) as unknown as AnyState;
      expect(toHex(stateHashOf(state)), v.name).toBe(v.preStateHash);
    }
    expect(new Set(vectors.map((v) => v.name)).size).toBe(vectors.length);
  });

  test("the vectors cover every VM instruction, every allowed WASM opcode and every status", () => {
    const vectors = committed();
    const proven = new Set(vectors.filter((v) => v.class === "step" || v.class === "trap").map(instructionOp));
    const vmOps = [...Object.values(Op), ...allowedOpcodes().filter((o) => o.code >= 0x28 && o.code !== 0x3f && o.code !== 0x40).map((o) => o.code)];
    for (const op of vmOps) expect(proven.has(op), `a step of opcode 0x${op.toString(16)}`).toBe(true);
    for (const o of allowedOpcodes()) {
      if (NO_STEP_OPCODES.includes(o.name)) continue;
      expect(vectors.some((v) => v.name.startsWith(`${o.name}:`)), `a vector named after ${o.name}`).toBe(true);
    }
    // Each trap status: a trap step whose post-state is the pre-state of a stopped vector with that status.
    const trapPosts = new Set(vectors.filter((v) => v.class === "trap").map((v) => ("postStateHash" in v.expect ? v.expect.postStateHash : "")));
    for (let status = 1; status <= 9; status++) {
      const stopped = vectors.filter((v) => v.class === "stopped" && v.preState.status === String(status));
      expect(stopped.length, `a stopped state with status ${status}`).toBeGreaterThan(0);
      if (status >= 2) expect(stopped.some((v) => trapPosts.has(v.preStateHash)), `a trap step reaching status ${status}`).toBe(true);
    }
  });

  test("the rejections cover every check of the verifier", () => {
    const reasons = committed().flatMap((v) => ("reason" in v.expect ? [v.expect.reason] : []));
    const checks = [
      /32-byte words/, /ends early: missing pre-state/, /ends early: missing instruction/, /ends early: missing memory leaf/, /unread words/,
      /does not hash to the agreed/, /pc \d+ is outside the code/, /not the code tree's leaf/, /does not match the stack hash/,
      /stack value .* wider than 64 bits/, /stack height of 0/, /memory leaf \d+ does not match/, /local \d+ does not match/,
      /outside a locals tree/, /input chunk \d+ does not match/, /caller frame does not match/, /no caller frame/, /caller frame is out of range/,
      /unknown instruction opcode/, /pre-state \w+ is wider than 64 bits/, /memoryBytes \d+ is not a multiple of 32/,
    ];
    for (const check of checks) expect(reasons.some((r) => check.test(r)), `a rejection matching ${check}`).toBe(true);
  });
});
