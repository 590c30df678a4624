import { T0, batch } from '../dsl.ts'
import type { Message } from '../mapping.ts'
import type { Context, VectorDef } from '../types.ts'

const CTX: Context = { kind: 'spike', channels: 16, max_events: 4096 }
const ACC: Message = { type: 'accept', port: 'spikes', kind: 'spike', channels: 16, time: T0 }
const wm = (seq: number, time: number): Message => ({ type: 'watermark', seq, time })

function ok (id: string, title: string, why: string, messages: Message[], gap = 0, context = CTX): VectorDef {
  return { id, title, why, context, messages, gap }
}

function fail (id: string, title: string, why: string, code: string, messages: Message[], failAt: number,
  context = CTX): VectorDef {
  return { id, title, why, code, context, messages, failAt }
}

export const stream: VectorDef[] = [
  ok('stream-ok-01', 'accept, batch, watermark, batch',
    'The ordinary flow: sequence numbers continue across batches, the watermark carries the next seq.', [
      ACC, batch(0, [[0, T0 + 100], [3, T0 + 180], [1, T0 + 400]]), wm(3, T0 + 1000),
      batch(3, [[2, T0 + 1200], [2, T0 + 1300]])]),
  ok('stream-ok-02', 'a sequence gap without a loss notice',
    'After seq 0..1 the next batch starts at 5: 3 events went missing unreported. Not an error; the ' +
    'receiver MUST count the gap (gap: 3).', [
      ACC, batch(0, [[0, T0 + 100], [1, T0 + 200]]), batch(5, [[4, T0 + 900]])], 3),
  ok('stream-ok-03', 'a loss notice, then the batch after the lost events',
    'The sender reports 3 events lost at seq 2; the next batch at seq 5 is then expected (gap: 0).', [
      ACC, batch(0, [[0, T0 + 100], [1, T0 + 200]]), { type: 'loss', seq: 2, count: 3, reason: 'queue-overflow' },
      batch(5, [[4, T0 + 900]])]),
  ok('stream-ok-04', 'equal times at every boundary',
    'A batch may start at the last time of the previous batch and at the latest watermark; a watermark ' +
    'may repeat the previous one (≥, not >).', [
      ACC, batch(0, [[0, T0 + 100], [1, T0 + 200]]), wm(2, T0 + 200), wm(2, T0 + 200),
      batch(2, [[2, T0 + 200], [3, T0 + 200]])]),
  ok('stream-ok-05', 'a gap seen through a watermark',
    'The watermark says the next seq is 5 after one event: 4 events unreported (gap: 4); the next batch ' +
    'continues at 5.', [
      ACC, batch(0, [[0, T0 + 100]]), wm(5, T0 + 500), batch(5, [[1, T0 + 600]])], 4),
  ok('stream-ok-06', 'accept, batch, close normal', 'The event sender ends the stream cleanly.', [
    ACC, batch(0, [[0, T0 + 100]]), { type: 'close', code: 'normal' }]),
  ok('stream-ok-07', 'reject', 'The open is refused; nothing follows. The stream is valid, the outcome negative.', [
    { type: 'reject', code: 'unknown-port', reason: 'no port "spikes"' }]),
  ok('stream-ok-08', 'weighted stream with a channel filter',
    'Opened with the filter [1, 3] on an 8-channel weighted port; every event is on 1 or 3 and carries a value.', [
      { type: 'accept', port: 'weights', kind: 'weighted', channels: 8, time: T0 },
      batch(0, [[1, T0 + 10, 0.5], [3, T0 + 20, 0.75]]), batch(2, [[3, T0 + 30, -0.125]])], 0,
    { kind: 'weighted', channels: 8, max_events: 4096, filter: [1, 3] }),
  ok('stream-ok-09', 'watermarks only (heartbeat of an idle port)',
    'No event yet: watermarks with seq 0 and rising times keep the stream alive.', [
      ACC, wm(0, T0), wm(0, T0 + 1_000_000), wm(0, T0 + 2_000_000)]),

  fail('stream-fail-01', 'batch before accept', 'After its open the receiver expects accept or reject.',
    'unexpected-message', [batch(0, [[0, T0]])], 0),
  fail('stream-fail-02', 'batch seq below the expected seq', 'After seq 0..2 the next batch says seq 2.',
    'invalid-sequence', [ACC, batch(0, [[0, T0], [1, T0 + 1], [2, T0 + 2]]), batch(2, [[3, T0 + 3]])], 2),
  fail('stream-fail-03', 'batch starting before the previous batch\'s last event',
    'The previous batch ended at T0 + 500; the next starts at T0 + 400.',
    'time-regression', [ACC, batch(0, [[0, T0 + 100], [1, T0 + 500]]), batch(2, [[0, T0 + 400]])], 2),
  fail('stream-fail-04', 'batch starting before the latest watermark',
    'The watermark promised no event before T0 + 1000; the batch has one at T0 + 999.',
    'time-regression', [ACC, wm(0, T0 + 1000), batch(0, [[0, T0 + 999]])], 2),
  fail('stream-fail-05', 'watermark going back', 'T0 + 1000, then T0 + 999.',
    'time-regression', [ACC, wm(0, T0 + 1000), wm(0, T0 + 999)], 2),
  fail('stream-fail-06', 'watermark seq below the expected seq', 'Three events sent (next seq 3); the watermark says 2.',
    'invalid-sequence', [ACC, batch(0, [[0, T0], [1, T0 + 1], [2, T0 + 2]]), wm(2, T0 + 10)], 2),
  fail('stream-fail-07', 'loss seq below the expected seq', 'Three events sent (next seq 3); the loss notice starts at 1.',
    'invalid-sequence', [ACC, batch(0, [[0, T0], [1, T0 + 1], [2, T0 + 2]]),
      { type: 'loss', seq: 1, count: 2, reason: 'late' }], 2),
  fail('stream-fail-08', 'a second accept', 'accept is allowed once, as the first answer.',
    'unexpected-message', [ACC, ACC], 1),
  fail('stream-fail-09', 'open received by the opener', 'Only the opener sends open.',
    'unexpected-message', [ACC, { type: 'open', mode: 'subscribe', port: 'spikes' }], 1),
  fail('stream-fail-10', 'describe-request on an events stream', 'Messages of another protocol are unexpected.',
    'unexpected-message', [ACC, { type: 'describe-request' }], 1),
  fail('stream-fail-11', 'batch after reject', 'After reject the acceptor closes the stream; nothing else may come.',
    'unexpected-message', [{ type: 'reject', code: 'unauthorized' }, batch(0, [[0, T0]])], 1),
  fail('stream-fail-12', 'batch on a channel outside the stream\'s filter',
    'Opened with the filter [0, 2, 4]; channel 3 is in the port but not in the filter.',
    'channel-out-of-range', [ACC, batch(0, [[0, T0], [3, T0 + 5]])], 1, { ...CTX, filter: [0, 2, 4] }),
  fail('stream-fail-13', 'batch with values on a spike stream', 'The accept said kind spike; the batch carries val.',
    'kind-mismatch', [ACC, batch(0, [[0, T0, 1], [1, T0 + 5, 2]])], 1),
  fail('stream-fail-14', 'batch channel equal to the accepted channel count',
    'The accept said 16 channels (0..15); the batch has channel 16.',
    'channel-out-of-range', [ACC, batch(0, [[15, T0], [16, T0 + 5]])], 1),
  fail('stream-fail-15', 'loss notice before accept', 'loss, like batch and watermark, is allowed only after accept.',
    'unexpected-message', [{ type: 'loss', seq: 0, count: 1, reason: 'other' }], 0),
  fail('stream-fail-16', 'clock-request on an events stream', 'Clock messages belong to /spikewire/clock/1.0.0.',
    'unexpected-message', [ACC, { type: 'clock-request', id: 1, t1: T0 }], 1),
  fail('stream-fail-17', 'batch after close', 'close is the last message a side sends.',
    'unexpected-message', [ACC, batch(0, [[0, T0]]), { type: 'close', code: 'normal' }, batch(1, [[0, T0 + 1]])], 3)
]

