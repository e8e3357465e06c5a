/**
 * The documentation stays in step with the code it describes:
 *
 * - every flag table lists exactly the flags the command's `--help` prints,
 *   with the same short forms, the same repeatable flags, and the same
 *   defaults where they are values;
 * - the table of failure codes in docs/protocol.md follows
 *   `lib/wire/protocol.ts`, code by code and text by text;
 * - README's two commands are the ones CI runs;
 * - every file path and relative link in README.md and docs/ exists.
 *
 * A flag table is the Markdown table right after a `<!-- flags: NAME -->`
 * comment, NAME a key of {@linkcode COMMANDS}; its columns are `flag`,
 * `default` and `meaning`. Adding a flag to a command means adding a row to
 * its table, and this test says which row is missing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type FlagSpec, usage } from "../lib/util/cli.ts";
import { CODIGOS, TEXTOS } from "../lib/wire/protocol.ts";
import { ROOT, runScript } from "./helpers.ts";

/** Each documented command: the script whose `--help` is the truth, and its table's file. */
const COMMANDS: Record<string, { script: string; doc: string }> = {
  server: { script: "server.ts", doc: "README.md" },
  client: { script: "client.ts", doc: "README.md" },
  load: { script: "tools/load/main.ts", doc: "docs/tools.md" },
  bench: { script: "tools/bench/main.ts", doc: "docs/tools.md" },
  soak: { script: "tools/soak/main.ts", doc: "docs/tools.md" },
  compile: { script: "tools/compile/main.ts", doc: "docs/install.md" },
};

/** README.md and every file in docs/, by path from the root. */
function documents(): Map<string, string> {
  const docs = new Map([["README.md", read("README.md")]]);
  for (const entry of Deno.readDirSync(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) {
      docs.set(`docs/${entry.name}`, read(`docs/${entry.name}`));
    }
  }
  return docs;
}

function read(path: string): string {
  return Deno.readTextFileSync(new URL(path, ROOT));
}

// ── --help ──────────────────────────────────────────────────────────────────

/** One flag as `--help` shows it. */
interface HelpFlag {
  name: string;
  short: string | undefined;
  multiple: boolean;
  default: string | undefined;
}

/** The flags in a help text written by `usage()` (lib/util/cli.ts). */
function helpFlags(help: string): HelpFlag[] {
  const flags: HelpFlag[] = [];
  for (const line of help.split("\n")) {
    const match = line.match(/^ {2}(?:-(\w), | {4})--([a-z][a-z0-9-]*)(?: \S+)? {2,}(.*)$/);
    if (!match) continue;
    const [, short, name = "", description = ""] = match;
    flags.push({
      name,
      short,
      multiple: /\(repetible[;)]/.test(description),
      default: description.match(/por defecto: (.*)\)$/)?.[1],
    });
  }
  return flags;
}

Deno.test("the help parser reads back every flag usage() writes", () => {
  const specs: FlagSpec[] = [
    { name: "host", type: "string", multiple: true, placeholder: "DIR", description: "a (b)" },
    {
      name: "port",
      type: "string",
      short: "p",
      placeholder: "N",
      default: "8888",
      description: "x",
    },
    { name: "long", type: "string", default: "10 (5 con --quick)", description: "y" },
    { name: "help", type: "boolean", short: "h", description: "z" },
  ];
  assert.deepEqual(helpFlags(usage("cmd", "summary", specs)), [
    { name: "host", short: undefined, multiple: true, default: undefined },
    { name: "port", short: "p", multiple: false, default: "8888" },
    { name: "long", short: undefined, multiple: false, default: "10 (5 con --quick)" },
    { name: "help", short: "h", multiple: false, default: undefined },
  ]);
});

// ── Markdown tables ─────────────────────────────────────────────────────────

/** The cells of a Markdown table row; `\|` inside a cell is not a separator. */
function cells(row: string): string[] {
  return row.trim().replace(/^\|/, "").replace(/\|$/, "").split(/(?<!\\)\|/).map((c) => c.trim());
}

/** The header and rows (as cells) of the Markdown table right after the line `marker`. */
function tableAfter(markdown: string, marker: string): { header: string[]; rows: string[][] } {
  const lines = markdown.split("\n");
  const at = lines.findIndex((line) => line.trim() === marker);
  assert.notEqual(at, -1, `${marker} not found`);
  const table = [];
  let i = at + 1;
  while (lines[i]?.trim() === "") i++;
  while (lines[i]?.trimStart().startsWith("|")) table.push(lines[i++]!);
  assert.ok(table.length >= 2, `no table after ${marker}`);
  return { header: cells(table[0]!), rows: table.slice(2).map(cells) };
}

/** One row of a flag table: the flags it names (name → short form) and its default cell. */
interface DocRow {
  flags: Map<string, string | undefined>;
  repeat: boolean;
  default: string;
}

function flagTable(markdown: string, command: string): DocRow[] {
  const { header, rows } = tableAfter(markdown, `<!-- flags: ${command} -->`);
  assert.deepEqual(header, ["flag", "default", "meaning"], `${command}: the table's columns`);
  return rows.map(([flag = "", defaultCell = ""]) => ({
    flags: new Map(
      [...flag.matchAll(/(?:-([a-zA-Z]), )?--([a-z][a-z0-9-]*)/g)].map((m) => [m[2]!, m[1]]),
    ),
    repeat: flag.includes("(repeat)"),
    default: defaultCell,
  }));
}

/**
 * The part of a default `--help` shows that docs must quote verbatim: its
 * first word, when that is a value (a number, an address, a file name) rather
 * than Spanish prose such as "se pregunta en una terminal".
 */
