/**
 * The generator of docs/ops.md: the IR op contracts (every OpDef of lib/ops: inputs, attributes
 * with types, defaults and allowed values, summary) and, for each converter registry (ONNX ops,
 * TF.js graph ops, TF.js layers), every op that converts, the detml IR ops it becomes, the
 * attributes its handler reads and the opsets at which its handling changes. Handlers are
 * functions, so what they emit is read from their source: the registry line's expression, then
 * the top-level definitions it names (transitively, within the converter folders), collecting
 * the string literals that are IR op kinds, the attribute getters' names and `opset` comparisons.
 * The registries' keys come from the imported registries themselves, so an op added without a
 * parsable registry line fails the generator rather than going missing from the document.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ALL_OPS, hasOp } from "../../lib/ops/index.js";
import { ONNX_OPS } from "../../converter/onnx/ops.js";
import { TF_OPS } from "../../converter/tfjs/graph-ops.js";
import { ARRAY_OPS } from "../../converter/tfjs/graph-ops-array.js";
import { COMPOSITE_OPS } from "../../converter/tfjs/graph-ops-composite.js";
import { LAYERS } from "../../converter/tfjs/layers.js";
import type { AttrSpec } from "../../lib/ops/op.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const SOURCE_DIRS = ["converter/onnx", "converter/common", "converter/tfjs"];
/** How far the generator follows names from a registry line into helper definitions. */
const MAX_DEPTH = 4;

/** One converter source file: its top-level definitions, its imports and its class methods. */
interface SourceFile {
  defs: Map<string, string>;
  /** Imported local name (or namespace alias) -> the converter file it comes from and its name there. */
  imports: Map<string, [file: string, name: string]>;
  methods: Map<string, string>;
}

