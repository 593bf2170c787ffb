import { describe, expect, test } from "vitest";
import { MAX_CALL_DEPTH, Session, Status, statusText, toHex, verifyProof, proofBytes } from "../../vm/index.js";
import { expectTrap, module, wat, UNBOUNDED } from "./helpers.js";

const run = (body: string, extra = "") => module(`${extra} (func (export "run") ${body})`);
const locals = (n: number) => Array.from({ length: n }, () => "(local i64)").join(" ");

const cases: [string, string, number, Uint8Array?][] = [
  ["unreachable", run("(unreachable)"), Status.UNREACHABLE],
  ["i32.div_s by zero", run("(drop (i32.div_s (i32.const 7) (i32.const 0)))"), Status.DIV_ZERO],
  ["i32.div_u by zero", run("(drop (i32.div_u (i32.const 7) (i32.const 0)))"), Status.DIV_ZERO],
  ["i32.rem_s by zero", run("(drop (i32.rem_s (i32.const 7) (i32.const 0)))"), Status.DIV_ZERO],
  ["i32.rem_u by zero", run("(drop (i32.rem_u (i32.const 7) (i32.const 0)))"), Status.DIV_ZERO],
  ["i64.div_s by zero", run("(drop (i64.div_s (i64.const 7) (i64.const 0)))"), Status.DIV_ZERO],
  ["i64.div_u by zero", run("(drop (i64.div_u (i64.const 7) (i64.const 0)))"), Status.DIV_ZERO],
  ["i64.rem_s by zero", run("(drop (i64.rem_s (i64.const 7) (i64.const 0)))"), Status.DIV_ZERO],
  ["i64.rem_u by zero", run("(drop (i64.rem_u (i64.const -1) (i64.const 0)))"), Status.DIV_ZERO],
  ["i32.div_s overflow", run("(drop (i32.div_s (i32.const -2147483648) (i32.const -1)))"), Status.INT_OVERFLOW],
  ["i64.div_s overflow", run("(drop (i64.div_s (i64.const -9223372036854775808) (i64.const -1)))"), Status.INT_OVERFLOW],
  ["load past the end", run("(drop (i32.load (i32.const 65533)))"), Status.OUT_OF_BOUNDS],
  ["i64 load straddling the end", run("(drop (i64.load offset=1 (i32.const 65528)))"), Status.OUT_OF_BOUNDS],
  ["load with a huge offset", run("(drop (i32.load8_u offset=4294967295 (i32.const 1)))"), Status.OUT_OF_BOUNDS],
  ["load at address 2^32-1", run("(drop (i32.load8_s (i32.const -1)))"), Status.OUT_OF_BOUNDS],
  ["store past the end", run("(i32.store16 (i32.const 65535) (i32.const 1))"), Status.OUT_OF_BOUNDS],
  ["i64 store past the end", run("(i64.store32 (i32.const 65536) (i64.const 1))"), Status.OUT_OF_BOUNDS],
  ["call stack exhausted", run("(call $down)", "(func $down (call $down))"), Status.CALL_DEPTH],
  ["value stack overflow", run("(call $deep)", `(func $deep ${locals(100)} (call $deep))`), Status.STACK_OVERFLOW],
  ["read_input to a misaligned address", run("(call $read_input (i32.const 0) (i32.const 40))"), Status.BAD_HOST_CALL, new Uint8Array(32)],
  ["read_input past the input", run("(call $read_input (i32.const 1) (i32.const 64))"), Status.BAD_HOST_CALL, new Uint8Array(32)],
  ["read_input outside memory", run("(call $read_input (i32.const 0) (i32.const 65536))"), Status.BAD_HOST_CALL, new Uint8Array(32)],
  ["write_output from a misaligned address", run("(call $write_output (i32.const 3))"), Status.BAD_HOST_CALL],
  ["write_output outside memory", run("(call $write_output (i32.const -32))"), Status.BAD_HOST_CALL],
];

describe("traps: the VM and the engine both trap; the VM names the reason; the trapping step proves", () => {
  for (const [name, text, status, input] of cases) {
    test(name, () => {
      const bytes = wat(text);
      const both = expectTrap(bytes, status, input);
      const s = new Session(bytes, input ?? new Uint8Array(0), UNBOUNDED);
      const trace = s.traceSegment(0);
      expect(statusText(trace.status)).toBe(statusText(status));
      const p = s.prove(0, trace.steps - 1);
      expect(p.post.status).toBe(status);
      expect(p.post.pc).toBe(p.pre.pc);
      expect(toHex(verifyProof(p.preHash, proofBytes(p)))).toBe(toHex(p.postHash));
      // The stopped state stays as it is.
      expect(() => s.prove(0, trace.steps)).toThrow(/beyond the end of segment 0/);
      if (status === Status.CALL_DEPTH) expect(both.vm.depth).toBe(MAX_CALL_DEPTH);
    });
  }
});
