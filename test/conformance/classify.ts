/**
 * Telling a converter rejection from a converter bug. The converter and the op kernels report
 * what detml cannot express (an op, a dtype, a rank, an attribute value, a run-time operand that
 * must be constant) as an Error whose message says so in one of the phrasings below; anything
 * else thrown on a valid ONNX test model (a TypeError, a shape inference failure, an unexplained
 * message) counts as a bug, so that every rejection stays explicit.
 */

const REJECTIONS = [
  /\bnot supported\b/i,
  /\bunsupported\b/i,
  /\bdoes not support\b/i,
  /\bonly supported\b/i,
  /\bhas no \S+ op\b/, // "detml has no Exp op": the IR lacks the kernel
  /\bsupports \dD\b/, // "Conv supports 1D and 2D": a rank limit
  /\bmust be a constant\b/, // shape-like operands computed at run time
  /\battribute '\w+' must be one of \S+, got\b/, // an enum value the IR op does not have (op.ts)
];

export function isUnsupported(e: unknown): boolean {
  if (!(e instanceof Error) || e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError) return false;
  return REJECTIONS.some((re) => re.test(e.message));
}
