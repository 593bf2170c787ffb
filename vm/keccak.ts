/**
 * keccak-f[1600], the permutation under keccak256, specialized for speed: the 25 64-bit lanes
 * live in 50 local int32 variables (low, high halves) for all 24 rounds instead of an array. The
 * straight-line code for one round (theta, rho and pi, chi, iota) is generated once at load time
 * from the standard rotation and permutation tables below; the state layout is noble's (lane i
 * = words 2i, 2i+1 of a Uint32Array over the little-endian sponge bytes), and the tests compare
 * every hash with @noble/hashes' keccak_256.
 */

/** Rotation offsets r[x][y] of rho. */
const RHO = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]];

/** Round constants of iota as [low, high] 32-bit halves (from the standard LFSR). */
function roundConstants(): [number, number][] {
  const out: [number, number][] = [];
  let r = 1;
  for (let round = 0; round < 24; round++) {
    let lo = 0, hi = 0;
    for (let j = 0; j < 7; j++) {
      const bit = r & 1;
      r = r & 0x80 ? ((r << 1) ^ 0x71) & 0xff : (r << 1) & 0xff;
      const pos = (1 << j) - 1;
      if (bit) {
        if (pos < 32) lo |= 1 << pos;
        else hi |= 1 << (pos - 32);
      }
    }
    out.push([lo | 0, hi | 0]);
  }
  return out;
}

/** Statements setting (dl, dh) to (sl, sh) rotated left by n. */
function rotate(dl: string, dh: string, sl: string, sh: string, n: number): string {
  if (n === 0) return `${dl}=${sl};${dh}=${sh};`;
  if (n === 32) return `${dl}=${sh};${dh}=${sl};`;
  if (n < 32) return `${dl}=(${sl}<<${n})|(${sh}>>>${32 - n});${dh}=(${sh}<<${n})|(${sl}>>>${32 - n});`;
  const m = n - 32;
  return `${dl}=(${sh}<<${m})|(${sl}>>>${32 - m});${dh}=(${sl}<<${m})|(${sh}>>>${32 - m});`;
}

function permutationSource(): string {
  const lanes = Array.from({ length: 25 }, (_, i) => i);
  const v: string[] = [];
  v.push(`let ${lanes.map((i) => `a${i}l=s[${2 * i}]|0,a${i}h=s[${2 * i + 1}]|0`).join(",")};`);
  v.push(`let ${lanes.map((i) => `b${i}l=0,b${i}h=0`).join(",")},${[0, 1, 2, 3, 4].map((x) => `c${x}l=0,c${x}h=0,d${x}l=0,d${x}h=0`).join(",")};`);
  v.push("for(let round=0;round<24;round++){");
  for (let x = 0; x < 5; x++) {
    const col = [0, 1, 2, 3, 4].map((y) => x + 5 * y);
    v.push(`c${x}l=${col.map((i) => `a${i}l`).join("^")};c${x}h=${col.map((i) => `a${i}h`).join("^")};`);
  }
  for (let x = 0; x < 5; x++) {
    const prev = (x + 4) % 5, next = (x + 1) % 5;
    v.push(`${rotate(`d${x}l`, `d${x}h`, `c${next}l`, `c${next}h`, 1)}d${x}l^=c${prev}l;d${x}h^=c${prev}h;`);
  }
  for (const i of lanes) v.push(`a${i}l^=d${i % 5}l;a${i}h^=d${i % 5}h;`);
  for (let x = 0; x < 5; x++) {
    for (let y = 0; y < 5; y++) {
      const to = y + 5 * ((2 * x + 3 * y) % 5);
      v.push(rotate(`b${to}l`, `b${to}h`, `a${x + 5 * y}l`, `a${x + 5 * y}h`, RHO[x][y]));
    }
  }
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 5; x++) {
      const i = x + 5 * y, i1 = ((x + 1) % 5) + 5 * y, i2 = ((x + 2) % 5) + 5 * y;
      v.push(`a${i}l=b${i}l^(~b${i1}l&b${i2}l);a${i}h=b${i}h^(~b${i1}h&b${i2}h);`);
    }
  }
  v.push("a0l^=RC[2*round];a0h^=RC[2*round+1];}");
  v.push(lanes.map((i) => `s[${2 * i}]=a${i}l;s[${2 * i + 1}]=a${i}h;`).join(""));
  return v.join("\n");
}

const RC = Int32Array.from(roundConstants().flat());

/** Apply keccak-f[1600] in place to a 50-word state. */
export const keccakF1600 = new Function("RC", `return function keccakF1600(s){${permutationSource()}}`)(RC) as (s: Uint32Array) => void;
