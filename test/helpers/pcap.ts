// Minimal libpcap file reader/writer (Ethernet link type), enough to feed net_pcap ports and
// read what they transmitted.
import { readFileSync, writeFileSync } from 'node:fs';

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const LINKTYPE_ETHERNET = 1;

export function writePcap(path: string, frames: readonly Uint8Array[]): void {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(MAGIC_US, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  const parts: Buffer[] = [header];
  frames.forEach((frame, i) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000, 0);
    rec.writeUInt32LE(i, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, Buffer.from(frame));
  });
  writeFileSync(path, Buffer.concat(parts));
}

export function readPcap(path: string): Buffer[] {
  const frames: Buffer[] = [];
  forEachPcapRecord(readFileSync(path), path, (frame) => void frames.push(frame));
  return frames;
}

/** Calls `visit` with each record's frame (a view into `data`) and time stamp in milliseconds. */
export function forEachPcapRecord(data: Buffer, name: string, visit: (frame: Buffer, stampMs: number) => void): void {
  if (data.length < 24) throw new Error(`${name}: not a pcap file (${data.length} bytes)`);
  const magic = data.readUInt32LE(0);
  if (magic !== MAGIC_US && magic !== MAGIC_NS) throw new Error(`${name}: unknown pcap magic ${magic.toString(16)}`);
  const fraction = magic === MAGIC_NS ? 1e-6 : 1e-3; // of a millisecond
  let at = 24;
  while (at + 16 <= data.length) {
    const captured = data.readUInt32LE(at + 8);
    if (at + 16 + captured > data.length) throw new Error(`${name}: truncated record at byte ${at}`);
    visit(data.subarray(at + 16, at + 16 + captured), data.readUInt32LE(at) * 1000 + data.readUInt32LE(at + 4) * fraction);
    at += 16 + captured;
  }
}
