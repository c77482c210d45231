/**
 * X2: the shipped deploy/haproxy.cfg is valid for the installed HAProxy (`haproxy -c`), and the
 * copy the launcher renders for tests and the bench differs from it only in the server lines
 * between the BEGIN/END gateways markers (so what is tested is what ships).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findHaproxy, HAPROXY_CONFIG, renderHaproxyConfig } from '../../chaos/lib/haproxy.ts';

const dir = mkdtempSync(join(tmpdir(), 'lg-haproxy-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `haproxy -c` on a file; returns its output, throws with it when the file is invalid. */
function check(path: string): string {
  return execFileSync(findHaproxy(), ['-c', '-f', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('deploy/haproxy.cfg', () => {
  it('X2: the shipped file is valid as it is', () => {
    expect(check(HAPROXY_CONFIG)).toMatch(/Configuration file is valid/);
  });

  it('X2: the rendered copy changes only the gateway lines, each keeping the shipped options', () => {
    const shipped = readFileSync(HAPROXY_CONFIG, 'utf8');
    const rendered = renderHaproxyConfig([
      { wsPort: 41001, httpPort: 41002 },
      { name: 'b', host: '127.0.0.2', wsPort: 41003, httpPort: 41004 },
    ]);
    const outside = (text: string) => text.replace(/# BEGIN gateways[\s\S]*# END gateways/, '');
    expect(outside(rendered)).toBe(outside(shipped));
    const servers = rendered.split('\n').filter((l) => /^\s*server\s/.test(l));
    expect(servers.map((l) => l.trim())).toEqual(['server gw1 127.0.0.1:41001 check port 41002', 'server b 127.0.0.2:41003 check port 41004']);
    const path = join(dir, 'rendered.cfg');
    writeFileSync(path, rendered);
    expect(check(path)).toMatch(/Configuration file is valid/);
  });

  it('X2: a file without the gateway markers is refused instead of silently testing something else', () => {
    expect(() => renderHaproxyConfig([{ wsPort: 1, httpPort: 2 }], 'backend gateways\n    server gw1 10.0.0.1:8080 check port 8081\n')).toThrow(/BEGIN gateways/);
  });
});
