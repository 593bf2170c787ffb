/**
 * The conformance manifest (test/conformance/manifest.txt): the cases expected to pass, one per
 * line, tract style: `group/case [tag ...]`. Tag `input:NAME` (repeatable) lists the inputs fed
 * at run time; the case's other inputs are frozen into constants first (detml wants shape-like
 * operands constant). Without `input:` tags every input is fed at run time. `#` starts a comment.
 */
import { readFileSync, writeFileSync, existsSync } from "node:fs";

export interface ManifestEntry {
  name: string;
  /** Inputs fed at run time; undefined means all of them. */
  runtimeInputs?: string[];
}

export function parseManifest(text: string): Map<string, ManifestEntry> {
  const entries = new Map<string, ManifestEntry>();
  text.split("\n").forEach((line, i) => {
    const words = line.replace(/#.*/, "").trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return;
    const [name, ...tags] = words;
    const inputs: string[] = [];
    for (const tag of tags) {
      if (!tag.startsWith("input:")) throw new Error(`manifest line ${i + 1}: unknown tag '${tag}' (known: input:NAME)`);
      inputs.push(tag.slice("input:".length));
    }
    if (entries.has(name)) throw new Error(`manifest line ${i + 1}: '${name}' listed twice`);
    entries.set(name, { name, runtimeInputs: inputs.length ? inputs : undefined });
  });
  return entries;
}

export function readManifest(path: string): Map<string, ManifestEntry> {
  return existsSync(path) ? parseManifest(readFileSync(path, "utf8")) : new Map();
}

const HEADER = `# ONNX backend conformance: the cases detml is expected to pass (ONNX 1.12 test data, see
# docs/conformance.md). One case per line; \`input:NAME\` tags name the inputs fed at run time
# (the others are frozen into constants). Regenerate with: npm run conformance -- --update-manifest
`;

export function writeManifest(path: string, entries: ManifestEntry[]): void {
  const lines = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => [e.name, ...(e.runtimeInputs ?? []).map((n) => `input:${n}`)].join(" "));
  writeFileSync(path, `${HEADER}${lines.join("\n")}\n`);
}
