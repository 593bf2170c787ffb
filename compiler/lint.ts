/**
 * The provability lint: is a .wasm inside the provable subset the rollup VM executes? The rules
 * are defined once, in vm/subset.ts, and applied by the VM's own decoder (`lintModule`), so the
 * compiler cannot accept what the VM would refuse. Every compiled canonical module passes through
 * here; `detml lint` runs it on any file, and also checks that a detml manifest names the
 * module's own id (a module altered after compiling fails), with the weights image beside the
 * module when the manifest names one (a missing or altered image is a violation too).
 */
import { AbiError, checkModelId, CUSTOM_SECTION, decodeManifest, loadWeightsImage } from "../abi/manifest.js";
import { decodeModule, lintModule, withWeights } from "../vm/decode.js";
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

/**
 * Every violation of the provable subset (empty when the module is provable), and for a module
 * that carries a detml manifest, a manifest that does not name the module's own id. `path`: the
 * module's file, beside which its weights image is found.
 */
export function lintWasm(bytes: Uint8Array, path = "the module"): LintViolation[] {
  const violations: LintViolation[] = lintModule(bytes).map((e: SubsetError) => ({
    message: e.message,
    function: e.where.funcName,
    instruction: e.where.instruction,
    offset: e.where.offset,
  }));
  if (violations.length > 0) return violations;
  const mod = decodeModule(bytes);
  const section = mod.customSections.find((c) => c.name === CUSTOM_SECTION);
  try {
    if (section) {
      const manifest = decodeManifest(section.bytes, "the manifest");
      const weights = loadWeightsImage(manifest, path);
      checkModelId(bytes, manifest, "the manifest", weights ? withWeights(mod, weights) : mod);
    }
  } catch (err) {
    if (!(err instanceof AbiError)) throw err;
    violations.push({ message: err.message });
  }
  return violations;
}

/** Throw a LintError naming the functions and instructions at fault unless the module is provable. */
export function assertProvable(bytes: Uint8Array, source: string): void {
  const violations = lintWasm(bytes);
  if (violations.length > 0) throw new LintError(source, violations);
}
