import { isIP } from 'node:net'
import { NetemAddressError } from './errors.ts'

/**
 * True when `host` is an IP literal on the loopback network: 127.0.0.0/8 or ::1. Host names (even
 * `localhost`) are not accepted, so that no name lookup can ever point the emulator elsewhere.
 */
export function isLoopback (host: string): boolean {
  const family = isIP(host)
  if (family === 4) return host.split('.')[0] === '127'
  if (family === 6) {
    const groups = expandIPv6(host)
    return groups != null && groups.slice(0, 7).every(g => g === 0) && groups[7] === 1
  }
  return false
}

/** Throw NetemAddressError unless `host:port` is a loopback IP literal and a valid port. */
export function assertLoopback (role: 'listen' | 'target', host: string, port: number): void {
  if (!isLoopback(host)) {
    throw new NetemAddressError(`${role} host ${JSON.stringify(host)} is not a loopback IP literal (127.0.0.0/8 or ::1)`)
  }
  const minPort = role === 'listen' ? 0 : 1
  if (!Number.isInteger(port) || port < minPort || port > 65535) {
    throw new NetemAddressError(`${role} port ${port} is not an integer from ${minPort} to 65535`)
  }
}

/** The eight 16-bit groups of an IPv6 literal without zone or embedded IPv4, or undefined. */
function expandIPv6 (host: string): number[] | undefined {
  if (host.includes('%') || host.includes('.')) return undefined
  const halves = host.split('::')
  if (halves.length > 2) return undefined
  const parse = (s: string): number[] => s === '' ? [] : s.split(':').map(g => parseInt(g, 16))
  const head = parse(halves[0])
  const tail = halves.length === 2 ? parse(halves[1]) : []
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0
  const groups = [...head, ...new Array<number>(fill).fill(0), ...tail]
  return groups.length === 8 ? groups : undefined
}
