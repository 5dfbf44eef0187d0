// CSV cells as RFC 4180 has them (quotes around a cell with a comma, quote
// or line break; quotes doubled), and text a spreadsheet would run as a
// formula defused with a leading apostrophe (OWASP's advice against CSV
// injection): names in an export are whatever people typed.
const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA = /^[=+\-@\t\r]/;

export type Cell = string | number | null;

export function csvCell(value: Cell): string {
  if (value === null) return '';
  const text = typeof value === 'string' && FORMULA.test(value) ? `'${value}` : String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvLine = (cells: readonly Cell[]): string => `${cells.map(csvCell).join(',')}\r\n`;
