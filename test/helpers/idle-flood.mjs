// The abuse test's attacker, run as its own process (it holds up to 19,000 sockets, beyond what
// the test runner should hold next to its agents): COUNT slots, each a TCP socket from
// LOCAL_ADDRESS to 127.0.0.1:PORT that sends nothing; a slot whose socket the server closes
// opens a new one REOPEN_MS later, so the pressure lasts. At most CONCURRENCY connects are in
// flight. Prints a JSON line when every slot has connected once, one per second, and one at the
// end. Bounded: it exits by itself at DURATION_MS (+2 s at the latest), whatever happens.
//   node idle-flood.mjs PORT LOCAL_ADDRESS COUNT DURATION_MS REOPEN_MS [CONCURRENCY]
import { connect } from 'node:net';

const [port, localAddress, count, durationMs, reopenMs, concurrency = '2000'] = process.argv.slice(2).map((a, i) => (i === 1 ? a : Number(a)));
const deadline = Date.now() + durationMs;
setTimeout(() => process.exit(3), durationMs + 2_000).unref();

const stats = { attempted: 0, connected: 0, failed: 0, closedByServer: 0, openNow: 0, maxOpen: 0 };
const sockets = new Set();
let inFlight = 0;
const waiting = [];
const acquire = () => (inFlight < concurrency ? (inFlight++, Promise.resolve()) : new Promise((r) => waiting.push(r)));
const release = () => (waiting.length ? waiting.shift()() : inFlight--);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves when the socket has closed (after connecting or not). */
async function openOne() {
  await acquire();
  stats.attempted++;
  const s = connect({ host: '127.0.0.1', port, localAddress });
  sockets.add(s);
  let connected = false;
  s.on('error', () => {});
  s.resume(); // reads (and drops) whatever comes, so the server's close is noticed; sends nothing
  s.once('connect', () => {
    connected = true;
    stats.connected++;
    stats.openNow++;
    stats.maxOpen = Math.max(stats.maxOpen, stats.openNow);
    release();
  });
  await new Promise((resolve) => s.once('close', resolve));
  sockets.delete(s);
  if (connected) {
    stats.openNow--;
    stats.closedByServer++;
  } else {
    stats.failed++;
    release();
  }
}

let firstWave = count;
const slots = Array.from({ length: count }, async () => {
  while (Date.now() < deadline) {
    await openOne();
    if (Date.now() + reopenMs >= deadline) break;
    await sleep(reopenMs);
  }
});
const wave = setInterval(() => {
  if (firstWave > 0 && stats.connected + stats.failed >= count) {
    firstWave = 0;
    process.stdout.write(`${JSON.stringify({ event: 'opened', ...stats })}\n`);
  }
}, 50);
const report = setInterval(() => process.stdout.write(`${JSON.stringify({ event: 'progress', ...stats })}\n`), 1_000);
await sleep(Math.max(0, deadline - Date.now()));
clearInterval(report);
clearInterval(wave);
process.stdout.write(`${JSON.stringify({ event: 'done', ...stats })}\n`);
for (const s of sockets) s.destroy();
void slots;
process.exit(0);
