/**
 * Network namespace topologies for tests and experiments across real NAT (issue 14).
 *
 * One topology, every name prefixed `sw-<run id>-` (a short random id, so parallel runs and leftovers
 * never collide):
 *
 * - the **public** namespace `sw-<id>-pub`: the internet, a bridge `br0` with address 198.51.100.1 (the
 *   relay host runs here), and optionally a **public host** `sw-<id>-ph` (198.51.100.2) on the same bridge
 *   (another /24 with `spec.publicPrefix`);
 * - one **lab** network per entry of `spec.labs` (default a, b, c; lab number i = 1, 2, 3…): a host
 *   namespace `sw-<id>-<lab>` (10.i.0.2, default route via its router) behind its own **NAT router**
 *   namespace `sw-<id>-r<lab>` (public side `wan` 198.51.100.(10+i) on the public bridge, LAN side `lan`
 *   10.i.0.1). The router masquerades the LAN (source NAT), forwards nothing new inbound (forward policy
 *   drop, only established/related replies come back) and drops new connections to itself from `wan`.
 *   The public namespace knows a route to every lab prefix through its router, so a test that the
 *   internet cannot reach a lab host is a test of the router's filter, not of a missing route;
 * - optionally a plain **LAN** of `spec.lan` hosts `sw-<id>-n<k>` (192.168.77.(10+k)) on one bridge in
 *   `sw-<id>-lbr`, with multicast (mDNS) flowing between them.
 *
 * Veth pairs are created directly inside their namespaces: nothing is ever added to the root namespace,
 * so deleting the namespaces removes everything. `destroy()` is idempotent; call it from `finally` or
 * `t.teardown`; it ends the processes started with `exec` (SIGTERM, then SIGKILL after 3 s) and kills
 * whatever else still runs in the namespaces. Live topologies are also destroyed on process exit, SIGINT
 * and SIGTERM. Loopback is up in every namespace.
 */
import { execFile, execFileSync, spawn } from 'node:child_process'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { ProbeResult } from './netns-probe.ts'

const run = promisify(execFile)

/**
 * System tools by absolute path: npm puts node_modules/.bin first on PATH, and a package there may shadow a
 * system tool (node_modules/.bin/nft is a Node file tracer, not nftables).
 */
