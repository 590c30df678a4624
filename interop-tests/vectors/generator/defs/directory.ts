import { ench, m } from '../bytes.ts'
import type { DirectoryDef } from '../directory.ts'

const RELAY = '/ip4/203.0.113.7/tcp/4020/p2p/12D3KooWPJHoFkZpxadBaWDMAgDAzN4StdiokmLVHLJpkdtFxRAF'
const PEER_A = '12D3KooWDGjkNcHsXtaNPELLmTEjVKSRT18BNzFY2GM8LEpvdGPV'
const PEER_B = '12D3KooWCMkTBqQLE2Ms2L8E178RYCSisti1YimimksgvsL1xjvT'

export const directory: DirectoryDef[] = [
  {
    id: 'directory-ok-01',
    title: 'directory-request for at most 1024 peers',
    why: 'The client asks for as many peers as an answer may hold (§9.4: max is 1 to 1024).',
    message: { type: 'directory-request', max: 1024 }
  },
  {
    id: 'directory-ok-02',
    title: 'directory with two peers',
    why: 'Each entry is the PeerId holding a reservation and its addresses through the relay; total counts every reservation.',
    message: {
      type: 'directory',
      peers: [
        { peer: PEER_A, addrs: [`${RELAY}/p2p-circuit/p2p/${PEER_A}`] },
        { peer: PEER_B, addrs: [`${RELAY}/p2p-circuit/p2p/${PEER_B}`, `/ip4/203.0.113.7/tcp/4021/ws/p2p/12D3KooWPJHoFkZpxadBaWDMAgDAzN4StdiokmLVHLJpkdtFxRAF/p2p-circuit/p2p/${PEER_B}`] }
      ],
      total: 2
    }
  },
  {
    id: 'directory-ok-03',
    title: 'directory cut at the max asked: total above the peers listed',
    why: 'A relay lists at most max peers (and at most its own limit); total says how many hold a reservation.',
    message: { type: 'directory', peers: [{ peer: PEER_A, addrs: [`${RELAY}/p2p-circuit/p2p/${PEER_A}`] }], total: 40 }
  },
  {
    id: 'directory-ok-04',
    title: 'empty directory',
    why: 'No peer holds a reservation: an empty list and total 0.',
    message: { type: 'directory', peers: [], total: 0 }
  },
  {
    id: 'directory-fail-01',
    title: 'directory-request with max 0',
    why: 'max is 1 to 1024.',
    code: 'invalid-message',
    cbor: ench(m([0, 12], [1, 0]))
  },
  {
    id: 'directory-fail-02',
    title: 'directory-request with max 1025',
    why: 'max is 1 to 1024.',
    code: 'invalid-message',
    cbor: ench(m([0, 12], [1, 1025]))
  },
  {
    id: 'directory-fail-03',
    title: 'directory-request without max',
    why: 'max is required.',
    code: 'invalid-message',
    cbor: ench(m([0, 12]))
  },
  {
    id: 'directory-fail-04',
    title: 'directory whose total is below the number of peers listed',
    why: 'total counts every reservation, so it is at least the number of peers listed.',
    code: 'invalid-message',
    cbor: ench(m([0, 13], [1, [m([1, PEER_A], [2, []])]], [2, 0]))
  },
  {
    id: 'directory-fail-05',
    title: 'directory entry with an address that is not a multiaddr',
    why: 'Each address is the text form of a multiaddr.',
    code: 'invalid-message',
    cbor: ench(m([0, 13], [1, [m([1, PEER_A], [2, ['relay.example.org:4020']])]], [2, 1]))
  },
  {
    id: 'directory-fail-06',
    title: 'directory entry with 17 addresses',
    why: 'An entry lists at most 16 addresses.',
    code: 'invalid-message',
    cbor: ench(m([0, 13], [1, [m([1, PEER_A], [2, Array.from({ length: 17 }, (_, i) => `/ip4/203.0.113.${i}/tcp/1/p2p-circuit`)])]], [2, 1]))
  },
  {
    id: 'directory-fail-07',
    title: 'a describe-request on the directory protocol',
    why: 'Only directory-request (from the client) and directory or close (from the relay) travel on it: another known type is unexpected-message.',
    code: 'unexpected-message',
    cbor: ench(m([0, 1]))
  },
  {
    id: 'directory-fail-08',
    title: 'directory-request with a text key',
    why: 'Keys of a map this document defines are unsigned integers (§7.3).',
    code: 'invalid-message',
    cbor: ench(m([0, 12], [1, 8], ['a', 1]))
  },
  {
    id: 'directory-fail-09',
    title: 'directory entry without a peer',
    why: 'peer is required.',
    code: 'invalid-message',
    cbor: ench(m([0, 13], [1, [m([2, []])]], [2, 1]))
  },
  {
    id: 'directory-fail-10',
    title: 'directory-request with max as a float',
    why: 'max is an unsigned integer; 8.5 is not.',
    code: 'invalid-message',
    cbor: ench(m([0, 12], [1, 8.5]))
  },
  {
    id: 'directory-fail-11',
    title: 'a message of an unknown type on the directory protocol',
    why: 'Type 60 is not defined: unknown-message-type (§7.5 step 3), as on every other protocol.',
    code: 'unknown-message-type',
    cbor: ench(m([0, 60], [1, 8]))
  }
]
