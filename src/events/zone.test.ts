import { describe, expect, it } from 'vitest';
import { eventPath } from './zone.ts';

const euQueue = new Set(['eu']);
const none = new Set<string>();

describe('eventPath', () => {
  it('an unrestricted request: the deployment queue, payload included', () => {
    expect(eventPath(null, euQueue, 'none')).toEqual({ queueZone: null, payload: true });
  });

  it('a zone with its own queue: that queue, payload included', () => {
    expect(eventPath('eu', euQueue, 'none')).toEqual({ queueZone: 'eu', payload: true });
  });

  it('a zone with no queue of its own on a global deployment: no payload', () => {
    expect(eventPath('eu', none, 'none')).toEqual({ queueZone: null, payload: false });
    expect(eventPath('us', euQueue, 'none')).toEqual({ queueZone: null, payload: false });
  });

  it("a deployment held to the request's zone: its own queue is the zone's", () => {
    expect(eventPath('eu', none, 'eu')).toEqual({ queueZone: null, payload: true });
    expect(eventPath('us', none, 'eu')).toEqual({ queueZone: null, payload: false });
  });

  it('a zone conflict (refused request): never a payload', () => {
    expect(eventPath('conflict', new Set(['conflict']), 'conflict')).toEqual({
      queueZone: null,
      payload: false,
    });
  });
});
