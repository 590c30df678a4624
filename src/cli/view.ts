/**
 * `spikewire view`: serve a page in which the browser itself is a libp2p peer (WebSockets, Noise, Yamux) that
 * subscribes to a node's out ports and draws them live. The page's source is src/view/ (bundled by
 * view-bundle.ts); this command checks that the node answers on the WebSockets address given, then serves
 * four fixed paths over plain HTTP and nothing else.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PORT_NAME_PATTERN } from '../codec/constants.ts'
import { SpikewireBaseError } from '../base/errors.ts'
import { splitHostPort, urlHost } from '../base/host-port.ts'
import type { HostPort } from '../base/host-port.ts'
import { SpikewireError } from '../codec/errors.ts'
import type { Description } from '../codec/messages.ts'
import { VIEW_PATHS, isBrowserDialable } from '../view/config.ts'
import type { ViewConfig } from '../view/config.ts'
import { UnknownPortError, choosePorts } from '../view/session.ts'
import { startClient } from './client.ts'
import { EXIT_OK, UsageError, describeError, multiaddrArg, parseCommand, seconds } from './command.ts'
import type { Command } from './command.ts'
import { Lines, err } from './output.ts'
import { onStopSignal } from './signals.ts'
import { viewScripts } from './view-bundle.ts'

const help = `Usage: spikewire view MULTIADDR [PORT...] [--http HOST:PORT] [--window S] [--json]

Serve a live view of the node at MULTIADDR on a local web page. The browser is itself a
libp2p peer: it dials the node over WebSockets (Noise, Yamux), asks its description, syncs
its clock with it and subscribes to the out ports named (default: every out port). For each
port the page draws a scrolling raster, per-channel rates, counts of events, gaps (events
missing from a stream) and losses (events the node reported dropped), the one-way latency,
and the clock offset ± uncertainty.

MULTIADDR must be a WebSockets address of the node, with its PeerId, e.g.
  /ip4/127.0.0.1/tcp/4002/ws/p2p/12D3KooW...
(a browser cannot dial TCP): give the node such an address in its "listen" list. Before
serving, view connects to that address itself and fails if no node answers there.

Options:
  --http HOST:PORT  where the page is served (default 127.0.0.1:8080; port 0: any free port)
  --window S        time span of the raster, seconds (default 5)
  --json            status lines as JSON: {"event":"serving","url":...}
  -h, --help        show this help

The page is served at / (with /view.js, /view-worker.js and /config.json); every other
path is 404. The page's libp2p peer runs in a web worker, so drawing never waits for the
network.
Stop with SIGINT or SIGTERM.
`

/** What stops `view` before it serves: the node does not answer at the address, or the HTTP address is taken. */
export class ViewError extends SpikewireBaseError<'unreachable' | 'http-unavailable'> {
  override name = 'ViewError'
}

/** How long the check that the node answers may take. */
const CHECK_TIMEOUT_MS = 10_000

/** HOST:PORT or [IPv6]:PORT. */
export function parseHttpAddress (s: string): HostPort {
  const hp = splitHostPort(s)
  if (hp === undefined) throw new UsageError(`--http must be HOST:PORT, e.g. 127.0.0.1:8080 (got ${JSON.stringify(s)})`)
  return hp
}