function literalDefault(text: string | undefined): string | undefined {
  const first = text?.split(/[\s,]/)[0];
  return first && /[\d.]/.test(first) ? first : undefined;
}

for (const [command, { script, doc }] of Object.entries(COMMANDS)) {
  Deno.test(`the ${command} flag table in ${doc} lists exactly what ${script} --help prints`, async () => {
    const result = await runScript(script, ["--help"], ["-A"]);
    assert.equal(result.code, 0, result.stderr);
    const help = helpFlags(result.stdout);
    assert.ok(help.some((flag) => flag.name === "help"), `no flags read from:\n${result.stdout}`);
    const rows = flagTable(read(doc), command);
    const documented = rows.flatMap((row) => [...row.flags.keys()]);

    const missing = help.map((f) => f.name).filter((name) => !documented.includes(name));
    const extra = documented.filter((name) => !help.some((f) => f.name === name));
    assert.deepEqual(missing, [], `${doc}: add a row to the ${command} table for each of these`);
    assert.deepEqual(extra, [], `${doc}: the ${command} table documents flags that do not exist`);
    assert.equal(new Set(documented).size, documented.length, `${doc}: a flag documented twice`);

    for (const flag of help) {
      const row = rows.find((r) => r.flags.has(flag.name))!;
      const where = `${doc}, ${command} --${flag.name}`;
      assert.equal(row.flags.get(flag.name), flag.short, `${where}: short form`);
      assert.equal(row.repeat, flag.multiple, `${where}: "(repeat)" iff --help says repetible`);
      if (flag.default === undefined) {
        assert.equal(row.default, "", `${where}: --help shows no default`);
        continue;
      }
      assert.notEqual(row.default, "", `${where}: --help shows the default ${flag.default}`);
      const literal = literalDefault(flag.default);
      if (literal) {
        assert.ok(row.default.includes(`\`${literal}\``), `${where}: default ${literal}`);
      }
    }
  });
}

Deno.test("every flag table in README.md and docs/ is one this test checks", () => {
  const seen: string[] = [];
  for (const [path, markdown] of documents()) {
    const lines = markdown.split("\n");
    lines.forEach((line, i) => {
      const marker = line.match(/^<!-- flags: (\S+) -->$/);
      if (marker) {
        assert.ok(marker[1]! in COMMANDS, `${path}: unknown command ${marker[1]}`);
        assert.equal(COMMANDS[marker[1]!]!.doc, path, `${path}: the ${marker[1]} table's file`);
        seen.push(marker[1]!);
      }
      if (/^\|\s*flag\s*\|/.test(line)) {
        const before = lines.slice(0, i).reverse().find((l) => l.trim() !== "");
        assert.match(
          before ?? "",
          /^<!-- flags: \S+ -->$/,
          `${path}:${i + 1}: unmarked flag table`,
        );
      }
    });
  }
  assert.deepEqual(seen.toSorted(), Object.keys(COMMANDS).toSorted());
});

// ── Failure codes ───────────────────────────────────────────────────────────

Deno.test("docs/protocol.md lists every failure code with its text, in the code's order", () => {
  const { header, rows } = tableAfter(read("docs/protocol.md"), "<!-- codigos -->");
  assert.equal(header[0], "`codigo`");
  assert.deepEqual(rows.map((row) => row[0]), CODIGOS.map((codigo) => `\`${codigo}\``));
  assert.deepEqual(rows.map((row) => row[1]), CODIGOS.map((codigo) => `\`${TEXTOS[codigo]}\``));
});

// ── Commands, paths and links ───────────────────────────────────────────────

Deno.test("README's test command is the one .ci/run runs, and the demo uses the same Deno", () => {
  const ci = read(".ci/run");
  const command = ci.match(/^(npx -y deno@(\S+) task test)\b/m);
  assert.ok(command, ".ci/run runs no `npx -y deno@VERSION task test`");
  assert.match(ci, new RegExp(`^DENO_VERSION=${command[2]!.replaceAll(".", "\\.")}$`, "m"));
  const readme = read("README.md");
  assert.ok(readme.includes(`\`${command[1]}\``), `README lacks \`${command[1]}\``);
  assert.ok(readme.includes(`\`npx -y deno@${command[2]} task demo\``), "README's demo command");
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").trim().replace(/\s/g, "-");
}

Deno.test("every file path and relative link in README.md and docs/ exists", () => {
  for (const [path, markdown] of documents()) {
    const base = new URL(path, ROOT);
    for (const [, target] of markdown.matchAll(/\]\(([^)#\s]+)?(#[^)\s]+)?\)/g)) {
      if (!target || /^[a-z]+:/.test(target)) continue;
      assert.ok(exists(new URL(target, base)), `${path}: link to ${target}`);
    }
    for (const [, target = path, hash] of markdown.matchAll(/\]\(([^)#\s]+)?#([^)\s]+)\)/g)) {
      const headings = read(new URL(target, base).pathname.slice(ROOT.pathname.length))
        .split("\n").filter((line) => line.startsWith("#"))
        .map((line) => anchor(line.replace(/^#+\s*/, "")));
      assert.ok(headings.includes(hash!), `${path}: no heading for #${hash} in ${target}`);
    }
    for (
      const [, file] of markdown.matchAll(/`((?:lib|tests|tools|docs)\/[\w./-]*|[\w-]+\.ts)`/g)
    ) {
      assert.ok(exists(new URL(file!, ROOT)), `${path}: \`${file}\` does not exist`);
    }
  }
});

function exists(url: URL): boolean {
  try {
    Deno.statSync(url);
    return true;
  } catch {
    return false;
  }
}
