/**
 * Raspberry Pi 5 (BCM2712), Raspberry Pi OS bookworm or later. The application processor is the compute payload
 * (its cpufreq ceiling is the thermal actuator; there is no power cap). The Pi has no rail monitor of its own: the
 * bus monitor is an INA219 on I2C-1 (`dtoverlay=i2c-sensor,ina219` in config.txt puts it under hwmon), and a
 * battery HAT that registers a power_supply named `battery` stands in for the battery. Load switches are
 * MOSFETs on header pins GPIO17 and GPIO27 (the RP1's lines carry those names). The link is the header UART
 * (GPIO14/15, `/dev/ttyAMA0` once `dtparam=uart0=on`); the watchdog is the BCM2712's.
 */
import { defineLinuxBoard } from '../src/hal/linux/board.js';

export const raspberryPi5 = defineLinuxBoard({
  name: 'raspberry-pi-5',
  description: 'Raspberry Pi 5: CPU as payload, INA219 bus monitor, GPIO load switches, header UART',
  accelerator: {
    driver: 'cpufreq',
    policy: 'policy0',
    temperature: { driver: 'thermal-zone', zone: 'cpu-thermal' },
    power: { driver: 'hwmon', chip: 'ina219' },
  },
  battery: { driver: 'power-supply', name: 'battery' },
  busMonitor: { driver: 'hwmon', chip: 'ina219' },
  temperatures: {
    soc: { driver: 'thermal-zone', zone: 'cpu-thermal' },
    // The RP1 south bridge reports its own temperature through hwmon.
    rp1: { driver: 'hwmon', chip: 'rp1_adc', channel: 1 },
  },
  loadSwitches: [
    // Shedding order: the payload heater goes first, the accelerator's fan last.
    { driver: 'gpio', name: 'heater', chip: 'gpiochip0', line: 'GPIO17' },
    { driver: 'gpio', name: 'fan', chip: 'gpiochip0', line: 'GPIO27', initial: true },
  ],
  link: { path: '/dev/ttyAMA0', baud: 115200 },
  watchdog: { driver: 'dev-watchdog', path: '/dev/watchdog0' },
});

export default raspberryPi5;
