import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  listNvidiaGpus,
  nvidiaSmiAccelerator,
  parseTemperatureLimits,
  throttleReasonsFromMask,
} from '../../../src/hal/linux/nvidia-smi.js';
import { ROOT, tempDir } from '../../support/cli.js';
import { fakeExecutable, fakeHal } from '../../support/sysfs.js';

const FIXTURES = join(ROOT, 'tests/fixtures/nvidia-smi');
const UUID = 'GPU-3c6f8a2e-9b41-5d07-e1a8-6f2b0c94d5e7';

/**
 * A fake nvidia-smi that replays the captures in tests/fixtures/nvidia-smi, chosen by its arguments, and logs
 * each invocation. The scenario file switches what the "driver" does between calls.
 */
const SCRIPT = (state: string) => `#!/usr/bin/env bash
fixtures='${FIXTURES}'
state='${state}'
echo "$*" >> "$state/calls.log"
scenario=$(cat "$state/scenario" 2>/dev/null)
case "$scenario" in
  driver-down) cat "$fixtures/driver-not-loaded.txt"; exit 9 ;;
  hang) exec sleep 5 ;;
esac
case "$scenario" in
  throttled) reading=query-gpu-throttled.csv ;;
  na) reading=query-gpu-na.csv ;;
  temp-na) reading=query-gpu-temp-na.csv ;;
  *) reading=query-gpu.csv ;;
esac
for arg in "$@"; do
  case "$arg" in
    --query-gpu=index,uuid,name,temperature.gpu,power.draw,power.limit,clocks.sm)
      cat "$fixtures/list-two-gpus.csv"; exit 0 ;;
    --query-gpu=*,clocks_event_reasons.active)
      if [ "$scenario" = old-driver ]; then cat "$fixtures/invalid-field.txt"; exit 2; fi
      cat "$fixtures/$reading"; exit 0 ;;
    --query-gpu=*,clocks_throttle_reasons.active)
      cat "$fixtures/$reading"; exit 0 ;;
    --query-gpu=power.min_limit,power.max_limit,power.default_limit)
      cat "$fixtures/power-limits.csv"; exit 0 ;;
    --query-supported-clocks=graphics)
      cat "$fixtures/supported-clocks-graphics.csv"; exit 0 ;;
    TEMPERATURE)
      cat "$fixtures/q-temperature.txt"; exit 0 ;;
    -pl)
      if [ "$scenario" = not-root ]; then cat "$fixtures/pl-insufficient-permissions.txt"; exit 4; fi
      cat "$fixtures/pl-set.txt"; exit 0 ;;
    --lock-gpu-clocks=*)
      cat "$fixtures/lgc-set.txt"; exit 0 ;;
  esac
done
echo "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help."
exit 2
`;

function setup(scenario = 'h200') {
  const state = tempDir('skynode-nvidia-smi-');
  const bin = join(state, 'bin');
  fakeExecutable(bin, 'nvidia-smi', SCRIPT(state));
  writeFileSync(join(state, 'calls.log'), '');
  const ctx = { ...fakeHal(state), env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } };
  return {
    ctx,
    scenario(name: string) {
      writeFileSync(join(state, 'scenario'), name);
    },
    calls(): string[] {
      return readFileSync(join(state, 'calls.log'), 'utf8').split('\n').filter(Boolean);
    },
    init() {
      writeFileSync(join(state, 'scenario'), scenario);
      return this;
    },
  }.init();
}

