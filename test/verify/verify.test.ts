import { describe, expect, it } from "vitest";
import { run } from "../../lib/executor.js";
import { Tensor } from "../../lib/tensor/tensor.js";
import { engineByName, type Engine, referenceEngine } from "../../verify/engines.js";
import { randomSamples } from "../../lib/verify/inputs.js";
import type { FloatOracle } from "../../lib/verify/oracle.js";
import { verifyGraph } from "../../verify/verify.js";
import { addBiasF, matmulF, reluF } from "../helpers/float-nn.js";
import { buildMlp } from "../helpers/models.js";

/** The float MLP of test/helpers/models.ts as an oracle. */
function mlpOracle(m: ReturnType<typeof buildMlp>): FloatOracle {
  const [inp, hid, out] = m.sizes;
  return {
    name: "float mlp",
    inputs: [{ name: "x", dtype: "float32", shape: [1, inp] }],
    outputs: [{ name: "y", dtype: "float32", shape: [1, out] }],
    run: async (inputs) => {
      const h = reluF(addBiasF(matmulF(inputs.get("x")!.data, m.w1, 1, inp, hid), m.b1));
      return new Map([["y", { shape: [1, out], data: addBiasF(matmulF(h, m.w2, 1, hid, out), m.b2) }]]);
    },
  };
}

/** An engine that runs the reference executor and optionally nudges one output value. */
const fakeEngine = (name: string, nudge: number): Engine => ({
  name,
  description: "test engine",
  load: async (graph) => ({
    run: async (inputs) => {
      const outs = run(graph, inputs).outputs;
      const y = outs.get("y")!;
      const data = y.data.slice();
      data[0] += nudge;
      return new Map([["y", new Tensor(y.shape, data, y.frac)]]);
    },
  }),
});

describe("verifyGraph", () => {
  for (const seed of [1, 2]) {
    it(`reports small errors and full argmax agreement on an MLP (seed ${seed})`, async () => {
      const m = buildMlp(seed);
      const samples = randomSamples(m.graph, 20, seed);
      const report = await verifyGraph(m.graph, mlpOracle(m), samples);
      expect(report.samples).toBe(20);
      expect(report.oracle).toBe("float mlp");
      expect(report.engines.map((e) => e.engine)).toEqual(["ref"]);
      const [y] = report.engines[0].outputs;
      expect(y).toMatchObject({ name: "y", shape: [1, 10], samples: 20, count: 200, integer: false, saturated: 0 });
      // Q16 inputs and activations, weights at <= 20 bits: errors of a few 1e-5 (see test/executor).
      expect(y.maxAbsError).toBeLessThan(2e-3);
      expect(y.maxRelError).toBeLessThan(1e-3);
      expect(y.argmax!.total).toBe(20);
      expect(y.argmax!.agree).toBeGreaterThanOrEqual(19);
    });
  }

  it("checks later engines bit for bit against the first", async () => {
    const m = buildMlp(3);
    const samples = randomSamples(m.graph, 2, 0);
    const report = await verifyGraph(m.graph, mlpOracle(m), samples, { engines: [referenceEngine, fakeEngine("same", 0), fakeEngine("off", 1)] });
    expect(report.engines.map((e) => [e.engine, e.identicalTo?.identical])).toEqual([["ref", undefined], ["same", true], ["off", false]]);
  });

  it("checks the canonical build against the first engine when a fast build computes the outputs", async () => {
    const m = buildMlp(4);
    const samples = randomSamples(m.graph, 3, 0);
    const fast: Engine = { ...fakeEngine("wasm", 0), build: "fast" };
    const check = (canonical: Engine | false, engines: Engine[] = [referenceEngine, fast]) => verifyGraph(m.graph, mlpOracle(m), samples, { engines, canonical });
    expect((await check(fakeEngine("same", 0))).canonical).toMatchObject({ against: "ref", samples: 3, identical: 3 });
    expect((await check(fakeEngine("off", 1))).canonical).toMatchObject({ against: "ref", samples: 3, identical: 0 });
    expect((await check(false)).canonical).toBeUndefined();
    // Without a fast build nothing stands in for the canonical one: no check.
    expect((await check(fakeEngine("off", 1), [referenceEngine, fakeEngine("wasm", 0)])).canonical).toBeUndefined();
    expect(engineByName("wasm").build).toBe("fast");
    expect(engineByName("wasm", "canonical").build).toBe("canonical");
    expect(engineByName("vm", "fast").build).toBe("canonical");
  });

  it("names unknown engines and refuses empty sample lists", async () => {
    expect(() => engineByName("gpu")).toThrow("unknown engine 'gpu' (engines: ref, wasm, vm, evm, evm-precompiles)");
    const m = buildMlp(1);
    await expect(verifyGraph(m.graph, mlpOracle(m), [])).rejects.toThrow("no samples to verify");
  });
});
