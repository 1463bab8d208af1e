// Top-level value keys of the Cilium chart 1.19.6 (the properties of its values.schema.json, stored as
// test/fixtures/schemas/cilium-1.19.6.values.schema.json; a unit test keeps this list equal to it).
// The schema allows unknown keys, so a typo like kubeProxyReplacment would pass it: the role
// refuses top-level keys not in this list instead.
export const CILIUM_CHART_KEYS_VERSION = '1.19.6';

export const CILIUM_CHART_KEYS: ReadonlySet<string> = new Set([
  'MTU', 'affinity', 'agent', 'agentNotReadyTaintKey', 'aksbyocni', 'alibabacloud',
  'annotateK8sNode', 'annotations', 'apiRateLimit', 'authentication', 'autoDirectNodeRoutes',
  'azure', 'bandwidthManager', 'bgpControlPlane', 'bpf', 'bpfClockProbe', 'certgen', 'cgroup',
  'ciliumEndpointSlice', 'cleanBpfState', 'cleanState', 'cluster', 'clustermesh', 'cni',
  'commonLabels', 'configDriftDetection', 'connectivityProbeFrequencyRatio', 'conntrackGCInterval',
  'conntrackGCMaxInterval', 'crdWaitTimeout', 'daemon', 'dashboards', 'debug',
  'defaultLBServiceIPAM', 'directRoutingSkipUnreachable', 'disableEndpointCRD', 'dnsPolicy',
  'dnsProxy', 'egressGateway', 'enableCriticalPriorityClass', 'enableIPv4BIGTCP',
  'enableIPv4Masquerade', 'enableIPv6BIGTCP', 'enableIPv6Masquerade',
  'enableInternalTrafficPolicy', 'enableLBIPAM', 'enableMasqueradeRouteSource',
  'enableNoServiceEndpointsRoutable', 'enableNonDefaultDenyPolicies', 'enableXTSocketFallback',
  'encryption', 'endpointHealthChecking', 'endpointLockdownOnMapOverflow',
  'endpointPolicyUpdateTimeoutDuration', 'endpointRoutes', 'eni', 'envoy', 'envoyConfig', 'etcd',
  'extraArgs', 'extraConfig', 'extraContainers', 'extraEnv', 'extraHostPathMounts',
  'extraInitContainers', 'extraVolumeMounts', 'extraVolumes', 'forceDeviceDetection', 'gatewayAPI',
  'gke', 'global', 'healthCheckICMPFailureThreshold', 'healthChecking', 'healthPort',
  'hostFirewall', 'hubble', 'identityAllocationMode', 'identityChangeGracePeriod',
  'identityManagementMode', 'image', 'imagePullSecrets', 'ingressController', 'initResources',
  'installNoConntrackIptablesRules', 'ipMasqAgent', 'ipam', 'iptablesRandomFully', 'ipv4',
  'ipv4NativeRoutingCIDR', 'ipv6', 'ipv6NativeRoutingCIDR', 'k8s', 'k8sClientExponentialBackoff',
  'k8sClientRateLimit', 'k8sNetworkPolicy', 'k8sServiceHost', 'k8sServiceHostRef',
  'k8sServiceLookupConfigMapName', 'k8sServiceLookupNamespace', 'k8sServicePort',
  'keepDeprecatedLabels', 'keepDeprecatedProbes', 'kubeConfigPath', 'kubeProxyReplacement',
  'kubeProxyReplacementHealthzBindAddr', 'l2NeighDiscovery', 'l2announcements',
  'l2podAnnouncements', 'l7Proxy', 'livenessProbe', 'loadBalancer', 'localRedirectPolicies',
  'localRedirectPolicy', 'logSystemLoad', 'maglev', 'monitor', 'name', 'namespaceOverride', 'nat',
  'nat46x64Gateway', 'nodeIPAM', 'nodePort', 'nodeSelector', 'nodeSelectorLabels', 'nodeinit',
  'operator', 'pmtuDiscovery', 'podAnnotations', 'podLabels', 'podSecurityContext',
  'policyCIDRMatchMode', 'policyDenyResponse', 'policyEnforcementMode', 'pprof', 'preflight',
  'priorityClassName', 'prometheus', 'rbac', 'readinessProbe', 'resourceQuotas', 'resources',
  'rollOutCiliumPods', 'routingMode', 'scheduling', 'sctp', 'secretsNamespaceAnnotations',
  'secretsNamespaceLabels', 'securityContext', 'serviceAccounts', 'serviceNoBackendResponse',
  'sleepAfterInit', 'socketLB', 'standaloneDnsProxy', 'startupProbe', 'synchronizeK8sNodes',
  'sysctlfix', 'terminationGracePeriodSeconds', 'tls', 'tmpVolume', 'tolerations', 'tunnelPort',
  'tunnelProtocol', 'tunnelSourcePortRange', 'underlayProtocol', 'updateStrategy',
  'upgradeCompatibility', 'vtep', 'waitForKubeProxy', 'wellKnownIdentities',
]);
