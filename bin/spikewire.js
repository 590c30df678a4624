#!/usr/bin/env node
// The spikewire command. Runs the compiled CLI (dist/) when it exists, otherwise the TypeScript sources,
// which Node runs directly from 22.18 on (type stripping).
import { existsSync } from 'node:fs'

const [major, minor] = process.versions.node.split('.').map(Number)
const supported = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18)
if (!supported) {
  process.stderr.write(`spikewire needs Node >= 22.18 (found v${process.versions.node})\n`)
  process.exit(1)
}

const dist = new URL('../dist/cli/main.js', import.meta.url)
await import(existsSync(dist) ? dist.href : new URL('../src/cli/main.ts', import.meta.url).href)
