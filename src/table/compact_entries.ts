// The control side's bindings in typed columns: ~70 bytes a binding instead of a Map entry, a
// boxed key and an object with boxed timestamps (~376 bytes measured at 1,048,576 bindings).
//
// Slots are dense: a removal moves the last slot into the hole, so scans walk [0, size) with no
// holes to skip. An open-addressing index (linear probing, Fibonacci hashing, load <= 0.5,
// backward-shift removal so no tombstones pile up) maps (vlan, ip) to a slot. A slot number is
// only good until the next removal; callers outside this file see keys, snapshots (`Entry`
// objects they own) and a cursor that is valid for one step of a scan.
import type { BindingSource } from '../dataplane/updates';

/** What the control side knows of a binding beyond its MAC. */
export interface Entry {
  mac: number;
  source: BindingSource;
  /** Port the binding was learned or last seen on, if known. */
  port?: string;
  firstSeen: number;
  lastSeen: number;
  moves: number;
  /** ARP frames from the owner that confirmed the binding. */
  hits: number;
  /** The last-seen time the state store holds, so refreshes are stored only now and then. */
  storedSeen?: number;
  /** The fabric host that holds the binding; absent = this host. */
  host?: string;
  /** Mobility sequence: rises each time the binding changes MAC or host. */
  seq?: number;
}

const TWO32 = 2 ** 32;
const SOURCES: readonly BindingSource[] = ['static', 'api', 'learned', 'remote'];
const SOURCE_CODE: Record<BindingSource, number> = { static: 0, api: 1, learned: 2, remote: 3 };
const INITIAL_SLOTS = 1024;

/** Strings stored once and referred to by index; 0 stands for "none". */
class Interned {
  private readonly ids = new Map<string, number>();
  private readonly names: (string | undefined)[] = [undefined];

  id(name: string | undefined): number {
    if (name === undefined) return 0;
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    return id;
  }

  name(id: number): string | undefined {
    return this.names[id];
  }
}

export class CompactEntries {
  private slots = 0;
  private count = 0;
  private ip = new Uint32Array(0);
  private vlan = new Uint16Array(0);
  private macHigh = new Uint16Array(0);
  private macLow = new Uint32Array(0);
  private source = new Uint8Array(0);
  private port = new Uint32Array(0);
  private host = new Uint32Array(0);
  private moves = new Uint32Array(0);
  // Doubles where a value can pass 2^32 or be absent (NaN).
  private seq = new Float64Array(0);
  private firstSeen = new Float64Array(0);
  private lastSeen = new Float64Array(0);
  private storedSeen = new Float64Array(0);
  private hits = new Float64Array(0);
  /** slot + 1 per index position, 0 = empty. */
  private index = new Int32Array(2 * INITIAL_SLOTS);
  private indexShift = 32 - Math.log2(2 * INITIAL_SLOTS);
  private readonly ports = new Interned();
  private readonly hosts = new Interned();

  get size(): number {
    return this.count;
  }

  /** The slot of (vlan, ip), or -1. */
  slotOf(vlan: number, ip: number): number {
    const mask = this.index.length - 1;
    for (let at = this.home(vlan, ip); ; at = (at + 1) & mask) {
      const slot = this.index[at]! - 1;
      if (slot < 0) return -1;
      if (this.ip[slot] === ip && this.vlan[slot] === vlan) return slot;
    }
  }

  has(vlan: number, ip: number): boolean {
    return this.slotOf(vlan, ip) >= 0;
  }

  /** A snapshot the caller owns (changes to it do not reach the table). */
  get(vlan: number, ip: number): Entry | undefined {
    const slot = this.slotOf(vlan, ip);
    return slot < 0 ? undefined : this.read(slot);
  }

  /** Stores `entry` for (vlan, ip), adding the binding if it is new. Returns the slot. */
  set(vlan: number, ip: number, entry: Entry): number {
    let slot = this.slotOf(vlan, ip);
    if (slot < 0) slot = this.add(vlan, ip);
    this.macHigh[slot] = Math.floor(entry.mac / TWO32);
    this.macLow[slot] = entry.mac % TWO32;
    this.source[slot] = SOURCE_CODE[entry.source];
    this.port[slot] = this.ports.id(entry.port);
    this.host[slot] = this.hosts.id(entry.host);
    this.seq[slot] = entry.seq ?? NaN;
    this.firstSeen[slot] = entry.firstSeen;
    this.lastSeen[slot] = entry.lastSeen;
    this.storedSeen[slot] = entry.storedSeen ?? NaN;
    this.moves[slot] = entry.moves;
    this.hits[slot] = entry.hits;
    return slot;
  }

