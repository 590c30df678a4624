import test from 'ava'
import { createDelayProxy } from '../../src/netem/index.ts'
import { FrameReader, dial, median, nowMs, startEchoServer, startServer, std } from './helpers.ts'
import type { DelayProxy } from '../../src/netem/index.ts'
import type { Socket } from 'node:net'

// Timing tests run one at a time so they do not disturb each other's timers.

const FRAME = 16

function frame (seq: number, t: number): Buffer {
  const b = Buffer.alloc(FRAME)
  b.writeUInt32BE(seq, 0)
  b.writeDoubleBE(t, 8)
  return b
}

async function withProxy (targetPort: number, init: Partial<Parameters<typeof createDelayProxy>[0]>, fn: (p: DelayProxy) => Promise<void>): Promise<void> {
  const proxy = await createDelayProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: targetPort }, seed: 7, ...init })
  try { await fn(proxy) } finally { await proxy.close() }
}

async function pingPong (socket: Socket, reader: FrameReader, rounds: number): Promise<number[]> {
  const rtts: number[] = []
  for (let i = 0; i < rounds; i++) {
    const t0 = nowMs()
    socket.write(frame(i, t0))
    const echo = await reader.next()
    rtts.push(nowMs() - t0)
    if (echo.readUInt32BE(0) !== i) throw new Error(`echo ${echo.readUInt32BE(0)} for ${i}`)
  }
  return rtts
}

test.serial('ping-pong RTT ≈ up + down delay, and follows set() at runtime', async t => {
  const echo = await startEchoServer()
  try {
    await withProxy(echo.port, { up: { delayMs: 10 }, down: { delayMs: 20 } }, async proxy => {
      const socket = await dial(proxy.port)
      const reader = new FrameReader(socket, FRAME)
      const rtts = await pingPong(socket, reader, 15)
      t.log(`RTT 10+20 ms: median ${median(rtts).toFixed(3)} min ${Math.min(...rtts).toFixed(3)} max ${Math.max(...rtts).toFixed(3)}`)
      t.true(Math.min(...rtts) >= 30, 'never faster than the configured delays')
      t.true(median(rtts) - 30 < 4, `median RTT ${median(rtts)} within 4 ms of 30`)

      proxy.set('both', { delayMs: 4 })
      const rtts2 = await pingPong(socket, reader, 15)
      t.log(`RTT 4+4 ms: median ${median(rtts2).toFixed(3)}`)
      t.true(Math.min(...rtts2) >= 8)
      t.true(median(rtts2) - 8 < 4, `median RTT ${median(rtts2)} within 4 ms of 8`)

      const s = proxy.stats()
      t.is(s.up.chunks, 30)
      t.is(s.down.chunks, 30)
      t.is(s.up.bytes, 30 * FRAME)
      t.true(s.up.addedDelayMs.min >= 4 && s.up.addedDelayMs.max < 10 + 5)
      t.log(`timer lateness up: p50 ${s.up.lateMs.p50.toFixed(4)} ms, p99 ${s.up.lateMs.p99.toFixed(4)} ms`)
      socket.destroy()
    })
  } finally { await echo.close() }
})

test.serial('asymmetric delays measured one-way on the same process clock', async t => {
  const upDelays: number[] = []
  const server = await startServer(socket => {
    new FrameReader(socket, FRAME, f => {
      upDelays.push(nowMs() - f.readDoubleBE(8))
      socket.write(frame(f.readUInt32BE(0), nowMs()))
    })
  })
  try {
    await withProxy(server.port, { up: { delayMs: 10 }, down: { delayMs: 30 } }, async proxy => {
      const socket = await dial(proxy.port)
      const reader = new FrameReader(socket, FRAME)
      const downDelays: number[] = []
      for (let i = 0; i < 12; i++) {
        socket.write(frame(i, nowMs()))
        const f = await reader.next()
        downDelays.push(nowMs() - f.readDoubleBE(8))
      }
      t.log(`one-way up median ${median(upDelays).toFixed(3)} ms, down median ${median(downDelays).toFixed(3)} ms`)
      t.true(Math.min(...upDelays) >= 10 && median(upDelays) - 10 < 3)
      t.true(Math.min(...downDelays) >= 30 && median(downDelays) - 30 < 3)
      socket.destroy()
    })
  } finally { await server.close() }
})

