/**
 * Event reports (PUS service 5): every event on the bus goes down as TM(5, severity) with its ID and packed
 * arguments, unless the ground disabled that event (5,6; 5,5 enables it again; kept in the state directory) or it
 * exceeds its rate: at most `maxPerWindow` reports of one event ID per `windowS`, so a flapping sensor cannot
 * flood the link. What is suppressed is counted and reported (SUPPRESSED, once per event ID and window).
 */
import type { EventRecord } from '../../core/bus.js';
import { defineComponent, FailureCode, SEVERITY_SUBTYPE } from '../../core/component.js';
import { packRecord } from '../../core/pack.js';
import { f32, u16, u32 } from '../../core/types.js';
import { Service } from '../../link/pus-services.js';
import { knownIds, registerPusService } from '../pus-registry.js';
import { Priority, tmSourceFor } from '../tm-source.js';

export const eventReports = defineComponent({
  name: 'events',
  description: 'PUS service 5: event reports, per-event enable/disable, rate limits',
  telemetry: {
    reported: { id: 0x0801, type: u32(), description: 'Event reports sent' },
    suppressed: { id: 0x0802, type: u32(), description: 'Event reports held back by the rate limit' },
    disabled: {
      id: 0x0803,
      type: u32(),
      description: 'Event reports not sent because the event is disabled',
    },
    disabledEvents: { id: 0x0804, type: u16(), description: 'Events disabled by the ground' },
  },
  events: {
    SUPPRESSED: {
      id: 0x0801,
      severity: 'low',
      args: { eventId: u16(), count: u32(), windowS: f32({ units: 's' }) },
      message: 'event {eventId} reported too often: {count} reports suppressed in {windowS} s',
    },
  },
  params: {
    maxPerWindow: {
      id: 0x0801,
      type: u16({ min: 1, max: 10_000 }),
      default: 10,
      description: 'Reports of one event ID allowed per window',
    },
    windowS: {
      id: 0x0802,
      type: f32({ min: 0.1, max: 86_400, units: 's' }),
      default: 10,
      description: 'Rate-limit window',
    },
  },
  setup(ctx) {
    const { dictionary } = ctx.system;
    const tm = tmSourceFor(ctx.bus, dictionary.mission.apid, ctx.clock);
    const stored = ctx.storage.get('disabled');
    const disabled = new Set<number>(
      stored ? (JSON.parse(Buffer.from(stored).toString('utf8')) as number[]) : [],
    );
    const counts = { reported: 0, suppressed: 0, disabled: 0 };
    let windowStart = ctx.clock.now();
    const inWindow = new Map<number, { sent: number; held: number }>();
    const selfId = dictionary.eventByName.get('events.SUPPRESSED')?.id;

    const send = (event: EventRecord) => {
      const entry = dictionary.eventById.get(event.id);
      if (!entry) return;
      const args = packRecord(entry.args, event.args);
      const data = new Uint8Array(2 + args.length);
      data[0] = event.id >> 8;
      data[1] = event.id & 0xff;
      data.set(args, 2);
      tm.emit({
        service: Service.events,
        subtype: SEVERITY_SUBTYPE[event.severity],
        data,
        priority: event.severity === 'high' ? Priority.highEvent : Priority.event,
      });
      counts.reported += 1;
    };

    const closeWindow = () => {
      // A new window first: the SUPPRESSED events below come back through this service's own subscription.
      const windowS = ctx.params.get('windowS');
      const closed = [...inWindow];
      inWindow.clear();
      windowStart = ctx.clock.now();
      for (const [eventId, tally] of closed) {
        if (tally.held > 0) ctx.events.SUPPRESSED({ eventId, count: tally.held, windowS });
      }
    };

    const events = ctx.bus.events$.subscribe((event: EventRecord) => {
      if (disabled.has(event.id)) {
        counts.disabled += 1;
        return;
      }
      if (ctx.clock.now() - windowStart >= ctx.params.get('windowS') * 1000) closeWindow();
      // The report of suppressions is itself never suppressed: it is at most one per event ID and window.
      if (event.id !== selfId) {
        const tally = inWindow.get(event.id) ?? { sent: 0, held: 0 };
        inWindow.set(event.id, tally);
        if (tally.sent >= ctx.params.get('maxPerWindow')) {
          tally.held += 1;
          counts.suppressed += 1;
          return;
        }
        tally.sent += 1;
      }
      send(event);
    });

    ctx.every('1Hz', () => {
      if (ctx.clock.now() - windowStart >= ctx.params.get('windowS') * 1000) closeWindow();
      ctx.tlm.reported(counts.reported);
      ctx.tlm.suppressed(counts.suppressed);
      ctx.tlm.disabled(counts.disabled);
      ctx.tlm.disabledEvents(disabled.size);
    });

    const unregister = registerPusService(ctx.bus, Service.events, (tc) => {
      if (tc.subtype !== 5 && tc.subtype !== 6) {
        return {
          ok: false,
          code: FailureCode.unknownService,
          reason: `event subtype ${tc.subtype} is not provided`,
        };
      }
      const parsed = knownIds(tc.appData, (id) => dictionary.eventById.has(id), 'event');
      if (!parsed.ok) return parsed;
      return {
        ok: true,
        label: `TC(5,${tc.subtype})`,
        run: () => {
          for (const id of parsed.ids) {
            if (tc.subtype === 5) disabled.delete(id);
            else disabled.add(id);
          }
          ctx.storage.put('disabled', Buffer.from(JSON.stringify([...disabled].sort((a, b) => a - b))));
          return { ok: true };
        },
      };
    });

    return {
      stop: () => {
        events.unsubscribe();
        unregister();
      },
    };
  },
});
