/**
 * The 2020 Figure 2 protocol in simulation, wiring the models the way nodes would: a pacemaker silicon
 * neuron drives an emulated culture through a memristive synapse (rate rule) whose post-synaptic events
 * are the culture's spikes on the stimulated electrode. Phases: 10 Hz (weak synapse) → 30 Hz (potentiation)
 * → 10 Hz → 2 Hz (depression) → 10 Hz. The evoked response to the same 10 Hz input rises after potentiation
 * and falls after depression.
 */
import test from 'ava'
import { culture, pacemaker, synapse } from '../../src/models/index.ts'

test('Figure 2: potentiation makes the 10 Hz input evoke responses, depression stops it', t => {
  const pre = pacemaker({ rateHz: 10 })
  const syn = synapse({ rule: 'rate', delayUs: 10_000, device: { rInitKOhm: 4.5 } })
  const bio = culture({ electrodes: 1, seed: 2020, limits: { maxChargeNc: 100 } })
  const phases: Array<[number, number]> = [[5, 10], [15, 30], [5, 10], [15, 2], [5, 10]] // [seconds, Hz]
  const stimuli: number[] = []
  const evoked: number[] = []
  const weightAtPhaseEnd: number[] = []
  let tUs = 0
  for (const [seconds, hz] of phases) {
    pre.setRate(hz)
    let stim = 0
    let ev = 0
    const end = tUs + seconds * 1_000_000
    while (tUs < end) {
      tUs += 1000
      syn.advanceTo(tUs, (ch, time, w) => { if (bio.input(ch, time, w ?? 0)) stim++ })
      const events: Array<[number, 'pre' | 'post']> = []
      bio.advanceTo(tUs, (ch, time) => {
        if (ch === 1) ev++
        events.push([time, 'post'])
      })
      pre.advanceTo(tUs, (_ch, time) => events.push([time, 'pre']))
      events.sort((a, b) => a[0] - b[0])
      for (const [time, kind] of events) {
        if (kind === 'pre') syn.pre(0, time)
        else syn.post(0, time)
      }
    }
    stimuli.push(stim)
    evoked.push(ev)
    weightAtPhaseEnd.push(syn.weight(0))
  }
  const rate = evoked.map((e, i) => e / stimuli[i])
  t.log('weights', weightAtPhaseEnd.join(' '), 'evoked/stimulus', rate.map(r => r.toFixed(3)).join(' '))
  t.is(syn.stats().late, 0)
  t.is(bio.counters().refusedRate + bio.counters().refusedCharge, 0)
  t.true(weightAtPhaseEnd[1] > weightAtPhaseEnd[0] + 100, 'potentiated')
  t.true(weightAtPhaseEnd[3] < weightAtPhaseEnd[2] - 100, 'depressed')
  t.true(rate[2] > rate[0] + 0.3, 'more evoked responses after potentiation')
  t.true(rate[4] < rate[2] - 0.3, 'fewer evoked responses after depression')
})
