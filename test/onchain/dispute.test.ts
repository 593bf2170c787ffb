/**
 * Whole disputes through transactions on the embedded chain: the StepVerifier and Referee
 * deployed, the MLP fixture's claim posted with its input and output bytes, challenged when
 * wrong, the game played by the same agents as in-process, the claim finalized when it stands.
 * A wrong claim loses its bond to the honest challenger, a true claim survives a lying
 * challenger and is accepted unchallenged when no one disagrees, a staller loses by timeout, and
 * the contract's ether always equals its escrow plus the balances.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connectChain, RefereeClient, type ChainConnection } from "../../chain/index.js";
import { disputeOnChain } from "../../chain/onchain-dispute.js";
import { loadFixture } from "../dispute/fixtures.js";

let conn: ChainConnection;
beforeAll(async () => {
  conn = await connectChain("local");
});
afterAll(async () => conn?.close());

describe("disputes on the embedded chain (MLP)", () => {
  const { fixture, view } = loadFixture("mlp");

  test("a wrong output loses its bond to the honest challenger", async () => {
    const r = await disputeOnChain(conn, view, fixture.input, { cheat: { kind: "output" } });
    expect(r.challenged).toBe(true);
    expect(r.winner).toBe("challenger");
    expect(r.moves.some((m) => m.kind === "prove" && !m.rejected)).toBe(true);
    const bond = 10n ** 18n;
    expect(r.balances.challenger.after - r.balances.challenger.before).toBe(bond);
    expect(r.balances.submitter.before - r.balances.submitter.after).toBe(bond);
    expect(r.conserved).toBe(true);
  }, 60_000);

  test("a true claim is accepted unchallenged, and survives a lying challenger", async () => {
    const quiet = await disputeOnChain(conn, view, fixture.input);
    expect([quiet.challenged, quiet.winner, quiet.conserved]).toEqual([false, "submitter", true]);
    const lied = await disputeOnChain(conn, view, fixture.input, { cheat: { kind: "op", op: 1 }, cheatSide: "challenger" });
    expect([lied.challenged, lied.winner, lied.conserved]).toEqual([true, "submitter", true]);
    expect(lied.balances.submitter.after - lied.balances.submitter.before).toBe(10n ** 18n);
  }, 60_000);

  test("a submitter that stops moving loses by timeout", async () => {
    const r = await disputeOnChain(conn, view, fixture.input, { cheat: { kind: "stall", move: 2 } });
    expect(r.winner).toBe("challenger");
    expect(r.moves.at(-1)?.kind).toBe("timeout");
    expect(r.conserved).toBe(true);
  }, 60_000);

  test("a Referee address that is malformed or holds no contract is a one-line error", async () => {
    await expect(RefereeClient.attach(conn, "0x123")).rejects.toThrow(/^the Referee address 0x123 is not an address \(0x and 40 hex digits\)$/);
    await expect(RefereeClient.attach(conn, `0x${"00".repeat(19)}42`)).rejects.toThrow(/^no contract at 0x0{38}42 on this chain/);
  });
});
