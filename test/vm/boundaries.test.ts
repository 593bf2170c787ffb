import { describe, expect, test } from "vitest";
import {
  absorbOutput, boundaryAfter, boundaryHash, decodeModule, fastBoundaries, initialMemory, Machine, MerkleTree, moduleHash, moduleId,
  segmentStartState, Session, stateHash, Status, toHex,
} from "../../vm/index.js";
import { ZERO_HASH } from "../../vm/spec/hash.js";
import { wat, UNBOUNDED } from "./helpers.js";
import { sortInput, sortProgram } from "./programs.js";

const WORDS = 40;
const bytes = wat(sortProgram(WORDS));
const input = sortInput(WORDS, 3);

describe("op boundaries: the JS engine's fast path and the VM agree", () => {
  const fast = fastBoundaries(bytes, input, { keepImages: true, mod: decodeModule(bytes, UNBOUNDED) });
  const s = new Session(bytes, input, UNBOUNDED);

  test("memory images and memory roots at every boundary equal the VM's", () => {
    const mod = decodeModule(bytes, UNBOUNDED);
    const m = new Machine(mod, input);
    const tree = new MerkleTree("memoryLeaf", "memoryNode", initialMemory(mod));
    expect(toHex(tree.root())).toBe(toHex(fast.boundaries[0].fields.memoryRoot));
    for (let k = 0; k < mod.segments.length; k++) {
      m.startSegment(k);
      expect(m.runUntil(Number.MAX_SAFE_INTEGER)).toBe(Status.HALTED);
      expect(Buffer.from(m.memory).equals(Buffer.from(fast.images![k + 1]))).toBe(true);
      tree.sync(m.memory);
      expect(toHex(tree.root())).toBe(toHex(fast.boundaries[k + 1].fields.memoryRoot));
    }
    expect(Array.from(m.outputBytes())).toEqual(Array.from(fast.output));
    expect(toHex(fast.boundaries[mod.segments.length].fields.outputAcc)).toBe(toHex(absorbOutput(ZERO_HASH, fast.output)));
  });

  test("boundary k gives segment k's start state; a halted segment gives boundary k+1", () => {
    for (let k = 0; k < s.segmentCount; k++) {
      const start = s.stateAt(k, 0);
      expect(toHex(stateHash(segmentStartState(fast.boundaries[k].fields)))).toBe(toHex(start.hash));
      const end = s.stateAt(k, s.traceSegment(k).steps);
      expect(end.fields.status).toBe(Status.HALTED);
      expect(toHex(boundaryHash(boundaryAfter(end.fields)))).toBe(toHex(fast.boundaries[k + 1].hash));
    }
  });

  test("boundary hashes depend on the input; the module hash is fixed per module", () => {
    const other = fastBoundaries(bytes, sortInput(WORDS, 4), { mod: decodeModule(bytes, UNBOUNDED) });
    expect(toHex(other.boundaries[0].hash)).not.toBe(toHex(fast.boundaries[0].hash));
    const constants = (f: typeof fast.boundaries[0]["fields"]) => ({ ...f, initialMemoryRoot: f.memoryRoot, segments: s.segmentCount });
    const id = moduleHash(constants(fast.boundaries[0].fields));
    expect(toHex(moduleHash(constants(other.boundaries[0].fields)))).toBe(toHex(id));
    expect(toHex(moduleId(s.mod))).toBe(toHex(id));
  });

  test("snapshots do not change the states: stateAt agrees with and without them", () => {
    const plain = new Session(bytes, input, { ...UNBOUNDED, snapshotEvery: 0 });
    const dense = new Session(bytes, input, { ...UNBOUNDED, snapshotEvery: 37 });
    const thinned = new Session(bytes, input, { ...UNBOUNDED, snapshotEvery: 5, snapshotBytes: 2 * 6 * 65536 * 4 }); // at most 6 per segment
    for (const [k, n] of [[1, 0], [1, 1000], [1, 999], [2, 500], [1, 3], [3, 20]]) {
      expect(toHex(dense.stateAt(k, n).hash)).toBe(toHex(plain.stateAt(k, n).hash));
      expect(toHex(thinned.stateAt(k, n).hash)).toBe(toHex(plain.stateAt(k, n).hash));
    }
  });
});
