/**
 * The 2020 UDP gateway on one machine: a legacy 2020-format sender drives a spikewire node through the
 * gateway, and a spikewire publisher's weights go back to the sender as `S` datagrams.
 *
 *   legacy-sender.ts ──UDP A/D/R──▶ spikewire gateway udp2020 ──▶ out "axon", "dendrite" ──▶ spikewire tap
 *          ▲                          (node "hub-gateway")
 *          └──────────UDP S────────── replies ◀── subscription ◀── node "weights" (pacemaker, 2 Hz)
 *
 *   node examples/lab-bridges/udp2020/run.ts [--seconds S]     (writes out/lab-bridges/udp2020/)
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { seconds: { type: 'string' } } })
const seconds = Number(values.seconds ?? 5)
const ROOT = resolve(import.meta.dirname, '../../..')
const OUT = join(ROOT, 'out/lab-bridges/udp2020')
const MAIN = join(ROOT, 'src/cli/main.ts')
await mkdir(OUT, { recursive: true })

const children: ChildProcess[] = []
const opened: Array<Promise<void>> = []
function start (name: string, args: string[], onLine: (line: string) => void = line => { console.log(`[${name}] ${line}`) }): ChildProcess {
  const c = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  createInterface({ input: c.stdout! }).on('line', onLine)
  const open = Promise.withResolvers<void>()
  createInterface({ input: c.stderr! }).on('line', l => {
    console.error(`[${name}] ${l}`)
    if (l.startsWith('tap: open')) open.resolve()
  })
  if (name.startsWith('tap')) opened.push(open.promise)
  children.push(c)
  return c
}
async function started (name: string, args: string[]): Promise<Record<string, unknown>> {
  return await new Promise(resolve => {
    start(name, args, line => {
      const j = line.startsWith('{') ? JSON.parse(line) as Record<string, unknown> : undefined
      if (j?.event === 'started') resolve(j)
      else if (j?.event === 'stats') console.log(`[${name}] stats ${JSON.stringify((j.parts as Record<string, unknown> | undefined)?.udp2020 ?? j.ports)}`)
      else if (j !== undefined && j.event !== 'subscription') console.log(`[${name}] ${line}`)
    })
  })
}

// 1. A spikewire publisher: a "weights" port, a 2 Hz pacemaker on 2 channels.
await writeFile(join(OUT, 'weights.json'), JSON.stringify({ name: 'weights', listen: ['/ip4/127.0.0.1/tcp/0'], ports: [{ name: 'weights', direction: 'out', channels: 2, source: { type: 'pacemaker', rateHz: 2 } }] }, null, 2))
const pub = await started('weights', [MAIN, 'node', '--json', '--config', join(OUT, 'weights.json')])
// 2. The gateway: senders A and D, replies from the publisher's weights to every R-registered address.
await writeFile(join(OUT, 'gateway.json'), JSON.stringify({
  node: { name: 'hub-gateway', listen: ['/ip4/127.0.0.1/tcp/0'] },
  udp2020: {
    listen: '127.0.0.1:0',
    senders: [{ code: 'A', port: 'axon', channels: 4 }, { code: 'D', port: 'dendrite', channels: 4 }],
    replies: [{ from: (pub.multiaddrs as string[])[0], port: 'weights', spikeWeight: 128 }]
  }
}, null, 2))
const gw = await started('gateway', [MAIN, 'gateway', 'udp2020', '--json', '--stats', String(seconds + 2), '--config', join(OUT, 'gateway.json')])
console.log(`gateway: UDP ${String(gw.udp)}, spikewire ${(gw.multiaddrs as string[])[0]}`)
// 3. A spikewire subscriber prints the axon port's events; 4. the legacy sender.
const gwAddr = (gw.multiaddrs as string[])[0]
const tap = start('tap axon', [MAIN, 'tap', gwAddr, 'axon', '--duration', String(seconds + 4)])
start('tap dendrite', [MAIN, 'tap', gwAddr, 'dendrite', '--duration', String(seconds + 4)])
await Promise.all(opened)
start('legacy', [join(import.meta.dirname, 'legacy-sender.ts'), String(gw.udp), '--seconds', String(seconds), '--restart-after', String(seconds / 2)])
await new Promise(resolve => tap.once('exit', resolve))
await new Promise(resolve => setTimeout(resolve, 1000))
for (const c of children) c.kill('SIGTERM')
await Promise.all(children.map(async c => await new Promise(resolve => { if (c.exitCode !== null) resolve(0); else c.once('exit', resolve) })))
