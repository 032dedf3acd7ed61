/**
 * Reading the commands out of a Markdown README, for test/readme.int.test.ts: its fenced code
 * blocks, the shell commands in a block (continued lines and multi-line quotes joined), the
 * `# ...` lines that show what a command prints, and checking an output against them.
 *
 * Conventions of the README this reads:
 * - a comment line right below a command (no blank line between) shows its output: JSON when it
 *   starts with `{` or `[` (`...` stands for more members, items or any value), else a line of
 *   text (numbers and `...` stand for any value, runs of spaces for any spacing);
 * - any other comment (first in a block, after a blank line, or after the command on its line) is
 *   prose for the reader.
 */

/** A fenced code block. */
export interface CodeBlock {
  /** The info string's first word, e.g. "sh", "ts"; "" when none. */
  readonly lang: string;
  /** 1-based line number of the block's first content line in the file. */
  readonly line: number;
  readonly lines: readonly string[];
}

/** A line of the file with its 1-based number. */
export interface NumberedLine {
  readonly line: number;
  readonly text: string;
}

/** A shell command of a block and the output its comment lines show. */
export interface ShellCommand {
  /** 1-based line number of its first line in the file. */
  readonly line: number;
  /** The command as written, continuation lines included (joined with "\n"). */
  readonly text: string;
  /** The comment lines right below it, without the leading "# ". */
  readonly expected: readonly NumberedLine[];
}

/** The fenced code blocks (```) of a Markdown text, in order. Throws on an unclosed fence. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```\s*([\w-]*)/.exec(lines[i] ?? "");
    if (open === null) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? "")) end++;
    if (end >= lines.length) throw new Error(`line ${i + 1}: code block is never closed`);
    blocks.push({ lang: open[1] ?? "", line: start + 1, lines: lines.slice(start, end) });
    i = end;
  }
  return blocks;
}

/** What {@link scanShell} reports as it goes. */
export interface ShellScanVisitor {
  /** A `$` that bash would expand (outside single quotes), at this offset. */
  readonly onDollar?: (offset: number) => void;
  /** A comment from `start` to `end` (exclusive: the newline or the end of the text). */
  readonly onComment?: (start: number, end: number) => void;
}

/** Where a shell scan stands at the end of a text: inside a quote, after a `\` continuation. */
interface ScanState {
  readonly quote: "'" | '"' | undefined;
  readonly continued: boolean;
}

/**
 * Scans shell text the way bash reads quotes: single quotes take everything literally, double
 * quotes and bare words honour `\`, and `#` at the start of a word outside quotes starts a comment.
 * Tells `visit` where the expansions and comments are.
 */
export function scanShell(text: string, visit: ShellScanVisitor = {}): ScanState {
  let quote: "'" | '"' | undefined;
  let continued = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    continued = false;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      continue;
    }
    if (c === "\\") {
      // A backslash escapes the next character; as the last character it continues the line.
      continued = i === text.length - 1;
      i++;
      continue;
    }
    if (c === "$") visit.onDollar?.(i);
    if (quote === '"') {
      if (c === '"') quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1] ?? ""))) {
      const newline = text.indexOf("\n", i);
      visit.onComment?.(i, newline < 0 ? text.length : newline);
      if (newline < 0) break;
      i = newline - 1;
    }
  }
  return { quote, continued };
}

/**
 * The commands of a shell block, each with the comment lines right below it. Throws naming the
 * line when a quote or a `\` continuation is still open at the end of the block.
 */
