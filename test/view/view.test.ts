/**
 * `spikewire view` end to end, everything real: a node (child process) with a Poisson source on an out port,
 * listening on TCP and WebSockets; `spikewire view` (child process) serving the page; headless chromium
 * opening it, the page being a libp2p peer of its own; `spikewire tap --json` (child process) on the same
 * port over TCP.
 *
 * "The page's count matches the tap's within one batch", precisely: the tap subscribes after the page, and
 * its first event has time T. The node is then stopped (SIGTERM: its source stops, both streams are flushed
 * and closed). Every event with time ≥ T went to both subscribers, except events sharing the time T that left
 * in a batch to the page before the tap's stream opened. So the page's count of events with time ≥ T minus the
 * tap's count must be between 0 and the number of the page's events at exactly T (in practice 0).
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { writeFile, mkdir } from 'node:fs/promises'
import { request } from 'node:http'
import { dirname, join } from 'node:path'
import type { Page } from 'playwright-core'
import { cli, publisherConfig, run, tempDir, writeJson } from '../cli/helpers.ts'
import type { Cli } from '../cli/helpers.ts'
import { chromiumPath, launch } from './browser.ts'
import type { ViewHooks, ViewState } from '../../src/view/page.ts'

const chromium = chromiumPath()
if (chromium.reason !== undefined) console.warn(`test/view: browser tests skipped: ${chromium.reason}`)
const browserTest = chromium.path === undefined ? test.skip : test
const skipNote = chromium.reason === undefined ? '' : ` [skipped: ${chromium.reason}]`

declare global {
  interface Window { spikewireView: ViewHooks }
}

/** Start `spikewire node --json` and return its TCP and WebSockets multiaddrs. */
async function startNode (t: ExecutionContext, config: Record<string, unknown>, dir: string): Promise<{ proc: Cli, tcp: string, ws: string, peer: string }> {
  const proc = cli(t, ['node', '--json', '--config', await writeJson(join(dir, 'node.json'), config)])
  await proc.until(() => proc.json.some(l => l.event === 'started'), 20_000, 'the node to start')
  const started = proc.json.find(l => l.event === 'started')!
  const addrs = started.multiaddrs as string[]
  const ws = addrs.find(a => a.includes('/ws/'))
  const tcp = addrs.find(a => !a.includes('/ws/'))
  if (ws === undefined || tcp === undefined) throw new Error(`expected a TCP and a /ws address: ${addrs.join(' ')}`)
  return { proc, tcp, ws, peer: started.peer as string }
}

async function startView (t: ExecutionContext, args: string[]): Promise<{ proc: Cli, url: string }> {
  const proc = cli(t, ['view', ...args, '--http', '127.0.0.1:0', '--json'])
  await proc.until(() => proc.json.some(l => l.event === 'serving'), 60_000, 'view to serve')
  return { proc, url: proc.json.find(l => l.event === 'serving')!.url as string }
}

async function state (page: Page): Promise<ViewState> {
  return await page.evaluate(() => window.spikewireView.state())
}

async function pageUntil (page: Page, fn: (s: ViewState) => boolean, what: string, timeoutMs = 20_000): Promise<ViewState> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const s = await state(page)
    if (fn(s)) return s
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/** Pixels of a PNG screenshot inside `clip` that differ from the raster's background, counted by the browser. */
async function litPixels (page: Page, png: Buffer, clip: { x: number, y: number, width: number, height: number }): Promise<{ lit: number, total: number }> {
  return await page.evaluate(async ({ b64, clip }) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0))
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }))
    const c = new OffscreenCanvas(bitmap.width, bitmap.height)
    const ctx = c.getContext('2d')!
    ctx.drawImage(bitmap, 0, 0)
    // Inside the canvas's 1 px border.
    const data = ctx.getImageData(Math.ceil(clip.x) + 2, Math.ceil(clip.y) + 2, Math.floor(clip.width) - 4, Math.floor(clip.height) - 4).data
    let lit = 0
    // The background is #0b1020; a drawn event is bright green.
    for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - 0x0b) + Math.abs(data[i + 1] - 0x10) + Math.abs(data[i + 2] - 0x20) > 60) lit++
    return { lit, total: data.length / 4 }
  }, { b64: png.toString('base64'), clip })
}

