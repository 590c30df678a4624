/**
 * The XML of XDF headers and footers: a tiny builder, and a strict parser for the subset XDF writers use
 * (elements, attributes, text, the XML declaration, comments, the five predefined entities and numeric
 * character references). No DTDs, no CDATA, no namespaces. Bounded in size and depth.
 */
import { XDF_LIMITS } from './constants.ts'
import { XdfError } from './errors.ts'

export interface XmlElement {
  name: string
  attrs: Record<string, string>
  children: XmlElement[]
  /** The element's own text (concatenated, entities decoded, not trimmed). */
  text: string
}

/** An element to write: a name, attributes, and either text or children. */
export interface XmlNode {
  name: string
  attrs?: Record<string, string | number>
  text?: string | number
  children?: XmlNode[]
}

export function escapeXml (s: string): string {
  return s.replace(/[&<>"']/g, c => c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;')
}

/** Serialise one element (no declaration). Names must be valid XML names; the caller chooses them. */
export function xmlString (n: XmlNode): string {
  const attrs = Object.entries(n.attrs ?? {}).map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`).join('')
  const inner = n.children !== undefined ? n.children.map(xmlString).join('') : escapeXml(n.text === undefined ? '' : String(n.text))
  return `<${n.name}${attrs}>${inner}</${n.name}>`
}

export const XML_DECLARATION = '<?xml version="1.0"?>'

const NAME = /^[A-Za-z_:][\w.:-]*/
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function decodeEntities (s: string, offset?: number): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g, (m, e: string | undefined) => {
    if (e === undefined) throw new XdfError('xdf-bad-xml', 'a bare & in XML text', offset)
    if (e.startsWith('#')) {
      const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)
      if (!(cp >= 0 && cp <= 0x10ffff)) throw new XdfError('xdf-bad-xml', `character reference ${m} out of range`, offset)
      return String.fromCodePoint(cp)
    }
    const v = ENTITIES[e]
    if (v === undefined) throw new XdfError('xdf-bad-xml', `unknown entity ${m}`, offset)
    return v
  })
}

/** Parse one XML document into its root element. `offset` is the chunk's place in the file, for errors. */
export function parseXml (src: string, offset?: number): XmlElement {
  if (src.length > XDF_LIMITS.maxXmlBytes) throw new XdfError('xdf-too-large', `XML of ${src.length} characters (limit ${XDF_LIMITS.maxXmlBytes})`, offset)
  let i = 0
  const fail = (why: string): never => { throw new XdfError('xdf-bad-xml', `${why} at character ${i}`, offset) }
  const skipMisc = (): void => {
    for (;;) {
      while (i < src.length && /\s/.test(src[i])) i++
      if (src.startsWith('<?', i)) {
        const end = src.indexOf('?>', i)
        if (end < 0) fail('unterminated processing instruction')
        i = end + 2
      } else if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i)
        if (end < 0) fail('unterminated comment')
        i = end + 3
      } else return
    }
  }
  const element = (depth: number): XmlElement => {
    if (depth > XDF_LIMITS.maxXmlDepth) fail(`XML nested deeper than ${XDF_LIMITS.maxXmlDepth}`)
    if (src[i] !== '<') fail('expected an element')
    i++
    const m = NAME.exec(src.slice(i, i + 256))
    if (m === null) fail('expected an element name')
    const name = m![0]
    i += name.length
    const attrs: Record<string, string> = {}
    for (;;) {
      while (i < src.length && /\s/.test(src[i])) i++
      if (src.startsWith('/>', i)) {
        i += 2
        return { name, attrs, children: [], text: '' }
      }
      if (src[i] === '>') { i++; break }
      const a = NAME.exec(src.slice(i, i + 256))
      if (a === null) fail(`bad attribute in <${name}>`)
      i += a![0].length
      while (/\s/.test(src[i] ?? '')) i++
      if (src[i] !== '=') fail(`attribute ${a![0]} without a value`)
      i++
      while (/\s/.test(src[i] ?? '')) i++
      const q = src[i]
      if (q !== '"' && q !== "'") fail('attribute value without quotes')
      const end = src.indexOf(q, i + 1)
      if (end < 0) fail('unterminated attribute value')
      attrs[a![0]] = decodeEntities(src.slice(i + 1, end), offset)
      i = end + 1
    }
    const children: XmlElement[] = []
    let text = ''
    for (;;) {
      if (i >= src.length) fail(`unterminated <${name}>`)
      if (src.startsWith('</', i)) {
        i += 2
        if (!src.startsWith(name, i)) fail(`</${name}> expected`)
        i += name.length
        while (/\s/.test(src[i] ?? '')) i++
        if (src[i] !== '>') fail(`</${name}> expected`)
        i++
        return { name, attrs, children, text }
      }
      if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i)
        if (end < 0) fail('unterminated comment')
        i = end + 3
      } else if (src[i] === '<') {
        children.push(element(depth + 1))
      } else {
        const end = src.indexOf('<', i)
        const raw = src.slice(i, end < 0 ? src.length : end)
        text += decodeEntities(raw, offset)
        i += raw.length
      }
    }
  }
  skipMisc()
  const root = element(0)
  skipMisc()
  if (i !== src.length) fail('content after the root element')
  return root
}

/** The first child named `name`, or undefined. */
export function child (e: XmlElement | undefined, name: string): XmlElement | undefined {
  return e?.children.find(c => c.name === name)
}

/** The trimmed text of the path of children below `e`, or undefined. */
export function textAt (e: XmlElement | undefined, ...path: string[]): string | undefined {
  let cur = e
  for (const p of path) cur = child(cur, p)
  return cur?.text.trim()
}
