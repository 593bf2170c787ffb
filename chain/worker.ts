/**
 * The worker of detml on chain, and how any party posts a claim. `postClaim` runs the model on an
 * input in the VM (cached per input by `ModelRuns`), turns the run into transaction data
 * (`chainClaim`: output bytes, final memory root and final boundary, or the trapped state) and
 * posts it with its bond, as a claim of its own or as the answer to a request; a cheat (for demos
 * and tests, as `detml dispute --cheat`) posts the claim of dispute's lying view instead and
 * returns the cheater's agent to defend it; `requestInput` reads a request's input from its
 * event. `ensureModel` registers the model unless it already
 * is, checking that the contract computes the id this module has. A `Worker` is the party that
 * serves requests: every poll it reads the model's Requested events (up to head - confirmations)
 * and answers each open request whose current answer is missing or rejected with its honest
 * claim; as every party (watcher.ts) it defends its claims in every game and finalizes them once
 * their window has closed, which pays it the request's fee.
 */
import type { Hex } from "viem";
import { Agent, cheater, type Cheat } from "../dispute/index.js";
import { fromHex } from "../vm/index.js";
import { chainClaim } from "./onchain-dispute.js";
import { ChainRejection, type RefereeClient, type SentTx } from "./referee-client.js";
import type { WalletRole } from "./connect.js";
import { ModelParty, type ModelRuns, type PartyOptions, type PollContext } from "./watcher.js";

/** Register the model unless it is already registered; the contract's id must be the module's. */
export async function ensureModel(client: RefereeClient, wallet: WalletRole, runs: ModelRuns): Promise<{ modelId: Hex; tx?: SentTx }> {
  if (await client.isRegistered(runs.modelId)) return { modelId: runs.modelId };
  const { modelId, tx } = await client.registerModel(wallet, runs.record);
  if (modelId.toLowerCase() !== runs.modelId.toLowerCase()) throw new Error(`the Referee computed model id ${modelId}, but this module's id is ${runs.modelId}`);
  return { modelId, tx };
}

/** The input bytes of request `requestId`, from its event; it must be a request for this model. */
export async function requestInput(client: RefereeClient, runs: ModelRuns, requestId: number): Promise<Uint8Array> {
  const head = await client.conn.publicClient.getBlockNumber();
  const [log] = await client.logs("Requested", client.fromBlock, head, { requestId: BigInt(requestId) });
  if (log === undefined) throw new Error(`no request ${requestId} on the Referee at ${client.address}`);
  if ((log.args.modelId as Hex).toLowerCase() !== runs.modelId.toLowerCase()) throw new Error(`request ${requestId} is for model ${log.args.modelId}, not this module (${runs.modelId})`);
  return fromHex(log.args.input as Hex);
}

export interface PostedClaim {
  claimId: number;
  tx: SentTx;
  kind: "result" | "trap";
  /** The submitter agent that defends the claim (the cheater's, for a cheat). */
  agent: Agent;
}

/** Post the claim of a run on `input` (or, with `requestId`, answer that request, whose input it must be). */
export async function postClaim(
  client: RefereeClient, wallet: WalletRole, runs: ModelRuns, input: Uint8Array, opts: { cheat?: Cheat; requestId?: number } = {},
): Promise<PostedClaim> {
  const truth = runs.view(input);
  const bad = opts.cheat ? cheater(truth, opts.cheat) : undefined;
  const view = bad?.view ?? truth;
  const data = chainClaim(view, truth);
  const agent = new Agent("submitter", view, bad?.strategy ?? {});
  const modelId = runs.modelId;
  const posted = opts.requestId === undefined
    ? data.kind === "result" ? await client.submit(wallet, { modelId, input, ...data }) : await client.submitTrap(wallet, { modelId, input, trapped: data.trapped })
    : data.kind === "result" ? await client.answer(wallet, opts.requestId, data) : await client.answerTrap(wallet, opts.requestId, data.trapped);
  return { ...posted, kind: data.kind, agent };
}

/** The party that answers the model's requests (see the overview); signs as the submitter by default. */
export class Worker extends ModelParty {
  private readonly unrunnable = new Set<number>();

  constructor(client: RefereeClient, runs: ModelRuns, opts: PartyOptions = {}) {
    super(client, runs, { ...opts, wallet: opts.wallet ?? "submitter" });
  }

  protected override async beforeClaims(ctx: PollContext): Promise<void> {
    const requests = await this.requestInputs(ctx.safe);
    await Promise.all([...requests].map(async ([requestId, input]) => {
      // requests(id): modelId, inputRoot, requester, inputChunks, isFinal, fee, claimId
      const r = await this.client.read<readonly unknown[]>("requests", [BigInt(requestId)]);
      if (r[4] as boolean) return;
      const current = Number(r[6] as bigint);
      if (current !== 0 && (await this.client.claim(current)).status !== "rejected") return;
      if (this.unrunnable.has(requestId)) return;
      ctx.settled = false;
      try {
        this.runs.view(input);
      } catch (e) {
        this.unrunnable.add(requestId);
        this.emit({ event: "error", requestId, detail: `cannot run the model on its input: ${(e as Error).message.split("\n")[0]}` });
        return;
      }
      try {
        const posted = await postClaim(this.client, this.wallet, this.runs, input, { requestId });
        this.emit({ event: "answer", requestId, claimId: posted.claimId, detail: `${posted.kind} claim, fee ${r[5]} wei`, txHash: posted.tx.hash, gasUsed: posted.tx.gasUsed });
      } catch (e) {
        if (!(e instanceof ChainRejection)) throw e;
        this.emit({ event: "error", requestId, detail: `answer rejected: ${e.errorName}` });
      }
    }));
  }
}
