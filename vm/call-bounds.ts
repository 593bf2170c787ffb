/**
 * Static call bounds: the rule that makes the VM's resource limits unreachable, so that the VM and
 * any other engine running a lint-clean module agree on every run. From the call graph of the
 * flattened module (only calls that are emitted, i.e. reachable in the structured sense) it
 * refuses recursion, then computes for each segment function the longest call chain and the most
 * value slots (locals plus operand heights over all frames) any call path can hold at once, and
 * refuses a module in which either could reach MAX_CALL_DEPTH or MAX_STACK_SLOTS. A module that
 * passes can never trap CALL_DEPTH or STACK_OVERFLOW; the VM keeps both traps (its verifier must
 * decide any state it is given), but no lint-clean run reaches them.
 */
import type { Segment } from "./decode.js";
import type { CallSite, FunctionInfo, Violations } from "./flatten.js";
import { MAX_CALL_DEPTH, MAX_STACK_SLOTS } from "./spec/limits.js";

interface Bound {
  /** Frames on the longest call chain starting with this function (itself included). */
  depth: number;
  /** Most value slots held at once from this function's frame base, over every call path. */
  slots: number;
}

export function checkCallBounds(functions: readonly FunctionInfo[], calls: readonly CallSite[], segments: readonly Segment[], v: Violations): void {
  const callees = new Map<number, CallSite[]>();
  for (const c of calls) {
    if (c.from < 0 || functions[c.func]?.host) continue;
    let list = callees.get(c.from);
    if (!list) callees.set(c.from, (list = []));
    list.push(c);
  }
  const bounds = new Map<number, Bound>();
  const onPath: number[] = [];
  const name = (f: number): string => functions[f]?.name ?? `func[${f}]`;
  // Depth-first with an explicit stack (a module may chain thousands of functions).
  const visit = (root: number): Bound | undefined => {
    const stack: { f: number; next: number }[] = [{ f: root, next: 0 }];
    onPath.push(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const sites = callees.get(top.f) ?? [];
      if (top.next < sites.length) {
        const g = sites[top.next++].func;
        if (bounds.has(g)) continue;
        const cycleAt = onPath.indexOf(g);
        if (cycleAt >= 0) {
          const cycle = [...onPath.slice(cycleAt), g].map(name).join(" -> ");
          v.add(`function '${name(g)}' is recursive (${cycle}): recursion is outside the provable subset, whose call depth must be bounded statically`);
          return undefined;
        }
        stack.push({ f: g, next: 0 });
        onPath.push(g);
        continue;
      }
      const info = functions[top.f];
      let depth = 1;
      let slots = info.locals + info.maxStack;
      for (const c of sites) {
        const b = bounds.get(c.func)!;
        depth = Math.max(depth, 1 + b.depth);
        slots = Math.max(slots, info.locals + c.height + b.slots);
      }
      bounds.set(top.f, { depth, slots });
      stack.pop();
      onPath.pop();
    }
    return bounds.get(root);
  };
  for (const seg of segments) {
    if (functions[seg.funcIndex]?.host) continue;
    const b = bounds.get(seg.funcIndex) ?? visit(seg.funcIndex);
    if (!b) return;
    if (b.depth > MAX_CALL_DEPTH) {
      v.add(`segment '${seg.export}' can nest ${b.depth} calls, more than the VM's call depth of ${MAX_CALL_DEPTH}`, { funcName: seg.export });
    }
    if (b.slots > MAX_STACK_SLOTS) {
      v.add(`segment '${seg.export}' can hold ${b.slots} values (locals and operands over its call chain), more than the VM's ${MAX_STACK_SLOTS} stack slots`, { funcName: seg.export });
    }
  }
}
