/**
 * A relay's counters as Prometheus metrics (`spikewire_relay_*`, docs/metrics.md), read from relay.stats()
 * at scrape time into a registry of the relay's own. The relay layer sits above this one, so the shape of
 * its statistics is written out here; `spikewire relay` passes its Relay, and the type check holds the two
 * together. No labels beyond fixed lists (direction, reason, outcome): a relay's peers are not labelled,
 * there may be many.
 *
 * libp2p's own metrics of the relay go into the same registry when it is passed in: `spikewire relay` makes
 * the registry, hands `libp2pMetrics(registry)` to createRelay, then builds these metrics on it.
 */
import { Registry, collectDefaultMetrics } from 'prom-client'
import { counterFamily, gaugeFamily, perScrape } from './family.ts'
import type { MetricsSource } from './server.ts'

/** What relay.stats() returns (src/relay/relay.ts RelayStats). */
export interface RelayCounters {
  peer: string
  reservations: { held: number, made: number, refreshed: number }
  relayed: { open: number, total: number, bytesToReserved: number, bytesFromReserved: number, limited: number }
  refusals: { reservationNotAllowed: number, reservationsFull: number, connectNotAllowed: number, noReservation: number }
  directory: { requests: number, answered: number, refused: number, invalid: number }
}

export class RelayMetrics implements MetricsSource {
  readonly registry: Registry

  /**
   * `processMetrics`: prom-client's `process_*` and `nodejs_*` metrics too (default true; leave them to
   * libp2p's metrics when those share the registry). `registry`: one to add to (default a new one).
   */
  constructor (relay: { stats: () => RelayCounters }, options: { processMetrics?: boolean, registry?: Registry } = {}) {
    this.registry = options.registry ?? new Registry()
    const r = this.registry
    const s = perScrape(() => relay.stats())
    if (options.processMetrics !== false) collectDefaultMetrics({ register: r })
    gaugeFamily(r, { name: 'spikewire_relay_info', help: 'Always 1; the label names the relay.', labelNames: ['peer'], read: () => [[{ peer: s().peer }, 1]] })
    gaugeFamily(r, { name: 'spikewire_relay_reservations', help: 'Reservations held now.', read: () => [[{}, s().reservations.held]] })
    counterFamily(r, { name: 'spikewire_relay_reservations_made_total', help: 'New reservations granted.', read: () => [[{}, s().reservations.made]] })
    counterFamily(r, { name: 'spikewire_relay_reservations_refreshed_total', help: 'Reservations refreshed by their holder.', read: () => [[{}, s().reservations.refreshed]] })
    gaugeFamily(r, { name: 'spikewire_relay_connections', help: 'Relayed connections open now.', read: () => [[{}, s().relayed.open]] })
    counterFamily(r, { name: 'spikewire_relay_connections_total', help: 'Relayed connections opened.', read: () => [[{}, s().relayed.total]] })
    counterFamily(r, { name: 'spikewire_relay_limited_connections_total', help: 'Relayed connections cut by a duration or data limit.', read: () => [[{}, s().relayed.limited]] })
    counterFamily(r, {
      name: 'spikewire_relay_bytes_total',
      help: 'Bytes relayed: from dialling peers to the peers holding reservations (direction="to_reserved"), and back (direction="from_reserved").',
      labelNames: ['direction'],
      read: () => [[{ direction: 'to_reserved' }, s().relayed.bytesToReserved], [{ direction: 'from_reserved' }, s().relayed.bytesFromReserved]]
    })
    counterFamily(r, {
      name: 'spikewire_relay_refusals_total',
      help: 'Refused: reservations from peers not allowed, reservations while full, relayed connections from peers not allowed, relayed connections to peers without a reservation.',
      labelNames: ['reason'],
      read: () => {
        const x = s().refusals
        return [[{ reason: 'reservation_not_allowed' }, x.reservationNotAllowed], [{ reason: 'reservations_full' }, x.reservationsFull], [{ reason: 'connect_not_allowed' }, x.connectNotAllowed], [{ reason: 'no_reservation' }, x.noReservation]]
      }
    })
    counterFamily(r, {
      name: 'spikewire_relay_directory_requests_total',
      help: 'Directory requests, by outcome: answered, refused (not allowed), invalid (broke the protocol); opened counts every stream.',
      labelNames: ['outcome'],
      read: () => { const d = s().directory; return [[{ outcome: 'opened' }, d.requests], [{ outcome: 'answered' }, d.answered], [{ outcome: 'refused' }, d.refused], [{ outcome: 'invalid' }, d.invalid]] }
    })
  }

  async scrape (): Promise<string> {
    return await this.registry.metrics()
  }

  get contentType (): string {
    return this.registry.contentType
  }
}
