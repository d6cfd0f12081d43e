// The demo's two scenes beyond pings: a VM forges a gratuitous ARP for another VM's address,
// and a VM moves to another port. Each returns what was measured during it (microarp's
// counters, events and table, the VMs' kernels); the lines say only that.
import type { Daemon } from '../daemon/daemon';
import type { MicroarpEvent } from '../learning/event_hub';
import { parseIPv4 } from '../dataplane/address';
import { moveVm, neighbour, pingUntilReply, sendGratuitousArp, type DemoVm } from './topology';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every event the daemon emits from now on (violations, moves, announcements...). */
export class EventLog {
  readonly events: MicroarpEvent[] = [];
  private readonly unsubscribe: () => void;

  constructor(daemon: Daemon) {
    this.unsubscribe = daemon.events.subscribe((e) => this.events.push(e));
  }

  get mark(): number {
    return this.events.length;
  }

  /** The first event from index `from` on that matches, once it comes (undefined after `timeoutMs`). */
  async wait(from: number, match: (e: MicroarpEvent) => boolean, timeoutMs: number): Promise<MicroarpEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found || Date.now() > deadline) return found;
      await sleep(20);
    }
  }

  close(): void {
    this.unsubscribe();
  }
}

function bindingMac(daemon: Daemon, vm: DemoVm): { mac?: string; port?: string } {
  const b = daemon.table.get(vm.vlan, parseIPv4(vm.ip)!);
  return { mac: b?.mac, port: b?.port };
}

export interface SpoofResult {
  /** Frames the attacker's arping sent. */
  sent: number;
  /** spoofed_binding violations and arp_inspection drops counted during the scene. */
  violations: number;
  dropped: number;
  /** The violation event for the claim, if one came. */
  violation?: MicroarpEvent;
  /** Why the claim was refused (claim_refused event), if it was. */
  refusedBecause?: string;
  /** The victim's binding before and after. */
  before: { mac?: string; port?: string };
  after: { mac?: string; port?: string };
}

/** `attacker` sends one gratuitous ARP that claims `victim`'s IP for the attacker's own MAC. */
export async function spoofScene(daemon: Daemon, log: EventLog, attacker: DemoVm, victim: DemoVm): Promise<SpoofResult> {
  const before = bindingMac(daemon, victim);
  const s0 = daemon.snapshot();
  const mark = log.mark;
  const sent = await sendGratuitousArp(attacker, victim.ip);
  const violation = await log.wait(mark, (e) => e.type === 'violation' && e.ip === victim.ip && e.port === attacker.port, 3000);
  const refused = await log.wait(mark, (e) => e.type === 'claim_refused' && e.ip === victim.ip, violation ? 1000 : 0);
  // The counters of the frame are flushed with its burst, before its event is read: they are in.
  const s1 = daemon.snapshot();
  return {
    sent,
    violations: s1.violations.spoofed_binding - s0.violations.spoofed_binding,
    dropped: s1.drops.arp_inspection - s0.drops.arp_inspection,
    violation,
    refusedBecause: refused?.reason as string | undefined,
    before,
    after: bindingMac(daemon, victim),
  };
}

/** Each scene's report: a first line saying what happened, then what microarp and the VMs showed. */
const MORE = '\n         ';

export function spoofLine(r: SpoofResult, attacker: DemoVm, victim: DemoVm): string {
  const refused = r.violation !== undefined && r.violation.dropped === true && r.violations >= 1 && r.dropped >= 1;
  const unchanged = r.after.mac === victim.mac && r.after.mac === r.before.mac;
  return (
    `  spoof: ${attacker.name} sent ${r.sent} gratuitous ARP claiming ${victim.name}'s ${victim.ip} for its own MAC ${attacker.mac}` +
    `${MORE}${refused ? 'refused by microarp' : 'NOT refused  <-- unexpected'}: ` +
    `spoofed_binding violations +${r.violations}, dropped +${r.dropped}${r.refusedBecause ? `, claim refused (${r.refusedBecause})` : ''}` +
    `${MORE}${victim.name}'s binding ${unchanged ? 'unchanged' : 'CHANGED  <-- unexpected'}: ${victim.ip} -> ${r.after.mac ?? 'none'}`
  );
}

