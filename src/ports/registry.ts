/**
 * The ports of a node by name: `out` ports with who may subscribe, `in` ports with who may push. Names are
 * unique across both directions (spec §8.2).
 */
import type { PortInfo } from '../codec/index.ts'
import type { PeerList } from './acl.ts'
import type { InPort } from './in-port.ts'
import type { OutPort } from './out-port.ts'
import { PortError } from './errors.ts'

export interface OutPortEntry {
  port: OutPort
  /** Peers allowed to subscribe (default: every peer allowed to connect). */
  subscribe?: PeerList
}

export class PortRegistry {
  readonly #out = new Map<string, OutPortEntry>()
  readonly #in = new Map<string, InPort>()

  get outPorts (): ReadonlyMap<string, OutPortEntry> {
    return this.#out
  }

  get inPorts (): ReadonlyMap<string, InPort> {
    return this.#in
  }

  addOut (port: OutPort, subscribe?: PeerList): void {
    this.#checkName(port.name)
    this.#out.set(port.name, { port, subscribe })
  }

  addIn (port: InPort): void {
    this.#checkName(port.name)
    this.#in.set(port.name, port)
  }

  out (name: string): OutPort {
    const p = this.#out.get(name)?.port
    if (p === undefined) throw new PortError('unknown-port', `no out port named ${name}`)
    return p
  }

  in (name: string): InPort {
    const p = this.#in.get(name)
    if (p === undefined) throw new PortError('unknown-port', `no in port named ${name}`)
    return p
  }

  /** Every port's description entry, out ports first. */
  info (): PortInfo[] {
    return [...[...this.#out.values()].map(e => e.port.info), ...[...this.#in.values()].map(p => p.info)]
  }

  #checkName (name: string): void {
    if (this.#out.has(name) || this.#in.has(name)) throw new PortError('port-exists', `a port named ${name} exists already`)
  }
}
