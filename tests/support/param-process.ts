/**
 * A flight-stack process for the persistence tests. `set NAME VALUE` sets one parameter, prints `acked` and
 * stays up (to be killed); `count NAME` sets NAME to 1, 2, 3, ... printing each value once it is stored, until
 * killed; `get NAME` prints the value it starts with and exits.
 */
import { VirtualClock } from '../../src/core/clock.js';
import { FlightStack } from '../../src/core/executive.js';
import { silentLogger } from '../../src/core/log.js';
import { openStateStore } from '../../src/core/persistence.js';
import { thermalLike } from './components.js';

const [stateDir, mode, name, value] = process.argv.slice(2);
if (!stateDir || !mode || !name) throw new Error('usage: param-process DIR set|count|get NAME [VALUE]');
const clock = new VirtualClock();
const stack = FlightStack.start({
  components: [thermalLike],
  clock,
  store: openStateStore(stateDir),
  logger: silentLogger(clock),
});

if (mode === 'get') {
  process.stdout.write(`${JSON.stringify({ value: stack.params.get(name), boot: stack.bootCount })}\n`);
  process.exit(0);
} else if (mode === 'set') {
  const result = stack.params.set(name, Number(value));
  process.stdout.write(`${result.ok ? 'acked' : `refused ${JSON.stringify(result)}`}\n`);
  setInterval(() => {}, 1000);
} else {
  let n = 0;
  const step = () => {
    n = (n % 20) + 1;
    const result = stack.params.set(name, n);
    if (!result.ok) throw new Error(result.reason);
    process.stdout.write(`acked ${n}\n`);
    setImmediate(step);
  };
  step();
}