  /**
   * Records a local write of (vlan, ip) -> `mac` from `source`, with no port and no fabric
   * origin, as BindingTable.write() records one: a new binding starts at seq 1; a new MAC, or
   * taking over another host's binding, raises seq; a new MAC forgets the stored last-seen.
   */
  putLocal(vlan: number, ip: number, mac: number, source: BindingSource, now: number): void {
    let slot = this.slotOf(vlan, ip);
    if (slot < 0) {
      slot = this.add(vlan, ip);
      this.port[slot] = 0;
      this.seq[slot] = 1;
      this.firstSeen[slot] = now;
      this.storedSeen[slot] = NaN;
      this.moves[slot] = 0;
      this.hits[slot] = 0;
    } else {
      const seq = Number.isNaN(this.seq[slot]!) ? 0 : this.seq[slot]!;
      const newMac = this.macAt(slot) !== mac;
      this.seq[slot] = newMac || this.host[slot] !== 0 ? seq + 1 : seq;
      if (newMac) this.storedSeen[slot] = NaN;
    }
    this.macHigh[slot] = Math.floor(mac / TWO32);
    this.macLow[slot] = mac % TWO32;
    this.source[slot] = SOURCE_CODE[source];
    this.host[slot] = 0;
    this.lastSeen[slot] = now;
  }

  /** Removes (vlan, ip); false if it was not there. */
  delete(vlan: number, ip: number): boolean {
    const slot = this.slotOf(vlan, ip);
    if (slot < 0) return false;
    this.unindex(vlan, ip);
    const last = --this.count;
    if (slot !== last) {
      this.copySlot(last, slot);
      this.index[this.positionOf(this.vlan[slot]!, this.ip[slot]!)] = slot + 1;
    }
    return true;
  }

  // Per-slot reads and in-place changes, for BindingTable and the scan cursor.
  keyAt(slot: number): number {
    return this.vlan[slot]! * TWO32 + this.ip[slot]!;
  }
  vlanAt(slot: number): number {
    return this.vlan[slot]!;
  }
  ipAt(slot: number): number {
    return this.ip[slot]!;
  }
  macAt(slot: number): number {
    return this.macHigh[slot]! * TWO32 + this.macLow[slot]!;
  }
  sourceAt(slot: number): BindingSource {
    return SOURCES[this.source[slot]!]!;
  }
  portAt(slot: number): string | undefined {
    return this.ports.name(this.port[slot]!);
  }
  hostAt(slot: number): string | undefined {
    return this.hosts.name(this.host[slot]!);
  }
  seqAt(slot: number): number | undefined {
    const seq = this.seq[slot]!;
    return Number.isNaN(seq) ? undefined : seq;
  }
  lastSeenAt(slot: number): number {
    return this.lastSeen[slot]!;
  }
  storedSeenAt(slot: number): number | undefined {
    const seen = this.storedSeen[slot]!;
    return Number.isNaN(seen) ? undefined : seen;
  }
  setPort(slot: number, port: string | undefined): void {
    this.port[slot] = this.ports.id(port);
  }
  setLastSeen(slot: number, when: number): void {
    this.lastSeen[slot] = when;
  }
  setStoredSeen(slot: number, when: number): void {
    this.storedSeen[slot] = when;
  }
  addHit(slot: number): void {
    this.hits[slot]!++;
  }
  addMove(slot: number): void {
    this.moves[slot]!++;
  }

  /** The binding in `slot` as an object the caller owns. */
  read(slot: number): Entry {
    const entry: Entry = {
      mac: this.macAt(slot),
      source: this.sourceAt(slot),
      firstSeen: this.firstSeen[slot]!,
      lastSeen: this.lastSeen[slot]!,
      moves: this.moves[slot]!,
      hits: this.hits[slot]!,
    };
    const port = this.portAt(slot);
    if (port !== undefined) entry.port = port;
    const host = this.hostAt(slot);
    if (host !== undefined) entry.host = host;
    const seq = this.seqAt(slot);
    if (seq !== undefined) entry.seq = seq;
    const stored = this.storedSeenAt(slot);
    if (stored !== undefined) entry.storedSeen = stored;
    return entry;
  }

  /**
   * Every binding (or those from `only`), in slot order, through one cursor that moves on at each step: read what you
   * need before the next step, and change the table only after the scan.
   */
  *scan(only?: BindingSource): Generator<EntryCursor> {
    const cursor = new EntryCursor(this);
    const code = only === undefined ? -1 : SOURCE_CODE[only];
    for (let slot = 0; slot < this.count; slot++) {
      if (code >= 0 && this.source[slot] !== code) continue;
      cursor.slot = slot;
      yield cursor;
    }
  }

  /** Makes room for `bindings` in all, so that a bulk import grows the columns once. */
  reserve(bindings: number): void {
    while (this.slots < bindings) this.growSlots();
    while (2 * bindings > this.index.length) this.growIndex();
  }

  /** Every key, unordered, for sorting. */
  keys(): Float64Array {
    const keys = new Float64Array(this.count);
    for (let slot = 0; slot < this.count; slot++) keys[slot] = this.vlan[slot]! * TWO32 + this.ip[slot]!;
    return keys;
  }

