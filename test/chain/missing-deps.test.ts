/**
 * Without viem or @ethereumjs installed (optional peers of detml), the chain layer fails with a
 * one-line error that says what to install. Both are mocked here as modules that cannot be
 * found, the way Node reports a missing package (ERR_MODULE_NOT_FOUND).
 */
import { describe, expect, it, vi } from "vitest";

function missing(name: string): never {
  throw Object.assign(new Error(`Cannot find package '${name}'`), { code: "ERR_MODULE_NOT_FOUND" });
}
vi.mock("viem", () => missing("viem"));
vi.mock("@ethereumjs/vm", () => missing("@ethereumjs/vm"));

describe("missing optional dependencies", () => {
  it("names viem when it is missing", async () => {
    const { connectChain } = await import("../../chain/index.js");
    await expect(connectChain("local")).rejects.toThrow(/^detml's chain commands need viem: install viem \(npm install viem@2\)$/);
  });

  it("names @ethereumjs when it is missing", async () => {
    const { createEmbeddedChain } = await import("../../chain/index.js");
    await expect(createEmbeddedChain()).rejects.toThrow(/^the embedded chain needs @ethereumjs: install @ethereumjs\/vm@10 /);
  });
});
