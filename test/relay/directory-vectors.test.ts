/**
 * The directory vectors (interop-tests/vectors/directory, spec §9.4) against the reference: a valid vector
 * encodes to its bytes and decodes to its message, a failure raises its code.
 */
import test from 'ava'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SpikewireError, fromHex, splitFrames, toHex } from '../../src/codec/index.ts'
import { decodeDirectoryAnswer, decodeDirectoryRequest, encodeDirectoryAnswer, encodeDirectoryRequest } from '../../src/relay/directory.ts'
import type { DirectoryAnswer } from '../../src/relay/directory.ts'

const dir = join(import.meta.dirname, '../../interop-tests/vectors')
interface Vector { id: string, fail: boolean, code?: string, message?: { type: string, max?: number } & Partial<DirectoryAnswer>, cbor_hex: string }
const vectors = (JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Array<{ area: string, file: string }>)
  .filter(e => e.area === 'directory')
  .map(e => JSON.parse(readFileSync(join(dir, e.file), 'utf8')) as Vector)

/** Decode as the side that receives the message: the relay for a request (type 12), the client otherwise. */
function decode (bytes: Uint8Array): unknown {
  if (bytes[0] >= 0xa0 && bytes[1] === 0x00 && bytes[2] === 0x0c) return { type: 'directory-request', max: decodeDirectoryRequest(bytes) }
  return { type: 'directory', ...decodeDirectoryAnswer(bytes) }
}

test('there are directory vectors, valid and failing', t => {
  t.true(vectors.some(v => !v.fail) && vectors.filter(v => v.fail).length >= 8)
})

for (const v of vectors) {
  test(`vector ${v.id}`, t => {
    const bytes = fromHex(v.cbor_hex)
    if (v.fail) {
      const err = t.throws(() => decode(bytes))
      t.true(err instanceof SpikewireError, String(err))
      t.is((err as SpikewireError).code as string | undefined, v.code)
      return
    }
    t.deepEqual(decode(bytes), v.message)
    const m = v.message!
    const frame = m.type === 'directory-request' ? encodeDirectoryRequest(m.max!) : encodeDirectoryAnswer({ peers: m.peers!, total: m.total! })
    t.is(toHex(splitFrames(frame)[0]), v.cbor_hex)
  })
}