browserTest(`the page connects over /ws, shows the description, draws, and counts what a tap of the same port counts${skipNote}`, async t => {
  const dir = await tempDir(t)
  const config = publisherConfig('/ip4/127.0.0.1/tcp/0', { name: 'view-pub' })
  ;(config.listen as string[]).push('/ip4/127.0.0.1/tcp/0/ws')
  ;(config.ports as Array<Record<string, unknown>>)[0] = { name: 'spikes', direction: 'out', channels: 16, source: { type: 'poisson', rateHz: 40, seed: 7 } }
  // An out port only another peer may subscribe to: the page's panel must show the refusal.
  ;(config.ports as Array<Record<string, unknown>>).push({ name: 'private', direction: 'out', channels: 2, subscribe: ['12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9jLBJj6aqdhTM'] })
  const node = await startNode(t, config, dir)
  const view = await startView(t, [node.ws])
  const browser = await launch(chromium.path!)
  t.teardown(async () => { await browser.close() })
  const page = await browser.newPage({ viewport: { width: 980, height: 760 } })
  const logs: string[] = []
  page.on('console', m => { logs.push(`${m.type()}: ${m.text()}`) })
  page.on('pageerror', e => { logs.push(`pageerror: ${e.message}`) })
  await page.goto(view.url)
  const open = await pageUntil(page, s => s.status === 'error' || (s.status === 'open' && s.ports[0]?.events > 50), 'the page to open and receive events', 30_000)
  t.is(open.status, 'open', `${open.error ?? ''}\n${logs.join('\n')}`)
  t.is(open.description?.name, 'view-pub')
  t.is(open.description?.peer, node.peer)
  t.deepEqual(open.ports.map(p => p.port), ['spikes', 'private'], 'every out port by default')
  const refused = await pageUntil(page, s => s.ports[1].state.startsWith('closed'), 'the private port to be refused')
  t.is(refused.ports[1].state, 'closed (unauthorized)')
  t.is(refused.ports[1].events, 0)
  t.is(await page.locator('#description h1').textContent(), 'view-pub')
  t.true(await page.evaluate(() => crossOriginIsolated), 'the page is cross-origin isolated (5 µs clock steps)')
  t.true((await page.locator('#description td').allTextContents()).includes('spikes'))

  const tap = cli(t, ['tap', node.tcp, 'spikes', '--json'])
  await tap.until(() => tap.json.length >= 100, 20_000, 'the tap to print 100 events')
  const s1 = await pageUntil(page, s => s.clock?.uncertaintyUs != null && s.ports[0].latencyP50Us !== null, 'a clock estimate and latency in the page')
  // Same machine, so the true offset is about 0: the estimate's uncertainty must cover it (with 20 ms to spare
  // for the two runtimes' readings of the wall clock at their start).
  t.true(Math.abs(s1.clock!.offsetUs!) <= s1.clock!.uncertaintyUs! + 20_000, `offset ${String(s1.clock!.offsetUs)} ± ${String(s1.clock!.uncertaintyUs)} µs (same machine)`)
  t.true(s1.ports[0].latencyP50Us! < 1_000_000, `latency p50 ${String(s1.ports[0].latencyP50Us)} µs`)
  t.true(s1.ports[0].drawn > 0)
  t.true(s1.ports[0].shownP50Us !== null && s1.ports[0].shownP50Us < 10_000_000, `draw latency p50 ${String(s1.ports[0].shownP50Us)} µs`)
  // The libp2p peer runs in the page's one worker, not on the main thread.
  t.deepEqual(page.workers().map(w => new URL(w.url()).pathname), ['/view-worker.js'])

  const png = await page.screenshot({ fullPage: true })
  const box = (await page.locator('[data-port="spikes"] canvas.raster').boundingBox())!
  const { lit, total } = await litPixels(page, png, box)
  t.log(`screenshot: ${lit} of ${total} pixels of the spikes raster lit`)
  t.true(lit > 20 && lit < total, `${lit} of ${total} raster pixels lit in the screenshot`)
  // The same check on the refused port's raster, which has nothing to draw, finds it blank.
  const emptyBox = (await page.locator('[data-port="private"] canvas.raster').boundingBox())!
  t.is((await litPixels(page, png, emptyBox)).lit, 0, 'the refused port\'s raster is blank')
  const shot = process.env.VIEW_SCREENSHOT
  if (shot !== undefined && shot !== '') {
    await mkdir(dirname(shot), { recursive: true })
    await writeFile(shot, png)
  }

  // Stop the node: the source stops, both streams are flushed and closed.
  node.proc.child.kill('SIGTERM')
  t.is((await node.proc.exit(20_000)).code, 0, node.proc.stderr)
  await pageUntil(page, s => s.ports[0].state.startsWith('retrying') || s.ports[0].state.startsWith('connecting'), 'the page to see the node gone')
  tap.child.kill('SIGINT')
  t.is((await tap.exit(20_000)).code, 0, tap.stderr)
  const lines = tap.json
  const summary = lines.at(-1)!
  t.is(summary.summary, true)
  const events = lines.filter(l => l.summary === undefined)
  t.is(events.length, summary.events as number)
  t.is(summary.gaps, 0)
  t.is(summary.losses, 0)
  const first = events[0].time_us as number
  const final = await state(page)
  const port = final.ports[0]
  t.is(port.gaps, 0)
  t.is(port.losses, 0)
  const since = await page.evaluate(([p, f]) => window.spikewireView.countSince(p, f), ['spikes', first] as const)
  const after = await page.evaluate(([p, f]) => window.spikewireView.countSince(p, f + 1), ['spikes', first] as const)
  t.true(since !== undefined && after !== undefined)
  const atFirst = since! - after!
  t.log(`page: ${port.events} events in all, ${since} since the tap's first event (${atFirst} at that time); tap: ${events.length}`)
  t.true(since! - events.length >= 0 && since! - events.length <= atFirst, `page ${since} vs tap ${events.length} (±${atFirst})`)
  t.true(port.events > events.length)
  // The count the page shows is the count it holds (the text is refreshed every 250 ms).
  await new Promise(resolve => setTimeout(resolve, 600))
  t.is(await page.locator('[data-port="spikes"] [data-field="events"]').textContent(), String(port.events))

  view.proc.child.kill('SIGINT')
  t.is((await view.proc.exit(10_000)).code, 0, view.proc.stderr)
})

