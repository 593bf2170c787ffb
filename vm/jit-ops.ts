/**
 * The JavaScript code of the numeric instructions for the JIT (vm/jit.ts), as the interpreter
 * (vm/interpreter.ts) defines them: i32 binary instructions over operand expressions (so
 * constants and local reads inline into them), and the rest over the two operand slots, given
 * as the names of their low and high halves (JS variables or machine-array elements; i64 values
 * are two int32 halves, helpers from vm/i64.ts do the hard cases).
 */
import { Status } from "./spec/isa.js";

/** Names of the low and high halves of the first (A) and second (B) operand slots. */
export interface Operands {
  sa: string;
  ta: string;
  sb: string;
  tb: string;
}

const CMP32: Record<number, [string, boolean]> = {
  0x46: ["===", false], 0x47: ["!==", false], 0x48: ["<", false], 0x49: ["<", true], 0x4a: [">", false], 0x4b: [">", true],
  0x4c: ["<=", false], 0x4d: ["<=", true], 0x4e: [">=", false], 0x4f: [">=", true],
};

/** A number as an operand expression (negative ones parenthesized: `a-(-5)`, not `a--5`). */
export function literal(n: number): string {
  return n < 0 ? `(${n})` : String(n);
}

/** i32 binary instructions on operand expressions a, b into `dst` (undefined for other instructions). */
export function simpleI32(op: number, dst: string, a: string, b: string): string | undefined {
  if (CMP32[op]) {
    const [cmp, unsigned] = CMP32[op];
    return unsigned ? `${dst}=(${a}>>>0)${cmp}(${b}>>>0)?1:0;` : `${dst}=${a}${cmp}${b}?1:0;`;
  }
  switch (op) {
    case 0x6a: return `${dst}=(${a}+${b})|0;`;
    case 0x6b: return `${dst}=(${a}-${b})|0;`;
    case 0x6c: return `${dst}=Math.imul(${a},${b});`;
    case 0x71: return `${dst}=${a}&${b};`;
    case 0x72: return `${dst}=${a}|${b};`;
    case 0x73: return `${dst}=${a}^${b};`;
    case 0x74: return `${dst}=${a}<<${b};`;
    case 0x75: return `${dst}=${a}>>${b};`;
    case 0x76: return `${dst}=(${a}>>>${b})|0;`;
    default: return undefined;
  }
}

