/**
 * Helpers of the plot tests: reading a PNG's header without a decoder.
 */

/** The 8 bytes every PNG file starts with. */
export const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/**
 * Width and height from a PNG's IHDR chunk, which the format requires to
 * come first, right after the signature: length (4 bytes), type "IHDR"
 * (4), then width and height as big-endian 32-bit integers.
 */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const type = String.fromCharCode(...png.subarray(12, 16));
  if (type !== "IHDR") throw new Error(`expected IHDR, found ${type}`);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** The text of every `<text>` element of an SVG, unescaped. */
export function svgTexts(svg: string): string[] {
  const texts: string[] = [];
  for (const match of svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)) {
    texts.push(
      match[1]
        .replaceAll("&lt;", "<")
        .replaceAll("&gt;", ">")
        .replaceAll("&quot;", '"')
        .replaceAll("&#39;", "'")
        .replaceAll("&amp;", "&"),
    );
  }
  return texts;
}
