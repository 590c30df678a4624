/**
 * Node identity (spec §4): an Ed25519 key kept in a file of its own, created with mode 0600, so a node
 * keeps its PeerId across restarts. The file holds the libp2p protobuf encoding of the private key.
 */
import { readFile, stat, writeFile } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { ConfigError } from './errors.ts'

/** Create a new Ed25519 key file; fails if the file exists. */
export async function writeNewKey (path: string): Promise<PrivateKey> {
  const key = await generateKeyPair('Ed25519')
  try {
    await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConfigError('key-exists', `${path} exists already; refusing to overwrite a node identity`)
    throw err
  }
  return key
}

/** Read a key file. Refuses files that other users can read (as ssh does). */
export async function readKey (path: string): Promise<PrivateKey> {
  const s = await stat(path)
  if ((s.mode & 0o077) !== 0) {
    throw new ConfigError('key-permissions', `${path} is readable by other users (mode ${(s.mode & 0o777).toString(8)}); run chmod 600 ${path}`)
  }
  if (s.size > 4096) throw new ConfigError('key-invalid', `${path} is too large to be a key file`)
  try {
    return privateKeyFromProtobuf(await readFile(path))
  } catch (err) {
    throw new ConfigError('key-invalid', `${path} does not hold a libp2p private key: ${(err as Error).message}`)
  }
}

/** Read the key file, or create it when it does not exist. */
export async function loadOrCreateKey (path: string): Promise<{ key: PrivateKey, created: boolean }> {
  try {
    return { key: await readKey(path), created: false }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  return { key: await writeNewKey(path), created: true }
}

/**
 * The key a node or relay runs with: `privateKey` when given, else the key file `identity` (created when
 * missing; `onCreated` is then told its path), else none (libp2p makes a new PeerId each start).
 */
export async function resolveKey (options: { privateKey?: PrivateKey, identity?: string, onCreated?: (path: string) => void }): Promise<PrivateKey | undefined> {
  const { privateKey, identity } = options
  if (privateKey !== undefined || identity === undefined) return privateKey
  const { key, created } = await loadOrCreateKey(identity)
  if (created) options.onCreated?.(identity)
  return key
}

export function peerIdOf (key: PrivateKey): string {
  return peerIdFromPrivateKey(key).toString()
}