describe('nvidia-smi accelerator', () => {
  it('reads an idle H200', async () => {
    const fake = setup();
    const gpu = nvidiaSmiAccelerator(fake.ctx);
    const reading = await gpu.read();
    expect(reading).toEqual({
      quality: 'ok',
      time: fake.ctx.now(),
      value: {
        celsius: 34,
        watts: 74.12,
        powerCapW: 700,
        coreMHz: 345,
        memoryMHz: 3201,
        utilization: 0,
        throttleReasons: ['idle'],
      },
    });
    expect(gpu.info).toEqual({ source: `GPU 0 NVIDIA H200 (${UUID})`, driver: 'nvidia-smi' });
    expect(fake.calls()).toEqual([
      '--query-gpu=index,uuid,name,temperature.gpu,power.draw,power.limit,enforced.power.limit,clocks.sm,clocks.mem,utilization.gpu,clocks_event_reasons.active --format=csv,noheader,nounits -i 0',
    ]);
  });

  it('maps the clocks-event bitmask to throttle reasons', async () => {
    const fake = setup('throttled');
    const reading = await nvidiaSmiAccelerator(fake.ctx).read();
    expect(reading.quality).toBe('ok');
    expect(reading.value).toMatchObject({ celsius: 81, powerCapW: 450, coreMHz: 1605, utilization: 1 });
    expect(reading.value?.throttleReasons).toEqual(['power-cap', 'sw-thermal', 'hw-thermal']);

    expect(throttleReasonsFromMask('0x0000000000000000')).toEqual([]);
    expect(throttleReasonsFromMask('0x0000000000000004')).toEqual(['power-cap']);
    expect(throttleReasonsFromMask('0x000000000000018A')).toEqual([
      'application-clocks',
      'hw-slowdown',
      'hw-power-brake',
      'display-clocks',
    ]);
    expect(throttleReasonsFromMask('0x0000000000000010')).toEqual(['sync-boost']);
    // Bits NVML defines later are not guessed at.
    expect(throttleReasonsFromMask('0x0000000000001001')).toEqual(['idle']);
    expect(throttleReasonsFromMask('[N/A]')).toEqual([]);
  });

  it("falls back to the older driver's field name once, and remembers it", async () => {
    const fake = setup('old-driver');
    const gpu = nvidiaSmiAccelerator(fake.ctx);
    expect((await gpu.read()).value?.throttleReasons).toEqual(['idle']);
    expect((await gpu.read()).quality).toBe('ok');
    const calls = fake.calls();
    expect(calls).toHaveLength(3);
    expect(calls[0]).toContain('clocks_event_reasons.active');
    expect(calls[1]).toContain('clocks_throttle_reasons.active');
    expect(calls[2]).toContain('clocks_throttle_reasons.active');
  });

  it('omits values the GPU reports as [N/A], and fails without a temperature', async () => {
    const fake = setup('na');
    const gpu = nvidiaSmiAccelerator(fake.ctx);
    expect(await gpu.read()).toEqual({
      quality: 'ok',
      time: fake.ctx.now(),
      value: { celsius: 34, throttleReasons: [] },
    });
    fake.scenario('temp-na');
    const reading = await nvidiaSmiAccelerator(fake.ctx).read();
    expect(reading.quality).toBe('failed');
    expect(reading.quality === 'failed' && reading.error).toContain('no temperature');
  });

  it("fails with the tool's message when the driver is not loaded", async () => {
    const fake = setup('driver-down');
    const reading = await nvidiaSmiAccelerator(fake.ctx).read();
    expect(reading.quality).toBe('failed');
    expect(reading.quality === 'failed' && reading.error).toBe(
      "nvidia-smi exited 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    );
  });

  it('holds the last good reading as stale through a transient failure, then fails', async () => {
    const fake = setup();
    const gpu = nvidiaSmiAccelerator(fake.ctx);
    const good = await gpu.read();
    expect(good.quality).toBe('ok');
    fake.scenario('driver-down');
    fake.ctx.advance(5000);
    const stale = await gpu.read();
    expect(stale).toMatchObject({ quality: 'stale', time: good.time, value: { celsius: 34 } });
    expect(stale.quality === 'stale' && stale.error).toContain('NVIDIA-SMI has failed');
    fake.ctx.advance(6000);
    expect((await gpu.read()).quality).toBe('failed');
    fake.scenario('h200');
    expect((await gpu.read()).quality).toBe('ok');
  });

  it('fails a hung tool after its timeout', async () => {
    const fake = setup('hang');
    const reading = await nvidiaSmiAccelerator(fake.ctx, { timeoutMs: 200 }).read();
    expect(reading.quality === 'failed' && reading.error).toBe('nvidia-smi timed out after 200 ms');
  });

  it('names the fix when the tool is absent', async () => {
    const fake = setup();
    const ctx = { ...fake.ctx, env: { ...process.env, PATH: tempDir('skynode-empty-path-') } };
    const reading = await nvidiaSmiAccelerator(ctx).read();
    expect(reading.quality).toBe('failed');
    expect(reading.quality === 'failed' && reading.error).toMatch(
      /nvidia-smi not found on PATH: install .*nvidia-utils/,
    );
    const cap = await nvidiaSmiAccelerator(ctx).setFrequencyCeiling(1500);
    expect(cap).toEqual({ ok: false, error: expect.stringContaining('not found') });
  });

  it('queries the GPU by UUID when given one', async () => {
    const fake = setup();
    await nvidiaSmiAccelerator(fake.ctx, { uuid: UUID }).read();
    expect(fake.calls()[0]).toMatch(new RegExp(`-i ${UUID}$`));
  });

  it('reads power limits, temperature thresholds and supported clocks', async () => {
    const fake = setup();
    const limits = await nvidiaSmiAccelerator(fake.ctx).limits();
    expect(limits.quality).toBe('ok');
    const value = limits.value!;
    expect(value).toMatchObject({
      minPowerCapW: 200,
      maxPowerCapW: 700,
      defaultPowerCapW: 700,
      slowdownC: 89,
      shutdownC: 92,
    });
    expect(value.frequenciesMHz).toHaveLength(110);
    expect(value.frequenciesMHz?.slice(0, 3)).toEqual([345, 360, 375]);
    expect(value.frequenciesMHz?.at(-1)).toBe(1980);
  });

  it('parses absolute temperature thresholds only, tolerating N/A', () => {
    const newer = [
      '    Temperature',
      '        GPU Current Temp                  : 34 C',
      '        GPU T.Limit Temp                  : 53 C',
      '        GPU Shutdown T.Limit Temp         : -5 C',
      '        GPU Slowdown T.Limit Temp         : -2 C',
      '        GPU Shutdown Temp                 : N/A',
    ].join('\n');
    expect(parseTemperatureLimits(newer)).toEqual({});
    expect(parseTemperatureLimits('GPU Shutdown Temp : 95 C\nGPU Slowdown Temp : 92 C\n')).toEqual({
      slowdownC: 92,
      shutdownC: 95,
    });
  });

  it('refuses power caps outside the limits without running the cap', async () => {
    const fake = setup();
    const gpu = nvidiaSmiAccelerator(fake.ctx);
    for (const watts of [800, 150]) {
      const result = await gpu.setPowerCap(watts);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toContain('200');
      expect(!result.ok && result.error).toContain('700');
    }
    expect(fake.calls().some((call) => call.includes('-pl'))).toBe(false);
  });

  it('sets a power cap, and passes on the refusal of a user without permission', async () => {
    const fake = setup();
    const gpu = nvidiaSmiAccelerator(fake.ctx);
    expect(await gpu.setPowerCap(450)).toEqual({ ok: true });
    expect(fake.calls().at(-1)).toBe('-i 0 -pl 450');
    fake.scenario('not-root');
    expect(await gpu.setPowerCap(450)).toEqual({
      ok: false,
      error:
        'nvidia-smi exited 4: Failed to set power management limit for GPU 00000000:19:00.0: Insufficient Permissions',
    });
  });

  it('snaps a frequency ceiling down to a supported clock', async () => {
    const fake = setup();
    const gpu = nvidiaSmiAccelerator(fake.ctx);
    expect(await gpu.setFrequencyCeiling(1507)).toEqual({ ok: true });
    expect(fake.calls().at(-1)).toBe('-i 0 --lock-gpu-clocks=0,1500');
    await gpu.setFrequencyCeiling(5000);
    expect(fake.calls().at(-1)).toBe('-i 0 --lock-gpu-clocks=0,1980');
    // Below the lowest clock the lowest is the best ceiling there is.
    await gpu.setFrequencyCeiling(100);
    expect(fake.calls().at(-1)).toBe('-i 0 --lock-gpu-clocks=0,345');
  });
});

describe('listNvidiaGpus', () => {
  it('lists two GPUs', async () => {
    const fake = setup();
    expect(await listNvidiaGpus(fake.ctx)).toEqual({
      gpus: [
        {
          index: 0,
          uuid: UUID,
          name: 'NVIDIA H200',
          celsius: 34,
          watts: 74.12,
          powerCapW: 700,
          coreMHz: 345,
        },
        {
          index: 1,
          uuid: 'GPU-a81d44c0-27f3-4e6b-9c15-d03e8b7a2f96',
          name: 'NVIDIA H200',
          celsius: 36,
          watts: 76.4,
          powerCapW: 700,
          coreMHz: 345,
        },
      ],
    });
  });

  it('gives none and why when the tool is absent or failing', async () => {
    const absent = await listNvidiaGpus({ env: { PATH: tempDir('skynode-empty-path-') } });
    expect(absent.gpus).toEqual([]);
    expect(absent.error).toContain('nvidia-smi not found on PATH');
    const fake = setup('driver-down');
    const down = await listNvidiaGpus(fake.ctx);
    expect(down.gpus).toEqual([]);
    expect(down.error).toContain('NVIDIA-SMI has failed');
  });
});
