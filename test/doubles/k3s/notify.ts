// sd_notify READY=1 for Type=notify units. Node has no AF_UNIX datagram sockets, so the double
// runs systemd-notify as its direct child: systemd-notify sends the message with its parent's
// PID as the sender (it fakes SCM_CREDENTIALS, which root may do), and the parent is the unit's
// main process, so the default NotifyAccess=main accepts it. No drop-in needed in the unit.
import { spawnSync } from 'node:child_process';
import { warn } from './log.ts';

export function notifyReady(): void {
  if (!process.env.NOTIFY_SOCKET) return;
  const r = spawnSync('systemd-notify', ['--ready'], { stdio: 'ignore' });
  if (r.status !== 0) warn(`systemd-notify --ready failed (exit ${r.status})`);
}
