// Reads what the SMTP sink kept: every .eml file in its folder, parsed with
// mailparser (each file once), so tests check mails as a mail client sees them.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';

export class Mailbox {
  private readonly parsed = new Map<string, ParsedMail>();

  constructor(private readonly dir: string) {}

  async all(): Promise<ParsedMail[]> {
    const files = (await readdir(this.dir)).filter((f) => f.endsWith('.eml') && !f.startsWith('.')).sort();
    for (const file of files) {
      if (!this.parsed.has(file)) this.parsed.set(file, await simpleParser(await readFile(join(this.dir, file))));
    }
    return files.map((f) => this.parsed.get(f)!);
  }

  /** Every mail to one address, oldest first. */
  async to(address: string): Promise<ParsedMail[]> {
    return (await this.all()).filter((m) => recipients(m).includes(address.toLowerCase()));
  }

  /** Waits until `address` has at least `count` mails (matching `subject`, if given) and returns them. */
  async waitFor(
    address: string,
    { count = 1, subject, timeoutMs = 60_000 }: { count?: number; subject?: RegExp; timeoutMs?: number } = {},
  ): Promise<[ParsedMail, ...ParsedMail[]]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const mails = (await this.to(address)).filter((m) => !subject || subject.test(m.subject ?? ''));
      const [first, ...rest] = mails;
      if (first && mails.length >= count) return [first, ...rest];
      if (Date.now() > until)
        throw new Error(
          `timed out waiting for ${count} mail(s) to ${address}${subject ? ` matching ${subject}` : ''}; have ${mails.length}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export function recipients(mail: ParsedMail): string[] {
  const to = ([] as AddressObject[]).concat(mail.to ?? []);
  return to.flatMap((a) => a.value.map((v) => (v.address ?? '').toLowerCase()));
}
