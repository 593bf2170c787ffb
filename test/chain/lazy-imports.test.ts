/**
 * `import "detml"` (and the chain barrel itself) must not load viem or @ethereumjs: they are
 * optional peers that only the chain commands need. Every specifier the chain layer imports is
 * mocked with a factory that records the load, so a static import anywhere in the module graph
 * shows up; the last test is the control: calling into the chain layer does record loads.
 */
import { describe, expect, it, vi } from "vitest";

const loaded = vi.hoisted(() => new Set<string>());

vi.mock("viem", () => { loaded.add("viem"); return {}; });
vi.mock("viem/accounts", () => { loaded.add("viem/accounts"); return {}; });
vi.mock("viem/nonce", () => { loaded.add("viem/nonce"); return {}; });
vi.mock("@ethereumjs/vm", () => { loaded.add("@ethereumjs/vm"); return {}; });
vi.mock("@ethereumjs/common", () => { loaded.add("@ethereumjs/common"); return {}; });
vi.mock("@ethereumjs/tx", () => { loaded.add("@ethereumjs/tx"); return {}; });
vi.mock("@ethereumjs/util", () => { loaded.add("@ethereumjs/util"); return {}; });
vi.mock("@ethereumjs/block", () => { loaded.add("@ethereumjs/block"); return {}; });

describe("lazy loading of the chain dependencies", () => {
  it("importing detml and its chain layer loads neither viem nor @ethereumjs", async () => {
    await import("../../index.js");
    const chain = await import("../../chain/index.js");
    expect(typeof chain.connectChain).toBe("function");
    expect([...loaded]).toEqual([]);
  });

  it("calling the chain layer does load them (the control)", async () => {
    const { connectChain, createEmbeddedChain } = await import("../../chain/index.js");
    await expect(connectChain("local")).rejects.toThrow();
    await expect(createEmbeddedChain()).rejects.toThrow();
    expect(loaded).toContain("viem");
    expect(loaded).toContain("@ethereumjs/vm");
  });
});
