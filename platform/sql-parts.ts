// Several data-modifying statements sent as one. A transaction that writes
// three tables pays a round trip per statement, and on a busy machine each
// round trip is two wake-ups (the backend's, then this thread's) that wait
// for a core. Written as the CTEs of one WITH, they run in one round trip,
// in the same transaction, each to completion. Each writer keeps its SQL in
// its own module as a Statement numbered from $1; `together` renumbers them.
import type { QueryConfig } from 'pg';

/** One statement, its parameters numbered from $1. */
export interface Statement {
  text: string;
  values: unknown[];
}

/**
 * One query running every statement; the rows are those of `statements[returning]`
 * (which must have a RETURNING clause), or none. The statements must touch
 * different rows: within one query none sees another's changes.
 */
export function together(name: string, statements: readonly Statement[], returning?: number): QueryConfig {
  const values: unknown[] = [];
  const ctes = statements.map((s, i) => {
    const offset = values.length;
    values.push(...s.values);
    const text = s.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    return `s${i} AS (${text})`;
  });
  const main = returning === undefined ? 'SELECT 1 WHERE false' : `SELECT * FROM s${returning}`;
  return { name, text: `WITH ${ctes.join(',\n')}\n${main}`, values };
}

/**
 * A condition for a statement of `together`: statement `index` of the same
 * query (an earlier one) returned a row. A write that must happen only with
 * another (inserts only if the version-checked update matched) puts it in its WHERE.
 */
export const returnedRow = (index: number): string => `EXISTS (SELECT 1 FROM s${index})`;

/** `WHERE condition`, or nothing without one. */
export const whereIf = (condition: string | undefined): string => (condition ? `WHERE ${condition}` : '');