export interface MoveResult {
  /** The moved event for the VM's MAC to the new port, and how long after the move it came. */
  moved?: MicroarpEvent;
  seenAfterMs?: number;
  /** The announced event, and the gratuitous ARPs microarp sent for it. */
  announced?: MicroarpEvent;
  garpsSent: number;
  /** The port microarp's binding names after the move. */
  bindingPort?: string;
  /** The peer's first echo reply from the VM on its new port, ms after the move, and the requests it took. */
  replyAfterMs?: number;
  echoRequests: number;
  /** The MAC the peer's kernel held for the VM before the move and after the ping (never flushed). */
  peerEntryBefore?: string;
  peerEntryAfter?: string;
}

/** `vm` moves from `from` to `to` (same VLAN, another port) while `peer` keeps its ARP entry for it. */
export async function moveScene(daemon: Daemon, log: EventLog, from: DemoVm, to: DemoVm, peer: DemoVm): Promise<MoveResult> {
  const learner = daemon.learner;
  const garpsBefore = learner?.stats.garpsSent ?? 0;
  const peerEntryBefore = await neighbour(peer, from.ip);
  const mark = log.mark;
  const movedAt = Date.now();
  await moveVm(from, to);
  // From the move on, the peer pings every 20 ms, through the ARP entry it already has.
  const reach = await pingUntilReply(peer, to.ip, 20, 5);
  const moved = await log.wait(mark, (e) => e.type === 'moved' && e.mac === to.mac && e.to === to.port, 3000);
  const announced = await log.wait(mark, (e) => e.type === 'announced' && e.mac === to.mac, moved ? 1000 : 0);
  // The announcement is a burst: wait for its last frame before counting them.
  const { garpCount, garpIntervalMs } = daemon.config.migration;
  if (announced) await sleep(Math.max(0, Date.parse(announced.time) + garpCount * garpIntervalMs + 100 - Date.now()));
  return {
    moved,
    seenAfterMs: moved ? Date.parse(moved.time) - movedAt : undefined,
    announced,
    garpsSent: (learner?.stats.garpsSent ?? 0) - garpsBefore,
    bindingPort: bindingMac(daemon, to).port,
    replyAfterMs: reach.replyAt === undefined ? undefined : Math.max(0, Math.round(reach.replyAt - movedAt)),
    echoRequests: reach.sent,
    peerEntryBefore,
    peerEntryAfter: await neighbour(peer, to.ip),
  };
}

export function moveLine(r: MoveResult, from: DemoVm, to: DemoVm, peer: DemoVm): string {
  const seen = r.moved !== undefined && r.bindingPort === to.port;
  const kept = r.peerEntryBefore === to.mac && r.peerEntryAfter === to.mac;
  return (
    `  move:  ${to.name} moved from port ${from.port} to port ${to.port} (VLAN ${to.vlan})` +
    MORE +
    (seen
      ? `microarp saw it (moved event ${r.seenAfterMs} ms after the move, binding now on ${r.bindingPort})`
      : `microarp did NOT see it (binding on ${r.bindingPort ?? 'none'})  <-- unexpected`) +
    (r.announced ? ` and announced it (${r.garpsSent} gratuitous ARPs sent into VLAN ${to.vlan})` : ', NOT announced  <-- unexpected') +
    `${MORE}${peer.name} -> ${to.name}: ` +
    (r.replyAfterMs !== undefined
      ? `ping ok ${r.replyAfterMs} ms after the move (${r.echoRequests} echo request${r.echoRequests === 1 ? '' : 's'} sent)`
      : 'no reply for 5 s after the move  <-- unexpected') +
    (kept
      ? `, through the ARP entry it already had (${r.peerEntryAfter}): no cache timeout waited`
      : `, ARP entry ${r.peerEntryBefore ?? 'none'} before, ${r.peerEntryAfter ?? 'none'} after  <-- unexpected`)
  );
}
