/**
 * The VM's limits (docs/vm-state.md section 2): the memory size, the call depth and value slots
 * at which a call traps, and the step budget a segment may use. They are part of the protocol:
 * the verifier and a contract mirroring it trap or reject at exactly these values.
 */
export const PAGE_BYTES = 65536;
/** Largest memory the VM accepts: the WASM32 limit, 65536 pages of 64 KiB = 4 GiB (memoryBytes <= 2^32). */
export const MAX_MEMORY_PAGES = 65536;
/** Call depth at which a call traps (the segment entry counts as depth 1). */
export const MAX_CALL_DEPTH = 1024;
/**
 * Value slots (locals plus operand values, over all frames) the machine holds. A call traps
 * when the callee's locals plus its maximum operand height (computed by the decoder) would
 * exceed it, so no instruction other than a call can overflow the stack.
 */
export const MAX_STACK_SLOTS = 65536;

/**
 * The step budget: the steps one segment may execute before its next step traps STEP_LIMIT. It
 * is a constant of the module (part of its identity), carried as an exported immutable integer
 * global of this name; a module without one gets the budget its user gives, or the default.
 * Every run is therefore finite, and only the VM decides where a budget runs out.
 */
export const STEP_BUDGET_EXPORT = "detml_step_budget";
/** 2^32 steps: a few seconds of the VM's JIT per segment. */
export const DEFAULT_STEP_BUDGET = 2 ** 32;
/** Step counts are uint64 in the protocol; this implementation keeps them exact as JS numbers. */
export const MAX_STEP_BUDGET = Number.MAX_SAFE_INTEGER;

/** Why a step budget is refused, or undefined when it is usable. */
export function stepBudgetRefusal(budget: number | bigint): string | undefined {
  if (typeof budget === "bigint" ? budget >= 1n && budget <= BigInt(MAX_STEP_BUDGET) : Number.isSafeInteger(budget) && budget >= 1) return undefined;
  return `a step budget must be an integer in 1..${MAX_STEP_BUDGET}, got ${budget}`;
}

