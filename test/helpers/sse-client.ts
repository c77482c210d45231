/** A minimal server-sent-events client for tests: parses `text/event-stream` as it arrives. */
import { request, type IncomingMessage } from 'node:http';

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

export interface SseStream {
  status: number;
  headers: IncomingMessage['headers'];
  /** Body of a non-stream answer (a problem). */
  body: string;
  events: SseEvent[];
  comments: string[];
  retry: number | undefined;
  ended: boolean;
  res: IncomingMessage;
  close(): void;
}

/** Opens `url` and resolves once the response head is there; events keep arriving into `events`. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const s: SseStream = { status: res.statusCode ?? 0, headers: res.headers, body: '', events: [], comments: [], retry: undefined, ended: false, res, close: () => req.destroy() };
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (s.status !== 200) {
          s.body += chunk;
          return;
        }
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const e: SseEvent = { id: undefined, event: 'message', data: '' };
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) s.comments.push(line.slice(1).trim());
            else if (line.startsWith('retry: ')) s.retry = Number(line.slice(7));
            else if (line.startsWith('id: ')) ((e.id = line.slice(4)), (isEvent = true));
            else if (line.startsWith('event: ')) ((e.event = line.slice(7)), (isEvent = true));
            else if (line.startsWith('data: ')) ((e.data += line.slice(6)), (isEvent = true));
          }
          if (isEvent) s.events.push(e);
        }
      });
      const done = () => (s.ended = true);
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
      resolve(s);
    });
    req.on('error', reject);
    req.end();
  });
}
