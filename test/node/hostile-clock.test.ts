/**
 * Hostile clock clients over real connections (issue 11, "Hostile peers" 1 and 7): a node's clock server
 * holds a bounded amount for any client — it stops reading a client that does not read its answers and
 * then closes it, paces every peer's answers, closes idle streams, and closes its write side after the
 * client's end — and a node's clock sync backs off from a server that answers invalidly.
 * Memory bounds are asserted as bounded buffers and counters, never as process memory or speed.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import test from 'ava'
import type { ExecutionContext } from 'ava'
import type { Libp2p, Stream } from '@libp2p/interface'
import { CLOCK_PROTOCOL, FrameDecoder, decodeMessage, encodeFrame } from '../../src/codec/index.ts'
import type { ClockResponse, Message } from '../../src/codec/index.ts'
import type { LimitsConfig } from '../../src/node/init.ts'
import type { SpikewireNode } from '../../src/node/node.ts'
import type { LinkStatus } from '../../src/wire/reconnect.ts'
import { stillServes, victimWithWitness as victim } from '../helpers/witness.ts'
import type { Victim } from '../helpers/witness.ts'
import { dialRaw, outcome, startAdversary } from '../helpers/adversary.ts'
import { startNode, until } from '../helpers/nodes.ts'

/** The victim of these tests; the witness syncs no clock, so every clock request the victim serves is the adversary's. */
async function victimWithWitness (t: ExecutionContext, limits: LimitsConfig = {}): Promise<Victim> {
  return await victim(t, { limits }, { clockSync: false })
}

/** The node's side of every clock stream it serves now (to `peer` only, when given). */
function servedClockStreams (node: SpikewireNode, peer?: Libp2p): Stream[] {
  return node.libp2p.getConnections(peer?.peerId).flatMap(c => c.streams).filter(s => s.protocol === CLOCK_PROTOCOL && s.direction === 'inbound')
}

function requests (from: number, count: number): Uint8Array {
  const frames = Array.from({ length: count }, (_, i) => encodeFrame({ type: 'clock-request', id: from + i, t1: 1_000_000 + from + i }))
  return new Uint8ArrayList(...frames).subarray()
}

/** Read every clock-response that arrives on `stream`. */
function responses (stream: Stream): ClockResponse[] {
  const got: ClockResponse[] = []
  const decoder = new FrameDecoder()
  stream.addEventListener('message', e => {
    for (const f of decoder.push(e.data)) {
      const m = decodeMessage(f)
      if (m.type === 'clock-response') got.push(m)
    }
  })
  return got
}

function closeCode (messages: Message[]): unknown {
  const c = messages.find(m => m.type === 'close')
  return c?.type === 'close' ? c.code : undefined
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/**
 * Flood `addr` with clock requests on a stream whose answers are never read, for at most `ms`; record the
 * largest buffers the node holds for its clock streams meanwhile.
 */
async function flood (node: SpikewireNode, stream: Stream, ms: number): Promise<{ sent: number, maxWrite: number, maxRead: number }> {
  stream.pause() // never read: its muxer stops granting window, so the node's answers stop flowing
  const chunk = requests(1, 1000)
  let sent = 0
  let maxWrite = 0
  let maxRead = 0
  const end = Date.now() + ms
  while (stream.status === 'open' && Date.now() < end && sent < 2_000_000) {
    if (!stream.writableNeedsDrain && stream.writeStatus === 'writable') {
      stream.send(chunk)
      sent += 1000
    }
    for (const s of servedClockStreams(node)) {
      maxWrite = Math.max(maxWrite, s.writeBufferLength)
      maxRead = Math.max(maxRead, s.readBufferLength)
    }
    await sleep(stream.writableNeedsDrain ? 20 : 0)
  }
  return { sent, maxWrite, maxRead }
}

test('clock: a client that floods requests and never reads the answers is read no further, then closed with slow-consumer; buffers stay bounded', async t => {
  // A rate high enough that the answers fill the client's window: the backpressure path.
  const { node, witness, addr } = await victimWithWitness(t, { slowConsumerMs: 1000, clockRequestsPerSecond: 100_000, clockBurst: 65_536 })
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, addr, CLOCK_PROTOCOL)
  const closed = new Promise<Error | undefined>(resolve => { stream.addEventListener('close', e => { resolve(e.error) }) })
  const { sent, maxWrite, maxRead } = await flood(node, stream, 20_000)
  t.truthy(await closed, 'the node reset the stream')
  const stats = node.stats().clockServer
  t.true(stats.holds >= 1, 'the node stopped reading the stream')
  t.is(stats.stalledClosed, 1, 'closed with slow-consumer when it did not drain')
  t.true(stats.answers < sent, `answered ${stats.answers} of ${sent} requests sent`)
  t.true(maxWrite <= 64 * 1024, `the node's write buffer for the stream stayed at ${maxWrite} bytes`)
  t.true(maxRead <= 17 * 1024 * 1024, `the node's read buffer for the stream stayed at ${maxRead} bytes (at most one window)`)
  await until(() => servedClockStreams(node, adversary).length === 0, 20_000, 'the clock stream to be gone')
  await stillServes(t, node, witness)
})

