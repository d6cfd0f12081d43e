// GET /v1/events held open by a test: every event the daemon emits from the subscription on,
// kept in order so that a test can mark a point and wait for what comes after it.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import type { ApiClient } from '../../src/api/client';
import type { MicroarpEvent } from '../../src/learning/event_hub';
import { waitFor } from './wait';

export class EventStream {
  readonly events: MicroarpEvent[] = [];
  private res?: IncomingMessage;

  /** Subscribes; resolves once the daemon has confirmed the subscription. */
  async open(api: ApiClient): Promise<this> {
    this.res = await api.raw('GET', '/v1/events');
    assert.equal(this.res.statusCode, 200);
    const lines = createInterface({ input: this.res });
    await new Promise<void>((resolve) => {
      lines.on('line', (l) => {
        const e = JSON.parse(l) as MicroarpEvent;
        if (e.type === 'subscribed') resolve();
        else this.events.push(e);
      });
    });
    return this;
  }

  /** The first event from index `from` on that matches. */
  find(from: number, match: (e: MicroarpEvent) => boolean): MicroarpEvent | undefined {
    return this.events.slice(from).find(match);
  }

  wait(what: string, from: number, match: (e: MicroarpEvent) => boolean, timeoutMs = 5000): Promise<MicroarpEvent> {
    return waitFor(`event ${what}`, () => this.find(from, match), timeoutMs);
  }

  close(): void {
    this.res?.destroy();
  }
}
