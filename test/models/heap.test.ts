import test from 'ava'
import { IndexedMinHeap, TimeHeap } from '../../src/models/heap.ts'
import { prng } from '../../src/models/index.ts'

test('IndexedMinHeap agrees with a linear scan under random updates (ties: lowest key)', t => {
  const r = prng(21)
  const h = new IndexedMinHeap(17)
  const ref = new Array<number>(17).fill(Infinity)
  for (let i = 0; i < 5000; i++) {
    const k = r.int(17)
    const p = r.bernoulli(0.1) ? Infinity : r.int(50)
    h.set(k, p)
    ref[k] = p
    const min = Math.min(...ref)
    t.is(h.peekPriority(), min)
    if (min < Infinity) t.is(h.peekKey(), ref.indexOf(min))
  }
})

test('TimeHeap pops in time order, equal times in insertion order', t => {
  const r = prng(22)
  const h = new TimeHeap()
  const pushed: Array<[number, number]> = []
  for (let i = 0; i < 2000; i++) {
    const time = r.int(100)
    h.push(time, i)
    pushed.push([time, i])
  }
  pushed.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  const popped: Array<[number, number]> = []
  while (h.length > 0) {
    popped.push([h.peekTime(), h.peekChannel()])
    h.pop()
  }
  t.deepEqual(popped, pushed)
  t.is(h.peekTime(), Infinity)
})
