/**
 * Any Linux machine: the first thermal zone as the SoC temperature, the CPU (cpufreq policy0) as the compute
 * payload, systemd's service watchdog, a USB serial adapter as the link. A starting point: `skynode board probe`
 * lists what a machine really has and suggests a board file of its own.
 */
import { defineLinuxBoard } from '../src/hal/linux/board.js';

export const genericLinux = defineLinuxBoard({
  name: 'generic-linux',
  description: 'Any Linux machine: thermal_zone0, cpufreq policy0, systemd watchdog, USB serial link',
  accelerator: {
    driver: 'cpufreq',
    policy: 'policy0',
    temperature: { driver: 'thermal-zone', zone: 'thermal_zone0' },
  },
  temperatures: { soc: { driver: 'thermal-zone', zone: 'thermal_zone0' } },
  link: { path: '/dev/ttyUSB0', baud: 115200 },
  watchdog: { driver: 'systemd' },
});

export default genericLinux;