export function shellCommands(block: CodeBlock): ShellCommand[] {
  const commands: { line: number; text: string; expected: NumberedLine[] }[] = [];
  let current: { line: number; lines: string[] } | undefined;
  let last: { expected: NumberedLine[] } | undefined;
  for (const [i, raw] of block.lines.entries()) {
    const line = block.line + i;
    if (current !== undefined) {
      current.lines.push(raw);
    } else if (raw.trim() === "") {
      last = undefined;
      continue;
    } else if (raw.trimStart().startsWith("#")) {
      last?.expected.push({ line, text: raw.trimStart().replace(/^#\s?/, "") });
      continue;
    } else {
      current = { line, lines: [raw] };
    }
    const text = current.lines.join("\n");
    const state = scanShell(text);
    if (state.quote === undefined && !state.continued) {
      const command = { line: current.line, text, expected: [] };
      commands.push(command);
      last = command;
      current = undefined;
    }
  }
  if (current !== undefined) {
    throw new Error(`README.md:${current.line}: the command's quote or \\ continuation is never closed`);
  }
  return commands;
}

/** The names of the variables a command expands (`$NAME`, `${NAME}`), outside single quotes. */
export function expandedVariables(text: string): string[] {
  const names: string[] = [];
  scanShell(text, {
    onDollar: (offset) => {
      const m = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(offset));
      if (m?.[1] !== undefined) names.push(m[1]);
    },
  });
  return names;
}

/** The command without its comments (`ls   # lists` -> `ls`), trailing spaces of each line trimmed. */
export function withoutComments(text: string): string {
  const comments: [number, number][] = [];
  scanShell(text, { onComment: (start, end) => comments.push([start, end]) });
  let out = text;
  for (const [start, end] of comments.reverse()) out = out.slice(0, start) + out.slice(end);
  return out
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n");
}

/** The variable a command sets for the commands after it (`NAME=$(...)`, `NAME=value`), if it is such an assignment. */
export function assignedVariable(text: string): string | undefined {
  return /^([A-Za-z_][A-Za-z0-9_]*)=(?:\$\(|\S*$)/.exec(text)?.[1];
}

/** The shape a `# {...}` line shows: JSON where `...` stands for more. */
export type JsonShape =
  | { readonly kind: "any" }
  | { readonly kind: "object"; readonly members: ReadonlyMap<string, JsonShape>; readonly open: boolean }
  | { readonly kind: "array"; readonly items: readonly JsonShape[]; readonly open: boolean }
  | { readonly kind: "string" | "number" | "null" }
  | { readonly kind: "boolean"; readonly value: boolean };

/**
 * Parses JSON in which `...` may stand for more members of an object, more items of an array, or
 * any value. Strings and numbers keep only their type: ids, times and scores differ between runs.
 */
export function parseJsonShape(text: string): JsonShape {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at position ${i} of ${text}`);
  };
  const skip = () => {
    while (i < text.length && /\s/.test(text[i] ?? "")) i++;
  };
  const ellipsis = () => {
    skip();
    if (text.startsWith("...", i)) {
      i += 3;
      return true;
    }
    return false;
  };
  const expect = (c: string) => {
    skip();
    if (text[i] !== c) fail(`expected "${c}"`);
    i++;
  };
  const stringLiteral = (): string => {
    skip();
    const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
    if (m === null) return fail("expected a string");
    i += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const value = (): JsonShape => {
    if (ellipsis()) return { kind: "any" };
    skip();
    const c = text[i];
    if (c === "{") {
      i++;
      const members = new Map<string, JsonShape>();
      let open = false;
      skip();
      if (text[i] === "}") {
        i++;
        return { kind: "object", members, open };
      }
      for (;;) {
        if (ellipsis()) open = true;
        else {
          const key = stringLiteral();
          expect(":");
          members.set(key, value());
        }
        skip();
        if (text[i] === ",") i++;
        else break;
      }
      expect("}");
      return { kind: "object", members, open };
    }
    if (c === "[") {
      i++;
      const items: JsonShape[] = [];
      let open = false;
      skip();
      if (text[i] === "]") {
        i++;
        return { kind: "array", items, open };
      }
      for (;;) {
        if (ellipsis()) open = true;
        else items.push(value());
        skip();
        if (text[i] === ",") i++;
        else break;
      }
      expect("]");
      return { kind: "array", items, open };
    }
    if (c === '"') {
      stringLiteral();
      return { kind: "string" };
    }
    for (const [word, shape] of [
      ["true", { kind: "boolean", value: true }],
      ["false", { kind: "boolean", value: false }],
      ["null", { kind: "null" }],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return shape;
      }
    }
    const number = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(text.slice(i));
    if (number === null) return fail("expected a value");
    i += number[0].length;
    return { kind: "number" };
  };
  const shape = value();
  skip();
  if (i !== text.length) fail("unexpected text");
  return shape;
}

/** How `actual` (parsed JSON) differs from `shape`: one line per difference, empty when it matches. */
export function shapeMismatches(actual: unknown, shape: JsonShape, at = "$"): string[] {
  const kindOf = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
  switch (shape.kind) {
    case "any":
      return [];
    case "object": {
      if (kindOf(actual) !== "object") return [`${at}: expected an object, got ${JSON.stringify(actual)}`];
      const obj = actual as Record<string, unknown>;
      const out: string[] = [];
      for (const [key, member] of shape.members) {
        if (!(key in obj)) out.push(`${at}.${key}: missing`);
        else out.push(...shapeMismatches(obj[key], member, `${at}.${key}`));
      }
      if (!shape.open) {
        for (const key of Object.keys(obj))
          if (!shape.members.has(key)) out.push(`${at}.${key}: not shown in the README`);
      }
      return out;
    }
    case "array": {
      if (!Array.isArray(actual)) return [`${at}: expected an array, got ${JSON.stringify(actual)}`];
      const enough = shape.open ? actual.length >= shape.items.length : actual.length === shape.items.length;
      if (!enough)
        return [`${at}: expected ${shape.open ? "at least " : ""}${shape.items.length} items, got ${actual.length}`];
      return shape.items.flatMap((item, n) => shapeMismatches(actual[n], item, `${at}[${n}]`));
    }
    case "boolean":
      return actual === shape.value ? [] : [`${at}: expected ${shape.value}, got ${JSON.stringify(actual)}`];
    default:
      return kindOf(actual) === shape.kind ? [] : [`${at}: expected a ${shape.kind}, got ${JSON.stringify(actual)}`];
  }
}

/**
 * The pattern a text output line shows: the line with `...` standing for anything, each number for
 * any number and each run of spaces for any spacing; matched against a whole line.
 */
export function textLinePattern(shown: string): RegExp {
  const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const part = (s: string) =>
    s
      .split(/(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|\s+)/)
      .map((token, n) => {
        if (n % 2 === 0) return literal(token);
        return /^\s+$/.test(token) ? "\\s+" : "-?\\d+(?:\\.\\d+)?(?:e[-+]?\\d+)?";
      })
      .join("");
  return new RegExp(`^${shown.trim().split("...").map(part).join(".*")}$`);
}

/**
 * The JSON value a command printed: its whole output, or else the output from the first line that
 * starts with `{` or `[` (after lines such as npm's `> mlpipe@0.1.0 train`); undefined when none parses.
 */
export function printedJson(stdout: string): unknown {
  const lines = stdout.split("\n");
  for (let n = 0; n < lines.length; n++) {
    if (n > 0 && !/^[[{]/.test(lines[n] ?? "")) continue;
    try {
      return JSON.parse(lines.slice(n).join("\n")) as unknown;
    } catch {
      // not JSON from here; try the next candidate line
    }
  }
  return undefined;
}

/** Whether a printed JSON value is an error answer: Connect's `{"code","message"}` or the JSON routes' `{"error":{...}}`. */
export function isErrorAnswer(json: unknown): boolean {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return false;
  const o = json as Record<string, unknown>;
  return (
    (typeof o.code === "string" && typeof o.message === "string") || (typeof o.error === "object" && o.error !== null)
  );
}

/**
 * How a command's output differs from the output lines shown below it in the README: one message
 * per difference naming the README line, empty when it matches (or when nothing is shown).
 */
export function outputMismatches(stdout: string, expected: readonly NumberedLine[]): string[] {
  const out: string[] = [];
  const json = expected.filter((e) => /^[[{]/.test(e.text));
  const text = expected.filter((e) => !/^[[{]/.test(e.text));
  if (json.length > 0) {
    const printed = printedJson(stdout);
    for (const e of json) {
      if (printed === undefined) {
        out.push(`README.md:${e.line}: shows JSON, but the command printed none: ${stdout.slice(0, 500)}`);
        continue;
      }
      const differences = shapeMismatches(printed, parseJsonShape(e.text));
      if (differences.length > 0) {
        out.push(`README.md:${e.line}: the output differs from ${e.text}:\n  ${differences.join("\n  ")}`);
      }
    }
  }
  const lines = stdout.split("\n").map((l) => l.trimEnd());
  for (const e of text) {
    const pattern = textLinePattern(e.text);
    if (!lines.some((l) => pattern.test(l))) {
      out.push(`README.md:${e.line}: no output line looks like "${e.text}"; the output was:\n${stdout.slice(0, 2000)}`);
    }
  }
  return out;
}
