/**
 * The project's Dockerfile, parsed as Docker reads it: stages, instructions, ENV, COPY, RUN,
 * HEALTHCHECK; a COPY emulated into a folder, to run the stages' RUN steps outside Docker; and
 * .dockerignore's patterns with Docker's rules.
 */
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { read, root } from './deploy-files';

// ---------------------------------------------------------------------------------------------
// The Dockerfile, parsed: stages, instructions, ENV, COPY, RUN, HEALTHCHECK.

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

function dockerInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i] ?? '';
    if (first.trim() === '' || first.trimStart().startsWith('#')) continue;
    let joined = first;
    const start = i + 1;
    // Continuation lines; comment lines inside them are dropped, as Docker does.
    while (joined.trimEnd().endsWith('\\') && i + 1 < lines.length) {
      joined = joined.trimEnd().slice(0, -1);
      i++;
      const next = lines[i] ?? '';
      if (next.trimStart().startsWith('#')) {
        joined += ' \\';
        continue;
      }
      joined += ` ${next.trim()}`;
    }
    const match = /^\s*(\w+)\s+([\s\S]*)$/.exec(joined);
    assert.ok(match?.[1] && match[2] !== undefined, `Dockerfile line ${start}: cannot read "${joined}"`);
    out.push({ keyword: match[1].toUpperCase(), args: match[2].trim(), line: start });
  }
  return out;
}

function dockerStages(instructions: Instruction[]): { globalArgs: Record<string, string>; stages: Stage[] } {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      assert.ok(match?.[1], `FROM at line ${ins.line}`);
      const image = match[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a?: string, b?: string) => globalArgs[a ?? b ?? ''] ?? '');
      stages.push({ name: match[2] ?? String(stages.length), image, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [name, value] = ins.args.split('=');
        if (name) globalArgs[name] = value ?? '';
      }
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** `--flag=value` options in front of an instruction's arguments, and the rest. */
export function flagsOf(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const match = /^--([\w-]+)=(\S+)\s+/.exec(rest);
    if (!match?.[1]) return { flags, rest };
    flags[match[1]] = match[2] ?? '';
    rest = rest.slice(match[0].length);
  }
}

export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    for (const pair of ins.args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      assert.ok(eq > 0, `ENV at line ${ins.line}: use KEY=value, not "${pair}"`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

export interface Copy {
  from?: string;
  chmod?: string;
  sources: string[];
  dest: string;
}

export function copiesOf(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((ins) => {
      const { flags, rest } = flagsOf(ins.args);
      const parts = rest.split(/\s+/);
      const dest = parts.pop();
      assert.ok(dest && parts.length > 0, `COPY at line ${ins.line}`);
      return { from: flags.from, chmod: flags.chmod, sources: parts, dest };
    });
}

export function runsOf(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === 'RUN').map((ins) => flagsOf(ins.args).rest);
}

export function workdirOf(stage: Stage): string {
  const workdirs = stage.instructions.filter((i) => i.keyword === 'WORKDIR');
  assert.equal(workdirs.length, 1, `stage ${stage.name}: one WORKDIR`);
  return workdirs[0]?.args ?? '/';
}

export const dockerfile = dockerStages(dockerInstructions(read('Dockerfile')));
const buildStage = dockerfile.stages.find((s) => s.name === 'build');
const runtimeStage = dockerfile.stages.at(-1);

export function stages(): { build: Stage; runtime: Stage } {
  assert.ok(buildStage && runtimeStage && buildStage !== runtimeStage, 'a `build` stage and a final runtime stage');
  return { build: buildStage, runtime: runtimeStage };
}

export function healthcheckOf(stage: Stage): { options: Record<string, string>; command: string[] } {
  const checks = stage.instructions.filter((i) => i.keyword === 'HEALTHCHECK');
  assert.equal(checks.length, 1, 'one HEALTHCHECK');
  const { flags, rest } = flagsOf(checks[0]?.args ?? '');
  assert.match(rest, /^CMD\s+\[/, 'HEALTHCHECK CMD in exec form');
  const command = JSON.parse(rest.replace(/^CMD\s+/, '')) as string[];
  return { options: flags, command };
}

/** Where a path of the image (under WORKDIR) lands in an emulated copy at `dir`. */
export function inCopy(dir: string, workdir: string, imagePath: string): string {
  const absolute = posix.resolve(workdir, imagePath);
  assert.ok(absolute === workdir || absolute.startsWith(`${workdir}/`), `${imagePath} is outside WORKDIR ${workdir}`);
  return join(dir, posix.relative(workdir, absolute));
}

/** COPY into an emulated stage: from the build context (the repository) or from an earlier stage's copy. */
export function emulateCopy(copy: Copy, dir: string, workdir: string, stageDirs: Record<string, { dir: string; workdir: string }>): void {
  for (const source of copy.sources) {
    const from = copy.from ? stageDirs[copy.from] : undefined;
    if (copy.from) assert.ok(from, `COPY --from=${copy.from}: no such stage`);
    const src = from ? inCopy(from.dir, from.workdir, source) : join(root, source);
    assert.ok(existsSync(src), `COPY source ${source} does not exist (${src})`);
    const intoDir = copy.dest.endsWith('/') || copy.sources.length > 1;
    const target =
      intoDir && statSync(src).isFile() ? join(inCopy(dir, workdir, copy.dest), basename(source)) : inCopy(dir, workdir, copy.dest);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(src, target, { recursive: true });
    if (copy.chmod) chmodSync(target, parseInt(copy.chmod, 8));
  }
}

// ---------------------------------------------------------------------------------------------
// .dockerignore, with Docker's rules: last match wins, a pattern also matches a path's parents.

export function dockerignored(path: string, patterns: string[]): boolean {
  const regex = (pattern: string): RegExp => {
    let re = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i] ?? '';
      if (c === '*' && pattern[i + 1] === '*') {
        re += '.*';
        i++;
        if (pattern[i + 1] === '/') i++;
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${re}$`);
  };
  const parts = path.split('/');
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = posix.normalize(negate ? raw.slice(1) : raw).replace(/^\/|\/$/g, '');
    const re = regex(pattern);
    if (parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')))) ignored = !negate;
  }
  return ignored;
}

export function filesUnder(path: string): string[] {
  const full = join(root, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).flatMap((name) => filesUnder(posix.join(path, name)));
}
