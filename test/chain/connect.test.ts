/**
 * connectChain's failure modes and its account rules against URLs, with a stub JSON-RPC server
 * (node:http) standing in for a node: a bad spec, a node that does not answer, a chain that is
 * not a dev chain (keys required, one-line errors naming the variable, no mining, keys never
 * echoed), and a dev chain at a URL whose accounts the node signs for.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { privateKeyToAddress } from "viem/accounts";
import { connectChain, DEV_PRIVATE_KEYS } from "../../chain/index.js";

/** A JSON-RPC server answering from `answers` (method -> result); it records every method asked. */
async function stubNode(answers: Record<string, unknown>): Promise<{ url: string; asked: string[]; server: Server }> {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      asked.push(method);
      const reply = method in answers ? { result: answers[method] } : { error: { code: -32601, message: "method not found" } };
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ jsonrpc: "2.0", id, ...reply }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked, server };
}

const servers: Server[] = [];
afterEach(() => { for (const s of servers.splice(0)) s.close(); });

const oneLine = (e: unknown) => { expect(String((e as Error).message)).not.toContain("\n"); return (e as Error).message; };
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("expected a failure"); }, oneLine);

describe("connectChain", () => {
  it("rejects a spec that is neither local, anvil nor an http(s) URL", async () => {
    expect(await failure(connectChain("ws://127.0.0.1:8545"))).toMatch(/^bad chain "ws:\/\/127\.0\.0\.1:8545": expected local, anvil or an http\(s\):\/\/ URL/);
    expect(await failure(connectChain("mainnet"))).toMatch(/^bad chain "mainnet"/);
  });

  it("says so in one line when the node does not answer", async () => {
    const { url, server } = await stubNode({});
    server.close();
    expect(await failure(connectChain(url, { timeoutMs: 2000 }))).toMatch(/^no answer from the chain at http:\/\/127\.0\.0\.1:\d+ \(eth_chainId\): /);
  });

  it("on a chain that is not a dev chain, needs the keys and names them", async () => {
    const node = await stubNode({ eth_chainId: "0x1" });
    servers.push(node.server);
    const chain = await connectChain(node.url, { env: {} });
    expect([chain.kind, chain.chainId, chain.dev, chain.accounts]).toEqual(["rpc", 1, false, []]);
    expect(() => chain.wallet("submitter")).toThrow(/^no key for the submitter: set DETML_PRIVATE_KEY \(chain 1 at http/);
    expect(() => chain.wallet("challenger")).toThrow(/set DETML_CHALLENGER_KEY/);
    expect(() => chain.wallet(0)).toThrow(/no dev accounts on chain 1/);
    expect(await failure(chain.mine(1))).toMatch(/^cannot mine blocks on chain 1 at .*: not a dev chain$/);

    const key = DEV_PRIVATE_KEYS[3];
    const keyed = await connectChain(node.url, { env: { DETML_PRIVATE_KEY: key.slice(2) } });
    expect(keyed.wallet("submitter").account.address).toBe(privateKeyToAddress(key));
    expect(node.asked).not.toContain("anvil_setBalance");
  });

  it("refuses a malformed key without echoing it", async () => {
    const secret = "0x1234secretsecret";
    const message = await failure(connectChain("local", { env: { DETML_CHALLENGER_KEY: secret } }));
    expect(message).toBe("DETML_CHALLENGER_KEY is not a private key (expected 32 bytes in hex)");
  });

  it("uses a dev chain's accounts at a URL; unknown ones are signed for by the node", async () => {
    const other = "0x00000000000000000000000000000000000000aa";
    const known = privateKeyToAddress(DEV_PRIVATE_KEYS[0]);
    const node = await stubNode({ eth_chainId: "0x7a69", eth_accounts: [known.toLowerCase(), other] });
    servers.push(node.server);
    const chain = await connectChain(node.url, { env: {} });
    expect([chain.kind, chain.dev, chain.accounts.length]).toEqual(["rpc", true, 2]);
    expect(chain.wallet("submitter").account).toMatchObject({ type: "local", address: known });
    expect(chain.wallet("challenger").account).toMatchObject({ type: "json-rpc" });
    expect(chain.wallet(1)).toBe(chain.wallet(1));
    expect(() => chain.wallet(2)).toThrow(/no dev account 2: the chain has 2/);
  });
});
