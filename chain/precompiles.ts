/**
 * The DNN-operator precompiles of the extended EVM (docs/evm.md, "The extended EVM"): one
 * ethereumjs custom precompile per op of compiler/evm's PRECOMPILE_OPS, at its documented
 * address. Each decodes its input (the shared encoding of compiler/evm/precompiles-encoding.ts),
 * charges its gas, then runs the op's reference kernel from lib/ops (the very code the reference
 * executor runs, so its output is bit-identical by construction) and returns the output tensor
 * as little-endian int32. Malformed input fails the call and consumes all gas given to it, as
 * Ethereum's precompiles do; so does too little gas. The gas schedule (`PRECOMPILE_GAS`) prices
 * work from measured time: bench/precompile-pricing.ts times these kernels and the bn254
 * pairing precompile (0x08) in the same ethereumjs, and converts microseconds to gas at the
 * pairing's gas per microsecond (figures in docs/evm.md). They exist only on the embedded chain
 * (`createEmbeddedChain({ precompiles })`, `connectChain("local", { precompiles: true })`).
 */
import { decodeOpCall, type DecodedCall, leBytes, macCount, PRECOMPILE_OPS, type CostClass } from "../compiler/evm/precompiles-encoding.js";

/**
 * Gas per 1,000 units of work, by cost class, plus a base per call: the prices that
 * bench/precompile-pricing.ts measured on this machine (the kernels' time per MAC and per
 * element, times the bn254 pairing's 0.75 gas per microsecond in the same ethereumjs), raised
 * by about a third for the spread between runs. ethereumjs's pairing is pure JS (150 ms for two
 * pairs here), so these prices are low next to what a native client's pairing would give.
 */
export const PRECOMPILE_GAS = {
  /** Per call: a floor, the 100 gas of a warm account access (a call's own decoding measures ~15). */
  base: 100,
  /** Per 1,000 multiply-accumulates (mac class): measured 9.2. */
  perKiloMac: 12,
  /** Per 1,000 elements of input and output (every class: decoding, copying, encoding): measured 43.7. */
  perKiloElement: 60,
  /** Per 1,000 output elements of a transcendental op (fixed-point exp, erf, division): measured 1,779. */
  perKiloTranscendental: 2_400,
} as const;

/** Gas of one call to an op of class `cost`, given its work. */
export function precompileGas(cost: CostClass, work: { macs: number; elements: number; outputs: number }): bigint {
  const g = PRECOMPILE_GAS;
  const kilo = (n: number, price: number) => Math.ceil((n * price) / 1000);
  let gas = g.base + kilo(work.elements, g.perKiloElement);
  if (cost === "mac") gas += kilo(work.macs, g.perKiloMac);
  if (cost === "transcendental") gas += kilo(work.outputs, g.perKiloTranscendental);
  return BigInt(gas);
}

export interface PrecompileResult {
  output: Uint8Array;
  gas: bigint;
}

/** Decode one call and price it (the kernel has not run yet); throws on malformed input. */
function pricedCall(kind: string, data: Uint8Array) {
  const op = PRECOMPILE_OPS.find((p) => p.kind === kind);
  if (op === undefined) throw new Error(`no precompile for op ${kind}`);
  const call = decodeOpCall(kind, data);
  const outputs = call.output.shape.reduce((a, b) => a * b, 1);
  const gas = precompileGas(op.cost, {
    macs: macCount(kind, call.inputs, call.output, call.attrs),
    elements: call.inputs.reduce((s, t) => s + (t?.data.length ?? 0), 0) + outputs,
    outputs,
  });
  return { call, gas };
}

/** Run one precompile call outside any EVM (tests, bench): throws on malformed input. */
export function runPrecompile(kind: string, data: Uint8Array): PrecompileResult {
  const { call, gas } = pricedCall(kind, data);
  return { gas, output: runKernel(call) };
}

/** The op's reference kernel on a decoded call: the output as little-endian int32. */
function runKernel(call: DecodedCall): Uint8Array {
  return leBytes(call.def.run(call.inputs as never, call.attrs, { frac: call.frac })[0].data);
}

type Ethereumjs = { evm: typeof import("@ethereumjs/evm"); util: typeof import("@ethereumjs/util") };

/** The precompiles as ethereumjs `customPrecompiles` entries. */
export function customPrecompiles(ejs: Ethereumjs) {
  const { EVMError } = ejs.evm;
  const fail = (error: ConstructorParameters<typeof EVMError>[0], gasLimit: bigint) => ({
    returnValue: new Uint8Array(0), executionGasUsed: gasLimit, exceptionError: new EVMError(error),
  });
  return PRECOMPILE_OPS.map((op) => ({
    address: new ejs.util.Address(ejs.util.hexToBytes(`0x${op.address.toString(16).padStart(40, "0")}`)),
    function: (input: { data: Uint8Array; gasLimit: bigint }) => {
      let priced: ReturnType<typeof pricedCall>;
      try {
        priced = pricedCall(op.kind, input.data);
      } catch {
        return fail(EVMError.errorMessages.INVALID_INPUT_LENGTH, input.gasLimit);
      }
      if (priced.gas > input.gasLimit) return fail(EVMError.errorMessages.OUT_OF_GAS, input.gasLimit);
      try {
        return { returnValue: runKernel(priced.call), executionGasUsed: priced.gas };
      } catch {
        return fail(EVMError.errorMessages.INVALID_INPUT_LENGTH, input.gasLimit);
      }
    },
  }));
}