test('clock: a read flood at the default rate costs the node at most the peer\'s rate of answers, and bounded buffers', async t => {
  const { node, witness, addr } = await victimWithWitness(t)
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, addr, CLOCK_PROTOCOL)
  const before = node.stats().clockServer.answers
  const start = performance.now()
  const { sent, maxWrite, maxRead } = await flood(node, stream, 3000)
  const elapsedS = (performance.now() - start) / 1000
  const answers = node.stats().clockServer.answers - before
  // An upper bound (a busy machine only answers fewer): the burst plus the rate over the time taken.
  t.true(answers <= 32 + 100 * (elapsedS + 0.5), `${answers} answers in ${elapsedS} s for ${sent} requests sent`)
  t.true(sent > answers, 'the flood was far beyond the rate')
  t.true(node.stats().clockServer.holds >= 1)
  t.true(maxWrite <= 64 * 1024, `write buffer ${maxWrite} bytes`)
  t.true(maxRead <= 17 * 1024 * 1024, `read buffer ${maxRead} bytes`)
  stream.abort(new Error('done'))
  await until(() => servedClockStreams(node, adversary).length === 0, 20_000, 'the clock stream to be gone')
  await stillServes(t, node, witness)
})

test('clock: answers are paced per peer — every request answered in order, the wait between t2 and t3, across the peer\'s streams', async t => {
  const rate = 200
  const burst = 20
  const { node, witness, addr } = await victimWithWitness(t, { clockRequestsPerSecond: rate, clockBurst: burst })
  const adversary = await startAdversary(t)
  const streams = [await dialRaw(adversary, addr, CLOCK_PROTOCOL), await dialRaw(adversary, addr, CLOCK_PROTOCOL)]
  const got = streams.map(s => responses(s))
  const perStream = 120
  streams[0].send(requests(1, perStream))
  streams[1].send(requests(10_001, perStream))
  await until(() => got[0].length === perStream && got[1].length === perStream, 20_000, 'every request to be answered')
  t.deepEqual(got[0].map(r => r.id), Array.from({ length: perStream }, (_, i) => 1 + i), 'in order, none skipped')
  t.deepEqual(got[1].map(r => r.id), Array.from({ length: perStream }, (_, i) => 10_001 + i))
  const all = [...got[0], ...got[1]]
  for (const r of all) t.true(r.t3 >= r.t2)
  const t3s = all.map(r => r.t3)
  const spanUs = Math.max(...t3s) - Math.min(...t3s)
  // A lower bound only (a busy machine makes it longer): one bucket for the peer, not one per stream.
  const minSpanUs = (2 * perStream - burst - 1) / rate * 1e6
  t.true(spanUs >= 0.95 * minSpanUs, `answers spread over ${spanUs} µs, at least ${minSpanUs} µs expected`)
  t.true(Math.max(...all.map(r => r.t3 - r.t2)) >= 0.5 * minSpanUs, 'the wait lies between t2 and t3')
  t.true(node.stats().clockServer.delayed > 0)
  await stillServes(t, node, witness)
})

