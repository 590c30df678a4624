/**
 * Writes the published node config schema, schema/node-config.schema.json, from src/hosting/config-schema.ts
 * (which builds it from the validator's own constants), and the copy the Python package ships
 * (python/src/spikewire/data/node-config.schema.json), and the 2020 UDP gateway's config schema
 * (schema/gateway-udp2020.schema.json, src/gateway/udp2020/config-schema.ts), and the relay's
 * (schema/relay.schema.json, src/relay/config-schema.ts). Run `npm run schema` after changing a config field
 * or a limit; test/hosting/config-schema.test.ts and python/tests/test_node_config.py fail while a file is
 * stale.
 *
 *   node schema/generate.ts [--check]
 */
import { readFile, writeFile } from 'node:fs/promises'
import { configSchema } from '../src/hosting/config-schema.ts'
import { gatewayConfigSchema } from '../src/gateway/udp2020/config-schema.ts'
import { relayConfigSchema } from '../src/relay/config-schema.ts'

const nodeText = JSON.stringify(configSchema(), null, 2) + '\n'
const FILES: Array<[URL, string]> = [
  [new URL('./node-config.schema.json', import.meta.url), nodeText],
  [new URL('../python/src/spikewire/data/node-config.schema.json', import.meta.url), nodeText],
  [new URL('./gateway-udp2020.schema.json', import.meta.url), JSON.stringify(gatewayConfigSchema(), null, 2) + '\n'],
  [new URL('./relay.schema.json', import.meta.url), JSON.stringify(relayConfigSchema(), null, 2) + '\n']
]
for (const [file, text] of FILES) {
  if (process.argv.includes('--check')) {
    const current = await readFile(file, 'utf8').catch(() => '')
    if (current !== text) {
      process.stderr.write(`${file.pathname} is stale: run npm run schema\n`)
      process.exitCode = 1
    }
  } else {
    await writeFile(file, text)
    process.stdout.write(`wrote ${file.pathname}\n`)
  }
}