export function pageHtml (title: string): string {
  const t = title.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>spikewire view · ${t}</title>
<style>
  body { background: #060912; color: #d8dee9; font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; }
  h1 { font-size: 1.4em; margin: 0; } h2 { font-size: 1.1em; margin: 1.2em 0 0.3em; }
  .muted { color: #8a93a6; margin: 0.2em 0; }
  table { border-collapse: collapse; margin: 0.5em 0; } td, th { border-bottom: 1px solid #26304a; padding: 2px 10px; text-align: left; }
  #status[data-state=error] { color: #ff7b7b; } #status[data-state=open] { color: #7cf3b0; }
  .stats .label { color: #8a93a6; } .stats .value { font-variant-numeric: tabular-nums; }
  canvas { display: block; border: 1px solid #26304a; max-width: 100%; }
</style>
</head>
<body>
<p id="status" data-state="loading">loading…</p>
<section id="description"></section>
<p id="clock" class="muted"></p>
<main id="ports"></main>
<script type="module" src="${VIEW_PATHS.script}"></script>
</body>
</html>
`
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  // The page runs its own scripts only (the page's and its worker's), and connects to this server and to WebSockets.
  'content-security-policy': "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:; img-src 'self' data:",
  // Cross-origin isolated, the page's clock reads in 5 µs steps instead of 100 µs (Chromium; spec §4.1.2).
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin'
}

/** The view's request handler: four fixed paths, GET and HEAD only. */
export function viewHandler (files: Record<string, { type: string, body: Buffer | string }>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0]
    const file = Object.hasOwn(files, path) ? files[path] : undefined
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n')
      return
    }
    if (file === undefined) {
      res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'content-length': Buffer.byteLength(file.body) })
    res.end(req.method === 'HEAD' ? undefined : file.body)
  }
}

/** Ask the node its description over the WebSockets address, as the page will. */
async function check (target: string): Promise<Description & { peer: string }> {
  const node = await startClient('spikewire-view')
  const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS)
  try {
    return await node.describe(target, { signal })
  } catch (e) {
    const why = signal.aborted ? `no answer within ${CHECK_TIMEOUT_MS / 1000} s` : describeError(e)
    throw new ViewError('unreachable', `no spikewire node answers on WebSockets at ${target} (${why}); does the node list this /ws address in "listen"?`)
  } finally {
    await node.stop()
  }
}

export const command: Command = {
  name: 'view',
  help,
  async run (argv) {
    const p = parseCommand(argv, command, { http: { type: 'string' }, window: { type: 'string' }, json: { type: 'boolean' } }, ['MULTIADDR', 'PORT...'])
    if (p === undefined) return EXIT_OK
    const target = await multiaddrArg(p.positionals[0])
    const ports = p.positionals.slice(1)
    for (const port of ports) if (!PORT_NAME_PATTERN.test(port)) throw new UsageError(`${JSON.stringify(port)} is not a port name (${PORT_NAME_PATTERN})`)
    if (!isBrowserDialable(target)) {
      throw new UsageError(`${target} is not a WebSockets address with a PeerId: a browser can dial only /ws (or /wss) addresses. ` +
        'Give the node a listen address such as /ip4/127.0.0.1/tcp/4002/ws and pass the /ws/p2p/… address it prints.')
    }
    const http = parseHttpAddress(typeof p.values.http === 'string' ? p.values.http : '127.0.0.1:8080')
    const windowS = seconds(p, 'window') ?? 5
    if (windowS < 0.5 || windowS > 600) throw new UsageError(`--window must be between 0.5 and 600 seconds (got ${windowS})`)
    const json = p.values.json === true
    const status = new Lines(json)

    const d = await check(target)
    let chosen
    try {
      chosen = choosePorts(d, ports)
    } catch (e) {
      if (e instanceof UnknownPortError) throw new SpikewireError('unknown-port', e.message)
      throw e
    }
    const { script, worker } = await viewScripts()
    const config: ViewConfig = { target, ports, windowMs: Math.round(windowS * 1000) }
    const server = createServer(viewHandler({
      [VIEW_PATHS.page]: { type: 'text/html; charset=utf-8', body: pageHtml(d.name) },
      [VIEW_PATHS.script]: { type: 'text/javascript; charset=utf-8', body: script },
      [VIEW_PATHS.worker]: { type: 'text/javascript; charset=utf-8', body: worker },
      [VIEW_PATHS.config]: { type: 'application/json', body: JSON.stringify(config) }
    }))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(http.port, http.host, () => { server.off('error', reject); resolve() })
    }).catch((e: unknown) => {
      throw new ViewError('http-unavailable', `cannot serve on ${http.host}:${http.port}: ${describeError(e)}`)
    })
    const a = server.address() as AddressInfo
    const url = `http://${urlHost(a.address)}:${a.port}/`
    status.print({ event: 'serving', url, target, node: d.name, peer: d.peer, ports: chosen.map(c => c.name) },
      `view: serving ${d.name} (${chosen.map(c => c.name).join(', ') || 'no out ports'}) at ${url}`)
    const stop = Promise.withResolvers<string>()
    const removeSignals = onStopSignal('view', s => { stop.resolve(s) })
    try {
      await stop.promise
    } finally {
      removeSignals()
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
      if (!json) err('view: stopped')
    }
    return EXIT_OK
  }
}
