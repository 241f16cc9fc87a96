import net from 'node:net';

/**
 * A loopback TCP proxy in front of PostgreSQL that reads the client side of the wire protocol, so a
 * test can drop the connection exactly when a chosen statement is about to reach the server — the
 * way a restart catches a bot in the middle of its work, but at a moment the test decides.
 *
 * Only the frontend messages that carry or name a statement are read: Query ('Q'), Parse ('P', which
 * names a prepared statement) and Bind ('B', which runs one by name; postgres.js reuses prepared
 * statements, so their text appears only once per connection).
 */
export class PostgresFaultProxy {
  /** Every statement any client sent through the proxy, in order (prepared ones at each run). */
  readonly statements: string[] = [];
  private readonly sockets = new Set<net.Socket>();
  private armed: { readonly pattern: RegExp; readonly onCut: (statement: string) => void } | undefined;

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
    const proxy = new PostgresFaultProxy(server, { host: target.hostname, port: Number(target.port || 5432) }, proxied.toString());
    server.on('connection', (client) => proxy.relay(client));
    return proxy;
  }

  /**
   * The next statement whose text matches `pattern` never reaches the server: its connection is cut
   * (the client sees it closed, as when PostgreSQL restarts). Resolves with that statement.
   */
  cutOnNext(pattern: RegExp): Promise<string> {
    if (this.armed) throw new Error(`a cut is already armed for ${String(this.armed.pattern)}`);
    return new Promise((resolve) => {
      this.armed = {
        pattern,
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
    server.on('data', (chunk) => client.write(chunk));

    const preparedByName = new Map<string, string>();
    let pending = Buffer.alloc(0);
    let startupDone = false;
    client.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      let forwardUpTo = 0;
      for (;;) {
        // The start-up packet (and an SSL request before it) has no type byte; every later message has one.
        const header = startupDone ? 5 : 4;
        if (pending.length - forwardUpTo < header) break;
        const length = pending.readInt32BE(forwardUpTo + header - 4);
        const end = forwardUpTo + header - 4 + length;
        if (pending.length < end) break;
        if (!startupDone) {
          const code = pending.readInt32BE(forwardUpTo + 4);
          startupDone = code !== sslRequestCode && code !== gssRequestCode;
        } else {
          const statement = statementOf(pending.subarray(forwardUpTo, end), preparedByName);
          if (statement !== undefined) {
            this.statements.push(statement);
            const armed = this.armed;
            if (armed?.pattern.test(statement)) {
              server.write(pending.subarray(0, forwardUpTo));
              cut();
              armed.onCut(statement);
              return;
            }
          }
        }
        forwardUpTo = end;
      }
      server.write(pending.subarray(0, forwardUpTo));
      pending = pending.subarray(forwardUpTo);
    });
  }
}

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
