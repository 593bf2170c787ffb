/**
 * The detml rollup VM: decode a provable WASM module, run it step by step, commit to its state,
 * prove and verify single steps. Imports nothing from the DNN side of detml.
 *
 *   decodeModule(bytes) / lintModule(bytes)     the provable subset (vm/subset.ts), flat program
 *   new Machine(mod, input).runAll()            run every segment (JIT for long runs); outputBytes()
 *   traceModule(bytes, input)                   run + per-segment steps, boundary hashes, final state hash
 *   fastBoundaries(bytes, input)                op-boundary hashes from the JS engine's WASM
 *   new WasmHost(compiled, input)               the one JS WebAssembly host of a module (vm/wasm-host.ts)
 *   new Session(bytes, input)                   stateAt(k, n), prove(k, n), locate(globalStep)
 *   moduleId(decodeModule(bytes))              the module's one identity (code, memory, segments, step budget)
 *   verifyProof(preStateHash, proofBytes)       the one-step verifier -> post-state hash
 *   proofToJson / checkProofJson / proofBytes   proof.json and the binary word stream
 */
export { decodeModule, lintModule, initialMemory, memoryTree, withWeights, type DecodeOptions, type DecodedModule, type FunctionInfo, type Segment } from "./decode.js";
export { SubsetError, REASON, HOST_CALLS, segmentExports, allowedOpcodes, opcodeInfo, type SubsetLocation } from "./subset.js";
export { MAX_CALL_DEPTH, MAX_STACK_SLOTS, MAX_MEMORY_PAGES, STEP_BUDGET_EXPORT, DEFAULT_STEP_BUDGET, MAX_STEP_BUDGET } from "./spec/limits.js";
export { Op, Status, isTrap, statusText, formatInstruction, instructionAt, type Instruction, type Program } from "./spec/isa.js";
export { Machine, type RunResult, type MachineSnapshot } from "./machine.js";
export {
  CHUNK_BYTES, HOST_MODULE, READ_INPUT, WRITE_OUTPUT, chunkAlign, padInput, hostCallRefusal, type HostCall,
} from "./spec/io.js";
export { WasmHost, HostCallTrap, isModuleTrap } from "./wasm-host.js";
export { fastBoundaries, type FastRun } from "./fast.js";
export { codeTree, inputTree, commitmentBase, type CommitmentBase } from "./state.js";
export { stateHash, boundaryHash, segmentStartState, boundaryAfter, moduleHash, trappedRunHash, absorbOutput, STATE_FIELDS, BOUNDARY_FIELDS, type StateFields, type BoundaryFields, type Boundary, type ModuleConstants } from "./spec/commitments.js";
export { moduleConstants, moduleId, moduleIdOfBytes, rememberModuleId } from "./identity.js";
export { Session, type SessionOptions, type SegmentTrace } from "./session.js";
export { traceModule, type TraceResult, type SegmentRun } from "./trace.js";
export { proveStep, type StepProof, type ProofWord } from "./prove.js";
export { verifyProof, ProofError } from "./spec/verifier.js";
export { keccak256, toHex, fromHex, type Hash } from "./spec/hash.js";
export { MerkleTree } from "./merkle.js";
export { proofBytes, proofToJson, parseProofJson, checkProofJson, instructionClass, PROOF_FORMAT, type InstructionClass, type ProofJson, type ParsedProof } from "./proof-codec.js";
