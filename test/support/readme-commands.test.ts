/**
 * The README reader of test/readme.int.test.ts: blocks, commands, variables, and output checks
 * that must fail when the output does not look like what the README shows.
 */
import { describe, expect, it } from "vitest";
import {
  assignedVariable,
  codeBlocks,
  expandedVariables,
  isErrorAnswer,
  outputMismatches,
  parseJsonShape,
  shapeMismatches,
  shellCommands,
  textLinePattern,
  withoutComments,
} from "./readme-commands.js";

const markdown = [
  "# Title", // 1
  "", // 2
  "```sh", // 3
  "# prose first", // 4
  "curl -s localhost:5000/a \\", // 5
  "  -d '{", // 6
  `  "x": "it'\\''s # not a comment"}'`, // 7
  '# {"ok":true}', // 8
  "", // 9
  "# prose after a blank line", // 10
  "RUN_ID=$(node -p 'require(\"./run.json\").run.info.runId')", // 11
  `echo "$RUN_ID" \${OTHER} '$NOT_EXPANDED'   # says the id`, // 12
  "# 0f3c...", // 13
  "```", // 14
  "", // 15
  "```ts", // 16
  "const x = 1;", // 17
  "```", // 18
].join("\n");

describe("codeBlocks and shellCommands", () => {
  it("finds blocks with their language and first line, and commands with the output lines below them", () => {
    const blocks = codeBlocks(markdown);
    expect(blocks.map((b) => [b.lang, b.line, b.lines.length])).toEqual([
      ["sh", 4, 10],
      ["ts", 17, 1],
    ]);
    const [sh] = blocks;
    if (sh === undefined) throw new Error("no block");
    const commands = shellCommands(sh);
    expect(commands.map((c) => [c.line, c.expected])).toEqual([
      [5, [{ line: 8, text: '{"ok":true}' }]],
      [11, []],
      [12, [{ line: 13, text: "0f3c..." }]],
    ]);
    expect(commands[0]?.text.split("\n")).toHaveLength(3);
  });

  it("names the line of a command whose quote never closes, and of an unclosed block", () => {
    expect(() => shellCommands({ lang: "sh", line: 40, lines: ["echo ok", "curl -d '{", "}"] })).toThrow(
      "README.md:41: the command's quote or \\ continuation is never closed",
    );
    expect(() => shellCommands({ lang: "sh", line: 7, lines: ["ls \\"] })).toThrow(/README\.md:7: /);
    expect(() => codeBlocks("text\n```sh\nls\n")).toThrow("line 2: code block is never closed");
  });

  it("tells the variables a command expands from those it sets", () => {
    expect(expandedVariables(`echo "$RUN_ID" \${OTHER} '$NOT_EXPANDED' $(date) # $COMMENT`)).toEqual([
      "RUN_ID",
      "OTHER",
    ]);
    expect(expandedVariables(`-d '{"runId": "'"$RUN_ID"'"}'`)).toEqual(["RUN_ID"]);
    expect(withoutComments("npm start    # runs the platform\nls '#not' # gone")).toBe("npm start\nls '#not'");
    expect(assignedVariable("RUN_ID=$(node -p 1)")).toBe("RUN_ID");
    expect(assignedVariable("X=1")).toBe("X");
    expect(assignedVariable("MODEL_NAME=m npx mlpipe serve")).toBeUndefined();
    expect(assignedVariable("npx mlpipe models list")).toBeUndefined();
  });
});

describe("JSON shapes", () => {
  it("accepts the same keys and types, with ... for more", () => {
    const shape = parseJsonShape('{"a":"1","b":{"c":[1,...],...},"d":true,...}');
    expect(shapeMismatches({ a: "x", b: { c: [2, 3], more: 1 }, d: true, e: null }, shape)).toEqual([]);
    expect(shapeMismatches([{ p: 0 }, { p: 2 }], parseJsonShape('[{"p":0},{"p":2}]'))).toEqual([]);
    expect(shapeMismatches({ anything: [1] }, parseJsonShape('{"anything":...}'))).toEqual([]);
    expect(shapeMismatches({}, parseJsonShape("{}"))).toEqual([]);
  });

  it("reports missing and unshown keys, wrong types, booleans and array lengths", () => {
    expect(shapeMismatches({ a: 1, z: 2 }, parseJsonShape('{"a":"1","b":2}'))).toEqual([
      "$.a: expected a string, got 1",
      "$.b: missing",
      "$.z: not shown in the README",
    ]);
    expect(shapeMismatches({ d: false }, parseJsonShape('{"d":true}'))).toEqual(["$.d: expected true, got false"]);
    expect(shapeMismatches({ c: [1] }, parseJsonShape('{"c":[1,2]}'))).toEqual(["$.c: expected 2 items, got 1"]);
    expect(shapeMismatches({ c: [] }, parseJsonShape('{"c":[1,...]}'))).toEqual([
      "$.c: expected at least 1 items, got 0",
    ]);
    expect(shapeMismatches("x", parseJsonShape("{}"))).toEqual(['$: expected an object, got "x"']);
  });

  it("rejects text that is not JSON with ellipses", () => {
    expect(() => parseJsonShape('{"a":}')).toThrow(/expected a value at position 5/);
    expect(() => parseJsonShape('{"a":1} trailing')).toThrow(/unexpected text/);
  });
});

describe("outputs", () => {
  it("matches text lines with numbers and ... as wildcards", () => {
    const p = textLinePattern("prediction 0 (probability 0.995), model version 3");
    expect(p.test("prediction 2 (probability 0.93), model version 12")).toBe(true);
    expect(p.test("prediction 0 (probability 0.995), model version x")).toBe(false);
    expect(textLinePattern("downloaded model/ to .../iris-model").test("downloaded model/ to /tmp/a/iris-model")).toBe(
      true,
    );
    expect(textLinePattern("NAME  VERSION").test("NAME             VERSION")).toBe(true);
  });

  it("finds JSON after npm's header lines and reports a mismatch naming the README line", () => {
    const stdout = '\n> mlpipe@0.1.0 train\n> tsx training/train-iris.ts\n\n{"runId":"r","accuracy":0.97}\n';
    expect(outputMismatches(stdout, [{ line: 9, text: '{"runId":"...","accuracy":0.9}' }])).toEqual([]);
    expect(outputMismatches(stdout, [{ line: 9, text: '{"runId":"...","loss":0.1}' }])).toEqual([
      'README.md:9: the output differs from {"runId":"...","loss":0.1}:\n  $.loss: missing\n  $.accuracy: not shown in the README',
    ]);
    expect(outputMismatches("no json", [{ line: 3, text: "{}" }])[0]).toMatch(/^README\.md:3: shows JSON, but/);
    expect(outputMismatches("a\nb\n", [{ line: 4, text: "c" }])[0]).toMatch(
      /^README\.md:4: no output line looks like "c"/,
    );
  });

  it("recognises error answers of Connect and of the JSON routes", () => {
    expect(isErrorAnswer({ code: "not_found", message: "x" })).toBe(true);
    expect(isErrorAnswer({ error: { code: "invalid_argument" } })).toBe(true);
    expect(isErrorAnswer({ prediction: 0 })).toBe(false);
    expect(isErrorAnswer([1])).toBe(false);
  });
});
