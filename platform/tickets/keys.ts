// The ticket signing keys: Ed25519 key pairs in Postgres, the private half
// AES-256-GCM encrypted with a key derived from EVENTLY_TICKET_SECRET (so a
// database dump alone signs nothing). One key signs at a time; an admin's
// rotation retires it, and a retired key stays published (and verifies) while
// a live event has bookings made before it retired, since mails sent then
// carry codes it signed. Each thread caches what it read: the signing key for
// a few seconds (a rotation reaches every thread within that), the published
// keys until a code names a kid it does not know.
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import type { Pool } from 'pg';
import { deriveKey, publicKeyFromRaw, rawPublicKey, type KeyList } from '../../protocol/index.js';

const SIGNER_TTL_MS = 5_000;
/** A flood of codes with made-up kids must not become a flood of key reads: each kid is looked up at most once a second. */
const UNKNOWN_KID_RETRY_MS = 1_000;
const MAX_REMEMBERED_UNKNOWN = 1_000;

export interface Signer {
  kid: string;
  privateKey: KeyObject;
}

interface KeyRow {
  kid: string;
  public_key: Buffer;
  private_key: Buffer;
}

const PUBLISHED = `
  SELECT kid, public_key FROM ticket_keys k
   WHERE k.retired_at IS NULL OR EXISTS (
     SELECT 1 FROM events e JOIN bookings b ON b.event_id = e.id
      WHERE e.status = 'scheduled' AND coalesce(e.ends_at, e.starts_at) > now() - interval '1 day'
        AND b.status = 'confirmed' AND b.created_at < k.retired_at)
   ORDER BY k.created_at`;

export class TicketKeys {
  private readonly encryption: Buffer;
  private signer?: { value: Promise<Signer>; at: number };
  private published = new Map<string, KeyObject>();
  private readonly unknownSince = new Map<string, number>();

  constructor(
    private readonly pool: Pool,
    secret: string,
  ) {
    this.encryption = deriveKey(secret, 'ticket-keys');
  }

  /** The key that signs now; the first call on a fresh database makes one. */
  current(): Promise<Signer> {
    if (!this.signer || Date.now() - this.signer.at > SIGNER_TTL_MS) {
      const value = this.readSigner();
      this.signer = { value, at: Date.now() };
      value.catch(() => {
        this.signer = undefined;
      });
    }
    return this.signer.value;
  }

  /** A published key by id; a kid not known yet (a rotation on another thread) reloads the keys. */
  async keyOf(kid: string): Promise<KeyObject | undefined> {
    const known = this.published.get(kid);
    if (known) return known;
    const since = this.unknownSince.get(kid);
    if (since !== undefined && Date.now() - since < UNKNOWN_KID_RETRY_MS) return undefined;
    await this.reload();
    const found = this.published.get(kid);
    if (found) this.unknownSince.delete(kid);
    else {
      if (this.unknownSince.size >= MAX_REMEMBERED_UNKNOWN) this.unknownSince.clear();
      this.unknownSince.set(kid, Date.now());
    }
    return found;
  }

  /** The keys scanners should trust, as GET /v1/checkin/keys lists them. */
  async list(): Promise<KeyList> {
    await this.current();
    await this.reload();
    return {
      keys: [...this.published].map(([kid, key]) => ({ kid, alg: 'Ed25519' as const, publicKey: rawPublicKey(key) })),
    };
  }

  /** Retires the signing key and makes a new one, in one transaction. */
  async rotate(): Promise<KeyList> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('UPDATE ticket_keys SET retired_at = now() WHERE retired_at IS NULL');
      await client.query('INSERT INTO ticket_keys (kid, public_key, private_key) VALUES ($1, $2, $3)', this.fresh());
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    this.signer = undefined;
    return this.list();
  }

  private async reload(): Promise<void> {
    const { rows } = await this.pool.query<{ kid: string; public_key: Buffer }>(PUBLISHED);
    this.published = new Map(rows.map((r) => [r.kid, publicKeyFromRaw(r.public_key.toString('base64url'))]));
  }

  private async readSigner(): Promise<Signer> {
    const read = () =>
      this.pool.query<KeyRow>('SELECT kid, public_key, private_key FROM ticket_keys WHERE retired_at IS NULL');
    let {
      rows: [row],
    } = await read();
    if (!row) {
      // Two threads may race to make the first key: the one-active index lets one win, both read it.
      await this.pool.query(
        `INSERT INTO ticket_keys (kid, public_key, private_key) VALUES ($1, $2, $3)
                             ON CONFLICT ((true)) WHERE retired_at IS NULL DO NOTHING`,
        this.fresh(),
      );
      [row] = (await read()).rows;
    }
    if (!row) throw new Error('no ticket signing key');
    return { kid: row.kid, privateKey: this.decrypt(row) };
  }

  /** A new key pair as row values: kid, raw public key, encrypted PKCS#8 private key. */
  private fresh(): [string, Buffer, Buffer] {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const kid = randomBytes(4).toString('base64url');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encryption, iv).setAAD(Buffer.from(kid));
    const sealed = Buffer.concat([cipher.update(privateKey.export({ format: 'der', type: 'pkcs8' })), cipher.final()]);
    return [kid, Buffer.from(rawPublicKey(publicKey), 'base64url'), Buffer.concat([iv, cipher.getAuthTag(), sealed])];
  }

  private decrypt(row: KeyRow): KeyObject {
    const iv = row.private_key.subarray(0, 12);
    const tag = row.private_key.subarray(12, 28);
    const decipher = createDecipheriv('aes-256-gcm', this.encryption, iv).setAAD(Buffer.from(row.kid));
    decipher.setAuthTag(tag);
    const der = Buffer.concat([decipher.update(row.private_key.subarray(28)), decipher.final()]);
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    // A key whose halves disagree would sign codes nobody can verify: refuse it loudly.
    if (rawPublicKey(createPublicKey(key)) !== row.public_key.toString('base64url'))
      throw new Error(`ticket key ${row.kid} does not match its public key`);
    return key;
  }
}
