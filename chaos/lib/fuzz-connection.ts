/**
 * One fuzzing connection of the live fuzz run: opens a WebSocket from its own loopback source
 * address, plays one session (fuzz-frames.ts), records every reply and the close, and starts
 * over until the run has sent its target of frames. What it records is what the scenario judges: each
 * reply must decode as a ServerFrame, each Error must carry a catalogue code, the close code must
 * be that code's, and a bad frame must not go unanswered.
 */
import WebSocket from 'ws';
import { ERRORS, isErrorCode } from '../../src/errors.ts';
import { ServerFrame } from '../../src/protocol/wire.ts';
import { nextSession, type FuzzFrame, type Session, type SessionContext, type SessionKind } from './fuzz-frames.ts';

export interface FuzzTally {
  framesSent: number;
  sessions: number;
  sessionsByKind: Partial<Record<SessionKind, number>>;
  /** Replies by kind: `error:<CODE>`, `welcome`, `heartbeatAck`, `command`. */
  replies: Record<string, number>;
  /** Close codes the gateway (or ws inside it) closed with; `client-ended` when the fuzzer gave up waiting. */
  closeCodes: Record<string, number>;
  connectFailures: Record<string, number>;
  /** Problems: undecodable replies, unknown codes, close codes not matching the Error, silence. Bounded. */
  problems: string[];
  problemCount: number;
}

export function newTally(): FuzzTally {
  return { framesSent: 0, sessions: 0, sessionsByKind: {}, replies: {}, closeCodes: {}, connectFailures: {}, problems: [], problemCount: 0 };
}

const bump = (m: Record<string, number>, k: string, by = 1) => void (m[k] = (m[k] ?? 0) + by);

function problem(t: FuzzTally, message: string): void {
  t.problemCount++;
  if (t.problems.length < 50) t.problems.push(message);
}

/** ws closes these itself, with no Error frame: protocol violations below the agent protocol (RFC 6455). */
const WS_LEVEL_CLOSES = new Set([1002, 1007, 1009]);

export interface FuzzConnectionOptions {
  url: string;
  localAddress: string;
  /** Frames the whole run sends (all connections together; each stops once the tally reaches it). */
  target: number;
  context: SessionContext;
  tally: FuzzTally;
  /** The fuzz client a Welcome enrolled (its credential) or one the gateway no longer accepts. */
  onCredential(clientId: string, credential: string): void;
  onRetired(clientId: string): void;
  /** How long to wait for the gateway's answer after the last frame. */
  answerMs: number;
  /** How long an unfinished fragment may wait (beyond the gateway's Hello timeout). */
  unfinishedMs: number;
  stopped(): boolean;
}

interface SessionResult {
  /** The WebSocket opened (false: refused or failed before the upgrade, counted in connectFailures). */
  opened: boolean;
  answered: boolean;
}

function send(ws: WebSocket, f: FuzzFrame, tally: FuzzTally): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  ws.send(f.data, { binary: f.binary, fin: f.fin }, () => {});
  tally.framesSent++;
}

function playSession(o: FuzzConnectionOptions, s: Session): Promise<SessionResult> {
  const t = o.tally;
  return new Promise((resolve) => {
    let answered = false;
    let opened = false;
    let lastError: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const ws = new WebSocket(o.url, { localAddress: o.localAddress, perMessageDeflate: false, handshakeTimeout: 10_000, maxPayload: 1 << 20 });
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ opened, answered });
    };
    const deadline = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        bump(t.closeCodes, 'client-ended');
        ws.terminate();
        finish();
      }, ms);
    };
    const sendAll = (frames: FuzzFrame[]) => {
      for (const f of frames) send(ws, f, t);
      deadline(s.kind === 'fragment-unfinished' ? o.unfinishedMs : o.answerMs);
    };
    ws.on('open', () => {
      opened = true;
      sendAll(s.frames);
    });
    ws.on('message', (data: Buffer) => {
      answered = true;
      let frame;
      try {
        frame = ServerFrame.decode(data);
      } catch (err) {
        problem(t, `${s.kind}: undecodable reply (${(err as Error).message})`);
        return;
      }
      if (frame.body === 'error') {
        const code = frame.error!.code ?? '';
        bump(t.replies, `error:${code}`);
        lastError = code;
        if (!isErrorCode(code)) problem(t, `${s.kind}: Error frame with a code outside the catalogue: ${JSON.stringify(code).slice(0, 80)}`);
        if ((code === 'UNINSTALLED' || code === 'CLIENT_UNINSTALLED' || code === 'AUTH_FAILED' || code === 'CLIENT_ALREADY_REGISTERED') && s.clientId) o.onRetired(s.clientId);
      } else if (frame.body === 'welcome') {
        bump(t.replies, 'welcome');
        const cred = frame.welcome!.clientCredential;
        if (cred && s.clientId) o.onCredential(s.clientId, cred);
        if (s.after.length) sendAll(s.after);
      } else if (frame.body) {
        bump(t.replies, frame.body);
        if (frame.body === 'command' && frame.command!.uninstall && s.clientId) o.onRetired(s.clientId);
      } else {
        problem(t, `${s.kind}: empty ServerFrame`);
      }
    });
    ws.on('close', (code: number) => {
      if (!done) {
        bump(t.closeCodes, String(code));
        if (lastError !== undefined && isErrorCode(lastError) && ERRORS[lastError].closeCode !== code) {
          problem(t, `${s.kind}: Error ${lastError} then close ${code} (catalogue says ${ERRORS[lastError].closeCode})`);
        }
        if (WS_LEVEL_CLOSES.has(code) && lastError === undefined) answered = true;
      }
      finish();
    });
    ws.on('unexpected-response', (_req, res) => {
      bump(t.connectFailures, `http-${res.statusCode}`);
      answered = true;
      ws.terminate();
      finish();
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // Before the upgrade: a refused or failed connection. After it, 'close' follows and counts.
      if (!opened && !done) {
        bump(t.connectFailures, err.code ?? err.message.slice(0, 60));
        finish();
      }
    });
  });
}

const MAX_CONNECT_FAILURES = 2_000;

/** Plays sessions until the run has sent its target of frames or is stopped. */
export async function runFuzzConnection(o: FuzzConnectionOptions): Promise<void> {
  while (!o.stopped() && o.tally.framesSent < o.target) {
    const s = nextSession(o.context);
    o.tally.sessions++;
    bump(o.tally.sessionsByKind, s.kind);
    const r = await playSession(o, s);
    if (!r.opened) {
      // Refused before the upgrade (or the gateway is gone): back off; give up when it persists.
      // An HTTP refusal of the upgrade (a per-source limit) is an answer; a network error is not.
      const failures = Object.entries(o.tally.connectFailures).reduce((a, [k, n]) => (k.startsWith('http-') ? a : a + n), 0);
      if (failures > MAX_CONNECT_FAILURES) return problem(o.tally, `more than ${MAX_CONNECT_FAILURES} connections failed before the upgrade: ${JSON.stringify(o.tally.connectFailures)}`);
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    // A lone bad frame must be answered: an Error frame, a Welcome (the mutation made it valid),
    // or ws's own protocol close. Unfinished fragments wait for the Hello timeout instead.
    if (!r.answered && s.after.length === 0 && s.kind !== 'fragment-unfinished') problem(o.tally, `${s.kind}: no answer within ${o.answerMs} ms`);
  }
}
