/**
 * The compiled-contract artifacts and deployContract's code check: contracts/build/artifacts.json
 * is found from source, unknown names say what exists and what to run, every compiled contract
 * fits the EIP-170 limit, `runtimeMatches` accepts immutables (bytes the artifact leaves zero)
 * but nothing else, and deployContract refuses an oversized artifact before sending it.
 */
import { describe, expect, it } from "vitest";
import { artifactsPath, deployContract, getArtifact, loadArtifacts, MAX_RUNTIME_BYTES, runtimeMatches, type ChainConnection } from "../../chain/index.js";

describe("artifacts", () => {
  it("loads contracts/build/artifacts.json relative to the module", () => {
    expect(artifactsPath()).toMatch(/contracts\/build\/artifacts\.json$/);
    const { contracts, settings } = loadArtifacts();
    expect(settings.evmVersion).toBe("osaka");
    expect(Object.keys(contracts).length).toBeGreaterThan(0);
    for (const [name, c] of Object.entries(contracts)) {
      expect(c.runtimeBytes, name).toBeLessThanOrEqual(MAX_RUNTIME_BYTES);
      expect((c.deployedBytecode.length - 2) / 2, name).toBe(c.runtimeBytes);
    }
  });

  it("names the contracts it has when asked for another", () => {
    expect(() => getArtifact("NoSuchContract")).toThrow(/^no contract NoSuchContract in contracts\/build\/artifacts\.json \(has: .+\); run npm run build$/);
  });
});

describe("runtimeMatches", () => {
  const artifact = "0x6080000000ff";
  it("accepts the artifact's code with immutables filled in", () => {
    expect(runtimeMatches("0x6080000000ff", artifact)).toBe(true);
    expect(runtimeMatches("0x6080deadbeff", artifact)).toBe(true);
  });
  it("rejects another length or a changed nonzero byte", () => {
    expect(runtimeMatches("0x6080000000", artifact)).toBe(false);
    expect(runtimeMatches("0x6081000000ff", artifact)).toBe(false);
    expect(runtimeMatches("0x6080000000fe", artifact)).toBe(false);
  });
});

describe("deployContract", () => {
  it("refuses an artifact over the code-size limit before sending anything", async () => {
    const noChain = { publicClient: undefined, wallet: () => { throw new Error("no transaction expected"); } } as unknown as ChainConnection;
    const big = { abi: [], bytecode: "0x00", deployedBytecode: `0x${"60".repeat(MAX_RUNTIME_BYTES + 1)}`, runtimeBytes: MAX_RUNTIME_BYTES + 1, runtimeHash: "0x" } as const;
    await expect(deployContract(noChain, "Big", [], { artifact: big })).rejects.toThrow("Big: runtime code is 24577 bytes, over the 24576-byte limit (EIP-170)");
  });
});
