/**
 * NVIDIA Jetson Orin Nano developer kit, JetPack 6 (L4T 36). The GPU is the accelerator: its devfreq node
 * (`17000000.gpu`) sets the frequency ceiling, nvpmodel's power modes are its power caps, `gpu-thermal` its
 * temperature. The module's INA3221 reports the input rail (VDD_IN, the bus) and the CPU+GPU+CV and SoC rails.
 * Load switches on the 40-pin header (pin 29 = PQ.05, pin 31 = PQ.06); the link on the header UART
 * (`/dev/ttyTHS0`, pins 8/10).
 */
import { defineLinuxBoard } from '../src/hal/linux/board.js';

export const jetsonOrinNano = defineLinuxBoard({
  name: 'jetson-orin-nano',
  description: 'Jetson Orin Nano: GPU via devfreq and nvpmodel, INA3221 rails, header GPIO and UART',
  accelerator: { driver: 'jetson', powerRail: 'VDD_CPU_GPU_CV' },
  busMonitor: { driver: 'hwmon', chip: 'ina3221', label: 'VDD_IN' },
  powerRails: {
    cpuGpuCv: { driver: 'hwmon', chip: 'ina3221', label: 'VDD_CPU_GPU_CV' },
    soc: { driver: 'hwmon', chip: 'ina3221', label: 'VDD_SOC' },
  },
  temperatures: {
    cpu: { driver: 'thermal-zone', zone: 'cpu-thermal' },
    gpu: { driver: 'thermal-zone', zone: 'gpu-thermal' },
    soc: { driver: 'thermal-zone', zone: 'soc0-thermal' },
    board: { driver: 'thermal-zone', zone: 'tj-thermal' },
  },
  loadSwitches: [
    { driver: 'gpio', name: 'heater', chip: 'gpiochip0', line: 'PQ.05' },
    { driver: 'gpio', name: 'camera', chip: 'gpiochip0', line: 'PQ.06' },
  ],
  link: { path: '/dev/ttyTHS0', baud: 115200 },
  watchdog: { driver: 'dev-watchdog', path: '/dev/watchdog0' },
});

export default jetsonOrinNano;