/** The other numeric instructions: operands in slots A (first) and B (second), result in A (B for unary ones). */
export function numeric(op: number, { sa, ta, sb, tb }: Operands, trap: (status: number) => string): string {
  const lt = (x: string, xh: string, y: string, yh: string, unsigned: boolean) =>
    unsigned ? `((${xh}>>>0)<(${yh}>>>0)||(${xh}===${yh}&&(${x}>>>0)<(${y}>>>0)))` : `(${xh}<${yh}||(${xh}===${yh}&&(${x}>>>0)<(${y}>>>0)))`;
  const viaArrays = (call: string, unary = false) => `XL[0]=${unary ? sb : sa};XH[0]=${unary ? tb : ta};XL[1]=${sb};XH[1]=${tb};${call}${unary ? sb : sa}=XL[0];${unary ? tb : ta}=XH[0];`;
  switch (op) {
    case 0x50: return `${sb}=(${sb}|${tb})===0?1:0;`;
    case 0x51: return `${sa}=(${sa}===${sb}&&${ta}===${tb})?1:0;`;
    case 0x52: return `${sa}=(${sa}!==${sb}||${ta}!==${tb})?1:0;`;
    case 0x53: return `${sa}=${lt(sa, ta, sb, tb, false)}?1:0;`;
    case 0x54: return `${sa}=${lt(sa, ta, sb, tb, true)}?1:0;`;
    case 0x55: return `${sa}=${lt(sb, tb, sa, ta, false)}?1:0;`;
    case 0x56: return `${sa}=${lt(sb, tb, sa, ta, true)}?1:0;`;
    case 0x57: return `${sa}=${lt(sb, tb, sa, ta, false)}?0:1;`;
    case 0x58: return `${sa}=${lt(sb, tb, sa, ta, true)}?0:1;`;
    case 0x59: return `${sa}=${lt(sa, ta, sb, tb, false)}?0:1;`;
    case 0x5a: return `${sa}=${lt(sa, ta, sb, tb, true)}?0:1;`;
    case 0x67: return `${sb}=Math.clz32(${sb});`;
    case 0x68: return `${sb}=H.ctz32(${sb});`;
    case 0x69: return `${sb}=H.popcnt32(${sb});`;
    case 0x6d: return `if(${sb}===0)${trap(Status.DIV_ZERO)}if(${sb}===-1&&${sa}===-2147483648)${trap(Status.INT_OVERFLOW)}${sa}=(${sa}/${sb})|0;`;
    case 0x6e: return `if(${sb}===0)${trap(Status.DIV_ZERO)}${sa}=((${sa}>>>0)/(${sb}>>>0))|0;`;
    case 0x6f: return `if(${sb}===0)${trap(Status.DIV_ZERO)}${sa}=(${sa}%${sb})|0;`;
    case 0x70: return `if(${sb}===0)${trap(Status.DIV_ZERO)}${sa}=((${sa}>>>0)%(${sb}>>>0))|0;`;
    case 0x77: return `${sa}=H.rotl32(${sa},${sb});`;
    case 0x78: return `${sa}=H.rotl32(${sa},-${sb});`;
    case 0x79: return viaArrays("H.clz64(XL,XH,0);", true);
    case 0x7a: return viaArrays("H.ctz64(XL,XH,0);", true);
    case 0x7b: return `${sb}=H.popcnt32(${sb})+H.popcnt32(${tb});${tb}=0;`;
    // Carry and borrow from unsigned compares, so every intermediate stays a 32-bit integer.
    case 0x7c: return `x=${sa};${sa}=(${sa}+${sb})|0;${ta}=(${ta}+${tb}+((${sa}>>>0)<(x>>>0)?1:0))|0;`;
    case 0x7d: return `x=${sa};${sa}=(${sa}-${sb})|0;${ta}=(${ta}-${tb}-((x>>>0)<(${sb}>>>0)?1:0))|0;`;
    case 0x7e: // 64-bit multiply from 16-bit partial products (exact in doubles)
      return `{const a0=${sa}&65535,a1=${sa}>>>16,b0=${sb}&65535,b1=${sb}>>>16,p00=a0*b0,p01=a0*b1,p10=a1*b0;` +
        `const mid=(p00>>>16)+(p01&65535)+(p10&65535);` +
        `${ta}=(a1*b1+(p01>>>16)+(p10>>>16)+(mid>>>16)+Math.imul(${sa},${tb})+Math.imul(${ta},${sb}))|0;${sa}=Math.imul(${sa},${sb});}`;
    case 0x7f: case 0x80: case 0x81: case 0x82:
      return `XL[0]=${sa};XH[0]=${ta};XL[1]=${sb};XH[1]=${tb};x=H.divrem64(XL,XH,0,1,${op});if(x===${Status.DIV_ZERO})${trap(Status.DIV_ZERO)}` +
        `if(x===${Status.INT_OVERFLOW})${trap(Status.INT_OVERFLOW)}${sa}=XL[0];${ta}=XH[0];`;
    case 0x83: return `${sa}&=${sb};${ta}&=${tb};`;
    case 0x84: return `${sa}|=${sb};${ta}|=${tb};`;
    case 0x85: return `${sa}^=${sb};${ta}^=${tb};`;
    case 0x86: return `x=${sb}&63;if(x>=32){${ta}=${sa}<<(x-32);${sa}=0;}else if(x!==0){${ta}=(${ta}<<x)|(${sa}>>>(32-x));${sa}<<=x;}`;
    case 0x87: return `x=${sb}&63;if(x>=32){${sa}=${ta}>>(x-32);${ta}>>=31;}else if(x!==0){${sa}=(${sa}>>>x)|(${ta}<<(32-x));${ta}>>=x;}`;
    case 0x88: return `x=${sb}&63;if(x>=32){${sa}=(${ta}>>>(x-32))|0;${ta}=0;}else if(x!==0){${sa}=(${sa}>>>x)|(${ta}<<(32-x));${ta}=(${ta}>>>x)|0;}`;
    case 0x89: return viaArrays(`H.rot64(XL,XH,0,${sb},true);`);
    case 0x8a: return viaArrays(`H.rot64(XL,XH,0,${sb},false);`);
    case 0xa7: return "";
    case 0xac: return `${tb}=${sb}>>31;`;
    case 0xad: return `${tb}=0;`;
    case 0xc0: return `${sb}=(${sb}<<24)>>24;`;
    case 0xc1: return `${sb}=(${sb}<<16)>>16;`;
    case 0xc2: return `${sb}=(${sb}<<24)>>24;${tb}=${sb}>>31;`;
    case 0xc3: return `${sb}=(${sb}<<16)>>16;${tb}=${sb}>>31;`;
    case 0xc4: return `${tb}=${sb}>>31;`;
  }
  throw new Error(`internal error: the JIT has no code for opcode 0x${op.toString(16)}`);
}

/**
 * The i64 product of two sign-extended i32 values: in doubles it is exact below 2^53 in
 * magnitude, its low half is Math.imul and its high half the exact quotient by 2^32 rounded down;
 * larger products take the general 16-bit partial products.
 */
export function widenedProduct(sa: string, ta: string, sb: string, tb: string): string {
  return `y=${sa}*${sb};if(y>-9007199254740992&&y<9007199254740992){${ta}=Math.floor(y/4294967296)|0;${sa}=Math.imul(${sa},${sb});}else{${numeric(0x7e, { sa, ta, sb, tb }, () => "")}}`;
}
