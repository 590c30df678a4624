/**
 * Authorisation lists (spec §11): "*" for any peer that may connect, or a list of PeerId strings.
 */
export type PeerList = '*' | readonly string[]

export function isAllowed (list: PeerList | undefined, peer: string, byDefault: boolean): boolean {
  if (list === undefined) return byDefault
  if (list === '*') return true
  return list.includes(peer)
}
