// What a container (systemd-nspawn, docker, lxc) cannot do: kernel-global settings.

/**
 * sysctl keys that belong to a namespace the container owns (network, IPC, UTS, user),
 * so a container can set them; everything else (vm.*, most kernel.*, fs.*) is host-global.
 */
export function isNamespacedSysctl(name: string): boolean {
  const n = name.replace(/\//g, '.');
  return (
    n.startsWith('net.') ||
    n.startsWith('user.') ||
    n.startsWith('fs.mqueue.') ||
    /^kernel\.(shm(max|all|mni)|shm_rmid_forced|msg(max|mnb|mni)|sem|hostname|domainname)$/.test(n)
  );
}

/** Errors of writing a kernel setting that the container forbids. */
export const CONTAINER_DENIED = /read-only file system|permission denied|operation not permitted|must be root/i;
