/**
 * The fuzz victim as a child process: starts the node, sends its address, then answers the parent's
 * questions over IPC (emit, emitted, quiet, stop). An uncaught error ends the process, which the parent reports.
 */
import { startVictimNode } from './victim.ts'

const v = await startVictimNode()
process.send?.({ reply: 'addr', value: v.node.multiaddrs[0] })
process.on('message', (m: { ask: string }) => {
  if (m.ask === 'emit') { v.emit(); process.send?.({ reply: 'emit', value: true }) }
  else if (m.ask === 'emitted') process.send?.({ reply: 'emitted', value: v.emitted() })
  else if (m.ask === 'quiet') { v.quiet(); process.send?.({ reply: 'quiet', value: true }) }
  else if (m.ask === 'stop') {
    v.quiet()
    void v.node.stop().finally(() => { process.exit(0) })
  }
})
process.on('disconnect', () => { v.quiet(); void v.node.stop().finally(() => { process.exit(0) }) })
