/**
 * The layer rule: a module under src/ may import only from its own layer or from layers below it, in the
 * order a spike travels (docs/architecture.md). Side layers (models, netem) are pure libraries that may
 * import only the base. Inside protocols/, the sub-folders are ordered too, so they cannot form a cycle.
 */
import { dirname, relative, resolve, sep } from 'node:path'

/** Lowest first. A layer may import itself and everything before it in this list. */
export const LAYERS = ['base', 'codec', 'wire', 'ports', 'protocols', 'timing', 'node', 'hosting', 'metrics', 'relay', 'gateway', 'view', 'cli']
/** Pure libraries beside the spike path: they may import the base only, and only these layers may import them. */
export const SIDE = { models: { importedBy: ['hosting', 'cli'] }, netem: { importedBy: ['cli'] }, xdf: { importedBy: ['hosting', 'cli'] } }
/** Sub-folders of protocols/, lowest first. */
export const PROTOCOLS = ['describe', 'clock', 'events']

/** The layer of a path inside src/ ('protocols/clock' for a protocol), or undefined (src/index.ts, outside src). */
export function layerOf (srcDir, file) {
  const rel = relative(srcDir, file)
  if (rel.startsWith('..')) return undefined
  const parts = rel.split(sep)
  if (parts.length < 2) return undefined
  if (parts[0] === 'protocols' && parts.length > 2) return `protocols/${parts[1]}`
  return parts[0]
}

/** Why `from` may not import `to`, or undefined when it may. */
export function violation (from, to) {
  if (from === undefined || to === undefined || from === to) return undefined
  const [fTop, fSub] = from.split('/')
  const [tTop, tSub] = to.split('/')
  if (fTop === 'protocols' && tTop === 'protocols') {
    if (fSub === undefined || tSub === undefined) return undefined
    return PROTOCOLS.indexOf(tSub) <= PROTOCOLS.indexOf(fSub) ? undefined : `protocols/${fSub} may not import protocols/${tSub} (protocols are ordered ${PROTOCOLS.join(' → ')})`
  }
  if (tTop in SIDE) {
    if (fTop in SIDE) return `${fTop} may not import ${tTop}: side layers are independent`
    return SIDE[tTop].importedBy.includes(fTop) ? undefined : `${fTop} may not import ${tTop} (only ${SIDE[tTop].importedBy.join(', ')} may)`
  }
  if (fTop in SIDE) return tTop === 'base' ? undefined : `${fTop} is a side layer: it may import base only, not ${tTop}`
  const fi = LAYERS.indexOf(fTop)
  const ti = LAYERS.indexOf(tTop)
  if (fi < 0 || ti < 0) return `unknown layer ${fi < 0 ? fTop : tTop}: add it to eslint/layers.js`
  return ti <= fi ? undefined : `${fTop} may not import ${tTop}: layers import downward only (${LAYERS.join(' → ')})`
}

export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'layers under src/ import downward only' },
    schema: [{ type: 'object', properties: { srcDir: { type: 'string' } }, additionalProperties: false }]
  },
  create (context) {
    const srcDir = resolve(context.cwd, context.options[0]?.srcDir ?? 'src')
    const file = context.filename
    const from = layerOf(srcDir, file)
    if (from === undefined) return {}
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return
      const to = layerOf(srcDir, resolve(dirname(file), spec))
      const why = violation(from, to)
      if (why !== undefined) context.report({ node, message: `${why} ('${spec}')` })
    }
    return {
      ImportDeclaration: node => { check(node.source, node.source.value) },
      ExportNamedDeclaration: node => { if (node.source != null) check(node.source, node.source.value) },
      ExportAllDeclaration: node => { check(node.source, node.source.value) },
      ImportExpression: node => { if (node.source.type === 'Literal') check(node.source, node.source.value) }
    }
  }
}

export default { rules: { layers: layersRule } }
