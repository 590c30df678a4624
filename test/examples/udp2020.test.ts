/**
 * The 2020 UDP gateway example (examples/lab-bridges/udp2020): a legacy sender speaking the datagram
 * format drives a spikewire node through the gateway; two taps see its events; the publisher's spikes come
 * back to the sender as S datagrams; the sender's restart halfway is seen and the gateway anchors it again.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

test('the udp2020 example runs to its end: every A datagram reaches the tap, S datagrams come back, the restart re-anchors', async t => {
  const child = spawn(process.execPath, [join(ROOT, 'examples/lab-bridges/udp2020/run.ts'), '--seconds', '3'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr.on('data', (b: Buffer) => { out += b.toString() })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, 60_000)
  t.teardown(() => { clearTimeout(timer); child.kill('SIGKILL') })
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  t.is(code, 0, out.slice(-3000))
  const sentA = out.split('\n').filter(l => /^\[legacy\] -> 41/.test(l)).length
  const tapped = out.split('\n').filter(l => /^\[tap axon\] \d+ us {2}ch 0 {2}value 1$/.test(l)).length
  t.true(sentA >= 20, `A datagrams sent: ${sentA}`)
  t.is(tapped, sentA, 'every A datagram is an event at the tap')
  t.regex(out, /\[tap axon\] summary: \d+ events .* 0 missing \(gaps\), 0 lost/)
  t.regex(out, /\[legacy\] S {2}neuron [01] {2}weight 128 /)
  t.regex(out, /"event":"reanchor","code":"A","port":"axon","reason":"source"/)
  const stats = out.split('\n').filter(l => l.startsWith('[gateway] stats ')).at(-1)!
  const s = JSON.parse(stats.slice('[gateway] stats '.length)) as { malformed: Record<string, number>, senders: { A: { events: number } } }
  t.is(s.senders.A.events, sentA)
  t.deepEqual(Object.values(s.malformed), [0, 0, 0, 0, 0])
})
