import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * No Docker engine here: the Dockerfile's own steps are read from the file and replayed as
 * plain commands in a temporary directory per stage (the container's /app becomes
 * <stage>/app), so the test follows the Dockerfile when it changes.
 */

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  name: string;
  base: string;
  steps: Instruction[];
}

/** Instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') startLine = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const whole = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s+(.*)$/s.exec(whole);
    if (m === null) throw new Error(`Dockerfile line ${startLine}: cannot parse "${whole}"`);
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!, line: startLine });
  });
  return out;
}

function stagesOf(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (m === null) throw new Error(`Dockerfile line ${ins.line}: bad FROM`);
      stages.push({ base: m[1]!, name: m[2] ?? String(stages.length), steps: [] });
    } else {
      const current = stages[stages.length - 1];
      if (current === undefined) throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} before FROM`);
      current.steps.push(ins);
    }
  }
  return stages;
}

const jsonArray = (args: string): string[] => JSON.parse(args) as string[];

interface Built {
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  cmd?: string[];
  healthcheck?: string[];
  expose: string[];
  createdUsers: string[];
}

/** The container path `p` inside a stage's directory. */
const inStage = (root: string, workdir: string, p: string): string => (path.isAbsolute(p) ? path.join(root, p) : path.join(root, workdir, p));

