import { createHash, randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import test from 'ava'
import { createDelayProxy, NetemAddressError, NetemClosedError, NetemParamsError } from '../../src/netem/index.ts'
import { closed, dial, sleep, startEchoServer, startServer } from './helpers.ts'
import type { Socket } from 'node:net'

const LOCAL = { host: '127.0.0.1', port: 0 }

function sha256 (b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex')
}

/** Write `data` in 64 KiB pieces, waiting for 'drain' when the socket asks, then end. */
async function writeAll (socket: Socket, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length; off += 65536) {
    if (!socket.write(data.subarray(off, off + 65536))) await new Promise(resolve => socket.once('drain', resolve))
  }
  socket.end()
}

async function readAll (socket: Socket): Promise<Buffer> {
  const parts: Buffer[] = []
  socket.on('data', (d: Buffer) => parts.push(d))
  await new Promise<void>((resolve, reject) => { socket.once('end', resolve); socket.once('error', reject) })
  return Buffer.concat(parts)
}

test('bytes pass unchanged and in order in both directions, with half-close', async t => {
  const size = 3 * 1024 * 1024
  const received = new Map<number, string>()
  const replies = new Map<number, string>()
  // Each client starts its upload with its id; the server sends back an unrelated payload for that id.
  const server = await startServer(socket => {
    readAll(socket).then(data => { received.set(data.readUInt32BE(0), sha256(data)) }, () => {})
    socket.once('data', (d: Buffer) => {
      const id = d.readUInt32BE(0)
      const reply = randomBytes(size)
      replies.set(id, sha256(reply))
      writeAll(socket, reply).then(() => {}, () => {})
    })
  })
  const proxy = await createDelayProxy({
    listen: LOCAL,
    target: { host: '127.0.0.1', port: server.port },
    up: { delayMs: 2, jitterMs: 2 },
    down: { delayMs: 1, jitterMs: 1, jitter: 'normal' },
    seed: 3,
    spinMs: 0
  })
  try {
    await Promise.all([0, 1, 2].map(async id => {
      const socket = await dial(proxy.port)
      const payload = randomBytes(size)
      payload.writeUInt32BE(id, 0)
      const [back] = await Promise.all([readAll(socket), writeAll(socket, payload)])
      await closed(socket)
      while (!received.has(id)) await sleep(5)
      t.is(received.get(id), sha256(payload), `upload ${id} intact`)
      t.is(replies.get(id), sha256(back), `download ${id} intact`)
    }))
    const s = proxy.stats()
    t.is(s.up.bytes, 3 * size)
    t.is(s.down.bytes, 3 * size)
    t.is(s.up.droppedBytes, 0)
    t.is(s.connections.accepted, 3)
    t.true(s.up.addedDelayMs.min >= 0 && s.up.addedDelayMs.samples > 0)
  } finally {
    await proxy.close()
    await server.close()
  }
})

test('backpressure keeps the held bytes bounded while the receiver does not read', async t => {
  const queueBytes = 256 * 1024
  let serverSocket: Socket | undefined
  let serverGot = 0
  const server = await startServer(socket => { serverSocket = socket; socket.pause(); socket.on('data', (d: Buffer) => { serverGot += d.length }) })
  const proxy = await createDelayProxy({ listen: LOCAL, target: { host: '127.0.0.1', port: server.port }, up: { delayMs: 5, queueBytes }, spinMs: 0 })
  try {
    const socket = await dial(proxy.port)
    const total = 64 * 1024 * 1024
    const chunk = Buffer.alloc(65536, 7)
    let written = 0
    let stalled = false
    // Write until the socket has refused more for 300 ms: the push-back reached the sender.
    while (written < total) {
      written += chunk.length
      if (!socket.write(chunk)) {
        const drained = await Promise.race([new Promise(resolve => socket.once('drain', () => resolve(true))), sleep(300).then(() => false)])
        if (drained === false) { stalled = true; break }
      }
    }
    const s = proxy.stats()
    t.log(`sender stalled after ${(written / 1e6).toFixed(1)} MB; proxy holds ${s.up.queuedBytes} B (peak ${s.up.peakQueuedBytes} B), ${s.up.pauses} pauses`)
    t.true(stalled, 'the sender was stopped by TCP flow control')
    t.true(written < total)
    t.true(s.up.peakQueuedBytes <= queueBytes + 65536, `peak ${s.up.peakQueuedBytes}`)
    t.true(s.up.queuedBytes <= queueBytes + 65536)
    t.true(s.up.pauses >= 1)

    // Let the receiver read: everything written arrives, and the bound still held.
    serverSocket?.resume()
    socket.end()
    while (serverGot < written) await sleep(10)
    t.is(serverGot, written)
    t.true(proxy.stats().up.peakQueuedBytes <= queueBytes + 65536)
    socket.destroy()
  } finally {
    await proxy.close()
    await server.close()
  }
})

async function echoOnce (socket: Socket, text: string): Promise<string> {
  socket.write(text)
  return await new Promise(resolve => socket.once('data', (d: Buffer) => resolve(d.toString())))
}

