/** Errors of a node's port table. */
import { SpikewireBaseError } from '../base/errors.ts'

/** Codes of {@link PortError}. */
export type PortErrorCode = 'unknown-port' | 'port-exists'

/**
 * A local port lookup or declaration failed: the node has no port of that name (`unknown-port`, the
 * same name the wire registry gives a remote refusal), or a port of that name exists already (`port-exists`).
 */
export class PortError extends SpikewireBaseError<PortErrorCode> {
  override name = 'PortError'

  constructor (code: PortErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
  }
}
