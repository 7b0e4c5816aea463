// hoodiecrow-imap ships no types; this declares the part of its API the test IMAP server uses.
declare module 'hoodiecrow-imap' {
  import type { Server } from 'node:net';

  interface HoodiecrowMessage {
    raw: string;
    flags?: string[];
    internaldate?: string | Date;
    uid?: number;
  }

  interface HoodiecrowMailbox {
    messages: HoodiecrowMessage[];
    uidnext: number;
    uidvalidity: number;
  }

  interface HoodiecrowOptions {
    plugins?: string[];
    users?: Record<string, { password: string }>;
    storage?: Record<string, unknown>;
    debug?: boolean;
  }

  interface HoodiecrowServer {
    server: Server;
    listen(port: number, host: string, callback: () => void): void;
    close(callback?: () => void): void;
    getMailbox(path: string): HoodiecrowMailbox | undefined;
    appendMessage(mailbox: string, flags: string[], internaldate: Date, raw: string): { mailbox: HoodiecrowMailbox; message: HoodiecrowMessage };
  }

  function hoodiecrow(options: HoodiecrowOptions): HoodiecrowServer;
  export default hoodiecrow;
}
