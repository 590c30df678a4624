/**
 * The child process of the stream benchmark (bench/stream.ts). It reads one JSON command per line on
 * stdin ({ id, cmd, ...args }) and answers one JSON line per command on stdout ({ id, result } or
 * { id, error }); nothing else is written to stdout. The roles live in stream-roles.ts and stream-tcp.ts.
 */
import { serveCommands } from './child-rpc.ts'
import { NodePublisher, NodeSubscribers, clockBase } from './stream-roles.ts'
import { TcpPublisher, TcpSubscriber } from './stream-tcp.ts'

// Other benches import the clock helpers from here.
export { clockBase, nowUs } from './stream-roles.ts'

/** One command to the child; which fields are set depends on `cmd`. */
interface Command {
  id: number
  cmd: string
  tcp?: boolean
  maxBatchEvents?: number
  subscribers?: number
  seconds?: number
  chunk?: number
  queueLimit?: number
  batchEvents?: number
  rateHz?: number
  /** Publisher multiaddr (node) or TCP port (raw). */
  addr?: string | number
  count?: number
  maxEvents?: number
  latency?: boolean
  expect?: number
  /** Subscribers: false to run them without clock sync. */
  clockSync?: boolean
}

/** The child's command loop: roles live in this process until 'exit'. */
async function serve (): Promise<void> {
  let pub: NodePublisher | TcpPublisher | undefined
  let sub: NodeSubscribers | TcpSubscriber | undefined
  const handlers: Record<string, (c: Command) => Promise<unknown>> = {
    clock: async () => ({ baseUs: clockBase() }),
    'pub.start': async c => {
      pub = c.tcp === true ? new TcpPublisher() : new NodePublisher(c.maxBatchEvents!)
      return { addr: await pub.start() }
    },
    'pub.wait': async c => { if (pub instanceof NodePublisher) await pub.waitSubscribers(c.subscribers!) },
    'pub.runMax': async c => pub instanceof TcpPublisher
      ? await pub.runMax(c.seconds!, c.chunk!, c.batchEvents!)
      : await pub!.runMax(c.seconds!, c.chunk!, c.queueLimit!),
    'pub.runPaced': async c => await pub!.runPaced(c.seconds!, c.rateHz!),
    'pub.stop': async () => { await pub?.stop(); pub = undefined },
    'sub.start': async c => {
      if (c.tcp === true) {
        const s = new TcpSubscriber()
        sub = s
        await s.start(Number(c.addr), c.maxEvents!, c.latency === true)
      } else {
        const s = new NodeSubscribers()
        sub = s
        await s.start(String(c.addr), c.count!, c.maxEvents!, c.latency === true, c.clockSync !== false)
      }
    },
    'sub.collect': async c => await sub!.collect(c.expect!),
    'sub.stop': async () => { await sub?.stop(); sub = undefined },
    exit: async () => { setImmediate(() => process.exit(0)) }
  }
  await serveCommands(handlers)
}

if (import.meta.main) await serve()
