/**
 * `connectChain(spec, options)`: the one way every on-chain command of detml reaches a chain.
 * `spec` is "local" (the embedded in-process chain of embedded.ts: no ports, no binaries; the
 * default), "anvil" (a fresh anvil started by anvil.ts, stopped by `close()`) or an http(s) URL
 * of any JSON-RPC node. It returns a `ChainConnection`: a viem `publicClient`, `wallet(role)`
 * (a viem wallet client for "submitter", "challenger" or dev account i), the node's dev
 * `accounts`, `mine(n)`, `snapshot()` / `revert(id)` (dev chains), `close()` and `kind`.
 *
 * Keys come from the environment only, never the command line: DETML_PRIVATE_KEY signs as the
 * submitter and DETML_CHALLENGER_KEY as the challenger (local accounts; a key with no balance on
 * "local" or "anvil" is given 10,000 ETH there). Without a key, a dev chain (embedded, anvil, or a
 * URL whose chain id is 31337 and which lists eth_accounts) uses its first dev accounts:
 * submitter = accounts[0], challenger = accounts[1]; those with anvil's public test keys are
 * signed for here, others by the node (eth_sendTransaction). On any other chain a
 * role without its key is a one-line error naming the variable, raised by `wallet(role)` (read-only
 * use needs no key). A bad URL or a node that does not answer eth_chainId is a one-line error.
 * viem (and @ethereumjs for "local") are imported on the first call, never when detml is merely
 * imported; when missing, the error says what to install.
 */
import type { Account, Address, Chain, Hex, NonceManager, PublicClient, Transport, WalletClient } from "viem";
import { startAnvil, type AnvilNode, type AnvilOptions } from "./anvil.js";
import { DEV_CHAIN_ID, DEV_PRIVATE_KEYS, createEmbeddedChain, isModuleNotFound } from "./embedded.js";

export type ChainSpec = "local" | "anvil" | (string & {});
export type WalletRole = "submitter" | "challenger" | number;
export type ChainKind = "embedded" | "anvil" | "rpc";

export interface ConnectOptions {
  /** Where keys are read from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** How anvil is started for spec "anvil". */
  anvil?: AnvilOptions;
  /** How often viem polls for blocks and receipts, in ms (default 50 on a dev chain, 1000 on others). */
  pollingIntervalMs?: number;
  /** Timeout of one JSON-RPC request over HTTP, in ms (default 10,000). */
  timeoutMs?: number;
  /** Add the DNN-operator precompiles (chain/precompiles.ts); only the embedded chain ("local") has them. */
  precompiles?: boolean;
}

export interface ChainConnection {
  readonly kind: ChainKind;
  readonly chainId: number;
  /** The JSON-RPC endpoint ("anvil" and URLs; undefined for the embedded chain). */
  readonly url: string | undefined;
  /** Whether the node is a dev chain (its dev accounts, mining and snapshots are available). */
  readonly dev: boolean;
  readonly publicClient: PublicClient<Transport, Chain>;
  /** The node's dev accounts (empty on other chains); `wallet(i)` signs as accounts[i]. */
  readonly accounts: readonly Address[];
  /** A wallet client for a role or dev account index; the same client on every call. */
  wallet(role: WalletRole): WalletClient<Transport, Chain, Account>;
  /** Mines `blocks` empty blocks (dev chains only), e.g. to pass a challenge window. */
  mine(blocks: number): Promise<void>;
  /** evm_snapshot: an id to rewind the chain to (dev chains only). */
  snapshot(): Promise<Hex>;
  /** evm_revert to a snapshot, e.g. to simulate a reorg; the wallets' nonce caches are reset. */
  revert(id: Hex): Promise<void>;
  /** Stops what connectChain started (the anvil process); idempotent. */
  close(): Promise<void>;
}

const KEY_VARIABLES = { submitter: "DETML_PRIVATE_KEY", challenger: "DETML_CHALLENGER_KEY" } as const;
const DEV_KEY_BALANCE = 10_000n * 10n ** 18n;

