/**
 * A libp2p stream carrying spikewire frames (spec §5). It decodes frames as they arrive, hands each
 * message to one callback, and turns any error into the spec's behaviour: send close{code} (best effort),
 * then reset the stream. Listener bodies are guarded: nothing a peer sends can throw out of them.
 */
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { FrameDecoder, StreamError, decodeMessage, encodeFrame, toSpikewireError } from '../codec/index.ts'
import type { DecodeOptions, ErrorCodeName, Message, SpikewireError } from '../codec/index.ts'

/** Yamux's largest stream window (16 MiB) plus one frame: the most a paused stream can hold. */
const MAX_PAUSED_BYTES = 17 * 1024 * 1024

export interface FramedStreamInit {
  /** Largest frame accepted from the remote, bytes. */
  maxFrameBytes?: number
  /** Decode options in force for the next message (they change once a stream is accepted). */
  decodeOptions?: () => DecodeOptions
  /** Called for every message, in order (replaceable through `FramedStream.onMessage`). Throwing fails the stream. */
  onMessage?: (msg: Message) => void
  /**
   * Called when bytes arrive, before they are decoded: the place to take a receive timestamp (clock
   * probes). Throwing fails the stream.
   */
  onData?: () => void
  /**
   * The remote closed its write side cleanly after whole frames, and every frame it sent has been handled
   * (frames held while the stream was paused come first).
   */
  onRemoteEnd?: () => void
  /**
   * The stream's rules require each end to finish with a `close` or `reject` of its own (events streams,
   * spec §9.2.10): a remote end of the write side without one, while this end has not ended the stream
   * itself, means the stream has failed. It is then reset without sending anything, and fails with
   * StreamError 'unexpected-message' (a local report: nothing is sent), instead of calling onRemoteEnd.
   * The same holds when the stream ends because its connection closed (a TCP reset included, which
   * js-libp2p's Yamux reports as a clean end of each stream): onClose then gets that StreamError.
   */
  closeRequired?: boolean
  /** The stream is gone (closed, reset or failed); `error` is set unless it closed cleanly. */
  onClose?: (error?: Error) => void
}

export class FramedStream {
  readonly stream: Stream
  /** The handler of incoming messages; a protocol swaps it as its state changes. */
  onMessage: (msg: Message) => void
  readonly #decoder: FrameDecoder
  readonly #init: FramedStreamInit
  #failed: SpikewireError | undefined
  #closed = false
  /** The peer sent close or reject: the last message it may send (spec §8.9, §9.2.10). */
  #peerClosed = false
  /** This end sent close or reject: it has ended the stream itself. */
  #localEnded = false
  /** hold(): frames already received wait in the decoder; the remote's end of writing waits behind them. */
  #held = false
  #endHeld = false
  /** Bytes that arrived while held (the muxer may still deliver what was in flight). */
  #heldBytes = new Uint8ArrayList()

