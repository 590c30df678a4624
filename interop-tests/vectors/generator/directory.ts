/**
 * The relay directory vectors (spec §9.4, /spikewire/relay-directory/1.0.0): directory-request and
 * directory messages, valid and invalid. They belong to the relay's protocol, not to the messages of a
 * node's streams, so they have their own area, builder and test (test/relay/directory-vectors.test.ts);
 * the codec runner of interop-tests/run.ts skips them. The JSON mapping is written out here again, not
 * taken from src/relay/directory.ts, so the vectors check that code instead of copying it.
 */
import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict'
import { decodeStrict, deterministic, enc, fromHex, toHex } from './bytes.ts'
import { ERROR_CODES } from './registry.ts'
import type { JsonObject } from './mapping.ts'
import type { VectorFile } from './types.ts'

export type DirectoryMessage =
  | { type: 'directory-request', max: number }
  | { type: 'directory', peers: Array<{ peer: string, addrs: string[] }>, total: number }

export interface DirectoryDef {
  id: string
  title: string
  why: string
  message?: DirectoryMessage
  /** Failures: the hostile CBOR item, hex. */
  cbor?: string
  code?: string
}

export function toCborDirectory (msg: DirectoryMessage): Map<number, unknown> {
  if (msg.type === 'directory-request') return new Map<number, unknown>([[0, 12], [1, msg.max]])
  return new Map<number, unknown>([[0, 13], [1, msg.peers.map(p => new Map<number, unknown>([[1, p.peer], [2, p.addrs]]))], [2, msg.total]])
}

export function fromCborDirectory (map: Map<unknown, unknown>): DirectoryMessage {
  const type = map.get(0)
  if (type === 12) return { type: 'directory-request', max: map.get(1) as number }
  strictEqual(type, 13, 'a directory message')
  const peers = (map.get(1) as Array<Map<unknown, unknown>>).map(e => ({ peer: e.get(1) as string, addrs: e.get(2) as string[] }))
  return { type: 'directory', peers, total: map.get(2) as number }
}

export function buildDirectory (def: DirectoryDef): VectorFile {
  ok(def.id.startsWith('directory-'), `${def.id}: directory definitions are in the directory area`)
  const fail = def.id.includes('-fail-')
  const rec: JsonObject = { id: def.id, title: def.title, why: def.why, fail }
  if (fail) {
    ok(def.code !== undefined && ERROR_CODES[def.code] !== undefined && def.message === undefined && def.cbor !== undefined, `${def.id}: a failure has a registered code and bytes`)
    const bytes = fromHex(def.cbor)
    strictEqual(deterministic(bytes), def.code !== 'invalid-cbor', `${def.id}: only invalid-cbor failures are not deterministic CBOR`)
    rec.code = def.code
    rec.cbor_hex = toHex(bytes)
  } else {
    ok(def.message !== undefined && def.code === undefined, `${def.id}: a valid vector has a message`)
    const bytes = enc(toCborDirectory(def.message))
    ok(deterministic(bytes), `${def.id}: deterministic`)
    deepStrictEqual(fromCborDirectory(decodeStrict(bytes) as Map<unknown, unknown>), def.message, `${def.id}: round trip`)
    rec.message = def.message as unknown as JsonObject
    rec.cbor_hex = toHex(bytes)
  }
  return rec as VectorFile
}
