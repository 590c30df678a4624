/**
 * XDF 1.0 constants (the format specification of sccn/xdf, "Specifications"): a file is the magic code
 * "XDF:" followed by chunks; every chunk is [NumLengthBytes: 1, 4 or 8][Length: that many bytes, little-endian,
 * counting the tag and the content][Tag: uint16 little-endian][Content].
 */

/** The first four bytes of every XDF file. */
export const MAGIC = new Uint8Array([0x58, 0x44, 0x46, 0x3a]) // "XDF:"

/** Chunk tags (XDF 1.0 §"Chunk"). */
export const Tag = {
  FileHeader: 1,
  StreamHeader: 2,
  Samples: 3,
  ClockOffset: 4,
  Boundary: 5,
  StreamFooter: 6
} as const
export type TagName = keyof typeof Tag

/** The 16 bytes of every Boundary chunk: a reader that lost its place scans for them to resynchronise. */
export const BOUNDARY_UUID = new Uint8Array([0x43, 0xa5, 0x46, 0xdc, 0xcb, 0xf5, 0x41, 0x0f, 0xb3, 0x0e, 0xd5, 0x46, 0x73, 0x83, 0xcb, 0xe4])

/** The numeric channel formats and the bytes of one value (strings are variable). */
export const FORMAT_BYTES = { int8: 1, int16: 2, int32: 4, int64: 8, float32: 4, double64: 8 } as const
export type NumericFormat = keyof typeof FORMAT_BYTES
export type ChannelFormat = NumericFormat | 'string'

/**
 * What a reader accepts before it allocates (a file is hostile input). A chunk longer than `maxChunkBytes`
 * or XML longer than `maxXmlBytes` is an error, not an allocation.
 */
export const XDF_LIMITS = {
  /** Longest chunk, bytes (tag and content). The recorder writes chunks of at most a few MiB. */
  maxChunkBytes: 64 * 1024 * 1024,
  /** Longest XML text of a header or footer, bytes. */
  maxXmlBytes: 1024 * 1024,
  /** Deepest XML nesting. */
  maxXmlDepth: 32,
  /** Most streams in one file. */
  maxStreams: 4096,
  /** Most channels of one stream. */
  maxChannels: 65_536,
  /** Longest string value of a string stream, bytes. */
  maxStringBytes: 1024 * 1024
} as const
