/**
 * What the `appsigning` command shows: colours (only on a terminal, never with NO_COLOR, see
 * no-color.org), aligned tables, and progress for anything that takes over a second. Progress goes
 * to stderr, so stdout stays what a script can parse.
 */

export interface Styles {
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const ansi = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const plainStyle = (s: string) => s;

/** Colours on a TTY when NO_COLOR is unset (or empty) and --no-color was not given. */
export function stylesFor(stream: NodeJS.WriteStream, allowed = true): Styles {
  const on = allowed && stream.isTTY === true && !process.env.NO_COLOR;
  if (!on) return { red: plainStyle, yellow: plainStyle, green: plainStyle, dim: plainStyle, bold: plainStyle };
  return { red: ansi(31, 39), yellow: ansi(33, 39), green: ansi(32, 39), dim: ansi(2, 22), bold: ansi(1, 22) };
}

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\x1b\[[0-9;]*m/g;
export const visibleLength = (s: string) => s.replace(ANSI_RE, "").length;

/** One cell: its text, and how to style it once padded (styling after padding keeps columns aligned). */
export interface Cell {
  text: string;
  style?: (s: string) => string;
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function renderTable(header: string[], rows: Array<Array<string | Cell>>, styles: Styles): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "string" ? { text: c } : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => visibleLength(r[i]?.text ?? ""))));
  const line = (r: Cell[]) =>
    r
      .map((c, i) => {
        const padded = i === r.length - 1 ? c.text : c.text + " ".repeat(widths[i] - visibleLength(c.text));
        return c.style ? c.style(padded) : padded;
      })
      .join("  ")
      .trimEnd();
  return [line(header.map((h) => ({ text: h, style: styles.bold }))), ...cells.map(line)].join("\n") + "\n";
}

/**
 * Progress for a loop over items: silent for the first second (quick commands print nothing), then
 * one line rewritten in place on a terminal, or a line at most every two seconds in a CI log.
 */
export class Progress {
  private readonly started = Date.now();
  private lastPrint = 0;
  private shown = false;
  private done = 0;
  private detail = "";
  private readonly timer?: NodeJS.Timeout;

  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = true,
  ) {
    if (enabled) {
      this.timer = setInterval(() => this.render(), this.stream.isTTY ? 100 : 500);
      this.timer.unref();
    }
  }

  /** Marks one item as started (detail names it: a credential name, never a secret). */
  step(detail: string): void {
    this.detail = detail;
    this.render();
  }

  /** Marks one item as finished. */
  tick(): void {
    this.done++;
    this.render();
  }

  private text(): string {
    const count = this.total === undefined ? `${this.done}` : `${this.done}/${this.total}`;
    return `${this.label} ${count}${this.detail ? `  ${this.detail}` : ""}`;
  }

  private render(): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.started < 1000) return;
    if (this.stream.isTTY) {
      const width = (this.stream.columns ?? 100) - 1;
      this.stream.write(`\r\x1b[K${this.text().slice(0, width)}`);
      this.shown = true;
    } else if (now - this.lastPrint >= 2000) {
      this.stream.write(`${this.text()}\n`);
      this.lastPrint = now;
      this.shown = true;
    }
  }

  /** Stops and clears the progress line. */
  finish(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.shown && this.stream.isTTY) this.stream.write("\r\x1b[K");
  }
}

/** Runs `fn` over items, at most `limit` at a time, keeping results in input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i], i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