  constructor (stream: Stream, init: FramedStreamInit) {
    this.stream = stream
    this.#init = init
    this.onMessage = init.onMessage ?? (() => {})
    this.#decoder = new FrameDecoder({ maxFrameBytes: init.maxFrameBytes })
    // While paused, the muxer keeps what the remote had window for; never let that reset the stream.
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, MAX_PAUSED_BYTES)
    stream.addEventListener('message', evt => { this.#onData(evt.data) })
    // 'end', not 'remoteCloseWrite': the latter fires while frames may still wait in a paused stream.
    stream.addEventListener('end', () => { this.#onEnd() })
    stream.addEventListener('close', evt => {
      this.#closed = true
      // The whole connection went away (a TCP reset or close): js-libp2p's Yamux then ends each stream
      // without an error. A stream that must end with the peer's close and did not has failed all the same
      // (spec §9.2.10, abnormal end): report it as the remote end of writing without a close is reported.
      if (evt.error === undefined && this.#failed === undefined && this.#init.closeRequired === true &&
        !this.#peerClosed && !this.#localEnded) {
        this.#failed = new StreamError('unexpected-message', 'the stream ended without a close (its connection closed)')
        this.stream.log?.('spikewire stream ended without a close: its connection closed')
      }
      this.#guard(() => this.#init.onClose?.(this.#failed ?? asError(evt.error)))
    })
  }

  /** The error this stream failed with, if any. */
  get failure (): SpikewireError | undefined {
    return this.#failed
  }

  /** True once the peer has sent its close or reject. */
  get peerClosed (): boolean {
    return this.#peerClosed
  }

  get open (): boolean {
    return !this.#closed && this.#failed === undefined && this.stream.status === 'open'
  }

  /** Send one message. Returns false when the caller should wait for `drain()` before sending more. */
  send (msg: Message): boolean {
    if (msg.type === 'close' || msg.type === 'reject') this.#localEnded = true
    return this.sendBytes(encodeFrame(msg))
  }

  /** Send bytes that already hold whole frames. */
  sendBytes (frames: Uint8Array | Uint8ArrayList): boolean {
    if (!this.open) return false
    try {
      return this.stream.send(frames)
    } catch (err) {
      this.fail(toSpikewireError(err))
      return false
    }
  }

  get needsDrain (): boolean {
    return this.stream.writableNeedsDrain
  }

  /** Resolves when the stream can take more data. */
  async drain (options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.stream.writableNeedsDrain) return
    await this.stream.onDrain(options)
  }

  /** Stop reading (read backpressure); the muxer window then stops the remote. */
  pause (): void {
    if (this.stream.readStatus === 'readable') this.stream.pause()
  }

  resume (): void {
    if (this.stream.readStatus === 'paused' && !this.#held) this.stream.resume()
  }

  /**
   * Stop handing messages on, exactly at the next frame: frames already received stay in the decoder
   * (their bytes only), and the stream is paused so the muxer window stops the remote. For a server that
   * must answer every request in order but may not keep up.
   */
  hold (): void {
    if (this.#held || !this.open) return
    this.#held = true
    if (this.stream.readStatus === 'readable') this.stream.pause()
  }

  get held (): boolean {
    return this.#held
  }

  /** Hand on what hold() kept, then resume reading; a remote end that came meanwhile is handled after. */
  release (): void {
    if (!this.#held) return
    this.#held = false
    const rest = this.#heldBytes
    this.#heldBytes = new Uint8ArrayList()
    this.#onData(rest)
    if (this.#held || !this.open) return
    if (this.stream.readStatus === 'paused') {
      this.stream.resume()
      // Held again by what resume() handed on: libp2p re-opens the muxer window after that dispatch, so
      // pause once more (what arrives meanwhile waits in #heldBytes).
      if (this.#held && this.open && this.stream.readStatus === 'paused') {
        this.stream.resume()
        this.stream.pause()
      }
    }
    if (this.#held || !this.#endHeld) return
    this.#endHeld = false
    this.#onEnd()
  }

  /** Fail the stream: send close{code} if possible, then reset it. Idempotent. */
  fail (err: SpikewireError): void {
    if (this.#failed !== undefined) return
    this.#failed = err
    this.#localEnded = true
    this.stream.log?.('spikewire stream failed: %s %s', err.code, err.message)
    try {
      if (this.stream.status === 'open' && this.stream.writeStatus === 'writable') {
        this.stream.send(encodeFrame({ type: 'close', code: err.code, reason: err.message.slice(0, 200) }))
      }
    } catch {
      // best effort: the reset below is what counts
    }
    this.stream.abort(err)
  }

  /** Close gracefully: send close{code} and close the write side, waiting for queued data to leave. */
  async close (code: ErrorCodeName = 'normal', reason?: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.open) return
    this.#localEnded = true
    try {
      if (this.stream.writeStatus === 'writable') {
        this.stream.send(encodeFrame(reason === undefined ? { type: 'close', code } : { type: 'close', code, reason }))
      }
      await this.stream.close(options)
    } catch (err) {
      this.stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /** Reset without a close message (the connection is going away anyway). */
  abort (err: Error): void {
    this.stream.abort(err)
  }

  /**
   * The stream has failed in a way there is nothing to tell the peer about (spec §9.2.10, abnormal end):
   * reset it and send nothing. `failure` is then `err`. Idempotent, like fail().
   */
  abandon (err: SpikewireError): void {
    if (this.#failed !== undefined) return
    this.#failed = err
    this.#localEnded = true
    this.stream.log?.('spikewire stream abandoned: %s %s', err.code, err.message)
    this.stream.abort(err)
  }

  #onData (data: Uint8Array | Uint8ArrayList): void {
    this.#guard(() => {
      if (this.#failed !== undefined) return
      if (this.#held) {
        this.#heldBytes.append(data)
        return
      }
      this.#init.onData?.()
      for (const body of this.#decoder.push(data)) {
        const msg = decodeMessage(body, this.#init.decodeOptions?.() ?? {})
        if (this.#peerClosed) throw new StreamError('unexpected-message', `${msg.type} after the peer's close`)
        if (msg.type === 'close' || msg.type === 'reject') this.#peerClosed = true
        this.onMessage(msg)
        if (this.#failed !== undefined || this.#closed || this.#held) return
      }
    })
  }

  /** The remote's write side has ended and everything it sent has been read (not called on a reset). */
  #onEnd (): void {
    const status = this.stream.status
    if (status === 'aborted' || status === 'reset' || this.#failed !== undefined) return
    if (this.#held) {
      this.#endHeld = true
      return
    }
    this.#guard(() => {
      this.#decoder.end()
      // A remote that half-closed without its close has failed the stream. (A stream whose whole connection
      // closed is already closed here: its end is reported by onClose.)
      if (this.#init.closeRequired === true && !this.#peerClosed && !this.#localEnded && status === 'open') {
        this.abandon(new StreamError('unexpected-message', 'the peer ended its write side without a close'))
        return
      }
      this.#init.onRemoteEnd?.()
    })
  }

  #guard (fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.fail(toSpikewireError(err))
    }
  }
}

/**
 * The error of a stream's close event as an Error. libp2p types it as an Error, but a stream aborted with
 * something else (an Event, seen when a connection is refused at the gate after the dial resolved) must
 * still reach callers as an Error with a code, never as a bare value.
 */
function asError (raw: unknown): Error | undefined {
  if (raw === undefined || raw instanceof Error) return raw
  const what = typeof raw === 'object' && raw !== null && 'type' in raw ? String((raw as { type: unknown }).type) : String(raw)
  return new StreamError('unexpected-message', `the stream closed abnormally (${what})`)
}
