/** A real HTTP receiver on loopback, standing in for a Slack incoming webhook: it keeps each post and answers as told. */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface Post {
  path: string;
  contentType: string | undefined;
  body: string;
  /** The HTTP status it was answered with; null while it hangs. */
  answered: number | null;
}

/** How the receiver answers post number `index` (from 0): an HTTP status (now, or once a test's promise says), or `hang` (never answer). */
export type Answer = (index: number) => number | Promise<number> | 'hang';

export class WebhookReceiver {
  readonly posts: Post[] = [];
  url = '';
  private readonly listeners = new Set<() => void>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly server = createServer((req, res) => this.take(req, res));

  private constructor(private readonly answer: Answer) {}

  /** `path` is part of the URL the worker is given: a secret a test can search for. */
  static async start(answer: Answer = () => 200, path = '/'): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(answer);
    receiver.server.listen(0, '127.0.0.1');
    await once(receiver.server, 'listening');
    const { port } = receiver.server.address() as { port: number };
    receiver.url = `http://127.0.0.1:${port}${path}`;
    return receiver;
  }

  /** The JSON bodies posted so far. */
  bodies<T = Record<string, unknown>>(): T[] {
    return this.posts.map((p) => JSON.parse(p.body) as T);
  }

  /** Resolves once `check` holds on the posts (checked at each post); rejects after `timeoutMs`, listing them. */
  waitFor(check: (posts: Post[]) => boolean, what: string, timeoutMs = 30_000): Promise<Post[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`timed out waiting for ${what}; posts: ${JSON.stringify(this.posts.map((p) => p.body))}`));
      }, timeoutMs);
      const listener = () => {
        if (!check(this.posts)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(this.posts);
      };
      this.listeners.add(listener);
      listener();
    });
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeIdleConnections();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private take(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const answer = this.answer(this.posts.length);
      const post: Post = { path: req.url ?? '', contentType: req.headers['content-type'], body, answered: null };
      this.posts.push(post);
      for (const listener of [...this.listeners]) listener();
      if (answer === 'hang') {
        this.hanging.add(res);
        return;
      }
      void Promise.resolve(answer).then((status) => {
        post.answered = status;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
      });
    });
  }
}
