/** Option checks of the timing code: a failed check is an InvalidTimingOptionError that names the rule. */
import { InvalidTimingOptionError } from './errors.ts'

export function check (ok: boolean, message: string): void {
  if (!ok) throw new InvalidTimingOptionError(message)
}
