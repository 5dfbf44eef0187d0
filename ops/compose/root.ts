// The repository's root, from dist/ops/compose/ at run time: its own module so
// that checks.ts and secrets.ts, which import each other's work, share it without a circle.
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
