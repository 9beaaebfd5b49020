// The Compare view's table as pure functions of the server's metrics table: its columns, the
// rows a filter keeps, their order, and the same rows as CSV. No I/O: the table is fetched once
// and every click re-derives what is shown from it.
import type { MetricsRow, MetricsTable } from '../../api';

export interface Column {
  /** Unique: `id`, `status`, `values.<name>` or `metrics.<name>`. */
  key: string;
  /** The header: the value's or metric's name, prefixed when a name is both. */
  label: string;
  group: 'row' | 'values' | 'metrics';
}

export type Direction = 'ascending' | 'descending';

/** The row's id and status, then its values, then its metrics. */
export function columns(table: MetricsTable): Column[] {
  const both = new Set(table.values.filter((name) => table.metrics.includes(name)));
  const named = (group: 'values' | 'metrics', name: string): Column => ({
    key: `${group}.${name}`,
    label: both.has(name) ? `${group === 'values' ? 'value' : 'metric'} ${name}` : name,
    group,
  });
  return [
    { key: 'id', label: 'id', group: 'row' },
    { key: 'status', label: 'status', group: 'row' },
    ...table.values.map((name) => named('values', name)),
    ...table.metrics.map((name) => named('metrics', name)),
  ];
}

/** What a row holds in a column; undefined where it has nothing (a metric not recorded). */
export function cell(row: MetricsRow, column: Column): unknown {
  if (column.group === 'row') {
    return column.key === 'id' ? row.id : row.status;
  }
  return row[column.group][column.key.slice(column.group.length + 1)];
}

/** A cell as text: numbers as JavaScript writes them, lists and objects as JSON. */
export function text(value: unknown): string {
  if (value === undefined || value === null) {
    return '';
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A cell as the table draws it: numbers to 6 significant digits (the CSV has them whole). */
export function shortText(value: unknown): string {
  return typeof value === 'number' && !Number.isInteger(value)
    ? String(Number(value.toPrecision(6)))
    : text(value);
}

/** The rows with a cell holding `query` (case does not matter); all of them for no query. */
export function filterRows(
  rows: readonly MetricsRow[],
  shown: readonly Column[],
  query: string,
): MetricsRow[] {
  const wanted = query.trim().toLowerCase();
  if (!wanted) {
    return [...rows];
  }
  return rows.filter((row) =>
    shown.some((column) => text(cell(row, column)).toLowerCase().includes(wanted)),
  );
}

const collator = new Intl.Collator('en', { numeric: true });

/** Numbers by value, text as people order it ("shot=9" before "shot=10"), numbers and text
 * apart (numbers first when ascending), empty cells last whichever the direction. */
export function sortRows(
  rows: readonly MetricsRow[],
  column: Column,
  direction: Direction,
): MetricsRow[] {
  const sign = direction === 'ascending' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = cell(a, column);
    const y = cell(b, column);
    const xEmpty = x === undefined || x === null;
    const yEmpty = y === undefined || y === null;
    if (xEmpty || yEmpty) {
      return Number(xEmpty) - Number(yEmpty);
    }
    if (typeof x === 'number' && typeof y === 'number') {
      return sign * (x - y);
    }
    if (typeof x === 'number' || typeof y === 'number') {
      return sign * (typeof x === 'number' ? -1 : 1);
    }
    return sign * collator.compare(text(x), text(y));
  });
}

/** Whether every cell of the column that holds something holds a number (and one does). */
export function isNumeric(rows: readonly MetricsRow[], column: Column): boolean {
  const present = rows.map((row) => cell(row, column)).filter((v) => v !== undefined && v !== null);
  return present.length > 0 && present.every((v) => typeof v === 'number' && Number.isFinite(v));
}

/** One CSV field: quoted when it holds a comma, a quote, a line break or edge spaces (RFC 4180),
 * a quote inside written twice. */
function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The rows as CSV, a header line first, lines ended by CRLF as RFC 4180 has them. */
export function toCsv(shown: readonly Column[], rows: readonly MetricsRow[]): string {
  const lines = [
    shown.map((column) => csvField(column.label)),
    ...rows.map((row) => shown.map((column) => csvField(text(cell(row, column))))),
  ];
  return lines.map((line) => line.join(',')).join('\r\n') + '\r\n';
}
