import { describe, expect, it } from "vitest";
import * as detml from "../index.js";

describe("the package entry", () => {
  it("exports the core flat and each pipeline stage as a namespace", () => {
    expect(typeof detml.GraphBuilder).toBe("function");
    expect(typeof detml.run).toBe("function");
    expect(typeof detml.ops.conv).toBe("function");
    expect(typeof detml.onnx.convertOnnxFile).toBe("function");
    expect(typeof detml.tfjs.convertTfjsFile).toBe("function");
    expect(typeof detml.compiler.compile).toBe("function");
    expect(typeof detml.runtimeWasm.WasmRunner).toBe("function");
    expect(typeof detml.vm.verifyProof).toBe("function");
    expect(typeof detml.verify.verifyGraph).toBe("function");
  });
});
