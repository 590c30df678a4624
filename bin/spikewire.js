#!/usr/bin/env node
// The spikewire command. In a checkout it runs the TypeScript sources (Node runs them directly from 22.18
// on, type stripping), so a stale dist/ is never run; an installed package ships dist/ only and runs that.
import { existsSync } from 'node:fs'

const [major, minor] = process.versions.node.split('.').map(Number)
const supported = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18)
if (!supported) {
  process.stderr.write(`spikewire needs Node >= 22.18 (found v${process.versions.node})\n`)
  process.exit(1)
}

const src = new URL('../src/cli/main.ts', import.meta.url)
await import(existsSync(src) ? src.href : new URL('../dist/cli/main.js', import.meta.url).href)
