// Opaque list cursors: base64url JSON of the last row's sort key. A cursor
// that does not decode is a client error, never a server one.
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, shape: readonly ('string' | 'number')[]): unknown[] | undefined {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(key) || key.length !== shape.length) return undefined;
    return key.every((v, i) => typeof v === shape[i]) ? key : undefined;
  } catch {
    return undefined;
  }
}