export function tool (name: string): string {
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`
  return name
}
const IP = tool('ip')
const NFT = tool('nft')
const SYSCTL = tool('sysctl')
const PREFIX = 'sw-'
const OWNER_DIR = '/tmp/spikewire-netns'
const PROBE = fileURLToPath(new URL('./netns-probe.ts', import.meta.url))

const PUBLIC_PREFIX = '198.51.100'

export type Availability = { ok: true } | { ok: false, reason: string }

export interface TopologySpec {
  /** Lab names, each a host behind its own NAT router (default ['a', 'b', 'c']; [] for none). */
  labs?: string[]
  /** A public host beside the relay on the internet bridge (default false). */
  publicHost?: boolean
  /** Hosts on a plain shared LAN bridge (default 0: no LAN). */
  lan?: number
  /** Prove the NATs after building (source NAT, no inbound): throws if they leak (default true). */
  checkNat?: boolean
  /**
   * The internet's /24, three octets (default 198.51.100, a documentation range). libp2p counts that range
   * as private (`isPrivate` of @libp2p/utils), and DCUtR only offers public addresses: a hole punching
   * experiment needs a prefix libp2p counts as public, e.g. 11.0.0 (never routed; the namespaces have no
   * route out anyway).
   */
  publicPrefix?: string
}

export type Role = 'relay' | 'public' | 'lab' | 'router' | 'lan'

export interface Host {
  /** `relay`, `public`, `lab-a`, `router-a`, `lan-1`… */
  name: string
  role: Role
  /** The namespace to run in (`ip netns exec NS …`). */
  ns: string
  /** The host's address (a router's public address). */
  ip: string
}

export interface Lab {
  name: string
  host: Host
  router: Host
  /** The lab's private prefix, e.g. 10.1.0.0/24. */
  prefix: string
}

export interface RunResult { code: number | null, stdout: string, stderr: string }

export interface NatCheck {
  what: string
  ok: boolean
  detail: string
}

export interface Topology {
  id: string
  namespaces: string[]
  relay: Host
  publicHost?: Host
  labs: Lab[]
  lan: Host[]
  /** Spawn `cmd args` inside `ns`; the process is killed by destroy(). */
  exec: (ns: string, cmd: string, args: string[], opts?: SpawnOptions) => ChildProcess
  /** Spawn this Node (process.execPath) with `args` inside `ns`. */
  execNode: (ns: string, args: string[], opts?: SpawnOptions) => ChildProcess
  /** Run `cmd args` inside `ns` to completion and collect its output. */
  run: (ns: string, cmd: string, args: string[], timeoutMs?: number) => Promise<RunResult>
  /** The NAT proof (see checkNat in TopologySpec): every check with its outcome. */
  checkNat: () => Promise<NatCheck[]>
  destroy: () => Promise<void>
}

const live = new Map<string, { namespaces: string[], children: Set<ChildProcess> }>()
let hooksInstalled = false

function ip (args: string[]): Promise<unknown> {
  return run(IP, args)
}

function shortId (): string {
  return randomBytes(4).readUInt32BE(0).toString(36).slice(0, 5).padStart(5, '0')
}

function errText (err: unknown): string {
  const e = err as { stderr?: string, message?: string }
  return (e.stderr ?? '').trim() !== '' ? String(e.stderr).trim() : String(e.message ?? err)
}

/**
 * Whether this process may create network namespaces with veth pairs and nftables NAT: tries it once on a
 * throwaway pair of namespaces. `{ ok: false, reason }` says why not (not Linux, not root, no `ip`, the
 * kernel refuses…). Setting SPIKEWIRE_NO_NETNS makes it report not permitted (to see the skip path).
 */
export async function netnsAvailable (): Promise<Availability> {
  if (process.env.SPIKEWIRE_NO_NETNS != null && process.env.SPIKEWIRE_NO_NETNS !== '') {
    return { ok: false, reason: 'SPIKEWIRE_NO_NETNS is set' }
  }
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, reason: `network namespaces need root (uid ${process.getuid()})` }
  }
  const id = shortId()
  const a = `${PREFIX}${id}-pa`
  const b = `${PREFIX}${id}-pb`
  const step = async (what: string, f: () => Promise<unknown>): Promise<string | undefined> => {
    try { await f(); return undefined } catch (err) { return `${what} failed: ${errText(err)}` }
  }
  try {
    const reason = await step('ip netns add', async () => { await ip(['netns', 'add', a]); await ip(['netns', 'add', b]) }) ??
      await step('veth between namespaces', async () => await ip(['link', 'add', 'name', 'x', 'netns', a, 'type', 'veth', 'peer', 'name', 'y', 'netns', b])) ??
      await step('ip netns exec', async () => await run(IP, ['netns', 'exec', a, IP, 'link', 'set', 'lo', 'up'])) ??
      await step('nft in a namespace', async () => await run(IP, ['netns', 'exec', a, NFT, 'add table ip sw_probe']))
    return reason == null ? { ok: true } : { ok: false, reason }
  } finally {
    for (const ns of [a, b]) await ip(['netns', 'del', ns]).catch(() => {})
  }
}

/** Namespaces left from a run (`id`), or from any spikewire run when no id is given. */
export async function leftovers (id?: string): Promise<string[]> {
  const { stdout } = await run(IP, ['netns', 'list'])
  const names = stdout.split('\n').map(l => l.trim().split(/\s+/)[0]).filter(n => n != null && n !== '')
  return names.filter(n => id == null ? n.startsWith(PREFIX) : n.startsWith(`${PREFIX}${id}-`))
}

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}

/** Remove namespaces of earlier runs whose owning process is gone; returns what was removed. */
export async function sweepStale (): Promise<string[]> {
  const removed: string[] = []
  for (const ns of await leftovers()) {
    const id = /^sw-([a-z0-9]+)-/.exec(ns)?.[1]
    if (id == null || live.has(id)) continue
    let pid: number | undefined
    try { pid = Number(readFileSync(`${OWNER_DIR}/${id}.pid`, 'utf8')) } catch { continue }
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) continue
    await ip(['netns', 'del', ns]).catch(() => {})
    removed.push(ns)
    if ((await leftovers(id)).length === 0) rmSync(`${OWNER_DIR}/${id}.pid`, { force: true })
  }
  return removed
}

function destroySync (id: string): void {
  const entry = live.get(id)
  if (entry == null) return
  live.delete(id)
  for (const c of entry.children) if (c.exitCode == null && c.signalCode == null) c.kill('SIGKILL')
  for (const ns of entry.namespaces) {
    try {
      for (const pid of execFileSync(IP, ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(p => p !== '')) {
        try { process.kill(Number(pid), 'SIGKILL') } catch { /* gone */ }
      }
    } catch { /* no such namespace */ }
    try { execFileSync(IP, ['netns', 'del', ns], { stdio: 'ignore' }) } catch { /* already gone */ }
  }
  rmSync(`${OWNER_DIR}/${id}.pid`, { force: true })
}

function installHooks (): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', () => { for (const id of [...live.keys()]) destroySync(id) })
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      for (const id of [...live.keys()]) destroySync(id)
      // Someone else handles the signal (a graceful shutdown): let them. Otherwise die of it as usual.
      if (process.listenerCount(sig) <= 1) {
        process.off(sig, onSignal)
        process.kill(process.pid, sig)
      }
    }
    process.on(sig, onSignal)
  }
}

/** Build a topology (see the module comment). Throws, after removing what it built, if anything fails. */
export async function createTopology (spec: TopologySpec = {}): Promise<Topology> {
  const labNames = spec.labs ?? ['a', 'b', 'c']
  for (const l of labNames) if (!/^[a-z0-9]{1,6}$/.test(l)) throw new Error(`lab name ${JSON.stringify(l)}: 1–6 of a-z 0-9`)
  if (new Set(labNames).size !== labNames.length) throw new Error('lab names repeat')
  if (labNames.length > 40) throw new Error('at most 40 labs')
  const lanCount = spec.lan ?? 0
  if (!Number.isInteger(lanCount) || lanCount < 0 || lanCount > 100) throw new Error('lan: 0…100 hosts')

  const pfx = spec.publicPrefix ?? PUBLIC_PREFIX
  const octets = pfx.split('.').map(Number)
  if (octets.length !== 3 || !octets.every(o => Number.isInteger(o) && o >= 0 && o <= 255) || octets[0] === 10 || (octets[0] === 192 && octets[1] === 168)) {
    throw new Error(`publicPrefix ${pfx}: three octets, outside 10/8 and 192.168/16 (the labs and the LAN)`)
  }
  const relayIp = `${pfx}.1`
  const publicHostIp = `${pfx}.2`
  // Leftovers of earlier runs whose process was killed outright (SIGKILL runs no hook): removed here.
  await sweepStale()
  const id = shortId()
  const name = (suffix: string): string => `${PREFIX}${id}-${suffix}`
  const namespaces: string[] = []
  const children = new Set<ChildProcess>()
  mkdirSync(OWNER_DIR, { recursive: true })
  writeFileSync(`${OWNER_DIR}/${id}.pid`, String(process.pid))
  live.set(id, { namespaces, children })
  installHooks()

  const addNs = async (ns: string): Promise<void> => {
    namespaces.push(ns)
    await ip(['netns', 'add', ns])
    await ip(['-n', ns, 'link', 'set', 'lo', 'up'])
  }
  const nsExec = async (ns: string, cmd: string, args: string[], input?: string): Promise<void> => {
    if (input == null) { await run(IP, ['netns', 'exec', ns, cmd, ...args]); return }
    await new Promise<void>((resolve, reject) => {
      const c = spawn(IP, ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'ignore', 'pipe'] })
      let err = ''
      c.stderr.on('data', (b: Buffer) => { err += b.toString() })
      c.on('error', reject)
      c.on('exit', code => {
        if (code === 0) resolve()
        else reject(new Error(`${cmd} ${args.join(' ')} in ${ns}: ${err.trim()}`))
      })
      c.stdin.end(input)
    })
  }
  /** A veth pair `a`@nsA — `b`@nsB, both up. */
  const veth = async (nsA: string, a: string, nsB: string, b: string): Promise<void> => {
    await ip(['link', 'add', 'name', a, 'netns', nsA, 'type', 'veth', 'peer', 'name', b, 'netns', nsB])
    await ip(['-n', nsA, 'link', 'set', a, 'up'])
    await ip(['-n', nsB, 'link', 'set', b, 'up'])
  }
  const bridge = async (ns: string, extra: string[] = []): Promise<void> => {
    await ip(['-n', ns, 'link', 'add', 'br0', 'type', 'bridge', ...extra])
    await ip(['-n', ns, 'link', 'set', 'br0', 'up'])
  }

  const exec = (ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess => {
    if (!namespaces.includes(ns)) throw new Error(`${ns} is not a namespace of topology ${id}`)
    const c = spawn(IP, ['netns', 'exec', ns, cmd, ...args], opts)
    children.add(c)
    c.on('exit', () => children.delete(c))
    return c
  }
  const execNode = (ns: string, args: string[], opts?: SpawnOptions): ChildProcess => exec(ns, process.execPath, args, opts)
  const runIn = async (ns: string, cmd: string, args: string[], timeoutMs = 20_000): Promise<RunResult> => {
    const c = exec(ns, cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    c.stdout?.on('data', (b: Buffer) => { stdout += b.toString() })
    c.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
    const timer = setTimeout(() => { c.kill('SIGKILL') }, timeoutMs)
    const code = await new Promise<number | null>(resolve => {
      c.on('error', err => { stderr += String(err); resolve(null) })
      c.on('exit', resolve)
    })
    clearTimeout(timer)
    return { code, stdout, stderr }
  }

  let destroyed: Promise<void> | undefined
  const destroy = async (): Promise<void> => {
    destroyed ??= (async () => {
      const running = [...children].filter(c => c.exitCode == null && c.signalCode == null)
      for (const c of running) c.kill('SIGTERM')
      await Promise.all(running.map(async c => await new Promise<void>(resolve => {
        if (c.exitCode != null || c.signalCode != null) { resolve(); return }
        const t = setTimeout(() => { c.kill('SIGKILL') }, 3000)
        c.once('exit', () => { clearTimeout(t); resolve() })
      })))
      // Processes started in a namespace by others (grandchildren, `ip netns exec` from another process)
      // would keep it alive after its name is gone: kill what still runs there first.
      for (const ns of namespaces) {
        const pids = await run(IP, ['netns', 'pids', ns]).then(r => r.stdout.split(/\s+/).filter(p => p !== ''), () => [])
        for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL') } catch { /* gone */ } }
      }
      for (const ns of [...namespaces].reverse()) await ip(['netns', 'del', ns]).catch(() => {})
      live.delete(id)
      rmSync(`${OWNER_DIR}/${id}.pid`, { force: true })
      const left = await leftovers(id)
      if (left.length > 0) throw new Error(`namespaces left after destroy: ${left.join(' ')}`)
    })()
    await destroyed
  }

  const topo: Topology = {
    id,
    namespaces,
    relay: { name: 'relay', role: 'relay', ns: name('pub'), ip: relayIp },
    labs: [],
    lan: [],
    exec,
    execNode,
    run: runIn,
    checkNat: async () => await checkNat(topo),
    destroy
  }

  try {
    // The internet: a bridge in the public namespace, the relay host's address on it.
    const pub = name('pub')
    await addNs(pub)
    await bridge(pub)
    await ip(['-n', pub, 'addr', 'add', `${relayIp}/24`, 'dev', 'br0'])

    if (spec.publicHost === true) {
      const ns = name('ph')
      await addNs(ns)
      await veth(ns, 'eth0', pub, 'ph')
      await ip(['-n', pub, 'link', 'set', 'ph', 'master', 'br0'])
      await ip(['-n', ns, 'addr', 'add', `${publicHostIp}/24`, 'dev', 'eth0'])
      topo.publicHost = { name: 'public', role: 'public', ns, ip: publicHostIp }
    }

    for (const [k, lab] of labNames.entries()) {
      const i = k + 1
      const rns = name(`r${lab}`)
      const hns = name(lab)
      const wanIp = `${pfx}.${10 + i}`
      const lanPrefix = `10.${i}.0`
      await addNs(rns)
      await addNs(hns)
      await veth(rns, 'wan', pub, `r${lab}`)
      await ip(['-n', pub, 'link', 'set', `r${lab}`, 'master', 'br0'])
      await ip(['-n', rns, 'addr', 'add', `${wanIp}/24`, 'dev', 'wan'])
      await ip(['-n', rns, 'route', 'add', 'default', 'via', relayIp])
      await veth(rns, 'lan', hns, 'eth0')
      await ip(['-n', rns, 'addr', 'add', `${lanPrefix}.1/24`, 'dev', 'lan'])
      await ip(['-n', hns, 'addr', 'add', `${lanPrefix}.2/24`, 'dev', 'eth0'])
      await ip(['-n', hns, 'route', 'add', 'default', 'via', `${lanPrefix}.1`])
      // The internet knows the way to the private prefix (the worst case): only the router's filter stops it.
      await ip(['-n', pub, 'route', 'add', `${lanPrefix}.0/24`, 'via', wanIp])
      await nsExec(rns, SYSCTL, ['-q', '-w', 'net.ipv4.ip_forward=1'])
      await nsExec(rns, NFT, ['-f', '-'], [
        'table ip sw_nat {',
        '  chain nat_post { type nat hook postrouting priority srcnat; policy accept; oifname "wan" counter masquerade; }',
        '  chain filter_fwd { type filter hook forward priority filter; policy drop;',
        '    ct state established,related accept; iifname "lan" oifname "wan" accept; iifname "wan" counter drop; }',
        '  chain filter_in { type filter hook input priority filter; policy accept; iifname "wan" ct state new counter drop; }',
        '}'
      ].join('\n') + '\n')
      const host: Host = { name: `lab-${lab}`, role: 'lab', ns: hns, ip: `${lanPrefix}.2` }
      const router: Host = { name: `router-${lab}`, role: 'router', ns: rns, ip: wanIp }
      topo.labs.push({ name: lab, host, router, prefix: `${lanPrefix}.0/24` })
    }

    if (lanCount > 0) {
      const brns = name('lbr')
      await addNs(brns)
      // No IGMP querier on this bridge: snooping would starve multicast (mDNS), so it is off.
      await bridge(brns, ['mcast_snooping', '0'])
      for (let k = 1; k <= lanCount; k++) {
        const ns = name(`n${k}`)
        await addNs(ns)
        await veth(ns, 'eth0', brns, `n${k}`)
        await ip(['-n', brns, 'link', 'set', `n${k}`, 'master', 'br0'])
        const addr = `192.168.77.${10 + k}`
        await ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0'])
        await ip(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0'])
        const host: Host = { name: `lan-${k}`, role: 'lan', ns, ip: addr }
        topo.lan.push(host)
      }
    }

    if (spec.checkNat !== false && topo.labs.length > 0) {
      const failed = (await topo.checkNat()).filter(c => !c.ok)
      if (failed.length > 0) throw new Error(`NAT check failed:\n${failed.map(c => `  ${c.what}: ${c.detail}`).join('\n')}`)
    }
    return topo
  } catch (err) {
    await destroy().catch(() => {})
    throw err
  }
}

/**
 * A NAT router's counters (nft): connections masqueraded, packets from the internet dropped in forwarding
 * (new inbound to the LAN) and dropped at the router itself (new connections to its public address).
 */
export interface RouterCounters { masqueraded: number, droppedForward: number, droppedInput: number }

export async function routerCounters (topo: Topology, lab: Lab): Promise<RouterCounters> {
  const r = await topo.run(lab.router.ns, NFT, ['list', 'table', 'ip', 'sw_nat'])
  if (r.code !== 0) throw new Error(`nft list in ${lab.router.ns}: ${r.stderr}`)
  const packets = (re: RegExp): number => Number(re.exec(r.stdout)?.[1] ?? NaN)
  return {
    masqueraded: packets(/counter packets (\d+) bytes \d+ masquerade/),
    droppedForward: packets(/iifname "wan" counter packets (\d+) bytes \d+ drop/),
    droppedInput: packets(/ct state new counter packets (\d+) bytes \d+ drop/)
  }
}

/** A TCP listener in `ns` on 0.0.0.0:port that tells each client its address; resolves once listening. */
export async function startListener (topo: Topology, ns: string, port: number): Promise<ChildProcess> {
  const c = topo.execNode(ns, [PROBE, JSON.stringify({ listen: { host: '0.0.0.0', port } })], { stdio: ['ignore', 'pipe', 'pipe'] })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => { reject(new Error(`probe listener in ${ns} did not start: ${err}`)) }, 20_000)
    c.stdout?.on('data', (b: Buffer) => {
      out += b.toString()
      if (out.includes('\n')) { clearTimeout(timer); resolve() }
    })
    c.stderr?.on('data', (b: Buffer) => { err += b.toString() })
    c.on('exit', code => { clearTimeout(timer); reject(new Error(`probe listener in ${ns} exited ${code}: ${err}`)) })
  })
  return c
}

/** Dial every target from `ns` in parallel (1.5 s timeout each): who connected, and as which address. */
export async function probe (topo: Topology, ns: string, targets: Array<{ host: string, port: number }>): Promise<ProbeResult[]> {
  const r = await topo.run(ns, process.execPath, [PROBE, JSON.stringify({ connect: targets, timeoutMs: 1500 })])
  if (r.code !== 0) throw new Error(`probe in ${ns} exited ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout) as ProbeResult[]
}