test('view refuses a TCP address, names a /ws address nobody answers on, and serves four paths only', async t => {
  const tcp = await run(t, ['view', '/ip4/127.0.0.1/tcp/9/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9jLBJj6aqdhTM'])
  t.is(tcp.code, 2)
  t.regex(tcp.stderr, /not a WebSockets address.*a browser can dial only \/ws/)
  const none = await run(t, ['view', '/ip4/127.0.0.1/tcp/9/ws/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9jLBJj6aqdhTM'], 30_000)
  t.is(none.code, 1)
  t.regex(none.stderr, /unreachable.*no spikewire node answers on WebSockets at \/ip4\/127\.0\.0\.1\/tcp\/9\/ws/)

  const dir = await tempDir(t)
  const node = await startNode(t, { ...publisherConfig('/ip4/127.0.0.1/tcp/0'), listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] }, dir)
  const unknown = await run(t, ['view', node.ws, 'nope'], 30_000)
  t.is(unknown.code, 1)
  t.regex(unknown.stderr, /unknown-port.*no out port "nope"/)
  const view = await startView(t, [node.ws, 'spikes'])
  const get = async (path: string, method = 'GET'): Promise<Response> => await fetch(new URL(path, view.url), { method })
  const html = await get('/')
  t.is(html.status, 200)
  t.regex(await html.text(), /<script type="module" src="\/view\.js">/)
  t.regex(html.headers.get('content-security-policy') ?? '', /script-src 'self'; worker-src 'self'/)
  const js = await get('/view.js')
  t.is(js.status, 200)
  t.true((await js.arrayBuffer()).byteLength > 5_000)
  const worker = await get('/view-worker.js')
  t.is(worker.status, 200)
  t.true((await worker.arrayBuffer()).byteLength > 100_000, 'the worker holds the libp2p peer')
  // The worker is cross-origin isolated as the page is (its clock reads in 5 µs steps too).
  t.is(worker.headers.get('cross-origin-embedder-policy'), 'require-corp')
  t.deepEqual(await (await get('/config.json')).json(), { target: node.ws, ports: ['spikes'], windowMs: 5000 })
  // Sent as they are (fetch would normalise the dots away).
  const raw = async (path: string): Promise<number> => await new Promise((resolve, reject) => {
    const u = new URL(view.url)
    request({ host: u.hostname, port: u.port, path }, res => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', reject).end()
  })
  for (const p of ['/index.html', '/../package.json', '/%2e%2e/package.json', '/view.js/..', '/./view.js', '//etc/passwd', '/src/view/page.ts', '/node_modules/.cache/']) t.is(await raw(p), 404, p)
  t.is(await raw('/view.js?x=1'), 200)
  t.is((await get('/', 'POST')).status, 405)
  view.proc.child.kill('SIGTERM')
  t.is((await view.proc.exit(10_000)).code, 0, view.proc.stderr)
})
