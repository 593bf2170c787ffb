/**
 * `detml dispute`: the command plays a game on the compiled MLP fixture (input from its .npy
 * through the module's manifest) and reports the rounds, the disputed op and step, the proof, the
 * winner and the bond transfers; --json carries "winner"; --cheat-side flips the roles.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test, vi } from "vitest";
import { disputeCommand } from "../../bin/commands/dispute.js";
import { loadFixture } from "./fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "detml-dispute-cli-"));
const model = join(dir, "mlp.wasm");
writeFileSync(model, loadFixture("mlp").fixture.wasm);
const input = ["fixtures/data/mlp_input.npy"];

async function run(args: Record<string, unknown>): Promise<string> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...x: unknown[]) => void lines.push(x.join(" ")));
  try {
    await disputeCommand.handler!({ _: [], $0: "detml", model, input, sample: 0, json: false, degree: 4, "cheat-side": "submitter", ...args } as never);
  } finally {
    spy.mockRestore();
  }
  return lines.join("\n");
}

describe("detml dispute", () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  test("a submitter who alters op 1 loses: rounds, disputed op and step, proof, winner, bonds", async () => {
    const out = await run({ cheat: "op:1" });
    expect(out).toMatch(/submitter +bisect \(\d+ bytes\)/);
    expect(out).toMatch(/disputed op: 1 \(op_0\), step \d+ of \d+/);
    expect(out).toMatch(/proof: \d+ bytes \(\d+ words\)/);
    expect(out).toMatch(/winner: challenger/);
    expect(out).toMatch(/submitter +10000 -> 9000 \(-1000\)/);
    expect(out).toMatch(/challenger +10000 -> 11000 \(\+1000\)/);
  });

  test("--json: winner for every cheat on both sides; no cheat means no challenge", async () => {
    for (const cheat of ["output", "op:2", "step:500", "round:2", "random:7", "stall"]) {
      for (const side of ["submitter", "challenger"]) {
        const r = JSON.parse(await run({ cheat, "cheat-side": side, json: true }));
        expect(r.winner, `${cheat} by the ${side}`).toBe(side === "submitter" ? "challenger" : "submitter");
        expect(r.conserved).toBe(true);
      }
    }
    const honest = JSON.parse(await run({ json: true, degree: 2 }));
    expect([honest.challenged, honest.winner]).toEqual([false, "submitter"]);
    const step = JSON.parse(await run({ cheat: "step:500", json: true, degree: 2 }));
    expect(step.disputed).toMatchObject({ op: 1, step: 499 - 31 });
    expect(step.proof.bytes % 32).toBe(0);
  });

  test("bad cheats are refused with the list of cheats", async () => {
    await expect(run({ cheat: "swap" })).rejects.toThrow(/unknown cheat 'swap' \(output, op:K/);
    await expect(run({ cheat: "op" })).rejects.toThrow(/needs an op/);
    await expect(run({ cheat: "op:99" })).rejects.toThrow(/op 99 does not exist/);
  });
});