test('cut() resets open connections and refuses new ones until restore()', async t => {
  const echo = await startEchoServer()
  const proxy = await createDelayProxy({ listen: LOCAL, target: { host: '127.0.0.1', port: echo.port }, up: { delayMs: 1 } })
  try {
    const a = await dial(proxy.port)
    const b = await dial(proxy.port)
    t.is(await echoOnce(a, 'hello'), 'hello')
    t.is(await echoOnce(b, 'world'), 'world')
    proxy.set('up', { delayMs: 200 })
    a.write('in flight') // held in the proxy when the cut comes
    while (proxy.stats().up.queuedBytes === 0) await sleep(2)
    const aClosed = closed(a)
    const bClosed = closed(b)
    t.is(proxy.cut({ refuseNew: true }), 2)
    const [errA, errB] = await Promise.all([aClosed, bClosed])
    t.is((errA as NodeJS.ErrnoException | undefined)?.code, 'ECONNRESET')
    t.is((errB as NodeJS.ErrnoException | undefined)?.code, 'ECONNRESET')

    // A new connection is reset at once and never reaches the target.
    const c: Socket | Error = await dial(proxy.port).catch((err: Error) => err)
    if (!(c instanceof Error)) {
      let got = ''
      c.on('data', (d: Buffer) => { got += d.toString() })
      c.write('anyone?')
      const err = await closed(c)
      t.is(got, '')
      t.log(`refused connection closed with ${(err as NodeJS.ErrnoException | undefined)?.code ?? 'no error'}`)
    }
    t.is(proxy.stats().connections.refused, 1)
    t.is(proxy.stats().up.droppedBytes, 'in flight'.length)

    proxy.restore()
    const d = await dial(proxy.port)
    t.is(await echoOnce(d, 'back'), 'back')
    const s = proxy.stats().connections
    t.is(s.accepted, 3)
    t.is(s.cut, 2)
    d.destroy()
  } finally {
    await proxy.close()
    await echo.close()
  }
})

test('non-loopback listen and target addresses are refused', async t => {
  const bad: Array<[string, string]> = [
    ['0.0.0.0', '127.0.0.1'], ['::', '127.0.0.1'], ['192.168.1.10', '127.0.0.1'], ['localhost', '127.0.0.1'],
    ['127.0.0.1', '10.0.0.1'], ['127.0.0.1', '8.8.8.8'], ['127.0.0.1', '::2'], ['127.0.0.1', 'example.org'],
    ['::ffff:127.0.0.1', '127.0.0.1']
  ]
  for (const [listen, target] of bad) {
    const err = await t.throwsAsync(createDelayProxy({ listen: { host: listen, port: 0 }, target: { host: target, port: 9 } }))
    t.true(err instanceof NetemAddressError, `${listen} → ${target}`)
    t.is((err as NetemAddressError).code, 'invalid-address')
  }
  const err = await t.throwsAsync(createDelayProxy({ listen: LOCAL, target: { host: '127.0.0.1', port: 0 } }))
  t.is((err as NetemAddressError).code, 'invalid-address', 'target port 0')
})

test('any 127/8 address and ::1 work as listen addresses', async t => {
  const echo = await startEchoServer()
  try {
    for (const host of ['127.0.0.2', '::1']) {
      const proxy = await createDelayProxy({ listen: { host, port: 0 }, target: { host: '127.0.0.1', port: echo.port } })
      try {
        t.is(proxy.address, host)
        const s = await new Promise<Socket>((resolve, reject) => {
          const sock = connect({ host, port: proxy.port }, () => resolve(sock))
          sock.once('error', reject)
        })
        t.is(await echoOnce(s, 'x'), 'x')
        s.destroy()
      } finally { await proxy.close() }
    }
  } finally { await echo.close() }
})

test('bad parameters, closed proxy and abort signals', async t => {
  await t.throwsAsync(createDelayProxy({ listen: LOCAL, target: { host: '127.0.0.1', port: 9 }, up: { delayMs: -1 } }), { instanceOf: NetemParamsError })
  await t.throwsAsync(createDelayProxy({ listen: LOCAL, target: { host: '127.0.0.1', port: 9 } }, { signal: AbortSignal.abort() }))
  const proxy = await createDelayProxy({ listen: LOCAL, target: { host: '127.0.0.1', port: 9 }, down: { delayMs: 3 } })
  t.throws(() => { proxy.set('up', { rateBytesPerSec: 0 }) }, { instanceOf: NetemParamsError })
  t.throws(() => { proxy.set('both', { jitter: 'pareto' as 'normal' }) }, { instanceOf: NetemParamsError })
  t.is(proxy.params('up').rateBytesPerSec, Infinity, 'a refused set() changes nothing')
  proxy.set('up', { delayMs: 7 })
  t.is(proxy.params('up').delayMs, 7)
  t.is(proxy.params('down').delayMs, 3)
  await t.throwsAsync(proxy.close({ signal: AbortSignal.abort() }))
  await proxy.close({ signal: AbortSignal.timeout(1000) })
  await proxy.close()
  t.throws(() => proxy.cut(), { instanceOf: NetemClosedError })
  t.throws(() => { proxy.set('up', {}) }, { instanceOf: NetemClosedError })
})

test('a target that refuses the connection resets the client', async t => {
  const tmp = await startEchoServer()
  const port = tmp.port
  await tmp.close()
  const proxy = await createDelayProxy({ listen: LOCAL, target: { host: '127.0.0.1', port } })
  try {
    const socket = await dial(proxy.port)
    const err = await closed(socket)
    t.is((err as NodeJS.ErrnoException | undefined)?.code, 'ECONNRESET')
  } finally { await proxy.close() }
})
