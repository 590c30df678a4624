/**
 * `HOST:PORT` as the command line and configs write it (`127.0.0.1:9464`, `localhost:5020`, `[::1]:8080`):
 * one parser for the gateway's UDP addresses, the metrics endpoint and the view's HTTP address, each of
 * which words its own error.
 */

export interface HostPort { host: string, port: number }

/** HOST:PORT split, or undefined when it is not one (IPv6 hosts in brackets; port 0–65535). */
export function splitHostPort (s: string): HostPort | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/]+)):(\d{1,5})$/.exec(s)
  if (m === null) return undefined
  const port = Number(m[3])
  return port > 65535 ? undefined : { host: m[1] ?? m[2], port }
}

/** A host as it stands in a URL: IPv6 addresses in brackets. */
export function urlHost (host: string): string {
  return host.includes(':') ? `[${host}]` : host
}