test.serial('jitter spread matches the uniform distribution; order is preserved', async t => {
  const delays: number[] = []
  const seqs: number[] = []
  const server = await startServer(socket => {
    new FrameReader(socket, FRAME, f => {
      seqs.push(f.readUInt32BE(0))
      delays.push(nowMs() - f.readDoubleBE(8))
    })
  })
  try {
    await withProxy(server.port, { up: { delayMs: 20, jitterMs: 5 } }, async proxy => {
      const socket = await dial(proxy.port)
      // Phase 1: frames 12 ms apart (more than the 10 ms spread), so ordering never holds one back.
      const n = 60
      for (let i = 0; i < n; i++) {
        socket.write(frame(i, nowMs()))
        await new Promise(resolve => setTimeout(resolve, 12))
      }
      while (delays.length < n) await new Promise(resolve => setTimeout(resolve, 5))
      const sd = std(delays)
      t.log(`one-way delay 20 ± 5 ms uniform: min ${Math.min(...delays).toFixed(2)} max ${Math.max(...delays).toFixed(2)} std ${sd.toFixed(2)} (expected ${(5 / Math.sqrt(3)).toFixed(2)})`)
      t.true(Math.min(...delays) >= 15)
      t.true(Math.max(...delays) <= 25 + 3)
      t.true(Math.max(...delays) - Math.min(...delays) > 7, 'the samples spread over most of the ±5 ms range')
      t.true(Math.abs(sd - 5 / Math.sqrt(3)) < 0.9, `std ${sd}`)

      // Phase 2: a back-to-back burst with a wider jitter must still arrive complete and in order.
      proxy.set('up', { jitterMs: 15 })
      const burst = 3000
      const parts: Buffer[] = []
      for (let i = n; i < n + burst; i++) parts.push(frame(i, nowMs()))
      for (let i = 0; i < parts.length; i += 50) socket.write(Buffer.concat(parts.slice(i, i + 50)))
      const deadline = nowMs() + 3000
      while (seqs.length < n + burst && nowMs() < deadline) await new Promise(resolve => setTimeout(resolve, 5))
      t.deepEqual(seqs, Array.from({ length: n + burst }, (_, i) => i))
      const added = proxy.stats().up.addedDelayMs
      t.true(added.max <= 20 + 15 + 3, `added delay max ${added.max} ≤ delay + jitter (+ slack)`)
      socket.destroy()
    })
  } finally { await server.close() }
})

test.serial('bandwidth limit respected within 15 % in each direction', async t => {
  const size = 1_000_000
  let upReceived = 0
  let upDone: (ms: number) => void = () => {}
  const upFinished = new Promise<number>(resolve => { upDone = resolve })
  const server = await startServer(socket => {
    socket.on('data', (d: Buffer) => {
      upReceived += d.length
      if (upReceived === size) {
        upDone(nowMs())
        socket.write(Buffer.alloc(size, 1)) // then send the download
      }
    })
  })
  try {
    await withProxy(server.port, { up: { rateBytesPerSec: 2_500_000 }, down: { rateBytesPerSec: 4_000_000 } }, async proxy => {
      const socket = await dial(proxy.port)
      let down = 0
      const downFinished = new Promise<number>(resolve => {
        socket.on('data', (d: Buffer) => { down += d.length; if (down === size) resolve(nowMs()) })
      })
      const t0 = nowMs()
      socket.write(Buffer.alloc(size, 2))
      const t1 = await upFinished
      const t2 = await downFinished
      const upRate = size / ((t1 - t0) / 1000)
      const downRate = size / ((t2 - t1) / 1000)
      t.log(`up ${(upRate / 1e6).toFixed(3)} MB/s (limit 2.5), down ${(downRate / 1e6).toFixed(3)} MB/s (limit 4)`)
      t.true(Math.abs(upRate / 2_500_000 - 1) < 0.15)
      t.true(Math.abs(downRate / 4_000_000 - 1) < 0.15)
      socket.destroy()
    })
  } finally { await server.close() }
})
