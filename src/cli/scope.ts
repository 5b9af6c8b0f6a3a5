/**
 * Commands share option sets (connections, task selection); an option that does nothing for a
 * command is taken out of it, so that its --help lists only what applies and passing the
 * option is an "unknown option" usage error rather than silently ignored.
 */
import type { Command, Option } from 'commander';

/** Remove options by their long flag (e.g. '--if-exists', '--no-acl'). */
export function dropOptions(cmd: Command, longFlags: readonly string[]): Command {
  const opts = cmd.options as Option[];
  for (let i = opts.length - 1; i >= 0; i--) {
    if (opts[i].long && longFlags.includes(opts[i].long!)) opts.splice(i, 1);
  }
  return cmd;
}

/** Keep an option working (scripts pass it) but out of --help. */
export function hideOptions(cmd: Command, longFlags: readonly string[]): Command {
  for (const o of cmd.options as Option[]) if (o.long && longFlags.includes(o.long)) o.hideHelp();
  return cmd;
}
