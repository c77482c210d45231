/**
 * The load driver: a separate process (so the gateway is measured alone) that runs the
 * benchmark fleet with agent-sim's Agent class, or bare WebSocket clients for the baselines,
 * and measures everything on its own clock (performance.now()).
 *
 * Connects run as a closed loop: `concurrency` handshakes in flight until `count` are done, the
 * same for the gateway and for the bare-ws baseline. Every wait is bounded by a deadline.
 *
 * This file only maps the IPC commands to their handlers: the agent fleet (driver-agents.ts),
 * the bare-ws clients (driver-raw-clients.ts), the stop-latency job runs (driver-job-runs.ts),
 * the failover and outage views, and the pacing helpers (../lib/driver-loops.ts).
 */
import { Agent } from '../../agent-sim/agent.ts';
import { serveRequests } from '../lib/ipc.ts';
import { agentCounts, closeAgents, enroll, fleet, forgetAgents, reconnect, type ConnectParams } from './driver-agents.ts';
import { pushRun, unassignRun, type RateParams } from './driver-job-runs.ts';
import { closeRaws, rawConnect, type RawConnectParams } from './driver-raw-clients.ts';
import { markFailover, probeEnroll, servedView, type ProbeParams } from './failover-view.ts';
import { markOutages, outageView } from './outage-view.ts';

serveRequests(
  {
    enroll: (p) => enroll(p as unknown as ConnectParams),
    reconnect: (p) => reconnect(p as unknown as ConnectParams & { settleMs: number }),
    counts: () => agentCounts(),
    'close-agents': (p) => closeAgents(Number(p.timeoutMs ?? 10_000)),
    'unassign-run': (p) => unassignRun(p as unknown as RateParams),
    'raw-connect': (p) => rawConnect(p as unknown as RawConnectParams),
    'push-run': (p) => pushRun(p as unknown as RateParams & { queueName: string }),
    'close-raws': (p) => closeRaws(Number(p.timeoutMs ?? 10_000)),
    'failover-mark': () => markFailover(),
    'failover-view': () => servedView(fleet()),
    'probe-enroll': (p) => probeEnroll(Agent, p as unknown as ProbeParams),
    'outage-mark': () => markOutages(),
    'outage-view': () => outageView(fleet()),
    'forget-agents': () => forgetAgents(),
  },
  { pid: process.pid },
);
