/**
 * `spikewire ls`: list the spikewire nodes that can be found — by mDNS on the LAN, and in the directory of
 * relays that list their peers (spec §9.4) — with what their descriptions say: name, role, PeerId,
 * addresses and ports. The way a lab resolves LSL streams by name or type: `--name`, `--role` and `--port`
 * keep the nodes that match.
 */
import type { Description } from '../codec/messages.ts'
import { MDNS_SERVICE_TAG, MDNS_SERVICE_TAG_PATTERN } from '../node/discovery.ts'
import type { SpikewireNode } from '../node/node.ts'
import { EXIT_OK, UsageError, describeError, multiaddrArg, parseCommand, seconds } from './command.ts'
import type { Command } from './command.ts'
import { table } from './format.ts'
import { err, out } from './output.ts'

const help = `Usage: spikewire ls [--json] [--timeout S] [--name NAME] [--role ROLE] [--port PORT] [--tag TAG]
                    [--relay MULTIADDR]... [--no-mdns]

List the spikewire nodes that can be found: listen for mDNS answers on the LAN for S seconds, ask each
relay given with --relay for the peers holding a reservation on it (if the relay lists them), ask every
node found for its description (the describe protocol) and print one line per node: name, role, PeerId,
ports (name, direction, kind, channels) and addresses. Only nodes whose config turns mDNS on are heard
by mDNS (docs/config.md, "Discovery"). A node found that does not answer describe is listed with its
error.

Options:
  --json        one JSON object per node and line
  --timeout S   listen for S seconds (default 3); each description gets 5 s more at most
  --name NAME   only nodes with this name
  --role ROLE   only nodes with this role
  --port PORT   only nodes with a port of this name
  --tag TAG     the mDNS service tag (default ${MDNS_SERVICE_TAG})
  --relay MULTIADDR
                also list the peers of this relay (/ip4/…/tcp/…/p2p/RELAY); may be repeated
  --no-mdns     do not use mDNS (only the relays)
  -h, --help    show this help

Exit code 0 also when no node was found (stderr says so).
`

/** Most nodes listed (and described) in one run: announcements beyond it are counted, not followed. */
export const LS_MAX_NODES = 256
/** Descriptions asked for at once. */
export const LS_CONCURRENCY = 8
/** The longest a description may take, ms, counted from the end of listening at the latest. */
export const LS_DESCRIBE_MS = 5000

export interface ListedPort {
  name: string
  direction: string
  kind: string
  channels: number
}

/** One node found: what discovery said, and its description or the error that stopped it. */
export interface ListedNode {
  peer: string
  /** Where it was found: mDNS, a relay's directory, or both. */
  sources: Array<'mdns' | 'relay'>
  addresses: string[]
  name?: string
  role?: string
  software?: string
  ports?: ListedPort[]
  error?: { code: string, message: string }
}

/** A node found, by mDNS or in a relay's directory: its PeerId and addresses. */
interface Found {
  peer: string
  addresses: string[]
}

export interface FindOptions {
  timeoutMs: number
  /** Also list the peers of these relays (multiaddrs ending in /p2p/RELAY). */
  relays?: string[]
  /** Called when a relay does not list its peers or cannot be reached. */
  onRelayError?: (relay: string, err: unknown) => void
  describeMs?: number
  maxNodes?: number
  /** Called once per node found beyond maxNodes. */
  onOverflow?: () => void
}

/**
 * Listen for mDNS answers for `timeoutMs` with `node` (which must run mDNS), describing each node heard
 * at most LS_CONCURRENCY at a time. Resolves within timeoutMs + describeMs.
 */
