/**
 * A tiny TCP probe run inside a network namespace by test/helpers/netns.ts (`node netns-probe.ts JSON`).
 *
 * - `{"listen": {"host", "port"}}`: accept connections, write the peer's address and port as one JSON line
 *   to each client, print `{"listening": port}` on stdout, run until killed.
 * - `{"connect": [{"host", "port"}…], "timeoutMs"}`: dial every target in parallel, print one JSON line
 *   `[{host, port, ok, seen?, error?}…]` (`seen` is the address the listener saw), exit 0.
 */
import { connect, createServer } from 'node:net'

interface Target { host: string, port: number }
interface ProbeArgs { listen?: Target, connect?: Target[], timeoutMs?: number }
export interface ProbeResult { host: string, port: number, ok: boolean, seen?: string, error?: string }

const args = JSON.parse(process.argv[2] ?? '{}') as ProbeArgs

function dial (target: Target, timeoutMs: number): Promise<ProbeResult> {
  return new Promise(resolve => {
    let text = ''
    const done = (r: Omit<ProbeResult, 'host' | 'port'>): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ ...target, ...r })
    }
    const socket = connect({ host: target.host, port: target.port })
    const timer = setTimeout(() => { done({ ok: false, error: 'timeout' }) }, timeoutMs)
    socket.on('data', (b: Buffer) => {
      text += b.toString()
      if (text.includes('\n')) done({ ok: true, seen: (JSON.parse(text) as { address: string }).address })
    })
    socket.on('error', (err: NodeJS.ErrnoException) => { done({ ok: false, error: err.code ?? err.message }) })
  })
}

if (args.listen != null) {
  const server = createServer(socket => {
    socket.on('error', () => {})
    socket.end(JSON.stringify({ address: socket.remoteAddress, port: socket.remotePort }) + '\n')
  })
  server.listen(args.listen.port, args.listen.host, () => {
    const a = server.address()
    process.stdout.write(JSON.stringify({ listening: typeof a === 'object' && a != null ? a.port : 0 }) + '\n')
  })
  process.on('SIGTERM', () => { server.close(); process.exit(0) })
} else if (args.connect != null) {
  const results = await Promise.all(args.connect.map(async t => await dial(t, args.timeoutMs ?? 1500)))
  process.stdout.write(JSON.stringify(results) + '\n')
}
