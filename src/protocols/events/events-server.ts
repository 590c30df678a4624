/**
 * The acceptor side of /spikewire/events/1.0.0 (spec §9.2): waits for open, checks port, direction,
 * channels and authorisation, answers accept or reject, then serves the stream: an EventSender attached
 * to an `out` port (subscribe) or an EventReceiver feeding an `in` port (push).
 */
import { logger } from '@libp2p/logger'
import type { Connection, Stream } from '@libp2p/interface'
import { MIN_MAX_EVENTS, StreamError } from '../../codec/index.ts'
import type { DecodeOptions, ErrorCodeName, Message, Open } from '../../codec/index.ts'
import { wireTime } from '../../base/clock.ts'
import type { Clock } from '../../base/clock.ts'
import { isAllowed } from '../../ports/acl.ts'
import type { OutPortEntry } from '../../ports/registry.ts'
import type { InPort } from '../../ports/in-port.ts'
import type { OutPort } from '../../ports/out-port.ts'
import { FramedStream } from '../../wire/framed.ts'
import { EventReceiver } from '../../wire/receiver.ts'
import { EventSender } from '../../wire/sender.ts'
import type { PeerStreams } from '../../wire/peer-streams.ts'

const log = logger('spikewire:events-server')

export interface EventsServerContext {
  clock: Clock
  maxFrameBytes: number
  /** Our per-batch receive limit, announced in accept for push streams. */
  maxEvents: number
  openTimeoutMs: number
  /** Most concurrent streams on one port. */
  maxStreamsPerPort: number
  /** The events streams each peer holds, bounded per peer (spec §11.4). */
  peerStreams: PeerStreams
  queueEvents: number
  /** Bytes a subscriber's sender queues while congested (LIMITS.queueBytes). */
  queueBytes?: number
  slowConsumerMs: number
  /** The first sequence number of the streams this node sends (tests only; default 0). */
  firstSeq?: number
  outPorts: ReadonlyMap<string, OutPortEntry>
  inPorts: ReadonlyMap<string, InPort>
  /** How long a subscriber's queue may take to leave before its close{shutdown}, ms (DEFAULTS.stopFlushMs). */
  stopFlushMs: number
  /** Register an active stream so the node can close it on stop; returns the unregister function. */
  track: (closer: (code: ErrorCodeName) => Promise<void>) => () => void
  /** A peer started pushing into an in port (the node starts clock sync with it). */
  onPusher?: (peer: string) => void
  /** Refusals, for the node's stats and log. */
  onRefused: (peer: string, open: Open | undefined, code: ErrorCodeName, reason: string) => void
}

