import net from 'node:net';

/**
 * A loopback TCP proxy in front of PostgreSQL that reads both sides of the wire protocol, so a test
 * can drop a connection exactly at a chosen statement — the way a restart catches a bot in the
 * middle of its work, but at a moment the test decides:
 * - `before-sent`: the statement never reaches the server;
 * - `reply-lost`: the server runs (and commits) it, and the connection drops before the answer.
 *
 * Only the frontend messages that carry or name a statement are read: Query ('Q'), Parse ('P', which
 * names a prepared statement) and Bind ('B', which runs one by name; postgres.js reuses prepared
 * statements, so their text appears only once per connection); Sync ('S') and the server's
 * ReadyForQuery ('Z') mark where a statement's answer ends.
 */
export class PostgresFaultProxy {
  /** Every statement any client sent through the proxy, in order (prepared ones at each run). */
  readonly statements: string[] = [];
  private readonly sockets = new Set<net.Socket>();
  private armed:
    { readonly pattern: RegExp; readonly moment: CutMoment; readonly onCut: (statement: string) => void } | undefined;

  private constructor(
    private readonly server: net.Server,
    private readonly target: { readonly host: string; readonly port: number },
    readonly url: string,
  ) {}

  static async start(databaseUrl: string): Promise<PostgresFaultProxy> {
    const target = new URL(databaseUrl);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxied = new URL(databaseUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String((server.address() as net.AddressInfo).port);
    const proxy = new PostgresFaultProxy(
      server,
      { host: target.hostname, port: Number(target.port || 5432) },
      proxied.toString(),
    );
    server.on('connection', (client) => proxy.relay(client));
    return proxy;
  }

  /** The next statement whose text matches `pattern` has its connection cut at `moment`. Resolves with it. */
  cutOnNext(pattern: RegExp, moment: CutMoment = 'before-sent'): Promise<string> {
    if (this.armed) throw new Error(`a cut is already armed for ${String(this.armed.pattern)}`);
    return new Promise((resolve) => {
      this.armed = {
        pattern,
        moment,
        onCut: (statement) => {
          this.armed = undefined;
          resolve(statement);
        },
      };
    });
  }

  /** Forgets an armed cut that never happened. */
  disarm(): void {
    this.armed = undefined;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket): void {
    const server = net.connect(this.target);
    this.sockets.add(client).add(server);
    const cut = (): void => {
      client.destroy();
      server.destroy();
    };
    client.on('close', () => {
      this.sockets.delete(client);
      server.destroy();
    });
    server.on('close', () => {
      this.sockets.delete(server);
      client.destroy();
    });
    client.on('error', cut);
    server.on('error', cut);

    const preparedByName = new Map<string, string>();
    let startupDone = false;
    let serverSendsSslByte = false;
    let syncsSent = 0;
    let readyReceived = 0;
    /** After a `reply-lost` match: once its Sync is sent, the server's answers are dropped until the cut. */
    let lostReply: { statement: string; onCut: (statement: string) => void; readyNeeded: number | undefined } | undefined;

    const fromClient = messageReader(
      () => (startupDone ? 5 : 4),
      (message) => {
        if (!startupDone) {
          const code = message.readInt32BE(4);
          if (code === sslRequestCode) serverSendsSslByte = true;
          startupDone = code !== sslRequestCode && code !== gssRequestCode;
          // The server answers the start-up (after authentication) with a ReadyForQuery of its own.
          if (startupDone) syncsSent++;
          return 'forward';
        }
        const statement = statementOf(message, preparedByName);
        if (statement !== undefined) {
          this.statements.push(statement);
          const armed = this.armed;
          if (armed?.pattern.test(statement)) {
            if (armed.moment === 'before-sent') {
              cut();
              armed.onCut(statement);
              return 'stop';
            }
            this.armed = undefined;
            lostReply = { statement, onCut: armed.onCut, readyNeeded: undefined };
          }
        }
        const type = message[0];
        if (type === syncType || type === queryType) {
          syncsSent++;
          if (lostReply && lostReply.readyNeeded === undefined) lostReply.readyNeeded = syncsSent;
        }
        return 'forward';
      },
    );
    client.on('data', (chunk) => {
      const forward = fromClient(chunk);
      if (forward.length > 0 && !server.destroyed) server.write(forward);
    });

    const fromServer = messageReader(
      () => 5,
      (message) => {
        if (message[0] === readyType) readyReceived++;
        // Until the statement's Sync is sent, the server may still be describing it (postgres.js asks
        // for parameter types first): that must reach the client, or it never sends the execution.
        if (lostReply?.readyNeeded === undefined) return 'forward';
        if (readyReceived >= lostReply.readyNeeded) {
          cut();
          lostReply.onCut(lostReply.statement);
          return 'stop';
        }
        return 'drop';
      },
    );
    server.on('data', (chunk) => {
      if (serverSendsSslByte) {
        serverSendsSslByte = false;
        client.write(chunk.subarray(0, 1));
        chunk = chunk.subarray(1);
      }
      const forward = fromServer(chunk);
      if (forward.length > 0 && !client.destroyed) client.write(forward);
    });
  }
}

export type CutMoment = 'before-sent' | 'reply-lost';

type Verdict = 'forward' | 'drop' | 'stop';

/**
 * Splits a byte stream into protocol messages (`header` bytes: an optional type byte and a length
 * that counts itself) and returns, per chunk, the bytes of the messages `judge` lets through.
 */
function messageReader(header: () => number, judge: (message: Buffer) => Verdict): (chunk: Buffer) => Buffer {
  let pending = Buffer.alloc(0);
  let stopped = false;
  return (chunk) => {
    if (stopped) return Buffer.alloc(0);
    pending = Buffer.concat([pending, chunk]);
    const through: Buffer[] = [];
    for (;;) {
      const size = header();
      if (pending.length < size) break;
      const end = size - 4 + pending.readInt32BE(size - 4);
      if (pending.length < end) break;
      const message = pending.subarray(0, end);
      pending = pending.subarray(end);
      const verdict = judge(message);
      if (verdict === 'stop') {
        stopped = true;
        break;
      }
      if (verdict === 'forward') through.push(message);
    }
    return Buffer.concat(through);
  };
}

const syncType = 'S'.charCodeAt(0);
const queryType = 'Q'.charCodeAt(0);
const readyType = 'Z'.charCodeAt(0);
const sslRequestCode = 80877103;
const gssRequestCode = 80877104;

/** The SQL a frontend message runs, if it runs one; remembers prepared statements by name. */
function statementOf(message: Buffer, preparedByName: Map<string, string>): string | undefined {
  const type = String.fromCharCode(message[0]!);
  const body = message.subarray(5);
  const [first, afterFirst] = cString(body, 0);
  switch (type) {
    case 'Q':
      return first;
    case 'P': {
      const [query] = cString(body, afterFirst);
      if (first) preparedByName.set(first, query);
      // An unnamed statement runs at the Bind that follows at once; match it here.
      return first ? undefined : query;
    }
    case 'B': {
      const [statementName] = cString(body, afterFirst);
      return statementName ? preparedByName.get(statementName) : undefined;
    }
    default:
      return undefined;
  }
}

function cString(buffer: Buffer, start: number): [string, number] {
  const end = buffer.indexOf(0, start);
  return [buffer.toString('utf8', start, end), end + 1];
}
