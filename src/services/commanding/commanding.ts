/**
 * The commanding service: every telecommand the link accepts comes here as a PUS packet. It is checked
 * (APID, service, function, arguments against the dictionary, arming of hazardous commands, room in the queue),
 * acknowledged with PUS service 1 reports, and executed one at a time, in order: services 17 (test),
 * 8 (function management: any command of the dictionary), 20 (parameters) and 11 (time-based schedule, kept
 * durably). Every rejection is reported with its PROTOCOL.md failure code and counted in telemetry.
 */
import type { UplinkPacket } from '../../core/bus.js';
import { defineComponent, FailureCode } from '../../core/component.js';
import type { CommandEntry } from '../../core/dictionary.js';
import { checkCommand } from '../../core/executive.js';
import { packedSize, packValue, unpackRecord, unpackValue } from '../../core/pack.js';
import { cucToUnixMs } from '../../core/time.js';
import { bool, checkValue, f32, str, u8, u16, u32 } from '../../core/types.js';
import { AckFlags, decodeTcPacket, type TcPacket } from '../../link/pus.js';
import {
  decodeIdList,
  decodePerformFunction,
  decodeRequestIdList,
  decodeScheduleInsert,
  encodeScheduleInsert,
  encodeScheduleSummary,
  encodeVerificationFailure,
  encodeVerificationSuccess,
  type ScheduledTc,
  Service,
  Verification,
} from '../../link/pus-services.js';
import { pusServiceHandler } from '../pus-registry.js';
import { Priority, tmSourceFor } from '../tm-source.js';

/** Telemetry names of the rejection counters, by PROTOCOL.md failure code. */
const REJECT_COUNTER = {
  1: 'rejectedApid',
  2: 'rejectedLength',
  3: 'rejectedChecksum',
  4: 'rejectedService',
  5: 'rejectedFunction',
  6: 'rejectedArgument',
  7: 'rejectedMode',
  8: 'rejectedNotArmed',
  10: 'rejectedBusy',
} as const;

type Job = {
  readonly requestId: number;
  readonly ack: number;
  readonly label: string;
  readonly run: () => Promise<{ ok: true } | { ok: false; code: number; reason: string }>;
};

type Acceptance = { ok: true; job: Job } | { ok: false; code: FailureCode; reason: string; label?: string };

