/**
 * Golden vectors that no ordinary run produces, derived from the real proofs of generate.ts:
 * stopped states (halted and every trap status) whose proof is the 18 pre-state words; the step
 * budget (the last step within it, the STEP_LIMIT trap, and budget traps at states that read no
 * instruction); the call limits (a pre-state edited to call depth 1024 or to a stack height at
 * the slot limit, its hash recomputed, since the verifier only checks the hash); operands with
 * bits above 32 where the spec reads uint32; states at the edge of the field ranges; and
 * rejections, one per check of the verifier (truncation, extra words, every kind of witness
 * tampered, opcodes outside the VM, out-of-range fields, a pop from an empty stack). Expected
 * post-states are computed here from the spec, not taken from the verifier.
 */
import { Op, Session, STATE_FIELDS, Status, type StepProof } from "../../../vm/index.js";
import { module, UNBOUNDED, wat } from "../helpers.js";
import { INPUT } from "./cases.js";
import type { ProvenCase } from "./generate.js";
import { concat, craftedVector, describeInstruction, H, stateWords, word, type AnyState, type GoldenVector } from "./vector.js";

/** The limits of docs/vm-state.md section 2, written out from the spec. */
const MAX_CALL_DEPTH = 1024, MAX_STACK_SLOTS = 65536;
const TWO_32 = 1n << 32n, TWO_64 = 1n << 64n;

const words = (p: StepProof): Uint8Array[] => p.words.map((w) => w.value);
const at = (p: StepProof, label: string): number => {
  const i = p.words.findIndex((w) => w.label === label);
  if (i < 0) throw new Error(`no proof word labelled '${label}' (labels: ${p.words.map((w) => w.label).join(", ")})`);
  return i;
};
/** Index of the first witness word: after the 18 state words, the instruction and its code path. */
const witnessStart = (p: StepProof): number => 19 + p.words.filter((w) => w.label.startsWith("code sibling")).length;
/** A copy of `ws` with word i replaced (by default, with its last byte flipped). */
const replaced = (ws: readonly Uint8Array[], i: number, w?: Uint8Array): Uint8Array[] => {
  const out = ws.slice();
  out[i] = w ?? Uint8Array.from(ws[i], (b, j) => (j === 31 ? b ^ 1 : b));
  return out;
};
/** The proof of `p` with a different pre-state in front (its witnesses unchanged). */
const onState = (s: AnyState, p: StepProof, upTo = p.words.length): Uint8Array => concat([...stateWords(s), ...words(p).slice(18, upTo)]);
const trapped = (s: AnyState, status: number): AnyState => ({ ...s, step: BigInt(s.step) + 1n, status });
const ins = (p: StepProof): string => describeInstruction(p.instruction);

/** The proof of the case whose name starts with the given text. */
type ProofOf = (caseName: string) => StepProof;

/**
 * Give the first `values.length` pops of a proof other values (undefined keeps one): the chain
 * above the deepest changed pop is rebuilt and the pre-state's stack hash follows.
 */
function restacked(p: StepProof, values: (bigint | undefined)[]): { pre: AnyState; proof: Uint8Array } {
  const ws = words(p);
  const first = witnessStart(p);
  const value = (j: number): Uint8Array => (values[j] === undefined ? ws[first + 2 * j] : word(values[j]!));
  for (let j = values.length - 1; j >= 0; j--) {
    ws[first + 2 * j] = value(j);
    if (j < values.length - 1) ws[first + 2 * j + 1] = H("detml.vm.stack:", ws[first + 2 * j + 2 + 1], ws[first + 2 * j + 2]);
  }
  const pre = { ...p.pre, stackHash: H("detml.vm.stack:", ws[first + 1], ws[first]) };
  return { pre, proof: concat([...stateWords(pre), ...ws.slice(18)]) };
}

/** A pre-state whose code is the single instruction word `ins` at pc 0. */
function singleInstruction(base: AnyState, ins: Uint8Array): AnyState {
  return { ...base, codeRoot: H("detml.vm.code-leaf:", ins), codeSize: 1, pc: 0 }; // a tree of one leaf has depth 0
}
function instructionWord(op: number, a = 0, b = 0, c = 0, imm = 0n): Uint8Array {
  return word((BigInt(op) << 240n) | (BigInt(a) << 208n) | (BigInt(b) << 176n) | (BigInt(c) << 144n) | (imm << 80n));
}

