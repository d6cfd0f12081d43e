// `microarp config schema`: the JSON Schema of the config file, for editors and other tools.
import { Command } from 'commander';
import { CONFIG_SCHEMA } from '../config/schema';

export function configCommand(): Command {
  const schema = new Command('schema')
    .description('print the JSON Schema (draft-07) of the config file: every key with its type, range, default and meaning')
    .addHelpText('after', `
It is the schema microarp itself validates with. Checks that need more than one value or
the machine are made only by check-config and run, such as: unique port names and devices,
duplicate bindings, vlan/vlans against the port's mode, host bits in a prefix, bindings that
must fit table.capacity, environment variables, files that must exist.

Examples:
  microarp config schema > microarp.schema.json
  then, as the first line of a YAML config, for editors that use yaml-language-server
  (VS Code's YAML extension, Neovim, Helix, ...):
  # yaml-language-server: $schema=./microarp.schema.json`)
    .action(() => {
      process.stdout.write(`${JSON.stringify(CONFIG_SCHEMA, null, 2)}\n`);
    });
  return new Command('config')
    .description('about the config file: its JSON Schema')
    .addCommand(schema)
    .addHelpText('after', '\nExample:\n  microarp config schema > microarp.schema.json');
}