  /** Fibonacci hashing: the top bits of the product spread consecutive addresses evenly. */
  private home(vlan: number, ip: number): number {
    return Math.imul(ip ^ Math.imul(vlan, 0x85ebca6b), 0x9e3779b1) >>> this.indexShift;
  }

  /** The index position that holds (vlan, ip), which must be there. */
  private positionOf(vlan: number, ip: number): number {
    const mask = this.index.length - 1;
    let at = this.home(vlan, ip);
    for (;;) {
      const slot = this.index[at]! - 1;
      if (this.ip[slot] === ip && this.vlan[slot] === vlan) return at;
      at = (at + 1) & mask;
    }
  }

  private add(vlan: number, ip: number): number {
    if (this.count === this.slots) this.growSlots();
    if (2 * (this.count + 1) > this.index.length) this.growIndex();
    const slot = this.count++;
    this.ip[slot] = ip;
    this.vlan[slot] = vlan;
    this.place(slot);
    return slot;
  }

  private place(slot: number): void {
    const mask = this.index.length - 1;
    let at = this.home(this.vlan[slot]!, this.ip[slot]!);
    while (this.index[at] !== 0) at = (at + 1) & mask;
    this.index[at] = slot + 1;
  }

  /** Backward-shift removal: later members of the probe run move up so no lookup stops early. */
  private unindex(vlan: number, ip: number): void {
    const mask = this.index.length - 1;
    let hole = this.positionOf(vlan, ip);
    let at = hole;
    for (;;) {
      at = (at + 1) & mask;
      const slot = this.index[at]! - 1;
      if (slot < 0) break;
      const home = this.home(this.vlan[slot]!, this.ip[slot]!);
      // The entry at `at` may fill the hole if its home is not in (hole, at], cyclically.
      if (((at - home) & mask) >= ((at - hole) & mask)) {
        this.index[hole] = slot + 1;
        hole = at;
      }
    }
    this.index[hole] = 0;
  }

  private copySlot(from: number, to: number): void {
    this.ip[to] = this.ip[from]!;
    this.vlan[to] = this.vlan[from]!;
    this.macHigh[to] = this.macHigh[from]!;
    this.macLow[to] = this.macLow[from]!;
    this.source[to] = this.source[from]!;
    this.port[to] = this.port[from]!;
    this.host[to] = this.host[from]!;
    this.moves[to] = this.moves[from]!;
    this.seq[to] = this.seq[from]!;
    this.firstSeen[to] = this.firstSeen[from]!;
    this.lastSeen[to] = this.lastSeen[from]!;
    this.storedSeen[to] = this.storedSeen[from]!;
    this.hits[to] = this.hits[from]!;
  }

  private growSlots(): void {
    const slots = Math.max(INITIAL_SLOTS, this.slots * 2);
    const grow = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(slots);
      next.set(old as never);
      return next;
    };
    this.ip = grow(this.ip, (n) => new Uint32Array(n));
    this.vlan = grow(this.vlan, (n) => new Uint16Array(n));
    this.macHigh = grow(this.macHigh, (n) => new Uint16Array(n));
    this.macLow = grow(this.macLow, (n) => new Uint32Array(n));
    this.source = grow(this.source, (n) => new Uint8Array(n));
    this.port = grow(this.port, (n) => new Uint32Array(n));
    this.host = grow(this.host, (n) => new Uint32Array(n));
    this.moves = grow(this.moves, (n) => new Uint32Array(n));
    this.seq = grow(this.seq, (n) => new Float64Array(n));
    this.firstSeen = grow(this.firstSeen, (n) => new Float64Array(n));
    this.lastSeen = grow(this.lastSeen, (n) => new Float64Array(n));
    this.storedSeen = grow(this.storedSeen, (n) => new Float64Array(n));
    this.hits = grow(this.hits, (n) => new Float64Array(n));
    this.slots = slots;
  }

  private growIndex(): void {
    this.index = new Int32Array(this.index.length * 2);
    this.indexShift--;
    for (let slot = 0; slot < this.count; slot++) this.place(slot);
  }
}

/** One binding of a scan; see CompactEntries.scan. */
export class EntryCursor {
  slot = 0;
  constructor(private readonly entries: CompactEntries) {}
  get key(): number {
    return this.entries.keyAt(this.slot);
  }
  get vlan(): number {
    return this.entries.vlanAt(this.slot);
  }
  get ip(): number {
    return this.entries.ipAt(this.slot);
  }
  get mac(): number {
    return this.entries.macAt(this.slot);
  }
  get source(): BindingSource {
    return this.entries.sourceAt(this.slot);
  }
  get port(): string | undefined {
    return this.entries.portAt(this.slot);
  }
  get host(): string | undefined {
    return this.entries.hostAt(this.slot);
  }
  get seq(): number | undefined {
    return this.entries.seqAt(this.slot);
  }
  get lastSeen(): number {
    return this.entries.lastSeenAt(this.slot);
  }
}
