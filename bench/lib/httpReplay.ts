/**
 * HTTP load from a child process: one request body POSTed again and again by concurrent clients,
 * each answer checked, latencies taken in the child. The child is this file, forked: its fetch,
 * JSON parsing and timers run on a process of their own, so the CPU time of the bench's process
 * over the timed window is the server's alone (a load generator in the server's process would charge
 * its own work to the server and queue its timers behind the server's).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runWorkers } from './concurrency.ts';
import { Latencies } from './stats.ts';

export interface ReplayJob {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Untimed requests first (connections opened, caches and JIT warm). */
  warmup: number;
  requests: number;
  clients: number;
}

export interface ReplayResult {
  /** Per-request latency (ms) seen by the clients, over the timed requests. */
  latencies: Latencies;
  /** CPU time (user + system, ms) of the calling process — the server — over the timed requests. */
  serverCpuMs: number;
  wallMs: number;
}

type ToChild = { type: 'job'; job: ReplayJob } | { type: 'go' };
type FromChild = { type: 'warm' } | { type: 'done'; latencies: number[] } | { type: 'failed'; message: string };

/** A client process that replays one request body at a time, started once and reused. */
export class ReplayClients {
  private readonly child: ChildProcess;
  private waiter: ((message: FromChild) => void) | undefined;
  private exited: Error | undefined;

  constructor() {
    this.child = fork(fileURLToPath(import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: FromChild) => this.waiter?.(message));
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`the replay client process exited (${signal ?? `code ${code}`})`);
      this.waiter?.({ type: 'failed', message: this.exited.message });
    });
  }

  private next<T extends FromChild['type']>(type: T, signal?: AbortSignal): Promise<Extract<FromChild, { type: T }>> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal!.reason as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = (message) => {
        signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
        if (message.type === 'failed') reject(new Error(message.message));
        else if (message.type !== type) reject(new Error(`the replay clients answered "${message.type}" where "${type}" was due`));
        else resolve(message as Extract<FromChild, { type: T }>);
      };
    });
  }

  /** Warms up, then times `job.requests` requests; this process's CPU is counted over the timed part only. */
  async replay(job: ReplayJob, signal?: AbortSignal): Promise<ReplayResult> {
    const warm = this.next('warm', signal);
    this.child.send({ type: 'job', job } satisfies ToChild);
    await warm;
    const done = this.next('done', signal);
    const cpuAtStart = process.cpuUsage();
    const started = performance.now();
    this.child.send({ type: 'go' } satisfies ToChild);
    const { latencies } = await done;
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuAtStart);
    return { latencies: Latencies.from(latencies), serverCpuMs: (cpu.user + cpu.system) / 1000, wallMs };
  }

  close(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
  }
}

// The child: replays what it is sent.

async function post(job: ReplayJob): Promise<void> {
  const response = await fetch(job.url, { method: 'POST', headers: job.headers, body: job.body });
  const answer = (await response.json()) as { errors?: { message: string }[] };
  if (!response.ok || answer.errors?.length) throw new Error(answer.errors?.[0]?.message ?? `HTTP ${response.status}`);
}

function serveReplays(): void {
  const send = (message: FromChild) => process.send!(message);
  let job: ReplayJob | undefined;
  const fail = (error: unknown) => send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.on('message', (message: ToChild) => {
    if (message.type === 'job') {
      job = message.job;
      const { clients, warmup } = job;
      runWorkers(warmup, clients, () => post(message.job)).then(() => send({ type: 'warm' }), fail);
    } else if (job) {
      const timed = job;
      const latencies = new Latencies(timed.requests);
      runWorkers(timed.requests, timed.clients, () => latencies.time(() => post(timed))).then(
        () => send({ type: 'done', latencies: latencies.toArray() }),
        fail,
      );
    }
  });
  process.on('disconnect', () => process.exit(0));
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain && process.send) serveReplays();
