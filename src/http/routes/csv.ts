/**
 * CSV cells for exports (RFC 4180): every cell quoted, quotes doubled, so commas and line breaks
 * inside a value stay in it. A cell that a spreadsheet would run as a formula (starting with
 * = + - @, or a tab/CR that hides one) gets a leading apostrophe: an audit trail carries names
 * that an agent or an admin chose, and opening the export must not execute them (CSV injection).
 */
export function csvCell(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

export function csvRow(values: readonly (string | number)[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
