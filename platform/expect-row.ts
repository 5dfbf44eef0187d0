// The row a statement always yields: INSERT … RETURNING, an aggregate without
// GROUP BY, a row this transaction has just locked or written. Its absence is
// a bug, never an outcome to answer with, so it throws and names the statement.
export function expectRow<R>(row: R | undefined, statement: string): R {
  if (row === undefined) throw new Error(`${statement}: expected a row, got none`);
  return row;
}
