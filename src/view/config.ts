/**
 * What `spikewire view` hands the page: the node to dial and the ports to draw. Served as /config.json by
 * the command (src/cli/view.ts) and read by the page (page.ts); no DOM and no Node here.
 */

/** The paths the view's HTTP server answers; every other path is 404. */
export const VIEW_PATHS = { page: '/', script: '/view.js', worker: '/view-worker.js', config: '/config.json' } as const

export interface ViewConfig {
  /** The node's WebSockets multiaddr, with /p2p/<peer-id>. */
  target: string
  /** Out ports to subscribe to; empty: every out port of the description. */
  ports: string[]
  /** Width of the raster's time window, ms. */
  windowMs: number
}

/** True when a multiaddr string is one a browser can dial: WebSockets (`/ws`, `/wss`, `/tls/ws`) with a PeerId. */
export function isBrowserDialable (addr: string): boolean {
  return /\/(ws|wss)(\/|$)/.test(addr) && /\/p2p\/[^/]+$/.test(addr) && !addr.includes('/p2p-circuit')
}
