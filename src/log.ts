/** The process's one pino logger. JSON by default; pretty only when asked or on a TTY. */
import { pino, type Logger } from 'pino';

export function createLogger(level: string, format: 'auto' | 'json' | 'pretty' = 'auto'): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!pretty) return pino({ level, base: { pid: process.pid } });
  return pino({ level, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
}
