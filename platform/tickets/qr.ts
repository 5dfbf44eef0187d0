// QR images of ticket codes, for the API (SVG, PNG) and the confirmation mail
// (PNG). Error correction M: a phone still reads a code that is a little
// creased or dim, and a 138-character code stays a small symbol.
import QRCode from 'qrcode';

const OPTIONS = { errorCorrectionLevel: 'M' as const, margin: 2 };

export const qrSvg = (code: string): Promise<string> => QRCode.toString(code, { ...OPTIONS, type: 'svg' });

/** `scale` pixels per module: 6 gives a ~400 px image, crisp on paper and on a phone. */
export const qrPng = (code: string, scale = 6): Promise<Buffer> =>
  QRCode.toBuffer(code, { ...OPTIONS, type: 'png', scale });