/** CALL_DEPTH and STACK_OVERFLOW at and next to the limits; also returns the two trapped states. */
function callLimitVectors(proof: ProofOf): { vectors: GoldenVector[]; depthTrap: AnyState; slotsTrap: AnyState } {
  const call = proof("call: three parameters");
  const { b, c, imm } = call.instruction;
  const maxHeight = MAX_STACK_SLOTS + b - c - Number(imm); // the largest stack height at which this call fits
  const callerStackHash = words(call)[at(call, "pop parameter 0: stack below")];
  const called = (pre: AnyState): AnyState => ({
    ...call.post, callDepth: BigInt(pre.callDepth) + 1n, stackHeight: BigInt(pre.stackHeight) - BigInt(b) + BigInt(c),
    framesHash: H("detml.vm.frame:", pre.framesHash, BigInt(pre.pc) + 1n, callerStackHash, BigInt(pre.stackHeight) - BigInt(b), pre.localsRoot),
  });
  const depthFull = { ...call.pre, callDepth: MAX_CALL_DEPTH };
  const depthLast = { ...call.pre, callDepth: MAX_CALL_DEPTH - 1 };
  const slotsOver = { ...call.pre, stackHeight: maxHeight + 1 };
  const slotsFull = { ...call.pre, stackHeight: maxHeight };
  const both = { ...slotsOver, callDepth: MAX_CALL_DEPTH };
  const trapProof = (pre: AnyState) => onState(pre, call, witnessStart(call)); // a trapping call reads no parameters
  return {
    depthTrap: trapped(depthFull, Status.CALL_DEPTH),
    slotsTrap: trapped(slotsOver, Status.STACK_OVERFLOW),
    vectors: [
      craftedVector("call: at call depth 1024 traps CALL_DEPTH (crafted state)", "trap", ins(call), depthFull, trapProof(depthFull), { post: trapped(depthFull, Status.CALL_DEPTH) }),
      craftedVector("call: at call depth 1023 succeeds (crafted state)", "step", ins(call), depthLast, onState(depthLast, call), { post: called(depthLast) }),
      craftedVector("call: one slot over the stack limit traps STACK_OVERFLOW (crafted state)", "trap", ins(call), slotsOver, trapProof(slotsOver), { post: trapped(slotsOver, Status.STACK_OVERFLOW) }),
      craftedVector("call: exactly at the stack limit succeeds (crafted state)", "step", ins(call), slotsFull, onState(slotsFull, call), { post: called(slotsFull) }),
      craftedVector("call: over both limits traps CALL_DEPTH (depth is checked first; crafted state)", "trap", ins(call), both, trapProof(both), { post: trapped(both, Status.CALL_DEPTH) }),
    ],
  };
}

/** The step budget: the last step within it, the STEP_LIMIT trap, and a budget trap that reads no instruction. */
function budgetVectors(limit: StepProof, last: StepProof): GoldenVector[] {
  const noInstruction = "none read (step budget used up)";
  const pastBudget = { ...limit.pre, step: BigInt(limit.pre.stepBudget) + 7n, pc: BigInt(limit.pre.codeSize) + 3n };
  return [
    craftedVector("step budget: the last step within the budget (step = budget - 1)", "step", ins(last), last.pre, onState(last.pre, last), { post: last.post }),
    craftedVector("step budget: step = budget traps STEP_LIMIT (18 words, no instruction)", "trap", noInstruction, limit.pre, onState(limit.pre, limit), { post: limit.post }),
    craftedVector("step budget: step past the budget and pc outside the code still trap STEP_LIMIT (crafted state)", "trap", noInstruction, pastBudget, concat(stateWords(pastBudget)), { post: trapped(pastBudget, Status.STEP_LIMIT) }),
    craftedVector("step budget: an instruction word after a STEP_LIMIT state's 18 words", "reject", noInstruction, limit.pre, concat([...stateWords(limit.pre), instructionWord(Op.HALT)]), "reject"),
  ];
}

/** Stopped states of every status: the proof is the 18 words and the state stays as it is. */
function stoppedVectors(stopped: [string, AnyState][]): GoldenVector[] {
  const vectors = stopped.map(([what, s]) => craftedVector(`stopped: ${what} (18 words, post = pre)`, "stopped", "none read (stopped state)", s, concat(stateWords(s)), { post: s }));
  const halted = stopped[0][1];
  vectors.push(craftedVector("stopped: an instruction word after a halted state's 18 words", "reject", "none read (stopped state)", halted, concat([...stateWords(halted), instructionWord(Op.HALT)]), "reject"));
  return vectors;
}

