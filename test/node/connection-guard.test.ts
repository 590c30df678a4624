/** The connection guard's address keys and the per-peer stream count, without a network. */
import test from 'ava'
import { multiaddr } from '@multiformats/multiaddr'
import { addressKey, fairShare } from '../../src/node/connection-guard.ts'
import { PeerStreams } from '../../src/wire/peer-streams.ts'

test('sockets are counted per IPv4 address and per IPv6 /64', t => {
  t.is(addressKey(multiaddr('/ip4/127.0.0.2/tcp/4001')), '127.0.0.2')
  t.is(addressKey(multiaddr('/ip6/2001:db8:0:1:aaaa::1/tcp/4001')), '2001:db8:0:1::/64')
  t.is(addressKey(multiaddr('/ip6/2001:db8:0:1:bbbb::2/tcp/4001')), '2001:db8:0:1::/64')
  t.is(addressKey(multiaddr('/ip6/2001:0db8::1/tcp/4001')), '2001:db8:0:0::/64')
  t.is(addressKey(multiaddr('/ip6/::1/tcp/4001')), '0:0:0:0::/64')
  t.is(addressKey(multiaddr('/dns4/example.org/tcp/4001')), undefined)
})

test('a peer takes at most max stream slots; each is given back once', t => {
  const p = new PeerStreams(2)
  const a = p.take('A')
  const b = p.take('A')
  t.truthy(a)
  t.truthy(b)
  t.is(p.take('A'), undefined)
  t.truthy(p.take('B'))
  a!()
  a!()
  t.is(p.count('A'), 1)
  t.truthy(p.take('A'))
  t.is(p.take('A'), undefined)
})

test('an address\'s fair share: unbounded below the cap, the cap divided by the addresses at or above it', t => {
  t.is(fairShare(191, 192, 10), Infinity)
  t.is(fairShare(192, 192, 11), 17)
  t.is(fairShare(200, 192, 500), 1, 'at least one')
  t.is(fairShare(48, 48, 1), 48)
})
