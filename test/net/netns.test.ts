/**
 * The namespace topology harness itself (test/helpers/netns.ts): three NATed labs, a public host and a
 * two-host LAN are built, every NAT is proved (source NAT, nothing inbound), and nothing is left behind.
 * Skipped, with the reason in the title and on the console, where namespaces are not permitted.
 */
import test from 'ava'
import { createTopology, leftovers, netnsAvailable, probe, startListener } from '../helpers/netns.ts'

const avail = await netnsAvailable()
if (!avail.ok) console.log(`test/net/netns.test.ts: SKIPPED — network namespaces not permitted here: ${avail.reason}`)
const nsTest = avail.ok ? test : test.skip
const why = avail.ok ? '' : ` [skipped: ${avail.reason}]`

nsTest(`netns harness: three NATs do source NAT and refuse inbound, the LAN bridges, destroy removes everything${why}`, async t => {
  t.timeout(60_000)
  const topo = await createTopology({ publicHost: true, lan: 2, checkNat: false })
  t.teardown(async () => { await topo.destroy() })
  t.true(topo.namespaces.every(ns => ns.startsWith(`sw-${topo.id}-`)))
  t.deepEqual((await leftovers(topo.id)).sort(), [...topo.namespaces].sort())

  const checks = await topo.checkNat()
  for (const c of checks) t.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.what}: ${c.detail}`)
  t.is(checks.length, 3 * (2 + 4) + 6)
  t.true(checks.every(c => c.ok))
  t.true(checks.some(c => /source NAT/.test(c.what) && c.detail.includes('198.51.100.11')))

  // The public host is on the internet bridge beside the relay host; the two LAN hosts reach each other.
  const port = 31_000 + Math.floor(Math.random() * 1000)
  const listeners = [await startListener(topo, topo.publicHost!.ns, port), await startListener(topo, topo.lan[1].ns, port)]
  const [fromLab] = await probe(topo, topo.labs[0].host.ns, [{ host: topo.publicHost!.ip, port }])
  t.true(fromLab.ok)
  t.is(fromLab.seen, topo.labs[0].router.ip)
  const [fromLan] = await probe(topo, topo.lan[0].ns, [{ host: topo.lan[1].ip, port }])
  t.true(fromLan.ok)
  t.is(fromLan.seen, topo.lan[0].ip)
  for (const l of listeners) l.kill('SIGTERM')

  await topo.destroy()
  await topo.destroy() // idempotent
  t.deepEqual(await leftovers(topo.id), [])
})
