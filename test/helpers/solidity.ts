/**
 * Test-only Solidity fixtures (test/chain/fixtures/Counter.sol, test/evm/fixtures/
 * ERC721Receivers.sol) compiled with solc and the settings scripts/build-contracts.mjs uses for the
 * real contracts, into the chain layer's Artifacts, one per contract of the file.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Abi } from "viem";
import type { Artifact } from "../../chain/index.js";

interface SolcContract {
  abi: Abi;
  evm: { bytecode: { object: string }; deployedBytecode: { object: string } };
}

/** Every contract of the Solidity file at `url`, by name; solc's errors are thrown as one message. */
export async function compileSolidityFixture(url: URL): Promise<Record<string, Artifact>> {
  const { SETTINGS } = await import("../../scripts/build-contracts.mjs" as string) as { SETTINGS: object };
  const solc = createRequire(import.meta.url)("solc");
  const file = url.pathname.split("/").pop()!;
  const out = JSON.parse(solc.compile(JSON.stringify({ language: "Solidity", sources: { [file]: { content: readFileSync(url, "utf8") } }, settings: SETTINGS })));
  const errors = (out.errors ?? []).filter((e: { severity: string }) => e.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((e: { formattedMessage: string }) => e.formattedMessage).join("\n"));
  const compiled = out.contracts[file] as Record<string, SolcContract>;
  return Object.fromEntries(Object.entries(compiled).map(([name, c]) => [name, {
    abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
    runtimeBytes: c.evm.deployedBytecode.object.length / 2, runtimeHash: "0x",
  } satisfies Artifact]));
}