export const commanding = defineComponent({
  name: 'commanding',
  description: 'Telecommand acceptance, verification (PUS 1), execution and the time-based schedule (PUS 11)',
  commands: {
    ARM: {
      opcode: 0x0201,
      // Hazardous operations are for nominal operations only, never in SAFE or SURVIVAL.
      modes: ['NOMINAL'],
      args: { functionId: u16({ description: 'opcode of the hazardous command to allow once' }) },
      description: 'Arms one hazardous command: it may run once within armWindowS',
    },
    DISARM: { opcode: 0x0202, description: 'Cancels an arming' },
    RESET_COUNTERS: { opcode: 0x0203, description: 'Zeroes the command counters' },
  },
  telemetry: {
    accepted: { id: 0x0201, type: u32(), description: 'Telecommands accepted' },
    rejected: { id: 0x0202, type: u32(), description: 'Telecommands rejected at acceptance, all reasons' },
    executed: { id: 0x0203, type: u32(), description: 'Telecommands that completed successfully' },
    failed: { id: 0x0204, type: u32(), description: 'Telecommands that failed in execution' },
    queued: { id: 0x0205, type: u16(), description: 'Telecommands accepted and waiting to run' },
    armedFunction: { id: 0x0206, type: u16(), description: 'Function ID armed (0: none)' },
    lastCommands: {
      id: 0x0207,
      type: str({ maxLength: 255 }),
      description: 'The latest telecommands, newest first',
    },
    scheduled: { id: 0x0208, type: u16(), description: 'Time-tagged telecommands waiting for release' },
    scheduleEnabled: { id: 0x0209, type: bool(), description: 'Whether the schedule releases commands' },
    rejectedApid: { id: 0x0211, type: u32(), description: 'Rejected: illegal APID (code 1)' },
    rejectedLength: { id: 0x0212, type: u32(), description: 'Rejected: bad length (code 2)' },
    rejectedChecksum: { id: 0x0213, type: u32(), description: 'Rejected: bad checksum (code 3)' },
    rejectedService: { id: 0x0214, type: u32(), description: 'Rejected: unknown service/subtype (code 4)' },
    rejectedFunction: {
      id: 0x0215,
      type: u32(),
      description: 'Rejected: unknown function or parameter (code 5)',
    },
    rejectedArgument: { id: 0x0216, type: u32(), description: 'Rejected: argument out of range (code 6)' },
    rejectedMode: { id: 0x0217, type: u32(), description: 'Rejected: not allowed in this mode (code 7)' },
    rejectedNotArmed: { id: 0x0218, type: u32(), description: 'Rejected: hazardous, not armed (code 8)' },
    rejectedBusy: { id: 0x021a, type: u32(), description: 'Rejected: queue full (code 10)' },
  },
  events: {
    REJECTED: {
      id: 0x0201,
      severity: 'low',
      args: { requestId: u32(), code: u8(), reason: str({ maxLength: 200 }) },
      message: 'telecommand {requestId} rejected (code {code}): {reason}',
    },
    FAILED: {
      id: 0x0202,
      severity: 'medium',
      args: { requestId: u32(), code: u8(), reason: str({ maxLength: 200 }) },
      message: 'telecommand {requestId} failed (code {code}): {reason}',
    },
    ARMED: {
      id: 0x0203,
      severity: 'info',
      args: { functionId: u16(), windowS: f32({ units: 's' }) },
      message: 'function {functionId} armed for {windowS} s',
    },
    RELEASED: {
      id: 0x0204,
      severity: 'info',
      args: { requestId: u32() },
      message: 'time-tagged telecommand {requestId} released',
    },
    EXPIRED: {
      id: 0x0205,
      severity: 'low',
      args: { requestId: u32(), lateS: f32({ units: 's' }) },
      message: 'time-tagged telecommand {requestId} dropped: its release time passed {lateS} s ago',
    },
  },
  params: {
    armWindowS: {
      id: 0x0201,
      type: f32({ min: 1, max: 600, units: 's' }),
      default: 30,
      description: 'How long an ARM allows its hazardous command',
    },
    queueLimit: {
      id: 0x0202,
      type: u16({ min: 1, max: 1000 }),
      default: 16,
      description: 'Accepted telecommands that may wait to run; more are rejected with code 10',
    },
    maxLateS: {
      id: 0x0203,
      type: f32({ min: 0, max: 86_400, units: 's' }),
      default: 60,
      description: 'A time-tagged command found this late (after a restart) is dropped, not released',
    },
    historyLength: {
      id: 0x0204,
      type: u8({ min: 1, max: 32 }),
      default: 8,
      description: 'Telecommands listed in lastCommands',
    },
  },
  setup(ctx) {
    const { dictionary, parameters } = ctx.system;
    const apid = dictionary.mission.apid;
    const tm = tmSourceFor(ctx.bus, apid, ctx.clock);
    const counts = { accepted: 0, rejected: 0, executed: 0, failed: 0 };
    const rejectedBy: Record<string, number> = Object.fromEntries(
      Object.values(REJECT_COUNTER).map((k) => [k, 0]),
    );
    const history: string[] = [];
    let armed: { functionId: number; untilMs: number } | undefined;
    const queue: Job[] = [];
    let running = false;

    // --- the time-based schedule (service 11), kept in the state directory -------------------------------------
    const schedule: ScheduledTc[] = [];
    const stored = ctx.storage.get('schedule');
    if (stored) {
      const parsed = decodeScheduleInsert(stored);
      if (parsed.ok) schedule.push(...parsed.value);
      else
        ctx.log.error(
          { reason: parsed.error },
          'stored schedule unreadable: starting with an empty schedule',
        );
    }
    let scheduleEnabled = ctx.storage.get('scheduleEnabled')?.[0] !== 0;
    let releaseTimer: { unsubscribe(): void } | undefined;
    const saveSchedule = () => {
      schedule.sort((a, b) => cucToUnixMs(a.releaseTime) - cucToUnixMs(b.releaseTime));
      ctx.storage.put('schedule', encodeScheduleInsert(schedule));
      ctx.storage.put('scheduleEnabled', Uint8Array.of(scheduleEnabled ? 1 : 0));
      armRelease();
    };
    const requestIdOf = (packet: Uint8Array) =>
      packet.length >= 4 ? new DataView(packet.buffer, packet.byteOffset).getUint32(0) : 0;
    function armRelease() {
      releaseTimer?.unsubscribe();
      releaseTimer = undefined;
      const next = schedule[0];
      if (!scheduleEnabled || !next) return;
      const delay = Math.max(0, cucToUnixMs(next.releaseTime) - ctx.clock.now());
      releaseTimer = ctx.clock.scheduler.schedule(releaseDue, delay);
    }
    function releaseDue() {
      releaseTimer = undefined;
      const now = ctx.clock.now();
      const maxLateMs = ctx.params.get('maxLateS') * 1000;
      const due: ScheduledTc[] = [];
      while (schedule[0] && cucToUnixMs(schedule[0].releaseTime) <= now)
        due.push(schedule.shift() as ScheduledTc);
      // Durable first: a command released and then lost to a crash must not be released again after the restart.
      saveSchedule();
      for (const entry of due) {
        const requestId = requestIdOf(entry.packet);
        const lateMs = now - cucToUnixMs(entry.releaseTime);
        if (lateMs > maxLateMs) {
          ctx.events.EXPIRED({ requestId, lateS: lateMs / 1000 });
          continue;
        }
        ctx.events.RELEASED({ requestId });
        receive(entry.packet, 'schedule');
      }
    }

    // --- reports ------------------------------------------------------------------------------------------------
    const report = (
      subtype: number,
      requestId: number,
      destinationId: number,
      failure?: { code: number; reason: string },
    ) =>
      tm.emit({
        service: Service.verification,
        subtype,
        data: failure
          ? encodeVerificationFailure(requestId, failure.code, failure.reason)
          : encodeVerificationSuccess(requestId),
        destinationId,
        priority: Priority.verification,
      });
    const remember = (label: string, outcome: string) => {
      history.unshift(`${label} ${outcome}`);
      history.length = Math.min(history.length, ctx.params.get('historyLength'));
    };

    function reject(
      tc: { requestId: number; sourceId: number; label: string },
      code: FailureCode,
      reason: string,
    ) {
      counts.rejected += 1;
      const counter = REJECT_COUNTER[code as keyof typeof REJECT_COUNTER];
      if (counter) rejectedBy[counter] = (rejectedBy[counter] ?? 0) + 1;
      report(Verification.acceptanceFailure, tc.requestId, tc.sourceId, { code, reason });
      ctx.events.REJECTED({ requestId: tc.requestId, code, reason: reason.slice(0, 200) });
      remember(tc.label, `rejected(${code})`);
    }

    /** One telecommand packet, from the link or released by the schedule. */
    function receive(bytes: Uint8Array, source: string): void {
      const requestId = requestIdOf(bytes);
      const decoded = decodeTcPacket(bytes);
      if (!decoded.ok) {
        const code = decoded.reason === 'bad-crc' ? FailureCode.badChecksum : FailureCode.badLength;
        reject({ requestId, sourceId: 0, label: 'TC(?,?)' }, code, `${decoded.reason}: ${decoded.detail}`);
        return;
      }
      const tc = decoded.value;
      const label = `TC(${tc.service},${tc.subtype})`;
      const who = { requestId, sourceId: tc.sourceId, label };
      if (tc.apid !== apid) {
        reject(
          who,
          FailureCode.illegalApid,
          `APID 0x${tc.apid.toString(16)} is not this node's (0x${apid.toString(16)})`,
        );
        return;
      }
      const acceptance = accept(tc, requestId, source);
      if (!acceptance.ok) {
        reject({ ...who, label: acceptance.label ?? label }, acceptance.code, acceptance.reason);
        return;
      }
      if (queue.length >= ctx.params.get('queueLimit')) {
        reject(
          { ...who, label: acceptance.job.label },
          FailureCode.busy,
          `command queue full (${queue.length} waiting)`,
        );
        return;
      }
      counts.accepted += 1;
      if (tc.ackFlags & AckFlags.acceptance) report(Verification.acceptanceSuccess, requestId, tc.sourceId);
      queue.push(acceptance.job);
      void drain(tc.sourceId);
    }

    async function drain(destinationId: number): Promise<void> {
      if (running) return;
      running = true;
      try {
        for (let job = queue.shift(); job; job = queue.shift()) {
          if (job.ack & AckFlags.start) report(Verification.startSuccess, job.requestId, destinationId);
          let outcome: Awaited<ReturnType<Job['run']>>;
          try {
            outcome = await job.run();
          } catch (error) {
            outcome = { ok: false, code: FailureCode.executionFailed, reason: String(error) };
          }
          if (outcome.ok) {
            counts.executed += 1;
            remember(job.label, 'ok');
            if (job.ack & AckFlags.completion)
              report(Verification.completionSuccess, job.requestId, destinationId);
          } else {
            counts.failed += 1;
            remember(job.label, `failed(${outcome.code})`);
            report(Verification.completionFailure, job.requestId, destinationId, outcome);
            ctx.events.FAILED({
              requestId: job.requestId,
              code: outcome.code,
              reason: outcome.reason.slice(0, 200),
            });
          }
        }
      } finally {
        running = false;
      }
    }

    const ok = { ok: true } as const;
    const job = (tc: TcPacket, requestId: number, label: string, run: Job['run']): Acceptance => ({
      ok: true,
      job: { requestId, ack: tc.ackFlags, label, run },
    });
    const refuse = (code: FailureCode, reason: string): Acceptance => ({ ok: false, code, reason });

    /** The acceptance checks of each service; what passes becomes a job for the queue. */
    function accept(tc: TcPacket, requestId: number, source: string): Acceptance {
      const data = tc.appData;
      const key = `${tc.service},${tc.subtype}`;
      switch (key) {
        case '17,1':
          if (data.length !== 0) return refuse(FailureCode.badLength, 'TC(17,1) takes no data');
          return job(tc, requestId, 'TC(17,1)', async () => {
            tm.emit({
              service: Service.test,
              subtype: 2,
              data: new Uint8Array(0),
              destinationId: tc.sourceId,
              priority: Priority.reply,
            });
            return ok;
          });
        case '8,1':
          return acceptFunction(tc, requestId, source);
        case '20,1': {
          const ids = decodeIdList(data);
          if (!ids.ok) return refuse(FailureCode.badLength, ids.error);
          const unknown = ids.value.filter((id) => !dictionary.paramById.has(id));
          if (unknown.length)
            return refuse(FailureCode.unknownFunction, `unknown parameter ID ${unknown.map(hex).join(', ')}`);
          return job(tc, requestId, 'TC(20,1)', async () => {
            tm.emit({
              service: Service.parameters,
              subtype: 2,
              data: packParameterReport(ids.value),
              destinationId: tc.sourceId,
              priority: Priority.reply,
            });
            return ok;
          });
        }
        case '20,3': {
          const values = unpackParameterSet(data);
          if (!values.ok) return refuse(values.code, values.reason);
          return job(tc, requestId, 'TC(20,3)', async () => {
            for (const [id, value] of values.value) {
              const result = parameters.setById(id, value);
              if (!result.ok) return { ok: false, code: FailureCode.executionFailed, reason: result.reason };
            }
            return ok;
          });
        }
        case '11,1':
        case '11,2':
        case '11,3':
          if (data.length !== 0) return refuse(FailureCode.badLength, `TC(${key}) takes no data`);
          return job(tc, requestId, `TC(${key})`, async () => {
            if (tc.subtype === 3) schedule.length = 0;
            else scheduleEnabled = tc.subtype === 1;
            saveSchedule();
            return ok;
          });
        case '11,4': {
          const entries = decodeScheduleInsert(data);
          if (!entries.ok) return refuse(FailureCode.badLength, entries.error);
          for (const [i, entry] of entries.value.entries()) {
            const inner = decodeTcPacket(entry.packet);
            if (!inner.ok) {
              const code = inner.reason === 'bad-crc' ? FailureCode.badChecksum : FailureCode.badLength;
              return refuse(code, `entry ${i + 1}: ${inner.reason}: ${inner.detail}`);
            }
            if (inner.value.apid !== apid)
              return refuse(FailureCode.illegalApid, `entry ${i + 1}: APID ${inner.value.apid}`);
            if (cucToUnixMs(entry.releaseTime) <= ctx.clock.now()) {
              return refuse(
                FailureCode.argumentOutOfRange,
                `entry ${i + 1}: release time is not in the future`,
              );
            }
          }
          return job(tc, requestId, 'TC(11,4)', async () => {
            schedule.push(...entries.value);
            saveSchedule();
            return ok;
          });
        }
        case '11,5': {
          const ids = decodeRequestIdList(data);
          if (!ids.ok) return refuse(FailureCode.badLength, ids.error);
          const missing = ids.value.filter((id) => !schedule.some((e) => requestIdOf(e.packet) === id));
          if (missing.length)
            return refuse(FailureCode.unknownFunction, `not scheduled: ${missing.join(', ')}`);
          return job(tc, requestId, 'TC(11,5)', async () => {
            for (const id of ids.value)
              schedule.splice(
                schedule.findIndex((e) => requestIdOf(e.packet) === id),
                1,
              );
            saveSchedule();
            return ok;
          });
        }
        case '11,17':
          if (data.length !== 0) return refuse(FailureCode.badLength, 'TC(11,17) takes no data');
          return job(tc, requestId, 'TC(11,17)', async () => {
            tm.emit({
              service: Service.scheduling,
              subtype: 13,
              data: encodeScheduleSummary(
                schedule.map((e) => ({ releaseTime: e.releaseTime, requestId: requestIdOf(e.packet) })),
              ),
              destinationId: tc.sourceId,
              priority: Priority.reply,
            });
            return ok;
          });
        default: {
          const provider = pusServiceHandler(ctx.bus, tc.service);
          if (!provider) {
            return refuse(
              FailureCode.unknownService,
              `service ${tc.service} subtype ${tc.subtype} is not provided`,
            );
          }
          const accepted = provider(tc);
          if (!accepted.ok) return refuse(accepted.code, accepted.reason);
          return job(tc, requestId, accepted.label, async () => accepted.run());
        }
      }
    }

    function acceptFunction(tc: TcPacket, requestId: number, source: string): Acceptance {
      const perform = decodePerformFunction(tc.appData);
      if (!perform.ok) return refuse(FailureCode.badLength, perform.error);
      const entry: CommandEntry | undefined = dictionary.commandByOpcode.get(perform.value.functionId);
      if (!entry)
        return refuse(FailureCode.unknownFunction, `unknown function ID ${hex(perform.value.functionId)}`);
      const refuseNamed = (code: FailureCode, reason: string): Acceptance => ({
        ok: false,
        code,
        reason,
        label: entry.name,
      });
      const unpacked = unpackRecord(entry.args, perform.value.args);
      if (!unpacked.ok) {
        // Too few octets is a length error; octets that are no value of their type (an enum index without a
        // label, a bool that is neither 0 nor 1, bad UTF-8) are an argument out of range.
        const code = /truncated/.test(unpacked.error)
          ? FailureCode.badLength
          : FailureCode.argumentOutOfRange;
        return refuseNamed(code, `${entry.name}: ${unpacked.error}`);
      }
      if (unpacked.offset !== perform.value.args.length) {
        return refuseNamed(
          FailureCode.badLength,
          `${entry.name}: ${perform.value.args.length - unpacked.offset} octets after its arguments`,
        );
      }
      const check = checkCommand(dictionary, { opcode: entry.opcode, args: unpacked.value });
      const mode = ctx.system.mode();
      if (entry.modes && !entry.modes.includes(mode)) {
        return refuseNamed(
          FailureCode.notAllowedInMode,
          `${entry.name} is not allowed in mode ${mode} (only ${entry.modes.join(', ')})`,
        );
      }
      if (!check.ok) return refuseNamed(check.code, check.reason);
      let isArmed = false;
      if (entry.hazardous) {
        if (!armed || armed.functionId !== entry.opcode || ctx.clock.now() > armed.untilMs) {
          return refuseNamed(
            FailureCode.hazardousNotArmed,
            `${entry.name} is hazardous: send commanding.ARM functionId=${entry.opcode} first`,
          );
        }
        armed = undefined; // an arming allows one command
        isArmed = true;
      }
      return job(tc, requestId, entry.name, async () => {
        const result = await ctx.system.dispatch({
          opcode: entry.opcode,
          args: check.args,
          source,
          requestId,
          armed: isArmed,
        });
        return result.ok ? ok : { ok: false, code: result.code, reason: result.reason };
      });
    }

    function packParameterReport(ids: readonly number[]): Uint8Array {
      const entries = ids.map((id) => {
        const entry = dictionary.paramById.get(id);
        if (!entry) throw new Error(`parameter ${id} vanished`);
        return { entry, value: parameters.get(entry.name) };
      });
      const size = 2 + entries.reduce((n, e) => n + 2 + packedSize(e.entry.type, e.value), 0);
      const out = new Uint8Array(size);
      const view = new DataView(out.buffer);
      view.setUint16(0, entries.length);
      let at = 2;
      for (const { entry, value } of entries) {
        view.setUint16(at, entry.id);
        at = packValue(view, at + 2, entry.type, value);
      }
      return out;
    }

    function unpackParameterSet(
      data: Uint8Array,
    ): { ok: true; value: Array<[number, unknown]> } | { ok: false; code: FailureCode; reason: string } {
      if (data.length < 2)
        return { ok: false, code: FailureCode.badLength, reason: 'TC(20,3) without a count' };
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const count = view.getUint16(0);
      const values: Array<[number, unknown]> = [];
      let at = 2;
      for (let i = 0; i < count; i++) {
        if (at + 2 > data.length)
          return { ok: false, code: FailureCode.badLength, reason: `entry ${i + 1} truncated` };
        const id = view.getUint16(at);
        const entry = dictionary.paramById.get(id);
        if (!entry)
          return { ok: false, code: FailureCode.unknownFunction, reason: `unknown parameter ID ${hex(id)}` };
        const value = unpackValue(view, at + 2, entry.type);
        if (!value.ok) {
          const code = /truncated/.test(value.error) ? FailureCode.badLength : FailureCode.argumentOutOfRange;
          return { ok: false, code, reason: `${entry.name}: ${value.error}` };
        }
        const checked = checkValue(entry.type, value.value);
        if (!checked.ok) {
          return {
            ok: false,
            code: FailureCode.argumentOutOfRange,
            reason: `${entry.name}: ${checked.error.message}`,
          };
        }
        values.push([id, checked.value]);
        at = value.offset;
      }
      if (at !== data.length)
        return {
          ok: false,
          code: FailureCode.badLength,
          reason: `${data.length - at} octets after ${count} values`,
        };
      return { ok: true, value: values };
    }

    const uplink = ctx.bus.uplink$.subscribe((packet: UplinkPacket) => receive(packet.bytes, 'ground'));
    armRelease();

    ctx.every('1Hz', () => {
      ctx.tlm.accepted(counts.accepted);
      ctx.tlm.rejected(counts.rejected);
      ctx.tlm.executed(counts.executed);
      ctx.tlm.failed(counts.failed);
      ctx.tlm.queued(queue.length);
      ctx.tlm.armedFunction(armed && ctx.clock.now() <= armed.untilMs ? armed.functionId : 0);
      ctx.tlm.lastCommands(truncateUtf8(history.join('; '), 255));
      ctx.tlm.scheduled(schedule.length);
      ctx.tlm.scheduleEnabled(scheduleEnabled);
      for (const key of Object.values(REJECT_COUNTER)) ctx.tlm[key](rejectedBy[key] ?? 0);
    });

    return {
      commands: {
        ARM: ({ functionId }) => {
          const entry = dictionary.commandByOpcode.get(functionId);
          if (!entry)
            return {
              ok: false,
              code: FailureCode.unknownFunction,
              reason: `unknown function ID ${hex(functionId)}`,
            };
          if (!entry.hazardous)
            return {
              ok: false,
              code: FailureCode.argumentOutOfRange,
              reason: `${entry.name} is not hazardous`,
            };
          const windowS = ctx.params.get('armWindowS');
          armed = { functionId, untilMs: ctx.clock.now() + windowS * 1000 };
          ctx.events.ARMED({ functionId, windowS });
          return undefined;
        },
        DISARM: () => {
          armed = undefined;
          return undefined;
        },
        RESET_COUNTERS: () => {
          counts.accepted = 0;
          counts.rejected = 0;
          counts.executed = 0;
          counts.failed = 0;
          for (const key of Object.keys(rejectedBy)) rejectedBy[key] = 0;
          return undefined;
        },
      },
      stop: () => {
        uplink.unsubscribe();
        releaseTimer?.unsubscribe();
      },
    };
  },
});

function hex(id: number): string {
  return `0x${id.toString(16).padStart(4, '0')}`;
}

function truncateUtf8(text: string, octets: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= octets) return text;
  return new TextDecoder().decode(bytes.subarray(0, octets)).replace(/\uFFFD$/, '');
}
