/**
 * Runs one decoder target in a worker thread, so that the main thread can watch it: the index of the
 * frame being decoded is in shared memory, and a frame that never returns is found and reported by it.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { runDecoderTarget } from './decoder.ts'
import type { DecoderTarget } from './decoder.ts'

const d = workerData as { target: DecoderTarget, frames: number, seed: number, from: number, deadlineMs: number, progress: SharedArrayBuffer }
const report = runDecoderTarget(d.target, { frames: d.frames, seed: d.seed, from: d.from, deadlineMs: d.deadlineMs, progress: new Int32Array(d.progress) })
parentPort?.postMessage(report)
