// The ops library: `import { ops } from '../lib/ops/index.ts'` then `ops.file(...)`,
// or named imports. `package` and `fetch` are reserved/global names, so their functions are
// `packages` and `fetchFile`, also reachable as ops.package and ops.fetch.
import { absent } from './absent.ts';
import { authorizedKey } from './authorizedKey.ts';
import { blockInFile } from './blockInFile.ts';
import { command } from './command.ts';
import { directory } from './directory.ts';
import { download } from './download.ts';
import { fetchFile } from './fetch.ts';
import { file } from './file.ts';
import { hostname } from './hostname.ts';
import { kernelModule } from './kernelModule.ts';
import { lineInFile } from './lineInFile.ts';
import { link } from './link.ts';
import { packages } from './package.ts';
import { each, seq } from './seq.ts';
import { service } from './service.ts';
import { sysctl } from './sysctl.ts';
import { systemdUnit } from './systemdUnit.ts';
import { template } from './template.ts';
import { timezone } from './timezone.ts';
import { user } from './user.ts';
import { waitFor } from './waitFor.ts';

export const ops = {
  file,
  content: file,
  template,
  directory,
  absent,
  link,
  lineInFile,
  blockInFile,
  package: packages,
  packages,
  systemdUnit,
  service,
  sysctl,
  kernelModule,
  user,
  authorizedKey,
  hostname,
  timezone,
  download,
  command,
  waitFor,
  fetch: fetchFile,
  seq,
  each,
} as const;

export * from './types.ts';
export { absent, decideAbsent } from './absent.ts';
export { authorizedKey, decideAuthorizedKey, type AuthorizedKeyOptions } from './authorizedKey.ts';
export { blockInFile, blockMarkers, decideBlockInFile, type BlockInFileOptions } from './blockInFile.ts';
export { command, guardReason, type CommandOptions } from './command.ts';
export { applyDecision, type Decision, type PutPlan } from './decision.ts';
export { isText } from './text.ts';
export { directory, decideDirectory, type DirectoryOptions } from './directory.ts';
export { download, decideDownload, type DownloadOptions } from './download.ts';
export { defineOp, OpFailure } from './exec.ts';
export { fetchFile, type FetchOptions } from './fetch.ts';
export { file, decideFile, type FileOptions } from './file.ts';
export { hostname, decideHostname } from './hostname.ts';
export { kernelModule, decideKernelModule, type KernelModuleOptions } from './kernelModule.ts';
export { lineInFile, decideLineInFile, type LineInFileOptions } from './lineInFile.ts';
export { editBlock, editLine } from './lines.ts';
export { link, decideLink, type LinkOptions } from './link.ts';
export { packages, packages as package, decidePackages, type PackageOptions, type PackageState } from './package.ts';
export { combine, each, partResults, seq } from './seq.ts';
export { service, decideService, type ServiceOptions } from './service.ts';
export { sysctl, decideSysctl, type SysctlOptions } from './sysctl.ts';
export { systemdUnit, decideSystemdUnit, unitPath, type SystemdUnitOptions } from './systemdUnit.ts';
export { template } from './template.ts';
export { timezone, decideTimezone } from './timezone.ts';
export { user, decideUser, type UserOptions } from './user.ts';
export { waitFor, waitForCommand, waitForHttp, waitForPort, type WaitCommandOptions, type WaitHttpOptions, type WaitPortOptions } from './waitFor.ts';
