// What `npm start` writes to the terminal: its own lines, problems, and every service's log lines
// made readable by pino-pretty, each prefixed with the service that wrote it.
import { prettyFactory } from 'pino-pretty';

const useColour = Boolean(process.stdout.isTTY) && !process.env['NO_COLOR'];
export const paint = (code: string, text: string) => (useColour ? `\u001b[${code}m${text}\u001b[0m` : text);

const nameWidth = 'conversation-service'.length;
const serviceColours = ['36', '35', '33', '32', '34', '96', '95'];
const coloursByName = new Map<string, string>();

// Output goes on even when the terminal is gone: an EPIPE must not take the shutdown down with it.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

/** A line of the start tooling itself. */
export function say(message: string): void {
  process.stdout.write(`${paint('2', 'start'.padEnd(nameWidth))} ${message}\n`);
}

/** Something went wrong; shows what the failing process wrote last, if anything. */
export function sayProblem(message: string, recentLines: string[] = []): void {
  process.stderr.write(`\n${paint('31;1', 'npm start:')} ${message}\n`);
  if (recentLines.length > 0) process.stderr.write(`${paint('2', '  last lines:')}\n${recentLines.map((line) => `    ${line}`).join('\n')}\n`);
}

const prettify = prettyFactory({ colorize: useColour, ignore: 'pid,hostname,service,time', singleLine: true });

export interface FormattedLine {
  /** Who wrote it: the `service` of a pino line, else the process. */
  name: string;
  text: string;
}

/** A pino JSON line as `LEVEL: message {fields}` (errors with their stack); any other line as written. */
export function formatLine(processName: string, line: string): FormattedLine {
  let service: unknown;
  if (line.startsWith('{')) {
    try {
      service = (JSON.parse(line) as { service?: unknown }).service;
    } catch {
      // Not JSON after all: shown as written.
    }
  }
  return { name: typeof service === 'string' ? service : processName, text: prettify(line).trimEnd() };
}

export function printLine(formatted: FormattedLine): void {
  let colour = coloursByName.get(formatted.name);
  if (!colour) {
    colour = serviceColours[coloursByName.size % serviceColours.length] ?? '36';
    coloursByName.set(formatted.name, colour);
  }
  const prefix = paint(colour, formatted.name.padEnd(nameWidth));
  process.stdout.write(`${formatted.text.split('\n').map((line) => `${prefix} ${line}`).join('\n')}\n`);
}
