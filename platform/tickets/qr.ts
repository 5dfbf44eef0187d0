// QR images of ticket codes, for the API (SVG, PNG) and the confirmation mail
// (PNG). Error correction M: a phone still reads a code that is a little
// creased or dim, and a 138-character code stays a small symbol.
//
// The PNG is written here, one bit per pixel, from the symbol's modules. The
// qrcode package's PNG goes through pngjs: RGBA pixels and every row filtered
// five ways to pick the best. That took ~7 ms a code, most of a mailer's
// time in a sale (each confirmation mail carries one per ticket), for a
// picture that has two colours; this takes well under a millisecond beside
// the symbol itself and is smaller.
import { crc32, deflateSync } from 'node:zlib';
import QRCode from 'qrcode';

const OPTIONS = { errorCorrectionLevel: 'M' as const, margin: 2 };

export const qrSvg = (code: string): Promise<string> => QRCode.toString(code, { ...OPTIONS, type: 'svg' });

/** `scale` pixels per module: 6 gives a ~300 px image, crisp on paper and on a phone. */
export const qrPng = (code: string, scale = 6): Promise<Buffer> => {
  try {
    return Promise.resolve(pngOf(QRCode.create(code, OPTIONS).modules, OPTIONS.margin, scale));
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
};

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A 1-bit greyscale PNG (0 = black) of the modules, `margin` light modules around, `scale` pixels each. */
export function pngOf(modules: { size: number; get(row: number, col: number): number }, margin: number, scale: number) {
  const side = (modules.size + 2 * margin) * scale;
  const stride = 1 + Math.ceil(side / 8);
  // Every row starts with filter byte 0 (none); all bits 1 = white, then dark modules are cleared.
  const raw = Buffer.alloc(stride * side, 0xff);
  for (let y = 0; y < side; y += 1) raw[y * stride] = 0;
  for (let row = 0; row < modules.size; row += 1) {
    const top = (row + margin) * scale;
    const line = top * stride;
    for (let col = 0; col < modules.size; col += 1) {
      if (!modules.get(row, col)) continue;
      for (let x = (col + margin) * scale, end = x + scale; x < end; x += 1) {
        const at = line + 1 + (x >> 3);
        raw[at] = (raw[at] ?? 0) & ~(0x80 >> (x & 7));
      }
    }
    // The module row's other pixel rows are copies of its first.
    for (let dy = 1; dy < scale; dy += 1) raw.copy(raw, line + dy * stride, line, line + stride);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale, deflate, filter method 0, no interlace
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
