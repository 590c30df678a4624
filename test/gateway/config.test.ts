import test from 'ava'
import Ajv from 'ajv'
import { readFileSync } from 'node:fs'
import { parseGatewayConfig } from '../../src/gateway/udp2020/config.ts'
import { gatewayConfigSchema } from '../../src/gateway/udp2020/config-schema.ts'

const schema = gatewayConfigSchema()
const ajv = new Ajv({ allErrors: true })
const validate = ajv.compile(schema)

const PEER = '12D3KooWGzbzXr9GnhjyDGVy4iJGgB5yMtx2m7n43CgfpHJxNZvP'
const good = (): Record<string, unknown> => ({
  node: { name: 'gw', listen: ['/ip4/127.0.0.1/tcp/0'], ports: [{ name: 'weights-in', direction: 'in', channels: 2 }] },
  udp2020: {
    listen: '127.0.0.1:5020',
    senders: [{ code: 'A', port: 'axon', channels: 16 }, { code: 'D', port: 'dendrite', channels: 4, subscribe: [PEER] }],
    replies: [{ from: `/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`, port: 'weights', to: ['127.0.0.1:6000', '[::1]:6001'] }],
    reanchorUs: 50_000
  }
})

test('a valid gateway config parses with its node part', t => {
  const c = parseGatewayConfig(good())
  t.is(c.node.name, 'gw')
  t.deepEqual(c.udp2020.senders.map(s => s.code), ['A', 'D'])
  t.is(c.udp2020.reanchorUs, 50_000)
})

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the cases reach into the config freely
const BAD: Array<[string, (c: any) => void, RegExp, 'gap'?]> = [
  ['unknown top-level field', c => { c.extra = 1 }, /^gateway\.extra is not a known field/],
  ['node missing', c => { delete c.node }, /^gateway\.node is required/],
  ['node error named under node.', c => { c.node.name = '' }, /^node\.name must be a non-empty string/],
  ['udp2020 missing', c => { delete c.udp2020 }, /^udp2020 must be an object/],
  ['no senders', c => { c.udp2020.senders = [] }, /^udp2020\.senders must be an array of 1 to 24/],
  ['bad code', c => { c.udp2020.senders[0].code = 'a' }, /^udp2020\.senders\[0\]\.code must be one ASCII capital letter/],
  ['R as code', c => { c.udp2020.senders[1].code = 'R' }, /^udp2020\.senders\[1\]\.code must not be "R"/],
  ['S as code', c => { c.udp2020.senders[1].code = 'S' }, /^udp2020\.senders\[1\]\.code must not be "R" \(ready\) or "S"/],
  ['code twice', c => { c.udp2020.senders[1].code = 'A' }, /^udp2020\.senders\[1\]\.code "A" is configured twice/, 'gap'],
  ['port clashes with a node port', c => { c.udp2020.senders[0].port = 'weights-in' }, /^udp2020\.senders\[0\]\.port "weights-in" is already a port/, 'gap'],
  ['channels beyond 24 bits', c => { c.udp2020.senders[0].channels = 0x1000001 }, /^udp2020\.senders\[0\]\.channels must be an integer from 1 to 16777216/],
  ['bad subscribe list', c => { c.udp2020.senders[1].subscribe = ['nope'] }, /^udp2020\.senders\[1\]\.subscribe\[0\] must match/],
  ['listen without port', c => { c.udp2020.listen = '127.0.0.1' }, /^udp2020\.listen must be "host:port"/],
  ['reply to port 0', c => { c.udp2020.replies[0].to = ['127.0.0.1:0'] }, /^udp2020\.replies\[0\]\.to\[0\] must be "host:port" with a port from 1/, 'gap'],
  ['reply from without /p2p/', c => { c.udp2020.replies[0].from = '/ip4/127.0.0.1/tcp/1' }, /^udp2020\.replies\[0\]\.from must be a multiaddr/],
  ['reply sends nowhere', c => { c.udp2020.replies[0].registered = false; delete c.udp2020.replies[0].to }, /^udp2020\.replies\[0\] sends nowhere/, 'gap'],
  ['spikeWeight beyond a byte', c => { c.udp2020.replies[0].spikeWeight = 256 }, /^udp2020\.replies\[0\]\.spikeWeight must be an integer from 0 to 255/],
  ['reanchorUs too small', c => { c.udp2020.reanchorUs = 10 }, /^udp2020\.reanchorUs must be an integer from 1000/]
]

for (const [what, change, message, gap] of BAD) {
  test(`config refused: ${what}${gap === undefined ? ' (and by the schema)' : ' (a documented schema gap)'}`, t => {
    const c = good()
    change(c)
    const err = t.throws(() => parseGatewayConfig(c))
    t.is((err as { code?: string }).code, 'config-invalid')
    t.regex(err!.message, message)
    t.is(validate(c), gap === 'gap', ajv.errorsText(validate.errors))
  })
}

test('the published schema is current, valid draft-07, and accepts the good config and the docs\' example', t => {
  const published = readFileSync(new URL('../../schema/gateway-udp2020.schema.json', import.meta.url), 'utf8')
  t.is(published, JSON.stringify(schema, null, 2) + '\n', 'run npm run schema')
  t.true(ajv.validateSchema(schema) as boolean)
  t.true(validate(good()) as boolean, ajv.errorsText(validate.errors))
  const docs = readFileSync(new URL('../../docs/gateway-udp2020.md', import.meta.url), 'utf8')
  const json = /```json\n([\s\S]*?)```/.exec(docs)![1].replace('12D3KooW…', PEER)
  const example = JSON.parse(json) as unknown
  t.true(validate(example) as boolean, ajv.errorsText(validate.errors))
  t.notThrows(() => parseGatewayConfig(example))
})

test('loadGatewayConfig resolves the node identity against the file\'s folder and names unreadable or broken files', async t => {
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { loadGatewayConfig } = await import('../../src/gateway/udp2020/config.ts')
  const dir = await mkdtemp(join(tmpdir(), 'spikewire-gw-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const c = good()
  ;(c.node as Record<string, unknown>).identity = 'keys/gw.key'
  await writeFile(join(dir, 'gw.json'), JSON.stringify(c))
  t.is((await loadGatewayConfig(join(dir, 'gw.json'))).node.identity, join(dir, 'keys/gw.key'))
  await writeFile(join(dir, 'bad.json'), '{"node": ')
  t.like(await t.throwsAsync(loadGatewayConfig(join(dir, 'bad.json'))), { code: 'config-invalid' })
  t.like(await t.throwsAsync(loadGatewayConfig(join(dir, 'missing.json'))), { code: 'config-unreadable' })
})
