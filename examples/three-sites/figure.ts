/**
 * The experiment's figure, made with vega-lite and rendered headless to SVG: a raster of every node's
 * events along the signal path, the two synapses' weight traces, and the evoked response rate per phase,
 * over the phase bands, on one time axis (seconds from the first phase).
 */
import * as vega from 'vega'
import { compile } from 'vega-lite'
import type { TopLevelSpec } from 'vega-lite'
import { ROWS } from './analysis.ts'
import type { PhaseResult, TimedEvent } from './analysis.ts'

export interface FigureData {
  events: TimedEvent[]
  phases: PhaseResult[]
  /** Recorder-clock time of the first phase's start, µs. */
  t0Us: number
  title: string
  subtitle: string[]
}

const WIDTH = 860
const KIND_COLORS = { domain: ['none', 'potentiation', 'depression'], range: ['#f2f2f2', '#dcefd8', '#f9dcdc'] }
const ROW_COLORS = ['#4e79a7', '#76b7b2', '#e15759', '#bab0ac', '#f28e2b', '#59a14f']

export function figureSpec (d: FigureData): TopLevelSpec {
  const endS = d.phases[d.phases.length - 1]?.endS ?? 0
  const x = { field: 't', type: 'quantitative' as const, title: 'time since the first phase (s)', scale: { domain: [0, endS], nice: false, zero: false } }
  const inRange = (e: TimedEvent): boolean => e.tUs >= d.t0Us && (e.tUs - d.t0Us) / 1e6 <= endS
  const spikes = d.events.filter(inRange).flatMap(e => {
    const row = ROWS.find(r => r.node === e.node && r.port === e.port && (r.channel === undefined || r.channel === e.channel))
    return row === undefined ? [] : [{ t: (e.tUs - d.t0Us) / 1e6, row: row.label }]
  })
  // Each trace as a step line from 0 (its last value before the first phase) to the end of the axis.
  const weights: Array<{ t: number, weight: number | undefined, synapse: string }> = []
  for (const [node, synapse] of [['synapse-a', 'A: pacemaker → culture'], ['synapse-b', 'B: culture → neuron']]) {
    const trace = d.events.filter(e => e.node === node && e.port === 'weight').sort((a, b) => a.tUs - b.tUs)
    const before = trace.filter(e => e.tUs <= d.t0Us).at(-1)
    const during = trace.filter(e => e.tUs > d.t0Us && (e.tUs - d.t0Us) / 1e6 <= endS)
    const points = [...(before === undefined ? [] : [{ ...before, tUs: d.t0Us }]), ...during]
    for (const e of points) weights.push({ t: (e.tUs - d.t0Us) / 1e6, weight: e.value, synapse })
    const last = points.at(-1)
    if (last !== undefined) weights.push({ t: endS, weight: last.value, synapse })
  }
  const phases = d.phases.map(p => ({ ...p, mid: (p.startS + p.endS) / 2, rate: p.evokedPerPacemakerSpike ?? 0 }))
  const bands = {
    data: { values: phases },
    mark: { type: 'rect' as const },
    encoding: {
      x: { field: 'startS', type: 'quantitative' as const, scale: { domain: [0, endS], nice: false } },
      x2: { field: 'endS' },
      color: { field: 'kind', type: 'nominal' as const, scale: KIND_COLORS, legend: { title: 'phase', orient: 'right' as const } }
    }
  }
  const phaseLabels = {
    data: { values: phases },
    mark: { type: 'text' as const, baseline: 'top' as const, dy: -14, fontSize: 11, color: '#444' },
    encoding: {
      x: { field: 'mid', type: 'quantitative' as const },
      y: { value: 0 },
      text: { field: 'name' }
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: d.title, subtitle: d.subtitle, anchor: 'start', fontSize: 15, subtitleFontSize: 11, subtitleColor: '#555', offset: 26 },
    // No ARIA labels per mark: with thousands of spikes they would triple the file's size.
    config: { aria: false, view: { stroke: '#ccc' }, axis: { labelFontSize: 10, titleFontSize: 11 }, legend: { labelFontSize: 10, titleFontSize: 11 } },
    background: 'white',
    resolve: { scale: { color: 'independent' } },
    vconcat: [
      {
        width: WIDTH,
        height: 180,
        layer: [
          bands,
          phaseLabels,
          {
            data: { values: spikes },
            mark: { type: 'tick', thickness: 1, opacity: 1 },
            encoding: {
              x: { ...x, axis: { title: null, labels: false } },
              y: { field: 'row', type: 'nominal', sort: ROWS.map(r => r.label), title: null, axis: { labelLimit: 260 } },
              color: { field: 'row', type: 'nominal', scale: { domain: ROWS.map(r => r.label), range: ROW_COLORS }, legend: null }
            }
          }
        ],
        resolve: { scale: { color: 'independent' } }
      },
      {
        width: WIDTH,
        height: 130,
        layer: [
          { ...bands, encoding: { ...bands.encoding, color: { ...bands.encoding.color, legend: null } } },
          {
            data: { values: weights },
            mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
            encoding: {
              x: { ...x, axis: { title: null, labels: false } },
              y: { field: 'weight', type: 'quantitative', scale: { domain: [0, 255] }, title: 'synaptic weight' },
              color: { field: 'synapse', type: 'nominal', scale: { range: ['#e15759', '#f28e2b'] }, legend: { title: 'memristive synapse', orient: 'right', labelLimit: 260 } }
            }
          }
        ],
        resolve: { scale: { color: 'independent' } }
      },
      {
        width: WIDTH,
        height: 90,
        layer: [
          {
            data: { values: phases },
            mark: { type: 'rect', color: '#e15759', opacity: 0.75 },
            encoding: {
              x: { field: 'startS', type: 'quantitative', scale: { domain: [0, endS], nice: false }, title: 'time since the first phase (s)' },
              x2: { field: 'endS' },
              y: { field: 'rate', type: 'quantitative', scale: { domain: [0, Math.max(1, ...phases.map(p => p.rate))] }, title: ['evoked responses', 'per pacemaker spike'] },
              y2: { datum: 0 }
            }
          },
          {
            data: { values: phases },
            mark: { type: 'text', baseline: 'bottom', dy: -3, fontSize: 11 },
            encoding: {
              x: { field: 'mid', type: 'quantitative' },
              y: { field: 'rate', type: 'quantitative' },
              text: { field: 'rate', type: 'quantitative', format: '.2f' }
            }
          }
        ]
      }
    ]
  } as TopLevelSpec
}

/** Render a vega-lite spec to an SVG string without a browser. */
export async function renderSvg (spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
