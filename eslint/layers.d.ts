/** Types of the layer rule (layers.js), for the tests that check it. */
export declare const LAYERS: string[]
export declare const SIDE: Record<string, { importedBy: string[] }>
export declare const PROTOCOLS: string[]
export declare function layerOf (srcDir: string, file: string): string | undefined
export declare function violation (from: string | undefined, to: string | undefined): string | undefined
export declare const layersRule: unknown
declare const plugin: { rules: { layers: unknown } }
export default plugin
