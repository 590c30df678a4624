/**
 * The shape of a protocol service (after js-libp2p's services): a factory takes the options and returns a
 * function that receives exactly the components the service may touch; the node composes the services
 * and calls `start` and `stop` in order.
 */
export interface Startable {
  start: () => Promise<void> | void
  stop: () => Promise<void> | void
}

/** What a node may stop when it stops (hosted models, drivers, anything attached to it). */
export interface Stoppable {
  stop: () => Promise<void> | void
}

/** `service(init)(components)`: options first, then the components the service may use. */
export type ServiceFactory<Components, Service> = (components: Components) => Service
