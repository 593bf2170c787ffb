/**
 * The VM's limits, decided by construction: the static call bounds (recursion refused, call
 * chains and slot counts bounded below MAX_CALL_DEPTH and MAX_STACK_SLOTS, so a lint-clean module
 * never reaches the VM's resource traps and the JS engine agrees with it), the per-segment step
 * budget (an infinite loop traps STEP_LIMIT, with a proof the verifier checks), the budget as
 * part of the module's identity, and the JS engine's own failures never taken as a trap.
 */
import { describe, expect, test } from "vitest";
import {
  decodeModule, DEFAULT_STEP_BUDGET, fastBoundaries, isModuleTrap, lintModule, Machine, MAX_CALL_DEPTH, moduleId, proofBytes,
  Session, Status, statusText, toHex, traceModule, verifyProof,
} from "../../vm/index.js";
import { HostCallTrap } from "../../vm/wasm-host.js";
import { module, wat } from "./helpers.js";
import { callChain, infiniteLoop } from "./special-modules.js";

describe("static call bounds", () => {
  test("recursion is refused, naming the cycle", () => {
    const direct = wat(module(`(func $f (param i32) (if (local.get 0) (then (call $f (i32.sub (local.get 0) (i32.const 1)))))) (func (export "run") (call $f (i32.const 3)))`));
    expect(() => decodeModule(direct)).toThrow(/function '.*' is recursive \(.* -> .*\): recursion is outside the provable subset/);
    const mutual = wat(module(`(func $a (call $b)) (func $b (call $a)) (func (export "run") (call $a))`));
    const lint = lintModule(mutual).map((e) => e.message);
    expect(lint.some((m) => /is recursive/.test(m))).toBe(true);
  });

  test(`a call chain of ${MAX_CALL_DEPTH} functions runs in the VM and the engine alike; ${MAX_CALL_DEPTH + 1} is refused`, () => {
    const ok = wat(callChain(MAX_CALL_DEPTH, 2));
    const mod = decodeModule(ok);
    const vm = traceModule(mod, new Uint8Array(0));
    expect(statusText(vm.status)).toBe(statusText(Status.HALTED));
    const engine = fastBoundaries(ok, new Uint8Array(0), { mod });
    expect(engine.trap).toBeUndefined();
    expect(engine.boundaries.map((b) => toHex(b.hash))).toEqual(vm.boundaries.map((b) => toHex(b.hash)));
    expect(() => decodeModule(wat(callChain(MAX_CALL_DEPTH + 1, 2)))).toThrow(/can nest 1025 calls, more than the VM's call depth of 1024/);
  });

  test("a call path that could hold more than 65536 slots is refused; one that fits runs", () => {
    // 40 frames of 1700 locals: 68,000 slots on the deepest path.
    expect(() => decodeModule(wat(callChain(40, 1700)))).toThrow(/can hold \d+ values .* more than the VM's 65536 stack slots/);
    const fits = wat(callChain(30, 1700)); // 51,000 slots
    expect(statusText(traceModule(fits, new Uint8Array(0)).status)).toBe(statusText(Status.HALTED));
  });

  test("only WebAssembly traps and refused host calls are the module's traps; an engine failure is not", () => {
    expect(isModuleTrap(new WebAssembly.RuntimeError("unreachable"))).toBe(true);
    expect(isModuleTrap(new HostCallTrap("bad host call arguments"))).toBe(true);
    expect(isModuleTrap(new RangeError("Maximum call stack size exceeded"))).toBe(false);
    expect(isModuleTrap(new Error("out of memory"))).toBe(false);
    // The engine run from a JS stack that is almost used up: whatever V8 reports, it is a host
    // failure or a clean run, never a trap of the module.
    const bytes = wat(callChain(MAX_CALL_DEPTH, 60));
    const mod = decodeModule(bytes);
    let seen: ReturnType<typeof fastBoundaries> | undefined;
    const deep = (n: number): void => {
      if (n > 0) return deep(n - 1);
      seen = fastBoundaries(bytes, new Uint8Array(0), { mod });
    };
    for (let depth = 0; depth < 20000 && !seen?.hostFailure; depth += 250) {
      try {
        deep(depth);
      } catch {
        break; // the JS recursion itself overflowed
      }
      expect(seen!.trap, `engine run at JS depth ${depth}`).toBeUndefined();
    }
    // Node 20's V8 runs out of stack inside the module long before the JS recursion does.
    expect(seen?.hostFailure?.message).toMatch(/call stack/);
  });
});

describe("the step budget", () => {
  test("an infinite loop traps STEP_LIMIT after the budget; the trapping step's proof verifies", () => {
    const bytes = wat(infiniteLoop());
    const mod = decodeModule(bytes, { stepBudget: 5000 });
    expect(mod.stepBudget).toBe(5000);
    expect(decodeModule(bytes).stepBudget).toBe(DEFAULT_STEP_BUDGET);
    const run = new Machine(mod, new Uint8Array(0)).runAll();
    expect(statusText(run.status)).toBe(statusText(Status.STEP_LIMIT));
    expect(run.totalSteps).toBe(5001);
    const s = new Session(bytes, new Uint8Array(0), { stepBudget: 5000, snapshotEvery: 1000 });
    expect(s.run.trap).toMatchObject({ segment: 0, status: Status.STEP_LIMIT });
    const p = s.prove(0, 5000);
    expect(p.words.length).toBe(18); // the state alone: no instruction is read
    expect(p.post.status).toBe(Status.STEP_LIMIT);
    expect(toHex(verifyProof(p.preHash, proofBytes(p)))).toBe(toHex(p.postHash));
    const before = s.prove(0, 4999); // the last step within the budget executes normally
    expect(before.post.status).toBe(Status.RUNNING);
    expect(toHex(verifyProof(before.preHash, proofBytes(before)))).toBe(toHex(before.postHash));
  });

  test("the interpreter and the JIT stop at the budget alike, at every stop", () => {
    const mod = decodeModule(wat(infiniteLoop()), { stepBudget: 777 });
    for (const jit of [true, false]) {
      const m = new Machine(mod, new Uint8Array(0));
      m.jit = jit;
      m.startSegment(0);
      expect(m.runUntil(777)).toBe(Status.RUNNING);
      expect(m.steps).toBe(777);
      expect(m.runUntil(10_000)).toBe(Status.STEP_LIMIT);
      expect(m.steps).toBe(778);
    }
  });

  test("a module commits to its budget: it is part of the model id, and a disagreeing request is refused", () => {
    const bytes = wat(module(`(global (export "detml_step_budget") i64 (i64.const 123456)) (func (export "run"))`));
    const mod = decodeModule(bytes);
    expect(mod).toMatchObject({ stepBudget: 123456, stepBudgetEmbedded: true });
    expect(decodeModule(bytes, { stepBudget: 123456 }).stepBudget).toBe(123456);
    expect(() => decodeModule(bytes, { stepBudget: 1000 })).toThrow(/commits to a step budget of 123456; the requested budget 1000 differs/);
    const plain = wat(module(`(func (export "run"))`));
    expect(toHex(moduleId(decodeModule(plain, { stepBudget: 10 })))).not.toBe(toHex(moduleId(decodeModule(plain, { stepBudget: 11 }))));
    expect(() => decodeModule(plain, { stepBudget: 0 })).toThrow(/step budget must be an integer in 1\.\./);
    const bad = wat(module(`(global (export "detml_step_budget") i64 (i64.const -5)) (func (export "run"))`));
    expect(lintModule(bad).map((e) => e.message)).toContainEqual(expect.stringMatching(/detml_step_budget: a step budget must be/));
  });
});
