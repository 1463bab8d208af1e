// Plays for the host foundation: role base on every host, then k3s-prereqs on the K3s nodes.
// Runnable through lib/cli (`main({ name: 'base', plays: basePlays })`); site.ts composes them.
import type { Play } from 'drover';
import { baseRole } from 'drover/roles/base';
import { k3sPrereqsRole } from 'drover/roles/k3s-prereqs';

/** Role base on every host. */
export const basePlay: Play = { name: 'base', hosts: 'all', roles: [baseRole] };

/** Role k3s-prereqs on the K3s nodes (masters, workers, storage). */
export const k3sPrereqsPlay: Play = { name: 'k3s prerequisites', hosts: 'k3s_cluster', roles: [k3sPrereqsRole] };

export const basePlays: Play[] = [basePlay];
export const k3sPrereqsPlays: Play[] = [k3sPrereqsPlay];
/** The foundation in order: base first (its nftables table is what k3s-prereqs extends). */
export const foundationPlays: Play[] = [basePlay, k3sPrereqsPlay];
