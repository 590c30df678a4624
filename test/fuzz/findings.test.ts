/**
 * What the fuzzer found, kept as tests: each frame is also a failure vector (interop-tests/vectors/fuzz/),
 * and the fuzzer's oracle must flag it, so a decoder that accepts it again fails the short fuzz pass too.
 */
import test from 'ava'
import { readFileSync } from 'node:fs'
import { SpikewireError, decodeMessage, fromHex } from '../../src/codec/index.ts'
import { oracleBytes } from '../../bench/fuzz/decoder.ts'

const vectors = ['fuzz-fail-01', 'fuzz-fail-02', 'fuzz-fail-03'].map(id => JSON.parse(
  readFileSync(new URL(`../../interop-tests/vectors/fuzz/${id}.json`, import.meta.url), 'utf8')) as { id: string, code: string, cbor_hex: string })

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

test('a parameter value may still be a float that holds an integer (§8.2)', t => {
  // description: name "n", role "r", one out port "p" (spike, 1 channel) with model {name "m", params [["k", 1.0, ""]]}, software "s"
  const port = 'a5' + '01' + '6170' + '0201' + '0300' + '0401' + '05' + 'a2' + '01616d' + '02' + '81' + '83' + '616b' + 'f93c00' + '60'
  const hex = 'a5' + '0002' + '01616e' + '026172' + '0381' + port + '046173'
  const msg = decodeMessage(fromHex(hex))
  t.is(msg.type, 'description')
  if (msg.type === 'description') t.deepEqual(msg.ports[0].model?.params, [['k', 1, '']])
  t.is(oracleBytes(fromHex(hex)), undefined)
})
