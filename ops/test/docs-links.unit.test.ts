// Every relative link in README.md and docs/*.md leads somewhere: the file exists and, when the link
// names a section of a markdown file, that file has a heading with that anchor (GitHub's rules).
// Reads files only; starts no server.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../testing/repo-root.js';

const root = repoRoot();
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Markdown without its fenced blocks (where a # or a bracket is code, not a heading or a link). */
const unfenced = (text: string) => text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
/** ...and without code spans. */
const prose = (text: string) => unfenced(text).replace(/`[^`\n]*`/g, '');

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading = ''] of unfenced(text).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

function linksOf(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)(?: "[^"]*")?\)/g)]
    .map(([, target = '']) => target)
    .filter((target) => !/^[a-z][a-z+.-]*:/i.test(target));
}

test('when README.md and docs/*.md are read, then every relative link names an existing file and heading', () => {
  const broken: string[] = [];
  for (const doc of documents) {
    const text = readFileSync(join(root, doc), 'utf8');
    for (const link of linksOf(text)) {
      const [path = '', anchor] = link.split('#');
      const target = path === '' ? join(root, doc) : join(root, dirname(doc), decodeURIComponent(path));
      if (!existsSync(target)) {
        broken.push(`${doc}: ${link} (no ${relative(root, target)})`);
      } else if (
        anchor !== undefined &&
        target.endsWith('.md') &&
        !anchorsOf(readFileSync(target, 'utf8')).has(anchor)
      ) {
        broken.push(`${doc}: ${link} (no heading #${anchor} in ${relative(root, target)})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test('when a heading has punctuation and code, then its anchor is the one GitHub makes', () => {
  assert.deepEqual(
    [...anchorsOf('# Scheduled jobs (Agenda)\n## WebSocket `/ws` (live updates)\n## Logins\n## Logins\n')],
    ['scheduled-jobs-agenda', 'websocket-ws-live-updates', 'logins', 'logins-1'],
  );
});
