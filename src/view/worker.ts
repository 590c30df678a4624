/**
 * The live view's worker (bundled by esbuild into view-worker.js, started by page.ts): the page's libp2p
 * peer and its session with the node — describe, clock sync, one subscription per port — off the main
 * thread. Every WebSocket message, its decryption, demultiplexing and decoding runs here; the main thread
 * only draws. Received events wait in a bounded feed per port until the page asks for them (messages.ts).
 */
import { SystemClock } from '../base/clock.ts'
import type { Libp2p } from '@libp2p/interface'
import { EventFeed } from './feed.ts'
import type { FromWorker, PortData, ToWorker } from './messages.ts'
import { createViewPeer } from './peer.ts'
import { openViewSession } from './session.ts'
import type { ViewSession } from './session.ts'

/** The parts of the worker's global scope used here (the DOM library describes a window, not a worker). */
interface WorkerScope {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null
  postMessage: (message: FromWorker, transfer?: ArrayBuffer[]) => void
}

const scope = globalThis as unknown as WorkerScope
const clock = new SystemClock()

interface Port {
  feed: EventFeed
  state: string
}

let session: ViewSession | undefined
let libp2p: Libp2p | undefined
let closing = false
const ports: Port[] = []

function finite (x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null
}

async function start (config: Extract<ToWorker, { type: 'start' }>['config']): Promise<void> {
  libp2p = await createViewPeer(config.target)
  if (closing) return
  const s = await openViewSession(libp2p, config.target, config.ports, clock)
  session = s
  for (const p of s.ports) {
    const port: Port = { feed: new EventFeed(), state: 'connecting' }
    p.sub.onBatch(d => { port.feed.add(d.batch, t => s.time.toLocal(t)) })
    p.sub.addEventListener('status', e => {
      const { state, error } = e.detail
      const code = (error as { code?: unknown } | undefined)?.code
      port.state = error === undefined ? state : `${state} (${typeof code === 'string' ? code : error.message})`
    })
    ports.push(port)
  }
  scope.postMessage({ type: 'open', description: s.description, ports: s.ports.map(p => p.info) })
}

function data (): void {
  const s = session
  if (s === undefined) {
    scope.postMessage({ type: 'data', ports: [] })
    return
  }
  const transfer: ArrayBuffer[] = []
  const out: PortData[] = ports.map((port, i) => {
    const sub = s.ports[i].sub
    const st = sub.stats
    const lat = sub.latency.snapshot()
    const chunk = port.feed.take()
    transfer.push(chunk.times.buffer as ArrayBuffer, chunk.locals.buffer as ArrayBuffer, chunk.channels.buffer as ArrayBuffer)
    return {
      state: port.state,
      batches: port.feed.batches,
      gaps: st.gapEvents,
      losses: st.lostEvents,
      connects: st.connects,
      latencyP50Us: lat.count > 0 ? finite(lat.p50Us) : null,
      latencyP99Us: lat.count > 0 ? finite(lat.p99Us) : null,
      ...chunk
    }
  })
  const e = s.time.estimate()
  const c = e === undefined ? undefined : { offsetUs: finite(e.offsetUs), uncertaintyUs: finite(e.uncertaintyUs) }
  scope.postMessage({ type: 'data', ports: out, clock: c }, transfer)
}

async function close (): Promise<void> {
  closing = true
  await session?.close()
  await libp2p?.stop()
}

function describe (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

scope.onmessage = e => {
  const m = e.data
  if (m.type === 'start') {
    start(m.config).catch((err: unknown) => { scope.postMessage({ type: 'error', error: describe(err) }) })
  } else if (m.type === 'pull') {
    data()
  } else {
    void close()
  }
}
