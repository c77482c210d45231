import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

describe('agent.proto', () => {
  it('C1: the committed codec and types are exactly what proto/ generates', () => {
    const out = mkdtempSync(join(tmpdir(), 'lg-proto-'));
    try {
      execFileSync(process.execPath, [join(root, 'bin/proto-gen.mjs'), out], { cwd: root, stdio: 'pipe' });
      for (const file of ['agent.js', 'agent.d.ts']) {
        const fresh = readFileSync(join(out, file), 'utf8');
        const committed = readFileSync(join(root, 'src/protocol/generated', file), 'utf8');
        expect(committed, `src/protocol/generated/${file} is stale: run npm run proto:gen`).toBe(fresh);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('C1: the proto passes buf lint (STANDARD: enum value prefixes, *_UNSPECIFIED zero values, package layout)', () => {
    const result = execFileSync(join(root, 'node_modules/.bin/buf'), ['lint', 'proto'], { cwd: root, encoding: 'utf8' });
    expect(result.trim()).toBe('');
  });
});
