/**
 * What the fuzzer found, kept as tests: each frame is also a failure vector (interop-tests/vectors/fuzz/),
 * and the fuzzer's oracle must flag it, so a decoder that accepts it again fails the short fuzz pass too.
 */
import test from 'ava'
import { readFileSync } from 'node:fs'
import { CLOCK_PROTOCOL, DESCRIBE_PROTOCOL, EVENTS_PROTOCOL, MAX_TEXT_BYTES, SpikewireError, decodeMessage, encodeMessage, frameBytes, fromHex } from '../../src/codec/index.ts'
import { oracleBytes } from '../../bench/fuzz/decoder.ts'
import { startNode } from '../helpers/nodes.ts'
import { dialRaw, outcome, startAdversary } from '../helpers/adversary.ts'

const load = (id: string): { id: string, code: string, cbor_hex: string } => JSON.parse(
  readFileSync(new URL(`../../interop-tests/vectors/fuzz/${id}.json`, import.meta.url), 'utf8')) as { id: string, code: string, cbor_hex: string }
const vectors = ['fuzz-fail-01', 'fuzz-fail-02', 'fuzz-fail-03'].map(load)

for (const v of vectors) {
  test(`fuzz finding ${v.id}: an integral float where an unsigned integer belongs is ${v.code}`, t => {
    const bytes = fromHex(v.cbor_hex)
    const err = t.throws(() => decodeMessage(bytes))
    t.true(err instanceof SpikewireError)
    t.is((err as SpikewireError).code as string, v.code)
    t.regex(oracleBytes(bytes) ?? '', /float/)
  })
}

test('the same fields as integers are accepted, and the oracle passes them', t => {
  for (const hex of ['a200090101', 'a3000701000201', 'a300070100021b0006474846204000']) {
    t.notThrows(() => decodeMessage(fromHex(hex)))
    t.is(oracleBytes(fromHex(hex)), undefined)
  }
})

test('the oracle flags what revision 4 settled: a NaN other than f9 7e 00, a clock response with t3 < t2', t => {
  t.regex(oracleBytes(fromHex('a200011863f97e01')) ?? '', /NaN encoded as 7e01/)
  t.regex(oracleBytes(fromHex('a200011863fa7fc00000')) ?? '', /NaN encoded as 7fc00000/)
  t.is(oracleBytes(fromHex('a200011863f97e00')), undefined)
  t.is(oracleBytes(fromHex('a200011863f97c00')), undefined) // +infinity is not a NaN
  t.regex(oracleBytes(fromHex('a5000b01000201030a0409')) ?? '', /t3 < t2/)
  t.is(oracleBytes(fromHex('a5000b01000201030a040a')), undefined)
  // Keys of any type inside an unknown key's value are not the oracle's business (§7.4).
  t.is(oracleBytes(fromHex('a40007010002051863a1410000')), undefined)
})

test('a parameter value may still be a float that holds an integer (§8.2)', t => {
  // description: name "n", role "r", one out port "p" (spike, 1 channel) with model {name "m", params [["k", 1.0, ""]]}, software "s"
  const port = 'a5' + '01' + '6170' + '0201' + '0300' + '0401' + '05' + 'a2' + '01616d' + '02' + '81' + '83' + '616b' + 'f93c00' + '60'
  const hex = 'a5' + '0002' + '01616e' + '026172' + '0381' + port + '046173'
  const msg = decodeMessage(fromHex(hex))
  t.is(msg.type, 'description')
  if (msg.type === 'description') t.deepEqual(msg.ports[0].model?.params, [['k', 1, '']])
  t.is(oracleBytes(fromHex(hex)), undefined)
})

test('fuzz finding fuzz-fail-04: a close reason is cut to 256 bytes of UTF-8 at a character boundary', t => {
  const bytes = encodeMessage({ type: 'close', code: 'invalid-message', reason: 'é'.repeat(300) })
  const msg = decodeMessage(bytes)
  t.is(msg.type, 'close')
  if (msg.type === 'close') {
    t.true(new TextEncoder().encode(msg.reason).length <= MAX_TEXT_BYTES)
    t.is(msg.reason, 'é'.repeat(128))
  }
})

for (const protocol of [EVENTS_PROTOCOL, DESCRIBE_PROTOCOL, CLOCK_PROTOCOL]) {
  test(`fuzz finding fuzz-fail-04 over a real node (${protocol}): the node's close is a valid message with invalid-message`, async t => {
    const node = await startNode(t, { name: 'victim', ports: [{ name: 'spikes', direction: 'out', channels: 4 }] })
    const adversary = await startAdversary(t)
    const stream = await dialRaw(adversary, node.multiaddrs[0], protocol)
    const result = outcome(stream, 20_000)
    stream.send(frameBytes(fromHex(load('fuzz-fail-04').cbor_hex)))
    const r = await result
    // outcome() decodes strictly and drops what does not decode: an over-long reason would leave no close.
    const close = r.messages.find(m => m.type === 'close')
    t.is(close?.type === 'close' ? close.code : undefined, 'invalid-message')
    t.is(r.end, 'reset')
  })
}
