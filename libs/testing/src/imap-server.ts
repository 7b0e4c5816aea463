import type { AddressInfo, Socket } from 'node:net';
import hoodiecrow from 'hoodiecrow-imap';

export interface TestImapServerOptions {
  /** The one account the server holds (hoodiecrow serves a single user). */
  user: string;
  password: string;
  /**
   * Capabilities offered. Default: IDLE, ID, ENABLE, CONDSTORE, UNSELECT, SPECIAL-USE, NAMESPACE,
   * UIDPLUS and LITERAL+, as a modern server does; leave out IDLE to play a server without it.
   */
  plugins?: string[];
}

export interface TestImapServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Appends a message to a folder (INBOX by default), as a delivery would: IDLE clients hear EXISTS. Returns its UID. */
  deliver(raw: string | Buffer, folder?: string, flags?: string[]): number;
  /** The raw messages of a folder and their flags, oldest first. */
  messages(folder?: string): { uid: number; raw: Buffer; flags: string[] }[];
  close(): Promise<void>;
}

export const defaultImapPlugins = ['IDLE', 'ID', 'ENABLE', 'CONDSTORE', 'UNSELECT', 'SPECIAL-USE', 'NAMESPACE', 'UIDPLUS', 'LITERALPLUS'];

/**
 * A real IMAP4rev1 server over TCP for tests (hoodiecrow-imap, the scriptable test server by
 * imapflow's author): imapflow logs in, selects, fetches, searches and IDLEs against it exactly as
 * against Dovecot or Gmail. State lives in memory: every server starts empty.
 */
export async function startTestImapServer(options: TestImapServerOptions): Promise<TestImapServer> {
  const server = hoodiecrow({
    plugins: options.plugins ?? defaultImapPlugins,
    users: { [options.user]: { password: options.password } },
    storage: {
      INBOX: { messages: [] },
      '': { separator: '/', folders: { Sent: { 'special-use': '\\Sent' }, Archive: { 'special-use': '\\Archive' } } },
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.server.address() as AddressInfo).port;
  const sockets = new Set<Socket>();
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const mailbox = (folder: string) => {
    const found = server.getMailbox(folder);
    if (!found) throw new Error(`the test IMAP server has no folder "${folder}"`);
    return found;
  };
  return {
    host: '127.0.0.1',
    port,
    user: options.user,
    password: options.password,
    deliver(raw, folder = 'INBOX', flags = []) {
      // hoodiecrow keeps a message as a string and writes it back byte for byte as latin1.
      const text = typeof raw === 'string' ? Buffer.from(raw, 'utf8').toString('latin1') : raw.toString('latin1');
      mailbox(folder);
      return server.appendMessage(folder, flags, new Date(), text).message.uid!;
    },
    messages(folder = 'INBOX') {
      return mailbox(folder).messages.map((message) => ({ uid: message.uid!, raw: Buffer.from(message.raw, 'latin1'), flags: [...(message.flags ?? [])] }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Closing waits for clients to leave; one still connected (an IDLE watcher) is dropped, as a server going down drops it.
        for (const socket of sockets) socket.destroy();
      }),
  };
}
