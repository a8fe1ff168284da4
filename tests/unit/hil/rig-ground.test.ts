/**
 * The rig's ground side, without processes: the gated pipe that cuts the link and replays the last uplink frame,
 * and the checks of a ground script's names against the dictionary.
 */
import { describe, expect, it } from 'vitest';
import { describeStep, GatedPipe, unknownNames } from '../../../hil/rig-ground.js';
import { flightComponents } from '../../../src/cli/fsw.js';
import { VirtualClock } from '../../../src/core/clock.js';
import { buildDictionary } from '../../../src/core/dictionary.js';
import { impairedPair } from '../../../src/transport/impaired.js';

function gatedPair() {
  const clock = new VirtualClock({ startMs: 0 });
  const pair = impairedPair({ scheduler: clock.scheduler });
  const gated = new GatedPipe(pair.a);
  const atFar: number[][] = [];
  const atGround: number[][] = [];
  pair.b.data$.subscribe((chunk) => atFar.push([...chunk]));
  gated.data$.subscribe((chunk) => atGround.push([...chunk]));
  const deliver = () => clock.advanceBy(10);
  return { clock, pair, gated, atFar, atGround, deliver };
}

describe('GatedPipe', () => {
  it('passes both ways while open, drops and counts both ways while cut', () => {
    const { pair, gated, atFar, atGround, deliver } = gatedPair();
    gated.write(Uint8Array.of(1, 2));
    pair.b.write(Uint8Array.of(9));
    deliver();
    expect(atFar).toEqual([[1, 2]]);
    expect(atGround).toEqual([[9]]);

    gated.setOpen(false);
    expect(gated.write(Uint8Array.of(3, 4, 5))).toBe(true);
    pair.b.write(Uint8Array.of(8, 7));
    deliver();
    expect(atFar).toEqual([[1, 2]]);
    expect(atGround).toEqual([[9]]);
    expect(gated.dropped).toEqual({ up: 3, down: 2 });

    gated.setOpen(true);
    gated.write(Uint8Array.of(6));
    deliver();
    expect(atFar).toEqual([[1, 2], [6]]);
  });

  it('replays the last chunk written, octet for octet, and nothing before the first', () => {
    const { gated, atFar, deliver } = gatedPair();
    expect(gated.replayLast()).toBe(false);
    const frame = Uint8Array.of(0xc0, 0x00, 0x10, 0x20, 0xc0);
    gated.write(frame);
    frame[2] = 0xff; // the caller's buffer changes afterwards: the replay is what went out
    expect(gated.replayLast()).toBe(true);
    deliver();
    expect(atFar).toEqual([
      [0xc0, 0x00, 0x10, 0x20, 0xc0],
      [0xc0, 0x00, 0x10, 0x20, 0xc0],
    ]);
    gated.setOpen(false);
    expect(gated.replayLast()).toBe(false);
  });
});

describe('ground script names', () => {
  const dictionary = buildDictionary(flightComponents());

  it('finds commands, telemetry and events the dictionary does not have', () => {
    expect(
      unknownNames(
        dictionary,
        [
          { atS: 0, send: 'health.NOOP' },
          { atS: 0, send: 'health.NOPE' },
          { atS: 0, expectTelemetry: 'modes.mood', equals: 'SAFE' },
          { atS: 0, expectEvent: 'fdir.REBOOT_LOOP' },
          { atS: 0, expectEvent: 'fdir.REBOOT_LOOOP' },
        ],
        ['commanding.ARM', 'power.EXPLODE'],
      ),
    ).toEqual([
      'unknown command power.EXPLODE',
      'unknown command health.NOPE',
      'unknown telemetry modes.mood',
      'unknown event fdir.REBOOT_LOOOP',
    ]);
  });

  it('describes each kind of step in words', () => {
    expect(describeStep({ atS: 1, send: 'modes.SET_MODE', args: { mode: 'NOMINAL' } })).toBe(
      'send modes.SET_MODE mode="NOMINAL" -> completed',
    );
    expect(describeStep({ atS: 1, expectTelemetry: 'power.soc', min: 0.2, max: 0.9, withinS: 5 })).toBe(
      'telemetry power.soc >= 0.2 and <= 0.9 within 5 s',
    );
    expect(describeStep({ atS: 7, expectEvent: 'fdir.SAFE_MODE' })).toBe(
      'event fdir.SAFE_MODE since t=7 s within 30 s',
    );
    expect(describeStep({ atS: 7, recoverGaps: { fromS: 0, toS: 60 }, maxMissing: 2 })).toBe(
      'recover gaps t=0..60 s within 600 s, at most 2 missing',
    );
  });
});
