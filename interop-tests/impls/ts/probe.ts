/**
 * The TypeScript implementation as the dialer under test in the adversarial scenarios: it subscribes to
 * the port of each case in turn (with the case's filter and max_events), lets each stream end however
 * the adversary makes it end, and keeps a well-behaved subscription open throughout.
 */
import { RejectedError } from '../../../src/index.ts'
import type { SubscribeOptions } from '../../../src/index.ts'
import type { AdversaryCase } from '../../lib/cases.ts'
import { param, sleep } from './context.ts'
import type { Ctx } from './context.ts'
import { nodeOf } from './events.ts'
import type { Fields } from './events.ts'
import type { Peer } from './peer.ts'

export async function probeCases (ctx: Ctx, peer: Peer): Promise<Fields> {
  const node = nodeOf(peer)
  const cases = param<AdversaryCase[]>(ctx, 'cases', 'array')
  const timeoutMs = Number(ctx.params.case_timeout_ms ?? 3000)
  const witness = node.subscribe(ctx.peerAddr, param<string>(ctx, 'witness_port', 'string'), { reconnect: false })
  let watermarks = 0
  witness.addEventListener('watermark', () => { watermarks++ })
  await witness.ready()
  const probes: Fields[] = []
  for (const c of cases) {
    if (c.port === undefined) continue
    const options: SubscribeOptions = { reconnect: false, maxEvents: c.subscribe?.max_events ?? 4096 }
    if (c.subscribe?.channels !== undefined) options.channels = c.subscribe.channels
    const s = node.subscribe(ctx.peerAddr, c.port, options)
    let events = 0
    s.onBatch(({ batch }) => { events += batch.count })
    const finished = await Promise.race([s.done().then(() => true), sleep(timeoutMs).then(() => false)])
    if (!finished) await Promise.race([s.close(), sleep(1000)])
    const end = !finished ? 'timeout' : s.error instanceof RejectedError ? 'rejected' : s.error === undefined ? 'closed' : 'failed'
    probes.push({ port: c.port, end, events, gap: s.stats.gapEvents, lost: s.stats.lostEvents, ...(s.error === undefined ? {} : { error: s.error.message }) })
  }
  const before = watermarks
  await sleep(300)
  const result = { probes, witness: { accepted: true, alive_at_end: witness.state === 'open', watermarks_after_cases: watermarks - before } }
  await witness.close()
  return result
}