// Revision 3 (§9.2.4, §9.2.6): what a watermark's seq and time mean when events are queued or dropped.
stream.push(
  ok('stream-ok-10', 'unreported drops revealed by a watermark, then a loss notice',
    'Events 2 to 4 were dropped without a report; the sender then drops 5 and 6 and reports them. A loss ' +
    'must start at E, so it first sends a watermark with seq 5 that reveals the gap (gap: 3). Having no newer ' +
    'promise to make, it carries the later of its last watermark and its last sent event time (T0 + 200).', [
      ACC, batch(0, [[0, T0 + 100], [1, T0 + 200]]), wm(5, T0 + 200),
      { type: 'loss', seq: 5, count: 2, reason: 'queue-overflow' }, batch(7, [[2, T0 + 900]])], 3),
  fail('stream-fail-18', 'watermark seq counting events still queued',
    'Events 3 and 4 are numbered but still queued when the sender writes a watermark with seq 5 (the next ' +
    'number it will assign) instead of 3 (the next it will send); the receiver counts a gap of 2 and then ' +
    'rejects the batch that starts at 3.',
    'invalid-sequence', [ACC, batch(0, [[0, T0], [1, T0 + 1], [2, T0 + 2]]), wm(5, T0 + 10),
      batch(3, [[3, T0 + 5], [4, T0 + 6]])], 3),
  fail('stream-fail-19', 'watermark passing the time of an event still queued',
    'An event at T0 + 500 is still queued when the sender writes a watermark at T0 + 1000 (its clock); the ' +
    'batch that then carries the event breaks the promise.',
    'time-regression', [ACC, batch(0, [[0, T0 + 100]]), wm(1, T0 + 1000), batch(1, [[1, T0 + 500]])], 3)
)