test('clock: a stream without requests, or dribbling a request a byte at a time, is closed with timeout', async t => {
  const { node, witness, addr } = await victimWithWitness(t, { clockIdleMs: 300 })
  const adversary = await startAdversary(t)
  const silent = await dialRaw(adversary, addr, CLOCK_PROTOCOL)
  const r1 = await outcome(silent, 20_000)
  t.is(closeCode(r1.messages), 'timeout')
  t.is(r1.end, 'reset')

  const slow = await dialRaw(adversary, addr, CLOCK_PROTOCOL)
  const result = outcome(slow, 20_000)
  const bytes = requests(1, 200)
  let ended = false
  void result.finally(() => { ended = true })
  for (let i = 0; i < bytes.length && !ended; i++) {
    if (slow.writeStatus === 'writable') slow.send(bytes.subarray(i, i + 1))
    await sleep(50)
  }
  const r2 = await result
  t.is(closeCode(r2.messages), 'timeout')
  t.is(node.stats().clockServer.idleClosed, 2)
  await stillServes(t, node, witness)
})

test('clock: after the client\'s close{normal} the node answers what it received and closes its write side, with no close of its own', async t => {
  const { node, addr } = await victimWithWitness(t)
  const adversary = await startAdversary(t)
  const stream = await dialRaw(adversary, addr, CLOCK_PROTOCOL)
  const result = outcome(stream, 20_000)
  stream.send(new Uint8Array([...requests(1, 3), ...encodeFrame({ type: 'close', code: 'normal' })]))
  void stream.close().catch(() => {})
  const r = await result
  t.deepEqual(r.messages.map(m => m.type), ['clock-response', 'clock-response', 'clock-response'], 'spec §9.3.1 (revision 3): no close in answer')
  t.is(r.end, 'closed')

  // Only the end of the client's writing, without a close: the same.
  const bare = await dialRaw(adversary, addr, CLOCK_PROTOCOL)
  const result2 = outcome(bare, 20_000)
  bare.send(requests(10, 2))
  void bare.close().catch(() => {})
  const r2 = await result2
  t.deepEqual(r2.messages.map(m => m.type), ['clock-response', 'clock-response'])
  t.is(r2.end, 'closed')
  t.is(node.stats().clockServer.ended, 2)
  await until(() => servedClockStreams(node, adversary).length === 0, 20_000, 'the clock streams to be gone')
})

/** A clock server that answers every request with the wrong id (an invalid reply, spec §9.3.1). */
async function invalidClockServer (adversary: Libp2p): Promise<{ opens: () => number }> {
  let opens = 0
  await adversary.handle(CLOCK_PROTOCOL, (stream) => {
    opens++
    const decoder = new FrameDecoder()
    stream.addEventListener('message', e => {
      try {
        for (const f of decoder.push(e.data)) {
          const m = decodeMessage(f)
          if (m.type === 'clock-request') stream.send(encodeFrame({ type: 'clock-response', id: m.id + 1, t1: m.t1, t2: 5, t3: 6 }))
        }
      } catch {
        stream.abort(new Error('bad input'))
      }
    })
  })
  return { opens: () => opens }
}

test('clock sync backs off from a server whose answers are invalid instead of reopening at once', async t => {
  const adversary = await startAdversary(t)
  const server = await invalidClockServer(adversary)
  const node = await startNode(t, { name: 'client' })
  const target = adversary.getMultiaddrs()[0]
  const sync = node.clockFor(target.toString())
  const retries: LinkStatus[] = []
  sync.addEventListener('status', e => { if (e.detail.state === 'retrying') retries.push(e.detail) })
  await until(() => retries.length >= 5, 20_000, 'five retries')
  t.deepEqual(retries.slice(0, 5).map(s => s.attempt), [1, 2, 3, 4, 5], 'each short session counts as one more failure')
  t.true(retries.slice(0, 5).every(s => /invalid-message|does not answer/.test(String(s.error?.message))), String(retries[0].error?.message))
  t.true(server.opens() <= retries.length + 1, `${server.opens()} streams opened for ${retries.length} retries`)
  await sync.close()
})
