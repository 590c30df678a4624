/**
 * The 2020 UDP gateway's counters as Prometheus metrics (`spikewire_udp2020_*`, docs/metrics.md), read from
 * gateway.stats() at scrape time into the node's registry. Labels: `code` and `port` per configured sender,
 * `reason` per malformed or re-anchor reason (fixed lists), `port`/`from` per configured reply: all bounded
 * by the config.
 */
import type { Registry } from 'prom-client'
import { counterFamily, gaugeFamily, perScrape, seconds } from '../../metrics/index.ts'
import type { Udp2020Gateway, Udp2020Stats } from './gateway.ts'
import type { ReplyStats } from './replies.ts'

export function registerGatewayMetrics (registry: Registry, gateway: Pick<Udp2020Gateway, 'stats'>): void {
  const stats = perScrape((): Udp2020Stats => gateway.stats())
  const plain = (name: string, help: string, key: 'datagrams' | 'events' | 'ready'): void => {
    counterFamily(registry, { name, help, read: () => [[{}, stats()[key]]] })
  }
  plain('spikewire_udp2020_datagrams_total', 'UDP datagrams received, of any kind.', 'datagrams')
  plain('spikewire_udp2020_events_total', 'Events emitted on the sender ports (all senders).', 'events')
  plain('spikewire_udp2020_ready_total', 'R (ready) datagrams received.', 'ready')
  counterFamily(registry, {
    name: 'spikewire_udp2020_malformed_datagrams_total',
    help: 'Datagrams that did not become an event, by reason.',
    labelNames: ['reason'],
    read: () => Object.entries(stats().malformed).map(([reason, n]) => [{ reason }, n])
  })
  gaugeFamily(registry, { name: 'spikewire_udp2020_registered_addresses', help: 'Addresses registered for replies by R datagrams.', read: () => [[{}, stats().registered.length]] })
  const senders = (): Array<Udp2020Stats['senders'][string]> => Object.values(stats().senders)
  const sender = (name: string, help: string, key: 'events' | 'clamped' | 'refused'): void => {
    counterFamily(registry, { name, help, labelNames: ['code', 'port'], read: () => senders().map(s => [{ code: s.code, port: s.port }, s[key]]) })
  }
  sender('spikewire_udp2020_sender_events_total', 'Events of one sender code emitted on its port.', 'events')
  sender('spikewire_udp2020_sender_clamped_events_total', 'Events whose rebuilt time was raised to keep the port in time order.', 'clamped')
  sender('spikewire_udp2020_sender_refused_events_total', 'Events of one sender the port refused (should stay 0).', 'refused')
  counterFamily(registry, {
    name: 'spikewire_udp2020_sender_reanchors_total',
    help: 'Times a sender\'s timeline was anchored again, by reason.',
    labelNames: ['code', 'port', 'reason'],
    read: () => senders().flatMap(s => Object.entries(s.reanchors).map(([reason, n]) => [{ code: s.code, port: s.port, reason }, n] as const))
  })
  gaugeFamily(registry, { name: 'spikewire_udp2020_sender_lag_seconds', help: 'Arrival minus rebuilt time of a sender\'s last event.', labelNames: ['code', 'port'], read: () => senders().map(s => [{ code: s.code, port: s.port }, seconds(s.lagUs)]) })
  const reply = (name: string, help: string, key: keyof Omit<ReplyStats, 'from' | 'port' | 'state'>): void => {
    counterFamily(registry, { name, help, labelNames: ['from', 'port'], read: () => stats().replies.map(r => [{ from: r.from, port: r.port }, r[key]]) })
  }
  reply('spikewire_udp2020_reply_events_total', 'Events received from a reply subscription.', 'events')
  reply('spikewire_udp2020_reply_datagrams_total', 'S datagrams handed to the socket (one per event and destination).', 'datagrams')
  reply('spikewire_udp2020_reply_clipped_events_total', 'Events whose value was clipped into the weight byte.', 'clipped')
  reply('spikewire_udp2020_reply_channel_out_of_range_events_total', 'Events on a channel too large for the neuron id: not sent.', 'channelOutOfRange')
  reply('spikewire_udp2020_reply_no_destination_events_total', 'Events with no destination yet: not sent.', 'noDestination')
  reply('spikewire_udp2020_reply_dropped_datagrams_total', 'Datagrams not sent: the socket\'s send queue was full.', 'dropped')
  reply('spikewire_udp2020_reply_send_errors_total', 'Datagrams the socket failed to send.', 'sendErrors')
}
