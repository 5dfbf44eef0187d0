// Just enough of RFC 6455 to prove a WebSocket gets through a proxy: the
// upgrade handshake (with its Sec-WebSocket-Accept check), one text frame out
// and one text frame back. Frames here are small (< 126 bytes of length field).
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const acceptFor = (key: string): string =>
  createHash('sha1')
    .update(key + GUID)
    .digest('base64');

/** One unmasked frame (server → client) or masked (client → server) carrying text. */
export function textFrame(text: string, masked: boolean): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('ws-probe frames carry at most 125 bytes');
  const head = Buffer.from([0x81, (masked ? 0x80 : 0) | payload.length]);
  if (!masked) return Buffer.concat([head, payload]);
  const mask = randomBytes(4);
  return Buffer.concat([head, mask, payload.map((b, i) => b ^ mask.readUInt8(i % 4))]);
}

/** Reads one small text frame from a buffer; undefined until it is complete. */
export function readTextFrame(buf: Buffer): string | undefined {
  if (buf.length < 2) return undefined;
  const masked = (buf.readUInt8(1) & 0x80) !== 0;
  const length = buf.readUInt8(1) & 0x7f;
  const start = 2 + (masked ? 4 : 0);
  if (length > 125 || buf.length < start + length) return undefined;
  const payload = buf.subarray(start, start + length);
  if (masked)
    payload.forEach((b, i) => {
      payload[i] = b ^ buf.readUInt8(2 + (i % 4));
    });
  return payload.toString();
}

export interface WsProbeResult {
  status: number;
  acceptValid: boolean;
  /** The first text frame the server sent after our message, if any. */
  reply?: string;
}

export function probeWebSocket(
  host: string,
  port: number,
  path: string,
  message: string,
  timeoutMs = 3000,
): Promise<WsProbeResult> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no WebSocket answer in ${timeoutMs} ms`));
    }, timeoutMs);
    let buf = Buffer.alloc(0);
    let result: WsProbeResult | undefined;
    const finish = (r: WsProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('connect', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!result) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        const status = Number(head.split(' ')[1]);
        const accept = /^sec-websocket-accept:\s*(\S+)/im.exec(head)?.[1];
        result = { status, acceptValid: accept === acceptFor(key) };
        if (status !== 101) {
          finish(result);
          return;
        }
        socket.write(textFrame(message, true));
      }
      const reply = readTextFrame(buf);
      if (reply !== undefined) finish({ ...result, reply });
    });
  });
}
