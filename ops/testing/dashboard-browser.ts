// Headless Chromium for the dashboard's browser test: Debian's `chromium`
// package (installed with apt-get like the stack's servers when missing and
// running as root; otherwise the error names the command), driven by
// playwright-core, which never downloads a browser of its own.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { resolveTool } from '../stack/binaries.js';

/** Where tests leave files for a person to look at (git-ignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

/**
 * The machine's network is closed: Chromium's background fetches (updates,
 * sync, QUIC probes) would each be refused and only add noise and delay.
 * Playwright already adds --no-sandbox (needed as root), a fresh profile
 * and --no-first-run.
 */
const QUIET = [
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(
  log: (msg: string) => void = (msg) => console.error(`[chromium] ${msg}`),
): Promise<Browser> {
  const scratch = await mkdtemp(join(tmpdir(), 'evently-chromium-'));
  try {
    const executablePath = await resolveTool('chromium', 'chromium', join(scratch, 'apt.log'), log);
    return await chromium.launch({ executablePath, headless: true, args: QUIET });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export async function artifactPath(name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