/** Every converter source file by its path from the repository root. */
function sources(): Map<string, SourceFile> {
  const files = new Map<string, SourceFile>();
  for (const dir of SOURCE_DIRS) {
    for (const name of readdirSync(join(ROOT, dir)).filter((f) => f.endsWith(".ts")).sort()) {
      const path = `${dir}/${name}`;
      const text = readFileSync(join(ROOT, path), "utf8");
      const lines = text.split("\n");
      const file: SourceFile = { defs: new Map(), imports: new Map(), methods: new Map() };
      // A body runs to the first line that closes at the definition's indentation.
      const bodyFrom = (i: number, indent: string) => {
        const close = new RegExp(`^${indent}[}\\]]`);
        let end = i;
        if (!/;\s*$/.test(lines[i])) while (end + 1 < lines.length && !close.test(lines[end])) end++;
        return lines.slice(i, end + 1).join("\n");
      };
      lines.forEach((line, i) => {
        const def = /^(?:export )?(?:const|function) ([A-Za-z_$][\w$]*)/.exec(line);
        if (def) file.defs.set(def[1], bodyFrom(i, ""));
        const method = /^ {2}(?:private |static )*([a-z][\w$]*)(?:<[^>]*>)?\(.*\{$/.exec(line);
        if (method) file.methods.set(method[1], bodyFrom(i, "  "));
      });
      for (const [, names, from] of text.matchAll(/^import (?!type )([^;]+?) from "(\.[^"]+)\.js";$/gm)) {
        const target = join(dir, from) + ".ts";
        const namespace = /^\* as (\w+)$/.exec(names.trim());
        if (namespace) file.imports.set(namespace[1], [target, ""]);
        else for (const part of names.replace(/[{}]/g, "").split(",")) {
          const [original, local = original] = part.trim().replace(/^type /, "").split(/\s+as\s+/).map((w) => w.trim());
          if (original) file.imports.set(local, [target, original]);
        }
      }
      files.set(path, file);
    }
  }
  return files;
}

interface Facts {
  irOps: Set<string>;
  attrs: Set<string>;
  opsets: Set<number>;
}

/**
 * IR kinds, attribute names and opset thresholds of a registry expression (in file `path`) and
 * of the definitions it names: a bare name resolves in its own file, then through the file's
 * imports (`ns.name` through a namespace import); a call on the TF.js builder (`b.name(`)
 * resolves to the builder's method.
 */
function collect(expr: string, path: string, files: Map<string, SourceFile>): Facts {
  const facts: Facts = { irOps: new Set(), attrs: new Set(), opsets: new Set() };
  const seen = new Set<string>();
  const visit = (text: string, from: string, depth: number) => {
    for (const [, s] of text.matchAll(/"([A-Za-z]\w*)"/g)) if (hasOp(s)) facts.irOps.add(s);
    for (const [, a] of text.matchAll(/\b(?:n|ctx)\.(?:int|ints|float|floats|string|str|bool|num|has|tensor)\("(\w+)"/g)) facts.attrs.add(a);
    for (const [, v] of text.matchAll(/opset\s*(?:<|>=|<=|>)\s*(\d+)/g)) facts.opsets.add(Number(v));
    if (depth >= MAX_DEPTH) return;
    const file = files.get(from)!;
    const follow = (target: string | undefined, name: string, method = false) => {
      const source = target === undefined ? undefined : files.get(target);
      const body = method ? source?.methods.get(name) : source?.defs.get(name);
      const key = `${target}#${method ? "." : ""}${name}`;
      if (body === undefined || seen.has(key)) return;
      seen.add(key);
      visit(body, target!, depth + 1);
    };
    for (const [, ns, name] of text.matchAll(/(?<![.\w$])(?:([A-Za-z_$][\w$]*)\.)?([A-Za-z_$][\w$]*)\b(?!\s*:)/g)) {
      if (ns !== undefined) follow(file.imports.get(ns)?.[0], name);
      else if (file.defs.has(name)) follow(from, name);
      else if (file.imports.has(name)) follow(...file.imports.get(name)!);
    }
    for (const [, name] of text.matchAll(/\b(?:b|this)\.([a-z][\w$]*)\(/g)) {
      for (const [target, f] of files) if (f.methods.has(name)) follow(target, name, true);
    }
  };
  visit(expr, path, 0);
  return facts;
}

/** The `Key: expression,` lines of a registry object literal in a source file. */
function registryLines(file: string, registry: string): Map<string, string> {
  const text = readFileSync(join(ROOT, file), "utf8");
  const start = text.indexOf(`export const ${registry}`);
  if (start < 0) throw new Error(`${file} has no registry ${registry}`);
  const body = text.slice(start, text.indexOf("\n};", start));
  const lines = new Map<string, string>();
  for (const [, key, expr] of body.matchAll(/^ {2}([\w.]+): (.+?),?(?: \/\/.*)?$/gm)) lines.set(key, expr);
  for (const [, spread] of body.matchAll(/^ {2}\.\.\.([A-Z_]+),$/gm)) lines.set(`...${spread}`, spread);
  return lines;
}

interface Registry {
  title: string;
  blurb: string;
  ops: Readonly<Record<string, unknown>>;
  sources: [file: string, registry: string][];
}

const REGISTRIES: Registry[] = [
  {
    title: "ONNX ops",
    blurb: "`converter/onnx/ops.ts` (`ONNX_OPS`). Any opset the model declares is accepted; \"opsets\" lists where a handler reads the node differently (e.g. an attribute that became an input).",
    ops: ONNX_OPS,
    sources: [["converter/onnx/ops.ts", "ONNX_OPS"], ["converter/onnx/composite-shared.ts", "SHARED_COMPOSITE_OPS"]],
  },
  {
    title: "TF.js graph-model ops",
    blurb: "`converter/tfjs/graph-ops.ts`, `graph-ops-array.ts` and `graph-ops-composite.ts` (`TF_OPS`, `ARRAY_OPS`, `COMPOSITE_OPS`).",
    ops: { ...TF_OPS, ...ARRAY_OPS, ...COMPOSITE_OPS },
    sources: [["converter/tfjs/graph-ops.ts", "TF_OPS"], ["converter/tfjs/graph-ops-array.ts", "ARRAY_OPS"], ["converter/tfjs/graph-ops-composite.ts", "COMPOSITE_OPS"]],
  },
  {
    title: "TF.js layers (Keras layers models)",
    blurb: "`converter/tfjs/layers.ts` (`LAYERS`).",
    ops: LAYERS,
    sources: [["converter/tfjs/layers.ts", "LAYERS"]],
  },
];

const cell = (values: Iterable<string | number>, empty = "-") => {
  const list = [...values].map(String);
  return list.length ? list.join(", ") : empty;
};

function attrCell(name: string, spec: AttrSpec): string {
  const allowed = spec.values ? ` (${spec.values.join(" \\| ")})` : "";
  const fallback = spec.default === undefined ? ", required" : `, default ${JSON.stringify(spec.default)}`;
  return `\`${name}\`: ${spec.type}${allowed}${fallback}`;
}

function irSection(): string[] {
  const rows = [...ALL_OPS].sort((a, b) => a.kind.localeCompare(b.kind)).map((def) => {
    const attrs = Object.entries(def.attrs as Record<string, AttrSpec>).map(([name, spec]) => attrCell(name, spec));
    return `| ${def.kind} | ${def.summary.replace(/\|/g, "\\|")} | ${def.inputs.join(", ")} | ${cell(attrs)}${def.view ? " (view)" : ""} |`;
  });
  return [
    `## detml IR ops (${ALL_OPS.length})`,
    "",
    "The op contracts of `lib/ops` (each OpDef's summary, inputs and typed attributes; `fixed` attributes are reals stored at Q16).",
    "",
    "| op | computes | inputs | attributes |",
    "|---|---|---|---|",
    ...rows,
  ];
}

function registrySection(reg: Registry, files: Map<string, SourceFile>): string[] {
  const lines = new Map<string, [expr: string, file: string]>();
  for (const [file, name] of reg.sources) for (const [k, v] of registryLines(file, name)) if (!k.startsWith("...")) lines.set(k, [v, file]);
  const keys = Object.keys(reg.ops).sort();
  const rows = keys.map((key) => {
    const entry = lines.get(key);
    if (entry === undefined) throw new Error(`${reg.title}: '${key}' has no one-line registry entry the generator can read`);
    const facts = collect(entry[0], entry[1], files);
    const becomes = facts.irOps.size ? [...facts.irOps].sort().join(", ") : "folded or aliased at conversion";
    return `| ${key} | ${becomes} | ${cell([...facts.attrs].sort())} | ${cell([...facts.opsets].sort((a, b) => a - b))} |`;
  });
  return [`## ${reg.title} (${keys.length})`, "", reg.blurb, "", "| op | detml ops | attributes read | opsets |", "|---|---|---|---|", ...rows];
}

/** The full text of docs/ops.md. */
export function opsDoc(): string {
  const files = sources();
  return [
    "# Supported ops",
    "",
    "GENERATED by `test/structure/ops-doc.ts` from the op contracts (`lib/ops`) and the converters' registries; do not edit.",
    "`UPDATE_OPS_DOC=1 npx vitest run test/structure/ops-doc.test.ts` rewrites it, and that test fails when it is stale.",
    "An op missing from a converter table is refused, naming the node. \"detml ops\" are the IR ops the handler may emit",
    "(an op whose operands are all constants is folded at conversion time instead); \"attributes read\" are the node",
    "attributes the handler reads itself (handlers that copy attributes by the IR schema also accept the IR op's attributes).",
    "",
    ...irSection(),
    "",
    ...REGISTRIES.flatMap((reg) => [...registrySection(reg, files), ""]),
  ].join("\n");
}
