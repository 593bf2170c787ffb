/**
 * What the referee accepts as a word: every value a caller hands it is checked for shape (a hash
 * is a 32-byte array, a count a non-negative safe integer, a state has all its fields) before any
 * of it is used, and copied before it is stored, so that a caller can neither crash the referee
 * half-way through a move nor change a posted value afterwards by mutating its own array. A
 * contract gets both for free from calldata; this module is what stands for that here.
 */
import { BOUNDARY_FIELDS, STATE_FIELDS, type BoundaryFields, type Hash, type StateFields } from "../vm/index.js";
import type { Claim } from "./claim.js";

export function isHash(h: unknown): h is Hash {
  return h instanceof Uint8Array && h.length === 32;
}

/** A uint64-ranged count, kept exact: a non-negative safe integer. */
export function isCount(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

const HASH_FIELDS = new Set(["codeRoot", "memoryRoot", "inputRoot", "outputAcc", "stackHash", "localsRoot", "framesHash"]);

/** The first field of `fields` that `value` lacks or holds in the wrong shape. */
function badField(value: unknown, fields: readonly string[]): string | undefined {
  if (value === null || typeof value !== "object") return "(not an object)";
  const rec = value as Record<string, unknown>;
  return fields.find((f) => !(HASH_FIELDS.has(f) ? isHash(rec[f]) : isCount(rec[f])));
}

export function badStateField(s: unknown): string | undefined {
  return badField(s, STATE_FIELDS);
}

export function badBoundaryField(b: unknown): string | undefined {
  return badField(b, BOUNDARY_FIELDS);
}

/** The first field of a claim in the wrong shape. */
export function badClaimField(c: unknown): string | undefined {
  if (c === null || typeof c !== "object") return "(not an object)";
  const rec = c as Record<string, unknown>;
  const hashes = ["modelId", "inputRoot", "outputAcc", "finalMemoryRoot", "finalBoundary"];
  const counts = ["inputChunks", "outputChunks"];
  const bad = hashes.find((f) => !isHash(rec[f])) ?? counts.find((f) => !isCount(rec[f]));
  if (bad) return bad;
  if (rec.trapState !== undefined && badStateField(rec.trapState)) return `trapState.${badStateField(rec.trapState)}`;
  return undefined;
}

function copyFields<T extends object>(v: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = x instanceof Uint8Array ? x.slice() : x;
  return out as T;
}

export function copyState(s: StateFields): StateFields {
  return copyFields(s);
}

export function copyBoundary(b: BoundaryFields): BoundaryFields {
  return copyFields(b);
}

export function copyClaim(c: Claim): Claim {
  return { ...copyFields(c), trapState: c.trapState && copyState(c.trapState) };
}
