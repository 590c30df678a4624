/**
 * The server side of /spikewire/clock/1.0.0 (spec §9.3): answer every clock-request with the time it
 * was received (t2, read when its bytes arrived, before decoding) and the time of the answer (t3).
 */
import type { Stream } from '@libp2p/interface'
import { StreamError } from '../../codec/index.ts'
import type { Message } from '../../codec/index.ts'
import { FramedStream } from '../../wire/framed.ts'
import { wireTime } from '../../base/clock.ts'
import type { Clock } from '../../base/clock.ts'

export function handleClockStream (stream: Stream, clock: Clock): void {
  let t2 = 0
  stream.addEventListener('message', () => { t2 = clock.nowUs() })
  const framed = new FramedStream(stream, { maxFrameBytes: 1024 })
  framed.onMessage = (msg: Message) => {
    if (msg.type === 'close') {
      void framed.stream.close().catch(() => {})
      return
    }
    if (msg.type !== 'clock-request') throw new StreamError('unexpected-message', `expected clock-request, got ${msg.type}`)
    framed.send({ type: 'clock-response', id: msg.id, t1: msg.t1, t2: wireTime(t2), t3: wireTime(clock.nowUs()) })
  }
}
