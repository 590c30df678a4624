/**
 * The relay directory (spec §9.4) over real nodes on loopback: a node lists the peers holding reservations
 * and reaches one by the address it got; a relay that does not list refuses the protocol; a peer that may
 * not use the relay is refused; hostile input (oversize, garbage, a wrong message, a bad field) ends in close{code}
 * and a reset while the relay keeps serving.
 */
import test from 'ava'
import { startNode, until } from '../helpers/nodes.ts'
import { dialRaw, outcome, startAdversary } from '../helpers/adversary.ts'
import { DIRECTORY_PROTOCOL, decodeDirectoryAnswer, decodeDirectoryRequest, encodeDirectoryAnswer, encodeDirectoryRequest, listRelayPeers } from '../../src/relay/directory.ts'
import { SpikewireError, frameBytes, splitFrames } from '../../src/codec/index.ts'
import { newKey, relayAddr, startRelay } from './helpers.ts'

test('a node lists the peers holding reservations and reaches one by the address it got', async t => {
  const relay = await startRelay(t, { list: true })
  const labs = await Promise.all(['a', 'b'].map(async name => await startNode(t, { name, listen: [], relays: [relayAddr(relay)] })))
  for (const lab of labs) await lab.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  const client = await startNode(t, { name: 'ls', listen: [] })
  const answer = await listRelayPeers(client.libp2p, relayAddr(relay))
  t.is(answer.total, 2)
  t.deepEqual(answer.peers.map(p => p.peer).sort(), labs.map(l => l.peerId).sort())
  for (const p of answer.peers) t.true(p.addrs.length > 0 && p.addrs.every(a => a.endsWith(`/p2p-circuit/p2p/${p.peer}`)))
  const d = await client.describe(answer.peers[0].addrs[0])
  t.is(d.peer, answer.peers[0].peer)
  // max cuts the list; total still counts every reservation.
  const one = await listRelayPeers(client.libp2p, relayAddr(relay), { max: 1 })
  t.is(one.peers.length, 1)
  t.is(one.total, 2)
  t.is(relay.stats().directory.answered, 2)
})

test('a relay with list false does not speak the protocol: unsupported', async t => {
  const relay = await startRelay(t, { list: false })
  const client = await startNode(t, { name: 'ls', listen: [] })
  const err = await t.throwsAsync(listRelayPeers(client.libp2p, relayAddr(relay)))
  t.true(err instanceof SpikewireError)
  t.is((err as SpikewireError).code, 'unsupported')
})

test('a peer that neither holds a reservation nor may connect is refused: unauthorized', async t => {
  const allowed = await newKey()
  const relay = await startRelay(t, { list: true, reservations: [allowed.id], connect: [allowed.id] })
  const stranger = await startNode(t, { name: 'stranger', listen: [] })
  const err = await t.throwsAsync(listRelayPeers(stranger.libp2p, relayAddr(relay)))
  t.is((err as SpikewireError).code, 'unauthorized')
  t.is(relay.stats().directory.refused, 1)
  const friend = await startNode(t, { name: 'friend', listen: [] }, { privateKey: allowed.key })
  t.is((await listRelayPeers(friend.libp2p, relayAddr(relay))).total, 0)
})

test('hostile input: oversize, garbage, a wrong message or a bad field end in close{code} and a reset; the relay keeps serving', async t => {
  const relay = await startRelay(t, { list: true })
  const lab = await startNode(t, { name: 'lab', listen: [], relays: [relayAddr(relay)] })
  await lab.relaysReserved({ signal: AbortSignal.timeout(20_000) })
  const bad = await startAdversary(t)
  const cases: Array<{ what: string, bytes: Uint8Array, code: string }> = [
    // A length prefix of 1,000,000: larger than a request may be (64 bytes), refused before buffering.
    { what: 'oversize', bytes: new Uint8Array([0xc0, 0x84, 0x3d]), code: 'frame-too-large' },
    { what: 'garbage', bytes: frameBytes(new Uint8Array([0xff, 0xff, 0xff])), code: 'invalid-cbor' },
    // A describe-request ({0: 1}) on the directory protocol.
    { what: 'wrong message', bytes: frameBytes(new Uint8Array([0xa1, 0x00, 0x01])), code: 'unexpected-message' },
    // max 0: out of range.
    { what: 'max 0', bytes: frameBytes(new Uint8Array([0xa2, 0x00, 0x0c, 0x01, 0x00])), code: 'invalid-message' },
    // A map with a text key.
    { what: 'text key', bytes: frameBytes(new Uint8Array([0xa2, 0x00, 0x0c, 0x61, 0x61, 0x01])), code: 'invalid-message' }
  ]
  for (const c of cases) {
    const stream = await dialRaw(bad, relayAddr(relay), DIRECTORY_PROTOCOL)
    const ended = outcome(stream, 20_000)
    stream.send(c.bytes)
    const o = await ended
    t.is(o.end, 'reset', c.what)
    t.deepEqual(o.messages.map(m => m.type === 'close' ? m.code : m.type), [c.code], c.what)
  }
  t.is(relay.stats().directory.invalid, cases.length)
  // Still serving everyone, the hostile peer included.
  const client = await startNode(t, { name: 'ls', listen: [] })
  t.is((await listRelayPeers(client.libp2p, relayAddr(relay))).total, 1)
  t.true(relay.stats().reservations.held === 1)
  await until(() => relay.stats().directory.answered === 1, 20_000, 'the answer counted')
})

test('the codec round-trips and refuses what the spec forbids', t => {
  const [req] = splitFrames(encodeDirectoryRequest(5))
  t.is(decodeDirectoryRequest(req), 5)
  const answer = { peers: [{ peer: '12D3KooWA', addrs: ['/ip4/1.2.3.4/tcp/1/p2p-circuit'] }], total: 3 }
  const [body] = splitFrames(encodeDirectoryAnswer(answer))
  t.deepEqual(decodeDirectoryAnswer(body), answer)
  // total below the number listed; too many peers for the max asked.
  const [low] = splitFrames(encodeDirectoryAnswer({ ...answer, total: 0 }))
  t.is(t.throws(() => decodeDirectoryAnswer(low))?.message.includes('total'), true)
  t.throws(() => decodeDirectoryAnswer(body, 0), { message: /at most 0/ })
  const [notAddr] = splitFrames(encodeDirectoryAnswer({ peers: [{ peer: 'x', addrs: ['not a multiaddr'] }], total: 1 }))
  t.throws(() => decodeDirectoryAnswer(notAddr), { message: /not a multiaddr/ })
})