/** Operands with bits above 32 where the spec reads uint32 (no run makes these: i32 values are zero-extended). */
function wideOperandVectors(proof: ProofOf): GoldenVector[] {
  const wide: [caseName: string, vectorName: string, values: (bigint | undefined)[], trap?: number][] = [
    ["i32.add: ordinary", "i32.add: operands with bits above 32 read as uint32", [5678n + (1n << 63n), 1234n + 3n * TWO_32]],
    ["i32.shl: ordinary", "i32.shl: a shift count with bits above 32", [5n + TWO_32]],
    ["i32.eqz: nonzero", "i32.eqz: an operand whose low 32 bits are nonzero", [0x100n + (1n << 40n)]],
    ["i64.extend_i32_u: negative", "i64.extend_i32_u: the operand's bits above 32 are cleared", [0xfffffffen + (5n << 33n)]],
    ["i32.div_u: dividend read unsigned", "i32.div_u: a divisor of 2^32 reads as 0 and traps DIV_ZERO", [TWO_32], Status.DIV_ZERO],
    ["select: condition zero", "select: a condition of 2^32 reads as 0", [TWO_32]],
    ["br_if: not taken (jump_if)", "jump_if: a condition of 2^32 reads as 0", [TWO_32]],
    ["br_if: not taken, with a drop count", "br_if: a condition of 2^33 reads as 0", [2n * TWO_32]],
    ["br_table: index in range", "br_table: an index of 2^32 + 1 reads as 1", [TWO_32 + 1n]],
    ["i32.load: inside one leaf", "i32.load: an address with bits above 32", [33n + (7n << 40n)]],
    ["i64.store: inside one leaf", "i64.store: an address with bits above 32", [undefined, 100n + TWO_32]],
    ["read_input: chunk 2", "read_input: destination and chunk with bits above 32", [96n + TWO_32, 2n + (1n << 50n)]],
    ["write_output: leaf 2", "write_output: a source with bits above 32", [64n + (1n << 36n)]],
  ];
  return wide.map(([caseName, vectorName, values, trap]) => {
    const p = proof(caseName);
    const { pre, proof: bytes } = restacked(p, values);
    return craftedVector(`${vectorName} (crafted stack)`, trap ? "trap" : "step", ins(p), pre, bytes, { post: trap ? trapped(pre, trap) : p.post });
  });
}

/**
 * Numeric fields at the edges of their ranges: up to 2^64 - 1 (memoryBytes up to 2^32, whole
 * leaves) is valid, more is rejected; and a 64-bit immediate in an i32.const.
 */
function fieldRangeVectors(add: StepProof): GoldenVector[] {
  const big = { ...add.pre, stepBudget: TWO_64 - 1n, step: (1n << 53n) + 1n, segment: TWO_64 - 1n };
  const fourGiB = { ...add.pre, memoryBytes: TWO_32 };
  const vectors = [
    craftedVector("state: numeric fields up to 2^64 - 1 are valid (step budget, step, segment; crafted)", "step", ins(add), big, onState(big, add),
      { post: { ...add.post, stepBudget: big.stepBudget, step: big.step + 1n, segment: big.segment } }),
    craftedVector("state: memoryBytes = 2^32 is valid (crafted)", "step", ins(add), fourGiB, onState(fourGiB, add), { post: { ...add.post, memoryBytes: TWO_32 } }),
  ];
  // i32.const pushes its 64-bit immediate field as it is; the decoder only ever writes zero-extended i32 values there.
  const constWord = instructionWord(Op.I32_CONST, 0, 0, 0, (1n << 63n) + 5n);
  const wideConst = singleInstruction(add.pre, constWord);
  vectors.push(craftedVector("i32.const: an immediate above 2^32 is pushed unmasked (crafted code)", "step", "i32.const (imm 2^63 + 5)", wideConst,
    concat([...stateWords(wideConst), constWord]), { post: {
      ...wideConst, step: BigInt(wideConst.step) + 1n, pc: 1, stackHash: H("detml.vm.stack:", wideConst.stackHash, (1n << 63n) + 5n), stackHeight: BigInt(wideConst.stackHeight) + 1n,
    } }));
  const rejected: [string, Partial<AnyState>][] = [
    ["step = 2^64", { step: TWO_64 }],
    ["stackHeight = 2^64 + 1", { stackHeight: TWO_64 + 1n }],
    ["callDepth = 2^255", { callDepth: 1n << 255n }],
    ["memoryBytes not a multiple of 32", { memoryBytes: 65536 + 16 }],
    ["memoryBytes = 2^32 + 32", { memoryBytes: TWO_32 + 32n }],
    ["status 10, which names no status", { status: 10 }],
  ];
  for (const [what, edit] of rejected) {
    const s = { ...add.pre, ...edit } as AnyState;
    vectors.push(craftedVector(`reject: pre-state ${what}`, "reject", ins(add), s, onState(s, add), "reject"));
  }
  return vectors;
}

