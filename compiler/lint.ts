/**
 * The provability lint: is a .wasm inside the provable subset the rollup VM executes? The rules
 * are defined once, in vm/subset.ts, and applied by the VM's own decoder (`lintModule`), so the
 * compiler cannot accept what the VM would refuse. Every compiled canonical module passes through
 * here; `detml lint` runs it on any file.
 */
import { lintModule } from "../vm/decode.js";
import type { SubsetError } from "../vm/subset.js";

export interface LintViolation {
  message: string;
  function?: string;
  instruction?: string;
  offset?: number;
}

export class LintError extends Error {
  override name = "LintError";
  constructor(readonly source: string, readonly violations: LintViolation[]) {
    super(`${source} is outside the provable WASM subset: ${violations.slice(0, 5).map(describe).join("; ")}` +
      (violations.length > 5 ? `; and ${violations.length - 5} more` : ""));
  }
}

/** One violation as a line: the message, then where (function and instruction) when known. */
export function describe(v: LintViolation): string {
  const where = [v.function && `function '${v.function}'`, v.instruction && `instruction ${v.instruction}`,
    v.offset !== undefined && `byte ${v.offset}`].filter(Boolean).join(", ");
  return where && !v.message.includes(v.function ?? "\u0000") ? `${v.message} (${where})` : v.message;
}

/** Every violation of the provable subset (empty when the module is provable). */
export function lintWasm(bytes: Uint8Array): LintViolation[] {
  return lintModule(bytes).map((e: SubsetError) => ({
    message: e.message,
    function: e.where.funcName,
    instruction: e.where.instruction,
    offset: e.where.offset,
  }));
}

/** Throw a LintError naming the functions and instructions at fault unless the module is provable. */
export function assertProvable(bytes: Uint8Array, source: string): void {
  const violations = lintWasm(bytes);
  if (violations.length > 0) throw new LintError(source, violations);
}
