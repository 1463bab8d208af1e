// The cilium role's variables: flat, prefixed `cilium_`, parsed from the host's merged vars with
// these defaults. They become the chart's values (model.ts); anything not covered here goes
// in cilium_values_extra, whose top-level keys are checked against the pinned chart's schema.
import { z } from 'zod';
import { cidr, flag, groupName, integer, port } from '../../lib/vars/index.ts';

/** The chart version the defaults, the stored values schema and the key list belong to. */
export const CILIUM_DEFAULT_VERSION = '1.19.6';

const semver = z.string().regex(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/, 'expected a chart version such as 1.19.6 (no leading v)');

/** ClusterMesh cluster names: lower-case RFC 1123 label, at most 32 characters (Cilium's limit). */
const clusterName = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'expected a lower-case name of 1-32 letters, digits and -, starting and ending with a letter or digit');

/** A deep-mergeable object of chart values. */
const valuesObject = z.record(z.string(), z.unknown());

export const ciliumVars = z
  .object({
    /** Chart version (pinned: upgrades are a deliberate change of this value). */
    cilium_version: semver.default(CILIUM_DEFAULT_VERSION),
    cilium_chart_repo: z.string().url().default('https://helm.cilium.io/'),
    /**
     * Air gap: a chart archive on the controller (cilium-<version>.tgz). Unset: the chart comes
     * from cilium_chart_repo.
     */
    cilium_chart_file: z.string().min(1).optional(),
    /**
     * How an air-gapped chart reaches helm-controller: `content` (base64 in spec.chartContent)
     * or `static` (copied to every server's static/charts, fetched from %{KUBERNETES_API}%).
     */
    cilium_chart_delivery: z.enum(['content', 'static']).default('content'),
    /** The inventory group of K3s servers (unset: k3s_server_group, else masters); the manifest goes to its first host. */
    cilium_servers_group: groupName().optional(),
    cilium_manifests_dir: z.string().regex(/^\/\S+$/, 'expected an absolute path').default('/var/lib/rancher/k3s/server/manifests'),
    cilium_static_dir: z.string().regex(/^\/\S+$/, 'expected an absolute path').default('/var/lib/rancher/k3s/server/static'),

    /** Replace kube-proxy (the K3s servers must run with disable-kube-proxy). */
    cilium_kube_proxy_replacement: flag().default(true),
    /**
     * The API endpoint Cilium uses before Services work. Unset: k3s_api_vip, else `api_vip`.
     * 127.0.0.1 with port 6444 is K3s's local apiserver / agent load balancer on every node.
     */
    cilium_k8s_service_host: z.string().trim().min(1).optional(),
    cilium_k8s_service_port: port().default(6443),

    cilium_ipv6: flag().default(false),
    /** `kubernetes`: PodCIDRs from K3s's cluster-cidr; `cluster-pool`: Cilium's operator allocates. */
    cilium_ipam_mode: z.enum(['kubernetes', 'cluster-pool']).default('kubernetes'),
    cilium_cluster_pool_ipv4_cidrs: z.array(cidr()).min(1).default(['10.42.0.0/16']),
    cilium_cluster_pool_ipv4_mask_size: integer(8, 30).default(24),
    cilium_operator_replicas: integer(1, 10).default(2),

    cilium_hubble: flag().default(true),
    cilium_hubble_relay: flag().default(true),
    cilium_hubble_ui: flag().default(false),

    /** ClusterMesh (seed 000): both or neither; the id is unique among the meshed clusters. */
    cilium_cluster_name: clusterName.optional(),
    cilium_cluster_id: integer(1, 255).optional(),
    cilium_clustermesh_apiserver: flag().default(true),
    cilium_clustermesh_service_type: z.enum(['NodePort', 'LoadBalancer', 'ClusterIP']).default('NodePort'),

    /** Any other chart values, deep-merged over the role's (top-level keys checked against the chart). */
    cilium_values_extra: valuesObject.default({}),

    /** How long the last task waits for the nodes to turn Ready. */
    cilium_wait_timeout_s: integer(0, 3600).default(300),
  })
  .superRefine((v, ctx) => {
    if ((v.cilium_cluster_name === undefined) !== (v.cilium_cluster_id === undefined)) {
      const missing = v.cilium_cluster_name === undefined ? 'cilium_cluster_name' : 'cilium_cluster_id';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'ClusterMesh needs both cilium_cluster_name and cilium_cluster_id (1-255)' });
    }
    if (v.cilium_chart_file !== undefined && !/\.tgz$/.test(v.cilium_chart_file)) {
      ctx.addIssue({ code: 'custom', path: ['cilium_chart_file'], message: 'expected a chart archive (.tgz)' });
    }
  });

export type CiliumVars = z.infer<typeof ciliumVars>;
