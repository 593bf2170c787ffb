import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../lib/graph/builder.js";
import { inferTypes } from "../../lib/graph/validate.js";
import { buildCnn } from "../helpers/models.js";

describe("graph validation and shape inference", () => {
  it("infers every value's shape and frac in a CNN", () => {
    const { graph } = buildCnn(1);
    const types = inferTypes(graph);
    expect(types.get("conv")).toEqual({ shape: [1, 4, 8, 8], frac: 16 });
    expect(types.get("pool")).toEqual({ shape: [1, 4, 4, 4], frac: 16 });
    expect(types.get("y")).toEqual({ shape: [1, 5], frac: 16 });
  });

  it("names the node and the problem when shapes do not fit", () => {
    const g = new GraphBuilder();
    const x = g.input("x", [1, 3]);
    const w = g.constant("w", [1, 2, 3, 4], [2, 2]);
    expect(() => g.op("MatMul", [x, w], {}, { name: "fc1" })).toThrow(/node 'fc1' \(MatMul\)/);
  });

  it("rejects unknown ops, unknown attributes, missing inputs and undefined values", () => {
    const g = new GraphBuilder();
    const x = g.input("x", [1, 4]);
    expect(() => g.op("Softplus", [x])).toThrow(/unknown op kind 'Softplus'/);
    expect(() => g.op("Relu", [x], { alpha: 1 })).toThrow(/Relu has no attribute 'alpha'/);
    expect(() => g.op("Add", [x])).toThrow(/takes 2 inputs/);
  });

  it("rejects a graph whose output is not produced, and duplicate names", () => {
    const g = new GraphBuilder();
    const x = g.input("x", [2]);
    g.op("Relu", [x], {}, { name: "r", outputs: ["y"] });
    g.output("z");
    expect(() => g.build()).toThrow(/graph output 'z' is not produced/);
    const h = new GraphBuilder();
    const a = h.input("a", [2]);
    h.op("Relu", [a], {}, { name: "r", outputs: ["a"] });
    h.output("a");
    expect(() => h.build()).toThrow(/value 'a' is defined twice/);
  });
});
