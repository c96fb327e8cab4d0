// crc-32 ships types for its CRC32 entry only; its CRC32C entry has the same API.
declare module 'crc-32/crc32c.js' {
  /** CRC32C (Castagnoli) of the bytes, as a signed 32-bit integer; seed continues a previous CRC. */
  export function buf(data: Uint8Array | number[], seed?: number): number;
}
