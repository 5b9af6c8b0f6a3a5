import { Command, Option } from 'commander';
import { renderVerify } from '../../stages/report/verify-text.js';
import { verify } from '../../stages/verify/index.js';
import { EXIT } from '../exit.js';
import { addConnectionOptions, addTaskOptions, taskFromOptions } from '../options.js';
import { out } from '../output.js';
import { intArg } from '../args.js';
import { dropOptions } from '../scope.js';

export function verifyCommand(): Command {
  const cmd = new Command('verify').description(
    'compare source and target: row counts (or content hashes per key range, with example rows) of every selected table, sequence values and object counts per kind. Exit 0 only when everything matches, 5 otherwise',
  );
  addConnectionOptions(cmd, { target: 'required' });
  addTaskOptions(cmd);
  // verify writes nothing and has no state: these change what migrate creates, not what is compared
  dropOptions(cmd, ['--name', '--state-dir', '--if-exists', '--owner-to', '--no-owner', '--no-acl']);
  cmd
    .addOption(
      new Option('--mode <mode>', 'count: row counts; hash: content hash per primary-key range').choices([
        'count',
        'hash',
      ]),
    )
    .option('--examples <n>', 'example rows shown per differing range and side in hash mode (default 5)', intArg(0))
    .option('--chunk-rows <n>', 'rows per compared key range in hash mode (default 100000)', intArg(1))
    .option('-j, --jobs <n>', 'tables compared at once, 1..64 (default 4)', intArg(1, 64))
    .option('--json', 'print the result as one JSON document');
  cmd.action(async (o: Record<string, any>) => {
    const task = taskFromOptions(o);
    const mode: 'count' | 'hash' = o.mode ?? (task.verify === 'hash' ? 'hash' : 'count');
    const report = await verify(task, {
      mode,
      examples: o.examples,
      chunkRows: o.chunkRows || undefined,
      jobs: o.jobs || undefined,
    });
    out(o.json ? JSON.stringify(report, null, 2) : renderVerify(report));
    process.exitCode = report.ok ? EXIT.ok : EXIT.verify;
  });
  return cmd;
}