/** Rejections: one or more per check of the verifier, each made by breaking one thing in a real proof. */
function rejectionVectors(proof: ProofOf): GoldenVector[] {
  const out: GoldenVector[] = [];
  const reject = (name: string, p: StepProof, ws: readonly Uint8Array[], agreed: AnyState = p.pre, instruction = ins(p)) =>
    out.push(craftedVector(`reject: ${name}`, "reject", instruction, agreed, concat(ws), "reject"));

  // the proof's shape, the pre-state, the code, the stack
  const add = proof("i32.add: ordinary");
  const addWords = words(add);
  reject("the proof ends inside the pre-state (17 words)", add, addWords.slice(0, 17));
  reject("a running state's proof ends before the instruction", add, addWords.slice(0, 18));
  reject("the proof ends one word early", add, addWords.slice(0, -1));
  reject("an extra zero word after the step", add, [...addWords, new Uint8Array(32)]);
  reject("a proof that is not whole words (one extra byte)", add, [...addWords, new Uint8Array(1)]);
  reject("the pre-state's step word changed (hash mismatch)", add, replaced(addWords, STATE_FIELDS.indexOf("step")));
  reject("the agreed pre-state is another state (the post-state)", add, addWords, add.post);
  reject("pc = codeSize (crafted)", add, stateWords({ ...add.pre, pc: add.pre.codeSize }), { ...add.pre, pc: add.pre.codeSize });
  reject("the instruction word changed to i32.sub", add, replaced(addWords, 18, instructionWord(0x6b)));
  reject("code sibling 0 changed", add, replaced(addWords, at(add, "code sibling 0")));
  reject("the top code sibling changed", add, replaced(addWords, witnessStart(add) - 1));
  reject("a stack value changed (second operand)", add, replaced(addWords, at(add, "pop second operand")));
  reject("a stack below word changed (first operand)", add, replaced(addWords, at(add, "pop first operand: stack below")));
  const drop = proof("drop: an i64 value");
  const wideValue = restacked(drop, [TWO_64]);
  out.push(craftedVector("reject: a stack value of 2^64 (wider than 64 bits; crafted stack)", "reject", ins(drop), wideValue.pre, wideValue.proof, "reject"));
  const empty = { ...drop.pre, stackHeight: 0 };
  reject("a pop with stack height 0 (crafted state)", drop, [...stateWords(empty), ...words(drop).slice(18)], empty);

  // memory, locals, input and frame witnesses
  const load = proof("i64.load: straddles two leaves");
  const loadWords = words(load);
  const [leafA] = load.words.filter((w) => /^memory leaf \d+$/.test(w.label)).map((w) => w.label);
  reject("a loaded memory leaf changed", load, replaced(loadWords, at(load, leafA)));
  reject("memory sibling 0 of the first leaf changed", load, replaced(loadWords, at(load, `${leafA} sibling 0`)));
  reject("the second leaf's top sibling changed", load, replaced(loadWords, loadWords.length - 1));
  reject("the proof ends inside the second leaf's path", load, loadWords.slice(0, -2));
  const store = proof("i64.store: straddles two leaves");
  const storeWords = words(store);
  const [first, second] = store.words.filter((w) => /^memory leaf \d+$/.test(w.label)).map((w) => w.label);
  // Leaves 2 and 3 are siblings: against the root after the first write, leaf 3's sibling 0 is
  // the hash of the new leaf 2; the hash of the old leaf 2 is the path against the root before it.
  if (first !== "memory leaf 2") throw new Error(`the straddling store case writes ${first}, not memory leaf 2 and 3`);
  const stale = H("detml.vm.memory-leaf:", storeWords[at(store, first)]);
  reject("a straddling store's second leaf proven against the root before the first write", store, replaced(storeWords, at(store, `${second} sibling 0`), stale));
  const set = proof("local.set: i64 into");
  const local = set.words.find((w) => /^local \d+$/.test(w.label))!.label;
  reject("a local's value changed", set, replaced(words(set), at(set, local)));
  reject("a local's sibling 2 changed", set, replaced(words(set), at(set, `${local} sibling 2`)));
  const outside = singleInstruction(set.pre, instructionWord(Op.LOCAL_GET, 8, 3));
  reject("local 8 of a depth-3 locals tree (crafted code)", set, [...stateWords(outside), instructionWord(Op.LOCAL_GET, 8, 3), ...words(set).slice(at(set, local), at(set, local) + 4)], outside,
    "local.get 8 (locals tree depth 3)");
  const read = proof("read_input: chunk 2");
  reject("the input chunk changed", read, replaced(words(read), at(read, "input chunk")));
  reject("input sibling 1 changed", read, replaced(words(read), at(read, "input chunk sibling 1")));
  const ret = proof("return: with a result");
  for (const label of ["frame return pc", "frame caller stack hash", "frame caller stack height", "frame caller locals root", "frames below"]) {
    reject(`the frame record's ${label.replace(/^frames? /, "")} changed`, ret, replaced(words(ret), at(ret, label)));
  }
  const segReturn = proof("return: the segment function");
  const noFrame = { ...segReturn.pre, callDepth: 0 };
  reject("return with call depth 0 (crafted state)", segReturn, [...stateWords(noFrame), ...words(segReturn).slice(18)], noFrame);
  for (const [label, value] of [["frame return pc", TWO_32], ["frame caller stack height", TWO_32 + 5n]] as const) {
    const ws = replaced(words(segReturn), at(segReturn, label), word(value));
    const f = (l: string) => ws[at(segReturn, l)];
    const framesHash = H("detml.vm.frame:", f("frames below"), f("frame return pc"), f("frame caller stack hash"), f("frame caller stack height"), f("frame caller locals root"));
    const s = { ...segReturn.pre, framesHash };
    reject(`the frame record's ${label.replace("frame ", "")} is 2^32 or more (crafted frames hash)`, segReturn, [...stateWords(s), ...ws.slice(18)], s);
  }

  // opcodes that are not VM instructions, and a call too large to prove (crafted code of one instruction)
  const unknown: [number, string][] = [
    [0x01, "nop (the decoder emits nothing)"], [0x1c, "typed select"], [0x3f, "memory.size (the decoder emits a constant)"],
    [0x2a, "f32.load"], [0x38, "f32.store"], [0x40, "memory.grow"], [0x44, "f64.const"], [0x92, "f32.add"], [0xc5, "past the integer range"], [0x109, "past the VM's own opcodes"], [0xffff, "the largest opcode"],
  ];
  for (const [op, what] of unknown) {
    const w = instructionWord(op);
    const s = singleInstruction(add.pre, w);
    reject(`opcode 0x${op.toString(16)}, ${what} (crafted code)`, add, [...stateWords(s), w, ...addWords.slice(witnessStart(add))], s, `op 0x${op.toString(16)}`);
  }
  const hugeCall = instructionWord(Op.CALL, 0, 0xffffffff, 0);
  const huge = singleInstruction(add.pre, hugeCall);
  reject("a call with 2^32 - 1 parameters runs out of stack witnesses (crafted code)", add, [...stateWords(huge), hugeCall, ...addWords.slice(witnessStart(add))], huge,
    "call @0 (4294967295 params, 0 locals)");
  return out;
}

