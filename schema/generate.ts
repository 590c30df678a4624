/**
 * Writes the published node config schema, schema/node-config.schema.json, from src/hosting/config-schema.ts
 * (which builds it from the validator's own constants). Run `npm run schema` after changing a config field
 * or a limit; test/hosting/config-schema.test.ts fails while the file is stale.
 *
 *   node schema/generate.ts [--check]
 */
import { readFile, writeFile } from 'node:fs/promises'
import { configSchema } from '../src/hosting/config-schema.ts'

const FILE = new URL('./node-config.schema.json', import.meta.url)
const text = JSON.stringify(configSchema(), null, 2) + '\n'
if (process.argv.includes('--check')) {
  const current = await readFile(FILE, 'utf8').catch(() => '')
  if (current !== text) {
    process.stderr.write('schema/node-config.schema.json is stale: run npm run schema\n')
    process.exit(1)
  }
} else {
  await writeFile(FILE, text)
  process.stdout.write(`wrote ${FILE.pathname}\n`)
}
