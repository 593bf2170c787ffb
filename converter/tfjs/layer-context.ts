/**
 * LayerCtx: what a Keras layer handler sees of one call of a layer in a TF.js layers model — its
 * class and name, typed getters for its config (errors name the layer and the key), its input
 * tensors, its weights (looked up in the weights manifest by the names TF.js and Keras give them)
 * and helpers for the config keys many layers share (activation, data_format, padding).
 */
import type { Weight } from "./weights.js";
import { activation, type Padding } from "./nn.js";
import type { TfBuilder, TfValue } from "./layout.js";

/** Finds a layer's weight in the manifest: `layer/weight`, or a unique `.../layer/weight` (nested models). */
export class WeightTable {
  private readonly added = new Map<string, TfValue>();
  private readonly used = new Set<string>();

  constructor(private readonly weights: Map<string, Weight>, private readonly b: TfBuilder) {}

  find(layer: string, weight: string): string | undefined {
    const exact = `${layer}/${weight}`;
    if (this.weights.has(exact)) return exact;
    const suffix = `/${exact}`;
    const matches = [...this.weights.keys()].filter((n) => n.endsWith(suffix) || n === `${exact}:0` || n.endsWith(`${suffix}:0`));
    if (matches.length > 1) throw new Error(`weight '${exact}' is ambiguous in weightsManifest: ${matches.join(", ")}`);
    return matches[0];
  }

  get(layer: string, weight: string): TfValue {
    const name = this.find(layer, weight);
    if (!name) {
      const known = [...this.weights.keys()].filter((n) => n.includes(layer));
      throw new Error(`weight '${layer}/${weight}' is not in weightsManifest${known.length ? ` (weights of this layer: ${known.join(", ")})` : " (the manifest has no weights for this layer)"}`);
    }
    return this.value(name);
  }

  /** A manifest weight as a draft constant (added once). */
  value(name: string): TfValue {
    const have = this.added.get(name);
    if (have) return have;
    const w = this.weights.get(name);
    if (!w) throw new Error(`weight '${name}' is not in weightsManifest`);
    if ("unsupported" in w) throw new Error(`weight '${name}' cannot be used: ${w.unsupported}`);
    const v = this.b.constant(name, w.value);
    this.added.set(name, v);
    this.used.add(name);
    return v;
  }

  /** Manifest weights never read (a hint that a layer's weights were matched wrongly). */
  unused(): string[] {
    return [...this.weights.keys()].filter((n) => !this.used.has(n));
  }
}

type Json = Record<string, unknown>;

export class LayerCtx {
  constructor(
    readonly b: TfBuilder,
    readonly className: string,
    /** Layer name (also the base of its IR node names). */
    readonly name: string,
    readonly config: Json,
    readonly inputs: TfValue[],
    private readonly weights: WeightTable,
  ) {}

  /** The single input of a one-input layer. */
  input(): TfValue {
    if (this.inputs.length !== 1) throw new Error(`expects one input, got ${this.inputs.length}`);
    return this.inputs[0];
  }

  private get(key: string): unknown {
    return this.config[key];
  }

  has(key: string): boolean {
    return this.get(key) !== undefined && this.get(key) !== null;
  }

  num(key: string, fallback?: number): number {
    const v = this.get(key) ?? fallback;
    if (typeof v !== "number") throw new Error(`config '${key}' must be a number, got ${JSON.stringify(v)}`);
    return v;
  }

  int(key: string, fallback?: number): number {
    const v = this.num(key, fallback);
    if (!Number.isInteger(v)) throw new Error(`config '${key}' must be an integer, got ${v}`);
    return v;
  }

  /** An int or a list of ints, as a list of `count` ints (a single int repeats). */
  ints(key: string, count: number, fallback?: number | number[]): number[] {
    const v = this.get(key) ?? fallback;
    const list = typeof v === "number" ? new Array<number>(count).fill(v) : v;
    if (!Array.isArray(list) || list.length !== count || !list.every((x) => Number.isInteger(x))) {
      throw new Error(`config '${key}' must be an int or ${count} ints, got ${JSON.stringify(v)}`);
    }
    return list as number[];
  }

  str(key: string, fallback?: string): string {
    const v = this.get(key) ?? fallback;
    if (typeof v !== "string") throw new Error(`config '${key}' must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.get(key) ?? fallback;
    if (typeof v !== "boolean") throw new Error(`config '${key}' must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  raw(key: string): unknown {
    return this.get(key);
  }

  weight(name: string): TfValue {
    return this.weights.get(this.name, name);
  }

  /** The bias weight when `use_bias` (default true). */
  bias(): TfValue | undefined {
    return this.bool("use_bias", true) ? this.weight("bias") : undefined;
  }

  /** Whether the layer is channels-first (data_format channels_first). */
  channelsFirst(): boolean {
    const format = this.str("data_format", "channels_last");
    if (format !== "channels_last" && format !== "channels_first") throw new Error(`data_format '${format}' is not channels_last or channels_first`);
    return format === "channels_first";
  }

  /** Keras padding "valid"/"same" as TF padding. */
  padding(): Padding {
    const p = this.str("padding", "valid").toLowerCase();
    if (p !== "valid" && p !== "same") throw new Error(`padding '${p}' is not supported (valid, same)`);
    return p === "same" ? "SAME" : "VALID";
  }

  /** Apply the layer's `activation` config (default linear). */
  activate(x: TfValue, key = "activation"): TfValue {
    const fn = this.get(key);
    if (fn === undefined || fn === null) return x;
    const name = typeof fn === "string" ? fn : typeof fn === "object" && typeof (fn as Json).class_name === "string" ? String((fn as Json).class_name) : undefined;
    if (!name) throw new Error(`config '${key}' must name an activation, got ${JSON.stringify(fn)}`);
    return activation(this.b, x, name, `${this.name}/${name}`);
  }
}