/** The step budget: a module looping forever with a budget of 10 steps. */
function budgetProofs(): { last: StepProof; limit: StepProof } {
  const s = new Session(wat(module(`(func (export "run") (loop $l (br $l)))`)), INPUT, { ...UNBOUNDED, stepBudget: 10, snapshotEvery: 0 });
  return { last: s.prove(0, 9), limit: s.prove(0, 10) };
}

export function craftedVectors(proven: ProvenCase[]): GoldenVector[] {
  const proof: ProofOf = (name) => {
    const found = proven.find((c) => c.case.name.startsWith(name));
    if (!found) throw new Error(`no golden case named '${name}...'`);
    return found.proof;
  };
  const limits = callLimitVectors(proof);
  const budget = budgetProofs();
  const halted = proof("halt: end of a segment").post;
  const stopped: [string, AnyState][] = [
    ["halted", halted],
    ["trapped UNREACHABLE", proof("unreachable: traps").post],
    ["trapped DIV_ZERO", proof("i64.rem_u: by zero").post],
    ["trapped INT_OVERFLOW", proof("i32.div_s: MIN / -1").post],
    ["trapped OUT_OF_BOUNDS", proof("i64.store: crosses the end").post],
    ["trapped CALL_DEPTH", limits.depthTrap],
    ["trapped STACK_OVERFLOW", limits.slotsTrap],
    ["trapped BAD_HOST_CALL", proof("read_input: chunk = inputChunks").post],
    ["trapped STEP_LIMIT", budget.limit.post],
    ["halted at a step past the budget (crafted)", { ...halted, step: TWO_64 - 1n }],
  ];
  return [
    ...limits.vectors, ...budgetVectors(budget.limit, budget.last), ...stoppedVectors(stopped), ...wideOperandVectors(proof),
    ...fieldRangeVectors(proof("i32.add: ordinary")), ...rejectionVectors(proof),
  ];
}