async function replayStage(stage: Stage, dir: string, built: Map<string, Built>): Promise<Built> {
  const result: Built = { root: dir, workdir: '/', env: {}, expose: [], createdUsers: [] };
  for (const step of stage.steps) {
    const where = `Dockerfile line ${step.line} (${step.keyword} ${step.args})`;
    switch (step.keyword) {
      case 'WORKDIR':
        result.workdir = step.args;
        fs.mkdirSync(inStage(dir, '/', step.args), { recursive: true });
        break;
      case 'ENV': {
        const m = /^(\S+?)[= ](.*)$/.exec(step.args);
        if (m === null) throw new Error(`${where}: bad ENV`);
        result.env[m[1]!] = m[2]!;
        break;
      }
      case 'COPY': {
        const words = step.args.split(/\s+/);
        const from = words[0]!.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
        const dest = words.pop()!;
        const source = from === undefined ? undefined : built.get(from);
        if (from !== undefined && source === undefined) throw new Error(`${where}: no stage ${from}`);
        for (const src of words) {
          const origin = source === undefined ? path.join(REPO, src) : inStage(source.root, source.workdir, src);
          if (!fs.existsSync(origin)) throw new Error(`${where}: ${origin} does not exist`);
          const target = dest.endsWith('/') ? path.join(inStage(dir, result.workdir, dest), path.basename(src)) : inStage(dir, result.workdir, dest);
          fs.mkdirSync(path.dirname(target), { recursive: true });
          fs.cpSync(origin, target, { recursive: true });
        }
        break;
      }
      case 'RUN':
        // Creating OS users and /etc directories must not touch this machine: those parts are
        // checked for what they create; everything else (npm) runs for real.
        for (const part of step.args.split('&&').map((s) => s.trim())) {
          const user = /^useradd\s.*\s(\S+)$/.exec(part);
          if (user !== null) {
            result.createdUsers.push(user[1]!);
            continue;
          }
          if (/^groupadd\s/.test(part)) continue;
          const mkdir = /^mkdir -p (\/\S+)$/.exec(part);
          if (mkdir !== null) {
            fs.mkdirSync(path.join(dir, mkdir[1]!), { recursive: true });
            continue;
          }
          await run('sh', ['-c', part], {
            cwd: inStage(dir, '/', result.workdir),
            // The npm cache of this machine stands in for the registry where it can.
            env: { ...process.env, ...result.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
            maxBuffer: 32 * 1024 * 1024,
          }).catch((err: { stderr?: string; message: string }) => {
            throw new Error(`${where}: "${part}" failed: ${err.stderr ?? err.message}`);
          });
        }
        break;
      case 'USER':
        result.user = step.args;
        break;
      case 'EXPOSE':
        result.expose.push(...step.args.split(/\s+/));
        break;
      case 'HEALTHCHECK': {
        const m = /\bCMD\s+(\[.*\])$/.exec(step.args);
        if (m === null) throw new Error(`${where}: HEALTHCHECK without an exec-form CMD`);
        result.healthcheck = jsonArray(m[1]!);
        break;
      }
      case 'CMD':
        result.cmd = jsonArray(step.args);
        break;
      default:
        throw new Error(`${where}: the test does not know how to replay ${step.keyword}`);
    }
  }
  return result;
}

describe('Dockerfile, replayed step by step without Docker', () => {
  const dockerfile = fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
  const stages = stagesOf(parseDockerfile(dockerfile));
  let tmp: string;
  let final: Built;
  const built = new Map<string, Built>();

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dockerfile-test-'));
    for (const stage of stages) {
      const dir = path.join(tmp, stage.name);
      fs.mkdirSync(dir);
      built.set(stage.name, await replayStage(stage, dir, built));
    }
    final = built.get(stages[stages.length - 1]!.name)!;
  }, 600_000);

  afterAll(() => {
    if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('has a build stage and a final stage on node:20-bookworm-slim', () => {
    expect(stages.map((s) => s.base)).toEqual(['node:20-bookworm-slim', 'node:20-bookworm-slim']);
    expect(stages[0]!.name).toBe('build');
    const buildDist = path.join(built.get('build')!.root, 'app/dist/src/cli.js');
    expect(fs.existsSync(buildDist), buildDist).toBe(true);
  });

  it('ships the compiled router with runtime dependencies only', () => {
    const app = inStage(final.root, '/', final.workdir);
    expect(fs.existsSync(path.join(app, 'dist/src/cli.js'))).toBe(true);
    expect(fs.existsSync(path.join(app, 'dist/src/admin/status-page.js'))).toBe(true);
    for (const runtime of ['prom-client', 'pino', 'etcd3', 'pg-protocol', 'yaml', 'zod', 'undici']) {
      expect(fs.existsSync(path.join(app, 'node_modules', runtime)), `${runtime} missing`).toBe(true);
    }
    // (@types/node stays: protobufjs, under etcd3, lists it as a dependency.)
    for (const dev of ['vitest', 'typescript', '@types/pg', 'pg', 'playwright-core']) {
      expect(fs.existsSync(path.join(app, 'node_modules', dev)), `dev dependency ${dev} shipped`).toBe(false);
    }
    expect(fs.existsSync(path.join(app, 'src')), 'TypeScript sources shipped').toBe(false);
  });

  it('runs its CMD entry point: --help and check-config on the example configuration', async () => {
    expect(final.cmd).toEqual(['node', 'dist/src/cli.js', '--config', '/etc/patroni-router/router.yml']);
    const [node, entry] = final.cmd!;
    const cwd = inStage(final.root, '/', final.workdir);
    const env = { ...process.env, ...final.env };
    const help = await run(node!, [entry!, '--help'], { cwd, env });
    expect(help.stdout).toContain('usage:');
    const check = await run(node!, [entry!, 'check-config', path.join(REPO, 'config/example.yml')], { cwd, env });
    expect(check.stdout).toContain('config/example.yml: OK');
    const missing = await run(
      node!,
      final.cmd!.slice(1).map((a) => (a === '/etc/patroni-router/router.yml' ? path.join(tmp, 'absent.yml') : a)),
      { cwd, env },
    ).then(
      () => 'exit 0',
      (err: { code?: number; stderr?: string }) => `exit ${err.code}: ${err.stderr ?? ''}`,
    );
    expect(missing).toMatch(/^exit 2: .*absent\.yml/s);
  });

  it('runs as a non-root user it creates, and exposes the listener and admin ports', () => {
    expect(final.user).toBe('patroni-router');
    expect(final.createdUsers).toContain('patroni-router');
    expect(final.expose).toEqual(['5000', '5001', '7000']);
    expect(fs.existsSync(path.join(final.root, 'etc/patroni-router'))).toBe(true);
  });

  it('has a HEALTHCHECK that passes on a healthy admin API and fails otherwise', async () => {
    const check = final.healthcheck!;
    expect(check[0]).toBe('node');
    let status = 200;
    const server = http.createServer((req, res) => {
      res.writeHead(req.url === '/health' ? status : 404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    // The check targets the container's 127.0.0.1:7000; here it is pointed at a free port.
    const args = check.slice(1).map((a) => a.replace('127.0.0.1:7000', `127.0.0.1:${port}`));
    expect(args.join(' ')).toContain(`http://127.0.0.1:${port}/health`);
    const exitCode = (): Promise<number> =>
      run('node', args).then(
        () => 0,
        (err: { code?: number }) => err.code ?? -1,
      );
    try {
      expect(await exitCode()).toBe(0);
      status = 503;
      expect(await exitCode()).toBe(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(await exitCode()).toBe(1);
  });

  it('does not exclude in .dockerignore anything it copies from the context', () => {
    const ignored = fs
      .readFileSync(path.join(REPO, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const copied = stages
      .flatMap((s) => s.steps)
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(new Set(copied)).toEqual(new Set(['package.json', 'package-lock.json', 'tsconfig.json', 'src']));
    for (const c of copied)
      expect(
        ignored.some((pattern) => c === pattern || c.startsWith(`${pattern}/`)),
        `${c} is ignored`,
      ).toBe(false);
  });
});