export async function findNodes (node: SpikewireNode, options: FindOptions): Promise<ListedNode[]> {
  const maxNodes = options.maxNodes ?? LS_MAX_NODES
  const describeMs = options.describeMs ?? LS_DESCRIBE_MS
  const found = new Map<string, ListedNode>()
  const queue: Found[] = []
  const listening = new AbortController()
  const hard = new AbortController()
  let running = 0
  let idle: (() => void) | undefined

  const add = (d: Found, source: 'mdns' | 'relay'): void => {
    const known = found.get(d.peer)
    if (known !== undefined) {
      // Found both ways: one entry, every address (a description already asked for is not asked again).
      if (!known.sources.includes(source)) known.sources.push(source)
      for (const a of d.addresses) if (!known.addresses.includes(a)) known.addresses.push(a)
      return
    }
    heard(d, source)
  }
  const pump = (): void => {
    while (running < LS_CONCURRENCY && queue.length > 0) {
      const d = queue.shift() as Found
      running++
      void describeOne(node, d, describeMs, AbortSignal.any([hard.signal, AbortSignal.timeout(describeMs)]))
        .then(described => {
          const entry = found.get(d.peer)
          if (entry === undefined) return
          delete entry.error
          Object.assign(entry, described, { sources: entry.sources, addresses: entry.addresses })
        })
        .finally(() => {
          running--
          pump()
          if (running === 0 && queue.length === 0) idle?.()
        })
    }
  }
  const heard = (d: Found, source: 'mdns' | 'relay'): void => {
    if (listening.signal.aborted) return
    if (found.size >= maxNodes) {
      options.onOverflow?.()
      return
    }
    found.set(d.peer, { peer: d.peer, sources: [source], addresses: [...d.addresses], error: { code: 'timeout', message: 'no description yet' } })
    queue.push(d)
    pump()
  }
  const onDiscovered = (evt: CustomEvent<Found>): void => { add(evt.detail, 'mdns') }
  node.addEventListener('discovered', onDiscovered)
  for (const d of node.discovered()) add(d, 'mdns')
  if ((options.relays ?? []).length > 0) {
    const { listRelayPeers } = await import('../relay/directory.ts')
    for (const relay of options.relays ?? []) {
      void listRelayPeers(node.libp2p, relay, { max: Math.min(maxNodes, 1024), timeoutMs: options.timeoutMs, signal: listening.signal })
        .then(answer => {
          for (const p of answer.peers) add({ peer: p.peer, addresses: p.addrs }, 'relay')
          if (answer.total > answer.peers.length) options.onOverflow?.()
        }, (e: unknown) => { if (!listening.signal.aborted) options.onRelayError?.(relay, e) })
    }
  }
  await new Promise(resolve => setTimeout(resolve, options.timeoutMs))
  listening.abort()
  node.removeEventListener('discovered', onDiscovered)
  if (running > 0 || queue.length > 0) {
    const done = new Promise<void>(resolve => { idle = resolve })
    const timer = setTimeout(() => { hard.abort() }, describeMs)
    await done
    clearTimeout(timer)
  }
  return [...found.values()].sort((a, b) => (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff') || a.peer.localeCompare(b.peer))
}

async function describeOne (node: SpikewireNode, d: Found, describeMs: number, signal: AbortSignal): Promise<Partial<ListedNode>> {
  const entry: Partial<ListedNode> = {}
  try {
    const { peerIdFromString } = await import('@libp2p/peer-id')
    const { multiaddr } = await import('@multiformats/multiaddr')
    const id = peerIdFromString(d.peer)
    // Only in this short-lived peer's store: lets libp2p try every announced address.
    await node.libp2p.peerStore.merge(id, { multiaddrs: d.addresses.map(a => multiaddr(a)) })
    const desc: Description = await node.describe(id, { signal })
    entry.name = desc.name
    entry.role = desc.role
    entry.software = desc.software
    entry.ports = desc.ports.map(p => ({ name: p.name, direction: p.direction, kind: p.kind, channels: p.channels }))
  } catch (e) {
    if (signal.aborted) entry.error = { code: 'timeout', message: `no description within ${describeMs / 1000} s` }
    else if (!(e instanceof Error)) {
      // Seen when the node's allow list refuses this peer: the stream closes with an event, not an error.
      entry.error = { code: 'stream-closed', message: 'the connection closed before a description came (does the node allow this peer?)' }
    } else entry.error = { code: errorCode(e), message: describeError(e) }
  }
  return entry
}

function errorCode (e: unknown): string {
  const code = (e as { code?: unknown }).code
  if (typeof code === 'string' && code !== '') return code
  return e instanceof Error && e.name !== '' && e.name !== 'Error' ? e.name : 'error'
}

/** Keep the nodes that match every filter given (a node without a description matches none). */
export function matches (n: ListedNode, filter: { name?: string, role?: string, port?: string }): boolean {
  if (filter.name !== undefined && n.name !== filter.name) return false
  if (filter.role !== undefined && n.role !== filter.role) return false
  if (filter.port !== undefined && n.ports?.some(p => p.name === filter.port) !== true) return false
  return true
}

/** The table for people. */
export function lsText (nodes: ListedNode[]): string[] {
  const rows = nodes.map(n => [
    n.name ?? '?',
    n.role ?? '?',
    n.peer,
    n.error !== undefined ? `error ${n.error.code}: ${n.error.message}` : (n.ports ?? []).map(p => `${p.name}(${p.direction} ${p.kind} ${p.channels})`).join(' ') || '-',
    n.addresses.join(' ')
  ])
  return table([['NAME', 'ROLE', 'PEER', 'PORTS', 'ADDRESSES'], ...rows])
}

function text (p: { values: Record<string, unknown> }, name: string): string | undefined {
  const v = p.values[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} must not be empty`)
  return v
}

export const command: Command = {
  name: 'ls',
  help,
  async run (argv) {
    const p = parseCommand(argv, command, {
      json: { type: 'boolean' },
      timeout: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      port: { type: 'string' },
      tag: { type: 'string' },
      relay: { type: 'string', multiple: true },
      'no-mdns': { type: 'boolean' }
    })
    if (p === undefined) return EXIT_OK
    const timeoutS = seconds(p, 'timeout') ?? 3
    if (timeoutS > 600) throw new UsageError('--timeout must be at most 600 s')
    const serviceTag = text(p, 'tag') ?? MDNS_SERVICE_TAG
    if (!MDNS_SERVICE_TAG_PATTERN.test(serviceTag)) throw new UsageError(`--tag must look like _name._udp.local (got ${JSON.stringify(serviceTag)})`)
    const filter = { name: text(p, 'name'), role: text(p, 'role'), port: text(p, 'port') }
    const relays: string[] = []
    const { RELAY_ADDRESS } = await import('../hosting/config.ts')
    for (const r of (p.values.relay as unknown as string[] | undefined) ?? []) {
      const a = await multiaddrArg(r)
      if (!RELAY_ADDRESS.test(a)) throw new UsageError(`--relay ${a} must end in /p2p/<relay PeerId>`)
      relays.push(a)
    }
    const useMdns = p.values['no-mdns'] !== true
    if (!useMdns && relays.length === 0) throw new UsageError('--no-mdns needs at least one --relay')
    const { createSpikewireNode } = await import('../node/node.ts')
    const { discoveryOf } = await import('../node/libp2p.ts')
    const node = await createSpikewireNode(
      { name: 'spikewire-ls', listen: [], ...(useMdns ? { discovery: { mdns: { serviceTag, intervalMs: 1000, announce: false } } } : {}) },
      { clockSync: false }
    )
    let overflow = 0
    let nodes: ListedNode[]
    try {
      nodes = await findNodes(node, {
        timeoutMs: timeoutS * 1000,
        relays,
        onOverflow: () => { overflow++ },
        onRelayError: (relay, e) => { err(`spikewire ls: relay ${relay}: ${describeError(e)}`) }
      })
      const socketError = discoveryOf(node.libp2p)?.lastError
      if (socketError !== undefined) err(`spikewire ls: mDNS could not be used, nodes may be missing: ${describeError(socketError)}`)
    } finally {
      await node.stop()
    }
    if (overflow > 0) err(`spikewire ls: more than ${LS_MAX_NODES} nodes answered; ${overflow} more not listed`)
    const shown = nodes.filter(n => matches(n, filter))
    if (shown.length === 0) {
      const where = [useMdns ? `mDNS service tag ${serviceTag}` : '', relays.length > 0 ? `${relays.length} relay${relays.length === 1 ? '' : 's'}` : ''].filter(x => x !== '').join(', ')
      err(`spikewire ls: no spikewire node${Object.values(filter).some(v => v !== undefined) ? ' matching the filters' : ''} found within ${timeoutS} s (${where})`)
      return EXIT_OK
    }
    if (p.values.json === true) for (const n of shown) out(JSON.stringify(n))
    else for (const line of lsText(shown)) out(line)
    return EXIT_OK
  }
}
