import test from 'ava'
const x: number = 1
test('smoke', t => { t.is(x, 1) })
