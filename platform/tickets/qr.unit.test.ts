// The PNG we write for a ticket code is the picture the qrcode package draws
// (same pixels, decoded) and reads back as the code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { qrPng } from './qr.js';

const jsQR = jsQRModule.default;
const codes = ['E1.short', `E1.${'x'.repeat(135)}`, `E1.${'AbC-_9'.repeat(23)}`];

test('when a code is drawn as PNG, then its pixels are the qrcode package’s and a reader reads the code back', async () => {
  for (const code of codes) {
    for (const scale of [1, 5, 6]) {
      const ours = PNG.sync.read(await qrPng(code, scale));
      const theirs = PNG.sync.read(
        await QRCode.toBuffer(code, { errorCorrectionLevel: 'M', margin: 2, type: 'png', scale }),
      );
      assert.deepEqual([ours.width, ours.height], [theirs.width, theirs.height], `${code} at ${scale}: size`);
      assert.ok(ours.data.equals(theirs.data), `${code} at ${scale}: the same pixels`);
      if (scale > 1) assert.equal(jsQR(new Uint8ClampedArray(ours.data), ours.width, ours.height)?.data, code);
    }
  }
});
