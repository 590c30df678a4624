import test from 'ava'
import { memristor, weightOf, ModelParamError, ModelUsageError } from '../../src/models/index.ts'

const POT = { voltageV: 4, widthUs: 100 }
const DEP = { voltageV: -4, widthUs: 100 }

test('weight mapping endpoints: 4 kΩ → 0, 9 kΩ → 255, clipped outside, rounded inside', t => {
  t.is(weightOf(4), 0)
  t.is(weightOf(9), 255)
  t.is(weightOf(3), 0)
  t.is(weightOf(12), 255)
  t.is(weightOf(6.5), 128) // 127.5 rounds up
  t.is(weightOf(4 + 5 / 255), 1)
  const m = memristor({ rInitKOhm: 4 })
  t.is(m.weight, 0)
  t.is(memristor({ rInitKOhm: 9 }).weight, 255)
})

test('bounds are never exceeded under 10 000 pulses either way (also with cycle-to-cycle noise)', t => {
  for (const noise of [0, 0.5]) {
    const m = memristor({ noise, seed: 3 })
    for (const pulse of [POT, DEP]) {
      for (let i = 0; i < 10_000; i++) {
        const r = m.apply(pulse)
        if (!(r >= 4 && r <= 9)) t.fail(`R = ${r}`)
        if (!(m.weight >= 0 && m.weight <= 255)) t.fail(`weight ${m.weight}`)
      }
    }
    t.is(m.apply(DEP) >= 4, true)
    t.is(m.weight, 0)
    for (let i = 0; i < 10_000; i++) m.apply({ voltageV: 20, widthUs: 1_000_000 })
    t.true(m.resistanceKOhm <= 9)
    t.is(m.weight, 255)
  }
})

test('non-linear response: potentiation raises R with steps that shrink near R_max; depression mirrors it', t => {
  const m = memristor({ rInitKOhm: 4 })
  const up: number[] = []
  let r = m.resistanceKOhm
  for (let i = 0; i < 60; i++) {
    const next = m.apply(POT)
    up.push(next - r)
    r = next
  }
  t.true(up.every(d => d > 0))
  for (let i = 1; i < up.length; i++) t.true(up[i] < up[i - 1])
  // From R_min the first reference pulse covers (1 − e^−α_p) of the 5 kΩ range.
  t.true(Math.abs(up[0] - (1 - Math.exp(-0.05)) * 5) < 1e-12)
  t.true(up[59] < up[0] / 10)
  const down: number[] = []
  for (let i = 0; i < 60; i++) {
    const next = m.apply(DEP)
    down.push(r - next)
    r = next
  }
  t.true(down.every(d => d > 0))
  for (let i = 1; i < down.length; i++) t.true(down[i] < down[i - 1])
})

test('voltage threshold and width: a read voltage changes nothing; two half pulses equal one full pulse', t => {
  const m = memristor()
  const r0 = m.resistanceKOhm
  m.apply({ voltageV: 0.2, widthUs: 100 })
  m.apply({ voltageV: -1, widthUs: 100 })
  t.is(m.resistanceKOhm, r0)
  const a = memristor()
  const b = memristor()
  a.apply(POT)
  b.apply({ voltageV: 4, widthUs: 50 })
  b.apply({ voltageV: 4, widthUs: 50 })
  t.true(Math.abs(a.resistanceKOhm - b.resistanceKOhm) < 1e-12)
  // Larger amplitude, larger change.
  const c = memristor()
  c.apply({ voltageV: 5, widthUs: 100 })
  t.true(c.resistanceKOhm > a.resistanceKOhm)
  t.is(m.voltageFactor(4), 1)
})

test('non-volatile state: save/restore through JSON continues the same sequence', t => {
  const m = memristor({ noise: 0.2, seed: 12 })
  for (let i = 0; i < 7; i++) m.apply(i % 3 === 0 ? DEP : POT)
  const saved = JSON.parse(JSON.stringify(m.save()))
  const copy = memristor({ noise: 0.2 })
  copy.restore(saved)
  t.is(copy.resistanceKOhm, m.resistanceKOhm)
  for (let i = 0; i < 5; i++) t.is(copy.apply(POT), m.apply(POT))
  t.throws(() => { copy.restore({ ...saved, rKOhm: 10 }) }, { instanceOf: ModelParamError })
})

test('bad pulses and parameters throw', t => {
  const m = memristor()
  t.throws(() => m.apply({ voltageV: 100, widthUs: 1 }), { instanceOf: ModelUsageError })
  t.throws(() => m.apply({ voltageV: 4, widthUs: -1 }), { instanceOf: ModelUsageError })
  t.throws(() => memristor({ rMinKOhm: 9, rMaxKOhm: 4 }), { instanceOf: ModelParamError })
  t.throws(() => memristor({ rInitKOhm: 10 }), { instanceOf: ModelParamError })
})

test('parameters are described in kOhm, V and us', t => {
  const p = new Map(memristor().params().map(([n, v, u]) => [n, [v, u]]))
  t.deepEqual(p.get('R_min'), [4, 'kOhm'])
  t.deepEqual(p.get('R_max'), [9, 'kOhm'])
  t.deepEqual(p.get('V_ref'), [4, 'V'])
  t.deepEqual(p.get('width_ref'), [100, 'us'])
})
