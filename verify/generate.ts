/**
 * Greedy text generation with a language model graph on any engine (`detml generate`). Two model
 * shapes are recognised by their inputs (fixtures/pytorch/train_small_gpt.py makes both):
 * a full-context model (`tokens` [1, T] -> `logits` [1, T, V], causal), run once per new token on
 * the tokens so far (zero-padded to T; position i sees tokens 0..i only, so the padding never
 * matters), and a key/value-cache model (`token` [1, 1], `position` [1], `past` -> `logits`
 * [1, 1, V], `present`), run once per token with the cache that the previous run returned (the
 * prompt's tokens are fed first, one run each). Decoding is greedy (argmax, lowest id on a tie),
 * so every engine that computes the same integers picks the same tokens. Each run goes through
 * one `TokenRunner`, so a caller can record it (dispute/chained.ts makes a chained claim of it).
 * The cache goes from `present` back to `past` here, in JS, unless the engine runs a module
 * compiled with the cache as a state tensor (`cacheState`, docs/abi.md "State"): that module
 * keeps it in its memory, and its runs take the token and position only.
 */
import type { StatePair } from "../compiler/state.js";
import type { Graph, ValueInfo } from "../lib/graph/ir.js";
import { Tensor } from "../lib/tensor/tensor.js";

/** One run of the model: named inputs to named outputs. */
export type TokenRunner = (inputs: Map<string, Tensor>) => Promise<Map<string, Tensor>> | Map<string, Tensor>;

export interface LanguageModelShape {
  kind: "full" | "kv";
  /** Tokens the model sees at most (T): prompt plus generated tokens must fit. */
  context: number;
  /** The cache input (kv models). */
  past?: ValueInfo;
}

export interface GeneratedToken {
  /** 0 for the first generated token. */
  index: number;
  token: number;
  /** Milliseconds of the run(s) that produced it. */
  ms: number;
}

export interface GenerateOptions {
  /** Called as each token comes. */
  onToken?: (t: GeneratedToken) => void;
  /** The engine keeps the cache in module memory (a module compiled with `cacheState`): runs get no `past` and return no `present`. */
  cacheInModule?: boolean;
}

export interface Generation {
  prompt: number[];
  tokens: number[];
  /** Model runs: one per token (kv models also run once per prompt token before the first). */
  runs: number;
  ms: number;
  tokensPerSecond: number;
}

const input = (graph: Graph, name: string): ValueInfo | undefined => graph.inputs.find((i) => i.name === name);

/** Which of the two language model shapes a graph has (an error naming `source` and the inputs otherwise). */
export function languageModelShape(graph: Graph, source?: string): LanguageModelShape {
  const tokens = input(graph, "tokens");
  if (tokens && graph.inputs.length === 1 && tokens.shape.length === 2 && tokens.shape[0] === 1) return { kind: "full", context: tokens.shape[1] };
  const past = input(graph, "past");
  if (past && input(graph, "token") && input(graph, "position") && graph.inputs.length === 3) {
    // The cache is [layers, 2, heads, T, head width]: slot axis 3.
    return { kind: "kv", context: past.shape[3], past };
  }
  const names = graph.inputs.map((i) => `${i.name} [${i.shape.join(", ")}]`).join(", ");
  throw new Error(`${source ? `${source}: ` : ""}not a language model detml can generate with: its inputs are ${names}; expected tokens [1, T], or token [1, 1], position [1] and past (a key/value cache)`);
}

/** The state pair that keeps a cache model's cache in module memory (`past=present`); none for a full-context model. */
export function cacheState(graph: Graph): StatePair[] {
  if (languageModelShape(graph).kind !== "kv") return [];
  if (!graph.outputs.includes("present")) throw new Error(`the key/value-cache model has no output 'present' (outputs: ${graph.outputs.join(", ")})`);
  return [{ input: "past", output: "present" }];
}

/** The id of the largest logit among `count` values from `offset` (the lowest id on a tie). */
export function argmaxAt(data: Int32Array, offset: number, count: number): number {
  let best = 0;
  for (let i = 1; i < count; i++) if (data[offset + i] > data[offset + best]) best = i;
  return best;
}

/** A tensor's values at another frac (round half up, as quantization does). */
function atFrac(t: Tensor, frac: number): Tensor {
  if (t.frac === frac) return t;
  const shift = frac - t.frac;
  const data = shift > 0 ? t.data.map((v) => v * 2 ** shift) : t.data.map((v) => Math.floor(v / 2 ** -shift + 0.5));
  return new Tensor(t.shape, Int32Array.from(data), frac);
}

/** The next-token logits of a run: the last row of the logits output. */
function nextToken(outputs: Map<string, Tensor>, position: number): number {
  const logits = outputs.get("logits") ?? [...outputs.values()][0];
  const vocab = logits.shape[logits.shape.length - 1];
  const rows = logits.size / vocab;
  return argmaxAt(logits.data, Math.min(position, rows - 1) * vocab, vocab);
}

/** The cache a run returned (an engine that keeps it in memory returns none: cacheInModule). */
function presentOf(outputs: Map<string, Tensor>): Tensor {
  const present = outputs.get("present");
  if (!present) throw new Error("the run returned no 'present' cache: a module compiled with the cache as a state tensor keeps it in memory (generate with cacheInModule)");
  return present;
}

/**
 * Generate `count` tokens after `prompt` greedily, calling `onToken` as each one comes. The
 * prompt must be non-empty and prompt plus tokens must fit the model's context.
 */
export async function generateTokens(graph: Graph, run: TokenRunner, prompt: readonly number[], count: number, options: GenerateOptions = {}): Promise<Generation> {
  const { onToken, cacheInModule = false } = options;
  const shape = languageModelShape(graph);
  if (prompt.length === 0) throw new Error("the prompt has no tokens");
  if (prompt.length + count > shape.context) {
    throw new Error(`${prompt.length} prompt tokens + ${count} new ones do not fit the model's context of ${shape.context} tokens`);
  }
  const started = performance.now();
  const tokens = [...prompt];
  const out: number[] = [];
  let runs = 0;
  let past = shape.past && !cacheInModule ? Tensor.zeros(shape.past.shape, shape.past.frac) : undefined;
  let fed = 0;
  for (let index = 0; index < count; index++) {
    const t0 = performance.now();
    let next: number;
    if (shape.kind === "full") {
      const window = new Int32Array(shape.context);
      window.set(tokens);
      const outputs = await run(new Map([["tokens", new Tensor([1, shape.context], window, 0)]]));
      runs++;
      next = nextToken(outputs, tokens.length - 1);
    } else {
      // Feed every token not yet in the cache: the whole prompt first, then the last new token.
      let outputs: Map<string, Tensor> | undefined;
      for (; fed < tokens.length; fed++) {
        const inputs = new Map([["token", Tensor.fromInts([tokens[fed]], [1, 1])], ["position", Tensor.fromInts([fed], [1])]]);
        if (past) inputs.set("past", past);
        outputs = await run(inputs);
        runs++;
        if (!cacheInModule) past = atFrac(presentOf(outputs), shape.past!.frac);
      }
      next = nextToken(outputs!, 0);
    }
    tokens.push(next);
    out.push(next);
    onToken?.({ index, token: next, ms: performance.now() - t0 });
  }
  const ms = performance.now() - started;
  return { prompt: [...prompt], tokens: out, runs, ms, tokensPerSecond: count / (ms / 1000) };
}