async function loadViem() {
  try {
    const [viem, accounts, nonce] = await Promise.all([import("viem"), import("viem/accounts"), import("viem/nonce")]);
    return { viem, accounts, nonce };
  } catch (e) {
    if (!isModuleNotFound(e)) throw e;
    throw new Error("detml's chain commands need viem: install viem (npm install viem@2)");
  }
}

/** The first line of an error's message: viem's messages run over many lines. */
function firstLine(e: unknown): string {
  const err = e as { shortMessage?: string; message?: string };
  return (err.shortMessage ?? err.message ?? String(e)).split("\n")[0];
}

function readKey(env: Readonly<Record<string, string | undefined>>, variable: string): Hex | undefined {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === "") return undefined;
  const key = raw.startsWith("0x") ? raw : `0x${raw}`;
  // Never echo the value: it is a secret.
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new Error(`${variable} is not a private key (expected 32 bytes in hex)`);
  return key as Hex;
}

/** The one-line refusal of a chain other than the embedded one for what needs the DNN-operator precompiles. */
export function precompilesOnlyLocal(spec: string): string {
  return `the DNN-operator precompiles exist only on the embedded chain (--chain local), not on ${spec}`;
}

export async function connectChain(spec: ChainSpec = "local", options: ConnectOptions = {}): Promise<ChainConnection> {
  const env = options.env ?? process.env;
  const keys = { submitter: readKey(env, KEY_VARIABLES.submitter), challenger: readKey(env, KEY_VARIABLES.challenger) };
  const { viem, accounts: viemAccounts, nonce } = await loadViem();

  let kind: ChainKind;
  let url: string | undefined;
  /** The transport; `probe` is the one that checks the node answers: no retries, a quick verdict. */
  let transport: Transport, probe: Transport;
  let anvil: AnvilNode | undefined;
  const timeout = options.timeoutMs ?? 10_000;
  if (options.precompiles && spec !== "local") throw new Error(precompilesOnlyLocal(spec));
  if (spec === "local") {
    kind = "embedded";
    // In-process: no transient failures to retry (and viem would retry every revert).
    transport = probe = viem.custom(await createEmbeddedChain({ precompiles: options.precompiles }), { retryCount: 0 });
  } else if (spec === "anvil") {
    kind = "anvil";
    anvil = await startAnvil(options.anvil);
    url = anvil.url;
    transport = viem.http(url, { timeout });
    probe = viem.http(url, { timeout, retryCount: 0 });
  } else {
    let parsed: URL | undefined;
    try { parsed = new URL(spec); } catch { parsed = undefined; }
    if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
      throw new Error(`bad chain "${spec}": expected local, anvil or an http(s):// URL of a JSON-RPC node`);
    }
    kind = "rpc";
    url = spec;
    transport = viem.http(url, { timeout });
    probe = viem.http(url, { timeout, retryCount: 0 });
  }

  try {
    let chainId: number;
    try {
      chainId = await viem.createPublicClient({ transport: probe }).getChainId();
    } catch (e) {
      throw new Error(`no answer from the chain at ${url ?? "local"} (eth_chainId): ${firstLine(e)}`);
    }
    const devAccounts: Address[] = kind !== "rpc" || chainId === DEV_CHAIN_ID
      ? await viem.createWalletClient({ transport: probe }).getAddresses().catch(() => [])
      : [];
    const dev = kind !== "rpc" || devAccounts.length > 0;
    const chain = viem.defineChain({
      id: chainId, name: kind === "rpc" ? `chain ${chainId}` : `detml ${kind}`,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: url === undefined ? [] : [url] } },
    });
    const pollingInterval = options.pollingIntervalMs ?? (dev ? 50 : 1000);
    // On a dev chain the block number changes under the caller's hands (mine, revert): no cache.
    const cacheTime = dev ? 0 : pollingInterval;
    const publicClient = viem.createPublicClient({ chain, transport, pollingInterval, cacheTime }) as PublicClient<Transport, Chain>;
    // The dev methods (anvil_*, evm_*) are outside viem's typed public RPC schema.
    const devRpc = (method: string, params: unknown[] = []) =>
      (publicClient.request as (args: { method: string; params: unknown[] }) => Promise<unknown>)({ method, params });

    // One nonce manager per connection, so revert() can reset what it remembers.
    const nonceManager: NonceManager = nonce.createNonceManager({ source: nonce.jsonRpc() });
    const localAccounts = new Map<"submitter" | "challenger", Account>();
    for (const role of ["submitter", "challenger"] as const) {
      const key = keys[role];
      if (key === undefined) continue;
      const account = viemAccounts.privateKeyToAccount(key, { nonceManager });
      localAccounts.set(role, account);
      // A fresh dev chain does not know the user's keys: fund them as anvil funds its own.
      if (kind !== "rpc" && await publicClient.getBalance({ address: account.address }) === 0n) {
        await devRpc("anvil_setBalance", [account.address, viem.toHex(DEV_KEY_BALANCE)]);
      }
    }

    // Dev accounts with the public test keys (embedded, anvil, hardhat) sign here too, so every
    // wallet estimates gas and decodes reverts client-side and shares the nonce manager.
    const publicDevKeys = new Map<Address, Hex>(DEV_PRIVATE_KEYS.map((k) => [viemAccounts.privateKeyToAddress(k), k]));
    const devAccount = (address: Address): Account | Address => {
      const key = publicDevKeys.get(address);
      return key === undefined ? address : viemAccounts.privateKeyToAccount(key, { nonceManager });
    };
    const wallets = new Map<string, WalletClient<Transport, Chain, Account>>();
    const accountFor = (role: WalletRole): Account | Address => {
      if (typeof role === "number") {
        if (!Number.isInteger(role) || role < 0 || role >= devAccounts.length) {
          throw new Error(dev ? `no dev account ${role}: the chain has ${devAccounts.length}` : `no dev accounts on chain ${chainId}: set ${KEY_VARIABLES.submitter} / ${KEY_VARIABLES.challenger}`);
        }
        return devAccount(devAccounts[role]);
      }
      const local = localAccounts.get(role);
      if (local !== undefined) return local;
      const fallback = devAccounts[role === "submitter" ? 0 : 1];
      if (fallback === undefined) throw new Error(`no key for the ${role}: set ${KEY_VARIABLES[role]} (chain ${chainId} at ${url} has no dev accounts)`);
      return devAccount(fallback);
    };
    const requireDev = (what: string) => {
      if (!dev) throw new Error(`cannot ${what} on chain ${chainId} at ${url}: not a dev chain`);
    };

    let closed = false;
    return {
      kind, chainId, url, dev, publicClient, accounts: devAccounts,
      wallet(role) {
        const id = String(role);
        let client = wallets.get(id);
        if (client === undefined) {
          client = viem.createWalletClient({ account: accountFor(role), chain, transport, pollingInterval, cacheTime }) as WalletClient<Transport, Chain, Account>;
          wallets.set(id, client);
        }
        return client;
      },
      async mine(blocks) {
        requireDev("mine blocks");
        if (!Number.isSafeInteger(blocks) || blocks < 0) throw new Error(`mine: ${blocks} is not a block count`);
        if (blocks === 0) return;
        await devRpc("anvil_mine", [viem.toHex(blocks)]);
      },
      async snapshot() {
        requireDev("take a snapshot");
        return await devRpc("evm_snapshot") as Hex;
      },
      async revert(id) {
        requireDev("revert");
        const ok = await devRpc("evm_revert", [id]);
        if (ok !== true) throw new Error(`evm_revert: no snapshot ${id}`);
        for (const client of wallets.values()) nonceManager.reset({ address: client.account.address, chainId });
      },
      async close() {
        if (closed) return;
        closed = true;
        await anvil?.stop();
      },
    };
  } catch (e) {
    await anvil?.stop();
    throw e;
  }
}
