/**
 * The docs stay true to the code (issue 33): every relative link of README.md and docs/*.md
 * resolves (file and #anchor), every config key of the schema is in docs/configuration.md, every
 * env var the code reads is somewhere in docs/, every CLI command and long option is in
 * docs/cli.md, and the README stays short and carries CI's test command verbatim.
 *
 * No server, no child process: the lists come from the code itself (the schema's CONFIG_KEYS, the
 * CLI's commander program, the text of src/), so a new key, variable or option fails here until
 * it is documented. Paths are found from the repository root, wherever this file is compiled to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { CONFIG_KEYS } from '../../src/shared/config';
import { CONFIG_ENV_VARS, CONFIG_FILE_ENV } from '../../src/cli/config-env';
import { buildProgram } from '../../src/cli/main';

/** The folder holding package.json, walking up from this file (dist/test/unit/ today). */
function repositoryRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${__dirname}`);
}

const ROOT = repositoryRoot();
const README = join(ROOT, 'README.md');
const DOCS = join(ROOT, 'docs');
const README_MAX_LINES = 300;

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

function markdownFiles(): string[] {
  const docs = readdirSync(DOCS)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join(DOCS, name));
  return [README, ...docs];
}

function allDocsText(): string {
  return markdownFiles()
    .filter((path) => path !== README)
    .map(read)
    .join('\n');
}

/** The lines of a Markdown text outside fenced code blocks, with their 1-based line numbers. */
function proseLines(text: string): { line: string; number: number }[] {
  const out: { line: string; number: number }[] = [];
  let fence: string | null = null;
  text.split('\n').forEach((line, index) => {
    const opening = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (opening) {
      const marker = opening[1] as string;
      if (fence === null) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = null;
      return;
    }
    if (fence === null) out.push({ line, number: index + 1 });
  });
  return out;
}

/** GitHub's anchor of a heading: lowercase, punctuation but - and _ dropped, each space a -. */
function slugOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings, duplicates numbered -1, -2 as GitHub does. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { line } of proseLines(text)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)(\s+#+)?\s*$/.exec(line);
    if (!heading) continue;
    const base = slugOf(heading[1] as string);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

/** Inline links and images outside code (fenced blocks and code spans). */
function linksOf(file: string): Link[] {
  const links: Link[] = [];
  for (const { line, number } of proseLines(read(file))) {
    const withoutCode = line.replace(/(`+)[^`]*?\1/g, '');
    for (const match of withoutCode.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ file, line: number, target: match[1] as string });
    }
  }
  return links;
}

function where(link: Link): string {
  return `${relative(ROOT, link.file)}:${link.line}`;
}

test('every relative link in README.md and docs/*.md resolves, anchors included', (t) => {
  const problems: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  let checked = 0;
  for (const file of markdownFiles()) {
    for (const link of linksOf(file)) {
      if (/^(https?:|mailto:)/i.test(link.target)) continue;
      checked += 1;
      const hash = link.target.indexOf('#');
      const pathPart = hash === -1 ? link.target : link.target.slice(0, hash);
      const anchor = hash === -1 ? null : decodeURIComponent(link.target.slice(hash + 1));
      const target = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
      if (!existsSync(target)) {
        problems.push(`${where(link)}: ${link.target}: no file ${relative(ROOT, target)}`);
        continue;
      }
      if (anchor === null || !target.endsWith('.md')) continue;
      let anchors = anchorCache.get(target);
      if (!anchors) {
        anchors = anchorsOf(read(target));
        anchorCache.set(target, anchors);
      }
      if (!anchors.has(anchor)) problems.push(`${where(link)}: ${link.target}: no heading #${anchor} in ${relative(ROOT, target)}`);
    }
  }
  t.diagnostic(`links checked: ${checked} in ${markdownFiles().length} files`);
  assert.ok(checked > 0, 'no relative link found: the link reader is broken');
  assert.deepEqual(problems, [], `broken links:\n${problems.join('\n')}`);
});

test('every config key of the schema is in docs/configuration.md', (t) => {
  const text = read(join(DOCS, 'configuration.md'));
  const missing = CONFIG_KEYS.filter((key) => !text.includes(`\`${key}\``));
  t.diagnostic(`config keys: ${CONFIG_KEYS.length}`);
  assert.ok(CONFIG_KEYS.length > 0, 'the schema lists no key');
  assert.deepEqual(missing, [], `config keys missing from docs/configuration.md (as \`key\`): ${missing.join(', ')}`);
});

/** Every .ts file under a folder. */
function typescriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return typescriptFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Variables every process has, which the code may read but the docs need not explain. None is read
 * by src/ today; the list says what would be left out if one were.
 */
const GENERIC_ENV_VARS = new Set(['HOME', 'PATH', 'NODE_ENV', 'NODE_OPTIONS', 'TERM', 'USER', 'SHELL', 'TMPDIR']);

