/**
 * A Linux host with an NVIDIA data-centre GPU (H100, H200, L40S, A100): the ground-test stand-in for an orbital
 * node's accelerator. nvidia-smi reads the GPU and sets its power limit (root) and clock ceiling; the CPU package
 * temperature comes from the `x86_pkg_temp` thermal zone (Intel) or `coretemp`/`k10temp` through hwmon. Such hosts
 * have no battery, no GPIO and no rail monitors: those roles stay empty and the power system runs on the plant's
 * battery model. systemd's service watchdog stands in for a hardware one; the link is a USB serial adapter.
 */
import { defineLinuxBoard } from '../src/hal/linux/board.js';

export const nvidiaDatacenter = defineLinuxBoard({
  name: 'nvidia-datacenter',
  description: 'Linux host with an NVIDIA data-centre GPU (nvidia-smi), systemd watchdog, USB serial link',
  accelerator: { driver: 'nvidia-smi', index: 0 },
  temperatures: {
    cpu: { driver: 'thermal-zone', zone: 'x86_pkg_temp' },
  },
  link: { path: '/dev/ttyUSB0', baud: 115200 },
  watchdog: { driver: 'systemd' },
});

export default nvidiaDatacenter;
