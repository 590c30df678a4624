/** The software string in node descriptions (spec §8.2). Kept equal to package.json's version by a test. */
export const VERSION = '0.1.0'
export const SOFTWARE = `spikewire-ts/${VERSION}`
