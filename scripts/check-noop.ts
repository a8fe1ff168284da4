/** An example ground test script (README, "Ground testers"): `skynode ground --link ... script scripts/check-noop.ts`. */
import type { GroundStation } from '../src/ground/station.js';

export default async (station: GroundStation) => {
  await station.sendAndVerify('health.RESET_COUNTERS');
  await station.sendAndVerify('health.NOOP');
  await station.awaitTelemetry('health.noopCount', (v) => v === 1, 10_000);
  await station.setParameters({ 'health.lagLimitMs': 150 });
  console.log(await station.reportParameters(['health.lagLimitMs']));
  const { requestIds } = await station.schedule([{ at: Date.now() + 5_000, name: 'health.NOOP' }]);
  await station.awaitCompletion(requestIds[0] as number, 'scheduled NOOP');
};