export function handleEventsStream (ctx: EventsServerContext, stream: Stream, connection: Connection): void {
  const peer = connection.remotePeer.toString()
  const opening: DecodeOptions = { maxEvents: ctx.maxEvents }
  /** The options for the next message: the opening ones, then the receiver's (read for each message) for a push. */
  let decodeOptions = (): DecodeOptions => opening
  let untrack: (() => void) | undefined
  let onClose: (() => void) | undefined
  /**
   * Resolves when the stream is gone. Closing for the node waits for it (bounded by the node's stop): the
   * peer has then read our close and ended its side, so closing the connection cannot cut off what we sent.
   */
  const gone = Promise.withResolvers<void>()
  let releasePeerSlot: (() => void) | undefined
  const framed = new FramedStream(stream, {
    maxFrameBytes: ctx.maxFrameBytes,
    decodeOptions: () => decodeOptions(),
    // A peer that ends its write side without a close has failed the stream (spec §9.2.10): the stream is
    // reset and nothing more is sent to it; onClose below then detaches its sender or receiver.
    closeRequired: true,
    onClose: (err) => {
      gone.resolve()
      clearTimeout(timer)
      untrack?.()
      onClose?.()
      releasePeerSlot?.()
      if (err !== undefined) log('events stream from %s ended: %s', peer, err.message)
    }
  })
  const timer = setTimeout(() => {
    framed.fail(new StreamError('timeout', `no open within ${ctx.openTimeoutMs} ms`))
  }, ctx.openTimeoutMs)
  timer.unref?.()

  const refuse = (open: Open | undefined, code: ErrorCodeName, reason: string): void => {
    if (open !== undefined) ctx.inPorts.get(open.port)?.noteRefused()
    ctx.onRefused(peer, open, code, reason)
    log('refused %s on port %s: %s (%s)', peer, open?.port, code, reason)
    framed.send({ type: 'reject', code, reason })
    // A close that crossed the reject is the opener giving up; anything else is still unexpected (§9.2.3).
    framed.onMessage = (m: Message) => {
      if (m.type !== 'close') throw new StreamError('unexpected-message', `${m.type} after the reject`)
    }
    void framed.stream.close().catch(err => { framed.abort(err) })
  }

  framed.onMessage = (msg: Message) => {
    if (msg.type === 'close') {
      // §9.2.3: the opener gave up before our answer. The stream has ended: no answer, no close of ours.
      clearTimeout(timer)
      log('%s closed the events stream before opening (%s)', peer, msg.code)
      void framed.stream.close().catch(err => { framed.abort(err) })
      return
    }
    if (msg.type !== 'open') throw new StreamError('unexpected-message', `expected open, got ${msg.type}`)
    clearTimeout(timer)
    framed.onMessage = (m: Message) => {
      throw new StreamError('unexpected-message', `${m.type} before the acceptor answered`)
    }
    const out = ctx.outPorts.get(msg.port)
    const inp = ctx.inPorts.get(msg.port)
    // The checks of spec §9.2.2, in its order; the first that fails gives the reject's code.
    const refusal = check(msg, out, inp)
    if (refusal !== undefined) return refuse(msg, refusal[0], refusal[1])
    releasePeerSlot = ctx.peerStreams.take(peer)
    if (out !== undefined) serveSubscriber(msg, out.port)
    else servePusher(msg, inp!)
  }

  /** The first check of spec §9.2.2 that the open fails, with its code and a reason; undefined to accept. */
  function check (msg: Open, out: OutPortEntry | undefined, inp: InPort | undefined): [ErrorCodeName, string] | undefined {
    // 1. too-many-streams: per peer (all ports together, §11.4) and per port.
    if (ctx.peerStreams.count(peer) >= ctx.peerStreams.max) return ['too-many-streams', `this peer holds ${ctx.peerStreams.max} events streams already`]
    if (msg.mode === 'subscribe' && out !== undefined && out.port.senders.size >= ctx.maxStreamsPerPort) return ['too-many-streams', 'the port has too many subscribers']
    if (msg.mode === 'push' && inp !== undefined && inp.stats.streams >= ctx.maxStreamsPerPort) return ['too-many-streams', 'the port has too many pushers']
    // 2. unknown-port, 3. wrong-direction.
    if (out === undefined && inp === undefined) return ['unknown-port', `no port named ${msg.port}`]
    if (msg.mode === 'subscribe' && out === undefined) return ['wrong-direction', `${msg.port} is an in port: push to it`]
    if (msg.mode === 'push' && inp === undefined) return ['wrong-direction', `${msg.port} is an out port: subscribe to it`]
    // 4. unauthorized.
    if (out !== undefined && !isAllowed(out.subscribe, peer, true)) return ['unauthorized', 'not allowed to subscribe to this port']
    if (inp !== undefined && !isAllowed(inp.push, peer, false)) return ['unauthorized', 'not allowed to push into this port']
    // 5. channel-out-of-range.
    const channels = (out?.port ?? inp)!.channels
    if (msg.channels !== undefined && msg.channels[msg.channels.length - 1] >= channels) return ['channel-out-of-range', `the port has ${channels} channels`]
    // 6. unsupported: this node delivers pushed events as they arrive and schedules nothing, so it cannot
    // apply a delay (§9.2.8: such an acceptor SHOULD reject an open that carries one).
    if (msg.mode === 'push' && msg.delay !== undefined) return ['unsupported', 'this node delivers pushed events as they arrive: it cannot apply a delay']
    return undefined
  }

  function serveSubscriber (open: Open, port: OutPort): void {
    framed.send({ type: 'accept', port: port.name, kind: port.kind, channels: port.channels, time: wireTime(ctx.clock.nowUs()) })
    const sender = new EventSender({
      framed,
      peer,
      maxEvents: open.maxEvents ?? MIN_MAX_EVENTS,
      filter: open.channels,
      queueEvents: ctx.queueEvents,
      queueBytes: ctx.queueBytes,
      slowConsumerMs: ctx.slowConsumerMs,
      firstSeq: ctx.firstSeq
    })
    const detach = port.attach(sender)
    onClose = () => { detach(); sender.ended() }
    untrack = ctx.track(async (code) => {
      // Nothing more is numbered for this stream; what is numbered and queued leaves before the close
      // (spec §9.2.10), bounded in time: a subscriber that does not read is reset.
      detach()
      await sender.close({ code, signal: AbortSignal.timeout(ctx.stopFlushMs) })
      await gone.promise
    })
    framed.onMessage = (m: Message) => {
      if (m.type !== 'close') throw new StreamError('unexpected-message', `${m.type} is not allowed from a subscriber`)
      detach()
      sender.ended()
      void framed.stream.close().catch(err => { framed.abort(err) })
    }
    log('%s subscribed to %s (%s)', peer, port.name, open.channels === undefined ? 'all channels' : `${open.channels.length} channels`)
  }

  function servePusher (open: Open, port: InPort): void {
    framed.send({ type: 'accept', port: port.name, kind: port.kind, channels: port.channels, time: wireTime(ctx.clock.nowUs()), maxEvents: ctx.maxEvents })
    const source = open.source ?? 'unknown'
    const receiver = new EventReceiver({
      kind: port.kind,
      channels: port.channels,
      filter: open.channels,
      maxEvents: ctx.maxEvents,
      onBatch: batch => { port.inbox.push({ peer, port: source, to: port.name, batch }) },
      onWatermark: time => { port.inbox.watermark({ peer, port: source, time }) },
      discards: () => port.inbox.dropsNext
    })
    const detach = port.attach(receiver)
    decodeOptions = () => receiver.decodeOptions
    const removeSource = port.inbox.addSource(framed)
    onClose = () => {
      detach()
      removeSource()
    }
    untrack = ctx.track(async (code) => {
      await framed.close(code)
      await gone.promise
    })
    framed.onMessage = (m: Message) => {
      if (m.type === 'close') {
        void framed.stream.close().catch(err => { framed.abort(err) })
        return
      }
      receiver.handle(m)
    }
    ctx.onPusher?.(peer)
    log('%s pushes into %s from %s', peer, port.name, source)
  }
}

