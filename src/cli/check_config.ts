// `microarp check-config`: validate a config file without starting anything.
import { Command } from 'commander';
import { loadConfig } from '../config/load';

export function checkConfigCommand(): Command {
  return new Command('check-config')
    .description('validate a config file and report every problem with its path; starts nothing')
    .argument('<file>', 'config file (YAML or JSON)')
    .addHelpText('after', '\nExample:\n  microarp check-config examples/pcap-responder.yaml')
    .action((file: string) => {
      const config = loadConfig(file);
      process.stdout.write(
        `${file}: ok (${config.ports.length} port(s), ${config.bindings.length + config.bindings6.length} binding(s))\n`,
      );
    });
}
