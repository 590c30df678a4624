/**
 * What ended each stream of a tap and each attempt that did not open one, counted by code, so the summary
 * shows the protocol errors behind its reconnects instead of hiding them: the closes the publisher sent,
 * its refusals, the errors this end found in its stream, and the attempts that never reached it.
 */
import { RejectedError, RemoteCloseError, errorCodeName } from '../codec/errors.ts'
import type { WireErrorCode } from '../codec/messages.ts'
import type { LinkStatus } from '../wire/reconnect.ts'

export type Counts = Record<string, number>

export class TapErrors {
  /** close{code} received from the publisher, by code (normal included; an unregistered code by its number). */
  readonly closes: Counts = {}
  /** reject{code} received in answer to the open, by code. */
  readonly rejects: Counts = {}
  /** Errors this end found in a stream it had open (it sent close{code} and reset), or a reset, by code. */
  readonly streamErrors: Counts = {}
  /** Attempts that did not reach the publisher (dial, negotiation or no answer), by code or error name. */
  readonly connectErrors: Counts = {}
  #last: Error | undefined

  /** A close the publisher sent (the subscription's 'close' event). */
  close (code: WireErrorCode): void {
    add(this.closes, String(code))
  }

  /**
   * A status change of the subscription: the error that ended a stream (retrying after a session) or an
   * attempt that opened none (retrying, no session), or the error it gave up with (closed). An error already counted when the link
   * went to retrying is not counted again when the link then closes.
   */
  status (s: LinkStatus): void {
    const err = s.error
    if ((s.state !== 'retrying' && s.state !== 'closed') || err === undefined || err === this.#last) return
    this.#last = err
    // Closes are counted from the 'close' event, which also sees close{normal}.
    if (err instanceof RemoteCloseError) return
    if (err instanceof RejectedError) add(this.rejects, errorCodeName(err.wireCode) ?? String(err.wireCode))
    else if (s.state === 'retrying' && s.afterSession !== true) add(this.connectErrors, codeOf(err))
    else add(this.streamErrors, codeOf(err))
  }

  /** The counts as summary fields. */
  json (): Record<string, Counts> {
    return { closes: this.closes, rejects: this.rejects, stream_errors: this.streamErrors, connect_errors: this.connectErrors }
  }

  /** The counts for people, or '' when there is nothing to report. */
  text (): string {
    const parts: string[] = []
    const list = (c: Counts): string => Object.entries(c).map(([k, n]) => `${k} ×${n}`).join(', ')
    if (Object.keys(this.closes).length > 0) parts.push(`closes from the publisher: ${list(this.closes)}`)
    if (Object.keys(this.rejects).length > 0) parts.push(`refused: ${list(this.rejects)}`)
    if (Object.keys(this.streamErrors).length > 0) parts.push(`stream errors: ${list(this.streamErrors)}`)
    if (Object.keys(this.connectErrors).length > 0) parts.push(`failed attempts: ${list(this.connectErrors)}`)
    return parts.join('; ')
  }
}

function add (c: Counts, key: string): void {
  c[key] = (c[key] ?? 0) + 1
}

/** A stable name for any error: its string code (ECONNREFUSED, a registry name), else its class name. */
function codeOf (err: Error): string {
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && code !== '') return code
  const inner = err instanceof AggregateError ? err.errors.find((e: unknown) => e instanceof Error) as Error | undefined : undefined
  if (inner !== undefined) return codeOf(inner)
  if (err.cause instanceof Error) return codeOf(err.cause)
  return err.name === '' ? 'Error' : err.name
}
