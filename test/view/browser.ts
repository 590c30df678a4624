/** Headless Debian chromium through playwright-core for the view's tests and benchmark; closed when done. */
import { existsSync } from 'node:fs'
import type { Browser } from 'playwright-core'

/** Where chromium is: $SPIKEWIRE_CHROMIUM when set (and only there), else Debian's /usr/bin/chromium. */
export function chromiumPath (): { path?: string, reason?: string } {
  const env = process.env.SPIKEWIRE_CHROMIUM
  const candidates = env !== undefined && env !== '' ? [env] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']
  const path = candidates.find(p => existsSync(p))
  return path === undefined ? { reason: `no chromium at ${candidates.join(', ')} (install Debian's chromium, or set SPIKEWIRE_CHROMIUM)` } : { path }
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'
]

export async function launch (path: string, extraArgs: string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core')
  return await chromium.launch({ executablePath: path, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: 30_000 })
}
