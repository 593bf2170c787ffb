/**
 * The neural-network op group: the multiply-accumulate ops (MatMul, Gemm, Conv, ConvTranspose),
 * all built on the one exact accumulate core (accumulate.ts), and the pools (pool.ts).
 */
import { Conv } from "./conv.js";
import { ConvTranspose } from "./conv-transpose.js";
import { Gemm } from "./gemm.js";
import { MatMul } from "./matmul.js";
import { AveragePool, GlobalAveragePool, GlobalMaxPool, MaxPool } from "./pool.js";

export const NN_OPS = [MatMul, Gemm, Conv, ConvTranspose, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool] as const;
