/**
 * Static input shapes for TF.js models. TF marks unknown dimensions -1 (GraphDef) or null (Keras);
 * detml graphs are static, so an unknown batch dimension (axis 0) becomes 1 and any other unknown
 * dimension must be given with --shape NAME=D0,D1,... (the error says which). A given shape must
 * agree with every dimension the model fixes.
 */

export function resolveInputShape(name: string, dims: number[], given: number[] | undefined): number[] {
  if (given) {
    if (given.length !== dims.length) throw new Error(`--shape ${name}=${given.join(",")} has rank ${given.length}, the model's input '${name}' has rank ${dims.length}`);
    dims.forEach((d, axis) => {
      if (d >= 0 && d !== given[axis]) throw new Error(`--shape ${name}=${given.join(",")} gives ${given[axis]} at axis ${axis}, where the model fixes ${d}`);
    });
    return [...given];
  }
  const unknown = dims.findIndex((d, axis) => d < 0 && axis > 0);
  if (unknown >= 0) {
    const hint = dims.map((d, axis) => (d >= 0 ? String(d) : axis === 0 ? "1" : "<?>")).join(",");
    throw new Error(`input '${name}' has an unknown dimension at axis ${unknown}: pass --shape ${name}=${hint}`);
  }
  return dims.map((d) => (d < 0 ? 1 : d));
}