/** What reads an env var in src/: `process.env.X`, `env.X`, `env['X']`, and the helpers that take its name. */
const ENV_READS = [
  /\benv\.([A-Z][A-Z0-9_]*[A-Z0-9])\b/g,
  /\benv\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g,
  // lib/env.ts envBoolean(env, 'NAME', fallback); toolchain/binaries.ts binary('NAME', ...).
  /\benvBoolean\(\s*[\w.]+\s*,\s*['"]([A-Z][A-Z0-9_]*)['"]/g,
  /\bbinary\(\s*['"]([A-Z][A-Z0-9_]*)['"]/g,
];

function envVarsReadBySource(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of typescriptFiles(join(ROOT, 'src'))) {
    const text = read(file);
    for (const pattern of ENV_READS) {
      for (const match of text.matchAll(pattern)) {
        const name = match[1] as string;
        if (!found.has(name)) found.set(name, relative(ROOT, file));
      }
    }
  }
  return found;
}

test('every env var the code reads is in docs/', (t) => {
  const sources = new Map<string, string>();
  for (const name of Object.values(CONFIG_ENV_VARS)) sources.set(name, 'CONFIG_ENV_VARS (src/cli/config-env.ts)');
  sources.set(CONFIG_FILE_ENV, 'CONFIG_FILE_ENV (src/cli/config-env.ts)');
  for (const [name, file] of envVarsReadBySource()) if (!sources.has(name)) sources.set(name, file);
  for (const name of GENERIC_ENV_VARS) sources.delete(name);
  const docs = allDocsText();
  const missing = [...sources]
    .filter(([name]) => !new RegExp(`\\b${name}\\b`).test(docs))
    .map(([name, from]) => `${name} (read in ${from})`);
  t.diagnostic(
    `env vars: ${sources.size} (${Object.keys(CONFIG_ENV_VARS).length} config, ${sources.size - Object.keys(CONFIG_ENV_VARS).length} others)`,
  );
  assert.ok(sources.has('TEMPORAL_ADDRESS') && sources.has('MTF_API_TOKEN'), 'the source scan found too little: the patterns are broken');
  assert.deepEqual(missing, [], `env vars missing from docs/*.md:\n${missing.join('\n')}`);
});

/** Every command under the program, with its full name (`parent child` for a subcommand). */
function commandsOf(command: Command, prefix = ''): { name: string; command: Command }[] {
  return command.commands.flatMap((sub) => {
    const name = `${prefix}${sub.name()}`;
    return [{ name, command: sub }, ...commandsOf(sub, `${name} `)];
  });
}

/** The text of docs/cli.md under the heading that names the command in a code span, to the next heading as high. */
function sectionOf(text: string, name: string): string | null {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => new RegExp(`^#{2,6}\\s.*\`${name}\``).test(line));
  if (start === -1) return null;
  const level = /^#+/.exec(lines[start] as string)?.[0].length ?? 2;
  const end = lines.findIndex((line, index) => index > start && /^#{1,6}\s/.test(line) && (/^#+/.exec(line)?.[0].length ?? 7) <= level);
  return lines.slice(start, end === -1 ? undefined : end).join('\n');
}

test('every CLI command and long option is in docs/cli.md', (t) => {
  const text = read(join(DOCS, 'cli.md'));
  // Options many commands share (--address, --namespace) are documented once, before the first section.
  const intro = text.split(/\n## /)[0] ?? '';
  const commands = commandsOf(buildProgram());
  const problems: string[] = [];
  let options = 0;
  for (const { name, command } of commands) {
    const section = sectionOf(text, name);
    if (section === null) {
      problems.push(`command \`${name}\`: no heading naming it in docs/cli.md`);
      continue;
    }
    for (const option of command.options) {
      if (!option.long) continue;
      options += 1;
      const flag = new RegExp(`${option.long.replace(/[-]/g, '\\-')}(?![a-z0-9-])`);
      if (!flag.test(section) && !flag.test(intro))
        problems.push(`command \`${name}\`: option ${option.long} not in its section of docs/cli.md`);
    }
  }
  t.diagnostic(`commands: ${commands.length}, options: ${options}`);
  assert.ok(commands.length > 0, 'the program has no command');
  assert.deepEqual(problems, [], `undocumented CLI:\n${problems.join('\n')}`);
});

test("the README is at most 300 lines and carries .ci/run's test command verbatim", (t) => {
  const readme = read(README);
  const lines = readme.endsWith('\n') ? readme.slice(0, -1).split('\n') : readme.split('\n');
  const ci = read(join(ROOT, '.ci', 'run'));
  // .ci/run runs the command in steps timed apart, one line each (`npm test && … || status=$?`):
  // each step is what comes before the status capture, and the steps joined by && are the command.
  const steps = ci
    .split('\n')
    .map((line) => line.replace(/\s*\|\|\s*status=.*$/, '').trim())
    .filter((line) => /^npm (test|run test)\b/.test(line));
  const command = steps.join(' && ');
  t.diagnostic(`README lines: ${lines.length} of ${README_MAX_LINES}; .ci/run test steps: ${steps.length}`);
  assert.ok(lines.length <= README_MAX_LINES, `README.md has ${lines.length} lines, more than ${README_MAX_LINES}: move detail to docs/`);
  assert.ok(steps.length > 0, '.ci/run has no npm test line');
  assert.ok(
    readme.split('\n').some((line) => line === command || line.startsWith(`${command} `)),
    `README.md does not carry .ci/run's test command as a line of its own: ${command}`,
  );
});