/**
 * Prove every NAT: a TCP listener in each lab and on the relay host; each lab host reaches the relay host,
 * which sees the lab's router address (source NAT), and reaches its own listener (control); no lab
 * reaches another lab's listener, neither at its private address nor at its router's public address; the
 * relay host cannot reach any lab listener although it has a route to the lab prefix.
 */
export async function checkNat (topo: Topology): Promise<NatCheck[]> {
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const listeners: ChildProcess[] = []
  const checks: NatCheck[] = []
  try {
    for (const ns of [topo.relay.ns, ...topo.labs.map(l => l.host.ns)]) listeners.push(await startListener(topo, ns, port))
    const fromLabs = topo.labs.map(async lab => {
      const targets = [
        { host: topo.relay.ip, port },
        { host: '127.0.0.1', port },
        ...topo.labs.filter(o => o !== lab).flatMap(o => [{ host: o.host.ip, port }, { host: o.router.ip, port }])
      ]
      const res = await probe(topo, lab.host.ns, targets)
      const [toRelay, toSelf, ...toOthers] = res
      checks.push({
        what: `lab ${lab.name} reaches the public net as ${lab.router.ip} (source NAT)`,
        ok: toRelay.ok && toRelay.seen === lab.router.ip,
        detail: toRelay.ok ? `the relay host saw ${toRelay.seen}` : `dial failed: ${toRelay.error}`
      })
      checks.push({ what: `lab ${lab.name} reaches its own listener (control)`, ok: toSelf.ok, detail: toSelf.error ?? 'ok' })
      for (const o of toOthers) {
        checks.push({ what: `lab ${lab.name} cannot dial ${o.host}:${o.port}`, ok: !o.ok, detail: o.ok ? `connected, seen as ${o.seen}` : o.error ?? '' })
      }
    })
    const fromPublic = (async () => {
      const targets = topo.labs.flatMap(l => [{ host: l.host.ip, port }, { host: l.router.ip, port }])
      for (const o of await probe(topo, topo.relay.ns, targets)) {
        checks.push({ what: `the public net cannot dial ${o.host}:${o.port}`, ok: !o.ok, detail: o.ok ? `connected, seen as ${o.seen}` : o.error ?? '' })
      }
    })()
    await Promise.all([...fromLabs, fromPublic])
  } finally {
    for (const l of listeners) l.kill('SIGTERM')
  }
  return checks
}
